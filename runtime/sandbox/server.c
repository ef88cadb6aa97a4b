/* The sandbox's HTTP server glue (see server.h for the design). */
#include "sandbox/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <lauxlib.h>
#include <lualib.h>
#include <microhttpd.h>

#include "bind/core.h"
#include "util/buffer.h"

#define MAX_BODY (64u * 1024u * 1024u) /* larger requests get 413 */
#define REG_HANDLE "performlua.sandbox.handle"
#define REG_CONTROL "performlua.sandbox.control"

struct pl_sandbox {
    struct MHD_Daemon *daemon;
    lua_State *L;         /* the emulated account; only touched while holding `lock` */
    pthread_mutex_t lock;
    pthread_mutex_t stop_lock; /* guards `stopping`, signals latency waits to end */
    pthread_cond_t stop_cond;
    int stopping;
    int port;
    int latency_ms;
};

enum fault_action { ACT_ANSWER, ACT_RESET_BEFORE, ACT_RESET_AFTER, ACT_TRUNCATE };

typedef struct header {
    const char *name, *value; /* owned by MHD for the request's lifetime */
} header;

typedef struct request {
    pl_buffer body;
    int too_large;
    header *headers;
    size_t nheaders, capheaders;
    const char *method, *url;
} request;

typedef struct answer {
    int status;
    char *body; /* malloc'd */
    size_t len;
    char content_type[96];
    enum fault_action action;
} answer;

/* ---------------------------------------------------------------------------------------- */
/* Calls into the service's lua_State: always through lua_pcall, so no Lua error ever unwinds
 * through a libmicrohttpd frame. */

static int call_handle(lua_State *L)
{
    request *rq = lua_touserdata(L, 1);
    lua_settop(L, 0);
    lua_getfield(L, LUA_REGISTRYINDEX, REG_HANDLE);
    lua_createtable(L, 0, 4);
    lua_pushstring(L, rq->method);
    lua_setfield(L, -2, "method");
    lua_pushstring(L, rq->url);
    lua_setfield(L, -2, "path");
    lua_pushlstring(L, pl_buffer_text(&rq->body), rq->body.len);
    lua_setfield(L, -2, "body");
    lua_createtable(L, 0, (int)rq->nheaders);
    for (size_t i = 0; i < rq->nheaders; i++) {
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        for (const char *p = rq->headers[i].name; *p; p++)
            luaL_addchar(&b, (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : *p);
        luaL_pushresult(&b);
        lua_pushstring(L, rq->headers[i].value ? rq->headers[i].value : "");
        lua_settable(L, -3);
    }
    lua_setfield(L, -2, "headers");
    lua_call(L, 1, 1);
    luaL_checktype(L, -1, LUA_TTABLE);
    int t = lua_gettop(L);
    lua_getfield(L, t, "status");
    lua_getfield(L, t, "body");
    lua_getfield(L, t, "content_type");
    lua_getfield(L, t, "fault");
    if (!lua_isinteger(L, t + 1) || lua_type(L, t + 2) != LUA_TSTRING)
        return luaL_error(L, "the service answered without an integer status and a string body");
    return 4;
}

static void run_service(pl_sandbox *s, request *rq, answer *out)
{
    memset(out, 0, sizeof *out);
    lua_State *L = s->L;
    pthread_mutex_lock(&s->lock);
    int top = lua_gettop(L);
    lua_pushcfunction(L, call_handle);
    lua_pushlightuserdata(L, rq);
    if (lua_pcall(L, 1, 4, 0) != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        char text[1024];
        int n = snprintf(text, sizeof text, "sandbox internal error: %s\n",
                         msg ? msg : "(not a string)");
        out->status = 500;
        out->len = n < 0 ? 0 : (size_t)n >= sizeof text ? sizeof text - 1 : (size_t)n;
        out->body = malloc(out->len + 1);
        if (out->body)
            memcpy(out->body, text, out->len + 1);
        else
            out->len = 0;
        snprintf(out->content_type, sizeof out->content_type, "text/plain; charset=utf-8");
    } else {
        size_t len;
        const char *body = lua_tolstring(L, -3, &len);
        out->status = (int)lua_tointeger(L, -4);
        out->body = malloc(len ? len : 1);
        if (out->body) {
            memcpy(out->body, body, len);
            out->len = len;
        } else {
            out->status = 500;
        }
        const char *ct = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "text/xml; charset=utf-8";
        snprintf(out->content_type, sizeof out->content_type, "%s", ct);
        const char *fault = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
        if (strcmp(fault, "reset-before") == 0)
            out->action = ACT_RESET_BEFORE;
        else if (strcmp(fault, "reset-after") == 0)
            out->action = ACT_RESET_AFTER;
        else if (strcmp(fault, "truncate") == 0)
            out->action = ACT_TRUNCATE;
    }
    lua_settop(L, top);
    pthread_mutex_unlock(&s->lock);
}

/* ---------------------------------------------------------------------------------------- */
/* libmicrohttpd callbacks */

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    request *rq = cls;
    if (rq->nheaders == rq->capheaders) {
        size_t cap = rq->capheaders ? rq->capheaders * 2 : 16;
        if (cap > 256)
            return MHD_NO; /* enough headers to route a request; ignore the rest */
        header *h = realloc(rq->headers, cap * sizeof *h);
        if (!h)
            return MHD_NO;
        rq->headers = h;
        rq->capheaders = cap;
    }
    rq->headers[rq->nheaders].name = key;
    rq->headers[rq->nheaders].value = value;
    rq->nheaders++;
    return MHD_YES;
}

