/* docker_internal.h: what the docker*.c files share: the request engine, errors, the demuxer. */
#ifndef LAUNCHPAD_DOCKER_INTERNAL_H
#define LAUNCHPAD_DOCKER_INTERNAL_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>

#include "launchpad/buf.h"
#include "launchpad/docker.h"

/* Error bodies are small; anything bigger is truncated when it is only an error message. */
#define DK_ERR_BODY_MAX ((size_t)64 << 10)
/* Longest line of a JSON stream (events, pull progress). */
#define DK_LINE_MAX ((size_t)1 << 20)
/* A request path and query built around at most two checked names or ids (rename). */
#define DK_PATH_MAX (2 * LP_DOCKER_NAME_MAX + 128)
/* A request path with label filters (container list, events), JSON and URL-escaped. */
#define DK_QUERY_MAX ((size_t)16 << 10)
/* The URL handed to curl: "http://localhost/v<api>" and the path. */
#define DK_URL_MAX 4096
/* The daemon's message or the operation named in an error: human text, cut when longer. */
#define DK_MSG_MAX 512
/* An image reference, "registry/path:tag" or "...@sha256:<hex>". */
#define DK_IMAGE_REF_MAX 512

struct lp_docker {
	char socket_path[LP_DOCKER_SOCKET_MAX];
	long timeout_ms;
	long connect_timeout_ms;
	size_t max_body;
	char log_max_size[LP_DOCKER_LOG_SIZE_MAX]; /* json-file rotation of every container */
	int log_max_files;
	/* Negotiated version as major * 1000 + minor; 0 until negotiated. */
	atomic_int api;
	/* Serialises negotiation so concurrent first calls ask /version once. */
	pthread_mutex_t negotiate_lock;
	/*
	 * Serialises network_ensure: the engine's duplicate check is racy, and two threads that
	 * both see "not found" would create two networks with one name (every later use of the
	 * name is then ambiguous).
	 */
	pthread_mutex_t network_lock;
	atomic_uint_fast64_t reads;
	atomic_uint_fast64_t writes;
	atomic_uint_fast64_t write_ms;
};

/* Receives a 2xx body as it arrives; non-zero aborts the transfer (LP_ECANCELED). */
typedef int (*dk_sink_fn)(void *ctx, const char *data, size_t len);
/* Called once when the response headers of a 2xx answer are complete. */
typedef void (*dk_start_fn)(void *ctx);

typedef struct dk_req {
	const char *method; /* GET, POST, DELETE */
	const char *path;   /* "/containers/x/json?...", without the version prefix */
	int unversioned;    /* /version and /_ping */
	const char *body;   /* JSON; NULL: none (POST then sends an empty body) */
	int is_write;
	long timeout_ms; /* 0: none (streaming) */
	const lp_docker_cancel *cancel;
	dk_sink_fn sink; /* NULL: buffer the body in resp->body (capped at max_body) */
	void *sink_ctx;
	dk_start_fn on_start;
	void *start_ctx;
} dk_req;

typedef struct dk_resp {
	long status;
	lp_buf body; /* the body (no sink) or the error body (any non-2xx) */
} dk_resp;

void dk_resp_init(dk_resp *r);
void dk_resp_release(dk_resp *r);

/*
 * Perform a request at the negotiated version (negotiating first), renegotiating and retrying
 * once when refused for its version. Returns LP_OK when an HTTP status was received (whatever it
 * is), else the transport error (LP_EUNAVAILABLE, LP_ETIMEOUT, LP_ECANCELED, LP_ETOOBIG) in err.
 */
int dk_call(lp_docker *d, const dk_req *r, dk_resp *resp, lp_error *err) LP_MUST_CHECK;

/* Map a non-2xx answer to a code with the daemon's message; what names the operation. */
int dk_status_error(const dk_resp *resp, lp_error *err, const char *what);

/* The daemon's message from an error body ({"message":...} or plain text), into out (cut if long).
 */
void dk_error_message(char *out, size_t outlen, const dk_resp *resp);

/* A JSON string member into out ("" when absent); LP_ETOOBIG when it does not fit. */
int dk_json_copy(char *out, size_t outlen, const cJSON *obj, const char *key) LP_MUST_CHECK;

/* A request path into out (DK_PATH_MAX fits any built around checked names); LP_EINVAL if not. */
int dk_pathf(char *out, size_t outlen, lp_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5))) LP_MUST_CHECK;

/* LP_OK when s is a safe container/network name or id for a URL path segment. */
int dk_check_name(const char *s, const char *what, lp_error *err) LP_MUST_CHECK;
/* What json-file takes as max-size: digits (not all zeros) and an optional k, m or g. */
int dk_check_log_size(const char *s) LP_MUST_CHECK;

/* Parse "1.41" into 1041; -1 when malformed. */
int dk_parse_version(const char *s);

/* Copy a JSON string member into a fresh heap string ("" when absent); NULL on ENOMEM. */
char *dk_json_strdup(const cJSON *obj, const char *key);
/* Fill kv from a JSON object of strings; LP_OK or LP_ENOMEM. */
int dk_json_kv(lp_docker_kv **out, size_t *n, const cJSON *obj) LP_MUST_CHECK;
void dk_kv_free(lp_docker_kv *kv, size_t n);

/* Splits a stream into lines and hands each to fn (NUL-terminated, without the newline). */
typedef struct dk_lines {
	lp_buf line;
	int (*fn)(void *ctx, char *line);
	void *ctx;
	int failed; /* a line was too long */
} dk_lines;

void dk_lines_init(dk_lines *l, int (*fn)(void *ctx, char *line), void *ctx);
int dk_lines_feed(void *l, const char *data, size_t len);
int dk_lines_finish(dk_lines *l);
void dk_lines_release(dk_lines *l);

/*
 * The demultiplexer for the 8-byte framed log stream: {type, 0, 0, 0, size (big-endian u32)}
 * then size bytes. Frames may be split anywhere across feeds; payload is passed on as it
 * arrives, never buffered.
 */
#define DK_FRAME_HEADER_LEN 8

typedef struct dk_demux {
	unsigned char hdr[DK_FRAME_HEADER_LEN];
	size_t hdr_len;
	uint32_t remaining; /* payload bytes left in the current frame */
	int stream;
	int bad; /* not a framed stream */
	lp_docker_output_fn fn;
	void *ctx;
} dk_demux;

void dk_demux_init(dk_demux *m, lp_docker_output_fn fn, void *ctx);
/* LP_OK; LP_ECANCELED when fn asked to stop; LP_EREMOTE when the stream is not framed. */
int dk_demux_feed(dk_demux *m, const char *data, size_t len) LP_MUST_CHECK;
/* LP_OK at a frame boundary, LP_EREMOTE when the stream ended inside a frame. */
int dk_demux_finish(const dk_demux *m) LP_MUST_CHECK;

#endif
