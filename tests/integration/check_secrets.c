/*
 * check_secrets.c: secret env values on the real platform: sealed at rest (not in the SQLite
 * file), "***" in every answer, in the build container's environment, masked in the build log
 * (printed in one write and split across two), kept across applies, and still working after
 * `launchpad-apiserver rotate-key`; and the apiserver refusing a key file others can read.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <ftw.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launchpad/buf.h"
#include "launchpad/fs.h"
#include "tests/lib/git_http_server.h"
#include "tests/lib/fixture.h"
#include "tests/lib/platform.h"
#include "tests/lib/testutil.h"

#define LIVE_WAIT_MS  180000 /* a cold build in the node image included */
#define SERVE_WAIT_MS 30000

#define SECRET "s3cr3t-Value-42xyz"
/* The build prints the secret in one write, then in two (10 bytes, a pause, the other 8). */
#define BUILD_CMD                                                                                  \
	"mkdir -p dist; echo token=$API_KEY; printf half=%s ${API_KEY%????????}; sleep 1; "        \
	"echo ${API_KEY#??????????}; echo plain=$PLAIN; echo $API_KEY > dist/index.html"

static lp_test_platform *g_p;

#define REQUIRE(cond, ...) LP_TEST_REQUIRE(&g_p, cond, __VA_ARGS__)
#define REQUIRE_OK(call)   LP_TEST_REQUIRE_OK(&g_p, call)

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

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

/* 1 when the file holds needle (raw bytes, as someone reading the disk sees them). */
static int file_has(const char *path, const char *needle)
{
	char *data = NULL;
	size_t len = 0, n = strlen(needle), i;
	int found = 0;

	if (lp_fs_read_file(&data, &len, path, (size_t)256 << 20, NULL) != LP_OK)
		return 0;
	for (i = 0; !found && len >= n && i <= len - n; i++)
		found = memcmp(data + i, needle, n) == 0;
	free(data);
	return found;
}

