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
#include "launchpad/log.h"

#define URL_MAX            4096                    /* the server URL and an API path */
#define HEADER_LINE_MAX    (LP_CLI_TOKEN_MAX + 64) /* "Authorization: Bearer " and a token */
#define SSE_ERROR_BODY_MAX ((size_t)1 << 20)       /* a stream's non-2xx answer */
#define PROGRESS_BAR_WIDTH 40                      /* columns of the upload bar */
#define PROGRESS_REDRAW_MS 100

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

/* A transport failure in words a user can act on, naming the server. */
static int transport_error(CURL *h, CURLcode cc, const char *server, const char *errbuf,
                           lp_error *err)
{
	long oserr = 0;
	const char *why;

	curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &oserr);
	if (cc == CURLE_COULDNT_CONNECT && oserr)
		why = strerror((int)oserr);
	else if (cc == CURLE_OPERATION_TIMEDOUT)
		why = "timed out";
	else if (cc == CURLE_COULDNT_RESOLVE_HOST)
		why = "cannot resolve the host name";
	else
		why = errbuf && *errbuf ? errbuf : curl_easy_strerror(cc);
	/* the reason goes on after a colon: "Connection refused" reads "connection refused" */
	return lp_error_set(err, cc == CURLE_OPERATION_TIMEDOUT ? LP_ETIMEOUT : LP_EUNAVAILABLE,
	                    "cannot reach the LaunchPad API at %s: %c%s", server,
	                    (char)tolower((unsigned char)why[0]), *why ? why + 1 : "");
}

/* One transfer: the handle and what it owns until call_end(). */
struct call {
	CURL *h;
	struct curl_slist *hl;
	struct xfer x;
	char url[URL_MAX];
	char errbuf[CURL_ERROR_SIZE];
};

