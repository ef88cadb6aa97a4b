/* The performlua command line: the protected main, running chunks.
 *
 * Modelled on Lua's lua.c so Lua users feel at home: the same -e -l -i -v -E -W - -- options,
 * the same `arg` table (arg[0] the script, arg[1..] its arguments, negative indices for the
 * interpreter and its options), the same error reports ("performlua: msg" + traceback). On top
 * of that: --help, --version, --sandbox, --trace, --profile, the `sandbox` subcommand, and
 * module search beside the script and in PERFORMLUA_PATH. The flags themselves, and where a
 * new one goes, are in flags.c; their values reach Lua as package.loaded["performlua.cli"]. */
#include "cli/cli.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <lauxlib.h>
#include <lualib.h>

#include "bind/core.h"
#include "bind/errors.h"
#include "bind/lua_state.h"
#include "cli/flags.h"
#include "net/http.h"
#include "sandbox/server.h"
#include "util/allocator.h"
#include "util/libxml.h"

#define PROGNAME "performlua"
#define SANDBOX_HANDLE_KEY "performlua.cli.sandbox"
#define CLI_MODULE "performlua.cli" /* package.loaded[CLI_MODULE]: the flags' values */

enum {
    OPT_E = 1 << 0,       /* -e seen */
    OPT_I = 1 << 1,       /* -i */
    OPT_V = 1 << 2,       /* -v / --version */
    OPT_NOENV = 1 << 3,   /* -E */
    OPT_WARN = 1 << 4,    /* -W */
    OPT_SANDBOX = 1 << 5, /* --sandbox */
};

typedef struct cli_options {
    int argc;
    char **argv;
    unsigned flags;
    int script;         /* argv index of the script ("-" for stdin); 0 when there is none */
    pl_flag_parse main; /* performlua's own flags (-e and -l among them, in order) */
    const pl_command *command; /* the subcommand, or NULL */
    int subcommand;            /* argv index of its name; 0 when there is none */
    pl_flag_parse sub;         /* its flags */
    int exit_status;           /* set by pmain when it finishes without error */
} cli_options;

/* ---------------------------------------------------------------------------------------- */
/* Reporting                                                                                 */

static int report_prefix = 1;

void pl_cli_set_report_prefix(int on)
{
    report_prefix = on;
}

static void print_message(const char *msg)
{
    if (report_prefix)
        fprintf(stderr, "%s: ", PROGNAME);
    fprintf(stderr, "%s\n", msg);
    fflush(stderr);
}

int pl_cli_report(lua_State *L, int status)
{
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        print_message(msg ? msg : "(error object is not a string)");
        lua_pop(L, 1);
    }
    return status;
}

/* What people see of an error (see pl_cli_set_debug): a usage error (kind "usage": a wrong
 * argument, setting or config file) is its one line, which names the line to fix; any other
 * error gets a traceback through the user's code only, since frames inside performlua's own
 * modules mean nothing to its users and would make its internals look like the culprit.
 * --debug or PERFORMLUA_DEBUG=1 shows every frame of every error. */
static int debug_tracebacks;
static int last_error_usage; /* the last error a docall caught was a usage error */

void pl_cli_set_debug(int on)
{
    debug_tracebacks = on;
}

int pl_cli_last_error_usage(void)
{
    return last_error_usage;
}

void pl_cli_note_usage_error(void)
{
    last_error_usage = 1;
}

/* Whether a traceback line ("\t<source>:<line>: in ...") is a frame of performlua's own Lua:
 * its embedded modules are named "lua/performlua/...", or read from PERFORMLUA_LUA_DIR. */
static int is_own_frame(const char *line, size_t len)
{
    static const char embedded[] = "\tlua/performlua/";
    if (len >= sizeof embedded - 1 && memcmp(line, embedded, sizeof embedded - 1) == 0)
        return 1;
    const char *dev_dir = getenv("PERFORMLUA_LUA_DIR");
    size_t dev_len = dev_dir ? strlen(dev_dir) : 0;
    return dev_len > 0 && len > dev_len + 12 && memcmp(line + 1, dev_dir, dev_len) == 0 &&
           memcmp(line + 1 + dev_len, "/performlua/", 12) == 0;
}

