/* check_spec.c: unit tests for the Site resource: parsing, validation, defaults, canonical forms.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launchpad/crypto.h"
#include "launchpad/fs.h"
#include "launchpad/spec.h"
#include "spec/node.h"
#include "tests/lib/testutil.h"

#define HDR "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  name: ok\nspec:\n"
#define GIT "  source:\n    git: {url: \"https://github.com/a/b\"}\n"
#define Z64 "0000000000000000000000000000000000000000000000000000000000000000"
/* A JSON manifest up to its spec's source; lines 1-3, so the cases' positions read line 4. */
#define JHDR                                                                                       \
	"{\"apiVersion\": \"launchpad.dev/v1\", \"kind\": \"Site\",\n \"metadata\": {\"name\": "   \
	"\"ok\"},\n \"spec\": {\"source\": {\"git\": {\"url\": \"https://a/b\"}},\n"

static const lp_spec_options strict = {0};

/* 1 when a and b have the same canonical form (name included). */
static int site_equal(const lp_site *a, const lp_site *b)
{
	char *ja = NULL, *jb = NULL;
	int eq = 0;

	if (lp_site_to_json(&ja, a, NULL) == LP_OK && lp_site_to_json(&jb, b, NULL) == LP_OK)
		eq = !strcmp(ja, jb);
	free(ja);
	free(jb);
	return eq;
}

static char *read_src(const char *rel, size_t *len)
{
	char *path = lp_test_src_path(rel), *data = NULL;
	lp_error err = {0};

	ck_assert_msg(lp_fs_read_file(&data, len, path, LP_SPEC_MAX_INPUT, &err) == LP_OK, "%s: %s",
	              path, err.message);
	free(path);
	return data;
}

static lp_site *parse_one(const char *text)
{
	lp_site_list list = {0};
	lp_spec_diags d;
	lp_error err = {0};
	lp_site *site;
	int rc;

	lp_spec_diags_init(&d);
	rc = lp_spec_parse(&list, text, strlen(text), &strict, &d, &err);
	ck_assert_msg(rc == LP_OK, "parse failed: %s", err.message);
	ck_assert_uint_eq(d.count, 0);
	ck_assert_uint_eq(list.count, 1);
	site = list.items[0];
	list.items[0] = NULL;
	list.count = 0;
	free(list.items);
	lp_spec_diags_release(&d);
	return site;
}

static char *diags_text(const lp_spec_diags *d)
{
	char *text = NULL;

	ck_assert_int_eq(lp_spec_diags_format(&text, d, "t", NULL), LP_OK);
	return text;
}

/* ---- invalid manifests: each names its path, position and message ---- */

struct bad_case {
	const char *yaml;
	const char *path;
	int line, col;
	const char *message;
};

static const struct bad_case bad_cases[] = {
    /* 0 */ {"apiVersion: v1\nkind: Site\nmetadata: {name: ok}\nspec: {source: {git: {url: "
             "\"https://a/b\"}}}\n",
             "apiVersion", 1, 13, "must be \"launchpad.dev/v1\" (got \"v1\")"},
    {"kind: Site\nmetadata: {name: ok}\nspec: {source: {git: {url: \"https://a/b\"}}}\n",
     "apiVersion", 1, 1, "is required"},
    {"apiVersion: launchpad.dev/v1\nkind: Page\nmetadata: {name: ok}\nspec: {source: {git: "
     "{url: \"https://a/b\"}}}\n",
     "kind", 2, 7, "must be \"Site\""},
    {"apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  name: My_Site\nspec:\n" GIT,
     "metadata.name", 4, 9, "must be a DNS label"},
    {"apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  name: "
     "a234567890123456789012345678901234567890123456789012345678901234\nspec:\n" GIT,
     "metadata.name", 4, 9, "must be at most 63 characters (got 64)"},
    /* 5 */
    {"apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  name: my.site\nspec:\n" GIT,
     "metadata.name", 4, 9, "must be a DNS label"},
    {"apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  name: -x\nspec:\n" GIT,
     "metadata.name", 4, 9, "must be a DNS label"},
    {"apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  labels: {}\nspec:\n" GIT,
     "metadata.name", 4, 3, "is required"},
    {"apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  name: ok\n", "spec", 1, 1,
     "is required"},
    {HDR "  autoDeploy: true\n", "spec.source", 6, 3, "is required"},
    /* 10 */
    {HDR "  source: {}\n", "spec.source", 6, 11, "exactly one of git or archive is required"},
    {HDR "  source:\n    git: {url: \"https://a/b\"}\n    archive: {digest: \"sha256:" Z64 "\"}\n",
     "spec.source", 7, 5, "git and archive are mutually exclusive"},
    {HDR "  source:\n    git: {url: \"http://a/b\"}\n", "spec.source.git.url", 7, 16,
     "http:// URLs are only allowed with --allow-insecure-sources"},
    {HDR "  source:\n    git: {url: \"git@github.com:a/b.git\"}\n", "spec.source.git.url", 7, 16,
     "must be an https:// URL"},
    {HDR "  source:\n    git: {url: \"https://user:tok@github.com/a/b\"}\n", "spec.source.git.url",
     7, 16, "must not contain credentials"},
    /* 15 */
    {HDR "  source:\n    git: {url: \"file:///srv/repo\"}\n", "spec.source.git.url", 7, 16,
     "file:// URLs are only allowed with --allow-insecure-sources"},
    {HDR "  source:\n    git:\n      url: https://a/b\n      branch: a..b\n",
     "spec.source.git.branch", 9, 15, "is not a valid git branch name"},
    {HDR "  source:\n    git:\n      url: https://a/b\n      branch: \"--upload-pack=x\"\n",
     "spec.source.git.branch", 9, 15, "must not start with '-'"},
    {HDR "  source:\n    archive:\n      digest: sha256:" Z64 "A\n", "spec.source.archive.digest",
     8, 15, "64 lowercase hex digits"},
    {HDR "  source:\n    archive:\n      digest: md5:abc\n", "spec.source.archive.digest", 8, 15,
     "must be \"sha256:\""},
    /* 20 */
    {HDR GIT "  build:\n    outputDir: out\n    command: []\n", "spec.build.command", 10, 14,
     "expected a string, got a sequence"},
    {HDR GIT "  build:\n    command: \"  \"\n", "spec.build.command", 9, 14, "must not be empty"},
    {HDR GIT "  build:\n    comand: make\n", "spec.build.comand", 9, 5,
     "unknown field \"comand\" (did you mean \"command\"?)"},
    {HDR GIT "  build:\n    command: make\n    outputDir: a/../../etc\n", "spec.build.outputDir",
     10, 16, "must not contain \"..\""},
    {HDR GIT "  build:\n    command: make\n    outputDir: /dist\n", "spec.build.outputDir", 10, 16,
     "must be a relative path"},
    /* 25 */
    {HDR GIT "  build:\n    command: make\n    env:\n      1ABC: x\n", "spec.build.env.1ABC", 11, 7,
     "invalid variable name"},
    {HDR GIT "  build:\n    command: make\n    env:\n      PORT: 8080\n", "spec.build.env.PORT", 11,
     13, "expected a string, got an integer (quote it)"},
    {HDR GIT "  build:\n    command: make\n    env: {A: [c]}\n", "spec.build.env.A", 10, 14,
     "expected a string, got a sequence"},
    {HDR GIT "  build:\n    command: make\n    env: {A: {b: c}}\n", "spec.build.env.A.b", 10, 15,
     "unknown field \"b\""},
    {HDR GIT "  build:\n    command: make\n    env: {A: {secret: true}}\n",
     "spec.build.env.A.value", 10, 14, "is required"},
    {HDR GIT "  build:\n    command: make\n    env: {A: {value: x, secret: yes}}\n",
     "spec.build.env.A.secret", 10, 33, "expected a boolean"},
    {HDR GIT "  build:\n    command: make\n    env: {A: {value: x, sealed: y}}\n",
     "spec.build.env.A", 10, 14,
     "a sealed secret has secret: true, sealed and fingerprint, and no value"},
    {HDR GIT "  build:\n    command: make\n    timeoutSeconds: 0\n", "spec.build.timeoutSeconds",
     10, 21, "must be between 1 and 7200 (got 0)"},
    {HDR GIT "  build:\n    command: make\n    timeoutSeconds: \"900\"\n",
     "spec.build.timeoutSeconds", 10, 21, "expected an integer, got a string"},
    /* 30 */
    {HDR GIT "  build:\n    command: make\n    timeoutSeconds: 99999999999999999999\n",
     "spec.build.timeoutSeconds", 10, 21, "must be between 1 and 7200"},
    {HDR GIT "  build:\n    command: make\n    timeoutSeconds: 1.5\n", "spec.build.timeoutSeconds",
     10, 21, "expected an integer, got a number"},
    {HDR GIT "  autoDeploy: yes\n", "spec.autoDeploy", 8, 15,
     "expected a boolean (true or false), got a string"},
    {HDR GIT "  serve: {notFoundPage: ../secret.html}\n", "spec.serve.notFoundPage", 8, 25,
     "must not contain \"..\""},
    {HDR GIT "  serve: {notFoundPage: errors/}\n", "spec.serve.notFoundPage", 8, 25,
     "must name a file"},
    /* 35 */
    {HDR GIT "  revisionHistoryLimit: 0\n", "spec.revisionHistoryLimit", 8, 25,
     "must be between 1 and 100 (got 0)"},
    {HDR GIT "  autoDeploy: true\n  autoDeploy: false\n", "spec.autoDeploy", 9, 3,
     "duplicate key \"autoDeploy\" (first at line 8, column 3)"},
    {HDR "  source: git\n", "spec.source", 6, 11, "expected a mapping, got a string"},
    {HDR GIT "  build: [make]\n", "spec.build", 8, 10, "expected a mapping, got a sequence"},
    {HDR GIT "  build:\n    command: {run: make}\n", "spec.build.command", 9, 14,
     "expected a string, got a mapping"},
    /* 40 */
    {HDR GIT "  build:\n    command: &c make\n    image: *c\n", "", 10, 12,
     "YAML aliases (*c) are not allowed"},
    {HDR GIT "  build:\n    command: \"unterminated\n", "", 10, 1, "YAML syntax error"},
    {"- apiVersion: launchpad.dev/v1\n", "", 1, 1,
     "expected a mapping (a Site manifest), got a sequence"},
    {HDR GIT "  build:\n    command: !!binary aGVsbG8=\n", "spec.build.command", 9, 14,
     "unsupported YAML tag \"!!binary\""},
    {HDR GIT "  build:\n    command: make\n    image: \"node 20\"\n", "spec.build.image", 10, 12,
     "is not a valid image reference"},
    /* 45 */ {HDR GIT "  replicas: 3\n", "spec.replicas", 8, 3, "unknown field \"replicas\""},
    {HDR GIT "status: {phase: live}\nextra: 1\n", "extra", 9, 1, "unknown field \"extra\""},
    {HDR GIT "  serve: {spa: 1}\n", "spec.serve.spa", 8, 16,
     "expected a boolean (true or false), got an integer"},
    {HDR GIT "  build:\n    command: make\n    env: [A, B]\n", "spec.build.env", 10, 10,
     "expected a mapping, got a sequence"},
    {HDR "  source:\n    git: {branch: main}\n", "spec.source.git.url", 7, 10, "is required"},
    /* 50 */
    {HDR "  source:\n    git: {url: \"https://a/b\", brnach: dev}\n", "spec.source.git.brnach", 7,
     31, "did you mean \"branch\"?"},
    {HDR GIT "  build:\n    command: make\n    outputDir: \"\"\n", "spec.build.outputDir", 10, 16,
     "must not be empty"},
    {HDR GIT "  build:\n    command: \"a\\0b\"\n", "spec.build.command", 9, 14,
     "must not contain NUL bytes"},
    {HDR GIT "  build:\n    command: make\n    env:\n      ? [x]\n      : y\n", "spec.build.env",
     11, 9, "mapping keys must be strings, got a sequence"},
    /* 55: NUL bytes and invalid UTF-8 anywhere, never a silent cut (issue 14.7, 14.8) */
    {HDR GIT "  build:\n    command: make\n    env:\n      \"A\\0B\": x\n",
     "spec.build.env.A\\x00B", 11, 7, "keys must not contain NUL bytes"},
    {HDR GIT "  build:\n    command: make\n    env: {A: \"x\\0y\"}\n", "spec.build.env.A", 10, 14,
     "must not contain NUL bytes"},
    {HDR GIT "status: {message: \"a\\0b\", list: [ok, \"b\\0\"]}\n", "status.list.1", 8, 38,
     "must not contain NUL bytes"},
    {HDR GIT "  \"serve\\0\": {}\n", "spec.serve\\x00", 8, 3, "keys must not contain NUL bytes"},
    {"apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  name: \"ok\\0x\"\nspec:\n" GIT,
     "metadata.name", 4, 9, "must not contain NUL bytes"},
    /* 60 */
    {HDR GIT "  build:\n    command: \"a\\ud800b\"\n", "", 9, 18,
     "found invalid Unicode character escape code"},
    /* JSON: cJSON stops a string at \u0000; the text says where one was */
    {JHDR "  \"build\": {\"command\": \"echo a\\u0000; rm -rf /\"}}}", "spec.build.command", 4, 24,
     "must not contain NUL bytes"},
    {"{\"apiVersion\": \"launchpad.dev/v1\", \"kind\": \"Site\",\n \"metadata\": {\"name\": "
     "\"dupname\\u0000x\"},\n \"spec\": {\"source\": {\"git\": {\"url\": \"https://a/b\"}}}}",
     "metadata.name", 2, 23, "must not contain NUL bytes"},
    {JHDR "  \"build\": {\"command\": \"make\", \"env\": {\"A\\u0000B\": \"x\"}}}}",
     "spec.build.env.A\\x00", 4, 40, "keys must not contain NUL bytes"},
    {JHDR "  \"build\": {\"command\": \"make\", \"env\": {\"C\": \"y\\u0000\"}}}}",
     "spec.build.env.C", 4, 45, "must not contain NUL bytes"},
    /* 65 */
    {JHDR "  \"autoDeploy\": true}, \"status\": {\"m\": [\"a\\u0000\"]}}", "status.m.0", 4, 41,
     "must not contain NUL bytes"},
    {JHDR "  \"sp\\u0000x\": 1}}", "spec.sp\\x00", 4, 3, "keys must not contain NUL bytes"},
    /* raw bytes of broken UTF-8 pass cJSON; positions then come from the text's tokens */
    {JHDR "  \"build\": {\"command\": \"make\", \"env\": {\"K\xff\": \"x\"}}}}",
     "spec.build.env.K\\xff", 4, 40, "keys must be valid UTF-8"},
    {JHDR "  \"build\": {\"command\": \"make\", \"env\": {\"C\": \"y\xc3\"}}}}", "spec.build.env.C",
     4, 45, "is not valid UTF-8"},
    {JHDR "  \"build\": {\"command\": \"\\udc00\"}}}", "", 4, 25, "JSON syntax error"},
    /* 70: serve.replicas */
    {HDR GIT "  serve: {replicas: 0}\n", "spec.serve.replicas", 8, 21,
     "must be between 1 and 5 (got 0)"},
    {HDR GIT "  serve: {replicas: 6}\n", "spec.serve.replicas", 8, 21,
     "must be between 1 and 5 (got 6)"},
    {HDR GIT "  serve: {replicas: \"2\"}\n", "spec.serve.replicas", 8, 21,
     "expected an integer, got a string"},
    {HDR GIT "  serve: {replica: 2}\n", "spec.serve.replica", 8, 11, "did you mean \"replicas\"?"},
    /* previews */
    {HDR GIT "  previews: {pullRequests: yes-please}\n", "spec.previews.pullRequests", 8, 28,
     "expected a boolean"},
    {HDR GIT "  previews: {branches: staging}\n", "spec.previews.branches", 8, 24,
     "expected a sequence"},
    {HDR GIT "  previews: {branches: [\"re lease/*\"]}\n", "spec.previews.branches.0", 8, 25,
     "letters, digits"},
    {HDR GIT "  previews: {max: 0}\n", "spec.previews.max", 8, 19, "must be between 1 and 50"},
    {HDR GIT "  previews: {forks: true}\n", "spec.previews.forks", 8, 14, "unknown field"},
};

