/* Validating SOAP messages against the XSD of the partner API WSDL (plus the supplement).
 *
 * The XSD is the WSDL's <types><schema> made standalone the documented way (the `tns` and
 * `xsd` namespace declarations of <definitions> copied onto it, the import of the
 * unpublished fault schema dropped) and extended with the supplement's types (supplement.c)
 * as complexContent extensions of their bases, so xsi:type="AudienceDefinition" validates.
 *
 * Pure C (libxml2), no Lua. Errors are collected, never printed. A loaded pl_xsd is
 * read-only: several threads may validate with the same one at the same time (each call
 * makes its own parser and validation contexts). */
#ifndef PL_XSD_H
#define PL_XSD_H

#include <stddef.h>

typedef struct pl_xsd pl_xsd;

/* Loads and compiles the schema of the WSDL at `wsdl_path`. On failure returns NULL and
 * sets *error to a malloc'd message naming the file and what is wrong (free() it). */
pl_xsd *pl_xsd_load(const char *wsdl_path, char **error);

/* Frees everything; NULL is fine. */
void pl_xsd_free(pl_xsd *xsd);

/* Validates one message (request or response alike): when the document is a SOAP 1.1
 * Envelope, the first element child of its Body is validated against its global element
 * declaration (the Envelope and Header are not part of the XSD); otherwise the root element
 * itself is validated. Returns 1 when valid; 0 when not, with *message set to a malloc'd
 * text (free() it): one line per problem (at most PL_XSD_MAX_ERRORS), each naming the line
 * and the element, e.g.
 *   line 7: Element 'Objects': This element is not expected. Expected is ( Options ).
 * (the partner namespace is left out of element names; other namespaces stay). Returns -1
 * (and a message) when memory runs out. */
int pl_xsd_validate(const pl_xsd *xsd, const char *xml, size_t len, char **message);

#define PL_XSD_MAX_ERRORS 10

/* What the service's deserializer (.NET XmlSerializer behind Service.asmx) makes of a request,
 * read with the schema model built into the binary (schema.h), not the XSD: it takes a request
 * the XSD refuses for a missing required element (CreateRequest without Options) or for
 * elements out of the sequence's order (it reads them in any order), skips elements it does
 * not expect (an unknown name, one in another namespace, a second value of a field that holds
 * one) and refuses only what it
 * cannot convert: a value outside an enumeration, a number, boolean or date it cannot read, an
 * xsi:type it does not know (or that does not derive from the declared type), an abstract type
 * without xsi:type. */
typedef struct pl_service_read {
    char *fault;     /* the refusal, worded as the service's faultstring, or NULL */
    char *dropped;   /* what it would skip, one "Path/To/Element (why)" a line, or NULL */
    char *kept;      /* the request without what is skipped (when something is), UTF-8 */
    size_t kept_len;
} pl_service_read;

/* Returns 1 when the service would read the request (out->dropped and out->kept say what it
 * would skip), 0 when it would refuse it (out->fault), -1 when memory runs out. The request is
 * a SOAP Envelope (its Body's first element is read, Header before or after the Body) or the
 * message element itself; an element that is no message of the partner namespace is refused
 * ("<X xmlns='...'> was not expected."). */
int pl_xsd_read_like_service(const char *xml, size_t len, pl_service_read *out);
void pl_service_read_free(pl_service_read *r);

#endif
