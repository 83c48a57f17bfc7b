/*
 * apiserver_internal.h: what the apiserver's files (and its tests) share.
 *
 * Ownership: the server (lp_apiserver) owns its store pool, metrics, route slots and CORS list.
 * One api_req lives from the first callback of a request to its completion, which releases what
 * the request still holds: its store handle, route slot, body, form and upload, and hook_state
 * (through hook_free). What a handler reads from the request (param, headers, body) is borrowed
 * for the request. Store objects returned here (api_site_lookup, api_revision_lookup) and
 * strings handed back through **out are the caller's to free.
 */
#ifndef LAUNCHPAD_APISERVER_INTERNAL_H
#define LAUNCHPAD_APISERVER_INTERNAL_H

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <time.h>

#include "apiserver/apiserver.h"
#include "apiserver/gate.h"
#include "launchpad/buf.h"
#include "launchpad/config.h"
#include "launchpad/crypto.h"
#include "pipeline/archive.h"
#include "launchpad/error.h"
#include "launchpad/fs.h"
#include "launchpad/secrets.h"
#include "launchpad/spec.h"
#include "launchpad/store.h"

/* Limits of the server (the upload cap comes from cfg->upload_max_mb). */
#define API_DOC_MAX        ((size_t)1 << 20)  /* JSON / YAML request bodies */
#define API_WEBHOOK_MAX    ((size_t)25 << 20) /* GitHub's own payload cap */
#define API_FORM_FIELD_MAX ((size_t)64 << 10) /* one non-file multipart field */
#define API_FORM_FIELDS    32                 /* non-file multipart fields */
#define API_DRAIN_MAX      ((size_t)4 << 20)  /* bytes read past a cap before hanging up */
#define API_CONN_LIMIT     512 /* connections with a complete head (one thread each); gate.h */
#define API_CONN_TIMEOUT   60  /* seconds a connection may stay idle (beside gate.h's deadlines) */
/* libmicrohttpd's own limit, above the gate's (which counts first): it never drops one silently */
#define API_DAEMON_CONN_LIMIT   (API_CONN_LIMIT + 16)
#define API_FIELD_WHAT_MAX      128                 /* "form field \"<name>\"" in a message (cut) */
#define API_CONN_MEMORY         ((size_t)128 << 10) /* per-connection header and read buffer */
#define API_STORE_POOL          64                  /* store handles shared by request threads */
#define API_STORE_WAIT_MS       5000                /* wait for a free handle before 503 */
#define API_SSE_KEEPALIVE_S     15                  /* SSE comment interval */
#define API_SSE_MAX_S           3600                /* longest a log stream stays open */
#define API_LIST_LIMIT          1000                /* rows of revisions/events lists */
#define API_LIST_PAGE_MAX       500                 /* ?limit= of a paged site list, at most */
#define API_LIST_BATCH          32                  /* sites per store query of a streamed list */
#define API_SITE_JSON_MAX       ((size_t)2 << 20)   /* one deployment object (spec 1 MiB, status) */
#define API_WEBHOOK_BODIES      6                   /* webhook bodies received at once (memory) */
#define API_WEBHOOK_SITE_BODIES 2    /* of those, for one site (its URL cannot take them all) */
#define API_SSE_STREAMS         128  /* log streams open at once (each holds a thread) */
#define API_RATE_SITES          1024 /* sites whose revision requests are counted at once */
#define API_QUERY_ARGS          32   /* query parameters of one request */
#define API_EARLY_ANSWER_MAX    2048 /* an error answer written outside libmicrohttpd */
#define API_METRICS_TTL_S       10   /* store figures of /metrics are reused this long */

