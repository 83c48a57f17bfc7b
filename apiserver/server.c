/* server.c: the libmicrohttpd daemon: routing, limits, auth, body intake, request log. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "apiserver/apiserver_internal.h"
#include "launchpad/clock.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "launchpad/layout.h"
#include "launchpad/log.h"

/*
 * Threading: MHD_USE_THREAD_PER_CONNECTION. A log stream blocks its thread for up to an hour;
 * with one thread per connection that costs one thread, not a pool slot, and MHD's own timeout
 * and disconnect handling keep working (suspended connections would lose both). Each request
 * borrows a store handle from the pool (pool.c). Connections reach the daemon through the gate
 * (gate.c) only once their head is complete, so a thread is never spent waiting for a head.
 */

#define API_LISTEN_BACKLOG   256                /* connections the kernel queues for accept */
#define API_IGNORED_BODY_MAX ((size_t)64 << 10) /* read and dropped on body-less routes */
#define API_FORM_FIELDS_ROOM ((size_t)1 << 20)  /* a form's fields beside its file */
#define API_FORM_PARSE_BUF   ((size_t)64 << 10) /* libmicrohttpd's multipart parser buffer */

/* ---- routing ---- */

/* Match path (decoded already) against pattern; a ":id" segment is captured into param. */
static int path_match(const char *pattern, const char *path, char *param, size_t plen)
{
	const char *p = pattern, *u = path;

	while (*p && *u) {
		if (*p == ':') {
			const char *end = strchr(u, '/');
			size_t n = end ? (size_t)(end - u) : strlen(u);

			if (n == 0 || n >= plen)
				return 0;
			memcpy(param, u, n);
			param[n] = '\0';
			u += n;
			while (*p && *p != '/')
				p++;
			continue;
		}
		if (*p != *u)
			return 0;
		p++;
		u++;
	}
	/* one trailing slash is tolerated ("/api/deployments/") */
	if (*p == '\0' && u[0] == '/' && u[1] == '\0')
		return 1;
	return *p == '\0' && *u == '\0';
}

/*
 * sep then text at allow + *used, as lp_fmt would write them (LP_ETOOBIG when they and the NUL do
 * not fit alen), without its vsnprintf: every request lists its path's methods, and four
 * vsnprintf calls were 2% of a GET of one site (perf).
 */
static int allow_add(char *allow, size_t alen, size_t *used, const char *sep, const char *text)
{
	size_t ns = strlen(sep), nt = strlen(text);

	if (ns + nt >= alen - *used)
		return LP_ETOOBIG;
	memcpy(allow + *used, sep, ns);
	memcpy(allow + *used + ns, text, nt + 1);
	*used += ns + nt;
	return LP_OK;
}

/*
 * The route of method on path into *out (NULL when none) with its :id in param, and the methods
 * path allows into allow ("" when no route has path). LP_ETOOBIG when those do not fit alen.
 */
static int route_find(const struct api_route **out, char param[API_PARAM_MAX], char *allow,
                      size_t alen, const char *method, const char *path)
{
	char scratch[API_PARAM_MAX];
	size_t i, used = 0;

	*out = NULL;
	allow[0] = '\0';
	if (!strcmp(method, "HEAD"))
		method = "GET";
	for (i = 0; i < api_nroutes; i++) {
		if (api_routes[i].fallback ||
		    !path_match(api_routes[i].pattern, path, scratch, sizeof(scratch)))
			continue;
		if (allow_add(allow, alen, &used, used ? ", " : "", api_routes[i].method) != LP_OK)
			return LP_ETOOBIG;
		if (*out == NULL && !strcmp(api_routes[i].method, method)) {
			*out = &api_routes[i];
			memcpy(param, scratch, sizeof(scratch));
		}
	}
	if (used && allow_add(allow, alen, &used, ", ", "OPTIONS") != LP_OK)
		return LP_ETOOBIG;
	/* A path no route has: a fallback of the method takes it, never under /api. */
	for (i = 0; used == 0 && *out == NULL && i < api_nroutes; i++)
		if (api_routes[i].fallback && !strcmp(api_routes[i].method, method) &&
		    strncmp(path, "/api/", 5) != 0 && strcmp(path, "/api") != 0) {
			*out = &api_routes[i];
			param[0] = '\0';
		}
	return LP_OK;
}

/* ---- route slots ---- */

/* Which site holds each slot of a route with site_slots ("" for a free one). */
struct api_slot_holders {
	char (*site)[LP_STORE_ID_LEN];
};

