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

#endif
