/* nginx_rules.c: redirect and header rules lowered to nginx configuration (nginx_rules.h). */
#include "controller/nginx_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "launchpad/buf.h"

#define NAMES_MAX    LP_REDIRECT_CAPTURES
#define NAME_MAX_LEN 64
#define HEADER_NAMES LP_HEADERS_VALUES_MAX
#define SPLAT        "splat"

/* What a request is matched against: which of its file forms exist, its raw path, its query. */
#define KEY_SET                                                                                    \
	"    set $lp_fe 0;\n"                                                                      \
	"    set $lp_fh 0;\n"                                                                      \
	"    set $lp_fd 0;\n"                                                                      \
	"    if (-f $request_filename) { set $lp_fe 1; }\n"                                        \
	"    if (-f $request_filename.html) { set $lp_fh 1; }\n"                                   \
	"    if (-f $request_filename/index.html) { set $lp_fd 1; }\n"                             \
	"    set $lp_k \"$lp_fe$lp_fh$lp_fd$lp_path?$args\";\n"

/*
 * Fingerprinted names: a hex hash with a digit after '.' or '-' (webpack, Rollup), or Vite's
 * 8-character base64url hash after '-' with a digit or capital in it, before an asset extension.
 */
#define HASHED_RE                                                                                  \
	"(?:[.-](?=[a-f]*[0-9])[0-9a-f]{8,}|-(?=[A-Za-z0-9_-]{0,7}[0-9A-Z])[A-Za-z0-9_-]{8})"      \
	"\\.(?:js|mjs|cjs|css|map|json|wasm|woff2?|ttf|otf|eot|svg|png|jpe?g|gif|webp|avif|ico)"
#define CACHE_IMMUTABLE  "public, max-age=31536000, immutable"
#define CACHE_REVALIDATE "public, max-age=0, must-revalidate"