/* Fixed text buffers, NUL included. */
#define API_PARAM_MAX       256 /* the :id segment of a path (a longer one matches no route) */
#define API_ALLOW_MAX       96  /* the Allow header: the methods of one path */
#define API_MEDIA_TYPE_MAX  128 /* a Content-Type without its parameters (longer: cut) */
#define API_ETAG_MAX        sizeof("\"-9223372036854775808\"") /* a quoted int64 */
#define API_RETRY_AFTER_MAX sizeof("-2147483648")              /* an int's digits */
#define API_TIME_MAX        40                                 /* an ISO-8601 UTC time */
#define API_MESSAGE_MAX     128             /* a short message the API writes into the store */
#define API_URL_MAX         LP_SITE_URL_MAX /* a URL shown to clients */
#define API_SECRET_BYTES    32              /* random bytes of a secret */
#define API_SECRET_LEN      (2 * API_SECRET_BYTES + 1) /* its hex text */
/* "sha256:<hex>", an archive digest as a spec and a revision source name it */
#define API_DIGEST_REF_MAX (sizeof("sha256:") - 1 + LP_SHA256_HEX_LEN)

/* ---- the pure parts (slug.c, util.c, upload.c) ---- */

/*
 * A random adjective-noun slug ("graceful-fox"). From attempt API_SLUG_PLAIN_TRIES on, a
 * 4-hex-digit suffix is appended ("graceful-fox-3f2a") so repeated collisions still converge.
 */
#define API_SLUG_PLAIN_TRIES 8
#define API_SLUG_MAX         64
int api_slug_generate(char out[API_SLUG_MAX], unsigned attempt) LP_MUST_CHECK;
/* 1 when s is a DNS label: [a-z0-9-], 1..63 chars, no leading or trailing '-'. */
int api_slug_valid(const char *s);

/*
 * Check a GitHub X-Hub-Signature-256 header ("sha256=<hex>") against HMAC-SHA256(secret, body)
 * in constant time. LP_OK when it matches, LP_EAUTH otherwise (missing or malformed included).
 */
int api_webhook_verify(const char *secret, const void *body, size_t len,
                       const char *header) LP_MUST_CHECK;

/* Decode application/x-www-form-urlencoded value bytes ('+' and %XX); returns the new length. */
size_t api_urldecode(char *s, size_t len);

/* ---- input decoding (input.c): every string the API takes is NUL-free UTF-8 ---- */

/* LP_OK when s[0..len) has no NUL and is well-formed UTF-8; else LP_EINVAL naming what. */
int api_text_check(const char *s, size_t len, const char *what, lp_error *err) LP_MUST_CHECK;
/* A JSON text as api_text_check wants it, with no \u0000 escape in any string. */
int api_json_check(const char *text, size_t len, lp_error *err) LP_MUST_CHECK;
/* Parse one JSON document (api_json_check first): nothing but blanks may follow it. */
int api_json_parse(cJSON **out, const char *text, size_t len, lp_error *err) LP_MUST_CHECK;

/* A query parameter, decoded; value NULL when it had no '='. */
struct api_query_arg {
	char *key;
	char *value;
};
/*
 * Split a raw request target ("/path?query", as it came) into its percent-decoded path (*out_path,
 * the caller's) and up to API_QUERY_ARGS parameters (args, released with api_query_release).
 * LP_EINVAL for a malformed %-escape, a NUL, invalid UTF-8 or too many parameters.
 */
int api_target_decode(char **out_path, struct api_query_arg *args, size_t *out_nargs,
                      const char *raw, lp_error *err) LP_MUST_CHECK;
void api_query_release(struct api_query_arg *args, size_t n);

/* ---- revision requests per site (ratelimit.c): token buckets ---- */

struct api_rate;
/* burst tokens per site, per_minute of them regained a minute; burst 0: no limit. */
int api_rate_new(struct api_rate **out, int burst, int per_minute) LP_MUST_CHECK;
void api_rate_free(struct api_rate *rt);
/* Take one of site's tokens at now_ms: LP_OK, or LP_ERATE with the seconds until one is back. */
int api_rate_take(struct api_rate *rt, const char *site, int64_t now_ms,
                  int *out_retry_after) LP_MUST_CHECK;
/* Give a token back (the request asked for no revision after all). */
void api_rate_give(struct api_rate *rt, const char *site, int64_t now_ms);

