/* Lua binding of the HTTP transport (runtime/net/http.h).
 *
 *   core.http_multi() -> m            one multi handle: transfers share its connection cache
 *   m:start{url=, body=, headers=, idempotent=, timeout=, connect_timeout=, method=,
 *           max_response_bytes=, ca_file=} -> id
 *       headers: {"Name: value", ...} or {Name = "value", ...}. timeout and connect_timeout
 *       (seconds) are required: their defaults are the client's (performlua.client). Raises
 *       a usage error for a refused URL (plain http:// to a non-loopback host, another scheme,
 *       not a URL) or a missing timeout.
 *   m:poll(timeout_seconds) -> { {id=, status=, body=, headers={lowercased name = value},
 *                                 curl_code=, error=, sent=, reused=, elapsed=}, ... }
 *       drives transfers until at least one completes or the timeout passes. `headers` is
 *       built when first read (from the raw lines, kept as `raw_headers`): most answers are
 *       never asked for theirs, and parsing them into a table was ~14,000 instructions a call.
 *   m:pending() -> number of transfers not yet returned by poll
 *   m:close()                         aborts running transfers (also __gc / __close)
 *   core.http_url_allowed(url) -> true | false, why
 *   core.http_library() -> "7.88.1 (OpenSSL/3.0.11)" | nil, why   loads and initialises libcurl
 *
 * No Lua error can cross a libcurl frame: the transport's callbacks are pure C, and this file
 * only raises before a transfer is started or after a completed one was taken out of curl. */
#include <ctype.h>
#include <string.h>

#include <lauxlib.h>

#include "bind/core.h"
#include "bind/errors.h"
#include "bind/scope.h"
#include "net/http.h"

#define MULTI_METATABLE "performlua.http_multi"
#define RESPONSE_OWNER "performlua.http_response"
#define RESPONSE_METATABLE "performlua.http_response_table"

typedef struct multi_box {
    pl_http_multi *m;
} multi_box;

static multi_box *check_open(lua_State *L)
{
    multi_box *box = luaL_checkudata(L, 1, MULTI_METATABLE);
    if (!box->m)
        luaL_error(L, "HTTP multi handle is closed");
    return box;
}

static int l_http_multi(lua_State *L)
{
    multi_box *box = lua_newuserdatauv(L, sizeof *box, 0);
    box->m = NULL;
    luaL_setmetatable(L, MULTI_METATABLE);
    box->m = pl_http_multi_new();
    if (!box->m) {
        char why[PL_HTTP_ERROR_SIZE];
        if (!pl_http_load(why, sizeof why))
            return pl_error_raisef(L, "transport", "%s", why);
        return pl_error_raisef(L, "transport", "could not initialise libcurl");
    }
    return 1;
}

static int l_close(lua_State *L)
{
    multi_box *box = luaL_checkudata(L, 1, MULTI_METATABLE);
    pl_http_multi_free(box->m);
    box->m = NULL;
    return 0;
}

static double opt_number_field(lua_State *L, int t, const char *name, double dflt)
{
    double v = dflt;
    int type = lua_getfield(L, t, name);
    if (type == LUA_TNUMBER)
        v = lua_tonumber(L, -1);
    else if (type != LUA_TNIL)
        luaL_error(L, "http request field '%s' must be a number", name);
    lua_pop(L, 1);
    return v;
}

/* Collects the header lines into a table at the top of the stack (keeping the strings alive)
 * and returns a NULL-terminated pointer array owned by a userdata pushed above it. */
static const char **collect_headers(lua_State *L, int req)
{
    int type = lua_getfield(L, req, "headers");
    if (type != LUA_TTABLE && type != LUA_TNIL)
        luaL_error(L, "http request field 'headers' must be a table");
    int h = lua_gettop(L);
    /* sized for a list of lines, as transport.lua gives: no table grows on every call */
    lua_createtable(L, type == LUA_TTABLE ? (int)lua_rawlen(L, h) : 0, 0);
    int lines = lua_gettop(L);
    int n = 0;
    if (type == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, h)) {
            if (lua_type(L, -2) == LUA_TNUMBER) {
                if (lua_type(L, -1) != LUA_TSTRING)
                    luaL_error(L, "http request header lines must be strings");
                lua_pushvalue(L, -1);
            } else {
                if (lua_type(L, -2) != LUA_TSTRING || !lua_isstring(L, -1))
                    luaL_error(L, "http request headers must map names to strings");
                lua_pushfstring(L, "%s: %s", lua_tostring(L, -2), lua_tostring(L, -1));
            }
            const char *line = lua_tostring(L, -1);
            if (strpbrk(line, "\r\n"))
                luaL_error(L, "http request header contains a line break");
            lua_rawseti(L, lines, ++n);
            lua_pop(L, 1);
        }
    }
    lua_remove(L, h);
    lines = lua_gettop(L);
    const char **ptrs = lua_newuserdatauv(L, sizeof(char *) * (size_t)(n + 1), 0);
    for (int i = 1; i <= n; i++) {
        lua_rawgeti(L, lines, i);
        ptrs[i - 1] = lua_tostring(L, -1); /* kept alive by the `lines` table */
        lua_pop(L, 1);
    }
    ptrs[n] = NULL;
    return ptrs;
}

