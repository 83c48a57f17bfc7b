/* rules.c: the value rules of a Site (names, URLs, refs, digests, paths), shared by all inputs. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "launchpad/fmt.h"
#include "launchpad/names.h"
#include "launchpad/spec.h"
#include "spec/rules.h"

/*
 * The whitelists: what each field may hold besides letters and digits, and how a message says
 * it. docs/site-spec.md lists the same sets.
 */
#define URL_PATH_CHARS "-._~/+"
#define URL_PATH_TEXT  "a repository path is letters, digits and -._~/+"
#define BRANCH_CHARS   "-._/+"
#define BRANCH_TEXT    "a branch name is letters, digits and -._/+"
#define PATH_CHARS     "-._/"
#define PATH_TEXT      "a path is letters, digits and -._/"

/* RFC 1035: a host name is at most 253 characters, a label at most 63. */
#define HOST_NAME_MAX_LEN 253
#define HOST_LABEL_MAX    63
/* An IPv6 address as text, NUL included (INET6_ADDRSTRLEN); an IPv4 one fits too. */
#define HOST_LITERAL_MAX 46
#define PORT_DIGITS_MAX  5
/* "a non-ASCII character", the longest a character is named in a message. */
#define CHAR_TEXT_MAX 32

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

static int is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* A letter, a digit or one of extra: the whitelists below are written this way. */
static int in_set(char c, const char *extra)
{
	return is_alnum(c) || (c != '\0' && strchr(extra, c) != NULL);
}

/* The first character of s outside the whitelist (letters, digits, extra), or NULL. */
static const char *first_outside(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!in_set(*s, extra))
			return s;
	return NULL;
}

/* A character for a message: quoted when it can be, named when quoting it would confuse. */
static void char_text(char *out, size_t n, char ch)
{
	unsigned char c = (unsigned char)ch;

	if (c == ' ')
		lp_fmt_text(out, n, "a space");
	else if (c < 0x20 || c == 0x7f)
		lp_fmt_text(out, n, "a control character");
	else if (c >= 0x80)
		lp_fmt_text(out, n, "a non-ASCII character");
	else if (c == '\'')
		lp_fmt_text(out, n, "a single quote");
	else if (c == '"')
		lp_fmt_text(out, n, "a double quote");
	else if (c == '`')
		lp_fmt_text(out, n, "a backtick");
	else
		lp_fmt_text(out, n, "'%c'", c);
}

/* "must not contain ';' (<what>)": the message of every whitelist. */
static int refuse_char(char *msg, size_t n, char c, const char *what)
{
	char ct[CHAR_TEXT_MAX];

	char_text(ct, sizeof(ct), c);
	lp_fmt_text(msg, n, "must not contain %s (%s)", ct, what);
	return 0;
}

/*
 * A host name of the DNS (dot-separated labels of letters, digits and '-', none starting or
 * ending with '-'), or an IPv4 address written as four decimal numbers. A name whose last label
 * is all digits is no DNS name (no top-level domain is numeric), so it must be an IPv4 address:
 * that refuses the forms resolvers read as numbers in other bases (0177.0.0.1, 2130706433,
 * 0x7f.1) and would turn into addresses no one reviewing the URL sees.
 */
static int host_name_ok(const char *h, size_t len, char *msg, size_t n)
{
	char lit[HOST_LITERAL_MAX];
	struct in_addr v4;
	size_t i, label = 0, last = 0;
	int digits = 1;

	if (len == 0) {
		lp_fmt_text(msg, n, "must name a host");
		return 0;
	}
	if (len > HOST_NAME_MAX_LEN) {
		lp_fmt_text(msg, n, "host name must be at most %d characters", HOST_NAME_MAX_LEN);
		return 0;
	}
	for (i = 0; i <= len; i++) {
		if (i == len || h[i] == '.') {
			if (label == 0 || label > HOST_LABEL_MAX || h[i - label] == '-' ||
			    h[i - 1] == '-')
				goto bad;
			last = i - label;
			label = 0;
			continue;
		}
		if (!in_set(h[i], "-"))
			goto bad;
		label++;
	}
	for (i = last; i < len; i++)
		digits &= h[i] >= '0' && h[i] <= '9';
	if (!digits)
		return 1;
	if (len < sizeof(lit)) {
		memcpy(lit, h, len);
		lit[len] = '\0';
		if (inet_pton(AF_INET, lit, &v4) == 1)
			return 1;
	}
	lp_fmt_text(msg, n,
	            "host looks like an IPv4 address but is not one (write it as four decimal "
	            "numbers, a.b.c.d)");
	return 0;
bad:
	lp_fmt_text(msg, n,
	            "host must be a DNS name (letters, digits and '-' in dot-separated labels; "
	            "international names in their xn-- form) or an IP address");
	return 0;
}

