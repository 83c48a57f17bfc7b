/*
 * logs.c: Server-Sent Events of a site's logs. source=build (the default): a revision's build log,
 * followed until the revision is final. source=app: the last lines of the app's stdout and stderr
 * (logs/<site>/app.log.1 + app.log, written by the controller's pump), then with follow=1 the new
 * ones, across rotation, until the client goes or API_SSE_MAX_S. The same reader, writer and
 * inotify follow serve both; only where a stream starts and when it ends differ.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apiserver/apiserver_internal.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "launchpad/layout.h"

#define SSE_LINE_MAX       8192              /* a longer line is sent in pieces */
#define SSE_STATE_EVERY_MS 200               /* how often the store is asked whether it is final */
#define SSE_OUT_MAX        ((size_t)1 << 20) /* text queued for the client */
#define SSE_READ_CHUNK     16384             /* bytes of the log read at once */
#define SSE_BLOCK          (16 << 10)        /* what libmicrohttpd asks the reader for at most */
#define SSE_EVENTS_BUF     4096              /* inotify events drained at once */
/* source=app: the lines sent first by default, and at most */
#define APP_TAIL_DEFAULT 200
#define APP_TAIL_MAX     5000
/* source=app: the most of app.log.1 + app.log read for the tail (the pump keeps 2 × 1 MiB) */
#define APP_READ_MAX ((size_t)4 << 20)
/* source=app: how often a followed stream asks the store whether its site is still there */
#define APP_CHECK_EVERY_MS 2000
/* An app log line starts with the engine's time, "2026-12-01T23:38:29.123456789Z": its id. */
#define APP_TIME_LEN 30
/* a build no longer desired is stopped by the controller within a pass; its last lines come */
#define SSE_UNDESIRED_GRACE_MS 30000

/*
 * The stream's state. The reader runs on the connection's own thread (thread per connection), so
 * it may block in poll(); MHD frees this through sse_free when the connection ends.
 */
struct sse {
	lp_apiserver *srv;
	char site_id[LP_STORE_ID_LEN];
	int64_t number;
	char path[LP_FS_PATH_MAX];
	int fd;  /* the log file, once it exists */
	int ino; /* inotify on its directory */
	lp_buf out;
	size_t sent;
	lp_buf line;
	int split;      /* part of the current line already left in SSE_LINE_MAX pieces */
	int after_cr;   /* the last byte taken ended a line with CR: a following LF is its pair */
	int final_seen; /* the store said final: drain the file once more, then end */
	uint64_t seq;   /* data events of this file so far: each goes out with "id: <seq>" */
	uint64_t skip;  /* a resumed stream (Last-Event-ID, ?from=): events up to this are sent */
	int ended;
	struct timespec start, last_send, last_check;
	struct timespec undesired_since; /* building, but no longer desired, since (0: desired) */
	const char *final_state;         /* static text: the state's name, or "gone" */
	/* source=app */
	int app;
	int follow;                   /* after the tail, new lines until the deadline */
	char after[APP_TIME_LEN + 1]; /* resumed (Last-Event-ID): lines up to this time were had */
	char *tail;                   /* the last lines of the two parts, sent before the file */
	size_t tail_len, tail_sent;
};

static int64_t ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

/*
 * p holds no CR or LF (the caller splits on both): nothing can end the data field early. Every
 * event has an id, so a client that reconnects (EventSource sends Last-Event-ID) resumes where
 * it was instead of getting the log again from its start.
 */
/* p starts with a time as the pump writes it (at least APP_TIME_LEN bytes are there). */
static int time_shape(const char *p)
{
	static const char shape[] = "0000-00-00T00:00:00.000000000Z";
	size_t i;

	for (i = 0; i < APP_TIME_LEN; i++)
		if (shape[i] == '0' ? p[i] < '0' || p[i] > '9' : p[i] != shape[i])
			return 0;
	return 1;
}

