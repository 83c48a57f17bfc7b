/*
 * check_previews.c: per-revision permalinks and draft deploys (issue 16), on the real platform
 * with its own Traefik: every revision on disk answers at <site>--r<n>.<domain> through the one
 * serve container of the site, a pruned one is a 404; `launchpad deploy --draft` publishes a
 * revision at its permalink while the site keeps serving what it served, and `launchpad rollback
 * --to N` puts it live without creating any container. Previews: signed pull_request webhooks
 * build refs/pull/<n>/head (served over real smart HTTP) as <site>--pr-<n>, closed removes it,
 * forged and replayed deliveries change nothing, a fork's build gets no site env, a push to a
 * matching branch builds <site>--<branch>, and deleting the parent leaves nothing of any preview.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "launchpad/clock.h"
#include "launchpad/crypto.h"
#include "launchpad/fs.h"
#include "tests/lib/git_http_server.h"
#include "tests/lib/fixture.h"
#include "tests/lib/platform.h"
#include "tests/lib/testutil.h"

#define LIVE_WAIT_MS 60000
#define EDGE_WAIT_MS 20000
#define PAGE_MAX     64
#define HOST_MAX     256
#define CMD_MAX      4096
#define KEPT         5 /* revisionHistoryLimit's default: revisions on disk besides the live one */

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

/*
 * Until each serve container of slug runs one nginx worker: the last reload is over. A reload
 * starts the new worker first and tells the old one to quit 100 ms later (longer under load);
 * until then the old worker still answers on the connections Traefik keeps alive to it, so the
 * first answer of a new revision does not mean the old one is gone (docs/serving.md).
 */
