/* gate.c: the connection gate: accept, read heads by peeking, refuse in JSON, hand on, deadlines.
 */
#include "apiserver/gate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "apiserver/apiserver_internal.h"
#include "launchpad/clock.h"
#include "launchpad/fmt.h"
#include "launchpad/log.h"

#define GATE_TICK_MS      100   /* how often deadlines are looked at */
#define GATE_EVENTS       64    /* epoll events taken at once */
#define GATE_ACCEPT_BATCH 64    /* connections accepted per wake-up before looking at the rest */
#define GATE_ADDR_SLOTS   4096  /* address table: a power of 2 above 2 x (pending + admitted) */
#define GATE_FD_RESERVE   256   /* descriptors kept for the store, uploads, logs, the dashboard */
#define GATE_PENDING_MIN  64    /* the smallest pending budget a low file limit leaves */
#define GATE_SUMMARY_MS   10000 /* refusals are logged as one summary line this often */
#define GATE_DRAIN_CHUNK  4096  /* bytes read and dropped at once from a closing socket */
#define GATE_DRAIN_ROUNDS 16    /* of those per wake-up (edge-triggered: the rest waits) */
#define GATE_MSG_MAX      256   /* the reason of a refusal */

/* epoll tags beside the pending slots' indexes. */
#define TAG_LISTEN UINT32_MAX
#define TAG_WAKE   (UINT32_MAX - 1)

enum pstate {
	P_FREE = 0,
	P_HEAD,   /* the head is arriving */
	P_READY,  /* complete and good, waiting for room in the daemon */
	P_CLOSING /* answered: the rest is read and dropped until EOF or the linger deadline */
};

struct pending {
	int fd;
	enum pstate state;
	struct sockaddr_in sa;
	int64_t since_ms;    /* accepted; for P_CLOSING: answered */
	int64_t deadline_ms; /* the head (P_HEAD, P_READY) or the linger (P_CLOSING) */
	size_t seen;         /* head bytes peeked so far */
	uint32_t next_free;
};

enum phase {
	W_IDLE = 0, /* the next head is due by deadline */
	W_WORK,     /* a request is worked on: no deadline */
	W_BODY,     /* a body is arriving: the next byte is due by deadline */
	W_LINGER,   /* answered early: shut at deadline */
	W_SHUT      /* shut down; the daemon closes it */
};

/* A connection handed to the daemon (its socket_context). */
struct watched {
	int fd;
	uint32_t addr; /* network order */
	enum phase phase;
	int64_t body_start_ms;
	int64_t deadline_ms;
	int answered; /* the status the gate wrote itself, or 0 */
	struct watched *prev, *next;
};

struct addr_slot {
	uint32_t addr;
	uint32_t pending;
	uint32_t admitted;
	int used;
};

struct api_gate {
	int lfd, ep, wake;
	struct MHD_Daemon *daemon;
	pthread_t thread;
	int running;
	int stop; /* atomic */
	int64_t header_ms;
	uint64_t body_rate;

	/* the gate thread's alone */
	struct pending *pend;
	uint32_t pend_cap, npend, free_head;
	char *peek;
	int accept_paused;
	int64_t next_sweep_ms, next_summary_ms;
	uint64_t
	    summary_mark; /* refused + evicted + idle_closed + slow_bodies at the last summary */

	/* under mu */
	pthread_mutex_t mu;
	struct watched *watched;
	uint32_t admitted; /* connections handed on (queued in the daemon included) */
	uint32_t nready;   /* pending heads waiting for room */
	struct addr_slot addrs[GATE_ADDR_SLOTS];
	api_gate_stats stats;
};

/* ---- the address table (under mu): open addressing, deletion by backward shift ---- */

static uint32_t addr_home(uint32_t addr)
{
	return (addr * 2654435761u) & (GATE_ADDR_SLOTS - 1);
}

static struct addr_slot *addr_get(api_gate *g, uint32_t addr)
{
	uint32_t i = addr_home(addr);

	while (g->addrs[i].used) {
		if (g->addrs[i].addr == addr)
			return &g->addrs[i];
		i = (i + 1) & (GATE_ADDR_SLOTS - 1);
	}
	/* the table holds at most pend_cap + API_CONN_LIMIT addresses: there is always room */
	g->addrs[i] = (struct addr_slot){.addr = addr, .used = 1};
	return &g->addrs[i];
}

