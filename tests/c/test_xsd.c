/* The XSD validator (runtime/schema/xsd.c) against hand-written envelopes: valid requests
 * and responses pass, each kind of mistake fails with libxml2's reason, the line and the
 * element path; the supplement's types validate through xsi:type; libxml2 prints nothing; one
 * loaded schema serves several threads at once. Needs PERFORMLUA_WSDL (the official WSDL): fails without it. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "schema/xsd.h"
#include "xml_quiet.h"

static pl_xsd *xsd;

#define ENVELOPE_START                                                                   \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                         \
    "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"\n"            \
    "    xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"                       \
    "<soap:Header><fueloauth xmlns=\"http://exacttarget.com\">not-validated</fueloauth>"   \
    "</soap:Header>\n"                                                                     \
    "<soap:Body>\n"
#define ENVELOPE_END "</soap:Body>\n</soap:Envelope>\n"
#define PARTNER "xmlns=\"http://exacttarget.com/wsdl/partnerAPI\""

/* Validates `xml`; `expected` NULL means it must be valid, else the exact message. */
static void expect(const char *what, const char *xml, const char *expected)
{
    char *message = NULL;
    int rc = pl_xsd_validate(xsd, xml, strlen(xml), &message);
    if (expected == NULL) {
        if (rc != 1) {
            fprintf(stderr, "FAIL %s: expected valid, got %d: %s\n", what, rc,
                    message ? message : "(no message)");
            failures++;
        }
    } else if (rc != 0 || !message || strcmp(message, expected) != 0) {
        fprintf(stderr, "FAIL %s: expected invalid with\n  [%s]\ngot %d with\n  [%s]\n", what,
                expected, rc, message ? message : "(no message)");
        failures++;
    }
    free(message);
}

static const char perform_valid[] = ENVELOPE_START
    "<PerformRequestMsg " PARTNER ">\n"
    "  <Action>start</Action>\n"
    "  <Definitions>\n"
    "    <Definition xsi:type=\"EmailSendDefinition\">\n"
    "      <CustomerKey>welcome-series</CustomerKey>\n"
    "      <Name>Welcome</Name>\n"
    "      <SendLimit>100</SendLimit>\n"
    "    </Definition>\n"
    "    <Definition xsi:type=\"ImportDefinition\"><ObjectID>abc</ObjectID></Definition>\n"
    "  </Definitions>\n"
    "</PerformRequestMsg>\n" ENVELOPE_END;

static void test_valid_requests_and_responses(void)
{
    expect("perform", perform_valid, NULL);

    expect("create with a prefixed xsi:type and options",
           ENVELOPE_START
           "<p:CreateRequest xmlns:p=\"http://exacttarget.com/wsdl/partnerAPI\">"
           "<p:Options/>"
           "<p:Objects xsi:type=\"p:DataExtension\"><p:CustomerKey>k</p:CustomerKey>"
           "<p:Name>n</p:Name><p:Fields><p:Field><p:Name>Email</p:Name>"
           "<p:FieldType>EmailAddress</p:FieldType></p:Field></p:Fields></p:Objects>"
           "</p:CreateRequest>" ENVELOPE_END,
           NULL);

    expect("retrieve with a filter",
           ENVELOPE_START
           "<RetrieveRequestMsg " PARTNER "><RetrieveRequest>"
           "<ObjectType>Subscriber</ObjectType><Properties>EmailAddress</Properties>"
           "<Properties>Status</Properties>"
           "<Filter xsi:type=\"SimpleFilterPart\"><Property>Status</Property>"
           "<SimpleOperator>equals</SimpleOperator><Value>Active</Value></Filter>"
           "</RetrieveRequest></RetrieveRequestMsg>" ENVELOPE_END,
           NULL);

    expect("a response envelope (the same function)",
           ENVELOPE_START
           "<RetrieveResponseMsg " PARTNER "><OverallStatus>OK</OverallStatus>"
           "<RequestID>r-1</RequestID>"
           "<Results xsi:type=\"Subscriber\"><ID>5</ID><EmailAddress>a@b.example</EmailAddress>"
           "</Results></RetrieveResponseMsg>" ENVELOPE_END,
           NULL);

    expect("prefixes declared on the Envelope, as third-party clients write them",
           "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\" "
           "xmlns:ns1=\"http://exacttarget.com/wsdl/partnerAPI\" "
           "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><SOAP-ENV:Header/>"
           "<SOAP-ENV:Body><ns1:CreateRequest><ns1:Options/>"
           "<ns1:Objects xsi:type=\"ns1:TriggeredSend\"><ns1:TriggeredSendDefinition>"
           "<ns1:CustomerKey>k</ns1:CustomerKey></ns1:TriggeredSendDefinition><ns1:Subscribers>"
           "<ns1:EmailAddress>a@b.example</ns1:EmailAddress></ns1:Subscribers></ns1:Objects>"
           "</ns1:CreateRequest></SOAP-ENV:Body></SOAP-ENV:Envelope>",
           NULL);

    expect("a bare message element without an envelope",
           "<VersionInfoRequestMsg " PARTNER "><IncludeVersionHistory>true</IncludeVersionHistory>"
           "</VersionInfoRequestMsg>",
           NULL);

    expect("an envelope without a Header",
           "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>"
           "<SystemStatusRequestMsg " PARTNER "/></soap:Body></soap:Envelope>",
           NULL);
}

