/*
 * logmask.h: the secrets a build log must not show, and their masking ("***"), as GitHub Actions
 * does: every line of every secret value of the spec is a word to mask, wherever it appears.
 *
 * The mask owns copies of the words (wiped when released). Masking is pure: one call per piece
 * of text; lp_logmask_cut tells a splitter where a forced cut may fall so that no word straddles
 * it (a word that starts before the cut ends within the text).
 */
#ifndef LAUNCHPAD_PIPELINE_LOGMASK_H
#define LAUNCHPAD_PIPELINE_LOGMASK_H

#include <stddef.h>

#include "launchpad/error.h"
#include "launchpad/spec.h"

#define LP_LOGMASK_WORDS_MAX 256 /* words masked at most (lines of secret values) */

typedef struct lp_logmask {
	char *words[LP_LOGMASK_WORDS_MAX];
	size_t lens[LP_LOGMASK_WORDS_MAX];
	size_t n;
	size_t longest;
} lp_logmask;

/* The words of spec's secrets (their clear values must be in hand). */
int lp_logmask_init(lp_logmask *m, const lp_site *spec, lp_error *err) LP_MUST_CHECK;
void lp_logmask_release(lp_logmask *m);
/* One more word (a Git credential's token); "" is ignored. */
int lp_logmask_add(lp_logmask *m, const char *word, lp_error *err) LP_MUST_CHECK;

/*
 * Copy text[0..len) into out with every word replaced by "***", NUL-terminated. out must hold
 * 3 * len + 1 bytes (a 1-byte word becomes 3). Returns the bytes written.
 */
size_t lp_logmask_apply(const lp_logmask *m, char *out, const char *text, size_t len);

/*
 * A full buffer of len bytes must be cut: the bytes that may go now. Every word starting before
 * the cut ends before len, so masking the part before the cut (with the words that end within
 * it) misses nothing; the rest waits for more text.
 */
size_t lp_logmask_cut(const lp_logmask *m, const char *text, size_t len);

#endif
