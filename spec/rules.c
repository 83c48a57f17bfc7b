/* rules.c: the value rules of a Site (names, URLs, refs, digests, paths), shared by all inputs. */
#include <string.h>

#include "launchpad/fmt.h"
#include "launchpad/names.h"
#include "launchpad/spec.h"
#include "spec/rules.h"

int lp_rule_name(const char *s, char *msg, size_t n)
{
	size_t len = strlen(s);

	if (len == 0) {
		lp_fmt_text(msg, n, "must not be empty");
		return 0;
	}
	if (len > LP_SITE_NAME_MAX) {
		lp_fmt_text(msg, n, "must be at most %d characters (got %zu)", LP_SITE_NAME_MAX,
		            len);
		return 0;
	}
	if (!lp_names_dns_label(s, LP_SITE_NAME_MAX)) {
		lp_fmt_text(msg, n,
		            "must be a DNS label: lowercase letters, digits and '-', starting and "
		            "ending with a letter or digit");
		return 0;
	}
	return 1;
}

static int has_ctl_or_space(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

int lp_rule_git_url(const char *s, int allow_insecure, char *msg, size_t n)
{
	const char *rest = NULL, *end;
	int insecure = 0;

	if (has_ctl_or_space(s)) {
		lp_fmt_text(msg, n, "must not contain spaces or control characters");
		return 0;
	}
	if (!strncmp(s, "https://", 8)) {
		rest = s + 8;
	} else if (!strncmp(s, "http://", 7)) {
		rest = s + 7;
		insecure = 1;
	} else if (!strncmp(s, "file://", 7)) {
		if (!allow_insecure) {
			lp_fmt_text(msg, n,
			            "file:// URLs are only allowed with --allow-insecure-sources");
			return 0;
		}
		if (s[7] != '/' || s[8] == '\0') {
			lp_fmt_text(msg, n,
			            "a file:// URL needs an absolute path (file:///path/repo)");
			return 0;
		}
		return 1;
	} else {
		lp_fmt_text(msg, n, "must be an https:// URL");
		return 0;
	}
	if (insecure && !allow_insecure) {
		lp_fmt_text(msg, n, "http:// URLs are only allowed with --allow-insecure-sources");
		return 0;
	}
	end = rest + strcspn(rest, "/?#");
	if (end == rest) {
		lp_fmt_text(msg, n, "must name a host");
		return 0;
	}
	if (memchr(rest, '@', (size_t)(end - rest)) != NULL) {
		lp_fmt_text(msg, n, "must not contain credentials (user@host)");
		return 0;
	}
	return 1;
}

/* The rules of `git check-ref-format --branch`, which also keep a branch from looking like a flag.
 */
int lp_rule_branch(const char *s, char *msg, size_t n)
{
	size_t len = strlen(s);
	const char *c;

	if (len == 0) {
		lp_fmt_text(msg, n, "must not be empty");
		return 0;
	}
	if (len > LP_SITE_BRANCH_MAX) {
		lp_fmt_text(msg, n, "must be at most %d characters (got %zu)", LP_SITE_BRANCH_MAX,
		            len);
		return 0;
	}
	for (c = s; *c; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f || strchr(" ~^:?*[\\", *c) != NULL) {
			lp_fmt_text(msg, n,
			            "must not contain spaces, control characters or any of "
			            "~^:?*[\\");
			return 0;
		}
	}
	if (s[0] == '-') {
		lp_fmt_text(msg, n, "must not start with '-'");
		return 0;
	}
	if (strstr(s, "..") || strstr(s, "@{") || strstr(s, "//") || strstr(s, "/.") ||
	    strstr(s, ".lock/") || !strcmp(s, "@") || s[0] == '/' || s[0] == '.' ||
	    s[len - 1] == '/' || s[len - 1] == '.' || (len >= 5 && !strcmp(s + len - 5, ".lock"))) {
		lp_fmt_text(msg, n, "is not a valid git branch name");
		return 0;
	}
	return 1;
}