START_TEST(test_invalid_manifest)
{
	const struct bad_case *c = &bad_cases[_i];
	lp_site_list list = {0};
	lp_spec_diags d;
	lp_error err = {0};
	size_t k;
	int found = 0, rc;
	char *text;

	lp_spec_diags_init(&d);
	rc = lp_spec_parse(&list, c->yaml, strlen(c->yaml), &strict, &d, &err);
	text = diags_text(&d);
	ck_assert_msg(rc == LP_EINVAL, "case %d: rc %d, diags:\n%s", _i, rc, text);
	ck_assert_uint_eq(list.count, 0);
	ck_assert_ptr_null(list.items);
	ck_assert_uint_ge(d.count, 1);
	ck_assert_msg(strstr(err.message, "invalid manifest") != NULL, "%s", err.message);
	for (k = 0; k < d.count; k++) {
		const lp_spec_diag *it = &d.items[k];

		if (!strcmp(it->path, c->path) && it->line == c->line && it->column == c->col &&
		    strstr(it->message, c->message) != NULL)
			found = 1;
	}
	ck_assert_msg(found, "case %d: want %d:%d: %s: ...%s..., got:\n%s", _i, c->line, c->col,
	              c->path, c->message, text);
	free(text);
	lp_spec_diags_release(&d);
}
END_TEST

START_TEST(test_every_error_reported)
{
	size_t len;
	char *data = read_src("tests/unit/manifests/invalid/many-errors.yaml", &len), *text;
	lp_site_list list = {0};
	lp_spec_diags d;
	const char *want = "t:4:9: metadata.name: must be a DNS label: lowercase letters, digits "
	                   "and '-', starting and ending with a letter or digit\n"
	                   "t:8:12: spec.source.git.url: http:// URLs are only allowed with "
	                   "--allow-insecure-sources\n"
	                   "t:11:5: spec.build.comand: unknown field \"comand\" (did you mean "
	                   "\"command\"?)\n"
	                   "t:12:16: spec.build.outputDir: must not contain \"..\"\n"
	                   "t:15:13: spec.build.env.PORT: expected a string, got an integer (quote "
	                   "it)\n"
	                   "t:16:21: spec.build.timeoutSeconds: must be between 1 and 7200 (got "
	                   "90000)\n"
	                   "t:17:15: spec.autoDeploy: expected a boolean (true or false), got a "
	                   "string\n";

	lp_spec_diags_init(&d);
	ck_assert_int_eq(lp_spec_parse(&list, data, len, NULL, &d, NULL), LP_EINVAL);
	text = diags_text(&d);
	ck_assert_str_eq(text, want);
	ck_assert_int_eq(d.items[0].document, 1);
	free(text);
	free(data);
	lp_spec_diags_release(&d);
}
END_TEST

/* ---- defaults and field values ---- */

START_TEST(test_defaults)
{
	lp_site *s = parse_one(HDR GIT);

	ck_assert_str_eq(s->name, "ok");
	ck_assert_int_eq(s->source_kind, LP_SOURCE_GIT);
	ck_assert_str_eq(s->git_url, "https://github.com/a/b");
	ck_assert_str_eq(s->git_branch, "main");
	ck_assert_ptr_null(s->archive_digest);
	ck_assert_int_eq(s->has_build, 0);
	ck_assert_ptr_null(s->build_command);
	ck_assert_int_eq(s->auto_deploy, 0);
	ck_assert_int_eq(s->serve_spa, 0);
	ck_assert_ptr_null(s->serve_not_found_page);
	ck_assert_int_eq(s->revision_history_limit, 5);
	ck_assert_int_eq(s->serve_replicas, 1);
	lp_site_free(s);

	s = parse_one(HDR GIT "  build:\n    command: make\n  serve: {}\n  autoDeploy: null\n");
	ck_assert_int_eq(s->has_build, 1);
	ck_assert_ptr_null(s->build_image);
	ck_assert_str_eq(s->build_command, "make");
	ck_assert_str_eq(s->build_output_dir, "dist");
	ck_assert_uint_eq(s->build_env_count, 0);
	ck_assert_int_eq(s->build_timeout_seconds, 900);
	ck_assert_int_eq(s->auto_deploy, 0);
	lp_site_free(s);
	lp_site_free(NULL);
}
END_TEST

START_TEST(test_example_fields)
{
	size_t len;
	char *data = read_src("examples/git-npm.yaml", &len);
	lp_site *s;

	s = parse_one(data);
	ck_assert_str_eq(s->name, "graceful-fox");
	ck_assert_str_eq(s->build_image, "node:20-alpine");
	ck_assert_str_eq(s->build_command, "npm ci && npm run build");
	ck_assert_uint_eq(s->build_env_count, 2);
	ck_assert_str_eq(s->build_env[0].name, "NODE_ENV");
	ck_assert_str_eq(s->build_env[0].value, "production");
	ck_assert_str_eq(s->build_env[1].name, "VITE_API_URL");
	ck_assert_int_eq(s->auto_deploy, 1);
	lp_site_free(s);
	free(data);

	data = read_src("examples/archive.yaml", &len);
	s = parse_one(data);
	ck_assert_int_eq(s->source_kind, LP_SOURCE_ARCHIVE);
	ck_assert_str_eq(s->archive_digest, "sha256:" Z64);
	ck_assert_ptr_null(s->git_url);
	ck_assert_str_eq(s->serve_not_found_page, "404.html");
	lp_site_free(s);
	free(data);
}
END_TEST

