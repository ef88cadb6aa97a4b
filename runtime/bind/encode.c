/* Lua tables -> SOAP envelopes: core.encode, core.encode_message, core.encode_fault.
 *
 * The walker follows the schema, not the table: fields go out in schema order (base type
 * first) whatever order the table has, every key must be a field, every value passes the
 * same checks as the constructors (objects.c), and xsi:type is written wherever the value's
 * type differs from the declared one. The document is written by codec/xml_writer.h into a
 * buffer owned by a to-be-closed userdata, so a usage error raised halfway frees it.
 *
 * Objects whose type the model does not know (decoded from a response, or marked with
 * core.object_metatable("AsyncActivityStatus") by the sandbox) are still written, with
 * xsi:type set to the object's type name: first the fields the declared type knows, typed
 * and in schema order (in an APIObject slot, those of ObjectExtension: APIObject + Type +
 * Properties/Property name-value pairs, the shape the service gives such types), then the
 * remaining keys in sorted order as plain elements (tables nest, arrays repeat). The
 * decoder reads them back the same way. */
#include <lauxlib.h>
#include <string.h>

#include "bind/errors.h"
#include "bind/codec.h"
#include "bind/objects.h"
#include "bind/scope.h"
#include "codec/soap.h"
#include "codec/value.h"

#define WRITER_METATABLE "performlua.xmlwriter"
#define MAX_FIELDS 256
#define MAX_DEPTH PL_CHECK_MAX_DEPTH

typedef struct encoder {
    pl_check c;
    pl_xml_out *out;
    int depth;
    /* Decoded objects may carry elements the schema lacks (the service's responses have
     * them, e.g. IsPlatformObject). Writing a response, they are written after the
     * schema's fields. In a request they are left out (see pl_object_mark_response_extras):
     * a retrieved object must be usable in Perform or Update as it is, and the request
     * schema has no place for them. Any other undeclared field is refused. */
    bool keep_extra_fields;
    /* The request message being written (NULL for responses): its required flags default
     * to false when absent (VersionInfoRequestMsg.IncludeVersionHistory). */
    const pl_type *request_message;
} encoder;

static const pl_element string_element = {.name = "value", .type_name = "string",
                                          .kind = PL_KIND_STRING, .max_occurs = 1};

/* ---- the writer's owner ---- */

static int writer_close(lua_State *L)
{
    pl_xml_out *out = luaL_checkudata(L, 1, WRITER_METATABLE);
    pl_xml_close(out);
    return 0;
}

/* Pushes a to-be-closed userdata owning a fresh writer. */
static pl_xml_out *push_writer(lua_State *L)
{
    pl_xml_out *out = pl_push_scoped_userdata(L, sizeof *out, WRITER_METATABLE, writer_close);
    pl_xml_open(out);
    return out;
}

/* Pushes the finished document as a string (the writer's owner frees it on return). */
static void push_document(lua_State *L, pl_xml_out *out)
{
    size_t len;
    const char *xml = pl_xml_finish(out, &len);
    if (!xml && out->error[0])
        luaL_error(L, "the XML writer refused %s", out->error);
    if (!xml)
        luaL_error(L, "not enough memory for the XML document");
    pl_codec_push_large(L, xml, len);
}

#define LARGE_STRING (1024 * 1024)

static int push_large_protected(lua_State *L)
{
    lua_pushlstring(L, lua_touserdata(L, 1), (size_t)lua_tointeger(L, 2));
    return 1;
}

void pl_codec_push_large(lua_State *L, const char *s, size_t len)
{
    if (len < LARGE_STRING || !lua_gc(L, LUA_GCISRUNNING)) {
        lua_pushlstring(L, s, len);
        return;
    }
    lua_gc(L, LUA_GCSTOP);
    /* a memory error raised here leaves the collector stopped: restart it on the way out */
    lua_pushcfunction(L, push_large_protected);
    lua_pushlightuserdata(L, (void *)s);
    lua_pushinteger(L, (lua_Integer)len);
    int status = lua_pcall(L, 2, 1, 0);
    lua_gc(L, LUA_GCRESTART);
    if (status != LUA_OK)
        lua_error(L);
}

/* ---- values ---- */

