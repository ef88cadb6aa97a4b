/* Lua binding of SQLite (the sqlite3 C API): durable state for the sandbox's account and the
 * client's run journal. Thin on purpose: SQL in, rows out, values always bound.
 *
 *   core.sqlite_open(path [, options]) -> db
 *       path: a file name, ":memory:", or a "file:" URI ("file:x?mode=memory",
 *       "file:/name?vfs=memdb" for one in-memory database shared by several connections).
 *       options (all optional):
 *         readonly = false        open for reading only (the file must exist)
 *         create = true           create the file when it does not exist
 *         wal = nil               true: WAL journal (kept in the file), false: rollback
 *                                 journal, nil: as the file has it. Ignored in memory.
 *         synchronous = "full"    "off" | "normal" | "full" | "extra"
 *         busy_timeout_ms = 5000  how long a statement waits for another connection's lock
 *         foreign_keys = true     enforce FOREIGN KEY constraints
 *   core.sqlite_blob(s) -> a value that binds s as a BLOB even when s is valid UTF-8
 *
 *   db:exec(sql)                        one or more statements, no parameters
 *   db:run(sql, ...) -> changes, last_insert_rowid
 *   db:first(sql, ...) -> row | nil
 *   db:rows(sql, ...) -> iterator for a generic for (one row in memory at a time)
 *   db:query(sql, ...) -> {row, ...}
 *   db:transaction(fn, ...) -> fn's results
 *   db:changes(), db:last_insert_rowid(), db:close(), tostring(db)
 *
 * Parameters: `...` binds positional parameters (?) in order, or one table binds named
 * parameters (:name, @name, $name) by name (a missing key binds NULL). Values: integer <->
 * INTEGER, float <-> REAL, string <-> TEXT, or BLOB when the string is not valid UTF-8 or is
 * wrapped by sqlite_blob (BLOBs read back as strings), nil <-> NULL (absent from the row
 * table), booleans bind as 1 and 0. Rows are tables {column = value}.
 *
 * Ownership: a connection userdata owns the sqlite3 handle and a small LRU cache of prepared
 * statements (keyed by SQL text, so a loop of inserts prepares once). A statement in use is
 * owned by a statement userdata: to-be-closed for the duration of one call, or the closing
 * value of a rows() loop, so an error, a `break` or the garbage collector gives it back. No
 * Lua error crosses an sqlite3 frame: SQLite never calls back into Lua here (no user
 * functions, no Lua busy handler), and errors are raised after SQLite returned.
 *
 * Threads: each lua_State opens its own connections and this file keeps no global state, so
 * connections are opened without SQLite's per-connection mutex (SQLITE_OPEN_NOMUTEX): a
 * connection is only ever used by the thread running its lua_State. */
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>
#include <sqlite3.h>

#include "bind/core.h"
#include "bind/errors.h"
#include "util/dynlib.h"

/* SQLite is loaded on first use (util/dynlib.h), at the first core.sqlite_open: only the run
 * journal and the sandbox's account need it, and relocating it at exec made up a fifth of the
 * start-up of every script (`performlua -e ''`: 5.1 M instructions, 1.1 M of them SQLite's).
 * Every other entry point here works on a connection, which sqlite_open made. */
/* clang-format off */
#define SQLITE_SYMBOLS(X)                                                                      \
    X(sqlite3_bind_blob64) X(sqlite3_bind_double) X(sqlite3_bind_int) X(sqlite3_bind_int64)    \
    X(sqlite3_bind_null) X(sqlite3_bind_parameter_count) X(sqlite3_bind_parameter_name)        \
    X(sqlite3_bind_text64) X(sqlite3_busy_timeout) X(sqlite3_changes64)                        \
    X(sqlite3_clear_bindings) X(sqlite3_close_v2) X(sqlite3_column_blob)                       \
    X(sqlite3_column_bytes) X(sqlite3_column_count) X(sqlite3_column_double)                   \
    X(sqlite3_column_int64) X(sqlite3_column_name) X(sqlite3_column_text)                      \
    X(sqlite3_column_type) X(sqlite3_complete) X(sqlite3_db_config) X(sqlite3_db_readonly)     \
    X(sqlite3_errmsg) X(sqlite3_errstr) X(sqlite3_extended_errcode)                            \
    X(sqlite3_extended_result_codes) X(sqlite3_finalize) X(sqlite3_get_autocommit)             \
    X(sqlite3_last_insert_rowid) X(sqlite3_libversion) X(sqlite3_open_v2)                      \
    X(sqlite3_prepare_v3) X(sqlite3_reset) X(sqlite3_sql) X(sqlite3_step)                      \
    X(sqlite3_threadsafe) X(sqlite3_total_changes64)
/* clang-format on */
static struct sqlite_api {
    SQLITE_SYMBOLS(PL_DYNLIB_MEMBER)
} sqlite_api;
#define SQLITE_ENTRY(name) PL_DYNLIB_ENTRY_IN(struct sqlite_api, name)
static const pl_dynlib_symbol sqlite_symbols[] = {SQLITE_SYMBOLS(SQLITE_ENTRY)};
static pl_dynlib sqlite_lib =
    PL_DYNLIB_INIT(PL_SQLITE_SONAME, PL_SQLITE_PACKAGE,
                   "the run journal and the sandbox's account", sqlite_symbols, &sqlite_api);

void pl_sqlite_library_version(char *out, size_t size)
{
    if (pl_dynlib_load_or_describe(&sqlite_lib, out, size))
        snprintf(out, size, "%s", sqlite_api.sqlite3_libversion());
}

#define CONNECTION_METATABLE "performlua.sqlite"
#define STATEMENT_METATABLE "performlua.sqlite_statement"
#define BLOB_METATABLE "performlua.sqlite_blob"

/* Distinct SQL texts kept prepared per connection. The sandbox builds a handful of statements
 * per data extension; beyond this the least recently used one is finalized. */
#define STATEMENT_CACHE_SIZE 64
#define DEFAULT_BUSY_TIMEOUT_MS 5000
/* SQL quoted in error messages is cut to this many bytes (a statement can be pages long). */
#define SQL_SNIPPET_MAX 160

/* ---- the connection and its statement cache ---- */

typedef struct cached_statement {
    char *sql;          /* the key: a copy of the SQL text; NULL for a free slot */
    size_t len;
    uint32_t hash;
    sqlite3_stmt *stmt;
    uint64_t last_used; /* the connection's clock when last checked out */
    bool in_use;        /* held by a running call or an open rows() loop */
    bool names_checked; /* its result columns have distinct names */
} cached_statement;

typedef struct connection {
    sqlite3 *db; /* NULL once closed */
    bool readonly;
    int busy_timeout_ms;
    int transaction_depth; /* db:transaction calls running on this connection */
    uint64_t clock;
    cached_statement cache[STATEMENT_CACHE_SIZE];
} connection;