static int add_header(struct call *k, const char *line, lp_error *err)
{
	struct curl_slist *t = curl_slist_append(k->hl, line);

	if (t == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	k->hl = t;
	return LP_OK;
}

/* The token's header, "name: value" when name is not NULL, and an empty Expect (uploads skip
 * the 100-continue round trip). */
static int set_headers(struct call *k, const lp_cli_client *c, const char *name, const char *value,
                       lp_error *err)
{
	char line[HEADER_LINE_MAX];
	int rc = LP_OK;

	if (c->token && *c->token) {
		if (lp_fmt(line, sizeof(line), "Authorization: Bearer %s", c->token) != LP_OK)
			return lp_error_set(err, LP_ETOOBIG, "the token is longer than %d bytes",
			                    LP_CLI_TOKEN_MAX - 1);
		rc = add_header(k, line, err);
	}
	if (rc == LP_OK && name) {
		if (lp_fmt(line, sizeof(line), "%s: %s", name, value) != LP_OK)
			return lp_error_set(err, LP_ETOOBIG, "the %s header is too long", name);
		rc = add_header(k, line, err);
	}
	return rc == LP_OK ? add_header(k, "Expect:", err) : rc;
}

/*
 * Start a transfer to path on c's server: the URL, the headers (see set_headers), a response
 * body capped at max_body, and the options every LaunchPad request shares.
 */
static int call_start(struct call *k, const lp_cli_client *c, const char *path, const char *header,
                      const char *value, size_t max_body, lp_error *err)
{
	size_t len = strlen(c->server);
	int rc;

	memset(k, 0, sizeof(*k));
	lp_buf_init(&k->x.body, max_body);
	if ((k->h = curl_easy_init()) == NULL)
		return lp_error_set(err, LP_ENOMEM, "cannot start an HTTP client");
	while (len && c->server[len - 1] == '/')
		len--;
	if (lp_fmt(k->url, sizeof(k->url), "%.*s%s", (int)len, c->server, path) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "the server URL is too long (%zu bytes)", len);
	if ((rc = set_headers(k, c, header, value, err)) != LP_OK)
		return rc;
	curl_easy_setopt(k->h, CURLOPT_URL, k->url);
	curl_easy_setopt(k->h, CURLOPT_HTTPHEADER, k->hl);
	curl_easy_setopt(k->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(k->h, CURLOPT_CONNECTTIMEOUT, LP_CLI_CONNECT_TIMEOUT);
	curl_easy_setopt(k->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(k->h, CURLOPT_WRITEDATA, &k->x);
	curl_easy_setopt(k->h, CURLOPT_ERRORBUFFER, k->errbuf);
	curl_easy_setopt(k->h, CURLOPT_USERAGENT, "launchpad-cli");
	curl_easy_setopt(k->h, CURLOPT_PROTOCOLS_STR, "http,https");
	return LP_OK;
}

static void call_end(struct call *k)
{
	curl_slist_free_all(k->hl);
	if (k->h)
		curl_easy_cleanup(k->h);
	lp_buf_release(&k->x.body);
}

/* Run the transfer and turn its outcome into an lp_cli_resp. */
static int perform(lp_cli_resp *out, struct call *k, const char *server, lp_error *err)
{
	CURLcode cc = curl_easy_perform(k->h);

	if (k->x.overflow)
		return lp_error_set(err, LP_ETOOBIG, "the answer from %s is larger than %zu bytes",
		                    server, LP_CLI_RESP_MAX);
	if (cc != CURLE_OK)
		return transport_error(k->h, cc, server, k->errbuf, err);
	curl_easy_getinfo(k->h, CURLINFO_RESPONSE_CODE, &out->status);
	out->len = k->x.body.len;
	out->body = lp_buf_detach(&k->x.body);
	out->json = cJSON_ParseWithLength(out->body, out->len);
	return LP_OK;
}

int lp_cli_request(lp_cli_resp *out, const lp_cli_client *c, const char *method, const char *path,
                   const char *content_type, const char *body, size_t len, lp_error *err)
{
	struct call k;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = call_start(&k, c, path, content_type ? "Content-Type" : NULL, content_type,
	                LP_CLI_RESP_MAX, err);
	if (rc != LP_OK)
		goto done;
	curl_easy_setopt(k.h, CURLOPT_TIMEOUT, LP_CLI_REQUEST_TIMEOUT);
	curl_easy_setopt(k.h, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(k.h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(k.h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else if (!strcmp(method, "POST") || !strcmp(method, "PUT")) {
		curl_easy_setopt(k.h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(k.h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	} else if (!strcmp(method, "GET")) {
		curl_easy_setopt(k.h, CURLOPT_HTTPGET, 1L);
	}
	rc = perform(out, &k, c->server, err);
done:
	call_end(&k);
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
	char bar[PROGRESS_BAR_WIDTH + 1];
	int filled, i;
	double pct;

	(void)dltotal;
	(void)dlnow;
	if (ultotal <= 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (p->drawn && ulnow < ultotal &&
	    (now.tv_sec - p->last.tv_sec) * 1000 + (now.tv_nsec - p->last.tv_nsec) / 1000000 <
	        PROGRESS_REDRAW_MS)
		return 0;
	p->last = now;
	pct = (double)ulnow * 100.0 / (double)ultotal;
	filled = (int)(pct * PROGRESS_BAR_WIDTH / 100);
	for (i = 0; i < PROGRESS_BAR_WIDTH; i++)
		bar[i] = i < filled ? '#' : '.';
	bar[PROGRESS_BAR_WIDTH] = '\0';
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
	struct call k;
	curl_mime *mime = NULL;
	curl_mimepart *part;
	struct progress prog = {0};
	int rc;

	memset(out, 0, sizeof(*out));
	rc = call_start(&k, c, path, NULL, NULL, LP_CLI_RESP_MAX, err);
	if (rc == LP_OK && (mime = curl_mime_init(k.h)) == NULL)
		rc = lp_error_set(err, LP_ENOMEM, "cannot start an HTTP client");
	if (rc != LP_OK)
		goto done;
	for (; fields && fields[0] && fields[1]; fields += 2) {
		const char *field = fields[0], *value = fields[1];

		part = curl_mime_addpart(mime);
		curl_mime_name(part, field);
		curl_mime_data(part, value, CURL_ZERO_TERMINATED);
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
	curl_easy_setopt(k.h, CURLOPT_MIMEPOST, mime);
	/* a large upload may take long; what matters is that bytes keep moving */
	curl_easy_setopt(k.h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(k.h, CURLOPT_LOW_SPEED_TIME, LP_CLI_STALL_SECONDS);
	if (progress) {
		curl_easy_setopt(k.h, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(k.h, CURLOPT_XFERINFODATA, &prog);
		curl_easy_setopt(k.h, CURLOPT_NOPROGRESS, 0L);
	}
	rc = perform(out, &k, c->server, err);
	if (prog.drawn)
		fputc('\n', stderr);
done:
	curl_mime_free(mime);
	call_end(&k);
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
		if (lp_buf_append(&s->line, p + start, i - start) != LP_OK)
			LP_DEBUG("cli", "events: an over-long line is cut");
		start = i + 1;
		if (sse_line(s))
			return 0;
	}
	if (start < len && lp_buf_append(&s->line, p + start, len - start) != LP_OK)
		LP_DEBUG("cli", "events: an over-long line is cut");
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
	struct call k;
	struct sse s = {.fn = fn, .ctx = ctx, .idle_ms = idle_ms, .cancel = cancel};
	CURLcode cc;
	int rc;

	*out_status = 0;
	memset(out_error, 0, sizeof(*out_error));
	lp_buf_init(&s.line, LP_CLI_SSE_LINE_MAX);
	rc = call_start(&k, c, path, "Accept", "text/event-stream", SSE_ERROR_BODY_MAX, err);
	if (rc != LP_OK)
		goto done;
	s.x = &k.x;
	s.h = k.h;
	clock_gettime(CLOCK_MONOTONIC, &s.last);
	curl_easy_setopt(k.h, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(k.h, CURLOPT_WRITEFUNCTION, on_sse);
	curl_easy_setopt(k.h, CURLOPT_WRITEDATA, &s);
	/* the server sends a keep-alive comment every 15 s: silence past this means trouble */
	curl_easy_setopt(k.h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(k.h, CURLOPT_LOW_SPEED_TIME, LP_CLI_STALL_SECONDS);
	curl_easy_setopt(k.h, CURLOPT_XFERINFOFUNCTION, on_sse_tick);
	curl_easy_setopt(k.h, CURLOPT_XFERINFODATA, &s);
	curl_easy_setopt(k.h, CURLOPT_NOPROGRESS, 0L);
	cc = curl_easy_perform(k.h);
	if (s.line.len && !s.stopped)
		sse_line(&s);
	curl_easy_getinfo(k.h, CURLINFO_RESPONSE_CODE, out_status);
	if (cc != CURLE_OK && !s.stopped && !s.idle_stop && !k.x.overflow) {
		rc = transport_error(k.h, cc, c->server, k.errbuf, err);
		goto done;
	}
	if (*out_status < 200 || *out_status > 299) {
		out_error->status = *out_status;
		out_error->len = k.x.body.len;
		out_error->body = lp_buf_detach(&k.x.body);
		out_error->json = cJSON_ParseWithLength(out_error->body, out_error->len);
	}
done:
	call_end(&k);
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

void lp_cli_print_warnings(const cJSON *json)
{
	const cJSON *w;

	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(json, "warnings"))
	{
		if (cJSON_IsString(w))
			fprintf(stderr, "warning: %s\n", w->valuestring);
	}
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
