/*
 * cmd_logs.c: `launchpad logs NAME [-f] [--revision N]`: a revision's build log from the SSE API;
 * `launchpad logs NAME --app [-f] [--tail N]`: the app's stdout and stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/cli_internal.h"
#include "launchpad/fmt.h"

#define LOGS_IDLE_MS 1500 /* without -f on a running build: stop once the backlog is printed */
#define APP_TAIL_MAX 5000 /* the API's cap on --tail */
#define APP_ID_MAX   40   /* an app log event's id: a line's time (30 characters) */
/* "/logs?source=app&tail=5000&follow=1&from=" and an id */
#define APP_SUFFIX_MAX (64 + APP_ID_MAX)

const char lp_cli_logs_help[] =
    "usage: launchpad logs NAME [-f] [--revision N]\n"
    "       launchpad logs NAME --app [-f] [--tail N]\n"
    "\n"
    "Print the build and deploy log of a revision (default: the desired one). Without -f, print\n"
    "what the log holds now and stop; with -f, follow it while the build runs until the\n"
    "revision is final (ready, failed, superseded, cancelled). The final state goes to stderr.\n"
    "With --app, print the app's stdout and stderr instead (a site with spec.run), one line\n"
    "each: TIME rREVISION stdout|stderr TEXT; with -f, follow it until Ctrl-C.\n"
    "\n"
    "  -f, --follow         keep printing new lines (until the revision is final; --app: Ctrl-C)\n"
    "      --revision N     the revision (see `launchpad describe site NAME`)\n"
    "      --app            the app's output, not a build log\n"
    "      --tail N         --app: start with the last N lines (default 200, at most 5000)\n"
    "  -h, --help           this help\n"
    "\n"
    "examples:\n"
    "  launchpad logs blog -f\n"
    "  launchpad logs blog --revision 2\n"
    "  launchpad logs api --app -f --tail 20\n"
    "\n"
    "Global flags: --server, --token, --log-level (see launchpad --help).\n"
    "exit codes: 0 ok, 1 failure (no such site or revision, server unreachable), 2 bad usage\n";

struct printer {
	char end_state[LP_CLI_STATE_MAX];
	int ended;
	int bad_end;              /* the final state did not fit end_state */
	char last_id[APP_ID_MAX]; /* --app: the last line's id, where a reconnect resumes */
};

static int on_field(const char *field, const char *value, void *ctx)
{
	struct printer *p = ctx;

	if (!strcmp(field, "id") && lp_fmt(p->last_id, sizeof(p->last_id), "%s", value) != LP_OK)
		p->last_id[0] = '\0'; /* not an app line's time: a reconnect starts at the tail */
	if (!strcmp(field, "event") && !strcmp(value, "end")) {
		p->ended = 1;
		return 0;
	}
	if (!strcmp(field, "data")) {
		if (p->ended) {
			if (lp_fmt(p->end_state, sizeof(p->end_state), "%s", value) != LP_OK)
				p->bad_end = 1;
			return 1;
		}
		fputs(value, stdout);
		fputc('\n', stdout);
		fflush(stdout);
	}
	return 0;
}

static int is_final(const char *state)
{
	/* every state but these two is final (lp_store_rev_state_final): cancelled included */
	return strcmp(state, "pending") != 0 && strcmp(state, "building") != 0;
}

/* The revision's number (number 0: the desired one) and state; 0 when it cannot be told. */
static int revision_info(long long *number, char *state, size_t n, const lp_config *cfg,
                         const char *name)
{
	lp_cli_client c = lp_cli_client_of(cfg);
	lp_cli_resp r;
	const cJSON *v;
	char path[LP_CLI_API_PATH_MAX];
	int found = 0;

	state[0] = '\0';
	if (lp_cli_site_path(path, sizeof(path), name, "/revisions", NULL) != LP_OK ||
	    lp_cli_request(&r, &c, "GET", path, NULL, NULL, 0, NULL) != LP_OK)
		return 0;
	cJSON_ArrayForEach(v, r.json)
	{
		if ((*number == 0 &&
		     cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "desired"))) ||
		    (*number && lp_cli_num(v, "revision", 0) == *number)) {
			*number = lp_cli_num(v, "revision", 0);
			/* a state longer than any the server has cannot be told */
			found = lp_fmt(state, n, "%s", lp_cli_str(v, "state", "")) == LP_OK;
			break;
		}
	}
	lp_cli_resp_release(&r);
	return found;
}

/*
 * --app: the tail, then (-f) new lines. The server ends a followed stream after an hour
 * ("timeout"): it is opened again from the last line had, so -f lasts until Ctrl-C.
 */