/* A statement checked out of the cache (slot >= 0) or prepared for one use (slot -1). User
 * value 1 is the connection's userdata: a rows() loop keeps its connection alive. */
typedef struct statement {
    connection *conn;
    sqlite3_stmt *stmt; /* NULL once given back */
    int slot;
} statement;

static uint32_t hash_sql(const char *s, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* Gives the statement back: reset and cleared into its cache slot, or finalized when it was
 * prepared for one use or its connection has been closed meanwhile. Idempotent. */
static void statement_release(statement *s)
{
    sqlite3_stmt *stmt = s->stmt;
    if (!stmt)
        return;
    s->stmt = NULL;
    connection *c = s->conn;
    if (c->db && s->slot >= 0 && c->cache[s->slot].stmt == stmt) {
        sqlite_api.sqlite3_reset(stmt);
        sqlite_api.sqlite3_clear_bindings(
            stmt); /* drops pointers to Lua strings bound without a copy */
        c->cache[s->slot].in_use = false;
    } else {
        sqlite_api.sqlite3_finalize(stmt);
    }
}

static int l_statement_release(lua_State *L)
{
    statement_release(lua_touserdata(L, 1));
    return 0;
}

/* Finalizes the idle cached statements and closes the handle. Statements still held (an open
 * rows() loop) are finalized when their holder lets go: sqlite3_close_v2 keeps the handle
 * alive until then. Idempotent: used by db:close, __gc and __close. */
static void connection_close(connection *c)
{
    if (!c->db)
        return;
    for (int i = 0; i < STATEMENT_CACHE_SIZE; i++) {
        cached_statement *e = &c->cache[i];
        if (e->sql && !e->in_use)
            sqlite_api.sqlite3_finalize(e->stmt);
        free(e->sql);
        memset(e, 0, sizeof *e);
    }
    sqlite_api.sqlite3_close_v2(c->db);
    c->db = NULL;
}

/* ---- errors ---- */

static const struct {
    int code;
    const char *name;
} result_names[] = {
#define RESULT(code) {code, #code}
    RESULT(SQLITE_ERROR), RESULT(SQLITE_INTERNAL), RESULT(SQLITE_PERM), RESULT(SQLITE_ABORT),
    RESULT(SQLITE_BUSY), RESULT(SQLITE_LOCKED), RESULT(SQLITE_NOMEM), RESULT(SQLITE_READONLY),
    RESULT(SQLITE_INTERRUPT), RESULT(SQLITE_IOERR), RESULT(SQLITE_CORRUPT),
    RESULT(SQLITE_NOTFOUND), RESULT(SQLITE_FULL), RESULT(SQLITE_CANTOPEN),
    RESULT(SQLITE_PROTOCOL), RESULT(SQLITE_EMPTY), RESULT(SQLITE_SCHEMA), RESULT(SQLITE_TOOBIG),
    RESULT(SQLITE_CONSTRAINT), RESULT(SQLITE_MISMATCH), RESULT(SQLITE_MISUSE),
    RESULT(SQLITE_NOLFS), RESULT(SQLITE_AUTH), RESULT(SQLITE_FORMAT), RESULT(SQLITE_RANGE),
    RESULT(SQLITE_NOTADB), RESULT(SQLITE_NOTICE), RESULT(SQLITE_WARNING),
    RESULT(SQLITE_ERROR_MISSING_COLLSEQ), RESULT(SQLITE_ERROR_RETRY),
    RESULT(SQLITE_ERROR_SNAPSHOT), RESULT(SQLITE_IOERR_READ), RESULT(SQLITE_IOERR_SHORT_READ),
    RESULT(SQLITE_IOERR_WRITE), RESULT(SQLITE_IOERR_FSYNC), RESULT(SQLITE_IOERR_DIR_FSYNC),
    RESULT(SQLITE_IOERR_TRUNCATE), RESULT(SQLITE_IOERR_FSTAT), RESULT(SQLITE_IOERR_UNLOCK),
    RESULT(SQLITE_IOERR_RDLOCK), RESULT(SQLITE_IOERR_DELETE), RESULT(SQLITE_IOERR_BLOCKED),
    RESULT(SQLITE_IOERR_NOMEM), RESULT(SQLITE_IOERR_ACCESS),
    RESULT(SQLITE_IOERR_CHECKRESERVEDLOCK), RESULT(SQLITE_IOERR_LOCK),
    RESULT(SQLITE_IOERR_CLOSE), RESULT(SQLITE_IOERR_DIR_CLOSE), RESULT(SQLITE_IOERR_SHMOPEN),
    RESULT(SQLITE_IOERR_SHMSIZE), RESULT(SQLITE_IOERR_SHMLOCK), RESULT(SQLITE_IOERR_SHMMAP),
    RESULT(SQLITE_IOERR_SEEK), RESULT(SQLITE_IOERR_DELETE_NOENT), RESULT(SQLITE_IOERR_MMAP),
    RESULT(SQLITE_IOERR_GETTEMPPATH), RESULT(SQLITE_IOERR_CONVPATH), RESULT(SQLITE_IOERR_VNODE),
    RESULT(SQLITE_IOERR_AUTH), RESULT(SQLITE_IOERR_BEGIN_ATOMIC),
    RESULT(SQLITE_IOERR_COMMIT_ATOMIC), RESULT(SQLITE_IOERR_ROLLBACK_ATOMIC),
    RESULT(SQLITE_IOERR_DATA), RESULT(SQLITE_IOERR_CORRUPTFS),
    RESULT(SQLITE_LOCKED_SHAREDCACHE), RESULT(SQLITE_LOCKED_VTAB),
    RESULT(SQLITE_BUSY_RECOVERY), RESULT(SQLITE_BUSY_SNAPSHOT), RESULT(SQLITE_BUSY_TIMEOUT),
    RESULT(SQLITE_CANTOPEN_NOTEMPDIR), RESULT(SQLITE_CANTOPEN_ISDIR),
    RESULT(SQLITE_CANTOPEN_FULLPATH), RESULT(SQLITE_CANTOPEN_CONVPATH),
    RESULT(SQLITE_CANTOPEN_SYMLINK), RESULT(SQLITE_CORRUPT_VTAB),
    RESULT(SQLITE_CORRUPT_SEQUENCE), RESULT(SQLITE_CORRUPT_INDEX),
    RESULT(SQLITE_READONLY_RECOVERY), RESULT(SQLITE_READONLY_CANTLOCK),
    RESULT(SQLITE_READONLY_ROLLBACK), RESULT(SQLITE_READONLY_DBMOVED),
    RESULT(SQLITE_READONLY_CANTINIT), RESULT(SQLITE_READONLY_DIRECTORY),
    RESULT(SQLITE_ABORT_ROLLBACK), RESULT(SQLITE_CONSTRAINT_CHECK),
    RESULT(SQLITE_CONSTRAINT_COMMITHOOK), RESULT(SQLITE_CONSTRAINT_FOREIGNKEY),
    RESULT(SQLITE_CONSTRAINT_FUNCTION), RESULT(SQLITE_CONSTRAINT_NOTNULL),
    RESULT(SQLITE_CONSTRAINT_PRIMARYKEY), RESULT(SQLITE_CONSTRAINT_TRIGGER),
    RESULT(SQLITE_CONSTRAINT_UNIQUE), RESULT(SQLITE_CONSTRAINT_VTAB),
    RESULT(SQLITE_CONSTRAINT_ROWID), RESULT(SQLITE_CONSTRAINT_PINNED),
    RESULT(SQLITE_CONSTRAINT_DATATYPE),
#undef RESULT
};

/* The name of an extended result code ("SQLITE_CONSTRAINT_PRIMARYKEY"), or of its primary
 * code when this table predates the extended one. */
static const char *result_name(int code)
{
    size_t n = sizeof result_names / sizeof *result_names;
    for (size_t i = 0; i < n; i++)
        if (result_names[i].code == code)
            return result_names[i].name;
    for (size_t i = 0; i < n; i++)
        if (result_names[i].code == (code & 0xff))
            return result_names[i].name;
    return "SQLITE_ERROR";
}

/* Copies SQL for a message into out: runs of white space become one space, and text beyond
 * SQL_SNIPPET_MAX bytes becomes "...". */
static void sql_snippet(char out[SQL_SNIPPET_MAX + 4], const char *sql, size_t len)
{
    size_t n = 0;
    bool space = false;
    for (size_t i = 0; i < len && n < SQL_SNIPPET_MAX; i++) {
        unsigned char ch = (unsigned char)sql[i];
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v') {
            space = n > 0;
            continue;
        }
        if (space && n < SQL_SNIPPET_MAX)
            out[n++] = ' ';
        space = false;
        if (n < SQL_SNIPPET_MAX)
            out[n++] = ch ? (char)ch : ' ';
    }
    out[n] = '\0';
    if (n == SQL_SNIPPET_MAX)
        strcpy(out + n, "...");
}

