/*
 * seeds.c: `fuzz-seeds NAME DIR` writes the generated seeds of harness NAME into DIR: archives
 * made with the archive tests' own builders (tests/lib/archive_corpus.h), and the requests and
 * frames the unit and integration tests send, in each harness's input format (docs/fuzzing.md).
 * A harness whose seeds are all files (scripts/fuzz.sh copies those) gets nothing here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/lib/fuzzlib.h"
#include "launchpad/buf.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "tests/lib/archive_corpus.h"

#define SEED_PATH_MAX 4096
#define SEED_MAX      ((size_t)1 << 20)
#define BOUNDARY      "fzb0undary"

static const char *dir;

static void out_path(char *out, size_t n, const char *name)
{
	if (lp_fmt(out, n, "%s/%s", dir, name) != LP_OK)
		fz_fail("seed path %s/%s too long", dir, name);
}

static void put(const char *name, const void *data, size_t len)
{
	char path[SEED_PATH_MAX];

	out_path(path, sizeof(path), name);
	if (lp_fs_write_atomic(path, data, len, 0644, NULL) != LP_OK)
		fz_fail("cannot write %s", path);
}

/* ---- archives: a selection of check_archive.c's corpus, each under 64 KiB ---- */

static int a_site_zip(const char *p)
{
	lp_corpus_entry e[] = {{.name = "index.html", .data = "<h1>hello</h1>\n"},
	                       {.name = "css/", .type = 'd'},
	                       {.name = "css/site.css", .data = "h1{}\n"}};
	return lp_corpus_write(p, LP_CORPUS_ZIP, e, 3);
}

static int a_site_targz(const char *p)
{
	lp_corpus_entry e[] = {{.name = "my-site/", .type = 'd'},
	                       {.name = "my-site/index.html", .data = "<h1>hi</h1>\n"},
	                       {.name = "my-site/__MACOSX/._index.html", .data = "x"},
	                       {.name = "my-site/.DS_Store", .data = "x"},
	                       {.name = "my-site/a/b/c.txt", .data = "deep"}};
	return lp_corpus_write(p, LP_CORPUS_TARGZ, e, 5);
}

static int a_site_tar(const char *p)
{
	lp_corpus_entry e[] = {{.name = "index.html", .data = "hi"},
	                       {.name = "z.bin", .size = 300}};
	return lp_corpus_write(p, LP_CORPUS_TAR, e, 2);
}

static int a_slip(const char *p)
{
	lp_corpus_raw e[] = {{.name = "index.html", .data = "hi", .len = 2, .declared = -1},
	                     {.name = "../evil", .data = "pwned", .len = 5, .declared = -1}};
	return lp_corpus_raw_zip(p, e, 2);
}

static int a_slip_deep(const char *p)
{
	lp_corpus_entry e[] = {{.name = "a/b/index.html", .data = "hi"},
	                       {.name = "a/../../outside/target.txt", .data = "pwned"}};
	return lp_corpus_write(p, LP_CORPUS_TARGZ, e, 2);
}

static int a_symlink(const char *p)
{
	lp_corpus_entry e[] = {{.name = "a", .type = 'l', .target = "/tmp"},
	                       {.name = "a/b", .data = "pwned"}};
	return lp_corpus_write(p, LP_CORPUS_ZIP, e, 2);
}

static int a_links_tar(const char *p)
{
	lp_corpus_entry e[] = {{.name = "index.html", .data = "hi"},
	                       {.name = "hl", .type = 'h', .target = "index.html"},
	                       {.name = "null", .type = 'c'},
	                       {.name = "pipe", .type = 'p'}};
	return lp_corpus_write(p, LP_CORPUS_TAR, e, 4);
}

static int a_lying_stored(const char *p)
{
	static const char data[] = "this entry is much longer than its header says";
	lp_corpus_raw e[] = {
	    {.name = "small.txt", .data = data, .len = sizeof(data) - 1, .declared = 4}};
	return lp_corpus_raw_zip(p, e, 1);
}

static int a_lying_deflate(const char *p)
{
	return lp_corpus_zip_lying_size(p, 64 << 10, 1000);
}

static int a_bomb(const char *p)
{
	return lp_corpus_zip_bomb(p, 256 << 10, 8);
}

static int a_names(const char *p)
{
	lp_corpus_raw e[] = {
	    {.name = "caf\xe9.html", .data = "x", .len = 1, .declared = -1, .utf8_flag = 1},
	    {.name = "..\\..\\evil.txt", .data = "x", .len = 1, .declared = -1},
	    {.name = "a/./b", .data = "x", .len = 1, .declared = -1},
	    {.name = "a//b", .data = "x", .len = 1, .declared = -1},
	    {.name = "a\nb.txt", .data = "x", .len = 1, .declared = -1},
	    {.name = "/abs", .data = "x", .len = 1, .declared = -1}};
	return lp_corpus_raw_zip(p, e, 6);
}

