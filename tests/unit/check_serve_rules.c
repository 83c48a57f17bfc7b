/*
 * check_serve_rules.c: the `_redirects` / `_headers` parsers (spec/redirects.c, spec/headers.c),
 * their whitelist, the spec's serve.redirects / serve.headers, and the nginx lowering
 * (controller/nginx_rules.c) as text. What nginx makes of that text is tested against the real
 * nginx in tests/integration/check_serving.c.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/nginx_rules.h"
#include "launchpad/buf.h"
#include "launchpad/serve_rules.h"
#include "launchpad/spec.h"
#include "tests/lib/testutil.h"

#define WARNINGS_MAX 64

struct warnings {
	char line[WARNINGS_MAX][LP_RULES_WARNING_MAX + 64];
	size_t n;
};

static void collect(void *ctx, const char *source, int line, const char *message)
{
	struct warnings *w = ctx;

	if (w->n < WARNINGS_MAX)
		LP_TEST_FMT(w->line[w->n++], "%s:%d: %s", source, line, message);
}

static int warned(const struct warnings *w, const char *prefix, const char *part)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		if (!strncmp(w->line[i], prefix, strlen(prefix)) && strstr(w->line[i], part))
			return 1;
	return 0;
}

static void parse_redirects(lp_redirects *r, struct warnings *w, const char *text)
{
	lp_error err = {0};

	memset(w, 0, sizeof(*w));
	ck_assert_msg(lp_redirects_parse(r, text, strlen(text), "_redirects", collect, w, &err) ==
	                  LP_OK,
	              "%s", err.message);
}

START_TEST(test_redirects_netlify_forms)
{
	lp_redirects r = {0};
	struct warnings w;

	parse_redirects(&r, &w,
	                "# comment\n"
	                "\n"
	                "/home /\n"
	                "  /news/*   /blog/:splat   302\n"
	                "/a/:year/:slug /b/:year-:slug 200!\n"
	                "/store id=:id tag=x /blog/:id 301\r\n"
	                "/ext https://example.com/x?y=1 308\n"
	                "/gone /gone.html 410\n");
	ck_assert_uint_eq(w.n, 0);
	ck_assert_uint_eq(r.count, 6);
	ck_assert_str_eq(r.items[0].from, "/home");
	ck_assert_int_eq(r.items[0].status, 301); /* Netlify's default */
	ck_assert_int_eq(r.items[0].line, 3);
	ck_assert_int_eq(r.items[1].status, 302);
	ck_assert_int_eq(r.items[2].force, 1);
	ck_assert_int_eq(r.items[2].status, 200);
	ck_assert_uint_eq(r.items[3].nquery, 2);
	ck_assert_str_eq(r.items[3].query[0].key, "id");
	ck_assert_str_eq(r.items[3].query[0].value, ":id");
	ck_assert_str_eq(r.items[3].query[1].value, "x");
	ck_assert_str_eq(r.items[3].to, "/blog/:id"); /* the CR of a CRLF line is gone */
	ck_assert_int_eq(r.items[4].external, 1);
	ck_assert_int_eq(r.items[5].status, 410);
	lp_redirects_release(&r);
	lp_redirects_release(&r); /* twice is harmless */
}
END_TEST

START_TEST(test_redirects_refused_and_skipped_lines_warn)
{
	lp_redirects r = {0};
	struct warnings w;

	parse_redirects(&r, &w,
	                "/p/* https://api.example.com/:splat 200\n" /* 1 proxy */
	                "/c /uk 302 Country=gb\n"                   /* 2 */
	                "/l /x 302 Language=de\n"                   /* 3 */
	                "/s /x 200 signed=TOKEN\n"                  /* 4 */
	                "/q /r 999\n"                               /* 5 */
	                "/q /r 30x\n"                               /* 6 */
	                "https://other.example/* /x 301\n"          /* 7 domain-level */
	                "nopath /x\n"                               /* 8 */
	                "/only-from\n"                              /* 9 */
	                "/a\x01 /b\n"                               /* 10 control */
	                "/a* /b\n"                                  /* 11 splat mid-path */
	                "/pct%zz /b\n"                              /* 12 */
	                "/dots /a/../b\n"                           /* 13 */
	                "/e https://exa$mple.com/ 301\n"            /* 14 host */
	                "/ok /fine\n");                             /* 15 */
	ck_assert_uint_eq(r.count, 1);
	ck_assert_str_eq(r.items[0].from, "/ok");
	ck_assert(warned(&w, "_redirects:1:", "SSRF"));
	ck_assert(warned(&w, "_redirects:2:", "Country"));
	ck_assert(warned(&w, "_redirects:3:", "Language"));
	ck_assert(warned(&w, "_redirects:4:", "signed"));
	ck_assert(warned(&w, "_redirects:5:", "999"));
	ck_assert(warned(&w, "_redirects:6:", "not a number"));
	ck_assert(warned(&w, "_redirects:7:", "domain-level"));
	ck_assert(warned(&w, "_redirects:8:", "not a path"));
	ck_assert(warned(&w, "_redirects:9:", "no target"));
	ck_assert(warned(&w, "_redirects:10:", "control"));
	ck_assert(warned(&w, "_redirects:11:", "'*'"));
	ck_assert(warned(&w, "_redirects:12:", "hex"));
	ck_assert(warned(&w, "_redirects:13:", "segment"));
	ck_assert(warned(&w, "_redirects:14:", "host"));
	ck_assert_uint_eq(w.n, 14);
	lp_redirects_release(&r);
}
END_TEST

