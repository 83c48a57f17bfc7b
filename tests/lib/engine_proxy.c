/* engine_proxy.c: a FAULT-INJECTING unix-socket proxy to the real engine (see engine_proxy.h). */
#include "tests/lib/engine_proxy.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "launchpad/clock.h"

#define PROXY_CONNS_MAX 256
#define PROXY_CHUNK     65536
#define PROXY_POLL_MS   100

struct conn {
	int client, upstream;
	pthread_t thread;
	int used;
};

struct lp_engine_proxy {
	char listen_path[108], engine_path[108];
	int fd;
	pthread_t thread;
	atomic_int stop;
	pthread_mutex_t lock;
	struct conn conns[PROXY_CONNS_MAX]; /* under lock */
	int64_t refuse_until;               /* under lock; monotonic ms */
	unsigned accepted;                  /* under lock */
};

static int unix_socket(const char *path, int do_listen)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(path) >= sizeof(a.sun_path))
		goto fail;
	memcpy(a.sun_path, path, strlen(path) + 1);
	if (do_listen) {
		unlink(path);
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 64) != 0)
			goto fail;
	} else if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		goto fail;
	}
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Copy what is readable from one side to the other; 0 when that side is done. */
static int pump(int from, int to)
{
	char buf[PROXY_CHUNK];
	ssize_t n = read(from, buf, sizeof(buf)), off = 0;

	if (n <= 0)
		return 0;
	while (off < n) {
		ssize_t w = send(to, buf + off, (size_t)(n - off), MSG_NOSIGNAL);

		if (w <= 0)
			return 0;
		off += w;
	}
	return 1;
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;

	for (;;) {
		struct pollfd p[2] = {{.fd = c->client, .events = POLLIN},
		                      {.fd = c->upstream, .events = POLLIN}};

		if (poll(p, 2, PROXY_POLL_MS) < 0 && errno != EINTR)
			break;
		if ((p[0].revents && !pump(c->client, c->upstream)) ||
		    (p[1].revents && !pump(c->upstream, c->client)))
			break;
	}
	shutdown(c->client, SHUT_RDWR);
	shutdown(c->upstream, SHUT_RDWR);
	return NULL;
}

/* Join and close the connections whose threads are done (all of them when all is set). */
static void reap(lp_engine_proxy *p, int all)
{
	int i;

	for (i = 0; i < PROXY_CONNS_MAX; i++) {
		struct conn *c = &p->conns[i];

		pthread_mutex_lock(&p->lock);
		if (!c->used || (!all && pthread_tryjoin_np(c->thread, NULL) != 0)) {
			pthread_mutex_unlock(&p->lock);
			continue;
		}
		if (all) {
			shutdown(c->client, SHUT_RDWR);
			shutdown(c->upstream, SHUT_RDWR);
		}
		pthread_mutex_unlock(&p->lock);
		if (all)
			pthread_join(c->thread, NULL);
		pthread_mutex_lock(&p->lock);
		close(c->client);
		close(c->upstream);
		c->used = 0;
		pthread_mutex_unlock(&p->lock);
	}
}

static void start_conn(lp_engine_proxy *p, int client)
{
	int i, up = unix_socket(p->engine_path, 0);

	if (up < 0) {
		close(client);
		return;
	}
	pthread_mutex_lock(&p->lock);
	for (i = 0; i < PROXY_CONNS_MAX && p->conns[i].used; i++)
		;
	if (i == PROXY_CONNS_MAX) {
		pthread_mutex_unlock(&p->lock);
		close(client);
		close(up);
		return;
	}
	p->conns[i] = (struct conn){client, up, 0, 1};
	if (pthread_create(&p->conns[i].thread, NULL, conn_main, &p->conns[i]) != 0) {
		p->conns[i].used = 0;
		close(client);
		close(up);
	} else {
		p->accepted++;
	}
	pthread_mutex_unlock(&p->lock);
}

static void *accept_main(void *arg)
{
	lp_engine_proxy *p = arg;

	while (!atomic_load(&p->stop)) {
		struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
		int client, refuse;

		reap(p, 0);
		if (poll(&pfd, 1, PROXY_POLL_MS) <= 0)
			continue;
		client = accept4(p->fd, NULL, NULL, SOCK_CLOEXEC);
		if (client < 0)
			continue;
		pthread_mutex_lock(&p->lock);
		refuse = lp_clock_mono_ms() < p->refuse_until;
		pthread_mutex_unlock(&p->lock);
		if (refuse)
			close(client); /* the engine is "down" */
		else
			start_conn(p, client);
	}
	return NULL;
}

lp_engine_proxy *lp_engine_proxy_start(const char *listen_path, const char *engine_path)
{
	lp_engine_proxy *p = calloc(1, sizeof(*p));

	if (p == NULL || strlen(listen_path) >= sizeof(p->listen_path) ||
	    strlen(engine_path) >= sizeof(p->engine_path)) {
		free(p);
		return NULL;
	}
	memcpy(p->listen_path, listen_path, strlen(listen_path) + 1);
	memcpy(p->engine_path, engine_path, strlen(engine_path) + 1);
	pthread_mutex_init(&p->lock, NULL);
	p->fd = unix_socket(listen_path, 1);
	if (p->fd < 0 || pthread_create(&p->thread, NULL, accept_main, p) != 0) {
		if (p->fd >= 0)
			close(p->fd);
		pthread_mutex_destroy(&p->lock);
		free(p);
		return NULL;
	}
	return p;
}

void lp_engine_proxy_cut(lp_engine_proxy *p, int refuse_ms)
{
	int i;

	pthread_mutex_lock(&p->lock);
	p->refuse_until = lp_clock_mono_ms() + refuse_ms;
	for (i = 0; i < PROXY_CONNS_MAX; i++)
		if (p->conns[i].used) {
			shutdown(p->conns[i].client, SHUT_RDWR);
			shutdown(p->conns[i].upstream, SHUT_RDWR);
		}
	pthread_mutex_unlock(&p->lock);
}

unsigned lp_engine_proxy_connections(lp_engine_proxy *p)
{
	unsigned n;

	pthread_mutex_lock(&p->lock);
	n = p->accepted;
	pthread_mutex_unlock(&p->lock);
	return n;
}

void lp_engine_proxy_stop(lp_engine_proxy *p)
{
	if (p == NULL)
		return;
	atomic_store(&p->stop, 1);
	pthread_join(p->thread, NULL);
	reap(p, 1);
	close(p->fd);
	unlink(p->listen_path);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