static int slots_init(lp_apiserver *s, lp_error *err)
{
	size_t i;

	pthread_mutex_init(&s->holders_mu, NULL);
	if ((s->slots = calloc(api_nroutes, sizeof(*s->slots))) == NULL ||
	    (s->holders = calloc(api_nroutes, sizeof(*s->holders))) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	for (i = 0; i < api_nroutes; i++) {
		if (api_routes[i].slots && sem_init(&s->slots[i], 0, api_routes[i].slots) != 0)
			return lp_error_set(err, LP_ERROR, "sem_init: %s", strerror(errno));
		if (api_routes[i].site_slots &&
		    (s->holders[i].site = calloc(api_routes[i].slots, LP_STORE_ID_LEN)) == NULL)
			return lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	return LP_OK;
}

static void slots_free(lp_apiserver *s)
{
	size_t i;

	if (s->slots == NULL)
		return;
	/* a failed sem_init left the rest zeroed; destroying those is harmless on Linux */
	for (i = 0; i < api_nroutes; i++) {
		if (api_routes[i].slots)
			sem_destroy(&s->slots[i]);
		if (s->holders)
			free(s->holders[i].site);
	}
	free(s->holders);
	free(s->slots);
	pthread_mutex_destroy(&s->holders_mu);
}

static size_t route_index(const struct api_req *r)
{
	return (size_t)(r->route - api_routes);
}

static sem_t *route_slots(struct api_req *r)
{
	return &r->srv->slots[route_index(r)];
}

void api_slot_wait(struct api_req *r)
{
	while (sem_wait(route_slots(r)) != 0)
		;
	r->slot_held = 1;
}

/* Take a slot for site, within its share (under holders_mu). */
static int slot_take_shared(struct api_req *r, const char *site)
{
	char(*held)[LP_STORE_ID_LEN] = r->srv->holders[route_index(r)].site;
	unsigned i, mine = 0, slots = r->route->slots;
	int free_at = -1;

	for (i = 0; i < slots; i++) {
		if (held[i][0] == '\0')
			free_at = free_at < 0 ? (int)i : free_at;
		else if (!strcmp(held[i], site))
			mine++;
	}
	if (mine >= r->route->site_slots)
		return LP_ERATE;
	if (free_at < 0 || sem_trywait(route_slots(r)) != 0)
		return LP_EUNAVAILABLE;
	if (lp_fmt(held[free_at], LP_STORE_ID_LEN, "%s", site) != LP_OK)
		held[free_at][0] = '?'; /* not a store id: it still counts as taken */
	r->slot_index = free_at;
	return LP_OK;
}

int api_slot_try(struct api_req *r, const char *site)
{
	int rc;

	if (!r->route->site_slots) {
		if (sem_trywait(route_slots(r)) != 0)
			return LP_EUNAVAILABLE;
		r->slot_held = 1;
		return LP_OK;
	}
	pthread_mutex_lock(&r->srv->holders_mu);
	rc = slot_take_shared(r, site);
	pthread_mutex_unlock(&r->srv->holders_mu);
	if (rc == LP_OK)
		r->slot_held = 1;
	return rc;
}

void api_slot_give(struct api_req *r)
{
	if (!r->slot_held)
		return;
	r->slot_held = 0;
	if (r->route->site_slots) {
		pthread_mutex_lock(&r->srv->holders_mu);
		r->srv->holders[route_index(r)].site[r->slot_index][0] = '\0';
		pthread_mutex_unlock(&r->srv->holders_mu);
	}
	sem_post(route_slots(r));
}

/* ---- auth ---- */

static int authenticate(struct api_req *r)
{
	const char *h = api_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
	lp_error err = {0};
	lp_store *st;
	int rc, keep;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) {
		api_reply_error(r, LP_EAUTH, NULL,
		                "missing bearer token (Authorization: Bearer ...)");
		return LP_EAUTH;
	}
	h += 7;
	while (*h == ' ')
		h++;
	if ((st = api_store(r)) == NULL)
		return LP_EUNAVAILABLE;
	/*
	 * A read (a GET, no body) keeps the handle and answers from the snapshot the token was
	 * checked in: SQLite's locks once per request, not once per query. Any other request gives
	 * the handle back at once: it may now spend minutes receiving an upload, and 64 such
	 * uploads would otherwise hold every handle; its handler re-borrows through api_store.
	 */
	keep = r->route->body == API_BODY_NONE && !strcmp(r->route->method, "GET") &&
	       lp_store_read_begin(st, NULL) == LP_OK;
	rc = lp_store_token_verify(&r->who, st, h, &err);
	if (!keep || rc != LP_OK)
		api_store_release(r);
	if (rc == LP_EAUTH)
		api_reply_error(r, LP_EAUTH, NULL, "invalid or revoked token");
	else if (rc != LP_OK)
		api_reply_lperr(r, &err);
	return rc;
}

/*
 * The route's role and scope, before a byte of the body or any hook: a member on an admin route
 * gets 403, on a site of another user the 404 of a missing site.
 */
static int authorize(struct api_req *r)
{
	lp_store_site *site = NULL;
	lp_error err = {0};
	int rc, visible;

	/* the site first: a foreign one is 404 on every site route, admin-only ones included */
	if (r->route->scope == API_SCOPE_SITE && !api_is_admin(r)) {
		rc = api_site_find(&site, r, &err);
		if (rc != LP_OK && rc != LP_ENOTFOUND) {
			if (!r->answered)
				api_reply_lperr(r, &err);
			return rc;
		}
		/* a missing site is the handler's to answer (PUT creates it) */
		visible = rc == LP_ENOTFOUND || api_site_visible(r, site);
		lp_store_site_free(site);
		api_store_release(r);
		if (!visible) {
			api_reply_not_found(r);
			return LP_ENOTFOUND;
		}
	}
	if (r->route->role == API_ROLE_ADMIN && !api_is_admin(r)) {
		api_reply_error(r, LP_EFORBIDDEN, NULL, "%s %s is for admins only", r->method,
		                r->route->pattern);
		return LP_EFORBIDDEN;
	}
	return LP_OK;
}

/* ---- multipart intake ---- */

static void form_release(struct api_form *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->keys[i]);
		lp_buf_release(&f->values[i]);
	}
	f->n = 0;
	/* an upload no handler published goes with its temp file */
	api_upload_free(f->upload);
	f->upload = NULL;
	f->finished = 0;
}

