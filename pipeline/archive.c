/* archive.c: extract zip/tar.gz uploads into a workspace, writing only files and directories. */
#include "pipeline/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <locale.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launchpad/config.h"
#include "launchpad/fs.h"
#include "launchpad/log.h"

/*
 * Thread safety: every call owns its libarchive read handle, its fds and its buffers. We never use
 * archive_write_disk (which flips the process umask, CVE-2023-30571, and follows links), never
 * chdir, and switch the locale per thread only (uselocale), so concurrent calls do not interact.
 */

#define MIB                  ((uint64_t)1 << 20)
#define LP_ARCHIVE_BLOCK     65536
#define LP_ARCHIVE_NOTES_MAX 20  /* individual "dropped" notes before a summary */
#define LP_ARCHIVE_SHOWN_MAX 120 /* bytes of an entry name quoted in a message */
#define LP_ARCHIVE_RULE_MAX  512 /* the text of a broken rule, quoted in a note */

enum entry_kind { KIND_KEEP, KIND_ROOT, KIND_DROP };

/* The paths kept so far: duplicates are refused before anything is written. */
struct pathset {
	char **slots;
	size_t cap;
	size_t len;
};

struct extract {
	const lp_archive_limits *lim;
	lp_error *err;
	lp_archive_note_fn note;
	void *note_ctx;
	int archive_fd;
	int dest_fd;
	struct pathset seen;
	struct kept
	    *kept; /* pass 1: every kept path (pointing into seen), for the conflict check */
	size_t nkept, kept_cap;
	/* Lone-top-folder detection (pass 1) and use (pass 2). */
	char top[LP_ARCHIVE_NAME_CEILING + 1];
	bool top_set;
	bool top_strippable;
	bool strip;
	size_t files_seen;
	uint64_t declared_bytes; /* sizes the headers announce (pass 1); pass 2 counts real bytes */
	/* The parent directory of the previous file, kept open: archives list files dir by dir. */
	char cache_path[LP_ARCHIVE_PATH_CEILING + 1];
	int cache_fd;
	size_t notes_suppressed;
	lp_archive_stats st;
};

/* A path pass 1 kept, and whether it is a folder. */
struct kept {
	const char *path;
	bool is_dir;
};

/* One entry's name, checked and normalised: no "./" prefix, no trailing slash. */
struct entry_name {
	char norm[LP_ARCHIVE_PATH_CEILING + 1];
	size_t depth;
	bool is_dir;
	enum entry_kind kind;
};

void lp_archive_limits_default(lp_archive_limits *out)
{
	out->max_archive_bytes = 200 * MIB;
	out->max_total_bytes = 1024 * MIB;
	out->max_entries = 50000;
	out->max_path_bytes = 1024;
	out->max_depth = 32;
	out->max_name_bytes = 255;
}

void lp_archive_limits_for(lp_archive_limits *out, const struct lp_config *cfg)
{
	lp_archive_limits_default(out);
	if (cfg->upload_max_mb > 0)
		out->max_archive_bytes = (uint64_t)cfg->upload_max_mb * MIB;
}

static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t len, k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + len > n)
			return false;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		/* Overlong forms, UTF-16 surrogates and values past U+10FFFF are not UTF-8. */
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

/* Quote a peer-supplied name for a message: bounded, control and invalid bytes as \xNN. */
static void quote_name(char *out, size_t outsz, const char *name)
{
	size_t n = name ? strlen(name) : 0, shown = n, i, o = 0;
	bool utf8 = name && utf8_valid((const unsigned char *)name, n);

	if (name == NULL) {
		snprintf(out, outsz, "(unreadable name)");
		return;
	}
	if (shown > LP_ARCHIVE_SHOWN_MAX)
		shown = LP_ARCHIVE_SHOWN_MAX;
	for (i = 0; i < shown && o + 5 < outsz; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8))
			o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
		else if (c == '"')
			o += (size_t)snprintf(out + o, outsz - o, "\\\"");
		else
			out[o++] = (char)c;
	}
	out[o < outsz ? o : outsz - 1] = '\0';
	if (shown < n)
		snprintf(out + o, outsz - o, "...(%zu bytes)", n);
}

