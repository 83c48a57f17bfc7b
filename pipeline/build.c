/* build.c: one revision from source to revisions/<n>: fetch, sandboxed build container, publish. */
#include "pipeline/build.h"
#include "pipeline/logmask.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "launchpad/names.h"
#include "pipeline/archive.h"
#include "pipeline/diskuse.h"
#include "launchpad/clock.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "launchpad/layout.h"
#include "pipeline/gitsrc.h"
#include "launchpad/log.h"
#include "pipeline/publish.h"

#define COMPONENT "build"

#define BUILD_PATH_MAX LP_FS_PATH_MAX
#define LINE_CAP       4096 /* a longer output line is cut into pieces of this size */
#define TAIL_LINE_CAP  200  /* bytes of one line quoted in an error message */
#define TIMESTAMP_LEN  24   /* 2024-05-01T12:00:00.123Z */
#define MONITOR_STEP   50   /* ms between the monitor's checks */
/* After a deadline kill, how long the log stream may lag before it is abandoned. */
#define STUCK_STREAM_MS 15000
#define NAME_CAP        256
#define ID_CAP          32   /* "uid:gid", a revision number */
#define CHUNK_CAP       4096 /* bytes of git progress read at once */
#define HEAD_CAP        160  /* the first line of a failed build's message */
#define MIB             ((uint64_t)1 << 20)
/* How long a SIGKILLed build's OOM verdict may lag its exit: 5 looks 200 ms apart. */
#define OOM_SETTLE_TRIES 5
#define OOM_SETTLE_MS    200
/* The watchdog waits this many times as long as its last measurement took (see build.h). */
#define DISK_DUTY 10

/* Lines cut from a byte stream; what is left at the end is flushed as a last line. */
struct splitter {
	char buf[LINE_CAP];
	size_t len;
};

/* The revision's log file plus the last lines of build output (for the error message). */
struct blog {
	int fd;
	lp_logmask mask; /* the spec's secret values: never written as they are */
	pthread_mutex_t mu;
	char tail[LP_BUILD_TAIL_LINES][TAIL_LINE_CAP + 1];
	size_t ntail;          /* lines ever pushed; the newest is tail[(ntail - 1) % N] */
	uint64_t output_bytes; /* build output logged so far (capped at LP_BUILD_LOG_OUTPUT_MAX) */
};

/* Shared between the build thread and its monitor. */
struct bctx {
	const lp_build_request *req;
	struct blog log;
	int git_pipe[2];    /* gitsrc's progress lines, timestamped by the monitor */
	int cancel_pipe[2]; /* written by the monitor on cancel: gitsrc's cancel_fd */
	lp_docker_cancel dcancel;
	atomic_int stop;
	atomic_int canceled;
	atomic_int timed_out;
	pthread_mutex_t mu; /* container, deadline, killed, disk_over, disk_message */
	char container[NAME_CAP];
	int64_t deadline_ms; /* monotonic; 0: none */
	int killed;
	int disk_over; /* the watchdog found the workspace or the cache over its cap */
	char disk_message[LP_ERROR_MESSAGE_MAX];
	atomic_int disk_killed; /* the container was killed for it */
	/* This attempt ended because of something outside the build: an outside kill, the engine
	 * gone. Set by the build thread only. */
	int interrupted;
	int64_t disk_check_ms; /* watchdog and final measurements, for the result */
	int disk_checks;
	/* Held by the monitor across a kill and its verdict, so the build thread, woken by the
	 * container's death, reads timed_out only once it is set. */
	pthread_mutex_t kill_mu;
	struct splitter git_split;
	int created; /* the build container exists (run_phases got that far) */
};

/* ---- the log ---- */

/* A masked line: a 1-byte secret becomes "***", three times as long. */
#define MASKED_CAP (3 * LINE_CAP + 1)

