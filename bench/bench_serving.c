/*
 * bench_serving.c: the costs of serving like Netlify, on the real parts.
 *   1. Publish of a 500-file site with and without the precompression step (lp_publish_copy,
 *      which runs lp_precompress_tree once per revision): its share of the publish time.
 *   2. A revision with 1,000 redirect rules (and 100 header blocks): config size, render time,
 *      `nginx -t` in the serve image, and the switch: SIGHUP through the Engine API until every
 *      answer of a running serve container is the new revision's; plus the request time of a
 *      path matching the last rule against one matching the first.
 * Figures only: nothing here is asserted (docs/serving.md quotes them).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "controller/context.h"
#include "controller/nginx_conf.h"
#include "controller/revconf.h"
#include "launchpad/buf.h"
#include "launchpad/clock.h"
#include "launchpad/config.h"
#include "launchpad/docker.h"
#include "launchpad/fs.h"
#include "launchpad/layout.h"
#include "launchpad/spec.h"
#include "pipeline/precompress.h"
#include "pipeline/publish.h"
#include "tests/lib/platform.h"
#include "tests/lib/testutil.h"

#define FILES          500
#define ROUNDS         5
#define RULES          1000
#define HEADER_BLOCKS  100
#define SWITCHES       10
#define LATENCY_N      500
#define STREAK         20
#define SWITCH_WAIT_MS 20000

static char g_root[1024], g_container[128], g_ip[64];

static void die(const char *what, const lp_error *err)
{
	fprintf(stderr, "bench_serving: %s: %s\n", what, err ? err->message : "");
	exit(1);
}

static void put(const char *path, const char *data, size_t len)
{
	char dir[4096];
	lp_error err = {0};

	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	if (lp_fs_mkdirs(dir, 0755, &err) != LP_OK ||
	    lp_fs_write_atomic(path, data, len, 0644, &err) != LP_OK)
		die(path, &err);
}

/* A site like a Vite build: HTML pages, hashed JS and CSS, some SVG, some images. */
static void make_site(const char *ws)
{
	static char text[40000], bin[30000];
	char path[4096];
	size_t i;
	unsigned x = 12345;

	for (i = 0; i + 64 < sizeof(text); i += 64)
		snprintf(text + i, 65,
		         "function f%06zu(a){return a*%zu+document.title.length;}\n  ", i, i % 97);
	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (char)((x = x * 1103515245u + 12345u) >> 16);
	for (i = 0; i < FILES; i++) {
		size_t len;
		const char *data = text;
		switch (i % 5) {
		case 0:
		case 1:
			snprintf(path, sizeof(path), "%s/dist/page%zu/index.html", ws, i);
			len = 4000 + (i * 37) % 8000;
			break;
		case 2:
			snprintf(path, sizeof(path), "%s/dist/assets/chunk-%zu-Bx9%05zu.js", ws, i,
			         i);
			len = 10000 + (i * 91) % 30000;
			break;
		case 3:
			snprintf(path, sizeof(path), "%s/dist/assets/style-%zu.3f9a%04zu.css", ws,
			         i, i);
			len = 3000 + (i * 53) % 9000;
			break;
		default:
			snprintf(path, sizeof(path), "%s/dist/img/photo%zu.png", ws, i);
			data = bin;
			len = 5000 + (i * 71) % 25000;
			break;
		}
		put(path, data, len);
	}
}

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void bench_precompress(void)
{
	char ws[1200], site[1200], rev[1300];
	int64_t with[ROUNDS], gz[ROUNDS], without[ROUNDS];
	lp_publish_result pr;
	lp_error err = {0};
	int i;

	snprintf(ws, sizeof(ws), "%s/ws", g_root);
	make_site(ws);
	for (i = 0; i < ROUNDS; i++) {
		int64_t t0;
		snprintf(site, sizeof(site), "%s/site%d", g_root, i);
		t0 = lp_clock_mono_ms();
		if (lp_publish_copy(&pr, site, 1, ws, "dist", NULL, NULL, NULL, &err) != LP_OK)
			die("publish", &err);
		with[i] = lp_clock_mono_ms() - t0;
		gz[i] = pr.gz.ms;
		without[i] = with[i] - gz[i];
		if (i == 0)
			printf("publish of %zu files (%llu bytes): %zu .gz siblings, %llu -> %llu "
			       "bytes "
			       "(%.0f%%)\n",
			       pr.files, (unsigned long long)pr.bytes, pr.gz.files,
			       (unsigned long long)pr.gz.bytes_in,
			       (unsigned long long)pr.gz.bytes_out,
			       pr.gz.bytes_in
			           ? 100.0 * (double)pr.gz.bytes_out / (double)pr.gz.bytes_in
			           : 0.0);
		snprintf(rev, sizeof(rev), "rm -rf '%s'", site);
		if (system(rev) != 0)
			die("rm", NULL);
	}
	qsort(with, ROUNDS, sizeof(with[0]), cmp64);
	qsort(gz, ROUNDS, sizeof(gz[0]), cmp64);
	qsort(without, ROUNDS, sizeof(without[0]), cmp64);
	printf("publish, median of %d: %lld ms in all, of which precompression %lld ms (copy and "
	       "fsync %lld ms)\n",
	       ROUNDS, (long long)with[ROUNDS / 2], (long long)gz[ROUNDS / 2],
	       (long long)without[ROUNDS / 2]);
}