/* Pushes `traceback` (as luaL_traceback made it) without performlua's own frames, nor the C
 * functions they called (error, pcall, ...): what is left starts at the user's code. When
 * nothing is left but anonymous C frames ("[C]: in ?": an error of performlua's own start-up,
 * before any user code ran, such as a sandbox that cannot start), the message goes alone. */
static void push_user_traceback(lua_State *L, const char *traceback)
{
    static const char header[] = "\nstack traceback:";
    const char *frames = strstr(traceback, header);
    if (frames == NULL) {
        lua_pushstring(L, traceback);
        return;
    }
    frames += sizeof header - 1;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addlstring(&b, traceback, (size_t)(frames - traceback));
    const char *line = frames;
    int user_frames = 0;
    while (*line == '\n') {
        const char *start = line + 1;
        const char *end = strchr(start, '\n');
        size_t len = end ? (size_t)(end - start) : strlen(start);
        const char *next = start + len;
        int drop = is_own_frame(start, len);
        if (!drop && len >= 5 && memcmp(start, "\t[C]:", 5) == 0 && *next == '\n')
            drop = is_own_frame(next + 1, strcspn(next + 1, "\n"));
        if (!drop) {
            luaL_addchar(&b, '\n');
            luaL_addlstring(&b, start, len);
            static const char anonymous_c[] = "\t[C]: in ?";
            if (len != sizeof anonymous_c - 1 || memcmp(start, anonymous_c, len) != 0)
                user_frames++;
        }
        line = next;
    }
    luaL_pushresult(&b);
    if (user_frames == 0) {
        lua_pushlstring(L, traceback, (size_t)(frames - traceback - (sizeof header - 1)));
        lua_remove(L, -2);
    }
}

/* Message handler for every chunk: turns the error into text and, unless it is a usage error,
 * appends a traceback. Error tables (performlua's, or any with __tostring) are shown through
 * their __tostring; unlike lua.c we keep the traceback for them too, since they are the errors
 * users meet most. */
static int msghandler(lua_State *L)
{
    int usage = pl_error_is_kind(L, 1, "usage");
    if (usage)
        last_error_usage = 1;
    /* an interruption, or a journal that cannot prove what an earlier run did, is no bug of
     * the script: its message says what may have happened and what to do */
    int quiet =
        usage || pl_error_is_kind(L, 1, "interrupted") || pl_error_is_kind(L, 1, "journal");
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            msg = lua_tostring(L, -1);
        else
            msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    if (quiet && !debug_tracebacks) {
        /* such a message says it all; its rendering would repeat the ids */
        if (!usage && lua_getfield(L, 1, "message") == LUA_TSTRING)
            return 1;
        lua_pushstring(L, msg);
        return 1;
    }
    luaL_traceback(L, L, msg, 1);
    if (!debug_tracebacks)
        push_user_traceback(L, lua_tostring(L, -1));
    return 1;
}

int pl_cli_push_field(lua_State *L, const char *module, const char *field)
{
    lua_getglobal(L, "require");
    lua_pushstring(L, module);
    int status = pl_cli_docall(L, 1, 1);
    if (status == LUA_OK) {
        lua_getfield(L, -1, field);
        lua_remove(L, -2);
    }
    return status;
}

int pl_cli_docall(lua_State *L, int narg, int nres)
{
    last_error_usage = 0;
    int base = lua_gettop(L) - narg;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    struct sigaction old;
    pl_interrupt_begin_lua(&old);
    int status = lua_pcall(L, narg, nres, base);
    pl_interrupt_end_lua(&old);
    lua_remove(L, base);
    return status;
}

/* ---------------------------------------------------------------------------------------- */
/* Versions, usage                                                                           */