/* An app log line's time (its first APP_TIME_LEN bytes, then a space), or NULL. */
static const char *app_time(const char *p, size_t n)
{
	return n > APP_TIME_LEN && p[APP_TIME_LEN] == ' ' && time_shape(p) ? p : NULL;
}

/* An app log line's event: its time is its id (the lines of two parts have no common count). */
static int emit_app_id(struct sse *s, const char *p, size_t n)
{
	const char *t = app_time(p, n);

	if (t && s->after[0] && strncmp(t, s->after, APP_TIME_LEN) <= 0)
		return 0;
	if (t && (lp_buf_puts(&s->out, "id: ") != LP_OK ||
	          lp_buf_append(&s->out, t, APP_TIME_LEN) != LP_OK ||
	          lp_buf_putc(&s->out, '\n') != LP_OK))
		return -1;
	return 1;
}

static void emit_line(struct sse *s, const char *p, size_t n)
{
	int id;

	if (s->app) {
		if ((id = emit_app_id(s, p, n)) == 0)
			return;
	} else {
		if (++s->seq <= s->skip)
			return;
		id = lp_buf_printf(&s->out, "id: %llu\n", (unsigned long long)s->seq) == LP_OK ? 1
		                                                                               : -1;
	}
	/* Past SSE_OUT_MAX (a client that stopped reading) the line is lost: say so in the log. */
	if (id < 0 || lp_buf_puts(&s->out, "data: ") != LP_OK ||
	    lp_buf_append(&s->out, p, n) != LP_OK || lp_buf_puts(&s->out, "\n\n") != LP_OK)
		LP_WARN("api", "logs: a line of revision %lld did not fit the stream buffer",
		        (long long)s->number);
}

/* Bytes of the current line; a line longer than SSE_LINE_MAX leaves in pieces of that size. */
static void line_add(struct sse *s, const char *p, size_t n)
{
	while (n) {
		size_t room = SSE_LINE_MAX - s->line.len, k = n < room ? n : room;

		/* k fits: room is what SSE_LINE_MAX leaves. */
		if (lp_buf_append(&s->line, p, k) != LP_OK)
			LP_WARN("api", "logs: a line of revision %lld is cut: out of memory",
			        (long long)s->number);
		p += k;
		n -= k;
		if (s->line.len == SSE_LINE_MAX) {
			emit_line(s, s->line.data, s->line.len);
			lp_buf_reset(&s->line);
			s->split = 1;
		}
	}
}

/* The current line ended: send it (unless it all left in full pieces already). */
static void line_end(struct sse *s)
{
	if (s->line.len || !s->split)
		emit_line(s, s->line.data ? s->line.data : "", s->line.len);
	lp_buf_reset(&s->line);
	s->split = 0;
}

/*
 * Split what was read into SSE data lines. CR ends a line as LF does (a progress bar's "\r"
 * would otherwise reach the client, where EventSource takes it as a line break and a log line
 * could forge an event); CRLF counts once. A trailing partial line waits for its end.
 */
static void take_bytes(struct sse *s, const char *p, size_t n)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		if (p[i] != '\n' && p[i] != '\r')
			continue;
		if (p[i] == '\n' && s->after_cr && i == start) {
			s->after_cr = 0;
			start = i + 1;
			continue;
		}
		line_add(s, p + start, i - start);
		line_end(s);
		s->after_cr = p[i] == '\r';
		start = i + 1;
	}
	if (start < n) {
		line_add(s, p + start, n - start);
		s->after_cr = 0;
	}
}

/*
 * At the end of the file: was it truncated (a new build attempt opens it with O_TRUNC) or
 * replaced? Then it is read again from its start. 1 when there may be new bytes to read.
 */
