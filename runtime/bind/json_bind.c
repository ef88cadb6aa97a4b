/* JSON for the token endpoint, the token cache and the sandbox, through jansson.
 *
 *   core.json_decode(text)  -> value            | nil, message   (never raises on bad input)
 *   core.json_encode(value) -> text                               (raises a usage error)
 *   core.json_null          a sentinel standing for JSON null in both directions
 *
 * Arrays are tables with keys 1..n (n >= 1); every other table is an object whose keys must be
 * strings. An empty table encodes as {}. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <lauxlib.h>

#include "bind/core.h"
#include "bind/errors.h"
#include "bind/scope.h"

#define MAX_DEPTH 64
#define DOCUMENT_OWNER "performlua.json_document"

static char json_null_sentinel;

static void push_json(lua_State *L, json_t *v)
{
    luaL_checkstack(L, 4, "JSON nested too deeply");
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *item;
        lua_createtable(L, 0, (int)json_object_size(v));
        json_object_foreach(v, key, item) {
            push_json(L, item);
            lua_setfield(L, -2, key);
        }
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *item;
        lua_createtable(L, (int)json_array_size(v), 0);
        json_array_foreach(v, i, item) {
            push_json(L, item);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        break;
    }
    case JSON_STRING:
        lua_pushlstring(L, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        lua_pushinteger(L, (lua_Integer)json_integer_value(v));
        break;
    case JSON_REAL:
        lua_pushnumber(L, json_real_value(v));
        break;
    case JSON_TRUE:
        lua_pushboolean(L, 1);
        break;
    case JSON_FALSE:
        lua_pushboolean(L, 0);
        break;
    case JSON_NULL:
        lua_pushlightuserdata(L, &json_null_sentinel);
        break;
    }
}

static int release_document(lua_State *L)
{
    json_t **doc = luaL_checkudata(L, 1, DOCUMENT_OWNER);
    json_decref(*doc);
    *doc = NULL;
    return 0;
}

static int l_json_decode(lua_State *L)
{
    size_t len;
    const char *text = luaL_checklstring(L, 1, &len);
    /* the document is owned across the pushes, any of which may raise a memory error */
    json_t **doc = pl_push_scoped_userdata(L, sizeof *doc, DOCUMENT_OWNER, release_document);
    json_error_t err;
    *doc = json_loadb(text, len, JSON_DECODE_ANY, &err);
    if (!*doc) {
        lua_pushnil(L);
        lua_pushfstring(L, "invalid JSON at line %d, column %d: %s", err.line, err.column,
                        err.text);
        return 2;
    }
    push_json(L, *doc);
    return 1;
}

/* Builds a jansson value; on failure returns NULL with *why pointing at a static explanation or
 * at `scratch` (nothing to free). Makes no Lua call that can raise, so the values built so far
 * never leak. */
static json_t *to_json(lua_State *L, int idx, int depth, const char **why, char *scratch,
                       size_t scratch_size)
{
    if (depth > MAX_DEPTH) {
        *why = "value nested too deeply (or contains a cycle)";
        return NULL;
    }
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        return json_null();
    case LUA_TBOOLEAN:
        return json_boolean(lua_toboolean(L, idx));
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            return json_integer((json_int_t)lua_tointeger(L, idx));
        return json_real(lua_tonumber(L, idx));
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        json_t *str = json_stringn(s, len);
        if (!str)
            *why = "string is not valid UTF-8";
        return str;
    }
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) == &json_null_sentinel)
            return json_null();
        break;
    case LUA_TTABLE: {
        /* Each level keeps a key and a value on the stack: without room checked here, deep
         * nesting (a cycle) writes past the Lua stack. lua_checkstack, not luaL_checkstack:
         * raising here would leak the jansson values built so far. */
        if (!lua_checkstack(L, 4)) {
            *why = "value nested too deeply (or contains a cycle)";
            return NULL;
        }
        idx = lua_absindex(L, idx);
        lua_Unsigned n = lua_rawlen(L, idx);
        size_t count = 0;
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            count++;
            lua_pop(L, 1);
        }
        if (n > 0 && count == n) {
            json_t *arr = json_array();
            for (lua_Unsigned i = 1; i <= n; i++) {
                lua_rawgeti(L, idx, (lua_Integer)i);
                json_t *item = to_json(L, -1, depth + 1, why, scratch, scratch_size);
                lua_pop(L, 1);
                if (!item) {
                    json_decref(arr);
                    return NULL;
                }
                json_array_append_new(arr, item);
            }
            return arr;
        }
        json_t *obj = json_object();
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            if (lua_type(L, -2) != LUA_TSTRING) {
                lua_pop(L, 2);
                json_decref(obj);
                *why = "object keys must be strings (or the table must be an array 1..n)";
                return NULL;
            }
            json_t *item = to_json(L, -1, depth + 1, why, scratch, scratch_size);
            if (!item) {
                lua_pop(L, 2);
                json_decref(obj);
                return NULL;
            }
            json_object_set_new(obj, lua_tostring(L, -2), item);
            lua_pop(L, 1);
        }
        return obj;
    }
    default:
        break;
    }
    snprintf(scratch, scratch_size, "cannot encode a %s as JSON", luaL_typename(L, idx));
    *why = scratch;
    return NULL;
}

static int l_json_encode(lua_State *L)
{
    luaL_checkany(L, 1);
    lua_settop(L, 1);
    char **text = pl_push_scoped_string(L);
    const char *why = "cannot encode value";
    char scratch[96];
    json_t *v = to_json(L, 1, 0, &why, scratch, sizeof scratch);
    if (!v)
        return pl_error_raisef(L, "usage", "json_encode: %s", why);
    *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
    json_decref(v);
    if (!*text)
        return pl_error_raisef(L, "usage", "json_encode: could not serialise value");
    lua_pushstring(L, *text);
    return 1;
}

void pl_open_json(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"json_decode", l_json_decode},
        {"json_encode", l_json_encode},
        {NULL, NULL},
    };
    luaL_setfuncs(L, funcs, 0);
    lua_pushlightuserdata(L, &json_null_sentinel);
    lua_setfield(L, -2, "json_null");
}