static void body_fail(struct api_req *r, const lp_error *err)
{
	if (r->body_failed)
		return;
	r->body_failed = 1;
	r->body_err = *err;
	/* drop a half-written upload now rather than keep writing to it */
	api_upload_free(r->form.upload);
	r->form.upload = NULL;
}

static enum MHD_Result on_form_part(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *filename, const char *content_type,
                                    const char *transfer_encoding, const char *data, uint64_t off,
                                    size_t size)
{
	struct api_req *r = cls;
	struct api_form *f = &r->form;
	lp_error err = {0};
	size_t i;

	if (r->body_failed || key == NULL)
		return r->body_failed ? MHD_NO : MHD_YES;
	if (!strcmp(key, "file") || filename != NULL) {
		if (f->have_file && off == 0 && f->upload && api_upload_size(f->upload) > 0) {
			lp_error_set(&err, LP_EINVAL, "only one file part is accepted");
			goto fail;
		}
		if (f->upload == NULL) {
			if (f->have_file) /* dropped after a failure */
				return MHD_NO;
			if (api_upload_new(&f->upload, r->srv->cfg->data_dir, r->srv->upload_max,
			                   &err) != LP_OK)
				goto fail;
			f->have_file = 1;
		}
		if (size && api_upload_write(f->upload, data, size, &err) != LP_OK)
			goto fail;
		return MHD_YES;
	}
	for (i = 0; i < f->n; i++)
		if (!strcmp(f->keys[i], key))
			break;
	if (i == f->n) {
		if (f->n == API_FORM_FIELDS) {
			lp_error_set(&err, LP_ETOOBIG, "more than %d form fields", API_FORM_FIELDS);
			goto fail;
		}
		if ((f->keys[i] = strdup(key)) == NULL) {
			lp_error_set(&err, LP_ENOMEM, "out of memory");
			goto fail;
		}
		lp_buf_init(&f->values[i], API_FORM_FIELD_MAX);
		f->n++;
	}
	if (size && lp_buf_append(&f->values[i], data, size) != LP_OK) {
		lp_error_set(&err, LP_ETOOBIG, "form field \"%s\" is larger than %zu bytes", key,
		             API_FORM_FIELD_MAX);
		goto fail;
	}
	return MHD_YES;
fail:
	body_fail(r, &err);
	return MHD_NO;
}

/* ---- request lifecycle ---- */

/* Refuse a declared Content-Length past the cap before reading a byte of it. */
static int too_long(struct api_req *r)
{
	const char *cl = api_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);

	if (cl == NULL || strtoull(cl, NULL, 10) <= r->body_max)
		return 0;
	api_reply_error(r, LP_ETOOBIG, NULL, "request body of %s bytes exceeds the limit of %zu",
	                cl, r->body_max);
	return 1;
}

