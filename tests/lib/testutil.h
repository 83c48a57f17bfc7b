/* testutil.h: helpers shared by the Check suites (temp dirs, running suites, Docker gating). */
#ifndef LAUNCHPAD_TESTUTIL_H
#define LAUNCHPAD_TESTUTIL_H

#include <check.h>
#include <stddef.h>

#include "launchpad/error.h"

/* Make a fresh directory under $TMPDIR (or /tmp); returns a malloc'd path. */
char *lp_test_mkdtemp(const char *prefix);

/* Run a suite in fork mode and return the process exit status (0 when all passed). */
int lp_test_run(Suite *s);

/*
 * Gate for tests that need Docker: returns when the engine answers at $LAUNCHPAD_DOCKER_SOCKET
 * (default /var/run/docker.sock). Otherwise prints a clear message and exits 1 (never a silent
 * skip; skipping is allowed only outside CI when LAUNCHPAD_TEST_SKIP_DOCKER=1).
 */
void lp_test_require_docker(void);

/* Run a shell command; the test fails (naming the command and its status) unless it exits 0. */
void lp_test_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same for code outside a Check test (the benchmarks): LP_OK, or an error naming it. */
int lp_test_sh_try(lp_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Format into a fixed buffer; text that does not fit aborts (naming the format: a failed test, a
 * stopped tool), so a fixture never runs on a silently shortened path. LP_TEST_FMT takes an array.
 */
void lp_test_fmt(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define LP_TEST_FMT(buf, ...) lp_test_fmt((buf), sizeof(buf), __VA_ARGS__)

/* Path of a file under the source tree (LAUNCHPAD_TEST_SRC), malloc'd. */
char *lp_test_src_path(const char *rel);

/* Path of a built binary (LAUNCHPAD_TEST_BIN), malloc'd. */
char *lp_test_bin_path(const char *name);

#endif
