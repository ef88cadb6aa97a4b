/* Scoped ownership; see scope.h. */
#include "bind/scope.h"

#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#define STRING_OWNER "performlua.scoped_string"
#define BUFFER_OWNER "performlua.scoped_buffer"

void *pl_push_scoped_userdata(lua_State *L, size_t size, const char *tname,
                              lua_CFunction release)
{
    return pl_push_scoped_userdata_zeroed(L, size, size, tname, release);
}

void *pl_push_scoped_userdata_zeroed(lua_State *L, size_t size, size_t zeroed, const char *tname,
                                     lua_CFunction release)
{
    void *p = lua_newuserdatauv(L, size, 0);
    memset(p, 0, zeroed < size ? zeroed : size);
    if (luaL_newmetatable(L, tname)) {
        lua_pushcfunction(L, release);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, release);
        lua_setfield(L, -2, "__close");
    }
    lua_setmetatable(L, -2);
    lua_toclose(L, -1);
    return p;
}

static int release_string(lua_State *L)
{
    char **slot = luaL_checkudata(L, 1, STRING_OWNER);
    free(*slot);
    *slot = NULL;
    return 0;
}

char **pl_push_scoped_string(lua_State *L)
{
    return pl_push_scoped_userdata(L, sizeof(char *), STRING_OWNER, release_string);
}

static int release_buffer(lua_State *L)
{
    pl_buffer_free(luaL_checkudata(L, 1, BUFFER_OWNER));
    return 0;
}

pl_buffer *pl_push_scoped_buffer(lua_State *L)
{
    return pl_push_scoped_userdata(L, sizeof(pl_buffer), BUFFER_OWNER, release_buffer);
}
