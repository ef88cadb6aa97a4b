/* performlua-schemagen: reads the partner API WSDL and writes runtime/schema/wsdl_model.c,
 * the schema model as C tables (see runtime/schema/schema.h for what they mean).
 *
 *   performlua-schemagen WSDL OUT.c
 *   (or: cmake --build build --target regenerate-schema)
 *
 * It is a build tool, so it reads the WSDL with libxml2's DOM. It models exactly the XSD
 * constructs the WSDL uses (complexType with sequence/choice/any, complexContent/extension,
 * simpleType restriction with or without enumeration) and refuses anything else with a
 * message that names the construct: a WSDL update must never be half-understood silently.
 *
 * The output is deterministic (every table sorted by name with strcmp, which is what the
 * lookups in schema.c binary-search on) so that tests/cli/schema_regen.sh can compare the
 * committed file with a fresh run byte for byte. */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XSD_NS "http://www.w3.org/2001/XMLSchema"
#define WSDL_NS "http://schemas.xmlsoap.org/wsdl/"

/* ---------------------------------------------------------------- small helpers */

static void fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "performlua-schemagen: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        fail("out of memory");
    return p;
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        fail("out of memory");
    return p;
}

static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = xcalloc((size_t)n + 1, 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

#define GROW(arr, count, cap)                                                  \
    do {                                                                       \
        if ((count) == (cap)) {                                                \
            (cap) = (cap) ? (cap) * 2 : 16;                                    \
            void *grown_ = realloc((arr), (size_t)(cap) * sizeof *(arr));      \
            if (!grown_)                                                       \
                fail("out of memory");                                         \
            (arr) = grown_;                                                    \
        }                                                                      \
    } while (0)

static bool is_xsd(const xmlNode *n, const char *local)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           strcmp((const char *)n->ns->href, XSD_NS) == 0 &&
           (!local || strcmp((const char *)n->name, local) == 0);
}

/* Attribute value as a malloc'd C string, or NULL. */
static char *attr(const xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    if (!v)
        return NULL;
    char *s = xstrdup((const char *)v);
    xmlFree(v);
    return s;
}

static int occurs_attr(const xmlNode *n, const char *name, int dflt)
{
    char *v = attr(n, name);
    if (!v)
        return dflt;
    int r;
    if (strcmp(v, "unbounded") == 0) {
        r = -1;
    } else {
        char *end;
        long l = strtol(v, &end, 10);
        if (*v == '\0' || *end != '\0' || l < 0 || l > 1000000)
            fail("line %d: %s=\"%s\" is not a valid occurrence count", n->line, name, v);
        r = (int)l;
    }
    free(v);
    return r;
}

static bool bool_attr(const xmlNode *n, const char *name)
{
    char *v = attr(n, name);
    bool r = v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
    free(v);
    return r;
}

/* The next XSD child element after `n` (or the first child of `parent` when n is NULL),
 * skipping annotations, comments and text. Non-XSD elements are refused. */
static xmlNode *next_particle(xmlNode *parent, xmlNode *n)
{
    for (n = n ? n->next : parent->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (!is_xsd(n, NULL))
            fail("line %d: unexpected element <%s> inside the schema", n->line, n->name);
        if (strcmp((const char *)n->name, "annotation") == 0)
            continue;
        return n;
    }
    return NULL;
}

/* ---------------------------------------------------------------- the model being built */

typedef enum {
    K_STRING, K_INT, K_LONG, K_SHORT, K_BYTE, K_DOUBLE, K_BOOLEAN, K_DATETIME, K_DATE,
    K_TIME, K_BASE64, K_ENUM, K_COMPLEX, K_ANY
} kind;

static const char *const kind_names[] = {
    "PL_KIND_STRING", "PL_KIND_INT", "PL_KIND_LONG", "PL_KIND_SHORT", "PL_KIND_BYTE",
    "PL_KIND_DOUBLE", "PL_KIND_BOOLEAN", "PL_KIND_DATETIME", "PL_KIND_DATE", "PL_KIND_TIME",
    "PL_KIND_BASE64", "PL_KIND_ENUM", "PL_KIND_COMPLEX", "PL_KIND_ANY",
};

typedef struct {
    char *name;
    char *type_name;   /* local name; for wrappers, the item's type */
    kind kind;
    int min_occurs, max_occurs;
    bool nillable;
    char *item_name;   /* wrappers only */
    int item_min, item_max;
    bool item_nillable;
    char *wrapper_type_name;
    int choice;
} element;

