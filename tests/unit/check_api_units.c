/*
 * check_api_units.c: the apiserver's pure parts: slugs, listen addresses, HMAC, urldecode,
 * uploads, the gate's head rules, input decoding (NUL, UTF-8, JSON), the revision buckets.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apiserver/apiserver_internal.h"
#include "launchpad/crypto.h"
#include "launchpad/fs.h"
#include "tests/lib/testutil.h"

START_TEST(test_slug_shape)
{
	char slug[API_SLUG_MAX], seen[200][API_SLUG_MAX];
	int i, j, distinct = 0;

	for (i = 0; i < 200; i++) {
		const char *dash;

		ck_assert_int_eq(api_slug_generate(slug, 0), 0);
		ck_assert_msg(api_slug_valid(slug), "bad slug %s", slug);
		dash = strchr(slug, '-');
		ck_assert_ptr_nonnull(dash);
		ck_assert_ptr_null(strchr(dash + 1, '-')); /* adjective-noun, no suffix */
		for (j = 0; j < distinct && strcmp(seen[j], slug); j++)
			;
		if (j == distinct)
			snprintf(seen[distinct++], sizeof(seen[0]), "%s", slug);
	}
	/* 64 x 64 words: 200 draws cannot all collide unless the generator is broken */
	ck_assert_int_gt(distinct, 100);
	ck_assert_int_eq(api_slug_generate(slug, API_SLUG_PLAIN_TRIES), LP_OK);
	ck_assert(api_slug_valid(slug));
	ck_assert_int_eq((int)(strrchr(slug, '-') - slug), (int)strlen(slug) - 5);
}
END_TEST

