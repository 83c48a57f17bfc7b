/* check_cli_units.c: the CLI's pure parts: config file and precedence, AGE, tables, arguments,
 * YAML output, SSE lines, the zip packer and the completion script.
 */
#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/cli_internal.h"
#include "launchpad/config.h"
#include "launchpad/fs.h"
#include "launchpad/spec.h"
#include "tests/lib/testutil.h"

#define ZEROS64 "0000000000000000000000000000000000000000000000000000000000000000"

START_TEST(test_config_parse)
{
	lp_cli_file_config fc;
	lp_error err = {0};

	ck_assert_int_eq(lp_cli_config_parse(&fc,
	                                     "# comment\n\n  server = http://h:1  \n"
	                                     "token=\"abc def\"\n",
	                                     &err),
	                 LP_OK);
	ck_assert_str_eq(fc.server, "http://h:1");
	ck_assert_str_eq(fc.token, "abc def");
	lp_cli_file_config_release(&fc);

	ck_assert_int_eq(lp_cli_config_parse(&fc, "", &err), LP_OK);
	ck_assert_ptr_null(fc.server);
	ck_assert_ptr_null(fc.token);

	ck_assert_int_eq(lp_cli_config_parse(&fc, "server = a\nsrever = b\n", &err), LP_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "line 2"));
	ck_assert_ptr_nonnull(strstr(err.message, "srever"));
	ck_assert_ptr_null(fc.server);
	ck_assert_int_eq(lp_cli_config_parse(&fc, "just words\n", &err), LP_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "line 1"));
}
END_TEST

START_TEST(test_config_format_roundtrip)
{
	lp_cli_file_config fc;
	char *text = NULL;

	ck_assert_int_eq(lp_cli_config_format(&text, "http://x:8080", "tok", NULL), LP_OK);
	ck_assert_int_eq(lp_cli_config_parse(&fc, text, NULL), LP_OK);
	ck_assert_str_eq(fc.server, "http://x:8080");
	ck_assert_str_eq(fc.token, "tok");
	lp_cli_file_config_release(&fc);
	free(text);
	ck_assert_int_eq(lp_cli_config_format(&text, "http://x", "a\nserver = evil", NULL),
	                 LP_EINVAL);
	ck_assert_ptr_null(text);
}
END_TEST

START_TEST(test_config_path)
{
	char *p;

	setenv("HOME", "/home/u", 1);
	unsetenv("XDG_CONFIG_HOME");
	p = lp_cli_config_path();
	ck_assert_str_eq(p, "/home/u/.config/launchpad/config");
	free(p);
	setenv("XDG_CONFIG_HOME", "/xdg", 1);
	p = lp_cli_config_path();
	ck_assert_str_eq(p, "/xdg/launchpad/config");
	free(p);
	setenv("XDG_CONFIG_HOME", "relative", 1); /* invalid per the spec: ignored */
	p = lp_cli_config_path();
	ck_assert_str_eq(p, "/home/u/.config/launchpad/config");
	free(p);
}
END_TEST

/* flag > variable > file > default, through the real lp_config and a real file. */
START_TEST(test_config_precedence)
{
	char *dir = lp_test_mkdtemp("lp-cli-conf"), path[4200];
	const char *file = "server = http://file:1\ntoken = filetok\n";
	lp_config *cfg = NULL;
	char **rest = NULL;
	int nrest;
	char *a1[] = {"launchpad", "get", "sites", NULL};
	char *a2[] = {"launchpad", "--server", "http://flag:3", "get", NULL};
	char *a3[] = {"launchpad", "get", "--token=flagtok", NULL};

	snprintf(path, sizeof(path), "%s/config", dir);
	ck_assert_int_eq(lp_fs_write_atomic(path, file, strlen(file), 0600, NULL), LP_OK);
	unsetenv("LAUNCHPAD_SERVER");
	unsetenv("LAUNCHPAD_TOKEN");

	/* file beats the default */
	ck_assert_int_eq(lp_config_new(&cfg, &rest, &nrest, 3, a1, NULL), LP_OK);
	ck_assert_str_eq(cfg->server, "http://127.0.0.1:8080");
	ck_assert_int_eq(lp_cli_config_load(cfg, path, 3, a1, NULL), LP_OK);
	ck_assert_str_eq(cfg->server, "http://file:1");
	ck_assert_str_eq(cfg->token, "filetok");
	lp_config_rest_free(rest);
	lp_config_free(cfg);

	/* a variable beats the file */
	setenv("LAUNCHPAD_SERVER", "http://env:2", 1);
	ck_assert_int_eq(lp_config_new(&cfg, &rest, &nrest, 3, a1, NULL), LP_OK);
	ck_assert_int_eq(lp_cli_config_load(cfg, path, 3, a1, NULL), LP_OK);
	ck_assert_str_eq(cfg->server, "http://env:2");
	ck_assert_str_eq(cfg->token, "filetok");
	lp_config_rest_free(rest);
	lp_config_free(cfg);

	/* a flag beats both */
	ck_assert_int_eq(lp_config_new(&cfg, &rest, &nrest, 4, a2, NULL), LP_OK);
	ck_assert_int_eq(lp_cli_config_load(cfg, path, 4, a2, NULL), LP_OK);
	ck_assert_str_eq(cfg->server, "http://flag:3");
	lp_config_rest_free(rest);
	lp_config_free(cfg);
	unsetenv("LAUNCHPAD_SERVER");
	ck_assert_int_eq(lp_config_new(&cfg, &rest, &nrest, 3, a3, NULL), LP_OK);
	ck_assert_int_eq(lp_cli_config_load(cfg, path, 3, a3, NULL), LP_OK);
	ck_assert_str_eq(cfg->token, "flagtok");
	ck_assert_str_eq(cfg->server, "http://file:1");
	lp_config_rest_free(rest);
	lp_config_free(cfg);

	/* a missing file is fine; a broken one is an error naming it */
	ck_assert_int_eq(lp_config_new(&cfg, &rest, &nrest, 3, a1, NULL), LP_OK);
	snprintf(path, sizeof(path), "%s/missing", dir);
	ck_assert_int_eq(lp_cli_config_load(cfg, path, 3, a1, NULL), LP_OK);
	snprintf(path, sizeof(path), "%s/config", dir);
	ck_assert_int_eq(lp_fs_write_atomic(path, "oops\n", 5, 0600, NULL), LP_OK);
	{
		lp_error err = {0};
		ck_assert_int_eq(lp_cli_config_load(cfg, path, 3, a1, &err), LP_EINVAL);
		ck_assert_ptr_nonnull(strstr(err.message, path));
	}
	lp_config_rest_free(rest);
	lp_config_free(cfg);
	if (lp_fs_remove_tree(dir, NULL) != LP_OK)
		fprintf(stderr, "cleanup: cannot remove %s\n", dir);
	free(dir);
}
END_TEST

START_TEST(test_flag_given)
{
	char *a[] = {"x", "--server=u", "--tokenx", "--", "--token", NULL};

	ck_assert_int_eq(lp_cli_flag_given(5, a, "server"), 1);
	ck_assert_int_eq(lp_cli_flag_given(5, a, "token"), 0);
}
END_TEST

