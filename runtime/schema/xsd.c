/* Validation of SOAP messages against the WSDL's XSD plus the supplement (see xsd.h).
 *
 * libxml2 reports errors through callbacks; every context made here gets a structured
 * error handler that appends to a `collector`, and while a document is parsed the calling
 * thread's handlers append to it too (conversion errors reach only those), so nothing is
 * printed. libxml2's handlers are per thread: concurrent validations on different threads
 * never mix their messages. */
#include "schema/xsd.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/libxml.h"

#include "schema/schema.h"
#include "util/buffer.h"
#include "util/xml.h"

#define WSDL_NS "http://schemas.xmlsoap.org/wsdl/"
#define FAULT_NS "urn:fault.partner.exacttarget.com"
/* Envelopes beyond this size are refused rather than parsed (the service's own limit on a
 * payload is 5 MB; responses of 2500 rich objects stay well below this). */
#define MAX_MESSAGE_BYTES (64u * 1024u * 1024u)

struct pl_xsd {
    xmlDoc *schema_doc; /* kept alive: the compiled schema may point into it */
    xmlSchema *schema;
};

/* ---------------------------------------------------------------- error collection */

typedef struct {
    pl_buffer text;       /* lines joined by '\n' */
    int count;            /* errors seen, including those beyond PL_XSD_MAX_ERRORS */
    bool out_of_memory;   /* a libxml2 context could not be made */
    const xmlNode *root;  /* element being validated: error paths are relative to it */
    const char *prefix;   /* put before each message, e.g. "XML is not well-formed: " */
    bool dtd;             /* the document has a DOCTYPE (parsing stopped there) */
} collector;

/* Appends the libxml2 message without its trailing newline, with namespaces shortened:
 * "{http://exacttarget.com/wsdl/partnerAPI}Name" -> "Name", "{...XMLSchema-instance}type"
 * -> "xsi:type". */
static void append_message(collector *c, const char *msg)
{
    static const struct { const char *from, *to; } shorter[] = {
        {"{" PL_PARTNER_NS "}", ""},
        {"{" PL_XSI_NS "}", "xsi:"},
    };
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' ' || msg[n - 1] == '\r'))
        n--;
    const char *end = msg + n;
    while (msg < end) {
        size_t skip = 0;
        for (size_t i = 0; i < sizeof shorter / sizeof shorter[0] && !skip; i++) {
            size_t len = strlen(shorter[i].from);
            if ((size_t)(end - msg) >= len && memcmp(msg, shorter[i].from, len) == 0) {
                pl_buffer_append_str(&c->text, shorter[i].to);
                skip = len;
            }
        }
        if (!skip) {
            pl_buffer_append(&c->text, msg, 1);
            skip = 1;
        }
        msg += skip;
    }
}

/* "PerformRequestMsg/Definitions/Definition[2]/Name": where `node` sits below c->root,
 * with an index wherever siblings share the name. */
static void append_path(collector *c, const xmlNode *node, int depth)
{
    if (!node || node->type != XML_ELEMENT_NODE || depth > 256)
        return;
    if (node != c->root) {
        append_path(c, node->parent, depth + 1);
        pl_buffer_append(&c->text, "/", 1);
    }
    pl_buffer_append_str(&c->text, (const char *)node->name);
    int index = 0, same = 0;
    if (node->parent && node != c->root)
        for (const xmlNode *s = node->parent->children; s; s = s->next)
            if (s->type == XML_ELEMENT_NODE && xmlStrEqual(s->name, node->name)) {
                same++;
                if (s == node)
                    index = same;
            }
    if (same > 1)
        pl_buffer_appendf(&c->text, "[%d]", index);
}

static bool is_below(const xmlNode *node, const xmlNode *root)
{
    for (int depth = 0; node && depth < 4096; node = node->parent, depth++)
        if (node == root)
            return true;
    return false;
}

static void collect_error(void *ctx, PL_XML_ERROR *err)
{
    collector *c = ctx;
    if (!err || err->level == XML_ERR_WARNING || err->level == XML_ERR_NONE)
        return;
    if (++c->count > PL_XSD_MAX_ERRORS)
        return;
    if (c->text.len)
        pl_buffer_append(&c->text, "\n", 1);
    if (c->prefix)
        pl_buffer_append_str(&c->text, c->prefix);
    const xmlNode *node = err->node;
    if (node && node->type == XML_ATTRIBUTE_NODE)
        node = node->parent;
    if (node && node->type == XML_ELEMENT_NODE) {
        pl_buffer_appendf(&c->text, "line %ld", (long)xmlGetLineNo(node));
        if (c->root && is_below(node, c->root)) {
            pl_buffer_append(&c->text, ", ", 2);
            append_path(c, node, 0);
        }
        pl_buffer_append(&c->text, ": ", 2);
    } else if (err->line > 0) {
        pl_buffer_appendf(&c->text, "line %d: ", err->line);
    }
    append_message(c, err->message ? err->message : "unknown error");
}

