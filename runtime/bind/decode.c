/* SOAP envelopes -> Lua tables: core.decode(xml) -> body, element_name, header.
 *
 * One pass of libxml2's pull reader (no DOM). Each open element is a frame; an element the
 * schema declares complex (or that carries xsi:type) becomes a table as soon as it starts
 * and is stored into its parent at once, so the Lua stack holds exactly the chain of open
 * tables. Leaves collect their text and are typed by the schema when they end. An element
 * the schema does not know starts as a leaf and turns into a table if a child appears.
 *
 *   - values typed by the schema: int/long/short/byte -> integer, double -> number,
 *     boolean -> boolean, everything else a string (text that does not parse as its declared
 *     type is kept as the string the service sent rather than refused);
 *   - whatever the schema lets repeat is an array even with one item; wrappers
 *     (Definitions/Definition, Results/Result, ...) are plain arrays of their items;
 *   - xsi:type is resolved by local name (prefixed or not); typed tables get the type's
 *     metatable (objects.c), unknown types a permissive one that still reports the type
 *     and whose fields are read with the declared type's knowledge;
 *   - elements are matched by local name, so qualified and unqualified responses decode
 *     alike; unknown elements are kept (leaf -> string, with children -> table, repeated ->
 *     array);
 *   - a soap:Fault raises kind "fault"; anything that is not a SOAP envelope raises kind
 *     "xml". An empty answer, an HTML page, text or a DOCTYPE are refused before the reader
 *     parses anything (codec/precheck.c: libxml2 itself first reads the prolog, in whatever
 *     encoding it detects or is told, and stops at a DOCTYPE before its DTD, so no DTD,
 *     entity or external resource is ever processed), the parser never touches the network,
 *     and nesting is bounded.
 * The reader and the text buffer belong to a to-be-closed userdata: an error raised at any
 * point (including out-of-memory in Lua) frees them. No Lua call happens inside a libxml2
 * callback: the error handlers only copy the message into the decoder, and every message
 * libxml2 has (structured or generic) goes to them while decoding, so nothing is printed. */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <libxml/xmlreader.h>

#include "bind/codec.h"
#include "bind/errors.h"
#include "bind/objects.h"
#include "bind/scope.h"
#include "codec/precheck.h"
#include "codec/value.h"
#include "schema/schema.h"
#include "util/buffer.h"

#define DECODER_METATABLE "performlua.xmlreader"
#define FIELD_CACHE_SIZE 512

typedef enum frame_kind {
    F_SKIP,        /* ignored subtree */
    F_ENVELOPE,
    F_HEADER,      /* soap:Header and everything below it */
    F_BODY,
    F_FAULT,       /* soap:Fault and everything below it */
    F_OBJECT,      /* a table on the Lua stack */
    F_ARRAY,       /* a wrapper's array on the Lua stack */
    F_LEAF         /* collecting text; may become F_OBJECT when a child appears */
} frame_kind;

typedef struct frame {
    frame_kind kind;
    const pl_type *type;        /* F_OBJECT: type whose fields name the children (NULL: none) */
    const pl_element *decl;     /* declaration in the parent (F_ARRAY: the wrapper's) */
    const char *name;           /* local name, interned by the reader's dictionary */
    int slot;                   /* F_OBJECT/F_ARRAY: stack index of the table */
    lua_Integer count;          /* F_ARRAY: items so far */
    bool pass;                  /* F_OBJECT: a redundant wrapper sharing its parent's table */
} frame;

typedef struct field_cache_entry {
    const pl_type *type;
    const char *name;
    const pl_element *decl;
} field_cache_entry;

typedef struct decoder {
    xmlTextReaderPtr reader;
    pl_buffer text;             /* the current leaf's (or header or fault entry's) text */
    pl_xml_error error;         /* the parser's first error */
    /* libxml2's per-thread handlers, replaced while decoding so nothing is ever printed */
    bool handler_set;
    pl_xml_handlers saved_handlers;
    frame frames[PL_DECODE_MAX_DEPTH + 2];
    int depth;
    field_cache_entry cache[FIELD_CACHE_SIZE];
} decoder;

/* Fixed stack slots (relative to the decoder's base). */
enum { SLOT_HEADER = 1, SLOT_BODY, SLOT_ELEMENT, SLOT_FAULT, SLOT_TYPES, SLOT_COUNT = SLOT_TYPES };

/* ---- ownership ---- */