/* One masked line, "2024-05-01T12:00:00.123Z text\n", written with a single write(2). */
static void blog_write_masked(struct blog *l, const char *text, size_t len)
{
	char line[MASKED_CAP + 64];
	struct timespec ts;
	struct tm tm;
	size_t n, off = 0;

	if (l->fd < 0)
		return;
	if (len > MASKED_CAP - 1)
		len = MASKED_CAP - 1;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ldZ ", ts.tv_nsec / 1000000);
	memcpy(line + n, text, len);
	n += len;
	line[n++] = '\n';
	while (off < n) {
		ssize_t w = write(l->fd, line + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break; /* a lost log line must not fail the build */
		off += (size_t)w;
	}
}

/* One line of text, its secrets masked. */
static void blog_write(struct blog *l, const char *text, size_t len)
{
	char masked[MASKED_CAP];

	if (len > LINE_CAP)
		len = LINE_CAP;
	blog_write_masked(l, masked, lp_logmask_apply(&l->mask, masked, text, len));
}

static void blog_printf(struct blog *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void blog_printf(struct blog *l, const char *fmt, ...)
{
	char text[LINE_CAP];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	blog_write(l, text, (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1);
}

/* A line of build output: logged, and remembered for the error message. */
static void blog_output(struct blog *l, const char *raw, size_t rawlen)
{
	char text[MASKED_CAP];
	size_t len = lp_logmask_apply(&l->mask, text, raw, rawlen < LINE_CAP ? rawlen : LINE_CAP);
	size_t k = len < TAIL_LINE_CAP ? len : TAIL_LINE_CAP;
	char *slot;

	/* Only the build thread logs output, so output_bytes needs no lock. */
	if (l->output_bytes <= LP_BUILD_LOG_OUTPUT_MAX) {
		l->output_bytes += len + TIMESTAMP_LEN + 2; /* as written: stamp, space, newline */
		if (l->output_bytes <= LP_BUILD_LOG_OUTPUT_MAX)
			blog_write_masked(l, text, len);
		else
			blog_printf(l, "(build output past %llu MiB is not logged)",
			            (unsigned long long)(LP_BUILD_LOG_OUTPUT_MAX >> 20));
	}
	pthread_mutex_lock(&l->mu);
	slot = l->tail[l->ntail % LP_BUILD_TAIL_LINES];
	memcpy(slot, text, k);
	slot[k] = '\0';
	l->ntail++;
	pthread_mutex_unlock(&l->mu);
}

/* "build exited with code 3; last lines:\n..." with as many of the last lines as fit. */
static void tail_message(char *out, size_t outsz, struct blog *l, const char *head)
{
	size_t n, first, i, used;

	pthread_mutex_lock(&l->mu);
	n = l->ntail < LP_BUILD_TAIL_LINES ? l->ntail : LP_BUILD_TAIL_LINES;
	used = strlen(head) + sizeof("; last lines:");
	/* Drop the oldest lines until the rest fits: the end of the output says the most. */
	first = 0;
	for (i = 0; i < n; i++)
		used += strlen(l->tail[(l->ntail - n + i) % LP_BUILD_TAIL_LINES]) + 1;
	while (first < n && used >= outsz) {
		used -= strlen(l->tail[(l->ntail - n + first) % LP_BUILD_TAIL_LINES]) + 1;
		first++;
	}
	if (first >= n) {
		snprintf(out, outsz, "%s", head);
	} else {
		size_t off = (size_t)snprintf(out, outsz, "%s; last lines:", head);

		for (i = first; i < n && off < outsz; i++)
			off += (size_t)snprintf(out + off, outsz - off, "\n%s",
			                        l->tail[(l->ntail - n + i) % LP_BUILD_TAIL_LINES]);
	}
	pthread_mutex_unlock(&l->mu);
}

typedef void (*line_fn)(struct blog *l, const char *text, size_t len);

static void split_emit(struct splitter *s, struct blog *l, line_fn fn)
{
	size_t len = s->len;

	if (len > 0 && s->buf[len - 1] == '\r')
		len--;
	fn(l, s->buf, len);
	s->len = 0;
}

static void split_feed(struct splitter *s, struct blog *l, line_fn fn, const char *data, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (data[i] == '\n') {
			split_emit(s, l, fn);
			continue;
		}
		s->buf[s->len++] = data[i];
		if (s->len == sizeof(s->buf)) {
			/* a forced cut falls where no secret straddles it; the rest waits */
			size_t cut = lp_logmask_cut(&l->mask, s->buf, s->len), rest = s->len - cut;

			s->len = cut;
			split_emit(s, l, fn);
			memmove(s->buf, s->buf + cut, rest);
			s->len = rest;
		}
	}
}

static void split_flush(struct splitter *s, struct blog *l, line_fn fn)
{
	if (s->len > 0)
		split_emit(s, l, fn);
}

/* ---- names and paths ---- */

/* A layout function's result (the paths are all LP_FS_PATH_MAX long) as an error. */
static int path_ok(int rc, lp_error *err)
{
	return rc == LP_OK ? LP_OK
	                   : lp_error_set(err, LP_ETOOBIG, "path too long under the data dir");
}

static int is_commit(const char *s)
{
	size_t i;

	for (i = 0; i < 40; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return s[40] == '\0';
}

/* ---- ownership of the workspace ---- */

/* nftw has no context argument; each build runs on its own thread. */
static _Thread_local uid_t chown_uid;
static _Thread_local gid_t chown_gid;
static _Thread_local int chown_errno;

static int chown_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)flag;
	(void)ftw;
	if (st->st_uid == chown_uid && st->st_gid == chown_gid)
		return 0;
	if (lchown(path, chown_uid, chown_gid) != 0) {
		chown_errno = errno;
		return 1;
	}
	return 0;
}

/* chown -R without following links: the build user must own what it builds in. */
static int chown_tree(const char *path, unsigned uid, unsigned gid, lp_error *err)
{
	chown_uid = (uid_t)uid;
	chown_gid = (gid_t)gid;
	chown_errno = 0;
	if (nftw(path, chown_one, 32, FTW_PHYS | FTW_MOUNT) != 0)
		return lp_error_set(err, LP_EIO, "chown %s to %u:%u: %s", path, uid, gid,
		                    strerror(chown_errno ? chown_errno : errno));
	return LP_OK;
}

/* ---- the monitor thread: git progress lines, cancellation, the deadline ---- */

static int cancel_requested(const struct bctx *b)
{
	return b->req->cancel != NULL && atomic_load(b->req->cancel) != 0;
}

static void monitor_kill(struct bctx *b)
{
	char id[NAME_CAP];
	int deadline_hit, rc;
	lp_error e = {0};
	int disk;

	pthread_mutex_lock(&b->mu);
	deadline_hit = b->deadline_ms > 0 && lp_clock_mono_ms() >= b->deadline_ms;
	disk = b->disk_over;
	if (b->container[0] == '\0' || b->killed ||
	    !(atomic_load(&b->canceled) || deadline_hit || disk)) {
		pthread_mutex_unlock(&b->mu);
		return;
	}
	b->killed = 1;
	memcpy(id, b->container, sizeof(id));
	pthread_mutex_lock(&b->kill_mu);
	pthread_mutex_unlock(&b->mu);
	rc = lp_docker_container_kill(b->req->docker, id, NULL, &e);
	if (rc != LP_OK && rc != LP_ECONFLICT && rc != LP_ENOTFOUND) {
		/* The engine did not take the kill (timeout, unreachable): try again next tick. */
		pthread_mutex_lock(&b->mu);
		b->killed = 0;
		pthread_mutex_unlock(&b->mu);
	}
	if (!atomic_load(&b->canceled) && disk && rc == LP_OK)
		atomic_store(&b->disk_killed, 1);
	else if (!atomic_load(&b->canceled) && rc == LP_OK)
		atomic_store(&b->timed_out, 1);
	pthread_mutex_unlock(&b->kill_mu);
	if (atomic_load(&b->canceled))
		blog_printf(&b->log, "==> canceled: stopping the build container");
	else if (disk && rc == LP_OK)
		blog_printf(&b->log, "==> disk cap reached: killing the build container");
	else if (rc == LP_OK)
		blog_printf(&b->log, "==> deadline reached: killing the build container");
	if (rc != LP_OK && rc != LP_ECONFLICT && rc != LP_ENOTFOUND)
		LP_WARN(COMPONENT, "kill %s: %s", id, e.message);
}

static void *monitor_main(void *arg)
{
	struct bctx *b = arg;
	char chunk[CHUNK_CAP];
	int stuck_fired = 0;

	for (;;) {
		int stopping = atomic_load(&b->stop);
		struct pollfd p = {.fd = b->git_pipe[0], .events = POLLIN};
		ssize_t k = 0;

		if (poll(&p, 1, stopping ? 0 : MONITOR_STEP) > 0) {
			k = read(b->git_pipe[0], chunk, sizeof(chunk));
			if (k > 0)
				split_feed(&b->git_split, &b->log, blog_write, chunk, (size_t)k);
		}
		/* Stop once drained: a forked child elsewhere may hold the write end open. */
		if (stopping && k <= 0)
			break;
		if (!atomic_load(&b->canceled) && cancel_requested(b)) {
			ssize_t w;

			atomic_store(&b->canceled, 1);
			w = write(b->cancel_pipe[1], "x", 1);
			(void)w; /* the flag is checked again between phases */
			lp_docker_cancel_request(&b->dcancel);
		}
		monitor_kill(b);
		if (atomic_load(&b->timed_out) && !stuck_fired) {
			int64_t dl;

			pthread_mutex_lock(&b->mu);
			dl = b->deadline_ms;
			pthread_mutex_unlock(&b->mu);
			if (lp_clock_mono_ms() > dl + STUCK_STREAM_MS) {
				stuck_fired = 1;
				lp_docker_cancel_request(&b->dcancel);
			}
		}
	}
	split_flush(&b->git_split, &b->log, blog_write);
	return NULL;
}

/* ---- disk: the free-space floor, the caps, the watchdog ---- */

static void report_status(struct bctx *b, lp_build_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A progress line for the caller (the controller records it as the revision's message). */
static void report_status(struct bctx *b, lp_build_status status, const char *fmt, ...)
{
	char text[LP_ERROR_MESSAGE_MAX];
	va_list ap;

	if (b->req->on_status == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap); /* human text: a long reason may be cut */
	va_end(ap);
	b->req->on_status(b->req->status_ctx, status, text);
}

static uint64_t mib_bytes(int mb)
{
	return mb > 0 ? (uint64_t)mb * MIB : 0;
}

static double in_mib(uint64_t bytes)
{
	return (double)bytes / (double)MIB;
}

/* Sleep up to ms in monitor steps; LP_ECANCELED as soon as the build is cancelled. */
static int sleep_unless_canceled(struct bctx *b, int64_t ms, lp_error *err)
{
	int64_t end = lp_clock_mono_ms() + ms;

	for (;;) {
		int64_t left = end - lp_clock_mono_ms();

		if (atomic_load(&b->canceled) || cancel_requested(b))
			return lp_error_set(err, LP_ECANCELED, "build canceled");
		if (left <= 0)
			return LP_OK;
		lp_clock_sleep_ms(left < MONITOR_STEP ? left : MONITOR_STEP);
	}
}

/*
 * Below the platform's free-space floor a build waits rather than fails: the space is usually
 * back soon (another build finishing, the gc, an admin), and a failure would need a new revision.
 */
static int wait_for_space(lp_build_result *out, struct bctx *b, lp_error *err)
{
	const lp_config *cfg = b->req->cfg;
	uint64_t floor = mib_bytes(cfg->min_free_mb), avail = 0;
	int64_t t0 = lp_clock_mono_ms(), reported = 0;
	int waited = 0, rc;

	while (floor > 0) {
		struct statvfs v;

		if (statvfs(cfg->data_dir, &v) != 0) {
			/* Not knowing is no reason to hold every build back. */
			LP_WARN(COMPONENT, "statvfs %s: %s", cfg->data_dir, strerror(errno));
			break;
		}
		avail = (uint64_t)v.f_bavail * v.f_frsize;
		if (avail >= floor)
			break;
		if (!waited || lp_clock_mono_ms() - reported >= LP_BUILD_DISK_REPORT_MS) {
			blog_printf(&b->log,
			            "==> waiting for disk space: %llu MiB free, floor %d MiB",
			            (unsigned long long)(avail / MIB), cfg->min_free_mb);
			report_status(b, LP_BUILD_STATUS_WAITING_DISK,
			              "waiting for disk space: %llu MiB free, floor %d MiB",
			              (unsigned long long)(avail / MIB), cfg->min_free_mb);
			reported = lp_clock_mono_ms();
			waited = 1;
		}
		if ((rc = sleep_unless_canceled(b, LP_BUILD_DISK_POLL_MS, err)) != LP_OK)
			return rc;
	}
	if (waited) {
		out->disk_wait_ms += lp_clock_mono_ms() - t0;
		blog_printf(&b->log, "disk space is back: %llu MiB free after %.1f s of waiting",
		            (unsigned long long)(avail / MIB),
		            (double)(lp_clock_mono_ms() - t0) / 1e3);
		report_status(b, LP_BUILD_STATUS_BUILDING, "building");
	}
	return LP_OK;
}

/* Where the build writes, and what it may use there. */
struct disk_caps {
	const char *ws, *cache;
	uint64_t ws_cap, cache_cap; /* bytes; 0: none */
};

static void disk_caps_for(struct disk_caps *out, const struct bctx *b, const char *ws,
                          const char *cache)
{
	out->ws = ws;
	out->cache = cache;
	out->ws_cap = mib_bytes(b->req->cfg->build_workspace_max_mb);
	out->cache_cap = mib_bytes(b->req->cfg->build_cache_max_mb);
}

/*
 * One look at the workspace and the cache against their caps: 1 (with the reason in msg) when one
 * is over or cannot be measured. partial: stop counting at the cap (the watchdog's quick look);
 * otherwise everything is counted, and the usage lands in the result.
 */
static int disk_over_caps(struct bctx *b, const struct disk_caps *c, int partial,
                          lp_build_result *out, char *msg, size_t msgsz)
{
	const struct {
		const char *what, *dir, *flag;
		uint64_t cap;
	} t[2] = {{"workspace", c->ws, "--build-workspace-max-mb", c->ws_cap},
	          {"cache", c->cache, "--build-cache-max-mb", c->cache_cap}};
	int i, over = 0;

	for (i = 0; i < 2 && !over; i++) {
		lp_diskuse u;
		lp_error e = {0};
		int rc = lp_diskuse_measure(&u, t[i].dir, partial ? t[i].cap : 0, &e);

		if (rc == LP_ETOOBIG && t[i].cap > 0) {
			/* What cannot be measured cannot be let through. */
			lp_fmt_text(msg, msgsz,
			            "build %s cannot be measured against its cap (%s): %s",
			            t[i].what, t[i].flag, e.message);
			over = 1;
		} else if (rc != LP_OK) {
			LP_WARN(COMPONENT, "build %s: %s", t[i].what, e.message);
			continue;
		} else if (t[i].cap > 0 && u.bytes > t[i].cap) {
			lp_fmt_text(msg, msgsz,
			            "build %s used %s%.1f MiB, over its cap of %llu MiB (%s)",
			            t[i].what, u.partial ? "more than " : "", in_mib(u.bytes),
			            (unsigned long long)(t[i].cap / MIB), t[i].flag);
			over = 1;
		}
		if (rc == LP_OK && out != NULL && !u.partial)
			*(i == 0 ? &out->workspace_bytes : &out->cache_bytes) = u.bytes;
	}
	return over;
}

/* The watchdog, while the build container runs. */
struct watchdog {
	struct bctx *b;
	struct disk_caps caps;
	atomic_int stop;
	pthread_t thread;
	int running;
};

static void *watchdog_main(void *arg)
{
	struct watchdog *w = arg;
	int64_t next = lp_clock_mono_ms() + LP_BUILD_DISK_STEP_MS;
	char msg[LP_ERROR_MESSAGE_MAX];

	while (!atomic_load(&w->stop)) {
		int64_t t0 = lp_clock_mono_ms(), took;
		int over;

		if (t0 < next) {
			lp_clock_sleep_ms(next - t0 < MONITOR_STEP ? next - t0 : MONITOR_STEP);
			continue;
		}
		over = disk_over_caps(w->b, &w->caps, 1, NULL, msg, sizeof(msg));
		took = lp_clock_mono_ms() - t0;
		w->b->disk_check_ms += took; /* read by the build thread after the join */
		w->b->disk_checks++;
		if (over) {
			pthread_mutex_lock(&w->b->mu);
			w->b->disk_over = 1;
			memcpy(w->b->disk_message, msg, sizeof(msg));
			pthread_mutex_unlock(&w->b->mu);
			break; /* the monitor kills the container */
		}
		next = lp_clock_mono_ms() + (took * DISK_DUTY > LP_BUILD_DISK_STEP_MS
		                                 ? took * DISK_DUTY
		                                 : LP_BUILD_DISK_STEP_MS);
	}
	return NULL;
}

static void watchdog_start(struct watchdog *w, struct bctx *b, const struct disk_caps *caps)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
	w->caps = *caps;
	atomic_init(&w->stop, 0);
	if (caps->ws_cap == 0 && caps->cache_cap == 0)
		return;
	/* Without the thread the final measurement still enforces the caps. */
	w->running = pthread_create(&w->thread, NULL, watchdog_main, w) == 0;
	if (!w->running)
		LP_WARN(COMPONENT, "cannot start the disk watchdog thread");
}

static void watchdog_stop(struct watchdog *w)
{
	if (!w->running)
		return;
	atomic_store(&w->stop, 1);
	pthread_join(w->thread, NULL);
	w->running = 0;
}

/*
 * Before a build, the site's cache goes down to half its cap, least recently used files first, so
 * the build has room to add to it; and it is marked used now, since the platform-wide eviction
 * takes the least recently used caches first.
 */
static int trim_cache(struct bctx *b, const char *cache, lp_error *err)
{
	uint64_t cap = mib_bytes(b->req->cfg->build_cache_max_mb);
	lp_diskuse_trim t;
	lp_error e = {0};

	if (cap > 0) {
		if (lp_diskuse_trim_to(&t, cache, cap / 2, &e) != LP_OK)
			blog_printf(&b->log, "cache: could not trim it: %s", e.message);
		else if (t.removed_everything)
			blog_printf(&b->log,
			            "cache: %.1f MiB could not be trimmed file by file: emptied it",
			            in_mib(t.before));
		else if (t.removed_files > 0)
			blog_printf(
			    &b->log,
			    "cache: removed %zu least recently used files, %.1f MiB -> %.1f MiB "
			    "(half of its %d MiB cap)",
			    t.removed_files, in_mib(t.before), in_mib(t.after),
			    b->req->cfg->build_cache_max_mb);
	}
	if (lp_fs_mkdirs(cache, 0755, err) != LP_OK)
		return err->code;
	if (utimensat(AT_FDCWD, cache, NULL, 0) != 0)
		LP_WARN(COMPONENT, "marking %s used: %s", cache, strerror(errno));
	return LP_OK;
}

/* ---- phases ---- */

static void note_archive(void *ctx, const char *message)
{
	blog_printf(ctx, "archive: %s", message);
}

static void note_publish(void *ctx, const char *line)
{
	blog_printf(ctx, "publish: %s", line);
}

static int fetch_archive(lp_build_result *out, struct bctx *b, const char *ws, lp_error *err)
{
	const lp_build_request *req = b->req;
	const char *digest = req->spec->archive_digest;
	char path[BUILD_PATH_MAX];
	lp_archive_stats st;
	lp_archive_limits lim;
	int rc;

	if (req->source != NULL && strncmp(req->source, "sha256:", 7) == 0)
		digest = req->source;
	else if (req->source != NULL && req->source[0] != '\0')
		return lp_error_set(err, LP_EINVAL,
		                    "revision source \"%.80s\" is not an archive digest",
		                    req->source);
	rc = lp_spec_check_digest(digest, err);
	if (rc != LP_OK)
		return rc;
	rc = path_ok(lp_layout_archive(path, sizeof(path), req->cfg->data_dir, digest + 7, "zip"),
	             err);
	if (rc != LP_OK)
		return rc;
	if (!lp_fs_exists(path)) {
		char alt[BUILD_PATH_MAX];

		rc = path_ok(
		    lp_layout_archive(alt, sizeof(alt), req->cfg->data_dir, digest + 7, "tar.gz"),
		    err);
		if (rc != LP_OK)
			return rc;
		if (!lp_fs_exists(alt))
			return lp_error_set(err, LP_ENOTFOUND,
			                    "upload %s not found (expected %s): upload the archive "
			                    "again",
			                    digest, path);
		memcpy(path, alt, sizeof(path));
	}
	snprintf(out->resolved_source, sizeof(out->resolved_source), "%s", digest);
	blog_printf(&b->log, "==> fetch: archive %s", digest);
	lp_archive_limits_for(&lim, req->cfg);
	rc = lp_archive_extract(&st, path, ws, &lim, note_archive, &b->log, err);
	if (rc != LP_OK)
		return lp_error_wrap(err, "archive %s", digest);
	blog_printf(&b->log, "extracted %zu files, %zu directories, %llu bytes%s%s", st.files,
	            st.dirs, (unsigned long long)st.bytes, st.stripped[0] ? ", stripped " : "",
	            st.stripped);
	return LP_OK;
}

/*
 * The engine's networks as a comma list, for the Git fetch to refuse (its hosts are the
 * controller's neighbours, not Git servers). *out is malloc'd.
 */
static int engine_ranges(char **out, struct bctx *b, lp_error *err)
{
	lp_docker_subnet *subs = NULL;
	size_t n = 0, i, off = 0;
	char *list;
	int rc;

	*out = NULL;
	rc = lp_docker_network_subnets(&subs, &n, b->req->docker, err);
	if (rc != LP_OK)
		return lp_error_wrap(err, "listing the engine's networks for the Git fetch");
	if ((list = calloc(n + 1, LP_DOCKER_SUBNET_MAX + 1)) == NULL) {
		free(subs);
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		size_t len = strlen(subs[i].cidr);

		memcpy(list + off, subs[i].cidr, len);
		off += len;
		list[off++] = ',';
	}
	list[off] = '\0';
	free(subs);
	*out = list;
	return LP_OK;
}

static int fetch_git(lp_build_result *out, struct bctx *b, const char *ws, int timeout_s,
                     lp_error *err)
{
	const lp_build_request *req = b->req;
	const lp_site *spec = req->spec;
	char cache[BUILD_PATH_MAX];
	lp_gitsrc_request g = {0};
	lp_gitsrc_result res;
	char *deny = NULL;
	int rc;

	if (req->source != NULL && req->source[0] != '\0' && !is_commit(req->source))
		return lp_error_set(err, LP_EINVAL, "revision source \"%.80s\" is not a commit SHA",
		                    req->source);
	rc = path_ok(lp_layout_dir_path(cache, sizeof(cache), req->cfg->data_dir, LP_DIR_GIT_CACHE),
	             err);
	if (rc == LP_OK)
		rc = lp_fs_mkdirs(cache, 0700, err);
	if (rc == LP_OK)
		rc = path_ok(
		    lp_layout_git_cache(cache, sizeof(cache), req->cfg->data_dir, req->site_name),
		    err);
	if (rc != LP_OK)
		return rc;
	g.url = spec->git_url;
	g.branch = spec->git_branch ? spec->git_branch : LP_SITE_DEFAULT_BRANCH;
	g.commit = req->source != NULL && req->source[0] != '\0' ? req->source : NULL;
	g.cache_dir = cache;
	g.workdir = ws;
	g.allow_insecure = req->cfg->allow_insecure_sources;
	g.timeout_seconds = timeout_s;
	g.log_fd = b->git_pipe[1];
	g.cancel_fd = b->cancel_pipe[0];
	g.username = req->git_username;
	g.password = req->git_password;
	/* SSRF: without insecure sources (development), only public addresses are fetched from. */
	g.check_addresses = !req->cfg->allow_insecure_sources;
	if (g.check_addresses) {
		if ((rc = engine_ranges(&deny, b, err)) != LP_OK)
			return rc;
		g.allow_hosts = req->cfg->git_allow_hosts;
		g.deny_ranges = deny;
	}
	blog_printf(&b->log, "==> fetch: git %s branch %s%s%s", g.url ? g.url : "(none)", g.branch,
	            g.commit ? " commit " : "", g.commit ? g.commit : "");
	rc = lp_gitsrc_fetch(&res, &g, err);
	free(deny);
	if (rc != LP_OK)
		return rc;
	snprintf(out->resolved_source, sizeof(out->resolved_source), "%s", res.sha);
	blog_printf(&b->log, "source: commit %s (%u files)", res.sha, res.files);
	return LP_OK;
}

/* The output sink of one container: a splitter per stream, into the log. */
struct out_sink {
	struct splitter s[2];
	struct blog *log;
};

static int sink_fn(void *ctx, int stream, const char *data, size_t len)
{
	struct out_sink *o = ctx;

	split_feed(&o->s[stream == 2 ? 1 : 0], o->log, blog_output, data, len);
	return 0;
}

/* Every "K=V" the build sees: the spec's, plus defaults for what it does not set. */
static char **build_env(const lp_site *spec, lp_error *err)
{
	static const char *const defaults[][2] = {
	    {"HOME", "/tmp"}, {"npm_config_cache", "/cache/npm"}, {"CI", "true"}};
	size_t ndef = sizeof(defaults) / sizeof(defaults[0]);
	char **env = calloc(spec->build_env_count + ndef + 1, sizeof(char *));
	size_t i, j, n = 0;

	if (env == NULL)
		goto oom;
	for (i = 0; i < spec->build_env_count; i++)
		if (asprintf(&env[n++], "%s=%s", spec->build_env[i].name,
		             spec->build_env[i].value) < 0) {
			env[--n] = NULL;
			goto oom;
		}
	for (j = 0; j < ndef; j++) {
		int set = 0;

		for (i = 0; i < spec->build_env_count; i++)
			set |= strcmp(spec->build_env[i].name, defaults[j][0]) == 0;
		if (!set && asprintf(&env[n++], "%s=%s", defaults[j][0], defaults[j][1]) < 0) {
			env[--n] = NULL;
			goto oom;
		}
	}
	return env;
oom:
	for (i = 0; env != NULL && env[i] != NULL; i++) {
		explicit_bzero(env[i], strlen(env[i]));
		free(env[i]);
	}
	free(env);
	lp_error_set(err, LP_ENOMEM, "out of memory building the environment");
	return NULL;
}

/* Wiped, then freed: an environment holds the clear values of secrets. */
static void strv_free(char **v)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++) {
		explicit_bzero(v[i], strlen(v[i]));
		free(v[i]);
	}
	free(v);
}