/* Fail with `entry "<name>": <rule>`: every rejection names the entry and the rule. */
static int reject(struct extract *x, int code, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int reject(struct extract *x, int code, const char *name, const char *fmt, ...)
{
	char shown[LP_ARCHIVE_SHOWN_MAX * 4 + 32];
	char rule[LP_ARCHIVE_RULE_MAX];
	va_list ap;

	quote_name(shown, sizeof(shown), name);
	va_start(ap, fmt);
	vsnprintf(rule, sizeof(rule), fmt, ap);
	va_end(ap);
	return lp_error_set(x->err, code, "entry \"%s\": %s", shown, rule);
}

static void emit_note(struct extract *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void emit_note(struct extract *x, const char *fmt, ...)
{
	char msg[LP_ERROR_MESSAGE_MAX];
	va_list ap;

	if (x->note == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	x->note(x->note_ctx, msg);
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/*
 * 1 when added (*stored, if not NULL, is the set's copy), 0 when already present, LP_ENOMEM. Size
 * is bounded by the entry cap.
 */
static int pathset_add(struct pathset *s, const char *path, const char **stored)
{
	size_t i;

	if ((s->len + 1) * 2 > s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 1024, j;
		char **nslots = calloc(ncap, sizeof(*nslots));

		if (nslots == NULL)
			return LP_ENOMEM;
		for (j = 0; j < s->cap; j++) {
			if (s->slots[j] == NULL)
				continue;
			i = fnv1a(s->slots[j]) & (ncap - 1);
			while (nslots[i] != NULL)
				i = (i + 1) & (ncap - 1);
			nslots[i] = s->slots[j];
		}
		free(s->slots);
		s->slots = nslots;
		s->cap = ncap;
	}
	i = fnv1a(path) & (s->cap - 1);
	while (s->slots[i] != NULL) {
		if (strcmp(s->slots[i], path) == 0)
			return 0;
		i = (i + 1) & (s->cap - 1);
	}
	s->slots[i] = strdup(path);
	if (s->slots[i] == NULL)
		return LP_ENOMEM;
	s->len++;
	if (stored)
		*stored = s->slots[i];
	return 1;
}

static void pathset_release(struct pathset *s)
{
	size_t i;

	for (i = 0; i < s->cap; i++)
		free(s->slots[i]);
	free(s->slots);
	memset(s, 0, sizeof(*s));
}

/*
 * Check an entry's raw path against every naming rule and normalise it. A leading "./" (what
 * `tar -C dir .` writes) is removed and "./" alone is the root; "." anywhere else, "..", empty
 * components, absolute paths, backslashes, control characters and non-UTF-8 bytes are refused.
 */
static int check_path(struct extract *x, struct entry_name *out, const char *raw)
{
	const char *p;
	size_t n, start, i;
	char *comp;
	char tmp[LP_ARCHIVE_PATH_CEILING + 1];

	/* No real archiver writes a nameless entry: what reads as one is damaged data. */
	if (raw == NULL || *raw == '\0')
		return lp_error_set(x->err, LP_EINVAL,
		                    "archive is corrupt or truncated: entry %zu has no name",
		                    x->st.entries);
	n = strlen(raw);
	if (n > x->lim->max_path_bytes)
		return reject(x, LP_ETOOBIG, raw, "path is longer than %zu bytes (%zu)",
		              x->lim->max_path_bytes, n);
	if (raw[0] == '/')
		return reject(x, LP_EUNSAFE, raw, "absolute paths are not allowed");
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)raw[i];

		if (c == '\\')
			return reject(x, LP_EUNSAFE, raw,
			              "backslash in name (a Windows path separator; refused as a "
			              "traversal attempt)");
		if (c < 0x20 || c == 0x7f)
			return reject(x, LP_EUNSAFE, raw, "control character in name");
	}
	if (!utf8_valid((const unsigned char *)raw, n))
		return reject(x, LP_EUNSAFE, raw, "name is not valid UTF-8");

	p = raw;
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	start = (size_t)(p - raw);
	memcpy(tmp, p, n - start + 1);
	n -= start;
	out->is_dir = false;
	if (n > 0 && tmp[n - 1] == '/') {
		tmp[--n] = '\0';
		out->is_dir = true;
	}
	if (n == 0 || strcmp(tmp, ".") == 0) {
		out->kind = KIND_ROOT;
		out->norm[0] = '\0';
		out->depth = 0;
		return LP_OK;
	}
	memcpy(out->norm, tmp, n + 1);

	out->depth = 0;
	/* strtok_r would skip empty components; walk by hand so "a//b" is caught. */
	comp = tmp;
	for (;;) {
		char *slash = strchr(comp, '/');
		size_t clen = slash ? (size_t)(slash - comp) : strlen(comp);

		if (slash)
			*slash = '\0';
		if (clen == 0)
			return reject(x, LP_EUNSAFE, raw, "empty path component (\"//\")");
		if (strcmp(comp, "..") == 0)
			return reject(x, LP_EUNSAFE, raw, "path escapes the workspace (\"..\")");
		if (strcmp(comp, ".") == 0)
			return reject(x, LP_EUNSAFE, raw, "\".\" path component");
		if (clen > x->lim->max_name_bytes)
			return reject(x, LP_ETOOBIG, raw, "path component is longer than %zu bytes",
			              x->lim->max_name_bytes);
		if (++out->depth > x->lim->max_depth)
			return reject(x, LP_ETOOBIG, raw, "path is deeper than %zu levels",
			              x->lim->max_depth);
		if (slash == NULL)
			break;
		comp = slash + 1;
	}

	/* macOS metadata: never content, dropped with a note. */
	{
		const char *last = strrchr(out->norm, '/');

		last = last ? last + 1 : out->norm;
		if (strncmp(out->norm, "__MACOSX", 8) == 0 &&
		    (out->norm[8] == '\0' || out->norm[8] == '/'))
			out->kind = KIND_DROP;
		else if (strcmp(last, ".DS_Store") == 0)
			out->kind = KIND_DROP;
		else
			out->kind = KIND_KEEP;
	}
	return LP_OK;
}

/* Only regular files and directories: links, devices, fifos, sockets, sparse files are refused. */
static int check_type(struct extract *x, struct archive_entry *e, const char *raw,
                      struct entry_name *name)
{
	mode_t type = archive_entry_filetype(e);

	if (archive_entry_hardlink(e) != NULL)
		return reject(x, LP_EUNSAFE, raw, "hard links are not allowed");
	if (type == AE_IFLNK || archive_entry_symlink(e) != NULL)
		return reject(x, LP_EUNSAFE, raw, "symbolic links are not allowed");
	if (type == AE_IFCHR || type == AE_IFBLK)
		return reject(x, LP_EUNSAFE, raw, "device nodes are not allowed");
	if (type == AE_IFIFO)
		return reject(x, LP_EUNSAFE, raw, "FIFOs are not allowed");
	if (type == AE_IFSOCK)
		return reject(x, LP_EUNSAFE, raw, "sockets are not allowed");
	if (type == AE_IFDIR) {
		name->is_dir = true;
		return LP_OK;
	}
	if (type != AE_IFREG)
		return reject(x, LP_EUNSAFE, raw, "unsupported entry type (0%o)", (unsigned)type);
	if (name->is_dir)
		return reject(x, LP_EUNSAFE, raw, "regular file with a directory name");
	if (archive_entry_sparse_count(e) > 0)
		return reject(x, LP_EUNSAFE, raw, "sparse files are not allowed");
	if (name->kind == KIND_ROOT)
		return reject(x, LP_EUNSAFE, raw, "a file cannot be named \".\"");
	return LP_OK;
}

/* Read the next header and check it; LP_OK with *eof set at the end of the archive. */
static int next_entry(struct extract *x, struct archive *a, struct archive_entry **e,
                      struct entry_name *name, bool *eof)
{
	const char *raw;
	int r, hr;

	*eof = false;
	r = hr = archive_read_next_header(a, e);
	if (r == ARCHIVE_EOF) {
		*eof = true;
		return LP_OK;
	}
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
		if (x->st.entries == 0)
			return lp_error_set(x->err, LP_EINVAL, "not a zip or tar(.gz) archive: %s",
			                    archive_error_string(a) ? archive_error_string(a)
			                                            : "unreadable");
		return lp_error_set(x->err, LP_EINVAL,
		                    "archive is corrupt or truncated after %zu entries: %s",
		                    x->st.entries, archive_error_string(a));
	}
	if (++x->st.entries > x->lim->max_entries)
		return lp_error_set(x->err, LP_ETOOBIG, "archive has more than %zu entries",
		                    x->lim->max_entries);
	raw = archive_entry_pathname(*e);
	/* A name libarchive could not convert (zip flagged UTF-8, bytes are not) has no text. */
	if (raw == NULL && hr == ARCHIVE_WARN)
		return reject(x, LP_EUNSAFE, raw, "name is not valid UTF-8 (%s)",
		              archive_error_string(a) ? archive_error_string(a) : "unconvertible");
	r = check_path(x, name, raw);
	if (r != LP_OK)
		return r;
	if (hr == ARCHIVE_WARN && archive_error_string(a) &&
	    strstr(archive_error_string(a), "athname") != NULL)
		return reject(x, LP_EUNSAFE, raw, "name is not valid UTF-8 (%s)",
		              archive_error_string(a));
	if (hr == ARCHIVE_WARN)
		return reject(x, LP_EINVAL, raw, "damaged header: %s", archive_error_string(a));
	return check_type(x, *e, raw, name);
}

static int open_reader(struct archive **out, struct extract *x)
{
	struct archive *a;

	*out = NULL;
	if (lseek(x->archive_fd, 0, SEEK_SET) != 0)
		return lp_error_set(x->err, LP_EIO, "seek archive: %s", strerror(errno));
	a = archive_read_new();
	if (a == NULL)
		return lp_error_set(x->err, LP_ENOMEM, "archive_read_new failed");
	/* Only the formats users upload: no cpio, 7z, rar, iso... and no "raw" fallback. */
	archive_read_support_format_zip(a);
	archive_read_support_format_tar(a);
	archive_read_support_filter_gzip(a);
	if (archive_read_open_fd(a, x->archive_fd, LP_ARCHIVE_BLOCK) != ARCHIVE_OK) {
		lp_error_set(x->err, LP_EINVAL, "not a zip or tar(.gz) archive: %s",
		             archive_error_string(a) ? archive_error_string(a) : "unreadable");
		archive_read_free(a);
		return LP_EINVAL;
	}
	*out = a;
	return LP_OK;
}

static int keep(struct extract *x, const char *path, bool is_dir)
{
	if (x->nkept == x->kept_cap) {
		size_t ncap = x->kept_cap ? x->kept_cap * 2 : 256;
		struct kept *n = realloc(x->kept, ncap * sizeof(*n));

		if (n == NULL)
			return lp_error_set(x->err, LP_ENOMEM, "out of memory");
		x->kept = n;
		x->kept_cap = ncap;
	}
	x->kept[x->nkept++] = (struct kept){path, is_dir};
	return LP_OK;
}

/* Byte order with '/' first, so every "d/..." sorts right after "d" (before "d-x", "d.x"). */
static int kept_cmp(const void *pa, const void *pb)
{
	const unsigned char *a = (const unsigned char *)((const struct kept *)pa)->path;
	const unsigned char *b = (const unsigned char *)((const struct kept *)pb)->path;

	for (; *a && *a == *b; a++, b++)
		;
	if (*a == *b)
		return 0;
	if (*a == '/' || *b == '/')
		return *a == '/' ? (*b ? -1 : 1) : (*a ? 1 : -1);
	return *a < *b ? -1 : 1;
}

/*
 * A file that another entry needs as a folder ("d" and "d/x.txt"): in the order above such a
 * path follows its file at once, so one sort and one pass find every case.
 */
static int check_conflicts(struct extract *x)
{
	size_t i, n;

	qsort(x->kept, x->nkept, sizeof(*x->kept), kept_cmp);
	for (i = 0; i + 1 < x->nkept; i++) {
		const struct kept *f = &x->kept[i], *next = &x->kept[i + 1];

		if (f->is_dir)
			continue;
		n = strlen(f->path);
		if (strncmp(next->path, f->path, n) == 0 && next->path[n] == '/')
			return reject(
			    x, LP_EUNSAFE, f->path,
			    "path conflicts with another entry (\"%.*s\" needs it to be a "
			    "folder)",
			    LP_ARCHIVE_SHOWN_MAX, next->path);
	}
	return LP_OK;
}

/*
 * A zip's central directory (and a tar header) states each file's size: an archive that announces
 * more than the cap is refused before a byte is inflated. Pass 2 still counts what is really
 * written, since an announcement can lie.
 */
static int add_declared(struct extract *x, struct archive_entry *e)
{
	uint64_t size;

	if (!archive_entry_size_is_set(e) || archive_entry_size(e) <= 0)
		return LP_OK;
	size = (uint64_t)archive_entry_size(e);
	if (size > x->lim->max_total_bytes - x->declared_bytes)
		return reject(x, LP_ETOOBIG, archive_entry_pathname(e),
		              "the headers announce more than the limit of %" PRIu64
		              " bytes unpacked",
		              x->lim->max_total_bytes);
	x->declared_bytes += size;
	return LP_OK;
}

/* Pass 1: headers only. Every path/type rule, duplicates, counts and the lone top folder. */
static int scan(struct extract *x)
{
	struct archive *a = NULL;
	struct archive_entry *e;
	struct entry_name name;
	const char *stored = NULL;
	bool eof;
	int rc;

	rc = open_reader(&a, x);
	if (rc != LP_OK)
		return rc;
	for (;;) {
		size_t flen;
		const char *slash;

		rc = next_entry(x, a, &e, &name, &eof);
		if (rc != LP_OK || eof)
			break;
		if (name.kind != KIND_KEEP)
			continue;
		rc = pathset_add(&x->seen, name.norm, &stored);
		if (rc < 0) {
			lp_error_set(x->err, rc, "out of memory");
			break;
		}
		if (rc == 0) {
			rc = reject(x, LP_EUNSAFE, archive_entry_pathname(e),
			            "duplicate entry (the same path appears twice)");
			break;
		}
		rc = keep(x, stored, name.is_dir);
		if (rc != LP_OK)
			break;
		if (!name.is_dir)
			x->files_seen++;
		rc = add_declared(x, e);
		if (rc != LP_OK)
			break;
		slash = strchr(name.norm, '/');
		flen = slash ? (size_t)(slash - name.norm) : strlen(name.norm);
		if (!x->top_set) {
			memcpy(x->top, name.norm, flen);
			x->top[flen] = '\0';
			x->top_set = true;
			x->top_strippable = true;
		} else if (strlen(x->top) != flen || memcmp(x->top, name.norm, flen) != 0) {
			x->top_strippable = false;
		}
		if (slash == NULL && !name.is_dir)
			x->top_strippable = false; /* a top-level file: nothing to strip */
	}
	if (rc == LP_OK && x->files_seen == 0)
		rc = lp_error_set(x->err, LP_EINVAL, "archive contains no files");
	if (rc == LP_OK)
		rc = check_conflicts(x);
	x->strip = rc == LP_OK && x->top_set && x->top_strippable;
	archive_read_free(a);
	return rc;
}

static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

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

/*
 * Open (creating as needed) the directory `rel` under the destination, one level at a time with
 * O_NOFOLLOW|O_DIRECTORY so a symlink can never be traversed. The fd is the destination's or the
 * one-entry cache's (x->cache_fd): never closed by the caller.
 */
static int open_dir(struct extract *x, int *out, const char *rel, const char *raw)
{
	char tmp[LP_ARCHIVE_PATH_CEILING + 1];
	char *comp, *slash;
	int fd = x->dest_fd, rc = LP_OK;

	*out = -1;
	if (*rel == '\0') {
		*out = x->dest_fd;
		return LP_OK;
	}
	if (x->cache_fd >= 0 && strcmp(x->cache_path, rel) == 0) {
		*out = x->cache_fd;
		return LP_OK;
	}
	snprintf(tmp, sizeof(tmp), "%s", rel);
	for (comp = tmp; comp != NULL; comp = slash ? slash + 1 : NULL) {
		int next;

		slash = strchr(comp, '/');
		if (slash)
			*slash = '\0';
		if (mkdirat(fd, comp, 0755) == 0)
			x->st.dirs++;
		else if (errno != EEXIST) {
			rc = reject(x, LP_EIO, raw, "create directory \"%s\": %s", comp,
			            strerror(errno));
			break;
		}
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			if (errno == ENOTDIR || errno == ELOOP)
				rc = reject(
				    x, LP_EUNSAFE, raw,
				    "path conflicts with a file of an earlier entry (\"%s\")",
				    comp);
			else
				rc = reject(x, LP_EIO, raw, "open directory \"%s\": %s", comp,
				            strerror(errno));
			break;
		}
		/* The umask may have narrowed mkdirat's mode; nginx needs 0755 exactly. */
		if (fchmod(next, 0755) != 0) {
			rc = reject(x, LP_EIO, raw, "chmod \"%s\": %s", comp, strerror(errno));
			close(next);
			break;
		}
		if (fd != x->dest_fd)
			close(fd);
		fd = next;
	}
	if (rc != LP_OK) {
		if (fd != x->dest_fd)
			close(fd);
		return rc;
	}
	if (x->cache_fd >= 0)
		close(x->cache_fd);
	x->cache_fd = fd;
	snprintf(x->cache_path, sizeof(x->cache_path), "%s", rel);
	*out = fd;
	return LP_OK;
}