START_TEST(test_insecure_option)
{
	const char *http = HDR "  source:\n    git: {url: \"http://git.local/a\"}\n";
	const char *file = HDR "  source:\n    git: {url: \"file:///srv/git/a\"}\n";
	const char *rel = HDR "  source:\n    git: {url: \"file://srv/git/a\"}\n";
	lp_spec_options open = {.allow_insecure_sources = 1};
	lp_site_list list = {0};
	lp_spec_diags d;

	lp_spec_diags_init(&d);
	ck_assert_int_eq(lp_spec_parse(&list, http, strlen(http), &open, &d, NULL), LP_OK);
	lp_site_list_release(&list);
	ck_assert_int_eq(lp_spec_parse(&list, file, strlen(file), &open, &d, NULL), LP_OK);
	ck_assert_str_eq(list.items[0]->git_url, "file:///srv/git/a");
	lp_site_list_release(&list);
	ck_assert_uint_eq(d.count, 0);
	ck_assert_int_eq(lp_spec_parse(&list, rel, strlen(rel), &open, &d, NULL), LP_EINVAL);
	ck_assert_uint_eq(d.count, 1);
	ck_assert_ptr_nonnull(strstr(d.items[0].message, "absolute path"));
	ck_assert_int_eq(lp_spec_parse(&list, http, strlen(http), NULL, &d, NULL), LP_EINVAL);
	lp_spec_diags_release(&d);
}
END_TEST

/* ---- caps ---- */

static int parse_rc(const char *text, size_t len, const char *want_msg)
{
	lp_site_list list = {0};
	lp_spec_diags d;
	int rc;
	char *t;

	lp_spec_diags_init(&d);
	rc = lp_spec_parse(&list, text, len, NULL, &d, NULL);
	t = diags_text(&d);
	if (want_msg != NULL)
		ck_assert_msg(strstr(t, want_msg) != NULL, "want %s in:\n%s", want_msg, t);
	free(t);
	lp_site_list_release(&list);
	lp_spec_diags_release(&d);
	return rc;
}

START_TEST(test_caps)
{
	size_t big = LP_SPEC_MAX_INPUT + 1, i, cap = big + 100000;
	char *buf = malloc(cap);
	int n;

/* Append at n, within the buffer. */
#define PUT(...) (n += snprintf(buf + n, cap - (size_t)n, __VA_ARGS__))

	/* Oversized input. */
	memset(buf, '#', big);
	ck_assert_int_eq(parse_rc(buf, big, "input is larger than 1048576 bytes"), LP_ETOOBIG);
	/* Nesting. */
	n = 0;
	for (i = 0; i < 40; i++)
		buf[n++] = '[';
	ck_assert_int_eq(parse_rc(buf, (size_t)n, "nesting deeper than 16 levels"), LP_EINVAL);
	/* Long command. */
	n = 0;
	PUT(HDR GIT "  build:\n    command: \"");
	memset(buf + n, 'x', LP_SITE_COMMAND_MAX + 1);
	n += LP_SITE_COMMAND_MAX + 1;
	PUT("\"\n");
	ck_assert_int_eq(parse_rc(buf, (size_t)n, "must be at most 8192 bytes (got 8193)"),
	                 LP_EINVAL);
	/* Long URL. */
	n = 0;
	PUT(HDR "  source:\n    git: {url: \"https://a/");
	memset(buf + n, 'x', LP_SITE_URL_MAX);
	n += LP_SITE_URL_MAX;
	PUT("\"}\n");
	ck_assert_int_eq(parse_rc(buf, (size_t)n, "spec.source.git.url: must be at most 2048"),
	                 LP_EINVAL);
	/* Long env value, and too many variables. */
	n = 0;
	PUT(HDR GIT "  build:\n    command: make\n    env:\n      A: \"");
	memset(buf + n, 'v', LP_SITE_ENV_VALUE_MAX + 1);
	n += LP_SITE_ENV_VALUE_MAX + 1;
	PUT("\"\n");
	ck_assert_int_eq(parse_rc(buf, (size_t)n, "spec.build.env.A: must be at most 4096 bytes"),
	                 LP_EINVAL);
	n = 0;
	PUT(HDR GIT "  build:\n    command: make\n    env:\n");
	for (i = 0; i <= LP_SITE_ENV_MAX; i++)
		PUT("      V%zu: x\n", i);
	ck_assert_int_eq(parse_rc(buf, (size_t)n, "at most 100 variables are allowed (got 101)"),
	                 LP_EINVAL);
	/* Exactly 100 is fine. */
	n = 0;
	PUT(HDR GIT "  build:\n    command: make\n    env:\n");
	for (i = 0; i < LP_SITE_ENV_MAX; i++)
		PUT("      V%zu: x\n", i);
	ck_assert_int_eq(parse_rc(buf, (size_t)n, NULL), LP_OK);
	/* Too many documents. */
	n = 0;
	for (i = 0; i <= LP_SPEC_MAX_DOCUMENTS; i++)
		PUT("---\nx: 1\n");
	ck_assert_int_eq(parse_rc(buf, (size_t)n, "t:201:1: more than 100 documents"), LP_EINVAL);
	/* Too many nodes. */
	n = 0;
	PUT("[");
	for (i = 0; i < LP_SPEC_MAX_NODES; i++)
		PUT("1,");
	PUT("1]");
	ck_assert_int_eq(parse_rc(buf, (size_t)n, "more than 20000 nodes"), LP_EINVAL);
	free(buf);
#undef PUT
}
END_TEST

START_TEST(test_bad_utf8_and_empty)
{
	const char *bad = HDR GIT "  build:\n    command: \"caf\xC3\"\n";

	ck_assert_int_eq(parse_rc(bad, strlen(bad), "t:9:"), LP_EINVAL);
	ck_assert_int_eq(parse_rc("", 0, "t:1:1: no Site document found"), LP_EINVAL);
	ck_assert_int_eq(parse_rc("# only a comment\n---\n", 21, "no Site document found"),
	                 LP_EINVAL);
	/* JSON strings are not checked by libyaml: the validator catches bad UTF-8 there. */
	bad =
	    "{\"apiVersion\":\"launchpad.dev/v1\",\"kind\":\"Site\",\"metadata\":{\"name\":\"ok\"},"
	    "\"spec\":{\"source\":{\"git\":{\"url\":\"https://a/\xFF\"}}}}";
	ck_assert_int_eq(parse_rc(bad, strlen(bad), "spec.source.git.url: is not valid UTF-8"),
	                 LP_EINVAL);
}
END_TEST

START_TEST(test_nul_bytes)
{
	static const char raw_after[] = JHDR "  \"build\": {\"command\": \"make\"}}}\0 {}";
	static const char raw_inside[] = JHDR "  \"build\": {\"command\": \"ma\0ke\"}}}";
	static const char raw_yaml[] = HDR GIT "  autoDeploy: true\0\n";
	/* An escaped backslash before "u0000" is text, not a NUL. */
	const char *escaped = JHDR "  \"build\": {\"command\": \"echo a\\\\u0000\"}}}";
	lp_site *s = parse_one(escaped);

	ck_assert_str_eq(s->build_command, "echo a\\u0000");
	lp_site_free(s);
	/* status is still ignored but for its text: duplicate keys, any shape */
	lp_site_free(parse_one(HDR GIT "status: {phase: live, phase: x, l: [a, {b: [1]}], "
	                               "? [k]\n : v}\n"));
	/* A raw NUL: cJSON would take the text before it for the whole */
	ck_assert_int_eq(
	    parse_rc(raw_after, sizeof(raw_after) - 1, "t:4:33: the input contains a NUL byte"),
	    LP_EINVAL);
	ck_assert_int_eq(
	    parse_rc(raw_inside, sizeof(raw_inside) - 1, "t:4:27: the input contains a NUL byte"),
	    LP_EINVAL);
	ck_assert_int_eq(parse_rc(raw_yaml, sizeof(raw_yaml) - 1,
	                          "t:8:19: YAML syntax error: control characters"),
	                 LP_EINVAL);
}
END_TEST

/* The fallback when a text and a tree do not line up: an escaped NUL still refuses the input. */
START_TEST(test_json_strings_unaligned)
{
	const char *other = "{\"a\": \"b\", \"c\": \"\\u0000\"}";
	cJSON *json = cJSON_Parse("{\"a\": \"b\"}");
	lp_node *tree = NULL;
	lp_spec_diags d;

	lp_spec_diags_init(&d);
	ck_assert_int_eq(lp_node_from_cjson(&tree, json, &d), LP_OK);
	ck_assert_int_eq(lp_node_json_strings(tree, "{\"a\": \"b\", \"c\": 1}", 19, &d), LP_OK);
	ck_assert_uint_eq(d.count, 0);
	ck_assert_int_eq(lp_node_json_strings(tree, other, strlen(other), &d), LP_EINVAL);
	ck_assert_uint_eq(d.count, 1);
	ck_assert_int_eq(d.items[0].column, 17);
	ck_assert_ptr_nonnull(strstr(d.items[0].message, "NUL"));
	/* lined up: the nodes get the tokens' positions */
	ck_assert_int_eq(lp_node_json_strings(tree, "{\"a\":\n \"b\"}", 12, &d), LP_OK);
	ck_assert_int_eq(tree->items[1]->line, 2);
	ck_assert_int_eq(tree->items[1]->col, 2);
	lp_node_free(tree);
	cJSON_Delete(json);
	lp_spec_diags_release(&d);
}
END_TEST

/* ---- multiple documents ---- */

