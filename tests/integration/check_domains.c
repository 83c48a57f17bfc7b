/*
 * check_domains.c: custom domains and HTTPS through the real Traefik (scripts/edge.sh, with a
 * websecure entrypoint whose certificate comes from a test CA made here with openssl). A site
 * with two custom domains answers on all three hosts; a second site claiming one gets 409 naming
 * the holder; a removed domain stops being routed within 3 s; adding and removing domains under a
 * steady load on the site's own host loses no request (each change replaces the serve container,
 * whose Traefik labels differ from its predecessor's); HTTPS answers with the test certificate,
 * serve.httpsRedirect redirects http to https and serve.hsts adds Strict-Transport-Security.
 */
#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launchpad/clock.h"
#include "launchpad/fmt.h"
#include "tests/lib/load.h"
#include "tests/lib/fixture.h"
#include "tests/lib/platform.h"
#include "tests/lib/testutil.h"

#define LIVE_WAIT_MS 60000
#define EDGE_WAIT_MS 20000
/* The goal is 3 s (printed beside the figure); the deadline only says it stops. */
#define GONE_GOAL_MS  3000
#define GONE_MS       10000
#define LOAD_THREADS  4
#define LOAD_RATE     300 /* requests a second in all (the floor asserted is 200) */
#define LOAD_FLOOR    200
#define LOAD_CHANGES  6 /* domain changes under load: add, remove, ... */
#define HOST_MAX      300
#define URL_MAX       600
#define DOMAINS_MAX   4
#define PEM_PATH_MAX  1024
#define HTTPS_TIMEOUT 5L

static lp_test_platform *g_p;
/* The test CA and the certificate it signed for the test domains (made once per run). */
static char g_tls_dir[PEM_PATH_MAX], g_ca[PEM_PATH_MAX], g_cert[PEM_PATH_MAX], g_key[PEM_PATH_MAX];

#define REQUIRE(cond, ...) LP_TEST_REQUIRE(&g_p, cond, __VA_ARGS__)
#define REQUIRE_OK(call)   LP_TEST_REQUIRE_OK(&g_p, call)

/*
 * A CA, and a server certificate it signs for the names the HTTPS test uses. Runs before the
 * tests (outside any), so a failure exits instead of asserting.
 */
static void make_test_ca(void)
{
	char *dir = lp_test_mkdtemp("lp-tls"), cmd[8192];

	if (dir == NULL) {
		fprintf(stderr, "cannot make a temp dir for the test CA\n");
		exit(1);
	}
	LP_TEST_FMT(g_tls_dir, "%s", dir);
	LP_TEST_FMT(g_ca, "%s/ca.pem", dir);
	LP_TEST_FMT(g_cert, "%s/site.pem", dir);
	LP_TEST_FMT(g_key, "%s/site.key", dir);
	LP_TEST_FMT(cmd,
	            "cd '%s' && "
	            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
	            "-keyout ca.key -out ca.pem -days 2 -subj '/CN=LaunchPad test CA' "
	            "-addext basicConstraints=critical,CA:TRUE "
	            "-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null && "
	            "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
	            "-keyout site.key -out site.csr -subj '/CN=launchpad test site' 2>/dev/null && "
	            "printf 'subjectAltName=DNS:secure.dom-c.test,DNS:plain.dom-c.test\\n"
	            "basicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\n' >ext.cnf && "
	            "openssl x509 -req -in site.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
	            "-days 2 -extfile ext.cnf -out site.pem 2>/dev/null",
	            dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot make the test CA with openssl: %s\n", cmd);
		exit(1);
	}
	free(dir);
}

static void remove_test_ca(void)
{
	char cmd[PEM_PATH_MAX + 16];

	LP_TEST_FMT(cmd, "rm -rf '%s'", g_tls_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "(could not remove %s)\n", g_tls_dir);
}

