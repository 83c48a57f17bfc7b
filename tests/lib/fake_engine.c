/* fake_engine.c: a FAKE Docker engine on a unix socket, for fault injection in unit tests. */
#include "tests/lib/testutil.h"
#include "tests/lib/fake_engine.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "launchpad/clock.h"

#define FAKE_MAX_ROUTES 64
#define FAKE_MAX_LOG    256
#define FAKE_REQ_MAX    (256 << 10)

struct route {
	char method[16];
	char path[512];
	int status;
	char *body;
	size_t len;
	int delay_ms;
};

struct lp_fake_engine {
	char path[108];
	int fd;
	pthread_t thread;
	atomic_int stop;
	pthread_mutex_t lock;
	char api[16], min_api[16];
	int accept_min, accept_max;
	struct route routes[FAKE_MAX_ROUTES];
	size_t nroutes;
	char *log[FAKE_MAX_LOG];
	size_t nlog;
	char last_body[8192];
};

static int parse_version(const char *s)
{
	int major, minor;

	if (sscanf(s, "%d.%d", &major, &minor) != 2)
		return -1;
	return major * 1000 + minor;
}

static void write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void answer(int fd, int status, const char *type, const char *body, size_t len)
{
	char head[256];
	int n;

	if (status == 204 || status == 304)
		n = snprintf(head, sizeof(head), "HTTP/1.1 %d Fake\r\nConnection: close\r\n\r\n",
		             status);
	else
		n = snprintf(head, sizeof(head),
		             "HTTP/1.1 %d Fake\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		             "Connection: close\r\n\r\n",
		             status, type, len);
	write_all(fd, head, (size_t)n);
	if (status != 204 && status != 304)
		write_all(fd, body, len);
}

static void sleep_ms(lp_fake_engine *f, int ms)
{
	for (; ms > 0 && !atomic_load(&f->stop); ms -= 10)
		lp_clock_sleep_ms(10);
}

/* Read one request (headers + Content-Length body) into buf; returns header length or -1. */
static int read_request(int fd, char *buf, size_t cap, size_t *total)
{
	size_t len = 0, need = 0;
	char *end = NULL, *cl;
	ssize_t r;

	while (len < cap - 1) {
		r = recv(fd, buf + len, cap - 1 - len, 0);
		if (r <= 0)
			return -1;
		len += (size_t)r;
		buf[len] = '\0';
		if (end == NULL && (end = strstr(buf, "\r\n\r\n")) != NULL) {
			cl = strcasestr(buf, "\r\nContent-Length:");
			need = (size_t)(end - buf) + 4;
			if (cl != NULL && cl < end)
				need += strtoul(cl + 17, NULL, 10);
		}
		if (end != NULL && len >= need) {
			*total = len;
			return (int)(end - buf) + 4;
		}
	}
	return -1;
}

static void serve_one(lp_fake_engine *f, int fd)
{
	static char buf[FAKE_REQ_MAX];
	char method[16] = "", target[2048] = "", path[2048], msg[256], verbuf[16];
	const char *p;
	struct route rt = {0};
	size_t total = 0, i;
	int hdr, ver = 0, found = 0, vlen;
	char *copy = NULL;

	hdr = read_request(fd, buf, sizeof(buf), &total);
	if (hdr < 0 || sscanf(buf, "%15s %2047s", method, target) != 2)
		return;
	pthread_mutex_lock(&f->lock);
	if (f->nlog < FAKE_MAX_LOG) {
		size_t n = strlen(method) + strlen(target) + 2;

		f->log[f->nlog] = malloc(n);
		if (f->log[f->nlog]) {
			snprintf(f->log[f->nlog], n, "%s %s", method, target);
			f->nlog++;
		}
	}
	if (total > (size_t)hdr)
		LP_TEST_FMT(f->last_body, "%.*s", (int)(total - (size_t)hdr), buf + hdr);
	pthread_mutex_unlock(&f->lock);

	p = target;
	if (p[0] == '/' && p[1] == 'v' && sscanf(p + 2, "%15[0-9.]%n", verbuf, &vlen) == 1 &&
	    p[2 + vlen] == '/') {
		ver = parse_version(verbuf);
		p += 2 + vlen;
	}
	LP_TEST_FMT(path, "%s", p);
	path[strcspn(path, "?")] = '\0';

	pthread_mutex_lock(&f->lock);
	if (ver > 0 && ver > f->accept_max) {
		LP_TEST_FMT(msg,
		            "{\"message\":\"client version %s is too new. Maximum supported API "
		            "version is %d.%d\"}",
		            verbuf, f->accept_max / 1000, f->accept_max % 1000);
		pthread_mutex_unlock(&f->lock);
		answer(fd, 400, "application/json", msg, strlen(msg));
		return;
	}
	if (ver > 0 && ver < f->accept_min) {
		/* The real engine answers this one as plain text. */
		LP_TEST_FMT(msg,
		            "client version %s is too old. Minimum supported API version is %d.%d, "
		            "please upgrade your client to a newer version\n",
		            verbuf, f->accept_min / 1000, f->accept_min % 1000);
		pthread_mutex_unlock(&f->lock);
		answer(fd, 400, "text/plain", msg, strlen(msg));
		return;
	}
	if (ver == 0 && !strcmp(path, "/version")) {
		LP_TEST_FMT(
		    msg,
		    "{\"Version\":\"fake-1.0\",\"ApiVersion\":\"%s\",\"MinAPIVersion\":\"%s\","
		    "\"Os\":\"linux\",\"Arch\":\"amd64\"}",
		    f->api, f->min_api);
		pthread_mutex_unlock(&f->lock);
		answer(fd, 200, "application/json", msg, strlen(msg));
		return;
	}
	for (i = 0; i < f->nroutes; i++) {
		if (!strcmp(f->routes[i].method, method) && !strcmp(f->routes[i].path, path)) {
			rt = f->routes[i];
			copy = malloc(rt.len + 1);
			if (copy)
				memcpy(copy, rt.body, rt.len);
			found = copy != NULL;
			break;
		}
	}
	pthread_mutex_unlock(&f->lock);
	if (!found) {
		if (ver == 0 && !strcmp(path, "/_ping")) {
			answer(fd, 200, "text/plain", "OK", 2);
			return;
		}
		LP_TEST_FMT(msg, "{\"message\":\"fake engine: no route for %s %s\"}", method, path);
		answer(fd, 404, "application/json", msg, strlen(msg));
		return;
	}
	sleep_ms(f, rt.delay_ms);
	answer(fd, rt.status, "application/json", copy, rt.len);
	free(copy);
}