/* Writes <name>text</name> for the normalised simple value on the top of the stack (popped). */
static void write_simple_top(encoder *x, const char *name)
{
    lua_State *L = x->c.L;
    char buf[48];
    const char *text;
    switch (lua_type(L, -1)) {
    case LUA_TBOOLEAN:
        text = lua_toboolean(L, -1) ? "true" : "false";
        break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, -1))
            snprintf(buf, sizeof buf, "%lld", (long long)lua_tointeger(L, -1));
        else
            pl_value_format_double(lua_tonumber(L, -1), buf, sizeof buf);
        text = buf;
        break;
    default:
        text = lua_tostring(L, -1);
        break;
    }
    pl_xml_element(x->out, name, text ? text : "");
    lua_pop(L, 1);
}

static void write_complex(encoder *x, const char *name, const pl_type *declared, int idx,
                          const char *xmlns);
static void write_generic_value(encoder *x, const char *name, int idx);

static void enter(encoder *x)
{
    if (++x->depth > MAX_DEPTH)
        pl_check_fail(&x->c, "nesting deeper than %d (does a table contain itself?)", MAX_DEPTH);
    luaL_checkstack(x->c.L, 10, "encoding");
}

/* One occurrence of element e (an item when e repeats). */
static void write_item(encoder *x, const char *name, const pl_element *e, int idx)
{
    const pl_type *declared = pl_element_complex(e);
    if (declared) {
        write_complex(x, name, declared, idx, NULL);
    } else if (e->kind == PL_KIND_COMPLEX) {
        write_generic_value(x, name, idx);
    } else {
        pl_check_simple(&x->c, e, idx);
        write_simple_top(x, name);
    }
}

static void write_field(encoder *x, const pl_element *e, int idx)
{
    lua_State *L = x->c.L;
    idx = lua_absindex(L, idx);
    if (!pl_element_is_repeated(e)) {
        write_item(x, e->name, e, idx);
        return;
    }
    bool array = pl_is_array(L, idx);
    lua_Integer n = array ? (lua_Integer)lua_rawlen(L, idx) : 1;
    if (n == 0)
        return;
    if (e->item_name)
        pl_xml_start(x->out, e->name);
    const char *item = e->item_name ? e->item_name : e->name;
    for (lua_Integer i = 1; i <= n; i++) {
        if (!array) {
            write_item(x, item, e, idx);
            break;
        }
        size_t saved = pl_check_push(&x->c, NULL, (long long)i);
        lua_rawgeti(L, idx, i);
        write_item(x, item, e, -1);
        lua_pop(L, 1);
        pl_check_pop(&x->c, saved);
        if (i % PL_ENCODE_SAFE_POINT == 0)
            pl_codec_hook(L); /* between whole items: a big answer lets small ones through */
    }
    if (e->item_name)
        pl_xml_end(x->out);
}

/* Writes the fields of t found in the table, in schema order; a name declared twice (a
 * subtype redeclaring a base field) is written once, at its first position. */
/* A required, single Options element (all of whose own fields are optional). */
static bool required_options(const pl_element *e)
{
    /* the cheap tests first: most fields are optional, and the lookups cost a binary search */
    if (e->min_occurs < 1 || e->max_occurs != 1 || e->item_name || e->kind != PL_KIND_COMPLEX)
        return false;
    const pl_type *options = pl_schema_type("Options");
    const pl_type *t = pl_element_complex(e);
    return t && options && !t->is_abstract && pl_type_derives_from(t, options);
}

/* A required xsd:boolean; absent from a request message, it is sent as false. */
static bool required_flag(const pl_element *e)
{
    return e->kind == PL_KIND_BOOLEAN && e->min_occurs >= 1 && e->max_occurs == 1;
}

/* A request message without a field the service requires (RetrieveRequestMsg without its
 * RetrieveRequest, CreateRequest without Objects) would be refused by the service as an
 * invalid message; say so here, naming the field. Options and flags have defaults. */
static void check_required_fields(pl_check *c, const char *element, const pl_type *t, int tbl)
{
    lua_State *L = c->L;
    const pl_element *fields[MAX_FIELDS];
    int n = pl_type_fields(t, fields, MAX_FIELDS);
    for (int i = 0; i < n && i < MAX_FIELDS; i++) {
        const pl_element *e = fields[i];
        if (e->min_occurs < 1 || e->choice || required_options(e) || required_flag(e))
            continue;
        int top = lua_gettop(L);
        int type = lua_getfield(L, tbl, e->name);
        bool empty = false;
        if (type == LUA_TTABLE && pl_element_is_repeated(e) && !pl_object_type(L, -1, NULL)) {
            lua_pushnil(L);
            empty = lua_next(L, -2) == 0;
        }
        lua_settop(L, top);
        if (type == LUA_TNIL)
            pl_check_fail(c, "%s needs %s: the service refuses the message without it", element,
                          e->name);
        if (empty)
            pl_check_fail(c, "%s.%s is empty: give at least one %s", element, e->name,
                          e->item_name ? e->item_name : "object");
    }
}

