/* cmd_status.c: `launchpad status`: the server, the token and the sites at a glance. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/cli_internal.h"
#include "launchpad/fmt.h"

#define COUNTS_TEXT_MAX 256 /* "12 (3 live, 2 deploying, ...)" */

const char lp_cli_status_help[] =
    "usage: launchpad status\n"
    "\n"
    "Say which server the CLI talks to and whether it answers (its version, from /healthz),\n"
    "whether the token is valid there, and how many sites it has by status:\n"
    "  server:  http://127.0.0.1:8080 (reachable, launchpad 0.1.0)\n"
    "  token:   valid\n"
    "  sites:   3 (2 live, 1 failed)\n"
    "The server and token come from --server/--token, LAUNCHPAD_SERVER/LAUNCHPAD_TOKEN or the\n"
    "config file written by `launchpad login`.\n"
    "\n"
    "  -h, --help   this help\n"
    "\n"
    "examples:\n"
    "  launchpad status\n"
    "  launchpad status --server https://launchpad.example.com\n"
    "\n"
    "exit codes: 0 the server answers and takes the token, 1 it cannot be reached or refuses\n"
    "the token (or there is none), 2 bad usage\n";

/* The phases in the order they are counted; what the server adds later goes under "other". */
static const char *const phases[] = {"live", "deploying", "pending", "failed", "deleting"};
#define NPHASES (sizeof(phases) / sizeof(phases[0]))

int lp_cli_site_counts(char *out, size_t n, const cJSON *sites)
{
	size_t counts[NPHASES + 1] = {0}, i, len, total = 0;
	const cJSON *s;
	int rc, first = 1;

	cJSON_ArrayForEach(s, sites)
	{
		const char *phase = lp_cli_str(s, "phase", "");

		for (i = 0; i < NPHASES && strcmp(phase, phases[i]); i++)
			;
		counts[i]++;
		total++;
	}
	if (total == 0)
		return lp_fmt(out, n, "none");
	rc = lp_fmt(out, n, "%zu (", total);
	for (i = 0; i <= NPHASES && rc == LP_OK; i++) {
		if (counts[i] == 0)
			continue;
		len = strlen(out);
		rc = lp_fmt(out + len, n - len, "%s%zu %s", first ? "" : ", ", counts[i],
		            i < NPHASES ? phases[i] : "other");
		first = 0;
	}
	len = strlen(out);
	return rc == LP_OK ? lp_fmt(out + len, n - len, ")") : rc;
}

int lp_cli_status(int argc, char **argv, const lp_config *cfg)
{
	lp_cli_opt opts[] = {{"help", 'h', 0, 0, NULL}};
	const char *pos[LP_CLI_MAX_POS];
	size_t npos = 0;
	int ex = LP_EXIT_FAILED;
	lp_cli_client open = {.server = cfg->server, .token = NULL};
	lp_cli_client c = lp_cli_client_of(cfg);
	lp_cli_resp h = {0}, list = {0};
	lp_error err = {0};
	char counts[COUNTS_TEXT_MAX];

	if (!lp_cli_parse_or_help(&ex, pos, &npos, opts, 1, argc, argv, lp_cli_status_help))
		return ex;
	if (npos)
		return lp_cli_usage_error("status", lp_cli_status_help, "no arguments expected");
	if (lp_cli_request(&h, &open, "GET", "/healthz", NULL, NULL, 0, &err) != LP_OK) {
		printf("server:  %s (unreachable: %s)\n", cfg->server,
		       strstr(err.message, ": ") ? strstr(err.message, ": ") + 2 : err.message);
		printf("token:   not checked\n");
		goto done;
	}
	if (h.status == 200 && lp_cli_str(h.json, "version", NULL))
		printf("server:  %s (reachable, launchpad %s)\n", cfg->server,
		       lp_cli_str(h.json, "version", "?"));
	else
		printf("server:  %s (answers, but /healthz says HTTP %ld: not a LaunchPad API?)\n",
		       cfg->server, h.status);
	if (cfg->token == NULL || *cfg->token == '\0') {
		printf(
		    "token:   none (pass --token, set LAUNCHPAD_TOKEN or run `launchpad login`)\n");
		goto done;
	}
	if (lp_cli_request(&list, &c, "GET", "/api/deployments", NULL, NULL, 0, &err) != LP_OK) {
		printf("token:   not checked (%s)\n", err.message);
		goto done;
	}
	if (list.status == 401) {
		printf("token:   rejected (HTTP 401: check --token, LAUNCHPAD_TOKEN or `launchpad "
		       "login`)\n");
		goto done;
	}
	if (list.status != 200 || !cJSON_IsArray(list.json)) {
		printf("token:   not checked (GET /api/deployments: HTTP %ld)\n", list.status);
		goto done;
	}
	printf("token:   valid\n");
	if (lp_cli_site_counts(counts, sizeof(counts), list.json) != LP_OK)
		snprintf(counts, sizeof(counts), "%d", cJSON_GetArraySize(list.json));
	printf("sites:   %s\n", counts);
	ex = h.status == 200 ? LP_EXIT_OK : LP_EXIT_FAILED;
done:
	fflush(stdout);
	lp_cli_resp_release(&h);
	lp_cli_resp_release(&list);
	return ex;
}