void pl_cli_print_versions(void)
{
    /* libcurl, libxml2, libmicrohttpd and SQLite are loaded on first use: asking their
     * versions loads them. */
    char curl[512], mhd[512], sqlite[512], xml[512], heap[512];
    pl_http_library_version(curl, sizeof curl, true);
    pl_sandbox_library_version(mhd, sizeof mhd);
    pl_sqlite_library_version(sqlite, sizeof sqlite);
    pl_libxml_version(xml, sizeof xml);
    pl_allocator_describe(heap, sizeof heap);
    printf("performlua %s\n", PERFORMLUA_VERSION);
    printf("%s\n", LUA_COPYRIGHT);
    printf("libcurl %s\n", curl);
    printf("libxml2 %s\n", xml);
    printf("libmicrohttpd %s\n", mhd);
    printf("jansson %s\n", JANSSON_VERSION);
    printf("SQLite %s\n", sqlite);
    printf("%s\n", heap);
    fflush(stdout);
}

void pl_cli_print_banner(void)
{
    char curl[512], xml[512];
    pl_http_library_version(curl, sizeof curl, false);
    pl_libxml_version(xml, sizeof xml);
    printf("performlua %s (%s, libcurl %s, libxml2 %s)\n", PERFORMLUA_VERSION, LUA_RELEASE,
           curl, xml);
    printf("`mc` is require \"performlua\": try mc.types() or mc.EmailSendDefinition{}; "
           "start with --sandbox for a local test account; Ctrl-D exits.\n");
    fflush(stdout);
}

/* ---------------------------------------------------------------------------------------- */
/* Flags                                                                                     */

/* Reads the command line (flags.c). Returns -1 to go on, or an exit status (after printing
 * help or a usage error). */
static int parse_flags(cli_options *o)
{
    int status = pl_flags_parse(&pl_cli_performlua, o->argc, o->argv, 1, &o->main);
    if (status >= 0)
        return status;
    o->script = o->main.script;
    o->command = o->main.subcommand;
    o->subcommand = o->main.subcommand_at;
    if (o->command) {
        status = pl_flags_parse(o->command, o->argc, o->argv, o->subcommand + 1, &o->sub);
        if (status >= 0)
            return status;
    }
    static const struct {
        const char *key;
        unsigned bit;
    } bits[] = {{"interactive", OPT_I},
                {"version", OPT_V},
                {"ignore_env", OPT_NOENV},
                {"warnings", OPT_WARN},
                {"sandbox", OPT_SANDBOX}};
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++)
        if (pl_flags_given(&o->main, bits[i].key))
            o->flags |= bits[i].bit;
    /* --state names the embedded sandbox's file: alone it would silently do nothing */
    if (pl_flags_given(&o->main, "state") && !(o->flags & OPT_SANDBOX))
        return pl_flags_usage_error(&pl_cli_performlua,
                                    "--state FILE keeps the embedded sandbox's account: give "
                                    "--sandbox too (or run `performlua sandbox --state FILE`)");
    for (int i = 0; i < o->main.n_uses; i++)
        if (o->main.uses[i].flag->kind == PL_FLAG_CHUNK &&
            o->main.uses[i].flag->names[1] == 'e')
            o->flags |= OPT_E;
    return -1;
}

/* Pushes the values of the flags given as one plain table (flags.h): switches true, texts as
 * given (the last one wins), lists in order (always a table), numbers as Lua reads them. */
static void push_flag_values(lua_State *L, const pl_command *cmd, const pl_flag_parse *p)
{
    lua_newtable(L);
    for (const pl_flag *f = cmd->flags; f->names; f++) {
        if (f->kind == PL_FLAG_LIST && f->key) {
            lua_newtable(L);
            lua_setfield(L, -2, f->key);
        }
    }
    for (int i = 0; i < p->n_uses; i++) {
        const pl_flag_use *u = &p->uses[i];
        if (!u->flag->key)
            continue;
        switch (u->flag->kind) {
        case PL_FLAG_SWITCH:
            lua_pushboolean(L, 1);
            break;
        case PL_FLAG_LIST:
            lua_getfield(L, -1, u->flag->key);
            lua_pushstring(L, u->value);
            lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
            lua_pop(L, 1);
            continue;
        case PL_FLAG_INTEGER:
            lua_pushinteger(L, (lua_Integer)u->number);
            break;
        case PL_FLAG_NUMBER:
            if (lua_stringtonumber(L, u->value) == 0)
                lua_pushnumber(L, (lua_Number)u->number);
            break;
        default:
            lua_pushstring(L, u->value);
            break;
        }
        lua_setfield(L, -2, u->flag->key);
    }
}

