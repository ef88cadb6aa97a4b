/* The sandbox's HTTP server (see server.h for the design). */
#include "sandbox/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "sandbox/turns.h"
#include "util/dynlib.h"

/* libmicrohttpd is loaded when the first sandbox starts (util/dynlib.h). */
/* clang-format off */
#define MHD_SYMBOLS(X)                                                                         \
    X(MHD_get_version) X(MHD_start_daemon) X(MHD_stop_daemon) X(MHD_get_daemon_info)           \
    X(MHD_get_connection_info) X(MHD_get_connection_values) X(MHD_lookup_connection_value)     \
    X(MHD_create_response_from_buffer) X(MHD_create_response_from_callback)                    \
    X(MHD_add_response_header) X(MHD_queue_response) X(MHD_destroy_response)
/* clang-format on */
static struct mhd_api {
    MHD_SYMBOLS(PL_DYNLIB_MEMBER)
} mhd_api;
#define MHD_ENTRY(name) PL_DYNLIB_ENTRY_IN(struct mhd_api, name)
static const pl_dynlib_symbol mhd_symbols[] = {MHD_SYMBOLS(MHD_ENTRY)};
static pl_dynlib mhd_lib = PL_DYNLIB_INIT(PL_MHD_SONAME, PL_MHD_PACKAGE,
                                          "the sandbox's HTTP server", mhd_symbols, &mhd_api);

void pl_sandbox_library_version(char *out, size_t size)
{
    if (pl_dynlib_load_or_describe(&mhd_lib, out, size))
        snprintf(out, size, "%s", mhd_api.MHD_get_version());
}

#define MAX_HEADERS 256 /* enough to route a request; more refuse it */
#define WATCH_MS 200    /* how often the watchdog looks for slow senders */

/* What a connection is doing, for the watchdog (see pl_sandbox_options). */
typedef enum conn_phase {
    CONN_WAITING, /* for a request's headers: at most idle_timeout seconds */
    CONN_BODY,    /* receiving a body: idle_timeout seconds + one per min_rate bytes */
    CONN_BUSY     /* the service or the answer: the server's own time, never dropped */
} conn_phase;

/* One open connection (MHD's socket context). Every field is guarded by conn_lock. */
typedef struct conn {
    struct conn *prev, *next;
    int fd;
    conn_phase phase;
    double since;   /* monotonic seconds: when the phase began */
    uint64_t bytes; /* body bytes received in CONN_BODY */
    bool dropped;
    struct sockaddr_storage peer; /* the client's address (zeroed when MHD does not say) */
    unsigned over; /* 503 or 429: over max_connections or max_per_ip when it came; else 0 */
} conn;

/* The hard caps, where connections are closed as they come without an answer: past the
 * limits, a few more are accepted only to be answered 503 or 429 (so a client learns why and
 * when to come back), and those are bounded too. */
static unsigned hard_cap(unsigned limit)
{
    unsigned extra = limit / 4 + 8;
    return limit > UINT_MAX - extra ? UINT_MAX : limit + extra;
}

struct pl_sandbox {
    struct MHD_Daemon *daemon;
    pl_sandbox_service service;
    void *instance; /* the open service; only used while holding a turn */
    pl_turns turns; /* requests and control calls take turns on the instance (turns.h) */
    pthread_mutex_t stop_lock; /* guards `stopping`, signals latency waits to end */
    pthread_cond_t stop_cond;
    int stopping;
    int port;
    pl_sandbox_options limits; /* every limit set (defaults filled in) */
    pthread_mutex_t conn_lock; /* guards the connections and body_reserved */
    conn *conns;
    unsigned n_conns;
    size_t body_reserved; /* bytes of body_budget the requests being received hold */
    pthread_t watchdog;
    bool watching;
};

/* A request being received: MHD calls on_request once to start it, then once per piece of
 * the body, then once more to answer. */
