/* check_publish.c: unit tests for publishing revisions, the atomic `current` switch and pruning. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launchpad/buf.h"
#include "launchpad/error.h"
#include "launchpad/fs.h"
#include "pipeline/publish.h"
#include "tests/lib/testutil.h"

/* A scratch data dir with a workspace and a site dir; removed at the end of each test. */
typedef struct fixture {
	char *root;
	char ws[PATH_MAX];
	char site[PATH_MAX];
} fixture;

static void fixture_init(fixture *f)
{
	f->root = lp_test_mkdtemp("lp-publish");
	ck_assert_ptr_nonnull(f->root);
	LP_TEST_FMT(f->ws, "%s/work/demo-1", f->root);
	LP_TEST_FMT(f->site, "%s/sites/demo", f->root);
	ck_assert_int_eq(lp_fs_mkdirs(f->ws, 0755, NULL), LP_OK);
	ck_assert_int_eq(lp_fs_mkdirs(f->site, 0755, NULL), LP_OK);
}

static void fixture_free(fixture *f)
{
	ck_assert_int_eq(lp_fs_remove_tree(f->root, NULL), LP_OK);
	free(f->root);
}

static void put(const char *dir, const char *rel, const char *content, mode_t mode)
{
	char path[PATH_MAX], parent[PATH_MAX];
	char *slash;
	int fd;

	LP_TEST_FMT(path, "%s/%s", dir, rel);
	LP_TEST_FMT(parent, "%s", path);
	slash = strrchr(parent, '/');
	*slash = '\0';
	ck_assert_int_eq(lp_fs_mkdirs(parent, 0755, NULL), LP_OK);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

static void link_at(const char *dir, const char *rel, const char *target)
{
	char path[PATH_MAX];

	LP_TEST_FMT(path, "%s/%s", dir, rel);
	ck_assert_msg(symlink(target, path) == 0, "symlink %s: %s", path, strerror(errno));
}

/* The content of dir/rel, or "" when it cannot be read (static buffer: compare at once). */
static const char *slurp(const char *dir, const char *rel)
{
	static char content[4096];
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	LP_TEST_FMT(path, "%s/%s", dir, rel);
	content[0] = '\0';
	fd = open(path, O_RDONLY | O_NOFOLLOW);
	if (fd < 0)
		return content;
	n = read(fd, content, sizeof(content) - 1);
	content[n > 0 ? n : 0] = '\0';
	close(fd);
	return content;
}

static mode_t lmode(const char *dir, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	LP_TEST_FMT(path, "%s/%s", dir, rel);
	if (lstat(path, &st) != 0)
		return 0;
	return st.st_mode;
}

/* Number of entries in dir (missing dir: 0), and how many of them (recursively) are links. */
static int count_entries(const char *dir, int *links)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d = opendir(dir);
	int n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		n++;
		LP_TEST_FMT(path, "%s/%s", dir, de->d_name);
		ck_assert_int_eq(lstat(path, &st), 0);
		if (links && S_ISLNK(st.st_mode))
			(*links)++;
		if (links && S_ISDIR(st.st_mode))
			count_entries(path, links);
	}
	closedir(d);
	return n;
}

static void collect_note(void *ctx, const char *line)
{
	lp_buf *b = ctx;

	ck_assert_int_eq(lp_buf_printf(b, "%s\n", line), LP_OK);
}

static void null_note(void *ctx, const char *line)
{
	(void)ctx;
	(void)line;
}