/* package.loaded["performlua.cli"] = the values of performlua's flags, plus `command` (the
 * subcommand's name) when one runs. */
static void publish_flags(lua_State *L, cli_options *o)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    push_flag_values(L, &pl_cli_performlua, &o->main);
    if (o->command) {
        lua_pushstring(L, o->command->name);
        lua_setfield(L, -2, "command");
    }
    lua_setfield(L, -2, CLI_MODULE);
    lua_pop(L, 1);
}

/* ---------------------------------------------------------------------------------------- */
/* Running things                                                                            */

static int dochunk(lua_State *L, int status)
{
    if (status == LUA_OK)
        status = pl_cli_docall(L, 0, 0);
    return pl_cli_report(L, status);
}

/* Scripts, stdin and LUA_INIT files load as source only: Lua does not verify precompiled
 * chunks, and a corrupt or hostile one crashes the process instead of raising an error. */
static int load_source_file(lua_State *L, const char *fname)
{
    int status = luaL_loadfilex(L, fname, "t");
    if (status == LUA_ERRSYNTAX && lua_type(L, -1) == LUA_TSTRING &&
        strstr(lua_tostring(L, -1), "attempt to load a binary chunk") != NULL) {
        lua_pop(L, 1);
        lua_pushfstring(L, "%s is a precompiled Lua chunk; performlua runs Lua source only "
                        "(run the .lua file it was compiled from)",
                        fname ? fname : "stdin");
    }
    return status;
}

static int dostring(lua_State *L, const char *s, const char *chunkname)
{
    return dochunk(L, luaL_loadbuffer(L, s, strlen(s), chunkname));
}

/* -l MOD, -l G=MOD: global G (default MOD, cut at a '-' as lua.c does) = require(MOD) */
static int dolibrary(lua_State *L, const char *spec)
{
    const char *eq = strchr(spec, '=');
    const char *modname;
    if (eq) {
        lua_pushlstring(L, spec, (size_t)(eq - spec));
        modname = eq + 1;
    } else {
        const char *mark = strchr(spec, '-'); /* LUA_IGMARK */
        lua_pushlstring(L, spec, mark ? (size_t)(mark - spec) : strlen(spec));
        modname = spec;
    }
    lua_getglobal(L, "require");
    lua_pushstring(L, modname);
    int status = pl_cli_docall(L, 1, 1);
    if (status == LUA_OK)
        lua_setglobal(L, lua_tostring(L, -2));
    else
        lua_remove(L, -2);
    if (status == LUA_OK)
        lua_pop(L, 1);
    return pl_cli_report(L, status);
}

static void create_arg_table(lua_State *L, cli_options *o)
{
    int script = o->script ? o->script : (o->subcommand ? o->subcommand : 0);
    int argc = o->argc;
    lua_createtable(L, argc > script ? argc - script - 1 : 0, script + 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, o->argv[i]);
        lua_rawseti(L, -2, i - script);
    }
    lua_setglobal(L, "arg");
}

/* Pushes arg[1..#arg] for the script's `...`; returns how many. */
static int push_script_args(lua_State *L)
{
    if (lua_getglobal(L, "arg") != LUA_TTABLE)
        luaL_error(L, "'arg' is not a table");
    int n = (int)luaL_len(L, -1);
    luaL_checkstack(L, n + 3, "too many arguments to script");
    for (int i = 1; i <= n; i++)
        lua_rawgeti(L, -i, i);
    lua_remove(L, -n - 1);
    return n;
}

static int handle_script(lua_State *L, cli_options *o)
{
    const char *fname = o->argv[o->script];
    /* "-" is stdin, unless it came after "--" (then it is a file named "-") */
    if (strcmp(fname, "-") == 0 && strcmp(o->argv[o->script - 1], "--") != 0)
        fname = NULL;
    int status = load_source_file(L, fname);
    if (status == LUA_OK) {
        int n = push_script_args(L);
        status = pl_cli_docall(L, n, 0);
    } else if (status == LUA_ERRFILE) {
        pl_cli_note_usage_error(); /* a script that is not there: the command line is wrong */
    }
    return pl_cli_report(L, status);
}