/* RULES rules of every kind; the last one matches /last/<x>. */
static char *many_rules(void)
{
	lp_buf b;
	int i, rc = LP_OK;

	lp_buf_init(&b, 1 << 22);
	for (i = 0; rc == LP_OK && i < RULES - 1; i++) {
		switch (i % 4) {
		case 0:
			rc = lp_buf_printf(&b, "/old/page-%d /new/page-%d 301\n", i, i);
			break;
		case 1:
			rc = lp_buf_printf(&b, "/blog%d/:year/:slug /posts/:year-:slug 302\n", i);
			break;
		case 2:
			rc = lp_buf_printf(&b, "/section%d/* /index.html 200\n", i);
			break;
		default:
			rc = lp_buf_printf(&b, "/store%d id=:id /item/:id 301\n", i);
			break;
		}
	}
	if (rc == LP_OK)
		rc = lp_buf_puts(&b, "/last/* /found/:splat 301\n");
	if (rc != LP_OK)
		die("rules", NULL);
	return lp_buf_detach(&b);
}

static char *many_headers(void)
{
	lp_buf b;
	int i, rc = LP_OK;

	lp_buf_init(&b, 1 << 22);
	for (i = 0; rc == LP_OK && i < HEADER_BLOCKS; i++)
		rc = lp_buf_printf(&b, "/area%d/*\n  X-Area: %d\n  X-Frame-Options: DENY\n", i, i);
	if (rc != LP_OK)
		die("headers", NULL);
	return lp_buf_detach(&b);
}

/* ms until STREAK answers in a row are revision n's; *first: until the first one. */
static int64_t until_revision(int64_t *first, long n, int64_t t0)
{
	char url[256], want[32];
	lp_test_http_resp r = {0};
	int streak = 0;

	snprintf(url, sizeof(url), "http://%s:%d/.launchpad/revision", g_ip, LP_SERVE_PORT);
	snprintf(want, sizeof(want), "%ld\n", n);
	*first = -1;
	while (streak < STREAK) {
		int ok;
		if (lp_clock_mono_ms() - t0 > SWITCH_WAIT_MS)
			die("revision never went live", NULL);
		lp_test_http_request(&r, "GET", url, NULL, 0, NULL, NULL, NULL, NULL);
		ok = r.status == 200 && r.body && !strcmp(r.body, want);
		lp_test_http_resp_release(&r);
		if (ok && *first < 0)
			*first = lp_clock_mono_ms() - t0;
		streak = ok ? streak + 1 : 0;
	}
	return lp_clock_mono_ms() - t0;
}

/* Mean ms of LATENCY_N requests (one connection each, from this process), after a warm-up. */
static double mean_request_ms(const char *path)
{
	char url[512];
	lp_test_http_resp r = {0};
	int64_t t0;
	int i;

	snprintf(url, sizeof(url), "http://%s:%d%s", g_ip, LP_SERVE_PORT, path);
	for (i = 0; i < 20; i++) {
		lp_test_http_request(&r, "GET", url, NULL, 0, NULL, NULL, NULL, NULL);
		lp_test_http_resp_release(&r);
	}
	t0 = mono_us();
	for (i = 0; i < LATENCY_N; i++) {
		lp_test_http_request(&r, "GET", url, NULL, 0, NULL, NULL, NULL, NULL);
		lp_test_http_resp_release(&r);
	}
	return (double)(mono_us() - t0) / 1000.0 / LATENCY_N;
}