/* host[:port], the host a DNS name, an IPv4 address or an IPv6 address in brackets. */
static int authority_ok(const char *a, size_t len, char *msg, size_t n)
{
	char lit[HOST_LITERAL_MAX];
	struct in6_addr v6;
	const char *end = a + len, *p;
	unsigned long port = 0;
	size_t hlen;

	if (a[0] == '[') {
		const char *close = memchr(a, ']', len);

		hlen = close ? (size_t)(close - a) - 1 : 0;
		if (hlen > 0 && hlen < sizeof(lit)) {
			memcpy(lit, a + 1, hlen);
			lit[hlen] = '\0';
		}
		if (hlen == 0 || hlen >= sizeof(lit) || inet_pton(AF_INET6, lit, &v6) != 1) {
			lp_fmt_text(msg, n, "host is not a valid IPv6 address ([2001:db8::1])");
			return 0;
		}
		p = close + 1;
	} else {
		p = memchr(a, ':', len);
		if (p == NULL)
			p = end;
		if (!host_name_ok(a, (size_t)(p - a), msg, n))
			return 0;
	}
	if (p == end)
		return 1;
	if (*p != ':' || p + 1 == end || end - p - 1 > PORT_DIGITS_MAX)
		goto bad_port;
	for (p++; p < end; p++) {
		if (*p < '0' || *p > '9')
			goto bad_port;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	if (port >= 1 && port <= 65535)
		return 1;
bad_port:
	lp_fmt_text(msg, n, "port must be a number from 1 to 65535");
	return 0;
}

int lp_rule_git_url(const char *s, int allow_insecure, char *msg, size_t n)
{
	const char *rest = NULL, *end, *c;
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
		if ((c = first_outside(s + 7, URL_PATH_CHARS)) != NULL)
			return refuse_char(msg, n, *c, URL_PATH_TEXT);
		return 1;
	} else {
		lp_fmt_text(msg, n, "must be an https:// URL");
		return 0;
	}
	if (insecure && !allow_insecure) {
		lp_fmt_text(msg, n, "http:// URLs are only allowed with --allow-insecure-sources");
		return 0;
	}
	/* git and curl read these differently from a person reading the URL: none is needed. */
	if (strpbrk(rest, "?#") != NULL) {
		lp_fmt_text(msg, n, "must not contain a query ('?') or a fragment ('#')");
		return 0;
	}
	if (strchr(rest, '%') != NULL) {
		lp_fmt_text(msg, n,
		            "must not contain %%-escapes (write the characters themselves)");
		return 0;
	}
	end = rest + strcspn(rest, "/");
	if (end == rest) {
		lp_fmt_text(msg, n, "must name a host");
		return 0;
	}
	if (memchr(rest, '@', (size_t)(end - rest)) != NULL) {
		lp_fmt_text(msg, n, "must not contain credentials (user@host)");
		return 0;
	}
	if (!authority_ok(rest, (size_t)(end - rest), msg, n))
		return 0;
	if (end[0] == '\0' || end[1] == '\0') {
		lp_fmt_text(msg, n, "must name a repository (https://host/path)");
		return 0;
	}
	if ((c = first_outside(end, URL_PATH_CHARS)) != NULL)
		return refuse_char(msg, n, *c, URL_PATH_TEXT);
	return 1;
}

