/* check_cli_validate.c: runs the built `launchpad validate` on the examples and on bad manifests.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launchpad/fs.h"
#include "launchpad/spec.h"
#include "tests/lib/testutil.h"

#define ZERO_DIGEST "sha256:0000000000000000000000000000000000000000000000000000000000000000"

struct run {
	int status; /* exit code, or -1 when it did not exit normally */
	char *out;
	char *err;
};

static char *slurp(const char *path)
{
	char *data = NULL;
	size_t len;

	ck_assert_int_eq(lp_fs_read_file(&data, &len, path, 1 << 20, NULL), LP_OK);
	return data;
}

/*
 * Run the launchpad binary from the source root (so file names in its output are relative) with
 * stdin from stdin_path (or /dev/null). env_insecure sets LAUNCHPAD_ALLOW_INSECURE_SOURCES.
 */
static struct run run_cli(const char *const *args, const char *stdin_path, const char *env_insecure)
{
	char *bin = lp_test_bin_path("launchpad"), *src = lp_test_src_path("");
	char *dir = lp_test_mkdtemp("lp-cli-validate"), out_path[4200], err_path[4200];
	char *argv[32];
	struct run r = {-1, NULL, NULL};
	int n = 0, status, fd;
	pid_t pid;

	ck_assert_ptr_nonnull(dir);
	snprintf(out_path, sizeof(out_path), "%s/out", dir);
	snprintf(err_path, sizeof(err_path), "%s/err", dir);
	argv[n++] = bin;
	while (*args && n < 31)
		argv[n++] = (char *)*args++;
	argv[n] = NULL;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (chdir(src) != 0)
			_exit(126);
		fd = open(stdin_path ? stdin_path : "/dev/null", O_RDONLY);
		if (fd < 0 || dup2(fd, 0) < 0)
			_exit(126);
		fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(126);
		fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(126);
		unsetenv("LAUNCHPAD_ALLOW_INSECURE_SOURCES");
		if (env_insecure)
			setenv("LAUNCHPAD_ALLOW_INSECURE_SOURCES", env_insecure, 1);
		execv(bin, argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status))
		r.status = WEXITSTATUS(status);
	r.out = slurp(out_path);
	r.err = slurp(err_path);
	ck_assert_int_eq(lp_fs_remove_tree(dir, NULL), LP_OK);
	free(dir);
	free(bin);
	free(src);
	return r;
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

static void expect(const char *const *args, const char *stdin_path, int status, const char *out,
                   const char *err)
{
	struct run r = run_cli(args, stdin_path, NULL);

	ck_assert_msg(r.status == status, "%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s",
	              args[1] ? args[1] : args[0], r.status, status, r.out, r.err);
	if (out)
		ck_assert_str_eq(r.out, out);
	if (err)
		ck_assert_str_eq(r.err, err);
	run_free(&r);
}

START_TEST(test_examples_valid)
{
	const char *spa[] = {"validate", "-f", "examples/spa.yaml", NULL};
	const char *npm[] = {"validate", "-f", "examples/git-npm.yaml", NULL};
	const char *arch[] = {"validate", "--filename", "examples/archive.yaml", NULL};
	const char *multi[] = {"validate", "-f=examples/multi.yaml", NULL};

	expect(spa, NULL, 0,
	       "examples/spa.yaml: site \"my-spa\" valid (source git "
	       "https://github.com/example/my-spa branch main, build \"npm run build\" -> build)\n",
	       "");
	expect(npm, NULL, 0,
	       "examples/git-npm.yaml: site \"graceful-fox\" valid (source git "
	       "https://github.com/vitejs/vite-plugin-react branch main, build \"npm ci && npm run "
	       "build\" -> dist)\n",
	       "");
	expect(arch, NULL, 0,
	       "examples/archive.yaml: site \"portfolio\" valid (source archive " ZERO_DIGEST
	       ", no build)\n",
	       "");
	expect(
	    multi, NULL, 0,
	    "examples/multi.yaml: site \"handbook\" valid (source git "
	    "https://github.com/example/handbook branch release/2024, build \"pip install mkdocs "
	    "&& mkdocs build --site-dir out\" -> out)\n"
	    "examples/multi.yaml: site \"landing\" valid (source git "
	    "https://github.com/example/landing-page branch main, no build)\n"
	    "examples/multi.yaml: site \"blog\" valid (source git https://github.com/example/blog "
	    "branch main, build \"npm ci npm run build\" -> dist)\n",
	    "");
}
END_TEST

