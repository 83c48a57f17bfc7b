/* check_apiserver_apply.c: declarative apply, If-Match races, revisions, rollback, events. */
#include <check.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launchpad/fs.h"
#include "launchpad/store.h"
#include "tests/lib/api_server.h"
#include "tests/lib/testutil.h"

struct race {
	struct lp_test_api *s;
	int counter;
	const char *etag;
	pthread_barrier_t *bar;
	long status;
};

static void *race_put(void *arg)
{
	struct race *a = arg;
	struct lp_test_api_resp r;
	CURL *c = curl_easy_init();

	pthread_barrier_wait(a->bar);
	lp_test_api_put_manifest(c, a->s, "racy", a->counter, a->etag, NULL, &r);
	a->status = r.status;
	lp_test_api_resp_free(&r);
	curl_easy_cleanup(c);
	return NULL;
}

START_TEST(test_apply)
{
	struct lp_test_api s;
	struct lp_test_api_resp r;
	char etag[64];
	cJSON *g;

	lp_test_api_start(&s, NULL);
	lp_test_api_put_manifest(NULL, &s, "blog", 1, NULL, "?dryRun=1", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(lp_test_api_jstr(r.json, "result"), "created");
	lp_test_api_resp_free(&r);
	lp_test_api_http(&s, "GET", "/api/deployments/blog", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 404); /* the dry run wrote nothing */
	lp_test_api_resp_free(&r);

	lp_test_api_put_manifest(NULL, &s, "blog", 1, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 201);
	ck_assert_str_eq(lp_test_api_jstr(r.json, "result"), "created");
	ck_assert_str_eq(lp_test_api_jstr(r.json, "slug"), "blog");
	ck_assert_str_eq(r.etag, "\"1\"");
	lp_test_api_resp_free(&r);
	lp_test_api_put_manifest(NULL, &s, "blog", 1, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(lp_test_api_jstr(r.json, "result"), "unchanged");
	ck_assert(lp_test_api_jnum(r.json, "generation") == 1 &&
	          lp_test_api_jnum(r.json, "resource_version") == 1 &&
	          lp_test_api_jnum(r.json, "desired_revision") == 1);
	snprintf(etag, sizeof(etag), "%s", r.etag);
	lp_test_api_resp_free(&r);
	lp_test_api_put_manifest(NULL, &s, "blog", 2, NULL, "?dryRun=true", &r);
	ck_assert_str_eq(lp_test_api_jstr(r.json, "result"), "configured");
	lp_test_api_resp_free(&r);
	g = lp_test_api_get_site(&s, "blog");
	ck_assert(lp_test_api_jnum(g, "generation") == 1);
	cJSON_Delete(g);
	lp_test_api_put_manifest(NULL, &s, "blog", 2, etag, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(lp_test_api_jstr(r.json, "result"), "configured");
	ck_assert(lp_test_api_jnum(r.json, "generation") == 2 &&
	          lp_test_api_jnum(r.json, "desired_revision") == 2);
	lp_test_api_resp_free(&r);
	/* the old version is stale now */
	lp_test_api_put_manifest(NULL, &s, "blog", 3, etag, NULL, &r);
	lp_test_api_assert_error(&r, 409, "conflict");
	lp_test_api_resp_free(&r);
	lp_test_api_put_manifest(NULL, &s, "blog", 3, "\"abc\"", NULL, &r);
	lp_test_api_assert_error(&r, 400, "invalid");
	lp_test_api_resp_free(&r);
	/* the name in the URL and in the manifest must agree */
	{
		char body[2048];
		snprintf(body, sizeof(body), lp_test_api_manifest_fmt, "other-name", 1);
		lp_test_api_http(&s, "PUT", "/api/deployments/blog", "application/yaml", body, &r);
		lp_test_api_assert_error(&r, 422, "unprocessable");
		lp_test_api_resp_free(&r);
	}
	/* JSON manifests too */
	lp_test_api_http(
	    &s, "PUT", "/api/deployments/jsite", "application/json",
	    "{\"apiVersion\":\"launchpad.dev/v1\",\"kind\":\"Site\",\"metadata\":{\"name\":"
	    "\"jsite\"},\"spec\":{\"source\":{\"git\":{\"url\":\"https://github.com/a/b\"}}}}",
	    &r);
	ck_assert_int_eq(r.status, 201);
	lp_test_api_resp_free(&r);
	lp_test_api_http(&s, "PUT", "/api/deployments/jsite", "application/xml", "<a/>", &r);
	lp_test_api_assert_error(&r, 415, "unsupported");
	lp_test_api_resp_free(&r);
	lp_test_api_stop(&s);
}
END_TEST

/* Issue 13.16: common names are free; the admin's list is refused at metadata.name, on create. */
START_TEST(test_reserved_names)
{
	const char *extra[] = {"--reserved-names", "api,traefik,docs", NULL};
	struct lp_test_api s;
	struct lp_test_api_resp r;
	CURL *c = curl_easy_init();
	const cJSON *d;

	/* the defaults keep only api and traefik */
	lp_test_api_start(&s, NULL);
	ck_assert_int_eq(lp_test_api_put_manifest(c, &s, "docs", 1, NULL, NULL, &r), 201);
	lp_test_api_resp_free(&r);
	ck_assert_int_eq(lp_test_api_put_manifest(c, &s, "status", 1, NULL, NULL, &r), 201);
	lp_test_api_resp_free(&r);
	lp_test_api_put_manifest(c, &s, "traefik", 1, NULL, NULL, &r);
	lp_test_api_assert_error(&r, 400, "invalid");
	d = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "error"), "details"),
	                       0);
	ck_assert_str_eq(lp_test_api_jstr(d, "path"), "metadata.name");
	ck_assert_ptr_nonnull(strstr(lp_test_api_jstr(d, "message"), "reserved"));
	lp_test_api_resp_free(&r);
	/* the seed's create with a chosen slug is held to the same list */
	lp_test_api_http(&s, "POST", "/api/deployments", "application/json",
	                 "{\"name\":\"API\",\"slug\":\"api\",\"source_type\":\"github\","
	                 "\"github_url\":\"https://github.com/user/repo\"}",
	                 &r);
	lp_test_api_assert_error(&r, 400, "invalid");
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&r.body), "is reserved"));
	lp_test_api_resp_free(&r);
	lp_test_api_stop(&s);

	/* the admin's list: docs refused for a new site */
	lp_test_api_start(&s, extra);
	lp_test_api_put_manifest(c, &s, "docs", 1, NULL, NULL, &r);
	lp_test_api_assert_error(&r, 400, "invalid");
	lp_test_api_resp_free(&r);
	/* issue 13.6: the start-up log says what the server allows, and where it came from */
	{
		char path[4200], *log = NULL;
		size_t len = 0;

		LP_TEST_FMT(path, "%s/apiserver.log", s.dir);
		ck_assert_int_eq(lp_fs_read_file(&log, &len, path, 1 << 20, NULL), LP_OK);
		ck_assert_msg(strstr(log, "setting --allow-insecure-sources=false (default)") &&
		                  strstr(log, "setting --reserved-names=api,traefik,docs (flag)") &&
		                  strstr(log, "names reserved for the platform's own hosts: api, "
		                              "traefik, docs"),
		              "%s", log);
		free(log);
	}
	lp_test_api_stop(&s);
	curl_easy_cleanup(c);
}
END_TEST

