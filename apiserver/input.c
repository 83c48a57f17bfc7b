/*
 * input.c: decoding what a client sends into strings the API keeps: the request target (path and
 * query), text fields, JSON documents. Every string must be NUL-free UTF-8: a NUL would cut a C
 * string (a name stored shorter than sent, "dupname%00x" finding "dupname"), and invalid UTF-8
 * would make the API's own JSON answers invalid.
 */
#include <stdlib.h>
#include <string.h>

#include "apiserver/apiserver_internal.h"

/* The length of the UTF-8 sequence at s (n bytes left), or 0 when it is not well-formed. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0; /* a continuation byte first, C0/C1 (overlong) or beyond U+10FFFF */
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, UTF-16 surrogates and code points past U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int api_text_check(const char *s, size_t len, const char *what, lp_error *err)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < len) {
		if (p[i] == 0)
			return lp_error_set(err, LP_EINVAL, "%s contains a NUL byte (at byte %zu)",
			                    what, i);
		if ((k = utf8_seq(p + i, len - i)) == 0)
			return lp_error_set(err, LP_EINVAL, "%s is not valid UTF-8 (at byte %zu)",
			                    what, i);
		i += k;
	}
	return LP_OK;
}

static int is_hex4_zero(const char *s, size_t n)
{
	return n >= 4 && !strncmp(s, "0000", 4);
}

int api_json_check(const char *text, size_t len, lp_error *err)
{
	size_t i;
	int in_string = 0, rc;

	if ((rc = api_text_check(text, len, "the JSON body", err)) != LP_OK)
		return rc;
	/* \u0000 decodes to a NUL inside a string: cJSON would hand back a shortened one */
	for (i = 0; i < len; i++) {
		if (text[i] == '"') {
			in_string = !in_string;
		} else if (in_string && text[i] == '\\' && i + 1 < len) {
			if (text[i + 1] == 'u' && is_hex4_zero(text + i + 2, len - i - 2))
				return lp_error_set(
				    err, LP_EINVAL,
				    "a JSON string contains \\u0000 (at byte %zu): NUL "
				    "is not accepted in any field",
				    i);
			i++; /* the escaped character, a quote included */
		}
	}
	return LP_OK;
}

int api_json_parse(cJSON **out, const char *text, size_t len, lp_error *err)
{
	const char *end = NULL;
	cJSON *doc;
	int rc;

	*out = NULL;
	if ((rc = api_json_check(text, len, err)) != LP_OK)
		return rc;
	/* the end pointer is this parse's own (cJSON_GetErrorPtr is shared by all threads) */
	doc = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (doc == NULL) {
		size_t off = end && end >= text ? (size_t)(end - text) : 0;

		return lp_error_set(err, LP_EINVAL, "malformed JSON body near \"%.20s\" (byte %zu)",
		                    off < len ? text + off : "", off);
	}
	for (; end && (size_t)(end - text) < len; end++)
		if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r') {
			cJSON_Delete(doc);
			return lp_error_set(
			    err, LP_EINVAL,
			    "malformed JSON body: text after the document (byte %zu)",
			    (size_t)(end - text));
		}
	*out = doc;
	return LP_OK;
}

/* ---- the request target ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decode s[0..n) into a new string (plus: '+' is a space, as in a query); then it must be
 * NUL-free UTF-8. *out is the caller's.
 */
static int decode(char **out, const char *s, size_t n, int plus, const char *what, lp_error *err)
{
	char *d = malloc(n + 1);
	size_t i, o = 0;
	int rc;

	*out = NULL;
	if (d == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0) {
				free(d);
				return lp_error_set(err, LP_EINVAL,
				                    "%s has a malformed %%-escape (at byte %zu)",
				                    what, i);
			}
			d[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			d[o++] = plus && s[i] == '+' ? ' ' : s[i];
		}
	}
	d[o] = '\0';
	if ((rc = api_text_check(d, o, what, err)) != LP_OK) {
		free(d);
		return rc;
	}
	*out = d;
	return LP_OK;
}

void api_query_release(struct api_query_arg *args, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(args[i].key);
		free(args[i].value);
		args[i].key = args[i].value = NULL;
	}
}

/* key[=value] pairs between '&'; empty ones are skipped. */
static int decode_query(struct api_query_arg *args, size_t *out_n, const char *q, lp_error *err)
{
	const char *p = q, *amp, *eq;
	size_t n = 0;
	int rc;

	while (*p) {
		size_t len = (amp = strchr(p, '&')) ? (size_t)(amp - p) : strlen(p);

		if (len) {
			if (n == API_QUERY_ARGS) {
				rc = lp_error_set(err, LP_EINVAL, "more than %d query parameters",
				                  API_QUERY_ARGS);
				goto fail;
			}
			eq = memchr(p, '=', len);
			args[n].key = args[n].value = NULL;
			if ((rc = decode(&args[n].key, p, eq ? (size_t)(eq - p) : len, 1,
			                 "a query parameter's name", err)) != LP_OK ||
			    (eq && (rc = decode(&args[n].value, eq + 1, len - (size_t)(eq + 1 - p),
			                        1, "a query parameter", err)) != LP_OK)) {
				n++;
				goto fail;
			}
			n++;
		}
		p += len + (amp != NULL);
	}
	*out_n = n;
	return LP_OK;
fail:
	api_query_release(args, n);
	return rc;
}

int api_target_decode(char **out_path, struct api_query_arg *args, size_t *out_nargs,
                      const char *raw, lp_error *err)
{
	const char *q = strchr(raw, '?');
	size_t plen = q ? (size_t)(q - raw) : strlen(raw);
	int rc;

	*out_path = NULL;
	*out_nargs = 0;
	if ((rc = decode(out_path, raw, plen, 0, "the URL path", err)) != LP_OK)
		return rc;
	if (q && (rc = decode_query(args, out_nargs, q + 1, err)) != LP_OK) {
		free(*out_path);
		*out_path = NULL;
	}
	return rc;
}
