/* check_apiserver.c: the real launchpad-apiserver binary driven over loopback HTTP with libcurl. */
#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "launchpad/buf.h"
#include "launchpad/crypto.h"
#include "launchpad/fs.h"
#include "launchpad/spec.h"
#include "launchpad/store.h"
#include "tests/lib/testutil.h"

/* The seed's GitHub example, verbatim. */
static const char seed_github_body[] = "{\n"
                                       "  \"name\": \"my-react-app\",\n"
                                       "  \"source_type\": \"github\",\n"
                                       "  \"github_url\": \"https://github.com/user/repo\",\n"
                                       "  \"branch\": \"main\",\n"
                                       "  \"build_cmd\": \"npm ci && npm run build\",\n"
                                       "  \"output_dir\": \"dist\",\n"
                                       "  \"env_vars\": { \"NODE_ENV\": \"production\" },\n"
                                       "  \"auto_deploy\": true\n"
                                       "}";

/* ---- the server under test ---- */

struct srv {
	pid_t pid;
	char *dir;
	unsigned port;
	char token[128];
	char base[64];
};

static void srv_start(struct srv *s, const char *const *extra)
{
	char *bin = lp_test_bin_path("launchpad-apiserver"), errlog[4096], tokpath[4096];
	const char *argv[32];
	int n = 0, i;
	FILE *f;

	memset(s, 0, sizeof(*s));
	s->dir = lp_test_mkdtemp("lp-api");
	ck_assert_ptr_nonnull(s->dir);
	snprintf(errlog, sizeof(errlog), "%s/apiserver.log", s->dir);
	argv[n++] = bin;
	argv[n++] = "--data-dir";
	argv[n++] = s->dir;
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--public-url";
	argv[n++] = "https://tunnel.example";
	for (i = 0; extra && extra[i] && n < 30; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	s->pid = fork();
	ck_assert_int_ge(s->pid, 0);
	if (s->pid == 0) {
		int fd = open(errlog, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	free(bin);
	/* the port is announced on stderr once the socket listens */
	for (i = 0; i < 200 && s->port == 0; i++) {
		char line[512];

		usleep(25000);
		if ((f = fopen(errlog, "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "listening on http://127.0.0.1:%u", &s->port) == 1)
				break;
		fclose(f);
	}
	ck_assert_msg(s->port != 0, "apiserver did not announce its port");
	snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%u", s->port);
	snprintf(tokpath, sizeof(tokpath), "%s/admin.token", s->dir);
	f = fopen(tokpath, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(s->token, sizeof(s->token), f));
	fclose(f);
	s->token[strcspn(s->token, "\n")] = '\0';
	ck_assert_int_eq((int)strlen(s->token), LP_STORE_TOKEN_LEN - 1);
	{
		struct stat sb;
		ck_assert_int_eq(stat(tokpath, &sb), 0);
		ck_assert_int_eq(sb.st_mode & 0777, 0600);
	}
}

static void srv_stop(struct srv *s)
{
	int status = 0;

	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, &status, 0);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		              "apiserver did not exit cleanly (status %d)", status);
	}
	lp_fs_remove_tree(s->dir, NULL);
	free(s->dir);
}

static lp_store *srv_store(struct srv *s)
{
	char path[4096];
	lp_store *st = NULL;

	snprintf(path, sizeof(path), "%s/db/launchpad.db", s->dir);
	ck_assert_int_eq(lp_store_open(&st, path, NULL), LP_OK);
	return st;
}

/* ---- HTTP ---- */

struct resp {
	long status;
	lp_buf body;
	char etag[64];
	char allow[128];
	char acao[128];
	cJSON *json;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	lp_buf *b = ud;

	return lp_buf_append(b, p, sz * n) == LP_OK ? sz * n : 0;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
	struct resp *r = ud;
	size_t len = sz * n;
	char line[512];

	snprintf(line, sizeof(line), "%.*s", (int)(len < 511 ? len : 511), p);
	line[strcspn(line, "\r\n")] = '\0';
	if (!strncasecmp(line, "ETag: ", 6))
		snprintf(r->etag, sizeof(r->etag), "%s", line + 6);
	if (!strncasecmp(line, "Allow: ", 7))
		snprintf(r->allow, sizeof(r->allow), "%s", line + 7);
	if (!strncasecmp(line, "Access-Control-Allow-Origin: ", 29))
		snprintf(r->acao, sizeof(r->acao), "%s", line + 29);
	return len;
}

static void resp_free(struct resp *r)
{
	lp_buf_release(&r->body);
	cJSON_Delete(r->json);
	memset(r, 0, sizeof(*r));
}

/*
 * One request. token NULL = the admin token, "" = none. headers: NULL-terminated extra headers.
 * mime (may be NULL) sends multipart. curl (may be NULL) reuses a handle.
 */
static long http_do(CURL *curl, struct srv *s, const char *method, const char *path,
                    const char *ctype, const void *body, size_t len, const char *token,
                    const char *const *headers, curl_mime *mime, struct resp *out)
{
	struct curl_slist *hl = NULL;
	char url[1024], h[512];
	int own = curl == NULL;
	CURLcode rc;
	size_t i;

	memset(out, 0, sizeof(*out));
	lp_buf_init(&out->body, 64 << 20);
	if (own)
		curl = curl_easy_init();
	else
		curl_easy_reset(curl);
	snprintf(url, sizeof(url), "%s%s", s->base, path);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out->body);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, out);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	if (token == NULL)
		token = s->token;
	if (*token) {
		snprintf(h, sizeof(h), "Authorization: Bearer %s", token);
		hl = curl_slist_append(hl, h);
	}
	if (ctype) {
		snprintf(h, sizeof(h), "Content-Type: %s", ctype);
		hl = curl_slist_append(hl, h);
	}
	hl = curl_slist_append(hl, "Expect:");
	for (i = 0; headers && headers[i]; i++)
		hl = curl_slist_append(hl, headers[i]);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hl);
	if (mime)
		curl_easy_setopt(curl, CURLOPT_MIMEPOST, mime);
	else if (body) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	rc = curl_easy_perform(curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
	else
		out->status = -(long)rc;
	curl_slist_free_all(hl);
	if (own)
		curl_easy_cleanup(curl);
	out->json = cJSON_ParseWithLength(lp_buf_cstr(&out->body), out->body.len);
	return out->status;
}

static long http(struct srv *s, const char *method, const char *path, const char *ctype,
                 const char *body, struct resp *out)
{
	return http_do(NULL, s, method, path, ctype, body, body ? strlen(body) : 0, NULL, NULL,
	               NULL, out);
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* The error body's code and that details is an array. */
static void assert_error(const struct resp *r, long status, const char *code)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(r->json, "error");

	ck_assert_msg(r->status == status, "status %ld, want %ld: %s", r->status, status,
	              lp_buf_cstr(&r->body));
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(jstr(e, "code"), code);
	ck_assert_ptr_nonnull(jstr(e, "message"));
	ck_assert(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(e, "details")));
}

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

/* Create the seed's GitHub deployment; returns its JSON (caller deletes). */
static cJSON *create_github(struct srv *s, const char *body)
{
	struct resp r;
	cJSON *o;

	http(s, "POST", "/api/deployments", "application/json", body ? body : seed_github_body, &r);
	ck_assert_msg(r.status == 201, "create: %ld %s", r.status, lp_buf_cstr(&r.body));
	o = r.json;
	r.json = NULL;
	resp_free(&r);
	return o;
}