static int l_start(lua_State *L)
{
    multi_box *box = check_open(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    pl_http_request req = {0};
    if (lua_getfield(L, 2, "url") != LUA_TSTRING)
        return luaL_error(L, "http request needs a string 'url'");
    req.url = lua_tostring(L, -1);
    int type = lua_getfield(L, 2, "body");
    if (type == LUA_TSTRING)
        req.body = lua_tolstring(L, -1, &req.body_len);
    else if (type != LUA_TNIL)
        return luaL_error(L, "http request field 'body' must be a string");
    type = lua_getfield(L, 2, "method");
    if (type == LUA_TSTRING)
        req.method = lua_tostring(L, -1);
    else if (type != LUA_TNIL)
        return luaL_error(L, "http request field 'method' must be a string");
    lua_getfield(L, 2, "idempotent");
    req.idempotent = lua_toboolean(L, -1);
    lua_pop(L, 1);
    req.timeout = opt_number_field(L, 2, "timeout", 0); /* 0: refused by pl_http_start */
    req.connect_timeout = opt_number_field(L, 2, "connect_timeout", 0);
    double max_bytes = opt_number_field(L, 2, "max_response_bytes", 0);
    req.max_response_bytes = max_bytes > 0 ? (size_t)max_bytes : 0;
    type = lua_getfield(L, 2, "ca_file");
    if (type == LUA_TSTRING)
        req.ca_file = lua_tostring(L, -1);
    else if (type != LUA_TNIL)
        return luaL_error(L, "http request field 'ca_file' must be a string");
    req.headers = collect_headers(L, 2);

    char why[PL_HTTP_ERROR_SIZE] = "";
    long id = pl_http_start(box->m, &req, why);
    if (id < 0)
        return pl_error_raisef(L, "usage", "%s", why);
    lua_pushinteger(L, id);
    return 1;
}

static void push_headers(lua_State *L, const char *raw, size_t len)
{
    lua_newtable(L);
    const char *p = raw, *end = raw + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol ? eol : end;
        const char *colon = memchr(p, ':', (size_t)(line_end - p));
        if (colon && colon > p && !(line_end - p >= 5 && memcmp(p, "HTTP/", 5) == 0)) {
            luaL_Buffer name;
            luaL_buffinit(L, &name);
            for (const char *c = p; c < colon; c++)
                luaL_addchar(&name, (char)tolower((unsigned char)*c));
            luaL_pushresult(&name);
            const char *v = colon + 1, *ve = line_end;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            lua_pushvalue(L, -1);
            if (lua_rawget(L, -3) == LUA_TSTRING) { /* repeated header: join with ", " */
                lua_pushliteral(L, ", ");
                lua_pushlstring(L, v, (size_t)(ve - v));
                lua_concat(L, 3);
            } else {
                lua_pop(L, 1);
                lua_pushlstring(L, v, (size_t)(ve - v));
            }
            lua_rawset(L, -3);
        }
        p = line_end + 1;
    }
}

static void push_response(lua_State *L, const pl_http_response *r)
{
    lua_createtable(L, 0, 10);
    lua_pushinteger(L, r->id);
    lua_setfield(L, -2, "id");
    lua_pushinteger(L, r->status);
    lua_setfield(L, -2, "status");
    lua_pushlstring(L, r->body, r->body_len);
    lua_setfield(L, -2, "body");
    lua_pushlstring(L, r->headers, r->headers_len);
    lua_setfield(L, -2, "raw_headers");
    luaL_setmetatable(L, RESPONSE_METATABLE);
    lua_pushinteger(L, r->curl_code);
    lua_setfield(L, -2, "curl_code");
    if (r->curl_code != 0) {
        lua_pushstring(L, r->error);
        lua_setfield(L, -2, "error");
    }
    lua_pushboolean(L, r->sent);
    lua_setfield(L, -2, "sent");
    lua_pushboolean(L, r->reused);
    lua_setfield(L, -2, "reused");
    lua_pushnumber(L, r->elapsed);
    lua_setfield(L, -2, "elapsed");
}

