/* Shared libraries loaded on first use (dlopen), so that a run which never makes an HTTP
 * call, starts a sandbox or opens the REPL does not pay for loading and relocating libcurl
 * (with its TLS, LDAP, ... dependencies), libmicrohttpd and libedit at exec.
 *
 * One table of pointers per library, written once where the library is used:
 *
 *     #define CURL_SYMBOLS(X) X(curl_global_init) X(curl_easy_init) ...
 *     static struct curl_api { CURL_SYMBOLS(PL_DYNLIB_MEMBER) } curl_api;
 *     #define CURL_ENTRY(name) PL_DYNLIB_ENTRY_IN(struct curl_api, name)
 *     static const pl_dynlib_symbol curl_symbols[] = {CURL_SYMBOLS(CURL_ENTRY)};
 *     static pl_dynlib curl_lib = PL_DYNLIB_INIT(PL_CURL_SONAME, PL_CURL_PACKAGE,
 *                                                "HTTP requests", curl_symbols, &curl_api);
 *     ...
 *     if (!pl_dynlib_load(&curl_lib, why, sizeof why)) ...; curl_api.curl_easy_init() ...
 *
 * Each member is declared `__typeof__(name) *name`, from the library's own header: a
 * prototype that does not match the header does not compile. Variables (libedit's rl_*)
 * become pointers to the library's variable. The soname (e.g. "libcurl.so.4") and the
 * Debian package are found by CMake from the library the headers belong to.
 *
 * Pure C; safe from any thread. A library is never unloaded. */
#ifndef PL_UTIL_DYNLIB_H
#define PL_UTIL_DYNLIB_H

#include <stdbool.h>
#include <stddef.h>

typedef struct pl_dynlib_symbol {
    const char *name;
    size_t offset; /* of its pointer in the table */
} pl_dynlib_symbol;

typedef struct pl_dynlib {
    const char *soname;  /* as the dynamic linker would look it up: "libcurl.so.4" */
    const char *package; /* the Debian package that installs it: "libcurl4" */
    const char *purpose; /* what needs it, for the error message: "HTTP requests" */
    const pl_dynlib_symbol *symbols;
    size_t n_symbols;
    void *table;
    int state;       /* 0 not tried yet, 1 loaded, -1 failed (guarded by the loader's lock) */
    char error[384]; /* the failure, kept: every later use reports the same */
} pl_dynlib;

#define PL_DYNLIB_MEMBER(name) __typeof__(name) *name;
#define PL_DYNLIB_ENTRY_IN(type, name) {#name, offsetof(type, name)},
/* clang-format off */
#define PL_DYNLIB_INIT(soname, package, purpose, symbols, table)                               \
    {(soname), (package), (purpose), (symbols), sizeof(symbols) / sizeof((symbols)[0]),        \
     (table), 0, {0}}
/* clang-format on */

/* Loads the library and fills its table, once. True when every symbol was found; false with
 * a message in `why` (why_size bytes) naming the library, what needs it and the Debian
 * package to install. Later calls return the first outcome at once. */
bool pl_dynlib_load(pl_dynlib *lib, char *why, size_t why_size);

/* Whether the library is in the process already (loaded by another library, or by a Lua C
 * module): before pl_dynlib_load, whether something other than performlua may have used it. */
bool pl_dynlib_in_process(const pl_dynlib *lib);

/* pl_dynlib_load for a version line (performlua --version): true when the library is loaded;
 * otherwise false with "(not loaded: <why>)" in `out` (size bytes). */
bool pl_dynlib_load_or_describe(pl_dynlib *lib, char *out, size_t size);

#endif
