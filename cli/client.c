/* client.c: libcurl requests to the LaunchPad API with caps, timeouts, errors and SSE. */
#include "cli/client.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "launchpad/buf.h"
#include "launchpad/fmt.h"

struct xfer {
	lp_buf body;
	int overflow;
};

static size_t on_body(char *p, size_t size, size_t n, void *cls)
{
	struct xfer *x = cls;

	if (lp_buf_append(&x->body, p, size * n) != LP_OK) {
		x->overflow = 1;
		return 0;
	}
	return size * n;
}

void lp_cli_resp_release(lp_cli_resp *r)
{
	if (r == NULL)
		return;
	free(r->body);
	cJSON_Delete(r->json);
	memset(r, 0, sizeof(*r));
}

/* RFC 3986's unreserved characters: the ones a path segment carries as they are. */
static int unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

char *lp_cli_escape(char *out, size_t n, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t j = 0;

	if (n == 0)
		return out;
	for (; *s && j + 1 < n; s++) {
		unsigned char c = (unsigned char)*s;
		if (unreserved(c)) {
			out[j++] = (char)c;
		} else if (j + 3 < n) {
			out[j++] = '%';
			out[j++] = hex[c >> 4];
			out[j++] = hex[c & 15];
		} else {
			break;
		}
	}
	out[j] = '\0';
	return out;
}

/* The length of s percent-encoded, NUL not counted. */
static size_t escaped_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += unreserved((unsigned char)*s) ? 1 : 3;
	return n;
}

int lp_cli_site_path(char *out, size_t n, const char *name, const char *tail, lp_error *err)
{
	char esc[LP_CLI_API_PATH_MAX];

	/* lp_cli_escape stops where the buffer ends: a cut name would ask about another site */
	if (escaped_len(name) < sizeof(esc) &&
	    lp_fmt(out, n, "/api/deployments/%s%s", lp_cli_escape(esc, sizeof(esc), name), tail) ==
	        LP_OK)
		return LP_OK;
	if (n)
		out[0] = '\0';
	return lp_error_set(err, LP_ETOOBIG, "the site name is too long (%zu bytes)", strlen(name));
}

static void make_url(char *out, size_t n, const char *server, const char *path)
{
	size_t len = strlen(server);

	while (len && server[len - 1] == '/')
		len--;
	snprintf(out, n, "%.*s%s", (int)len, server, path);
}

/* A transport failure in words a user can act on, naming the server. */
static int transport_error(CURL *h, CURLcode cc, const char *server, const char *errbuf,
                           lp_error *err)
{
	long oserr = 0;
	const char *why;
	char lower[CURL_ERROR_SIZE + 8];
	size_t i;

	curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &oserr);
	if (cc == CURLE_COULDNT_CONNECT && oserr)
		why = strerror((int)oserr);
	else if (cc == CURLE_OPERATION_TIMEDOUT)
		why = "timed out";
	else if (cc == CURLE_COULDNT_RESOLVE_HOST)
		why = "cannot resolve the host name";
	else
		why = errbuf && *errbuf ? errbuf : curl_easy_strerror(cc);
	snprintf(lower, sizeof(lower), "%s", why);
	for (i = 0; lower[i] && i < 1; i++)
		lower[i] = (char)tolower((unsigned char)lower[i]);
	return lp_error_set(err, cc == CURLE_OPERATION_TIMEDOUT ? LP_ETIMEOUT : LP_EUNAVAILABLE,
	                    "cannot reach the LaunchPad API at %s: %s", server, lower);
}

static struct curl_slist *auth_headers(const lp_cli_client *c, const char *content_type)
{
	struct curl_slist *hl = NULL, *t;
	char line[4200];

	if (c->token && *c->token) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", c->token);
		if ((t = curl_slist_append(hl, line)) != NULL)
			hl = t;
	}
	if (content_type) {
		snprintf(line, sizeof(line), "Content-Type: %s", content_type);
		if ((t = curl_slist_append(hl, line)) != NULL)
			hl = t;
	}
	/* uploads: no 100-continue round trip */
	if ((t = curl_slist_append(hl, "Expect:")) != NULL)
		hl = t;
	return hl;
}

