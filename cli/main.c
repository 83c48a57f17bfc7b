/* main.c: the launchpad CLI's entry point: settings, the config file, then the command. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/cli_internal.h"
#include "launchpad/config.h"
#include "launchpad/log.h"

/* `help [COMMAND]`, `--help [COMMAND]`: the command's help, or the general one. */
static int help(int nrest, char **rest)
{
	const struct lp_cli_command *c;

	if (nrest < 2) {
		lp_cli_usage(stdout);
		return LP_EXIT_OK;
	}
	if ((c = lp_cli_command_find(rest[1])) == NULL) {
		fprintf(stderr, "launchpad help: unknown command \"%s\" (see launchpad --help)\n",
		        rest[1]);
		return LP_EXIT_USAGE;
	}
	fputs(c->help, stdout);
	return LP_EXIT_OK;
}

int main(int argc, char **argv)
{
	lp_config *cfg = NULL;
	char **rest = NULL, *conf_path = NULL;
	int nrest = 0, rc = LP_EXIT_USAGE;
	lp_error err = {0};
	const struct lp_cli_command *c;

	if (lp_config_new(&cfg, &rest, &nrest, argc, argv, &err) != LP_OK) {
		fprintf(stderr, "launchpad: %s\n", err.message);
		goto done;
	}
	lp_log_setup(cfg->log_level, cfg->log_format, 2);
	conf_path = lp_cli_config_path();
	if (lp_cli_config_load(cfg, conf_path, argc, argv, &err) != LP_OK) {
		fprintf(stderr, "launchpad: config file %s\n", err.message);
		rc = LP_EXIT_FAILED;
		goto done;
	}
	if (nrest == 0) {
		lp_cli_usage(stderr);
		goto done;
	}
	if (!strcmp(rest[0], "--help") || !strcmp(rest[0], "-h") || !strcmp(rest[0], "help")) {
		rc = help(nrest, rest);
		goto done;
	}
	if (!strcmp(rest[0], "--version")) {
		rest[0] = "version";
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if ((c = lp_cli_command_find(rest[0])) != NULL)
		rc = c->run(nrest, rest, cfg);
	else
		fprintf(stderr, "launchpad: unknown command \"%s\" (see launchpad --help)\n",
		        rest[0]);
	curl_global_cleanup();
done:
	fflush(stdout);
	free(conf_path);
	lp_config_rest_free(rest);
	lp_config_free(cfg);
	return rc;
}
