/*
 * archive_corpus.h: generators of hostile and broken archives for the extraction tests.
 *
 * Archives are produced at run time: well-formed ones with libarchive's writer, the ones the writer
 * refuses to produce (lying sizes, overlapping entries, raw name bytes) by assembling zip bytes by
 * hand. Every function writes one file at `path` (caller-owned) and returns 0, or -1 on failure.
 */
#ifndef LAUNCHPAD_ARCHIVE_CORPUS_H
#define LAUNCHPAD_ARCHIVE_CORPUS_H

#include <stddef.h>
#include <stdint.h>

typedef enum lp_corpus_format { LP_CORPUS_ZIP, LP_CORPUS_TAR, LP_CORPUS_TARGZ } lp_corpus_format;

typedef struct lp_corpus_entry {
	const char *name;
	char type;          /* 'f' file (also 0), 'd' dir, 'l' symlink, 'h' hardlink, 'c' char
	                       device, 'p' fifo */
	const char *data;   /* file content; NULL = `size` zero bytes */
	size_t size;        /* content length when data is NULL (else strlen(data)) */
	const char *target; /* link target ('l', 'h') */
} lp_corpus_entry;

/* A well-formed archive written with libarchive (zip entries deflated). */
int lp_corpus_write(const char *path, lp_corpus_format fmt, const lp_corpus_entry *entries,
                    size_t n);

/* n one-byte files named f000000.txt... (flat), written with libarchive. */
int lp_corpus_many(const char *path, lp_corpus_format fmt, size_t n);

typedef struct lp_corpus_raw {
	const char *name; /* raw bytes, written as is */
	size_t name_len;  /* 0 = strlen(name) */
	const void *data;
	size_t len;
	int64_t declared; /* uncompressed size written in both headers; -1 = the real one */
	int utf8_flag;    /* set general-purpose bit 11 (names are UTF-8) */
} lp_corpus_raw;

/* A hand-assembled zip of stored (uncompressed) entries, so headers can lie. */
int lp_corpus_raw_zip(const char *path, const lp_corpus_raw *entries, size_t n);

/*
 * A non-recursive zip bomb in the style of David Fifield (quoted overlap): `copies` entries whose
 * data all end in one shared deflate kernel of `kernel_bytes` zeros; each entry's headers state its
 * true sizes, so only counting the bytes actually produced stops it.
 */
int lp_corpus_zip_bomb(const char *path, size_t kernel_bytes, size_t copies);

/* One deflated entry of real_bytes zeros whose headers declare `declared` bytes. */
int lp_corpus_zip_lying_size(const char *path, size_t real_bytes, uint32_t declared);

/* Cut a file to `keep` bytes. */
int lp_corpus_truncate(const char *path, size_t keep);

/* Overwrite n bytes at the middle of the file with pseudo-random bytes from seed. */
int lp_corpus_corrupt_middle(const char *path, size_t n, unsigned seed);

/* CRC-32 (zip polynomial), continuing from crc (start with 0). */
uint32_t lp_corpus_crc32(uint32_t crc, const void *data, size_t len);

#endif
