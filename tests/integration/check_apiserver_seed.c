/* check_apiserver_seed.c: the seed's API: GitHub and zip deployments, its optional fields. */
#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "launchpad/crypto.h"
#include "launchpad/fs.h"
#include "launchpad/store.h"
#include "tests/lib/api_server.h"
#include "tests/lib/archive_corpus.h"
#include "tests/lib/testutil.h"

/* A real zip of files {name, content}... built with libarchive. */
static char *make_zip(const char *dir, const char *name, const char *const *files, size_t *len)
{
	char path[4096], *data = NULL;
	struct archive *a = archive_write_new();
	struct archive_entry *e;
	size_t i;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	archive_write_set_format_zip(a);
	ck_assert_int_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (i = 0; files[i]; i += 2) {
		e = archive_entry_new();
		archive_entry_set_pathname(e, files[i]);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)strlen(files[i + 1]));
		ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
		archive_write_data(a, files[i + 1], strlen(files[i + 1]));
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	ck_assert_int_eq(lp_fs_read_file(&data, len, path, 1 << 20, NULL), LP_OK);
	free(data);
	return strdup(path);
}

static curl_mime *zip_form(CURL *c, const char *zip_path, const char *const *fields)
{
	curl_mime *m = curl_mime_init(c);
	curl_mimepart *p;
	size_t i;

	for (i = 0; fields && fields[i]; i += 2) {
		p = curl_mime_addpart(m);
		curl_mime_name(p, fields[i]);
		curl_mime_data(p, fields[i + 1], CURL_ZERO_TERMINATED);
	}
	if (zip_path) {
		p = curl_mime_addpart(m);
		curl_mime_name(p, "file");
		curl_mime_filedata(p, zip_path);
		curl_mime_type(p, "application/zip");
	}
	return m;
}

