/* check_gitsrc.c: Git sources against a real repository served by a real smart-HTTP server. */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "launchpad/error.h"
#include "launchpad/fs.h"
#include "pipeline/gitnet.h"
#include "pipeline/gitsrc.h"
#include "tests/lib/git_http_server.h"
#include "tests/lib/testutil.h"

#define BLOB_SIZE (512 * 1024)
#define GIT_ID    "git -c user.name=LaunchPad -c user.email=test@launchpad.invalid"

/* A served repository with two commits: c1 (index.html "v1" + 512 KiB of noise), c2 ("v2"). */
struct fixture {
	char *root;
	char repo[512];
	char cache[512];
	char sha1[41];
	char sha2[41];
	lp_test_git_server *srv;
	char *url;
};

static void head_sha(char out[41], const char *repo)
{
	char cmd[1024];
	FILE *p;

	LP_TEST_FMT(cmd, "git -C %s rev-parse HEAD", repo);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(out, 41, p));
	pclose(p);
	ck_assert_uint_eq(strlen(out), 40);
}

static void write_text(const char *dir, const char *name, const char *text)
{
	char path[1024];
	lp_error err = {0};

	LP_TEST_FMT(path, "%s/%s", dir, name);
	ck_assert_msg(lp_fs_write_atomic(path, text, strlen(text), 0644, &err) == LP_OK, "%s",
	              err.message);
}

/* Incompressible bytes, so the first pack is clearly larger than later incremental ones. */
static void write_noise(const char *dir, const char *name, size_t n)
{
	char path[1024];
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	unsigned char *buf = malloc(n);
	lp_error err = {0};
	size_t i;

	ck_assert_ptr_nonnull(buf);
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (unsigned char)(x >> 32);
	}
	LP_TEST_FMT(path, "%s/%s", dir, name);
	ck_assert_msg(lp_fs_write_atomic(path, buf, n, 0644, &err) == LP_OK, "%s", err.message);
	free(buf);
}

static void commit_all(const char *repo, const char *msg)
{
	lp_test_sh("%s -C %s add -A && %s -C %s commit -q -m %s", GIT_ID, repo, GIT_ID, repo, msg);
}

static void fixture_setup(struct fixture *f, int serve)
{
	lp_error err = {0};

	memset(f, 0, sizeof(*f));
	f->root = lp_test_mkdtemp("lp-gitsrc");
	ck_assert_ptr_nonnull(f->root);
	LP_TEST_FMT(f->repo, "%s/srv/site", f->root);
	LP_TEST_FMT(f->cache, "%s/data/cache/git/site.git", f->root);
	lp_test_sh("git init -q -b main %s", f->repo);
	write_text(f->repo, "index.html", "v1\n");
	write_noise(f->repo, "blob.bin", BLOB_SIZE);
	commit_all(f->repo, "c1");
	head_sha(f->sha1, f->repo);
	write_text(f->repo, "index.html", "v2\n");
	commit_all(f->repo, "c2");
	head_sha(f->sha2, f->repo);
	if (serve) {
		char srvroot[600];

		LP_TEST_FMT(srvroot, "%s/srv", f->root);
		ck_assert_msg(lp_test_git_server_start(&f->srv, srvroot, &err) == LP_OK, "%s",
		              err.message);
		f->url = lp_test_git_server_url(f->srv, "site");
	}
}

static void fixture_teardown(struct fixture *f)
{
	lp_test_git_server_stop(f->srv);
	free(f->url);
	if (lp_fs_remove_tree(f->root, NULL) != LP_OK)
		fprintf(stderr, "cleanup: cannot remove %s\n", f->root);
	free(f->root);
}

static void workdir(char *out, size_t len, const struct fixture *f, const char *name)
{
	snprintf(out, len, "%s/work/%s", f->root, name);
}

static void request_init(lp_gitsrc_request *req, const struct fixture *f, const char *wd)
{
	memset(req, 0, sizeof(*req));
	req->url = f->url;
	req->branch = "main";
	req->cache_dir = f->cache;
	req->workdir = wd;
	req->allow_insecure = 1;
	req->timeout_seconds = 30;
}

static void assert_file(const char *dir, const char *name, const char *want)
{
	char path[1024], *data = NULL;
	size_t len = 0;
	lp_error err = {0};

	LP_TEST_FMT(path, "%s/%s", dir, name);
	ck_assert_msg(lp_fs_read_file(&data, &len, path, 1 << 20, &err) == LP_OK, "%s",
	              err.message);
	ck_assert_str_eq(data, want);
	free(data);
}

static void assert_no_dotgit(const char *dir)
{
	char path[1024];

	LP_TEST_FMT(path, "%s/.git", dir);
	ck_assert_msg(!lp_fs_exists(path), "%s exists", path);
}

