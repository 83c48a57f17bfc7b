/* upload.c: stream an uploaded archive to disk, hashing as it arrives, then publish it by digest.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apiserver/apiserver_internal.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "launchpad/layout.h"
#include "launchpad/log.h"

#define UPLOAD_MAGIC_LEN 4 /* bytes that tell a zip (PK\3\4) from a gzip (1f 8b) */

struct api_upload {
	char *data_dir;
	char tmp[LP_FS_PATH_MAX]; /* temp file path, "" once renamed */
	int fd;
	EVP_MD_CTX *md;
	size_t size, max;
	unsigned char head[UPLOAD_MAGIC_LEN];
	size_t nhead;
	const char *ext; /* decided from the first bytes */
	char digest[LP_SHA256_HEX_LEN];
	int finished;               /* complete, hashed and checked */
	int created;                /* publishing made final: withdrawing removes it */
	char final[LP_FS_PATH_MAX]; /* the archive path once published */
};

/* Make the archives folder and a temp file beside it (same file system: rename is atomic). */
static int open_temp(api_upload *u, lp_error *err)
{
	char archives[LP_FS_PATH_MAX], uploads[LP_FS_PATH_MAX];
	int rc;

	if (lp_layout_dir_path(archives, sizeof(archives), u->data_dir, LP_DIR_ARCHIVES) != LP_OK ||
	    lp_layout_dir_path(uploads, sizeof(uploads), u->data_dir, LP_DIR_UPLOADS) != LP_OK ||
	    lp_fmt(u->tmp, sizeof(u->tmp), "%s/" LP_LAYOUT_UPLOAD_TMP_PREFIX "XXXXXX", uploads) !=
	        LP_OK)
		return lp_error_set(err, LP_ERROR, "data dir path too long: %s", u->data_dir);
	if ((rc = lp_fs_mkdirs(archives, 0750, err)) != LP_OK)
		return rc;
	u->fd = mkostemp(u->tmp, O_CLOEXEC);
	if (u->fd < 0) {
		u->tmp[0] = '\0';
		return lp_error_set(err, LP_EIO, "create upload temp file in %s: %s", uploads,
		                    strerror(errno));
	}
	/* the controller reads uploads; it may run as another user of the same group */
	if (fchmod(u->fd, 0640) != 0)
		return lp_error_set(err, LP_EIO, "chmod upload temp file: %s", strerror(errno));
	return LP_OK;
}

int api_upload_new(api_upload **out, const char *data_dir, size_t max, lp_error *err)
{
	api_upload *u = NULL;
	int rc;

	*out = NULL;
	u = calloc(1, sizeof(*u));
	if (u == NULL || (u->data_dir = strdup(data_dir)) == NULL ||
	    (u->md = EVP_MD_CTX_new()) == NULL) {
		rc = lp_error_set(err, LP_ENOMEM, "out of memory");
		goto done;
	}
	u->fd = -1;
	u->max = max;
	if (EVP_DigestInit_ex(u->md, EVP_sha256(), NULL) != 1) {
		rc = lp_error_set(err, LP_ERROR, "sha256 init failed");
		goto done;
	}
	if ((rc = open_temp(u, err)) != LP_OK)
		goto done;
	*out = u;
	u = NULL;
done:
	api_upload_free(u);
	return rc;
}
static int check_magic(api_upload *u, lp_error *err)
{
	if (u->nhead >= 4 && !memcmp(u->head, "PK\x03\x04", 4))
		u->ext = "zip";
	else if (u->nhead >= 2 && u->head[0] == 0x1f && u->head[1] == 0x8b)
		u->ext = "tar.gz";
	else
		return lp_error_set(err, LP_EUNSUPPORTED,
		                    "the upload is not a zip or tar.gz archive (bad magic bytes)");
	return LP_OK;
}

