/* The read-eval-print loop.
 *
 * As in lua.c: a line is first tried as `return <line>` (so `6*7` shows 42), then as a
 * statement; while the syntax error ends in "<eof>" the input is incomplete and the next line
 * is appended (prompt ">> "). Results are shown by performlua.repl (pretty-printed Lua), not
 * by print, so tables read as Lua and never as `table: 0x...`.
 *
 * On a terminal, lines come from libedit (readline API) with a persistent history in
 * $XDG_STATE_HOME/performlua/history. Our own getc function makes Ctrl-C at the prompt abandon
 * the line being typed instead of ending the session; Ctrl-D on an empty line ends it.
 * Without a terminal (performlua -i < file) lines are read plainly, prompts still printed. */
/* ppoll */
#define _GNU_SOURCE
#include "cli/cli.h"

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <editline/readline.h>

#include <lauxlib.h>

#include "bind/scope.h"
#include "util/dynlib.h"

/* libedit is loaded when a REPL starts on a terminal (util/dynlib.h); variables of its API
 * become pointers to them. */
/* clang-format off */
#define EDIT_SYMBOLS(X)                                                                        \
    X(readline) X(rl_initialize) X(rl_resize_terminal) X(rl_completion_matches)                \
    X(using_history) X(stifle_history) X(read_history) X(write_history) X(add_history)         \
    X(history_get) X(history_base) X(history_length) X(rl_point) X(rl_line_buffer)             \
    X(rl_attempted_completion_over) X(rl_readline_name) X(rl_catch_signals)                    \
    X(rl_getc_function) X(rl_basic_word_break_characters) X(rl_completion_entry_function)      \
    X(rl_attempted_completion_function) X(rl_completion_append_character)
/* clang-format on */
static struct edit_api {
    EDIT_SYMBOLS(PL_DYNLIB_MEMBER)
} edit_api;
#define EDIT_ENTRY(name) PL_DYNLIB_ENTRY_IN(struct edit_api, name)
static const pl_dynlib_symbol edit_symbols[] = {EDIT_SYMBOLS(EDIT_ENTRY)};
static pl_dynlib edit_lib = PL_DYNLIB_INIT(PL_EDIT_SONAME, PL_EDIT_PACKAGE,
                                           "line editing in the REPL", edit_symbols, &edit_api);

#define PROMPT "> "
#define PROMPT2 ">> "
#define HISTORY_LIMIT 1000
#define EOFMARK "<eof>"

typedef enum { READ_LINE, READ_EOF, READ_INTERRUPTED } read_status;

typedef struct repl {
    int use_editline;
    char history_path[PATH_MAX];
    int history_warned;
} repl;

static volatile sig_atomic_t window_resized;

/* ---------------------------------------------------------------------------------------- */
/* History file                                                                              */

/* mkdir -p for the directory part of path (which ends in "/history"), private to the user. */
static int make_parent_dirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int ok = mkdir(path, 0700) == 0 || errno == EEXIST;
        *p = '/';
        if (!ok)
            return -1;
    }
    return 0;
}

