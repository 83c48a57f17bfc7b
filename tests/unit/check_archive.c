/* check_archive.c: safe extraction against a corpus of hostile and broken archives built here. */
#include <check.h>
#include <dirent.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/archive.h"
#include "launchpad/buf.h"
#include "launchpad/fs.h"
#include "tests/lib/archive_corpus.h"
#include "tests/lib/testutil.h"

/*
 * Sandbox layout: <sb>/ws is the workspace, <sb>/outside a sibling holding a planted target file,
 * <sb>/in the generated archives. Nothing outside ws may change, whatever the archive says.
 */
static char *sb;
static char ws[4096], outside[4096], target[4096];

static void sandbox_up(void)
{
	char path[4096];

	sb = lp_test_mkdtemp("lp-archive");
	ck_assert_ptr_nonnull(sb);
	LP_TEST_FMT(ws, "%s/ws", sb);
	LP_TEST_FMT(outside, "%s/outside", sb);
	LP_TEST_FMT(target, "%s/target.txt", outside);
	LP_TEST_FMT(path, "%s/in", sb);
	ck_assert_int_eq(mkdir(ws, 0755), 0);
	ck_assert_int_eq(mkdir(outside, 0755), 0);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	ck_assert_int_eq(lp_fs_write_atomic(target, "original\n", 9, 0644, NULL), LP_OK);
}

static void sandbox_down(void)
{
	if (lp_fs_remove_tree(sb, NULL) != LP_OK)
		fprintf(stderr, "cleanup: cannot remove %s\n", sb);
	free(sb);
	sb = NULL;
}

static void in_path(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/in/%s", sb, name);
}

/* ---- snapshot: every path under the sandbox but the archives, with type, size and mtime ---- */

static lp_buf *snap_out;
static size_t snap_skip;

static int snap_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)flag;
	(void)ftw;
	if (strncmp(path + snap_skip, "/in", 3) == 0 &&
	    (path[snap_skip + 3] == '\0' || path[snap_skip + 3] == '/'))
		return 0;
	/* The workspace's own mtime may change (entries come and go); what is in it is checked. */
	/* A listing that does not fit stops the walk (nftw's result is asserted). */
	if (strcmp(path + snap_skip, "/ws") == 0)
		return lp_buf_printf(snap_out, "/ws|%o\n", (unsigned)st->st_mode) == LP_OK ? 0 : -1;
	return lp_buf_printf(snap_out, "%s|%o|%lld|%lld.%09ld\n", path + snap_skip,
	                     (unsigned)st->st_mode, (long long)st->st_size,
	                     (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec) == LP_OK
	           ? 0
	           : -1;
}

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A sorted listing (readdir order is not a contract). Caller frees. */
static char *snapshot(void)
{
	lp_buf b, sorted;
	char **lines = NULL, *save = NULL, *line;
	size_t n = 0, i;

	lp_buf_init(&b, 16 << 20);
	snap_out = &b;
	snap_skip = strlen(sb);
	ck_assert_int_eq(nftw(sb, snap_one, 16, FTW_PHYS), 0);
	lp_buf_init(&sorted, 16 << 20);
	for (line = strtok_r(b.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lines = realloc(lines, (n + 1) * sizeof(*lines));
		lines[n++] = line;
	}
	qsort(lines, n, sizeof(*lines), cmp_lines);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(lp_buf_printf(&sorted, "%s\n", lines[i]), LP_OK);
	free(lines);
	lp_buf_release(&b);
	return lp_buf_detach(&sorted);
}

static int dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int empty = 1;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	return empty;
}

static void collect_note(void *ctx, const char *msg)
{
	lp_buf *b = ctx;

	ck_assert_int_eq(lp_buf_printf(b, "%s\n", msg), LP_OK);
}

static char *read_text(const char *path)
{
	char *data = NULL;
	size_t len = 0;

	if (lp_fs_read_file(&data, &len, path, 64 << 20, NULL) != LP_OK)
		return NULL;
	return data;
}

/* ---- the corpus: each case builds its archive at run time ---- */

typedef int (*build_fn)(const char *path);

static int b_slip(const char *p)
{
	lp_corpus_raw e[] = {{.name = "index.html", .data = "hi", .len = 2, .declared = -1},
	                     {.name = "../evil", .data = "pwned", .len = 5, .declared = -1}};
	return lp_corpus_raw_zip(p, e, 2);
}

static int b_slip_deep(const char *p)
{
	lp_corpus_entry e[] = {{.name = "a/b/index.html", .data = "hi"},
	                       {.name = "a/../../outside/target.txt", .data = "pwned"}};
	return lp_corpus_write(p, LP_CORPUS_TARGZ, e, 2);
}

