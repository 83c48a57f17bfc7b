/*
 * lock.h: a mutex that knows its owner, so code that must run "under the lock" can assert it
 * instead of saying so in a comment.
 *
 * lp_lock wraps a pthread mutex and records the thread holding it. LP_ASSERT_HELD(l) aborts when
 * the calling thread does not hold l (assert(3): compiled out under NDEBUG). The caller owns the
 * lp_lock (usually inside its module's struct); nothing is allocated.
 */
#ifndef LAUNCHPAD_LOCK_H
#define LAUNCHPAD_LOCK_H

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

typedef struct lp_lock {
	pthread_mutex_t mu;
	atomic_ulong owner; /* the holder's pthread_t (an unsigned long on Linux); 0: none */
} lp_lock;

void lp_lock_init(lp_lock *l);
void lp_lock_destroy(lp_lock *l);
void lp_lock_acquire(lp_lock *l);
void lp_lock_release(lp_lock *l);
/* 1 when the calling thread holds l. */
int lp_lock_held(lp_lock *l);
/*
 * Wait on cv, releasing l meanwhile (it must be held); until abstime (CLOCK_REALTIME) when not
 * NULL. Returns pthread_cond_(timed)wait's result (ETIMEDOUT).
 */
int lp_lock_wait(lp_lock *l, pthread_cond_t *cv, const struct timespec *abstime);

#define LP_ASSERT_HELD(l) assert(lp_lock_held(l))

#endif