/* Every example in the directory is valid, and the README describes each one. */
START_TEST(test_every_example_checked)
{
	const char *args[] = {"validate", "-f", "examples", NULL};
	char *dir = lp_test_src_path("examples"),
	     *readme_path = lp_test_src_path("examples/README.md");
	char *readme = slurp(readme_path);
	struct run r = run_cli(args, NULL, NULL);
	struct dirent *e;
	DIR *d = opendir(dir);
	size_t files = 0, lines = 0;
	const char *p;

	ck_assert_msg(r.status == 0, "stderr:\n%s", r.err);
	ck_assert_str_eq(r.err, "");
	for (p = r.out; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
			continue;
		files++;
		ck_assert_msg(strstr(readme, e->d_name) != NULL, "README.md does not mention %s",
		              e->d_name);
		ck_assert_msg(strstr(r.out, e->d_name) != NULL, "%s not validated", e->d_name);
	}
	closedir(d);
	ck_assert_uint_ge(files, 4);
	ck_assert_uint_ge(lines, files + 2); /* multi.yaml holds three sites */
	run_free(&r);
	free(readme);
	free(readme_path);
	free(dir);
}
END_TEST

#define BAD "tests/unit/manifests/invalid/"

START_TEST(test_bad_fixtures)
{
	const char *many[] = {"validate", "-f", BAD "many-errors.yaml", NULL};
	const char *syntax[] = {"validate", "-f", BAD "syntax.yaml", NULL};
	const char *alias[] = {"validate", "-f", BAD "alias.yaml", NULL};
	const char *multi[] = {"validate", "-f", BAD "multi.yaml", NULL};
	const char *jsyn[] = {"validate", "-f", BAD "syntax.json", NULL};
	const char *jsem[] = {"validate", "-f", BAD "semantic.json", NULL};

	expect(many, NULL, 1, "",
	       BAD "many-errors.yaml:4:9: metadata.name: must be a DNS label: lowercase letters, "
	           "digits and '-', starting and ending with a letter or digit\n" BAD
	           "many-errors.yaml:8:12: spec.source.git.url: http:// URLs are only allowed "
	           "with --allow-insecure-sources\n" BAD
	           "many-errors.yaml:11:5: spec.build.comand: unknown field \"comand\" (did you "
	           "mean \"command\"?)\n" BAD
	           "many-errors.yaml:12:16: spec.build.outputDir: must not contain \"..\"\n" BAD
	           "many-errors.yaml:15:13: spec.build.env.PORT: expected a string, got an "
	           "integer (quote it)\n" BAD
	           "many-errors.yaml:16:21: spec.build.timeoutSeconds: must be between 1 and "
	           "7200 (got 90000)\n" BAD
	           "many-errors.yaml:17:15: spec.autoDeploy: expected a boolean (true or false), "
	           "got a string\n");
	expect(syntax, NULL, 1, "",
	       BAD "syntax.yaml:5:8: YAML syntax error: mapping values are not allowed in this "
	           "context\n");
	expect(alias, NULL, 1, "", BAD "alias.yaml:9:14: YAML aliases (*repo) are not allowed\n");
	expect(multi, NULL, 1, "",
	       BAD
	       "multi.yaml:13:30: spec.source.archive.digest: must be \"sha256:\" followed by "
	       "64 lowercase hex digits\n" BAD
	       "multi.yaml:18:9: metadata.name: duplicate site name \"alpha\" (also in document "
	       "1, line 4)\n");
	expect(jsyn, NULL, 1, "", BAD "syntax.json:5:64: JSON syntax error near '}}'\n");
	expect(jsem, NULL, 1, "",
	       BAD "semantic.json:7:52: spec.build.timeoutSeconds: expected an integer, got a "
	           "string\n" BAD "semantic.json:8:28: spec.serve.notfoundPage: unknown field "
	           "\"notfoundPage\" (did you mean \"notFoundPage\"?)\n");
}
END_TEST