static void test_supplement_types(void)
{
    expect("AudienceDefinition (supplement) in Perform",
           ENVELOPE_START
           "<PerformRequestMsg " PARTNER "><Action>build</Action><Definitions>"
           "<Definition xsi:type=\"AudienceDefinition\"><CustomerKey>aud</CustomerKey>"
           "<Name>Buyers</Name><Description>d</Description><CategoryID>12</CategoryID>"
           "</Definition></Definitions></PerformRequestMsg>" ENVELOPE_END,
           NULL);
    expect("AudienceSegmentDefinition refers to its AudienceDefinition",
           ENVELOPE_START
           "<PerformRequestMsg " PARTNER "><Action>Count</Action><Definitions>"
           "<Definition xsi:type=\"AudienceSegmentDefinition\"><Name>s</Name>"
           "<AudienceDefinition><CustomerKey>aud</CustomerKey></AudienceDefinition>"
           "</Definition></Definitions></PerformRequestMsg>" ENVELOPE_END,
           NULL);
    expect("SystemEntityOperation with Parameters",
           ENVELOPE_START
           "<PerformRequestMsg " PARTNER "><Action>start</Action><Definitions>"
           "<Definition xsi:type=\"SystemEntityOperation\"><Name>op</Name>"
           "<Parameters><Parameter><Name>a</Name><Value>1</Value></Parameter></Parameters>"
           "</Definition></Definitions></PerformRequestMsg>" ENVELOPE_END,
           NULL);
    expect("SMSSendActivity and SmsSendActivity both exist",
           ENVELOPE_START
           "<PerformRequestMsg " PARTNER "><Action>start</Action><Definitions>"
           "<Definition xsi:type=\"SMSSendActivity\"><CustomerKey>a</CustomerKey>"
           "<Name>n</Name><InteractionObjectID>x</InteractionObjectID></Definition>"
           "<Definition xsi:type=\"SmsSendActivity\"><CustomerKey>b</CustomerKey></Definition>"
           "</Definitions></PerformRequestMsg>" ENVELOPE_END,
           NULL);
    expect("a supplement field of the wrong type",
           ENVELOPE_START
           "<PerformRequestMsg " PARTNER "><Definitions>"
           "<Definition xsi:type=\"AudienceDefinition\"><CategoryID>twelve</CategoryID>"
           "</Definition></Definitions></PerformRequestMsg>" ENVELOPE_END,
           "line 6, PerformRequestMsg/Definitions/Definition/CategoryID: Element 'CategoryID': "
           "'twelve' is not a valid value of the atomic type 'xs:int'.");
}

