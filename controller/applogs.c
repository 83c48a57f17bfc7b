/* applogs.c: the app log pump: one follower thread per app container, appending to app.log. */
#include "controller/applogs.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launchpad/buf.h"
#include "launchpad/clock.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "launchpad/layout.h"
#include "launchpad/lock.h"
#include "launchpad/log.h"
#include "launchpad/names.h"

#define COMPONENT "applogs"
/* The engine's time prefix: "2026-12-01T23:38:29.123456789Z" (RFC3339NanoFixed, UTC). */
#define TS_LEN 30
/* A prefix longer than this before its space is not a time: the bytes are text. */
#define TS_SCAN_MAX 40
/* Formatted lines gathered before one write; a callback's lines are written when it returns. */
#define BATCH_MAX ((size_t)64 << 10)
/* What one formatted line may take: prefix (time, revision, stream), text, cut mark, LF. */
#define LINE_OUT_MAX (TS_LEN + 32 + LP_APPLOGS_LINE_MAX + sizeof(CUT_MARK))
#define CUT_MARK     "\xe2\x80\xa6" /* "…" */
/* A follower's stack: a callback and libcurl's, measured far below this; default is 8 MiB. */
#define FOLLOWER_STACK ((size_t)512 << 10)
/* The resume scan reads the app.log parts in pieces of this (a line longer is not ours). */
#define SCAN_LINE_MAX (LINE_OUT_MAX + 64)

enum phase { AT_TIME, IN_TEXT, DISCARD };

/* One output stream's line being assembled (stdout or stderr: the engine interleaves them). */
struct line_state {
	enum phase phase;
	char scan[TS_SCAN_MAX]; /* the time prefix so far */
	size_t scanlen;
	char ts[TS_LEN + 1]; /* the current line's time */
	char text[LP_APPLOGS_LINE_MAX];
	size_t len;
	int after_cr; /* the line ended with CR: an LF right after is its pair */
};

struct follower {
	lp_applogs *owner;
	char id[LP_DOCKER_ID_MAX];
	char site[LP_NAMES_LABEL_MAX + 1];
	long revision;
	char path[LP_FS_PATH_MAX]; /* app.log */
	lp_docker_cancel cancel;
	pthread_t thread;
	/* under owner->mu */
	int started;     /* a thread runs or ended unjoined */
	int read_to_end; /* a joined follower read the container's output to its end */
	/* the thread's own until done is set */
	atomic_int done;
	int clean_end;
	char since[40];
	char last_ts[TS_LEN + 1]; /* resuming: lines before this, and skip_at_last at it, are had */
	unsigned skip_at_last;
	int resuming;
	struct line_state st[2];
	lp_buf batch;
};

struct lp_applogs {
	lp_docker *docker;
	const char *data_dir;
	int64_t file_max;
	lp_lock mu; /* the slots and each follower's started/read_to_end */
	struct follower *slots[LP_APPLOGS_FOLLOWERS_MAX];
	/* Appends and rotation of every app.log: the followers of one site share its file. */
	lp_lock write_mu;
	atomic_uint_fast64_t started, lines, rotations;
	atomic_int running;
};

/* ---- writing ---- */

static int write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* app.log becomes app.log.1 (the older part goes); a new app.log is opened. */
static int rotate(int *fd, const struct follower *f)
{
	char old[LP_FS_PATH_MAX];

	close(*fd);
	*fd = -1;
	if (lp_fmt(old, sizeof(old), "%s.1", f->path) != LP_OK || rename(f->path, old) != 0)
		return -1;
	atomic_fetch_add(&f->owner->rotations, 1);
	*fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	return *fd < 0 ? -1 : 0;
}

/*
 * Append the batch's lines, moving app.log aside before a line that would take it past the cap.
 * The directory is made by sync, never here: a site being deleted loses its directory, and a
 * follower's last lines must not bring it back (they are dropped).
 */
