/* fs.c: durable atomic writes, bounded reads and symlink-safe tree removal. */
#include "launchpad/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launchpad/fmt.h"

/* Bytes asked of each read(2); the buffer starts at twice this and doubles. */
#define READ_CHUNK 4096

int lp_fs_mkdirs(const char *path, mode_t mode, lp_error *err)
{
	char tmp[LP_FS_PATH_MAX];
	size_t len = strlen(path);
	char *p;

	if (len == 0 || len >= sizeof(tmp))
		return lp_error_set(err, LP_EINVAL, "bad directory path \"%s\"", path);
	memcpy(tmp, path, len + 1);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) != 0 && errno != EEXIST)
			return lp_error_set(err, LP_EIO, "mkdir %s: %s", tmp, strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, mode) != 0 && errno != EEXIST)
		return lp_error_set(err, LP_EIO, "mkdir %s: %s", tmp, strerror(errno));
	return LP_OK;
}

int lp_fs_sync_dir(const char *dir, lp_error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = LP_OK;

	if (fd < 0)
		return lp_error_set(err, LP_EIO, "open %s: %s", dir, strerror(errno));
	if (fsync(fd) != 0)
		rc = lp_error_set(err, LP_EIO, "fsync %s: %s", dir, strerror(errno));
	close(fd);
	return rc;
}

int lp_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, lp_error *err)
{
	char tmp[LP_FS_PATH_MAX], dir[LP_FS_PATH_MAX];
	const char *p = data;
	int fd = -1, rc = LP_OK;
	size_t off = 0;

	/* dir is path's copy for dirname(3), which writes into it; it fits where tmp does. */
	if (lp_fmt(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) != LP_OK ||
	    lp_fmt(dir, sizeof(dir), "%s", path) != LP_OK)
		return lp_error_set(err, LP_EINVAL, "path too long: %s", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		rc = lp_error_set(err, LP_EIO, "create %s: %s", tmp, strerror(errno));
		goto done;
	}
	while (off < len) {
		ssize_t w = write(fd, p + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = lp_error_set(err, LP_EIO, "write %s: %s", tmp, strerror(errno));
			goto done;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0) {
		rc = lp_error_set(err, LP_EIO, "fsync %s: %s", tmp, strerror(errno));
		goto done;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) != 0) {
		rc = lp_error_set(err, LP_EIO, "rename %s: %s", path, strerror(errno));
		goto done;
	}
	rc = lp_fs_sync_dir(dirname(dir), err);
done:
	if (fd >= 0)
		close(fd);
	if (rc != LP_OK)
		unlink(tmp);
	return rc;
}

int lp_fs_read_fd(char **out, size_t *out_len, int fd, size_t max, lp_error *err)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = LP_OK;

	*out = NULL;
	for (;;) {
		ssize_t r;
		if (len + READ_CHUNK + 1 > cap) {
			size_t ncap = cap ? cap * 2 : 2 * READ_CHUNK;
			char *nb = realloc(buf, ncap);
			if (nb == NULL) {
				rc = lp_error_set(err, LP_ENOMEM, "out of memory");
				goto done;
			}
			buf = nb;
			cap = ncap;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = lp_error_set(err, LP_EIO, "read: %s", strerror(errno));
			goto done;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > max) {
			rc = lp_error_set(err, LP_ETOOBIG, "input is larger than %zu bytes", max);
			goto done;
		}
	}
	buf[len] = '\0';
	*out = buf;
	buf = NULL;
	if (out_len)
		*out_len = len;
done:
	free(buf);
	return rc;
}

int lp_fs_read_file(char **out, size_t *out_len, const char *path, size_t max, lp_error *err)
{
	int fd, rc;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return lp_error_set(err, errno == ENOENT ? LP_ENOTFOUND : LP_EIO, "open %s: %s",
		                    path, strerror(errno));
	rc = lp_fs_read_fd(out, out_len, fd, max, err);
	if (rc != LP_OK)
		lp_error_wrap(err, "%s", path);
	close(fd);
	return rc;
}

/*
 * Empty the directory open at *fd, descending into subdirectories in place: the walk holds one
 * descriptor whatever the depth and names no path, so a tree deeper than PATH_MAX (a build can
 * make one) still goes. It climbs back through "..", which is safe because nothing else writes
 * in a tree being removed. *fd is the root's again on success.
 */
static int empty_dir(int *fd, dev_t dev, const char *what, lp_error *err)
{
	size_t depth = 0;

	for (;;) {
		int dup_fd = dup(*fd), descended = 0;
		struct dirent *de;
		DIR *d;

		if (dup_fd < 0 || (d = fdopendir(dup_fd)) == NULL) {
			if (dup_fd >= 0)
				close(dup_fd);
			return lp_error_set(err, LP_EIO, "remove %s: %s", what, strerror(errno));
		}
		while (!descended && (de = readdir(d)) != NULL) {
			struct stat st;
			int child, e;

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (unlinkat(*fd, de->d_name, 0) == 0 || errno == ENOENT)
				continue;
			if ((errno == EISDIR || errno == EPERM) &&
			    (unlinkat(*fd, de->d_name, AT_REMOVEDIR) == 0 || errno == ENOENT))
				continue;
			if ((errno != ENOTEMPTY && errno != EEXIST) ||
			    (child = openat(*fd, de->d_name,
			                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
				e = errno;
				lp_error_set(err, LP_EIO, "remove %s: %s: %s", what, de->d_name,
				             strerror(e));
				closedir(d); /* de goes with it */
				return LP_EIO;
			}
			if (fstat(child, &st) != 0 || st.st_dev != dev) {
				close(child);
				closedir(d);
				return lp_error_set(
				    err, LP_EIO, "remove %s: a filesystem is mounted inside", what);
			}
			close(*fd);
			*fd = child;
			depth++;
			descended = 1;
		}
		closedir(d);
		if (descended)
			continue;
		if (depth == 0)
			return LP_OK;
		/* This level is empty: back up; the parent's next pass removes it. */
		{
			int parent = openat(*fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

			if (parent < 0)
				return lp_error_set(err, LP_EIO, "remove %s: %s", what,
				                    strerror(errno));
			close(*fd);
			*fd = parent;
			depth--;
		}
	}
}

int lp_fs_remove_tree(const char *path, lp_error *err)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) != 0)
		return errno == ENOENT
		           ? LP_OK
		           : lp_error_set(err, LP_EIO, "stat %s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) != 0 && errno != ENOENT)
			return lp_error_set(err, LP_EIO, "unlink %s: %s", path, strerror(errno));
		return LP_OK;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT
		           ? LP_OK
		           : lp_error_set(err, LP_EIO, "open %s: %s", path, strerror(errno));
	rc = empty_dir(&fd, st.st_dev, path, err);
	close(fd);
	if (rc == LP_OK && rmdir(path) != 0 && errno != ENOENT)
		rc = lp_error_set(err, LP_EIO, "remove %s: %s", path, strerror(errno));
	return rc;
}

int lp_fs_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}
