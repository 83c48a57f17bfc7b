/* commands.h: the CLI's command signature; each command lives in its own cmd_<name>.c. */
#ifndef LAUNCHPAD_CLI_COMMANDS_H
#define LAUNCHPAD_CLI_COMMANDS_H

#include "launchpad/config.h"

/* Exit codes, documented in `launchpad --help` and docs/cli.md. */
#define LP_EXIT_OK 0
#define LP_EXIT_FAILED 1 /* the operation failed or the input is invalid */
#define LP_EXIT_USAGE 2  /* bad command line */

/* argv[0] is the command name; cfg holds the shared settings. Returns an LP_EXIT_* code. */
typedef int (*lp_cli_run_fn)(int argc, char **argv, const lp_config *cfg);

struct lp_cli_command {
	const char *name;
	const char *summary;
	lp_cli_run_fn run;
};

int lp_cli_validate(int argc, char **argv, const lp_config *cfg);

#endif
