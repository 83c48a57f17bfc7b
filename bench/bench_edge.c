/*
 * bench_edge.c: deploy times through the URL users hit (the real apiserver, controller, engine
 * and Traefik): create (zip upload) -> first 200 through Traefik, and content redeploy (new
 * archive) -> the new page through Traefik. Prints min/median/max of BENCH_ROUNDS each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launchpad/clock.h"
#include "tests/lib/platform.h"
#include "tests/lib/testutil.h"

#define BENCH_ROUNDS  10
#define BENCH_WAIT_MS 60000

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

/* Upload a one-page zip (new site when id is NULL); the site's slug into slug. */
static int upload(lp_test_platform *p, const char *id, char slug[64], const char *html,
                  lp_error *err)
{
	const char *files[] = {"index.html", html, NULL};
	const char *fields[] = {"name", "bench", "source_type", "zip", NULL};
	char *zip = lp_test_platform_path(p, "bench.zip"), path[256];
	lp_test_http_resp r = {0};
	const cJSON *v;
	int rc;

	if ((rc = lp_test_make_zip(zip, files, err)) != LP_OK)
		goto done;
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

int main(void)
{
	lp_test_platform_options opts = {.edge = 1};
	lp_test_platform *p = NULL;
	int64_t first[BENCH_ROUNDS], redeploy[BENCH_ROUNDS], t0;
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
		t0 = lp_clock_mono_ms();
		if (upload(p, NULL, slug, html, &err) != LP_OK ||
		    lp_test_platform_wait_edge(p, slug, 200, html, BENCH_WAIT_MS, &err) != LP_OK)
			goto fail;
		first[i] = lp_clock_mono_ms() - t0;
	}
	for (i = 0; i < BENCH_ROUNDS; i++) {
		snprintf(html, sizeof(html), "<h1>redeploy %d</h1>\n", i);
		t0 = lp_clock_mono_ms();
		if (upload(p, slug, slug, html, &err) != LP_OK ||
		    lp_test_platform_wait_edge(p, slug, 200, html, BENCH_WAIT_MS, &err) != LP_OK)
			goto fail;
		redeploy[i] = lp_clock_mono_ms() - t0;
	}
	report("create (zip) -> first 200 through Traefik", first, BENCH_ROUNDS);
	report("redeploy (zip) -> new page through Traefik", redeploy, BENCH_ROUNDS);
	lp_test_platform_free(p);
	return 0;
fail:
	fprintf(stderr, "bench_edge: %s\n", err.message);
	lp_test_platform_dump_logs(p, 4000);
	lp_test_platform_free(p);
	return 1;
}