typedef struct {
    char *name;
    char *base_name;
    bool is_abstract, is_anonymous;
    element *elements;
    int n_elements, cap_elements;
} ctype;

typedef struct {
    char *name;
    char **values;
    int n_values, cap_values;
} etype;

typedef struct {
    char *name;
    char *type_name;
} global;

static xmlDoc *doc;
static xmlNode *schema_node;

/* Top-level named declarations, for resolving references. */
static xmlNode **named_complex;
static int n_named_complex, cap_named_complex;
static xmlNode **named_simple;
static int n_named_simple, cap_named_simple;

static ctype *types;
static int n_types, cap_types;
static etype *enums;
static int n_enums, cap_enums;
static global *globals;
static int n_globals, cap_globals;

static xmlNode *find_named(xmlNode **list, int n, const char *name)
{
    for (int i = 0; i < n; i++) {
        xmlChar *v = xmlGetProp(list[i], (const xmlChar *)"name");
        bool match = v && strcmp((const char *)v, name) == 0;
        xmlFree(v);
        if (match)
            return list[i];
    }
    return NULL;
}

static ctype *find_type(const char *name)
{
    for (int i = 0; i < n_types; i++)
        if (strcmp(types[i].name, name) == 0)
            return &types[i];
    return NULL;
}

static etype *find_enum(const char *name)
{
    for (int i = 0; i < n_enums; i++)
        if (strcmp(enums[i].name, name) == 0)
            return &enums[i];
    return NULL;
}

static ctype *new_type(const char *name, bool anonymous, int line)
{
    if (find_type(name))
        fail("line %d: two complex types are named '%s'", line, name);
    GROW(types, n_types, cap_types);
    ctype *t = &types[n_types++];
    memset(t, 0, sizeof *t);
    t->name = xstrdup(name);
    t->is_anonymous = anonymous;
    return t;
}

/* ---------------------------------------------------------------- type references */

typedef struct {
    char *ns;    /* namespace URI the QName's prefix is bound to (malloc'd, may be NULL) */
    char *local; /* malloc'd */
} qname;

static qname resolve_qname(xmlNode *ctx, const char *value)
{
    qname q = {NULL, NULL};
    const char *colon = strchr(value, ':');
    char *prefix = colon ? xasprintf("%.*s", (int)(colon - value), value) : NULL;
    xmlNs *ns = xmlSearchNs(doc, ctx, (const xmlChar *)prefix);
    if (!ns && prefix)
        fail("line %d: the prefix of '%s' is not declared", ctx->line, value);
    if (ns)
        q.ns = xstrdup((const char *)ns->href);
    q.local = xstrdup(colon ? colon + 1 : value);
    free(prefix);
    return q;
}

static void free_qname(qname *q)
{
    free(q->ns);
    free(q->local);
}

/* The kind of an XSD built-in type; refuses the ones the model has no kind for. */
static kind builtin_kind(const char *local, int line)
{
    static const struct { const char *name; kind kind; } table[] = {
        {"string", K_STRING}, {"normalizedString", K_STRING}, {"token", K_STRING},
        {"anyURI", K_STRING}, {"QName", K_STRING},
        {"int", K_INT}, {"integer", K_INT}, {"long", K_LONG}, {"short", K_SHORT},
        {"byte", K_BYTE}, {"double", K_DOUBLE}, {"float", K_DOUBLE}, {"decimal", K_DOUBLE},
        {"boolean", K_BOOLEAN}, {"dateTime", K_DATETIME}, {"date", K_DATE}, {"time", K_TIME},
        {"base64Binary", K_BASE64}, {"anyType", K_ANY},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].name, local) == 0)
            return table[i].kind;
    fail("line %d: the XSD built-in type '%s' has no kind in the schema model (add it to "
         "builtin_kind and to pl_kind)", line, local);
    return K_ANY;
}

static void build_enum(xmlNode *simple, const char *name);

/* Kind of a simpleType node: an enumeration becomes K_ENUM (and is recorded under `name`),
 * any other restriction takes the kind of its base. */
