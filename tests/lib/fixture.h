/*
 * The one-platform-per-test fixture the integration suites share: a failed REQUIRE prints the
 * daemons' logs and frees the platform before it aborts the test, so nothing of it keeps running
 * into the next one; the teardown stops the platform cleanly and fails the test when its daemons
 * did not stop. Header-only because it asserts with Check, which platform.c must not use (the
 * lp_platform tool links it outside any test). The caller owns *pp; both leave it NULL.
 */
#ifndef LP_TESTS_FIXTURE_H
#define LP_TESTS_FIXTURE_H

#include <check.h>

#include "tests/lib/platform.h"

#define LP_TEST_FIXTURE_FAIL_LOG     6000 /* bytes of each daemon's log after a failed check */
#define LP_TEST_FIXTURE_TEARDOWN_LOG 4000 /* after a stop that failed */

static inline void lp_test_fixture_fail(lp_test_platform **pp)
{
	lp_test_platform_dump_logs(*pp, LP_TEST_FIXTURE_FAIL_LOG);
	lp_test_platform_free(*pp);
	*pp = NULL;
}

static inline void lp_test_fixture_teardown(lp_test_platform **pp)
{
	lp_error err = {0};
	int rc = lp_test_platform_stop(*pp, 0, &err);

	if (rc != LP_OK)
		lp_test_platform_dump_logs(*pp, LP_TEST_FIXTURE_TEARDOWN_LOG);
	lp_test_platform_free(*pp);
	*pp = NULL;
	ck_assert_msg(rc == LP_OK, "daemons did not stop cleanly: %s", err.message);
}

#define LP_TEST_REQUIRE(pp, cond, ...)                                                             \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			lp_test_fixture_fail(pp);                                                  \
			ck_abort_msg(__VA_ARGS__);                                                 \
		}                                                                                  \
	} while (0)

/* call returns an lp_code and reports through a local lp_error named err. */
#define LP_TEST_REQUIRE_OK(pp, call)                                                               \
	do {                                                                                       \
		int rc_ = (call);                                                                  \
		LP_TEST_REQUIRE(pp, rc_ == LP_OK, "%s: %s", #call, err.message);                   \
	} while (0)

#endif