START_TEST(test_age)
{
	char b[32];

	ck_assert_int_eq(lp_cli_age(b, sizeof(b), 0), LP_OK);
	ck_assert_str_eq(b, "0s");
	ck_assert_int_eq(lp_cli_age(b, sizeof(b), 5), LP_OK);
	ck_assert_str_eq(b, "5s");
	ck_assert_int_eq(lp_cli_age(b, sizeof(b), 59), LP_OK);
	ck_assert_str_eq(b, "59s");
	ck_assert_int_eq(lp_cli_age(b, sizeof(b), 60), LP_OK);
	ck_assert_str_eq(b, "1m");
	ck_assert_int_eq(lp_cli_age(b, sizeof(b), 3 * 60 + 59), LP_OK);
	ck_assert_str_eq(b, "3m");
	ck_assert_int_eq(lp_cli_age(b, sizeof(b), 2 * 3600 + 1), LP_OK);
	ck_assert_str_eq(b, "2h");
	ck_assert_int_eq(lp_cli_age(b, sizeof(b), 4 * 86400 + 7), LP_OK);
	ck_assert_str_eq(b, "4d");
	ck_assert_int_eq(lp_cli_age(b, sizeof(b), 800 * 86400), LP_OK);
	ck_assert_str_eq(b, "2y");
	ck_assert_int_eq(lp_cli_age(b, sizeof(b), -3), LP_OK);
	ck_assert_str_eq(b, "<unknown>");
	/* a buffer too small is an error, never a cut age ("100" for 100 days) */
	ck_assert_int_eq(lp_cli_age(b, 4, 59), LP_OK);
	ck_assert_str_eq(b, "59s");
	ck_assert_int_eq(lp_cli_age(b, 4, 100 * 86400), LP_ETOOBIG);
	ck_assert_str_eq(b, "");
}
END_TEST

START_TEST(test_parse_time)
{
	ck_assert_int_eq(lp_cli_parse_time("1970-01-01T00:00:00Z"), 0);
	ck_assert_int_eq(lp_cli_parse_time("2026-11-25T21:58:11Z"), 1795643891);
	ck_assert_int_eq(lp_cli_parse_time("2026-11-25T21:58:11.250Z"), 1795643891);
	ck_assert_int_eq(lp_cli_parse_time("2026-11-25 21:58:11"), -1);
	ck_assert_int_eq(lp_cli_parse_time("2026-13-25T21:58:11Z"), -1);
	ck_assert_int_eq(lp_cli_parse_time(NULL), -1);
	ck_assert_int_eq(lp_cli_parse_duration("600"), 600);
	ck_assert_int_eq(lp_cli_parse_duration("90s"), 90);
	ck_assert_int_eq(lp_cli_parse_duration("10m"), 600);
	ck_assert_int_eq(lp_cli_parse_duration("1h"), 3600);
	ck_assert_int_eq(lp_cli_parse_duration("10x"), -1);
	ck_assert_int_eq(lp_cli_parse_duration("-5"), -1);
	ck_assert_int_eq(lp_cli_parse_duration(""), -1);
}
END_TEST

START_TEST(test_table_alignment)
{
	lp_cli_table t;
	lp_buf b;
	const char *h[] = {"NAME", "STATUS", "URL"};
	const char *r1[] = {"a-long-name", "live", "http://a"};
	const char *r2[] = {"b", "deploying", ""};
	const char *r3[] = {"ünï", "x\ny", "u"};

	lp_cli_table_init(&t, 3);
	ck_assert_int_eq(lp_cli_table_add(&t, h), LP_OK);
	ck_assert_int_eq(lp_cli_table_add(&t, r1), LP_OK);
	ck_assert_int_eq(lp_cli_table_add(&t, r2), LP_OK);
	ck_assert_int_eq(lp_cli_table_add(&t, r3), LP_OK);
	lp_buf_init(&b, 1 << 16);
	ck_assert_int_eq(lp_cli_table_render(&b, &t), LP_OK);
	ck_assert_str_eq(lp_buf_cstr(&b), "NAME          STATUS      URL\n"
	                                  "a-long-name   live        http://a\n"
	                                  "b             deploying\n"
	                                  "ünï           x y         u\n");
	lp_buf_release(&b);
	lp_cli_table_release(&t);
}
END_TEST

START_TEST(test_sites_table)
{
	const char *json =
	    "[{\"slug\":\"hello\",\"phase\":\"live\",\"status\":\"live\",\"url\":\"http://"
	    "hello.x\","
	    "\"created_at\":\"2026-11-25T21:58:11Z\",\"current_revision\":2,\"desired_revision\":2,"
	    "\"archive_digest\":\"sha256:abcdef0123456789abcdef\",\"generation\":2,"
	    "\"observed_generation\":2,\"message\":\"revision 2 is live\"},"
	    "{\"slug\":\"b\",\"phase\":\"deploying\",\"url\":\"http://b.x\",\"created_at\":"
	    "\"2026-11-25T21:00:00Z\",\"current_revision\":1,\"desired_revision\":3,"
	    "\"github_url\":\"https://g/r\",\"branch\":\"main\",\"generation\":3,"
	    "\"observed_generation\":2,\"message\":null,\"parent\":\"hello\"}]";
	cJSON *arr = cJSON_Parse(json);
	lp_buf b;
	int64_t now = 1795643891 + 190;

	lp_buf_init(&b, 1 << 16);
	ck_assert_int_eq(lp_cli_sites_table(&b, arr, 0, now), LP_OK);
	ck_assert_str_eq(lp_buf_cstr(&b),
	                 "NAME    STATUS      REVISION   URL              AGE   PARENT\n"
	                 "hello   live        2          http://hello.x   3m    -\n"
	                 "b       deploying   1->3       http://b.x       1h    hello\n");
	lp_buf_reset(&b);
	ck_assert_int_eq(lp_cli_sites_table(&b, arr, 1, now), LP_OK);
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&b), "SOURCE"));
	ck_assert_msg(strstr(lp_buf_cstr(&b), "zip sha256:abcdef012345   2/2") != NULL, "%s",
	              lp_buf_cstr(&b));
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&b), "https://g/r#main"));
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&b), "revision 2 is live\n"));
	lp_buf_release(&b);
	cJSON_Delete(arr);
}
END_TEST