/* LUA_INIT_5_4 or LUA_INIT: code or @file to run first, as lua.c does. */
static int handle_luainit(lua_State *L)
{
    const char *name = "=LUA_INIT_5_4";
    const char *init = getenv(name + 1);
    if (init == NULL) {
        name = "=LUA_INIT";
        init = getenv(name + 1);
    }
    if (init == NULL)
        return LUA_OK;
    if (init[0] == '@')
        return dochunk(L, load_source_file(L, init + 1));
    return dostring(L, init, name);
}

/* A directory usable in a package.path template: not empty, no ';' or '?' (which the
 * template syntax has no escape for). */
static int usable_search_dir(const char *dir, size_t len)
{
    return len > 0 && memchr(dir, ';', len) == NULL && memchr(dir, '?', len) == NULL;
}

static void push_search_entries(luaL_Buffer *b, const char *dir, size_t len)
{
    while (len > 1 && dir[len - 1] == '/')
        len--;
    if (!usable_search_dir(dir, len))
        return;
    for (int k = 0; k < 2; k++) {
        luaL_addlstring(b, dir, len);
        luaL_addstring(b, k == 0 ? "/?.lua;" : "/?/init.lua;");
    }
}

/* package.path = <script dir>;<each PERFORMLUA_PATH dir>;<Lua's default path>, so a script
 * finds the modules that sit beside it first, then the team's shared modules, then the
 * system's (busted, ...). The runtime's own modules are found before all of these by the
 * embedded searcher. */
static void setup_module_path(lua_State *L, cli_options *o)
{
    luaL_Buffer b;
    lua_getglobal(L, "package");
    luaL_buffinit(L, &b);
    if (o->script) {
        const char *script = o->argv[o->script];
        int is_stdin = strcmp(script, "-") == 0 && strcmp(o->argv[o->script - 1], "--") != 0;
        if (!is_stdin) {
            const char *slash = strrchr(script, '/');
            if (slash == NULL)
                push_search_entries(&b, ".", 1);
            else
                push_search_entries(&b, script, slash == script ? 1 : (size_t)(slash - script));
        }
    }
    const char *extra = (o->flags & OPT_NOENV) ? NULL : getenv("PERFORMLUA_PATH");
    while (extra && *extra) {
        const char *colon = strchr(extra, ':');
        size_t len = colon ? (size_t)(colon - extra) : strlen(extra);
        push_search_entries(&b, extra, len);
        extra = colon ? colon + 1 : NULL;
    }
    lua_getfield(L, -2, "path");
    luaL_addvalue(&b);
    luaL_pushresult(&b);
    lua_setfield(L, -2, "path");
    lua_pop(L, 1);
}

/* --log-json FILE or PERFORMLUA_LOG_JSON: the run log (performlua.runlog) opens before anything
 * runs, so a log that cannot be written stops the run before it does anything. */
static int start_run_log(lua_State *L, cli_options *o)
{
    const char *env = (o->flags & OPT_NOENV) ? NULL : getenv("PERFORMLUA_LOG_JSON");
    if (!pl_flags_given(&o->main, "log_json") && !(env && *env))
        return LUA_OK; /* not loaded at all: a run without a log pays nothing */
    int status = pl_cli_push_field(L, "performlua.runlog", "start");
    if (status == LUA_OK)
        status = pl_cli_docall(L, 0, 0);
    return pl_cli_report(L, status);
}

/* module.finish(exit_status), when the module was loaded. */
static void call_finish(lua_State *L, const char *module, int exit_status)
{
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    if (lua_getfield(L, -1, module) == LUA_TTABLE &&
        lua_getfield(L, -1, "finish") == LUA_TFUNCTION) {
        lua_pushinteger(L, exit_status);
        /* its failure must not change the status */
        if (lua_pcall(L, 1, 0, 0) != LUA_OK)
            lua_pop(L, 1);
    }
    lua_settop(L, 0);
}

/* The run log's last line, with the exit status (when a log was opened), and the run
 * journal's run marked finished (exit status 0) or not (when a step was journalled). */