/* $XDG_STATE_HOME/performlua/history, else ~/.local/state/performlua/history. */
static int find_history_path(repl *r)
{
    const char *state = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (state && state[0] == '/')
        n = snprintf(r->history_path, sizeof r->history_path, "%s/performlua/history", state);
    else if (home && *home)
        n = snprintf(r->history_path, sizeof r->history_path,
                     "%s/.local/state/performlua/history", home);
    else
        return -1;
    if (n < 0 || (size_t)n >= sizeof r->history_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return make_parent_dirs(r->history_path);
}

static void save_history(repl *r)
{
    if (!r->history_path[0])
        return;
    /* libedit creates the file with mode 0600; a failure only costs the history. */
    if (edit_api.write_history(r->history_path) != 0 && !r->history_warned) {
        r->history_warned = 1;
        fprintf(stderr, "performlua: cannot save the REPL history to %s (continuing without)\n",
                r->history_path);
    }
}

/* Lines that mention secrets are not remembered: the history file outlives the session. */
static int looks_secret(const char *line)
{
    static const char *const words[] = {"secret", "password", "token", NULL};
    for (const char *const *w = words; *w; w++) {
        size_t len = strlen(*w);
        for (const char *p = line; *p; p++)
            if (strncasecmp(p, *w, len) == 0)
                return 1;
    }
    return 0;
}

static void remember_line(repl *r, const char *line)
{
    if (!r->use_editline || line[0] == '\0' || looks_secret(line))
        return;
    int length = *edit_api.history_length;
    HIST_ENTRY *last =
        length > 0 ? edit_api.history_get(*edit_api.history_base + length - 1) : NULL;
    if (last && last->line && strcmp(last->line, line) == 0)
        return;
    edit_api.add_history(line);
    save_history(r);
}

/* ---------------------------------------------------------------------------------------- */
/* Reading lines                                                                             */

static void on_sigwinch(int sig)
{
    (void)sig;
    window_resized = 1;
}

/* Waits until stdin has input, or a signal arrives (returns -1, errno EINTR). SIGINT and
 * SIGWINCH are blocked except inside ppoll, so a Ctrl-C that lands between our check of the
 * flag and the wait cannot be lost (which would leave the prompt waiting for one more key). */
static int wait_for_input(int fd)
{
    sigset_t block, orig;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGWINCH);
    sigprocmask(SIG_BLOCK, &block, &orig);
    int result;
    if (pl_interrupt_prompt_pending() || window_resized) {
        errno = EINTR;
        result = -1;
    } else {
        sigset_t during = orig;
        sigdelset(&during, SIGINT);
        sigdelset(&during, SIGWINCH);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        result = ppoll(&p, 1, NULL, &during);
    }
    sigprocmask(SIG_SETMASK, &orig, NULL);
    return result;
}

/* libedit's character reader. Returns one UTF-8 decoded character, or -1 (end of input) on
 * end of file, error, or a Ctrl-C (the caller tells them apart by the interrupt flag). */
static int repl_getc(FILE *stream)
{
    unsigned char buf[4];
    int need = 0, got = 0;
    int fd = fileno(stream);
    for (;;) {
        ssize_t n = wait_for_input(fd) < 0 ? -1 : read(fd, buf + got, 1);
        if (n == 1) {
            if (got == 0) {
                if (buf[0] < 0x80)
                    return buf[0];
                need = buf[0] >= 0xF0 ? 4 : buf[0] >= 0xE0 ? 3 : buf[0] >= 0xC0 ? 2 : 1;
                if (need == 1)
                    return buf[0]; /* stray continuation byte: pass it through */
            }
            if (++got < need)
                continue;
            int cp = buf[0] & (0xFF >> (need + 1));
            for (int i = 1; i < need; i++)
                cp = (cp << 6) | (buf[i] & 0x3F);
            return cp;
        }
        if (n == 0)
            return -1;
        if (errno != EINTR)
            return -1;
        if (window_resized) {
            window_resized = 0;
            edit_api.rl_resize_terminal();
        }
        if (pl_interrupt_prompt_pending())
            return -1; /* read_line sees the flag and abandons the line */
    }
}

/* Reads a line and pushes it (READ_LINE only). The line belongs to a scoped owner from the
 * moment it exists, and the signal handlers are back to the caller's before any Lua call that
 * could raise. */
static read_status read_line(repl *r, lua_State *L, const char *prompt)
{
    char **line = pl_push_scoped_string(L);
    size_t len = 0;
    struct sigaction old_int, old_winch, sa;
    pl_interrupt_take_prompt();
    pl_interrupt_begin_prompt(&old_int);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigwinch;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGWINCH, &sa, &old_winch);

    read_status status;
    if (r->use_editline) {
        *line = edit_api.readline(prompt);
        if (pl_interrupt_take_prompt())
            status = READ_INTERRUPTED;
        else
            status = *line ? READ_LINE : READ_EOF;
        if (*line)
            len = strlen(*line);
    } else {
        fputs(prompt, stdout);
        fflush(stdout);
        size_t cap = 0;
        ssize_t n = getline(line, &cap, stdin);
        if (pl_interrupt_take_prompt()) {
            clearerr(stdin);
            status = READ_INTERRUPTED;
        } else if (n < 0) {
            status = READ_EOF;
        } else {
            len = (size_t)n;
            if (len > 0 && (*line)[len - 1] == '\n')
                (*line)[--len] = '\0';
            status = READ_LINE;
        }
    }
    sigaction(SIGWINCH, &old_winch, NULL);
    pl_interrupt_end_prompt(&old_int);
    if (status == READ_INTERRUPTED) {
        /* the terminal showed the half-typed line; move past it */
        fputc('\n', stdout);
        fflush(stdout);
    }
    if (status != READ_LINE) {
        lua_pop(L, 1); /* frees whatever was read */
        return status;
    }
    lua_pushlstring(L, *line, len);
    lua_closeslot(L, -2); /* frees the line; the closed slot may now be removed */
    lua_remove(L, -2);
    return status;
}

