/* cmd_get.c: `launchpad get sites|site NAME|revisions NAME`: tables, names, JSONPath, JSON and
 * manifests; -w re-prints what changes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/cli_internal.h"
#include "launchpad/fmt.h"
#include "launchpad/log.h"
#include "launchpad/spec.h"

#define REVISION_TEXT_MAX   48 /* "current->desired": two int64s */
#define GENERATION_TEXT_MAX 48 /* "observed/desired" */
#define NUMBER_TEXT_MAX     24 /* an int64 */
#define DURATION_TEXT_MAX   32 /* "95s" */
#define GET_TABLE_MAX       ((size_t)64 << 20)
#define GET_ROW_COLS        10
#define WATCH_POLL_MS       1000
#define SIG_SEP             "\x1f" /* between a row's cells in its signature */
/* "URL#branch" at the spec's limits; the table cuts the cell to LP_CLI_CELL_MAX */
#define SOURCE_TEXT_MAX (LP_SITE_URL_MAX + LP_SITE_BRANCH_MAX + 8)
#define SHORT_COMMIT    12  /* hex digits of a commit in the revisions table */
#define GET_PAGE_LIMIT  500 /* sites asked for per page */
#define GET_PAGES_MAX   200 /* pages read at most: 100,000 sites */
#define SHORT_DIGEST    19  /* "sha256:" and 12 hex digits */

const char lp_cli_get_help[] =
    "usage: launchpad get sites [-o FORMAT] [-w [--timeout D]]\n"
    "       launchpad get site NAME [-o FORMAT] [-w [--timeout D]]\n"
    "       launchpad get revisions NAME [-o FORMAT] [-w [--timeout D]]\n"
    "\n"
    "List sites as a table: NAME, STATUS (the phase: pending, deploying, live, failed,\n"
    "deleting), REVISION (the one served; \"1->2\" while 2 rolls out), URL and AGE; -o wide adds\n"
    "SOURCE, GENERATION (observed/desired) and MESSAGE. `get NAME` is `get site NAME`.\n"
    "`get revisions NAME` lists a site's revisions, newest first: REVISION, STATE, TRIGGER,\n"
    "SOURCE (commit or digest), AGE, CURRENT (served), DESIRED; -o wide adds DURATION, MESSAGE.\n"
    "\n"
    "Formats: -o json prints the API's objects as they are (an array for a list); -o yaml\n"
    "prints a site as the manifest `apply -f` takes back unchanged (apiVersion, kind,\n"
    "metadata.name, spec), a list as one YAML document per site (revisions: the API's objects\n"
    "as YAML); -o name prints site/NAME (revision/N) lines; -o jsonpath=TEMPLATE prints\n"
    "fields: literal text and {.field}, {.a.b}, {.items[*].field} (a list is {\"items\": [...]}),\n"
    "[N], {\"\\n\"} (nothing is added after the template: end it with {\"\\n\"} for a line).\n"
    "\n"
    "-w watches: the table (or the names, or one JSON object per line) once, then again each\n"
    "row whose content changed, asking every second, until Ctrl-C or --timeout. A site or\n"
    "revision that is gone is shown once more with the status \"gone\".\n"
    "\n"
    "  -o, --output FORMAT   wide, json, yaml, name or jsonpath=TEMPLATE\n"
    "  -w, --watch           keep printing what changes\n"
    "      --timeout D       how long -w watches: 600, 90s, 10m, 1h (default: until Ctrl-C)\n"
    "  -h, --help            this help\n"
    "\n"
    "examples:\n"
    "  launchpad get sites\n"
    "  launchpad get site blog -o yaml > blog.yaml && launchpad apply -f blog.yaml\n"
    "  launchpad get sites -o jsonpath='{.items[*].url}{\"\\n\"}'\n"
    "  launchpad get revisions blog -w\n"
    "\n"
    "Global flags: --server, --token, --log-level (see launchpad --help).\n"
    "exit codes: 0 ok (-w: also when --timeout ends it), 1 failure (not found, server\n"
    "unreachable), 2 bad usage\n";

