/* check_build.c: lp_build_revision against the real Docker engine, real zips and real Git repos. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/build.h"
#include "launchpad/config.h"
#include "launchpad/crypto.h"
#include "launchpad/docker.h"
#include "launchpad/clock.h"
#include "launchpad/fs.h"
#include "pipeline/gitnet.h"
#include "tests/lib/engine_proxy.h"
#include "tests/lib/testutil.h"

#define GIT_ID "git -c user.name=LaunchPad -c user.email=test@launchpad.invalid"

static const char *build_image(void)
{
	const char *v = getenv("LAUNCHPAD_TEST_BUILD_IMAGE");

	return v && *v ? v : "launchpad-test/node:local";
}

static const char *serve_image(void)
{
	const char *v = getenv("LAUNCHPAD_TEST_SERVE_IMAGE");

	return v && *v ? v : "launchpad-test/nginx:local";
}

/* Per test: a data dir and a Docker handle. Per run: an instance id (sites differ per test). */
static char *g_root;
static char g_data[1024];
static char g_instance[32];
static lp_config *g_cfg;
static lp_docker *g_docker;
static char g_mount[1100]; /* a size-limited data dir mounted by a test, unmounted at teardown */

static void capture(char *out, size_t outsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void capture(char *out, size_t outsz, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	FILE *p;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	n = fread(out, 1, outsz - 1, p);
	out[n] = '\0';
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
	ck_assert_int_eq(pclose(p), 0);
}

static char *read_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *read_text(const char *fmt, ...)
{
	char path[2048];
	char *data = NULL;
	size_t len;
	lp_error err = {0};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	ck_assert_msg(lp_fs_read_file(&data, &len, path, (size_t)64 << 20, &err) == LP_OK, "%s: %s",
	              path, err.message);
	return data;
}

static void setup(void)
{
	/* t_missing_image names an image that is allowed but absent */
	char *argv[] = {"check_build", "--build-images", "launchpad-test/no-such-image:*", NULL};
	lp_error err = {0};

	g_root = lp_test_mkdtemp("lp-build");
	ck_assert_ptr_nonnull(g_root);
	snprintf(g_data, sizeof(g_data), "%s/data", g_root);
	ck_assert_int_eq(lp_fs_mkdirs(g_data, 0755, NULL), LP_OK);
	ck_assert_int_eq(lp_config_new(&g_cfg, NULL, NULL, 3, argv, &err), LP_OK);
	free(g_cfg->data_dir);
	g_cfg->data_dir = strdup(g_data);
	free(g_cfg->instance);
	g_cfg->instance = strdup(g_instance);
	free(g_cfg->build_image);
	g_cfg->build_image = strdup(build_image());
	free(g_cfg->serve_image);
	g_cfg->serve_image = strdup(serve_image());
	g_cfg->allow_insecure_sources = 1;
	g_cfg->build_timeout_max = 600;
	ck_assert_msg(lp_docker_new(&g_docker, NULL, &err) == LP_OK, "%s", err.message);
}

/* What every test must leave: no container of its instance, no workspace, no temp copy. */
static void teardown(void)
{
	char label[64], net[96], work[1200];
	const char *labels[] = {label, NULL};
	lp_docker_summaries *list = NULL;
	lp_error err = {0};
	size_t left;
	DIR *d;

	snprintf(label, sizeof(label), "launchpad.instance=%s", g_instance);
	ck_assert_msg(lp_docker_container_list(&list, g_docker, labels, &err) == LP_OK, "%s",
	              err.message);
	left = list->n;
	for (size_t i = 0; i < list->n; i++)
		if (lp_docker_container_remove(g_docker, list->items[i].id, LP_DOCKER_RM_FORCE,
		                               NULL) != LP_OK)
			fprintf(stderr, "cleanup: cannot remove container %s\n", list->items[i].id);
	lp_docker_summaries_free(list);
	snprintf(net, sizeof(net), "%s-launchpad-build", g_instance);
	if (lp_docker_network_remove(g_docker, net, NULL) != LP_OK)
		fprintf(stderr, "cleanup: cannot remove network %s\n", net);
	snprintf(work, sizeof(work), "%s/work", g_data);
	d = opendir(work);
	if (g_mount[0] != '\0' && d == NULL)
		fprintf(stderr, "cleanup: %s: %s\n", work, strerror(errno));
	if (d != NULL) {
		struct dirent *de;

		while ((de = readdir(d)) != NULL)
			ck_assert_msg(de->d_name[0] == '.', "workspace left behind: %s",
			              de->d_name);
		closedir(d);
	}
	lp_docker_free(g_docker);
	lp_config_free(g_cfg);
	if (g_mount[0] != '\0' && umount2(g_mount, MNT_DETACH) != 0)
		fprintf(stderr, "cleanup: umount %s: %s\n", g_mount, strerror(errno));
	g_mount[0] = '\0';
	if (lp_fs_remove_tree(g_root, NULL) != LP_OK)
		fprintf(stderr, "cleanup: cannot remove %s\n", g_root);
	free(g_root);
	ck_assert_msg(left == 0, "%zu container(s) of instance %s left behind", left, g_instance);
}

/*
 * In the parent, after the whole test case: a failed test skips its checked teardown, so sweep
 * whatever carries this run's instance label, and the run's build network.
 */
static void sweep(void)
{
	char label[64], net[96];
	const char *labels[] = {label, NULL};
	lp_docker_summaries *list = NULL;
	lp_docker *d = NULL;

	if (lp_docker_new(&d, NULL, NULL) != LP_OK)
		return;
	snprintf(label, sizeof(label), "launchpad.instance=%s", g_instance);
	if (lp_docker_container_list(&list, d, labels, NULL) == LP_OK)
		for (size_t i = 0; i < list->n; i++)
			if (lp_docker_container_remove(d, list->items[i].id, LP_DOCKER_RM_FORCE,
			                               NULL) != LP_OK)
				fprintf(stderr, "cleanup: cannot remove container %s\n",
				        list->items[i].id);
	lp_docker_summaries_free(list);
	snprintf(net, sizeof(net), "%s-launchpad-build", g_instance);
	if (lp_docker_network_remove(d, net, NULL) != LP_OK)
		fprintf(stderr, "cleanup: cannot remove network %s\n", net);
	lp_docker_free(d);
}

/* A site spec built in code; strings are borrowed literals (never freed). */
static lp_site site(const char *name, lp_source_kind kind, const char *command, int timeout)
{
	lp_site s;

	memset(&s, 0, sizeof(s));
	s.name = (char *)name;
	s.source_kind = kind;
	s.git_branch = "main";
	s.has_build = command != NULL;
	s.build_command = (char *)command;
	s.build_output_dir = "dist";
	s.build_timeout_seconds = timeout;
	s.revision_history_limit = 5;
	return s;
}

/* Zip dir's contents into uploads/sha256/<hex>.zip; digest gets "sha256:<hex>". */
static void make_upload(char digest[80], const char *dir)
{
	char hex[80], zip[1200];

	snprintf(zip, sizeof(zip), "%s/upload.zip", g_root);
	lp_test_sh("cd '%s' && rm -f '%s' && zip -qr '%s' . -x 'node_modules/*' 'dist/*'", dir, zip,
	           zip);
	capture(hex, sizeof(hex), "sha256sum '%s' | cut -c1-64", zip);
	ck_assert_uint_eq(strlen(hex), 64);
	lp_test_sh("mkdir -p '%s/uploads/sha256' && mv '%s' '%s/uploads/sha256/%s.zip'", g_data,
	           zip, g_data, hex);
	lp_test_fmt(digest, 80, "sha256:%.64s", hex);
}

/* A one-file upload whose build command does the work. */
static void make_script_upload(char digest[80])
{
	char dir[1200];

	snprintf(dir, sizeof(dir), "%s/src", g_root);
	lp_test_sh("mkdir -p '%s' && echo fixture > '%s/README'", dir, dir);
	make_upload(digest, dir);
}

static int build(lp_build_result *res, const lp_site *spec, long n, const char *source,
                 const atomic_int *cancel, lp_error *err)
{
	lp_build_request req = {
	    .cfg = g_cfg,
	    .docker = g_docker,
	    .site_name = spec->name,
	    .spec = spec,
	    .revision = n,
	    .source = source,
	    .cancel = cancel,
	};

	return lp_build_revision(res, &req, err);
}

static int contains(const char *hay, const char *needle)
{
	return hay != NULL && strstr(hay, needle) != NULL;
}

/* Every line starts with an ISO-8601 UTC timestamp; the last one is the verdict. */
static void check_log_format(const char *log, const char *last_prefix)
{
	const char *p = log, *last = NULL;

	ck_assert_msg(*p != '\0', "empty log");
	while (*p) {
		const char *nl = strchr(p, '\n');
		int y, mo, d, h, mi, s, ms;
		char z, head[32];

		ck_assert_msg(nl != NULL, "log does not end with a newline");
		/* sscanf on the whole log would strlen() it for every line */
		snprintf(head, sizeof(head), "%.*s", (int)(nl - p < 31 ? nl - p : 31), p);
		ck_assert_msg(sscanf(head, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c ", &y, &mo, &d, &h, &mi,
		                     &s, &ms, &z) == 8 &&
		                  z == 'Z',
		              "line without a timestamp: %.*s", (int)(nl - p), p);
		last = p;
		p = nl + 1;
	}
	ck_assert_msg(strncmp(last + 25, last_prefix, strlen(last_prefix)) == 0,
	              "last line is \"%.*s\", expected \"%s...\"", (int)(strchr(last, '\n') - last),
	              last, last_prefix);
}

START_TEST(t_npm_build_published)
{
	lp_site s = site("npm-app", LP_SOURCE_ARCHIVE, "npm run build", 300);
	lp_build_result res;
	lp_error err = {0};
	char digest[80], *fixture = lp_test_src_path("examples/sites/npm-app");
	char *html, *log;

	make_upload(digest, fixture);
	free(fixture);
	s.archive_digest = digest;
	ck_assert_msg(build(&res, &s, 1, "", NULL, &err) == LP_OK, "%s", err.message);
	ck_assert_int_eq(res.already_ready, 0);
	ck_assert_int_eq(res.exit_code, 0);
	ck_assert_str_eq(res.resolved_source, digest);
	html = read_text("%s/sites/npm-app/revisions/1/index.html", g_data);
	ck_assert_msg(contains(html, "<h1>npm-app</h1>") &&
	                  contains(html, "Built by LaunchPad at 20"),
	              "%s", html);
	ck_assert_msg(!contains(html, "{{NODE}}"), "placeholders not filled: %s", html);
	log = read_text("%s", res.log_path);
	ck_assert_msg(contains(log, "==> fetch: archive sha256:"), "%s", log);
	ck_assert_msg(contains(log, "==> build: image"), "%s", log);
	ck_assert_msg(contains(log, "built dist/index.html"), "%s", log);
	ck_assert_msg(contains(log, "exit code 0 after"), "%s", log);
	ck_assert_msg(contains(log, "==> publish: dist into revisions/1"), "%s", log);
	check_log_format(log, "==> done: revision 1 ready in ");
	free(html);
	free(log);
}
END_TEST

START_TEST(t_exit_code_fails_with_tail)
{
	lp_site s = site("failing", LP_SOURCE_ARCHIVE,
	                 "echo on-stderr >&2; sleep 0.2; "
	                 "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo noise-$i; done; "
	                 "echo the-last-words; exit 3",
	                 60);
	lp_build_result res;
	lp_error err = {0};
	char digest[80], path[1200], *log;

	make_script_upload(digest);
	s.archive_digest = digest;
	ck_assert_int_eq(build(&res, &s, 1, digest, NULL, &err), LP_EBUILD);
	ck_assert_int_eq(err.code, LP_EBUILD);
	ck_assert_int_eq(res.exit_code, 3);
	ck_assert_msg(contains(err.message, "build exited with code 3; last lines:"), "%s",
	              err.message);
	ck_assert_msg(contains(err.message, "noise-12\nthe-last-words"), "%s", err.message);
	/* only the last ~10 lines are quoted */
	ck_assert_msg(!contains(err.message, "noise-1\n"), "%s", err.message);
	snprintf(path, sizeof(path), "%s/sites/failing/revisions/1", g_data);
	ck_assert(!lp_fs_exists(path));
	log = read_text("%s", res.log_path);
	check_log_format(log, "==> failed: build exited with code 3");
	free(log);
}
END_TEST

START_TEST(t_deadline_kills)
{
	lp_site s = site("slow", LP_SOURCE_ARCHIVE, "echo started; sleep 120", 2);
	lp_build_result res;
	lp_error err = {0};
	char digest[80], *log;

	make_script_upload(digest);
	s.archive_digest = digest;
	ck_assert_int_eq(build(&res, &s, 1, NULL, NULL, &err), LP_ETIMEOUT);
	ck_assert_msg(contains(err.message, "timed out after 2 s"), "%s", err.message);
	ck_assert_int_eq(res.timed_out, 1);
	/* killed, not waited out: far below the 120 s the command asked for */
	ck_assert_int_lt(res.duration_ms, 60000);
	log = read_text("%s", res.log_path);
	ck_assert_msg(contains(log, "started"), "%s", log);
	ck_assert_msg(contains(log, "deadline reached"), "%s", log);
	check_log_format(log, "==> failed: build timed out after 2 s");
	free(log);
}
END_TEST

START_TEST(t_link_outside_dropped)
{
	lp_site s =
	    site("leaky", LP_SOURCE_ARCHIVE,
	         "mkdir -p dist && echo hi > dist/index.html && ln -s /etc/passwd dist/leak", 60);
	lp_build_result res;
	lp_error err = {0};
	char digest[80], path[1200], *log;
	struct stat st;

	make_script_upload(digest);
	s.archive_digest = digest;
	ck_assert_msg(build(&res, &s, 1, NULL, NULL, &err) == LP_OK, "%s", err.message);
	snprintf(path, sizeof(path), "%s/sites/leaky/revisions/1/leak", g_data);
	ck_assert_int_ne(lstat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/sites/leaky/revisions/1/index.html", g_data);
	ck_assert(lp_fs_exists(path));
	log = read_text("%s", res.log_path);
	ck_assert_msg(contains(log, "publish: dropped dist/leak -> /etc/passwd"), "%s", log);
	free(log);
}
END_TEST

START_TEST(t_sandbox)
{
	lp_site s = site("sandbox", LP_SOURCE_ARCHIVE,
	                 "echo uid=$(id -u) gid=$(id -g); "
	                 "ls -l /var/run/docker.sock || echo no-docker-socket; "
	                 "test ! -S /var/run/docker.sock && echo socket-test-passed; "
	                 "touch /rootfs-probe 2>/dev/null || echo rootfs-read-only; "
	                 "echo caps=$(grep CapEff /proc/self/status); "
	                 "echo cache=$npm_config_cache home=$HOME greeting=$GREETING; "
	                 "touch /cache/probe && echo cache-writable; "
	                 "mkdir -p dist && echo ok > dist/index.html",
	                 60);
	lp_env_var env[] = {{.name = "GREETING", .value = "hello world"}};
	lp_build_result res;
	lp_error err = {0};
	char digest[80], *log;

	make_script_upload(digest);
	s.archive_digest = digest;
	s.build_env = env;
	s.build_env_count = 1;
	ck_assert_msg(build(&res, &s, 1, NULL, NULL, &err) == LP_OK, "%s", err.message);
	log = read_text("%s", res.log_path);
	ck_assert_msg(contains(log, " uid=1000 gid=1000\n"), "%s", log);
	ck_assert_msg(contains(log, " no-docker-socket\n"), "%s", log);
	ck_assert_msg(contains(log, " socket-test-passed\n"), "%s", log);
	ck_assert_msg(contains(log, " rootfs-read-only\n"), "%s", log);
	ck_assert_msg(contains(log, " caps=CapEff: 0000000000000000\n"), "%s", log);
	ck_assert_msg(contains(log, " cache=/cache/npm home=/tmp greeting=hello world\n"), "%s",
	              log);
	ck_assert_msg(contains(log, " cache-writable\n"), "%s", log);
	free(log);
}
END_TEST

START_TEST(t_output_capped)
{
	lp_site s = site("chatty", LP_SOURCE_ARCHIVE,
	                 "head -c 40000000 /dev/zero | tr '\\0' x | fold -w 99; echo final-line; "
	                 "mkdir -p dist && echo ok > dist/index.html",
	                 120);
	lp_build_result res;
	lp_error err = {0};
	char digest[80], *log;
	struct stat st;

	make_script_upload(digest);
	s.archive_digest = digest;
	ck_assert_msg(build(&res, &s, 1, NULL, NULL, &err) == LP_OK, "%s", err.message);
	ck_assert_int_eq(stat(res.log_path, &st), 0);
	ck_assert_int_lt(st.st_size, (off_t)(LP_BUILD_LOG_OUTPUT_MAX + (1 << 20)));
	ck_assert_int_gt(st.st_size, (off_t)(LP_BUILD_LOG_OUTPUT_MAX / 2));
	log = read_text("%s", res.log_path);
	ck_assert_msg(contains(log, "(build output past 32 MiB is not logged)"), "no cap note");
	ck_assert_msg(!contains(log, " final-line\n"), "output past the cap was logged");
	check_log_format(log, "==> done: revision 1 ready in ");
	free(log);
}
END_TEST

START_TEST(t_archive_static)
{
	lp_site s = site("hello", LP_SOURCE_ARCHIVE, NULL, 60);
	lp_build_result res;
	lp_error err = {0};
	char digest[80], *fixture = lp_test_src_path("examples/sites/hello");
	char *want, *got, *log;
	lp_docker_counters before, after;

	make_upload(digest, fixture);
	s.archive_digest = digest;
	lp_docker_counters_get(&before, g_docker);
	ck_assert_msg(build(&res, &s, 1, digest, NULL, &err) == LP_OK, "%s", err.message);
	lp_docker_counters_get(&after, g_docker);
	ck_assert_int_eq(res.exit_code, -1);
	want = read_text("%s/index.html", fixture);
	got = read_text("%s/sites/hello/revisions/1/index.html", g_data);
	ck_assert_str_eq(got, want);
	/* no build: no container, only the leftover sweep */
	ck_assert_uint_le(after.writes - before.writes, 1);
	log = read_text("%s", res.log_path);
	ck_assert_msg(!contains(log, "==> build"), "%s", log);
	check_log_format(log, "==> done: revision 1 ready in ");
	free(fixture);
	free(want);
	free(got);
	free(log);
}
END_TEST

START_TEST(t_missing_upload)
{
	lp_site s = site("ghost", LP_SOURCE_ARCHIVE, NULL, 60);
	lp_build_result res;
	lp_error err = {0};

	s.archive_digest =
	    "sha256:0000000000000000000000000000000000000000000000000000000000000000";
	ck_assert_int_eq(build(&res, &s, 1, NULL, NULL, &err), LP_ENOTFOUND);
	ck_assert_msg(contains(err.message, "upload sha256:0000") &&
	                  contains(err.message, "not found"),
	              "%s", err.message);
	ck_assert_int_eq(build(&res, &s, 1, "../../etc/passwd", NULL, &err), LP_EINVAL);
	s.name = "../evil";
	ck_assert_int_eq(build(&res, &s, 1, NULL, NULL, &err), LP_EINVAL);
}
END_TEST

START_TEST(t_missing_image)
{
	lp_site s = site("noimage", LP_SOURCE_ARCHIVE, "true", 60);
	lp_build_result res;
	lp_error err = {0};
	char digest[80];

	make_script_upload(digest);
	s.archive_digest = digest;
	s.build_image = "launchpad-test/no-such-image:never";
	ck_assert_int_eq(build(&res, &s, 1, NULL, NULL, &err), LP_ENOTFOUND);
	ck_assert_msg(contains(err.message, "build image \"launchpad-test/no-such-image:never\""),
	              "%s", err.message);
	/* A missing image is pulled first (no registry here: the pull fails, and says so). */
	ck_assert_msg(contains(err.message, "could not be pulled"), "%s", err.message);
}
END_TEST

/* Issue 14: a stored spec naming an image the admin does not list fails before any work. */
START_TEST(t_image_not_allowed)
{
	lp_site s = site("badimage", LP_SOURCE_ARCHIVE, "true", 60);
	lp_build_result res;
	lp_error err = {0};
	char digest[80], *log = NULL;

	make_script_upload(digest);
	s.archive_digest = digest;
	s.build_image = "docker.io/evil/miner:latest";
	ck_assert_int_eq(build(&res, &s, 1, NULL, NULL, &err), LP_EFORBIDDEN);
	ck_assert_msg(contains(err.message, "build image docker.io/evil/miner:latest is not "
	                                    "allowed on this installation") &&
	                  contains(err.message, "--build-images (LAUNCHPAD_BUILD_IMAGES)"),
	              "%s", err.message);
	ck_assert_int_eq(res.exit_code, -1);
	ck_assert_int_eq(lp_fs_read_file(&log, NULL, res.log_path, 1 << 20, &err), LP_OK);
	ck_assert_msg(contains(log, "==> failed: build image docker.io/evil/miner:latest is not "
	                            "allowed") &&
	                  !contains(log, "==> build: image"),
	              "%s", log);
	free(log);
}
END_TEST

/* The serve image is ensured at build time, so a new host's first deploy pulls it there. */
START_TEST(t_missing_serve_image)
{
	lp_site s = site("noserve", LP_SOURCE_ARCHIVE, NULL, 60);
	lp_build_result res;
	lp_error err = {0};
	char digest[80], *log = NULL;

	make_script_upload(digest);
	s.archive_digest = digest;
	free(g_cfg->serve_image);
	g_cfg->serve_image = strdup("launchpad-test/no-such-serve:never");
	ck_assert_int_eq(build(&res, &s, 1, NULL, NULL, &err), LP_ENOTFOUND);
	ck_assert_msg(contains(err.message, "serve image \"launchpad-test/no-such-serve:never\" is "
	                                    "missing and could not be pulled"),
	              "%s", err.message);
	ck_assert_int_eq(lp_fs_read_file(&log, NULL, res.log_path, 1 << 20, &err), LP_OK);
	ck_assert_msg(contains(log, "==> pull: serve image launchpad-test/no-such-serve:never"),
	              "%s", log);
	ck_assert_msg(contains(log, "pull failed:"), "%s", log);
	free(log);
}
END_TEST

START_TEST(t_git_source)
{
	lp_site s = site("gitsite", LP_SOURCE_GIT, "npm run build", 300);
	char repo[1200], url[1300], sha1[48], sha2[48], *fixture, *html;
	lp_build_result res;
	lp_error err = {0};

	fixture = lp_test_src_path("examples/sites/npm-app");
	snprintf(repo, sizeof(repo), "%s/repo", g_root);
	lp_test_sh("git init -q -b main '%s' && cp -r '%s'/package.json '%s'/package-lock.json "
	           "'%s'/build.js '%s'/src '%s'/",
	           repo, fixture, fixture, fixture, fixture, repo);
	lp_test_sh(
	    "cd '%s' && sed -i 's/<h1>npm-app/<h1>version one/' src/index.html && %s add -A && "
	    "%s commit -q -m one",
	    repo, GIT_ID, GIT_ID);
	capture(sha1, sizeof(sha1), "git -C '%s' rev-parse HEAD", repo);
	lp_test_sh(
	    "cd '%s' && sed -i 's/version one/version two/' src/index.html && %s commit -qam two",
	    repo, GIT_ID);
	capture(sha2, sizeof(sha2), "git -C '%s' rev-parse HEAD", repo);
	free(fixture);
	snprintf(url, sizeof(url), "file://%s", repo);
	s.git_url = url;

	/* the branch head */
	ck_assert_msg(build(&res, &s, 1, "", NULL, &err) == LP_OK, "%s", err.message);
	ck_assert_str_eq(res.resolved_source, sha2);
	html = read_text("%s/sites/gitsite/revisions/1/index.html", g_data);
	ck_assert_msg(contains(html, "<h1>version two</h1>"), "%s", html);
	free(html);

	/* an exact older commit */
	ck_assert_msg(build(&res, &s, 2, sha1, NULL, &err) == LP_OK, "%s", err.message);
	ck_assert_str_eq(res.resolved_source, sha1);
	html = read_text("%s/sites/gitsite/revisions/2/index.html", g_data);
	ck_assert_msg(contains(html, "<h1>version one</h1>"), "%s", html);
	free(html);
	html = read_text("%s", res.log_path);
	ck_assert_msg(contains(html, "==> fetch: git file://"), "%s", html);
	check_log_format(html, "==> done: revision 2 ready in ");
	free(html);
}
END_TEST

START_TEST(t_idempotent_and_leftovers)
{
	lp_site s =
	    site("again", LP_SOURCE_ARCHIVE, "mkdir -p dist && echo rev > dist/index.html", 60);
	lp_build_result res;
	lp_error err = {0};
	char digest[80], path[1200], name[128], *log1, *log2, *id = NULL;
	lp_docker_counters before, after;
	lp_docker_kv labels[] = {{"launchpad.instance", g_instance}, {"launchpad.site", "again"}};
	const char *cmd[] = {"sleep", "300", NULL};
	lp_docker_create_config cc = {0};

	make_script_upload(digest);
	s.archive_digest = digest;
	ck_assert_msg(build(&res, &s, 1, NULL, NULL, &err) == LP_OK, "%s", err.message);
	log1 = read_text("%s", res.log_path);

	/* Ready: returns at once, touches nothing. */
	lp_docker_counters_get(&before, g_docker);
	ck_assert_msg(build(&res, &s, 1, NULL, NULL, &err) == LP_OK, "%s", err.message);
	lp_docker_counters_get(&after, g_docker);
	ck_assert_int_eq(res.already_ready, 1);
	ck_assert_str_eq(res.resolved_source, digest);
	ck_assert_uint_eq(after.writes, before.writes);
	ck_assert_uint_eq(after.reads, before.reads);
	log2 = read_text("%s", res.log_path);
	ck_assert_str_eq(log1, log2);
	free(log1);
	free(log2);

	/* A crashed attempt at revision 2: temp copy, workspace, a running container. */
	snprintf(path, sizeof(path), "%s/sites/again/revisions/.tmp-2-deadbeef", g_data);
	ck_assert_int_eq(lp_fs_mkdirs(path, 0755, NULL), LP_OK);
	snprintf(path, sizeof(path), "%s/work/again-2/junk", g_data);
	ck_assert_int_eq(lp_fs_mkdirs(path, 0755, NULL), LP_OK);
	snprintf(name, sizeof(name), "%s-build-again-2", g_instance);
	cc.name = name;
	cc.image = build_image();
	cc.cmd = cmd;
	cc.labels = labels;
	cc.nlabels = 2;
	cc.network = "none";
	ck_assert_msg(lp_docker_container_create(&id, g_docker, &cc, &err) == LP_OK, "%s",
	              err.message);
	ck_assert_int_eq(lp_docker_container_start(g_docker, id, NULL), LP_OK);
	free(id);
	ck_assert_msg(build(&res, &s, 2, NULL, NULL, &err) == LP_OK, "%s", err.message);
	ck_assert_int_eq(res.already_ready, 0);
	snprintf(path, sizeof(path), "%s/sites/again/revisions/.tmp-2-deadbeef", g_data);
	ck_assert(!lp_fs_exists(path));
	snprintf(path, sizeof(path), "%s/sites/again/revisions/2/index.html", g_data);
	ck_assert(lp_fs_exists(path));
	snprintf(path, sizeof(path), "%s/sites/again/revisions/2/junk", g_data);
	ck_assert(!lp_fs_exists(path));
}
END_TEST

struct canceller {
	atomic_int flag;
	const char *log_path;
	struct timespec fired;
};

static void *cancel_when_started(void *arg)
{
	struct canceller *c = arg;
	int i;

	for (i = 0; i < 1200; i++) { /* up to 120 s for the container to print */
		char *data = NULL;
		size_t len;

		if (lp_fs_read_file(&data, &len, c->log_path, 1 << 20, NULL) == LP_OK &&
		    strstr(data, " started\n") != NULL) {
			free(data);
			break;
		}
		free(data);
		usleep(100000);
	}
	clock_gettime(CLOCK_MONOTONIC, &c->fired);
	atomic_store(&c->flag, 1);
	return NULL;
}

START_TEST(t_cancel)
{
	lp_site s = site("cancelme", LP_SOURCE_ARCHIVE, "echo started; sleep 300", 600);
	struct canceller c = {0};
	struct timespec end;
	lp_build_result res;
	lp_error err = {0};
	char digest[80], log_path[1200], *log;
	pthread_t t;
	double after_fire;

	make_script_upload(digest);
	s.archive_digest = digest;
	snprintf(log_path, sizeof(log_path), "%s/logs/cancelme/1.log", g_data);
	c.log_path = log_path;
	atomic_init(&c.flag, 0);
	ck_assert_int_eq(pthread_create(&t, NULL, cancel_when_started, &c), 0);
	ck_assert_int_eq(build(&res, &s, 1, NULL, &c.flag, &err), LP_ECANCELED);
	clock_gettime(CLOCK_MONOTONIC, &end);
	pthread_join(t, NULL);
	after_fire = (double)(end.tv_sec - c.fired.tv_sec) + (end.tv_nsec - c.fired.tv_nsec) / 1e9;
	/* a stop, not the 300 s sleep running out */
	ck_assert_msg(after_fire < 30.0, "took %.1f s to stop after the cancel", after_fire);
	log = read_text("%s", log_path);
	ck_assert_msg(contains(log, " started\n"), "%s", log);
	check_log_format(log, "==> failed: build canceled");
	free(log);
	/* container and workspace: checked by teardown */
}
END_TEST

/* ---- disk caps, the free-space floor, interruptions ---- */

/* Progress lines a build reported through on_status, kept for the test to look at. */
struct statuses {
	pthread_mutex_t mu;
	char text[8192];
	int waiting_disk, retrying;
};

static void on_status(void *ctx, lp_build_status status, const char *message)
{
	struct statuses *s = ctx;
	size_t n;

	pthread_mutex_lock(&s->mu);
	n = strlen(s->text);
	snprintf(s->text + n, sizeof(s->text) - n, "%s\n", message);
	s->waiting_disk += status == LP_BUILD_STATUS_WAITING_DISK;
	s->retrying += status == LP_BUILD_STATUS_RETRYING;
	pthread_mutex_unlock(&s->mu);
}

/* A build with the knobs these tests turn: status lines, fast retries, a memory cap. */
static int build_with(lp_build_result *res, const lp_site *spec, lp_docker *docker,
                      struct statuses *st, int64_t memory, lp_error *err)
{
	lp_build_request req = {
	    .cfg = g_cfg,
	    .docker = docker ? docker : g_docker,
	    .site_name = spec->name,
	    .spec = spec,
	    .revision = 1,
	    .memory_bytes = memory,
	    .retry_base_ms = 100,
	    .on_status = st ? on_status : NULL,
	    .status_ctx = st,
	};

	return lp_build_revision(res, &req, err);
}

/* Wait (up to 120 s) until the log at path contains needle. */
static int log_shows(const char *path, const char *needle)
{
	int i;

	for (i = 0; i < 1200; i++) {
		char *data = NULL;
		size_t len;
		int found = lp_fs_read_file(&data, &len, path, 64 << 20, NULL) == LP_OK &&
		            strstr(data, needle) != NULL;

		free(data);
		if (found)
			return 1;
		usleep(100000);
	}
	return 0;
}

/* Writing past the workspace cap: killed while it runs, the message names cap and usage. */
START_TEST(t_workspace_cap_kills)
{
	lp_site s =
	    site("bigws", LP_SOURCE_ARCHIVE,
	         "dd if=/dev/zero of=big bs=1M count=60 2>/dev/null; echo wrote; sleep 60", 120);
	lp_build_result res;
	lp_error err = {0};
	char digest[80], *log;

	g_cfg->build_workspace_max_mb = 20;
	make_script_upload(digest);
	s.archive_digest = digest;
	ck_assert_int_eq(build(&res, &s, 1, NULL, NULL, &err), LP_ETOOBIG);
	ck_assert_msg(
	    contains(err.message, "build workspace used 60.") &&
	        contains(err.message, "MiB, over its cap of 20 MiB (--build-workspace-max-mb)"),
	    "%s", err.message);
	/* killed, not waited out: the command would sleep 60 s more */
	ck_assert_int_lt(res.duration_ms, 50000);
	ck_assert_uint_gt(res.workspace_bytes, (uint64_t)60 << 20);
	log = read_text("%s", res.log_path);
	ck_assert_msg(contains(log, " wrote\n"), "%s", log);
	ck_assert_msg(contains(log, "==> disk cap reached: killing the build container"), "%s",
	              log);
	check_log_format(log, "==> failed: build workspace used 60.");
	free(log);
}
END_TEST

/* Over the cap and done before the watchdog looked: the measurement at the end catches it. */
START_TEST(t_workspace_cap_at_exit)
{
	lp_site s = site("quickws", LP_SOURCE_ARCHIVE,
	                 "dd if=/dev/zero of=big bs=1M count=30 2>/dev/null; mkdir -p dist && "
	                 "echo ok > dist/index.html",
	                 120);
	lp_build_result res;
	lp_error err = {0};
	char digest[80], path[1200];

	g_cfg->build_workspace_max_mb = 20;
	make_script_upload(digest);
	s.archive_digest = digest;
	ck_assert_int_eq(build(&res, &s, 1, NULL, NULL, &err), LP_ETOOBIG);
	ck_assert_msg(contains(err.message, "build workspace used 30.") &&
	                  contains(err.message, "over its cap of 20 MiB"),
	              "%s", err.message);
	ck_assert_int_eq(res.exit_code, 0);
	LP_TEST_FMT(path, "%s/sites/quickws/revisions/1", g_data);
	ck_assert(!lp_fs_exists(path)); /* not published */
}
END_TEST

/* The dependency cache has its own cap. */
START_TEST(t_cache_cap)
{
	lp_site s = site("bigcache", LP_SOURCE_ARCHIVE,
	                 "dd if=/dev/zero of=/cache/blob bs=1M count=40 2>/dev/null; mkdir -p dist "
	                 "&& echo ok > dist/index.html",
	                 120);
	lp_build_result res;
	lp_error err = {0};
	char digest[80];

	g_cfg->build_cache_max_mb = 20;
	make_script_upload(digest);
	s.archive_digest = digest;
	ck_assert_int_eq(build(&res, &s, 1, NULL, NULL, &err), LP_ETOOBIG);
	ck_assert_msg(contains(err.message, "build cache used 40.") &&
	                  contains(err.message, "over its cap of 20 MiB (--build-cache-max-mb)"),
	              "%s", err.message);
	ck_assert_uint_gt(res.cache_bytes, (uint64_t)40 << 20);
}
END_TEST

/* Before a build, the cache goes down to half its cap, the least recently used files first. */
START_TEST(t_cache_trimmed_before_build)
{
	lp_site s =
	    site("trimmed", LP_SOURCE_ARCHIVE,
	         "ls /cache > listing.txt; mkdir -p dist && cp listing.txt dist/index.html", 120);
	lp_build_result res;
	lp_error err = {0};
	char digest[80], cache[1200], *html, *log;
	struct stat st;
	time_t now = time(NULL);

	g_cfg->build_cache_max_mb = 20;
	LP_TEST_FMT(cache, "%s/cache/build/trimmed", g_data);
	lp_test_sh("mkdir -p '%s' && dd if=/dev/zero of='%s/stale' bs=1M count=12 2>/dev/null && "
	           "dd if=/dev/zero of='%s/fresh' bs=1M count=4 2>/dev/null && "
	           "touch -d @%lld '%s/stale' '%s' && touch -d @%lld '%s/fresh'",
	           cache, cache, cache, (long long)now - 86400 * 30, cache, cache,
	           (long long)now - 60, cache);
	make_script_upload(digest);
	s.archive_digest = digest;
	ck_assert_msg(build(&res, &s, 1, NULL, NULL, &err) == LP_OK, "%s", err.message);
	html = read_text("%s/sites/trimmed/revisions/1/index.html", g_data);
	ck_assert_msg(contains(html, "fresh") && !contains(html, "stale"), "%s", html);
	log = read_text("%s", res.log_path);
	ck_assert_msg(contains(log, "cache: removed 1 least recently used files"), "%s", log);
	/* marked used by this build: the platform-wide eviction goes by it */
	ck_assert_int_eq(stat(cache, &st), 0);
	ck_assert_int_ge(st.st_mtime, now - 5);
	free(html);
	free(log);
}
END_TEST

struct filler {
	struct statuses *st;
	char path[1200];
	int removed;
};

/* Once the build says it waits for disk space, free the space. */
static void *free_space_when_waiting(void *arg)
{
	struct filler *f = arg;
	int i, waiting = 0;

	for (i = 0; i < 600 && !waiting; i++) {
		pthread_mutex_lock(&f->st->mu);
		waiting = f->st->waiting_disk > 0;
		pthread_mutex_unlock(&f->st->mu);
		if (!waiting)
			usleep(100000);
	}
	f->removed = waiting && unlink(f->path) == 0;
	return NULL;
}

/* Below the free-space floor a build waits, says so, and goes on once there is room. */
START_TEST(t_free_space_floor_waits)
{
	lp_site s =
	    site("floor", LP_SOURCE_ARCHIVE, "mkdir -p dist && echo ok > dist/index.html", 120);
	struct statuses st = {.mu = PTHREAD_MUTEX_INITIALIZER};
	struct filler f = {.st = &st};
	lp_build_result res;
	lp_error err = {0};
	char digest[80], *log;
	pthread_t t;

	/* A data dir on a 64 MiB filesystem, 40 MiB of it taken: ~24 MiB free, under the floor. */
	LP_TEST_FMT(g_mount, "%s/small", g_root);
	ck_assert_int_eq(mkdir(g_mount, 0755), 0);
	ck_assert_msg(mount("tmpfs", g_mount, "tmpfs", 0, "size=64m") == 0,
	              "mount a 64 MiB tmpfs (this test needs root): %s", strerror(errno));
	LP_TEST_FMT(g_data, "%s/data", g_mount);
	free(g_cfg->data_dir);
	g_cfg->data_dir = strdup(g_data);
	g_cfg->min_free_mb = 40;
	LP_TEST_FMT(f.path, "%s/filler", g_mount);
	lp_test_sh("dd if=/dev/zero of='%s' bs=1M count=40 2>/dev/null", f.path);
	make_script_upload(digest);
	s.archive_digest = digest;
	ck_assert_int_eq(pthread_create(&t, NULL, free_space_when_waiting, &f), 0);
	ck_assert_msg(build_with(&res, &s, NULL, &st, 0, &err) == LP_OK, "%s", err.message);
	pthread_join(t, NULL);
	ck_assert_int_eq(f.removed, 1);
	ck_assert_msg(contains(st.text, "waiting for disk space: 2") &&
	                  contains(st.text, " MiB free, floor 40 MiB\nbuilding\n"),
	              "%s", st.text);
	ck_assert_int_gt(res.disk_wait_ms, 0);
	log = read_text("%s", res.log_path);
	ck_assert_msg(contains(log, "==> waiting for disk space: 2"), "%s", log);
	ck_assert_msg(contains(log, "disk space is back: "), "%s", log);
	check_log_format(log, "==> done: revision 1 ready in ");
	free(log);
}
END_TEST

/* The first attempt runs until killed from outside; the second finds its marker and builds. */
#define SECOND_ATTEMPT_BUILDS                                                                      \
	"if [ -e /cache/attempted ]; then mkdir -p dist && echo second > dist/index.html; "        \
	"else touch /cache/attempted; echo started; sleep 300; fi"

struct killer {
	const char *log_path;
	char container[128];
	char log_config[256];
	int kills;
	atomic_int done;
	int every; /* kill every attempt, not only the first */
};

static void shell_capture(char *out, size_t outsz, const char *cmd)
{
	FILE *p = popen(cmd, "r");
	size_t n = 0;

	out[0] = '\0';
	if (p == NULL)
		return;
	n = fread(out, 1, outsz - 1, p);
	out[n] = '\0';
	while (n > 0 && out[n - 1] == '\n')
		out[--n] = '\0';
	pclose(p);
}

/* docker kill, as an operator (or the OOM-less chaos) would: the container dies with 137. */
static void *kill_from_outside(void *arg)
{
	struct killer *k = arg;
	char cmd[512];
	int i;

	if (!log_shows(k->log_path, " started\n"))
		return NULL;
	LP_TEST_FMT(cmd, "docker inspect -f '{{json .HostConfig.LogConfig}}' %s", k->container);
	shell_capture(k->log_config, sizeof(k->log_config), cmd);
	for (i = 0; i < 1200 && !atomic_load(&k->done); i++) {
		if (lp_docker_container_kill(g_docker, k->container, NULL, NULL) == LP_OK) {
			k->kills++;
			if (!k->every)
				break;
		}
		usleep(100000);
	}
	return NULL;
}

START_TEST(t_outside_kill_retried)
{
	lp_site s = site("killed", LP_SOURCE_ARCHIVE, SECOND_ATTEMPT_BUILDS, 600);
	struct statuses st = {.mu = PTHREAD_MUTEX_INITIALIZER};
	struct killer k = {0};
	char digest[80], log_path[1200], *log, *html;
	lp_build_result res;
	lp_error err = {0};
	pthread_t t;

	make_script_upload(digest);
	s.archive_digest = digest;
	LP_TEST_FMT(log_path, "%s/logs/killed/1.log", g_data);
	k.log_path = log_path;
	LP_TEST_FMT(k.container, "%s-build-killed-1", g_instance);
	ck_assert_int_eq(pthread_create(&t, NULL, kill_from_outside, &k), 0);
	ck_assert_msg(build_with(&res, &s, NULL, &st, 0, &err) == LP_OK, "%s", err.message);
	atomic_store(&k.done, 1);
	pthread_join(t, NULL);
	ck_assert_int_eq(k.kills, 1);
	ck_assert_int_eq(res.attempts, 2);
	ck_assert_int_eq(res.oom_killed, 0);
	/* build containers rotate their log too (one file holds what the build logs) */
	ck_assert_str_eq(
	    k.log_config,
	    "{\"Type\":\"json-file\",\"Config\":{\"max-file\":\"2\",\"max-size\":\"100m\"}}");
	html = read_text("%s/sites/killed/revisions/1/index.html", g_data);
	ck_assert_str_eq(html, "second\n");
	log = read_text("%s", res.log_path);
	ck_assert_msg(contains(log, "==> build interrupted: the build container was killed from "
	                            "outside (exit code 137, not out of memory); retrying in 0.1 s "
	                            "(attempt 2 of 4)"),
	              "%s", log);
	ck_assert_msg(contains(log, "==> attempt 2 of 4"), "%s", log);
	check_log_format(log, "==> done: revision 1 ready in ");
	ck_assert_int_eq(st.retrying, 1);
	ck_assert_msg(contains(st.text, "killed from outside"), "%s", st.text);
	free(html);
	free(log);
}
END_TEST

/* Killed every time: retried a bounded number of times, then a failure that says so. */
START_TEST(t_outside_kill_bounded)
{
	lp_site s = site("alwayskilled", LP_SOURCE_ARCHIVE, "echo started; sleep 300", 600);
	struct killer k = {.every = 1};
	char digest[80], log_path[1200], *log;
	lp_build_result res;
	lp_error err = {0};
	pthread_t t;

	make_script_upload(digest);
	s.archive_digest = digest;
	LP_TEST_FMT(log_path, "%s/logs/alwayskilled/1.log", g_data);
	k.log_path = log_path;
	LP_TEST_FMT(k.container, "%s-build-alwayskilled-1", g_instance);
	ck_assert_int_eq(pthread_create(&t, NULL, kill_from_outside, &k), 0);
	ck_assert_int_eq(build_with(&res, &s, NULL, NULL, 0, &err), LP_EUNAVAILABLE);
	atomic_store(&k.done, 1);
	pthread_join(t, NULL);
	log = read_text("%s", res.log_path);
	ck_assert_msg(res.attempts == LP_BUILD_RETRIES + 1, "%d attempts: %s", res.attempts, log);
	ck_assert_int_eq(res.interrupted, 1);
	ck_assert_msg(k.kills == LP_BUILD_RETRIES + 1, "%d kills: %s", k.kills, log);
	ck_assert_msg(contains(err.message,
	                       "gave up after 4 attempts: build interrupted: the build "
	                       "container was killed from outside"),
	              "%s", err.message);
	check_log_format(log, "==> failed: gave up after 4 attempts");
	free(log);
}
END_TEST

/* The OOM killer's verdict is the build's: a failure with its own message, never retried. */
START_TEST(t_oom_is_a_failure)
{
	lp_site s =
	    site("hungry", LP_SOURCE_ARCHIVE,
	         "echo allocating; node -e 'const a=[];for(;;)a.push(Buffer.alloc(1<<20,1))'", 120);
	lp_build_result res;
	lp_error err = {0};
	char digest[80], *log;

	make_script_upload(digest);
	s.archive_digest = digest;
	ck_assert_int_eq(build_with(&res, &s, NULL, NULL, (int64_t)64 << 20, &err), LP_EBUILD);
	ck_assert_int_eq(res.oom_killed, 1);
	ck_assert_int_eq(res.attempts, 1);
	ck_assert_msg(!strncmp(err.message,
	                       "out of memory: the build used more than 64 MiB; last lines:", 59),
	              "%s", err.message);
	ck_assert_msg(contains(err.message, "allocating"), "%s", err.message);
	log = read_text("%s", res.log_path);
	ck_assert_msg(!contains(log, "retrying"), "%s", log);
	check_log_format(log, "==> failed: out of memory: the build used more than 64 MiB");
	free(log);
}
END_TEST

struct cutter {
	lp_engine_proxy *proxy;
	const char *log_path;
	int cut;
};

static void *cut_engine_when_started(void *arg)
{
	struct cutter *c = arg;

	if (log_shows(c->log_path, " started\n")) {
		lp_engine_proxy_cut(c->proxy, 1500);
		c->cut = 1;
	}
	return NULL;
}

/* The engine going away mid-build (as in a restart) is an interruption too: retried. */
START_TEST(t_engine_gone_retried)
{
	lp_site s = site("enginegone", LP_SOURCE_ARCHIVE, SECOND_ATTEMPT_BUILDS, 600);
	lp_docker_options o = {0};
	struct cutter c = {0};
	char digest[80], sock[1200], log_path[1200], *log;
	lp_build_request req = {0};
	lp_docker *via_proxy = NULL;
	lp_build_result res;
	lp_error err = {0};
	pthread_t t;

	LP_TEST_FMT(sock, "%s/engine.sock", g_root);
	c.proxy = lp_engine_proxy_start(sock, "/var/run/docker.sock");
	ck_assert_ptr_nonnull(c.proxy);
	o.socket_path = sock;
	ck_assert_int_eq(lp_docker_new(&via_proxy, &o, &err), LP_OK);
	make_script_upload(digest);
	s.archive_digest = digest;
	LP_TEST_FMT(log_path, "%s/logs/enginegone/1.log", g_data);
	c.log_path = log_path;
	ck_assert_int_eq(pthread_create(&t, NULL, cut_engine_when_started, &c), 0);
	req = (lp_build_request){.cfg = g_cfg,
	                         .docker = via_proxy,
	                         .site_name = s.name,
	                         .spec = &s,
	                         .revision = 1,
	                         .retry_base_ms = 1000};
	ck_assert_msg(lp_build_revision(&res, &req, &err) == LP_OK, "%s", err.message);
	pthread_join(t, NULL);
	ck_assert_int_eq(c.cut, 1);
	ck_assert_int_ge(res.attempts, 2);
	log = read_text("%s", res.log_path);
	ck_assert_msg(contains(log, "==> build interrupted: the Docker engine went away; retrying"),
	              "%s", log);
	check_log_format(log, "==> done: revision 1 ready in ");
	free(log);
	lp_docker_free(via_proxy);
	lp_engine_proxy_stop(c.proxy);
}
END_TEST

/*
 * Insecure sources off (production): a Git host on loopback or on one of the engine's networks
 * (here a network with a public-looking range, refused only because the engine has it) is
 * refused before anything connects, with the one refusal text.
 */
START_TEST(t_git_internal_hosts_refused)
{
	lp_site s = site("ssrf", LP_SOURCE_GIT, NULL, 60);
	char net[96], want[LP_ERROR_MESSAGE_MAX];
	lp_build_result res;
	lp_error err = {0};
	int rc;

	g_cfg->allow_insecure_sources = 0;
	s.git_url = "https://127.0.0.1:2375/x";
	ck_assert_int_eq(build(&res, &s, 1, NULL, NULL, &err), LP_EUNSAFE);
	LP_TEST_FMT(want, "git host \"127.0.0.1\" is refused: %s", LP_GITNET_REFUSED);
	ck_assert_str_eq(err.message, want);
	LP_TEST_FMT(net, "%s-ssrf", g_instance);
	lp_test_sh("docker network create --subnet 11.11.77.0/24 --label launchpad.instance=%s %s "
	           ">/dev/null",
	           g_instance, net);
	s.git_url = "https://11.11.77.5/x";
	rc = build(&res, &s, 2, NULL, NULL, &err);
	lp_test_sh("docker network rm %s >/dev/null", net);
	ck_assert_msg(rc == LP_EUNSAFE, "%s", err.message);
	ck_assert_msg(contains(err.message, "git host \"11.11.77.5\" is refused"), "%s",
	              err.message);
}
END_TEST

static void wait_for_image(void)
{
	char cmd[512];
	int i;

	snprintf(cmd, sizeof(cmd), "docker image inspect %s >/dev/null 2>&1", build_image());
	for (i = 0; i < 180 && system(cmd) != 0; i++) {
		if (i == 0)
			fprintf(stderr, "waiting for the test image %s ...\n", build_image());
		sleep(5);
	}
}

static Suite *build_suite(void)
{
	Suite *s = suite_create("build");
	TCase *tc = tcase_create("build");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_unchecked_fixture(tc, NULL, sweep);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, t_npm_build_published);
	tcase_add_test(tc, t_exit_code_fails_with_tail);
	tcase_add_test(tc, t_deadline_kills);
	tcase_add_test(tc, t_link_outside_dropped);
	tcase_add_test(tc, t_sandbox);
	tcase_add_test(tc, t_output_capped);
	tcase_add_test(tc, t_archive_static);
	tcase_add_test(tc, t_missing_upload);
	tcase_add_test(tc, t_missing_image);
	tcase_add_test(tc, t_image_not_allowed);
	tcase_add_test(tc, t_missing_serve_image);
	tcase_add_test(tc, t_git_source);
	tcase_add_test(tc, t_idempotent_and_leftovers);
	tcase_add_test(tc, t_cancel);
	tcase_add_test(tc, t_workspace_cap_kills);
	tcase_add_test(tc, t_workspace_cap_at_exit);
	tcase_add_test(tc, t_cache_cap);
	tcase_add_test(tc, t_cache_trimmed_before_build);
	tcase_add_test(tc, t_free_space_floor_waits);
	tcase_add_test(tc, t_outside_kill_retried);
	tcase_add_test(tc, t_outside_kill_bounded);
	tcase_add_test(tc, t_oom_is_a_failure);
	tcase_add_test(tc, t_engine_gone_retried);
	tcase_add_test(tc, t_git_internal_hosts_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	char hex[17];

	lp_test_require_docker();
	if (lp_crypto_random_hex(hex, 8) != LP_OK)
		return 1;
	snprintf(g_instance, sizeof(g_instance), "tb%s", hex);
	wait_for_image();
	return lp_test_run(build_suite());
}
