/* The sandbox's HTTP server: libmicrohttpd serving one emulated account. Pure C: the server
 * knows HTTP, threads and the mechanics of faults; what to answer comes from the service it is
 * given (bind/sandbox_bind.c runs lua/performlua/sandbox in a Lua state of its own for it).
 *
 * Concurrency: MHD serves each connection from its own thread (at most max_connections of
 * them, see pl_sandbox_options for every limit). Bodies are received outside any lock, and
 * the service's prepare hook runs outside it too. The service instance is used by one thread
 * at a time, but no request holds it for all of its handling: requests take turns on it
 * (sandbox/turns.h, FIFO), and a request's handle call gives its turn up at the service's safe
 * points whenever others wait (pl_turns_yield on rq->turns), so a 60 MB request lets small
 * ones through between its slices instead of stalling them. Control calls from the owner
 * (pl_sandbox_with_service) take a turn too. Everything slow happens outside a turn: the
 * latency an answer asks for is waited out after the answer was computed, so N concurrent
 * requests with latency L finish in about L. The service decides the faults; the server
 * carries them out (close without an answer, send half an answer).
 *
 * Threads: every thread MHD creates starts with all signals blocked, so SIGINT/SIGTERM only
 * ever reach the thread that started the server (pl_sandbox_wait_signal waits for them). */
#ifndef PL_SANDBOX_SERVER_H
#define PL_SANDBOX_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "sandbox/turns.h"
#include "util/buffer.h"

typedef struct pl_sandbox pl_sandbox;

typedef struct pl_sandbox_header {
    const char *name;
    const char *value;
} pl_sandbox_header;

/* One request, valid for the duration of the service's handle call. */
typedef struct pl_sandbox_request {
    const char *method;               /* "POST", "GET", ... */
    const char *path;                 /* "/Service.asmx" (without the query string) */
    const pl_sandbox_header *headers; /* as the client sent them (names in its case) */
    size_t n_headers;
    const char *body; /* body_len bytes, NUL-terminated */
    size_t body_len;
    void *prepared; /* what the service's prepare returned for this request (NULL without) */
    /* The turn the handle call holds. At a safe point (the service's state consistent, nothing
     * of it held in local variables that another request could change) the service may call
     * pl_turns_yield(turns): when other requests wait, they run before it goes on. */
    pl_turns *turns;
} pl_sandbox_request;

/* What the server does with an answer. */
typedef enum pl_sandbox_fault {
    PL_SANDBOX_ANSWER,       /* send it */
    PL_SANDBOX_RESET_BEFORE, /* close the connection without an answer (request not processed) */
    PL_SANDBOX_RESET_AFTER,  /* the same, after the request was processed */
    PL_SANDBOX_TRUNCATE      /* announce the whole body (Content-Length), send half, close */
} pl_sandbox_fault;

#define PL_SANDBOX_MAX_ANSWER_HEADERS 8

/* The answer a service fills in. The server zeroes it before the call and frees what it
 * holds afterwards. */
typedef struct pl_sandbox_answer {
    int status;     /* HTTP status */
    pl_buffer body; /* a failed buffer closes the connection without an answer */
    pl_sandbox_fault fault;
    int latency_ms; /* waited out before answering, without a turn */
    /* response headers, copied by pl_sandbox_answer_header */
    struct {
        char *name, *value;
    } headers[PL_SANDBOX_MAX_ANSWER_HEADERS];
    size_t n_headers;
} pl_sandbox_answer;

/* Adds a response header (both strings copied). False when there is no room or memory. */
bool pl_sandbox_answer_header(pl_sandbox_answer *a, const char *name, const char *value);

/* Frees what the answer holds and zeroes it (a service starting its answer over). */
void pl_sandbox_answer_clear(pl_sandbox_answer *a);

/* The service behind the server. The server opens one instance when it starts (on the
 * caller's thread, before it listens) and closes it when it stops; the seam is where several
 * instances (one per worker) would be opened. */