static int64_t memory_cap(const lp_build_request *req)
{
	return req->memory_bytes > 0 ? req->memory_bytes : LP_BUILD_MEMORY_BYTES;
}

/* The sandbox: everything docs/builds.md promises, in one create call. */
static int create_container(struct bctx *b, const char *name, const char *image, const char *ws,
                            const char *cache, char **env, lp_error *err)
{
	const lp_build_request *req = b->req;
	char user[ID_CAP], rev[ID_CAP], net[NAME_CAP], bind_ws[BUILD_PATH_MAX + 16],
	    bind_cache[BUILD_PATH_MAX + 16];
	const char *entrypoint[] = {"/bin/sh", "-c", NULL};
	const char *cmd[] = {req->spec->build_command, NULL};
	const char *binds[] = {bind_ws, bind_cache, NULL};
	const char *cap_drop[] = {"ALL", NULL};
	const char *secopt[] = {"no-new-privileges", NULL};
	lp_docker_kv labels[4], tmpfs[1];
	lp_docker_create_config cc = {0};
	char *id = NULL;
	int rc;

	snprintf(user, sizeof(user), "%u:%u", req->build_uid, req->build_gid);
	snprintf(rev, sizeof(rev), "%ld", req->revision);
	rc = lp_names_build_network(net, sizeof(net), req->cfg->instance, err);
	if (rc != LP_OK)
		return rc;
	snprintf(bind_ws, sizeof(bind_ws), "%s:/workspace", ws);
	snprintf(bind_cache, sizeof(bind_cache), "%s:/cache", cache);
	labels[0] = (lp_docker_kv){"launchpad.instance", req->cfg->instance};
	labels[1] = (lp_docker_kv){"launchpad.site", (char *)req->site_name};
	labels[2] = (lp_docker_kv){"launchpad.role", "build"};
	labels[3] = (lp_docker_kv){"launchpad.revision", rev};
	tmpfs[0] = (lp_docker_kv){"/tmp", LP_BUILD_TMPFS_OPTS};
	cc.name = name;
	cc.image = image;
	cc.entrypoint = entrypoint;
	cc.cmd = cmd;
	cc.env = (const char *const *)env;
	cc.user = user;
	cc.workdir = "/workspace";
	cc.labels = labels;
	cc.nlabels = 4;
	cc.binds = binds;
	cc.network = net;
	cc.memory_bytes = memory_cap(req);
	cc.nano_cpus = LP_BUILD_NANO_CPUS;
	cc.pids_limit = LP_BUILD_PIDS_LIMIT;
	cc.readonly_rootfs = 1;
	cc.tmpfs = tmpfs;
	cc.ntmpfs = 1;
	cc.cap_drop = cap_drop;
	cc.security_opt = secopt;
	cc.restart_policy = "no";
	cc.stop_timeout = 1;
	cc.log_max_size = LP_BUILD_LOG_FILE_SIZE;
	cc.log_max_files = LP_BUILD_LOG_FILES;
	rc = lp_docker_container_create(&id, req->docker, &cc, err);
	if (rc != LP_OK)
		return lp_error_wrap(err, "create build container %s", name);
	pthread_mutex_lock(&b->mu);
	snprintf(b->container, sizeof(b->container), "%s", id);
	pthread_mutex_unlock(&b->mu);
	free(id);
	return LP_OK;
}

