/* precompress.c: gzip siblings of a revision's text files (precompress.h). */
#include "pipeline/precompress.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "launchpad/clock.h"
#include "launchpad/fmt.h"

#define CHUNK        (64 * 1024)
#define GZ_NAME_MAX  (NAME_MAX + 1)
#define GZIP_WINDOW  (15 + 16) /* zlib: a gzip header and trailer, not a zlib one */
#define GZIP_MEMLVL  8
#define GZIP_LEVEL   9   /* once per revision: the smallest file is worth the time */
#define SAVING_RATIO 0.9 /* keep a .gz only when it is at most 90% of the original */

static const char *const text_ext[] = {"html", "htm", "css",  "js",  "mjs",         "cjs",
                                       "json", "map", "svg",  "xml", "txt",         "csv",
                                       "md",   "ico", "wasm", "ttf", "webmanifest", "otf"};

int lp_precompress_wanted(const char *name)
{
	const char *dot = strrchr(name, '.');
	size_t i;

	if (dot == NULL || dot == name)
		return 0;
	for (i = 0; i < sizeof(text_ext) / sizeof(text_ext[0]); i++)
		if (!strcasecmp(dot + 1, text_ext[i]))
			return 1;
	return 0;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Deflate in into out; *out_bytes gets the compressed size. */
static int deflate_fd(uint64_t *out_bytes, int in, int out, lp_error *err)
{
	unsigned char *ibuf = malloc(CHUNK), *obuf = malloc(CHUNK);
	z_stream z;
	int flush = Z_NO_FLUSH, zrc, rc = LP_OK;

	*out_bytes = 0;
	memset(&z, 0, sizeof(z));
	if (ibuf == NULL || obuf == NULL ||
	    deflateInit2(&z, GZIP_LEVEL, Z_DEFLATED, GZIP_WINDOW, GZIP_MEMLVL,
	                 Z_DEFAULT_STRATEGY) != Z_OK) {
		free(ibuf);
		free(obuf);
		return lp_error_set(err, LP_ENOMEM, "out of memory compressing");
	}
	do {
		ssize_t r = read(in, ibuf, CHUNK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = lp_error_set(err, LP_EIO, "read: %s", strerror(errno));
			break;
		}
		flush = r == 0 ? Z_FINISH : Z_NO_FLUSH;
		z.next_in = ibuf;
		z.avail_in = (uInt)r;
		do {
			z.next_out = obuf;
			z.avail_out = CHUNK;
			zrc = deflate(&z, flush);
			if (zrc == Z_STREAM_ERROR ||
			    write_all(out, obuf, CHUNK - z.avail_out) != 0) {
				rc = lp_error_set(err, LP_EIO, "write: %s", strerror(errno));
				break;
			}
			*out_bytes += CHUNK - z.avail_out;
		} while (z.avail_out == 0);
	} while (rc == LP_OK && flush != Z_FINISH);
	deflateEnd(&z);
	free(ibuf);
	free(obuf);
	return rc;
}

static int one_file(lp_precompress_result *res, int dirfd, const char *name, const struct stat *st,
                    lp_error *err)
{
	char gz[GZ_NAME_MAX];
	struct timespec times[2];
	struct stat gst;
	uint64_t zbytes = 0;
	int in = -1, out = -1, rc;

	if (lp_fmt(gz, sizeof(gz), "%s.gz", name) != LP_OK)
		return LP_OK; /* no room for the sibling's name: served uncompressed-on-the-fly */
	if (fstatat(dirfd, gz, &gst, AT_SYMLINK_NOFOLLOW) == 0)
		return LP_OK; /* the site ships its own */
	in = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	out = openat(dirfd, gz, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (in < 0 || out < 0) {
		rc = lp_error_set(err, LP_EIO, "precompress %s: %s", name, strerror(errno));
		goto done;
	}
	if ((rc = deflate_fd(&zbytes, in, out, err)) != LP_OK) {
		lp_error_wrap(err, "precompress %s", name);
		goto done;
	}
	if ((double)zbytes > (double)st->st_size * SAVING_RATIO) {
		close(out);
		out = -1;
		(void)unlinkat(dirfd, gz, 0);
		goto done;
	}
	/* gzip_static sends the sibling's dates: the original's keep one Last-Modified for both. */
	times[0] = st->st_atim;
	times[1] = st->st_mtim;
	if (futimens(out, times) != 0) {
		rc = lp_error_set(err, LP_EIO, "precompress %s: %s", name, strerror(errno));
		goto done;
	}
	res->files++;
	res->bytes_in += (uint64_t)st->st_size;
	res->bytes_out += zbytes;
done:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (rc != LP_OK)
		(void)unlinkat(dirfd, gz, 0);
	return rc;
}

static int walk(lp_precompress_result *res, int dirfd, int depth, lp_error *err)
{
	DIR *d;
	struct dirent *e;
	int dup, rc = LP_OK;

	if (depth > LP_PRECOMPRESS_MAX_DEPTH)
		return lp_error_set(err, LP_ETOOBIG, "directories nest deeper than %d",
		                    LP_PRECOMPRESS_MAX_DEPTH);
	if ((dup = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (d = fdopendir(dup)) == NULL) {
		if (dup >= 0)
			close(dup);
		return lp_error_set(err, LP_EIO, "precompress: %s", strerror(errno));
	}
	/* Siblings written meanwhile may show up in readdir: a .gz is never compressed again. */
	while (rc == LP_OK && (e = readdir(d)) != NULL) {
		struct stat st;
		size_t n = strlen(e->d_name);
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    (n > 3 && !strcmp(e->d_name + n - 3, ".gz")))
			continue;
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, e->d_name,
			                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				continue;
			rc = walk(res, sub, depth + 1, err);
			close(sub);
		} else if (S_ISREG(st.st_mode) && st.st_size >= LP_PRECOMPRESS_MIN_BYTES &&
		           lp_precompress_wanted(e->d_name)) {
			rc = one_file(res, dirfd, e->d_name, &st, err);
		}
	}
	closedir(d);
	return rc;
}

int lp_precompress_tree(lp_precompress_result *out, int dirfd, lp_error *err)
{
	int64_t t0 = lp_clock_mono_ms();
	int rc;

	memset(out, 0, sizeof(*out));
	rc = walk(out, dirfd, 0, err);
	/*
	 * One flush for every sibling and its directory entry, before the revision is renamed into
	 * place: a crash must not leave a short .gz that gzip_static would send. (400 fsyncs cost
	 * about 1.3 ms each here; one syncfs, tens.)
	 */
	if (rc == LP_OK && out->files > 0 && syncfs(dirfd) != 0)
		rc = lp_error_set(err, LP_EIO, "sync precompressed files: %s", strerror(errno));
	out->ms = lp_clock_mono_ms() - t0;
	return rc;
}
