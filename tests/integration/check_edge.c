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
#include "tests/lib/fixture.h"
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

#define REQUIRE(cond, ...) LP_TEST_REQUIRE(&g_p, cond, __VA_ARGS__)
#define REQUIRE_OK(call)   LP_TEST_REQUIRE_OK(&g_p, call)

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
	lp_test_fixture_teardown(&g_p);
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

/* The ids of the running serve containers of slug, newline-separated, into out ("" for none). */
static int serve_containers(char *out, size_t outlen, const char *slug)
{
	char cmd[512];
	size_t len = 0;
	int n = 0;
	FILE *f;

	out[0] = '\0';
	LP_TEST_FMT(cmd,
	            "docker ps -q --no-trunc --filter label=launchpad.instance=%s "
	            "--filter label=launchpad.site=%s --filter label=launchpad.role=serve",
	            g_p->instance, slug);
	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	while (len + 80 < outlen && fgets(out + len, (int)(outlen - len), f) != NULL) {
		len += strlen(out + len);
		n++;
	}
	pclose(f);
	return n;
}

/* Servers Traefik's API lists for slug's service: *out_up of them UP, *out_all in all. */
static void edge_servers(int *out_up, int *out_all, const char *slug)
{
	char url[256];
	lp_test_http_resp r = {0};
	lp_error err = {0};
	const cJSON *lb, *servers, *status, *sv;

	*out_up = *out_all = 0;
	LP_TEST_FMT(url, "http://%s/api/http/services/%s-%s@docker", g_p->edge_api, g_p->instance,
	            slug);
	if (lp_test_http_request(&r, "GET", url, NULL, 0, NULL, NULL, NULL, &err) != LP_OK ||
	    r.status != 200 || r.json == NULL)
		goto done;
	lb = cJSON_GetObjectItemCaseSensitive(r.json, "loadBalancer");
	servers = cJSON_GetObjectItemCaseSensitive(lb, "servers");
	status = cJSON_GetObjectItemCaseSensitive(r.json, "serverStatus");
	cJSON_ArrayForEach(sv, servers)
	{
		const cJSON *u = cJSON_GetObjectItemCaseSensitive(sv, "url");
		const cJSON *st = cJSON_IsString(u)
		                      ? cJSON_GetObjectItemCaseSensitive(status, u->valuestring)
		                      : NULL;
		(*out_all)++;
		if (cJSON_IsString(st) && !strcmp(st->valuestring, "UP"))
			(*out_up)++;
	}
done:
	lp_test_http_resp_release(&r);
}

/*
 * Wait until slug runs exactly n serve containers, none of them in avoid (ids, may be NULL), and
 * Traefik balances over exactly those n, all UP. Returns the ids into ids.
 */
static void wait_replicas(char *ids, size_t idslen, const char *slug, int n, const char *avoid)
{
	int64_t t0 = lp_clock_mono_ms();
	int running = -1, up = 0, all = 0, fresh = 0;

	for (;;) {
		running = serve_containers(ids, idslen, slug);
		fresh = 1;
		if (avoid) {
			char copy[1024], *save = NULL, *id;
			LP_TEST_FMT(copy, "%s", ids);
			for (id = strtok_r(copy, "\n", &save); id; id = strtok_r(NULL, "\n", &save))
				if (strstr(avoid, id))
					fresh = 0;
		}
		edge_servers(&up, &all, slug);
		if (running == n && fresh && up == n && all == n)
			return;
		REQUIRE(
		    lp_clock_mono_ms() - t0 < EDGE_WAIT_MS,
		    "%s: wanted %d fresh replicas routed; saw %d running (%s), Traefik %d/%d up",
		    slug, n, running, fresh ? "fresh" : "some old", up, all);
		lp_clock_sleep_ms(50);
	}
}

static const char *digest_of(cJSON *site)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(site, "archive_digest");

	return cJSON_IsString(v) ? v->valuestring : "";
}

/*
 * Until EVERY_REPLICA answers in a row through Traefik are page n: round robin over the replicas
 * has then asked each of them (a replica left on an older revision would break the run).
 */