static kind simple_kind(xmlNode *simple, const char *name)
{
    xmlNode *restriction = next_particle(simple, NULL);
    if (!is_xsd(restriction, "restriction") || next_particle(simple, restriction))
        fail("line %d: simpleType '%s' is not a single <restriction> (list and union are not "
             "modelled)", simple->line, name);
    for (xmlNode *f = next_particle(restriction, NULL); f; f = next_particle(restriction, f))
        if (is_xsd(f, "enumeration")) {
            if (!find_enum(name))
                build_enum(simple, name);
            return K_ENUM;
        }
    char *base = attr(restriction, "base");
    if (!base)
        fail("line %d: restriction without base in simpleType '%s'", restriction->line, name);
    qname q = resolve_qname(restriction, base);
    kind k;
    if (q.ns && strcmp(q.ns, XSD_NS) == 0) {
        k = builtin_kind(q.local, restriction->line);
    } else {
        xmlNode *s = find_named(named_simple, n_named_simple, q.local);
        if (!s)
            fail("line %d: unknown simple base type '%s'", restriction->line, base);
        k = simple_kind(s, q.local);
        if (k == K_ENUM)
            fail("line %d: simpleType '%s' restricts the enumeration '%s' without listing "
                 "values (not modelled)", restriction->line, name, base);
    }
    free_qname(&q);
    free(base);
    return k;
}

static void build_enum(xmlNode *simple, const char *name)
{
    GROW(enums, n_enums, cap_enums);
    etype *e = &enums[n_enums++];
    memset(e, 0, sizeof *e);
    e->name = xstrdup(name);
    xmlNode *restriction = next_particle(simple, NULL);
    for (xmlNode *f = next_particle(restriction, NULL); f; f = next_particle(restriction, f)) {
        if (!is_xsd(f, "enumeration"))
            fail("line %d: enumeration '%s' mixes <%s> with its values", f->line, name,
                 f->name);
        char *v = attr(f, "value");
        if (!v)
            fail("line %d: enumeration without value in '%s'", f->line, name);
        GROW(e->values, e->n_values, e->cap_values);
        e->values[e->n_values++] = v;
    }
}

/* Resolves a type="..." reference: sets type_name and kind. */
static void resolve_type_ref(xmlNode *ctx, const char *value, char **type_name, kind *k)
{
    qname q = resolve_qname(ctx, value);
    if (q.ns && strcmp(q.ns, XSD_NS) == 0) {
        *k = builtin_kind(q.local, ctx->line);
    } else if (find_named(named_complex, n_named_complex, q.local)) {
        *k = K_COMPLEX;
    } else {
        xmlNode *s = find_named(named_simple, n_named_simple, q.local);
        if (!s)
            fail("line %d: unknown type '%s'", ctx->line, value);
        *k = simple_kind(s, q.local);
    }
    *type_name = xstrdup(q.local);
    free_qname(&q);
}

/* ---------------------------------------------------------------- complex types */

static void parse_complex_content(ctype *t, xmlNode *complex);

/* When `complex` is a wrapper type (no base, a sequence of exactly one element that may
 * repeat), returns that element; otherwise NULL. */
static xmlNode *wrapper_item(xmlNode *complex)
{
    xmlNode *seq = next_particle(complex, NULL);
    if (!is_xsd(seq, "sequence") || next_particle(complex, seq))
        return NULL;
    if (occurs_attr(seq, "minOccurs", 1) != 1 || occurs_attr(seq, "maxOccurs", 1) != 1)
        return NULL;
    xmlNode *item = next_particle(seq, NULL);
    if (!is_xsd(item, "element") || next_particle(seq, item))
        return NULL;
    int max = occurs_attr(item, "maxOccurs", 1);
    return (max == -1 || max > 1) ? item : NULL;
}

static void parse_element(ctype *owner, xmlNode *node, int choice, int choice_min);

/* Fills type_name/kind of an element declared by `node`, whose inline type (if any) is
 * named `anon_name` when it must become a type of its own. */
