/* cmd_get.c: `launchpad get sites|site NAME`: a table, or the API's objects as JSON or YAML. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/cli_internal.h"
#include "launchpad/fmt.h"
#include "launchpad/spec.h"

#define REVISION_TEXT_MAX   48 /* "current->desired": two int64s */
#define GENERATION_TEXT_MAX 48 /* "observed/desired" */
#define GET_TABLE_MAX       ((size_t)64 << 20)
/* "URL#branch" at the spec's limits; the table cuts the cell to LP_CLI_CELL_MAX */
#define SOURCE_TEXT_MAX (LP_SITE_URL_MAX + LP_SITE_BRANCH_MAX + 8)

const char lp_cli_get_help[] =
    "usage: launchpad get sites [-o wide|json|yaml]\n"
    "       launchpad get site NAME [-o wide|json|yaml]\n"
    "\n"
    "List sites as a table: NAME, STATUS (the phase: pending, deploying, live, failed,\n"
    "deleting), REVISION (the one served; \"1->2\" while 2 rolls out), URL and AGE.\n"
    "-o wide adds SOURCE, GENERATION (observed/desired) and MESSAGE; -o json prints the API's\n"
    "objects as they are (an array for `get sites`); -o yaml the same data as YAML.\n"
    "\n"
    "  -o, --output FORMAT   wide, json or yaml\n"
    "  -h, --help            this help\n"
    "\n"
    "examples:\n"
    "  launchpad get sites\n"
    "  launchpad get site blog -o json\n"
    "\n"
    "Global flags: --server, --token, --log-level (see launchpad --help).\n"
    "exit codes: 0 ok, 1 failure (not found, server unreachable), 2 bad usage\n";

/* The text a row's cells point into (lp_cli_table_add copies it). */
struct site_text {
	char revision[REVISION_TEXT_MAX];
	char age[LP_CLI_AGE_MAX];
	char source[SOURCE_TEXT_MAX];
	char generation[GENERATION_TEXT_MAX];
};

static int source_of(char *out, size_t n, const cJSON *s)
{
	const char *url = lp_cli_str(s, "github_url", NULL);
	const char *digest = lp_cli_str(s, "archive_digest", NULL);

	if (url)
		return lp_fmt(out, n, "%s#%s", url, lp_cli_str(s, "branch", "main"));
	if (digest)
		return lp_fmt(out, n, "zip %.19s", digest);
	return lp_fmt(out, n, "-");
}

/* The 8 cells of site s (a narrow table prints the first 5). */
static int site_row(const char **row, struct site_text *tx, const cJSON *s, int64_t now)
{
	int64_t cur = lp_cli_num(s, "current_revision", 0);
	int64_t des = lp_cli_num(s, "desired_revision", 0);
	int64_t created = lp_cli_parse_time(lp_cli_str(s, "created_at", NULL));
	int rc;

	if (cur == des || des == 0)
		rc = lp_fmt(tx->revision, sizeof(tx->revision), "%lld", (long long)cur);
	else
		rc = lp_fmt(tx->revision, sizeof(tx->revision), "%lld->%lld", (long long)cur,
		            (long long)des);
	if (rc == LP_OK)
		rc = lp_cli_age(tx->age, sizeof(tx->age), created < 0 ? -1 : now - created);
	if (rc == LP_OK)
		rc = source_of(tx->source, sizeof(tx->source), s);
	if (rc == LP_OK)
		rc = lp_fmt(tx->generation, sizeof(tx->generation), "%lld/%lld",
		            (long long)lp_cli_num(s, "observed_generation", 0),
		            (long long)lp_cli_num(s, "generation", 0));
	row[0] = lp_cli_str(s, "slug", "?");
	row[1] = lp_cli_str(s, "phase", lp_cli_str(s, "status", "?"));
	row[2] = tx->revision;
	row[3] = lp_cli_str(s, "url", "");
	row[4] = tx->age;
	row[5] = tx->source;
	row[6] = tx->generation;
	row[7] = lp_cli_str(s, "message", "");
	return rc;
}

int lp_cli_sites_table(lp_buf *out, const cJSON *sites, int wide, int64_t now)
{
	static const char *const head[] = {"NAME", "STATUS", "REVISION",   "URL",
	                                   "AGE",  "SOURCE", "GENERATION", "MESSAGE"};
	const char *row[sizeof(head) / sizeof(head[0])];
	struct site_text tx;
	lp_cli_table t;
	const cJSON *s;
	int rc;

	lp_cli_table_init(&t, wide ? 8 : 5);
	rc = lp_cli_table_add(&t, head);
	cJSON_ArrayForEach(s, sites)
	{
		if (rc != LP_OK)
			break;
		if ((rc = site_row(row, &tx, s, now)) == LP_OK)
			rc = lp_cli_table_add(&t, row);
	}
	if (rc == LP_OK)
		rc = lp_cli_table_render(out, &t);
	lp_cli_table_release(&t);
	return rc;
}