/* PUT a manifest of name building with image; returns the status. */
static long put_with_image(struct lp_test_api *s, const char *name, const char *image,
                           const char *query, struct lp_test_api_resp *r)
{
	char body[2048], path[256];

	LP_TEST_FMT(body,
	            "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  name: %s\nspec:\n"
	            "  source:\n    git: {url: \"https://github.com/a/b\"}\n"
	            "  build: {image: \"%s\", command: make}\n",
	            name, image);
	LP_TEST_FMT(path, "/api/deployments/%s%s", name, query ? query : "");
	return lp_test_api_http(s, "PUT", path, "application/yaml", body, r);
}

static void expect_image_refused(const struct lp_test_api_resp *r)
{
	const cJSON *d = cJSON_GetArrayItem(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(r->json, "error"), "details"), 0);

	lp_test_api_assert_error(r, 400, "invalid");
	ck_assert_msg(d && !strcmp(lp_test_api_jstr(d, "path"), "spec.build.image") &&
	                  strstr(lp_test_api_jstr(d, "message"), "--build-images"),
	              "%s", lp_buf_cstr(&r->body));
}

/* Issue 14: spec.build.image may name only what the admin allows (default: --build-image). */
START_TEST(test_build_images)
{
	const char *deflt[] = {"--build-image", "launchpad-test/node:local", NULL};
	const char *listed[] = {"--build-image", "launchpad-test/node:local", "--build-images",
	                        "registry.example/ci/*", NULL};
	struct lp_test_api s;
	struct lp_test_api_resp r;
	cJSON *g;

	lp_test_api_start(&s, deflt);
	put_with_image(&s, "img", "docker.io/evil/miner:latest", NULL, &r);
	expect_image_refused(&r);
	lp_test_api_resp_free(&r);
	put_with_image(&s, "img", "docker.io/evil/miner:latest", "?dryRun=1", &r);
	expect_image_refused(&r);
	lp_test_api_resp_free(&r);
	ck_assert_int_eq(put_with_image(&s, "img", "launchpad-test/node:local", NULL, &r), 201);
	lp_test_api_resp_free(&r);
	/* unchanged: nothing new is asked for */
	ck_assert_int_eq(put_with_image(&s, "img", "launchpad-test/node:local", NULL, &r), 200);
	lp_test_api_resp_free(&r);
	/* changed to an image not listed: refused, the stored spec stays */
	put_with_image(&s, "img", "registry.example/ci/node:20", NULL, &r);
	expect_image_refused(&r);
	lp_test_api_resp_free(&r);
	g = lp_test_api_get_site(&s, "img");
	ck_assert(lp_test_api_jnum(g, "generation") == 1);
	cJSON_Delete(g);
	lp_test_api_stop(&s);

	/* the admin's list: a prefix */
	lp_test_api_start(&s, listed);
	ck_assert_int_eq(put_with_image(&s, "img", "registry.example/ci/node:20", NULL, &r), 201);
	lp_test_api_resp_free(&r);
	put_with_image(&s, "other", "registry.example/cx/node:20", NULL, &r);
	expect_image_refused(&r);
	lp_test_api_resp_free(&r);
	{
		char path[4200], *log = NULL;
		size_t len = 0;

		LP_TEST_FMT(path, "%s/apiserver.log", s.dir);
		ck_assert_int_eq(lp_fs_read_file(&log, &len, path, 1 << 20, NULL), LP_OK);
		ck_assert_msg(strstr(log, "setting --build-images=registry.example/ci/* (flag)"),
		              "%s", log);
		free(log);
	}
	lp_test_api_stop(&s);
}
END_TEST