/* CORS preflight: answered for every known path, allowed origin or not. */
static void reply_preflight(struct api_req *r, const char *allow)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);

	r->allow = strdup(allow);
	if (resp) {
		MHD_add_response_header(resp, "Access-Control-Allow-Methods", allow);
		MHD_add_response_header(resp, "Access-Control-Allow-Headers",
		                        "Authorization, Content-Type, If-Match");
		MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
	}
	api_reply_raw(r, MHD_HTTP_NO_CONTENT, resp, 0);
}

/* No route: 405 with the methods the path allows, or 404 when no route has the path. */
static void reply_unrouted(struct api_req *r, const char *allow)
{
	if (allow[0]) {
		r->allow = strdup(allow);
		api_reply_error(r, LP_EMETHOD, NULL, "%s is not allowed on %s (allowed: %s)",
		                r->method, r->url, allow);
	} else {
		api_reply_error(r, LP_ENOTFOUND, NULL, "no route for %s %s", r->method, r->url);
	}
}

/* How the route's body is taken in: its cap, and a multipart parser for forms. */
static int body_setup(struct api_req *r)
{
	char ct[API_MEDIA_TYPE_MAX];

	r->body_kind = r->route->body;
	r->body_max = API_IGNORED_BODY_MAX;
	switch (r->route->body) {
	case API_BODY_NONE:
		break;
	case API_BODY_DOC:
		r->body_max = API_DOC_MAX;
		break;
	case API_BODY_RAW:
		r->body_max = r->route->body_max ? r->route->body_max : API_DOC_MAX;
		break;
	case API_BODY_FORM:
		if (strcmp(api_content_type(r, ct, sizeof(ct)), "multipart/form-data")) {
			r->body_max = API_DOC_MAX;
			break;
		}
		r->multipart = 1;
		/* the file is capped by the upload sink; this allows for the other fields */
		r->body_max = r->srv->upload_max + API_FORM_FIELDS_ROOM;
		if (too_long(r))
			return LP_ETOOBIG;
		r->pp = MHD_create_post_processor(r->conn, API_FORM_PARSE_BUF, on_form_part, r);
		if (r->pp == NULL) {
			api_reply_error(
			    r, LP_EINVAL, NULL,
			    "malformed multipart/form-data request (missing boundary?)");
			return LP_EINVAL;
		}
		break;
	}
	return too_long(r) ? LP_ETOOBIG : LP_OK;
}

/*
 * A revision request of :id takes a token of the site's bucket before its body is read; none
 * left is 429 with Retry-After. The handle goes back at once (a body may take long to come).
 */
static int take_revision_token(struct api_req *r)
{
	const lp_config *cfg = r->srv->cfg;
	lp_store_site *site = api_site_lookup(r);
	int retry = 0, rc;

	if (site == NULL)
		return LP_ENOTFOUND;
	api_store_release(r);
	if ((rc = lp_fmt(r->rate_site, sizeof(r->rate_site), "%s", site->id)) == LP_OK)
		rc = api_rate_take(r->srv->rate, site->id, lp_clock_mono_ms(), &retry);
	if (rc == LP_ERATE) {
		r->retry_after = retry;
		api_reply_error(r, LP_ERATE, NULL,
		                "deployment %s asked for too many revisions (%d at once, then %d a "
		                "minute); retry in %d s",
		                site->name, cfg->revision_burst, cfg->revision_rate, retry);
	} else if (rc != LP_OK) {
		api_reply_error(r, LP_ERROR, NULL, "site id %s does not fit", site->id);
	} else {
		r->rate_taken = 1;
	}
	lp_store_site_free(site);
	return rc;
}

