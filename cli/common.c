/* common.c: what the CLI's commands share: the client, site lookups, and waiting for a rollout. */
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
	char last[256];
};

static int tail_line(const char *field, const char *value, void *ctx)
{
	struct tail *t = ctx;

	/* after `event: end` the data is the final state, not a log line */
	if (!strcmp(field, "event"))
		return 1;
	if (!strcmp(field, "data") && *value) {
		pthread_mutex_lock(&t->mu);
		snprintf(t->last, sizeof(t->last), "%s", value);
		pthread_mutex_unlock(&t->mu);
	}
	return 0;
}

static void *tail_main(void *arg)
{
	struct tail *t = arg;
	lp_cli_resp e;
	long status;

	lp_cli_stream(&status, &e, &t->client, t->path, 0, &t->cancel, tail_line, t, NULL);
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
		if (lp_cli_num(v, "revision", 0) == number) {
			snprintf(out, n, "%s", lp_cli_str(v, "state", ""));
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

int lp_cli_wait(const lp_config *cfg, const char *cmd, const char *name, int timeout_s)
{
	lp_cli_client c = lp_cli_client_of(cfg);
	struct tail t = {.client = c};
	int tty = isatty(STDERR_FILENO), rc = LP_EXIT_FAILED, drawn = 0;
	int64_t deadline = now_ms() + (int64_t)timeout_s * 1000, tailed = 0;
	char line[1024], prev[1024] = "", state[32], last[256];
	cJSON *site = NULL;

	pthread_mutex_init(&t.mu, NULL);
	for (;;) {
		const char *phase, *msg;
		int64_t desired, current;

		cJSON_Delete(site);
		if (lp_cli_get_site(&site, cfg, cmd, name) != LP_OK)
			break;
		phase = lp_cli_str(site, "phase", "?");
		msg = lp_cli_str(site, "message", "");
		desired = lp_cli_num(site, "desired_revision", 0);
		current = lp_cli_num(site, "current_revision", 0);
		state[0] = '\0';
		if (strcmp(phase, "live"))
			revision_state(state, sizeof(state), &c, name, desired);
		if (tailed != desired && desired > 0 && strcmp(phase, "live")) {
			tail_start(&t, name, desired);
			tailed = desired;
		}
		pthread_mutex_lock(&t.mu);
		snprintf(last, sizeof(last), "%s", t.last);
		pthread_mutex_unlock(&t.mu);
		snprintf(line, sizeof(line), "site/%s: %s, revision %lld%s%s", name, phase,
		         (long long)desired, *state ? " " : "", state);
		if (current && current != desired)
			snprintf(line + strlen(line), sizeof(line) - strlen(line),
			         " (serving %lld)", (long long)current);
		if (tty) {
			char full[2048];
			int w = term_width() - 1;

			snprintf(full, sizeof(full), "%s%s%s", line, *last ? " | " : "", last);
			fprintf(stderr, "\r\033[K%.*s", w, full);
			drawn = 1;
		} else if (strcmp(line, prev)) {
			fprintf(stderr, "%s\n", line);
			snprintf(prev, sizeof(prev), "%s", line);
		}
		fflush(stderr);
		if (!strcmp(phase, "live")) {
			rc = LP_EXIT_OK;
			break;
		}
		/* "failed" from before this rollout is not the answer: the desired revision must be
		 */
		if (!strcmp(phase, "failed") && !strcmp(state, "failed")) {
			if (drawn)
				fputc('\n', stderr);
			drawn = 0;
			fprintf(stderr, "launchpad %s: site/%s failed: revision %lld: %s\n", cmd,
			        name, (long long)desired, *msg ? msg : "(no message)");
			if (*last)
				fprintf(stderr, "  last log line: %s\n", last);
			break;
		}
		if (!strcmp(phase, "deleting")) {
			if (drawn)
				fputc('\n', stderr);
			drawn = 0;
			fprintf(stderr, "launchpad %s: site/%s is being deleted\n", cmd, name);
			break;
		}
		if (now_ms() >= deadline) {
			if (drawn)
				fputc('\n', stderr);
			drawn = 0;
			fprintf(
			    stderr,
			    "launchpad %s: site/%s not live after %d s (phase %s, revision %lld "
			    "%s)\n",
			    cmd, name, timeout_s, phase, (long long)desired, state);
			break;
		}
		sleep(1);
	}
	if (drawn)
		fputc('\n', stderr);
	tail_stop(&t);
	pthread_mutex_destroy(&t.mu);
	if (rc == LP_EXIT_OK)
		printf("site/%s live: revision %lld at %s\n", name,
		       (long long)lp_cli_num(site, "current_revision", 0),
		       lp_cli_str(site, "url", ""));
	cJSON_Delete(site);
	return rc;
}

int lp_cli_parse_or_help(int *out_exit, const char **pos, size_t *npos, struct lp_cli_opt *opts,
                         size_t nopts, int argc, char **argv, const char *help)
{
	lp_error err = {0};
	lp_cli_opt *h;

	if (lp_cli_args_parse(pos, npos, opts, nopts, argc, argv, &err) != LP_OK) {
		fprintf(stderr, "launchpad %s: %s\n\n%s", argv[0], err.message, help);
		*out_exit = LP_EXIT_USAGE;
		return 0;
	}
	h = lp_cli_opt_find(opts, nopts, "help");
	if (h && h->given) {
		fputs(help, stdout);
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
