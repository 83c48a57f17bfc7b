/*
 * check_site_metrics.c: per-site metrics through the real Traefik. The platform with its edge and
 * a one-second scrape: N requests to a site (some 200, some 404) → GET .../metrics reports exactly
 * that many more, in the right status classes, with bytes and a latency histogram that agree; a
 * bad window is a 400; a deleted site's rows are gone from the store with it. The controller's
 * own counters answer on its loopback port.
 */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launchpad/clock.h"
#include "tests/lib/fixture.h"
#include "tests/lib/platform.h"
#include "tests/lib/testutil.h"

#define LIVE_WAIT_MS   60000
#define EDGE_WAIT_MS   30000
#define SETTLE_WAIT_MS 60000 /* for the counts to arrive or stand still; bounded, not asserted */
#define N_OK           25
#define N_MISSING      7

static lp_test_platform *g_p;

#define REQUIRE(cond, ...) LP_TEST_REQUIRE(&g_p, cond, __VA_ARGS__)
#define REQUIRE_OK(call)   LP_TEST_REQUIRE_OK(&g_p, call)

static char g_port_env[64];
static unsigned g_ctrl_port;

static void setup(void)
{
	static const char *env[] = {"LAUNCHPAD_METRICS_INTERVAL_SECONDS=1", g_port_env, NULL};
	lp_test_platform_options opts = {.edge = 1, .env = env};
	lp_error err = {0};
	int rc;

	/* the controller's own counters on a loopback port of this run */
	g_ctrl_port = 20000 + (unsigned)getpid() % 20000;
	LP_TEST_FMT(g_port_env, "LAUNCHPAD_CONTROLLER_METRICS_PORT=%u", g_ctrl_port);

	rc = lp_test_platform_start(&g_p, &opts, &err);
	ck_assert_msg(rc == LP_OK, "cannot start the platform: %s", err.message);
}

static void teardown(void)
{
	lp_test_fixture_teardown(&g_p);
}

/* What GET .../metrics?window=1h says: requests by class, total bytes out, histogram count. */
struct counts {
	double cls[5];
	double requests;
	double bytes_out;
	double histogram;
};

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static void read_counts(struct counts *out, const char *id)
{
	static const char *const cls[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
	char path[256];
	lp_test_http_resp r = {0};
	lp_error err = {0};
	const cJSON *totals, *by, *b;
	int i;

	memset(out, 0, sizeof(*out));
	LP_TEST_FMT(path, "/api/deployments/%s/metrics?window=1h", id);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "GET", path, NULL, &err));
	REQUIRE(r.status == 200, "metrics answered %ld: %s", r.status, r.body);
	totals = cJSON_GetObjectItemCaseSensitive(r.json, "totals");
	by = cJSON_GetObjectItemCaseSensitive(totals, "byClass");
	REQUIRE(by != NULL, "no totals.byClass in %s", r.body);
	for (i = 0; i < 5; i++)
		out->cls[i] = num(by, cls[i]);
	out->requests = num(totals, "requests");
	out->bytes_out = num(totals, "bytesOut");
	b = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(totals, "latency"),
	                                     "buckets");
	REQUIRE(cJSON_GetArraySize(b) == 11, "not 11 latency buckets in %s", r.body);
	for (i = 0; i < cJSON_GetArraySize(b); i++)
		out->histogram += num(cJSON_GetArrayItem(b, i), "count");
	lp_test_http_resp_release(&r);
}

/* Counts that stand still across three scrape intervals: every earlier request is in them. */
static void settled_counts(struct counts *out, const char *id)
{
	struct counts prev;
	int64_t until = lp_clock_mono_ms() + SETTLE_WAIT_MS;

	read_counts(&prev, id);
	for (;;) {
		usleep(3100 * 1000);
		read_counts(out, id);
		if (!memcmp(out, &prev, sizeof(prev)) || lp_clock_mono_ms() > until)
			return;
		prev = *out;
	}
}

static long get(const char *host, const char *path)
{
	lp_error err = {0};
	long status = 0;

	REQUIRE_OK(lp_test_platform_fetch_edge(NULL, &status, g_p, host, path, &err));
	return status;
}