/* Forget a without connections; entries after it move back to where a lookup finds them. */
static void addr_put(api_gate *g, struct addr_slot *a)
{
	uint32_t i = (uint32_t)(a - g->addrs), j = i, home;

	if (a->pending || a->admitted)
		return;
	for (;;) {
		g->addrs[i].used = 0;
		for (;;) {
			j = (j + 1) & (GATE_ADDR_SLOTS - 1);
			if (!g->addrs[j].used)
				return;
			home = addr_home(g->addrs[j].addr);
			/* j may move to i when its home is not in the cyclic range (i, j] */
			if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
				break;
		}
		g->addrs[i] = g->addrs[j];
		i = j;
	}
}

/* ---- heads ---- */

size_t api_gate_head_end(const char *buf, size_t n, size_t from)
{
	size_t i = from > 2 ? from - 2 : 0;

	/* a line ends at LF (CR before it is optional, as libmicrohttpd takes it); an empty one
	 * ends the head */
	for (; i < n; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < n && buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < n && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* Put the reason of a refusal in msg and return its code. */
static int refuse(char *msg, size_t msglen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int refuse(char *msg, size_t msglen, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lp_vfmt_text(msg, msglen, fmt, ap);
	va_end(ap);
	return code;
}

static int is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

#define BAD_LINE "malformed request line (expected METHOD TARGET HTTP/1.1)"

/* The request line [p, end): method SP target SP HTTP/d.d */
static int check_request_line(const char *p, const char *end, char *msg, size_t msglen)
{
	const char *sp1 = memchr(p, ' ', (size_t)(end - p)), *sp2, *v;
	const char *q;

	if (sp1 == NULL || sp1 == p || (size_t)(sp1 - p) > API_GATE_METHOD_MAX)
		return refuse(msg, msglen, LP_EINVAL, BAD_LINE);
	for (q = p; q < sp1; q++)
		if (!is_tchar((unsigned char)*q))
			return refuse(msg, msglen, LP_EINVAL, "malformed request method");
	sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
	if (sp2 == NULL || sp2 == sp1 + 1 || memchr(sp2 + 1, ' ', (size_t)(end - sp2 - 1)))
		return refuse(msg, msglen, LP_EINVAL, BAD_LINE);
	v = sp2 + 1;
	if (end - v != 8 || strncmp(v, "HTTP/", 5) || v[6] != '.' || v[5] < '0' || v[5] > '9' ||
	    v[7] < '0' || v[7] > '9')
		return refuse(msg, msglen, LP_EINVAL, "malformed HTTP version");
	if (v[5] != '1')
		return refuse(msg, msglen, LP_EVERSION, "HTTP/%c.%c is not supported: use HTTP/1.1",
		              v[5], v[7]);
	return LP_OK;
}

/* A header value without its surrounding blanks, into [*vs, *ve). */
static void trim(const char **vs, const char **ve)
{
	while (*vs < *ve && (**vs == ' ' || **vs == '\t'))
		(*vs)++;
	while (*ve > *vs && ((*ve)[-1] == ' ' || (*ve)[-1] == '\t'))
		(*ve)--;
}

/* How the body is framed: what libmicrohttpd would refuse in HTML, or misread, is refused. */
struct framing {
	int content_length; /* times seen */
	int chunked;        /* Transfer-Encoding: times seen */
};

static int check_content_length(const char *vs, const char *ve, char *msg, size_t msglen)
{
	uint64_t n = 0;
	const char *q;

	if (vs == ve)
		return refuse(msg, msglen, LP_EINVAL, "Content-Length is empty");
	for (q = vs; q < ve; q++) {
		if (*q < '0' || *q > '9')
			return refuse(msg, msglen, LP_EINVAL,
			              "Content-Length must be a decimal byte count");
		if (n > (UINT64_MAX >> 1) / 10)
			return refuse(msg, msglen, LP_ETOOBIG, "Content-Length is too large");
		n = n * 10 + (uint64_t)(*q - '0');
	}
	return LP_OK;
}

/* One header line [p, end) (no line end). */
static int check_field(struct framing *f, const char *p, const char *end, char *msg, size_t msglen)
{
	const char *colon = memchr(p, ':', (size_t)(end - p)), *vs, *ve, *q;
	size_t nlen;

	if (*p == ' ' || *p == '\t')
		return refuse(msg, msglen, LP_EINVAL, "folded header lines are not accepted");
	if (colon == NULL || colon == p)
		return refuse(msg, msglen, LP_EINVAL, "malformed header line (no \"name:\")");
	for (q = p; q < colon; q++)
		if (!is_tchar((unsigned char)*q))
			return refuse(msg, msglen, LP_EINVAL, "malformed header name");
	nlen = (size_t)(colon - p);
	vs = colon + 1;
	ve = end;
	trim(&vs, &ve);
	if (nlen == strlen("Content-Length") && !strncasecmp(p, "Content-Length", nlen)) {
		if (f->content_length++)
			return refuse(msg, msglen, LP_EINVAL,
			              "Content-Length is given more than once");
		return check_content_length(vs, ve, msg, msglen);
	}
	if (nlen == strlen("Transfer-Encoding") && !strncasecmp(p, "Transfer-Encoding", nlen) &&
	    (f->chunked++ || (size_t)(ve - vs) != strlen("chunked") ||
	     strncasecmp(vs, "chunked", strlen("chunked"))))
		return refuse(msg, msglen, LP_EINVAL,
		              "only \"Transfer-Encoding: chunked\" is accepted, once");
	return LP_OK;
}

/* NUL and the other controls nowhere (they cut values or smuggle lines); CR only before LF. */
static int check_bytes(const char *head, size_t len, char *msg, size_t msglen)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)head[i];

		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f ||
		    (c == '\r' && (i + 1 >= len || head[i + 1] != '\n')))
			return refuse(msg, msglen, LP_EINVAL,
			              "the request head has a control character (byte %zu)", i);
	}
	return LP_OK;
}