static void test_invalid_requests(void)
{
    expect("wrong element order",
           ENVELOPE_START
           "<PerformRequestMsg " PARTNER ">\n"
           "<Definitions/>\n"
           "<Action>start</Action>\n"
           "</PerformRequestMsg>" ENVELOPE_END,
           "line 8, PerformRequestMsg/Action: Element 'Action': This element is not expected.");

    expect("unknown element",
           ENVELOPE_START
           "<PerformRequestMsg " PARTNER "><Action>start</Action><Definitions>\n"
           "<Definition xsi:type=\"EmailSendDefinition\"><CustomerKy>x</CustomerKy></Definition>\n"
           "</Definitions></PerformRequestMsg>" ENVELOPE_END,
           "line 7, PerformRequestMsg/Definitions/Definition/CustomerKy: Element 'CustomerKy': "
           "This element is not expected. Expected is one of ( Client, PartnerKey, "
           "PartnerProperties, CreatedDate, ModifiedDate, ID, ObjectID, CustomerKey, Owner, "
           "CorrelationID ).");

    expect("bad int",
           ENVELOPE_START
           "<PerformRequestMsg " PARTNER "><Definitions>\n"
           "<Definition xsi:type=\"EmailSendDefinition\"><ID>12a</ID></Definition>\n"
           "</Definitions></PerformRequestMsg>" ENVELOPE_END,
           "line 7, PerformRequestMsg/Definitions/Definition/ID: Element 'ID': '12a' is not a "
           "valid value of the atomic type 'xs:int'.");

    expect("unknown xsi:type",
           ENVELOPE_START
           "<PerformRequestMsg " PARTNER "><Definitions>\n"
           "<Definition xsi:type=\"EmailSendDefinitio\"/>\n"
           "</Definitions></PerformRequestMsg>" ENVELOPE_END,
           "line 7, PerformRequestMsg/Definitions/Definition: Element 'Definition', attribute "
           "'xsi:type': The QName value 'EmailSendDefinitio' of the xsi:type attribute does "
           "not resolve to a type definition.");

    expect("bad enumeration value, second of two Properties",
           ENVELOPE_START
           "<RetrieveRequestMsg " PARTNER "><RetrieveRequest><ObjectType>Subscriber</ObjectType>"
           "<Properties>A</Properties><Properties>B</Properties>"
           "<Filter xsi:type=\"SimpleFilterPart\"><Property>Status</Property>\n"
           "<SimpleOperator>equal</SimpleOperator><Value>Active</Value></Filter>"
           "</RetrieveRequest></RetrieveRequestMsg>" ENVELOPE_END,
           "line 7, RetrieveRequestMsg/RetrieveRequest/Filter/SimpleOperator: Element "
           "'SimpleOperator': [facet 'enumeration'] The value 'equal' is not an element of the "
           "set {'equals', 'notEquals', 'greaterThan', 'lessThan', 'isNull', 'isNotNull', "
           "'greaterThanOrEqual', 'lessThanOrEqual', 'between', 'IN', 'like', "
           "'existsInString', 'existsInStringAsAWord', 'notExistsInString', 'beginsWith', "
           "'endsWith', 'contains', 'notContains', 'isAnniversary', 'isNotAnniversary', "
           "'greaterThanAnniversary', 'lessThanAnniversary'}.");

    expect("an undeclared xsi:type prefix",
           ENVELOPE_START
           "<CreateRequest " PARTNER "><Options/><Objects xsi:type=\"ns2:Subscriber\"/>"
           "</CreateRequest>" ENVELOPE_END,
           "line 6, CreateRequest/Objects: Element 'Objects', attribute 'xsi:type': The QName "
           "value 'ns2:Subscriber' has no corresponding namespace declaration in scope.");

    expect("the path tells repeated elements on one line apart",
           ENVELOPE_START
           "<RetrieveResponseMsg " PARTNER "><OverallStatus>OK</OverallStatus>"
           "<Results xsi:type=\"List\"><ID>1</ID></Results>"
           "<Results xsi:type=\"List\"><ID>2</ID><Bogus/></Results>"
           "<Results xsi:type=\"List\"><ID>3</ID></Results></RetrieveResponseMsg>" ENVELOPE_END,
           "line 6, RetrieveResponseMsg/Results[2]/Bogus: Element 'Bogus': This element is not "
           "expected. Expected is one of ( ObjectID, CustomerKey, Owner, CorrelationID, "
           "ObjectState, ListName, Category, Type, Description, Subscribers ).");

    expect("missing required element",
           ENVELOPE_START "<CreateRequest " PARTNER "><Options/></CreateRequest>" ENVELOPE_END,
           "line 6, CreateRequest: Element 'CreateRequest': Missing child element(s). "
           "Expected is ( Objects ).");

    expect("an abstract type instantiated",
           ENVELOPE_START
           "<RetrieveRequestMsg " PARTNER "><RetrieveRequest><ObjectType>Subscriber</ObjectType>"
           "<Properties>A</Properties><Retrieves><Request/></Retrieves>"
           "</RetrieveRequest></RetrieveRequestMsg>" ENVELOPE_END,
           "line 6, RetrieveRequestMsg/RetrieveRequest/Retrieves/Request: Element 'Request': "
           "The type definition is abstract.");

    expect("an element outside the partner namespace",
           ENVELOPE_START "<PerformRequestMsg/>" ENVELOPE_END,
           "line 6, PerformRequestMsg: Element 'PerformRequestMsg': No matching global "
           "declaration available for the validation root.");
}

