/*
 * bench_api.c: the apiserver against its floor, in one run: GET one site, the seed's list of
 * 1,000 sites and a page of 50, each as requests/s (and GET one's p99) beside libmicrohttpd
 * answering a constant body of the same size in the same threading mode; the apiserver's RSS
 * while it lists; its CPU time per request, which the machine's other load disturbs less than
 * requests/s. Runs alternate floor and apiserver so drift hits both alike.
 */
#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launchpad/buf.h"
#include "launchpad/fs.h"
#include "launchpad/spec.h"
#include "launchpad/store.h"
#include "tests/lib/bench.h"
#include "tests/lib/testutil.h"

#define BENCH_SITES   1000
#define BENCH_PAGE    50
#define BENCH_CONNS   32
#define BENCH_SECONDS 3 /* per run */
#define BENCH_RUNS    3 /* per figure and side */

static pid_t server_pid;
static unsigned server_port;
static char token[128], auth[200];

static int start_server(const char *dir)
{
	char *bin = lp_test_bin_path("launchpad-apiserver"), log[4096], line[512];
	FILE *f;
	int i;

	LP_TEST_FMT(log, "%s/apiserver.log", dir);
	if ((server_pid = fork()) == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, 2);
		execl(bin, bin, "--data-dir", dir, "--listen", "127.0.0.1:0", "--log-level", "warn",
		      (char *)NULL);
		_exit(127);
	}
	free(bin);
	for (i = 0; i < 200 && server_port == 0; i++) {
		usleep(25000);
		if ((f = fopen(log, "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "listening on http://127.0.0.1:%u", &server_port) == 1)
				break;
		fclose(f);
	}
	LP_TEST_FMT(log, "%s/admin.token", dir);
	if (server_port == 0 || (f = fopen(log, "r")) == NULL)
		return -1;
	if (fgets(token, sizeof(token), f) == NULL)
		token[0] = '\0';
	fclose(f);
	token[strcspn(token, "\n")] = '\0';
	LP_TEST_FMT(auth, "Authorization: Bearer %s", token);
	return 0;
}

/* A live status as the controller writes it, so every object is as long as a real one. */
static int seed_status(lp_store *st, const char *id, const char *name, lp_error *err)
{
	char url[128];
	lp_store_status s = {
	    .site_id = (char *)id,
	    .phase = LP_PHASE_LIVE,
	    .observed_generation = 1,
	    .current_revision = 1,
	    .conditions_json =
	        "[{\"type\":\"Built\",\"status\":\"True\",\"reason\":\"Published\"},"
	        "{\"type\":\"Serving\",\"status\":\"True\",\"reason\":\"ContainerRunning\"},"
	        "{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"DesiredRevisionLive\"}]",
	    .message = "revision 1 is live",
	};

	LP_TEST_FMT(url, "http://%s.localhost", name);
	s.url = url;
	return lp_store_status_put(NULL, st, &s, err);
}

/* Sites are written through the store directly: the figures are about reads, not set-up. */
static int seed_sites(const char *dir)
{
	char path[4096], manifest[512], name[32], hash[LP_SHA256_HEX_LEN], *json = NULL;
	lp_store *st = NULL;
	lp_error err = {0};
	int i, rc = 0;

	LP_TEST_FMT(path, "%s/db/launchpad.db", dir);
	if (lp_store_open(&st, path, &err) != LP_OK)
		return -1;
	for (i = 0; i < BENCH_SITES && rc == 0; i++) {
		lp_site_list list = {0};
		lp_store_site *made = NULL;

		LP_TEST_FMT(name, "site-%04d", i);
		LP_TEST_FMT(manifest,
		            "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata: {name: %s}\n"
		            "spec:\n  source: {git: {url: 'https://github.com/u/r%d'}}\n"
		            "  build: {command: npm run build, env: {NODE_ENV: production}}\n",
		            name, i);
		if (lp_spec_parse(&list, manifest, strlen(manifest), NULL, NULL, &err) != LP_OK ||
		    lp_site_to_json(&json, list.items[0], &err) != LP_OK ||
		    lp_site_spec_hash(hash, list.items[0], &err) != LP_OK) {
			rc = -1;
		} else {
			lp_store_site_new in = {.name = name,
			                        .spec_json = json,
			                        .spec_hash = hash,
			                        .webhook_secret = "s",
			                        .trigger = LP_TRIGGER_CREATE};
			rc = lp_store_site_create(&made, st, &in, &err) == LP_OK &&
			             seed_status(st, made->id, name, &err) == LP_OK
			         ? 0
			         : -1;
		}
		lp_store_site_free(made);
		free(json);
		json = NULL;
		lp_site_list_release(&list);
	}
	if (rc)
		fprintf(stderr, "seeding: %s\n", err.message);
	lp_store_close(st);
	return rc;
}

static size_t discard(char *p, size_t sz, size_t n, void *ud)
{
	*(size_t *)ud += sz * n;
	return sz * n;
}

/* The size of the body the apiserver answers on path (0 when it does not answer 200). */
static size_t body_size(const char *path)
{
	char url[256];
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, auth);
	size_t n = 0;
	long status = 0;

	LP_TEST_FMT(url, "http://127.0.0.1:%u%s", server_port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &n);
	if (curl_easy_perform(c) != CURLE_OK ||
	    (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status), status != 200))
		n = 0;
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return n;
}