START_TEST(test_args)
{
	lp_cli_opt o[] = {
	    {"output", 'o', 1, 0, NULL}, {"wait", 'w', 0, 0, NULL}, {"timeout", 0, 1, 0, NULL}};
	const char *pos[LP_CLI_MAX_POS];
	size_t n;
	lp_error err = {0};
	char *a1[] = {"get", "sites", "-ojson", "-w", "--timeout=5m", "x", "--", "-y", NULL};
	char *a2[] = {"get", "-o", NULL};
	char *a3[] = {"get", "--bogus", NULL};
	char *a4[] = {"get", "--wait=1", NULL};
	char *a5[] = {"get", "--output", "yaml", "-", NULL};

	ck_assert_int_eq(lp_cli_args_parse(pos, &n, o, 3, 8, a1, &err), LP_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(pos[0], "sites");
	ck_assert_str_eq(pos[1], "x");
	ck_assert_str_eq(pos[2], "-y");
	ck_assert_str_eq(o[0].value, "json");
	ck_assert_int_eq(o[1].given, 1);
	ck_assert_str_eq(o[2].value, "5m");
	ck_assert_ptr_eq(lp_cli_opt_find(o, 3, "wait"), &o[1]);
	ck_assert_ptr_null(lp_cli_opt_find(o, 3, "nope"));

	ck_assert_int_eq(lp_cli_args_parse(pos, &n, o, 3, 2, a2, &err), LP_EINVAL);
	ck_assert_str_eq(err.message, "--output needs a value");
	ck_assert_int_eq(lp_cli_args_parse(pos, &n, o, 3, 2, a3, &err), LP_EINVAL);
	ck_assert_str_eq(err.message, "unknown flag \"--bogus\"");
	ck_assert_int_eq(lp_cli_args_parse(pos, &n, o, 3, 2, a4, &err), LP_EINVAL);
	o[0].given = 0;
	ck_assert_int_eq(lp_cli_args_parse(pos, &n, o, 3, 4, a5, &err), LP_OK);
	ck_assert_str_eq(o[0].value, "yaml");
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(pos[0], "-");
}
END_TEST

/* Parse YAML text back into a flat "path=value" list with libyaml, to prove the output reads. */
static void yaml_flatten(lp_buf *out, const char *text)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int done = 0;

	ck_assert(yaml_parser_initialize(&p));
	yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
	while (!done) {
		ck_assert_msg(yaml_parser_parse(&p, &ev), "yaml: %s", p.problem);
		if (ev.type == YAML_SCALAR_EVENT)
			ck_assert_int_eq(
			    lp_buf_printf(out, "%s%s|", (char *)ev.data.scalar.value,
			                  ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? ""
			                                                                  : "'"),
			    LP_OK);
		else if (ev.type == YAML_MAPPING_START_EVENT)
			ck_assert_int_eq(lp_buf_puts(out, "{"), LP_OK);
		else if (ev.type == YAML_MAPPING_END_EVENT)
			ck_assert_int_eq(lp_buf_puts(out, "}"), LP_OK);
		else if (ev.type == YAML_SEQUENCE_START_EVENT)
			ck_assert_int_eq(lp_buf_puts(out, "["), LP_OK);
		else if (ev.type == YAML_SEQUENCE_END_EVENT)
			ck_assert_int_eq(lp_buf_puts(out, "]"), LP_OK);
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
}

START_TEST(test_yaml)
{
	cJSON *v = cJSON_Parse("{\"a\":\"plain\",\"b\":\"true\",\"c\":\"12\",\"d\":\"x: y\","
	                       "\"e\":null,\"f\":3,\"g\":[1,{\"h\":\"q\\\"\\n\",\"i\":[]}],"
	                       "\"j\":{},\"k\":\"2026-11-25T21:58:11Z\",\"l\":\"\",\"m\":1.5}");
	lp_buf b, flat;

	lp_buf_init(&b, 1 << 16);
	lp_buf_init(&flat, 1 << 16);
	ck_assert_int_eq(lp_cli_json_to_yaml(&b, v), LP_OK);
	ck_assert_str_eq(lp_buf_cstr(&b), "a: plain\n"
	                                  "b: \"true\"\n"
	                                  "c: \"12\"\n"
	                                  "d: \"x: y\"\n"
	                                  "e: null\n"
	                                  "f: 3\n"
	                                  "g:\n"
	                                  "  - 1\n"
	                                  "  - h: \"q\\\"\\n\"\n"
	                                  "    i: []\n"
	                                  "j: {}\n"
	                                  "k: \"2026-11-25T21:58:11Z\"\n"
	                                  "l: \"\"\n"
	                                  "m: 1.5\n");
	yaml_flatten(&flat, lp_buf_cstr(&b));
	ck_assert_str_eq(lp_buf_cstr(&flat),
	                 "{a|plain|b|true'|c|12'|d|x: y'|e|null|f|3|g|[1|{h|q\"\n'|"
	                 "i|[]}]j|{}k|2026-11-25T21:58:11Z'|l|'|m|1.5|}");
	lp_buf_release(&flat);
	lp_buf_release(&b);
	cJSON_Delete(v);
}
END_TEST

START_TEST(test_sse_split)
{
	char l1[] = "data: hello world\r", l2[] = ": keep-alive", l3[] = "event:end", l4[] = "",
	     l5[] = "data:  two";
	const char *f, *v;

	ck_assert_int_eq(lp_cli_sse_split(l1, &f, &v), 1);
	ck_assert_str_eq(f, "data");
	ck_assert_str_eq(v, "hello world");
	ck_assert_int_eq(lp_cli_sse_split(l2, &f, &v), 0);
	ck_assert_int_eq(lp_cli_sse_split(l3, &f, &v), 1);
	ck_assert_str_eq(f, "event");
	ck_assert_str_eq(v, "end");
	ck_assert_int_eq(lp_cli_sse_split(l4, &f, &v), 0);
	ck_assert_int_eq(lp_cli_sse_split(l5, &f, &v), 1);
	ck_assert_str_eq(v, " two");
}
END_TEST

START_TEST(test_escape)
{
	char b[64];

	ck_assert_str_eq(lp_cli_escape(b, sizeof(b), "my-site_1.x"), "my-site_1.x");
	ck_assert_str_eq(lp_cli_escape(b, sizeof(b), "a/b?c d"), "a%2Fb%3Fc%20d");
	ck_assert_str_eq(lp_cli_escape(b, 5, "abcdefgh"), "abcd");
}
END_TEST

/* A site's API path is whole or refused: a name cut to fit would ask about another site. */
START_TEST(test_site_path)
{
	char p[LP_CLI_API_PATH_MAX], name[LP_CLI_API_PATH_MAX];
	lp_error err = {0};

	ck_assert_int_eq(lp_cli_site_path(p, sizeof(p), "my-site", "", &err), LP_OK);
	ck_assert_str_eq(p, "/api/deployments/my-site");
	ck_assert_int_eq(lp_cli_site_path(p, sizeof(p), "a b", "/logs?revision=2", &err), LP_OK);
	ck_assert_str_eq(p, "/api/deployments/a%20b/logs?revision=2");

	/* 170 spaces encode to 510 bytes: the name alone overflows the encoding buffer */
	memset(name, ' ', 170);
	name[170] = '\0';
	ck_assert_int_eq(lp_cli_site_path(p, sizeof(p), name, "", &err), LP_ETOOBIG);
	ck_assert_str_eq(p, "");
	ck_assert_ptr_nonnull(strstr(err.message, "too long (170 bytes)"));
	/* the encoded name fits, the whole path does not */
	ck_assert_int_eq(lp_cli_site_path(p, 24, "my-site", "/revisions", &err), LP_ETOOBIG);
	ck_assert_str_eq(p, "");
}
END_TEST

/* Names and contents of a zip's entries, in order. */
static void zip_listing(lp_buf *out, const char *path)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char data[256];
	la_ssize_t n;

	archive_read_support_format_zip(a);
	ck_assert_int_eq(archive_read_open_filename(a, path, 10240), ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		ck_assert_int_eq(lp_buf_printf(out, "%s", archive_entry_pathname(e)), LP_OK);
		if (archive_entry_filetype(e) == AE_IFREG) {
			n = archive_read_data(a, data, sizeof(data) - 1);
			ck_assert_int_ge(n, 0);
			data[n] = '\0';
			ck_assert_int_eq(lp_buf_printf(out, "=%s", data), LP_OK);
		}
		ck_assert_int_eq(lp_buf_puts(out, ";"), LP_OK);
	}
	archive_read_free(a);
}

