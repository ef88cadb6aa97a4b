/* The growable byte buffer: the one used wherever C collects bytes of unknown length (the
 * decoder's text, the XSD validator's messages, HTTP bodies and headers, the sandbox's request
 * bodies). Pure C.
 *
 * A zeroed pl_buffer is empty and ready. Once anything was appended the bytes are kept
 * NUL-terminated (data[len] == '\0'), so text reads as a C string; binary data may hold NULs.
 * An append that cannot allocate returns false and sets `failed`; from then on appends do
 * nothing (clearing keeps the failure), so a sequence of appends is checked once at the end,
 * and the text is never a silently shortened one. */
#ifndef PL_UTIL_BUFFER_H
#define PL_UTIL_BUFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

typedef struct pl_buffer {
    char *data; /* NULL until the first append */
    size_t len;
    size_t cap;
    bool failed; /* an allocation failed: the content is incomplete */
} pl_buffer;

bool pl_buffer_append(pl_buffer *b, const void *data, size_t n);
/* pl_buffer_append, inline while the bytes fit: for the hot paths that append a few bytes at
 * a time (the envelope writer: a Perform's request is 400 appends). */
static inline bool pl_buffer_add(pl_buffer *b, const void *data, size_t n)
{
    if (n < b->cap - b->len && !b->failed) { /* cap - len: the room, the NUL's included */
        memcpy(b->data + b->len, data, n);
        b->len += n;
        b->data[b->len] = '\0';
        return true;
    }
    return pl_buffer_append(b, data, n);
}
bool pl_buffer_append_str(pl_buffer *b, const char *s);
/* Makes room for n more bytes at once (a size known in advance: no copy per doubling). False,
 * with `failed` set, when memory ran out. */
bool pl_buffer_reserve(pl_buffer *b, size_t n);
/* printf-style append (any length). */
bool pl_buffer_appendf(pl_buffer *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The content as text: "" when nothing was appended. Valid until the next append or free. */
const char *pl_buffer_text(const pl_buffer *b);

/* Empties the buffer, keeping its memory (and `failed`). */
void pl_buffer_clear(pl_buffer *b);

/* Hands the bytes over as a malloc'd, NUL-terminated block (an empty string when nothing was
 * appended) and leaves the buffer zeroed. NULL when the buffer failed or memory ran out; the
 * buffer is freed either way. */
char *pl_buffer_take(pl_buffer *b);

/* Frees the bytes and zeroes the buffer (failed included). */
void pl_buffer_free(pl_buffer *b);

#endif
