/* cmd_describe.c: `launchpad describe site NAME`: spec, status, conditions, revisions, events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/cli_internal.h"
#include "launchpad/fmt.h"

#define DESCRIBE_EVENTS    10 /* the newest events shown */
#define DESCRIBE_REVISIONS 20 /* the newest revisions shown */
#define DESCRIBE_MAX_COLS  6
#define SOURCE_COLS        24 /* bytes of a revision's source shown */
#define REVISION_CELL_MAX  48 /* "12 * >": an int64 and the served/desired marks */
#define DURATION_CELL_MAX  32 /* "95s" */
#define DESCRIBE_TABLE_MAX ((size_t)8 << 20)
#define DESCRIBE_SPEC_MAX  ((size_t)4 << 20)

const char lp_cli_describe_help[] =
    "usage: launchpad describe site NAME [-o yaml|json]\n"
    "\n"
    "Show a site in detail: its spec, status and conditions, the revisions table (newest\n"
    "first; * marks the one served, > the desired one), the webhook URL, its custom domains\n"
    "with the CNAME target their DNS must name, and recent events.\n"
    "-o json or -o yaml prints the same as data: the API's deployment object with two more\n"
    "members, \"revisions\" (every one, newest first) and \"events\" (newest first).\n"
    "\n"
    "  -o, --output FORMAT   yaml or json\n"
    "  -h, --help            this help\n"
    "\n"
    "examples:\n"
    "  launchpad describe site blog\n"
    "  launchpad describe blog -o json\n"
    "\n"
    "Global flags: --server, --token, --log-level (see launchpad --help).\n"
    "exit codes: 0 ok, 1 failure (not found, server unreachable), 2 bad usage\n";

static int age_of(char *out, size_t n, const char *iso, int64_t now)
{
	int64_t t = lp_cli_parse_time(iso);

	return t < 0 ? lp_fmt(out, n, "-") : lp_cli_age(out, n, now - t);
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

/* Print text (whole lines) indented by two spaces. */
static void print_indented(const char *text)
{
	const char *p, *nl;

	for (p = text; *p && (nl = strchr(p, '\n')); p = nl + 1)
		printf("  %.*s\n", (int)(nl - p), p);
}

static int print_table(const lp_cli_table *t)
{
	lp_buf b;
	int rc;

	lp_buf_init(&b, DESCRIBE_TABLE_MAX);
	if ((rc = lp_cli_table_render(&b, t)) == LP_OK)
		print_indented(lp_buf_cstr(&b));
	lp_buf_release(&b);
	return rc;
}

/* The custom domains, and what their DNS must say (docs/domains.md). */
static void print_domains(const cJSON *site)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(site, "domains"), *d;
	const char *target = lp_cli_str(site, "cname_target", NULL);

	if (cJSON_GetArraySize(list) == 0) {
		printf("Domains:       <none>\n");
		return;
	}
	printf("Domains:       %d (each a DNS CNAME to %s)\n", cJSON_GetArraySize(list),
	       target ? target : "?");
	cJSON_ArrayForEach(d, list)
	{
		if (cJSON_IsString(d))
			printf("  %s  CNAME  %s\n", d->valuestring, target ? target : "?");
	}
}

/* Name, status, revisions and the spec as YAML: the part above the tables. */
static int print_overview(const cJSON *site, int64_t now)
{
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(site, "spec");
	char age[LP_CLI_AGE_MAX];
	lp_buf b;
	int rc;

	if ((rc = age_of(age, sizeof(age), lp_cli_str(site, "created_at", NULL), now)) != LP_OK)
		return rc;
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
	print_domains(site);
	printf("Spec:\n");
	if (!cJSON_IsObject(spec)) {
		printf("  <none>\n");
		return LP_OK;
	}
	lp_buf_init(&b, DESCRIBE_SPEC_MAX);
	if ((rc = lp_cli_json_to_yaml(&b, spec)) == LP_OK)
		print_indented(lp_buf_cstr(&b));
	lp_buf_release(&b);
	return rc;
}