/* Copy one regular file's data, counting what libarchive actually hands back. */
static int write_file(struct extract *x, struct archive *a, struct archive_entry *e,
                      const char *rel, const char *raw)
{
	char parent[LP_ARCHIVE_PATH_CEILING + 1];
	const char *last = strrchr(rel, '/');
	const void *buf;
	size_t size;
	la_int64_t off;
	uint64_t written = 0;
	bool size_set = archive_entry_size_is_set(e);
	uint64_t declared =
	    size_set && archive_entry_size(e) > 0 ? (uint64_t)archive_entry_size(e) : 0;
	int dfd, fd = -1, rc, r;

	if (last) {
		memcpy(parent, rel, (size_t)(last - rel));
		parent[last - rel] = '\0';
		last++;
	} else {
		parent[0] = '\0';
		last = rel;
	}
	rc = open_dir(x, &dfd, parent, raw);
	if (rc != LP_OK)
		return rc;
	fd = openat(dfd, last, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		if (errno == EEXIST)
			rc = reject(x, LP_EUNSAFE, raw, "path conflicts with an earlier entry");
		else
			rc = reject(x, LP_EIO, raw, "create: %s", strerror(errno));
		goto done;
	}
	if (fchmod(fd, 0644) != 0) {
		rc = reject(x, LP_EIO, raw, "chmod: %s", strerror(errno));
		goto done;
	}
	x->st.files++;
	for (;;) {
		r = archive_read_data_block(a, &buf, &size, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			rc = reject(x, LP_EINVAL, raw, "archive data is corrupt or truncated: %s",
			            archive_error_string(a) ? archive_error_string(a)
			                                    : "read error");
			goto done;
		}
		if (off < 0 || (uint64_t)off != written) {
			rc = reject(x, LP_EINVAL, raw, "data block out of order (offset %jd)",
			            (intmax_t)off);
			goto done;
		}
		if (size_set && size > declared - written) {
			rc = reject(x, LP_EUNSAFE, raw,
			            "holds more data than its header declares (%" PRIu64 " bytes)",
			            declared);
			goto done;
		}
		if (size > x->lim->max_total_bytes - x->st.bytes) {
			rc = reject(x, LP_ETOOBIG, raw,
			            "extracted data exceeds the limit of %" PRIu64 " bytes",
			            x->lim->max_total_bytes);
			goto done;
		}
		if (write_all(fd, buf, size) != 0) {
			rc = reject(x, LP_EIO, raw, "write: %s", strerror(errno));
			goto done;
		}
		written += size;
		x->st.bytes += size;
	}
	if (size_set && written != declared)
		rc = reject(x, LP_EINVAL, raw,
		            "holds less data than its header declares (%" PRIu64 " of %" PRIu64
		            " bytes)",
		            written, declared);
done:
	if (fd >= 0 && close(fd) != 0 && rc == LP_OK)
		rc = reject(x, LP_EIO, raw, "close: %s", strerror(errno));
	return rc;
}

