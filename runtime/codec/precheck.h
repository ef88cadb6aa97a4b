/* What a response is, judged before the decoder's reader parses it. Pure C (unit-tested by
 * tests/c/test_codec_precheck.c).
 *
 * The decoder hands every answer to two checks before its reader sees it:
 *   - pl_soap_precheck looks at the bytes: an empty body, an HTML error page (a proxy's or a
 *     load balancer's "502 Bad Gateway"), plain text, a plain DOCTYPE, or a byte above 0x7F in
 *     a document that declares US-ASCII are refused with a message that says what came
 *     instead;
 *   - pl_soap_check_prolog has libxml2 itself read the prolog, in whatever encoding it detects
 *     or is told, and stop at a DOCTYPE before its DTD (util/xml.h): the check no encoding
 *     gets past, so no DTD, entity or external resource is ever processed.
 * libxml2's messages while it reads (structured and generic) are kept in a pl_xml_error, never
 * printed; pl_xml_error_describe words the first for the user. */
#ifndef PL_CODEC_PRECHECK_H
#define PL_CODEC_PRECHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/xml.h"

/* The refusal of a document that declares a DOCTYPE (also what the decoder says when the
 * reader meets one). */
#define PL_SOAP_DOCTYPE_REFUSED                                                                \
    "refused: the document has a DOCTYPE declaration (DTDs and entities are never processed "  \
    "in SOAP messages)"

/* True when the `len` bytes at `s` may be given to the XML parser (it still judges the rest);
 * otherwise false with the reason in `why` (`cap` bytes; 256 hold any reason), e.g.
 * "not a SOAP envelope: got an HTML page ('502 Bad Gateway')". Input that starts in UTF-16,
 * UTF-32 or EBCDIC (by its byte order mark or its first characters) is left to libxml2 (and
 * pl_soap_check_prolog) to judge. */
bool pl_soap_precheck(const char *s, size_t len, char *why, size_t cap);

/* The first error libxml2 reported while parsing. A zeroed one holds none. */
typedef struct pl_xml_error {
    char message[300]; /* on one line, without trailing space; "" while there is none */
    int line;          /* 0 when libxml2 named none */
    bool encoding;     /* converting the input from its encoding failed */
} pl_xml_error;

/* Keep libxml2's structured error (at level error or above) unless one is kept already. */
void pl_xml_error_record(pl_xml_error *e, PL_XML_ERROR *err);
/* Keep a generic message (xmlGenericError's printf-style arguments) unless one is kept. */
void pl_xml_error_vrecord(pl_xml_error *e, const char *fmt, va_list ap);
/* "malformed XML: ..." for the kept error of parsing the `len` bytes at `xml` into `out`
 * (`cap` bytes; 512 hold any): an encoding error names the encoding the document declares. */
void pl_xml_error_describe(const pl_xml_error *e, const char *xml, size_t len, char *out,
                           size_t cap);

typedef enum pl_prolog_verdict {
    PL_PROLOG_READ,      /* the root element's start tag was reached, no DOCTYPE before it */
    PL_PROLOG_DOCTYPE,   /* refused: PL_SOAP_DOCTYPE_REFUSED */
    PL_PROLOG_MALFORMED, /* libxml2 could not read the prolog to the root element */
    PL_PROLOG_NO_MEMORY,
    PL_PROLOG_NO_LIBRARY /* libxml2 could not be loaded: why says so (util/libxml.h) */
} pl_prolog_verdict;

/* Has libxml2's push parser (as the decoder makes it, with the decoder's `options`) read
 * the prolog of the `len` bytes at `xml`, up to the root element's start tag, and says what
 * it found; for PL_PROLOG_DOCTYPE and PL_PROLOG_MALFORMED the reason is in `why` (`cap` bytes;
 * 512 hold any). A prolog it cannot read to the root is one a reader would read no better, but
 * (converting the input in other chunks) maybe only after a DTD, so it is refused too. Nothing
 * is printed: libxml2's handlers are replaced while it reads, then restored. `len` is at most
 * INT_MAX (pl_soap_precheck refuses more). */
pl_prolog_verdict pl_soap_check_prolog(const char *xml, size_t len, int options, char *why,
                                       size_t cap);

#endif
