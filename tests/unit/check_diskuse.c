/* check_diskuse.c: du-like measurement, least-recently-used trim, and removal of deep trees. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launchpad/fs.h"
#include "pipeline/diskuse.h"
#include "tests/lib/testutil.h"

#define MIB ((uint64_t)1 << 20)

static char *root;
static char tree[4096], outside[4096];

static void setup(void)
{
	root = lp_test_mkdtemp("lp-diskuse");
	ck_assert_ptr_nonnull(root);
	LP_TEST_FMT(tree, "%s/tree", root);
	LP_TEST_FMT(outside, "%s/outside", root);
	ck_assert_int_eq(mkdir(tree, 0755), 0);
	ck_assert_int_eq(mkdir(outside, 0755), 0);
}

static void teardown(void)
{
	lp_error err = {0};

	ck_assert_msg(lp_fs_remove_tree(root, &err) == LP_OK, "%s", err.message);
	free(root);
}

/* A file of n bytes really written (not sparse), with the given access/modification time. */
static void write_file(const char *dir, const char *name, size_t n, time_t when)
{
	char path[4096];
	struct timespec ts[2] = {{when, 0}, {when, 0}};
	char *buf = malloc(n ? n : 1);
	int fd;

	LP_TEST_FMT(path, "%s/%s", dir, name);
	memset(buf, 'x', n);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, buf, n), (ssize_t)n);
	ck_assert_int_eq(fsync(fd), 0);
	close(fd);
	free(buf);
	if (when)
		ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static uint64_t measure(const char *dir)
{
	lp_diskuse u;
	lp_error err = {0};

	ck_assert_msg(lp_diskuse_measure(&u, dir, 0, &err) == LP_OK, "%s", err.message);
	ck_assert_int_eq(u.partial, 0);
	return u.bytes;
}

/* Blocks, not apparent sizes; each inode once; links never followed. */
START_TEST(t_counts_like_du)
{
	char path[4096], lnk[4096];
	uint64_t empty, with_file, bytes;

	empty = measure(tree);
	write_file(tree, "a", 4 * MIB, 0);
	with_file = measure(tree);
	ck_assert_msg(with_file >= empty + 4 * MIB && with_file < empty + 4 * MIB + 64 * 1024,
	              "%llu", (unsigned long long)with_file);
	/* a 1 GiB sparse file takes (almost) nothing */
	lp_test_sh("truncate -s 1G '%s/sparse'", tree);
	ck_assert_uint_lt(measure(tree), with_file + 64 * 1024);
	/* a second link to "a" adds nothing */
	LP_TEST_FMT(path, "%s/a", tree);
	LP_TEST_FMT(lnk, "%s/a-again", tree);
	ck_assert_int_eq(link(path, lnk), 0);
	ck_assert_uint_lt(measure(tree), with_file + 64 * 1024);
	/* a symlink to a big file outside is not followed */
	write_file(outside, "big", 8 * MIB, 0);
	LP_TEST_FMT(path, "%s/big", outside);
	LP_TEST_FMT(lnk, "%s/to-big", tree);
	ck_assert_int_eq(symlink(path, lnk), 0);
	LP_TEST_FMT(lnk, "%s/to-outside", tree);
	ck_assert_int_eq(symlink(outside, lnk), 0);
	bytes = measure(tree);
	ck_assert_msg(bytes < with_file + 64 * 1024, "%llu", (unsigned long long)bytes);
	/* what du says, to a few blocks */
	{
		FILE *p;
		char cmd[4200], line[64] = "";
		unsigned long long du;

		LP_TEST_FMT(cmd, "du -s -B1 '%s' | cut -f1", tree);
		p = popen(cmd, "r");
		ck_assert_ptr_nonnull(p);
		ck_assert_ptr_nonnull(fgets(line, sizeof(line), p));
		pclose(p);
		du = strtoull(line, NULL, 10);
		ck_assert_msg(bytes == du, "measured %llu, du %llu", (unsigned long long)bytes, du);
	}
	/* a missing root is empty */
	LP_TEST_FMT(path, "%s/absent", root);
	ck_assert_uint_eq(measure(path), 0);
}
END_TEST