START_TEST(test_copy_tree_and_link_policy)
{
	fixture f;
	char dist[PATH_MAX], rev[PATH_MAX], sock_path[PATH_MAX];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	lp_publish_result res;
	lp_error err = {0};
	lp_buf notes;
	int links = 0, sock;
	const char *n;

	fixture_init(&f);
	lp_buf_init(&notes, 1 << 16);
	LP_TEST_FMT(dist, "%s/dist", f.ws);
	put(dist, "index.html", "<h1>home</h1>", 0600);
	put(dist, "assets/css/a.css", "body{}", 0640);
	put(dist, "sub/deep/x.txt", "deep", 0644);
	put(f.ws, "secret.txt", "workspace secret", 0644);
	ck_assert_int_eq(chmod(dist, 0700), 0);
	/* Links that stay inside the output: materialised as copies. */
	link_at(dist, "alias.html", "index.html");
	link_at(dist, "chain.html", "alias.html");
	link_at(dist, "assets2", "assets");
	link_at(dist, "sub/up.html", "../index.html");
	link_at(dist, "sub/deep/round.css", "../../sub/../assets/css/a.css");
	/* Links that leave it, or go nowhere: dropped with a note. */
	link_at(dist, "leak", "/etc/passwd");
	link_at(dist, "etc", "/etc");
	link_at(dist, "ws-secret", "../secret.txt");
	link_at(dist, "sub/climb", "../../../../../../etc");
	link_at(dist, "sneaky", "assets2/../../secret.txt");
	link_at(dist, "via-leak", "leak");
	link_at(dist, "loop", ".");
	link_at(dist, "sub/deep/parent", "..");
	link_at(dist, "dangling", "nope.html");
	link_at(dist, "through-file", "index.html/x");
	LP_TEST_FMT(sock_path, "%s/pipe", dist);
	ck_assert_int_eq(mkfifo(sock_path, 0644), 0);
	LP_TEST_FMT(sock_path, "%s/sock", dist);
	sock = socket(AF_UNIX, SOCK_STREAM, 0);
	LP_TEST_FMT(sa.sun_path, "%s", sock_path);
	ck_assert_int_eq(bind(sock, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(sock);

	ck_assert_int_eq(
	    lp_publish_copy(&res, f.site, 1, f.ws, "dist", NULL, collect_note, &notes, &err),
	    LP_OK);
	LP_TEST_FMT(rev, "%s/revisions/1", f.site);
	ck_assert(lp_publish_is_ready(f.site, 1));
	ck_assert_str_eq(slurp(rev, "index.html"), "<h1>home</h1>");
	ck_assert_str_eq(slurp(rev, "assets/css/a.css"), "body{}");
	ck_assert_str_eq(slurp(rev, "sub/deep/x.txt"), "deep");
	ck_assert_str_eq(slurp(rev, "alias.html"), "<h1>home</h1>");
	ck_assert_str_eq(slurp(rev, "chain.html"), "<h1>home</h1>");
	ck_assert_str_eq(slurp(rev, "assets2/css/a.css"), "body{}");
	ck_assert_str_eq(slurp(rev, "sub/up.html"), "<h1>home</h1>");
	ck_assert_str_eq(slurp(rev, "sub/deep/round.css"), "body{}");
	/* Modes are normalised whatever the build left. */
	ck_assert_uint_eq(lmode(rev, "index.html"), S_IFREG | 0644);
	ck_assert_uint_eq(lmode(rev, "alias.html"), S_IFREG | 0644);
	ck_assert_uint_eq(lmode(rev, "assets"), S_IFDIR | 0755);
	ck_assert_uint_eq(lmode(rev, "assets2"), S_IFDIR | 0755);
	ck_assert_uint_eq(lmode(rev, ""), S_IFDIR | 0755);
	/* Nothing that leaves the output was published, and no link at all survives. */
	ck_assert_uint_eq(lmode(rev, "leak"), 0);
	ck_assert_uint_eq(lmode(rev, "etc"), 0);
	ck_assert_uint_eq(lmode(rev, "ws-secret"), 0);
	ck_assert_uint_eq(lmode(rev, "sub/climb"), 0);
	ck_assert_uint_eq(lmode(rev, "sneaky"), 0);
	ck_assert_uint_eq(lmode(rev, "via-leak"), 0);
	ck_assert_uint_eq(lmode(rev, "loop"), 0);
	ck_assert_uint_eq(lmode(rev, "sub/deep/parent"), 0);
	ck_assert_uint_eq(lmode(rev, "dangling"), 0);
	ck_assert_uint_eq(lmode(rev, "through-file"), 0);
	ck_assert_uint_eq(lmode(rev, "pipe"), 0);
	ck_assert_uint_eq(lmode(rev, "sock"), 0);
	count_entries(rev, &links);
	ck_assert_int_eq(links, 0);
	n = lp_buf_cstr(&notes);
	ck_assert_msg(strstr(n, "dropped dist/leak -> /etc/passwd: link resolves outside the "
	                        "output directory\n") != NULL,
	              "notes: %s", n);
	ck_assert_ptr_nonnull(strstr(n, "dropped dist/etc -> /etc: link resolves outside"));
	ck_assert_ptr_nonnull(strstr(n, "dropped dist/ws-secret -> ../secret.txt: link resolves "
	                                "outside"));
	ck_assert_ptr_nonnull(strstr(n, "dropped dist/sub/climb -> ../../../../../../etc: link "
	                                "resolves outside"));
	ck_assert_ptr_nonnull(strstr(n, "dropped dist/sneaky -> assets2/../../secret.txt: link "
	                                "resolves outside"));
	ck_assert_ptr_nonnull(strstr(n, "dropped dist/via-leak -> leak: link resolves outside"));
	ck_assert_ptr_nonnull(strstr(n, "dropped dist/loop -> .: link loops back"));
	ck_assert_ptr_nonnull(strstr(n, "dropped dist/sub/deep/parent -> ..: link loops back"));
	ck_assert_ptr_nonnull(strstr(n, "dropped dist/dangling -> nope.html: link target does not "
	                                "exist"));
	ck_assert_ptr_nonnull(strstr(n, "dropped dist/through-file -> index.html/x"));
	ck_assert_ptr_nonnull(strstr(n, "dropped dist/pipe: fifos are not published"));
	ck_assert_ptr_nonnull(strstr(n, "dropped dist/sock: sockets are not published"));
	ck_assert_uint_eq(res.dropped, 12);
	/* index, a.css, x.txt, alias, chain, assets2/css/a.css, up, round */
	ck_assert_uint_eq(res.files, 8);
	ck_assert_uint_eq(res.bytes, 13 * 4 + 6 * 3 + 4);
	/* The copy left no temporary directory behind. */
	LP_TEST_FMT(rev, "%s/revisions", f.site);
	ck_assert_int_eq(count_entries(rev, NULL), 1);
	lp_buf_release(&notes);
	fixture_free(&f);
}
END_TEST

START_TEST(test_symlinked_output_refused)
{
	fixture f;
	char path[PATH_MAX];
	lp_error err = {0};

	fixture_init(&f);
	link_at(f.ws, "dist", "/etc");
	ck_assert_int_eq(lp_publish_copy(NULL, f.site, 1, f.ws, "dist", NULL, NULL, NULL, &err),
	                 LP_EUNSAFE);
	ck_assert_msg(strstr(err.message, "output directory \"dist\" is a symbolic link") != NULL &&
	                  strstr(err.message, "-> /etc") != NULL,
	              "%s", err.message);
	ck_assert(!lp_publish_is_ready(f.site, 1));
	/* A link to a real directory inside the workspace is refused too, and so is a link on the
	 * way to the output (out/dist with out -> elsewhere). */
	put(f.ws, "real/index.html", "x", 0644);
	link_at(f.ws, "out", "real");
	ck_assert_int_eq(lp_publish_copy(NULL, f.site, 1, f.ws, "out", NULL, NULL, NULL, &err),
	                 LP_EUNSAFE);
	put(f.ws, "real/dist/index.html", "x", 0644);
	ck_assert_int_eq(lp_publish_copy(NULL, f.site, 1, f.ws, "out/dist", NULL, NULL, NULL, &err),
	                 LP_EUNSAFE);
	ck_assert_int_eq(
	    lp_publish_copy(NULL, f.site, 1, f.ws, "./real/dist/", NULL, NULL, NULL, &err), LP_OK);
	LP_TEST_FMT(path, "%s/revisions/1", f.site);
	ck_assert_str_eq(slurp(path, "index.html"), "x");
	fixture_free(&f);
}
END_TEST

START_TEST(test_output_dir_errors)
{
	fixture f;
	char path[PATH_MAX];
	lp_error err = {0};

	fixture_init(&f);
	ck_assert_int_eq(lp_publish_copy(NULL, f.site, 1, f.ws, "/etc", NULL, NULL, NULL, &err),
	                 LP_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "must be relative"));
	ck_assert_int_eq(
	    lp_publish_copy(NULL, f.site, 1, f.ws, "../demo-1", NULL, NULL, NULL, &err), LP_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "may not contain \"..\""));
	ck_assert_int_eq(lp_publish_copy(NULL, f.site, 1, f.ws, "a/../b", NULL, NULL, NULL, &err),
	                 LP_EINVAL);
	ck_assert_int_eq(lp_publish_copy(NULL, f.site, 0, f.ws, "dist", NULL, NULL, NULL, &err),
	                 LP_EINVAL);

	/* Missing: its own message naming the path. */
	ck_assert_int_eq(lp_publish_copy(NULL, f.site, 1, f.ws, "dist", NULL, NULL, NULL, &err),
	                 LP_ENOTFOUND);
	LP_TEST_FMT(path, "output directory \"dist\" not found at %s/dist", f.ws);
	ck_assert_msg(strstr(err.message, path) != NULL, "%s", err.message);
	ck_assert_ptr_nonnull(strstr(err.message, "did the build write its files somewhere else?"));

	/* A file where the directory should be. */
	put(f.ws, "dist", "not a dir", 0644);
	ck_assert_int_eq(lp_publish_copy(NULL, f.site, 1, f.ws, "dist", NULL, NULL, NULL, &err),
	                 LP_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "is not a directory"));

	/* Empty: directories and dropped links only, no regular file. */
	put(f.ws, "out/sub/.keep", "", 0644);
	LP_TEST_FMT(path, "%s/out/sub/.keep", f.ws);
	ck_assert_int_eq(unlink(path), 0);
	LP_TEST_FMT(path, "%s/out", f.ws);
	link_at(path, "leak", "/etc/passwd");
	ck_assert_int_eq(lp_publish_copy(NULL, f.site, 1, f.ws, "out", NULL, null_note, NULL, &err),
	                 LP_EINVAL);
	ck_assert_str_eq(err.message, "output directory \"out\" is empty: did the build write its "
	                              "files somewhere else?");
	ck_assert(!lp_publish_is_ready(f.site, 1));
	LP_TEST_FMT(path, "%s/revisions", f.site);
	ck_assert_int_eq(count_entries(path, NULL), 0);

	/* A missing workspace. */
	LP_TEST_FMT(path, "%s/nowhere", f.root);
	ck_assert_int_eq(lp_publish_copy(NULL, f.site, 1, path, "dist", NULL, NULL, NULL, &err),
	                 LP_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(err.message, path));
	fixture_free(&f);
}
END_TEST

