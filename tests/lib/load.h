/*
 * load.h: a steady HTTP load from test threads, through the real edge (Traefik), counting every
 * failure: non-2xx answers, socket errors, and bodies the test's checker refuses (a page mixed
 * from two revisions, say).
 *
 * lp_test_load_start() starts nthreads threads, each with its own keep-alive connection, sending
 * GET url with "Host: host" at about rate/nthreads requests a second until lp_test_load_stop().
 * check (may be NULL) judges each 2xx body: return 1 to accept it. The caller owns the load and
 * frees it with lp_test_load_stop (which also fills the figures).
 */
#ifndef LAUNCHPAD_TEST_LOAD_H
#define LAUNCHPAD_TEST_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "launchpad/error.h"

#define LP_TEST_LOAD_FAILURES 32

typedef int (*lp_test_load_check_fn)(void *ctx, const char *body, size_t len);

typedef struct lp_test_load_stats {
	uint64_t requests;
	uint64_t ok;          /* 2xx with a body the checker accepted */
	uint64_t non2xx;      /* any other status */
	uint64_t socket_errs; /* no HTTP answer at all */
	uint64_t bad_bodies;  /* 2xx refused by the checker */
	double seconds;       /* how long the load ran */
	char first_failure[256];
	int64_t first_failure_ms;                  /* since start; -1 when none */
	int64_t last_failure_ms;                   /* since start; -1 when none */
	int64_t failure_ms[LP_TEST_LOAD_FAILURES]; /* the first failures, ms since start */
	size_t nfailures;                          /* of failure_ms */
} lp_test_load_stats;

typedef struct lp_test_load lp_test_load;

int lp_test_load_start(lp_test_load **out, const char *url, const char *host, int nthreads,
                       int rate, lp_test_load_check_fn check, void *ctx, lp_error *err);

/* ms since the load started (to line events up with failure_ms). */
int64_t lp_test_load_elapsed_ms(const lp_test_load *l);

/* The figures so far, without stopping. */
void lp_test_load_peek(lp_test_load_stats *out, lp_test_load *l);

/* Stop the threads, fill *out (may be NULL) and free the load. NULL is a no-op. */
void lp_test_load_stop(lp_test_load_stats *out, lp_test_load *l);

/* failed requests: non2xx + socket_errs + bad_bodies */
uint64_t lp_test_load_failed(const lp_test_load_stats *s);

#endif