/* A GET of the API: its body must not hold the secret. */
static void no_secret_in(const char *path)
{
	lp_test_http_resp r = {0};
	lp_error err = {0};

	REQUIRE_OK(lp_test_platform_api(&r, g_p, "GET", path, NULL, &err));
	REQUIRE(r.status == 200, "GET %s answered %ld: %s", path, r.status, r.body);
	REQUIRE(strstr(r.body, SECRET) == NULL && strstr(r.body, "s3cr3t-Val") == NULL,
	        "GET %s shows the secret: %.2000s", path, r.body);
	lp_test_http_resp_release(&r);
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

/* The build log of revision rev: masked both in the stream and in the file. */
static void log_is_masked(const char *id, const char *slug, long rev)
{
	char rel[256], *file;
	lp_buf log;

	lp_buf_init(&log, 4u << 20);
	read_log_stream(&log, id, rev);
	REQUIRE(strstr(lp_buf_cstr(&log), "token=***") != NULL, "one write not masked: %.3000s",
	        lp_buf_cstr(&log));
	REQUIRE(strstr(lp_buf_cstr(&log), "half=***") != NULL, "two writes not masked: %.3000s",
	        lp_buf_cstr(&log));
	REQUIRE(strstr(lp_buf_cstr(&log), "plain=plain-value") != NULL,
	        "a plain value was masked: %.3000s", lp_buf_cstr(&log));
	REQUIRE(strstr(lp_buf_cstr(&log), SECRET) == NULL &&
	            strstr(lp_buf_cstr(&log), "s3cr3t-Val") == NULL &&
	            strstr(lp_buf_cstr(&log), "ue-42xyz") == NULL,
	        "the secret is in the log: %.3000s", lp_buf_cstr(&log));
	lp_buf_release(&log);
	snprintf(rel, sizeof(rel), "logs/%s/%ld.log", slug, rev);
	file = lp_test_platform_data_path(g_p, rel);
	REQUIRE(lp_fs_exists(file), "no log file %s", file);
	REQUIRE(!file_has(file, "s3cr3t"), "the log file %s holds the secret", file);
	free(file);
}

/* Neither the store's files nor the daemons' own logs hold the secret in clear. */
static void nowhere_in_clear(void)
{
	const char *files[] = {"db/launchpad.db", "db/launchpad.db-wal", NULL};
	char *path;
	size_t i;

	for (i = 0; files[i]; i++) {
		path = lp_test_platform_data_path(g_p, files[i]);
		REQUIRE(!file_has(path, SECRET) && !file_has(path, "s3cr3t-Val"),
		        "%s holds the secret in clear", path);
		free(path);
	}
	path = lp_test_platform_path(g_p, "apiserver.log");
	REQUIRE(!file_has(path, SECRET), "the apiserver's log holds the secret");
	free(path);
	path = lp_test_platform_path(g_p, "controller.log");
	REQUIRE(!file_has(path, SECRET), "the controller's log holds the secret");
	free(path);
}

static long apply(const char *manifest, char *result, size_t rlen)
{
	lp_test_http_resp r = {0};
	lp_error err = {0};
	long st;

	REQUIRE_OK(
	    lp_test_platform_api(&r, g_p, "PUT", "/api/deployments/secret-site", manifest, &err));
	st = r.status;
	REQUIRE(strstr(r.body, SECRET) == NULL, "the apply answer shows the secret: %s", r.body);
	if (result)
		snprintf(result, rlen, "%s", jstr(r.json, "result"));
	lp_test_http_resp_release(&r);
	return st;
}

START_TEST(test_secret_env_end_to_end)
{
	char repo[1200], manifest[4096], kept[4096], id[64], result[64], out[512], path[300];
	lp_test_http_resp r = {0};
	lp_error err = {0};
	cJSON *dep = NULL;
	char *bin, *keyfile;
	FILE *p;
	int st;

	snprintf(repo, sizeof(repo), "%s/repo", g_p->root);
	sh("git init -q -b main '%s' && cd '%s' && git config user.email t@t && git config "
	   "user.name t && echo x > README && git add README && git commit -q -m one",
	   repo, repo);
	snprintf(manifest, sizeof(manifest),
	         "{\"apiVersion\":\"launchpad.dev/v1\",\"kind\":\"Site\",\"metadata\":{\"name\":"
	         "\"secret-site\"},\"spec\":{\"source\":{\"git\":{\"url\":\"file://%s\",\"branch\":"
	         "\"main\"}},\"build\":{\"command\":\"%s\",\"outputDir\":\"dist\",\"env\":{"
	         "\"API_KEY\":{\"value\":\"%s\",\"secret\":true},\"PLAIN\":\"plain-value\"}}}}",
	         repo, BUILD_CMD, SECRET);
	REQUIRE(apply(manifest, result, sizeof(result)) == 201, "create: %s", result);

	/* every answer shows "***" */
	REQUIRE_OK(
	    lp_test_platform_api(&r, g_p, "GET", "/api/deployments/secret-site", NULL, &err));
	snprintf(id, sizeof(id), "%s", jstr(r.json, "id"));
	REQUIRE(strstr(r.body, "\"API_KEY\":\"***\"") != NULL, "env_vars: %s", r.body);
	REQUIRE(strstr(r.body, "\"API_KEY\":{\"value\":\"***\",\"secret\":true}") != NULL,
	        "spec: %s", r.body);
	REQUIRE(strstr(r.body, "lpsec1") == NULL, "the sealed text is shown: %s", r.body);
	lp_test_http_resp_release(&r);

	/* the build container has it: the page it built is the value */
	REQUIRE_OK(lp_test_platform_wait_status(&dep, g_p, id, "live", LIVE_WAIT_MS, &err));
	cJSON_Delete(dep);
	REQUIRE_OK(
	    lp_test_platform_wait_served(g_p, "secret-site", SECRET "\n", SERVE_WAIT_MS, &err));
	log_is_masked(id, "secret-site", 1);
	no_secret_in("/api/deployments");
	no_secret_in("/api/deployments/secret-site");
	snprintf(path, sizeof(path), "/api/deployments/%s/revisions", id);
	no_secret_in(path);
	snprintf(path, sizeof(path), "/api/deployments/%s/events", id);
	no_secret_in(path);
	nowhere_in_clear();

	/* the same manifest again changes nothing; nor does "***" sent back (a GET's manifest) */
	REQUIRE(apply(manifest, result, sizeof(result)) == 200 && !strcmp(result, "unchanged"),
	        "re-apply: %s", result);
	snprintf(kept, sizeof(kept), "%s", manifest);
	{
		char *v = strstr(kept, SECRET);

		REQUIRE(v != NULL, "no secret in the manifest");
		memmove(v + 3, v + strlen(SECRET), strlen(v + strlen(SECRET)) + 1);
		memcpy(v, "***", 3);
	}
	REQUIRE(apply(kept, result, sizeof(result)) == 200 && !strcmp(result, "unchanged"),
	        "apply with ***: %s", result);
	/* a client cannot hand in a sealed text of its own */
	REQUIRE_OK(lp_test_platform_api(
	    &r, g_p, "PUT", "/api/deployments/secret-site",
	    "{\"apiVersion\":\"launchpad.dev/v1\",\"kind\":\"Site\",\"metadata\":{\"name\":"
	    "\"secret-site\"},\"spec\":{\"source\":{\"git\":{\"url\":\"file:///x\"}},\"build\":{"
	    "\"command\":\"true\",\"env\":{\"K\":{\"secret\":true,\"sealed\":\"lpsec1:1:AAAA\","
	    "\"fingerprint\":\"00\"}}}}}",
	    &err));
	REQUIRE(r.status == 400, "a client's sealed text answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);

	/* rotate-key: every value re-sealed with key 2, key 1 gone, and builds still get it */
	bin = lp_test_bin_path("launchpad-apiserver");
	snprintf(manifest, sizeof(manifest), "'%s' --data-dir '%s' rotate-key 2>&1", bin,
	         g_p->data_dir);
	free(bin);
	p = popen(manifest, "r");
	REQUIRE(p != NULL, "popen rotate-key");
	out[fread(out, 1, sizeof(out) - 1, p)] = '\0';
	st = pclose(p);
	REQUIRE(WIFEXITED(st) && WEXITSTATUS(st) == 0, "rotate-key: %s", out);
	REQUIRE(strstr(out, "1 secret value(s) re-sealed") != NULL, "rotate-key said: %s", out);
	keyfile = lp_test_platform_data_path(g_p, "master.key");
	REQUIRE(file_has(keyfile, "key 2 ") && !file_has(keyfile, "key 1 "), "key file after");
	free(keyfile);
	{
		char *db = lp_test_platform_data_path(g_p, "db/launchpad.db"),
		     *wal = lp_test_platform_data_path(g_p, "db/launchpad.db-wal");

		REQUIRE(file_has(db, "lpsec1:2:") || file_has(wal, "lpsec1:2:"),
		        "no value sealed with key 2");
		free(db);
		free(wal);
	}
	snprintf(path, sizeof(path), "/api/deployments/%s/redeploy", id);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "POST", path, "{}", &err));
	REQUIRE(r.status == 202, "redeploy answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
	REQUIRE_OK(lp_test_platform_wait_status(&dep, g_p, id, "live", LIVE_WAIT_MS, &err));
	REQUIRE(cJSON_GetObjectItemCaseSensitive(dep, "current_revision")->valuedouble == 2,
	        "revision 2 is not the live one");
	cJSON_Delete(dep);
	log_is_masked(id, "secret-site", 2);
	REQUIRE_OK(
	    lp_test_platform_wait_served(g_p, "secret-site", SECRET "\n", SERVE_WAIT_MS, &err));

	/* the seed's env_vars take the object form too */
	REQUIRE_OK(lp_test_platform_api(
	    &r, g_p, "POST", "/api/deployments",
	    "{\"name\":\"seed "
	    "secret\",\"source_type\":\"github\",\"github_url\":\"file:///nowhere\","
	    "\"build_cmd\":\"true\",\"env_vars\":{\"TOKEN\":{\"value\":\"" SECRET
	    "\",\"secret\":true},\"MODE\":\"prod\"}}",
	    &err));
	REQUIRE(r.status == 201, "seed create answered %ld: %s", r.status, r.body);
	REQUIRE(strstr(r.body, SECRET) == NULL && strstr(r.body, "\"TOKEN\":\"***\"") != NULL,
	        "seed answer: %s", r.body);
	lp_test_http_resp_release(&r);
	nowhere_in_clear();
}
END_TEST

#define GIT_TOKEN "ghs_privateTokenValue123"

static const char *ftw_needle;
static char ftw_found[4096];

static int ftw_check(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	(void)f;
	if (flag == FTW_F && S_ISREG(sb->st_mode) && file_has(path, ftw_needle)) {
		snprintf(ftw_found, sizeof(ftw_found), "%s", path);
		return 1;
	}
	return 0;
}

/* The first file under dir holding needle ("" when none). */
static const char *tree_has(const char *dir, const char *needle)
{
	ftw_needle = needle;
	ftw_found[0] = '\0';
	nftw(dir, ftw_check, 16, FTW_PHYS);
	return ftw_found;
}

/* 1 when some process's argument list holds needle (/proc/<pid>/cmdline). */
static int argv_has(const char *needle)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	char path[300];
	int found = 0;

	while (d && !found && (e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		found = file_has(path, needle);
	}
	if (d)
		closedir(d);
	return found;
}

/* Wait (bounded) until revision rev is failed; its message into msg. */
static void wait_failed(const char *id, long rev, char *msg, size_t n)
{
	lp_test_http_resp r = {0};
	lp_error err = {0};
	char path[256], state[32] = "";
	const cJSON *it;
	int i;

	snprintf(path, sizeof(path), "/api/deployments/%s/revisions", id);
	for (i = 0; i < LIVE_WAIT_MS / 200 && strcmp(state, "failed") && strcmp(state, "ready");
	     i++) {
		usleep(200 * 1000);
		REQUIRE_OK(lp_test_platform_api(&r, g_p, "GET", path, NULL, &err));
		cJSON_ArrayForEach(it, r.json)
		{
			const cJSON *num = cJSON_GetObjectItemCaseSensitive(it, "revision");

			if (cJSON_IsNumber(num) && (long)num->valuedouble == rev) {
				snprintf(state, sizeof(state), "%s", jstr(it, "state"));
				snprintf(msg, n, "%s", jstr(it, "message"));
			}
		}
		lp_test_http_resp_release(&r);
	}
	REQUIRE(!strcmp(state, "failed"), "revision %ld is %s: %s", rev, state, msg);
}

static long redeploy(const char *id)
{
	lp_test_http_resp r = {0};
	lp_error err = {0};
	char path[256];
	long rev;

	snprintf(path, sizeof(path), "/api/deployments/%s/redeploy", id);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "POST", path, "{}", &err));
	REQUIRE(r.status == 202, "redeploy answered %ld: %s", r.status, r.body);
	rev = (long)cJSON_GetObjectItemCaseSensitive(r.json, "revision")->valuedouble;
	lp_test_http_resp_release(&r);
	return rev;
}

