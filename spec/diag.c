/* diag.c: the diagnostics list that parsing and validation fill, and its text/JSON renderings. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "launchpad/buf.h"
#include "launchpad/fmt.h"
#include "launchpad/spec.h"
#include "spec/node.h"

void lp_spec_diags_init(lp_spec_diags *d)
{
	memset(d, 0, sizeof(*d));
}

void lp_spec_diags_release(lp_spec_diags *d)
{
	if (d == NULL)
		return;
	free(d->items);
	memset(d, 0, sizeof(*d));
}

int lp_spec_diags_vadd(lp_spec_diags *d, const char *path, int line, int column, const char *fmt,
                       va_list ap)
{
	lp_spec_diag *item;

	if (d == NULL)
		return LP_OK;
	if (d->count >= LP_SPEC_MAX_DIAGS) {
		d->dropped++;
		return LP_OK;
	}
	if (d->count == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		lp_spec_diag *items = realloc(d->items, cap * sizeof(*items));

		if (items == NULL)
			return LP_ENOMEM;
		d->items = items;
		d->cap = cap;
	}
	item = &d->items[d->count++];
	memset(item, 0, sizeof(*item));
	/* Diagnostics are read by people: a path or message that does not fit is cut, marked so. */
	lp_fmt_text(item->path, sizeof(item->path), "%s", path ? path : "");
	item->line = line;
	item->column = column;
	lp_vfmt_text(item->message, sizeof(item->message), fmt, ap);
	return LP_OK;
}

int lp_spec_diags_add(lp_spec_diags *d, const char *path, int line, int column, const char *fmt,
                      ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = lp_spec_diags_vadd(d, path, line, column, fmt, ap);
	va_end(ap);
	return rc;
}

int lp_spec_diag_fail(lp_spec_diags *d, const char *path, int line, int column, const char *fmt,
                      ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = lp_spec_diags_vadd(d, path, line, column, fmt, ap);
	va_end(ap);
	return rc == LP_OK ? LP_EINVAL : rc;
}

int lp_spec_diags_format(char **out, const lp_spec_diags *d, const char *filename, lp_error *err)
{
	lp_buf b;
	size_t i;
	int rc = LP_OK;

	*out = NULL;
	lp_buf_init(&b, LP_BUF_DEFAULT_MAX);
	for (i = 0; i < d->count && rc == LP_OK; i++) {
		const lp_spec_diag *it = &d->items[i];

		rc = lp_buf_printf(&b, "%s:%d:%d: ", filename, it->line > 0 ? it->line : 1,
		                   it->column > 0 ? it->column : 1);
		if (rc == LP_OK && it->path[0] != '\0')
			rc = lp_buf_printf(&b, "%s: ", it->path);
		if (rc == LP_OK)
			rc = lp_buf_printf(&b, "%s\n", it->message);
	}
	if (rc == LP_OK && d->dropped > 0)
		rc = lp_buf_printf(&b, "%s: %zu more errors not shown\n", filename, d->dropped);
	if (rc != LP_OK) {
		lp_buf_release(&b);
		return lp_error_set(err, rc, "formatting diagnostics: %s", lp_strerror(rc));
	}
	*out = lp_buf_detach(&b);
	return LP_OK;
}

int lp_spec_diags_to_cjson(cJSON **out, const lp_spec_diags *d, lp_error *err)
{
	cJSON *arr = cJSON_CreateArray(), *o;
	size_t i;

	*out = NULL;
	if (arr == NULL)
		goto nomem;
	for (i = 0; i < d->count; i++) {
		o = cJSON_CreateObject();
		if (o == NULL || !cJSON_AddItemToArray(arr, o) ||
		    !cJSON_AddStringToObject(o, "path", d->items[i].path) ||
		    !cJSON_AddNumberToObject(o, "line", d->items[i].line) ||
		    !cJSON_AddNumberToObject(o, "column", d->items[i].column) ||
		    !cJSON_AddStringToObject(o, "message", d->items[i].message))
			goto nomem;
	}
	*out = arr;
	return LP_OK;
nomem:
	cJSON_Delete(arr);
	return lp_error_set(err, LP_ENOMEM, "out of memory");
}
