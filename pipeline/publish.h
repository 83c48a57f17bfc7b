/*
 * publish.h: turning a build's output into an immutable revision and making it live.
 *
 * This module owns two things under a site directory `<data>/sites/<name>/`: the published
 * artifacts `revisions/<n>/` and the RELATIVE symlink `current -> revisions/<n>` that nginx serves.
 * A revision directory is built under a temporary name (`revisions/.tmp-<n>-<random>`), fsynced and
 * renamed into place, so a `revisions/<n>` that exists is always complete; `current` is switched
 * by renaming a freshly made symlink over it, so a reader sees the old or the new revision, never a
 * mix. The copy never follows a symlink out of the build's output directory (see docs/publish.md
 * for the link policy). Nothing here allocates memory the caller must free: all arguments are
 * borrowed and results come back in caller-provided structs.
 */
#ifndef LAUNCHPAD_PUBLISH_H
#define LAUNCHPAD_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "launchpad/error.h"
#include "pipeline/precompress.h"

#define LP_PUBLISH_DEFAULT_MAX_BYTES ((uint64_t)1 << 30) /* 1 GiB of file content */
#define LP_PUBLISH_DEFAULT_MAX_FILES 100000              /* files + directories */
#define LP_PUBLISH_MAX_DEPTH         64                  /* directory nesting */
#define LP_PUBLISH_MAX_LINK_HOPS     16                  /* links followed to resolve one link */

typedef struct lp_publish_limits {
	uint64_t max_bytes; /* total bytes of file content written; past it LP_ETOOBIG */
	size_t max_files;   /* files + directories created; past it LP_ETOOBIG */
} lp_publish_limits;

typedef struct lp_publish_result {
	uint64_t bytes; /* file content bytes written */
	size_t files;   /* regular files written (materialised links included) */
	size_t dirs;    /* directories created below the revision root */
	size_t dropped; /* entries left out (each one reported through the note callback) */
	lp_precompress_result gz; /* the .gz siblings written (not counted in files or bytes) */
} lp_publish_result;

/*
 * Receives one human line per dropped entry, e.g.
 * `dropped dist/leak -> /etc/passwd: link resolves outside the output directory`.
 * With no callback, the lines go to the log (component "publish") at warning level.
 */
typedef void (*lp_publish_note_fn)(void *ctx, const char *line);

void lp_publish_limits_default(lp_publish_limits *out);

/*
 * Copy `output_dir` (relative to `workspace`; NULL, "" or "." mean the workspace itself) into
 * `<site_dir>/revisions/<n>` (n >= 1). output_dir may not be absolute nor contain "..", and every
 * component must be a real directory (a symlinked `dist` is refused with LP_EUNSAFE). A missing
 * output directory is LP_ENOTFOUND; one without any regular file is LP_EINVAL; a cap is
 * LP_ETOOBIG; an already published revision n is LP_EEXISTS. On any failure nothing is left under
 * revisions/. limits NULL means the defaults; out and note may be NULL.
 */
int lp_publish_copy(lp_publish_result *out, const char *site_dir, long n, const char *workspace,
                    const char *output_dir, const lp_publish_limits *limits,
                    lp_publish_note_fn note, void *note_ctx, lp_error *err);

/* 1 when revisions/<n> exists as a real directory (temporary copies never count), else 0. */
int lp_publish_is_ready(const char *site_dir, long n);

/*
 * Remove what a crash can leave behind: `revisions/.tmp-*` copies and `.current.tmp-*` links.
 * A missing site directory is success. *out (may be NULL) gets the number of entries removed.
 */
int lp_publish_cleanup_partial(size_t *out, const char *site_dir, lp_error *err);

/*
 * Point `current` at `revisions/<n>` atomically and durably. Revision n must be ready
 * (LP_ENOTFOUND otherwise). When `current` already points there nothing is written at all.
 */
int lp_publish_switch(const char *site_dir, long n, lp_error *err);

/* *out = the revision `current` points at, or 0 when there is no `current` link. */
int lp_publish_current_revision(long *out, const char *site_dir, lp_error *err);

/*
 * Keep the `keep` newest revisions (by number) and delete the older ones. The revision `current`
 * points at, and current_n (0 for none), are never deleted; they are kept in addition to the
 * `keep` newest. Nothing is written when there is nothing to delete. *out (may be NULL) gets the
 * number of revisions removed.
 */
int lp_publish_prune(size_t *out, const char *site_dir, size_t keep, long current_n, lp_error *err);

#endif
