/*
 * serve_rules.h: Netlify's `_redirects` and `_headers` formats, parsed and whitelisted.
 *
 * The same parsers read a published revision's `_redirects` / `_headers` files and the spec's
 * `serve.redirects` / `serve.headers` strings. A line that is not understood, or that holds a byte
 * the serve config could not carry safely, is skipped with a warning naming SOURCE:LINE (the
 * callback's source and line); the rest still applies. What comes out has passed the whitelist
 * below, so the nginx renderer (controller/nginx_rules.c) only has to quote, never to judge:
 *   - paths and targets: printable ASCII without space, `"`, `\`, `$`, `{`, `}`, backquote, `<`,
 * `>`,
 *     `^`, `|` (these and bytes >= 0x80 are stored percent-encoded, so they round-trip as literal
 *     URL data); a `%` is always followed by two hex digits;
 *   - header names: [A-Za-z0-9_-]; header values: printable ASCII and UTF-8, no control byte.
 * docs/serving.md lists what is supported, refused and skipped, beside Netlify.
 *
 * Ownership: an lp_redirects / lp_headers is caller-owned (on the stack); the parse fills it with
 * heap contents released by the matching _release (NULL-safe, also after a failed parse). Input
 * text is only borrowed. No state is kept between calls; any thread may call.
 */
#ifndef LAUNCHPAD_SERVE_RULES_H
#define LAUNCHPAD_SERVE_RULES_H

#include <stddef.h>

#include "launchpad/error.h"

#define LP_RULES_FILE_MAX     ((size_t)512 << 10) /* bytes of one _redirects / _headers */
#define LP_RULES_LINE_MAX     2048                /* bytes of one line */
#define LP_REDIRECTS_MAX      2000                /* rules, spec and file together */
#define LP_REDIRECT_QUERY_MAX 8                   /* query conditions of one rule */
#define LP_REDIRECT_CAPTURES  9                   /* placeholders + splat + query values */
#define LP_HEADERS_BLOCKS_MAX 500                 /* path blocks, spec and file together */
#define LP_HEADERS_VALUES_MAX 2000                /* Name: value lines, all blocks */
#define LP_HEADER_NAME_MAX    64
#define LP_HEADER_VALUE_MAX   2048
#define LP_RULES_SOURCE_MAX   64 /* "_redirects", "spec.serve.headers" */
#define LP_RULES_WARNING_MAX  512

/* One warning: source ("_redirects"), 1-based line, a human message. */
typedef void (*lp_rules_warn_fn)(void *ctx, const char *source, int line, const char *message);

typedef struct lp_redirect_query {
	char *key;   /* literal, whitelisted */
	char *value; /* ":name" (any value, captured) or a literal value */
} lp_redirect_query;

typedef struct lp_redirect_rule {
	char *from;   /* "/news/<splat>", "/a/:year/:slug": a path; the splat only ends it */
	char *to;     /* "/blog/:splat" or "https://host/path": whitelisted, percent-encoded */
	int status;   /* 200, 301, 302, 303, 307, 308, or a 4xx of LP_REDIRECT_4XX */
	int force;    /* "!": applies even when a file exists at the path */
	int external; /* to is an absolute http(s) URL */
	lp_redirect_query query[LP_REDIRECT_QUERY_MAX];
	size_t nquery;
	char source[LP_RULES_SOURCE_MAX];
	int line;
} lp_redirect_rule;

/* The 4xx statuses a rule may serve its target with. */
#define LP_REDIRECT_4XX                                                                            \
	{                                                                                          \
		400, 401, 403, 404, 405, 406, 409, 410, 429, 451                                   \
	}

typedef struct lp_redirects {
	lp_redirect_rule *items;
	size_t count;
} lp_redirects;

typedef struct lp_header_value {
	char *name;  /* as written (first spelling); compare case-insensitively */
	char *value; /* a repeated name within one block is joined "a, b" here */
} lp_header_value;

typedef struct lp_header_block {
	char *path; /* a path; "*" matches anything, ":name" one segment */
	lp_header_value *values;
	size_t count;
	char source[LP_RULES_SOURCE_MAX];
	int line;
} lp_header_block;

typedef struct lp_headers {
	lp_header_block *items;
	size_t count;
	size_t nvalues; /* values over all blocks (capped by LP_HEADERS_VALUES_MAX) */
} lp_headers;

/*
 * Append the rules of text (len bytes; source names it in warnings) to out, which may already hold
 * rules (spec first, then the file). Bad lines warn and are skipped; LP_OK unless memory runs out
 * or text is larger than LP_RULES_FILE_MAX (LP_ETOOBIG, nothing appended). Past LP_REDIRECTS_MAX
 * the remaining rules warn once and are dropped.
 */
int lp_redirects_parse(lp_redirects *out, const char *text, size_t len, const char *source,
                       lp_rules_warn_fn warn, void *warn_ctx, lp_error *err) LP_MUST_CHECK;
void lp_redirects_release(lp_redirects *r);

/* The same for `_headers`: a path line, then indented `Name: value` lines. */
int lp_headers_parse(lp_headers *out, const char *text, size_t len, const char *source,
                     lp_rules_warn_fn warn, void *warn_ctx, lp_error *err) LP_MUST_CHECK;
void lp_headers_release(lp_headers *h);

/* 1 when name is one Netlify ignores for safety (or nginx sets itself), compared without case. */
int lp_headers_name_ignored(const char *name);

#endif