#define EVERY_REPLICA 10
static void wait_every_replica_serves(const char *slug, int n)
{
	static char want[PAGE_MAX];
	char host[128], *body = NULL;
	int64_t t0 = lp_clock_mono_ms();
	int streak = 0;
	long status = 0;
	lp_error err = {0};

	page(want, sizeof(want), n);
	lp_test_platform_site_host(host, sizeof(host), slug);
	while (streak < EVERY_REPLICA) {
		REQUIRE(lp_clock_mono_ms() - t0 < EDGE_WAIT_MS,
		        "%s: page %d was not served by every replica within %d ms", slug, n,
		        EDGE_WAIT_MS);
		body = NULL;
		if (lp_test_platform_fetch_edge(&body, &status, g_p, host, "/", &err) == LP_OK &&
		    status == 200 && body && !strcmp(body, want))
			streak++;
		else
			streak = 0;
		free(body);
	}
}

/* Apply slug's manifest with its current archive, serve.spa and serve.replicas as given. */
static void apply_serve(const char *slug, int spa, int replicas)
{
	char body[1024], path[128];
	lp_test_http_resp r = {0};
	lp_error err = {0};

	LP_TEST_FMT(path, "/api/deployments/%s", slug);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "GET", path, NULL, &err));
	REQUIRE(r.status == 200, "get answered %ld: %s", r.status, r.body);
	LP_TEST_FMT(body,
	            "{\"apiVersion\":\"launchpad.dev/v1\",\"kind\":\"Site\",\"metadata\":{\"name\":"
	            "\"%s\"},\"spec\":{\"source\":{\"archive\":{\"digest\":\"%s\"}},"
	            "\"serve\":{\"spa\":%s,\"replicas\":%d}}}",
	            slug, digest_of(r.json), spa ? "true" : "false", replicas);
	lp_test_http_resp_release(&r);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "PUT", path, body, &err));
	REQUIRE(r.status == 200, "apply answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
}

/*
 * Two replicas behind the one Traefik service, under a steady load through Traefik: `docker rm
 * -f` of one loses at most the requests the killed nginx had already received, and the
 * controller heals back to two; scaling up and down, new revisions (a reload in every replica)
 * and an upgrade that replaces every replica lose no request at all.
 *
 * Why not 0 for the kill: Traefik (v3.6) retries a request only when it could not send it (its
 * retry middleware stops at the transport's WroteRequest); a request written into the nginx
 * that SIGKILL then ends gets a reset and a 502. Each load thread has one request outstanding,
 * so no more than LOAD_THREADS can be inside the victim when it dies; every later one must be
 * retried elsewhere (a refused dial) and succeed. bench_replicas counts how often that happens.
 */
