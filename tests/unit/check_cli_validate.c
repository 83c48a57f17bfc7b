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

#include "cli/commands.h"
#include "launchpad/buf.h"
#include "launchpad/config.h"
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
	ck_assert_msg(strstr(r.out, "package") == NULL, "%s", r.out);
	run_free(&r);

	/* -R reads the subfolders too: the sites' package.json files are no manifests */
	{
		const char *rec[] = {"validate", "-R", "-f", "examples", NULL};

		r = run_cli(rec, NULL, NULL);
		ck_assert_int_eq(r.status, 1);
		ck_assert_msg(strstr(r.err, "examples/sites/npm-app/package.json:") != NULL, "%s",
		              r.err);
		ck_assert_msg(strstr(r.out, "examples/spa.yaml: site \"my-spa\" valid"), "%s",
		              r.out);
		run_free(&r);
	}
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

/* The long flags a help lists in its flag block: lines "  -x, --name ..." or "      --name ...". */
static size_t help_flags(char out[][64], size_t max, const char *help)
{
	const char *line, *p;
	size_t n = 0, len;

	for (line = help; *line && n < max;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : "") {
		if (!strncmp(line, "      --", 8))
			p = line + 8;
		else if (!strncmp(line, "  -", 3) && line[4] == ',' && !strncmp(line + 5, " --", 3))
			p = line + 8;
		else
			continue;
		len = strcspn(p, " =\n");
		ck_assert_uint_lt(len, 64);
		memcpy(out[n], p, len);
		out[n][len] = '\0';
		n++;
	}
	return n;
}

/*
 * Every command: `launchpad CMD --help` and `launchpad help CMD` print the same text (its usage,
 * its flags, examples), with nothing on stderr (the parser reports a flag the help leaves out),
 * and every flag the help lists is one the command takes.
 */
START_TEST(test_command_help)
{
	char flags[32][64], arg[96];
	size_t i, j, n;
	struct run a, b, r;

	/* nothing here may reach a server: a flag the command takes but misreads would try */
	setenv("LAUNCHPAD_SERVER", "http://127.0.0.1:1", 1);
	for (i = 0; i < lp_cli_ncommands; i++) {
		const char *name = lp_cli_commands[i].name;
		const char *one[] = {name, "--help", NULL}, *two[] = {"help", name, NULL};
		char usage[64];

		a = run_cli(one, NULL, NULL);
		b = run_cli(two, NULL, NULL);
		ck_assert_msg(a.status == 0 && b.status == 0, "%s: exit %d and %d", name, a.status,
		              b.status);
		ck_assert_str_eq(a.out, b.out);
		ck_assert_str_eq(a.out, lp_cli_commands[i].help);
		ck_assert_msg(!strcmp(a.err, "") && !strcmp(b.err, ""), "%s --help: %s%s", name,
		              a.err, b.err);
		snprintf(usage, sizeof(usage), "usage: launchpad %s", name);
		ck_assert_msg(!strncmp(a.out, usage, strlen(usage)), "%s", a.out);
		ck_assert_msg(strstr(a.out, "\nexamples:\n  launchpad ") ||
		                  strstr(a.out, "\n  source <"),
		              "%s: no examples\n%s", name, a.out);
		ck_assert_msg(strstr(a.out, "\nexit codes: 0 "), "%s: no exit codes", name);
		ck_assert_msg(strstr(a.out, "commands:") == NULL, "%s: the general help", name);
		n = help_flags(flags, 32, a.out);
		ck_assert_msg(n >= 1, "%s: no flags listed", name);
		for (j = 0; j < n; j++) {
			/* a flag with a value takes --x=v; a switch refuses it and takes --x */
			const char *with[] = {name, arg, "--help", NULL};

			LP_TEST_FMT(arg, "--%s=1", flags[j]);
			r = run_cli(with, NULL, NULL);
			if (r.status != 0) {
				run_free(&r);
				LP_TEST_FMT(arg, "--%s", flags[j]);
				r = run_cli(with, NULL, NULL);
			}
			ck_assert_msg(r.status == 0 && !strcmp(r.out, a.out),
			              "%s --%s: exit %d\n%s", name, flags[j], r.status, r.err);
			run_free(&r);
		}
		run_free(&a);
		run_free(&b);
	}
	unsetenv("LAUNCHPAD_SERVER");
}
END_TEST