static int b_absolute(const char *p)
{
	char name[4200];
	lp_corpus_raw e[] = {{.name = name, .data = "pwned", .len = 5, .declared = -1}};

	LP_TEST_FMT(name, "%s", target);
	return lp_corpus_raw_zip(p, e, 1);
}

static int b_symlink_etc(const char *p)
{
	lp_corpus_entry e[] = {{.name = "index.html", .data = "hi"},
	                       {.name = "link", .type = 'l', .target = "/etc"}};
	return lp_corpus_write(p, LP_CORPUS_ZIP, e, 2);
}

static int b_symlink_write_through(const char *p)
{
	lp_corpus_entry e[] = {{.name = "a", .type = 'l', .target = outside},
	                       {.name = "a/target.txt", .data = "pwned"},
	                       {.name = "a/new.txt", .data = "pwned"}};
	return lp_corpus_write(p, LP_CORPUS_TARGZ, e, 3);
}

static int b_symlink_tmp_x(const char *p)
{
	lp_corpus_entry e[] = {{.name = "a", .type = 'l', .target = "/tmp/x"},
	                       {.name = "a/b", .data = "pwned"}};
	return lp_corpus_write(p, LP_CORPUS_ZIP, e, 2);
}

static int b_hardlink(const char *p)
{
	lp_corpus_entry e[] = {{.name = "index.html", .data = "hi"},
	                       {.name = "hl", .type = 'h', .target = target}};
	return lp_corpus_write(p, LP_CORPUS_TAR, e, 2);
}

static int b_device(const char *p)
{
	lp_corpus_entry e[] = {{.name = "index.html", .data = "hi"}, {.name = "null", .type = 'c'}};
	return lp_corpus_write(p, LP_CORPUS_TAR, e, 2);
}

static int b_fifo(const char *p)
{
	lp_corpus_entry e[] = {{.name = "index.html", .data = "hi"}, {.name = "pipe", .type = 'p'}};
	return lp_corpus_write(p, LP_CORPUS_TARGZ, e, 2);
}

static int b_bomb(const char *p)
{
	return lp_corpus_zip_bomb(p, 1 << 20, 16);
}

static int b_lying_deflate(const char *p)
{
	return lp_corpus_zip_lying_size(p, 1 << 20, 1000);
}

static int b_lying_stored(const char *p)
{
	static const char data[] = "this entry is much longer than its header says";
	lp_corpus_raw e[] = {
	    {.name = "small.txt", .data = data, .len = sizeof(data) - 1, .declared = 4}};
	return lp_corpus_raw_zip(p, e, 1);
}

static int b_1001(const char *p)
{
	return lp_corpus_many(p, LP_CORPUS_ZIP, 1001);
}

static int b_100k(const char *p)
{
	return lp_corpus_many(p, LP_CORPUS_ZIP, 100000);
}

static int b_deep(const char *p)
{
	char name[256] = "";
	lp_corpus_entry e[] = {{.name = name, .data = "deep"}};
	size_t n = 0;
	int i;

	for (i = 0; i < 40; i++)
		n += (size_t)snprintf(name + n, sizeof(name) - n, "d/");
	snprintf(name + n, sizeof(name) - n, "f.txt");
	return lp_corpus_write(p, LP_CORPUS_ZIP, e, 1);
}

static int b_long_name(const char *p)
{
	char *name = malloc(5001);
	int rc;

	memset(name, 'n', 5000);
	name[5000] = '\0';
	{
		lp_corpus_entry e[] = {{.name = name, .data = "long"}};

		rc = lp_corpus_write(p, LP_CORPUS_ZIP, e, 1);
	}
	free(name);
	return rc;
}

static int b_long_component(const char *p)
{
	char name[400];
	lp_corpus_entry e[] = {{.name = name, .data = "long"}};

	memset(name, 'c', 300);
	snprintf(name + 300, sizeof(name) - 300, "/x");
	return lp_corpus_write(p, LP_CORPUS_TARGZ, e, 1);
}

static int b_latin1_zip(const char *p)
{
	lp_corpus_raw e[] = {{.name = "index.html", .data = "hi", .len = 2, .declared = -1},
	                     {.name = "caf\xe9.html", .data = "x", .len = 1, .declared = -1}};
	return lp_corpus_raw_zip(p, e, 2);
}

static int b_latin1_zip_flagged(const char *p)
{
	lp_corpus_raw e[] = {
	    {.name = "caf\xe9.html", .data = "x", .len = 1, .declared = -1, .utf8_flag = 1}};
	return lp_corpus_raw_zip(p, e, 1);
}

static int b_latin1_tar(const char *p)
{
	lp_corpus_entry e[] = {{.name = "caf\xe9.html", .data = "x"}};

	return lp_corpus_write(p, LP_CORPUS_TAR, e, 1);
}

