/* check_core.c: unit tests for errors, capped buffers, config, fs and crypto helpers. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launchpad/buf.h"
#include "launchpad/config.h"
#include "launchpad/crypto.h"
#include "launchpad/error.h"
#include "launchpad/fs.h"
#include "tests/lib/testutil.h"

START_TEST(test_error_table)
{
	lp_error err = {0};

	ck_assert_int_eq(lp_error_http_status(LP_ENOTFOUND), 404);
	ck_assert_int_eq(lp_error_http_status(LP_ECONFLICT), 409);
	ck_assert_int_eq(lp_error_http_status(LP_ETOOBIG), 413);
	ck_assert_int_eq(lp_error_http_status(LP_EAUTH), 401);
	ck_assert_int_eq(lp_error_http_status(LP_EUNSUPPORTED), 415);
	ck_assert_int_eq(lp_error_http_status(-999), 500);
	ck_assert_str_eq(lp_strerror(LP_ENOTFOUND), "not found");
	ck_assert_int_eq(lp_error_set(&err, LP_EINVAL, "bad %d", 7), LP_EINVAL);
	ck_assert_str_eq(err.message, "bad 7");
	lp_error_wrap(&err, "parsing %s", "x.yaml");
	ck_assert_str_eq(err.message, "parsing x.yaml: bad 7");
	ck_assert_int_eq(err.code, LP_EINVAL);
	ck_assert_int_eq(lp_error_set(NULL, LP_EIO, "ignored"), LP_EIO);
}
END_TEST

START_TEST(test_buf_cap)
{
	lp_buf b;

	lp_buf_init(&b, 10);
	ck_assert_str_eq(lp_buf_cstr(&b), "");
	ck_assert_int_eq(lp_buf_puts(&b, "hello"), LP_OK);
	ck_assert_int_eq(lp_buf_printf(&b, "%d", 12345), LP_OK);
	ck_assert_str_eq(lp_buf_cstr(&b), "hello12345");
	ck_assert_int_eq(lp_buf_putc(&b, 'x'), LP_ETOOBIG);
	ck_assert_int_eq(lp_buf_printf(&b, "%s", "y"), LP_ETOOBIG);
	ck_assert_uint_eq(b.len, 10);
	ck_assert_str_eq(lp_buf_cstr(&b), "hello12345");
	lp_buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	lp_buf_release(&b);
	lp_buf_release(NULL);
}
END_TEST

START_TEST(test_config_precedence)
{
	char *argv[] = {"prog", "--data-dir", "/flag", "apply", "--workers=3", "-f", "x", NULL};
	lp_config *cfg = NULL;
	char **rest = NULL;
	int nrest = 0;
	lp_error err = {0};

	setenv("LAUNCHPAD_DATA_DIR", "/env", 1);
	setenv("LAUNCHPAD_INSTANCE", "envinst", 1);
	ck_assert_int_eq(lp_config_new(&cfg, &rest, &nrest, 7, argv, &err), LP_OK);
	ck_assert_str_eq(cfg->data_dir, "/flag");
	ck_assert_str_eq(cfg->instance, "envinst");
	ck_assert_str_eq(cfg->serve_image, "nginx:alpine");
	ck_assert_int_eq(cfg->workers, 3);
	ck_assert_int_eq(nrest, 3);
	ck_assert_str_eq(rest[0], "apply");
	ck_assert_str_eq(rest[2], "x");
	lp_config_rest_free(rest);
	lp_config_free(cfg);
	lp_config_free(NULL);
}
END_TEST

START_TEST(test_config_bad_value)
{
	char *argv[] = {"prog", "--workers", "many", NULL};
	lp_config *cfg = NULL;
	lp_error err = {0};

	unsetenv("LAUNCHPAD_DATA_DIR");
	ck_assert_int_eq(lp_config_new(&cfg, NULL, NULL, 3, argv, &err), LP_EINVAL);
	ck_assert_ptr_null(cfg);
	ck_assert_ptr_nonnull(strstr(err.message, "--workers"));
	setenv("LAUNCHPAD_LOG_FORMAT", "xml", 1);
	ck_assert_int_eq(lp_config_new(&cfg, NULL, NULL, 1, argv, &err), LP_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "LAUNCHPAD_LOG_FORMAT"));
	unsetenv("LAUNCHPAD_LOG_FORMAT");
}
END_TEST

START_TEST(test_fs_atomic_and_remove)
{
	char *dir = lp_test_mkdtemp("lp-core");
	char path[4096], *data = NULL;
	size_t len = 0;
	struct stat st;

	ck_assert_ptr_nonnull(dir);
	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	ck_assert_int_eq(lp_fs_mkdirs(path, 0755, NULL), LP_OK);
	ck_assert_int_eq(lp_fs_mkdirs(path, 0755, NULL), LP_OK);
	snprintf(path, sizeof(path), "%s/a/b/c/f.txt", dir);
	ck_assert_int_eq(lp_fs_write_atomic(path, "abc", 3, 0600, NULL), LP_OK);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(lp_fs_read_file(&data, &len, path, 3, NULL), LP_OK);
	ck_assert_str_eq(data, "abc");
	free(data);
	ck_assert_int_eq(lp_fs_read_file(&data, &len, path, 2, NULL), LP_ETOOBIG);
	/* a link inside the tree pointing outside must not be followed by the removal */
	snprintf(path, sizeof(path), "%s/a/b/outside", dir);
	ck_assert_int_eq(symlink(dir, path), 0);
	snprintf(path, sizeof(path), "%s/a", dir);
	ck_assert_int_eq(lp_fs_remove_tree(path, NULL), LP_OK);
	ck_assert_int_eq(lp_fs_exists(path), 0);
	ck_assert_int_eq(lp_fs_exists(dir), 1);
	ck_assert_int_eq(lp_fs_remove_tree(path, NULL), LP_OK);
	rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(test_crypto_vectors)
{
	char hex[LP_SHA256_HEX_LEN];
	const char *secret = "It's a Secret to Everybody";

	lp_crypto_sha256_hex(hex, "abc", 3);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ck_assert_int_eq(lp_crypto_hmac_sha256_hex(hex, secret, strlen(secret), "Hello, World!", 13),
	                 LP_OK);
	ck_assert_str_eq(hex, "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
	ck_assert(lp_crypto_equal("abc", 3, "abc", 3));
	ck_assert(!lp_crypto_equal("abc", 3, "abd", 3));
	ck_assert(!lp_crypto_equal("abc", 3, "ab", 2));
	ck_assert_int_eq(lp_crypto_random_hex(hex, 16), LP_OK);
	ck_assert_uint_eq(strlen(hex), 32);
}
END_TEST

static Suite *core_suite(void)
{
	Suite *s = suite_create("core");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_error_table);
	tcase_add_test(tc, test_buf_cap);
	tcase_add_test(tc, test_config_precedence);
	tcase_add_test(tc, test_config_bad_value);
	tcase_add_test(tc, test_fs_atomic_and_remove);
	tcase_add_test(tc, test_crypto_vectors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lp_test_run(core_suite());
}