/* Waits out the latency; returns nonzero when the server is stopping meanwhile. */
static int wait_latency(pl_sandbox *s)
{
    pthread_mutex_lock(&s->stop_lock);
    if (s->latency_ms > 0 && !s->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += s->latency_ms / 1000;
        until.tv_nsec += (long)(s->latency_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!s->stopping) {
            if (pthread_cond_timedwait(&s->stop_cond, &s->stop_lock, &until) == ETIMEDOUT)
                break;
        }
    }
    int stopping = s->stopping;
    pthread_mutex_unlock(&s->stop_lock);
    return stopping;
}

typedef struct half_body {
    char *data;
    size_t half;
} half_body;

static ssize_t send_half(void *cls, uint64_t pos, char *buf, size_t max)
{
    half_body *hb = cls;
    if (pos >= hb->half)
        return MHD_CONTENT_READER_END_WITH_ERROR; /* MHD closes the connection here */
    size_t n = hb->half - (size_t)pos;
    if (n > max)
        n = max;
    memcpy(buf, hb->data + pos, n);
    return (ssize_t)n;
}

static void free_half(void *cls)
{
    half_body *hb = cls;
    free(hb->data);
    free(hb);
}

static enum MHD_Result queue_plain(struct MHD_Connection *c, unsigned status, const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    pl_sandbox *s = cls;
    request *rq = *con_cls;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (rq->too_large || rq->body.len + n > MAX_BODY) {
            rq->too_large = 1;
            return MHD_YES;
        }
        return pl_buffer_append(&rq->body, upload_data, n) ? MHD_YES : MHD_NO;
    }
    if (rq->too_large)
        return queue_plain(c, 413, "request body larger than 64 MB\n");
    pthread_mutex_lock(&s->stop_lock);
    int stopping = s->stopping;
    pthread_mutex_unlock(&s->stop_lock);
    if (stopping)
        return MHD_NO;

    rq->method = method;
    rq->url = url;
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, rq);
    answer a;
    run_service(s, rq, &a);
    if (wait_latency(s) || a.action == ACT_RESET_BEFORE || a.action == ACT_RESET_AFTER ||
        !a.body) {
        free(a.body);
        return MHD_NO; /* closes the connection without an answer */
    }
    struct MHD_Response *r;
    if (a.action == ACT_TRUNCATE) {
        half_body *hb = malloc(sizeof *hb);
        if (!hb) {
            free(a.body);
            return MHD_NO;
        }
        hb->data = a.body;
        hb->half = a.len / 2;
        r = MHD_create_response_from_callback(a.len, 4096, send_half, hb, free_half);
        if (!r) {
            free_half(hb);
            return MHD_NO;
        }
    } else {
        r = MHD_create_response_from_buffer(a.len, a.body, MHD_RESPMEM_MUST_FREE);
        if (!r) {
            free(a.body);
            return MHD_NO;
        }
    }
    MHD_add_response_header(r, "Content-Type", a.content_type);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)a.status, r);
    MHD_destroy_response(r);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    request *rq = *con_cls;
    if (rq) {
        pl_buffer_free(&rq->body);
        free(rq->headers);
        free(rq);
        *con_cls = NULL;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Setting up the service's state */

static int setup_state(lua_State *L)
{
    const char *config_lua = lua_touserdata(L, 1);
    lua_settop(L, 0);
    luaL_openlibs(L);
    pl_core_install(L);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "performlua.sandbox.service");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "new");
    if (luaL_loadbufferx(L, config_lua, strlen(config_lua), "=sandbox configuration", "t") !=
        LUA_OK)
        return lua_error(L);
    lua_call(L, 0, 1);
    lua_call(L, 1, 2); /* -> handle(request), control(name, args) */
    luaL_checktype(L, -2, LUA_TFUNCTION);
    luaL_checktype(L, -1, LUA_TFUNCTION);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_CONTROL);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_HANDLE);
    return 0;
}

