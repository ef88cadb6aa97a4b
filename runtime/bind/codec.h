/* The Lua functions of the SOAP codec (registered into performlua.core by
 * bind/codec_bind.c). See encode.c, decode.c and objects.c. */
#ifndef PL_BIND_CODEC_H
#define PL_BIND_CODEC_H

#include "bind/layer.h"

#include <lua.h>

int pl_l_encode(lua_State *L);         /* core.encode(operation, request, opts) */
int pl_l_encode_message(lua_State *L); /* core.encode_message(element, tbl, opts) */
int pl_l_encode_fault(lua_State *L);   /* core.encode_fault{...} */
int pl_l_decode(lua_State *L);         /* core.decode(xml, opts) -> body, element, header */

/* A safe point of the codec, called between the decoder's chunks and every
 * PL_ENCODE_SAFE_POINT items the encoder writes: in a sandbox's state the request being
 * handled gives its turn to those waiting (bind/sandbox_bind.c); in any other state, nothing.
 * It never raises; what the codec holds stays on its own stack and its own C objects. */
void pl_codec_hook(lua_State *L);
#define PL_ENCODE_SAFE_POINT 256

/* Pushes a string of len bytes. A large one is made while the collector stands still: its
 * allocation would otherwise make the collector's next step as large as the string (a 30 MB
 * answer: a whole collection of the heap at once, with nothing in it to give a turn up), though
 * a string needs no traversal; the collector catches up with it over the allocations that
 * follow. */
void pl_codec_push_large(lua_State *L, const char *s, size_t len);

/* Maximum element nesting the decoder accepts. */
#define PL_DECODE_MAX_DEPTH 128

#endif
