/* check_e2e_api.c: the full loop over HTTP: apiserver + controller + the real Docker engine. */
#include <check.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "launchpad/buf.h"
#include "launchpad/crypto.h"
#include "launchpad/fs.h"
#include "tests/lib/fixture.h"
#include "tests/lib/platform.h"
#include "tests/lib/testutil.h"

#define LIVE_WAIT_MS  180000 /* a cold build in the node image included */
#define GONE_WAIT_MS  60000
#define SERVE_WAIT_MS 30000

#define BUILD_CMD "mkdir -p dist && cp index.html dist/"

static lp_test_platform *g_p;
static char *g_scratch; /* test-owned files (repos, zips): <root>/scratch, beside the data dir */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A failed fork-mode test skips teardown: the fixture cleans up first (tests/lib/fixture.h). */
#define REQUIRE(cond, ...) LP_TEST_REQUIRE(&g_p, cond, __VA_ARGS__)
#define REQUIRE_OK(call)   LP_TEST_REQUIRE_OK(&g_p, call)

static void setup(void)
{
	lp_error err = {0};
	int rc;

	rc = lp_test_platform_start(&g_p, NULL, &err);
	ck_assert_msg(rc == LP_OK, "cannot start the platform: %s", err.message);
	/* inside the platform's root, so even a killed test leaves nothing behind (the reaper) */
	g_scratch = lp_test_platform_path(g_p, "scratch");
	REQUIRE(g_scratch != NULL, "out of memory");
	REQUIRE_OK(lp_fs_mkdirs(g_scratch, 0755, &err));
}