int api_gate_head_check(const char *head, size_t len, char *msg, size_t msglen)
{
	const char *p = head, *end = head + len, *nl, *le;
	struct framing f = {0};
	size_t fields = 0;
	int rc;

	msg[0] = '\0';
	if ((rc = check_bytes(head, len, msg, msglen)) != LP_OK)
		return rc;
	for (;; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return refuse(msg, msglen, LP_EINVAL, "the request head does not end");
		le = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
		if (p == head) {
			if ((size_t)(le - p) > API_REQUEST_LINE_MAX)
				return refuse(msg, msglen, LP_EURI,
				              "the request line is longer than %zu bytes",
				              API_REQUEST_LINE_MAX);
			if ((rc = check_request_line(p, le, msg, msglen)) != LP_OK)
				return rc;
			continue;
		}
		if (le == p)
			break; /* the blank line */
		if (++fields > API_HEAD_FIELDS)
			return refuse(msg, msglen, LP_EHEADERS, "more than %d header lines",
			              API_HEAD_FIELDS);
		if ((rc = check_field(&f, p, le, msg, msglen)) != LP_OK)
			return rc;
	}
	if (f.chunked && f.content_length)
		return refuse(msg, msglen, LP_EINVAL,
		              "Content-Length and Transfer-Encoding may not come together");
	return LP_OK;
}

/* ---- pending connections (the gate thread's) ---- */

static int64_t now_ms(void)
{
	return lp_clock_mono_ms();
}

/* Close pending slot idx and forget it. */
static void release(api_gate *g, uint32_t idx)
{
	struct pending *p = &g->pend[idx];
	struct addr_slot *a;

	close(p->fd); /* leaves the epoll set with it */
	pthread_mutex_lock(&g->mu);
	a = addr_get(g, p->sa.sin_addr.s_addr);
	a->pending--;
	if (p->state == P_READY)
		g->nready--;
	addr_put(g, a);
	g->stats.pending--;
	pthread_mutex_unlock(&g->mu);
	p->state = P_FREE;
	p->fd = -1;
	p->next_free = g->free_head;
	g->free_head = idx;
	g->npend--;
}

/* Write an answer in the API's error shape, best effort: the socket is not waited for. */
static void send_error(int fd, int code, int retry_after, const char *msg)
{
	lp_buf out;

	lp_buf_init(&out, API_EARLY_ANSWER_MAX);
	if (api_error_response(&out, code, retry_after, msg) == LP_OK &&
	    send(fd, out.data, out.len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		LP_DEBUG("api", "gate: an answer was not sent: %s", strerror(errno));
	lp_buf_release(&out);
}

/* Drop whatever the client sent so far; 1 when it hung up (or the socket failed). */
static int drain(int fd)
{
	char buf[GATE_DRAIN_CHUNK];
	ssize_t n;
	int i;

	for (i = 0; i < GATE_DRAIN_ROUNDS; i++) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0)
			return 1;
		if (n < 0)
			return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
	}
	return 0;
}

/*
 * Answer pending connection idx with code and shut its sending side; what the client still sends
 * is read and dropped for API_GATE_LINGER_MS, so the answer is not lost to a reset.
 */
