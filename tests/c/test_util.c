/* Unit tests of runtime/util: the growable buffer, the randomness (bytes, fractions,
 * version 4 UUIDs), stopping libxml2 at a DOCTYPE and loading libraries on first use. */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "util/buffer.h"
#include "util/dynlib.h"
#include "util/random.h"
#include "util/xml.h"

static void test_buffer(void)
{
    pl_buffer b = {0};
    CHECK(strcmp(pl_buffer_text(&b), "") == 0 && b.len == 0);

    /* grows across many doublings and stays NUL-terminated */
    for (int i = 0; i < 10000; i++)
        CHECK(pl_buffer_append(&b, "abc", 3));
    CHECK(b.len == 30000 && b.data[30000] == '\0' && b.cap >= 30001);
    CHECK(memcmp(b.data + 29997, "abc", 3) == 0);

    /* binary data keeps its NULs */
    pl_buffer_clear(&b);
    CHECK(b.len == 0 && strcmp(pl_buffer_text(&b), "") == 0);
    CHECK(pl_buffer_append(&b, "a\0b", 3) && b.len == 3 && b.data[1] == '\0' &&
          b.data[2] == 'b');

    pl_buffer_clear(&b);
    CHECK(pl_buffer_append_str(&b, "line ") && pl_buffer_appendf(&b, "%d of %s", 7, "ten"));
    CHECK(strcmp(pl_buffer_text(&b), "line 7 of ten") == 0);
    /* appendf of more than any fixed scratch size */
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK(pl_buffer_appendf(&b, "[%s]", big) && b.len == 13 + 3001);

    char *taken = pl_buffer_take(&b);
    CHECK(taken && strncmp(taken, "line 7 of ten[x", 15) == 0 && strlen(taken) == 13 + 3001);
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
    free(taken);

    /* taking an empty buffer gives an empty string, not NULL */
    taken = pl_buffer_take(&b);
    CHECK(taken && taken[0] == '\0');
    free(taken);

    /* a failed buffer refuses further appends and hands over nothing */
    CHECK(pl_buffer_append_str(&b, "partial"));
    b.failed = true;
    CHECK(!pl_buffer_append_str(&b, " more") && strcmp(pl_buffer_text(&b), "partial") == 0);
    pl_buffer_clear(&b);
    CHECK(b.failed);
    CHECK(pl_buffer_take(&b) == NULL && b.data == NULL && !b.failed);
    pl_buffer_free(&b);

    /* a reserved size is filled without moving the bytes; an impossible one fails the buffer */
    CHECK(pl_buffer_append_str(&b, "ab") && pl_buffer_reserve(&b, 100000) && b.cap >= 100003);
    const char *kept = b.data;
    for (int i = 0; i < 10000; i++)
        CHECK(pl_buffer_append(&b, "0123456789", 10));
    CHECK(b.data == kept && b.len == 100002 && memcmp(b.data, "ab0123", 6) == 0);
    CHECK(!pl_buffer_reserve(&b, SIZE_MAX - 1) && b.failed && !pl_buffer_append(&b, "x", 1));
    pl_buffer_free(&b);
}

static int is_hex(char c)
{
    return isdigit((unsigned char)c) || (c >= 'a' && c <= 'f');
}

static void test_uuid(void)
{
    char first[PL_UUID_SIZE], second[PL_UUID_SIZE];
    CHECK(pl_random_uuid(first) && pl_random_uuid(second));
    CHECK(strlen(first) == PL_UUID_LENGTH);
    for (int i = 0; i < PL_UUID_LENGTH; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            CHECK(first[i] == '-');
        else
            CHECK(is_hex(first[i]));
    }
    CHECK(first[14] == '4');                  /* version 4 */
    CHECK(strchr("89ab", first[19]) != NULL); /* RFC 4122 variant */
    CHECK(strcmp(first, second) != 0);

    /* the variant nibble takes all four values over enough UUIDs (the bits are random) */
    int seen[4] = {0};
    for (int i = 0; i < 400; i++) {
        CHECK(pl_random_uuid(first));
        seen[strchr("89ab", first[19]) - "89ab"]++;
    }
    CHECK(seen[0] && seen[1] && seen[2] && seen[3]);
}

static void test_random(void)
{
    unsigned char a[32] = {0}, b[32] = {0};
    CHECK(pl_random_bytes(a, sizeof a) && pl_random_bytes(b, sizeof b));
    CHECK(memcmp(a, b, sizeof a) != 0);
    double lowest = 1, highest = 0;
    for (int i = 0; i < 1000; i++) {
        double d;
        CHECK(pl_random_fraction(&d));
        CHECK(d >= 0 && d < 1);
        if (d < lowest)
            lowest = d;
        if (d > highest)
            highest = d;
    }
    CHECK(lowest < 0.1 && highest > 0.9);
}

