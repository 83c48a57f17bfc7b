/* gitnet.c: libgit2's socket stream, replaced by one that connects only to checked addresses. */
#include "pipeline/gitnet.h"

#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <git2/sys/stream.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "launchpad/fmt.h"

#define HOST_SHOWN_MAX 256 /* the host as the refusal names it */

struct checked_stream {
	git_stream parent;
	char *host;
	char *port;
	int fd;
};

/* The worker's process state (see gitnet.h): one fetch, one thread. */
static const lp_netpolicy *g_policy;
static int g_refused;
static char g_refused_host[HOST_SHOWN_MAX];

/* Connect fd to ai within LP_GITNET_CONNECT_MS; 0 on success, errno otherwise. */
static int connect_in_time(int fd, const struct addrinfo *ai)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int flags = fcntl(fd, F_GETFL), e = 0, r;
	socklen_t elen = sizeof(e);

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
		return errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		if (errno != EINPROGRESS)
			return errno;
		do
			r = poll(&p, 1, LP_GITNET_CONNECT_MS);
		while (r < 0 && errno == EINTR);
		if (r == 0)
			return ETIMEDOUT;
		if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) != 0)
			return errno;
		if (e != 0)
			return e;
	}
	return fcntl(fd, F_SETFL, flags) == 0 ? 0 : errno;
}

static int stream_connect(git_stream *gs)
{
	struct checked_stream *s = (struct checked_stream *)gs;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC}, *res = NULL,
	                *ai;
	int by_name = lp_netpolicy_host_allowed(g_policy, s->host), refused = 0, tried = 0;
	int e = 0, rc;

	rc = getaddrinfo(s->host, s->port, &hints, &res);
	if (rc != 0) {
		git_error_set(GIT_ERROR_NET, "cannot resolve git host \"%s\": %s", s->host,
		              gai_strerror(rc));
		return -1;
	}
	/* Only what was checked is connected to: the resolution above is the only one. */
	for (ai = res; ai != NULL && s->fd < 0; ai = ai->ai_next) {
		int fd;

		if (!by_name && !lp_netpolicy_addr_allowed(g_policy, ai->ai_addr)) {
			refused++;
			continue;
		}
		tried++;
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		if ((e = connect_in_time(fd, ai)) != 0) {
			close(fd);
			continue;
		}
		s->fd = fd;
	}
	freeaddrinfo(res);
	if (s->fd >= 0)
		return 0;
	if (refused > 0 && tried == 0) {
		/* Nothing was connected to: what listens there, if anything, stays unknown. */
		g_refused = 1;
		lp_fmt_text(g_refused_host, sizeof(g_refused_host), "%s", s->host);
		git_error_set(GIT_ERROR_NET, "git host \"%s\" is refused: %s", g_refused_host,
		              LP_GITNET_REFUSED);
		return -1;
	}
	git_error_set(GIT_ERROR_NET, "cannot connect to %s:%s: %s", s->host, s->port,
	              strerror(e ? e : ECONNREFUSED));
	return -1;
}

static ssize_t stream_read(git_stream *gs, void *data, size_t len)
{
	struct checked_stream *s = (struct checked_stream *)gs;
	ssize_t n;

	do
		n = recv(s->fd, data, len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		git_error_set(GIT_ERROR_NET, "read from %s: %s", s->host, strerror(errno));
	return n;
}

static ssize_t stream_write(git_stream *gs, const char *data, size_t len, int flags)
{
	struct checked_stream *s = (struct checked_stream *)gs;
	size_t off = 0;

	(void)flags;
	while (off < len) {
		ssize_t n = send(s->fd, data + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			git_error_set(GIT_ERROR_NET, "write to %s: %s", s->host, strerror(errno));
			return -1;
		}
		off += (size_t)n;
	}
	return (ssize_t)len;
}

static int stream_close(git_stream *gs)
{
	struct checked_stream *s = (struct checked_stream *)gs;

	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	return 0;
}

static void stream_free(git_stream *gs)
{
	struct checked_stream *s = (struct checked_stream *)gs;

	stream_close(gs);
	free(s->host);
	free(s->port);
	free(s);
}

static int stream_init(git_stream **out, const char *host, const char *port)
{
	struct checked_stream *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (s == NULL || (s->host = strdup(host)) == NULL || (s->port = strdup(port)) == NULL) {
		if (s != NULL)
			free(s->host);
		free(s);
		git_error_set_oom();
		return -1;
	}
	s->fd = -1;
	s->parent.version = GIT_STREAM_VERSION;
	s->parent.connect = stream_connect;
	s->parent.read = stream_read;
	s->parent.write = stream_write;
	s->parent.close = stream_close;
	s->parent.free = stream_free;
	*out = &s->parent;
	return 0;
}

int lp_gitnet_install(const lp_netpolicy *policy, lp_error *err)
{
	/* Static: libgit2 keeps the registration's address. */
	static git_stream_registration reg = {GIT_STREAM_VERSION, stream_init, NULL};

	g_policy = policy;
	if (git_stream_register(GIT_STREAM_STANDARD, &reg) < 0) {
		const git_error *e = git_error_last();

		return lp_error_set(err, LP_ERROR, "registering the git socket stream: %s",
		                    e && e->message ? e->message : "failed");
	}
	return LP_OK;
}

int lp_gitnet_refused(char *out, size_t outlen)
{
	if (!g_refused)
		return 0;
	lp_fmt_text(out, outlen, "git host \"%s\" is refused: %s", g_refused_host,
	            LP_GITNET_REFUSED);
	return 1;
}