static int a_duplicates(const char *p)
{
	lp_corpus_raw e[] = {{.name = "a.txt", .data = "one", .len = 3, .declared = -1},
	                     {.name = "a.txt", .data = "two", .len = 3, .declared = -1},
	                     {.name = "d/x.txt", .data = "x", .len = 1, .declared = -1},
	                     {.name = "d", .data = "file", .len = 4, .declared = -1}};
	return lp_corpus_raw_zip(p, e, 4);
}

static int a_many(const char *p)
{
	return lp_corpus_many(p, LP_CORPUS_TARGZ, 200);
}

static int a_empty_zip(const char *p)
{
	return lp_corpus_raw_zip(p, NULL, 0);
}

static int a_truncated(const char *p)
{
	return a_site_zip(p) || lp_corpus_truncate(p, 60);
}

static int a_corrupt(const char *p)
{
	return a_site_targz(p) || lp_corpus_corrupt_middle(p, 16, 7);
}

static const struct {
	const char *name;
	int (*build)(const char *path);
} archives[] = {
    {"site.zip", a_site_zip},
    {"site.tar.gz", a_site_targz},
    {"site.tar", a_site_tar},
    {"slip.zip", a_slip},
    {"slip-deep.tar.gz", a_slip_deep},
    {"symlink.zip", a_symlink},
    {"links.tar", a_links_tar},
    {"lying-stored.zip", a_lying_stored},
    {"lying-deflate.zip", a_lying_deflate},
    {"bomb.zip", a_bomb},
    {"names.zip", a_names},
    {"duplicates.zip", a_duplicates},
    {"many.tar.gz", a_many},
    {"empty.zip", a_empty_zip},
    {"truncated.zip", a_truncated},
    {"corrupt.tar.gz", a_corrupt},
};
#define NARCHIVES (sizeof(archives) / sizeof(archives[0]))

static void archive_seeds(void)
{
	char path[SEED_PATH_MAX];
	size_t i;

	for (i = 0; i < NARCHIVES; i++) {
		out_path(path, sizeof(path), archives[i].name);
		if (archives[i].build(path) != 0)
			fz_fail("cannot build the seed %s", archives[i].name);
	}
}

/* ---- multipart: the seed API's create and archive forms (check_apiserver_seed.c) ---- */

static void form_field(lp_buf *b, const char *name, const char *value)
{
	if (lp_buf_printf(b,
	                  "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n"
	                  "%s\r\n",
	                  name, value) != LP_OK)
		fz_fail("seed too large");
}

static void form_file(lp_buf *b, const char *filename, const char *data, size_t len)
{
	if (lp_buf_printf(b,
	                  "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"file\"; "
	                  "filename=\"%s\"\r\nContent-Type: application/octet-stream\r\n\r\n",
	                  filename) != LP_OK ||
	    lp_buf_append(b, data, len) != LP_OK || lp_buf_puts(b, "\r\n") != LP_OK)
		fz_fail("seed too large");
}

static void multipart_seeds(void)
{
	static const char *const fields[] = {
	    "name",       "My Zip Site", "source_type", "zip", "build_cmd", "",
	    "output_dir", ".",           "env_vars",    "{}",  NULL};
	char path[SEED_PATH_MAX], name[64];
	size_t i, k, len;
	char *data;
	lp_buf b;

	for (i = 0; i < NARCHIVES; i++) {
		out_path(path, sizeof(path), "archive.tmp");
		if (archives[i].build(path) != 0 ||
		    lp_fs_read_file(&data, &len, path, SEED_MAX, NULL) != LP_OK)
			fz_fail("cannot build the seed %s", archives[i].name);
		remove(path);
		/* byte 0: which route (even: create, odd: a new upload for the archive site) */
		lp_buf_init(&b, SEED_MAX * 2);
		if (lp_buf_append(&b, i % 2 ? "\1" : "\0", 1) != LP_OK ||
		    lp_buf_puts(&b, "multipart/form-data; boundary=" BOUNDARY "\n") != LP_OK)
			fz_fail("seed too large");
		for (k = 0; i % 2 == 0 && fields[k]; k += 2)
			form_field(&b, fields[k], fields[k + 1]);
		form_file(&b, archives[i].name, data, len);
		if (lp_buf_puts(&b, "--" BOUNDARY "--\r\n") != LP_OK)
			fz_fail("seed too large");
		if (lp_fmt(name, sizeof(name), "form-%s", archives[i].name) != LP_OK)
			fz_fail("seed name too long");
		put(name, b.data, b.len);
		lp_buf_release(&b);
		free(data);
	}
	/* the JSON create of the seed API, and a form without a file */
	lp_buf_init(&b, SEED_MAX);
	if (lp_buf_append(&b, "\0", 1) != LP_OK ||
	    lp_buf_puts(&b, "application/json\n{\"name\":\"my-react-app\",\"source_type\":"
	                    "\"github\",\"github_url\":\"https://github.com/user/repo\","
	                    "\"branch\":\"main\",\"build_cmd\":\"npm ci && npm run build\","
	                    "\"output_dir\":\"dist\",\"env_vars\":{\"NODE_ENV\":\"production\"},"
	                    "\"auto_deploy\":true}") != LP_OK)
		fz_fail("seed too large");
	put("json-create", b.data, b.len);
	lp_buf_reset(&b);
	if (lp_buf_append(&b, "\0", 1) != LP_OK ||
	    lp_buf_puts(&b, "multipart/form-data; boundary=" BOUNDARY "\n") != LP_OK)
		fz_fail("seed too large");
	form_field(&b, "name", "x");
	form_field(&b, "env_vars", "{not json");
	if (lp_buf_puts(&b, "--" BOUNDARY "--\r\n") != LP_OK)
		fz_fail("seed too large");
	put("form-no-file", b.data, b.len);
	lp_buf_release(&b);
}

