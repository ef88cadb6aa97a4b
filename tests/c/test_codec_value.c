/* Unit tests of the codec's pure-C layer: canonical values (codec/value.c) and SOAP
 * envelopes written with xmlTextWriter (codec/soap.c). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "codec/soap.h"
#include "codec/value.h"

#define CHECK_STR(got, want)                                                   \
    do {                                                                       \
        const char *g_ = (got), *w_ = (want);                                  \
        if (!g_ || strcmp(g_, w_) != 0) {                                      \
            fprintf(stderr, "%s:%d: got \"%s\"\n  want \"%s\"\n", __FILE__, __LINE__, \
                    g_ ? g_ : "(null)", w_);                                   \
            failures++;                                                        \
        }                                                                      \
    } while (0)

static pl_value_status parse_int(const char *s, pl_kind kind, long long *out)
{
    return pl_value_parse_integer(s, strlen(s), kind, out);
}

static void test_integers(void)
{
    long long v = 0;
    CHECK(parse_int("2147483647", PL_KIND_INT, &v) == PL_VALUE_OK && v == 2147483647LL);
    CHECK(parse_int("-2147483648", PL_KIND_INT, &v) == PL_VALUE_OK && v == -2147483648LL);
    CHECK(parse_int("2147483648", PL_KIND_INT, &v) == PL_VALUE_RANGE);
    CHECK(parse_int("+12", PL_KIND_BYTE, &v) == PL_VALUE_OK && v == 12);
    CHECK(parse_int("128", PL_KIND_BYTE, &v) == PL_VALUE_RANGE);
    CHECK(parse_int("-32769", PL_KIND_SHORT, &v) == PL_VALUE_RANGE);
    CHECK(parse_int("-9223372036854775808", PL_KIND_LONG, &v) == PL_VALUE_OK && v == (-9223372036854775807LL - 1));
    CHECK(parse_int("9223372036854775808", PL_KIND_LONG, &v) == PL_VALUE_RANGE);
    CHECK(parse_int("99999999999999999999999", PL_KIND_LONG, &v) == PL_VALUE_RANGE);
    CHECK(parse_int("", PL_KIND_INT, &v) == PL_VALUE_SYNTAX);
    CHECK(parse_int("-", PL_KIND_INT, &v) == PL_VALUE_SYNTAX);
    CHECK(parse_int(" 1", PL_KIND_INT, &v) == PL_VALUE_SYNTAX);
    CHECK(parse_int("1.0", PL_KIND_INT, &v) == PL_VALUE_SYNTAX);
    CHECK(parse_int("0x10", PL_KIND_INT, &v) == PL_VALUE_SYNTAX);
    CHECK(parse_int("1", PL_KIND_STRING, &v) == PL_VALUE_SYNTAX);
}

static void test_doubles(void)
{
    char buf[40];
    double d = 0;
    pl_value_format_double(0.1, buf, sizeof buf);
    CHECK_STR(buf, "0.1");
    pl_value_format_double(3.0, buf, sizeof buf);
    CHECK_STR(buf, "3");
    pl_value_format_double(1.0 / 3.0, buf, sizeof buf);
    CHECK(pl_value_parse_double(buf, strlen(buf), &d) && d == 1.0 / 3.0);
    pl_value_format_double(1e300, buf, sizeof buf);
    CHECK_STR(buf, "1e+300");
    pl_value_format_double(-INFINITY, buf, sizeof buf);
    CHECK_STR(buf, "-INF");
    pl_value_format_double(NAN, buf, sizeof buf);
    CHECK_STR(buf, "NaN");
    CHECK(pl_value_parse_double("INF", 3, &d) && isinf(d) && d > 0);
    CHECK(pl_value_parse_double("-1.5e3", 6, &d) && d == -1500);
    CHECK(!pl_value_parse_double("inf", 3, &d));
    CHECK(!pl_value_parse_double("0x1p3", 5, &d));
    CHECK(!pl_value_parse_double(" 1", 2, &d));
    CHECK(!pl_value_parse_double("", 0, &d));
}

static void test_booleans(void)
{
    CHECK(pl_value_parse_boolean("true", 4) == 1);
    CHECK(pl_value_parse_boolean("1", 1) == 1);
    CHECK(pl_value_parse_boolean("false", 5) == 0);
    CHECK(pl_value_parse_boolean("0", 1) == 0);
    CHECK(pl_value_parse_boolean("True", 4) == -1);
    CHECK(pl_value_parse_boolean("yes", 3) == -1);
}

static bool is_dt(const char *s)
{
    return pl_value_is_datetime(s, strlen(s));
}

static void test_dates(void)
{
    CHECK(is_dt("2024-05-01T13:45:00Z"));
    CHECK(is_dt("2024-05-01T13:45:00"));
    CHECK(is_dt("2024-05-01T13:45:00.593"));
    CHECK(is_dt("2024-05-01T13:45:00.5-06:00"));
    CHECK(is_dt("2024-02-29T24:00:00"));
    CHECK(is_dt("12024-01-01T00:00:00Z"));
    CHECK(!is_dt("2023-02-29T00:00:00"));
    CHECK(!is_dt("2024-04-31T00:00:00"));
    CHECK(!is_dt("2024-05-01"));
    CHECK(!is_dt("2024-05-01 13:45:00"));
    CHECK(!is_dt("2024-05-01T24:00:01"));
    CHECK(!is_dt("2024-05-01T13:60:00"));
    CHECK(!is_dt("2024-05-01T13:45:00+15:00"));
    CHECK(!is_dt("2024-05-01T13:45:00."));
    CHECK(!is_dt("0000-01-01T00:00:00"));
    CHECK(!is_dt("24-05-01T13:45:00"));
    CHECK(pl_value_is_date("2024-05-01", 10));
    CHECK(pl_value_is_date("2024-05-01Z", 11));
    CHECK(!pl_value_is_date("2024-5-1", 8));
    CHECK(pl_value_is_time("08:30:00", 8));
    CHECK(pl_value_is_time("08:30:00.25+01:00", 17));
    CHECK(!pl_value_is_time("8:30", 4));

    char buf[32];
    CHECK(pl_value_format_epoch(1714571100, buf, sizeof buf));
    CHECK_STR(buf, "2024-05-01T13:45:00Z");
    CHECK(pl_value_format_epoch(0, buf, sizeof buf));
    CHECK_STR(buf, "1970-01-01T00:00:00Z");
    CHECK(pl_value_format_epoch(-1.5, buf, sizeof buf));
    CHECK_STR(buf, "1969-12-31T23:59:58Z");
    CHECK(!pl_value_format_epoch(1e300, buf, sizeof buf));
    CHECK(!pl_value_format_epoch(NAN, buf, sizeof buf));
}

static void test_xml_text(void)
{
    size_t offset = 0;
    unsigned cp = 0;
    CHECK(pl_value_check_xml_text("plain\ttext\r\n", 12, &offset, &cp));
    CHECK(pl_value_check_xml_text("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80", 14, &offset, &cp));
    CHECK(!pl_value_check_xml_text("a\x01", 2, &offset, &cp) && offset == 1 && cp == 1);
    CHECK(!pl_value_check_xml_text("ab\xff", 3, &offset, &cp) && offset == 2 && cp == 0xFFFFFFFFu);
    CHECK(!pl_value_check_xml_text("\xc0\xaf", 2, &offset, &cp) && cp == 0xFFFFFFFFu);     /* overlong */
    CHECK(!pl_value_check_xml_text("\xed\xa0\x80", 3, &offset, &cp) && cp == 0xFFFFFFFFu); /* surrogate */
    CHECK(!pl_value_check_xml_text("\xef\xbf\xbf", 3, &offset, &cp) && cp == 0xFFFF);
    CHECK(!pl_value_check_xml_text("\xe6\x97", 2, &offset, &cp) && cp == 0xFFFFFFFFu);     /* cut */
    CHECK(!pl_value_check_xml_text("a\0b", 3, &offset, &cp) && offset == 1 && cp == 0);
}