/* No process of ours is left: waitpid says ECHILD and /proc lists no child of this process. */
static void assert_no_children(void)
{
	struct dirent *de;
	DIR *d = opendir("/proc");
	int found = 0;

	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		char path[300], line[256];
		FILE *fp;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		LP_TEST_FMT(path, "/proc/%s/status", de->d_name);
		fp = fopen(path, "r");
		if (fp == NULL)
			continue;
		while (fgets(line, sizeof(line), fp))
			if (!strncmp(line, "PPid:", 5) && atoi(line + 5) == (int)getpid())
				found++;
		fclose(fp);
	}
	closedir(d);
	ck_assert_int_eq(found, 0);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(test_branch_head)
{
	struct fixture f;
	lp_gitsrc_request req;
	lp_gitsrc_result res;
	lp_error err = {0};
	char wd[600], logpath[600], *log = NULL, want[128];
	size_t len;
	int logfd;

	fixture_setup(&f, 1);
	workdir(wd, sizeof(wd), &f, "a");
	LP_TEST_FMT(logpath, "%s/fetch.log", f.root);
	logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(logfd, 0);
	request_init(&req, &f, wd);
	req.log_fd = logfd;
	ck_assert_msg(lp_gitsrc_fetch(&res, &req, &err) == LP_OK, "%s", err.message);
	close(logfd);
	ck_assert_str_eq(res.sha, f.sha2);
	assert_file(wd, "index.html", "v2\n");
	ck_assert_uint_eq(res.files, 2);
	ck_assert_uint_gt(res.received_bytes, BLOB_SIZE);
	assert_no_dotgit(wd);
	/* The cache is bare and tracks the branch for the next, incremental fetch. */
	LP_TEST_FMT(want, "%s\n", f.sha2);
	assert_file(f.cache, "refs/remotes/origin/main", want);
	LP_TEST_FMT(want, "%s/index", f.cache);
	ck_assert(!lp_fs_exists(want));
	LP_TEST_FMT(want, "%s/.git", f.cache);
	ck_assert(!lp_fs_exists(want));
	ck_assert_int_eq(lp_fs_read_file(&log, &len, logpath, 1 << 20, NULL), LP_OK);
	LP_TEST_FMT(want, "git: checked out %s", f.sha2);
	ck_assert_msg(strstr(log, want) != NULL, "log: %s", log);
	ck_assert_msg(strstr(log, "git: fetching http://127.0.0.1:") != NULL, "log: %s", log);
	ck_assert_msg(strstr(log, "git: fetch: received ") != NULL, "log: %s", log);
	free(log);
	fixture_teardown(&f);
}
END_TEST

START_TEST(test_exact_commit)
{
	struct fixture f;
	lp_gitsrc_request req;
	lp_gitsrc_result res;
	lp_error err = {0};
	char wd[600];

	fixture_setup(&f, 1);
	workdir(wd, sizeof(wd), &f, "c1");
	request_init(&req, &f, wd);
	req.commit = f.sha1;
	ck_assert_msg(lp_gitsrc_fetch(&res, &req, &err) == LP_OK, "%s", err.message);
	ck_assert_str_eq(res.sha, f.sha1);
	assert_file(wd, "index.html", "v1\n");
	assert_no_dotgit(wd);
	fixture_teardown(&f);
}
END_TEST

START_TEST(test_incremental)
{
	struct fixture f;
	lp_gitsrc_request req;
	lp_gitsrc_result first, second, third;
	lp_error err = {0};
	uint64_t srv_first, srv_second;
	char wd[600], sha3[41], lock[700];

	fixture_setup(&f, 1);
	workdir(wd, sizeof(wd), &f, "1");
	request_init(&req, &f, wd);
	ck_assert_msg(lp_gitsrc_fetch(&first, &req, &err) == LP_OK, "%s", err.message);
	srv_first = lp_test_git_server_max_response(f.srv);

	write_text(f.repo, "index.html", "v3\n");
	commit_all(f.repo, "c3");
	head_sha(sha3, f.repo);
	/* A lock left by a killed fetch must not wedge the cache. */
	LP_TEST_FMT(lock, "%s/refs/remotes/origin", f.cache);
	ck_assert_int_eq(lp_fs_mkdirs(lock, 0755, NULL), LP_OK);
	LP_TEST_FMT(lock, "%s/refs/remotes/origin/main.lock", f.cache);
	write_text(f.cache, "refs/remotes/origin/main.lock", "stale\n");
	ck_assert(lp_fs_exists(lock));

	lp_test_git_server_reset_counters(f.srv);
	workdir(wd, sizeof(wd), &f, "2");
	ck_assert_msg(lp_gitsrc_fetch(&second, &req, &err) == LP_OK, "%s", err.message);
	srv_second = lp_test_git_server_max_response(f.srv);
	ck_assert_str_eq(second.sha, sha3);
	assert_file(wd, "index.html", "v3\n");
	assert_no_dotgit(wd);
	ck_assert(!lp_fs_exists(lock));
	/* Only the new commit travelled: both libgit2's count and the server's count say so. */
	ck_assert_msg(second.received_bytes * 20 < first.received_bytes,
	              "first %llu bytes, second %llu bytes",
	              (unsigned long long)first.received_bytes,
	              (unsigned long long)second.received_bytes);
	ck_assert_msg(srv_second * 20 < srv_first, "server sent %llu then %llu bytes",
	              (unsigned long long)srv_first, (unsigned long long)srv_second);
	ck_assert_uint_gt(second.received_objects, 0);
	fprintf(stderr,
	        "incremental: first fetch %llu bytes (server pack %llu), second %llu (%llu)\n",
	        (unsigned long long)first.received_bytes, (unsigned long long)srv_first,
	        (unsigned long long)second.received_bytes, (unsigned long long)srv_second);

	/* Nothing new: nothing downloaded, same commit checked out again. */
	workdir(wd, sizeof(wd), &f, "3");
	ck_assert_msg(lp_gitsrc_fetch(&third, &req, &err) == LP_OK, "%s", err.message);
	ck_assert_str_eq(third.sha, sha3);
	ck_assert_uint_eq(third.received_bytes, 0);
	assert_file(wd, "index.html", "v3\n");

	/* The cache still has commit 1 for an exact-commit (rollback-style) build. */
	workdir(wd, sizeof(wd), &f, "4");
	req.commit = f.sha1;
	ck_assert_msg(lp_gitsrc_fetch(&third, &req, &err) == LP_OK, "%s", err.message);
	ck_assert_str_eq(third.sha, f.sha1);
	assert_file(wd, "index.html", "v1\n");
	fixture_teardown(&f);
}
END_TEST

