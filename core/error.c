/* error.c: the code→text and code→HTTP tables, and the error struct helpers. */
#include "launchpad/error.h"

#include <stdarg.h>
#include <string.h>

#include "launchpad/fmt.h"

struct code_info {
	int code;
	const char *name;
	const char *text;
	int http;
};

/* The one table mapping codes to names, messages and HTTP statuses. */
static const struct code_info code_table[] = {
    {LP_OK, "ok", "success", 200},
    {LP_ERROR, "internal", "internal error", 500},
    {LP_ENOMEM, "out_of_memory", "out of memory", 503},
    {LP_EINVAL, "invalid", "invalid input", 400},
    {LP_ENOTFOUND, "not_found", "not found", 404},
    {LP_EEXISTS, "already_exists", "already exists", 409},
    {LP_ECONFLICT, "conflict", "conflict", 409},
    {LP_ETOOBIG, "too_large", "too large", 413},
    {LP_EIO, "io", "input/output error", 500},
    {LP_EUNAVAILABLE, "unavailable", "service unavailable", 503},
    {LP_ETIMEOUT, "timeout", "timed out", 504},
    {LP_ECANCELED, "canceled", "canceled", 409},
    {LP_EUNSUPPORTED, "unsupported", "unsupported media type", 415},
    {LP_EAUTH, "unauthorized", "unauthorized", 401},
    {LP_EFORBIDDEN, "forbidden", "forbidden", 403},
    {LP_EREMOTE, "remote", "remote peer refused", 502},
    {LP_EBUILD, "build_failed", "build failed", 422},
    {LP_EUNSAFE, "unsafe", "rejected by a safety rule", 422},
    {LP_EMETHOD, "method_not_allowed", "method not allowed", 405},
    {LP_ESEMANTIC, "unprocessable", "unprocessable input", 422},
    {LP_ERATE, "rate_limited", "too many requests", 429},
    {LP_ESLOW, "request_timeout", "request sent too slowly", 408},
    {LP_EURI, "uri_too_long", "request line too long", 414},
    {LP_EHEADERS, "headers_too_large", "request headers too large", 431},
    {LP_EVERSION, "http_version_not_supported", "HTTP version not supported", 505},
};

static const struct code_info *lookup(int code)
{
	size_t i;

	for (i = 0; i < sizeof(code_table) / sizeof(code_table[0]); i++)
		if (code_table[i].code == code)
			return &code_table[i];
	return &code_table[1]; /* unknown codes read as internal errors */
}

const char *lp_strerror(int code)
{
	return lookup(code)->text;
}

const char *lp_error_name(int code)
{
	return lookup(code)->name;
}

int lp_error_http_status(int code)
{
	return lookup(code)->http;
}

int lp_error_set(lp_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	lp_vfmt_text(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return code;
}

int lp_error_wrap(lp_error *err, const char *fmt, ...)
{
	char prefix[LP_ERROR_MESSAGE_MAX];
	char old[LP_ERROR_MESSAGE_MAX];
	va_list ap;

	if (err == NULL)
		return LP_ERROR;
	va_start(ap, fmt);
	lp_vfmt_text(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->message, sizeof(old));
	/* The context goes first, so on a cut the callee's detail at the end is what is lost. */
	lp_fmt_text(err->message, sizeof(err->message), "%s: %s", prefix, old);
	return err->code;
}
