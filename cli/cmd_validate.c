/* cmd_validate.c: `launchpad validate -f FILE|-` (placeholder until the spec module lands). */
#include <stdio.h>

#include "cli/commands.h"

int lp_cli_validate(int argc, char **argv, const lp_config *cfg)
{
	(void)argc;
	(void)argv;
	(void)cfg;
	fprintf(stderr, "launchpad validate: not implemented yet\n");
	return LP_EXIT_FAILED;
}