static void answer(api_gate *g, uint32_t idx, int code, int retry_after, const char *msg,
                   int64_t now)
{
	struct pending *p = &g->pend[idx];

	send_error(p->fd, code, retry_after, msg);
	shutdown(p->fd, SHUT_WR);
	pthread_mutex_lock(&g->mu);
	if (p->state == P_READY)
		g->nready--;
	g->stats.refused++;
	pthread_mutex_unlock(&g->mu);
	p->state = P_CLOSING;
	p->since_ms = now;
	p->deadline_ms = now + API_GATE_LINGER_MS;
	if (drain(p->fd))
		release(g, idx);
}

/* The pending slot to drop for room: an answered one, else the oldest of the address (0: of
 * the address holding the most). UINT32_MAX when there is none. */
static uint32_t victim(api_gate *g, uint32_t addr)
{
	uint32_t i, best = UINT32_MAX, most = 0;
	size_t k;

	if (addr == 0) {
		for (i = 0; i < g->pend_cap; i++)
			if (g->pend[i].state == P_CLOSING)
				return i;
		pthread_mutex_lock(&g->mu);
		for (k = 0; k < GATE_ADDR_SLOTS; k++)
			if (g->addrs[k].used && g->addrs[k].pending > most) {
				most = g->addrs[k].pending;
				addr = g->addrs[k].addr;
			}
		pthread_mutex_unlock(&g->mu);
	}
	for (i = 0; i < g->pend_cap; i++)
		if (g->pend[i].state != P_FREE && g->pend[i].sa.sin_addr.s_addr == addr &&
		    (best == UINT32_MAX || g->pend[i].since_ms < g->pend[best].since_ms))
			best = i;
	return best;
}

static void evict(api_gate *g, uint32_t addr)
{
	uint32_t v = victim(g, addr);

	if (v == UINT32_MAX)
		return;
	if (g->pend[v].state != P_CLOSING) {
		send_error(g->pend[v].fd, LP_EUNAVAILABLE, 1,
		           "too many connections are waiting for their request headers; retry");
		pthread_mutex_lock(&g->mu);
		g->stats.evicted++;
		pthread_mutex_unlock(&g->mu);
	}
	release(g, v);
}

/* Take an accepted connection in: room is made first when its address or the table is full. */
static void take(api_gate *g, int fd, const struct sockaddr_in *sa, int64_t now)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET};
	struct addr_slot *a;
	struct pending *p;
	uint32_t idx, mine;

	pthread_mutex_lock(&g->mu);
	a = addr_get(g, sa->sin_addr.s_addr);
	mine = a->pending;
	addr_put(g, a);
	pthread_mutex_unlock(&g->mu);
	if (mine >= API_GATE_PER_ADDR)
		evict(g, sa->sin_addr.s_addr);
	else if (g->npend == g->pend_cap)
		evict(g, 0);
	if (g->npend == g->pend_cap) { /* nothing could go: cannot happen, but never overrun */
		close(fd);
		return;
	}
	idx = g->free_head;
	p = &g->pend[idx];
	g->free_head = p->next_free;
	g->npend++;
	*p = (struct pending){.fd = fd,
	                      .state = P_HEAD,
	                      .sa = *sa,
	                      .since_ms = now,
	                      .deadline_ms = now + g->header_ms};
	pthread_mutex_lock(&g->mu);
	a = addr_get(g, sa->sin_addr.s_addr);
	a->pending++;
	g->stats.accepted++;
	g->stats.pending++;
	pthread_mutex_unlock(&g->mu);
	ev.data.u32 = idx;
	if (epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
		LP_WARN("api", "gate: epoll_ctl: %s", strerror(errno));
		release(g, idx);
	}
}

static void pause_accept(api_gate *g, int pause)
{
	struct epoll_event ev = {.events = pause ? 0 : EPOLLIN, .data.u32 = TAG_LISTEN};

	if (g->accept_paused == pause)
		return;
	g->accept_paused = pause;
	if (epoll_ctl(g->ep, EPOLL_CTL_MOD, g->lfd, &ev) != 0)
		LP_WARN("api", "gate: epoll_ctl on the listening socket: %s", strerror(errno));
}

static void accept_some(api_gate *g, int64_t now)
{
	struct sockaddr_in sa;
	socklen_t len;
	int i, fd;

	for (i = 0; i < GATE_ACCEPT_BATCH; i++) {
		len = sizeof(sa);
		fd = accept4(g->lfd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			take(g, fd, &sa, now);
			continue;
		}
		/* Out of descriptors: the queue waits a tick instead of spinning on the socket. */
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			LP_WARN("api", "gate: accept: %s (retrying in %d ms)", strerror(errno),
			        GATE_TICK_MS);
			pause_accept(g, 1);
		}
		return;
	}
}