/* ---- the tables ---- */

/* The text a row's cells point into (lp_cli_table_add copies it). */
struct row_text {
	char age[LP_CLI_AGE_MAX];
	char number[REVISION_CELL_MAX];
	char duration[DURATION_CELL_MAX];
	char source[SOURCE_COLS + 1];
};

/* Fill cells from one item of a list; LP_OK or why a cell could not be made. */
typedef int (*row_fn)(const char **cells, struct row_text *tx, const cJSON *v, int64_t now);

static int condition_row(const char **cells, struct row_text *tx, const cJSON *v, int64_t now)
{
	cells[0] = lp_cli_str(v, "type", "");
	cells[1] = lp_cli_str(v, "status", "");
	cells[2] = lp_cli_str(v, "reason", "");
	cells[3] = lp_cli_str(v, "message", "");
	return LP_OK;
}

static int revision_row(const char **cells, struct row_text *tx, const cJSON *v, int64_t now)
{
	const char *src = lp_cli_str(v, "resolved_source", ""), *duration = "-";
	int rc;

	rc = lp_fmt(tx->number, sizeof(tx->number), "%lld%s%s",
	            (long long)lp_cli_num(v, "revision", 0),
	            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "current")) ? " *" : "",
	            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "desired")) ? " >" : "");
	if (rc == LP_OK &&
	    cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(v, "duration_seconds"))) {
		rc = lp_fmt(tx->duration, sizeof(tx->duration), "%llds",
		            (long long)lp_cli_num(v, "duration_seconds", 0));
		duration = tx->duration;
	}
	if (*src == '\0')
		src = lp_cli_str(v, "source", "");
	/* cut on purpose: a whole Git URL or digest would widen every row */
	if (rc == LP_OK)
		rc = lp_fmt(tx->source, sizeof(tx->source), "%.*s", SOURCE_COLS, *src ? src : "-");
	if (rc == LP_OK)
		rc = age_of(tx->age, sizeof(tx->age), lp_cli_str(v, "created_at", NULL), now);
	cells[0] = tx->number;
	cells[1] = lp_cli_str(v, "state", "");
	cells[2] = lp_cli_str(v, "trigger", "");
	cells[3] = tx->source;
	cells[4] = tx->age;
	cells[5] = duration;
	return rc;
}

static int event_row(const char **cells, struct row_text *tx, const cJSON *v, int64_t now)
{
	cells[0] = tx->age;
	cells[1] = lp_cli_str(v, "type", "");
	cells[2] = lp_cli_str(v, "reason", "");
	cells[3] = lp_cli_str(v, "message", "");
	return age_of(tx->age, sizeof(tx->age), lp_cli_str(v, "time", NULL), now);
}

/* One of describe's tables: its title, header and rows, or a placeholder when it has none. */
struct section {
	const char *title;
	const char *none; /* printed instead of a table without rows */
	size_t max_rows;  /* 0: every item */
	row_fn row;
	size_t ncols;
	const char *head[DESCRIBE_MAX_COLS];
};

static const struct section sections[] = {
    {"Conditions", "<none yet>", 0, condition_row, 4, {"TYPE", "STATUS", "REASON", "MESSAGE"}},
    {"Revisions",
     "<none>",
     DESCRIBE_REVISIONS,
     revision_row,
     6,
     {"REVISION", "STATE", "TRIGGER", "SOURCE", "AGE", "DURATION"}},
    {"Events", "<none>", DESCRIBE_EVENTS, event_row, 4, {"AGE", "TYPE", "REASON", "MESSAGE"}},
};