static void set_credential(const char *id, const char *token)
{
	lp_test_http_resp r = {0};
	lp_error err = {0};
	char path[256], body[256];

	snprintf(path, sizeof(path), "/api/deployments/%s/git-credential", id);
	snprintf(body, sizeof(body), "{\"token\":\"%s\"}", token);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, token ? "PUT" : "DELETE", path,
	                                token ? body : NULL, &err));
	REQUIRE(r.status == 200, "git-credential answered %ld: %s", r.status, r.body);
	REQUIRE(strstr(r.body, GIT_TOKEN) == NULL, "the answer shows the token: %s", r.body);
	REQUIRE(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r.json, "git_credential")) ==
	            (token != NULL),
	        "git_credential: %s", r.body);
	lp_test_http_resp_release(&r);
}

/* A private repository behind basic auth: fails clearly without the credential, builds with it. */
START_TEST(test_private_repository)
{
	char root[1200], work[1300], manifest[2048], id[64], msg[1024];
	lp_test_git_server *srv = NULL;
	lp_test_http_resp r = {0};
	lp_error err = {0};
	cJSON *dep = NULL;
	char *url, *data;
	int seen_in_argv = 0, i;

	snprintf(root, sizeof(root), "%s/gitroot", g_p->root);
	snprintf(work, sizeof(work), "%s/work", g_p->root);
	sh("mkdir -p '%s' && git init -q --bare '%s/priv.git' && git init -q -b main '%s' && cd "
	   "'%s' "
	   "&& git config user.email t@t && git config user.name t && echo 'private page' > "
	   "index.html && git add index.html && git commit -q -m one && git push -q '%s/priv.git' "
	   "main",
	   root, root, work, work, root);
	REQUIRE_OK(lp_test_git_server_start(&srv, root, &err));
	lp_test_git_server_set_basic_auth(srv, "x-access-token", GIT_TOKEN);
	url = lp_test_git_server_url(srv, "priv.git");
	snprintf(
	    manifest, sizeof(manifest),
	    "{\"apiVersion\":\"launchpad.dev/v1\",\"kind\":\"Site\",\"metadata\":{\"name\":"
	    "\"private-site\"},\"spec\":{\"source\":{\"git\":{\"url\":\"%s\",\"branch\":"
	    "\"main\"}},\"build\":{\"command\":\"sleep 2; mkdir -p dist; cp index.html dist/\","
	    "\"outputDir\":\"dist\"}}}",
	    url);
	free(url);
	REQUIRE_OK(
	    lp_test_platform_api(&r, g_p, "PUT", "/api/deployments/private-site", manifest, &err));
	REQUIRE(r.status == 201, "create answered %ld: %s", r.status, r.body);
	snprintf(id, sizeof(id), "%s", jstr(r.json, "id"));
	lp_test_http_resp_release(&r);

	/* no credential: the build fails and says so */
	wait_failed(id, 1, msg, sizeof(msg));
	REQUIRE(strstr(msg, "asks for a credential") != NULL, "message: %s", msg);
	REQUIRE(lp_test_git_server_refused(srv) > 0, "the server never refused");

	/* a wrong one is refused, and says so */
	set_credential(id, "ghs_wrong");
	wait_failed(id, redeploy(id), msg, sizeof(msg));
	REQUIRE(strstr(msg, "refused the site's credential") != NULL, "message: %s", msg);

	/* the right one: it builds; meanwhile no process has the token in its arguments */
	set_credential(id, GIT_TOKEN);
	redeploy(id);
	for (i = 0; i < 100; i++) {
		seen_in_argv |= argv_has(GIT_TOKEN);
		if (lp_test_platform_wait_status(&dep, g_p, id, "live", 100, NULL) == LP_OK)
			break;
	}
	cJSON_Delete(dep);
	dep = NULL;
	REQUIRE(!seen_in_argv, "the token is in a process's argument list");
	REQUIRE_OK(lp_test_platform_wait_status(&dep, g_p, id, "live", LIVE_WAIT_MS, &err));
	cJSON_Delete(dep);
	REQUIRE_OK(lp_test_platform_wait_served(g_p, "private-site", "private page\n",
	                                        SERVE_WAIT_MS, &err));
	/* nowhere in clear: data dir (store, bare cache and its config, logs), daemons' logs */
	REQUIRE(tree_has(g_p->data_dir, GIT_TOKEN)[0] == '\0', "the token is in %s", ftw_found);
	REQUIRE(tree_has(g_p->data_dir, "ghs_wrong")[0] == '\0', "a token is in %s", ftw_found);
	data = lp_test_platform_path(g_p, "apiserver.log");
	REQUIRE(!file_has(data, GIT_TOKEN), "the apiserver's log holds the token");
	free(data);
	data = lp_test_platform_path(g_p, "controller.log");
	REQUIRE(!file_has(data, GIT_TOKEN), "the controller's log holds the token");
	free(data);
	no_secret_in("/api/deployments/private-site");

	/* removed: the next fetch goes without it again */
	set_credential(id, NULL);
	wait_failed(id, redeploy(id), msg, sizeof(msg));
	REQUIRE(strstr(msg, "asks for a credential") != NULL, "message: %s", msg);
	lp_test_git_server_stop(srv);
}
END_TEST