/* Errors of converting the input go to the thread's handlers, not the parser's: they are in
 * the message all the same, and libxml2 prints nothing. */
static void test_encoding_errors(void)
{
    xml_quiet_begin();
    const char *xml = "<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><a>caf\x80</a>";
    const char *first = "XML is not well-formed: input conversion failed due to input error, "
                        "bytes 0x80 0x3C 0x2F 0x61\n";
    char *message = NULL;
    int rc = pl_xsd_validate(xsd, xml, strlen(xml), &message);
    CHECK(rc == 0 && message && strncmp(message, first, strlen(first)) == 0);
    free(message);
    xml_quiet_end();
}

static void test_malformed_messages(void)
{
    expect("not XML", "this is not XML",
           "XML is not well-formed: line 1: Start tag expected, '<' not found");
    expect("truncated", "<a><b></b>",
           "XML is not well-formed: line 1: Premature end of data in tag a line 1");
    expect("empty", "", "XML is not well-formed: line 1: Document is empty");
    expect("an envelope without a Body",
           "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">"
           "<soap:Header/></soap:Envelope>",
           "the SOAP Envelope has no Body");
    expect("an empty Body",
           "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">"
           "<soap:Body> </soap:Body></soap:Envelope>",
           "the SOAP Body is empty");
    expect("something after the Body",
           "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">"
           "<soap:Body><x/></soap:Body><y/></soap:Envelope>",
           "the SOAP Envelope may hold only a Header and then a Body");
    expect("a DTD (entities are never expanded)",
           "<!DOCTYPE a [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><a>&e;</a>",
           "the message has a DTD, which SOAP does not allow");
    /* refused before the DTD is read: a parser that read this one would call it malformed */
    expect("a malformed DTD", "<!DOCTYPE a [<!ENTITY broken>]><a/>",
           "the message has a DTD, which SOAP does not allow");

    /* more than PL_XSD_MAX_ERRORS problems: the rest are counted, not listed */
    char big[16384];
    size_t n = (size_t)snprintf(big, sizeof big, "<ExecuteRequestMsg " PARTNER ">");
    for (int i = 0; i < 13; i++)
        n += (size_t)snprintf(big + n, sizeof big - n,
                              "<Requests><Name>x</Name><Parameters><Name>a</Name>"
                              "<Value>b</Value></Parameters><Bad%d/></Requests>", i);
    snprintf(big + n, sizeof big - n, "</ExecuteRequestMsg>");
    char *message = NULL;
    int rc = pl_xsd_validate(xsd, big, strlen(big), &message);
    int lines = 0;
    for (const char *p = message; p && *p; p++)
        lines += *p == '\n';
    if (rc != 0 || !message || lines != PL_XSD_MAX_ERRORS ||
        !strstr(message, "\n(and 3 more errors)") || !strstr(message, "Requests[1]/Bad0")) {
        fprintf(stderr, "FAIL error cap: rc %d, %d lines: %s\n", rc, lines, message);
        failures++;
    }
    free(message);
}

