/* cmd_delete.c: `launchpad delete site NAME`: mark a site deleted; --wait until it is gone. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/cli_internal.h"

const char lp_cli_delete_help[] =
    "usage: launchpad delete site NAME [--wait [--timeout 10m]] [--ignore-not-found]\n"
    "       launchpad delete NAME\n"
    "\n"
    "Delete a site: the server marks it deleted at once (phase deleting) and the controller\n"
    "removes its containers, files and history. With --wait, return once it is gone.\n"
    "\n"
    "  -w, --wait             wait until the site no longer exists\n"
    "      --timeout D        how long --wait waits: 600, 90s, 10m, 1h (default 10m)\n"
    "      --ignore-not-found a site that does not exist is no failure (exit 0, nothing said)\n"
    "  -h, --help             this help\n"
    "\n"
    "examples:\n"
    "  launchpad delete site blog --wait\n"
    "  launchpad delete blog --ignore-not-found\n"
    "\n"
    "Global flags: --server, --token, --log-level (see launchpad --help).\n"
    "exit codes: 0 deleted (or not there, with --ignore-not-found), 1 failure (not found,\n"
    "server unreachable), 2 bad usage, 3 timed out waiting\n";

static int wait_gone(const lp_config *cfg, const char *name, int timeout_s)
{
	lp_cli_client c = lp_cli_client_of(cfg);
	lp_cli_resp r;
	lp_error err = {0};
	char path[LP_CLI_API_PATH_MAX];
	time_t end = time(NULL) + timeout_s;
	int ex = LP_EXIT_FAILED;

	if (lp_cli_site_path(path, sizeof(path), name, "", &err) != LP_OK)
		return lp_cli_fail("delete", &err);
	for (;;) {
		if (lp_cli_request(&r, &c, "GET", path, NULL, NULL, 0, &err) != LP_OK)
			return lp_cli_fail("delete", &err);
		if (r.status == 404) {
			printf("site/%s gone\n", name);
			ex = LP_EXIT_OK;
		} else if (r.status != 200) {
			lp_cli_print_api_error("delete", &r);
		} else if (time(NULL) >= end) {
			fprintf(stderr, "launchpad delete: site/%s still exists after %d s\n", name,
			        timeout_s);
			ex = LP_EXIT_TIMEOUT;
		} else {
			lp_cli_resp_release(&r);
			usleep(500 * 1000);
			continue;
		}
		lp_cli_resp_release(&r);
		return ex;
	}
}

int lp_cli_delete(int argc, char **argv, const lp_config *cfg)
{
	enum { OPT_WAIT, OPT_TIMEOUT, OPT_IGNORE, OPT_HELP, NOPTS };
	lp_cli_opt opts[NOPTS] = {[OPT_WAIT] = {"wait", 'w', 0, 0, NULL},
	                          [OPT_TIMEOUT] = {"timeout", 0, 1, 0, NULL},
	                          [OPT_IGNORE] = {"ignore-not-found", 0, 0, 0, NULL},
	                          [OPT_HELP] = {"help", 'h', 0, 0, NULL}};
	const char *pos[LP_CLI_MAX_POS], *name;
	size_t npos = 0;
	int ex = LP_EXIT_FAILED, timeout = 600;
	lp_cli_client c = lp_cli_client_of(cfg);
	lp_cli_resp r;
	lp_error err = {0};
	char path[LP_CLI_API_PATH_MAX];

	if (!lp_cli_parse_or_help(&ex, pos, &npos, opts, NOPTS, argc, argv, lp_cli_delete_help))
		return ex;
	if (npos == 2 && (!strcmp(pos[0], "site") || !strcmp(pos[0], "sites")))
		name = pos[1];
	else if (npos == 1 && strcmp(pos[0], "site"))
		name = pos[0];
	else
		return lp_cli_usage_error("delete", lp_cli_delete_help,
		                          "expected: delete site NAME");
	if (opts[OPT_TIMEOUT].given &&
	    (timeout = lp_cli_parse_duration(opts[OPT_TIMEOUT].value)) <= 0)
		return lp_cli_usage_error("delete", lp_cli_delete_help,
		                          "--timeout: expected 600, 90s, 10m or 1h");
	if (lp_cli_site_path(path, sizeof(path), name, "", &err) != LP_OK ||
	    lp_cli_request(&r, &c, "DELETE", path, NULL, NULL, 0, &err) != LP_OK)
		return lp_cli_fail("delete", &err);
	if (r.status == 202 || r.status == 200) {
		printf("site/%s deleted\n", name);
		ex = LP_EXIT_OK;
	} else if (r.status == 404 && !strcmp(lp_cli_error_code(&r), "not_found") &&
	           opts[OPT_IGNORE].given) {
		/* kubectl's: nothing to delete is no failure, and nothing is said */
		lp_cli_resp_release(&r);
		return LP_EXIT_OK;
	} else {
		lp_cli_print_api_error("delete", &r);
	}
	lp_cli_resp_release(&r);
	if (ex == LP_EXIT_OK && opts[OPT_WAIT].given)
		ex = wait_gone(cfg, name, timeout);
	return ex;
}