typedef struct request {
    pl_buffer body;
    bool too_large;    /* over max_body: 413 when the body has ended */
    bool over_budget;  /* over body_budget: 503 when the body has ended */
    size_t reserved;   /* bytes of body_budget this request holds */
    pl_buffer headers; /* pl_sandbox_header items; the strings belong to MHD */
} request;

static double now_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *info =
        mhd_api.MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

/* Moves the connection to `phase` (body bytes counted from 0). */
static void conn_phase_set(pl_sandbox *s, struct MHD_Connection *c, conn_phase phase)
{
    pthread_mutex_lock(&s->conn_lock);
    conn *k = conn_of(c);
    if (k) {
        k->phase = phase;
        k->since = now_monotonic();
        k->bytes = 0;
    }
    pthread_mutex_unlock(&s->conn_lock);
}

static void conn_received(pl_sandbox *s, struct MHD_Connection *c, size_t n)
{
    pthread_mutex_lock(&s->conn_lock);
    conn *k = conn_of(c);
    if (k)
        k->bytes += n;
    pthread_mutex_unlock(&s->conn_lock);
}

/* Takes n bytes of the body budget for rq; false when they do not fit. */
static bool reserve_body(pl_sandbox *s, request *rq, size_t n)
{
    pthread_mutex_lock(&s->conn_lock);
    bool fits = n <= s->limits.body_budget - s->body_reserved;
    if (fits) {
        s->body_reserved += n;
        rq->reserved += n;
    }
    pthread_mutex_unlock(&s->conn_lock);
    return fits;
}

/* Frees rq's body and gives its share of the budget back. */
static void release_body(pl_sandbox *s, request *rq)
{
    pl_buffer_free(&rq->body);
    pthread_mutex_lock(&s->conn_lock);
    s->body_reserved -= rq->reserved;
    rq->reserved = 0;
    pthread_mutex_unlock(&s->conn_lock);
}

/* ---------------------------------------------------------------------------------------- */
/* Answers */

bool pl_sandbox_answer_header(pl_sandbox_answer *a, const char *name, const char *value)
{
    if (a->n_headers == PL_SANDBOX_MAX_ANSWER_HEADERS)
        return false;
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return false;
    }
    a->headers[a->n_headers].name = n;
    a->headers[a->n_headers].value = v;
    a->n_headers++;
    return true;
}

void pl_sandbox_answer_clear(pl_sandbox_answer *a)
{
    pl_buffer_free(&a->body);
    for (size_t i = 0; i < a->n_headers; i++) {
        free(a->headers[i].name);
        free(a->headers[i].value);
    }
    memset(a, 0, sizeof *a);
}

/* ---------------------------------------------------------------------------------------- */
/* libmicrohttpd callbacks */

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    request *rq = cls;
    if (rq->headers.len / sizeof(pl_sandbox_header) == MAX_HEADERS)
        return MHD_NO; /* stop collecting: the first MAX_HEADERS are enough to route */
    pl_sandbox_header h = {key, value ? value : ""};
    return pl_buffer_append(&rq->headers, &h, sizeof h) ? MHD_YES : MHD_NO;
}

