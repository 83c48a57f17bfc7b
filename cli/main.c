/* main.c: the launchpad CLI's entry point: settings, the config file, then the command. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/cli_internal.h"
#include "launchpad/config.h"
#include "launchpad/log.h"

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: launchpad [flags] COMMAND [args]   (launchpad COMMAND --help for more)\n"
	           "\ncommands:\n");
	for (i = 0; i < lp_cli_ncommands; i++)
		fprintf(f, "  %-11s %s\n", lp_cli_commands[i].name, lp_cli_commands[i].summary);
	fprintf(f, "\nThe server and token come from --server/--token, else LAUNCHPAD_SERVER/"
	           "LAUNCHPAD_TOKEN,\nelse the config file ($XDG_CONFIG_HOME or ~/.config)/"
	           "launchpad/config written by `login`.\n");
	fprintf(f, "\nflags (each also a LAUNCHPAD_* variable; a flag wins):\n");
	fflush(f);
	lp_config_usage(fileno(f));
	fprintf(f, "\nexit codes: 0 success, 1 failure or invalid input, 2 bad usage\n");
}

int main(int argc, char **argv)
{
	lp_config *cfg = NULL;
	char **rest = NULL, *conf_path = NULL;
	int nrest = 0, rc = LP_EXIT_USAGE;
	lp_error err = {0};
	size_t i;

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
	if (nrest == 0 || !strcmp(rest[0], "--help") || !strcmp(rest[0], "-h") ||
	    !strcmp(rest[0], "help")) {
		usage(nrest == 0 ? stderr : stdout);
		rc = nrest == 0 ? LP_EXIT_USAGE : LP_EXIT_OK;
		goto done;
	}
	if (!strcmp(rest[0], "--version")) {
		rest[0] = "version";
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (i = 0; i < lp_cli_ncommands; i++) {
		if (!strcmp(rest[0], lp_cli_commands[i].name)) {
			rc = lp_cli_commands[i].run(nrest, rest, cfg);
			break;
		}
	}
	if (i == lp_cli_ncommands)
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
