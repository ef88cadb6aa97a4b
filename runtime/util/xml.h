/* What the parsers of codec/ (the decoder's prolog check), bind/ (the decoder) and schema/
 * (the XSD validator) share about libxml2: the type its error callbacks take, taking every
 * message it has while a parser runs, and stopping at a DOCTYPE before the DTD is read.
 * Pure C.
 *
 * libxml2 calls a SAX handler's internalSubset as soon as it has read a DOCTYPE's name and
 * external id, before the first declaration of the DTD, whatever encoding it decodes the
 * document in (UTF-16 without a byte order mark, UTF-7 named in the XML declaration, ...).
 * A parser stopped there has read no DTD: no entity is declared, none expanded, no external
 * resource fetched. No look at the bytes can be as sure, since only libxml2 knows which
 * encoding it will read the document in. */
#ifndef PL_UTIL_XML_H
#define PL_UTIL_XML_H

#include <stdbool.h>

#include "util/libxml.h"

/* libxml2 2.12 made the error its structured callbacks get const. */
#if LIBXML_VERSION >= 21200
#define PL_XML_ERROR const xmlError
#else
#define PL_XML_ERROR xmlError
#endif

/* libxml2's handlers of the calling thread. A parser's own error handler gets only some of
 * its messages: errors of converting the input (domain I18N, e.g. "input conversion failed")
 * and a few printf-style ones (xmlParseChunk's "encoder error") go to these, and libxml2
 * prints to stderr what they do not take. */
typedef struct pl_xml_handlers {
    xmlStructuredErrorFunc structured;
    void *structured_context;
    xmlGenericErrorFunc generic;
    void *generic_context;
} pl_xml_handlers;

/* Points the thread's handlers at `structured` and `generic`, both called with `context`,
 * and returns the ones they replace, for pl_xml_restore_errors once the parser is done. */
pl_xml_handlers pl_xml_take_errors(void *context, xmlStructuredErrorFunc structured,
                                   xmlGenericErrorFunc generic);
void pl_xml_restore_errors(const pl_xml_handlers *saved);

/* Makes a parser given `sax` stop at a DOCTYPE, before its DTD. The parser's user data must
 * be its own context (as with xmlNewParserCtxt, or a push parser made with NULL user data). */
void pl_xml_stop_at_doctype(xmlSAXHandler *sax);

/* Whether the parser `ctxt` stopped at a DOCTYPE, its DTD unread. False when there was none,
 * or when a fatal error came first (libxml2 then calls no callback and reads on without
 * declaring anything, and the document is malformed). Valid until the context is reset or
 * freed. */
bool pl_xml_stopped_at_doctype(const xmlParserCtxt *ctxt);

#endif