/*
 * A streamed upload into data_dir: bytes go to a temp file in its uploads folder while a SHA-256
 * is computed; finishing fsyncs and checks it, publishing links it to its archive path
 * (lp_layout_archive: content-addressed, so an identical upload is stored once). The first bytes
 * must be a zip (PK\3\4, ext "zip") or gzip (1f 8b, ext "tar.gz") header, else LP_EUNSUPPORTED;
 * more than max bytes is LP_ETOOBIG. The caller owns the upload; freeing it removes its temp
 * file, so an upload that is never published leaves nothing behind.
 */
typedef struct api_upload api_upload;
int api_upload_new(api_upload **out, const char *data_dir, size_t max, lp_error *err) LP_MUST_CHECK;
int api_upload_write(api_upload *u, const void *data, size_t n, lp_error *err) LP_MUST_CHECK;
/*
 * The body is complete: digest gets the hex SHA-256. Empty upload: LP_EINVAL. With check, the
 * archive's headers must pass lp_archive_check under those limits (LP_EUNSAFE naming the entry,
 * LP_ETOOBIG, LP_EINVAL "corrupt or truncated").
 */
int api_upload_finish(api_upload *u, char digest[LP_SHA256_HEX_LEN], const lp_archive_limits *check,
                      lp_error *err) LP_MUST_CHECK;
/*
 * Once the request is known to be good, just before the store names the digest (under the write
 * lock): the finished upload appears at its archive path, or, when that holds these bytes
 * already, the file there is touched so the controller's gc (which spares what changed within
 * --archive-grace) keeps it. *out is the path (caller frees).
 */
int api_upload_publish(char **out, api_upload *u, lp_error *err) LP_MUST_CHECK;
/* The store refused what was published: remove the archive again if this upload made it. */
void api_upload_withdraw(api_upload *u);
size_t api_upload_size(const api_upload *u);
void api_upload_free(api_upload *u);
/* Start-up: remove the temp files of uploads a killed apiserver left; *out counts them. */
int api_upload_clear_temps(size_t *out, const char *data_dir, lp_error *err) LP_MUST_CHECK;

/* ---- the framework (server.c, routes.c) ---- */

enum api_body {
	API_BODY_NONE = 0, /* a body is refused */
	API_BODY_DOC,      /* JSON or YAML, buffered up to API_DOC_MAX */
	API_BODY_FORM,     /* multipart/form-data (file streamed to disk) or JSON */
	API_BODY_RAW /* bytes as they came, up to the route's body_max (a signature covers them) */
};

enum api_auth { API_AUTH_NONE = 0, API_AUTH_TOKEN, API_AUTH_METRICS };

/*
 * Who may use a route once authenticated: any user, or admins only (a member gets 403: the route
 * exists for everyone, its use is what is refused).
 */
enum api_role { API_ROLE_ANY = 0, API_ROLE_ADMIN };

/*
 * What :id names. API_SCOPE_SITE: a site the caller must own (admins own every site); the
 * framework looks it up before any hook or handler, and a site of another user is answered 404
 * exactly as one that does not exist (no enumeration). A site that does not exist passes: the
 * handler answers (404, or PUT creating it). Every token route with :id under /api/deployments
 * must have it (check_api_units checks the table); webhooks have no user and are checked by HMAC.
 */
enum api_scope { API_SCOPE_NONE = 0, API_SCOPE_SITE };

struct api_req;
typedef void (*api_handler)(struct api_req *r);
/* A step of a route's intake: LP_OK to go on; otherwise it has queued the reply. */
typedef int (*api_hook)(struct api_req *r);

/*
 * One endpoint. The framework (server.c) runs, in order: auth, before_body (the headers are in,
 * not a byte of the body is read: refuse early what is refused anyway), the body intake,
 * after_body (the body is complete; outside the write lock, so slow checks do not queue the
 * writers) and the handler (under the write lock unless the method is GET). What a hook keeps
 * for later steps goes in api_req.hook_state.
 */
