/* Every command-line flag of performlua (see flags.h), the parser and the help text.
 *
 * WHERE A NEW FLAG GOES: one line in the table of its command below, with a `key`; then use
 * the value where it matters, in Lua: package.loaded["performlua.cli"][key] for performlua's
 * own flags (read it before the environment variable that means the same, as trace.lua does),
 * opts[key] in the subcommand's main(opts) for a subcommand's. --help shows the new line by
 * itself. A flag C itself needs (as -i or -E) is read with pl_flags_given in cli.c.
 * A NEW SUBCOMMAND: a flag table, a pl_command naming the Lua module whose main(opts) runs it
 * (returning the exit status, or nil and a message for a usage error), and a line in
 * `subcommands`. */
#include "cli/flags.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define PROGNAME "performlua"
#define HELP_WIDTH 92 /* where the usage line of a subcommand wraps */

/* ---------------------------------------------------------------------------------------- */
/* performlua [options] [script [args]]                                                      */

/* clang-format off */
static const pl_flag performlua_flags[] = {
    {.names = "-e", .value = "CODE", .kind = PL_FLAG_CHUNK, .needs = "argument",
     .help = "execute the Lua string CODE"},
    {.names = "-l", .value = "MOD", .kind = PL_FLAG_CHUNK, .needs = "argument",
     .help = "require library MOD into global MOD"},
    {.names = "-l", .value = "G=MOD", .kind = PL_FLAG_NOTE,
     .help = "require library MOD into global G"},
    {.names = "-i", .kind = PL_FLAG_SWITCH, .key = "interactive",
     .help = "enter interactive mode after running the script"},
    {.names = "-v, --version", .kind = PL_FLAG_SWITCH, .key = "version",
     .help = "show the versions of performlua, Lua and the C libraries"},
    {.names = "-E", .kind = PL_FLAG_SWITCH, .key = "ignore_env",
     .help = "ignore environment variables (LUA_INIT, LUA_PATH, LUA_CPATH,\nPERFORMLUA_PATH)"},
    {.names = "-W", .kind = PL_FLAG_SWITCH, .key = "warnings", .help = "turn Lua warnings on"},
    {.names = "--sandbox", .kind = PL_FLAG_SWITCH, .key = "sandbox",
     .help = "start the embedded sandbox and make it the default account\nbefore running the "
             "script or the REPL"},
    {.names = "--state", .value = "FILE", .kind = PL_FLAG_TEXT, .key = "state",
     .needs = "a file name",
     .help = "with --sandbox: keep the sandbox's account, its work in flight and its\n"
             "clock in the SQLite database FILE across runs (as `performlua sandbox\n"
             "--state FILE`)"},
    {.names = "--trace", .kind = PL_FLAG_SWITCH, .key = "trace",
     .help = "trace API requests and responses to stderr, secrets redacted\n(as "
             "PERFORMLUA_TRACE=1)"},
    {.names = "--profile", .value = "NAME", .kind = PL_FLAG_TEXT, .key = "profile",
     .needs = "a profile name", .help = "use the account profile NAME (over PERFORMLUA_PROFILE)"},
    {.names = "--log-json", .value = "FILE", .kind = PL_FLAG_TEXT, .key = "log_json",
     .needs = "a file name",
     .help = "append one JSON line per API call, wait progress and step to FILE\n(as "
             "PERFORMLUA_LOG_JSON=FILE; \"-\" is stderr)"},
    {.names = "--journal", .value = "FILE", .kind = PL_FLAG_TEXT, .key = "journal",
     .needs = "a file name",
     .help = "keep the run journal (mc.step) in FILE (default:\n"
             "$XDG_STATE_HOME/performlua/journal.sqlite3)"},
    {.names = "--new-run", .kind = PL_FLAG_SWITCH, .key = "new_run",
     .help = "start the script's run over: do not continue an unfinished run\nof the same "
             "command from its journal"},
    {.names = "--debug", .kind = PL_FLAG_SWITCH, .key = "debug",
     .help = "show full tracebacks, performlua's own frames included, for every\nerror, usage "
             "errors too (as PERFORMLUA_DEBUG=1)"},
    {.names = "-h, --help", .kind = PL_FLAG_HELP, .help = "show this help and exit"},
    {.names = "--", .kind = PL_FLAG_END, .help = "stop handling options"},
    {.names = "-", .kind = PL_FLAG_STDIN,
     .help = "run stdin as the script and stop handling options"},
    {0},
};
/* clang-format on */

/* ---------------------------------------------------------------------------------------- */
/* performlua sandbox [options]: lua/performlua/sandbox/cli.lua                              */