/* Pull progress: one log line per layer state (the byte counters are left out). */
static void on_pull(void *ctx, const char *status, const char *id, const char *progress)
{
	struct bctx *b = ctx;

	if (progress && *progress)
		return;
	blog_printf(&b->log, "pull: %s%s%s", id && *id ? id : "", id && *id ? ": " : "", status);
}

/* The image on the engine, pulled (with progress in the log) when missing: create never pulls. */
static int ensure_image(struct bctx *b, const char *image, const char *what, lp_error *err)
{
	const lp_build_request *req = b->req;
	int rc = lp_docker_image_inspect(NULL, req->docker, image, err);

	if (rc != LP_ENOTFOUND)
		return rc == LP_OK ? LP_OK : lp_error_wrap(err, "%s image \"%s\"", what, image);
	blog_printf(&b->log, "==> pull: %s image %s is not on the engine; pulling it", what, image);
	rc = lp_docker_image_pull(req->docker, image, on_pull, b, LP_BUILD_PULL_TIMEOUT_MS,
	                          &b->dcancel, err);
	if (rc != LP_OK) {
		blog_printf(&b->log, "pull failed: %s", err->message);
		return lp_error_set(err, rc == LP_ECANCELED ? LP_ECANCELED : LP_ENOTFOUND,
		                    "%s image \"%s\" is missing and could not be pulled: %s", what,
		                    image, err->message);
	}
	blog_printf(&b->log, "pulled %s", image);
	return LP_OK;
}