/* Pushes the name of the database on the connection at idx, as opened: the path (a URI
 * without its query, which may hold parameters but never belongs in messages). */
static const char *push_database_name(lua_State *L, int idx)
{
    lua_getiuservalue(L, idx, 1);
    return lua_tostring(L, -1);
}

/* Pushes a storage error: "<op> on <database> failed: <SQLite's message>[<hint>][ (SQL:
 * <sql>)]" (op NULL: "cannot open <database>: ..."), with the extended result code's name in
 * `code`. Values never appear: they are bound, not part of the SQL text. */
static void push_storage_error(lua_State *L, const char *database, const char *op, int code,
                               const char *sqlite_message, const char *hint, const char *sql)
{
    if (op)
        lua_pushfstring(L, "%s on %s failed: ", op, database);
    else
        lua_pushfstring(L, "cannot open %s: ", database);
    lua_pushfstring(L, "%s%s%s%s%s", sqlite_message, hint ? hint : "", sql ? " (SQL: " : "",
                    sql ? sql : "", sql ? ")" : "");
    lua_concat(L, 2);
    pl_error_push(L, "storage", lua_tostring(L, -1));
    lua_remove(L, -2);
    lua_pushstring(L, result_name(code));
    lua_setfield(L, -2, "code");
    lua_pushstring(L, database);
    lua_setfield(L, -2, "database");
    /* Busy and locked: nothing happened, and the same statement may succeed once the other
     * connection has finished. */
    int primary = code & 0xff;
    lua_pushboolean(L, primary == SQLITE_BUSY || primary == SQLITE_LOCKED);
    lua_setfield(L, -2, "retryable");
}

/* What to do about the codes whose SQLite message does not say it. Pushed (or NULL). */
static const char *error_hint(lua_State *L, const connection *c, int code)
{
    if ((code & 0xff) == SQLITE_BUSY)
        return lua_pushfstring(L, " (another connection holds the lock; gave up after %d ms, "
                                  "see busy_timeout_ms)", c->busy_timeout_ms);
    if (code == SQLITE_READONLY_DIRECTORY)
        return lua_pushliteral(L, " (its directory is write-protected, and a WAL database "
                                  "needs to create its -wal and -shm files beside it)");
    return NULL;
}

/* Raises the storage error of the last failed call on the connection at db_idx. */
static int raise_connection_error(lua_State *L, int db_idx, const char *op, const char *sql)
{
    connection *c = lua_touserdata(L, db_idx);
    int code = sqlite_api.sqlite3_extended_errcode(c->db);
    const char *database = push_database_name(L, db_idx);
    push_storage_error(L, database, op, code, sqlite_api.sqlite3_errmsg(c->db),
                       error_hint(L, c, code), sql);
    return lua_error(L);
}

/* Raises the storage error of a failed step of s (on the connection at db_idx), after
 * giving the statement back. */
static int raise_statement_error(lua_State *L, statement *s, int db_idx, const char *op)
{
    char sql[SQL_SNIPPET_MAX + 4];
    const char *text = sqlite_api.sqlite3_sql(s->stmt);
    sql_snippet(sql, text ? text : "", text ? strlen(text) : 0);
    int code = sqlite_api.sqlite3_extended_errcode(s->conn->db);
    const char *database = push_database_name(L, db_idx);
    push_storage_error(L, database, op, code, sqlite_api.sqlite3_errmsg(s->conn->db),
                       error_hint(L, s->conn, code), sql);
    statement_release(s);
    return lua_error(L);
}

/* Misuse: a usage error at the caller's line, as luaL_error would place it. */
static int raise_usage(lua_State *L, const char *fmt, ...)
{
    luaL_where(L, 1);
    va_list ap;
    va_start(ap, fmt);
    lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    lua_concat(L, 2);
    pl_error_push(L, "usage", lua_tostring(L, -1));
    return lua_error(L);
}

static connection *check_open(lua_State *L, const char *op)
{
    connection *c = luaL_checkudata(L, 1, CONNECTION_METATABLE);
    if (!c->db)
        raise_usage(L, "%s: the database %s is closed", op, push_database_name(L, 1));
    return c;
}

