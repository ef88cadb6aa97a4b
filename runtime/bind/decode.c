/* SOAP envelopes -> Lua tables: core.decode(xml) -> body, element_name, header.
 *
 * One pass of libxml2's SAX2 push parser (no DOM, no reader nodes). Each open element is a
 * frame; an element the schema declares complex (or that carries xsi:type) becomes a table as
 * soon as it starts and is stored into its parent at once, so the Lua stack holds exactly the
 * chain of open tables. Leaves collect their text and are typed by the schema when they end.
 * An element the schema does not know starts as a leaf and turns into a table if a child
 * appears.
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
 *     "xml". An empty answer, an HTML page, text or a DOCTYPE are refused before the parser
 *     reads the document (codec/precheck.c: libxml2 itself first reads the prolog, in
 *     whatever encoding it detects or is told, and stops at a DOCTYPE before its DTD, so no
 *     DTD, entity or external resource is ever processed; the decoder's own parser stops at
 *     a DOCTYPE too), the parser never touches the network, entities are never substituted,
 *     and nesting is bounded.
 *
 * No Lua call happens inside a libxml2 callback (a Lua error would longjmp across libxml2's
 * frames): the SAX callbacks only append compact events (start with its interned local name,
 * prefix and namespace and the resolved xsi:type / xsi:nil; end; a span of text) to C arrays,
 * and the document is fed in chunks of DECODE_CHUNK bytes, the events of each chunk applied
 * to the Lua tables (on_start, on_end, on_text) after xmlParseChunk returns. The error
 * handlers only copy the message into the decoder, and every message libxml2 has (structured
 * or generic) goes to them while decoding, so nothing is printed. The parser, the events and
 * the text buffers belong to a to-be-closed userdata: an error raised at any point (including
 * out-of-memory in Lua) frees them. */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "bind/codec.h"
#include "bind/errors.h"
#include "bind/objects.h"
#include "bind/scope.h"
#include "codec/precheck.h"
#include "codec/value.h"
#include "schema/schema.h"
#include "util/buffer.h"
#include "util/xml.h"

#define DECODER_METATABLE "performlua.xmldecoder"
#define FIELD_CACHE_SIZE 512
#define SIZE_HINTS 64
/* Metatables kept on the stack for the types met last: a page alternates two (the row's
 * object and its APIProperty items), each looked up in the types table 7,500 times a page. */
#define METATABLE_CACHE 2
/* Bytes given to xmlParseChunk at a time: the events of one chunk are applied before the next. */
#define DECODE_CHUNK 65536

typedef enum frame_kind {
    F_SKIP,        /* ignored subtree */
    F_ENVELOPE,
    F_HEADER,      /* soap:Header and everything below it */
    F_BODY,
    F_FAULT,       /* soap:Fault and everything below it */
    F_OBJECT,      /* a table on the Lua stack */
    F_ARRAY,       /* a wrapper's array on the Lua stack */
    F_LEAF,        /* collecting text; may become F_OBJECT when a child appears */
    /* rows mode (core.decode(xml, {rows = true})): a data extension row, see rows_start */
    F_ROW,         /* a Result read as a row: the row table on the Lua stack */
    F_ROW_PROPS,   /* its Properties */
    F_ROW_PROP,    /* one Property: its Name and Value wait in two stack slots */
    F_ROW_NAME,    /* the Property's Name: collecting text */
    F_ROW_VALUE    /* the Property's Value: collecting text */
} frame_kind;

typedef struct frame {
    frame_kind kind;
    const pl_type *type;        /* F_OBJECT: type whose fields name the children (NULL: none) */
    const pl_element *decl;     /* declaration in the parent (F_ARRAY: the wrapper's) */
    const char *name;           /* local name, interned by the parser's dictionary */
    int slot;                   /* F_OBJECT/F_ARRAY: stack index of the table */
    lua_Integer count;          /* F_ARRAY: items so far; F_ROW: Properties elements so far;
                                 * F_OBJECT: keys stored so far (the next table's size hint) */
    bool pass;                  /* F_OBJECT: a redundant wrapper sharing its parent's table */
} frame;

typedef struct field_cache_entry {
    uint64_t parser; /* the serial of the parser whose dictionary interned `name` (0: empty) */
    const pl_type *type;
    const char *name;
    const pl_element *decl;
} field_cache_entry;

/* The push parser, kept per thread from one decode to the next (the sandbox's threads decode
 * too) with the answers of field_of. A loop of calls made and freed a parser each time (its
 * dictionary, stacks and buffers: 6,000 of a Perform's instructions) and looked every field
 * name up in the model again, 80 string comparisons a Perform, since the names were the new
 * dictionary's. A decode takes the idle parser (a nested decode, from a hook, makes its own)
 * and gives it back reset; one whose dictionary grew past PARSER_KEPT_NAMES names (an answer
 * that invents names) is freed instead. Cache entries name the parser by a serial, never
 * reused in the process (a sandbox's decoder may be closed on another thread than the one it
 * parsed on): a name's address is only compared while its dictionary lives. A thread that
 * ends frees its idle parser (a thread key's destructor). */