static int prepare_build(struct bctx *b, const char *image, const char *ws, char *cache,
                         lp_error *err)
{
	const lp_build_request *req = b->req;
	lp_docker_kv netlabels[1] = {{"launchpad.instance", req->cfg->instance}};
	char net[NAME_CAP];
	struct stat st;
	int rc;

	if ((rc = ensure_image(b, image, "build", err)) != LP_OK)
		return rc;
	rc = lp_names_build_network(net, sizeof(net), req->cfg->instance, err);
	if (rc != LP_OK)
		return rc;
	rc = lp_docker_network_ensure(NULL, req->docker, net, 0, netlabels, 1, err);
	if (rc == LP_ECONFLICT)
		return lp_error_set(err, LP_ECONFLICT,
		                    "network %s exists but is internal (no egress): remove it so "
		                    "LaunchPad can recreate it",
		                    net);
	if (rc != LP_OK)
		return lp_error_wrap(err, "network %s", net);
	rc = path_ok(
	    lp_layout_dir_path(cache, BUILD_PATH_MAX, req->cfg->data_dir, LP_DIR_BUILD_CACHE), err);
	if (rc == LP_OK)
		rc = lp_fs_mkdirs(cache, 0700, err);
	if (rc == LP_OK)
		rc = path_ok(lp_layout_build_cache(cache, BUILD_PATH_MAX, req->cfg->data_dir,
		                                   req->site_name),
		             err);
	if (rc == LP_OK)
		rc = lp_fs_mkdirs(cache, 0755, err);
	if (rc == LP_OK)
		rc = trim_cache(b, cache, err);
	if (rc != LP_OK)
		return rc;
	/* Docker's bind syntax cannot quote a ':' or ',' in the host path. */
	if (strpbrk(ws, ":,") != NULL || strpbrk(cache, ":,") != NULL)
		return lp_error_set(err, LP_EINVAL,
		                    "data dir %s contains ':' or ',', which Docker binds cannot "
		                    "express",
		                    req->cfg->data_dir);
	if (lstat(cache, &st) != 0 || !S_ISDIR(st.st_mode))
		return lp_error_set(err, LP_EIO, "build cache %s is not a directory", cache);
	/* The cache's contents were written by the build user; only a changed uid needs a walk. */
	if (st.st_uid != req->build_uid || st.st_gid != req->build_gid) {
		rc = chown_tree(cache, req->build_uid, req->build_gid, err);
		if (rc != LP_OK)
			return rc;
	}
	return chown_tree(ws, req->build_uid, req->build_gid, err);
}

/* This attempt met something outside the build: it is retried (see build_fresh). */
static int interrupted(struct bctx *b, lp_error *err, const char *why)
{
	b->interrupted = 1;
	return lp_error_set(err, LP_EUNAVAILABLE, "build interrupted: %s", why);
}

