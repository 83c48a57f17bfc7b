/* api_server.c: the apiserver suites' harness: the real binary on loopback, driven by libcurl. */
#include <check.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launchpad/buf.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "launchpad/store.h"
#include "tests/lib/api_server.h"
#include "tests/lib/testutil.h"

/* The seed's GitHub example, verbatim. */
const char lp_test_api_seed_github_body[] = "{\n"
                                            "  \"name\": \"my-react-app\",\n"
                                            "  \"source_type\": \"github\",\n"
                                            "  \"github_url\": \"https://github.com/user/repo\",\n"
                                            "  \"branch\": \"main\",\n"
                                            "  \"build_cmd\": \"npm ci && npm run build\",\n"
                                            "  \"output_dir\": \"dist\",\n"
                                            "  \"env_vars\": { \"NODE_ENV\": \"production\" },\n"
                                            "  \"auto_deploy\": true\n"
                                            "}";

const char lp_test_api_manifest_fmt[] =
    "apiVersion: launchpad.dev/v1\n"
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

/* Spawn the binary on s->dir and learn its port and token. */
static void spawn(struct lp_test_api *s, const char *const *extra)
{
	char *bin = lp_test_bin_path("launchpad-apiserver"), errlog[4096], tokpath[4096];
	const char *argv[32];
	int n = 0, i;
	FILE *f;

	s->port = 0;
	LP_TEST_FMT(errlog, "%s/apiserver.log", s->dir);
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
		int fd = open(errlog, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(fd, 2);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	free(bin);
	/* the port is announced on stderr once the socket listens */
	for (i = 0; i < 200 && s->port == 0; i++) {
		char line[512];
		unsigned port;

		usleep(25000);
		if ((f = fopen(errlog, "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "listening on http://127.0.0.1:%u", &port) == 1)
				s->port = port;
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

void lp_test_api_start(struct lp_test_api *s, const char *const *extra)
{
	memset(s, 0, sizeof(*s));
	s->dir = lp_test_mkdtemp("lp-api");
	ck_assert_ptr_nonnull(s->dir);
	spawn(s, extra);
}

void lp_test_api_restart(struct lp_test_api *s, int sig, const char *const *extra)
{
	char errlog[4096];
	int status = 0;

	ck_assert_int_eq(kill(s->pid, sig), 0);
	ck_assert_int_eq(waitpid(s->pid, &status, 0), s->pid);
	if (sig != SIGKILL)
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		              "apiserver did not exit cleanly (status %d)", status);
	/*
	 * The next run announces its own port: the old lines must not be read as its. Emptied
	 * here, before the fork (the child appends), so no read can see the last run's.
	 */
	LP_TEST_FMT(errlog, "%s/apiserver.log", s->dir);
	ck_assert_int_eq(truncate(errlog, 0), 0);
	spawn(s, extra);
}

void lp_test_api_stop(struct lp_test_api *s)
{
	int status = 0;

	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, &status, 0);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		              "apiserver did not exit cleanly (status %d)", status);
	}
	if (lp_fs_remove_tree(s->dir, NULL) != LP_OK)
		fprintf(stderr, "cleanup: cannot remove %s\n", s->dir);
	free(s->dir);
}

lp_store *lp_test_api_store(struct lp_test_api *s)
{
	char path[4096];
	lp_store *st = NULL;

	snprintf(path, sizeof(path), "%s/db/launchpad.db", s->dir);
	ck_assert_int_eq(lp_store_open(&st, path, NULL), LP_OK);
	return st;
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	lp_buf *b = ud;

	return lp_buf_append(b, p, sz * n) == LP_OK ? sz * n : 0;
}

/* Keep a header's value; one too long for its field stays "", so the test comparing it fails. */
static void keep_header(char *field, size_t len, const char *value)
{
	if (lp_fmt(field, len, "%s", value) != LP_OK)
		field[0] = '\0';
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
	struct lp_test_api_resp *r = ud;
	size_t len = sz * n;
	char line[512];

	/* the headers looked at are short: a longer line is cut, on purpose */
	snprintf(line, sizeof(line), "%.*s", (int)(len < 511 ? len : 511), p);
	line[strcspn(line, "\r\n")] = '\0';
	if (!strncasecmp(line, "ETag: ", 6))
		keep_header(r->etag, sizeof(r->etag), line + 6);
	if (!strncasecmp(line, "Allow: ", 7))
		keep_header(r->allow, sizeof(r->allow), line + 7);
	if (!strncasecmp(line, "Access-Control-Allow-Origin: ", 29))
		keep_header(r->acao, sizeof(r->acao), line + 29);
	if (!strncasecmp(line, "Cache-Control: ", 15))
		keep_header(r->cache_control, sizeof(r->cache_control), line + 15);
	if (!strncasecmp(line, "Content-Type: ", 14))
		keep_header(r->content_type, sizeof(r->content_type), line + 14);
	if (!strncasecmp(line, "Retry-After: ", 13))
		keep_header(r->retry_after, sizeof(r->retry_after), line + 13);
	return len;
}

void lp_test_api_resp_free(struct lp_test_api_resp *r)
{
	lp_buf_release(&r->body);
	cJSON_Delete(r->json);
	memset(r, 0, sizeof(*r));
}

/*
 * One request. token NULL = the admin token, "" = none. headers: NULL-terminated extra headers.
 * mime (may be NULL) sends multipart. curl (may be NULL) reuses a handle.
 */
long lp_test_api_request(CURL *curl, struct lp_test_api *s, const char *method, const char *path,
                         const char *ctype, const void *body, size_t len, const char *token,
                         const char *const *headers, curl_mime *mime, struct lp_test_api_resp *out)
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
	/* Paths go out as written: dot-dot tests must reach the server unresolved. */
	curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out->body);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
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

long lp_test_api_http(struct lp_test_api *s, const char *method, const char *path,
                      const char *ctype, const char *body, struct lp_test_api_resp *out)
{
	return lp_test_api_request(NULL, s, method, path, ctype, body, body ? strlen(body) : 0,
	                           NULL, NULL, NULL, out);
}

const char *lp_test_api_jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

double lp_test_api_jnum(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* The error body's code and that details is an array. */
void lp_test_api_assert_error(const struct lp_test_api_resp *r, long status, const char *code)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(r->json, "error");

	ck_assert_msg(r->status == status, "status %ld, want %ld: %s", r->status, status,
	              lp_buf_cstr(&r->body));
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(lp_test_api_jstr(e, "code"), code);
	ck_assert_ptr_nonnull(lp_test_api_jstr(e, "message"));
	ck_assert(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(e, "details")));
}