START_TEST(test_seed_github)
{
	struct lp_test_api s;
	struct lp_test_api_resp r;
	cJSON *o, *g;
	char want[512], path[256], slug[80], id[80];
	const cJSON *it;
	int found = 0;

	lp_test_api_start(&s, NULL);
	o = lp_test_api_create_github(&s, NULL);
	snprintf(id, sizeof(id), "%s", lp_test_api_jstr(o, "id"));
	snprintf(slug, sizeof(slug), "%s", lp_test_api_jstr(o, "slug"));
	ck_assert_int_eq((int)strlen(id), 36);
	ck_assert_ptr_nonnull(strchr(slug, '-'));
	ck_assert_str_eq(lp_test_api_jstr(o, "status"), "deploying");
	snprintf(want, sizeof(want), "http://%s.localhost", slug);
	ck_assert_str_eq(lp_test_api_jstr(o, "url"), want);
	snprintf(want, sizeof(want), "https://tunnel.example/api/webhooks/github/%s", id);
	ck_assert_str_eq(lp_test_api_jstr(o, "webhook_url"), want);
	ck_assert_int_eq((int)strlen(lp_test_api_jstr(o, "webhook_secret")), 64);
	ck_assert_str_eq(lp_test_api_jstr(o, "name"), "my-react-app");
	ck_assert_str_eq(lp_test_api_jstr(o, "source_type"), "github");
	ck_assert_str_eq(lp_test_api_jstr(o, "github_url"), "https://github.com/user/repo");
	ck_assert_str_eq(lp_test_api_jstr(o, "branch"), "main");
	ck_assert_str_eq(lp_test_api_jstr(o, "build_cmd"), "npm ci && npm run build");
	ck_assert_str_eq(lp_test_api_jstr(o, "output_dir"), "dist");
	ck_assert_str_eq(lp_test_api_jstr(cJSON_GetObjectItem(o, "env_vars"), "NODE_ENV"),
	                 "production");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(o, "auto_deploy")));
	ck_assert_ptr_nonnull(lp_test_api_jstr(o, "created_at"));
	ck_assert_ptr_nonnull(lp_test_api_jstr(o, "updated_at"));
	ck_assert_str_eq(lp_test_api_jstr(o, "phase"), "pending");
	ck_assert(lp_test_api_jnum(o, "generation") == 1 &&
	          lp_test_api_jnum(o, "desired_revision") == 1);

	/* :id is the id or the slug */
	g = lp_test_api_get_site(&s, id);
	ck_assert_str_eq(lp_test_api_jstr(g, "slug"), slug);
	cJSON_Delete(g);
	g = lp_test_api_get_site(&s, slug);
	ck_assert_str_eq(lp_test_api_jstr(g, "id"), id);
	cJSON_Delete(g);

	lp_test_api_http(&s, "GET", "/api/deployments", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(cJSON_IsArray(r.json));
	cJSON_ArrayForEach(it, r.json) found += !strcmp(lp_test_api_jstr(it, "id"), id);
	ck_assert_int_eq(found, 1);
	lp_test_api_resp_free(&r);

	snprintf(path, sizeof(path), "/api/deployments/%s/redeploy", id);
	lp_test_api_http(&s, "POST", path, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 202);
	ck_assert(lp_test_api_jnum(r.json, "desired_revision") == 2);
	ck_assert_str_eq(lp_test_api_jstr(r.json, "status"), "deploying");
	lp_test_api_resp_free(&r);

	/* the status follows the controller's phase */
	{
		lp_store *st = lp_test_api_store(&s);
		lp_store_status stt = {.site_id = id,
		                       .phase = LP_PHASE_LIVE,
		                       .observed_generation = 1,
		                       .current_revision = 2};
		ck_assert_int_eq(lp_store_status_put(NULL, st, &stt, NULL), LP_OK);
		g = lp_test_api_get_site(&s, slug);
		ck_assert_str_eq(lp_test_api_jstr(g, "status"), "live");
		ck_assert_str_eq(lp_test_api_jstr(g, "phase"), "live");
		cJSON_Delete(g);
		stt.phase = LP_PHASE_FAILED;
		ck_assert_int_eq(lp_store_status_put(NULL, st, &stt, NULL), LP_OK);
		g = lp_test_api_get_site(&s, slug);
		ck_assert_str_eq(lp_test_api_jstr(g, "status"), "failed");
		cJSON_Delete(g);
		lp_store_close(st);
	}

	snprintf(path, sizeof(path), "/api/deployments/%s", slug);
	lp_test_api_http(&s, "DELETE", path, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 202);
	ck_assert_str_eq(lp_test_api_jstr(r.json, "phase"), "deleting");
	/* issue 13.13: the answer says what is happening; GET keeps the seed's three words */
	ck_assert_str_eq(lp_test_api_jstr(r.json, "status"), "deleting");
	ck_assert_str_eq(lp_test_api_jstr(r.json, "result"), "deleting");
	ck_assert_ptr_nonnull(lp_test_api_jstr(r.json, "deletion_timestamp"));
	lp_test_api_resp_free(&r);
	lp_test_api_http(&s, "GET", path, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(lp_test_api_jstr(r.json, "status"), "deploying");
	ck_assert_str_eq(lp_test_api_jstr(r.json, "phase"), "deleting");
	lp_test_api_resp_free(&r);
	lp_test_api_http(&s, "GET", "/api/deployments/no-such-site", NULL, NULL, &r);
	lp_test_api_assert_error(&r, 404, "not_found");
	lp_test_api_resp_free(&r);
	cJSON_Delete(o);
	lp_test_api_stop(&s);
}
END_TEST

START_TEST(test_seed_zip)
{
	struct lp_test_api s;
	struct lp_test_api_resp r;
	const char *files[] = {"index.html", "<h1>hello</h1>\n", "css/site.css", "h1{}\n", NULL};
	const char *files2[] = {"index.html", "<h1>changed</h1>\n", NULL};
	const char *fields[] = {"name",       "My Zip Site", "source_type", "zip", "build_cmd", "",
	                        "output_dir", ".",           "env_vars",    "{}",  NULL};
	char *zip, *zip2, *data = NULL, digest[LP_SHA256_HEX_LEN], want[4096], path[256];
	size_t len = 0;
	CURL *c = curl_easy_init();
	curl_mime *m;
	struct stat sb;

	lp_test_api_start(&s, NULL);
	zip = make_zip(s.dir, "site.zip", files, &len);
	zip2 = make_zip(s.dir, "site2.zip", files2, &len);
	ck_assert_int_eq(lp_fs_read_file(&data, &len, zip, 1 << 20, NULL), LP_OK);
	lp_crypto_sha256_hex(digest, data, len);
	free(data);

	m = zip_form(c, zip, fields);
	lp_test_api_request(c, &s, "POST", "/api/deployments", NULL, NULL, 0, NULL, NULL, m, &r);
	curl_mime_free(m);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, lp_buf_cstr(&r.body));
	ck_assert_str_eq(lp_test_api_jstr(r.json, "source_type"), "zip");
	ck_assert_str_eq(lp_test_api_jstr(r.json, "name"), "My Zip Site");
	ck_assert_str_eq(lp_test_api_jstr(r.json, "output_dir"), ".");
	ck_assert_str_eq(lp_test_api_jstr(r.json, "build_cmd"), "");
	ck_assert_str_eq(lp_test_api_jstr(r.json, "status"), "deploying");
	snprintf(want, sizeof(want), "sha256:%s", digest);
	ck_assert_str_eq(lp_test_api_jstr(r.json, "archive_digest"), want);
	/* the upload is on disk, content-addressed, complete */
	snprintf(want, sizeof(want), "%s/uploads/sha256/%s.zip", s.dir, digest);
	ck_assert_int_eq(stat(want, &sb), 0);
	ck_assert_int_eq((int)sb.st_size, (int)len);
	snprintf(path, sizeof(path), "/api/deployments/%s/archive",
	         lp_test_api_jstr(r.json, "slug"));
	lp_test_api_resp_free(&r);

	/* a new archive is a new revision; the same again changes nothing */
	m = zip_form(c, zip2, NULL);
	lp_test_api_request(c, &s, "POST", path, NULL, NULL, 0, NULL, NULL, m, &r);
	curl_mime_free(m);
	ck_assert_msg(r.status == 202, "%ld %s", r.status, lp_buf_cstr(&r.body));
	ck_assert(lp_test_api_jnum(r.json, "desired_revision") == 2 &&
	          lp_test_api_jnum(r.json, "generation") == 2);
	lp_test_api_resp_free(&r);
	m = zip_form(c, zip2, NULL);
	lp_test_api_request(c, &s, "POST", path, NULL, NULL, 0, NULL, NULL, m, &r);
	curl_mime_free(m);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(lp_test_api_jstr(r.json, "result"), "unchanged");
	ck_assert(lp_test_api_jnum(r.json, "desired_revision") == 2);
	lp_test_api_resp_free(&r);

	/* a pre-built zip with its files in a folder: no build_cmd, output_dir names the folder */
	{
		const char *prebuilt[] = {"name", "Prebuilt",   "source_type", "zip", "build_cmd",
		                          "",     "output_dir", "public",      NULL};
		m = zip_form(c, zip, prebuilt);
		lp_test_api_request(c, &s, "POST", "/api/deployments", NULL, NULL, 0, NULL, NULL, m,
		                    &r);
		curl_mime_free(m);
		ck_assert_msg(r.status == 201, "%ld %s", r.status, lp_buf_cstr(&r.body));
		ck_assert_str_eq(lp_test_api_jstr(r.json, "output_dir"), "public");
		ck_assert_str_eq(lp_test_api_jstr(r.json, "build_cmd"), "");
		lp_test_api_resp_free(&r);
	}
	/* not an archive: refused by its magic bytes */
	m = zip_form(c, NULL, fields);
	{
		curl_mimepart *p = curl_mime_addpart(m);
		curl_mime_name(p, "file");
		curl_mime_filename(p, "site.zip");
		curl_mime_data(p, "<html>not a zip</html>", CURL_ZERO_TERMINATED);
	}
	lp_test_api_request(c, &s, "POST", "/api/deployments", NULL, NULL, 0, NULL, NULL, m, &r);
	curl_mime_free(m);
	lp_test_api_assert_error(&r, 415, "unsupported");
	lp_test_api_resp_free(&r);
	/* no file part */
	m = zip_form(c, NULL, fields);
	lp_test_api_request(c, &s, "POST", "/api/deployments", NULL, NULL, 0, NULL, NULL, m, &r);
	curl_mime_free(m);
	lp_test_api_assert_error(&r, 400, "invalid");
	lp_test_api_resp_free(&r);
	/* env_vars that is not a JSON object */
	{
		const char *bad[] = {"name", "x", "env_vars", "{not json", NULL};
		m = zip_form(c, zip, bad);
		lp_test_api_request(c, &s, "POST", "/api/deployments", NULL, NULL, 0, NULL, NULL, m,
		                    &r);
		curl_mime_free(m);
		lp_test_api_assert_error(&r, 400, "invalid");
		lp_test_api_resp_free(&r);
	}
	/* no temp files are left behind by any of that */
	{
		char cmd[4200];
		snprintf(cmd, sizeof(cmd), "test -z \"$(find '%s/uploads' -name '.upload-*')\"",
		         s.dir);
		ck_assert_int_eq(system(cmd), 0);
	}
	curl_easy_cleanup(c);
	free(zip);
	free(zip2);
	lp_test_api_stop(&s);
}
END_TEST

