/* check_spec_run.c: unit tests for spec.run (dynamic apps): defaults, rules, canonical forms. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launchpad/crypto.h"
#include "launchpad/spec.h"
#include "tests/lib/testutil.h"

#define HDR "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  name: ok\nspec:\n"
#define GIT "  source:\n    git: {url: \"https://github.com/a/b\"}\n"

static lp_site *parse_one(const char *text)
{
	lp_site_list list = {0};
	lp_spec_diags d;
	lp_error err = {0};
	lp_site *site;
	int rc;

	lp_spec_diags_init(&d);
	rc = lp_spec_parse(&list, text, strlen(text), NULL, &d, &err);
	ck_assert_msg(rc == LP_OK, "parse failed: %s (%s)", err.message,
	              d.count ? d.items[0].message : "");
	ck_assert_uint_eq(list.count, 1);
	site = list.items[0];
	free(list.items);
	lp_spec_diags_release(&d);
	return site;
}

static char *json_of(const lp_site *s)
{
	char *json = NULL;

	ck_assert_int_eq(lp_site_to_json(&json, s, NULL), LP_OK);
	return json;
}

/* One invalid run case: exactly one diagnostic, at path (and its line), with message in it. */
static void run_error(const char *yaml, const char *path, int line, const char *message)
{
	lp_site_list list = {0};
	lp_spec_diags d;
	lp_error err = {0};

	lp_spec_diags_init(&d);
	ck_assert_int_eq(lp_spec_parse(&list, yaml, strlen(yaml), NULL, &d, &err), LP_EINVAL);
	ck_assert_uint_eq(list.count, 0);
	ck_assert_msg(d.count == 1, "%zu diagnostics for %s (first: %s)", d.count, yaml,
	              d.count ? d.items[0].message : "");
	ck_assert_str_eq(d.items[0].path, path);
	ck_assert_msg(strstr(d.items[0].message, message) != NULL, "\"%s\" lacks \"%s\"",
	              d.items[0].message, message);
	if (line > 0)
		ck_assert_int_eq(d.items[0].line, line);
	ck_assert_int_gt(d.items[0].column, 0);
	lp_spec_diags_release(&d);
}

START_TEST(test_run_defaults)
{
	lp_site *s = parse_one(HDR GIT "  run: {command: node server.js, port: 3000}\n");
	char *json = json_of(s);

	ck_assert_int_eq(s->has_run, 1);
	ck_assert_str_eq(s->run_command, "node server.js");
	ck_assert_int_eq(s->run_port, 3000);
	ck_assert_ptr_null(s->run_image);
	ck_assert_str_eq(s->run_health_path, "/");
	ck_assert_int_eq(s->run_health_interval_seconds, 2);
	ck_assert_int_eq(s->run_health_timeout_seconds, 2);
	ck_assert_int_eq(s->run_health_start_seconds, 60);
	ck_assert_int_eq(s->run_memory_mib, 256);
	ck_assert_int_eq(s->run_millicpus, 500);
	ck_assert_uint_eq(s->run_env_count, 0);
	ck_assert_ptr_nonnull(strstr(
	    json,
	    "\"run\":{\"command\":\"node server.js\",\"port\":3000,\"healthCheck\":{\"path\":"
	    "\"/\",\"intervalSeconds\":2,\"timeoutSeconds\":2,\"startSeconds\":60},\"env\":{},"
	    "\"resources\":{\"memoryMiB\":256,\"cpus\":0.5}}"));
	free(json);
	lp_site_free(s);
}
END_TEST

