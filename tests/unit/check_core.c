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
#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "launchpad/layout.h"
#include "launchpad/names.h"
#include "launchpad/secrets.h"
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

/* Issue 13.16: only the platform's own hosts are reserved, and the admin decides which. */
START_TEST(test_config_reserved_names)
{
	char *defaults[] = {"prog", NULL};
	char *custom[] = {"prog",
	                  "--reserved-names",
	                  " api, status ,api,,",
	                  "--base-domain",
	                  "example.com",
	                  "--public-url",
	                  "https://launchpad.example.com/",
	                  NULL};
	char *bad[] = {"prog", "--reserved-names", "api,Not_A_Name", NULL};
	lp_config *cfg = NULL;
	lp_error err = {0};

	ck_assert_int_eq(lp_config_new(&cfg, NULL, NULL, 1, defaults, &err), LP_OK);
	ck_assert(lp_config_name_reserved(cfg, "api"));
	ck_assert(lp_config_name_reserved(cfg, "traefik"));
	ck_assert(!lp_config_name_reserved(cfg, "docs"));
	ck_assert(!lp_config_name_reserved(cfg, "status"));
	ck_assert(
	    !lp_config_name_reserved(cfg, "localhost")); /* http://localhost:8080 is no label */
	ck_assert_uint_eq(cfg->nreserved, 2);
	lp_config_free(cfg);

	/* trimmed, deduplicated, and the API's own host on the base domain is added */
	ck_assert_int_eq(lp_config_new(&cfg, NULL, NULL, 7, custom, &err), LP_OK);
	ck_assert(lp_config_name_reserved(cfg, "api"));
	ck_assert(lp_config_name_reserved(cfg, "status"));
	ck_assert(lp_config_name_reserved(cfg, "launchpad"));
	ck_assert(!lp_config_name_reserved(cfg, "traefik"));
	ck_assert_uint_eq(cfg->nreserved, 3);
	lp_config_free(cfg);

	/* an empty variable means unset (the default); an empty flag reserves nothing */
	setenv("LAUNCHPAD_RESERVED_NAMES", "", 1);
	ck_assert_int_eq(lp_config_new(&cfg, NULL, NULL, 1, defaults, &err), LP_OK);
	ck_assert(lp_config_name_reserved(cfg, "api"));
	lp_config_free(cfg);
	unsetenv("LAUNCHPAD_RESERVED_NAMES");
	{
		char *none[] = {"prog", "--reserved-names=", NULL};

		ck_assert_int_eq(lp_config_new(&cfg, NULL, NULL, 2, none, &err), LP_OK);
		ck_assert_uint_eq(cfg->nreserved, 0);
		ck_assert(!lp_config_name_reserved(cfg, "api"));
		lp_config_free(cfg);
	}

	ck_assert_int_eq(lp_config_new(&cfg, NULL, NULL, 3, bad, &err), LP_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "Not_A_Name"));
	ck_assert_ptr_null(cfg);
}
END_TEST

