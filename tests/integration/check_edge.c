/*
 * check_edge.c: the URL users hit. The platform with its own Traefik (scripts/edge.sh), sites
 * reached through Traefik by Host header: a deployed site answers, a deleted one is a 404 from
 * Traefik within 3 s, and under a steady load 20 content redeploys and 5 serve-container
 * replacements lose no request and never serve a page mixed from two revisions.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launchpad/clock.h"
#include "launchpad/fs.h"
#include "tests/lib/load.h"
#include "tests/lib/platform.h"
#include "tests/lib/testutil.h"

#define LIVE_WAIT_MS   60000
#define EDGE_WAIT_MS   20000
#define GONE_404_MS    3000 /* the bound: a deleted site is a 404 from Traefik */
#define LOAD_THREADS   4
#define LOAD_RATE      300 /* requests a second in all (the floor asserted is 200) */
#define LOAD_FLOOR     200
#define REDEPLOYS      20
#define REPLACEMENTS   5
#define PAGE_REPEAT    2000 /* a page is one token repeated: a mix of two is detectable */
#define PAGE_TOKEN_MAX 16
#define PAGE_MAX       (PAGE_REPEAT * PAGE_TOKEN_MAX + 1)

static lp_test_platform *g_p;

static void fail_cleanup(void)
{
	lp_test_platform_dump_logs(g_p, 6000);
	lp_test_platform_free(g_p);
	g_p = NULL;
}

#define REQUIRE(cond, ...)                                                                         \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fail_cleanup();                                                            \
			ck_abort_msg(__VA_ARGS__);                                                 \
		}                                                                                  \
	} while (0)

