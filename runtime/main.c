/* Placeholder entry point; the real command line lives in runtime/cli/. */
#include <stdio.h>
#include <lauxlib.h>
#include <lualib.h>
#include "bind/core.h"

int main(int argc, char **argv)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    pl_core_install(L);
    lua_createtable(L, argc, 0);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - 1);
    }
    lua_setglobal(L, "arg");
    int rc = 0;
    if (argc > 1 && luaL_dofile(L, argv[1]) != LUA_OK) {
        fprintf(stderr, "%s\n", luaL_tolstring(L, -1, NULL));
        rc = 1;
    }
    lua_close(L);
    return rc;
}