static void teardown(void)
{
	free(g_scratch);
	g_scratch = NULL;
	lp_test_fixture_teardown(&g_p);
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static long jnum(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? (long)v->valuedouble : -1;
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	REQUIRE(st == 0, "command failed (status %d): %s", st, cmd);
}

/* Commit index.html = content in repo (created on first use); returns the new HEAD SHA. */
static void commit_page(char sha[64], const char *repo, const char *content)
{
	char path[1200], cmd[1400];
	lp_error err = {0};
	FILE *f;

	if (!lp_fs_exists(repo))
		sh("git init -q -b main '%s' && git -C '%s' config user.email e2e@launchpad.test "
		   "&& "
		   "git -C '%s' config user.name e2e",
		   repo, repo, repo);
	snprintf(path, sizeof(path), "%s/index.html", repo);
	REQUIRE_OK(lp_fs_write_atomic(path, content, strlen(content), 0644, &err));
	sh("git -C '%s' add index.html && git -C '%s' commit -q -m 'page: %.40s'", repo, repo,
	   content);
	snprintf(cmd, sizeof(cmd), "git -C '%s' rev-parse HEAD", repo);
	f = popen(cmd, "r");
	REQUIRE(f != NULL, "popen %s", cmd);
	sha[0] = '\0';
	if (fgets(sha, 64, f) == NULL)
		sha[0] = '\0';
	pclose(f);
	sha[strcspn(sha, "\n")] = '\0';
	REQUIRE(strlen(sha) == 40, "no SHA from %s: \"%s\"", cmd, sha);
}

/* The number of revisions GET /revisions lists, and whether revision `want` is among them. */
static int revisions(lp_test_platform *p, const char *id, long want, int *has)
{
	lp_test_http_resp r = {0};
	lp_error err = {0};
	char path[256];
	const cJSON *it;
	int n = -1;

	*has = 0;
	snprintf(path, sizeof(path), "/api/deployments/%s/revisions", id);
	if (lp_test_platform_api(&r, p, "GET", path, NULL, &err) == LP_OK && r.status == 200 &&
	    cJSON_IsArray(r.json)) {
		n = cJSON_GetArraySize(r.json);
		cJSON_ArrayForEach(it, r.json)
		{
			if (jnum(it, "revision") == want)
				*has = 1;
		}
	}
	lp_test_http_resp_release(&r);
	return n;
}

/* POST a signed push webhook for branch main at sha; returns the requested revision. */
static long push_webhook(const char *id, const char *secret, const char *before, const char *after)
{
	char body[1024], sig[LP_SHA256_HEX_LEN], h_sig[128], h_del[128], url[512];
	const char *headers[4];
	lp_test_http_resp r = {0};
	lp_error err = {0};
	long rev;

	snprintf(body, sizeof(body),
	         "{\"ref\":\"refs/heads/main\",\"before\":\"%s\",\"after\":\"%s\","
	         "\"deleted\":false,\"repository\":{\"full_name\":\"e2e/site\"},"
	         "\"head_commit\":{\"id\":\"%s\",\"message\":\"page 2\"}}",
	         before, after, after);
	ck_assert_int_eq(lp_crypto_hmac_sha256_hex(sig, secret, strlen(secret), body, strlen(body)),
	                 LP_OK);
	snprintf(h_sig, sizeof(h_sig), "X-Hub-Signature-256: sha256=%s", sig);
	snprintf(h_del, sizeof(h_del), "X-GitHub-Delivery: e2e-%d-%lld", (int)getpid(),
	         (long long)now_ms());
	headers[0] = "X-GitHub-Event: push";
	headers[1] = h_sig;
	headers[2] = h_del;
	headers[3] = NULL;
	snprintf(url, sizeof(url), "%s/api/webhooks/github/%s", g_p->url, id);
	REQUIRE_OK(lp_test_http_request(&r, "POST", url, body, strlen(body), "application/json",
	                                NULL, headers, &err));
	REQUIRE(r.status == 200 && !strcmp(jstr(r.json, "result"), "triggered"),
	        "webhook answered %ld: %s", r.status, r.body);
	rev = jnum(r.json, "revision");
	lp_test_http_resp_release(&r);
	return rev;
}

/* Follow the SSE log of a revision until the server ends the stream (bounded: 240 s). */
static void read_log_stream(lp_buf *out, const char *id, long revision)
{
	char path[256];
	lp_error err = {0};
	long status = 0;
	int rc;

	LP_TEST_FMT(path, "/api/deployments/%s/logs?revision=%ld", id, revision);
	rc = lp_test_platform_stream(out, &status, g_p, path, 240, &err);
	REQUIRE(rc == LP_OK && status == 200, "log stream: %s, HTTP %ld, got: %.2000s",
	        rc == LP_OK ? "complete" : err.message, status, lp_buf_cstr(out));
}

/* DELETE, then: 404, no container of the instance, no files of the site. */
static void delete_and_verify(const char *id, const char *slug)
{
	lp_test_http_resp r = {0};
	lp_error err = {0};
	char path[256], *dir;
	int n;

	snprintf(path, sizeof(path), "/api/deployments/%s", id);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "DELETE", path, NULL, &err));
	REQUIRE(r.status == 202, "DELETE answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
	REQUIRE_OK(lp_test_platform_wait_gone(g_p, id, GONE_WAIT_MS, &err));
	n = lp_test_platform_count_containers(g_p, NULL);
	REQUIRE(n == 0, "%d container(s) of the instance remain after the delete", n);
	snprintf(path, sizeof(path), "sites/%s", slug);
	dir = lp_test_platform_data_path(g_p, path);
	REQUIRE(!lp_fs_exists(dir), "%s still exists after the delete", dir);
	free(dir);
	snprintf(path, sizeof(path), "logs/%s", slug);
	dir = lp_test_platform_data_path(g_p, path);
	REQUIRE(!lp_fs_exists(dir), "%s still exists after the delete", dir);
	free(dir);
}