#define REQUIRE_OK(call)                                                                           \
	do {                                                                                       \
		int rc_ = (call);                                                                  \
		REQUIRE(rc_ == LP_OK, "%s: %s", #call, err.message);                               \
	} while (0)

static void setup(void)
{
	lp_test_platform_options opts = {.edge = 1};
	lp_error err = {0};
	int rc;

	rc = lp_test_platform_start(&g_p, &opts, &err);
	ck_assert_msg(rc == LP_OK, "cannot start the platform: %s", err.message);
}

static void teardown(void)
{
	lp_error err = {0};
	int rc = lp_test_platform_stop(g_p, 0, &err);

	if (rc != LP_OK)
		lp_test_platform_dump_logs(g_p, 4000);
	lp_test_platform_free(g_p);
	g_p = NULL;
	ck_assert_msg(rc == LP_OK, "daemons did not stop cleanly: %s", err.message);
}

/* Page n: "v<n>;" repeated, so a body that mixes two revisions is easy to tell. */
static void page(char *out, size_t outlen, int n)
{
	char tok[PAGE_TOKEN_MAX];
	size_t len = 0, tl;
	int i;

	LP_TEST_FMT(tok, "v%d;", n);
	tl = strlen(tok);
	for (i = 0; i < PAGE_REPEAT && len + tl < outlen; i++, len += tl)
		memcpy(out + len, tok, tl);
	out[len] = '\0';
}

/* The load's checker: a whole page of one version, any version. */
static int whole_page(void *ctx, const char *body, size_t len)
{
	const char *semi = memchr(body, ';', len < PAGE_TOKEN_MAX ? len : PAGE_TOKEN_MAX);
	size_t tl, i;

	(void)ctx;
	if (len == 0 || body[0] != 'v' || semi == NULL)
		return 0;
	tl = (size_t)(semi - body) + 1;
	if (len != tl * PAGE_REPEAT)
		return 0;
	for (i = tl; i < len; i += tl)
		if (memcmp(body, body + i, tl) != 0)
			return 0;
	return 1;
}

static void zip_page(const char *zip, int n)
{
	static char html[PAGE_MAX];
	const char *files[] = {"index.html", html, NULL};
	lp_error err = {0};

	page(html, sizeof(html), n);
	REQUIRE_OK(lp_test_make_zip(zip, files, &err));
}

/* A zip site "name" serving page 1; its id and (generated) slug into id and slug. */
static void create_site(char id[64], char slug[64], const char *name)
{
	const char *fields[] = {"name", name, "source_type", "zip", NULL};
	char *zip = lp_test_platform_path(g_p, "site.zip");
	lp_test_http_resp r = {0};
	lp_error err = {0};
	const cJSON *v;

	REQUIRE(zip != NULL, "oom");
	zip_page(zip, 1);
	REQUIRE_OK(lp_test_platform_upload(&r, g_p, "/api/deployments", fields, zip, &err));
	REQUIRE(r.status == 201, "create answered %ld: %s", r.status, r.body);
	v = cJSON_GetObjectItemCaseSensitive(r.json, "id");
	REQUIRE(cJSON_IsString(v), "no id in %s", r.body);
	snprintf(id, 64, "%s", v->valuestring);
	v = cJSON_GetObjectItemCaseSensitive(r.json, "slug");
	REQUIRE(cJSON_IsString(v), "no slug in %s", r.body);
	snprintf(slug, 64, "%s", v->valuestring);
	lp_test_http_resp_release(&r);
	free(zip);
}

/* Upload page n as the site's new archive; returns once Traefik serves it. */
static int64_t redeploy_page(const char *id, const char *slug, int n)
{
	static char want[PAGE_MAX];
	char path[256], *zip = lp_test_platform_path(g_p, "next.zip");
	lp_test_http_resp r = {0};
	lp_error err = {0};
	int64_t t0;

	REQUIRE(zip != NULL, "oom");
	zip_page(zip, n);
	page(want, sizeof(want), n);
	LP_TEST_FMT(path, "/api/deployments/%s/archive", id);
	t0 = lp_clock_mono_ms();
	REQUIRE_OK(lp_test_platform_upload(&r, g_p, path, NULL, zip, &err));
	REQUIRE(r.status == 202, "archive upload answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
	REQUIRE_OK(lp_test_platform_wait_edge(g_p, slug, 200, want, EDGE_WAIT_MS, &err));
	free(zip);
	return lp_clock_mono_ms() - t0;
}

/* The id of the one running serve container of slug ("" when not exactly one). */
static void serve_container(char out[80], const char *slug)
{
	char cmd[512];
	FILE *f;

	out[0] = '\0';
	LP_TEST_FMT(cmd,
	            "docker ps -q --no-trunc --filter label=launchpad.instance=%s "
	            "--filter label=launchpad.site=%s --filter label=launchpad.role=serve",
	            g_p->instance, slug);
	if ((f = popen(cmd, "r")) == NULL)
		return;
	if (fgets(out, 80, f) != NULL) {
		char extra[80];
		out[strcspn(out, "\n")] = '\0';
		if (fgets(extra, sizeof(extra), f) != NULL)
			out[0] = '\0'; /* two: a replacement is still in progress */
	}
	pclose(f);
}

/*
 * Replace the serve container the way an upgrade does: the controller comes back with another
 * serve image (a second tag of the same image), so every serve spec hash changes. (Serve options
 * such as spa travel with each revision and go live by a reload: they replace no container.)
 */
static void replace_container(const char *slug, int alt)
{
	char before[80], now[80], image[300];
	const char *env[] = {image, NULL};
	lp_error err = {0};
	int64_t t0 = lp_clock_mono_ms();

	serve_container(before, slug);
	REQUIRE(before[0], "no single serve container before the replacement");
	LP_TEST_FMT(image, "LAUNCHPAD_SERVE_IMAGE=%s%s", g_p->serve_image, alt ? "-edge-alt" : "");
	REQUIRE_OK(lp_test_platform_restart_controller(g_p, env, &err));
	for (;;) {
		serve_container(now, slug);
		if (now[0] && strcmp(now, before))
			break;
		REQUIRE(lp_clock_mono_ms() - t0 < EDGE_WAIT_MS,
		        "the serve container of %s was not replaced within %d ms", slug,
		        EDGE_WAIT_MS);
		lp_clock_sleep_ms(50);
	}
}

static void load_start(lp_test_load **out, const char *slug)
{
	char url[128], host[128];
	lp_error err = {0};

	LP_TEST_FMT(url, "http://%s/", g_p->edge_http);
	lp_test_platform_site_host(host, sizeof(host), slug);
	REQUIRE_OK(
	    lp_test_load_start(out, url, host, LOAD_THREADS, LOAD_RATE, whole_page, NULL, &err));
}

static void print_load(const char *what, const lp_test_load_stats *s)
{
	printf("  %s: %llu requests in %.1f s (%.0f req/s): %llu ok, %llu non-2xx, %llu socket "
	       "errors, %llu mixed/bad bodies%s%s\n",
	       what, (unsigned long long)s->requests, s->seconds,
	       s->seconds > 0 ? (double)s->requests / s->seconds : 0.0, (unsigned long long)s->ok,
	       (unsigned long long)s->non2xx, (unsigned long long)s->socket_errs,
	       (unsigned long long)s->bad_bodies, s->first_failure[0] ? "; first failure: " : "",
	       s->first_failure);
	if (s->nfailures) {
		printf("  failures at (ms):");
		for (size_t i = 0; i < s->nfailures; i++)
			printf(" %lld", (long long)s->failure_ms[i]);
		printf("\n");
	}
	fflush(stdout);
}

START_TEST(test_served_through_traefik_then_404_after_delete)
{
	char id[64], slug[64], path[128], first[PAGE_MAX];
	lp_test_http_resp r = {0};
	lp_error err = {0};
	int64_t t0 = lp_clock_mono_ms(), t_live;
	char *body = NULL, host[128];
	long status = 0;

	create_site(id, slug, "edge-hello");
	page(first, sizeof(first), 1);
	REQUIRE_OK(lp_test_platform_wait_edge(g_p, slug, 200, first, LIVE_WAIT_MS, &err));
	t_live = lp_clock_mono_ms() - t0;
	printf("  create -> first 200 through Traefik: %lld ms\n", (long long)t_live);

	/* Another instance's Traefik must not route this one's hosts: ours does, by Host only. */
	lp_test_platform_site_host(host, sizeof(host), "edge-nosuch");
	REQUIRE_OK(lp_test_platform_fetch_edge(&body, &status, g_p, host, "/", &err));
	REQUIRE(status == 404, "an unknown host answered %ld", status);
	free(body);

	LP_TEST_FMT(path, "/api/deployments/%s", id);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "DELETE", path, NULL, &err));
	REQUIRE(r.status == 202, "delete answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
	t0 = lp_clock_mono_ms();
	REQUIRE_OK(lp_test_platform_wait_edge(g_p, slug, 404, NULL, GONE_404_MS, &err));
	printf("  delete -> 404 from Traefik: %lld ms\n", (long long)(lp_clock_mono_ms() - t0));
}
END_TEST

START_TEST(test_redeploys_and_replacements_lose_no_request)
{
	char id[64], slug[64], first[PAGE_MAX];
	lp_test_load_stats st;
	lp_test_load *load = NULL;
	lp_error err = {0};
	int64_t total = 0;
	int i;

	create_site(id, slug, "edge-steady");
	page(first, sizeof(first), 1);
	REQUIRE_OK(lp_test_platform_wait_edge(g_p, slug, 200, first, LIVE_WAIT_MS, &err));
	load_start(&load, slug);
	lp_clock_sleep_ms(500);

	for (i = 2; i <= REDEPLOYS + 1; i++)
		total += redeploy_page(id, slug, i);
	printf("  %d content redeploys: mean %lld ms upload -> new page through Traefik\n",
	       REDEPLOYS, (long long)(total / REDEPLOYS));

	lp_test_sh("docker tag %s %s-edge-alt", g_p->serve_image, g_p->serve_image);
	for (i = 0; i < REPLACEMENTS; i++) {
		printf("  replacement %d at %lld ms\n", i + 1,
		       (long long)lp_test_load_elapsed_ms(load));
		replace_container(slug, i % 2 == 0);
	}
	lp_clock_sleep_ms(500);
	lp_test_load_stop(&st, load);
	/* The second tag only: the image stays (its containers go with the platform). */
	{
		char rmi[512];
		LP_TEST_FMT(rmi, "docker rmi -f %s-edge-alt >/dev/null 2>&1", g_p->serve_image);
		if (system(rmi) != 0)
			fprintf(stderr, "(the -edge-alt tag was already gone)\n");
	}
	print_load("steady load", &st);
	if (lp_test_load_failed(&st)) {
		/* Traefik's side of the failures, kept beside the daemons' logs for a post-mortem.
		 */
		char cmd[2048];
		LP_TEST_FMT(cmd,
		            "docker logs $(docker ps -q --filter label=launchpad.instance=%s "
		            "--filter label=launchpad.role=edge) >'%s/traefik.log' 2>&1; "
		            "grep -E ' 50[0-9] |ERR|WRN' '%s/traefik.log' | tail -20",
		            g_p->instance, g_p->root, g_p->root);
		if (system(cmd) != 0)
			fprintf(stderr, "(no Traefik log)\n");
	}
	REQUIRE(lp_test_load_failed(&st) == 0,
	        "%llu of %llu requests failed during redeploys and replacements (first at %lld ms: "
	        "%s)",
	        (unsigned long long)lp_test_load_failed(&st), (unsigned long long)st.requests,
	        (long long)st.first_failure_ms, st.first_failure);
	REQUIRE((double)st.requests / st.seconds >= LOAD_FLOOR,
	        "the load ran at %.0f req/s, below the %d req/s the test must hold",
	        (double)st.requests / st.seconds, LOAD_FLOOR);
}
END_TEST

START_TEST(test_rm_f_under_load_figures)
{
	char id[64], slug[64], first[PAGE_MAX], ctr[80];
	lp_test_load_stats st;
	lp_test_load *load = NULL;
	lp_error err = {0};
	int64_t t0, healed;

	create_site(id, slug, "edge-heal");
	page(first, sizeof(first), 1);
	REQUIRE_OK(lp_test_platform_wait_edge(g_p, slug, 200, first, LIVE_WAIT_MS, &err));
	load_start(&load, slug);
	lp_clock_sleep_ms(500);
	serve_container(ctr, slug);
	REQUIRE(ctr[0], "no serve container");
	t0 = lp_clock_mono_ms();
	lp_test_sh("docker rm -f %s >/dev/null", ctr);
	REQUIRE_OK(lp_test_platform_wait_edge(g_p, slug, 200, first, EDGE_WAIT_MS, &err));
	healed = lp_clock_mono_ms() - t0;
	lp_clock_sleep_ms(1000);
	lp_test_load_stop(&st, load);
	/* Figures, not asserts: with one replica, a killed container is an outage until healed. */
	print_load("docker rm -f under load", &st);
	printf("  docker rm -f -> Traefik serves again: %lld ms; failed requests: %llu\n",
	       (long long)healed, (unsigned long long)lp_test_load_failed(&st));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("edge");
	TCase *tc = tcase_create("traefik");

	lp_test_require_docker();
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_served_through_traefik_then_404_after_delete);
	tcase_add_test(tc, test_redeploys_and_replacements_lose_no_request);
	tcase_add_test(tc, test_rm_f_under_load_figures);
	suite_add_tcase(s, tc);
	return lp_test_run(s);
}
