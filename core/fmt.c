/* fmt.c: formatting into fixed buffers: names and paths fail instead of truncating, text is cut. */
#include "launchpad/fmt.h"

#include <stdio.h>
#include <string.h>

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

void lp_vfmt_text(char *out, size_t outlen, const char *fmt, va_list ap)
{
	size_t cut;
	int n;

	if (outlen == 0)
		return;
	n = vsnprintf(out, outlen, fmt, ap);
	if (n < 0) {
		out[0] = '\0';
		return;
	}
	if ((size_t)n < outlen || outlen < sizeof(LP_FMT_CUT))
		return;
	cut = outlen - sizeof(LP_FMT_CUT);
	/* Back up to the first byte of the sequence the mark would land in. */
	while (cut > 0 && ((unsigned char)out[cut] & 0xC0) == 0x80)
		cut--;
	memcpy(out + cut, LP_FMT_CUT, sizeof(LP_FMT_CUT));
}

void lp_fmt_text(char *out, size_t outlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lp_vfmt_text(out, outlen, fmt, ap);
	va_end(ap);
}