#define PARSER_KEPT_NAMES 4096
typedef struct kept_parser {
    xmlParserCtxtPtr idle;
    uint64_t idle_serial;
    bool freed_at_exit; /* the thread key holds this thread's kept_parser */
    field_cache_entry fields[FIELD_CACHE_SIZE];
} kept_parser;
static _Thread_local kept_parser kept;
static atomic_uint_least64_t last_parser_serial;
static pthread_key_t kept_key;
static pthread_once_t kept_key_once = PTHREAD_ONCE_INIT;
static bool kept_key_made;

/* How big the last table made for a key came out: an object's keys by its type, a wrapper's
 * items by its declaration (both the model's, stable pointers). A page repeats one shape
 * 2,500 times; a table made at its final size is never grown (each growth a rehash or a
 * realloc and copy), and an APIProperty takes 2 hash slots instead of 4. Kept per thread from
 * one decode to the next (the sandbox's threads decode too): a loop of calls gets the same
 * answer's shape again, whose dozen tables were otherwise grown on every call. */
typedef struct size_hint {
    const void *key; /* NULL: unused */
    int size;
} size_hint;
static _Thread_local size_hint size_hints[SIZE_HINTS];

/* What the SAX callbacks saw, applied to the Lua tables once xmlParseChunk returns. */
typedef enum event_kind {
    EV_START,   /* an element starts */
    EV_END,     /* the open element ends */
    EV_TEXT,    /* text (character data, CDATA, whitespace) of the open element */
    EV_REFUSE   /* an entity reference was reported: refused as a DOCTYPE is */
} event_kind;

typedef struct event {
    event_kind kind;
    bool nil;                   /* EV_START: xsi:nil="true" or "1" */
    const char *name;           /* EV_START: local name, interned by the parser's dictionary */
    const char *prefix;         /* EV_START: its prefix (interned) or NULL */
    const char *ns;             /* EV_START: its namespace URI (interned) or NULL */
    size_t off, len;            /* EV_TEXT: the text; EV_START: the xsi:type's local part
                                 * (len 0: none, or an XML Schema built-in), in `chars` */
} event;

/* A namespace in scope, as the parser declared it (both interned; prefix NULL: default). */
typedef struct ns_binding {
    const char *prefix;
    const char *uri;
} ns_binding;

typedef struct decoder {
    xmlParserCtxtPtr ctxt;
    uint64_t ctxt_serial; /* its serial (kept_parser) */
    /* filled by the SAX callbacks while a chunk is parsed, emptied when it is applied */
    event *events;
    size_t n_events, cap_events;
    pl_buffer chars;            /* the text and type names the events point into */
    bool sax_failed;            /* out of memory in a callback: the parser was stopped */
    int sax_depth;              /* elements open in the parser */
    ns_binding *ns;             /* namespaces in scope, innermost last */
    size_t n_ns, cap_ns;
    /* applying the events */
    pl_buffer text;             /* the current leaf's (or header or fault entry's) text */
    /* text_span: the current text is chars[span_off, + span_len) and `text` is empty. Most
     * leaves get one run of text, which is read where the callbacks put it instead of being
     * copied again; a second run, or the end of the chunk (chars is emptied), copies it. */
    bool text_span;
    size_t span_off, span_len;
    pl_xml_error error;         /* the parser's first error */
    /* libxml2's per-thread handlers, replaced while decoding so nothing is ever printed */
    bool handler_set;
    pl_xml_handlers saved_handlers;
    int depth;
    /* rows mode: the Results of the body element become rows; `rows_odd` says the answer has
     * a shape the rows would not read as retrieve.lua's row_of reads the objects, and the
     * document is decoded again as objects */
    bool rows;
    bool rows_odd;
    const pl_type *property_type; /* APIProperty */
    int row_columns;              /* the last row's size: the next row's table is made so */
    int row_filled;               /* columns stored into the open row */
    /* the last xsi:type looked up in the model and what it named (NULL: unknown): a page
     * names the same two types 15,000 times */
    char last_type[128];
    const pl_type *last_type_found;
    const pl_type *mt_types[METATABLE_CACHE]; /* whose metatable is at SLOT_MT + i */
    int mt_next;                              /* the entry replaced next */
    /* Everything above is zeroed for each decode; the arrays below are not (18 KB a call
     * were): a frame and a namespace mark are written whole when pushed, before anything
     * reads them (frames[0], the document's level, is set by decoder_reset). */
    size_t ns_marks[PL_DECODE_MAX_DEPTH + 2]; /* n_ns before each open element's own */
    frame frames[PL_DECODE_MAX_DEPTH + 2];
} decoder;

#define DECODER_ZEROED offsetof(decoder, ns_marks)

static void decoder_reset(decoder *d)
{
    memset(d, 0, DECODER_ZEROED);
    d->frames[0] = (frame){.kind = F_SKIP};
}

/* Fixed stack slots (relative to the decoder's base). */
enum {
    SLOT_HEADER = 1, SLOT_BODY, SLOT_ELEMENT, SLOT_FAULT, SLOT_TYPES,
    SLOT_MT /* and the METATABLE_CACHE - 1 after it: the metatables of decoder.mt_types */
};

/* ---- the parser kept between decodes (kept_parser) ---- */