static void decoder_release(decoder *d)
{
    if (d->handler_set) {
        pl_xml_restore_errors(&d->saved_handlers);
        d->handler_set = false;
    }
    if (d->reader)
        xmlFreeTextReader(d->reader);
    d->reader = NULL;
    pl_buffer_free(&d->text);
}

static int decoder_close(lua_State *L)
{
    decoder_release(luaL_checkudata(L, 1, DECODER_METATABLE));
    return 0;
}

static void on_parse_error(void *arg, PL_XML_ERROR *err)
{
    pl_xml_error_record(&((decoder *)arg)->error, err);
}

/* A few messages (xmlParseChunk's "encoder error") bypass the structured handler. */
static void on_generic_error(void *arg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pl_xml_error_vrecord(&((decoder *)arg)->error, fmt, ap);
    va_end(ap);
}

/* ---- errors ---- */

/* The decoder's owner (a to-be-closed slot) releases the reader when the error unwinds. */
static int raise_xml(lua_State *L, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *message = lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    pl_error_push(L, "xml", message);
    return lua_error(L);
}

/* ---- text ---- */

/* Pushes the collected text typed by the declaration (a string when undeclared or when the
 * text does not parse as the declared type). */
static void push_text_value(lua_State *L, decoder *d, const pl_element *decl)
{
    const char *s = pl_buffer_text(&d->text);
    size_t len = d->text.len;
    if (decl) {
        size_t b = 0, e = len;
        switch (decl->kind) {
        case PL_KIND_INT:
        case PL_KIND_LONG:
        case PL_KIND_SHORT:
        case PL_KIND_BYTE:
        case PL_KIND_DOUBLE:
        case PL_KIND_BOOLEAN:
            while (b < e && isspace((unsigned char)s[b]))
                b++;
            while (e > b && isspace((unsigned char)s[e - 1]))
                e--;
            break;
        default:
            break;
        }
        long long v;
        double x;
        int flag;
        switch (decl->kind) {
        case PL_KIND_INT:
        case PL_KIND_LONG:
        case PL_KIND_SHORT:
        case PL_KIND_BYTE:
            if (pl_value_parse_integer(s + b, e - b, decl->kind, &v) == PL_VALUE_OK) {
                lua_pushinteger(L, (lua_Integer)v);
                return;
            }
            break;
        case PL_KIND_DOUBLE:
            if (pl_value_parse_double(s + b, e - b, &x)) {
                lua_pushnumber(L, x);
                return;
            }
            break;
        case PL_KIND_BOOLEAN:
            flag = pl_value_parse_boolean(s + b, e - b);
            if (flag >= 0) {
                lua_pushboolean(L, flag);
                return;
            }
            break;
        default:
            break;
        }
    }
    lua_pushlstring(L, s, len);
}

/* ---- schema lookups ---- */

static const pl_element *field_of(decoder *d, const pl_type *t, const char *name)
{
    if (!t)
        return NULL;
    uintptr_t h = ((uintptr_t)t >> 4) ^ ((uintptr_t)name >> 3) ^ ((uintptr_t)name >> 11);
    field_cache_entry *e = &d->cache[h % FIELD_CACHE_SIZE];
    if (e->type == t && e->name == name)
        return e->decl;
    e->type = t;
    e->name = name;
    e->decl = pl_type_field(t, name);
    return e->decl;
}

/* Pushes the metatable for a model type (fast path keyed by pointer) or a type name. */
static void push_metatable(lua_State *L, int types_slot, const pl_type *t, const char *name)
{
    if (t && lua_rawgetp(L, types_slot, t) == LUA_TTABLE)
        return;
    if (t)
        lua_pop(L, 1);
    pl_object_push_metatable(L, t, name);
}

/* ---- storing values ---- */

/* Objects have a checking __newindex: the decoder stores raw. */
static int raw_get(lua_State *L, int t, const char *name)
{
    lua_pushstring(L, name);
    return lua_rawget(L, t);
}

static void raw_set(lua_State *L, int t, const char *name)
{
    lua_pushstring(L, name);
    lua_insert(L, -2);
    lua_rawset(L, t);
}

/* Stores the value on the top of the stack (popped) into the open parent frame `p` as the
 * element `name` declared `decl` there. */
