/* Unit tests of the sandbox's HTTP server (runtime/sandbox/server.c) with a service written in
 * C, reached through the HTTP transport (runtime/net/http.c) on 127.0.0.1: the request the
 * service sees, the answer the client gets, the faults the server carries out, the lock the
 * owner's calls share, and opening/closing the service. No Lua is involved. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "net/http.h"
#include "sandbox/server.h"

/* ---- the service ---- */

typedef struct test_service {
    const char *refuse_open; /* open fails with this message */
    int opened, closed, handled;
    char last_test_header[64];
    size_t last_body_len;
    int body_has_nul;
} test_service;

static void *svc_open(void *ctx, char *err, size_t errlen)
{
    test_service *t = ctx;
    t->opened++;
    if (t->refuse_open) {
        snprintf(err, errlen, "%s", t->refuse_open);
        return NULL;
    }
    return t;
}

static void svc_close(void *instance)
{
    ((test_service *)instance)->closed++;
}

static void svc_handle(void *instance, const pl_sandbox_request *rq, pl_sandbox_answer *out)
{
    test_service *t = instance;
    t->handled++;
    t->last_body_len = rq->body_len;
    t->body_has_nul = memchr(rq->body, '\0', rq->body_len) != NULL;
    t->last_test_header[0] = '\0';
    for (size_t i = 0; i < rq->n_headers; i++)
        if (strcmp(rq->headers[i].name, "X-Test") == 0)
            snprintf(t->last_test_header, sizeof t->last_test_header, "%s",
                     rq->headers[i].value);
    out->status = 200;
    pl_sandbox_answer_header(out, "Content-Type", "text/plain");
    if (strcmp(rq->path, "/echo") == 0) {
        out->status = 201;
        pl_sandbox_answer_header(out, "X-Echo", "yes");
        pl_buffer_appendf(&out->body, "%s %s %zu", rq->method, rq->path, rq->body_len);
    } else if (strcmp(rq->path, "/reset-before") == 0) {
        out->fault = PL_SANDBOX_RESET_BEFORE;
    } else if (strcmp(rq->path, "/reset-after") == 0) {
        out->fault = PL_SANDBOX_RESET_AFTER;
    } else if (strcmp(rq->path, "/truncate") == 0) {
        for (int i = 0; i < 100; i++)
            pl_buffer_append_str(&out->body, "0123456789");
        out->fault = PL_SANDBOX_TRUNCATE;
    } else if (strcmp(rq->path, "/no-memory") == 0) {
        pl_buffer_append_str(&out->body, "lost");
        out->body.failed = true;
    } else {
        out->status = 404;
    }
}

static pl_sandbox_service service_of(test_service *t)
{
    return (pl_sandbox_service){.open = svc_open,
                                .handle = svc_handle,
                                .close = svc_close,
                                .ctx = t};
}

/* ---- the client ---- */

static pl_http_response *request(int port, const char *path, const char *body, size_t body_len)
{
    char url[128], why[PL_HTTP_ERROR_SIZE];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    const char *headers[] = {"X-Test: it's me", NULL};
    pl_http_request req = {.url = url,
                           .body = body,
                           .body_len = body_len,
                           .headers = headers,
                           .idempotent = true,
                           .timeout = 20,
                           .connect_timeout = 5};
    pl_http_multi *m = pl_http_multi_new();
    pl_http_response *r = NULL;
    if (pl_http_start(m, &req, why) < 0) {
        fprintf(stderr, "start failed: %s\n", why);
    } else {
        for (int i = 0; i < 400 && !r; i++) {
            CHECK(pl_http_poll(m, 0.05, why) == 0);
            r = pl_http_next_done(m);
        }
    }
    pl_http_multi_free(m);
    CHECK(r != NULL);
    return r;
}

/* ---- tests ---- */

