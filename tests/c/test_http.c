/* Unit tests of the HTTP transport (runtime/net/http.c) against a tiny HTTP/1.1 responder
 * running in threads of this process on 127.0.0.1 (port chosen by the OS).
 *
 * The responder's behaviour is chosen by the request path:
 *   /ok            200 "hello", keep-alive
 *   /slow          waits 300 ms, then like /ok
 *   /hang          reads the request and never answers
 *   /close-second  answers the first request on a connection; on the second, reads it and
 *                  closes the connection without answering (a keep-alive connection that died)
 *   /gzip          gzip-encoded body
 *   /big           a 100 000-byte body
 * CONNECT (a proxy tunnel request) is answered 403 and recorded. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "net/http.h"

static const unsigned char gzip_body[] = {31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 75, 206, 207, 45,
                                          40, 74, 45, 46, 78, 77, 81, 200, 72, 205, 201, 201,
                                          87, 72, 30, 21, 160, 84, 0, 0, 173, 123, 27, 207, 84,
                                          1, 0, 0};

/* ---- the responder ---- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int requests_seen;          /* complete requests read (all paths) */
static char last_request_head[4096];
static char last_connect_line[256];
static int listen_fd;
static int port;

static void record(const char *head)
{
    pthread_mutex_lock(&log_lock);
    requests_seen++;
    snprintf(last_request_head, sizeof last_request_head, "%s", head);
    pthread_mutex_unlock(&log_lock);
}

static int count_requests(void)
{
    pthread_mutex_lock(&log_lock);
    int n = requests_seen;
    pthread_mutex_unlock(&log_lock);
    return n;
}

static void send_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        p += n;
        len -= (size_t)n;
    }
}

static void reply(int fd, const char *extra_headers, const void *body, size_t len)
{
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Test: a\r\nX-Test: b\r\n"
                     "%sContent-Length: %zu\r\n\r\n", extra_headers, len);
    send_all(fd, head, (size_t)n);
    send_all(fd, body, len);
}

static void *serve_connection(void *arg)
{
    int fd = (int)(intptr_t)arg;
    static char buf[2 * 1024 * 1024 + 8192];
    char *req = malloc(sizeof buf);
    int on_connection = 0;
    size_t have = 0;
    for (;;) {
        char *end;
        while (!(end = memmem(req, have, "\r\n\r\n", 4))) {
            ssize_t n = recv(fd, req + have, sizeof buf - have - 1, 0);
            if (n <= 0)
                goto done;
            have += (size_t)n;
            if (req[0] == 0x16) /* a TLS handshake: this responder speaks plain HTTP only */
                goto done;
        }
        size_t head_len = (size_t)(end - req) + 4;
        char head[4096];
        snprintf(head, sizeof head, "%.*s", (int)(head_len < 4095 ? head_len : 4095), req);
        if (strncmp(head, "CONNECT ", 8) == 0) {
            pthread_mutex_lock(&log_lock);
            snprintf(last_connect_line, sizeof last_connect_line, "%.*s",
                     (int)strcspn(head, "\r"), head);
            pthread_mutex_unlock(&log_lock);
            const char *no = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
            send_all(fd, no, strlen(no));
            goto done;
        }
        size_t body_len = 0;
        char *cl = strcasestr(head, "\r\ncontent-length:");
        if (cl)
            body_len = (size_t)strtoul(cl + 17, NULL, 10);
        while (have < head_len + body_len) {
            ssize_t n = recv(fd, req + have, sizeof buf - have - 1, 0);
            if (n <= 0)
                goto done;
            have += (size_t)n;
        }
        record(head);
        on_connection++;
        memmove(req, req + head_len + body_len, have - head_len - body_len);
        have -= head_len + body_len;

        char path[64] = "";
        sscanf(head, "%*s %63s", path);
        if (strcmp(path, "/slow") == 0) {
            usleep(300 * 1000);
            reply(fd, "", "hello", 5);
        } else if (strcmp(path, "/hang") == 0) {
            char c;
            while (recv(fd, &c, 1, 0) > 0) {
            }
            goto done;
        } else if (strcmp(path, "/close-second") == 0) {
            if (on_connection >= 2)
                goto done;
            reply(fd, "", "hello", 5);
        } else if (strcmp(path, "/gzip") == 0) {
            reply(fd, "Content-Encoding: gzip\r\n", gzip_body, sizeof gzip_body);
        } else if (strcmp(path, "/big") == 0) {
            char *big = malloc(100000);
            memset(big, 'x', 100000);
            reply(fd, "", big, 100000);
            free(big);
        } else {
            reply(fd, "", "hello", 5);
        }
    }
done:
    free(req);
    close(fd);
    return NULL;
}