static int log_restarted(struct sse *s)
{
	struct stat fsb, psb;
	off_t pos;

	if (fstat(s->fd, &fsb) != 0 || stat(s->path, &psb) != 0)
		return 0; /* removed and not re-created yet: keep waiting */
	if (fsb.st_ino != psb.st_ino || fsb.st_dev != psb.st_dev) {
		close(s->fd);
		s->fd = -1;
	} else if ((pos = lseek(s->fd, 0, SEEK_CUR)) > fsb.st_size) {
		lseek(s->fd, 0, SEEK_SET);
	} else {
		return 0;
	}
	if (s->line.len)
		line_end(s);
	s->after_cr = 0;
	/* A new file (a new attempt): its events count from the start, and none was seen. App
	 * lines carry their own ids (their times): app.log rotated to app.log.1 just goes on. */
	s->seq = 0;
	s->skip = 0;
	return 1;
}

/* Read whatever the file has now; 1 when bytes came. */
static int read_file(struct sse *s)
{
	char chunk[SSE_READ_CHUNK];
	ssize_t n;

	if (s->fd < 0)
		s->fd = open(s->path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0)
		return 0;
	n = read(s->fd, chunk, sizeof(chunk));
	if (n == 0)
		return log_restarted(s);
	if (n < 0)
		return 0;
	take_bytes(s, chunk, (size_t)n);
	return 1;
}

static void stream_final(struct sse *s, const char *state)
{
	s->final_seen = 1;
	s->final_state = state;
}

/*
 * A revision that is not final but no longer the desired one will not be built: a pending one
 * never (the controller builds the desired revision only), a building one is being stopped. Its
 * stream ends as "superseded" at once (pending) or after SSE_UNDESIRED_GRACE_MS (building, so
 * the lines of its stop still come), instead of holding a thread and an inotify instance for
 * an hour.
 */
static void check_desired(struct sse *s, const lp_store_site *site, const lp_store_revision *rev)
{
	if (site->deletion_timestamp) {
		stream_final(s, "gone");
		return;
	}
	if (site->desired_revision == s->number) {
		s->undesired_since.tv_sec = 0;
		return;
	}
	if (rev->state == LP_REV_PENDING) {
		stream_final(s, lp_store_rev_state_name(LP_REV_SUPERSEDED));
		return;
	}
	if (s->undesired_since.tv_sec == 0)
		clock_gettime(CLOCK_MONOTONIC, &s->undesired_since);
	else if (ms_since(&s->undesired_since) >= SSE_UNDESIRED_GRACE_MS)
		stream_final(s, lp_store_rev_state_name(LP_REV_SUPERSEDED));
}

/* An app's stream has no final state: it ends when its site goes (or at the deadline). */
static void check_site(struct sse *s)
{
	lp_store_site *site = NULL;
	lp_store *st;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &s->last_check);
	if ((st = api_pool_get(&s->srv->pool, NULL)) == NULL)
		return;
	rc = lp_store_site_get(&site, st, s->site_id, NULL);
	api_pool_put(&s->srv->pool, st);
	if (rc == LP_ENOTFOUND || (rc == LP_OK && site->deletion_timestamp))
		stream_final(s, "gone");
	lp_store_site_free(site);
}

/* Ask the store (rate-limited) whether the revision reached a final state or was passed over. */
static void check_state(struct sse *s)
{
	lp_store_revision *rev = NULL;
	lp_store_site *site = NULL;
	lp_store *st;
	int rc, src;

	if (s->app) {
		if (!s->final_seen && ms_since(&s->last_check) >= APP_CHECK_EVERY_MS)
			check_site(s);
		return;
	}
	if (s->final_seen || ms_since(&s->last_check) < SSE_STATE_EVERY_MS)
		return;
	clock_gettime(CLOCK_MONOTONIC, &s->last_check);
	if ((st = api_pool_get(&s->srv->pool, NULL)) == NULL)
		return;
	rc = lp_store_revision_get(&rev, st, s->site_id, s->number, NULL);
	src = rc == LP_OK ? lp_store_site_get(&site, st, s->site_id, NULL) : LP_ERROR;
	api_pool_put(&s->srv->pool, st);
	if (rc == LP_ENOTFOUND || src == LP_ENOTFOUND)
		stream_final(s, "gone");
	else if (rc == LP_OK && lp_store_rev_state_final(rev->state))
		stream_final(s, lp_store_rev_state_name(rev->state));
	else if (rc == LP_OK && src == LP_OK)
		check_desired(s, site, rev);
	lp_store_site_free(site);
	lp_store_revision_free(rev);
}

