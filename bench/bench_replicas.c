/*
 * bench_replicas.c: `docker rm -f` of one of two replicas, again and again, under a steady load
 * through Traefik (the real apiserver, controller, engine and Traefik). Prints, per kill, the
 * requests that failed and how long healing back to two routed replicas took, then the totals.
 * Traefik retries a request only when it could not send it: one that a killed nginx had already
 * read fails. This measures how often that happens; it asserts nothing but that it could run.
 * It runs as a Check test: the platform's helpers fill their buffers through LP_TEST_FMT, whose
 * check needs a running test.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launchpad/clock.h"
#include "tests/lib/load.h"
#include "tests/lib/platform.h"
#include "tests/lib/testutil.h"

#define BENCH_KILLS   20
#define BENCH_WAIT_MS 60000
#define BENCH_RATE    300
#define BENCH_THREADS 4
#define BENCH_SETTLE  1000 /* ms of load after each heal */
#define IDS_MAX       1024

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Running serve containers of slug, their ids newline-separated into out. */
static int replicas(char out[IDS_MAX], const lp_test_platform *p, const char *slug)
{
	char cmd[512];
	size_t len = 0;
	int n = 0;
	FILE *f;

	out[0] = '\0';
	snprintf(cmd, sizeof(cmd),
	         "docker ps -q --no-trunc --filter label=launchpad.instance=%s --filter "
	         "label=launchpad.site=%s --filter label=launchpad.role=serve",
	         p->instance, slug);
	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	while (len + 80 < IDS_MAX && fgets(out + len, (int)(IDS_MAX - len), f) != NULL) {
		len += strlen(out + len);
		n++;
	}
	pclose(f);
	return n;
}

/* Servers of slug's service that Traefik's API shows UP. */
static int routed_up(const lp_test_platform *p, const char *slug)
{
	char url[256];
	lp_test_http_resp r = {0};
	const cJSON *st, *v;
	lp_error err = {0};
	int up = 0;

	snprintf(url, sizeof(url), "http://%s/api/http/services/%s-%s@docker", p->edge_api,
	         p->instance, slug);
	if (lp_test_http_request(&r, "GET", url, NULL, 0, NULL, NULL, NULL, &err) == LP_OK &&
	    r.json && (st = cJSON_GetObjectItemCaseSensitive(r.json, "serverStatus")))
		cJSON_ArrayForEach(v, st) up += cJSON_IsString(v) && !strcmp(v->valuestring, "UP");
	lp_test_http_resp_release(&r);
	return up;
}

/* Until slug runs exactly n containers, none of them avoid, all n UP in Traefik. */
static int wait_replicas(const lp_test_platform *p, const char *slug, int n, const char *avoid)
{
	int64_t t0 = lp_clock_mono_ms();
	char ids[IDS_MAX];

	while (lp_clock_mono_ms() - t0 < BENCH_WAIT_MS) {
		if (replicas(ids, p, slug) == n && (avoid == NULL || strstr(ids, avoid) == NULL) &&
		    routed_up(p, slug) == n)
			return 0;
		lp_clock_sleep_ms(20);
	}
	return -1;
}

static int setup_site(lp_test_platform *p, char slug[64], lp_error *err)
{
	const char *files[] = {"index.html", "<h1>replicas</h1>\n", NULL};
	const char *fields[] = {"name", "bench-replicas", "source_type", "zip", NULL};
	char *zip = lp_test_platform_path(p, "site.zip"), path[128], body[1024];
	lp_test_http_resp r = {0};
	const cJSON *v;
	int rc;

	if ((rc = lp_test_make_zip(zip, files, err)) != LP_OK ||
	    (rc = lp_test_platform_upload(&r, p, "/api/deployments", fields, zip, err)) != LP_OK)
		goto done;
	if (r.status != 201 ||
	    !cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(r.json, "slug")))
		goto fail;
	snprintf(slug, 64, "%s", v->valuestring);
	if (!cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(r.json, "archive_digest")))
		goto fail;
	snprintf(body, sizeof(body),
	         "{\"apiVersion\":\"launchpad.dev/v1\",\"kind\":\"Site\",\"metadata\":{\"name\":"
	         "\"%s\"},\"spec\":{\"source\":{\"archive\":{\"digest\":\"%s\"}},"
	         "\"serve\":{\"replicas\":2}}}",
	         slug, v->valuestring);
	snprintf(path, sizeof(path), "/api/deployments/%s", slug);
	lp_test_http_resp_release(&r);
	if ((rc = lp_test_platform_api(&r, p, "PUT", path, body, err)) != LP_OK)
		goto done;
	if (r.status != 200)
		goto fail;
	rc = wait_replicas(p, slug, 2, NULL) == 0
	         ? LP_OK
	         : lp_error_set(err, LP_ETIMEOUT, "two replicas never ran, routed");
	goto done;
