/*
 * fuzz_nginx.c: the nginx config renderer (controller/nginx_rules.c, controller/nginx_conf.c)
 * from fuzzed rules, the way controller/revconf.c renders a revision.
 *
 * Input: one flags byte (bit 0: serve.spa; the rest: the revision number), then five fields cut
 * at NUL bytes: serve.redirects, serve.headers, the revision's `_redirects`, its `_headers`, and
 * serve.notFoundPage (empty: unset). The rules are parsed (spec first, then the files) and the
 * server block rendered. The text is then read the way nginx reads it (ngx_conf_read_token:
 * words, quotes, backslash escapes, "${", comments, blocks), and must hold:
 *   - balanced braces, every quote closed, a space or ';' after each closing quote, no stray ';'
 *     or '{': the file parses;
 *   - exactly one server block with one root and one listen, at the top level beside the maps;
 *   - only the directives the renderer writes, each in its context: rule text cannot inject one
 *     (no include, alias, proxy_pass, second server, ...);
 *   - map and geo entries are "key value" pairs (rule text cannot end an entry early).
 * A render fails only for an unsafe notFoundPage (LP_EINVAL) or the size cap (LP_ETOOBIG).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/nginx_conf.h"
#include "controller/nginx_rules.h"
#include "fuzz/lib/fuzzlib.h"
#include "launchpad/serve_rules.h"

#define NG_DEPTH_MAX 16 /* blocks open at once; the renderer nests at most a few */
#define NG_ARGS_MAX  64 /* words of one directive */
#define NG_WORD_MAX  8192

/* Directives the renderer writes, by the block they are in ("" = the http level). */
static const struct {
	const char *context;
	const char *names;
} allowed[] = {
    {"", " server map geo "},
    {"server", " listen server_name server_tokens absolute_redirect root index disable_symlinks"
               " gzip gzip_static gzip_vary gzip_types location if set return rewrite break"
               " add_header error_page uninitialized_variable_warn "},
    {"location", " access_log default_type if return try_files internal "},
    {"if", " return rewrite set break "},
};

struct ng {
	const char *text;
	char stack[NG_DEPTH_MAX][32]; /* the name of each open block */
	int depth;
	int servers, roots, listens;
	char *args[NG_ARGS_MAX];
	int nargs;
};

static void ng_fail(const struct ng *g, size_t at, const char *what)
{
	size_t from = at > 120 ? at - 120 : 0;

	fz_fail(
	    "rendered config: %s at byte %zu, near:\n%.*s<<<HERE>>>%.60s\n--- whole config:\n%s",
	    what, at, (int)(at - from), g->text + from, g->text + at, g->text);
}

static int name_in(const char *list, const char *name)
{
	char key[80];

	if (strlen(name) + 3 > sizeof(key))
		return 0;
	snprintf(key, sizeof(key), " %s ", name);
	return strstr(list, key) != NULL;
}

static const char *context(const struct ng *g)
{
	return g->depth ? g->stack[g->depth - 1] : "";
}

/* One complete statement: args[0..nargs) ended by ';' (block 0) or '{' (block 1). */
static void statement(struct ng *g, size_t at, int block)
{
	const char *ctx = context(g);
	size_t i;

	if (!strcmp(ctx, "map") || !strcmp(ctx, "geo")) {
		if (block || g->nargs != 2)
			ng_fail(g, at, "a map entry that is not one \"key value\" pair");
		return;
	}
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (!strcmp(allowed[i].context, ctx))
			break;
	if (i == sizeof(allowed) / sizeof(allowed[0]) || !name_in(allowed[i].names, g->args[0])) {
		char msg[256];

		snprintf(msg, sizeof(msg), "directive \"%.80s\" in context \"%s\"", g->args[0],
		         ctx);
		ng_fail(g, at, msg);
	}
	if (!strcmp(g->args[0], "server") && (g->servers++ || !block))
		ng_fail(g, at, "a second server block");
	if (!strcmp(g->args[0], "root") && g->roots++)
		ng_fail(g, at, "a second root");
	if (!strcmp(g->args[0], "listen") && g->listens++)
		ng_fail(g, at, "a second listen");
	if (block) {
		if (g->depth == NG_DEPTH_MAX)
			ng_fail(g, at, "blocks nested too deep");
		snprintf(g->stack[g->depth++], sizeof(g->stack[0]), "%s", g->args[0]);
	}
}

static void args_clear(struct ng *g)
{
	int i;

	for (i = 0; i < g->nargs; i++)
		free(g->args[i]);
	g->nargs = 0;
}

