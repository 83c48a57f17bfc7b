/*
 * check_scrape.c: the metrics scraper's arithmetic on Traefik's text, into a real store: the
 * first scrape is a baseline, later ones add what each series gained (a new series all of it, a
 * counter that went down from zero), by status class, bytes and histogram bucket; other
 * instances' and unknown sites' series, and malformed lines, are skipped; a site being deleted
 * gets nothing, a deleted one keeps nothing; old minutes go after the retention.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/context.h"
#include "controller/metrics.h"
#include "launchpad/config.h"
#include "launchpad/crypto.h"
#include "launchpad/store.h"
#include "tests/lib/testutil.h"

#define T0     1800000000000LL /* a minute's start, ms */
#define MINUTE 60000LL
#define DAY    86400000LL

static char *g_dir;
static lp_config *g_cfg;
static lp_ctx *g_ctx;
static lp_store *g_st;
static lp_scraper *g_s;

static void setup(void)
{
	char data[1024], db[1200];
	char *argv[] = {"check_scrape", NULL};
	lp_error err = {0};

	g_dir = lp_test_mkdtemp("lp-scrape");
	ck_assert_ptr_nonnull(g_dir);
	LP_TEST_FMT(data, "%s/data", g_dir);
	setenv("LAUNCHPAD_DATA_DIR", data, 1);
	setenv("LAUNCHPAD_INSTANCE", "u1", 1);
	setenv("LAUNCHPAD_METRICS_RETENTION_DAYS", "7", 1);
	ck_assert_msg(lp_config_new(&g_cfg, NULL, NULL, 1, argv, &err) == LP_OK, "%s", err.message);
	ck_assert_msg(lp_ctx_new(&g_ctx, g_cfg, &err) == LP_OK, "%s", err.message);
	LP_TEST_FMT(db, "%s/db/launchpad.db", data);
	ck_assert_msg(lp_store_open(&g_st, db, &err) == LP_OK, "%s", err.message);
	ck_assert_int_eq(lp_scraper_new(&g_s, g_ctx, &err), LP_OK);
}

static void teardown(void)
{
	lp_scraper_free(g_s);
	lp_store_close(g_st);
	lp_ctx_free(g_ctx);
	lp_config_free(g_cfg);
	lp_test_sh("rm -rf %s", g_dir);
	free(g_dir);
}

static char *create(const char *name)
{
	char json[128], hash[LP_SHA256_HEX_LEN];
	lp_store_site_new in = {
	    .name = name, .spec_json = json, .spec_hash = hash, .trigger = LP_TRIGGER_CREATE};
	lp_store_site *s = NULL;
	lp_error err = {0};
	char *id;

	LP_TEST_FMT(json, "{\"name\":\"%s\"}", name);
	lp_crypto_sha256_hex(hash, json, strlen(json));
	ck_assert_msg(lp_store_site_create(&s, g_st, &in, &err) == LP_OK, "%s", err.message);
	id = strdup(s->id);
	lp_store_site_free(s);
	return id;
}

/* Traefik's text for service svc: requests by code, a histogram, a sum and bytes. */
static void traefik_text(char *out, size_t n, const char *svc, int ok, int missing, int slow,
                         double sum, int bytes_out)
{
	int rc = snprintf(
	    out, n,
	    "# HELP traefik_service_requests_total How many HTTP requests processed on a service.\n"
	    "# TYPE traefik_service_requests_total counter\n"
	    "traefik_service_requests_total{code=\"200\",method=\"GET\",protocol=\"http\","
	    "service=\"%s\"} %d\n"
	    "traefik_service_requests_total{code=\"404\",method=\"GET\",protocol=\"http\","
	    "service=\"%s\"} %d\n"
	    "traefik_service_request_duration_seconds_bucket{code=\"200\",method=\"GET\","
	    "protocol=\"http\",service=\"%s\",le=\"0.005\"} %d\n"
	    "traefik_service_request_duration_seconds_bucket{code=\"200\",method=\"GET\","
	    "protocol=\"http\",service=\"%s\",le=\"1\"} %d\n"
	    "traefik_service_request_duration_seconds_bucket{code=\"200\",method=\"GET\","
	    "protocol=\"http\",service=\"%s\",le=\"+Inf\"} %d\n"
	    "traefik_service_request_duration_seconds_sum{code=\"200\",method=\"GET\","
	    "protocol=\"http\",service=\"%s\"} %g\n"
	    "traefik_service_responses_bytes_total{code=\"200\",method=\"GET\",protocol=\"http\","
	    "service=\"%s\"} %d\n"
	    "traefik_entrypoint_requests_total{code=\"200\",entrypoint=\"web\"} 99999\n",
	    svc, ok, svc, missing, svc, ok - slow, svc, ok - slow, svc, ok, svc, sum, svc,
	    bytes_out);

	ck_assert(rc > 0 && (size_t)rc < n);
}

static size_t feed(const char *text, int64_t now)
{
	lp_error err = {0};
	size_t n = 99;

	ck_assert_msg(lp_scraper_feed(&n, g_s, text, strlen(text), now, &err) == LP_OK, "%s",
	              err.message);
	return n;
}

static lp_store_metrics total_of(const char *id, size_t *points)
{
	lp_store_metrics *p = NULL, t;
	lp_error err = {0};
	size_t n = 0;

	ck_assert_msg(lp_store_metrics_series(&p, &n, &t, g_st, id, 0, MINUTE, &err) == LP_OK, "%s",
	              err.message);
	free(p);
	if (points)
		*points = n;
	return t;
}

