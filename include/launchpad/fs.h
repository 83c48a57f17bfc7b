/*
 * fs.h: filesystem helpers for crash-safe writes and bounded reads.
 *
 * Every write that must survive a crash goes through lp_fs_write_atomic (temp file, fsync, rename,
 * fsync of the directory). Paths are plain C strings owned by the caller; buffers returned through
 * **out belong to the caller (free()).
 */
#ifndef LAUNCHPAD_FS_H
#define LAUNCHPAD_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "launchpad/error.h"

/* The longest path LaunchPad builds (data dir + its deepest entry), NUL included. */
#define LP_FS_PATH_MAX 4096

/* mkdir -p with the given mode for each created level. Existing directories are fine. */
int lp_fs_mkdirs(const char *path, mode_t mode, lp_error *err) LP_MUST_CHECK;

/* Write data to path atomically and durably (temp + fsync + rename + fsync(dir)). */
int lp_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                       lp_error *err) LP_MUST_CHECK;

/* Read a whole file of at most max bytes into a NUL-terminated buffer; LP_ETOOBIG past max. */
int lp_fs_read_file(char **out, size_t *out_len, const char *path, size_t max,
                    lp_error *err) LP_MUST_CHECK;

/* Read an open descriptor to its end (stdin, a pipe) the same way; the fd stays open. */
int lp_fs_read_fd(char **out, size_t *out_len, int fd, size_t max, lp_error *err) LP_MUST_CHECK;

/* Remove a file or a directory tree without following symlinks. A missing path is success. */
int lp_fs_remove_tree(const char *path, lp_error *err) LP_MUST_CHECK;

/* fsync the directory containing path (or path itself when it is a directory). */
int lp_fs_sync_dir(const char *dir, lp_error *err) LP_MUST_CHECK;

/* 1 when path exists (lstat), 0 when not. */
int lp_fs_exists(const char *path);

#endif
