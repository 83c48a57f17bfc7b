/*
 * bench_push.c: a signed GitHub push webhook to a no-build Git site -> the new content through
 * the real edge (Traefik), on the real platform; and how fast the webhook is answered.
 *
 * A bare repository is served over smart HTTP (tests/lib/git_http_server.h, `git http-backend`);
 * each round commits a new index.html, pushes it, then POSTs the push event signed with the site's
 * secret as GitHub would and times the answer and the first request through Traefik that serves
 * the commit's page. Beside them, in the same run: the floor of getting the content (a shallow
 * `git clone` from the same server) and the floor of an answer (the same HTTP client against
 * libmicrohttpd answering a constant body, tests/lib/bench.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launchpad/clock.h"
#include "launchpad/crypto.h"
#include "tests/lib/bench.h"
#include "tests/lib/git_http_server.h"
#include "tests/lib/platform.h"
#include "tests/lib/testutil.h"

#define BENCH_PUSHES  20
#define BENCH_FLOORS  5   /* shallow clones */
#define BENCH_PINGS   200 /* answers of the constant-body floor */
#define BENCH_WAIT_MS 60000
#define BENCH_POLL_MS 5
#define CMD_MAX       4096
#define BODY_MAX      1024
#define SHA_MAX       64
#define SITE          "bench-push"

static int wait_page(lp_test_platform *p, const char *host, const char *want, lp_error *err)
{
	return lp_test_platform_wait_page(p, host, want, BENCH_WAIT_MS, BENCH_POLL_MS, err);
}

/* The working clone's HEAD commit id into sha. */
static int head_of(char sha[SHA_MAX], const char *work, lp_error *err)
{
	char cmd[CMD_MAX];
	FILE *f;
	int ok;

	LP_TEST_FMT(cmd, "git -C %s rev-parse HEAD", work);
	if ((f = popen(cmd, "r")) == NULL)
		return lp_error_set(err, LP_ERROR, "rev-parse");
	ok = fgets(sha, SHA_MAX, f) != NULL;
	pclose(f);
	sha[strcspn(sha, "\n")] = '\0';
	return ok ? LP_OK : lp_error_set(err, LP_ERROR, "rev-parse printed nothing");
}

/* Commit index.html = page in the working clone, push it; the commit id into sha. */
static int push_page(char sha[SHA_MAX], const char *work, const char *page, lp_error *err)
{
	if (lp_test_sh_try(
	        err,
	        "cd %s && printf '%%s\\n' '%s' > index.html && git commit -q -am '%s' && git push "
	        "-q "
	        "origin main",
	        work, page, page) != LP_OK)
		return err->code;
	return head_of(sha, work, err);
}

/* A string field of the API's answer to GET path. */
static int api_field(char *out, size_t outlen, lp_test_platform *p, const char *path,
                     const char *field, lp_error *err)
{
	lp_test_http_resp r = {0};
	const cJSON *v;
	int rc;

	if ((rc = lp_test_platform_api(&r, p, "GET", path, NULL, err)) == LP_OK &&
	    !cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(r.json, field)))
		rc = lp_error_set(err, LP_ERROR, "GET %s: no %s in %ld %.200s", path, field,
		                  r.status, r.body);
	if (rc == LP_OK)
		lp_test_fmt(out, outlen, "%s", v->valuestring);
	lp_test_http_resp_release(&r);
	return rc;
}

