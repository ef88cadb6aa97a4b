/* Turns on one resource (the sandbox's one Lua state) for many threads: a ticket lock, fair
 * in FIFO order. A thread takes a ticket and waits until it is served; the holder gives the
 * turn to the next ticket when it ends. Unlike a mutex, the holder can give its turn up in the
 * middle of its work (pl_turns_yield, at a point where the resource is consistent) and come
 * back after everyone who was waiting then: a long request lets short ones through instead of
 * holding them for all of its time. Pure C (pthreads). */
#ifndef PL_SANDBOX_TURNS_H
#define PL_SANDBOX_TURNS_H

#include <pthread.h>
#include <stdbool.h>

typedef struct pl_turns {
    pthread_mutex_t lock;
    pthread_cond_t changed; /* broadcast when `serving` moves on */
    unsigned long next;     /* the ticket the next taker gets */
    unsigned long serving;  /* the ticket whose turn it is */
    unsigned long yields;   /* turns given up by pl_turns_yield (statistics, tests) */
} pl_turns;

void pl_turns_init(pl_turns *t);
void pl_turns_destroy(pl_turns *t);

/* Takes a ticket and blocks until it is served: the caller has the turn. */
void pl_turns_take(pl_turns *t);

/* Ends the caller's turn: the next ticket is served. */
void pl_turns_end(pl_turns *t);

/* How many threads hold a ticket and wait for their turn (besides the holder). */
unsigned long pl_turns_waiting(pl_turns *t);

/* A safe point of the holder: when others are waiting, ends its turn, takes a new ticket
 * (behind every one of them) and blocks until it is served again; true when it did. Without
 * waiters it returns false at once, keeping the turn. */
bool pl_turns_yield(pl_turns *t);

/* How many times a holder has given up its turn at a safe point. */
unsigned long pl_turns_yields(pl_turns *t);

#endif