/* ---------------------------------------------------------------------------------------- */
/* Tab completion                                                                            */

/* libedit calls complete_entry from inside readline: no Lua error may escape from here, so
 * everything that can raise (allocation included) runs under lua_pcall.
 *
 * What to offer depends on where the cursor is (performlua.complete): inside
 * mc.EmailSendDefinition{ ... }, a string after c:perform(, ... So Lua gets the word being
 * completed, all the input before the cursor (the earlier lines of a statement that spans
 * several, kept under pending_key while they are read) and the rest of the line. */
static lua_State *completion_state;
static const char completion_key = 0; /* registry key: the current candidate list */
static const char pending_key = 0;    /* registry key: the lines of the statement so far */

static int compute_completions(lua_State *L)
{
    const char *text = lua_touserdata(L, 1);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "performlua.repl");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "complete");
    lua_pushstring(L, text);
    size_t point = *edit_api.rl_point > 0 ? (size_t)*edit_api.rl_point : 0;
    const char *line = *edit_api.rl_line_buffer ? *edit_api.rl_line_buffer : "";
    size_t len = strlen(line);
    if (point > len)
        point = len;
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &pending_key) == LUA_TSTRING) {
        lua_pushliteral(L, "\n");
        lua_pushlstring(L, line, point);
        lua_concat(L, 3);
    } else {
        lua_pop(L, 1);
        lua_pushlstring(L, line, point);
    }
    lua_pushstring(L, line + point);
    lua_call(L, 3, 1);
    if (!lua_istable(L, -1))
        return 0;
    lua_rawsetp(L, LUA_REGISTRYINDEX, &completion_key);
    return 0;
}

static char *complete_entry(const char *text, int state)
{
    lua_State *L = completion_state;
    if (L == NULL || !lua_checkstack(L, 4))
        return NULL;
    int top = lua_gettop(L);
    if (state == 0) {
        lua_pushnil(L);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &completion_key);
        lua_pushcfunction(L, compute_completions);
        lua_pushlightuserdata(L, (void *)text);
        if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
            lua_settop(L, top);
            return NULL;
        }
    }
    char *copy = NULL;
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &completion_key) == LUA_TTABLE &&
        lua_rawgeti(L, -1, (lua_Integer)state + 1) == LUA_TSTRING)
        copy = strdup(lua_tostring(L, -1));
    lua_settop(L, top);
    return copy;
}

/* The whole completion goes through here: with an attempted-completion function libedit
 * inserts what Lua offers as it is. Without one it treats every candidate as a file name,
 * escaping characters such as '?' and '{' with backslashes and closing quotes by itself. */
static char **attempt_completion(const char *text, int start, int end)
{
    (void)start;
    (void)end;
    *edit_api.rl_attempted_completion_over = 1; /* nothing found: nothing, never file names */
    return edit_api.rl_completion_matches(text, complete_entry);
}

/* ---------------------------------------------------------------------------------------- */
/* Evaluating                                                                                */

/* The syntax error on the top says the chunk just ended too early ("... near <eof>"). */
static int incomplete(lua_State *L, int status)
{
    if (status != LUA_ERRSYNTAX)
        return 0;
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    size_t marklen = sizeof EOFMARK - 1;
    if (len >= marklen && strcmp(msg + len - marklen, EOFMARK) == 0) {
        lua_pop(L, 1);
        return 1;
    }
    return 0;
}