/* One figure: BENCH_RUNS runs of the floor and of the apiserver, alternating. */
struct figure {
	const char *path;    /* the apiserver's */
	int floor_body;      /* the floor's body index */
	lp_bench_samples lp; /* requests/s */
	lp_bench_samples fl;
	lp_bench_samples lp_p99; /* ms */
	lp_bench_samples fl_p99;
	lp_bench_samples cpu_ms; /* apiserver CPU ms per request */
	long peak_rss_kib;
	long errors;
};

static int measure(struct figure *f, const lp_bench_floor *floor)
{
	const char *only = getenv("LAUNCHPAD_BENCH_ONLY"); /* a path: measure that one alone */
	char url[256], furl[128];
	int i;

	if (only && *only && strcmp(only, f->path))
		return 0;
	LP_TEST_FMT(url, "http://127.0.0.1:%u%s", server_port, f->path);
	LP_TEST_FMT(furl, "http://127.0.0.1:%u/%d", floor->port, f->floor_body);
	for (i = 0; i < BENCH_RUNS; i++) {
		lp_bench_load a, b;

		if (lp_bench_wrk(&a, furl, auth, BENCH_CONNS, BENCH_SECONDS, floor->pid) != 0 ||
		    lp_bench_wrk(&b, url, auth, BENCH_CONNS, BENCH_SECONDS, server_pid) != 0)
			return -1;
		lp_bench_add(&f->fl, a.rps);
		lp_bench_add(&f->fl_p99, a.p99_ms);
		lp_bench_add(&f->lp, b.rps);
		lp_bench_add(&f->lp_p99, b.p99_ms);
		if (b.requests > 0)
			lp_bench_add(&f->cpu_ms, b.cpu_seconds * 1000 / (double)b.requests);
		if (b.peak_rss_kib > f->peak_rss_kib)
			f->peak_rss_kib = b.peak_rss_kib;
		f->errors += b.errors;
		printf("  %-30s floor %8.1f req/s %.3f CPU ms/req   apiserver %8.1f req/s %.3f CPU "
		       "ms/req  p99 %6.2f ms  RSS %ld kB\n",
		       f->path, a.rps, a.requests ? a.cpu_seconds * 1000 / (double)a.requests : 0,
		       b.rps, b.requests ? b.cpu_seconds * 1000 / (double)b.requests : 0, b.p99_ms,
		       b.peak_rss_kib);
		fflush(stdout);
	}
	return 0;
}

/* The requests/s row: the ratio to the floor, and the goal as a ratio or an absolute. */
static void rate_row(const char *figure, const struct figure *f, double min_ratio, double min_rps)
{
	char floor[LP_BENCH_TEXT_MAX], measured[LP_BENCH_TEXT_MAX], spread[LP_BENCH_TEXT_MAX];
	char goal[LP_BENCH_TEXT_MAX];
	double med = lp_bench_quantile(&f->lp, 0.5), fmed = lp_bench_quantile(&f->fl, 0.5);
	double ratio = fmed > 0 ? med / fmed : 0;
	int ok = f->errors == 0 && (min_ratio > 0 ? ratio >= min_ratio : med >= min_rps);

	if (min_ratio > 0)
		LP_TEST_FMT(goal, ">= %.0f%% of floor", min_ratio * 100);
	else
		LP_TEST_FMT(goal, ">= %.0f req/s", min_rps);
	lp_bench_spread(spread, &f->fl, "%.0f", "req/s");
	LP_TEST_FMT(floor, "%s", spread);
	lp_bench_spread(spread, &f->lp, "%.0f", "req/s");
	LP_TEST_FMT(measured, "%s = %.0f%% of floor%s", spread, ratio * 100,
	            f->errors ? " (errors!)" : "");
	lp_bench_row(figure, goal, floor, measured, ok ? "yes" : "NO");
}

