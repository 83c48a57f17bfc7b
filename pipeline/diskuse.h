/*
 * diskuse.h: how much disk a directory tree takes, counted as du(1) counts it, and trimming a
 * tree down to a size, least recently used files first (the build caches).
 *
 * Usage is allocated blocks (st_blocks), not apparent sizes: a sparse file takes what it takes,
 * a directory its own blocks, a file with several links inside the tree is counted once. The walk
 * never follows a symbolic link and never leaves the root's filesystem; it works through directory
 * descriptors (openat), so a path longer than PATH_MAX inside the tree is still measured. Entries
 * that vanish while it walks (a build is writing) are skipped. A tree nested deeper than
 * LP_DISKUSE_DEPTH_MAX levels cannot be measured: LP_ETOOBIG.
 *
 * Nothing returned needs freeing. Safe from several threads at once (no chdir, no global state).
 */
#ifndef LAUNCHPAD_PIPELINE_DISKUSE_H
#define LAUNCHPAD_PIPELINE_DISKUSE_H

#include <stddef.h>
#include <stdint.h>

#include "launchpad/error.h"

/* Directory levels below the root; one descriptor is held per level while walking. */
#define LP_DISKUSE_DEPTH_MAX 128
/* Multiply-linked files remembered to count each once; past it they are counted per link
 * (an over-count: a cap never lets more through than it says). */
#define LP_DISKUSE_LINKS_MAX ((size_t)1 << 18)
/* Files a trim sorts by age; a tree with more is removed whole instead. */
#define LP_DISKUSE_TRIM_FILES_MAX ((size_t)1 << 20)

typedef struct lp_diskuse {
	uint64_t bytes;   /* allocated bytes of every entry walked */
	uint64_t entries; /* entries walked (files, directories, links, ...) */
	int partial;      /* the walk stopped early, past stop_above: bytes is a lower bound */
} lp_diskuse;

/*
 * Measure root (a missing root is 0 bytes). stop_above > 0 ends the walk as soon as more than that
 * many bytes are counted (out->partial), which bounds the cost of checking a cap.
 */
int lp_diskuse_measure(lp_diskuse *out, const char *root, uint64_t stop_above,
                       lp_error *err) LP_MUST_CHECK;

typedef struct lp_diskuse_trim {
	uint64_t before;        /* usage found */
	uint64_t after;         /* usage left */
	size_t removed_files;   /* files and links unlinked */
	int removed_everything; /* the tree could not be trimmed file by file: it is gone */
} lp_diskuse_trim;

/*
 * Bring root's usage to at most target bytes: regular files and links go oldest first, by the
 * later of their access and modification times; directories stay. When that cannot get there
 * (too many files, paths too long to name) the whole tree is removed and out says so.
 */
int lp_diskuse_trim_to(lp_diskuse_trim *out, const char *root, uint64_t target,
                       lp_error *err) LP_MUST_CHECK;

#endif