static void common_opts(CURL *h, const char *url, struct curl_slist *hl, struct xfer *x,
                        char *errbuf)
{
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, LP_CLI_CONNECT_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "launchpad-cli");
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
}

/* Run h and turn its outcome into an lp_cli_resp. */
static int perform(lp_cli_resp *out, CURL *h, struct xfer *x, const char *server, char *errbuf,
                   lp_error *err)
{
	CURLcode cc = curl_easy_perform(h);
	int rc = LP_OK;

	if (x->overflow) {
		rc = lp_error_set(err, LP_ETOOBIG, "the answer from %s is larger than %zu bytes",
		                  server, LP_CLI_RESP_MAX);
		goto done;
	}
	if (cc != CURLE_OK) {
		rc = transport_error(h, cc, server, errbuf, err);
		goto done;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
	out->len = x->body.len;
	out->body = lp_buf_detach(&x->body);
	out->json = cJSON_ParseWithLength(out->body, out->len);
done:
	return rc;
}

int lp_cli_request(lp_cli_resp *out, const lp_cli_client *c, const char *method, const char *path,
                   const char *content_type, const char *body, size_t len, lp_error *err)
{
	CURL *h = NULL;
	struct curl_slist *hl = NULL;
	struct xfer x = {0};
	char url[4096], errbuf[CURL_ERROR_SIZE] = "";
	int rc;

	memset(out, 0, sizeof(*out));
	lp_buf_init(&x.body, LP_CLI_RESP_MAX);
	if ((h = curl_easy_init()) == NULL) {
		rc = lp_error_set(err, LP_ENOMEM, "cannot start an HTTP client");
		goto done;
	}
	make_url(url, sizeof(url), c->server, path);
	hl = auth_headers(c, content_type);
	common_opts(h, url, hl, &x, errbuf);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, LP_CLI_REQUEST_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else if (!strcmp(method, "POST") || !strcmp(method, "PUT")) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	} else if (!strcmp(method, "GET")) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	}
	rc = perform(out, h, &x, c->server, errbuf, err);
done:
	curl_slist_free_all(hl);
	if (h)
		curl_easy_cleanup(h);
	lp_buf_release(&x.body);
	return rc;
}

/* ---- upload progress ---- */

struct progress {
	struct timespec last;
	int drawn;
};

static int on_progress(void *cls, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	struct progress *p = cls;
	struct timespec now;
	char bar[41];
	int filled, i;
	double pct;

	(void)dltotal;
	(void)dlnow;
	if (ultotal <= 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (p->drawn && ulnow < ultotal &&
	    (now.tv_sec - p->last.tv_sec) * 1000 + (now.tv_nsec - p->last.tv_nsec) / 1000000 < 100)
		return 0;
	p->last = now;
	pct = (double)ulnow * 100.0 / (double)ultotal;
	filled = (int)(pct * 40 / 100);
	for (i = 0; i < 40; i++)
		bar[i] = i < filled ? '#' : '.';
	bar[40] = '\0';
	fprintf(stderr, "\rUploading [%s] %5.1f%% %.1f/%.1f MiB", bar, pct,
	        (double)ulnow / 1048576.0, (double)ultotal / 1048576.0);
	fflush(stderr);
	p->drawn = 1;
	return 0;
}

int lp_cli_upload(lp_cli_resp *out, const lp_cli_client *c, const char *path,
                  const char *const *fields, const char *file_path, const char *upload_name,
                  int progress, lp_error *err)
{
	CURL *h = NULL;
	curl_mime *mime = NULL;
	curl_mimepart *part;
	struct curl_slist *hl = NULL;
	struct xfer x = {0};
	struct progress prog = {0};
	char url[4096], errbuf[CURL_ERROR_SIZE] = "";
	int rc = LP_OK;

	memset(out, 0, sizeof(*out));
	lp_buf_init(&x.body, LP_CLI_RESP_MAX);
	if ((h = curl_easy_init()) == NULL || (mime = curl_mime_init(h)) == NULL) {
		rc = lp_error_set(err, LP_ENOMEM, "cannot start an HTTP client");
		goto done;
	}
	make_url(url, sizeof(url), c->server, path);
	hl = auth_headers(c, NULL);
	common_opts(h, url, hl, &x, errbuf);
	for (; fields && fields[0] && fields[1]; fields += 2) {
		part = curl_mime_addpart(mime);
		curl_mime_name(part, fields[0]);
		curl_mime_data(part, fields[1], CURL_ZERO_TERMINATED);
	}
	if (file_path) {
		part = curl_mime_addpart(mime);
		curl_mime_name(part, "file");
		if (curl_mime_filedata(part, file_path) != CURLE_OK) {
			rc = lp_error_set(err, LP_EIO, "cannot read %s", file_path);
			goto done;
		}
		curl_mime_filename(part, upload_name ? upload_name : "site.zip");
		curl_mime_type(part, "application/zip");
	}
	curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
	/* a large upload may take long; what matters is that bytes keep moving */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, LP_CLI_STALL_SECONDS);
	if (progress) {
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, &prog);
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	}
	rc = perform(out, h, &x, c->server, errbuf, err);
	if (prog.drawn)
		fputc('\n', stderr);