START_TEST(test_unknown_commit)
{
	struct fixture f;
	lp_gitsrc_request req;
	lp_gitsrc_result res;
	lp_error err = {0};
	char wd[600];

	fixture_setup(&f, 1);
	workdir(wd, sizeof(wd), &f, "x");
	request_init(&req, &f, wd);
	req.commit = "0123456789abcdef0123456789abcdef01234567";
	ck_assert_int_eq(lp_gitsrc_fetch(&res, &req, &err), LP_ENOTFOUND);
	ck_assert_str_eq(err.message,
	                 "commit 0123456789abcdef0123456789abcdef01234567 not found on main");
	ck_assert(!lp_fs_exists(wd));
	req.commit = "12345";
	ck_assert_int_eq(lp_gitsrc_fetch(&res, &req, &err), LP_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "40-digit hex"));
	fixture_teardown(&f);
}
END_TEST

START_TEST(test_missing_branch)
{
	struct fixture f;
	lp_gitsrc_request req;
	lp_gitsrc_result res;
	lp_error err = {0};
	char wd[600], want[800];

	fixture_setup(&f, 1);
	workdir(wd, sizeof(wd), &f, "x");
	request_init(&req, &f, wd);
	req.branch = "nope";
	ck_assert_int_eq(lp_gitsrc_fetch(&res, &req, &err), LP_ENOTFOUND);
	LP_TEST_FMT(want, "branch \"nope\" not found at %s", f.url);
	ck_assert_str_eq(err.message, want);
	ck_assert(!lp_fs_exists(wd));
	req.branch = "--upload-pack=touch /tmp/x";
	ck_assert_int_eq(lp_gitsrc_fetch(&res, &req, &err), LP_EINVAL);
	fixture_teardown(&f);
}
END_TEST

