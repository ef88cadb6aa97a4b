/* performlua.core's sandbox functions, and the service behind the sandbox's HTTP server: a
 * Lua state of its own running lua/performlua/sandbox (the HTTP mechanics are
 * runtime/sandbox/server.c, which knows nothing of Lua).
 *
 *   core.sandbox_start{host=, port=, latency_ms=, config_lua=, max_body=, body_budget=,
 *                      max_connections=, max_connections_per_ip=, idle_timeout=,
 *                      min_rate=} -> server
 *       config_lua: Lua source returning the service's configuration (the caller's state and
 *       the server's never share values, only text); the limits are pl_sandbox_options'
 *       (sandbox/server.h), each absent or 0 for its default
 *   server:port() -> integer
 *   server:control(name, args_lua) -> result_lua   runs service control `name` in the server's
 *       state under its lock (stats, objects, clock, ...); arguments and result are Lua source
 *   server:stop()                  idempotent; also __gc and __close
 *   core.sandbox_wait_signal() -> "SIGINT" | "SIGTERM"   blocks until one arrives
 *   core.sandbox_yield()           in a sandbox's state, a safe point of the request being
 *       handled: when others wait, they have their turn first (see below); elsewhere nothing
 *
 * Every call into the service's state goes through lua_pcall, so no Lua error ever unwinds
 * through a libmicrohttpd frame.
 *
 * The XSD validation of --wsdl runs outside the server's lock: the WSDL is loaded here in C
 * (a pl_xsd is read-only, safe from many threads) and handed to the service as
 * config.validator; the server's prepare hook validates each SOAP body in the connection's
 * thread before the lock is taken, and the validator's validate(body), called by the service
 * under the lock, returns that result when asked about the very body of the request (any
 * other text, such as the body with a misplaced Header blanked out, is validated then).
 *
 * Requests take turns on the one state (sandbox/turns.h), none holding it for all of its
 * handling: each runs in a Lua thread of its own (lua_newthread, anchored in the registry while
 * it runs), so it can stop in the middle, give its turn to those waiting and go on later. It
 * stops only at safe points, where what it holds is on its own thread's stack and the
 * account is consistent: between the decoder's chunks and every 256 items the encoder writes
 * (pl_codec_hook, bind/codec.h), and wherever the service's Lua calls core.sandbox_yield()
 * (between the objects of a Create, Update or Delete). What belongs to one request (its body,
 * what prepare found) is the turn's record, made current again whenever the request gets its
 * turn back. */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>
#include <lualib.h>

#include "bind/codec.h"
#include "bind/core.h"
#include "bind/errors.h"
#include "bind/lua_state.h"
#include "bind/scope.h"
#include "sandbox/server.h"
#include "schema/xsd.h"

#define SERVER_MT "performlua.sandbox.server"
#define REG_HANDLE "performlua.sandbox.handle"
#define REG_CONTROL "performlua.sandbox.control"

/* ---------------------------------------------------------------------------------------- */
/* The service: one Lua state running performlua.sandbox.service */

typedef struct service_config {
    const char *config_lua; /* Lua source returning the service's configuration */
    int latency_ms;
} service_config;

/* A body validated before the lock was taken (pl_xsd_validate's result). */
typedef struct prevalidated {
    int rc;
    char *message;
} prevalidated;

/* One request's handling, while it holds a turn or waits to have it back. */
typedef struct turn {
    pl_turns *turns;
    const char *body;             /* the request's body as the service's Lua string */
    const prevalidated *prepared; /* what prepare found about it, or NULL */
} turn;

typedef struct service {
    lua_State *L;
    int latency_ms;
    pl_xsd *xsd;  /* --wsdl's schema, read-only; NULL without one */
    turn *active; /* the request holding the turn; NULL in control calls and between turns */
} service;

/* The registry key of the service a state serves: a state without it (the client's) has no
 * turns to give up, and its safe points do nothing. */
static const char SERVICE_KEY = 0;