struct api_route {
	const char *method;
	const char *pattern; /* "/api/deployments/:id/logs"; also the metrics label */
	api_handler handler;
	enum api_auth auth;
	enum api_role role;   /* with API_AUTH_TOKEN */
	enum api_scope scope; /* with API_AUTH_TOKEN */
	enum api_body body;
	size_t body_max;     /* API_BODY_RAW: the largest body taken (0: API_DOC_MAX) */
	unsigned slots;      /* > 0: at most this many requests hold a slot at once (api_slot_*) */
	unsigned site_slots; /* > 0: of those, at most this many for one site (api_slot_try) */
	/* 1: asks for a revision of :id; a token of the site's bucket is taken before the body
	 * (429 when there is none) and given back unless the request did ask for one */
	int revision_limited;
	api_hook before_body; /* optional */
	api_hook after_body;  /* optional */
	/* 1: answers any path of its method that no other route has, outside /api/ (the
	 * dashboard's files and its client routes); takes no part in 405 answers. */
	int fallback;
};

extern const struct api_route api_routes[];
extern const size_t api_nroutes;

struct api_metrics;

/* The store handles of the server (pool.c); the pool owns them. */
struct api_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char db_path[LP_FS_PATH_MAX];
	lp_store *idle[API_STORE_POOL];
	size_t nfree; /* handles in idle[0..nfree) are free to borrow */
	size_t nopen; /* handles opened so far */
	int ready;    /* initialised: api_pool_close has something to undo */
};

/*
 * The text around a site's name (or id) in the URLs of its object, made once from the config:
 * formatting each URL again for each of 1,000 listed sites was a tenth of the list's time.
 * A piece that cannot be made (ok 0) leaves the writer on lp_config's functions.
 */
struct api_site_urls {
	const lp_config *cfg;
	int ok;
	char site_pre[API_URL_MAX], site_post[API_URL_MAX];   /* pre + name + post */
	char hook_pre[API_URL_MAX];                           /* pre + id */
	char cname_pre[API_URL_MAX], cname_post[API_URL_MAX]; /* pre + name + post, or a fixed */
	int cname_fixed;                                      /* target (cname_pre) */
	size_t site_pre_len, site_post_len, hook_pre_len, cname_pre_len, cname_post_len;
};

struct lp_apiserver {
	const lp_config *cfg;
	struct MHD_Daemon *daemon;
	unsigned port;
	size_t upload_max;
	lp_archive_limits archive_limits; /* what an upload's headers must pass */
	char **cors;
	size_t ncors;

	struct api_pool pool;
	struct api_site_urls urls; /* what the deployment objects' URLs are made of */
	struct api_metrics *metrics;
	/*
	 * Writing handlers run one at a time. SQLite admits one writer anyway; a mutex queues them
	 * fairly, where SQLite's busy handler sleeps and polls and starves some under load.
	 */
	pthread_mutex_t write_mu;
	sem_t *slots; /* [api_nroutes]; initialised for the routes with slots > 0 */
	/* [api_nroutes]: for routes with site_slots, which site holds each slot ("" free) */
	struct api_slot_holders *holders;
	pthread_mutex_t holders_mu;
	struct api_gate *gate; /* the connections until their heads are in, and their deadlines */
	struct api_rate *rate; /* revision requests per site */
	/* login attempts per user name and per client address (users.c) */
	struct api_rate *login_user_rate;
	struct api_rate *login_ip_rate;
	int stopping;        /* set (atomically) before the daemon stops: log streams end */
	int dashboard_fd;    /* the built dashboard's directory, or -1 */
	lp_keyring *keyring; /* seals secret env values (secrets.c) */
	pthread_mutex_t keyring_mu;
};

/* A multipart form being received. */
struct api_form {
	char *keys[API_FORM_FIELDS];
	lp_buf values[API_FORM_FIELDS];
	size_t n;
	api_upload *upload; /* the "file" part */
	int have_file;
	int finished; /* the upload is complete and checked: digest is set */
	char digest[LP_SHA256_HEX_LEN];
};

struct api_req {
	lp_apiserver *srv;
	struct MHD_Connection *conn;
	const struct api_route *route; /* NULL: no route matched */
	const char *method;
	const char *url;  /* the decoded path (the raw target until it is decoded) */
	char *raw_target; /* as it came, from libmicrohttpd's URI log callback */
	char *path;       /* decoded: NUL-free UTF-8 */
	struct api_query_arg query[API_QUERY_ARGS];
	size_t nquery;
	char param[API_PARAM_MAX]; /* the :id segment */
	struct timespec t0;
	int started; /* the access handler has seen the request */

