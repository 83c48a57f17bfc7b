/*
 * bench_edge_load.c: LaunchPad's sites under load through the real edge (Traefik), each beside its
 * floor on the same Traefik in the same run:
 *   - request throughput (wrk, 32 connections) to a LaunchPad site vs a bare container of the same
 *     serve image with its default config serving the same page: req/s and p99;
 *   - failed requests over 20 redeploys under a steady load (tests/lib/load.h), LaunchPad's
 *     (upload a new archive) vs the seed's v1 pipeline (scripts/bench/seed-v1.sh: stop and remove
 *     the old container, copy the files, start a new one, with the same Traefik labels).
 * Everything it starts carries launchpad.instance=<the platform's instance> and goes with it.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launchpad/clock.h"
#include "launchpad/fmt.h"
#include "tests/lib/bench.h"
#include "tests/lib/load.h"
#include "tests/lib/platform.h"
#include "tests/lib/testutil.h"

#define BENCH_WAIT_MS   60000
#define BENCH_POLL_MS   5
#define BENCH_CONNS     32
#define BENCH_SECONDS   3
#define BENCH_WRK_RUNS  5  /* pairs: floor then site, back to back; the ratio is a pair's */
#define BENCH_REDEPLOYS 20 /* each pipeline */
#define BENCH_THREADS   4  /* the steady load: connections */
#define BENCH_RATE      200
#define BENCH_SETTLE_MS 200 /* of load after a page changed, before the next redeploy */
#define BENCH_ASSETS    30  /* 10 KB files beside index.html: what the copy copies */
#define CMD_MAX         4096
#define FLOOR_HOST      "bench-floor.localhost"
#define V1_HOST         "bench-v1.localhost"

struct bench {
	lp_test_platform *p;
	char network[128];
	char labels[1024]; /* the instance's label, for everything started here */
	char src[1200];    /* the files of the next deploy */
	char zip[1200];
};

static int wait_page(lp_test_platform *p, const char *host, const char *want, lp_error *err)
{
	return lp_test_platform_wait_page(p, host, want, BENCH_WAIT_MS, BENCH_POLL_MS, err);
}

/* src/index.html is page; the assets are written once (the same bytes for both pipelines). */
static int write_src(struct bench *b, const char *page, lp_error *err)
{
	char path[1300];
	FILE *f;

	if (lp_test_sh_try(
	        err,
	        "mkdir -p %s/assets && cd %s/assets && { [ -e ../../.assets-done ] || { for i in "
	        "$(seq "
	        "1 %d); do head -c 10000 /dev/urandom | od -An -tx1 | head -c 10000 > a$i.txt; "
	        "done && touch ../../.assets-done; }; }",
	        b->src, b->src, BENCH_ASSETS) != LP_OK)
		return err->code;
	LP_TEST_FMT(path, "%s/index.html", b->src);
	if ((f = fopen(path, "w")) == NULL || fputs(page, f) < 0 || fclose(f) != 0)
		return lp_error_set(err, LP_EIO, "writing %s", path);
	return LP_OK;
}

/* Upload src as a zip: a new site (slug filled in) or a new revision of slug. */
static int lp_deploy(struct bench *b, char slug[64], lp_error *err)
{
	const char *fields[] = {"name", "bench", "source_type", "zip", NULL};
	lp_test_http_resp r = {0};
	char path[256];
	const cJSON *v;
	int rc;

	if ((rc = lp_test_sh_try(err, "rm -f %s && cd %s && zip -qr %s .", b->zip, b->src,
	                         b->zip)) != LP_OK)
		return rc;
	if (*slug)
		LP_TEST_FMT(path, "/api/deployments/%s/archive", slug);
	if ((rc = lp_test_platform_upload(&r, b->p, *slug ? path : "/api/deployments",
	                                  *slug ? NULL : fields, b->zip, err)) != LP_OK)
		goto done;
	if (r.status != (*slug ? 202 : 201)) {
		rc = lp_error_set(err, LP_ERROR, "upload answered %ld: %s", r.status, r.body);
		goto done;
	}
	if (!*slug && cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(r.json, "slug")))
		snprintf(slug, 64, "%s", v->valuestring);
done:
	lp_test_http_resp_release(&r);
	return rc;
}