START_TEST(test_url_policy)
{
	static const struct {
		const char *url;
		int insecure;
		int code;
		const char *msg;
	} cases[] = {
	    {"https://github.com/user/repo", 0, LP_OK, NULL},
	    {"https://github.com/user/repo.git", 0, LP_OK, NULL},
	    {"https://git.example.com:8443/a/b", 0, LP_OK, NULL},
	    {"https://[::1]:8443/a/b", 0, LP_OK, NULL},
	    {"http://example.com/a/b", 0, LP_EINVAL, "http:// git URLs are refused"},
	    {"http://example.com/a/b", 1, LP_OK, NULL},
	    {"file:///srv/repo", 0, LP_EINVAL, "file:// git URLs are refused"},
	    {"file:///srv/repo", 1, LP_OK, NULL},
	    {"file://host/srv/repo", 1, LP_EINVAL, "absolute path"},
	    {"/srv/repo", 1, LP_EINVAL, "local paths are refused"},
	    {"ssh://git@github.com/user/repo", 1, LP_EINVAL, "ssh git URLs are refused"},
	    {"git@github.com:user/repo.git", 1, LP_EINVAL, "scp-style"},
	    {"git://github.com/user/repo", 1, LP_EINVAL, "git:// URLs are refused"},
	    {"ext::sh -c touch% /tmp/pwned", 1, LP_EINVAL, "space"},
	    {"ext::sh", 1, LP_EINVAL, "transport helpers"},
	    {"fd::17", 1, LP_EINVAL, "transport helpers"},
	    {"--upload-pack=touch", 1, LP_EINVAL, "may not start with '-'"},
	    {"https://user:pass@github.com/user/repo", 0, LP_EINVAL, "credentials"},
	    {"https://token@github.com/user/repo", 0, LP_EINVAL, "credentials"},
	    {"https://github.com%2f@evil/x", 0, LP_EINVAL, "percent"},
	    {"https://github.com", 0, LP_EINVAL, "no repository path"},
	    {"https:///repo", 0, LP_EINVAL, "no host"},
	    {"https://github.com:99999/a", 0, LP_EINVAL, "bad port"},
	    {"https://github.com/a b", 0, LP_EINVAL, "space"},
	    {"https://github.com/a\nb", 0, LP_EINVAL, "control"},
	    {"https://github.com/a?x=1", 0, LP_EINVAL, "query"},
	    {"HTTPS://github.com/a", 0, LP_EINVAL, "unsupported"},
	    {"ftp://example.com/a", 1, LP_EINVAL, "unsupported"},
	    {"", 0, LP_EINVAL, "empty"},
	};
	char *longurl = malloc(LP_GITSRC_URL_MAX + 2);
	lp_error err;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err = (lp_error){0};
		ck_assert_msg(
		    lp_gitsrc_check_url(cases[i].url, cases[i].insecure, &err) == cases[i].code,
		    "%s (insecure=%d): got \"%s\"", cases[i].url, cases[i].insecure, err.message);
		if (cases[i].msg)
			ck_assert_msg(strstr(err.message, cases[i].msg) != NULL,
			              "%s: message \"%s\" lacks \"%s\"", cases[i].url, err.message,
			              cases[i].msg);
	}
	ck_assert_int_eq(lp_gitsrc_check_url(NULL, 1, &err), LP_EINVAL);
	memcpy(longurl, "https://h/", 10);
	memset(longurl + 10, 'a', LP_GITSRC_URL_MAX - 10);
	longurl[LP_GITSRC_URL_MAX] = '\0';
	ck_assert_int_eq(lp_gitsrc_check_url(longurl, 0, &err), LP_OK);
	longurl[LP_GITSRC_URL_MAX] = 'a';
	longurl[LP_GITSRC_URL_MAX + 1] = '\0';
	ck_assert_int_eq(lp_gitsrc_check_url(longurl, 0, &err), LP_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "longer than 2048"));
	free(longurl);

	ck_assert_int_eq(lp_gitsrc_check_branch("main", NULL), LP_OK);
	ck_assert_int_eq(lp_gitsrc_check_branch("release/v1.2", NULL), LP_OK);
	ck_assert_int_eq(lp_gitsrc_check_branch("-x", NULL), LP_EINVAL);
	ck_assert_int_eq(lp_gitsrc_check_branch("a..b", NULL), LP_EINVAL);
	ck_assert_int_eq(lp_gitsrc_check_branch("a.lock", NULL), LP_EINVAL);
	ck_assert_int_eq(lp_gitsrc_check_branch("a b", NULL), LP_EINVAL);
	ck_assert_int_eq(lp_gitsrc_check_branch("a@{1}", NULL), LP_EINVAL);
	ck_assert_int_eq(lp_gitsrc_check_branch("", NULL), LP_EINVAL);
}
END_TEST

START_TEST(test_policy_applies_to_fetch)
{
	struct fixture f;
	lp_gitsrc_request req;
	lp_gitsrc_result res;
	lp_error err = {0};
	char wd[600];

	fixture_setup(&f, 1);
	workdir(wd, sizeof(wd), &f, "x");
	request_init(&req, &f, wd);
	req.allow_insecure = 0;
	ck_assert_int_eq(lp_gitsrc_fetch(&res, &req, &err), LP_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "http:// git URLs are refused"));
	ck_assert_uint_eq(lp_test_git_server_requests(f.srv), 0);
	ck_assert(!lp_fs_exists(wd));
	ck_assert(!lp_fs_exists(f.cache));
	fixture_teardown(&f);
}
END_TEST

START_TEST(test_file_url)
{
	struct fixture f;
	lp_gitsrc_request req;
	lp_gitsrc_result res;
	lp_error err = {0};
	char wd[600], url[700];

	fixture_setup(&f, 0);
	LP_TEST_FMT(url, "file://%s", f.repo);
	workdir(wd, sizeof(wd), &f, "x");
	request_init(&req, &f, wd);
	req.url = url;
	req.allow_insecure = 0;
	ck_assert_int_eq(lp_gitsrc_fetch(&res, &req, &err), LP_EINVAL);
	req.allow_insecure = 1;
	ck_assert_msg(lp_gitsrc_fetch(&res, &req, &err) == LP_OK, "%s", err.message);
	ck_assert_str_eq(res.sha, f.sha2);
	assert_file(wd, "index.html", "v2\n");
	assert_no_dotgit(wd);
	fixture_teardown(&f);
}
END_TEST

START_TEST(test_stall_timeout)
{
	struct fixture f;
	lp_gitsrc_request req;
	lp_gitsrc_result res;
	lp_error err = {0};
	char wd[600];
	double t0, elapsed;

	fixture_setup(&f, 1);
	lp_test_git_server_set_stall(f.srv, 1);
	workdir(wd, sizeof(wd), &f, "x");
	request_init(&req, &f, wd);
	req.timeout_seconds = 2;
	t0 = now_s();
	ck_assert_int_eq(lp_gitsrc_fetch(&res, &req, &err), LP_ETIMEOUT);
	elapsed = now_s() - t0;
	ck_assert_str_eq(err.message, "git fetch timed out after 2 s");
	/* ended by its deadline (the stall never ends), not by the stall: no speed goal here */
	ck_assert_msg(elapsed >= 1.9 && elapsed < 30.0, "took %.2f s", elapsed);
	assert_no_children();
	ck_assert(!lp_fs_exists(wd));
	fixture_teardown(&f);
}
END_TEST

