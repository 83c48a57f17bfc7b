/*
 * fuzz_rules.c: the `_redirects` and `_headers` parsers (spec/redirects.c, spec/headers.c).
 *
 * Input: the spec's text, a NUL byte, the revision file's text (either may be empty). Both parsers
 * read both parts into one list, the spec's first, as the controller does (controller/revconf.c).
 * Invariants, beyond no crash, leak or undefined behaviour: what comes out obeys the whitelist
 * that serve_rules.h promises the nginx renderer (which only quotes, never judges):
 *   - redirect paths, targets and query keys and values: printable ASCII without space, '"', '\',
 *     '$', '{', '}', '`', '<', '>', '^', '|'; a '%' is followed by two hex digits; `from` and a
 *     local `to` start with '/', an external `to` with http:// or https://;
 *   - a status of the documented set; the caps on rules, query conditions, blocks and values;
 *   - header block paths start with '/' and obey the URL whitelist; header names are 1 to 64 of
 *     [A-Za-z0-9_-]; values are non-empty UTF-8 without a control byte, at most 2,048 bytes;
 *   - every warning names its source and a line of the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/lib/fuzzlib.h"
#include "launchpad/serve_rules.h"

#define SPEC_SOURCE "spec.serve.redirects"
#define FILE_SOURCE "_redirects"

struct warn_ctx {
	int lines; /* lines of the longer part: no warning may name a line past it */
};

static void on_warn(void *ctx, const char *source, int line, const char *message)
{
	struct warn_ctx *w = ctx;

	if (source == NULL || (strcmp(source, SPEC_SOURCE) && strcmp(source, FILE_SOURCE)))
		fz_fail("warning with source \"%s\"", source ? source : "(null)");
	if (line < 1 || line > w->lines)
		fz_fail("warning at line %d of an input of %d lines: %s", line, w->lines, message);
	if (message == NULL || message[0] == '\0')
		fz_fail("empty warning at %s:%d", source, line);
}

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The whitelist of serve_rules.h for URL text. */
static void check_url_text(const char *s, const char *what)
{
	size_t i;

	if (s == NULL)
		fz_fail("%s is NULL", what);
	for (i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f || strchr("\"\\${}`<>^|", c) != NULL)
			fz_fail("%s \"%s\": byte 0x%02x at %zu is outside the whitelist", what, s,
			        c, i);
		if (c == '%' && !(is_hex(s[i + 1]) && is_hex(s[i + 2])))
			fz_fail("%s \"%s\": '%%' at %zu without two hex digits", what, s, i);
	}
}

static int status_ok(int status)
{
	static const int redirects[] = {200, 301, 302, 303, 307, 308};
	static const int client[] = LP_REDIRECT_4XX;
	size_t i;

	for (i = 0; i < sizeof(redirects) / sizeof(redirects[0]); i++)
		if (status == redirects[i])
			return 1;
	for (i = 0; i < sizeof(client) / sizeof(client[0]); i++)
		if (status == client[i])
			return 1;
	return 0;
}

static void check_redirects(const lp_redirects *r)
{
	size_t i, q;

	if (r->count > LP_REDIRECTS_MAX)
		fz_fail("%zu redirect rules (cap %d)", r->count, LP_REDIRECTS_MAX);
	for (i = 0; i < r->count; i++) {
		const lp_redirect_rule *x = &r->items[i];

		check_url_text(x->from, "redirect from");
		check_url_text(x->to, "redirect to");
		if (x->from[0] != '/')
			fz_fail("redirect from \"%s\" is not a path", x->from);
		if (x->external ? strncmp(x->to, "http://", 7) && strncmp(x->to, "https://", 8)
		                : x->to[0] != '/')
			fz_fail("redirect to \"%s\" (external %d) has the wrong form", x->to,
			        x->external);
		if (!status_ok(x->status))
			fz_fail("redirect %s -> %s has status %d", x->from, x->to, x->status);
		if (x->nquery > LP_REDIRECT_QUERY_MAX)
			fz_fail("%zu query conditions (cap %d)", x->nquery, LP_REDIRECT_QUERY_MAX);
		for (q = 0; q < x->nquery; q++) {
			check_url_text(x->query[q].key, "query key");
			check_url_text(x->query[q].value, "query value");
		}
		if (x->line < 1 ||
		    (strcmp(x->source, SPEC_SOURCE) && strcmp(x->source, FILE_SOURCE)))
			fz_fail("rule from %s:%d", x->source, x->line);
	}
}

