/*
 * list.c: GET /api/deployments, the seed's whole array streamed, or a page of it
 * (?limit=N&continue=TOKEN, as kubectl pages a list).
 *
 * Without limit or continue the answer is the seed's: a JSON array of every deployment object.
 * It is written API_LIST_BATCH sites at a time, each batch one store query (sites joined with
 * their status), into a small buffer the connection drains before the next batch is read; no
 * store handle is held while the client reads, so slow readers cannot take the pool. With limit
 * the answer is {"items":[...],"metadata":{"continue":TOKEN,"remainingItemCount":N}}, continue
 * and remainingItemCount present only when more follow; the token resumes after the last item in
 * the list's order (created_at, then name), so a page never repeats or skips a site that existed
 * throughout, whatever was created or deleted meanwhile.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/apiserver_internal.h"
#include "launchpad/fmt.h"
#include "launchpad/log.h"

/* What the connection is handed at a time; a batch is written in a few of these. */
#define LIST_BLOCK ((size_t)32 << 10)
/* A batch of API_LIST_BATCH objects (each at most API_SITE_JSON_MAX). */
#define LIST_BUF_MAX ((size_t)API_LIST_BATCH * API_SITE_JSON_MAX)
/* "<created_at>.<name>": a time in ms, a dot, a DNS label. */
#define LIST_TOKEN_MAX (20 + 1 + LP_STORE_NAME_MAX + 1)

struct list_writer {
	const struct api_site_urls *urls;
	lp_buf *out;
	int first; /* no item written yet: no comma before the next */
};

static int write_item(void *ctx, const lp_store_site *site, const lp_store_status *status)
{
	struct list_writer *w = ctx;
	int rc = LP_OK;

	if (!w->first)
		rc = lp_buf_putc(w->out, ',');
	w->first = 0;
	return rc == LP_OK ? api_site_write(w->out, w->urls, site, status) : rc;
}

/* ---- the seed's array, streamed ---- */

struct list_stream {
	lp_apiserver *srv;
	struct list_writer w;
	lp_store_site_cursor at; /* after the last site written */
	int64_t owner_id;        /* a member's own sites only; 0: an admin's, every site */
	int more;                /* sites follow `at` */
	lp_buf buf;              /* text not handed to the connection yet, from off */
	size_t off;
};

