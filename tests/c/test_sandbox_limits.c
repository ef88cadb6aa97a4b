/* The sandbox server's limits (runtime/sandbox/server.c, pl_sandbox_options) with a service
 * written in C, driven through raw sockets on 127.0.0.1 so a test controls exactly what is
 * sent and when: a body refused from its Content-Length before any of it is sent, the body
 * budget shared by concurrent requests, the connection caps (answered 503 or 429, closed
 * without an answer past a hard cap), and slow senders dropped. No
 * test measures time: waits are bounded only so a broken server fails instead of hanging. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "raw_socket.h"
#include "sandbox/server.h"

/* ---- the service: answers 200 "ok N" (N: the body's length) ---- */

typedef struct test_service {
    int handled;
} test_service;

static void *svc_open(void *ctx, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    return ctx;
}

static void svc_close(void *instance)
{
    (void)instance;
}

static void svc_handle(void *instance, const pl_sandbox_request *rq, pl_sandbox_answer *out)
{
    test_service *t = instance;
    t->handled++;
    out->status = 200;
    pl_sandbox_answer_header(out, "Content-Type", "text/plain");
    pl_buffer_appendf(&out->body, "ok %zu", rq->body_len);
}

static pl_sandbox *start(test_service *t, pl_sandbox_options o)
{
    pl_sandbox_service svc = {.open = svc_open,
                              .handle = svc_handle,
                              .close = svc_close,
                              .ctx = t};
    char err[256];
    pl_sandbox *s = pl_sandbox_start(&o, &svc, err, sizeof err);
    if (!s)
        fprintf(stderr, "start failed: %s\n", err);
    CHECK(s != NULL);
    return s;
}

/* ---- raw sockets (raw_socket.h) ---- */

/* A keep-alive request whose answer "ok N" has been read: the server has accepted the
 * connection and counts it. */
static bool request_ok(int fd)
{
    if (send_text(fd, "GET /ping HTTP/1.1\r\nHost: t\r\n\r\n") != 0)
        return false;
    bool closed;
    char *answer = read_until(fd, "ok 0", &closed);
    bool ok = strstr(answer, "HTTP/1.1 200") && strstr(answer, "ok 0");
    free(answer);
    return ok;
}

static void pause_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- tests ---- */

