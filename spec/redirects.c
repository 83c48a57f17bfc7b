/* redirects.c: Netlify's `_redirects` format, read into whitelisted rules (serve_rules.h). */
#include <stdlib.h>
#include <string.h>

#include "launchpad/fmt.h"
#include "launchpad/serve_rules.h"
#include "spec/serve_text.h"

#define FIELDS_MAX 16

static const int allowed_4xx[] = LP_REDIRECT_4XX;

struct field {
	const char *s;
	size_t len;
};

struct rctx {
	lp_redirects *out;
	const char *source;
	lp_rules_warn_fn warn;
	void *wctx;
	int line;
	int full_warned;
};

#define WARN(c, ...) lp_rules_warnf((c)->warn, (c)->wctx, (c)->source, (c)->line, __VA_ARGS__)

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

static int has_prefix(const struct field *f, const char *p)
{
	size_t n = strlen(p);

	return f->len >= n && !strncmp(f->s, p, n);
}

static int is_url(const struct field *f)
{
	return has_prefix(f, "http://") || has_prefix(f, "https://");
}

static int is_target(const struct field *f)
{
	return f->s[0] == '/' || is_url(f);
}

static int is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9') || c == '_';
}

static size_t split(struct field *f, const char *s, size_t len)
{
	size_t n = 0, i = 0;

	while (i < len) {
		while (i < len && is_space(s[i]))
			i++;
		if (i >= len)
			break;
		if (n == FIELDS_MAX)
			return FIELDS_MAX + 1;
		f[n].s = s + i;
		while (i < len && !is_space(s[i]))
			i++;
		f[n].len = (size_t)((s + i) - f[n].s);
		n++;
	}
	return n;
}

/* Placeholders and the splat of a from path; 0 with a warning when the shape is wrong. */
static int check_from(struct rctx *c, const char *from, int *captures)
{
	size_t i, n = strlen(from);

	*captures = 0;
	for (i = 0; i < n; i++) {
		if (from[i] == '*') {
			if (i + 1 != n || i == 0 || from[i - 1] != '/') {
				WARN(c, "'*' may only end the path, after a '/'; rule skipped");
				return 0;
			}
			(*captures)++;
		} else if (from[i] == ':' && i + 1 < n && is_name_start(from[i + 1])) {
			(*captures)++;
			while (i + 1 < n && is_name_char(from[i + 1]))
				i++;
		}
	}
	return 1;
}

/* A `key=value` query condition: key whitelisted, value ":name" or a literal. */
static int read_query(struct rctx *c, lp_redirect_rule *r, const struct field *f, int *captures)
{
	const char *eq = memchr(f->s, '=', f->len);
	size_t klen, vlen, i;
	char why[LP_RULES_WARNING_MAX];

	if (eq == NULL || eq == f->s) {
		WARN(c, "query condition \"%.*s\" is not key=value; rule skipped", (int)f->len,
		     f->s);
		return 0;
	}
	if (r->nquery == LP_REDIRECT_QUERY_MAX) {
		WARN(c, "more than %d query conditions; rule skipped", LP_REDIRECT_QUERY_MAX);
		return 0;
	}
	klen = (size_t)(eq - f->s);
	vlen = f->len - klen - 1;
	for (i = 0; i < klen; i++)
		if (!is_name_char(f->s[i]) && !strchr("-.~[]", f->s[i])) {
			WARN(c,
			     "query key \"%.*s\" has a character outside [A-Za-z0-9_.~[]-]; rule "
			     "skipped",
			     (int)klen, f->s);
			return 0;
		}
	if (vlen > 1 && eq[1] == ':' && is_name_start(eq[2])) {
		for (i = 2; i < vlen; i++)
			if (!is_name_char(eq[1 + i])) {
				WARN(c, "placeholder \"%.*s\" is not a name; rule skipped",
				     (int)vlen, eq + 1);
				return 0;
			}
		(*captures)++;
	}
	r->query[r->nquery].key = strndup(f->s, klen);
	if (r->query[r->nquery].key == NULL || lp_rules_url_text(&r->query[r->nquery].value, eq + 1,
	                                                         vlen, why, sizeof(why)) != LP_OK) {
		free(r->query[r->nquery].key);
		r->query[r->nquery].key = NULL;
		WARN(c, "query value \"%.*s\": %s; rule skipped", (int)vlen, eq + 1, why);
		return 0;
	}
	r->nquery++;
	return 1;
}