done:
	curl_slist_free_all(hl);
	curl_mime_free(mime);
	if (h)
		curl_easy_cleanup(h);
	lp_buf_release(&x.body);
	return rc;
}

/* ---- Server-Sent Events ---- */

int lp_cli_sse_split(char *line, const char **field, const char **value)
{
	char *colon;
	size_t n = strlen(line);

	if (n && line[n - 1] == '\r')
		line[--n] = '\0';
	if (n == 0 || line[0] == ':')
		return 0;
	colon = strchr(line, ':');
	if (colon == NULL) {
		*field = line;
		*value = "";
		return 1;
	}
	*colon = '\0';
	*field = line;
	*value = colon[1] == ' ' ? colon + 2 : colon + 1;
	return 1;
}

struct sse {
	struct xfer *x; /* the error body, when the status is not 2xx */
	CURL *h;
	long status;
	lp_buf line;
	lp_cli_sse_fn fn;
	void *ctx;
	int stopped;
	int idle_ms;
	const int *cancel;
	struct timespec last;
	int idle_stop;
};

static int sse_line(struct sse *s)
{
	const char *f, *v;
	char *line = s->line.data ? s->line.data : (char *)"";

	if (s->line.data && lp_cli_sse_split(line, &f, &v) && s->fn(f, v, s->ctx))
		s->stopped = 1;
	lp_buf_reset(&s->line);
	return s->stopped;
}

static size_t on_sse(char *p, size_t size, size_t n, void *cls)
{
	struct sse *s = cls;
	size_t len = size * n, i, start = 0;

	clock_gettime(CLOCK_MONOTONIC, &s->last);
	if (s->status == 0)
		curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &s->status);
	if (s->status < 200 || s->status > 299)
		return on_body(p, size, n, s->x);
	for (i = 0; i < len; i++) {
		if (p[i] != '\n')
			continue;
		/* an over-long line is cut: its head is kept, the rest dropped */
		lp_buf_append(&s->line, p + start, i - start);
		start = i + 1;
		if (sse_line(s))
			return 0;
	}
	if (start < len)
		lp_buf_append(&s->line, p + start, len - start);
	return len;
}