/* ---- values ---- */

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing beyond U+10FFFF. */
static bool is_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t more;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF)
            more = 1, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF)
            more = 2, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4)
            more = 3, cp = c & 0x07;
        else
            return false;
        if (n - i <= more)
            return false;
        for (size_t k = 1; k <= more; k++) {
            unsigned char d = s[i + k];
            if ((d & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (d & 0x3F);
        }
        if ((more == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (more == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return false;
        i += more + 1;
    }
    return true;
}

static bool is_blob(lua_State *L, int idx)
{
    if (!lua_getmetatable(L, idx))
        return false;
    luaL_getmetatable(L, BLOB_METATABLE);
    bool blob = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return blob;
}

/* Binds the value at idx to parameter i. `keep` is SQLITE_STATIC when the value stays on the
 * Lua stack until the statement is given back, SQLITE_TRANSIENT (SQLite copies) otherwise.
 * Returns SQLite's result code, or -1 for a value that has no SQL type. */
static int bind_value(lua_State *L, sqlite3_stmt *stmt, int i, int idx,
                      sqlite3_destructor_type keep)
{
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        return sqlite_api.sqlite3_bind_null(stmt, i);
    case LUA_TBOOLEAN:
        return sqlite_api.sqlite3_bind_int(stmt, i, lua_toboolean(L, idx));
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            return sqlite_api.sqlite3_bind_int64(stmt, i, lua_tointeger(L, idx));
        return sqlite_api.sqlite3_bind_double(stmt, i, lua_tonumber(L, idx));
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        if (is_utf8((const unsigned char *)s, len))
            return sqlite_api.sqlite3_bind_text64(stmt, i, s, len, keep, SQLITE_UTF8);
        return sqlite_api.sqlite3_bind_blob64(stmt, i, s, len, keep);
    }
    case LUA_TTABLE:
        if (is_blob(L, idx)) {
            size_t len = 0;
            int rc = -1;
            /* copied: the wrapper's field could be replaced before the statement runs */
            if (lua_rawgeti(L, idx, 1) == LUA_TSTRING) {
                const char *bytes = lua_tolstring(L, -1, &len);
                rc = sqlite_api.sqlite3_bind_blob64(stmt, i, bytes, len, SQLITE_TRANSIENT);
            }
            lua_pop(L, 1);
            return rc;
        }
        return -1;
    default:
        return -1;
    }
}

#define BINDABLE "numbers, strings, booleans, nil or core.sqlite_blob(s)"

/* Binds the nargs arguments from index `first`: positional values, or one table of named
 * values. Every parameter gets a value: a count that does not match is an error, never a
 * silent NULL. */
static void bind_arguments(lua_State *L, statement *s, int db_idx, int first, int nargs,
                           sqlite3_destructor_type keep, const char *op)
{
    sqlite3_stmt *stmt = s->stmt;
    int n = sqlite_api.sqlite3_bind_parameter_count(stmt);
    bool named = nargs == 1 && n > 0 && lua_type(L, first) == LUA_TTABLE && !is_blob(L, first);
    if (named) {
        /* the values stay on the stack while the statement runs (SQLITE_STATIC) */
        luaL_checkstack(L, n + LUA_MINSTACK, "too many SQL parameters");
        for (int i = 1; i <= n; i++) {
            const char *name = sqlite_api.sqlite3_bind_parameter_name(stmt, i);
            if (!name || name[0] == '?')
                raise_usage(L, "%s: a table binds named parameters (:name), but parameter %d "
                               "is positional (?)", op, i);
            lua_getfield(L, first, name + 1);
            int rc = bind_value(L, stmt, i, lua_gettop(L), keep);
            if (rc == -1)
                raise_usage(L, "%s: parameter %s is a %s: bind " BINDABLE, op, name,
                            luaL_typename(L, -1));
            if (rc != SQLITE_OK)
                raise_connection_error(L, db_idx, op, NULL);
        }
        return;
    }
    if (nargs != n)
        raise_usage(L, "%s: the statement takes %d parameter%s, %d given", op, n,
                    n == 1 ? "" : "s", nargs);
    for (int i = 1; i <= n; i++) {
        int rc = bind_value(L, stmt, i, first + i - 1, keep);
        if (rc == -1)
            raise_usage(L, "%s: parameter %d is a %s: bind " BINDABLE "%s", op, i,
                        luaL_typename(L, first + i - 1),
                        lua_type(L, first + i - 1) == LUA_TTABLE
                            ? " (one table as the only argument binds :name parameters)" : "");
        if (rc != SQLITE_OK)
            raise_connection_error(L, db_idx, op, NULL);
    }
}

static void push_column(lua_State *L, sqlite3_stmt *stmt, int i)
{
    switch (sqlite_api.sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER:
        lua_pushinteger(L, sqlite_api.sqlite3_column_int64(stmt, i));
        break;
    case SQLITE_FLOAT:
        lua_pushnumber(L, sqlite_api.sqlite3_column_double(stmt, i));
        break;
    case SQLITE_TEXT: {
        const char *text = (const char *)sqlite_api.sqlite3_column_text(stmt, i);
        lua_pushlstring(L, text ? text : "", (size_t)sqlite_api.sqlite3_column_bytes(stmt, i));
        break;
    }
    case SQLITE_BLOB: {
        const void *blob = sqlite_api.sqlite3_column_blob(stmt, i);
        lua_pushlstring(L, blob ? blob : "", (size_t)sqlite_api.sqlite3_column_bytes(stmt, i));
        break;
    }
    default:
        lua_pushnil(L);
    }
}

/* Pushes the current row as {column = value}; NULL columns are left out. A NULL text or name
 * pointer after a non-NULL column means SQLite ran out of memory: raised as such. */
static void push_row(lua_State *L, statement *s, int db_idx, const char *op)
{
    sqlite3_stmt *stmt = s->stmt;
    int n = sqlite_api.sqlite3_column_count(stmt);
    lua_createtable(L, 0, n);
    for (int i = 0; i < n; i++) {
        int type = sqlite_api.sqlite3_column_type(stmt, i);
        if (type == SQLITE_NULL)
            continue;
        const char *name = sqlite_api.sqlite3_column_name(stmt, i);
        if (!name || (type == SQLITE_TEXT && !sqlite_api.sqlite3_column_text(stmt, i)))
            raise_statement_error(L, s, db_idx, op);
        push_column(L, stmt, i);
        lua_setfield(L, -2, name);
    }
}

/* ---- preparing ---- */

static bool only_comments(sqlite3 *db, const char *sql, size_t len)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite_api.sqlite3_prepare_v3(db, sql, (int)len, 0, &stmt, NULL);
    sqlite_api.sqlite3_finalize(stmt);
    return rc == SQLITE_OK && !stmt;
}

/* Rows are tables keyed by column name: two result columns with one name would hide one of
 * them, so such a query is refused (once per prepared statement). */
static void check_column_names(lua_State *L, sqlite3_stmt *stmt, const char *op)
{
    int n = sqlite_api.sqlite3_column_count(stmt);
    for (int i = 1; i < n; i++)
        for (int j = 0; j < i; j++) {
            const char *a = sqlite_api.sqlite3_column_name(stmt, i),
                       *b = sqlite_api.sqlite3_column_name(stmt, j);
            if (a && b && strcmp(a, b) == 0)
                raise_usage(L, "%s: two result columns are named '%s' and a row can hold only "
                               "one: name them apart (SELECT a.id AS a_id, b.id AS b_id ...)",
                            op, a);
        }
}