/* __index of a response table: `headers` parsed from `raw_headers` on first use, then kept. */
static int response_index(lua_State *L)
{
    const char *key = lua_tostring(L, 2);
    if (lua_type(L, 2) != LUA_TSTRING || strcmp(key, "headers") != 0)
        return 0;
    size_t len = 0;
    const char *raw = "";
    if (lua_getfield(L, 1, "raw_headers") == LUA_TSTRING)
        raw = lua_tolstring(L, -1, &len);
    push_headers(L, raw, len); /* `raw` stays alive: the string is on the stack below */
    lua_pushvalue(L, -1);
    lua_setfield(L, 1, "headers");
    return 1;
}

static int release_response(lua_State *L)
{
    pl_http_response **r = luaL_checkudata(L, 1, RESPONSE_OWNER);
    pl_http_response_free(*r);
    *r = NULL;
    return 0;
}

static int l_poll(lua_State *L)
{
    multi_box *box = check_open(L);
    double timeout = luaL_optnumber(L, 2, 0);
    char why[PL_HTTP_ERROR_SIZE] = "";
    if (pl_http_poll(box->m, timeout, why) != 0)
        return pl_error_raisef(L, "transport", "%s", why);
    lua_createtable(L, 1, 0); /* one answer, mostly */
    int list = lua_gettop(L);
    /* each response taken out of the transport is owned while its table is built */
    pl_http_response **r =
        pl_push_scoped_userdata(L, sizeof *r, RESPONSE_OWNER, release_response);
    int n = 0;
    while ((*r = pl_http_next_done(box->m))) {
        push_response(L, *r);
        lua_rawseti(L, list, ++n);
        pl_http_response_free(*r);
        *r = NULL;
    }
    lua_pushvalue(L, list);
    return 1;
}

static int l_pending(lua_State *L)
{
    multi_box *box = check_open(L);
    lua_pushinteger(L, pl_http_pending(box->m));
    return 1;
}

/* multi:sent(id) -> whether the transfer may have been sent (net/http.h); nil when unknown */
static int l_sent(lua_State *L)
{
    multi_box *box = check_open(L);
    int sent = pl_http_sent(box->m, (long)luaL_checkinteger(L, 2));
    if (sent < 0)
        return 0;
    lua_pushboolean(L, sent);
    return 1;
}

static int l_http_library(lua_State *L)
{
    char text[PL_HTTP_ERROR_SIZE];
    if (!pl_http_load(text, sizeof text)) {
        lua_pushnil(L);
        lua_pushstring(L, text);
        return 2;
    }
    pl_http_library_version(text, sizeof text, true);
    lua_pushstring(L, text);
    return 1;
}

static int l_url_allowed(lua_State *L)
{
    const char *url = luaL_checkstring(L, 1);
    char why[PL_HTTP_ERROR_SIZE] = "";
    /* The URL parser is libcurl's: without it, say so (not that the URL is bad). */
    if (!pl_http_load(why, sizeof why))
        return pl_error_raisef(L, "transport", "%s", why);
    if (pl_http_url_allowed(url, why)) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushboolean(L, 0);
    lua_pushstring(L, why);
    return 2;
}

void pl_open_net(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"start", l_start},
        {"poll", l_poll},
        {"pending", l_pending},
        {"sent", l_sent},
        {"close", l_close},
        {NULL, NULL},
    };
    static const luaL_Reg meta[] = {
        {"__gc", l_close},
        {"__close", l_close},
        {NULL, NULL},
    };
    luaL_newmetatable(L, RESPONSE_METATABLE);
    lua_pushcfunction(L, response_index);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);

    luaL_newmetatable(L, MULTI_METATABLE);
    luaL_setfuncs(L, meta, 0);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);

    static const luaL_Reg funcs[] = {
        {"http_multi", l_http_multi},
        {"http_url_allowed", l_url_allowed},
        {"http_library", l_http_library},
        {NULL, NULL},
    };
    luaL_setfuncs(L, funcs, 0);
}