START_TEST(test_multi_document)
{
	size_t len;
	char *data = read_src("examples/multi.yaml", &len), *text;
	lp_site_list list = {0};
	lp_spec_diags d;

	lp_spec_diags_init(&d);
	ck_assert_int_eq(lp_spec_parse(&list, data, len, NULL, &d, NULL), LP_OK);
	ck_assert_uint_eq(list.count, 3);
	ck_assert_str_eq(list.items[0]->name, "handbook");
	ck_assert_str_eq(list.items[0]->git_branch, "release/2024");
	ck_assert_str_eq(list.items[1]->name, "landing");
	ck_assert_int_eq(list.items[1]->has_build, 0);
	ck_assert_str_eq(list.items[2]->name, "blog");
	ck_assert_str_eq(list.items[2]->build_command, "npm ci\nnpm run build\n");
	lp_site_list_release(&list);
	free(data);

	data = read_src("tests/unit/manifests/invalid/multi.yaml", &len);
	ck_assert_int_eq(lp_spec_parse(&list, data, len, NULL, &d, NULL), LP_EINVAL);
	ck_assert_uint_eq(list.count, 0);
	text = diags_text(&d);
	ck_assert_str_eq(text, "t:13:30: spec.source.archive.digest: must be \"sha256:\" followed "
	                       "by 64 lowercase hex digits\n"
	                       "t:18:9: metadata.name: duplicate site name \"alpha\" (also in "
	                       "document 1, line 4)\n");
	ck_assert_int_eq(d.items[0].document, 2);
	ck_assert_int_eq(d.items[1].document, 3);
	free(text);
	free(data);
	lp_spec_diags_release(&d);

	/* Empty documents are skipped; a broken later document keeps earlier positions. */
	text = "---\n---\n" HDR GIT "---\n" HDR GIT;
	ck_assert_int_eq(parse_rc(text, strlen(text), "t:14:9: metadata.name: duplicate site name"),
	                 LP_EINVAL);
	text = HDR GIT "---\n" HDR "  source: [\n";
	ck_assert_int_eq(parse_rc(text, strlen(text), "t:15:1: YAML syntax error"), LP_EINVAL);
}
END_TEST

/* ---- JSON ---- */

static const char *json_doc =
    "{\"apiVersion\":\"launchpad.dev/"
    "v1\",\"kind\":\"Site\",\"metadata\":{\"name\":\"graceful-fox\"},"
    "\"spec\":{\"source\":{\"git\":{\"url\":\"https://github.com/vitejs/vite-plugin-react\","
    "\"branch\":\"main\"}},\"build\":{\"image\":\"node:20-alpine\",\"command\":\"npm ci && npm run "
    "build\",\"outputDir\":\"dist\",\"env\":{\"VITE_API_URL\":\"https://api.example.com\","
    "\"NODE_ENV\":\"production\"},\"timeoutSeconds\":900},\"autoDeploy\":true,"
    "\"revisionHistoryLimit\":5}}";

START_TEST(test_json_same_as_yaml)
{
	size_t len;
	char *yaml = read_src("examples/git-npm.yaml", &len);
	lp_site *from_yaml = parse_one(yaml), *from_json = parse_one(json_doc), *from_tree = NULL;
	cJSON *tree = cJSON_Parse(json_doc);
	lp_spec_diags d;

	ck_assert(site_equal(from_yaml, from_json));
	lp_spec_diags_init(&d);
	ck_assert_int_eq(lp_spec_from_cjson(&from_tree, tree, NULL, &d, NULL), LP_OK);
	ck_assert(site_equal(from_yaml, from_tree));
	lp_site_free(from_tree);
	/* A tree has no positions: diagnostics say 0, and format them as 1:1. */
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(tree, "spec"), "autoDeploy",
	                          cJSON_CreateString("yes"));
	ck_assert_int_eq(lp_spec_from_cjson(&from_tree, tree, NULL, &d, NULL), LP_EINVAL);
	ck_assert_ptr_null(from_tree);
	ck_assert_uint_eq(d.count, 1);
	ck_assert_str_eq(d.items[0].path, "spec.autoDeploy");
	ck_assert_int_eq(d.items[0].line, 0);
	cJSON_Delete(tree);
	lp_spec_diags_release(&d);
	lp_site_free(from_yaml);
	lp_site_free(from_json);
	free(yaml);
}
END_TEST

START_TEST(test_json_errors)
{
	size_t len;
	char *data = read_src("tests/unit/manifests/invalid/semantic.json", &len), *text;
	lp_site_list list = {0};
	lp_spec_diags d;
	const char *j;

	lp_spec_diags_init(&d);
	ck_assert_int_eq(lp_spec_parse(&list, data, len, NULL, &d, NULL), LP_EINVAL);
	text = diags_text(&d);
	ck_assert_str_eq(text, "t:7:52: spec.build.timeoutSeconds: expected an integer, got a "
	                       "string\nt:8:28: spec.serve.notfoundPage: unknown field "
	                       "\"notfoundPage\" (did you mean \"notFoundPage\"?)\n");
	free(text);
	free(data);
	lp_spec_diags_release(&d);

	j = "{\n  \"apiVersion\": \"launchpad.dev/v1\",\n  \"kind\": \"Site\" \"x\"\n}";
	ck_assert_int_eq(parse_rc(j, strlen(j), "t:3:18: JSON syntax error near '\"x\"'"),
	                 LP_EINVAL);
	j = "{\"apiVersion\": ";
	ck_assert_int_eq(parse_rc(j, strlen(j), "JSON syntax error: unexpected end of input"),
	                 LP_EINVAL);
	j = "{\"a\": 1} trailing";
	ck_assert_int_eq(parse_rc(j, strlen(j), "t:1:10: JSON syntax error"), LP_EINVAL);
	j = "  {\"kind\": \"Site\", \"kind\": \"Site\"}";
	ck_assert_int_eq(parse_rc(j, strlen(j), "t:1:20: kind: duplicate key \"kind\""), LP_EINVAL);
}
END_TEST

/* ---- previews ---- */

/* previews parse with their defaults; absent, the canonical form (and hash) has none. */
START_TEST(test_previews)
{
	lp_site *plain = parse_one(HDR GIT);
	lp_site *p = parse_one(HDR GIT "  previews:\n    pullRequests: true\n"
	                               "    branches: [staging, \"release/*\"]\n");
	lp_site *copy = NULL;
	char *json = NULL, hash_plain[LP_SHA256_HEX_LEN], hash_p[LP_SHA256_HEX_LEN];

	ck_assert_int_eq(lp_site_to_json(&json, plain, NULL), LP_OK);
	ck_assert_ptr_null(strstr(json, "previews"));
	free(json);
	ck_assert_int_eq(p->has_previews, 1);
	ck_assert_int_eq(p->previews_pull_requests, 1);
	ck_assert_int_eq(p->previews_fork_env, 0);
	ck_assert_int_eq(p->previews_max, LP_SITE_DEFAULT_PREVIEWS);
	ck_assert_uint_eq(p->previews_branch_count, 2);
	ck_assert_int_eq(lp_site_to_json(&json, p, NULL), LP_OK);
	ck_assert_ptr_nonnull(strstr(json, "\"previews\":{\"pullRequests\":true,\"branches\":["
	                                   "\"staging\",\"release/*\"],\"forkEnv\":false,"
	                                   "\"max\":5}"));
	free(json);
	ck_assert_int_eq(lp_site_spec_hash(hash_plain, plain, NULL), LP_OK);
	ck_assert_int_eq(lp_site_spec_hash(hash_p, p, NULL), LP_OK);
	ck_assert_str_ne(hash_plain, hash_p);
	ck_assert(lp_site_preview_branch(p, "staging"));
	ck_assert(lp_site_preview_branch(p, "release/1.2"));
	ck_assert(!lp_site_preview_branch(p, "feature/x"));
	ck_assert(!lp_site_preview_branch(p, "staging2"));
	ck_assert(!lp_site_preview_branch(plain, "staging"));
	ck_assert_int_eq(lp_site_dup(&copy, p, NULL), LP_OK);
	ck_assert(site_equal(copy, p));
	lp_site_free(copy);
	lp_site_free(plain);
	lp_site_free(p);
}
END_TEST

/* ---- canonical forms ---- */

static void check_round_trip(const char *text)
{
	lp_site *a = parse_one(text), *b, *c;
	char *ja = NULL, *jb = NULL, *ya = NULL, *yc = NULL, *jc = NULL;

	ck_assert_int_eq(lp_site_to_json(&ja, a, NULL), LP_OK);
	b = parse_one(ja);
	ck_assert_int_eq(lp_site_to_json(&jb, b, NULL), LP_OK);
	ck_assert_str_eq(ja, jb);
	ck_assert(site_equal(a, b));

	ck_assert_int_eq(lp_site_to_yaml(&ya, a, NULL), LP_OK);
	c = parse_one(ya);
	ck_assert_int_eq(lp_site_to_yaml(&yc, c, NULL), LP_OK);
	ck_assert_str_eq(ya, yc);
	ck_assert_int_eq(lp_site_to_json(&jc, c, NULL), LP_OK);
	ck_assert_str_eq(ja, jc);
	free(ja);
	free(jb);
	free(jc);
	free(ya);
	free(yc);
	lp_site_free(a);
	lp_site_free(b);
	lp_site_free(c);
}

START_TEST(test_round_trip)
{
	static const char *const files[] = {"examples/git-npm.yaml", "examples/archive.yaml",
	                                    "examples/spa.yaml",
	                                    "tests/unit/manifests/valid/tricky.yaml"};
	size_t i, len;
	char *data;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		data = read_src(files[i], &len);
		check_round_trip(data);
		free(data);
	}
	check_round_trip(HDR GIT);
	check_round_trip(json_doc);
}
END_TEST

START_TEST(test_tricky_strings_survive)
{
	size_t len;
	char *data = read_src("tests/unit/manifests/valid/tricky.yaml", &len), *yaml = NULL;
	lp_site *a = parse_one(data), *b;
	size_t i;

	ck_assert_str_eq(a->name, "123");
	ck_assert_str_eq(a->git_branch, "1.0");
	ck_assert_int_eq(a->revision_history_limit, 10);
	ck_assert_uint_eq(a->build_env_count, 16);
	for (i = 1; i < a->build_env_count; i++)
		ck_assert_int_lt(strcmp(a->build_env[i - 1].name, a->build_env[i].name), 0);
	ck_assert_int_eq(lp_site_to_yaml(&yaml, a, NULL), LP_OK);
	/* Values another YAML reader could take for booleans, nulls or numbers are quoted. */
	ck_assert_ptr_nonnull(strstr(yaml, "name: \"123\"\n"));
	ck_assert_ptr_nonnull(strstr(yaml, "\"YES\": \"yes\"\n"));
	ck_assert_ptr_nonnull(strstr(yaml, "NUL_WORD: \"null\"\n"));
	ck_assert_ptr_nonnull(strstr(yaml, "TILDE: \"~\"\n"));
	ck_assert_ptr_nonnull(strstr(yaml, "revisionHistoryLimit: 10\n"));
	b = parse_one(yaml);
	ck_assert(site_equal(a, b));
	free(yaml);
	free(data);
	lp_site_free(a);
	lp_site_free(b);
}
END_TEST