static cJSON *get_site(struct srv *s, const char *id)
{
	char path[256];
	struct resp r;
	cJSON *o;

	snprintf(path, sizeof(path), "/api/deployments/%s", id);
	http(s, "GET", path, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	o = r.json;
	r.json = NULL;
	resp_free(&r);
	return o;
}

/* ---- tests ---- */

START_TEST(test_seed_github)
{
	struct srv s;
	struct resp r;
	cJSON *o, *g;
	char want[512], path[256], slug[80], id[80];
	const cJSON *it;
	int found = 0;

	srv_start(&s, NULL);
	o = create_github(&s, NULL);
	snprintf(id, sizeof(id), "%s", jstr(o, "id"));
	snprintf(slug, sizeof(slug), "%s", jstr(o, "slug"));
	ck_assert_int_eq((int)strlen(id), 36);
	ck_assert_ptr_nonnull(strchr(slug, '-'));
	ck_assert_str_eq(jstr(o, "status"), "deploying");
	snprintf(want, sizeof(want), "http://%s.localhost", slug);
	ck_assert_str_eq(jstr(o, "url"), want);
	snprintf(want, sizeof(want), "https://tunnel.example/api/webhooks/github/%s", id);
	ck_assert_str_eq(jstr(o, "webhook_url"), want);
	ck_assert_int_eq((int)strlen(jstr(o, "webhook_secret")), 64);
	ck_assert_str_eq(jstr(o, "name"), "my-react-app");
	ck_assert_str_eq(jstr(o, "source_type"), "github");
	ck_assert_str_eq(jstr(o, "github_url"), "https://github.com/user/repo");
	ck_assert_str_eq(jstr(o, "branch"), "main");
	ck_assert_str_eq(jstr(o, "build_cmd"), "npm ci && npm run build");
	ck_assert_str_eq(jstr(o, "output_dir"), "dist");
	ck_assert_str_eq(jstr(cJSON_GetObjectItem(o, "env_vars"), "NODE_ENV"), "production");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(o, "auto_deploy")));
	ck_assert_ptr_nonnull(jstr(o, "created_at"));
	ck_assert_ptr_nonnull(jstr(o, "updated_at"));
	ck_assert_str_eq(jstr(o, "phase"), "pending");
	ck_assert(jnum(o, "generation") == 1 && jnum(o, "desired_revision") == 1);

	/* :id is the id or the slug */
	g = get_site(&s, id);
	ck_assert_str_eq(jstr(g, "slug"), slug);
	cJSON_Delete(g);
	g = get_site(&s, slug);
	ck_assert_str_eq(jstr(g, "id"), id);
	cJSON_Delete(g);

	http(&s, "GET", "/api/deployments", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(cJSON_IsArray(r.json));
	cJSON_ArrayForEach(it, r.json) found += !strcmp(jstr(it, "id"), id);
	ck_assert_int_eq(found, 1);
	resp_free(&r);

	snprintf(path, sizeof(path), "/api/deployments/%s/redeploy", id);
	http(&s, "POST", path, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 202);
	ck_assert(jnum(r.json, "desired_revision") == 2);
	ck_assert_str_eq(jstr(r.json, "status"), "deploying");
	resp_free(&r);

	/* the status follows the controller's phase */
	{
		lp_store *st = srv_store(&s);
		lp_store_status stt = {.site_id = id,
		                       .phase = LP_PHASE_LIVE,
		                       .observed_generation = 1,
		                       .current_revision = 2};
		ck_assert_int_eq(lp_store_status_put(NULL, st, &stt, NULL), LP_OK);
		g = get_site(&s, slug);
		ck_assert_str_eq(jstr(g, "status"), "live");
		ck_assert_str_eq(jstr(g, "phase"), "live");
		cJSON_Delete(g);
		stt.phase = LP_PHASE_FAILED;
		ck_assert_int_eq(lp_store_status_put(NULL, st, &stt, NULL), LP_OK);
		g = get_site(&s, slug);
		ck_assert_str_eq(jstr(g, "status"), "failed");
		cJSON_Delete(g);
		lp_store_close(st);
	}

	snprintf(path, sizeof(path), "/api/deployments/%s", slug);
	http(&s, "DELETE", path, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 202);
	ck_assert_str_eq(jstr(r.json, "phase"), "deleting");
	ck_assert_ptr_nonnull(jstr(r.json, "deletion_timestamp"));
	resp_free(&r);
	http(&s, "GET", "/api/deployments/no-such-site", NULL, NULL, &r);
	assert_error(&r, 404, "not_found");
	resp_free(&r);
	cJSON_Delete(o);
	srv_stop(&s);
}
END_TEST

START_TEST(test_seed_zip)
{
	struct srv s;
	struct resp r;
	const char *files[] = {"index.html", "<h1>hello</h1>\n", "css/site.css", "h1{}\n", NULL};
	const char *files2[] = {"index.html", "<h1>changed</h1>\n", NULL};
	const char *fields[] = {"name",       "My Zip Site", "source_type", "zip", "build_cmd", "",
	                        "output_dir", ".",           "env_vars",    "{}",  NULL};
	char *zip, *zip2, *data = NULL, digest[LP_SHA256_HEX_LEN], want[4096], path[256];
	size_t len = 0;
	CURL *c = curl_easy_init();
	curl_mime *m;
	struct stat sb;

	srv_start(&s, NULL);
	zip = make_zip(s.dir, "site.zip", files, &len);
	zip2 = make_zip(s.dir, "site2.zip", files2, &len);
	ck_assert_int_eq(lp_fs_read_file(&data, &len, zip, 1 << 20, NULL), LP_OK);
	lp_crypto_sha256_hex(digest, data, len);
	free(data);

	m = zip_form(c, zip, fields);
	http_do(c, &s, "POST", "/api/deployments", NULL, NULL, 0, NULL, NULL, m, &r);
	curl_mime_free(m);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, lp_buf_cstr(&r.body));
	ck_assert_str_eq(jstr(r.json, "source_type"), "zip");
	ck_assert_str_eq(jstr(r.json, "name"), "My Zip Site");
	ck_assert_str_eq(jstr(r.json, "output_dir"), ".");
	ck_assert_str_eq(jstr(r.json, "build_cmd"), "");
	ck_assert_str_eq(jstr(r.json, "status"), "deploying");
	snprintf(want, sizeof(want), "sha256:%s", digest);
	ck_assert_str_eq(jstr(r.json, "archive_digest"), want);
	/* the upload is on disk, content-addressed, complete */
	snprintf(want, sizeof(want), "%s/uploads/sha256/%s.zip", s.dir, digest);
	ck_assert_int_eq(stat(want, &sb), 0);
	ck_assert_int_eq((int)sb.st_size, (int)len);
	snprintf(path, sizeof(path), "/api/deployments/%s/archive", jstr(r.json, "slug"));
	resp_free(&r);

	/* a new archive is a new revision; the same again changes nothing */
	m = zip_form(c, zip2, NULL);
	http_do(c, &s, "POST", path, NULL, NULL, 0, NULL, NULL, m, &r);
	curl_mime_free(m);
	ck_assert_msg(r.status == 202, "%ld %s", r.status, lp_buf_cstr(&r.body));
	ck_assert(jnum(r.json, "desired_revision") == 2 && jnum(r.json, "generation") == 2);
	resp_free(&r);
	m = zip_form(c, zip2, NULL);
	http_do(c, &s, "POST", path, NULL, NULL, 0, NULL, NULL, m, &r);
	curl_mime_free(m);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(jstr(r.json, "result"), "unchanged");
	ck_assert(jnum(r.json, "desired_revision") == 2);
	resp_free(&r);

	/* a pre-built zip with its files in a folder: no build_cmd, output_dir names the folder */
	{
		const char *prebuilt[] = {"name", "Prebuilt",   "source_type", "zip", "build_cmd",
		                          "",     "output_dir", "public",      NULL};
		m = zip_form(c, zip, prebuilt);
		http_do(c, &s, "POST", "/api/deployments", NULL, NULL, 0, NULL, NULL, m, &r);
		curl_mime_free(m);
		ck_assert_msg(r.status == 201, "%ld %s", r.status, lp_buf_cstr(&r.body));
		ck_assert_str_eq(jstr(r.json, "output_dir"), "public");
		ck_assert_str_eq(jstr(r.json, "build_cmd"), "");
		resp_free(&r);
	}
	/* not an archive: refused by its magic bytes */
	m = zip_form(c, NULL, fields);
	{
		curl_mimepart *p = curl_mime_addpart(m);
		curl_mime_name(p, "file");
		curl_mime_filename(p, "site.zip");
		curl_mime_data(p, "<html>not a zip</html>", CURL_ZERO_TERMINATED);
	}
	http_do(c, &s, "POST", "/api/deployments", NULL, NULL, 0, NULL, NULL, m, &r);
	curl_mime_free(m);
	assert_error(&r, 415, "unsupported");
	resp_free(&r);
	/* no file part */
	m = zip_form(c, NULL, fields);
	http_do(c, &s, "POST", "/api/deployments", NULL, NULL, 0, NULL, NULL, m, &r);
	curl_mime_free(m);
	assert_error(&r, 400, "invalid");
	resp_free(&r);
	/* env_vars that is not a JSON object */
	{
		const char *bad[] = {"name", "x", "env_vars", "{not json", NULL};
		m = zip_form(c, zip, bad);
		http_do(c, &s, "POST", "/api/deployments", NULL, NULL, 0, NULL, NULL, m, &r);
		curl_mime_free(m);
		assert_error(&r, 400, "invalid");
		resp_free(&r);
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
	srv_stop(&s);
}
END_TEST