START_TEST(test_run_full_round_trip)
{
	static const char text[] = HDR GIT
	    "  build: {command: npm ci, outputDir: .}\n"
	    "  serve: {replicas: 2, httpsRedirect: true}\n"
	    "  run:\n"
	    "    command: exec node server.js\n"
	    "    port: 8080\n"
	    "    image: launchpad-test/node:local\n"
	    "    healthCheck: {path: /healthz?deep=1, intervalSeconds: 1, timeoutSeconds: 3,"
	    " startSeconds: 600}\n"
	    "    env: {ZED: z, NODE_ENV: production, A_1: \"\"}\n"
	    "    resources: {memoryMiB: 4096, cpus: 1.25}\n";
	lp_site *s = parse_one(text), *again = NULL, *copy = NULL;
	char *json = json_of(s), *yaml = NULL, *json2 = NULL, *json3 = NULL;
	lp_error err = {0};

	ck_assert_str_eq(s->run_image, "launchpad-test/node:local");
	ck_assert_str_eq(s->run_health_path, "/healthz?deep=1");
	ck_assert_int_eq(s->run_millicpus, 1250);
	ck_assert_int_eq(s->serve_replicas, 2);
	/* env sorted by name */
	ck_assert_uint_eq(s->run_env_count, 3);
	ck_assert_str_eq(s->run_env[0].name, "A_1");
	ck_assert_str_eq(s->run_env[1].name, "NODE_ENV");
	ck_assert_str_eq(s->run_env[2].name, "ZED");
	ck_assert_ptr_nonnull(strstr(json, "\"cpus\":1.25"));
	/* YAML out, YAML in: the same canonical JSON; and a copy is equal too */
	ck_assert_int_eq(lp_site_to_yaml(&yaml, s, NULL), LP_OK);
	ck_assert_ptr_nonnull(strstr(yaml, "cpus: 1.25\n"));
	again = parse_one(yaml);
	json2 = json_of(again);
	ck_assert_str_eq(json, json2);
	ck_assert_int_eq(lp_site_dup(&copy, s, NULL), LP_OK);
	json3 = json_of(copy);
	ck_assert_str_eq(json, json3);
	ck_assert_int_eq(lp_site_validate(copy, NULL, NULL, &err), LP_OK);
	free(json);
	free(json2);
	free(json3);
	free(yaml);
	lp_site_free(s);
	lp_site_free(again);
	lp_site_free(copy);
}
END_TEST

static void hash_of(char out[LP_SHA256_HEX_LEN], const char *text, int build)
{
	lp_site *s = parse_one(text);

	if (build)
		ck_assert_int_eq(lp_site_build_hash(out, s, NULL), LP_OK);
	else
		ck_assert_int_eq(lp_site_spec_hash(out, s, NULL), LP_OK);
	lp_site_free(s);
}

START_TEST(test_run_hash)
{
	char a[LP_SHA256_HEX_LEN], b[LP_SHA256_HEX_LEN];

	lp_site *plain = parse_one(HDR GIT);
	char *json = json_of(plain);

	/* A static site's form (and so its hash) has no run member: it did not move. */
	ck_assert_ptr_null(strstr(json, "\"run\""));
	free(json);
	lp_site_free(plain);
	/* Any change of run is a new revision (the revision's container runs what it says). */
	hash_of(a, HDR GIT "  run: {command: node a.js, port: 3000}\n", 1);
	hash_of(b, HDR GIT "  run: {command: node b.js, port: 3000}\n", 1);
	ck_assert_str_ne(a, b);
	hash_of(b, HDR GIT "  run: {command: node a.js, port: 3000, env: {A: b}}\n", 1);
	ck_assert_str_ne(a, b);
	/* Defaults written out hash as left out. */
	hash_of(b,
	        HDR GIT "  run: {command: node a.js, port: 3000, healthCheck: {path: /},"
	                " resources: {cpus: 0.5, memoryMiB: 256}}\n",
	        1);
	ck_assert_str_eq(a, b);
}
END_TEST

