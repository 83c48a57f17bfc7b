/* bench_controller.c: steady-state resync cost at N live sites, and self-heal latency. */
#include <curl/curl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "launchpad/config.h"
#include "controller/controller.h"
#include "controller/nginx_conf.h"
#include "launchpad/crypto.h"
#include "launchpad/docker.h"
#include "launchpad/fs.h"
#include "launchpad/spec.h"
#include "launchpad/store.h"
#include "tests/lib/bench.h"
#include "tests/lib/testutil.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kib = atol(line + 6);
	if (f)
		fclose(f);
	return kib;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* PRAGMA data_version on db: it moves with every commit of another connection. */
static long data_version(sqlite3 *db)
{
	sqlite3_stmt *q = NULL;
	long v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA data_version", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		v = (long)sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

static size_t discard(char *p, size_t sz, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return sz * n;
}

/* 1 when http://<container ip>/ answers 200. */
static int serving(lp_docker *d, const char *name)
{
	lp_docker_container *c = NULL;
	char url[256] = "";
	long status = 0;
	CURL *h;
	size_t i;

	if (lp_docker_container_inspect(&c, d, name, NULL) != LP_OK)
		return 0;
	for (i = 0; i < c->nnetworks; i++)
		if (c->networks[i].value && *c->networks[i].value)
			snprintf(url, sizeof(url), "http://%s:%d/", c->networks[i].value,
			         LP_SERVE_PORT);
	lp_docker_container_free(c);
	if (!*url)
		return 0;
	h = curl_easy_init();
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 1000L);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	return status == 200;
}

struct loop {
	lp_controller *c;
	pthread_t t;
};

static void *loop_main(void *arg)
{
	struct loop *l = arg;
	lp_error err = {0};

	lp_controller_run(l->c, 5, &err);
	return NULL;
}