/* POST the push event as GitHub would: signed, with its event and delivery headers. */
static int deliver(long *out_status, const lp_test_platform *p, const char *id, const char *secret,
                   const char *body, int n, lp_error *err)
{
	char url[256], sig[LP_SHA256_HEX_LEN], hs[128], hd[96];
	const char *hdr[] = {hs, "X-GitHub-Event: push", hd, NULL};
	lp_test_http_resp r = {0};
	int rc;

	if (lp_crypto_hmac_sha256_hex(sig, secret, strlen(secret), body, strlen(body)) != LP_OK)
		return lp_error_set(err, LP_ERROR, "hmac");
	LP_TEST_FMT(hs, "X-Hub-Signature-256: sha256=%s", sig);
	LP_TEST_FMT(hd, "X-GitHub-Delivery: bench-push-%d", n);
	LP_TEST_FMT(url, "%s/api/webhooks/github/%s", p->url, id);
	rc = lp_test_http_request(&r, "POST", url, body, strlen(body), "application/json", NULL,
	                          hdr, err);
	*out_status = r.status;
	if (rc == LP_OK && (r.status < 200 || r.status > 299))
		rc = lp_error_set(err, LP_ERROR, "the webhook answered %ld: %.200s", r.status,
		                  r.body);
	lp_test_http_resp_release(&r);
	return rc;
}

/* The floor of an answer: this client's GET of a constant body from libmicrohttpd. */
static int answer_floor(lp_bench_samples *out, lp_error *err)
{
	static const size_t sizes[] = {64};
	lp_bench_floor fl;
	char url[64];
	int i, rc = LP_OK;

	if (lp_bench_floor_start(&fl, sizes, 1) != LP_OK)
		return lp_error_set(err, LP_ERROR, "the floor server did not start");
	LP_TEST_FMT(url, "http://127.0.0.1:%u/0", fl.port);
	for (i = 0; i < BENCH_PINGS && rc == LP_OK; i++) {
		lp_test_http_resp r = {0};
		double t0 = lp_bench_now();

		rc = lp_test_http_request(&r, "GET", url, NULL, 0, NULL, NULL, NULL, err);
		if (rc == LP_OK && r.status == 200)
			lp_bench_add(out, (lp_bench_now() - t0) * 1000);
		lp_test_http_resp_release(&r);
	}
	lp_bench_floor_stop(&fl);
	return rc;
}