static void setup(void)
{
	lp_test_platform_options opts = {
	    .edge = 1, .https = 1, .tls_cert = g_cert, .tls_key = g_key};
	lp_error err = {0};
	int rc;

	rc = lp_test_platform_start(&g_p, &opts, &err);
	ck_assert_msg(rc == LP_OK, "cannot start the platform: %s", err.message);
	ck_assert_msg(g_p->edge_https[0], "the edge has no websecure entrypoint");
}

static void teardown(void)
{
	lp_test_fixture_teardown(&g_p);
}

/* A zip site called name serving body; its id and (generated) slug into id and slug. */
static void create_site(char id[64], char slug[64], const char *name, const char *body)
{
	const char *fields[] = {"name", name, "source_type", "zip", NULL};
	const char *files[] = {"index.html", body, NULL};
	char *zip = lp_test_platform_path(g_p, "site.zip");
	lp_test_http_resp r = {0};
	lp_error err = {0};
	const cJSON *v;

	REQUIRE(zip != NULL, "oom");
	REQUIRE_OK(lp_test_make_zip(zip, files, &err));
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
	REQUIRE_OK(lp_test_platform_wait_edge(g_p, slug, 200, body, LIVE_WAIT_MS, &err));
}

/*
 * Apply the site's stored manifest with spec.domains = domains (NULL-terminated) and the two
 * HTTPS switches; *out gets the answer (the caller releases it).
 */
static void apply_domains(lp_test_http_resp *out, const char *id, const char *const *domains,
                          int redirect, int hsts)
{
	lp_test_http_resp r = {0};
	lp_error err = {0};
	char path[256], *body;
	cJSON *doc, *spec, *serve, *list;
	size_t i;

	LP_TEST_FMT(path, "/api/deployments/%s", id);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "GET", path, NULL, &err));
	REQUIRE(r.status == 200, "GET answered %ld: %s", r.status, r.body);
	doc = cJSON_DetachItemFromObjectCaseSensitive(r.json, "spec");
	spec = cJSON_GetObjectItemCaseSensitive(doc, "spec");
	serve = cJSON_GetObjectItemCaseSensitive(spec, "serve");
	REQUIRE(cJSON_IsObject(serve), "no spec.serve in %s", r.body);
	cJSON_DeleteItemFromObjectCaseSensitive(spec, "domains");
	list = cJSON_AddArrayToObject(spec, "domains");
	for (i = 0; domains && domains[i]; i++)
		cJSON_AddItemToArray(list, cJSON_CreateString(domains[i]));
	cJSON_DeleteItemFromObjectCaseSensitive(serve, "httpsRedirect");
	cJSON_DeleteItemFromObjectCaseSensitive(serve, "hsts");
	cJSON_AddBoolToObject(serve, "httpsRedirect", redirect);
	cJSON_AddBoolToObject(serve, "hsts", hsts);
	LP_TEST_FMT(path, "/api/deployments/%s",
	            cJSON_GetObjectItemCaseSensitive(r.json, "slug")->valuestring);
	body = cJSON_PrintUnformatted(doc);
	lp_test_http_resp_release(&r);
	REQUIRE_OK(lp_test_platform_api(out, g_p, "PUT", path, body, &err));
	free(body);
	cJSON_Delete(doc);
}