/* The text a row's cells point into (lp_cli_table_add copies it). */
struct row_text {
	char revision[REVISION_TEXT_MAX];
	char age[LP_CLI_AGE_MAX];
	char source[SOURCE_TEXT_MAX];
	char generation[GENERATION_TEXT_MAX];
	char duration[DURATION_TEXT_MAX];
	char message[LP_CLI_CELL_MAX + 1];
};

/* ---- sites ---- */

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

/* The 9 cells of site s (a narrow table prints the first 6). */
static int site_row(const char **row, struct row_text *tx, const cJSON *s, int64_t now)
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
	/* a preview's owner (docs/previews.md); "-" for a site of its own */
	row[5] = lp_cli_str(s, "parent", "-");
	row[6] = tx->source;
	row[7] = tx->generation;
	row[8] = lp_cli_str(s, "message", "");
	return rc;
}

/* ---- revisions ---- */

static int hex_only(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strchr("0123456789abcdef", s[i]) || s[i] == '\0')
			return 0;
	return s[n] == '\0';
}

/* A revision's source as a column: a commit's first 12 digits, a digest's first 12. */
static int revision_source(char *out, size_t n, const cJSON *v)
{
	const char *src = lp_cli_str(v, "resolved_source", "");

	if (*src == '\0')
		src = lp_cli_str(v, "source", "");
	if (*src == '\0')
		return lp_fmt(out, n, "-");
	if (hex_only(src, 40))
		return lp_fmt(out, n, "%.*s", SHORT_COMMIT, src);
	if (!strncmp(src, "sha256:", 7))
		return lp_fmt(out, n, "%.*s", SHORT_DIGEST, src);
	return lp_fmt(out, n, "%s", src);
}

/* The 10 cells of revision v (a narrow table prints the first 7). */
static int revision_row(const char **row, struct row_text *tx, const cJSON *v, int64_t now)
{
	int64_t created = lp_cli_parse_time(lp_cli_str(v, "created_at", NULL));
	const char *msg = lp_cli_str(v, "message", "");
	int rc;

	rc = lp_fmt(tx->revision, sizeof(tx->revision), "%lld",
	            (long long)lp_cli_num(v, "revision", 0));
	if (rc == LP_OK)
		rc = revision_source(tx->source, sizeof(tx->source), v);
	if (rc == LP_OK)
		rc = lp_cli_age(tx->age, sizeof(tx->age), created < 0 ? -1 : now - created);
	if (rc == LP_OK && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(v, "duration_seconds")))
		rc = lp_fmt(tx->duration, sizeof(tx->duration), "%llds",
		            (long long)lp_cli_num(v, "duration_seconds", 0));
	else if (rc == LP_OK)
		rc = lp_fmt(tx->duration, sizeof(tx->duration), "-");
	/* the first line: a failure's message goes on with the build's last lines */
	snprintf(tx->message, sizeof(tx->message), "%.*s", (int)strcspn(msg, "\n"), msg);
	row[0] = tx->revision;
	row[1] = lp_cli_str(v, "state", "?");
	row[2] = lp_cli_str(v, "trigger", "");
	row[3] = tx->source;
	row[4] = tx->age;
	row[5] = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "current")) ? "true" : "false";
	row[6] = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "desired")) ? "true" : "false";
	row[7] = tx->duration;
	row[8] = tx->message;
	row[9] = lp_cli_str(v, "permalink", "-");
	return rc;
}

/* ---- what get lists ---- */

typedef int (*row_fn)(const char **row, struct row_text *tx, const cJSON *o, int64_t now);

struct kind {
	const char *name;    /* -o name's prefix */
	const char *key;     /* the member that tells items apart */
	const char *status;  /* the member a vanished item shows "gone" in */
	size_t ncols, nwide; /* columns of the table and of -o wide */
	size_t age_col;      /* AGE changes by itself: not a change */
	size_t status_width; /* the longest status the server has */
	const char *head[GET_ROW_COLS];
	row_fn row;
};

static const struct kind sites_kind = {
    "site",
    "slug",
    "phase",
    6,
    9,
    4,
    9,
    {"NAME", "STATUS", "REVISION", "URL", "AGE", "PARENT", "SOURCE", "GENERATION", "MESSAGE"},
    site_row};