static int wait_reload_over(const char *slug, int timeout_ms)
{
	int64_t deadline = lp_clock_mono_ms() + timeout_ms;
	int serving, workers;

	for (;;) {
		serving = lp_test_count_lines("docker ps -q --filter label=launchpad.instance=%s "
		                              "--filter label=launchpad.site=%s "
		                              "--filter label=launchpad.role=serve",
		                              g_p->instance, slug);
		workers = lp_test_count_lines("docker ps -q --filter label=launchpad.instance=%s "
		                              "--filter label=launchpad.site=%s "
		                              "--filter label=launchpad.role=serve | "
		                              "xargs -r -n1 docker top | "
		                              "grep 'nginx: worker process' || true",
		                              g_p->instance, slug);
		if (serving > 0 && workers == serving)
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
	/* The site itself still serves the newest, once revision 6's worker is gone. */
	REQUIRE(wait_reload_over(slug, EDGE_WAIT_MS), "the reload to revision 7 did not end");
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

/* Now as the engine's --since takes it: Unix seconds with nanoseconds (a container created
 * earlier in the same second is not counted). */
static void now_since(char out[64])
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	lp_test_fmt(out, 64, "%ld.%09ld", (long)ts.tv_sec, ts.tv_nsec);
}

/* Containers of this instance created since t, from the engine's own events. */
/* The containers created since t, each also shown on stderr (-a: tee must not truncate a log
 * file that stderr is). */
static int containers_created_since(const char *t)
{
	return lp_test_count_lines(
	    "docker events --since %s --until %ld --filter type=container "
	    "--filter event=create --filter label=launchpad.instance=%s "
	    "--format '{{.ID}} {{.Actor.Attributes.name}}' | tee -a /dev/stderr",
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
	char since[64];
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

	now_since(since);
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
	REQUIRE_OK(lp_test_platform_upload(
	    &r, g_p, "/api/deployments/drafts-input/archive?draft=maybe", NULL, zip, &err));
	REQUIRE(r.status == 400, "draft=maybe answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
	REQUIRE_OK(lp_test_platform_api(
	    &r, g_p, "POST", "/api/deployments/drafts-input/redeploy?draft=true", "{}", &err));
	REQUIRE(r.status == 202 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r.json, "draft")),
	        "redeploy draft answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
	REQUIRE(wait_host("drafts-input--r2.localhost", 200, "page 1\n", LIVE_WAIT_MS),
	        "a redeployed draft rebuilds the live archive at its permalink");
	/* "--" is the platform's: no new site may take a name with it */
	{
		const char *fields[] = {"name",        "x",   "slug", "drafts-input--r9",
		                        "source_type", "zip", NULL};

		REQUIRE_OK(lp_test_platform_upload(&r, g_p, "/api/deployments", fields, zip, &err));
		REQUIRE(r.status == 400 && strstr(r.body, "--"), "a -- name answered %ld: %s",
		        r.status, r.body);
		lp_test_http_resp_release(&r);
	}
	free(zip);
}
END_TEST

/* ---- previews: a real Git server with refs/pull/<n>/head ---- */

#define GONE_MS  5000 /* the bound: a closed PR's preview is gone within 5 s */
#define BODY_MAX 4096
#define SHA_MAX  64

static lp_test_git_server *g_git;
static char g_work[1200]; /* the working clone that pushes to the served repository */

/* A bare repository served over smart HTTP, main holding index.html "main\n". */
static void git_setup(char url[512])
{
	char *root = lp_test_platform_path(g_p, "git"), *u;
	lp_error err = {0};

	REQUIRE(root != NULL, "oom");
	LP_TEST_FMT(g_work, "%s/work", g_p->root);
	lp_test_sh("git init -q --bare -b main %s/site.git && git -C %s/site.git config "
	           "http.receivepack true && git init -q -b main %s && cd %s && git config "
	           "user.email t@t && git config user.name t && printf 'main\\n' > index.html && "
	           "git add index.html && git commit -q -m main && git remote add origin "
	           "%s/site.git && git push -q origin main",
	           root, root, g_work, g_work, root);
	REQUIRE_OK(lp_test_git_server_start(&g_git, root, &err));
	u = lp_test_git_server_url(g_git, "site.git");
	snprintf(url, 512, "%s", u);
	free(u);
	free(root);
}

/* Commit index.html = text on a branch off main and push it to ref; the commit id into sha. */
static void git_push_page(char sha[SHA_MAX], const char *ref, const char *text)
{
	char cmd[CMD_MAX];
	FILE *f;

	lp_test_sh("cd %s && git checkout -q -B work main && printf '%%s\\n' '%s' > index.html && "
	           "git commit -q -am '%s' && git push -q -f origin HEAD:%s",
	           g_work, text, text, ref);
	LP_TEST_FMT(cmd, "git -C %s rev-parse HEAD", g_work);
	f = popen(cmd, "r");
	REQUIRE(f && fgets(sha, SHA_MAX, f), "rev-parse");
	pclose(f);
	sha[strcspn(sha, "\n")] = '\0';
}

static void git_teardown(void)
{
	lp_test_git_server_stop(g_git);
	g_git = NULL;
}

/* Apply a Git site with a build that prints its SECRET, and previews as given; wait live. */
static void apply_git_site(const char *name, const char *url, const char *previews)
{
	char yaml[BODY_MAX], path[256];
	lp_test_http_resp r = {0};
	lp_error err = {0};
	const char *hdr[] = {NULL};

	LP_TEST_FMT(
	    yaml,
	    "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  name: %s\nspec:\n"
	    "  source:\n    git: {url: \"%s\", branch: main}\n"
	    "  build:\n    command: \"echo secret=[$SECRET]; mkdir -p dist && cp index.html "
	    "dist/\"\n    env: {SECRET: hunter2}\n"
	    "  autoDeploy: true\n%s",
	    name, url, previews);
	LP_TEST_FMT(path, "%s/api/deployments/%s", g_p->url, name);
	REQUIRE_OK(lp_test_http_request(&r, "PUT", path, yaml, strlen(yaml), "application/yaml",
	                                g_p->token, hdr, &err));
	REQUIRE(r.status == 201, "apply answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
	REQUIRE_OK(lp_test_platform_wait_edge(g_p, name, 200, "main\n", LIVE_WAIT_MS, &err));
}

static void webhook_secret(char out[128], const char *site)
{
	lp_test_http_resp r = {0};
	lp_error err = {0};
	char path[256];
	const cJSON *v;

	/* the owner's explicit endpoint: get and list never carry it (issue 17) */
	LP_TEST_FMT(path, "/api/deployments/%s/webhook", site);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "GET", path, NULL, &err));
	v = cJSON_GetObjectItemCaseSensitive(r.json, "webhook_secret");
	REQUIRE(cJSON_IsString(v), "no secret: %s", r.body);
	snprintf(out, 128, "%s", v->valuestring);
	lp_test_http_resp_release(&r);
}

/* POST a GitHub delivery, signed with secret (forge: one digit wrong); the answer into r. */
static void hook(lp_test_http_resp *r, const char *site, const char *secret, const char *event,
                 const char *delivery, const char *body, int forge)
{
	char url[256], sig[LP_SHA256_HEX_LEN], hs[128], he[128], hd[160];
	const char *hdr[] = {hs, he, hd, NULL};
	lp_error err = {0};

	REQUIRE_OK(lp_crypto_hmac_sha256_hex(sig, secret, strlen(secret), body, strlen(body)));
	if (forge)
		sig[0] = sig[0] == 'a' ? 'b' : 'a';
	LP_TEST_FMT(hs, "X-Hub-Signature-256: sha256=%s", sig);
	LP_TEST_FMT(he, "X-GitHub-Event: %s", event);
	LP_TEST_FMT(hd, "X-GitHub-Delivery: %s", delivery);
	LP_TEST_FMT(url, "%s/api/webhooks/github/%s", g_p->url, site);
	REQUIRE_OK(lp_test_http_request(r, "POST", url, body, strlen(body), "application/json",
	                                NULL, hdr, &err));
}

static void pr_body(char out[BODY_MAX], const char *action, int number, const char *sha,
                    const char *head_repo)
{
	lp_test_fmt(out, BODY_MAX,
	            "{\"action\":\"%s\",\"number\":%d,\"pull_request\":{\"number\":%d,"
	            "\"head\":{\"sha\":\"%s\",\"ref\":\"feature\",\"repo\":{\"full_name\":\"%s\"}},"
	            "\"base\":{\"ref\":\"main\",\"repo\":{\"full_name\":\"owner/site\"}}}}",
	            action, number, number, sha, head_repo);
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : "";
}

/* Revisions the API lists for site (-1: the site does not answer). */
static int revision_count(const char *site)
{
	lp_test_http_resp r = {0};
	lp_error err = {0};
	char path[256];
	int n = -1;

	LP_TEST_FMT(path, "/api/deployments/%s/revisions", site);
	if (lp_test_platform_api(&r, g_p, "GET", path, NULL, &err) == LP_OK && r.status == 200)
		n = cJSON_GetArraySize(r.json);
	lp_test_http_resp_release(&r);
	return n;
}

/* Until revision n of site is ready; then its build log (malloc'd). */
static char *ready_log(const char *site, long n)
{
	int64_t deadline = lp_clock_mono_ms() + LIVE_WAIT_MS;
	char rel[256], *path, *text = NULL;

	for (;;) {
		cJSON *revs = revisions(site);
		const cJSON *v = revision_of(revs, n);
		int ready = v && !strcmp(jstr(v, "state"), "ready");

		cJSON_Delete(revs);
		if (ready)
			break;
		REQUIRE(lp_clock_mono_ms() < deadline, "revision %ld of %s not ready", n, site);
		lp_clock_sleep_ms(200);
	}
	LP_TEST_FMT(rel, "logs/%s/%ld.log", site, n);
	path = lp_test_platform_data_path(g_p, rel);
	REQUIRE(path && lp_fs_read_file(&text, NULL, path, 1 << 20, NULL) == LP_OK, "log %s", rel);
	free(path);
	return text;
}

/* Nothing of site is left: no row (404), no container, no directory. */
static void assert_gone(const char *site, int timeout_ms)
{
	lp_error err = {0};
	char rel[256], label[128], *dir;

	REQUIRE_OK(lp_test_platform_wait_gone(g_p, site, timeout_ms, &err));
	LP_TEST_FMT(label, "launchpad.site=%s", site);
	LP_TEST_FMT(rel, "sites/%s", site);
	dir = lp_test_platform_data_path(g_p, rel);
	{
		int64_t deadline = lp_clock_mono_ms() + timeout_ms;
		while ((lp_test_platform_count_containers(g_p, label) != 0 || lp_fs_exists(dir)) &&
		       lp_clock_mono_ms() < deadline)
			lp_clock_sleep_ms(100);
	}
	REQUIRE(lp_test_platform_count_containers(g_p, label) == 0, "containers of %s remain",
	        site);
	REQUIRE(!lp_fs_exists(dir), "%s remains", dir);
	free(dir);
}

/*
 * opened → <site>--pr-7 serves the PR's head while the site serves main; synchronize → its
 * revision 2; a forged or replayed delivery changes nothing; closed → gone within 5 s. A PR of a
 * site without previews builds nothing.
 */
START_TEST(test_pull_request_preview_lifecycle)
{
	char url[512], secret[128], sha1[SHA_MAX], sha2[SHA_MAX], body[BODY_MAX], host[HOST_MAX];
	char *page = NULL, *log;
	lp_test_http_resp r = {0};
	lp_error err = {0};
	cJSON *list;

	git_setup(url);
	/* the parent's custom domain stays the parent's: the preview answers on its own host */
	apply_git_site("shop", url,
	               "  previews: {pullRequests: true}\n  domains: [shop.example.test]\n");
	apply_git_site("plain", url, "");
	webhook_secret(secret, "shop");
	git_push_page(sha1, "refs/pull/7/head", "pr seven one");

	pr_body(body, "opened", 7, sha1, "owner/site");
	hook(&r, "shop", secret, "pull_request", "d-open", body, 0);
	REQUIRE(r.status == 201 && !strcmp(jstr(r.json, "preview"), "shop--pr-7"),
	        "opened answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
	REQUIRE(wait_host("shop--pr-7.localhost", 200, "pr seven one\n", LIVE_WAIT_MS),
	        "the preview does not serve the PR's head");
	REQUIRE(fetch_host(&page, "shop.localhost") == 200 && !strcmp(page, "main\n"),
	        "the parent: %s", page);
	free(page);
	log = ready_log("shop--pr-7", 1);
	REQUIRE(strstr(log, "secret=[hunter2]"), "a PR from the repository itself has the env:\n%s",
	        log);
	free(log);

	/* synchronize: a new revision of the preview */
	git_push_page(sha2, "refs/pull/7/head", "pr seven two");
	pr_body(body, "synchronize", 7, sha2, "owner/site");
	hook(&r, "shop", secret, "pull_request", "d-sync", body, 0);
	REQUIRE(r.status == 200 && cJSON_GetObjectItemCaseSensitive(r.json, "revision") &&
	            cJSON_GetObjectItemCaseSensitive(r.json, "revision")->valuedouble == 2,
	        "synchronize answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
	REQUIRE(wait_host("shop--pr-7.localhost", 200, "pr seven two\n", LIVE_WAIT_MS),
	        "the preview does not serve the new head");

	/* forged: 401, nothing; replayed (same delivery, or same commit anew): nothing */
	pr_body(body, "closed", 7, sha2, "owner/site");
	hook(&r, "shop", secret, "pull_request", "d-forged", body, 1);
	REQUIRE(r.status == 401, "forged answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
	pr_body(body, "synchronize", 7, sha1, "owner/site");
	hook(&r, "shop", secret, "pull_request", "d-sync", body, 0);
	REQUIRE(r.status == 200 && !strcmp(jstr(r.json, "result"), "duplicate"),
	        "replayed delivery answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
	pr_body(body, "synchronize", 7, sha2, "owner/site");
	hook(&r, "shop", secret, "pull_request", "d-sync-again", body, 0);
	REQUIRE(r.status == 200 && !strcmp(jstr(r.json, "result"), "duplicate"),
	        "same commit anew answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
	pr_body(body, "synchronize", 7, sha1, "owner/site");
	hook(&r, "shop", secret, "pull_request", "d-sync-old", body, 0);
	REQUIRE(r.status == 202 && !strcmp(jstr(r.json, "result"), "ignored"),
	        "an older head anew answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
	REQUIRE(revision_count("shop--pr-7") == 2, "the preview has %d revisions",
	        revision_count("shop--pr-7"));
	REQUIRE(wait_host("shop--pr-7.localhost", 200, "pr seven two\n", EDGE_WAIT_MS),
	        "the preview changed");

	/* the API lists it as the parent's */
	REQUIRE_OK(
	    lp_test_platform_api(&r, g_p, "GET", "/api/deployments/shop/previews", NULL, &err));
	list = r.json;
	REQUIRE(r.status == 200 && cJSON_GetArraySize(list) == 1 &&
	            !strcmp(jstr(cJSON_GetArrayItem(list, 0), "slug"), "shop--pr-7") &&
	            !strcmp(jstr(cJSON_GetArrayItem(list, 0), "parent"), "shop"),
	        "previews: %s", r.body);
	lp_test_http_resp_release(&r);

	/* a site without previews: a PR builds nothing */
	webhook_secret(secret, "plain");
	pr_body(body, "opened", 3, sha1, "owner/site");
	hook(&r, "plain", secret, "pull_request", "d-plain", body, 0);
	REQUIRE(r.status == 202 && !strcmp(jstr(r.json, "result"), "ignored"),
	        "plain answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
	REQUIRE(revision_count("plain--pr-3") == -1, "a preview of plain exists");

	/* closed: gone within 5 s (row, containers, files) */
	webhook_secret(secret, "shop");
	pr_body(body, "closed", 7, sha2, "owner/site");
	hook(&r, "shop", secret, "pull_request", "d-close", body, 0);
	REQUIRE(r.status == 202 && !strcmp(jstr(r.json, "result"), "removed"),
	        "closed answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
	assert_gone("shop--pr-7", GONE_MS);
	LP_TEST_FMT(host, "shop.localhost");
	REQUIRE(fetch_host(&page, host) == 200 && !strcmp(page, "main\n"), "the parent: %s", page);
	free(page);
	git_teardown();
}
END_TEST

/*
 * A fork's PR builds without the site's env (its log proves it); a push to staging builds
 * <site>--staging, one to an unmatched branch nothing; past previews.max the oldest preview goes;
 * deleting the parent removes every preview with it.
 */
START_TEST(test_fork_env_branch_deploys_and_owner_gc)
{
	char url[512], secret[128], sha[SHA_MAX], body[BODY_MAX], release[128], *log, *page = NULL;
	lp_test_http_resp r = {0};
	lp_error err = {0};

	git_setup(url);
	apply_git_site(
	    "app", url,
	    "  previews: {pullRequests: true, branches: [staging, \"release/*\"], max: 2}\n");
	webhook_secret(secret, "app");

	git_push_page(sha, "refs/pull/8/head", "from a fork");
	pr_body(body, "opened", 8, sha, "mallory/site");
	hook(&r, "app", secret, "pull_request", "f-open", body, 0);
	REQUIRE(r.status == 201, "fork PR answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
	log = ready_log("app--pr-8", 1);
	REQUIRE(strstr(log, "secret=[]") && !strstr(log, "hunter2"),
	        "a fork's build saw the site's env:\n%s", log);
	free(log);

	/* branch deploys */
	git_push_page(sha, "refs/heads/staging", "staging page");
	lp_test_fmt(body, BODY_MAX,
	            "{\"ref\":\"refs/heads/staging\",\"before\":\"%040d\",\"after\":\"%s\"}", 0,
	            sha);
	hook(&r, "app", secret, "push", "b-staging", body, 0);
	REQUIRE(r.status == 201 && !strcmp(jstr(r.json, "preview"), "app--staging"),
	        "push to staging answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
	REQUIRE(wait_host("app--staging.localhost", 200, "staging page\n", LIVE_WAIT_MS),
	        "the staging branch deploy");
	git_push_page(sha, "refs/heads/release/2.0", "release page");
	lp_test_fmt(body, BODY_MAX,
	            "{\"ref\":\"refs/heads/release/2.0\",\"before\":\"%040d\",\"after\":\"%s\"}", 0,
	            sha);
	hook(&r, "app", secret, "push", "b-release", body, 0);
	REQUIRE(r.status == 201 && !strncmp(jstr(r.json, "preview"), "app--release-2-0-", 17),
	        "push to release/2.0 answered %ld: %s", r.status, r.body);
	snprintf(release, sizeof(release), "%s", jstr(r.json, "preview"));
	lp_test_http_resp_release(&r);
	/* a third preview with previews.max 2: the oldest (the fork's PR) goes, said in an event */
	assert_gone("app--pr-8", GONE_MS);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "GET", "/api/deployments/app/events", NULL, &err));
	REQUIRE(strstr(r.body, "PreviewRemoved") && strstr(r.body, "preview app--pr-8 removed"),
	        "no event of the cap: %s", r.body);
	lp_test_http_resp_release(&r);
	git_push_page(sha, "refs/heads/feature-x", "feature page");
	lp_test_fmt(body, BODY_MAX,
	            "{\"ref\":\"refs/heads/feature-x\",\"before\":\"%040d\",\"after\":\"%s\"}", 0,
	            sha);
	hook(&r, "app", secret, "push", "b-feature", body, 0);
	REQUIRE(r.status == 202 && !strcmp(jstr(r.json, "result"), "ignored"),
	        "push to feature-x answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
	REQUIRE(revision_count("app--feature-x") == -1, "an unmatched branch got a preview");
	REQUIRE(fetch_host(&page, "app.localhost") == 200 && !strcmp(page, "main\n"),
	        "the parent: %s", page);
	free(page);

	/* delete the parent: every preview goes with it */
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "DELETE", "/api/deployments/app", NULL, &err));
	REQUIRE(r.status == 202, "delete answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
	assert_gone("app", LIVE_WAIT_MS);
	assert_gone("app--staging", GONE_MS);
	assert_gone(release, GONE_MS);
	REQUIRE(lp_test_count_lines("ls %s/data/sites %s/data/logs %s/data/conf %s/data/cache/git "
	                            "2>/dev/null | grep app || true",
	                            g_p->root, g_p->root, g_p->root, g_p->root) == 0,
	        "files of app's previews remain");
	/* (the instance's Traefik carries its label too: serve and build containers are counted) */
	REQUIRE(lp_test_platform_count_containers(g_p, "launchpad.role=serve") == 0 &&
	            lp_test_platform_count_containers(g_p, "launchpad.role=build") == 0,
	        "containers remain");
	git_teardown();
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
	tc = tcase_create("previews");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_pull_request_preview_lifecycle);
	tcase_add_test(tc, test_fork_env_branch_deploys_and_owner_gc);
	suite_add_tcase(s, tc);
	return lp_test_run(s);
}
