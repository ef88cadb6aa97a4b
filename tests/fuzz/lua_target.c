/* One libFuzzer target = this harness + a Lua driver (tests/fuzz/targets/<name>.lua).
 *
 * The driver runs in a lua_State set up as the performlua binary sets up its own (standard
 * libraries, performlua.core, the embedded modules), so targets exercise the same entry points
 * scripts and the sandbox use: core.decode, the sandbox service's handler, auth.lua, config.lua,
 * the encoder. The driver returns a function called with each input as a Lua string; it asserts
 * the target's invariants and raises when one breaks. A raise is a finding: the harness prints
 * it and aborts, so libFuzzer records the input like any crash. Memory errors, undefined
 * behaviour and leaks in the C underneath are caught by the sanitizers the target is built with.
 * libxml2 must never print (performlua captures its messages into errors): the harness points
 * libxml2's process-wide handlers, where an uncaptured message would go, at an abort.
 *
 * libFuzzer's coverage instruments the C code only; the sandbox's handlers, auth.lua and
 * config.lua are Lua. A line hook feeds libFuzzer's extra counters with Lua coverage: each
 * pair of consecutive lines run (source and line, like an edge) bumps one counter, so an input
 * that reaches new Lua code is kept. Drivers switch it off around set-up work that is the same
 * for every input (fuzz_coverage(false)), which saves the hook's cost there.
 *
 * FUZZ_DRIVER (the driver's path) and FUZZ_DIR (tests/fuzz, for the drivers' shared modules)
 * are compiled in; PERFORMLUA_FUZZ_DRIVER overrides the driver (to try one without a rebuild). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lualib.h>

#include "bind/core.h"
#include "util/libxml.h"

static lua_State *state;
static int one_input = LUA_NOREF; /* registry reference to the driver's function */

#define LUA_EDGES (1u << 16)
__attribute__((used, section("__libfuzzer_extra_counters"))) static uint8_t lua_edges[LUA_EDGES];
static uintptr_t previous_line;

static void on_line(lua_State *L, lua_Debug *ar)
{
    if (!lua_getinfo(L, "S", ar))
        return;
    /* the source string is interned: its address names the chunk for the process's life */
    uintptr_t here = ((uintptr_t)ar->source >> 4) * 2654435761u ^ (uintptr_t)ar->currentline;
    uint8_t *counter = &lua_edges[(here ^ (previous_line >> 1)) % LUA_EDGES];
    if (*counter < 255)
        (*counter)++;
    previous_line = here;
}

/* fuzz_coverage(on): Lua coverage on (the default) or off. */
static int l_fuzz_coverage(lua_State *L)
{
    lua_sethook(state, lua_toboolean(L, 1) ? on_line : NULL, LUA_MASKLINE, 0);
    return 0;
}

static void die(lua_State *L, const char *what)
{
    const char *msg = NULL;
    if (lua_type(L, -1) == LUA_TTABLE) { /* a performlua error table */
        lua_getfield(L, -1, "message");
        msg = lua_tostring(L, -1);
        lua_pop(L, 1);
    }
    if (!msg)
        msg = luaL_tolstring(L, -1, NULL);
    fprintf(stderr, "fuzz target: %s: %s\n", what, msg ? msg : "(no message)");
    fflush(stderr);
    abort();
}

static void libxml2_printed(void *context, const char *fmt, ...)
{
    (void)context;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz target: libxml2 printed a message instead of reporting it: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fflush(stderr);
    abort();
}

static void libxml2_reported(void *context, xmlErrorPtr err)
{
    libxml2_printed(context, "%s", err && err->message ? err->message : "(no message)\n");
}

/* Adds the traceback to a raised message, so a broken invariant says where it was checked. */
static int traceback(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TTABLE) {
        lua_getfield(L, 1, "message");
        const char *msg = lua_tostring(L, -1);
        lua_getfield(L, 1, "kind");
        const char *kind = lua_tostring(L, -1);
        lua_pushfstring(L, "error table {kind = %s, message = %s}", kind ? kind : "?",
                        msg ? msg : "?");
    } else {
        luaL_tolstring(L, 1, NULL);
    }
    luaL_traceback(L, L, lua_tostring(L, -1), 1);
    return 1;
}

/* Closing the state at exit runs the drivers' finalizers (the config target's file). */
static void close_state(void)
{
    lua_close(state);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    state = luaL_newstate();
    if (!state) {
        fprintf(stderr, "fuzz target: cannot create a Lua state\n");
        abort();
    }
    lua_State *L = state;
    atexit(close_state);
    luaL_openlibs(L);
    pl_core_install(L);
    lua_getglobal(L, "package");
    lua_pushstring(L, FUZZ_DIR "/?.lua;");
    lua_getfield(L, -2, "path");
    lua_concat(L, 2);
    lua_setfield(L, -2, "path");
    lua_pop(L, 1);

    lua_register(L, "fuzz_coverage", l_fuzz_coverage);
    const char *driver = getenv("PERFORMLUA_FUZZ_DRIVER");
    if (!driver || !*driver)
        driver = FUZZ_DRIVER;
    lua_pushcfunction(L, traceback);
    if (luaL_loadfilex(L, driver, "t") != LUA_OK)
        die(L, "cannot load the driver");
    if (lua_pcall(L, 0, 1, -2) != LUA_OK)
        die(L, "the driver failed to start");
    if (lua_type(L, -1) != LUA_TFUNCTION) {
        lua_pushfstring(L, "%s must return a function(input)", driver);
        die(L, "bad driver");
    }
    one_input = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(L, 1);
    /* libxml2 is loaded on first use: load it to watch what it would print */
    if (!pl_libxml_load(NULL, 0))
        die(L, "libxml2 could not be loaded");
    xmlSetGenericErrorFunc(NULL, libxml2_printed);
    xmlSetStructuredErrorFunc(NULL, libxml2_reported);
    lua_sethook(L, on_line, LUA_MASKLINE, 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lua_State *L = state;
    previous_line = 0;
    lua_pushcfunction(L, traceback);
    lua_rawgeti(L, LUA_REGISTRYINDEX, one_input);
    lua_pushlstring(L, (const char *)data, size);
    if (lua_pcall(L, 1, 0, -3) != LUA_OK)
        die(L, "invariant broken");
    lua_pop(L, 1);
    /* Whatever the input made is garbage now: collected here, the input's mallocs and frees
     * balance, so libFuzzer's leak check (which runs the input again and scans the heap
     * whenever they do not) only runs when C code may really have lost memory. */
    lua_gc(L, LUA_GCCOLLECT, 0);
    return 0;
}
