/* Unit tests of runtime/codec/xml_writer.c: it writes what libxml2's xmlTextWriter wrote
 * before it, byte for byte. Thousands of random documents (elements with and without
 * prefixes and namespace declarations, attributes, text of every character that needs
 * escaping and of 1- to 4-byte UTF-8, empty elements, elements left open) go through both;
 * then what only the new writer does: refuse text XML cannot carry, and misuse. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "codec/soap.h"
#include "util/libxml.h"

/* The reference: the same calls on an xmlTextWriter, as codec/soap.c made them before. */
typedef struct reference {
    xmlBufferPtr buffer;
    xmlTextWriterPtr writer;
    int failed;
} reference;

#define X(s) ((const xmlChar *)(s))
#define REF(r, call)                                                                           \
    do {                                                                                       \
        if ((call) < 0)                                                                        \
            (r)->failed = 1;                                                                   \
    } while (0)

/* xorshift: the same documents on every run */
static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static unsigned next_random(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state % n);
}

/* A random string of characters XML can carry: the escaped ones, spaces and line ends, ASCII
 * and UTF-8 of 2, 3 and 4 bytes. */
static void random_text(char *out, size_t cap)
{
    static const char *const pieces[] = {
        "a",
        "Z",
        "0",
        " ",
        "&",
        "<",
        ">",
        "\"",
        "'",
        "\r",
        "\n",
        "\t",
        "\r\n",
        "]]>",
        "&amp;",
        "\xC3\xA9",
        "\xC2\xA0",
        "\xE4\xB8\xAD",
        "\xEF\xBF\xBD",
        "\xF0\x9F\x98\x80",
        "\x7F",
        "\xC2\x85",
        "\xE2\x80\xA8",
        "=",
        ";",
        "#",
    };
    size_t len = 0;
    unsigned n = next_random(12);
    for (unsigned i = 0; i < n; i++) {
        const char *p = pieces[next_random(sizeof pieces / sizeof pieces[0])];
        size_t k = strlen(p);
        if (len + k + 1 > cap)
            break;
        memcpy(out + len, p, k);
        len += k;
    }
    out[len] = '\0';
}

static void compare_random_documents(void)
{
    static const char *const names[] = {"a", "Results", "b-c", "d.e", "PerformRequestMsg"};
    static const char *const prefixes[] = {NULL, "soap", "wsse", "q0"};
    static const char *const uris[] = {NULL, "urn:one",
                                       "http://exacttarget.com/wsdl/partnerAPI",
                                       "urn:x?a=1&b=\"2\"", "urn:\xC3\xA9t\xC3\xA9"};
    int identical = 0, documents = 3000;
    for (int doc = 0; doc < documents; doc++) {
        pl_xml_out out;
        pl_xml_open(&out);
        reference r = {xmlBufferCreate(), NULL, 0};
        r.writer = xmlNewTextWriterMemory(r.buffer, 0);
        pl_xml_declaration(&out);
        REF(&r, xmlTextWriterStartDocument(r.writer, "1.0", "UTF-8", NULL));

        int depth = 0;
        int just_started = 0;
        unsigned steps = 1 + next_random(30);
        for (unsigned s = 0; s < steps; s++) {
            unsigned op = next_random(4);
            char text[64];
            if (depth == 0)
                op = 0; /* a document has one element at the top: start it first */
            if (op == 0 && (depth > 0 || s == 0)) {
                const char *name = names[next_random(5)];
                const char *prefix = prefixes[next_random(4)];
                const char *ns = prefix ? uris[next_random(5)] : NULL;
                pl_xml_start_ns(&out, prefix, name, ns);
                if (prefix)
                    REF(&r, xmlTextWriterStartElementNS(r.writer, X(prefix), X(name), X(ns)));
                else
                    REF(&r, xmlTextWriterStartElement(r.writer, X(name)));
                depth++;
                just_started = 1;
            } else if (op == 1 && just_started) {
                random_text(text, sizeof text);
                const char *attribute = next_random(2) ? "xsi:type" : "Id";
                pl_xml_attribute(&out, attribute, text);
                REF(&r, xmlTextWriterWriteAttribute(r.writer, X(attribute), X(text)));
            } else if (op == 2 && depth > 0) {
                random_text(text, sizeof text);
                pl_xml_text(&out, text);
                REF(&r, xmlTextWriterWriteString(r.writer, X(text)));
                just_started = 0;
            } else if (op == 3 && depth > 0) {
                pl_xml_end(&out);
                REF(&r, xmlTextWriterEndElement(r.writer));
                depth--;
                just_started = 0;
                if (depth == 0)
                    break;
            }
        }
        /* elements still open are ended by the document's end, as EndDocument did */
        size_t len = 0;
        const char *mine = pl_xml_finish(&out, &len);
        REF(&r, xmlTextWriterEndDocument(r.writer));
        xmlFreeTextWriter(r.writer); /* flushes into the buffer */
        const char *theirs = (const char *)xmlBufferContent(r.buffer);
        if (!r.failed && mine && len == (size_t)xmlBufferLength(r.buffer) &&
            memcmp(mine, theirs, len) == 0) {
            identical++;
        } else if (identical == doc) { /* the first difference, shown */
            fprintf(stderr, "document %d differs:\n  mine:   %s\n  theirs: %s\n", doc,
                    mine ? mine : "(failed)", r.failed ? "(failed)" : theirs);
        }
        xmlBufferFree(r.buffer);
        pl_xml_close(&out);
    }
    CHECK(identical == documents);
}