/* The Traefik labels of a hand-run container routed at host (what a v1 user would write). */
static void traefik_labels(char *out, size_t outlen, const struct bench *b, const char *id,
                           const char *host)
{
	lp_test_fmt(out, outlen,
	            "%s traefik.enable=true traefik.docker.network=%s "
	            "'traefik.http.routers.%s-%s.rule=Host(`%s`)' "
	            "traefik.http.services.%s-%s.loadbalancer.server.port=80",
	            b->labels, b->network, b->p->instance, id, host, b->p->instance, id);
}

static int start_floor(struct bench *b, lp_error *err)
{
	char labels[2048], args[2600], *l, *save = NULL;
	size_t k = 0;

	traefik_labels(labels, sizeof(labels), b, "floor", FLOOR_HOST);
	args[0] = '\0';
	for (l = strtok_r(labels, " ", &save); l; l = strtok_r(NULL, " ", &save))
		k += (size_t)snprintf(args + k, sizeof(args) - k, " --label %s", l);
	if (k >= sizeof(args))
		return lp_error_set(err, LP_ETOOBIG, "floor labels too long");
	return lp_test_sh_try(err,
	                      "docker run -d --name %s-bench-floor --network %s%s %s >/dev/null",
	                      b->p->instance, b->network, args, b->p->serve_image);
}

/* The seed's v1 redeploy of src (scripts/bench/seed-v1.sh). */
static int v1_deploy(struct bench *b, lp_error *err)
{
	char labels[2048], *script = lp_test_src_path("scripts/bench/seed-v1.sh");
	int rc;

	traefik_labels(labels, sizeof(labels), b, "v1", V1_HOST);
	rc = lp_test_sh_try(err, "%s %s-bench-v1 %s %s/v1-html %s %s %s", script, b->p->instance,
	                    b->src, b->p->root, b->p->serve_image, b->network, labels);
	free(script);
	return rc;
}

/* The first body a_page refused, to show what a failure was. */
static pthread_mutex_t refused_mu = PTHREAD_MUTEX_INITIALIZER;
static char refused[200];

/*
 * One whole page of some deploy of the site: "<h1>TAG N</h1>\n", or ctx, the first page (the
 * throughput's). An older whole page is not a failure: nginx's old workers answer the requests
 * already on their connections after a reload, so a page of the previous revision can come
 * shortly after the new one was first seen.
 */
static int a_page(void *ctx, const char *body, size_t len)
{
	int ok = (len > 10 && !strncmp(body, "<h1>", 4) && !strcmp(body + len - 6, "</h1>\n")) ||
	         (ctx && !strcmp(body, ctx));

	pthread_mutex_lock(&refused_mu);
	if (!ok && !refused[0])
		lp_fmt_text(refused, sizeof(refused), "%zu bytes: %.150s", len, body);
	pthread_mutex_unlock(&refused_mu);
	return ok;
}

typedef int (*deploy_fn)(struct bench *b, char slug[64], lp_error *err);

static int lp_redeploy(struct bench *b, char slug[64], lp_error *err)
{
	return lp_deploy(b, slug, err);
}

static int v1_redeploy(struct bench *b, char slug[64], lp_error *err)
{
	(void)slug;
	return v1_deploy(b, err);
}