static volatile sig_atomic_t cancel_flag;

static void *set_cancel_later(void *arg)
{
	usleep(300 * 1000);
	cancel_flag = 1;
	return NULL;
}

START_TEST(test_cancel)
{
	struct fixture f;
	lp_gitsrc_request req;
	lp_gitsrc_result res;
	lp_error err = {0};
	pthread_t th;
	char wd[600];
	int p[2];

	fixture_setup(&f, 1);
	lp_test_git_server_set_stall(f.srv, 1);
	workdir(wd, sizeof(wd), &f, "x");
	request_init(&req, &f, wd);
	req.cancel = &cancel_flag;
	cancel_flag = 0;
	ck_assert_int_eq(pthread_create(&th, NULL, set_cancel_later, NULL), 0);
	ck_assert_int_eq(lp_gitsrc_fetch(&res, &req, &err), LP_ECANCELED);
	pthread_join(th, NULL);
	assert_no_children();

	/* The same through a file descriptor that becomes readable. */
	req.cancel = NULL;
	ck_assert_int_eq(pipe(p), 0);
	req.cancel_fd = p[0];
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(lp_gitsrc_fetch(&res, &req, &err), LP_ECANCELED);
	assert_no_children();
	close(p[0]);
	close(p[1]);
	fixture_teardown(&f);
}
END_TEST

START_TEST(test_size_caps)
{
	struct fixture f;
	lp_gitsrc_request req;
	lp_gitsrc_result res;
	lp_error err = {0};
	char wd[600];

	fixture_setup(&f, 1);
	workdir(wd, sizeof(wd), &f, "x");
	request_init(&req, &f, wd);
	req.max_bytes = 256 * 1024;
	ck_assert_int_eq(lp_gitsrc_fetch(&res, &req, &err), LP_ETOOBIG);
	ck_assert_str_eq(err.message, "repository larger than 256 KiB");
	ck_assert(!lp_fs_exists(wd));

	req.max_bytes = 0;
	req.max_files = 1;
	ck_assert_int_eq(lp_gitsrc_fetch(&res, &req, &err), LP_ETOOBIG);
	ck_assert_str_eq(err.message, "checkout has more than 1 files");
	req.max_files = 0;
	req.max_checkout_bytes = 100 * 1024;
	ck_assert_int_eq(lp_gitsrc_fetch(&res, &req, &err), LP_ETOOBIG);
	ck_assert_str_eq(err.message, "checkout larger than 100 KiB");
	ck_assert(!lp_fs_exists(wd));
	fixture_teardown(&f);
}
END_TEST

START_TEST(test_workdir_must_be_empty)
{
	struct fixture f;
	lp_gitsrc_request req;
	lp_gitsrc_result res;
	lp_error err = {0};
	char wd[600];

	fixture_setup(&f, 1);
	workdir(wd, sizeof(wd), &f, "x");
	ck_assert_int_eq(lp_fs_mkdirs(wd, 0755, NULL), LP_OK);
	write_text(wd, "old.txt", "left over\n");
	request_init(&req, &f, wd);
	ck_assert_int_eq(lp_gitsrc_fetch(&res, &req, &err), LP_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "is not empty"));
	assert_file(wd, "old.txt", "left over\n");
	fixture_teardown(&f);
}
END_TEST

START_TEST(test_url_change)
{
	struct fixture f;
	lp_gitsrc_request req;
	lp_gitsrc_result res;
	lp_error err = {0};
	char wd[600], url[700], logpath[600], *log = NULL;
	size_t len;
	int logfd;

	fixture_setup(&f, 1);
	LP_TEST_FMT(url, "file://%s", f.repo);
	workdir(wd, sizeof(wd), &f, "1");
	request_init(&req, &f, wd);
	req.url = url;
	ck_assert_msg(lp_gitsrc_fetch(&res, &req, &err) == LP_OK, "%s", err.message);
	/* The site now points at the HTTP remote: the cache follows, reusing what it has. */
	LP_TEST_FMT(logpath, "%s/fetch.log", f.root);
	logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(logfd, 0);
	workdir(wd, sizeof(wd), &f, "2");
	req.url = f.url;
	req.log_fd = logfd;
	ck_assert_msg(lp_gitsrc_fetch(&res, &req, &err) == LP_OK, "%s", err.message);
	close(logfd);
	ck_assert_str_eq(res.sha, f.sha2);
	ck_assert_uint_eq(res.received_bytes, 0);
	ck_assert_uint_gt(lp_test_git_server_requests(f.srv), 0);
	ck_assert_int_eq(lp_fs_read_file(&log, &len, logpath, 1 << 20, NULL), LP_OK);
	ck_assert_msg(strstr(log, "cache: remote URL changed to http://") != NULL, "log: %s", log);
	free(log);
	fixture_teardown(&f);
}
END_TEST