/* ---- webhooks: check_apiserver_webhooks.c's deliveries ---- */

static void webhook_seeds(void)
{
	static const struct {
		const char *name;
		const char *text;
	} seeds[] = {
	    {"push-main", "\0push\napplication/json\nd-1\n{\"ref\":\"refs/heads/main\",\"before\":"
	                  "\"0000\",\"after\":\"4b825dc642cb6eb9a060e54bf8d69288fbee4904\","
	                  "\"deleted\":false}"},
	    {"push-dev", "\0push\napplication/json\nd-2\n{\"ref\":\"refs/heads/dev\",\"after\":"
	                 "\"4b825dc642cb6eb9a060e54bf8d69288fbee4904\"}"},
	    {"push-deleted",
	     "\0push\napplication/json\nd-3\n{\"ref\":\"refs/heads/main\",\"after\":"
	     "\"0000000000000000000000000000000000000000\",\"deleted\":true}"},
	    {"push-form", "\0push\napplication/x-www-form-urlencoded\nd-4\npayload=%7B%22ref%22%3A"
	                  "%22refs%2Fheads%2Fmain%22%2C%22after%22%3A%229f3c5e1d2b4a69788fbee4904"
	                  "4b825dc642cb6eb%22%7D"},
	    {"ping", "\0ping\napplication/json\nd-5\n{\"zen\":\"Keep it logically awesome.\"}"},
	    {"push-archive-site", "\1push\napplication/json\nd-6\n{\"ref\":\"refs/heads/main\","
	                          "\"after\":\"4b825dc642cb6eb9a060e54bf8d69288fbee4904\"}"},
	    {"bad-signature", "\2push\napplication/json\nd-7\n{\"ref\":\"refs/heads/main\"}"},
	    {"no-after", "\0push\napplication/json\nd-8\n{\"ref\":\"refs/heads/main\"}"},
	    {"issues", "\0issues\napplication/json\nd-9\n{\"action\":\"opened\"}"},
	    {"not-json", "\0push\napplication/json\nd-10\n{\"ref\": refs/heads/main"},
	    {"text-plain", "\0push\ntext/plain\nd-11\nhello"},
	};
	size_t i;

	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
		put(seeds[i].name, seeds[i].text, 1 + strlen(seeds[i].text + 1));
}

/* ---- docker: check_docker_frames.c's stream and JSON lines ---- */

static void frame(lp_buf *b, int type, const char *payload, size_t len)
{
	unsigned char h[8] = {(unsigned char)type,
	                      0,
	                      0,
	                      0,
	                      (unsigned char)(len >> 24),
	                      (unsigned char)(len >> 16),
	                      (unsigned char)(len >> 8),
	                      (unsigned char)len};

	if (lp_buf_append(b, h, sizeof(h)) != LP_OK || lp_buf_append(b, payload, len) != LP_OK)
		fz_fail("seed too large");
}

static void docker_seeds(void)
{
	static const char bin[] = {'a', '\0', 'b', '\n'};
	static const char lines[] = "\x05\x00{\"a\":1}\r\n{\"b\":2}\n\n{\"c\":3}";
	char big[300];
	size_t i;
	lp_buf b;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('A' + i % 26);
	lp_buf_init(&b, SEED_MAX);
	/* byte 0: the chunking seed; byte 1: stop after that many calls (0: never) */
	if (lp_buf_append(&b, "\x07\x00", 2) != LP_OK)
		fz_fail("seed too large");
	frame(&b, 1, "hello ", 6);
	frame(&b, 2, "oops\n", 5);
	frame(&b, 1, "", 0);
	frame(&b, 1, big, sizeof(big));
	frame(&b, 2, bin, sizeof(bin));
	frame(&b, 0, "stdin\n", 6);
	frame(&b, 3, "system error\n", 13);
	frame(&b, 1, "world\n", 6);
	put("frames", b.data, b.len);
	b.data[1] = 3; /* stop at the third call */
	put("frames-stop", b.data, b.len);
	put("frames-cut", b.data, b.len - 3);
	lp_buf_release(&b);
	put("json-lines", lines, sizeof(lines) - 1);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: fuzz-seeds NAME DIR\n");
		return 2;
	}
	dir = argv[2];
	if (!strcmp(argv[1], "archive"))
		archive_seeds();
	else if (!strcmp(argv[1], "multipart"))
		multipart_seeds();
	else if (!strcmp(argv[1], "webhook"))
		webhook_seeds();
	else if (!strcmp(argv[1], "docker"))
		docker_seeds();
	return 0;
}
