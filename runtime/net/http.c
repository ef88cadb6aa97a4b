/* HTTP transport over the libcurl multi interface (see http.h for the policy). */
#include "net/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "util/allocator.h"
#include "util/buffer.h"
#include "util/dynlib.h"

/* libcurl is loaded on first use (util/dynlib.h): a run that makes no HTTP call does not load
 * it, nor OpenSSL and the rest it brings.
 *
 * curl.h wraps curl_easy_setopt and curl_easy_getinfo in type-checking macros (typecheck-gcc.h:
 * a long option given an int, a callback of the wrong shape, ... warn at compile time, and
 * CMakeLists.txt compiles this file with -Wsystem-headers so those warnings are not hidden as
 * coming from a system header). The macros end in a plain call of the function's name, which
 * cannot be "curl_api.curl_easy_setopt": the calls below go through EASY_SETOPT/EASY_GETINFO,
 * which declare a local pointer of that name (to the loaded function) for the macro's call to
 * land on. Elsewhere the names stay macros, so the table's members are only named where no
 * parenthesis follows them. */
/* clang-format off */
#define CURL_SYMBOLS(X)                                                                        \
    X(curl_global_init) X(curl_global_init_mem) X(curl_version_info) X(curl_multi_init) X(curl_multi_cleanup)          \
    X(curl_multi_add_handle) X(curl_multi_remove_handle) X(curl_multi_socket_action)           \
    X(curl_multi_setopt) X(curl_multi_info_read) X(curl_multi_strerror) X(curl_easy_init)      \
    X(curl_easy_cleanup) X(curl_easy_reset) X(curl_easy_setopt) X(curl_easy_getinfo)           \
    X(curl_easy_strerror)                                                                      \
    X(curl_slist_append) X(curl_slist_free_all) X(curl_url) X(curl_url_set) X(curl_url_get)    \
    X(curl_url_cleanup) X(curl_free)
/* clang-format on */
static struct curl_api {
    CURL_SYMBOLS(PL_DYNLIB_MEMBER)
} curl_api;
#define CURL_ENTRY(name) PL_DYNLIB_ENTRY_IN(struct curl_api, name)
static const pl_dynlib_symbol curl_symbols[] = {CURL_SYMBOLS(CURL_ENTRY)};
static pl_dynlib curl_lib =
    PL_DYNLIB_INIT(PL_CURL_SONAME, PL_CURL_PACKAGE, "HTTP requests", curl_symbols, &curl_api);

/* curl_easy_setopt / curl_easy_getinfo through curl.h's type checks (see above). */
#define EASY_SETOPT(e, opt, val)                                                               \
    __extension__({                                                                            \
        __typeof__(curl_api.curl_easy_setopt) curl_easy_setopt = curl_api.curl_easy_setopt;    \
        curl_easy_setopt(e, opt, val);                                                         \
    })
#define EASY_GETINFO(e, info, arg)                                                             \
    __extension__({                                                                            \
        __typeof__(curl_api.curl_easy_getinfo) curl_easy_getinfo = curl_api.curl_easy_getinfo; \
        curl_easy_getinfo(e, info, arg);                                                       \
    })

#define DEFAULT_MAX_RESPONSE ((size_t)512 * 1024 * 1024)
/* Idle connections older than this are not reused: servers and load balancers close idle
 * connections after a minute or two, and a request written into a connection the server is
 * closing has an unknown outcome. Staying well below their limits keeps that case rare. */
#define MAX_IDLE_CONNECTION_AGE 50L
/* Finished easy handles kept for the next transfers (curl_easy_reset, not a new handle per
 * call: creating and freeing one was ~14,000 instructions a call). As many as are ever in
 * flight at once is enough; a burst above it frees the extra ones. */
#define MAX_IDLE_HANDLES 32

