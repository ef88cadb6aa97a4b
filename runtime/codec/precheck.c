/* Judging a response before any XML parser sees it; see precheck.h. */
#include "codec/precheck.h"
#include "codec/value.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/libxml.h"

static bool refuse(char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool refuse(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return false;
}

/* A short, printable excerpt of the start of the input, for messages. */
static void excerpt(const char *s, size_t len, char *out, size_t cap)
{
    size_t i = 0, j = 0;
    while (i < len && isspace((unsigned char)s[i]))
        i++;
    for (; i < len && j + 4 < cap && j < 40; i++)
        out[j++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    if (i < len && j + 4 < cap) {
        memcpy(out + j, "...", 3);
        j += 3;
    }
    out[j] = '\0';
}

static bool starts_with_ci(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    if (len < n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)s[i]) != prefix[i])
            return false;
    return true;
}

/* The <title> of an HTML page, for "got an HTML page ('502 Bad Gateway')". */
static void html_title(const char *s, size_t len, char *out, size_t cap)
{
    out[0] = '\0';
    size_t limit = len < 8192 ? len : 8192;
    for (size_t i = 0; i + 7 <= limit; i++) {
        if (!starts_with_ci(s + i, limit - i, "<title>"))
            continue;
        size_t j = 0;
        for (i += 7; i < limit && s[i] != '<' && j + 1 < cap && j < 80; i++)
            out[j++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : ' ';
        while (j > 0 && out[j - 1] == ' ')
            j--;
        out[j] = '\0';
        return;
    }
}

static const char *find(const char *s, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(s + i, needle, n) == 0)
            return s + i;
    return NULL;
}

/* The encoding the XML declaration names ("" when it names none), as libxml2 reads it from a
 * document whose first bytes are ASCII. */
static void declared_encoding(const char *s, size_t len, char *out, size_t cap)
{
    out[0] = '\0';
    size_t i = 0;
    if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    if (len - i < 5 || memcmp(s + i, "<?xml", 5) != 0)
        return;
    const char *end = find(s + i, len - i < 256 ? len - i : 256, "?>");
    const char *at = end ? find(s + i, (size_t)(end - (s + i)), "encoding") : NULL;
    if (!at)
        return;
    at += 8;
    while (at < end && (isspace((unsigned char)*at) || *at == '='))
        at++;
    if (at >= end || (*at != '"' && *at != '\''))
        return;
    char quote = *at++;
    size_t n = 0;
    /* a NUL ends the name: strchr would find the terminator of "._-" */
    while (at < end && *at != quote && n + 1 < cap &&
           (isalnum((unsigned char)*at) || (*at && strchr("._-", *at))))
        out[n++] = *at++;
    out[n] = '\0';
}

/* libxml2's own US-ASCII decoder stops at the first byte above 0x7F without reporting it, so
 * the parser would see a document cut short: the real cause is named before parsing. */
static bool check_ascii(const char *s, size_t len, char *why, size_t cap)
{
    char encoding[32];
    declared_encoding(s, len, encoding, sizeof encoding);
    if (strcasecmp(encoding, "US-ASCII") != 0 && strcasecmp(encoding, "ASCII") != 0)
        return true;
    int line = 1;
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] >= 0x80)
            return refuse(why, cap,
                          "malformed XML: encoding error: byte 0x%02X at line %d (byte %zu) is "
                          "not US-ASCII, the encoding the document declares",
                          (unsigned)(unsigned char)s[i], line, i + 1);
        if (s[i] == '\n')
            line++;
    }
    return true;
}

/* libxml2 takes the input's length as an int. */
static bool refuse_too_large(size_t len, char *why, size_t cap)
{
    if (len <= INT_MAX)
        return true;
    return refuse(why, cap, "refused: the document is larger than 2 GB");
}

