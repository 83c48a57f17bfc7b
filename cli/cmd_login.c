/* cmd_login.c: `launchpad login`: check a token against the server, then save both (mode 0600).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/cli_internal.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"

#define LOGIN_PASSWORD_MAX 1026 /* the server's 1024 bytes, the line end and the NUL */

const char lp_cli_login_help[] =
    "usage: launchpad login [--server URL] [--token TOKEN|-]\n"
    "       launchpad login [--server URL] --username NAME --password-stdin\n"
    "\n"
    "With --username, log in with a password (read from stdin) and save the session token the\n"
    "server gives (it expires: --session-ttl on the server, 12 h by default).\n"
    "Check the token against the server (GET /api/deployments must answer 200), then save the\n"
    "server URL and token in $XDG_CONFIG_HOME/launchpad/config (default\n"
    "~/.config/launchpad/config; mode 0600, written atomically). Later commands read it;\n"
    "--server/--token and LAUNCHPAD_SERVER/LAUNCHPAD_TOKEN still win over the file.\n"
    "The admin token of a new install is in <data-dir>/admin.token.\n"
    "\n"
    "      --server URL    the server to save (a global flag; default http://127.0.0.1:8080)\n"
    "      --token T|-     the token to check and save; - reads it from stdin (keeps it out of\n"
    "                      the shell history)\n"
    "      --username U    log in as user U (POST /api/login) instead of giving a token\n"
    "      --password-stdin  read U's password from the first line of stdin\n"
    "  -h, --help          this help\n"
    "\n"
    "examples:\n"
    "  launchpad login --server http://127.0.0.1:8080 --token lp_0123abcd\n"
    "  sudo cat /srv/launchpad/admin.token | launchpad login --token -\n"
    "  printf '%s\\n' \"$PW\" | launchpad login --username alice --password-stdin\n"
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

/* POST /api/login as user with the password on stdin: the session token into out. */
static int password_login(char *out, size_t n, const lp_config *cfg, const char *user)
{
	char password[LOGIN_PASSWORD_MAX];
	lp_cli_client c = {.server = cfg->server, .token = NULL};
	lp_cli_resp r = {0};
	lp_error err = {0};
	cJSON *o = cJSON_CreateObject();
	char *body = NULL;
	int got = read_token(password, sizeof(password)), ex = LP_EXIT_FAILED;

	if (got <= 0) {
		cJSON_Delete(o);
		return lp_cli_usage_error("login", lp_cli_login_help,
		                          got < 0 ? "the password on stdin is too long"
		                                  : "no password on stdin");
	}
	if (o == NULL || !cJSON_AddStringToObject(o, "username", user) ||
	    !cJSON_AddStringToObject(o, "password", password) ||
	    (body = cJSON_PrintUnformatted(o)) == NULL) {
		fprintf(stderr, "launchpad login: out of memory\n");
		goto done;
	}
	if (lp_cli_request(&r, &c, "POST", "/api/login", "application/json", body, strlen(body),
	                   &err) != LP_OK) {
		ex = lp_cli_fail("login", &err);
		goto done;
	}
	if (r.status != 200 || lp_fmt(out, n, "%s", lp_cli_str(r.json, "token", "")) != LP_OK ||
	    out[0] == '\0') {
		lp_cli_print_api_error("login", &r);
		fprintf(stderr, "launchpad login: nothing saved\n");
		goto done;
	}
	ex = LP_EXIT_OK;
done:
	explicit_bzero(password, sizeof(password));
	if (body) {
		explicit_bzero(body, strlen(body));
		cJSON_free(body);
	}
	cJSON_Delete(o);
	lp_cli_resp_release(&r);
	return ex;
}

int lp_cli_login(int argc, char **argv, const lp_config *cfg)
{
	lp_cli_opt opts[] = {{"help", 'h', 0, 0, NULL},
	                     {"username", 0, 1, 0, NULL},
	                     {"password-stdin", 0, 0, 0, NULL}};
	const char *pos[LP_CLI_MAX_POS], *token = cfg->token;
	size_t npos = 0;
	int ex = LP_EXIT_FAILED;
	lp_cli_client c;
	lp_cli_resp r = {0};
	lp_error err = {0};
	char *path = NULL, *text = NULL, *slash, stdin_token[LP_CLI_TOKEN_MAX];
	int got;

	if (!lp_cli_parse_or_help(&ex, pos, &npos, opts, 3, argc, argv, lp_cli_login_help))
		return ex;
	if (npos)
		return lp_cli_usage_error("login", lp_cli_login_help, "unexpected argument");
	if (opts[1].given != opts[2].given)
		return lp_cli_usage_error("login", lp_cli_login_help,
		                          "--username and --password-stdin go together");
	if (opts[1].given) {
		if ((ex = password_login(stdin_token, sizeof(stdin_token), cfg, opts[1].value)) !=
		    LP_EXIT_OK)
			return ex;
		ex = LP_EXIT_FAILED;
		token = stdin_token;
	} else if (token && !strcmp(token, "-")) {
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