/* Issue 14: spec.build.image runs any image on the engine unless the admin's list admits it. */
START_TEST(test_config_build_images)
{
	char *defaults[] = {"prog", "--build-image", "launchpad-test/node:local", NULL};
	char *custom[] = {"prog", "--build-images", " node:*, python:3.12-slim,,node:*", NULL};
	char *any[] = {"prog", "--build-images=*", NULL};
	char *bad[][4] = {{"prog", "--build-images", "node:20,node|20", NULL},
	                  {"prog", "--build-images", "-x", NULL},
	                  {"prog", "--build-images", "no*de", NULL},
	                  {"prog", "--build-images", "**", NULL},
	                  {"prog", "--build-images", "a;b", NULL}};
	lp_config *cfg = NULL;
	lp_error err = {0};
	size_t i;

	/* the default: only the configured build image (and no image, which means it) */
	ck_assert_int_eq(lp_config_new(&cfg, NULL, NULL, 3, defaults, &err), LP_OK);
	ck_assert(lp_config_build_image_allowed(cfg, NULL));
	ck_assert(lp_config_build_image_allowed(cfg, ""));
	ck_assert(lp_config_build_image_allowed(cfg, "launchpad-test/node:local"));
	ck_assert(!lp_config_build_image_allowed(cfg, "node:20-alpine"));
	ck_assert(!lp_config_build_image_allowed(cfg, "launchpad-test/node:local2"));
	ck_assert(!lp_config_build_image_allowed(cfg, "launchpad-test/node"));
	ck_assert_uint_eq(cfg->nallowed_images, 0);
	lp_config_free(cfg);

	/* exact entries and prefixes, trimmed and deduplicated; --build-image stays allowed */
	ck_assert_int_eq(lp_config_new(&cfg, NULL, NULL, 3, custom, &err), LP_OK);
	ck_assert_uint_eq(cfg->nallowed_images, 2);
	ck_assert(lp_config_build_image_allowed(cfg, "node:20-alpine"));
	ck_assert(lp_config_build_image_allowed(cfg, "node:"));
	ck_assert(!lp_config_build_image_allowed(cfg, "node"));
	ck_assert(!lp_config_build_image_allowed(cfg, "nodeevil/x:1"));
	ck_assert(lp_config_build_image_allowed(cfg, "python:3.12-slim"));
	ck_assert(!lp_config_build_image_allowed(cfg, "python:3.12-slim-bookworm"));
	ck_assert(!lp_config_build_image_allowed(cfg, "python:3.12"));
	ck_assert(lp_config_build_image_allowed(cfg, cfg->build_image));
	ck_assert(!lp_config_build_image_allowed(cfg, "alpine:3"));
	lp_config_free(cfg);

	/* the variable, and "*" for every image */
	setenv("LAUNCHPAD_BUILD_IMAGES", "ghcr.io/acme/*", 1);
	ck_assert_int_eq(lp_config_new(&cfg, NULL, NULL, 1, defaults, &err), LP_OK);
	ck_assert(lp_config_build_image_allowed(cfg, "ghcr.io/acme/builder:1"));
	ck_assert(!lp_config_build_image_allowed(cfg, "ghcr.io/other/builder:1"));
	lp_config_free(cfg);
	unsetenv("LAUNCHPAD_BUILD_IMAGES");
	ck_assert_int_eq(lp_config_new(&cfg, NULL, NULL, 2, any, &err), LP_OK);
	ck_assert(lp_config_build_image_allowed(cfg, "anything/at:all"));
	lp_config_free(cfg);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(lp_config_new(&cfg, NULL, NULL, 3, bad[i], &err) == LP_EINVAL,
		              "%s accepted", bad[i][2]);
		ck_assert_ptr_null(cfg);
		ck_assert_msg(strstr(err.message, "--build-images: \"") != NULL, "%s", err.message);
	}
	ck_assert_ptr_nonnull(strstr(err.message, "\"a;b\""));
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
	ck_assert_int_eq(
	    lp_crypto_hmac_sha256_hex(hex, secret, strlen(secret), "Hello, World!", 13), LP_OK);
	ck_assert_str_eq(hex, "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
	ck_assert(lp_crypto_equal("abc", 3, "abc", 3));
	ck_assert(!lp_crypto_equal("abc", 3, "abd", 3));
	ck_assert(!lp_crypto_equal("abc", 3, "ab", 2));
	ck_assert_int_eq(lp_crypto_random_hex(hex, 16), LP_OK);
	ck_assert_uint_eq(strlen(hex), 32);
}
END_TEST

START_TEST(test_fmt_fails_instead_of_truncating)
{
	char small[8];

	ck_assert_int_eq(lp_fmt(small, sizeof(small), "%s", "1234567"), LP_OK);
	ck_assert_str_eq(small, "1234567");
	ck_assert_int_eq(lp_fmt(small, sizeof(small), "%s", "12345678"), LP_ETOOBIG);
	ck_assert_str_eq(small, "");
	ck_assert_int_eq(lp_fmt(small, 0, "x"), LP_ETOOBIG);
}
END_TEST

START_TEST(test_fmt_text_marks_the_cut)
{
	char small[8], tiny[3];
	lp_error err = {0};

	lp_fmt_text(small, sizeof(small), "%s", "1234567");
	ck_assert_str_eq(small, "1234567");
	lp_fmt_text(small, sizeof(small), "%s", "12345678");
	ck_assert_str_eq(small, "1234" LP_FMT_CUT);
	/* "é" is two bytes: the cut never keeps half of it. */
	lp_fmt_text(small, sizeof(small), "%s",
	            "123\xc3\xa9"
	            "5678");
	ck_assert_str_eq(small, "123" LP_FMT_CUT);
	lp_fmt_text(tiny, sizeof(tiny), "%s", "abc");
	ck_assert_str_eq(tiny, "ab");
	lp_fmt_text(tiny, 0, "x");

	/* Messages are human text: a long one is cut and marked, never refused. */
	lp_error_set(&err, LP_EINVAL, "%*s", (int)LP_ERROR_MESSAGE_MAX, "m");
	ck_assert_uint_eq(strlen(err.message), LP_ERROR_MESSAGE_MAX - 1);
	ck_assert_str_eq(err.message + LP_ERROR_MESSAGE_MAX - sizeof(LP_FMT_CUT), LP_FMT_CUT);
	lp_error_set(&err, LP_EINVAL, "detail");
	lp_error_wrap(&err, "%*s", (int)LP_ERROR_MESSAGE_MAX, "context");
	ck_assert_ptr_null(strstr(err.message, "detail"));
	ck_assert_str_eq(err.message + LP_ERROR_MESSAGE_MAX - sizeof(LP_FMT_CUT), LP_FMT_CUT);
	ck_assert_int_eq(err.code, LP_EINVAL);
}
END_TEST