/* Checks out the prepared statement for sql into s: from the cache when an idle one is
 * there, else newly prepared (and cached, evicting the least recently used idle entry).
 * `rows`: the caller reads rows (see check_column_names). Raises for SQL that does not
 * prepare, holds no statement or more than one. */
static void statement_prepare(lua_State *L, statement *s, int db_idx, const char *sql,
                              size_t len, bool rows, const char *op)
{
    connection *c = s->conn;
    uint32_t hash = hash_sql(sql, len);
    int victim = -1;
    uint64_t oldest = UINT64_MAX;
    for (int i = 0; i < STATEMENT_CACHE_SIZE; i++) {
        cached_statement *e = &c->cache[i];
        if (e->in_use)
            continue;
        if (e->sql && e->hash == hash && e->len == len && memcmp(e->sql, sql, len) == 0) {
            e->in_use = true;
            e->last_used = ++c->clock;
            s->stmt = e->stmt;
            s->slot = i;
            if (rows && !e->names_checked) {
                check_column_names(L, s->stmt, op);
                e->names_checked = true;
            }
            return;
        }
        uint64_t age = e->sql ? e->last_used : 0; /* free slots first */
        if (age < oldest)
            oldest = age, victim = i;
    }

    if (len >= INT_MAX)
        raise_usage(L, "%s: the SQL text is too long", op);
    sqlite3_stmt *stmt = NULL;
    const char *tail = NULL;
    /* the length with Lua's terminating NUL saves SQLite a copy */
    int rc = sqlite_api.sqlite3_prepare_v3(c->db, sql, (int)len + 1,
                                victim >= 0 ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, &tail);
    if (rc != SQLITE_OK) {
        char snippet[SQL_SNIPPET_MAX + 4];
        sql_snippet(snippet, sql, len);
        raise_connection_error(L, db_idx, op, snippet);
    }
    s->stmt = stmt;
    s->slot = -1;
    if (!stmt)
        raise_usage(L, "%s: the SQL text holds no statement", op);
    if (tail && tail < sql + len && !only_comments(c->db, tail, (size_t)(sql + len - tail)))
        raise_usage(L, "%s: the SQL text holds more than one statement (db:exec runs several, "
                       "without parameters)", op);
    if (rows)
        check_column_names(L, stmt, op);
    char *key = victim >= 0 ? malloc(len + 1) : NULL;
    if (!key)
        return; /* used once, then finalized */
    memcpy(key, sql, len + 1);
    cached_statement *e = &c->cache[victim];
    if (e->sql) {
        sqlite_api.sqlite3_finalize(e->stmt);
        free(e->sql);
    }
    *e = (cached_statement){key, len, hash, stmt, ++c->clock, true, rows};
    s->slot = victim;
}

/* Pushes a statement userdata for the connection at db_idx. `scoped`: to-be-closed, given
 * back when the calling C function returns or raises. */
static statement *push_statement(lua_State *L, int db_idx, bool scoped)
{
    statement *s = lua_newuserdatauv(L, sizeof *s, 1);
    s->conn = lua_touserdata(L, db_idx);
    s->stmt = NULL;
    s->slot = -1;
    luaL_setmetatable(L, STATEMENT_METATABLE);
    lua_pushvalue(L, db_idx);
    lua_setiuservalue(L, -2, 1);
    if (scoped)
        lua_toclose(L, -1);
    return s;
}

/* The common start of run, first and query: db, sql and parameters at 1, 2 and 3.., a
 * scoped statement prepared and bound. */
static statement *start_statement(lua_State *L, bool rows, const char *op)
{
    check_open(L, op);
    size_t len;
    const char *sql = luaL_checklstring(L, 2, &len);
    int nargs = lua_gettop(L) - 2;
    statement *s = push_statement(L, 1, true);
    statement_prepare(L, s, 1, sql, len, rows, op);
    bind_arguments(L, s, 1, 3, nargs, SQLITE_STATIC, op);
    return s;
}

/* ---- methods ---- */

static int l_run(lua_State *L)
{
    statement *s = start_statement(L, false, "db:run");
    sqlite3 *db = s->conn->db;
    sqlite3_int64 before = sqlite_api.sqlite3_total_changes64(db);
    int rc;
    while ((rc = sqlite_api.sqlite3_step(s->stmt)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE)
        return raise_statement_error(L, s, 1, "db:run");
    /* sqlite3_changes keeps the count of the last INSERT, UPDATE or DELETE: a statement that
     * changed nothing (CREATE TABLE, a SELECT) must report 0, not that stale count */
    lua_pushinteger(L, sqlite_api.sqlite3_total_changes64(db) != before
                           ? sqlite_api.sqlite3_changes64(db)
                           : 0);
    lua_pushinteger(L, sqlite_api.sqlite3_last_insert_rowid(db));
    return 2;
}

static int l_first(lua_State *L)
{
    statement *s = start_statement(L, true, "db:first");
    int rc = sqlite_api.sqlite3_step(s->stmt);
    if (rc == SQLITE_ROW)
        push_row(L, s, 1, "db:first");
    else if (rc == SQLITE_DONE)
        lua_pushnil(L);
    else
        return raise_statement_error(L, s, 1, "db:first");
    return 1;
}

static int l_query(lua_State *L)
{
    statement *s = start_statement(L, true, "db:query");
    lua_newtable(L);
    int rc;
    lua_Integer n = 0;
    while ((rc = sqlite_api.sqlite3_step(s->stmt)) == SQLITE_ROW) {
        push_row(L, s, 1, "db:query");
        lua_rawseti(L, -2, ++n);
    }
    if (rc != SQLITE_DONE)
        return raise_statement_error(L, s, 1, "db:query");
    return 1;
}

/* The iterator of db:rows: (statement) -> row | nil. The statement goes back to the cache as
 * soon as the rows end; the loop's closing value gives it back on break or error. */
static int rows_next(lua_State *L)
{
    statement *s = luaL_checkudata(L, 1, STATEMENT_METATABLE);
    if (!s->stmt)
        return 0;
    lua_getiuservalue(L, 1, 1);
    int db_idx = lua_gettop(L);
    if (!s->conn->db) {
        statement_release(s);
        return raise_usage(L, "db:rows: the database %s was closed during the loop",
                           push_database_name(L, db_idx));
    }
    int rc = sqlite_api.sqlite3_step(s->stmt);
    if (rc == SQLITE_ROW) {
        push_row(L, s, db_idx, "db:rows");
        return 1;
    }
    if (rc == SQLITE_DONE) {
        statement_release(s);
        return 0;
    }
    return raise_statement_error(L, s, db_idx, "db:rows");
}

static int l_rows(lua_State *L)
{
    /* prepared and bound under a scoped statement (an error gives it back), then handed to
     * the loop's own statement, which nothing can interrupt */
    statement *setup = start_statement(L, true, "db:rows");
    lua_pushcfunction(L, rows_next);
    statement *loop = push_statement(L, 1, false);
    loop->stmt = setup->stmt;
    loop->slot = setup->slot;
    setup->stmt = NULL;
    lua_pushnil(L);
    lua_pushvalue(L, -2); /* the closing value: `break` or an error gives the statement back */
    return 4;
}

/* Runs one statement without parameters that no Lua code can interrupt (transaction
 * control, pragmas). Returns SQLite's result code; on success `out` (when given) holds the
 * first column of the first row. The error stays readable with sqlite3_errmsg. */
static int exec_plain(sqlite3 *db, const char *sql, char *out, size_t outlen)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite_api.sqlite3_prepare_v3(db, sql, -1, 0, &stmt, NULL);
    if (rc != SQLITE_OK)
        return rc;
    bool first = true;
    while ((rc = sqlite_api.sqlite3_step(stmt)) == SQLITE_ROW) {
        if (first && out) {
            const unsigned char *text = sqlite_api.sqlite3_column_text(stmt, 0);
            snprintf(out, outlen, "%s", text ? (const char *)text : "");
        }
        first = false;
    }
    /* finalize reports the step's error and leaves its message on the connection */
    return sqlite_api.sqlite3_finalize(stmt);
}

