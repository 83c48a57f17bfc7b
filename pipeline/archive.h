/*
 * archive.h: safe extraction of uploaded zip and tar.gz archives into a revision's workspace.
 *
 * lp_archive_extract reads an archive with libarchive (zip and tar, gzip filter only) and writes
 * regular files and directories itself under a directory fd (openat with O_NOFOLLOW|O_EXCL), never
 * through archive_write_disk. Everything else (links, devices, fifos, absolute or ".." paths,
 * duplicates, oversize data) is rejected with a message naming the entry and the rule; on any
 * failure the destination is left as it was found (empty, or absent). The rules and limits are
 * listed in docs/archives.md. The caller owns every argument; nothing returned needs freeing. Safe
 * to call from several threads at once (no chdir, no umask, no global locale change).
 */
#ifndef LAUNCHPAD_ARCHIVE_H
#define LAUNCHPAD_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "launchpad/error.h"

struct lp_config;

/* Hard ceilings for the configurable path limits (Linux PATH_MAX and NAME_MAX). */
#define LP_ARCHIVE_PATH_CEILING 4096
#define LP_ARCHIVE_NAME_CEILING 255

typedef struct lp_archive_limits {
	uint64_t max_archive_bytes; /* size of the archive file itself (default 200 MiB) */
	uint64_t max_total_bytes;   /* bytes actually written, all entries (default 1 GiB) */
	size_t max_entries;         /* headers read, every kind counted (default 50,000) */
	size_t max_path_bytes;      /* whole entry path (default 1024, at most 4096) */
	size_t max_depth;           /* path components (default 32) */
	size_t max_name_bytes;      /* one path component (default 255, at most 255) */
} lp_archive_limits;

typedef struct lp_archive_stats {
	size_t files;   /* regular files written */
	size_t dirs;    /* directories created (explicit entries and implied parents) */
	uint64_t bytes; /* data bytes written */
	size_t entries; /* headers read */
	size_t dropped; /* entries dropped as macOS metadata (__MACOSX/, .DS_Store) */
	char stripped[LP_ARCHIVE_NAME_CEILING + 2]; /* "my-site/" when a lone top folder was
	                                               stripped, else "" */
} lp_archive_stats;

/* Receives one human-readable note (a dropped entry, a stripped folder). May be NULL. */
typedef void (*lp_archive_note_fn)(void *ctx, const char *message);

/* Fill out with the defaults above. */
void lp_archive_limits_default(lp_archive_limits *out);

/*
 * The limits this installation applies: the defaults, with the archive cap the admin's upload
 * limit (--upload-max-mb). The API (when an upload arrives) and the build (when it is unpacked)
 * both call this, so what one accepts the other does too.
 */
void lp_archive_limits_for(lp_archive_limits *out, const struct lp_config *cfg);

/*
 * Extract archive_path (zip, tar, tar.gz) into dest_dir, which must be absent (it is created,
 * mode 0755, its parent must exist) or an empty directory. limits NULL means defaults. out may be
 * NULL. Returns LP_OK; LP_EUNSAFE when a safety rule rejects an entry; LP_ETOOBIG when a cap is
 * hit; LP_EINVAL for a corrupt, truncated, unrecognised or empty archive ("archive contains no
 * files"), bad limits or a non-empty destination; LP_EIO / LP_ENOMEM / LP_ENOTFOUND otherwise.
 */
int lp_archive_extract(lp_archive_stats *out, const char *archive_path, const char *dest_dir,
                       const lp_archive_limits *limits, lp_archive_note_fn note, void *note_ctx,
                       lp_error *err);

/*
 * Check archive_path against every rule that the headers alone decide (names, types, duplicates,
 * entry count, the sizes the headers announce, "no files", corrupt or truncated) without writing
 * anything: what the API runs when an upload arrives, so a bad archive is refused then and not at
 * build time. The same codes as lp_archive_extract; out (may be NULL) gets the counts, with bytes
 * the announced total. Extraction still enforces the real sizes.
 */
LP_MUST_CHECK int lp_archive_check(lp_archive_stats *out, const char *archive_path,
                                   const lp_archive_limits *limits, lp_error *err);

#endif