static int on_sse_tick(void *cls, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	struct sse *s = cls;
	struct timespec now;

	(void)a;
	(void)b;
	(void)c;
	(void)d;
	if (s->cancel && __atomic_load_n(s->cancel, __ATOMIC_ACQUIRE)) {
		s->idle_stop = 1;
		return 1;
	}
	if (s->idle_ms <= 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((now.tv_sec - s->last.tv_sec) * 1000 + (now.tv_nsec - s->last.tv_nsec) / 1000000 >=
	    s->idle_ms) {
		s->idle_stop = 1;
		return 1;
	}
	return 0;
}

int lp_cli_stream(long *out_status, lp_cli_resp *out_error, const lp_cli_client *c,
                  const char *path, int idle_ms, const int *cancel, lp_cli_sse_fn fn, void *ctx,
                  lp_error *err)
{
	CURL *h = NULL;
	struct curl_slist *hl = NULL, *t;
	struct xfer x = {0};
	struct sse s = {0};
	char url[4096], errbuf[CURL_ERROR_SIZE] = "";
	CURLcode cc;
	int rc = LP_OK;

	*out_status = 0;
	memset(out_error, 0, sizeof(*out_error));
	lp_buf_init(&x.body, 1 << 20);
	lp_buf_init(&s.line, LP_CLI_SSE_LINE_MAX);
	if ((h = curl_easy_init()) == NULL) {
		rc = lp_error_set(err, LP_ENOMEM, "cannot start an HTTP client");
		goto done;
	}
	s.x = &x;
	s.h = h;
	s.fn = fn;
	s.ctx = ctx;
	s.idle_ms = idle_ms;
	s.cancel = cancel;
	clock_gettime(CLOCK_MONOTONIC, &s.last);
	make_url(url, sizeof(url), c->server, path);
	hl = auth_headers(c, NULL);
	if ((t = curl_slist_append(hl, "Accept: text/event-stream")) != NULL)
		hl = t;
	common_opts(h, url, hl, &x, errbuf);
	curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_sse);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	/* the server sends a keep-alive comment every 15 s: silence past this means trouble */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, LP_CLI_STALL_SECONDS);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_sse_tick);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, &s);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	cc = curl_easy_perform(h);
	if (s.line.len && !s.stopped)
		sse_line(&s);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, out_status);
	if (cc != CURLE_OK && !s.stopped && !s.idle_stop && !x.overflow) {
		rc = transport_error(h, cc, c->server, errbuf, err);
		goto done;
	}
	if (*out_status < 200 || *out_status > 299) {
		out_error->status = *out_status;
		out_error->len = x.body.len;
		out_error->body = lp_buf_detach(&x.body);
		out_error->json = cJSON_ParseWithLength(out_error->body, out_error->len);
	}
done:
	curl_slist_free_all(hl);
	if (h)
		curl_easy_cleanup(h);
	lp_buf_release(&x.body);
	lp_buf_release(&s.line);
	return rc;
}

/* ---- errors ---- */

static const cJSON *error_obj(const lp_cli_resp *r)
{
	return cJSON_GetObjectItemCaseSensitive(r->json, "error");
}

const char *lp_cli_error_code(const lp_cli_resp *r)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(error_obj(r), "code");

	return cJSON_IsString(code) ? code->valuestring : "";
}

void lp_cli_print_api_error(const char *cmd, const lp_cli_resp *r)
{
	const cJSON *e = error_obj(r), *msg, *details, *d;
	const cJSON *path, *line, *col, *dmsg;

	msg = cJSON_GetObjectItemCaseSensitive(e, "message");
	if (!cJSON_IsString(msg)) {
		fprintf(stderr, "launchpad %s: the server answered HTTP %ld: %.300s\n", cmd,
		        r->status, r->body ? r->body : "");
		return;
	}
	fprintf(stderr, "launchpad %s: %s: %s (HTTP %ld)\n", cmd, lp_cli_error_code(r),
	        msg->valuestring, r->status);
	if (r->status == 401)
		fprintf(stderr,
		        "  check the token: --token, LAUNCHPAD_TOKEN or `launchpad login`\n");
	details = cJSON_GetObjectItemCaseSensitive(e, "details");
	cJSON_ArrayForEach(d, details)
	{
		path = cJSON_GetObjectItemCaseSensitive(d, "path");
		line = cJSON_GetObjectItemCaseSensitive(d, "line");
		col = cJSON_GetObjectItemCaseSensitive(d, "column");
		dmsg = cJSON_GetObjectItemCaseSensitive(d, "message");
		fprintf(stderr, "  ");
		if (cJSON_IsNumber(line) && line->valueint > 0)
			fprintf(stderr, "%d:%d: ", line->valueint,
			        cJSON_IsNumber(col) ? col->valueint : 1);
		if (cJSON_IsString(path) && *path->valuestring)
			fprintf(stderr, "%s: ", path->valuestring);
		fprintf(stderr, "%s\n", cJSON_IsString(dmsg) ? dmsg->valuestring : "");
	}
}