/* The headers are in: decode the target, route, authenticate, prepare the body, run hooks. */
static void begin(struct api_req *r)
{
	char allow[API_ALLOW_MAX];
	lp_error err = {0};

	if (r->raw_target == NULL) {
		api_reply_error(r, LP_ENOMEM, NULL, "out of memory");
		return;
	}
	if (api_target_decode(&r->path, r->query, &r->nquery, r->raw_target, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		return;
	}
	r->url = r->path;
	if (route_find(&r->route, r->param, allow, sizeof(allow), r->method, r->url) != LP_OK) {
		api_reply_error(r, LP_ERROR, NULL, "the methods of %s do not fit the Allow header",
		                r->url);
		return;
	}
	if (allow[0] && !strcmp(r->method, "OPTIONS")) {
		reply_preflight(r, allow);
		return;
	}
	if (r->route == NULL) {
		reply_unrouted(r, allow);
		return;
	}
	if (r->route->auth == API_AUTH_TOKEN ||
	    (r->route->auth == API_AUTH_METRICS && r->srv->cfg->metrics_auth)) {
		if (authenticate(r) != LP_OK || authorize(r) != LP_OK)
			return;
	}
	if (body_setup(r) != LP_OK)
		return;
	if (r->route->before_body && r->route->before_body(r) != LP_OK)
		return;
	if (r->route->revision_limited && take_revision_token(r) != LP_OK)
		return;
	lp_buf_init(&r->body, r->body_max);
}

/* The head announces a body (the gate let through only plain Content-Length or chunked). */
static int announces_body(struct api_req *r)
{
	const char *cl = api_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);

	return api_header(r, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL ||
	       (cl != NULL && strtoull(cl, NULL, 10) > 0);
}

/*
 * Body bytes. What fails (over the cap, a malformed form, not an archive) is answered at once
 * (api_reply_early), not after the whole body: an upload refused at its first bytes does not
 * make the client send 200 MiB first, nor a chunked one over its cap get a reset.
 */
static void feed(struct api_req *r, const char *data, size_t n)
{
	lp_error err = {0};

	r->body_seen += n;
	if (r->answered)
		return; /* answered early: the rest is dropped */
	api_gate_body_progress(r->srv->gate, r->conn, r->body_seen);
	if (r->body_seen > r->body_max) {
		lp_error_set(&err, LP_ETOOBIG, "request body exceeds the limit of %zu bytes",
		             r->body_max);
		body_fail(r, &err);
	} else if (r->body_failed) {
		/* reported below */
	} else if (r->pp) {
		if (MHD_post_process(r->pp, data, n) != MHD_YES && !r->body_failed) {
			lp_error_set(&err, LP_EINVAL, "malformed multipart/form-data body");
			body_fail(r, &err);
		}
	} else if (r->body_kind != API_BODY_NONE && lp_buf_append(&r->body, data, n) != LP_OK) {
		lp_error_set(&err, LP_ETOOBIG, "request body exceeds the limit of %zu bytes",
		             r->body_max);
		body_fail(r, &err);
	}
	if (r->body_failed)
		api_reply_early(r, &r->body_err);
}

/* Every string of the body must be NUL-free UTF-8 (JSON: no \u0000 either); 400 otherwise. */
static int body_text_ok(struct api_req *r)
{
	char ct[API_MEDIA_TYPE_MAX], what[API_FIELD_WHAT_MAX];
	lp_error err = {0};
	size_t i;
	int rc = LP_OK;

	if (r->multipart) {
		for (i = 0; i < r->form.n && rc == LP_OK; i++) {
			lp_fmt_text(what, sizeof(what), "form field \"%s\"", r->form.keys[i]);
			rc = api_text_check(r->form.values[i].data ? r->form.values[i].data : "",
			                    r->form.values[i].len, what, &err);
		}
	} else if (r->body_kind == API_BODY_DOC || r->body_kind == API_BODY_FORM) {
		if (!strcmp(api_content_type(r, ct, sizeof(ct)), "application/json"))
			rc = api_json_check(lp_buf_cstr(&r->body), r->body.len, &err);
		else
			rc = api_text_check(lp_buf_cstr(&r->body), r->body.len, "the request body",
			                    &err);
	}
	if (rc != LP_OK)
		api_reply_lperr(r, &err);
	return rc == LP_OK;
}

static void finish(struct api_req *r)
{
	lp_error err = {0};

	if (r->pp) {
		if (MHD_destroy_post_processor(r->pp) != MHD_YES && !r->body_failed) {
			lp_error_set(&err, LP_EINVAL,
			             "malformed multipart/form-data body (incomplete or no final "
			             "boundary)");
			body_fail(r, &err);
		}
		r->pp = NULL;
	}
	if (r->body_failed) {
		api_reply_lperr(r, &r->body_err);
		return;
	}
	/* the fields first: a request refused for them never looks at its file */
	if (!body_text_ok(r))
		return;
	if (r->form.upload) {
		if (api_upload_finish(r->form.upload, r->form.digest, &r->srv->archive_limits,
		                      &err) != LP_OK) {
			api_reply_lperr(r, &err);
			return;
		}
		r->form.finished = 1;
	}
	if (r->route->after_body && r->route->after_body(r) != LP_OK)
		return;
	if (strcmp(r->route->method, "GET")) {
		pthread_mutex_lock(&r->srv->write_mu);
		r->route->handler(r);
		pthread_mutex_unlock(&r->srv->write_mu);
	} else {
		r->route->handler(r);
	}
	if (!r->answered)
		api_reply_error(r, LP_ERROR, NULL, "the handler produced no response");
}

static enum MHD_Result queue(struct api_req *r)
{
	enum MHD_Result ret;

	if (r->resp == NULL)
		return MHD_NO;
	ret = MHD_queue_response(r->conn, (unsigned)r->status, r->resp);
	MHD_destroy_response(r->resp);
	r->resp = NULL;
	return ret;
}

/*
 * The request target as the client sent it (MHD_OPTION_URI_LOG_CALLBACK, before libmicrohttpd
 * decodes it in place: "a%00b" would reach the handler as "a"). The api_req starts here.
 */
static void *on_target(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct api_req *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->srv = cls;
	r->conn = conn;
	r->raw_target = strdup(uri);
	r->url = r->raw_target ? r->raw_target : "";
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
	struct api_req *r = *con_cls;
	int answered;

	if (r == NULL)
		return MHD_NO; /* out of memory in on_target */
	if (!r->started) {
		r->started = 1;
		r->method = method;
		begin(r);
		api_gate_request_begin(r->srv->gate, conn, !r->answered && announces_body(r));
		return r->answered ? queue(r) : MHD_YES;
	}
	if (*upload_data_size) {
		if (!r->answered && (answered = api_gate_answered(r->srv->gate, conn)) != 0) {
			r->answered = r->early = 1; /* the gate cut a body that came too slowly */
			r->status = answered;
		}
		feed(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		/* answered early: the rest is dropped while the gate lingers, but not without end
		 */
		return r->body_seen > r->body_max + API_DRAIN_MAX ? MHD_NO : MHD_YES;
	}
	if (r->early)
		return MHD_NO; /* the answer went out already; the connection closes */
	if (!r->answered) {
		api_gate_body_done(r->srv->gate, conn);
		finish(r);
	}
	/* the answer says what became of the upload: an unpublished one is gone before it is read
	 */
	api_upload_free(r->form.upload);
	r->form.upload = NULL;
	return queue(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	lp_apiserver *s = cls;
	struct api_req *r = *con_cls;
	struct timespec t1;
	double secs;
	size_t idx;

	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		api_gate_request_end(s->gate, conn); /* kept alive: the next head is due */
	if (r == NULL)
		return;
	if (r->started) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		secs =
		    (double)(t1.tv_sec - r->t0.tv_sec) + (double)(t1.tv_nsec - r->t0.tv_nsec) / 1e9;
		idx = r->route ? (size_t)(r->route - api_routes) : api_nroutes;
		api_metrics_count(s->metrics, idx, r->status, secs);
		LP_INFO("api", "%s %s %d %zu %.1fms%s", r->method, r->url, r->status, r->resp_len,
		        secs * 1000.0,
		        r->early                                     ? " (answered early)"
		        : toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? ""
		                                                     : " (aborted)");
	}
	if (r->rate_taken && !r->revision_requested)
		api_rate_give(s->rate, r->rate_site, lp_clock_mono_ms());
	if (r->pp)
		MHD_destroy_post_processor(r->pp);
	if (r->resp)
		MHD_destroy_response(r->resp);
	form_release(&r->form);
	lp_buf_release(&r->body);
	api_store_release(r);
	api_slot_give(r);
	if (r->hook_free)
		r->hook_free(r->hook_state);
	api_query_release(r->query, r->nquery);
	free(r->path);
	free(r->raw_target);
	free((char *)r->allow);
	free(r);
	*con_cls = NULL;
}

/*
 * What libmicrohttpd says when the gate shut a connection (a deadline) or a request answered
 * early ended it: expected, so no warning (an attack would otherwise write one per connection).
 */
static const char *const mhd_expected[] = {
    "detected connection closure",
    "Application reported internal error",
};

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[LP_ERROR_MESSAGE_MAX];
	size_t n, i;

	/* truncated on purpose: a log line, and what libmicrohttpd says fits one */
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	for (i = 0; i < sizeof(mhd_expected) / sizeof(mhd_expected[0]); i++)
		if (strstr(msg, mhd_expected[i])) {
			LP_DEBUG("api", "libmicrohttpd: %s", msg);
			return;
		}
	LP_WARN("api", "libmicrohttpd: %s", msg);
}

/* ---- server lifetime ---- */

static int split_cors(lp_apiserver *s, const char *list, lp_error *err)
{
	char *copy, *tok, *save = NULL;
	size_t n = 1;
	const char *p;

	if (list == NULL || *list == '\0')
		return LP_OK;
	for (p = list; *p; p++)
		n += *p == ',';
	if ((s->cors = calloc(n, sizeof(char *))) == NULL || (copy = strdup(list)) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	for (tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
		if ((s->cors[s->ncors] = strdup(tok)) != NULL)
			s->ncors++;
	free(copy);
	return LP_OK;
}

/* First start: no token in the store yet → create "admin" and leave it in <data>/admin.token. */
static int bootstrap_admin(lp_apiserver *s, lp_store *st, lp_error *err)
{
	lp_store_token *toks = NULL;
	size_t n = 0;
	char secret[LP_STORE_TOKEN_LEN], line[LP_STORE_TOKEN_LEN + 1], path[LP_FS_PATH_MAX];
	int64_t id = 0;
	int rc;

	if ((rc = lp_store_token_list(&toks, &n, st, err)) != LP_OK)
		return rc;
	lp_store_tokens_free(toks, n);
	if (n > 0)
		return LP_OK;
	if ((rc = lp_store_token_create(secret, &id, st, "admin", err)) != LP_OK)
		return rc;
	if (lp_layout_admin_token(path, sizeof(path), s->cfg->data_dir) != LP_OK)
		return lp_error_set(err, LP_EINVAL, "data dir path too long: %s", s->cfg->data_dir);
	if (lp_fmt(line, sizeof(line), "%s\n", secret) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "admin token does not fit");
	rc = lp_fs_write_atomic(path, line, strlen(line), 0600, err);
	if (rc == LP_OK)
		LP_INFO("api", "created the admin token (id %lld); it is in %s (mode 0600)",
		        (long long)id, path);
	return rc;
}

/* The folders the apiserver writes into; the store's is the daemons' own. */
static const struct {
	lp_layout_dir dir;
	mode_t mode;
} own_dirs[] = {{LP_DIR_DB, 0700}, {LP_DIR_UPLOADS, 0750}, {LP_DIR_LOGS, 0750}};

static int make_dirs(const char *data_dir, lp_error *err)
{
	char path[LP_FS_PATH_MAX];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(own_dirs) / sizeof(own_dirs[0]); i++) {
		if (lp_layout_dir_path(path, sizeof(path), data_dir, own_dirs[i].dir) != LP_OK)
			return lp_error_set(err, LP_EINVAL, "data dir path too long: %s", data_dir);
		if ((rc = lp_fs_mkdirs(path, own_dirs[i].mode, err)) != LP_OK)
			return rc;
	}
	return LP_OK;
}

/*
 * The listening socket, made here rather than by libmicrohttpd so a taken port is a clear error:
 * SO_REUSEADDR only (restart over TIME_WAIT), never SO_REUSEPORT, with which a second server on
 * the same port would silently share its requests.
 */
static int listen_socket(int *out, const struct sockaddr_in *sa, const char *what, lp_error *err)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, e;

	*out = -1;
	if (fd < 0)
		return lp_error_set(err, LP_EIO, "socket: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0 ||
	    listen(fd, API_LISTEN_BACKLOG) != 0) {
		e = errno;
		close(fd);
		if (e == EADDRINUSE)
			return lp_error_set(err, LP_EEXISTS,
			                    "cannot listen on %s: the address is already in use "
			                    "(another launchpad-apiserver?)",
			                    what);
		return lp_error_set(err, LP_EIO, "cannot listen on %s: %s", what, strerror(e));
	}
	*out = fd;
	return LP_OK;
}

/* The IPv4 address of a --listen value: "", "*" and 0.0.0.0 are every address. */
static int listen_addr(struct sockaddr_in *out, const char *listen, lp_error *err)
{
	char host[LP_API_HOST_MAX];
	unsigned port = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	if ((rc = lp_api_listen_parse(host, sizeof(host), &port, listen, err)) != LP_OK)
		return rc;
	if (host[0] == '\0' || !strcmp(host, "0.0.0.0"))
		out->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (!strcmp(host, "localhost"))
		out->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (inet_pton(AF_INET, host, &out->sin_addr) != 1)
		return lp_error_set(err, LP_EINVAL, "listen address \"%s\": not an IPv4 address",
		                    listen);
	out->sin_port = htons((uint16_t)port);
	return LP_OK;
}

/* Open the store once before serving: its schema is checked, the admin token made. */
static int open_store(lp_apiserver *s, lp_error *err)
{
	lp_store *st;
	int rc;

	if ((st = api_pool_get(&s->pool, err)) == NULL)
		return err ? err->code : LP_EUNAVAILABLE;
	rc = bootstrap_admin(s, st, err);
	api_pool_put(&s->pool, st);
	return rc;
}

/*
 * Listen on sa: the gate takes the socket and hands complete heads to the daemon, which listens
 * on nothing itself; s->port is the port bound.
 */
static int start_daemon(lp_apiserver *s, const struct sockaddr_in *sa, lp_error *err)
{
	const lp_config *cfg = s->cfg;
	struct sockaddr_in bound;
	socklen_t blen = sizeof(bound);
	int rc, lfd;

	if ((rc = listen_socket(&lfd, sa, cfg->listen, err)) != LP_OK)
		return rc;
	s->port = ntohs(sa->sin_port);
	if (getsockname(lfd, (struct sockaddr *)&bound, &blen) == 0)
		s->port = ntohs(bound.sin_port); /* --listen HOST:0 picked a free one */
	if ((rc = api_gate_new(&s->gate, lfd, (int64_t)cfg->header_timeout * 1000,
	                       (uint64_t)cfg->body_min_rate << 10, err)) != LP_OK)
		return rc; /* the gate closed lfd */
	s->daemon = MHD_start_daemon(
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
	        MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC,
	    0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)API_DAEMON_CONN_LIMIT,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)API_CONN_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, API_CONN_MEMORY, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, api_gate_notify, s->gate,
	    MHD_OPTION_URI_LOG_CALLBACK, on_target, s, MHD_OPTION_END);
	if (s->daemon == NULL)
		return lp_error_set(err, LP_EIO, "cannot start the HTTP server on %s", cfg->listen);
	return api_gate_start(s->gate, s->daemon, err);
}