/* Bytes nginx would read as syntax are stored percent-encoded: literal URL data. */
START_TEST(test_redirects_whitelist_encodes)
{
	lp_redirects r = {0};
	struct warnings w;

	parse_redirects(&r, &w,
	                "/a$b{c}\"d\\e /t$host}{\"\\ 301\n"
	                "/caf\xc3\xa9 /x 301\n"
	                "/rw /file.html?q=1 200\n");
	ck_assert_uint_eq(r.count, 3);
	ck_assert_str_eq(r.items[0].from, "/a%24b%7Bc%7D%22d%5Ce");
	ck_assert_str_eq(r.items[0].to, "/t%24host%7D%7B%22%5C");
	ck_assert_str_eq(r.items[1].from, "/caf%C3%A9");
	ck_assert_str_eq(r.items[2].to,
	                 "/file.html"); /* a rewrite's query is dropped, with a word */
	ck_assert(warned(&w, "_redirects:3:", "dropped"));
	lp_redirects_release(&r);
}
END_TEST

START_TEST(test_redirects_limits)
{
	lp_redirects r = {0};
	struct warnings w;
	lp_buf b;
	lp_error err = {0};
	char *longline = malloc(LP_RULES_LINE_MAX + 16);
	int i;

	ck_assert(longline != NULL);
	memset(longline, 'a', LP_RULES_LINE_MAX + 8);
	longline[0] = '/';
	longline[LP_RULES_LINE_MAX + 8] = '\0';
	lp_buf_init(&b, 1 << 20);
	ck_assert(lp_buf_printf(&b, "%s /x\n", longline) == LP_OK);
	for (i = 0; i < LP_REDIRECTS_MAX + 5; i++)
		ck_assert(lp_buf_printf(&b, "/r%d /t\n", i) == LP_OK);
	memset(&w, 0, sizeof(w));
	ck_assert(lp_redirects_parse(&r, b.data, b.len, "_redirects", collect, &w, &err) == LP_OK);
	ck_assert_uint_eq(r.count, LP_REDIRECTS_MAX);
	ck_assert(warned(&w, "_redirects:1:", "longer than"));
	ck_assert(warned(&w, "_redirects:2002:", "more than 2000 rules"));
	ck_assert_uint_eq(w.n, 2); /* the overflow is said once */
	lp_redirects_release(&r);
	/* Too large a file is refused whole. */
	{
		char *big = calloc(1, LP_RULES_FILE_MAX + 2);
		ck_assert(big != NULL);
		memset(big, '#', LP_RULES_FILE_MAX + 1);
		ck_assert_int_eq(lp_redirects_parse(&r, big, LP_RULES_FILE_MAX + 1, "_redirects",
		                                    collect, &w, &err),
		                 LP_ETOOBIG);
		free(big);
	}
	lp_redirects_release(&r);
	lp_buf_release(&b);
	free(longline);
}
END_TEST

