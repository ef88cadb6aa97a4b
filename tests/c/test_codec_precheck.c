/* Unit tests of codec/precheck.c: what the decoder refuses before its reader sees the input
 * (by a look at the bytes, then by libxml2's reading of the prolog), and the words it uses to
 * say what came instead or what libxml2 found. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "codec/precheck.h"
#include "xml_quiet.h"

/* One input: accepted when `reason` is NULL, else refused with exactly that reason. */
static void expect(const char *input, size_t len, const char *reason, int line)
{
    char why[256] = "";
    bool ok = pl_soap_precheck(input, len, why, sizeof why);
    if (reason == NULL && !ok) {
        fprintf(stderr, "%s:%d: refused (%s)\n", __FILE__, line, why);
        failures++;
    } else if (reason && (ok || strcmp(why, reason) != 0)) {
        fprintf(stderr, "%s:%d: got %s \"%s\"\n  want refused \"%s\"\n", __FILE__, line,
                ok ? "accepted" : "refused", why, reason);
        failures++;
    }
}

#define ACCEPTED(s) expect(s, strlen(s), NULL, __LINE__)
#define REFUSED(s, reason) expect(s, strlen(s), reason, __LINE__)

/* Every byte of `s` followed by a NUL: UTF-16LE for ASCII text, without a byte order mark. */
static size_t utf16le(const char *s, char *out)
{
    size_t n = 0;
    for (; *s; s++) {
        out[n++] = *s;
        out[n++] = '\0';
    }
    return n;
}

#define READER_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOWARNING)

/* What pl_soap_check_prolog says of one input: `verdict`, and for a refusal exactly `reason`. */
static void expect_prolog(const char *input, size_t len, pl_prolog_verdict verdict,
                          const char *reason, int line)
{
    char why[512] = "";
    pl_prolog_verdict got = pl_soap_check_prolog(input, len, READER_OPTIONS, why, sizeof why);
    if (got != verdict || (reason && strcmp(why, reason) != 0)) {
        fprintf(stderr, "%s:%d: got verdict %d \"%s\"\n  want %d \"%s\"\n", __FILE__, line,
                (int)got, why, (int)verdict, reason ? reason : "");
        failures++;
    }
}

#define PROLOG(s, verdict, reason) expect_prolog(s, strlen(s), verdict, reason, __LINE__)

/* An encoding libxml2 decodes but no look at the bytes can: the DOCTYPE is found all the same,
 * before its DTD is read (this DTD is malformed, so a parser that read it would say so). */
static void test_prolog_in_every_encoding(void)
{
    const char *doctype = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>"
                          "<!DOCTYPE x [<!ENTITY broken>]><x>y</x>";
    char wide[256];
    size_t n = utf16le(doctype, wide);
    expect_prolog(wide, n, PL_PROLOG_DOCTYPE, PL_SOAP_DOCTYPE_REFUSED, __LINE__);
    /* the byte-level look leaves UTF-16 (with or without a byte order mark) to libxml2 */
    expect(wide, n, NULL, __LINE__);
    char bom[260] = "\xFF\xFE";
    memcpy(bom + 2, wide, n);
    expect(bom, n + 2, NULL, __LINE__);
    expect_prolog(bom, n + 2, PL_PROLOG_DOCTYPE, PL_SOAP_DOCTYPE_REFUSED, __LINE__);

    n = utf16le("<?xml version=\"1.0\" encoding=\"UTF-16\"?><x>y</x>", wide);
    expect_prolog(wide, n, PL_PROLOG_READ, NULL, __LINE__);

    /* UTF-7, named by the declaration: "+ADwAIQ-" is "<!" */
    PROLOG("<?xml version=\"1.0\" encoding=\"UTF-7\"?>+ADwAIQ-DOCTYPE x "
           "+AFsAPAAh-ENTITY broken+AD4AXQA+-<x/>",
           PL_PROLOG_DOCTYPE, PL_SOAP_DOCTYPE_REFUSED);
    /* the plain case too, comments and processing instructions before it */
    PROLOG(
        "<?xml version=\"1.0\"?><!-- c --><?pi?><!DOCTYPE x SYSTEM \"file:///etc/passwd\"><x/>",
        PL_PROLOG_DOCTYPE, PL_SOAP_DOCTYPE_REFUSED);
}

