/* archive_corpus.c: build hostile and broken archives at test time (libarchive + raw zip bytes). */
#include "tests/lib/archive_corpus.h"
#include "tests/lib/testutil.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define CORPUS_MAX_BYTES ((size_t)64 << 20) /* no generated archive is larger */

static const unsigned char zeros[65536];

uint32_t lp_corpus_crc32(uint32_t crc, const void *data, size_t len)
{
	static uint32_t table[256];
	static int ready;
	const unsigned char *p = data;
	size_t i;

	if (!ready) {
		uint32_t c, n, k;

		for (n = 0; n < 256; n++) {
			c = n;
			for (k = 0; k < 8; k++)
				c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[n] = c;
		}
		ready = 1;
	}
	crc = ~crc;
	for (i = 0; i < len; i++)
		crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static uint32_t crc32_zeros(uint32_t crc, size_t n)
{
	while (n > 0) {
		size_t k = n < sizeof(zeros) ? n : sizeof(zeros);

		crc = lp_corpus_crc32(crc, zeros, k);
		n -= k;
	}
	return crc;
}

/* ---- libarchive-written archives ---- */

static struct archive *open_writer(const char *path, lp_corpus_format fmt, int store)
{
	struct archive *a = archive_write_new();

	if (a == NULL)
		return NULL;
	if (fmt == LP_CORPUS_ZIP) {
		archive_write_set_format_zip(a);
		/* Stored entries keep a 100k-entry zip quick to write. */
		if (store)
			archive_write_set_options(a, "zip:compression=store");
	} else {
		archive_write_set_format_pax_restricted(a);
		if (fmt == LP_CORPUS_TARGZ)
			archive_write_add_filter_gzip(a);
	}
	if (archive_write_open_filename(a, path) != ARCHIVE_OK) {
		archive_write_free(a);
		return NULL;
	}
	return a;
}

static int write_one(struct archive *a, const lp_corpus_entry *ce)
{
	struct archive_entry *e = archive_entry_new();
	size_t size = ce->data ? strlen(ce->data) : ce->size;
	int rc = -1;

	if (e == NULL)
		return -1;
	archive_entry_set_pathname(e, ce->name);
	archive_entry_set_mtime(e, 1700000000, 0);
	switch (ce->type) {
	case 'd':
		archive_entry_set_filetype(e, AE_IFDIR);
		archive_entry_set_perm(e, 0755);
		size = 0;
		break;
	case 'l':
		archive_entry_set_filetype(e, AE_IFLNK);
		archive_entry_set_perm(e, 0777);
		archive_entry_set_symlink(e, ce->target);
		size = 0;
		break;
	case 'h':
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_hardlink(e, ce->target);
		size = 0;
		break;
	case 'c':
		archive_entry_set_filetype(e, AE_IFCHR);
		archive_entry_set_perm(e, 0666);
		archive_entry_set_rdev(e, makedev(1, 3));
		size = 0;
		break;
	case 'p':
		archive_entry_set_filetype(e, AE_IFIFO);
		archive_entry_set_perm(e, 0644);
		size = 0;
		break;
	default:
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		break;
	}
	archive_entry_set_size(e, (la_int64_t)size);
	if (archive_write_header(a, e) < ARCHIVE_WARN)
		goto done;
	if (ce->data) {
		if (size > 0 && archive_write_data(a, ce->data, size) != (la_ssize_t)size)
			goto done;
	} else {
		size_t left = size;

		while (left > 0) {
			size_t k = left < sizeof(zeros) ? left : sizeof(zeros);

			if (archive_write_data(a, zeros, k) != (la_ssize_t)k)
				goto done;
			left -= k;
		}
	}
	rc = 0;
done:
	archive_entry_free(e);
	return rc;
}

int lp_corpus_write(const char *path, lp_corpus_format fmt, const lp_corpus_entry *entries,
                    size_t n)
{
	struct archive *a = open_writer(path, fmt, 0);
	size_t i;
	int rc = 0;

	if (a == NULL)
		return -1;
	for (i = 0; i < n && rc == 0; i++)
		rc = write_one(a, &entries[i]);
	if (archive_write_close(a) != ARCHIVE_OK)
		rc = -1;
	archive_write_free(a);
	return rc;
}

int lp_corpus_many(const char *path, lp_corpus_format fmt, size_t n)
{
	struct archive *a = open_writer(path, fmt, 1);
	char name[32];
	size_t i;
	int rc = 0;

	if (a == NULL)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		lp_corpus_entry ce = {.name = name, .data = "x"};

		snprintf(name, sizeof(name), "f%06zu.txt", i);
		rc = write_one(a, &ce);
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		rc = -1;
	archive_write_free(a);
	return rc;
}

/* ---- hand-assembled zips ---- */

struct zbuf {
	unsigned char *p;
	size_t len;
	size_t cap;
	int failed;
};

static void zput(struct zbuf *b, const void *data, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n > CORPUS_MAX_BYTES) {
		b->failed = 1;
		return;
	}
	if (b->len + n > b->cap) {
		size_t ncap = b->cap ? b->cap : 4096;
		unsigned char *np;

		while (ncap < b->len + n)
			ncap *= 2;
		np = realloc(b->p, ncap);
		if (np == NULL) {
			b->failed = 1;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void z16(struct zbuf *b, unsigned v)
{
	unsigned char x[2] = {v & 0xff, (v >> 8) & 0xff};

	zput(b, x, 2);
}

static void z32(struct zbuf *b, uint32_t v)
{
	unsigned char x[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff};

	zput(b, x, 4);
}

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static unsigned rd16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

struct zhead {
	const char *name;
	size_t name_len;
	unsigned flags;
	unsigned method;
	uint32_t crc;
	uint32_t csize;
	uint32_t usize;
	uint32_t offset; /* of the local header */
};

static void local_header(struct zbuf *b, const struct zhead *h)
{
	z32(b, 0x04034b50);
	z16(b, 20);
	z16(b, h->flags);
	z16(b, h->method);
	z16(b, 0);      /* time */
	z16(b, 0x5821); /* date: 2024-01-01 */
	z32(b, h->crc);
	z32(b, h->csize);
	z32(b, h->usize);
	z16(b, (unsigned)h->name_len);
	z16(b, 0);
	zput(b, h->name, h->name_len);
}

static void central_directory(struct zbuf *b, const struct zhead *hs, size_t n)
{
	size_t start = b->len, i, size;

	for (i = 0; i < n; i++) {
		const struct zhead *h = &hs[i];
		int dir = h->name_len > 0 && h->name[h->name_len - 1] == '/';

		z32(b, 0x02014b50);
		z16(b, (3 << 8) | 20); /* made by Unix: external attributes hold the mode */
		z16(b, 20);
		z16(b, h->flags);
		z16(b, h->method);
		z16(b, 0);
		z16(b, 0x5821);
		z32(b, h->crc);
		z32(b, h->csize);
		z32(b, h->usize);
		z16(b, (unsigned)h->name_len);
		z16(b, 0);
		z16(b, 0);
		z16(b, 0);
		z16(b, 0);
		z32(b, dir ? (040755u << 16) | 0x10 : 0100644u << 16);
		z32(b, h->offset);
		zput(b, h->name, h->name_len);
	}
	size = b->len - start;
	z32(b, 0x06054b50);
	z16(b, 0);
	z16(b, 0);
	z16(b, (unsigned)n);
	z16(b, (unsigned)n);
	z32(b, (uint32_t)size);
	z32(b, (uint32_t)start);
	z16(b, 0);
}

static int save(const char *path, struct zbuf *b)
{
	FILE *f;
	int rc = -1;

	if (b->failed)
		goto done;
	f = fopen(path, "wb");
	if (f == NULL)
		goto done;
	if (fwrite(b->p, 1, b->len, f) == b->len)
		rc = 0;
	if (fclose(f) != 0)
		rc = -1;
done:
	free(b->p);
	b->p = NULL;
	return rc;
}

int lp_corpus_raw_zip(const char *path, const lp_corpus_raw *entries, size_t n)
{
	struct zbuf b = {0};
	struct zhead *hs = calloc(n ? n : 1, sizeof(*hs));
	size_t i;
	int rc;

	if (hs == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		const lp_corpus_raw *r = &entries[i];
		struct zhead *h = &hs[i];

		h->name = r->name;
		h->name_len = r->name_len ? r->name_len : strlen(r->name);
		h->flags = r->utf8_flag ? 0x800 : 0;
		h->method = 0;
		h->crc = lp_corpus_crc32(0, r->data, r->len);
		h->csize = (uint32_t)r->len;
		h->usize = r->declared >= 0 ? (uint32_t)r->declared : (uint32_t)r->len;
		h->offset = (uint32_t)b.len;
		local_header(&b, h);
		zput(&b, r->data, r->len);
	}
	central_directory(&b, hs, n);
	free(hs);
	rc = save(path, &b);
	return rc;
}

/* A raw deflate stream of n zeros, taken from a zip libarchive writes in memory. */
static int deflate_kernel(unsigned char **out, size_t *out_len, uint32_t *out_crc, size_t n)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	size_t cap = n / 64 + 65536, used = 0, left = n;
	unsigned char *mem = malloc(cap);
	const unsigned char *eocd = NULL, *cd, *lh;
	int rc = -1;

	*out = NULL;
	if (a == NULL || e == NULL || mem == NULL)
		goto done;
	archive_write_set_format_zip(a);
	archive_write_set_options(a, "zip:compression=deflate");
	if (archive_write_open_memory(a, mem, cap, &used) != ARCHIVE_OK)
		goto done;
	archive_entry_set_pathname(e, "k");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)n);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		goto done;
	while (left > 0) {
		size_t k = left < sizeof(zeros) ? left : sizeof(zeros);

		if (archive_write_data(a, zeros, k) != (la_ssize_t)k)
			goto done;
		left -= k;
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		goto done;
	for (size_t i = used >= 22 ? used - 22 + 1 : 0; i-- > 0;) {
		if (rd32(mem + i) == 0x06054b50) {
			eocd = mem + i;
			break;
		}
	}
	if (eocd == NULL)
		goto done;
	cd = mem + rd32(eocd + 16);
	if (rd32(cd) != 0x02014b50 || rd16(cd + 10) != 8 || rd32(cd + 20) == 0xffffffffu)
		goto done;
	lh = mem + rd32(cd + 42);
	*out_len = rd32(cd + 20);
	*out_crc = rd32(cd + 16);
	lh += 30 + rd16(lh + 26) + rd16(lh + 28);
	*out = malloc(*out_len);
	if (*out == NULL)
		goto done;
	memcpy(*out, lh, *out_len);
	rc = 0;
done:
	archive_entry_free(e);
	if (a)
		archive_write_free(a);
	free(mem);
	return rc;
}

int lp_corpus_zip_bomb(const char *path, size_t kernel_bytes, size_t copies)
{
	struct zbuf b = {0};
	struct zhead *hs = calloc(copies ? copies : 1, sizeof(*hs));
	char(*names)[16] = calloc(copies ? copies : 1, sizeof(*names));
	unsigned char *kernel = NULL, *lhs = NULL;
	size_t klen = 0, nlen = 7, L = 30 + nlen, i, j, kernel_off;
	uint32_t kcrc = 0;
	int rc = -1;

	if (hs == NULL || names == NULL || copies == 0 || copies > 999 ||
	    deflate_kernel(&kernel, &klen, &kcrc, kernel_bytes) != 0)
		goto done;
	/*
	 * Layout: LH1 q1 LH2 q2 ... LHn kernel, where q_i is a non-final stored deflate block
	 * quoting LH(i+1). Entry i's data starts at q_i, so it inflates to LH(i+1)..LHn plus the
	 * kernel. Headers are built from the last one back, since each CRC covers the later
	 * headers.
	 */
	kernel_off = (copies - 1) * (L + 5) + L;
	lhs = malloc(copies * L);
	if (lhs == NULL)
		goto done;
	for (i = copies; i-- > 0;) {
		struct zhead *h = &hs[i];
		struct zbuf one = {0};
		uint32_t crc = 0;

		LP_TEST_FMT(names[i], "bomb%03zu", i);
		h->name = names[i];
		h->name_len = nlen;
		h->method = 8;
		h->offset = (uint32_t)(i * (L + 5));
		h->csize = (uint32_t)(kernel_off + klen - (h->offset + L));
		h->usize = (uint32_t)((copies - 1 - i) * L + kernel_bytes);
		for (j = i + 1; j < copies; j++)
			crc = lp_corpus_crc32(crc, lhs + j * L, L);
		h->crc = crc32_zeros(crc, kernel_bytes);
		local_header(&one, h);
		if (one.failed || one.len != L) {
			free(one.p);
			goto done;
		}
		memcpy(lhs + i * L, one.p, L);
		free(one.p);
	}
	for (i = 0; i < copies; i++) {
		zput(&b, lhs + i * L, L);
		if (i + 1 < copies) {
			unsigned char q[5] = {0x00, L & 0xff, (L >> 8) & 0xff, ~L & 0xff,
			                      (~L >> 8) & 0xff};

			zput(&b, q, sizeof(q));
		}
	}
	zput(&b, kernel, klen);
	central_directory(&b, hs, copies);
	rc = save(path, &b);
done:
	free(b.p);
	free(lhs);
	free(kernel);
	free(names);
	free(hs);
	return rc;
}

int lp_corpus_zip_lying_size(const char *path, size_t real_bytes, uint32_t declared)
{
	struct zbuf b = {0};
	struct zhead h = {.name = "liar.bin", .name_len = 8, .method = 8};
	unsigned char *kernel = NULL;
	size_t klen = 0;
	uint32_t kcrc = 0;
	int rc = -1;

	if (deflate_kernel(&kernel, &klen, &kcrc, real_bytes) != 0)
		goto done;
	h.crc = kcrc;
	h.csize = (uint32_t)klen;
	h.usize = declared;
	local_header(&b, &h);
	zput(&b, kernel, klen);
	central_directory(&b, &h, 1);
	rc = save(path, &b);
done:
	free(b.p);
	free(kernel);
	return rc;
}

int lp_corpus_truncate(const char *path, size_t keep)
{
	return truncate(path, (off_t)keep) == 0 ? 0 : -1;
}

int lp_corpus_corrupt_middle(const char *path, size_t n, unsigned seed)
{
	struct stat st;
	unsigned char buf[4096];
	size_t i;
	int fd, rc = -1;

	if (n > sizeof(buf))
		return -1;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || (size_t)st.st_size < n * 2)
		goto done;
	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (unsigned char)(seed >> 16);
	}
	if (pwrite(fd, buf, n, (off_t)((size_t)st.st_size / 2 - n / 2)) == (ssize_t)n)
		rc = 0;
done:
	close(fd);
	return rc;
}