void pl_codec_hook(lua_State *L)
{
    if (!lua_checkstack(L, 1))
        return;
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &SERVICE_KEY) != LUA_TLIGHTUSERDATA) {
        lua_pop(L, 1);
        return;
    }
    service *svc = lua_touserdata(L, -1);
    lua_pop(L, 1);
    turn *t = svc->active;
    if (!t || !t->turns)
        return;
    /* while it waits, the requests that run make themselves current in turn */
    svc->active = NULL;
    pl_turns_yield(t->turns);
    svc->active = t;
}

/* core.sandbox_yield(): a safe point of the service's Lua (see the top); nothing elsewhere. */
static int l_sandbox_yield(lua_State *L)
{
    pl_codec_hook(L);
    return 0;
}

#define VALIDATOR_MT "performlua.sandbox.validator"

/* validator:validate(xml) -> true | false, message: the body of the request being handled was
 * validated by prepare already; anything else is validated now. */
static int l_validate(lua_State *L)
{
    service *svc = *(service **)luaL_checkudata(L, 1, VALIDATOR_MT);
    size_t len;
    const char *xml = luaL_checklstring(L, 2, &len);
    int rc;
    const char *text = NULL;
    char **message = pl_push_scoped_string(L);
    const turn *t = svc->active;
    if (t && t->prepared && xml == t->body) {
        rc = t->prepared->rc;
        text = t->prepared->message;
    } else {
        rc = pl_xsd_validate(svc->xsd, xml, len, message);
        text = *message;
    }
    if (rc == 1) {
        lua_pushboolean(L, 1);
        return 1;
    }
    if (rc < 0)
        return luaL_error(L, "out of memory while validating");
    lua_pushboolean(L, 0);
    lua_pushstring(L, text ? text : "invalid");
    return 2;
}

/* config.wsdl -> config.validator, loaded here so the server can validate without the lock.
 * A WSDL that cannot be loaded is left to the service, which says why. */
static void attach_validator(lua_State *L, int config, service *svc)
{
    if (lua_getfield(L, config, "validator") != LUA_TNIL ||
        lua_getfield(L, config, "wsdl") != LUA_TSTRING) {
        lua_settop(L, config);
        return;
    }
    char *message = NULL;
    svc->xsd = pl_xsd_load(lua_tostring(L, -1), &message);
    free(message);
    lua_settop(L, config);
    if (!svc->xsd)
        return;
    service **box = lua_newuserdatauv(L, sizeof *box, 0);
    *box = svc;
    if (luaL_newmetatable(L, VALIDATOR_MT)) {
        lua_createtable(L, 0, 1);
        lua_pushcfunction(L, l_validate);
        lua_setfield(L, -2, "validate");
        lua_setfield(L, -2, "__index");
    }
    lua_setmetatable(L, -2);
    lua_setfield(L, config, "validator");
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

static int setup_state(lua_State *L)
{
    const char *config_lua = lua_touserdata(L, 1);
    service *svc = lua_touserdata(L, 2);
    lua_settop(L, 0);
    luaL_openlibs(L);
    pl_core_install(L);
    lua_pushlightuserdata(L, svc);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &SERVICE_KEY);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "performlua.sandbox.service");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "new");
    if (luaL_loadbufferx(L, config_lua, strlen(config_lua), "=sandbox configuration", "t") !=
        LUA_OK)
        return lua_error(L);
    lua_call(L, 0, 1);
    if (lua_istable(L, -1))
        attach_validator(L, lua_gettop(L), svc);
    lua_call(L, 1, 2); /* -> handle(request), control(name, args) */
    luaL_checktype(L, -2, LUA_TFUNCTION);
    luaL_checktype(L, -1, LUA_TFUNCTION);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_CONTROL);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_HANDLE);
    return 0;
}

static void service_close(void *instance)
{
    service *svc = instance;
    lua_close(svc->L);
    pl_xsd_free(svc->xsd);
    free(svc);
}

/* Before the lock: a SOAP body is validated here when there is a schema (see the top). */
static void *service_prepare(void *instance, const pl_sandbox_request *rq)
{
    service *svc = instance;
    if (!svc->xsd || strcmp(rq->method, "POST") != 0 || strcasecmp(rq->path, "/Service.asmx"))
        return NULL;
    prevalidated *p = calloc(1, sizeof *p);
    if (p)
        p->rc = pl_xsd_validate(svc->xsd, rq->body, rq->body_len, &p->message);
    return p;
}