START_TEST(test_canonical_json_exact)
{
	lp_site *s = parse_one(HDR "  serve: {notFoundPage: 404.html, spa: true}\n"
	                           "  build:\n    env: {B: \"2\", A: \"1\"}\n    command: make\n"
	                           "  source:\n    archive: {digest: \"sha256:" Z64 "\"}\n");
	char *json = NULL, *yaml = NULL;

	ck_assert_int_eq(lp_site_to_json(&json, s, NULL), LP_OK);
	ck_assert_str_eq(json,
	                 "{\"apiVersion\":\"launchpad.dev/v1\",\"kind\":\"Site\",\"metadata\":{"
	                 "\"name\":\"ok\"},\"spec\":{\"source\":{\"archive\":{\"digest\":"
	                 "\"sha256:" Z64 "\"}},\"build\":{\"command\":\"make\",\"outputDir\":"
	                 "\"dist\",\"env\":{\"A\":\"1\",\"B\":\"2\"},\"timeoutSeconds\":900},"
	                 "\"autoDeploy\":false,\"serve\":{\"spa\":true,\"notFoundPage\":\"404."
	                 "html\"},\"revisionHistoryLimit\":5}}");
	ck_assert_int_eq(lp_site_to_yaml(&yaml, s, NULL), LP_OK);
	ck_assert_str_eq(yaml, "apiVersion: launchpad.dev/v1\n"
	                       "kind: Site\n"
	                       "metadata:\n"
	                       "  name: ok\n"
	                       "spec:\n"
	                       "  source:\n"
	                       "    archive:\n"
	                       "      digest: sha256:" Z64 "\n"
	                       "  build:\n"
	                       "    command: make\n"
	                       "    outputDir: dist\n"
	                       "    env:\n"
	                       "      A: \"1\"\n"
	                       "      B: \"2\"\n"
	                       "    timeoutSeconds: 900\n"
	                       "  autoDeploy: false\n"
	                       "  serve:\n"
	                       "    spa: true\n"
	                       "    notFoundPage: \"404.html\"\n"
	                       "  revisionHistoryLimit: 5\n");
	free(json);
	free(yaml);
	lp_site_free(s);
}
END_TEST

static void hash_of(char out[LP_SHA256_HEX_LEN], const lp_site *s);

/* Replicas: in the canonical form only when not 1, so specs stored before it keep their hash. */
START_TEST(test_replicas_canonical)
{
	lp_site *one = parse_one(HDR GIT "  serve: {replicas: 1}\n"), *none = parse_one(HDR GIT);
	lp_site *three = parse_one(HDR GIT "  serve: {replicas: 3}\n"), *again;
	char h1[LP_SHA256_HEX_LEN], h0[LP_SHA256_HEX_LEN], h3[LP_SHA256_HEX_LEN];
	char *json = NULL, *yaml = NULL;

	ck_assert_int_eq(one->serve_replicas, 1);
	ck_assert_int_eq(three->serve_replicas, 3);
	hash_of(h1, one);
	hash_of(h0, none);
	hash_of(h3, three);
	ck_assert_str_eq(h1, h0);
	ck_assert_str_ne(h3, h0);
	ck_assert_int_eq(lp_site_to_json(&json, one, NULL), LP_OK);
	ck_assert_ptr_null(strstr(json, "replicas"));
	free(json);
	ck_assert_int_eq(lp_site_to_json(&json, three, NULL), LP_OK);
	ck_assert_ptr_nonnull(strstr(json, "\"serve\":{\"spa\":false,\"replicas\":3}"));
	ck_assert_int_eq(lp_site_to_yaml(&yaml, three, NULL), LP_OK);
	ck_assert_ptr_nonnull(strstr(yaml, "  serve:\n    spa: false\n    replicas: 3\n"));
	again = parse_one(yaml);
	ck_assert(site_equal(again, three));
	/* A struct built in code leaves it 0: that is the default, and valid. */
	again->serve_replicas = 0;
	hash_of(h3, again);
	ck_assert_str_eq(h3, h0);
	free(json);
	free(yaml);
	lp_site_free(again);
	lp_site_free(one);
	lp_site_free(none);
	lp_site_free(three);
}
END_TEST

START_TEST(test_list_yaml_round_trip)
{
	size_t len, i;
	char *data = read_src("examples/multi.yaml", &len), *yaml = NULL;
	lp_site_list a = {0}, b = {0};

	ck_assert_int_eq(lp_spec_parse(&a, data, len, NULL, NULL, NULL), LP_OK);
	ck_assert_int_eq(lp_site_list_to_yaml(&yaml, &a, NULL), LP_OK);
	ck_assert_ptr_nonnull(strstr(yaml, "\n---\n"));
	ck_assert_int_eq(lp_spec_parse(&b, yaml, strlen(yaml), NULL, NULL, NULL), LP_OK);
	ck_assert_uint_eq(b.count, 3);
	for (i = 0; i < 3; i++)
		ck_assert(site_equal(a.items[i], b.items[i]));
	lp_site_list_release(&a);
	lp_site_list_release(&b);
	free(yaml);
	free(data);
}
END_TEST

/* ---- the spec hash ---- */

static void hash_of(char out[LP_SHA256_HEX_LEN], const lp_site *s)
{
	ck_assert_int_eq(lp_site_spec_hash(out, s, NULL), LP_OK);
	ck_assert_uint_eq(strlen(out), 64);
}

static void set(char **field, const char *value)
{
	free(*field);
	*field = value ? strdup(value) : NULL;
}

START_TEST(test_spec_hash)
{
	size_t len;
	char *data = read_src("examples/git-npm.yaml", &len), *spa = NULL;
	char base[LP_SHA256_HEX_LEN], h[LP_SHA256_HEX_LEN], seen[20][LP_SHA256_HEX_LEN];
	lp_site *orig = parse_one(data), *s = NULL, *reordered;
	int m, k;

	hash_of(base, orig);
	/* The name is metadata: renaming keeps the hash. */
	ck_assert_int_eq(lp_site_dup(&s, orig, NULL), LP_OK);
	set(&s->name, "another-name");
	hash_of(h, s);
	ck_assert_str_eq(h, base);
	lp_site_free(s);
	/* Env order in the file does not matter (a mapping has none). */
	reordered = parse_one(HDR "  source:\n    git:\n      url: "
	                          "https://github.com/vitejs/vite-plugin-react\n  build:\n"
	                          "    env: {VITE_API_URL: \"https://api.example.com\", NODE_ENV: "
	                          "production}\n    command: npm ci && npm run build\n"
	                          "    image: node:20-alpine\n  autoDeploy: true\n");
	hash_of(h, reordered);
	ck_assert_str_eq(h, base);
	lp_site_free(reordered);
	/* Every spec field changes it, each to a different value. */
	for (m = 0; m < 17; m++) {
		ck_assert_int_eq(lp_site_dup(&s, orig, NULL), LP_OK);
		switch (m) {
		case 0:
			set(&s->git_url, "https://github.com/vitejs/other");
			break;
		case 1:
			set(&s->git_branch, "dev");
			break;
		case 2:
			s->source_kind = LP_SOURCE_ARCHIVE;
			set(&s->archive_digest, "sha256:" Z64);
			break;
		case 3:
			set(&s->build_image, NULL);
			break;
		case 4:
			set(&s->build_command, "npm run build");
			break;
		case 5:
			set(&s->build_output_dir, "build");
			break;
		case 6:
			set(&s->build_env[0].value, "development");
			break;
		case 7:
			set(&s->build_env[1].name, "VITE_API");
			break;
		case 8:
			s->build_env_count = 1;
			break;
		case 9:
			s->build_timeout_seconds = 901;
			break;
		case 10:
			s->auto_deploy = 0;
			break;
		case 11:
			s->serve_spa = 1;
			break;
		case 12:
			set(&s->serve_not_found_page, "404.html");
			break;
		case 13:
			s->revision_history_limit = 6;
			break;
		case 14:
			s->has_build = 0;
			break;
		case 15:
			s->serve_replicas = 2;
			break;
		default:
			set(&s->git_url, "https://github.com/vitejs/vite-plugin-react/");
			break;
		}
		hash_of(seen[m], s);
		ck_assert_str_ne(seen[m], base);
		for (k = 0; k < m; k++)
			ck_assert_msg(strcmp(seen[k], seen[m]) != 0, "mutations %d and %d collide",
			              k, m);
		/* build_env_count = 1 hides the second variable: put it back so free() sees it. */
		if (m == 8)
			s->build_env_count = 2;
		lp_site_free(s);
	}
	/* The hash is the SHA-256 of the canonical spec object. */
	ck_assert_int_eq(lp_site_to_json(&spa, orig, NULL), LP_OK);
	{
		const char *spec = strstr(spa, "\"spec\":") + 7;
		size_t n = strlen(spec) - 1;

		lp_crypto_sha256_hex(h, spec, n);
		ck_assert_str_eq(h, base);
	}
	free(spa);
	free(data);
	lp_site_free(orig);
}
END_TEST

/* ---- single rules and struct validation ---- */

/* Secrets: the object form in, the sealed form at rest, the hash by fingerprint only. */
START_TEST(test_secret_env)
{
	lp_site *s = parse_one(HDR GIT "  build:\n    command: make\n    env:\n"
	                               "      PLAIN: p\n      KEY: {value: hunter2, secret: true}\n"
	                               "      OPEN: {value: o}\n");
	lp_site *again = NULL;
	char *json = NULL, h1[LP_SHA256_HEX_LEN], h2[LP_SHA256_HEX_LEN];
	lp_error err = {0};
	size_t i;

	ck_assert_uint_eq(s->build_env_count, 3);
	/* sorted: KEY, OPEN, PLAIN */
	ck_assert_str_eq(s->build_env[0].name, "KEY");
	ck_assert_int_eq(s->build_env[0].secret, 1);
	ck_assert_str_eq(s->build_env[0].value, "hunter2");
	ck_assert_int_eq(s->build_env[1].secret, 0);
	ck_assert_str_eq(s->build_env[1].value, "o");
	/* unsealed, the canonical form keeps the object form (a client's manifest) */
	ck_assert_int_eq(lp_site_to_json(&json, s, &err), LP_OK);
	ck_assert_ptr_nonnull(strstr(json, "\"KEY\":{\"value\":\"hunter2\",\"secret\":true}"));
	ck_assert_ptr_nonnull(strstr(json, "\"OPEN\":\"o\""));
	free(json);
	/* sealed as the server does it: the value gone, sealed and fingerprint in its place */
	free(s->build_env[0].value);
	s->build_env[0].value = NULL;
	s->build_env[0].sealed = strdup("lpsec1:1:AAAA");
	s->build_env[0].fingerprint = strdup("f1");
	ck_assert_int_eq(lp_site_to_json(&json, s, &err), LP_OK);
	ck_assert_ptr_null(strstr(json, "hunter2"));
	ck_assert_ptr_nonnull(strstr(
	    json, "\"KEY\":{\"secret\":true,\"sealed\":\"lpsec1:1:AAAA\",\"fingerprint\":\"f1\"}"));
	ck_assert_int_eq(lp_spec_parse_json(&again, json, strlen(json), &strict, NULL, &err),
	                 LP_OK);
	ck_assert_str_eq(again->build_env[0].sealed, "lpsec1:1:AAAA");
	ck_assert_ptr_null(again->build_env[0].value);
	free(json);
	/* another sealed text (a fresh nonce, a new key) keeps the hash; another fingerprint not */
	hash_of(h1, again);
	free(again->build_env[0].sealed);
	again->build_env[0].sealed = strdup("lpsec1:2:BBBB");
	hash_of(h2, again);
	ck_assert_str_eq(h1, h2);
	free(again->build_env[0].fingerprint);
	again->build_env[0].fingerprint = strdup("f2");
	hash_of(h2, again);
	ck_assert_str_ne(h1, h2);
	for (i = 0; i < again->build_env_count; i++)
		ck_assert(!again->build_env[i].secret || again->build_env[i].value == NULL);
	lp_site_free(again);
	lp_site_free(s);
}
END_TEST