static void flush(struct follower *f)
{
	lp_applogs *a = f->owner;
	const char *p = f->batch.data, *end = p + f->batch.len, *run = p, *nl;
	struct stat sb;
	uint64_t lines = 0;
	int64_t size;
	size_t n;
	int fd, ok = 0;

	if (f->batch.len == 0)
		return;
	lp_lock_acquire(&a->write_mu);
	fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || fstat(fd, &sb) != 0)
		goto done;
	size = sb.st_size;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		if (size + (p - run) + (int64_t)n > a->file_max && size + (p - run) > 0) {
			if (write_all(fd, run, (size_t)(p - run)) != 0 || rotate(&fd, f) != 0)
				goto done;
			size = 0;
			run = p;
		}
		p += n;
		lines++;
	}
	ok = write_all(fd, run, (size_t)(end - run)) == 0;
	if (ok)
		atomic_fetch_add(&a->lines, lines);
done:
	if (!ok)
		LP_WARN(COMPONENT, "%s: app log lines dropped: %s: %s", f->site, f->path,
		        strerror(errno));
	if (fd >= 0)
		close(fd);
	lp_lock_release(&a->write_mu);
	lp_buf_reset(&f->batch);
}

/* ---- parsing the engine's stream ---- */

static int is_time(const char *s, size_t n)
{
	static const char shape[] = "0000-00-00T00:00:00.000000000Z";
	size_t i;

	if (n != TS_LEN)
		return 0;
	for (i = 0; i < TS_LEN; i++)
		if (shape[i] == '0' ? s[i] < '0' || s[i] > '9' : s[i] != shape[i])
			return 0;
	return 1;
}

