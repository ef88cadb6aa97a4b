/* Every command-line flag of performlua, in one place: runtime/cli/flags.c holds one table
 * per command (performlua itself and each subcommand), the parser that reads argv with them,
 * and the --help text made from them. Pure C: the command line reads its flags before any
 * Lua state exists, as lua.c does.
 *
 * What a flag's value becomes: a flag with a `key` reaches Lua as a field of one plain table,
 * package.loaded["performlua.cli"] for performlua's own flags (e.g. {trace = true,
 * profile = "prod"}), or the options table handed to a subcommand's main(opts). Lua reads the
 * flag where it is used (trace.lua reads `trace`, config.lua reads `profile`), before the
 * environment variable that means the same, so the flag wins. Where to add one: see the top of
 * flags.c. */
#ifndef PL_CLI_FLAGS_H
#define PL_CLI_FLAGS_H

#include <stdbool.h>
#include <stdio.h>

/* The exit statuses of performlua, its subcommands and the example scripts: the same
 * everywhere, so cron and CI can tell a mistake in the command from work that failed. */
enum {
    PL_EXIT_OK = 0,     /* done */
    PL_EXIT_FAILED = 1, /* the script, or the subcommand's work, failed */
    PL_EXIT_USAGE = 2,  /* a usage or configuration error: fix the command, script or config */
};

typedef enum pl_flag_kind {
    PL_FLAG_SWITCH,  /* no value: key = true */
    PL_FLAG_TEXT,    /* a non-empty value: key = "value" (the last one given wins) */
    PL_FLAG_LIST,    /* repeatable: key = {"value", ...} (an empty table when not given) */
    PL_FLAG_INTEGER, /* key = a whole number, at least `min` (and at most `max` when set) */
    PL_FLAG_NUMBER,  /* key = a number, at least `min` (and at most `max` when set) */
    PL_FLAG_CHUNK,   /* -e CODE, -l MOD: Lua to run, kept in command-line order */
    PL_FLAG_HELP,    /* prints the command's help on stdout; exit status 0 */
    PL_FLAG_END,     /* "--": the next word is the script, even if it looks like a flag */
    PL_FLAG_STDIN,   /* "-": stdin is the script */
    PL_FLAG_NOTE     /* a help line only: another way to write the flag above */
} pl_flag_kind;

typedef struct pl_flag {
    const char *names; /* the spellings, as shown: "-v, --version", "--profile", "-e" */
    const char *value; /* the value's name in help ("NAME"); NULL for flags without one */
    pl_flag_kind kind;
    const char *key;   /* field name in Lua; NULL when only C uses the flag */
    const char *help;  /* lines separated by '\n' */
    const char *needs; /* what a missing value is called ("a profile name"); NULL: "a value" */
    double min, max;   /* PL_FLAG_INTEGER and PL_FLAG_NUMBER; max < min: no maximum */
    bool above_min;    /* the value must be greater than min, not equal to it */
} pl_flag;

typedef struct pl_command {
    const char *name;     /* NULL for performlua itself; "sandbox" */
    const char *module;   /* the Lua module whose main(opts) runs a subcommand */
    const char *synopsis; /* after "usage: performlua[ name] "; NULL: made from the flags */
    const char *summary;  /* a subcommand's line in performlua's help */
    const char *intro;    /* between the usage line(s) and the flags */
    const char *epilog;   /* after the flags */
    const pl_flag *flags; /* ends with {NULL} */
    /* how this command has always worded its mistakes (tests/cli check them) */
    const char *unknown_format; /* one %s: the word as given */
    const char *needs_format;   /* two %s: the flag as given, what it needs */
    int usage_status;           /* exit status after a usage error */
    /* a subcommand's words that are not flags ("runs show 3"), each a use of this PL_FLAG_LIST
     * flag (which is also in `flags`, for its help line); NULL: such a word is refused */
    const pl_flag *operands;
} pl_command;

/* performlua itself, and the subcommand named `name` (NULL when there is none). */
extern const pl_command pl_cli_performlua;
const pl_command *pl_cli_subcommand(const char *name);

typedef struct pl_flag_use {
    const pl_flag *flag;
    const char *value; /* points into argv; NULL for flags without a value */
    double number;     /* PL_FLAG_INTEGER and PL_FLAG_NUMBER: the value read */
} pl_flag_use;

typedef struct pl_flag_parse {
    pl_flag_use *uses; /* in command-line order; room for argc entries, given by the caller */
    int n_uses;
    int script;        /* performlua: argv index of the script; 0 when none */
    int subcommand_at; /* performlua: argv index of the subcommand's name; 0 when none */
    const pl_command *subcommand; /* ... and the subcommand */
} pl_flag_parse;

/* Reads argv[first..argc-1] with cmd's flags into out. Returns -1 to go on, or the exit status
 * to stop with: 0 after printing help (--help), cmd->usage_status after printing a usage error
 * and the help to stderr. performlua stops at its script or subcommand; a subcommand reads to
 * the end. */
int pl_flags_parse(const pl_command *cmd, int argc, char **argv, int first, pl_flag_parse *out);

/* Whether the flag with this key was given. */
bool pl_flags_given(const pl_flag_parse *p, const char *key);

/* A usage error of cmd: "performlua[ name]: message", then the help, on stderr. Returns
 * cmd->usage_status. */
int pl_flags_usage_error(const pl_command *cmd, const char *message);

void pl_flags_print_help(const pl_command *cmd, FILE *out);

#endif
