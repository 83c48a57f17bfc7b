/* zip.c: `deploy`'s packer: a folder into a deterministic zip with libarchive. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli_internal.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"

#define ZIP_MAX_DEPTH  64
#define ZIP_PATH_MAX   LP_FS_PATH_MAX
#define ZIP_CHUNK_SIZE 65536     /* bytes read from a file per write */
#define ZIP_MTIME      315532800 /* 1980-01-01, zip's epoch: the same folder gives the same bytes */
#define INDEX_PAGE     "index.html" /* what nginx answers / with */

struct zipper {
	struct archive *a;
	size_t files;
	size_t entries;
	int64_t bytes;
	lp_error *err;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in dir, sorted; .git, . and .. left out. */
static int list_dir(char ***out, size_t *out_n, const char *dir, lp_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL, **grown;
	size_t n = 0, cap = 0;
	int rc = LP_OK;

	*out = NULL;
	*out_n = 0;
	if (d == NULL)
		return lp_error_set(err, LP_EIO, "%s: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !strcmp(e->d_name, ".git"))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			if (cap > LP_CLI_ZIP_MAX_FILES ||
			    (grown = realloc(names, cap * sizeof(char *))) == NULL) {
				rc = lp_error_set(err, LP_ETOOBIG, "%s: too many entries", dir);
				break;
			}
			names = grown;
		}
		if ((names[n] = strdup(e->d_name)) == NULL) {
			rc = lp_error_set(err, LP_ENOMEM, "out of memory");
			break;
		}
		n++;
	}
	closedir(d);
	if (rc != LP_OK) {
		while (n-- > 0)
			free(names[n]);
		free(names);
		return rc;
	}
	if (n)
		qsort(names, n, sizeof(char *), cmp_str);
	*out = names;
	*out_n = n;
	return LP_OK;
}

static int add_header(struct zipper *z, const char *rel, mode_t type, int64_t size)
{
	struct archive_entry *e = archive_entry_new();
	int rc = LP_OK;

	if (e == NULL)
		return lp_error_set(z->err, LP_ENOMEM, "out of memory");
	archive_entry_set_pathname(e, rel);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
	archive_entry_set_mtime(e, ZIP_MTIME, 0);
	if (type == AE_IFREG)
		archive_entry_set_size(e, size);
	if (archive_write_header(z->a, e) != ARCHIVE_OK)
		rc = lp_error_set(z->err, LP_EIO, "zip %s: %s", rel, archive_error_string(z->a));
	archive_entry_free(e);
	return rc;
}

static int add_file(struct zipper *z, const char *abs, const char *rel, const struct stat *st)
{
	char chunk[ZIP_CHUNK_SIZE];
	ssize_t n;
	int64_t left = st->st_size;
	int fd = open(abs, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), rc;

	if (fd < 0)
		return lp_error_set(z->err, LP_EIO, "%s: %s", abs, strerror(errno));
	z->bytes += st->st_size;
	if (z->bytes > LP_CLI_ZIP_MAX_BYTES) {
		rc = lp_error_set(z->err, LP_ETOOBIG, "the folder holds more than %lld bytes",
		                  (long long)LP_CLI_ZIP_MAX_BYTES);
		goto done;
	}
	if ((rc = add_header(z, rel, AE_IFREG, st->st_size)) != LP_OK)
		goto done;
	/* write exactly the size in the header even if the file changes meanwhile */
	while (left > 0) {
		n = read(fd, chunk, left < (int64_t)sizeof(chunk) ? (size_t)left : sizeof(chunk));
		if (n <= 0) {
			rc = lp_error_set(z->err, LP_EIO, "%s: changed while being read", abs);
			goto done;
		}
		if (archive_write_data(z->a, chunk, (size_t)n) != n) {
			rc = lp_error_set(z->err, LP_EIO, "zip %s: %s", rel,
			                  archive_error_string(z->a));
			goto done;
		}
		left -= n;
	}
	z->files++;
done:
	close(fd);
	return rc;
}

