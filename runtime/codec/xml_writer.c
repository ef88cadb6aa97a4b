/* The envelope writer; see xml_writer.h. */
#include "codec/xml_writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/value.h"

void pl_xml_open(pl_xml_out *out)
{
    memset(out, 0, sizeof *out);
}

void pl_xml_close(pl_xml_out *out)
{
    pl_buffer_free(&out->doc);
    pl_buffer_free(&out->names);
    pl_buffer_free(&out->pending);
    free(out->name_at);
    memset(out, 0, sizeof *out);
}

static void fail(pl_xml_out *out, const char *why)
{
    if (!out->failed)
        snprintf(out->error, sizeof out->error, "%s", why);
    out->failed = true;
}

static void put(pl_xml_out *out, const char *s, size_t n)
{
    if (!out->failed && !pl_buffer_add(&out->doc, s, n))
        fail(out, "");
}

#define PUT_LITERAL(out, s) put((out), (s), sizeof(s) - 1)

static void put_str(pl_xml_out *out, const char *s)
{
    put(out, s, strlen(s));
}

/* Fails the document for text XML cannot carry: the character `codepoint` at byte `offset`
 * (0xFFFFFFFF: bytes that are not UTF-8). */
static void refuse_text(pl_xml_out *out, size_t offset, unsigned codepoint)
{
    char why[sizeof out->error];
    if (codepoint == 0xFFFFFFFFu)
        snprintf(why, sizeof why, "text that is not UTF-8 (byte %zu)", offset + 1);
    else
        snprintf(why, sizeof why, "text with the character U+%04X, which XML cannot carry",
                 codepoint);
    fail(out, why);
}

/* What each ASCII byte is in text and attribute values. */
enum { PLAIN, ESCAPED, ESCAPED_IN_ATTRIBUTES, NOT_XML };
/* clang-format off */
static const unsigned char ASCII_CLASS[128] = {
    [0] = NOT_XML,  [1] = NOT_XML,  [2] = NOT_XML,  [3] = NOT_XML,  [4] = NOT_XML,
    [5] = NOT_XML,  [6] = NOT_XML,  [7] = NOT_XML,  [8] = NOT_XML,  [11] = NOT_XML,
    [12] = NOT_XML, [14] = NOT_XML, [15] = NOT_XML, [16] = NOT_XML, [17] = NOT_XML,
    [18] = NOT_XML, [19] = NOT_XML, [20] = NOT_XML, [21] = NOT_XML, [22] = NOT_XML,
    [23] = NOT_XML, [24] = NOT_XML, [25] = NOT_XML, [26] = NOT_XML, [27] = NOT_XML,
    [28] = NOT_XML, [29] = NOT_XML, [30] = NOT_XML, [31] = NOT_XML,
    ['\t'] = ESCAPED_IN_ATTRIBUTES, ['\n'] = ESCAPED_IN_ATTRIBUTES, ['\r'] = ESCAPED,
    ['&'] = ESCAPED, ['<'] = ESCAPED, ['>'] = ESCAPED, ['"'] = ESCAPED,
};
/* clang-format on */

static const char *entity_for(unsigned char c)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\r':
        return "&#13;";
    case '\t':
        return "&#9;";
    default:
        return "&#10;";
    }
}

/* Writes text escaped, in one pass that also checks it; `attribute`: as an attribute value
 * (TAB and LF as character references too). Other characters, non-ASCII ones included, are
 * written as they are. */
static void put_escaped(pl_xml_out *out, const char *s, bool attribute)
{
    if (out->failed)
        return;
    const unsigned char *start = (const unsigned char *)s, *p = start, *run = p;
    const unsigned char *end = p + strlen(s);
    bool rest_checked = false; /* the non-ASCII rest was checked whole */
    for (; p < end; p++) {
        unsigned char c = *p;
        if (c >= 0x80) {
            size_t offset;
            unsigned codepoint;
            if (!rest_checked && !pl_value_check_xml_text((const char *)p, (size_t)(end - p),
                                                          &offset, &codepoint)) {
                refuse_text(out, (size_t)(p - start) + offset, codepoint);
                return;
            }
            rest_checked = true;
            continue;
        }
        unsigned char k = ASCII_CLASS[c];
        if (k == PLAIN || (k == ESCAPED_IN_ATTRIBUTES && !attribute))
            continue;
        if (k == NOT_XML) {
            refuse_text(out, (size_t)(p - start), c);
            return;
        }
        put(out, (const char *)run, (size_t)(p - run));
        put_str(out, entity_for(c));
        run = p + 1;
    }
    put(out, (const char *)run, (size_t)(p - run));
}

