/* cmd_version.c: `launchpad version`: the client's version and whether the server answers. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/cli_internal.h"
#include "launchpad/log.h"
#include "launchpad/version.h"

const char lp_cli_version_help[] =
    "usage: launchpad version\n"
    "\n"
    "Print the client's version, then the server's (from its /healthz) and its readiness\n"
    "(/readyz): \"server: launchpad VERSION, reachable at URL\".\n"
    "\n"
    "  -h, --help   this help\n"
    "\n"
    "examples:\n"
    "  launchpad version\n"
    "  launchpad --version --server https://launchpad.example.com\n"
    "\n"
    "exit codes: 0 the server answered, 1 it cannot be reached, 2 bad usage\n";

int lp_cli_version(int argc, char **argv, const lp_config *cfg)
{
	lp_cli_opt opts[] = {{"help", 'h', 0, 0, NULL}};
	const char *pos[LP_CLI_MAX_POS];
	size_t npos = 0;
	int ex = LP_EXIT_FAILED;
	lp_cli_client c = {.server = cfg->server, .token = NULL};
	lp_cli_resp h = {0}, ready = {0};
	lp_error err = {0};

	if (!lp_cli_parse_or_help(&ex, pos, &npos, opts, 1, argc, argv, lp_cli_version_help))
		return ex;
	if (npos)
		return lp_cli_usage_error("version", lp_cli_version_help, "no arguments expected");
	printf("client: launchpad %s\n", LP_VERSION);
	fflush(stdout);
	if (lp_cli_request(&h, &c, "GET", "/healthz", NULL, NULL, 0, &err) != LP_OK) {
		ex = lp_cli_fail("version", &err);
		goto done;
	}
	/* readiness is extra: without an answer its part of the line is left out */
	if (lp_cli_request(&ready, &c, "GET", "/readyz", NULL, NULL, 0, &err) != LP_OK)
		LP_DEBUG("cli", "readyz: %s", err.message);
	printf("server: launchpad %s, reachable at %s (healthz: HTTP %ld %s",
	       lp_cli_str(h.json, "version", "?"), cfg->server, h.status,
	       lp_cli_str(h.json, "status", "?"));
	if (ready.status)
		printf("; readyz: HTTP %ld %s, schema %lld", ready.status,
		       lp_cli_str(ready.json, "status", "?"),
		       (long long)lp_cli_num(ready.json, "schemaVersion", 0));
	printf(")\n");
	ex = h.status == 200 ? LP_EXIT_OK : LP_EXIT_FAILED;
done:
	lp_cli_resp_release(&h);
	lp_cli_resp_release(&ready);
	return ex;
}