static void element_type(xmlNode *node, const char *anon_name, char **type_name, kind *k)
{
    char *type = attr(node, "type");
    xmlNode *inline_type = next_particle(node, NULL);
    if (type && inline_type)
        fail("line %d: element has both a type attribute and an inline type", node->line);
    if (type) {
        resolve_type_ref(node, type, type_name, k);
        free(type);
    } else if (!inline_type) {
        *type_name = xstrdup("anyType"); /* XSD: an element without a type is anyType */
        *k = K_ANY;
    } else if (is_xsd(inline_type, "simpleType")) {
        *k = simple_kind(inline_type, anon_name);
        *type_name = xstrdup(*k == K_ENUM ? anon_name : "string");
        if (*k != K_ENUM) {
            /* a restriction of a built-in: name it after that built-in */
            free(*type_name);
            xmlNode *r = next_particle(inline_type, NULL);
            char *base = attr(r, "base");
            qname q = resolve_qname(r, base);
            *type_name = xstrdup(q.local);
            free_qname(&q);
            free(base);
        }
    } else if (is_xsd(inline_type, "complexType")) {
        ctype *t = new_type(anon_name, true, inline_type->line);
        t->is_abstract = false;
        parse_complex_content(t, inline_type);
        *type_name = xstrdup(anon_name);
        *k = K_COMPLEX;
    } else {
        fail("line %d: unexpected <%s> inside an element", inline_type->line,
             inline_type->name);
    }
}

static void parse_element(ctype *owner, xmlNode *node, int choice, int choice_min)
{
    if (xmlHasProp(node, (const xmlChar *)"ref"))
        fail("line %d: element references (ref=) are not modelled", node->line);
    GROW(owner->elements, owner->n_elements, owner->cap_elements);
    element *e = &owner->elements[owner->n_elements++];
    memset(e, 0, sizeof *e);
    e->name = attr(node, "name");
    if (!e->name)
        fail("line %d: element without a name in type '%s'", node->line, owner->name);
    e->min_occurs = occurs_attr(node, "minOccurs", 1);
    e->max_occurs = occurs_attr(node, "maxOccurs", 1);
    /* A member of an optional choice may be absent even when its own minOccurs is 1. */
    if (choice && choice_min == 0)
        e->min_occurs = 0;
    e->nillable = bool_attr(node, "nillable");
    e->choice = choice;

    xmlNode *inline_type = next_particle(node, NULL);
    xmlNode *item = NULL;
    const char *wrapper_type = NULL;
    char *type_attr = attr(node, "type");
    qname q = {NULL, NULL};
    if (is_xsd(inline_type, "complexType")) {
        item = wrapper_item(inline_type);
    } else if (type_attr) {
        q = resolve_qname(node, type_attr);
        xmlNode *named = (!q.ns || strcmp(q.ns, XSD_NS) != 0)
                             ? find_named(named_complex, n_named_complex, q.local)
                             : NULL;
        if (named && (item = wrapper_item(named)))
            wrapper_type = q.local;
    }
    if (item && e->max_occurs != 1)
        item = NULL; /* a repeated element of an array type is a list of lists: no wrapper */

    if (item) {
        char *anon = xasprintf("%s_%s", owner->name, e->name);
        e->item_name = attr(item, "name");
        char *item_anon = xasprintf("%s_%s", anon, e->item_name ? e->item_name : "Item");
        e->item_min = occurs_attr(item, "minOccurs", 1);
        e->item_max = occurs_attr(item, "maxOccurs", 1);
        e->item_nillable = bool_attr(item, "nillable");
        e->wrapper_type_name = wrapper_type ? xstrdup(wrapper_type) : NULL;
        element_type(item, item_anon, &e->type_name, &e->kind);
        free(item_anon);
        free(anon);
    } else {
        char *anon = xasprintf("%s_%s", owner->name, e->name);
        element_type(node, anon, &e->type_name, &e->kind);
        free(anon);
    }
    free_qname(&q);
    free(type_attr);
}

static void parse_particles(ctype *t, xmlNode *group, int *choice_counter);

static void parse_choice(ctype *t, xmlNode *choice, int *choice_counter)
{
    int max = occurs_attr(choice, "maxOccurs", 1);
    if (max != 1)
        fail("line %d: a repeated <choice> is not modelled (type '%s')", choice->line, t->name);
    int min = occurs_attr(choice, "minOccurs", 1);
    int number = ++*choice_counter;
    for (xmlNode *p = next_particle(choice, NULL); p; p = next_particle(choice, p)) {
        if (!is_xsd(p, "element"))
            fail("line %d: only elements are modelled inside <choice> (type '%s')", p->line,
                 t->name);
        parse_element(t, p, number, min);
    }
}