/* The words of nginx's lexer (ngx_conf_read_token), checked as they come. */
static void ng_read(struct ng *g)
{
	const char *s = g->text;
	size_t i = 0, n = strlen(s);
	char word[NG_WORD_MAX];
	size_t wl;

	while (i < n) {
		char c = s[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			i++;
			continue;
		}
		if (c == '#') {
			while (i < n && s[i] != '\n')
				i++;
			continue;
		}
		if (c == ';' || c == '{') {
			if (g->nargs == 0)
				ng_fail(g, i, c == ';' ? "unexpected ';'" : "unexpected '{'");
			statement(g, i, c == '{');
			args_clear(g);
			i++;
			continue;
		}
		if (c == '}') {
			if (g->nargs != 0)
				ng_fail(g, i, "'}' ends a directive without ';'");
			if (g->depth == 0)
				ng_fail(g, i, "unbalanced '}'");
			g->depth--;
			i++;
			continue;
		}
		wl = 0;
		if (c == '"' || c == '\'') {
			char q = c;

			for (i++;; i++) {
				if (i >= n)
					ng_fail(g, i, "unterminated quote");
				if (s[i] == '\\' && i + 1 < n) {
					i++;
				} else if (s[i] == q) {
					break;
				}
				if (wl + 1 < sizeof(word))
					word[wl++] = s[i];
			}
			i++;
			if (i < n && !strchr(" \t\r\n;{)", s[i]))
				ng_fail(g, i, "no space after a quoted word");
		} else {
			int variable = 0;

			for (; i < n; i++) {
				c = s[i];
				if (c == '{' && variable)
					continue;
				variable = 0;
				if (c == '\\' && i + 1 < n) {
					i++;
				} else if (c == '$') {
					variable = 1;
				} else if (strchr(" \t\r\n;{", c)) {
					break;
				}
				if (wl + 1 < sizeof(word))
					word[wl++] = s[i];
			}
		}
		word[wl] = '\0';
		if (g->nargs == NG_ARGS_MAX)
			ng_fail(g, i, "a directive with too many words");
		if ((g->args[g->nargs++] = strdup(word)) == NULL)
			fz_fail("out of memory");
	}
	if (g->nargs)
		ng_fail(g, n, "a directive without ';' at the end");
	if (g->depth)
		ng_fail(g, n, "an unclosed block at the end");
	if (g->servers != 1 || g->roots != 1 || g->listens != 1)
		ng_fail(g, n, "not exactly one server, root and listen");
}

static void on_warn(void *ctx, const char *source, int line, const char *message)
{
	(void)ctx;
	(void)source;
	(void)line;
	(void)message;
}

static void check_config(const char *conf)
{
	struct ng g;

	memset(&g, 0, sizeof(g));
	g.text = conf;
	ng_read(&g);
	args_clear(&g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const sources[] = {"spec.serve.redirects", "spec.serve.headers",
	                                      "_redirects", "_headers"};
	fz_field f[5];
	lp_redirects r = {0};
	lp_headers h = {0};
	struct lp_nginx_rules nr = {0};
	struct lp_nginx_site ns = {0};
	lp_error err = {0};
	char root[64], *page = NULL, *http = NULL, *server = NULL, *conf = NULL;
	const char *p;
	int rc = LP_OK, i;

	if (size < 1)
		return 0;
	fz_split(f, 5, data + 1, size - 1, '\0');
	for (i = 0; i < 4 && rc == LP_OK; i++)
		rc = (i % 2 == 0) ? lp_redirects_parse(&r, f[i].data, f[i].len, sources[i], on_warn,
		                                       NULL, &err)
		                  : lp_headers_parse(&h, f[i].data, f[i].len, sources[i], on_warn,
		                                     NULL, &err);
	if (rc != LP_OK)
		goto done; /* too large: revconf stops there too */
	nr.redirects = &r;
	nr.headers = &h;
	nr.spa = data[0] & 1;
	nr.revision = (data[0] >> 1) + 1;
	/* revconf.c's not_found_page: leading slashes dropped, empty is unset */
	if (f[4].len) {
		page = fz_strdup(&f[4]);
		for (p = page; *p == '/'; p++)
			;
		nr.not_found_page = *p ? p : NULL;
	}
	rc = lp_nginx_rules_render(&http, &server, &nr, &err);
	if (rc == LP_EINVAL && nr.not_found_page && !lp_nginx_safe_page(nr.not_found_page))
		goto done;
	if (rc == LP_ETOOBIG)
		goto done;
	if (rc != LP_OK)
		fz_fail("lp_nginx_rules_render: %s", err.message);
	snprintf(root, sizeof(root), "revisions/%ld", nr.revision);
	ns.root = root;
	ns.http_rules = http;
	ns.server_rules = server;
	rc = lp_nginx_conf_render(&conf, &ns, &err);
	if (rc == LP_ETOOBIG)
		goto done;
	if (rc != LP_OK)
		fz_fail("lp_nginx_conf_render: %s", err.message);
	check_config(conf);
done:
	free(conf);
	free(http);
	free(server);
	free(page);
	lp_redirects_release(&r);
	lp_headers_release(&h);
	return 0;
}
