/* queue.c: keyed work queue with collapse-on-add, one worker per key, and per-key backoff. */
#include "controller/queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * One item per known key. dirty = needs a reconcile; it sits in the ready FIFO exactly when it is
 * dirty and not processing. due_ms != 0 = waiting in `waiting` for a delayed add.
 */
struct item {
	char *key;
	int dirty;
	int processing;
	uint64_t due_ms;
	unsigned failures;
	struct item *next; /* hash chain */
};

#define NBUCKETS 1024

struct lp_queue {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct item *buckets[NBUCKETS];
	struct item **ready; /* ring buffer */
	size_t rhead, rlen, rcap;
	struct item **waiting;
	size_t wlen, wcap;
	size_t processing;
	int shutdown;
	uint64_t base_ms, cap_ms;
	unsigned rng;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static size_t hash(const char *s)
{
	size_t h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h % NBUCKETS;
}

static struct item *find(lp_queue *q, const char *key)
{
	struct item *it;

	for (it = q->buckets[hash(key)]; it; it = it->next)
		if (!strcmp(it->key, key))
			return it;
	return NULL;
}

static struct item *find_or_create(lp_queue *q, const char *key)
{
	struct item *it = find(q, key);
	size_t h;

	if (it)
		return it;
	it = calloc(1, sizeof(*it));
	if (it == NULL)
		return NULL;
	it->key = strdup(key);
	if (it->key == NULL) {
		free(it);
		return NULL;
	}
	h = hash(key);
	it->next = q->buckets[h];
	q->buckets[h] = it;
	return it;
}

/* Forget an item nobody needs any more, so deleted sites do not accumulate. */
static void maybe_release(lp_queue *q, struct item *it)
{
	struct item **pp;

	if (it->dirty || it->processing || it->due_ms || it->failures)
		return;
	for (pp = &q->buckets[hash(it->key)]; *pp; pp = &(*pp)->next) {
		if (*pp == it) {
			*pp = it->next;
			break;
		}
	}
	free(it->key);
	free(it);
}

static int push_ready(lp_queue *q, struct item *it)
{
	if (q->rlen == q->rcap) {
		size_t ncap = q->rcap ? q->rcap * 2 : 64, i;
		struct item **nr = malloc(ncap * sizeof(*nr));
		if (nr == NULL)
			return LP_ENOMEM;
		for (i = 0; i < q->rlen; i++)
			nr[i] = q->ready[(q->rhead + i) % q->rcap];
		free(q->ready);
		q->ready = nr;
		q->rcap = ncap;
		q->rhead = 0;
	}
	q->ready[(q->rhead + q->rlen) % q->rcap] = it;
	q->rlen++;
	pthread_cond_signal(&q->cv);
	return LP_OK;
}

static int mark_dirty(lp_queue *q, struct item *it)
{
	if (it->dirty)
		return LP_OK;
	it->dirty = 1;
	if (it->processing)
		return LP_OK; /* lp_queue_done() re-queues it */
	return push_ready(q, it);
}

int lp_queue_new(lp_queue **out, uint64_t base_ms, uint64_t cap_ms)
{
	lp_queue *q = calloc(1, sizeof(*q));
	pthread_condattr_t ca;

	*out = NULL;
	if (q == NULL)
		return LP_ENOMEM;
	pthread_mutex_init(&q->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cv, &ca);
	pthread_condattr_destroy(&ca);
	q->base_ms = base_ms ? base_ms : 1;
	q->cap_ms = cap_ms < q->base_ms ? q->base_ms : cap_ms;
	q->rng = (unsigned)now_ms() ^ (unsigned)(uintptr_t)q;
	*out = q;
	return LP_OK;
}

void lp_queue_free(lp_queue *q)
{
	size_t i;

	if (q == NULL)
		return;
	for (i = 0; i < NBUCKETS; i++) {
		struct item *it = q->buckets[i], *next;
		for (; it; it = next) {
			next = it->next;
			free(it->key);
			free(it);
		}
	}
	free(q->ready);
	free(q->waiting);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q);
}

int lp_queue_add(lp_queue *q, const char *key)
{
	struct item *it;
	int rc = LP_OK;

	pthread_mutex_lock(&q->mu);
	if (q->shutdown)
		goto done;
	it = find_or_create(q, key);
	rc = it ? mark_dirty(q, it) : LP_ENOMEM;
done:
	pthread_mutex_unlock(&q->mu);
	return rc;
}