static void parse_particles(ctype *t, xmlNode *group, int *choice_counter)
{
    for (xmlNode *p = next_particle(group, NULL); p; p = next_particle(group, p)) {
        if (is_xsd(p, "element")) {
            parse_element(t, p, 0, 1);
        } else if (is_xsd(p, "choice")) {
            parse_choice(t, p, choice_counter);
        } else if (is_xsd(p, "any")) {
            /* <any/>: elements of any name; the model gives it the name "##any", which no
             * XML element can have, so it never collides with a real field. */
            GROW(t->elements, t->n_elements, t->cap_elements);
            element *e = &t->elements[t->n_elements++];
            memset(e, 0, sizeof *e);
            e->name = xstrdup("##any");
            e->type_name = xstrdup("anyType");
            e->kind = K_ANY;
            e->min_occurs = occurs_attr(p, "minOccurs", 1);
            e->max_occurs = occurs_attr(p, "maxOccurs", 1);
        } else if (is_xsd(p, "sequence") && occurs_attr(p, "minOccurs", 1) == 1 &&
                   occurs_attr(p, "maxOccurs", 1) == 1) {
            parse_particles(t, p, choice_counter); /* a plain nested sequence flattens */
        } else {
            fail("line %d: <%s> is not modelled inside type '%s'", p->line, p->name, t->name);
        }
    }
}

/* The content of a complexType node: sequence/choice directly, or complexContent/extension. */
static void parse_complex_content(ctype *t, xmlNode *complex)
{
    if (bool_attr(complex, "mixed"))
        fail("line %d: mixed content is not modelled (type '%s')", complex->line, t->name);
    int choice_counter = 0;
    xmlNode *c = next_particle(complex, NULL);
    if (!c)
        return; /* empty type */
    if (next_particle(complex, c))
        fail("line %d: type '%s' has more than one content model (attributes are not "
             "modelled)", c->line, t->name);
    if (is_xsd(c, "complexContent")) {
        xmlNode *ext = next_particle(c, NULL);
        if (!is_xsd(ext, "extension") || next_particle(c, ext))
            fail("line %d: only <complexContent><extension> is modelled (type '%s')", c->line,
                 t->name);
        char *base = attr(ext, "base");
        if (!base)
            fail("line %d: extension without base (type '%s')", ext->line, t->name);
        qname q = resolve_qname(ext, base);
        if (!find_named(named_complex, n_named_complex, q.local))
            fail("line %d: type '%s' extends the unknown type '%s'", ext->line, t->name, base);
        t->base_name = xstrdup(q.local);
        free_qname(&q);
        free(base);
        xmlNode *group = next_particle(ext, NULL);
        if (!group)
            return;
        if (next_particle(ext, group))
            fail("line %d: extension of '%s' has more than one particle", ext->line, t->name);
        if (is_xsd(group, "sequence"))
            parse_particles(t, group, &choice_counter);
        else if (is_xsd(group, "choice"))
            parse_choice(t, group, &choice_counter);
        else
            fail("line %d: <%s> is not modelled in an extension (type '%s')", group->line,
                 group->name, t->name);
    } else if (is_xsd(c, "sequence")) {
        if (occurs_attr(c, "minOccurs", 1) != 1 || occurs_attr(c, "maxOccurs", 1) != 1)
            fail("line %d: an optional or repeated top sequence is not modelled (type '%s')",
                 c->line, t->name);
        parse_particles(t, c, &choice_counter);
    } else if (is_xsd(c, "choice")) {
        parse_choice(t, c, &choice_counter);
    } else {
        fail("line %d: <%s> is not modelled as the content of type '%s'", c->line, c->name,
             t->name);
    }
}

/* ---------------------------------------------------------------- reading the WSDL */

#if LIBXML_VERSION >= 21200
#define PL_XML_ERROR const xmlError
#else
#define PL_XML_ERROR xmlError
#endif

/* libxml2 would print parse errors itself; the generator reports the last one (below). */
static void quiet_parse_error(void *ctx, PL_XML_ERROR *err)
{
    (void)ctx;
    (void)err;
}

