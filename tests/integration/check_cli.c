/* check_cli.c: end to end: the built `launchpad` CLI against the real apiserver, controller and
 * dockerd (tests/lib/platform.h): apply, deploy, get, describe, logs -f, rollback, delete, login
 * and the error paths (bad manifest, wrong token, unreachable server).
 */
#include <check.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "launchpad/buf.h"
#include "launchpad/fs.h"
#include "tests/lib/platform.h"
#include "launchpad/version.h"
#include "tests/lib/testutil.h"

#define CLI_TIMEOUT_S 240 /* one CLI run, --wait included */

static lp_test_platform *plat;
static char *scratch; /* per-test temp dir: manifests, repos, the CLI's config home */
/* LAUNCHPAD_ALLOW_INSECURE_SOURCES for the CLI; NULL: unset */
static const char *cli_insecure = "true";
static const char *cli_path;  /* PATH for the CLI; NULL: as it is */
static const char *cli_stdin; /* a file the CLI reads as stdin; NULL: /dev/null */

struct run {
	int status; /* exit code; -1 when it did not exit normally */
	char *out;
	char *err;
};

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

/* The CLI's environment: the platform's server and token unless told otherwise. */
static void child_env(const char *server, const char *token)
{
	char xdg[4200];

	snprintf(xdg, sizeof(xdg), "%s/xdg", scratch);
	setenv("XDG_CONFIG_HOME", xdg, 1);
	if (cli_path)
		setenv("PATH", cli_path, 1);
	if (cli_insecure)
		setenv("LAUNCHPAD_ALLOW_INSECURE_SOURCES", cli_insecure, 1);
	else
		unsetenv("LAUNCHPAD_ALLOW_INSECURE_SOURCES");
	if (server)
		setenv("LAUNCHPAD_SERVER", server, 1);
	else
		unsetenv("LAUNCHPAD_SERVER");
	if (token)
		setenv("LAUNCHPAD_TOKEN", token, 1);
	else
		unsetenv("LAUNCHPAD_TOKEN");
}

static char *slurp(const char *path)
{
	char *data = NULL;
	size_t len;

	if (lp_fs_read_file(&data, &len, path, 16 << 20, NULL) != LP_OK)
		return strdup("");
	return data;
}

/*
 * Start `launchpad ARGS` (argv without the binary, NULL-terminated) with server/token (NULL:
 * unset) and stdin from /dev/null; stdout and stderr go to <scratch>/<tag>.out and .err.
 */
static pid_t spawn(const char *tag, const char *server, const char *token, char **args)
{
	char *bin = lp_test_bin_path("launchpad"), *argv[40], out[4200], err[4200];
	int n = 0, fd;
	pid_t pid;

	argv[n++] = bin;
	while (n < 39 && args[n - 1] != NULL) {
		argv[n] = args[n - 1];
		n++;
	}
	argv[n] = NULL;
	snprintf(out, sizeof(out), "%s/%s.out", scratch, tag);
	snprintf(err, sizeof(err), "%s/%s.err", scratch, tag);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		child_env(server, token);
		fd = open(cli_stdin ? cli_stdin : "/dev/null", O_RDONLY);
		dup2(fd, 0);
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 2);
		execv(bin, argv);
		_exit(127);
	}
	free(bin);
	return pid;
}

/* Wait for a spawned CLI (killed after timeout_s) and read what it printed. */
static struct run collect(pid_t pid, const char *tag, int timeout_s)
{
	struct run r = {-1, NULL, NULL};
	char out[4200], err[4200];
	int status = 0;
	time_t end = time(NULL) + timeout_s;

	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (time(NULL) > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		usleep(20 * 1000);
	}
	snprintf(out, sizeof(out), "%s/%s.out", scratch, tag);
	snprintf(err, sizeof(err), "%s/%s.err", scratch, tag);
	r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	r.out = slurp(out);
	r.err = slurp(err);
	return r;
}

/*
 * Run `launchpad ARGS...` (NULL-terminated) with server/token (NULL: unset) and stdin from
 * /dev/null; stdout and stderr are captured. Killed after CLI_TIMEOUT_S.
 */
static struct run cli_env(const char *server, const char *token, ...)
{
	char *args[40];
	va_list ap;
	int n = 0;