static void test_content_length_refused_before_the_body(void)
{
    test_service t = {0};
    pl_sandbox *s = start(&t, (pl_sandbox_options){.max_body = 1000});
    if (!s)
        return;
    int port = pl_sandbox_port(s);

    /* the headers alone: the answer comes without a byte of the body sent */
    char *a =
        exchange(port, "POST /Service.asmx HTTP/1.1\r\nHost: t\r\nContent-Type: text/xml\r\n"
                       "Content-Length: 5000\r\n\r\n");
    CHECK(strncmp(a, "HTTP/1.1 413", 12) == 0);
    CHECK(strstr(a, "Content-Type: text/xml") != NULL);
    CHECK(strstr(a, "<soap:Fault><faultcode>soap:Client</faultcode>") != NULL);
    CHECK(strstr(a, "Request body too large: 5000 bytes, this sandbox accepts at most 1000 "
                    "(performlua sandbox --max-body)") != NULL);
    free(a);

    /* a client that asks first (Expect: 100-continue) is never told to continue */
    a = exchange(port, "POST /Service.asmx HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                       "Content-Length: 1001\r\n\r\n");
    CHECK(strncmp(a, "HTTP/1.1 413", 12) == 0 && strstr(a, "100 Continue") == NULL);
    free(a);

    /* the token endpoint answers JSON */
    a = exchange(port,
                 "POST /v2/token HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999\r\n\r\n");
    CHECK(strncmp(a, "HTTP/1.1 413", 12) == 0);
    CHECK(strstr(a, "Content-Type: application/json") != NULL);
    CHECK(strstr(a, "{\"error\": \"request_too_large\", \"error_description\": \"Request body "
                    "too large: 99999999999 bytes") != NULL);
    free(a);

    /* a chunked body (no Content-Length) is refused once it has grown past the limit */
    char chunked[4096];
    char body[1500];
    memset(body, 'x', sizeof body);
    int n = snprintf(chunked, sizeof chunked,
                     "POST /Service.asmx HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                     "Connection: close\r\n\r\n%x\r\n%.*s\r\n0\r\n\r\n",
                     (unsigned)sizeof body, (int)sizeof body, body);
    CHECK(n > 0 && (size_t)n < sizeof chunked);
    a = exchange(port, chunked);
    CHECK(strncmp(a, "HTTP/1.1 413", 12) == 0);
    CHECK(strstr(a, "more than 1000 bytes") != NULL);
    free(a);

    CHECK(t.handled == 0);
    /* within the limit: served */
    a = exchange(port, "POST /Service.asmx HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                       "Content-Length: 5\r\n\r\nhello");
    CHECK(strncmp(a, "HTTP/1.1 200", 12) == 0 && strstr(a, "ok 5"));
    free(a);
    CHECK(t.handled == 1);
    pl_sandbox_stop(s);
}

static void test_body_budget(void)
{
    test_service t = {0};
    pl_sandbox *s = start(&t, (pl_sandbox_options){.max_body = 8000, .body_budget = 10000});
    if (!s)
        return;
    int port = pl_sandbox_port(s);
    char body[6000];
    memset(body, 'b', sizeof body);

    /* A holds 6000 bytes of the budget from the moment its headers are read: the 100
     * Continue says they were */
    int a = dial(port);
    send_text(a, "POST /Service.asmx HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                 "Connection: close\r\nContent-Length: 6000\r\n\r\n");
    bool closed;
    char *cont = read_until(a, "100 Continue", &closed);
    CHECK(strstr(cont, "HTTP/1.1 100 Continue") != NULL);
    free(cont);
    send_all(a, body, 100);

    /* B does not fit beside it: 503 with Retry-After and a fault, before its body is read */
    char *b =
        exchange(port, "POST /Service.asmx HTTP/1.1\r\nHost: t\r\nContent-Length: 6000\r\n"
                       "\r\n");
    CHECK(strncmp(b, "HTTP/1.1 503", 12) == 0);
    CHECK(strstr(b, "Retry-After: 1") != NULL);
    CHECK(strstr(b,
                 "<faultcode>soap:Server</faultcode><faultstring>Server busy: the request "
                 "bodies being received exceed this sandbox's budget of 10000 bytes") != NULL);
    free(b);

    /* A completes and is served; its share comes back, and the same request now fits */
    send_all(a, body + 100, sizeof body - 100);
    char *done = read_until(a, NULL, &closed);
    CHECK(strncmp(done, "HTTP/1.1 200", 12) == 0 && strstr(done, "ok 6000"));
    free(done);
    close(a);
    char request[7000];
    snprintf(request, sizeof request,
             "POST /Service.asmx HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
             "Content-Length: 6000\r\n\r\n%.*s",
             (int)sizeof body, body);
    b = exchange(port, request);
    CHECK(strncmp(b, "HTTP/1.1 200", 12) == 0 && strstr(b, "ok 6000"));
    free(b);
    CHECK(t.handled == 2);
    pl_sandbox_stop(s);
}

/* A connection past a limit is answered: its request gets `status` (503 over
 * max_connections, 429 over max_per_ip) with Retry-After and a SOAP fault naming the flag,
 * before the service sees it, and the connection is closed after the answer. */
static void check_refused(int fd, const char *status, const char *flag)
{
    send_text(fd, "POST /Service.asmx HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc");
    bool closed;
    char *answer = read_until(fd, NULL, &closed);
    CHECK(strncmp(answer, status, strlen(status)) == 0);
    CHECK(strstr(answer, "Retry-After: 1\r\n") != NULL);
    CHECK(strstr(answer, "<soap:Fault><faultcode>soap:") != NULL);
    CHECK(strstr(answer, flag) != NULL);
    CHECK(closed);
    if (!strstr(answer, flag))
        fprintf(stderr, "answer: %s\n", answer);
    free(answer);
}

/* With `cap` connections open and served, more are accepted up to the hard cap (cap + cap/4
 * + 8) and answered `status`; one past the hard cap is closed without an answer. When a served
 * one closes, a new connection is served again. */
static void check_cap(pl_sandbox_options o, int cap, const char *status, const char *flag)
{
    test_service t = {0};
    pl_sandbox *s = start(&t, o);
    if (!s)
        return;
    int port = pl_sandbox_port(s);
    int hard = cap + cap / 4 + 8;
    int fds[32];
    for (int i = 0; i < cap; i++) {
        fds[i] = dial(port);
        CHECK(fds[i] >= 0 && request_ok(fds[i]));
    }
    /* past the limit: accepted (kept idle for now), up to the hard cap */
    for (int i = cap; i < hard; i++)
        fds[i] = dial(port);
    int extra = dial(port);
    if (extra >= 0) {
        send_text(extra, "GET /ping HTTP/1.1\r\nHost: t\r\n\r\n");
        bool closed;
        char *answer = read_until(extra, NULL, &closed);
        CHECK(closed && answer[0] == '\0');
        free(answer);
        close(extra);
    }
    int handled = t.handled;
    for (int i = cap; i < hard; i++) {
        if (fds[i] >= 0) {
            check_refused(fds[i], status, flag);
            close(fds[i]);
        }
    }
    CHECK(t.handled == handled); /* the refused requests never reached the service */
    /* the ones already open are still served */
    CHECK(request_ok(fds[0]));
    close(fds[cap - 1]);
    /* the server sees the close on its own time: try until a connection is served (bounded) */
    bool served = false;
    for (int i = 0; i < 200 && !served; i++) {
        int fd = dial(port);
        if (fd < 0)
            break;
        served = request_ok(fd);
        close(fd);
        if (!served)
            pause_ms(50);
    }
    CHECK(served);
    for (int i = 0; i < cap - 1; i++)
        close(fds[i]);
    pl_sandbox_stop(s);
}

static void test_connection_caps(void)
{
    check_cap((pl_sandbox_options){.max_per_ip = 2}, 2, "HTTP/1.1 429",
              "(performlua sandbox --max-per-ip)");
    check_cap((pl_sandbox_options){.max_connections = 3}, 3, "HTTP/1.1 503",
              "(performlua sandbox --max-connections)");
}

/* A sender that keeps the connection alive a byte at a time (faster than the idle timeout)
 * is dropped: the head must be complete within idle_timeout, a body must keep min_rate. */
static void check_trickle(int port, const char *head, const char *trickle)
{
    int fd = dial(port);
    if (fd < 0)
        return;
    if (head)
        send_text(fd, head);
    bool dropped = false;
    /* 200 bytes, one every 100 ms: far longer than the 1 s (+ 0.2 s for the bytes) allowed */
    for (int i = 0; i < 200 && !dropped; i++) {
        if (send_all(fd, trickle, 1) != 0) {
            dropped = true;
            break;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) > 0) {
            char c;
            ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
            dropped = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
        }
    }
    CHECK(dropped);
    close(fd);
}

static void test_slow_senders_dropped(void)
{
    test_service t = {0};
    pl_sandbox *s = start(&t, (pl_sandbox_options){.idle_timeout = 1, .min_rate = 1000});
    if (!s)
        return;
    int port = pl_sandbox_port(s);
    check_trickle(port, NULL, "X"); /* a header line that never ends */
    check_trickle(port,
                  "POST /Service.asmx HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n",
                  "b");
    CHECK(t.handled == 0);
    /* a client at a normal pace is served */
    char *a = exchange(port, "GET /ping HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    CHECK(strncmp(a, "HTTP/1.1 200", 12) == 0);
    free(a);
    pl_sandbox_stop(s);
}

int main(void)
{
    test_content_length_refused_before_the_body();
    test_body_budget();
    test_connection_caps();
    test_slow_senders_dropped();
    return check_report("test_sandbox_limits");
}