static void test_names(void)
{
    CHECK(pl_value_name_distance("CustomerKy", "CustomerKey") == 1);
    CHECK(pl_value_name_distance("customerkey", "CustomerKey") == 0);
    CHECK(pl_value_name_distance("CustomerKye", "CustomerKey") == 1); /* transposition */
    CHECK(pl_value_name_distance("", "ID") == 2);
    const char *names[] = {"Name", "CustomerKey", "CustomerID", "Description"};
    int out[3];
    CHECK(pl_value_suggest("CustomerKy", names, 4, out, 3) == 1 && out[0] == 1);
    CHECK(pl_value_suggest("Nam", names, 4, out, 3) == 1 && out[0] == 0);
    CHECK(pl_value_suggest("Zzzzzzzz", names, 4, out, 3) == 0);
    const char *twins[] = {"Value", "Values"};
    CHECK(pl_value_suggest("Valu", twins, 2, out, 3) == 1 && out[0] == 0);
}

static void test_envelopes(void)
{
    pl_xml_out out;
    pl_xml_open(&out);
    pl_soap_header h = {.fueloauth = "t<k"};
    pl_soap_begin(&out, &h);
    pl_xml_start(&out, "VersionInfoRequestMsg");
    pl_xml_attribute(&out, "xmlns", PL_PARTNER_NS);
    pl_xml_element(&out, "IncludeVersionHistory", "true");
    pl_xml_end(&out);
    pl_soap_end(&out);
    size_t len = 0;
    const char *xml = pl_xml_finish(&out, &len);
    CHECK_STR(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<soap:Envelope xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                   "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" "
                   "xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Header>"
                   "<fueloauth xmlns=\"http://exacttarget.com\">t&lt;k</fueloauth></soap:Header>"
                   "<soap:Body><VersionInfoRequestMsg xmlns=\"http://exacttarget.com/wsdl/partnerAPI\">"
                   "<IncludeVersionHistory>true</IncludeVersionHistory></VersionInfoRequestMsg>"
                   "</soap:Body></soap:Envelope>\n");
    CHECK(xml && len == strlen(xml));
    pl_xml_close(&out);
    pl_xml_close(&out); /* idempotent */

    pl_xml_open(&out);
    pl_soap_begin(&out, NULL);
    pl_soap_fault f = {.faultcode = "Server", .faultstring = "Rate Limited", .has_code = true, .code = 17};
    pl_soap_write_fault(&out, &f);
    pl_soap_end(&out);
    xml = pl_xml_finish(&out, &len);
    CHECK(xml && strstr(xml, "<soap:Fault><faultcode>soap:Server</faultcode><faultstring>Rate Limited"
                             "</faultstring><detail><apifault xmlns=\"urn:fault.partner.exacttarget.com\">"
                             "<Code>17</Code><Message>Rate Limited</Message></apifault></detail></soap:Fault>"));
    pl_xml_close(&out);

    /* a response without a message id gets a fresh urn:uuid: (a version 4 UUID) */
    pl_xml_open(&out);
    pl_soap_header response = {.response = true, .action = "CreateResponse"};
    pl_soap_begin(&out, &response);
    pl_soap_end(&out);
    xml = pl_xml_finish(&out, &len);
    const char *id = xml ? strstr(xml, "<wsa:MessageID>urn:uuid:") : NULL;
    CHECK(id != NULL);
    if (id) {
        id += strlen("<wsa:MessageID>urn:uuid:");
        CHECK(strncmp(id + 36, "</wsa:MessageID>", 16) == 0 && id[14] == '4');
    }
    pl_xml_close(&out);

    CHECK(pl_operation_count == 13);
    CHECK(pl_operation_find("Describe") && strcmp(pl_operation_find("Describe")->request_element,
                                                  "DefinitionRequestMsg") == 0);
    CHECK(pl_operation_find("perform") == NULL);
    CHECK(pl_operation_for_element("CreateResponse") == pl_operation_find("Create"));
}