typedef struct transfer {
    pl_http_response resp; /* first member: a response pointer is the transfer pointer */
    CURL *easy;
    struct curl_slist *header_list;
    char *request_body;
    size_t request_len;
    bool idempotent;
    bool has_body;
    bool too_large;
    bool resend_refused; /* the prerequest hook stopped a second sending (see on_prereq) */
    pl_buffer body;    /* handed over to resp.body when the transfer completes */
    pl_buffer headers; /* the final response's header lines, likewise */
    size_t max_response;
    double started;
    char curl_error[CURL_ERROR_SIZE];
    struct transfer *prev, *next; /* running list, or done queue (next only) */
} transfer;

/* A socket libcurl asked to be watched (CURLMOPT_SOCKETFUNCTION): for reading, writing or
 * both (CURL_POLL_IN, CURL_POLL_OUT, CURL_POLL_INOUT). */
typedef struct watched {
    curl_socket_t fd;
    int what;
} watched;

struct pl_http_multi {
    CURLM *multi;
    /* The event interface (curl_multi_socket_action): libcurl says which sockets to watch and
     * when its next timeout is due; pl_http_poll polls those sockets and tells libcurl which
     * are ready. curl_multi_perform instead looked at every transfer's socket with a poll of
     * its own (zero timeout) on each pass, readable or not: one to two kernel entries a call
     * more than the answer needs (see pl_http_poll). */
    watched *socks;
    int n_socks, cap_socks;
    struct pollfd *pfds; /* pl_http_poll's copy of socks (libcurl may change socks meanwhile) */
    int cap_pfds;
    bool timer_set;  /* libcurl has a timeout pending, due at timer_at (now_seconds()) */
    double timer_at;
    /* The most transfers ever running at once. libcurl keeps at most 4 idle connections per
     * transfer on the multi handle by default, counted when a connection is given back, and
     * that count falls as the finished transfers of a batch are removed: connections the
     * next batch needed were closed and opened again (19 connections instead of 16 for
     * batches of 16, tests/c/test_http.c). The bound is set from this peak instead
     * (CURLMOPT_MAXCONNECTS, 4 per transfer as libcurl's rule). */
    int peak_running;
    long next_id;
    transfer *running;
    transfer *done_head, *done_tail;
    int n_running, n_done;
    CURL *idle[MAX_IDLE_HANDLES]; /* reset handles ready for the next transfer */
    int n_idle;
    /* The last URL check_url allowed, and whether its host is loopback: a client sends every
     * call to the same URL, and parsing it again each time was ~7,000 instructions a call. */
    char *allowed_url;
    bool allowed_loopback;
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;
static char global_error[PL_HTTP_ERROR_SIZE];

/* GnuTLS initialises itself the moment it is loaded, and libcurl loads it: Debian's libcurl4
 * (the OpenSSL build) depends on librtmp and libldap, which depend on GnuTLS. Neither is ever
 * used here (only http and https are allowed), and both call gnutls_global_init themselves
 * when they are. The implicit initialisation (the system's priority file, the random
 * generator, p11-kit's trust modules) cost every process that made a call 0.8 MB of memory
 * and a million instructions (tests/bench/README.md, "Fifth round"). GnuTLS's constructor
 * skips it when GNUTLS_NO_IMPLICIT_INIT is 1: set for the load only, and only when the user
 * has not set it, so programs this one starts later see the environment it was given. Threads
 * that may read the environment meanwhile (a --sandbox's server, idle until this first call)
 * are safe: the variable is added at the end and removed again, which moves only the
 * terminating NULL. */
static void load_curl_without_gnutls_init(void)
{
    static const char name[] = "GNUTLS_NO_IMPLICIT_INIT";
    bool set_here = getenv(name) == NULL && setenv(name, "1", 0) == 0;
    pl_dynlib_load(&curl_lib, NULL, 0);
    if (set_here)
        unsetenv(name);
}

static void global_init(void)
{
    bool earlier = pl_dynlib_in_process(&curl_lib);
    load_curl_without_gnutls_init();
    if (!pl_dynlib_load(&curl_lib, global_error, sizeof global_error)) {
        global_rc = CURLE_FAILED_INIT;
        return;
    }
    /* libcurl's blocks go to the process's allocator for busy heaps (util/allocator.h), unless
     * the library was in the process before this load (a Lua C module linked with it): blocks
     * it made already must still find the allocator that made them. */
    const pl_allocator *a = pl_allocator_get();
    global_rc = !earlier && a->is_mimalloc
                    ? curl_api.curl_global_init_mem(CURL_GLOBAL_DEFAULT, a->malloc, a->free,
                                                    a->realloc, a->strdup, a->calloc)
                    : curl_api.curl_global_init(CURL_GLOBAL_DEFAULT);
    if (global_rc != CURLE_OK)
        snprintf(global_error, sizeof global_error, "could not initialise libcurl (%s)",
                 curl_api.curl_easy_strerror(global_rc));
}

bool pl_http_load(char *why, size_t why_size)
{
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK && why && why_size)
        snprintf(why, why_size, "%s", global_error);
    return global_rc == CURLE_OK;
}