/* libarchive's zip reader turns Windows "\\" separators into "/", so this one meets "..". */
static int b_backslash_zip(const char *p)
{
	lp_corpus_raw e[] = {{.name = "..\\..\\evil.txt", .data = "x", .len = 1, .declared = -1}};

	return lp_corpus_raw_zip(p, e, 1);
}

static int b_backslash_tar(const char *p)
{
	lp_corpus_entry e[] = {{.name = "..\\evil.txt", .data = "x"}};

	return lp_corpus_write(p, LP_CORPUS_TAR, e, 1);
}

static int b_dot_component(const char *p)
{
	lp_corpus_raw e[] = {{.name = "a/./b.txt", .data = "x", .len = 1, .declared = -1}};

	return lp_corpus_raw_zip(p, e, 1);
}

static int b_empty_component(const char *p)
{
	lp_corpus_raw e[] = {{.name = "a//b.txt", .data = "x", .len = 1, .declared = -1}};

	return lp_corpus_raw_zip(p, e, 1);
}

static int b_control_char(const char *p)
{
	lp_corpus_raw e[] = {{.name = "a\nb.txt", .data = "x", .len = 1, .declared = -1}};

	return lp_corpus_raw_zip(p, e, 1);
}

/* Text that deflates but not to nothing: corruption then lands in real compressed data. */
static char *noisy_text(size_t n, unsigned seed)
{
	static const char *words[] = {"launch", "pad ", "nginx",    "<div>", "\n",   "site ",
	                              "deploy", "42 ",  "revision", "</p>",  "zip ", "css "};
	char *s = malloc(n + 1);
	size_t i = 0;

	while (i < n) {
		const char *w;
		size_t k;

		seed = seed * 1103515245u + 12345u;
		w = words[(seed >> 16) % 12];
		for (k = 0; w[k] && i < n; k++)
			s[i++] = w[k];
	}
	s[n] = '\0';
	return s;
}

static int noisy_zip(const char *p)
{
	char *a = noisy_text(150000, 1), *b = noisy_text(150000, 2), *c = noisy_text(150000, 3);
	lp_corpus_entry e[] = {{.name = "a.html", .data = a},
	                       {.name = "b.html", .data = b},
	                       {.name = "c.html", .data = c}};
	int rc = lp_corpus_write(p, LP_CORPUS_ZIP, e, 3);

	free(a);
	free(b);
	free(c);
	return rc;
}

static int b_truncated(const char *p)
{
	struct stat st;

	if (noisy_zip(p) != 0 || stat(p, &st) != 0)
		return -1;
	return lp_corpus_truncate(p, (size_t)st.st_size * 6 / 10);
}

static int b_corrupt(const char *p)
{
	if (noisy_zip(p) != 0)
		return -1;
	return lp_corpus_corrupt_middle(p, 256, 7);
}

static int b_empty_zip(const char *p)
{
	return lp_corpus_raw_zip(p, NULL, 0);
}

static int b_only_dirs(const char *p)
{
	lp_corpus_entry e[] = {{.name = "a/", .type = 'd'}, {.name = "a/b/", .type = 'd'}};

	return lp_corpus_write(p, LP_CORPUS_ZIP, e, 2);
}

static int b_not_archive(const char *p)
{
	return lp_fs_write_atomic(p, "<html>not an archive</html>\n", 28, 0644, NULL);
}

static int b_duplicate(const char *p)
{
	lp_corpus_raw e[] = {{.name = "a.txt", .data = "one", .len = 3, .declared = -1},
	                     {.name = "a.txt", .data = "two", .len = 3, .declared = -1}};
	return lp_corpus_raw_zip(p, e, 2);
}

static int b_duplicate_dir(const char *p)
{
	lp_corpus_entry e[] = {{.name = "x.txt", .data = "x"},
	                       {.name = "d/", .type = 'd'},
	                       {.name = "d/", .type = 'd'}};
	return lp_corpus_write(p, LP_CORPUS_TARGZ, e, 3);
}

static int b_file_over_dir(const char *p)
{
	lp_corpus_entry e[] = {{.name = "d/x.txt", .data = "x"}, {.name = "d", .data = "file"}};

	return lp_corpus_write(p, LP_CORPUS_TARGZ, e, 2);
}

static int b_zeros_10m(const char *p)
{
	lp_corpus_entry e[] = {{.name = "zeros.bin", .size = 10 << 20}};

	return lp_corpus_write(p, LP_CORPUS_ZIP, e, 1);
}

enum limit_tweak { L_DEFAULT, L_1000_ENTRIES, L_BYTES_4M, L_BYTES_1M, L_ARCHIVE_100 };

