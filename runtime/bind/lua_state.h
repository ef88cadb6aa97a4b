/* New Lua states (the command line's state and the sandbox's account) on the allocator
 * util/allocator.h chooses for the Lua heap. */
#ifndef PL_BIND_LUA_STATE_H
#define PL_BIND_LUA_STATE_H

#include "bind/layer.h"

#include <stddef.h>

#include <lua.h>

/* A new state, as luaL_newstate makes one (a panic handler that prints the error; warnings
 * off until "@on"), on the Lua heap's allocator. NULL when out of memory. */
lua_State *pl_lua_state_new(void);

#endif