static void test_answers_and_faults(void)
{
    test_service t = {0};
    pl_sandbox_service svc = service_of(&t);
    char err[256];
    pl_sandbox *s =
        pl_sandbox_start(&(pl_sandbox_options){.host = NULL, .port = 0}, &svc, err, sizeof err);
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(t.opened == 1 && t.closed == 0);
    int port = pl_sandbox_port(s);
    CHECK(port > 0);

    pl_http_response *r = request(port, "/echo", "a\0b", 3);
    CHECK(r && r->status == 201 && strcmp(r->body, "POST /echo 3") == 0);
    CHECK(r && strstr(r->headers, "X-Echo: yes\r\n") &&
          strstr(r->headers, "Content-Type: text/plain\r\n"));
    CHECK(t.last_body_len == 3 && t.body_has_nul);
    CHECK(strcmp(t.last_test_header, "it's me") == 0);
    pl_http_response_free(r);

    r = request(port, "/echo", NULL, 0);
    CHECK(r && r->status == 201 && strcmp(r->body, "GET /echo 0") == 0);
    pl_http_response_free(r);

    /* reset: the connection closes without an answer, after the service saw the request */
    int handled = t.handled;
    r = request(port, "/reset-before", "x", 1);
    CHECK(r && r->curl_code != 0 && r->status == 0 && r->sent);
    CHECK(t.handled == handled + 1);
    pl_http_response_free(r);
    r = request(port, "/reset-after", "x", 1);
    CHECK(r && r->curl_code != 0 && r->status == 0);
    pl_http_response_free(r);

    /* truncate: the whole length announced, half of it sent */
    r = request(port, "/truncate", "x", 1);
    CHECK(r && r->curl_code != 0 && r->body_len <= 500);
    pl_http_response_free(r);

    /* a service that ran out of memory for its answer: closed, never half an answer */
    r = request(port, "/no-memory", "x", 1);
    CHECK(r && r->curl_code != 0 && r->status == 0 && r->body_len == 0);
    pl_http_response_free(r);

    r = request(port, "/elsewhere", NULL, 0);
    CHECK(r && r->status == 404 && r->body_len == 0);
    pl_http_response_free(r);

    pl_sandbox_stop(s);
    CHECK(t.opened == 1 && t.closed == 1);
}

static void count_call(void *instance, void *arg)
{
    test_service *t = instance;
    *(int *)arg = t->handled;
}

static void test_owner_calls(void)
{
    test_service t = {0};
    pl_sandbox_service svc = service_of(&t);
    char err[256];
    pl_sandbox *s =
        pl_sandbox_start(&(pl_sandbox_options){.host = "localhost"}, &svc, err, sizeof err);
    CHECK(s != NULL);
    if (!s)
        return;
    pl_http_response_free(request(pl_sandbox_port(s), "/echo", NULL, 0));
    int seen = -1;
    pl_sandbox_with_service(s, count_call, &seen);
    CHECK(seen == 1);
    pl_sandbox_stop(s);
    pl_sandbox_stop(NULL);
}

static void test_refusals(void)
{
    char err[256];
    test_service t = {.refuse_open = "the seed is unreadable"};
    pl_sandbox_service svc = service_of(&t);
    CHECK(pl_sandbox_start(&(pl_sandbox_options){0}, &svc, err, sizeof err) == NULL);
    CHECK(strcmp(err, "the seed is unreadable") == 0);
    CHECK(t.opened == 1 && t.closed == 0);

    test_service u = {0};
    svc = service_of(&u);
    CHECK(pl_sandbox_start(&(pl_sandbox_options){.host = "example.com"}, &svc, err,
                           sizeof err) == NULL);
    CHECK(strcmp(err,
                 "cannot listen on 'example.com': give a numeric IPv4 or IPv6 address such "
                 "as 127.0.0.1") == 0);
    CHECK(pl_sandbox_start(&(pl_sandbox_options){.port = 70000}, &svc, err, sizeof err) ==
          NULL);
    CHECK(strcmp(err, "port 70000 is out of range (0 to 65535; 0 picks a free port)") == 0);
    CHECK(u.opened == 0);

    /* a port in use: the service was opened, and is closed again */
    pl_sandbox *first = pl_sandbox_start(&(pl_sandbox_options){0}, &svc, err, sizeof err);
    CHECK(first != NULL);
    if (!first)
        return;
    int port = pl_sandbox_port(first);
    CHECK(pl_sandbox_start(&(pl_sandbox_options){.port = port}, &svc, err, sizeof err) == NULL);
    char expected[64];
    snprintf(expected, sizeof expected, "cannot listen on 127.0.0.1 port %d: ", port);
    CHECK(strncmp(err, expected, strlen(expected)) == 0);
    CHECK(u.opened == 2 && u.closed == 1);
    pl_sandbox_stop(first);
    CHECK(u.closed == 2);
}

int main(void)
{
    test_answers_and_faults();
    test_owner_calls();
    test_refusals();
    return check_report("test_sandbox_server");
}
