/* cmd_user.c: `launchpad user create|list|delete`: the users of a server (admins only). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/cli_internal.h"
#include "launchpad/buf.h"
#include "launchpad/fmt.h"

#define USER_PASSWORD_MAX 1024 /* the server's limit (LP_PASSWORD_MAX) */
#define USER_BODY_MAX     (2 * USER_PASSWORD_MAX + 256)

const char lp_cli_user_help[] =
    "usage: launchpad user create NAME [--role admin|member] --password-stdin\n"
    "       launchpad user list\n"
    "       launchpad user delete NAME\n"
    "\n"
    "Manage the server's users (an admin's token is needed). A member sees and changes only\n"
    "the sites they created; an admin sees all. The password is read from the first line of\n"
    "stdin (8 to 1024 bytes), never from the command line, where other users could read it.\n"
    "A user who owns sites cannot be deleted: delete them or give them away first.\n"
    "\n"
    "      --role R           admin or member (default member)\n"
    "      --password-stdin   read the password from stdin (required for create)\n"
    "  -h, --help             this help\n"
    "\n"
    "examples:\n"
    "  launchpad user list\n"
    "  printf '%s\\n' \"$PW\" | launchpad user create alice --role member --password-stdin\n"
    "  launchpad user delete alice\n"
    "\n"
    "Global flags: --server, --token, --log-level (see launchpad --help).\n"
    "exit codes: 0 done, 1 the server refused or cannot be reached, 2 bad usage\n";

/* The first line of stdin into out (NUL-terminated): its length, or -1 when it is too long. */
static long read_line(char *out, size_t n)
{
	size_t len;
	int c;

	if (fgets(out, (int)n, stdin) == NULL)
		return 0;
	len = strcspn(out, "\r\n");
	if (out[len] == '\0' && len + 1 == n && (c = getc(stdin)) != EOF && c != '\n' && c != '\r')
		return -1;
	out[len] = '\0';
	return (long)len;
}

static int user_create(const lp_config *cfg, const char *name, const char *role)
{
	char password[USER_PASSWORD_MAX + 2];
	lp_cli_client c = lp_cli_client_of(cfg);
	lp_cli_resp r = {0};
	lp_error err = {0};
	cJSON *o = cJSON_CreateObject();
	char *body = NULL;
	long len = read_line(password, sizeof(password));
	int ex = LP_EXIT_FAILED;

	if (len < 0 || len == 0) {
		cJSON_Delete(o);
		return lp_cli_usage_error("user", lp_cli_user_help,
		                          len < 0 ? "the password on stdin is too long"
		                                  : "no password on stdin");
	}
	if (o == NULL || !cJSON_AddStringToObject(o, "username", name) ||
	    !cJSON_AddStringToObject(o, "password", password) ||
	    !cJSON_AddStringToObject(o, "role", role) ||
	    (body = cJSON_PrintUnformatted(o)) == NULL) {
		fprintf(stderr, "launchpad user: out of memory\n");
		goto done;
	}
	if (lp_cli_request(&r, &c, "POST", "/api/users", "application/json", body, strlen(body),
	                   &err) != LP_OK) {
		ex = lp_cli_fail("user", &err);
		goto done;
	}
	if (r.status == 201) {
		printf("user/%s created (%s)\n", name, lp_cli_str(r.json, "role", role));
		ex = LP_EXIT_OK;
	} else {
		lp_cli_print_api_error("user", &r);
	}
done:
	explicit_bzero(password, sizeof(password));
	if (body) {
		explicit_bzero(body, strlen(body));
		cJSON_free(body);
	}
	cJSON_Delete(o); /* holds the password too; freed memory is not cleansed by cJSON */
	lp_cli_resp_release(&r);
	return ex;
}

static int user_row(const char **row, char *scratch, size_t scratchlen, const cJSON *e)
{
	(void)scratch;
	(void)scratchlen;
	row[0] = lp_cli_str(e, "username", "?");
	row[1] = lp_cli_str(e, "role", "?");
	row[2] = lp_cli_str(e, "created_at", "-");
	return LP_OK;
}

static int user_list(const lp_config *cfg)
{
	static const char *const head[] = {"NAME", "ROLE", "CREATED"};

	return lp_cli_list_print(cfg, "user", "/api/users", head, 3, user_row);
}

static int user_delete(const lp_config *cfg, const char *name)
{
	lp_cli_client c = lp_cli_client_of(cfg);
	lp_cli_resp r = {0};
	lp_error err = {0};
	char path[LP_CLI_API_PATH_MAX];
	int ex = LP_EXIT_FAILED;

	/* user names are [a-z0-9._-]: nothing to escape, and anything else is refused */
	if (strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789._-") != strlen(name) ||
	    lp_fmt(path, sizeof(path), "/api/users/%s", name) != LP_OK)
		return lp_cli_usage_error("user", lp_cli_user_help,
		                          "a user name is 1 to 64 of a-z, 0-9, '.', '_', '-'");
	if (lp_cli_request(&r, &c, "DELETE", path, NULL, NULL, 0, &err) != LP_OK)
		return lp_cli_fail("user", &err);
	if (r.status == 200) {
		printf("user/%s deleted\n", name);
		ex = LP_EXIT_OK;
	} else {
		lp_cli_print_api_error("user", &r);
	}
	lp_cli_resp_release(&r);
	return ex;
}

int lp_cli_user(int argc, char **argv, const lp_config *cfg)
{
	lp_cli_opt opts[] = {
	    {"role", 0, 1, 0, NULL}, {"password-stdin", 0, 0, 0, NULL}, {"help", 'h', 0, 0, NULL}};
	const char *pos[LP_CLI_MAX_POS];
	size_t npos = 0;
	int ex = LP_EXIT_FAILED;

	if (!lp_cli_parse_or_help(&ex, pos, &npos, opts, 3, argc, argv, lp_cli_user_help))
		return ex;
	if (npos == 2 && !strcmp(pos[0], "create")) {
		const char *role = opts[0].given ? opts[0].value : "member";

		if (strcmp(role, "admin") && strcmp(role, "member"))
			return lp_cli_usage_error("user", lp_cli_user_help,
			                          "--role: expected admin or member");
		if (!opts[1].given)
			return lp_cli_usage_error("user", lp_cli_user_help,
			                          "create needs --password-stdin (the password is "
			                          "never an argument)");
		return user_create(cfg, pos[1], role);
	}
	if (opts[0].given || opts[1].given)
		return lp_cli_usage_error("user", lp_cli_user_help,
		                          "--role and --password-stdin go with create");
	if (npos == 1 && !strcmp(pos[0], "list"))
		return user_list(cfg);
	if (npos == 2 && !strcmp(pos[0], "delete"))
		return user_delete(cfg, pos[1]);
	return lp_cli_usage_error("user", lp_cli_user_help,
	                          "expected: user create NAME, user list or user delete NAME");
}
