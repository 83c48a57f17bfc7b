/* check_queue.c: the keyed work queue: collapse, one worker per key, delays, backoff, shutdown. */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "controller/queue.h"
#include "tests/lib/testutil.h"

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

START_TEST(test_duplicates_collapse)
{
	lp_queue *q = NULL;
	char *k = NULL;
	size_t ready;

	ck_assert_int_eq(lp_queue_new(&q, 5, 1000), LP_OK);
	lp_queue_add(q, "a");
	lp_queue_add(q, "a");
	lp_queue_add(q, "b");
	lp_queue_add(q, "a");
	lp_queue_stats(q, &ready, NULL, NULL);
	ck_assert_uint_eq(ready, 2);
	ck_assert_int_eq(lp_queue_get(&k, q), LP_OK);
	ck_assert_str_eq(k, "a");
	lp_queue_done(q, k);
	free(k);
	ck_assert_int_eq(lp_queue_get(&k, q), LP_OK);
	ck_assert_str_eq(k, "b");
	lp_queue_done(q, k);
	free(k);
	lp_queue_stats(q, &ready, NULL, NULL);
	ck_assert_uint_eq(ready, 0);
	lp_queue_free(q);
	lp_queue_free(NULL);
}
END_TEST

START_TEST(test_add_while_processing_requeues_after_done)
{
	lp_queue *q = NULL;
	char *k = NULL;
	size_t ready, processing;

	lp_queue_new(&q, 5, 1000);
	lp_queue_add(q, "a");
	lp_queue_get(&k, q);
	lp_queue_add(q, "a");
	lp_queue_add(q, "a");
	lp_queue_stats(q, &ready, NULL, &processing);
	ck_assert_uint_eq(ready, 0); /* never handed to a second worker */
	ck_assert_uint_eq(processing, 1);
	lp_queue_done(q, k);
	free(k);
	lp_queue_stats(q, &ready, NULL, &processing);
	ck_assert_uint_eq(ready, 1);
	ck_assert_uint_eq(processing, 0);
	lp_queue_free(q);
}
END_TEST

START_TEST(test_add_after_waits)
{
	lp_queue *q = NULL;
	char *k = NULL;
	uint64_t t0;

	lp_queue_new(&q, 5, 1000);
	t0 = mono_ms();
	lp_queue_add_after(q, "late", 120);
	lp_queue_add_after(q, "early", 30);
	ck_assert_int_eq(lp_queue_get(&k, q), LP_OK);
	ck_assert_str_eq(k, "early");
	ck_assert_uint_ge(mono_ms() - t0, 30);
	lp_queue_done(q, k);
	free(k);
	ck_assert_int_eq(lp_queue_get(&k, q), LP_OK);
	ck_assert_str_eq(k, "late");
	ck_assert_uint_ge(mono_ms() - t0, 120);
	lp_queue_done(q, k);
	free(k);
	lp_queue_free(q);
}
END_TEST

START_TEST(test_backoff_grows_caps_and_resets)
{
	lp_queue *q = NULL;
	uint64_t d;
	unsigned i;

	lp_queue_new(&q, 10, 300);
	for (i = 0; i < 8; i++) {
		uint64_t expect = 10ull << i;
		if (expect > 300)
			expect = 300;
		d = lp_queue_add_rate_limited(q, "x");
		ck_assert_uint_ge(d, expect);
		ck_assert_uint_le(d, expect + expect / 2 > 300 ? 300 : expect + expect / 2);
	}
	ck_assert_uint_eq(lp_queue_failures(q, "x"), 8);
	lp_queue_forget(q, "x");
	ck_assert_uint_eq(lp_queue_failures(q, "x"), 0);
	d = lp_queue_add_rate_limited(q, "x");
	ck_assert_uint_le(d, 15);
	lp_queue_free(q);
}
END_TEST

static void *blocked_getter(void *arg)
{
	lp_queue *q = arg;
	char *k = NULL;
	long rc = lp_queue_get(&k, q);

	free(k);
	return (void *)rc;
}

START_TEST(test_shutdown_wakes_waiters)
{
	lp_queue *q = NULL;
	pthread_t t;
	void *res;

	lp_queue_new(&q, 5, 1000);
	pthread_create(&t, NULL, blocked_getter, q);
	usleep(50 * 1000);
	lp_queue_shutdown(q);
	pthread_join(t, &res);
	ck_assert_int_eq((int)(long)res, LP_ECANCELED);
	ck_assert_int_eq(lp_queue_add(q, "after"), LP_OK); /* ignored, not an error */
	lp_queue_free(q);
}
END_TEST

#define NKEYS 10
struct stress {
	lp_queue *q;
	atomic_int active[NKEYS];
	atomic_int overlaps;
	atomic_int handled;
};

static void *worker(void *arg)
{
	struct stress *s = arg;
	char *k;

	while (lp_queue_get(&k, s->q) == LP_OK) {
		int i = atoi(k + 1);
		if (atomic_fetch_add(&s->active[i], 1) != 0)
			atomic_fetch_add(&s->overlaps, 1);
		usleep(200);
		atomic_fetch_sub(&s->active[i], 1);
		atomic_fetch_add(&s->handled, 1);
		lp_queue_done(s->q, k);
		free(k);
	}
	return NULL;
}

START_TEST(test_one_worker_per_key_under_load)
{
	struct stress s = {0};
	pthread_t t[4];
	char key[16];
	int i;
	size_t ready = 1, processing = 1;

	lp_queue_new(&s.q, 5, 1000);
	for (i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, worker, &s);
	for (i = 0; i < 2000; i++) {
		snprintf(key, sizeof(key), "k%d", i % NKEYS);
		lp_queue_add(s.q, key);
		if (i % 50 == 0)
			usleep(500);
	}
	for (i = 0; i < 200 && (ready || processing); i++) {
		usleep(10 * 1000);
		lp_queue_stats(s.q, &ready, NULL, &processing);
	}
	lp_queue_shutdown(s.q);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(atomic_load(&s.overlaps), 0);
	ck_assert_int_ge(atomic_load(&s.handled), NKEYS);
	ck_assert_int_lt(atomic_load(&s.handled), 2000); /* duplicates collapsed */
	lp_queue_free(s.q);
}
END_TEST

static Suite *queue_suite(void)
{
	Suite *s = suite_create("queue");
	TCase *tc = tcase_create("queue");

	tcase_add_test(tc, test_duplicates_collapse);
	tcase_add_test(tc, test_add_while_processing_requeues_after_done);
	tcase_add_test(tc, test_add_after_waits);
	tcase_add_test(tc, test_backoff_grows_caps_and_resets);
	tcase_add_test(tc, test_shutdown_wakes_waiters);
	tcase_add_test(tc, test_one_worker_per_key_under_load);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lp_test_run(queue_suite());
}