START_TEST(test_zip_dir)
{
	char *dir = lp_test_mkdtemp("lp-cli-zip"), src[4200], p[4300], z1[4200], z2[4200];
	char *d1 = NULL, *d2 = NULL;
	size_t files = 0, l1, l2;
	lp_buf list;
	lp_error err = {0};

	snprintf(src, sizeof(src), "%s/site", dir);
	snprintf(p, sizeof(p), "%s/sub/.git", src);
	ck_assert_int_eq(lp_fs_mkdirs(p, 0755, NULL), LP_OK);
	snprintf(p, sizeof(p), "%s/.git", src);
	ck_assert_int_eq(lp_fs_mkdirs(p, 0755, NULL), LP_OK);
	snprintf(p, sizeof(p), "%s/.git/config", src);
	ck_assert_int_eq(lp_fs_write_atomic(p, "x", 1, 0644, NULL), LP_OK);
	snprintf(p, sizeof(p), "%s/index.html", src);
	ck_assert_int_eq(lp_fs_write_atomic(p, "<h1>hi</h1>", 11, 0644, NULL), LP_OK);
	snprintf(p, sizeof(p), "%s/sub/b.css", src);
	ck_assert_int_eq(lp_fs_write_atomic(p, "b{}", 3, 0644, NULL), LP_OK);
	snprintf(p, sizeof(p), "%s/.well-known", src);
	ck_assert_int_eq(lp_fs_write_atomic(p, "w", 1, 0644, NULL), LP_OK);
	snprintf(p, sizeof(p), "%s/link", src);
	ck_assert_int_eq(symlink("/etc/passwd", p), 0);

	snprintf(z1, sizeof(z1), "%s/one.zip", dir);
	snprintf(z2, sizeof(z2), "%s/two.zip", dir);
	ck_assert_int_eq(lp_cli_zip_dir(&files, src, z1, &err), LP_OK);
	ck_assert_uint_eq(files, 3);
	/* the same folder zips to the same bytes (the digest in a manifest stays valid) */
	ck_assert_int_eq(lp_cli_zip_dir(&files, src, z2, &err), LP_OK);
	ck_assert_int_eq(lp_fs_read_file(&d1, &l1, z1, 1 << 20, NULL), LP_OK);
	ck_assert_int_eq(lp_fs_read_file(&d2, &l2, z2, 1 << 20, NULL), LP_OK);
	ck_assert_uint_eq(l1, l2);
	ck_assert_int_eq(memcmp(d1, d2, l1), 0);
	lp_buf_init(&list, 1 << 16);
	zip_listing(&list, z1);
	ck_assert_str_eq(lp_buf_cstr(&list),
	                 ".well-known=w;index.html=<h1>hi</h1>;sub/;sub/b.css=b{};");
	lp_buf_release(&list);

	snprintf(p, sizeof(p), "%s/empty", dir);
	ck_assert_int_eq(lp_fs_mkdirs(p, 0755, NULL), LP_OK);
	ck_assert_int_eq(lp_cli_zip_dir(&files, p, z2, &err), LP_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "no files"));
	free(d1);
	free(d2);
	if (lp_fs_remove_tree(dir, NULL) != LP_OK)
		fprintf(stderr, "cleanup: cannot remove %s\n", dir);
	free(dir);
}
END_TEST

static void paths_join(lp_buf *out, const lp_cli_paths *p, size_t skip)
{
	size_t i;

	lp_buf_reset(out);
	for (i = 0; i < p->count; i++)
		ck_assert_int_eq(lp_buf_printf(out, "%s;", p->items[i] + skip), LP_OK);
}

/* kubectl's rule on the repository's own examples/: one level, unless -R. */
START_TEST(test_manifest_paths_examples)
{
	char *ex = lp_test_src_path("examples"), *exs = NULL;
	size_t skip = strlen(ex) + 1;
	lp_cli_paths p = {0};
	lp_error err = {0};
	lp_buf b;

	lp_buf_init(&b, 1 << 16);
	ck_assert_int_eq(lp_cli_manifest_paths(&p, ex, 0, &err), LP_OK);
	paths_join(&b, &p, skip);
	ck_assert_str_eq(lp_buf_cstr(&b), "archive.yaml;git-npm.yaml;multi.yaml;spa.yaml;");
	lp_cli_paths_release(&p);

	/* a trailing slash names the same files, without a double slash */
	ck_assert_int_ge(asprintf(&exs, "%s/", ex), 0);
	ck_assert_int_eq(lp_cli_manifest_paths(&p, exs, 0, &err), LP_OK);
	ck_assert_uint_eq(p.count, 4);
	ck_assert_ptr_null(strstr(p.items[0], "//"));
	lp_cli_paths_release(&p);

	/* -R: the sites' package.json files come in, in name order (what kubectl -R does too) */
	ck_assert_int_eq(lp_cli_manifest_paths(&p, ex, 1, &err), LP_OK);
	paths_join(&b, &p, skip);
	ck_assert_str_eq(lp_buf_cstr(&b),
	                 "archive.yaml;git-npm.yaml;multi.yaml;"
	                 "sites/npm-app/package-lock.json;sites/npm-app/package.json;"
	                 "sites/npm-deps/package-lock.json;sites/npm-deps/package.json;spa.yaml;");
	lp_cli_paths_release(&p);
	lp_buf_release(&b);
	free(exs);
	free(ex);
}
END_TEST

START_TEST(test_manifest_paths_rules)
{
	char *dir = lp_test_mkdtemp("lp-cli-walk"), p[4200];
	static const char *const files[] = {"b.yml",       "a.json",      ".hidden.yaml",
	                                    "notes.txt",   "sub/c.yaml",  "sub/deeper/d.json",
	                                    ".git/x.yaml", "empty/.keep", "sub/e.YAML"};
	lp_cli_paths paths = {0};
	lp_error err = {0};
	lp_buf b;
	size_t i, skip = strlen(dir) + 1;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *slash;

		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		slash = strrchr(p, '/');
		*slash = '\0';
		ck_assert_int_eq(lp_fs_mkdirs(p, 0755, NULL), LP_OK);
		*slash = '/';
		ck_assert_int_eq(lp_fs_write_atomic(p, "x", 1, 0644, NULL), LP_OK);
	}
	lp_buf_init(&b, 1 << 16);
	ck_assert_int_eq(lp_cli_manifest_paths(&paths, dir, 0, &err), LP_OK);
	paths_join(&b, &paths, skip);
	ck_assert_str_eq(lp_buf_cstr(&b), "a.json;b.yml;");
	lp_cli_paths_release(&paths);
	ck_assert_int_eq(lp_cli_manifest_paths(&paths, dir, 1, &err), LP_OK);
	paths_join(&b, &paths, skip);
	ck_assert_str_eq(lp_buf_cstr(&b), "a.json;b.yml;sub/c.yaml;sub/deeper/d.json;");
	lp_cli_paths_release(&paths);

	/* a folder with no manifest (one level) is an error that points at -R */
	snprintf(p, sizeof(p), "%s/empty", dir);
	ck_assert_int_eq(lp_cli_manifest_paths(&paths, p, 0, &err), LP_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(err.message, "no *.yaml, *.yml or *.json files"));
	ck_assert_ptr_nonnull(strstr(err.message, "-R"));
	ck_assert_uint_eq(paths.count, 0);

	/* a file, whatever its name, and - are taken as they are, appended in order */
	snprintf(p, sizeof(p), "%s/notes.txt", dir);
	ck_assert_int_eq(lp_cli_manifest_paths(&paths, p, 0, &err), LP_OK);
	ck_assert_int_eq(lp_cli_manifest_paths(&paths, "-", 1, &err), LP_OK);
	ck_assert_uint_eq(paths.count, 2);
	ck_assert_str_eq(paths.items[0], p);
	ck_assert_str_eq(paths.items[1], "-");
	lp_cli_paths_release(&paths);

	ck_assert_int_eq(lp_cli_is_manifest_name("x.yaml"), 1);
	ck_assert_int_eq(lp_cli_is_manifest_name(".yaml"), 0);
	ck_assert_int_eq(lp_cli_is_manifest_name("x.yaml~"), 0);
	lp_buf_release(&b);
	ck_assert_int_eq(lp_fs_remove_tree(dir, NULL), LP_OK);
	free(dir);
}
END_TEST