static void test_load_errors(void)
{
    char *error = NULL;
    pl_xsd *none = pl_xsd_load("/nonexistent/etframework.wsdl", &error);
    if (none || !error ||
        strcmp(error, "cannot open the WSDL /nonexistent/etframework.wsdl: No such file or "
                      "directory") != 0) {
        fprintf(stderr, "FAIL missing WSDL: %s\n", error ? error : "(no error)");
        failures++;
    }
    free(error);

    char path[] = "/tmp/performlua-test-xsd-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        fprintf(stderr, "FAIL cannot create a temporary file\n");
        failures++;
        return;
    }
    fputs("<definitions xmlns=\"http://schemas.xmlsoap.org/wsdl/\"><types/>", f);
    fclose(f);
    error = NULL;
    none = pl_xsd_load(path, &error);
    char expected[256];
    snprintf(expected, sizeof expected,
             "cannot read the WSDL %s: line 1: Premature end of data in tag definitions line 1",
             path);
    if (none || !error || strcmp(error, expected) != 0) {
        fprintf(stderr, "FAIL truncated WSDL: %s\n", error ? error : "(no error)");
        failures++;
    }
    free(error);

    f = fopen(path, "w");
    fputs("<definitions xmlns=\"http://schemas.xmlsoap.org/wsdl/\"><types/></definitions>", f);
    fclose(f);
    error = NULL;
    none = pl_xsd_load(path, &error);
    snprintf(expected, sizeof expected,
             "%s has no <types><schema>: not the partner API WSDL", path);
    if (none || !error || strcmp(error, expected) != 0) {
        fprintf(stderr, "FAIL WSDL without schema: %s\n", error ? error : "(no error)");
        failures++;
    }
    free(error);
    remove(path);
}

/* One schema, several threads, each with its own contexts (as the sandbox uses it). */
static void *validate_many(void *arg)
{
    int *bad = arg;
    for (int i = 0; i < 40; i++) {
        char *message = NULL;
        if (pl_xsd_validate(xsd, perform_valid, strlen(perform_valid), &message) != 1)
            (*bad)++;
        free(message);
        const char *broken = "<PerformRequestMsg " PARTNER "><Nope/></PerformRequestMsg>";
        if (pl_xsd_validate(xsd, broken, strlen(broken), &message) != 0 || !message ||
            strcmp(message, "line 1, PerformRequestMsg/Nope: Element 'Nope': This element is "
                            "not expected. Expected is one of ( Options, Action, "
                            "Definitions ).") != 0)
            (*bad)++;
        free(message);
    }
    return NULL;
}

static void test_threads(void)
{
    pthread_t threads[3];
    int bad[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++)
        pthread_create(&threads[i], NULL, validate_many, &bad[i]);
    for (int i = 0; i < 3; i++) {
        pthread_join(threads[i], NULL);
        if (bad[i]) {
            fprintf(stderr, "FAIL thread %d: %d wrong results\n", i, bad[i]);
            failures++;
        }
    }
}

int main(void)
{
    /* The WSDL is Salesforce's document, never in the repository: without it (a clone) this
     * test is skipped (77, which ctest reports as SKIPPED), unless CI=true makes that a failure. */
    const char *wsdl = getenv("PERFORMLUA_WSDL");
    if (!wsdl || !*wsdl) {
        const char *why = getenv("PERFORMLUA_WSDL_MISSING");
        const char *ci = getenv("CI");
        bool required = ci && strcmp(ci, "true") == 0;
        fprintf(stderr, "test_xsd: %s: %s\n", required ? "FAILED (CI=true)" : "SKIPPED",
                why && *why ? why : "PERFORMLUA_WSDL is not set (ctest sets it)");
        return required ? 1 : 77;
    }
    char *error = NULL;
    xsd = pl_xsd_load(wsdl, &error);
    if (!xsd) {
        fprintf(stderr, "test_xsd: %s\n", error);
        free(error);
        return 1;
    }
    test_valid_requests_and_responses();
    test_supplement_types();
    test_invalid_requests();
    test_malformed_messages();
    test_encoding_errors();
    test_load_errors();
    test_threads();
    pl_xsd_free(xsd);
    return check_report("test_xsd");
}