/* The next batch appended to s->buf (the closing bracket after the last). */
static int stream_fill(struct list_stream *s, lp_store *st, lp_error *err)
{
	int rc = lp_store_site_walk(&s->at, &s->more, st, 1, s->owner_id, &s->at, API_LIST_BATCH,
	                            write_item, &s->w, err);
	if (rc == LP_OK && !s->more)
		rc = lp_buf_putc(&s->buf, ']');
	if (rc == LP_ETOOBIG)
		lp_error_set(err, rc, "a batch of sites is larger than %zu bytes", LIST_BUF_MAX);
	return rc;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct list_stream *s = cls;
	lp_error err = {0};
	lp_store *st;
	size_t n;
	int rc;

	(void)pos;
	if (s->off == s->buf.len) {
		if (!s->more)
			return MHD_CONTENT_READER_END_OF_STREAM;
		lp_buf_reset(&s->buf);
		s->off = 0;
		/* A handle per batch, none while the client reads. */
		if ((st = api_pool_get(&s->srv->pool, &err)) == NULL)
			rc = err.code;
		else
			rc = stream_fill(s, st, &err);
		api_pool_put(&s->srv->pool, st);
		if (rc != LP_OK) {
			/* The status line is sent: cutting the chunked body is how a client learns.
			 */
			LP_WARN("api", "list of deployments cut after %s: %s", s->at.name,
			        err.message);
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
	}
	n = s->buf.len - s->off;
	if (n > max)
		n = max;
	memcpy(out, s->buf.data + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct list_stream *s = cls;

	lp_buf_release(&s->buf);
	free(s);
}

static void list_all(struct api_req *r)
{
	struct list_stream *s = calloc(1, sizeof(*s));
	struct MHD_Response *resp;
	lp_error err = {0};

	if (s == NULL) {
		api_reply_error(r, LP_ENOMEM, NULL, "out of memory");
		return;
	}
	s->srv = r->srv;
	s->owner_id = api_list_owner(r);
	s->w.urls = &r->srv->urls;
	s->w.out = &s->buf;
	s->w.first = 1;
	lp_buf_init(&s->buf, LIST_BUF_MAX);
	/* The first batch here, so a store that cannot answer is a clean error reply. */
	if (lp_buf_putc(&s->buf, '[') != LP_OK || stream_fill(s, r->store, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		stream_free(s);
		return;
	}
	if (!s->more) { /* it all fit: an ordinary reply with a length */
		api_reply_json_text(r, 200, &s->buf);
		stream_free(s);
		return;
	}
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, LIST_BLOCK, stream_read, s,
	                                         stream_free);
	if (resp == NULL) {
		stream_free(s);
		api_reply_error(r, LP_ENOMEM, NULL, "out of memory");
		return;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	api_reply_raw(r, 200, resp, 0);
	/* the rest borrows a handle per batch: none is held while the client reads */
	api_store_release(r);
}

/* ---- one page ---- */

/* ?limit=: 1..API_LIST_PAGE_MAX; NULL when absent. LP_EINVAL (replied) when bad. */
static int parse_limit(size_t *out, const char *v, struct api_req *r)
{
	char *end = NULL;
	long n = 0;

	errno = 0;
	if (v && *v >= '0' && *v <= '9')
		n = strtol(v, &end, 10);
	if (end == NULL || errno || *end || n < 1 || n > API_LIST_PAGE_MAX) {
		api_reply_error(r, LP_EINVAL, NULL, "limit must be a number from 1 to %d",
		                API_LIST_PAGE_MAX);
		return LP_EINVAL;
	}
	*out = (size_t)n;
	return LP_OK;
}

/* A continue token as list_page hands it out; LP_EINVAL (replied) otherwise. */
static int parse_token(lp_store_site_cursor *out, const char *v, struct api_req *r)
{
	const char *dot = strchr(v, '.');
	char *end = NULL;
	long long t = -1;

	memset(out, 0, sizeof(*out));
	errno = 0;
	if (*v >= '0' && *v <= '9')
		t = strtoll(v, &end, 10);
	if (dot == NULL || end != dot || errno || t < 0 || !api_slug_valid(dot + 1) ||
	    lp_fmt(out->name, sizeof(out->name), "%s", dot + 1) != LP_OK) {
		api_reply_error(r, LP_EINVAL, NULL,
		                "continue must be a token from a previous page's "
		                "metadata.continue");
		return LP_EINVAL;
	}
	out->created_at = t;
	return LP_OK;
}

/* The page's closing: metadata with the token and the count that follow, when any do. */
static int page_tail(lp_buf *b, struct api_req *r, const lp_store_site_cursor *at, int more,
                     lp_error *err)
{
	char token[LIST_TOKEN_MAX];
	int64_t left = 0;
	int rc;

	if (!more)
		return lp_buf_puts(b, "],\"metadata\":{}}");
	if ((rc = lp_store_site_count(&left, r->store, 1, api_list_owner(r), at, err)) != LP_OK)
		return rc;
	if (lp_fmt(token, sizeof(token), "%lld.%s", (long long)at->created_at, at->name) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "continue token of %s does not fit", at->name);
	return lp_buf_printf(b, "],\"metadata\":{\"continue\":\"%s\",\"remainingItemCount\":%lld}}",
	                     token, (long long)left);
}

static void list_page(struct api_req *r, const char *limit_arg, const char *token_arg)
{
	lp_store_site_cursor after, at;
	size_t limit = API_LIST_PAGE_MAX;
	lp_buf b;
	struct list_writer w = {&r->srv->urls, &b, 1};
	lp_error err = {0};
	int more = 0, rc;

	if ((limit_arg && parse_limit(&limit, limit_arg, r) != LP_OK) ||
	    (token_arg && parse_token(&after, token_arg, r) != LP_OK))
		return;
	at = token_arg ? after : (lp_store_site_cursor){0};
	lp_buf_init(&b, (size_t)API_LIST_PAGE_MAX * API_SITE_JSON_MAX);
	rc = lp_buf_puts(&b, "{\"items\":[");
	if (rc == LP_OK)
		rc = lp_store_site_walk(&at, &more, r->store, 1, api_list_owner(r),
		                        token_arg ? &after : NULL, limit, write_item, &w, &err);
	if (rc == LP_OK)
		rc = page_tail(&b, r, &at, more, &err);
	if (rc != LP_OK) {
		if (err.code == LP_OK)
			lp_error_set(&err, rc, "the page does not fit");
		api_reply_lperr(r, &err);
		lp_buf_release(&b);
		return;
	}
	api_reply_json_text(r, 200, &b);
}

void api_h_list(struct api_req *r)
{
	const char *limit = api_query(r, "limit"), *token = api_query(r, "continue");

	if (api_store(r) == NULL)
		return;
	if (limit || token)
		list_page(r, limit, token);
	else
		list_all(r);
}