bool pl_soap_precheck(const char *s, size_t len, char *why, size_t cap)
{
    if (!refuse_too_large(len, why, cap))
        return false;
    size_t i = 0;
    if (!pl_libxml_load(why, cap))
        return false;
    if (len >= 4) {
        xmlCharEncoding detected = xmlDetectCharEncoding((const unsigned char *)s, 4);
        if (detected != XML_CHAR_ENCODING_NONE && detected != XML_CHAR_ENCODING_UTF8)
            return true;
    }
    if (len >= 3 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB &&
        (unsigned char)s[2] == 0xBF)
        i = 3;
    while (i < len && isspace((unsigned char)s[i]))
        i++;
    if (i == len)
        return refuse(why, cap, "empty response: expected a SOAP envelope, got %s",
                      len ? "only whitespace" : "no content");
    char title[100], start[64];
    if (starts_with_ci(s + i, len - i, "<!doctype html") ||
        starts_with_ci(s + i, len - i, "<html")) {
        html_title(s, len, title, sizeof title);
        if (title[0])
            return refuse(why, cap, "not a SOAP envelope: got an HTML page ('%s')", title);
        return refuse(why, cap, "not a SOAP envelope: got an HTML page");
    }
    if (s[i] != '<') {
        excerpt(s + i, len - i, start, sizeof start);
        return refuse(why, cap, "not XML: expected a SOAP envelope, got text starting '%s'",
                      start);
    }
    /* Walk the prolog: XML declaration, processing instructions, comments. */
    while (i < len) {
        while (i < len && isspace((unsigned char)s[i]))
            i++;
        if (i + 1 < len && s[i] == '<' && s[i + 1] == '?') {
            const char *end = find(s + i, len - i, "?>");
            if (!end)
                return true; /* the parser reports it */
            i = (size_t)(end - s) + 2;
        } else if (i + 3 < len && memcmp(s + i, "<!--", 4) == 0) {
            const char *end = find(s + i, len - i, "-->");
            if (!end)
                return true;
            i = (size_t)(end - s) + 3;
        } else if (i + 1 < len && s[i] == '<' && s[i + 1] == '!') {
            return refuse(why, cap, "%s", PL_SOAP_DOCTYPE_REFUSED);
        } else {
            break;
        }
    }
    return check_ascii(s, len, why, cap);
}

/* ---- libxml2's errors ---- */

/* The message on one line, without trailing space, and safe text: libxml2 quotes the input
 * around some errors and may cut the quote inside a character, or quote control bytes. */
static void tidy(pl_xml_error *e)
{
    for (char *p = e->message; *p; p++)
        if (*p == '\n')
            *p = ' ';
    char safe[sizeof e->message];
    pl_value_safe_text(e->message, strlen(e->message), false, sizeof safe - 1, safe, sizeof safe);
    memcpy(e->message, safe, sizeof safe);
    size_t n = strlen(e->message);
    while (n > 0 && isspace((unsigned char)e->message[n - 1]))
        e->message[--n] = '\0';
}

void pl_xml_error_record(pl_xml_error *e, PL_XML_ERROR *err)
{
    if (!err || err->level < XML_ERR_ERROR || e->message[0])
        return;
    snprintf(e->message, sizeof e->message, "%s", err->message ? err->message : "parse error");
    tidy(e);
    e->line = err->line;
    e->encoding = err->domain == XML_FROM_I18N;
}

/* A few messages (xmlParseChunk's "encoder error") bypass the structured handler. */
void pl_xml_error_vrecord(pl_xml_error *e, const char *fmt, va_list ap)
{
    if (e->message[0])
        return;
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    tidy(e);
    e->line = 0;
}

void pl_xml_error_describe(const pl_xml_error *e, const char *xml, size_t len, char *out,
                           size_t cap)
{
    char encoding[32];
    if (e->encoding) {
        declared_encoding(xml, len, encoding, sizeof encoding);
        if (encoding[0])
            snprintf(out, cap,
                     "malformed XML: encoding error: the document is not in %s, the encoding "
                     "it declares (%s)",
                     encoding, e->message);
        else
            snprintf(out, cap, "malformed XML: encoding error: %s", e->message);
    } else if (e->line > 0) {
        snprintf(out, cap, "malformed XML: %s (line %d)", e->message, e->line);
    } else {
        snprintf(out, cap, "malformed XML: %s", e->message);
    }
}

/* ---- the prolog, as libxml2 reads it ---- */

typedef struct prolog_scan {
    pl_xml_error error;
    bool root;
} prolog_scan;

/* The root element's callback gets the parser's context (made with NULL user data, as the
 * reader makes its own); the scan is its _private. */
static void stop_at_root(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                         const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                         int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
    (void)localname, (void)prefix, (void)uri, (void)nb_namespaces, (void)namespaces;
    (void)nb_attributes, (void)nb_defaulted, (void)attributes;
    xmlParserCtxt *ctxt = ctx;
    ((prolog_scan *)ctxt->_private)->root = true;
    xmlStopParser(ctxt);
}

/* Every error goes to the thread's handlers while the scan runs: the parser's own (serror)
 * would get the context, whose _private is not set yet when creating the context already
 * fails (an encoding the first bytes name but libxml2 cannot switch to), and errors of
 * converting the input (domain I18N) never go to the parser's handler anyway. */
static void record_error(void *scan, PL_XML_ERROR *err)
{
    pl_xml_error_record(&((prolog_scan *)scan)->error, err);
}