int lp_rule_digest(const char *s, char *msg, size_t n)
{
	size_t i;

	if (strncmp(s, "sha256:", 7) != 0 || strlen(s) != 7 + 64)
		goto bad;
	for (i = 7; i < 7 + 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			goto bad;
	return 1;
bad:
	lp_fmt_text(msg, n, "must be \"sha256:\" followed by 64 lowercase hex digits");
	return 0;
}

int lp_rule_relpath(const char *s, int want_file, char *msg, size_t n)
{
	const char *p = s;
	size_t seg;

	if (*s == '\0') {
		lp_fmt_text(msg, n, "must not be empty");
		return 0;
	}
	for (; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\') {
			lp_fmt_text(msg, n, "must not contain control characters or '\\'");
			return 0;
		}
	}
	if (s[0] == '/') {
		lp_fmt_text(msg, n, "must be a relative path (no leading \"/\")");
		return 0;
	}
	for (p = s; *p; p += seg + (p[seg] == '/')) {
		seg = strcspn(p, "/");
		if (seg == 2 && p[0] == '.' && p[1] == '.') {
			lp_fmt_text(msg, n, "must not contain \"..\"");
			return 0;
		}
		if (p[seg] == '\0')
			break;
	}
	if (want_file && (s[strlen(s) - 1] == '/' || !strcmp(s, ".") ||
	                  (strlen(s) >= 2 && !strcmp(s + strlen(s) - 2, "/.")))) {
		lp_fmt_text(msg, n, "must name a file");
		return 0;
	}
	return 1;
}

int lp_rule_image(const char *s, char *msg, size_t n)
{
	const char *c;

	if (*s == '\0') {
		lp_fmt_text(msg, n, "must not be empty");
		return 0;
	}
	for (c = s; *c; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || strchr("._/:@-", *c) != NULL))
			break;
	}
	if (*c != '\0' || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9') ||
	                    (s[0] >= 'A' && s[0] <= 'Z'))) {
		lp_fmt_text(msg, n, "is not a valid image reference");
		return 0;
	}
	return 1;
}

int lp_rule_env_name(const char *s, size_t len, char *msg, size_t n)
{
	size_t i;

	if (len > LP_SITE_ENV_NAME_MAX) {
		lp_fmt_text(msg, n, "variable names must be at most %d characters",
		            LP_SITE_ENV_NAME_MAX);
		return 0;
	}
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
		      (i > 0 && c >= '0' && c <= '9')))
			break;
	}
	if (len == 0 || i < len) {
		lp_fmt_text(msg, n, "invalid variable name (must match [A-Za-z_][A-Za-z0-9_]*)");
		return 0;
	}
	return 1;
}

int lp_rule_utf8(const char *s, size_t len)
{
	size_t i = 0, k, extra;
	unsigned char c;
	unsigned long cp;

	while (i < len) {
		c = (unsigned char)s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			extra = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			extra = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			extra = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (i + extra >= len)
			return 0;
		for (k = 1; k <= extra; k++) {
			if (((unsigned char)s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | ((unsigned char)s[i + k] & 0x3F);
		}
		if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += extra + 1;
	}
	return 1;
}

int lp_spec_check_name(const char *name, lp_error *err)
{
	char msg[LP_SPEC_DIAG_MESSAGE_MAX];

	if (name == NULL)
		return lp_error_set(err, LP_EINVAL, "site name is required");
	if (!lp_rule_name(name, msg, sizeof(msg)))
		return lp_error_set(err, LP_EINVAL, "site name %s", msg);
	return LP_OK;
}

int lp_spec_check_digest(const char *digest, lp_error *err)
{
	char msg[LP_SPEC_DIAG_MESSAGE_MAX];

	if (digest == NULL || !lp_rule_digest(digest, msg, sizeof(msg)))
		return lp_error_set(err, LP_EINVAL,
		                    "archive digest must be \"sha256:\" followed "
		                    "by 64 lowercase hex digits");
	return LP_OK;
}