START_TEST(test_zip_upload_to_live_to_deleted)
{
	const char *files[] = {"index.html", "<h1>zip e2e</h1>\n", "css/site.css",
	                       "body{color:teal}\n", NULL};
	const char *fields[] = {"name", "My zip site", "source_type", "zip", "output_dir",
	                        ".",    "env_vars",    "{}",          NULL};
	lp_test_http_resp r = {0};
	lp_error err = {0};
	char zip[1200], id[64], slug[80], *css = NULL;
	cJSON *dep = NULL;
	long status = 0;

	snprintf(zip, sizeof(zip), "%s/site.zip", g_scratch);
	REQUIRE_OK(lp_test_make_zip(zip, files, &err));
	REQUIRE_OK(lp_test_platform_upload(&r, g_p, "/api/deployments", fields, zip, &err));
	REQUIRE(r.status == 201, "POST zip answered %ld: %s", r.status, r.body);
	REQUIRE(!strcmp(jstr(r.json, "status"), "deploying"), "new zip site: status %s (%s)",
	        jstr(r.json, "status"), r.body);
	REQUIRE(!strcmp(jstr(r.json, "source_type"), "zip"), "source_type %s",
	        jstr(r.json, "source_type"));
	snprintf(id, sizeof(id), "%s", jstr(r.json, "id"));
	snprintf(slug, sizeof(slug), "%s", jstr(r.json, "slug"));
	lp_test_http_resp_release(&r);
	REQUIRE(id[0] && slug[0], "no id/slug in the answer");

	REQUIRE_OK(lp_test_platform_wait_status(&dep, g_p, id, "live", LIVE_WAIT_MS, &err));
	REQUIRE(jnum(dep, "current_revision") == 1, "live at revision %ld",
	        jnum(dep, "current_revision"));
	cJSON_Delete(dep);
	REQUIRE_OK(lp_test_platform_wait_served(g_p, slug, files[1], SERVE_WAIT_MS, &err));
	REQUIRE_OK(lp_test_platform_fetch_site(&css, &status, g_p, slug, "/css/site.css", &err));
	REQUIRE(status == 200 && !strcmp(css, files[3]), "/css/site.css: HTTP %ld \"%s\"", status,
	        css);
	free(css);

	delete_and_verify(id, slug);
}
END_TEST

/* Now as the engine's event filters take it: "<unix seconds>.<nanoseconds>". */
static void wall_clock(char out[40])
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(out, 40, "%lld.%09ld", (long long)ts.tv_sec, ts.tv_nsec);
}

/* Create events of the instance's build containers since `since` (from wall_clock). */
static int build_creates_since(const char *since)
{
	char until[40];

	wall_clock(until);
	return lp_test_count_lines("docker events --since %s --until %s "
	                           "--filter label=launchpad.instance=%s "
	                           "--filter label=launchpad.role=build "
	                           "--filter event=create --format '{{.Actor.ID}}'",
	                           since, until, g_p->instance);
}

