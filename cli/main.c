/* main.c: the launchpad CLI's entry point and command table. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "launchpad/config.h"
#include "launchpad/log.h"

static const struct lp_cli_command commands[] = {
    {"validate", "check manifests offline: validate -f FILE|-", lp_cli_validate},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: launchpad [flags] COMMAND [args]\n\ncommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nflags (each also a LAUNCHPAD_* variable; a flag wins):\n");
	fflush(f);
	lp_config_usage(fileno(f));
	fprintf(f, "\nexit codes: 0 success, 1 failure or invalid input, 2 bad usage\n");
}

int main(int argc, char **argv)
{
	lp_config *cfg = NULL;
	char **rest = NULL;
	int nrest = 0, rc = LP_EXIT_USAGE;
	lp_error err = {0};
	size_t i;

	if (lp_config_new(&cfg, &rest, &nrest, argc, argv, &err) != LP_OK) {
		fprintf(stderr, "launchpad: %s\n", err.message);
		goto done;
	}
	lp_log_setup(cfg->log_level, cfg->log_format, 2);
	if (nrest == 0 || !strcmp(rest[0], "--help") || !strcmp(rest[0], "-h") ||
	    !strcmp(rest[0], "help")) {
		usage(nrest == 0 ? stderr : stdout);
		rc = nrest == 0 ? LP_EXIT_USAGE : LP_EXIT_OK;
		goto done;
	}
	for (i = 0; i < NCOMMANDS; i++) {
		if (!strcmp(rest[0], commands[i].name)) {
			rc = commands[i].run(nrest, rest, cfg);
			goto done;
		}
	}
	fprintf(stderr, "launchpad: unknown command \"%s\" (see launchpad --help)\n", rest[0]);
done:
	lp_config_rest_free(rest);
	lp_config_free(cfg);
	return rc;
}