/* The length of the first statement of sql, up to its ';': SQL that failed to prepare has
 * no tail to say where it ends, and a message should quote that statement alone. */
static size_t first_statement_length(const char *sql, size_t len)
{
    char prefix[1024];
    size_t limit = len < sizeof prefix - 1 ? len : sizeof prefix - 1;
    for (size_t i = 0; i < limit; i++) {
        prefix[i] = sql[i];
        if (sql[i] == ';') {
            prefix[i + 1] = '\0';
            if (sqlite_api.sqlite3_complete(prefix))
                return i + 1;
        }
    }
    return len;
}

static int l_exec(lua_State *L)
{
    connection *c = check_open(L, "db:exec");
    size_t len;
    const char *sql = luaL_checklstring(L, 2, &len);
    if (lua_gettop(L) > 2)
        return raise_usage(L, "db:exec: takes no parameters (db:run, db:first, db:rows and "
                              "db:query bind values)");
    if (len >= INT_MAX)
        return raise_usage(L, "db:exec: the SQL text is too long");
    const char *p = sql, *end = sql + len;
    char snippet[SQL_SNIPPET_MAX + 4];
    while (p < end) {
        sqlite3_stmt *stmt = NULL;
        const char *tail = NULL;
        int rc = sqlite_api.sqlite3_prepare_v3(c->db, p, (int)(end - p), 0, &stmt, &tail);
        if (rc != SQLITE_OK) {
            sql_snippet(snippet, p, first_statement_length(p, (size_t)(end - p)));
            return raise_connection_error(L, 1, "db:exec", snippet);
        }
        if (!stmt) { /* white space or a comment */
            if (!tail || tail <= p)
                break;
            p = tail;
            continue;
        }
        const char *text = sqlite_api.sqlite3_sql(stmt);
        sql_snippet(snippet, text, strlen(text));
        if (sqlite_api.sqlite3_bind_parameter_count(stmt) > 0) {
            sqlite_api.sqlite3_finalize(stmt);
            return raise_usage(L, "db:exec: the SQL has parameters, which db:exec leaves NULL: "
                                  "bind their values with db:run (in %s)", snippet);
        }
        while ((rc = sqlite_api.sqlite3_step(stmt)) == SQLITE_ROW) {
        }
        rc = sqlite_api.sqlite3_finalize(stmt);
        if (rc != SQLITE_OK)
            return raise_connection_error(L, 1, "db:exec", snippet);
        p = tail;
    }
    return 0;
}

/* db:transaction(fn, ...): BEGIN IMMEDIATE (the write lock up front, so two writers wait
 * for each other at the start instead of failing at their first write), fn(...), COMMIT; or
 * ROLLBACK and the same error raised again. Inside another transaction, a SAVEPOINT. fn runs
 * unprotected against yields (a transaction must not stay open while another coroutine
 * uses the connection): yielding inside it raises, and rolls back. */
static int l_transaction(lua_State *L)
{
    connection *c = check_open(L, "db:transaction");
    luaL_checktype(L, 2, LUA_TFUNCTION);
    int nargs = lua_gettop(L) - 2;
    bool outermost = sqlite_api.sqlite3_get_autocommit(c->db);
    char begin[64], commit[64], rollback[64], release[64];
    if (outermost) {
        snprintf(begin, sizeof begin, "%s", c->readonly ? "BEGIN" : "BEGIN IMMEDIATE");
        snprintf(commit, sizeof commit, "COMMIT");
        snprintf(rollback, sizeof rollback, "ROLLBACK");
        release[0] = '\0';
    } else {
        int level = c->transaction_depth + 1;
        snprintf(begin, sizeof begin, "SAVEPOINT performlua_%d", level);
        snprintf(commit, sizeof commit, "RELEASE performlua_%d", level);
        snprintf(rollback, sizeof rollback, "ROLLBACK TO performlua_%d", level);
        snprintf(release, sizeof release, "RELEASE performlua_%d", level);
    }
    if (exec_plain(c->db, begin, NULL, 0) != SQLITE_OK)
        return raise_connection_error(L, 1, "db:transaction", begin);

    c->transaction_depth++;
    int status = lua_pcall(L, nargs, LUA_MULTRET, 0);
    c->transaction_depth--;

    if (!c->db) { /* fn closed the database: SQLite rolled back */
        if (status != LUA_OK)
            return lua_error(L);
        return raise_usage(L, "db:transaction: the function closed the database, so nothing "
                              "was committed");
    }
    if (status != LUA_OK) {
        /* SQLite may have rolled back already (some I/O and memory errors do) */
        if (!sqlite_api.sqlite3_get_autocommit(c->db)) {
            exec_plain(c->db, rollback, NULL, 0);
            if (release[0])
                exec_plain(c->db, release, NULL, 0);
        }
        return lua_error(L);
    }
    if (outermost && sqlite_api.sqlite3_get_autocommit(c->db))
        return raise_usage(L, "db:transaction: the function ended the transaction itself "
                              "(raise an error to roll back; db:transaction commits)");
    if (exec_plain(c->db, commit, NULL, 0) != SQLITE_OK) {
        /* a failed COMMIT leaves the transaction open: report SQLite's reason, roll back */
        int code = sqlite_api.sqlite3_extended_errcode(c->db);
        char message[256];
        snprintf(message, sizeof message, "%s", sqlite_api.sqlite3_errmsg(c->db));
        if (!sqlite_api.sqlite3_get_autocommit(c->db)) {
            exec_plain(c->db, rollback, NULL, 0);
            if (release[0])
                exec_plain(c->db, release, NULL, 0);
        }
        const char *database = push_database_name(L, 1);
        push_storage_error(L, database, "db:transaction", code, message, error_hint(L, c, code),
                           commit);
        return lua_error(L);
    }
    return lua_gettop(L) - 1;
}