START_TEST(test_baseline_then_deltas_by_class_and_bucket)
{
	char *blog = create("blog"), text[8192], two[16384];
	lp_store_metrics t;
	size_t points;

	/* the baseline: 10 requests already counted by Traefik are not this controller's */
	traefik_text(text, sizeof(text), "u1-blog@docker", 10, 2, 1, 0.5, 1000);
	ck_assert_uint_eq(feed(text, T0), 0);
	t = total_of(blog, &points);
	ck_assert_uint_eq(points, 0);

	/* 5 more 200s (1 of them slow), 3 more 404s, 400 bytes; another instance's blog ignored */
	traefik_text(text, sizeof(text), "u1-blog@docker", 15, 5, 2, 0.75, 1400);
	LP_TEST_FMT(two, "%s%s", text,
	            "traefik_service_requests_total{code=\"200\",method=\"GET\","
	            "protocol=\"http\",service=\"u2-blog@docker\"} 777\n");
	ck_assert_uint_eq(feed(two, T0 + 15000), 1);
	t = total_of(blog, &points);
	ck_assert_uint_eq(points, 1);
	ck_assert_int_eq(t.requests[1], 5);
	ck_assert_int_eq(t.requests[3], 3);
	ck_assert_int_eq(t.requests[0] + t.requests[2] + t.requests[4], 0);
	ck_assert_int_eq(t.bytes_out, 400);
	ck_assert_double_eq_tol(t.latency_sum, 0.25, 1e-9);
	ck_assert_int_eq(t.latency[0], 4);  /* <= 5 ms */
	ck_assert_int_eq(t.latency[7], 0);  /* <= 1 s: no new one between 5 ms and 1 s */
	ck_assert_int_eq(t.latency[10], 1); /* slower than 5 s */
	ck_assert_int_eq(t.time, T0);

	/* nothing new: nothing written */
	ck_assert_uint_eq(feed(two, T0 + 30000), 0);

	/* Traefik restarted: its counters start again; a new series (a 500) counts whole */
	traefik_text(text, sizeof(text), "u1-blog@docker", 2, 0, 0, 0.01, 100);
	LP_TEST_FMT(two, "%s%s", text,
	            "traefik_service_requests_total{code=\"502\",method=\"GET\","
	            "protocol=\"http\",service=\"u1-blog@docker\"} 4\n");
	ck_assert_uint_eq(feed(two, T0 + MINUTE + 1), 1);
	t = total_of(blog, &points);
	ck_assert_uint_eq(points, 2);
	ck_assert_int_eq(t.requests[1], 7);
	ck_assert_int_eq(t.requests[4], 4);
	ck_assert_int_eq(t.bytes_out, 500);
	free(blog);
}
END_TEST

START_TEST(test_unknown_malformed_deleted_and_old)
{
	char *blog = create("blog"), *gone = create("gone"), text[8192], all[32768];
	char huge[LP_SCRAPE_LINE_MAX + 64];
	lp_error err = {0};
	size_t points;

	memset(huge, 'x', sizeof(huge) - 2);
	huge[sizeof(huge) - 2] = '\n';
	huge[sizeof(huge) - 1] = '\0';
	/* baseline with nothing */
	ck_assert_uint_eq(feed("", T0), 0);
	traefik_text(text, sizeof(text), "u1-blog@docker", 3, 0, 0, 0.01, 30);
	LP_TEST_FMT(all, "%s%s%s%s%s", text,
	            "traefik_service_requests_total{code=\"200\",service=\"u1-ghost@docker\"} 9\n",
	            "traefik_service_requests_total{code=200,service=\"u1-blog@docker\"} 50\n"
	            "traefik_service_requests_total{code=\"200\",service=\"u1-blog@docker\" 50\n"
	            "traefik_service_requests_total{code=\"200\",service=\"u1-blog@docker\"} NaN\n"
	            "traefik_service_requests_total{code=\"200\",service=\"u1-blog@docker\"} -5\n"
	            "traefik_service_requests_total{service=\"u1-gone\"} 5\n",
	            huge,
	            "traefik_service_requests_total{code=\"200\",service=\"u1-gone@docker\"} 6");
	/* blog and gone got requests; the ghost has no site, the broken lines count nothing */
	ck_assert_uint_eq(feed(all, T0 + 1000), 2);
	(void)total_of(blog, &points);
	ck_assert_int_eq(total_of(blog, NULL).requests[1], 3);
	ck_assert_int_eq(total_of(gone, NULL).requests[1], 6);

	/* gone is being deleted: what it gains is not recorded; deleted, its rows go */
	ck_assert_int_eq(lp_store_site_mark_deleted(g_st, gone, 0, &err), LP_OK);
	LP_TEST_FMT(all, "%s%s", text,
	            "traefik_service_requests_total{code=\"200\",service=\"u1-gone@docker\"} 9");
	(void)feed(all, T0 + 2000);
	ck_assert_int_eq(total_of(gone, NULL).requests[1], 6);
	ck_assert_int_eq(lp_store_site_delete(g_st, gone, &err), LP_OK);
	(void)total_of(gone, &points);
	ck_assert_uint_eq(points, 0);

	/* eight days on, blog's old minute is past the seven days kept */
	traefik_text(text, sizeof(text), "u1-blog@docker", 4, 0, 0, 0.02, 40);
	ck_assert_uint_eq(feed(text, T0 + 8 * DAY), 1);
	(void)total_of(blog, &points);
	ck_assert_uint_eq(points, 1);
	ck_assert_int_eq(total_of(blog, NULL).requests[1], 1);
	free(blog);
	free(gone);
}
END_TEST

static Suite *scrape_suite(void)
{
	Suite *s = suite_create("scrape");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_baseline_then_deltas_by_class_and_bucket);
	tcase_add_test(tc, test_unknown_malformed_deleted_and_old);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lp_test_run(scrape_suite());
}
