/* What the Lua side needs from the operating system, and nothing more.
 *
 *   core.monotonic() -> seconds (float) on a clock that never jumps
 *   core.realtime()  -> seconds since the epoch (float)
 *   core.sleep(seconds)                 blocks the thread (the event loop uses curl instead)
 *   core.isatty("stdin"|"stdout"|"stderr"|fd) -> boolean
 *   core.terminal_columns("stdin"|"stdout"|"stderr"|fd) -> width of that terminal, or nil
 *   core.getuid() -> uid;  core.getpid() -> pid
 *   core.file_info(path) -> {mode=, uid=, size=, is_dir=, is_file=} | nil, message
 *       mode holds the permission bits only (e.g. 384 == 0600)
 *   core.list_dir(path) -> {name, ...} (unsorted, no "." or "..") | nil, message
 *   core.chmod(path, mode) -> true | nil, message
 *   core.mkdir_p(path, mode) -> true | nil, message   creates missing directories with `mode`
 *   core.write_file_atomic(path, data, mode) -> true | nil, message
 *       writes a temporary file in the same directory created with `mode` (never wider, whatever
 *       the umask), flushes it to disk and renames it over `path`: readers see the old or the new
 *       content, never a torn file, and the secret is never briefly world-readable.
 *   core.remove_stale_temporaries(path) -> number removed
 *       removes the temporary files write_file_atomic(path, ...) left behind when a process was
 *       killed between creating and renaming one ("<path>.tmp.<pid>.<hex>" whose process is
 *       gone, or is this one: its own writes finish before returning).
 *   core.random() -> float in [0, 1) from the kernel's generator (backoff jitter)
 *   core.random_hex(nbytes) -> hex string (tokens, temporary names)
 *   core.uuid() -> a random version 4 UUID, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" (ids)
 *       All three come from util/random.h, the runtime's one source of randomness.
 *   core.xdg_dir("config"|"cache"|"state") -> directory per the XDG base directory spec
 *   core.hash_hex(text) -> 16 hex digits (FNV-1a 64; file names, not security)
 *   core.setenv(name, value | nil)      sets or removes an environment variable (tests)
 *   core.call_with_memory_limit(bytes, f, ...) -> reached, f's results
 *       calls f(...) while the Lua state may allocate at most `bytes` more than it frees (a
 *       refused allocation raises "not enough memory" where it happens, like a real one);
 *       `reached` tells whether the limit refused one. An error of f's propagates. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>

#include "bind/core.h"
#include "util/random.h"

static int push_failure(lua_State *L, const char *what, const char *path, int err)
{
    lua_pushnil(L);
    lua_pushfstring(L, "%s %s: %s", what, path, strerror(err));
    return 2;
}

static int l_monotonic(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
    return 1;
}

static int l_realtime(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
    return 1;
}

static int l_sleep(lua_State *L)
{
    double s = luaL_checknumber(L, 1);
    if (!(s > 0)) /* NaN too: converting it to time_t is undefined */
        return 0;
    if (s > 1e9) /* about 31 years; beyond time_t's range is undefined too */
        s = 1e9;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
    return 0;
}

/* A descriptor given by name ("stdin", "stdout", "stderr") or number. */
static int fd_arg(lua_State *L, int arg)
{
    if (lua_type(L, arg) == LUA_TSTRING) {
        static const char *const names[] = {"stdin", "stdout", "stderr", NULL};
        return luaL_checkoption(L, arg, NULL, names);
    }
    return (int)luaL_checkinteger(L, arg);
}

static int l_isatty(lua_State *L)
{
    lua_pushboolean(L, isatty(fd_arg(L, 1)));
    return 1;
}

/* The kernel's idea of the terminal's width: a line longer than this wraps, and a "\r"-drawn
 * progress line then leaves a copy behind on every redraw. */
static int l_terminal_columns(lua_State *L)
{
    struct winsize ws;
    if (ioctl(fd_arg(L, 1), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        lua_pushinteger(L, ws.ws_col);
    else
        lua_pushnil(L);
    return 1;
}

static int l_getuid(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)getuid());
    return 1;
}