/* "301", "200!", "404": a status of the allowed set. */
static int read_status(struct rctx *c, lp_redirect_rule *r, const struct field *f)
{
	size_t n = f->len;
	size_t i;

	if (n > 0 && f->s[n - 1] == '!') {
		r->force = 1;
		n--;
	}
	if (n != 3 || f->s[0] < '1' || f->s[0] > '9' || f->s[1] < '0' || f->s[1] > '9' ||
	    f->s[2] < '0' || f->s[2] > '9') {
		WARN(c, "status \"%.*s\" is not a number like 301 or 200!; rule skipped",
		     (int)f->len, f->s);
		return 0;
	}
	r->status = (f->s[0] - '0') * 100 + (f->s[1] - '0') * 10 + (f->s[2] - '0');
	if (r->status == 200 || r->status == 301 || r->status == 302 || r->status == 303 ||
	    r->status == 307 || r->status == 308)
		return 1;
	for (i = 0; i < sizeof(allowed_4xx) / sizeof(allowed_4xx[0]); i++)
		if (r->status == allowed_4xx[i])
			return 1;
	WARN(c, "status %d is not supported (200, 301, 302, 303, 307, 308 or a 4xx); rule skipped",
	     r->status);
	return 0;
}

/* A condition field after the status: all are understood, none is supported here. */
static void warn_condition(struct rctx *c, const struct field *f)
{
	const char *eq = memchr(f->s, '=', f->len);
	int klen = eq ? (int)(eq - f->s) : (int)f->len;

	if (klen == 6 && !strncasecmp(f->s, "signed", 6))
		WARN(c, "signed proxy rules are not supported; rule skipped");
	else if ((klen == 7 && !strncasecmp(f->s, "country", 7)) ||
	         (klen == 8 && !strncasecmp(f->s, "language", 8)) ||
	         (klen == 4 && !strncasecmp(f->s, "role", 4)) ||
	         (klen == 6 && !strncasecmp(f->s, "cookie", 6)))
		WARN(c, "%.*s conditions are not supported; rule skipped", klen, f->s);
	else
		WARN(c, "unexpected field \"%.*s\" after the status; rule skipped", (int)f->len,
		     f->s);
}

static int has_dot_segment(const char *p)
{
	const char *s = p;

	while ((s = strstr(s, "/.")) != NULL) {
		size_t dots = s[2] == '.' ? 2 : 1;
		char after = s[1 + dots];
		if (after == '\0' || after == '/' || after == '?' || after == '#')
			return 1;
		s++;
	}
	return 0;
}

static void rule_clear(lp_redirect_rule *r)
{
	size_t i;

	free(r->from);
	free(r->to);
	for (i = 0; i < r->nquery; i++) {
		free(r->query[i].key);
		free(r->query[i].value);
	}
	memset(r, 0, sizeof(*r));
}

/* The target: a local path or an http(s) URL; rewrites keep no query (static files take none). */
static int read_target(struct rctx *c, lp_redirect_rule *r, const struct field *f)
{
	char why[LP_RULES_WARNING_MAX];
	char *q;

	r->external = is_url(f);
	if (r->external && r->status == 200) {
		WARN(c,
		     "proxying to %.*s is refused (serve containers have no egress, and an open "
		     "proxy is an SSRF); rule skipped",
		     (int)f->len, f->s);
		return 0;
	}
	if (r->external && r->status >= 400) {
		WARN(c, "a %d rule serves a file of the site, not a URL; rule skipped", r->status);
		return 0;
	}
	if (lp_rules_url_text(&r->to, f->s, f->len, why, sizeof(why)) != LP_OK) {
		WARN(c, "target: %s; rule skipped", why);
		return 0;
	}
	if (!r->external && has_dot_segment(r->to)) {
		WARN(c, "target has a '.' or '..' segment; rule skipped");
		return 0;
	}
	if (r->external) {
		/* The host part: letters, digits, dots, dashes and a port; nothing else. */
		const char *h = strstr(r->to, "://") + 3;
		size_t i, n = strcspn(h, "/?#");
		for (i = 0; i < n; i++)
			if (!is_name_char(h[i]) && h[i] != '.' && h[i] != '-' && h[i] != ':') {
				WARN(c, "target host \"%.*s\" is not a host name; rule skipped",
				     (int)n, h);
				return 0;
			}
		if (n == 0) {
			WARN(c, "target URL has no host; rule skipped");
			return 0;
		}
	}
	if (r->status == 200 || r->status >= 400) {
		if ((q = strpbrk(r->to, "?#")) != NULL) {
			WARN(c,
			     "the query or fragment of a %d target is dropped (a file takes none)",
			     r->status);
			*q = '\0';
		}
	}
	return 1;
}

