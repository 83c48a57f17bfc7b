/*
 * nginx_rules.h: internal to the controller: a revision's redirect and header rules, lowered to
 * nginx configuration (the part of the server block that differs per revision, plus the maps it
 * needs at http level). Deterministic: equal input, equal bytes.
 *
 * Injection: every value that reaches the text has passed the whitelist of serve_rules.h; here it
 * is written only as a regex of \xHH escapes and plain letters, or inside a double-quoted nginx
 * string with '"', '\' and '$' escaped (a literal '$' is ${lp_dollar}); the comments carry only
 * the source and line of a rule. Request data reaches a Location header only from the raw request
 * line (which nginx has already refused if it held a space or a control byte).
 *
 * Ownership: both strings come back malloc'd through out_http / out_server; the caller frees them.
 * Inputs are borrowed.
 */
#ifndef LAUNCHPAD_CONTROLLER_NGINX_RULES_H
#define LAUNCHPAD_CONTROLLER_NGINX_RULES_H

#include "launchpad/error.h"
#include "launchpad/serve_rules.h"

/* Largest generated rules text (2,000 rules of the longest kind fit). */
#define LP_NGINX_RULES_MAX ((size_t)16 << 20)
/* Requests under this prefix (health, revision) never meet a rule. */
#define LP_NGINX_RESERVED_PREFIX "/.launchpad/"
#define LP_NGINX_REVISION_PATH   "/.launchpad/revision"

struct lp_nginx_rules {
	const lp_redirects *redirects; /* spec rules first, then _redirects; NULL: none */
	const lp_headers *headers;     /* spec blocks first, then _headers; NULL: none */
	int spa;                       /* serve.spa: a final "/<splat> /index.html 200" */
	const char *not_found_page;    /* "404.html" or "errors/nf.html" (no leading '/'); NULL */
	long revision;                 /* answered at LP_NGINX_REVISION_PATH */
};

/* 1 when page is a path nginx can name unquoted: [A-Za-z0-9/._-], no "..", <= 255 bytes. */
int lp_nginx_safe_page(const char *page);

int lp_nginx_rules_render(char **out_http, char **out_server, const struct lp_nginx_rules *in,
                          lp_error *err) LP_MUST_CHECK;

#endif
