/*
 * api_server.h: the apiserver suites' harness: the real launchpad-apiserver binary on loopback,
 * driven over HTTP with libcurl.
 *
 * lp_test_api_start() makes a temp data dir, spawns the binary from lp_test_bin_path() with
 * --listen 127.0.0.1:0 and --public-url https://tunnel.example (plus extra flags), learns the
 * port from its `listening on` line (its stderr is <dir>/apiserver.log) and reads the admin token
 * (asserting mode 0600). lp_test_api_stop() SIGTERMs it, asserts a clean exit and removes the
 * dir. Every helper fails the running test (ck_assert) on what it cannot do.
 *
 * A lp_test_api_resp owns its body and its JSON parse: lp_test_api_resp_free() releases both.
 * Objects returned as cJSON * are the caller's (cJSON_Delete); lp_store * handles are the
 * caller's (lp_store_close).
 */
#ifndef LAUNCHPAD_TEST_API_SERVER_H
#define LAUNCHPAD_TEST_API_SERVER_H

#include <stddef.h>
#include <sys/types.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "launchpad/buf.h"
#include "launchpad/store.h"

/* The server under test. */
struct lp_test_api {
	pid_t pid;
	char *dir; /* its data dir */
	unsigned port;
	char token[128]; /* the admin token */
	char base[64];   /* "http://127.0.0.1:PORT" */
};

/* An answer: status (negative: the curl error), body, a few headers, and the body as JSON. */
struct lp_test_api_resp {
	long status;
	lp_buf body;
	char etag[64];
	char allow[128];
	char acao[128]; /* Access-Control-Allow-Origin */
	char cache_control[128];
	char content_type[128];
	char retry_after[32];
	cJSON *json; /* NULL when the body is not JSON */
};

/* The seed's GitHub example, verbatim. */
extern const char lp_test_api_seed_github_body[];
/* A Site manifest in YAML: printf it with the name and a COUNTER env value. */
extern const char lp_test_api_manifest_fmt[];

/* Start the server; extra: NULL-terminated extra flags, or NULL. */
void lp_test_api_start(struct lp_test_api *s, const char *const *extra);
void lp_test_api_stop(struct lp_test_api *s);
/*
 * Stop the server with sig (SIGKILL: as a crash; anything else must exit cleanly) and start it
 * again on the same data dir with extra flags; the token stays, the port may change.
 */
void lp_test_api_restart(struct lp_test_api *s, int sig, const char *const *extra);
/* A handle on the server's store, for what the controller would write. */
lp_store *lp_test_api_store(struct lp_test_api *s);

/*
 * One request. token NULL = the admin token, "" = none. headers: NULL-terminated extra headers.
 * mime (may be NULL) sends multipart. curl (may be NULL) reuses a handle. Returns out->status.
 */
long lp_test_api_request(CURL *curl, struct lp_test_api *s, const char *method, const char *path,
                         const char *ctype, const void *body, size_t len, const char *token,
                         const char *const *headers, curl_mime *mime, struct lp_test_api_resp *out);
/* The same with the admin token and a string body (or NULL). */
long lp_test_api_http(struct lp_test_api *s, const char *method, const char *path,
                      const char *ctype, const char *body, struct lp_test_api_resp *out);
void lp_test_api_resp_free(struct lp_test_api_resp *r);

/* A string member of o, or NULL; a number member of o, or -1. */
const char *lp_test_api_jstr(const cJSON *o, const char *key);
double lp_test_api_jnum(const cJSON *o, const char *key);
/* The answer is the error shape with this status and code, and details is an array. */
void lp_test_api_assert_error(const struct lp_test_api_resp *r, long status, const char *code);

/* Create the seed's GitHub deployment (body NULL: the seed's example); returns its JSON. */
cJSON *lp_test_api_create_github(struct lp_test_api *s, const char *body);
/* GET /api/deployments/<id> (200 asserted); returns its JSON. */
cJSON *lp_test_api_get_site(struct lp_test_api *s, const char *id);
/* PUT the manifest of name with COUNTER=counter; if_match and query ("?dryRun=1") optional. */
long lp_test_api_put_manifest(CURL *c, struct lp_test_api *s, const char *name, int counter,
                              const char *if_match, const char *query, struct lp_test_api_resp *r);

/* Connect and send head (request line and headers, "\r\n\r\n" included) plus a body prefix. */
int lp_test_api_raw_open(struct lp_test_api *s, const char *head, const char *body_prefix);

#endif