static int connections_accepted;

static int count_connections(void)
{
    pthread_mutex_lock(&log_lock);
    int n = connections_accepted;
    pthread_mutex_unlock(&log_lock);
    return n;
}

static void *accept_loop(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(listen_fd, NULL, NULL);
        if (fd < 0)
            return NULL;
        pthread_mutex_lock(&log_lock);
        connections_accepted++;
        pthread_mutex_unlock(&log_lock);
        pthread_t th;
        pthread_create(&th, NULL, serve_connection, (void *)(intptr_t)fd);
        pthread_detach(th);
    }
}

static void start_responder(void)
{
    listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listen_fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(listen_fd, 64) != 0) {
        perror("responder");
        exit(2);
    }
    socklen_t len = sizeof a;
    getsockname(listen_fd, (struct sockaddr *)&a, &len);
    port = ntohs(a.sin_port);
    pthread_t th;
    pthread_create(&th, NULL, accept_loop, NULL);
    pthread_detach(th);
}

/* ---- helpers ---- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char url_buf[256];
static const char *url(const char *path)
{
    snprintf(url_buf, sizeof url_buf, "http://127.0.0.1:%d%s", port, path);
    return url_buf;
}

/* A POST of the one-byte body "x" to u, given up after `timeout` seconds. */
static pl_http_request post_x(const char *u, double timeout)
{
    return (pl_http_request){
        .url = u, .body = "x", .body_len = 1, .timeout = timeout, .connect_timeout = 5};
}

/* Runs one request to completion and returns its response (caller frees). */
static pl_http_response *run(pl_http_multi *m, pl_http_request *req)
{
    char why[PL_HTTP_ERROR_SIZE];
    long id = pl_http_start(m, req, why);
    if (id < 0) {
        fprintf(stderr, "start failed: %s\n", why);
        return NULL;
    }
    for (int i = 0; i < 200; i++) {
        CHECK(pl_http_poll(m, 0.1, why) == 0);
        pl_http_response *r = pl_http_next_done(m);
        if (r) {
            CHECK(r->id == id);
            return r;
        }
    }
    fprintf(stderr, "request did not complete\n");
    return NULL;
}

/* ---- tests ---- */

static void test_url_policy(void)
{
    char why[PL_HTTP_ERROR_SIZE];
    CHECK(pl_http_url_allowed("https://mc123.soap.marketingcloudapis.com/Service.asmx", why));
    CHECK(pl_http_url_allowed("http://127.0.0.1:8080/x", why));
    CHECK(pl_http_url_allowed("http://127.9.8.7/x", why));
    CHECK(pl_http_url_allowed("http://localhost:1/", why));
    CHECK(pl_http_url_allowed("http://[::1]:99/", why));
    CHECK(!pl_http_url_allowed("http://example.com/Service.asmx", why));
    CHECK(strcmp(why, "refusing plain http:// to 'example.com': use https:// (plain http is only "
                      "allowed to loopback addresses such as 127.0.0.1)") == 0);
    CHECK(!pl_http_url_allowed("http://128.0.0.1/", why));
    CHECK(!pl_http_url_allowed("ftp://127.0.0.1/", why));
    CHECK(strcmp(why, "unsupported URL scheme 'ftp' (use https://)") == 0);
    CHECK(!pl_http_url_allowed("not a url", why));
    CHECK(strcmp(why, "'not a url' is not a valid absolute URL") == 0);

    pl_http_multi *m = pl_http_multi_new();
    pl_http_request req = {.url = "http://example.com/", .timeout = 20, .connect_timeout = 5};
    CHECK(pl_http_start(m, &req, why) == -1);
    CHECK(pl_http_pending(m) == 0);

    /* the transport has no timeouts of its own: a request without them is refused */
    pl_http_request no_timeout = {.url = url("/ok"), .connect_timeout = 5};
    CHECK(pl_http_start(m, &no_timeout, why) == -1);
    CHECK(strcmp(why, "the request has no timeout: give it in seconds (a number > 0)") == 0);
    no_timeout.timeout = -1;
    CHECK(pl_http_start(m, &no_timeout, why) == -1);
    no_timeout.timeout = NAN;
    CHECK(pl_http_start(m, &no_timeout, why) == -1);
    pl_http_request no_connect = {.url = url("/ok"), .timeout = 20};
    CHECK(pl_http_start(m, &no_connect, why) == -1);
    CHECK(strcmp(why,
                 "the request has no connect_timeout: give it in seconds (a number > 0)") == 0);
    CHECK(pl_http_pending(m) == 0);
    pl_http_multi_free(m);
}

