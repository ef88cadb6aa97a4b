/* Judging a response before any XML parser sees it; see precheck.h. */
#include "codec/precheck.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

bool pl_soap_precheck(const char *s, size_t len, char *why, size_t cap)
{
    size_t i = 0;
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
            return true;
        }
    }
    return true;
}