/* n redeploys of tag under the steady load on host, each until its page is served. */
static int redeploys(lp_test_load_stats *out, lp_bench_samples *times, struct bench *b,
                     const char *tag, const char *host, char slug[64], deploy_fn deploy,
                     const char *first_page, lp_error *err)
{
	lp_test_load *load = NULL;
	char url[128], page[128];
	int64_t t0;
	int i, rc;

	LP_TEST_FMT(url, "http://%s/", b->p->edge_http);
	if ((rc = lp_test_load_start(&load, url, host, BENCH_THREADS, BENCH_RATE, a_page,
	                             (void *)first_page, err)) != LP_OK)
		return rc;
	lp_clock_sleep_ms(BENCH_SETTLE_MS);
	for (i = 0; i < BENCH_REDEPLOYS; i++) {
		LP_TEST_FMT(page, "<h1>%s %d</h1>\n", tag, i + 1);
		if ((rc = write_src(b, page, err)) != LP_OK)
			break;
		t0 = lp_clock_mono_ms();
		if ((rc = deploy(b, slug, err)) != LP_OK ||
		    (rc = wait_page(b->p, host, page, err)) != LP_OK)
			break;
		lp_bench_add(times, (double)(lp_clock_mono_ms() - t0) / 1000);
		lp_clock_sleep_ms(BENCH_SETTLE_MS);
	}
	lp_test_load_stop(out, load);
	printf("%s: %d redeploys under %d req/s: %llu of %llu requests failed (%llu non-2xx, %llu "
	       "socket errors, %llu bad bodies)%s%s\n",
	       tag, i, BENCH_RATE, (unsigned long long)lp_test_load_failed(out),
	       (unsigned long long)out->requests, (unsigned long long)out->non2xx,
	       (unsigned long long)out->socket_errs, (unsigned long long)out->bad_bodies,
	       out->first_failure[0] ? "; first: " : "", out->first_failure);
	if (out->first_failure_ms >= 0)
		printf("%s: failures from %lld ms to %lld ms after the load started\n", tag,
		       (long long)out->first_failure_ms, (long long)out->last_failure_ms);
	pthread_mutex_lock(&refused_mu);
	if (refused[0])
		printf("%s: the first body refused: %s\n", tag, refused);
	refused[0] = '\0';
	pthread_mutex_unlock(&refused_mu);
	fflush(stdout);
	return rc;
}

static int throughput(struct bench *b, const char *host, lp_error *err)
{
	static lp_bench_samples frps, fp99, srps, sp99, ratio;
	char url[128], fh[128], sh_[360], floor_s[LP_BENCH_TEXT_MAX], meas_s[LP_BENCH_TEXT_MAX];
	char a[LP_BENCH_TEXT_MAX], c[LP_BENCH_TEXT_MAX];
	lp_bench_load r;
	int i, rc;

	LP_TEST_FMT(url, "http://%s/", b->p->edge_http);
	LP_TEST_FMT(fh, "Host: %s", FLOOR_HOST);
	LP_TEST_FMT(sh_, "Host: %s", host);
	for (i = 0; i < BENCH_WRK_RUNS; i++) {
		if ((rc = lp_bench_wrk(&r, url, fh, BENCH_CONNS, BENCH_SECONDS, 0)) != LP_OK)
			return lp_error_set(err, rc, "wrk on the floor failed");
		printf("floor (bare nginx via Traefik): %.0f req/s, p50 %.2f ms, p99 %.2f ms, %ld "
		       "errors\n",
		       r.rps, r.p50_ms, r.p99_ms, r.errors);
		lp_bench_add(&frps, r.rps);
		lp_bench_add(&fp99, r.p99_ms);
		if ((rc = lp_bench_wrk(&r, url, sh_, BENCH_CONNS, BENCH_SECONDS, 0)) != LP_OK)
			return lp_error_set(err, rc, "wrk on the site failed");
		printf("LaunchPad site via Traefik:     %.0f req/s, p50 %.2f ms, p99 %.2f ms, %ld "
		       "errors\n",
		       r.rps, r.p50_ms, r.p99_ms, r.errors);
		lp_bench_add(&srps, r.rps);
		lp_bench_add(&sp99, r.p99_ms);
		if (frps.v[frps.n - 1] > 0)
			lp_bench_add(&ratio, 100 * r.rps / frps.v[frps.n - 1]);
		fflush(stdout);
	}
	lp_bench_spread(a, &frps, "%.0f", "req/s");
	lp_bench_spread(c, &fp99, "%.1f", "ms");
	LP_TEST_FMT(floor_s, "bare nginx container: %s, p99 %s", a, c);
	lp_bench_spread(a, &srps, "%.0f", "req/s");
	lp_bench_spread(c, &sp99, "%.1f", "ms");
	LP_TEST_FMT(meas_s, "%s (%.0f%% of the floor: median of %d pairs), p99 %s", a,
	            lp_bench_quantile(&ratio, 0.5), ratio.n, c);
	lp_bench_row("request throughput through Traefik (32 conns)", "report (ratio to floor)",
	             floor_s, meas_s, "-");
	return LP_OK;
}