/* Columns of terminal text: one per code point. */
static size_t cols_of(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

START_TEST(test_log_text)
{
	ck_assert_str_eq(lp_cli_log_text("2026-12-01T16:33:09.412Z npm ci"), "npm ci");
	ck_assert_str_eq(lp_cli_log_text("2026-12-01T16:33:09Z ==> build"), "==> build");
	ck_assert_str_eq(lp_cli_log_text("2026-12-01T16:33:09.412+00:00 x"), "x");
	ck_assert_str_eq(lp_cli_log_text("2026-12-01T16:33:09.412Z "), "");
	ck_assert_str_eq(lp_cli_log_text("2026-12-01T16:33:09.412Z"), "");
	/* not a stamp: the line as it is */
	ck_assert_str_eq(lp_cli_log_text("step 1"), "step 1");
	ck_assert_str_eq(lp_cli_log_text("2026-12-01 16:33:09 x"), "2026-12-01 16:33:09 x");
	ck_assert_str_eq(lp_cli_log_text("2026-12-01T16:33:09.412Zx"), "2026-12-01T16:33:09.412Zx");
	ck_assert_str_eq(lp_cli_log_text(""), "");
}
END_TEST

START_TEST(test_fit)
{
	char b[64];

	ck_assert_uint_eq(lp_cli_fit(b, sizeof(b), "hello", 10), 5);
	ck_assert_str_eq(b, "hello");
	ck_assert_uint_eq(lp_cli_fit(b, sizeof(b), "hello world", 8), 8);
	ck_assert_str_eq(b, "hello...");
	ck_assert_uint_eq(lp_cli_fit(b, sizeof(b), "12345678", 8), 8);
	ck_assert_str_eq(b, "12345678");
	/* colours and cursor moves vanish, control characters are blanks, UTF-8 is never split */
	lp_cli_fit(b, sizeof(b), "\033[32mok\033[0m\tdone\r", 20);
	ck_assert_str_eq(b, "ok done ");
	ck_assert_uint_eq(lp_cli_fit(b, sizeof(b), "ünïcödé ünïcödé", 10), 10);
	ck_assert_str_eq(b, "ünïcödé...");
	/* the buffer is a limit too */
	ck_assert_uint_le(lp_cli_fit(b, 8, "abcdefghijkl", 40), 7);
	ck_assert_str_eq(b, "abcd...");
	lp_cli_fit(b, sizeof(b), "abc", 0);
	ck_assert_str_eq(b, "");
}
END_TEST

/* At 80 columns the line keeps its status and shows the log's message, not its timestamp. */
START_TEST(test_progress_line)
{
	lp_cli_progress p = {.name = "blog",
	                     .phase = "deploying",
	                     .desired = 3,
	                     .current = 2,
	                     .state = "building",
	                     .elapsed_s = 12,
	                     .spin = 1,
	                     .log =
	                         "2026-12-01T16:33:09.412Z added 1287 packages, and audited 1288 "
	                         "packages in 41s; 214 packages are looking for funding"};
	char line[1024], status[256];
	int cols;

	ck_assert_int_eq(lp_cli_progress_status(status, sizeof(status), &p), LP_OK);
	ck_assert_str_eq(status, "site/blog: deploying, revision 3 building (serving 2)");
	lp_cli_progress_line(line, sizeof(line), &p, 79);
	ck_assert_msg(cols_of(line) <= 79, "%zu columns: %s", cols_of(line), line);
	ck_assert_msg(!strncmp(line,
	                       "\\ site/blog: deploying, revision 3 building (serving 2), 12s "
	                       "| added 1287 ",
	                       strlen("\\ site/blog: deploying, revision 3 building (serving 2), "
	                              "12s | added 1287 ")),
	              "%s", line);
	ck_assert_ptr_null(strstr(line, "2026-"));
	ck_assert_ptr_nonnull(strstr(line, "..."));
	for (cols = 20; cols <= 200; cols++) {
		lp_cli_progress_line(line, sizeof(line), &p, cols);
		ck_assert_msg(cols_of(line) <= (size_t)cols, "%d: %s", cols, line);
		ck_assert_ptr_null(strstr(line, "2026-"));
	}
	/* narrow: no room for the message, the status is cut */
	lp_cli_progress_line(line, sizeof(line), &p, 30);
	ck_assert_str_eq(line, "\\ site/blog: deploying, rev...");
	/* minutes, no spinner, no log */
	p.spin = -1;
	p.elapsed_s = 125;
	p.log = "";
	p.current = 3;
	lp_cli_progress_line(line, sizeof(line), &p, 200);
	ck_assert_str_eq(line, "site/blog: deploying, revision 3 building, 2m05s");
}
END_TEST

/* The failure says the revision once, then the build's own last lines. */
START_TEST(test_failure_report)
{
	const char *msg = "revision 2 failed: build exited with code 3; last lines:\nhi\nstep 3\n"
	                  "about to fail";
	const char *rev = "build exited with code 3; last lines:\nhi\nstep 3\nabout to fail";
	const char *log[] = {"2026-12-01T19:00:43.210Z $ sh build.sh",
	                     "2026-12-01T19:00:46.484Z about to fail"};
	lp_buf b;

	lp_buf_init(&b, 1 << 16);
	ck_assert_int_eq(lp_cli_failure_report(&b, "apply", "broken", 2, msg, rev, log, 2), LP_OK);
	ck_assert_str_eq(
	    lp_buf_cstr(&b),
	    "launchpad apply: site/broken failed: revision 2 failed: build exited with "
	    "code 3\n"
	    "  last lines of the build output:\n"
	    "    hi\n"
	    "    step 3\n"
	    "    about to fail\n");
	/* still serving an older revision: said on the first line */
	lp_buf_reset(&b);
	ck_assert_int_eq(lp_cli_failure_report(&b, "redeploy", "b", 3,
	                                       "revision 3 failed: build exited with code 1; last "
	                                       "lines:\nnpm ERR! missing script: build (still "
	                                       "serving revision 2)",
	                                       NULL, NULL, 0),
	                 LP_OK);
	ck_assert_str_eq(
	    lp_buf_cstr(&b),
	    "launchpad redeploy: site/b failed: revision 3 failed: build exited with code "
	    "1 (still serving revision 2)\n"
	    "  last lines of the build output:\n"
	    "    npm ERR! missing script: build\n");
	/* no lines in the message: the revision's, else the log's (timestamps stripped) */
	lp_buf_reset(&b);
	ck_assert_int_eq(lp_cli_failure_report(&b, "apply", "broken", 2,
	                                       "revision 2 failed: build exited with code 3", rev,
	                                       log, 2),
	                 LP_OK);
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&b), "build output:\n    hi\n    step 3\n"));
	lp_buf_reset(&b);
	ck_assert_int_eq(lp_cli_failure_report(&b, "apply", "broken", 1,
	                                       "revision 1 failed: docker engine unreachable", NULL,
	                                       log, 2),
	                 LP_OK);
	ck_assert_str_eq(lp_buf_cstr(&b),
	                 "launchpad apply: site/broken failed: revision 1 failed: docker engine "
	                 "unreachable\n"
	                 "  last lines of the log:\n"
	                 "    $ sh build.sh\n"
	                 "    about to fail\n");
	/* a message that does not name the revision gets it; none at all says so */
	lp_buf_reset(&b);
	ck_assert_int_eq(lp_cli_failure_report(&b, "apply", "x", 4, "out of disk", NULL, NULL, 0),
	                 LP_OK);
	ck_assert_str_eq(lp_buf_cstr(&b),
	                 "launchpad apply: site/x failed: revision 4: out of disk\n");
	lp_buf_reset(&b);
	ck_assert_int_eq(lp_cli_failure_report(&b, "apply", "x", 4, "", NULL, NULL, 0), LP_OK);
	ck_assert_str_eq(lp_buf_cstr(&b),
	                 "launchpad apply: site/x failed: revision 4 failed (no message)\n");
	lp_buf_release(&b);
}
END_TEST