static long run_token_cmd(struct srv *s, const char *args, char *out, size_t outlen)
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
	struct srv s;
	struct resp r;
	char out[4096], tok[128];
	long id;

	srv_start(&s, NULL);
	http_do(NULL, &s, "GET", "/api/deployments", NULL, NULL, 0, "", NULL, NULL, &r);
	assert_error(&r, 401, "unauthorized");
	resp_free(&r);
	http_do(NULL, &s, "GET", "/api/deployments", NULL, NULL, 0, "lp_0000", NULL, NULL, &r);
	assert_error(&r, 401, "unauthorized");
	resp_free(&r);
	http_do(NULL, &s, "POST", "/api/deployments", "application/json", seed_github_body,
	        strlen(seed_github_body), "", NULL, NULL, &r);
	assert_error(&r, 401, "unauthorized");
	resp_free(&r);
	/* nothing was created by the refused request */
	http(&s, "GET", "/api/deployments", NULL, NULL, &r);
	ck_assert_int_eq(cJSON_GetArraySize(r.json), 0);
	resp_free(&r);
	/* open endpoints */
	http_do(NULL, &s, "GET", "/healthz", NULL, NULL, 0, "", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	http_do(NULL, &s, "GET", "/readyz", NULL, NULL, 0, "", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	http_do(NULL, &s, "GET", "/metrics", NULL, NULL, 0, "", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);

	/* token subcommands work on the store directly */
	ck_assert_int_eq(run_token_cmd(&s, "create ci", out, sizeof(out)), 0);
	ck_assert_int_eq(sscanf(out, "%127s", tok), 1);
	ck_assert_int_eq(strncmp(tok, "lp_", 3), 0);
	http_do(NULL, &s, "GET", "/api/deployments", NULL, NULL, 0, tok, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	ck_assert_int_eq(run_token_cmd(&s, "list", out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "admin"));
	ck_assert_ptr_nonnull(strstr(out, "ci"));
	ck_assert_ptr_null(strstr(out, tok)); /* secrets are never listed */
	id = 2;
	snprintf(out, sizeof(out), "revoke %ld", id);
	ck_assert_int_eq(run_token_cmd(&s, out, out, sizeof(out)), 0);
	http_do(NULL, &s, "GET", "/api/deployments", NULL, NULL, 0, tok, NULL, NULL, &r);
	assert_error(&r, 401, "unauthorized");
	resp_free(&r);
	ck_assert_int_ne(run_token_cmd(&s, "revoke 999", out, sizeof(out)), 0);
	srv_stop(&s);
}
END_TEST

START_TEST(test_metrics_auth)
{
	const char *extra[] = {"--metrics-auth", NULL};
	struct srv s;
	struct resp r;

	srv_start(&s, extra);
	http_do(NULL, &s, "GET", "/metrics", NULL, NULL, 0, "", NULL, NULL, &r);
	assert_error(&r, 401, "unauthorized");
	resp_free(&r);
	http(&s, "GET", "/metrics", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&r.body), "launchpad_http_requests_total{"));
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&r.body), "status=\"401\"} 1"));
	resp_free(&r);
	srv_stop(&s);
}
END_TEST

START_TEST(test_errors)
{
	const char *extra[] = {"--upload-max-mb", "1", NULL};
	struct srv s;
	struct resp r;
	const cJSON *d;
	char *big;
	CURL *c = curl_easy_init();
	curl_mime *m;
	curl_mimepart *p;

	srv_start(&s, extra);
	http(&s, "POST", "/api/deployments", "application/json", "{\"name\": \"x\",", &r);
	assert_error(&r, 400, "invalid");
	resp_free(&r);
	http(&s, "POST", "/api/deployments", "application/json", "{\"name\": 5}", &r);
	assert_error(&r, 400, "invalid");
	resp_free(&r);
	/* a bad seed field reports where */
	http(&s, "POST", "/api/deployments", "application/json",
	     "{\"name\":\"x\",\"github_url\":\"ftp://example.com/r\"}", &r);
	assert_error(&r, 400, "invalid");
	d = cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "error"), "details");
	ck_assert_int_ge(cJSON_GetArraySize(d), 1);
	ck_assert_ptr_nonnull(jstr(cJSON_GetArrayItem(d, 0), "path"));
	resp_free(&r);
	http(&s, "POST", "/api/deployments", "text/plain", "hello", &r);
	assert_error(&r, 415, "unsupported");
	resp_free(&r);

	/* YAML: every error, with its line and column */
	http(&s, "PUT", "/api/deployments/bad-yaml", "application/yaml",
	     "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  name: bad-yaml\nspec:\n"
	     "  source:\n    git: {url: https://github.com/a/b}\n  revisionHistoryLimit: 0\n"
	     "  autoDeploy: maybe\n",
	     &r);
	assert_error(&r, 400, "invalid");
	d = cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "error"), "details");
	ck_assert_int_eq(cJSON_GetArraySize(d), 2);
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(d, 0), "path"), "spec.revisionHistoryLimit");
	ck_assert(jnum(cJSON_GetArrayItem(d, 0), "line") == 8);
	ck_assert(jnum(cJSON_GetArrayItem(d, 0), "column") > 0);
	ck_assert(jnum(cJSON_GetArrayItem(d, 1), "line") == 9);
	resp_free(&r);
	http(&s, "PUT", "/api/deployments/bad-yaml", "application/yaml", "a: [1, 2\n", &r);
	assert_error(&r, 400, "invalid");
	d = cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "error"), "details");
	ck_assert(jnum(cJSON_GetArrayItem(d, 0), "line") >= 1);
	resp_free(&r);
	http(&s, "PUT", "/api/deployments/bad-yaml", "application/json", "{\"apiVersion\": ", &r);
	assert_error(&r, 400, "invalid");
	resp_free(&r);

	/* multipart with a boundary that never comes */
	{
		const char *hdr[] = {"Content-Type: multipart/form-data; boundary=XyZ", NULL};
		const char body[] =
		    "--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n"
		    "abc\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
		    "filename=\"a.zip\"\r\n\r\nPK\x03\x04trunc";
		http_do(c, &s, "POST", "/api/deployments", NULL, body, sizeof(body) - 1, NULL, hdr,
		        NULL, &r);
		assert_error(&r, 400, "invalid");
		resp_free(&r);
	}
	{
		const char *hdr[] = {"Content-Type: multipart/form-data", NULL};
		http_do(c, &s, "POST", "/api/deployments", NULL, "x", 1, NULL, hdr, NULL, &r);
		assert_error(&r, 400, "invalid");
		resp_free(&r);
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
	http_do(c, &s, "POST", "/api/deployments", NULL, NULL, 0, NULL, NULL, m, &r);
	curl_mime_free(m);
	assert_error(&r, 413, "too_large");
	resp_free(&r);
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
		http_do(c, &s, "POST", "/api/deployments", NULL, body, (size_t)n, NULL, hdr, NULL,
		        &r);
		assert_error(&r, 413, "too_large");
		resp_free(&r);
		free(body);
	}
	http_do(c, &s, "PUT", "/api/deployments/x", "application/yaml", big, 2 << 20, NULL, NULL,
	        NULL, &r);
	assert_error(&r, 413, "too_large");
	resp_free(&r);
	free(big);

	http(&s, "GET", "/api/nothing-here", NULL, NULL, &r);
	assert_error(&r, 404, "not_found");
	resp_free(&r);
	http(&s, "PATCH", "/api/deployments/x", NULL, NULL, &r);
	assert_error(&r, 405, "method_not_allowed");
	ck_assert_ptr_nonnull(strstr(r.allow, "GET"));
	ck_assert_ptr_nonnull(strstr(r.allow, "PUT"));
	ck_assert_ptr_nonnull(strstr(r.allow, "DELETE"));
	resp_free(&r);
	http(&s, "DELETE", "/api/deployments", NULL, NULL, &r);
	assert_error(&r, 405, "method_not_allowed");
	resp_free(&r);
	curl_easy_cleanup(c);
	srv_stop(&s);
}
END_TEST

