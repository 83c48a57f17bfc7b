/* check_apiserver_auth.c: bearer tokens, the token subcommands, metrics auth, CORS. */
#include <check.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "tests/lib/api_server.h"
#include "tests/lib/testutil.h"

static long run_token_cmd(struct lp_test_api *s, const char *args, char *out, size_t outlen)
{
	char *bin = lp_test_bin_path("launchpad-apiserver"), cmd[8192];
	FILE *p;
	size_t n;
	int status;

	snprintf(cmd, sizeof(cmd), "%s --data-dir '%s' token %s 2>/dev/null", bin, s->dir, args);
	free(bin);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

START_TEST(test_auth)
{
	struct lp_test_api s;
	struct lp_test_api_resp r;
	char out[4096], tok[128];
	long id;

	lp_test_api_start(&s, NULL);
	lp_test_api_request(NULL, &s, "GET", "/api/deployments", NULL, NULL, 0, "", NULL, NULL, &r);
	lp_test_api_assert_error(&r, 401, "unauthorized");
	lp_test_api_resp_free(&r);
	lp_test_api_request(NULL, &s, "GET", "/api/deployments", NULL, NULL, 0, "lp_0000", NULL,
	                    NULL, &r);
	lp_test_api_assert_error(&r, 401, "unauthorized");
	lp_test_api_resp_free(&r);
	lp_test_api_request(NULL, &s, "POST", "/api/deployments", "application/json",
	                    lp_test_api_seed_github_body, strlen(lp_test_api_seed_github_body), "",
	                    NULL, NULL, &r);
	lp_test_api_assert_error(&r, 401, "unauthorized");
	lp_test_api_resp_free(&r);
	/* nothing was created by the refused request */
	lp_test_api_http(&s, "GET", "/api/deployments", NULL, NULL, &r);
	ck_assert_int_eq(cJSON_GetArraySize(r.json), 0);
	lp_test_api_resp_free(&r);
	/* open endpoints: the seed's /health (issue 13.11) and /healthz answer alike */
	lp_test_api_request(NULL, &s, "GET", "/health", NULL, NULL, 0, "", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(lp_test_api_jstr(r.json, "status"), "ok");
	lp_test_api_resp_free(&r);
	lp_test_api_request(NULL, &s, "GET", "/healthz", NULL, NULL, 0, "", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(lp_test_api_jstr(r.json, "status"), "ok");
	lp_test_api_resp_free(&r);
	lp_test_api_request(NULL, &s, "GET", "/readyz", NULL, NULL, 0, "", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	lp_test_api_resp_free(&r);
	lp_test_api_request(NULL, &s, "GET", "/metrics", NULL, NULL, 0, "", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	lp_test_api_resp_free(&r);

	/* token subcommands work on the store directly */
	ck_assert_int_eq(run_token_cmd(&s, "create ci", out, sizeof(out)), 0);
	ck_assert_int_eq(sscanf(out, "%127s", tok), 1);
	ck_assert_int_eq(strncmp(tok, "lp_", 3), 0);
	lp_test_api_request(NULL, &s, "GET", "/api/deployments", NULL, NULL, 0, tok, NULL, NULL,
	                    &r);
	ck_assert_int_eq(r.status, 200);
	lp_test_api_resp_free(&r);
	ck_assert_int_eq(run_token_cmd(&s, "list", out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "admin"));
	ck_assert_ptr_nonnull(strstr(out, "ci"));
	ck_assert_ptr_null(strstr(out, tok)); /* secrets are never listed */
	id = 2;
	snprintf(out, sizeof(out), "revoke %ld", id);
	ck_assert_int_eq(run_token_cmd(&s, out, out, sizeof(out)), 0);
	lp_test_api_request(NULL, &s, "GET", "/api/deployments", NULL, NULL, 0, tok, NULL, NULL,
	                    &r);
	lp_test_api_assert_error(&r, 401, "unauthorized");
	lp_test_api_resp_free(&r);
	ck_assert_int_ne(run_token_cmd(&s, "revoke 999", out, sizeof(out)), 0);
	lp_test_api_stop(&s);
}
END_TEST

START_TEST(test_metrics_auth)
{
	const char *extra[] = {"--metrics-auth", NULL};
	struct lp_test_api s;
	struct lp_test_api_resp r;

	lp_test_api_start(&s, extra);
	lp_test_api_request(NULL, &s, "GET", "/metrics", NULL, NULL, 0, "", NULL, NULL, &r);
	lp_test_api_assert_error(&r, 401, "unauthorized");
	lp_test_api_resp_free(&r);
	lp_test_api_http(&s, "GET", "/metrics", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&r.body), "launchpad_http_requests_total{"));
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&r.body), "status=\"401\"} 1"));
	lp_test_api_resp_free(&r);
	lp_test_api_stop(&s);
}
END_TEST

START_TEST(test_cors)
{
	const char *extra[] = {"--cors-origins", "http://ui.example,https://x.example", NULL};
	const char *good[] = {"Origin: http://ui.example", NULL};
	const char *bad[] = {"Origin: http://evil.example", NULL};
	struct lp_test_api s;
	struct lp_test_api_resp r;

	lp_test_api_start(&s, extra);
	lp_test_api_request(NULL, &s, "OPTIONS", "/api/deployments", NULL, NULL, 0, "", good, NULL,
	                    &r);
	ck_assert_int_eq(r.status, 204);
	ck_assert_str_eq(r.acao, "http://ui.example");
	lp_test_api_resp_free(&r);
	lp_test_api_request(NULL, &s, "GET", "/api/deployments", NULL, NULL, 0, NULL, good, NULL,
	                    &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.acao, "http://ui.example");
	lp_test_api_resp_free(&r);
	lp_test_api_request(NULL, &s, "GET", "/api/deployments", NULL, NULL, 0, NULL, bad, NULL,
	                    &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.acao, "");
	lp_test_api_resp_free(&r);
	lp_test_api_stop(&s);
}
END_TEST

static Suite *apiserver_auth_suite(void)
{
	Suite *s = suite_create("apiserver_auth");
	TCase *tc = tcase_create("api");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_auth);
	tcase_add_test(tc, test_metrics_auth);
	tcase_add_test(tc, test_cors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = lp_test_run(apiserver_auth_suite());
	curl_global_cleanup();
	return rc;
}
