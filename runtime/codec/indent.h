/* XML laid out for people: one element per line, nested ones indented. --trace and the dry
 * runs of the example scripts show envelopes this way; what is sent is never the indented
 * text. Pure C (unit-tested by tests/c/test_codec_indent.c). */
#ifndef PL_CODEC_INDENT_H
#define PL_CODEC_INDENT_H

#include <stddef.h>

/* An indented copy of the `len` bytes of XML at `xml` (malloc'd, NUL-terminated, its length in
 * *out_len), or NULL when they are not a well-formed document (the caller then shows them as
 * they are) or memory runs out. Parsed with the safe options of every other parse here (no
 * network, no entity substitution, no DTD loading), its errors never printed. The text of each
 * element is kept as it was, except that XML parsing turns CR LF and a lone CR into LF (the
 * trace shows a body holding a CR unindented for that reason); only the whitespace between
 * elements changes. */
char *pl_xml_indent(const char *xml, size_t len, size_t *out_len);

#endif