/* Waits out the latency; returns nonzero when the server is stopping meanwhile. */
static int wait_latency(pl_sandbox *s, int latency_ms)
{
    pthread_mutex_lock(&s->stop_lock);
    if (latency_ms > 0 && !s->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += latency_ms / 1000;
        until.tv_nsec += (long)(latency_ms % 1000) * 1000000L;
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

static int is_stopping(pl_sandbox *s)
{
    pthread_mutex_lock(&s->stop_lock);
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

/* The token endpoints answer JSON; everything else is the SOAP endpoint. */
static bool is_token_path(const char *url)
{
    size_t n = strlen(url);
    return (n >= 9 && strcmp(url + n - 9, "/v2/token") == 0) ||
           (n >= 16 && strcmp(url + n - 16, "/v1/requestToken") == 0);
}

/* The server's own answer when a limit is hit: what a client of that endpoint can read (a
 * soap:Client fault, or an OAuth error), with `message` (no markup, no quotes in it). */
static enum MHD_Result queue_refusal(struct MHD_Connection *c, const char *url, unsigned status,
                                     const char *message, const char *retry_after)
{
    pl_buffer b = {0};
    if (is_token_path(url))
        pl_buffer_appendf(&b, "{\"error\": \"%s\", \"error_description\": \"%s\"}\n",
                          status == 413   ? "request_too_large"
                          : status == 429 ? "too_many_requests"
                                          : "temporarily_unavailable",
                          message);
    else
        pl_buffer_appendf(
            &b,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
            "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">"
            "<soap:Body><soap:Fault><faultcode>soap:%s</faultcode>"
            "<faultstring>%s</faultstring></soap:Fault></soap:Body>"
            "</soap:Envelope>",
            status == 413 || status == 429 ? "Client" : "Server", message);
    size_t len = b.len;
    char *body = b.failed ? NULL : pl_buffer_take(&b);
    pl_buffer_free(&b);
    if (!body)
        return MHD_NO;
    struct MHD_Response *r =
        mhd_api.MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    mhd_api.MHD_add_response_header(r, "Content-Type",
                                    is_token_path(url) ? "application/json"
                                                       : "text/xml; charset=utf-8");
    if (retry_after)
        mhd_api.MHD_add_response_header(r, "Retry-After", retry_after);
    if (status == 429 || status == 503)
        mhd_api.MHD_add_response_header(r, "Connection", "close"); /* its place is freed */
    enum MHD_Result ret = mhd_api.MHD_queue_response(c, status, r);
    mhd_api.MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result refuse_too_large(pl_sandbox *s, struct MHD_Connection *c,
                                        const char *url, unsigned long long declared)
{
    char message[256];
    size_t limit =
        s->limits.max_body < s->limits.body_budget ? s->limits.max_body : s->limits.body_budget;
    if (declared)
        snprintf(message, sizeof message,
                 "Request body too large: %llu bytes, this sandbox accepts at most %zu "
                 "(performlua sandbox --max-body)",
                 declared, limit);
    else
        snprintf(message, sizeof message,
                 "Request body too large: more than %zu bytes, the most this sandbox accepts "
                 "(performlua sandbox --max-body)",
                 limit);
    return queue_refusal(c, url, 413, message, NULL);
}

static enum MHD_Result refuse_busy(pl_sandbox *s, struct MHD_Connection *c, const char *url)
{
    char message[256];
    snprintf(message, sizeof message,
             "Server busy: the request bodies being received exceed this sandbox's budget of "
             "%zu bytes; retry shortly (performlua sandbox --body-budget)",
             s->limits.body_budget);
    return queue_refusal(c, url, 503, message, "1");
}

/* A connection over max_connections (503) or max_per_ip (429): answered before its body is
 * read, and closed after the answer (it does not stay to count against the limit). */
static enum MHD_Result refuse_connection(pl_sandbox *s, struct MHD_Connection *c,
                                         const char *url, unsigned status)
{
    char message[256];
    if (status == 429)
        snprintf(message, sizeof message,
                 "Too many connections from this address: this sandbox serves at most %u at "
                 "once from one client; retry shortly (performlua sandbox --max-per-ip)",
                 s->limits.max_per_ip);
    else
        snprintf(message, sizeof message,
                 "Server busy: this sandbox serves at most %u connections at once; retry "
                 "shortly (performlua sandbox --max-connections)",
                 s->limits.max_connections);
    return queue_refusal(c, url, status, message, "1");
}

/* The MHD response for an answer (its body handed over), or NULL when the connection is to be
 * closed without one. */
static struct MHD_Response *make_response(pl_sandbox_answer *a)
{
    if (a->fault == PL_SANDBOX_RESET_BEFORE || a->fault == PL_SANDBOX_RESET_AFTER ||
        a->body.failed)
        return NULL;
    size_t len = a->body.len;
    char *body = pl_buffer_take(&a->body);
    if (!body)
        return NULL;
    struct MHD_Response *r;
    if (a->fault == PL_SANDBOX_TRUNCATE) {
        half_body *hb = malloc(sizeof *hb);
        if (!hb) {
            free(body);
            return NULL;
        }
        hb->data = body;
        hb->half = len / 2;
        r = mhd_api.MHD_create_response_from_callback(len, 4096, send_half, hb, free_half);
        if (!r)
            free_half(hb);
    } else {
        r = mhd_api.MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
        if (!r)
            free(body);
    }
    for (size_t i = 0; r && i < a->n_headers; i++)
        mhd_api.MHD_add_response_header(r, a->headers[i].name, a->headers[i].value);
    return r;
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
        /* the headers are in: the body is judged by its Content-Length before any of it is
         * read, and an early answer means it never is (MHD sends no 100 Continue then) */
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        *con_cls = rq;
        pthread_mutex_lock(&s->conn_lock);
        conn *k = conn_of(c);
        unsigned over = k ? k->over : 0;
        pthread_mutex_unlock(&s->conn_lock);
        if (over) {
            conn_phase_set(s, c, CONN_BUSY);
            return refuse_connection(s, c, url, over);
        }
        conn_phase_set(s, c, CONN_BODY);
        const char *cl =
            mhd_api.MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl) {
            char *end;
            errno = 0;
            unsigned long long declared = strtoull(cl, &end, 10);
            if (end == cl || errno == ERANGE)
                declared = ULLONG_MAX;
            if (declared > s->limits.max_body || declared > s->limits.body_budget) {
                conn_phase_set(s, c, CONN_BUSY);
                return refuse_too_large(s, c, url, declared);
            }
            if (!reserve_body(s, rq, (size_t)declared)) {
                conn_phase_set(s, c, CONN_BUSY);
                return refuse_busy(s, c, url);
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        conn_received(s, c, n);
        if (rq->too_large || rq->over_budget)
            return MHD_YES; /* the rest is read and dropped; the refusal comes at the end */
        if (rq->body.len + n > s->limits.max_body) {
            rq->too_large = true;
            release_body(s, rq);
            return MHD_YES;
        }
        /* a chunked body (no Content-Length) takes its budget as it grows */
        if (rq->body.len + n > rq->reserved &&
            !reserve_body(s, rq, rq->body.len + n - rq->reserved)) {
            rq->over_budget = true;
            release_body(s, rq);
            return MHD_YES;
        }
        return pl_buffer_append(&rq->body, upload_data, n) ? MHD_YES : MHD_NO;
    }
    conn_phase_set(s, c, CONN_BUSY);
    if (rq->too_large)
        return refuse_too_large(s, c, url, 0);
    if (rq->over_budget)
        return refuse_busy(s, c, url);
    if (is_stopping(s))
        return MHD_NO;

    mhd_api.MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, rq);
    if (rq->headers.failed)
        return MHD_NO;
    pl_sandbox_request request = {
        .method = method,
        .path = url,
        .headers = (const pl_sandbox_header *)rq->headers.data,
        .n_headers = rq->headers.len / sizeof(pl_sandbox_header),
        .body = pl_buffer_text(&rq->body),
        .body_len = rq->body.len,
    };
    pl_sandbox_answer answer;
    memset(&answer, 0, sizeof answer);
    if (s->service.prepare)
        request.prepared = s->service.prepare(s->instance, &request); /* without a turn */
    request.turns = &s->turns;
    pl_turns_take(&s->turns);
    s->service.handle(s->instance, &request, &answer);
    pl_turns_end(&s->turns);
    if (request.prepared && s->service.release)
        s->service.release(request.prepared);
    release_body(s, rq); /* not held while the latency is waited out and the answer sent */

    enum MHD_Result ret = MHD_NO; /* closes the connection without an answer */
    if (!wait_latency(s, answer.latency_ms)) {
        struct MHD_Response *r = make_response(&answer);
        if (r) {
            ret = mhd_api.MHD_queue_response(c, (unsigned)answer.status, r);
            mhd_api.MHD_destroy_response(r);
        }
    }
    pl_sandbox_answer_clear(&answer);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    pl_sandbox *s = cls;
    (void)toe;
    request *rq = *con_cls;
    if (rq) {
        release_body(s, rq);
        pl_buffer_free(&rq->headers);
        free(rq);
        *con_cls = NULL;
    }
    conn_phase_set(s, c, CONN_WAITING); /* for the next request on this connection */
}

/* Whether two client addresses are the same host (ports aside). */
static bool same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    if (a->ss_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                      &((const struct sockaddr_in6 *)b)->sin6_addr,
                      sizeof(struct in6_addr)) == 0;
    return false;
}

/* Every connection is known from its start to its end, for the watchdog and the limits. MHD calls CLOSED
 * before it closes the socket, so the watchdog never touches a descriptor reused since. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    pl_sandbox *s = cls;
    pthread_mutex_lock(&s->conn_lock);
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            mhd_api.MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        conn *k = info ? calloc(1, sizeof *k) : NULL;
        if (k) {
            k->fd = info->connect_fd;
            k->phase = CONN_WAITING;
            k->since = now_monotonic();
            const union MHD_ConnectionInfo *peer =
                mhd_api.MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
            if (peer && peer->client_addr)
                memcpy(&k->peer, peer->client_addr,
                       peer->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                                : sizeof(struct sockaddr_in));
            /* past a limit, the connection is answered 503 or 429 at its first request */
            unsigned same = 0;
            for (conn *o = s->conns; o; o = o->next)
                same += same_address(&o->peer, &k->peer);
            if (s->n_conns >= s->limits.max_connections)
                k->over = 503;
            else if (same >= s->limits.max_per_ip)
                k->over = 429;
            k->next = s->conns;
            if (s->conns)
                s->conns->prev = k;
            s->conns = k;
            s->n_conns++;
        }
        *socket_context = k;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        conn *k = *socket_context;
        if (k->prev)
            k->prev->next = k->next;
        else
            s->conns = k->next;
        if (k->next)
            k->next->prev = k->prev;
        s->n_conns--;
        free(k);
        *socket_context = NULL;
    }
    pthread_mutex_unlock(&s->conn_lock);
}

