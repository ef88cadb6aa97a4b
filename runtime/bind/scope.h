/* Scoped ownership, the binding layer's one idiom for C resources held across a call that
 * can raise (any Lua API call that allocates can raise a memory error, and a raise skips the
 * rest of the function).
 *
 * The resource belongs to a to-be-closed userdata pushed before the resource exists; whatever
 * it holds is released when the calling C function returns, when an error unwinds it, or at
 * lua_closeslot. So: push the owner, acquire into it, push results above it, return them.
 * The owner's slot may leave the stack only through lua_pop/lua_settop (which close it) or
 * after lua_closeslot; never lua_remove/lua_replace it while it is open. As liolib's files:
 * created empty, then filled, so a raise at any point leaves nothing to free. */
#ifndef PL_BIND_SCOPE_H
#define PL_BIND_SCOPE_H

#include "bind/layer.h"

#include <stddef.h>

#include <lua.h>

#include "util/buffer.h"

/* Pushes a zeroed userdata of `size` bytes with the metatable `tname` (created on first use)
 * whose __gc and __close call `release` (which must accept a zeroed or already released
 * userdata), marks it to-be-closed and returns it. */
void *pl_push_scoped_userdata(lua_State *L, size_t size, const char *tname,
                              lua_CFunction release);

/* The same with only the first `zeroed` bytes zeroed: for a large userdata whose tail the
 * owner writes before reading (the decoder's 18 KB of stacks and cache, made per decode).
 * `release` must accept a userdata whose first `zeroed` bytes are zero. */
void *pl_push_scoped_userdata_zeroed(lua_State *L, size_t size, size_t zeroed, const char *tname,
                                     lua_CFunction release);

/* An owner of one malloc'd string (or other block of chars): returns the slot to store its
 * address in (NULL at first); free() runs on it when the scope ends. */
char **pl_push_scoped_string(lua_State *L);

/* An owner of a growable buffer (empty at first), freed when the scope ends. */
pl_buffer *pl_push_scoped_buffer(lua_State *L);

#endif