static int l_changes(lua_State *L)
{
    connection *c = check_open(L, "db:changes");
    lua_pushinteger(L, sqlite_api.sqlite3_changes64(c->db));
    return 1;
}

static int l_last_insert_rowid(lua_State *L)
{
    connection *c = check_open(L, "db:last_insert_rowid");
    lua_pushinteger(L, sqlite_api.sqlite3_last_insert_rowid(c->db));
    return 1;
}

static int l_close(lua_State *L)
{
    connection_close(luaL_checkudata(L, 1, CONNECTION_METATABLE));
    return 0;
}

static int l_tostring(lua_State *L)
{
    connection *c = luaL_checkudata(L, 1, CONNECTION_METATABLE);
    const char *name = push_database_name(L, 1);
    lua_pushfstring(L, "sqlite database %s%s", name, c->db ? "" : " (closed)");
    return 1;
}

/* ---- opening ---- */

typedef struct open_options {
    bool readonly;
    bool create;
    int wal; /* -1: as the file has it */
    const char *synchronous;
    int busy_timeout_ms;
    bool foreign_keys;
} open_options;

static bool opt_boolean(lua_State *L, int t, const char *name, bool dflt)
{
    int type = lua_getfield(L, t, name);
    bool v = type == LUA_TNIL ? dflt : lua_toboolean(L, -1);
    if (type != LUA_TNIL && type != LUA_TBOOLEAN)
        raise_usage(L, "sqlite_open: option '%s' must be a boolean, not a %s", name,
                    lua_typename(L, type));
    lua_pop(L, 1);
    return v;
}

static open_options read_options(lua_State *L, int t)
{
    open_options o = {false, true, -1, "full", DEFAULT_BUSY_TIMEOUT_MS, true};
    if (lua_isnoneornil(L, t))
        return o;
    luaL_checktype(L, t, LUA_TTABLE);
    static const char *const known[] = {"readonly", "create", "wal", "synchronous",
                                        "busy_timeout_ms", "foreign_keys"};
    /* the unknown key that sorts first, so the message does not depend on hash order */
    const char *unknown = NULL;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            raise_usage(L, "sqlite_open: options are named (readonly, create, wal, "
                           "synchronous, busy_timeout_ms, foreign_keys)");
        const char *key = lua_tostring(L, -1);
        bool found = false;
        for (size_t i = 0; i < sizeof known / sizeof *known; i++)
            found = found || strcmp(key, known[i]) == 0;
        if (!found && (!unknown || strcmp(key, unknown) < 0))
            unknown = key; /* the key stays alive in the options table */
    }
    if (unknown)
        raise_usage(L, "sqlite_open: unknown option '%s' (options: readonly, create, wal, "
                       "synchronous, busy_timeout_ms, foreign_keys)", unknown);

    o.readonly = opt_boolean(L, t, "readonly", false);
    o.create = opt_boolean(L, t, "create", !o.readonly);
    if (o.readonly && o.create)
        raise_usage(L, "sqlite_open: a read-only database cannot be created (leave out "
                       "create, or readonly)");
    int type = lua_getfield(L, t, "wal");
    if (type != LUA_TNIL)
        o.wal = opt_boolean(L, t, "wal", false);
    lua_pop(L, 1);
    if (o.readonly && o.wal != -1)
        raise_usage(L, "sqlite_open: the journal mode of a read-only database cannot be set "
                       "(WAL is kept in the file: open it once read-write with wal = true)");

    type = lua_getfield(L, t, "synchronous");
    if (type != LUA_TNIL) {
        static const char *const levels[] = {"off", "normal", "full", "extra"};
        const char *level = type == LUA_TSTRING ? lua_tostring(L, -1) : "";
        o.synchronous = NULL;
        for (size_t i = 0; i < sizeof levels / sizeof *levels; i++)
            if (strcmp(level, levels[i]) == 0)
                o.synchronous = levels[i];
        if (!o.synchronous)
            raise_usage(L, "sqlite_open: option 'synchronous' must be \"off\", \"normal\", "
                           "\"full\" or \"extra\"");
    }
    lua_pop(L, 1);

    type = lua_getfield(L, t, "busy_timeout_ms");
    if (type != LUA_TNIL) {
        int exact = 0;
        lua_Integer ms = lua_tointegerx(L, -1, &exact);
        if (type != LUA_TNUMBER || !exact || ms < 0 || ms > INT_MAX)
            raise_usage(L, "sqlite_open: option 'busy_timeout_ms' must be a whole number of "
                           "milliseconds, 0 or more");
        o.busy_timeout_ms = (int)ms;
    }
    lua_pop(L, 1);
    o.foreign_keys = opt_boolean(L, t, "foreign_keys", true);
    return o;
}

/* Why a file could not be opened, when the path says more than SQLite's "unable to open
 * database file". Pushed (or NULL). */
static const char *cantopen_hint(lua_State *L, const char *path, const open_options *o)
{
    if (strncmp(path, "file:", 5) == 0 || strcmp(path, ":memory:") == 0)
        return NULL;
    struct stat st;
    if (stat(path, &st) == 0)
        return S_ISDIR(st.st_mode) ? lua_pushliteral(L, " (it is a directory)") : NULL;
    const char *slash = strrchr(path, '/');
    if (slash && slash != path) {
        const char *dir = lua_pushlstring(L, path, (size_t)(slash - path));
        if (stat(dir, &st) != 0)
            return lua_pushfstring(L, " (the directory %s does not exist)", dir);
        if (!S_ISDIR(st.st_mode))
            return lua_pushfstring(L, " (%s is not a directory)", dir);
    }
    if (!o->create)
        return lua_pushliteral(L, " (the file does not exist)");
    return NULL;
}

/* Sets the connection up as the options say, and reads the file's header so that a file
 * that is no database fails here, naming itself, rather than at the first statement. */
