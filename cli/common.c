/* common.c: what the CLI's commands share: the client, site lookups, and waiting for a rollout. */
#include <ctype.h>
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

#define TAIL_LINE_MAX 256  /* the head of the log's last line kept for the progress line */
#define WAIT_LINE_MAX 1024 /* "site/NAME: phase, revision N state (serving M)" */

lp_cli_client lp_cli_client_of(const lp_config *cfg)
{
	lp_cli_client c = {.server = cfg->server, .token = cfg->token};

	return c;
}

int lp_cli_fail(const char *cmd, const lp_error *err)
{
	fprintf(stderr, "launchpad %s: %s\n", cmd, err->message);
	return LP_EXIT_FAILED;
}

const char *lp_cli_str(const cJSON *o, const char *key, const char *def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : def;
}

int64_t lp_cli_num(const cJSON *o, const char *key, int64_t def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : def;
}

int lp_cli_get_site(cJSON **out, const lp_config *cfg, const char *cmd, const char *name)
{
	lp_cli_client c = lp_cli_client_of(cfg);
	lp_cli_resp r = {0};
	lp_error err = {0};
	char path[LP_CLI_API_PATH_MAX];
	int rc;

	*out = NULL;
	rc = lp_cli_site_path(path, sizeof(path), name, "", &err);
	if (rc == LP_OK)
		rc = lp_cli_request(&r, &c, "GET", path, NULL, NULL, 0, &err);
	if (rc != LP_OK) {
		lp_cli_fail(cmd, &err);
		goto done;
	}
	if (r.status != 200 || !cJSON_IsObject(r.json)) {
		lp_cli_print_api_error(cmd, &r);
		rc = r.status == 404 ? LP_ENOTFOUND : LP_EREMOTE;
		goto done;
	}
	*out = r.json;
	r.json = NULL;
done:
	lp_cli_resp_release(&r);
	return rc;
}

int lp_cli_parse_duration(const char *s)
{
	char *end;
	long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	v = strtol(s, &end, 10);
	if (v < 0 || v > 86400 * 7)
		return -1;
	if (!strcmp(end, "") || !strcmp(end, "s"))
		return (int)v;
	if (!strcmp(end, "m"))
		return (int)(v * 60);
	if (!strcmp(end, "h") && v <= 168)
		return (int)(v * 3600);
	return -1;
}

/* ---- waiting for a rollout ---- */

/* A background reader of the desired revision's log that keeps its last line. */
struct tail {
	lp_cli_client client;
	char path[LP_CLI_API_PATH_MAX];
	pthread_t thread;
	int running;
	int cancel;
	pthread_mutex_t mu;
	char last[TAIL_LINE_MAX];
};

static int tail_line(const char *field, const char *value, void *ctx)
{
	struct tail *t = ctx;

	/* after `event: end` the data is the final state, not a log line */
	if (!strcmp(field, "event"))
		return 1;
	if (!strcmp(field, "data") && *value) {
		pthread_mutex_lock(&t->mu);
		/* only a head is kept on purpose: the progress line is cut to the terminal anyway
		 */
		snprintf(t->last, sizeof(t->last), "%s", value);
		pthread_mutex_unlock(&t->mu);
	}
	return 0;
}