/* `launchpad --help`: every command, the flags the CLI reads and none of the daemons'. */
START_TEST(test_general_help)
{
	const char *args[] = {"--help", NULL}, *bare[] = {"help", NULL}, *none[] = {NULL};
	const char *unknown[] = {"help", "nope", NULL};
	static const char *const daemon_only[] = {"--data-dir",      "--workers",
	                                          "--cors-origins",  "--listen",
	                                          "--docker-socket", "--upload-max-mb"};
	struct run r = run_cli(args, NULL, NULL), h = run_cli(bare, NULL, NULL);
	const char *line;
	size_t i, listed = 0;

	ck_assert_int_eq(r.status, 0);
	ck_assert_str_eq(r.out, h.out);
	for (i = 0; i < lp_cli_ncommands; i++) {
		char want[64];

		snprintf(want, sizeof(want), "\n  %s ", lp_cli_commands[i].name);
		ck_assert_msg(strstr(r.out, want), "%s not listed\n%s", lp_cli_commands[i].name,
		              r.out);
	}
	for (i = 0; i < sizeof(daemon_only) / sizeof(daemon_only[0]); i++)
		ck_assert_msg(strstr(r.out, daemon_only[i]) == NULL, "%s listed\n%s",
		              daemon_only[i], r.out);
	ck_assert_ptr_nonnull(strstr(r.out, "--server URL"));
	ck_assert_ptr_nonnull(strstr(r.out, "--token T"));
	ck_assert_ptr_nonnull(strstr(r.out, "--log-level"));
	ck_assert_ptr_nonnull(strstr(r.out, "3 timed out waiting"));
	/* each flag listed is a real shared setting: lp_config_new takes it, it is not left over */
	for (line = r.out; (line = strstr(line, "\n  --")) != NULL; line++) {
		char flag[64], *argv[4];
		lp_config *cfg = NULL;
		char **rest = NULL;
		int nrest = -1;
		size_t len = strcspn(line + 3, " \n");

		ck_assert_uint_lt(len, sizeof(flag));
		memcpy(flag, line + 3, len);
		flag[len] = '\0';
		argv[0] = "launchpad";
		argv[1] = flag;
		argv[2] = !strcmp(flag, "--log-level")                ? "debug"
		          : !strcmp(flag, "--log-format")             ? "json"
		          : !strcmp(flag, "--allow-insecure-sources") ? "--"
		                                                      : "x";
		argv[3] = NULL;
		ck_assert_msg(lp_config_new(&cfg, &rest, &nrest, 3, argv, NULL) == LP_OK, "%s",
		              flag);
		ck_assert_msg(nrest == (!strcmp(argv[2], "--") ? 1 : 0), "%s not a setting", flag);
		lp_config_rest_free(rest);
		lp_config_free(cfg);
		listed++;
	}
	ck_assert_uint_ge(listed, 4);
	run_free(&r);
	run_free(&h);

	/* no command: the same help on stderr, exit 2; an unknown command's help: exit 2 */
	r = run_cli(none, NULL, NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "\ncommands:\n"));
	run_free(&r);
	r = run_cli(unknown, NULL, NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "unknown command \"nope\""));
	run_free(&r);
}
END_TEST

/* What the completion offers for a command line (words, the last one being completed). */
static char *complete(const char *words)
{
	char *script = lp_test_src_path("scripts/completion/launchpad.bash"), cmd[8192], *out;
	FILE *f;
	lp_buf b;
	size_t n;
	char buf[1024];

	snprintf(cmd, sizeof(cmd),
	         "bash -c 'source %s; COMP_WORDS=(%s); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); "
	         "_launchpad; printf \"%%s \" \"${COMPREPLY[@]}\"'",
	         script, words);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	lp_buf_init(&b, 1 << 20);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		ck_assert_int_eq(lp_buf_append(&b, buf, n), LP_OK);
	ck_assert_int_eq(pclose(f), 0);
	out = lp_buf_detach(&b);
	free(script);
	return out;
}

/* The completion knows the commands and each command's own flags. */
START_TEST(test_completion)
{
	static const struct {
		const char *words;
		const char *has;
		const char * not ;
	} cases[] = {
	    {"launchpad \"\"", "status open ", "--browser"},
	    {"launchpad help \"\"", "deploy ", "--help"},
	    {"launchpad get -", "--watch ", "--browser"},
	    {"launchpad get -o \"\"", "name jsonpath= ", NULL},
	    {"launchpad describe -o \"\"", "yaml json ", "wide"},
	    {"launchpad delete --ig", "--ignore-not-found ", NULL},
	    {"launchpad apply -", "-R --recursive ", "--watch"},
	    {"launchpad validate -", "-R ", "--wait"},
	    {"launchpad open --", "--browser --help ", "--wait"},
	    {"launchpad --server http://x status --", "--help ", "--wait"},
	    {"launchpad get \"\"", "sites site revisions ", NULL},
	};
	size_t i;

	setenv("LAUNCHPAD_SERVER", "http://127.0.0.1:1", 1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = complete(cases[i].words);

		char words[256], *w, *rest, spaced[4096], want[300];

		snprintf(spaced, sizeof(spaced), " %s", got);
		snprintf(words, sizeof(words), "%s", cases[i].has);
		for (rest = words; (w = strsep(&rest, " ")) != NULL;) {
			if (!*w)
				continue;
			snprintf(want, sizeof(want), " %s ", w);
			ck_assert_msg(strstr(spaced, want), "%s: no %s in \"%s\"", cases[i].words,
			              w, got);
		}
		ck_assert_msg(!cases[i].not || !strstr(got, cases[i].not ), "%s: \"%s\"",
		              cases[i].words, got);
		free(got);
	}
	unsetenv("LAUNCHPAD_SERVER");
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
	tcase_add_test(tc, test_command_help);
	tcase_add_test(tc, test_general_help);
	tcase_add_test(tc, test_completion);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lp_test_run(cli_validate_suite());
}