static void test_prolog(void)
{
    /* the prologs every SOAP answer sends are settled without a parser (plain_utf8_prolog):
     * the same verdicts, and a DOCTYPE after any of them is still refused */
    PROLOG("<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope>", PL_PROLOG_READ, NULL);
    PROLOG("<?xml version='1.0' encoding='UTF-8'?>\r\n<_x/>", PL_PROLOG_READ, NULL);
    PROLOG("<?xml version=\"1.0\"?>\n<x>", PL_PROLOG_READ, NULL);
    PROLOG("\n\t <x>", PL_PROLOG_READ, NULL);
    PROLOG("<?xml version=\"1.0\" encoding=\"utf-8\"?><!DOCTYPE x [<!ENTITY e 'y'>]><x>&e;</x>",
           PL_PROLOG_DOCTYPE, PL_SOAP_DOCTYPE_REFUSED);
    PROLOG("<?xml version='1.0' encoding='UTF-8'?>\n<!DOCTYPE x><x/>", PL_PROLOG_DOCTYPE,
           PL_SOAP_DOCTYPE_REFUSED);
    PROLOG("<!DOCTYPE x><x/>", PL_PROLOG_DOCTYPE, PL_SOAP_DOCTYPE_REFUSED);
    PROLOG("<?xml version=\"1.0\" encoding=\"utf-8\"?><!-- c --><!DOCTYPE x><x/>",
           PL_PROLOG_DOCTYPE, PL_SOAP_DOCTYPE_REFUSED);
    PROLOG("<?xml version=\"1.0\" encoding=\"utf-8\" ?><!DOCTYPE x><x/>", PL_PROLOG_DOCTYPE,
           PL_SOAP_DOCTYPE_REFUSED);
    PROLOG("<a/>", PL_PROLOG_READ, NULL); /* shorter than the first chunk */
    PROLOG("<?xml version=\"1.0\"?>\n<!-- c -->\n<soap:Envelope xmlns:soap=\"urn:x\">",
           PL_PROLOG_READ, NULL); /* the rest is the reader's */
    PROLOG("<?xml version=\"1.0\"?><!-- only a comment -->", PL_PROLOG_MALFORMED,
           "malformed XML: Extra content at the end of the document (line 1)");
    /* the root's start tag is cut short: the reader says so */
    PROLOG("<?xml version=\"1.0\"?><x", PL_PROLOG_READ, NULL);
    /* an error while the parser is being made: the first bytes name UCS-4 in an unusual
     * byte order (found by fuzzing) */
    expect_prolog("\0\0<\0<\0?<", 8, PL_PROLOG_MALFORMED,
                  "malformed XML: encoding not supported UCS4 2143 (line 1)", __LINE__);
    /* a byte the declared encoding cannot convert, before the root: named as such */
    PROLOG("<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><!-- \x80< --><x/>",
           PL_PROLOG_MALFORMED,
           "malformed XML: encoding error: the document is not in Shift_JIS, the encoding it "
           "declares (input conversion failed due to input error, bytes 0x80 0x3C 0x20 0x2D)");

    /* libxml2 prints nothing and the thread's handlers are back afterwards */
    xml_quiet_begin();
    PROLOG("<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><!-- \x80< --><x/>",
           PL_PROLOG_MALFORMED, NULL);
    PROLOG("<!-- only a comment -->", PL_PROLOG_MALFORMED, NULL);
    xml_quiet_end();
}

static void record_generic(pl_xml_error *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pl_xml_error_vrecord(e, fmt, ap);
    va_end(ap);
}

