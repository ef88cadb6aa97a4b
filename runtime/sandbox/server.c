/* The sandbox's HTTP server (see server.h for the design). */
#include "sandbox/server.h"

#include <arpa/inet.h>
#include <errno.h>
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

#define MAX_BODY (64u * 1024u * 1024u) /* larger requests get 413 */
#define MAX_HEADERS 256                /* enough to route a request; more refuse it */

struct pl_sandbox {
    struct MHD_Daemon *daemon;
    pl_sandbox_service service;
    void *instance; /* the open service; only used while holding `lock` */
    pthread_mutex_t lock;
    pthread_mutex_t stop_lock; /* guards `stopping`, signals latency waits to end */
    pthread_cond_t stop_cond;
    int stopping;
    int port;
};

/* A request being received: MHD calls on_request once to start it, then once per piece of
 * the body, then once more to answer. */
typedef struct request {
    pl_buffer body;
    bool too_large;
    pl_buffer headers; /* pl_sandbox_header items; the strings belong to MHD */
} request;

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
        r = MHD_create_response_from_callback(len, 4096, send_half, hb, free_half);
        if (!r)
            free_half(hb);
    } else {
        r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
        if (!r)
            free(body);
    }
    for (size_t i = 0; r && i < a->n_headers; i++)
        MHD_add_response_header(r, a->headers[i].name, a->headers[i].value);
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
            rq->too_large = true;
            return MHD_YES;
        }
        return pl_buffer_append(&rq->body, upload_data, n) ? MHD_YES : MHD_NO;
    }
    if (rq->too_large)
        return queue_plain(c, 413, "request body larger than 64 MB\n");
    if (is_stopping(s))
        return MHD_NO;

    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, rq);
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
    pthread_mutex_lock(&s->lock);
    s->service.handle(s->instance, &request, &answer);
    pthread_mutex_unlock(&s->lock);

    enum MHD_Result ret = MHD_NO; /* closes the connection without an answer */
    if (!wait_latency(s, answer.latency_ms)) {
        struct MHD_Response *r = make_response(&answer);
        if (r) {
            ret = MHD_queue_response(c, (unsigned)answer.status, r);
            MHD_destroy_response(r);
        }
    }
    pl_sandbox_answer_clear(&answer);
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
        pl_buffer_free(&rq->headers);
        free(rq);
        *con_cls = NULL;
    }
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
    pthread_mutex_destroy(&s->lock);
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
    struct sockaddr_storage addr;
    if (parse_address(host, opts->port, &addr, err, errlen) != 0)
        return NULL;

    pl_sandbox *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->service = *service;
    pthread_mutex_init(&s->lock, NULL);
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
        MHD_start_daemon(flags, (uint16_t)opts->port, NULL, NULL, on_request, s,
                         MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120, MHD_OPTION_END);
    int saved = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!s->daemon) {
        snprintf(err, errlen, "cannot listen on %s port %d: %s", host, opts->port,
                 saved ? strerror(saved) : "the HTTP server did not start");
        sandbox_free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? (int)info->port : opts->port;
    return s;
}

int pl_sandbox_port(const pl_sandbox *s)
{
    return s->port;
}

void pl_sandbox_with_service(pl_sandbox *s, void (*fn)(void *instance, void *arg), void *arg)
{
    pthread_mutex_lock(&s->lock);
    fn(s->instance, arg);
    pthread_mutex_unlock(&s->lock);
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