static int print_section(const struct section *s, const cJSON *items, int64_t now)
{
	lp_cli_table t;
	struct row_text tx;
	const char *cells[DESCRIBE_MAX_COLS];
	const cJSON *v;
	size_t k = 0;
	int rc;

	printf("%s:\n", s->title);
	lp_cli_table_init(&t, s->ncols);
	rc = lp_cli_table_add(&t, s->head);
	cJSON_ArrayForEach(v, items)
	{
		if (rc != LP_OK || (s->max_rows && k++ == s->max_rows))
			break;
		if ((rc = s->row(cells, &tx, v, now)) == LP_OK)
			rc = lp_cli_table_add(&t, cells);
	}
	if (rc == LP_OK && t.nrows > 1)
		rc = print_table(&t);
	else if (rc == LP_OK)
		printf("  %s\n", s->none);
	lp_cli_table_release(&t);
	return rc;
}

/*
 * -o json|yaml: the deployment object with "revisions" and "events" added (each an array, empty
 * when it could not be read). It takes revs and events (into site).
 */
static int print_data(cJSON *site, cJSON *revs, cJSON *events, const char *format)
{
	int rc;

	if (revs == NULL)
		revs = cJSON_CreateArray();
	if (events == NULL)
		events = cJSON_CreateArray();
	cJSON_DeleteItemFromObjectCaseSensitive(site, "revisions");
	cJSON_DeleteItemFromObjectCaseSensitive(site, "events");
	if (!cJSON_AddItemToObject(site, "revisions", revs)) {
		cJSON_Delete(revs);
		cJSON_Delete(events);
		return LP_ENOMEM;
	}
	if (!cJSON_AddItemToObject(site, "events", events)) {
		cJSON_Delete(events);
		return LP_ENOMEM;
	}
	if ((rc = lp_cli_print_value(site, format)) != LP_OK)
		fprintf(stderr, "launchpad describe: cannot print it: %s\n", lp_strerror(rc));
	return rc;
}

int lp_cli_describe(int argc, char **argv, const lp_config *cfg)
{
	lp_cli_opt opts[] = {{"output", 'o', 1, 0, NULL}, {"help", 'h', 0, 0, NULL}};
	const char *pos[LP_CLI_MAX_POS], *name, *format = NULL;
	size_t npos = 0, i;
	int ex = LP_EXIT_FAILED, rc;
	int64_t now = (int64_t)time(NULL);
	cJSON *site = NULL, *revs = NULL, *events = NULL;

	if (!lp_cli_parse_or_help(&ex, pos, &npos, opts, 2, argc, argv, lp_cli_describe_help))
		return ex;
	if (opts[0].given) {
		format = opts[0].value;
		if (strcmp(format, "yaml") && strcmp(format, "json"))
			return lp_cli_usage_error("describe", lp_cli_describe_help,
			                          "-o must be yaml or json");
	}
	if (npos == 2 && (!strcmp(pos[0], "site") || !strcmp(pos[0], "sites")))
		name = pos[1];
	else if (npos == 1)
		name = pos[0];
	else
		return lp_cli_usage_error("describe", lp_cli_describe_help,
		                          "expected: describe site NAME");
	if (lp_cli_get_site(&site, cfg, "describe", name) != LP_OK)
		return LP_EXIT_FAILED;
	revs = get_list(cfg, name, "/revisions");
	events = get_list(cfg, name, "/events");
	if (format) {
		rc = print_data(site, revs, events, format);
		revs = events = NULL; /* site owns them now */
		cJSON_Delete(site);
		return rc == LP_OK ? LP_EXIT_OK : LP_EXIT_FAILED;
	}
	const cJSON *lists[] = {cJSON_GetObjectItemCaseSensitive(site, "conditions"), revs, events};
	_Static_assert(sizeof(lists) / sizeof(lists[0]) == sizeof(sections) / sizeof(sections[0]),
	               "one list per section");
	rc = print_overview(site, now);
	for (i = 0; i < sizeof(sections) / sizeof(sections[0]) && rc == LP_OK; i++)
		rc = print_section(&sections[i], lists[i], now);
	if (rc != LP_OK)
		fprintf(stderr, "launchpad describe: site/%s: %s\n", name, lp_strerror(rc));
	cJSON_Delete(site);
	cJSON_Delete(revs);
	cJSON_Delete(events);
	return rc == LP_OK ? LP_EXIT_OK : LP_EXIT_FAILED;
}