static void finish_run_log(lua_State *L, int exit_status)
{
    call_finish(L, "performlua.journal", exit_status);
    call_finish(L, "performlua.runlog", exit_status);
}

/* --sandbox: start the embedded sandbox as the default account; the handle is kept in the
 * registry so it lives until lua_close, which stops it through its finalizer. --state FILE
 * (the last one given) is its state file. */
static int start_sandbox(lua_State *L)
{
    const cli_options *o = lua_touserdata(L, lua_upvalueindex(1));
    const char *state = NULL;
    for (int i = 0; i < o->main.n_uses; i++)
        if (o->main.uses[i].flag->key && strcmp(o->main.uses[i].flag->key, "state") == 0)
            state = o->main.uses[i].value;
    lua_getglobal(L, "require");
    lua_pushliteral(L, "performlua.sandbox");
    lua_call(L, 1, 1);
    if (lua_getfield(L, -1, "start_default") != LUA_TFUNCTION)
        return luaL_error(L, "performlua.sandbox has no start_default function");
    lua_newtable(L);
    if (state) {
        lua_pushstring(L, state);
        lua_setfield(L, -2, "state");
    }
    lua_call(L, 1, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, SANDBOX_HANDLE_KEY);
    return 0;
}

/* performlua SUBCOMMAND [flags]: require(module).main(opts) -> the exit status, or nil and a
 * message for a usage error (shown with the subcommand's help). */
static int run_subcommand(lua_State *L)
{
    cli_options *o = lua_touserdata(L, lua_upvalueindex(1));
    lua_getglobal(L, "require");
    lua_pushstring(L, o->command->module);
    lua_call(L, 1, 1);
    if (lua_getfield(L, -1, "main") != LUA_TFUNCTION)
        return luaL_error(L, "%s has no main function", o->command->module);
    push_flag_values(L, o->command, &o->sub);
    lua_call(L, 1, 2);
    return 2;
}

/* Exit status from a returned value, like os.exit: integer as is, true/nil success, false
 * failure. */
static int exit_status_of(lua_State *L, int idx)
{
    int isnum;
    lua_Integer code = lua_tointegerx(L, idx, &isnum);
    if (isnum)
        return (int)code;
    if (lua_isnoneornil(L, idx) || lua_toboolean(L, idx))
        return EXIT_SUCCESS;
    return EXIT_FAILURE;
}

/* With --sandbox, the REPL says where the sandbox listens and that mc.connect() reaches it. */
static void print_sandbox_hint(lua_State *L)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, SANDBOX_HANDLE_KEY) == LUA_TTABLE &&
        lua_getfield(L, -1, "soap_url") == LUA_TSTRING)
        printf("Sandbox running at %s: mc.connect() with no arguments uses it.\n",
               lua_tostring(L, -1));
    lua_settop(L, 0);
    fflush(stdout);
}

static void start_repl(lua_State *L)
{
    pl_cli_print_banner();
    print_sandbox_hint(L);
    pl_repl_run(L);
    if (pl_interrupt_last_signal() != SIGTERM)
        pl_interrupt_forget(); /* Ctrl-C stopped a line, not the session */
}

static int stdin_is_tty(void)
{
    return isatty(STDIN_FILENO);
}

/* Everything that touches Lua runs here, under one protected call. Returns true when all
 * went well (o->exit_status then holds the status). */