static int app_logs(const lp_config *cfg, const char *name, int follow, long tail)
{
	lp_cli_client c = lp_cli_client_of(cfg);
	char path[LP_CLI_API_PATH_MAX], suffix[APP_SUFFIX_MAX];
	struct printer p = {0};
	lp_cli_resp e = {0};
	lp_error err = {0};
	int ex = LP_EXIT_FAILED;
	long status;

	for (;;) {
		memset(p.end_state, 0, sizeof(p.end_state));
		p.ended = 0;
		if (lp_fmt(suffix, sizeof(suffix), "/logs?source=app&tail=%ld%s%s%s", tail,
		           follow ? "&follow=1" : "", p.last_id[0] ? "&from=" : "",
		           p.last_id) != LP_OK ||
		    lp_cli_site_path(path, sizeof(path), name, suffix, &err) != LP_OK ||
		    lp_cli_stream(&status, &e, &c, path, 0, NULL, on_field, &p, &err) != LP_OK) {
			ex = lp_cli_fail("logs", &err);
			break;
		}
		if (status != 200) {
			lp_cli_print_api_error("logs", &e);
			break;
		}
		if (follow && !strcmp(p.end_state, "timeout"))
			continue;
		if (follow && p.end_state[0])
			fprintf(stderr, "-- end of log: %s\n", p.end_state);
		ex = LP_EXIT_OK;
		break;
	}
	lp_cli_resp_release(&e);
	return ex;
}

int lp_cli_logs(int argc, char **argv, const lp_config *cfg)
{
	lp_cli_opt opts[] = {{"follow", 'f', 0, 0, NULL},
	                     {"revision", 0, 1, 0, NULL},
	                     {"help", 'h', 0, 0, NULL},
	                     {"app", 0, 0, 0, NULL},
	                     {"tail", 0, 1, 0, NULL}};
	const char *pos[LP_CLI_MAX_POS], *name;
	size_t npos = 0;
	int ex = LP_EXIT_FAILED, idle = 0;
	long long number = 0;
	lp_cli_client c = lp_cli_client_of(cfg);
	lp_cli_resp e = {0};
	lp_error err = {0};
	struct printer p = {0};
	char path[LP_CLI_API_PATH_MAX], suffix[LP_CLI_LOGS_TAIL_MAX] = "/logs";
	char state[LP_CLI_STATE_MAX] = "", *end;
	long status;

	if (!lp_cli_parse_or_help(&ex, pos, &npos, opts, 5, argc, argv, lp_cli_logs_help))
		return ex;
	if (npos != 1)
		return lp_cli_usage_error("logs", lp_cli_logs_help,
		                          "expected: logs NAME [-f] [--revision N]");
	name = pos[0];
	if (opts[4].given && !opts[3].given)
		return lp_cli_usage_error("logs", lp_cli_logs_help, "--tail goes with --app");
	if (opts[3].given) {
		long tail = 200;

		if (opts[1].given)
			return lp_cli_usage_error("logs", lp_cli_logs_help,
			                          "--app and --revision do not go together");
		if (opts[4].given) {
			tail = strtol(opts[4].value, &end, 10);
			if (end == opts[4].value || *end || tail < 0 || tail > APP_TAIL_MAX)
				return lp_cli_usage_error("logs", lp_cli_logs_help,
				                          "--tail needs a count from 0 to 5000");
		}
		return app_logs(cfg, name, opts[0].given, tail);
	}
	if (opts[1].given) {
		number = strtoll(opts[1].value, &end, 10);
		if (*end || number < 1)
			return lp_cli_usage_error("logs", lp_cli_logs_help,
			                          "--revision needs a number (1, 2, ...)");
	}
	/*
	 * The endpoint always follows until the revision is final. Without -f a final revision's
	 * stream ends on its own once drained; a running one is read until its backlog has come.
	 */
	if (!opts[0].given && revision_info(&number, state, sizeof(state), cfg, name) &&
	    !is_final(state))
		idle = LOGS_IDLE_MS;
	if (number && lp_fmt(suffix, sizeof(suffix), "/logs?revision=%lld", number) != LP_OK)
		return lp_cli_usage_error("logs", lp_cli_logs_help,
		                          "--revision: the number is too large");
	if (lp_cli_site_path(path, sizeof(path), name, suffix, &err) != LP_OK ||
	    lp_cli_stream(&status, &e, &c, path, idle, NULL, on_field, &p, &err) != LP_OK) {
		ex = lp_cli_fail("logs", &err);
		goto done;
	}
	if (status != 200) {
		lp_cli_print_api_error("logs", &e);
		goto done;
	}
	if (p.bad_end) {
		fprintf(stderr, "launchpad logs: the log ended with a state longer than %d bytes\n",
		        LP_CLI_STATE_MAX - 1);
		goto done;
	}
	if (p.end_state[0])
		fprintf(stderr, "-- end of log: revision %s\n", p.end_state);
	else if (idle)
		fprintf(stderr, "-- revision %lld is still %s; use -f to follow it\n", number,
		        state);
	ex = LP_EXIT_OK;
done:
	lp_cli_resp_release(&e);
	return ex;
}