/* Pushes the names of t's wire fields as an array of Lua strings, made once per state and
 * type. Looking a field up by its C name hashes the name and searches the interned strings
 * (about 300 instructions); a type is written field by field whatever the table holds, so an
 * ImportDefinition whose script set one field looked 46 names up, a fifth of encoding a
 * Perform. */
static const char field_names_key = 0; /* its address keys the cache in the registry */

static int push_field_names(lua_State *L, const pl_type *t, const pl_element *const *fields,
                            int n)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &field_names_key) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &field_names_key);
    }
    if (lua_rawgetp(L, -1, t) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_createtable(L, n, 0);
        for (int i = 0; i < n; i++) {
            lua_pushstring(L, fields[i]->name);
            lua_rawseti(L, -2, i + 1);
        }
        lua_pushvalue(L, -1);
        lua_rawsetp(L, -3, t);
    }
    lua_remove(L, -2);
    return lua_gettop(L);
}

static void write_fields(encoder *x, const pl_type *t, int idx)
{
    lua_State *L = x->c.L;
    const pl_element *buf[MAX_FIELDS];
    const pl_element *const *fields;
    int n = pl_type_wire_fields(t, &fields, buf, MAX_FIELDS);
    if (n > MAX_FIELDS) /* never silently drop a field: the model grew past this bound */
        luaL_error(L, "type %s has %d fields, more than the encoder's %d", t->name, n, MAX_FIELDS);
    int names = push_field_names(L, t, fields, n);
    for (int i = 0; i < n; i++) {
        lua_rawgeti(L, names, i + 1);
        if (lua_rawget(L, idx) != LUA_TNIL) {
            size_t saved = pl_check_push(&x->c, fields[i]->name, 0);
            write_field(x, fields[i], -1);
            pl_check_pop(&x->c, saved);
        } else if (!x->keep_extra_fields && required_options(fields[i])) {
            /* CreateRequest, UpdateRequest, DeleteRequest and ExtractRequest require their
             * Options element; absent options mean the defaults, which <Options/> says. */
            pl_xml_start(x->out, fields[i]->name);
            pl_xml_end(x->out);
        } else if (t == x->request_message && required_flag(fields[i])) {
            pl_xml_element(x->out, fields[i]->name, "false");
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1); /* the names */
}

/* Sorted array of the table's string keys that t (may be NULL) does not declare. */
static void push_extra_keys(lua_State *L, const pl_type *t, int idx)
{
    lua_newtable(L);
    int keys = lua_gettop(L);
    lua_Integer n = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING && !(t && pl_type_field(t, lua_tostring(L, -1)))) {
            lua_pushvalue(L, -1);
            lua_rawseti(L, keys, ++n);
        }
    }
    /* Insertion sort: these tables have a handful of keys. */
    for (lua_Integer i = 2; i <= n; i++) {
        lua_rawgeti(L, keys, i);
        lua_Integer j = i - 1;
        for (; j >= 1; j--) {
            lua_rawgeti(L, keys, j);
            if (!lua_compare(L, -2, -1, LUA_OPLT)) {
                lua_pop(L, 1);
                break;
            }
            lua_rawseti(L, keys, j + 1);
        }
        lua_rawseti(L, keys, j + 1);
    }
}

/* The table's string keys that t (may be NULL) does not declare, in sorted order, as plain
 * elements. */
static void write_extra_fields(encoder *x, const pl_type *t, int idx)
{
    lua_State *L = x->c.L;
    push_extra_keys(L, t, idx);
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i); /* the key: its string stays alive in the keys array */
        const char *key = lua_tostring(L, -1);
        lua_rawget(L, idx);
        size_t saved = pl_check_push(&x->c, key, 0);
        write_generic_value(x, key, -1);
        lua_pop(L, 1);
        pl_check_pop(&x->c, saved);
    }
    lua_pop(L, 1);
}

/* An object of a type the model does not know (see the file comment). */
static void write_generic_object(encoder *x, const char *name, const char *type,
                                 const pl_type *declared, int idx)
{
    enter(x);
    pl_xml_start(x->out, name);
    if (type)
        pl_xml_attribute(x->out, "xsi:type", type);
    if (declared)
        write_fields(x, declared, idx);
    write_extra_fields(x, declared, idx);
    pl_xml_end(x->out);
    x->depth--;
}

