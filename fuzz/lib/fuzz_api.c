/* fuzz_api.c: the in-process apiserver of the apiserver harnesses (fuzz_api.h). */
#include "fuzz/lib/fuzz_api.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "apiserver/apiserver.h"
#include "fuzz/lib/fuzzlib.h"
#include "launchpad/config.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "launchpad/layout.h"
#include "pipeline/archive.h"
#include "tests/lib/archive_corpus.h"

#define FZ_API_ANSWER_MAX ((size_t)8 << 20)
#define FZ_API_HEAD_MAX   ((size_t)64 << 10)
#define FZ_API_IO_SECONDS 30
#define FZ_API_TEMP_WAIT  50 /* tries, 100 ms apart */
#define BOUNDARY          "fzb0undary"

static struct fz_api api;
static lp_config *cfg;
static lp_apiserver *srv;

static int dial(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)api.port)};
	struct timeval tv = {.tv_sec = FZ_API_IO_SECONDS};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, rc;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		fz_fail("socket: %s", strerror(errno));
	/* an interrupted connect goes on: asking again says EALREADY until it is done */
	rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
	while (rc != 0 && (errno == EINTR || errno == EALREADY))
		rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
	if (rc != 0 && errno != EISCONN)
		fz_fail("cannot connect to the apiserver on port %u: %s", api.port,
		        strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* 0 when everything was sent; -1 when the server closed first (it may answer early). */
static int send_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue; /* libFuzzer's -timeout alarm */
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void fz_api_request(struct fz_api_resp *out, const char *method, const char *path,
                    const char *headers, const void *body, size_t len)
{
	lp_buf req, in;
	char chunk[16384], *sep;
	ssize_t n;
	int fd;

	memset(out, 0, sizeof(*out));
	lp_buf_init(&out->head, FZ_API_HEAD_MAX);
	lp_buf_init(&out->body, FZ_API_ANSWER_MAX);
	lp_buf_init(&req, FZ_API_HEAD_MAX + FZ_API_ANSWER_MAX);
	lp_buf_init(&in, FZ_API_ANSWER_MAX);
	if (lp_buf_printf(&req,
	                  "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sContent-Length: %zu\r\n"
	                  "Connection: close\r\n\r\n",
	                  method, path, headers ? headers : "", len) != LP_OK)
		fz_fail("request head too large");
	/* one write: a head and a body in two segments would wait on Nagle and delayed ACKs */
	if (len && lp_buf_append(&req, body, len) != LP_OK)
		fz_fail("request body too large");
	fd = dial();
	(void)send_all(fd, req.data, req.len); /* an early answer closes; it is read below */
	for (;;) {
		n = recv(fd, chunk, sizeof(chunk), 0);
		/* libFuzzer's -timeout check is a SIGALRM each second: it interrupts a wait */
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fz_fail("%s %s: no answer (%s; %zu bytes read, after %d s at most)", method,
			        path, strerror(errno), in.len, FZ_API_IO_SECONDS);
		if (n == 0)
			break;
		if (lp_buf_append(&in, chunk, (size_t)n) != LP_OK)
			fz_fail("%s %s: answer larger than %zu bytes", method, path,
			        FZ_API_ANSWER_MAX);
	}
	close(fd);
	if (in.len && (sep = memmem(in.data, in.len, "\r\n\r\n", 4)) != NULL) {
		size_t hl = (size_t)(sep - in.data);

		if (lp_buf_append(&out->head, in.data, hl) != LP_OK ||
		    lp_buf_append(&out->body, sep + 4, in.len - hl - 4) != LP_OK)
			fz_fail("answer too large");
		if (sscanf(lp_buf_cstr(&out->head), "HTTP/1.%*d %d", &out->status) != 1)
			out->status = 0;
	}
	/* FUZZ_API_LOG=1: one line per request, to see which answers a corpus reaches */
	if (getenv("FUZZ_API_LOG"))
		fprintf(stderr, "fuzz-api: %s %s -> %d %.200s\n", method, path, out->status,
		        lp_buf_cstr(&out->body));
	lp_buf_release(&req);
	lp_buf_release(&in);
}

void fz_api_resp_release(struct fz_api_resp *r)
{
	lp_buf_release(&r->head);
	lp_buf_release(&r->body);
}

void fz_api_check_answer(const struct fz_api_resp *r, const char *what)
{
	const cJSON *e, *code, *msg;
	cJSON *doc;

	if (r->status == 0)
		fz_fail("%s: no HTTP answer", what);
	if (r->status >= 500)
		fz_fail("%s: answered %d: %s", what, r->status, lp_buf_cstr(&r->body));
	if (r->status == 204 || r->status == 304)
		return;
	doc = cJSON_ParseWithLength(lp_buf_cstr(&r->body), r->body.len);
	if (doc == NULL)
		fz_fail("%s: %d with a body that is not JSON:\n%s\n%s", what, r->status,
		        lp_buf_cstr(&r->head), lp_buf_cstr(&r->body));
	if (r->status >= 400) {
		e = cJSON_GetObjectItemCaseSensitive(doc, "error");
		code = cJSON_GetObjectItemCaseSensitive(e, "code");
		msg = cJSON_GetObjectItemCaseSensitive(e, "message");
		if (!cJSON_IsString(code) || !cJSON_IsString(msg) || msg->valuestring[0] == '\0')
			fz_fail("%s: %d without the error shape: %s", what, r->status,
			        lp_buf_cstr(&r->body));
	}
	cJSON_Delete(doc);
}

void fz_api_check_no_temp_uploads(void)
{
	char dir[4096], left[256];
	struct dirent *e;
	DIR *d;
	int i;

	if (lp_fmt(dir, sizeof(dir), "%s/uploads", api.data_dir) != LP_OK)
		fz_fail("uploads path too long");
	/* the request's clean-up runs after its answer was sent: give it a moment */
	for (i = 0; i < FZ_API_TEMP_WAIT; i++) {
		left[0] = '\0';
		if ((d = opendir(dir)) == NULL)
			return;
		while ((e = readdir(d)) != NULL)
			if (!strncmp(e->d_name, LP_LAYOUT_UPLOAD_TMP_PREFIX,
			             strlen(LP_LAYOUT_UPLOAD_TMP_PREFIX)))
				(void)lp_fmt_text(left, sizeof(left), "%s", e->d_name);
		closedir(d);
		if (left[0] == '\0')
			return;
		nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
	}
	fz_fail("temp upload %s/%s stays after its request ended", dir, left);
}

/* ---- the platform ---- */

static cJSON *must_json(const struct fz_api_resp *r, int want, const char *what)
{
	cJSON *doc;

	if (r->status != want)
		fz_fail("setup: %s answered %d (want %d): %s", what, r->status, want,
		        lp_buf_cstr(&r->body));
	if ((doc = cJSON_ParseWithLength(lp_buf_cstr(&r->body), r->body.len)) == NULL)
		fz_fail("setup: %s: not JSON", what);
	return doc;
}

static void copy_str(char *out, size_t n, const cJSON *doc, const char *key, const char *what)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);

	if (!cJSON_IsString(v) || lp_fmt(out, n, "%s", v->valuestring) != LP_OK)
		fz_fail("setup: %s has no usable \"%s\"", what, key);
}