static void end_stream(struct sse *s, const char *why)
{
	if (s->line.len)
		line_end(s);
	if (lp_buf_printf(&s->out, "event: end\ndata: %s\n\n", why) != LP_OK)
		LP_WARN("api", "logs: the end of revision %lld did not fit the stream buffer",
		        (long long)s->number);
	s->ended = 1;
}

static void wait_for_change(struct sse *s)
{
	struct pollfd p = {.fd = s->ino, .events = POLLIN};
	char evbuf[SSE_EVENTS_BUF];

	if (s->ino < 0) {
		usleep(SSE_STATE_EVERY_MS * 1000);
		return;
	}
	/* wake at the next state check when the stream is quiet */
	if (poll(&p, 1, SSE_STATE_EVERY_MS) > 0)
		while (read(s->ino, evbuf, sizeof(evbuf)) > 0)
			;
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sse *s = cls;
	size_t n;

	for (;;) {
		if (s->sent < s->out.len) {
			n = s->out.len - s->sent;
			if (n > max)
				n = max;
			memcpy(buf, s->out.data + s->sent, n);
			s->sent += n;
			if (s->sent == s->out.len) {
				lp_buf_reset(&s->out);
				s->sent = 0;
			}
			clock_gettime(CLOCK_MONOTONIC, &s->last_send);
			return (ssize_t)n;
		}
		if (s->ended)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (__atomic_load_n(&s->srv->stopping, __ATOMIC_ACQUIRE)) {
			end_stream(s, "shutdown");
			continue;
		}
		if (s->tail_sent < s->tail_len) {
			n = s->tail_len - s->tail_sent;
			n = n < SSE_READ_CHUNK ? n : SSE_READ_CHUNK;
			take_bytes(s, s->tail + s->tail_sent, n);
			s->tail_sent += n;
			continue;
		}
		if (s->app && !s->follow) {
			end_stream(s, "eof");
			continue;
		}
		if (read_file(s))
			continue;
		/* at the end of the file: final and drained after the store said so → end */
		if (s->final_seen) {
			end_stream(s, s->final_state);
			continue;
		}
		check_state(s);
		if (s->final_seen)
			continue; /* drain once more: the last lines precede the final state */
		if (ms_since(&s->start) >= (int64_t)API_SSE_MAX_S * 1000) {
			end_stream(s, "timeout");
			continue;
		}
		if (ms_since(&s->last_send) >= API_SSE_KEEPALIVE_S * 1000) {
			/* A full buffer has bytes to send: no keep-alive is needed then. */
			if (lp_buf_puts(&s->out, ": keep-alive\n\n") != LP_OK)
				LP_DEBUG("api", "logs: keep-alive skipped: the buffer is full");
			continue;
		}
		wait_for_change(s);
	}
}

static void sse_free(void *cls)
{
	struct sse *s = cls;

	if (s->fd >= 0)
		close(s->fd);
	if (s->ino >= 0)
		close(s->ino);
	lp_buf_release(&s->out);
	lp_buf_release(&s->line);
	free(s->tail);
	free(s);
}

/* Watch dir (made if missing: it may not exist before the first build); polling without it. */
static void watch_dir(struct sse *s, const char *dir)
{
	if (lp_fs_mkdirs(dir, 0750, NULL) == LP_OK &&
	    (s->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) >= 0 &&
	    inotify_add_watch(s->ino, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE) <
	        0) {
		close(s->ino);
		s->ino = -1;
	}
}