/* Any value where the model says nothing: text, nested tables, repeated arrays. */
static void write_generic_value(encoder *x, const char *name, int idx)
{
    lua_State *L = x->c.L;
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) != LUA_TTABLE) {
        pl_check_simple(&x->c, &string_element, idx);
        write_simple_top(x, name);
        return;
    }
    const pl_type *known;
    const char *type = pl_object_type(L, idx, &known);
    if (known) {
        write_complex(x, name, known, idx, NULL);
    } else if (type) {
        write_generic_object(x, name, type, NULL, idx);
    } else if (pl_is_array(L, idx)) {
        enter(x);
        lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
        for (lua_Integer i = 1; i <= n; i++) {
            size_t saved = pl_check_push(&x->c, NULL, (long long)i);
            lua_rawgeti(L, idx, i);
            write_generic_value(x, name, -1);
            lua_pop(L, 1);
            pl_check_pop(&x->c, saved);
        }
        x->depth--;
    } else {
        write_generic_object(x, name, NULL, NULL, idx);
    }
}

static void write_complex(encoder *x, const char *name, const pl_type *declared, int idx,
                          const char *xmlns)
{
    lua_State *L = x->c.L;
    idx = lua_absindex(L, idx);
    const char *a_declared = pl_check_article(declared->name);
    if (lua_type(L, idx) != LUA_TTABLE)
        pl_check_fail_value(&x->c, "%s must be a table or %s %s object, got %s", x->c.path,
                            a_declared, declared->name, luaL_typename(L, idx));
    const pl_type *known;
    const char *type = pl_object_type(L, idx, &known);
    const pl_type *actual;
    if (type) {
        bool fits = known ? pl_type_derives_from(known, declared)
                          : declared == pl_schema_type("APIObject");
        if (!fits)
            pl_check_fail_value(&x->c, "%s must be %s %s object (or a subtype), got %s %s object",
                                x->c.path, a_declared, declared->name, pl_check_article(type), type);
        if (!known) {
            write_generic_object(x, name, type, pl_object_unknown_type_fields(declared), idx);
            return;
        }
        actual = known;
    } else {
        lua_Integer first = lua_rawgeti(L, idx, 1);
        lua_pop(L, 1);
        if (first != LUA_TNIL)
            pl_check_fail_value(&x->c, "%s takes one %s, got an array", x->c.path, declared->name);
        actual = pl_check_infer_type(&x->c, declared, idx);
    }
    enter(x);
    bool extras = x->keep_extra_fields && type;
    if (!extras && !(type && pl_object_has_response_extras(L, idx)))
        pl_check_keys(&x->c, actual, idx);
    pl_xml_start(x->out, name);
    if (xmlns)
        pl_xml_attribute(x->out, "xmlns", xmlns);
    if (actual != declared)
        pl_xml_attribute(x->out, "xsi:type", actual->name);
    write_fields(x, actual, idx);
    if (extras)
        write_extra_fields(x, actual, idx);
    pl_xml_end(x->out);
    x->depth--;
}

/* ---- options ---- */

/* tbl[key] as a checked string, or NULL. The pointer stays valid while tbl holds it. */
static const char *opt_string(pl_check *c, int tbl, const char *key)
{
    lua_State *L = c->L;
    if (lua_getfield(L, tbl, key) == LUA_TNIL) {
        lua_pop(L, 1);
        return NULL;
    }
    size_t saved = pl_check_push(c, key, 0);
    if (lua_type(L, -1) != LUA_TSTRING)
        pl_check_fail(c, "%s must be a string, got %s", c->path, luaL_typename(L, -1));
    pl_check_simple(c, &string_element, -1);
    pl_check_pop(c, saved);
    const char *s = lua_tostring(L, -2);
    lua_pop(L, 2);
    return s;
}

static void only_keys(pl_check *c, int tbl, const char *what, const char *const *allowed,
                      const char *expected)
{
    lua_State *L = c->L;
    lua_pushnil(L);
    while (lua_next(L, tbl)) {
        lua_pop(L, 1);
        bool ok = false;
        for (int i = 0; allowed[i] && !ok; i++)
            ok = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), allowed[i]) == 0;
        if (!ok) {
            lua_pushvalue(L, -1);
            pl_check_fail(c, "%s has no field '%s' (expected %s)", what,
                          luaL_tolstring(L, -1, NULL), expected);
        }
    }
}