int lp_queue_add_after(lp_queue *q, const char *key, uint64_t delay_ms)
{
	struct item *it;
	uint64_t due;
	int rc = LP_OK;

	if (delay_ms == 0)
		return lp_queue_add(q, key);
	pthread_mutex_lock(&q->mu);
	if (q->shutdown)
		goto done;
	it = find_or_create(q, key);
	if (it == NULL) {
		rc = LP_ENOMEM;
		goto done;
	}
	due = now_ms() + delay_ms;
	if (it->due_ms == 0) {
		if (q->wlen == q->wcap) {
			size_t ncap = q->wcap ? q->wcap * 2 : 64;
			struct item **nw = realloc(q->waiting, ncap * sizeof(*nw));
			if (nw == NULL) {
				rc = LP_ENOMEM;
				maybe_release(q, it);
				goto done;
			}
			q->waiting = nw;
			q->wcap = ncap;
		}
		q->waiting[q->wlen++] = it;
		it->due_ms = due;
	} else if (due < it->due_ms) {
		it->due_ms = due;
	}
	pthread_cond_broadcast(&q->cv); /* a sleeper may need an earlier wake-up */
done:
	pthread_mutex_unlock(&q->mu);
	return rc;
}

uint64_t lp_queue_add_rate_limited(lp_queue *q, const char *key)
{
	struct item *it;
	uint64_t delay = q->base_ms;
	unsigned i, failures = 0;

	pthread_mutex_lock(&q->mu);
	it = find_or_create(q, key);
	if (it) {
		failures = it->failures;
		if (it->failures < 64)
			it->failures++;
	}
	for (i = 0; i < failures && delay < q->cap_ms; i++)
		delay *= 2;
	if (delay > q->cap_ms)
		delay = q->cap_ms;
	/* Up to +50% jitter so sites failing together do not retry in lockstep. */
	delay += (uint64_t)rand_r(&q->rng) % (delay / 2 + 1);
	if (delay > q->cap_ms)
		delay = q->cap_ms;
	pthread_mutex_unlock(&q->mu);
	lp_queue_add_after(q, key, delay);
	return delay;
}

void lp_queue_forget(lp_queue *q, const char *key)
{
	struct item *it;

	pthread_mutex_lock(&q->mu);
	it = find(q, key);
	if (it) {
		it->failures = 0;
		maybe_release(q, it);
	}
	pthread_mutex_unlock(&q->mu);
}

unsigned lp_queue_failures(lp_queue *q, const char *key)
{
	struct item *it;
	unsigned n = 0;

	pthread_mutex_lock(&q->mu);
	it = find(q, key);
	if (it)
		n = it->failures;
	pthread_mutex_unlock(&q->mu);
	return n;
}

/* Move due waiters to the ready FIFO; return the earliest remaining due time (0: none). */
static uint64_t promote_due(lp_queue *q)
{
	uint64_t now = now_ms(), next = 0;
	size_t i = 0;

	while (i < q->wlen) {
		struct item *it = q->waiting[i];
		if (it->due_ms <= now) {
			it->due_ms = 0;
			q->waiting[i] = q->waiting[--q->wlen];
			mark_dirty(q, it);
			continue;
		}
		if (next == 0 || it->due_ms < next)
			next = it->due_ms;
		i++;
	}
	return next;
}

int lp_queue_get(char **out, lp_queue *q)
{
	struct item *it;
	int rc = LP_OK;

	*out = NULL;
	pthread_mutex_lock(&q->mu);
	for (;;) {
		uint64_t next;
		if (q->shutdown) {
			rc = LP_ECANCELED;
			goto done;
		}
		next = promote_due(q);
		if (q->rlen > 0)
			break;
		if (next == 0) {
			pthread_cond_wait(&q->cv, &q->mu);
		} else {
			struct timespec ts = {.tv_sec = (time_t)(next / 1000),
			                      .tv_nsec = (long)(next % 1000) * 1000000};
			pthread_cond_timedwait(&q->cv, &q->mu, &ts);
		}
	}
	it = q->ready[q->rhead];
	q->rhead = (q->rhead + 1) % q->rcap;
	q->rlen--;
	*out = strdup(it->key);
	if (*out == NULL) {
		push_ready(q, it);
		rc = LP_ENOMEM;
		goto done;
	}
	it->dirty = 0;
	it->processing = 1;
	q->processing++;
done:
	pthread_mutex_unlock(&q->mu);
	return rc;
}

void lp_queue_done(lp_queue *q, const char *key)
{
	struct item *it;

	pthread_mutex_lock(&q->mu);
	it = find(q, key);
	if (it && it->processing) {
		it->processing = 0;
		q->processing--;
		if (it->dirty && !q->shutdown)
			push_ready(q, it);
		else
			maybe_release(q, it);
	}
	pthread_mutex_unlock(&q->mu);
}

void lp_queue_shutdown(lp_queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->shutdown = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

void lp_queue_stats(lp_queue *q, size_t *ready, size_t *waiting, size_t *processing)
{
	pthread_mutex_lock(&q->mu);
	if (ready)
		*ready = q->rlen;
	if (waiting)
		*waiting = q->wlen;
	if (processing)
		*processing = q->processing;
	pthread_mutex_unlock(&q->mu);
}

size_t lp_queue_depth(lp_queue *q)
{
	size_t n;

	pthread_mutex_lock(&q->mu);
	n = q->rlen + q->wlen;
	pthread_mutex_unlock(&q->mu);
	return n;
}
