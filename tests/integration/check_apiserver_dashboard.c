/* check_apiserver_dashboard.c: the dashboard's files at /, the SPA fallback, the webhook route. */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "launchpad/fs.h"
#include "tests/lib/api_server.h"
#include "tests/lib/testutil.h"

#define PAGE  "<!doctype html><title>dashboard</title>"
#define ASSET "console.log('app')"

static char *g_dash;   /* a built dashboard: index.html, assets/app-1a2b3c.js, a link out */
static char *g_secret; /* a file outside it that must never be served */

static void put(const char *dir, const char *rel, const char *content)
{
	char path[4096];
	lp_error err = {0};

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	ck_assert_msg(lp_fs_write_atomic(path, content, strlen(content), 0644, &err) == LP_OK, "%s",
	              err.message);
}

static void setup(void)
{
	char *outside = lp_test_mkdtemp("lp-dash-outside"), link[4096], target[4096];

	g_dash = lp_test_mkdtemp("lp-dash");
	ck_assert_ptr_nonnull(g_dash);
	ck_assert_ptr_nonnull(outside);
	lp_test_sh("mkdir -p '%s/assets'", g_dash);
	put(g_dash, "index.html", PAGE);
	put(g_dash, "assets/app-1a2b3c.js", ASSET);
	put(outside, "secret.txt", "top secret");
	snprintf(target, sizeof(target), "%s/secret.txt", outside);
	snprintf(link, sizeof(link), "%s/leak.txt", g_dash);
	ck_assert_int_eq(symlink(target, link), 0);
	g_secret = outside;
}

static void teardown(void)
{
	if (lp_fs_remove_tree(g_dash, NULL) != LP_OK)
		fprintf(stderr, "cleanup: cannot remove %s\n", g_dash);
	if (lp_fs_remove_tree(g_secret, NULL) != LP_OK)
		fprintf(stderr, "cleanup: cannot remove %s\n", g_secret);
	free(g_dash);
	free(g_secret);
}

/* A GET of path without a token; its Cache-Control into cc (may be NULL). */
static long get(struct lp_test_api *s, const char *path, struct lp_test_api_resp *r)
{
	return lp_test_api_request(NULL, s, "GET", path, NULL, NULL, 0, "", NULL, NULL, r);
}

START_TEST(test_files_fallback_and_cache)
{
	const char *extra[] = {"--dashboard-dir", g_dash, NULL};
	struct lp_test_api s;
	struct lp_test_api_resp r;
	const char *client_routes[] = {"/", "/new", "/deployments/graceful-fox", NULL};
	const char *outside[] = {"/leak.txt", "/../../../../../etc/passwd",
	                         "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/assets/../../etc/passwd",
	                         NULL};
	size_t i;

	lp_test_api_start(&s, extra);
	for (i = 0; client_routes[i]; i++) {
		ck_assert_int_eq(get(&s, client_routes[i], &r), 200);
		ck_assert_str_eq(lp_buf_cstr(&r.body), PAGE);
		ck_assert_msg(strstr(r.cache_control, "no-cache"), "%s: %s", client_routes[i],
		              r.cache_control);
		ck_assert_msg(!strncasecmp(r.content_type, "text/html", 9), "%s", r.content_type);
		lp_test_api_resp_free(&r);
	}
	ck_assert_int_eq(get(&s, "/assets/app-1a2b3c.js", &r), 200);
	ck_assert_str_eq(lp_buf_cstr(&r.body), ASSET);
	ck_assert_str_eq(r.cache_control, "public, max-age=31536000, immutable");
	ck_assert_msg(!strncasecmp(r.content_type, "text/javascript", 15), "%s", r.content_type);
	lp_test_api_resp_free(&r);
	/* a missing asset is a 404 in the API's error shape, never the page */
	ck_assert_int_eq(get(&s, "/assets/app-ffffff.js", &r), 404);
	ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(r.json, "error"));
	lp_test_api_resp_free(&r);
	/* nothing outside the directory, through a link or dot-dot, in any spelling */
	for (i = 0; outside[i]; i++) {
		get(&s, outside[i], &r);
		ck_assert_msg(strstr(lp_buf_cstr(&r.body), "top secret") == NULL &&
		                  strstr(lp_buf_cstr(&r.body), "root:") == NULL,
		              "%s leaked: %s", outside[i], lp_buf_cstr(&r.body));
		lp_test_api_resp_free(&r);
	}
	/* /api stays the API's: unknown routes there are JSON 404s, not the page */
	ck_assert_int_eq(get(&s, "/api/nope", &r), 404);
	ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(r.json, "error"));
	lp_test_api_resp_free(&r);
	/* only GET (and HEAD) reach the files */
	ck_assert_int_eq(lp_test_api_http(&s, "POST", "/new", NULL, NULL, &r), 404);
	lp_test_api_resp_free(&r);
	ck_assert_int_eq(
	    lp_test_api_request(NULL, &s, "HEAD", "/", NULL, NULL, 0, "", NULL, NULL, &r), 200);
	lp_test_api_resp_free(&r);
	lp_test_api_stop(&s);
}
END_TEST

START_TEST(test_without_a_dashboard)
{
	struct lp_test_api s;
	struct lp_test_api_resp r;

	lp_test_api_start(&s, NULL);
	ck_assert_int_eq(get(&s, "/", &r), 404);
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&r.body), "--dashboard-dir"));
	lp_test_api_resp_free(&r);
	lp_test_api_stop(&s);
}
END_TEST

START_TEST(test_webhook_route)
{
	struct lp_test_api s;
	struct lp_test_api_resp r;
	char path[256];
	cJSON *site;

	lp_test_api_start(&s, NULL);
	site = lp_test_api_create_github(&s, NULL);
	snprintf(path, sizeof(path), "/api/deployments/%s/webhook", lp_test_api_jstr(site, "slug"));
	ck_assert_int_eq(lp_test_api_http(&s, "GET", path, NULL, NULL, &r), 200);
	ck_assert_str_eq(lp_test_api_jstr(r.json, "webhook_url"),
	                 lp_test_api_jstr(site, "webhook_url"));
	ck_assert_str_eq(lp_test_api_jstr(r.json, "webhook_secret"),
	                 lp_test_api_jstr(site, "webhook_secret"));
	lp_test_api_resp_free(&r);
	ck_assert_int_eq(get(&s, path, &r), 401);
	lp_test_api_resp_free(&r);
	cJSON_Delete(site);
	lp_test_api_stop(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("apiserver_dashboard");
	TCase *tc = tcase_create("api");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_files_fallback_and_cache);
	tcase_add_test(tc, test_without_a_dashboard);
	tcase_add_test(tc, test_webhook_route);
	suite_add_tcase(s, tc);
	return lp_test_run(s);
}
