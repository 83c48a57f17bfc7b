/* commands.h: the CLI's command signature; each command lives in its own cmd_<name>.c. */
#ifndef LAUNCHPAD_CLI_COMMANDS_H
#define LAUNCHPAD_CLI_COMMANDS_H

#include "launchpad/config.h"

/* Exit codes, documented in `launchpad --help` and docs/cli.md. */
#define LP_EXIT_OK     0
#define LP_EXIT_FAILED 1 /* the operation failed or the input is invalid */
#define LP_EXIT_USAGE  2 /* bad command line */

/* argv[0] is the command name; cfg holds the shared settings. Returns an LP_EXIT_* code. */
typedef int (*lp_cli_run_fn)(int argc, char **argv, const lp_config *cfg);

struct lp_cli_command {
	const char *name;
	const char *summary;
	lp_cli_run_fn run;
};

int lp_cli_validate(int argc, char **argv, const lp_config *cfg);
int lp_cli_login(int argc, char **argv, const lp_config *cfg);
int lp_cli_apply(int argc, char **argv, const lp_config *cfg);
int lp_cli_deploy(int argc, char **argv, const lp_config *cfg);
int lp_cli_get(int argc, char **argv, const lp_config *cfg);
int lp_cli_describe(int argc, char **argv, const lp_config *cfg);
int lp_cli_delete(int argc, char **argv, const lp_config *cfg);
int lp_cli_redeploy(int argc, char **argv, const lp_config *cfg);
int lp_cli_rollback(int argc, char **argv, const lp_config *cfg);
int lp_cli_logs(int argc, char **argv, const lp_config *cfg);
int lp_cli_version(int argc, char **argv, const lp_config *cfg);
int lp_cli_completion(int argc, char **argv, const lp_config *cfg);

/* The command table (main.c) and the completion script (cmd_completion.c). */
extern const struct lp_cli_command lp_cli_commands[];
extern const size_t lp_cli_ncommands;
extern const char lp_cli_completion_bash[];

/*
 * Parse a command's flags; on -h/--help print help to stdout and return LP_EXIT_OK through
 * *out_exit; on bad usage print the problem and the help to stderr (LP_EXIT_USAGE). Returns 1
 * when the command should go on, 0 when it should return *out_exit.
 */
struct lp_cli_opt;
int lp_cli_parse_or_help(int *out_exit, const char **pos, size_t *npos, struct lp_cli_opt *opts,
                         size_t nopts, int argc, char **argv, const char *help);

#endif
