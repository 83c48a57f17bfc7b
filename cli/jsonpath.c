/* jsonpath.c: `-o jsonpath=TEMPLATE`, a small subset of kubectl's JSONPath templates. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_internal.h"

#define JP_MAX_NODES 100000 /* values one expression may select ([*] over [*] ...) */
#define JP_FIELD_MAX 256    /* bytes of a field name, NUL included */

/* The values an expression has selected so far. */
struct nodes {
	const cJSON **items;
	size_t n;
};

static int nodes_push(struct nodes *ns, const cJSON *v)
{
	const cJSON **grown;

	if (ns->n == JP_MAX_NODES)
		return LP_ETOOBIG;
	if ((grown = realloc(ns->items, (ns->n + 1) * sizeof(*grown))) == NULL)
		return LP_ENOMEM;
	ns->items = grown;
	ns->items[ns->n++] = v;
	return LP_OK;
}

/* A selected value as text: strings as they are, numbers as JSON writes them, null as nothing. */
static int put_value(lp_buf *out, const cJSON *v)
{
	char *text;
	int rc;

	if (cJSON_IsString(v))
		return lp_buf_puts(out, v->valuestring);
	if (cJSON_IsNull(v))
		return LP_OK;
	if (cJSON_IsBool(v))
		return lp_buf_puts(out, cJSON_IsTrue(v) ? "true" : "false");
	if (cJSON_IsNumber(v) && isfinite(v->valuedouble) &&
	    v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 9e15)
		return lp_buf_printf(out, "%lld", (long long)v->valuedouble);
	if ((text = cJSON_PrintUnformatted(v)) == NULL)
		return LP_ENOMEM;
	rc = lp_buf_puts(out, text);
	free(text);
	return rc;
}

static int bad(lp_error *err, const char *tmpl, const char *at, const char *what)
{
	return lp_error_set(err, LP_EINVAL, "jsonpath: column %d: %s", (int)(at - tmpl) + 1, what);
}

/* {"text"}: the literal at *p (past the quote) into out; *p ends past the closing quote. */
static int literal(lp_buf *out, const char **p, const char *tmpl, lp_error *err)
{
	const char *s = *p, *open = s - 1;
	int rc = LP_OK;

	for (; *s && *s != '"' && rc == LP_OK; s++) {
		if (*s != '\\') {
			rc = out ? lp_buf_putc(out, *s) : LP_OK;
			continue;
		}
		s++;
		if (*s != 'n' && *s != 't' && *s != '"' && *s != '\\')
			return bad(err, tmpl, s - 1,
			           "unknown escape (\\n, \\t, \\\" and \\\\ are known)");
		if (out)
			rc = lp_buf_putc(out, *s == 'n' ? '\n' : *s == 't' ? '\t' : *s);
	}
	if (*s != '"')
		return bad(err, tmpl, open, "the string is not closed");
	*p = s + 1;
	return rc;
}

/* One step of a path at *p ('.' or '['): ns becomes what it selects from ns. */
static int step(struct nodes *ns, const char **p, const char *tmpl, lp_error *err)
{
	struct nodes next = {0};
	const char *s = *p, *name;
	char field[JP_FIELD_MAX];
	size_t len = 0, i;
	long idx = -1;
	int rc = LP_OK;
	const cJSON *c;

	if (*s == '.') {
		name = ++s;
		while (isalnum((unsigned char)s[len]) || s[len] == '_' || s[len] == '-')
			len++;
		if (len == 0)
			return bad(err, tmpl, s - 1, "expected a field name after '.'");
		if (len >= sizeof(field))
			return bad(err, tmpl, s, "the field name is too long");
		memcpy(field, name, len);
		field[len] = '\0';
		*p = s + len;
		for (i = 0; i < ns->n && rc == LP_OK; i++)
			if ((c = cJSON_GetObjectItemCaseSensitive(ns->items[i], field)) != NULL)
				rc = nodes_push(&next, c);
	} else {
		if (s[1] == '*' && s[2] == ']') {
			*p = s + 3;
		} else if (isdigit((unsigned char)s[1])) {
			char *end;

			idx = strtol(s + 1, &end, 10);
			if (*end != ']')
				return bad(err, tmpl, s, "expected [*] or [N]");
			*p = end + 1;
		} else {
			return bad(err, tmpl, s, "expected [*] or [N]");
		}
		for (i = 0; i < ns->n && rc == LP_OK; i++) {
			long k = 0;

			cJSON_ArrayForEach(c, ns->items[i])
			{
				if (rc != LP_OK)
					break;
				if (idx < 0 || k == idx)
					rc = nodes_push(&next, c);
				k++;
			}
		}
	}
	free(ns->items);
	*ns = next;
	if (rc != LP_OK)
		return lp_error_set(err, rc, "jsonpath: the expression selects too much");
	return LP_OK;
}

/* {.a.b[*].c}: the values the path at *p selects from v, space-separated, into out. */
static int path(lp_buf *out, const char **p, const cJSON *v, const char *tmpl, lp_error *err)
{
	struct nodes ns = {0};
	size_t i;
	int rc = LP_OK;

	if (v && nodes_push(&ns, v) != LP_OK)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	while (rc == LP_OK && (**p == '.' || **p == '['))
		rc = step(&ns, p, tmpl, err);
	for (i = 0; rc == LP_OK && out && i < ns.n; i++) {
		if (i)
			rc = lp_buf_putc(out, ' ');
		if (rc == LP_OK)
			rc = put_value(out, ns.items[i]);
	}
	free(ns.items);
	return rc;
}

int lp_cli_jsonpath(lp_buf *out, const char *tmpl, const cJSON *v, lp_error *err)
{
	const char *p = tmpl, *open;
	int rc = LP_OK;

	while (*p && rc == LP_OK) {
		if (*p != '{') {
			rc = out ? lp_buf_putc(out, *p) : LP_OK;
			p++;
			continue;
		}
		open = p++;
		while (*p == ' ')
			p++;
		if (*p == '}')
			return bad(err, tmpl, open, "empty expression {}");
		if (*p == '"') {
			p++;
			rc = literal(out, &p, tmpl, err);
		} else if (*p == '.' && p[1] == '}') {
			p++;
			rc = out && v ? put_value(out, v) : LP_OK;
		} else if (*p == '.' || *p == '[') {
			rc = path(out, &p, v, tmpl, err);
		} else if (*p == '\0') {
			return bad(err, tmpl, open, "the { is not closed");
		} else {
			return bad(
			    err, tmpl, p,
			    "expected .field, [*] or \"text\" (range, filters and functions are "
			    "not supported)");
		}
		if (rc != LP_OK)
			return rc == LP_EINVAL
			           ? rc
			           : lp_error_set(err, rc, "jsonpath: the output is too large");
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return bad(err, tmpl, open, "the { is not closed");
		if (*p != '}')
			return bad(err, tmpl, p, "expected } after the expression");
		p++;
	}
	if (rc != LP_OK)
		return lp_error_set(err, rc, "jsonpath: the output is too large");
	return LP_OK;
}
