/* Ctrl-C, the way lua.c does it.
 *
 * While Lua code runs, SIGINT does not kill the process: the handler only sets a debug hook
 * (lua_sethook is async-signal-safe), and the hook raises "interrupted!" at the next Lua
 * instruction, so the script unwinds through its error handling and the REPL stays alive.
 * The handler also restores the default action, so a second Ctrl-C still kills a program
 * stuck inside C code that never returns to Lua.
 *
 * At the REPL prompt, SIGINT only sets a flag; the handler is installed without SA_RESTART
 * so the blocking read() returns EINTR and the line reader can abandon the line. */
#include <signal.h>
#include <string.h>

#include <lauxlib.h>

#include "cli/cli.h"

static lua_State *volatile interrupt_state;
static volatile sig_atomic_t prompt_interrupted;

void pl_interrupt_set_state(lua_State *L)
{
    interrupt_state = L;
}

static void stop_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

static void on_sigint_in_lua(int sig)
{
    int mask = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
    signal(sig, SIG_DFL); /* a second Ctrl-C kills, as in lua.c */
    if (interrupt_state)
        lua_sethook(interrupt_state, stop_hook, mask, 1);
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

void pl_interrupt_begin_lua(struct sigaction *old)
{
    install(on_sigint_in_lua, old);
}

void pl_interrupt_end_lua(const struct sigaction *old)
{
    sigaction(SIGINT, old, NULL);
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
