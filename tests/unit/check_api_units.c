/* check_api_units.c: the apiserver's pure parts: slugs, listen addresses, HMAC, urldecode, uploads.
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
	ck_assert_int_eq(api_upload_finish(&path, u, digest, NULL, &err), LP_OK);
	ck_assert_str_eq(digest, want);
	snprintf(expect_path, sizeof(expect_path), "%s/uploads/sha256/%s.zip", dir, want);
	ck_assert_str_eq(path, expect_path);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq((int)sb.st_size, (int)sizeof(data));
	api_upload_free(u);
	ck_assert_int_eq(count_files(dir), 1); /* no temp file left */
	free(path);
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
	ck_assert_int_eq(api_upload_finish(&path, u, digest, NULL, &err), LP_EUNSUPPORTED);
	api_upload_free(u);
	/* empty */
	ck_assert_int_eq(api_upload_new(&u, dir, 1 << 20, &err), LP_OK);
	ck_assert_int_eq(api_upload_finish(&path, u, digest, NULL, &err), LP_EINVAL);
	api_upload_free(u);
	/* over the cap: refused, and the partial file is gone after free */
	ck_assert_int_eq(api_upload_new(&u, dir, 5000, &err), LP_OK);
	ck_assert_int_eq(api_upload_write(u, big, sizeof(big), &err), LP_OK);
	ck_assert_int_eq(api_upload_write(u, big, sizeof(big), &err), LP_ETOOBIG);
	api_upload_free(u);
	/* gzip is accepted as tar.gz */
	ck_assert_int_eq(api_upload_new(&u, dir, 1 << 20, &err), LP_OK);
	ck_assert_int_eq(api_upload_write(u, "\x1f\x8b\x08\x00rest", 8, &err), LP_OK);
	ck_assert_int_eq(api_upload_finish(&path, u, digest, NULL, &err), LP_OK);
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
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lp_test_run(api_units_suite());
}