static void store(lua_State *L, frame *p, const pl_element *decl, const char *name)
{
    if (p->kind == F_ARRAY) {
        lua_rawseti(L, p->slot, ++p->count);
        return;
    }
    if (decl && decl->max_occurs != 1 && !decl->item_name) {
        /* a repeated field: always an array */
        if (raw_get(L, p->slot, name) != LUA_TTABLE) {
            lua_pop(L, 1);
            lua_createtable(L, 4, 0);
            lua_pushvalue(L, -1);
            raw_set(L, p->slot, name);
        }
        lua_insert(L, -2);
        lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
        lua_pop(L, 1);
        return;
    }
    if (decl) {
        raw_set(L, p->slot, name);
        return;
    }
    if (p->type)
        pl_object_mark_response_extras(L, p->slot);
    /* Undeclared: a second occurrence turns the value into an array. The arrays made here
     * are the only untyped tables with an item at [1] (element names are never numbers). */
    int existing = raw_get(L, p->slot, name);
    if (existing == LUA_TNIL) {
        lua_pop(L, 1);
        raw_set(L, p->slot, name);
        return;
    }
    if (existing == LUA_TTABLE && !lua_getmetatable(L, -1)) {
        if (lua_rawgeti(L, -1, 1) != LUA_TNIL) {
            lua_pop(L, 1);
            lua_insert(L, -2);
            lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
            lua_pop(L, 1);
            return;
        }
        lua_pop(L, 1);
    } else if (existing == LUA_TTABLE) {
        lua_pop(L, 1); /* the metatable */
    }
    lua_createtable(L, 2, 0); /* value, existing, array */
    lua_insert(L, -2);        /* value, array, existing */
    lua_rawseti(L, -2, 1);    /* value, array */
    lua_insert(L, -2);        /* array, value */
    lua_rawseti(L, -2, 2);
    raw_set(L, p->slot, name);
}

/* ---- the element handlers ---- */

typedef struct attrs {
    char type[128]; /* xsi:type, local part; "" when absent or an XML Schema built-in */
    bool nil;
} attrs;

static void read_attributes(xmlTextReaderPtr r, attrs *a)
{
    a->type[0] = '\0';
    a->nil = false;
    if (xmlTextReaderHasAttributes(r) != 1)
        return;
    while (xmlTextReaderMoveToNextAttribute(r) == 1) {
        const char *ns = (const char *)xmlTextReaderConstNamespaceUri(r);
        if (!ns || strcmp(ns, PL_XSI_NS) != 0)
            continue;
        const char *local = (const char *)xmlTextReaderConstLocalName(r);
        const char *value = (const char *)xmlTextReaderConstValue(r);
        if (!local || !value)
            continue;
        if (strcmp(local, "type") == 0) {
            const char *colon = strrchr(value, ':');
            snprintf(a->type, sizeof a->type, "%s", colon ? colon + 1 : value);
            if (colon) {
                /* xsi:type="xsd:string" and the like describe a simple value, not an object */
                char prefix[64];
                snprintf(prefix, sizeof prefix, "%.*s", (int)(colon - value), value);
                xmlChar *uri = xmlTextReaderLookupNamespace(r, (const xmlChar *)prefix);
                if (uri && strcmp((const char *)uri, PL_XSD_NS) == 0)
                    a->type[0] = '\0';
                xmlFree(uri);
            }
        } else if (strcmp(local, "nil") == 0) {
            a->nil = strcmp(value, "true") == 0 || strcmp(value, "1") == 0;
        }
    }
    xmlTextReaderMoveToElement(r);
}

/* A frame for the element `name` whose table is on the top of the stack (it stays there,
 * at the frame's slot); the table is also stored into the parent `p`. */
static frame *push_table_frame(lua_State *L, decoder *d, frame *p, frame_kind kind,
                               const pl_type *lookup, const pl_element *decl, const char *name)
{
    lua_pushvalue(L, -1);
    store(L, p, decl, name);
    frame *f = &d->frames[++d->depth];
    f->kind = kind;
    f->type = lookup;
    f->decl = decl;
    f->name = name;
    f->slot = lua_gettop(L);
    f->count = 0;
    f->pass = false;
    return f;
}

/* Opens a table frame for an element (known type `t`, or an unknown type name, or
 * neither) and stores the table into its parent. */
static frame *open_object(lua_State *L, decoder *d, int base, frame *p, const pl_element *decl,
                          const char *name, const pl_type *lookup, const pl_type *known,
                          const char *type_name)
{
    luaL_checkstack(L, 6, "decoding");
    lua_createtable(L, 0, 4);
    if (known || type_name) {
        push_metatable(L, base + SLOT_TYPES, known, type_name);
        lua_setmetatable(L, -2);
    }
    return push_table_frame(L, d, p, F_OBJECT, lookup, decl, name);
}