/* Tries `return <line>` for the line on the top; on success replaces it with the function. */
static int try_as_expression(lua_State *L, repl *r)
{
    const char *line = lua_tostring(L, -1);
    const char *retline = lua_pushfstring(L, "return %s;", line);
    int status = luaL_loadbuffer(L, retline, strlen(retline), "=stdin");
    if (status == LUA_OK) {
        lua_remove(L, -2); /* the modified line */
        remember_line(r, line);
        lua_remove(L, -2); /* the line */
    } else {
        lua_pop(L, 2); /* the error and the modified line */
    }
    return status;
}

/* Compiles the input on the top as statements, reading continuation lines while it is
 * incomplete. Leaves the function (or the error) in place of the input. Returns the load
 * status, or -1 when the input was abandoned (Ctrl-C or end of file mid-statement). */
static int compile_statements(lua_State *L, repl *r)
{
    for (;;) {
        size_t len;
        const char *code = lua_tolstring(L, -1, &len);
        int status = luaL_loadbuffer(L, code, len, "=stdin");
        if (!incomplete(L, status)) {
            remember_line(r, code);
            lua_remove(L, -2);
            return status;
        }
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &pending_key);
        read_status more = read_line(r, L, PROMPT2);
        lua_pushnil(L);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &pending_key);
        if (more != READ_LINE) {
            if (more == READ_EOF) /* as lua.c: end of input inside a statement is an error */
                status = luaL_loadbuffer(L, code, len, "=stdin");
            else
                status = -1;
            if (status == -1)
                lua_pop(L, 1);
            else
                lua_remove(L, -2);
            return status;
        }
        lua_pushliteral(L, "\n");
        lua_insert(L, -2);
        lua_concat(L, 3);
    }
}

/* "?topic": help for a type, an enumeration, a function or a method (performlua.help), as
 * psql's \d and \? give. Replaces the line on the top with the function that prints it
 * (performlua.repl.help_chunk); returns the status of making it. */
static int help_chunk(lua_State *L)
{
    int status = pl_cli_push_field(L, "performlua.repl", "help_chunk");
    if (status != LUA_OK) {
        lua_remove(L, -2); /* the line */
        return status;
    }
    lua_insert(L, -2); /* below the line, its argument */
    return pl_cli_docall(L, 1, 1);
}

/* Reads one complete chunk: pushes a function (LUA_OK) or an error message (other status).
 * Returns -1 at end of input, -2 when the input was abandoned by Ctrl-C. */
static int read_chunk(lua_State *L, repl *r)
{
    lua_settop(L, 0);
    read_status first = read_line(r, L, PROMPT);
    if (first == READ_EOF)
        return -1;
    if (first == READ_INTERRUPTED)
        return -2;
    const char *line = lua_tostring(L, -1);
    if (line[strspn(line, " \t")] == '?') {
        remember_line(r, line);
        return help_chunk(L);
    }
    if (line[0] == '=') { /* "=expr", kept from Lua 5.1 */
        lua_pushfstring(L, "return %s", line + 1);
        lua_remove(L, -2);
    }
    if (try_as_expression(L, r) == LUA_OK)
        return LUA_OK;
    int status = compile_statements(L, r);
    return status == -1 ? -2 : status;
}

/* A line that failed (Ctrl-C included) may leave tasks of its mc.map/mc.parallel suspended in
 * the event loop; the next line to use the loop would carry on their work (start the rest of
 * the sends the user just stopped). performlua.loop.cancel_all ends them now. */
static void cancel_abandoned_tasks(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    if (lua_getfield(L, -1, "performlua.loop") == LUA_TTABLE &&
        lua_getfield(L, -1, "cancel_all") == LUA_TFUNCTION) {
        if (pl_cli_docall(L, 0, 0) != LUA_OK)
            pl_cli_report(L, LUA_ERRRUN);
    }
    lua_settop(L, 0);
}