int lp_cli_print_value(const cJSON *v, const char *format)
{
	lp_buf b;
	char *text;
	int rc = LP_OK;

	if (!strcmp(format, "json")) {
		if ((text = cJSON_Print(v)) == NULL)
			return LP_ENOMEM;
		printf("%s\n", text);
		free(text);
		return LP_OK;
	}
	lp_buf_init(&b, LP_CLI_RESP_MAX * 2);
	rc = lp_cli_json_to_yaml(&b, v);
	if (rc == LP_OK)
		fputs(lp_buf_cstr(&b), stdout);
	lp_buf_release(&b);
	return rc;
}

/* Print the table of sites; an empty list (`get sites`, not `get site NAME`) gets a hint. */
static int print_table(const cJSON *sites, int wide, int hint_when_empty)
{
	lp_buf b;
	int rc;

	lp_buf_init(&b, GET_TABLE_MAX);
	rc = lp_cli_sites_table(&b, sites, wide, (int64_t)time(NULL));
	if (rc != LP_OK)
		fprintf(stderr, "launchpad get: cannot print the table: %s\n", lp_strerror(rc));
	else if (hint_when_empty && cJSON_GetArraySize(sites) == 0)
		fprintf(stderr, "No sites yet: try `launchpad deploy ./folder` or "
		                "`launchpad apply -f site.yaml`.\n");
	else
		fputs(lp_buf_cstr(&b), stdout);
	lp_buf_release(&b);
	return rc;
}

int lp_cli_get(int argc, char **argv, const lp_config *cfg)
{
	lp_cli_opt opts[] = {{"output", 'o', 1, 0, NULL}, {"help", 'h', 0, 0, NULL}};
	const char *pos[LP_CLI_MAX_POS], *fmt = "table", *name = NULL;
	size_t npos = 0;
	int ex = LP_EXIT_FAILED;
	lp_cli_client c = lp_cli_client_of(cfg);
	lp_cli_resp r = {0};
	lp_error err = {0};
	cJSON *one = NULL, *list = NULL;

	if (!lp_cli_parse_or_help(&ex, pos, &npos, opts, 2, argc, argv, lp_cli_get_help))
		return ex;
	if (opts[0].given) {
		fmt = opts[0].value;
		if (strcmp(fmt, "wide") && strcmp(fmt, "json") && strcmp(fmt, "yaml"))
			return lp_cli_usage_error("get", lp_cli_get_help,
			                          "-o must be wide, json or yaml");
	}
	if (npos == 0)
		return lp_cli_usage_error("get", lp_cli_get_help,
		                          "what to get: sites, or site NAME");
	if (!strcmp(pos[0], "sites") || !strcmp(pos[0], "site") || !strcmp(pos[0], "deployments") ||
	    !strcmp(pos[0], "deployment")) {
		if (npos > 2)
			return lp_cli_usage_error("get", lp_cli_get_help, "one NAME at most");
		name = npos == 2 ? pos[1] : NULL;
	} else if (npos == 1) {
		name = pos[0]; /* `get NAME` */
	} else {
		return lp_cli_usage_error("get", lp_cli_get_help,
		                          "unknown resource (use sites or site NAME)");
	}
	if (name) {
		if (lp_cli_get_site(&one, cfg, "get", name) != LP_OK)
			goto done;
	} else {
		if (lp_cli_request(&r, &c, "GET", "/api/deployments", NULL, NULL, 0, &err) !=
		    LP_OK) {
			ex = lp_cli_fail("get", &err);
			goto done;
		}
		if (r.status != 200 || !cJSON_IsArray(r.json)) {
			lp_cli_print_api_error("get", &r);
			goto done;
		}
	}
	if (!strcmp(fmt, "json") || !strcmp(fmt, "yaml")) {
		ex = lp_cli_print_value(name ? one : r.json, fmt) == LP_OK ? LP_EXIT_OK
		                                                           : LP_EXIT_FAILED;
		goto done;
	}
	/* one site is a table of one row */
	if (name &&
	    ((list = cJSON_CreateArray()) == NULL || !cJSON_AddItemReferenceToArray(list, one))) {
		fprintf(stderr, "launchpad get: out of memory\n");
		goto done;
	}
	if (print_table(name ? list : r.json, !strcmp(fmt, "wide"), !name) == LP_OK)
		ex = LP_EXIT_OK;
done:
	cJSON_Delete(list);
	cJSON_Delete(one);
	lp_cli_resp_release(&r);
	return ex;
}
