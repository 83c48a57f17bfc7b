/*
 * buf.h: growable byte buffers that refuse to grow past a cap.
 *
 * An lp_buf owns its heap storage; the caller owns the lp_buf itself (usually on the stack) and
 * releases the storage with lp_buf_release(). Data is always NUL-terminated so text can be used as
 * a C string, but binary content is fine (use len). Appending past `max` fails with LP_ETOOBIG and
 * leaves the buffer unchanged: every peer-controlled input gets a bound.
 */
#ifndef LAUNCHPAD_BUF_H
#define LAUNCHPAD_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "launchpad/error.h"

typedef struct lp_buf {
	char *data; /* NULL until the first append; then NUL-terminated */
	size_t len; /* bytes used, excluding the terminating NUL */
	size_t cap; /* bytes allocated */
	size_t max; /* hard cap on len */
} lp_buf;

#define LP_BUF_DEFAULT_MAX ((size_t)16 << 20)

void lp_buf_init(lp_buf *b, size_t max);
int lp_buf_append(lp_buf *b, const void *data, size_t n) LP_MUST_CHECK;
int lp_buf_puts(lp_buf *b, const char *s) LP_MUST_CHECK;
int lp_buf_putc(lp_buf *b, char c) LP_MUST_CHECK;
/* Room for n more bytes, so the appends that follow do not reallocate (LP_ETOOBIG past max). */
int lp_buf_reserve(lp_buf *b, size_t n) LP_MUST_CHECK;
int lp_buf_printf(lp_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3))) LP_MUST_CHECK;
int lp_buf_vprintf(lp_buf *b, const char *fmt, va_list ap) LP_MUST_CHECK;
/* The contents as a C string; "" for an empty buffer (never NULL). */
const char *lp_buf_cstr(const lp_buf *b);
/* Empty the buffer, keeping its storage. */
void lp_buf_reset(lp_buf *b);
/* Hand the storage to the caller (free() it); the buffer becomes empty. Never NULL. */
char *lp_buf_detach(lp_buf *b);
void lp_buf_release(lp_buf *b);

#endif
