/*
 * lp_probe.c: an app container's health check (docs/apps.md), run by Docker inside it.
 *
 *   lp-probe PORT PATH TIMEOUT
 *
 * GET http://127.0.0.1:PORT/PATH within TIMEOUT seconds: exit 0 on a 2xx or 3xx answer, else
 * one line on stdout ("HTTP 500", "connection refused", "timed out after 2 s") and exit 1,
 * which Docker keeps in State.Health.Log and the controller shows when a revision fails. A
 * container being drained (the marker /.launchpad/drain/<its hostname>, bound read only from
 * the site's drain directory) answers "draining" and 1, so Docker turns it unhealthy and
 * Traefik stops routing to it before it is stopped.
 *
 * Built static (no libc in the image is assumed, no libcurl): it runs in any app image. It
 * reads nothing but the status line, with every size and time bounded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PROBE_DRAIN_DIR   "/.launchpad/drain"
#define PROBE_REQUEST_MAX 2048 /* the request: the path is at most 1024 bytes (the spec's cap) */
#define PROBE_STATUS_MAX  256  /* the status line; the rest of the answer is not read */
#define PROBE_HOST_MAX    256
#define PROBE_MARKER_MAX  (sizeof(PROBE_DRAIN_DIR) + PROBE_HOST_MAX + 1)
#define PROBE_TIMEOUT_MAX 60

static int fail(const char *what)
{
	printf("%s\n", what);
	return 1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until the absolute deadline: 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	long long left;
	int rc;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return 0;
		rc = poll(&p, 1, (int)left);
		if (rc > 0)
			return 1;
		if (rc == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

static int draining(void)
{
	char host[PROBE_HOST_MAX], marker[PROBE_MARKER_MAX];
	struct stat st;
	int n;

	if (gethostname(host, sizeof(host)) != 0)
		return 0;
	host[sizeof(host) - 1] = '\0';
	n = snprintf(marker, sizeof(marker), "%s/%s", PROBE_DRAIN_DIR, host);
	return n > 0 && (size_t)n < sizeof(marker) && stat(marker, &st) == 0;
}

/* The status code of "HTTP/1.x NNN ...", or 0. */
static int status_code(const char *line)
{
	if (strncmp(line, "HTTP/", 5) != 0)
		return 0;
	line = strchr(line, ' ');
	if (line == NULL || line[1] < '1' || line[1] > '5' || line[2] < '0' || line[2] > '9' ||
	    line[3] < '0' || line[3] > '9')
		return 0;
	return (line[1] - '0') * 100 + (line[2] - '0') * 10 + (line[3] - '0');
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = {.sin_family = AF_INET};
	char req[PROBE_REQUEST_MAX], buf[PROBE_STATUS_MAX], msg[PROBE_STATUS_MAX], *end;
	long port, timeout;
	long long deadline;
	size_t got = 0, sent = 0, len;
	int fd, rc, code, n;
	socklen_t elen = sizeof(rc);

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 4)
		return fail("usage: lp-probe PORT PATH TIMEOUT");
	port = strtol(argv[1], &end, 10);
	if (*end != '\0' || port < 1 || port > 65535)
		return fail("bad port");
	timeout = strtol(argv[3], &end, 10);
	if (*end != '\0' || timeout < 1 || timeout > PROBE_TIMEOUT_MAX)
		return fail("bad timeout");
	if (argv[2][0] != '/' || strpbrk(argv[2], " \r\n") != NULL)
		return fail("bad path");
	if (draining())
		return fail("draining");
	n = snprintf(req, sizeof(req),
	             "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%ld\r\nUser-Agent: lp-probe\r\n"
	             "Connection: close\r\n\r\n",
	             argv[2], port);
	if (n < 0 || (size_t)n >= sizeof(req))
		return fail("path too long");
	len = (size_t)n;
	deadline = now_ms() + timeout * 1000;
	addr.sin_port = htons((unsigned short)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail("no socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 && errno != EINPROGRESS)
		return fail(errno == ECONNREFUSED ? "connection refused" : strerror(errno));
	rc = wait_fd(fd, POLLOUT, deadline);
	if (rc <= 0)
		goto timed_out;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &rc, &elen) != 0 || rc != 0)
		return fail(rc == ECONNREFUSED ? "connection refused" : strerror(rc));
	while (sent < len) {
		ssize_t w = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
		if (w > 0) {
			sent += (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return fail(strerror(errno));
		if ((rc = wait_fd(fd, POLLOUT, deadline)) <= 0)
			goto timed_out;
	}
	/* The status line only: up to its end, or what fits. */
	while (got < sizeof(buf) - 1 && memchr(buf, '\n', got) == NULL) {
		ssize_t r;

		if ((rc = wait_fd(fd, POLLIN, deadline)) <= 0)
			goto timed_out;
		r = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
		if (r == 0)
			break;
		if (r < 0 && errno != EAGAIN && errno != EINTR)
			return fail(errno == ECONNRESET ? "connection reset" : strerror(errno));
		if (r > 0)
			got += (size_t)r;
	}
	buf[got] = '\0';
	close(fd);
	code = status_code(buf);
	if (code == 0)
		return fail(got == 0 ? "connection closed without an answer"
		                     : "not an HTTP answer");
	n = snprintf(msg, sizeof(msg), "HTTP %d", code);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return fail("HTTP ?");
	if (code >= 200 && code < 400) {
		printf("%s\n", msg);
		return 0;
	}
	return fail(msg);
timed_out:
	n = snprintf(msg, sizeof(msg), "timed out after %ld s", timeout);
	return fail(n > 0 && (size_t)n < sizeof(msg) ? msg : "timed out");
}