/* One non-blank, non-comment line: a rule appended, or a warning. */
static void read_rule(struct rctx *c, const char *s, size_t len)
{
	struct field f[FIELDS_MAX + 1];
	lp_redirect_rule r;
	size_t n, i;
	int captures = 0, q = 0;
	long bad;
	char why[LP_RULES_WARNING_MAX];

	memset(&r, 0, sizeof(r));
	if (len > LP_RULES_LINE_MAX) {
		WARN(c, "line longer than %d bytes; skipped", LP_RULES_LINE_MAX);
		return;
	}
	if ((bad = lp_rules_control_at(s, len)) >= 0) {
		WARN(c, "control character 0x%02x at byte %ld; rule skipped",
		     (unsigned)(unsigned char)s[bad], bad + 1);
		return;
	}
	n = split(f, s, len);
	if (n > FIELDS_MAX) {
		WARN(c, "more than %d fields; rule skipped", FIELDS_MAX);
		return;
	}
	if (is_url(&f[0])) {
		WARN(
		    c,
		    "domain-level rules (a host in the from path) are not supported; rule skipped");
		return;
	}
	if (f[0].s[0] != '/') {
		WARN(c, "\"%.*s\" is not a path (it must start with '/'); rule skipped",
		     (int)(f[0].len > 80 ? 80 : f[0].len), f[0].s);
		return;
	}
	if (lp_rules_url_text(&r.from, f[0].s, f[0].len, why, sizeof(why)) != LP_OK) {
		WARN(c, "path: %s; rule skipped", why);
		return;
	}
	if (strpbrk(r.from, "?#") != NULL) {
		WARN(c, "the from path has a '?' or '#' (query conditions go in key=value fields); "
		        "rule skipped");
		goto skip;
	}
	if (!check_from(c, r.from, &captures))
		goto skip;
	for (i = 1; i < n && !is_target(&f[i]); i++)
		if (!read_query(c, &r, &f[i], &captures))
			goto skip;
	if (i == n) {
		WARN(c, "no target (a path starting with '/' or an http(s) URL); rule skipped");
		goto skip;
	}
	q = (int)i++;
	r.status = 301;
	if (i < n && !memchr(f[i].s, '=', f[i].len)) {
		if (!read_status(c, &r, &f[i]))
			goto skip;
		i++;
	}
	if (i < n) {
		warn_condition(c, &f[i]);
		goto skip;
	}
	if (!read_target(c, &r, &f[q]))
		goto skip;
	if (captures > LP_REDIRECT_CAPTURES) {
		WARN(c, "more than %d placeholders, splats and query values; rule skipped",
		     LP_REDIRECT_CAPTURES);
		goto skip;
	}
	if (c->out->count >= LP_REDIRECTS_MAX) {
		if (!c->full_warned)
			WARN(c, "more than %d rules: this one and the rest are dropped",
			     LP_REDIRECTS_MAX);
		c->full_warned = 1;
		goto skip;
	}
	if (lp_fmt(r.source, sizeof(r.source), "%s", c->source) != LP_OK)
		r.source[0] = '\0';
	r.line = c->line;
	c->out->items[c->out->count++] = r;
	return;
skip:
	rule_clear(&r);
	return;
}

int lp_redirects_parse(lp_redirects *out, const char *text, size_t len, const char *source,
                       lp_rules_warn_fn warn, void *warn_ctx, lp_error *err)
{
	struct rctx c = {out, source, warn, warn_ctx, 0, 0};
	struct lp_rules_lines it;
	const char *line;
	size_t n;

	if (len > LP_RULES_FILE_MAX)
		return lp_error_set(err, LP_ETOOBIG, "%s is larger than %zu bytes", source,
		                    LP_RULES_FILE_MAX);
	if (out->items == NULL) {
		out->items = calloc(LP_REDIRECTS_MAX, sizeof(*out->items));
		if (out->items == NULL)
			return lp_error_set(err, LP_ENOMEM, "out of memory reading %s", source);
	}
	c.full_warned = out->count >= LP_REDIRECTS_MAX;
	lp_rules_lines_init(&it, text, len);
	while (lp_rules_next_line(&it, &line, &n)) {
		c.line = it.line;
		while (n > 0 && is_space(*line)) {
			line++;
			n--;
		}
		if (n == 0 || line[0] == '#')
			continue;
		read_rule(&c, line, n);
	}
	return LP_OK;
}

void lp_redirects_release(lp_redirects *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->count; i++)
		rule_clear(&r->items[i]);
	free(r->items);
	r->items = NULL;
	r->count = 0;
}
