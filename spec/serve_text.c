/* serve_text.c: lines, warnings and the URL whitelist shared by the serve rule parsers. */
#include "spec/serve_text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launchpad/buf.h"
#include "launchpad/fmt.h"

void lp_rules_lines_init(struct lp_rules_lines *it, const char *text, size_t len)
{
	it->p = text;
	it->end = text + len;
	it->line = 0;
}

int lp_rules_next_line(struct lp_rules_lines *it, const char **out, size_t *out_len)
{
	const char *nl;
	size_t n;

	if (it->p >= it->end)
		return 0;
	nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
	n = nl ? (size_t)(nl - it->p) : (size_t)(it->end - it->p);
	*out = it->p;
	/* Files written on Windows end their lines with CRLF: the CR is not part of the rule. */
	*out_len = n > 0 && it->p[n - 1] == '\r' ? n - 1 : n;
	it->p += nl ? n + 1 : n;
	it->line++;
	return 1;
}

void lp_rules_warnf(lp_rules_warn_fn fn, void *ctx, const char *source, int line, const char *fmt,
                    ...)
{
	char msg[LP_RULES_WARNING_MAX];
	va_list ap;

	if (fn == NULL)
		return;
	va_start(ap, fmt);
	lp_vfmt_text(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fn(ctx, source, line, msg);
}

long lp_rules_control_at(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return (long)i;
	}
	return -1;
}

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Characters that stand for themselves in a URL and in a quoted nginx string alike. */
static int url_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("-._~!&'()*+,;=:@/?#[]", c) != NULL);
}

int lp_rules_url_text(char **out, const char *s, size_t len, char *why, size_t whylen)
{
	static const char hex[] = "0123456789ABCDEF";
	lp_buf b;
	size_t i;
	int rc = LP_OK;

	*out = NULL;
	lp_buf_init(&b, LP_RULES_LINE_MAX * 3 + 1);
	for (i = 0; rc == LP_OK && i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c == 0x7f) {
			lp_fmt_text(why, whylen, "a space or control character (byte %zu)", i + 1);
			rc = LP_EINVAL;
		} else if (c == '%') {
			if (i + 2 < len && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
				rc = lp_buf_append(&b, s + i, 3);
				i += 2;
			} else {
				lp_fmt_text(why, whylen,
				            "'%%' not followed by two hex digits (byte %zu)",
				            i + 1);
				rc = LP_EINVAL;
			}
		} else if (url_plain(c)) {
			rc = lp_buf_putc(&b, (char)c);
		} else {
			char enc[3] = {'%', hex[c >> 4], hex[c & 15]};
			rc = lp_buf_append(&b, enc, 3);
		}
	}
	if (rc == LP_ETOOBIG)
		lp_fmt_text(why, whylen, "too long");
	if (rc == LP_OK)
		*out = lp_buf_detach(&b);
	lp_buf_release(&b);
	return rc;
}
