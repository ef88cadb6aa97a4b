/* Canonical forms of simple values; see value.h. */
#include "codec/value.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *pl_value_kind_name(pl_kind kind)
{
    /* messages name three kinds as XSD spells them; the rest as the schema model does */
    switch (kind) {
    case PL_KIND_BASE64: return "base64Binary";
    case PL_KIND_ENUM: return "enumeration";
    case PL_KIND_ANY: return "anyType";
    default: return pl_kind_name(kind);
    }
}

bool pl_value_int_range(pl_kind kind, long long *min, long long *max)
{
    switch (kind) {
    case PL_KIND_INT: *min = -2147483648LL; *max = 2147483647LL; return true;
    case PL_KIND_LONG: *min = LLONG_MIN; *max = LLONG_MAX; return true;
    case PL_KIND_SHORT: *min = -32768; *max = 32767; return true;
    case PL_KIND_BYTE: *min = -128; *max = 127; return true;
    default: return false;
    }
}

pl_value_status pl_value_parse_integer(const char *s, size_t len, pl_kind kind, long long *out)
{
    long long min, max;
    if (!pl_value_int_range(kind, &min, &max))
        return PL_VALUE_SYNTAX;
    size_t i = 0;
    bool negative = false;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        negative = s[i++] == '-';
    if (i == len)
        return PL_VALUE_SYNTAX;
    /* Accumulate as a negative number so that LLONG_MIN itself fits. */
    long long acc = 0;
    bool overflow = false;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return PL_VALUE_SYNTAX;
        int digit = s[i] - '0';
        if (acc < (LLONG_MIN + digit) / 10)
            overflow = true;
        else
            acc = acc * 10 - digit;
    }
    if (overflow || (!negative && acc == LLONG_MIN))
        return PL_VALUE_RANGE;
    long long v = negative ? acc : -acc;
    if (v < min || v > max)
        return PL_VALUE_RANGE;
    *out = v;
    return PL_VALUE_OK;
}

bool pl_value_parse_double(const char *s, size_t len, double *out)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (strcmp(buf, "INF") == 0 || strcmp(buf, "+INF") == 0) {
        *out = INFINITY;
        return true;
    }
    if (strcmp(buf, "-INF") == 0) {
        *out = -INFINITY;
        return true;
    }
    if (strcmp(buf, "NaN") == 0) {
        *out = NAN;
        return true;
    }
    /* strtod also takes hex, "inf", "nan" and leading blanks: XSD takes none of them. */
    for (size_t i = 0; i < len; i++)
        if (!(isdigit((unsigned char)buf[i]) || buf[i] == '.' || buf[i] == 'e' ||
              buf[i] == 'E' || buf[i] == '+' || buf[i] == '-'))
            return false;
    char *end;
    errno = 0;
    double d = strtod(buf, &end);
    if (end != buf + len || !isfinite(d))
        return false;
    *out = d;
    return true;
}

