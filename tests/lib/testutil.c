/* testutil.c: helpers shared by the Check suites. */
#include "tests/lib/testutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

char *lp_test_mkdtemp(const char *prefix)
{
	const char *tmp = getenv("TMPDIR");
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", prefix);
	if (mkdtemp(path) == NULL)
		return NULL;
	return strdup(path);
}

int lp_test_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

static int docker_answers(const char *sock)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char req[] = "GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n";
	char buf[64] = {0};
	int fd, ok = 0;

	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return 0;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    write(fd, req, sizeof(req) - 1) == (ssize_t)(sizeof(req) - 1) &&
	    read(fd, buf, sizeof(buf) - 1) > 0)
		ok = strstr(buf, " 200 ") != NULL;
	close(fd);
	return ok;
}

void lp_test_require_docker(void)
{
	const char *sock = getenv("LAUNCHPAD_DOCKER_SOCKET");
	const char *ci = getenv("CI");
	const char *skip = getenv("LAUNCHPAD_TEST_SKIP_DOCKER");

	if (sock == NULL || *sock == '\0')
		sock = "/var/run/docker.sock";
	if (docker_answers(sock))
		return;
	if (skip && !strcmp(skip, "1") && !(ci && !strcmp(ci, "true"))) {
		fprintf(stderr,
		        "SKIPPED: Docker is not answering at %s (LAUNCHPAD_TEST_SKIP_DOCKER=1)\n",
		        sock);
		exit(0);
	}
	fprintf(stderr,
	        "FAILED: this suite needs a Docker engine, and none answers at %s.\n"
	        "Start one with `scripts/test-env.sh up` (or set LAUNCHPAD_DOCKER_SOCKET).\n",
	        sock);
	exit(1);
}

static char *join_env(const char *var, const char *fallback, const char *rel)
{
	const char *base = getenv(var);
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", base && *base ? base : fallback, rel);
	return strdup(path);
}

char *lp_test_src_path(const char *rel)
{
	return join_env("LAUNCHPAD_TEST_SRC", ".", rel);
}

char *lp_test_bin_path(const char *name)
{
	return join_env("LAUNCHPAD_TEST_BIN", "build/bin", name);
}

void lp_test_sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int n, st;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	ck_assert_msg(n >= 0 && (size_t)n < sizeof(cmd), "command too long: %.80s...", cmd);
	st = system(cmd);
	ck_assert_msg(st == 0, "command failed (%d): %s", st, cmd);
}

int lp_test_sh_try(lp_error *err, const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return lp_error_set(err, LP_ETOOBIG, "command too long: %.80s", cmd);
	if (system(cmd) != 0)
		return lp_error_set(err, LP_ERROR, "failed: %.400s", cmd);
	return LP_OK;
}

void lp_test_fmt(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, size, fmt, ap);
	va_end(ap);
	/*
	 * Not ck_assert: the platform helpers also run in tools outside any test (lp_platform).
	 * Aborting fails a test just as surely (Check reports the signal) and stops a tool.
	 */
	if (n < 0 || (size_t)n >= size) {
		fprintf(stderr, "lp_test_fmt: \"%s\" needs %d bytes, the buffer has %zu\n", fmt, n,
		        size);
		abort();
	}
}
