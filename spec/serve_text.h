/*
 * serve_text.h: internal to spec/: what the `_redirects` and `_headers` parsers share: line
 * splitting, warnings, and the URL whitelist (include/launchpad/serve_rules.h states it).
 * Nothing here keeps state; strings handed back through **out are malloc'd for the caller.
 */
#ifndef LAUNCHPAD_SPEC_SERVE_TEXT_H
#define LAUNCHPAD_SPEC_SERVE_TEXT_H

#include <stddef.h>

#include "launchpad/serve_rules.h"

struct lp_rules_lines {
	const char *p;
	const char *end;
	int line; /* of the line handed out last */
};

void lp_rules_lines_init(struct lp_rules_lines *it, const char *text, size_t len);
/* The next line without its "\n" or "\r\n"; 0 at the end. */
int lp_rules_next_line(struct lp_rules_lines *it, const char **out, size_t *out_len);

void lp_rules_warnf(lp_rules_warn_fn fn, void *ctx, const char *source, int line, const char *fmt,
                    ...) __attribute__((format(printf, 5, 6)));

/* Index of the first control byte (< 0x20 but tab, or 0x7f) in s[0..len), or -1. */
long lp_rules_control_at(const char *s, size_t len);

/*
 * s[0..len) as whitelisted URL text: unreserved, sub-delims but '$', ":@/?#[]=&" and "%HH" kept;
 * '$', '"', '\', '{', '}', '`', '<', '>', '^', '|' and bytes >= 0x80 percent-encoded. A '%' not
 * followed by two hex digits, a space or a control byte: LP_EINVAL with the reason in why.
 */
int lp_rules_url_text(char **out, const char *s, size_t len, char *why,
                      size_t whylen) LP_MUST_CHECK;

#endif