/* Reads opts.header and opts.response_headers into h. The strings stay referenced by opts. */
static void read_header_options(lua_State *L, int opts, const char *element, pl_soap_header *h,
                                char *action_buf, size_t action_cap)
{
    memset(h, 0, sizeof *h);
    if (lua_isnoneornil(L, opts))
        return;
    pl_check c;
    pl_check_init(&c, L, 0, NULL);
    if (lua_type(L, opts) != LUA_TTABLE)
        pl_check_fail(&c, "opts must be a table, got %s", luaL_typename(L, opts));
    static const char *const opt_keys[] = {"header", "response_headers", NULL};
    only_keys(&c, opts, "opts", opt_keys, "header or response_headers");
    if (lua_getfield(L, opts, "header") != LUA_TNIL) {
        int header = lua_gettop(L);
        pl_check_init(&c, L, 0, NULL);
        if (!lua_istable(L, header))
            pl_check_fail(&c, "opts.header must be a table, got %s", luaL_typename(L, header));
        static const char *const keys[] = {"fueloauth", "username", "password", NULL};
        only_keys(&c, header, "opts.header", keys, "fueloauth, or username and password");
        h->fueloauth = opt_string(&c, header, "fueloauth");
        h->username = opt_string(&c, header, "username");
        h->password = opt_string(&c, header, "password");
        if ((h->username == NULL) != (h->password == NULL))
            pl_check_fail(&c, "opts.header needs both username and password");
    }
    lua_pop(L, 1);
    if (lua_getfield(L, opts, "response_headers") != LUA_TNIL) {
        int rh = lua_gettop(L);
        pl_check_init(&c, L, 0, NULL);
        if (!lua_istable(L, rh))
            pl_check_fail(&c, "opts.response_headers must be a table, got %s",
                          luaL_typename(L, rh));
        static const char *const keys[] = {"action", "message_id", "relates_to", "created", NULL};
        only_keys(&c, rh, "opts.response_headers", keys,
                  "action, message_id, relates_to or created");
        h->response = true;
        h->action = opt_string(&c, rh, "action");
        h->message_id = opt_string(&c, rh, "message_id");
        h->relates_to = opt_string(&c, rh, "relates_to");
        if (lua_getfield(L, rh, "created") != LUA_TNIL) {
            if (!lua_isnumber(L, -1))
                pl_check_fail(&c, "opts.response_headers.created must be an os.time() number");
            h->created = lua_tonumber(L, -1);
            h->has_created = true;
        }
        lua_pop(L, 1);
        if (!h->action && strcmp(element, "Fault") == 0) {
            h->action = "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault";
        } else if (!h->action) {
            const pl_operation *op = pl_operation_for_element(element);
            if (op) {
                snprintf(action_buf, action_cap, "%sResponse", op->name);
                h->action = action_buf;
            }
        }
    }
    lua_pop(L, 1);
}

/* ---- Lua functions ---- */

/* The names of the global elements, for suggestions (computed per call: the sandbox encodes
 * from another thread, so no shared cache). */
static int global_names(const char **names, int cap)
{
    int total = pl_schema_global_count(), k = 0;
    for (int i = 0; i < total && k < cap; i++)
        names[k++] = pl_schema_global_at(i)->name;
    return k;
}

static int encode_element(lua_State *L, const char *element, int tbl, int opts)
{
    pl_check c;
    pl_check_init(&c, L, 0, element);
    const pl_global_element *g = pl_schema_global(element);
    if (!g || !g->type) {
        const char *names[128];
        int nearest[3];
        int n = global_names(names, 128);
        int found = pl_value_suggest(element, names, n, nearest, 1);
        if (found)
            pl_check_fail(&c, "unknown message element '%s' (did you mean '%s'?)", element,
                          names[nearest[0]]);
        pl_check_fail(&c, "unknown message element '%s'", element);
    }
    if (lua_isnoneornil(L, tbl)) {
        lua_newtable(L);
        lua_replace(L, tbl);
    }
    if (lua_type(L, tbl) != LUA_TTABLE)
        pl_check_fail(&c, "the %s message must be a table, got %s", element,
                      luaL_typename(L, tbl));
    const pl_type *given;
    const char *given_name = pl_object_type(L, tbl, &given);
    if (given_name && given != g->type) {
        /* An object passed where its enclosing message belongs: name the field it goes in. */
        const pl_element *fields[64];
        int n = pl_type_fields(g->type, fields, 64);
        for (int i = 0; i < n && i < 64 && given; i++) {
            const pl_type *slot = pl_element_complex(fields[i]);
            if (slot && pl_type_derives_from(given, slot))
                pl_check_fail(&c, "the %s message is a table of its fields: put the %s object in "
                                  "its field, {%s = %s}",
                              element, given_name, fields[i]->name,
                              pl_element_is_repeated(fields[i]) ? "{obj}" : "obj");
        }
    }
    pl_soap_header header;
    char action[64];
    read_header_options(L, opts, element, &header, action, sizeof action);

    const pl_operation *op = pl_operation_for_element(element);
    bool request = op && strcmp(op->request_element, element) == 0 && !header.response;
    if (request)
        check_required_fields(&c, element, g->type, tbl);
    encoder x = {.c = c, .depth = 0,
                 .keep_extra_fields = header.response ||
                                      (op && strcmp(op->response_element, element) == 0),
                 .request_message = request ? g->type : NULL};
    x.out = push_writer(L);
    pl_soap_begin(x.out, &header);
    write_complex(&x, element, g->type, tbl, PL_PARTNER_NS);
    pl_soap_end(x.out);
    push_document(L, x.out);
    return 1;
}