START_TEST(test_git_build_webhook_redeploy_rollback_delete)
{
	const char *page1 = "<h1>commit one</h1>\n", *page2 = "<h1>commit two</h1>\n";
	char repo[1200], sha1[64], sha2[64], body[2048], id[64], slug[80], secret[200], path[300];
	lp_test_http_resp r = {0};
	lp_error err = {0};
	cJSON *dep = NULL;
	lp_buf log;
	int64_t t0, t_row = -1, t_live;
	long rev, rev_redeploy;
	char since[40], t_start[40];
	int n_before, n_after, has = 0, creates;
	char *logfile;

	wall_clock(t_start);
	snprintf(repo, sizeof(repo), "%s/repo", g_scratch);
	commit_page(sha1, repo, page1);

	/* 1. the seed's GitHub request, for a local repository (insecure sources allowed) */
	snprintf(body, sizeof(body),
	         "{\"name\":\"git e2e\",\"source_type\":\"github\",\"github_url\":\"file://%s\","
	         "\"branch\":\"main\",\"build_cmd\":\"%s\",\"output_dir\":\"dist\","
	         "\"env_vars\":{\"NODE_ENV\":\"production\"},\"auto_deploy\":true}",
	         repo, BUILD_CMD);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "POST", "/api/deployments", body, &err));
	REQUIRE(r.status == 201, "POST github answered %ld: %s", r.status, r.body);
	REQUIRE(!strcmp(jstr(r.json, "status"), "deploying"), "status %s", jstr(r.json, "status"));
	snprintf(id, sizeof(id), "%s", jstr(r.json, "id"));
	snprintf(slug, sizeof(slug), "%s", jstr(r.json, "slug"));
	snprintf(secret, sizeof(secret), "%s", jstr(r.json, "webhook_secret"));
	lp_test_http_resp_release(&r);
	REQUIRE(id[0] && slug[0] && secret[0], "no id/slug/webhook_secret in the answer");

	/* 2. the SSE log follows the build of revision 1 and ends with it */
	lp_buf_init(&log, 4u << 20);
	read_log_stream(&log, id, 1);
	REQUIRE(strstr(lp_buf_cstr(&log), "==> build") != NULL,
	        "no '==> build' in the log: %.3000s", lp_buf_cstr(&log));
	REQUIRE(strstr(lp_buf_cstr(&log), "==> done") != NULL, "no '==> done' in the log: %.3000s",
	        lp_buf_cstr(&log));
	REQUIRE(strstr(lp_buf_cstr(&log), "event: end\ndata: ready") != NULL,
	        "the stream did not end with 'event: end' / ready: %.3000s", lp_buf_cstr(&log));
	lp_buf_release(&log);

	REQUIRE_OK(lp_test_platform_wait_status(&dep, g_p, id, "live", LIVE_WAIT_MS, &err));
	cJSON_Delete(dep);
	REQUIRE_OK(lp_test_platform_wait_served(g_p, slug, page1, SERVE_WAIT_MS, &err));

	/* 3. a signed push: a new revision carrying the pushed commit goes live */
	commit_page(sha2, repo, page2);
	t0 = now_ms();
	rev = push_webhook(id, secret, sha1, sha2);
	REQUIRE(rev == 2, "webhook requested revision %ld, expected 2", rev);
	while (now_ms() - t0 < 10000) {
		revisions(g_p, id, rev, &has);
		if (has) {
			t_row = now_ms() - t0;
			break;
		}
		usleep(10 * 1000);
	}
	REQUIRE(t_row >= 0, "revision %ld never appeared in GET revisions", rev);
	REQUIRE_OK(lp_test_platform_wait_status(&dep, g_p, id, "live", LIVE_WAIT_MS, &err));
	REQUIRE(jnum(dep, "current_revision") == 2, "live at %ld after the webhook",
	        jnum(dep, "current_revision"));
	cJSON_Delete(dep);
	REQUIRE_OK(lp_test_platform_wait_served(g_p, slug, page2, SERVE_WAIT_MS, &err));
	t_live = now_ms() - t0;
	fprintf(stderr, "e2e figures: webhook -> revision row %lld ms, webhook -> live %lld ms\n",
	        (long long)t_row, (long long)t_live);

	/* 4. redeploy: 202, a new revision number, live again */
	snprintf(path, sizeof(path), "/api/deployments/%s/redeploy", id);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "POST", path, NULL, &err));
	REQUIRE(r.status == 202, "redeploy answered %ld: %s", r.status, r.body);
	rev_redeploy = jnum(r.json, "revision");
	lp_test_http_resp_release(&r);
	REQUIRE(rev_redeploy == 3, "redeploy requested revision %ld, expected 3", rev_redeploy);
	REQUIRE_OK(lp_test_platform_wait_status(&dep, g_p, id, "live", LIVE_WAIT_MS, &err));
	REQUIRE(jnum(dep, "current_revision") == 3, "live at %ld after the redeploy",
	        jnum(dep, "current_revision"));
	cJSON_Delete(dep);
	REQUIRE_OK(lp_test_platform_wait_served(g_p, slug, page2, SERVE_WAIT_MS, &err));

	/* 5. rollback to 1: its content again, no build, no new revision */
	/* the event count below must see builds: three so far (1, 2 and 3) */
	creates = build_creates_since(t_start);
	REQUIRE(creates >= 3, "docker events show %d build container(s) for 3 builds", creates);
	if (getenv("E2E_DEBUG")) {
		snprintf(path, sizeof(path), "/api/deployments/%s/revisions", id);
		lp_test_platform_api(&r, g_p, "GET", path, NULL, &err);
		fprintf(stderr, "revisions: %s\n", r.body);
		lp_test_http_resp_release(&r);
	}
	n_before = revisions(g_p, id, 1, &has);
	REQUIRE(n_before == 3 && has, "%d revisions before the rollback", n_before);
	wall_clock(since);
	snprintf(path, sizeof(path), "/api/deployments/%s/rollback", id);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "POST", path, "{\"revision\":1}", &err));
	REQUIRE(r.status == 202, "rollback answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
	REQUIRE_OK(lp_test_platform_wait_served(g_p, slug, page1, SERVE_WAIT_MS, &err));
	REQUIRE_OK(lp_test_platform_wait_status(&dep, g_p, id, "live", LIVE_WAIT_MS, &err));
	REQUIRE(jnum(dep, "current_revision") == 1 && jnum(dep, "desired_revision") == 1,
	        "after the rollback: current %ld, desired %ld", jnum(dep, "current_revision"),
	        jnum(dep, "desired_revision"));
	cJSON_Delete(dep);
	n_after = revisions(g_p, id, 1, &has);
	REQUIRE(n_after == n_before, "the rollback changed the revision count: %d -> %d", n_before,
	        n_after);
	creates = build_creates_since(since);
	REQUIRE(creates == 0, "the rollback created %d build container(s)", creates);
	snprintf(path, sizeof(path), "logs/%s/4.log", slug);
	logfile = lp_test_platform_data_path(g_p, path);
	REQUIRE(!lp_fs_exists(logfile), "a build log %s appeared after the rollback", logfile);
	free(logfile);

	/* 6. delete: 404, no container, no files */
	delete_and_verify(id, slug);
}
END_TEST