static void test_post_and_reuse(void)
{
    pl_http_multi *m = pl_http_multi_new();
    const char *headers[] = {"Content-Type: text/xml; charset=utf-8", "SOAPAction: Perform", NULL};
    /* 2 MB body: libcurl would add "Expect: 100-continue" to a body this size by default. */
    size_t big = 2 * 1024 * 1024;
    char *body = malloc(big);
    memset(body, 'a', big);
    pl_http_request req = {.url = url("/ok"),
                           .body = body,
                           .body_len = big,
                           .headers = headers,
                           .timeout = 20,
                           .connect_timeout = 5};
    pl_http_response *r = run(m, &req);
    free(body);
    CHECK(r && r->status == 200 && r->curl_code == 0 && r->sent);
    CHECK(r && r->body_len == 5 && strcmp(r->body, "hello") == 0);
    CHECK(r && strstr(r->headers, "X-Test: a\r\n") && strstr(r->headers, "X-Test: b\r\n"));
    CHECK(r && !r->reused);
    pthread_mutex_lock(&log_lock);
    CHECK(strncmp(last_request_head, "POST /ok HTTP/1.1\r\n", 19) == 0);
    CHECK(strstr(last_request_head, "SOAPAction: Perform\r\n") != NULL);
    CHECK(strcasestr(last_request_head, "\r\nExpect:") == NULL);
    CHECK(strstr(last_request_head, "Content-Length: 2097152\r\n") != NULL);
    CHECK(strcasestr(last_request_head, "\r\nAccept-Encoding: ") != NULL);
    pthread_mutex_unlock(&log_lock);
    pl_http_response_free(r);

    pl_http_request small = post_x(url("/ok"), 20);
    r = run(m, &small);
    CHECK(r && r->status == 200 && r->reused);
    pl_http_response_free(r);
    pl_http_multi_free(m);
}

/* Easy handles are kept and reset between transfers: nothing of one transfer (its method,
 * headers, body) may reach the next one, which still reuses the connection. */
