/* fmt.c: formatting into fixed buffers that fails instead of truncating. */
#include "launchpad/fmt.h"

#include <stdio.h>

#include "launchpad/error.h"

int lp_vfmt(char *out, size_t outlen, const char *fmt, va_list ap)
{
	int n;

	if (outlen == 0)
		return LP_ETOOBIG;
	n = vsnprintf(out, outlen, fmt, ap);
	if (n < 0 || (size_t)n >= outlen) {
		out[0] = '\0';
		return LP_ETOOBIG;
	}
	return LP_OK;
}

int lp_fmt(char *out, size_t outlen, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = lp_vfmt(out, outlen, fmt, ap);
	va_end(ap);
	return rc;
}