int main(int argc, char **argv)
{
	/* LAUNCHPAD_BENCH_KILLS (20) self-heals, LAUNCHPAD_BENCH_PASSES (3) resync passes */
	const char *kills_env = getenv("LAUNCHPAD_BENCH_KILLS"),
	           *passes_env = getenv("LAUNCHPAD_BENCH_PASSES");
	int nsites = argc > 1 ? atoi(argv[1]) : 200, i, rc;
	int kills = kills_env ? atoi(kills_env) : 20, passes = passes_env ? atoi(passes_env) : 3;
	char *root = lp_test_mkdtemp("lp-bench-ctrl"), data[1024], inst[64], cmd[4096], db[1200];
	char hex[LP_SHA256_HEX_LEN], digest[80], *zip = NULL, *fargv[] = {"bench", NULL};
	double t0, heal[64];
	size_t ziplen = 0, n;
	lp_config *cfg = NULL;
	lp_store *st = NULL;
	lp_docker *d = NULL;
	lp_controller *c = NULL;
	lp_controller_stats a, b;
	struct loop l;
	lp_error err = {0};
	static lp_bench_samples run_floor, heals, passes_s, cpu_s, list_s;
	char floor_s[LP_BENCH_TEXT_MAX], meas_s[LP_BENCH_TEXT_MAX], fig_s[LP_BENCH_TEXT_MAX];
	char label[96];
	double converge_s, cpu0;
	uint64_t calls_max = 0, writes = 0;
	long rss_max = 0;
	sqlite3 *raw = NULL;

	if (kills < 0 || kills > (int)(sizeof(heal) / sizeof(heal[0])) || passes < 0) {
		fprintf(stderr, "bench_controller: LAUNCHPAD_BENCH_KILLS 0..64, PASSES >= 0\n");
		return 2;
	}
	lp_test_require_docker();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	setvbuf(stdout, NULL, _IOLBF, 0); /* figures must survive a slow or killed clean-up */
	snprintf(data, sizeof(data), "%s/data", root);
	snprintf(inst, sizeof(inst), "bench%d", (int)getpid());
	LP_TEST_FMT(label, "launchpad.instance=%s", inst);
	/* for a clean-up by whoever ends this run early (scripts/bench-table.sh on its timeout) */
	printf("bench_controller: instance %s, root %s\n", inst, root);
	setenv("LAUNCHPAD_DATA_DIR", data, 1);
	setenv("LAUNCHPAD_INSTANCE", inst, 1);
	setenv("LAUNCHPAD_LOG_LEVEL", "warn", 1);
	setenv("LAUNCHPAD_SERVE_IMAGE", "launchpad-test/nginx:local", 0);
	if (lp_config_new(&cfg, NULL, NULL, 1, fargv, &err) != LP_OK)
		goto fail;
	lp_log_setup(LP_LOG_WARN, LP_LOG_TEXT, 2);
	snprintf(cmd, sizeof(cmd),
	         "mkdir -p %s/src %s/uploads/sha256 && echo bench > %s/src/index.html && "
	         "cd %s/src && zip -qr %s/site.zip .",
	         root, data, root, root, root);
	if (system(cmd) != 0)
		goto fail;
	snprintf(cmd, sizeof(cmd), "%s/site.zip", root);
	if (lp_fs_read_file(&zip, &ziplen, cmd, 1 << 20, &err) != LP_OK)
		goto fail;
	lp_crypto_sha256_hex(hex, zip, ziplen);
	snprintf(digest, sizeof(digest), "sha256:%s", hex);
	snprintf(cmd, sizeof(cmd), "cp %s/site.zip %s/uploads/sha256/%s.zip", root, data, hex);
	if (system(cmd) != 0)
		goto fail;
	snprintf(db, sizeof(db), "%s/db/launchpad.db", data);
	if (lp_store_open(&st, db, &err) != LP_OK || lp_docker_new(&d, NULL, &err) != LP_OK)
		goto fail;
	for (i = 0; i < nsites; i++) {
		char yaml[512], name[64], *json = NULL, hash[LP_SHA256_HEX_LEN];
		lp_site_list list = {0};
		lp_spec_diags diags;
		lp_store_site_new in = {0};

		snprintf(name, sizeof(name), "s%04d", i);
		snprintf(yaml, sizeof(yaml),
		         "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata: {name: %s}\n"
		         "spec: {source: {archive: {digest: \"%s\"}}}\n",
		         name, digest);
		lp_spec_diags_init(&diags);
		rc = lp_spec_parse(&list, yaml, strlen(yaml), NULL, &diags, &err);
		lp_spec_diags_release(&diags);
		if (rc != LP_OK)
			goto fail;
		if ((rc = lp_site_to_json(&json, list.items[0], &err)) != LP_OK ||
		    (rc = lp_site_spec_hash(hash, list.items[0], &err)) != LP_OK) {
			free(json);
			lp_site_list_release(&list);
			goto fail;
		}
		in.name = name;
		in.spec_json = json;
		in.spec_hash = hash;
		in.source = digest;
		rc = lp_store_site_create(NULL, st, &in, &err);
		free(json);
		lp_site_list_release(&list);
		if (rc != LP_OK)
			goto fail;
	}

	/* Converge with the real loop (workers, builds, watches). */
	printf("converging %d sites ...\n", nsites);
	fflush(stdout);
	t0 = now_s();
	if (lp_controller_new(&l.c, cfg, &err) != LP_OK)
		goto fail;
	pthread_create(&l.t, NULL, loop_main, &l);
	for (;;) {
		lp_store_site *sites = NULL;
		size_t live = 0, k;
		/* A failed read counts no site live: the loop asks again a second later. */
		if (lp_store_site_list(&sites, &n, st, 0, &err) != LP_OK)
			fprintf(stderr, "listing sites: %s\n", err.message);
		for (k = 0; k < n; k++) {
			lp_store_status *s = NULL;
			if (lp_store_status_get(&s, st, sites[k].id, NULL) == LP_OK &&
			    s->phase == LP_PHASE_LIVE)
				live++;
			lp_store_status_free(s);
		}
		lp_store_sites_free(sites, n);
		if ((int)live == nsites)
			break;
		sleep(1);
	}
	converge_s = now_s() - t0;
	cpu0 = lp_bench_cpu_seconds(getpid());
	lp_controller_stats_get(&a, l.c);
	printf("converged: %d sites live in %.1f s: %llu reconciles, %llu Docker writes (%.1f a "
	       "site) taking %.1f s summed over the workers (%.0f ms a site), %llu Docker reads, "
	       "%.1f s CPU in this process (%.0f ms a site)\n",
	       nsites, converge_s, (unsigned long long)a.reconciles,
	       (unsigned long long)a.docker_writes, (double)a.docker_writes / nsites,
	       (double)a.docker_write_ms / 1000, (double)a.docker_write_ms / nsites,
	       (unsigned long long)a.docker_reads, cpu0, cpu0 * 1000 / nsites);
	/* the floor of a deploy and of a heal: the serve image run by hand until its first 200 */
	if (lp_bench_docker_run_floor(&run_floor, getenv("LAUNCHPAD_SERVE_IMAGE"), label, 5) != 0)
		fprintf(stderr, "bench_controller: the docker run floor failed\n");
	LP_TEST_FMT(floor_s, "docker run -> 200: %.0f ms each",
	            lp_bench_quantile(&run_floor, 0.5) * 1000);
	LP_TEST_FMT(meas_s,
	            "%.1f s (%.0f ms a site, %d workers); %.1f Docker writes a site, %.0f ms in "
	            "them; CPU %.0f ms a site",
	            converge_s, converge_s * 1000 / nsites, cfg->workers,
	            (double)a.docker_writes / nsites, (double)a.docker_write_ms / nsites,
	            cpu0 * 1000 / nsites);
	LP_TEST_FMT(fig_s, "converge %d new archive sites", nsites);
	lp_bench_row(fig_s, "report", floor_s, meas_s, "-");

	/* Self-heal latency: remove a serve container from outside, time until it answers again. */
	for (i = 0; i < kills; i++) {
		char name[128];
		snprintf(name, sizeof(name), "%s-deploy-s%04d", inst, (i * 7) % nsites);
		snprintf(cmd, sizeof(cmd), "docker rm -f %s >/dev/null", name);
		if (system(cmd) != 0)
			goto fail;
		t0 = now_s();
		while (!serving(d, name) && now_s() - t0 < 30)
			usleep(10 * 1000);
		heal[i] = now_s() - t0;
		lp_bench_add(&heals, heal[i]);
	}
	if (kills > 0) {
		qsort(heal, (size_t)kills, sizeof(double), cmp_double);
		printf("self-heal over %d kills: p50 %.0f ms, p95 %.0f ms, max %.0f ms\n", kills,
		       heal[kills / 2] * 1000, heal[(kills * 95 + 99) / 100 - 1] * 1000,
		       heal[kills - 1] * 1000);
	}
	if (kills > 0) {
		double f = lp_bench_quantile(&run_floor, 0.5), p50 = lp_bench_quantile(&heals, 0.5);

		lp_bench_spread(floor_s, &run_floor, "%.3f", "s");
		lp_bench_spread(meas_s, &heals, "%.3f", "s");
		LP_TEST_FMT(fig_s, "self-heal after docker rm -f (p50 of %d)", kills);
		lp_bench_row(fig_s, "<= floor + 0.2 s", floor_s, meas_s,
		             run_floor.n && p50 <= f + 0.2 ? "yes" : "NO");
	}
	lp_controller_stop(l.c);
	pthread_join(l.t, NULL);
	lp_controller_free(l.c);

	/* Steady-state resync passes on a fresh controller: the first fills its cache. */
	if (lp_controller_new(&c, cfg, &err) != LP_OK ||
	    lp_controller_resync_pass(&n, c, &err) != LP_OK)
		goto fail;
	if (sqlite3_open_v2(db, &raw, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto fail;
	/* the floor of a pass: the one Docker call alone, the engine listing the containers */
	for (i = 0; i < passes; i++) {
		const char *filter[2] = {label, NULL};
		lp_docker_summaries *all = NULL;

		t0 = now_s();
		if (lp_docker_container_list(&all, d, filter, &err) != LP_OK)
			goto fail;
		lp_bench_add(&list_s, now_s() - t0);
		lp_docker_summaries_free(all);
	}
	for (i = 0; i < passes; i++) {
		struct timespec c0, c1;
		long v0 = data_version(raw);

		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
		lp_controller_stats_get(&a, c);
		t0 = now_s();
		if (lp_controller_resync_pass(&n, c, &err) != LP_OK)
			goto fail;
		lp_controller_stats_get(&b, c);
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
		printf("steady-state resync of %zu sites: %.3f s (%.3f s CPU), %llu Docker reads, "
		       "%llu Docker writes, %llu file writes, %llu status writes, RSS %ld KiB\n",
		       n, now_s() - t0,
		       (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9,
		       (unsigned long long)(b.docker_reads - a.docker_reads),
		       (unsigned long long)(b.docker_writes - a.docker_writes),
		       (unsigned long long)(b.file_writes - a.file_writes),
		       (unsigned long long)(b.status_writes - a.status_writes), rss_kib());
		lp_bench_add(&passes_s, now_s() - t0);
		lp_bench_add(&cpu_s, (double)(c1.tv_sec - c0.tv_sec) +
		                         (double)(c1.tv_nsec - c0.tv_nsec) / 1e9);
		calls_max = b.docker_reads - a.docker_reads > calls_max
		                ? b.docker_reads - a.docker_reads
		                : calls_max;
		writes += (b.docker_writes - a.docker_writes) + (b.file_writes - a.file_writes) +
		          (b.status_writes - a.status_writes) + (data_version(raw) != v0);
		rss_max = rss_kib() > rss_max ? rss_kib() : rss_max;
	}
	sqlite3_close(raw);
	if (passes > 0) {
		char cpu[LP_BENCH_TEXT_MAX], list[LP_BENCH_TEXT_MAX];

		lp_bench_spread(floor_s, &passes_s, "%.3f", "s");
		lp_bench_spread(cpu, &cpu_s, "%.3f", "s");
		lp_bench_spread(list, &list_s, "%.3f", "s");
		LP_TEST_FMT(meas_s, "%s (CPU %s); %llu Docker calls, %llu writes", floor_s, cpu,
		            (unsigned long long)calls_max, (unsigned long long)writes);
		LP_TEST_FMT(floor_s, "the Docker list alone: %s", list);
		LP_TEST_FMT(fig_s, "steady-state resync of %zu live sites", n);
		lp_bench_row(fig_s, "<= 100 ms, 1 Docker call, 0 writes", floor_s, meas_s,
		             lp_bench_quantile(&passes_s, 0.5) <= 0.1 && calls_max == 1 &&
		                     writes == 0
		                 ? "yes"
		                 : "NO");
		LP_TEST_FMT(meas_s, "%.1f MB (the bench process, controller in it)",
		            (double)rss_max / 1024);
		lp_bench_row("controller RSS at steady state", "<= 30 MB", "-", meas_s,
		             rss_max <= 30 * 1024 ? "yes" : "NO");
	}
	lp_controller_free(c);
	rc = 0;
	goto cleanup;
fail:
	fprintf(stderr, "bench_controller: %s\n", err.message);
	rc = 1;
cleanup:
	snprintf(cmd, sizeof(cmd),
	         /* In batches: one `docker rm -f` of ~1,000 ids deadlocked Debian's engine. */
	         "docker ps -aq --filter label=launchpad.instance=%s | xargs -r -n 50 docker rm -f "
	         ">/dev/null; docker network rm %s-launchpad-sites "
	         "%s-launchpad-build >/dev/null 2>&1; rm -rf %s",
	         inst, inst, inst, root);
	if (system(cmd) != 0)
		rc = 1;
	free(zip);
	lp_store_close(st);
	lp_docker_free(d);
	lp_config_free(cfg);
	free(root);
	return rc;
}
