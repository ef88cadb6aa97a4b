/* The growable byte buffer; see buffer.h. */
#include "util/buffer.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_CAPACITY 256

/* Makes room for `need` bytes in all (the terminating NUL included). */
static bool reserve(pl_buffer *b, size_t need)
{
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : FIRST_CAPACITY;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            return false;
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (!p)
        return false;
    b->data = p;
    b->cap = cap;
    return true;
}

bool pl_buffer_append(pl_buffer *b, const void *data, size_t n)
{
    if (b->failed)
        return false;
    if (n > SIZE_MAX - b->len - 1 || !reserve(b, b->len + n + 1)) {
        b->failed = true;
        return false;
    }
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

bool pl_buffer_reserve(pl_buffer *b, size_t n)
{
    if (b->failed)
        return false;
    if (n > SIZE_MAX - b->len - 1 || !reserve(b, b->len + n + 1)) {
        b->failed = true;
        return false;
    }
    return true;
}

bool pl_buffer_append_str(pl_buffer *b, const char *s)
{
    return pl_buffer_append(b, s, strlen(s));
}

bool pl_buffer_appendf(pl_buffer *b, const char *fmt, ...)
{
    if (b->failed)
        return false;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, b->len + (size_t)n + 1)) {
        b->failed = true;
        return false;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return true;
}

const char *pl_buffer_text(const pl_buffer *b)
{
    return b->data ? b->data : "";
}

void pl_buffer_clear(pl_buffer *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

char *pl_buffer_take(pl_buffer *b)
{
    char *data = NULL;
    if (!b->failed)
        data = b->data ? b->data : calloc(1, 1);
    if (!data)
        free(b->data);
    memset(b, 0, sizeof *b);
    return data;
}

void pl_buffer_free(pl_buffer *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}
