/* The allocator of the process's busiest heaps: the Lua heap, libxml2's and libcurl's.
 *
 * mimalloc (Debian's libmimalloc2.0) when performlua was built with it and it loads; the C
 * library's malloc otherwise. allocator.c says why, and when the C library's is kept. Chosen
 * once per process, before the first block of any of the three: a block is always freed by
 * the allocator that made it. Pure C; safe from any thread. */
#ifndef PL_UTIL_ALLOCATOR_H
#define PL_UTIL_ALLOCATOR_H

#include <stdbool.h>
#include <stddef.h>

typedef struct pl_allocator {
    void *(*malloc)(size_t size);
    void *(*calloc)(size_t count, size_t size);
    void *(*realloc)(void *ptr, size_t size);
    void (*free)(void *ptr);
    char *(*strdup)(const char *s);
    bool is_mimalloc; /* false: these are the C library's own functions */
} pl_allocator;

/* The chosen allocator (the choice is made at the first call). */
const pl_allocator *pl_allocator_get(void);

/* The choice for a version line: "mimalloc 2.0.9 (the Lua heap, libxml2, libcurl)", or
 * "mimalloc (not used: <why>; ...)" when the C library's malloc serves them. */
void pl_allocator_describe(char *out, size_t size);

#endif