void pl_http_library_version(char *out, size_t size, bool with_tls)
{
    if (!pl_http_load(NULL, 0)) {
        snprintf(out, size, "(not loaded: %s)", global_error);
        return;
    }
    const curl_version_info_data *v = curl_api.curl_version_info(CURLVERSION_NOW);
    if (with_tls && v->ssl_version)
        snprintf(out, size, "%s (%s)", v->version, v->ssl_version);
    else
        snprintf(out, size, "%s", v->version);
}

/* CURLMOPT_SOCKETFUNCTION: libcurl wants socket s watched for `what`, or no longer
 * (CURL_POLL_REMOVE). Returns -1 (libcurl then fails the transfers on s) out of memory. */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy, (void)socketp;
    pl_http_multi *m = userp;
    for (int i = 0; i < m->n_socks; i++) {
        if (m->socks[i].fd != s)
            continue;
        if (what == CURL_POLL_REMOVE)
            m->socks[i] = m->socks[--m->n_socks];
        else
            m->socks[i].what = what;
        return 0;
    }
    if (what == CURL_POLL_REMOVE)
        return 0;
    if (m->n_socks == m->cap_socks) {
        int cap = m->cap_socks ? m->cap_socks * 2 : 8;
        watched *grown = realloc(m->socks, sizeof *grown * (size_t)cap);
        if (!grown)
            return -1;
        m->socks = grown;
        m->cap_socks = cap;
    }
    m->socks[m->n_socks++] = (watched){s, what};
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: libcurl's next timeout is due in timeout_ms (0: at once; -1: none).
 * pl_http_poll runs it (curl_multi_socket_action with CURL_SOCKET_TIMEOUT) when due. */
static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    pl_http_multi *m = userp;
    m->timer_set = timeout_ms >= 0;
    if (m->timer_set)
        m->timer_at = now_seconds() + (double)timeout_ms / 1000.0;
    return 0;
}

pl_http_multi *pl_http_multi_new(void)
{
    if (!pl_http_load(NULL, 0))
        return NULL;
    pl_http_multi *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->multi = curl_api.curl_multi_init();
    if (!m->multi) {
        free(m);
        return NULL;
    }
    if (curl_api.curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, on_socket) != CURLM_OK ||
        curl_api.curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m) != CURLM_OK ||
        curl_api.curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, on_timer) != CURLM_OK ||
        curl_api.curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m) != CURLM_OK) {
        curl_api.curl_multi_cleanup(m->multi);
        free(m);
        return NULL;
    }
    m->next_id = 1;
    return m;
}

/* A handle for a new transfer: a kept one (reset to libcurl's defaults) or a new one. */
static CURL *easy_take(pl_http_multi *m)
{
    if (m->n_idle > 0)
        return m->idle[--m->n_idle];
    return curl_api.curl_easy_init();
}

/* Gives back the handle of a transfer removed from the multi handle. curl_easy_reset drops
 * every option (URL, headers, body, callbacks and their data pointers), so nothing of one
 * transfer reaches the next; the connections live in the multi handle and stay reusable. */