START_TEST(test_replicas_lose_no_request)
{
	char id[64], slug[64], first[PAGE_MAX], ids[1024], before[1024], victim[80], image[300];
	const char *env[] = {image, NULL};
	lp_test_load_stats st, at_kill, healed;
	lp_test_load *load = NULL;
	uint64_t killed;
	int64_t t0;
	int i;
	lp_error err = {0};

	create_site(id, slug, "edge-replicas");
	page(first, sizeof(first), 1);
	REQUIRE_OK(lp_test_platform_wait_edge(g_p, slug, 200, first, LIVE_WAIT_MS, &err));
	apply_serve(slug, 0, 2);
	wait_replicas(ids, sizeof(ids), slug, 2, NULL);
	load_start(&load, slug);
	lp_clock_sleep_ms(500);

	/* One replica killed from outside: the other serves, the controller heals back to two. */
	LP_TEST_FMT(victim, "%.64s", ids);
	LP_TEST_FMT(before, "%s", ids);
	printf("  rm -f of one of 2 replicas at %lld ms\n",
	       (long long)lp_test_load_elapsed_ms(load));
	lp_test_load_peek(&at_kill, load);
	REQUIRE(lp_test_load_failed(&at_kill) == 0, "%llu requests failed before the kill: %s",
	        (unsigned long long)lp_test_load_failed(&at_kill), at_kill.first_failure);
	t0 = lp_clock_mono_ms();
	lp_test_sh("docker rm -f %s >/dev/null", victim);
	wait_replicas(ids, sizeof(ids), slug, 2, victim);
	printf("  healed to 2 replicas, both routed: %lld ms\n",
	       (long long)(lp_clock_mono_ms() - t0));
	lp_clock_sleep_ms(1000);
	lp_test_load_peek(&healed, load);
	killed = lp_test_load_failed(&healed);
	printf("  rm -f of one of 2 replicas: %llu request(s) failed (at most %d may: those inside "
	       "the killed nginx)\n",
	       (unsigned long long)killed, LOAD_THREADS);
	REQUIRE(killed <= LOAD_THREADS,
	        "%llu requests failed around the rm -f of one of 2 replicas, more than the %d the "
	        "killed nginx can have held (first: %s)",
	        (unsigned long long)killed, LOAD_THREADS, healed.first_failure);

	printf("  scale 2 -> 3 at %lld ms\n", (long long)lp_test_load_elapsed_ms(load));
	apply_serve(slug, 0, 3);
	wait_replicas(ids, sizeof(ids), slug, 3, NULL);
	printf("  scale 3 -> 1 at %lld ms\n", (long long)lp_test_load_elapsed_ms(load));
	apply_serve(slug, 0, 1);
	wait_replicas(ids, sizeof(ids), slug, 1, NULL);
	printf("  scale 1 -> 2 at %lld ms\n", (long long)lp_test_load_elapsed_ms(load));
	apply_serve(slug, 0, 2);
	wait_replicas(ids, sizeof(ids), slug, 2, NULL);

	/* New revisions (serve.spa flipped, new content) reach every replica and replace none. */
	LP_TEST_FMT(before, "%s", ids);
	printf("  new revisions at %lld ms\n", (long long)lp_test_load_elapsed_ms(load));
	apply_serve(slug, 1, 2);
	for (i = 2; i <= 4; i++) {
		redeploy_page(id, slug, i);
		wait_every_replica_serves(slug, i);
	}
	wait_replicas(ids, sizeof(ids), slug, 2, NULL);
	REQUIRE(!strcmp(ids, before), "a new revision replaced a replica");

	/* An upgrade (the controller back with another serve image) replaces both replicas. */
	printf("  replacement of both replicas at %lld ms\n",
	       (long long)lp_test_load_elapsed_ms(load));
	lp_test_sh("docker tag %s %s-edge-alt", g_p->serve_image, g_p->serve_image);
	LP_TEST_FMT(image, "LAUNCHPAD_SERVE_IMAGE=%s-edge-alt", g_p->serve_image);
	REQUIRE_OK(lp_test_platform_restart_controller(g_p, env, &err));
	wait_replicas(ids, sizeof(ids), slug, 2, before);
	wait_every_replica_serves(slug, 4);
	lp_clock_sleep_ms(500);
	lp_test_load_stop(&st, load);
	{
		char rmi[512];
		LP_TEST_FMT(rmi, "docker rmi %s-edge-alt >/dev/null 2>&1", g_p->serve_image);
		if (system(rmi) != 0) /* its containers still use it: they go with the platform */
			fprintf(stderr, "(the -edge-alt tag stays until the platform is gone)\n");
	}
	print_load("replicas under load", &st);
	REQUIRE(lp_test_load_failed(&st) == killed,
	        "%llu of %llu requests failed while scaling and replacing replicas (the last at "
	        "%lld ms; the first failure: %s)",
	        (unsigned long long)(lp_test_load_failed(&st) - killed),
	        (unsigned long long)st.requests, (long long)st.last_failure_ms, st.first_failure);
	REQUIRE((double)st.requests / st.seconds >= LOAD_FLOOR,
	        "the load ran at %.0f req/s, below the %d req/s the test must hold",
	        (double)st.requests / st.seconds, LOAD_FLOOR);
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
	tcase_add_test(tc, test_replicas_lose_no_request);
	suite_add_tcase(s, tc);
	return lp_test_run(s);
}