START_TEST(test_layout_paths)
{
	char p[LP_FS_PATH_MAX], tiny[16], site[LP_LAYOUT_SITE_MAX];
	const lp_layout_site_entry *work = NULL, *git = NULL;
	size_t i;

	ck_assert_int_eq(lp_layout_db(p, sizeof(p), "/d"), LP_OK);
	ck_assert_str_eq(p, "/d/db/launchpad.db");
	ck_assert_int_eq(lp_layout_archive(p, sizeof(p), "/d", "ab", "tar.gz"), LP_OK);
	ck_assert_str_eq(p, "/d/uploads/sha256/ab.tar.gz");
	ck_assert_int_eq(lp_layout_log(p, sizeof(p), "/d", "blog", 3), LP_OK);
	ck_assert_str_eq(p, "/d/logs/blog/3.log");
	ck_assert_int_eq(lp_layout_work(p, sizeof(p), "/d", "blog", 3), LP_OK);
	ck_assert_str_eq(p, "/d/work/blog-3");
	ck_assert_int_eq(lp_layout_conf(p, sizeof(p), "/d", "blog"), LP_OK);
	ck_assert_str_eq(p, "/d/conf/blog.nginx.conf");
	ck_assert_int_eq(lp_layout_git_cache(p, sizeof(p), "/d", "blog"), LP_OK);
	ck_assert_str_eq(p, "/d/cache/git/blog.git");
	ck_assert_int_eq(lp_layout_site(tiny, sizeof(tiny), "/a/long/data/dir", "blog"),
	                 LP_ETOOBIG);
	ck_assert_str_eq(tiny, "");

	for (i = 0; i < lp_layout_nsite_entries; i++) {
		if (lp_layout_site_entries[i].numbered)
			work = &lp_layout_site_entries[i];
		if (lp_layout_site_entries[i].dir == LP_DIR_GIT_CACHE)
			git = &lp_layout_site_entries[i];
	}
	ck_assert_ptr_nonnull(work);
	ck_assert_ptr_nonnull(git);
	ck_assert_int_eq(lp_layout_entry_site(site, sizeof(site), git, "blog.git"), LP_OK);
	ck_assert_str_eq(site, "blog");
	ck_assert_int_eq(lp_layout_entry_site(site, sizeof(site), work, "app-v2-3"), LP_OK);
	ck_assert_str_eq(site, "app-v2");
	ck_assert_int_eq(lp_layout_entry_site(site, sizeof(site), work, "app-v2"), LP_ENOTFOUND);
	ck_assert_int_eq(lp_layout_entry_site(site, sizeof(site), git, ".tmp.git"), LP_ENOTFOUND);
	/* Deleting "app" must never touch the traces of "app-v2". */
	ck_assert(lp_layout_entry_is_site(work, "app-7", "app"));
	ck_assert(!lp_layout_entry_is_site(work, "app-v2-3", "app"));
	ck_assert(!lp_layout_entry_is_site(git, "app-v2.git", "app"));
}
END_TEST