fail:
	rc = lp_error_set(err, LP_ERROR, "the API answered %ld: %s", r.status, r.body);
done:
	lp_test_http_resp_release(&r);
	free(zip);
	return rc;
}

START_TEST(bench_rm_f_of_one_of_two)
{
	lp_test_platform_options opts = {.edge = 1};
	lp_test_platform *p = NULL;
	lp_test_load *load = NULL;
	lp_test_load_stats st;
	char slug[64], ids[IDS_MAX], victim[80], url[128], host[128], cmd[256];
	int64_t heal[BENCH_KILLS], t0;
	uint64_t before, failed, total = 0;
	lp_error err = {0};
	int i, hit = 0, rc = 1;

	if (lp_test_platform_start(&p, &opts, &err) != LP_OK || setup_site(p, slug, &err) != LP_OK)
		goto done;
	snprintf(url, sizeof(url), "http://%s/", p->edge_http);
	lp_test_platform_site_host(host, sizeof(host), slug);
	if (lp_test_load_start(&load, url, host, BENCH_THREADS, BENCH_RATE, NULL, NULL, &err) !=
	    LP_OK)
		goto done;
	lp_clock_sleep_ms(BENCH_SETTLE);
	for (i = 0; i < BENCH_KILLS; i++) {
		lp_test_load_peek(&st, load);
		before = lp_test_load_failed(&st);
		replicas(ids, p, slug);
		snprintf(victim, sizeof(victim), "%.64s", ids + (i % 2 ? 65 : 0));
		snprintf(cmd, sizeof(cmd), "docker rm -f %s >/dev/null", victim);
		t0 = lp_clock_mono_ms();
		if (system(cmd) != 0) {
			lp_error_set(&err, LP_ERROR, "%s failed", cmd);
			goto done;
		}
		if (wait_replicas(p, slug, 2, victim) != 0) {
			lp_error_set(&err, LP_ETIMEOUT, "kill %d: never healed back to 2", i + 1);
			goto done;
		}
		heal[i] = lp_clock_mono_ms() - t0;
		lp_clock_sleep_ms(BENCH_SETTLE);
		lp_test_load_peek(&st, load);
		failed = lp_test_load_failed(&st) - before;
		total += failed;
		hit += failed > 0;
		printf(
		    "kill %2d: healed to 2 routed replicas in %4lld ms, %llu failed request(s)\n",
		    i + 1, (long long)heal[i], (unsigned long long)failed);
		fflush(stdout);
	}
	lp_test_load_stop(&st, load);
	load = NULL;
	qsort(heal, BENCH_KILLS, sizeof(heal[0]), cmp);
	printf("rm -f of one of 2 replicas under %d req/s through Traefik: %d kills, %llu of %llu "
	       "requests failed (%d kill(s) with any); heal min %lld / median %lld / max %lld ms\n",
	       BENCH_RATE, BENCH_KILLS, (unsigned long long)total, (unsigned long long)st.requests,
	       hit, (long long)heal[0], (long long)heal[BENCH_KILLS / 2],
	       (long long)heal[BENCH_KILLS - 1]);
	if (st.first_failure[0])
		printf("first failure: %s\n", st.first_failure);
	rc = 0;
done:
	lp_test_load_stop(NULL, load);
	lp_test_platform_free(p);
	ck_assert_msg(rc == 0, "bench_replicas: %s", err.message);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bench_replicas");
	TCase *tc = tcase_create("replicas");

	lp_test_require_docker();
	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, bench_rm_f_of_one_of_two);
	suite_add_tcase(s, tc);
	return lp_test_run(s);
}