/* Pass 2: the same checks again (the file is re-read), then write. */
static int extract(struct extract *x)
{
	struct archive *a = NULL;
	struct archive_entry *e;
	struct entry_name name;
	size_t toplen = strlen(x->top);
	bool eof;
	int rc;

	x->st.entries = 0;
	if (x->strip) {
		snprintf(x->st.stripped, sizeof(x->st.stripped), "%s/", x->top);
		emit_note(x, "stripped the lone top-level folder \"%s/\"", x->top);
	}
	rc = open_reader(&a, x);
	if (rc != LP_OK)
		return rc;
	for (;;) {
		const char *raw, *rel;

		rc = next_entry(x, a, &e, &name, &eof);
		if (rc != LP_OK || eof)
			break;
		raw = archive_entry_pathname(e);
		if (name.kind == KIND_ROOT)
			continue;
		if (name.kind == KIND_DROP) {
			x->st.dropped++;
			if (x->st.dropped <= LP_ARCHIVE_NOTES_MAX)
				emit_note(x, "dropped \"%s\" (macOS metadata)", name.norm);
			else
				x->notes_suppressed++;
			continue;
		}
		rel = name.norm;
		if (x->strip) {
			if (strncmp(rel, x->top, toplen) != 0 ||
			    (rel[toplen] != '/' && rel[toplen] != '\0')) {
				rc = reject(x, LP_EINVAL, raw, "archive changed during extraction");
				break;
			}
			rel += toplen;
			if (*rel == '/')
				rel++;
			if (*rel == '\0')
				continue; /* the stripped folder itself */
		}
		if (name.is_dir) {
			int dfd;

			rc = open_dir(x, &dfd, rel, raw);
		} else {
			rc = write_file(x, a, e, rel, raw);
		}
		if (rc != LP_OK)
			break;
	}
	if (rc == LP_OK && x->st.files == 0)
		rc = lp_error_set(x->err, LP_EINVAL, "archive contains no files");
	if (rc == LP_OK && x->notes_suppressed > 0)
		emit_note(x, "dropped %zu more macOS metadata entries", x->notes_suppressed);
	archive_read_free(a);
	return rc;
}