/* apply_domains, which must be accepted. */
static void set_domains(const char *id, const char *const *domains, int redirect, int hsts)
{
	lp_test_http_resp r = {0};

	apply_domains(&r, id, domains, redirect, hsts);
	REQUIRE(r.status == 200, "apply answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
}

/*
 * Poll Traefik with Host: host until it answers want (200 with exactly body, or another status),
 * for up to timeout_ms. Returns the ms it took, or -1 with what it saw last in last.
 */
static int64_t wait_host(const char *host, long want, const char *body, int timeout_ms, char *last,
                         size_t lastlen)
{
	int64_t t0 = lp_clock_mono_ms();
	lp_error err = {0};
	long status;
	char *got;

	for (;;) {
		got = NULL;
		status = 0;
		if (lp_test_platform_fetch_edge(&got, &status, g_p, host, "/", &err) == LP_OK &&
		    status == want && (want != 200 || (got && !strcmp(got, body)))) {
			free(got);
			return lp_clock_mono_ms() - t0;
		}
		lp_fmt_text(last, lastlen, "HTTP %ld \"%.80s\" %s", status, got ? got : "",
		            status ? "" : err.message);
		free(got);
		if (lp_clock_mono_ms() - t0 >= timeout_ms)
			return -1;
		lp_clock_sleep_ms(20);
	}
}

#define WAIT_HOST(host, want, body, timeout)                                                       \
	do {                                                                                       \
		char last_[400];                                                                   \
		REQUIRE(wait_host(host, want, body, timeout, last_, sizeof(last_)) >= 0,           \
		        "%s did not answer %ld within %d ms; last: %s", host, (long)(want),        \
		        timeout, last_);                                                           \
	} while (0)

START_TEST(test_two_domains_conflict_and_removal)
{
	static const char *const both[] = {"www.dom-a.test", "dom-a.test", NULL};
	static const char *const one[] = {"dom-a.test", NULL};
	static const char *const b_takes[] = {"other.dom-b.test", "dom-a.test", NULL};
	static const char *const b_freed[] = {"www.dom-a.test", NULL};
	char id_a[64], slug_a[64], id_b[64], slug_b[64], own[HOST_MAX], own_b[128], last[400];
	const char *b_own[] = {own_b, NULL};
	lp_test_http_resp r = {0};
	const cJSON *v;
	int64_t gone;

	create_site(id_a, slug_a, "dom-a", "A page");
	lp_test_platform_site_host(own, sizeof(own), slug_a);
	/* Before the apply, Traefik routes neither domain. */
	WAIT_HOST("www.dom-a.test", 404, NULL, EDGE_WAIT_MS);
	set_domains(id_a, both, 0, 0);
	WAIT_HOST("www.dom-a.test", 200, "A page", EDGE_WAIT_MS);
	WAIT_HOST("dom-a.test", 200, "A page", EDGE_WAIT_MS);
	WAIT_HOST(own, 200, "A page", EDGE_WAIT_MS);

	/* The API shows the domains and the CNAME target to set. */
	LP_TEST_FMT(last, "/api/deployments/%s", id_a);
	{
		lp_error err = {0};
		char want[128];
		REQUIRE_OK(lp_test_platform_api(&r, g_p, "GET", last, NULL, &err));
		v = cJSON_GetObjectItemCaseSensitive(r.json, "domains");
		REQUIRE(cJSON_GetArraySize(v) == 2, "domains: %s", r.body);
		LP_TEST_FMT(want, "%s.localhost", slug_a);
		v = cJSON_GetObjectItemCaseSensitive(r.json, "cname_target");
		REQUIRE(cJSON_IsString(v) && !strcmp(v->valuestring, want), "cname_target: %s",
		        r.body);
		lp_test_http_resp_release(&r);
	}

	/* So does `launchpad describe`. */
	{
		char *cli = lp_test_bin_path("launchpad"), cmd[2048], want[256], out[8192] = "";
		size_t n;
		FILE *f;

		REQUIRE(cli != NULL, "oom");
		LP_TEST_FMT(cmd,
		            "LAUNCHPAD_SERVER='%s' LAUNCHPAD_TOKEN='%s' '%s' describe site %s 2>&1",
		            g_p->url, g_p->token, cli, slug_a);
		free(cli);
		REQUIRE((f = popen(cmd, "r")) != NULL, "popen %s", cmd);
		n = fread(out, 1, sizeof(out) - 1, f);
		out[n] = '\0';
		REQUIRE(pclose(f) == 0, "describe failed: %s", out);
		LP_TEST_FMT(want, "www.dom-a.test  CNAME  %s.localhost", slug_a);
		REQUIRE(strstr(out, want) && strstr(out, "Domains:       2"),
		        "describe does not show \"%s\":\n%s", want, out);
	}

	/* A second site claiming one of them: 409 naming the holder, and nothing changes. */
	create_site(id_b, slug_b, "dom-b", "B page");
	apply_domains(&r, id_b, b_takes, 0, 0);
	REQUIRE(r.status == 409, "claiming a taken domain answered %ld: %s", r.status, r.body);
	REQUIRE(strstr(r.body, "dom-a.test") && strstr(r.body, slug_a),
	        "the 409 does not name the domain and its holder %s: %s", slug_a, r.body);
	lp_test_http_resp_release(&r);
	/* Nor may a site claim another site's own host. */
	LP_TEST_FMT(own_b, "%s", own);
	apply_domains(&r, id_b, b_own, 0, 0);
	REQUIRE(r.status == 400 && strstr(r.body, "spec.domains.0"),
	        "claiming another site's host answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
	WAIT_HOST("other.dom-b.test", 404, NULL, EDGE_WAIT_MS);
	WAIT_HOST("dom-a.test", 200, "A page", EDGE_WAIT_MS);

	/* Removing a domain stops routing it; the other two hosts keep answering. */
	set_domains(id_a, one, 0, 0);
	gone = wait_host("www.dom-a.test", 404, NULL, GONE_MS, last, sizeof(last));
	REQUIRE(gone >= 0, "www.dom-a.test still routed %d ms after its removal; last: %s", GONE_MS,
	        last);
	printf(
	    "  domain removed -> 404 from Traefik: %lld ms after the apply answered (goal %d ms)\n",
	    (long long)gone, GONE_GOAL_MS);
	WAIT_HOST("dom-a.test", 200, "A page", EDGE_WAIT_MS);
	WAIT_HOST(own, 200, "A page", EDGE_WAIT_MS);

	/* The freed domain is free to claim. */
	set_domains(id_b, b_freed, 0, 0);
	WAIT_HOST("www.dom-a.test", 200, "B page", EDGE_WAIT_MS);
}
END_TEST

/* The load's checker: the site's one page, whole. */
static int a_page(void *ctx, const char *body, size_t len)
{
	(void)ctx;
	return len == strlen("L page") && !memcmp(body, "L page", len);
}

START_TEST(test_domain_changes_under_load_lose_nothing)
{
	static const char *const with[] = {"www.dom-l.test", "dom-l.test", NULL};
	static const char *const without[] = {"dom-l.test", NULL};
	char id[64], slug[64], url[URL_MAX], host[HOST_MAX];
	lp_test_load_stats st;
	lp_test_load *load = NULL;
	lp_error err = {0};
	int i;

	create_site(id, slug, "dom-l", "L page");
	LP_TEST_FMT(url, "http://%s/", g_p->edge_http);
	lp_test_platform_site_host(host, sizeof(host), slug);
	REQUIRE_OK(
	    lp_test_load_start(&load, url, host, LOAD_THREADS, LOAD_RATE, a_page, NULL, &err));
	lp_clock_sleep_ms(500);
	for (i = 0; i < LOAD_CHANGES; i++) {
		int add = i % 2 == 0;
		int64_t t0 = lp_clock_mono_ms();

		set_domains(id, add ? with : without, 0, 0);
		/* Each change is seen through Traefik before the next one starts. */
		WAIT_HOST("www.dom-l.test", add ? 200 : 404, "L page", EDGE_WAIT_MS);
		printf("  change %d (%s www.dom-l.test) at %lld ms: visible after %lld ms\n", i + 1,
		       add ? "add" : "remove", (long long)lp_test_load_elapsed_ms(load),
		       (long long)(lp_clock_mono_ms() - t0));
		/* and the swap it caused is over (one serve container again) */
		for (t0 = lp_clock_mono_ms();;) {
			char label[128];
			LP_TEST_FMT(label, "launchpad.site=%s", slug);
			if (lp_test_count_lines(
			        "docker ps -q --filter label=launchpad.instance=%s "
			        "--filter label=%s --filter label=launchpad.role=serve",
			        g_p->instance, label) == 1)
				break;
			REQUIRE(lp_clock_mono_ms() - t0 < EDGE_WAIT_MS,
			        "the replacement of change %d did not finish", i + 1);
			lp_clock_sleep_ms(50);
		}
	}
	lp_clock_sleep_ms(500);
	lp_test_load_stop(&st, load);
	printf("  load: %llu requests in %.1f s (%.0f req/s): %llu ok, %llu non-2xx, %llu socket "
	       "errors, %llu bad bodies%s%s\n",
	       (unsigned long long)st.requests, st.seconds,
	       st.seconds > 0 ? (double)st.requests / st.seconds : 0.0, (unsigned long long)st.ok,
	       (unsigned long long)st.non2xx, (unsigned long long)st.socket_errs,
	       (unsigned long long)st.bad_bodies, st.first_failure[0] ? "; first failure: " : "",
	       st.first_failure);
	REQUIRE(lp_test_load_failed(&st) == 0,
	        "%llu of %llu requests failed while domains changed (first at %lld ms: %s)",
	        (unsigned long long)lp_test_load_failed(&st), (unsigned long long)st.requests,
	        (long long)st.first_failure_ms, st.first_failure);
	REQUIRE((double)st.requests / st.seconds >= LOAD_FLOOR,
	        "the load ran at %.0f req/s, below the %d req/s the test must hold",
	        (double)st.requests / st.seconds, LOAD_FLOOR);
}
END_TEST

/* What one HTTPS GET saw. */
struct https_answer {
	long status;
	CURLcode cc;
	char body[256];
	size_t len;
	char hsts[128];
	char location[256];
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	struct https_answer *a = ctx;
	size_t n = size * nmemb, room = sizeof(a->body) - 1 - a->len;

	memcpy(a->body + a->len, ptr, n < room ? n : room);
	a->len += n < room ? n : room;
	a->body[a->len] = '\0';
	return n;
}

/* Keep the value of a header we look for (without its CRLF). */
static void keep_header(char *dst, size_t n, const char *line, size_t len, const char *name)
{
	size_t k = strlen(name);

	if (len <= k || strncasecmp(line, name, k) != 0)
		return;
	line += k;
	len -= k;
	while (len && (*line == ' '))
		line++, len--;
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	snprintf(dst, n, "%.*s", (int)len, line);
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	struct https_answer *a = ctx;

	keep_header(a->hsts, sizeof(a->hsts), ptr, size * nmemb, "Strict-Transport-Security:");
	keep_header(a->location, sizeof(a->location), ptr, size * nmemb, "Location:");
	return size * nmemb;
}

/*
 * GET scheme://host:<edge port>/ with host resolved to the edge's loopback address (as DNS would
 * send a browser), verifying the server against cafile (NULL: the system's CAs).
 */
static void edge_get(struct https_answer *out, const char *scheme, const char *host,
                     const char *cafile)
{
	const char *addr = !strcmp(scheme, "https") ? g_p->edge_https : g_p->edge_http;
	const char *port = strrchr(addr, ':') + 1;
	char url[URL_MAX], resolve[URL_MAX];
	struct curl_slist *rs;
	CURL *h = curl_easy_init();

	memset(out, 0, sizeof(*out));
	ck_assert_ptr_nonnull(h);
	LP_TEST_FMT(url, "%s://%s:%s/", scheme, host, port);
	LP_TEST_FMT(resolve, "%s:%s:127.0.0.1", host, port);
	rs = curl_slist_append(NULL, resolve);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_RESOLVE, rs);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, HTTPS_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, out);
	if (cafile)
		curl_easy_setopt(h, CURLOPT_CAINFO, cafile);
	out->cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
	curl_easy_cleanup(h);
	curl_slist_free_all(rs);
}