/* Writes one element with `text` (and an attribute `value`): what pl_xml_finish gives. */
static const char *element_with(pl_xml_out *out, const char *text, const char *value)
{
    size_t len;
    pl_xml_open(out);
    pl_xml_start(out, "e");
    if (value)
        pl_xml_attribute(out, "a", value);
    pl_xml_text(out, text);
    return pl_xml_finish(out, &len);
}

static void test_refusals(void)
{
    pl_xml_out out;
    CHECK(element_with(&out, "fine \xC3\xA9", "ok") != NULL);
    pl_xml_close(&out);
    CHECK(element_with(&out, "bell \x07", NULL) == NULL);
    CHECK(strcmp(out.error, "text with the character U+0007, which XML cannot carry") == 0);
    pl_xml_close(&out);
    CHECK(element_with(&out, "ok", "cut \xC3") == NULL);
    CHECK(strcmp(out.error, "text that is not UTF-8 (byte 5)") == 0);
    pl_xml_close(&out);
    CHECK(element_with(&out, "\xEF\xBF\xBF", NULL) == NULL); /* U+FFFF */
    CHECK(strstr(out.error, "U+FFFF") != NULL);
    pl_xml_close(&out);

    /* misuse fails the document, and every call after a failure does nothing */
    size_t len;
    pl_xml_open(&out);
    pl_xml_end(&out);
    CHECK(pl_xml_finish(&out, &len) == NULL &&
          strcmp(out.error, "an end tag without its start") == 0);
    pl_xml_close(&out);
    pl_xml_open(&out);
    pl_xml_start(&out, "e");
    pl_xml_text(&out, "t");
    pl_xml_attribute(&out, "late", "v");
    pl_xml_start(&out, "f");
    CHECK(pl_xml_finish(&out, &len) == NULL &&
          strcmp(out.error, "an attribute outside a start tag") == 0);
    pl_xml_close(&out);
    pl_xml_open(&out);
    pl_xml_text(&out, "t");
    CHECK(pl_xml_finish(&out, &len) == NULL &&
          strcmp(out.error, "text outside the document's element") == 0);
    pl_xml_close(&out);
    pl_xml_close(&out); /* idempotent */
}

int main(void)
{
    char why[512];
    if (!pl_libxml_load(why, sizeof why)) {
        fprintf(stderr, "%s\n", why);
        return 1;
    }
    compare_random_documents();
    test_refusals();
    return check_report("test_codec_writer");
}
