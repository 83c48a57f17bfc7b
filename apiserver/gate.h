/*
 * gate.h: the connection gate in front of libmicrohttpd. It owns the listening socket and every
 * connection until its request head (request line and headers) is complete, and it keeps the
 * deadlines of the connections it handed on.
 *
 * Why: libmicrohttpd 0.9.75 knows an idle timeout only, so a client trickling one header byte a
 * second holds a connection (and, thread per connection, a thread) for ever, and its own error
 * pages for heads it cannot take (414, 431, a bad Content-Length) are HTML. The gate reads each
 * head with MSG_PEEK (the bytes stay in the socket for libmicrohttpd to read), answers a head it
 * refuses with the API's JSON error itself, and hands a complete, well-formed one to the daemon
 * (MHD_add_connection). So:
 *   - a head must be complete --header-timeout after the connection (408 when some of it came);
 *   - pending heads have their own budget (API_GATE_PENDING_MAX, API_GATE_PER_ADDR per address);
 *     when it is full the oldest connection of the address holding the most goes (503), so a
 *     new client always gets in: a fast client's head is in before it is the oldest;
 *   - the daemon's connections (API_CONN_LIMIT) only ever hold complete heads, and the last
 *     API_GATE_RESERVE of them are kept for addresses that hold fewer than API_GATE_ADDR_FLOOR;
 *   - on a handed-on connection the gate keeps a deadline per phase, set by the request's
 *     thread: the next head of a kept-alive connection (--header-timeout after the previous
 *     answer), a body (it must keep up with --body-min-rate after a grace of --header-timeout,
 *     else 408), the linger after an early answer. Past it, the gate shuts the socket down, and
 *     libmicrohttpd closes the connection as a client's hang-up.
 *
 * Threads: one gate thread (accept, heads, deadlines). api_gate_notify runs on the daemon's
 * thread, the api_gate_* phase calls on the request's; they take the gate's lock. The gate owns
 * the listening socket, the pending sockets and its records; a handed-on socket is the daemon's,
 * and the gate touches it (shutdown, an early answer) only between the daemon's STARTED and
 * CLOSED notifications, under its lock, so never after the daemon closed it.
 */
#ifndef LAUNCHPAD_APISERVER_GATE_H
#define LAUNCHPAD_APISERVER_GATE_H

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

#include "launchpad/error.h"

#define API_HEAD_MAX         ((size_t)16 << 10) /* a request head, the final blank line included */
#define API_REQUEST_LINE_MAX ((size_t)8 << 10)  /* its first line (method, target, version) */
#define API_HEAD_FIELDS      100                /* header lines of one head */
#define API_GATE_PENDING_MAX 1024               /* connections whose head is not complete yet */
#define API_GATE_PER_ADDR    256                /* of those, from one client address */
#define API_GATE_RESERVE     64 /* daemon connections kept for addresses holding few... */
#define API_GATE_ADDR_FLOOR  16 /* ...that is, fewer than this many */
/*
 * After an early answer (413, 408), how long the rest is read and dropped before the connection
 * is shut. Shutting it with the client's bytes still unread makes the kernel send a reset, and a
 * client that has not read the answer yet loses it (curl: "failed sending data", seen once at 1 s
 * on a loaded CI machine with a 2 MiB body); API_DRAIN_MAX still bounds the bytes.
 */
#define API_GATE_LINGER_MS  3000
#define API_GATE_METHOD_MAX 16 /* the longest method token taken */

/* What the gate counts (the /metrics figures launchpad_http_gate_*). */
typedef struct api_gate_stats {
	uint64_t accepted;      /* connections accepted */
	uint64_t admitted;      /* heads handed to the daemon */
	uint64_t refused;       /* heads answered with an error (400, 408, 414, 431, 505, 503) */
	uint64_t head_timeouts; /* heads not complete in time (included in refused when answered) */
	uint64_t evicted;       /* pending connections dropped to make room */
	uint64_t idle_closed;   /* kept-alive connections whose next head did not come in time */
	uint64_t slow_bodies;   /* bodies cut off for falling behind --body-min-rate */
	uint64_t pending;       /* now: connections waiting for their head */
	uint64_t connections;   /* now: connections handed to the daemon */
} api_gate_stats;

typedef struct api_gate api_gate;

/*
 * A gate on listen_fd (the gate owns it from here on, even on failure) with the head deadline
 * header_ms and the body rate body_rate (bytes a second). The pending budget shrinks when the
 * process may open fewer files than it needs (logged).
 */
int api_gate_new(api_gate **out, int listen_fd, int64_t header_ms, uint64_t body_rate,
                 lp_error *err) LP_MUST_CHECK;
/* Start the gate's thread, handing heads to d (started with MHD_USE_NO_LISTEN_SOCKET). */
int api_gate_start(api_gate *g, struct MHD_Daemon *d, lp_error *err) LP_MUST_CHECK;
/* Stop accepting: the thread ends and every pending socket is closed. Before MHD_stop_daemon. */
void api_gate_stop(api_gate *g);
/* After MHD_stop_daemon (whose CLOSED notifications still reach the gate). NULL is a no-op. */
void api_gate_free(api_gate *g);
void api_gate_stats_get(api_gate_stats *out, api_gate *g);

/* The daemon's MHD_OPTION_NOTIFY_CONNECTION callback; cls is the gate. */
void api_gate_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                     enum MHD_ConnectionNotificationCode code);

/* ---- phases, from the request's thread (c: its connection) ---- */

/* A request began: no deadline while it is worked on; with_body: its body is on its way. */
void api_gate_request_begin(api_gate *g, struct MHD_Connection *c, int with_body);
/* seen body bytes are in: the next is due at the pace of --body-min-rate. */
void api_gate_body_progress(api_gate *g, struct MHD_Connection *c, uint64_t seen);
/* The body is complete: no deadline while the handler works. */
void api_gate_body_done(api_gate *g, struct MHD_Connection *c);
/* The answer went out on a kept-alive connection: its next head is due. */
void api_gate_request_end(api_gate *g, struct MHD_Connection *c);
/*
 * An answer was written ahead of the body (api_reply_early): the rest of the body is read and
 * dropped for API_GATE_LINGER_MS, then the connection is shut.
 */
void api_gate_linger(api_gate *g, struct MHD_Connection *c);
/* The status the gate answered the request with itself (a body too slow: 408), or 0. */
int api_gate_answered(api_gate *g, struct MHD_Connection *c);

/* ---- the pure part ---- */

/*
 * Check a complete head (len bytes, up to and including its blank line): LP_OK, or the code of
 * the answer (LP_EINVAL 400, LP_ETOOBIG 413, LP_EURI 414, LP_EHEADERS 431, LP_EVERSION 505) with
 * the reason in msg. The rules are those libmicrohttpd would answer with an HTML page, and those
 * a request smuggler relies on: a control character or NUL anywhere, a malformed request line
 * or header line (no colon, a folded line), a Content-Length that is not a plain decimal or is
 * given twice, a Transfer-Encoding other than chunked or beside a Content-Length.
 */
int api_gate_head_check(const char *head, size_t len, char *msg, size_t msglen) LP_MUST_CHECK;
/*
 * Where the head in buf[0..n) ends (the offset past its blank line), or 0 when it has not
 * ended yet; from is where the previous look stopped (0 at first).
 */
size_t api_gate_head_end(const char *buf, size_t n, size_t from);

#endif
