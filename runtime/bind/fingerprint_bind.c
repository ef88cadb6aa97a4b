/* Fingerprints of Lua values, for telling whether a value changed without keeping a copy.
 *
 *   core.fingerprint(v) -> integer: a 64-bit digest of v's content. Tables are taken by their
 *       content, however deep (keys and values, in any order of iteration) and their
 *       metatable; strings by their bytes; integers and floats apart (1 and 1.0 differ, as
 *       they are written differently); functions, userdata and threads by identity.
 *
 * The sandbox's --state save (sandbox/state.lua) asks, after every request, whether each
 * stored object changed since it was last written. Comparing with a deep copy of every object
 * cost about 3 us an object and doubled the account's memory; a fingerprint is one integer an
 * object and a walk in C. Two different values give the same fingerprint with a chance of
 * about 2^-64; fingerprints depend on metatable addresses, so they are never persisted, only
 * compared within one process.
 *
 * Raw access only (no metamethod runs), so no Lua code runs during the walk. A table nested
 * deeper than MAX_DEPTH (a cycle, in practice) raises an error. */
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>

#include "bind/core.h"

enum { MAX_DEPTH = 200 };

enum value_tag { TAG_NIL = 1, TAG_FALSE, TAG_TRUE, TAG_INTEGER, TAG_FLOAT, TAG_STRING, TAG_TABLE,
                 TAG_IDENTITY };

/* MurmurHash3's finalizer: every input bit affects every output bit. */
static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = mix(TAG_STRING ^ ((uint64_t)n * UINT64_C(0x9e3779b97f4a7c15)));
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t block;
        memcpy(&block, p, 8);
        h = mix(h ^ block) * UINT64_C(0x9e3779b97f4a7c15);
    }
    uint64_t tail = 0;
    memcpy(&tail, p, n);
    return mix(h ^ tail ^ ((uint64_t)n << 59));
}

static uint64_t fingerprint(lua_State *L, int idx, int depth)
{
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        return mix(TAG_NIL);
    case LUA_TBOOLEAN:
        return mix(lua_toboolean(L, idx) ? TAG_TRUE : TAG_FALSE);
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            return mix((uint64_t)lua_tointeger(L, idx) ^ mix(TAG_INTEGER));
        else {
            lua_Number f = lua_tonumber(L, idx);
            uint64_t bits = 0;
            memcpy(&bits, &f, sizeof f < sizeof bits ? sizeof f : sizeof bits);
            return mix(bits ^ mix(TAG_FLOAT));
        }
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        return hash_bytes(s, n);
    }
    case LUA_TTABLE: {
        if (depth >= MAX_DEPTH)
            luaL_error(L, "core.fingerprint: tables nested more than %d deep (a table that "
                          "contains itself?)", MAX_DEPTH);
        luaL_checkstack(L, 3, "core.fingerprint");
        idx = lua_absindex(L, idx);
        /* the sum of the pairs' digests: the same whatever order `next` visits them in */
        uint64_t sum = 0, count = 0;
        lua_pushnil(L);
        while (lua_next(L, idx) != 0) {
            uint64_t key = fingerprint(L, -2, depth + 1);
            uint64_t value = fingerprint(L, -1, depth + 1);
            sum += mix(key * UINT64_C(0x9e3779b97f4a7c15) ^ value);
            count++;
            lua_pop(L, 1);
        }
        uint64_t meta = 0;
        if (lua_getmetatable(L, idx)) {
            meta = (uint64_t)(uintptr_t)lua_topointer(L, -1);
            lua_pop(L, 1);
        }
        return mix(sum ^ mix(count + TAG_TABLE) ^ mix(meta ^ TAG_TABLE));
    }
    default: /* functions, userdata, threads: the same one, or not */
        return mix((uint64_t)(uintptr_t)lua_topointer(L, idx) ^ mix(TAG_IDENTITY));
    }
}

static int l_fingerprint(lua_State *L)
{
    luaL_checkany(L, 1);
    lua_pushinteger(L, (lua_Integer)fingerprint(L, 1, 0));
    return 1;
}

void pl_open_fingerprint(lua_State *L)
{
    lua_pushcfunction(L, l_fingerprint);
    lua_setfield(L, -2, "fingerprint");
}