/* clang-format off */
static const pl_flag sandbox_flags[] = {
    {.names = "--port", .value = "N", .kind = PL_FLAG_INTEGER, .key = "port", .min = 0,
     .max = 65535, .help = "TCP port (default 0: a free port, printed at start)"},
    {.names = "--host", .value = "ADDRESS", .kind = PL_FLAG_TEXT, .key = "host",
     .help = "address to listen on (default 127.0.0.1, loopback only); any other\naddress "
             "prints a warning: the credentials are fixed and public"},
    {.names = "--wsdl", .value = "FILE", .kind = PL_FLAG_TEXT, .key = "wsdl",
     .help = "check every request against this WSDL's schema as the service reads it:\n"
             "a bad enumeration value, number, date or xsi:type gets HTTP 500 with the\n"
             "service's soap:Client fault; an element the service would skip (unknown, a\n"
             "repeated single field) is skipped too and named in an X-Sandbox-Dropped\n"
             "header and the --log line; a missing Options or another order is fine"},
    {.names = "--seed", .value = "FILE.lua|DIR", .kind = PL_FLAG_TEXT, .key = "seed",
     .help = "a Lua file returning the account's objects (default: the built-in seed),\n"
             "or a directory of CSV files, one data extension each (KEY.csv; a header\n"
             "row, \"*\" after a primary key column's name), added to the built-in seed"},
    {.names = "--state", .value = "FILE", .kind = PL_FLAG_TEXT, .key = "state",
     .help = "keep the account in the SQLite database FILE across restarts (made and\n"
             "seeded when missing; the seed is not read again); without it the account\n"
             "is in memory and seeded at every start"},
    {.names = "--latency", .value = "MS", .kind = PL_FLAG_NUMBER, .key = "latency", .min = 0,
     .max = -1,
     .help = "delay every answer by MS milliseconds (concurrent requests stay concurrent)"},
    {.names = "--token-ttl", .value = "S", .kind = PL_FLAG_INTEGER, .key = "token_ttl", .min = 1,
     .max = 0, .help = "token lifetime in seconds (default 1080)"},
    {.names = "--speed", .value = "X", .kind = PL_FLAG_NUMBER, .key = "speed", .min = 0,
     .max = -1, .above_min = true,
     .help = "sandbox clock speed (default 1: a send completes in about a second)"},
    {.names = "--fault", .value = "KIND:N", .kind = PL_FLAG_LIST, .key = "faults",
     .help = "every Nth SOAP request (counted from 1) gets the fault KIND; KIND:OP:N\n"
             "every Nth request of the operation OP (its SOAPAction: Perform,\n"
             "Retrieve, ...); repeatable:\n"
             "  throttle      HTTP 500 \"Rate Limited\" fault (code 17), not processed\n"
             "  http503       HTTP 503 with an HTML page, not processed\n"
             "  reset-before  connection closed, request not processed\n"
             "  reset-after   request processed, connection closed without an answer\n"
             "  truncate      request processed, half of the answer sent\n"
             "  expire-token  \"Token Expired\" fault, the current tokens invalidated"},
    {.names = "--log", .kind = PL_FLAG_SWITCH, .key = "log",
     .help = "print one line per request on stderr: time, operation, object types,\nHTTP "
             "status, milliseconds, injected fault, what --wsdl dropped"},
    {.names = "--max-body", .value = "BYTES", .kind = PL_FLAG_INTEGER, .key = "max_body",
     .min = 1, .max = 0,
     .help = "larger request bodies get HTTP 413 with a fault, refused from their\n"
             "Content-Length before they are read (default 67108864, 64 MB)"},
    {.names = "--body-budget", .value = "BYTES", .kind = PL_FLAG_INTEGER, .key = "body_budget",
     .min = 1, .max = 0,
     .help = "request bodies held at once over every connection; one that does not\n"
             "fit gets HTTP 503, Retry-After and a fault (default 268435456, 256 MB)"},
    {.names = "--max-connections", .value = "N", .kind = PL_FLAG_INTEGER,
     .key = "max_connections", .min = 1, .max = 1000000,
     .help = "connections served at once, one thread each; more get HTTP 503,\n"
             "Retry-After and a fault, and past N + N/4 + 8 are closed (default 1024)"},
    {.names = "--max-per-ip", .value = "N", .kind = PL_FLAG_INTEGER,
     .key = "max_connections_per_ip", .min = 1, .max = 1000000,
     .help = "connections at once from one address; more get HTTP 429, Retry-After\n"
             "and a fault, and past N + N/4 + 8 are closed (default 256)"},
    {.names = "--idle-timeout", .value = "S", .kind = PL_FLAG_INTEGER, .key = "idle_timeout",
     .min = 1, .max = 86400,
     .help = "seconds a connection may stay idle, or take to send a request's headers,\n"
             "before it is closed (default 30)"},
    {.names = "--min-rate", .value = "BYTES/S", .kind = PL_FLAG_INTEGER, .key = "min_rate",
     .min = 1, .max = 1000000000,
     .help = "a request body gets the idle timeout plus one second per BYTES/S bytes\n"
             "received; a slower sender is dropped (default 1024)"},
    {.names = "-h, --help", .kind = PL_FLAG_HELP, .help = "this text"},
    {0},
};
/* clang-format on */

