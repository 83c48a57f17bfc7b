/* cmd_rollback.c: `launchpad rollback NAME [--to N]`: serve an earlier ready revision again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/cli_internal.h"
#include "launchpad/fmt.h"

#define ROLLBACK_BODY_MAX 64 /* {"revision":N} */

const char lp_cli_rollback_help[] =
    "usage: launchpad rollback NAME [--to N] [--wait [--timeout 10m]]\n"
    "\n"
    "Point the site back at an earlier ready revision: no rebuild, the published files are\n"
    "switched. Without --to, the newest ready revision older than the one being served.\n"
    "See the revisions with `launchpad describe site NAME`.\n"
    "\n"
    "      --to N        the revision to serve\n"
    "  -w, --wait        wait until it is live, with progress\n"
    "      --timeout D   how long --wait waits: 600, 90s, 10m, 1h (default 10m)\n"
    "  -h, --help        this help\n"
    "\n"
    "examples:\n"
    "  launchpad rollback blog --wait\n"
    "  launchpad rollback blog --to 3\n"
    "\n"
    "Global flags: --server, --token, --log-level (see launchpad --help).\n"
    "exit codes: 0 rolled back, 1 failure (no such or not-ready revision), 2 bad usage,\n"
    "3 timed out waiting\n";

int lp_cli_rollback(int argc, char **argv, const lp_config *cfg)
{
	lp_cli_opt opts[] = {{"to", 0, 1, 0, NULL},
	                     {"wait", 'w', 0, 0, NULL},
	                     {"timeout", 0, 1, 0, NULL},
	                     {"help", 'h', 0, 0, NULL}};
	const char *pos[LP_CLI_MAX_POS], *name;
	size_t npos = 0;
	int ex = LP_EXIT_FAILED, timeout = 600;
	long long to = 0;
	lp_cli_client c = lp_cli_client_of(cfg);
	lp_cli_resp r;
	lp_error err = {0};
	char path[LP_CLI_API_PATH_MAX], body[ROLLBACK_BODY_MAX] = "{}", *end;

	if (!lp_cli_parse_or_help(&ex, pos, &npos, opts, 4, argc, argv, lp_cli_rollback_help))
		return ex;
	if (npos != 1)
		return lp_cli_usage_error("rollback", lp_cli_rollback_help,
		                          "expected: rollback NAME [--to N]");
	name = pos[0];
	if (opts[0].given) {
		to = strtoll(opts[0].value, &end, 10);
		if (*end || to < 1)
			return lp_cli_usage_error("rollback", lp_cli_rollback_help,
			                          "--to needs a revision number (1, 2, ...)");
	}
	if (opts[2].given && (timeout = lp_cli_parse_duration(opts[2].value)) <= 0)
		return lp_cli_usage_error("rollback", lp_cli_rollback_help,
		                          "--timeout: expected 600, 90s, 10m or 1h");
	if (to && lp_fmt(body, sizeof(body), "{\"revision\":%lld}", to) != LP_OK)
		return lp_cli_usage_error("rollback", lp_cli_rollback_help,
		                          "--to: the number is too large");
	if (lp_cli_site_path(path, sizeof(path), name, "/rollback", &err) != LP_OK ||
	    lp_cli_request(&r, &c, "POST", path, "application/json", body, strlen(body), &err) !=
	        LP_OK)
		return lp_cli_fail("rollback", &err);
	if (r.status == 202 || r.status == 200) {
		printf("site/%s rolling back to revision %lld\n", name,
		       (long long)lp_cli_num(r.json, "revision", to));
		fflush(stdout);
		ex = LP_EXIT_OK;
	} else {
		lp_cli_print_api_error("rollback", &r);
	}
	lp_cli_resp_release(&r);
	if (ex == LP_EXIT_OK && opts[1].given)
		ex = lp_cli_wait(cfg, "rollback", name, timeout);
	return ex;
}