static int configure(connection *c, const open_options *o)
{
    sqlite3 *db = c->db;
    sqlite_api.sqlite3_extended_result_codes(db, 1);
    /* no writable_schema and friends: SQL cannot corrupt the file on purpose */
    sqlite_api.sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
    /* "text" is an identifier, never a string literal: a misspelt column is an error */
    sqlite_api.sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DML, 0, (int *)NULL);
    sqlite_api.sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DDL, 0, (int *)NULL);
    sqlite_api.sqlite3_busy_timeout(db, o->busy_timeout_ms);
    int rc = exec_plain(db, "PRAGMA schema_version", NULL, 0);
    if (rc != SQLITE_OK)
        return rc;
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA foreign_keys = %s", o->foreign_keys ? "ON" : "OFF");
    if ((rc = exec_plain(db, sql, NULL, 0)) != SQLITE_OK)
        return rc;
    snprintf(sql, sizeof sql, "PRAGMA synchronous = %s", o->synchronous);
    if ((rc = exec_plain(db, sql, NULL, 0)) != SQLITE_OK)
        return rc;
    return SQLITE_OK;
}

static int l_sqlite_open(lua_State *L)
{
    size_t path_len;
    const char *path = luaL_checklstring(L, 1, &path_len);
    if (strlen(path) != path_len)
        return raise_usage(L, "sqlite_open: the path contains a NUL byte");
    open_options o = read_options(L, 2);
    lua_settop(L, 2);

    connection *c = lua_newuserdatauv(L, sizeof *c, 1);
    memset(c, 0, sizeof *c);
    luaL_setmetatable(L, CONNECTION_METATABLE);
    const char *query = strncmp(path, "file:", 5) == 0 ? strchr(path, '?') : NULL;
    lua_pushlstring(L, path, query ? (size_t)(query - path) : path_len);
    lua_setiuservalue(L, 3, 1);
    c->readonly = o.readonly;
    c->busy_timeout_ms = o.busy_timeout_ms;

    char why[sizeof sqlite_lib.error];
    if (!pl_dynlib_load(&sqlite_lib, why, sizeof why)) {
        lua_getiuservalue(L, 3, 1);
        push_storage_error(L, lua_tostring(L, -1), NULL, SQLITE_ERROR, why, NULL, NULL);
        return lua_error(L);
    }
    if (!sqlite_api.sqlite3_threadsafe()) {
        lua_getiuservalue(L, 3, 1);
        push_storage_error(L, lua_tostring(L, -1), NULL, SQLITE_MISUSE,
                           "this SQLite library was built without thread support "
                           "(SQLITE_THREADSAFE=0)", NULL, NULL);
        return lua_error(L);
    }
    int flags = SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX |
                (o.readonly ? SQLITE_OPEN_READONLY
                            : SQLITE_OPEN_READWRITE | (o.create ? SQLITE_OPEN_CREATE : 0));
    int rc = sqlite_api.sqlite3_open_v2(path, &c->db, flags, NULL);
    if (rc == SQLITE_OK)
        rc = configure(c, &o);
    const char *hint = NULL;
    if (rc == SQLITE_OK && !o.readonly && sqlite_api.sqlite3_db_readonly(c->db, "main") == 1) {
        /* SQLite falls back to reading a file it may not write; a journal or an account
         * that cannot be written must fail here, not at the first write */
        rc = SQLITE_READONLY;
        hint = "the file or its directory is write-protected (readonly = true opens it for "
               "reading)";
    }
    char mode[32] = "";
    if (rc == SQLITE_OK && o.wal != -1) {
        const char *wanted = o.wal ? "wal" : "delete";
        rc = exec_plain(c->db, o.wal ? "PRAGMA journal_mode = WAL" : "PRAGMA journal_mode = DELETE",
                        mode, sizeof mode);
        /* SQLite answers with the mode it kept; an in-memory database keeps "memory" */
        if (rc == SQLITE_OK && strcmp(mode, wanted) != 0 && strcmp(mode, "memory") != 0) {
            rc = SQLITE_ERROR;
            hint = lua_pushfstring(L, "the journal mode cannot be set to %s here (it stays '%s')",
                                   wanted, mode);
        }
    }
    if (rc == SQLITE_OK)
        return 1;

    lua_getiuservalue(L, 3, 1);
    const char *database = lua_tostring(L, -1);
    int code = c->db && !hint ? sqlite_api.sqlite3_extended_errcode(c->db) : rc;
    const char *message = hint    ? hint
                          : c->db ? sqlite_api.sqlite3_errmsg(c->db)
                                  : sqlite_api.sqlite3_errstr(rc);
    const char *extra = (code & 0xff) == SQLITE_CANTOPEN ? cantopen_hint(L, path, &o)
                                                         : error_hint(L, c, code);
    push_storage_error(L, database, NULL, code, message, extra, NULL);
    connection_close(c);
    return lua_error(L);
}

/* core.sqlite_blob(s): s bound as a BLOB whatever its bytes. */
static int l_sqlite_blob(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TSTRING);
    lua_createtable(L, 1, 0);
    lua_pushvalue(L, 1);
    lua_rawseti(L, -2, 1);
    luaL_setmetatable(L, BLOB_METATABLE);
    return 1;
}

static int l_blob_tostring(lua_State *L)
{
    lua_rawgeti(L, 1, 1);
    lua_pushfstring(L, "sqlite_blob (%I bytes)", (lua_Integer)luaL_len(L, -1));
    return 1;
}

static int l_connection_gc(lua_State *L)
{
    connection_close(lua_touserdata(L, 1));
    return 0;
}

void pl_open_sqlite(lua_State *L)
{
    static const luaL_Reg connection_methods[] = {
        {"exec", l_exec},
        {"run", l_run},
        {"first", l_first},
        {"rows", l_rows},
        {"query", l_query},
        {"transaction", l_transaction},
        {"changes", l_changes},
        {"last_insert_rowid", l_last_insert_rowid},
        {"close", l_close},
        {NULL, NULL},
    };
    static const luaL_Reg connection_metamethods[] = {
        {"__gc", l_connection_gc},
        {"__close", l_connection_gc},
        {"__tostring", l_tostring},
        {NULL, NULL},
    };
    static const luaL_Reg statement_metamethods[] = {
        {"__gc", l_statement_release},
        {"__close", l_statement_release},
        {NULL, NULL},
    };
    static const luaL_Reg blob_metamethods[] = {
        {"__tostring", l_blob_tostring},
        {NULL, NULL},
    };
    static const luaL_Reg module_functions[] = {
        {"sqlite_open", l_sqlite_open},
        {"sqlite_blob", l_sqlite_blob},
        {NULL, NULL},
    };
    luaL_newmetatable(L, CONNECTION_METATABLE);
    luaL_setfuncs(L, connection_metamethods, 0);
    luaL_newlib(L, connection_methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    luaL_newmetatable(L, STATEMENT_METATABLE);
    luaL_setfuncs(L, statement_metamethods, 0);
    lua_pop(L, 1);
    luaL_newmetatable(L, BLOB_METATABLE);
    luaL_setfuncs(L, blob_metamethods, 0);
    lua_pop(L, 1);
    luaL_setfuncs(L, module_functions, 0);
}
