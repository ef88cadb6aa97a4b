/* See lua_state.h. The Lua heap's allocator is util/allocator.h's choice (mimalloc, or the C
 * library's malloc), which says why a state's blocks are worth an allocator of their own. */
#include "bind/lua_state.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "util/allocator.h"

/* lua_Alloc over the chosen allocator: a size of 0 frees. A new block (most of a state's
 * allocations: every table, string and closure) is malloc'd, which is mimalloc's short path;
 * its realloc of NULL goes the long way round. */
static void *heap_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    const pl_allocator *a = ud;
    (void)osize;
    if (nsize == 0) {
        a->free(ptr);
        return NULL;
    }
    return ptr ? a->realloc(ptr, nsize) : a->malloc(nsize);
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
    lua_State *L = lua_newstate(heap_alloc, (void *)pl_allocator_get());
    if (L) {
        lua_atpanic(L, panic);
        lua_setwarnf(L, warn_off, L);
    }
    return L;
}
