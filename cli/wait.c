/* wait.c: `--wait`: follow a rollout until it is live, failed or out of time, and show it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/cli_internal.h"
#include "launchpad/fmt.h"
#include "launchpad/log.h"

#define WAIT_LINE_MAX   1024              /* "site/NAME: phase, revision N state (serving M)" */
#define WAIT_QUEUE_MAX  ((size_t)1 << 20) /* log lines received and not yet shown */
#define WAIT_TICK_MS    250               /* the spinner's step; log lines show within one */
#define WAIT_POLL_MS    1000              /* how often the site is asked about */
#define WAIT_DRAIN_MS   3000 /* once final, how long the log may take to deliver its end */
#define WAIT_RECENT     5    /* log lines kept for a failure without the build's last lines */
#define PROGRESS_MIN    10   /* columns a log message needs to be worth showing */
#define ELAPSED_MAX     24   /* ", 1234m05s" */
#define TERM_COLS_MIN   20
#define TERM_COLS_DEF   80
#define LAST_LINES_HEAD "; last lines:"
#define SPIN_MAX        3 /* a spinner frame, its space and the NUL */

/* ---- the pure parts ---- */

/* 1 when s[0..n) are digits. */
static int digits(const char *s, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

const char *lp_cli_log_text(const char *line)
{
	const char *p = line;

	/* 2026-12-01T16:33:09[.412](Z|+00:00) then one space: what the build log stamps */
	if (!(digits(p, 4) && p[4] == '-' && digits(p + 5, 2) && p[7] == '-' && digits(p + 8, 2) &&
	      p[10] == 'T' && digits(p + 11, 2) && p[13] == ':' && digits(p + 14, 2) &&
	      p[16] == ':' && digits(p + 17, 2)))
		return line;
	p += 19;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (*p == 'Z')
		p++;
	else if ((p[0] == '+' || p[0] == '-') && digits(p + 1, 2) && p[3] == ':' &&
	         digits(p + 4, 2))
		p += 6;
	else
		return line;
	return *p == ' ' ? p + 1 : *p == '\0' ? p : line;
}

/* The length of the escape sequence at s (s[0] is ESC): CSI "ESC [ ... final", else 2. */
static size_t escape_len(const char *s)
{
	size_t i;

	if (s[1] != '[')
		return s[1] ? 2 : 1;
	for (i = 2; s[i]; i++)
		if ((unsigned char)s[i] >= 0x40 && (unsigned char)s[i] <= 0x7e)
			return i + 1;
	return i;
}

size_t lp_cli_fit(char *out, size_t n, const char *s, int cols)
{
	size_t j = 0, w = 0, keep = 0, wkeep = 0;
	int cut = 0;

	if (n == 0)
		return 0;
	while (*s) {
		unsigned char c = (unsigned char)*s;
		size_t len = 1;

		if (c == 0x1b) {
			s += escape_len(s);
			continue;
		}
		if (c >= 0xc0)
			while ((s[len] & 0xc0) == 0x80 && len < 4)
				len++;
		/* "..." must still fit once the text is cut: remember where it would go */
		if (w + 3 <= (size_t)cols && j + 4 <= n) {
			keep = j;
			wkeep = w;
		}
		if (w + 1 > (size_t)cols || j + len + 1 > n) {
			cut = 1;
			break;
		}
		if (c < 0x20 || c == 0x7f)
			out[j] = ' ';
		else
			memcpy(out + j, s, len);
		j += c < 0x20 || c == 0x7f ? 1 : len;
		w++;
		s += len;
	}
	if (cut && cols >= 3 && keep + 4 <= n) {
		memcpy(out + keep, "...", 3);
		j = keep + 3;
		w = wkeep + 3;
	}
	out[j] = '\0';
	return w;
}

int lp_cli_progress_status(char *out, size_t n, const lp_cli_progress *p)
{
	size_t len;
	int rc;

	rc = lp_fmt(out, n, "site/%s: %s, revision %lld%s%s", p->name, p->phase,
	            (long long)p->desired, *p->state ? " " : "", p->state);
	len = strlen(out);
	if (rc == LP_OK && p->current && p->current != p->desired)
		rc = lp_fmt(out + len, n - len, " (serving %lld)", (long long)p->current);
	return rc;
}

void lp_cli_progress_line(char *out, size_t n, const lp_cli_progress *p, int cols)
{
	static const char spinner[] = "-\\|/";
	char status[WAIT_LINE_MAX], left[WAIT_LINE_MAX], elapsed[ELAPSED_MAX] = "",
	                                                 spin[SPIN_MAX] = "";
	const char *msg = lp_cli_log_text(p->log ? p->log : "");
	size_t w, len;

	/* a status that does not fit its buffer is still worth a cut line */
	if (lp_cli_progress_status(status, sizeof(status), p) != LP_OK)
		LP_DEBUG("cli", "site/%s: the status line is cut", p->name);
	/* a wait longer than the buffer can say (years) shows no time rather than a wrong one */
	if ((p->elapsed_s >= 60 &&
	     lp_fmt(elapsed, sizeof(elapsed), ", %lldm%02llds", (long long)(p->elapsed_s / 60),
	            (long long)(p->elapsed_s % 60)) != LP_OK) ||
	    (p->elapsed_s >= 0 && p->elapsed_s < 60 &&
	     lp_fmt(elapsed, sizeof(elapsed), ", %llds", (long long)p->elapsed_s) != LP_OK))
		elapsed[0] = '\0';
	if (p->spin >= 0) {
		spin[0] = spinner[p->spin % 4];
		spin[1] = ' ';
	}
	/* status is at most as long as left: what would be cut is the elapsed time only */
	lp_fmt_text(left, sizeof(left), "%s%s%s", spin, status, elapsed);
	w = lp_cli_fit(out, n, left, cols);
	len = strlen(out);
	while (*msg == ' ')
		msg++;
	if (*msg && cols - (int)w - 3 >= PROGRESS_MIN && len + 4 < n) {
		memcpy(out + len, " | ", 4);
		lp_cli_fit(out + len + 3, n - len - 3, msg, cols - (int)w - 3);
	}
}

/* Append the lines of text (after its first line) to out, each as "    line". */
static int put_lines(lp_buf *out, const char *title, const char *text)
{
	const char *p, *nl;
	int rc = lp_buf_printf(out, "  %s:\n", title);

	for (p = text; rc == LP_OK && *p; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		rc = lp_buf_printf(out, "    %.*s\n", nl ? (int)(nl - p) : (int)strlen(p), p);
		if (nl == NULL)
			break;
	}
	return rc;
}

int lp_cli_failure_report(lp_buf *out, const char *cmd, const char *name, int64_t revision,
                          const char *site_msg, const char *rev_msg, const char *const *log,
                          size_t nlog)
{
	char head[WAIT_LINE_MAX], named[LP_CLI_STATE_MAX], *lines = NULL, *nl, *serving;
	const char *rev_lines;
	size_t len, i;
	int rc;

	snprintf(head, sizeof(head), "%s", site_msg ? site_msg : "");
	/* the build's last lines follow the first line; "(still serving N)" ends the whole text */
	if ((nl = strchr(head, '\n')) != NULL) {
		*nl = '\0';
		if ((lines = strdup(nl + 1)) == NULL)
			return LP_ENOMEM;
		if ((serving = strstr(lines, " (still serving revision ")) != NULL &&
		    strchr(serving, '\n') == NULL) {
			len = strlen(head);
			snprintf(head + len, sizeof(head) - len, "%s", serving);
			*serving = '\0';
		}
	}
	if ((nl = strstr(head, LAST_LINES_HEAD)) != NULL)
		memmove(nl, nl + strlen(LAST_LINES_HEAD), strlen(nl + strlen(LAST_LINES_HEAD)) + 1);
	snprintf(named, sizeof(named), "revision %lld", (long long)revision);
	if (*head == '\0')
		rc = lp_buf_printf(out, "launchpad %s: site/%s failed: %s failed (no message)\n",
		                   cmd, name, named);
	else if (strstr(head, named) == NULL)
		rc = lp_buf_printf(out, "launchpad %s: site/%s failed: %s: %s\n", cmd, name, named,
		                   head);
	else
		rc = lp_buf_printf(out, "launchpad %s: site/%s failed: %s\n", cmd, name, head);
	rev_lines = rev_msg && strchr(rev_msg, '\n') ? strchr(rev_msg, '\n') + 1 : "";
	if (rc != LP_OK)
		goto done;
	if (lines && *lines) {
		rc = put_lines(out, "last lines of the build output", lines);
	} else if (*rev_lines) {
		rc = put_lines(out, "last lines of the build output", rev_lines);
	} else if (nlog > 0) {
		rc = lp_buf_printf(out, "  last lines of the log:\n");
		for (i = 0; i < nlog && rc == LP_OK; i++)
			rc = lp_buf_printf(out, "    %s\n", lp_cli_log_text(log[i]));
	}
done:
	free(lines);
	return rc;
}

/* ---- following the log ---- */

/* A background reader of the desired revision's log that queues its lines for the waiter. */
struct tail {
	lp_cli_client client;
	char path[LP_CLI_API_PATH_MAX];
	pthread_t thread;
	int running;
	int cancel; /* atomic: set by the waiter */
	int ended;  /* atomic: the stream is over */
	pthread_mutex_t mu;
	lp_buf queue;   /* lines not taken yet, each with its '\n' */
	size_t dropped; /* lines that did not fit the queue */
};

static int tail_line(const char *field, const char *value, void *ctx)
{
	struct tail *t = ctx;
	size_t len = strlen(value);

	/* after `event: end` the data is the final state, not a log line */
	if (!strcmp(field, "event"))
		return 1;
	if (strcmp(field, "data") || len == 0)
		return 0;
	pthread_mutex_lock(&t->mu);
	if (t->queue.len + len + 1 > WAIT_QUEUE_MAX ||
	    lp_buf_append(&t->queue, value, len) != LP_OK || lp_buf_putc(&t->queue, '\n') != LP_OK)
		t->dropped++;
	pthread_mutex_unlock(&t->mu);
	return 0;
}

static void *tail_main(void *arg)
{
	struct tail *t = arg;
	lp_cli_resp e;
	lp_error err = {0};
	long status;

	/* without the log the wait only shows less: worth a debug line */
	if (lp_cli_stream(&status, &e, &t->client, t->path, 0, &t->cancel, tail_line, t, &err) !=
	    LP_OK)
		LP_DEBUG("cli", "log tail %s: %s", t->path, err.message);
	lp_cli_resp_release(&e);
	__atomic_store_n(&t->ended, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void tail_stop(struct tail *t)
{
	if (!t->running)
		return;
	__atomic_store_n(&t->cancel, 1, __ATOMIC_RELEASE);
	pthread_join(t->thread, NULL);
	t->running = 0;
}

static void tail_start(struct tail *t, const char *name, int64_t revision)
{
	char suffix[LP_CLI_LOGS_TAIL_MAX];

	tail_stop(t);
	t->cancel = 0;
	t->ended = 0;
	if (lp_fmt(suffix, sizeof(suffix), "/logs?revision=%lld", (long long)revision) != LP_OK ||
	    lp_cli_site_path(t->path, sizeof(t->path), name, suffix, NULL) != LP_OK) {
		/* the wait only goes without the log's lines */
		LP_DEBUG("cli", "site/%s: no log tail: the site name is too long", name);
		t->ended = 1;
		return;
	}
	t->running = pthread_create(&t->thread, NULL, tail_main, t) == 0;
	if (!t->running)
		t->ended = 1;
}

/* The queued lines (a malloc'd text of '\n'-ended lines, "" when none) and the drop count. */
static char *tail_take(struct tail *t, size_t *dropped)
{
	char *text;

	pthread_mutex_lock(&t->mu);
	text = lp_buf_detach(&t->queue);
	*dropped = t->dropped;
	t->dropped = 0;
	pthread_mutex_unlock(&t->mu);
	return text;
}

/* ---- the waiter ---- */

static int term_cols(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= TERM_COLS_MIN)
		return ws.ws_col;
	return TERM_COLS_DEF;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* What one look at the site showed. */
struct rollout {
	const char *phase; /* borrowed from the site object */
	const char *msg;
	int64_t desired;
	int64_t current;
	char state[LP_CLI_STATE_MAX]; /* the desired revision's; "" when live or unreadable */
	char *rev_msg;                /* the desired revision's message (malloc'd) or NULL */
};

/* The desired revision's state and message, from GET .../revisions; "" when unreadable. */
static void read_revision(struct rollout *ro, const lp_cli_client *c, const char *name)
{
	lp_cli_resp r;
	char path[LP_CLI_API_PATH_MAX];
	const cJSON *v;

	if (lp_cli_site_path(path, sizeof(path), name, "/revisions", NULL) != LP_OK ||
	    lp_cli_request(&r, c, "GET", path, NULL, NULL, 0, NULL) != LP_OK)
		return;
	cJSON_ArrayForEach(v, r.json)
	{
		if (lp_cli_num(v, "revision", 0) != ro->desired)
			continue;
		/* a state longer than any the server has is as good as unreadable: it stays "" */
		if (lp_fmt(ro->state, sizeof(ro->state), "%s", lp_cli_str(v, "state", "")) != LP_OK)
			LP_DEBUG("cli", "site/%s: revision %lld: state too long", name,
			         (long long)ro->desired);
		if (lp_cli_str(v, "message", NULL))
			ro->rev_msg = strdup(lp_cli_str(v, "message", ""));
		break;
	}
	lp_cli_resp_release(&r);
}

static void read_rollout(struct rollout *ro, const cJSON *site, const lp_cli_client *c,
                         const char *name)
{
	free(ro->rev_msg);
	ro->rev_msg = NULL;
	ro->phase = lp_cli_str(site, "phase", "?");
	ro->msg = lp_cli_str(site, "message", "");
	ro->desired = lp_cli_num(site, "desired_revision", 0);
	ro->current = lp_cli_num(site, "current_revision", 0);
	ro->state[0] = '\0';
	if (strcmp(ro->phase, "live"))
		read_revision(ro, c, name);
}

/* One lp_cli_wait: what it waits for and what it has shown on stderr. */
struct waiter {
	const char *cmd;
	const char *name;
	int timeout_s;
	int64_t start_ms;
	int tty;
	int drawn;                      /* a terminal line is up without its newline */
	int spin;                       /* the spinner's frame */
	char prev[WAIT_LINE_MAX];       /* the status last printed without a terminal */
	char last[LP_CLI_LOG_LINE_MAX]; /* the log's newest line */
	char recent[WAIT_RECENT][LP_CLI_LOG_LINE_MAX]; /* its newest lines, a ring */
	size_t nrecent;                                /* lines ever put in the ring */
};

static void clear_line(struct waiter *w)
{
	if (w->drawn)
		fputs("\r\033[K", stderr);
	w->drawn = 0;
}

/* Take the log's new lines: printed one per line without a terminal, remembered either way. */
static void take_lines(struct waiter *w, struct tail *t)
{
	size_t dropped = 0;
	char *text = tail_take(t, &dropped), *p, *nl;

	for (p = text; p && (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		snprintf(w->last, sizeof(w->last), "%s", p);
		memcpy(w->recent[w->nrecent++ % WAIT_RECENT], w->last, sizeof(w->last));
		if (!w->tty)
			fprintf(stderr, "site/%s | %s\n", w->name, lp_cli_log_text(p));
	}
	if (dropped && !w->tty)
		fprintf(stderr,
		        "site/%s | (%zu log lines not shown: they came faster than shown)\n",
		        w->name, dropped);
	free(text);
	fflush(stderr);
}

/* The progress: one line rewritten in place on a terminal, the status when it changes otherwise. */
static void show_progress(struct waiter *w, const struct rollout *ro)
{
	lp_cli_progress p = {.name = w->name,
	                     .phase = ro->phase,
	                     .desired = ro->desired,
	                     .current = ro->current,
	                     .state = ro->state,
	                     .elapsed_s = (now_ms() - w->start_ms) / 1000,
	                     .spin = w->spin++,
	                     .log = w->last};
	char line[WAIT_LINE_MAX];

	if (w->tty) {
		lp_cli_progress_line(line, sizeof(line), &p, term_cols() - 1);
		fprintf(stderr, "\r\033[K%s", line);
		w->drawn = 1;
	} else {
		if (lp_cli_progress_status(line, sizeof(line), &p) != LP_OK)
			LP_DEBUG("cli", "site/%s: the status line is cut", w->name);
		if (strcmp(line, w->prev)) {
			fprintf(stderr, "%s\n", line);
			memcpy(w->prev, line, sizeof(w->prev));
		}
	}
	fflush(stderr);
}

#define WAIT_GOING (-1) /* no verdict yet */

/* LP_EXIT_OK once live, LP_EXIT_FAILED when it cannot be, LP_EXIT_TIMEOUT, else WAIT_GOING. */
static int verdict(const struct waiter *w, const struct rollout *ro, int64_t deadline_ms)
{
	if (!strcmp(ro->phase, "live"))
		return LP_EXIT_OK;
	/* "failed" from before this rollout is not the answer: the desired revision must be */
	if (!strcmp(ro->phase, "failed") && !strcmp(ro->state, "failed"))
		return LP_EXIT_FAILED;
	if (!strcmp(ro->phase, "deleting"))
		return LP_EXIT_FAILED;
	if (now_ms() >= deadline_ms)
		return LP_EXIT_TIMEOUT;
	return WAIT_GOING;
}

/* Say why the wait ended without the site live. */
static void report(struct waiter *w, const struct rollout *ro, int ex)
{
	const char *log[WAIT_RECENT];
	size_t n = 0, i, first;
	lp_buf b;

	if (ex == LP_EXIT_TIMEOUT) {
		fprintf(stderr,
		        "launchpad %s: site/%s not live after %d s (phase %s, revision %lld %s)\n",
		        w->cmd, w->name, w->timeout_s, ro->phase, (long long)ro->desired,
		        ro->state);
		return;
	}
	if (!strcmp(ro->phase, "deleting")) {
		fprintf(stderr, "launchpad %s: site/%s is being deleted\n", w->cmd, w->name);
		return;
	}
	/* the log's own failure line repeats the message: the lines before it say more */
	first = w->nrecent > WAIT_RECENT ? w->nrecent - WAIT_RECENT : 0;
	for (i = first; i < w->nrecent; i++) {
		const char *line = w->recent[i % WAIT_RECENT];

		if (strncmp(lp_cli_log_text(line), "==> failed:", 11))
			log[n++] = line;
	}
	lp_buf_init(&b, LP_CLI_RESP_MAX);
	if (lp_cli_failure_report(&b, w->cmd, w->name, ro->desired, ro->msg, ro->rev_msg, log, n) ==
	    LP_OK)
		fputs(lp_buf_cstr(&b), stderr);
	else
		fprintf(stderr, "launchpad %s: site/%s failed: revision %lld\n", w->cmd, w->name,
		        (long long)ro->desired);
	lp_buf_release(&b);
}

int lp_cli_wait(const lp_config *cfg, const char *cmd, const char *name, int timeout_s)
{
	lp_cli_client c = lp_cli_client_of(cfg);
	struct tail t = {.client = c, .ended = 1};
	struct waiter *w = calloc(1, sizeof(*w));
	struct rollout ro = {.rev_msg = NULL};
	int64_t tailed = 0, deadline_ms, next_poll = 0, drain_end;
	int ex = WAIT_GOING;
	cJSON *site = NULL;

	if (w == NULL)
		return LP_EXIT_FAILED;
	*w = (struct waiter){.cmd = cmd, .name = name, .timeout_s = timeout_s};
	w->tty = isatty(STDERR_FILENO);
	w->start_ms = now_ms();
	deadline_ms = w->start_ms + (int64_t)timeout_s * 1000;
	pthread_mutex_init(&t.mu, NULL);
	lp_buf_init(&t.queue, WAIT_QUEUE_MAX + 1);
	while (ex == WAIT_GOING) {
		if (now_ms() >= next_poll) {
			next_poll = now_ms() + WAIT_POLL_MS;
			cJSON_Delete(site);
			if (lp_cli_get_site(&site, cfg, cmd, name) != LP_OK) {
				clear_line(w);
				ex = LP_EXIT_FAILED;
				break;
			}
			read_rollout(&ro, site, &c, name);
			/* a revision built already (a rollback's) has no build to follow */
			if (tailed != ro.desired && ro.desired > 0 &&
			    (!strcmp(ro.state, "pending") || !strcmp(ro.state, "building"))) {
				tail_start(&t, name, ro.desired);
				tailed = ro.desired;
			}
			ex = verdict(w, &ro, deadline_ms);
		}
		/* a final revision's log ends on its own: its last lines come before the verdict */
		drain_end = now_ms() + WAIT_DRAIN_MS;
		while (ex != WAIT_GOING && ex != LP_EXIT_TIMEOUT &&
		       !__atomic_load_n(&t.ended, __ATOMIC_ACQUIRE) && now_ms() < drain_end) {
			take_lines(w, &t);
			sleep_ms(WAIT_TICK_MS / 5);
		}
		take_lines(w, &t);
		show_progress(w, &ro);
		if (ex == WAIT_GOING)
			sleep_ms(WAIT_TICK_MS);
	}
	clear_line(w);
	tail_stop(&t);
	if (ex == LP_EXIT_OK)
		printf("site/%s live: revision %lld at %s\n", name,
		       (long long)lp_cli_num(site, "current_revision", 0),
		       lp_cli_str(site, "url", ""));
	else if (site)
		report(w, &ro, ex);
	pthread_mutex_destroy(&t.mu);
	lp_buf_release(&t.queue);
	free(ro.rev_msg);
	free(w);
	cJSON_Delete(site);
	return ex;
}
