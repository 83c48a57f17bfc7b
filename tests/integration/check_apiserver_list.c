/*
 * check_apiserver_list.c: GET /api/deployments over real HTTP: the seed's array, streamed, is
 * byte for byte what the seed's cJSON builder printed (kept below as the reference, from the
 * store's rows); GET one is the same object; pages (?limit=&continue=) walk the same order,
 * never repeat or skip a site, count what follows, and refuse bad arguments with 400.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "launchpad/buf.h"
#include "launchpad/crypto.h"
#include "launchpad/store.h"
#include "tests/lib/api_server.h"
#include "tests/lib/testutil.h"

#define NSITES 70 /* more than two of the server's batches (32) */

/* ---- the reference: the seed-compatible object as the cJSON builder made it ---- */

static const char *effective_phase(const lp_store_site *site, const lp_store_status *stt)
{
	if (site->deletion_timestamp)
		return "deleting";
	if (stt == NULL)
		return "pending";
	if (stt->phase == LP_PHASE_LIVE && (stt->observed_generation < site->generation ||
	                                    stt->current_revision != site->desired_revision))
		return "deploying";
	if (stt->phase == LP_PHASE_FAILED && stt->observed_generation < site->generation)
		return "deploying";
	return lp_store_phase_name(stt->phase);
}

static const char *seed_status(const char *phase)
{
	if (!strcmp(phase, "live"))
		return "live";
	if (!strcmp(phase, "failed"))
		return "failed";
	return "deploying";
}