static const pl_command sandbox_command = {
    .name = "sandbox",
    .module = "performlua.sandbox.cli",
    .summary = "run the emulated account on 127.0.0.1",
    .intro =
        "\nRuns an emulated Marketing Cloud account (token endpoint, SOAP endpoint, objects "
        "with state,\nasynchronous work) until Ctrl-C or SIGTERM. Point any client at the "
        "printed URLs.\n\n",
    .flags = sandbox_flags,
    .unknown_format = "unknown option '%s'",
    .needs_format = "%s needs %s",
    .usage_status = PL_EXIT_USAGE,
};

/* ---------------------------------------------------------------------------------------- */
/* performlua doctor: lua/performlua/doctor.lua                                              */

static const pl_flag doctor_flags[] = {
    {.names = "-h, --help", .kind = PL_FLAG_HELP, .help = "this text"},
    {0},
};

static const pl_command doctor_command = {
    .name = "doctor",
    .module = "performlua.doctor",
    .summary = "check the settings, the token, the account and the service",
    .intro =
        "\nPrints the account settings a run would use and where each came from (secrets "
        "masked),\nthen one PASS or FAIL line per check: libcurl (the HTTP library loads), "
        "the settings,\na token, the SOAP endpoint, the account (MID and name) and the "
        "service's system status.\nExit status 0 when every check passes, else 1. "
        "performlua's own flags apply:\nperformlua --profile prod doctor, performlua "
        "--sandbox doctor.\n\n",
    .flags = doctor_flags,
    .unknown_format = "unknown option '%s'",
    .needs_format = "%s needs %s",
    .usage_status = PL_EXIT_USAGE,
};

/* ---------------------------------------------------------------------------------------- */
/* performlua runs [show ID | forget ID]: lua/performlua/journal.lua                          */

/* clang-format off */
static const pl_flag runs_flags[] = {
    {.names = "show ID", .kind = PL_FLAG_LIST, .key = "words",
     .help = "the steps and calls of run ID (forget ID: drop it, so the\nnext run of its "
             "command starts over)"},
    {.names = "-h, --help", .kind = PL_FLAG_HELP, .help = "this text"},
    {0},
};
/* clang-format on */

static const pl_command runs_command = {
    .name = "runs",
    .module = "performlua.journal",
    .synopsis = "[show ID | forget ID]",
    .summary = "list the recent runs of the run journal, show one, forget one",
    .intro = "\nThe run journal (mc.step) records each step of a script and every call that "
             "changes\nsomething, so re-running a command that failed continues its run. "
             "performlua's own\n--journal FILE applies: performlua --journal j.sqlite3 runs.\n\n",
    .flags = runs_flags,
    .unknown_format = "unknown option '%s'",
    .needs_format = "%s needs %s",
    .usage_status = PL_EXIT_USAGE,
    .operands = &runs_flags[0],
};

static const pl_command *const subcommands[] = {&sandbox_command, &doctor_command,
                                                &runs_command, NULL};

const pl_command pl_cli_performlua = {
    .synopsis = "[options] [script [args]]",
    .intro = "Available options are:\n",
    .epilog = "With no script, the REPL starts when stdin is a terminal; otherwise stdin runs "
              "as\nthe script. In the REPL, `mc` is require \"performlua\".\nA script can "
              "require modules that sit beside it and in the directories listed in\n"
              "PERFORMLUA_PATH (colon-separated; each searched as DIR/?.lua and "
              "DIR/?/init.lua).\nExit status: 0 done, 1 the script failed, 2 a usage or "
              "configuration error\n(a usage error is one line; --debug adds its traceback).\n",
    .flags = performlua_flags,
    .unknown_format = "unrecognized option '%s'", /* lua.c's words */
    .needs_format = "'%s' needs %s",
    .usage_status = PL_EXIT_USAGE,
};