START_TEST(test_caps_and_exists)
{
	fixture f;
	char path[PATH_MAX];
	lp_publish_limits lim;
	lp_publish_result res;
	lp_error err = {0};

	fixture_init(&f);
	lp_publish_limits_default(&lim);
	ck_assert_uint_eq(lim.max_bytes, (uint64_t)1 << 30);
	ck_assert_uint_eq(lim.max_files, 100000);
	put(f.ws, "dist/a.html", "0123456789", 0644);
	put(f.ws, "dist/b.html", "0123456789", 0644);
	put(f.ws, "dist/c/d.html", "0123456789", 0644);
	LP_TEST_FMT(path, "%s/revisions", f.site);

	lim.max_files = 3; /* 3 files + 1 directory */
	ck_assert_int_eq(
	    lp_publish_copy(&res, f.site, 1, f.ws, "dist", &lim, null_note, NULL, &err),
	    LP_ETOOBIG);
	ck_assert_ptr_nonnull(strstr(err.message, "more than 3 files"));
	ck_assert_int_eq(count_entries(path, NULL), 0);

	lp_publish_limits_default(&lim);
	lim.max_bytes = 25;
	ck_assert_int_eq(
	    lp_publish_copy(&res, f.site, 1, f.ws, "dist", &lim, null_note, NULL, &err),
	    LP_ETOOBIG);
	ck_assert_ptr_nonnull(strstr(err.message, "larger than 25 bytes"));
	ck_assert_int_eq(count_entries(path, NULL), 0);
	ck_assert(!lp_publish_is_ready(f.site, 1));

	lim.max_bytes = 30;
	lim.max_files = 4;
	ck_assert_int_eq(
	    lp_publish_copy(&res, f.site, 1, f.ws, "dist", &lim, null_note, NULL, &err), LP_OK);
	ck_assert_uint_eq(res.bytes, 30);
	ck_assert_uint_eq(res.files, 3);
	ck_assert_uint_eq(res.dirs, 1);

	/* A published revision is immutable. */
	ck_assert_int_eq(
	    lp_publish_copy(&res, f.site, 1, f.ws, "dist", NULL, null_note, NULL, &err),
	    LP_EEXISTS);
	fixture_free(&f);
}
END_TEST