START_TEST(test_names_and_instance)
{
	char *argv[] = {"t", "--instance", "Bad_Instance", NULL};
	char *argv_ok[] = {"t", "--instance", "e2e123", NULL};
	char f[LP_NAMES_MAX];
	lp_config *cfg = NULL;
	lp_error err = {0};

	ck_assert(lp_names_dns_label("blog-2", 63));
	ck_assert(!lp_names_dns_label("-blog", 63));
	ck_assert(!lp_names_dns_label("blog-", 63));
	ck_assert(!lp_names_dns_label("Blog", 63));
	ck_assert(!lp_names_dns_label("", 63));
	ck_assert(!lp_names_dns_label("abcdef", 5));
	ck_assert_int_eq(lp_names_label_filter(f, sizeof(f), LP_LABEL_INSTANCE, "x"), LP_OK);
	ck_assert_str_eq(f, "launchpad.instance=x");
	/* An instance id lands in label filters and names: it is validated like a name. */
	ck_assert_int_eq(lp_config_new(&cfg, NULL, NULL, 3, argv, &err), LP_EINVAL);
	ck_assert_msg(strstr(err.message, "--instance") != NULL, "%s", err.message);
	ck_assert_int_eq(lp_config_new(&cfg, NULL, NULL, 3, argv_ok, &err), LP_OK);
	ck_assert_str_eq(cfg->instance, "e2e123");
	lp_config_free(cfg);
}
END_TEST

START_TEST(test_password_hash)
{
	char a[LP_PASSWORD_HASH_MAX], b[LP_PASSWORD_HASH_MAX], bad[LP_PASSWORD_HASH_MAX];

	ck_assert_int_eq(lp_crypto_password_hash(a, "correct horse"), LP_OK);
	ck_assert_int_eq(lp_crypto_password_hash(b, "correct horse"), LP_OK);
	ck_assert_int_eq(strncmp(a, "scrypt$15$8$1$", 14), 0);
	ck_assert_str_ne(a, b); /* a fresh salt each time */
	ck_assert_ptr_null(strstr(a, "correct"));
	ck_assert_int_eq(lp_crypto_password_verify(a, "correct horse"), LP_OK);
	ck_assert_int_eq(lp_crypto_password_verify(b, "correct horse"), LP_OK);
	ck_assert_int_eq(lp_crypto_password_verify(a, "correct horsE"), LP_EAUTH);
	ck_assert_int_eq(lp_crypto_password_verify(a, ""), LP_EAUTH);
	ck_assert_int_eq(lp_crypto_password_verify(NULL, "correct horse"), LP_EAUTH);
	ck_assert_int_eq(lp_crypto_password_verify("", ""), LP_EAUTH);
	/* a changed salt or hash digit does not match; a malformed text never does */
	memcpy(bad, a, sizeof(bad));
	bad[15] = bad[15] == '0' ? '1' : '0';
	ck_assert_int_eq(lp_crypto_password_verify(bad, "correct horse"), LP_EAUTH);
	memcpy(bad, a, sizeof(bad));
	bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == '0' ? '1' : '0';
	ck_assert_int_eq(lp_crypto_password_verify(bad, "correct horse"), LP_EAUTH);
	ck_assert_int_eq(lp_crypto_password_verify("scrypt$30$8$1$00$00", "x"), LP_EAUTH);
	ck_assert_int_eq(lp_crypto_password_verify("plain", "plain"), LP_EAUTH);
}
END_TEST