static int rows_of(const char *site_id)
{
	char *db = lp_test_platform_data_path(g_p, "db/launchpad.db"), sql[256];
	sqlite3 *h = NULL;
	sqlite3_stmt *q = NULL;
	int n = -1;

	LP_TEST_FMT(sql, "SELECT count(*) FROM site_metrics WHERE site_id = '%s'", site_id);
	if (db && sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(h);
	free(db);
	return n;
}

START_TEST(test_requests_counted_by_class_and_gone_with_the_site)
{
	const char *fields[] = {"name", "counted", "source_type", "zip", NULL};
	const char *files[] = {"index.html", "counted page", NULL};
	char *zip = lp_test_platform_path(g_p, "site.zip"), id[64], slug[64], host[128], path[256];
	struct counts before, after;
	lp_test_http_resp r = {0};
	lp_error err = {0};
	const cJSON *v;
	int64_t until;
	int i;

	REQUIRE(zip != NULL, "oom");
	REQUIRE_OK(lp_test_make_zip(zip, files, &err));
	REQUIRE_OK(lp_test_platform_upload(&r, g_p, "/api/deployments", fields, zip, &err));
	REQUIRE(r.status == 201, "create answered %ld: %s", r.status, r.body);
	v = cJSON_GetObjectItemCaseSensitive(r.json, "id");
	REQUIRE(cJSON_IsString(v), "no id in %s", r.body);
	LP_TEST_FMT(id, "%s", v->valuestring);
	v = cJSON_GetObjectItemCaseSensitive(r.json, "slug");
	REQUIRE(cJSON_IsString(v), "no slug in %s", r.body);
	LP_TEST_FMT(slug, "%s", v->valuestring);
	lp_test_http_resp_release(&r);
	free(zip);
	REQUIRE_OK(lp_test_platform_wait_status(NULL, g_p, id, "live", LIVE_WAIT_MS, &err));
	REQUIRE_OK(lp_test_platform_wait_edge(g_p, slug, 200, "counted page", EDGE_WAIT_MS, &err));
	lp_test_platform_site_host(host, sizeof(host), slug);

	/* a bad window is the client's error */
	LP_TEST_FMT(path, "/api/deployments/%s/metrics?window=2h", id);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "GET", path, NULL, &err));
	REQUIRE(r.status == 400, "window=2h answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);

	settled_counts(&before, id);
	for (i = 0; i < N_OK; i++)
		REQUIRE(get(host, "/") == 200, "GET / was not 200");
	for (i = 0; i < N_MISSING; i++)
		REQUIRE(get(host, "/no-such-page") == 404, "GET /no-such-page was not 404");

	/* the counts arrive within a few scrapes; then they must be exact */
	until = lp_clock_mono_ms() + SETTLE_WAIT_MS;
	do {
		usleep(500 * 1000);
		read_counts(&after, id);
	} while (
	    (after.cls[1] < before.cls[1] + N_OK || after.cls[3] < before.cls[3] + N_MISSING) &&
	    lp_clock_mono_ms() < until);
	settled_counts(&after, id);
	ck_assert_double_eq(after.cls[1] - before.cls[1], N_OK);
	ck_assert_double_eq(after.cls[3] - before.cls[3], N_MISSING);
	ck_assert_double_eq(after.cls[0], before.cls[0]);
	ck_assert_double_eq(after.cls[2], before.cls[2]);
	ck_assert_double_eq(after.cls[4], before.cls[4]);
	ck_assert_double_eq(after.requests - before.requests, N_OK + N_MISSING);
	ck_assert_double_eq(after.histogram - before.histogram, N_OK + N_MISSING);
	/* every 200 carried the page */
	ck_assert(after.bytes_out - before.bytes_out >= N_OK * strlen("counted page"));
	ck_assert_int_gt(rows_of(id), 0);

	/* the controller's own counters: it reconciled, nothing is queued or building now */
	LP_TEST_FMT(path, "http://127.0.0.1:%u/metrics", g_ctrl_port);
	REQUIRE_OK(lp_test_http_request(&r, "GET", path, NULL, 0, NULL, NULL, NULL, &err));
	REQUIRE(r.status == 200, "controller metrics answered %ld: %s", r.status, r.body);
	{
		const char *n = strstr(r.body, "\nlaunchpad_controller_reconciles_total ");

		REQUIRE(n && atol(n + strlen("\nlaunchpad_controller_reconciles_total ")) > 0,
		        "no reconciles counted in %s", r.body);
		REQUIRE(
		    strstr(r.body, "\nlaunchpad_controller_builds_running 0\n") &&
		        strstr(r.body, "\nlaunchpad_controller_reconcile_duration_seconds_count "),
		    "no builds_running 0 or durations in %s", r.body);
	}
	lp_test_http_resp_release(&r);
	LP_TEST_FMT(path, "http://127.0.0.1:%u/other", g_ctrl_port);
	REQUIRE_OK(lp_test_http_request(&r, "GET", path, NULL, 0, NULL, NULL, NULL, &err));
	REQUIRE(r.status == 404, "controller /other answered %ld", r.status);
	lp_test_http_resp_release(&r);

	/* deleted: the API knows it no more, the store keeps none of its rows */
	LP_TEST_FMT(path, "/api/deployments/%s", id);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "DELETE", path, NULL, &err));
	REQUIRE(r.status == 202 || r.status == 200 || r.status == 204, "delete answered %ld: %s",
	        r.status, r.body);
	lp_test_http_resp_release(&r);
	REQUIRE_OK(lp_test_platform_wait_gone(g_p, id, LIVE_WAIT_MS, &err));
	ck_assert_int_eq(rows_of(id), 0);
	LP_TEST_FMT(path, "/api/deployments/%s/metrics", id);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "GET", path, NULL, &err));
	ck_assert_int_eq(r.status, 404);
	lp_test_http_resp_release(&r);
}
END_TEST

static Suite *site_metrics_suite(void)
{
	Suite *s = suite_create("site_metrics");
	TCase *tc = tcase_create("site_metrics");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_requests_counted_by_class_and_gone_with_the_site);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(site_metrics_suite());
	int failed;

	lp_test_require_docker();
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