const pl_command *pl_cli_subcommand(const char *name)
{
    for (const pl_command *const *c = subcommands; *c; c++)
        if (strcmp((*c)->name, name) == 0)
            return *c;
    return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Help                                                                                      */

static size_t shown_width(const pl_flag *f)
{
    return strlen(f->names) + (f->value ? 1 + strlen(f->value) : 0);
}

/* The flag's last spelling, the long one when there are two ("--version"). */
static const char *long_name(const pl_flag *f)
{
    const char *comma = strrchr(f->names, ',');
    return comma ? comma + 2 : f->names;
}

static void print_synopsis(const pl_command *cmd, FILE *out)
{
    char prefix[64];
    int indent = snprintf(prefix, sizeof prefix, "usage: " PROGNAME " %s ", cmd->name);
    fputs(prefix, out);
    int column = indent;
    for (const pl_flag *f = cmd->flags; f->names; f++) {
        if (f->kind == PL_FLAG_HELP || f->kind == PL_FLAG_NOTE)
            continue;
        char item[96];
        int n = snprintf(item, sizeof item, "[%s%s%s%s]", long_name(f), f->value ? " " : "",
                         f->value ? f->value : "", f->kind == PL_FLAG_LIST ? " ..." : "");
        if (column > indent && column + 1 + n > HELP_WIDTH) {
            fprintf(out, "\n%*s", indent, "");
            column = indent;
        } else if (column > indent) {
            fputc(' ', out);
            column++;
        }
        fputs(item, out);
        column += n;
    }
    fputc('\n', out);
}

void pl_flags_print_help(const pl_command *cmd, FILE *out)
{
    if (cmd->name) {
        print_synopsis(cmd, out);
    } else {
        fprintf(out, "usage: " PROGNAME " %s\n", cmd->synopsis);
        int name_width = 0; /* the summaries start in one column */
        for (const pl_command *const *c = subcommands; *c; c++)
            if ((int)strlen((*c)->name) > name_width)
                name_width = (int)strlen((*c)->name);
        for (const pl_command *const *c = subcommands; *c; c++)
            fprintf(out, "       " PROGNAME " %s [args]%*s  %s (" PROGNAME " %s --help)\n",
                    (*c)->name, name_width - (int)strlen((*c)->name), "", (*c)->summary,
                    (*c)->name);
    }
    if (cmd->intro)
        fputs(cmd->intro, out);
    size_t width = 0;
    for (const pl_flag *f = cmd->flags; f->names; f++)
        if (shown_width(f) > width)
            width = shown_width(f);
    for (const pl_flag *f = cmd->flags; f->names; f++) {
        fprintf(out, "  %s%s%s%*s  ", f->names, f->value ? " " : "", f->value ? f->value : "",
                (int)(width - shown_width(f)), "");
        for (const char *line = f->help; *line;) {
            size_t len = strcspn(line, "\n");
            if (line != f->help)
                fprintf(out, "%*s", (int)width + 4, "");
            fprintf(out, "%.*s\n", (int)len, line);
            line += len + (line[len] == '\n');
        }
    }
    if (cmd->epilog)
        fputs(cmd->epilog, out);
}

static void print_error(const pl_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void print_error(const pl_command *cmd, const char *fmt, ...)
{
    fprintf(stderr, PROGNAME "%s%s: ", cmd->name ? " " : "", cmd->name ? cmd->name : "");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    pl_flags_print_help(cmd, stderr);
}

int pl_flags_usage_error(const pl_command *cmd, const char *message)
{
    print_error(cmd, "%s", message);
    return cmd->usage_status;
}

/* ---------------------------------------------------------------------------------------- */
/* Parsing                                                                                   */

static bool takes_value(const pl_flag *f)
{
    return f->kind == PL_FLAG_TEXT || f->kind == PL_FLAG_LIST || f->kind == PL_FLAG_INTEGER ||
           f->kind == PL_FLAG_NUMBER || f->kind == PL_FLAG_CHUNK;
}

/* The flag one of whose spellings is the `len` bytes at `spelled`. */
static const pl_flag *find_flag(const pl_command *cmd, const char *spelled, size_t len)
{
    for (const pl_flag *f = cmd->flags; f->names; f++) {
        if (f->kind == PL_FLAG_NOTE)
            continue;
        for (const char *s = f->names; *s;) {
            size_t n = strcspn(s, ",");
            if (n == len && memcmp(s, spelled, len) == 0)
                return f;
            s += n;
            while (*s == ',' || *s == ' ')
                s++;
        }
    }
    return NULL;
}

/* Reads a number as Lua's tonumber would (decimal or hexadecimal, surrounding spaces). */
static bool read_number(const char *text, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(text, &end);
    if (end == text || errno == ERANGE || !isfinite(d))
        return false;
    while (isspace((unsigned char)*end))
        end++;
    if (*end)
        return false;
    *out = d;
    return true;
}

/* Checks a numeric flag's value; returns false after printing the usage error. */
static bool check_number(const pl_command *cmd, const char *spelled, pl_flag_use *use)
{
    const pl_flag *f = use->flag;
    bool integer = f->kind == PL_FLAG_INTEGER;
    double d;
    if (!read_number(use->value, &d) || (integer && (d != floor(d) || fabs(d) >= 0x1p63)) ||
        d < f->min) {
        print_error(cmd, "%s needs %s of at least %g (got '%s')", spelled,
                    integer ? "a whole number" : "a number", f->min, use->value);
        return false;
    }
    if (f->max >= f->min && d > f->max) {
        print_error(cmd, "%s must be at most %g", spelled, f->max);
        return false;
    }
    if (f->above_min && d == f->min) {
        print_error(cmd, "%s must be greater than %g", spelled, f->min);
        return false;
    }
    use->number = d;
    return true;
}

int pl_flags_parse(const pl_command *cmd, int argc, char **argv, int first, pl_flag_parse *out)
{
    out->n_uses = 0;
    out->script = 0;
    out->subcommand_at = 0;
    out->subcommand = NULL;
    bool performlua = cmd->name == NULL;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (performlua && (a[0] != '-' || strcmp(a, "-") == 0)) {
            /* The first word that is not a flag: the subcommand, or the script. A script file
             * named like a subcommand still runs as ./sandbox or after "--". */
            out->subcommand = a[0] != '-' ? pl_cli_subcommand(a) : NULL;
            if (out->subcommand)
                out->subcommand_at = i;
            else
                out->script = i;
            return -1;
        }
        if (!performlua && cmd->operands && a[0] != '-') {
            out->uses[out->n_uses++] = (pl_flag_use){.flag = cmd->operands, .value = a};
            continue;
        }
        /* the spelling: the whole word, or its name before '=' (--profile=NAME), or its first
         * two characters (-eCODE), for a flag that takes a value */
        size_t len = strlen(a);
        const char *inline_value = NULL;
        const pl_flag *f = a[0] == '-' ? find_flag(cmd, a, len) : NULL;
        if (!f && a[0] == '-' && a[1] == '-' && strchr(a, '=')) {
            len = (size_t)(strchr(a, '=') - a);
            inline_value = a + len + 1;
            f = find_flag(cmd, a, len);
        } else if (!f && a[0] == '-' && a[1] != '-' && len > 2) {
            len = 2;
            inline_value = a + 2;
            f = find_flag(cmd, a, len);
        }
        if (!f || (inline_value && !takes_value(f))) {
            print_error(cmd, cmd->unknown_format, a);
            return cmd->usage_status;
        }
        char spelled[64];
        snprintf(spelled, sizeof spelled, "%.*s", (int)len, a);
        switch (f->kind) {
        case PL_FLAG_HELP:
            pl_flags_print_help(cmd, stdout);
            return EXIT_SUCCESS;
        case PL_FLAG_END:
            if (i + 1 < argc)
                out->script = i + 1;
            return -1;
        default:
            break;
        }
        pl_flag_use *use = &out->uses[out->n_uses];
        *use = (pl_flag_use){.flag = f, .value = inline_value};
        if (takes_value(f) && !inline_value) {
            /* as lua.c: a short flag does not take a following word that looks like a flag */
            bool short_flag = a[1] != '-';
            if (i + 1 >= argc || (short_flag && argv[i + 1][0] == '-')) {
                print_error(cmd, cmd->needs_format, spelled, f->needs ? f->needs : "a value");
                return cmd->usage_status;
            }
            use->value = argv[++i];
        }
        if ((f->kind == PL_FLAG_TEXT || f->kind == PL_FLAG_LIST) && !use->value[0]) {
            print_error(cmd, cmd->needs_format, spelled, f->needs ? f->needs : "a value");
            return cmd->usage_status;
        }
        if ((f->kind == PL_FLAG_INTEGER || f->kind == PL_FLAG_NUMBER) &&
            !check_number(cmd, spelled, use))
            return cmd->usage_status;
        out->n_uses++;
    }
    return -1;
}

bool pl_flags_given(const pl_flag_parse *p, const char *key)
{
    for (int i = 0; i < p->n_uses; i++)
        if (p->uses[i].flag->key && strcmp(p->uses[i].flag->key, key) == 0)
            return true;
    return false;
}