/* core.encode(operation, request, opts) -> envelope */
int pl_l_encode(lua_State *L)
{
    const char *name = lua_tostring(L, 1);
    lua_settop(L, 3);
    const pl_operation *op = lua_type(L, 1) == LUA_TSTRING ? pl_operation_find(name) : NULL;
    if (!op) {
        const char *names[16];
        for (int i = 0; i < pl_operation_count; i++)
            names[i] = pl_operations[i].name;
        int nearest[1];
        int found = name ? pl_value_suggest(name, names, pl_operation_count, nearest, 1) : 0;
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        for (int i = 0; i < pl_operation_count; i++) {
            if (i)
                luaL_addstring(&b, ", ");
            luaL_addstring(&b, names[i]);
        }
        luaL_pushresult(&b);
        pl_check c;
        pl_check_init(&c, L, 0, NULL);
        if (found)
            pl_check_fail(&c, "unknown operation '%s' (did you mean '%s'?); the operations are %s",
                          name, names[nearest[0]], lua_tostring(L, -1));
        pl_check_fail(&c, "unknown operation %s%s%s; the operations are %s", name ? "'" : "",
                      name ? name : luaL_typename(L, 1), name ? "'" : "", lua_tostring(L, -1));
    }
    return encode_element(L, op->request_element, 2, 3);
}

/* core.encode_message(element_name, tbl, opts) -> envelope */
int pl_l_encode_message(lua_State *L)
{
    const char *element = luaL_checkstring(L, 1);
    lua_settop(L, 3);
    return encode_element(L, element, 2, 3);
}

/* core.encode_fault{faultcode=, faultstring=, faultactor=, code=, message=, response_headers=} */
int pl_l_encode_fault(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    pl_check c;
    pl_check_init(&c, L, 0, NULL);
    static const char *const keys[] = {"faultcode", "faultstring", "faultactor", "code",
                                       "message", "response_headers", NULL};
    only_keys(&c, 1, "fault", keys,
              "faultcode, faultstring, faultactor, code, message or response_headers");
    pl_soap_fault f = {0};
    f.faultcode = opt_string(&c, 1, "faultcode");
    f.faultstring = opt_string(&c, 1, "faultstring");
    f.faultactor = opt_string(&c, 1, "faultactor");
    f.message = opt_string(&c, 1, "message");
    if (lua_getfield(L, 1, "code") != LUA_TNIL) {
        int ok;
        lua_Integer code = lua_tointegerx(L, -1, &ok);
        if (!ok)
            pl_check_fail(&c, "fault.code must be an integer, got %s", luaL_typename(L, -1));
        f.has_code = true;
        f.code = (long long)code;
    }
    lua_pop(L, 1);
    /* Faults carry the same WS-Addressing headers as other responses when asked for. */
    lua_createtable(L, 0, 1);
    int opts = lua_gettop(L);
    if (lua_getfield(L, 1, "response_headers") != LUA_TNIL)
        lua_setfield(L, opts, "response_headers");
    else
        lua_pop(L, 1);
    pl_soap_header header;
    char action[8];
    read_header_options(L, opts, "Fault", &header, action, sizeof action);
    pl_xml_out *out = push_writer(L);
    pl_soap_begin(out, &header);
    pl_soap_write_fault(out, &f);
    pl_soap_end(out);
    push_document(L, out);
    return 1;
}