static int parser_errors;

static void count_parser_error(void *ctx, PL_XML_ERROR *err)
{
    (void)ctx, (void)err;
    parser_errors++;
}

/* Parses the `len` bytes at `xml` as xsd.c does, stopping at a DOCTYPE; whether it met one. */
static bool parse_stopping_at_doctype(const char *xml, int len)
{
    CHECK(pl_libxml_load(NULL, 0)); /* loaded on first use (util/libxml.h) */
    xmlParserCtxt *ctxt = xmlNewParserCtxt();
    if (!ctxt)
        return false;
    ctxt->sax->serror = count_parser_error;
    pl_xml_stop_at_doctype(ctxt->sax);
    xmlDoc *doc = xmlCtxtReadMemory(ctxt, xml, len, NULL, NULL, XML_PARSE_NONET);
    bool met = pl_xml_stopped_at_doctype(ctxt);
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return met;
}

/* The DTD is malformed: a parser that read it would report an error. In UTF-16 without a byte
 * order mark no look at the bytes finds "<!DOCTYPE"; libxml2 does. */
static void test_stop_at_doctype(void)
{
    const char *doc = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>"
                      "<!DOCTYPE a [<!ENTITY broken>]><a/>";
    char wide[256];
    int n = 0;
    for (const char *p = doc; *p; p++) {
        wide[n++] = *p;
        wide[n++] = '\0';
    }
    parser_errors = 0;
    CHECK(parse_stopping_at_doctype(wide, n) && parser_errors == 0);
    const char *plain = strstr(doc, "<!DOCTYPE");
    CHECK(parse_stopping_at_doctype(plain, (int)strlen(plain)) && parser_errors == 0);
    CHECK(!parse_stopping_at_doctype("<a><b/></a>", 11) && parser_errors == 0);
}

/* A table filled from the library (types from math.h), a missing library and a missing
 * symbol reported with what to install, every later use giving the same answer. */
#define MATH_SYMBOLS(X) X(cos) X(sqrt)
static struct math_api {
    MATH_SYMBOLS(PL_DYNLIB_MEMBER)
} math_api;
#define MATH_ENTRY(name) PL_DYNLIB_ENTRY_IN(struct math_api, name)
static const pl_dynlib_symbol math_symbols[] = {MATH_SYMBOLS(MATH_ENTRY)};

static void test_dynlib(void)
{
    char why[512] = "";
    pl_dynlib m = PL_DYNLIB_INIT("libm.so.6", "libc6", "arithmetic", math_symbols, &math_api);
    CHECK(pl_dynlib_load(&m, why, sizeof why));
    CHECK(math_api.cos && math_api.cos(0.0) == 1.0 && math_api.sqrt(16.0) == 4.0);
    CHECK(pl_dynlib_load(&m, why, sizeof why)); /* once loaded, stays loaded */

    pl_dynlib absent = PL_DYNLIB_INIT("libperformlua-absent.so.9", "libperformlua-absent9",
                                      "a test", math_symbols, &math_api);
    CHECK(!pl_dynlib_load(&absent, why, sizeof why));
    CHECK(strstr(why, "cannot load the shared library libperformlua-absent.so.9 for a test ("));
    CHECK(strstr(why, "): install the Debian package libperformlua-absent9"));
    char again[512] = "";
    CHECK(!pl_dynlib_load(&absent, again, sizeof again) && strcmp(why, again) == 0);
    CHECK(!pl_dynlib_load(&absent, NULL, 0)); /* the reason is optional */

    struct math_api other = {0};
    static const pl_dynlib_symbol missing[] = {{"cos", offsetof(struct math_api, cos)},
                                               {"pl_no_such_symbol",
                                                offsetof(struct math_api, sqrt)}};
    pl_dynlib old = PL_DYNLIB_INIT("libm.so.6", "libc6", "a test", missing, &other);
    CHECK(!pl_dynlib_load(&old, why, sizeof why));
    CHECK(strstr(why,
                 "the shared library libm.so.6 has no pl_no_such_symbol, needed for a test"));
    CHECK(strstr(why, "install the current Debian package libc6"));
}

int main(void)
{
    test_dynlib();
    test_buffer();
    test_uuid();
    test_random();
    test_stop_at_doctype();
    return check_report("test_util");
}