/* The destination must start empty so a failure can restore it by removing everything in it. */
static int dest_is_empty(int dfd, bool *out)
{
	int fd = dup(dfd);
	DIR *d;
	struct dirent *de;

	*out = true;
	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			*out = false;
			break;
		}
	}
	closedir(d);
	return 0;
}

static void empty_dest(const char *dest)
{
	DIR *d = opendir(dest);
	struct dirent *de;
	char path[LP_ARCHIVE_PATH_CEILING * 2];
	lp_error e = {0};

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dest, de->d_name);
		/* Already failing: a leftover is reported, the extraction's own error stands. */
		if (lp_fs_remove_tree(path, &e) != LP_OK)
			LP_WARN("archive", "emptying %s: %s", dest, e.message);
	}
	closedir(d);
}

static int check_limits(const lp_archive_limits *l, lp_error *err)
{
	if (l->max_archive_bytes == 0 || l->max_total_bytes == 0 || l->max_entries == 0 ||
	    l->max_path_bytes == 0 || l->max_depth == 0 || l->max_name_bytes == 0)
		return lp_error_set(err, LP_EINVAL, "archive limits must all be positive");
	if (l->max_path_bytes > LP_ARCHIVE_PATH_CEILING)
		return lp_error_set(err, LP_EINVAL, "max_path_bytes is above %d",
		                    LP_ARCHIVE_PATH_CEILING);
	if (l->max_name_bytes > LP_ARCHIVE_NAME_CEILING)
		return lp_error_set(err, LP_EINVAL, "max_name_bytes is above %d",
		                    LP_ARCHIVE_NAME_CEILING);
	return LP_OK;
}

