/* fuzzlib.c: the harnesses' shared helpers (fuzzlib.h). */
#include "fuzz/lib/fuzzlib.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launchpad/fmt.h"
#include "launchpad/fs.h"

#define SCRATCH_PATH_MAX 4096

static char scratch[SCRATCH_PATH_MAX];

void fz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz: invariant broken: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static void scratch_remove(void)
{
	if (scratch[0] && lp_fs_remove_tree(scratch, NULL) != LP_OK)
		fprintf(stderr, "fuzz: cannot remove %s\n", scratch);
}

const char *fz_scratch(void)
{
	struct stat st;
	const char *base = getenv("FUZZ_SCRATCH");

	if (scratch[0])
		return scratch;
	/* Extraction and uploads write files for every input: memory is faster than a disk. */
	if (base != NULL && *base != '\0')
		; /* scripts/fuzz.sh's, removed after the run even when it crashed */
	else if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0)
		base = "/dev/shm";
	else if ((base = getenv("TMPDIR")) == NULL || *base == '\0')
		base = "/tmp";
	if (lp_fmt(scratch, sizeof(scratch), "%s/lp-fuzz-XXXXXX", base) != LP_OK ||
	    mkdtemp(scratch) == NULL)
		fz_fail("cannot make a scratch directory under %s", base);
	atexit(scratch_remove);
	return scratch;
}

size_t fz_split(fz_field *out, size_t n, const uint8_t *data, size_t len, char sep)
{
	size_t i, start = 0, k = 0, seps = 0;

	for (i = 0; i < n; i++)
		out[i] = (fz_field){"", 0};
	if (n == 0)
		return 0;
	for (i = 0; i < len && k + 1 < n; i++) {
		if (data[i] != (uint8_t)sep)
			continue;
		out[k++] = (fz_field){(const char *)data + start, i - start};
		start = i + 1;
		seps++;
	}
	out[k] = (fz_field){(const char *)data + start, len - start};
	return seps;
}

char *fz_strdup(const fz_field *f)
{
	char *s = malloc(f->len + 1);

	if (s == NULL)
		fz_fail("out of memory");
	memcpy(s, f->data, f->len);
	s[f->len] = '\0';
	return s;
}