struct corpus_case {
	const char *name;
	build_fn build;
	enum limit_tweak lim;
	int code;
	const char *message; /* substring the error must contain */
	int in_data;         /* the fault is in the data: only extraction can see it */
};

static const struct corpus_case corpus[] = {
    {"zip slip ../", b_slip, L_DEFAULT, LP_EUNSAFE,
     "entry \"../evil\": path escapes the workspace (\"..\")", 0},
    {"tar.gz slip a/../../", b_slip_deep, L_DEFAULT, LP_EUNSAFE,
     "path escapes the workspace (\"..\")", 0},
    {"absolute path", b_absolute, L_DEFAULT, LP_EUNSAFE, "absolute paths are not allowed", 0},
    {"symlink to /etc (zip)", b_symlink_etc, L_DEFAULT, LP_EUNSAFE,
     "entry \"link\": symbolic links are not allowed", 0},
    {"symlink then write through", b_symlink_write_through, L_DEFAULT, LP_EUNSAFE,
     "entry \"a\": symbolic links are not allowed", 0},
    {"symlink a -> /tmp/x, then a/b (zip)", b_symlink_tmp_x, L_DEFAULT, LP_EUNSAFE,
     "entry \"a\": symbolic links are not allowed", 0},
    {"hardlink (tar)", b_hardlink, L_DEFAULT, LP_EUNSAFE,
     "entry \"hl\": hard links are not allowed", 0},
    {"device node (tar)", b_device, L_DEFAULT, LP_EUNSAFE,
     "entry \"null\": device nodes are not allowed", 0},
    {"fifo (tar.gz)", b_fifo, L_DEFAULT, LP_EUNSAFE, "entry \"pipe\": FIFOs are not allowed", 0},
    {"overlapping zip bomb", b_bomb, L_BYTES_4M, LP_ETOOBIG,
     "the headers announce more than the limit of 4194304 bytes unpacked", 0},
    {"deflated size lies", b_lying_deflate, L_DEFAULT, LP_EUNSAFE,
     "entry \"liar.bin\": holds more data than its header declares (1000 bytes)", 1},
    {"stored size lies", b_lying_stored, L_DEFAULT, LP_EUNSAFE,
     "holds more data than its header declares (4 bytes)", 1},
    {"1001 entries, cap 1000", b_1001, L_1000_ENTRIES, LP_ETOOBIG,
     "archive has more than 1000 entries", 0},
    {"100k entries, default cap", b_100k, L_DEFAULT, LP_ETOOBIG,
     "archive has more than 50000 entries", 0},
    {"depth 41", b_deep, L_DEFAULT, LP_ETOOBIG, "path is deeper than 32 levels", 0},
    {"5,000-byte name", b_long_name, L_DEFAULT, LP_ETOOBIG, "path is longer than 1024 bytes (5000)",
     0},
    {"300-byte component", b_long_component, L_DEFAULT, LP_ETOOBIG,
     "path component is longer than 255 bytes", 0},
    {"latin-1 name (zip)", b_latin1_zip, L_DEFAULT, LP_EUNSAFE,
     "entry \"caf\\xe9.html\": name is not valid UTF-8", 0},
    {"latin-1 name, UTF-8 flag set", b_latin1_zip_flagged, L_DEFAULT, LP_EUNSAFE,
     "name is not valid UTF-8", 0},
    {"latin-1 name (tar)", b_latin1_tar, L_DEFAULT, LP_EUNSAFE, "name is not valid UTF-8", 0},
    {"backslash (zip, converted)", b_backslash_zip, L_DEFAULT, LP_EUNSAFE,
     "entry \"../../evil.txt\": path escapes the workspace", 0},
    {"backslash (tar)", b_backslash_tar, L_DEFAULT, LP_EUNSAFE,
     "entry \"..\\evil.txt\": backslash in name", 0},
    {"dot component", b_dot_component, L_DEFAULT, LP_EUNSAFE, "\".\" path component", 0},
    {"empty component", b_empty_component, L_DEFAULT, LP_EUNSAFE, "empty path component", 0},
    {"control character", b_control_char, L_DEFAULT, LP_EUNSAFE,
     "entry \"a\\x0ab.txt\": control character in name", 0},
    {"truncated zip", b_truncated, L_DEFAULT, LP_EINVAL, "corrupt or truncated", 0},
    {"corrupt zip", b_corrupt, L_DEFAULT, LP_EINVAL, "corrupt or truncated", 1},
    {"empty zip", b_empty_zip, L_DEFAULT, LP_EINVAL, "archive contains no files", 0},
    {"directories only", b_only_dirs, L_DEFAULT, LP_EINVAL, "archive contains no files", 0},
    {"not an archive", b_not_archive, L_DEFAULT, LP_EINVAL, "not a zip or tar(.gz) archive", 0},
    {"duplicate file", b_duplicate, L_DEFAULT, LP_EUNSAFE, "entry \"a.txt\": duplicate entry", 0},
    {"duplicate directory", b_duplicate_dir, L_DEFAULT, LP_EUNSAFE, "entry \"d/\": duplicate entry",
     0},
    {"file over directory", b_file_over_dir, L_DEFAULT, LP_EUNSAFE,
     "entry \"d\": path conflicts with another entry (\"d/x.txt\"", 0},
    {"10 MiB of zeros, cap 1 MiB", b_zeros_10m, L_BYTES_1M, LP_ETOOBIG,
     "entry \"zeros.bin\": the headers announce more than the limit of 1048576 bytes", 0},
    {"archive above upload cap", b_slip, L_ARCHIVE_100, LP_ETOOBIG, "above the upload limit", 0},
};