static void easy_give_back(pl_http_multi *m, CURL *e)
{
    if (m->n_idle < MAX_IDLE_HANDLES) {
        curl_api.curl_easy_reset(e);
        m->idle[m->n_idle++] = e;
    } else {
        curl_api.curl_easy_cleanup(e);
    }
}

static void transfer_release_request(transfer *t)
{
    if (t->easy) {
        curl_api.curl_easy_cleanup(t->easy);
        t->easy = NULL;
    }
    curl_api.curl_slist_free_all(t->header_list);
    t->header_list = NULL;
    free(t->request_body);
    t->request_body = NULL;
}

static void transfer_free(transfer *t)
{
    transfer_release_request(t);
    pl_buffer_free(&t->body);
    pl_buffer_free(&t->headers);
    free(t->resp.body);
    free(t->resp.headers);
    free(t);
}

void pl_http_response_free(pl_http_response *r)
{
    if (r)
        transfer_free((transfer *)r);
}

void pl_http_multi_free(pl_http_multi *m)
{
    if (!m)
        return;
    transfer *t = m->running;
    while (t) {
        transfer *next = t->next;
        curl_api.curl_multi_remove_handle(m->multi, t->easy);
        transfer_free(t);
        t = next;
    }
    t = m->done_head;
    while (t) {
        transfer *next = t->next;
        transfer_free(t);
        t = next;
    }
    for (int i = 0; i < m->n_idle; i++)
        curl_api.curl_easy_cleanup(m->idle[i]);
    curl_api.curl_multi_cleanup(m->multi); /* may still call on_socket: m is freed after it */
    free(m->socks);
    free(m->pfds);
    free(m->allowed_url);
    free(m);
}

int pl_http_sent(const pl_http_multi *m, long id)
{
    for (const transfer *t = m->running; t; t = t->next)
        if (t->resp.id == id)
            return t->has_body ? t->resp.sent : 1; /* a GET may have left: say so */
    for (const transfer *t = m->done_head; t; t = t->next)
        if (t->resp.id == id)
            return t->resp.sent;
    return -1;
}

int pl_http_pending(const pl_http_multi *m)
{
    return m->n_running + m->n_done;
}

static bool is_loopback_host(const char *host)
{
    if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0)
        return true;
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return false;
}

/* pl_http_url_allowed, also telling whether the host is a loopback address. */
static bool check_url(const char *url, char *why, bool *loopback)
{
    bool ok = false;
    *loopback = false;
    char *scheme = NULL, *host = NULL;
    CURLU *u = curl_api.curl_url();
    if (!u) {
        snprintf(why, PL_HTTP_ERROR_SIZE, "out of memory");
        return false;
    }
    if (curl_api.curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_api.curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_api.curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        snprintf(why, PL_HTTP_ERROR_SIZE, "'%.160s' is not a valid absolute URL", url);
        goto cleanup;
    }
    *loopback = is_loopback_host(host);
    if (strcasecmp(scheme, "https") == 0) {
        ok = true;
    } else if (strcasecmp(scheme, "http") == 0) {
        ok = *loopback;
        if (!ok)
            snprintf(why, PL_HTTP_ERROR_SIZE,
                     "refusing plain http:// to '%.100s': use https:// (plain http is only "
                     "allowed to loopback addresses such as 127.0.0.1)", host);
    } else {
        snprintf(why, PL_HTTP_ERROR_SIZE, "unsupported URL scheme '%.40s' (use https://)", scheme);
    }
cleanup:
    curl_api.curl_free(scheme);
    curl_api.curl_free(host);
    curl_api.curl_url_cleanup(u);
    return ok;
}

bool pl_http_url_allowed(const char *url, char *why)
{
    if (!pl_http_load(why, PL_HTTP_ERROR_SIZE))
        return false;
    bool loopback;
    return check_url(url, why, &loopback);
}

/* The most of a body's announced length reserved before it arrives (an announcement is a
 * server's word: a larger body still grows the buffer as it comes). */
