/* The XML writer of SOAP envelopes: elements, attributes, namespace declarations and text,
 * escaped, into one growable buffer. Pure C; needs no library (libxml2 is loaded only to read).
 *
 * It writes what libxml2's xmlTextWriter wrote before it, byte for byte (tests/c/
 * test_codec_writer.c compares the two), at an eighth of the cost: an envelope is a few
 * dozen elements of known names, and xmlTextWriter's lists, per-call allocations and output
 * encoder were 43,000 of a Perform's 447,000 instructions.
 *
 *   - An element's namespace declaration (pl_xml_start_ns with a URI) is written after its
 *     attributes, when its start tag closes; an element without content closes as "/>".
 *   - Text escapes & < > " and CR (&#13;, so a CR survives the reader's line-end
 *     normalisation); attribute values also TAB and LF (&#9; &#10;: attribute-value
 *     normalisation would turn them into spaces). Everything else, non-ASCII included, is
 *     written as it is (UTF-8, the declared encoding).
 *   - Text and attribute values must be UTF-8 of characters XML 1.0 can carry: anything else
 *     fails the document (pl_xml_finish returns NULL and `error` says which character), where
 *     xmlTextWriter wrote a document no parser would read. Element and attribute names are
 *     the caller's to get right (the schema's, or names checked against it).
 *
 * Every call after a failure does nothing, so a sequence of writes is checked once at the end
 * (pl_xml_finish). */
#ifndef PL_CODEC_XML_WRITER_H
#define PL_CODEC_XML_WRITER_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buffer.h"

typedef struct pl_xml_out {
    pl_buffer doc;   /* the document so far */
    pl_buffer names; /* the open elements' qualified names, each NUL-terminated */
    size_t *name_at; /* where each open element's name starts in `names` */
    size_t depth, cap_depth;
    pl_buffer pending; /* the open start tag's namespace declarations, written as it closes */
    bool tag_open;     /* the last start tag is not closed yet */
    bool failed;
    char error[128]; /* why it failed ("" out of memory) */
} pl_xml_out;

/* Starts an empty document; never fails (memory is allocated as it is written). */
void pl_xml_open(pl_xml_out *out);
/* Frees what the writer holds; the document pl_xml_finish returned is freed with it. */
void pl_xml_close(pl_xml_out *out);

/* <?xml version="1.0" encoding="UTF-8"?> and a line end: the first write of a document. */
void pl_xml_declaration(pl_xml_out *out);
void pl_xml_start(pl_xml_out *out, const char *name);
/* <prefix:name>, declaring xmlns:prefix="ns" when ns is not NULL. */
void pl_xml_start_ns(pl_xml_out *out, const char *prefix, const char *name, const char *ns);
/* An attribute of the element just started (before its content). */
void pl_xml_attribute(pl_xml_out *out, const char *name, const char *value);
void pl_xml_attribute_ns(pl_xml_out *out, const char *prefix, const char *name, const char *ns,
                         const char *value);
void pl_xml_text(pl_xml_out *out, const char *text); /* escaped */
void pl_xml_end(pl_xml_out *out);
void pl_xml_element(pl_xml_out *out, const char *name, const char *text);
void pl_xml_element_ns(pl_xml_out *out, const char *prefix, const char *name, const char *text);

/* Ends every open element and the document (a line end). The document (len bytes,
 * NUL-terminated), valid until pl_xml_close; NULL when a write failed (`error` says why, or is
 * empty when memory ran out). */
const char *pl_xml_finish(pl_xml_out *out, size_t *len);

#endif