static const char manifest_fmt[] = "apiVersion: launchpad.dev/v1\n"
                                   "kind: Site\n"
                                   "metadata:\n"
                                   "  name: %s\n"
                                   "spec:\n"
                                   "  source:\n"
                                   "    git: {url: https://github.com/user/repo, branch: main}\n"
                                   "  build:\n"
                                   "    command: npm run build\n"
                                   "    env: {COUNTER: \"%d\"}\n"
                                   "  autoDeploy: true\n";

static long put_manifest(CURL *c, struct srv *s, const char *name, int counter,
                         const char *if_match, const char *query, struct resp *r)
{
	char body[2048], path[256], h[128];
	const char *hdr[] = {h, NULL};

	snprintf(body, sizeof(body), manifest_fmt, name, counter);
	snprintf(path, sizeof(path), "/api/deployments/%s%s", name, query ? query : "");
	snprintf(h, sizeof(h), "If-Match: %s", if_match ? if_match : "");
	return http_do(c, s, "PUT", path, "application/yaml", body, strlen(body), NULL,
	               if_match ? hdr : NULL, NULL, r);
}

START_TEST(test_apply)
{
	struct srv s;
	struct resp r;
	char etag[64];
	cJSON *g;

	srv_start(&s, NULL);
	put_manifest(NULL, &s, "blog", 1, NULL, "?dryRun=1", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(jstr(r.json, "result"), "created");
	resp_free(&r);
	http(&s, "GET", "/api/deployments/blog", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 404); /* the dry run wrote nothing */
	resp_free(&r);

	put_manifest(NULL, &s, "blog", 1, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 201);
	ck_assert_str_eq(jstr(r.json, "result"), "created");
	ck_assert_str_eq(jstr(r.json, "slug"), "blog");
	ck_assert_str_eq(r.etag, "\"1\"");
	resp_free(&r);
	put_manifest(NULL, &s, "blog", 1, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(jstr(r.json, "result"), "unchanged");
	ck_assert(jnum(r.json, "generation") == 1 && jnum(r.json, "resource_version") == 1 &&
	          jnum(r.json, "desired_revision") == 1);
	snprintf(etag, sizeof(etag), "%s", r.etag);
	resp_free(&r);
	put_manifest(NULL, &s, "blog", 2, NULL, "?dryRun=true", &r);
	ck_assert_str_eq(jstr(r.json, "result"), "configured");
	resp_free(&r);
	g = get_site(&s, "blog");
	ck_assert(jnum(g, "generation") == 1);
	cJSON_Delete(g);
	put_manifest(NULL, &s, "blog", 2, etag, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(jstr(r.json, "result"), "configured");
	ck_assert(jnum(r.json, "generation") == 2 && jnum(r.json, "desired_revision") == 2);
	resp_free(&r);
	/* the old version is stale now */
	put_manifest(NULL, &s, "blog", 3, etag, NULL, &r);
	assert_error(&r, 409, "conflict");
	resp_free(&r);
	put_manifest(NULL, &s, "blog", 3, "\"abc\"", NULL, &r);
	assert_error(&r, 400, "invalid");
	resp_free(&r);
	/* the name in the URL and in the manifest must agree */
	{
		char body[2048];
		snprintf(body, sizeof(body), manifest_fmt, "other-name", 1);
		http(&s, "PUT", "/api/deployments/blog", "application/yaml", body, &r);
		assert_error(&r, 422, "unprocessable");
		resp_free(&r);
	}
	/* JSON manifests too */
	http(&s, "PUT", "/api/deployments/jsite", "application/json",
	     "{\"apiVersion\":\"launchpad.dev/v1\",\"kind\":\"Site\",\"metadata\":{\"name\":"
	     "\"jsite\"},\"spec\":{\"source\":{\"git\":{\"url\":\"https://github.com/a/b\"}}}}",
	     &r);
	ck_assert_int_eq(r.status, 201);
	resp_free(&r);
	http(&s, "PUT", "/api/deployments/jsite", "application/xml", "<a/>", &r);
	assert_error(&r, 415, "unsupported");
	resp_free(&r);
	srv_stop(&s);
}
END_TEST

struct race {
	struct srv *s;
	int counter;
	const char *etag;
	pthread_barrier_t *bar;
	long status;
};

static void *race_put(void *arg)
{
	struct race *a = arg;
	struct resp r;
	CURL *c = curl_easy_init();

	pthread_barrier_wait(a->bar);
	put_manifest(c, a->s, "racy", a->counter, a->etag, NULL, &r);
	a->status = r.status;
	resp_free(&r);
	curl_easy_cleanup(c);
	return NULL;
}

START_TEST(test_if_match_race)
{
	struct srv s;
	struct resp r;
	pthread_barrier_t bar;
	pthread_t t[2];
	struct race a[2];
	char etag[64];
	int round, i, wins, conflicts;
	cJSON *g;

	srv_start(&s, NULL);
	put_manifest(NULL, &s, "racy", 0, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 201);
	resp_free(&r);
	for (round = 1; round <= 10; round++) {
		g = get_site(&s, "racy");
		snprintf(etag, sizeof(etag), "\"%.0f\"", jnum(g, "resource_version"));
		cJSON_Delete(g);
		pthread_barrier_init(&bar, NULL, 2);
		for (i = 0; i < 2; i++) {
			a[i] = (struct race){&s, round * 10 + i, etag, &bar, 0};
			pthread_create(&t[i], NULL, race_put, &a[i]);
		}
		wins = conflicts = 0;
		for (i = 0; i < 2; i++) {
			pthread_join(t[i], NULL);
			wins += a[i].status == 200;
			conflicts += a[i].status == 409;
		}
		pthread_barrier_destroy(&bar);
		ck_assert_msg(wins == 1 && conflicts == 1, "round %d: %ld and %ld", round,
		              a[0].status, a[1].status);
	}
	g = get_site(&s, "racy");
	ck_assert(jnum(g, "generation") == 11);
	cJSON_Delete(g);
	srv_stop(&s);
}
END_TEST

static long send_hook(struct srv *s, const char *id, const char *secret, const char *event,
                      const char *delivery, const char *ctype, const char *body, int forge,
                      struct resp *r)
{
	char path[256], sig[LP_SHA256_HEX_LEN], hs[128], he[128], hd[128];
	const char *hdr[4] = {hs, he, hd, NULL};

	snprintf(path, sizeof(path), "/api/webhooks/github/%s", id);
	lp_crypto_hmac_sha256_hex(sig, secret, strlen(secret), body, strlen(body));
	if (forge)
		sig[0] = sig[0] == 'a' ? 'b' : 'a';
	snprintf(hs, sizeof(hs), "X-Hub-Signature-256: sha256=%s", sig);
	snprintf(he, sizeof(he), "X-GitHub-Event: %s", event);
	snprintf(hd, sizeof(hd), "X-GitHub-Delivery: %s", delivery);
	return http_do(NULL, s, "POST", path, ctype, body, strlen(body), "", hdr, NULL, r);
}

static double desired_of(struct srv *s, const char *id)
{
	cJSON *g = get_site(s, id);
	double d = jnum(g, "desired_revision");

	cJSON_Delete(g);
	return d;
}

START_TEST(test_webhooks)
{
	const char *push_main = "{\"ref\":\"refs/heads/main\",\"before\":\"0000\",\"after\":"
	                        "\"4b825dc642cb6eb9a060e54bf8d69288fbee4904\",\"deleted\":false}";
	const char *push_dev = "{\"ref\":\"refs/heads/dev\",\"after\":"
	                       "\"4b825dc642cb6eb9a060e54bf8d69288fbee4904\"}";
	const char *push_del = "{\"ref\":\"refs/heads/main\",\"after\":"
	                       "\"0000000000000000000000000000000000000000\",\"deleted\":true}";
	const char *push_next = "{\"ref\":\"refs/heads/main\",\"after\":"
	                        "\"9f3c5e1d2b4a69788fbee49044b825dc642cb6eb\"}";
	struct srv s;
	struct resp r;
	cJSON *o;
	char id[64], secret[80], form[1024];
	lp_buf enc;
	const char *p;

	srv_start(&s, NULL);
	o = create_github(&s, NULL);
	snprintf(id, sizeof(id), "%s", jstr(o, "id"));
	snprintf(secret, sizeof(secret), "%s", jstr(o, "webhook_secret"));
	cJSON_Delete(o);

	send_hook(&s, id, secret, "ping", "d-0", "application/json", "{\"zen\":\"x\"}", 0, &r);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	/* forged: refused and not remembered (the genuine one with that id still works later) */
	send_hook(&s, id, secret, "push", "d-1", "application/json", push_main, 1, &r);
	assert_error(&r, 401, "unauthorized");
	resp_free(&r);
	ck_assert(desired_of(&s, id) == 1);
	send_hook(&s, id, secret, "push", "d-1", "application/json", push_main, 0, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(jstr(r.json, "result"), "triggered");
	ck_assert(jnum(r.json, "revision") == 2);
	resp_free(&r);
	ck_assert(desired_of(&s, id) == 2);
	/* the same delivery again: acknowledged, no second revision */
	send_hook(&s, id, secret, "push", "d-1", "application/json", push_main, 0, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(jstr(r.json, "result"), "duplicate");
	resp_free(&r);
	ck_assert(desired_of(&s, id) == 2);
	/* the same push replayed under a new delivery id: the same commit, no second build */
	send_hook(&s, id, secret, "push", "d-1b", "application/json", push_main, 0, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, lp_buf_cstr(&r.body));
	ck_assert_str_eq(jstr(r.json, "result"), "duplicate");
	resp_free(&r);
	ck_assert(desired_of(&s, id) == 2);
	/* the build source is the pushed commit */
	{
		lp_store *st = srv_store(&s);
		lp_store_revision *rev = NULL;
		ck_assert_int_eq(lp_store_revision_get(&rev, st, id, 2, NULL), LP_OK);
		ck_assert_str_eq(rev->source, "4b825dc642cb6eb9a060e54bf8d69288fbee4904");
		ck_assert_str_eq(lp_store_trigger_name(rev->trigger), "webhook");
		lp_store_revision_free(rev);
		lp_store_close(st);
	}
	send_hook(&s, id, secret, "push", "d-2", "application/json", push_dev, 0, &r);
	ck_assert_int_eq(r.status, 202);
	ck_assert_ptr_nonnull(jstr(r.json, "reason"));
	resp_free(&r);
	send_hook(&s, id, secret, "push", "d-3", "application/json", push_del, 0, &r);
	ck_assert_int_eq(r.status, 202);
	resp_free(&r);
	send_hook(&s, id, secret, "issues", "d-4", "application/json", "{}", 0, &r);
	ck_assert_int_eq(r.status, 202);
	resp_free(&r);
	ck_assert(desired_of(&s, id) == 2);
	/* GitHub's default content type: payload=<urlencoded JSON> */
	lp_buf_init(&enc, sizeof(form));
	lp_buf_puts(&enc, "payload=");
	for (p = push_next; *p; p++)
		lp_buf_printf(&enc, "%%%02X", (unsigned char)*p);
	send_hook(&s, id, secret, "push", "d-5", "application/x-www-form-urlencoded",
	          lp_buf_cstr(&enc), 0, &r);
	lp_buf_release(&enc);
	ck_assert_int_eq(r.status, 200);
	resp_free(&r);
	ck_assert(desired_of(&s, id) == 3);
	send_hook(&s, id, secret, "push", "d-6", "text/plain", push_main, 0, &r);
	assert_error(&r, 415, "unsupported");
	resp_free(&r);
	/* a missing signature */
	{
		char path[256];
		const char *hdr[] = {"X-GitHub-Event: push", "X-GitHub-Delivery: d-7", NULL};
		snprintf(path, sizeof(path), "/api/webhooks/github/%s", id);
		http_do(NULL, &s, "POST", path, "application/json", push_main, strlen(push_main),
		        "", hdr, NULL, &r);
		assert_error(&r, 401, "unauthorized");
		resp_free(&r);
	}
	ck_assert(desired_of(&s, id) == 3);

	/* auto-deploy off: acknowledged, nothing bumped */
	o = create_github(&s, "{\"name\":\"manual\",\"source_type\":\"github\",\"github_url\":"
	                      "\"https://github.com/user/repo\",\"auto_deploy\":false}");
	send_hook(&s, jstr(o, "id"), jstr(o, "webhook_secret"), "push", "d-8", "application/json",
	          push_main, 0, &r);
	ck_assert_int_eq(r.status, 202);
	resp_free(&r);
	ck_assert(desired_of(&s, jstr(o, "id")) == 1);
	cJSON_Delete(o);
	srv_stop(&s);
}
END_TEST

/* ---- raw connections: a request whose body never (or not yet) arrives ---- */

/* Connect and send head (request line and headers, "\r\n\r\n" included) plus a body prefix. */
static int raw_open(struct srv *s, const char *head, const char *body_prefix)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	sa.sin_port = htons((uint16_t)s->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq((int)send(fd, head, strlen(head), MSG_NOSIGNAL), (int)strlen(head));
	if (body_prefix && *body_prefix)
		ck_assert_int_eq((int)send(fd, body_prefix, strlen(body_prefix), MSG_NOSIGNAL),
		                 (int)strlen(body_prefix));
	return fd;
}

/* The status of the answer that arrives within ms (0: none; the body is still expected). */
static int raw_status(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char buf[512];
	ssize_t n;
	int status = 0;

	if (poll(&p, 1, ms) <= 0)
		return 0;
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "HTTP/1.1 %d", &status) != 1)
		status = -1;
	return status;
}

/* A webhook POST of 25 MiB declared, of which nothing has been sent. */
static int raw_hook(struct srv *s, const char *id, const char *sig_header)
{
	char head[1024];

	snprintf(head, sizeof(head),
	         "POST /api/webhooks/github/%s HTTP/1.1\r\nHost: x\r\n"
	         "Content-Type: application/json\r\nX-GitHub-Event: push\r\n"
	         "X-GitHub-Delivery: raw\r\n%s%sContent-Length: 26214400\r\n\r\n",
	         id, sig_header ? sig_header : "", sig_header ? "\r\n" : "");
	return raw_open(s, head, "{\"ref\":");
}

/* Finding 1: the site and the signature's form are checked before a body byte is read. */
START_TEST(test_webhook_before_body)
{
	const char *sig = "X-Hub-Signature-256: sha256="
	                  "0000000000000000000000000000000000000000000000000000000000000000";
	struct srv s;
	struct resp r;
	cJSON *o;
	char id[64], secret[80];
	int fds[8], fd, i, st = 0;

	srv_start(&s, NULL);
	o = create_github(&s, NULL);
	snprintf(id, sizeof(id), "%s", jstr(o, "id"));
	snprintf(secret, sizeof(secret), "%s", jstr(o, "webhook_secret"));
	cJSON_Delete(o);

	/* no such site: 404 at once, not after 25 MiB */
	fd = raw_hook(&s, "00000000-0000-0000-0000-000000000000", sig);
	ck_assert_int_eq(raw_status(fd, 3000), 404);
	close(fd);
	/* no signature, or a malformed one: 401 at once */
	fd = raw_hook(&s, id, NULL);
	ck_assert_int_eq(raw_status(fd, 3000), 401);
	close(fd);
	fd = raw_hook(&s, id, "X-Hub-Signature-256: sha256=00");
	ck_assert_int_eq(raw_status(fd, 3000), 401);
	close(fd);
	/* only 4 bodies are received at once: the fifth is told to come back (503) */
	for (i = 0; i < 4; i++) {
		fds[i] = raw_hook(&s, id, sig);
		ck_assert_int_eq(raw_status(fds[i], 300), 0);
	}
	fd = raw_hook(&s, id, sig);
	ck_assert_int_eq(raw_status(fd, 3000), 503);
	close(fd);
	for (i = 0; i < 4; i++)
		close(fds[i]);
	/* the slots come back when those connections end */
	for (i = 0; i < 50 && st != 200; i++) {
		usleep(100000);
		st = (int)send_hook(&s, id, secret, "ping", "p-1", "application/json", "{}", 0, &r);
		resp_free(&r);
	}
	ck_assert_int_eq(st, 200);
	srv_stop(&s);
}
END_TEST

/* Finding 2: slow uploads do not hold store handles; the API keeps answering. */
START_TEST(test_slow_uploads_keep_pool)
{
	struct srv s;
	struct resp r;
	char head[1024];
	int fds[70], i;

	srv_start(&s, NULL);
	snprintf(head, sizeof(head),
	         "POST /api/deployments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
	         "Content-Type: multipart/form-data; boundary=XyZ\r\n"
	         "Content-Length: 10000000\r\n\r\n",
	         s.token);
	/* more stalled uploads than the pool has handles (64) */
	for (i = 0; i < 70; i++)
		fds[i] = raw_open(&s, head,
		                  "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
		                  "filename=\"s.zip\"\r\nContent-Type: application/zip\r\n\r\n"
		                  "PK\x03\x04"
		                  "aaaa");
	usleep(1000000);
	http(&s, "GET", "/api/deployments", NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, lp_buf_cstr(&r.body));
	resp_free(&r);
	http(&s, "GET", "/readyz", NULL, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, lp_buf_cstr(&r.body));
	resp_free(&r);
	for (i = 0; i < 70; i++)
		close(fds[i]);
	srv_stop(&s);
}
END_TEST

/* Finding 3: the store figures of /metrics are computed once per interval, not per scrape. */
START_TEST(test_metrics_cached)
{
	struct srv s;
	struct resp r;
	cJSON *o;

	srv_start(&s, NULL);
	http(&s, "GET", "/metrics", NULL, NULL, &r);
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&r.body), "\nlaunchpad_sites 0\n"));
	resp_free(&r);
	o = create_github(&s, NULL);
	cJSON_Delete(o);
	/* the second scrape reuses the first scan (the request counters are live) */
	http(&s, "GET", "/metrics", NULL, NULL, &r);
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&r.body), "\nlaunchpad_sites 0\n"));
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&r.body), "route=\"/metrics\",status=\"200\"} 1"));
	resp_free(&r);
	srv_stop(&s);
}
END_TEST