/* DELETE while the first build runs: the build is stopped and everything goes. */
START_TEST(test_delete_during_build)
{
	char repo[1200], sha[64], body[2048], id[64], slug[80];
	lp_test_http_resp r = {0};
	lp_error err = {0};
	int64_t t0;
	int n = 0;

	snprintf(repo, sizeof(repo), "%s/repo", g_scratch);
	commit_page(sha, repo, "<h1>slow</h1>\n");
	snprintf(body, sizeof(body),
	         "{\"name\":\"slow build\",\"source_type\":\"github\","
	         "\"github_url\":\"file://%s\",\"build_cmd\":\"sleep 120; %s\"}",
	         repo, BUILD_CMD);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "POST", "/api/deployments", body, &err));
	REQUIRE(r.status == 201, "POST github answered %ld: %s", r.status, r.body);
	snprintf(id, sizeof(id), "%s", jstr(r.json, "id"));
	snprintf(slug, sizeof(slug), "%s", jstr(r.json, "slug"));
	lp_test_http_resp_release(&r);
	for (t0 = now_ms(); now_ms() - t0 < 60000; usleep(100 * 1000)) {
		n = lp_test_count_lines("docker ps -q --filter label=launchpad.instance=%s "
		                        "--filter label=launchpad.role=build",
		                        g_p->instance);
		if (n > 0)
			break;
	}
	REQUIRE(n > 0, "no running build container within 60 s (last count %d)", n);
	delete_and_verify(id, slug);
}
END_TEST

static const char *ready_reason(const cJSON *site);

