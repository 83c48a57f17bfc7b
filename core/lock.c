/* lock.c: a mutex that records its owner, for lock-ownership assertions. */
#include "launchpad/lock.h"

_Static_assert(sizeof(pthread_t) == sizeof(unsigned long), "pthread_t is an unsigned long");

static unsigned long self(void)
{
	return (unsigned long)pthread_self();
}

void lp_lock_init(lp_lock *l)
{
	pthread_mutex_init(&l->mu, NULL);
	atomic_store(&l->owner, 0);
}

void lp_lock_destroy(lp_lock *l)
{
	pthread_mutex_destroy(&l->mu);
}

void lp_lock_acquire(lp_lock *l)
{
	pthread_mutex_lock(&l->mu);
	atomic_store(&l->owner, self());
}

void lp_lock_release(lp_lock *l)
{
	LP_ASSERT_HELD(l);
	atomic_store(&l->owner, 0);
	pthread_mutex_unlock(&l->mu);
}

int lp_lock_held(lp_lock *l)
{
	return atomic_load(&l->owner) == self();
}

int lp_lock_wait(lp_lock *l, pthread_cond_t *cv, const struct timespec *abstime)
{
	int rc;

	LP_ASSERT_HELD(l);
	atomic_store(&l->owner, 0);
	rc = abstime ? pthread_cond_timedwait(cv, &l->mu, abstime) : pthread_cond_wait(cv, &l->mu);
	atomic_store(&l->owner, self());
	return rc;
}
