/* performlua.core's codec functions: SOAP encoding and decoding (bind/encode.c,
 * bind/decode.c), the typed objects behind mc.<Type>{...} (bind/objects.c), and text made
 * safe to show (codec/value.c) or searched. */
#include <string.h>

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

/* core.contains_any(s, parts) -> whether any string of the array parts occurs in s (bytes, no
 * pattern).
 *
 * Every answer is searched for every secret (trace.answer_may_hold). string.find stops at each
 * byte equal to the secret's first and compares there: 30,000 times in a 2,500-row page, 2.8 M
 * instructions; glibc's memmem took 3.9 M. In a long text, memchr looks instead for the
 * secret's byte that is rarest in the text's first 4 KB (a sample of what the page is made
 * of), and only there is the whole secret compared; a short one is searched by its first
 * byte, as string.find does, since the sample would cost more than it saves. */
#define SAMPLED_FROM 65536
#define SAMPLE 4096

static bool contains(const char *s, size_t len, const char *part, size_t part_len,
                     const unsigned *count)
{
    if (part_len == 0)
        return true;
    if (part_len > len)
        return false;
    size_t anchor = 0;
    for (size_t k = 1; count && k < part_len; k++)
        if (count[(unsigned char)part[k]] < count[(unsigned char)part[anchor]])
            anchor = k;
    /* part can start at 0 .. len - part_len: its anchor byte is at anchor .. that + anchor */
    const char *from = s + anchor, *last = s + (len - part_len) + anchor;
    while (from <= last) {
        const char *at = memchr(from, part[anchor], (size_t)(last - from) + 1);
        if (!at)
            return false;
        if (memcmp(at - anchor, part, part_len) == 0)
            return true;
        from = at + 1;
    }
    return false;
}

static int l_contains_any(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    luaL_checktype(L, 2, LUA_TTABLE);
    unsigned count[256] = {0};
    if (len >= SAMPLED_FROM)
        for (size_t i = 0; i < SAMPLE; i++)
            count[(unsigned char)s[i]]++;
    lua_Integer n = (lua_Integer)lua_rawlen(L, 2);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, 2, i);
        size_t part_len;
        const char *part = lua_tolstring(L, -1, &part_len);
        if (!part)
            return luaL_error(L, "contains_any: item %d of the parts is not a string", (int)i);
        if (contains(s, len, part, part_len, len >= SAMPLED_FROM ? count : NULL)) {
            lua_pushboolean(L, 1);
            return 1;
        }
        lua_pop(L, 1);
    }
    lua_pushboolean(L, 0);
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
        {"contains_any", l_contains_any},
        {"xml_indent", l_xml_indent},
        {NULL, NULL},
    };
    luaL_setfuncs(L, funcs, 0);
}