/* Set up x for archive_path: limits checked, the file opened, a regular file within the cap. */
static int extract_open(struct extract *x, const char *archive_path,
                        const lp_archive_limits *limits, lp_error *err)
{
	struct stat st;
	int rc;

	memset(x, 0, sizeof(*x));
	x->err = err;
	x->dest_fd = -1;
	x->cache_fd = -1;
	x->archive_fd = -1;
	if (archive_path == NULL)
		return lp_error_set(err, LP_EINVAL, "archive path is required");
	rc = check_limits(limits, err);
	if (rc != LP_OK)
		return rc;
	x->lim = limits;
	x->archive_fd = open(archive_path, O_RDONLY | O_CLOEXEC);
	if (x->archive_fd < 0)
		return lp_error_set(err, errno == ENOENT ? LP_ENOTFOUND : LP_EIO, "open %s: %s",
		                    archive_path, strerror(errno));
	if (fstat(x->archive_fd, &st) != 0 || !S_ISREG(st.st_mode))
		return lp_error_set(err, LP_EINVAL, "%s is not a regular file", archive_path);
	if ((uint64_t)st.st_size > x->lim->max_archive_bytes)
		return lp_error_set(err, LP_ETOOBIG,
		                    "archive is %jd bytes, above the upload limit of %" PRIu64
		                    " bytes",
		                    (intmax_t)st.st_size, x->lim->max_archive_bytes);
	return LP_OK;
}