/* Running build containers of this platform's instance. */
static int build_containers(void)
{
	return lp_test_count_lines("docker ps -q --filter label=launchpad.instance=%s "
	                           "--filter label=launchpad.role=build",
	                           g_p->instance);
}

/* Wait until a build container of the instance runs (or fail after 60 s). */
static void wait_build_running(void)
{
	int64_t t0;
	int n = 0;

	for (t0 = now_ms(); now_ms() - t0 < 60000 && (n = build_containers()) == 0;)
		usleep(100 * 1000);
	REQUIRE(n > 0, "no running build container within 60 s");
}

/* Wait until no build container of the instance runs; returns how long it took (ms). */
static int64_t wait_builds_gone(int64_t max_ms)
{
	int64_t t0 = now_ms();

	while (build_containers() > 0) {
		REQUIRE(now_ms() - t0 < max_ms, "a build container still runs after %lld ms",
		        (long long)max_ms);
		usleep(100 * 1000);
	}
	return now_ms() - t0;
}

/* State of revision n of site id, from GET /revisions. */
static void revision_state(char out[32], const char *id, long n)
{
	lp_test_http_resp r = {0};
	lp_error err = {0};
	char path[256];
	const cJSON *it;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/api/deployments/%s/revisions", id);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "GET", path, NULL, &err));
	cJSON_ArrayForEach(it, r.json)
	{
		if (jnum(it, "revision") == n)
			snprintf(out, 32, "%s", jstr(it, "state"));
	}
	lp_test_http_resp_release(&r);
}

/*
 * Issue 12: Cancel stops a running build. A redeploy's build cancelled: the served revision stays
 * live; a first build cancelled: the site is failed with reason Cancelled. Never rebuilt.
 */