#define NCORPUS ((int)(sizeof(corpus) / sizeof(corpus[0])))

static void limits_for(lp_archive_limits *l, enum limit_tweak t)
{
	lp_archive_limits_default(l);
	if (t == L_1000_ENTRIES)
		l->max_entries = 1000;
	else if (t == L_BYTES_4M)
		l->max_total_bytes = 4 << 20;
	else if (t == L_BYTES_1M)
		l->max_total_bytes = 1 << 20;
	else if (t == L_ARCHIVE_100)
		l->max_archive_bytes = 100;
}

/* Build case i, extract it into ws, check the code, the rule's message and a clean workspace. */
static void run_case(int i)
{
	const struct corpus_case *c = &corpus[i];
	char path[4200];
	lp_archive_limits lim;
	lp_archive_stats st;
	lp_error err = {0};
	int rc;

	LP_TEST_FMT(path, "%s/in/case-%02d", sb, i);
	ck_assert_msg(c->build(path) == 0, "building corpus case \"%s\" failed", c->name);
	limits_for(&lim, c->lim);
	rc = lp_archive_extract(&st, path, ws, &lim, NULL, NULL, &err);
	ck_assert_msg(rc == c->code, "case \"%s\": rc %d (want %d): %s", c->name, rc, c->code,
	              err.message);
	ck_assert_msg(strstr(err.message, c->message) != NULL,
	              "case \"%s\": message \"%s\" lacks \"%s\"", c->name, err.message, c->message);
	ck_assert_int_eq(err.code, c->code);
	ck_assert_msg(dir_is_empty(ws), "case \"%s\": workspace not left empty", c->name);
	ck_assert_uint_eq(st.files, 0);

	/* The upload-time check refuses the same way, or (content faults) leaves it to extraction.
	 */
	err = (lp_error){0};
	rc = lp_archive_check(&st, path, &lim, &err);
	if (rc == LP_OK)
		ck_assert_msg(c->in_data, "case \"%s\": lp_archive_check passed it", c->name);
	else
		ck_assert_msg(rc == c->code && strstr(err.message, c->message) != NULL,
		              "case \"%s\": check rc %d: %s", c->name, rc, err.message);
	ck_assert_msg(dir_is_empty(ws), "case \"%s\": check wrote something", c->name);
}

START_TEST(test_corpus_case)
{
	char *before, *after;

	before = snapshot();
	run_case(_i);
	after = snapshot();
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
}
END_TEST

/* The whole corpus in one sandbox: not one path outside the workspace appears or changes. */
START_TEST(test_corpus_nothing_escapes)
{
	char *before, *after, *planted;
	int i;

	before = snapshot();
	ck_assert_ptr_nonnull(strstr(before, "/outside/target.txt|"));
	for (i = 0; i < NCORPUS; i++)
		run_case(i);
	after = snapshot();
	ck_assert_str_eq(before, after);
	planted = read_text(target);
	ck_assert_str_eq(planted, "original\n");
	ck_assert(!lp_fs_exists("/tmp/x/b"));
	free(planted);
	free(before);
	free(after);
}
END_TEST

/* ---- sanitised and happy paths ---- */