START_TEST(test_rules)
{
	lp_error err = {0};

	ck_assert_int_eq(lp_spec_check_name("graceful-fox", &err), LP_OK);
	ck_assert_int_eq(lp_spec_check_name("a", &err), LP_OK);
	ck_assert_int_eq(lp_spec_check_name("0-9", &err), LP_OK);
	/* reserved names are the installation's (lp_config_name_reserved), not the syntax's */
	ck_assert_int_eq(lp_spec_check_name("docs", &err), LP_OK);
	ck_assert_int_eq(lp_spec_check_name("traefik", &err), LP_OK);
	ck_assert_int_eq(lp_spec_check_name("end-", &err), LP_EINVAL);
	ck_assert_int_eq(lp_spec_check_name("", &err), LP_EINVAL);
	ck_assert_int_eq(lp_spec_check_name("a.b", &err), LP_EINVAL);
	ck_assert_int_eq(lp_spec_check_name(NULL, &err), LP_EINVAL);
	ck_assert_int_eq(lp_spec_check_digest("sha256:" Z64, &err), LP_OK);
	ck_assert_int_eq(lp_spec_check_digest("sha256:" Z64 "0", &err), LP_EINVAL);
	ck_assert_int_eq(lp_spec_check_digest("SHA256:" Z64, &err), LP_EINVAL);
}
END_TEST

/* ---- the value rules: one validator for the API (text, tree, struct) and the controller ---- */

enum field { F_URL, F_BRANCH, F_OUTPUT_DIR, F_NOT_FOUND, F_IMAGE };

static const char *const field_paths[] = {[F_URL] = "spec.source.git.url",
                                          [F_BRANCH] = "spec.source.git.branch",
                                          [F_OUTPUT_DIR] = "spec.build.outputDir",
                                          [F_NOT_FOUND] = "spec.serve.notFoundPage",
                                          [F_IMAGE] = "spec.build.image"};

struct value_case {
	enum field field;
	const char *value;
	const char *message; /* NULL: accepted */
};

#define L64 "a234567890123456789012345678901234567890123456789012345678901234"

static const struct value_case value_cases[] = {
    /* Git URLs: what git and curl would read differently from a reviewer, refused */
    {F_URL, "https://github.com/a/b?x=1", "must not contain a query ('?') or a fragment"},
    {F_URL, "https://github.com/a/b#main", "must not contain a query ('?') or a fragment"},
    {F_URL, "https://exa%6dple.com/x", "must not contain %-escapes"},
    {F_URL, "https://github.com/a%2Fb", "must not contain %-escapes"},
    {F_URL, "https://github.com%2f@evil/x", "must not contain %-escapes"},
    {F_URL, "https://[fe80::1%25eth0]/x", "must not contain %-escapes"},
    {F_URL, "https://$(id).example.com/x", "host must be a DNS name"},
    {F_URL, "https://`id`.example.com/x", "host must be a DNS name"},
    {F_URL, "https://github.com/$(id)", "must not contain '$' (a repository path is"},
    {F_URL, "https://github.com/`id`", "must not contain a backtick"},
    {F_URL, "https://github.com/a;b", "must not contain ';'"},
    {F_URL, "https://github.com/a|b", "must not contain '|'"},
    {F_URL, "https://github.com/a&b", "must not contain '&'"},
    {F_URL, "https://github.com/a<b>", "must not contain '<'"},
    {F_URL, "https://github.com/a*b", "must not contain '*'"},
    {F_URL, "https://github.com/a'b", "must not contain a single quote"},
    {F_URL, "https://github.com/a\"b", "must not contain a double quote"},
    {F_URL, "https://github.com/a\\b", "must not contain '\\'"},
    {F_URL, "https://github.com/a:b", "must not contain ':'"},
    {F_URL, "https://github.com/\xC3\xBC", "must not contain a non-ASCII character"},
    {F_URL, "https://github.com/a b", "must not contain spaces or control characters"},
    {F_URL, "https://github.com/a\tb", "must not contain spaces or control characters"},
    {F_URL, "https://h\xC3\xA9llo.com/x", "host must be a DNS name"},
    {F_URL, "https://-github.com/x", "host must be a DNS name"},
    {F_URL, "https://github-.com/x", "host must be a DNS name"},
    {F_URL, "https://git_hub.com/x", "host must be a DNS name"},
    {F_URL, "https://github.com./x", "host must be a DNS name"},
    {F_URL, "https://a..b/x", "host must be a DNS name"},
    {F_URL, "https://" L64 ".com/x", "host must be a DNS name"},
    {F_URL, "https://0177.0.0.1/x", "host looks like an IPv4 address but is not one"},
    {F_URL, "https://2130706433/x", "host looks like an IPv4 address but is not one"},
    {F_URL, "https://0x7f.1/x", "host looks like an IPv4 address but is not one"},
    {F_URL, "https://127.1/x", "host looks like an IPv4 address but is not one"},
    {F_URL, "https://256.0.0.1/x", "host looks like an IPv4 address but is not one"},
    {F_URL, "https://[::1/x", "host is not a valid IPv6 address"},
    {F_URL, "https://[zz::1]/x", "host is not a valid IPv6 address"},
    {F_URL, "https://[]/x", "host is not a valid IPv6 address"},
    {F_URL, "https://[::1]x/y", "port must be a number from 1 to 65535"},
    {F_URL, "https://github.com:0/x", "port must be a number from 1 to 65535"},
    {F_URL, "https://github.com:65536/x", "port must be a number from 1 to 65535"},
    {F_URL, "https://github.com:/x", "port must be a number from 1 to 65535"},
    {F_URL, "https://github.com:443a/x", "port must be a number from 1 to 65535"},
    {F_URL, "https://github.com:000443/x", "port must be a number from 1 to 65535"},
    {F_URL, "https://user@github.com/x", "must not contain credentials"},
    {F_URL, "https:///repo", "must name a host"},
    {F_URL, "https://github.com", "must name a repository"},
    {F_URL, "https://github.com/", "must name a repository"},
    {F_URL, "ftp://github.com/a/b", "must be an https:// URL"},
    {F_URL, "https://github.com/user/repo.git", NULL},
    {F_URL, "https://GitHub.com/User/Repo", NULL},
    {F_URL, "https://git.example.com:8443/a/b", NULL},
    {F_URL, "https://git.sr.ht/~user/repo", NULL},
    {F_URL, "https://xn--bcher-kva.example/a/b+c", NULL},
    {F_URL, "https://1password.example/x_y", NULL},
    {F_URL, "https://a/b", NULL},
    {F_URL, "https://192.0.2.10:8080/a/b", NULL},
    {F_URL, "https://[2001:db8::1]:8443/a/b", NULL},
    {F_URL, "https://" L64 "/x", "host must be a DNS name"},
    /* branches: git check-ref-format, over a whitelist */
    {F_BRANCH, "a;b", "must not contain ';' (a branch name is letters, digits and -._/+)"},
    {F_BRANCH, "$(id)", "must not contain '$'"},
    {F_BRANCH, "`id`", "must not contain a backtick"},
    {F_BRANCH, "a'b", "must not contain a single quote"},
    {F_BRANCH, "a\"b", "must not contain a double quote"},
    {F_BRANCH, "a|b", "must not contain '|'"},
    {F_BRANCH, "a&b", "must not contain '&'"},
    {F_BRANCH, "a<b", "must not contain '<'"},
    {F_BRANCH, "a>b", "must not contain '>'"},
    {F_BRANCH, "a*b", "must not contain '*'"},
    {F_BRANCH, "a?b", "must not contain '?'"},
    {F_BRANCH, "a#b", "must not contain '#'"},
    {F_BRANCH, "a@{1}", "must not contain '@'"},
    {F_BRANCH, "a~1", "must not contain '~'"},
    {F_BRANCH, "a^", "must not contain '^'"},
    {F_BRANCH, "a:b", "must not contain ':'"},
    {F_BRANCH, "a[b", "must not contain '['"},
    {F_BRANCH, "a\\b", "must not contain '\\'"},
    {F_BRANCH, "a b", "must not contain a space"},
    {F_BRANCH, "a\nb", "must not contain a control character"},
    {F_BRANCH, "r\xC3\xA9sum\xC3\xA9", "must not contain a non-ASCII character"},
    {F_BRANCH, "-x", "must not start with '-'"},
    {F_BRANCH, "HEAD", "is not a valid git branch name"},
    {F_BRANCH, "a..b", "is not a valid git branch name"},
    {F_BRANCH, "a//b", "is not a valid git branch name"},
    {F_BRANCH, "a/.b", "is not a valid git branch name"},
    {F_BRANCH, "/a", "is not a valid git branch name"},
    {F_BRANCH, ".a", "is not a valid git branch name"},
    {F_BRANCH, "a/", "is not a valid git branch name"},
    {F_BRANCH, "a.", "is not a valid git branch name"},
    {F_BRANCH, "a.lock", "is not a valid git branch name"},
    {F_BRANCH, "a.lock/b", "is not a valid git branch name"},
    {F_BRANCH, "", "must not be empty"},
    {F_BRANCH, "main", NULL},
    {F_BRANCH, "release/1.0", NULL},
    {F_BRANCH, "feature/x_y-z", NULL},
    {F_BRANCH, "v1.2.3+build", NULL},
    {F_BRANCH, "dependabot/npm_and_yarn/lodash-4.17.21", NULL},
    {F_BRANCH, "HEADS", NULL},
    /* paths: nothing nginx or a shell reads as syntax */
    {F_NOT_FOUND, "x; } server { listen 81; }", "must not contain ';' (a path is letters"},
    {F_NOT_FOUND, "x}", "must not contain '}'"},
    {F_NOT_FOUND, "a{b", "must not contain '{'"},
    {F_NOT_FOUND, "$uri.html", "must not contain '$'"},
    {F_NOT_FOUND, "#x.html", "must not contain '#'"},
    {F_NOT_FOUND, "404 .html", "must not contain a space"},
    {F_NOT_FOUND, "404\".html", "must not contain a double quote"},
    {F_NOT_FOUND, "404'.html", "must not contain a single quote"},
    {F_NOT_FOUND, "a\\b.html", "must not contain '\\'"},
    {F_NOT_FOUND, "p\xC3\xA1gina.html", "must not contain a non-ASCII character"},
    {F_NOT_FOUND, "a..b.html", "must not contain \"..\""},
    {F_NOT_FOUND, "../x.html", "must not contain \"..\""},
    {F_NOT_FOUND, "/404.html", "must be a relative path"},
    {F_NOT_FOUND, "errors/", "must name a file"},
    {F_NOT_FOUND, ".", "must name a file"},
    {F_NOT_FOUND, "a/.", "must name a file"},
    {F_NOT_FOUND, "", "must not be empty"},
    {F_NOT_FOUND, "404.html", NULL},
    {F_NOT_FOUND, "errors/not-found_page.html", NULL},
    {F_NOT_FOUND, "./404.html", NULL},
    {F_OUTPUT_DIR, "dist; rm -rf /", "must not contain ';'"},
    {F_OUTPUT_DIR, "$(id)", "must not contain '$'"},
    {F_OUTPUT_DIR, "a b", "must not contain a space"},
    {F_OUTPUT_DIR, "a\x01", "must not contain a control character"},
    {F_OUTPUT_DIR, "a\\b", "must not contain '\\'"},
    {F_OUTPUT_DIR, "a:b", "must not contain ':'"},
    {F_OUTPUT_DIR, "a/../b", "must not contain \"..\""},
    {F_OUTPUT_DIR, "/dist", "must be a relative path"},
    {F_OUTPUT_DIR, "dist", NULL},
    {F_OUTPUT_DIR, ".", NULL},
    {F_OUTPUT_DIR, "dist/", NULL},
    {F_OUTPUT_DIR, ".output/public", NULL},
    {F_OUTPUT_DIR, "_site", NULL},
    {F_OUTPUT_DIR, "dist/my-app/browser", NULL},
    /* images: a reference's characters (which images may run is the admin's, --build-images) */
    {F_IMAGE, "node 20", "is not a valid image reference"},
    {F_IMAGE, "-node", "is not a valid image reference"},
    {F_IMAGE, "node;id", "is not a valid image reference"},
    {F_IMAGE, "$(id)", "is not a valid image reference"},
    {F_IMAGE, "node:20-alpine", NULL},
    {F_IMAGE, "ghcr.io/org/builder:1.2@sha256:" Z64, NULL},
};

