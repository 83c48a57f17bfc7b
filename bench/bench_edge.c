/*
 * bench_edge.c: deploy times through the URL users hit (the real apiserver, controller, engine
 * and Traefik): create (a 5 MB, 500-file zip upload) -> first 200 through Traefik, beside the
 * floor of `docker run` of the serve image until its first 200, and content redeploy (new
 * archive) -> the new page through Traefik. Prints min/median/max of BENCH_ROUNDS each and the
 * rows of the bench table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launchpad/clock.h"
#include "tests/lib/bench.h"
#include "tests/lib/platform.h"
#include "tests/lib/testutil.h"

#define BENCH_ROUNDS  10
#define BENCH_WAIT_MS 60000
#define BENCH_FILES   500
#define BENCH_FILE_KB 10 /* 500 x 10 KB: 5 MB */
#define BENCH_POLL_MS 5

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, int64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	printf("%-46s min %5lld ms  median %5lld ms  max %5lld ms  (n=%d)\n", what, (long long)v[0],
	       (long long)v[n / 2], (long long)v[n - 1], n);
	fflush(stdout);
}

/* Write the 500-file zip whose index.html is html at <root>/bench.zip (before any timing). */
static int make_zip(lp_test_platform *p, const char *html, lp_error *err)
{
	static char names[BENCH_FILES][32], bodies[BENCH_FILES][BENCH_FILE_KB * 1000 + 1];
	static const char *files[2 * BENCH_FILES + 1];
	char *zip = lp_test_platform_path(p, "bench.zip");
	int rc;

	if (files[2] == NULL) { /* the other files: incompressible text, the same every time */
		unsigned x = 12345;
		int f;
		size_t k;

		for (f = 1; f < BENCH_FILES; f++) {
			LP_TEST_FMT(names[f], "assets/f%03d.txt", f);
			for (k = 0; k < sizeof(bodies[f]) - 1; k++) {
				x = x * 1103515245u + 12345u;
				bodies[f][k] = "0123456789abcdef"[(x >> 16) & 15];
			}
			files[2 * f] = names[f];
			files[2 * f + 1] = bodies[f];
		}
	}
	files[0] = "index.html";
	files[1] = html;
	rc = lp_test_make_zip(zip, files, err);
	free(zip);
	return rc;
}

/* Upload <root>/bench.zip (a new site when id is NULL); the site's slug into slug. */
static int upload(lp_test_platform *p, const char *id, char slug[64], lp_error *err)
{
	const char *fields[] = {"name", "bench", "source_type", "zip", NULL};
	char *zip = lp_test_platform_path(p, "bench.zip"), path[256];
	lp_test_http_resp r = {0};
	const cJSON *v;
	int rc;

	if (id)
		snprintf(path, sizeof(path), "/api/deployments/%s/archive", id);
	if ((rc = lp_test_platform_upload(&r, p, id ? path : "/api/deployments", id ? NULL : fields,
	                                  zip, err)) != LP_OK)
		goto done;
	if (r.status != (id ? 202 : 201)) {
		rc = lp_error_set(err, LP_ERROR, "upload answered %ld: %s", r.status, r.body);
		goto done;
	}
	if (!id && cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(r.json, "slug")))
		snprintf(slug, 64, "%s", v->valuestring);
done:
	lp_test_http_resp_release(&r);
	free(zip);
	return rc;
}

/*
 * Poll Traefik for the site's page every BENCH_POLL_MS until it is html (the platform's own wait
 * polls every 50 ms: a quarter of the 0.3 s goal would be the poll's).
 */
static int wait_page(lp_test_platform *p, const char *slug, const char *html, lp_error *err)
{
	char host[300];

	lp_test_platform_site_host(host, sizeof(host), slug);
	return lp_test_platform_wait_page(p, host, html, BENCH_WAIT_MS, BENCH_POLL_MS, err);
}

int main(void)
{
	lp_test_platform_options opts = {.edge = 1};
	lp_test_platform *p = NULL;
	int64_t first[BENCH_ROUNDS], redeploy[BENCH_ROUNDS], t0, t1;
	char slug[64] = "", html[128];
	lp_error err = {0};
	int i;

	lp_test_require_docker();
	if (lp_test_platform_start(&p, &opts, &err) != LP_OK) {
		fprintf(stderr, "bench_edge: %s\n", err.message);
		return 1;
	}
	for (i = 0; i < BENCH_ROUNDS; i++) {
		snprintf(html, sizeof(html), "<h1>first %d</h1>\n", i);
		if (make_zip(p, html, &err) != LP_OK)
			goto fail;
		t0 = lp_clock_mono_ms();
		if (upload(p, NULL, slug, &err) != LP_OK)
			goto fail;
		t1 = lp_clock_mono_ms();
		if (wait_page(p, slug, html, &err) != LP_OK)
			goto fail;
		first[i] = lp_clock_mono_ms() - t0;
		printf("create %d (%s): upload answered in %lld ms, first 200 at %lld ms\n", i,
		       slug, (long long)(t1 - t0), (long long)first[i]);
	}
	for (i = 0; i < BENCH_ROUNDS; i++) {
		snprintf(html, sizeof(html), "<h1>redeploy %d</h1>\n", i);
		if (make_zip(p, html, &err) != LP_OK)
			goto fail;
		t0 = lp_clock_mono_ms();
		if (upload(p, slug, slug, &err) != LP_OK)
			goto fail;
		t1 = lp_clock_mono_ms();
		if (wait_page(p, slug, html, &err) != LP_OK)
			goto fail;
		redeploy[i] = lp_clock_mono_ms() - t0;
		printf("redeploy %d: upload answered in %lld ms, new page at %lld ms\n", i,
		       (long long)(t1 - t0), (long long)redeploy[i]);
	}
	report("create (zip) -> first 200 through Traefik", first, BENCH_ROUNDS);
	report("redeploy (zip) -> new page through Traefik", redeploy, BENCH_ROUNDS);
	{
		static lp_bench_samples fl, a, b;
		char label[96], floor_s[LP_BENCH_TEXT_MAX], meas_s[LP_BENCH_TEXT_MAX];

		LP_TEST_FMT(label, "launchpad.instance=%s", p->instance);
		if (lp_bench_docker_run_floor(&fl, p->serve_image, label, 5) != 0)
			fprintf(stderr, "bench_edge: the docker run floor failed\n");
		for (i = 0; i < BENCH_ROUNDS; i++) {
			lp_bench_add(&a, (double)first[i] / 1000);
			lp_bench_add(&b, (double)redeploy[i] / 1000);
		}
		lp_bench_spread(floor_s, &fl, "%.3f", "s");
		lp_bench_spread(meas_s, &a, "%.3f", "s");
		lp_bench_row("zip upload (5 MB, 500 files) -> first 200 via Traefik",
		             "<= floor + 0.5 s (p50)", floor_s, meas_s,
		             fl.n && lp_bench_quantile(&a, 0.5) <= lp_bench_quantile(&fl, 0.5) + 0.5
		                 ? "yes"
		                 : "NO");
		lp_bench_spread(meas_s, &b, "%.3f", "s");
		lp_bench_row("content redeploy -> new content via Traefik", "<= 0.3 s (p50)", "-",
		             meas_s, lp_bench_quantile(&b, 0.5) <= 0.3 ? "yes" : "NO");
	}
	lp_test_platform_free(p);
	return 0;
fail:
	fprintf(stderr, "bench_edge: %s\n", err.message);
	lp_test_platform_dump_logs(p, 4000);
	lp_test_platform_free(p);
	return 1;
}