int api_upload_write(api_upload *u, const void *data, size_t n, lp_error *err)
{
	const unsigned char *p = data;
	size_t off = 0;
	ssize_t w;
	int rc;

	if (n > u->max - u->size)
		return lp_error_set(err, LP_ETOOBIG, "upload larger than %zu MiB", u->max >> 20);
	if (u->ext == NULL) {
		while (u->nhead < UPLOAD_MAGIC_LEN && off < n)
			u->head[u->nhead++] = p[off++];
		off = 0;
		if (u->nhead == UPLOAD_MAGIC_LEN && (rc = check_magic(u, err)) != LP_OK)
			return rc;
	}
	if (EVP_DigestUpdate(u->md, data, n) != 1)
		return lp_error_set(err, LP_ERROR, "sha256 update failed");
	while (off < n) {
		w = write(u->fd, p + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return lp_error_set(err, LP_EIO, "write upload: %s", strerror(errno));
		off += (size_t)w;
	}
	u->size += n;
	return LP_OK;
}

size_t api_upload_size(const api_upload *u)
{
	return u->size;
}

int api_upload_finish(api_upload *u, char digest[LP_SHA256_HEX_LEN], const lp_archive_limits *check,
                      lp_error *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int rc;

	if (u->size == 0)
		return lp_error_set(err, LP_EINVAL, "the uploaded file is empty");
	if (u->ext == NULL && (rc = check_magic(u, err)) != LP_OK)
		return rc;
	if (EVP_DigestFinal_ex(u->md, md, &mdlen) != 1 || mdlen != LP_SHA256_LEN)
		return lp_error_set(err, LP_ERROR, "sha256 final failed");
	lp_crypto_hex_encode(digest, md, mdlen);
	memcpy(u->digest, digest, LP_SHA256_HEX_LEN);
	if (fsync(u->fd) != 0)
		return lp_error_set(err, LP_EIO, "fsync upload: %s", strerror(errno));
	close(u->fd);
	u->fd = -1;
	/* Refused now, with the entry named, rather than stored and failed at build time. */
	if (check && (rc = lp_archive_check(NULL, u->tmp, check, err)) != LP_OK)
		return rc;
	u->finished = 1;
	return LP_OK;
}

int api_upload_publish(char **out, api_upload *u, lp_error *err)
{
	char final[LP_FS_PATH_MAX], dir[LP_FS_PATH_MAX];
	int rc;

	*out = NULL;
	if (!u->finished)
		return lp_error_set(err, LP_ERROR, "the upload is not finished");
	if (lp_layout_archive(final, sizeof(final), u->data_dir, u->digest, u->ext) != LP_OK ||
	    lp_layout_dir_path(dir, sizeof(dir), u->data_dir, LP_DIR_ARCHIVES) != LP_OK)
		return lp_error_set(err, LP_ERROR, "data dir path too long: %s", u->data_dir);
	/*
	 * link, not rename: an existing file of this name holds these bytes already (content
	 * addressed) and is kept, touched so the gc's grace period starts again; the new name is
	 * made only when there is none, and then this upload may withdraw it.
	 */
	if (link(u->tmp, final) == 0) {
		u->created = 1;
	} else if (errno != EEXIST) {
		return lp_error_set(err, LP_EIO, "link upload to %s: %s", final, strerror(errno));
	} else if (utimensat(AT_FDCWD, final, NULL, 0) != 0) {
		/* gone meanwhile (the gc): this upload's copy takes its place */
		if (errno != ENOENT || link(u->tmp, final) != 0)
			return lp_error_set(err, LP_EIO, "refresh %s: %s", final, strerror(errno));
		u->created = 1;
	}
	if (lp_fmt(u->final, sizeof(u->final), "%s", final) != LP_OK)
		return lp_error_set(err, LP_ERROR, "archive path too long: %s", final);
	unlink(u->tmp);
	u->tmp[0] = '\0';
	if ((rc = lp_fs_sync_dir(dir, err)) != LP_OK)
		return rc;
	if ((*out = strdup(final)) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	return LP_OK;
}

void api_upload_withdraw(api_upload *u)
{
	if (u == NULL || !u->created || u->final[0] == '\0')
		return;
	if (unlink(u->final) != 0)
		LP_WARN("api", "upload: cannot remove %s: %s (the gc will)", u->final,
		        strerror(errno));
	u->created = 0;
}

int api_upload_clear_temps(size_t *out, const char *data_dir, lp_error *err)
{
	char dir[LP_FS_PATH_MAX], path[LP_FS_PATH_MAX];
	const size_t plen = strlen(LP_LAYOUT_UPLOAD_TMP_PREFIX);
	struct dirent *de;
	DIR *d;
	int rc = LP_OK;

	*out = 0;
	if (lp_layout_dir_path(dir, sizeof(dir), data_dir, LP_DIR_UPLOADS) != LP_OK)
		return lp_error_set(err, LP_ERROR, "data dir path too long: %s", data_dir);
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? LP_OK
		                       : lp_error_set(err, LP_EIO, "%s: %s", dir, strerror(errno));
	/* only one apiserver writes a data dir: every temp file here is a dead one's */
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, LP_LAYOUT_UPLOAD_TMP_PREFIX, plen) != 0)
			continue;
		if (lp_fmt(path, sizeof(path), "%s/%s", dir, de->d_name) != LP_OK) {
			rc = lp_error_set(err, LP_ERROR, "%s/%s: path too long", dir, de->d_name);
			break;
		}
		if (unlink(path) != 0 && errno != ENOENT) {
			rc = lp_error_set(err, LP_EIO, "remove %s: %s", path, strerror(errno));
			break;
		}
		(*out)++;
	}
	closedir(d);
	return rc;
}

void api_upload_free(api_upload *u)
{
	if (u == NULL)
		return;
	if (u->fd >= 0)
		close(u->fd);
	if (u->tmp[0])
		unlink(u->tmp);
	EVP_MD_CTX_free(u->md);
	free(u->data_dir);
	free(u);
}
