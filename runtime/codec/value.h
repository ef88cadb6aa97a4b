/* The canonical forms of the schema's simple values, shared by the object constructors, the
 * encoder and the decoder so that a value is judged the same way everywhere.
 * Pure C: no Lua, no libxml2 (unit-tested alone by tests/c/test_codec_value.c). */
#ifndef PL_CODEC_VALUE_H
#define PL_CODEC_VALUE_H

#include <stdbool.h>
#include <stddef.h>

#include "schema/schema.h"

/* The XSD name of a simple kind ("int", "dateTime", ...), for messages. */
const char *pl_value_kind_name(pl_kind kind);

/* True for the integer kinds (int, long, short, byte); fills their inclusive range. */
bool pl_value_int_range(pl_kind kind, long long *min, long long *max);

typedef enum pl_value_status {
    PL_VALUE_OK,
    PL_VALUE_SYNTAX, /* not the lexical form at all */
    PL_VALUE_RANGE   /* the right form but outside the kind's range */
} pl_value_status;

/* An integer in XSD lexical form (optional sign, decimal digits, nothing else), range-checked
 * for `kind` (an integer kind). */
pl_value_status pl_value_parse_integer(const char *s, size_t len, pl_kind kind, long long *out);

/* An xsd:double lexical form: a decimal or exponent number, INF, -INF or NaN. */
bool pl_value_parse_double(const char *s, size_t len, double *out);

/* The shortest text that reads back as exactly `d` ("3", "0.1", "1e+300", "INF", "NaN").
 * Needs at least 32 bytes; returns the length. */
size_t pl_value_format_double(double d, char *buf, size_t cap);

/* xsd:boolean: 1 for "true"/"1", 0 for "false"/"0", -1 otherwise. */
int pl_value_parse_boolean(const char *s, size_t len);

/* The lexical forms of xsd:dateTime (YYYY-MM-DDThh:mm:ss[.fff][Z|+hh:mm]), xsd:date
 * (YYYY-MM-DD[tz]) and xsd:time (hh:mm:ss[.fff][tz]), with field ranges checked (month
 * 1-12, day within the month, hour 0-23 or 24:00:00, minute and second 0-59). */
bool pl_value_is_datetime(const char *s, size_t len);
bool pl_value_is_date(const char *s, size_t len);
bool pl_value_is_time(const char *s, size_t len);

/* Seconds since the epoch (as os.time() returns) as the UTC dateTime
 * "YYYY-MM-DDThh:mm:ssZ" (fractions dropped). `buf` needs 32 bytes. False when the time is
 * not finite or falls outside years 1-9999. */
bool pl_value_format_epoch(double seconds, char *buf, size_t cap);

/* True when `s` is valid UTF-8 made only of characters XML 1.0 can carry (no control
 * characters other than tab, newline and carriage return; no U+FFFE/U+FFFF). Otherwise
 * sets *offset to the first bad byte and *codepoint to the offending character, or to
 * 0xFFFFFFFF when the bytes are not UTF-8 at all. */
bool pl_value_check_xml_text(const char *s, size_t len, size_t *offset, unsigned *codepoint);

/* `s` made safe to show anywhere (a terminal, a log, a SOAP fault): bytes that are not UTF-8
 * become \xNN, control characters \xNN (C0, DEL) or \u{NNNN} (C1, the bidirectional
 * overrides and isolates, U+FFFE/U+FFFF); with `lines`, tab, newline and CR before a newline
 * stay. With `max` (0: no limit), the result is cut at a character to at most max bytes
 * (max >= 3), ending in "...". Writes at most cap bytes including a NUL (like snprintf) and
 * returns the full length. The result is always text XML can carry. */
size_t pl_value_safe_text(const char *s, size_t len, bool lines, size_t max, char *out,
                          size_t cap);

/* Edit distance (insertions, deletions, substitutions, adjacent transpositions) between two
 * names compared without regard to case; only the first 63 bytes of each count. */
int pl_value_name_distance(const char *a, const char *b);

/* The names among `candidates` nearest to `wanted` (a case-only difference is nearest of
 * all), written to `out` as indexes: at most `max_out` of them, all at the same smallest
 * distance, and none when even the nearest is too far to be a plausible misspelling.
 * Returns how many were written. */
int pl_value_suggest(const char *wanted, const char *const *candidates, int n, int *out,
                     int max_out);

#endif
