/* logs.c: follow a revision's build log as Server-Sent Events until the revision is final. */
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
static void emit_line(struct sse *s, const char *p, size_t n)
{
	if (++s->seq <= s->skip)
		return;
	/* Past SSE_OUT_MAX (a client that stopped reading) the line is lost: say so in the log. */
	if (lp_buf_printf(&s->out, "id: %llu\n", (unsigned long long)s->seq) != LP_OK ||
	    lp_buf_puts(&s->out, "data: ") != LP_OK || lp_buf_append(&s->out, p, n) != LP_OK ||
	    lp_buf_puts(&s->out, "\n\n") != LP_OK)
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
	/* A new file (a new attempt): its events count from the start, and none was seen. */
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

/* Ask the store (rate-limited) whether the revision reached a final state or was passed over. */
static void check_state(struct sse *s)
{
	lp_store_revision *rev = NULL;
	lp_store_site *site = NULL;
	lp_store *st;
	int rc, src;

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

/* The stream of revision rev of site: where its log is, that log's folder watched. */
static int sse_new(struct sse **out, lp_apiserver *srv, const lp_store_site *site,
                   const lp_store_revision *rev, lp_error *err)
{
	const char *data_dir = srv->cfg->data_dir;
	char dir[LP_FS_PATH_MAX];
	struct sse *s;
	int rc;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	s->srv = srv;
	s->fd = s->ino = -1;
	s->number = rev->number;
	lp_buf_init(&s->out, SSE_OUT_MAX);
	lp_buf_init(&s->line, SSE_LINE_MAX);
	if (rev->log_path && *rev->log_path)
		rc = lp_fmt(s->path, sizeof(s->path), "%s", rev->log_path);
	else
		rc = lp_layout_log(s->path, sizeof(s->path), data_dir, site->name,
		                   (long)rev->number);
	if (rc != LP_OK || lp_fmt(s->site_id, sizeof(s->site_id), "%s", site->id) != LP_OK ||
	    lp_layout_log_dir(dir, sizeof(dir), data_dir, site->name) != LP_OK) {
		sse_free(s);
		return lp_error_set(err, LP_ERROR,
		                    "the log path of revision %lld of %s is too long",
		                    (long long)rev->number, site->name);
	}
	watch_dir(s, dir);
	clock_gettime(CLOCK_MONOTONIC, &s->start);
	s->last_send = s->start;
	s->last_check.tv_sec = 0;
	if (lp_buf_printf(&s->out, ": revision %lld of %s\n\n", (long long)rev->number,
	                  site->name) != LP_OK) {
		sse_free(s);
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	*out = s;
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

void api_h_logs(struct api_req *r)
{
	lp_store_site *site = api_site_lookup(r);
	lp_store_revision *rev = NULL;
	struct MHD_Response *resp;
	struct sse *s = NULL;
	lp_error err = {0};
	const char *q = api_query(r, "revision");
	uint64_t skip = 0;
	char *end;
	int64_t number;

	if (site == NULL)
		return;
	if (api_slot_try(r, site->id) != LP_OK) {
		api_reply_error(r, LP_EUNAVAILABLE, NULL,
		                "%d log streams are open already; retry later", API_SSE_STREAMS);
		goto done;
	}
	number = site->desired_revision;
	if (q) {
		number = strtoll(q, &end, 10);
		if (*end || number < 1) {
			api_reply_error(r, LP_EINVAL, NULL, "revision must be a positive integer");
			goto done;
		}
	}
	if ((rev = api_revision_lookup(r, site, number)) == NULL)
		goto done;
	if (resume_point(&skip, r) != LP_OK)
		goto done;
	if (sse_new(&s, r->srv, site, rev, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		goto done;
	}
	s->skip = skip;
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
	lp_store_revision_free(rev);
	lp_store_site_free(site);
}
