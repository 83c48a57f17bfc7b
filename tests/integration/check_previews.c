/*
 * check_previews.c: per-revision permalinks and draft deploys (issue 16), on the real platform
 * with its own Traefik: every revision on disk answers at <site>--r<n>.<domain> through the one
 * serve container of the site, a pruned one is a 404; `launchpad deploy --draft` publishes a
 * revision at its permalink while the site keeps serving what it served, and `launchpad rollback
 * --to N` puts it live without creating any container.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "launchpad/clock.h"
#include "tests/lib/platform.h"
#include "tests/lib/testutil.h"

#define LIVE_WAIT_MS 60000
#define EDGE_WAIT_MS 20000
#define PAGE_MAX     64
#define HOST_MAX     256
#define CMD_MAX      4096
#define KEPT         5 /* revisionHistoryLimit's default: revisions on disk besides the live one */

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

static void page_zip(const char *zip, int n)
{
	char html[PAGE_MAX];
	const char *files[] = {"index.html", html, NULL};
	lp_error err = {0};

	LP_TEST_FMT(html, "page %d\n", n);
	REQUIRE_OK(lp_test_make_zip(zip, files, &err));
}

/* A zip site serving "page 1", live through Traefik; its slug into slug. */
static void create_site(char slug[64], const char *name)
{
	const char *fields[] = {"name", name, "slug", name, "source_type", "zip", NULL};
	char *zip = lp_test_platform_path(g_p, "site.zip");
	lp_test_http_resp r = {0};
	lp_error err = {0};
	const cJSON *v;

	REQUIRE(zip != NULL, "oom");
	page_zip(zip, 1);
	REQUIRE_OK(lp_test_platform_upload(&r, g_p, "/api/deployments", fields, zip, &err));
	REQUIRE(r.status == 201, "create answered %ld: %s", r.status, r.body);
	v = cJSON_GetObjectItemCaseSensitive(r.json, "slug");
	REQUIRE(cJSON_IsString(v), "no slug in %s", r.body);
	snprintf(slug, 64, "%s", v->valuestring);
	lp_test_http_resp_release(&r);
	free(zip);
	REQUIRE_OK(lp_test_platform_wait_edge(g_p, slug, 200, "page 1\n", LIVE_WAIT_MS, &err));
}

/* Upload page n as the site's next archive (a draft with draft set); returns the answer. */
static void upload_page(lp_test_http_resp *r, const char *slug, int n, int draft)
{
	char path[256];
	char *zip = lp_test_platform_path(g_p, "next.zip");
	lp_error err = {0};

	REQUIRE(zip != NULL, "oom");
	page_zip(zip, n);
	LP_TEST_FMT(path, "/api/deployments/%s/archive%s", slug, draft ? "?draft=true" : "");
	REQUIRE_OK(lp_test_platform_upload(r, g_p, path, NULL, zip, &err));
	free(zip);
}

/* Poll Host until it answers want_status (and, for 200, exactly body). */
static int wait_host(const char *host, long want_status, const char *body, int timeout_ms)
{
	int64_t deadline = lp_clock_mono_ms() + timeout_ms;
	lp_error err = {0};

	for (;;) {
		char *got = NULL;
		long status = 0;
		int ok;

		(void)lp_test_platform_fetch_edge(&got, &status, g_p, host, "/", &err);
		ok = status == want_status && (want_status != 200 || (got && !strcmp(got, body)));
		free(got);
		if (ok)
			return 1;
		if (lp_clock_mono_ms() > deadline)
			return 0;
		lp_clock_sleep_ms(100);
	}
}

static long fetch_host(char **out, const char *host)
{
	lp_error err = {0};
	long status = 0;

	(void)lp_test_platform_fetch_edge(out, &status, g_p, host, "/", &err);
	return status;
}

/* The revisions of slug as the API lists them (newest first); cJSON_Delete it. */
static cJSON *revisions(const char *slug)
{
	lp_test_http_resp r = {0};
	lp_error err = {0};
	char path[256];
	cJSON *arr;

	LP_TEST_FMT(path, "/api/deployments/%s/revisions", slug);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "GET", path, NULL, &err));
	REQUIRE(r.status == 200 && cJSON_IsArray(r.json), "revisions: %ld %s", r.status, r.body);
	arr = r.json;
	r.json = NULL;
	lp_test_http_resp_release(&r);
	return arr;
}

static const cJSON *revision_of(const cJSON *arr, long n)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, arr)
	{
		const cJSON *num = cJSON_GetObjectItemCaseSensitive(v, "revision");
		if (cJSON_IsNumber(num) && (long)num->valuedouble == n)
			return v;
	}
	return NULL;
}

