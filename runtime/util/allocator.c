/* See allocator.h.
 *
 * Why not the C library's malloc everywhere: the Lua heap, libxml2 and libcurl make and free
 * small blocks at a rate nothing else in the process comes near. A 2,500-row page decodes
 * into 17,500 tables and some 50,000 strings, which the generational collector frees within a
 * few calls; a Perform's parse, request headers and transfer state are some 400 blocks more.
 * glibc's malloc keeps 7 freed blocks per size in its thread cache; the rest go through its
 * fast bins, whose consolidation (malloc_consolidate, unlink_chunk) was a tenth of a page's
 * CPU time. mimalloc serves the same sizes from free lists per 64 KB page: a c:retrieve page
 * costs 15% less CPU with the Lua heap on it, and a Perform 8% less; libxml2's and libcurl's
 * blocks on it too take another 23,000 of a Perform's 505,000 instructions
 * (tests/bench/README.md, "Fifth round" and "Sixth round").
 *
 * mimalloc's functions are loaded on first use with RTLD_LOCAL (util/dynlib.h) and handed to
 * each heap's owner: lua_newstate's allocator, xmlMemSetup, curl_global_init_mem. Linking the
 * library would put its malloc in front of the C library's for every library in the process
 * (Debian builds it to override), which AddressSanitizer must not meet, and would add a
 * library to every symbol lookup at start-up. SQLite, OpenSSL and performlua's own C keep the
 * C library's malloc (tuned in main.c).
 *
 * The C library's malloc is kept when performlua was built without mimalloc (its header
 * missing, or a sanitizer build, whose checks must see every block), when the library cannot
 * be loaded (a performance loss, not a failure), under valgrind (memcheck tracks only the C
 * library's blocks, and a Lua string or a parser's buffer used after it was freed must be
 * caught; unless PERFORMLUA_ALLOCATOR=mimalloc asks for it, as for a callgrind profile), or
 * when PERFORMLUA_ALLOCATOR=system (to compare the two with one binary). */
#include "util/allocator.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef PL_HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#endif

#ifdef PL_MIMALLOC_SONAME
#include <mimalloc.h>

#include "util/dynlib.h"

#define MIMALLOC_SYMBOLS(X)                                                                    \
    X(mi_malloc) X(mi_calloc) X(mi_realloc) X(mi_free) X(mi_strdup) X(mi_version)
static struct mimalloc_api {
    MIMALLOC_SYMBOLS(PL_DYNLIB_MEMBER)
} mimalloc_api;
#define MIMALLOC_ENTRY(name) PL_DYNLIB_ENTRY_IN(struct mimalloc_api, name)
static const pl_dynlib_symbol mimalloc_symbols[] = {MIMALLOC_SYMBOLS(MIMALLOC_ENTRY)};
static pl_dynlib mimalloc_lib =
    PL_DYNLIB_INIT(PL_MIMALLOC_SONAME, PL_MIMALLOC_PACKAGE, "the Lua heap, libxml2 and libcurl",
                   mimalloc_symbols, &mimalloc_api);
#endif

static pthread_once_t choice_once = PTHREAD_ONCE_INIT;
static pl_allocator chosen = {malloc, calloc, realloc, free, strdup, false};
static char system_why[448]; /* why the C library's malloc serves them */

static void choose(void)
{
    const char *forced = getenv("PERFORMLUA_ALLOCATOR");
    if (forced && strcmp(forced, "system") == 0) {
        snprintf(system_why, sizeof system_why, "PERFORMLUA_ALLOCATOR=system");
        return;
    }
    bool asked_for_mimalloc = forced && strcmp(forced, "mimalloc") == 0;
    if (forced && *forced && !asked_for_mimalloc)
        fprintf(stderr,
                "performlua: PERFORMLUA_ALLOCATOR is \"%s\", which is neither "
                "\"mimalloc\" nor \"system\": using the default\n",
                forced);
#ifdef PL_HAVE_VALGRIND_H
    /* asked for by name, it is used under valgrind too: callgrind measures it so */
    if (RUNNING_ON_VALGRIND && !asked_for_mimalloc) {
        snprintf(system_why, sizeof system_why, "running under valgrind");
        return;
    }
#endif
#ifdef PL_MIMALLOC_SONAME
    if (pl_dynlib_load(&mimalloc_lib, system_why, sizeof system_why))
        chosen = (pl_allocator){mimalloc_api.mi_malloc,  mimalloc_api.mi_calloc,
                                mimalloc_api.mi_realloc, mimalloc_api.mi_free,
                                mimalloc_api.mi_strdup,  true};
#else
    snprintf(system_why, sizeof system_why, "built without it");
#endif
}

const pl_allocator *pl_allocator_get(void)
{
    pthread_once(&choice_once, choose);
    return &chosen;
}

void pl_allocator_describe(char *out, size_t size)
{
    if (pl_allocator_get()->is_mimalloc) {
#ifdef PL_MIMALLOC_SONAME
        int v = mimalloc_api.mi_version(); /* 209 for 2.0.9 */
        snprintf(out, size, "mimalloc %d.%d.%d (the Lua heap, libxml2, libcurl)", v / 100,
                 v / 10 % 10, v % 10);
        return;
#endif
    }
    snprintf(out, size,
             "mimalloc (not used: %s; the Lua heap, libxml2 and libcurl are on the C "
             "library's malloc)",
             system_why);
}
