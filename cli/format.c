/* format.c: what the CLI prints: kubectl-style ages, aligned tables, JSON values as YAML. */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli/cli_internal.h"
#include "launchpad/fmt.h"

int lp_cli_age(char *out, size_t n, int64_t s)
{
	if (s < 0)
		return lp_fmt(out, n, "<unknown>");
	if (s < 60)
		return lp_fmt(out, n, "%" PRId64 "s", s);
	if (s < 3600)
		return lp_fmt(out, n, "%" PRId64 "m", s / 60);
	if (s < 86400)
		return lp_fmt(out, n, "%" PRId64 "h", s / 3600);
	if (s < 365 * 86400)
		return lp_fmt(out, n, "%" PRId64 "d", s / 86400);
	return lp_fmt(out, n, "%" PRId64 "y", s / (365 * 86400));
}

int64_t lp_cli_parse_time(const char *iso)
{
	struct tm tm = {0};
	int used = 0;
	const char *rest;

	if (iso == NULL || sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
	                          &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6)
		return -1;
	rest = iso + used;
	if (*rest == '.')
		for (rest++; isdigit((unsigned char)*rest); rest++)
			;
	if (strcmp(rest, "Z") && strcmp(rest, "+00:00"))
		return -1;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm);
}

/* ---- tables ---- */

void lp_cli_table_init(lp_cli_table *t, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols > LP_CLI_TABLE_MAX_COLS ? LP_CLI_TABLE_MAX_COLS : ncols;
}

/* A cell as it will print: control characters become spaces, cut at a character boundary. */
static char *clean_cell(const char *s)
{
	size_t len = s ? strlen(s) : 0, i;
	char *c;

	if (len > LP_CLI_CELL_MAX) {
		len = LP_CLI_CELL_MAX;
		while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
			len--;
	}
	if ((c = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++)
		c[i] = (unsigned char)s[i] < 0x20 ? ' ' : s[i];
	c[len] = '\0';
	return c;
}

int lp_cli_table_add(lp_cli_table *t, const char *const *row)
{
	size_t i, need = (t->nrows + 1) * t->ncols;
	char **grown;

	if (t->nrows >= LP_CLI_TABLE_MAX_ROWS)
		return LP_ETOOBIG;
	if (need > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : t->ncols * 16;
		while (cap < need)
			cap *= 2;
		if ((grown = realloc(t->cells, cap * sizeof(char *))) == NULL)
			return LP_ENOMEM;
		t->cells = grown;
		t->cap = cap;
	}
	for (i = 0; i < t->ncols; i++) {
		t->cells[t->nrows * t->ncols + i] = clean_cell(row[i]);
		if (t->cells[t->nrows * t->ncols + i] == NULL) {
			while (i-- > 0)
				free(t->cells[t->nrows * t->ncols + i]);
			return LP_ENOMEM;
		}
	}
	t->nrows++;
	return LP_OK;
}

/* Display width of UTF-8 text: one column per code point (good enough for names and URLs). */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

void lp_cli_table_widths(const lp_cli_table *t, size_t *w)
{
	size_t r, c, cw;

	for (c = 0; c < t->ncols; c++)
		w[c] = t->min_width[c];
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++)
			if ((cw = width(t->cells[r * t->ncols + c])) > w[c])
				w[c] = cw;
}

int lp_cli_table_render(lp_buf *out, const lp_cli_table *t)
{
	size_t w[LP_CLI_TABLE_MAX_COLS] = {0}, r, c, pad;
	int rc = LP_OK;

	lp_cli_table_widths(t, w);
	for (r = 0; r < t->nrows && rc == LP_OK; r++) {
		size_t last = t->ncols;

		/* trailing empty cells print nothing, so lines carry no trailing blanks */
		while (last > 1 && t->cells[r * t->ncols + last - 1][0] == '\0')
			last--;
		for (c = 0; c < last && rc == LP_OK; c++) {
			const char *cell = t->cells[r * t->ncols + c];
			rc = lp_buf_puts(out, cell);
			if (c + 1 < last)
				for (pad = width(cell); pad < w[c] + 3 && rc == LP_OK; pad++)
					rc = lp_buf_putc(out, ' ');
		}
		if (rc == LP_OK)
			rc = lp_buf_putc(out, '\n');
	}
	return rc;
}

