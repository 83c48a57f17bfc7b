/* docker.c: the Docker client's handle, HTTP transport over the unix socket, and negotiation. */
#include "docker/docker_internal.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "launchpad/clock.h"
#include "launchpad/fmt.h"
#include "launchpad/log.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_OK;

static void curl_init_once(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void lp_docker_cancel_init(lp_docker_cancel *c)
{
	atomic_init(&c->requested, 0);
}

void lp_docker_cancel_request(lp_docker_cancel *c)
{
	atomic_store(&c->requested, 1);
}

int lp_docker_cancel_requested(const lp_docker_cancel *c)
{
	return c != NULL && atomic_load(&((lp_docker_cancel *)c)->requested) != 0;
}

const char *lp_docker_kv_get(const lp_docker_kv *kv, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (kv[i].key && !strcmp(kv[i].key, key))
			return kv[i].value;
	return NULL;
}

int dk_check_log_size(const char *s)
{
	size_t n = strspn(s, "0123456789"), len = strlen(s);

	if (n == 0 || len >= LP_DOCKER_LOG_SIZE_MAX || strspn(s, "0") == n)
		return LP_EINVAL;
	if (n == len)
		return LP_OK;
	return n + 1 == len && strchr("kmg", s[n]) != NULL ? LP_OK : LP_EINVAL;
}

int lp_docker_new(lp_docker **out, const lp_docker_options *opts, lp_error *err)
{
	const char *sock = opts && opts->socket_path ? opts->socket_path : LP_DOCKER_DEFAULT_SOCKET;
	const char *log_size =
	    opts && opts->log_max_size ? opts->log_max_size : LP_DOCKER_DEFAULT_LOG_MAX_SIZE;
	int log_files =
	    opts && opts->log_max_files ? opts->log_max_files : LP_DOCKER_DEFAULT_LOG_MAX_FILES;
	size_t socklen = strlen(sock);
	lp_docker *d;

	*out = NULL;
	pthread_once(&curl_once, curl_init_once);
	if (curl_init_rc != CURLE_OK)
		return lp_error_set(err, LP_ERROR, "curl_global_init: %s",
		                    curl_easy_strerror(curl_init_rc));
	if (socklen == 0 || socklen >= LP_DOCKER_SOCKET_MAX)
		return lp_error_set(err, LP_EINVAL, "docker socket path must be 1..%d bytes: %s",
		                    LP_DOCKER_SOCKET_MAX - 1, sock);
	if (dk_check_log_size(log_size) != LP_OK)
		return lp_error_set(
		    err, LP_EINVAL,
		    "container log max size \"%.32s\" is not a size like 10m (digits, "
		    "then k, m or g)",
		    log_size);
	if (log_files < 1 || log_files > LP_DOCKER_LOG_FILES_MAX)
		return lp_error_set(err, LP_EINVAL, "container log files must be 1..%d (got %d)",
		                    LP_DOCKER_LOG_FILES_MAX, log_files);
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	memcpy(d->socket_path, sock, socklen + 1);
	d->timeout_ms =
	    opts && opts->timeout_ms > 0 ? opts->timeout_ms : LP_DOCKER_DEFAULT_TIMEOUT_MS;
	d->connect_timeout_ms =
	    opts && opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : 5000;
	d->max_body = opts && opts->max_body > 0 ? opts->max_body : LP_DOCKER_DEFAULT_MAX_BODY;
	memcpy(d->log_max_size, log_size, strlen(log_size) + 1); /* checked to fit above */
	d->log_max_files = log_files;
	atomic_init(&d->api, 0);
	atomic_init(&d->reads, 0);
	atomic_init(&d->writes, 0);
	atomic_init(&d->write_ms, 0);
	pthread_mutex_init(&d->negotiate_lock, NULL);
	pthread_mutex_init(&d->network_lock, NULL);
	*out = d;
	return LP_OK;
}

void lp_docker_free(lp_docker *d)
{
	if (d == NULL)
		return;
	pthread_mutex_destroy(&d->negotiate_lock);
	pthread_mutex_destroy(&d->network_lock);
	free(d);
}

void lp_docker_counters_get(lp_docker_counters *out, const lp_docker *d)
{
	out->reads = atomic_load(&((lp_docker *)d)->reads);
	out->writes = atomic_load(&((lp_docker *)d)->writes);
	out->write_ms = atomic_load(&((lp_docker *)d)->write_ms);
}

void dk_resp_init(dk_resp *r)
{
	r->status = 0;
	lp_buf_init(&r->body, DK_ERR_BODY_MAX);
}

void dk_resp_release(dk_resp *r)
{
	lp_buf_release(&r->body);
}

/* ---- transport ---- */

struct xfer {
	CURL *h;
	const dk_req *req;
	dk_resp *resp;
	int started; /* on_start was called */
	int too_big;
	int sink_stop;
};

static long xfer_status(struct xfer *x)
{
	long status = 0;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
	struct xfer *x = ctx;
	long status;

	/* The blank line ending the header block: a streaming 2xx answer is now live. */
	if (size * n <= 2 && (data[0] == '\r' || data[0] == '\n') && !x->started) {
		status = xfer_status(x);
		if (status >= 200 && status < 300) {
			x->started = 1;
			if (x->req->on_start)
				x->req->on_start(x->req->start_ctx);
		}
	}
	return size * n;
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct xfer *x = ctx;
	size_t len = size * n;
	long status = xfer_status(x);

	if (status >= 200 && status < 300 && x->req->sink) {
		if (x->req->sink(x->req->sink_ctx, data, len) != 0) {
			x->sink_stop = 1;
			return 0;
		}
		return len;
	}
	if (lp_buf_append(&x->resp->body, data, len) != LP_OK) {
		/* An error message is only shown: keep its start, drop the rest. */
		if (status >= 300 || status < 200)
			return len;
		x->too_big = 1;
		return 0;
	}
	return len;
}

static int xfer_cancelled(const dk_req *r)
{
	return lp_docker_cancel_requested(r->cancel);
}

/* Run the easy handle on a private multi handle so a cancel token is seen within 100 ms. */
static CURLcode run_transfer(CURL *h, const dk_req *r, int *cancelled)
{
	CURLM *m = curl_multi_init();
	CURLcode result = CURLE_OK;
	CURLMsg *msg;
	int running = 1, left;

	*cancelled = 0;
	if (m == NULL)
		return CURLE_OUT_OF_MEMORY;
	if (curl_multi_add_handle(m, h) != CURLM_OK) {
		result = CURLE_OUT_OF_MEMORY;
		goto done;
	}
	while (running) {
		if (curl_multi_perform(m, &running) != CURLM_OK) {
			result = CURLE_RECV_ERROR;
			break;
		}
		if (!running)
			break;
		if (xfer_cancelled(r)) {
			*cancelled = 1;
			break;
		}
		if (curl_multi_poll(m, NULL, 0, 100, NULL) != CURLM_OK) {
			result = CURLE_RECV_ERROR;
			break;
		}
	}
	while (!*cancelled && (msg = curl_multi_info_read(m, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE)
			result = msg->data.result;
	curl_multi_remove_handle(m, h);
done:
	curl_multi_cleanup(m);
	return result;
}

/* Point x's handle at the engine's socket and at r; returns the header list to free after. */
static struct curl_slist *setup_handle(struct xfer *x, const lp_docker *d, const char *url,
                                       char *errbuf)
{
	const dk_req *r = x->req;
	struct curl_slist *hdrs = NULL;

	curl_easy_setopt(x->h, CURLOPT_UNIX_SOCKET_PATH, d->socket_path);
	curl_easy_setopt(x->h, CURLOPT_URL, url);
	curl_easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(x->h, CURLOPT_CONNECTTIMEOUT_MS, d->connect_timeout_ms);
	if (r->timeout_ms > 0)
		curl_easy_setopt(x->h, CURLOPT_TIMEOUT_MS, r->timeout_ms);
	curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(x->h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->h, CURLOPT_PROTOCOLS_STR, "http");
	if (!strcmp(r->method, "POST")) {
		curl_easy_setopt(x->h, CURLOPT_POST, 1L);
		/* start refuses a chunked or non-empty body: send an explicit empty one. */
		curl_easy_setopt(x->h, CURLOPT_POSTFIELDS, r->body ? r->body : "");
		curl_easy_setopt(x->h, CURLOPT_POSTFIELDSIZE, r->body ? (long)strlen(r->body) : 0L);
		if (r->body)
			hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	} else if (strcmp(r->method, "GET") != 0) {
		curl_easy_setopt(x->h, CURLOPT_CUSTOMREQUEST, r->method);
	}
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, hdrs);
	return hdrs;
}

/* LP_OK when the transfer brought back an HTTP status, else the reason it did not, in err. */
static int transfer_result(const lp_docker *d, const struct xfer *x, CURLcode cc, int cancelled,
                           const char *errbuf, lp_error *err)
{
	const dk_req *r = x->req;
	const char *why = *errbuf ? errbuf : curl_easy_strerror(cc);

	if (cancelled || x->sink_stop)
		return lp_error_set(err, LP_ECANCELED, "docker %s %s: cancelled", r->method,
		                    r->path);
	if (x->too_big)
		return lp_error_set(err, LP_ETOOBIG, "docker %s %s: response larger than %zu bytes",
		                    r->method, r->path, x->resp->body.max);
	if (cc == CURLE_OPERATION_TIMEDOUT)
		return lp_error_set(err, LP_ETIMEOUT, "docker %s %s: no answer within %ld ms",
		                    r->method, r->path, r->timeout_ms);
	if (cc != CURLE_OK && x->resp->status == 0)
		return lp_error_set(err, LP_EUNAVAILABLE, "docker engine unreachable at %s: %s",
		                    d->socket_path, why);
	/* The answer started but the connection broke (engine restart, stream cut). */
	if (cc != CURLE_OK)
		return lp_error_set(err, LP_EUNAVAILABLE, "docker %s %s: connection lost: %s",
		                    r->method, r->path, why);
	return LP_OK;
}

/* One HTTP request at version api (ignored when unversioned). */
static int do_request(lp_docker *d, int api, const dk_req *r, dk_resp *resp, lp_error *err)
{
	struct curl_slist *hdrs;
	struct xfer x = {0};
	char url[DK_URL_MAX];
	char errbuf[CURL_ERROR_SIZE] = {0};
	CURLcode cc;
	int64_t t0;
	int rc, cancelled = 0;

	if (r->unversioned)
		rc = lp_fmt(url, sizeof(url), "http://localhost%s", r->path);
	else
		rc = lp_fmt(url, sizeof(url), "http://localhost/v%d.%d%s", api / 1000, api % 1000,
		            r->path);
	if (rc != LP_OK)
		return lp_error_set(err, LP_EINVAL, "docker request path too long");
	x.h = curl_easy_init();
	if (x.h == NULL)
		return lp_error_set(err, LP_ENOMEM, "curl_easy_init failed");
	x.req = r;
	x.resp = resp;
	resp->status = 0;
	lp_buf_reset(&resp->body);
	/* A buffered success body may be large (a list); an error body stays small. */
	resp->body.max = r->sink ? DK_ERR_BODY_MAX : d->max_body;
	if (r->is_write)
		atomic_fetch_add(&d->writes, 1);
	else
		atomic_fetch_add(&d->reads, 1);
	hdrs = setup_handle(&x, d, url, errbuf);
	t0 = lp_clock_mono_ms();
	cc = run_transfer(x.h, r, &cancelled);
	if (r->is_write)
		atomic_fetch_add(&d->write_ms, (uint64_t)(lp_clock_mono_ms() - t0));
	resp->status = xfer_status(&x);
	rc = transfer_result(d, &x, cc, cancelled, errbuf, err);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(x.h);
	return rc;
}

/* ---- versions ---- */

int dk_parse_version(const char *s)
{
	char *end;
	long major, minor;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	major = strtol(s, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9')
		return -1;
	minor = strtol(end + 1, &end, 10);
	if (*end != '\0' || major > 100 || minor > 999)
		return -1;
	return (int)(major * 1000 + minor);
}

int dk_json_copy(char *out, size_t outlen, const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return lp_fmt(out, outlen, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

/* Ask the unversioned /version; store the version to speak. Caller holds negotiate_lock. */
static int negotiate_locked(lp_docker *d, lp_docker_version_info *out, lp_error *err)
{
	dk_req r = {
	    .method = "GET", .path = "/version", .unversioned = 1, .timeout_ms = d->timeout_ms};
	lp_docker_version_info info = {0};
	dk_resp resp;
	cJSON *j = NULL;
	int rc, newest, oldest, speak;

	dk_resp_init(&resp);
	rc = do_request(d, 0, &r, &resp, err);
	if (rc != LP_OK)
		goto done;
	if (resp.status != 200) {
		rc = dk_status_error(&resp, err, "docker version");
		goto done;
	}
	j = cJSON_ParseWithLength(resp.body.data ? resp.body.data : "", resp.body.len);
	if (j == NULL) {
		rc = lp_error_set(err, LP_EREMOTE, "docker version: answer is not JSON");
		goto done;
	}
	if (dk_json_copy(info.version, sizeof(info.version), j, "Version") != LP_OK ||
	    dk_json_copy(info.api_version, sizeof(info.api_version), j, "ApiVersion") != LP_OK ||
	    dk_json_copy(info.min_api_version, sizeof(info.min_api_version), j, "MinAPIVersion") !=
	        LP_OK ||
	    dk_json_copy(info.os, sizeof(info.os), j, "Os") != LP_OK ||
	    dk_json_copy(info.arch, sizeof(info.arch), j, "Arch") != LP_OK) {
		rc = lp_error_set(err, LP_EREMOTE,
		                  "docker version: a field of the answer is too long");
		goto done;
	}
	newest = dk_parse_version(info.api_version);
	oldest = info.min_api_version[0] ? dk_parse_version(info.min_api_version) : newest;
	if (newest < 0 || oldest < 0) {
		rc = lp_error_set(err, LP_EREMOTE, "docker version: bad ApiVersion \"%s\"/\"%s\"",
		                  info.api_version, info.min_api_version);
		goto done;
	}
	speak = newest < dk_parse_version(LP_DOCKER_API_MAX) ? newest
	                                                     : dk_parse_version(LP_DOCKER_API_MAX);
	if (speak < oldest)
		speak = oldest;
	if (speak < dk_parse_version(LP_DOCKER_API_MIN)) {
		rc = lp_error_set(err, LP_EUNSUPPORTED,
		                  "docker engine %s speaks API %s at most; this client needs %s",
		                  info.version, info.api_version, LP_DOCKER_API_MIN);
		goto done;
	}
	if (atomic_exchange(&d->api, speak) != speak)
		LP_DEBUG("docker", "engine %s (API %s, min %s): speaking %d.%d", info.version,
		         info.api_version, info.min_api_version, speak / 1000, speak % 1000);
	if (out)
		*out = info;
done:
	cJSON_Delete(j);
	dk_resp_release(&resp);
	return rc;
}

/* Negotiate unless already done, or unless someone renegotiated away from `seen` meanwhile. */
static int negotiate(lp_docker *d, int seen, lp_error *err)
{
	int rc = LP_OK;

	pthread_mutex_lock(&d->negotiate_lock);
	if (atomic_load(&d->api) == seen)
		rc = negotiate_locked(d, NULL, err);
	pthread_mutex_unlock(&d->negotiate_lock);
	return rc;
}

/* Docker answers "client version 1.41 is too old. Minimum ..." / "... is too new. Maximum ...". */
static int version_refused(const dk_resp *resp)
{
	const char *b = lp_buf_cstr(&resp->body);

	return resp->status == 400 && strstr(b, "client version") != NULL &&
	       (strstr(b, "too old") != NULL || strstr(b, "too new") != NULL);
}

int dk_call(lp_docker *d, const dk_req *r, dk_resp *resp, lp_error *err)
{
	char msg[DK_MSG_MAX];
	int api, rc;

	if (r->unversioned)
		return do_request(d, 0, r, resp, err);
	api = atomic_load(&d->api);
	if (api == 0) {
		rc = negotiate(d, 0, err);
		if (rc != LP_OK)
			return rc;
		api = atomic_load(&d->api);
	}
	rc = do_request(d, api, r, resp, err);
	if (rc != LP_OK || !version_refused(resp))
		return rc;
	dk_error_message(msg, sizeof(msg), resp);
	LP_INFO("docker", "engine refused API %d.%d (%s); renegotiating", api / 1000, api % 1000,
	        msg);
	rc = negotiate(d, api, err);
	if (rc != LP_OK)
		return rc;
	return do_request(d, atomic_load(&d->api), r, resp, err);
}

int lp_docker_version(lp_docker_version_info *out, lp_docker *d, lp_error *err)
{
	int rc;

	pthread_mutex_lock(&d->negotiate_lock);
	rc = negotiate_locked(d, out, err);
	pthread_mutex_unlock(&d->negotiate_lock);
	return rc;
}

int lp_docker_api_version(char *out, size_t outlen, lp_docker *d, lp_error *err)
{
	int api = atomic_load(&d->api), rc = LP_OK;

	if (api == 0) {
		rc = negotiate(d, 0, err);
		api = atomic_load(&d->api);
	}
	if (rc == LP_OK && lp_fmt(out, outlen, "%d.%d", api / 1000, api % 1000) != LP_OK)
		rc = lp_error_set(err, LP_ETOOBIG, "API version does not fit in %zu bytes", outlen);
	if (rc != LP_OK && outlen > 0)
		out[0] = '\0';
	return rc;
}

int lp_docker_ping(lp_docker *d, lp_error *err)
{
	dk_req r = {
	    .method = "GET", .path = "/_ping", .unversioned = 1, .timeout_ms = d->timeout_ms};
	dk_resp resp;
	int rc;

	dk_resp_init(&resp);
	rc = dk_call(d, &r, &resp, err);
	if (rc == LP_OK && resp.status != 200)
		rc = dk_status_error(&resp, err, "docker ping");
	dk_resp_release(&resp);
	return rc;
}

/* ---- errors and small helpers ---- */

void dk_error_message(char *out, size_t outlen, const dk_resp *resp)
{
	const char *b = lp_buf_cstr(&resp->body);
	cJSON *j = cJSON_Parse(b);
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
	size_t len;

	if (cJSON_IsString(m))
		lp_fmt_text(out, outlen, "%s", m->valuestring);
	else if (*b)
		lp_fmt_text(out, outlen, "%s", b);
	else
		lp_fmt_text(out, outlen, "HTTP %ld", resp->status);
	cJSON_Delete(j);
	len = strlen(out);
	while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r'))
		out[--len] = '\0';
}

int dk_status_error(const dk_resp *resp, lp_error *err, const char *what)
{
	char msg[DK_MSG_MAX];
	int code;

	dk_error_message(msg, sizeof(msg), resp);
	switch (resp->status) {
	case 400:
		code = LP_EINVAL;
		break;
	case 404:
		code = LP_ENOTFOUND;
		break;
	case 409:
		code = LP_ECONFLICT;
		break;
	default:
		code = LP_EREMOTE;
		break;
	}
	return lp_error_set(err, code, "%s: %s (HTTP %ld)", what, msg, resp->status);
}

int dk_pathf(char *out, size_t outlen, lp_error *err, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = lp_vfmt(out, outlen, fmt, ap);
	va_end(ap);
	if (rc != LP_OK)
		return lp_error_set(err, LP_EINVAL, "docker request path too long");
	return LP_OK;
}

int dk_check_name(const char *s, const char *what, lp_error *err)
{
	size_t i, n = s ? strlen(s) : 0;

	if (n == 0 || n > LP_DOCKER_NAME_MAX)
		return lp_error_set(err, LP_EINVAL, "%s must be 1..%d characters", what,
		                    LP_DOCKER_NAME_MAX);
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-' || (c == '/' && i == 0)))
			return lp_error_set(err, LP_EINVAL, "%s \"%s\": character '%c' not allowed",
			                    what, s, c);
	}
	return LP_OK;
}

char *dk_json_strdup(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return strdup(cJSON_IsString(v) ? v->valuestring : "");
}

void dk_kv_free(lp_docker_kv *kv, size_t n)
{
	size_t i;

	if (kv == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

int dk_json_kv(lp_docker_kv **out, size_t *n, const cJSON *obj)
{
	const cJSON *it;
	lp_docker_kv *kv = NULL;
	size_t count = 0, i = 0;
	int rc = LP_OK;

	*out = NULL;
	*n = 0;
	if (!cJSON_IsObject(obj))
		return LP_OK;
	cJSON_ArrayForEach(it, obj) count++;
	if (count == 0)
		return LP_OK;
	kv = calloc(count, sizeof(*kv));
	if (kv == NULL)
		return LP_ENOMEM;
	cJSON_ArrayForEach(it, obj)
	{
		kv[i].key = strdup(it->string ? it->string : "");
		kv[i].value = strdup(cJSON_IsString(it) ? it->valuestring : "");
		i++;
		if (kv[i - 1].key == NULL || kv[i - 1].value == NULL) {
			rc = LP_ENOMEM;
			break;
		}
	}
	if (rc != LP_OK) {
		dk_kv_free(kv, i);
		return rc;
	}
	*out = kv;
	*n = count;
	return LP_OK;
}

/* ---- line splitter for JSON streams ---- */

void dk_lines_init(dk_lines *l, int (*fn)(void *ctx, char *line), void *ctx)
{
	lp_buf_init(&l->line, DK_LINE_MAX);
	l->fn = fn;
	l->ctx = ctx;
	l->failed = 0;
}

int dk_lines_feed(void *ctx, const char *data, size_t len)
{
	dk_lines *l = ctx;
	const char *nl;

	while (len > 0) {
		nl = memchr(data, '\n', len);
		if (nl == NULL) {
			if (lp_buf_append(&l->line, data, len) != LP_OK) {
				l->failed = 1;
				return 1;
			}
			return 0;
		}
		if (lp_buf_append(&l->line, data, (size_t)(nl - data)) != LP_OK) {
			l->failed = 1;
			return 1;
		}
		len -= (size_t)(nl - data) + 1;
		data = nl + 1;
		if (l->line.len > 0 && l->line.data[l->line.len - 1] == '\r')
			l->line.data[--l->line.len] = '\0';
		if (l->line.len > 0 && l->fn(l->ctx, l->line.data) != 0)
			return 1;
		lp_buf_reset(&l->line);
	}
	return 0;
}

int dk_lines_finish(dk_lines *l)
{
	int rc = 0;

	if (l->line.len > 0)
		rc = l->fn(l->ctx, l->line.data);
	lp_buf_reset(&l->line);
	return rc;
}

void dk_lines_release(dk_lines *l)
{
	lp_buf_release(&l->line);
}