START_TEST(test_headers_blocks_join_and_ignore)
{
	static const char text[] = "/*\n"
	                           "  X-Frame-Options: DENY\n"
	                           "  cache-control: max-age=0\n"
	                           "  Cache-Control: no-cache\n"
	                           "# comment\n"
	                           "/templates/:name\n"
	                           "\tX-Tab: a\tb\n"
	                           "  Content-Length: 1\n"
	                           "  Set-Cookie: a=b\n"
	                           "  Bad Name: x\n"
	                           "  X-Ctl: a\x01"
	                           "b\n"
	                           "  X-Empty:\n"
	                           "  no colon\n"
	                           "nopath\n"
	                           "  X-Orphan: 1\n";
	lp_headers h = {0};
	struct warnings w = {0};
	lp_error err = {0};

	ck_assert(lp_headers_parse(&h, text, strlen(text), "_headers", collect, &w, &err) == LP_OK);
	ck_assert_uint_eq(h.count, 2);
	ck_assert_str_eq(h.items[0].path, "/*");
	ck_assert_uint_eq(h.items[0].count, 2);
	ck_assert_str_eq(h.items[0].values[1].name, "cache-control");
	ck_assert_str_eq(h.items[0].values[1].value, "max-age=0, no-cache");
	ck_assert_str_eq(h.items[1].path, "/templates/:name");
	ck_assert_uint_eq(h.items[1].count, 1);
	ck_assert_str_eq(h.items[1].values[0].value, "a b"); /* a tab inside reads as a space */
	ck_assert(warned(&w, "_headers:8:", "Content-Length"));
	ck_assert(warned(&w, "_headers:9:", "Set-Cookie"));
	ck_assert(warned(&w, "_headers:10:", "[A-Za-z0-9_-]"));
	ck_assert(warned(&w, "_headers:11:", "control"));
	ck_assert(warned(&w, "_headers:12:", "no value"));
	ck_assert(warned(&w, "_headers:13:", "Name: value"));
	ck_assert(warned(&w, "_headers:14:", "not a path"));
	ck_assert(warned(&w, "_headers:15:", "outside a path block"));
	ck_assert_uint_eq(w.n, 8);
	ck_assert(lp_headers_name_ignored("TRANSFER-encoding"));
	ck_assert(!lp_headers_name_ignored("X-Frame-Options"));
	lp_headers_release(&h);
}
END_TEST

static void render(char **http, char **server, const char *redirects, const char *headers, int spa)
{
	lp_redirects r = {0};
	lp_headers h = {0};
	struct lp_nginx_rules in = {.redirects = &r, .headers = &h, .spa = spa, .revision = 7};
	struct warnings w = {0};
	lp_error err = {0};

	ck_assert(lp_redirects_parse(&r, redirects, strlen(redirects), "_redirects", collect, &w,
	                             &err) == LP_OK);
	ck_assert(lp_headers_parse(&h, headers, strlen(headers), "_headers", collect, &w, &err) ==
	          LP_OK);
	ck_assert_msg(lp_nginx_rules_render(http, server, &in, &err) == LP_OK, "%s", err.message);
	lp_redirects_release(&r);
	lp_headers_release(&h);
}

/* Rule text reaches the config only as \xHH regexes and escaped quoted strings. */
START_TEST(test_render_quotes_everything)
{
	char *http = NULL, *server = NULL, *http2 = NULL, *server2 = NULL;

	render(&http, &server, "/a;b /c$d 302\n/news/* /blog/:splat\n",
	       "/*\n  X-V: a\"b\\c$d;{}\n  X-W: 1\n/x/*\n  X-W: 2\n", 0);
	ck_assert_msg(
	    strstr(server, "^000(?![^?]*/(?:\\x2e|%2[eE]){1,2}(?:/|\\?))\\x2fa\\x3bb/?\\?"), "%s",
	    server);
	ck_assert_msg(strstr(server, "return 302 \"/c%24d$is_args$args\";"), "%s", server);
	ck_assert_msg(strstr(server, "return 301 \"/blog/$1$is_args$args\";"), "%s", server);
	ck_assert_msg(strstr(http, "\"a\\\"b\\\\c${lp_dollar}d;{}\""), "%s", http);
	/* Two blocks set X-W: a chain joins them at request time. */
	ck_assert_msg(strstr(http, "\"$lp_h1_j0\\t$lp_h1_1\" $lp_h1_j1"), "%s", http);
	ck_assert(strstr(server, "add_header X-W $lp_h1 always;"));
	ck_assert(strstr(server, "return 200 \"7\\n\";"));
	/* Deterministic: equal input, equal bytes. */
	render(&http2, &server2, "/a;b /c$d 302\n/news/* /blog/:splat\n",
	       "/*\n  X-V: a\"b\\c$d;{}\n  X-W: 1\n/x/*\n  X-W: 2\n", 0);
	ck_assert_str_eq(http, http2);
	ck_assert_str_eq(server, server2);
	free(http);
	free(server);
	free(http2);
	free(server2);
}
END_TEST

START_TEST(test_render_spa_and_cache_override)
{
	char *http = NULL, *server = NULL;

	render(&http, &server, "", "/assets/*\n  Cache-Control: max-age=60\n", 1);
	/* serve.spa is the last rule: /<splat> to /index.html, a rewrite, shadowed by files. */
	ck_assert_msg(strstr(server, "# serve.spa:1\n    if ($lp_k ~ \"^000"), "%s", server);
	ck_assert(strstr(server, "set $lp_rw \"/index.html\";"));
	ck_assert(strstr(http, "map $lp_h0 $lp_cache {"));
	ck_assert(strstr(server, "add_header Cache-Control $lp_cache always;"));
	ck_assert(strstr(server, "add_header cache-control") == NULL);
	free(http);
	free(server);
}
END_TEST