static volatile int churn_stop;

/*
 * Many small allocations from other threads keep the allocator's shared locks busy while a
 * fetch starts: a worker made by a bare fork() could inherit one of them held and deadlock
 * (seen with ASan's allocator); the exec'd worker cannot.
 */
static void *churn(void *arg)
{
	static __thread void *slots[2048];
	size_t n = 0, i;

	while (!churn_stop) {
		for (i = 0; i < 2048; i++)
			slots[i] = malloc(16 + ((n + i) % 64) * 16);
		for (i = 0; i < 2048; i++)
			free(slots[i]);
		n++;
	}
	return NULL;
}

START_TEST(test_busy_parent_threads)
{
	struct fixture f;
	lp_gitsrc_request req;
	lp_gitsrc_result res;
	lp_error err = {0};
	pthread_t th[4];
	char wd[600], url[700], name[16];
	int i;

	fixture_setup(&f, 0);
	LP_TEST_FMT(url, "file://%s", f.repo);
	churn_stop = 0;
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, churn, NULL), 0);
	for (i = 0; i < 10; i++) {
		LP_TEST_FMT(name, "w%d", i);
		workdir(wd, sizeof(wd), &f, name);
		request_init(&req, &f, wd);
		req.url = url;
		req.timeout_seconds = 20;
		ck_assert_msg(lp_gitsrc_fetch(&res, &req, &err) == LP_OK, "fetch %d: %s", i,
		              err.message);
		ck_assert_str_eq(res.sha, f.sha2);
	}
	churn_stop = 1;
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	fixture_teardown(&f);
}
END_TEST

/* ---- SSRF: internal addresses refused, one text whatever listens ---- */

/* A TCP listener that accepts and counts connections (something "listening there"). */
struct listener {
	int fd;
	unsigned port;
	atomic_int accepted;
	atomic_int stop;
	pthread_t thread;
};

static void *listener_main(void *arg)
{
	struct listener *l = arg;

	while (!atomic_load(&l->stop)) {
		struct pollfd p = {.fd = l->fd, .events = POLLIN};

		if (poll(&p, 1, 100) > 0) {
			int c = accept(l->fd, NULL, NULL);

			if (c >= 0) {
				atomic_fetch_add(&l->accepted, 1);
				close(c);
			}
		}
	}
	return NULL;
}

/* Bind family's loopback on a free port; listen (and accept, counted) only when listening. */
static void bind_loopback(struct listener *l, int family, int listening)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;

	memset(l, 0, sizeof(*l));
	l->fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(l->fd, 0);
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		len = sizeof(*a);
	}
	ck_assert_int_eq(bind(l->fd, (struct sockaddr *)&ss, len), 0);
	ck_assert_int_eq(getsockname(l->fd, (struct sockaddr *)&ss, &len), 0);
	l->port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
	                                  : ((struct sockaddr_in6 *)&ss)->sin6_port);
	if (!listening) {
		close(l->fd); /* the port is free again: nothing listens there */
		l->fd = -1;
		return;
	}
	ck_assert_int_eq(listen(l->fd, 16), 0);
	ck_assert_int_eq(pthread_create(&l->thread, NULL, listener_main, l), 0);
}

static void listener_stop(struct listener *l)
{
	if (l->fd < 0)
		return;
	atomic_store(&l->stop, 1);
	pthread_join(l->thread, NULL);
	close(l->fd);
}

/* A fetch of url with the address check on, as the controller runs it; err gets the verdict. */
static int fetch_checked(const struct fixture *f, const char *url, const char *allow, lp_error *err)
{
	lp_gitsrc_request req;
	lp_gitsrc_result res;
	char wd[600];

	workdir(wd, sizeof(wd), f, "ssrf");
	request_init(&req, f, wd);
	req.url = url;
	req.allow_insecure = strncmp(url, "http://", 7) == 0; /* https:// needs no exemption */
	req.check_addresses = 1;
	req.allow_hosts = allow;
	req.timeout_seconds = 20;
	*err = (lp_error){0};
	return lp_gitsrc_fetch(&res, &req, err);
}

static void expect_refused(const struct fixture *f, const char *url, const char *host, char *out,
                           size_t outsz)
{
	char want[LP_ERROR_MESSAGE_MAX];
	lp_error err;

	LP_TEST_FMT(want, "git host \"%s\" is refused: %s", host, LP_GITNET_REFUSED);
	ck_assert_msg(fetch_checked(f, url, NULL, &err) == LP_EUNSAFE, "%s: %s", url, err.message);
	ck_assert_msg(!strcmp(err.message, want), "%s: \"%s\"", url, err.message);
	if (out != NULL)
		lp_test_fmt(out, outsz, "%s", err.message);
}