START_TEST(test_keyring)
{
	char *dir = lp_test_mkdtemp("lp-keyring"), path[4096], fp1[LP_SHA256_HEX_LEN],
	     fp2[LP_SHA256_HEX_LEN];
	char *a = NULL, *b = NULL, *plain = NULL, *text = NULL;
	lp_keyring *k = NULL, *other = NULL;
	lp_error err = {0};
	struct stat sb;
	size_t len;

	ck_assert_ptr_nonnull(dir);
	LP_TEST_FMT(path, "%s/master.key", dir);
	ck_assert_int_eq(lp_keyring_load(&k, path, 0, &err), LP_ENOTFOUND);
	ck_assert_int_eq(lp_keyring_load(&k, path, 1, &err), LP_OK);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_eq(lp_keyring_current(k), 1);
	/* a fresh nonce each time; the value is nowhere in the text */
	ck_assert_int_eq(lp_keyring_seal(&a, k, "site-1/API_KEY", "hunter2-value", &err), LP_OK);
	ck_assert_int_eq(lp_keyring_seal(&b, k, "site-1/API_KEY", "hunter2-value", &err), LP_OK);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(strncmp(a, "lpsec1:1:", 9), 0);
	ck_assert_ptr_null(strstr(a, "hunter2"));
	ck_assert_int_eq(lp_keyring_open(&plain, k, "site-1/API_KEY", a, &err), LP_OK);
	ck_assert_str_eq(plain, "hunter2-value");
	free(plain);
	/* another site's (or variable's) associated data does not open it, nor a changed byte */
	ck_assert_int_eq(lp_keyring_open(&plain, k, "site-2/API_KEY", a, &err), LP_EAUTH);
	a[12] = a[12] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(lp_keyring_open(&plain, k, "site-1/API_KEY", a, &err), LP_EAUTH);
	ck_assert_int_eq(lp_keyring_open(&plain, k, "site-1/API_KEY", "lpsec1:1:!!", &err),
	                 LP_EINVAL);
	ck_assert_int_eq(lp_keyring_open(&plain, k, "site-1/API_KEY", "plain", &err), LP_EINVAL);
	/* fingerprints: stable for one value, another for another value */
	ck_assert_int_eq(lp_keyring_fingerprint(fp1, k, "site-1/API_KEY", "v"), LP_OK);
	ck_assert_int_eq(lp_keyring_fingerprint(fp2, k, "site-1/API_KEY", "v"), LP_OK);
	ck_assert_str_eq(fp1, fp2);
	ck_assert_int_eq(lp_keyring_fingerprint(fp2, k, "site-1/API_KEY", "w"), LP_OK);
	ck_assert_str_ne(fp1, fp2);

	/* rotation: a second keyring on the file sees the new key without being reloaded */
	ck_assert_int_eq(lp_keyring_load(&other, path, 0, &err), LP_OK);
	ck_assert_int_eq(lp_keyring_add_key(k, &err), LP_OK);
	free(a);
	ck_assert_int_eq(lp_keyring_seal(&a, other, "s/K", "after", &err), LP_OK);
	ck_assert_int_eq(lp_keyring_sealed_key(a), 2);
	ck_assert_int_eq(lp_keyring_open(&plain, other, "site-1/API_KEY", b, &err), LP_OK);
	free(plain);
	ck_assert_int_eq(lp_keyring_retire_old(k, &err), LP_OK);
	ck_assert_int_eq(lp_keyring_open(&plain, other, "site-1/API_KEY", b, &err), LP_ENOTFOUND);
	ck_assert_int_eq(lp_keyring_open(&plain, other, "s/K", a, &err), LP_OK);
	ck_assert_str_eq(plain, "after");
	free(plain);
	ck_assert_int_eq(lp_keyring_fingerprint(fp2, other, "site-1/API_KEY", "v"), LP_OK);
	ck_assert_str_eq(fp1, fp2); /* the fingerprint key is never rotated */
	ck_assert_int_eq(lp_fs_read_file(&text, &len, path, 1 << 16, &err), LP_OK);
	ck_assert_ptr_null(strstr(text, "key 1 "));
	ck_assert_ptr_nonnull(strstr(text, "key 2 "));
	free(text);
	lp_keyring_free(other);
	lp_keyring_free(k);

	/* a key file others can read is refused, and so is a malformed one */
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(lp_keyring_load(&k, path, 1, &err), LP_EUNSAFE);
	ck_assert_ptr_nonnull(strstr(err.message, "chmod 600"));
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_int_eq(lp_keyring_load(&k, path, 1, &err), LP_EUNSAFE);
	ck_assert_int_eq(lp_fs_write_atomic(path, "key 1 00\n", 9, 0600, &err), LP_OK);
	ck_assert_int_eq(lp_keyring_load(&k, path, 1, &err), LP_EINVAL);
	ck_assert_ptr_null(k);
	free(a);
	free(b);
	ck_assert_int_eq(lp_fs_remove_tree(dir, &err), LP_OK);
	free(dir);
}
END_TEST

static Suite *core_suite(void)
{
	Suite *s = suite_create("core");
	TCase *tc = tcase_create("core");

	TCase *slow = tcase_create("password");

	/* each scrypt is 32 MiB and ~0.1 s alone, several times that on a loaded machine */
	tcase_set_timeout(slow, 120);
	tcase_add_test(slow, test_password_hash);
	suite_add_tcase(s, slow);
	tcase_add_test(tc, test_error_table);
	tcase_add_test(tc, test_keyring);
	tcase_add_test(tc, test_buf_cap);
	tcase_add_test(tc, test_config_precedence);
	tcase_add_test(tc, test_config_reserved_names);
	tcase_add_test(tc, test_config_build_images);
	tcase_add_test(tc, test_config_bad_value);
	tcase_add_test(tc, test_fs_atomic_and_remove);
	tcase_add_test(tc, test_crypto_vectors);
	tcase_add_test(tc, test_fmt_fails_instead_of_truncating);
	tcase_add_test(tc, test_fmt_text_marks_the_cut);
	tcase_add_test(tc, test_layout_paths);
	tcase_add_test(tc, test_names_and_instance);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lp_test_run(core_suite());
}