START_TEST(test_cancel_running_build)
{
	const char *page1 = "<h1>before the slow build</h1>\n";
	char repo[1200], sha[64], body[2048], id[64], slug[80], path[300], state[32];
	lp_test_http_resp r = {0};
	lp_error err = {0};
	cJSON *dep = NULL;
	int64_t took;

	snprintf(repo, sizeof(repo), "%s/repo", g_scratch);
	commit_page(sha, repo, page1);
	/* the build is slow only once the repository holds a file named "slow" */
	snprintf(body, sizeof(body),
	         "{\"name\":\"cancel me\",\"source_type\":\"github\","
	         "\"github_url\":\"file://%s\",\"build_cmd\":\"if [ -f slow ]; then sleep 120; "
	         "fi; %s\"}",
	         repo, BUILD_CMD);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "POST", "/api/deployments", body, &err));
	REQUIRE(r.status == 201, "POST github answered %ld: %s", r.status, r.body);
	snprintf(id, sizeof(id), "%s", jstr(r.json, "id"));
	snprintf(slug, sizeof(slug), "%s", jstr(r.json, "slug"));
	lp_test_http_resp_release(&r);
	REQUIRE_OK(lp_test_platform_wait_status(&dep, g_p, id, "live", LIVE_WAIT_MS, &err));
	cJSON_Delete(dep);

	/* nothing to cancel now: 409 */
	snprintf(path, sizeof(path), "/api/deployments/%s/cancel", id);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "POST", path, NULL, &err));
	REQUIRE(r.status == 409, "cancel with nothing building answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);

	/* a slow redeploy, cancelled while it builds */
	sh("touch '%s/slow' && git -C '%s' add slow && git -C '%s' commit -q -m slow", repo, repo,
	   repo);
	snprintf(path, sizeof(path), "/api/deployments/%s/redeploy", id);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "POST", path, NULL, &err));
	REQUIRE(r.status == 202, "redeploy answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
	wait_build_running();
	snprintf(path, sizeof(path), "/api/deployments/%s/cancel", id);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "POST", path, NULL, &err));
	REQUIRE(r.status == 202 && !strcmp(jstr(r.json, "result"), "cancelled") &&
	            jnum(r.json, "revision") == 2 && jnum(r.json, "desired_revision") == 1,
	        "cancel answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
	took = wait_builds_gone(15000);
	fprintf(stderr, "cancel: the build container went %lld ms after the request\n",
	        (long long)took);
	revision_state(state, id, 2);
	REQUIRE(!strcmp(state, "cancelled"), "revision 2 is %s, not cancelled", state);
	REQUIRE_OK(lp_test_platform_wait_status(&dep, g_p, id, "live", LIVE_WAIT_MS, &err));
	REQUIRE(jnum(dep, "current_revision") == 1, "serving %ld", jnum(dep, "current_revision"));
	cJSON_Delete(dep);
	REQUIRE_OK(lp_test_platform_wait_served(g_p, slug, page1, SERVE_WAIT_MS, &err));
	/* cancelled twice: 409, and it is never built again */
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "POST", path, "{\"revision\":2}", &err));
	REQUIRE(r.status == 409, "second cancel answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
	usleep(1500 * 1000);
	REQUIRE(build_containers() == 0, "a cancelled revision was built again");

	/* a first build cancelled: nothing to serve, the site says so */
	snprintf(body, sizeof(body),
	         "{\"name\":\"cancel first\",\"source_type\":\"github\","
	         "\"github_url\":\"file://%s\",\"build_cmd\":\"sleep 120\"}",
	         repo);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "POST", "/api/deployments", body, &err));
	REQUIRE(r.status == 201, "POST github answered %ld: %s", r.status, r.body);
	snprintf(id, sizeof(id), "%s", jstr(r.json, "id"));
	lp_test_http_resp_release(&r);
	wait_build_running();
	snprintf(path, sizeof(path), "/api/deployments/%s/cancel", id);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "POST", path, NULL, &err));
	REQUIRE(r.status == 202, "cancel answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
	wait_builds_gone(15000);
	REQUIRE_OK(lp_test_platform_wait_status(&dep, g_p, id, "failed", LIVE_WAIT_MS, &err));
	REQUIRE(strstr(jstr(dep, "message"), "cancelled") != NULL, "message: %s",
	        jstr(dep, "message"));
	REQUIRE(!strcmp(ready_reason(dep), "Cancelled"), "Ready reason %s", ready_reason(dep));
	cJSON_Delete(dep);
}
END_TEST

/* Issue 13.4: a build that exits non-zero: failed, Ready's reason BuildFailed, the exit code said.
 */
START_TEST(test_failed_build_says_why)
{
	const char *files[] = {"index.html", "never built\n", NULL};
	const char *fields[] = {"name", "Broken build", "source_type",
	                        "zip",  "build_cmd",    "echo about to fail; exit 3",
	                        NULL};
	lp_test_http_resp r = {0};
	lp_error err = {0};
	cJSON *dep = NULL;
	char zip[1200], id[64];

	snprintf(zip, sizeof(zip), "%s/site.zip", g_scratch);
	REQUIRE_OK(lp_test_make_zip(zip, files, &err));
	REQUIRE_OK(lp_test_platform_upload(&r, g_p, "/api/deployments", fields, zip, &err));
	REQUIRE(r.status == 201, "POST zip answered %ld: %s", r.status, r.body);
	snprintf(id, sizeof(id), "%s", jstr(r.json, "id"));
	lp_test_http_resp_release(&r);
	REQUIRE_OK(lp_test_platform_wait_status(&dep, g_p, id, "failed", LIVE_WAIT_MS, &err));
	REQUIRE(!strcmp(ready_reason(dep), "BuildFailed"), "Ready reason %s", ready_reason(dep));
	REQUIRE(strstr(jstr(dep, "message"), "code 3") != NULL, "message: %s",
	        jstr(dep, "message"));
	cJSON_Delete(dep);
}
END_TEST

/*
 * When the serve container cannot be created (here: the serve image does not exist), the
 * deployment's status must say so, not keep showing the last step that worked.
 */