/* The three URLs, each with something listening and with nothing: one same refusal. */
START_TEST(test_ssrf_refused_uniformly)
{
	struct fixture f;
	struct listener open4, closed4, open6, closed6;
	char url[256], a[LP_ERROR_MESSAGE_MAX], b[LP_ERROR_MESSAGE_MAX];
	static const char *const others[][2] = {
	    {"https://10.0.0.1/x", "10.0.0.1"},
	    {"https://169.254.169.254/latest/meta-data", "169.254.169.254"},
	    {"https://192.168.1.1:8443/x", "192.168.1.1"},
	    {"https://100.64.0.1/x", "100.64.0.1"},
	    {"https://0.0.0.0:2375/x", "0.0.0.0"},
	    {"https://[fd00::1]/x", "fd00::1"},
	    {"https://[fe80::1]/x", "fe80::1"},
	    {"https://[::ffff:127.0.0.1]:2375/x", "::ffff:127.0.0.1"},
	    {"https://224.0.0.1/x", "224.0.0.1"},
	};
	size_t i;

	fixture_setup(&f, 0);
	bind_loopback(&open4, AF_INET, 1);
	bind_loopback(&closed4, AF_INET, 0);
	bind_loopback(&open6, AF_INET6, 1);
	bind_loopback(&closed6, AF_INET6, 0);

	LP_TEST_FMT(url, "https://127.0.0.1:%u/x", open4.port);
	expect_refused(&f, url, "127.0.0.1", a, sizeof(a));
	LP_TEST_FMT(url, "https://127.0.0.1:%u/x", closed4.port);
	expect_refused(&f, url, "127.0.0.1", b, sizeof(b));
	ck_assert_str_eq(a, b);
	LP_TEST_FMT(url, "https://[::1]:%u/x", open6.port);
	expect_refused(&f, url, "::1", a, sizeof(a));
	LP_TEST_FMT(url, "https://[::1]:%u/x", closed6.port);
	expect_refused(&f, url, "::1", b, sizeof(b));
	ck_assert_str_eq(a, b);
	expect_refused(&f, "https://localhost:2375/x", "localhost", NULL, 0);
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		expect_refused(&f, others[i][0], others[i][1], NULL, 0);
	/* refused before connecting: the listeners never saw a connection */
	ck_assert_int_eq(atomic_load(&open4.accepted), 0);
	ck_assert_int_eq(atomic_load(&open6.accepted), 0);
	listener_stop(&open4);
	listener_stop(&open6);
	assert_no_children();
	fixture_teardown(&f);
}
END_TEST

/* The local test server, checked: refused, then fetched once the admin allows it. */
START_TEST(test_ssrf_allow_list)
{
	struct fixture f;
	lp_error err;
	char url[256];

	fixture_setup(&f, 1);
	expect_refused(&f, f.url, "127.0.0.1", NULL, 0);
	ck_assert_uint_eq(lp_test_git_server_requests(f.srv), 0);
	ck_assert_msg(fetch_checked(&f, f.url, "127.0.0.1", &err) == LP_OK, "%s", err.message);
	ck_assert_uint_gt(lp_test_git_server_requests(f.srv), 0);
	lp_test_sh("rm -rf '%s/work'", f.root);
	ck_assert_msg(fetch_checked(&f, f.url, "git.example.com, 127.0.0.0/8", &err) == LP_OK, "%s",
	              err.message);
	lp_test_sh("rm -rf '%s/work'", f.root);
	LP_TEST_FMT(url, "http://localhost:%u/site", (unsigned)lp_test_git_server_port(f.srv));
	ck_assert_msg(fetch_checked(&f, url, "LOCALHOST", &err) == LP_OK, "%s", err.message);
	lp_test_sh("rm -rf '%s/work'", f.root);
	/* an allow-list entry that is not a host, an address or a range: said before any fetch */
	lp_test_git_server_reset_counters(f.srv);
	ck_assert_int_eq(fetch_checked(&f, f.url, "127.0.0.1 evil;host", &err), LP_EINVAL);
	ck_assert_msg(strstr(err.message, "\"evil;host\" is not a host name") != NULL, "%s",
	              err.message);
	ck_assert_uint_eq(lp_test_git_server_requests(f.srv), 0);
	fixture_teardown(&f);
}
END_TEST

/* A redirect is a new connection, checked like the first: an allowed host cannot hop inside. */
START_TEST(test_ssrf_redirect_checked)
{
	struct fixture f;
	lp_error err;
	char to[128];

	fixture_setup(&f, 1);
	LP_TEST_FMT(to, "http://127.0.0.2:%u", (unsigned)lp_test_git_server_port(f.srv));
	lp_test_git_server_set_redirect(f.srv, to);
	ck_assert_int_eq(fetch_checked(&f, f.url, "127.0.0.1", &err), LP_EUNSAFE);
	ck_assert_msg(strstr(err.message, "git host \"127.0.0.2\" is refused") != NULL, "%s",
	              err.message);
	ck_assert_uint_eq(lp_test_git_server_requests(f.srv), 1); /* the redirect, nothing more */
	fixture_teardown(&f);
}
END_TEST

