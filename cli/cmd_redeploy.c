/* cmd_redeploy.c: `launchpad redeploy NAME`: request a new revision (the branch head or archive).
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/cli_internal.h"

const char lp_cli_redeploy_help[] =
    "usage: launchpad redeploy NAME [--wait [--timeout 10m]]\n"
    "\n"
    "Build a new revision of a site from its source as it is now (a Git site: the branch head;\n"
    "an archive site: the same archive).\n"
    "\n"
    "  -w, --wait        wait until the new revision is live (or failed), with progress\n"
    "      --timeout D   how long --wait waits: 600, 90s, 10m, 1h (default 10m)\n"
    "  -h, --help        this help\n"
    "\n"
    "examples:\n"
    "  launchpad redeploy blog --wait\n"
    "  launchpad redeploy blog --wait --timeout 30m\n"
    "\n"
    "Global flags: --server, --token, --log-level (see launchpad --help).\n"
    "exit codes: 0 requested (and live with --wait), 1 failure, 2 bad usage, 3 timed out waiting\n";

int lp_cli_redeploy(int argc, char **argv, const lp_config *cfg)
{
	lp_cli_opt opts[] = {
	    {"wait", 'w', 0, 0, NULL}, {"timeout", 0, 1, 0, NULL}, {"help", 'h', 0, 0, NULL}};
	const char *pos[LP_CLI_MAX_POS], *name;
	size_t npos = 0;
	int ex = LP_EXIT_FAILED, timeout = 600;
	lp_cli_client c = lp_cli_client_of(cfg);
	lp_cli_resp r;
	lp_error err = {0};
	char path[LP_CLI_API_PATH_MAX];

	if (!lp_cli_parse_or_help(&ex, pos, &npos, opts, 3, argc, argv, lp_cli_redeploy_help))
		return ex;
	if (npos != 1)
		return lp_cli_usage_error("redeploy", lp_cli_redeploy_help,
		                          "expected: redeploy NAME");
	name = pos[0];
	if (opts[1].given && (timeout = lp_cli_parse_duration(opts[1].value)) <= 0)
		return lp_cli_usage_error("redeploy", lp_cli_redeploy_help,
		                          "--timeout: expected 600, 90s, 10m or 1h");
	if (lp_cli_site_path(path, sizeof(path), name, "/redeploy", &err) != LP_OK ||
	    lp_cli_request(&r, &c, "POST", path, NULL, NULL, 0, &err) != LP_OK)
		return lp_cli_fail("redeploy", &err);
	if (r.status == 202 || r.status == 200) {
		printf("site/%s redeploying (revision %lld)\n", name,
		       (long long)lp_cli_num(r.json, "revision", 0));
		fflush(stdout);
		ex = LP_EXIT_OK;
	} else {
		lp_cli_print_api_error("redeploy", &r);
	}
	lp_cli_resp_release(&r);
	if (ex == LP_EXIT_OK && opts[0].given)
		ex = lp_cli_wait(cfg, "redeploy", name, timeout);
	return ex;
}
