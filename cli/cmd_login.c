/* cmd_login.c: `launchpad login`: check a token against the server, then save both (mode 0600).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/cli_internal.h"
#include "launchpad/fs.h"

const char lp_cli_login_help[] =
    "usage: launchpad login [--server URL] [--token TOKEN|-]\n"
    "\n"
    "Check the token against the server (GET /api/deployments must answer 200), then save the\n"
    "server URL and token in $XDG_CONFIG_HOME/launchpad/config (default\n"
    "~/.config/launchpad/config; mode 0600, written atomically). Later commands read it;\n"
    "--server/--token and LAUNCHPAD_SERVER/LAUNCHPAD_TOKEN still win over the file.\n"
    "The admin token of a new install is in <data-dir>/admin.token.\n"
    "\n"
    "      --server URL    the server to save (a global flag; default http://127.0.0.1:8080)\n"
    "      --token T|-     the token to check and save; - reads it from stdin (keeps it out of\n"
    "                      the shell history)\n"
    "  -h, --help          this help\n"
    "\n"
    "examples:\n"
    "  launchpad login --server http://127.0.0.1:8080 --token lp_0123abcd\n"
    "  sudo cat /srv/launchpad/admin.token | launchpad login --token -\n"
    "\n"
    "exit codes: 0 saved, 1 the server refused the token or cannot be reached, 2 bad usage\n";

/* The first line of stdin into out: 1 when it holds a token, 0 when empty, -1 when too long. */
static int read_token(char *out, size_t n)
{
	size_t len;
	int c;

	if (fgets(out, (int)n, stdin) == NULL)
		return 0;
	len = strcspn(out, "\r\n");
	/* a full buffer without the line's end: the token goes on */
	if (out[len] == '\0' && len + 1 == n && (c = getc(stdin)) != EOF && c != '\n' && c != '\r')
		return -1;
	out[len] = '\0';
	return len > 0;
}

int lp_cli_login(int argc, char **argv, const lp_config *cfg)
{
	lp_cli_opt opts[] = {{"help", 'h', 0, 0, NULL}};
	const char *pos[LP_CLI_MAX_POS], *token = cfg->token;
	size_t npos = 0;
	int ex = LP_EXIT_FAILED;
	lp_cli_client c;
	lp_cli_resp r = {0};
	lp_error err = {0};
	char *path = NULL, *text = NULL, *slash, stdin_token[LP_CLI_TOKEN_MAX];
	int got;

	if (!lp_cli_parse_or_help(&ex, pos, &npos, opts, 1, argc, argv, lp_cli_login_help))
		return ex;
	if (npos)
		return lp_cli_usage_error("login", lp_cli_login_help, "unexpected argument");
	if (token && !strcmp(token, "-")) {
		if ((got = read_token(stdin_token, sizeof(stdin_token))) < 0)
			return lp_cli_usage_error("login", lp_cli_login_help,
			                          "the token on stdin is too long");
		if (got == 0)
			return lp_cli_usage_error("login", lp_cli_login_help, "no token on stdin");
		token = stdin_token;
	}
	if (token == NULL || *token == '\0')
		return lp_cli_usage_error("login", lp_cli_login_help,
		                          "no token: pass --token TOKEN (or set LAUNCHPAD_TOKEN)");
	c.server = cfg->server;
	c.token = token;
	if (lp_cli_request(&r, &c, "GET", "/api/deployments", NULL, NULL, 0, &err) != LP_OK) {
		ex = lp_cli_fail("login", &err);
		goto done;
	}
	if (r.status != 200) {
		lp_cli_print_api_error("login", &r);
		fprintf(stderr, "launchpad login: nothing saved\n");
		goto done;
	}
	if ((path = lp_cli_config_path()) == NULL) {
		fprintf(stderr, "launchpad login: neither XDG_CONFIG_HOME nor HOME is set\n");
		goto done;
	}
	if (lp_cli_config_format(&text, cfg->server, token, &err) != LP_OK) {
		ex = lp_cli_fail("login", &err);
		goto done;
	}
	slash = strrchr(path, '/');
	*slash = '\0';
	if (lp_fs_mkdirs(path, 0700, &err) != LP_OK) {
		ex = lp_cli_fail("login", &err);
		goto done;
	}
	*slash = '/';
	if (lp_fs_write_atomic(path, text, strlen(text), 0600, &err) != LP_OK) {
		ex = lp_cli_fail("login", &err);
		goto done;
	}
	printf("Logged in to %s (%d sites); saved to %s\n", cfg->server, cJSON_GetArraySize(r.json),
	       path);
	ex = LP_EXIT_OK;
done:
	free(path);
	free(text);
	lp_cli_resp_release(&r);
	return ex;
}