/* Admission (under mu): room in the daemon, and its last slots only for addresses with few. */
static int admissible(const api_gate *g, const struct addr_slot *a)
{
	uint32_t room = API_CONN_LIMIT - g->admitted;

	if (g->admitted >= API_CONN_LIMIT || a->admitted >= API_GATE_PER_ADDR)
		return 0;
	return room > API_GATE_RESERVE || a->admitted < API_GATE_ADDR_FLOOR;
}

/* Hand the complete head of pending slot idx to the daemon when there is room for it. */
static void try_admit(api_gate *g, uint32_t idx)
{
	struct pending *p = &g->pend[idx];
	struct sockaddr_in sa = p->sa;
	struct addr_slot *a;
	int fd = p->fd, ok;

	pthread_mutex_lock(&g->mu);
	a = addr_get(g, sa.sin_addr.s_addr);
	if ((ok = admissible(g, a)) != 0) {
		a->pending--;
		a->admitted++;
		g->admitted++;
		g->nready--;
		g->stats.pending--;
		g->stats.admitted++;
		g->stats.connections++;
	}
	pthread_mutex_unlock(&g->mu);
	if (!ok)
		return;
	epoll_ctl(g->ep, EPOLL_CTL_DEL, fd, NULL);
	p->state = P_FREE;
	p->fd = -1;
	p->next_free = g->free_head;
	g->free_head = idx;
	g->npend--;
	/* the daemon owns fd from here on, and closes it itself when it cannot take it */
	if (MHD_add_connection(g->daemon, fd, (const struct sockaddr *)&sa, sizeof(sa)) == MHD_YES)
		return;
	LP_WARN("api", "gate: the HTTP daemon refused a connection: %s", strerror(errno));
	pthread_mutex_lock(&g->mu);
	a = addr_get(g, sa.sin_addr.s_addr);
	a->admitted--;
	g->admitted--;
	g->stats.connections--;
	addr_put(g, a);
	pthread_mutex_unlock(&g->mu);
}

static void admit_waiting(api_gate *g)
{
	uint32_t i;

	for (i = 0; i < g->pend_cap && g->nready > 0; i++)
		if (g->pend[i].state == P_READY)
			try_admit(g, i);
}

/* Bytes arrived on a pending connection whose head is not complete. */
static void on_head(api_gate *g, uint32_t idx, int64_t now)
{
	struct pending *p = &g->pend[idx];
	char msg[GATE_MSG_MAX];
	ssize_t n = recv(p->fd, g->peek, API_HEAD_MAX, MSG_PEEK | MSG_DONTWAIT);
	size_t end, line;
	int rc;

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
		release(g, idx); /* the client hung up */
		return;
	}
	if (n < 0)
		return;
	if ((end = api_gate_head_end(g->peek, (size_t)n, p->seen)) == 0) {
		p->seen = (size_t)n;
		line = (size_t)n < API_REQUEST_LINE_MAX + 2 ? (size_t)n : API_REQUEST_LINE_MAX + 2;
		if ((size_t)n >= API_REQUEST_LINE_MAX + 2 && memchr(g->peek, '\n', line) == NULL) {
			lp_fmt_text(msg, sizeof(msg), "the request line is longer than %zu bytes",
			            API_REQUEST_LINE_MAX);
			answer(g, idx, LP_EURI, 0, msg, now);
		} else if ((size_t)n >= API_HEAD_MAX) {
			lp_fmt_text(msg, sizeof(msg), "the request head is larger than %zu bytes",
			            API_HEAD_MAX);
			answer(g, idx, LP_EHEADERS, 0, msg, now);
		}
		return;
	}
	if ((rc = api_gate_head_check(g->peek, end, msg, sizeof(msg))) != LP_OK) {
		answer(g, idx, rc, 0, msg, now);
		return;
	}
	p->state = P_READY;
	pthread_mutex_lock(&g->mu);
	g->nready++;
	pthread_mutex_unlock(&g->mu);
	try_admit(g, idx);
}

static void on_event(api_gate *g, uint32_t idx, uint32_t events, int64_t now)
{
	struct pending *p;

	if (idx >= g->pend_cap || (p = &g->pend[idx])->state == P_FREE)
		return;
	if (p->state == P_CLOSING) {
		if (drain(p->fd))
			release(g, idx);
		return;
	}
	if (p->state == P_HEAD)
		on_head(g, idx, now);
	else if (events & (EPOLLHUP | EPOLLERR))
		release(g, idx);
}