static int add_dir(struct zipper *z, const char *abs, const char *rel, int depth)
{
	char **names = NULL, cabs[ZIP_PATH_MAX], crel[ZIP_PATH_MAX];
	size_t n = 0, i;
	struct stat st;
	int rc;

	if (depth > ZIP_MAX_DEPTH)
		return lp_error_set(z->err, LP_ETOOBIG, "%s: nested too deep", abs);
	if ((rc = list_dir(&names, &n, abs, z->err)) != LP_OK)
		return rc;
	for (i = 0; i < n && rc == LP_OK; i++) {
		/* crel keeps a byte spare: a directory's entry name gets a trailing slash */
		if (lp_fmt(cabs, sizeof(cabs), "%s/%s", abs, names[i]) != LP_OK ||
		    lp_fmt(crel, sizeof(crel) - 1, "%s%s%s", rel, *rel ? "/" : "", names[i]) !=
		        LP_OK) {
			rc =
			    lp_error_set(z->err, LP_ETOOBIG, "%s/%s: path too long", abs, names[i]);
			break;
		}
		if (lstat(cabs, &st) != 0) {
			rc = lp_error_set(z->err, LP_EIO, "%s: %s", cabs, strerror(errno));
			break;
		}
		if (++z->entries > LP_CLI_ZIP_MAX_FILES) {
			rc = lp_error_set(z->err, LP_ETOOBIG, "more than %d entries",
			                  LP_CLI_ZIP_MAX_FILES);
			break;
		}
		if (S_ISREG(st.st_mode)) {
			rc = add_file(z, cabs, crel, &st);
		} else if (S_ISDIR(st.st_mode)) {
			size_t len = strlen(crel);
			crel[len] = '/';
			crel[len + 1] = '\0';
			rc = add_header(z, crel, AE_IFDIR, 0);
			crel[len] = '\0';
			if (rc == LP_OK)
				rc = add_dir(z, cabs, crel, depth + 1);
		} else {
			/* links, sockets and devices have no place on a static site */
			fprintf(stderr, "launchpad deploy: skipping %s (not a regular file)\n",
			        cabs);
		}
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int lp_cli_zip_dir(size_t *out_files, const char *dir, const char *zip_path, lp_error *err)
{
	struct zipper z = {.err = err};
	int rc = LP_OK;

	*out_files = 0;
	if ((z.a = archive_write_new()) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	if (archive_write_set_format_zip(z.a) != ARCHIVE_OK ||
	    archive_write_open_filename(z.a, zip_path) != ARCHIVE_OK) {
		rc = lp_error_set(err, LP_EIO, "%s: %s", zip_path, archive_error_string(z.a));
		goto done;
	}
	rc = add_dir(&z, dir, "", 0);
	if (archive_write_close(z.a) != ARCHIVE_OK && rc == LP_OK)
		rc = lp_error_set(err, LP_EIO, "%s: %s", zip_path, archive_error_string(z.a));
	if (rc == LP_OK && z.files == 0)
		rc = lp_error_set(err, LP_EINVAL, "%s holds no files", dir);
	*out_files = z.files;
done:
	archive_write_free(z.a);
	return rc;
}

/* ---- what the server will serve at / ---- */

/* A name as the server keeps it: "./" removed; NULL for the root itself. */
static const char *kept_name(const char *name)
{
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	return *name && strcmp(name, ".") ? name : NULL;
}

/* macOS metadata the server drops: anything under __MACOSX/ and every .DS_Store. */
static int dropped_name(const char *name)
{
	const char *base = strrchr(name, '/');
	size_t len = strlen(name);

	if (len && name[len - 1] == '/') {
		/* a directory: its own name is the last component before the slash */
		base = NULL;
	}
	return !strncmp(name, "__MACOSX/", 9) || !strcmp(name, "__MACOSX") ||
	       !strcmp(base ? base + 1 : name, ".DS_Store");
}

int lp_cli_archive_has_index(int *out, const char *archive_path, lp_error *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char top[ZIP_PATH_MAX] = "", index_path[ZIP_PATH_MAX + sizeof(INDEX_PAGE)];
	int rc = LP_OK, r, strippable = 1, at_root = 0, in_top = 0, have_top = 0;

	*out = 0;
	if (a == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	archive_read_support_format_zip(a);
	archive_read_support_format_tar(a);
	archive_read_support_filter_gzip(a);
	if (archive_read_open_filename(a, archive_path, ZIP_CHUNK_SIZE) != ARCHIVE_OK) {
		rc = lp_error_set(err, LP_EIO, "%s: %s", archive_path, archive_error_string(a));
		goto done;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = kept_name(archive_entry_pathname(e));
		int is_dir = archive_entry_filetype(e) == AE_IFDIR;
		size_t flen;

		if (name == NULL || dropped_name(name))
			continue;
		flen = strcspn(name, "/");
		/* the server's lone-top-folder rule: every entry under one folder, no file beside
		 */
		if (!have_top) {
			if (flen >= sizeof(top)) {
				rc = lp_error_set(err, LP_ETOOBIG, "%s: a name is too long",
				                  archive_path);
				goto done;
			}
			memcpy(top, name, flen);
			top[flen] = '\0';
			have_top = 1;
		} else if (strlen(top) != flen || strncmp(top, name, flen)) {
			strippable = 0;
		}
		if (name[flen] == '\0' && !is_dir)
			strippable = 0;
		if (!is_dir && !strcmp(name, "index.html"))
			at_root = 1;
		if (!is_dir &&
		    lp_fmt(index_path, sizeof(index_path), "%s/index.html", top) == LP_OK &&
		    !strcmp(name, index_path))
			in_top = 1;
	}
	if (r != ARCHIVE_EOF) {
		rc = lp_error_set(err, LP_EIO, "%s: %s", archive_path, archive_error_string(a));
		goto done;
	}
	*out = have_top && strippable ? in_top : at_root;
done:
	archive_read_free(a);
	return rc;
}