static void add_str_or_null(cJSON *o, const char *key, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

static const cJSON *dig(const cJSON *o, ...)
{
	va_list ap;
	const char *key;

	va_start(ap, o);
	while (o && (key = va_arg(ap, const char *)) != NULL)
		o = cJSON_GetObjectItemCaseSensitive(o, key);
	va_end(ap);
	return o;
}

static const char *dig_str(const cJSON *o)
{
	return cJSON_IsString(o) ? o->valuestring : NULL;
}

static void add_seed_fields(cJSON *o, const cJSON *doc)
{
	const cJSON *spec = dig(doc, "spec", NULL), *build = dig(spec, "build", NULL), *e;
	const char *git_url = dig_str(dig(spec, "source", "git", "url", NULL));
	cJSON *env;

	cJSON_AddStringToObject(o, "source_type", git_url ? "github" : "zip");
	add_str_or_null(o, "github_url", git_url);
	add_str_or_null(o, "branch",
	                git_url ? dig_str(dig(spec, "source", "git", "branch", NULL)) : NULL);
	add_str_or_null(o, "archive_digest",
	                dig_str(dig(spec, "source", "archive", "digest", NULL)));
	cJSON_AddStringToObject(o, "build_cmd",
	                        build && dig_str(dig(build, "command", NULL))
	                            ? dig_str(dig(build, "command", NULL))
	                            : "");
	cJSON_AddStringToObject(o, "output_dir",
	                        build && dig_str(dig(build, "outputDir", NULL))
	                            ? dig_str(dig(build, "outputDir", NULL))
	                            : ".");
	env = cJSON_AddObjectToObject(o, "env_vars");
	cJSON_ArrayForEach(e, dig(build, "env", NULL))
	{
		if (env && cJSON_IsString(e))
			cJSON_AddStringToObject(env, e->string, e->valuestring);
	}
	cJSON_AddBoolToObject(o, "auto_deploy", cJSON_IsTrue(dig(spec, "autoDeploy", NULL)));
}

static cJSON *time_json(int64_t ms)
{
	char text[40];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return cJSON_CreateNull();
	return cJSON_CreateString(text);
}

/* The server runs with the harness's --public-url https://tunnel.example and base localhost. */
static char *reference(const lp_store_site *site, const lp_store_status *stt)
{
	cJSON *o = cJSON_CreateObject(), *cond = NULL, *doc = cJSON_Parse(site->spec_json), *arr;
	const cJSON *e;
	const char *phase = effective_phase(site, stt);
	char url[512], *text;

	cJSON_AddStringToObject(o, "id", site->id);
	cJSON_AddStringToObject(o, "slug", site->name);
	cJSON_AddStringToObject(
	    o, "name", site->display_name && *site->display_name ? site->display_name : site->name);
	cJSON_AddStringToObject(o, "status", seed_status(phase));
	LP_TEST_FMT(url, "http://%s.localhost", site->name);
	cJSON_AddStringToObject(o, "url", url);
	LP_TEST_FMT(url, "https://tunnel.example/api/webhooks/github/%s", site->id);
	cJSON_AddStringToObject(o, "webhook_url", url);
	/* Since issue 17: no webhook secret (null), the owner, whether a git credential is set. */
	cJSON_AddNullToObject(o, "webhook_secret");
	add_seed_fields(o, doc);
	cJSON_AddStringToObject(o, "owner", site->owner ? site->owner : "");
	cJSON_AddBoolToObject(o, "git_credential", site->git_credential && *site->git_credential);
	cJSON_AddItemToObject(o, "created_at", time_json(site->created_at));
	cJSON_AddItemToObject(o, "updated_at", time_json(site->updated_at));
	cJSON_AddStringToObject(o, "phase", phase);
	cJSON_AddNumberToObject(o, "generation", (double)site->generation);
	cJSON_AddNumberToObject(o, "observed_generation",
	                        stt ? (double)stt->observed_generation : 0);
	cJSON_AddNumberToObject(o, "current_revision", stt ? (double)stt->current_revision : 0);
	cJSON_AddNumberToObject(o, "desired_revision", (double)site->desired_revision);
	cJSON_AddNumberToObject(o, "resource_version", (double)site->resource_version);
	add_str_or_null(o, "message", stt ? stt->message : NULL);
	if (stt && stt->conditions_json)
		cond = cJSON_Parse(stt->conditions_json);
	cJSON_AddItemToObject(o, "conditions", cond ? cond : cJSON_CreateArray());
	cJSON_AddItemToObject(o, "deletion_timestamp", time_json(site->deletion_timestamp));
	/* Since issue 18: the custom domains and their CNAME target (the site's own host). */
	arr = cJSON_AddArrayToObject(o, "domains");
	cJSON_ArrayForEach(e, dig(doc, "spec", "domains", NULL))
	{
		if (cJSON_IsString(e))
			cJSON_AddItemToArray(arr, cJSON_CreateString(e->valuestring));
	}
	LP_TEST_FMT(url, "%s.localhost", site->name);
	cJSON_AddStringToObject(o, "cname_target", url);
	/* Since issue 16: a preview's parent by name (the part before "--"); null for a site. */
	if (site->parent_id && *site->parent_id && strstr(site->name, "--")) {
		LP_TEST_FMT(url, "%.*s", (int)(strstr(site->name, "--") - site->name), site->name);
		cJSON_AddStringToObject(o, "parent", url);
	} else {
		cJSON_AddNullToObject(o, "parent");
	}
	cJSON_AddItemToObject(o, "spec", doc ? doc : cJSON_CreateNull());
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

/* The reference of every site, in list order, joined as the seed's array. */
static void reference_list(lp_buf *out, struct lp_test_api *s, char ***objs, size_t *nobjs)
{
	lp_store *st = lp_test_api_store(s);
	lp_store_site *sites = NULL;
	lp_error err = {0};
	size_t n = 0, i;

	ck_assert_int_eq(lp_store_site_list(&sites, &n, st, 1, &err), LP_OK);
	*objs = calloc(n ? n : 1, sizeof(char *));
	*nobjs = n;
	ck_assert_int_eq(lp_buf_putc(out, '['), LP_OK);
	for (i = 0; i < n; i++) {
		lp_store_status *stt = NULL;

		if (lp_store_status_get(&stt, st, sites[i].id, &err) != LP_OK)
			stt = NULL;
		(*objs)[i] = reference(&sites[i], stt);
		ck_assert_int_eq(lp_buf_puts(out, i ? "," : ""), LP_OK);
		ck_assert_int_eq(lp_buf_puts(out, (*objs)[i]), LP_OK);
		lp_store_status_free(stt);
	}
	ck_assert_int_eq(lp_buf_putc(out, ']'), LP_OK);
	lp_store_sites_free(sites, n);
	lp_store_close(st);
}

static void free_objs(char **objs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(objs[i]);
	free(objs);
}

/* ---- seeding: every kind of value the object carries ---- */

static void raw_sql(struct lp_test_api *s, const char *sql)
{
	char path[4096];
	sqlite3 *db = NULL;

	LP_TEST_FMT(path, "%s/db/launchpad.db", s->dir);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", sql,
	              sqlite3_errmsg(db));
	sqlite3_close(db);
}

/* A site as the API stores one (spec_json from the manifest), with a status for some. */
static void put_site(struct lp_test_api *s, lp_store *st, int i)
{
	static const char *const envs[] = {
	    "{}",
	    "{NODE_ENV: production, QUOTE: 'say \"hi\"', BACK: 'a\\\\b', UNI: 'caf\xc3\xa9 "
	    "\xe2\x9c\x93'}",
	    "{TAB: \"a\\tb\\nc\\u0001d\\u001f\", SLASH: /x/y}",
	};
	char name[32], body[1024], path[64];
	struct lp_test_api_resp r;
	lp_store_site *site = NULL;
	lp_error err = {0};

	LP_TEST_FMT(name, "site-%03d", i);
	if (i % 3 == 0)
		LP_TEST_FMT(
		    body,
		    "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata: {name: %s}\n"
		    "spec:\n  source: {git: {url: 'https://github.com/u/r%d', branch: "
		    "dev-%d}}\n  build: {command: 'npm ci && npm run \"build\"', outputDir: "
		    "out, env: %s}\n  autoDeploy: %s\n",
		    name, i, i, envs[i % 9 / 3], i % 2 ? "true" : "false");
	else if (i % 3 == 1)
		LP_TEST_FMT(body,
		            "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata: {name: %s}\n"
		            "spec:\n  source: {archive: {digest: 'sha256:%064d'}}\n"
		            "  serve: {spa: true}\n",
		            name, i);
	else
		LP_TEST_FMT(body,
		            "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata: {name: %s}\n"
		            "spec:\n  source: {git: {url: 'https://example.com/x/y.git'}}\n"
		            "  build: {command: make, env: %s}\n",
		            name, envs[(i / 3) % 3]);
	LP_TEST_FMT(path, "/api/deployments/%s", name);
	lp_test_api_http(s, "PUT", path, "application/yaml", body, &r);
	ck_assert_msg(r.status == 201, "PUT %s: %ld %s", name, r.status, lp_buf_cstr(&r.body));
	lp_test_api_resp_free(&r);
	ck_assert_int_eq(lp_store_site_get_by_name(&site, st, name, &err), LP_OK);
	if (i % 4 != 0) {
		char msg[128];
		lp_store_status stt = {
		    .site_id = site->id,
		    .phase = (lp_store_phase)(i % 5),
		    .observed_generation = i % 2,
		    .current_revision = i % 3,
		    .conditions_json = i % 7
		                           ? "[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":"
		                             "\"DesiredRevisionLive\"}]"
		                           : "[]",
		    .url = "http://x.localhost",
		    .message = msg,
		};

		LP_TEST_FMT(msg, "revision %d: \"quoted\" \\ \t tab caf\xc3\xa9", i);
		ck_assert_int_eq(lp_store_status_put(NULL, st, &stt, &err), LP_OK);
	}
	if (i % 10 == 5)
		ck_assert_int_eq(lp_store_site_mark_deleted(st, site->id, 0, &err), LP_OK);
	lp_store_site_free(site);
}

static void seed(struct lp_test_api *s)
{
	lp_store *st = lp_test_api_store(s);
	char body[512];
	cJSON *o;
	int i;

	for (i = 0; i < NSITES; i++)
		put_site(s, st, i);
	/* the seed's own create: a display name, a drawn slug */
	LP_TEST_FMT(body, "{\"name\":\"My \\\"React\\\" app \xe2\x9c\x93\",\"source_type\":"
	                  "\"github\",\"github_url\":\"https://github.com/user/repo\","
	                  "\"build_cmd\":\"npm run build\",\"env_vars\":{\"A\":\"1\"}}");
	o = lp_test_api_create_github(s, body);
	cJSON_Delete(o);
	lp_store_close(st);
	/* what only a damaged or hand-edited row holds: the object must still come out */
	raw_sql(s,
	        "UPDATE sites SET generation = 3000000000, resource_version = 1234567890123456789"
	        " WHERE name = 'site-001'");
	raw_sql(s, "UPDATE sites SET spec_json = 'not json' WHERE name = 'site-002'");
	raw_sql(s, "UPDATE sites SET spec_json = '{\"spec\":{\"build\":{\"command\":\"x\"}}}"
	           " trailing' WHERE name = 'site-004'");
	raw_sql(s, "UPDATE sites SET display_name = '' WHERE name = 'site-007'");
	raw_sql(s, "UPDATE status SET conditions_json = 'garbage' WHERE site_id ="
	           " (SELECT id FROM sites WHERE name = 'site-003')");
	raw_sql(s, "UPDATE sites SET created_at = (SELECT created_at FROM sites WHERE name ="
	           " 'site-010') WHERE name IN ('site-011', 'site-012')");
}

/* The index of the first differing byte, for a failure that shows where. */
static size_t first_diff(const char *a, const char *b)
{
	size_t i = 0;

	while (a[i] && a[i] == b[i])
		i++;
	return i;
}

static void assert_same(const char *what, const char *got, const char *want)
{
	size_t at = first_diff(got, want);

	ck_assert_msg(!strcmp(got, want),
	              "%s differs at byte %zu:\n  got  ...%.120s\n  want ...%.120s", what, at,
	              got + (at > 40 ? at - 40 : 0), want + (at > 40 ? at - 40 : 0));
}

/* GET path as the raw body; *chunked 1 when it came without a Content-Length. */
static char *get_raw(struct lp_test_api *s, const char *path, long *status, int *chunked)
{
	struct lp_test_api_resp r;
	CURL *c = curl_easy_init();
	curl_off_t cl = -2;
	char *body;

	lp_test_api_request(c, s, "GET", path, NULL, NULL, 0, NULL, NULL, NULL, &r);
	curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
	curl_easy_cleanup(c);
	*status = r.status;
	if (chunked)
		*chunked = cl < 0;
	body = strdup(lp_buf_cstr(&r.body));
	lp_test_api_resp_free(&r);
	return body;
}

START_TEST(test_list_is_the_seeds_bytes)
{
	struct lp_test_api s;
	lp_buf want;
	char **objs = NULL, *got, path[128];
	size_t n = 0, i;
	long status;
	int chunked = 0;
	cJSON *arr, *it;

	lp_test_api_start(&s, NULL);
	seed(&s);
	lp_buf_init(&want, 64 << 20);
	reference_list(&want, &s, &objs, &n);
	ck_assert_uint_eq(n, NSITES + 1);
	got = get_raw(&s, "/api/deployments", &status, &chunked);
	ck_assert_int_eq(status, 200);
	ck_assert_msg(chunked, "a list of %zu sites is streamed (no Content-Length)", n);
	assert_same("GET /api/deployments", got, lp_buf_cstr(&want));
	free(got);
	/* GET one is the same object, for every kind of row (by id and by name) */
	arr = cJSON_Parse(lp_buf_cstr(&want));
	for (i = 0; i < n; i++) {
		it = cJSON_GetArrayItem(arr, (int)i);
		LP_TEST_FMT(path, "/api/deployments/%s",
		            i % 2 ? lp_test_api_jstr(it, "id") : lp_test_api_jstr(it, "slug"));
		got = get_raw(&s, path, &status, NULL);
		ck_assert_int_eq(status, 200);
		assert_same(path, got, objs[i]);
		free(got);
	}
	cJSON_Delete(arr);
	free_objs(objs, n);
	lp_buf_release(&want);
	lp_test_api_stop(&s);
}
END_TEST

/* A short list fits one batch: an ordinary answer with a length, the same bytes. */
START_TEST(test_short_list)
{
	struct lp_test_api s;
	lp_store *st;
	lp_buf want;
	char **objs = NULL, *got;
	size_t n = 0;
	long status;
	int chunked = 1, i;

	lp_test_api_start(&s, NULL);
	got = get_raw(&s, "/api/deployments", &status, &chunked);
	ck_assert_int_eq(status, 200);
	ck_assert_str_eq(got, "[]");
	ck_assert(!chunked);
	free(got);
	st = lp_test_api_store(&s);
	for (i = 0; i < 3; i++)
		put_site(&s, st, i);
	lp_store_close(st);
	lp_buf_init(&want, 1 << 20);
	reference_list(&want, &s, &objs, &n);
	got = get_raw(&s, "/api/deployments", &status, &chunked);
	ck_assert(!chunked);
	assert_same("a list of 3", got, lp_buf_cstr(&want));
	free(got);
	free_objs(objs, n);
	lp_buf_release(&want);
	lp_test_api_stop(&s);
}
END_TEST

/* One page: its items (raw, joined), its continue token ("" when none), remaining count. */
static void get_page(struct lp_test_api *s, const char *query, lp_buf *items, char *token,
                     size_t tlen, long *remaining)
{
	char path[512], *raw;
	const cJSON *meta, *v, *it;
	cJSON *o;
	long status;
	int first = 1;

	LP_TEST_FMT(path, "/api/deployments?%s", query);
	raw = get_raw(s, path, &status, NULL);
	ck_assert_msg(status == 200, "%s: %ld %s", path, status, raw);
	o = cJSON_Parse(raw);
	ck_assert_ptr_nonnull(o);
	ck_assert_msg(!strncmp(raw, "{\"items\":[", 10), "%s", raw);
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(o, "items"))
	{
		char *text = cJSON_PrintUnformatted(it);
		ck_assert_int_eq(lp_buf_puts(items, first ? "" : ","), LP_OK);
		ck_assert_int_eq(lp_buf_puts(items, text), LP_OK);
		free(text);
		first = 0;
	}
	meta = cJSON_GetObjectItem(o, "metadata");
	ck_assert(cJSON_IsObject(meta));
	v = cJSON_GetObjectItem(meta, "continue");
	lp_test_fmt(token, tlen, "%s", cJSON_IsString(v) ? v->valuestring : "");
	v = cJSON_GetObjectItem(meta, "remainingItemCount");
	*remaining = cJSON_IsNumber(v) ? (long)v->valuedouble : -1;
	/* both present, or neither */
	ck_assert_int_eq(*token != '\0', *remaining >= 0);
	cJSON_Delete(o);
	free(raw);
}

