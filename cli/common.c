/* common.c: what the CLI's commands share: the client, site lookups, flags and help. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/cli_internal.h"

lp_cli_client lp_cli_client_of(const lp_config *cfg)
{
	lp_cli_client c = {.server = cfg->server, .token = cfg->token};

	return c;
}

int lp_cli_fail(const char *cmd, const lp_error *err)
{
	fprintf(stderr, "launchpad %s: %s\n", cmd, err->message);
	return LP_EXIT_FAILED;
}

const char *lp_cli_str(const cJSON *o, const char *key, const char *def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : def;
}

int64_t lp_cli_num(const cJSON *o, const char *key, int64_t def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : def;
}

int lp_cli_get_site(cJSON **out, const lp_config *cfg, const char *cmd, const char *name)
{
	lp_cli_client c = lp_cli_client_of(cfg);
	lp_cli_resp r = {0};
	lp_error err = {0};
	char path[LP_CLI_API_PATH_MAX];
	int rc;

	*out = NULL;
	rc = lp_cli_site_path(path, sizeof(path), name, "", &err);
	if (rc == LP_OK)
		rc = lp_cli_request(&r, &c, "GET", path, NULL, NULL, 0, &err);
	if (rc != LP_OK) {
		lp_cli_fail(cmd, &err);
		goto done;
	}
	if (r.status != 200 || !cJSON_IsObject(r.json)) {
		lp_cli_print_api_error(cmd, &r);
		rc = r.status == 404 ? LP_ENOTFOUND : LP_EREMOTE;
		goto done;
	}
	*out = r.json;
	r.json = NULL;
done:
	lp_cli_resp_release(&r);
	return rc;
}

int lp_cli_parse_duration(const char *s)
{
	char *end;
	long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	v = strtol(s, &end, 10);
	if (v < 0 || v > 86400 * 7)
		return -1;
	if (!strcmp(end, "") || !strcmp(end, "s"))
		return (int)v;
	if (!strcmp(end, "m"))
		return (int)(v * 60);
	if (!strcmp(end, "h") && v <= 168)
		return (int)(v * 3600);
	return -1;
}

/* 1 when help names the flag "--lname" (not as the head of a longer one). */
static int help_names(const char *help, const char *lname)
{
	size_t len = strlen(lname);
	const char *p;

	for (p = help; (p = strstr(p, "--")) != NULL; p += 2)
		if (!strncmp(p + 2, lname, len) &&
		    !(p[2 + len] == '-' || isalnum((unsigned char)p[2 + len])))
			return 1;
	return 0;
}

/* A flag the parser takes but the help leaves out is a defect: say so where tests look. */
static void help_check(const char *cmd, const lp_cli_opt *opts, size_t nopts, const char *help)
{
	size_t i;

	for (i = 0; i < nopts; i++)
		if (!help_names(help, opts[i].lname))
			fprintf(stderr, "launchpad %s: the help does not list --%s\n", cmd,
			        opts[i].lname);
}

int lp_cli_parse_or_help(int *out_exit, const char **pos, size_t *npos, struct lp_cli_opt *opts,
                         size_t nopts, int argc, char **argv, const char *help)
{
	const char *cmd = argv[0];
	lp_error err = {0};
	lp_cli_opt *h;

	if (lp_cli_args_parse(pos, npos, opts, nopts, argc, argv, &err) != LP_OK) {
		fprintf(stderr, "launchpad %s: %s\n\n%s", cmd, err.message, help);
		*out_exit = LP_EXIT_USAGE;
		return 0;
	}
	h = lp_cli_opt_find(opts, nopts, "help");
	if (h && h->given) {
		fputs(help, stdout);
		help_check(cmd, opts, nopts, help);
		*out_exit = LP_EXIT_OK;
		return 0;
	}
	return 1;
}

/* A usage error: the problem, then the help, exit 2. */
int lp_cli_usage_error(const char *cmd, const char *help, const char *problem)
{
	fprintf(stderr, "launchpad %s: %s\n\n%s", cmd, problem, help);
	return LP_EXIT_USAGE;
}

int lp_cli_list_print(const lp_config *cfg, const char *cmd, const char *path,
                      const char *const *head, size_t ncols, lp_cli_row_fn row)
{
	lp_cli_client c = lp_cli_client_of(cfg);
	lp_cli_resp r = {0};
	lp_error err = {0};
	lp_cli_table t;
	lp_buf out;
	const cJSON *e;
	int ex = LP_EXIT_FAILED;

	if (ncols == 0 || ncols > LP_CLI_TABLE_COLS_MAX)
		return LP_EXIT_FAILED;
	if (lp_cli_request(&r, &c, "GET", path, NULL, NULL, 0, &err) != LP_OK)
		return lp_cli_fail(cmd, &err);
	if (r.status != 200 || !cJSON_IsArray(r.json)) {
		lp_cli_print_api_error(cmd, &r);
		lp_cli_resp_release(&r);
		return ex;
	}
	lp_cli_table_init(&t, ncols);
	lp_buf_init(&out, LP_BUF_DEFAULT_MAX);
	if (lp_cli_table_add(&t, head) != LP_OK)
		goto done;
	cJSON_ArrayForEach(e, r.json)
	{
		const char *cells[LP_CLI_TABLE_COLS_MAX] = {0};
		char scratch[LP_CLI_ROW_SCRATCH];

		if (row(cells, scratch, sizeof(scratch), e) != LP_OK ||
		    lp_cli_table_add(&t, cells) != LP_OK)
			goto done;
	}
	if (lp_cli_table_render(&out, &t) != LP_OK)
		goto done;
	fwrite(out.data, 1, out.len, stdout);
	ex = LP_EXIT_OK;
done:
	if (ex != LP_EXIT_OK)
		fprintf(stderr, "launchpad %s: out of memory\n", cmd);
	lp_cli_table_release(&t);
	lp_buf_release(&out);
	lp_cli_resp_release(&r);
	return ex;
}