/* A stream of site, its path not set yet. */
static int sse_alloc(struct sse **out, lp_apiserver *srv, const lp_store_site *site, lp_error *err)
{
	struct sse *s;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	s->srv = srv;
	s->fd = s->ino = -1;
	lp_buf_init(&s->out, SSE_OUT_MAX);
	lp_buf_init(&s->line, SSE_LINE_MAX);
	if (lp_fmt(s->site_id, sizeof(s->site_id), "%s", site->id) != LP_OK) {
		sse_free(s);
		return lp_error_set(err, LP_ERROR, "site id %s is too long", site->id);
	}
	*out = s;
	return LP_OK;
}

/* The site's log folder watched, the clocks started, the stream's opening comment queued. */
static int sse_begin(struct sse *s, const lp_store_site *site, const char *comment, lp_error *err)
{
	char dir[LP_FS_PATH_MAX];

	if (lp_layout_log_dir(dir, sizeof(dir), s->srv->cfg->data_dir, site->name) != LP_OK)
		return lp_error_set(err, LP_ERROR, "the log folder of %s is too long", site->name);
	watch_dir(s, dir);
	clock_gettime(CLOCK_MONOTONIC, &s->start);
	s->last_send = s->start;
	s->last_check.tv_sec = 0;
	if (lp_buf_printf(&s->out, ": %s of %s\n\n", comment, site->name) != LP_OK)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	return LP_OK;
}

/* The stream of revision rev of site: where its log is, that log's folder watched. */
static int sse_new(struct sse **out, lp_apiserver *srv, const lp_store_site *site,
                   const lp_store_revision *rev, lp_error *err)
{
	char comment[64];
	struct sse *s;
	int rc;

	*out = NULL;
	if ((rc = sse_alloc(&s, srv, site, err)) != LP_OK)
		return rc;
	s->number = rev->number;
	if (rev->log_path && *rev->log_path)
		rc = lp_fmt(s->path, sizeof(s->path), "%s", rev->log_path);
	else
		rc = lp_layout_log(s->path, sizeof(s->path), srv->cfg->data_dir, site->name,
		                   (long)rev->number);
	if (rc != LP_OK) {
		sse_free(s);
		return lp_error_set(err, LP_ERROR,
		                    "the log path of revision %lld of %s is too long",
		                    (long long)rev->number, site->name);
	}
	if (lp_fmt(comment, sizeof(comment), "revision %lld", (long long)rev->number) != LP_OK ||
	    (rc = sse_begin(s, site, comment, err)) != LP_OK) {
		sse_free(s);
		return rc != LP_OK ? rc : lp_error_set(err, LP_ERROR, "revision number too long");
	}
	*out = s;
	return LP_OK;
}

/* ---- source=app ---- */

/* Where the last n lines of text start (all of it when it has fewer). */
static size_t last_lines(const char *text, size_t len, long n)
{
	size_t i = len;

	if (n <= 0)
		return len;
	if (i > 0 && text[i - 1] == '\n')
		i--; /* the final LF ends the last line, it does not start one */
	while (i > 0) {
		if (text[i - 1] == '\n' && --n == 0)
			return i;
		i--;
	}
	return n > 0 ? 0 : i;
}

/* Append fd's bytes (from where it is, to its end; at most APP_READ_MAX held) to b. */
static int read_rest(lp_buf *b, int fd)
{
	char chunk[SSE_READ_CHUNK];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (lp_buf_append(b, chunk, (size_t)n) != LP_OK)
			return LP_ETOOBIG;
	return n < 0 ? LP_EIO : LP_OK;
}

/*
 * The tail: app.log.1 then app.log, read through the descriptor the follow goes on with (so no
 * line falls between the tail and the follow). app.log.1 is skipped when it is the file just
 * opened as app.log (a rotation in between), and both are read from their last APP_READ_MAX / 2.
 */
