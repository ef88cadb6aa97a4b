/* core.uuid draws its random bytes from a per-thread page filled a page at a time
 * (bind/sys_bind.c). A forked child must never hand out an id its parent handed out or will
 * hand out: the page is wiped in the child (MADV_WIPEONFORK), so the child refills it from
 * the kernel. Without that, the child's next id would be exactly the parent's next one.
 * Also: ids stay well-formed version 4 UUIDs and differ across a refill of the page. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "bind/core.h"

#include "check.h"

static void next_uuid(lua_State *L, char out[37])
{
    lua_getglobal(L, "core");
    lua_getfield(L, -1, "uuid");
    lua_call(L, 0, 1);
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    CHECK(s != NULL && len == 36);
    snprintf(out, 37, "%s", s ? s : "");
    lua_pop(L, 2);
}

static bool well_formed(const char *u)
{
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? u[i] != '-' : !strchr("0123456789abcdef", u[i]))
            return false;
    }
    return u[14] == '4' && strchr("89ab", u[19]) != NULL;
}

int main(void)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    pl_core_install(L);
    CHECK(luaL_dostring(L, "core = require 'performlua.core'") == LUA_OK);

    /* well-formed and distinct over several refills of the page (4 KB: ~255 ids each) */
    char ids[1000][37];
    for (int i = 0; i < 1000; i++) {
        next_uuid(L, ids[i]);
        CHECK(well_formed(ids[i]));
    }
    int repeats = 0;
    for (int i = 0; i < 1000; i++)
        for (int j = 0; j < i; j++)
            repeats += strcmp(ids[i], ids[j]) == 0;
    CHECK(repeats == 0);

    /* fork with the page part used: the child's ids are not the parent's */
    int fds[2];
    CHECK(pipe(fds) == 0);
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        char child[3][37];
        for (int i = 0; i < 3; i++)
            next_uuid(L, child[i]);
        ssize_t w = write(fds[1], child, sizeof child);
        _exit(w == (ssize_t)sizeof child ? 0 : 1);
    }
    close(fds[1]);
    char child[3][37], parent[3][37];
    size_t got = 0;
    while (got < sizeof child) {
        ssize_t r = read(fds[0], (char *)child + got, sizeof child - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fds[0]);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(got == sizeof child);
    for (int i = 0; i < 3; i++)
        next_uuid(L, parent[i]);
    for (int i = 0; i < 3; i++) {
        CHECK(well_formed(child[i]));
        for (int j = 0; j < 3; j++)
            CHECK(strcmp(child[i], parent[j]) != 0);
        for (int j = 0; j < 1000; j++)
            CHECK(strcmp(child[i], ids[j]) != 0);
    }
    lua_close(L);
    return check_report("test_bind_uuid_fork");
}