/* Post zip_path as a new zip site named name; r gets the answer. */
static void post_zip(CURL *c, struct lp_test_api *s, const char *zip_path, const char *name,
                     struct lp_test_api_resp *r)
{
	const char *fields[] = {"name", name, NULL};
	curl_mime *m = zip_form(c, zip_path, fields);

	lp_test_api_request(c, s, "POST", "/api/deployments", NULL, NULL, 0, NULL, NULL, m, r);
	curl_mime_free(m);
}

/* Issue 13.15: a bad archive is refused when it arrives, naming the entry; nothing is kept. */
START_TEST(test_upload_checked)
{
	struct lp_test_api s;
	struct lp_test_api_resp r;
	char zip[4200], cmd[4400];
	CURL *c = curl_easy_init();
	const char *msg;
	cJSON *list;

	lp_test_api_start(&s, NULL);
	snprintf(zip, sizeof(zip), "%s/bad.zip", s.dir);

	/* a path that climbs out of the site folder: 422 with the entry */
	{
		lp_corpus_raw e[] = {
		    {.name = "index.html", .data = "ok", .len = 2, .declared = -1},
		    {.name = "../escape.html", .data = "x", .len = 1, .declared = -1}};
		ck_assert_int_eq(lp_corpus_raw_zip(zip, e, 2), 0);
	}
	post_zip(c, &s, zip, "escape", &r);
	lp_test_api_assert_error(&r, 422, "unsafe");
	msg = lp_test_api_jstr(cJSON_GetObjectItem(r.json, "error"), "message");
	ck_assert_msg(msg && strstr(msg, "../escape.html"), "%s", lp_buf_cstr(&r.body));
	lp_test_api_resp_free(&r);

	/* a symbolic link: 422 */
	{
		lp_corpus_entry e[] = {{.name = "index.html", .data = "ok"},
		                       {.name = "link", .type = 'l', .target = "/etc/passwd"}};
		ck_assert_int_eq(lp_corpus_write(zip, LP_CORPUS_ZIP, e, 2), 0);
	}
	post_zip(c, &s, zip, "link", &r);
	lp_test_api_assert_error(&r, 422, "unsafe");
	msg = lp_test_api_jstr(cJSON_GetObjectItem(r.json, "error"), "message");
	ck_assert_msg(msg && strstr(msg, "link"), "%s", lp_buf_cstr(&r.body));
	lp_test_api_resp_free(&r);

	/* announced sizes above the unpacked cap (1 GiB): 413 before anything is inflated */
	ck_assert_int_eq(lp_corpus_zip_lying_size(zip, 1000, 0xF0000000u), 0);
	post_zip(c, &s, zip, "huge", &r);
	lp_test_api_assert_error(&r, 413, "too_large");
	lp_test_api_resp_free(&r);

	/* truncated: 400 "corrupt or truncated", never `entry "": entry has no name` */
	{
		lp_corpus_entry e[] = {{.name = "index.html",
		                        .data = "<h1>a page long enough to cut "
		                                "in the middle of its data</h1>"},
		                       {.name = "about.html", .data = "<h1>about</h1>"}};
		struct stat sb;

		ck_assert_int_eq(lp_corpus_write(zip, LP_CORPUS_ZIP, e, 2), 0);
		ck_assert_int_eq(stat(zip, &sb), 0);
		ck_assert_int_eq(lp_corpus_truncate(zip, (size_t)sb.st_size / 2), 0);
	}
	post_zip(c, &s, zip, "cut", &r);
	lp_test_api_assert_error(&r, 400, "invalid");
	msg = lp_test_api_jstr(cJSON_GetObjectItem(r.json, "error"), "message");
	ck_assert_msg(msg && strstr(msg, "corrupt or truncated") && !strstr(msg, "no name"), "%s",
	              lp_buf_cstr(&r.body));
	lp_test_api_resp_free(&r);

	/* none of them left a site, a stored archive or a temp file */
	lp_test_api_http(&s, "GET", "/api/deployments", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	list = r.json;
	ck_assert_int_eq(cJSON_GetArraySize(list), 0);
	lp_test_api_resp_free(&r);
	snprintf(cmd, sizeof(cmd), "test -z \"$(find '%s/uploads' -type f)\"", s.dir);
	ck_assert_int_eq(system(cmd), 0);

	/* and a good archive still goes through */
	{
		lp_corpus_entry e[] = {{.name = "site/index.html", .data = "<h1>ok</h1>"}};
		ck_assert_int_eq(lp_corpus_write(zip, LP_CORPUS_ZIP, e, 1), 0);
	}
	post_zip(c, &s, zip, "good", &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, lp_buf_cstr(&r.body));
	lp_test_api_resp_free(&r);
	curl_easy_cleanup(c);
	lp_test_api_stop(&s);
}
END_TEST

/* Finding 11 (and 10, seen under SANITIZE=1): the seed's optional fields are accepted. */
START_TEST(test_seed_compat)
{
	const char *files[] = {"index.html", "<h1>hi</h1>\n", NULL};
	const char *fields[] = {"name", "Env Zip", "env_vars", "{\"A\":\"b\"}", NULL};
	struct lp_test_api s;
	struct lp_test_api_resp r;
	char *zip, path[256];
	size_t len = 0;
	CURL *c = curl_easy_init();
	curl_mime *m;
	const cJSON *w, *it;
	int warned = 0;

	lp_test_api_start(&s, NULL);
	zip = make_zip(s.dir, "s.zip", files, &len);
	m = zip_form(c, zip, fields);
	lp_test_api_request(c, &s, "POST", "/api/deployments", NULL, NULL, 0, NULL, NULL, m, &r);
	curl_mime_free(m);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, lp_buf_cstr(&r.body));
	w = cJSON_GetObjectItemCaseSensitive(r.json, "warnings");
	ck_assert(cJSON_IsArray(w) && cJSON_GetArraySize(w) == 1);
	ck_assert_ptr_nonnull(strstr(cJSON_GetArrayItem(w, 0)->valuestring, "env_vars"));
	snprintf(path, sizeof(path), "/api/deployments/%s/events", lp_test_api_jstr(r.json, "id"));
	lp_test_api_resp_free(&r);
	lp_test_api_http(&s, "GET", path, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	cJSON_ArrayForEach(it, r.json)
	{
		if (lp_test_api_jstr(it, "reason") &&
		    !strcmp(lp_test_api_jstr(it, "reason"), "EnvVarsIgnored"))
			warned = 1;
	}
	ck_assert(warned);
	lp_test_api_resp_free(&r);
	/* auto_deploy as the seed's 0/1 column */
	lp_test_api_http(
	    &s, "POST", "/api/deployments", "application/json",
	    "{\"name\":\"one\",\"github_url\":\"https://github.com/a/b\",\"auto_deploy\":1}", &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, lp_buf_cstr(&r.body));
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "auto_deploy")));
	ck_assert_ptr_null(cJSON_GetObjectItem(r.json, "warnings"));
	lp_test_api_resp_free(&r);
	lp_test_api_http(
	    &s, "POST", "/api/deployments", "application/json",
	    "{\"name\":\"zero\",\"github_url\":\"https://github.com/a/b\",\"auto_deploy\":0}", &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, lp_buf_cstr(&r.body));
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "auto_deploy")));
	lp_test_api_resp_free(&r);
	lp_test_api_http(
	    &s, "POST", "/api/deployments", "application/json",
	    "{\"name\":\"two\",\"github_url\":\"https://github.com/a/b\",\"auto_deploy\":2}", &r);
	lp_test_api_assert_error(&r, 400, "invalid");
	lp_test_api_resp_free(&r);
	/* build_cmd without env_vars (qsort of nothing) */
	lp_test_api_http(
	    &s, "POST", "/api/deployments", "application/json",
	    "{\"name\":\"h\",\"github_url\":\"https://github.com/a/b\",\"build_cmd\":\"make\"}",
	    &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, lp_buf_cstr(&r.body));
	lp_test_api_resp_free(&r);
	/* a malformed body names where it broke */
	lp_test_api_http(&s, "POST", "/api/deployments", "application/json", "{\"name\": tru}", &r);
	lp_test_api_assert_error(&r, 400, "invalid");
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&r.body), "near \\\"tru}"));
	lp_test_api_resp_free(&r);
	curl_easy_cleanup(c);
	free(zip);
	lp_test_api_stop(&s);
}
END_TEST