/* Run the CLI with the platform's server and token; its stdout (malloc'd) and exit status. */
static int run_cli(char **out, const char *args)
{
	char *bin = lp_test_bin_path("launchpad"), cmd[CMD_MAX], *text = NULL;
	size_t len = 0, cap = 0;
	FILE *f;
	int c, st;

	REQUIRE(bin != NULL, "oom");
	LP_TEST_FMT(cmd, "LAUNCHPAD_SERVER=%s LAUNCHPAD_TOKEN=%s %s %s 2>&1", g_p->url, g_p->token,
	            bin, args);
	free(bin);
	f = popen(cmd, "r");
	REQUIRE(f != NULL, "popen %s", cmd);
	while ((c = fgetc(f)) != EOF) {
		if (len + 2 > cap) {
			cap = cap ? cap * 2 : 4096;
			text = realloc(text, cap);
			REQUIRE(text != NULL, "oom");
		}
		text[len++] = (char)c;
	}
	if (text == NULL)
		text = calloc(1, 1);
	else
		text[len] = '\0';
	st = pclose(f);
	*out = text;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * Seven revisions: each answers at its permalink while the site serves the newest; the oldest
 * two are pruned (five kept, the default) and their permalinks answer 404. The API and the
 * CLI's wide revisions table name each ready revision's permalink.
 */
START_TEST(test_permalinks_serve_each_revision_and_pruned_404)
{
	char slug[64], host[HOST_MAX], want[PAGE_MAX], *body = NULL, *out = NULL;
	lp_test_http_resp r = {0};
	lp_error err = {0};
	cJSON *revs;
	const cJSON *v, *link;
	int n;

	create_site(slug, "perma");
	for (n = 2; n <= 7; n++) {
		upload_page(&r, slug, n, 0);
		REQUIRE(r.status == 202, "upload %d answered %ld: %s", n, r.status, r.body);
		lp_test_http_resp_release(&r);
		LP_TEST_FMT(want, "page %d\n", n);
		REQUIRE_OK(lp_test_platform_wait_edge(g_p, slug, 200, want, LIVE_WAIT_MS, &err));
	}
	for (n = 3; n <= 7; n++) {
		LP_TEST_FMT(host, "%s--r%d.localhost", slug, n);
		LP_TEST_FMT(want, "page %d\n", n);
		REQUIRE(wait_host(host, 200, want, EDGE_WAIT_MS), "%s does not serve page %d", host,
		        n);
	}
	/* Pruned (7 - KEPT = 2 oldest gone), never built, or not a revision number: 404. */
	LP_TEST_FMT(host, "%s--r1.localhost", slug);
	REQUIRE(fetch_host(&body, host) == 404, "pruned revision 1 answered: %s", body);
	free(body);
	body = NULL;
	LP_TEST_FMT(host, "%s--r8.localhost", slug);
	REQUIRE(fetch_host(&body, host) == 404, "revision 8 (none) answered: %s", body);
	free(body);
	body = NULL;
	LP_TEST_FMT(host, "%s--r03.localhost", slug);
	REQUIRE(fetch_host(&body, host) == 404, "r03 answered: %s", body);
	free(body);
	body = NULL;
	/* The site itself still serves the newest. */
	LP_TEST_FMT(host, "%s.localhost", slug);
	REQUIRE(fetch_host(&body, host) == 200 && !strcmp(body, "page 7\n"), "site: %s", body);
	free(body);
	(void)KEPT;

	revs = revisions(slug);
	v = revision_of(revs, 4);
	REQUIRE(v != NULL, "no revision 4");
	link = cJSON_GetObjectItemCaseSensitive(v, "permalink");
	LP_TEST_FMT(want, "http://%s--r4.localhost", slug);
	REQUIRE(cJSON_IsString(link) && !strncmp(link->valuestring, want, strlen(want)),
	        "revision 4's permalink: %s", cJSON_PrintUnformatted(v));
	cJSON_Delete(revs);

	LP_TEST_FMT(host, "get revisions %s -o wide", slug);
	REQUIRE(run_cli(&out, host) == 0, "get revisions: %s", out);
	LP_TEST_FMT(want, "http://%s--r7.localhost", slug);
	REQUIRE(strstr(out, "PERMALINK") && strstr(out, want), "no permalink in:\n%s", out);
	free(out);
}
END_TEST

/* Containers of this instance created since t (Unix seconds), from the engine's own events. */
static int containers_created_since(long t)
{
	return lp_test_count_lines("docker events --since %ld --until %ld --filter type=container "
	                           "--filter event=create --filter label=launchpad.instance=%s "
	                           "--format '{{.ID}}'",
	                           t, (long)time(NULL) + 1, g_p->instance);
}

/*
 * deploy --draft: the site serves page 1 while the draft's permalink serves page 2; rollback
 * --to 2 makes page 2 live with no container created (no build, no config check); the time to
 * live is printed, not asserted.
 */
START_TEST(test_draft_then_publish_without_build)
{
	char slug[64], host[HOST_MAX], args[CMD_MAX], want[PAGE_MAX], *out = NULL, *body = NULL;
	char *dir = lp_test_platform_path(g_p, "draft-site"), *index;
	lp_error err = {0};
	cJSON *revs;
	const cJSON *v;
	int64_t t0, took;
	long since;
	FILE *f;

	create_site(slug, "drafty");
	REQUIRE(dir != NULL && mkdir(dir, 0755) == 0, "mkdir");
	index = lp_test_platform_path(g_p, "draft-site/index.html");
	REQUIRE(index != NULL && (f = fopen(index, "w")) != NULL, "index.html");
	fputs("page 2\n", f);
	fclose(f);

	LP_TEST_FMT(args, "deploy %s --name %s --draft", dir, slug);
	REQUIRE(run_cli(&out, args) == 0, "deploy --draft: %s", out);
	LP_TEST_FMT(want, "Permalink: http://%s--r2.localhost", slug);
	REQUIRE(strstr(out, want) != NULL, "no permalink in: %s", out);
	free(out);

	LP_TEST_FMT(host, "%s--r2.localhost", slug);
	REQUIRE(wait_host(host, 200, "page 2\n", LIVE_WAIT_MS), "the draft's permalink");
	/* The draft's serve config is checked once it is built: wait for it before publishing. */
	{
		char *conf = NULL;
		int64_t deadline = lp_clock_mono_ms() + LIVE_WAIT_MS;
		char rel[256];

		LP_TEST_FMT(rel, "sites/%s/.launchpad-rules/2.conf", slug);
		conf = lp_test_platform_data_path(g_p, rel);
		while (access(conf, F_OK) != 0 && lp_clock_mono_ms() < deadline)
			lp_clock_sleep_ms(100);
		REQUIRE(access(conf, F_OK) == 0, "no checked config of the draft: %s", conf);
		free(conf);
	}
	/* The site still serves page 1, and says revision 1 is current and desired. */
	LP_TEST_FMT(host, "%s.localhost", slug);
	REQUIRE(fetch_host(&body, host) == 200 && !strcmp(body, "page 1\n"), "site: %s", body);
	free(body);
	revs = revisions(slug);
	v = revision_of(revs, 2);
	REQUIRE(v && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "draft")) &&
	            !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "desired")) &&
	            !strcmp(cJSON_GetObjectItemCaseSensitive(v, "state")->valuestring, "ready"),
	        "revision 2: %s", cJSON_PrintUnformatted(v));
	v = revision_of(revs, 1);
	REQUIRE(v && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "current")), "revision 1: %s",
	        cJSON_PrintUnformatted(v));
	cJSON_Delete(revs);

	since = (long)time(NULL);
	t0 = lp_clock_mono_ms();
	LP_TEST_FMT(args, "rollback %s --to 2", slug);
	REQUIRE(run_cli(&out, args) == 0, "rollback: %s", out);
	free(out);
	REQUIRE(wait_host(host, 200, "page 2\n", LIVE_WAIT_MS), "published draft not live");
	took = lp_clock_mono_ms() - t0;
	REQUIRE_OK(lp_test_platform_wait_status(NULL, g_p, slug, "live", LIVE_WAIT_MS, &err));
	REQUIRE(containers_created_since(since) == 0,
	        "publishing the draft created containers (a build or a check)");
	printf("  draft published -> live through Traefik: %lld ms (issue: < 1 s)\n",
	       (long long)took);
	free(index);
	free(dir);
}
END_TEST