/* Heads past their deadline: 408 when some of it came (a silent connection just goes). */
static void sweep_pending(api_gate *g, int64_t now)
{
	char msg[GATE_MSG_MAX];
	uint32_t i;

	for (i = 0; i < g->pend_cap; i++) {
		struct pending *p = &g->pend[i];

		if (p->state == P_FREE || now < p->deadline_ms)
			continue;
		if (p->state == P_CLOSING) {
			release(g, i);
			continue;
		}
		if (p->state == P_READY) {
			answer(g, i, LP_EUNAVAILABLE, 1,
			       "the server is at its connection limit; retry", now);
			continue;
		}
		pthread_mutex_lock(&g->mu);
		g->stats.head_timeouts++;
		pthread_mutex_unlock(&g->mu);
		if (p->seen == 0) {
			release(g, i);
			continue;
		}
		lp_fmt_text(msg, sizeof(msg), "the request headers did not arrive within %lld s",
		            (long long)(g->header_ms / 1000));
		answer(g, i, LP_ESLOW, 0, msg, now);
	}
}

/* ---- connections handed on (under mu) ---- */

static void sweep_watched(api_gate *g, int64_t now)
{
	struct watched *w;
	char msg[GATE_MSG_MAX];

	pthread_mutex_lock(&g->mu);
	for (w = g->watched; w; w = w->next) {
		if (w->deadline_ms == 0 || now < w->deadline_ms)
			continue;
		switch (w->phase) {
		case W_BODY:
			lp_fmt_text(
			    msg, sizeof(msg),
			    "the request body fell behind %llu KiB/s (after a grace of %lld s)",
			    (unsigned long long)(g->body_rate >> 10),
			    (long long)(g->header_ms / 1000));
			send_error(w->fd, LP_ESLOW, 0, msg);
			shutdown(w->fd, SHUT_WR);
			w->answered = lp_error_http_status(LP_ESLOW);
			w->phase = W_LINGER;
			w->deadline_ms = now + API_GATE_LINGER_MS;
			g->stats.slow_bodies++;
			break;
		case W_IDLE:
			g->stats.idle_closed++;
			/* fall through */
		default:
			/* the daemon's thread reads the end of the stream and closes it */
			shutdown(w->fd, SHUT_RDWR);
			w->phase = W_SHUT;
			w->deadline_ms = 0;
			break;
		}
	}
	pthread_mutex_unlock(&g->mu);
}

/* One line every GATE_SUMMARY_MS while the gate refuses: a flood must not flood the log. */
static void summary(api_gate *g, int64_t now)
{
	api_gate_stats st;
	uint64_t mark;

	if (now < g->next_summary_ms)
		return;
	g->next_summary_ms = now + GATE_SUMMARY_MS;
	api_gate_stats_get(&st, g);
	mark = st.refused + st.evicted + st.idle_closed + st.slow_bodies + st.head_timeouts;
	if (mark == g->summary_mark)
		return;
	g->summary_mark = mark;
	LP_INFO("api",
	        "gate: so far %llu heads refused (%llu not in time), %llu connections dropped for "
	        "room, %llu kept-alive connections idle too long, %llu bodies too slow; now %llu "
	        "pending, %llu connections",
	        (unsigned long long)st.refused, (unsigned long long)st.head_timeouts,
	        (unsigned long long)st.evicted, (unsigned long long)st.idle_closed,
	        (unsigned long long)st.slow_bodies, (unsigned long long)st.pending,
	        (unsigned long long)st.connections);
}

static void *gate_main(void *arg)
{
	api_gate *g = arg;
	struct epoll_event ev[GATE_EVENTS];
	uint64_t tick;
	int64_t now;
	int i, n;

	while (!__atomic_load_n(&g->stop, __ATOMIC_ACQUIRE)) {
		n = epoll_wait(g->ep, ev, GATE_EVENTS, GATE_TICK_MS);
		now = now_ms();
		for (i = 0; i < n; i++) {
			if (ev[i].data.u32 == TAG_LISTEN)
				accept_some(g, now);
			else if (ev[i].data.u32 == TAG_WAKE)
				while (read(g->wake, &tick, sizeof(tick)) > 0)
					admit_waiting(g);
			else
				on_event(g, ev[i].data.u32, ev[i].events, now);
		}
		if (now < g->next_sweep_ms)
			continue;
		g->next_sweep_ms = now + GATE_TICK_MS;
		pause_accept(g, 0);
		sweep_pending(g, now);
		sweep_watched(g, now);
		admit_waiting(g);
		summary(g, now);
	}
	return NULL;
}

/* ---- lifetime ---- */

