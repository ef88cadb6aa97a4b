/* The turn lock (runtime/sandbox/turns.c) the sandbox's requests share the one Lua state by:
 * turns are served in the order the tickets were taken, and a holder that reaches a safe point
 * while others wait lets every one of them through before it goes on. Orders and counters are
 * checked, never durations: waits are bounded only so a broken lock fails instead of hanging. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "check.h"
#include "sandbox/turns.h"

static pl_turns turns;
static atomic_int order[16]; /* who had the turn, in turn order */
static atomic_int n_order;

static void record(int who)
{
    order[atomic_fetch_add(&n_order, 1)] = who;
}

static void pause_ms(long ms)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits until `n` threads wait for their turn (bounded: 20 s). */
static bool until_waiting(unsigned long n)
{
    for (int i = 0; i < 2000; i++) {
        if (pl_turns_waiting(&turns) == n)
            return true;
        pause_ms(10);
    }
    return false;
}

static void *waiter(void *arg)
{
    int who = (int)(long)arg;
    pl_turns_take(&turns);
    record(who);
    pl_turns_end(&turns);
    return NULL;
}

/* Four threads come one after the other while the turn is held: they are served in the order
 * they came, whatever order the scheduler wakes them in. */
static void test_fifo(void)
{
    pl_turns_init(&turns);
    n_order = 0;
    pl_turns_take(&turns);
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        pthread_create(&th[i], NULL, waiter, (void *)(long)(i + 1));
        CHECK(until_waiting((unsigned long)i + 1)); /* its ticket is taken before the next */
    }
    CHECK(n_order == 0); /* nobody ran while the turn was held */
    pl_turns_end(&turns);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    CHECK(n_order == 4);
    for (int i = 0; i < 4; i++)
        CHECK(order[i] == i + 1);
    CHECK(pl_turns_waiting(&turns) == 0);
    pl_turns_destroy(&turns);
}

/* A long job (100 steps, a safe point between steps) holds the turn; a waiter that comes
 * while it runs gets the turn at the next safe point, long before the job ends, and the job
 * then goes on to its end. Without waiters a safe point keeps the turn. */
static atomic_int step;
static atomic_int step_seen_by_waiter = -1;
static atomic_int waiter_in; /* the waiter has started */

static void *short_request(void *arg)
{
    (void)arg;
    waiter_in = 1;
    pl_turns_take(&turns);
    step_seen_by_waiter = step;
    record(2);
    pl_turns_end(&turns);
    return NULL;
}

static void test_safe_point(void)
{
    pl_turns_init(&turns);
    n_order = 0;
    pl_turns_take(&turns);
    CHECK(!pl_turns_yield(&turns)); /* nobody waits: the turn is kept */
    CHECK(pl_turns_yields(&turns) == 0);
    pthread_t th;
    bool yielded = false;
    for (step = 0; step < 100; step++) {
        if (step == 10) {
            pthread_create(&th, NULL, short_request, NULL);
            CHECK(until_waiting(1));
        }
        if (pl_turns_yield(&turns)) {
            CHECK(!yielded); /* only once: the waiter came once */
            yielded = true;
            record(1);
        }
    }
    pl_turns_end(&turns);
    pthread_join(th, NULL);
    CHECK(yielded);
    CHECK(step_seen_by_waiter == 10); /* served at the first safe point after it came */
    CHECK(n_order == 2 && order[0] == 2 && order[1] == 1);
    CHECK(pl_turns_yields(&turns) == 1);
    pl_turns_destroy(&turns);
}

/* A holder that yields goes behind those waiting when it yields, each in ticket order, and
 * comes back before one that came later. */
static void *yielder(void *arg)
{
    (void)arg;
    pl_turns_take(&turns);
    record(1);
    CHECK(until_waiting(2)); /* 2 and 3 are waiting */
    CHECK(pl_turns_yield(&turns));
    record(1);
    pl_turns_end(&turns);
    return NULL;
}

static void *late_waiter(void *arg)
{
    (void)arg;
    pl_turns_take(&turns);
    record(4);
    pl_turns_end(&turns);
    return NULL;
}

static void *first_waiter(void *arg)
{
    (void)arg;
    pl_turns_take(&turns);
    record(2);
    /* 3 and the yielder wait; a fourth comes now, after the yielder's new ticket */
    CHECK(until_waiting(2));
    pthread_t th;
    pthread_create(&th, NULL, late_waiter, NULL);
    CHECK(until_waiting(3));
    pl_turns_end(&turns);
    pthread_join(th, NULL);
    return NULL;
}

static void test_yield_order(void)
{
    pl_turns_init(&turns);
    n_order = 0;
    pl_turns_take(&turns); /* held by the test until everyone has a ticket */
    pthread_t y, w2, w3;
    pthread_create(&y, NULL, yielder, NULL);
    CHECK(until_waiting(1));
    pthread_create(&w2, NULL, first_waiter, NULL);
    CHECK(until_waiting(2));
    pthread_create(&w3, NULL, waiter, (void *)3L);
    CHECK(until_waiting(3));
    pl_turns_end(&turns);
    pthread_join(y, NULL);
    pthread_join(w2, NULL);
    pthread_join(w3, NULL);
    int want[] = {1, 2, 3, 1, 4};
    CHECK(n_order == 5);
    for (int i = 0; i < 5; i++)
        CHECK(order[i] == want[i]);
    pl_turns_destroy(&turns);
}

int main(void)
{
    test_fifo();
    test_safe_point();
    test_yield_order();
    return check_report("test_sandbox_turns");
}