/* A child element starts inside an F_OBJECT/F_ARRAY frame. */
static void start_value(lua_State *L, decoder *d, int base, const char *name, const attrs *a)
{
    frame *p = &d->frames[d->depth];
    const pl_element *decl;
    bool item = p->kind == F_ARRAY;
    if (item)
        decl = p->decl;
    else
        decl = field_of(d, p->type, name);

    const pl_type *declared = decl ? pl_element_complex(decl) : NULL;
    bool wrapper = decl && decl->item_name && !item;
    if (!decl && !item && p->type && !a->nil && !a->type[0] && strcmp(name, p->type->name) == 0) {
        /* The service wraps some results in an element named after their own type
         * (ExtractResponseMsg/Results/ExtractResult/...): the wrapper's children belong to
         * the enclosing object, so they are read into its table. */
        frame *f = &d->frames[++d->depth];
        *f = *p;
        f->pass = true;
        f->name = name;
        return;
    }
    if (a->nil) {
        frame *f = &d->frames[++d->depth];
        f->kind = F_SKIP;
        return;
    }
    if (wrapper) {
        luaL_checkstack(L, 6, "decoding");
        lua_createtable(L, 4, 0);
        push_table_frame(L, d, p, F_ARRAY, NULL, decl, name);
        return;
    }
    if (a->type[0] && (declared || !decl || decl->kind == PL_KIND_COMPLEX || decl->kind == PL_KIND_ANY)) {
        const pl_type *t = pl_schema_type(a->type);
        if (t)
            open_object(L, d, base, p, decl, name, t, t, NULL);
        else
            open_object(L, d, base, p, decl, name, pl_object_unknown_type_fields(declared),
                        NULL, a->type);
        return;
    }
    if (declared) {
        open_object(L, d, base, p, decl, name, declared, declared, NULL);
        return;
    }
    frame *f = &d->frames[++d->depth];
    f->kind = F_LEAF;
    f->type = NULL;
    f->decl = decl;
    f->name = name;
    pl_buffer_clear(&d->text);
}

/* A leaf that receives a child element becomes an untyped table. */
static void leaf_to_object(lua_State *L, decoder *d, int base)
{
    frame *f = &d->frames[d->depth];
    const pl_element *decl = f->decl;
    const char *name = f->name;
    d->depth--;
    open_object(L, d, base, &d->frames[d->depth], decl, name, NULL, NULL, NULL);
}