START_TEST(test_stdin)
{
	const char *args[] = {"validate", "-f", "-", NULL};
	char *good = lp_test_src_path("examples/archive.yaml");
	char *bad = lp_test_src_path(BAD "alias.yaml");

	expect(args, good, 0,
	       "<stdin>: site \"portfolio\" valid (source archive " ZERO_DIGEST ", no build)\n",
	       "");
	expect(args, bad, 1, "", "<stdin>:9:14: YAML aliases (*repo) are not allowed\n");
	free(good);
	free(bad);
}
END_TEST

START_TEST(test_insecure_sources)
{
	const char *plain[] = {"validate", "-f", BAD "insecure.yaml", NULL};
	const char *flag[] = {"--allow-insecure-sources", "validate", "-f", BAD "insecure.yaml",
	                      NULL};
	const char *ok = BAD "insecure.yaml: site \"local-dev\" valid (source git "
	                     "http://git.internal.test/team/site.git branch develop, no build)\n";
	struct run r;

	expect(plain, NULL, 1, "",
	       BAD "insecure.yaml:9:12: spec.source.git.url: http:// URLs are only allowed with "
	           "--allow-insecure-sources\n");
	expect(flag, NULL, 0, ok, "");
	r = run_cli(plain, NULL, "true");
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, ok);
	run_free(&r);
}
END_TEST

START_TEST(test_usage)
{
	const char *none[] = {"validate", NULL};
	const char *flag[] = {"validate", "-x", NULL};
	const char *novalue[] = {"validate", "-f", NULL};
	const char *positional[] = {"validate", "examples/spa.yaml", NULL};
	const char *help[] = {"validate", "--help", NULL};
	struct run r;

	r = run_cli(none, NULL, NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "no input"));
	run_free(&r);
	r = run_cli(flag, NULL, NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "unexpected argument \"-x\""));
	run_free(&r);
	r = run_cli(novalue, NULL, NULL);
	ck_assert_int_eq(r.status, 2);
	run_free(&r);
	r = run_cli(positional, NULL, NULL);
	ck_assert_int_eq(r.status, 2);
	run_free(&r);
	r = run_cli(help, NULL, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "usage: launchpad validate -f FILE|DIR|-"));
	ck_assert_str_eq(r.err, "");
	run_free(&r);
}
END_TEST

START_TEST(test_unreadable_and_mixed)
{
	const char *missing[] = {"validate", "-f", "no/such/file.yaml", NULL};
	const char *mixed[] = {"validate", "-f", "examples/spa.yaml", "-f", BAD "alias.yaml", NULL};
	char *dir = lp_test_mkdtemp("lp-validate-big"), path[4200], *big;
	const char *toobig[] = {"validate", "-f", path, NULL};
	struct run r;
	char want[4400];

	r = run_cli(missing, NULL, NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "launchpad validate: no/such/file.yaml: "));
	run_free(&r);

	r = run_cli(mixed, NULL, NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.out, "examples/spa.yaml: site \"my-spa\" valid"));
	ck_assert_str_eq(r.err, BAD "alias.yaml:9:14: YAML aliases (*repo) are not allowed\n");
	run_free(&r);

	snprintf(path, sizeof(path), "%s/big.yaml", dir);
	big = malloc(LP_SPEC_MAX_INPUT + 1);
	memset(big, '#', LP_SPEC_MAX_INPUT + 1);
	ck_assert_int_eq(lp_fs_write_atomic(path, big, LP_SPEC_MAX_INPUT + 1, 0600, NULL), LP_OK);
	r = run_cli(toobig, NULL, NULL);
	ck_assert_int_eq(r.status, 1);
	snprintf(want, sizeof(want), "%s:1:1: input is larger than 1048576 bytes\n", path);
	ck_assert_str_eq(r.err, want);
	run_free(&r);
	free(big);
	ck_assert_int_eq(lp_fs_remove_tree(dir, NULL), LP_OK);
	free(dir);
}
END_TEST

static Suite *cli_validate_suite(void)
{
	Suite *s = suite_create("cli_validate");
	TCase *tc = tcase_create("cli_validate");

	tcase_add_test(tc, test_examples_valid);
	tcase_add_test(tc, test_every_example_checked);
	tcase_add_test(tc, test_bad_fixtures);
	tcase_add_test(tc, test_stdin);
	tcase_add_test(tc, test_insecure_sources);
	tcase_add_test(tc, test_usage);
	tcase_add_test(tc, test_unreadable_and_mixed);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lp_test_run(cli_validate_suite());
}