START_TEST(test_run_rules)
{
	run_error(HDR GIT "  run: {port: 3000}\n", "spec.run.command", 8, "is required");
	run_error(HDR GIT "  run: {command: \"  \", port: 3000}\n", "spec.run.command", 8,
	          "must not be empty");
	run_error(HDR GIT "  run: {command: node}\n", "spec.run.port", 8, "is required");
	run_error(HDR GIT "  run: {command: node, port: 0}\n", "spec.run.port", 8,
	          "between 1 and 65535");
	run_error(HDR GIT "  run: {command: node, port: 65536}\n", "spec.run.port", 8,
	          "between 1 and 65535");
	run_error(HDR GIT "  run: {command: node, port: \"80\"}\n", "spec.run.port", 8,
	          "expected an integer");
	run_error(HDR GIT "  run: {command: node, port: 80, comand: x}\n", "spec.run.comand", 8,
	          "did you mean \"command\"");
	run_error(HDR GIT "  run: {command: node, port: 80, image: \"bad image\"}\n",
	          "spec.run.image", 8, "");
	run_error(HDR GIT "  run:\n    command: node\n    port: 80\n"
	                  "    healthCheck: {path: health}\n",
	          "spec.run.healthCheck.path", 11, "must start with '/'");
	run_error(HDR GIT "  run:\n    command: node\n    port: 80\n"
	                  "    healthCheck: {path: \"/a b\"}\n",
	          "spec.run.healthCheck.path", 11, "printable ASCII");
	run_error(HDR GIT "  run: {command: node, port: 80, healthCheck: {intervalSeconds: 61}}\n",
	          "spec.run.healthCheck.intervalSeconds", 8, "between 1 and 60");
	run_error(HDR GIT "  run: {command: node, port: 80, healthCheck: {timeoutSeconds: 0}}\n",
	          "spec.run.healthCheck.timeoutSeconds", 8, "between 1 and 30");
	run_error(HDR GIT "  run: {command: node, port: 80, healthCheck: {startSeconds: 601}}\n",
	          "spec.run.healthCheck.startSeconds", 8, "between 1 and 600");
	run_error(HDR GIT "  run: {command: node, port: 80, resources: {memoryMiB: 31}}\n",
	          "spec.run.resources.memoryMiB", 8, "between 32 and 4096");
	run_error(HDR GIT "  run: {command: node, port: 80, resources: {cpus: 0.05}}\n",
	          "spec.run.resources.cpus", 8, "between 0.1 and 4");
	run_error(HDR GIT "  run: {command: node, port: 80, resources: {cpus: 5}}\n",
	          "spec.run.resources.cpus", 8, "between 0.1 and 4");
	run_error(HDR GIT "  run: {command: node, port: 80, resources: {cpus: lots}}\n",
	          "spec.run.resources.cpus", 8, "expected a number");
	run_error(HDR GIT "  run: {command: node, port: 80, env: {PORT: \"1\"}}\n",
	          "spec.run.env.PORT", 8, "set by the platform");
	run_error(HDR GIT "  run: {command: node, port: 80, env: {LAUNCHPAD_X: \"1\"}}\n",
	          "spec.run.env.LAUNCHPAD_X", 8, "set by the platform");
	run_error(HDR GIT "  run: {command: node, port: 80, env: {1A: x}}\n", "spec.run.env.1A", 8,
	          "invalid variable name");
	run_error(HDR GIT "  run: {command: node, port: 80, env: {A: {value: x, secret: true}}}\n",
	          "spec.run.env.A", 8, "secrets are for build.env only");
	/* nginx's options beside an app */
	run_error(HDR GIT "  serve: {spa: true}\n  run: {command: node, port: 80}\n",
	          "spec.serve.spa", 8, "static sites only");
	run_error(HDR GIT "  serve: {redirects: \"/a /b\"}\n  run: {command: node, port: 80}\n",
	          "spec.serve.redirects", 8, "static sites only");
}
END_TEST

START_TEST(test_run_env_caps)
{
	char text[8192], value[LP_SITE_ENV_VALUE_MAX + 2];
	size_t len, i;

	len = (size_t)snprintf(text, sizeof(text),
	                       HDR GIT "  run:\n    command: x\n    port: 80\n"
	                               "    env:\n");
	for (i = 0; i < LP_SITE_RUN_ENV_MAX + 1; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "      V%zu: x\n", i);
	run_error(text, "spec.run.env", 12, "at most 64 variables");
	memset(value, 'a', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	LP_TEST_FMT(text, HDR GIT "  run: {command: x, port: 80, env: {A: %s}}\n", value);
	run_error(text, "spec.run.env.A", 8, "at most 4096 bytes");
}
END_TEST

START_TEST(test_run_json)
{
	static const char text[] =
	    "{\"apiVersion\":\"launchpad.dev/v1\",\"kind\":\"Site\",\"metadata\":{\"name\":\"ok\"},"
	    "\"spec\":{\"source\":{\"git\":{\"url\":\"https://a/b\"}},"
	    "\"run\":{\"command\":\"node s.js\",\"port\":3000,\"resources\":{\"cpus\":2}}}}";
	lp_site *s = NULL;
	lp_spec_diags d;
	lp_error err = {0};

	lp_spec_diags_init(&d);
	ck_assert_int_eq(lp_spec_parse_json(&s, text, strlen(text), NULL, &d, &err), LP_OK);
	ck_assert_int_eq(s->run_millicpus, 2000);
	lp_site_free(s);
	lp_spec_diags_release(&d);
}
END_TEST

static Suite *spec_run_suite(void)
{
	Suite *s = suite_create("spec_run");
	TCase *tc = tcase_create("run");

	tcase_add_test(tc, test_run_defaults);
	tcase_add_test(tc, test_run_full_round_trip);
	tcase_add_test(tc, test_run_hash);
	tcase_add_test(tc, test_run_rules);
	tcase_add_test(tc, test_run_env_caps);
	tcase_add_test(tc, test_run_json);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lp_test_run(spec_run_suite());
}