/* The one detail of a refused request: its path and (part of) its message. */
static void expect_detail(const struct lp_test_api_resp *r, const char *path, const char *message)
{
	const cJSON *d = cJSON_GetArrayItem(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(r->json, "error"), "details"), 0);

	lp_test_api_assert_error(r, 400, "invalid");
	ck_assert_msg(d != NULL && lp_test_api_jstr(d, "path") &&
	                  !strcmp(lp_test_api_jstr(d, "path"), path) &&
	                  strstr(lp_test_api_jstr(d, "message"), message) != NULL,
	              "want %s: ...%s..., got %s", path, message, lp_buf_cstr(&r->body));
}

/*
 * Issue 14.6: what the controller would refuse is refused when it is sent, at its field: the
 * seed's JSON and multipart creates and a manifest all go through the spec's rules.
 */
START_TEST(test_refused_sources)
{
	static const struct {
		const char *body, *path, *message;
	} cases[] = {
	    {"{\"name\":\"x\",\"github_url\":\"https://exa%6dple.com/x\"}", "spec.source.git.url",
	     "%-escapes"},
	    {"{\"name\":\"x\",\"github_url\":\"https://$(id).example.com/x\"}",
	     "spec.source.git.url", "host must be a DNS name"},
	    {"{\"name\":\"x\",\"github_url\":\"https://github.com/a/b?ref=x\"}",
	     "spec.source.git.url", "query"},
	    {"{\"name\":\"x\",\"github_url\":\"https://github.com/a/b#x\"}", "spec.source.git.url",
	     "fragment"},
	    {"{\"name\":\"x\",\"github_url\":\"https://github.com/a/b\",\"branch\":\"main;id\"}",
	     "spec.source.git.branch", "must not contain ';'"},
	    {"{\"name\":\"x\",\"github_url\":\"https://github.com/a/b\",\"branch\":\"$(id)\"}",
	     "spec.source.git.branch", "must not contain '$'"},
	    {"{\"name\":\"x\",\"github_url\":\"https://github.com/a/b\",\"branch\":\"`id`\"}",
	     "spec.source.git.branch", "backtick"},
	    {"{\"name\":\"x\",\"github_url\":\"https://github.com/a/b\",\"build_cmd\":\"make\","
	     "\"output_dir\":\"dist; rm -rf /\"}",
	     "spec.build.outputDir", "must not contain ';'"},
	};
	const char *files[] = {"index.html", "<h1>hi</h1>\n", NULL};
	const char *fields[] = {"name", "z", "output_dir", "$(id)", NULL};
	struct lp_test_api s;
	struct lp_test_api_resp r;
	CURL *c = curl_easy_init();
	curl_mime *m;
	char body[2048], *zip;
	size_t i, len = 0;

	lp_test_api_start(&s, NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		lp_test_api_http(&s, "POST", "/api/deployments", "application/json", cases[i].body,
		                 &r);
		expect_detail(&r, cases[i].path, cases[i].message);
		lp_test_api_resp_free(&r);
	}
	/* the multipart create, the same rules */
	zip = make_zip(s.dir, "s.zip", files, &len);
	m = zip_form(c, zip, fields);
	lp_test_api_request(c, &s, "POST", "/api/deployments", NULL, NULL, 0, NULL, NULL, m, &r);
	curl_mime_free(m);
	expect_detail(&r, "spec.build.outputDir", "must not contain '$'");
	lp_test_api_resp_free(&r);
	/* a manifest: notFoundPage lands in nginx's syntax */
	LP_TEST_FMT(body,
	            "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  name: page\nspec:\n"
	            "  source:\n    git: {url: \"https://github.com/a/b\"}\n"
	            "  serve: {notFoundPage: \"x; } server { listen 81; } #\"}\n");
	lp_test_api_http(&s, "PUT", "/api/deployments/page", "application/yaml", body, &r);
	expect_detail(&r, "spec.serve.notFoundPage", "must not contain ';'");
	lp_test_api_resp_free(&r);
	/* nothing was created */
	lp_test_api_http(&s, "GET", "/api/deployments", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(r.json), 0);
	lp_test_api_resp_free(&r);
	curl_easy_cleanup(c);
	free(zip);
	lp_test_api_stop(&s);
}
END_TEST

static Suite *apiserver_seed_suite(void)
{
	Suite *s = suite_create("apiserver_seed");
	TCase *tc = tcase_create("api");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_seed_github);
	tcase_add_test(tc, test_seed_zip);
	tcase_add_test(tc, test_upload_checked);
	tcase_add_test(tc, test_seed_compat);
	tcase_add_test(tc, test_refused_sources);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = lp_test_run(apiserver_seed_suite());
	curl_global_cleanup();
	return rc;
}
