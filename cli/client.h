/*
 * client.h: the CLI's HTTP client for the LaunchPad API (libcurl): bearer token, timeouts, a
 * capped response buffer, JSON error bodies, multipart uploads with a progress bar, SSE streams.
 *
 * An lp_cli_client is a plain value that borrows its strings from the caller (usually lp_config).
 * An lp_cli_resp owns body and json: release it with lp_cli_resp_release(). Transport failures
 * (the server cannot be reached, a timeout) return an error whose message names the server URL;
 * any HTTP status is LP_OK and the caller looks at resp.status.
 */
#ifndef LAUNCHPAD_CLI_CLIENT_H
#define LAUNCHPAD_CLI_CLIENT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "launchpad/error.h"

#define LP_CLI_RESP_MAX        ((size_t)32 << 20) /* a list of 1,000 sites is ~6 MB */
#define LP_CLI_CONNECT_TIMEOUT 10L                /* seconds to establish a connection */
#define LP_CLI_REQUEST_TIMEOUT 120L               /* seconds for one ordinary request */
#define LP_CLI_STALL_SECONDS   90L /* uploads/streams: abort after this long without a byte */
#define LP_CLI_SSE_LINE_MAX    65536
#define LP_CLI_TOKEN_MAX       4096 /* bytes of a token, NUL included */
#define LP_CLI_API_PATH_MAX    512  /* "/api/deployments/NAME/..." with NAME percent-encoded */

typedef struct lp_cli_client {
	const char *server; /* "http://127.0.0.1:8080" (a trailing slash is fine) */
	const char *token;  /* NULL or "": no Authorization header */
} lp_cli_client;

typedef struct lp_cli_resp {
	long status; /* HTTP status */
	char *body;  /* NUL-terminated */
	size_t len;
	cJSON *json; /* the parsed body, NULL when it is not JSON */
} lp_cli_resp;

void lp_cli_resp_release(lp_cli_resp *r);

/* One request. body may be NULL; content_type NULL sends none. */
int lp_cli_request(lp_cli_resp *out, const lp_cli_client *c, const char *method, const char *path,
                   const char *content_type, const char *body, size_t len,
                   lp_error *err) LP_MUST_CHECK;

/*
 * multipart/form-data POST: fields are name, value pairs (NULL-terminated, may be NULL); file_path
 * (may be NULL) becomes the part "file" named upload_name. progress: draw a bar on stderr.
 */
int lp_cli_upload(lp_cli_resp *out, const lp_cli_client *c, const char *path,
                  const char *const *fields, const char *file_path, const char *upload_name,
                  int progress, lp_error *err) LP_MUST_CHECK;

/*
 * An SSE event stream: on_data gets each `data:` payload (without the prefix), on_event each
 * `event:` name; either returns non-zero to stop reading. idle_ms > 0 stops once no byte came for
 * that long; *cancel (may be NULL) turning non-zero stops it too. *out_status gets the HTTP status;
 * a non-2xx answer's body goes to *out_error (a resp the caller releases) and LP_OK is returned.
 */
typedef int (*lp_cli_sse_fn)(const char *field, const char *value, void *ctx);
int lp_cli_stream(long *out_status, lp_cli_resp *out_error, const lp_cli_client *c,
                  const char *path, int idle_ms, const int *cancel, lp_cli_sse_fn fn, void *ctx,
                  lp_error *err) LP_MUST_CHECK;

/* Split one SSE line into field and value ("data: x" -> "data", "x"); 0 for comments/blank. */
int lp_cli_sse_split(char *line, const char **field, const char **value);

/*
 * Print an API error answer to stderr: "launchpad CMD: CODE: message (HTTP n)" and one
 * "  path (line:col): message" line per detail. A non-JSON answer prints its status and body.
 */
void lp_cli_print_api_error(const char *cmd, const lp_cli_resp *r);

/* The answer's "warnings" (strings), each to stderr as "warning: TEXT"; nothing without any. */
void lp_cli_print_warnings(const cJSON *json);

/* The error's code string ("not_found"), or "" when the answer has none. */
const char *lp_cli_error_code(const lp_cli_resp *r);

/*
 * Percent-encode a path segment into out (returns out; it stops before the first character that
 * does not fit in n - 1 bytes). Request paths go through lp_cli_site_path, which refuses instead.
 */
char *lp_cli_escape(char *out, size_t n, const char *segment);

/*
 * A site's API path, "/api/deployments/" NAME (percent-encoded) tail, into out (n bytes; tail
 * "" or "/revisions", "?dryRun=1"...). LP_ETOOBIG (out "", err naming the name's length) when
 * it does not fit: a request is never sent for a cut name.
 */
int lp_cli_site_path(char *out, size_t n, const char *name, const char *tail,
                     lp_error *err) LP_MUST_CHECK;

#endif