/* The reason of the Ready condition in a site's JSON, "" when there is none. */
static const char *ready_reason(const cJSON *site)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(site, "conditions"))
	{
		if (!strcmp(jstr(c, "type"), "Ready"))
			return jstr(c, "reason");
	}
	return "";
}

START_TEST(test_serve_failure_reaches_the_status)
{
	const char *env[] = {"LAUNCHPAD_SERVE_IMAGE=launchpad-test/no-such-image:missing", NULL};
	const lp_test_platform_options opts = {.env = env};
	const char *files[] = {"index.html", "never served\n", NULL};
	const char *fields[] = {"name", "Unservable", "source_type", "zip", NULL};
	lp_test_http_resp r = {0};
	lp_error err = {0};
	char zip[1200], id[64], path[256], last[1024] = "";
	int64_t t0;
	int seen = 0;

	REQUIRE_OK(lp_test_platform_start(&g_p, &opts, &err));
	g_scratch = lp_test_platform_path(g_p, "scratch");
	REQUIRE_OK(lp_fs_mkdirs(g_scratch, 0755, &err));
	snprintf(zip, sizeof(zip), "%s/site.zip", g_scratch);
	REQUIRE_OK(lp_test_make_zip(zip, files, &err));
	REQUIRE_OK(lp_test_platform_upload(&r, g_p, "/api/deployments", fields, zip, &err));
	REQUIRE(r.status == 201, "POST zip answered %ld: %s", r.status, r.body);
	snprintf(id, sizeof(id), "%s", jstr(r.json, "id"));
	lp_test_http_resp_release(&r);
	snprintf(path, sizeof(path), "/api/deployments/%s", id);
	for (t0 = now_ms(); !seen && now_ms() - t0 < 30000; usleep(200 * 1000)) {
		REQUIRE_OK(lp_test_platform_api(&r, g_p, "GET", path, NULL, &err));
		snprintf(last, sizeof(last), "status %s, phase %s, message \"%s\"",
		         jstr(r.json, "status"), jstr(r.json, "phase"), jstr(r.json, "message"));
		seen = strstr(jstr(r.json, "message"), "no-such-image") != NULL ||
		       strstr(jstr(r.json, "message"), "No such image") != NULL;
		REQUIRE(strcmp(jstr(r.json, "status"), "live"), "live without a container: %s",
		        last);
		lp_test_http_resp_release(&r);
	}
	REQUIRE(seen, "after 30 s the status still does not name the serve failure: %s", last);
	/*
	 * issue 13.4: Ready says why, not "Progressing". A missing serve image is found when the
	 * revision is built (the build ensures it), so the revision fails: BuildFailed.
	 */
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "GET", path, NULL, &err));
	REQUIRE(!strcmp(ready_reason(r.json), "BuildFailed") ||
	            !strcmp(ready_reason(r.json), "ServeFailed"),
	        "Ready reason %s: %s", ready_reason(r.json), r.body);
	lp_test_http_resp_release(&r);
	lp_test_platform_free(g_p);
	g_p = NULL;
	free(g_scratch);
	g_scratch = NULL;
}
END_TEST

static Suite *e2e_suite(void)
{
	Suite *s = suite_create("e2e_api");
	TCase *tc = tcase_create("e2e");
	TCase *tc_status = tcase_create("status");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_zip_upload_to_live_to_deleted);
	tcase_add_test(tc, test_git_build_webhook_redeploy_rollback_delete);
	tcase_add_test(tc, test_delete_during_build);
	tcase_add_test(tc, test_cancel_running_build);
	tcase_add_test(tc, test_failed_build_says_why);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tc_status, 120);
	tcase_add_test(tc_status, test_serve_failure_reaches_the_status);
	suite_add_tcase(s, tc_status);
	return s;
}

int main(void)
{
	lp_test_require_docker();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return lp_test_run(e2e_suite());
}
