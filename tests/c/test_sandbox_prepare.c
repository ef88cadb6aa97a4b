/* The server's prepare hook (runtime/sandbox/server.h) runs without the service's lock: a
 * request whose prepare has not finished does not hold up another request, whose answer comes
 * first; what prepare returns reaches handle and is released. Driven through raw sockets on
 * 127.0.0.1; no test measures time (waits are bounded only so a broken server fails). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "raw_socket.h"
#include "sandbox/server.h"

/* ---- the service: /slow's prepare waits until the test lets it go ---- */

typedef struct test_service {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool slow_entered, slow_released;
    int prepared, handled_with_prepared;
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

static void *svc_prepare(void *instance, const pl_sandbox_request *rq)
{
    test_service *t = instance;
    pthread_mutex_lock(&t->mu);
    t->prepared++;
    if (strcmp(rq->path, "/slow") == 0) {
        t->slow_entered = true;
        pthread_cond_broadcast(&t->cond);
        while (!t->slow_released)
            pthread_cond_wait(&t->cond, &t->mu);
    }
    pthread_mutex_unlock(&t->mu);
    int *mark = malloc(sizeof *mark);
    if (mark)
        *mark = 42;
    return mark;
}

static void svc_release(void *prepared)
{
    free(prepared);
}

static void svc_handle(void *instance, const pl_sandbox_request *rq, pl_sandbox_answer *out)
{
    test_service *t = instance;
    pthread_mutex_lock(&t->mu);
    if (rq->prepared && *(int *)rq->prepared == 42)
        t->handled_with_prepared++;
    pthread_mutex_unlock(&t->mu);
    out->status = 200;
    pl_sandbox_answer_header(out, "Content-Type", "text/plain");
    pl_buffer_appendf(&out->body, "ok %s", rq->path);
}

/* ---- tests ---- */

static void test_prepare_runs_without_the_lock(void)
{
    test_service t = {.mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    pl_sandbox_service svc = {.open = svc_open,
                              .prepare = svc_prepare,
                              .release = svc_release,
                              .handle = svc_handle,
                              .close = svc_close,
                              .ctx = &t};
    char err[256];
    pl_sandbox *s = pl_sandbox_start(&(pl_sandbox_options){0}, &svc, err, sizeof err);
    CHECK(s != NULL);
    if (!s)
        return;
    int port = pl_sandbox_port(s);

    int slow = dial(port);
    send_text(slow, "GET /slow HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    pthread_mutex_lock(&t.mu);
    while (!t.slow_entered)
        pthread_cond_wait(&t.cond, &t.mu);
    pthread_mutex_unlock(&t.mu);

    /* /slow is inside prepare: another request is answered meanwhile */
    char *a = exchange(port, "GET /quick HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    CHECK(strncmp(a, "HTTP/1.1 200", 12) == 0 && strstr(a, "ok /quick"));
    free(a);

    pthread_mutex_lock(&t.mu);
    t.slow_released = true;
    pthread_cond_broadcast(&t.cond);
    pthread_mutex_unlock(&t.mu);
    bool closed;
    a = read_until(slow, NULL, &closed);
    CHECK(strncmp(a, "HTTP/1.1 200", 12) == 0 && strstr(a, "ok /slow"));
    free(a);
    close(slow);
    pl_sandbox_stop(s);
    CHECK(t.prepared == 2 && t.handled_with_prepared == 2);
}

int main(void)
{
    test_prepare_runs_without_the_lock();
    return check_report("test_sandbox_prepare");
}