/* The site of a value case, as a JSON manifest (any byte can be written in JSON). */
static char *value_case_json(const struct value_case *c)
{
	const char *def[] = {[F_URL] = "https://github.com/a/b",
	                     [F_BRANCH] = "main",
	                     [F_OUTPUT_DIR] = "dist",
	                     [F_NOT_FOUND] = "404.html",
	                     [F_IMAGE] = "node:20-alpine"};
	cJSON *root = cJSON_Parse("{\"apiVersion\":\"launchpad.dev/v1\",\"kind\":\"Site\","
	                          "\"metadata\":{\"name\":\"ok\"},\"spec\":{}}");
	cJSON *spec = cJSON_GetObjectItem(root, "spec"), *git, *build, *serve;
	const char *v[5];
	char *text;
	int f;

	for (f = 0; f < 5; f++)
		v[f] = (int)c->field == f ? c->value : def[f];
	git = cJSON_AddObjectToObject(cJSON_AddObjectToObject(spec, "source"), "git");
	cJSON_AddStringToObject(git, "url", v[F_URL]);
	cJSON_AddStringToObject(git, "branch", v[F_BRANCH]);
	build = cJSON_AddObjectToObject(spec, "build");
	cJSON_AddStringToObject(build, "image", v[F_IMAGE]);
	cJSON_AddStringToObject(build, "command", "make");
	cJSON_AddStringToObject(build, "outputDir", v[F_OUTPUT_DIR]);
	serve = cJSON_AddObjectToObject(spec, "serve");
	cJSON_AddStringToObject(serve, "notFoundPage", v[F_NOT_FOUND]);
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return text;
}

/* The one diagnostic a refused value gives, at its field. */
static void expect_refused(const lp_spec_diags *d, int i, int positioned, const char *entry)
{
	const struct value_case *c = &value_cases[i];
	char *text = diags_text(d);

	ck_assert_msg(d->count == 1 && !strcmp(d->items[0].path, field_paths[c->field]) &&
	                  strstr(d->items[0].message, c->message) != NULL &&
	                  (!positioned || d->items[0].line == 1),
	              "case %d (%s, %s): want %s: ...%s..., got:\n%s", i, c->value, entry,
	              field_paths[c->field], c->message, text);
	free(text);
}

START_TEST(test_value_rules)
{
	const struct value_case *c = &value_cases[_i];
	char *json = value_case_json(c), *text;
	cJSON *tree = cJSON_Parse(json);
	lp_site_list list = {0};
	lp_site *site = NULL, *base;
	char **slot;
	lp_spec_diags d;
	int rc;

	ck_assert_ptr_nonnull(tree);
	/* The text, as PUT /api/deployments/:id and the controller's re-parse read it */
	lp_spec_diags_init(&d);
	rc = lp_spec_parse(&list, json, strlen(json), &strict, &d, NULL);
	if (c->message == NULL) {
		text = diags_text(&d);
		ck_assert_msg(rc == LP_OK, "case %d (%s): refused:\n%s", _i, c->value, text);
		free(text);
	} else {
		ck_assert_int_eq(rc, LP_EINVAL);
		expect_refused(&d, _i, 1, "text");
	}
	lp_site_list_release(&list);
	lp_spec_diags_release(&d);

	/* The tree a JSON body becomes */
	lp_spec_diags_init(&d);
	rc = lp_spec_from_cjson(&site, tree, &strict, &d, NULL);
	ck_assert_int_eq(rc, c->message ? LP_EINVAL : LP_OK);
	if (c->message)
		expect_refused(&d, _i, 0, "tree");
	lp_site_free(site);
	lp_spec_diags_release(&d);

	/* The struct the seed's POST /api/deployments builds from its fields */
	base = parse_one(HDR GIT "  build:\n    command: make\n    image: node:20-alpine\n"
	                         "  serve: {notFoundPage: 404.html}\n");
	slot = c->field == F_URL          ? &base->git_url
	       : c->field == F_BRANCH     ? &base->git_branch
	       : c->field == F_OUTPUT_DIR ? &base->build_output_dir
	       : c->field == F_NOT_FOUND  ? &base->serve_not_found_page
	                                  : &base->build_image;
	set(slot, c->value);
	lp_spec_diags_init(&d);
	rc = lp_site_validate(base, &strict, &d, NULL);
	ck_assert_int_eq(rc, c->message ? LP_EINVAL : LP_OK);
	if (c->message)
		expect_refused(&d, _i, 0, "struct");
	lp_spec_diags_release(&d);
	lp_site_free(base);
	cJSON_Delete(tree);
	free(json);
}
END_TEST

START_TEST(test_page_cap)
{
	char page[LP_SITE_PAGE_MAX + 2], *json;
	struct value_case c = {F_NOT_FOUND, page, NULL};
	lp_site_list list = {0};
	lp_spec_diags d;

	/* The nginx renderer takes 255 bytes: a longer page never reaches it. */
	memset(page, 'p', LP_SITE_PAGE_MAX);
	page[LP_SITE_PAGE_MAX] = '\0';
	json = value_case_json(&c);
	lp_spec_diags_init(&d);
	ck_assert_int_eq(lp_spec_parse(&list, json, strlen(json), NULL, &d, NULL), LP_OK);
	lp_site_list_release(&list);
	free(json);
	page[LP_SITE_PAGE_MAX] = 'p';
	page[LP_SITE_PAGE_MAX + 1] = '\0';
	json = value_case_json(&c);
	ck_assert_int_eq(lp_spec_parse(&list, json, strlen(json), NULL, &d, NULL), LP_EINVAL);
	ck_assert_uint_eq(d.count, 1);
	ck_assert_str_eq(d.items[0].path, "spec.serve.notFoundPage");
	ck_assert_str_eq(d.items[0].message, "must be at most 255 bytes (got 256)");
	free(json);
	lp_spec_diags_release(&d);
}
END_TEST

START_TEST(test_site_validate_struct)
{
	lp_site *s = parse_one(HDR GIT), *copy = NULL;
	lp_spec_diags d;
	lp_error err = {0};

	lp_spec_diags_init(&d);
	ck_assert_int_eq(lp_site_validate(s, NULL, &d, &err), LP_OK);
	ck_assert_uint_eq(d.count, 0);
	ck_assert_int_eq(lp_site_dup(&copy, s, NULL), LP_OK);
	set(&copy->name, "Bad Name");
	copy->revision_history_limit = 0;
	ck_assert_int_eq(lp_site_validate(copy, NULL, &d, &err), LP_EINVAL);
	ck_assert_uint_eq(d.count, 2);
	ck_assert_str_eq(d.items[0].path, "metadata.name");
	ck_assert_str_eq(d.items[1].path, "spec.revisionHistoryLimit");
	ck_assert_ptr_nonnull(strstr(err.message, "2 errors; first: metadata.name: must be"));
	lp_site_free(copy);
	lp_site_free(s);
	lp_spec_diags_release(&d);
}
END_TEST

/* One invalid domains case: its path and (part of) its message, under opts. */
static void domain_error(const char *yaml, const lp_spec_options *opts, const char *path,
                         const char *message)
{
	lp_site_list list = {0};
	lp_spec_diags d;
	lp_error err = {0};

	lp_spec_diags_init(&d);
	ck_assert_int_eq(lp_spec_parse(&list, yaml, strlen(yaml), opts, &d, &err), LP_EINVAL);
	ck_assert_uint_eq(list.count, 0);
	ck_assert_msg(d.count == 1, "%zu diagnostics for %s", d.count, yaml);
	ck_assert_str_eq(d.items[0].path, path);
	ck_assert_msg(strstr(d.items[0].message, message) != NULL, "\"%s\" lacks \"%s\"",
	              d.items[0].message, message);
	lp_spec_diags_release(&d);
}