static void publish_numbered(fixture *f, long n)
{
	char dir[PATH_MAX], body[32];
	lp_error err = {0};

	LP_TEST_FMT(dir, "%s/out-%ld", f->ws, n);
	LP_TEST_FMT(body, "%ld", n);
	put(dir, "index.html", body, 0644);
	put(dir, "a.css", body, 0644);
	LP_TEST_FMT(dir, "out-%ld", n);
	ck_assert_msg(lp_publish_copy(NULL, f->site, n, f->ws, dir, NULL, NULL, NULL, &err) ==
	                  LP_OK,
	              "%s", err.message);
}

/* Read a small file relative to dfd; -1 when it cannot be opened. */
static long read_number_at(int dfd, const char *name)
{
	char buf[32];
	ssize_t n;
	int fd = openat(dfd, name, O_RDONLY);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

struct reader_counts {
	long iterations, missing, mixed;
};

/* Child: read through `current` until the parent closes stop_fd; report counts on res_fd. */
static void reader(const char *site, int stop_fd, int res_fd)
{
	struct reader_counts rc = {0};
	char cur[PATH_MAX], index[PATH_MAX];
	int announced = 0;

	LP_TEST_FMT(cur, "%s/current", site);
	LP_TEST_FMT(index, "%s/current/index.html", site);
	fcntl(stop_fd, F_SETFL, O_NONBLOCK);
	for (;;) {
		char c;
		long a, b;
		int dfd, fd;

		if (read(stop_fd, &c, 1) >= 0 || errno != EAGAIN)
			break;
		dfd = open(cur, O_RDONLY | O_DIRECTORY);
		if (dfd < 0) {
			rc.missing++;
		} else {
			a = read_number_at(dfd, "index.html");
			b = read_number_at(dfd, "a.css");
			if (a < 0 || b < 0)
				rc.missing++;
			else if (a != b)
				rc.mixed++;
			close(dfd);
		}
		fd = open(index, O_RDONLY);
		if (fd < 0)
			rc.missing++;
		else
			close(fd);
		rc.iterations++;
		if (!announced) {
			announced = write(res_fd, "R", 1) == 1;
		}
	}
	if (write(res_fd, &rc, sizeof(rc)) != (ssize_t)sizeof(rc))
		_exit(2);
	_exit(0);
}

START_TEST(test_atomic_switch_under_readers)
{
	fixture f;
	struct reader_counts rc;
	int stop[2], res[2], i, status;
	lp_error err = {0};
	long cur = -1;
	char c;
	pid_t pid;

	fixture_init(&f);
	for (i = 1; i <= 3; i++)
		publish_numbered(&f, i);
	ck_assert_int_eq(lp_publish_current_revision(&cur, f.site, &err), LP_OK);
	ck_assert_int_eq(cur, 0);
	ck_assert_int_eq(lp_publish_switch(f.site, 1, &err), LP_OK);
	ck_assert_int_eq(pipe(stop), 0);
	ck_assert_int_eq(pipe(res), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(stop[1]);
		close(res[0]);
		reader(f.site, stop[0], res[1]);
	}
	close(stop[0]);
	close(res[1]);
	ck_assert_int_eq(read(res[0], &c, 1), 1); /* the reader is looping */
	for (i = 0; i < 50; i++) {
		long n = (i + 1) % 3 + 1;
		ck_assert_msg(lp_publish_switch(f.site, n, &err) == LP_OK, "%s", err.message);
		ck_assert_int_eq(lp_publish_current_revision(&cur, f.site, &err), LP_OK);
		ck_assert_int_eq(cur, n);
		usleep(200); /* let the reader interleave with the next switch */
	}
	close(stop[1]);
	ck_assert_int_eq(read(res[0], &rc, sizeof(rc)), (ssize_t)sizeof(rc));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(res[0]);
	ck_assert_int_gt(rc.iterations, 0);
	ck_assert_int_eq(rc.missing, 0);
	ck_assert_int_eq(rc.mixed, 0);
	fixture_free(&f);
}
END_TEST

START_TEST(test_switch_is_relative_and_idempotent)
{
	fixture f;
	char link[PATH_MAX], target[64];
	struct stat dir_before, dir_after, link_before, link_after;
	lp_error err = {0};
	long cur = 0;
	ssize_t n;

	fixture_init(&f);
	publish_numbered(&f, 1);
	publish_numbered(&f, 2);
	ck_assert_int_eq(lp_publish_switch(f.site, 7, &err), LP_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(err.message, "revision 7 is not published"));
	ck_assert_int_eq(lp_publish_switch(f.site, 2, &err), LP_OK);
	LP_TEST_FMT(link, "%s/current", f.site);
	n = readlink(link, target, sizeof(target) - 1);
	ck_assert_int_gt(n, 0);
	target[n] = '\0';
	ck_assert_str_eq(target, "revisions/2");
	ck_assert_int_eq(lp_publish_current_revision(&cur, f.site, &err), LP_OK);
	ck_assert_int_eq(cur, 2);

	ck_assert_int_eq(stat(f.site, &dir_before), 0);
	ck_assert_int_eq(lstat(link, &link_before), 0);
	usleep(20000); /* so a write would show in the timestamps even on coarse clocks */
	ck_assert_int_eq(lp_publish_switch(f.site, 2, &err), LP_OK);
	ck_assert_int_eq(stat(f.site, &dir_after), 0);
	ck_assert_int_eq(lstat(link, &link_after), 0);
	ck_assert_int_eq(link_before.st_ino, link_after.st_ino);
	ck_assert_int_eq(dir_before.st_mtim.tv_sec, dir_after.st_mtim.tv_sec);
	ck_assert_int_eq(dir_before.st_mtim.tv_nsec, dir_after.st_mtim.tv_nsec);

	/* The control: a real switch does change both. */
	ck_assert_int_eq(lp_publish_switch(f.site, 1, &err), LP_OK);
	ck_assert_int_eq(lstat(link, &link_after), 0);
	ck_assert_int_ne(link_before.st_ino, link_after.st_ino);
	ck_assert_int_eq(count_entries(f.site, NULL), 2); /* revisions, current: no temp link */
	fixture_free(&f);
}
END_TEST

START_TEST(test_prune)
{
	fixture f;
	char rev_dir[PATH_MAX];
	struct stat before, after;
	lp_error err = {0};
	size_t removed = 99;
	long i;

	fixture_init(&f);
	for (i = 1; i <= 6; i++)
		publish_numbered(&f, i);
	ck_assert_int_eq(lp_publish_switch(f.site, 2, &err), LP_OK);
	ck_assert_int_eq(lp_publish_prune(&removed, f.site, 2, 2, &err), LP_OK);
	ck_assert_uint_eq(removed, 3);
	ck_assert(lp_publish_is_ready(f.site, 6));
	ck_assert(lp_publish_is_ready(f.site, 5));
	ck_assert(lp_publish_is_ready(f.site, 2));
	ck_assert(!lp_publish_is_ready(f.site, 4));
	ck_assert(!lp_publish_is_ready(f.site, 3));
	ck_assert(!lp_publish_is_ready(f.site, 1));

	/* Nothing left to prune: no writes. */
	LP_TEST_FMT(rev_dir, "%s/revisions", f.site);
	ck_assert_int_eq(stat(rev_dir, &before), 0);
	usleep(20000);
	ck_assert_int_eq(lp_publish_prune(&removed, f.site, 2, 2, &err), LP_OK);
	ck_assert_uint_eq(removed, 0);
	ck_assert_int_eq(stat(rev_dir, &after), 0);
	ck_assert_int_eq(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
	ck_assert_int_eq(before.st_mtim.tv_sec, after.st_mtim.tv_sec);

	/* keep 0 with a stale current_n: the on-disk current (2) still survives, and so does 5. */
	ck_assert_int_eq(lp_publish_prune(&removed, f.site, 0, 5, &err), LP_OK);
	ck_assert_uint_eq(removed, 1);
	ck_assert(!lp_publish_is_ready(f.site, 6));
	ck_assert(lp_publish_is_ready(f.site, 5));
	ck_assert(lp_publish_is_ready(f.site, 2));
	ck_assert_int_eq(lp_publish_prune(&removed, f.site, 0, 0, &err), LP_OK);
	ck_assert_uint_eq(removed, 1);
	ck_assert(lp_publish_is_ready(f.site, 2));

	/* A site with no revisions at all. */
	ck_assert_int_eq(lp_fs_remove_tree(rev_dir, NULL), LP_OK);
	ck_assert_int_eq(lp_publish_prune(&removed, f.site, 3, 0, &err), LP_OK);
	ck_assert_uint_eq(removed, 0);
	fixture_free(&f);
}
END_TEST

START_TEST(test_crash_leftovers)
{
	fixture f;
	char path[PATH_MAX];
	lp_error err = {0};
	size_t removed = 0;

	fixture_init(&f);
	/* What a crash mid-copy and mid-switch leaves behind. */
	LP_TEST_FMT(path, "%s/revisions/.tmp-5-deadbeef", f.site);
	put(path, "index.html", "half", 0644);
	put(path, "deep/er/x.css", "half", 0644);
	link_at(f.site, ".current.tmp-cafe", "revisions/5");
	ck_assert(!lp_publish_is_ready(f.site, 5));
	ck_assert_int_eq(lp_publish_switch(f.site, 5, &err), LP_ENOTFOUND);

	ck_assert_int_eq(lp_publish_cleanup_partial(&removed, f.site, &err), LP_OK);
	ck_assert_uint_eq(removed, 2);
	ck_assert(!lp_fs_exists(path));
	LP_TEST_FMT(path, "%s/.current.tmp-cafe", f.site);
	ck_assert(!lp_fs_exists(path));
	ck_assert_int_eq(lp_publish_cleanup_partial(&removed, f.site, &err), LP_OK);
	ck_assert_uint_eq(removed, 0);

	publish_numbered(&f, 5);
	ck_assert(lp_publish_is_ready(f.site, 5));
	ck_assert_int_eq(lp_publish_switch(f.site, 5, &err), LP_OK);
	LP_TEST_FMT(path, "%s/current", f.site);
	ck_assert_str_eq(slurp(path, "index.html"), "5");

	/* A site directory that does not exist yet is nothing to clean. */
	LP_TEST_FMT(path, "%s/sites/none", f.root);
	ck_assert_int_eq(lp_publish_cleanup_partial(&removed, path, &err), LP_OK);
	fixture_free(&f);
}
END_TEST

static Suite *publish_suite(void)
{
	Suite *s = suite_create("publish");
	TCase *tc = tcase_create("publish");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_copy_tree_and_link_policy);
	tcase_add_test(tc, test_symlinked_output_refused);
	tcase_add_test(tc, test_output_dir_errors);
	tcase_add_test(tc, test_caps_and_exists);
	tcase_add_test(tc, test_atomic_switch_under_readers);
	tcase_add_test(tc, test_switch_is_relative_and_idempotent);
	tcase_add_test(tc, test_prune);
	tcase_add_test(tc, test_crash_leftovers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lp_test_run(publish_suite());
}