/* Drops the connections that are too slow: headers not complete within idle_timeout, or a
 * body arriving slower than min_rate (see pl_sandbox_options). shutdown() wakes the
 * connection's thread, which closes it as a client that went away. */
static void drop_slow(pl_sandbox *s)
{
    double now = now_monotonic();
    double grace = (double)s->limits.idle_timeout;
    pthread_mutex_lock(&s->conn_lock);
    for (conn *k = s->conns; k; k = k->next) {
        if (k->dropped || k->phase == CONN_BUSY)
            continue;
        double allowed = grace;
        if (k->phase == CONN_BODY)
            allowed += (double)k->bytes / (double)s->limits.min_rate;
        if (now - k->since > allowed) {
            shutdown(k->fd, SHUT_RDWR);
            k->dropped = true;
        }
    }
    pthread_mutex_unlock(&s->conn_lock);
}

static void *watchdog_main(void *arg)
{
    pl_sandbox *s = arg;
    pthread_mutex_lock(&s->stop_lock);
    while (!s->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += WATCH_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->stop_cond, &s->stop_lock, &until);
        if (s->stopping)
            break;
        pthread_mutex_unlock(&s->stop_lock);
        drop_slow(s);
        pthread_mutex_lock(&s->stop_lock);
    }
    pthread_mutex_unlock(&s->stop_lock);
    return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Starting and stopping */