#define BODY_RESERVED_AT_MOST ((size_t)16 * 1024 * 1024)

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    transfer *t = userdata;
    size_t n = size * nmemb;
    if (t->body.len + n > t->max_response) {
        t->too_large = true;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (t->body.cap == 0) {
        /* a page is a megabyte: made at its announced size, not by 12 doublings and copies */
        curl_off_t announced = -1;
        if (EASY_GETINFO(t->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced) == CURLE_OK &&
            announced > (curl_off_t)n && (uint64_t)announced <= t->max_response)
            pl_buffer_reserve(&t->body, (size_t)announced < BODY_RESERVED_AT_MOST
                                            ? (size_t)announced
                                            : BODY_RESERVED_AT_MOST);
    }
    return pl_buffer_append(&t->body, data, n) ? n : 0;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
    transfer *t = userdata;
    size_t n = size * nmemb;
    /* A new status line starts a new response (after 1xx): keep only the final one's headers. */
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0)
        pl_buffer_clear(&t->headers);
    if (t->headers.len + n > 1024 * 1024)
        return 0;
    return pl_buffer_append(&t->headers, data, n) ? n : 0;
}

/* libcurl calls this each time it is about to send the request on a connection (a new one, or
 * a reused one), after connecting and before the first byte goes out. The first call marks the
 * request as possibly sent. A second call means libcurl wants to send it again: it does so
 * silently when a reused connection died after the request was written (Curl_retry_request),
 * and with the body given as CURLOPT_POSTFIELDS nothing else would stop it. A request that is
 * not idempotent may already have reached the server, so that second sending is refused and
 * the transfer fails with an unknown outcome instead of running twice. */
static int on_prereq(void *userdata, char *conn_primary_ip, char *conn_local_ip,
                     int conn_primary_port, int conn_local_port)
{
    (void)conn_primary_ip, (void)conn_local_ip, (void)conn_primary_port, (void)conn_local_port;
    transfer *t = userdata;
    if (t->resp.sent && t->has_body && !t->idempotent) {
        t->resend_refused = true;
        return CURL_PREREQFUNC_ABORT;
    }
    t->resp.sent = true;
    return CURL_PREREQFUNC_OK;
}

/* A timeout the caller gave (checked > 0) in milliseconds, at least 1. */
static long seconds_to_ms(double s)
{
    if (s > (double)LONG_MAX / 1000.0)
        return LONG_MAX;
    long ms = (long)(s * 1000.0);
    return ms > 0 ? ms : 1;
}

