/* Several threads, each with its own lua_State and its own connection (the sandbox's model),
 * write to one WAL database file through the SQLite binding at the same time: every
 * transaction of every thread must be there afterwards, and the file intact. Run under the
 * ASan build too (memory/asan), which catches a binding that shares state between threads. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>
#include <sqlite3.h>

#include "bind/core.h"

#define THREADS 4
#define TRANSACTIONS 150
#define ROWS_PER_TRANSACTION 4

#include "check.h"

static const char *const writer_lua =
    "local path, me, transactions, rows = ...\n"
    "local core = require 'performlua.core'\n"
    "local db <close> = core.sqlite_open(path, {wal = true, busy_timeout_ms = 60000})\n"
    "for t = 1, transactions do\n"
    "  db:transaction(function()\n"
    "    for r = 1, rows do\n"
    "      db:run('INSERT INTO t (thread, tx, n) VALUES (?, ?, ?)', me, t, r)\n"
    "    end\n"
    "    -- a read inside the transaction sees this thread's own rows\n"
    "    local mine = db:first('SELECT count(*) AS n FROM t WHERE thread = ?', me).n\n"
    "    assert(mine == t * rows, 'thread ' .. me .. ' sees ' .. mine .. ' of its rows')\n"
    "  end)\n"
    "end\n"
    "for row in db:rows('SELECT count(*) AS n FROM t WHERE thread = ?', me) do\n"
    "  assert(row.n == transactions * rows)\n"
    "end\n";

typedef struct writer {
    pthread_t thread;
    const char *path;
    int id;
    char error[512];
} writer;

static lua_State *new_state(void)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    pl_core_install(L);
    return L;
}

static void *write_rows(void *arg)
{
    writer *w = arg;
    lua_State *L = new_state();
    if (luaL_loadstring(L, writer_lua) != LUA_OK) {
        snprintf(w->error, sizeof w->error, "%s", lua_tostring(L, -1));
    } else {
        lua_pushstring(L, w->path);
        lua_pushinteger(L, w->id);
        lua_pushinteger(L, TRANSACTIONS);
        lua_pushinteger(L, ROWS_PER_TRANSACTION);
        if (lua_pcall(L, 4, 0, 0) != LUA_OK)
            snprintf(w->error, sizeof w->error, "%s", luaL_tolstring(L, -1, NULL));
    }
    lua_close(L);
    return NULL;
}

/* Runs Lua on a fresh state; returns the integer it returns, or -1 after reporting. */
static long long run_lua(const char *code, const char *path)
{
    lua_State *L = new_state();
    long long result = -1;
    if (luaL_loadstring(L, code) == LUA_OK) {
        lua_pushstring(L, path);
        if (lua_pcall(L, 1, 1, 0) == LUA_OK)
            result = lua_tointeger(L, -1);
    }
    if (result < 0)
        fprintf(stderr, "%s\n", luaL_tolstring(L, -1, NULL));
    lua_close(L);
    return result;
}

int main(void)
{
    /* the library the binding is linked against must be built for threads */
    CHECK(sqlite3_threadsafe() != 0);

    char dir[] = "/tmp/performlua-sqlite-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char path[256];
    snprintf(path, sizeof path, "%s/threads.db", dir);

    CHECK(run_lua("local db <close> = require('performlua.core').sqlite_open(..., {wal = true})\n"
                  "db:exec('CREATE TABLE t (thread INTEGER, tx INTEGER, n INTEGER, "
                  "PRIMARY KEY (thread, tx, n))')\n"
                  "return 0",
                  path) == 0);

    writer writers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        writers[i] = (writer){.path = path, .id = i + 1};
        CHECK(pthread_create(&writers[i].thread, NULL, write_rows, &writers[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(writers[i].thread, NULL);
        if (writers[i].error[0]) {
            fprintf(stderr, "thread %d: %s\n", i + 1, writers[i].error);
            failures++;
        }
    }

    long long total = run_lua("local db <close> = require('performlua.core').sqlite_open(...)\n"
                              "assert(db:first('PRAGMA integrity_check').integrity_check == 'ok')\n"
                              "return db:first('SELECT count(*) AS n FROM t').n",
                              path);
    CHECK(total == (long long)THREADS * TRANSACTIONS * ROWS_PER_TRANSACTION);

    char files[3][300];
    snprintf(files[0], sizeof files[0], "%s", path);
    snprintf(files[1], sizeof files[1], "%s-wal", path);
    snprintf(files[2], sizeof files[2], "%s-shm", path);
    for (int i = 0; i < 3; i++)
        unlink(files[i]);
    rmdir(dir);

    return check_report("test_bind_sqlite_threads");
}