static void read_schema(void)
{
    for (xmlNode *n = next_particle(schema_node, NULL); n; n = next_particle(schema_node, n)) {
        if (is_xsd(n, "complexType")) {
            GROW(named_complex, n_named_complex, cap_named_complex);
            named_complex[n_named_complex++] = n;
        } else if (is_xsd(n, "simpleType")) {
            GROW(named_simple, n_named_simple, cap_named_simple);
            named_simple[n_named_simple++] = n;
        }
    }
    for (xmlNode *n = next_particle(schema_node, NULL); n; n = next_particle(schema_node, n)) {
        char *name = attr(n, "name");
        if (is_xsd(n, "import")) {
            /* the fault schema (not published); validation drops it too */
        } else if (!name) {
            fail("line %d: top-level <%s> without a name", n->line, n->name);
        } else if (is_xsd(n, "simpleType")) {
            simple_kind(n, name); /* records the enumerations */
        } else if (is_xsd(n, "complexType")) {
            ctype *t = new_type(name, false, n->line);
            t->is_abstract = bool_attr(n, "abstract");
            parse_complex_content(t, n);
        } else if (is_xsd(n, "element")) {
            GROW(globals, n_globals, cap_globals);
            global *g = &globals[n_globals++];
            g->name = xstrdup(name);
            char *type = attr(n, "type");
            xmlNode *inline_type = next_particle(n, NULL);
            if (type) {
                kind k;
                resolve_type_ref(n, type, &g->type_name, &k);
                if (k != K_COMPLEX)
                    fail("line %d: global element '%s' has a simple type (not modelled)",
                         n->line, name);
                free(type);
            } else if (is_xsd(inline_type, "complexType")) {
                ctype *t = new_type(name, true, inline_type->line);
                parse_complex_content(t, inline_type);
                g->type_name = xstrdup(name);
            } else {
                fail("line %d: global element '%s' has no complex type", n->line, name);
            }
        } else {
            fail("line %d: top-level <%s> is not modelled", n->line, n->name);
        }
        free(name);
    }
}

/* ---------------------------------------------------------------- writing the C source */

static int cmp_type(const void *a, const void *b)
{
    return strcmp(((const ctype *)a)->name, ((const ctype *)b)->name);
}
static int cmp_enum(const void *a, const void *b)
{
    return strcmp(((const etype *)a)->name, ((const etype *)b)->name);
}
static int cmp_global(const void *a, const void *b)
{
    return strcmp(((const global *)a)->name, ((const global *)b)->name);
}

/* C identifiers are built from XML names; "##any" and names with '-' or '.' never reach
 * identifiers (only type and enum names do, and those are checked here). */
static void check_identifier(const char *name)
{
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '_'))
            fail("the type name '%s' cannot become a C identifier", name);
}