/* A non-zero exit: the OOM killer, a kill from outside, or the command's own failure. */
static int judge_exit(lp_build_result *out, struct bctx *b, const char *id, int code, lp_error *err)
{
	const lp_build_request *req = b->req;
	lp_docker_container *c = NULL;
	char head[HEAD_CAP];
	lp_error le = {0};
	int rc, tries;

	/*
	 * The engine records an OOM kill when containerd reports it, which can come after the exit
	 * it caused (seen: OOMKilled still false right after a 137): a SIGKILL is looked at again
	 * before it is called an outside kill.
	 */
	for (tries = 0;; tries++) {
		rc = lp_docker_container_inspect(&c, req->docker, id, &le);
		if (rc != LP_OK || c->oom_killed || code != 137 || tries == OOM_SETTLE_TRIES)
			break;
		lp_docker_container_free(c);
		c = NULL;
		lp_clock_sleep_ms(OOM_SETTLE_MS);
	}
	if (rc == LP_ENOTFOUND)
		return interrupted(b, err, "the build container was removed from outside");
	if (rc == LP_EUNAVAILABLE)
		return interrupted(b, err, "the Docker engine went away");
	out->oom_killed = rc == LP_OK && c->oom_killed;
	lp_docker_container_free(c);
	if (out->oom_killed) {
		lp_fmt_text(head, sizeof(head), "out of memory: the build used more than %lld MiB",
		            (long long)(memory_cap(req) >> 20));
	} else if (code == 137 && rc == LP_OK) {
		/* SIGKILL, and not the OOM killer's: docker kill, docker stop, an engine restart.
		 */
		return interrupted(b, err,
		                   "the build container was killed from outside (exit code 137, "
		                   "not out of memory)");
	} else {
		lp_fmt_text(head, sizeof(head), "build exited with code %d", code);
	}
	/* err is always the caller's local lp_error here, never NULL. */
	tail_message(err->message, sizeof(err->message), &b->log, head);
	err->code = LP_EBUILD;
	return LP_EBUILD;
}

/* The verdict on a build container that has stopped (or whose wait failed with wait_rc). */
static int judge_container(lp_build_result *out, struct bctx *b, const struct disk_caps *caps,
                           const char *id, int wait_rc, int code, const lp_error *wait_err,
                           int64_t t0, int timeout_s, lp_error *err)
{
	char msg[LP_ERROR_MESSAGE_MAX];
	int64_t m0;
	int over;

	if (atomic_load(&b->canceled))
		return lp_error_set(err, LP_ECANCELED, "build canceled");
	if (atomic_load(&b->timed_out)) {
		blog_printf(&b->log, "killed at the deadline after %.1f s",
		            (double)(lp_clock_mono_ms() - t0) / 1000.0);
		out->exit_code = code;
		out->timed_out = 1;
		return lp_error_set(err, LP_ETIMEOUT, "build timed out after %d s", timeout_s);
	}
	if (wait_rc == LP_EUNAVAILABLE)
		return interrupted(b, err, "the Docker engine went away");
	if (wait_rc == LP_ENOTFOUND)
		return interrupted(b, err, "the build container was removed from outside");
	if (wait_rc != LP_OK) {
		*err = *wait_err;
		return lp_error_wrap(err, "wait for build container %s", id);
	}
	out->exit_code = code;
	blog_printf(&b->log, "exit code %d after %.1f s", code,
	            (double)(lp_clock_mono_ms() - t0) / 1000.0);
	/* Counted in full now the container is gone: exact figures for the message and result. */
	m0 = lp_clock_mono_ms();
	over = disk_over_caps(b, caps, 0, out, msg, sizeof(msg));
	b->disk_check_ms += lp_clock_mono_ms() - m0;
	b->disk_checks++;
	if (!over && atomic_load(&b->disk_killed)) {
		/* Over while it ran, under now (it deleted files meanwhile): the kill stands. */
		pthread_mutex_lock(&b->mu);
		memcpy(msg, b->disk_message, sizeof(msg));
		pthread_mutex_unlock(&b->mu);
		over = 1;
	}
	if (over) {
		blog_printf(&b->log, "%s", msg);
		return lp_error_set(err, LP_ETOOBIG, "%s", msg);
	}
	return code == 0 ? LP_OK : judge_exit(out, b, id, code, err);
}

static int run_container(lp_build_result *out, struct bctx *b, const char *name, const char *ws,
                         int timeout_s, int *created, lp_error *err)
{
	const lp_build_request *req = b->req;
	const char *image = req->spec->build_image ? req->spec->build_image : req->cfg->build_image;
	char cache[BUILD_PATH_MAX], id[NAME_CAP];
	struct out_sink *sink = NULL;
	struct disk_caps caps;
	struct watchdog wd;
	char **env = NULL;
	int64_t t0;
	int rc, code = -1;
	lp_error le = {0};

	rc = prepare_build(b, image, ws, cache, err);
	if (rc != LP_OK)
		goto done;
	env = build_env(req->spec, err);
	if (env == NULL) {
		rc = LP_ENOMEM;
		goto done;
	}
	*created = 1;
	rc = create_container(b, name, image, ws, cache, env, err);
	if (rc != LP_OK)
		goto done;
	if (atomic_load(&b->canceled) || cancel_requested(b)) {
		rc = lp_error_set(err, LP_ECANCELED, "build canceled");
		goto done;
	}
	blog_printf(&b->log, "==> build: image %s, user %u:%u, deadline %d s", image,
	            req->build_uid, req->build_gid, timeout_s);
	blog_printf(&b->log, "$ %s", req->spec->build_command);
	pthread_mutex_lock(&b->mu);
	memcpy(id, b->container, sizeof(id));
	pthread_mutex_unlock(&b->mu);
	rc = lp_docker_container_start(req->docker, id, err);
	if (rc != LP_OK) {
		lp_error_wrap(err, "start build container %s", name);
		goto done;
	}
	t0 = lp_clock_mono_ms();
	pthread_mutex_lock(&b->mu);
	b->deadline_ms = t0 + (int64_t)timeout_s * 1000;
	pthread_mutex_unlock(&b->mu);
	sink = calloc(1, sizeof(*sink));
	if (sink == NULL) {
		rc = lp_error_set(err, LP_ENOMEM, "out of memory");
		goto done;
	}
	sink->log = &b->log;
	disk_caps_for(&caps, b, ws, cache);
	watchdog_start(&wd, b, &caps);
	rc = lp_docker_container_logs(req->docker, id, 1, sink_fn, sink, &b->dcancel, &le);
	split_flush(&sink->s[0], &b->log, blog_output);
	split_flush(&sink->s[1], &b->log, blog_output);
	if (rc != LP_OK && rc != LP_ECANCELED)
		blog_printf(&b->log, "build output stream ended early: %s", le.message);
	rc = lp_docker_container_wait(&code, req->docker, id, NULL, &b->dcancel, &le);
	watchdog_stop(&wd);
	pthread_mutex_lock(&b->kill_mu); /* a kill in flight settles its verdict first */
	pthread_mutex_unlock(&b->kill_mu);
	rc = judge_container(out, b, &caps, id, rc, code, &le, t0, timeout_s, err);
done:
	strv_free(env);
	free(sink);
	return rc;
}

/* ---- the entry point ---- */

static int check_request(const lp_build_request *req, lp_error *err)
{
	if (req == NULL || req->cfg == NULL || req->docker == NULL || req->spec == NULL ||
	    req->cfg->data_dir == NULL || req->cfg->instance == NULL)
		return lp_error_set(err, LP_EINVAL, "build request is incomplete");
	if (lp_spec_check_name(req->site_name, err) != LP_OK)
		return LP_EINVAL;
	if (req->revision < 1)
		return lp_error_set(err, LP_EINVAL, "revision must be >= 1 (got %ld)",
		                    req->revision);
	if (req->spec->source_kind != LP_SOURCE_GIT && req->spec->source_kind != LP_SOURCE_ARCHIVE)
		return lp_error_set(err, LP_EINVAL, "site %s has no source", req->site_name);
	if (req->spec->has_build && req->spec->build_command != NULL &&
	    req->spec->build_command[0] != '\0' && req->spec->build_image == NULL &&
	    (req->cfg->build_image == NULL || req->cfg->build_image[0] == '\0'))
		return lp_error_set(err, LP_EINVAL, "no build image configured");
	return LP_OK;
}