static void test_handle_reuse_forgets(void)
{
    pl_http_multi *m = pl_http_multi_new();
    const char *const once[] = {"X-Once: 1", NULL};
    pl_http_request put = {.url = url("/ok"),
                           .method = "PUT",
                           .body = "abc",
                           .body_len = 3,
                           .headers = once,
                           .timeout = 20,
                           .connect_timeout = 5};
    pl_http_response *r = run(m, &put);
    CHECK(r && r->status == 200);
    pthread_mutex_lock(&log_lock);
    CHECK(strncmp(last_request_head, "PUT /ok HTTP/1.1\r\n", 18) == 0);
    CHECK(strstr(last_request_head, "\r\nX-Once: 1\r\n") != NULL);
    pthread_mutex_unlock(&log_lock);
    pl_http_response_free(r);

    pl_http_request get = {.url = url("/ok"), .timeout = 20, .connect_timeout = 5};
    r = run(m, &get);
    CHECK(r && r->status == 200 && r->reused && r->sent);
    pthread_mutex_lock(&log_lock);
    CHECK(strncmp(last_request_head, "GET /ok HTTP/1.1\r\n", 18) == 0);
    CHECK(strstr(last_request_head, "X-Once") == NULL);
    CHECK(strcasestr(last_request_head, "\r\nContent-Length:") == NULL);
    pthread_mutex_unlock(&log_lock);
    pl_http_response_free(r);

    pl_http_request post = {.url = url("/ok"),
                            .body = "z",
                            .body_len = 1,
                            .timeout = 20,
                            .connect_timeout = 5};
    r = run(m, &post);
    CHECK(r && r->status == 200 && r->sent);
    pthread_mutex_lock(&log_lock);
    CHECK(strncmp(last_request_head, "POST /ok HTTP/1.1\r\n", 19) == 0);
    CHECK(strstr(last_request_head, "Content-Length: 1\r\n") != NULL);
    CHECK(strstr(last_request_head, "X-Once") == NULL);
    pthread_mutex_unlock(&log_lock);
    pl_http_response_free(r);
    pl_http_multi_free(m);
}

static void test_gzip_and_get(void)
{
    pl_http_multi *m = pl_http_multi_new();
    pl_http_request req = {.url = url("/gzip"), .timeout = 20, .connect_timeout = 5};
    pl_http_response *r = run(m, &req);
    CHECK(r && r->status == 200 && r->body_len == 340);
    CHECK(r && strncmp(r->body, "compressed hello compressed hello", 33) == 0);
    pthread_mutex_lock(&log_lock);
    CHECK(strncmp(last_request_head, "GET /gzip HTTP/1.1\r\n", 20) == 0);
    pthread_mutex_unlock(&log_lock);
    pl_http_response_free(r);
    pl_http_multi_free(m);
}

/* The crucial property: a request written into a reused connection that dies before an answer
 * arrives is NOT silently re-sent by libcurl when it is marked non-idempotent. */
static void test_dead_reused_connection(void)
{
    for (int idempotent = 0; idempotent <= 1; idempotent++) {
        pl_http_multi *m = pl_http_multi_new();
        pl_http_request req = {.url = url("/close-second"),
                               .body = "<Envelope/>",
                               .body_len = 11,
                               .idempotent = idempotent,
                               .timeout = 20,
                               .connect_timeout = 5};
        pl_http_response *r = run(m, &req);
        CHECK(r && r->status == 200);
        pl_http_response_free(r);
        int before = count_requests();
        r = run(m, &req);
        CHECK(r != NULL);
        if (!r)
            continue;
        if (idempotent) {
            /* libcurl re-sent it on a new connection, which answered */
            CHECK(r->curl_code == 0 && r->status == 200);
            CHECK(count_requests() - before == 2);
        } else {
            /* the prerequest hook refused the second sending */
            CHECK(r->curl_code == 42); /* CURLE_ABORTED_BY_CALLBACK */
            CHECK(r->sent);
            CHECK(r->status == 0);
            CHECK(strcmp(r->error, "the connection closed before an answer arrived; the "
                                   "request was not sent again because the server may "
                                   "already have received it") == 0);
            CHECK(count_requests() - before == 1);
        }
        pl_http_response_free(r);
        pl_http_multi_free(m);
    }
}

