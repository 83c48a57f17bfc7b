/*
 * fuzzlib.h: what the libFuzzer harnesses (fuzz/fuzz_*.c) share: a failed invariant, a scratch
 * directory, and a split of one input into fields.
 *
 * A harness reports a broken invariant with fz_fail, which prints the reason and aborts: libFuzzer
 * saves the input as a crash artifact. The scratch directory is made once per process (under
 * $FUZZ_SCRATCH when set, else /dev/shm when it exists, else $TMPDIR or /tmp) and removed at a
 * normal exit (a crash skips atexit: its caller removes $FUZZ_SCRATCH); its path is owned here.
 * Fields returned by fz_split point into the caller's input (borrowed, not NUL-terminated).
 */
#ifndef LAUNCHPAD_FUZZLIB_H
#define LAUNCHPAD_FUZZLIB_H

#include <stddef.h>
#include <stdint.h>

/* Print "fuzz: invariant broken: <message>" and abort. */
void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* The process's scratch directory (created on first call; fails the run when it cannot be). */
const char *fz_scratch(void);

/* One field of an input. */
typedef struct fz_field {
	const char *data;
	size_t len;
} fz_field;

/*
 * Cut data at each sep byte into at most n fields (the last one keeps the rest, separators
 * included); fields past the input are empty. Returns how many separators were found.
 */
size_t fz_split(fz_field *out, size_t n, const uint8_t *data, size_t len, char sep);

/* A NUL-terminated copy of a field (malloc'd, the caller frees); aborts when memory runs out. */
char *fz_strdup(const fz_field *f);

#endif