/* How many heads may wait: the budget, or what the file limit leaves of it (raised if it can). */
static uint32_t pending_budget(void)
{
	const rlim_t want = API_GATE_PENDING_MAX + API_DAEMON_CONN_LIMIT + GATE_FD_RESERVE;
	struct rlimit rl;
	rlim_t room;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return API_GATE_PENDING_MAX;
	if (rl.rlim_cur < want && rl.rlim_max > rl.rlim_cur) {
		rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0 && getrlimit(RLIMIT_NOFILE, &rl) != 0)
			return GATE_PENDING_MIN;
	}
	if (rl.rlim_cur >= want)
		return API_GATE_PENDING_MAX;
	room = rl.rlim_cur > API_DAEMON_CONN_LIMIT + GATE_FD_RESERVE + GATE_PENDING_MIN
	           ? rl.rlim_cur - API_DAEMON_CONN_LIMIT - GATE_FD_RESERVE
	           : GATE_PENDING_MIN;
	LP_WARN("api",
	        "gate: the file limit (%llu) leaves room for %llu connections waiting for their "
	        "headers, not %d",
	        (unsigned long long)rl.rlim_cur, (unsigned long long)room, API_GATE_PENDING_MAX);
	return (uint32_t)room;
}

int api_gate_new(api_gate **out, int listen_fd, int64_t header_ms, uint64_t body_rate,
                 lp_error *err)
{
	struct epoll_event ev = {.events = EPOLLIN};
	api_gate *g;
	uint32_t i;

	*out = NULL;
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		close(listen_fd);
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	g->lfd = listen_fd;
	g->ep = g->wake = -1;
	/* accepted in batches until EAGAIN: a blocking accept would stall the gate's thread */
	if (fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK) != 0) {
		api_gate_free(g);
		return lp_error_set(err, LP_EIO, "connection gate: %s", strerror(errno));
	}
	g->header_ms = header_ms;
	g->body_rate = body_rate ? body_rate : 1;
	pthread_mutex_init(&g->mu, NULL);
	g->pend_cap = pending_budget();
	if ((g->pend = calloc(g->pend_cap, sizeof(*g->pend))) == NULL ||
	    (g->peek = malloc(API_HEAD_MAX)) == NULL) {
		api_gate_free(g);
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	for (i = 0; i < g->pend_cap; i++) {
		g->pend[i].fd = -1;
		g->pend[i].next_free = i + 1;
	}
	if ((g->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (g->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
	    (ev.data.u32 = TAG_LISTEN, epoll_ctl(g->ep, EPOLL_CTL_ADD, g->lfd, &ev)) != 0 ||
	    (ev.data.u32 = TAG_WAKE, epoll_ctl(g->ep, EPOLL_CTL_ADD, g->wake, &ev)) != 0) {
		int e = errno;

		api_gate_free(g);
		return lp_error_set(err, LP_EIO, "connection gate: %s", strerror(e));
	}
	*out = g;
	return LP_OK;
}

int api_gate_start(api_gate *g, struct MHD_Daemon *d, lp_error *err)
{
	int e;

	g->daemon = d;
	if ((e = pthread_create(&g->thread, NULL, gate_main, g)) != 0)
		return lp_error_set(err, LP_ERROR, "connection gate thread: %s", strerror(e));
	g->running = 1;
	return LP_OK;
}

void api_gate_stop(api_gate *g)
{
	uint64_t one = 1;
	uint32_t i;

	if (g == NULL)
		return;
	__atomic_store_n(&g->stop, 1, __ATOMIC_RELEASE);
	if (g->running) {
		if (write(g->wake, &one, sizeof(one)) < 0)
			LP_DEBUG("api", "gate: wake-up: %s", strerror(errno));
		pthread_join(g->thread, NULL);
		g->running = 0;
	}
	for (i = 0; g->pend && i < g->pend_cap; i++)
		if (g->pend[i].state != P_FREE)
			release(g, i);
	if (g->lfd >= 0)
		close(g->lfd);
	g->lfd = -1;
}

void api_gate_free(api_gate *g)
{
	struct watched *w, *next;

	if (g == NULL)
		return;
	api_gate_stop(g);
	for (w = g->watched; w; w = next) {
		next = w->next;
		free(w);
	}
	if (g->ep >= 0)
		close(g->ep);
	if (g->wake >= 0)
		close(g->wake);
	pthread_mutex_destroy(&g->mu);
	free(g->pend);
	free(g->peek);
	free(g);
}

void api_gate_stats_get(api_gate_stats *out, api_gate *g)
{
	pthread_mutex_lock(&g->mu);
	*out = g->stats;
	pthread_mutex_unlock(&g->mu);
}

/* ---- the daemon's notifications and the requests' phases ---- */

static uint32_t client_addr(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	if (ci == NULL || ci->client_addr == NULL || ci->client_addr->sa_family != AF_INET)
		return 0;
	return ((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr.s_addr;
}

void api_gate_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                     enum MHD_ConnectionNotificationCode code)
{
	api_gate *g = cls;
	const union MHD_ConnectionInfo *fi;
	struct watched *w;
	struct addr_slot *a;
	uint64_t one = 1;
	int wake;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		fi = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (fi == NULL || (w = calloc(1, sizeof(*w))) == NULL) {
			LP_WARN("api", "gate: a connection goes unwatched: out of memory");
			*socket_context = NULL;
			return;
		}
		w->fd = fi->connect_fd;
		w->addr = client_addr(c);
		w->phase = W_IDLE; /* its head is in the socket already: read at once */
		w->deadline_ms = now_ms() + g->header_ms;
		pthread_mutex_lock(&g->mu);
		w->next = g->watched;
		if (g->watched)
			g->watched->prev = w;
		g->watched = w;
		pthread_mutex_unlock(&g->mu);
		*socket_context = w;
		return;
	}
	/* CLOSED, also for a connection the daemon dropped before it STARTED */
	w = *socket_context;
	pthread_mutex_lock(&g->mu);
	if (w) {
		if (w->prev)
			w->prev->next = w->next;
		else
			g->watched = w->next;
		if (w->next)
			w->next->prev = w->prev;
	}
	a = addr_get(g, client_addr(c));
	if (a->admitted)
		a->admitted--;
	addr_put(g, a);
	g->admitted--;
	g->stats.connections--;
	wake = g->nready > 0;
	pthread_mutex_unlock(&g->mu);
	free(w);
	*socket_context = NULL;
	if (wake && write(g->wake, &one, sizeof(one)) < 0)
		LP_DEBUG("api", "gate: wake-up: %s", strerror(errno));
}

static struct watched *watched_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

void api_gate_request_begin(api_gate *g, struct MHD_Connection *c, int with_body)
{
	struct watched *w = watched_of(c);
	int64_t now = now_ms();

	if (w == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	if (w->phase != W_LINGER && w->phase != W_SHUT) {
		w->phase = with_body ? W_BODY : W_WORK;
		w->body_start_ms = now;
		w->deadline_ms =
		    with_body ? now + g->header_ms + (int64_t)(1000 / g->body_rate) + 1 : 0;
		w->answered = 0;
	}
	pthread_mutex_unlock(&g->mu);
}

void api_gate_body_progress(api_gate *g, struct MHD_Connection *c, uint64_t seen)
{
	struct watched *w = watched_of(c);

	if (w == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	/* byte seen+1 is due when the grace plus (seen+1)/rate has passed since the body began */
	if (w->phase == W_BODY)
		w->deadline_ms = w->body_start_ms + g->header_ms +
		                 (int64_t)(((seen + 1) * 1000 + g->body_rate - 1) / g->body_rate);
	pthread_mutex_unlock(&g->mu);
}

void api_gate_body_done(api_gate *g, struct MHD_Connection *c)
{
	struct watched *w = watched_of(c);

	if (w == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	if (w->phase == W_BODY) {
		w->phase = W_WORK;
		w->deadline_ms = 0;
	}
	pthread_mutex_unlock(&g->mu);
}

void api_gate_request_end(api_gate *g, struct MHD_Connection *c)
{
	struct watched *w = watched_of(c);

	if (w == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	if (w->phase != W_LINGER && w->phase != W_SHUT) {
		w->phase = W_IDLE;
		w->deadline_ms = now_ms() + g->header_ms;
	}
	pthread_mutex_unlock(&g->mu);
}

void api_gate_linger(api_gate *g, struct MHD_Connection *c)
{
	struct watched *w = watched_of(c);

	if (w == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	if (w->phase != W_SHUT) {
		w->phase = W_LINGER;
		w->deadline_ms = now_ms() + API_GATE_LINGER_MS;
	}
	pthread_mutex_unlock(&g->mu);
}

int api_gate_answered(api_gate *g, struct MHD_Connection *c)
{
	struct watched *w = watched_of(c);
	int status = 0;

	if (w == NULL)
		return 0;
	pthread_mutex_lock(&g->mu);
	status = w->answered;
	pthread_mutex_unlock(&g->mu);
	return status;
}
