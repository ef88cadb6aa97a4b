/* Ctrl-C and SIGTERM, much the way lua.c handles Ctrl-C.
 *
 * While Lua code runs, SIGINT and SIGTERM do not kill the process: the handler records the
 * signal and sets a debug hook (lua_sethook is async-signal-safe). The hook raises an error of
 * kind "interrupted" at the next instruction of the *script's* code; inside performlua's own
 * modules it waits, because their event loop asks performlua.signal at every wait and raises
 * there, where it can tell whether the request in flight had left (outcome_unknown). So the
 * script unwinds through its error handling and the REPL stays alive. The signal stays
 * recorded until the chunk ends: every later wait raises again, and the CLI exits 128 + the
 * signal's number even when the script caught the error (pl_interrupt_last_signal).
 * The handler also restores the default action, so a second signal still kills a program
 * stuck inside C code that never returns to Lua.
 *
 * Unlike lua.c, a line that loops inside a coroutine is interrupted too: a hook set on the
 * main thread never fires while a coroutine runs (each thread has its own hook), and scripts
 * here live in coroutines (the event loop's tasks, generators). coroutine.resume and
 * coroutine.wrap are therefore replaced by equivalents (the same code as lcorolib.c's, same
 * results, same messages) that record the coroutine they run, so
 * the handler can hook it as well; when the resume returns to a caller that would go on
 * (resume reports the error as `false, "interrupted!"`), the caller is hooked in turn.
 *
 * At the REPL prompt, SIGINT only sets a flag; the handler is installed without SA_RESTART
 * so the blocking read() returns EINTR and the line reader can abandon the line. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "bind/errors.h"
#include "cli/cli.h"

static lua_State *volatile interrupt_state;
static lua_State *volatile running_coroutine; /* innermost coroutine resumed by Lua code */
static volatile sig_atomic_t interrupt_requested; /* the signal (SIGINT, SIGTERM) that arrived
                                                   * during the current Lua call, or 0 */
static volatile sig_atomic_t prompt_interrupted;
static int last_signal; /* interrupt_requested when the last Lua call ended */

#define STOP_HOOK_MASK (LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT)

void pl_interrupt_set_state(lua_State *L)
{
    interrupt_state = L;
}

/* Whether a chunk name is one of performlua's own modules: embedded ("@lua/performlua/...") or
 * read from PERFORMLUA_LUA_DIR (cli.c's traceback filter knows the same two places). */
static int is_own_source(const char *source)
{
    if (source == NULL || source[0] != '@')
        return 0;
    source++;
    if (strncmp(source, "lua/performlua/", 15) == 0)
        return 1;
    const char *dev_dir = getenv("PERFORMLUA_LUA_DIR");
    size_t dev_len = dev_dir ? strlen(dev_dir) : 0;
    return dev_len > 0 && strncmp(source, dev_dir, dev_len) == 0 &&
           strncmp(source + dev_len, "/performlua/", 12) == 0;
}

const char *pl_interrupt_signal_name(int sig)
{
    return sig == SIGTERM ? "SIGTERM" : "SIGINT";
}

/* Pushes the error a signal raises in the script's own code. */
static void push_interrupted(lua_State *L, int sig)
{
    pl_error_push(L, "interrupted",
                  sig == SIGTERM ? "stopped by SIGTERM" : "interrupted by Ctrl-C (SIGINT)");
    lua_pushstring(L, pl_interrupt_signal_name(sig));
    lua_setfield(L, -2, "signal");
}

/* The registry key of the error performlua raised for the interruption (performlua.signal's
 * note): the hook raises that one again, so what the user reads says what was in flight. */
static const char NOTED_KEY[] = "performlua.signal.noted";

/* Raises the interruption in the script's code, and keeps doing so at each of its instructions
 * (the hook stays set): a pcall in the script cannot catch it and carry on. The script's
 * xpcall handlers and __close/__gc are interrupted as well; a second signal kills. */
static void stop_hook(lua_State *L, lua_Debug *ar)
{
    if (interrupt_requested == 0) { /* set during an earlier chunk (a REPL line): it is over */
        lua_sethook(L, NULL, 0, 0);
        return;
    }
    /* performlua's own code raises at its next wait (see above); C functions have no source */
    if (lua_getinfo(L, "S", ar) && (ar->what[0] == 'C' || is_own_source(ar->source)))
        return;
    if (lua_getfield(L, LUA_REGISTRYINDEX, NOTED_KEY) == LUA_TNIL) {
        lua_pop(L, 1);
        push_interrupted(L, interrupt_requested);
    }
    lua_error(L);
}

static void on_sigint_in_lua(int sig)
{
    signal(sig, SIG_DFL); /* a second signal kills, as a second Ctrl-C does in lua.c */
    interrupt_requested = sig;
    if (interrupt_state)
        lua_sethook(interrupt_state, stop_hook, STOP_HOOK_MASK, 1);
    lua_State *co = running_coroutine;
    if (co)
        lua_sethook(co, stop_hook, STOP_HOOK_MASK, 1);
}

/* Resumes `co` with `narg` arguments from L's stack, as lcorolib.c's auxresume does, with
 * `co` recorded as the running coroutine meanwhile (lua_resume never raises, so the record
 * is always restored). Returns the number of results moved to L, or -1 with the error on
 * top. The C stack depth is the original's: nesting limits stay as in plain Lua. */
