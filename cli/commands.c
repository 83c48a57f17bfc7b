/* commands.c: the CLI's command table (one command per cmd_<name>.c) and `launchpad --help`. */
#include <stddef.h>
#include <string.h>

#include "cli/commands.h"

const struct lp_cli_command lp_cli_commands[] = {
    {"login", "save the server URL and token: login [--server URL] [--token T]", lp_cli_login,
     lp_cli_login_help},
    {"user", "manage users (admins): user create NAME --role R --password-stdin | list | delete",
     lp_cli_user, lp_cli_user_help},
    {"token", "your personal API tokens: token create NAME | list | revoke ID", lp_cli_token,
     lp_cli_token_help},
    {"status", "the server, the token and the sites at a glance", lp_cli_status,
     lp_cli_status_help},
    {"apply", "create or update sites from manifests: apply -f FILE|DIR|- [-R] [--wait]",
     lp_cli_apply, lp_cli_apply_help},
    {"deploy", "zip a folder and upload it: deploy DIR|ZIP [--name NAME] [--strict] [--wait]",
     lp_cli_deploy, lp_cli_deploy_help},
    {"get", "list sites or revisions: get sites|site NAME|revisions NAME [-o ...] [-w]", lp_cli_get,
     lp_cli_get_help},
    {"describe", "show a site in detail: describe site NAME [-o yaml|json]", lp_cli_describe,
     lp_cli_describe_help},
    {"open", "print a site's URL, or open it: open NAME [--browser]", lp_cli_open,
     lp_cli_open_help},
    {"delete", "delete a site: delete site NAME [--wait] [--ignore-not-found]", lp_cli_delete,
     lp_cli_delete_help},
    {"redeploy", "build a new revision: redeploy NAME [--wait]", lp_cli_redeploy,
     lp_cli_redeploy_help},
    {"rollback", "serve an earlier revision: rollback NAME [--to N] [--wait]", lp_cli_rollback,
     lp_cli_rollback_help},
    {"metrics", "a site's traffic through the edge: metrics NAME [--window 1h|24h|7d]",
     lp_cli_metrics, lp_cli_metrics_help},
    {"logs", "print a build log or the app's output: logs NAME [-f] [--revision N | --app]",
     lp_cli_logs, lp_cli_logs_help},
    {"validate", "check manifests offline: validate -f FILE|DIR|- [-R]", lp_cli_validate,
     lp_cli_validate_help},
    {"version", "print the client's version and check the server", lp_cli_version,
     lp_cli_version_help},
    {"completion", "print the shell completion script: completion bash", lp_cli_completion,
     lp_cli_completion_help},
};

const size_t lp_cli_ncommands = sizeof(lp_cli_commands) / sizeof(lp_cli_commands[0]);

const struct lp_cli_command *lp_cli_command_find(const char *name)
{
	size_t i;

	for (i = 0; i < lp_cli_ncommands; i++)
		if (!strcmp(lp_cli_commands[i].name, name))
			return &lp_cli_commands[i];
	return NULL;
}

/*
 * The shared flags (launchpad/config.h) the CLI reads; the daemons' flags are accepted too, since
 * one settings table serves every binary, but mean nothing here and are not listed.
 */
static const struct {
	const char *flag;
	const char *env;
	const char *help;
} cli_flags[] = {
    {"--server URL", "LAUNCHPAD_SERVER", "the API server (default http://127.0.0.1:8080)"},
    {"--token T", "LAUNCHPAD_TOKEN", "the API bearer token (default: none)"},
    {"--log-level L", "LAUNCHPAD_LOG_LEVEL", "debug, info, warn or error (default info)"},
    {"--log-format F", "LAUNCHPAD_LOG_FORMAT", "text or json (default text)"},
    {"--allow-insecure-sources", "LAUNCHPAD_ALLOW_INSECURE_SOURCES",
     "validate: accept http:// and file:// Git URLs (apply leaves it to the server)"},
};

void lp_cli_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: launchpad [--server URL] [--token T] COMMAND [args]\n"
	           "\ncommands:\n");
	for (i = 0; i < lp_cli_ncommands; i++)
		fprintf(f, "  %-11s %s\n", lp_cli_commands[i].name, lp_cli_commands[i].summary);
	fprintf(f, "\nflags (anywhere on the line; each also a variable, a flag wins):\n");
	for (i = 0; i < sizeof(cli_flags) / sizeof(cli_flags[0]); i++)
		fprintf(f, "  %-26s %s\n  %-26s %s\n", cli_flags[i].flag, cli_flags[i].help, "",
		        cli_flags[i].env);
	fprintf(f, "  %-26s %s\n", "-h, --help", "this help");
	fprintf(f, "\nThe server and token come from --server/--token, else LAUNCHPAD_SERVER/"
	           "LAUNCHPAD_TOKEN,\nelse the config file ($XDG_CONFIG_HOME or ~/.config)/"
	           "launchpad/config written by `login`.\n");
	fprintf(f, "\nexamples:\n"
	           "  launchpad login --server https://launchpad.example.com --token -\n"
	           "  launchpad deploy ./public --name my-site --wait\n"
	           "  launchpad get sites -w\n");
	fprintf(f, "\nexit codes: 0 success, 1 failure or invalid input, 2 bad usage,\n"
	           "3 timed out waiting (--wait)\n"
	           "\n`launchpad help COMMAND` (or `launchpad COMMAND --help`) shows a command's "
	           "flags and examples.\n");
}