/* The first line of a message, for the log's one-line final verdict. */
static void first_line(char *out, size_t outsz, const char *msg)
{
	size_t n = strcspn(msg, "\n");

	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, msg, n);
	out[n] = '\0';
}

static int build_deadline(const lp_build_request *req)
{
	int t = req->spec->build_timeout_seconds > 0 ? req->spec->build_timeout_seconds
	                                             : LP_SITE_DEFAULT_TIMEOUT;

	if (req->cfg->build_timeout_max > 0 && t > req->cfg->build_timeout_max)
		t = req->cfg->build_timeout_max;
	return t;
}

static int canceled_now(struct bctx *b, lp_error *err)
{
	if (atomic_load(&b->canceled) || cancel_requested(b))
		return lp_error_set(err, LP_ECANCELED, "build canceled");
	return LP_OK;
}

/* Source, build, publish; the caller cleans up whatever is left. */
static int run_phases(lp_build_result *out, struct bctx *b, const char *site_dir, const char *ws,
                      const char *name, int *created, lp_error *err)
{
	const lp_build_request *req = b->req;
	const lp_site *spec = req->spec;
	int timeout_s = build_deadline(req);
	int build = spec->has_build && spec->build_command != NULL && spec->build_command[0];
	const char *outdir =
	    spec->has_build && spec->build_output_dir ? spec->build_output_dir : ".";
	char work[BUILD_PATH_MAX];
	lp_publish_result pr;
	int rc;

	/* The API refuses such a spec; one stored before the admin narrowed the list stops here. */
	if (build && !lp_config_build_image_allowed(req->cfg, spec->build_image))
		return lp_error_set(err, LP_EFORBIDDEN,
		                    "build image %s is not allowed on this installation: its admin "
		                    "lists the images builds may use in --build-images "
		                    "(LAUNCHPAD_BUILD_IMAGES), besides --build-image %s",
		                    spec->build_image,
		                    req->cfg->build_image ? req->cfg->build_image : "(unset)");
	if ((rc = wait_for_space(out, b, err)) != LP_OK)
		return rc;
	rc = path_ok(lp_layout_dir_path(work, sizeof(work), req->cfg->data_dir, LP_DIR_WORK), err);
	if (rc == LP_OK)
		rc = lp_fs_mkdirs(work, 0700, err);
	if (rc != LP_OK)
		return rc;
	if (spec->source_kind == LP_SOURCE_ARCHIVE)
		rc = fetch_archive(out, b, ws, err);
	else
		rc = fetch_git(out, b, ws, timeout_s, err);
	if (rc == LP_OK)
		rc = canceled_now(b, err);
	if (rc == LP_OK && build)
		rc = run_container(out, b, name, ws, timeout_s, created, err);
	if (rc == LP_OK)
		rc = canceled_now(b, err);
	/* The serve image too, so a new host's first deploy shows its pull here, in the log. */
	if (rc == LP_OK)
		rc = ensure_image(b, req->cfg->serve_image, "serve", err);
	if (rc != LP_OK)
		return rc;
	blog_printf(&b->log, "==> publish: %s into revisions/%ld", outdir, req->revision);
	rc = lp_publish_copy(&pr, site_dir, req->revision, ws, outdir, NULL, note_publish, &b->log,
	                     err);
	if (rc != LP_OK)
		return rc;
	blog_printf(&b->log, "published %zu files, %zu directories, %llu bytes%s", pr.files,
	            pr.dirs, (unsigned long long)pr.bytes,
	            pr.dropped ? " (some entries dropped, see above)" : "");
	blog_printf(&b->log, "precompressed %zu files: %llu -> %llu bytes in %lld ms", pr.gz.files,
	            (unsigned long long)pr.gz.bytes_in, (unsigned long long)pr.gz.bytes_out,
	            (long long)pr.gz.ms);
	return LP_OK;
}

/* revisions/<n> is complete already: nothing to do but say what it was built from. */
static int already_published(lp_build_result *out, const lp_build_request *req,
                             const char *site_dir)
{
	/* What it was built from, as far as the request tells (empty: a branch head). */
	const char *src = req->source != NULL && req->source[0]         ? req->source
	                  : req->spec->source_kind == LP_SOURCE_ARCHIVE ? req->spec->archive_digest
	                                                                : NULL;

	if (!lp_publish_is_ready(site_dir, req->revision))
		return 0;
	out->already_ready = 1;
	if (src != NULL &&
	    lp_fmt(out->resolved_source, sizeof(out->resolved_source), "%s", src) != LP_OK)
		out->resolved_source[0] = '\0';
	return 1;
}

/* What an interrupted attempt left: a half-copied revision, its workspace, its container. */
static int remove_leftovers(const lp_build_request *req, const char *site_dir, const char *ws,
                            const char *name, lp_error *err)
{
	int rc;

	if ((rc = lp_publish_cleanup_partial(NULL, site_dir, err)) != LP_OK ||
	    (rc = lp_fs_remove_tree(ws, err)) != LP_OK)
		return rc;
	rc = lp_docker_container_remove(req->docker, name,
	                                LP_DOCKER_RM_FORCE | LP_DOCKER_RM_MISSING_OK, err);
	return rc == LP_OK ? LP_OK : lp_error_wrap(err, "remove leftover container %s", name);
}

static void bctx_free(struct bctx *b)
{
	int i;

	if (b == NULL)
		return;
	if (b->log.fd >= 0)
		close(b->log.fd);
	for (i = 0; i < 2; i++) {
		if (b->git_pipe[i] >= 0)
			close(b->git_pipe[i]);
		if (b->cancel_pipe[i] >= 0)
			close(b->cancel_pipe[i]);
	}
	pthread_mutex_destroy(&b->mu);
	pthread_mutex_destroy(&b->kill_mu);
	pthread_mutex_destroy(&b->log.mu);
	lp_logmask_release(&b->log.mask);
	free(b);
}

/* The build's context: its log opened (truncated: a new attempt), the pipes to gitsrc. */
static int bctx_new(struct bctx **out, const lp_build_request *req, const char *log_path,
                    lp_error *err)
{
	char dir[BUILD_PATH_MAX];
	struct bctx *b;
	int rc;

	*out = NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	b->req = req;
	b->log.fd = -1;
	b->git_pipe[0] = b->git_pipe[1] = b->cancel_pipe[0] = b->cancel_pipe[1] = -1;
	pthread_mutex_init(&b->mu, NULL);
	pthread_mutex_init(&b->kill_mu, NULL);
	pthread_mutex_init(&b->log.mu, NULL);
	lp_docker_cancel_init(&b->dcancel);
	rc = lp_logmask_init(&b->log.mask, req->spec, err);
	if (rc == LP_OK)
		rc = lp_logmask_add(&b->log.mask, req->git_password, err);
	if (rc == LP_OK)
		rc = path_ok(
		    lp_layout_log_dir(dir, sizeof(dir), req->cfg->data_dir, req->site_name), err);
	if (rc == LP_OK)
		rc = lp_fs_mkdirs(dir, 0755, err);
	if (rc != LP_OK)
		goto fail;
	b->log.fd =
	    open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (b->log.fd < 0) {
		rc = lp_error_set(err, LP_EIO, "open %s: %s", log_path, strerror(errno));
		goto fail;
	}
	if (pipe2(b->git_pipe, O_CLOEXEC) != 0 || pipe2(b->cancel_pipe, O_CLOEXEC) != 0) {
		rc = lp_error_set(err, LP_EIO, "pipe: %s", strerror(errno));
		goto fail;
	}
	/* A full pipe drops git progress lines rather than stalling the fetch. */
	fcntl(b->git_pipe[0], F_SETFL, O_NONBLOCK);
	fcntl(b->git_pipe[1], F_SETFL, O_NONBLOCK);
	*out = b;
	return LP_OK;
fail:
	bctx_free(b);
	return rc;
}

