/* performlua.core's sandbox functions (the HTTP glue is runtime/sandbox/server.c; the
 * behaviour is lua/performlua/sandbox/).
 *
 *   core.sandbox_start{host=, port=, latency_ms=, config_lua=} -> server
 *       config_lua: Lua source returning the service's configuration (the caller's state and
 *       the server's never share values, only text)
 *   server:port() -> integer
 *   server:control(name, args_lua) -> result_lua   runs service control `name` in the server's
 *       state under its lock (stats, objects, clock, ...); arguments and result are Lua source
 *   server:stop()                  idempotent; also __gc and __close
 *   core.sandbox_wait_signal() -> "SIGINT" | "SIGTERM"   blocks until one arrives */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "bind/core.h"
#include "bind/errors.h"
#include "sandbox/server.h"

#define SERVER_MT "performlua.sandbox.server"

typedef struct server_box {
    pl_sandbox *s;
} server_box;

static pl_sandbox *check_running(lua_State *L)
{
    server_box *b = luaL_checkudata(L, 1, SERVER_MT);
    if (!b->s)
        pl_error_raisef(L, "usage", "this sandbox has been stopped");
    return b->s;
}

static int l_start(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "host");
    lua_getfield(L, 1, "port");
    lua_getfield(L, 1, "latency_ms");
    lua_getfield(L, 1, "config_lua");
    pl_sandbox_options o = {0};
    o.host = luaL_optstring(L, 2, "127.0.0.1");
    o.port = (int)luaL_optinteger(L, 3, 0);
    o.latency_ms = (int)luaL_optinteger(L, 4, 0);
    o.config_lua = luaL_optstring(L, 5, "return {}");
    server_box *b = lua_newuserdatauv(L, sizeof *b, 0);
    b->s = NULL;
    luaL_setmetatable(L, SERVER_MT);
    char err[1024];
    b->s = pl_sandbox_start(&o, err, sizeof err);
    if (!b->s)
        return pl_error_raisef(L, "sandbox", "the sandbox could not start: %s", err);
    return 1;
}

static int l_port(lua_State *L)
{
    lua_pushinteger(L, pl_sandbox_port(check_running(L)));
    return 1;
}

static int l_control(lua_State *L)
{
    pl_sandbox *s = check_running(L);
    const char *name = luaL_checkstring(L, 2);
    const char *args = luaL_optstring(L, 3, "return nil");
    char err[1024];
    char *result = pl_sandbox_control(s, name, args, err, sizeof err);
    if (!result)
        return pl_error_raisef(L, "sandbox", "sandbox %s failed: %s", name, err);
    lua_pushstring(L, result); /* may raise on memory: free first */
    free(result);
    return 1;
}

static int l_stop(lua_State *L)
{
    server_box *b = luaL_checkudata(L, 1, SERVER_MT);
    pl_sandbox *s = b->s;
    b->s = NULL;
    pl_sandbox_stop(s);
    return 0;
}

static int l_wait_signal(lua_State *L)
{
    int sig = pl_sandbox_wait_signal();
    lua_pushstring(L, sig == SIGTERM ? "SIGTERM" : "SIGINT");
    return 1;
}

void pl_open_sandbox(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"port", l_port},
        {"control", l_control},
        {"stop", l_stop},
        {NULL, NULL},
    };
    if (luaL_newmetatable(L, SERVER_MT)) {
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, l_stop);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, l_stop);
        lua_setfield(L, -2, "__close");
    }
    lua_pop(L, 1);
    static const luaL_Reg funcs[] = {
        {"sandbox_start", l_start},
        {"sandbox_wait_signal", l_wait_signal},
        {NULL, NULL},
    };
    luaL_setfuncs(L, funcs, 0);
}