static const struct kind revisions_kind = {"revision",
                                           "revision",
                                           "state",
                                           7,
                                           10,
                                           4,
                                           11,
                                           {"REVISION", "STATE", "TRIGGER", "SOURCE", "AGE",
                                            "CURRENT", "DESIRED", "DURATION", "MESSAGE",
                                            "PERMALINK"},
                                           revision_row};

/* The table of items; widths (may be NULL): at least these, and then the ones laid out. */
static int kind_table(lp_buf *out, const struct kind *k, const cJSON *items, int wide, int64_t now,
                      size_t *widths)
{
	const char *row[GET_ROW_COLS];
	struct row_text tx;
	lp_cli_table t;
	const cJSON *o;
	int rc;

	lp_cli_table_init(&t, wide ? k->nwide : k->ncols);
	if (widths)
		memcpy(t.min_width, widths, sizeof(t.min_width));
	rc = lp_cli_table_add(&t, k->head);
	cJSON_ArrayForEach(o, items)
	{
		if (rc != LP_OK)
			break;
		if ((rc = k->row(row, &tx, o, now)) == LP_OK)
			rc = lp_cli_table_add(&t, row);
	}
	if (rc == LP_OK)
		rc = lp_cli_table_render(out, &t);
	if (rc == LP_OK && widths)
		lp_cli_table_widths(&t, widths);
	lp_cli_table_release(&t);
	return rc;
}

int lp_cli_sites_table(lp_buf *out, const cJSON *sites, int wide, int64_t now)
{
	return kind_table(out, &sites_kind, sites, wide, now, NULL);
}

