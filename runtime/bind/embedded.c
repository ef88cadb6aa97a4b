#include "bind/embedded.h"

#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

const pl_embedded_module *pl_embedded_find(const char *name)
{
    for (const pl_embedded_module *m = pl_embedded_modules; m->name; m++)
        if (strcmp(m->name, name) == 0)
            return m;
    return NULL;
}

static int search_embedded(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const char *dev_dir = getenv("PERFORMLUA_LUA_DIR");
    const pl_embedded_module *m = pl_embedded_find(name);
    if (!m) {
        lua_pushfstring(L, "no embedded module '%s'", name);
        return 1;
    }
    if (dev_dir && *dev_dir) {
        /* m->path is "lua/<relative>"; the development directory replaces "lua". */
        lua_pushfstring(L, "%s/%s", dev_dir, m->path + 4);
        const char *file = lua_tostring(L, -1);
        if (luaL_loadfile(L, file) != LUA_OK)
            return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s", name, file,
                              lua_tostring(L, -1));
        lua_pushstring(L, file);
        return 2;
    }
    lua_pushfstring(L, "@%s", m->path);
    if (luaL_loadbufferx(L, m->source, m->size, lua_tostring(L, -1), "t") != LUA_OK)
        return luaL_error(L, "error loading embedded module '%s':\n\t%s", name, lua_tostring(L, -1));
    lua_pushstring(L, m->path);
    return 2;
}

void pl_embedded_install(lua_State *L)
{
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "searchers");
    lua_Integer n = luaL_len(L, -1);
    /* shift searchers 2..n up by one and insert ours at 2 */
    for (lua_Integer i = n; i >= 2; i--) {
        lua_rawgeti(L, -1, i);
        lua_rawseti(L, -2, i + 1);
    }
    lua_pushcfunction(L, search_embedded);
    lua_rawseti(L, -2, 2);
    lua_pop(L, 2);
}
