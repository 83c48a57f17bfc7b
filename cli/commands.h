/* commands.h: the CLI's command signature; each command lives in its own cmd_<name>.c. */
#ifndef LAUNCHPAD_CLI_COMMANDS_H
#define LAUNCHPAD_CLI_COMMANDS_H

#include <stdio.h>

#include "launchpad/config.h"

/* Exit codes, documented in `launchpad --help` and docs/cli.md. */
#define LP_EXIT_OK      0
#define LP_EXIT_FAILED  1 /* the operation failed or the input is invalid */
#define LP_EXIT_USAGE   2 /* bad command line */
#define LP_EXIT_TIMEOUT 3 /* --wait (or delete --wait) ran out of time */

/* argv[0] is the command name; cfg holds the shared settings. Returns an LP_EXIT_* code. */
typedef int (*lp_cli_run_fn)(int argc, char **argv, const lp_config *cfg);

struct lp_cli_command {
	const char *name;
	const char *summary;
	lp_cli_run_fn run;
	const char *help; /* `launchpad NAME --help` and `launchpad help NAME` print it */
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
int lp_cli_status(int argc, char **argv, const lp_config *cfg);
int lp_cli_open(int argc, char **argv, const lp_config *cfg);
int lp_cli_metrics(int argc, char **argv, const lp_config *cfg);

/* Each command's help text, in its cmd_<name>.c. */
extern const char lp_cli_validate_help[];
extern const char lp_cli_login_help[];
extern const char lp_cli_apply_help[];
extern const char lp_cli_deploy_help[];
extern const char lp_cli_get_help[];
extern const char lp_cli_describe_help[];
extern const char lp_cli_delete_help[];
extern const char lp_cli_redeploy_help[];
extern const char lp_cli_rollback_help[];
extern const char lp_cli_logs_help[];
extern const char lp_cli_version_help[];
extern const char lp_cli_completion_help[];
extern const char lp_cli_status_help[];
extern const char lp_cli_open_help[];
extern const char lp_cli_metrics_help[];

/* The command table (commands.c) and the completion script (cmd_completion.c). */
extern const struct lp_cli_command lp_cli_commands[];
extern const size_t lp_cli_ncommands;
extern const char lp_cli_completion_bash[];

/* The entry of the command called name, or NULL. */
const struct lp_cli_command *lp_cli_command_find(const char *name);
/* `launchpad --help`: the commands, the flags the CLI reads, the exit codes. */
void lp_cli_usage(FILE *f);

/*
 * Parse a command's flags; on -h/--help print help to stdout and return LP_EXIT_OK through
 * *out_exit (a flag of opts the help does not mention is reported on stderr: the help must list
 * every flag its command takes); on bad usage print the problem and the help to stderr
 * (LP_EXIT_USAGE). Returns 1 when the command should go on, 0 when it should return *out_exit.
 */
struct lp_cli_opt;
int lp_cli_parse_or_help(int *out_exit, const char **pos, size_t *npos, struct lp_cli_opt *opts,
                         size_t nopts, int argc, char **argv, const char *help);

#endif