START_TEST(test_if_match_race)
{
	struct lp_test_api s;
	struct lp_test_api_resp r;
	pthread_barrier_t bar;
	pthread_t t[2];
	struct race a[2];
	char etag[64];
	int round, i, wins, conflicts;
	cJSON *g;

	lp_test_api_start(&s, NULL);
	lp_test_api_put_manifest(NULL, &s, "racy", 0, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 201);
	lp_test_api_resp_free(&r);
	for (round = 1; round <= 10; round++) {
		g = lp_test_api_get_site(&s, "racy");
		snprintf(etag, sizeof(etag), "\"%.0f\"", lp_test_api_jnum(g, "resource_version"));
		cJSON_Delete(g);
		pthread_barrier_init(&bar, NULL, 2);
		for (i = 0; i < 2; i++) {
			a[i] = (struct race){&s, round * 10 + i, etag, &bar, 0};
			pthread_create(&t[i], NULL, race_put, &a[i]);
		}
		wins = conflicts = 0;
		for (i = 0; i < 2; i++) {
			pthread_join(t[i], NULL);
			wins += a[i].status == 200;
			conflicts += a[i].status == 409;
		}
		pthread_barrier_destroy(&bar);
		ck_assert_msg(wins == 1 && conflicts == 1, "round %d: %ld and %ld", round,
		              a[0].status, a[1].status);
	}
	g = lp_test_api_get_site(&s, "racy");
	ck_assert(lp_test_api_jnum(g, "generation") == 11);
	cJSON_Delete(g);
	lp_test_api_stop(&s);
}
END_TEST