void pl_xml_declaration(pl_xml_out *out)
{
    PUT_LITERAL(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
}

/* Closes the open start tag: its namespace declarations, then '>' (or "/>" when `empty`). */
static void close_start_tag(pl_xml_out *out, bool empty)
{
    if (!out->tag_open)
        return;
    put(out, out->pending.data ? out->pending.data : "", out->pending.len);
    pl_buffer_clear(&out->pending);
    if (empty)
        PUT_LITERAL(out, "/>");
    else
        PUT_LITERAL(out, ">");
    out->tag_open = false;
}

/* Declares a namespace on the open start tag: written when the tag closes, the last declared
 * first (as xmlTextWriter did). */
static void declare_namespace(pl_xml_out *out, const char *prefix, const char *ns)
{
    pl_xml_out decl = {0};
    PUT_LITERAL(&decl, " xmlns");
    if (prefix) {
        PUT_LITERAL(&decl, ":");
        put_str(&decl, prefix);
    }
    PUT_LITERAL(&decl, "=\"");
    put_escaped(&decl, ns, true);
    PUT_LITERAL(&decl, "\"");
    if (decl.failed) {
        fail(out, decl.error);
    } else if (!pl_buffer_append(&decl.doc, out->pending.data ? out->pending.data : "",
                                 out->pending.len)) {
        fail(out, "");
    } else {
        pl_buffer_clear(&out->pending);
        if (!pl_buffer_append(&out->pending, decl.doc.data, decl.doc.len))
            fail(out, "");
    }
    pl_buffer_free(&decl.doc);
}

void pl_xml_start_ns(pl_xml_out *out, const char *prefix, const char *name, const char *ns)
{
    if (out->failed)
        return;
    close_start_tag(out, false);
    if (out->depth == out->cap_depth) {
        size_t cap = out->cap_depth ? out->cap_depth * 2 : 16;
        size_t *grown = realloc(out->name_at, cap * sizeof *grown);
        if (!grown) {
            fail(out, "");
            return;
        }
        out->name_at = grown;
        out->cap_depth = cap;
    }
    out->name_at[out->depth++] = out->names.len;
    PUT_LITERAL(out, "<");
    size_t qname_at = out->doc.len;
    if (prefix) {
        put_str(out, prefix);
        PUT_LITERAL(out, ":");
    }
    put_str(out, name);
    if (out->failed)
        return;
    /* the end tag's name: the bytes just written, and its NUL */
    if (!pl_buffer_add(&out->names, out->doc.data + qname_at, out->doc.len - qname_at + 1))
        fail(out, "");
    out->tag_open = true;
    if (ns)
        declare_namespace(out, prefix, ns);
}

void pl_xml_start(pl_xml_out *out, const char *name)
{
    pl_xml_start_ns(out, NULL, name, NULL);
}

void pl_xml_attribute_ns(pl_xml_out *out, const char *prefix, const char *name, const char *ns,
                         const char *value)
{
    if (out->failed)
        return;
    if (!out->tag_open) {
        fail(out, "an attribute outside a start tag");
        return;
    }
    PUT_LITERAL(out, " ");
    if (prefix) {
        put_str(out, prefix);
        PUT_LITERAL(out, ":");
    }
    put_str(out, name);
    PUT_LITERAL(out, "=\"");
    put_escaped(out, value, true);
    PUT_LITERAL(out, "\"");
    if (ns)
        declare_namespace(out, prefix, ns);
}

void pl_xml_attribute(pl_xml_out *out, const char *name, const char *value)
{
    pl_xml_attribute_ns(out, NULL, name, NULL, value);
}

void pl_xml_text(pl_xml_out *out, const char *text)
{
    if (out->failed)
        return;
    if (out->depth == 0) {
        fail(out, "text outside the document's element");
        return;
    }
    close_start_tag(out, false);
    put_escaped(out, text, false);
}

void pl_xml_end(pl_xml_out *out)
{
    if (out->failed)
        return;
    if (out->depth == 0) {
        fail(out, "an end tag without its start");
        return;
    }
    size_t at = out->name_at[--out->depth];
    if (out->tag_open) {
        close_start_tag(out, true);
    } else {
        PUT_LITERAL(out, "</");
        put(out, out->names.data + at, out->names.len - at - 1);
        PUT_LITERAL(out, ">");
    }
    out->names.len = at;
    out->names.data[at] = '\0';
}

void pl_xml_element(pl_xml_out *out, const char *name, const char *text)
{
    pl_xml_start(out, name);
    pl_xml_text(out, text);
    pl_xml_end(out);
}

void pl_xml_element_ns(pl_xml_out *out, const char *prefix, const char *name, const char *text)
{
    pl_xml_start_ns(out, prefix, name, NULL);
    pl_xml_text(out, text);
    pl_xml_end(out);
}

const char *pl_xml_finish(pl_xml_out *out, size_t *len)
{
    while (out->depth > 0 && !out->failed)
        pl_xml_end(out);
    PUT_LITERAL(out, "\n");
    if (out->failed)
        return NULL;
    *len = out->doc.len;
    return out->doc.data;
}