	/* body */
	enum api_body body_kind; /* what this request actually carries */
	int multipart;
	lp_buf body;
	size_t body_max;
	size_t body_seen;
	int body_failed;
	lp_error body_err;
	struct MHD_PostProcessor *pp;
	struct api_form form;
	int answered;
	int early; /* answered on the socket ahead of the body (api_reply_early) */

	/* reply */
	struct MHD_Response *resp;
	int status;
	size_t resp_len;
	const char *allow;       /* Allow header for 405 */
	char etag[API_ETAG_MAX]; /* ETag header (a site's resource_version) when set */
	lp_store *store; /* borrowed lazily; given back after authentication and at the end */
	lp_store_principal who; /* the authenticated token's user; zero on open routes */

	int retry_after; /* > 0: a Retry-After header of the reply, seconds */
	int slot_held;   /* one of the route's slots is taken (api_slot_*) */
	int slot_index;  /* which, for a route with site_slots */
	/* a revision token of site rate_site is held; revision_requested keeps it spent */
	int rate_taken;
	int revision_requested;
	char rate_site[LP_STORE_ID_LEN];
	/* what the route's hooks keep for its handler; hook_free(hook_state) at the end if set */
	void *hook_state;
	void (*hook_free)(void *state);
};

/* ---- replies (http.c) ---- */

