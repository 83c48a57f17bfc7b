/* check_apiserver_limits.c: errors and caps, stalled uploads, cached metrics, taken port, load. */
#include <check.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launchpad/fs.h"
#include "tests/lib/api_server.h"
#include "tests/lib/testutil.h"

/* ---- load: 100 clients x 100 requests ---- */

#define LOAD_CLIENTS  100
#define LOAD_REQUESTS 100

struct client {
	struct lp_test_api *s;
	int idx;
	int errors;
	int writes; /* spec changes that were accepted */
	int last;   /* the last COUNTER value written */
	char name[32];
	char firsterr[256];
};

static void *load_client(void *arg)
{
	struct client *c = arg;
	CURL *h = curl_easy_init();
	struct lp_test_api_resp r;
	char path[128];
	int i;

	snprintf(c->name, sizeof(c->name), "load-%03d", c->idx);
	snprintf(path, sizeof(path), "/api/deployments/%s", c->name);
	for (i = 0; i < LOAD_REQUESTS; i++) {
		long want = 200;

		if (i == 0) {
			lp_test_api_put_manifest(h, c->s, c->name, 0, NULL, NULL, &r);
			want = 201;
		} else if (i % 5 == 0) {
			lp_test_api_put_manifest(h, c->s, c->name, i, NULL, NULL, &r);
			if (r.status == 200) {
				c->writes++;
				c->last = i;
			}
		} else if (i % 10 == 3) {
			lp_test_api_request(h, c->s, "GET", "/api/deployments", NULL, NULL, 0, NULL,
			                    NULL, NULL, &r);
		} else {
			lp_test_api_request(h, c->s, "GET", path, NULL, NULL, 0, NULL, NULL, NULL,
			                    &r);
		}
		if (r.status != want) {
			if (c->errors++ == 0)
				snprintf(c->firsterr, sizeof(c->firsterr), "req %d: %ld %.150s", i,
				         r.status, lp_buf_cstr(&r.body));
		}
		lp_test_api_resp_free(&r);
	}
	curl_easy_cleanup(h);
	return NULL;
}