/* Shows the n results on the stack through performlua.repl's formatter. */
static void show_results(lua_State *L)
{
    int n = lua_gettop(L);
    if (n == 0)
        return;
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    int status = pl_cli_push_field(L, "performlua.repl", "format_results");
    if (status == LUA_OK) {
        lua_insert(L, 1);
        status = pl_cli_docall(L, n, 1);
        if (status == LUA_OK) {
            size_t len;
            const char *text = lua_tolstring(L, -1, &len);
            if (text) {
                fwrite(text, 1, len, stdout);
                fputc('\n', stdout);
                fflush(stdout);
            }
            lua_pop(L, 1);
            return;
        }
    }
    /* the formatter is broken: say so, and show the results the plain Lua way */
    lua_pushfstring(L, "cannot show the result (%s)", lua_tostring(L, -1));
    lua_remove(L, -2);
    pl_cli_report(L, LUA_ERRRUN);
    lua_settop(L, 0);
}

/* `mc` is require "performlua" at the prompt, and `help` is mc.help, as in Python's REPL
 * (unless a script run with -i took either name). */
static void load_mc(lua_State *L)
{
    static const char setup[] = "if mc == nil then mc = require 'performlua' end\n"
                                "if help == nil and mc == require 'performlua' then\n"
                                "  help = mc.help\n"
                                "end\n";
    int status = luaL_loadbuffer(L, setup, sizeof setup - 1, "=performlua.repl");
    if (status == LUA_OK)
        status = pl_cli_docall(L, 0, 0);
    pl_cli_report(L, status);
}

void pl_repl_run(lua_State *L)
{
    repl r;
    memset(&r, 0, sizeof r);
    r.use_editline = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    pl_cli_set_report_prefix(0); /* as lua.c: no program name on errors in the REPL */
    load_mc(L);

    if (r.use_editline) {
        /* Without libedit the REPL still works, reading plain lines as from a pipe. */
        char why[sizeof edit_lib.error];
        if (!pl_dynlib_load(&edit_lib, why, sizeof why)) {
            fprintf(stderr, "performlua: warning: no line editing or history: %s\n", why);
            r.use_editline = 0;
        }
    }
    if (r.use_editline) {
        /* libedit turns the characters repl_getc decodes back into bytes with the locale's
         * encoding; in the C locale it would drop every non-ASCII one, so use UTF-8 then. */
        if (setlocale(LC_CTYPE, "") == NULL || MB_CUR_MAX == 1)
            setlocale(LC_CTYPE, "C.UTF-8");
        *edit_api.rl_readline_name = "performlua";
        *edit_api.rl_catch_signals = 0; /* ours: Ctrl-C abandons the line, resize in getc */
        *edit_api.rl_getc_function = repl_getc;
        /* "." and ":" stay inside the word, so mc.Em<Tab> completes the whole name */
        *edit_api.rl_basic_word_break_characters = " \t\n\"\\'><=;+-*/%^~#{}()[],&|";
        *edit_api.rl_completion_entry_function = complete_entry;
        *edit_api.rl_attempted_completion_function = attempt_completion;
        *edit_api.rl_completion_append_character = '\0';
        completion_state = L;
        edit_api.rl_initialize();
        edit_api.using_history();
        edit_api.stifle_history(HISTORY_LIMIT);
        errno = 0;
        if (find_history_path(&r) == 0) {
            edit_api.read_history(r.history_path); /* a missing file is an empty history */
        } else {
            /* silently losing every line typed is a surprise found too late: say it once */
            int why = errno;
            if (why)
                fprintf(stderr,
                        "performlua: warning: no REPL history this session: cannot create the "
                        "directory for %s (%s); set XDG_STATE_HOME to a writable directory\n",
                        r.history_path, strerror(why));
            else
                fprintf(stderr, "performlua: warning: no REPL history this session: neither "
                                "XDG_STATE_HOME nor HOME is set\n");
            r.history_path[0] = '\0';
        }
    }

    int status;
    while ((status = read_chunk(L, &r)) != -1) {
        if (status == -2)
            continue;
        if (status == LUA_OK)
            status = pl_cli_docall(L, 0, LUA_MULTRET);
        if (status == LUA_OK) {
            show_results(L);
        } else {
            pl_cli_report(L, status);
            cancel_abandoned_tasks(L);
        }
        if (pl_interrupt_last_signal() == SIGTERM)
            break; /* SIGTERM ends the session (exit 143), Ctrl-C only the line */
    }
    completion_state = NULL;
    lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &completion_key);
    lua_settop(L, 0);
    fputc('\n', stdout);
    fflush(stdout);
    pl_cli_set_report_prefix(1);
}
