/* headers.c: Netlify's `_headers` format, read into whitelisted blocks (serve_rules.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "launchpad/buf.h"
#include "launchpad/fmt.h"
#include "launchpad/serve_rules.h"
#include "spec/rules.h"
#include "spec/serve_text.h"

#define BLOCK_VALUES_MAX 64

struct hctx {
	lp_headers *out;
	const char *source;
	lp_rules_warn_fn warn;
	void *wctx;
	int line;
	lp_header_block *cur; /* the block indented lines belong to; NULL: none (or skipped) */
	int full_warned;
};

#define WARN(c, ...) lp_rules_warnf((c)->warn, (c)->wctx, (c)->source, (c)->line, __VA_ARGS__)

/*
 * Netlify's servers set these themselves and ignore custom values (docs.netlify.com, custom
 * headers); the last three nginx sets from the file it serves, and a second copy would only
 * contradict it.
 */
static const char *const ignored[] = {
    "accept-ranges",  "age",
    "allow",          "alt-svc",
    "connection",     "content-encoding",
    "content-length", "content-range",
    "date",           "location",
    "server",         "set-cookie",
    "trailer",        "transfer-encoding",
    "upgrade",        "content-type",
    "etag",           "last-modified",
};

int lp_headers_name_ignored(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		if (!strcasecmp(name, ignored[i]))
			return 1;
	return 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

static int name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

static void block_clear(lp_header_block *b)
{
	size_t i;

	free(b->path);
	for (i = 0; i < b->count; i++) {
		free(b->values[i].name);
		free(b->values[i].value);
	}
	free(b->values);
	memset(b, 0, sizeof(*b));
}

static int path_line(struct hctx *c, const char *s, size_t len, lp_error *err)
{
	char why[LP_RULES_WARNING_MAX];
	lp_header_block *b;
	size_t n = len;

	c->cur = NULL;
	while (n > 0 && is_space(s[n - 1]))
		n--;
	if (s[0] != '/') {
		WARN(c, "\"%.*s\" is not a path (it must start with '/'); its block is skipped",
		     (int)(n > 80 ? 80 : n), s);
		return LP_OK;
	}
	if (c->out->count >= LP_HEADERS_BLOCKS_MAX) {
		if (!c->full_warned)
			WARN(c, "more than %d header blocks: this one and the rest are dropped",
			     LP_HEADERS_BLOCKS_MAX);
		c->full_warned = 1;
		return LP_OK;
	}
	b = &c->out->items[c->out->count];
	memset(b, 0, sizeof(*b));
	if (lp_rules_url_text(&b->path, s, n, why, sizeof(why)) != LP_OK) {
		WARN(c, "path: %s; its block is skipped", why);
		return LP_OK;
	}
	if (strpbrk(b->path, "?#") != NULL) {
		WARN(c, "a header path has no query or fragment; its block is skipped");
		block_clear(b);
		return LP_OK;
	}
	b->values = calloc(BLOCK_VALUES_MAX, sizeof(*b->values));
	if (b->values == NULL) {
		block_clear(b);
		return lp_error_set(err, LP_ENOMEM, "out of memory reading %s", c->source);
	}
	if (lp_fmt(b->source, sizeof(b->source), "%s", c->source) != LP_OK)
		b->source[0] = '\0';
	b->line = c->line;
	c->out->count++;
	c->cur = b;
	return LP_OK;
}

/* Append to a value already set in this block: "a, b". */
static int join(char **v, const char *more, size_t len)
{
	size_t old = strlen(*v);
	char *n =
	    old + 2 + len + 1 <= LP_HEADER_VALUE_MAX + 1 ? realloc(*v, old + 2 + len + 1) : NULL;

	if (n == NULL)
		return 0;
	memcpy(n + old, ", ", 2);
	memcpy(n + old + 2, more, len);
	n[old + 2 + len] = '\0';
	*v = n;
	return 1;
}

static int value_line(struct hctx *c, const char *s, size_t len, lp_error *err)
{
	lp_header_block *b = c->cur;
	const char *colon = memchr(s, ':', len);
	size_t nlen, vlen, i;
	const char *v;
	char name[LP_HEADER_NAME_MAX + 1];

	if (b == NULL) {
		WARN(c, "a header line outside a path block; skipped");
		return LP_OK;
	}
	if (colon == NULL) {
		WARN(c, "not a \"Name: value\" line; skipped");
		return LP_OK;
	}
	nlen = (size_t)(colon - s);
	while (nlen > 0 && is_space(s[nlen - 1]))
		nlen--;
	if (nlen == 0 || nlen > LP_HEADER_NAME_MAX) {
		WARN(c, "a header name is 1 to %d characters; skipped", LP_HEADER_NAME_MAX);
		return LP_OK;
	}
	for (i = 0; i < nlen; i++)
		if (!name_char(s[i])) {
			WARN(c,
			     "header name \"%.*s\" has a character outside [A-Za-z0-9_-]; skipped",
			     (int)nlen, s);
			return LP_OK;
		}
	memcpy(name, s, nlen);
	name[nlen] = '\0';
	v = colon + 1;
	vlen = len - (size_t)(v - s);
	while (vlen > 0 && is_space(*v)) {
		v++;
		vlen--;
	}
	while (vlen > 0 && is_space(v[vlen - 1]))
		vlen--;
	if (lp_headers_name_ignored(name)) {
		WARN(c, "header %s is set by the server and cannot be changed; skipped", name);
		return LP_OK;
	}
	if (vlen == 0) {
		WARN(c, "header %s has no value; skipped", name);
		return LP_OK;
	}
	if (vlen > LP_HEADER_VALUE_MAX || !lp_rule_utf8(v, vlen)) {
		WARN(c, "header %s: the value is not UTF-8 text of at most %d bytes; skipped", name,
		     LP_HEADER_VALUE_MAX);
		return LP_OK;
	}
	/* Tabs inside a value read as spaces: the renderer joins values on tabs. */
	for (i = 0; i < b->count; i++)
		if (!strcasecmp(b->values[i].name, name)) {
			if (!join(&b->values[i].value, v, vlen)) {
				WARN(c,
				     "header %s: the joined value is longer than %d bytes; skipped",
				     name, LP_HEADER_VALUE_MAX);
				return LP_OK;
			}
			goto tabs;
		}
	if (b->count >= BLOCK_VALUES_MAX || c->out->nvalues >= LP_HEADERS_VALUES_MAX) {
		WARN(c, "too many headers (%d a block, %d in all); skipped", BLOCK_VALUES_MAX,
		     LP_HEADERS_VALUES_MAX);
		return LP_OK;
	}
	b->values[b->count].name = strdup(name);
	b->values[b->count].value = strndup(v, vlen);
	if (b->values[b->count].name == NULL || b->values[b->count].value == NULL) {
		free(b->values[b->count].name);
		free(b->values[b->count].value);
		return lp_error_set(err, LP_ENOMEM, "out of memory reading %s", c->source);
	}
	i = b->count++;
	c->out->nvalues++;
tabs:
	for (char *p = b->values[i].value; *p; p++)
		if (*p == '\t')
			*p = ' ';
	return LP_OK;
}

int lp_headers_parse(lp_headers *out, const char *text, size_t len, const char *source,
                     lp_rules_warn_fn warn, void *warn_ctx, lp_error *err)
{
	struct hctx c = {out, source, warn, warn_ctx, 0, NULL, 0};
	struct lp_rules_lines it;
	const char *line, *t;
	size_t n, tn;
	long bad;
	int rc = LP_OK;

	if (len > LP_RULES_FILE_MAX)
		return lp_error_set(err, LP_ETOOBIG, "%s is larger than %zu bytes", source,
		                    LP_RULES_FILE_MAX);
	if (out->items == NULL) {
		out->items = calloc(LP_HEADERS_BLOCKS_MAX, sizeof(*out->items));
		if (out->items == NULL)
			return lp_error_set(err, LP_ENOMEM, "out of memory reading %s", source);
	}
	c.full_warned = out->count >= LP_HEADERS_BLOCKS_MAX;
	lp_rules_lines_init(&it, text, len);
	while (rc == LP_OK && lp_rules_next_line(&it, &line, &n)) {
		c.line = it.line;
		t = line;
		tn = n;
		while (tn > 0 && is_space(*t)) {
			t++;
			tn--;
		}
		if (tn == 0 || t[0] == '#')
			continue;
		if (n > LP_RULES_LINE_MAX) {
			WARN(&c, "line longer than %d bytes; skipped", LP_RULES_LINE_MAX);
			if (t == line)
				c.cur =
				    NULL; /* a path line lost: its values must not land elsewhere */
			continue;
		}
		if ((bad = lp_rules_control_at(line, n)) >= 0) {
			WARN(&c, "control character 0x%02x at byte %ld; skipped",
			     (unsigned)(unsigned char)line[bad], bad + 1);
			if (t == line)
				c.cur = NULL;
			continue;
		}
		rc = t == line ? path_line(&c, t, tn, err) : value_line(&c, t, tn, err);
	}
	return rc;
}

void lp_headers_release(lp_headers *h)
{
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < h->count; i++)
		block_clear(&h->items[i]);
	free(h->items);
	h->items = NULL;
	h->count = 0;
	h->nvalues = 0;
}