START_TEST(test_domains)
{
	static const lp_spec_options wild = {.allow_wildcard_domains = 1};
	lp_site *s = parse_one(HDR GIT
	                       "  domains: [www.example.com, example.com, xn--bcher-kva.de]\n"
	                       "  serve: {httpsRedirect: true, hsts: true}\n"),
	        *again = NULL,
	        *plain = parse_one(HDR GIT "  domains: []\n"
	                                   "  serve: {httpsRedirect: false}\n"),
	        *copy = NULL;
	char *json = NULL, *yaml = NULL, h1[LP_SHA256_HEX_LEN], h2[LP_SHA256_HEX_LEN];
	lp_site_list list = {0};
	lp_spec_diags d;
	lp_error err = {0};
	char many[2048];
	size_t i, len;

	ck_assert_uint_eq(s->domain_count, 3);
	ck_assert_str_eq(s->domains[0], "www.example.com");
	ck_assert_str_eq(s->domains[2], "xn--bcher-kva.de");
	ck_assert_int_eq(s->serve_https_redirect, 1);
	ck_assert_int_eq(s->serve_hsts, 1);
	ck_assert_int_eq(lp_site_to_json(&json, s, NULL), LP_OK);
	ck_assert_str_eq(json,
	                 "{\"apiVersion\":\"launchpad.dev/v1\",\"kind\":\"Site\",\"metadata\":{"
	                 "\"name\":\"ok\"},\"spec\":{\"source\":{\"git\":{\"url\":\"https://"
	                 "github.com/a/b\",\"branch\":\"main\"}},\"autoDeploy\":false,"
	                 "\"serve\":{\"spa\":false,\"httpsRedirect\":true,\"hsts\":true},"
	                 "\"revisionHistoryLimit\":5,\"domains\":[\"www.example.com\","
	                 "\"example.com\",\"xn--bcher-kva.de\"]}}");
	/* YAML carries the list as a block sequence and reads back to the same site. */
	ck_assert_int_eq(lp_site_to_yaml(&yaml, s, NULL), LP_OK);
	ck_assert_ptr_nonnull(strstr(yaml, "  domains:\n  - www.example.com\n  - example.com\n"));
	again = parse_one(yaml);
	ck_assert(site_equal(s, again));
	ck_assert_int_eq(lp_site_dup(&copy, s, NULL), LP_OK);
	ck_assert(site_equal(s, copy));
	ck_assert_int_eq(lp_site_validate(copy, NULL, NULL, &err), LP_OK);
	/* Empty and off are the absent form: a spec from before keeps its hash. */
	hash_of(h1, plain);
	lp_site_free(again);
	again = parse_one(HDR GIT);
	hash_of(h2, again);
	ck_assert_str_eq(h1, h2);
	/* The edge's fields change the spec hash, not the build hash: no new revision for them. */
	hash_of(h1, s);
	ck_assert_str_ne(h1, h2);
	ck_assert_int_eq(lp_site_build_hash(h1, s, NULL), LP_OK);
	ck_assert_int_eq(lp_site_build_hash(h2, again, NULL), LP_OK);
	ck_assert_str_eq(h1, h2);
	copy->serve_replicas = 3; /* scaling builds nothing either */
	ck_assert_int_eq(lp_site_build_hash(h1, copy, NULL), LP_OK);
	ck_assert_str_eq(h1, h2);
	copy->serve_spa = 1;
	ck_assert_int_eq(lp_site_build_hash(h1, copy, NULL), LP_OK);
	ck_assert_str_ne(h1, h2);

	domain_error(HDR GIT "  domains: [Example.com]\n", NULL, "spec.domains.0", "lowercase");
	domain_error(HDR GIT "  domains: [a.example.com, \"*.example.com\"]\n", NULL,
	             "spec.domains.1", "--allow-wildcard-domains");
	domain_error(HDR GIT "  domains: [\"*.com\"]\n", &wild, "spec.domains.0",
	             "fully qualified");
	domain_error(HDR GIT "  domains: [\"a*.example.com\"]\n", &wild, "spec.domains.0",
	             "DNS name");
	domain_error(HDR GIT "  domains: [localhost]\n", NULL, "spec.domains.0", "fully qualified");
	domain_error(HDR GIT "  domains: [10.0.0.1]\n", NULL, "spec.domains.0", "IP address");
	domain_error(HDR GIT "  domains: [example.com.]\n", NULL, "spec.domains.0", "1 to 63");
	domain_error(HDR GIT "  domains: [a..example.com]\n", NULL, "spec.domains.0", "1 to 63");
	domain_error(HDR GIT "  domains: [-a.example.com]\n", NULL, "spec.domains.0", "'-'");
	domain_error(HDR GIT "  domains: [\"a_b.example.com\"]\n", NULL, "spec.domains.0",
	             "DNS name");
	domain_error(HDR GIT "  domains: [\"a b.example.com\"]\n", NULL, "spec.domains.0",
	             "DNS name");
	domain_error(HDR GIT "  domains: [a.example.com, b.example.com, a.example.com]\n", NULL,
	             "spec.domains.2", "duplicate domain \"a.example.com\"");
	domain_error(HDR GIT "  domains: www.example.com\n", NULL, "spec.domains",
	             "expected a sequence");
	domain_error(HDR GIT "  domains: [7]\n", NULL, "spec.domains.0", "expected a string");
	domain_error(HDR GIT "  serve: {hsts: yes please}\n", NULL, "spec.serve.hsts",
	             "expected a boolean");
	/* 64-character label, 254-character name */
	domain_error(HDR GIT "  domains: [a234567890123456789012345678901234567890123456789012345"
	                     "678901234.com]\n",
	             NULL, "spec.domains.0", "1 to 63");
	LP_TEST_FMT(many, HDR GIT "  domains: [%s.com]\n",
	            "a23456789.a23456789.a23456789.a23456789.a23456789.a23456789.a23456789."
	            "a23456789.a23456789.a23456789.a23456789.a23456789.a23456789.a23456789."
	            "a23456789.a23456789.a23456789.a23456789.a23456789.a23456789.a23456789."
	            "a23456789.a23456789.a23456789.a23456789.12");
	domain_error(many, NULL, "spec.domains.0", "at most 253");
	/* at most ten */
	len = (size_t)snprintf(many, sizeof(many), HDR GIT "  domains: [");
	for (i = 0; i < LP_SITE_DOMAINS_MAX + 1; i++)
		len += (size_t)snprintf(many + len, sizeof(many) - len, "%sd%zu.example.com",
		                        i ? ", " : "", i);
	LP_TEST_FMT(many + len, "]\n");
	domain_error(many, NULL, "spec.domains", "at most 10 domains");
	/* the wildcard, where the admin allows it */
	lp_spec_diags_init(&d);
	ck_assert_int_eq(lp_spec_parse(&list, HDR GIT "  domains: [\"*.example.com\"]\n",
	                               strlen(HDR GIT "  domains: [\"*.example.com\"]\n"), &wild,
	                               &d, &err),
	                 LP_OK);
	ck_assert_str_eq(list.items[0]->domains[0], "*.example.com");
	lp_site_list_release(&list);
	lp_spec_diags_release(&d);

	free(json);
	free(yaml);
	lp_site_free(s);
	lp_site_free(again);
	lp_site_free(plain);
	lp_site_free(copy);
}
END_TEST

START_TEST(test_diags_render)
{
	lp_spec_diags d;
	cJSON *arr = NULL;
	char *text = NULL, *json;
	int i;

	lp_spec_diags_init(&d);
	ck_assert_int_eq(lp_spec_diags_add(&d, "spec.x", 3, 4, "bad %s", "thing"), LP_OK);
	ck_assert_int_eq(lp_spec_diags_add(&d, "", 0, 0, "whole input"), LP_OK);
	ck_assert_int_eq(lp_spec_diags_format(&text, &d, "f.yaml", NULL), LP_OK);
	ck_assert_str_eq(text, "f.yaml:3:4: spec.x: bad thing\nf.yaml:1:1: whole input\n");
	free(text);
	ck_assert_int_eq(lp_spec_diags_to_cjson(&arr, &d, NULL), LP_OK);
	json = cJSON_PrintUnformatted(arr);
	ck_assert_str_eq(json,
	                 "[{\"path\":\"spec.x\",\"line\":3,\"column\":4,\"message\":\"bad "
	                 "thing\"},{\"path\":\"\",\"line\":0,\"column\":0,\"message\":\"whole "
	                 "input\"}]");
	free(json);
	cJSON_Delete(arr);
	for (i = 0; i < 200; i++)
		ck_assert_int_eq(lp_spec_diags_add(&d, "p", 1, 1, "m"), LP_OK);
	ck_assert_uint_eq(d.count, LP_SPEC_MAX_DIAGS);
	ck_assert_uint_eq(d.dropped, 102);
	ck_assert_int_eq(lp_spec_diags_format(&text, &d, "f", NULL), LP_OK);
	ck_assert_ptr_nonnull(strstr(text, "f: 102 more errors not shown\n"));
	free(text);
	lp_spec_diags_release(&d);
	lp_spec_diags_release(NULL);
}
END_TEST

static Suite *spec_suite(void)
{
	Suite *s = suite_create("spec");
	TCase *tc = tcase_create("spec");

	tcase_add_loop_test(tc, test_invalid_manifest, 0,
	                    (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(tc, test_every_error_reported);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_replicas_canonical);
	tcase_add_test(tc, test_example_fields);
	tcase_add_test(tc, test_insecure_option);
	tcase_add_test(tc, test_caps);
	tcase_add_test(tc, test_bad_utf8_and_empty);
	tcase_add_test(tc, test_nul_bytes);
	tcase_add_test(tc, test_json_strings_unaligned);
	tcase_add_test(tc, test_multi_document);
	tcase_add_test(tc, test_json_same_as_yaml);
	tcase_add_test(tc, test_json_errors);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_tricky_strings_survive);
	tcase_add_test(tc, test_canonical_json_exact);
	tcase_add_test(tc, test_previews);
	tcase_add_test(tc, test_list_yaml_round_trip);
	tcase_add_test(tc, test_spec_hash);
	tcase_add_test(tc, test_secret_env);
	tcase_add_test(tc, test_rules);
	tcase_add_loop_test(tc, test_value_rules, 0,
	                    (int)(sizeof(value_cases) / sizeof(value_cases[0])));
	tcase_add_test(tc, test_page_cap);
	tcase_add_test(tc, test_site_validate_struct);
	tcase_add_test(tc, test_diags_render);
	tcase_add_test(tc, test_domains);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lp_test_run(spec_suite());
}
