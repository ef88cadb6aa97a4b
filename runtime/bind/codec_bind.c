/* performlua.core's codec functions: SOAP encoding and decoding (bind/encode.c,
 * bind/decode.c) and the typed objects behind mc.<Type>{...} (bind/objects.c). */
#include <lauxlib.h>
#include <libxml/parser.h>

#include "bind/codec.h"
#include "bind/core.h"
#include "bind/objects.h"
#include "codec/soap.h"

/* core.operations() -> {{name = "Perform", request = "PerformRequestMsg",
 * response = "PerformResponseMsg"}, ...} in the WSDL's order. */
static int l_operations(lua_State *L)
{
    lua_createtable(L, pl_operation_count, 0);
    for (int i = 0; i < pl_operation_count; i++) {
        lua_createtable(L, 0, 3);
        lua_pushstring(L, pl_operations[i].name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, pl_operations[i].request_element);
        lua_setfield(L, -2, "request");
        lua_pushstring(L, pl_operations[i].response_element);
        lua_setfield(L, -2, "response");
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

void pl_open_codec(lua_State *L)
{
    /* libxml2's global state must be set up once before threads (the sandbox's) use it;
     * the first core opened is the main thread's. Idempotent. */
    xmlInitParser();
    static const luaL_Reg funcs[] = {
        {"encode", pl_l_encode},
        {"encode_message", pl_l_encode_message},
        {"encode_fault", pl_l_encode_fault},
        {"decode", pl_l_decode},
        {"operations", l_operations},
        {"constructor", pl_l_constructor},
        {"object_types", pl_l_object_types},
        {"object_metatable", pl_l_object_metatable},
        {"typeof", pl_l_typeof},
        {"check_field", pl_l_check_field},
        {NULL, NULL},
    };
    luaL_setfuncs(L, funcs, 0);
}