START_TEST(test_lone_top_folder_stripped_and_mac_metadata_dropped)
{
	char path[4200], file[4400];
	lp_corpus_entry e[] = {{.name = "my-site/", .type = 'd'},
	                       {.name = "my-site/index.html", .data = "<h1>hi</h1>"},
	                       {.name = "my-site/css/site.css", .data = "body{}"},
	                       {.name = "my-site/.DS_Store", .data = "junk"},
	                       {.name = "__MACOSX/", .type = 'd'},
	                       {.name = "__MACOSX/my-site/._index.html", .data = "junk"}};
	lp_archive_stats st;
	lp_error err = {0};
	lp_buf notes;
	char *got;

	lp_buf_init(&notes, 1 << 16);
	in_path(path, sizeof(path), "site.zip");
	ck_assert_int_eq(lp_corpus_write(path, LP_CORPUS_ZIP, e, 6), 0);
	ck_assert_int_eq(lp_archive_extract(&st, path, ws, NULL, collect_note, &notes, &err),
	                 LP_OK);
	ck_assert_str_eq(st.stripped, "my-site/");
	ck_assert_uint_eq(st.files, 2);
	ck_assert_uint_eq(st.dropped, 3);
	ck_assert_uint_eq(st.entries, 6);
	LP_TEST_FMT(file, "%s/index.html", ws);
	got = read_text(file);
	ck_assert_str_eq(got, "<h1>hi</h1>");
	free(got);
	LP_TEST_FMT(file, "%s/css/site.css", ws);
	ck_assert(lp_fs_exists(file));
	LP_TEST_FMT(file, "%s/my-site", ws);
	ck_assert(!lp_fs_exists(file));
	LP_TEST_FMT(file, "%s/.DS_Store", ws);
	ck_assert(!lp_fs_exists(file));
	LP_TEST_FMT(file, "%s/__MACOSX", ws);
	ck_assert(!lp_fs_exists(file));
	ck_assert_ptr_nonnull(
	    strstr(lp_buf_cstr(&notes), "stripped the lone top-level folder \"my-site/\""));
	ck_assert_ptr_nonnull(
	    strstr(lp_buf_cstr(&notes), "dropped \"my-site/.DS_Store\" (macOS metadata)"));
	ck_assert_ptr_nonnull(
	    strstr(lp_buf_cstr(&notes), "dropped \"__MACOSX/my-site/._index.html\""));
	lp_buf_release(&notes);
}
END_TEST

START_TEST(test_two_top_entries_not_stripped)
{
	char path[4200], file[4400];
	lp_corpus_entry e[] = {{.name = "my-site/index.html", .data = "a"},
	                       {.name = "README.txt", .data = "b"}};
	lp_archive_stats st;
	lp_error err = {0};

	in_path(path, sizeof(path), "two.zip");
	ck_assert_int_eq(lp_corpus_write(path, LP_CORPUS_ZIP, e, 2), 0);
	ck_assert_int_eq(lp_archive_extract(&st, path, ws, NULL, NULL, NULL, &err), LP_OK);
	ck_assert_str_eq(st.stripped, "");
	LP_TEST_FMT(file, "%s/my-site/index.html", ws);
	ck_assert(lp_fs_exists(file));
	LP_TEST_FMT(file, "%s/README.txt", ws);
	ck_assert(lp_fs_exists(file));
}
END_TEST

START_TEST(test_targz_happy_path)
{
	char path[4200], file[4400];
	lp_corpus_entry e[] = {{.name = "./", .type = 'd'},
	                       {.name = "./index.html", .data = "<p>home</p>"},
	                       {.name = "./assets/", .type = 'd'},
	                       {.name = "./assets/app.js", .data = "console.log(1)"},
	                       {.name = "./caf\xc3\xa9/men\xc3\xbc.html", .data = "utf8"},
	                       {.name = "./empty.txt", .data = ""}};
	lp_archive_stats st;
	lp_error err = {0};
	struct stat s;
	char *got;

	in_path(path, sizeof(path), "site.tar.gz");
	ck_assert_int_eq(lp_corpus_write(path, LP_CORPUS_TARGZ, e, 6), 0);
	ck_assert_int_eq(lp_archive_extract(&st, path, ws, NULL, NULL, NULL, &err), LP_OK);
	ck_assert_uint_eq(st.files, 4);
	ck_assert_uint_eq(st.dirs, 2);
	ck_assert_uint_eq(st.bytes, 11 + 14 + 4);
	ck_assert_str_eq(st.stripped, "");
	LP_TEST_FMT(file, "%s/assets/app.js", ws);
	got = read_text(file);
	ck_assert_str_eq(got, "console.log(1)");
	free(got);
	ck_assert_int_eq(lstat(file, &s), 0);
	ck_assert_uint_eq(s.st_mode, S_IFREG | 0644);
	LP_TEST_FMT(file, "%s/assets", ws);
	ck_assert_int_eq(lstat(file, &s), 0);
	ck_assert_uint_eq(s.st_mode, S_IFDIR | 0755);
	LP_TEST_FMT(file, "%s/caf\xc3\xa9/men\xc3\xbc.html", ws);
	ck_assert(lp_fs_exists(file));
}
END_TEST