static void extract_close(struct extract *x)
{
	if (x->cache_fd >= 0)
		close(x->cache_fd);
	if (x->dest_fd >= 0)
		close(x->dest_fd);
	if (x->archive_fd >= 0)
		close(x->archive_fd);
	pathset_release(&x->seen);
	free(x->kept);
}

/*
 * Names are UTF-8 on the wire; libarchive converts them to the locale's charset. Switch this
 * thread alone to C.UTF-8 so UTF-8 names survive in a process left in the "C" locale.
 */
struct utf8_scope {
	locale_t utf8;
	locale_t saved;
};

static void utf8_enter(struct utf8_scope *s)
{
	s->saved = (locale_t)0;
	s->utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	if (s->utf8 != (locale_t)0)
		s->saved = uselocale(s->utf8);
}

static void utf8_leave(struct utf8_scope *s)
{
	if (s->saved != (locale_t)0)
		uselocale(s->saved);
	if (s->utf8 != (locale_t)0)
		freelocale(s->utf8);
}

int lp_archive_check(lp_archive_stats *out, const char *archive_path,
                     const lp_archive_limits *limits, lp_error *err)
{
	lp_archive_limits defaults;
	struct extract x;
	struct utf8_scope loc;
	int rc;

	if (out)
		memset(out, 0, sizeof(*out));
	lp_archive_limits_default(&defaults);
	rc = extract_open(&x, archive_path, limits ? limits : &defaults, err);
	if (rc != LP_OK)
		goto done;
	utf8_enter(&loc);
	rc = scan(&x);
	utf8_leave(&loc);
	if (rc == LP_OK && out) {
		*out = x.st;
		out->bytes = x.declared_bytes;
	}
done:
	extract_close(&x);
	return rc;
}