static void write_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void write_output(FILE *out, const char *wsdl_name)
{
    /* (qsort must not see a NULL table, even an empty one) */
    if (n_types)
        qsort(types, (size_t)n_types, sizeof *types, cmp_type);
    if (n_enums)
        qsort(enums, (size_t)n_enums, sizeof *enums, cmp_enum);
    if (n_globals)
        qsort(globals, (size_t)n_globals, sizeof *globals, cmp_global);

    int named = 0;
    for (int i = 0; i < n_types; i++)
        named += !types[i].is_anonymous;

    fprintf(out,
            "/* GENERATED FILE, DO NOT EDIT.\n"
            " *\n"
            " * The schema model of the partner API, generated by performlua-schemagen\n"
            " * (runtime/schema/generator/schemagen.c) from %s.\n"
            " * Regenerate with: cmake --build build --target regenerate-schema\n"
            " * (tests/cli/schema_regen.sh fails when this file differs from a fresh run).\n"
            " *\n"
            " * %d complex types (%d named, %d anonymous), %d enumerations, %d global elements.\n"
            " * Every table is sorted by name (strcmp order): schema.c binary-searches them. */\n"
            "#include \"schema/schema.h\"\n\n",
            wsdl_name, n_types, named, n_types - named, n_enums, n_globals);

    fprintf(out, "/* Indexes into pl_wsdl_types and pl_wsdl_enums, so references read as names. */\n");
    fprintf(out, "enum {\n");
    for (int i = 0; i < n_types; i++) {
        check_identifier(types[i].name);
        fprintf(out, "    PL_T_%s = %d,\n", types[i].name, i);
    }
    fprintf(out, "};\n\nenum {\n");
    if (n_enums == 0)
        fprintf(out, "    PL_E_NONE_ = 0,\n");
    for (int i = 0; i < n_enums; i++) {
        check_identifier(enums[i].name);
        fprintf(out, "    PL_E_%s = %d,\n", enums[i].name, i);
    }
    fprintf(out, "};\n\n");

    /* enumeration values */
    for (int i = 0; i < n_enums; i++) {
        fprintf(out, "static const char *const pl_values_%s[] = {\n", enums[i].name);
        for (int v = 0; v < enums[i].n_values; v++) {
            fputs("    ", out);
            write_string(out, enums[i].values[v]);
            fputs(",\n", out);
        }
        fprintf(out, "};\n");
    }
    fprintf(out, "\nconst pl_enum pl_wsdl_enums[] = {\n");
    for (int i = 0; i < n_enums; i++)
        fprintf(out, "    {\"%s\", pl_values_%s, %d},\n", enums[i].name, enums[i].name,
                enums[i].n_values);
    if (n_enums == 0)
        fprintf(out, "    {NULL, NULL, 0}, /* C has no empty arrays; the count is 0 */\n");
    fprintf(out, "};\nconst int pl_wsdl_enum_count = %d;\n\n", n_enums);

    /* element lists */
    for (int i = 0; i < n_types; i++) {
        ctype *t = &types[i];
        if (t->n_elements == 0)
            continue;
        fprintf(out, "static const pl_element pl_fields_%s[] = {\n", t->name);
        for (int j = 0; j < t->n_elements; j++) {
            element *e = &t->elements[j];
            fputs("    {.name = ", out);
            write_string(out, e->name);
            fputs(", .type_name = ", out);
            write_string(out, e->type_name);
            fprintf(out, ", .kind = %s,\n     ", kind_names[e->kind]);
            if (e->kind == K_COMPLEX) {
                if (!find_type(e->type_name))
                    fail("internal: element %s.%s refers to the missing type %s", t->name,
                         e->name, e->type_name);
                fprintf(out, ".complex = &pl_wsdl_types[PL_T_%s], ", e->type_name);
            } else if (e->kind == K_ENUM) {
                fprintf(out, ".enumeration = &pl_wsdl_enums[PL_E_%s], ", e->type_name);
            }
            fprintf(out, ".min_occurs = %d, .max_occurs = %d", e->min_occurs, e->max_occurs);
            if (e->nillable)
                fputs(", .nillable = true", out);
            if (e->choice)
                fprintf(out, ", .choice = %d", e->choice);
            if (e->item_name) {
                fputs(",\n     .item_name = ", out);
                write_string(out, e->item_name);
                fprintf(out, ", .item_min_occurs = %d, .item_max_occurs = %d", e->item_min,
                        e->item_max);
                if (e->item_nillable)
                    fputs(", .item_nillable = true", out);
                if (e->wrapper_type_name) {
                    fputs(",\n     .wrapper_type_name = ", out);
                    write_string(out, e->wrapper_type_name);
                }
            }
            fputs("},\n", out);
        }
        fprintf(out, "};\n");
    }

    /* wire-order field lists: the base's fields first, each name once (the first declaration
     * of a name wins, as the encoder writes it), so no call has to de-duplicate them */
    int *n_wire = calloc((size_t)(n_types ? n_types : 1), sizeof *n_wire);
    if (!n_wire)
        fail("out of memory");
    for (int i = 0; i < n_types; i++) {
        const ctype *chain[64];
        int depth = 0;
        for (const ctype *c = &types[i]; c; c = c->base_name ? find_type(c->base_name) : NULL) {
            if (depth == 64)
                fail("the base chain of %s is longer than 64 types (a cycle?)", types[i].name);
            chain[depth++] = c;
        }
        bool opened = false;
        for (int k = depth - 1; k >= 0; k--)
            for (int j = 0; j < chain[k]->n_elements; j++) {
                const char *name = chain[k]->elements[j].name;
                bool seen = false;
                for (int kk = depth - 1; kk >= k && !seen; kk--)
                    for (int jj = 0; jj < (kk == k ? j : chain[kk]->n_elements) && !seen; jj++)
                        seen = strcmp(chain[kk]->elements[jj].name, name) == 0;
                if (seen)
                    continue;
                if (!opened)
                    fprintf(out, "static const pl_element *const pl_wire_%s[] = {\n",
                            types[i].name);
                opened = true;
                fprintf(out, "    &pl_fields_%s[%d],\n", chain[k]->name, j);
                n_wire[i]++;
            }
        if (opened)
            fprintf(out, "};\n");
    }

    fprintf(out, "\nconst pl_type pl_wsdl_types[] = {\n");
    for (int i = 0; i < n_types; i++) {
        ctype *t = &types[i];
        fprintf(out, "    [PL_T_%s] = {.name = \"%s\"", t->name, t->name);
        if (t->base_name)
            fprintf(out, ", .base_name = \"%s\", .base = &pl_wsdl_types[PL_T_%s]",
                    t->base_name, t->base_name);
        if (t->is_abstract)
            fputs(", .is_abstract = true", out);
        if (t->is_anonymous)
            fputs(", .is_anonymous = true", out);
        if (t->n_elements)
            fprintf(out, ",\n        .elements = pl_fields_%s, .n_elements = %d", t->name,
                    t->n_elements);
        if (n_wire[i])
            fprintf(out, ",\n        .wire_fields = pl_wire_%s, .n_wire_fields = %d", t->name,
                    n_wire[i]);
        fputs("},\n", out);
    }
    fprintf(out, "};\nconst int pl_wsdl_type_count = %d;\n\n", n_types);
    free(n_wire);

    fprintf(out, "const pl_global_element pl_wsdl_globals[] = {\n");
    for (int i = 0; i < n_globals; i++)
        fprintf(out, "    {\"%s\", &pl_wsdl_types[PL_T_%s]},\n", globals[i].name,
                globals[i].type_name);
    if (n_globals == 0)
        fprintf(out, "    {NULL, NULL}, /* C has no empty arrays; the count is 0 */\n");
    fprintf(out, "};\nconst int pl_wsdl_global_count = %d;\n", n_globals);
}

