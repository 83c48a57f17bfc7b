/*
 * queue.h: the controller's keyed work queue (after client-go's rate-limited workqueue).
 *
 * Keys are site names. A key is queued at most once however often it is added; a key being worked
 * on is never handed to a second worker, and an add during processing re-queues it once the worker
 * calls lp_queue_done(). Failures re-queue with per-key exponential backoff plus jitter
 * (base → cap), reset by lp_queue_forget() after a success. Delayed adds wait in the queue itself:
 * lp_queue_get() sleeps until the earliest is due, so no timer thread is needed.
 *
 * The queue copies every key it is given. The key lp_queue_get() returns through *out belongs to
 * the caller (free it after lp_queue_done()). All functions are thread-safe.
 */
#ifndef LAUNCHPAD_QUEUE_H
#define LAUNCHPAD_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "launchpad/error.h"

typedef struct lp_queue lp_queue;

/* Backoff from base_ms doubling per consecutive failure up to cap_ms (design: 5 ms → 5 min). */
int lp_queue_new(lp_queue **out, uint64_t base_ms, uint64_t cap_ms);
void lp_queue_free(lp_queue *q);

/* Queue key now (no-op when already queued). */
int lp_queue_add(lp_queue *q, const char *key);
/* Queue key after delay_ms; an earlier pending due time for the same key wins. */
int lp_queue_add_after(lp_queue *q, const char *key, uint64_t delay_ms);
/* Queue key after its backoff delay and count one more failure; returns the delay chosen. */
uint64_t lp_queue_add_rate_limited(lp_queue *q, const char *key);
/* Reset key's failure count (call after a successful reconcile). */
void lp_queue_forget(lp_queue *q, const char *key);
/* Keys ready or waiting for their time (not those being processed). */
size_t lp_queue_depth(lp_queue *q);
/* Number of consecutive failures recorded for key. */
unsigned lp_queue_failures(lp_queue *q, const char *key);

/*
 * Block until a key is ready and hand it to the caller, marking it processing. Returns LP_ECANCELED
 * once lp_queue_shutdown() was called (remaining keys are dropped).
 */
int lp_queue_get(char **out, lp_queue *q);
/* The worker finished key: re-queues it if it was added meanwhile. */
void lp_queue_done(lp_queue *q, const char *key);

/* Wake every waiter; lp_queue_get() returns LP_ECANCELED from now on. */
void lp_queue_shutdown(lp_queue *q);

/* Keys ready now, and keys waiting for a due time (for metrics and tests). */
void lp_queue_stats(lp_queue *q, size_t *ready, size_t *waiting, size_t *processing);

#endif