/* What a killed apiserver left in uploads/: nothing refers to a temp file. */
static int clear_temps(const lp_config *cfg, lp_error *err)
{
	size_t n = 0;
	int rc = api_upload_clear_temps(&n, cfg->data_dir, err);

	if (rc == LP_OK && n > 0)
		LP_INFO("api", "removed %zu unfinished upload(s) a previous run left", n);
	return rc;
}

int lp_apiserver_new(lp_apiserver **out, const lp_config *cfg, lp_error *err)
{
	lp_apiserver *s = NULL;
	struct sockaddr_in sa;
	int rc;

	*out = NULL;
	if ((rc = listen_addr(&sa, cfg->listen, err)) != LP_OK)
		return rc;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	s->cfg = cfg;
	s->dashboard_fd = -1;
	pthread_mutex_init(&s->write_mu, NULL);
	lp_archive_limits_for(&s->archive_limits, cfg);
	s->upload_max = (size_t)s->archive_limits.max_archive_bytes;
	api_site_urls_init(&s->urls, cfg);
	if ((rc = api_pool_init(&s->pool, cfg->data_dir, err)) != LP_OK ||
	    (rc = slots_init(s, err)) != LP_OK ||
	    (rc = split_cors(s, cfg->cors_origins, err)) != LP_OK ||
	    (rc = api_metrics_new(&s->metrics)) != LP_OK ||
	    (rc = api_rate_new(&s->rate, cfg->revision_burst, cfg->revision_rate)) != LP_OK ||
	    (rc = api_login_limits_new(s)) != LP_OK ||
	    (rc = make_dirs(cfg->data_dir, err)) != LP_OK ||
	    (rc = api_keyring_load(s, err)) != LP_OK || (rc = clear_temps(cfg, err)) != LP_OK ||
	    (rc = open_store(s, err)) != LP_OK || (rc = api_dashboard_open(s, err)) != LP_OK ||
	    (rc = start_daemon(s, &sa, err)) != LP_OK)
		goto done;
	*out = s;
	s = NULL;
done:
	lp_apiserver_free(s);
	return rc;
}

unsigned lp_apiserver_port(const lp_apiserver *s)
{
	return s->port;
}

void lp_apiserver_free(lp_apiserver *s)
{
	size_t i;

	if (s == NULL)
		return;
	__atomic_store_n(&s->stopping, 1, __ATOMIC_RELEASE);
	/* no new connections; the daemon's closing ones still notify the gate, freed after it */
	api_gate_stop(s->gate);
	if (s->daemon)
		MHD_stop_daemon(s->daemon);
	api_gate_free(s->gate);
	api_rate_free(s->rate);
	api_rate_free(s->login_user_rate);
	api_rate_free(s->login_ip_rate);
	api_pool_close(&s->pool);
	for (i = 0; i < s->ncors; i++)
		free(s->cors[i]);
	free(s->cors);
	api_metrics_free(s->metrics);
	pthread_mutex_destroy(&s->write_mu);
	slots_free(s);
	if (s->dashboard_fd >= 0)
		close(s->dashboard_fd);
	if (s->keyring) {
		lp_keyring_free(s->keyring);
		pthread_mutex_destroy(&s->keyring_mu);
	}
	free(s);
}
