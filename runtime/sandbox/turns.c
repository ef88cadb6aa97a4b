/* Turns: a ticket lock whose holder may give its turn up at a safe point (see turns.h). */
#include "sandbox/turns.h"

void pl_turns_init(pl_turns *t)
{
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->changed, NULL);
    t->next = t->serving = t->yields = 0;
}

void pl_turns_destroy(pl_turns *t)
{
    pthread_cond_destroy(&t->changed);
    pthread_mutex_destroy(&t->lock);
}

/* With t->lock held: waits until `ticket` is served. Every waiter wakes at each change and
 * looks at its own ticket (one condition for all: the waiters are the requests in flight,
 * a few hundred at most, and a turn lasts far longer than the wake-ups). */
static void wait_for(pl_turns *t, unsigned long ticket)
{
    while (t->serving != ticket)
        pthread_cond_wait(&t->changed, &t->lock);
}

void pl_turns_take(pl_turns *t)
{
    pthread_mutex_lock(&t->lock);
    unsigned long ticket = t->next++;
    wait_for(t, ticket);
    pthread_mutex_unlock(&t->lock);
}

void pl_turns_end(pl_turns *t)
{
    pthread_mutex_lock(&t->lock);
    t->serving++;
    pthread_cond_broadcast(&t->changed);
    pthread_mutex_unlock(&t->lock);
}

unsigned long pl_turns_waiting(pl_turns *t)
{
    pthread_mutex_lock(&t->lock);
    /* tickets handed out and not yet served, the holder's own excepted */
    unsigned long n = t->next - t->serving;
    pthread_mutex_unlock(&t->lock);
    return n ? n - 1 : 0;
}

bool pl_turns_yield(pl_turns *t)
{
    pthread_mutex_lock(&t->lock);
    if (t->next - t->serving <= 1) {
        pthread_mutex_unlock(&t->lock);
        return false;
    }
    /* the new ticket is taken in the same critical section as the turn is given up, so the
     * holder comes back right after those waiting now, before anyone who comes later */
    unsigned long ticket = t->next++;
    t->serving++;
    t->yields++;
    pthread_cond_broadcast(&t->changed);
    wait_for(t, ticket);
    pthread_mutex_unlock(&t->lock);
    return true;
}

unsigned long pl_turns_yields(pl_turns *t)
{
    pthread_mutex_lock(&t->lock);
    unsigned long n = t->yields;
    pthread_mutex_unlock(&t->lock);
    return n;
}