static void check_value(const char *name, const char *v)
{
	size_t i, len = strlen(v);

	if (len == 0 || len > LP_HEADER_VALUE_MAX)
		fz_fail("header %s: value of %zu bytes", name, len);
	for (i = 0; i < len; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			fz_fail("header %s: control byte 0x%02x in its value", name,
			        (unsigned)(unsigned char)v[i]);
}

static void check_headers(const lp_headers *h)
{
	size_t i, k, c, nvalues = 0;

	if (h->count > LP_HEADERS_BLOCKS_MAX || h->nvalues > LP_HEADERS_VALUES_MAX)
		fz_fail("%zu header blocks, %zu values (caps %d, %d)", h->count, h->nvalues,
		        LP_HEADERS_BLOCKS_MAX, LP_HEADERS_VALUES_MAX);
	for (i = 0; i < h->count; i++) {
		const lp_header_block *b = &h->items[i];

		check_url_text(b->path, "header path");
		if (b->path[0] != '/')
			fz_fail("header path \"%s\" is not a path", b->path);
		for (k = 0; k < b->count; k++) {
			const char *n = b->values[k].name;
			size_t len = strlen(n);

			if (len == 0 || len > LP_HEADER_NAME_MAX)
				fz_fail("header name of %zu bytes", len);
			for (c = 0; c < len; c++)
				if (!((n[c] >= 'a' && n[c] <= 'z') ||
				      (n[c] >= 'A' && n[c] <= 'Z') ||
				      (n[c] >= '0' && n[c] <= '9') || n[c] == '-' || n[c] == '_'))
					fz_fail("header name \"%s\" outside [A-Za-z0-9_-]", n);
			if (lp_headers_name_ignored(n))
				fz_fail("header %s is one the server sets, yet it was kept", n);
			check_value(n, b->values[k].value);
		}
		nvalues += b->count;
	}
	if (nvalues != h->nvalues)
		fz_fail("nvalues %zu, but the blocks hold %zu", h->nvalues, nvalues);
}

static int count_lines(const fz_field *f)
{
	int n = 1;
	size_t i;

	for (i = 0; i < f->len; i++)
		n += f->data[i] == '\n';
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_field part[2];
	struct warn_ctx w;
	lp_redirects r = {0};
	lp_headers h = {0};
	lp_error err = {0};
	int a, b;

	fz_split(part, 2, data, size, '\0');
	a = count_lines(&part[0]);
	b = count_lines(&part[1]);
	w.lines = a > b ? a : b;
	if (lp_redirects_parse(&r, part[0].data, part[0].len, SPEC_SOURCE, on_warn, &w, &err) ==
	        LP_OK &&
	    lp_redirects_parse(&r, part[1].data, part[1].len, FILE_SOURCE, on_warn, &w, &err) ==
	        LP_OK)
		check_redirects(&r);
	else if (err.code != LP_ENOMEM && err.code != LP_ETOOBIG)
		fz_fail("lp_redirects_parse failed: %s", err.message);
	if (lp_headers_parse(&h, part[0].data, part[0].len, SPEC_SOURCE, on_warn, &w, &err) ==
	        LP_OK &&
	    lp_headers_parse(&h, part[1].data, part[1].len, FILE_SOURCE, on_warn, &w, &err) ==
	        LP_OK)
		check_headers(&h);
	else if (err.code != LP_ENOMEM && err.code != LP_ETOOBIG)
		fz_fail("lp_headers_parse failed: %s", err.message);
	lp_redirects_release(&r);
	lp_headers_release(&h);
	return 0;
}