START_TEST(test_pages)
{
	struct lp_test_api s;
	lp_store *st;
	lp_buf whole, pages;
	char **objs = NULL, token[256], query[512], *all;
	size_t n = 0;
	long remaining, seen = 0;
	int i;
	cJSON *arr, *o;

	lp_test_api_start(&s, NULL);
	st = lp_test_api_store(&s);
	for (i = 0; i < 12; i++)
		put_site(&s, st, i);
	lp_store_close(st);
	lp_buf_init(&whole, 8 << 20);
	reference_list(&whole, &s, &objs, &n);
	/* pages of 5: 5 (7 left), 5 (2 left), 2 (last); together, the list */
	lp_buf_init(&pages, 8 << 20);
	ck_assert_int_eq(lp_buf_putc(&pages, '['), LP_OK);
	get_page(&s, "limit=5", &pages, token, sizeof(token), &remaining);
	ck_assert_int_eq(remaining, 7);
	ck_assert_int_eq(lp_buf_putc(&pages, ','), LP_OK);
	LP_TEST_FMT(query, "limit=5&continue=%s", token);
	get_page(&s, query, &pages, token, sizeof(token), &remaining);
	ck_assert_int_eq(remaining, 2);
	ck_assert_int_eq(lp_buf_putc(&pages, ','), LP_OK);
	LP_TEST_FMT(query, "limit=5&continue=%s", token);
	get_page(&s, query, &pages, token, sizeof(token), &remaining);
	ck_assert_str_eq(token, "");
	ck_assert_int_eq(remaining, -1);
	ck_assert_int_eq(lp_buf_putc(&pages, ']'), LP_OK);
	assert_same("pages of 5", lp_buf_cstr(&pages), lp_buf_cstr(&whole));

	/* an exact fit has no next page; continue alone gives the rest */
	lp_buf_reset(&pages);
	get_page(&s, "limit=12", &pages, token, sizeof(token), &remaining);
	ck_assert_str_eq(token, "");
	lp_buf_reset(&pages);
	get_page(&s, "limit=10", &pages, token, sizeof(token), &remaining);
	LP_TEST_FMT(query, "continue=%s", token);
	lp_buf_reset(&pages);
	get_page(&s, query, &pages, token, sizeof(token), &remaining);
	arr = cJSON_Parse(lp_buf_cstr(&whole));
	all = cJSON_PrintUnformatted(cJSON_GetArrayItem(arr, 10));
	ck_assert_msg(!strncmp(lp_buf_cstr(&pages), all, strlen(all)), "the 11th site first");
	free(all);
	cJSON_Delete(arr);

	/* between pages: a listed site goes, a new one comes; nothing repeats, nothing is lost */
	lp_buf_reset(&pages);
	get_page(&s, "limit=4", &pages, token, sizeof(token), &remaining);
	o = cJSON_Parse(objs[1]);
	st = lp_test_api_store(&s);
	raw_sql(&s, "DELETE FROM sites WHERE name = 'site-001'");
	put_site(&s, st, 40);
	lp_store_close(st);
	for (seen = 4; *token; seen += 0) {
		cJSON *page, *it;
		lp_buf_reset(&pages);
		ck_assert_int_eq(lp_buf_putc(&pages, '['), LP_OK);
		LP_TEST_FMT(query, "limit=4&continue=%s", token);
		get_page(&s, query, &pages, token, sizeof(token), &remaining);
		ck_assert_int_eq(lp_buf_putc(&pages, ']'), LP_OK);
		page = cJSON_Parse(lp_buf_cstr(&pages));
		cJSON_ArrayForEach(it, page)
		{
			char want[32];
			/* sites 4..11 in order, then the new site-040 */
			LP_TEST_FMT(want, "site-%03ld", seen < 12 ? seen : 40L);
			ck_assert_str_eq(lp_test_api_jstr(it, "slug"), want);
			seen++;
		}
		cJSON_Delete(page);
	}
	ck_assert_int_eq(seen, 13);
	cJSON_Delete(o);
	free_objs(objs, n);
	lp_buf_release(&pages);
	lp_buf_release(&whole);
	lp_test_api_stop(&s);
}
END_TEST

