#include "bind/core.h"

#include <lauxlib.h>
#include <lualib.h>

#include "bind/embedded.h"

int luaopen_performlua_core(lua_State *L)
{
    lua_newtable(L);
    pl_open_errors(L);
    pl_open_schema(L);
    pl_open_codec(L);
    pl_open_net(L);
    pl_open_json(L);
    pl_open_sandbox(L);
    pl_open_sys(L);
    pl_open_names(L);
    pl_open_sqlite(L);
    pl_open_fingerprint(L);
    lua_pushliteral(L, PERFORMLUA_VERSION);
    lua_setfield(L, -2, "version");
    return 1;
}

void pl_core_install(lua_State *L)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, luaopen_performlua_core);
    lua_setfield(L, -2, "performlua.core");
    lua_pop(L, 1);
    pl_embedded_install(L);
}