START_TEST(test_errors)
{
	const char *extra[] = {"--upload-max-mb", "1", NULL};
	struct lp_test_api s;
	struct lp_test_api_resp r;
	const cJSON *d;
	char *big;
	CURL *c = curl_easy_init();
	curl_mime *m;
	curl_mimepart *p;

	lp_test_api_start(&s, extra);
	lp_test_api_http(&s, "POST", "/api/deployments", "application/json", "{\"name\": \"x\",",
	                 &r);
	lp_test_api_assert_error(&r, 400, "invalid");
	lp_test_api_resp_free(&r);
	lp_test_api_http(&s, "POST", "/api/deployments", "application/json", "{\"name\": 5}", &r);
	lp_test_api_assert_error(&r, 400, "invalid");
	lp_test_api_resp_free(&r);
	/* a bad seed field reports where */
	lp_test_api_http(&s, "POST", "/api/deployments", "application/json",
	                 "{\"name\":\"x\",\"github_url\":\"ftp://example.com/r\"}", &r);
	lp_test_api_assert_error(&r, 400, "invalid");
	d = cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "error"), "details");
	ck_assert_int_ge(cJSON_GetArraySize(d), 1);
	ck_assert_ptr_nonnull(lp_test_api_jstr(cJSON_GetArrayItem(d, 0), "path"));
	lp_test_api_resp_free(&r);
	lp_test_api_http(&s, "POST", "/api/deployments", "text/plain", "hello", &r);
	lp_test_api_assert_error(&r, 415, "unsupported");
	lp_test_api_resp_free(&r);

	/* YAML: every error, with its line and column */
	lp_test_api_http(
	    &s, "PUT", "/api/deployments/bad-yaml", "application/yaml",
	    "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  name: bad-yaml\nspec:\n"
	    "  source:\n    git: {url: https://github.com/a/b}\n  revisionHistoryLimit: 0\n"
	    "  autoDeploy: maybe\n",
	    &r);
	lp_test_api_assert_error(&r, 400, "invalid");
	d = cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "error"), "details");
	ck_assert_int_eq(cJSON_GetArraySize(d), 2);
	ck_assert_str_eq(lp_test_api_jstr(cJSON_GetArrayItem(d, 0), "path"),
	                 "spec.revisionHistoryLimit");
	ck_assert(lp_test_api_jnum(cJSON_GetArrayItem(d, 0), "line") == 8);
	ck_assert(lp_test_api_jnum(cJSON_GetArrayItem(d, 0), "column") > 0);
	ck_assert(lp_test_api_jnum(cJSON_GetArrayItem(d, 1), "line") == 9);
	lp_test_api_resp_free(&r);
	lp_test_api_http(&s, "PUT", "/api/deployments/bad-yaml", "application/yaml", "a: [1, 2\n",
	                 &r);
	lp_test_api_assert_error(&r, 400, "invalid");
	d = cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "error"), "details");
	ck_assert(lp_test_api_jnum(cJSON_GetArrayItem(d, 0), "line") >= 1);
	lp_test_api_resp_free(&r);
	lp_test_api_http(&s, "PUT", "/api/deployments/bad-yaml", "application/json",
	                 "{\"apiVersion\": ", &r);
	lp_test_api_assert_error(&r, 400, "invalid");
	lp_test_api_resp_free(&r);

	/* multipart with a boundary that never comes */
	{
		const char *hdr[] = {"Content-Type: multipart/form-data; boundary=XyZ", NULL};
		const char body[] =
		    "--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n"
		    "abc\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
		    "filename=\"a.zip\"\r\n\r\nPK\x03\x04trunc";
		lp_test_api_request(c, &s, "POST", "/api/deployments", NULL, body, sizeof(body) - 1,
		                    NULL, hdr, NULL, &r);
		lp_test_api_assert_error(&r, 400, "invalid");
		lp_test_api_resp_free(&r);
	}
	{
		const char *hdr[] = {"Content-Type: multipart/form-data", NULL};
		lp_test_api_request(c, &s, "POST", "/api/deployments", NULL, "x", 1, NULL, hdr,
		                    NULL, &r);
		lp_test_api_assert_error(&r, 400, "invalid");
		lp_test_api_resp_free(&r);
	}

	/* oversize: 2 MiB against a 1 MiB cap, with Content-Length and without (chunked) */
	big = malloc(2 << 20);
	memset(big, 'A', 2 << 20);
	memcpy(big, "PK\x03\x04", 4);
	m = curl_mime_init(c);
	p = curl_mime_addpart(m);
	curl_mime_name(p, "file");
	curl_mime_filename(p, "big.zip");
	curl_mime_data(p, big, 2 << 20);
	lp_test_api_request(c, &s, "POST", "/api/deployments", NULL, NULL, 0, NULL, NULL, m, &r);
	curl_mime_free(m);
	lp_test_api_assert_error(&r, 413, "too_large");
	lp_test_api_resp_free(&r);
	{
		const char *hdr[] = {"Transfer-Encoding: chunked",
		                     "Content-Type: multipart/form-data; boundary=BoundaryB", NULL};
		size_t cap = (2 << 20) + 200;
		char *body = malloc(cap);
		int n = snprintf(body, cap,
		                 "--BoundaryB\r\nContent-Disposition: form-data; name=\"file\"; "
		                 "filename=\"a.zip\"\r\n\r\n");
		memcpy(body + n, big, (size_t)(2 << 20));
		n += 2 << 20;
		n += snprintf(body + n, cap - (size_t)n, "\r\n--BoundaryB--\r\n");
		lp_test_api_request(c, &s, "POST", "/api/deployments", NULL, body, (size_t)n, NULL,
		                    hdr, NULL, &r);
		lp_test_api_assert_error(&r, 413, "too_large");
		lp_test_api_resp_free(&r);
		free(body);
	}
	lp_test_api_request(c, &s, "PUT", "/api/deployments/x", "application/yaml", big, 2 << 20,
	                    NULL, NULL, NULL, &r);
	lp_test_api_assert_error(&r, 413, "too_large");
	lp_test_api_resp_free(&r);
	free(big);

	lp_test_api_http(&s, "GET", "/api/nothing-here", NULL, NULL, &r);
	lp_test_api_assert_error(&r, 404, "not_found");
	lp_test_api_resp_free(&r);
	lp_test_api_http(&s, "PATCH", "/api/deployments/x", NULL, NULL, &r);
	lp_test_api_assert_error(&r, 405, "method_not_allowed");
	/* the path's methods in route order, then OPTIONS */
	ck_assert_str_eq(r.allow, "GET, PUT, DELETE, OPTIONS");
	lp_test_api_resp_free(&r);
	lp_test_api_http(&s, "DELETE", "/api/deployments", NULL, NULL, &r);
	lp_test_api_assert_error(&r, 405, "method_not_allowed");
	ck_assert_str_eq(r.allow, "GET, POST, OPTIONS");
	lp_test_api_resp_free(&r);
	curl_easy_cleanup(c);
	lp_test_api_stop(&s);
}
END_TEST

/* Finding 2: slow uploads do not hold store handles; the API keeps answering. */
START_TEST(test_slow_uploads_keep_pool)
{
	struct lp_test_api s;
	struct lp_test_api_resp r;
	char head[1024];
	int fds[70], i;

	lp_test_api_start(&s, NULL);
	snprintf(head, sizeof(head),
	         "POST /api/deployments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
	         "Content-Type: multipart/form-data; boundary=XyZ\r\n"
	         "Content-Length: 10000000\r\n\r\n",
	         s.token);
	/* more stalled uploads than the pool has handles (64) */
	for (i = 0; i < 70; i++)
		fds[i] = lp_test_api_raw_open(
		    &s, head,
		    "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
		    "filename=\"s.zip\"\r\nContent-Type: application/zip\r\n\r\n"
		    "PK\x03\x04"
		    "aaaa");
	usleep(1000000);
	lp_test_api_http(&s, "GET", "/api/deployments", NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, lp_buf_cstr(&r.body));
	lp_test_api_resp_free(&r);
	lp_test_api_http(&s, "GET", "/readyz", NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, lp_buf_cstr(&r.body));
	lp_test_api_resp_free(&r);
	for (i = 0; i < 70; i++)
		close(fds[i]);
	lp_test_api_stop(&s);
}
END_TEST

