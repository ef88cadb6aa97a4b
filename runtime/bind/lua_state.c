/* See lua_state.h.
 *
 * Why the Lua heap has its own allocator: a Lua state makes and frees small blocks at a rate
 * nothing else in the process comes near. A 2,500-row page decodes into 17,500 tables and
 * some 50,000 strings, and the generational collector frees most of what a call made within a
 * few calls. glibc's malloc keeps 7 freed blocks per size in its thread cache; the rest go
 * through its fast bins, whose consolidation (malloc_consolidate, unlink_chunk) was a tenth of
 * a page's CPU time. mimalloc (Debian's libmimalloc2.0) serves the same sizes from free lists
 * per 64 KB page: a c:retrieve page costs 15% less CPU and a Perform 8% less
 * (tests/bench/README.md, "Fifth round").
 *
 * Only the Lua heap uses it, through mi_realloc/mi_free loaded on first use with RTLD_LOCAL
 * (util/dynlib.h). Linking the library would put its malloc in front of the C library's for
 * every library in the process (Debian builds it to override malloc), which AddressSanitizer
 * must not meet, and would add a library to every symbol lookup at start-up. libxml2, libcurl
 * and performlua's own C keep the C library's malloc (tuned in main.c).
 *
 * The C library's realloc, as luaL_newstate uses, serves the Lua heap instead when performlua
 * was built without mimalloc (its header missing, or a sanitizer build), when the library
 * cannot be loaded (a performance loss, not a failure), under valgrind (memcheck tracks only
 * the C library's blocks, and a Lua string used after it was freed must be caught; unless
 * PERFORMLUA_ALLOCATOR=mimalloc asks for it, as for a callgrind profile), or when
 * PERFORMLUA_ALLOCATOR=system (to compare the two with one binary). The choice is made once
 * per process, before its first state: a block is always freed by the allocator that made it. */
#include "bind/lua_state.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#ifdef PL_HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#endif

#ifdef PL_MIMALLOC_SONAME
#include <mimalloc.h>

#include "util/dynlib.h"

#define MIMALLOC_SYMBOLS(X) X(mi_realloc) X(mi_free) X(mi_version)
static struct mimalloc_api {
    MIMALLOC_SYMBOLS(PL_DYNLIB_MEMBER)
} mimalloc_api;
#define MIMALLOC_ENTRY(name) PL_DYNLIB_ENTRY_IN(struct mimalloc_api, name)
static const pl_dynlib_symbol mimalloc_symbols[] = {MIMALLOC_SYMBOLS(MIMALLOC_ENTRY)};
static pl_dynlib mimalloc_lib = PL_DYNLIB_INIT(PL_MIMALLOC_SONAME, PL_MIMALLOC_PACKAGE,
                                               "the Lua heap", mimalloc_symbols, &mimalloc_api);

static void *mimalloc_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    (void)ud;
    (void)osize;
    if (nsize == 0) {
        mimalloc_api.mi_free(ptr);
        return NULL;
    }
    return mimalloc_api.mi_realloc(ptr, nsize);
}
#endif

static void *system_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    (void)ud;
    (void)osize;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, nsize);
}

static pthread_once_t choice_once = PTHREAD_ONCE_INIT;
static lua_Alloc heap_alloc = system_alloc;
static char system_why[448]; /* why the Lua heap is on the C library's malloc */

static void choose_allocator(void)
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
        heap_alloc = mimalloc_alloc;
#else
    snprintf(system_why, sizeof system_why, "built without it");
#endif
}

void pl_lua_allocator_describe(char *out, size_t size)
{
    pthread_once(&choice_once, choose_allocator);
#ifdef PL_MIMALLOC_SONAME
    if (heap_alloc == mimalloc_alloc) {
        int v = mimalloc_api.mi_version(); /* 209 for 2.0.9 */
        snprintf(out, size, "mimalloc %d.%d.%d (the Lua heap)", v / 100, v / 10 % 10, v % 10);
        return;
    }
#endif
    snprintf(out, size, "mimalloc (not used: %s; the Lua heap is on the C library's malloc)",
             system_why);
}

/* As lauxlib's: the error goes to stderr, then Lua aborts. */
static int panic(lua_State *L)
{
    const char *msg =
        lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "error object is not a string";
    fprintf(stderr, "PANIC: unprotected error in call to Lua API (%s)\n", msg);
    fflush(stderr);
    return 0;
}

/* Warnings as lauxlib's (what `performlua -W` and warn("@on") turn on): off at first; the
 * control messages "@on" and "@off" switch them; a message in pieces is one line. */
static void warn_off(void *ud, const char *msg, int tocont);
static void warn_on(void *ud, const char *msg, int tocont);

static bool control_message(lua_State *L, const char *msg, int tocont)
{
    if (tocont || msg[0] != '@')
        return false;
    if (strcmp(msg + 1, "off") == 0)
        lua_setwarnf(L, warn_off, L);
    else if (strcmp(msg + 1, "on") == 0)
        lua_setwarnf(L, warn_on, L);
    return true; /* other control messages are ignored */
}

static void warn_off(void *ud, const char *msg, int tocont)
{
    control_message(ud, msg, tocont);
}

static void warn_continued(void *ud, const char *msg, int tocont)
{
    lua_State *L = ud;
    fputs(msg, stderr);
    if (tocont) {
        lua_setwarnf(L, warn_continued, L);
    } else {
        fputs("\n", stderr);
        fflush(stderr);
        lua_setwarnf(L, warn_on, L);
    }
}

static void warn_on(void *ud, const char *msg, int tocont)
{
    if (control_message(ud, msg, tocont))
        return;
    fputs("Lua warning: ", stderr);
    warn_continued(ud, msg, tocont);
}

lua_State *pl_lua_state_new(void)
{
    pthread_once(&choice_once, choose_allocator);
    lua_State *L = lua_newstate(heap_alloc, NULL);
    if (L) {
        lua_atpanic(L, panic);
        lua_setwarnf(L, warn_off, L);
    }
    return L;
}