static void read_token(void)
{
	char path[4096];
	char *text = NULL;
	size_t len = 0;

	if (lp_layout_admin_token(path, sizeof(path), api.data_dir) != LP_OK ||
	    lp_fs_read_file(&text, &len, path, FZ_API_TOKEN_MAX - 1, NULL) != LP_OK)
		fz_fail("setup: cannot read the admin token");
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	text[len] = '\0';
	if (lp_fmt(api.token, sizeof(api.token), "%s", text) != LP_OK)
		fz_fail("setup: admin token too long");
	free(text);
}

static void auth_header(char *out, size_t n, const char *more)
{
	if (lp_fmt(out, n, "Authorization: Bearer %s\r\n%s", api.token, more) != LP_OK)
		fz_fail("setup: header too long");
}

static void webhook_secret(char *out, size_t n, const char *site)
{
	struct fz_api_resp r;
	char path[256], h[512];
	cJSON *doc;

	auth_header(h, sizeof(h), "");
	if (lp_fmt(path, sizeof(path), "/api/deployments/%s/webhook", site) != LP_OK)
		fz_fail("setup: path too long");
	fz_api_request(&r, "GET", path, h, NULL, 0);
	doc = must_json(&r, 200, path);
	copy_str(out, n, doc, "webhook_secret", path);
	cJSON_Delete(doc);
	fz_api_resp_release(&r);
}