static int app_tail(struct sse *s, long lines, lp_error *err)
{
	char part1[LP_FS_PATH_MAX];
	struct stat sb0, sb1;
	lp_buf b;
	off_t size;
	int fd1 = -1, rc = LP_OK, i;
	int fds[2];

	if (lp_fmt(part1, sizeof(part1), "%s.1", s->path) != LP_OK)
		return lp_error_set(err, LP_ERROR, "the app log path is too long");
	s->fd = open(s->path, O_RDONLY | O_CLOEXEC);
	fd1 = open(part1, O_RDONLY | O_CLOEXEC);
	if (fd1 >= 0 && s->fd >= 0 && fstat(fd1, &sb1) == 0 && fstat(s->fd, &sb0) == 0 &&
	    sb0.st_ino == sb1.st_ino && sb0.st_dev == sb1.st_dev) {
		close(fd1);
		fd1 = -1;
	}
	fds[0] = fd1;
	fds[1] = s->fd;
	lp_buf_init(&b, APP_READ_MAX);
	for (i = 0; i < 2 && rc == LP_OK; i++) {
		if (fds[i] < 0)
			continue;
		if ((size = lseek(fds[i], 0, SEEK_END)) > (off_t)(APP_READ_MAX / 2))
			lseek(fds[i], size - (off_t)(APP_READ_MAX / 2), SEEK_SET);
		else
			lseek(fds[i], 0, SEEK_SET);
		rc = read_rest(&b, fds[i]);
	}
	if (fd1 >= 0)
		close(fd1);
	if (rc != LP_OK) {
		lp_buf_release(&b);
		return lp_error_set(err, rc, "reading the app log: %s", strerror(errno));
	}
	s->tail_sent = last_lines(b.data ? b.data : "", b.len, lines);
	s->tail_len = b.len;
	s->tail = b.data; /* the buffer's bytes are the stream's now */
	return LP_OK;
}

static int app_sse_new(struct sse **out, lp_apiserver *srv, const lp_store_site *site, long lines,
                       int follow, const char *after, lp_error *err)
{
	struct sse *s;
	int rc;

	*out = NULL;
	if ((rc = sse_alloc(&s, srv, site, err)) != LP_OK)
		return rc;
	s->app = 1;
	s->follow = follow;
	if (after)
		memcpy(s->after, after, APP_TIME_LEN + 1);
	if (lp_layout_app_log(s->path, sizeof(s->path), srv->cfg->data_dir, site->name) != LP_OK)
		rc = lp_error_set(err, LP_ERROR, "the app log path of %s is too long", site->name);
	if (rc == LP_OK)
		rc = app_tail(s, lines, err);
	if (rc == LP_OK)
		rc = sse_begin(s, site, "app", err);
	if (rc != LP_OK) {
		sse_free(s);
		return rc;
	}
	*out = s;
	return LP_OK;
}

/*
 * tail=N (0..APP_TAIL_MAX), follow=0|1, and a resumed stream's Last-Event-ID (or ?from=): a
 * line's time.
 */
static int app_params(long *out_lines, int *out_follow, char *out_after, struct api_req *r)
{
	const char *t = api_query(r, "tail"), *f = api_query(r, "follow");
	const char *id = api_header(r, "Last-Event-ID");
	char *end;
	long n;

	if (id == NULL)
		id = api_query(r, "from"); /* what a client without headers resumes with */

	*out_lines = APP_TAIL_DEFAULT;
	*out_follow = 0;
	out_after[0] = '\0';
	if (t) {
		errno = 0;
		n = strtol(t, &end, 10);
		if (errno || end == t || *end || n < 0 || n > APP_TAIL_MAX) {
			api_reply_error(r, LP_EINVAL, NULL, "tail must be a count from 0 to %d",
			                APP_TAIL_MAX);
			return LP_EINVAL;
		}
		*out_lines = n;
	}
	if (f && strcmp(f, "0") && strcmp(f, "1") && strcmp(f, "false") && strcmp(f, "true")) {
		api_reply_error(r, LP_EINVAL, NULL, "follow must be 0 or 1");
		return LP_EINVAL;
	}
	*out_follow = f && (!strcmp(f, "1") || !strcmp(f, "true"));
	if (id && *id) {
		if (strlen(id) != APP_TIME_LEN || !time_shape(id)) {
			api_reply_error(r, LP_EINVAL, NULL,
			                "Last-Event-ID / from must be the time of an app log line");
			return LP_EINVAL;
		}
		memcpy(out_after, id, APP_TIME_LEN + 1);
		/* resumed: everything kept after that line, as far as the tail cap goes */
		*out_lines = APP_TAIL_MAX;
	}
	return LP_OK;
}

