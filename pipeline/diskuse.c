/* diskuse.c: du-like usage of a tree through directory descriptors, and least-recently-used trim.
 */
#include "pipeline/diskuse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launchpad/fs.h"

#define LINKS_START   1024 /* first size of the link table; it doubles up to LP_DISKUSE_LINKS_MAX */
#define VICTIMS_START 1024
#define STAT_BLOCK    512 /* st_blocks counts 512-byte units, whatever the filesystem's block */

/* Inodes with more than one link, seen once (open addressing; 0 marks a free slot). */
struct inoset {
	uint64_t *slot;
	size_t cap, used;
	int full; /* no more room: further links are counted per link */
};

/* A file a trim may remove: its path below the root, what it takes, when it was last used. */
struct victim {
	char *path;
	uint64_t bytes;
	int64_t used_at;
};

struct walk {
	dev_t dev;
	uint64_t stop_above;
	lp_diskuse use;
	struct inoset links;
	/* trim only (collect != 0) */
	int collect;
	int unnamed; /* files left out of victims: too many, or a path too long to name */
	struct victim *v;
	size_t nv, vcap;
	char path[LP_FS_PATH_MAX];
	size_t plen;
};

static size_t ino_hash(uint64_t ino, size_t cap)
{
	ino *= 0x9E3779B97F4A7C15ull; /* Fibonacci hashing spreads consecutive inode numbers */
	return (size_t)(ino >> 17) & (cap - 1);
}

static int inoset_grow(struct inoset *s)
{
	size_t ncap = s->cap ? s->cap * 2 : LINKS_START, i;
	uint64_t *ns;

	if (ncap > LP_DISKUSE_LINKS_MAX || (ns = calloc(ncap, sizeof(*ns))) == NULL)
		return -1;
	for (i = 0; i < s->cap; i++) {
		size_t k;

		if (s->slot[i] == 0)
			continue;
		for (k = ino_hash(s->slot[i], ncap); ns[k] != 0; k = (k + 1) & (ncap - 1))
			;
		ns[k] = s->slot[i];
	}
	free(s->slot);
	s->slot = ns;
	s->cap = ncap;
	return 0;
}

/* 1 when ino was seen already (its blocks are counted); otherwise remember it. */
static int inoset_seen(struct inoset *s, uint64_t ino)
{
	size_t k;

	if (ino == 0 || s->full)
		return 0;
	if ((s->used + 1) * 2 > s->cap && inoset_grow(s) != 0) {
		s->full = 1;
		return 0;
	}
	for (k = ino_hash(ino, s->cap); s->slot[k] != 0; k = (k + 1) & (s->cap - 1))
		if (s->slot[k] == ino)
			return 1;
	s->slot[k] = ino;
	s->used++;
	return 0;
}

static int64_t used_at(const struct stat *st)
{
	return st->st_atim.tv_sec > st->st_mtim.tv_sec ? (int64_t)st->st_atim.tv_sec
	                                               : (int64_t)st->st_mtim.tv_sec;
}

static void add_victim(struct walk *w, const char *name, const struct stat *st, uint64_t bytes)
{
	size_t nlen = strlen(name);
	struct victim *nv;
	char *p;

	if (w->nv == LP_DISKUSE_TRIM_FILES_MAX || w->plen + nlen + 2 > sizeof(w->path)) {
		w->unnamed = 1;
		return;
	}
	if (w->nv == w->vcap) {
		size_t ncap = w->vcap ? w->vcap * 2 : VICTIMS_START;

		if ((nv = realloc(w->v, ncap * sizeof(*nv))) == NULL) {
			w->unnamed = 1;
			return;
		}
		w->v = nv;
		w->vcap = ncap;
	}
	if ((p = malloc(w->plen + nlen + 2)) == NULL) {
		w->unnamed = 1;
		return;
	}
	memcpy(p, w->path, w->plen);
	if (w->plen > 0)
		p[w->plen] = '/';
	memcpy(p + w->plen + (w->plen > 0), name, nlen + 1);
	w->v[w->nv++] = (struct victim){p, bytes, used_at(st)};
}

static int walk_dir(struct walk *w, int dfd, int depth, lp_error *err);

/* One entry of the directory dfd; descends into directories. */
static int walk_entry(struct walk *w, int dfd, const char *name, int depth, lp_error *err)
{
	struct stat st;
	uint64_t bytes;
	int fd, rc;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT
		           ? LP_OK
		           : lp_error_set(err, LP_EIO, "stat %s: %s", name, strerror(errno));
	if (st.st_dev != w->dev)
		return LP_OK; /* another filesystem mounted inside: not this tree's disk */
	bytes = (uint64_t)st.st_blocks * STAT_BLOCK;
	w->use.entries++;
	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1 && inoset_seen(&w->links, st.st_ino))
		bytes = 0;
	w->use.bytes += bytes;
	if (w->stop_above > 0 && w->use.bytes > w->stop_above) {
		w->use.partial = 1;
		return LP_OK;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (w->collect)
			add_victim(w, name, &st, bytes);
		return LP_OK;
	}
	if (depth >= LP_DISKUSE_DEPTH_MAX)
		return lp_error_set(err, LP_ETOOBIG, "directories nest deeper than %d levels",
		                    LP_DISKUSE_DEPTH_MAX);
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR
		           ? LP_OK
		           : lp_error_set(err, LP_EIO, "open %s: %s", name, strerror(errno));
	if (w->collect) {
		size_t nlen = strlen(name), saved = w->plen;

		if (w->plen + nlen + 2 <= sizeof(w->path)) {
			if (w->plen > 0)
				w->path[w->plen++] = '/';
			memcpy(w->path + w->plen, name, nlen + 1);
			w->plen += nlen;
		} else {
			w->plen = sizeof(w->path); /* nothing below can be named */
		}
		rc = walk_dir(w, fd, depth + 1, err);
		w->plen = saved;
		w->path[saved] = '\0';
		return rc;
	}
	return walk_dir(w, fd, depth + 1, err);
}