/* On every path, before the verdict: the container and the workspace go. */
static void clean_up(int *rc, lp_error *e, struct bctx *b, const lp_build_request *req,
                     const char *name, const char *ws)
{
	lp_error ce = {0};

	if (b && b->created &&
	    lp_docker_container_remove(
	        req->docker, name, LP_DOCKER_RM_FORCE | LP_DOCKER_RM_MISSING_OK, &ce) != LP_OK) {
		LP_WARN(COMPONENT, "remove build container %s: %s", name, ce.message);
		blog_printf(&b->log, "warning: could not remove container %s: %s", name,
		            ce.message);
	}
	if (lp_fs_remove_tree(ws, &ce) != LP_OK) {
		LP_WARN(COMPONENT, "remove workspace %s: %s", ws, ce.message);
		if (*rc == LP_OK) {
			*e = ce;
			*rc = ce.code;
		}
	}
}

/* The log's last line, which tells a reader following it that the build is over. */
static void write_verdict(struct bctx *b, int rc, const lp_error *e, long revision,
                          int64_t duration_ms)
{
	char verdict[LP_ERROR_MESSAGE_MAX];

	if (rc == LP_OK) {
		blog_printf(&b->log, "==> done: revision %ld ready in %.1f s", revision,
		            (double)duration_ms / 1000.0);
	} else {
		first_line(verdict, sizeof(verdict), e->message);
		blog_printf(&b->log, "==> failed: %s", verdict);
	}
}

/* Back to a fresh start for another attempt: nothing of the last one's container is known. */
static void attempt_reset(struct bctx *b)
{
	pthread_mutex_lock(&b->mu);
	b->container[0] = '\0';
	b->deadline_ms = 0;
	b->killed = 0;
	b->disk_over = 0;
	b->disk_message[0] = '\0';
	pthread_mutex_unlock(&b->mu);
	atomic_store(&b->timed_out, 0);
	atomic_store(&b->disk_killed, 0);
	b->interrupted = 0;
	b->created = 0;
}

/* One attempt from scratch: leftovers of an earlier one (or a crashed run) first. */
static int run_attempt(lp_build_result *out, struct bctx *b, const char *site_dir, const char *ws,
                       const char *name, lp_error *e)
{
	const lp_build_request *req = b->req;
	int rc;

	rc = remove_leftovers(req, site_dir, ws, name, e);
	/* Removing by name needs the engine too: when it is gone, this attempt is interrupted. */
	if (rc == LP_EUNAVAILABLE)
		b->interrupted = 1;
	if (rc == LP_OK)
		rc = run_phases(out, b, site_dir, ws, name, &b->created, e);
	clean_up(&rc, e, b, req, name, ws);
	return rc;
}

static int is_interruption(struct bctx *b, int rc)
{
	return rc != LP_OK && rc != LP_ECANCELED && !atomic_load(&b->canceled) &&
	       (b->interrupted || rc == LP_EUNAVAILABLE);
}

/* Everything after the request is known good and the revision is not published yet. */
static int build_fresh(lp_build_result *out, const lp_build_request *req, const char *site_dir,
                       const char *ws, int64_t t0, lp_error *e)
{
	int base_ms = req->retry_base_ms > 0 ? req->retry_base_ms : LP_BUILD_RETRY_BASE_MS;
	char name[NAME_CAP], why[LP_ERROR_MESSAGE_MAX];
	struct bctx *b = NULL;
	pthread_t monitor;
	int rc, have_monitor = 0, attempt = 0;

	if ((rc = lp_names_build_container(name, sizeof(name), req->cfg->instance, req->site_name,
	                                   req->revision, e)) != LP_OK)
		return rc;
	if ((rc = bctx_new(&b, req, out->log_path, e)) != LP_OK)
		goto done;
	if (pthread_create(&monitor, NULL, monitor_main, b) != 0) {
		rc = lp_error_set(e, LP_ERROR, "cannot start the build monitor thread");
		goto done;
	}
	have_monitor = 1;
	blog_printf(&b->log, "==> revision %ld of site %s", req->revision, req->site_name);
	for (;;) {
		int64_t wait_ms;

		attempt_reset(b);
		attempt++;
		rc = run_attempt(out, b, site_dir, ws, name, e);
		if (!is_interruption(b, rc) || attempt > LP_BUILD_RETRIES)
			break;
		wait_ms = (int64_t)base_ms << (attempt - 1);
		first_line(why, sizeof(why), e->message);
		blog_printf(&b->log, "==> %s; retrying in %.1f s (attempt %d of %d)", why,
		            (double)wait_ms / 1e3, attempt + 1, LP_BUILD_RETRIES + 1);
		report_status(b, LP_BUILD_STATUS_RETRYING,
		              "%s; retrying in %.1f s (attempt %d of %d)", why,
		              (double)wait_ms / 1e3, attempt + 1, LP_BUILD_RETRIES + 1);
		if ((rc = sleep_unless_canceled(b, wait_ms, e)) != LP_OK)
			break;
		*e = (lp_error){0};
		blog_printf(&b->log, "==> attempt %d of %d", attempt + 1, LP_BUILD_RETRIES + 1);
		report_status(b, LP_BUILD_STATUS_BUILDING, "building (attempt %d of %d)",
		              attempt + 1, LP_BUILD_RETRIES + 1);
	}
	out->attempts = attempt;
	out->interrupted = is_interruption(b, rc);
	if (out->interrupted)
		lp_error_wrap(e, "gave up after %d attempts", attempt);
	out->disk_check_ms = b->disk_check_ms;
	out->disk_checks = b->disk_checks;
done:
	if (have_monitor) {
		atomic_store(&b->stop, 1);
		pthread_join(monitor, NULL);
	}
	if (b != NULL && b->log.fd >= 0)
		write_verdict(b, rc, e, req->revision, lp_clock_mono_ms() - t0);
	bctx_free(b);
	return rc;
}

int lp_build_revision(lp_build_result *out, const lp_build_request *req_in, lp_error *err)
{
	lp_build_request req;
	char site_dir[BUILD_PATH_MAX], ws[BUILD_PATH_MAX];
	int64_t t0 = lp_clock_mono_ms();
	lp_error e = {0};
	int rc;

	memset(out, 0, sizeof(*out));
	out->exit_code = -1;
	if ((rc = check_request(req_in, &e)) != LP_OK)
		goto out;
	req = *req_in;
	if (req.build_uid == 0)
		req.build_uid = LP_BUILD_DEFAULT_UID;
	if (req.build_gid == 0)
		req.build_gid = LP_BUILD_DEFAULT_GID;
	rc = path_ok(lp_layout_site(site_dir, sizeof(site_dir), req.cfg->data_dir, req.site_name),
	             &e);
	if (rc == LP_OK)
		rc = path_ok(lp_layout_log(out->log_path, sizeof(out->log_path), req.cfg->data_dir,
		                           req.site_name, req.revision),
		             &e);
	if (rc == LP_OK)
		rc = path_ok(
		    lp_layout_work(ws, sizeof(ws), req.cfg->data_dir, req.site_name, req.revision),
		    &e);
	if (rc == LP_OK && !already_published(out, &req, site_dir))
		rc = build_fresh(out, &req, site_dir, ws, t0, &e);
out:
	out->duration_ms = lp_clock_mono_ms() - t0;
	if (rc != LP_OK)
		LP_INFO(COMPONENT, "site %s revision %ld failed: %s",
		        req_in && req_in->site_name ? req_in->site_name : "?",
		        req_in ? req_in->revision : 0L, e.message);
	if (err != NULL)
		*err = e;
	return rc;
}
