/* What the parsers of codec/ (the decoder's prolog check) and schema/ (the XSD validator)
 * share about libxml2: the type its error callbacks take, and stopping at a DOCTYPE before
 * the DTD is read. Pure C.
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

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

/* libxml2 2.12 made the error its structured callbacks get const. */
#if LIBXML_VERSION >= 21200
#define PL_XML_ERROR const xmlError
#else
#define PL_XML_ERROR xmlError
#endif

/* Makes a parser given `sax` stop at a DOCTYPE, before its DTD. The parser's user data must
 * be its own context (as with xmlNewParserCtxt, or a push parser made with NULL user data). */
void pl_xml_stop_at_doctype(xmlSAXHandler *sax);

/* Whether the parser `ctxt` stopped at a DOCTYPE, its DTD unread. False when there was none,
 * or when a fatal error came first (libxml2 then calls no callback and reads on without
 * declaring anything, and the document is malformed). Valid until the context is reset or
 * freed. */
bool pl_xml_stopped_at_doctype(const xmlParserCtxt *ctxt);

#endif
