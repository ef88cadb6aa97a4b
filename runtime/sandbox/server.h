/* The sandbox's HTTP server: libmicrohttpd serving one emulated account.
 *
 * The behaviour lives in Lua (lua/performlua/sandbox/service.lua) inside a lua_State that the
 * server owns and uses under a mutex: one request at a time touches it. Everything slow happens
 * outside the lock: injected latency is waited out after the answer was computed, so N
 * concurrent requests with latency L finish in about L. The service decides faults; this file
 * carries them out (close without an answer, send half an answer).
 *
 * Threads: MHD serves each connection from its own thread; every thread is created with all
 * signals blocked, so SIGINT/SIGTERM only ever reach the thread that started the server. */
#ifndef PL_SANDBOX_SERVER_H
#define PL_SANDBOX_SERVER_H

#include <lua.h>

typedef struct pl_sandbox pl_sandbox;

typedef struct pl_sandbox_options {
    const char *host;       /* numeric address to bind; "127.0.0.1" when NULL */
    int port;               /* 0: a free port chosen by the kernel */
    int latency_ms;         /* added before every answer, without holding the lock */
    const char *config_lua; /* Lua source returning the service's configuration table */
} pl_sandbox_options;

/* Starts a server. On failure returns NULL and writes a message into err (size errlen). */
pl_sandbox *pl_sandbox_start(const pl_sandbox_options *opts, char *err, size_t errlen);

int pl_sandbox_port(const pl_sandbox *s);

/* Calls service:control(name, args_lua) inside the server's state, under the lock. Returns a
 * malloc'd string (Lua source of the result) or NULL with a message in err. */
char *pl_sandbox_control(pl_sandbox *s, const char *name, const char *args_lua, char *err,
                         size_t errlen);

/* Stops serving (open connections are closed, latency waits cut short) and frees everything. */
void pl_sandbox_stop(pl_sandbox *s);

/* Blocks the calling thread until SIGINT or SIGTERM arrives; returns the signal number. */
int pl_sandbox_wait_signal(void);

#endif