/* A cap check stops counting once it is over: bounded work, a lower bound. */
START_TEST(t_stop_above)
{
	lp_diskuse u;
	lp_error err = {0};
	char name[32];
	int i;

	for (i = 0; i < 8; i++) {
		LP_TEST_FMT(name, "f%d", i);
		write_file(tree, name, MIB, 0);
	}
	ck_assert_int_eq(lp_diskuse_measure(&u, tree, 3 * MIB, &err), LP_OK);
	ck_assert_int_eq(u.partial, 1);
	ck_assert_uint_gt(u.bytes, 3 * MIB);
	ck_assert_uint_lt(u.entries, 8);
	ck_assert_int_eq(lp_diskuse_measure(&u, tree, 64 * MIB, &err), LP_OK);
	ck_assert_int_eq(u.partial, 0);
	ck_assert_uint_eq(u.entries, 8);
}
END_TEST

/* Make a chain of depth directories named like name under dir; the file "f" at the bottom. */
static void make_deep(const char *dir, int depth, const char *name, size_t fbytes)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY), i;

	ck_assert_int_ge(fd, 0);
	for (i = 0; i < depth; i++) {
		int nfd;

		ck_assert_int_eq(mkdirat(fd, name, 0755), 0);
		nfd = openat(fd, name, O_RDONLY | O_DIRECTORY);
		ck_assert_int_ge(nfd, 0);
		close(fd);
		fd = nfd;
	}
	{
		char *buf = calloc(1, fbytes ? fbytes : 1);
		int f = openat(fd, "f", O_WRONLY | O_CREAT, 0644);

		ck_assert_int_ge(f, 0);
		ck_assert_int_eq(write(f, buf, fbytes), (ssize_t)fbytes);
		close(f);
		free(buf);
	}
	close(fd);
}

/* Paths far past PATH_MAX are measured; deeper than the cap is refused, never looped over. */
START_TEST(t_deep_trees)
{
	char long_name[201];
	lp_diskuse u;
	lp_error err = {0};

	memset(long_name, 'd', 200);
	long_name[200] = '\0';
	make_deep(tree, 60, long_name, 2 * MIB); /* a 12 KB path */
	ck_assert_uint_gt(measure(tree), 2 * MIB);
	ck_assert_int_eq(lp_fs_remove_tree(tree, &err), LP_OK);
	ck_assert(!lp_fs_exists(tree));
	ck_assert_int_eq(mkdir(tree, 0755), 0);
	make_deep(tree, LP_DISKUSE_DEPTH_MAX + 5, "d", 10);
	ck_assert_int_eq(lp_diskuse_measure(&u, tree, 0, &err), LP_ETOOBIG);
	ck_assert_msg(strstr(err.message, "deeper than 128 levels") != NULL, "%s", err.message);
}
END_TEST

/* A tree deeper than PATH_MAX (a build can make one) is still removed: no leaked workspace. */
START_TEST(t_remove_deep_tree)
{
	char long_name[250], path[4096];
	lp_error err = {0};
	int i;

	memset(long_name, 'x', 249);
	long_name[249] = '\0';
	for (i = 0; i < 3; i++) {
		char sub[64];

		LP_TEST_FMT(sub, "%s/branch%d", tree, i);
		ck_assert_int_eq(mkdir(sub, 0755), 0);
		make_deep(sub, 40, long_name, 100);
	}
	write_file(tree, "top", 100, 0);
	LP_TEST_FMT(path, "%s/link", tree);
	ck_assert_int_eq(symlink(outside, path), 0);
	write_file(outside, "keep", 10, 0);
	ck_assert_msg(lp_fs_remove_tree(tree, &err) == LP_OK, "%s", err.message);
	ck_assert(!lp_fs_exists(tree));
	LP_TEST_FMT(path, "%s/keep", outside);
	ck_assert(lp_fs_exists(path)); /* the link went, not what it pointed at */
	ck_assert_int_eq(mkdir(tree, 0755), 0);
}
END_TEST