START_TEST(test_slug_valid)
{
	ck_assert(api_slug_valid("graceful-fox"));
	ck_assert(api_slug_valid("a"));
	ck_assert(!api_slug_valid(""));
	ck_assert(!api_slug_valid("-fox"));
	ck_assert(!api_slug_valid("fox-"));
	ck_assert(!api_slug_valid("Fox"));
	ck_assert(!api_slug_valid("fox_1"));
	ck_assert(!api_slug_valid("a.b"));
	ck_assert(!api_slug_valid(NULL));
	ck_assert(
	    api_slug_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	ck_assert(
	    !api_slug_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}
END_TEST

START_TEST(test_listen_parse)
{
	char host[64];
	unsigned port = 1;
	lp_error err = {0};

	ck_assert_int_eq(lp_api_listen_parse(host, sizeof(host), &port, "127.0.0.1:8080", &err),
	                 LP_OK);
	ck_assert_str_eq(host, "127.0.0.1");
	ck_assert_uint_eq(port, 8080);
	ck_assert_int_eq(lp_api_listen_parse(host, sizeof(host), &port, ":0", &err), LP_OK);
	ck_assert_str_eq(host, "");
	ck_assert_uint_eq(port, 0);
	ck_assert_int_eq(lp_api_listen_parse(host, sizeof(host), &port, "*:99", &err), LP_OK);
	ck_assert_str_eq(host, "");
	ck_assert_int_eq(lp_api_listen_parse(host, sizeof(host), &port, "localhost", &err),
	                 LP_EINVAL);
	ck_assert_int_eq(lp_api_listen_parse(host, sizeof(host), &port, "h:70000", &err),
	                 LP_EINVAL);
	ck_assert_int_eq(lp_api_listen_parse(host, sizeof(host), &port, "h:-1", &err), LP_EINVAL);
	ck_assert_int_eq(lp_api_listen_parse(host, sizeof(host), &port, "h:", &err), LP_EINVAL);
	ck_assert_int_eq(lp_api_listen_parse(host, sizeof(host), &port, "h:80x", &err), LP_EINVAL);
	ck_assert_int_eq(lp_api_listen_parse(host, sizeof(host), &port, NULL, &err), LP_EINVAL);
}
END_TEST

/* GitHub's published example (docs: "Validating webhook deliveries"). */
START_TEST(test_webhook_vector)
{
	const char *secret = "It's a Secret to Everybody", *body = "Hello, World!";
	const char *good =
	    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
	char bad[100];

	ck_assert_int_eq(api_webhook_verify(secret, body, strlen(body), good), LP_OK);
	snprintf(bad, sizeof(bad), "%s", good);
	bad[strlen(bad) - 1] = '8';
	ck_assert_int_eq(api_webhook_verify(secret, body, strlen(body), bad), LP_EAUTH);
	ck_assert_int_eq(api_webhook_verify(secret, "Hello, World?", 13, good), LP_EAUTH);
	ck_assert_int_eq(api_webhook_verify("other", body, strlen(body), good), LP_EAUTH);
	ck_assert_int_eq(api_webhook_verify(secret, body, strlen(body), good + 7), LP_EAUTH);
	ck_assert_int_eq(api_webhook_verify(secret, body, strlen(body), NULL), LP_EAUTH);
	ck_assert_int_eq(api_webhook_verify(secret, body, strlen(body), "sha256="), LP_EAUTH);
	ck_assert_int_eq(api_webhook_verify("", body, strlen(body), good), LP_EAUTH);
	/* hex digits in either case (some proxies and clients uppercase them) */
	ck_assert_int_eq(
	    api_webhook_verify(
	        secret, body, strlen(body),
	        "sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17"),
	    LP_OK);
	ck_assert_int_eq(
	    api_webhook_verify(
	        secret, body, strlen(body),
	        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17aa"),
	    LP_EAUTH);
	/* sha1 headers (X-Hub-Signature) are not accepted in place of sha256 */
	ck_assert_int_eq(api_webhook_verify(secret, body, strlen(body),
	                                    "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59"),
	                 LP_EAUTH);
}
END_TEST

START_TEST(test_urldecode)
{
	char s[64];
	size_t n;

	snprintf(s, sizeof(s), "%s", "a%7B%22x%22%3A1%7D+b%2");
	n = api_urldecode(s, strlen(s));
	ck_assert_uint_eq(n, strlen("a{\"x\":1} b%2"));
	ck_assert_str_eq(s, "a{\"x\":1} b%2");
	snprintf(s, sizeof(s), "%s", "%zz%4");
	n = api_urldecode(s, strlen(s));
	ck_assert_str_eq(s, "%zz%4");
	ck_assert_uint_eq(n, 5);
}
END_TEST

static int count_files(const char *dir)
{
	char cmd[512];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "find '%s' -type f | wc -l", dir);
	if ((p = popen(cmd, "r")) != NULL) {
		if (fscanf(p, "%d", &n) != 1)
			n = -1;
		pclose(p);
	}
	return n;
}

START_TEST(test_upload_digest)
{
	char *dir = lp_test_mkdtemp("lp-upload"), *path = NULL, digest[LP_SHA256_HEX_LEN];
	char want[LP_SHA256_HEX_LEN], expect_path[4096];
	char data[3000];
	api_upload *u = NULL;
	lp_error err = {0};
	size_t i;
	struct stat sb;

	memcpy(data, "PK\x03\x04", 4);
	for (i = 4; i < sizeof(data); i++)
		data[i] = (char)(i * 7);
	lp_crypto_sha256_hex(want, data, sizeof(data));
	ck_assert_int_eq(api_upload_new(&u, dir, 1 << 20, &err), LP_OK);
	/* in small pieces, the first shorter than the magic */
	ck_assert_int_eq(api_upload_write(u, data, 2, &err), LP_OK);
	for (i = 2; i < sizeof(data); i += 500)
		ck_assert_int_eq(api_upload_write(u, data + i,
		                                  i + 500 > sizeof(data) ? sizeof(data) - i : 500,
		                                  &err),
		                 LP_OK);
	ck_assert_uint_eq(api_upload_size(u), sizeof(data));
	ck_assert_int_eq(api_upload_finish(u, digest, NULL, &err), LP_OK);
	ck_assert_str_eq(digest, want);
	/* finished is not published: only the temp file exists until the request is good */
	LP_TEST_FMT(expect_path, "%s/uploads/sha256/%s.zip", dir, want);
	ck_assert_int_ne(stat(expect_path, &sb), 0);
	ck_assert_int_eq(api_upload_publish(&path, u, &err), LP_OK);
	ck_assert_str_eq(path, expect_path);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq((int)sb.st_size, (int)sizeof(data));
	api_upload_free(u);
	ck_assert_int_eq(count_files(dir), 1); /* no temp file left */
	free(path);
	path = NULL;

	/* the same bytes again: the file stays (touched), and withdrawing leaves it */
	ck_assert_int_eq(api_upload_new(&u, dir, 1 << 20, &err), LP_OK);
	ck_assert_int_eq(api_upload_write(u, data, sizeof(data), &err), LP_OK);
	ck_assert_int_eq(api_upload_finish(u, digest, NULL, &err), LP_OK);
	ck_assert_int_eq(api_upload_publish(&path, u, &err), LP_OK);
	api_upload_withdraw(u);
	api_upload_free(u);
	ck_assert_int_eq(stat(expect_path, &sb), 0);
	ck_assert_int_eq(count_files(dir), 1);
	free(path);
	path = NULL;

	/* a new file withdrawn (the store refused the request) is gone */
	data[10] ^= 1;
	ck_assert_int_eq(api_upload_new(&u, dir, 1 << 20, &err), LP_OK);
	ck_assert_int_eq(api_upload_write(u, data, sizeof(data), &err), LP_OK);
	ck_assert_int_eq(api_upload_finish(u, digest, NULL, &err), LP_OK);
	ck_assert_int_eq(api_upload_publish(&path, u, &err), LP_OK);
	ck_assert_int_eq(count_files(dir), 2);
	api_upload_withdraw(u);
	api_upload_free(u);
	ck_assert_int_eq(count_files(dir), 1);
	free(path);

	/* finished, never published (a request refused after its body): nothing is left */
	data[11] ^= 1;
	ck_assert_int_eq(api_upload_new(&u, dir, 1 << 20, &err), LP_OK);
	ck_assert_int_eq(api_upload_write(u, data, sizeof(data), &err), LP_OK);
	ck_assert_int_eq(api_upload_finish(u, digest, NULL, &err), LP_OK);
	ck_assert_int_eq(count_files(dir), 2);
	api_upload_free(u);
	ck_assert_int_eq(count_files(dir), 1);
	if (lp_fs_remove_tree(dir, NULL) != LP_OK)
		fprintf(stderr, "cleanup: cannot remove %s\n", dir);
	free(dir);
}
END_TEST

START_TEST(test_upload_rejects)
{
	char *dir = lp_test_mkdtemp("lp-upload"), *path = NULL, digest[LP_SHA256_HEX_LEN];
	char big[4096] = "PK\x03\x04";
	api_upload *u = NULL;
	lp_error err = {0};

	/* not an archive */
	ck_assert_int_eq(api_upload_new(&u, dir, 1 << 20, &err), LP_OK);
	ck_assert_int_eq(api_upload_write(u, "<html>", 6, &err), LP_EUNSUPPORTED);
	api_upload_free(u);
	/* too short to tell */
	ck_assert_int_eq(api_upload_new(&u, dir, 1 << 20, &err), LP_OK);
	ck_assert_int_eq(api_upload_write(u, "PK", 2, &err), LP_OK);
	ck_assert_int_eq(api_upload_finish(u, digest, NULL, &err), LP_EUNSUPPORTED);
	api_upload_free(u);
	/* empty */
	ck_assert_int_eq(api_upload_new(&u, dir, 1 << 20, &err), LP_OK);
	ck_assert_int_eq(api_upload_finish(u, digest, NULL, &err), LP_EINVAL);
	api_upload_free(u);
	/* over the cap: refused, and the partial file is gone after free */
	ck_assert_int_eq(api_upload_new(&u, dir, 5000, &err), LP_OK);
	ck_assert_int_eq(api_upload_write(u, big, sizeof(big), &err), LP_OK);
	ck_assert_int_eq(api_upload_write(u, big, sizeof(big), &err), LP_ETOOBIG);
	api_upload_free(u);
	/* gzip is accepted as tar.gz */
	ck_assert_int_eq(api_upload_new(&u, dir, 1 << 20, &err), LP_OK);
	ck_assert_int_eq(api_upload_write(u, "\x1f\x8b\x08\x00rest", 8, &err), LP_OK);
	ck_assert_int_eq(api_upload_finish(u, digest, NULL, &err), LP_OK);
	ck_assert_int_eq(api_upload_publish(&path, u, &err), LP_OK);
	ck_assert_ptr_nonnull(strstr(path, ".tar.gz"));
	api_upload_free(u);
	free(path);
	ck_assert_int_eq(count_files(dir), 1);
	api_upload_free(NULL);
	if (lp_fs_remove_tree(dir, NULL) != LP_OK)
		fprintf(stderr, "cleanup: cannot remove %s\n", dir);
	free(dir);
}
END_TEST

/* Issue 14.13: every head libmicrohttpd would answer with an HTML page is refused here first. */
START_TEST(test_head_check)
{
	static const struct {
		const char *head;
		int code;
	} cases[] = {
	    {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", LP_OK},
	    {"GET / HTTP/1.0\n\n", LP_OK},
	    {"POST /a HTTP/1.1\r\nContent-Length: 12\r\n\r\n", LP_OK},
	    {"POST /a HTTP/1.1\r\nTransfer-Encoding: Chunked \r\n\r\n", LP_OK},
	    {"POST /a HTTP/1.1\r\nContent-Length: -5\r\n\r\n", LP_EINVAL},
	    {"POST /a HTTP/1.1\r\nContent-Length: 12x\r\n\r\n", LP_EINVAL},
	    {"POST /a HTTP/1.1\r\nContent-Length:\r\n\r\n", LP_EINVAL},
	    {"POST /a HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", LP_ETOOBIG},
	    {"POST /a HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", LP_EINVAL},
	    {"POST /a HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", LP_EINVAL},
	    {"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
	     LP_EINVAL},
	    {"GET / HTTP/2.0\r\n\r\n", LP_EVERSION},
	    {"GET / HTTP/0.9\r\n\r\n", LP_EVERSION},
	    {"GET / HTTQ/1.1\r\n\r\n", LP_EINVAL},
	    {"GET /\r\n\r\n", LP_EINVAL},
	    {"GET  / HTTP/1.1\r\n\r\n", LP_EINVAL},
	    {"G(T / HTTP/1.1\r\n\r\n", LP_EINVAL},
	    {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", LP_EINVAL},
	    {"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", LP_EINVAL},
	    {"GET / HTTP/1.1\r\nBad Name: b\r\n\r\n", LP_EINVAL},
	    {"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", LP_EINVAL},
	    {"GET / HTTP/1.1\r\nA: \x01\r\n\r\n", LP_EINVAL},
	};
	char msg[256], big[API_REQUEST_LINE_MAX + 64], many[8192];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc =
		    api_gate_head_check(cases[i].head, strlen(cases[i].head), msg, sizeof(msg));

		ck_assert_msg(rc == cases[i].code, "case %zu: %d, want %d (%s)", i, rc,
		              cases[i].code, msg);
		if (rc != LP_OK)
			ck_assert_msg(msg[0], "case %zu: no reason", i);
	}
	/* a NUL in a header value */
	ck_assert_int_eq(
	    api_gate_head_check("GET / HTTP/1.1\r\nA: a\0b\r\n\r\n", 26, msg, sizeof(msg)),
	    LP_EINVAL);
	/* a request line over its cap: 414 */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	memcpy(big + sizeof(big) - 15, " HTTP/1.1\r\n\r\n", 13);
	ck_assert_int_eq(api_gate_head_check(big, sizeof(big) - 2, msg, sizeof(msg)), LP_EURI);
	/* more header lines than taken: 431 */
	n = (size_t)snprintf(many, sizeof(many), "GET / HTTP/1.1\r\n");
	for (i = 0; i <= API_HEAD_FIELDS; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "A%zu: b\r\n", i);
	n += (size_t)snprintf(many + n, sizeof(many) - n, "\r\n");
	ck_assert_int_eq(api_gate_head_check(many, n, msg, sizeof(msg)), LP_EHEADERS);
}
END_TEST

START_TEST(test_head_end)
{
	const char *h = "GET / HTTP/1.1\r\nHost: x\r\n\r\nbody";

	ck_assert_uint_eq(api_gate_head_end(h, strlen(h), 0), strlen(h) - 4);
	ck_assert_uint_eq(api_gate_head_end(h, 20, 0), 0);
	/* found when the blank line straddles where the last look stopped */
	ck_assert_uint_eq(api_gate_head_end(h, strlen(h), 26), strlen(h) - 4);
	ck_assert_uint_eq(api_gate_head_end("GET / HTTP/1.0\n\n", 16, 0), 16);
	ck_assert_uint_eq(api_gate_head_end("GET / HTTP/1.0\r\n", 16, 0), 0);
}
END_TEST

/* Issue 14.7 and 14.8: NUL and invalid UTF-8 in any string are refused, never cut. */
START_TEST(test_text_and_json)
{
	lp_error err = {0};
	cJSON *doc = NULL;

	ck_assert_int_eq(api_text_check("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, "x", &err),
	                 LP_OK);
	ck_assert_int_eq(api_text_check("ab\0cd", 5, "name", &err), LP_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "NUL"));
	ck_assert_int_eq(api_text_check("\xff\xfe", 2, "name", &err), LP_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "UTF-8"));
	ck_assert_int_eq(api_text_check("\xc0\xaf", 2, "x", &err), LP_EINVAL);     /* overlong */
	ck_assert_int_eq(api_text_check("\xed\xa0\x80", 3, "x", &err), LP_EINVAL); /* surrogate */
	ck_assert_int_eq(api_text_check("\xf4\x90\x80\x80", 4, "x", &err),
	                 LP_EINVAL);                                           /* > 10FFFF */
	ck_assert_int_eq(api_text_check("\xe2\x82", 2, "x", &err), LP_EINVAL); /* cut */

	ck_assert_int_eq(api_json_parse(&doc, "{\"a\": \"b\"} \n", 12, &err), LP_OK);
	cJSON_Delete(doc);
	ck_assert_int_eq(api_json_parse(&doc, "{\"a\": \"b\"}xx", 12, &err), LP_EINVAL);
	ck_assert_ptr_null(doc);
	ck_assert_int_eq(api_json_parse(&doc, "{\"a\": \"b\"}{}", 12, &err), LP_EINVAL);
	ck_assert_int_eq(api_json_parse(&doc, "{\"a\": \"b\\u0000c\"}", 17, &err), LP_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "\\u0000"));
	/* an escaped backslash before u0000 is text, not a NUL */
	ck_assert_int_eq(api_json_parse(&doc, "{\"a\": \"b\\\\u0000\"}", 17, &err), LP_OK);
	ck_assert_str_eq(cJSON_GetObjectItem(doc, "a")->valuestring, "b\\u0000");
	cJSON_Delete(doc);
	ck_assert_int_eq(api_json_parse(&doc, "{\"a\": \"\xff\"}", 10, &err), LP_EINVAL);
	ck_assert_int_eq(api_json_parse(&doc, "{\"a\": 1}\0{}", 11, &err), LP_EINVAL);
	ck_assert_int_eq(api_json_parse(&doc, "{\"a\": ", 6, &err), LP_EINVAL);
}
END_TEST

START_TEST(test_target_decode)
{
	struct api_query_arg q[API_QUERY_ARGS];
	char *path = NULL, many[API_QUERY_ARGS * 4 + 16];
	lp_error err = {0};
	size_t n = 0, i;

	ck_assert_int_eq(
	    api_target_decode(&path, q, &n, "/api/deployments/a%2Db?revision=3&x&y=a+b%21", &err),
	    LP_OK);
	ck_assert_str_eq(path, "/api/deployments/a-b");
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(q[0].key, "revision");
	ck_assert_str_eq(q[0].value, "3");
	ck_assert_ptr_null(q[1].value);
	ck_assert_str_eq(q[2].value, "a b!");
	api_query_release(q, n);
	free(path);
	/* '+' is a space in a query only */
	ck_assert_int_eq(api_target_decode(&path, q, &n, "/a+b", &err), LP_OK);
	ck_assert_str_eq(path, "/a+b");
	free(path);
	ck_assert_int_eq(api_target_decode(&path, q, &n, "/api/deployments/a%00b", &err),
	                 LP_EINVAL);
	ck_assert_ptr_null(path);
	ck_assert_int_eq(api_target_decode(&path, q, &n, "/a%ff", &err), LP_EINVAL);
	ck_assert_int_eq(api_target_decode(&path, q, &n, "/a%4", &err), LP_EINVAL);
	ck_assert_int_eq(api_target_decode(&path, q, &n, "/a%zz", &err), LP_EINVAL);
	ck_assert_int_eq(api_target_decode(&path, q, &n, "/a?revision=1%00", &err), LP_EINVAL);
	ck_assert_ptr_null(path);
	ck_assert_int_eq(api_target_decode(&path, q, &n, "/a?k%C3=1", &err), LP_EINVAL);
	for (i = 0, many[0] = '/', many[1] = '?'; i <= API_QUERY_ARGS; i++)
		memcpy(many + 2 + i * 4, "a=1&", 4);
	many[2 + (API_QUERY_ARGS + 1) * 4 - 1] = '\0';
	ck_assert_int_eq(api_target_decode(&path, q, &n, many, &err), LP_EINVAL);
	ck_assert_ptr_null(path);
}
END_TEST

/* Issue 14.10: a site's revision requests past its burst wait for tokens; others do not. */
/*
 * The route table's own rule: a route naming a site (:id under /api/deployments/) that a user
 * calls carries API_SCOPE_SITE, so a route added without it fails here before any request.
 * Webhooks (no user, HMAC) are the one open site route.
 */
START_TEST(test_routes_site_scope)
{
	size_t i, site_routes = 0;

	for (i = 0; i < api_nroutes; i++) {
		const struct api_route *rt = &api_routes[i];
		int names_site = strstr(rt->pattern, "/api/deployments/:") != NULL;

		if (names_site && rt->auth != API_AUTH_NONE) {
			ck_assert_msg(rt->scope == API_SCOPE_SITE, "%s %s has no site scope",
			              rt->method, rt->pattern);
			site_routes++;
		}
		if (rt->scope == API_SCOPE_SITE)
			ck_assert_msg(rt->auth == API_AUTH_TOKEN, "%s %s: a scope needs a user",
			              rt->method, rt->pattern);
		if (names_site && rt->auth == API_AUTH_NONE)
			ck_assert_msg(rt->before_body != NULL && rt->after_body != NULL,
			              "%s %s: an open site route must prove itself (a signature)",
			              rt->method, rt->pattern);
		if (!strncmp(rt->pattern, "/api/users", 10))
			ck_assert_msg(rt->role == API_ROLE_ADMIN, "%s %s is not admin-only",
			              rt->method, rt->pattern);
	}
	ck_assert_uint_ge(site_routes, 12);
}
END_TEST

START_TEST(test_rate_buckets)
{
	struct api_rate *rt = NULL;
	int retry = 0, i;

	ck_assert_int_eq(api_rate_new(&rt, 3, 60), LP_OK); /* 3 at once, then one a second */
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(api_rate_take(rt, "site-a", 1000, &retry), LP_OK);
	ck_assert_int_eq(api_rate_take(rt, "site-a", 1000, &retry), LP_ERATE);
	ck_assert_int_eq(retry, 1);
	ck_assert_int_eq(api_rate_take(rt, "site-b", 1000, &retry), LP_OK); /* its own bucket */
	ck_assert_int_eq(api_rate_take(rt, "site-a", 1999, &retry), LP_ERATE);
	ck_assert_int_eq(api_rate_take(rt, "site-a", 2000, &retry), LP_OK);
	/* a token given back (no revision after all) is there again */
	api_rate_give(rt, "site-a", 2000);
	ck_assert_int_eq(api_rate_take(rt, "site-a", 2000, &retry), LP_OK);
	ck_assert_int_eq(api_rate_take(rt, "site-a", 2000, &retry), LP_ERATE);
	/* never above the burst */
	ck_assert_int_eq(api_rate_take(rt, "site-a", 1000000, &retry), LP_OK);
	ck_assert_int_eq(api_rate_take(rt, "site-a", 1000000, &retry), LP_OK);
	ck_assert_int_eq(api_rate_take(rt, "site-a", 1000000, &retry), LP_OK);
	ck_assert_int_eq(api_rate_take(rt, "site-a", 1000000, &retry), LP_ERATE);
	api_rate_free(rt);
	/* burst 0: no limit */
	ck_assert_int_eq(api_rate_new(&rt, 0, 1), LP_OK);
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(api_rate_take(rt, "site-a", 0, &retry), LP_OK);
	api_rate_free(rt);
}
END_TEST

/* Branch slugs: DNS-safe, capped, and never one host for two branches. */
START_TEST(test_preview_names)
{
	char a[LP_SITE_NAME_MAX + 1], b[LP_SITE_NAME_MAX + 1];
	char long_parent[LP_SITE_NAME_MAX + 1];
	lp_error err = {0};
	size_t i;

	ck_assert_int_eq(api_preview_branch_name(a, sizeof(a), "app", "staging", &err), LP_OK);
	ck_assert_str_eq(a, "app--staging");
	ck_assert_int_eq(api_preview_branch_name(a, sizeof(a), "app", "feature-1", &err), LP_OK);
	ck_assert_str_eq(a, "app--feature-1");
	/* lossy slugs carry a hash of the branch: these four read alike and stay apart */
	ck_assert_int_eq(api_preview_branch_name(a, sizeof(a), "app", "release/2.0", &err), LP_OK);
	ck_assert_int_eq(api_preview_branch_name(b, sizeof(b), "app", "release-2-0", &err), LP_OK);
	ck_assert_str_eq(b, "app--release-2-0");
	ck_assert(!strncmp(a, "app--release-2-0-", 17) && strlen(a) == 17 + 8);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(api_preview_branch_name(b, sizeof(b), "app", "Release/2.0", &err), LP_OK);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(api_preview_branch_name(b, sizeof(b), "app", "release_2.0", &err), LP_OK);
	ck_assert_str_ne(a, b);
	/* a permalink's or a PR preview's shape is never a branch's host */
	ck_assert_int_eq(api_preview_branch_name(a, sizeof(a), "app", "r5", &err), LP_OK);
	ck_assert(strcmp(a, "app--r5") && !strncmp(a, "app--r5-", 8));
	ck_assert_int_eq(api_preview_branch_name(a, sizeof(a), "app", "pr-5", &err), LP_OK);
	ck_assert(strcmp(a, "app--pr-5") && !strncmp(a, "app--pr-5-", 10));
	/* only symbols: the hash alone */
	ck_assert_int_eq(api_preview_branch_name(a, sizeof(a), "app", "__", &err), LP_OK);
	ck_assert_uint_eq(strlen(a), 5 + 8);
	/* long branches are cut to one DNS label, the hash kept */
	ck_assert_int_eq(api_preview_branch_name(a, sizeof(a), "app",
	                                         "a-very-long-branch-name-that-goes-on-and-on-"
	                                         "and-on-for-ever-and-ever",
	                                         &err),
	                 LP_OK);
	ck_assert_uint_le(strlen(a), LP_SITE_NAME_MAX);
	ck_assert_int_eq(lp_spec_check_name(a, &err), LP_OK);
	for (i = 0; i < 55; i++)
		long_parent[i] = 'p';
	long_parent[i] = '\0';
	ck_assert_int_eq(api_preview_branch_name(a, sizeof(a), long_parent, "x", &err), LP_ETOOBIG);
	ck_assert_int_eq(api_preview_pr_name(a, sizeof(a), "app", 12, &err), LP_OK);
	ck_assert_str_eq(a, "app--pr-12");
	ck_assert_int_eq(api_preview_pr_name(a, sizeof(a), long_parent, 123456789, &err),
	                 LP_ETOOBIG);
}
END_TEST

static Suite *api_units_suite(void)
{
	Suite *s = suite_create("api_units");
	TCase *tc = tcase_create("units");

	tcase_add_test(tc, test_slug_shape);
	tcase_add_test(tc, test_slug_valid);
	tcase_add_test(tc, test_listen_parse);
	tcase_add_test(tc, test_webhook_vector);
	tcase_add_test(tc, test_urldecode);
	tcase_add_test(tc, test_upload_digest);
	tcase_add_test(tc, test_upload_rejects);
	tcase_add_test(tc, test_head_check);
	tcase_add_test(tc, test_head_end);
	tcase_add_test(tc, test_text_and_json);
	tcase_add_test(tc, test_target_decode);
	tcase_add_test(tc, test_rate_buckets);
	tcase_add_test(tc, test_routes_site_scope);
	tcase_add_test(tc, test_preview_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lp_test_run(api_units_suite());
}