static void jp_ok(const char *tmpl, const cJSON *v, const char *want)
{
	lp_buf b;
	lp_error err = {0};

	lp_buf_init(&b, 1 << 16);
	ck_assert_msg(lp_cli_jsonpath(&b, tmpl, v, &err) == LP_OK, "%s: %s", tmpl, err.message);
	ck_assert_msg(!strcmp(lp_buf_cstr(&b), want), "%s: \"%s\", want \"%s\"", tmpl,
	              lp_buf_cstr(&b), want);
	ck_assert_int_eq(lp_cli_jsonpath(NULL, tmpl, NULL, &err), LP_OK);
	lp_buf_release(&b);
}

static void jp_bad(const char *tmpl, const char *want)
{
	lp_error err = {0};

	ck_assert_int_eq(lp_cli_jsonpath(NULL, tmpl, NULL, &err), LP_EINVAL);
	ck_assert_msg(!strcmp(err.message, want), "%s: \"%s\", want \"%s\"", tmpl, err.message,
	              want);
}

START_TEST(test_jsonpath)
{
	cJSON *site = cJSON_Parse("{\"slug\":\"blog\",\"phase\":\"live\",\"current_revision\":3,"
	                          "\"ok\":true,\"message\":null,\"size\":1.5,"
	                          "\"spec\":{\"spec\":{\"build\":{\"command\":\"npm ci\"}}},"
	                          "\"conditions\":[{\"type\":\"Ready\"},{\"type\":\"Built\"}]}");
	cJSON *list = cJSON_Parse("{\"items\":[{\"slug\":\"a\",\"url\":\"http://a\"},"
	                          "{\"slug\":\"b\"},{\"slug\":\"c\",\"url\":\"http://c\"}]}");

	jp_ok("{.slug}", site, "blog");
	jp_ok("{.spec.spec.build.command}", site, "npm ci");
	jp_ok("name={.slug} rev={.current_revision}{\"\\n\"}", site, "name=blog rev=3\n");
	jp_ok("{.ok} {.message}|{.size}|{.missing.deeper}|", site, "true |1.5||");
	jp_ok("{.conditions[*].type}", site, "Ready Built");
	jp_ok("{.conditions[1].type}", site, "Built");
	jp_ok("{.conditions[5].type}", site, "");
	jp_ok("{.conditions[0]}", site, "{\"type\":\"Ready\"}");
	jp_ok("{ .slug }", site, "blog");
	jp_ok("{\"a\\tb\\\"c\\\\\"}", site, "a\tb\"c\\");
	jp_ok("{.items[*].slug}", list, "a b c");
	/* a missing field selects nothing: no empty word in the middle */
	jp_ok("{.items[*].url}", list, "http://a http://c");
	jp_ok("plain text, no braces } here", list, "plain text, no braces } here");
	jp_ok("{.}", cJSON_GetObjectItem(site, "slug"), "blog");

	jp_bad("{.items[*].}", "jsonpath: column 11: expected a field name after '.'");
	jp_bad("x{.slug", "jsonpath: column 2: the { is not closed");
	jp_bad("{}", "jsonpath: column 1: empty expression {}");
	jp_bad("{range .items[*]}{.slug}{end}",
	       "jsonpath: column 2: expected .field, [*] or \"text\" (range, filters and functions "
	       "are not supported)");
	jp_bad("{.items[?(@.x)]}", "jsonpath: column 8: expected [*] or [N]");
	jp_bad("{.items[1}", "jsonpath: column 8: expected [*] or [N]");
	jp_bad("{\"abc}", "jsonpath: column 2: the string is not closed");
	jp_bad("{\"\\q\"}",
	       "jsonpath: column 3: unknown escape (\\n, \\t, \\\" and \\\\ are known)");
	jp_bad("{.slug x}", "jsonpath: column 8: expected } after the expression");
	cJSON_Delete(site);
	cJSON_Delete(list);
}
END_TEST

START_TEST(test_output_parse)
{
	lp_cli_output o;
	lp_error err = {0};

	ck_assert_int_eq(lp_cli_output_parse(&o, "wide", &err), LP_OK);
	ck_assert_int_eq(o.format, LP_CLI_FORMAT_WIDE);
	ck_assert_int_eq(lp_cli_output_parse(&o, "name", &err), LP_OK);
	ck_assert_int_eq(o.format, LP_CLI_FORMAT_NAME);
	ck_assert_int_eq(lp_cli_output_parse(&o, "jsonpath={.slug}", &err), LP_OK);
	ck_assert_int_eq(o.format, LP_CLI_FORMAT_JSONPATH);
	ck_assert_str_eq(o.tmpl, "{.slug}");
	ck_assert_int_eq(lp_cli_output_parse(&o, "jsonpath={.}}{.", &err), LP_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "column 6: expected a field name"));
	ck_assert_int_eq(lp_cli_output_parse(&o, "xml", &err), LP_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "jsonpath=TEMPLATE"));
}
END_TEST

/*
 * A deployment object's manifest is what apply takes back: written as YAML and parsed by the
 * spec library, it is the very site the server stored (same canonical JSON).
 */