int main(void)
{
	static const char *const env[] = {"LAUNCHPAD_REVISION_BURST=0", NULL};
	lp_test_platform_options opts = {.edge = 1, .env = env};
	static lp_bench_samples content, answer, clone_s, answer_fl;
	lp_test_platform *p = NULL;
	lp_test_git_server *git = NULL;
	char *root = NULL, *url = NULL, work[1200], yaml[BODY_MAX], path[256], host[300];
	char id[128], secret[256], sha[SHA_MAX], before[SHA_MAX], page[64], body[BODY_MAX];
	char floor_s[LP_BENCH_TEXT_MAX], meas_s[LP_BENCH_TEXT_MAX], a[LP_BENCH_TEXT_MAX];
	lp_test_http_resp r = {0};
	lp_error err = {0};
	long status = 0;
	int i;

	lp_test_require_docker();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (lp_test_platform_start(&p, &opts, &err) != LP_OK)
		goto fail;
	root = lp_test_platform_path(p, "git");
	LP_TEST_FMT(work, "%s/work", p->root);
	if (lp_test_sh_try(
	        &err,
	        "git init -q --bare -b main %s/site.git && git -C %s/site.git config "
	        "http.receivepack true && git init -q -b main %s && cd %s && git config user.email "
	        "b@b && git config user.name b && printf 'push 0\\n' > index.html && git add "
	        "index.html && git commit -q -m 0 && git remote add origin %s/site.git && git push "
	        "-q origin main",
	        root, root, work, work, root) != LP_OK ||
	    lp_test_git_server_start(&git, root, &err) != LP_OK)
		goto fail;
	url = lp_test_git_server_url(git, "site.git");
	LP_TEST_FMT(yaml,
	            "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  name: " SITE "\n"
	            "spec:\n  source:\n    git: {url: \"%s\", branch: main}\n  autoDeploy: true\n",
	            url);
	LP_TEST_FMT(path, "%s/api/deployments/" SITE, p->url);
	if (lp_test_http_request(&r, "PUT", path, yaml, strlen(yaml), "application/yaml", p->token,
	                         NULL, &err) != LP_OK)
		goto fail;
	if (r.status != 201) {
		lp_error_set(&err, LP_ERROR, "apply answered %ld: %s", r.status, r.body);
		goto fail;
	}
	lp_test_platform_site_host(host, sizeof(host), SITE);
	if (wait_page(p, host, "push 0\n", &err) != LP_OK ||
	    api_field(id, sizeof(id), p, "/api/deployments/" SITE, "id", &err) != LP_OK ||
	    api_field(secret, sizeof(secret), p, "/api/deployments/" SITE "/webhook",
	              "webhook_secret", &err) != LP_OK ||
	    head_of(before, work, &err) != LP_OK)
		goto fail;

	for (i = 1; i <= BENCH_PUSHES; i++) {
		double t0, t1;

		LP_TEST_FMT(page, "push %d", i);
		if (push_page(sha, work, page, &err) != LP_OK)
			goto fail;
		LP_TEST_FMT(body,
		            "{\"ref\":\"refs/heads/main\",\"before\":\"%s\",\"after\":\"%s\","
		            "\"repository\":{\"full_name\":\"bench/site\"}}",
		            before, sha);
		t0 = lp_bench_now();
		if (deliver(&status, p, id, secret, body, i, &err) != LP_OK)
			goto fail;
		t1 = lp_bench_now();
		LP_TEST_FMT(page, "push %d\n", i);
		if (wait_page(p, host, page, &err) != LP_OK)
			goto fail;
		lp_bench_add(&answer, (t1 - t0) * 1000);
		lp_bench_add(&content, lp_bench_now() - t0);
		printf(
		    "push %2d: webhook answered %ld in %.1f ms, new page via Traefik at %.0f ms\n",
		    i, status, (t1 - t0) * 1000, (lp_bench_now() - t0) * 1000);
		snprintf(before, sizeof(before), "%s", sha);
	}
	for (i = 0; i < BENCH_FLOORS; i++) {
		double t0 = lp_bench_now();

		if (lp_test_sh_try(&err, "rm -rf %s/floor && git clone -q --depth 1 %s %s/floor",
		                   p->root, url, p->root) != LP_OK)
			goto fail;
		lp_bench_add(&clone_s, lp_bench_now() - t0);
	}
	if (answer_floor(&answer_fl, &err) != LP_OK)
		goto fail;

	lp_bench_spread(a, &clone_s, "%.3f", "s");
	LP_TEST_FMT(floor_s, "git clone --depth 1 (same server): %s", a);
	lp_bench_spread(meas_s, &content, "%.3f", "s");
	lp_bench_row("signed push webhook (no-build Git site) -> new content via Traefik",
	             "<= 1 s (p50)", floor_s, meas_s,
	             lp_bench_quantile(&content, 0.5) <= 1.0 ? "yes" : "NO");
	LP_TEST_FMT(floor_s, "libmicrohttpd constant body, p99 %.1f ms (n=%d)",
	            lp_bench_quantile(&answer_fl, 0.99), answer_fl.n);
	lp_bench_spread(a, &answer, "%.1f", "ms");
	LP_TEST_FMT(meas_s, "p99 %.1f ms; %s", lp_bench_quantile(&answer, 0.99), a);
	lp_bench_row("push webhook answered", "<= 5 ms (p99)", floor_s, meas_s,
	             lp_bench_quantile(&answer, 0.99) <= 5.0 ? "yes" : "NO");
	lp_test_http_resp_release(&r);
	lp_test_git_server_stop(git);
	free(url);
	free(root);
	lp_test_platform_free(p);
	return 0;
fail:
	fprintf(stderr, "bench_push: %s\n", err.message);
	if (p)
		lp_test_platform_dump_logs(p, 4000);
	lp_test_http_resp_release(&r);
	lp_test_git_server_stop(git);
	free(url);
	free(root);
	lp_test_platform_free(p);
	return 1;
}
