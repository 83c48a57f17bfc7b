/* upload.c: stream an uploaded archive to disk, hashing as it arrives, then publish it by digest.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apiserver/apiserver_internal.h"
#include "launchpad/fs.h"

struct api_upload {
	char *dir;      /* <data>/uploads */
	char tmp[4096]; /* temp file path, "" once renamed */
	int fd;
	EVP_MD_CTX *md;
	size_t size, max;
	unsigned char head[4];
	size_t nhead;
	const char *ext; /* decided from the first bytes */
};

int api_upload_new(api_upload **out, const char *dir, size_t max, lp_error *err)
{
	api_upload *u = NULL;
	char sub[4096];
	int rc;

	*out = NULL;
	snprintf(sub, sizeof(sub), "%s/sha256", dir);
	if ((rc = lp_fs_mkdirs(sub, 0750, err)) != LP_OK)
		return rc;
	u = calloc(1, sizeof(*u));
	if (u == NULL || (u->dir = strdup(dir)) == NULL || (u->md = EVP_MD_CTX_new()) == NULL) {
		rc = lp_error_set(err, LP_ENOMEM, "out of memory");
		goto done;
	}
	u->fd = -1;
	u->max = max;
	if (EVP_DigestInit_ex(u->md, EVP_sha256(), NULL) != 1) {
		rc = lp_error_set(err, LP_ERROR, "sha256 init failed");
		goto done;
	}
	snprintf(u->tmp, sizeof(u->tmp), "%s/.upload-XXXXXX", dir);
	u->fd = mkostemp(u->tmp, O_CLOEXEC);
	/* the controller reads uploads; it may run as another user of the same group */
	if (u->fd >= 0)
		fchmod(u->fd, 0640);
	if (u->fd < 0) {
		u->tmp[0] = '\0';
		rc = lp_error_set(err, LP_EIO, "create upload temp file in %s: %s", dir,
		                  strerror(errno));
		goto done;
	}
	*out = u;
	u = NULL;
	rc = LP_OK;
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
		while (u->nhead < 4 && off < n)
			u->head[u->nhead++] = p[off++];
		off = 0;
		if (u->nhead == 4 && (rc = check_magic(u, err)) != LP_OK)
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

int api_upload_finish(char **out, api_upload *u, char digest[LP_SHA256_HEX_LEN], lp_error *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char final[4096 + 80];
	int rc;

	*out = NULL;
	if (u->size == 0)
		return lp_error_set(err, LP_EINVAL, "the uploaded file is empty");
	if (u->ext == NULL && (rc = check_magic(u, err)) != LP_OK)
		return rc;
	if (EVP_DigestFinal_ex(u->md, md, &mdlen) != 1 || mdlen != LP_SHA256_LEN)
		return lp_error_set(err, LP_ERROR, "sha256 final failed");
	lp_crypto_hex_encode(digest, md, mdlen);
	if (fsync(u->fd) != 0)
		return lp_error_set(err, LP_EIO, "fsync upload: %s", strerror(errno));
	close(u->fd);
	u->fd = -1;
	snprintf(final, sizeof(final), "%s/sha256/%s.%s", u->dir, digest, u->ext);
	/* content-addressed: an existing file with this name already holds these bytes */
	if (rename(u->tmp, final) != 0)
		return lp_error_set(err, LP_EIO, "rename upload to %s: %s", final, strerror(errno));
	u->tmp[0] = '\0';
	snprintf(final + strlen(u->dir), sizeof(final) - strlen(u->dir), "/sha256");
	if ((rc = lp_fs_sync_dir(final, err)) != LP_OK)
		return rc;
	snprintf(final, sizeof(final), "%s/sha256/%s.%s", u->dir, digest, u->ext);
	if ((*out = strdup(final)) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	return LP_OK;
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
	free(u->dir);
	free(u);
}