/* Oldest first, down to the target; newer files stay. */
START_TEST(t_trim_oldest_first)
{
	time_t now = time(NULL);
	lp_diskuse_trim t;
	lp_error err = {0};
	char path[4096], sub[4096];

	LP_TEST_FMT(sub, "%s/npm/_cacache", tree);
	lp_test_sh("mkdir -p '%s'", sub);
	write_file(sub, "oldest", 2 * MIB, now - 5000);
	write_file(sub, "older", 2 * MIB, now - 4000);
	write_file(tree, "old", 2 * MIB, now - 3000);
	write_file(sub, "new", 2 * MIB, now - 10);
	write_file(tree, "newest", 2 * MIB, now);
	/* 10 MiB and some directory blocks; keep at most 5 MiB: three files must go */
	ck_assert_msg(lp_diskuse_trim_to(&t, tree, 5 * MIB, &err) == LP_OK, "%s", err.message);
	ck_assert_uint_gt(t.before, 10 * MIB);
	ck_assert_uint_le(t.after, 5 * MIB);
	ck_assert_uint_eq(t.removed_files, 3);
	ck_assert_int_eq(t.removed_everything, 0);
	LP_TEST_FMT(path, "%s/oldest", sub);
	ck_assert(!lp_fs_exists(path));
	LP_TEST_FMT(path, "%s/old", tree);
	ck_assert(!lp_fs_exists(path));
	LP_TEST_FMT(path, "%s/new", sub);
	ck_assert(lp_fs_exists(path));
	LP_TEST_FMT(path, "%s/newest", tree);
	ck_assert(lp_fs_exists(path));
	ck_assert_uint_le(measure(tree), 5 * MIB);
	/* under the target already: nothing goes */
	ck_assert_int_eq(lp_diskuse_trim_to(&t, tree, 64 * MIB, &err), LP_OK);
	ck_assert_uint_eq(t.removed_files, 0);
	ck_assert(lp_fs_exists(path));
}
END_TEST

/* A link planted in a cache is removed as a link; the trim never reaches through it. */
START_TEST(t_trim_never_follows_links)
{
	char path[4096], target[4096];
	lp_diskuse_trim t;
	lp_error err = {0};

	write_file(outside, "precious", MIB, 1000);
	LP_TEST_FMT(target, "%s/precious", outside);
	LP_TEST_FMT(path, "%s/evil", tree);
	ck_assert_int_eq(symlink(outside, path), 0);
	write_file(tree, "junk", 3 * MIB, 2000);
	ck_assert_int_eq(lp_diskuse_trim_to(&t, tree, MIB, &err), LP_OK);
	ck_assert(lp_fs_exists(target));
	ck_assert_uint_le(measure(tree), MIB);
}
END_TEST

/* What cannot be trimmed file by file (too deep to measure) is emptied whole. */
START_TEST(t_trim_too_deep_removes_all)
{
	lp_diskuse_trim t;
	lp_error err = {0};

	make_deep(tree, LP_DISKUSE_DEPTH_MAX + 2, "d", MIB);
	ck_assert_msg(lp_diskuse_trim_to(&t, tree, 64 * MIB, &err) == LP_OK, "%s", err.message);
	ck_assert_int_eq(t.removed_everything, 1);
	ck_assert(!lp_fs_exists(tree));
	ck_assert_int_eq(mkdir(tree, 0755), 0);
}
END_TEST

static Suite *diskuse_suite(void)
{
	Suite *s = suite_create("diskuse");
	TCase *tc = tcase_create("diskuse");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, t_counts_like_du);
	tcase_add_test(tc, t_stop_above);
	tcase_add_test(tc, t_deep_trees);
	tcase_add_test(tc, t_remove_deep_tree);
	tcase_add_test(tc, t_trim_oldest_first);
	tcase_add_test(tc, t_trim_never_follows_links);
	tcase_add_test(tc, t_trim_too_deep_removes_all);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lp_test_run(diskuse_suite());
}