/* The length of text without an incomplete UTF-8 sequence at its end (where it was cut). */
static size_t utf8_whole(const char *text, size_t len)
{
	size_t i = len, need;
	unsigned char c;

	while (i > 0 && len - i < 4 && ((unsigned char)text[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0)
		return len;
	c = (unsigned char)text[i - 1];
	if (c < 0xC0)
		return len;
	need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
	return len - (i - 1) >= need ? len : i - 1;
}

/* Whether a line at time ts was written before this follower started (resume). */
static int already_had(struct follower *f, const char *ts)
{
	int cmp;

	if (!f->resuming)
		return 0;
	cmp = strcmp(ts, f->last_ts);
	if (cmp < 0)
		return 1;
	if (cmp == 0 && f->skip_at_last > 0) {
		f->skip_at_last--;
		return 1;
	}
	f->resuming = 0;
	return 0;
}

static void emit(struct follower *f, int which, int cut)
{
	struct line_state *st = &f->st[which];
	size_t len = cut ? utf8_whole(st->text, st->len) : st->len;

	if (already_had(f, st->ts))
		goto done;
	if (f->batch.len + LINE_OUT_MAX > BATCH_MAX)
		flush(f);
	/* fits: the batch has LINE_OUT_MAX of room */
	if (lp_buf_printf(&f->batch, "%s r%ld %s ", st->ts, f->revision,
	                  which ? "stderr" : "stdout") != LP_OK ||
	    lp_buf_append(&f->batch, st->text, len) != LP_OK ||
	    (cut && lp_buf_puts(&f->batch, CUT_MARK) != LP_OK) ||
	    lp_buf_putc(&f->batch, '\n') != LP_OK)
		LP_WARN(COMPONENT, "%s: an app log line did not fit", f->site);
done:
	st->len = 0;
}

/*
 * The prefix ended (at its space): the line's time. Anything else (an engine that sent none) is
 * text, under the stream's previous time.
 */
static void time_end(struct line_state *st)
{
	size_t n = st->scanlen;

	st->phase = IN_TEXT;
	st->len = 0;
	st->scanlen = 0;
	if (is_time(st->scan, n)) {
		memcpy(st->ts, st->scan, TS_LEN);
		st->ts[TS_LEN] = '\0';
		return;
	}
	memcpy(st->text, st->scan, n);
	st->len = n;
	if (!st->ts[0])
		memcpy(st->ts, "1970-01-01T00:00:00.000000000Z", TS_LEN + 1);
}

static void take_byte(struct follower *f, int which, char c)
{
	struct line_state *st = &f->st[which];

	switch (st->phase) {
	case AT_TIME:
		if (c == ' ' || st->scanlen == TS_SCAN_MAX) {
			time_end(st);
			if (c != ' ')
				take_byte(f, which, c);
		} else if (c == '\n') {
			time_end(st);
			emit(f, which, 0);
			st->phase = AT_TIME;
		} else {
			st->scan[st->scanlen++] = c;
		}
		return;
	case IN_TEXT:
		if (c == '\n') {
			if (!(st->after_cr && st->len == 0))
				emit(f, which, 0);
			st->after_cr = 0;
			st->phase = AT_TIME;
		} else if (c == '\r') {
			/* A progress bar's CR ends a line too (readers take it as one). */
			emit(f, which, 0);
			st->after_cr = 1;
		} else if (st->len == LP_APPLOGS_LINE_MAX) {
			emit(f, which, 1);
			st->phase = DISCARD;
		} else {
			st->after_cr = 0;
			st->text[st->len++] = c;
		}
		return;
	case DISCARD:
		if (c == '\n') {
			st->after_cr = 0;
			st->phase = AT_TIME;
		}
		return;
	}
}

static int on_output(void *ctx, int stream, const char *data, size_t len)
{
	struct follower *f = ctx;
	int which = stream == 2;
	size_t i;

	for (i = 0; i < len; i++)
		take_byte(f, which, data[i]);
	flush(f);
	return 0;
}

/* The stream ended with the container: a last line without its LF is still a line. */
static void finish_lines(struct follower *f)
{
	int which;

	for (which = 0; which < 2; which++) {
		struct line_state *st = &f->st[which];

		if (st->phase == AT_TIME && st->scanlen > 0)
			time_end(st);
		if (st->phase == IN_TEXT && st->len > 0)
			emit(f, which, 0);
	}
	flush(f);
}

/* ---- resuming ---- */

struct scan {
	long revision;
	char newest[TS_LEN + 1]; /* the revision's newest line's time */
	unsigned at_newest;      /* its lines at exactly that time */
};

/* One line of app.log: "<time> r<revision> ...". */
static void scan_line(struct scan *s, const char *line)
{
	char *end;
	long rev;
	int cmp;

	if (strlen(line) < TS_LEN + 3 || !is_time(line, TS_LEN) || line[TS_LEN] != ' ' ||
	    line[TS_LEN + 1] != 'r')
		return;
	rev = strtol(line + TS_LEN + 2, &end, 10);
	if (rev != s->revision || *end != ' ')
		return;
	cmp = s->newest[0] ? strncmp(line, s->newest, TS_LEN) : 1;
	if (cmp > 0) {
		memcpy(s->newest, line, TS_LEN);
		s->newest[TS_LEN] = '\0';
		s->at_newest = 1;
	} else if (cmp == 0) {
		s->at_newest++;
	}
}

static void scan_file(struct scan *s, const char *path)
{
	char line[SCAN_LINE_MAX];
	int at_start = 1;
	size_t n;
	FILE *fp;

	if ((fp = fopen(path, "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		n = strlen(line);
		if (at_start)
			scan_line(s, line);
		/* a piece without its LF is the start of a longer line: skip the rest of it */
		at_start = n > 0 && line[n - 1] == '\n';
	}
	fclose(fp);
}

/* Where the follower starts: see the header. */
static void resume_point(struct follower *f)
{
	struct scan s = {.revision = f->revision};
	char part1[LP_FS_PATH_MAX], whole[TS_LEN + 1];
	const char *from;
	int64_t ms;

	if (lp_fmt(part1, sizeof(part1), "%s.1", f->path) == LP_OK)
		scan_file(&s, part1);
	scan_file(&s, f->path);
	if (!s.newest[0])
		return;
	from = s.newest;
	/* the engine takes "<seconds>.<nanoseconds>": the whole seconds, then the nine digits */
	memcpy(whole, from, 19);
	memcpy(whole + 19, "Z", 2);
	if (lp_clock_parse_rfc3339(&ms, whole) != LP_OK ||
	    lp_fmt(f->since, sizeof(f->since), "%lld.%.9s", (long long)(ms / 1000), from + 20) !=
	        LP_OK) {
		f->since[0] = '\0';
		return;
	}
	memcpy(f->last_ts, from, TS_LEN + 1);
	f->skip_at_last = s.at_newest;
	f->resuming = 1;
}

/* ---- followers ---- */

static void *follow_main(void *arg)
{
	struct follower *f = arg;
	lp_docker_logs_options o = {.follow = 1, .timestamps = 1};
	lp_error err = {0};
	int rc;

	resume_point(f);
	o.since = f->since[0] ? f->since : NULL;
	LP_DEBUG(COMPONENT, "%s: following %.12s (r%ld) since %s", f->site, f->id, f->revision,
	         o.since ? o.since : "its start");
	rc = lp_docker_container_logs_with(f->owner->docker, f->id, &o, on_output, f, &f->cancel,
	                                   &err);
	/* Cancelled (the pump stops): a partial line is left for the next start to read again. */
	if (rc == LP_OK)
		finish_lines(f);
	else
		flush(f);
	if (rc != LP_OK && rc != LP_ECANCELED && rc != LP_ENOTFOUND)
		LP_WARN(COMPONENT, "%s: following %.12s: %s", f->site, f->id, err.message);
	f->clean_end = rc == LP_OK || rc == LP_ENOTFOUND;
	atomic_fetch_sub(&f->owner->running, 1);
	atomic_store(&f->done, 1);
	return NULL;
}

static void follower_free(struct follower *f)
{
	if (f == NULL)
		return;
	lp_buf_release(&f->batch);
	free(f);
}

/* Join a follower whose thread ended (mu held). */
static void reap(struct follower *f)
{
	LP_ASSERT_HELD(&f->owner->mu);
	if (!f->started || !atomic_load(&f->done))
		return;
	pthread_join(f->thread, NULL);
	f->started = 0;
	f->read_to_end = f->clean_end;
}

static int start(struct follower *f)
{
	pthread_attr_t attr;
	int rc;

	LP_ASSERT_HELD(&f->owner->mu);
	lp_docker_cancel_init(&f->cancel);
	atomic_store(&f->done, 0);
	memset(f->st, 0, sizeof(f->st));
	f->since[0] = '\0';
	f->resuming = 0;
	f->skip_at_last = 0;
	f->clean_end = 0;
	if (pthread_attr_init(&attr) != 0)
		return -1;
	pthread_attr_setstacksize(&attr, FOLLOWER_STACK);
	atomic_fetch_add(&f->owner->running, 1);
	rc = pthread_create(&f->thread, &attr, follow_main, f);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		atomic_fetch_sub(&f->owner->running, 1);
		return -1;
	}
	f->started = 1;
	atomic_fetch_add(&f->owner->started, 1);
	return 0;
}

static struct follower *find(lp_applogs *a, const char *id, int *out_free_slot)
{
	size_t i;

	*out_free_slot = -1;
	for (i = 0; i < LP_APPLOGS_FOLLOWERS_MAX; i++) {
		if (a->slots[i] && !strcmp(a->slots[i]->id, id))
			return a->slots[i];
		if (!a->slots[i] && *out_free_slot < 0)
			*out_free_slot = (int)i;
	}
	return NULL;
}

/*
 * All slots taken: one whose follower ended is forgotten (a deleted site's are never synced
 * again). Should its container be met again, it is read once more from where app.log says: a
 * Docker call, no duplicate line.
 */
static int reclaim(lp_applogs *a)
{
	size_t i;

	for (i = 0; i < LP_APPLOGS_FOLLOWERS_MAX; i++) {
		if (a->slots[i] == NULL)
			return (int)i;
		reap(a->slots[i]);
		if (!a->slots[i]->started) {
			follower_free(a->slots[i]);
			a->slots[i] = NULL;
			return (int)i;
		}
	}
	return -1;
}

static int is_app(const lp_docker_summary *c)
{
	const char *role = lp_docker_kv_get(c->labels, c->nlabels, LP_LABEL_ROLE);

	return role && !strcmp(role, LP_ROLE_APP);
}

static struct follower *follower_new(lp_applogs *a, const char *site, const lp_docker_summary *c)
{
	const char *rev = lp_docker_kv_get(c->labels, c->nlabels, LP_LABEL_REVISION);
	struct follower *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->owner = a;
	f->revision = rev ? strtol(rev, NULL, 10) : 0;
	lp_buf_init(&f->batch, BATCH_MAX);
	if (lp_fmt(f->id, sizeof(f->id), "%s", c->id) != LP_OK ||
	    lp_fmt(f->site, sizeof(f->site), "%s", site) != LP_OK ||
	    lp_layout_app_log(f->path, sizeof(f->path), a->data_dir, site) != LP_OK) {
		follower_free(f);
		return NULL;
	}
	return f;
}

/* One app container of the site: follow it if it runs, or stopped before it was read. */
static void sync_one(lp_applogs *a, const char *site, const lp_docker_summary *c)
{
	int running = c->state && !strcmp(c->state, "running"), slot;
	struct follower *f = find(a, c->id, &slot);

	if (f == NULL) {
		/* created, never started: no output yet; it is followed once it runs */
		if (c->state && !strcmp(c->state, "created"))
			return;
		if (slot < 0)
			slot = reclaim(a);
		if (slot < 0) {
			LP_WARN(COMPONENT, "%s: %d app containers followed already: %.12s is not",
			        site, LP_APPLOGS_FOLLOWERS_MAX, c->id);
			return;
		}
		if ((f = follower_new(a, site, c)) == NULL) {
			LP_WARN(COMPONENT, "%s: cannot follow %.12s: out of memory", site, c->id);
			return;
		}
		a->slots[slot] = f;
	}
	reap(f);
	if (f->started || (!running && f->read_to_end))
		return;
	f->read_to_end = 0;
	if (start(f) != 0)
		LP_WARN(COMPONENT, "%s: cannot start a follower for %.12s", site, c->id);
}

static int listed(const lp_docker_summaries *observed, const char *id)
{
	size_t i;

	for (i = 0; observed && i < observed->n; i++)
		if (!strcmp(observed->items[i].id, id))
			return 1;
	return 0;
}

void lp_applogs_sync(lp_applogs *a, const char *site, const lp_docker_summaries *observed)
{
	char dir[LP_FS_PATH_MAX];
	lp_error err = {0};
	size_t i;
	int any = 0;

	for (i = 0; observed && i < observed->n; i++)
		any |= is_app(&observed->items[i]);
	if (any && (lp_layout_log_dir(dir, sizeof(dir), a->data_dir, site) != LP_OK ||
	            lp_fs_mkdirs(dir, 0755, &err) != LP_OK)) {
		LP_WARN(COMPONENT, "%s: app logs: %s", site, err.message);
		return;
	}
	lp_lock_acquire(&a->mu);
	for (i = 0; observed && i < observed->n; i++)
		if (is_app(&observed->items[i]))
			sync_one(a, site, &observed->items[i]);
	/* forget the site's containers that are gone, once their follower ended */
	for (i = 0; i < LP_APPLOGS_FOLLOWERS_MAX; i++) {
		struct follower *f = a->slots[i];

		if (f == NULL || strcmp(f->site, site) || listed(observed, f->id))
			continue;
		reap(f);
		if (!f->started) {
			follower_free(f);
			a->slots[i] = NULL;
		}
	}
	lp_lock_release(&a->mu);
}

int lp_applogs_new(lp_applogs **out, lp_docker *docker, const char *data_dir, int64_t file_max,
                   lp_error *err)
{
	lp_applogs *a;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	a->docker = docker;
	a->data_dir = data_dir;
	a->file_max = file_max > 0 ? file_max : LP_APPLOGS_FILE_MAX;
	lp_lock_init(&a->mu);
	lp_lock_init(&a->write_mu);
	*out = a;
	return LP_OK;
}

void lp_applogs_free(lp_applogs *a)
{
	size_t i;

	if (a == NULL)
		return;
	lp_lock_acquire(&a->mu);
	for (i = 0; i < LP_APPLOGS_FOLLOWERS_MAX; i++)
		if (a->slots[i] && a->slots[i]->started)
			lp_docker_cancel_request(&a->slots[i]->cancel);
	for (i = 0; i < LP_APPLOGS_FOLLOWERS_MAX; i++) {
		if (a->slots[i] && a->slots[i]->started)
			pthread_join(a->slots[i]->thread, NULL);
		follower_free(a->slots[i]);
	}
	lp_lock_release(&a->mu);
	lp_lock_destroy(&a->write_mu);
	lp_lock_destroy(&a->mu);
	free(a);
}

void lp_applogs_stats_get(lp_applogs_stats *out, lp_applogs *a)
{
	out->followers_started = atomic_load(&a->started);
	out->lines_written = atomic_load(&a->lines);
	out->rotations = atomic_load(&a->rotations);
	out->followers_running = atomic_load(&a->running);
}
