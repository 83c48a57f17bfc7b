/*
 * fuzz_archive.c: archive checking and extraction (pipeline/archive.c), as an upload meets them:
 * lp_archive_check when it arrives (apiserver/upload.c), lp_archive_extract into the revision's
 * workspace when it is built.
 *
 * The input is the archive file. It is checked, then extracted into <scratch>/ws (absent, as
 * the build leaves it) beside a planted file in <scratch>/outside. Invariants, beyond no crash,
 * leak or undefined behaviour:
 *   - check refuses only what extraction refuses: a check failure means extraction fails too
 *     (extraction also counts the bytes the data really holds, so the converse need not hold);
 *   - a failed extraction leaves no workspace (or an empty one);
 *   - a successful one holds only regular files and directories, within the caps, and its
 *     stats count what is on disk; nothing outside the workspace appears or changes.
 * The caps are small (8 MiB, 2,000 entries) so an input is fast; the rules are the same.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz/lib/fuzzlib.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "pipeline/archive.h"

#define FZ_PATH_MAX 4096

static char in_path[FZ_PATH_MAX], ws[FZ_PATH_MAX], outside[FZ_PATH_MAX], planted[FZ_PATH_MAX];

struct tally {
	size_t files, dirs;
	uint64_t bytes;
};

static void walk(struct tally *t, const char *dir, int depth)
{
	char path[FZ_PATH_MAX];
	struct dirent *e;
	struct stat st;
	DIR *d = opendir(dir);

	if (d == NULL)
		fz_fail("cannot open %s", dir);
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (lp_fmt(path, sizeof(path), "%s/%s", dir, e->d_name) != LP_OK)
			fz_fail("an extracted path longer than %d bytes", FZ_PATH_MAX);
		if (lstat(path, &st) != 0)
			fz_fail("cannot stat %s", path);
		if (S_ISDIR(st.st_mode)) {
			t->dirs++;
			walk(t, path, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			if (st.st_nlink != 1)
				fz_fail("%s has %lu links", path, (unsigned long)st.st_nlink);
			if (st.st_mode & (S_ISUID | S_ISGID | S_IWOTH))
				fz_fail("%s has mode %o", path, (unsigned)st.st_mode);
			t->files++;
			t->bytes += (uint64_t)st.st_size;
		} else {
			fz_fail("%s is neither a file nor a directory (mode %o)", path,
			        (unsigned)st.st_mode);
		}
	}
	closedir(d);
}

/* The scratch directory holds in.bin, outside/planted.txt and (after extraction) ws only. */
static void check_outside(void)
{
	char buf[16];
	int fd = open(planted, O_RDONLY | O_NOFOLLOW);
	ssize_t n;
	DIR *d;
	struct dirent *e;

	if (fd < 0)
		fz_fail("the planted file outside the workspace is gone");
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n != 9 || memcmp(buf, "original\n", 9) != 0)
		fz_fail("the planted file outside the workspace changed");
	if ((d = opendir(outside)) == NULL)
		fz_fail("cannot open %s", outside);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    strcmp(e->d_name, "planted.txt"))
			fz_fail("\"%s\" appeared outside the workspace", e->d_name);
	closedir(d);
	if ((d = opendir(fz_scratch())) == NULL)
		fz_fail("cannot open the scratch directory");
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    strcmp(e->d_name, "in.bin") && strcmp(e->d_name, "outside") &&
		    strcmp(e->d_name, "ws"))
			fz_fail("\"%s\" appeared beside the workspace", e->d_name);
	closedir(d);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *s = fz_scratch();

	(void)argc;
	(void)argv;
	if (lp_fmt(in_path, sizeof(in_path), "%s/in.bin", s) != LP_OK ||
	    lp_fmt(ws, sizeof(ws), "%s/ws", s) != LP_OK ||
	    lp_fmt(outside, sizeof(outside), "%s/outside", s) != LP_OK ||
	    lp_fmt(planted, sizeof(planted), "%s/planted.txt", outside) != LP_OK)
		fz_fail("scratch paths too long");
	if (mkdir(outside, 0755) != 0 ||
	    lp_fs_write_atomic(planted, "original\n", 9, 0644, NULL) != LP_OK)
		fz_fail("cannot plant %s", planted);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lp_archive_limits lim;
	lp_archive_stats cst, xst;
	lp_error cerr = {0}, xerr = {0};
	struct tally t = {0};
	int crc, xrc;

	if (lp_fs_write_atomic(in_path, data, size, 0644, NULL) != LP_OK)
		fz_fail("cannot write the input");
	lp_archive_limits_default(&lim);
	lim.max_total_bytes = 8 << 20;
	lim.max_entries = 2000;
	crc = lp_archive_check(&cst, in_path, &lim, &cerr);
	if (lp_fs_exists(ws))
		fz_fail("lp_archive_check wrote the workspace");
	xrc = lp_archive_extract(&xst, in_path, ws, &lim, NULL, NULL, &xerr);
	if (crc != LP_OK && crc != LP_ENOMEM && xrc == LP_OK)
		fz_fail("check refused (%s) what extraction accepted", cerr.message);
	if (xrc != LP_OK) {
		if (lp_fs_exists(ws)) {
			walk(&t, ws, 0);
			if (t.files || t.dirs)
				fz_fail("a failed extraction (%s) left %zu files, %zu dirs",
				        xerr.message, t.files, t.dirs);
		}
		if (xerr.message[0] == '\0')
			fz_fail("extraction failed (%d) without a message", xrc);
	} else {
		walk(&t, ws, 0);
		if (t.files != xst.files || t.bytes != xst.bytes)
			fz_fail("stats say %zu files / %llu bytes, the disk %zu / %llu", xst.files,
			        (unsigned long long)xst.bytes, t.files,
			        (unsigned long long)t.bytes);
		if (t.files == 0)
			fz_fail("an extraction without a file succeeded");
		if (t.bytes > lim.max_total_bytes || xst.entries > lim.max_entries)
			fz_fail("caps passed: %llu bytes, %zu entries", (unsigned long long)t.bytes,
			        xst.entries);
	}
	check_outside();
	if (lp_fs_exists(ws) && lp_fs_remove_tree(ws, NULL) != LP_OK)
		fz_fail("cannot remove the workspace");
	return 0;
}