int lp_cli_revisions_table(lp_buf *out, const cJSON *revisions, int wide, int64_t now)
{
	return kind_table(out, &revisions_kind, revisions, wide, now, NULL);
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

int lp_cli_manifests_yaml(lp_buf *out, const cJSON *sites)
{
	const cJSON *s;
	cJSON *m;
	int rc = LP_OK, first = 1;

	cJSON_ArrayForEach(s, sites)
	{
		if ((rc = lp_cli_site_manifest(&m, s)) != LP_OK)
			return rc;
		if (!first)
			rc = lp_buf_puts(out, "---\n");
		first = 0;
		if (rc == LP_OK)
			rc = lp_cli_json_to_yaml(out, m);
		cJSON_Delete(m);
		if (rc != LP_OK)
			break;
	}
	return rc;
}

/* ---- one get ---- */

struct get {
	const struct kind *kind;
	const char *site; /* get site NAME, get revisions NAME; NULL: every site */
	int one;          /* get site NAME: an object, not a list */
	lp_cli_output out;
	const lp_config *cfg;
	/* -w: the table's columns so far (they only grow, so the lines printed stay aligned) */
	size_t widths[LP_CLI_TABLE_MAX_COLS];
};

/*
 * Every site, a page at a time (?limit=&continue=, so no answer holds them all): the items into
 * *out. A server without pages answers the whole array at once, taken as it is.
 */
static int fetch_pages(cJSON **out, lp_cli_resp *r, const lp_cli_client *c, lp_error *err)
{
	char path[LP_CLI_API_PATH_MAX], token[LP_CLI_API_PATH_MAX] = "";
	cJSON *all = cJSON_CreateArray();
	int page, rc = LP_OK;

	*out = NULL;
	if (all == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	for (page = 0; page < GET_PAGES_MAX; page++) {
		cJSON *items, *item;
		const cJSON *next;

		if ((rc = lp_fmt(path, sizeof(path), "/api/deployments?limit=%d%s%s",
		                 GET_PAGE_LIMIT, *token ? "&continue=" : "", token)) != LP_OK) {
			rc = lp_error_set(err, LP_ETOOBIG, "the continue token is too long");
			break;
		}
		lp_cli_resp_release(r);
		memset(r, 0, sizeof(*r));
		if ((rc = lp_cli_request(r, c, "GET", path, NULL, NULL, 0, err)) != LP_OK ||
		    r->status != 200)
			break;
		if (cJSON_IsArray(r->json)) { /* no pages: the whole list */
			cJSON_Delete(all);
			*out = r->json;
			r->json = NULL;
			return LP_OK;
		}
		items = cJSON_DetachItemFromObjectCaseSensitive(r->json, "items");
		if (!cJSON_IsArray(items)) {
			cJSON_Delete(items);
			break; /* the caller says what came instead */
		}
		while ((item = cJSON_DetachItemFromArray(items, 0)) != NULL)
			cJSON_AddItemToArray(all, item);
		cJSON_Delete(items);
		next = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(r->json, "metadata"), "continue");
		if (!cJSON_IsString(next) || !*next->valuestring) {
			*out = all;
			return LP_OK;
		}
		if (lp_fmt(token, sizeof(token), "%s", next->valuestring) != LP_OK) {
			rc = lp_error_set(err, LP_ETOOBIG, "the continue token is too long");
			break;
		}
	}
	if (rc == LP_OK && page == GET_PAGES_MAX)
		rc = lp_error_set(err, LP_ETOOBIG, "more than %d pages of sites", GET_PAGES_MAX);
	cJSON_Delete(all);
	return rc;
}

/*
 * What get lists, as an array (*out, the caller's): the sites, the one site, or its revisions.
 * LP_ENOTFOUND when the site is not there (said unless quiet: a watch says "gone" instead);
 * other failures are printed.
 */
static int fetch(cJSON **out, const struct get *g, int quiet)
{
	lp_cli_client c = lp_cli_client_of(g->cfg);
	lp_cli_resp r = {0};
	lp_error err = {0};
	char path[LP_CLI_API_PATH_MAX] = "/api/deployments";
	int rc = LP_OK;

	*out = NULL;
	if (!g->site) {
		rc = fetch_pages(out, &r, &c, &err);
		if (rc == LP_OK && *out != NULL)
			goto done;
	} else {
		rc = lp_cli_site_path(path, sizeof(path), g->site,
		                      g->kind == &revisions_kind ? "/revisions" : "", &err);
		if (rc == LP_OK)
			rc = lp_cli_request(&r, &c, "GET", path, NULL, NULL, 0, &err);
	}
	if (rc != LP_OK) {
		lp_cli_fail("get", &err);
		goto done;
	}
	if (r.status == 404 && !strcmp(lp_cli_error_code(&r), "not_found")) {
		if (!quiet)
			lp_cli_print_api_error("get", &r);
		rc = LP_ENOTFOUND;
		goto done;
	}
	if (r.status != 200 || !(g->one ? cJSON_IsObject(r.json) : cJSON_IsArray(r.json))) {
		lp_cli_print_api_error("get", &r);
		rc = LP_EREMOTE;
		goto done;
	}
	if (g->one) {
		if ((*out = cJSON_CreateArray()) == NULL) {
			rc = LP_ENOMEM;
			goto done;
		}
		cJSON_AddItemToArray(*out, r.json);
	} else {
		*out = r.json;
	}
	r.json = NULL;
done:
	lp_cli_resp_release(&r);
	return rc;
}

/* Print one item in a line-per-item format (name, json, jsonpath). */
static int print_item(const struct get *g, const cJSON *o, int pretty)
{
	lp_buf b;
	lp_error err = {0};
	char *text;
	int rc;

	switch (g->out.format) {
	case LP_CLI_FORMAT_NAME:
		if (g->kind == &revisions_kind)
			printf("%s/%lld\n", g->kind->name, (long long)lp_cli_num(o, "revision", 0));
		else
			printf("%s/%s\n", g->kind->name, lp_cli_str(o, "slug", "?"));
		return LP_OK;
	case LP_CLI_FORMAT_JSON:
		if ((text = pretty ? cJSON_Print(o) : cJSON_PrintUnformatted(o)) == NULL)
			return LP_ENOMEM;
		printf("%s\n", text);
		free(text);
		return LP_OK;
	default:
		lp_buf_init(&b, LP_CLI_RESP_MAX * 2);
		rc = lp_cli_jsonpath(&b, g->out.tmpl, o, &err);
		if (rc == LP_OK)
			fputs(lp_buf_cstr(&b), stdout);
		else
			fprintf(stderr, "launchpad get: %s\n", err.message);
		lp_buf_release(&b);
		return rc;
	}
}

/* Print what one fetch got, in the chosen format (the first screen of a watch too). */
static int print_all(struct get *g, const cJSON *items, int watching)
{
	const cJSON *o, *one = cJSON_GetArrayItem(items, 0);
	cJSON *wrap = NULL;
	lp_buf b;
	lp_error err = {0};
	int rc = LP_OK;

	lp_buf_init(&b, GET_TABLE_MAX);
	switch (g->out.format) {
	case LP_CLI_FORMAT_TABLE:
	case LP_CLI_FORMAT_WIDE:
		rc = kind_table(&b, g->kind, items, g->out.format == LP_CLI_FORMAT_WIDE,
		                (int64_t)time(NULL), watching ? g->widths : NULL);
		if (rc == LP_OK && g->kind == &sites_kind && !g->site &&
		    cJSON_GetArraySize(items) == 0 && !watching)
			fprintf(stderr, "No sites yet: try `launchpad deploy ./folder` or "
			                "`launchpad apply -f site.yaml`.\n");
		else if (rc == LP_OK)
			fputs(lp_buf_cstr(&b), stdout);
		break;
	case LP_CLI_FORMAT_YAML:
		if (g->kind == &sites_kind)
			rc = lp_cli_manifests_yaml(&b, items);
		else
			rc = lp_cli_json_to_yaml(&b, items);
		if (rc == LP_OK)
			fputs(lp_buf_cstr(&b), stdout);
		break;
	case LP_CLI_FORMAT_JSON:
	case LP_CLI_FORMAT_NAME:
		/* a watch prints one JSON object per line, then one per change */
		if (g->out.format == LP_CLI_FORMAT_JSON && !watching) {
			rc = lp_cli_print_value(g->one ? one : items, "json");
			break;
		}
		cJSON_ArrayForEach(o, items)
		{
			if ((rc = print_item(g, o, 0)) != LP_OK)
				break;
		}
		break;
	case LP_CLI_FORMAT_JSONPATH:
		if (g->one || watching) {
			cJSON_ArrayForEach(o, items)
			{
				if ((rc = print_item(g, o, 0)) != LP_OK)
					break;
			}
			break;
		}
		/* a list is kubectl's: {"items": [...]} */
		if ((wrap = cJSON_CreateObject()) == NULL ||
		    !cJSON_AddItemReferenceToObject(wrap, "items", (cJSON *)items)) {
			rc = LP_ENOMEM;
			break;
		}
		if ((rc = lp_cli_jsonpath(&b, g->out.tmpl, wrap, &err)) == LP_OK)
			fputs(lp_buf_cstr(&b), stdout);
		else
			fprintf(stderr, "launchpad get: %s\n", err.message);
		break;
	}
	if (rc != LP_OK && rc != LP_EINVAL)
		fprintf(stderr, "launchpad get: cannot print it: %s\n", lp_strerror(rc));
	fflush(stdout);
	cJSON_Delete(wrap);
	lp_buf_release(&b);
	return rc;
}

/* ---- -w ---- */

/* What a row shows, AGE left out: two looks that differ here are a change. */
static char *signature(const struct kind *k, const cJSON *o)
{
	const char *row[GET_ROW_COLS];
	struct row_text tx;
	lp_buf b;
	size_t i;

	lp_buf_init(&b, (size_t)GET_ROW_COLS * (LP_CLI_CELL_MAX + 1) * 4);
	/* the cells that could not be made still make a signature: they change when it does */
	if (k->row(row, &tx, o, 0) != LP_OK)
		LP_DEBUG("cli", "get -w: a row with a cell cut");
	for (i = 0; i < k->nwide; i++)
		if (i != k->age_col && (lp_buf_puts(&b, row[i] ? row[i] : "") != LP_OK ||
		                        lp_buf_puts(&b, SIG_SEP) != LP_OK))
			break;
	return lp_buf_detach(&b);
}

/* The item of items whose key is the key of o, or NULL. */
static const cJSON *find_same(const struct kind *k, const cJSON *items, const cJSON *o)
{
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(o, k->key), *v;

	cJSON_ArrayForEach(v, items)
	{
		const cJSON *vk = cJSON_GetObjectItemCaseSensitive(v, k->key);

		if (cJSON_Compare(vk, key, 1))
			return v;
	}
	return NULL;
}

/*
 * Print what changed from prev to now: new items, changed rows, and items gone (shown with the
 * status "gone"). A table's lines are cut from a table of them all, so the columns line up.
 */
static int print_changes(struct get *g, const cJSON *prev, const cJSON *now)
{
	cJSON *show = cJSON_CreateArray(), *all = cJSON_CreateArray(), *gone;
	const cJSON *o, *old;
	char *a, *b;
	lp_buf text;
	int rc = LP_OK, *changed = NULL;
	size_t n = 0, i;
	const char *line, *nl;

	lp_buf_init(&text, GET_TABLE_MAX);
	if (show == NULL || all == NULL)
		goto oom;
	cJSON_ArrayForEach(o, now)
	{
		old = find_same(g->kind, prev, o);
		a = old ? signature(g->kind, old) : NULL;
		b = signature(g->kind, o);
		if (a == NULL || b == NULL || strcmp(a, b))
			cJSON_AddItemReferenceToArray(show, (cJSON *)o);
		free(a);
		free(b);
	}
	cJSON_ArrayForEach(o, prev)
	{
		if (find_same(g->kind, now, o))
			continue;
		if ((gone = cJSON_Duplicate(o, 1)) == NULL)
			goto oom;
		cJSON_DeleteItemFromObjectCaseSensitive(gone, g->kind->status);
		cJSON_AddStringToObject(gone, g->kind->status, "gone");
		cJSON_AddItemToArray(show, gone);
	}
	if (cJSON_GetArraySize(show) == 0)
		goto done;
	if (g->out.format != LP_CLI_FORMAT_TABLE && g->out.format != LP_CLI_FORMAT_WIDE) {
		cJSON_ArrayForEach(o, show)
		{
			if ((rc = print_item(g, o, 0)) != LP_OK)
				break;
		}
		goto done;
	}
	/* the whole table (what is and what went), and the lines of what changed */
	n = (size_t)cJSON_GetArraySize(now);
	if ((changed = calloc(n + (size_t)cJSON_GetArraySize(show) + 1, sizeof(int))) == NULL)
		goto oom;
	i = 0;
	cJSON_ArrayForEach(o, now)
	{
		changed[i++] = find_same(g->kind, show, o) != NULL;
		cJSON_AddItemReferenceToArray(all, (cJSON *)o);
	}
	cJSON_ArrayForEach(o, show)
	{
		if (!find_same(g->kind, now, o)) {
			changed[i++] = 1;
			cJSON_AddItemReferenceToArray(all, (cJSON *)o);
		}
	}
	rc = kind_table(&text, g->kind, all, g->out.format == LP_CLI_FORMAT_WIDE,
	                (int64_t)time(NULL), g->widths);
	/* line 0 is the header */
	for (line = lp_buf_cstr(&text), i = 0; rc == LP_OK && (nl = strchr(line, '\n'));
	     line = nl + 1, i++)
		if (i > 0 && changed[i - 1])
			printf("%.*s\n", (int)(nl - line), line);
	goto done;
oom:
	rc = LP_ENOMEM;
done:
	fflush(stdout);
	free(changed);
	cJSON_Delete(all);
	cJSON_Delete(show);
	lp_buf_release(&text);
	return rc;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* -w: the first screen, then what changes, until the deadline (timeout_s 0: none). */
static int watch(struct get *g, int timeout_s)
{
	int64_t deadline = timeout_s ? now_ms() + (int64_t)timeout_s * 1000 : 0;
	cJSON *prev = NULL, *now = NULL;
	int rc;

	/* room for the longest status from the start: "deploying", "interrupted" */
	g->widths[1] = g->kind->status_width;
	if ((rc = fetch(&prev, g, 0)) != LP_OK || (rc = print_all(g, prev, 1)) != LP_OK)
		goto done;
	while (!deadline || now_ms() < deadline) {
		usleep(WATCH_POLL_MS * 1000);
		rc = fetch(&now, g, 1);
		/* the one site (or the site of the revisions) is gone: say so and end */
		if (rc == LP_ENOTFOUND && (now = cJSON_CreateArray()) != NULL) {
			rc = print_changes(g, prev, now);
			break;
		}
		if (rc != LP_OK || (rc = print_changes(g, prev, now)) != LP_OK)
			break;
		cJSON_Delete(prev);
		prev = now;
		now = NULL;
	}
done:
	cJSON_Delete(prev);
	cJSON_Delete(now);
	return rc == LP_OK ? LP_EXIT_OK : LP_EXIT_FAILED;
}

int lp_cli_get(int argc, char **argv, const lp_config *cfg)
{
	enum { OPT_OUTPUT, OPT_WATCH, OPT_TIMEOUT, OPT_HELP, NOPTS };
	lp_cli_opt opts[NOPTS] = {[OPT_OUTPUT] = {"output", 'o', 1, 0, NULL},
	                          [OPT_WATCH] = {"watch", 'w', 0, 0, NULL},
	                          [OPT_TIMEOUT] = {"timeout", 0, 1, 0, NULL},
	                          [OPT_HELP] = {"help", 'h', 0, 0, NULL}};
	const char *pos[LP_CLI_MAX_POS], *what;
	struct get g = {.kind = &sites_kind, .cfg = cfg};
	size_t npos = 0;
	int ex = LP_EXIT_FAILED, timeout = 0;
	lp_error err = {0};
	cJSON *items = NULL;

	if (!lp_cli_parse_or_help(&ex, pos, &npos, opts, NOPTS, argc, argv, lp_cli_get_help))
		return ex;
	if (opts[OPT_OUTPUT].given &&
	    lp_cli_output_parse(&g.out, opts[OPT_OUTPUT].value, &err) != LP_OK) {
		lp_cli_output_error("get", &g.out, &err);
		return LP_EXIT_USAGE;
	}
	if (npos == 0)
		return lp_cli_usage_error("get", lp_cli_get_help,
		                          "what to get: sites, site NAME or revisions NAME");
	what = pos[0];
	if (!strcmp(what, "revisions") || !strcmp(what, "revision")) {
		if (npos != 2)
			return lp_cli_usage_error("get", lp_cli_get_help,
			                          "expected: get revisions NAME");
		g.kind = &revisions_kind;
		g.site = pos[1];
	} else if (!strcmp(what, "sites") || !strcmp(what, "site") ||
	           !strcmp(what, "deployments") || !strcmp(what, "deployment")) {
		if (npos > 2)
			return lp_cli_usage_error("get", lp_cli_get_help, "one NAME at most");
		g.site = npos == 2 ? pos[1] : NULL;
	} else if (npos == 1) {
		g.site = what; /* `get NAME` */
	} else {
		return lp_cli_usage_error(
		    "get", lp_cli_get_help,
		    "unknown resource (use sites, site NAME or revisions NAME)");
	}
	g.one = g.kind == &sites_kind && g.site != NULL;
	if (opts[OPT_TIMEOUT].given &&
	    (!opts[OPT_WATCH].given ||
	     (timeout = lp_cli_parse_duration(opts[OPT_TIMEOUT].value)) <= 0))
		return lp_cli_usage_error("get", lp_cli_get_help,
		                          "--timeout goes with -w: 600, 90s, 10m or 1h");
	if (opts[OPT_WATCH].given && g.out.format == LP_CLI_FORMAT_YAML)
		return lp_cli_usage_error("get", lp_cli_get_help,
		                          "-w prints tables, names, JSON or JSONPath, not YAML");
	if (opts[OPT_WATCH].given)
		return watch(&g, timeout);
	if (fetch(&items, &g, 0) == LP_OK && print_all(&g, items, 0) == LP_OK)
		ex = LP_EXIT_OK;
	cJSON_Delete(items);
	return ex;
}