static void record_generic_error(void *scan, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pl_xml_error_vrecord(&((prolog_scan *)scan)->error, fmt, ap);
    va_end(ap);
}

/* The push parser is fed in chunks until it stops at the root element or a DOCTYPE, fails,
 * or has had the whole input (the last chunk, maybe empty, says so). */
/* Skips the literal `lit` at *p (within end); false when it is not there. */
static bool skip_literal(const char **p, const char *end, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
        return false;
    *p += n;
    return true;
}

static bool skip_quoted(const char **p, const char *end, const char *value, bool any_case)
{
    if (*p >= end || (**p != '"' && **p != '\''))
        return false;
    char quote = **p;
    size_t n = strlen(value);
    if ((size_t)(end - *p) < n + 2 || (*p)[n + 1] != quote)
        return false;
    if (any_case ? strncasecmp(*p + 1, value, n) != 0 : memcmp(*p + 1, value, n) != 0)
        return false;
    *p += n + 2;
    return true;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* True when the document's prolog is what every SOAP answer sends (nothing, or exactly
 * <?xml version="1.0"?> with at most encoding="utf-8", then white space) and the root
 * element's start follows: read as UTF-8 (what libxml2 would detect and be told), such a
 * prolog has no room for a DOCTYPE, so the verdict of the check below is settled without a
 * second parser (~43,000 instructions a decode: its context and the root's start tag). A
 * malformed root tag is then refused by the decoder's own parse. Anything else, byte order
 * marks and other encodings included, goes to libxml2 as before. */
static bool plain_utf8_prolog(const char *xml, size_t len)
{
    const char *p = xml, *end = xml + len;
    if (skip_literal(&p, end, "<?xml")) {
        if (p >= end || !is_space(*p))
            return false;
        while (p < end && is_space(*p))
            p++;
        if (!skip_literal(&p, end, "version") || !skip_literal(&p, end, "=") ||
            !skip_quoted(&p, end, "1.0", false))
            return false;
        const char *before = p;
        while (p < end && is_space(*p))
            p++;
        if (p > before && skip_literal(&p, end, "encoding")) {
            if (!skip_literal(&p, end, "=") || !skip_quoted(&p, end, "utf-8", true))
                return false;
            while (p < end && is_space(*p))
                p++;
        }
        if (!skip_literal(&p, end, "?>"))
            return false;
    }
    while (p < end && is_space(*p))
        p++;
    return end - p >= 2 && p[0] == '<' &&
           ((p[1] >= 'A' && p[1] <= 'Z') || (p[1] >= 'a' && p[1] <= 'z') || p[1] == '_');
}

pl_prolog_verdict pl_soap_check_prolog(const char *xml, size_t len, int options, char *why,
                                       size_t cap)
{
    if (!refuse_too_large(len, why, cap))
        return PL_PROLOG_MALFORMED;
    if (plain_utf8_prolog(xml, len))
        return PL_PROLOG_READ;
    if (!pl_libxml_load(why, cap))
        return PL_PROLOG_NO_LIBRARY;
    xmlSAXHandler sax;
    memset(&sax, 0, sizeof sax);
    sax.initialized = XML_SAX2_MAGIC;
    pl_xml_stop_at_doctype(&sax);
    sax.startElementNs = stop_at_root;
    prolog_scan scan = {.root = false};

    pl_xml_handlers saved = pl_xml_take_errors(&scan, record_error, record_generic_error);

    const int total = (int)len;
    int at = total < 4 ? total : 4;
    bool doctype = false;
    xmlParserCtxt *ctxt = xmlCreatePushParserCtxt(&sax, NULL, xml, at, NULL);
    if (ctxt) {
        ctxt->_private = &scan;
        xmlCtxtUseOptions(ctxt, options);
        do {
            int n = total - at < 4096 ? total - at : 4096;
            xmlParseChunk(ctxt, xml + at, n, at + n == total);
            at += n;
        } while (at < total && !scan.root && ctxt->instate != XML_PARSER_EOF);
        doctype = pl_xml_stopped_at_doctype(ctxt);
        xmlFreeParserCtxt(ctxt);
    }
    pl_xml_restore_errors(&saved);

    if (!ctxt)
        return PL_PROLOG_NO_MEMORY;
    if (doctype) {
        refuse(why, cap, "%s", PL_SOAP_DOCTYPE_REFUSED);
        return PL_PROLOG_DOCTYPE;
    }
    if (scan.root)
        return PL_PROLOG_READ;
    if (scan.error.message[0])
        pl_xml_error_describe(&scan.error, xml, len, why, cap);
    else
        refuse(why, cap, "malformed XML: the document has no root element");
    return PL_PROLOG_MALFORMED;
}