size_t pl_value_format_double(double d, char *buf, size_t cap)
{
    int n;
    if (isnan(d))
        n = snprintf(buf, cap, "NaN");
    else if (isinf(d))
        n = snprintf(buf, cap, d < 0 ? "-INF" : "INF");
    else {
        n = snprintf(buf, cap, "%.17g", d);
        for (int precision = 1; precision < 17; precision++) {
            char shorter[40];
            snprintf(shorter, sizeof shorter, "%.*g", precision, d);
            if (strtod(shorter, NULL) == d) {
                n = snprintf(buf, cap, "%s", shorter);
                break;
            }
        }
    }
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

int pl_value_parse_boolean(const char *s, size_t len)
{
    if ((len == 4 && memcmp(s, "true", 4) == 0) || (len == 1 && s[0] == '1'))
        return 1;
    if ((len == 5 && memcmp(s, "false", 5) == 0) || (len == 1 && s[0] == '0'))
        return 0;
    return -1;
}

/* ---- date and time lexical forms ---- */

/* Reads exactly `n` digits at s[*i]. */
static bool digits(const char *s, size_t len, size_t *i, int n, int *value)
{
    int v = 0;
    for (int k = 0; k < n; k++, (*i)++) {
        if (*i >= len || s[*i] < '0' || s[*i] > '9')
            return false;
        v = v * 10 + (s[*i] - '0');
    }
    *value = v;
    return true;
}

static bool expect(const char *s, size_t len, size_t *i, char c)
{
    if (*i >= len || s[*i] != c)
        return false;
    (*i)++;
    return true;
}

static bool is_leap(long year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

/* [-]YYYY[Y...]-MM-DD */
static bool parse_date_part(const char *s, size_t len, size_t *i)
{
    if (*i < len && s[*i] == '-')
        (*i)++;
    size_t start = *i;
    long year = 0;
    while (*i < len && s[*i] >= '0' && s[*i] <= '9' && *i - start < 9)
        year = year * 10 + (s[(*i)++] - '0');
    size_t ndigits = *i - start;
    if (ndigits < 4 || (ndigits > 4 && s[start] == '0') || year == 0)
        return false;
    int month, day;
    if (!expect(s, len, i, '-') || !digits(s, len, i, 2, &month) || !expect(s, len, i, '-') ||
        !digits(s, len, i, 2, &day))
        return false;
    static const int days_in_month[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12 || day < 1 || day > days_in_month[month - 1])
        return false;
    return !(month == 2 && day == 29 && !is_leap(year));
}

/* hh:mm:ss[.f+] */
static bool parse_time_part(const char *s, size_t len, size_t *i)
{
    int hour, minute, second;
    if (!digits(s, len, i, 2, &hour) || !expect(s, len, i, ':') ||
        !digits(s, len, i, 2, &minute) || !expect(s, len, i, ':') ||
        !digits(s, len, i, 2, &second))
        return false;
    bool fraction_nonzero = false;
    if (*i < len && s[*i] == '.') {
        (*i)++;
        size_t start = *i;
        while (*i < len && s[*i] >= '0' && s[*i] <= '9')
            fraction_nonzero |= s[(*i)++] != '0';
        if (*i == start)
            return false;
    }
    if (hour == 24)
        return minute == 0 && second == 0 && !fraction_nonzero;
    return hour <= 23 && minute <= 59 && second <= 59;
}

/* [Z | (+|-)hh:mm] then the end of the string. */
static bool parse_timezone_end(const char *s, size_t len, size_t *i)
{
    if (*i == len)
        return true;
    if (s[*i] == 'Z')
        return ++(*i) == len;
    if (s[*i] != '+' && s[*i] != '-')
        return false;
    (*i)++;
    int hours, minutes;
    if (!digits(s, len, i, 2, &hours) || !expect(s, len, i, ':') ||
        !digits(s, len, i, 2, &minutes))
        return false;
    if (hours > 14 || minutes > 59 || (hours == 14 && minutes != 0))
        return false;
    return *i == len;
}

bool pl_value_is_datetime(const char *s, size_t len)
{
    size_t i = 0;
    return parse_date_part(s, len, &i) && expect(s, len, &i, 'T') &&
           parse_time_part(s, len, &i) && parse_timezone_end(s, len, &i);
}

bool pl_value_is_date(const char *s, size_t len)
{
    size_t i = 0;
    return parse_date_part(s, len, &i) && parse_timezone_end(s, len, &i);
}

bool pl_value_is_time(const char *s, size_t len)
{
    size_t i = 0;
    return parse_time_part(s, len, &i) && parse_timezone_end(s, len, &i);
}

bool pl_value_format_epoch(double seconds, char *buf, size_t cap)
{
    /* 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z */
    if (!isfinite(seconds) || seconds < -62135596800.0 || seconds > 253402300799.0)
        return false;
    time_t t = (time_t)floor(seconds);
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return false;
    int n = snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return n > 0 && (size_t)n < cap;
}

/* The character at p (len bytes available): its length, with *cp set, or 0 when the bytes
 * are not UTF-8 (overlong forms, surrogates and values past U+10FFFF included). */
static size_t next_utf8(const unsigned char *p, size_t len, unsigned *cp)
{
    unsigned c = p[0];
    size_t n;
    unsigned min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        n = 2, c &= 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3, c &= 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4, c &= 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n > len)
        return 0;
    for (size_t k = 1; k < n; k++) {
        if ((p[k] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (p[k] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return n;
}

bool pl_value_check_xml_text(const char *s, size_t len, size_t *offset, unsigned *codepoint)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        unsigned c;
        size_t n = next_utf8(p + i, len - i, &c);
        if (n == 0 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0xFFFE ||
            c == 0xFFFF) {
            *offset = i;
            *codepoint = n == 0 ? 0xFFFFFFFFu : c;
            return false;
        }
        i += n;
    }
    return true;
}

/* Characters that change how a terminal or an editor shows text: C0 and C1 controls, DEL,
 * the bidirectional embeddings, overrides and isolates ("Trojan Source"), and what XML
 * cannot carry. */
static bool unsafe_char(unsigned c)
{
    return c < 0x20 || (c >= 0x7F && c <= 0x9F) || (c >= 0x202A && c <= 0x202E) ||
           (c >= 0x2066 && c <= 0x2069) || c == 0xFFFE || c == 0xFFFF;
}

size_t pl_value_safe_text(const char *s, size_t len, bool lines, size_t max, char *out,
                          size_t cap)
{
    const unsigned char *p = (const unsigned char *)s;
    if (max && pl_value_safe_text(s, len, lines, 0, NULL, 0) <= max)
        max = 0; /* it fits */
    else if (max && max < 3)
        max = 3;
    size_t written = 0;
    for (size_t i = 0; i < len;) {
        unsigned c;
        size_t n = next_utf8(p + i, len - i, &c);
        char escape[16];
        const char *piece = (const char *)p + i;
        size_t piece_len = n;
        if (n == 0) {
            n = 1;
            piece_len = (size_t)snprintf(escape, sizeof escape, "\\x%02X", p[i]);
            piece = escape;
        } else if (unsafe_char(c) &&
                   !(lines && (c == '\t' || c == '\n' ||
                               (c == '\r' && i + 1 < len && p[i + 1] == '\n')))) {
            piece_len = (size_t)(c < 0x80 ? snprintf(escape, sizeof escape, "\\x%02X", c)
                                          : snprintf(escape, sizeof escape, "\\u{%04X}", c));
            piece = escape;
        }
        if (max && written + piece_len > max - 3) {
            piece = "...";
            piece_len = 3;
            n = len - i;
        }
        for (size_t k = 0; k < piece_len; k++, written++)
            if (written < cap)
                out[written] = piece[k];
        i += n;
    }
    if (cap)
        out[written < cap ? written : cap - 1] = '\0';
    return written;
}

/* ---- names ---- */

int pl_value_name_distance(const char *a, const char *b)
{
    enum { MAX = 63 };
    char x[MAX + 1], y[MAX + 1];
    size_t n = 0, m = 0;
    for (; a[n] && n < MAX; n++)
        x[n] = (char)tolower((unsigned char)a[n]);
    for (; b[m] && m < MAX; m++)
        y[m] = (char)tolower((unsigned char)b[m]);
    /* Three rows of the optimal-string-alignment matrix. */
    int prev2[MAX + 1], prev[MAX + 1], cur[MAX + 1];
    for (size_t j = 0; j <= m; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= m; j++) {
            int cost = x[i - 1] != y[j - 1];
            int best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (prev[j - 1] + cost < best)
                best = prev[j - 1] + cost;
            if (i > 1 && j > 1 && x[i - 1] == y[j - 2] && x[i - 2] == y[j - 1] &&
                prev2[j - 2] + 1 < best)
                best = prev2[j - 2] + 1;
            cur[j] = best;
        }
        memcpy(prev2, prev, sizeof prev);
        memcpy(prev, cur, sizeof cur);
    }
    return prev[m];
}

int pl_value_suggest(const char *wanted, const char *const *candidates, int n, int *out,
                     int max_out)
{
    size_t wanted_len = strlen(wanted);
    /* A plausible misspelling: about one edit in three characters, at least two. */
    int limit = wanted_len / 3 > 2 ? (int)(wanted_len / 3) : 2;
    int best = limit + 1, count = 0;
    for (int i = 0; i < n; i++) {
        int d = pl_value_name_distance(wanted, candidates[i]);
        /* Names differing only in case come first (distance 0 ignores case). */
        if (d > best)
            continue;
        if (d < best) {
            best = d;
            count = 0;
        }
        if (count < max_out)
            out[count++] = i;
    }
    return best <= limit ? count : 0;
}