	va_start(ap, token);
	while (n < 39 && (args[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	args[n] = NULL;
	return collect(spawn("cli", server, token, args), "cli", CLI_TIMEOUT_S);
}

/* `launchpad ARGS...` in the background, its output under tag: collect() it. */
static pid_t cli_bg_args(const char *tag, ...)
{
	char *args[40];
	va_list ap;
	int n = 0;

	va_start(ap, tag);
	while (n < 39 && (args[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	args[n] = NULL;
	return spawn(tag, plat->url, plat->token, args);
}

#define cli_bg(tag, ...) cli_bg_args(tag, __VA_ARGS__, (char *)NULL)

#define cli(...) cli_env(plat->url, plat->token, __VA_ARGS__, (char *)NULL)

#define ck_run(r, want)                                                                            \
	ck_assert_msg((r).status == (want), "exit %d (want %d)\nstdout:\n%s\nstderr:\n%s",         \
	              (r).status, (want), (r).out, (r).err)

static void write_file(const char *path, const char *fmt, ...)
{
	char *text = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	ck_assert_int_ge(n, 0);
	ck_assert_int_eq(lp_fs_write_atomic(path, text, (size_t)n, 0644, NULL), LP_OK);
	free(text);
}

static char *spath(const char *rel)
{
	char *p = NULL;

	ck_assert_int_ge(asprintf(&p, "%s/%s", scratch, rel), 0);
	return p;
}

static cJSON *api_get(const char *path)
{
	lp_test_http_resp r = {0};
	lp_error err = {0};
	cJSON *j;

	ck_assert_int_eq(lp_test_platform_api(&r, plat, "GET", path, NULL, &err), LP_OK);
	ck_assert_msg(r.status == 200, "GET %s: %ld %s", path, r.status, r.body);
	j = r.json;
	r.json = NULL;
	lp_test_http_resp_release(&r);
	return j;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static long jnum(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? (long)v->valuedouble : -1;
}

static void served(const char *slug, const char *body)
{
	lp_error err = {0};

	if (lp_test_platform_wait_served(plat, slug, body, 60000, &err) != LP_OK) {
		lp_test_platform_dump_logs(plat, 4000);
		ck_abort_msg("%s not serving \"%s\": %s", slug, body, err.message);
	}
}

static void setup(void)
{
	lp_error err = {0};

	scratch = lp_test_mkdtemp("lp-cli-e2e");
	ck_assert_ptr_nonnull(scratch);
	if (lp_test_platform_start(&plat, NULL, &err) != LP_OK)
		ck_abort_msg("platform: %s", err.message);
}

/*
 * The apiserver alone, refusing http:// and file:// Git URLs: sites stay as applied (nothing
 * builds, nothing is pulled), for what needs the API and not a rollout.
 */
static void setup_api(void)
{
	/* the examples' images, as an admin who wants them would allow them (examples/README.md) */
	static const char *const env[] = {"LAUNCHPAD_ALLOW_INSECURE_SOURCES=false",
	                                  "LAUNCHPAD_BUILD_IMAGES=node:*,python:*", NULL};
	lp_test_platform_options o = {.no_controller = 1, .env = env};
	lp_error err = {0};

	scratch = lp_test_mkdtemp("lp-cli-api");
	ck_assert_ptr_nonnull(scratch);
	if (lp_test_platform_start(&plat, &o, &err) != LP_OK)
		ck_abort_msg("platform: %s", err.message);
}

static void teardown(void)
{
	lp_test_platform_free(plat);
	plat = NULL;
	if (lp_fs_remove_tree(scratch, NULL) != LP_OK)
		fprintf(stderr, "cleanup: cannot remove %s\n", scratch);
	free(scratch);
	scratch = NULL;
}

/* A git repo at <scratch>/repo whose build prints `step N` once a second, then writes body. */
static void git_commit(const char *body, int steps)
{
	char *repo = spath("repo"), cmd[8600];

	ck_assert_int_eq(lp_fs_mkdirs(repo, 0755, NULL), LP_OK);
	snprintf(cmd, sizeof(cmd), "%s/build.sh", repo);
	write_file(cmd,
	           "for i in $(seq 1 %d); do echo \"step $i\"; sleep 1; done\n"
	           "mkdir -p out && printf '%%s' '%s' > out/index.html\n",
	           steps, body);
	snprintf(cmd, sizeof(cmd),
	         "cd %s && (test -d .git || git init -q -b main) && git add -A && "
	         "git -c user.email=t@e -c user.name=t commit -qm '%s' >/dev/null",
	         repo, body);
	ck_assert_int_eq(system(cmd), 0);
	free(repo);
}

static void git_manifest(const char *path, const char *name, const char *command)
{
	write_file(path,
	           "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  name: %s\nspec:\n"
	           "  source:\n    git:\n      url: file://%s/repo\n      branch: main\n"
	           "  build:\n    image: %s\n    command: %s\n    outputDir: out\n",
	           name, scratch, plat->build_image, command);
}

/* 1 when text holds an ISO timestamp ("2026-12-01T16:33:09"): a log line shown unstripped. */
static int has_stamp(const char *text)
{
	const char *p;

	for (p = text; (p = strchr(p, 'T')) != NULL; p++)
		if (p - text >= 10 && p[-3] == '-' && p[-6] == '-' && p[-1] >= '0' &&
		    p[-1] <= '9' && p[1] >= '0' && p[1] <= '9' && p[3] == ':')
			return 1;
	return 0;
}

/* 1 when text has a line "NAME   STATUS   ..." for name and status. */
static int table_row(const char *text, const char *name, const char *status)
{
	const char *line;
	size_t n = strlen(name);

	for (line = text; line && *line;
	     line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		const char *p = line + n;

		if (strncmp(line, name, n) || *p != ' ')
			continue;
		while (*p == ' ')
			p++;
		if (!strncmp(p, status, strlen(status)) && p[strlen(status)] == ' ')
			return 1;
	}
	return 0;
}

static int lines_in(const char *text)
{
	int n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

START_TEST(test_errors)
{
	struct run r;
	char *bad = spath("bad.yaml");
	cJSON *list;

	/* a bad manifest: every error with its location, exit 1, nothing sent */
	write_file(bad,
	           "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  name: Bad_Name\n"
	           "spec:\n  source:\n    git: {url: https://x/y}\n  revisionHistoryLimit: 0\n");
	r = cli("apply", "-f", bad);
	ck_run(r, 1);
	ck_assert_msg(strstr(r.err, "bad.yaml:4:9: metadata.name:"), "%s", r.err);
	ck_assert_msg(strstr(r.err, "bad.yaml:8:25: spec.revisionHistoryLimit:"), "%s", r.err);
	ck_assert_str_eq(r.out, "");
	run_free(&r);
	list = api_get("/api/deployments");
	ck_assert_int_eq(cJSON_GetArraySize(list), 0);
	cJSON_Delete(list);

	/* a wrong token: the API's code and message, exit 1 */
	r = cli_env(plat->url, "not-the-token", "get", "sites", (char *)NULL);
	ck_run(r, 1);
	ck_assert_msg(strstr(r.err, "unauthorized") && strstr(r.err, "HTTP 401"), "%s", r.err);
	run_free(&r);

	/* an unreachable server: named with its URL */
	r = cli_env("http://127.0.0.1:1", plat->token, "get", "sites", (char *)NULL);
	ck_run(r, 1);
	ck_assert_msg(strstr(r.err, "cannot reach the LaunchPad API at http://127.0.0.1:1: "
	                            "connection refused"),
	              "%s", r.err);
	run_free(&r);

	/* usage errors exit 2; --help exits 0 */
	r = cli("get", "-o", "xml", "sites");
	ck_run(r, 2);
	run_free(&r);
	r = cli("frobnicate");
	ck_run(r, 2);
	run_free(&r);
	r = cli("rollback", "--help");
	ck_run(r, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "usage: launchpad rollback"));
	run_free(&r);

	/* unknown site: the API's not_found */
	r = cli("describe", "site", "nope");
	ck_run(r, 1);
	ck_assert_msg(strstr(r.err, "not_found"), "%s", r.err);
	run_free(&r);

	r = cli("version");
	ck_run(r, 0);
	ck_assert_msg(strstr(r.out, "server: launchpad " LP_VERSION ", reachable at") &&
	                  strstr(r.out, plat->url),
	              "%s", r.out);
	run_free(&r);
	free(bad);
}
END_TEST

START_TEST(test_login)
{
	struct run r;
	char *conf = spath("xdg/launchpad/config"), *text = NULL;
	struct stat st;
	size_t len;

	r = cli_env(NULL, NULL, "login", "--server", plat->url, "--token", "wrong", (char *)NULL);
	ck_run(r, 1);
	ck_assert_msg(strstr(r.err, "unauthorized"), "%s", r.err);
	ck_assert_int_eq(lp_fs_exists(conf), 0);
	run_free(&r);

	r = cli_env(NULL, NULL, "login", "--server", plat->url, "--token", plat->token,
	            (char *)NULL);
	ck_run(r, 0);
	run_free(&r);
	ck_assert_int_eq(stat(conf, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(lp_fs_read_file(&text, &len, conf, 1 << 16, NULL), LP_OK);
	ck_assert_ptr_nonnull(strstr(text, plat->token));
	free(text);

	/* later commands use the file; a variable still wins over it */
	r = cli_env(NULL, NULL, "get", "sites", (char *)NULL);
	ck_run(r, 0);
	run_free(&r);
	r = cli_env(NULL, "other", "get", "sites", (char *)NULL);
	ck_run(r, 1);
	run_free(&r);
	free(conf);
}
END_TEST

/* `user create|list|delete` with the password on stdin, and `login --username`. */
START_TEST(test_users)
{
	char *pw = spath("pw"), *conf = spath("xdg/launchpad/config"), *text = NULL;
	struct run r;
	size_t len;

	write_file(pw, "a long password\n");
	cli_stdin = pw;
	/* the password is never an argument */
	r = cli_env(plat->url, plat->token, "user", "create", "alice", (char *)NULL);
	ck_run(r, 2);
	ck_assert_msg(strstr(r.err, "--password-stdin"), "%s", r.err);
	run_free(&r);
	r = cli_env(plat->url, plat->token, "user", "create", "alice", "--role", "root",
	            "--password-stdin", (char *)NULL);
	ck_run(r, 2);
	run_free(&r);
	r = cli_env(plat->url, plat->token, "user", "create", "alice", "--role", "member",
	            "--password-stdin", (char *)NULL);
	ck_run(r, 0);
	ck_assert_msg(strstr(r.out, "user/alice created (member)"), "%s", r.out);
	run_free(&r);
	r = cli_env(plat->url, plat->token, "user", "list", (char *)NULL);
	ck_run(r, 0);
	ck_assert_msg(table_row(r.out, "alice", "member") && table_row(r.out, "admin", "admin"),
	              "%s", r.out);
	run_free(&r);
	/* alice logs in with her password; the saved session is hers, a member's */
	r = cli_env(NULL, NULL, "login", "--server", plat->url, "--username", "alice",
	            "--password-stdin", (char *)NULL);
	ck_run(r, 0);
	run_free(&r);
	ck_assert_int_eq(lp_fs_read_file(&text, &len, conf, 1 << 16, NULL), LP_OK);
	ck_assert_ptr_null(strstr(text, plat->token));
	ck_assert_ptr_null(strstr(text, "a long password"));
	free(text);
	r = cli_env(NULL, NULL, "user", "list", (char *)NULL);
	ck_run(r, 1);
	ck_assert_msg(strstr(r.err, "forbidden"), "%s", r.err);
	run_free(&r);
	/* her own personal token: printed once, listed by name, working, revoked */
	r = cli_env(NULL, NULL, "token", "create", "ci", (char *)NULL);
	ck_run(r, 0);
	ck_assert_int_eq(strncmp(r.out, "lp_", 3), 0);
	r.out[strcspn(r.out, "\n")] = '\0';
	{
		char tok[128];
		struct run t;

		snprintf(tok, sizeof(tok), "%s", r.out);
		run_free(&r);
		t = cli_env(plat->url, tok, "get", "sites", (char *)NULL);
		ck_run(t, 0);
		run_free(&t);
		t = cli_env(NULL, NULL, "token", "list", (char *)NULL);
		ck_run(t, 0);
		ck_assert_msg(strstr(t.out, " ci ") && !strstr(t.out, tok), "%s", t.out);
		run_free(&t);
		t = cli_env(NULL, NULL, "token", "revoke", "x", (char *)NULL);
		ck_run(t, 2);
		run_free(&t);
	}
	write_file(pw, "not her password\n");
	r = cli_env(NULL, NULL, "login", "--server", plat->url, "--username", "alice",
	            "--password-stdin", (char *)NULL);
	ck_run(r, 1);
	ck_assert_msg(strstr(r.err, "wrong user name or password"), "%s", r.err);
	run_free(&r);
	cli_stdin = NULL;
	r = cli_env(plat->url, plat->token, "user", "delete", "alice", (char *)NULL);
	ck_run(r, 0);
	run_free(&r);
	r = cli_env(plat->url, plat->token, "user", "delete", "alice", (char *)NULL);
	ck_run(r, 1);
	ck_assert_msg(strstr(r.err, "not found"), "%s", r.err);
	run_free(&r);
	free(pw);
	free(conf);
}
END_TEST

/* `deploy ./site` → live; the same archive applied by digest; get -o json matches the API. */
START_TEST(test_deploy_archive_get_delete)
{
	struct run r;
	char *site = spath("site"), *idx = spath("site/index.html"), *man = spath("archive.yaml");
	char *sub = spath("site/css");
	cJSON *api, *cli_json, *obj, *a, *b;
	char digest[100], slug2[80], want[256];
	int i, n;
	pid_t watcher;

	ck_assert_int_eq(lp_fs_mkdirs(sub, 0755, NULL), LP_OK);
	write_file(idx, "deployed by the cli");
	free(sub);
	sub = spath("site/css/a.css");
	write_file(sub, "body{}");

	r = cli("deploy", site, "--name", "dropped", "--wait", "--timeout", "3m");
	ck_run(r, 0);
	ck_assert_msg(strstr(r.out, "site/dropped created") &&
	                  strstr(r.out, "URL: http://dropped."),
	              "%s", r.out);
	ck_assert_msg(!strstr(r.err, "index.html"), "%s", r.err);
	run_free(&r);
	served("dropped", "deployed by the cli");

	/* a new upload into the existing site: a new revision */
	write_file(idx, "second upload");
	r = cli("deploy", site, "--name", "dropped", "--wait");
	ck_run(r, 0);
	ck_assert_msg(strstr(r.out, "site/dropped configured (revision 2)"), "%s", r.out);
	run_free(&r);
	served("dropped", "second upload");

	/* the uploaded archive by digest, from a manifest */
	obj = api_get("/api/deployments/dropped");
	snprintf(digest, sizeof(digest), "%s", jstr(obj, "archive_digest"));
	cJSON_Delete(obj);
	ck_assert_int_eq(strncmp(digest, "sha256:", 7), 0);
	write_file(man,
	           "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  name: by-digest\nspec:\n"
	           "  source:\n    archive:\n      digest: \"%s\"\n",
	           digest);
	r = cli("apply", "-f", man, "--dry-run");
	ck_run(r, 0);
	ck_assert_msg(strstr(r.out, "site/by-digest created (dry run)"), "%s", r.out);
	run_free(&r);
	r = cli("apply", "-f", man, "--wait");
	ck_run(r, 0);
	ck_assert_msg(strstr(r.out, "site/by-digest created"), "%s", r.out);
	run_free(&r);
	served("by-digest", "second upload");

	/* deploy without --name: a generated slug */
	r = cli("deploy", site);
	ck_run(r, 0);
	ck_assert_int_eq(sscanf(r.out, "site/%79s created", slug2), 1);
	run_free(&r);

	/* get -o json: the API's objects, the same ids, slugs and statuses */
	r = cli("get", "sites", "-o", "json");
	ck_run(r, 0);
	cli_json = cJSON_Parse(r.out);
	ck_assert_msg(cJSON_IsArray(cli_json), "%s", r.out);
	run_free(&r);
	api = api_get("/api/deployments");
	n = cJSON_GetArraySize(api);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(cJSON_GetArraySize(cli_json), n);
	for (i = 0; i < n; i++) {
		a = cJSON_GetArrayItem(api, i);
		b = cJSON_GetArrayItem(cli_json, i);
		ck_assert_str_eq(jstr(a, "id"), jstr(b, "id"));
		ck_assert_str_eq(jstr(a, "slug"), jstr(b, "slug"));
		ck_assert_str_eq(jstr(a, "url"), jstr(b, "url"));
		ck_assert_int_eq(jnum(a, "desired_revision"), jnum(b, "desired_revision"));
		if (strcmp(jstr(a, "slug"), slug2))
			ck_assert_str_eq(jstr(a, "status"), jstr(b, "status"));
	}
	cJSON_Delete(api);
	cJSON_Delete(cli_json);

	r = cli("get", "site", "by-digest", "-o", "json");
	ck_run(r, 0);
	cli_json = cJSON_Parse(r.out);
	api = api_get("/api/deployments/by-digest");
	ck_assert_str_eq(jstr(cli_json, "id"), jstr(api, "id"));
	ck_assert_str_eq(jstr(cli_json, "status"), "live");
	cJSON_Delete(api);
	cJSON_Delete(cli_json);
	run_free(&r);

	/*
	 * -o yaml is the manifest apply takes back (kubectl's round trip), not the API object: its
	 * status is in -o json above
	 */
	r = cli("get", "site", "by-digest", "-o", "yaml");
	ck_run(r, 0);
	ck_assert_msg(
	    !strncmp(r.out,
	             "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  name: "
	             "by-digest\nspec:\n  source:\n    archive:\n",
	             strlen("apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  name: "
	                    "by-digest\nspec:\n  source:\n    archive:\n")) &&
	        strstr(r.out, digest) && !strstr(r.out, "slug:") && !strstr(r.out, "\nid:") &&
	        !strstr(r.out, "status:"),
	    "%s", r.out);
	write_file(man, "%s", r.out);
	run_free(&r);
	r = cli("apply", "-f", man);
	ck_run(r, 0);
	ck_assert_str_eq(r.out, "site/by-digest unchanged\n");
	run_free(&r);
	/* every site as one multi-document stream, applied back: all unchanged, no kind: List */
	r = cli("get", "sites", "-o", "yaml");
	ck_run(r, 0);
	ck_assert_msg(strstr(r.out, "\n---\napiVersion: launchpad.dev/v1\n") &&
	                  !strstr(r.out, "kind: List"),
	              "%s", r.out);
	write_file(man, "%s", r.out);
	run_free(&r);
	r = cli("apply", "-f", man);
	ck_run(r, 0);
	ck_assert_msg(strstr(r.out, "site/dropped unchanged\n") &&
	                  strstr(r.out, "site/by-digest unchanged\n") &&
	                  !strstr(r.out, "configured") && !strstr(r.out, "created"),
	              "%s", r.out);
	run_free(&r);

	/* -o name and -o jsonpath */
	r = cli("get", "site", "by-digest", "-o", "name");
	ck_run(r, 0);
	ck_assert_str_eq(r.out, "site/by-digest\n");
	run_free(&r);
	r = cli("get", "sites", "-o", "name");
	ck_run(r, 0);
	ck_assert_msg(strstr(r.out, "site/dropped\n") && strstr(r.out, "site/by-digest\n"), "%s",
	              r.out);
	run_free(&r);
	r = cli("get", "by-digest", "-o", "jsonpath={.status} at {.url}");
	ck_run(r, 0);
	obj = api_get("/api/deployments/by-digest");
	snprintf(want, sizeof(want), "live at %s", jstr(obj, "url"));
	cJSON_Delete(obj);
	ck_assert_str_eq(r.out, want);
	run_free(&r);
	r = cli("get", "sites", "-o", "jsonpath={.items[*].slug}{\"\\n\"}");
	ck_run(r, 0);
	ck_assert_msg(strstr(r.out, "dropped") && strstr(r.out, "by-digest") &&
	                  r.out[strlen(r.out) - 1] == '\n' && !strchr(r.out, '{'),
	              "%s", r.out);
	run_free(&r);
	r = cli("get", "sites", "-o", "jsonpath={.items[*].slug");
	ck_run(r, 2);
	ck_assert_msg(strstr(r.err, "jsonpath: column 1: the { is not closed"), "%s", r.err);
	run_free(&r);

	/* the revisions of a site */
	r = cli("get", "revisions", "dropped");
	ck_run(r, 0);
	ck_assert_msg(!strncmp(r.out, "REVISION   STATE   TRIGGER   SOURCE", 35) &&
	                  strstr(r.out, "\n2          ready   ") &&
	                  strstr(r.out, "\n1          ") && strstr(r.out, "   true      true\n"),
	              "%s", r.out);
	run_free(&r);
	r = cli("get", "revisions", "dropped", "-o", "jsonpath={.items[*].state}");
	ck_run(r, 0);
	ck_assert_msg(!strncmp(r.out, "ready ", 6), "%s", r.out);
	run_free(&r);

	/* describe as data: the object, its revisions and events */
	r = cli("describe", "site", "dropped", "-o", "json");
	ck_run(r, 0);
	cli_json = cJSON_Parse(r.out);
	ck_assert_msg(cJSON_IsObject(cli_json), "%s", r.out);
	ck_assert_str_eq(jstr(cli_json, "slug"), "dropped");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cli_json, "revisions")), 2);
	ck_assert_int_ge(cJSON_GetArraySize(cJSON_GetObjectItem(cli_json, "events")), 1);
	cJSON_Delete(cli_json);
	run_free(&r);
	r = cli("describe", "dropped", "-o", "yaml");
	ck_run(r, 0);
	ck_assert_msg(strstr(r.out, "\nrevisions:\n  - revision: 2\n") &&
	                  strstr(r.out, "\nevents:\n"),
	              "%s", r.out);
	run_free(&r);

	r = cli("get", "sites");
	ck_run(r, 0);
	ck_assert_msg(!strncmp(r.out, "NAME ", 5) && strstr(r.out, "STATUS") &&
	                  strstr(r.out, "\ndropped ") && strstr(r.out, " live "),
	              "%s", r.out);
	run_free(&r);

	/* a watch of the one site sees it go, says "gone" and ends by itself */
	watcher = cli_bg("watch", "get", "site", "dropped", "-w", "--timeout", "3m", "-o",
	                 "jsonpath={.phase}{\"\\n\"}");
	usleep(1500 * 1000);
	r = cli("delete", "site", "dropped", "--wait");
	ck_run(r, 0);
	run_free(&r);
	r = collect(watcher, "watch", 30);
	ck_run(r, 0);
	/* deleting may pass between two looks: live first, gone last is what must be */
	ck_assert_msg(!strncmp(r.out, "live\n", 5) && strlen(r.out) > 5 &&
	                  !strcmp(r.out + strlen(r.out) - 5, "gone\n") &&
	                  (lines_in(r.out) == 2 || strstr(r.out, "\ndeleting\n")),
	              "%s", r.out);
	run_free(&r);
	r = cli("delete", slug2, "--wait");
	ck_run(r, 0);
	run_free(&r);
	r = cli("get", "site", "dropped");
	ck_run(r, 1);
	ck_assert_msg(strstr(r.err, "not_found"), "%s", r.err);
	run_free(&r);
	/* gone already: with --ignore-not-found that is fine and nothing is said */
	r = cli("delete", "dropped", "--ignore-not-found", "--wait");
	ck_run(r, 0);
	ck_assert_str_eq(r.out, "");
	ck_assert_str_eq(r.err, "");
	run_free(&r);
	r = cli("delete", "dropped");
	ck_run(r, 1);
	ck_assert_msg(strstr(r.err, "not_found"), "%s", r.err);
	run_free(&r);
	ck_assert_int_eq(lp_test_platform_count_containers(plat, "launchpad.site=dropped"), 0);
	free(site);
	free(idx);
	free(sub);
	free(man);
}
END_TEST

/* Start `launchpad logs NAME -f` with its stdout on a pipe. */
static pid_t logs_follow(int *out_fd, const char *name)
{
	char *bin = lp_test_bin_path("launchpad");
	int p[2], fd;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		child_env(plat->url, plat->token);
		dup2(p[1], 1);
		close(p[0]);
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, 2);
		execl(bin, bin, "logs", name, "-f", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	free(bin);
	*out_fd = p[0];
	return pid;
}

static void revision_state(char *out, size_t n, const char *name, long number)
{
	char path[256];
	cJSON *revs, *v;

	snprintf(path, sizeof(path), "/api/deployments/%s/revisions", name);
	revs = api_get(path);
	out[0] = '\0';
	cJSON_ArrayForEach(v, revs)
	{
		if (jnum(v, "revision") == number)
			snprintf(out, n, "%s", jstr(v, "state"));
	}
	cJSON_Delete(revs);
}

START_TEST(test_git_apply_logs_rollback)
{
	struct run r;
	char *man = spath("git.yaml"), state[32], buf[8192];
	lp_buf got;
	cJSON *site;
	int fd, status, saw_step_while_building = 0;
	pid_t pid;
	time_t end;
	ssize_t n;
	long revs_before;

	git_commit("git v1", 4);
	git_manifest(man, "from-git", "sh build.sh");

	/*
	 * apply without waiting, then follow the log while the build runs; the file:// URL is the
	 * server's to allow (it does here): the CLI needs no --allow-insecure-sources
	 */
	cli_insecure = NULL;
	r = cli("apply", "-f", man);
	cli_insecure = "true";
	ck_run(r, 0);
	ck_assert_msg(strstr(r.out, "site/from-git created"), "%s", r.out);
	run_free(&r);
	pid = logs_follow(&fd, "from-git");
	lp_buf_init(&got, 1 << 20);
	end = time(NULL) + 180;
	while (time(NULL) < end) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};

		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		if ((n = read(fd, buf, sizeof(buf))) <= 0)
			break;
		ck_assert_int_eq(lp_buf_append(&got, buf, (size_t)n), LP_OK);
		if (!saw_step_while_building && strstr(lp_buf_cstr(&got), "step 1\n")) {
			/* the line arrived before the build was over: it is streamed, not replayed
			 */
			revision_state(state, sizeof(state), "from-git", 1);
			saw_step_while_building = !strcmp(state, "building");
		}
	}
	close(fd);
	waitpid(pid, &status, 0);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "logs -f status %d", status);
	ck_assert_msg(strstr(lp_buf_cstr(&got), "step 4\n"), "%s", lp_buf_cstr(&got));
	ck_assert_msg(saw_step_while_building, "no build line seen while building:\n%s",
	              lp_buf_cstr(&got));
	lp_buf_release(&got);

	r = cli("apply", "-f", man, "--wait");
	ck_run(r, 0);
	ck_assert_msg(strstr(r.out, "site/from-git unchanged"), "%s", r.out);
	run_free(&r);
	served("from-git", "git v1");

	/* logs without -f on a finished revision: everything, then stop */
	r = cli("logs", "from-git");
	ck_run(r, 0);
	ck_assert_msg(strstr(r.out, "step 1\n") && strstr(r.out, "step 4\n"), "%s", r.out);
	run_free(&r);

	/* edit and re-apply: a new revision */
	git_commit("git v2", 1);
	git_manifest(man, "from-git", "sh build.sh && echo edited");
	r = cli("apply", "-f", man, "--wait", "--timeout", "3m");
	ck_run(r, 0);
	ck_assert_msg(strstr(r.out, "site/from-git configured (revision 2)"), "%s", r.out);
	/* without a terminal: the status when it changes and every log line, stamps stripped */
	ck_assert_msg(strstr(r.err, "site/from-git: deploying, revision 2") &&
	                  strstr(r.err, "\nsite/from-git | step 1\n") &&
	                  strstr(r.err, "\nsite/from-git | edited\n") && !has_stamp(r.err),
	              "%s", r.err);
	run_free(&r);
	served("from-git", "git v2");

	/* unchanged: no new revision */
	site = api_get("/api/deployments/from-git");
	revs_before = jnum(site, "desired_revision");
	cJSON_Delete(site);
	r = cli("apply", "-f", man);
	ck_run(r, 0);
	ck_assert_msg(strstr(r.out, "site/from-git unchanged"), "%s", r.out);
	run_free(&r);
	site = api_get("/api/deployments/from-git");
	ck_assert_int_eq(jnum(site, "desired_revision"), revs_before);
	ck_assert_int_eq(jnum(site, "generation"), 2);
	cJSON_Delete(site);

	/* rollback to revision 1: served again without a rebuild */
	r = cli("rollback", "from-git", "--to", "1", "--wait");
	ck_run(r, 0);
	ck_assert_msg(strstr(r.out, "rolling back to revision 1"), "%s", r.out);
	run_free(&r);
	served("from-git", "git v1");
	site = api_get("/api/deployments/from-git");
	ck_assert_int_eq(jnum(site, "current_revision"), 1);
	cJSON_Delete(site);

	r = cli("describe", "site", "from-git");
	ck_run(r, 0);
	ck_assert_msg(strstr(r.out, "Revisions:") && strstr(r.out, "REVISION") &&
	                  strstr(r.out, "Webhook URL:") &&
	                  strstr(r.out, "command: \"sh build.sh && echo edited\""),
	              "%s", r.out);
	run_free(&r);

	/* redeploy: a new revision from the branch head (v2's tree) */
	r = cli("redeploy", "from-git", "--wait");
	ck_run(r, 0);
	ck_assert_msg(strstr(r.out, "redeploying (revision 3)"), "%s", r.out);
	run_free(&r);
	served("from-git", "git v2");

	r = cli("delete", "from-git", "--wait");
	ck_run(r, 0);
	run_free(&r);
	free(man);
}
END_TEST

/*
 * Run `launchpad ARGS...` with stderr on a pseudo-terminal cols wide (stdout to a file): what
 * the pty showed goes to r.err, raw. Killed after CLI_TIMEOUT_S.
 */
static struct run cli_tty(int cols, ...)
{
	char *bin = lp_test_bin_path("launchpad"), *argv[40], out[4200], buf[4096];
	struct winsize ws = {.ws_row = 24, .ws_col = (unsigned short)cols};
	struct run r = {-1, NULL, NULL};
	lp_buf got;
	va_list ap;
	int n = 0, status = 0, master, fd;
	pid_t pid;
	time_t end;
	ssize_t k;

	argv[n++] = bin;
	va_start(ap, cols);
	while (n < 39 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	snprintf(out, sizeof(out), "%s/cli.out", scratch);
	master = posix_openpt(O_RDWR | O_NOCTTY);
	ck_assert_int_ge(master, 0);
	ck_assert_int_eq(grantpt(master), 0);
	ck_assert_int_eq(unlockpt(master), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		child_env(plat->url, plat->token);
		setsid();
		fd = open(ptsname(master), O_RDWR);
		if (fd < 0 || ioctl(fd, TIOCSWINSZ, &ws) != 0)
			_exit(126);
		dup2(fd, 2);
		close(master);
		fd = open("/dev/null", O_RDONLY);
		dup2(fd, 0);
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		execv(bin, argv);
		_exit(127);
	}
	lp_buf_init(&got, 16 << 20);
	end = time(NULL) + CLI_TIMEOUT_S;
	while (time(NULL) < end) {
		struct pollfd pfd = {.fd = master, .events = POLLIN};

		if (poll(&pfd, 1, 200) > 0) {
			/* EIO once the last writer is gone: the CLI has ended */
			if ((k = read(master, buf, sizeof(buf))) <= 0)
				break;
			ck_assert_int_eq(lp_buf_append(&got, buf, (size_t)k), LP_OK);
		} else if (waitpid(pid, &status, WNOHANG) == pid) {
			pid = 0;
			break;
		}
	}
	if (pid > 0) {
		if (waitpid(pid, &status, WNOHANG) == 0) {
			kill(pid, SIGKILL);
		}
		waitpid(pid, &status, 0);
	}
	close(master);
	r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	r.out = slurp(out);
	r.err = lp_buf_detach(&got);
	free(bin);
	return r;
}

/* Columns of terminal text: one per code point. */
static size_t cols_of(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

/* On an 80-column terminal: one rewritten line, never wider, with the log's messages. */
START_TEST(test_wait_terminal)
{
	struct run r;
	char *man = spath("tty.yaml"), *p, *piece;
	int frames = 0, with_log = 0;

	git_commit("on a tty", 3);
	git_manifest(man, "on-a-tty", "sh build.sh");
	r = cli_tty(80, "apply", "-f", man, "--wait", "--timeout", "3m", (char *)NULL);
	ck_run(r, 0);
	ck_assert_msg(strstr(r.out, "site/on-a-tty live: revision 1 at "), "%s", r.out);
	/* each frame is "\r\033[K" and the line; the pty turns "\n" into "\r\n" */
	for (p = r.err; (piece = strsep(&p, "\r")) != NULL;) {
		if (!strncmp(piece, "\033[K", 3))
			piece += 3;
		if (!*piece || !strchr("-\\|/", piece[0]) ||
		    strncmp(piece + 1, " site/on-a-tty: ", 16))
			continue;
		frames++;
		ck_assert_msg(cols_of(piece) <= 79, "%zu columns: %s", cols_of(piece), piece);
		ck_assert_msg(!has_stamp(piece), "a timestamp on the line: %s", piece);
		ck_assert_msg(strchr(piece, '\n') == NULL, "a frame with a newline: %s", piece);
		with_log += strstr(piece, ", revision 1 building, ") && strstr(piece, "s | step ");
	}
	ck_assert_msg(frames >= 4 && with_log >= 1, "%d frames, %d with a log line", frames,
	              with_log);
	run_free(&r);
	free(man);
}
END_TEST

/* A build that fails: --wait says so and exits 1. */
START_TEST(test_wait_failed)
{
	struct run r;
	char *man = spath("fail.yaml");

	git_commit("never", 1);
	git_manifest(man, "broken", "echo about to fail && exit 3");
	r = cli("apply", "-f", man, "--wait", "--timeout", "3m");
	ck_run(r, 1);
	ck_assert_msg(strstr(r.err, "site/broken failed"), "%s", r.err);
	/* said once, then the build's own last lines (not the log's header line) */
	ck_assert_msg(strstr(r.err,
	                     "\nlaunchpad apply: site/broken failed: revision 1 failed: build "
	                     "exited with code 3\n"
	                     "  last lines of the build output:\n") &&
	                  strstr(r.err, "\n    about to fail\n") &&
	                  !strstr(r.err, "revision 1: revision 1") &&
	                  !strstr(r.err, "last log line") && !strstr(r.err, "; last lines:\n    "),
	              "%s", r.err);
	/* the log as it came, before the verdict */
	ck_assert_msg(strstr(r.err, "\nsite/broken | about to fail\n"), "%s", r.err);
	run_free(&r);
	free(man);
}
END_TEST

/* Without a controller nothing goes live: --wait runs out of time and says so with exit 3. */
START_TEST(test_wait_timeout)
{
	struct run r;
	char *man = spath("pending.yaml");

	write_file(man, "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  name: slow\n"
	                "spec:\n  source:\n    git:\n      url: https://github.com/example/slow\n");
	r = cli("apply", "-f", man, "--wait", "--timeout", "2s");
	ck_run(r, 3);
	ck_assert_msg(strstr(r.out, "site/slow created"), "%s", r.out);
	ck_assert_msg(strstr(r.err, "launchpad apply: site/slow not live after 2 s (phase pending"),
	              "%s", r.err);
	run_free(&r);
	r = cli("redeploy", "slow", "--wait", "--timeout", "1s");
	ck_run(r, 3);
	run_free(&r);
	/* nothing removes it either */
	r = cli("delete", "slow", "--wait", "--timeout", "1s");
	ck_run(r, 3);
	ck_assert_msg(strstr(r.err, "site/slow still exists after 1 s"), "%s", r.err);
	run_free(&r);
	free(man);
}
END_TEST

/* `apply -f examples/` takes what `validate -f examples/` checks: the folder's manifests only. */
START_TEST(test_apply_examples)
{
	char *ex = lp_test_src_path("examples/");
	static const char *const sites[] = {"portfolio", "graceful-fox", "handbook",
	                                    "landing",   "blog",         "my-spa"};
	struct run r, v;
	cJSON *list;
	size_t i;
	char want[96];

	v = cli("validate", "-f", ex);
	ck_run(v, 0);
	r = cli("apply", "-f", ex);
	ck_run(r, 0);
	for (i = 0; i < sizeof(sites) / sizeof(sites[0]); i++) {
		snprintf(want, sizeof(want), "site/%s created\n", sites[i]);
		ck_assert_msg(strstr(r.out, want), "%s missing:\n%s", want, r.out);
		snprintf(want, sizeof(want), "site \"%s\" valid", sites[i]);
		ck_assert_msg(strstr(v.out, want), "%s missing:\n%s", want, v.out);
	}
	ck_assert_str_eq(r.err, "");
	run_free(&r);
	run_free(&v);
	list = api_get("/api/deployments");
	ck_assert_int_eq(cJSON_GetArraySize(list), 6);
	cJSON_Delete(list);

	/* again: every one unchanged; with -R the sites' package.json files are read and refused */
	r = cli("apply", "-f", ex);
	ck_run(r, 0);
	ck_assert_msg(strstr(r.out, "site/my-spa unchanged\n") && !strstr(r.out, "created"), "%s",
	              r.out);
	run_free(&r);
	r = cli("apply", "-R", "-f", ex);
	ck_run(r, 1);
	ck_assert_msg(strstr(r.err, "sites/npm-app/package.json:") &&
	                  strstr(r.err, "nothing was applied"),
	              "%s", r.err);
	ck_assert_str_eq(r.out, "");
	run_free(&r);
	free(ex);
}
END_TEST

/* A server that refuses file:// Git URLs says so with a 400, whatever the CLI's own setting. */
START_TEST(test_insecure_source_refused)
{
	struct run r;
	char *man = spath("local.yaml");
	lp_test_http_resp resp = {0};

	write_file(man, "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  name: local\n"
	                "spec:\n  source:\n    git:\n      url: file:///srv/repo\n");
	cli_insecure = NULL;
	r = cli("apply", "-f", man);
	cli_insecure = "true";
	ck_run(r, 1);
	ck_assert_str_eq(r.out, "");
	ck_assert_msg(strstr(r.err, "site/local: not applied\n") &&
	                  strstr(r.err, "launchpad apply: invalid: ") &&
	                  strstr(r.err, "(HTTP 400)\n") &&
	                  strstr(r.err, "spec.source.git.url: file:// URLs are only allowed") &&
	                  strstr(r.err, "this server refuses http:// and file:// Git URLs"),
	              "%s", r.err);
	run_free(&r);
	/* the same with the CLI's flag: the server still decides */
	r = cli("--allow-insecure-sources", "apply", "-f", man);
	ck_run(r, 1);
	ck_assert_msg(strstr(r.err, "(HTTP 400)"), "%s", r.err);
	run_free(&r);
	ck_assert_int_eq(
	    lp_test_platform_api(&resp, plat, "GET", "/api/deployments/local", NULL, NULL), LP_OK);
	ck_assert_int_eq(resp.status, 404);
	lp_test_http_resp_release(&resp);
	free(man);
}
END_TEST

static void simple_manifest(const char *path, const char *name)
{
	write_file(path,
	           "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  name: %s\n"
	           "spec:\n  source:\n    git:\n      url: https://github.com/example/%s\n",
	           name, name);
}

/* Lines k = from..to as the controller's app log pump writes them. */
static void app_log_lines(const char *path, const char *mode, int from, int to)
{
	FILE *fp = fopen(path, mode);
	int k;

	ck_assert_ptr_nonnull(fp);
	for (k = from; k <= to; k++)
		fprintf(fp, "2026-12-01T00:00:%02d.%09dZ r1 %s app line %d\n", k % 60, k,
		        k % 2 ? "stdout" : "stderr", k);
	ck_assert_int_eq(fclose(fp), 0);
}

/* The lines of out must be app lines first..last, in order, and nothing else. */
static void check_app_out(const char *out, int first, int last)
{
	const char *line = out, *p;
	int want = first;

	for (; *line; line = strchr(line, '\n') + 1, want++) {
		ck_assert_msg(strchr(line, '\n') && (p = strstr(line, " app line ")) &&
		                  p < strchr(line, '\n') && atoi(p + 10) == want,
		              "line %d missing or out of place:\n%s", want, out);
		ck_assert_msg(!strncmp(line, "2026-12-01T00:00:", 17), "not an app line:\n%s", out);
	}
	ck_assert_msg(want - 1 == last, "ended at %d, not %d:\n%s", want - 1, last, out);
}

/* apply of serve.httpsRedirect on a platform without HTTPS: applied, and the API's warning. */
START_TEST(test_apply_https_warning)
{
	char *man = spath("secure.yaml");
	struct run r;

	write_file(man, "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  name: secure\n"
	                "spec:\n  source:\n    git:\n      url: https://github.com/example/secure\n"
	                "  serve: {httpsRedirect: true}\n");
	r = cli("apply", "-f", man);
	ck_run(r, 0);
	ck_assert_str_eq(r.out, "site/secure created\n");
	ck_assert_msg(!strcmp(r.err,
	                      "warning: serve.httpsRedirect has no effect: this platform "
	                      "serves no HTTPS (start it with --https, LAUNCHPAD_HTTPS=true: "
	                      "docs/domains.md)\n"),
	              "%s", r.err);
	run_free(&r);
	simple_manifest(man, "secure");
	r = cli("apply", "-f", man);
	ck_run(r, 0);
	ck_assert_str_eq(r.err, "");
	run_free(&r);
	free(man);
}
END_TEST

/* logs --app: the tail, --tail N, -f across a rotation until the site goes; its usage errors. */
START_TEST(test_logs_app)
{
	char *man = spath("app.yaml"), dir[1300], log[1400], part1[1500];
	struct run r;
	pid_t f;

	simple_manifest(man, "appy");
	r = cli("apply", "-f", man);
	ck_run(r, 0);
	run_free(&r);
	LP_TEST_FMT(dir, "%s/logs/appy", plat->data_dir);
	LP_TEST_FMT(log, "%s/app.log", dir);
	LP_TEST_FMT(part1, "%s.1", log);
	/* no app log yet: nothing, and no error */
	r = cli("logs", "appy", "--app");
	ck_run(r, 0);
	ck_assert_str_eq(r.out, "");
	run_free(&r);
	ck_assert_int_eq(lp_fs_mkdirs(dir, 0755, NULL), LP_OK);
	app_log_lines(part1, "w", 1, 4);
	app_log_lines(log, "w", 5, 8);
	r = cli("logs", "appy", "--app");
	ck_run(r, 0);
	check_app_out(r.out, 1, 8);
	run_free(&r);
	r = cli("logs", "appy", "--app", "--tail", "3");
	ck_run(r, 0);
	check_app_out(r.out, 6, 8);
	run_free(&r);
	f = cli_bg("follow", "logs", "appy", "--app", "-f", "--tail", "2");
	usleep(500 * 1000); /* it has its tail */
	app_log_lines(log, "a", 9, 12);
	usleep(300 * 1000);
	ck_assert_int_eq(rename(log, part1), 0);
	app_log_lines(log, "w", 13, 15);
	usleep(300 * 1000);
	r = cli("delete", "appy");
	ck_run(r, 0);
	run_free(&r);
	r = collect(f, "follow", 30);
	ck_run(r, 0);
	check_app_out(r.out, 7, 15);
	ck_assert_msg(strstr(r.err, "-- end of log: gone"), "%s", r.err);
	run_free(&r);
	/* usage */
	r = cli("logs", "appy", "--app", "--tail", "5001");
	ck_run(r, 2);
	run_free(&r);
	r = cli("logs", "appy", "--tail", "3");
	ck_run(r, 2);
	run_free(&r);
	r = cli("logs", "appy", "--app", "--revision", "1");
	ck_run(r, 2);
	run_free(&r);
	free(man);
}
END_TEST

/* -w: the first screen, then each change (a new site, a phase), one line each, until --timeout. */
START_TEST(test_get_watch)
{
	struct run r, j, t;
	char *man = spath("one.yaml");
	pid_t names, jsons, table;
	cJSON *o;
	const char *line;
	int lines = 0;

	simple_manifest(man, "first");
	r = cli("apply", "-f", man);
	ck_run(r, 0);
	run_free(&r);
	names = cli_bg("names", "get", "sites", "-w", "-o", "name", "--timeout", "7s");
	jsons = cli_bg("jsons", "get", "sites", "--watch", "-o", "json", "--timeout", "7s");
	table = cli_bg("table", "get", "sites", "-w", "--timeout", "7s");
	usleep(2500 * 1000);
	simple_manifest(man, "second");
	r = cli("apply", "-f", man);
	ck_run(r, 0);
	run_free(&r);
	/* no controller: deleting is where it stays, a change the watch must show */
	r = cli("delete", "first");
	ck_run(r, 0);
	run_free(&r);
	r = collect(names, "names", 30);
	j = collect(jsons, "jsons", 30);
	t = collect(table, "table", 30);
	ck_run(r, 0);
	ck_run(j, 0);
	ck_run(t, 0);
	/* the first screen, then both changes (one poll may see both: then in the list's order) */
	ck_assert_msg(!strcmp(r.out, "site/first\nsite/second\nsite/first\n") ||
	                  !strcmp(r.out, "site/first\nsite/first\nsite/second\n"),
	              "%s", r.out);
	for (line = j.out; *line; line = strchr(line, '\n') + 1) {
		char seen[64];

		ck_assert_ptr_nonnull(strchr(line, '\n'));
		o = cJSON_ParseWithLength(line, (size_t)(strchr(line, '\n') - line));
		ck_assert_msg(cJSON_IsObject(o), "not one object per line:\n%s", j.out);
		snprintf(seen, sizeof(seen), "%s %s", jstr(o, "slug"), jstr(o, "phase"));
		ck_assert_msg(lines == 0 ? !strcmp(seen, "first pending")
		                         : !strcmp(seen, "second pending") ||
		                               !strcmp(seen, "first deleting"),
		              "line %d: %s\n%s", lines, seen, j.out);
		cJSON_Delete(o);
		lines++;
	}
	ck_assert_msg(lines == 3 && strstr(j.out, "\"second\"") && strstr(j.out, "\"deleting\""),
	              "%s", j.out);
	/* one header, then rows; STATUS is wide enough for "deploying" from the start */
	ck_assert_msg(!strncmp(t.out, "NAME    STATUS      REVISION   URL", 34) &&
	                  table_row(t.out, "first", "pending") &&
	                  table_row(t.out, "second", "pending") &&
	                  table_row(t.out, "first", "deleting") && !strstr(t.out + 1, "NAME ") &&
	                  lines_in(t.out) == 4,
	              "%s", t.out);
	run_free(&r);
	run_free(&j);
	run_free(&t);
	/* -w takes no YAML; --timeout goes with -w */
	r = cli("get", "sites", "-w", "-o", "yaml");
	ck_run(r, 2);
	run_free(&r);
	r = cli("get", "sites", "--timeout", "5s");
	ck_run(r, 2);
	run_free(&r);
	free(man);
}
END_TEST

/* status: where the CLI points, whether that answers, whether the token is good, the sites. */
START_TEST(test_status)
{
	struct run r;
	char *man = spath("one.yaml"), want[512];

	r = cli("status");
	ck_run(r, 0);
	snprintf(want, sizeof(want),
	         "server:  %s (reachable, launchpad " LP_VERSION ")\ntoken:   valid\n"
	         "sites:   none\n",
	         plat->url);
	ck_assert_str_eq(r.out, want);
	run_free(&r);
	simple_manifest(man, "first");
	r = cli("apply", "-f", man);
	ck_run(r, 0);
	run_free(&r);
	simple_manifest(man, "second");
	r = cli("apply", "-f", man);
	ck_run(r, 0);
	run_free(&r);
	r = cli("delete", "second");
	ck_run(r, 0);
	run_free(&r);
	r = cli("status");
	ck_run(r, 0);
	ck_assert_msg(strstr(r.out, "\nsites:   2 (1 pending, 1 deleting)\n"), "%s", r.out);
	run_free(&r);

	r = cli_env(plat->url, "not-the-token", "status", (char *)NULL);
	ck_run(r, 1);
	ck_assert_msg(strstr(r.out, "(reachable, launchpad ") &&
	                  strstr(r.out, "\ntoken:   rejected (HTTP 401") &&
	                  !strstr(r.out, "sites:"),
	              "%s", r.out);
	run_free(&r);
	r = cli_env(plat->url, NULL, "status", (char *)NULL);
	ck_run(r, 1);
	ck_assert_msg(strstr(r.out, "\ntoken:   none (pass --token"), "%s", r.out);
	run_free(&r);
	r = cli_env("http://127.0.0.1:1", plat->token, "status", (char *)NULL);
	ck_run(r, 1);
	ck_assert_str_eq(r.out, "server:  http://127.0.0.1:1 (unreachable: connection refused)\n"
	                        "token:   not checked\n");
	run_free(&r);
	free(man);
}
END_TEST

/* open prints the site's URL; --browser runs xdg-open when it is on the PATH, else says so. */
START_TEST(test_open)
{
	struct run r;
	char *man = spath("one.yaml"), *bin = spath("bin"), *opener = spath("bin/xdg-open");
	char *called = spath("opened"), *empty = spath("empty"), *text = NULL, want[512];
	cJSON *site;
	size_t len;

	simple_manifest(man, "first");
	r = cli("apply", "-f", man);
	ck_run(r, 0);
	run_free(&r);
	site = api_get("/api/deployments/first");
	snprintf(want, sizeof(want), "%s\n", jstr(site, "url"));
	cJSON_Delete(site);
	ck_assert_int_gt(strlen(want), 8);
	r = cli("open", "first");
	ck_run(r, 0);
	ck_assert_str_eq(r.out, want);
	ck_assert_str_eq(r.err, "");
	run_free(&r);

	/* no xdg-open: the URL all the same, and why nothing opened */
	ck_assert_int_eq(lp_fs_mkdirs(empty, 0755, NULL), LP_OK);
	cli_path = empty;
	r = cli("open", "first", "--browser");
	ck_run(r, 1);
	ck_assert_str_eq(r.out, want);
	ck_assert_msg(strstr(r.err, "xdg-open is not on the PATH"), "%s", r.err);
	run_free(&r);

	/* a stand-in xdg-open that writes down what it was asked to open */
	ck_assert_int_eq(lp_fs_mkdirs(bin, 0755, NULL), LP_OK);
	write_file(opener, "#!/bin/sh\nprintf '%%s\\n' \"$1\" > %s\n", called);
	ck_assert_int_eq(chmod(opener, 0755), 0);
	cli_path = bin;
	r = cli("open", "site", "first", "--browser");
	cli_path = NULL;
	ck_run(r, 0);
	ck_assert_str_eq(r.out, want);
	ck_assert_int_eq(lp_fs_read_file(&text, &len, called, 4096, NULL), LP_OK);
	ck_assert_str_eq(text, want);
	run_free(&r);

	r = cli("open", "nope");
	ck_run(r, 1);
	ck_assert_msg(strstr(r.err, "not_found"), "%s", r.err);
	run_free(&r);
	free(text);
	free(called);
	free(empty);
	free(opener);
	free(bin);
	free(man);
}
END_TEST

/* A folder without index.html at its top goes up with a warning; --strict refuses it. */
START_TEST(test_deploy_without_index)
{
	struct run r;
	char *dir = spath("pages"), *page = spath("pages/about.html"), want[4400];
	char *nested = spath("wrapped/public/index.html"), *wrapped = spath("wrapped");
	cJSON *list;

	ck_assert_int_eq(lp_fs_mkdirs(dir, 0755, NULL), LP_OK);
	write_file(page, "about");
	snprintf(want, sizeof(want),
	         "no index.html at the top of %s: the site will answer 404 at /", dir);
	r = cli("deploy", dir, "--name", "pages", "--strict");
	ck_run(r, 1);
	ck_assert_str_eq(r.out, "");
	ck_assert_msg(strstr(r.err, want) && strstr(r.err, "--strict: nothing uploaded"), "%s",
	              r.err);
	run_free(&r);
	list = api_get("/api/deployments");
	ck_assert_int_eq(cJSON_GetArraySize(list), 0);
	cJSON_Delete(list);

	r = cli("deploy", dir, "--name", "pages");
	ck_run(r, 0);
	ck_assert_msg(strstr(r.out, "site/pages created"), "%s", r.out);
	ck_assert_msg(strstr(r.err, "launchpad deploy: warning: ") && strstr(r.err, want), "%s",
	              r.err);
	run_free(&r);

	/* one folder at the top is stripped by the server: its index.html is the root's */
	ck_assert_int_eq(lp_fs_mkdirs(wrapped, 0755, NULL), LP_OK);
	free(wrapped);
	wrapped = spath("wrapped/public");
	ck_assert_int_eq(lp_fs_mkdirs(wrapped, 0755, NULL), LP_OK);
	write_file(nested, "home");
	free(wrapped);
	wrapped = spath("wrapped");
	r = cli("deploy", wrapped, "--name", "wrapped", "--strict");
	ck_run(r, 0);
	ck_assert_msg(!strstr(r.err, "index.html"), "%s", r.err);
	run_free(&r);
	free(wrapped);
	free(nested);
	free(page);
	free(dir);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("e2e");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_login);
	tcase_add_test(tc, test_deploy_archive_get_delete);
	tcase_add_test(tc, test_git_apply_logs_rollback);
	tcase_add_test(tc, test_wait_failed);
	tcase_add_test(tc, test_wait_terminal);
	suite_add_tcase(s, tc);
	tc = tcase_create("api");
	tcase_add_checked_fixture(tc, setup_api, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_wait_timeout);
	tcase_add_test(tc, test_apply_examples);
	tcase_add_test(tc, test_insecure_source_refused);
	tcase_add_test(tc, test_users);
	tcase_add_test(tc, test_get_watch);
	tcase_add_test(tc, test_logs_app);
	tcase_add_test(tc, test_apply_https_warning);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, test_open);
	tcase_add_test(tc, test_deploy_without_index);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	lp_test_require_docker();
	return lp_test_run(suite());
}