START_TEST(test_render_refuses_unsafe_page)
{
	struct lp_nginx_rules in = {.not_found_page = "a b.html"};
	char *http = NULL, *server = NULL;
	lp_error err = {0};

	ck_assert_int_eq(lp_nginx_rules_render(&http, &server, &in, &err), LP_EINVAL);
	ck_assert(http == NULL && server == NULL);
	ck_assert(lp_nginx_safe_page("errors/404.html"));
	ck_assert(!lp_nginx_safe_page("../x.html"));
	ck_assert(!lp_nginx_safe_page("a;b"));
}
END_TEST

/* In a spec, a rule the platform would skip is an error, reported at apply. */
START_TEST(test_spec_serve_rules)
{
	static const char good[] =
	    "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata: {name: blog}\n"
	    "spec:\n  source: {git: {url: 'https://example.com/r.git'}}\n"
	    "  serve:\n    redirects: |\n      /old /new 301\n      /* /index.html 200\n"
	    "    headers: |\n      /*\n        X-Frame-Options: DENY\n";
	static const char bad[] =
	    "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata: {name: blog}\n"
	    "spec:\n  source: {git: {url: 'https://example.com/r.git'}}\n"
	    "  serve:\n    redirects: |\n      /old /new 301\n      /p/* https://x.example/:splat "
	    "200\n"
	    "    headers: |\n      /*\n        Set-Cookie: a=b\n";
	lp_site_list list = {0};
	lp_spec_diags d;
	lp_error err = {0};
	char *json = NULL;
	size_t i;
	int redirects = 0, headers = 0;

	lp_spec_diags_init(&d);
	ck_assert(lp_spec_parse(&list, good, strlen(good), NULL, &d, &err) == LP_OK);
	ck_assert_str_eq(list.items[0]->serve_redirects, "/old /new 301\n/* /index.html 200\n");
	ck_assert(lp_site_to_json(&json, list.items[0], &err) == LP_OK);
	ck_assert_msg(strstr(json, "\"redirects\":\"/old /new 301\\n/* /index.html 200\\n\""), "%s",
	              json);
	free(json);
	/* get -o yaml gives back what apply takes: the block strings survive the round trip. */
	{
		lp_site_list again = {0};
		lp_spec_diags d2;
		char *yaml = NULL;
		lp_spec_diags_init(&d2);
		ck_assert(lp_site_to_yaml(&yaml, list.items[0], &err) == LP_OK);
		ck_assert_msg(lp_spec_parse(&again, yaml, strlen(yaml), NULL, &d2, &err) == LP_OK,
		              "%s", yaml);
		ck_assert_str_eq(again.items[0]->serve_redirects, list.items[0]->serve_redirects);
		ck_assert_str_eq(again.items[0]->serve_headers, list.items[0]->serve_headers);
		lp_site_list_release(&again);
		lp_spec_diags_release(&d2);
		free(yaml);
	}
	lp_site_list_release(&list);
	lp_spec_diags_release(&d);

	lp_spec_diags_init(&d);
	ck_assert(lp_spec_parse(&list, bad, strlen(bad), NULL, &d, &err) == LP_EINVAL);
	for (i = 0; i < d.count; i++) {
		redirects |= !strcmp(d.items[i].path, "spec.serve.redirects") &&
		             strstr(d.items[i].message, "line 2: proxying") != NULL;
		headers |= !strcmp(d.items[i].path, "spec.serve.headers") &&
		           strstr(d.items[i].message, "line 2: header Set-Cookie") != NULL;
	}
	ck_assert_msg(redirects && headers, "diagnostics: %zu, first: %s", d.count,
	              d.count ? d.items[0].message : "");
	lp_spec_diags_release(&d);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("serve_rules");
	TCase *tc = tcase_create("serve_rules");

	tcase_add_test(tc, test_redirects_netlify_forms);
	tcase_add_test(tc, test_redirects_refused_and_skipped_lines_warn);
	tcase_add_test(tc, test_redirects_whitelist_encodes);
	tcase_add_test(tc, test_redirects_limits);
	tcase_add_test(tc, test_headers_blocks_join_and_ignore);
	tcase_add_test(tc, test_render_quotes_everything);
	tcase_add_test(tc, test_render_spa_and_cache_override);
	tcase_add_test(tc, test_render_refuses_unsafe_page);
	tcase_add_test(tc, test_spec_serve_rules);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lp_test_run(suite());
}