/* Create the seed's GitHub deployment; returns its JSON (caller deletes). */
cJSON *lp_test_api_create_github(struct lp_test_api *s, const char *body)
{
	struct lp_test_api_resp r;
	cJSON *o;

	lp_test_api_http(s, "POST", "/api/deployments", "application/json",
	                 body ? body : lp_test_api_seed_github_body, &r);
	ck_assert_msg(r.status == 201, "create: %ld %s", r.status, lp_buf_cstr(&r.body));
	o = r.json;
	r.json = NULL;
	lp_test_api_resp_free(&r);
	return o;
}

cJSON *lp_test_api_get_site(struct lp_test_api *s, const char *id)
{
	char path[256];
	struct lp_test_api_resp r;
	cJSON *o;

	snprintf(path, sizeof(path), "/api/deployments/%s", id);
	lp_test_api_http(s, "GET", path, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	o = r.json;
	r.json = NULL;
	lp_test_api_resp_free(&r);
	return o;
}

long lp_test_api_put_manifest(CURL *c, struct lp_test_api *s, const char *name, int counter,
                              const char *if_match, const char *query, struct lp_test_api_resp *r)
{
	char body[2048], path[256], h[128];
	const char *hdr[] = {h, NULL};

	snprintf(body, sizeof(body), lp_test_api_manifest_fmt, name, counter);
	snprintf(path, sizeof(path), "/api/deployments/%s%s", name, query ? query : "");
	snprintf(h, sizeof(h), "If-Match: %s", if_match ? if_match : "");
	return lp_test_api_request(c, s, "PUT", path, "application/yaml", body, strlen(body), NULL,
	                           if_match ? hdr : NULL, NULL, r);
}

/* Connect and send head (request line and headers, "\r\n\r\n" included) plus a body prefix. */
int lp_test_api_raw_open(struct lp_test_api *s, const char *head, const char *body_prefix)
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