START_TEST(test_revisions_rollback_events)
{
	struct lp_test_api s;
	struct lp_test_api_resp r;
	lp_store *st;
	cJSON *o;
	char id[64], path[256];
	lp_store_revision rev = {0};

	lp_test_api_start(&s, NULL);
	o = lp_test_api_create_github(&s, NULL);
	snprintf(id, sizeof(id), "%s", lp_test_api_jstr(o, "id"));
	cJSON_Delete(o);
	st = lp_test_api_store(&s);
	rev.site_id = id;
	rev.number = 1;
	rev.state = LP_REV_READY;
	rev.started_at = 1000000;
	rev.finished_at = 1042000;
	ck_assert_int_eq(lp_store_revision_update(st, &rev, NULL), LP_OK);
	snprintf(path, sizeof(path), "/api/deployments/%s/redeploy", id);
	lp_test_api_http(&s, "POST", path, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 202);
	lp_test_api_resp_free(&r);
	rev.number = 2;
	rev.state = LP_REV_FAILED;
	ck_assert_int_eq(lp_store_revision_update(st, &rev, NULL), LP_OK);

	snprintf(path, sizeof(path), "/api/deployments/%s/revisions", id);
	lp_test_api_http(&s, "GET", path, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(r.json), 2);
	ck_assert(lp_test_api_jnum(cJSON_GetArrayItem(r.json, 0), "revision") == 2);
	ck_assert_str_eq(lp_test_api_jstr(cJSON_GetArrayItem(r.json, 0), "state"), "failed");
	ck_assert_str_eq(lp_test_api_jstr(cJSON_GetArrayItem(r.json, 1), "trigger"), "create");
	ck_assert(lp_test_api_jnum(cJSON_GetArrayItem(r.json, 1), "duration_seconds") == 42);
	lp_test_api_resp_free(&r);

	snprintf(path, sizeof(path), "/api/deployments/%s/rollback", id);
	lp_test_api_http(&s, "POST", path, "application/json", "{\"revision\": 2}", &r);
	lp_test_api_assert_error(&r, 409, "conflict"); /* failed is not a rollback target */
	lp_test_api_resp_free(&r);
	lp_test_api_http(&s, "POST", path, "application/json", "{\"revision\": 99}", &r);
	lp_test_api_assert_error(&r, 404, "not_found");
	lp_test_api_resp_free(&r);
	lp_test_api_http(&s, "POST", path, "application/json", "{\"revision\": \"x\"}", &r);
	lp_test_api_assert_error(&r, 400, "invalid");
	lp_test_api_resp_free(&r);
	lp_test_api_http(&s, "POST", path, NULL, NULL, &r); /* default: the previous ready one */
	ck_assert_msg(r.status == 202, "%ld %s", r.status, lp_buf_cstr(&r.body));
	ck_assert(lp_test_api_jnum(r.json, "desired_revision") == 1);
	ck_assert(lp_test_api_jnum(r.json, "generation") == 1); /* no new spec, no rebuild */
	lp_test_api_resp_free(&r);

	snprintf(path, sizeof(path), "/api/deployments/%s/events", id);
	lp_test_api_http(&s, "GET", path, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_ge(cJSON_GetArraySize(r.json), 2);
	ck_assert_str_eq(lp_test_api_jstr(cJSON_GetArrayItem(r.json, 0), "reason"), "RollingBack");
	lp_test_api_resp_free(&r);

	lp_test_api_http(&s, "GET", "/metrics", NULL, NULL, &r);
	ck_assert_ptr_nonnull(
	    strstr(lp_buf_cstr(&r.body), "launchpad_revisions{state=\"ready\"} 1"));
	ck_assert_ptr_nonnull(
	    strstr(lp_buf_cstr(&r.body), "launchpad_revisions{state=\"failed\"} 1"));
	ck_assert_ptr_nonnull(
	    strstr(lp_buf_cstr(&r.body), "launchpad_build_duration_seconds_count 2"));
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&r.body),
	                             "route=\"/api/deployments/:id/rollback\",status=\"409\"} 1"));
	lp_test_api_resp_free(&r);
	lp_store_close(st);
	lp_test_api_stop(&s);
}
END_TEST

/* PUT a manifest of name with the serve flags given ("" for none); returns the status. */
static long put_serve(struct lp_test_api *s, const char *name, const char *serve, const char *query,
                      struct lp_test_api_resp *r)
{
	char body[2048], path[256];

	LP_TEST_FMT(body,
	            "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  name: %s\nspec:\n"
	            "  source:\n    git: {url: \"https://github.com/a/b\"}\n%s%s%s",
	            name, *serve ? "  serve: {" : "", serve, *serve ? "}\n" : "");
	LP_TEST_FMT(path, "/api/deployments/%s%s", name, query ? query : "");
	return lp_test_api_http(s, "PUT", path, "application/yaml", body, r);
}