void lp_cli_table_release(lp_cli_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

/* ---- YAML ---- */

#define YAML_MAX_DEPTH 64

static int looks_numeric(const char *s)
{
	char *end;

	if (*s == '\0')
		return 0;
	(void)strtod(s, &end);
	return *end == '\0' || !strcasecmp(s, ".inf") || !strcasecmp(s, "-.inf") ||
	       !strcasecmp(s, ".nan") || (s[0] == '0' && (s[1] == 'x' || s[1] == 'o'));
}

/* 1 when s can be written unquoted and reads back as the same string in YAML 1.1 and 1.2. */
static int plain_ok(const char *s)
{
	static const char *const reserved[] = {"true", "false", "yes", "no", "on",
	                                       "off",  "null",  "y",   "n",  "~"};
	size_t i;
	const char *p;

	if (*s == '\0' || looks_numeric(s))
		return 0;
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (!strcasecmp(s, reserved[i]))
			return 0;
	/* a leading digit could read back as a number or a YAML 1.1 timestamp */
	if (!isalpha((unsigned char)s[0]) && s[0] != '/' && s[0] != '_' && s[0] != '.')
		return 0;
	for (p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_./-+@=,()", *p) &&
		    !(*p == ':' && p[1] != ' ' && p[1] != '\0') &&
		    !(*p == ' ' && p[1] != '#' && p[1] != '\0' && p[-1] != ':'))
			return 0;
	return 1;
}

static int put_string(lp_buf *b, const char *s)
{
	int rc = LP_OK;

	if (plain_ok(s))
		return lp_buf_puts(b, s);
	rc = lp_buf_putc(b, '"');
	for (; *s && rc == LP_OK; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			rc = lp_buf_printf(b, "\\%c", c);
		else if (c == '\n')
			rc = lp_buf_puts(b, "\\n");
		else if (c == '\t')
			rc = lp_buf_puts(b, "\\t");
		else if (c < 0x20 || c == 0x7f)
			rc = lp_buf_printf(b, "\\x%02x", c);
		else
			rc = lp_buf_putc(b, (char)c);
	}
	return rc == LP_OK ? lp_buf_putc(b, '"') : rc;
}

static int put_scalar(lp_buf *b, const cJSON *v)
{
	double d;

	if (cJSON_IsNull(v) || cJSON_IsInvalid(v))
		return lp_buf_puts(b, "null");
	if (cJSON_IsBool(v))
		return lp_buf_puts(b, cJSON_IsTrue(v) ? "true" : "false");
	if (cJSON_IsNumber(v)) {
		d = v->valuedouble;
		if (isfinite(d) && d == floor(d) && fabs(d) < 9e15)
			return lp_buf_printf(b, "%lld", (long long)d);
		return lp_buf_printf(b, "%.17g", d);
	}
	if (cJSON_IsString(v))
		return put_string(b, v->valuestring);
	return lp_buf_puts(b, "null");
}

static int is_empty_container(const cJSON *v)
{
	return (cJSON_IsObject(v) || cJSON_IsArray(v)) && v->child == NULL;
}

static int indent(lp_buf *b, int n)
{
	int rc = LP_OK;

	while (n-- > 0 && rc == LP_OK)
		rc = lp_buf_putc(b, ' ');
	return rc;
}

/* Emit v at indentation ind; inline: the first line continues a "- " already written. */
static int emit(lp_buf *b, const cJSON *v, int ind, int inl, int depth)
{
	const cJSON *c;
	int rc = LP_OK, first = 1;

	if (depth > YAML_MAX_DEPTH)
		return LP_ETOOBIG;
	if (cJSON_IsObject(v)) {
		cJSON_ArrayForEach(c, v)
		{
			if (rc == LP_OK && !(first && inl))
				rc = indent(b, ind);
			first = 0;
			if (rc == LP_OK)
				rc = put_string(b, c->string ? c->string : "");
			if (rc == LP_OK)
				rc = lp_buf_putc(b, ':');
			if (rc != LP_OK)
				break;
			if ((cJSON_IsObject(c) || cJSON_IsArray(c)) && !is_empty_container(c)) {
				rc = lp_buf_putc(b, '\n');
				if (rc == LP_OK)
					rc = emit(b, c, ind + 2, 0, depth + 1);
			} else if (is_empty_container(c)) {
				rc = lp_buf_puts(b, cJSON_IsObject(c) ? " {}\n" : " []\n");
			} else {
				rc = lp_buf_putc(b, ' ');
				if (rc == LP_OK)
					rc = put_scalar(b, c);
				if (rc == LP_OK)
					rc = lp_buf_putc(b, '\n');
			}
		}
		return rc;
	}
	if (cJSON_IsArray(v)) {
		cJSON_ArrayForEach(c, v)
		{
			if (rc == LP_OK && !(first && inl))
				rc = indent(b, ind);
			first = 0;
			if (rc == LP_OK)
				rc = lp_buf_puts(b, "- ");
			if (rc != LP_OK)
				break;
			if ((cJSON_IsObject(c) || cJSON_IsArray(c)) && !is_empty_container(c)) {
				rc = emit(b, c, ind + 2, 1, depth + 1);
			} else if (is_empty_container(c)) {
				rc = lp_buf_puts(b, cJSON_IsObject(c) ? "{}\n" : "[]\n");
			} else {
				rc = put_scalar(b, c);
				if (rc == LP_OK)
					rc = lp_buf_putc(b, '\n');
			}
		}
		return rc;
	}
	rc = put_scalar(b, v);
	return rc == LP_OK ? lp_buf_putc(b, '\n') : rc;
}

int lp_cli_json_to_yaml(lp_buf *out, const cJSON *v)
{
	if (is_empty_container(v))
		return lp_buf_puts(out, cJSON_IsObject(v) ? "{}\n" : "[]\n");
	return emit(out, v, 0, 0, 0);
}