/* Finding 3: the store figures of /metrics are computed once per interval, not per scrape. */
START_TEST(test_metrics_cached)
{
	struct lp_test_api s;
	struct lp_test_api_resp r;
	cJSON *o;

	lp_test_api_start(&s, NULL);
	lp_test_api_http(&s, "GET", "/metrics", NULL, NULL, &r);
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&r.body), "\nlaunchpad_sites 0\n"));
	lp_test_api_resp_free(&r);
	o = lp_test_api_create_github(&s, NULL);
	cJSON_Delete(o);
	/* the second scrape reuses the first scan (the request counters are live) */
	lp_test_api_http(&s, "GET", "/metrics", NULL, NULL, &r);
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&r.body), "\nlaunchpad_sites 0\n"));
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&r.body), "route=\"/metrics\",status=\"200\"} 1"));
	lp_test_api_resp_free(&r);
	lp_test_api_stop(&s);
}
END_TEST

/* A second server on a taken port fails at once and says why (no SO_REUSEPORT sharing). */
START_TEST(test_port_taken)
{
	struct lp_test_api s;
	char *bin = lp_test_bin_path("launchpad-apiserver"), *dir = lp_test_mkdtemp("lp-api2");
	char cmd[8192], out[4096] = "";
	size_t n;
	FILE *f;
	int st;

	lp_test_api_start(&s, NULL);
	snprintf(cmd, sizeof(cmd),
	         "timeout 10 '%s' --data-dir '%s' --listen 127.0.0.1:%u 2>&1; echo \"rc=$?\"", bin,
	         dir, s.port);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	st = pclose(f);
	ck_assert_int_eq(st, 0);
	ck_assert_msg(strstr(out, "rc=1") != NULL, "second apiserver did not exit 1: %s", out);
	ck_assert_msg(strstr(out, "already in use") != NULL, "no clear message: %s", out);
	/* the first one still answers every request */
	for (int i = 0; i < 6; i++) {
		struct lp_test_api_resp r;
		ck_assert_int_eq(lp_test_api_http(&s, "GET", "/healthz", NULL, NULL, &r), 200);
		lp_test_api_resp_free(&r);
	}
	lp_test_api_stop(&s);
	if (lp_fs_remove_tree(dir, NULL) != LP_OK)
		fprintf(stderr, "cleanup: cannot remove %s\n", dir);
	free(dir);
	free(bin);
}
END_TEST

START_TEST(test_load)
{
	struct lp_test_api s;
	pthread_t t[LOAD_CLIENTS];
	struct client *c = calloc(LOAD_CLIENTS, sizeof(*c));
	int i, errors = 0;
	cJSON *g;

	lp_test_api_start(&s, NULL);
	for (i = 0; i < LOAD_CLIENTS; i++) {
		c[i].s = &s;
		c[i].idx = i;
		ck_assert_int_eq(pthread_create(&t[i], NULL, load_client, &c[i]), 0);
	}
	for (i = 0; i < LOAD_CLIENTS; i++) {
		pthread_join(t[i], NULL);
		if (c[i].errors)
			fprintf(stderr, "client %d: %d errors, first %s\n", i, c[i].errors,
			        c[i].firsterr);
		errors += c[i].errors;
	}
	ck_assert_int_eq(errors, 0);
	/* no lost writes: every accepted change is there, in order */
	for (i = 0; i < LOAD_CLIENTS; i++) {
		char want[16];
		const cJSON *env;

		g = lp_test_api_get_site(&s, c[i].name);
		ck_assert(lp_test_api_jnum(g, "generation") == 1 + c[i].writes);
		ck_assert_int_eq(c[i].writes, LOAD_REQUESTS / 5 - 1);
		env = cJSON_GetObjectItem(g, "env_vars");
		snprintf(want, sizeof(want), "%d", c[i].last);
		ck_assert_str_eq(lp_test_api_jstr(env, "COUNTER"), want);
		cJSON_Delete(g);
	}
	free(c);
	lp_test_api_stop(&s);
}
END_TEST

static Suite *apiserver_limits_suite(void)
{
	Suite *s = suite_create("apiserver_limits");
	TCase *tc = tcase_create("api");
	TCase *load = tcase_create("load");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_slow_uploads_keep_pool);
	tcase_add_test(tc, test_metrics_cached);
	tcase_add_test(tc, test_port_taken);
	suite_add_tcase(s, tc);
	tcase_set_timeout(load, 300);
	tcase_add_test(load, test_load);
	suite_add_tcase(s, load);
	return s;
}

int main(void)
{
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = lp_test_run(apiserver_limits_suite());
	curl_global_cleanup();
	return rc;
}