#define SETOPT(opt, val)                                                                       \
    do {                                                                                       \
        if (EASY_SETOPT(e, opt, val) != CURLE_OK) {                                            \
            snprintf(why, PL_HTTP_ERROR_SIZE, "libcurl rejected option %s", #opt);             \
            goto fail;                                                                         \
        }                                                                                      \
    } while (0)

/* check_url, remembering the last URL it allowed. */
static bool check_url_cached(pl_http_multi *m, const char *url, char *why, bool *loopback)
{
    if (m->allowed_url && strcmp(m->allowed_url, url) == 0) {
        *loopback = m->allowed_loopback;
        return true;
    }
    if (!check_url(url, why, loopback))
        return false;
    char *copy = strdup(url);
    if (copy) { /* out of memory only means no cache */
        free(m->allowed_url);
        m->allowed_url = copy;
        m->allowed_loopback = *loopback;
    }
    return true;
}

long pl_http_start(pl_http_multi *m, const pl_http_request *req, char *why)
{
    bool loopback;
    if (!req->url || !check_url_cached(m, req->url, why, &loopback))
        return -1;
    /* The timeouts are the caller's policy (performlua.client's defaults): a transfer that
     * could wait for ever is refused rather than given a default nobody chose. */
    if (!(req->timeout > 0) || !(req->connect_timeout > 0)) {
        snprintf(why, PL_HTTP_ERROR_SIZE,
                 "the request has no %s: give it in seconds (a number > 0)",
                 !(req->timeout > 0) ? "timeout" : "connect_timeout");
        return -1;
    }
    transfer *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(why, PL_HTTP_ERROR_SIZE, "out of memory");
        return -1;
    }
    t->idempotent = req->idempotent;
    t->max_response = req->max_response_bytes ? req->max_response_bytes : DEFAULT_MAX_RESPONSE;
    t->has_body = req->body != NULL;
    if (t->has_body) {
        t->request_body = malloc(req->body_len ? req->body_len : 1);
        if (!t->request_body) {
            snprintf(why, PL_HTTP_ERROR_SIZE, "out of memory");
            goto fail;
        }
        memcpy(t->request_body, req->body, req->body_len);
        t->request_len = req->body_len;
    }
    CURL *e = t->easy = easy_take(m);
    if (!e) {
        snprintf(why, PL_HTTP_ERROR_SIZE, "could not create a libcurl handle");
        goto fail;
    }
    /* "Expect:" suppresses 100-continue: one round trip less, and no half-sent state. */
    struct curl_slist *list = curl_api.curl_slist_append(NULL, "Expect:");
    if (!list)
        goto oom;
    t->header_list = list;
    for (const char *const *h = req->headers; h && *h; h++) {
        list = curl_api.curl_slist_append(t->header_list, *h);
        if (!list)
            goto oom;
        t->header_list = list;
    }

    SETOPT(CURLOPT_URL, req->url);
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
    SETOPT(CURLOPT_ACCEPT_ENCODING, "");
    SETOPT(CURLOPT_USERAGENT, "performlua/" PERFORMLUA_VERSION);
    SETOPT(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
    SETOPT(CURLOPT_MAXAGE_CONN, MAX_IDLE_CONNECTION_AGE);
    SETOPT(CURLOPT_TIMEOUT_MS, seconds_to_ms(req->timeout));
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS, seconds_to_ms(req->connect_timeout));
    SETOPT(CURLOPT_ERRORBUFFER, t->curl_error);
    SETOPT(CURLOPT_HTTPHEADER, t->header_list);
    SETOPT(CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(CURLOPT_WRITEDATA, t);
    SETOPT(CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(CURLOPT_HEADERDATA, t);
    SETOPT(CURLOPT_PRIVATE, t);
    if (req->ca_file)
        SETOPT(CURLOPT_CAINFO, req->ca_file);
    /* This machine is never reached through a proxy: an http_proxy set for the corporate
     * network would otherwise carry the sandbox's traffic, token included, to the proxy. */
    if (loopback)
        SETOPT(CURLOPT_PROXY, "");
    SETOPT(CURLOPT_PREREQFUNCTION, on_prereq);
    SETOPT(CURLOPT_PREREQDATA, t);
    if (t->has_body) {
        /* The body as POSTFIELDS (the transfer's own copy, alive until it is finished):
         * libcurl writes headers and body with one send() when they fit its buffer, where a
         * read callback made it two, two trips down the TCP stack per call. */
        SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->request_len);
        SETOPT(CURLOPT_POSTFIELDS, t->request_body);
    }
    const char *method = req->method ? req->method : (t->has_body ? "POST" : "GET");
    if (strcmp(method, t->has_body ? "POST" : "GET") != 0)
        SETOPT(CURLOPT_CUSTOMREQUEST, method);

    if (m->n_running + 1 > m->peak_running) {
        m->peak_running = m->n_running + 1;
        /* a refusal only leaves libcurl's own bound */
        (void)curl_api.curl_multi_setopt(m->multi, CURLMOPT_MAXCONNECTS, 4L * m->peak_running);
    }
    if (curl_api.curl_multi_add_handle(m->multi, e) != CURLM_OK) {
        snprintf(why, PL_HTTP_ERROR_SIZE, "could not add the transfer to the multi handle");
        goto fail;
    }
    t->started = now_seconds();
    t->resp.id = m->next_id++;
    t->next = m->running;
    if (m->running)
        m->running->prev = t;
    m->running = t;
    m->n_running++;
    return t->resp.id;

oom:
    snprintf(why, PL_HTTP_ERROR_SIZE, "out of memory");
fail:
    transfer_free(t);
    return -1;
}

static void finish(pl_http_multi *m, transfer *t, CURLcode rc)
{
    CURL *e = t->easy;
    long status = 0, connects = 0, request_size = 0;
    EASY_GETINFO(e, CURLINFO_RESPONSE_CODE, &status);
    EASY_GETINFO(e, CURLINFO_NUM_CONNECTS, &connects);
    EASY_GETINFO(e, CURLINFO_REQUEST_SIZE, &request_size);
    t->resp.status = status;
    t->resp.reused = connects == 0 && rc != CURLE_COULDNT_CONNECT;
    t->resp.curl_code = (int)rc;
    /* For a GET, only what libcurl actually wrote counts (the hook also ran for a request
     * whose connection then failed before writing it); a body's "possibly sent" stays. */
    if (!t->has_body)
        t->resp.sent = request_size > 0;
    if (rc != CURLE_OK) {
        if (t->too_large)
            snprintf(t->resp.error, sizeof t->resp.error,
                     "the response is larger than %zu bytes", t->max_response);
        else if (t->resend_refused)
            snprintf(t->resp.error, sizeof t->resp.error,
                     "the connection closed before an answer arrived; the request was not sent "
                     "again because the server may already have received it");
        else
            snprintf(t->resp.error, sizeof t->resp.error, "%s",
                     t->curl_error[0] ? t->curl_error : curl_api.curl_easy_strerror(rc));
    }
    t->resp.elapsed = now_seconds() - t->started;
    t->resp.body_len = t->body.len;
    t->resp.body = pl_buffer_take(&t->body);
    t->resp.headers_len = t->headers.len;
    t->resp.headers = pl_buffer_take(&t->headers);
    if (!t->resp.body || !t->resp.headers) {
        /* out of memory for an empty string: report the transfer as failed, not as empty */
        t->resp.body_len = t->resp.headers_len = 0;
        if (t->resp.curl_code == 0)
            t->resp.curl_code = CURLE_OUT_OF_MEMORY;
        snprintf(t->resp.error, sizeof t->resp.error, "out of memory");
    }
    curl_api.curl_multi_remove_handle(m->multi, e);
    t->easy = NULL;
    easy_give_back(m, e);
    transfer_release_request(t);

    /* unlink from running, append to done */
    if (t->prev)
        t->prev->next = t->next;
    else
        m->running = t->next;
    if (t->next)
        t->next->prev = t->prev;
    t->prev = t->next = NULL;
    m->n_running--;
    if (m->done_tail)
        m->done_tail->next = t;
    else
        m->done_head = t;
    m->done_tail = t;
    m->n_done++;
}

static void collect_done(pl_http_multi *m)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_api.curl_multi_info_read(m->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        transfer *t = NULL;
        EASY_GETINFO(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        if (t)
            finish(m, t, msg->data.result);
    }
}

/* Tells libcurl what happened: on socket fd (the CURL_CSELECT_* bits), or its timeout is due
 * (fd CURL_SOCKET_TIMEOUT, bits 0). The caller takes the finished transfers (collect_done)
 * once every ready socket was handled: removing a finished handle from the multi handle
 * lowers libcurl's bound on idle connections (4 per handle), and removing them one socket at
 * a time closed connections that the next transfers then opened again (120 connects in
 * 10,000 calls with 16 in flight instead of 16). */
static int socket_action(pl_http_multi *m, curl_socket_t fd, int bits, char *why)
{
    int running = 0;
    CURLMcode mc = curl_api.curl_multi_socket_action(m->multi, fd, bits, &running);
    if (mc != CURLM_OK) {
        snprintf(why, PL_HTTP_ERROR_SIZE, "libcurl multi: %s", curl_api.curl_multi_strerror(mc));
        return -1;
    }
    return 0;
}

/* What poll(2) said about a socket watched for `what`, as libcurl's own check
 * (Curl_socket_check) would tell it: a hang-up or an error on a socket read from makes it
 * readable (the read then sees the end or the error). */
static int select_bits(int what, short revents)
{
    int bits = 0;
    if (what & CURL_POLL_IN) {
        if (revents & (POLLIN | POLLRDNORM | POLLERR | POLLHUP))
            bits |= CURL_CSELECT_IN;
        if (revents & (POLLPRI | POLLRDBAND | POLLNVAL))
            bits |= CURL_CSELECT_ERR;
    }
    if (what & CURL_POLL_OUT) {
        if (revents & (POLLOUT | POLLWRNORM))
            bits |= CURL_CSELECT_OUT;
        if (revents & (POLLERR | POLLHUP | POLLPRI | POLLNVAL))
            bits |= CURL_CSELECT_ERR;
    }
    return bits;
}

/* Milliseconds to wait for `seconds` (> 0), rounded up so a wait never ends just before what
 * it waits for (which would make the loop spin), at most INT_MAX. */
static int wait_ms(double seconds)
{
    if (seconds <= 0)
        return 0;
    double ms = seconds * 1000.0 + 1.0;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* One poll(2) over the watched sockets, waiting at most `timeout` seconds, sleeping only while
 * nothing is ready: each kernel entry here is one the answer needs (a readable socket is read
 * by libcurl without looking again). A signal (Ctrl-C) ends the wait early, with nothing done,
 * so the caller sees it at once. */
int pl_http_poll(pl_http_multi *m, double timeout, char *why)
{
    double deadline = now_seconds() + (timeout > 0 ? timeout : 0);
    bool looked = false;
    for (;;) {
        /* libcurl's due timeout first: a transfer just started is one (it connects or sends
         * from there), and so are its own time limits */
        if (m->timer_set && m->timer_at <= now_seconds()) {
            m->timer_set = false;
            if (socket_action(m, CURL_SOCKET_TIMEOUT, 0, why) != 0)
                return -1;
            collect_done(m);
        }
        if (m->done_head)
            return 0;
        double now = now_seconds();
        if (looked && now >= deadline)
            return 0;
        double wait = deadline - now;
        if (m->timer_set && m->timer_at - now < wait)
            wait = m->timer_at - now;
        int ms = wait_ms(wait);
        int n = m->n_socks;
        if (n > m->cap_pfds) {
            struct pollfd *grown = realloc(m->pfds, sizeof *grown * (size_t)n);
            if (!grown) {
                snprintf(why, PL_HTTP_ERROR_SIZE, "out of memory");
                return -1;
            }
            m->pfds = grown;
            m->cap_pfds = n;
        }
        for (int i = 0; i < n; i++) {
            m->pfds[i].fd = m->socks[i].fd;
            m->pfds[i].events = (short)(((m->socks[i].what & CURL_POLL_IN) ? POLLIN : 0) |
                                        ((m->socks[i].what & CURL_POLL_OUT) ? POLLOUT : 0));
            m->pfds[i].revents = 0;
        }
        looked = true;
        if (n == 0 && ms == 0)
            continue; /* nothing to look at: no kernel entry */
        int ready = poll(m->pfds, (nfds_t)n, ms);
        if (ready < 0) {
            if (errno == EINTR)
                return 0;
            snprintf(why, PL_HTTP_ERROR_SIZE, "poll: %s", strerror(errno));
            return -1;
        }
        /* the copy is walked: libcurl changes socks (on_socket) while it handles each one */
        for (int i = 0; i < n && ready > 0; i++) {
            if (!m->pfds[i].revents)
                continue;
            ready--;
            int what = 0; /* 0: libcurl let the socket go while handling another one */
            for (int j = 0; j < m->n_socks; j++)
                if (m->socks[j].fd == m->pfds[i].fd)
                    what = m->socks[j].what;
            int bits = select_bits(what, m->pfds[i].revents);
            if (bits && socket_action(m, m->pfds[i].fd, bits, why) != 0)
                return -1;
        }
        collect_done(m);
    }
}

pl_http_response *pl_http_next_done(pl_http_multi *m)
{
    transfer *t = m->done_head;
    if (!t)
        return NULL;
    m->done_head = t->next;
    if (!m->done_head)
        m->done_tail = NULL;
    t->next = NULL;
    m->n_done--;
    return &t->resp;
}