static int pmain(lua_State *L)
{
    cli_options *o = lua_touserdata(L, 1);
    luaL_checkversion(L);
    if (o->flags & OPT_NOENV) { /* tells the package library to ignore LUA_PATH/LUA_CPATH */
        lua_pushboolean(L, 1);
        lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
    }
    luaL_openlibs(L);
    pl_interrupt_track_coroutines(L);
    pl_interrupt_open(L);
    pl_core_install(L);
    publish_flags(L, o);
    if (o->flags & OPT_WARN)
        lua_warning(L, "@on", 0);
    create_arg_table(L, o);
    setup_module_path(L, o);
    if (start_run_log(L, o) != LUA_OK)
        return 0;
    if (o->flags & OPT_V)
        pl_cli_print_versions();
    if (!(o->flags & OPT_NOENV) && handle_luainit(L) != LUA_OK)
        return 0;
    if (o->flags & OPT_SANDBOX) {
        lua_pushlightuserdata(L, o);
        lua_pushcclosure(L, start_sandbox, 1);
        if (pl_cli_report(L, pl_cli_docall(L, 0, 0)) != LUA_OK)
            return 0;
    }
    for (int i = 0; i < o->main.n_uses; i++) { /* -e and -l, in command-line order */
        const pl_flag_use *u = &o->main.uses[i];
        if (u->flag->kind != PL_FLAG_CHUNK)
            continue;
        int status = u->flag->names[1] == 'e' ? dostring(L, u->value, "=(command line)")
                                              : dolibrary(L, u->value);
        if (status != LUA_OK)
            return 0;
    }
    if (o->command) {
        lua_pushlightuserdata(L, o);
        lua_pushcclosure(L, run_subcommand, 1);
        if (pl_cli_report(L, pl_cli_docall(L, 0, 2)) != LUA_OK)
            return 0;
        if (lua_isnil(L, -2) && lua_type(L, -1) == LUA_TSTRING)
            o->exit_status = pl_flags_usage_error(o->command, lua_tostring(L, -1));
        else
            o->exit_status = exit_status_of(L, -2);
        lua_pop(L, 2);
        lua_pushboolean(L, 1);
        return 1;
    }
    if (o->script && handle_script(L, o) != LUA_OK)
        return 0;
    if (o->flags & OPT_I) {
        start_repl(L);
    } else if (!o->script && !(o->flags & (OPT_E | OPT_V))) {
        if (stdin_is_tty()) {
            start_repl(L);
        } else if (dochunk(L, load_source_file(L, NULL)) != LUA_OK) {
            return 0;
        }
    }
    o->exit_status = EXIT_SUCCESS;
    lua_pushboolean(L, 1);
    return 1;
}

int pl_cli_main(int argc, char **argv)
{
    cli_options o;
    memset(&o, 0, sizeof o);
    o.argc = argc;
    o.argv = argv;
    o.exit_status = EXIT_FAILURE;
    /* each flag uses at most one word: argc entries are enough for any command line */
    pl_flag_use *uses = calloc(2 * (size_t)(argc > 0 ? argc : 1), sizeof *uses);
    if (uses == NULL) {
        fprintf(stderr, "%s: not enough memory\n", PROGNAME);
        return EXIT_FAILURE;
    }
    o.main.uses = uses;
    o.sub.uses = uses + (argc > 0 ? argc : 1);
    int early = parse_flags(&o);
    if (early >= 0) {
        free(uses);
        return early;
    }
    const char *debug = getenv("PERFORMLUA_DEBUG");
    pl_cli_set_debug(pl_flags_given(&o.main, "debug") ||
                     (debug && *debug && strcmp(debug, "0") != 0));
    lua_State *L = pl_lua_state_new();
    if (L == NULL) {
        free(uses);
        fprintf(stderr, "%s: cannot create state: not enough memory\n", PROGNAME);
        return EXIT_FAILURE;
    }
    pl_interrupt_set_state(L);
    lua_pushcfunction(L, pmain);
    lua_pushlightuserdata(L, &o);
    int status = lua_pcall(L, 1, 1, 0);
    int ok = status == LUA_OK && lua_toboolean(L, -1);
    pl_cli_report(L, status);
    int exit_status = ok                          ? o.exit_status
                      : pl_cli_last_error_usage() ? PL_EXIT_USAGE
                                                  : PL_EXIT_FAILED;
    int sig = pl_interrupt_last_signal();
    if (sig) {
        /* 130 for SIGINT, 143 for SIGTERM, as a shell reports a process the signal ended;
         * also when the script caught the interruption and ended on its own */
        if (ok)
            fprintf(stderr, "%s: %s arrived and the script stopped early: what it was doing "
                            "may be half done\n",
                    PROGNAME, pl_interrupt_signal_name(sig));
        exit_status = 128 + sig;
    }
    finish_run_log(L, exit_status);
    pl_interrupt_set_state(NULL);
    /* Closing the state runs every finalizer: the sandbox stops, HTTP handles are freed. */
    lua_close(L);
    free(uses);
    return exit_status;
}