static void *tail_main(void *arg)
{
	struct tail *t = arg;
	lp_cli_resp e;
	lp_error err = {0};
	long status;

	/* without the tail the progress line only lacks the log's last line: worth a debug line */
	if (lp_cli_stream(&status, &e, &t->client, t->path, 0, &t->cancel, tail_line, t, &err) !=
	    LP_OK)
		LP_DEBUG("cli", "log tail %s: %s", t->path, err.message);
	lp_cli_resp_release(&e);
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

/* The last log line into out (TAIL_LINE_MAX bytes). */
static void tail_last(struct tail *t, char *out)
{
	pthread_mutex_lock(&t->mu);
	memcpy(out, t->last, sizeof(t->last));
	pthread_mutex_unlock(&t->mu);
}

static void tail_start(struct tail *t, const char *name, int64_t revision)
{
	char suffix[LP_CLI_LOGS_TAIL_MAX];

	tail_stop(t);
	if (lp_fmt(suffix, sizeof(suffix), "/logs?revision=%lld", (long long)revision) != LP_OK ||
	    lp_cli_site_path(t->path, sizeof(t->path), name, suffix, NULL) != LP_OK) {
		/* the progress line only goes without the log's last line */
		LP_DEBUG("cli", "site/%s: no log tail: the site name is too long", name);
		return;
	}
	t->cancel = 0;
	t->last[0] = '\0';
	t->running = pthread_create(&t->thread, NULL, tail_main, t) == 0;
}

/* The state of revision n ("building", "failed", ...) or "" when it cannot be read. */
static void revision_state(char *out, size_t n, const lp_cli_client *c, const char *name,
                           int64_t number)
{
	lp_cli_resp r;
	char path[LP_CLI_API_PATH_MAX];
	const cJSON *v;

	out[0] = '\0';
	if (lp_cli_site_path(path, sizeof(path), name, "/revisions", NULL) != LP_OK ||
	    lp_cli_request(&r, c, "GET", path, NULL, NULL, 0, NULL) != LP_OK)
		return;
	cJSON_ArrayForEach(v, r.json)
	{
		/* a state longer than any the server has is as good as unreadable: out stays "" */
		if (lp_cli_num(v, "revision", 0) == number) {
			if (lp_fmt(out, n, "%s", lp_cli_str(v, "state", "")) != LP_OK)
				LP_DEBUG("cli", "site/%s: revision %lld: state too long", name,
				         (long long)number);
			break;
		}
	}
	lp_cli_resp_release(&r);
}

static int term_width(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
		return ws.ws_col;
	return 80;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What one look at the site showed. */
struct rollout {
	const char *phase; /* borrowed from the site object */
	const char *msg;
	int64_t desired;
	int64_t current;
	char state[LP_CLI_STATE_MAX]; /* the desired revision's; "" when live or unreadable */
};

static void read_rollout(struct rollout *ro, const cJSON *site, const lp_cli_client *c,
                         const char *name)
{
	ro->phase = lp_cli_str(site, "phase", "?");
	ro->msg = lp_cli_str(site, "message", "");
	ro->desired = lp_cli_num(site, "desired_revision", 0);
	ro->current = lp_cli_num(site, "current_revision", 0);
	ro->state[0] = '\0';
	if (strcmp(ro->phase, "live"))
		revision_state(ro->state, sizeof(ro->state), c, name, ro->desired);
}

/* One lp_cli_wait: what it waits for and what it has shown on stderr. */
struct waiter {
	const char *cmd;
	const char *name;
	int timeout_s;
	int64_t deadline_ms;
	int tty;
	int drawn;                /* a terminal line is up without its newline */
	char prev[WAIT_LINE_MAX]; /* the last line printed when stderr is not a terminal */
	char last[TAIL_LINE_MAX]; /* the log's last line */
};

static void end_line(struct waiter *w)
{
	if (w->drawn)
		fputc('\n', stderr);
	w->drawn = 0;
}

/* Write s cut to *room bytes (a rewritten terminal line must not wrap); *room shrinks. */
static void put_cut(const char *s, int *room)
{
	int n = (int)strnlen(s, *room > 0 ? (size_t)*room : 0);

	fprintf(stderr, "%.*s", n, s);
	*room -= n;
}

/* The progress line: rewritten in place on a terminal, printed when it changes otherwise. */
static int show_progress(struct waiter *w, const struct rollout *ro)
{
	char line[WAIT_LINE_MAX];
	size_t len;
	int rc, room;

	rc = lp_fmt(line, sizeof(line), "site/%s: %s, revision %lld%s%s", w->name, ro->phase,
	            (long long)ro->desired, *ro->state ? " " : "", ro->state);
	len = strlen(line);
	if (rc == LP_OK && ro->current && ro->current != ro->desired)
		rc = lp_fmt(line + len, sizeof(line) - len, " (serving %lld)",
		            (long long)ro->current);
	if (rc != LP_OK)
		return rc;
	if (w->tty) {
		room = term_width() - 1;
		fputs("\r\033[K", stderr);
		put_cut(line, &room);
		if (*w->last) {
			put_cut(" | ", &room);
			put_cut(w->last, &room);
		}
		w->drawn = 1;
	} else if (strcmp(line, w->prev)) {
		fprintf(stderr, "%s\n", line);
		memcpy(w->prev, line, sizeof(w->prev));
	}
	fflush(stderr);
	return LP_OK;
}

#define WAIT_GOING (-1) /* no verdict yet: look again in a second */

/*
 * LP_EXIT_OK once live, LP_EXIT_FAILED (said on stderr) when it cannot be, LP_EXIT_TIMEOUT when
 * the time is up, else WAIT_GOING.
 */
static int verdict(struct waiter *w, const struct rollout *ro)
{
	if (!strcmp(ro->phase, "live"))
		return LP_EXIT_OK;
	/* "failed" from before this rollout is not the answer: the desired revision must be */
	if (!strcmp(ro->phase, "failed") && !strcmp(ro->state, "failed")) {
		end_line(w);
		fprintf(stderr, "launchpad %s: site/%s failed: revision %lld: %s\n", w->cmd,
		        w->name, (long long)ro->desired, *ro->msg ? ro->msg : "(no message)");
		if (*w->last)
			fprintf(stderr, "  last log line: %s\n", w->last);
		return LP_EXIT_FAILED;
	}
	if (!strcmp(ro->phase, "deleting")) {
		end_line(w);
		fprintf(stderr, "launchpad %s: site/%s is being deleted\n", w->cmd, w->name);
		return LP_EXIT_FAILED;
	}
	if (now_ms() >= w->deadline_ms) {
		end_line(w);
		fprintf(stderr,
		        "launchpad %s: site/%s not live after %d s (phase %s, revision %lld %s)\n",
		        w->cmd, w->name, w->timeout_s, ro->phase, (long long)ro->desired,
		        ro->state);
		return LP_EXIT_TIMEOUT;
	}
	return WAIT_GOING;
}

int lp_cli_wait(const lp_config *cfg, const char *cmd, const char *name, int timeout_s)
{
	lp_cli_client c = lp_cli_client_of(cfg);
	struct tail t = {.client = c};
	struct waiter w = {.cmd = cmd, .name = name, .timeout_s = timeout_s};
	struct rollout ro;
	int64_t tailed = 0;
	int rc = WAIT_GOING;
	cJSON *site = NULL;

	w.tty = isatty(STDERR_FILENO);
	w.deadline_ms = now_ms() + (int64_t)timeout_s * 1000;
	pthread_mutex_init(&t.mu, NULL);
	while (rc == WAIT_GOING) {
		cJSON_Delete(site);
		if (lp_cli_get_site(&site, cfg, cmd, name) != LP_OK) {
			rc = LP_EXIT_FAILED;
			break;
		}
		read_rollout(&ro, site, &c, name);
		if (tailed != ro.desired && ro.desired > 0 && strcmp(ro.phase, "live")) {
			tail_start(&t, name, ro.desired);
			tailed = ro.desired;
		}
		tail_last(&t, w.last);
		if (show_progress(&w, &ro) != LP_OK) {
			end_line(&w);
			fprintf(stderr, "launchpad %s: site/%s: the progress line is too long\n",
			        cmd, name);
			rc = LP_EXIT_FAILED;
			break;
		}
		if ((rc = verdict(&w, &ro)) == WAIT_GOING)
			sleep(1);
	}
	end_line(&w);
	tail_stop(&t);
	pthread_mutex_destroy(&t.mu);
	if (rc == LP_EXIT_OK)
		printf("site/%s live: revision %lld at %s\n", name,
		       (long long)lp_cli_num(site, "current_revision", 0),
		       lp_cli_str(site, "url", ""));
	cJSON_Delete(site);
	return rc;
}

/* 1 when help names the flag "--lname" (not as the head of a longer one). */
static int help_names(const char *help, const char *lname)
{
	size_t len = strlen(lname);
	const char *p;

	for (p = help; (p = strstr(p, "--")) != NULL; p += 2)
		if (!strncmp(p + 2, lname, len) &&
		    !(p[2 + len] == '-' || isalnum((unsigned char)p[2 + len])))
			return 1;
	return 0;
}

/* A flag the parser takes but the help leaves out is a defect: say so where tests look. */
static void help_check(const char *cmd, const lp_cli_opt *opts, size_t nopts, const char *help)
{
	size_t i;

	for (i = 0; i < nopts; i++)
		if (!help_names(help, opts[i].lname))
			fprintf(stderr, "launchpad %s: the help does not list --%s\n", cmd,
			        opts[i].lname);
}

int lp_cli_parse_or_help(int *out_exit, const char **pos, size_t *npos, struct lp_cli_opt *opts,
                         size_t nopts, int argc, char **argv, const char *help)
{
	const char *cmd = argv[0];
	lp_error err = {0};
	lp_cli_opt *h;

	if (lp_cli_args_parse(pos, npos, opts, nopts, argc, argv, &err) != LP_OK) {
		fprintf(stderr, "launchpad %s: %s\n\n%s", cmd, err.message, help);
		*out_exit = LP_EXIT_USAGE;
		return 0;
	}
	h = lp_cli_opt_find(opts, nopts, "help");
	if (h && h->given) {
		fputs(help, stdout);
		help_check(cmd, opts, nopts, help);
		*out_exit = LP_EXIT_OK;
		return 0;
	}
	return 1;
}

/* A usage error: the problem, then the help, exit 2. */
int lp_cli_usage_error(const char *cmd, const char *help, const char *problem)
{
	fprintf(stderr, "launchpad %s: %s\n\n%s", cmd, problem, help);
	return LP_EXIT_USAGE;
}
