/* The performlua command line, shaped like Lua's own `lua` (lua.c).
 *
 * main() hands argv to pl_cli_main, which parses the options in plain C, creates the Lua
 * state and runs everything else inside one protected call, so no Lua error can escape
 * (only memory exhaustion while reporting could). Every chunk the user gives us (script,
 * -e, -l, REPL lines) goes through pl_cli_docall, which adds a traceback and makes Ctrl-C
 * interrupt the running Lua code instead of killing the process. */
#ifndef PL_CLI_CLI_H
#define PL_CLI_CLI_H

#include <lua.h>

/* Runs the command line; returns the process exit status. */
int pl_cli_main(int argc, char **argv);

/* Calls the function below its narg arguments on the stack like lua_pcall, with a traceback
 * message handler and Ctrl-C turned into the error "interrupted!". */
int pl_cli_docall(lua_State *L, int narg, int nres);

/* Pushes require(module)[field], the require under pl_cli_docall; returns its status (not
 * LUA_OK: the error message is pushed instead). */
int pl_cli_push_field(lua_State *L, const char *module, const char *field);

/* When status is not LUA_OK, prints the error on the top of the stack (already a string after
 * pl_cli_docall) to stderr, prefixed "performlua: " unless in the REPL, and pops it. */
int pl_cli_report(lua_State *L, int status);

/* Full tracebacks, performlua's own frames included, for every error (--debug,
 * PERFORMLUA_DEBUG=1); by default a usage error is one line and other tracebacks show the
 * user's frames only. */
void pl_cli_set_debug(int on);
/* Whether the last error caught by pl_cli_docall was a usage error (exit status 2), and a way
 * to say so for usage errors found outside Lua (a script file that cannot be opened). */
int pl_cli_last_error_usage(void);
void pl_cli_note_usage_error(void);

/* Whether pl_cli_report prefixes messages with the program name (off in the REPL). */
void pl_cli_set_report_prefix(int on);

/* Prints the one-line-per-component version information to stdout. */
void pl_cli_print_versions(void);

/* Prints the short banner the REPL opens with. */
void pl_cli_print_banner(void);

/* The read-eval-print loop (runtime/cli/repl.c). Uses libedit when stdin is a terminal. */
void pl_repl_run(lua_State *L);

/* SIGINT handling shared by docall and the REPL prompt (runtime/cli/interrupt.c). */
void pl_interrupt_set_state(lua_State *L);
/* Replaces coroutine.resume and coroutine.wrap so that Ctrl-C reaches a looping coroutine. */
void pl_interrupt_track_coroutines(lua_State *L);
/* Installs the "interrupt Lua" handler; saves the previous action into *old. */
struct sigaction;
void pl_interrupt_begin_lua(struct sigaction *old);
void pl_interrupt_end_lua(const struct sigaction *old);
/* package.loaded["performlua.signal"] = {pending = fn}: the signal that interrupted the running
 * chunk ("SIGINT", "SIGTERM" or nil), asked by the event loop at every wait. */
void pl_interrupt_open(lua_State *L);
/* The signal (SIGINT, SIGTERM) that interrupted a chunk of this run, or 0; the exit status is
 * then 128 + its number even when the script caught the error. The REPL forgets it. */
int pl_interrupt_last_signal(void);
void pl_interrupt_forget(void);
const char *pl_interrupt_signal_name(int sig);
/* Installs the prompt handler (sets a flag, read() returns EINTR); returns whether a Ctrl-C
 * arrived since the last call to pl_interrupt_take_prompt(). */
void pl_interrupt_begin_prompt(struct sigaction *old);
void pl_interrupt_end_prompt(const struct sigaction *old);
int pl_interrupt_take_prompt(void);
/* Whether a Ctrl-C arrived at the prompt, without clearing it. */
int pl_interrupt_prompt_pending(void);

#endif