static void free_model(void)
{
    for (int i = 0; i < n_types; i++) {
        for (int j = 0; j < types[i].n_elements; j++) {
            element *e = &types[i].elements[j];
            free(e->name);
            free(e->type_name);
            free(e->item_name);
            free(e->wrapper_type_name);
        }
        free(types[i].elements);
        free(types[i].name);
        free(types[i].base_name);
    }
    free(types);
    for (int i = 0; i < n_enums; i++) {
        for (int v = 0; v < enums[i].n_values; v++)
            free(enums[i].values[v]);
        free(enums[i].values);
        free(enums[i].name);
    }
    free(enums);
    for (int i = 0; i < n_globals; i++) {
        free(globals[i].name);
        free(globals[i].type_name);
    }
    free(globals);
    free(named_complex);
    free(named_simple);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: performlua-schemagen WSDL OUT.c\n"
                        "  reads the partner API WSDL and writes the schema model as C\n");
        return 2;
    }
    const char *wsdl_path = argv[1], *out_path = argv[2];

    xmlSetStructuredErrorFunc(NULL, quiet_parse_error);
    doc = xmlReadFile(wsdl_path, NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
    if (!doc) {
        const xmlError *err = xmlGetLastError();
        fail("cannot read the WSDL %s: %s", wsdl_path,
             err && err->message ? err->message : "not well-formed XML");
    }
    xmlNode *defs = xmlDocGetRootElement(doc);
    if (!defs || !defs->ns || strcmp((const char *)defs->ns->href, WSDL_NS) != 0 ||
        strcmp((const char *)defs->name, "definitions") != 0)
        fail("%s is not a WSDL (no <wsdl:definitions> root)", wsdl_path);
    for (xmlNode *n = defs->children; n && !schema_node; n = n->next)
        if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, "types") == 0)
            for (xmlNode *s = n->children; s; s = s->next)
                if (is_xsd(s, "schema")) {
                    schema_node = s;
                    break;
                }
    if (!schema_node)
        fail("%s has no <types><schema>", wsdl_path);

    read_schema();
    if (n_types == 0)
        fail("%s declares no complex types: not the partner API WSDL", wsdl_path);
    for (int i = 0; i < n_globals; i++)
        if (!find_type(globals[i].type_name))
            fail("global element '%s' refers to the missing type '%s'", globals[i].name,
                 globals[i].type_name);

    /* Write to a temporary file first so an interrupted run never leaves half a model. */
    char *tmp_path = xasprintf("%s.tmp", out_path);
    FILE *out = fopen(tmp_path, "w");
    if (!out)
        fail("cannot write %s", tmp_path);
    const char *wsdl_name = strrchr(wsdl_path, '/');
    write_output(out, wsdl_name ? wsdl_name + 1 : wsdl_path);
    if (fclose(out) != 0 || rename(tmp_path, out_path) != 0) {
        remove(tmp_path);
        fail("cannot write %s", out_path);
    }
    free(tmp_path);
    free_model();
    xmlFreeDoc(doc);
    xmlCleanupParser();
    return 0;
}