/* Finding 11 (and 10, seen under SANITIZE=1): the seed's optional fields are accepted. */
START_TEST(test_seed_compat)
{
	const char *files[] = {"index.html", "<h1>hi</h1>\n", NULL};
	const char *fields[] = {"name", "Env Zip", "env_vars", "{\"A\":\"b\"}", NULL};
	struct srv s;
	struct resp r;
	char *zip, path[256];
	size_t len = 0;
	CURL *c = curl_easy_init();
	curl_mime *m;
	const cJSON *w, *it;
	int warned = 0;

	srv_start(&s, NULL);
	zip = make_zip(s.dir, "s.zip", files, &len);
	m = zip_form(c, zip, fields);
	http_do(c, &s, "POST", "/api/deployments", NULL, NULL, 0, NULL, NULL, m, &r);
	curl_mime_free(m);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, lp_buf_cstr(&r.body));
	w = cJSON_GetObjectItemCaseSensitive(r.json, "warnings");
	ck_assert(cJSON_IsArray(w) && cJSON_GetArraySize(w) == 1);
	ck_assert_ptr_nonnull(strstr(cJSON_GetArrayItem(w, 0)->valuestring, "env_vars"));
	snprintf(path, sizeof(path), "/api/deployments/%s/events", jstr(r.json, "id"));
	resp_free(&r);
	http(&s, "GET", path, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	cJSON_ArrayForEach(it, r.json)
	{
		if (jstr(it, "reason") && !strcmp(jstr(it, "reason"), "EnvVarsIgnored"))
			warned = 1;
	}
	ck_assert(warned);
	resp_free(&r);
	/* auto_deploy as the seed's 0/1 column */
	http(&s, "POST", "/api/deployments", "application/json",
	     "{\"name\":\"one\",\"github_url\":\"https://github.com/a/b\",\"auto_deploy\":1}", &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, lp_buf_cstr(&r.body));
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "auto_deploy")));
	ck_assert_ptr_null(cJSON_GetObjectItem(r.json, "warnings"));
	resp_free(&r);
	http(&s, "POST", "/api/deployments", "application/json",
	     "{\"name\":\"zero\",\"github_url\":\"https://github.com/a/b\",\"auto_deploy\":0}", &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, lp_buf_cstr(&r.body));
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "auto_deploy")));
	resp_free(&r);
	http(&s, "POST", "/api/deployments", "application/json",
	     "{\"name\":\"two\",\"github_url\":\"https://github.com/a/b\",\"auto_deploy\":2}", &r);
	assert_error(&r, 400, "invalid");
	resp_free(&r);
	/* build_cmd without env_vars (qsort of nothing) */
	http(&s, "POST", "/api/deployments", "application/json",
	     "{\"name\":\"h\",\"github_url\":\"https://github.com/a/b\",\"build_cmd\":\"make\"}",
	     &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, lp_buf_cstr(&r.body));
	resp_free(&r);
	/* a malformed body names where it broke */
	http(&s, "POST", "/api/deployments", "application/json", "{\"name\": tru}", &r);
	assert_error(&r, 400, "invalid");
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&r.body), "near \\\"tru}"));
	resp_free(&r);
	curl_easy_cleanup(c);
	free(zip);
	srv_stop(&s);
}
END_TEST