static int l_getpid(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)getpid());
    return 1;
}

static int l_file_info(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    struct stat st;
    if (stat(path, &st) != 0)
        return push_failure(L, "cannot read", path, errno);
    lua_createtable(L, 0, 5);
    lua_pushinteger(L, (lua_Integer)(st.st_mode & 07777));
    lua_setfield(L, -2, "mode");
    lua_pushinteger(L, (lua_Integer)st.st_uid);
    lua_setfield(L, -2, "uid");
    lua_pushinteger(L, (lua_Integer)st.st_size);
    lua_setfield(L, -2, "size");
    lua_pushboolean(L, S_ISDIR(st.st_mode));
    lua_setfield(L, -2, "is_dir");
    lua_pushboolean(L, S_ISREG(st.st_mode));
    lua_setfield(L, -2, "is_file");
    return 1;
}

/* list_dir(path) -> {name, ...} (in the directory's order, without "." and ".."), or nil,
 * message. For the sandbox's --seed DIR: one CSV file per data extension. Only an out-of-memory
 * error in lua_pushstring could leave the directory handle open, as with any Lua allocation. */
static int l_list_dir(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    DIR *d = opendir(path);
    if (!d)
        return push_failure(L, "cannot read the directory", path, errno);
    lua_newtable(L);
    lua_Integer n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        lua_pushstring(L, e->d_name);
        lua_rawseti(L, -2, ++n);
    }
    closedir(d);
    return 1;
}

static int l_chmod(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    mode_t mode = (mode_t)luaL_checkinteger(L, 2);
    if (chmod(path, mode) != 0)
        return push_failure(L, "cannot change the mode of", path, errno);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_mkdir_p(lua_State *L)
{
    size_t len;
    const char *path = luaL_checklstring(L, 1, &len);
    mode_t mode = (mode_t)luaL_optinteger(L, 2, 0700);
    if (len == 0 || len >= 4096) {
        lua_pushnil(L);
        lua_pushliteral(L, "invalid directory path");
        return 2;
    }
    char buf[4096];
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, mode) != 0 && errno != EEXIST)
            return push_failure(L, "cannot create directory", buf, errno);
        buf[i] = saved;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return push_failure(L, "not a directory:", path, ENOTDIR);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_write_file_atomic(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    size_t len;
    const char *data = luaL_checklstring(L, 2, &len);
    mode_t mode = (mode_t)luaL_optinteger(L, 3, 0600);
    unsigned int salt = 0;
    if (!pl_random_bytes(&salt, sizeof salt))
        salt = (unsigned int)time(NULL); /* O_EXCL below still refuses a clash */
    char suffix[48];
    snprintf(suffix, sizeof suffix, ".tmp.%d.%x", (int)getpid(), salt);
    const char *tmp = lua_pushfstring(L, "%s%s", path, suffix);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return push_failure(L, "cannot create", tmp, errno);
    int err = 0;
    if (fchmod(fd, mode) != 0)
        err = errno;
    size_t done = 0;
    while (!err && done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            err = errno;
        } else {
            done += (size_t)n;
        }
    }
    if (!err && fsync(fd) != 0)
        err = errno;
    if (close(fd) != 0 && !err)
        err = errno;
    if (!err && rename(tmp, path) != 0)
        err = errno;
    if (err) {
        unlink(tmp);
        return push_failure(L, "cannot write", path, err);
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int l_remove_stale_temporaries(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dir =
        slash ? lua_pushlstring(L, path, (size_t)(slash - path + (slash == path))) : ".";
    const char *prefix = lua_pushfstring(L, "%s.tmp.", base);
    size_t prefix_len = strlen(prefix);
    lua_Integer removed = 0;
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strncmp(e->d_name, prefix, prefix_len) != 0)
                continue;
            char *end;
            long pid = strtol(e->d_name + prefix_len, &end, 10);
            if (end == e->d_name + prefix_len || *end != '.' || pid <= 0)
                continue;
            if (pid != (long)getpid() && (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
                continue; /* its process may still be writing it */
            const char *victim = lua_pushfstring(L, "%s/%s", dir, e->d_name);
            if (unlink(victim) == 0)
                removed++;
            lua_pop(L, 1);
        }
        closedir(d);
    }
    lua_pushinteger(L, removed);
    return 1;
}