/*
 * The rules of `git check-ref-format --branch` (which also keep a branch from looking like a
 * flag), over a whitelist narrower than git's: a branch is passed to git and written into logs
 * and refspecs, and none of the characters it leaves out (quotes, '$', ';', '|', '&', '<', '>',
 * '*', '?', '@', '#', non-ASCII) is needed by a branch anyone builds from.
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
	if (s[0] == '-') {
		lp_fmt_text(msg, n, "must not start with '-'");
		return 0;
	}
	if ((c = first_outside(s, BRANCH_CHARS)) != NULL)
		return refuse_char(msg, n, *c, BRANCH_TEXT);
	if (strstr(s, "..") || strstr(s, "//") || strstr(s, "/.") || strstr(s, ".lock/") ||
	    !strcmp(s, "HEAD") || s[0] == '/' || s[0] == '.' || s[len - 1] == '/' ||
	    s[len - 1] == '.' || (len >= 5 && !strcmp(s + len - 5, ".lock"))) {
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

/*
 * Paths land in the publish step's file names and, for notFoundPage, inside nginx's syntax
 * (error_page, location): the whitelist keeps out everything either would read as syntax
 * (';', '{', '}', quotes, '$', '#', spaces) and the controller's own checks accept all it lets in.
 */
int lp_rule_relpath(const char *s, int want_file, char *msg, size_t n)
{
	size_t len = strlen(s);
	const char *c;

	if (len == 0) {
		lp_fmt_text(msg, n, "must not be empty");
		return 0;
	}
	if (s[0] == '/') {
		lp_fmt_text(msg, n, "must be a relative path (no leading \"/\")");
		return 0;
	}
	if ((c = first_outside(s, PATH_CHARS)) != NULL)
		return refuse_char(msg, n, *c, PATH_TEXT);
	/* Anywhere, not only as a component: nginx's renderer refuses "a..b" too. */
	if (strstr(s, "..") != NULL) {
		lp_fmt_text(msg, n, "must not contain \"..\"");
		return 0;
	}
	if (want_file &&
	    (s[len - 1] == '/' || !strcmp(s, ".") || (len >= 2 && !strcmp(s + len - 2, "/.")))) {
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

/* One label of a domain: [a-z0-9-]{1,63}, no '-' at either end; an upper-case letter is named. */
static int domain_label(const char *s, size_t len, char *msg, size_t n)
{
	size_t i;

	if (len == 0 || len > HOST_LABEL_MAX) {
		lp_fmt_text(msg, n, "each dot-separated label must be 1 to %d characters",
		            HOST_LABEL_MAX);
		return 0;
	}
	for (i = 0; i < len; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z') {
			lp_fmt_text(msg, n, "must be lowercase");
			return 0;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
			lp_fmt_text(
			    msg, n,
			    "must be a DNS name: lowercase letters, digits, '-' and '.' (an "
			    "internationalised name in its xn-- form)");
			return 0;
		}
	}
	if (s[0] == '-' || s[len - 1] == '-') {
		lp_fmt_text(msg, n, "a label must not start or end with '-'");
		return 0;
	}
	return 1;
}

int lp_rule_domain(const char *s, int allow_wildcard, char *msg, size_t n)
{
	size_t len = strlen(s), labels = 0, last = 0, i, start;
	int digits_only = 1;

	if (len == 0) {
		lp_fmt_text(msg, n, "must not be empty");
		return 0;
	}
	if (len > HOST_NAME_MAX_LEN) {
		lp_fmt_text(msg, n, "must be at most %d characters (got %zu)", HOST_NAME_MAX_LEN,
		            len);
		return 0;
	}
	start = 0;
	if (s[0] == '*') {
		if (!allow_wildcard) {
			lp_fmt_text(msg, n,
			            "wildcard domains are not allowed on this installation "
			            "(--allow-wildcard-domains)");
			return 0;
		}
		if (s[1] != '.') {
			lp_fmt_text(msg, n, "a wildcard is a whole first label: \"*.example.com\"");
			return 0;
		}
		start = 2;
	}
	for (i = start; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		if (!domain_label(s + start, i - start, msg, n))
			return 0;
		labels++;
		last = start;
		start = i + 1;
	}
	for (i = last; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			digits_only = 0;
	if (labels < 2) {
		lp_fmt_text(msg, n, "must be a fully qualified name such as www.example.com");
		return 0;
	}
	if (digits_only) {
		lp_fmt_text(msg, n, "must be a DNS name, not an IP address");
		return 0;
	}
	return 1;
}
