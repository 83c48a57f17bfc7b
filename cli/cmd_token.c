/* cmd_token.c: `launchpad token create|list|revoke`: the caller's personal API tokens. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/cli_internal.h"
#include "launchpad/buf.h"
#include "launchpad/fmt.h"

const char lp_cli_token_help[] =
    "usage: launchpad token create NAME\n"
    "       launchpad token list\n"
    "       launchpad token revoke ID\n"
    "\n"
    "Personal API tokens of the user you are logged in as: for CI and scripts, they do not\n"
    "expire (a login session does). create prints the token once, on stdout; only its hash is\n"
    "kept. list shows your tokens (an admin's: everyone's), never their secrets. revoke ends one\n"
    "(yours; an admin's: anyone's).\n"
    "\n"
    "  -h, --help   this help\n"
    "\n"
    "examples:\n"
    "  launchpad token create ci > ci.token\n"
    "  launchpad token list\n"
    "  launchpad token revoke 7\n"
    "\n"
    "Global flags: --server, --token, --log-level (see launchpad --help).\n"
    "exit codes: 0 done, 1 the server refused or cannot be reached, 2 bad usage\n";

static int token_create(const lp_config *cfg, const char *name)
{
	lp_cli_client c = lp_cli_client_of(cfg);
	lp_cli_resp r = {0};
	lp_error err = {0};
	cJSON *o = cJSON_CreateObject();
	char *body = NULL;
	int ex = LP_EXIT_FAILED;

	if (o == NULL || !cJSON_AddStringToObject(o, "name", name) ||
	    (body = cJSON_PrintUnformatted(o)) == NULL) {
		fprintf(stderr, "launchpad token: out of memory\n");
		goto done;
	}
	if (lp_cli_request(&r, &c, "POST", "/api/tokens", "application/json", body, strlen(body),
	                   &err) != LP_OK) {
		ex = lp_cli_fail("token", &err);
		goto done;
	}
	if (r.status == 201) {
		printf("%s\n", lp_cli_str(r.json, "token", ""));
		fprintf(stderr, "token %lld \"%s\" created; it is shown only once\n",
		        (long long)lp_cli_num(r.json, "id", 0), name);
		ex = LP_EXIT_OK;
	} else {
		lp_cli_print_api_error("token", &r);
	}
done:
	cJSON_free(body);
	cJSON_Delete(o);
	lp_cli_resp_release(&r);
	return ex;
}

static int token_row(const char **row, char *scratch, size_t scratchlen, const cJSON *e)
{
	row[0] = scratch;
	row[1] = lp_cli_str(e, "name", "?");
	row[2] = lp_cli_str(e, "created_at", "-");
	row[3] = lp_cli_str(e, "last_used_at", "-");
	return lp_fmt(scratch, scratchlen, "%lld", (long long)lp_cli_num(e, "id", 0));
}

static int token_list(const lp_config *cfg)
{
	static const char *const head[] = {"ID", "NAME", "CREATED", "LAST USED"};

	return lp_cli_list_print(cfg, "token", "/api/tokens", head, 4, token_row);
}

static int token_revoke(const lp_config *cfg, const char *id)
{
	lp_cli_client c = lp_cli_client_of(cfg);
	lp_cli_resp r = {0};
	lp_error err = {0};
	char path[LP_CLI_API_PATH_MAX];
	int ex = LP_EXIT_FAILED;

	if (id[0] == '\0' || strspn(id, "0123456789") != strlen(id) || strlen(id) > 18 ||
	    lp_fmt(path, sizeof(path), "/api/tokens/%s", id) != LP_OK)
		return lp_cli_usage_error("token", lp_cli_token_help,
		                          "a token id is a positive number (token list)");
	if (lp_cli_request(&r, &c, "DELETE", path, NULL, NULL, 0, &err) != LP_OK)
		return lp_cli_fail("token", &err);
	if (r.status == 200) {
		printf("token %s revoked\n", id);
		ex = LP_EXIT_OK;
	} else {
		lp_cli_print_api_error("token", &r);
	}
	lp_cli_resp_release(&r);
	return ex;
}

int lp_cli_token(int argc, char **argv, const lp_config *cfg)
{
	lp_cli_opt opts[] = {{"help", 'h', 0, 0, NULL}};
	const char *pos[LP_CLI_MAX_POS];
	size_t npos = 0;
	int ex = LP_EXIT_FAILED;

	if (!lp_cli_parse_or_help(&ex, pos, &npos, opts, 1, argc, argv, lp_cli_token_help))
		return ex;
	if (npos == 2 && !strcmp(pos[0], "create"))
		return token_create(cfg, pos[1]);
	if (npos == 1 && !strcmp(pos[0], "list"))
		return token_list(cfg);
	if (npos == 2 && !strcmp(pos[0], "revoke"))
		return token_revoke(cfg, pos[1]);
	return lp_cli_usage_error("token", lp_cli_token_help,
	                          "expected: token create NAME, token list or token revoke ID");
}