static void test_failures(void)
{
    pl_http_multi *m = pl_http_multi_new();
    /* nothing listens on a port we just closed: refused before anything was sent */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&a, sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    char dead[64];
    snprintf(dead, sizeof dead, "http://127.0.0.1:%d/", ntohs(a.sin_port));
    close(fd);
    pl_http_request refused = post_x(dead, 20);
    pl_http_response *r = run(m, &refused);
    CHECK(r && r->curl_code == 7 && !r->sent && r->status == 0);
    CHECK(r && strstr(r->error, "Failed to connect") != NULL);
    pl_http_response_free(r);

    /* a server that takes the request and never answers: total timeout, sent */
    pl_http_request hang = post_x(url("/hang"), 0.3);
    double t0 = now();
    r = run(m, &hang);
    double took = now() - t0;
    CHECK(r && r->curl_code == 28 && r->sent);
    CHECK(took >= 0.25 && took < 2.0);
    pl_http_response_free(r);

    /* a custom CA bundle is used (and verification is never skipped): a missing one fails */
    char tls_url[64];
    snprintf(tls_url, sizeof tls_url, "https://localhost:%d/", port);
    pl_http_request tls = {.url = tls_url,
                           .ca_file = "/nonexistent/ca.pem",
                           .timeout = 5,
                           .connect_timeout = 5};
    r = run(m, &tls);
    CHECK(r && r->curl_code == 77); /* CURLE_SSL_CACERT_BADFILE */
    pl_http_response_free(r);

    /* the response size limit */
    pl_http_request big = {.url = url("/big"),
                           .max_response_bytes = 1000,
                           .timeout = 20,
                           .connect_timeout = 5};
    r = run(m, &big);
    CHECK(r && r->curl_code == 23);
    CHECK(r && strcmp(r->error, "the response is larger than 1000 bytes") == 0);
    pl_http_response_free(r);
    pl_http_multi_free(m);
}

/* Polls until `want` transfers have finished, none is left running or `deadline` (now()'s
 * clock) passes; each answer must be a 200. Returns how many finished. */
static int collect_ok(pl_http_multi *m, int want, double deadline)
{
    char why[PL_HTTP_ERROR_SIZE];
    int done = 0;
    while (done < want && pl_http_pending(m) > 0 && now() < deadline) {
        CHECK(pl_http_poll(m, 1.0, why) == 0);
        pl_http_response *r;
        while ((r = pl_http_next_done(m))) {
            CHECK(r->status == 200);
            done++;
            pl_http_response_free(r);
        }
    }
    return done;
}

static void test_concurrency(void)
{
    pl_http_multi *m = pl_http_multi_new();
    char why[PL_HTTP_ERROR_SIZE];
    double t0 = now();
    for (int i = 0; i < 8; i++) {
        pl_http_request req = post_x(url("/slow"), 20);
        CHECK(pl_http_start(m, &req, why) == i + 1);
    }
    CHECK(pl_http_pending(m) == 8);
    CHECK(collect_ok(m, 8, t0 + 5) == 8);
    CHECK(pl_http_pending(m) == 0);
    /* eight 300 ms answers overlap: far less than the 2.4 s they take one after another */
    CHECK(now() - t0 < 1.2);

    /* poll with nothing running just waits */
    t0 = now();
    CHECK(pl_http_poll(m, 0.1, why) == 0);
    CHECK(now() - t0 >= 0.09);

    /* freeing a multi handle with transfers still running aborts them cleanly */
    pl_http_request req = post_x(url("/hang"), 20);
    CHECK(pl_http_start(m, &req, why) > 0);
    CHECK(pl_http_poll(m, 0.05, why) == 0);
    pl_http_multi_free(m);
}