START_TEST(test_page_arguments)
{
	static const char *const bad[] = {
	    "limit=0",
	    "limit=501",
	    "limit=-1",
	    "limit=abc",
	    "limit=",
	    "limit=5x",
	    "limit=99999999999999999999",
	    "continue=",
	    "continue=abc",
	    "continue=12",
	    "continue=12.",
	    "continue=12.Bad_",
	    "continue=x.site",
	    "continue=-5.site",
	    "continue=12.-a",
	    "limit=5&continue=1.a%2Fb",
	};
	struct lp_test_api s;
	struct lp_test_api_resp r;
	char path[256];
	size_t i;

	lp_test_api_start(&s, NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		LP_TEST_FMT(path, "/api/deployments?%s", bad[i]);
		lp_test_api_http(&s, "GET", path, NULL, NULL, &r);
		ck_assert_msg(r.status == 400, "%s: %ld %s", path, r.status, lp_buf_cstr(&r.body));
		lp_test_api_assert_error(&r, 400, "invalid");
		lp_test_api_resp_free(&r);
	}
	/* the largest page is allowed; an empty store gives an empty page */
	lp_test_api_http(&s, "GET", "/api/deployments?limit=500", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(lp_buf_cstr(&r.body), "{\"items\":[],\"metadata\":{}}");
	lp_test_api_resp_free(&r);
	lp_test_api_stop(&s);
}
END_TEST

/*
 * The URLs of an object follow the config: a port beside the site's host, a fixed CNAME target
 * (the writer makes the text around the name once, from lp_config's functions).
 */
START_TEST(test_urls_follow_the_config)
{
	static const char *const extra[] = {
	    "--http-port", "8080", "--cname-target", "edge.example.net", "--base-domain",
	    "apps.test",   NULL};
	struct lp_test_api s;
	lp_store *st;
	cJSON *o, *arr;
	char *got;
	long status;

	lp_test_api_start(&s, extra);
	st = lp_test_api_store(&s);
	put_site(&s, st, 0);
	lp_store_close(st);
	o = lp_test_api_get_site(&s, "site-000");
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(lp_test_api_jstr(o, "url"), "http://site-000.apps.test:8080");
	ck_assert_str_eq(lp_test_api_jstr(o, "cname_target"), "edge.example.net");
	ck_assert(!strncmp(lp_test_api_jstr(o, "webhook_url"),
	                   "https://tunnel.example/api/webhooks/github/", 43));
	ck_assert_str_eq(lp_test_api_jstr(o, "webhook_url") + 43, lp_test_api_jstr(o, "id"));
	/* the list writes the same object */
	got = get_raw(&s, "/api/deployments", &status, NULL);
	ck_assert_int_eq(status, 200);
	arr = cJSON_Parse(got);
	ck_assert_str_eq(lp_test_api_jstr(cJSON_GetArrayItem(arr, 0), "url"),
	                 "http://site-000.apps.test:8080");
	ck_assert_str_eq(lp_test_api_jstr(cJSON_GetArrayItem(arr, 0), "cname_target"),
	                 "edge.example.net");
	cJSON_Delete(arr);
	free(got);
	cJSON_Delete(o);
	lp_test_api_stop(&s);
}
END_TEST

static Suite *list_suite(void)
{
	Suite *s = suite_create("apiserver-list");
	TCase *tc = tcase_create("apiserver-list");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_list_is_the_seeds_bytes);
	tcase_add_test(tc, test_short_list);
	tcase_add_test(tc, test_pages);
	tcase_add_test(tc, test_page_arguments);
	tcase_add_test(tc, test_urls_follow_the_config);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lp_test_run(list_suite());
}