int lp_nginx_safe_page(const char *p)
{
	size_t i;

	if (p == NULL || *p == '\0' || strlen(p) > 255 || strstr(p, ".."))
		return 0;
	for (i = 0; p[i]; i++) {
		char c = p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '/' || c == '.' || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

static int is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_name_char(char c)
{
	return is_alnum(c) || c == '_';
}

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A hex digit of a %HH escape, matched in either case. */
static int hex_digit_re(lp_buf *b, char c)
{
	if (c >= '0' && c <= '9')
		return lp_buf_putc(b, c);
	return lp_buf_printf(b, "[%c%c]", c | 0x20, c & ~0x20);
}

/* One literal byte of whitelisted URL text as a regex that holds no nginx-special character. */
static int literal_re(lp_buf *b, const char *s, size_t *i)
{
	int rc;

	if (s[*i] == '%' && is_hex(s[*i + 1]) && is_hex(s[*i + 2])) {
		if ((rc = lp_buf_putc(b, '%')) == LP_OK &&
		    (rc = hex_digit_re(b, s[*i + 1])) == LP_OK)
			rc = hex_digit_re(b, s[*i + 2]);
		*i += 2;
		return rc;
	}
	if (is_alnum(s[*i]))
		return lp_buf_putc(b, s[*i]);
	return lp_buf_printf(b, "\\x%02x", (unsigned)(unsigned char)s[*i]);
}

struct names {
	char v[NAMES_MAX][NAME_MAX_LEN];
	size_t n;
};

static int add_name(struct names *nm, const char *s, size_t len)
{
	if (nm->n >= NAMES_MAX || len >= NAME_MAX_LEN)
		return LP_ETOOBIG;
	memcpy(nm->v[nm->n], s, len);
	nm->v[nm->n][len] = '\0';
	nm->n++;
	return LP_OK;
}

/* Placeholders (one segment each) and literals of s[0..len). */
static int path_re(lp_buf *b, const char *s, size_t len, struct names *nm)
{
	size_t i, j;
	int rc = LP_OK;

	for (i = 0; rc == LP_OK && i < len; i++) {
		if (s[i] == ':' && i + 1 < len && is_name_start(s[i + 1])) {
			for (j = i + 1; j < len && is_name_char(s[j]); j++)
				;
			if ((rc = add_name(nm, s + i + 1, j - i - 1)) == LP_OK)
				rc = lp_buf_puts(b, "([^/?]+)");
			i = j - 1;
		} else {
			rc = literal_re(b, s, &i);
		}
	}
	return rc;
}

/*
 * The from path: "/x/" and "/x" match both (Netlify normalises the trailing slash); "/x/<splat>"
 * also matches "/x". A raw path with a dot segment matches no rule, so a capture can never climb
 * out of a rewrite's target.
 */
static int from_re(lp_buf *b, const lp_redirect_rule *r, struct names *nm)
{
	const char *f = r->from;
	size_t n = strlen(f), i;
	int rc;

	rc = lp_buf_puts(b, r->force ? "^[01]{3}" : "^000");
	if (rc == LP_OK)
		rc = lp_buf_puts(b, "(?![^?]*/(?:\\x2e|%2[eE]){1,2}(?:/|\\?))");
	if (rc != LP_OK)
		return rc;
	if (n == 2 && f[1] == '*') {
		if ((rc = add_name(nm, SPLAT, strlen(SPLAT))) == LP_OK)
			rc = lp_buf_puts(b, "/([^?]*)\\?");
	} else if (n > 2 && f[n - 1] == '*') {
		if ((rc = path_re(b, f, n - 2, nm)) == LP_OK &&
		    (rc = add_name(nm, SPLAT, strlen(SPLAT))) == LP_OK)
			rc = lp_buf_puts(b, "(?:/([^?]*))?\\?");
	} else {
		if (n > 1 && f[n - 1] == '/')
			n--;
		if ((rc = path_re(b, f, n, nm)) == LP_OK)
			rc = lp_buf_puts(b, n == 1 ? "\\?" : "/?\\?");
	}
	for (i = 0; rc == LP_OK && i < r->nquery; i++) {
		const char *k = r->query[i].key, *v = r->query[i].value;
		size_t j;
		rc = lp_buf_puts(b, "(?=(?:[^&]*&)*?");
		for (j = 0; rc == LP_OK && k[j]; j++)
			rc = literal_re(b, k, &j);
		if (rc == LP_OK)
			rc = lp_buf_puts(b, "=");
		if (rc == LP_OK && v[0] == ':' && is_name_start(v[1])) {
			if ((rc = add_name(nm, v + 1, strlen(v + 1))) == LP_OK)
				rc = lp_buf_puts(b, "([^&]*)");
		} else {
			for (j = 0; rc == LP_OK && v[j]; j++)
				rc = literal_re(b, v, &j);
		}
		if (rc == LP_OK)
			rc = lp_buf_puts(b, "(?:&|\\z))");
	}
	return rc;
}

/* The target with each known placeholder replaced by its capture ($1..$9). */
static int target_text(lp_buf *b, const char *to, const struct names *nm)
{
	size_t i, j, k;
	int rc = LP_OK;

	for (i = 0; rc == LP_OK && to[i]; i++) {
		if (to[i] == ':' && is_name_start(to[i + 1])) {
			for (j = i + 1; is_name_char(to[j]); j++)
				;
			for (k = 0; k < nm->n; k++)
				if (strlen(nm->v[k]) == j - i - 1 &&
				    !strncmp(nm->v[k], to + i + 1, j - i - 1))
					break;
			if (k < nm->n) {
				rc = lp_buf_printf(b, "$%zu", k + 1);
				i = j - 1;
				continue;
			}
		}
		/* Whitelisted text holds no '"', '\' or '$': it stands inside quotes as it is. */
		rc = lp_buf_putc(b, to[i]);
	}
	return rc;
}

static int render_rule(lp_buf *b, const lp_redirect_rule *r)
{
	struct names nm = {.n = 0};
	int rc;

	rc = lp_buf_printf(b, "    # %s:%d\n    if ($lp_k ~ \"", r->source[0] ? r->source : "rules",
	                   r->line);
	if (rc == LP_OK)
		rc = from_re(b, r, &nm);
	if (rc == LP_OK)
		rc = lp_buf_puts(b, "\") {\n");
	if (rc != LP_OK)
		return rc;
	if (r->status == 200) {
		if ((rc = lp_buf_puts(b, "        set $lp_rw \"")) == LP_OK &&
		    (rc = target_text(b, r->to, &nm)) == LP_OK)
			rc = lp_buf_puts(b, "\";\n        rewrite ^ $lp_rw break;\n");
	} else if (r->status >= 400) {
		if ((rc = lp_buf_puts(b, "        set $lp_err \"")) == LP_OK &&
		    (rc = target_text(b, r->to, &nm)) == LP_OK)
			rc = lp_buf_printf(b, "\";\n        return %d;\n", r->status);
	} else {
		/* Netlify passes the query on unless the rule matched on it or names its own. */
		int pass = r->nquery == 0 && strchr(r->to, '?') == NULL;
		if ((rc = lp_buf_printf(b, "        return %d \"", r->status)) == LP_OK &&
		    (rc = target_text(b, r->to, &nm)) == LP_OK)
			rc = lp_buf_puts(b, pass ? "$is_args$args\";\n" : "\";\n");
	}
	if (rc == LP_OK)
		rc = lp_buf_puts(b, "    }\n");
	return rc;
}

/* A header path: '*' any run of characters, ':name' one segment, the rest literal. */
static int header_path_re(lp_buf *b, const char *p)
{
	size_t i;
	int rc = lp_buf_putc(b, '^');

	for (i = 0; rc == LP_OK && p[i]; i++) {
		if (p[i] == '*') {
			rc = lp_buf_puts(b, ".*");
		} else if (p[i] == ':' && is_name_start(p[i + 1])) {
			while (is_name_char(p[i + 1]))
				i++;
			rc = lp_buf_puts(b, "[^/]+");
		} else {
			rc = literal_re(b, p, &i);
		}
	}
	return rc == LP_OK ? lp_buf_puts(b, "\\z") : rc;
}

/* A header value as a quoted nginx string: '"' and '\' escaped, '$' a variable of its own. */
static int quoted_value(lp_buf *b, const char *v)
{
	int rc = lp_buf_putc(b, '"');

	for (; rc == LP_OK && *v; v++) {
		if (*v == '"' || *v == '\\')
			rc = lp_buf_printf(b, "\\%c", *v);
		else if (*v == '$')
			rc = lp_buf_puts(b, "${lp_dollar}");
		else
			rc = lp_buf_putc(b, *v);
	}
	return rc == LP_OK ? lp_buf_putc(b, '"') : rc;
}

struct header_name {
	const char *name; /* first spelling */
	int cache_control;
};

/* Distinct header names (case-insensitive) in first-seen order. */
static size_t header_names(struct header_name *out, const lp_headers *h)
{
	size_t n = 0, i, j, k;

	for (i = 0; h && i < h->count; i++)
		for (j = 0; j < h->items[i].count; j++) {
			const char *nm = h->items[i].values[j].name;
			for (k = 0; k < n && strcasecmp(out[k].name, nm); k++)
				;
			if (k == n && n < HEADER_NAMES) {
				out[n].name = nm;
				out[n].cache_control = !strcasecmp(nm, "cache-control");
				n++;
			}
		}
	return n;
}

/*
 * One map per block that sets header i, then a chain of maps joining the non-empty ones with
 * ", " (values hold no tab: the parser turned them into spaces). The last name is $lp_h<i>.
 */
static int render_header_maps(lp_buf *b, const lp_headers *h, size_t i, const char *name)
{
	size_t bi, j, k = 0;
	int rc = LP_OK;

	for (bi = 0; rc == LP_OK && bi < h->count; bi++)
		for (j = 0; rc == LP_OK && j < h->items[bi].count; j++) {
			if (strcasecmp(h->items[bi].values[j].name, name))
				continue;
			if ((rc = lp_buf_printf(b, "map $lp_path $lp_h%zu_%zu {\n    \"~", i, k)) ==
			        LP_OK &&
			    (rc = header_path_re(b, h->items[bi].path)) == LP_OK &&
			    (rc = lp_buf_puts(b, "\" ")) == LP_OK &&
			    (rc = quoted_value(b, h->items[bi].values[j].value)) == LP_OK)
				rc = lp_buf_printf(b, ";\n    default \"\";\n}\n");
			if (rc == LP_OK && k > 0)
				rc = lp_buf_printf(
				    b,
				    "map \"$lp_h%zu_j%zu\\t$lp_h%zu_%zu\" $lp_h%zu_j%zu {\n"
				    "    \"~^\\t(?<lp_j2>.*)\\z\" $lp_j2;\n"
				    "    \"~^(?<lp_j1>.*)\\t\\z\" $lp_j1;\n"
				    "    \"~^(?<lp_j1>[^\\t]*)\\t(?<lp_j2>.*)\\z\" \"$lp_j1, "
				    "$lp_j2\";\n"
				    "}\n",
				    i, k - 1, i, k, i, k);
			else if (rc == LP_OK)
				rc = lp_buf_printf(
				    b, "map $lp_h%zu_0 $lp_h%zu_j0 { default $lp_h%zu_0; }\n", i, i,
				    i);
			k++;
		}
	if (rc == LP_OK)
		rc = lp_buf_printf(b, "map $lp_h%zu_j%zu $lp_h%zu { default $lp_h%zu_j%zu; }\n", i,
		                   k - 1, i, i, k - 1);
	return rc;
}

static int render_http(lp_buf *b, const struct lp_nginx_rules *in, struct header_name *names,
                       size_t nnames)
{
	size_t i;
	int cc = -1, rc;

	rc = lp_buf_puts(b, "# Generated by launchpad-controller from the revision's rules.\n"
	                    /* The raw path: percent-encoded as sent, never a CR or LF in it. */
	                    "map $request_uri $lp_path {\n"
	                    "    \"~^(?<lp_p>[^?]*)\" $lp_p;\n"
	                    "    default \"\";\n"
	                    "}\n"
	                    /* nginx strings have no escape for '$': this variable is one. */
	                    "geo $lp_dollar {\n"
	                    "    default \"$\";\n"
	                    "}\n");
	for (i = 0; rc == LP_OK && i < nnames; i++) {
		rc = render_header_maps(b, in->headers, i, names[i].name);
		if (names[i].cache_control)
			cc = (int)i;
	}
	if (rc == LP_OK)
		rc = lp_buf_puts(b, "map \"$status $lp_path\" $lp_cache_default {\n"
		                    "    \"~^(?:200|206|304) [^ ]*" HASHED_RE
		                    "\\z\" \"" CACHE_IMMUTABLE "\";\n"
		                    "    default \"" CACHE_REVALIDATE "\";\n"
		                    "}\n");
	/* A user's Cache-Control replaces the default, whatever the file. */
	if (rc == LP_OK && cc >= 0)
		rc = lp_buf_printf(b,
		                   "map $lp_h%d $lp_cache {\n"
		                   "    \"\" $lp_cache_default;\n"
		                   "    default $lp_h%d;\n"
		                   "}\n",
		                   cc, cc);
	else if (rc == LP_OK)
		rc = lp_buf_puts(
		    b, "map $lp_cache_default $lp_cache { default $lp_cache_default; }\n");
	return rc;
}

static int error_codes(lp_buf *b, const lp_redirects *r)
{
	static const int codes[] = LP_REDIRECT_4XX;
	size_t i, j;
	int rc = lp_buf_puts(b, "    error_page");

	for (i = 0; rc == LP_OK && i < sizeof(codes) / sizeof(codes[0]); i++) {
		int used = codes[i] == 404;
		for (j = 0; !used && r && j < r->count; j++)
			used = r->items[j].status == codes[i];
		if (used)
			rc = lp_buf_printf(b, " %d", codes[i]);
	}
	return rc == LP_OK ? lp_buf_puts(b, " $lp_err;\n") : rc;
}

static int render_server(lp_buf *b, const struct lp_nginx_rules *in, struct header_name *names,
                         size_t nnames)
{
	static const lp_redirect_rule spa = {
	    .from = "/*", .to = "/index.html", .status = 200, .source = "serve.spa", .line = 1};
	size_t i;
	int rc;

	rc = lp_buf_puts(b, "    uninitialized_variable_warn off;\n");
	for (i = 0; rc == LP_OK && i < nnames; i++)
		if (!names[i].cache_control)
			rc = lp_buf_printf(b, "    add_header %s $lp_h%zu always;\n", names[i].name,
			                   i);
	if (rc == LP_OK)
		rc = lp_buf_puts(b, "    add_header Cache-Control $lp_cache always;\n");
	if (rc == LP_OK)
		rc = error_codes(b, in->redirects);
	if (rc == LP_OK)
		rc = lp_buf_printf(
		    b,
		    /* First: an error page is chosen when the error happens, so resetting is safe.
		     */
		    "    set $lp_err \"/%s\";\n"
		    /* Health and revision probes never meet a rule. */
		    "    if ($uri ~ \"^/\\x2elaunchpad/\") { break; }\n"
		    /* An error page or a rewrite comes through here again: rules apply once. */
		    "    if ($lp_done) { break; }\n"
		    "    set $lp_done 1;\n" KEY_SET,
		    in->not_found_page ? in->not_found_page : ".launchpad/404");
	for (i = 0; rc == LP_OK && in->redirects && i < in->redirects->count; i++)
		rc = render_rule(b, &in->redirects->items[i]);
	if (rc == LP_OK && in->spa)
		rc = render_rule(b, &spa);
	if (rc == LP_OK)
		rc = lp_buf_printf(
		    b,
		    /* Pretty URLs: /dir with dir/index.html (and no dir.html) gets its slash. */
		    "    if ($lp_k ~ \"^001([^?]*[^/?])\\?\") { return 301 \"$1/$is_args$args\"; "
		    "}\n"
		    "    location / {\n"
		    "        try_files $uri $uri.html $uri/index.html =404;\n"
		    "    }\n"
		    /* The rules files are the platform's input, not the site's content. */
		    "    location = /_redirects { return 404; }\n"
		    "    location = /_headers { return 404; }\n"
		    "    location = /.launchpad/404 { internal; return 404; }\n"
		    "    location = " LP_NGINX_REVISION_PATH " {\n"
		    "        access_log off;\n"
		    "        default_type text/plain;\n"
		    "        return 200 \"%ld\\n\";\n"
		    "    }\n",
		    in->revision);
	return rc;
}

int lp_nginx_rules_render(char **out_http, char **out_server, const struct lp_nginx_rules *in,
                          lp_error *err)
{
	struct header_name *names = NULL;
	size_t nnames = 0;
	lp_buf h, s;
	int rc;

	*out_http = NULL;
	*out_server = NULL;
	if (in->not_found_page && !lp_nginx_safe_page(in->not_found_page))
		return lp_error_set(err, LP_EINVAL, "notFoundPage \"%s\" is not a safe path",
		                    in->not_found_page);
	names = calloc(HEADER_NAMES, sizeof(*names));
	if (names == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory rendering the rules");
	if (in->headers)
		nnames = header_names(names, in->headers);
	lp_buf_init(&h, LP_NGINX_RULES_MAX);
	lp_buf_init(&s, LP_NGINX_RULES_MAX);
	rc = render_http(&h, in, names, nnames);
	if (rc == LP_OK)
		rc = render_server(&s, in, names, nnames);
	if (rc != LP_OK) {
		lp_error_set(err, rc, "the rules do not fit in %zu bytes of nginx configuration",
		             LP_NGINX_RULES_MAX);
	} else {
		*out_http = lp_buf_detach(&h);
		*out_server = lp_buf_detach(&s);
	}
	lp_buf_release(&h);
	lp_buf_release(&s);
	free(names);
	return rc;
}