/* The idle parser reset for a new document whose first `size` bytes are `chunk`, or a new
 * one; NULL out of memory. The SAX handlers are set when a parser is made: they never change. */
static xmlParserCtxtPtr take_parser(const xmlSAXHandler *sax, const char *chunk, int size,
                                    uint64_t *serial)
{
    xmlParserCtxtPtr ctxt = kept.idle;
    kept.idle = NULL;
    if (ctxt && xmlCtxtResetPush(ctxt, chunk, size, NULL, NULL) == 0) {
        ctxt->progressive = 0; /* as a new parser's: xmlCtxtReset leaves the last document's */
        *serial = kept.idle_serial;
        return ctxt;
    }
    if (ctxt)
        xmlFreeParserCtxt(ctxt);
    ctxt = xmlCreatePushParserCtxt((xmlSAXHandler *)sax, NULL, chunk, size, NULL);
    *serial = atomic_fetch_add(&last_parser_serial, 1) + 1;
    return ctxt;
}

static void free_idle_parser(void *arg)
{
    kept_parser *k = arg;
    if (k->idle)
        xmlFreeParserCtxt(k->idle);
    k->idle = NULL;
}

static void make_kept_key(void)
{
    kept_key_made = pthread_key_create(&kept_key, free_idle_parser) == 0;
}

/* True when this thread's idle parser will be freed when the thread ends. */
static bool freed_at_exit(void)
{
    if (!kept.freed_at_exit) {
        pthread_once(&kept_key_once, make_kept_key);
        kept.freed_at_exit = kept_key_made && pthread_setspecific(kept_key, &kept) == 0;
    }
    return kept.freed_at_exit;
}

/* Only a parser that read a whole document cleanly is kept: xmlCtxtReset leaves the namespace
 * stack and a DOCTYPE's name of a document that stopped half way. */
static void give_parser_back(xmlParserCtxtPtr ctxt, uint64_t serial)
{
    bool clean = ctxt->instate == XML_PARSER_EOF && ctxt->wellFormed &&
                 ctxt->errNo == XML_ERR_OK && ctxt->nsNr == 0 && !ctxt->intSubName;
    if (kept.idle || !clean || !ctxt->dict || xmlDictSize(ctxt->dict) > PARSER_KEPT_NAMES ||
        !freed_at_exit()) {
        xmlFreeParserCtxt(ctxt);
        return;
    }
    kept.idle = ctxt;
    kept.idle_serial = serial;
}

/* ---- ownership ---- */

static void decoder_release(decoder *d)
{
    if (d->handler_set) {
        pl_xml_restore_errors(&d->saved_handlers);
        d->handler_set = false;
    }
    if (d->ctxt)
        give_parser_back(d->ctxt, d->ctxt_serial);
    d->ctxt = NULL;
    free(d->events);
    d->events = NULL;
    free(d->ns);
    d->ns = NULL;
    pl_buffer_free(&d->chars);
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

/* ---- the SAX callbacks: C only, they record events ---- */

static void sax_fail(decoder *d)
{
    d->sax_failed = true;
    xmlStopParser(d->ctxt);
}

static event *new_event(decoder *d, event_kind kind)
{
    if (d->n_events == d->cap_events) {
        size_t cap = d->cap_events ? d->cap_events * 2 : 1024;
        event *grown = realloc(d->events, cap * sizeof *grown);
        if (!grown) {
            sax_fail(d);
            return NULL;
        }
        d->events = grown;
        d->cap_events = cap;
    }
    event *e = &d->events[d->n_events++];
    e->kind = kind;
    return e;
}

/* The namespace bound to `prefix` (`len` bytes, not NUL-terminated) where the element that
 * just started stands; NULL when none is. As xmlSearchNs: "xml" is always bound, and no
 * prefix (not even "") names the default namespace. */
static const char *lookup_prefix(const decoder *d, const char *prefix, size_t len)
{
    if (len == 3 && memcmp(prefix, "xml", 3) == 0)
        return (const char *)XML_XML_NAMESPACE;
    for (size_t i = d->n_ns; i-- > 0;) {
        const char *p = d->ns[i].prefix;
        if (p && strlen(p) == len && memcmp(p, prefix, len) == 0)
            return d->ns[i].uri;
    }
    return NULL;
}

/* xsi:type="[prefix:]Local": keeps the local part (at most 127 bytes) in `chars` for `e`,
 * unless the prefix names XML Schema (xsi:type="xsd:string" and the like describe a simple
 * value, not an object). */
static void record_type(decoder *d, event *e, const char *value, size_t len)
{
    const char *colon = NULL;
    for (size_t i = len; i-- > 0;)
        if (value[i] == ':') {
            colon = value + i;
            break;
        }
    const char *local = colon ? colon + 1 : value;
    size_t local_len = len - (size_t)(local - value);
    if (local_len > 127)
        local_len = 127;
    e->len = 0;
    if (colon) {
        size_t prefix_len = (size_t)(colon - value);
        if (prefix_len > 63)
            prefix_len = 63;
        const char *uri = lookup_prefix(d, value, prefix_len);
        if (uri && strcmp(uri, PL_XSD_NS) == 0)
            return;
    }
    e->off = d->chars.len;
    if (local_len && pl_buffer_add(&d->chars, local, local_len))
        e->len = local_len;
}

static void sax_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                      const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                      int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
    (void)nb_defaulted;
    decoder *d = ((xmlParserCtxtPtr)ctx)->_private;
    if (d->sax_depth > PL_DECODE_MAX_DEPTH) /* the parser was stopped: nothing more */
        return;
    d->ns_marks[d->sax_depth++] = d->n_ns;
    if (nb_namespaces > 0) {
        size_t need = d->n_ns + (size_t)nb_namespaces;
        if (need > d->cap_ns) {
            size_t cap = need < 16 ? 16 : need * 2;
            ns_binding *grown = realloc(d->ns, cap * sizeof *grown);
            if (!grown) {
                sax_fail(d);
                return;
            }
            d->ns = grown;
            d->cap_ns = cap;
        }
        for (int i = 0; i < nb_namespaces; i++)
            d->ns[d->n_ns++] = (ns_binding){(const char *)namespaces[2 * i],
                                            (const char *)namespaces[2 * i + 1]};
    }
    event *e = new_event(d, EV_START);
    if (!e)
        return;
    e->name = (const char *)localname;
    e->prefix = (const char *)prefix;
    e->ns = (const char *)uri;
    e->nil = false;
    e->off = e->len = 0;
    for (int i = 0; i < nb_attributes; i++) {
        const xmlChar **a = attributes + 5 * i; /* localname, prefix, URI, value, end */
        if (!a[2] || strcmp((const char *)a[2], PL_XSI_NS) != 0)
            continue;
        const char *local = (const char *)a[0];
        const char *value = (const char *)a[3];
        size_t len = (size_t)(a[4] - a[3]);
        if (strcmp(local, "type") == 0)
            record_type(d, e, value, len);
        else if (strcmp(local, "nil") == 0)
            e->nil = (len == 4 && memcmp(value, "true", 4) == 0) || (len == 1 && value[0] == '1');
    }
    if (d->chars.failed)
        sax_fail(d);
    /* Deeper than the decoder goes: applying this start raises, nothing after it matters. */
    if (d->sax_depth > PL_DECODE_MAX_DEPTH)
        xmlStopParser(d->ctxt);
}