/* Poll edge_get until it answers want_status, for up to EDGE_WAIT_MS. */
static void wait_edge_get(struct https_answer *out, const char *scheme, const char *host,
                          long want_status)
{
	int64_t t0 = lp_clock_mono_ms();

	for (;;) {
		edge_get(out, scheme, host, g_ca);
		if (out->cc == CURLE_OK && out->status == want_status)
			return;
		REQUIRE(lp_clock_mono_ms() - t0 < EDGE_WAIT_MS,
		        "%s://%s did not answer %ld within %d ms; last: %s, HTTP %ld \"%s\"",
		        scheme, host, want_status, EDGE_WAIT_MS, curl_easy_strerror(out->cc),
		        out->status, out->body);
		lp_clock_sleep_ms(50);
	}
}

START_TEST(test_https_certificate_redirect_and_hsts)
{
	static const char *const secure[] = {"secure.dom-c.test", NULL};
	static const char *const plain[] = {"plain.dom-c.test", NULL};
	char id[64], slug[64], id2[64], slug2[64], want[HOST_MAX];
	struct https_answer a;

	create_site(id, slug, "dom-c", "C page");
	set_domains(id, secure, 1, 1);
	/* HTTPS with the test CA's certificate, and HSTS on. */
	wait_edge_get(&a, "https", "secure.dom-c.test", 200);
	REQUIRE(!strcmp(a.body, "C page"), "https answered \"%s\"", a.body);
	REQUIRE(!strcmp(a.hsts, "max-age=31536000"), "Strict-Transport-Security: \"%s\"", a.hsts);
	/* The certificate is the test CA's: without that CA the client refuses it. */
	edge_get(&a, "https", "secure.dom-c.test", "/dev/null");
	REQUIRE(a.cc != CURLE_OK, "https verified without the test CA (HTTP %ld)", a.status);
	/* http is a permanent redirect to the same host on the https port. */
	wait_edge_get(&a, "http", "secure.dom-c.test", 301);
	LP_TEST_FMT(want, "https://secure.dom-c.test:%s/", strrchr(g_p->edge_https, ':') + 1);
	REQUIRE(!strcmp(a.location, want), "Location: \"%s\", expected \"%s\"", a.location, want);
	REQUIRE(!a.hsts[0], "HSTS over plain http: \"%s\"", a.hsts);

	/* A site without the switches: both schemes serve it, no redirect, no HSTS. */
	create_site(id2, slug2, "dom-c2", "C2 page");
	set_domains(id2, plain, 0, 0);
	wait_edge_get(&a, "https", "plain.dom-c.test", 200);
	REQUIRE(!strcmp(a.body, "C2 page") && !a.hsts[0], "https answered \"%s\", HSTS \"%s\"",
	        a.body, a.hsts);
	wait_edge_get(&a, "http", "plain.dom-c.test", 200);
	REQUIRE(!strcmp(a.body, "C2 page"), "http answered \"%s\"", a.body);

	/* Switching the redirect off again: http serves the page (the labels change back). */
	set_domains(id, secure, 0, 1);
	wait_edge_get(&a, "http", "secure.dom-c.test", 200);
	REQUIRE(!strcmp(a.body, "C page"), "http answered \"%s\"", a.body);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("domains");
	TCase *tc = tcase_create("traefik");

	lp_test_require_docker();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	make_test_ca();
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_two_domains_conflict_and_removal);
	tcase_add_test(tc, test_domain_changes_under_load_lose_nothing);
	tcase_add_test(tc, test_https_certificate_redirect_and_hsts);
	suite_add_tcase(s, tc);
	{
		int rc = lp_test_run(s);
		remove_test_ca();
		return rc;
	}
}