static const char *header_key(const char *local)
{
    static const char *const map[][2] = {
        {"fueloauth", "fueloauth"}, {"Username", "username"},   {"Password", "password"},
        {"Action", "action"},       {"MessageID", "message_id"}, {"RelatesTo", "relates_to"},
        {"oAuthToken", "oauth_token"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(local, map[i][0]) == 0)
            return map[i][1];
    return NULL;
}

static const char *fault_key(const char *local)
{
    static const char *const keys[] = {"faultcode", "faultstring", "faultactor", "Code", "Message"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(local, keys[i]) == 0)
            return keys[i];
    return NULL;
}

static void on_start(lua_State *L, decoder *d, int base)
{
    xmlTextReaderPtr r = d->reader;
    const char *name = (const char *)xmlTextReaderConstLocalName(r);
    const char *ns = (const char *)xmlTextReaderConstNamespaceUri(r);
    bool soap_ns = ns && strcmp(ns, PL_SOAP_ENV_NS) == 0;
    if (!name)
        name = "";
    if (d->depth >= PL_DECODE_MAX_DEPTH)
        raise_xml(L, "refused: nesting deeper than %d elements", PL_DECODE_MAX_DEPTH);

    if (d->depth == 0) {
        if (strcmp(name, "Envelope") != 0 || !soap_ns)
            raise_xml(L,
                      "not a SOAP envelope: the root element is <%s>%s%s, expected "
                      "soap:Envelope in " PL_SOAP_ENV_NS,
                      (const char *)xmlTextReaderConstName(r), ns ? " in " : "", ns ? ns : "");
        d->frames[++d->depth] = (frame){.kind = F_ENVELOPE, .name = name};
        return;
    }
    frame *p = &d->frames[d->depth];
    frame *f;
    attrs a;
    switch (p->kind) {
    case F_ENVELOPE:
        f = &d->frames[++d->depth];
        *f = (frame){.kind = F_SKIP, .name = name};
        if (soap_ns && strcmp(name, "Header") == 0)
            f->kind = F_HEADER;
        else if (soap_ns && strcmp(name, "Body") == 0)
            f->kind = F_BODY;
        break;
    case F_BODY:
        if (!lua_isnil(L, base + SLOT_BODY) || !lua_isnil(L, base + SLOT_FAULT)) {
            d->frames[++d->depth] = (frame){.kind = F_SKIP, .name = name};
            break;
        }
        if (strcmp(name, "Fault") == 0 && soap_ns) {
            lua_newtable(L);
            lua_replace(L, base + SLOT_FAULT);
            d->frames[++d->depth] = (frame){.kind = F_FAULT, .name = name};
            break;
        }
        {
            read_attributes(r, &a);
            const pl_global_element *g = pl_schema_global(name);
            const pl_type *t = g ? g->type : NULL;
            if (a.type[0] && pl_schema_type(a.type))
                t = pl_schema_type(a.type);
            luaL_checkstack(L, 6, "decoding");
            lua_createtable(L, 0, 4);
            if (t) {
                push_metatable(L, base + SLOT_TYPES, t, NULL);
                lua_setmetatable(L, -2);
            }
            lua_pushvalue(L, -1);
            lua_replace(L, base + SLOT_BODY);
            lua_pushstring(L, name);
            lua_replace(L, base + SLOT_ELEMENT);
            d->frames[++d->depth] =
                (frame){.kind = F_OBJECT, .type = t, .name = name, .slot = lua_gettop(L)};
        }
        break;
    case F_HEADER:
    case F_FAULT:
    case F_SKIP:
        d->frames[++d->depth] = (frame){.kind = p->kind, .name = name};
        pl_buffer_clear(&d->text);
        break;
    case F_LEAF: /* the leaf has a child: it becomes an object */
        leaf_to_object(L, d, base);
        read_attributes(r, &a);
        start_value(L, d, base, name, &a);
        break;
    case F_OBJECT:
    case F_ARRAY:
        read_attributes(r, &a);
        start_value(L, d, base, name, &a);
        break;
    }
}

static void on_end(lua_State *L, decoder *d, int base)
{
    frame *f = &d->frames[d->depth];
    if (d->text.failed)
        luaL_error(L, "not enough memory");
    switch (f->kind) {
    case F_OBJECT:
    case F_ARRAY:
        if (!f->pass)
            lua_settop(L, f->slot - 1);
        break;
    case F_LEAF:
        push_text_value(L, d, f->decl);
        store(L, &d->frames[d->depth - 1], f->decl, f->name);
        break;
    case F_HEADER:
        if (d->depth > 2 && d->text.len) { /* a header entry, not soap:Header itself */
            const char *key = header_key(f->name);
            if (key) {
                lua_pushlstring(L, d->text.data, d->text.len);
                lua_setfield(L, base + SLOT_HEADER, key);
            }
        }
        pl_buffer_clear(&d->text);
        break;
    case F_FAULT:
        if (d->text.len) {
            const char *key = fault_key(f->name);
            if (key) {
                lua_pushlstring(L, d->text.data, d->text.len);
                lua_setfield(L, base + SLOT_FAULT, key);
            }
        }
        pl_buffer_clear(&d->text);
        break;
    default:
        break;
    }
    d->depth--;
}

static void on_text(decoder *d)
{
    frame *f = &d->frames[d->depth];
    if (f->kind != F_LEAF && !(d->depth > 2 && (f->kind == F_HEADER || f->kind == F_FAULT)))
        return;
    const char *value = (const char *)xmlTextReaderConstValue(d->reader);
    if (value)
        pl_buffer_append_str(&d->text, value);
}

/* Raises the error table for the fault collected in the fault slot. */
static int raise_fault(lua_State *L, int base)
{
    int fault = base + SLOT_FAULT;
    lua_getfield(L, fault, "faultstring");
    const char *message = lua_tostring(L, -1);
    pl_error_push(L, "fault", message ? message : "SOAP fault without a faultstring");
    int err = lua_gettop(L);
    static const char *const copy[][2] = {
        {"faultcode", "faultcode"}, {"faultactor", "faultactor"}, {"Message", "detail"}};
    for (size_t i = 0; i < sizeof copy / sizeof copy[0]; i++) {
        lua_getfield(L, fault, copy[i][0]);
        lua_setfield(L, err, copy[i][1]);
    }
    if (lua_getfield(L, fault, "Code") == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        long long code;
        while (len && isspace((unsigned char)s[len - 1]))
            len--;
        while (len && isspace((unsigned char)*s))
            s++, len--;
        if (pl_value_parse_integer(s, len, PL_KIND_LONG, &code) == PL_VALUE_OK) {
            lua_pushinteger(L, (lua_Integer)code);
            lua_setfield(L, err, "code");
            lua_pushboolean(L, code == 17); /* 17: Rate Limited, safe to send again later */
            lua_setfield(L, err, "retryable");
        }
    }
    lua_settop(L, err);
    return lua_error(L);
}

/* core.decode(xml, opts) -> body, element_name, header */
int pl_l_decode(lua_State *L)
{
    size_t len;
    if (lua_type(L, 1) != LUA_TSTRING) {
        pl_error_push(L, "usage", lua_pushfstring(L, "decode expects the XML as a string, got %s",
                                                   luaL_typename(L, 1)));
        return lua_error(L);
    }
    const char *xml = lua_tolstring(L, 1, &len);
    lua_settop(L, 1);
    decoder *d = pl_push_scoped_userdata(L, sizeof *d, DECODER_METATABLE, decoder_close);
    int base = lua_gettop(L);
    lua_newtable(L); /* SLOT_HEADER */
    lua_pushnil(L);  /* SLOT_BODY */
    lua_pushnil(L);  /* SLOT_ELEMENT */
    lua_pushnil(L);  /* SLOT_FAULT */
    pl_object_push_metatables(L); /* SLOT_TYPES */

    char why[512];
    if (!pl_soap_precheck(xml, len, why, sizeof why)) /* also refuses more than 2 GB */
        raise_xml(L, "%s", why);
    const int options =
        XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOWARNING | XML_PARSE_COMPACT;
    switch (pl_soap_check_prolog(xml, len, options, why, sizeof why)) {
    case PL_PROLOG_READ:
        break;
    case PL_PROLOG_NO_MEMORY:
        return luaL_error(L, "not enough memory for the XML parser");
    default:
        return raise_xml(L, "%s", why);
    }
    d->saved_handlers = pl_xml_take_errors(d, on_parse_error, on_generic_error);
    d->handler_set = true;
    d->reader = xmlReaderForMemory(xml, (int)len, NULL, NULL, options);
    if (!d->reader)
        luaL_error(L, "not enough memory for the XML reader");
    xmlTextReaderSetStructuredErrorHandler(d->reader, on_parse_error, d);

    int status;
    while ((status = xmlTextReaderRead(d->reader)) == 1) {
        switch (xmlTextReaderNodeType(d->reader)) {
        case XML_READER_TYPE_ELEMENT: {
            bool empty = xmlTextReaderIsEmptyElement(d->reader) == 1;
            on_start(L, d, base);
            if (empty)
                on_end(L, d, base);
            break;
        }
        case XML_READER_TYPE_END_ELEMENT:
            on_end(L, d, base);
            break;
        case XML_READER_TYPE_TEXT:
        case XML_READER_TYPE_CDATA:
        case XML_READER_TYPE_WHITESPACE:
        case XML_READER_TYPE_SIGNIFICANT_WHITESPACE:
            on_text(d);
            break;
        case XML_READER_TYPE_DOCUMENT_TYPE:
        case XML_READER_TYPE_ENTITY_REFERENCE:
        case XML_READER_TYPE_ENTITY:
            raise_xml(L, "%s", PL_SOAP_DOCTYPE_REFUSED);
            break;
        default:
            break;
        }
    }
    const char *error = d->error.message;
    if (status < 0 || error[0]) {
        /* The streaming parser reports a cut-off document in several ways; say what it is. */
        if (d->depth > 0 && (strncmp(error, "Premature end of data", 21) == 0 ||
                             strncmp(error, "Extra content at the end", 24) == 0))
            raise_xml(L, "malformed XML: the document ends before its elements are closed "
                            "(truncated?) (line %d)", d->error.line);
        if (error[0]) {
            pl_xml_error_describe(&d->error, xml, len, why, sizeof why);
            raise_xml(L, "%s", why);
        }
        raise_xml(L, "malformed XML");
    }
    if (!lua_isnil(L, base + SLOT_FAULT))
        return raise_fault(L, base);
    if (lua_isnil(L, base + SLOT_BODY))
        raise_xml(L, "not a SOAP response: the envelope has no element in its soap:Body");
    lua_pushvalue(L, base + SLOT_BODY);
    lua_pushvalue(L, base + SLOT_ELEMENT);
    lua_pushvalue(L, base + SLOT_HEADER);
    return 3;
}