static void sax_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                    const xmlChar *uri)
{
    (void)localname, (void)prefix, (void)uri;
    decoder *d = ((xmlParserCtxtPtr)ctx)->_private;
    if (d->sax_depth <= 0 || d->sax_depth > PL_DECODE_MAX_DEPTH)
        return;
    d->n_ns = d->ns_marks[--d->sax_depth];
    new_event(d, EV_END);
}

static void sax_text(void *ctx, const xmlChar *ch, int len)
{
    decoder *d = ((xmlParserCtxtPtr)ctx)->_private;
    if (len <= 0 || d->sax_failed)
        return;
    event *last = d->n_events ? &d->events[d->n_events - 1] : NULL;
    if (!(last && last->kind == EV_TEXT && last->off + last->len == d->chars.len)) {
        last = new_event(d, EV_TEXT);
        if (!last)
            return;
        last->off = d->chars.len;
        last->len = 0;
    }
    if (!pl_buffer_add(&d->chars, ch, (size_t)len)) {
        sax_fail(d);
        return;
    }
    last->len += (size_t)len;
}

static void sax_reference(void *ctx, const xmlChar *name)
{
    (void)name;
    new_event(((xmlParserCtxtPtr)ctx)->_private, EV_REFUSE);
}

/* ---- errors ---- */

/* The decoder's owner (a to-be-closed slot) releases the parser when the error unwinds. */
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

/* The current text starts empty. */
static void text_reset(decoder *d)
{
    pl_buffer_clear(&d->text);
    d->text_span = false;
}

/* The current text goes into d->text (before chars is emptied, or another run is added). */
static void text_settle(decoder *d)
{
    if (d->text_span) {
        d->text_span = false;
        pl_buffer_append(&d->text, d->chars.data + d->span_off, d->span_len);
    }
}

/* The current text: in chars (one run) or in d->text. */
static const char *text_of(const decoder *d, size_t *len)
{
    if (d->text_span) {
        *len = d->span_len;
        return d->chars.data + d->span_off;
    }
    *len = d->text.len;
    return pl_buffer_text(&d->text);
}

/* Pushes the collected text typed by the declaration (a string when undeclared or when the
 * text does not parse as the declared type). */
static void push_text_value(lua_State *L, decoder *d, const pl_element *decl)
{
    size_t len;
    const char *s = text_of(d, &len);
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
    field_cache_entry *e = &kept.fields[h % FIELD_CACHE_SIZE];
    if (e->parser == d->ctxt_serial && e->type == t && e->name == name)
        return e->decl;
    *e = (field_cache_entry){d->ctxt_serial, t, name, pl_type_field(t, name)};
    return e->decl;
}

/* The size the last table for `key` came out (see size_hint), or `fallback`. */
static int size_hint_of(const void *key, int fallback)
{
    const size_hint *h = &size_hints[((uintptr_t)key >> 4) % SIZE_HINTS];
    return key && h->key == key ? h->size : fallback;
}