int main(void)
{
	/* 22 revisions of one site: past the API's default burst of revision requests */
	static const char *const env[] = {"LAUNCHPAD_REVISION_BURST=0", NULL};
	lp_test_platform_options opts = {.edge = 1, .env = env};
	static lp_bench_samples lp_t, v1_t;
	struct bench b = {0};
	lp_test_load_stats lp_s = {0}, v1_s = {0};
	char slug[64] = "", host[300], page[4096], *def = NULL;
	char floor_s[LP_BENCH_TEXT_MAX], meas_s[LP_BENCH_TEXT_MAX], t[LP_BENCH_TEXT_MAX];
	lp_error err = {0};
	FILE *f;
	size_t len;

	lp_test_require_docker();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (lp_test_platform_start(&b.p, &opts, &err) != LP_OK)
		goto fail;
	LP_TEST_FMT(b.network, "%s-launchpad-sites", b.p->instance);
	LP_TEST_FMT(b.labels, "launchpad.instance=%s", b.p->instance);
	LP_TEST_FMT(b.src, "%s/src", b.p->root);
	LP_TEST_FMT(b.zip, "%s/site.zip", b.p->root);

	/* The same page on both sides: the serve image's own default index.html. */
	LP_TEST_FMT(page, "docker run --rm --entrypoint cat %s /usr/share/nginx/html/index.html",
	            b.p->serve_image);
	if ((f = popen(page, "r")) == NULL)
		goto fail;
	len = fread(page, 1, sizeof(page) - 1, f);
	page[len] = '\0';
	if (pclose(f) != 0 || len == 0) {
		lp_error_set(&err, LP_ERROR, "no default page in %s", b.p->serve_image);
		goto fail;
	}
	def = strdup(page);
	if (write_src(&b, def, &err) != LP_OK || lp_deploy(&b, slug, &err) != LP_OK)
		goto fail;
	lp_test_platform_site_host(host, sizeof(host), slug);
	if (wait_page(b.p, host, def, &err) != LP_OK || start_floor(&b, &err) != LP_OK ||
	    wait_page(b.p, FLOOR_HOST, def, &err) != LP_OK)
		goto fail;
	if (!getenv("LAUNCHPAD_BENCH_NO_WRK") && throughput(&b, host, &err) != LP_OK)
		goto fail;

	/* 20 redeploys each under the same load: the seed's v1 first, then LaunchPad. */
	if (write_src(&b, "<h1>v1 0</h1>\n", &err) != LP_OK || v1_deploy(&b, &err) != LP_OK ||
	    wait_page(b.p, V1_HOST, "<h1>v1 0</h1>\n", &err) != LP_OK ||
	    redeploys(&v1_s, &v1_t, &b, "v1", V1_HOST, slug, v1_redeploy, NULL, &err) != LP_OK)
		goto fail;
	if (write_src(&b, "<h1>lp 0</h1>\n", &err) != LP_OK || lp_deploy(&b, slug, &err) != LP_OK ||
	    wait_page(b.p, host, "<h1>lp 0</h1>\n", &err) != LP_OK ||
	    redeploys(&lp_s, &lp_t, &b, "lp", host, slug, lp_redeploy, def, &err) != LP_OK)
		goto fail;
	lp_bench_spread(t, &v1_t, "%.2f", "s");
	LP_TEST_FMT(floor_s, "seed v1 (stop, rm, cp, run): %llu of %llu failed; redeploy %s",
	            (unsigned long long)lp_test_load_failed(&v1_s),
	            (unsigned long long)v1_s.requests, t);
	lp_bench_spread(t, &lp_t, "%.2f", "s");
	LP_TEST_FMT(meas_s, "LaunchPad: %llu of %llu failed; redeploy %s",
	            (unsigned long long)lp_test_load_failed(&lp_s),
	            (unsigned long long)lp_s.requests, t);
	lp_bench_row("failed requests over 20 redeploys (4 conns, 200 req/s via Traefik)",
	             "0 (LaunchPad)", floor_s, meas_s,
	             lp_test_load_failed(&lp_s) == 0 ? "yes" : "NO");
	free(def);
	lp_test_platform_free(b.p);
	return 0;
fail:
	fprintf(stderr, "bench_edge_load: %s\n", err.message);
	if (b.p)
		lp_test_platform_dump_logs(b.p, 4000);
	free(def);
	lp_test_platform_free(b.p);
	return 1;
}