/* How the first error is kept and worded. */
static void test_errors(void)
{
    char out[512];
    pl_xml_error e = {0};
    record_generic(&e, "xmlParseChunk: %s\n  \n", "encoder error");
    CHECK(strcmp(e.message, "xmlParseChunk: encoder error") == 0 && e.line == 0);
    record_generic(&e, "a second message");
    CHECK(strcmp(e.message, "xmlParseChunk: encoder error") == 0); /* the first one stays */

    const char *plain = "<x/>";
    pl_xml_error_describe(&e, plain, strlen(plain), out, sizeof out);
    CHECK(strcmp(out, "malformed XML: xmlParseChunk: encoder error") == 0);

    e = (pl_xml_error){.message = "Opening and ending tag mismatch: a line 1 and b", .line = 3};
    pl_xml_error_describe(&e, plain, strlen(plain), out, sizeof out);
    CHECK(strcmp(out, "malformed XML: Opening and ending tag mismatch: a line 1 and b "
                      "(line 3)") == 0);

    /* an encoding error names the encoding the declaration names, if any */
    e = (pl_xml_error){.message = "input conversion failed", .line = 1, .encoding = true};
    pl_xml_error_describe(&e, plain, strlen(plain), out, sizeof out);
    CHECK(strcmp(out, "malformed XML: encoding error: input conversion failed") == 0);
    const char *declared = "\xEF\xBB\xBF<?xml version='1.0' encoding = 'EUC-JP' ?><x/>";
    pl_xml_error_describe(&e, declared, strlen(declared), out, sizeof out);
    CHECK(strcmp(out, "malformed XML: encoding error: the document is not in EUC-JP, the "
                      "encoding it declares (input conversion failed)") == 0);
    /* a NUL or a quote ends the name */
    const char nul[] = "<?xml version='1.0' encoding='EUC\0JP'?><x/>";
    pl_xml_error_describe(&e, nul, sizeof nul - 1, out, sizeof out);
    CHECK(strstr(out, "not in EUC, the encoding") != NULL);
}

int main(void)
{
    ACCEPTED("<soap:Envelope/>");
    ACCEPTED("\xEF\xBB\xBF  <?xml version=\"1.0\"?>\n<!-- hi --><?pi x?><Envelope/>");
    ACCEPTED("<?xml version=\"1.0\""); /* unterminated: left to the parser to report */

    REFUSED("", "empty response: expected a SOAP envelope, got no content");
    REFUSED(" \r\n\t", "empty response: expected a SOAP envelope, got only whitespace");
    REFUSED("<!DOCTYPE html><html><head><title> 502 Bad\nGateway </title>",
            "not a SOAP envelope: got an HTML page (' 502 Bad Gateway')");
    REFUSED("<HTML><body>no title</body></HTML>", "not a SOAP envelope: got an HTML page");
    REFUSED("  Service Unavailable: the upstream server is being restarted, retry later",
            "not XML: expected a SOAP envelope, got text starting 'Service Unavailable: the "
            "upstream server...'");
    REFUSED("{\"error\":\x01}", "not XML: expected a SOAP envelope, got text starting "
                                "'{\"error\":?}'");
    REFUSED(
        "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x/>",
        PL_SOAP_DOCTYPE_REFUSED);
    REFUSED("<!-- c --><!DOCTYPE Envelope><Envelope/>", PL_SOAP_DOCTYPE_REFUSED);

    /* an embedded NUL is the caller's length, not the end of the input */
    expect("  \0<x/>", 7, "not XML: expected a SOAP envelope, got text starting '?<x/>'",
           __LINE__);

    /* libxml2's US-ASCII decoder drops a byte above 0x7F without a word: named here instead */
    REFUSED("<?xml version=\"1.0\" encoding=\"US-ASCII\"?>\n<x>\n caf\xC3\xA9</x>",
            "malformed XML: encoding error: byte 0xC3 at line 3 (byte 51) is not US-ASCII, the "
            "encoding the document declares");
    REFUSED("<?xml version='1.0' encoding='ascii'?><x>\xFF</x>",
            "malformed XML: encoding error: byte 0xFF at line 1 (byte 42) is not US-ASCII, the "
            "encoding the document declares");
    ACCEPTED("<?xml version=\"1.0\" encoding=\"US-ASCII\"?><x>plain</x>");
    ACCEPTED("<?xml version=\"1.0\" encoding=\"UTF-8\"?><x>caf\xC3\xA9</x>");
    ACCEPTED("<?xml version=\"1.0\" encoding=\"US-ASCII-not\"?><x>\xC3\xA9</x>");

    test_prolog_in_every_encoding();
    test_prolog();
    test_errors();

    return check_report("test_codec_precheck");
}