static void *fake_main(void *arg)
{
	lp_fake_engine *f = arg;
	struct pollfd pfd = {.fd = f->fd, .events = POLLIN};
	int c;

	while (!atomic_load(&f->stop)) {
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		c = accept(f->fd, NULL, NULL);
		if (c < 0)
			continue;
		serve_one(f, c);
		shutdown(c, SHUT_WR);
		close(c);
	}
	return NULL;
}

lp_fake_engine *lp_fake_engine_start(const char *socket_path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	lp_fake_engine *f;

	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return NULL;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return NULL;
	LP_TEST_FMT(f->path, "%s", socket_path);
	LP_TEST_FMT(sa.sun_path, "%s", socket_path);
	pthread_mutex_init(&f->lock, NULL);
	atomic_init(&f->stop, 0);
	lp_fake_engine_set_versions(f, "1.41", "1.12");
	unlink(socket_path);
	f->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f->fd < 0 || bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(f->fd, 64) != 0 || pthread_create(&f->thread, NULL, fake_main, f) != 0) {
		if (f->fd >= 0)
			close(f->fd);
		pthread_mutex_destroy(&f->lock);
		free(f);
		return NULL;
	}
	return f;
}

void lp_fake_engine_stop(lp_fake_engine *f)
{
	size_t i;

	if (f == NULL)
		return;
	atomic_store(&f->stop, 1);
	pthread_join(f->thread, NULL);
	close(f->fd);
	unlink(f->path);
	for (i = 0; i < f->nroutes; i++)
		free(f->routes[i].body);
	for (i = 0; i < f->nlog; i++)
		free(f->log[i]);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

void lp_fake_engine_set_versions(lp_fake_engine *f, const char *api, const char *min_api)
{
	pthread_mutex_lock(&f->lock);
	LP_TEST_FMT(f->api, "%s", api);
	LP_TEST_FMT(f->min_api, "%s", min_api);
	f->accept_min = parse_version(min_api);
	f->accept_max = parse_version(api);
	pthread_mutex_unlock(&f->lock);
}

void lp_fake_engine_set_accepted(lp_fake_engine *f, const char *min_api, const char *max_api)
{
	pthread_mutex_lock(&f->lock);
	f->accept_min = parse_version(min_api);
	f->accept_max = parse_version(max_api);
	pthread_mutex_unlock(&f->lock);
}

void lp_fake_engine_route(lp_fake_engine *f, const char *method, const char *path, int status,
                          const char *body, size_t len, int delay_ms)
{
	struct route *rt = NULL;
	size_t i;

	if (body == NULL)
		body = "";
	if (len == (size_t)-1)
		len = strlen(body);
	pthread_mutex_lock(&f->lock);
	for (i = 0; i < f->nroutes; i++)
		if (!strcmp(f->routes[i].method, method) && !strcmp(f->routes[i].path, path))
			rt = &f->routes[i];
	if (rt == NULL && f->nroutes < FAKE_MAX_ROUTES)
		rt = &f->routes[f->nroutes++];
	if (rt != NULL) {
		free(rt->body);
		LP_TEST_FMT(rt->method, "%s", method);
		LP_TEST_FMT(rt->path, "%s", path);
		rt->status = status;
		rt->body = malloc(len + 1);
		if (rt->body)
			memcpy(rt->body, body, len);
		rt->len = rt->body ? len : 0;
		rt->delay_ms = delay_ms;
	}
	pthread_mutex_unlock(&f->lock);
}

size_t lp_fake_engine_nrequests(lp_fake_engine *f)
{
	size_t n;

	pthread_mutex_lock(&f->lock);
	n = f->nlog;
	pthread_mutex_unlock(&f->lock);
	return n;
}

void lp_fake_engine_request(lp_fake_engine *f, size_t i, char *out, size_t outlen)
{
	pthread_mutex_lock(&f->lock);
	snprintf(out, outlen, "%s", i < f->nlog ? f->log[i] : "");
	pthread_mutex_unlock(&f->lock);
}

void lp_fake_engine_last_body(lp_fake_engine *f, char *out, size_t outlen)
{
	pthread_mutex_lock(&f->lock);
	snprintf(out, outlen, "%s", f->last_body);
	pthread_mutex_unlock(&f->lock);
}