static const char *safe(const char *s, bool lines, size_t max)
{
    static char out[256];
    size_t n = pl_value_safe_text(s, strlen(s), lines, max, out, sizeof out);
    CHECK(n == strlen(out));
    return out;
}

static void test_safe_text(void)
{
    CHECK_STR(safe("plain text, caf\xc3\xa9 \xf0\x9f\x98\x80", false, 0),
              "plain text, caf\xc3\xa9 \xf0\x9f\x98\x80");
    CHECK_STR(safe("a\x1b[31mred", false, 0), "a\\x1B[31mred");
    CHECK_STR(safe("\xff\xc3(", false, 0), "\\xFF\\xC3(");
    CHECK_STR(safe("\xc0\xaf \xed\xa0\x80", false, 0), "\\xC0\\xAF \\xED\\xA0\\x80");
    CHECK_STR(safe("del\x7f c1\xc2\x85 rlo\xe2\x80\xae lri\xe2\x81\xa6 \xef\xbf\xbf", false, 0),
              "del\\x7F c1\\u{0085} rlo\\u{202E} lri\\u{2066} \\u{FFFF}");
    CHECK_STR(safe("a\tb\nc\r\nd\re", false, 0), "a\\x09b\\x0Ac\\x0D\\x0Ad\\x0De");
    CHECK_STR(safe("a\tb\nc\r\nd\re", true, 0), "a\tb\nc\r\nd\\x0De");
    CHECK_STR(safe("", false, 0), "");
    /* cut at a character, never inside one or inside an escape */
    CHECK_STR(safe("abcdefghij", false, 10), "abcdefghij");
    CHECK_STR(safe("abcdefghij", false, 9), "abcdef...");
    CHECK_STR(safe("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", false, 8), "\xc3\xa9\xc3\xa9...");
    CHECK_STR(safe("\x01\x01\x01", false, 8), "\\x01...");
    CHECK_STR(safe("abcdef", false, 1), "...");
    char tiny[4];
    CHECK(pl_value_safe_text("\x01\x02", 2, false, 0, tiny, sizeof tiny) == 8);
    CHECK_STR(tiny, "\\x0");
    size_t offset;
    unsigned cp;
    const char *escaped = safe("\x01\xff\xef\xbf\xbe", false, 0);
    CHECK_STR(escaped, "\\x01\\xFF\\u{FFFE}");
    CHECK(pl_value_check_xml_text(escaped, strlen(escaped), &offset, &cp));
}

int main(void)
{
    test_integers();
    test_doubles();
    test_booleans();
    test_dates();
    test_xml_text();
    test_safe_text();
    test_names();
    test_envelopes();
    return check_report("test_codec_value");
}