static void copy_error(lua_State *L, char *err, size_t errlen)
{
    const char *msg = NULL;
    if (lua_type(L, -1) == LUA_TSTRING) {
        msg = lua_tostring(L, -1);
    } else if (lua_type(L, -1) == LUA_TTABLE) {
        lua_getfield(L, -1, "message");
        msg = lua_tostring(L, -1);
    }
    snprintf(err, errlen, "%s", msg ? msg : "unknown error");
}

static int parse_address(const char *host, int port, struct sockaddr_storage *addr,
                         socklen_t *addrlen, char *err, size_t errlen)
{
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    memset(addr, 0, sizeof *addr);
    struct sockaddr_in *v4 = (struct sockaddr_in *)addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)addr;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *addrlen = sizeof *v4;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *addrlen = sizeof *v6;
        return 0;
    }
    snprintf(err, errlen,
             "cannot listen on '%s': give a numeric IPv4 or IPv6 address such as 127.0.0.1",
             host);
    return -1;
}

pl_sandbox *pl_sandbox_start(const pl_sandbox_options *opts, char *err, size_t errlen)
{
    const char *host = opts->host ? opts->host : "127.0.0.1";
    if (opts->port < 0 || opts->port > 65535) {
        snprintf(err, errlen, "port %d is out of range (0 to 65535; 0 picks a free port)",
                 opts->port);
        return NULL;
    }
    struct sockaddr_storage addr;
    socklen_t addrlen;
    if (parse_address(host, opts->port, &addr, &addrlen, err, errlen) != 0)
        return NULL;

    pl_sandbox *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->latency_ms = opts->latency_ms > 0 ? opts->latency_ms : 0;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->stop_lock, NULL);
    pthread_cond_init(&s->stop_cond, NULL);
    s->L = luaL_newstate();
    if (!s->L) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    lua_pushcfunction(s->L, setup_state);
    lua_pushlightuserdata(s->L, (void *)(opts->config_lua ? opts->config_lua : "return {}"));
    if (lua_pcall(s->L, 1, 0, 0) != LUA_OK) {
        copy_error(s->L, err, errlen);
        goto fail;
    }

    /* Threads started by MHD inherit this thread's signal mask: block everything while they
     * are created, so Ctrl-C and SIGTERM are only ever delivered to the caller's thread. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ITC;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    s->daemon = MHD_start_daemon(flags, (uint16_t)opts->port, NULL, NULL, on_request, s,
                                 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120,
                                 MHD_OPTION_END);
    int saved = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!s->daemon) {
        snprintf(err, errlen, "cannot listen on %s port %d: %s", host, opts->port,
                 saved ? strerror(saved) : "the HTTP server did not start");
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? (int)info->port : opts->port;
    (void)addrlen;
    return s;

fail:
    if (s->L)
        lua_close(s->L);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->stop_lock);
    pthread_cond_destroy(&s->stop_cond);
    free(s);
    return NULL;
}

int pl_sandbox_port(const pl_sandbox *s)
{
    return s->port;
}

static int call_control(lua_State *L)
{
    const char *name = lua_touserdata(L, 1);
    const char *args = lua_touserdata(L, 2);
    lua_settop(L, 0);
    lua_getfield(L, LUA_REGISTRYINDEX, REG_CONTROL);
    lua_pushstring(L, name);
    lua_pushstring(L, args ? args : "return nil");
    lua_call(L, 2, 1);
    if (lua_type(L, -1) != LUA_TSTRING)
        return luaL_error(L, "the service's control answered without a string");
    return 1;
}

char *pl_sandbox_control(pl_sandbox *s, const char *name, const char *args_lua, char *err,
                         size_t errlen)
{
    char *result = NULL;
    pthread_mutex_lock(&s->lock);
    int top = lua_gettop(s->L);
    lua_pushcfunction(s->L, call_control);
    lua_pushlightuserdata(s->L, (void *)name);
    lua_pushlightuserdata(s->L, (void *)args_lua);
    if (lua_pcall(s->L, 2, 1, 0) != LUA_OK) {
        copy_error(s->L, err, errlen);
    } else {
        size_t len;
        const char *text = lua_tolstring(s->L, -1, &len);
        result = malloc(len + 1);
        if (result)
            memcpy(result, text, len + 1);
        else
            snprintf(err, errlen, "out of memory");
    }
    lua_settop(s->L, top);
    pthread_mutex_unlock(&s->lock);
    return result;
}

void pl_sandbox_stop(pl_sandbox *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->stop_lock);
    s->stopping = 1;
    pthread_cond_broadcast(&s->stop_cond);
    pthread_mutex_unlock(&s->stop_lock);
    if (s->daemon)
        MHD_stop_daemon(s->daemon); /* closes connections, joins every thread */
    lua_close(s->L);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->stop_lock);
    pthread_cond_destroy(&s->stop_cond);
    free(s);
}

int pl_sandbox_wait_signal(void)
{
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return sig;
}
