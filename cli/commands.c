/* commands.c: the CLI's command table (one command per cmd_<name>.c). */
#include <stddef.h>

#include "cli/commands.h"

const struct lp_cli_command lp_cli_commands[] = {
    {"login", "save the server URL and token: login [--server URL] [--token T]", lp_cli_login},
    {"apply", "create or update sites from manifests: apply -f FILE|DIR|- [--wait]", lp_cli_apply},
    {"deploy", "zip a folder and upload it: deploy DIR|ZIP [--name NAME] [--wait]", lp_cli_deploy},
    {"get", "list sites: get sites [-o wide|json|yaml], get site NAME", lp_cli_get},
    {"describe", "show a site in detail: describe site NAME", lp_cli_describe},
    {"delete", "delete a site: delete site NAME [--wait]", lp_cli_delete},
    {"redeploy", "build a new revision: redeploy NAME [--wait]", lp_cli_redeploy},
    {"rollback", "serve an earlier revision: rollback NAME [--to N] [--wait]", lp_cli_rollback},
    {"logs", "print a revision's build log: logs NAME [-f] [--revision N]", lp_cli_logs},
    {"validate", "check manifests offline: validate -f FILE|-", lp_cli_validate},
    {"version", "print the client's version and check the server", lp_cli_version},
    {"completion", "print the shell completion script: completion bash", lp_cli_completion},
};

const size_t lp_cli_ncommands = sizeof(lp_cli_commands) / sizeof(lp_cli_commands[0]);
