/* What a response is, judged before any XML parser sees it. Pure C (unit-tested by
 * tests/c/test_codec_precheck.c).
 *
 * The decoder hands every answer here first: an empty body, an HTML error page (a proxy's or a
 * load balancer's "502 Bad Gateway"), plain text, or a document with a DOCTYPE never reach
 * libxml2. The prolog is scanned by hand, so a DTD is refused before it could be parsed (no
 * entity or external resource is ever processed), and the message says what came instead. */
#ifndef PL_CODEC_PRECHECK_H
#define PL_CODEC_PRECHECK_H

#include <stdbool.h>
#include <stddef.h>

/* The refusal of a document that declares a DOCTYPE (also what the decoder says when the
 * reader meets one). */
#define PL_SOAP_DOCTYPE_REFUSED                                                                \
    "refused: the document has a DOCTYPE declaration (DTDs and entities are never processed "  \
    "in SOAP messages)"

/* True when the `len` bytes at `s` may be given to the XML parser (it still judges the rest);
 * otherwise false with the reason in `why` (`cap` bytes; 256 hold any reason), e.g.
 * "not a SOAP envelope: got an HTML page ('502 Bad Gateway')". */
bool pl_soap_precheck(const char *s, size_t len, char *why, size_t cap);

#endif