static int resume_tracking(lua_State *L, lua_State *co, int narg)
{
    if (!lua_checkstack(co, narg)) {
        lua_pushliteral(L, "too many arguments to resume");
        return -1;
    }
    lua_xmove(L, co, narg);
    lua_State *previous = running_coroutine;
    running_coroutine = co;
    int nres = 0;
    int status = lua_resume(co, L, narg, &nres);
    running_coroutine = previous;
    if (interrupt_requested) /* the caller may swallow the error: stop it as well */
        lua_sethook(L, stop_hook, STOP_HOOK_MASK, 1);
    if (status == LUA_OK || status == LUA_YIELD) {
        if (!lua_checkstack(L, nres + 1)) {
            lua_pop(co, nres);
            lua_pushliteral(L, "too many results to resume");
            return -1;
        }
        lua_xmove(co, L, nres);
        return nres;
    }
    lua_xmove(co, L, 1);
    return -1;
}

static int tracking_resume(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTHREAD);
    lua_State *co = lua_tothread(L, 1);
    int r = resume_tracking(L, co, lua_gettop(L) - 1);
    if (r < 0) {
        lua_pushboolean(L, 0);
        lua_insert(L, -2);
        return 2;
    }
    lua_pushboolean(L, 1);
    lua_insert(L, -(r + 1));
    return r + 1;
}

/* The function coroutine.wrap returns (lcorolib.c's auxwrap). */
static int tracking_wrapped(lua_State *L)
{
    lua_State *co = lua_tothread(L, lua_upvalueindex(1));
    int r = resume_tracking(L, co, lua_gettop(L));
    if (r >= 0)
        return r;
    int status = lua_status(co);
    if (status != LUA_OK && status != LUA_YIELD) { /* an error in the coroutine */
#if LUA_VERSION_RELEASE_NUM >= 50406
        status = lua_closethread(co, L); /* close its to-be-closed variables */
#else
        status = lua_resetthread(co);
#endif
        lua_xmove(co, L, 1);
    }
    if (status != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
        luaL_where(L, 1);
        lua_insert(L, -2);
        lua_concat(L, 2);
    }
    return lua_error(L);
}

static int tracking_wrap(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_State *co = lua_newthread(L);
    lua_pushvalue(L, 1);
    lua_xmove(L, co, 1);
    lua_pushcclosure(L, tracking_wrapped, 1);
    return 1;
}

void pl_interrupt_track_coroutines(lua_State *L)
{
    if (lua_getglobal(L, "coroutine") != LUA_TTABLE) {
        lua_pop(L, 1);
        return;
    }
    lua_pushcfunction(L, tracking_resume);
    lua_setfield(L, -2, "resume");
    lua_pushcfunction(L, tracking_wrap);
    lua_setfield(L, -2, "wrap");
    lua_pop(L, 1);
}

static void on_sigint_at_prompt(int sig)
{
    (void)sig;
    prompt_interrupted = 1;
}

static void install(void (*handler)(int), struct sigaction *old)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: blocking reads return EINTR */
    sigaction(SIGINT, &sa, old);
}

static struct sigaction old_sigterm;

void pl_interrupt_begin_lua(struct sigaction *old)
{
    interrupt_requested = 0;
    if (interrupt_state) {
        lua_pushnil(interrupt_state);
        lua_setfield(interrupt_state, LUA_REGISTRYINDEX, NOTED_KEY);
    }
    install(on_sigint_in_lua, old);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint_in_lua;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, &old_sigterm);
}

void pl_interrupt_end_lua(const struct sigaction *old)
{
    sigaction(SIGINT, old, NULL);
    sigaction(SIGTERM, &old_sigterm, NULL);
    if (interrupt_requested)
        last_signal = interrupt_requested;
    interrupt_requested = 0;
    /* A Ctrl-C that arrived after the last Lua instruction must not fire in the next chunk. */
    if (interrupt_state && lua_gethook(interrupt_state) == stop_hook)
        lua_sethook(interrupt_state, NULL, 0, 0);
}

void pl_interrupt_begin_prompt(struct sigaction *old)
{
    install(on_sigint_at_prompt, old);
}

void pl_interrupt_end_prompt(const struct sigaction *old)
{
    sigaction(SIGINT, old, NULL);
}

int pl_interrupt_take_prompt(void)
{
    int was = prompt_interrupted;
    prompt_interrupted = 0;
    return was;
}

int pl_interrupt_prompt_pending(void)
{
    return prompt_interrupted;
}

int pl_interrupt_last_signal(void)
{
    return last_signal;
}

void pl_interrupt_forget(void)
{
    last_signal = 0;
}

/* performlua.signal.pending() -> "SIGINT" | "SIGTERM" | nil: the signal that arrived during
 * the running chunk (the event loop raises "interrupted" at its waits while one is set). */
static int l_pending(lua_State *L)
{
    int sig = interrupt_requested;
    if (sig == 0)
        return 0;
    lua_pushstring(L, pl_interrupt_signal_name(sig));
    return 1;
}

/* performlua.signal.note(err): the error that says what the interruption stopped; the hook
 * raises it again in the script's code (only while a signal is pending). */
static int l_note(lua_State *L)
{
    if (interrupt_requested == 0)
        return 0;
    lua_settop(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, NOTED_KEY);
    return 0;
}

void pl_interrupt_open(lua_State *L)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_newtable(L);
    lua_pushcfunction(L, l_pending);
    lua_setfield(L, -2, "pending");
    lua_pushcfunction(L, l_note);
    lua_setfield(L, -2, "note");
    lua_setfield(L, -2, "performlua.signal");
    lua_pop(L, 1);
}
