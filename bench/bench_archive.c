/* bench_archive.c: time lp_archive_extract on a 5 MB, 500-file zip (10 runs, median and min). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline/archive.h"
#include "launchpad/fs.h"
#include "tests/lib/archive_corpus.h"
#include "tests/lib/testutil.h"

#define BENCH_FILES      500
#define BENCH_FILE_BYTES 10000 /* 500 x 10,000 = 5 MB of content */
#define BENCH_RUNS       10

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Web-like text: compresses, but not to nothing. */
static void fill(char *s, size_t n, unsigned seed)
{
	static const char *words[] = {"<div class=\"card\">",
	                              "launch",
	                              " pad ",
	                              "</div>\n",
	                              "revision ",
	                              "nginx",
	                              " 42",
	                              "{color:#333}",
	                              "deploy ",
	                              "function(){}",
	                              "\n",
	                              "lorem ipsum "};
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
}

int main(void)
{
	char *dir = lp_test_mkdtemp("lp-bench-archive");
	char zip[4200], dest[4200];
	char(*names)[64] = calloc(BENCH_FILES, sizeof(*names));
	char *bodies = malloc((size_t)BENCH_FILES * (BENCH_FILE_BYTES + 1));
	lp_corpus_entry *entries = calloc(BENCH_FILES, sizeof(*entries));
	double t[BENCH_RUNS];
	lp_archive_stats st = {0};
	lp_error err = {0};
	int i, rc = 1;

	if (dir == NULL || names == NULL || bodies == NULL || entries == NULL)
		goto done;
	for (i = 0; i < BENCH_FILES; i++) {
		char *body = bodies + (size_t)i * (BENCH_FILE_BYTES + 1);

		/* 25 directories of 20 files, like a built site's assets. */
		snprintf(names[i], sizeof(names[i]), "site/dir%02d/page%03d.html", i / 20, i);
		fill(body, BENCH_FILE_BYTES, (unsigned)i + 1);
		entries[i].name = names[i];
		entries[i].data = body;
	}
	snprintf(zip, sizeof(zip), "%s/site.zip", dir);
	if (lp_corpus_write(zip, LP_CORPUS_ZIP, entries, BENCH_FILES) != 0) {
		fprintf(stderr, "bench_archive: cannot build %s\n", zip);
		goto done;
	}
	for (i = 0; i < BENCH_RUNS; i++) {
		double t0;

		snprintf(dest, sizeof(dest), "%s/ws%d", dir, i);
		t0 = now();
		if (lp_archive_extract(&st, zip, dest, NULL, NULL, NULL, &err) != LP_OK) {
			fprintf(stderr, "bench_archive: %s\n", err.message);
			goto done;
		}
		t[i] = now() - t0;
		if (lp_fs_remove_tree(dest, NULL) != LP_OK)
			fprintf(stderr, "cannot remove %s between runs\n", dest);
	}
	qsort(t, BENCH_RUNS, sizeof(t[0]), cmp_double);
	printf("archive extract: %zu files, %.1f MB, %d runs\n", st.files, (double)st.bytes / 1e6,
	       BENCH_RUNS);
	printf("  median %.1f ms, min %.1f ms\n", t[BENCH_RUNS / 2] * 1e3, t[0] * 1e3);
	printf("  %.0f files/s, %.0f MB/s (median)\n", (double)st.files / t[BENCH_RUNS / 2],
	       (double)st.bytes / 1e6 / t[BENCH_RUNS / 2]);
	rc = 0;
done:
	if (dir && lp_fs_remove_tree(dir, NULL) != LP_OK)
		fprintf(stderr, "cleanup: cannot remove %s\n", dir);
	free(dir);
	free(names);
	free(bodies);
	free(entries);
	return rc;
}