START_TEST(test_site_manifest)
{
	const char *stored =
	    "{\"apiVersion\":\"launchpad.dev/v1\",\"kind\":\"Site\",\"metadata\":{\"name\":"
	    "\"blog\"},\"spec\":{\"source\":{\"git\":{\"url\":\"https://g/blog\",\"branch\":"
	    "\"release/2024\"}},\"build\":{\"image\":\"node:20\",\"command\":\"npm ci\\nnpm run "
	    "build\",\"outputDir\":\"dist\",\"env\":{\"NODE_ENV\":\"production\",\"PORT\":\"8080\","
	    "\"YES\":\"true\"},\"timeoutSeconds\":1200},\"autoDeploy\":true,\"serve\":{\"spa\":"
	    "true,\"notFoundPage\":\"404.html\"},\"revisionHistoryLimit\":10}}";
	char *obj_text = NULL, *want = NULL, *got = NULL;
	cJSON *obj, *m, *list, *spec;
	lp_site *from_api = NULL;
	lp_site_list back = {0};
	lp_spec_diags diags;
	lp_buf b;

	ck_assert_int_ge(asprintf(&obj_text,
	                          "{\"id\":\"31b5\",\"slug\":\"blog\",\"name\":\"My blog\","
	                          "\"status\":\"live\",\"phase\":\"live\",\"spec\":%s}",
	                          stored),
	                 0);
	obj = cJSON_Parse(obj_text);
	ck_assert_int_eq(lp_cli_site_manifest(&m, obj), LP_OK);
	ck_assert_ptr_null(cJSON_GetObjectItem(m, "id"));
	ck_assert_ptr_null(cJSON_GetObjectItem(m, "slug"));
	ck_assert_ptr_null(cJSON_GetObjectItem(m, "status"));
	lp_buf_init(&b, 1 << 20);
	ck_assert_int_eq(lp_cli_json_to_yaml(&b, m), LP_OK);
	cJSON_Delete(m);
	ck_assert_msg(!strncmp(lp_buf_cstr(&b),
	                       "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  name: blog\n"
	                       "spec:\n  source:\n",
	                       strlen("apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  "
	                              "name: blog\nspec:\n  source:\n")),
	              "%s", lp_buf_cstr(&b));
	lp_spec_diags_init(&diags);
	ck_assert_int_eq(lp_spec_parse(&back, lp_buf_cstr(&b), b.len, NULL, &diags, NULL), LP_OK);
	ck_assert_uint_eq(back.count, 1);
	spec = cJSON_Parse(stored);
	ck_assert_int_eq(lp_spec_from_cjson(&from_api, spec, NULL, &diags, NULL), LP_OK);
	ck_assert_int_eq(lp_site_to_json(&want, from_api, NULL), LP_OK);
	ck_assert_int_eq(lp_site_to_json(&got, back.items[0], NULL), LP_OK);
	ck_assert_str_eq(got, want);
	lp_site_list_release(&back);

	/* a list: one document per site, and the stream parses back to both */
	list = cJSON_CreateArray();
	cJSON_AddItemReferenceToArray(list, obj);
	cJSON_AddItemToArray(list,
	                     cJSON_Parse("{\"slug\":\"other\",\"spec\":{\"apiVersion\":"
	                                 "\"launchpad.dev/v1\",\"kind\":\"Site\",\"metadata\":"
	                                 "{\"name\":\"other\"},\"spec\":{\"source\":{"
	                                 "\"archive\":{\"digest\":\"sha256:" ZEROS64 "\"}}}}}"));
	lp_buf_reset(&b);
	ck_assert_int_eq(lp_cli_manifests_yaml(&b, list), LP_OK);
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&b), "\n---\napiVersion: launchpad.dev/v1\n"));
	ck_assert_ptr_null(strstr(lp_buf_cstr(&b), "kind: List"));
	ck_assert_int_eq(lp_spec_parse(&back, lp_buf_cstr(&b), b.len, NULL, &diags, NULL), LP_OK);
	ck_assert_uint_eq(back.count, 2);
	ck_assert_str_eq(back.items[1]->name, "other");
	lp_site_list_release(&back);

	/* no spec, no manifest */
	cJSON_DeleteItemFromObject(obj, "spec");
	ck_assert_int_eq(lp_cli_site_manifest(&m, obj), LP_EINVAL);
	ck_assert_ptr_null(m);
	lp_spec_diags_release(&diags);
	lp_site_free(from_api);
	cJSON_Delete(list);
	cJSON_Delete(spec);
	cJSON_Delete(obj);
	free(obj_text);
	free(want);
	free(got);
	lp_buf_release(&b);
}
END_TEST

START_TEST(test_revisions_table)
{
	cJSON *revs = cJSON_Parse(
	    "[{\"revision\":2,\"state\":\"failed\",\"trigger\":\"redeploy\",\"source\":\"\","
	    "\"resolved_source\":\"91b8056607936c1dc6ae3bbac34e54c33aca0816\",\"message\":\"build "
	    "exited with code 3; last lines:\\nabout to fail\",\"created_at\":"
	    "\"2026-11-25T21:58:11Z\",\"duration_seconds\":3.5,\"desired\":true,\"current\":false},"
	    "{\"revision\":1,\"state\":\"ready\",\"trigger\":\"create\",\"source\":\"sha256:"
	    "abcdef0123456789abcdef\",\"resolved_source\":\"\",\"message\":\"\",\"created_at\":"
	    "\"2026-11-25T20:58:11Z\",\"desired\":false,\"current\":true,"
	    "\"permalink\":\"http://blog--r1.localhost\"}]");
	lp_buf b;
	int64_t now = 1795643891 + 190;

	lp_buf_init(&b, 1 << 16);
	ck_assert_int_eq(lp_cli_revisions_table(&b, revs, 0, now), LP_OK);
	ck_assert_str_eq(
	    lp_buf_cstr(&b),
	    "REVISION   STATE    TRIGGER    SOURCE                AGE   CURRENT   "
	    "DESIRED\n"
	    "2          failed   redeploy   91b805660793          3m    false     true\n"
	    "1          ready    create     sha256:abcdef012345   1h    true      "
	    "false\n");
	lp_buf_reset(&b);
	ck_assert_int_eq(lp_cli_revisions_table(&b, revs, 1, now), LP_OK);
	/* wide: DURATION, the message's first line, and the permalink of a ready revision */
	ck_assert_msg(strstr(lp_buf_cstr(&b), "DURATION   MESSAGE") &&
	                  strstr(lp_buf_cstr(&b), "   PERMALINK\n") &&
	                  strstr(lp_buf_cstr(&b), "3s         build exited with code 3; last "
	                                          "lines:   -\n") &&
	                  strstr(lp_buf_cstr(&b), "true      false     -          ") &&
	                  strstr(lp_buf_cstr(&b), "http://blog--r1.localhost\n"),
	              "%s", lp_buf_cstr(&b));
	lp_buf_release(&b);
	cJSON_Delete(revs);
}
END_TEST

/* A watch's later lines keep the columns of the first: a table is at least as wide as asked. */
START_TEST(test_table_min_width)
{
	lp_cli_table t;
	lp_buf b;
	size_t w[LP_CLI_TABLE_MAX_COLS];
	const char *h[] = {"NAME", "STATUS", "AGE"}, *r1[] = {"a", "live", "1s"};

	lp_cli_table_init(&t, 3);
	t.min_width[1] = 9;
	ck_assert_int_eq(lp_cli_table_add(&t, h), LP_OK);
	ck_assert_int_eq(lp_cli_table_add(&t, r1), LP_OK);
	lp_buf_init(&b, 1 << 16);
	ck_assert_int_eq(lp_cli_table_render(&b, &t), LP_OK);
	ck_assert_str_eq(lp_buf_cstr(&b), "NAME   STATUS      AGE\n"
	                                  "a      live        1s\n");
	lp_cli_table_widths(&t, w);
	ck_assert_uint_eq(w[0], 4);
	ck_assert_uint_eq(w[1], 9);
	ck_assert_uint_eq(w[2], 3);
	lp_buf_release(&b);
	lp_cli_table_release(&t);
}
END_TEST

START_TEST(test_site_counts)
{
	cJSON *sites =
	    cJSON_Parse("[{\"phase\":\"live\"},{\"phase\":\"failed\"},{\"phase\":\"live\"},"
	                "{\"phase\":\"deploying\"},{\"phase\":\"sleeping\"}]");
	cJSON *none = cJSON_CreateArray();
	char b[256];

	ck_assert_int_eq(lp_cli_site_counts(b, sizeof(b), sites), LP_OK);
	ck_assert_str_eq(b, "5 (2 live, 1 deploying, 1 failed, 1 other)");
	ck_assert_int_eq(lp_cli_site_counts(b, sizeof(b), none), LP_OK);
	ck_assert_str_eq(b, "none");
	ck_assert_int_eq(lp_cli_site_counts(b, 8, sites), LP_ETOOBIG);
	cJSON_Delete(sites);
	cJSON_Delete(none);
}
END_TEST