static void test_proxy_from_environment(void)
{
    char proxy[64];
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", port);
    setenv("HTTPS_PROXY", proxy, 1);
    unsetenv("NO_PROXY");
    unsetenv("no_proxy");
    pl_http_multi *m = pl_http_multi_new();
    pl_http_request req = post_x("https://mc-proxy-test.invalid/Service.asmx", 5);
    pl_http_response *r = run(m, &req);
    CHECK(r && r->curl_code != 0); /* our responder refuses the tunnel */
    pthread_mutex_lock(&log_lock);
    CHECK(strcmp(last_connect_line, "CONNECT mc-proxy-test.invalid:443 HTTP/1.1") == 0);
    last_connect_line[0] = '\0';
    pthread_mutex_unlock(&log_lock);
    pl_http_response_free(r);
    pl_http_multi_free(m);

    /* NO_PROXY: the request goes straight to the host (TLS to our plain responder fails) */
    setenv("NO_PROXY", "localhost", 1);
    m = pl_http_multi_new();
    char direct[64];
    snprintf(direct, sizeof direct, "https://localhost:%d/", port);
    pl_http_request req2 = post_x(direct, 5);
    r = run(m, &req2);
    CHECK(r && r->curl_code != 0);
    pthread_mutex_lock(&log_lock);
    CHECK(last_connect_line[0] == '\0');
    pthread_mutex_unlock(&log_lock);
    pl_http_response_free(r);
    pl_http_multi_free(m);
    unsetenv("HTTPS_PROXY");
    unsetenv("NO_PROXY");

    /* Loopback is always reached directly: with a proxy for everything (our responder again),
     * the request still arrives in origin form, not as a proxied absolute URL. */
    setenv("http_proxy", proxy, 1);
    setenv("ALL_PROXY", proxy, 1);
    m = pl_http_multi_new();
    pl_http_request local = post_x(url("/ok"), 5);
    r = run(m, &local);
    CHECK(r && r->status == 200 && r->curl_code == 0);
    pthread_mutex_lock(&log_lock);
    CHECK(strncmp(last_request_head, "POST /ok HTTP/1.1\r\n", 19) == 0);
    pthread_mutex_unlock(&log_lock);
    pl_http_response_free(r);
    pl_http_multi_free(m);
    unsetenv("http_proxy");
    unsetenv("ALL_PROXY");
}

/* Batches of transfers started together and finished together keep their connections: libcurl
 * bounds its idle connections by the transfers on the multi handle, and as a batch's finished
 * transfers were removed it closed connections that the next batch then opened again (17 to
 * 19 connections for these batches of 16; the transport now hands libcurl every ready socket
 * before it removes any finished transfer, and sets the bound from the peak). */
static void test_batches_keep_connections(void)
{
    enum { BATCH = 16, ROUNDS = 50 };
    pl_http_multi *m = pl_http_multi_new();
    char why[PL_HTTP_ERROR_SIZE];
    int before = count_connections();
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < BATCH; i++) {
            pl_http_request req = post_x(url("/ok"), 20);
            CHECK(pl_http_start(m, &req, why) > 0);
        }
        CHECK(collect_ok(m, BATCH, now() + 5) == BATCH);
    }
    /* never more connections than transfers at once (fewer when an answer came before the
     * last transfer of a batch started, and its connection was reused) */
    CHECK(count_connections() - before <= BATCH);
    pl_http_multi_free(m);
}

static void on_alarm(int sig)
{
    (void)sig;
}

/* A signal (Ctrl-C) ends a wait at once: the Lua loop checks for it after each poll, and
 * must not first wait out the poll's timeout (an hour here: without this the test hangs
 * until ctest's timeout stops it). */
static void test_signal_ends_wait(void)
{
    pl_http_multi *m = pl_http_multi_new();
    char why[PL_HTTP_ERROR_SIZE];
    pl_http_request req = post_x(url("/hang"), 7200);
    CHECK(pl_http_start(m, &req, why) > 0);
    CHECK(pl_http_poll(m, 0.05, why) == 0); /* connected and sent: now only waiting */
    struct sigaction sa = {0}, old;
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART, as the CLI's handlers */
    sigaction(SIGALRM, &sa, &old);
    /* repeated, so a signal that lands before the wait began is followed by one during it */
    struct itimerval every = {{0, 100000}, {0, 100000}};
    setitimer(ITIMER_REAL, &every, NULL);
    CHECK(pl_http_poll(m, 3600.0, why) == 0);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &old, NULL);
    CHECK(pl_http_pending(m) == 1);
    CHECK(pl_http_next_done(m) == NULL);
    pl_http_multi_free(m);
}

int main(void)
{
    start_responder();
    test_url_policy();
    test_post_and_reuse();
    test_handle_reuse_forgets();
    test_gzip_and_get();
    test_dead_reused_connection();
    test_failures();
    test_concurrency();
    test_batches_keep_connections();
    test_signal_ends_wait();
    test_proxy_from_environment();
    return check_report("test_http");
}