/* ?draft= takes true or false; a draft of a site that does not exist is a 404. */
START_TEST(test_draft_param_input)
{
	char slug[64];
	lp_test_http_resp r = {0};
	lp_error err = {0};
	char *zip = lp_test_platform_path(g_p, "x.zip");

	create_site(slug, "drafts-input");
	page_zip(zip, 9);
	REQUIRE_OK(
	    lp_test_platform_upload(&r, g_p, "/api/deployments/drafts-input/archive?draft=maybe",
	                            NULL, zip, &err));
	REQUIRE(r.status == 400, "draft=maybe answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "POST",
	                                "/api/deployments/drafts-input/redeploy?draft=true", "{}",
	                                &err));
	REQUIRE(r.status == 202 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r.json, "draft")),
	        "redeploy draft answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
	REQUIRE(wait_host("drafts-input--r2.localhost", 200, "page 1\n", LIVE_WAIT_MS),
	        "a redeployed draft rebuilds the live archive at its permalink");
	free(zip);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("previews");
	TCase *tc = tcase_create("permalinks");

	lp_test_require_docker();
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_permalinks_serve_each_revision_and_pruned_404);
	tcase_add_test(tc, test_draft_then_publish_without_build);
	tcase_add_test(tc, test_draft_param_input);
	suite_add_tcase(s, tc);
	return lp_test_run(s);
}