/* GitHub's published vector, with the site's secret set through the store API. */
START_TEST(test_webhook_vector)
{
	struct srv s;
	struct resp r;
	lp_store *st;
	lp_site_list list = {0};
	lp_store_site *site = NULL;
	char *json = NULL, hash[LP_SHA256_HEX_LEN], path[256];
	const char *m =
	    "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata: {name: vector}\n"
	    "spec: {source: {git: {url: 'https://github.com/a/b'}}, autoDeploy: true}\n";
	const char *h1[] = {"X-GitHub-Event: ping", "X-GitHub-Delivery: v-1",
	                    "X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7"
	                    "586c22c46f4379c8b043e17",
	                    NULL};
	/* hex digits are case-insensitive */
	const char *h3[] = {"X-GitHub-Event: ping", "X-GitHub-Delivery: v-3",
	                    "X-Hub-Signature-256: sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7"
	                    "586C22C46F4379C8B043E17",
	                    NULL};
	const char *h2[] = {"X-GitHub-Event: ping", "X-GitHub-Delivery: v-2",
	                    "X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7"
	                    "586c22c46f4379c8b043e18",
	                    NULL};

	srv_start(&s, NULL);
	st = srv_store(&s);
	ck_assert_int_eq(lp_spec_parse(&list, m, strlen(m), NULL, NULL, NULL), LP_OK);
	ck_assert_int_eq(lp_site_to_json(&json, list.items[0], NULL), LP_OK);
	ck_assert_int_eq(lp_site_spec_hash(hash, list.items[0], NULL), LP_OK);
	{
		lp_store_site_new in = {.name = "vector",
		                        .spec_json = json,
		                        .spec_hash = hash,
		                        .webhook_secret = "It's a Secret to Everybody",
		                        .trigger = LP_TRIGGER_CREATE};
		ck_assert_int_eq(lp_store_site_create(&site, st, &in, NULL), LP_OK);
	}
	snprintf(path, sizeof(path), "/api/webhooks/github/%s", site->id);
	http_do(NULL, &s, "POST", path, "application/json", "Hello, World!", 13, "", h1, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, lp_buf_cstr(&r.body));
	resp_free(&r);
	http_do(NULL, &s, "POST", path, "application/json", "Hello, World!", 13, "", h2, NULL, &r);
	assert_error(&r, 401, "unauthorized");
	resp_free(&r);
	http_do(NULL, &s, "POST", path, "application/json", "Hello, World!", 13, "", h3, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, lp_buf_cstr(&r.body));
	resp_free(&r);
	http_do(NULL, &s, "POST", path, "application/json", "Hello, World?", 13, "", h1, NULL, &r);
	assert_error(&r, 401, "unauthorized");
	resp_free(&r);
	lp_store_site_free(site);
	lp_site_list_release(&list);
	free(json);
	lp_store_close(st);
	srv_stop(&s);
}
END_TEST

