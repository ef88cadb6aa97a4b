/* Unit tests of codec/indent.c: envelopes laid out for people (--trace, dry runs) keep every
 * element and every text, change only the whitespace between elements, and never process
 * what a hostile document asks for. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "codec/indent.h"

/* `xml` indented is exactly `want` (NULL: not indented at all). */
static void expect(const char *xml, const char *want, int line)
{
    size_t len = 12345;
    char *got = pl_xml_indent(xml, strlen(xml), &len);
    if (want == NULL && got != NULL) {
        fprintf(stderr, "%s:%d: indented what it should have refused:\n%s\n", __FILE__, line,
                got);
        failures++;
    } else if (want && (got == NULL || strcmp(got, want) != 0 || len != strlen(want))) {
        fprintf(stderr, "%s:%d: got\n%s\nwant\n%s\n", __FILE__, line, got ? got : "(NULL)",
                want);
        failures++;
    }
    if (got == NULL)
        CHECK(len == 0);
    free(got);
}

#define INDENTS(xml, want) expect(xml, want, __LINE__)
#define REFUSES(xml) expect(xml, NULL, __LINE__)

int main(void)
{
    INDENTS(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<s:Envelope xmlns:s=\"urn:s\"><s:Body>"
        "<R xmlns=\"urn:p\"><Action>start</Action><Definitions><Definition><CustomerKey>"
        "k</CustomerKey></Definition></Definitions></R></s:Body></s:Envelope>",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<s:Envelope xmlns:s=\"urn:s\">\n"
        "  <s:Body>\n    <R xmlns=\"urn:p\">\n      <Action>start</Action>\n"
        "      <Definitions>\n        <Definition>\n          <CustomerKey>k</CustomerKey>\n"
        "        </Definition>\n      </Definitions>\n    </R>\n  </s:Body>\n"
        "</s:Envelope>\n");
    /* text inside an element is kept as it is, spaces and line breaks included; the
     * whitespace already between elements is replaced */
    INDENTS("<a>\n   <b> two  spaces \n</b>\n<c/></a>",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a>\n  <b> two  spaces \n</b>\n"
            "  <c/>\n</a>\n");
    /* escaped characters stay escaped; non-ASCII text stays UTF-8 */
    INDENTS("<a><b>x &lt;y&gt; &amp; caf\xC3\xA9</b></a>",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a>\n  <b>x &lt;y&gt; &amp; "
            "caf\xC3\xA9</b>\n"
            "</a>\n");
    /* not XML, or not well-formed: the caller shows it as it came */
    REFUSES("");
    REFUSES("not xml at all");
    REFUSES("<a><b></a>");
    REFUSES("{\"access_token\": \"x\"}");
    /* a DTD is never read (so no entity is declared, expanded or fetched): a document with a
     * DOCTYPE, in any encoding, is shown as it came */
    REFUSES("<!DOCTYPE a [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><a>&e;</a>");
    REFUSES("<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>");
    static const char utf16[] = "<\0!\0D\0O\0C\0T\0Y\0P\0E\0 \0a\0>\0<\0a\0/\0>\0";
    size_t len;
    char *out = pl_xml_indent(utf16, sizeof utf16 - 1, &len);
    CHECK(out == NULL);
    free(out);
    return check_report("test_codec_indent");
}