/* The answer's warnings, joined by "|" ("" without the member; "!" when it is not an array). */
static void warnings_of(char *out, size_t n, const struct lp_test_api_resp *r)
{
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(r->json, "warnings"), *e;

	lp_test_fmt(out, n, "%s", w == NULL ? "" : cJSON_IsArray(w) ? "" : "!");
	cJSON_ArrayForEach(e, w)
	{
		ck_assert(cJSON_IsString(e));
		lp_test_fmt(out + strlen(out), n - strlen(out), "%s%s", out[0] ? "|" : "",
		            e->valuestring);
	}
}

#define NO_HTTPS                                                                                   \
	" has no effect: this platform serves no HTTPS (start it with --https, "                   \
	"LAUNCHPAD_HTTPS=true: docs/domains.md)"

/*
 * serve.httpsRedirect / serve.hsts on a platform without HTTPS: accepted, with a warning beside
 * the site (create, update, unchanged, dry run); none when they are off, or HTTPS is on.
 */
START_TEST(test_https_warnings)
{
	static const char *const https[] = {"--https", NULL};
	struct lp_test_api s;
	struct lp_test_api_resp r;
	char w[1024];

	lp_test_api_start(&s, NULL);
	ck_assert_int_eq(put_serve(&s, "plain", "", NULL, &r), 201);
	warnings_of(w, sizeof(w), &r);
	ck_assert_str_eq(w, "");
	lp_test_api_resp_free(&r);
	ck_assert_int_eq(put_serve(&s, "secure", "httpsRedirect: true", NULL, &r), 201);
	warnings_of(w, sizeof(w), &r);
	ck_assert_str_eq(w, "serve.httpsRedirect" NO_HTTPS);
	ck_assert_str_eq(lp_test_api_jstr(r.json, "slug"), "secure"); /* the site, as before */
	lp_test_api_resp_free(&r);
	ck_assert_int_eq(put_serve(&s, "secure", "httpsRedirect: true", NULL, &r), 200);
	ck_assert_str_eq(lp_test_api_jstr(r.json, "result"), "unchanged");
	warnings_of(w, sizeof(w), &r);
	ck_assert_str_eq(w, "serve.httpsRedirect" NO_HTTPS);
	lp_test_api_resp_free(&r);
	ck_assert_int_eq(put_serve(&s, "secure", "httpsRedirect: true, hsts: true", NULL, &r), 200);
	ck_assert_str_eq(lp_test_api_jstr(r.json, "result"), "configured");
	warnings_of(w, sizeof(w), &r);
	ck_assert_str_eq(w, "serve.httpsRedirect" NO_HTTPS "|serve.hsts" NO_HTTPS);
	lp_test_api_resp_free(&r);
	ck_assert_int_eq(put_serve(&s, "secure", "hsts: true", "?dryRun=1", &r), 200);
	warnings_of(w, sizeof(w), &r);
	ck_assert_str_eq(w, "serve.hsts" NO_HTTPS);
	lp_test_api_resp_free(&r);
	ck_assert_int_eq(put_serve(&s, "secure", "httpsRedirect: false", NULL, &r), 200);
	warnings_of(w, sizeof(w), &r);
	ck_assert_str_eq(w, "");
	lp_test_api_resp_free(&r);
	lp_test_api_stop(&s);
	/* with HTTPS on, the same spec says nothing more */
	lp_test_api_start(&s, https);
	ck_assert_int_eq(put_serve(&s, "secure", "httpsRedirect: true, hsts: true", NULL, &r), 201);
	warnings_of(w, sizeof(w), &r);
	ck_assert_str_eq(w, "");
	lp_test_api_resp_free(&r);
	lp_test_api_stop(&s);
}
END_TEST

static Suite *apiserver_apply_suite(void)
{
	Suite *s = suite_create("apiserver_apply");
	TCase *tc = tcase_create("api");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_apply);
	tcase_add_test(tc, test_reserved_names);
	tcase_add_test(tc, test_build_images);
	tcase_add_test(tc, test_if_match_race);
	tcase_add_test(tc, test_revisions_rollback_events);
	tcase_add_test(tc, test_https_warnings);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = lp_test_run(apiserver_apply_suite());
	curl_global_cleanup();
	return rc;
}
