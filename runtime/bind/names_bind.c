/* Names for people, for Lua: the did-you-mean of the constructors, offered to the Lua side so
 * that every "did you mean" in performlua picks its names the same way.
 *
 *   core.suggest(name, candidates [, max]) -> array of the candidates nearest to `name`, in the
 *       order of `candidates` (an array of strings), at most `max` (default 3, at most 100):
 *       those at the smallest distance (pl_value_suggest: a case-only difference is nearest of
 *       all), and none when even the nearest is too far to be a plausible misspelling. */
#include <limits.h>

#include <lauxlib.h>

#include "bind/core.h"
#include "codec/value.h"

enum { MAX_SUGGESTIONS = 100 };

static int l_suggest(lua_State *L)
{
    const char *wanted = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_Integer max = luaL_optinteger(L, 3, 3);
    luaL_argcheck(L, max >= 1 && max <= MAX_SUGGESTIONS, 3, "must be between 1 and 100");
    lua_Integer n = luaL_len(L, 2);
    luaL_argcheck(L, n >= 0 && n <= INT_MAX, 2, "too many candidates");
    /* A userdata, so a raise below leaves nothing to free. The pointers stay valid: each string
     * is held by the candidates table, which stays on the stack for the whole call. */
    const char **names = lua_newuserdatauv(L, (size_t)n * sizeof *names, 0);
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_rawgeti(L, 2, i) != LUA_TSTRING)
            return luaL_error(L, "core.suggest: candidate %I is a %s, expected a string", i,
                              luaL_typename(L, -1));
        names[i - 1] = lua_tostring(L, -1);
        lua_pop(L, 1);
    }
    int nearest[MAX_SUGGESTIONS];
    int found = pl_value_suggest(wanted, names, (int)n, nearest, (int)max);
    lua_createtable(L, found, 0);
    for (int k = 0; k < found; k++) {
        lua_rawgeti(L, 2, (lua_Integer)nearest[k] + 1);
        lua_rawseti(L, -2, k + 1);
    }
    return 1;
}

void pl_open_names(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"suggest", l_suggest},
        {NULL, NULL},
    };
    luaL_setfuncs(L, funcs, 0);
}
