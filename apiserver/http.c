/* http.c: building replies (JSON bodies, the one error shape, CORS headers) and reading requests.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "apiserver/apiserver_internal.h"
#include "apiserver/gate.h"
#include "launchpad/fmt.h"
#include "launchpad/log.h"

static const char oom_body[] =
    "{\"error\":{\"code\":\"out_of_memory\",\"message\":\"out of memory\",\"details\":[]}}";

static int origin_allowed(struct api_req *r, const char *origin)
{
	size_t i;

	for (i = 0; i < r->srv->ncors; i++)
		if (!strcmp(r->srv->cors[i], "*") || !strcmp(r->srv->cors[i], origin))
			return 1;
	return 0;
}

void api_reply_raw(struct api_req *r, int status, struct MHD_Response *resp, size_t len)
{
	const char *origin = api_header(r, "Origin");

	if (resp == NULL) {
		resp = MHD_create_response_from_buffer(sizeof(oom_body) - 1, (void *)oom_body,
		                                       MHD_RESPMEM_PERSISTENT);
		status = 503;
		len = sizeof(oom_body) - 1;
	}
	if (r->resp) /* a second reply replaces the first (a handler bug, but never a leak) */
		MHD_destroy_response(r->resp);
	if (resp == NULL)
		goto done;
	if (origin && origin_allowed(r, origin)) {
		MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
		MHD_add_response_header(resp, "Vary", "Origin");
		MHD_add_response_header(resp, "Access-Control-Expose-Headers", "ETag");
	}
	if (r->allow)
		MHD_add_response_header(resp, "Allow", r->allow);
	if (r->etag[0])
		MHD_add_response_header(resp, "ETag", r->etag);
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"launchpad\"");
	if (r->retry_after > 0) {
		char secs[API_RETRY_AFTER_MAX];

		if (lp_fmt(secs, sizeof(secs), "%d", r->retry_after) == LP_OK)
			MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, secs);
	}
done:
	r->resp = resp; /* NULL only when even the fallback failed: the connection is closed */
	r->status = status;
	r->resp_len = len;
	r->answered = 1;
}

void api_reply_json(struct api_req *r, int status, cJSON *obj)
{
	char *text = obj ? cJSON_PrintUnformatted(obj) : NULL;
	struct MHD_Response *resp;
	size_t len;

	cJSON_Delete(obj);
	if (text == NULL) {
		api_reply_raw(r, 503, NULL, 0);
		return;
	}
	len = strlen(text);
	resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(text);
		api_reply_raw(r, 503, NULL, 0);
		return;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	api_reply_raw(r, status, resp, len);
}

void api_reply_error(struct api_req *r, int code, cJSON *details, const char *fmt, ...)
{
	char msg[LP_ERROR_MESSAGE_MAX];
	cJSON *root = cJSON_CreateObject(), *e = cJSON_CreateObject();
	va_list ap;

	/* truncated on purpose: a message quoting the client's input stays bounded */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (details == NULL)
		details = cJSON_CreateArray();
	cJSON_AddStringToObject(e, "code", lp_error_name(code));
	cJSON_AddStringToObject(e, "message", msg);
	cJSON_AddItemToObject(e, "details", details);
	cJSON_AddItemToObject(root, "error", e);
	api_reply_json(r, lp_error_http_status(code), root);
}

void api_reply_lperr(struct api_req *r, const lp_error *err)
{
	int code = err->code == LP_OK ? LP_ERROR : err->code;

	api_reply_error(r, code, NULL, "%s", err->message[0] ? err->message : lp_strerror(code));
}

int api_error_response(lp_buf *out, int code, int retry_after, const char *msg)
{
	cJSON *root = cJSON_CreateObject(), *e = cJSON_CreateObject();
	int status = lp_error_http_status(code), rc = LP_ENOMEM;
	const char *reason = MHD_get_reason_phrase_for((unsigned)status);
	char *body = NULL;

	if (root == NULL || e == NULL) {
		cJSON_Delete(e);
		goto done;
	}
	cJSON_AddItemToObject(root, "error", e);
	if (cJSON_AddStringToObject(e, "code", lp_error_name(code)) == NULL ||
	    cJSON_AddStringToObject(e, "message", msg) == NULL ||
	    cJSON_AddArrayToObject(e, "details") == NULL ||
	    (body = cJSON_PrintUnformatted(root)) == NULL)
		goto done;
	rc = lp_buf_printf(out,
	                   "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
	                   "Content-Length: %zu\r\nConnection: close\r\n",
	                   status, reason && *reason ? reason : "Error", strlen(body));
	if (rc == LP_OK && retry_after > 0)
		rc = lp_buf_printf(out, "Retry-After: %d\r\n", retry_after);
	if (rc == LP_OK)
		rc = lp_buf_printf(out, "\r\n%s", body);
done:
	free(body);
	cJSON_Delete(root);
	return rc;
}

void api_reply_early(struct api_req *r, const lp_error *err)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	int code = err->code == LP_OK ? LP_ERROR : err->code;
	lp_buf out;

	if (r->answered)
		return;
	lp_buf_init(&out, API_EARLY_ANSWER_MAX);
	/*
	 * libmicrohttpd queues an answer only before the body or after it (MHD_queue_response,
	 * connection.c:5128 in 0.9.75), so this one goes onto the socket directly; the daemon is
	 * only reading it meanwhile. The client stops sending (curl: "HTTP error before end of
	 * send"); the gate drops what still comes for a moment, then shuts the connection.
	 */
	if (ci && api_error_response(&out, code, 0,
	                             err->message[0] ? err->message : lp_strerror(code)) == LP_OK) {
		if (send(ci->connect_fd, out.data, out.len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			LP_DEBUG("api", "an early answer was not sent: %s", strerror(errno));
		shutdown(ci->connect_fd, SHUT_WR);
	}
	lp_buf_release(&out);
	api_gate_linger(r->srv->gate, r->conn);
	r->answered = 1;
	r->early = 1;
	r->status = lp_error_http_status(code);
	r->resp_len = 0;
}

const char *api_header(struct api_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *api_query(struct api_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *api_content_type(struct api_req *r, char *buf, size_t len)
{
	const char *ct = api_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t i = 0;

	if (ct == NULL)
		ct = "";
	while (*ct == ' ')
		ct++;
	for (; ct[i] && ct[i] != ';' && ct[i] != ' ' && i + 1 < len; i++)
		buf[i] = (char)tolower((unsigned char)ct[i]);
	buf[i] = '\0';
	return buf;
}

void api_set_etag(struct api_req *r, int64_t version)
{
	/* API_ETAG_MAX holds any int64; were it not so, the reply would only lack the header */
	if (lp_fmt(r->etag, sizeof(r->etag), "\"%lld\"", (long long)version) != LP_OK)
		LP_WARN("api", "ETag %lld does not fit", (long long)version);
}

cJSON *api_time_json(int64_t ms)
{
	char text[API_TIME_MAX];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return cJSON_CreateNull();
	return cJSON_CreateString(text);
}