/* Where a resumed stream starts: the Last-Event-ID header, or ?from=N (events already seen). */
static int resume_point(uint64_t *out, struct api_req *r)
{
	const char *v = api_header(r, "Last-Event-ID");
	unsigned long long n;
	char *end;

	*out = 0;
	if (v == NULL)
		v = api_query(r, "from");
	if (v == NULL || *v == '\0')
		return LP_OK;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || *end || *v == '-' || n > ((uint64_t)1 << 53)) {
		api_reply_error(r, LP_EINVAL, NULL,
		                "Last-Event-ID / from must be a count of events already received");
		return LP_EINVAL;
	}
	*out = n;
	return LP_OK;
}

/* source=build: the stream of a revision's build log. */
static int build_stream(struct sse **out, struct api_req *r, const lp_store_site *site)
{
	lp_store_revision *rev = NULL;
	const char *q = api_query(r, "revision");
	lp_error err = {0};
	uint64_t skip = 0;
	int64_t number = site->desired_revision;
	char *end;
	int rc = LP_EINVAL;

	*out = NULL;
	if (q) {
		number = strtoll(q, &end, 10);
		if (*end || number < 1) {
			api_reply_error(r, LP_EINVAL, NULL, "revision must be a positive integer");
			return LP_EINVAL;
		}
	}
	if ((rev = api_revision_lookup(r, site, number)) == NULL)
		return LP_ENOTFOUND;
	if (resume_point(&skip, r) == LP_OK) {
		if ((rc = sse_new(out, r->srv, site, rev, &err)) != LP_OK)
			api_reply_lperr(r, &err);
		else
			(*out)->skip = skip;
	}
	lp_store_revision_free(rev);
	return rc;
}

/*
 * source=app: whatever app.log holds. A site that is no app (no spec.run) gets what exists, which
 * is nothing: a site may become an app, or stop being one, and its log outlives either.
 */
static int app_stream(struct sse **out, struct api_req *r, const lp_store_site *site)
{
	char after[APP_TIME_LEN + 1];
	lp_error err = {0};
	long lines;
	int follow, rc;

	*out = NULL;
	if ((rc = app_params(&lines, &follow, after, r)) != LP_OK)
		return rc;
	if ((rc = app_sse_new(out, r->srv, site, lines, follow, after[0] ? after : NULL, &err)) !=
	    LP_OK)
		api_reply_lperr(r, &err);
	return rc;
}

void api_h_logs(struct api_req *r)
{
	lp_store_site *site = api_site_lookup(r);
	const char *source = api_query(r, "source");
	struct MHD_Response *resp;
	struct sse *s = NULL;
	int rc;

	if (site == NULL)
		return;
	if (source && strcmp(source, "build") && strcmp(source, "app")) {
		api_reply_error(r, LP_EINVAL, NULL, "source must be build or app");
		goto done;
	}
	if (api_slot_try(r, site->id) != LP_OK) {
		api_reply_error(r, LP_EUNAVAILABLE, NULL,
		                "%d log streams are open already; retry later", API_SSE_STREAMS);
		goto done;
	}
	if (source && !strcmp(source, "app"))
		rc = app_stream(&s, r, site);
	else
		rc = build_stream(&s, r, site);
	if (rc != LP_OK)
		goto done;
	resp =
	    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, SSE_BLOCK, sse_read, s, sse_free);
	if (resp == NULL) {
		sse_free(s);
		api_reply_error(r, LP_ENOMEM, NULL, "out of memory");
		goto done;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	api_reply_raw(r, 200, resp, 0);
	/* the stream may last an hour: it borrows a store handle per check, not for its life */
	api_store_release(r);
done:
	lp_store_site_free(site);
}