static void service_release(void *prepared)
{
    prevalidated *p = prepared;
    free(p->message);
    free(p);
}

static void *service_open(void *ctx, char *err, size_t errlen)
{
    const service_config *config = ctx;
    service *svc = calloc(1, sizeof *svc);
    if (!svc || !(svc->L = pl_lua_state_new())) {
        free(svc);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    svc->latency_ms = config->latency_ms > 0 ? config->latency_ms : 0;
    lua_pushcfunction(svc->L, setup_state);
    lua_pushlightuserdata(svc->L, (void *)config->config_lua);
    lua_pushlightuserdata(svc->L, svc);
    if (lua_pcall(svc->L, 2, 0, 0) != LUA_OK) {
        copy_error(svc->L, err, errlen);
        service_close(svc);
        return NULL;
    }
    return svc;
}

/* handle(request) in the request's thread; copies the answer out. Runs under lua_pcall. */
static int call_handle(lua_State *L)
{
    const pl_sandbox_request *rq = lua_touserdata(L, 1);
    pl_sandbox_answer *out = lua_touserdata(L, 2);
    turn *tn = lua_touserdata(L, 3);
    lua_settop(L, 0);
    lua_getfield(L, LUA_REGISTRYINDEX, REG_HANDLE);
    lua_createtable(L, 0, 4);
    lua_pushstring(L, rq->method);
    lua_setfield(L, -2, "method");
    lua_pushstring(L, rq->path);
    lua_setfield(L, -2, "path");
    /* the string stays alive in the request table for the whole call */
    pl_codec_push_large(L, rq->body, rq->body_len);
    tn->body = lua_tostring(L, -1);
    lua_setfield(L, -2, "body");
    lua_createtable(L, 0, (int)rq->n_headers);
    for (size_t i = 0; i < rq->n_headers; i++) {
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        for (const char *p = rq->headers[i].name; *p; p++)
            luaL_addchar(&b, (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : *p);
        luaL_pushresult(&b);
        lua_pushstring(L, rq->headers[i].value);
        lua_settable(L, -3);
    }
    lua_setfield(L, -2, "headers");
    lua_call(L, 1, 1);
    luaL_checktype(L, -1, LUA_TTABLE);
    int t = lua_gettop(L);
    lua_getfield(L, t, "status");
    lua_getfield(L, t, "body");
    if (!lua_isinteger(L, t + 1) || lua_type(L, t + 2) != LUA_TSTRING)
        return luaL_error(L,
                          "the service answered without an integer status and a string body");
    out->status = (int)lua_tointeger(L, t + 1);
    size_t len;
    const char *body = lua_tolstring(L, t + 2, &len);
    pl_buffer_append(&out->body, body, len);
    const char *ct = lua_getfield(L, t, "content_type") == LUA_TSTRING
                         ? lua_tostring(L, -1)
                         : "text/xml; charset=utf-8";
    if (!pl_sandbox_answer_header(out, "Content-Type", ct))
        out->body.failed = true;
    /* headers = {Name = "value"}: more headers of the answer (X-Sandbox-Dropped) */
    if (lua_getfield(L, t, "headers") == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING &&
                !pl_sandbox_answer_header(out, lua_tostring(L, -2), lua_tostring(L, -1)))
                out->body.failed = true;
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    const char *fault = lua_getfield(L, t, "fault") == LUA_TSTRING ? lua_tostring(L, -1) : "";
    if (strcmp(fault, "reset-before") == 0)
        out->fault = PL_SANDBOX_RESET_BEFORE;
    else if (strcmp(fault, "reset-after") == 0)
        out->fault = PL_SANDBOX_RESET_AFTER;
    else if (strcmp(fault, "truncate") == 0)
        out->fault = PL_SANDBOX_TRUNCATE;
    return 0;
}

/* A new thread for a request, anchored in the registry (*ref) until the request ends. */
static int new_request_thread(lua_State *L)
{
    int *ref = lua_touserdata(L, 1);
    lua_newthread(L);
    lua_pushvalue(L, -1);
    *ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 1;
}

static void service_handle(void *instance, const pl_sandbox_request *rq, pl_sandbox_answer *out)
{
    service *svc = instance;
    lua_State *L = svc->L;
    int top = lua_gettop(L);
    int ref = LUA_NOREF;
    lua_pushcfunction(L, new_request_thread);
    lua_pushlightuserdata(L, &ref);
    int status = lua_pcall(L, 1, 1, 0);
    lua_State *T = status == LUA_OK ? lua_tothread(L, -1) : L;
    if (status == LUA_OK) {
        /* the main thread's stack is left as it was: other requests use it while this one
         * waits for its turn; the thread lives on through the registry */
        lua_settop(L, top);
        turn t = {.turns = rq->turns, .prepared = rq->prepared};
        svc->active = &t;
        lua_pushcfunction(T, call_handle);
        lua_pushlightuserdata(T, (void *)rq);
        lua_pushlightuserdata(T, out);
        lua_pushlightuserdata(T, &t);
        status = lua_pcall(T, 3, 0, 0);
        svc->active = NULL;
    }
    if (status != LUA_OK) {
        const char *msg = lua_tostring(T, -1);
        if (!msg && lua_istable(T, -1)) {
            /* an error table (a SQLite error, the codec's): its message, read without
             * metamethods, which could raise here outside any protected call */
            lua_pushliteral(T, "message");
            lua_rawget(T, -2);
            msg = lua_tostring(T, -1);
        }
        /* whatever the failed call wrote is replaced by the report */
        pl_sandbox_answer_clear(out);
        out->status = 500;
        pl_buffer_appendf(&out->body, "sandbox internal error: %.1000s\n",
                          msg ? msg : "(not a string)");
        if (!pl_sandbox_answer_header(out, "Content-Type", "text/plain; charset=utf-8"))
            out->body.failed = true;
    }
    if (T != L)
        lua_settop(T, 0);
    lua_settop(L, top);
    luaL_unref(L, LUA_REGISTRYINDEX, ref); /* the thread is garbage now */
    out->latency_ms = svc->latency_ms;
}

/* service:control(name, args) in the service's state (under the server's lock). */
typedef struct control_call {
    const char *name;
    const char *args_lua;
    pl_buffer *result; /* the result's Lua source, or the error message */
    bool ok;
} control_call;

static int call_control(lua_State *L)
{
    control_call *cc = lua_touserdata(L, 1);
    lua_settop(L, 0);
    lua_getfield(L, LUA_REGISTRYINDEX, REG_CONTROL);
    lua_pushstring(L, cc->name);
    lua_pushstring(L, cc->args_lua);
    lua_call(L, 2, 1);
    if (lua_type(L, -1) != LUA_TSTRING)
        return luaL_error(L, "the service's control answered without a string");
    return 1;
}

static void run_control(void *instance, void *arg)
{
    lua_State *L = ((service *)instance)->L;
    control_call *cc = arg;
    int top = lua_gettop(L);
    lua_pushcfunction(L, call_control);
    lua_pushlightuserdata(L, cc);
    cc->ok = lua_pcall(L, 1, 1, 0) == LUA_OK;
    if (cc->ok) {
        size_t len;
        const char *text = lua_tolstring(L, -1, &len);
        pl_buffer_append(cc->result, text, len);
    } else {
        char err[1024];
        copy_error(L, err, sizeof err);
        pl_buffer_append_str(cc->result, err);
    }
    lua_settop(L, top);
}

/* ---------------------------------------------------------------------------------------- */
/* The Lua functions */

typedef struct server_box {
    pl_sandbox *s;
} server_box;

static pl_sandbox *check_running(lua_State *L)
{
    server_box *b = luaL_checkudata(L, 1, SERVER_MT);
    if (!b->s)
        pl_error_raisef(L, "usage", "this sandbox has been stopped");
    return b->s;
}

static int l_start(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "host");
    lua_getfield(L, 1, "port");
    lua_getfield(L, 1, "latency_ms");
    lua_getfield(L, 1, "config_lua");
    pl_sandbox_options o = {0};
    o.host = luaL_optstring(L, 2, "127.0.0.1");
    o.port = (int)luaL_optinteger(L, 3, 0);
    static const char *const limits[] = {"max_body",        "body_budget",
                                         "max_connections", "max_connections_per_ip",
                                         "idle_timeout",    "min_rate"};
    lua_Integer value[sizeof limits / sizeof *limits];
    for (size_t i = 0; i < sizeof limits / sizeof *limits; i++) {
        lua_getfield(L, 1, limits[i]);
        value[i] = luaL_optinteger(L, -1, 0);
        if (value[i] < 0 || (i >= 2 && value[i] > (lua_Integer)UINT_MAX))
            return pl_error_raisef(L, "usage", "sandbox_start: %s is out of range", limits[i]);
        lua_pop(L, 1);
    }
    o.max_body = (size_t)value[0];
    o.body_budget = (size_t)value[1];
    o.max_connections = (unsigned)value[2];
    o.max_per_ip = (unsigned)value[3];
    o.idle_timeout = (unsigned)value[4];
    o.min_rate = (unsigned)value[5];
    service_config config = {
        .latency_ms = (int)luaL_optinteger(L, 4, 0),
        .config_lua = luaL_optstring(L, 5, "return {}"),
    };
    pl_sandbox_service svc = {
        .open = service_open,
        .prepare = service_prepare,
        .release = service_release,
        .handle = service_handle,
        .close = service_close,
        .ctx = &config,
    };
    server_box *b = lua_newuserdatauv(L, sizeof *b, 0);
    b->s = NULL; /* created stopped, then started: a raise below leaves nothing to free */
    luaL_setmetatable(L, SERVER_MT);
    char err[1024];
    b->s = pl_sandbox_start(&o, &svc, err, sizeof err);
    if (!b->s)
        return pl_error_raisef(L, "sandbox", "the sandbox could not start: %s", err);
    return 1;
}

static int l_port(lua_State *L)
{
    lua_pushinteger(L, pl_sandbox_port(check_running(L)));
    return 1;
}

static int l_control(lua_State *L)
{
    pl_sandbox *s = check_running(L);
    control_call cc = {.name = luaL_checkstring(L, 2),
                       .args_lua = luaL_optstring(L, 3, "return nil")};
    lua_settop(L, 3);
    cc.result = pl_push_scoped_buffer(L);
    pl_sandbox_with_service(s, run_control, &cc);
    if (cc.result->failed)
        return luaL_error(L, "not enough memory");
    if (!cc.ok)
        return pl_error_raisef(L, "sandbox", "sandbox %s failed: %s", cc.name,
                               pl_buffer_text(cc.result));
    lua_pushlstring(L, pl_buffer_text(cc.result), cc.result->len);
    return 1;
}

static int l_stop(lua_State *L)
{
    server_box *b = luaL_checkudata(L, 1, SERVER_MT);
    pl_sandbox *s = b->s;
    b->s = NULL;
    pl_sandbox_stop(s);
    return 0;
}

static int l_wait_signal(lua_State *L)
{
    int sig = pl_sandbox_wait_signal();
    lua_pushstring(L, sig == SIGTERM ? "SIGTERM" : "SIGINT");
    return 1;
}

void pl_open_sandbox(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"port", l_port},
        {"control", l_control},
        {"stop", l_stop},
        {NULL, NULL},
    };
    if (luaL_newmetatable(L, SERVER_MT)) {
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, l_stop);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, l_stop);
        lua_setfield(L, -2, "__close");
    }
    lua_pop(L, 1);
    static const luaL_Reg funcs[] = {
        {"sandbox_start", l_start},
        {"sandbox_wait_signal", l_wait_signal},
        {"sandbox_yield", l_sandbox_yield},
        {NULL, NULL},
    };
    luaL_setfuncs(L, funcs, 0);
}