/* Parser contexts report to ctxt->sax->serror with ctxt->userData (the context itself, which
 * the tree builder needs), so the collector travels in ctxt->_private. */
static void collect_parser_error(void *ctx, PL_XML_ERROR *err)
{
    xmlParserCtxt *ctxt = ctx;
    collect_error(ctxt->_private, err);
}

/* libxml2's printf-style messages (xmlParseChunk's "encoder error"), collected as errors. */
static void collect_generic_error(void *ctx, const char *fmt, ...)
{
    char message[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    xmlError err = {.level = XML_ERR_ERROR, .message = message};
    collect_error(ctx, &err);
}

static char *format(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = malloc((size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* Hands the collected text over (or `fallback` when nothing was collected). */
static char *finish(collector *c, const char *fallback)
{
    if (c->count > PL_XSD_MAX_ERRORS)
        pl_buffer_appendf(&c->text, "\n(and %d more errors)", c->count - PL_XSD_MAX_ERRORS);
    if (c->text.len == 0)
        pl_buffer_append_str(&c->text, fallback);
    if (c->out_of_memory || c->text.failed) {
        pl_buffer_free(&c->text);
        return format("out of memory while reporting validation errors");
    }
    return pl_buffer_take(&c->text);
}

/* Parses XML from memory or a file with safe options (no network, no entity substitution,
 * no DTD at all: parsing stops at a DOCTYPE, in whatever encoding, and `c->dtd` says so),
 * errors into `c`. */
static xmlDoc *parse_quietly(const char *xml, size_t len, const char *path, collector *c)
{
    xmlParserCtxt *ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        c->out_of_memory = true;
        return NULL;
    }
    ctxt->_private = c;
    ctxt->sax->serror = collect_parser_error;
    pl_xml_stop_at_doctype(ctxt->sax);
    const int options = XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_BIG_LINES;
    pl_xml_handlers saved = pl_xml_take_errors(c, collect_error, collect_generic_error);
    xmlDoc *doc = path ? xmlCtxtReadFile(ctxt, path, NULL, options)
                       : xmlCtxtReadMemory(ctxt, xml, (int)len, NULL, NULL, options);
    pl_xml_restore_errors(&saved);
    c->dtd = pl_xml_stopped_at_doctype(ctxt);
    if (doc && (!ctxt->wellFormed || c->dtd)) {
        xmlFreeDoc(doc);
        doc = NULL;
    }
    xmlFreeParserCtxt(ctxt);
    return doc;
}

/* ---------------------------------------------------------------- building the schema */

static bool is_named(const xmlNode *n, const char *ns, const char *local)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns && xmlStrEqual(n->ns->href, BAD_CAST ns) &&
           xmlStrEqual(n->name, BAD_CAST local);
}

static xmlNode *first_child(const xmlNode *parent, const char *ns, const char *local)
{
    for (xmlNode *n = parent ? parent->children : NULL; n; n = n->next)
        if (is_named(n, ns, local))
            return n;
    return NULL;
}

static const char *xsd_builtin(pl_kind kind)
{
    switch (kind) {
    case PL_KIND_STRING: return "xsd:string";
    case PL_KIND_INT: return "xsd:int";
    case PL_KIND_LONG: return "xsd:long";
    case PL_KIND_SHORT: return "xsd:short";
    case PL_KIND_BYTE: return "xsd:byte";
    case PL_KIND_DOUBLE: return "xsd:double";
    case PL_KIND_BOOLEAN: return "xsd:boolean";
    case PL_KIND_DATETIME: return "xsd:dateTime";
    case PL_KIND_DATE: return "xsd:date";
    case PL_KIND_TIME: return "xsd:time";
    case PL_KIND_BASE64: return "xsd:base64Binary";
    case PL_KIND_ANY: return "xsd:anyType";
    case PL_KIND_ENUM:
    case PL_KIND_COMPLEX: break;
    }
    return NULL;
}

static bool set_occurs(xmlNode *el, int min, int max)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%d", min);
    if (!xmlNewProp(el, BAD_CAST "minOccurs", BAD_CAST buf))
        return false;
    if (max < 0)
        snprintf(buf, sizeof buf, "unbounded");
    else
        snprintf(buf, sizeof buf, "%d", max);
    return xmlNewProp(el, BAD_CAST "maxOccurs", BAD_CAST buf) != NULL;
}

/* <element name= type= minOccurs= maxOccurs= nillable=/> for one supplement field; a
 * wrapper becomes an element with an anonymous sequence of its repeated item. */
static bool add_supplement_element(xmlNode *sequence, xmlNs *xs, const pl_element *e)
{
    char type[256];
    const char *builtin = xsd_builtin(e->kind);
    if (builtin)
        snprintf(type, sizeof type, "%s", builtin);
    else
        snprintf(type, sizeof type, "tns:%s", e->type_name);

    xmlNode *el = xmlNewChild(sequence, xs, BAD_CAST "element", NULL);
    if (!el || !xmlNewProp(el, BAD_CAST "name", BAD_CAST e->name))
        return false;
    if (!set_occurs(el, e->min_occurs, e->max_occurs))
        return false;
    if (e->nillable && !xmlNewProp(el, BAD_CAST "nillable", BAD_CAST "true"))
        return false;
    if (!e->item_name)
        return xmlNewProp(el, BAD_CAST "type", BAD_CAST type) != NULL;

    xmlNode *ct = xmlNewChild(el, xs, BAD_CAST "complexType", NULL);
    xmlNode *seq = ct ? xmlNewChild(ct, xs, BAD_CAST "sequence", NULL) : NULL;
    xmlNode *item = seq ? xmlNewChild(seq, xs, BAD_CAST "element", NULL) : NULL;
    return item && xmlNewProp(item, BAD_CAST "name", BAD_CAST e->item_name) &&
           xmlNewProp(item, BAD_CAST "type", BAD_CAST type) &&
           set_occurs(item, e->item_min_occurs, e->item_max_occurs) &&
           (!e->item_nillable || xmlNewProp(item, BAD_CAST "nillable", BAD_CAST "true"));
}

/* Each supplement type as <complexType name=><complexContent><extension base=><sequence>. */
static char *add_supplement(xmlNode *schema)
{
    xmlNs *xs = schema->ns;
    for (int i = 0; i < pl_supplement_type_count; i++) {
        const pl_type *t = &pl_supplement_types[i];
        char base[256];
        snprintf(base, sizeof base, "tns:%s", t->base_name ? t->base_name : "APIObject");
        xmlNode *ct = xmlNewChild(schema, xs, BAD_CAST "complexType", NULL);
        xmlNode *cc = ct ? xmlNewChild(ct, xs, BAD_CAST "complexContent", NULL) : NULL;
        xmlNode *ext = cc ? xmlNewChild(cc, xs, BAD_CAST "extension", NULL) : NULL;
        xmlNode *seq = ext ? xmlNewChild(ext, xs, BAD_CAST "sequence", NULL) : NULL;
        if (!seq || !xmlNewProp(ct, BAD_CAST "name", BAD_CAST t->name) ||
            !xmlNewProp(ext, BAD_CAST "base", BAD_CAST base))
            return format("out of memory while adding the supplement to the schema");
        for (int j = 0; j < t->n_elements; j++) {
            if (t->elements[j].choice)
                return format("the supplement type %s uses a <choice>, which xsd.c cannot "
                              "express yet", t->name);
            if (!add_supplement_element(seq, xs, &t->elements[j]))
                return format("out of memory while adding the supplement to the schema");
        }
    }
    return NULL;
}

/* Turns the WSDL document into a standalone schema document; NULL or an error message. */
static char *standalone_schema(xmlDoc *wsdl, const char *path, xmlDoc **out)
{
    xmlNode *defs = xmlDocGetRootElement(wsdl);
    if (!is_named(defs, WSDL_NS, "definitions"))
        return format("%s is not a WSDL: its root element is not wsdl:definitions", path);
    xmlNode *schema = first_child(first_child(defs, WSDL_NS, "types"), PL_XSD_NS, "schema");
    if (!schema)
        return format("%s has no <types><schema>: not the partner API WSDL", path);

    /* The schema's QNames use the tns and xsd prefixes declared on <definitions>. */
    for (xmlNs *ns = defs->nsDef; ns; ns = ns->next) {
        if (!ns->prefix || (!xmlStrEqual(ns->prefix, BAD_CAST "tns") &&
                            !xmlStrEqual(ns->prefix, BAD_CAST "xsd")))
            continue;
        bool declared = false;
        for (xmlNs *own = schema->nsDef; own; own = own->next)
            declared |= own->prefix && xmlStrEqual(own->prefix, ns->prefix);
        if (!declared && !xmlNewNs(schema, ns->href, ns->prefix))
            return format("out of memory while preparing the schema");
    }
    /* The fault schema is not published; nothing in the request and response messages
     * refers to it. */
    for (xmlNode *n = schema->children, *next; n; n = next) {
        next = n->next;
        if (!is_named(n, PL_XSD_NS, "import"))
            continue;
        xmlChar *ns = xmlGetProp(n, BAD_CAST "namespace");
        bool fault = ns && xmlStrEqual(ns, BAD_CAST FAULT_NS);
        xmlFree(ns);
        if (fault) {
            xmlUnlinkNode(n);
            xmlFreeNode(n);
        }
    }
    char *err = add_supplement(schema);
    if (err)
        return err;

    xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNode *copy = doc ? xmlDocCopyNode(schema, doc, 1) : NULL;
    if (!copy) {
        xmlFreeDoc(doc);
        return format("out of memory while preparing the schema");
    }
    xmlDocSetRootElement(doc, copy);
    *out = doc;
    return NULL;
}

pl_xsd *pl_xsd_load(const char *wsdl_path, char **error)
{
    *error = NULL;
    char why[512];
    if (!pl_libxml_load(why, sizeof why)) {
        *error = format("%s", why);
        return NULL;
    }
    FILE *probe = fopen(wsdl_path, "rb");
    if (!probe) {
        *error = format("cannot open the WSDL %s: %s", wsdl_path, strerror(errno));
        return NULL;
    }
    fclose(probe);

    collector c = {0};
    c.prefix = "";
    xmlDoc *wsdl = parse_quietly(NULL, 0, wsdl_path, &c);
    if (!wsdl) {
        char *detail = finish(&c, c.dtd ? "it has a DTD, which is never read" : "unreadable");
        *error = format("cannot read the WSDL %s: %s", wsdl_path, detail ? detail : "");
        free(detail);
        return NULL;
    }
    xmlDoc *schema_doc = NULL;
    *error = standalone_schema(wsdl, wsdl_path, &schema_doc);
    xmlFreeDoc(wsdl);
    if (*error)
        return NULL;

    collector pc = {0};
    xmlSchemaParserCtxt *pctxt = xmlSchemaNewDocParserCtxt(schema_doc);
    xmlSchema *schema = NULL;
    if (pctxt) {
        xmlSchemaSetParserStructuredErrors(pctxt, collect_error, &pc);
        schema = xmlSchemaParse(pctxt);
        xmlSchemaFreeParserCtxt(pctxt);
    }
    if (!schema) {
        char *detail = finish(&pc, "xmlSchemaParse failed");
        *error = format("the XSD in %s does not compile: %s", wsdl_path, detail ? detail : "");
        free(detail);
        xmlFreeDoc(schema_doc);
        return NULL;
    }
    pl_buffer_free(&pc.text);

    pl_xsd *xsd = calloc(1, sizeof *xsd);
    if (!xsd) {
        xmlSchemaFree(schema);
        xmlFreeDoc(schema_doc);
        *error = format("out of memory while loading %s", wsdl_path);
        return NULL;
    }
    xsd->schema = schema;
    xsd->schema_doc = schema_doc;
    return xsd;
}

void pl_xsd_free(pl_xsd *xsd)
{
    if (!xsd)
        return;
    xmlSchemaFree(xsd->schema);
    xmlFreeDoc(xsd->schema_doc);
    free(xsd);
}

/* ---------------------------------------------------------------- validating */

/* The element to validate: the Body's first element child of an Envelope, else the root.
 * NULL with *problem set when the Envelope is malformed. */
static xmlNode *message_element(xmlDoc *doc, const char **problem)
{
    xmlNode *root = xmlDocGetRootElement(doc);
    if (!root) {
        *problem = "the document has no root element";
        return NULL;
    }
    if (!is_named(root, PL_SOAP_ENV_NS, "Envelope"))
        return root;
    xmlNode *body = NULL;
    for (xmlNode *n = root->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (is_named(n, PL_SOAP_ENV_NS, "Header") && !body)
            continue;
        if (is_named(n, PL_SOAP_ENV_NS, "Body") && !body) {
            body = n;
            continue;
        }
        *problem = "the SOAP Envelope may hold only a Header and then a Body";
        return NULL;
    }
    if (!body) {
        *problem = "the SOAP Envelope has no Body";
        return NULL;
    }
    for (xmlNode *n = body->children; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE)
            return n;
    *problem = "the SOAP Body is empty";
    return NULL;
}

int pl_xsd_validate(const pl_xsd *xsd, const char *xml, size_t len, char **message)
{
    *message = NULL;
    if (len > MAX_MESSAGE_BYTES || len > (size_t)INT32_MAX) {
        *message = format("the message is %zu bytes, more than the %u this validator reads",
                          len, MAX_MESSAGE_BYTES);
        return *message ? 0 : -1;
    }
    collector c = {0};
    c.prefix = "XML is not well-formed: ";
    xmlDoc *doc = parse_quietly(xml, len, NULL, &c);
    if (c.dtd) {
        pl_buffer_free(&c.text);
        *message = format("the message has a DTD, which SOAP does not allow");
        return *message ? 0 : -1;
    }
    if (!doc) {
        *message = finish(&c, "XML is not well-formed");
        return *message ? 0 : -1;
    }
    pl_buffer_free(&c.text);

    const char *problem = NULL;
    xmlNode *element = message_element(doc, &problem);
    if (!element) {
        xmlFreeDoc(doc);
        *message = format("%s", problem);
        return *message ? 0 : -1;
    }

    collector vc = {0};
    vc.root = element;
    xmlSchemaValidCtxt *vctxt = xmlSchemaNewValidCtxt(xsd->schema);
    if (!vctxt) {
        xmlFreeDoc(doc);
        *message = format("out of memory while validating");
        return -1;
    }
    xmlSchemaSetValidStructuredErrors(vctxt, collect_error, &vc);
    int rc = xmlSchemaValidateOneElement(vctxt, element);
    xmlSchemaFreeValidCtxt(vctxt);
    xmlFreeDoc(doc);
    if (rc == 0 && vc.count == 0) {
        pl_buffer_free(&vc.text);
        return 1;
    }
    *message = finish(&vc, rc < 0 ? "libxml2 could not validate the message (internal error)"
                                  : "the message is not valid (no detail reported)");
    return *message ? 0 : -1;
}

/* ---------------------------------------------------------------- reading like the service */

/* The service's deserializer (.NET XmlSerializer behind Service.asmx) is not an XSD
 * validator: it ignores minOccurs (Options left out is fine) and the order of a sequence,
 * skips elements it does not expect (an unknown name, a second value of a single field), and
 * refuses only values it cannot convert and types it cannot make. */

#define SERVICE_UNREADABLE "Server was unable to read request. ---> There is an error in the XML " \
                           "document. ---> "
#define MAX_READ_DEPTH 64
#define MAX_FIELDS 128 /* the largest type has 63 */

typedef struct service_reader {
    pl_buffer dropped; /* "path (why)" lines */
    int n_dropped;
    char *fault;       /* the first refusal; reading stops there */
    bool out_of_memory;
    const xmlNode *root;
} service_reader;

static void reader_fault(service_reader *r, const xmlNode *node, const char *fmt, ...)
{
    if (r->fault)
        return;
    char what[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    collector where = {0};
    where.root = r->root;
    append_path(&where, node, 0);
    r->fault = format("%s%s (sandbox: line %ld, %s)", SERVICE_UNREADABLE, what,
                      (long)xmlGetLineNo(node), pl_buffer_text(&where.text));
    if (!r->fault || where.text.failed)
        r->out_of_memory = true;
    pl_buffer_free(&where.text);
}

/* Records `node` as dropped and frees it (the caller holds its next sibling already). */
static void reader_drop(service_reader *r, xmlNode *node, const char *why)
{
    collector where = {0};
    where.root = r->root;
    append_path(&where, node, 0);
    if (r->dropped.len)
        pl_buffer_append(&r->dropped, "\n", 1);
    pl_buffer_appendf(&r->dropped, "%s (%s)", pl_buffer_text(&where.text), why);
    if (where.text.failed)
        r->out_of_memory = true;
    pl_buffer_free(&where.text);
    r->n_dropped++;
    xmlUnlinkNode(node);
    xmlFreeNode(node);
}

static bool in_partner_ns(const xmlNode *n)
{
    return n->ns && xmlStrEqual(n->ns->href, BAD_CAST PL_PARTNER_NS);
}

/* Shortened for a message: at most 80 bytes of the value. */
static void shorten(const char *value, char *out, size_t size)
{
    snprintf(out, size, "%.80s%s", value, strlen(value) > 80 ? "..." : "");
}

/* XmlConvert's whitespace: what it trims around a number, boolean or date. */
static const char *trimmed(const char *s, size_t *len)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    *len = n;
    return s;
}

/* -1: not an integer; 0: out of [min, max]; 1: fine. */
static int integer_in(const char *text, long long min, long long max)
{
    size_t n;
    const char *s = trimmed(text, &n);
    size_t i = 0;
    bool negative = false;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        negative = s[i++] == '-';
    if (i == n)
        return -1;
    unsigned long long v = 0;
    bool overflow = false;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        if (v > (ULLONG_MAX - 9) / 10)
            overflow = true;
        else
            v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (overflow)
        return 0;
    if (negative)
        return v <= (unsigned long long)(-(min + 1)) + 1ULL ? 1 : 0;
    return v <= (unsigned long long)max ? 1 : 0;
}

static bool is_double(const char *text)
{
    size_t n;
    const char *s = trimmed(text, &n);
    if (n == 0 || n > 100)
        return false;
    char buf[128];
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (!strcmp(buf, "INF") || !strcmp(buf, "-INF") || !strcmp(buf, "NaN"))
        return true;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789+-.eE", buf[i]))
            return false; /* no hex, inf or nan spellings */
    char *end;
    errno = 0;
    (void)strtod(buf, &end);
    return end != buf && *end == '\0';
}

static bool digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int number_at(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* [Z | (+|-)hh:mm], returns the bytes read or -1. */
static int zone(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    if (s[0] == 'Z')
        return 1;
    if ((s[0] == '+' || s[0] == '-') && n >= 6 && digits(s + 1, 2) && s[3] == ':' &&
        digits(s + 4, 2) && number_at(s + 1, 2) <= 14 && number_at(s + 4, 2) <= 59)
        return 6;
    return -1;
}

/* YYYY-MM-DD: bytes read or -1. */
static int date_part(const char *s, size_t n)
{
    if (n < 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
        !digits(s + 8, 2))
        return -1;
    int y = number_at(s, 4), m = number_at(s + 5, 2), d = number_at(s + 8, 2);
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
        return -1;
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return -1;
    return 10;
}

/* hh:mm:ss[.f+]: bytes read or -1. */
static int time_part(const char *s, size_t n)
{
    if (n < 8 || !digits(s, 2) || s[2] != ':' || !digits(s + 3, 2) || s[5] != ':' ||
        !digits(s + 6, 2))
        return -1;
    if (number_at(s, 2) > 23 || number_at(s + 3, 2) > 59 || number_at(s + 6, 2) > 59)
        return -1;
    size_t i = 8;
    if (i < n && s[i] == '.') {
        size_t start = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return -1;
    }
    return (int)i;
}

/* XmlConvert's readings of xsd:dateTime, xsd:date and xsd:time (its "AllXsd" forms). */
static bool is_date_value(const char *text, pl_kind kind)
{
    size_t n;
    const char *s = trimmed(text, &n);
    size_t i = 0;
    if (kind != PL_KIND_TIME) {
        int d = date_part(s, n);
        if (d < 0)
            return false;
        i = (size_t)d;
        if (kind == PL_KIND_DATETIME) {
            if (i < n && s[i] == 'T') {
                int t = time_part(s + i + 1, n - i - 1);
                if (t < 0)
                    return false;
                i += (size_t)t + 1;
            } /* .NET also takes a dateTime without its time */
        }
    } else {
        int t = time_part(s, n);
        if (t < 0)
            return false;
        i = (size_t)t;
    }
    int z = zone(s + i, n - i);
    return z >= 0 && i + (size_t)z == n;
}

static bool is_nil(const xmlNode *node)
{
    xmlChar *nil = xmlGetNsProp(node, BAD_CAST "nil", BAD_CAST PL_XSI_NS);
    bool yes = nil && (xmlStrEqual(nil, BAD_CAST "true") || xmlStrEqual(nil, BAD_CAST "1"));
    xmlFree(nil);
    return yes;
}

static void read_complex(service_reader *r, xmlNode *node, const pl_type *declared, int depth);

/* One value of the field `f` (a wrapper's item: f describes its items). */
static void read_value(service_reader *r, xmlNode *node, const pl_element *f, int depth)
{
    if (r->fault || is_nil(node))
        return;
    if (f->kind == PL_KIND_COMPLEX) {
        const pl_type *t = pl_element_complex(f);
        if (t)
            read_complex(r, node, t, depth + 1);
        return;
    }
    if (f->kind == PL_KIND_STRING || f->kind == PL_KIND_BASE64 || f->kind == PL_KIND_ANY)
        return;
    xmlChar *content = xmlNodeGetContent(node);
    const char *text = content ? (const char *)content : "";
    char shown[96];
    shorten(text, shown, sizeof shown);
    switch (f->kind) {
    case PL_KIND_ENUM: {
        const pl_enum *en = pl_element_enum(f);
        if (en && !pl_enum_has(en, text))
            reader_fault(r, node, "Instance validation error: '%s' is not a valid value for %s.",
                         shown, en->name);
        break;
    }
    case PL_KIND_INT:
    case PL_KIND_LONG:
    case PL_KIND_SHORT:
    case PL_KIND_BYTE: {
        static const struct { long long min, max; const char *name; } ranges[] = {
            [PL_KIND_INT] = {INT32_MIN, INT32_MAX, "Int32"},
            [PL_KIND_LONG] = {INT64_MIN, INT64_MAX, "Int64"},
            [PL_KIND_SHORT] = {INT16_MIN, INT16_MAX, "Int16"},
            [PL_KIND_BYTE] = {INT8_MIN, INT8_MAX, "SByte"},
        };
        int ok = integer_in(text, ranges[f->kind].min, ranges[f->kind].max);
        if (ok < 0)
            reader_fault(r, node, "Input string was not in a correct format. ('%s' is not a "
                         "whole number)", shown);
        else if (ok == 0)
            reader_fault(r, node, "Value was either too large or too small for an %s. ('%s')",
                         ranges[f->kind].name, shown);
        break;
    }
    case PL_KIND_DOUBLE:
        if (!is_double(text))
            reader_fault(r, node, "Input string was not in a correct format. ('%s' is not a "
                         "number)", shown);
        break;
    case PL_KIND_BOOLEAN: {
        size_t n;
        const char *s = trimmed(text, &n);
        if (!((n == 4 && !memcmp(s, "true", 4)) || (n == 5 && !memcmp(s, "false", 5)) ||
              (n == 1 && (*s == '0' || *s == '1'))))
            reader_fault(r, node, "The string '%s' is not a valid Boolean value.", shown);
        break;
    }
    case PL_KIND_DATETIME:
    case PL_KIND_DATE:
    case PL_KIND_TIME:
        if (!is_date_value(text, f->kind))
            reader_fault(r, node, "The string '%s' is not a valid AllXsd value.", shown);
        break;
    default:
        break;
    }
    xmlFree(content);
}

/* The type the service makes for `node`, declared as `declared`: its xsi:type when it has one.
 * NULL after a refusal. */
static const pl_type *actual_type(service_reader *r, xmlNode *node, const pl_type *declared)
{
    xmlChar *qname = xmlGetNsProp(node, BAD_CAST "type", BAD_CAST PL_XSI_NS);
    const pl_type *t = declared;
    if (qname) {
        const char *q = (const char *)qname;
        const char *colon = strchr(q, ':');
        const char *local = colon ? colon + 1 : q;
        xmlChar *prefix = colon ? xmlStrndup(qname, (int)(colon - q)) : NULL;
        xmlNs *ns = xmlSearchNs(node->doc, node, prefix);
        const char *href = ns ? (const char *)ns->href : "";
        t = strcmp(href, PL_PARTNER_NS) == 0 ? pl_schema_type(local) : NULL;
        if (!t || !pl_type_derives_from(t, declared)) {
            char shown[96];
            shorten(local, shown, sizeof shown);
            reader_fault(r, node, "The specified type was not recognized: name='%s', "
                         "namespace='%.200s', at <%s xmlns='%.200s'>.", shown, href,
                         (const char *)node->name, node->ns ? (const char *)node->ns->href : "");
            t = NULL;
        }
        xmlFree(prefix);
        xmlFree(qname);
    } else if (declared->is_abstract) {
        reader_fault(r, node, "The specified type is abstract: name='%s', namespace='%s', at "
                     "<%s xmlns='%.200s'>.", declared->name, PL_PARTNER_NS,
                     (const char *)node->name, node->ns ? (const char *)node->ns->href : "");
        t = NULL;
    }
    return t;
}

/* The fields are read in any order (the service does: sfmc-sdk's RetrieveRequest puts Options
 * before Filter and ContinueRequest last, and its paging works against production); an
 * element of no field is skipped, and so is a second one of a field that holds one value. */
static void read_complex(service_reader *r, xmlNode *node, const pl_type *declared, int depth)
{
    if (r->fault || depth > MAX_READ_DEPTH)
        return;
    const pl_type *t = actual_type(r, node, declared);
    if (!t)
        return;
    const pl_element *fields[MAX_FIELDS];
    bool seen[MAX_FIELDS] = {false};
    int n = pl_type_fields(t, fields, MAX_FIELDS);
    if (n > MAX_FIELDS)
        n = MAX_FIELDS;
    bool any = false;
    for (int j = 0; j < n; j++)
        any |= strcmp(fields[j]->name, "##any") == 0;
    for (xmlNode *c = node->children, *next; c && !r->fault; c = next) {
        next = c->next;
        if (c->type != XML_ELEMENT_NODE)
            continue;
        int found = -1;
        for (int j = 0; j < n && found < 0; j++)
            if (in_partner_ns(c) && xmlStrEqual(c->name, BAD_CAST fields[j]->name))
                found = j;
        if (found < 0) {
            if (!any) /* an <any/> takes whatever comes, kept as found */
                reader_drop(r, c, "unknown element");
            continue;
        }
        const pl_element *f = fields[found];
        bool single = f->max_occurs == 1 || f->item_name;
        if (single && seen[found]) {
            reader_drop(r, c, "repeated: the first one is read");
            continue;
        }
        seen[found] = true;
        if (!f->item_name) {
            read_value(r, c, f, depth);
            continue;
        }
        for (xmlNode *item = c->children, *inext; item && !r->fault; item = inext) {
            inext = item->next;
            if (item->type != XML_ELEMENT_NODE)
                continue;
            if (!in_partner_ns(item) || !xmlStrEqual(item->name, BAD_CAST f->item_name))
                reader_drop(r, item, "unknown element");
            else
                read_value(r, item, f, depth);
        }
    }
}

int pl_xsd_read_like_service(const char *xml, size_t len, pl_service_read *out)
{
    memset(out, 0, sizeof *out);
    char why[512];
    if (!pl_libxml_load(why, sizeof why)) {
        out->fault = format("the sandbox cannot read requests: %s", why);
        return out->fault ? 0 : -1;
    }
    if (len > MAX_MESSAGE_BYTES || len > (size_t)INT32_MAX) {
        out->fault = format("the message is %zu bytes, more than the %u the sandbox reads", len,
                            MAX_MESSAGE_BYTES);
        return out->fault ? 0 : -1;
    }
    collector c = {0};
    c.prefix = "XML is not well-formed: ";
    xmlDoc *doc = parse_quietly(xml, len, NULL, &c);
    if (!doc) {
        out->fault = c.dtd ? format("the message has a DTD, which SOAP does not allow")
                           : finish(&c, "XML is not well-formed");
        if (c.dtd)
            pl_buffer_free(&c.text);
        return out->fault ? 0 : -1;
    }
    pl_buffer_free(&c.text);

    /* the message: the first element of the Envelope's Body, wherever the Header is */
    xmlNode *root = xmlDocGetRootElement(doc), *element = root;
    if (is_named(root, PL_SOAP_ENV_NS, "Envelope")) {
        xmlNode *body = first_child(root, PL_SOAP_ENV_NS, "Body");
        element = NULL;
        for (xmlNode *n = body ? body->children : NULL; n && !element; n = n->next)
            if (n->type == XML_ELEMENT_NODE)
                element = n;
    }
    const pl_global_element *g =
        element && in_partner_ns(element) ? pl_schema_global((const char *)element->name) : NULL;
    service_reader r = {0};
    r.root = element;
    if (g && g->type)
        read_complex(&r, element, g->type, 0);
    else if (element && !g) /* as XmlSerializer words a root it does not expect */
        reader_fault(&r, element, "<%.200s xmlns='%.200s'> was not expected.",
                     (const char *)element->name, element->ns ? (const char *)element->ns->href : "");
    int rc = 1;
    if (r.out_of_memory || r.dropped.failed) {
        rc = -1;
    } else if (r.fault) {
        out->fault = r.fault;
        r.fault = NULL;
        rc = 0;
    } else if (r.n_dropped) {
        out->dropped = pl_buffer_take(&r.dropped);
        xmlChar *kept = NULL;
        int kept_len = 0;
        xmlDocDumpMemoryEnc(doc, &kept, &kept_len, "UTF-8");
        if (!kept || !out->dropped) {
            rc = -1;
        } else {
            out->kept = malloc((size_t)kept_len + 1);
            if (out->kept) {
                memcpy(out->kept, kept, (size_t)kept_len + 1);
                out->kept_len = (size_t)kept_len;
            } else {
                rc = -1;
            }
        }
        xmlFree(kept);
    }
    free(r.fault);
    pl_buffer_free(&r.dropped);
    xmlFreeDoc(doc);
    if (rc < 0)
        pl_service_read_free(out);
    return rc;
}

void pl_service_read_free(pl_service_read *r)
{
    free(r->fault);
    free(r->dropped);
    free(r->kept);
    memset(r, 0, sizeof *r);
}
