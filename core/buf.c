/* buf.c: capped growable buffers. */
#include "launchpad/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launchpad/error.h"

/* The first allocation: most buffers hold a short line or a small JSON body. */
#define BUF_MIN_CAP 64

void lp_buf_init(lp_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

/* Make room for n more bytes plus the NUL, doubling, never beyond max + 1. */
static int reserve(lp_buf *b, size_t n)
{
	size_t need, ncap;
	char *p;

	if (n > b->max || b->len > b->max - n)
		return LP_ETOOBIG;
	need = b->len + n + 1;
	if (need <= b->cap)
		return LP_OK;
	ncap = b->cap ? b->cap : BUF_MIN_CAP;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	p = realloc(b->data, ncap);
	if (p == NULL)
		return LP_ENOMEM;
	b->data = p;
	b->cap = ncap;
	return LP_OK;
}

int lp_buf_reserve(lp_buf *b, size_t n)
{
	int rc = reserve(b, n);

	if (rc == LP_OK)
		b->data[b->len] = '\0';
	return rc;
}

int lp_buf_append(lp_buf *b, const void *data, size_t n)
{
	int rc = reserve(b, n);

	if (rc != LP_OK)
		return rc;
	if (n > 0)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return LP_OK;
}

int lp_buf_puts(lp_buf *b, const char *s)
{
	return lp_buf_append(b, s, strlen(s));
}

int lp_buf_putc(lp_buf *b, char c)
{
	return lp_buf_append(b, &c, 1);
}

int lp_buf_vprintf(lp_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n, rc;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return LP_EINVAL;
	rc = reserve(b, (size_t)n);
	if (rc != LP_OK)
		return rc;
	/* Sized by the measuring call above: this one cannot cut. */
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return LP_OK;
}

int lp_buf_printf(lp_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = lp_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

const char *lp_buf_cstr(const lp_buf *b)
{
	return b->data ? b->data : "";
}

void lp_buf_reset(lp_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *lp_buf_detach(lp_buf *b)
{
	char *p = b->data ? b->data : strdup("");

	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

void lp_buf_release(lp_buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}