int main(void)
{
	char *dir = lp_test_mkdtemp("lp-bench-api");
	char page[64], floor_s[LP_BENCH_TEXT_MAX], meas[LP_BENCH_TEXT_MAX];
	struct figure one = {.path = "/api/deployments/site-0500", .floor_body = 0};
	struct figure list = {.path = "/api/deployments", .floor_body = 1};
	struct figure paged = {.floor_body = 2};
	lp_bench_floor floor = {0};
	size_t sizes[3];
	long idle;
	int status = 0, rc = 1;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	setvbuf(stdout, NULL, _IOLBF, 0);
	LP_TEST_FMT(page, "/api/deployments?limit=%d", BENCH_PAGE);
	paged.path = page;
	if (dir == NULL || start_server(dir) != 0 || seed_sites(dir) != 0) {
		fprintf(stderr, "bench_api: set-up failed (see %s/apiserver.log)\n",
		        dir ? dir : "?");
		goto done;
	}
	sizes[0] = body_size(one.path);
	sizes[1] = body_size(list.path);
	sizes[2] = body_size(paged.path);
	if (!sizes[0] || !sizes[1] || !sizes[2] || lp_bench_floor_start(&floor, sizes, 3) != 0) {
		fprintf(stderr, "bench_api: no answer to size the floor, or no floor server\n");
		goto done;
	}
	idle = lp_bench_rss_kib(server_pid);
	printf("apiserver, %d sites, %d connections, %d runs of %d s per side (wrk); bodies: one "
	       "%zu B, list %zu B, page of %d %zu B\n",
	       BENCH_SITES, BENCH_CONNS, BENCH_RUNS, BENCH_SECONDS, sizes[0], sizes[1], BENCH_PAGE,
	       sizes[2]);
	if (measure(&one, &floor) != 0 || measure(&list, &floor) != 0 ||
	    measure(&paged, &floor) != 0)
		goto done;

	rate_row("GET one site (32 conns)", &one, 0.70, 0);
	lp_bench_spread(floor_s, &one.fl_p99, "%.2f", "ms");
	lp_bench_spread(meas, &one.lp_p99, "%.2f", "ms");
	lp_bench_row("GET one site p99 (32 conns)", "<= 5 ms", floor_s, meas,
	             lp_bench_quantile(&one.lp_p99, 0.5) <= 5.0 ? "yes" : "NO");
	rate_row("seed's GET /api/deployments, 1,000 sites", &list, 0, 300);
	LP_TEST_FMT(floor_s, "idle %.1f MB", (double)idle / 1024);
	LP_TEST_FMT(meas, "peak %.1f MB while listing", (double)list.peak_rss_kib / 1024);
	lp_bench_row("apiserver RSS, listing 1,000 sites", "<= 40 MB", floor_s, meas,
	             list.peak_rss_kib <= 40 * 1024 ? "yes" : "NO");
	rate_row("paged list, limit=50", &paged, 0, 5000);
	lp_bench_spread(meas, &one.cpu_ms, "%.3f", "ms");
	printf("  CPU per request: GET one %s; ", meas);
	lp_bench_spread(meas, &list.cpu_ms, "%.2f", "ms");
	printf("list %s; ", meas);
	lp_bench_spread(meas, &paged.cpu_ms, "%.3f", "ms");
	printf("page %s\n", meas);
	rc = 0;
done:
	lp_bench_floor_stop(&floor);
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, &status, 0);
	}
	if (dir && lp_fs_remove_tree(dir, NULL) != LP_OK)
		fprintf(stderr, "cleanup: cannot remove %s\n", dir);
	free(dir);
	curl_global_cleanup();
	return rc;
}