static void remember_size(const void *key, lua_Integer size)
{
    if (!key)
        return;
    size_hint *h = &size_hints[((uintptr_t)key >> 4) % SIZE_HINTS];
    h->key = key;
    h->size = size < 64 ? (int)size : 64; /* a hint, not a promise: bounded */
}

/* A new object table of type `t` (its fields' names; NULL: none known). */
static void new_object_table(lua_State *L, const pl_type *t)
{
    int fallback = t && t->n_wire_fields > 0 && t->n_wire_fields < 4 ? t->n_wire_fields : 4;
    lua_createtable(L, 0, t ? size_hint_of(t, fallback) : 4);
}

/* The model's type named by an xsi:type (local part), or NULL. */
static const pl_type *xsi_type(decoder *d, const char *name)
{
    if (strcmp(name, d->last_type) != 0) {
        size_t len = strlen(name); /* < 128: read_attributes */
        memcpy(d->last_type, name, len + 1);
        d->last_type_found = pl_schema_type(name);
    }
    return d->last_type_found;
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

/* Pushes the metatable of the model type t, from the decoder's stack slots when it is one of
 * the types met last. */
static void push_type_metatable(lua_State *L, decoder *d, int base, const pl_type *t)
{
    for (int i = 0; i < METATABLE_CACHE; i++)
        if (d->mt_types[i] == t) {
            lua_pushvalue(L, base + SLOT_MT + i);
            return;
        }
    push_metatable(L, base + SLOT_TYPES, t, NULL);
    int i = d->mt_next;
    d->mt_next = (i + 1) % METATABLE_CACHE;
    lua_pushvalue(L, -1);
    lua_replace(L, base + SLOT_MT + i);
    d->mt_types[i] = t;
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
    /* value, key, value: no rotation of the stack (lua_insert), the commonest store of all */
    lua_pushstring(L, name);
    lua_pushvalue(L, -2);
    lua_rawset(L, t);
    lua_pop(L, 1);
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
            p->count++;
        }
        lua_insert(L, -2);
        lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
        lua_pop(L, 1);
        return;
    }
    if (decl) {
        raw_set(L, p->slot, name);
        p->count++;
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
        p->count++;
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

static void read_attributes(const decoder *d, const event *e, attrs *a)
{
    if (e->len) /* len <= 127 */
        memcpy(a->type, d->chars.data + e->off, e->len);
    a->type[e->len] = '\0';
    a->nil = e->nil;
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
    new_object_table(L, lookup);
    if (known) {
        push_type_metatable(L, d, base, known);
        lua_setmetatable(L, -2);
    } else if (type_name) {
        push_metatable(L, base + SLOT_TYPES, NULL, type_name);
        lua_setmetatable(L, -2);
    }
    return push_table_frame(L, d, p, F_OBJECT, lookup, decl, name);
}

/* ---- rows mode ----
 *
 * c:each over "DataExtensionObject[Key]" hands out each row as {Column = value}; retrieve.lua's
 * row_of made it from the decoded object (the object, its Properties array and an APIProperty
 * table per column: 7 tables a row) and now the decoder makes it directly, one table a row.
 * A Result of the body element whose type has Properties as a wrapper of APIProperty (a
 * DataExtensionObject) becomes a row: each Property's Name and Value (the last of each, as
 * the object kept them; a Value missing or xsi:nil is "", a Name missing or xsi:nil leaves the
 * property out) are stored as row[Name] = Value in document order, every other child is
 * skipped, as row_of ignored it. Results of other types stay objects (retrieve.lua converts
 * them). Shapes the service never sends, where the object would hold something else than
 * these rules say (a second Properties, a Property of another xsi:type, an element inside a
 * Name or Value, a redundant wrapper named after the type), set rows_odd: the whole document
 * is decoded again as objects, so the rows are always what row_of makes of the objects. */

static frame *push_frame(decoder *d, frame_kind kind, const char *name)
{
    frame *f = &d->frames[++d->depth];
    *f = (frame){.kind = kind, .name = name};
    return f;
}

static void rows_odd(decoder *d, const char *name)
{
    d->rows_odd = true;
    push_frame(d, F_SKIP, name);
}

/* Whether the child `name` of the body element, of declaration `decl`, is read as a row; its
 * type (xsi:type, else the declared one) in *type. */
static bool row_result(decoder *d, const pl_element *decl, const char *name, const attrs *a,
                       const pl_type **type)
{
    if (!decl || a->nil || decl->item_name || strcmp(name, "Results") != 0)
        return false;
    const pl_type *t = a->type[0] ? xsi_type(d, a->type) : pl_element_complex(decl);
    if (!t)
        return false;
    const pl_element *props = field_of(d, t, "Properties");
    if (!props || !props->item_name || pl_element_complex(props) != d->property_type)
        return false;
    *type = t;
    return true;
}

/* A child element starts inside a rows-mode frame. */
static void rows_start(lua_State *L, decoder *d, const event *e, const char *name)
{
    frame *p = &d->frames[d->depth];
    attrs a;
    read_attributes(d, e, &a);
    switch (p->kind) {
    case F_ROW:
        if (strcmp(name, "Properties") == 0) {
            if (a.nil)
                push_frame(d, F_SKIP, name);
            else if (p->count++ > 0)
                rows_odd(d, name); /* the object kept the last Properties only */
            else
                push_frame(d, F_ROW_PROPS, name)->slot = p->slot;
        } else if (!a.nil && !a.type[0] && !field_of(d, p->type, name) &&
                   strcmp(name, p->type->name) == 0) {
            rows_odd(d, name); /* a redundant wrapper: its children were the object's */
        } else {
            push_frame(d, F_SKIP, name);
        }
        break;
    case F_ROW_PROPS: /* every child of a wrapper is an item, whatever its name */
        if (a.nil)
            push_frame(d, F_SKIP, name);
        else if (a.type[0] && xsi_type(d, a.type) != d->property_type)
            rows_odd(d, name);
        else {
            luaL_checkstack(L, 4, "decoding");
            lua_pushnil(L); /* its Name */
            lua_pushnil(L); /* its Value */
            frame *f = push_frame(d, F_ROW_PROP, name);
            f->slot = lua_gettop(L);
            f->count = p->slot; /* the row table */
        }
        break;
    case F_ROW_PROP:
        if (a.nil)
            push_frame(d, F_SKIP, name);
        else if (strcmp(name, "Name") == 0)
            push_frame(d, F_ROW_NAME, name);
        else if (strcmp(name, "Value") == 0)
            push_frame(d, F_ROW_VALUE, name);
        else if (!a.type[0] && !field_of(d, d->property_type, name) &&
                 strcmp(name, d->property_type->name) == 0)
            rows_odd(d, name);
        else
            push_frame(d, F_SKIP, name);
        text_reset(d);
        break;
    default: /* F_ROW_NAME, F_ROW_VALUE: the object's leaf would have become a table */
        rows_odd(d, name);
        break;
    }
}

/* A rows-mode frame ends. */
static void rows_end(lua_State *L, decoder *d, frame *f)
{
    switch (f->kind) {
    case F_ROW:
        d->row_columns = d->row_filled;
        store(L, &d->frames[d->depth - 1], f->decl, f->name);
        break;
    case F_ROW_PROP:
        if (!lua_isnil(L, f->slot - 1)) {
            if (lua_isnil(L, f->slot)) {
                lua_pushliteral(L, "");
                lua_replace(L, f->slot);
            }
            lua_rawset(L, (int)f->count);
            d->row_filled++;
        } else {
            lua_settop(L, f->slot - 2);
        }
        break;
    case F_ROW_NAME:
    case F_ROW_VALUE:
        {
            size_t len;
            const char *s = text_of(d, &len);
            lua_pushlstring(L, s, len);
        }
        lua_replace(L, d->frames[d->depth - 1].slot - (f->kind == F_ROW_NAME ? 1 : 0));
        break;
    default:
        break;
    }
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
        d->frames[++d->depth] = (frame){.kind = F_SKIP};
        return;
    }
    const pl_type *row_type;
    if (d->rows && d->depth == 3 && p->kind == F_OBJECT && row_result(d, decl, name, a, &row_type)) {
        luaL_checkstack(L, 6, "decoding");
        lua_createtable(L, 0, d->row_columns);
        d->row_filled = 0;
        frame *f = push_frame(d, F_ROW, name);
        f->type = row_type;
        f->decl = decl;
        f->slot = lua_gettop(L);
        return;
    }
    if (wrapper) {
        luaL_checkstack(L, 6, "decoding");
        lua_createtable(L, size_hint_of(decl, 4), 0);
        push_table_frame(L, d, p, F_ARRAY, NULL, decl, name);
        return;
    }
    if (a->type[0] && (declared || !decl || decl->kind == PL_KIND_COMPLEX || decl->kind == PL_KIND_ANY)) {
        const pl_type *t = xsi_type(d, a->type);
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
    d->frames[++d->depth] = (frame){.kind = F_LEAF, .decl = decl, .name = name};
    text_reset(d);
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

/* Whether an element's namespace is the SOAP envelope's: asked only at the levels where
 * Envelope, Header, Body and Fault stand, not of every element of a page. */
static bool in_soap_ns(const char *ns)
{
    return ns && strcmp(ns, PL_SOAP_ENV_NS) == 0;
}

static void on_start(lua_State *L, decoder *d, int base, const event *e)
{
    const char *name = e->name;
    const char *ns = e->ns;
    if (!name)
        name = "";
    if (d->depth >= PL_DECODE_MAX_DEPTH)
        raise_xml(L, "refused: nesting deeper than %d elements", PL_DECODE_MAX_DEPTH);

    if (d->depth == 0) {
        if (strcmp(name, "Envelope") != 0 || !in_soap_ns(ns))
            raise_xml(L,
                      "not a SOAP envelope: the root element is <%s>%s%s, expected "
                      "soap:Envelope in " PL_SOAP_ENV_NS,
                      lua_pushfstring(L, "%s%s%s", e->prefix ? e->prefix : "",
                                      e->prefix ? ":" : "", name),
                      ns ? " in " : "", ns ? ns : "");
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
        if (in_soap_ns(ns) && strcmp(name, "Header") == 0)
            f->kind = F_HEADER;
        else if (in_soap_ns(ns) && strcmp(name, "Body") == 0)
            f->kind = F_BODY;
        break;
    case F_BODY:
        if (!lua_isnil(L, base + SLOT_BODY) || !lua_isnil(L, base + SLOT_FAULT)) {
            d->frames[++d->depth] = (frame){.kind = F_SKIP, .name = name};
            break;
        }
        if (strcmp(name, "Fault") == 0 && in_soap_ns(ns)) {
            lua_newtable(L);
            lua_replace(L, base + SLOT_FAULT);
            d->frames[++d->depth] = (frame){.kind = F_FAULT, .name = name};
            break;
        }
        {
            read_attributes(d, e, &a);
            const pl_global_element *g = pl_schema_global(name);
            const pl_type *t = g ? g->type : NULL;
            if (a.type[0] && xsi_type(d, a.type))
                t = xsi_type(d, a.type);
            luaL_checkstack(L, 6, "decoding");
            lua_createtable(L, 0, 4);
            if (t) {
                push_type_metatable(L, d, base, t);
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
        text_reset(d);
        break;
    case F_LEAF: /* the leaf has a child: it becomes an object */
        leaf_to_object(L, d, base);
        read_attributes(d, e, &a);
        start_value(L, d, base, name, &a);
        break;
    case F_OBJECT:
    case F_ARRAY:
        read_attributes(d, e, &a);
        start_value(L, d, base, name, &a);
        break;
    case F_ROW:
    case F_ROW_PROPS:
    case F_ROW_PROP:
    case F_ROW_NAME:
    case F_ROW_VALUE:
        rows_start(L, d, e, name);
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
        if (f->pass) {
            d->frames[d->depth - 1].count = f->count; /* it stored into the parent's table */
        } else {
            remember_size(f->kind == F_ARRAY ? (const void *)f->decl : (const void *)f->type,
                          f->count);
            lua_settop(L, f->slot - 1);
        }
        break;
    case F_LEAF:
        push_text_value(L, d, f->decl);
        store(L, &d->frames[d->depth - 1], f->decl, f->name);
        break;
    case F_HEADER:
        text_settle(d);
        if (d->depth > 2 && d->text.len) { /* a header entry, not soap:Header itself */
            const char *key = header_key(f->name);
            if (key) {
                lua_pushlstring(L, d->text.data, d->text.len);
                lua_setfield(L, base + SLOT_HEADER, key);
            }
        }
        text_reset(d);
        break;
    case F_FAULT:
        text_settle(d);
        if (d->text.len) {
            const char *key = fault_key(f->name);
            if (key) {
                lua_pushlstring(L, d->text.data, d->text.len);
                lua_setfield(L, base + SLOT_FAULT, key);
            }
        }
        text_reset(d);
        break;
    default:
        rows_end(L, d, f);
        break;
    }
    d->depth--;
}

static void on_text(decoder *d, const event *e)
{
    frame *f = &d->frames[d->depth];
    if (f->kind != F_LEAF && f->kind != F_ROW_NAME && f->kind != F_ROW_VALUE &&
        !(d->depth > 2 && (f->kind == F_HEADER || f->kind == F_FAULT)))
        return;
    if (!d->text_span && d->text.len == 0) {
        d->text_span = true;
        d->span_off = e->off;
        d->span_len = e->len;
        return;
    }
    text_settle(d);
    pl_buffer_append(&d->text, d->chars.data + e->off, e->len);
}

/* Applies the events the last xmlParseChunk recorded, in order, and forgets them. */
static void apply_events(lua_State *L, decoder *d, int base)
{
    if (d->sax_failed || d->chars.failed)
        luaL_error(L, "not enough memory");
    for (size_t i = 0; i < d->n_events; i++) {
        const event *e = &d->events[i];
        switch (e->kind) {
        case EV_START:
            on_start(L, d, base, e);
            if (d->rows_odd)
                return; /* decoded again as objects */
            break;
        case EV_END:
            on_end(L, d, base);
            break;
        case EV_TEXT:
            on_text(d, e);
            break;
        case EV_REFUSE:
            raise_xml(L, "%s", PL_SOAP_DOCTYPE_REFUSED);
            break;
        }
    }
    text_settle(d); /* its run is in chars, emptied now */
    d->n_events = 0;
    pl_buffer_clear(&d->chars);
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

/* Pushes the fixed slots (base + SLOT_HEADER .. SLOT_MT + METATABLE_CACHE - 1). */
static void push_slots(lua_State *L)
{
    lua_createtable(L, 0, 4); /* SLOT_HEADER: WS-Addressing's Action, MessageID, To; Security */
    lua_pushnil(L);  /* SLOT_BODY */
    lua_pushnil(L);  /* SLOT_ELEMENT */
    lua_pushnil(L);  /* SLOT_FAULT */
    pl_object_push_metatables(L); /* SLOT_TYPES */
    for (int i = 0; i < METATABLE_CACHE; i++)
        lua_pushnil(L); /* SLOT_MT + i */
}

/* Parses the document into the slots; false when rows mode met an odd shape (rows_odd) and
 * stopped. Raises on every error. */
static bool parse(lua_State *L, decoder *d, int base, const char *xml, size_t len, int options)
{
    char why[512];
    d->saved_handlers = pl_xml_take_errors(d, on_parse_error, on_generic_error);
    d->handler_set = true;

    /* Only the callbacks the decoder needs: no tree, no entity lookups (so none is ever
     * substituted), a DOCTYPE stops the parser before its DTD. Whitespace and CDATA (with
     * XML_PARSE_NOCDATA) come as characters. */
    xmlSAXHandler sax;
    memset(&sax, 0, sizeof sax);
    sax.initialized = XML_SAX2_MAGIC;
    sax.startElementNs = sax_start;
    sax.endElementNs = sax_end;
    sax.characters = sax_text;
    sax.ignorableWhitespace = sax_text;
    sax.reference = sax_reference;
    pl_xml_stop_at_doctype(&sax);

    /* As pl_soap_check_prolog does (and xmlTextReader did): the first 4 bytes let libxml2
     * detect the encoding, then the rest in chunks. */
    const int total = (int)len; /* pl_soap_precheck refused more than INT_MAX */
    int at = total < 4 ? total : 4;
    d->ctxt = take_parser(&sax, xml, at, &d->ctxt_serial);
    if (!d->ctxt)
        return luaL_error(L, "not enough memory for the XML parser");
    d->ctxt->_private = d;
    xmlCtxtUseOptions(d->ctxt, options);
    do {
        int n = total - at < DECODE_CHUNK ? total - at : DECODE_CHUNK;
        xmlParseChunk(d->ctxt, xml + at, n, at + n == total);
        at += n;
        /* Malformed: the parser's diagnosis comes before whatever this chunk's events would
         * say (the reader, too, reported an error before the nodes of the 512-byte push it
         * came in). A document both malformed and not SOAP within one chunk is named
         * malformed; nothing that decoded before decodes differently. */
        if (d->error.message[0] || !d->ctxt->wellFormed)
            break;
        apply_events(L, d, base);
        if (d->rows_odd)
            return false;
        if (at < total)
            pl_codec_hook(L); /* the chunk's events are applied: nothing is half done */
    } while (at < total && d->ctxt->instate != XML_PARSER_EOF);
    if (pl_xml_stopped_at_doctype(d->ctxt))
        raise_xml(L, "%s", PL_SOAP_DOCTYPE_REFUSED);

    const char *error = d->error.message;
    if (!d->ctxt->wellFormed || error[0]) {
        /* The streaming parser reports a cut-off document in several ways; say what it is. */
        if (d->sax_depth > 0 && (strncmp(error, "Premature end of data", 21) == 0 ||
                                 strncmp(error, "Extra content at the end", 24) == 0))
            raise_xml(L, "malformed XML: the document ends before its elements are closed "
                            "(truncated?) (line %d)", d->error.line);
        if (error[0]) {
            pl_xml_error_describe(&d->error, xml, len, why, sizeof why);
            raise_xml(L, "%s", why);
        }
        raise_xml(L, "malformed XML");
    }
    return true;
}

/* core.decode(xml, opts) -> body, element_name, header
 * opts.rows: the body element's Results that are data extension objects come as rows (see
 * "rows mode" above). */
int pl_l_decode(lua_State *L)
{
    size_t len;
    if (lua_type(L, 1) != LUA_TSTRING) {
        pl_error_push(L, "usage", lua_pushfstring(L, "decode expects the XML as a string, got %s",
                                                   luaL_typename(L, 1)));
        return lua_error(L);
    }
    bool rows = false;
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_getfield(L, 2, "rows");
        rows = lua_toboolean(L, -1);
    }
    const char *xml = lua_tolstring(L, 1, &len);
    lua_settop(L, 1);
    decoder *d = pl_push_scoped_userdata_zeroed(L, sizeof *d, DECODER_ZEROED, DECODER_METATABLE,
                                                 decoder_close);
    decoder_reset(d);
    int base = lua_gettop(L);
    push_slots(L);

    char why[512];
    if (!pl_libxml_load(why, sizeof why))
        return luaL_error(L, "%s", why);
    if (!pl_soap_precheck(xml, len, why, sizeof why)) /* also refuses more than 2 GB */
        raise_xml(L, "%s", why);
    const int options =
        XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOWARNING | XML_PARSE_COMPACT;
    switch (pl_soap_check_prolog(xml, len, options, why, sizeof why)) {
    case PL_PROLOG_READ:
        break;
    case PL_PROLOG_NO_MEMORY:
        return luaL_error(L, "not enough memory for the XML parser");
    case PL_PROLOG_NO_LIBRARY:
        return luaL_error(L, "%s", why);
    default:
        return raise_xml(L, "%s", why);
    }
    d->property_type = rows ? pl_schema_type("APIProperty") : NULL;
    d->rows = d->property_type != NULL;
    if (!parse(L, d, base, xml, len, options)) {
        /* rows mode met a shape it would read otherwise than row_of: objects, from the start */
        decoder_release(d);
        decoder_reset(d);
        lua_settop(L, base);
        push_slots(L);
        parse(L, d, base, xml, len, options);
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