static int parse_address(const char *host, int port, struct sockaddr_storage *addr, char *err,
                         size_t errlen)
{
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    memset(addr, 0, sizeof *addr);
    struct sockaddr_in *v4 = (struct sockaddr_in *)addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)addr;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        return 0;
    }
    snprintf(err, errlen,
             "cannot listen on '%s': give a numeric IPv4 or IPv6 address such as 127.0.0.1",
             host);
    return -1;
}

static void sandbox_free(pl_sandbox *s)
{
    if (s->instance)
        s->service.close(s->instance);
    pl_turns_destroy(&s->turns);
    pthread_mutex_destroy(&s->conn_lock);
    pthread_mutex_destroy(&s->stop_lock);
    pthread_cond_destroy(&s->stop_cond);
    free(s);
}

pl_sandbox *pl_sandbox_start(const pl_sandbox_options *opts, const pl_sandbox_service *service,
                             char *err, size_t errlen)
{
    const char *host = opts->host ? opts->host : "127.0.0.1";
    if (opts->port < 0 || opts->port > 65535) {
        snprintf(err, errlen, "port %d is out of range (0 to 65535; 0 picks a free port)",
                 opts->port);
        return NULL;
    }
    if (!pl_dynlib_load(&mhd_lib, err, errlen))
        return NULL;
    struct sockaddr_storage addr;
    if (parse_address(host, opts->port, &addr, err, errlen) != 0)
        return NULL;

    pl_sandbox *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->service = *service;
    s->limits = *opts;
    if (!s->limits.max_body)
        s->limits.max_body = PL_SANDBOX_DEFAULT_MAX_BODY;
    if (!s->limits.body_budget)
        s->limits.body_budget = PL_SANDBOX_DEFAULT_BODY_BUDGET;
    if (!s->limits.max_connections)
        s->limits.max_connections = PL_SANDBOX_DEFAULT_MAX_CONNECTIONS;
    if (!s->limits.max_per_ip)
        s->limits.max_per_ip = PL_SANDBOX_DEFAULT_MAX_PER_IP;
    if (!s->limits.idle_timeout)
        s->limits.idle_timeout = PL_SANDBOX_DEFAULT_IDLE_TIMEOUT;
    if (!s->limits.min_rate)
        s->limits.min_rate = PL_SANDBOX_DEFAULT_MIN_RATE;
    pl_turns_init(&s->turns);
    pthread_mutex_init(&s->conn_lock, NULL);
    pthread_mutex_init(&s->stop_lock, NULL);
    pthread_cond_init(&s->stop_cond, NULL);
    /* Opened before listening: a bad seed or WSDL is reported, not met by the first request. */
    s->instance = service->open(service->ctx, err, errlen);
    if (!s->instance) {
        sandbox_free(s);
        return NULL;
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
    s->daemon =
        mhd_api.MHD_start_daemon(flags, (uint16_t)opts->port, NULL, NULL, on_request, s,
                                 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                 MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
                                 MHD_OPTION_CONNECTION_LIMIT,
                                 hard_cap(s->limits.max_connections),
                                 MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                                 hard_cap(s->limits.max_per_ip), MHD_OPTION_CONNECTION_TIMEOUT,
                                 s->limits.idle_timeout, MHD_OPTION_END);
    int saved = errno;
    if (s->daemon)
        s->watching = pthread_create(&s->watchdog, NULL, watchdog_main, s) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!s->daemon || !s->watching) {
        if (s->daemon)
            mhd_api.MHD_stop_daemon(s->daemon);
        snprintf(err, errlen, "cannot listen on %s port %d: %s", host, opts->port,
                 !s->daemon && saved ? strerror(saved)
                 : s->daemon         ? "cannot start the watchdog thread"
                                     : "the HTTP server did not start");
        sandbox_free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info =
        mhd_api.MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? (int)info->port : opts->port;
    return s;
}

int pl_sandbox_port(const pl_sandbox *s)
{
    return s->port;
}

void pl_sandbox_with_service(pl_sandbox *s, void (*fn)(void *instance, void *arg), void *arg)
{
    pl_turns_take(&s->turns);
    fn(s->instance, arg);
    pl_turns_end(&s->turns);
}

void pl_sandbox_stop(pl_sandbox *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->stop_lock);
    s->stopping = 1;
    pthread_cond_broadcast(&s->stop_cond);
    pthread_mutex_unlock(&s->stop_lock);
    if (s->watching)
        pthread_join(s->watchdog, NULL);
    if (s->daemon)
        mhd_api.MHD_stop_daemon(s->daemon); /* closes connections, joins every thread */
    sandbox_free(s);
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
