/* performlua.core's codec functions: SOAP encoding and decoding (bind/encode.c,
 * bind/decode.c), the typed objects behind mc.<Type>{...} (bind/objects.c), and text made
 * safe to show (codec/value.c). */
#include <lauxlib.h>

#include "bind/codec.h"
#include "bind/core.h"
#include "bind/objects.h"
#include "bind/scope.h"
#include "codec/indent.h"
#include "codec/soap.h"
#include "codec/value.h"

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

/* core.safe_text(s [, {lines = true, max = bytes}]) -> s safe to show in a terminal, a log or
 * a SOAP fault: invalid UTF-8 and control characters escaped (codec/value.h), optionally cut
 * to max bytes. Every string from the outside goes through it before it is shown. */
static int l_safe_text(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    bool lines = false;
    lua_Integer max = 0;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        lua_getfield(L, 2, "lines");
        lines = lua_toboolean(L, -1);
        lua_getfield(L, 2, "max");
        max = luaL_optinteger(L, -1, 0);
        luaL_argcheck(L, max >= 0, 2, "max must be a number of bytes >= 0");
        lua_pop(L, 2);
    }
    size_t n = pl_value_safe_text(s, len, lines, (size_t)max, NULL, 0);
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, n + 1);
    pl_value_safe_text(s, len, lines, (size_t)max, out, n + 1);
    luaL_pushresultsize(&b, n);
    return 1;
}

/* core.xml_indent(text) -> the XML laid out one element per line for people (codec/indent.h),
 * or text itself when it is not a well-formed document. */
static int l_xml_indent(lua_State *L)
{
    size_t len;
    const char *xml = luaL_checklstring(L, 1, &len);
    char **indented = pl_push_scoped_string(L);
    size_t indented_len;
    *indented = pl_xml_indent(xml, len, &indented_len);
    if (*indented)
        lua_pushlstring(L, *indented, indented_len);
    else
        lua_pushvalue(L, 1);
    return 1;
}

void pl_open_codec(lua_State *L)
{
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
        {"safe_text", l_safe_text},
        {"xml_indent", l_xml_indent},
        {NULL, NULL},
    };
    luaL_setfuncs(L, funcs, 0);
}