typedef struct pl_sandbox_service {
    /* Opens an instance; NULL with a message in err (errlen bytes) when it cannot. */
    void *(*open)(void *ctx, char *err, size_t errlen);
    /* Optional: called for each request before a turn is taken, from the connection's
     * thread, so work that is slow and safe from many threads at once (the XSD validation,
     * with read-only state of the instance) does not hold up the other requests. What it
     * returns is rq->prepared in handle, and is given to release afterwards. */
    void *(*prepare)(void *instance, const pl_sandbox_request *rq);
    void (*release)(void *prepared);
    /* Answers one request into `out` (zeroed). Called holding a turn on the instance, from a
     * connection's thread: nothing slow belongs here (ask for latency in the answer), and what
     * is long gives its turn up at safe points (rq->turns). */
    void (*handle)(void *instance, const pl_sandbox_request *rq, pl_sandbox_answer *out);
    /* Frees the instance (after every request has ended). */
    void (*close)(void *instance);
    void *ctx; /* given to open */
} pl_sandbox_service;

/* The limits a real server has, so that no client (a big body, many connections, a slow
 * sender) can starve the others. A zero field takes the default beside it. Each answer the
 * server gives on its own carries a SOAP fault (JSON on the token endpoints) naming the limit:
 *   max_body        a request body larger than this gets 413, refused from its Content-Length
 *                   before any of it is read (a chunked body: once it has grown past it)
 *   body_budget     the request bodies held at once, over every connection: a request whose
 *                   body does not fit gets 503 with Retry-After (from its Content-Length,
 *                   before it is read)
 *   max_connections connections at once (one thread each); a request on one more gets 503
 *                   with Retry-After before its body is read, and its connection is closed;
 *                   past a hard cap (max_connections + max_connections/4 + 8) connections
 *                   are closed as they come, without an answer
 *   max_per_ip      connections at once from one address: the same with 429 (hard cap
 *                   max_per_ip + max_per_ip/4 + 8)
 *   idle_timeout    seconds a connection may wait for a request's headers to be complete
 *                   (also MHD's inactivity timeout): a client trickling them is dropped
 *   min_rate        bytes per second a body must arrive at: a body gets idle_timeout seconds
 *                   plus one second for each min_rate bytes received, then the connection is
 *                   dropped (a slow sender cannot hold a connection a byte at a time) */
#define PL_SANDBOX_DEFAULT_MAX_BODY (64u * 1024u * 1024u)
#define PL_SANDBOX_DEFAULT_BODY_BUDGET (256u * 1024u * 1024u)
#define PL_SANDBOX_DEFAULT_MAX_CONNECTIONS 1024u
#define PL_SANDBOX_DEFAULT_MAX_PER_IP 256u
#define PL_SANDBOX_DEFAULT_IDLE_TIMEOUT 30u
#define PL_SANDBOX_DEFAULT_MIN_RATE 1024u

typedef struct pl_sandbox_options {
    const char *host; /* numeric address to bind ("localhost" too); NULL: "127.0.0.1" */
    int port;         /* 0: a free port chosen by the kernel */
    size_t max_body;
    size_t body_budget;
    unsigned max_connections;
    unsigned max_per_ip;
    unsigned idle_timeout; /* seconds */
    unsigned min_rate;     /* bytes per second */
} pl_sandbox_options;

/* libmicrohttpd's version; when it cannot be loaded, why not. Loads it (a sandbox loads it when
 * it starts, and reports a missing library as its error). */
void pl_sandbox_library_version(char *out, size_t size);

/* Opens the service and starts serving. On failure returns NULL and writes a message into
 * err (errlen bytes). The service description is copied. */
pl_sandbox *pl_sandbox_start(const pl_sandbox_options *opts, const pl_sandbox_service *service,
                             char *err, size_t errlen);

int pl_sandbox_port(const pl_sandbox *s);

/* Runs fn(instance, arg) holding a turn on the instance: how the owner reaches the service's
 * state (statistics, objects, the clock) while requests are being served. */
void pl_sandbox_with_service(pl_sandbox *s, void (*fn)(void *instance, void *arg), void *arg);

/* Stops serving (open connections are closed, latency waits cut short), closes the service
 * and frees everything. NULL is accepted. */
void pl_sandbox_stop(pl_sandbox *s);

/* Blocks the calling thread until SIGINT or SIGTERM arrives; returns the signal number. */
int pl_sandbox_wait_signal(void);

#endif
