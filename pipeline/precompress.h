/*
 * precompress.h: gzip siblings for a revision's text files, written once when it is published,
 * so nginx's gzip_static sends them without compressing each request.
 *
 * For every regular file of a text type (by extension: html, css, js, json, svg, xml, txt, ...)
 * of at least LP_PRECOMPRESS_MIN_BYTES with no `<name>.gz` beside it, `<name>.gz` is written
 * (gzip, level 9), given the file's mtime, and kept only when it saves at least a tenth; one
 * syncfs makes them all durable before the caller renames the revision into place.
 * Operates on an open directory the caller owns (the revision still under its temporary name);
 * nothing is allocated for the caller. Never follows a symlink (publish leaves none).
 */
#ifndef LAUNCHPAD_PIPELINE_PRECOMPRESS_H
#define LAUNCHPAD_PIPELINE_PRECOMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "launchpad/error.h"

#define LP_PRECOMPRESS_MIN_BYTES 256 /* smaller files gain nothing a header does not eat */
#define LP_PRECOMPRESS_MAX_DEPTH 64

typedef struct lp_precompress_result {
	size_t files;       /* .gz files written */
	uint64_t bytes_in;  /* their originals' bytes */
	uint64_t bytes_out; /* the .gz bytes */
	int64_t ms;         /* wall time spent */
} lp_precompress_result;

/* Precompress the tree under dirfd (not closed). out is filled on success and on failure. */
int lp_precompress_tree(lp_precompress_result *out, int dirfd, lp_error *err) LP_MUST_CHECK;

/* 1 when name's extension is one of the text types that are precompressed. */
int lp_precompress_wanted(const char *name);

#endif