int lp_archive_extract(lp_archive_stats *out, const char *archive_path, const char *dest_dir,
                       const lp_archive_limits *limits, lp_archive_note_fn note, void *note_ctx,
                       lp_error *err)
{
	lp_archive_limits defaults;
	struct extract x;
	struct utf8_scope loc = {(locale_t)0, (locale_t)0};
	bool created = false, extracting = false, empty;
	lp_error cleanup = {0};
	int rc;

	if (out)
		memset(out, 0, sizeof(*out));
	lp_archive_limits_default(&defaults);
	rc = extract_open(&x, archive_path, limits ? limits : &defaults, err);
	if (rc != LP_OK)
		goto done;
	x.note = note;
	x.note_ctx = note_ctx;
	if (dest_dir == NULL) {
		rc = lp_error_set(err, LP_EINVAL, "destination is required");
		goto done;
	}
	if (lp_fs_exists(dest_dir)) {
		x.dest_fd = open(dest_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (x.dest_fd < 0 || dest_is_empty(x.dest_fd, &empty) != 0) {
			rc = lp_error_set(err, LP_EINVAL, "destination %s: %s", dest_dir,
			                  errno == ELOOP ? "is a symbolic link" : strerror(errno));
			goto done;
		}
		if (!empty) {
			rc = lp_error_set(err, LP_EINVAL, "destination %s is not empty", dest_dir);
			goto done;
		}
	}
	utf8_enter(&loc);
	rc = scan(&x);
	if (rc != LP_OK)
		goto done;
	if (x.dest_fd < 0) {
		if (mkdir(dest_dir, 0755) != 0) {
			rc = lp_error_set(err, errno == ENOENT ? LP_ENOTFOUND : LP_EIO,
			                  "create %s: %s", dest_dir, strerror(errno));
			goto done;
		}
		created = true;
		x.dest_fd = open(dest_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (x.dest_fd < 0 || fchmod(x.dest_fd, 0755) != 0) {
			rc = lp_error_set(err, LP_EIO, "open %s: %s", dest_dir, strerror(errno));
			goto done;
		}
	}
	extracting = true;
	rc = extract(&x);
	if (rc == LP_OK && out)
		*out = x.st;
done:
	utf8_leave(&loc);
	extract_close(&x);
	if (rc != LP_OK && created) {
		/* Already failing: a leftover is reported, the extraction's own error stands. */
		if (lp_fs_remove_tree(dest_dir, &cleanup) != LP_OK)
			LP_WARN("archive", "removing %s: %s", dest_dir, cleanup.message);
	} else if (rc != LP_OK && extracting)
		empty_dest(dest_dir);
	return rc;
}
