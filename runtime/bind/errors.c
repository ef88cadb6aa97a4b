/* Error tables shared by the C core and the Lua side (which creates them with
 * core.error_new so both produce the identical shape and rendering). */
#include "bind/errors.h"

#include <stdarg.h>
#include <string.h>

#include <lauxlib.h>

#include "bind/core.h"

#define ERROR_METATABLE "performlua.error"

static int error_tostring(lua_State *L)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    lua_getfield(L, 1, "kind");
    const char *kind = lua_tostring(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, 1, "message");
    const char *message = lua_tostring(L, -1);
    lua_pop(L, 1);
    luaL_addstring(&b, kind ? kind : "error");
    luaL_addstring(&b, " error: ");
    luaL_addstring(&b, message ? message : "(no message)");

    int details = 0;
    static const char *const fields[] = {"code", "http_status", "request_id"};
    static const char *const labels[] = {"code ", "HTTP ", "request "};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        lua_getfield(L, 1, fields[i]);
        if (!lua_isnil(L, -1)) {
            const char *text = luaL_tolstring(L, -1, NULL);
            luaL_addstring(&b, details++ ? ", " : " [");
            luaL_addstring(&b, labels[i]);
            luaL_addstring(&b, text);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    if (details)
        luaL_addchar(&b, ']');
    lua_getfield(L, 1, "outcome_unknown");
    if (lua_toboolean(L, -1))
        luaL_addstring(&b, " (outcome unknown: the service may have processed this request; "
                           "check before sending it again)");
    lua_pop(L, 1);
    luaL_pushresult(&b);
    return 1;
}

static void push_metatable(lua_State *L)
{
    if (luaL_newmetatable(L, ERROR_METATABLE)) {
        lua_pushcfunction(L, error_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushliteral(L, "performlua.error");
        lua_setfield(L, -2, "__name");
    }
}

void pl_error_push(lua_State *L, const char *kind, const char *message)
{
    lua_createtable(L, 0, 8);
    lua_pushstring(L, kind);
    lua_setfield(L, -2, "kind");
    lua_pushstring(L, message);
    lua_setfield(L, -2, "message");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "retryable");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "outcome_unknown");
    push_metatable(L);
    lua_setmetatable(L, -2);
}

int pl_error_raisef(lua_State *L, const char *kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *message = lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    pl_error_push(L, kind, message);
    lua_remove(L, -2);
    return lua_error(L);
}

bool pl_error_is_kind(lua_State *L, int idx, const char *kind)
{
    idx = lua_absindex(L, idx);
    if (!lua_istable(L, idx) || !lua_getmetatable(L, idx))
        return false;
    luaL_getmetatable(L, ERROR_METATABLE);
    bool ours = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    if (!ours)
        return false;
    lua_pushliteral(L, "kind");
    bool same = lua_rawget(L, idx) == LUA_TSTRING && strcmp(lua_tostring(L, -1), kind) == 0;
    lua_pop(L, 1);
    return same;
}

/* core.error_new(t): attaches the error metatable to t (defaults retryable/outcome_unknown). */
static int l_error_new(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_argcheck(L, lua_getfield(L, 1, "kind") == LUA_TSTRING, 1, "error needs a string 'kind'");
    lua_pop(L, 1);
    if (lua_getfield(L, 1, "retryable") == LUA_TNIL) {
        lua_pushboolean(L, 0);
        lua_setfield(L, 1, "retryable");
    }
    if (lua_getfield(L, 1, "outcome_unknown") == LUA_TNIL) {
        lua_pushboolean(L, 0);
        lua_setfield(L, 1, "outcome_unknown");
    }
    lua_settop(L, 1);
    push_metatable(L);
    lua_setmetatable(L, 1);
    return 1;
}

/* core.is_error(v): true when v is a performlua error table. */
static int l_is_error(lua_State *L)
{
    lua_pushboolean(L, lua_istable(L, 1) && lua_getmetatable(L, 1) &&
                           (luaL_getmetatable(L, ERROR_METATABLE), lua_rawequal(L, -1, -2)));
    return 1;
}

void pl_open_errors(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"error_new", l_error_new},
        {"is_error", l_is_error},
        {NULL, NULL},
    };
    luaL_setfuncs(L, funcs, 0);
}