START_TEST(test_find_program)
{
	char *dir = lp_test_mkdtemp("lp-cli-path"), p[4200], path[8600], found[4200];
	char *saved = getenv("PATH") ? strdup(getenv("PATH")) : NULL;

	snprintf(p, sizeof(p), "%s/tool", dir);
	ck_assert_int_eq(lp_fs_write_atomic(p, "#!/bin/sh\n", 10, 0755, NULL), LP_OK);
	snprintf(path, sizeof(path), "/nonexistent::%s", dir);
	setenv("PATH", path, 1);
	ck_assert_int_eq(lp_cli_find_program(found, sizeof(found), "tool"), LP_OK);
	ck_assert_str_eq(found, p);
	ck_assert_int_eq(lp_cli_find_program(found, sizeof(found), "no-such-tool"), LP_ENOTFOUND);
	ck_assert_str_eq(found, "");
	/* not executable: not a program */
	ck_assert_int_eq(chmod(p, 0644), 0);
	ck_assert_int_eq(lp_cli_find_program(found, sizeof(found), "tool"), LP_ENOTFOUND);
	if (saved)
		setenv("PATH", saved, 1);
	free(saved);
	ck_assert_int_eq(lp_fs_remove_tree(dir, NULL), LP_OK);
	free(dir);
}
END_TEST

/* Zip a tree of files (relative paths, "x/" for an empty folder) and ask about its top page. */
static int has_index(const char *const *files)
{
	char *dir = lp_test_mkdtemp("lp-cli-index"), p[4200], zip[4200];
	size_t n = 0, i;
	lp_error err = {0};
	int has = -1;

	for (i = 0; files[i]; i++) {
		char *slash;

		snprintf(p, sizeof(p), "%s/tree/%s", dir, files[i]);
		slash = strrchr(p, '/');
		*slash = '\0';
		ck_assert_int_eq(lp_fs_mkdirs(p, 0755, NULL), LP_OK);
		*slash = '/';
		if (slash[1])
			ck_assert_int_eq(lp_fs_write_atomic(p, "x", 1, 0644, NULL), LP_OK);
	}
	snprintf(p, sizeof(p), "%s/tree", dir);
	snprintf(zip, sizeof(zip), "%s/site.zip", dir);
	ck_assert_int_eq(lp_cli_zip_dir(&n, p, zip, &err), LP_OK);
	ck_assert_int_eq(lp_cli_archive_has_index(&has, zip, &err), LP_OK);
	ck_assert_int_eq(lp_fs_remove_tree(dir, NULL), LP_OK);
	free(dir);
	return has;
}

/* index.html at the top as the server lays the archive out (its lone-top-folder strip). */
START_TEST(test_archive_has_index)
{
	static const char *const at_top[] = {"index.html", "css/a.css", NULL};
	static const char *const in_folder[] = {"site/index.html", "site/css/a.css", NULL};
	static const char *const with_ds[] = {"site/index.html", ".DS_Store", "__MACOSX/x", NULL};
	static const char *const no_page[] = {"about.html", "css/a.css", NULL};
	static const char *const folder_no_page[] = {"site/about.html", NULL};
	static const char *const two_folders[] = {"a/index.html", "b/x.css", NULL};
	static const char *const beside_empty[] = {"site/index.html", "empty/", NULL};
	static const char *const nested[] = {"outer/inner/index.html", NULL};
	static const char *const upper[] = {"INDEX.HTML", NULL};
	char *dir = lp_test_mkdtemp("lp-cli-tgz"), cmd[8800], tgz[4200];
	lp_error err = {0};
	int has = -1;

	ck_assert_int_eq(has_index(at_top), 1);
	ck_assert_int_eq(has_index(in_folder), 1);
	ck_assert_int_eq(has_index(with_ds), 1);
	ck_assert_int_eq(has_index(no_page), 0);
	ck_assert_int_eq(has_index(folder_no_page), 0);
	ck_assert_int_eq(has_index(two_folders), 0);
	ck_assert_int_eq(has_index(beside_empty), 0);
	ck_assert_int_eq(has_index(nested), 0); /* one folder is stripped, not two */
	ck_assert_int_eq(has_index(upper), 0);

	/* a tar.gz as `tar -C dir .` writes it: "./" names */
	snprintf(tgz, sizeof(tgz), "%s/site.tgz", dir);
	snprintf(cmd, sizeof(cmd),
	         "mkdir -p %s/t && echo hi > %s/t/index.html && tar -C %s/t -czf %s .", dir, dir,
	         dir, tgz);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(lp_cli_archive_has_index(&has, tgz, &err), LP_OK);
	ck_assert_int_eq(has, 1);
	snprintf(cmd, sizeof(cmd), "%s/nope.zip", dir);
	ck_assert_int_ne(lp_cli_archive_has_index(&has, cmd, &err), LP_OK);
	ck_assert_int_eq(lp_fs_remove_tree(dir, NULL), LP_OK);
	free(dir);
}
END_TEST

START_TEST(test_completion_file_matches)
{
	char *path = lp_test_src_path("scripts/completion/launchpad.bash"), *data = NULL;
	size_t len;

	ck_assert_int_eq(lp_fs_read_file(&data, &len, path, 1 << 20, NULL), LP_OK);
	ck_assert_str_eq(data, lp_cli_completion_bash);
	free(data);
	free(path);
}
END_TEST

START_TEST(test_command_table)
{
	static const char *const want[] = {"login",   "apply",      "deploy",   "get",  "describe",
	                                   "delete",  "redeploy",   "rollback", "logs", "validate",
	                                   "version", "completion", "status",   "open", "metrics",
	                                   "user",    "token"};
	size_t i, j;

	ck_assert_uint_eq(lp_cli_ncommands, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		for (j = 0; j < lp_cli_ncommands; j++)
			if (!strcmp(lp_cli_commands[j].name, want[i]))
				break;
		ck_assert_msg(j < lp_cli_ncommands, "command %s missing", want[i]);
		ck_assert_ptr_nonnull(strstr(lp_cli_completion_bash, want[i]));
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cli_units");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_config_parse);
	tcase_add_test(tc, test_config_format_roundtrip);
	tcase_add_test(tc, test_config_path);
	tcase_add_test(tc, test_config_precedence);
	tcase_add_test(tc, test_flag_given);
	tcase_add_test(tc, test_age);
	tcase_add_test(tc, test_parse_time);
	tcase_add_test(tc, test_table_alignment);
	tcase_add_test(tc, test_sites_table);
	tcase_add_test(tc, test_args);
	tcase_add_test(tc, test_yaml);
	tcase_add_test(tc, test_sse_split);
	tcase_add_test(tc, test_escape);
	tcase_add_test(tc, test_site_path);
	tcase_add_test(tc, test_zip_dir);
	tcase_add_test(tc, test_manifest_paths_examples);
	tcase_add_test(tc, test_manifest_paths_rules);
	tcase_add_test(tc, test_log_text);
	tcase_add_test(tc, test_fit);
	tcase_add_test(tc, test_progress_line);
	tcase_add_test(tc, test_failure_report);
	tcase_add_test(tc, test_jsonpath);
	tcase_add_test(tc, test_output_parse);
	tcase_add_test(tc, test_site_manifest);
	tcase_add_test(tc, test_revisions_table);
	tcase_add_test(tc, test_table_min_width);
	tcase_add_test(tc, test_site_counts);
	tcase_add_test(tc, test_find_program);
	tcase_add_test(tc, test_archive_has_index);
	tcase_add_test(tc, test_completion_file_matches);
	tcase_add_test(tc, test_command_table);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lp_test_run(suite());
}