/* Walk the directory open at fd (which this call closes). */
static int walk_dir(struct walk *w, int fd, int depth, lp_error *err)
{
	struct dirent *de;
	DIR *d = fdopendir(fd);
	int rc = LP_OK;

	if (d == NULL) {
		close(fd);
		return lp_error_set(err, LP_EIO, "opendir: %s", strerror(errno));
	}
	while (rc == LP_OK && !w->use.partial && (de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		rc = walk_entry(w, dirfd(d), de->d_name, depth, err);
	}
	closedir(d);
	return rc;
}

/* Walk root; a missing root is an empty tree. */
static int walk_root(struct walk *w, const char *root, lp_error *err)
{
	struct stat st;
	int fd, rc;

	fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT
		           ? LP_OK
		           : lp_error_set(err, LP_EIO, "open %s: %s", root, strerror(errno));
	if (fstat(fd, &st) != 0) {
		rc = lp_error_set(err, LP_EIO, "stat %s: %s", root, strerror(errno));
		close(fd);
		return rc;
	}
	w->dev = st.st_dev;
	w->use.bytes = (uint64_t)st.st_blocks * STAT_BLOCK;
	rc = walk_dir(w, fd, 0, err);
	return rc == LP_OK ? LP_OK : lp_error_wrap(err, "measuring %s", root);
}

static void walk_release(struct walk *w)
{
	size_t i;

	free(w->links.slot);
	for (i = 0; i < w->nv; i++)
		free(w->v[i].path);
	free(w->v);
}

int lp_diskuse_measure(lp_diskuse *out, const char *root, uint64_t stop_above, lp_error *err)
{
	struct walk *w = calloc(1, sizeof(*w));
	int rc;

	memset(out, 0, sizeof(*out));
	if (w == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	w->stop_above = stop_above;
	rc = walk_root(w, root, err);
	if (rc == LP_OK)
		*out = w->use;
	walk_release(w);
	free(w);
	return rc;
}

static int oldest_first(const void *a, const void *b)
{
	const struct victim *x = a, *y = b;

	return (x->used_at > y->used_at) - (x->used_at < y->used_at);
}

/* unlink root/rel without following a link on the way (the tree's owner could plant one). */
static int unlink_below(int rootfd, char *rel)
{
	char *slash = strrchr(rel, '/');
	int dfd = rootfd, rc;

	if (slash != NULL) {
		char *comp = rel, *next;

		*slash = '\0';
		dfd = dup(rootfd);
		for (; dfd >= 0 && comp != NULL; comp = next) {
			int nfd;

			next = strchr(comp, '/');
			if (next != NULL)
				*next++ = '\0';
			nfd = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			close(dfd);
			dfd = nfd;
		}
		if (dfd < 0)
			return -1;
	}
	rc = unlinkat(dfd, slash ? slash + 1 : rel, 0);
	if (dfd != rootfd)
		close(dfd);
	return rc == 0 || errno == ENOENT ? 0 : -1;
}

int lp_diskuse_trim_to(lp_diskuse_trim *out, const char *root, uint64_t target, lp_error *err)
{
	struct walk *w = calloc(1, sizeof(*w));
	uint64_t left;
	size_t i;
	int rc, rootfd = -1;

	memset(out, 0, sizeof(*out));
	if (w == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	w->collect = 1;
	rc = walk_root(w, root, err);
	if (rc != LP_OK && rc != LP_ETOOBIG)
		goto done;
	out->before = out->after = left = w->use.bytes;
	if (rc == LP_OK && left <= target)
		goto done;
	if (rc == LP_OK &&
	    (rootfd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		lp_diskuse now;

		qsort(w->v, w->nv, sizeof(*w->v), oldest_first);
		for (i = 0; i < w->nv && left > target; i++) {
			if (unlink_below(rootfd, w->v[i].path) != 0)
				continue;
			left -= w->v[i].bytes < left ? w->v[i].bytes : left;
			out->removed_files++;
		}
		close(rootfd);
		/* Counted again: a file with another link left frees nothing when one goes. */
		out->after = lp_diskuse_measure(&now, root, 0, NULL) == LP_OK ? now.bytes : left;
	}
	if (out->after > target || rc == LP_ETOOBIG) {
		/* Too deep, too many files or unnameable paths: a cache can always start over. */
		rc = lp_fs_remove_tree(root, err);
		if (rc == LP_OK) {
			out->removed_everything = 1;
			out->after = 0;
		}
	}
	rc = rc == LP_ETOOBIG ? LP_OK : rc;
done:
	walk_release(w);
	free(w);
	return rc;
}