static int random_failed(lua_State *L)
{
    return luaL_error(L, "the kernel's random generator failed: %s", strerror(errno));
}

static int l_random(lua_State *L)
{
    double d;
    if (!pl_random_fraction(&d))
        return random_failed(L);
    lua_pushnumber(L, (lua_Number)d);
    return 1;
}

static int l_random_hex(lua_State *L)
{
    lua_Integer n = luaL_optinteger(L, 1, 16);
    luaL_argcheck(L, n > 0 && n <= 256, 1, "between 1 and 256 bytes");
    unsigned char bytes[256];
    if (!pl_random_bytes(bytes, (size_t)n))
        return random_failed(L);
    char hex[513];
    for (lua_Integer i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", bytes[i]);
    lua_pushlstring(L, hex, (size_t)(2 * n));
    return 1;
}

/* Random bytes for ids, drawn from the kernel a page at a time: every SOAP call draws a
 * correlation id, and one getrandom per call was one of its five kernel entries. The page is
 * per thread (the sandbox's threads draw ids too) and marked MADV_WIPEONFORK, so a forked
 * child finds it zeroed, that is empty, and never hands out bytes its parent handed out (nor
 * the bytes the parent will hand out next). Bytes are zeroed once handed out. Where the
 * kernel refuses MADV_WIPEONFORK (before Linux 4.14) no page is kept: one getrandom per id. */
#define ID_POOL_SIZE 4096
typedef struct id_pool {
    size_t left;                /* unused bytes, at the end of `bytes`; 0 in a forked child */
    unsigned char bytes[ID_POOL_SIZE - sizeof(size_t)];
} id_pool;

static _Thread_local id_pool *id_page;
static _Thread_local bool id_page_refused;
static pthread_key_t id_page_key; /* unmaps a thread's page when the thread ends */
static pthread_once_t id_page_once = PTHREAD_ONCE_INIT;
static bool id_page_key_made;

static void id_page_free(void *page)
{
    munmap(page, ID_POOL_SIZE);
}

static void id_page_make_key(void)
{
    id_page_key_made = pthread_key_create(&id_page_key, id_page_free) == 0;
}

static id_pool *id_pool_get(void)
{
    if (id_page || id_page_refused)
        return id_page;
    id_page_refused = true;
#ifdef MADV_WIPEONFORK
    pthread_once(&id_page_once, id_page_make_key);
    if (!id_page_key_made)
        return NULL;
    void *p = mmap(NULL, ID_POOL_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (madvise(p, ID_POOL_SIZE, MADV_WIPEONFORK) != 0 || pthread_setspecific(id_page_key, p) != 0) {
        munmap(p, ID_POOL_SIZE);
        return NULL;
    }
    id_page = p;
    id_page_refused = false;
#endif
    return id_page;
}

static bool id_bytes(unsigned char *out, size_t n)
{
    id_pool *pool = id_pool_get();
    if (!pool || n > sizeof pool->bytes)
        return pl_random_bytes(out, n);
    if (pool->left < n) {
        if (!pl_random_bytes(pool->bytes, sizeof pool->bytes))
            return false;
        pool->left = sizeof pool->bytes;
    }
    unsigned char *from = pool->bytes + sizeof pool->bytes - pool->left;
    memcpy(out, from, n);
    memset(from, 0, n);
    pool->left -= n;
    return true;
}

/* A version 4 UUID from the id pool, as pl_random_uuid makes it from the kernel. */
static bool pooled_uuid(char *out)
{
    unsigned char b[16];
    if (!id_bytes(b, sizeof b))
        return false;
    pl_uuid_from_bytes(b, out);
    return true;
}

static int l_uuid(lua_State *L)
{
    char uuid[PL_UUID_SIZE];
    if (!pooled_uuid(uuid))
        return random_failed(L);
    lua_pushlstring(L, uuid, PL_UUID_LENGTH);
    return 1;
}

static int l_xdg_dir(lua_State *L)
{
    static const char *const kinds[] = {"config", "cache", "state", NULL};
    static const char *const vars[] = {"XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"};
    static const char *const fallbacks[] = {"/.config", "/.cache", "/.local/state"};
    int k = luaL_checkoption(L, 1, NULL, kinds);
    const char *v = getenv(vars[k]);
    if (v && v[0] == '/') { /* the spec says relative values are invalid and must be ignored */
        lua_pushstring(L, v);
        return 1;
    }
    const char *home = getenv("HOME");
    if (!home || home[0] != '/') {
        lua_pushnil(L);
        lua_pushfstring(L, "neither %s nor HOME is set to an absolute path", vars[k]);
        return 2;
    }
    lua_pushfstring(L, "%s%s", home, fallbacks[k]);
    return 1;
}

static int l_hash_hex(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
    lua_pushstring(L, hex);
    return 1;
}

static int l_setenv(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    int rc = lua_isnoneornil(L, 2) ? unsetenv(name) : setenv(name, luaL_checkstring(L, 2), 1);
    if (rc != 0)
        return luaL_error(L, "cannot set environment variable %s: %s", name, strerror(errno));
    return 0;
}

typedef struct limited_alloc {
    lua_Alloc base;
    void *base_ud;
    ptrdiff_t limit, used;
    bool reached;
} limited_alloc;

static void *limited_realloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    limited_alloc *a = ud;
    ptrdiff_t old = ptr ? (ptrdiff_t)osize : 0; /* with no block, osize is the object's kind */
    ptrdiff_t grow = (ptrdiff_t)nsize - old;
    if (nsize > 0 && (nsize > PTRDIFF_MAX / 2 || (grow > 0 && a->used + grow > a->limit))) {
        a->reached = true;
        return NULL;
    }
    void *p = a->base(a->base_ud, ptr, osize, nsize);
    if (p || nsize == 0)
        a->used += grow;
    return p;
}

static int l_call_with_memory_limit(lua_State *L)
{
    lua_Integer limit = luaL_checkinteger(L, 1);
    luaL_argcheck(L, limit > 0, 1, "the limit must be a number of bytes > 0");
    luaL_checktype(L, 2, LUA_TFUNCTION);
    limited_alloc a = {.limit = (ptrdiff_t)limit};
    a.base = lua_getallocf(L, &a.base_ud);
    lua_setallocf(L, limited_realloc, &a);
    int status = lua_pcall(L, lua_gettop(L) - 2, LUA_MULTRET, 0);
    lua_setallocf(L, a.base, a.base_ud); /* before anything else can allocate */
    if (status != LUA_OK)
        return lua_error(L);
    lua_pushboolean(L, a.reached);
    lua_replace(L, 1);
    return lua_gettop(L);
}

void pl_open_sys(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"monotonic", l_monotonic},
        {"realtime", l_realtime},
        {"sleep", l_sleep},
        {"isatty", l_isatty},
        {"terminal_columns", l_terminal_columns},
        {"getuid", l_getuid},
        {"getpid", l_getpid},
        {"file_info", l_file_info},
        {"list_dir", l_list_dir},
        {"chmod", l_chmod},
        {"mkdir_p", l_mkdir_p},
        {"write_file_atomic", l_write_file_atomic},
        {"remove_stale_temporaries", l_remove_stale_temporaries},
        {"random", l_random},
        {"random_hex", l_random_hex},
        {"uuid", l_uuid},
        {"xdg_dir", l_xdg_dir},
        {"hash_hex", l_hash_hex},
        {"setenv", l_setenv},
        {"call_with_memory_limit", l_call_with_memory_limit},
        {NULL, NULL},
    };
    luaL_setfuncs(L, funcs, 0);
}