START_TEST(test_revisions_rollback_events)
{
	struct srv s;
	struct resp r;
	lp_store *st;
	cJSON *o;
	char id[64], path[256];
	lp_store_revision rev = {0};

	srv_start(&s, NULL);
	o = create_github(&s, NULL);
	snprintf(id, sizeof(id), "%s", jstr(o, "id"));
	cJSON_Delete(o);
	st = srv_store(&s);
	rev.site_id = id;
	rev.number = 1;
	rev.state = LP_REV_READY;
	rev.started_at = 1000000;
	rev.finished_at = 1042000;
	ck_assert_int_eq(lp_store_revision_update(st, &rev, NULL), LP_OK);
	snprintf(path, sizeof(path), "/api/deployments/%s/redeploy", id);
	http(&s, "POST", path, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 202);
	resp_free(&r);
	rev.number = 2;
	rev.state = LP_REV_FAILED;
	ck_assert_int_eq(lp_store_revision_update(st, &rev, NULL), LP_OK);

	snprintf(path, sizeof(path), "/api/deployments/%s/revisions", id);
	http(&s, "GET", path, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(r.json), 2);
	ck_assert(jnum(cJSON_GetArrayItem(r.json, 0), "revision") == 2);
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(r.json, 0), "state"), "failed");
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(r.json, 1), "trigger"), "create");
	ck_assert(jnum(cJSON_GetArrayItem(r.json, 1), "duration_seconds") == 42);
	resp_free(&r);

	snprintf(path, sizeof(path), "/api/deployments/%s/rollback", id);
	http(&s, "POST", path, "application/json", "{\"revision\": 2}", &r);
	assert_error(&r, 409, "conflict"); /* failed is not a rollback target */
	resp_free(&r);
	http(&s, "POST", path, "application/json", "{\"revision\": 99}", &r);
	assert_error(&r, 404, "not_found");
	resp_free(&r);
	http(&s, "POST", path, "application/json", "{\"revision\": \"x\"}", &r);
	assert_error(&r, 400, "invalid");
	resp_free(&r);
	http(&s, "POST", path, NULL, NULL, &r); /* default: the previous ready one */
	ck_assert_msg(r.status == 202, "%ld %s", r.status, lp_buf_cstr(&r.body));
	ck_assert(jnum(r.json, "desired_revision") == 1);
	ck_assert(jnum(r.json, "generation") == 1); /* no new spec, no rebuild */
	resp_free(&r);

	snprintf(path, sizeof(path), "/api/deployments/%s/events", id);
	http(&s, "GET", path, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_ge(cJSON_GetArraySize(r.json), 2);
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(r.json, 0), "reason"), "RollingBack");
	resp_free(&r);

	http(&s, "GET", "/metrics", NULL, NULL, &r);
	ck_assert_ptr_nonnull(
	    strstr(lp_buf_cstr(&r.body), "launchpad_revisions{state=\"ready\"} 1"));
	ck_assert_ptr_nonnull(
	    strstr(lp_buf_cstr(&r.body), "launchpad_revisions{state=\"failed\"} 1"));
	ck_assert_ptr_nonnull(
	    strstr(lp_buf_cstr(&r.body), "launchpad_build_duration_seconds_count 2"));
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&r.body),
	                             "route=\"/api/deployments/:id/rollback\",status=\"409\"} 1"));
	resp_free(&r);
	lp_store_close(st);
	srv_stop(&s);
}
END_TEST

START_TEST(test_cors)
{
	const char *extra[] = {"--cors-origins", "http://ui.example,https://x.example", NULL};
	const char *good[] = {"Origin: http://ui.example", NULL};
	const char *bad[] = {"Origin: http://evil.example", NULL};
	struct srv s;
	struct resp r;

	srv_start(&s, extra);
	http_do(NULL, &s, "OPTIONS", "/api/deployments", NULL, NULL, 0, "", good, NULL, &r);
	ck_assert_int_eq(r.status, 204);
	ck_assert_str_eq(r.acao, "http://ui.example");
	resp_free(&r);
	http_do(NULL, &s, "GET", "/api/deployments", NULL, NULL, 0, NULL, good, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.acao, "http://ui.example");
	resp_free(&r);
	http_do(NULL, &s, "GET", "/api/deployments", NULL, NULL, 0, NULL, bad, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.acao, "");
	resp_free(&r);
	srv_stop(&s);
}
END_TEST

/* ---- SSE ---- */

struct follow {
	struct srv *s;
	char path[256];
	lp_buf got;
	long status;
	int ended;
};

static size_t on_sse(char *p, size_t sz, size_t n, void *ud)
{
	struct follow *f = ud;

	lp_buf_append(&f->got, p, sz * n);
	return sz * n;
}

static void *follow_logs(void *arg)
{
	struct follow *f = arg;
	CURL *c = curl_easy_init();
	struct curl_slist *hl = NULL;
	char url[512], h[256];

	snprintf(url, sizeof(url), "%s%s", f->s->base, f->path);
	snprintf(h, sizeof(h), "Authorization: Bearer %s", f->s->token);
	hl = curl_slist_append(hl, h);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_sse);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L); /* the stream must end well before this */
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	f->ended = curl_easy_perform(c) == CURLE_OK;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &f->status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return NULL;
}

START_TEST(test_sse_logs)
{
	struct srv s;
	struct resp r;
	struct follow f = {0};
	pthread_t t;
	cJSON *o;
	char id[64], slug[80], dir[4096], path[4200];
	lp_store *st;
	lp_store_revision rev = {0};
	FILE *log;
	int i;

	srv_start(&s, NULL);
	o = create_github(&s, NULL);
	snprintf(id, sizeof(id), "%s", jstr(o, "id"));
	snprintf(slug, sizeof(slug), "%s", jstr(o, "slug"));
	cJSON_Delete(o);
	snprintf(dir, sizeof(dir), "%s/logs/%s", s.dir, slug);
	snprintf(path, sizeof(path), "%s/1.log", dir);

	f.s = &s;
	lp_buf_init(&f.got, 1 << 20);
	snprintf(f.path, sizeof(f.path), "/api/deployments/%s/logs?revision=1", slug);
	pthread_create(&t, NULL, follow_logs, &f);
	usleep(300000); /* the client follows before the log exists */
	ck_assert_int_eq(lp_fs_mkdirs(dir, 0750, NULL), LP_OK);
	log = fopen(path, "a");
	ck_assert_ptr_nonnull(log);
	for (i = 1; i <= 3; i++) {
		fprintf(log, "step %d of the build\n", i);
		fflush(log);
		usleep(150000);
	}
	fprintf(log, "a partial line");
	fflush(log);
	fprintf(log, " completed\nlast line\n");
	fclose(log);
	/* the controller marks the revision final: the stream drains and ends */
	st = srv_store(&s);
	rev.site_id = id;
	rev.number = 1;
	rev.state = LP_REV_READY;
	ck_assert_int_eq(lp_store_revision_update(st, &rev, NULL), LP_OK);
	lp_store_close(st);
	pthread_join(t, NULL);
	ck_assert_int_eq(f.status, 200);
	ck_assert_msg(f.ended, "the stream did not end: %s", lp_buf_cstr(&f.got));
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&f.got), "data: step 1 of the build\n\n"));
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&f.got), "data: step 3 of the build\n\n"));
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&f.got), "data: a partial line completed\n\n"));
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&f.got), "data: last line\n\nevent: end\n"
	                                                  "data: ready\n\n"));
	lp_buf_release(&f.got);

	/* a finished revision streams its whole log and ends at once */
	memset(&f, 0, sizeof(f));
	f.s = &s;
	lp_buf_init(&f.got, 1 << 20);
	snprintf(f.path, sizeof(f.path), "/api/deployments/%s/logs", id);
	follow_logs(&f);
	ck_assert(f.ended);
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&f.got), "data: step 2 of the build\n\n"));
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&f.got), "event: end\n"));
	lp_buf_release(&f.got);
	snprintf(path, sizeof(path), "/api/deployments/%s/logs?revision=7", id);
	http(&s, "GET", path, NULL, NULL, &r);
	assert_error(&r, 404, "not_found");
	resp_free(&r);
	srv_stop(&s);
}
END_TEST

/* A site with revision 1 and its log path; the caller stops the server. */
static void sse_site(struct srv *s, char *id, size_t idlen, char *log, size_t loglen)
{
	cJSON *o;
	char dir[4096];

	srv_start(s, NULL);
	o = create_github(s, NULL);
	snprintf(id, idlen, "%s", jstr(o, "id"));
	snprintf(dir, sizeof(dir), "%s/logs/%s", s->dir, jstr(o, "slug"));
	snprintf(log, loglen, "%s/1.log", dir);
	cJSON_Delete(o);
	ck_assert_int_eq(lp_fs_mkdirs(dir, 0750, NULL), LP_OK);
}

static void mark_ready(struct srv *s, const char *id)
{
	lp_store *st = srv_store(s);
	lp_store_revision rev = {.site_id = (char *)id, .number = 1, .state = LP_REV_READY};

	ck_assert_int_eq(lp_store_revision_update(st, &rev, NULL), LP_OK);
	lp_store_close(st);
}

