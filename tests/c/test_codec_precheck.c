/* Unit tests of codec/precheck.c: what the decoder refuses before libxml2 sees it, and the
 * words it uses to say what came instead. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "codec/precheck.h"

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

    return check_report("test_codec_precheck");
}
