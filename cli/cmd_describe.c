/* cmd_describe.c: `launchpad describe site NAME`: spec, status, conditions, revisions, events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/cli_internal.h"

#define DESCRIBE_EVENTS    10
#define DESCRIBE_REVISIONS 20

static const char help[] =
    "usage: launchpad describe site NAME\n"
    "\n"
    "Show a site in detail: its spec, status and conditions, the revisions table (newest\n"
    "first; * marks the one served, > the desired one), the webhook URL and recent events.\n"
    "\n"
    "  -h, --help   this help\n"
    "\n"
    "Global flags: --server, --token (see launchpad --help).\n"
    "exit codes: 0 ok, 1 failure (not found, server unreachable), 2 bad usage\n";

static void age_of(char *out, size_t n, const char *iso, int64_t now)
{
	int64_t t = lp_cli_parse_time(iso);

	if (t < 0)
		snprintf(out, n, "-");
	else
		lp_cli_age(out, n, now - t);
}

/* GET a list under the site ("/events"); NULL on any failure (describe shows what it can). */
static cJSON *get_list(const lp_config *cfg, const char *name, const char *tail)
{
	lp_cli_client c = lp_cli_client_of(cfg);
	lp_cli_resp r = {0};
	char path[LP_CLI_API_PATH_MAX];
	cJSON *out = NULL;

	if (lp_cli_site_path(path, sizeof(path), name, tail, NULL) == LP_OK &&
	    lp_cli_request(&r, &c, "GET", path, NULL, NULL, 0, NULL) == LP_OK && r.status == 200 &&
	    cJSON_IsArray(r.json)) {
		out = r.json;
		r.json = NULL;
	}
	lp_cli_resp_release(&r);
	return out;
}

static void print_table(lp_cli_table *t)
{
	lp_buf b;
	const char *p, *nl;

	lp_buf_init(&b, (size_t)8 << 20);
	if (lp_cli_table_render(&b, t) == LP_OK)
		for (p = lp_buf_cstr(&b); *p; p = nl + 1) {
			nl = strchr(p, '\n');
			printf("  %.*s\n", (int)(nl - p), p);
		}
	lp_buf_release(&b);
}

static void print_indented_yaml(const cJSON *v)
{
	lp_buf b;
	const char *p, *nl;

	lp_buf_init(&b, (size_t)4 << 20);
	if (lp_cli_json_to_yaml(&b, v) == LP_OK)
		for (p = lp_buf_cstr(&b); *p && (nl = strchr(p, '\n')); p = nl + 1)
			printf("  %.*s\n", (int)(nl - p), p);
	lp_buf_release(&b);
}