START_TEST(test_zip_in_zip_written_as_file)
{
	char inner[4200], outer[4200], file[4400];
	lp_corpus_entry ie[] = {{.name = "../evil", .data = "would be rejected if recursed"}};
	char *inner_bytes = NULL, *copy = NULL;
	size_t inner_len = 0, copy_len = 0;
	lp_archive_stats st;
	lp_error err = {0};

	in_path(inner, sizeof(inner), "inner.zip");
	in_path(outer, sizeof(outer), "outer.zip");
	ck_assert_int_eq(lp_corpus_write(inner, LP_CORPUS_ZIP, ie, 1), 0);
	ck_assert_int_eq(lp_fs_read_file(&inner_bytes, &inner_len, inner, 1 << 20, NULL), LP_OK);
	{
		lp_corpus_raw oe[] = {
		    {.name = "index.html", .data = "x", .len = 1, .declared = -1},
		    {.name = "inner.zip", .data = inner_bytes, .len = inner_len, .declared = -1}};

		ck_assert_int_eq(lp_corpus_raw_zip(outer, oe, 2), 0);
	}
	ck_assert_int_eq(lp_archive_extract(&st, outer, ws, NULL, NULL, NULL, &err), LP_OK);
	ck_assert_uint_eq(st.files, 2);
	LP_TEST_FMT(file, "%s/inner.zip", ws);
	ck_assert_int_eq(lp_fs_read_file(&copy, &copy_len, file, 1 << 20, NULL), LP_OK);
	ck_assert_uint_eq(copy_len, inner_len);
	ck_assert_int_eq(memcmp(copy, inner_bytes, inner_len), 0);
	LP_TEST_FMT(file, "%s/evil", sb);
	ck_assert(!lp_fs_exists(file));
	free(inner_bytes);
	free(copy);
}
END_TEST

/* The caps are limits, not off-by-one traps: exactly at the cap passes. */
START_TEST(test_caps_are_inclusive)
{
	char path[4200], name[256] = "";
	lp_archive_limits lim;
	lp_archive_stats st;
	lp_error err = {0};
	size_t n;
	int i;

	in_path(path, sizeof(path), "1000.zip");
	ck_assert_int_eq(lp_corpus_many(path, LP_CORPUS_ZIP, 1000), 0);
	lp_archive_limits_default(&lim);
	lim.max_entries = 1000;
	ck_assert_int_eq(lp_archive_extract(&st, path, ws, &lim, NULL, NULL, &err), LP_OK);
	ck_assert_uint_eq(st.files, 1000);
	ck_assert_int_eq(lp_fs_remove_tree(ws, NULL), LP_OK);

	for (i = 0, n = 0; i < 31; i++)
		n += (size_t)snprintf(name + n, sizeof(name) - n, "d/");
	snprintf(name + n, sizeof(name) - n, "f.txt"); /* 32 components */
	{
		lp_corpus_entry e[] = {{.name = name, .data = "deep"}};

		in_path(path, sizeof(path), "deep32.zip");
		ck_assert_int_eq(lp_corpus_write(path, LP_CORPUS_ZIP, e, 1), 0);
	}
	ck_assert_int_eq(lp_archive_extract(&st, path, ws, NULL, NULL, NULL, &err), LP_OK);
	/* Every entry is under "d/", so that lone folder is stripped: 30 levels are created. */
	ck_assert_str_eq(st.stripped, "d/");
	ck_assert_uint_eq(st.dirs, 30);
}
END_TEST

START_TEST(test_bomb_under_generous_cap_is_what_it_claims)
{
	/* With room for it, the bomb inflates to copies × kernel: proof the corpus is a real bomb.
	 */
	char path[4200];
	lp_archive_limits lim;
	lp_archive_stats st;
	lp_error err = {0};

	in_path(path, sizeof(path), "bomb.zip");
	ck_assert_int_eq(lp_corpus_zip_bomb(path, 1 << 20, 16), 0);
	lp_archive_limits_default(&lim);
	lim.max_total_bytes = 64 << 20;
	ck_assert_int_eq(lp_archive_extract(&st, path, ws, &lim, NULL, NULL, &err), LP_OK);
	ck_assert_uint_eq(st.files, 16);
	ck_assert_uint_ge(st.bytes, (uint64_t)16 << 20);
}
END_TEST