/* Reply with obj (consumed) as JSON. */
void api_reply_json(struct api_req *r, int status, cJSON *obj);
/* Reply {"error":{"code","message","details"}} with the status of code; details consumed. */
void api_reply_error(struct api_req *r, int code, cJSON *details, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same from an lp_error. */
void api_reply_lperr(struct api_req *r, const lp_error *err);
/* Reply with JSON text already written into json (its storage is taken; site_json.c). */
void api_reply_json_text(struct api_req *r, int status, lp_buf *json);
/*
 * Answer err now, while the body is still arriving (over its cap, malformed, not an archive):
 * written to the socket with Connection: close; the rest of the body is dropped, then the
 * connection shut (gate.h). Nothing of the body is used any more.
 */
void api_reply_early(struct api_req *r, const lp_error *err);
/* An HTTP/1.1 answer in the one error shape with Connection: close, for the socket directly. */
int api_error_response(lp_buf *out, int code, int retry_after, const char *msg) LP_MUST_CHECK;
/* Reply with a prepared MHD response (consumed); len counts toward the request log. */
void api_reply_raw(struct api_req *r, int status, struct MHD_Response *resp, size_t len);
/* A header value of the request, or NULL. */
const char *api_header(struct api_req *r, const char *name);
/* A query argument (decoded), or NULL. */
const char *api_query(struct api_req *r, const char *name);
/* The media type of the request without parameters, lowercased into buf ("" when absent). */
const char *api_content_type(struct api_req *r, char *buf, size_t len);
/* The ETag header of the reply: a site's resource_version, quoted. */
void api_set_etag(struct api_req *r, int64_t version);
/* An ISO-8601 UTC time string for ms since the epoch; NULL (JSON null) for 0. */
cJSON *api_time_json(int64_t ms);

/* ---- route slots (server.c) ---- */

/* Wait for one of the route's slots (r->route->slots > 0). */
void api_slot_wait(struct api_req *r);
/*
 * Take one of the route's slots if one is free, and for a route with site_slots only while site
 * (its id) holds fewer than those: LP_OK, or at once LP_EUNAVAILABLE (the route's slots are
 * taken) or LP_ERATE (site's share is).
 */
int api_slot_try(struct api_req *r, const char *site) LP_MUST_CHECK;
/* Give the slot back before the end of the request; a request without one is a no-op. */
void api_slot_give(struct api_req *r);

/* ---- store pool (pool.c) ---- */

/* An empty pool of handles on the store of data_dir; api_pool_close closes them all. */
int api_pool_init(struct api_pool *p, const char *data_dir, lp_error *err) LP_MUST_CHECK;
/* Close every idle handle and free the pool's own memory; a pool never initialised is a no-op. */
void api_pool_close(struct api_pool *p);
/*
 * Borrow a handle (waiting up to API_STORE_WAIT_MS for one), or NULL with err's code
 * LP_EUNAVAILABLE. For work outside a request (SSE, metrics); a request uses api_store.
 */
lp_store *api_pool_get(struct api_pool *p, lp_error *err);
/* Give a borrowed handle back; NULL is a no-op. */
void api_pool_put(struct api_pool *p, lp_store *st);
/* The request's store handle (borrowed on first use). NULL after replying 503. */
lp_store *api_store(struct api_req *r);
/* Give the request's handle back early (before a long wait); api_store borrows again. */
void api_store_release(struct api_req *r);

/* ---- what the site handlers share (sites.c) ---- */

/*
 * Find :id (a site id or name) or reply 404; the site is the caller's. A site the request's user
 * may not see (api_site_visible) is answered as one that does not exist.
 */
lp_store_site *api_site_lookup(struct api_req *r);
/* :id into *out without replying: LP_ENOTFOUND (err untouched) when absent. */
int api_site_find(lp_store_site **out, struct api_req *r, lp_error *err) LP_MUST_CHECK;
/* 404 for :id, the same answer for a missing site and one the user may not see. */
void api_reply_not_found(struct api_req *r);
/* 1 when the request's user owns site or is an admin, or the route has no user (webhooks). */
int api_site_visible(const struct api_req *r, const lp_store_site *site);
/* Whose sites a list shows: the member's own (their id), or every site for an admin (0). */
int64_t api_list_owner(const struct api_req *r);
/* 1 when the request's user is an admin. */
int api_is_admin(const struct api_req *r);
/* The deployment object the seed's clients expect, plus our status fields. */
cJSON *api_site_json(struct api_req *r, const lp_store_site *site);
/* The pieces of cfg's URLs into out (which keeps cfg); never fails (ok says which path). */
void api_site_urls_init(struct api_site_urls *out, const lp_config *cfg);
/*
 * The same object as compact JSON text appended to b (site_json.c), from the site and its status
 * (NULL: none yet): the bytes cJSON_PrintUnformatted(api_site_json(...)) gives. LP_ETOOBIG past
 * b's cap.
 */
int api_site_write(lp_buf *b, const struct api_site_urls *urls, const lp_store_site *site,
                   const lp_store_status *stt) LP_MUST_CHECK;
/* Reply with the site (re-read from the store) and its ETag. */
/*
 * ?draft=true|1|false|0 (absent: 0) into *out; replies 400 and returns LP_EINVAL for another
 * value. A draft revision is built and published without becoming desired (docs/api.md).
 */
int api_draft_param(int *out, struct api_req *r) LP_MUST_CHECK;
/* 202 with the site object, "result":"draft", the revision, "draft":true and its permalink. */
void api_reply_draft(struct api_req *r, const char *id, int64_t revision);
void api_reply_site(struct api_req *r, int status, const char *id, const char *result,
                    int64_t revision);
/* The same with warnings (a cJSON array of strings, taken over; NULL: none) beside the site. */
void api_reply_site_warned(struct api_req *r, int status, const char *id, const char *result,
                           int64_t revision, cJSON *warnings);
/* The If-Match header as a resource_version (0 when absent); replies 400 and fails when bad. */
int api_if_match(int64_t *out, struct api_req *r) LP_MUST_CHECK;
/* Parse a stored canonical spec. */
int api_site_spec(lp_site **out, struct api_req *r, const lp_store_site *site,
                  lp_error *err) LP_MUST_CHECK;
/* The spec options of this server (insecure sources, wildcard domains allowed or not). */
const lp_spec_options *api_spec_opts(struct api_req *r);
/* A new webhook secret: API_SECRET_BYTES random bytes in hex. */
int api_secret_new(char out[API_SECRET_LEN]) LP_MUST_CHECK;
/* "sha256:<hex>" into out; LP_ETOOBIG when hex is longer than a SHA-256. */
int api_digest_ref(char out[API_DIGEST_REF_MAX], const char *hex) LP_MUST_CHECK;
/* Reply 400 (a manifest error at metadata.name) for a name the installation reserves. */
int api_reply_reserved(struct api_req *r, const char *name);
/* 400 at spec.build.image: the image is not on --build-images; returns LP_EINVAL. */
int api_reply_build_image(struct api_req *r, const char *image);
/* 1 after answering 400 when site names a build or app image the installation does not allow. */
int api_reply_images(struct api_req *r, const lp_site *site);
/*
 * When one of site's domains is the platform's own (lp_config_domain_reserved): reply 400 in the
 * shape of a manifest error and return 1; else 0.
 */
int api_reply_domain_reserved(struct api_req *r, const lp_site *site);
/* 1 (and 409 replied) when the site is being deleted: it takes no new spec or revision. */
int api_site_deleting(struct api_req *r, const lp_store_site *site);
/* Revision number of site (the caller's), or NULL after replying 404 or the store's error. */
lp_store_revision *api_revision_lookup(struct api_req *r, const lp_store_site *site,
                                       int64_t number);
/* Publish the request's finished upload (api_upload_publish); replies and fails when it cannot. */
int api_publish_upload(struct api_req *r) LP_MUST_CHECK;
/* Record an event of the site; one that cannot be stored is logged (the change itself is). */
void api_event(struct api_req *r, const char *site_id, lp_store_event_type type, const char *reason,
               const char *message);

/* ---- secret env values (secrets.c) ---- */

/* Load (or make, 0600) the master key file; LP_EUNSAFE when others may read it. */
int api_keyring_load(lp_apiserver *s, lp_error *err) LP_MUST_CHECK;
/*
 * Seal every secret of site (a spec a client sent) for site_id: a value equal to the stored
 * one's (stored: the site's stored spec, or NULL) keeps its sealed text, "***" keeps the stored
 * secret. Replies 400 and fails for a secret with no value or a "***" with nothing stored.
 */
int api_seal_env(struct api_req *r, lp_site *site, const char *site_id,
                 const lp_site *stored) LP_MUST_CHECK;
/* Replace every secret of a spec document (as stored) by {value: "***", secret: true}. */
void api_redact_spec(cJSON *doc);
/* PUT/DELETE .../git-credential: a private repository's token, sealed like a secret. */
void api_h_git_credential_put(struct api_req *r);
void api_h_git_credential_delete(struct api_req *r);

/* ---- previews (previews.c, docs/previews.md) ---- */

/* What a preview is built from: its site name, its Git ref and commit, and whether env goes. */
struct api_preview {
	const char *name;   /* <parent>--pr-<n> or <parent>--<branch-slug> */
	const char *ref;    /* the branch, or refs/pull/<n>/head */
	const char *commit; /* the commit to build */
	int without_env;    /* a fork's pull request without previews.forkEnv: no build.env */
};

struct api_preview_result {
	int created;                   /* the preview site is new (its revision 1) */
	int64_t revision;              /* the revision requested; 0 with ignored */
	const char *ignored;           /* why nothing was requested (a static text), or NULL */
	char site_id[LP_STORE_ID_LEN]; /* the preview's id */
};

/*
 * "<parent>--<slug>" for a branch: lowercase [a-z0-9-]; a slug that is not exactly its branch,
 * too long, or shaped like "r<n>" / "pr-<n>" ends in 8 hex digits of SHA-256(branch), so two
 * branches never share a host. LP_ETOOBIG when the parent's name leaves no room.
 */
int api_preview_branch_name(char *out, size_t outlen, const char *parent, const char *branch,
                            lp_error *err) LP_MUST_CHECK;
int api_preview_pr_name(char *out, size_t outlen, const char *parent, long number,
                        lp_error *err) LP_MUST_CHECK;
int api_preview_pull_ref(char *out, size_t outlen, long number) LP_MUST_CHECK;
/*
 * Create the preview (its revision 1 builds pv->commit; past spec.previews.max the oldest
 * preview is removed first) or request a new revision of it (its spec follows the parent's);
 * a commit it built already requests nothing (out->ignored says why). LP_ECONFLICT when the
 * name is another site's, or the preview is being removed.
 */
int api_preview_deploy(struct api_preview_result *out, struct api_req *r,
                       const lp_store_site *parent, const lp_site *pspec,
                       const struct api_preview *pv, lp_error *err) LP_MUST_CHECK;
/* Mark the preview name of parent deleted (the controller removes it); none is not an error. */
int api_preview_remove(int *out_removed, struct api_req *r, const lp_store_site *parent,
                       const char *name, lp_error *err) LP_MUST_CHECK;

/* ---- metrics (metrics.c) ---- */

int api_metrics_new(struct api_metrics **out) LP_MUST_CHECK;
void api_metrics_free(struct api_metrics *m);
/* route_idx == api_nroutes counts requests that matched no route. */
void api_metrics_count(struct api_metrics *m, size_t route_idx, int status, double seconds);

/* ---- handlers ---- */

void api_h_healthz(struct api_req *r);
void api_h_readyz(struct api_req *r);
void api_h_metrics(struct api_req *r);
void api_h_list(struct api_req *r);
void api_h_create(struct api_req *r);
void api_h_get(struct api_req *r);
void api_h_delete(struct api_req *r);
void api_h_apply(struct api_req *r);
void api_h_redeploy(struct api_req *r);
void api_h_archive(struct api_req *r);
void api_h_revisions(struct api_req *r);
void api_h_rollback(struct api_req *r);
void api_h_cancel(struct api_req *r);
void api_h_logs(struct api_req *r);
void api_h_events(struct api_req *r);
void api_h_site_metrics(struct api_req *r); /* site_metrics.c */
void api_h_webhook(struct api_req *r);
void api_h_webhook_info(struct api_req *r);
void api_h_previews(struct api_req *r);
void api_h_dashboard(struct api_req *r);
void api_h_users_list(struct api_req *r);
void api_h_users_create(struct api_req *r);
void api_h_users_delete(struct api_req *r);
void api_h_login(struct api_req *r);
void api_h_logout(struct api_req *r);
void api_h_me(struct api_req *r);
void api_h_owner(struct api_req *r);
void api_h_tokens_create(struct api_req *r);
void api_h_tokens_list(struct api_req *r);
void api_h_tokens_revoke(struct api_req *r);

/* Login attempts (users.c): buckets of API_LOGIN_BURST, API_LOGIN_PER_MINUTE regained. */
#define API_LOGIN_BURST      5 /* attempts in a row for one user name */
#define API_LOGIN_PER_MINUTE 5
#define API_LOGIN_IP_BURST   20 /* for one client address, whatever the names */
#define API_LOGIN_IP_PER_MIN 20
int api_login_limits_new(lp_apiserver *s) LP_MUST_CHECK;
/* The after_body hooks of POST /api/login and POST /api/users: parse, limit, scrypt. */
int api_login_after_body(struct api_req *r) LP_MUST_CHECK;
int api_users_after_body(struct api_req *r) LP_MUST_CHECK;

/* The URL GitHub posts the site's pushes to (the public URL's webhook route). */
int api_webhook_url(char *out, size_t outlen, const lp_config *cfg,
                    const lp_store_site *site) LP_MUST_CHECK;
/* That URL without the site's id at its end. */
int api_webhook_url_prefix(char *out, size_t outlen, const lp_config *cfg) LP_MUST_CHECK;

/* ---- the dashboard (dashboard.c) ---- */

/* Open cfg->dashboard_dir (when set) for api_h_dashboard; LP_ENOTFOUND when it cannot be. */
int api_dashboard_open(lp_apiserver *s, lp_error *err) LP_MUST_CHECK;

/* ---- webhook intake (webhook.c), the before_body and after_body of the webhook route ---- */

/*
 * Before any body byte is read: the site must exist (404), X-Hub-Signature-256 must be well
 * formed (401) and a body slot free (503). The site's secret is kept in hook_state.
 */
int api_webhook_before_body(struct api_req *r) LP_MUST_CHECK;
/* After the body, outside the write lock: the HMAC must match (401 queued otherwise). */
int api_webhook_after_body(struct api_req *r) LP_MUST_CHECK;

#endif
