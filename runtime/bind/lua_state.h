/* New Lua states on performlua's allocator for the Lua heap (the command line's state and the
 * sandbox's account), and which allocator that is (performlua --version). */
#ifndef PL_BIND_LUA_STATE_H
#define PL_BIND_LUA_STATE_H

#include "bind/layer.h"

#include <stddef.h>

#include <lua.h>

/* A new state, as luaL_newstate makes one (a panic handler that prints the error; warnings
 * off until "@on"), on the Lua heap's allocator. NULL when out of memory. */
lua_State *pl_lua_state_new(void);

/* The Lua heap's allocator for a version line: "mimalloc 2.0.9", or "C library malloc" with
 * why in parentheses (not built with mimalloc, the library is missing, under valgrind, or
 * PERFORMLUA_ALLOCATOR=system). */
void pl_lua_allocator_describe(char *out, size_t size);

#endif