static void setup(void)
{
	lp_error err = {0};

	if (lp_test_platform_start(&g_p, NULL, &err) != LP_OK)
		ck_abort_msg("cannot start the platform: %s", err.message);
}

static void teardown(void)
{
	lp_test_platform_free(g_p);
	g_p = NULL;
}

/* The apiserver alone: a key file others may read stops it at start, with the fix in words. */
START_TEST(test_world_readable_key_refused)
{
	const lp_test_platform_options o = {.no_controller = 1};
	char cmd[4096], out[2048], *keyfile, *bin;
	lp_error err = {0};
	FILE *p;
	int st;

	REQUIRE(lp_test_platform_start(&g_p, &o, &err) == LP_OK, "%s", err.message);
	keyfile = lp_test_platform_data_path(g_p, "master.key");
	{
		struct stat sb;

		REQUIRE(stat(keyfile, &sb) == 0, "no key file was made");
		REQUIRE((sb.st_mode & 0777) == 0600, "key file mode %o", sb.st_mode & 0777);
	}
	REQUIRE(lp_test_platform_stop(g_p, 0, &err) == LP_OK, "%s", err.message);
	REQUIRE(chmod(keyfile, 0644) == 0, "chmod");
	bin = lp_test_bin_path("launchpad-apiserver");
	snprintf(cmd, sizeof(cmd), "'%s' --data-dir '%s' --listen 127.0.0.1:0 2>&1", bin,
	         g_p->data_dir);
	free(bin);
	p = popen(cmd, "r");
	REQUIRE(p != NULL, "popen");
	out[fread(out, 1, sizeof(out) - 1, p)] = '\0';
	st = pclose(p);
	REQUIRE(WIFEXITED(st) && WEXITSTATUS(st) != 0, "started with a world-readable key: %s",
	        out);
	REQUIRE(strstr(out, "chmod 600") != NULL && strstr(out, "master.key") != NULL,
	        "the refusal does not say why: %s", out);
	free(keyfile);
	lp_test_platform_free(g_p);
	g_p = NULL;
}
END_TEST

static Suite *secrets_suite(void)
{
	Suite *s = suite_create("secrets");
	TCase *tc = tcase_create("secrets");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, test_secret_env_end_to_end);
	tcase_add_test(tc, test_private_repository);
	suite_add_tcase(s, tc);
	tc = tcase_create("keyfile");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_world_readable_key_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = lp_test_run(secrets_suite());
	curl_global_cleanup();
	return rc;
}