/* The engine's networks (and any range the caller adds) are refused even when public. */
START_TEST(test_ssrf_engine_ranges)
{
	struct fixture f;
	lp_gitsrc_request req;
	lp_gitsrc_result res;
	lp_error err = {0};
	char wd[600];

	fixture_setup(&f, 0);
	workdir(wd, sizeof(wd), &f, "ssrf");
	request_init(&req, &f, wd);
	req.url = "https://8.8.8.8/x";
	req.allow_insecure = 0;
	req.check_addresses = 1;
	req.deny_ranges = "172.17.0.0/16,8.8.8.0/24";
	ck_assert_int_eq(lp_gitsrc_fetch(&res, &req, &err), LP_EUNSAFE);
	ck_assert_msg(strstr(err.message, "git host \"8.8.8.8\" is refused") != NULL, "%s",
	              err.message);
	req.deny_ranges = "8.8.8.0/99";
	ck_assert_int_eq(lp_gitsrc_fetch(&res, &req, &err), LP_EINVAL);
	fixture_teardown(&f);
}
END_TEST

/* https:// runs TLS over the checking stream: a real TLS server, a test CA, a full fetch. */
START_TEST(test_ssrf_https_over_checked_stream)
{
	struct fixture f;
	lp_test_git_server *tls = NULL;
	char srvroot[600], ca[700], *cert = NULL, *key = NULL, *url;
	lp_gitsrc_request req;
	lp_gitsrc_result res;
	lp_error err = {0};
	char wd[600];
	size_t len;

	fixture_setup(&f, 0);
	lp_test_sh("cd '%s' && printf 'subjectAltName=DNS:localhost\\n' > ext.cnf && "
	           "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 "
	           "-subj /CN=lp-test-ca 2>/dev/null && "
	           "openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr "
	           "-subj /CN=localhost 2>/dev/null && "
	           "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
	           "-out srv.pem -days 1 -extfile ext.cnf 2>/dev/null",
	           f.root);
	LP_TEST_FMT(ca, "%s/srv.pem", f.root);
	ck_assert_int_eq(lp_fs_read_file(&cert, &len, ca, 1 << 20, NULL), LP_OK);
	LP_TEST_FMT(ca, "%s/srv.key", f.root);
	ck_assert_int_eq(lp_fs_read_file(&key, &len, ca, 1 << 20, NULL), LP_OK);
	LP_TEST_FMT(ca, "%s/ca.pem", f.root);
	LP_TEST_FMT(srvroot, "%s/srv", f.root);
	ck_assert_msg(lp_test_git_server_start_tls(&tls, srvroot, cert, key, &err) == LP_OK, "%s",
	              err.message);
	url = lp_test_git_server_url(tls, "site");
	ck_assert_msg(!strncmp(url, "https://localhost:", 18), "%s", url);

	/* insecure sources off, as in production: localhost is refused, then allowed by name */
	expect_refused(&f, url, "localhost", NULL, 0);
	ck_assert_uint_eq(lp_test_git_server_requests(tls), 0);
	workdir(wd, sizeof(wd), &f, "tls");
	request_init(&req, &f, wd);
	req.url = url;
	req.allow_insecure = 0;
	req.check_addresses = 1;
	req.allow_hosts = "localhost";
	/* without the test CA the certificate is checked, and fails */
	unsetenv("SSL_CERT_FILE");
	ck_assert_int_eq(lp_gitsrc_fetch(&res, &req, &err), LP_EREMOTE);
	ck_assert_msg(strstr(err.message, "certificate") != NULL ||
	                  strstr(err.message, "verif") != NULL,
	              "%s", err.message);
	setenv("SSL_CERT_FILE", ca, 1);
	ck_assert_msg(lp_gitsrc_fetch(&res, &req, &err) == LP_OK, "%s", err.message);
	unsetenv("SSL_CERT_FILE");
	ck_assert_str_eq(res.sha, f.sha2);
	assert_file(wd, "index.html", "v2\n");
	ck_assert_uint_gt(lp_test_git_server_requests(tls), 0);
	free(url);
	free(cert);
	free(key);
	lp_test_git_server_stop(tls);
	fixture_teardown(&f);
}
END_TEST

static Suite *gitsrc_suite(void)
{
	Suite *s = suite_create("gitsrc");
	TCase *tc = tcase_create("gitsrc");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_url_policy);
	tcase_add_test(tc, test_branch_head);
	tcase_add_test(tc, test_exact_commit);
	tcase_add_test(tc, test_incremental);
	tcase_add_test(tc, test_unknown_commit);
	tcase_add_test(tc, test_missing_branch);
	tcase_add_test(tc, test_policy_applies_to_fetch);
	tcase_add_test(tc, test_file_url);
	tcase_add_test(tc, test_stall_timeout);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_size_caps);
	tcase_add_test(tc, test_workdir_must_be_empty);
	tcase_add_test(tc, test_url_change);
	tcase_add_test(tc, test_busy_parent_threads);
	tcase_add_test(tc, test_ssrf_refused_uniformly);
	tcase_add_test(tc, test_ssrf_allow_list);
	tcase_add_test(tc, test_ssrf_redirect_checked);
	tcase_add_test(tc, test_ssrf_engine_ranges);
	tcase_add_test(tc, test_ssrf_https_over_checked_stream);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lp_test_run(gitsrc_suite());
}