static void create_sites(void)
{
	static const char manifest[] =
	    "apiVersion: launchpad.dev/v1\nkind: Site\n"
	    "metadata: {name: fz-git}\nspec:\n"
	    "  source: {git: {url: \"https://github.com/example/site.git\","
	    " branch: main}}\n"
	    "  build: {command: \"npm run build\"}\n"
	    "  autoDeploy: true\n";
	lp_corpus_entry files[] = {{.name = "index.html", .data = "<h1>fuzz</h1>\n"}};
	struct fz_api_resp r;
	char h[512], zpath[4200];
	char *zip = NULL;
	size_t zlen = 0;
	lp_buf form;
	cJSON *doc;

	auth_header(h, sizeof(h), "Content-Type: application/yaml\r\n");
	fz_api_request(&r, "PUT", "/api/deployments/fz-git", h, manifest, sizeof(manifest) - 1);
	cJSON_Delete(must_json(&r, 201, "PUT fz-git"));
	fz_api_resp_release(&r);

	if (lp_fmt(zpath, sizeof(zpath), "%s/site.zip", fz_scratch()) != LP_OK ||
	    lp_corpus_write(zpath, LP_CORPUS_ZIP, files, 1) != 0 ||
	    lp_fs_read_file(&zip, &zlen, zpath, 1 << 20, NULL) != LP_OK)
		fz_fail("setup: cannot make the archive site's zip");
	remove(zpath);
	lp_buf_init(&form, 2 << 20);
	if (lp_buf_printf(&form,
	                  "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n"
	                  "fuzz archive\r\n--" BOUNDARY "\r\nContent-Disposition: form-data; "
	                  "name=\"slug\"\r\n\r\nfz-arch\r\n--" BOUNDARY "\r\nContent-Disposition: "
	                  "form-data; name=\"file\"; filename=\"site.zip\"\r\n\r\n") != LP_OK ||
	    lp_buf_append(&form, zip, zlen) != LP_OK ||
	    lp_buf_puts(&form, "\r\n--" BOUNDARY "--\r\n") != LP_OK)
		fz_fail("setup: form too large");
	auth_header(h, sizeof(h), "Content-Type: multipart/form-data; boundary=" BOUNDARY "\r\n");
	fz_api_request(&r, "POST", "/api/deployments", h, form.data, form.len);
	doc = must_json(&r, 201, "POST the archive site");
	copy_str(api.archive_id, sizeof(api.archive_id), doc, "id", "the archive site");
	cJSON_Delete(doc);
	fz_api_resp_release(&r);
	lp_buf_release(&form);
	free(zip);

	webhook_secret(api.git_secret, sizeof(api.git_secret), "fz-git");
	webhook_secret(api.archive_secret, sizeof(api.archive_secret), api.archive_id);
}

static void stop(void)
{
	lp_apiserver_free(srv);
	srv = NULL;
	lp_config_free(cfg);
	cfg = NULL;
}

const struct fz_api *fz_api_start(void)
{
	char *argv[] = {"fuzz-apiserver",
	                "--data-dir",
	                api.data_dir,
	                "--listen",
	                "127.0.0.1:0",
	                "--public-url",
	                "https://tunnel.example",
	                "--log-level",
	                "error",
	                "--upload-max-mb",
	                "1",
	                NULL};
	char **rest = NULL;
	int nrest = 0;
	lp_error err = {0};

	if (srv)
		return &api;
	if (lp_fmt(api.data_dir, sizeof(api.data_dir), "%s/data", fz_scratch()) != LP_OK)
		fz_fail("setup: data dir path too long");
	if (lp_config_new(&cfg, &rest, &nrest, (int)(sizeof(argv) / sizeof(argv[0])) - 1, argv,
	                  &err) != LP_OK ||
	    nrest != 0)
		fz_fail("setup: config: %s", err.message);
	lp_config_rest_free(rest);
	lp_log_setup(cfg->log_level, cfg->log_format, 2);
	if (lp_apiserver_new(&srv, cfg, &err) != LP_OK)
		fz_fail("setup: lp_apiserver_new: %s", err.message);
	api.port = lp_apiserver_port(srv);
	/* stopped before the scratch directory goes (atexit runs in reverse order) */
	atexit(stop);
	read_token();
	create_sites();
	return &api;
}
