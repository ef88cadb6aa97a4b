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

/* Maximum element nesting the decoder accepts. */
#define PL_DECODE_MAX_DEPTH 128

#endif