START_TEST(test_destination_rules)
{
	char path[4200], file[4400], missing[4400];
	lp_corpus_entry e[] = {{.name = "index.html", .data = "x"}};
	lp_archive_limits lim;
	lp_error err = {0};

	in_path(path, sizeof(path), "ok.zip");
	ck_assert_int_eq(lp_corpus_write(path, LP_CORPUS_ZIP, e, 1), 0);
	/* A non-empty destination is refused and left alone. */
	LP_TEST_FMT(file, "%s/keep.txt", ws);
	ck_assert_int_eq(lp_fs_write_atomic(file, "k", 1, 0644, NULL), LP_OK);
	ck_assert_int_eq(lp_archive_extract(NULL, path, ws, NULL, NULL, NULL, &err), LP_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "is not empty"));
	ck_assert(lp_fs_exists(file));
	/* An absent destination is created, and removed again when extraction fails. */
	LP_TEST_FMT(missing, "%s/fresh", sb);
	ck_assert_int_eq(lp_archive_extract(NULL, path, missing, NULL, NULL, NULL, &err), LP_OK);
	LP_TEST_FMT(file, "%s/index.html", missing);
	ck_assert(lp_fs_exists(file));
	ck_assert_int_eq(lp_fs_remove_tree(missing, NULL), LP_OK);
	in_path(path, sizeof(path), "zeros.zip");
	ck_assert_int_eq(b_zeros_10m(path), 0);
	lp_archive_limits_default(&lim);
	lim.max_total_bytes = 1 << 20;
	ck_assert_int_eq(lp_archive_extract(NULL, path, missing, &lim, NULL, NULL, &err),
	                 LP_ETOOBIG);
	ck_assert(!lp_fs_exists(missing));
	/* A symlinked destination is refused. */
	LP_TEST_FMT(file, "%s/ws-link", sb);
	ck_assert_int_eq(symlink(outside, file), 0);
	ck_assert_int_eq(lp_archive_extract(NULL, path, file, NULL, NULL, NULL, &err), LP_EINVAL);
	/* Bad limits and a missing archive. */
	lim.max_name_bytes = 300;
	ck_assert_int_eq(lp_archive_extract(NULL, path, missing, &lim, NULL, NULL, &err),
	                 LP_EINVAL);
	ck_assert_int_eq(
	    lp_archive_extract(NULL, "/nonexistent.zip", missing, NULL, NULL, NULL, &err),
	    LP_ENOTFOUND);
}
END_TEST

struct thread_job {
	char archive[4200];
	char dest[4200];
	int rc;
	size_t files;
};

static void *extract_thread(void *arg)
{
	struct thread_job *j = arg;
	lp_archive_stats st;
	int k;

	j->rc = LP_OK;
	for (k = 0; k < 10 && j->rc == LP_OK; k++) {
		j->rc = lp_fs_remove_tree(j->dest, NULL);
		if (j->rc != LP_OK)
			break;
		j->rc = lp_archive_extract(&st, j->archive, j->dest, NULL, NULL, NULL, NULL);
		j->files = st.files;
	}
	return NULL;
}

START_TEST(test_concurrent_extractions)
{
	lp_corpus_entry e[] = {{.name = "site/", .type = 'd'},
	                       {.name = "site/index.html", .data = "x"},
	                       {.name = "site/\xc3\xa9t\xc3\xa9.html", .data = "utf8"},
	                       {.name = "site/a/b/c.css", .data = "c"}};
	struct thread_job jobs[4];
	pthread_t th[4];
	int i;

	for (i = 0; i < 4; i++) {
		LP_TEST_FMT(jobs[i].archive, "%s/in/t%d.zip", sb, i);
		LP_TEST_FMT(jobs[i].dest, "%s/out%d", sb, i);
		ck_assert_int_eq(lp_corpus_write(jobs[i].archive, LP_CORPUS_ZIP, e, 4), 0);
	}
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, extract_thread, &jobs[i]), 0);
	for (i = 0; i < 4; i++) {
		char file[4400];

		pthread_join(th[i], NULL);
		ck_assert_int_eq(jobs[i].rc, LP_OK);
		ck_assert_uint_eq(jobs[i].files, 3);
		LP_TEST_FMT(file, "%s/\xc3\xa9t\xc3\xa9.html", jobs[i].dest);
		ck_assert(lp_fs_exists(file));
	}
}
END_TEST

static Suite *archive_suite(void)
{
	Suite *s = suite_create("archive");
	TCase *tc = tcase_create("corpus");
	TCase *ok = tcase_create("sanitised");

	tcase_add_checked_fixture(tc, sandbox_up, sandbox_down);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_corpus_case, 0, NCORPUS);
	tcase_add_test(tc, test_corpus_nothing_escapes);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(ok, sandbox_up, sandbox_down);
	tcase_set_timeout(ok, 60);
	tcase_add_test(ok, test_lone_top_folder_stripped_and_mac_metadata_dropped);
	tcase_add_test(ok, test_two_top_entries_not_stripped);
	tcase_add_test(ok, test_targz_happy_path);
	tcase_add_test(ok, test_zip_in_zip_written_as_file);
	tcase_add_test(ok, test_caps_are_inclusive);
	tcase_add_test(ok, test_bomb_under_generous_cap_is_what_it_claims);
	tcase_add_test(ok, test_destination_rules);
	tcase_add_test(ok, test_concurrent_extractions);
	suite_add_tcase(s, ok);
	return s;
}

int main(void)
{
	return lp_test_run(archive_suite());
}