int lp_cli_describe(int argc, char **argv, const lp_config *cfg)
{
	lp_cli_opt opts[] = {{"help", 'h', 0, 0, NULL}};
	const char *pos[LP_CLI_MAX_POS], *name;
	size_t npos = 0, k;
	int ex = LP_EXIT_FAILED;
	int64_t now = (int64_t)time(NULL);
	cJSON *site = NULL, *revs = NULL, *events = NULL;
	const cJSON *v, *spec;
	char age[32], buf[128];
	lp_cli_table t;

	if (!lp_cli_parse_or_help(&ex, pos, &npos, opts, 1, argc, argv, help))
		return ex;
	if (npos == 2 && (!strcmp(pos[0], "site") || !strcmp(pos[0], "sites")))
		name = pos[1];
	else if (npos == 1)
		name = pos[0];
	else
		return lp_cli_usage_error("describe", help, "expected: describe site NAME");
	if (lp_cli_get_site(&site, cfg, "describe", name) != LP_OK)
		return LP_EXIT_FAILED;
	revs = get_list(cfg, name, "/revisions");
	events = get_list(cfg, name, "/events");

	age_of(age, sizeof(age), lp_cli_str(site, "created_at", NULL), now);
	printf("Name:          %s\n", lp_cli_str(site, "slug", "?"));
	printf("Display name:  %s\n", lp_cli_str(site, "name", ""));
	printf("ID:            %s\n", lp_cli_str(site, "id", ""));
	printf("URL:           %s\n", lp_cli_str(site, "url", ""));
	printf("Created:       %s (%s ago)\n", lp_cli_str(site, "created_at", "-"), age);
	if (lp_cli_str(site, "deletion_timestamp", NULL))
		printf("Deleting since: %s\n", lp_cli_str(site, "deletion_timestamp", ""));
	printf("Status:        %s (phase %s)\n", lp_cli_str(site, "status", "?"),
	       lp_cli_str(site, "phase", "?"));
	printf("Revision:      serving %lld, desired %lld\n",
	       (long long)lp_cli_num(site, "current_revision", 0),
	       (long long)lp_cli_num(site, "desired_revision", 0));
	printf("Generation:    %lld (observed %lld)\n",
	       (long long)lp_cli_num(site, "generation", 0),
	       (long long)lp_cli_num(site, "observed_generation", 0));
	if (lp_cli_str(site, "message", NULL) && *lp_cli_str(site, "message", ""))
		printf("Message:       %s\n", lp_cli_str(site, "message", ""));
	printf("Webhook URL:   %s\n", lp_cli_str(site, "webhook_url", ""));
	spec = cJSON_GetObjectItemCaseSensitive(site, "spec");
	printf("Spec:\n");
	if (cJSON_IsObject(spec))
		print_indented_yaml(spec);
	else
		printf("  <none>\n");

	printf("Conditions:\n");
	lp_cli_table_init(&t, 4);
	{
		const char *head[] = {"TYPE", "STATUS", "REASON", "MESSAGE"};
		lp_cli_table_add(&t, head);
	}
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(site, "conditions"))
	{
		const char *row[] = {lp_cli_str(v, "type", ""), lp_cli_str(v, "status", ""),
		                     lp_cli_str(v, "reason", ""), lp_cli_str(v, "message", "")};
		lp_cli_table_add(&t, row);
	}
	if (t.nrows > 1)
		print_table(&t);
	else
		printf("  <none yet>\n");
	lp_cli_table_release(&t);

	printf("Revisions:\n");
	lp_cli_table_init(&t, 6);
	{
		const char *head[] = {"REVISION", "STATE", "TRIGGER", "SOURCE", "AGE", "DURATION"};
		lp_cli_table_add(&t, head);
	}
	k = 0;
	cJSON_ArrayForEach(v, revs)
	{
		char num[48], dur[32];
		const cJSON *cur = cJSON_GetObjectItemCaseSensitive(v, "current");
		const cJSON *des = cJSON_GetObjectItemCaseSensitive(v, "desired");
		const char *src = lp_cli_str(v, "resolved_source", "");

		if (k++ == DESCRIBE_REVISIONS)
			break;
		snprintf(num, sizeof(num), "%lld%s%s", (long long)lp_cli_num(v, "revision", 0),
		         cJSON_IsTrue(cur) ? " *" : "", cJSON_IsTrue(des) ? " >" : "");
		age_of(age, sizeof(age), lp_cli_str(v, "created_at", NULL), now);
		if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(v, "duration_seconds")))
			snprintf(dur, sizeof(dur), "%llds",
			         (long long)lp_cli_num(v, "duration_seconds", 0));
		else
			snprintf(dur, sizeof(dur), "-");
		if (*src == '\0')
			src = lp_cli_str(v, "source", "");
		snprintf(buf, sizeof(buf), "%.24s", *src ? src : "-");
		const char *row[] = {
		    num, lp_cli_str(v, "state", ""), lp_cli_str(v, "trigger", ""), buf, age, dur};
		lp_cli_table_add(&t, row);
	}
	if (t.nrows > 1)
		print_table(&t);
	else
		printf("  <none>\n");
	lp_cli_table_release(&t);

	printf("Events:\n");
	lp_cli_table_init(&t, 4);
	{
		const char *head[] = {"AGE", "TYPE", "REASON", "MESSAGE"};
		lp_cli_table_add(&t, head);
	}
	k = 0;
	cJSON_ArrayForEach(v, events)
	{
		if (k++ == DESCRIBE_EVENTS)
			break;
		age_of(age, sizeof(age), lp_cli_str(v, "time", NULL), now);
		const char *row[] = {age, lp_cli_str(v, "type", ""), lp_cli_str(v, "reason", ""),
		                     lp_cli_str(v, "message", "")};
		lp_cli_table_add(&t, row);
	}
	if (t.nrows > 1)
		print_table(&t);
	else
		printf("  <none>\n");
	lp_cli_table_release(&t);
	ex = LP_EXIT_OK;
	cJSON_Delete(site);
	cJSON_Delete(revs);
	cJSON_Delete(events);
	return ex;
}