/* Findings 5 and 12: long lines arrive whole (in pieces), CR never reaches the stream. */
START_TEST(test_sse_long_and_cr)
{
	struct srv s;
	struct follow f = {0};
	char id[64], path[4200], *longline, *joined;
	const char *got, *p, *begin, *end;
	size_t i, n = 0;
	FILE *log;

	sse_site(&s, id, sizeof(id), path, sizeof(path));
	longline = malloc(20001);
	for (i = 0; i < 20000; i++)
		longline[i] = (char)('a' + i % 26);
	longline[20000] = '\0';
	log = fopen(path, "w");
	ck_assert_ptr_nonnull(log);
	fprintf(log,
	        "begin\n%s\nafter\nprogress 10%%\rprogress 100%%\r\nx\revent: end\rdata: forged\n"
	        "crlf\r\n\r\nlast\n",
	        longline);
	fclose(log);
	mark_ready(&s, id);
	f.s = &s;
	lp_buf_init(&f.got, 1 << 20);
	snprintf(f.path, sizeof(f.path), "/api/deployments/%s/logs?revision=1", id);
	follow_logs(&f);
	ck_assert(f.ended);
	got = lp_buf_cstr(&f.got);
	ck_assert_msg(strchr(got, '\r') == NULL, "a CR reached the stream");
	/* the long line, re-joined from its data lines, is complete */
	begin = strstr(got, "data: begin\n\n");
	end = strstr(got, "data: after\n\n");
	ck_assert(begin && end && begin < end);
	joined = calloc(1, 30000);
	for (p = begin + strlen("data: begin\n\n"); p < end;) {
		const char *e = strstr(p, "\n\n");

		ck_assert(strncmp(p, "data: ", 6) == 0 && e);
		memcpy(joined + n, p + 6, (size_t)(e - p - 6));
		n += (size_t)(e - p - 6);
		p = e + 2;
	}
	ck_assert_uint_eq(n, 20000);
	ck_assert(memcmp(joined, longline, 20000) == 0);
	ck_assert_ptr_nonnull(strstr(got, "data: after\n\ndata: progress 10%\n\n"
	                                  "data: progress 100%\n\ndata: x\n\n"
	                                  "data: event: end\n\ndata: data: forged\n\n"
	                                  "data: crlf\n\ndata: \n\ndata: last\n\nevent: end\n"));
	/* the one real end event */
	ck_assert_ptr_null(strstr(strstr(got, "\nevent: end\n") + 1, "\nevent: end\n"));
	free(joined);
	free(longline);
	lp_buf_release(&f.got);
	srv_stop(&s);
}
END_TEST

/* Finding 6: a log truncated (a new attempt) or replaced while followed is read again. */
START_TEST(test_sse_truncated_log)
{
	struct srv s;
	struct follow f = {0};
	char id[64], path[4200];
	pthread_t t;
	FILE *log;
	const char *got;

	sse_site(&s, id, sizeof(id), path, sizeof(path));
	log = fopen(path, "w");
	fprintf(log, "old line 1\nold line 2\nold line 3\n");
	fclose(log);
	f.s = &s;
	lp_buf_init(&f.got, 1 << 20);
	snprintf(f.path, sizeof(f.path), "/api/deployments/%s/logs?revision=1", id);
	pthread_create(&t, NULL, follow_logs, &f);
	usleep(600000);
	log = fopen(path, "w"); /* O_TRUNC, as the controller's next attempt */
	fprintf(log, "new attempt 1\n");
	fclose(log);
	usleep(600000);
	log = fopen(path, "a");
	fprintf(log, "new attempt 2\n");
	fclose(log);
	usleep(600000);
	ck_assert_int_eq(unlink(path), 0);
	usleep(300000);
	log = fopen(path, "w");
	fprintf(log, "replaced file\n");
	fclose(log);
	usleep(600000);
	mark_ready(&s, id);
	pthread_join(t, NULL);
	got = lp_buf_cstr(&f.got);
	ck_assert_msg(f.ended, "the stream did not end: %s", got);
	ck_assert_ptr_nonnull(strstr(got, "data: old line 3\n\n"));
	ck_assert_msg(strstr(got, "data: new attempt 1\n\ndata: new attempt 2\n\n") != NULL,
	              "truncation missed: %s", got);
	ck_assert_msg(strstr(got, "data: replaced file\n\nevent: end\n") != NULL,
	              "replacement missed: %s", got);
	lp_buf_release(&f.got);
	srv_stop(&s);
}
END_TEST

/* ---- load: 100 clients x 100 requests ---- */

#define LOAD_CLIENTS  100
#define LOAD_REQUESTS 100

struct client {
	struct srv *s;
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
	struct resp r;
	char path[128];
	int i;

	snprintf(c->name, sizeof(c->name), "load-%03d", c->idx);
	snprintf(path, sizeof(path), "/api/deployments/%s", c->name);
	for (i = 0; i < LOAD_REQUESTS; i++) {
		long want = 200;

		if (i == 0) {
			put_manifest(h, c->s, c->name, 0, NULL, NULL, &r);
			want = 201;
		} else if (i % 5 == 0) {
			put_manifest(h, c->s, c->name, i, NULL, NULL, &r);
			if (r.status == 200) {
				c->writes++;
				c->last = i;
			}
		} else if (i % 10 == 3) {
			http_do(h, c->s, "GET", "/api/deployments", NULL, NULL, 0, NULL, NULL, NULL,
			        &r);
		} else {
			http_do(h, c->s, "GET", path, NULL, NULL, 0, NULL, NULL, NULL, &r);
		}
		if (r.status != want) {
			if (c->errors++ == 0)
				snprintf(c->firsterr, sizeof(c->firsterr), "req %d: %ld %.150s", i,
				         r.status, lp_buf_cstr(&r.body));
		}
		resp_free(&r);
	}
	curl_easy_cleanup(h);
	return NULL;
}

/* A second server on a taken port fails at once and says why (no SO_REUSEPORT sharing). */
START_TEST(test_port_taken)
{
	struct srv s;
	char *bin = lp_test_bin_path("launchpad-apiserver"), *dir = lp_test_mkdtemp("lp-api2");
	char cmd[8192], out[4096] = "";
	size_t n;
	FILE *f;
	int st;

	srv_start(&s, NULL);
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
		struct resp r;
		ck_assert_int_eq(http(&s, "GET", "/healthz", NULL, NULL, &r), 200);
		resp_free(&r);
	}
	srv_stop(&s);
	lp_fs_remove_tree(dir, NULL);
	free(dir);
	free(bin);
}
END_TEST

START_TEST(test_load)
{
	struct srv s;
	pthread_t t[LOAD_CLIENTS];
	struct client *c = calloc(LOAD_CLIENTS, sizeof(*c));
	int i, errors = 0;
	cJSON *g;

	srv_start(&s, NULL);
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

		g = get_site(&s, c[i].name);
		ck_assert(jnum(g, "generation") == 1 + c[i].writes);
		ck_assert_int_eq(c[i].writes, LOAD_REQUESTS / 5 - 1);
		env = cJSON_GetObjectItem(g, "env_vars");
		snprintf(want, sizeof(want), "%d", c[i].last);
		ck_assert_str_eq(jstr(env, "COUNTER"), want);
		cJSON_Delete(g);
	}
	free(c);
	srv_stop(&s);
}
END_TEST

static Suite *apiserver_suite(void)
{
	Suite *s = suite_create("apiserver");
	TCase *tc = tcase_create("api");
	TCase *load = tcase_create("load");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_seed_github);
	tcase_add_test(tc, test_seed_zip);
	tcase_add_test(tc, test_auth);
	tcase_add_test(tc, test_metrics_auth);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_apply);
	tcase_add_test(tc, test_if_match_race);
	tcase_add_test(tc, test_webhooks);
	tcase_add_test(tc, test_webhook_vector);
	tcase_add_test(tc, test_webhook_before_body);
	tcase_add_test(tc, test_slow_uploads_keep_pool);
	tcase_add_test(tc, test_metrics_cached);
	tcase_add_test(tc, test_seed_compat);
	tcase_add_test(tc, test_revisions_rollback_events);
	tcase_add_test(tc, test_cors);
	tcase_add_test(tc, test_sse_logs);
	tcase_add_test(tc, test_sse_long_and_cr);
	tcase_add_test(tc, test_sse_truncated_log);
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
	rc = lp_test_run(apiserver_suite());
	curl_global_cleanup();
	return rc;
}
