/* cmd_metrics.c: `launchpad metrics NAME [--window 1h|24h|7d] [-o json]`: a site's traffic. */
#include <stdio.h>
#include <string.h>

#include "cli/cli_internal.h"
#include "cli/commands.h"
#include "launchpad/fmt.h"

#define METRICS_QUERY_MAX 32 /* "?window=24h" */

const char lp_cli_metrics_help[] =
    "usage: launchpad metrics NAME [--window 1h|24h|7d] [-o json]\n"
    "\n"
    "Print the requests the edge (Traefik) served for the site over the window: by status\n"
    "class, bytes, latency (mean, p50, p99 from minute buckets the controller scrapes), and\n"
    "the revisions created in the window (deploys, failures, build times). Requests served\n"
    "while no controller ran are not counted.\n"
    "\n"
    "  -w, --window W   1h (default), 24h or 7d\n"
    "  -o, --output F   json: the API's object as it is\n"
    "  -h, --help       this help\n"
    "\n"
    "examples:\n"
    "  launchpad metrics blog\n"
    "  launchpad metrics blog --window 7d\n"
    "  launchpad metrics blog -o json | jq .totals.byClass\n"
    "\n"
    "Global flags: --server, --token, --log-level (see launchpad --help).\n"
    "exit codes: 0 ok, 1 failure (no such site, server unreachable), 2 bad usage\n";

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static void print_text(const cJSON *m, const char *name)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(m, "totals");
	const cJSON *by = cJSON_GetObjectItemCaseSensitive(t, "byClass");
	const cJSON *lat = cJSON_GetObjectItemCaseSensitive(t, "latency");
	const cJSON *rev = cJSON_GetObjectItemCaseSensitive(m, "revisions");

	printf("site/%s, last %s (from %s)\n", name, lp_cli_str(m, "window", "?"),
	       lp_cli_str(m, "from", "?"));
	printf("  requests:  %.0f (1xx %.0f, 2xx %.0f, 3xx %.0f, 4xx %.0f, 5xx %.0f)\n",
	       num(t, "requests"), num(by, "1xx"), num(by, "2xx"), num(by, "3xx"), num(by, "4xx"),
	       num(by, "5xx"));
	printf("  bytes:     %.0f in, %.0f out\n", num(t, "bytesIn"), num(t, "bytesOut"));
	printf("  latency:   mean %.1f ms, p50 <= %.1f ms, p99 <= %.1f ms\n",
	       num(lat, "meanSeconds") * 1000, num(lat, "p50Seconds") * 1000,
	       num(lat, "p99Seconds") * 1000);
	printf("  revisions: %.0f deployed, %.0f failed; builds %.0f, mean %.1f s, max %.1f s\n",
	       num(rev, "deploys"), num(rev, "failed"), num(rev, "builds"),
	       num(rev, "buildSecondsMean"), num(rev, "buildSecondsMax"));
}

int lp_cli_metrics(int argc, char **argv, const lp_config *cfg)
{
	lp_cli_opt opts[] = {
	    {"window", 'w', 1, 0, NULL}, {"output", 'o', 1, 0, NULL}, {"help", 'h', 0, 0, NULL}};
	const char *pos[LP_CLI_MAX_POS], *window;
	char path[LP_CLI_API_PATH_MAX], query[METRICS_QUERY_MAX];
	lp_cli_client c = lp_cli_client_of(cfg);
	lp_cli_resp r = {0};
	lp_error err = {0};
	size_t npos = 0;
	int ex = LP_EXIT_FAILED;

	if (!lp_cli_parse_or_help(&ex, pos, &npos, opts, 3, argc, argv, lp_cli_metrics_help))
		return ex;
	if (npos == 2 && (!strcmp(pos[0], "site") || !strcmp(pos[0], "sites")))
		pos[0] = pos[1];
	else if (npos != 1)
		return lp_cli_usage_error("metrics", lp_cli_metrics_help, "expected: metrics NAME");
	window = opts[0].given ? opts[0].value : "1h";
	if (strcmp(window, "1h") && strcmp(window, "24h") && strcmp(window, "7d"))
		return lp_cli_usage_error("metrics", lp_cli_metrics_help,
		                          "--window must be 1h, 24h or 7d");
	if (opts[1].given && strcmp(opts[1].value, "json"))
		return lp_cli_usage_error("metrics", lp_cli_metrics_help, "-o takes json");
	if (lp_fmt(query, sizeof(query), "/metrics?window=%s", window) != LP_OK ||
	    lp_cli_site_path(path, sizeof(path), pos[0], query, &err) != LP_OK ||
	    lp_cli_request(&r, &c, "GET", path, NULL, NULL, 0, &err) != LP_OK) {
		lp_cli_fail("metrics", &err);
		goto done;
	}
	if (r.status != 200 || !cJSON_IsObject(r.json)) {
		lp_cli_print_api_error("metrics", &r);
		goto done;
	}
	if (opts[1].given) {
		char *s = cJSON_Print(r.json);

		if (s == NULL) {
			fprintf(stderr, "launchpad metrics: out of memory\n");
			goto done;
		}
		printf("%s\n", s);
		cJSON_free(s);
	} else {
		print_text(r.json, pos[0]);
	}
	ex = LP_EXIT_OK;
done:
	lp_cli_resp_release(&r);
	return ex;
}