static void bench_rules(void)
{
	const char *image = getenv("LAUNCHPAD_TEST_SERVE_IMAGE");
	char data[1200], site_dir[1300], stub_path[1300], inc[512], cmd[4096], ip_cmd[512];
	char *rules = many_rules(), *headers = many_headers(), *stub = NULL;
	int64_t render_check[SWITCHES], sw[SWITCHES], first[SWITCHES], t0;
	lp_config cfg = {0};
	lp_ctx *ctx = NULL;
	lp_site spec = {0};
	lp_revconf_result r;
	lp_error err = {0};
	FILE *f;
	int i, changed;

	snprintf(data, sizeof(data), "%s/data", g_root);
	snprintf(site_dir, sizeof(site_dir), "%s/sites/bench", data);
	cfg.data_dir = data;
	cfg.docker_socket = "/var/run/docker.sock";
	cfg.instance = "benchserving";
	cfg.serve_image = (char *)(image && *image ? image : "launchpad-test/nginx:local");
	if (lp_ctx_new(&ctx, &cfg, &err) != LP_OK)
		die("ctx", &err);
	spec.serve_redirects = rules;
	spec.serve_headers = headers;
	/* Revisions 1..SWITCHES+1, each with the 1,000 rules. */
	for (i = 1; i <= SWITCHES + 1; i++) {
		char p[1400];
		snprintf(p, sizeof(p), "%s/revisions/%d/index.html", site_dir, i);
		put(p, "<p>bench</p>", 12);
	}
	if (lp_revconf_include_path(inc, sizeof(inc)) != LP_OK ||
	    lp_nginx_conf_stub(&stub, inc, NULL, &err) != LP_OK)
		die("stub", &err);
	snprintf(stub_path, sizeof(stub_path), "%s/default.conf", g_root);
	put(stub_path, stub, strlen(stub));
	t0 = lp_clock_mono_ms();
	if (lp_revconf_prepare(&r, ctx, "bench", &spec, 1, &err) != LP_OK || r.invalid)
		die("prepare", &err);
	printf("1,000 rules + %d header blocks: %zu bytes of nginx config, %zu rules kept, "
	       "render + nginx -t %lld ms\n",
	       HEADER_BLOCKS, r.bytes, r.rules, (long long)(lp_clock_mono_ms() - t0));
	if (lp_revconf_switch(&changed, ctx, "bench", 1, &err) != LP_OK)
		die("switch", &err);
	snprintf(g_container, sizeof(g_container), "benchserving-serve-%d", (int)getpid());
	snprintf(cmd, sizeof(cmd),
	         "docker run -d --name %s --user " LP_SERVE_USER " --cap-drop ALL --read-only "
	         "--tmpfs " LP_SERVE_TMP_DIR ":" LP_SERVE_TMP_OPTIONS
	         " -v %s:/usr/share/nginx/html:ro -v %s:" LP_SERVE_CONF_PATH ":ro %s >/dev/null",
	         g_container, site_dir, stub_path, cfg.serve_image);
	if (system(cmd) != 0)
		die("docker run", NULL);
	snprintf(ip_cmd, sizeof(ip_cmd),
	         "docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' %s",
	         g_container);
	if ((f = popen(ip_cmd, "r")) == NULL || fgets(g_ip, sizeof(g_ip), f) == NULL)
		die("inspect", NULL);
	pclose(f);
	g_ip[strcspn(g_ip, "\n")] = '\0';
	until_revision(&t0, 1, lp_clock_mono_ms());
	printf("request time, mean of %d (libcurl, a connection each): first rule %.2f ms, last of "
	       "1,000 "
	       "%.2f ms, a file past every rule %.2f ms\n",
	       LATENCY_N, mean_request_ms("/old/page-0"), mean_request_ms("/last/x"),
	       mean_request_ms("/index.html"));
	for (i = 0; i < SWITCHES; i++) {
		long n = i + 2;
		t0 = lp_clock_mono_ms();
		if (lp_revconf_prepare(&r, ctx, "bench", &spec, n, &err) != LP_OK || r.invalid)
			die("prepare", &err);
		render_check[i] = lp_clock_mono_ms() - t0;
		t0 = lp_clock_mono_ms();
		if (lp_revconf_switch(&changed, ctx, "bench", n, &err) != LP_OK ||
		    lp_docker_container_kill(lp_ctx_docker(ctx), g_container, "SIGHUP", &err) !=
		        LP_OK)
			die("switch", &err);
		sw[i] = until_revision(&first[i], n, t0);
	}
	qsort(render_check, SWITCHES, sizeof(int64_t), cmp64);
	qsort(sw, SWITCHES, sizeof(int64_t), cmp64);
	qsort(first, SWITCHES, sizeof(int64_t), cmp64);
	printf("switch to a new 1,000-rule revision, %d times: render + nginx -t median %lld ms "
	       "(max %lld); link + SIGHUP -> its first answer median %lld ms (max %lld), %d in a "
	       "row median %lld ms (max %lld)\n",
	       SWITCHES, (long long)render_check[SWITCHES / 2],
	       (long long)render_check[SWITCHES - 1], (long long)first[SWITCHES / 2],
	       (long long)first[SWITCHES - 1], STREAK, (long long)sw[SWITCHES / 2],
	       (long long)sw[SWITCHES - 1]);
	snprintf(cmd, sizeof(cmd), "docker rm -f %s >/dev/null", g_container);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", g_container);
	lp_ctx_free(ctx);
	free(stub);
	free(rules);
	free(headers);
}

int main(void)
{
	char *root = lp_test_mkdtemp("lp-bench-serving");
	char cmd[1200];

	if (root == NULL)
		die("mkdtemp", NULL);
	snprintf(g_root, sizeof(g_root), "%s", root);
	bench_precompress();
	bench_rules();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", g_root);
	free(root);
	return 0;
}
