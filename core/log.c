/* log.c: one-line-per-write logging in text or JSON-lines form. */
#include "launchpad/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "launchpad/buf.h"
#include "launchpad/clock.h"
#include "launchpad/error.h"
#include "launchpad/fmt.h"

/* Written once at start-up before threads exist, read-only afterwards. */
static lp_log_level min_level = LP_LOG_INFO;
static lp_log_format out_format = LP_LOG_TEXT;
static int out_fd = 2;

static const char *const level_names[] = {"debug", "info", "warn", "error"};
#define NLEVELS (sizeof(level_names) / sizeof(level_names[0]))

/* A longer message is cut (and marked so): a log line is for people. */
#define LOG_MSG_MAX 4096
/* "2026-12-01T17:33:02.123Z", with room for a year past 9999. */
#define LOG_TS_MAX 40
/* Escaping grows a byte to at most 6 ("\u001f"), so any message fits beside a short component. */
#define LOG_LINE_MAX (6 * LOG_MSG_MAX + 1024)

void lp_log_setup(lp_log_level min, lp_log_format format, int fd)
{
	min_level = min;
	out_format = format;
	out_fd = fd;
}

const char *lp_log_level_name(lp_log_level level)
{
	return (size_t)level < NLEVELS ? level_names[level] : "?";
}

int lp_log_level_parse(lp_log_level *out, const char *s)
{
	size_t i;

	for (i = 0; i < NLEVELS; i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (lp_log_level)i;
			return LP_OK;
		}
	}
	return LP_EINVAL;
}

int lp_log_format_parse(lp_log_format *out, const char *s)
{
	if (strcmp(s, "text") == 0)
		*out = LP_LOG_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = LP_LOG_JSON;
	else
		return LP_EINVAL;
	return LP_OK;
}

static int json_escape(lp_buf *b, const char *s)
{
	int rc = LP_OK;

	for (; *s && rc == LP_OK; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			rc = lp_buf_printf(b, "\\%c", c);
		else if (c == '\n')
			rc = lp_buf_puts(b, "\\n");
		else if (c < 0x20)
			rc = lp_buf_printf(b, "\\u%04x", c);
		else
			rc = lp_buf_putc(b, (char)c);
	}
	return rc;
}

static int format_line(lp_buf *line, lp_log_level level, const char *component, const char *ts,
                       const char *msg)
{
	int rc;

	if (out_format != LP_LOG_JSON)
		return lp_buf_printf(line, "%s %-5s %s: %s\n", ts, level_names[level], component,
		                     msg);
	rc = lp_buf_printf(line, "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":\"", ts,
	                   level_names[level]);
	if (rc == LP_OK)
		rc = json_escape(line, component);
	if (rc == LP_OK)
		rc = lp_buf_puts(line, "\",\"msg\":\"");
	if (rc == LP_OK)
		rc = json_escape(line, msg);
	if (rc == LP_OK)
		rc = lp_buf_puts(line, "\"}\n");
	return rc;
}

void lp_log(lp_log_level level, const char *component, const char *fmt, ...)
{
	static const char lost[] = "launchpad: a log line could not be formatted\n";
	char msg[LOG_MSG_MAX], ts[LOG_TS_MAX];
	int64_t now;
	time_t sec;
	struct tm tm;
	va_list ap;
	lp_buf line;
	ssize_t w;

	if (level < min_level)
		return;
	va_start(ap, fmt);
	lp_vfmt_text(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	now = lp_clock_wall_ms();
	sec = (time_t)(now / 1000);
	gmtime_r(&sec, &tm);
	if (lp_fmt(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
	           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	           (long)(now % 1000)) != LP_OK)
		lp_fmt_text(ts, sizeof(ts), "%lld", (long long)now);

	lp_buf_init(&line, LOG_LINE_MAX);
	/* Out of memory, or a component name past the cap: the fixed line still shows a loss. */
	if (format_line(&line, level, component, ts, msg) == LP_OK)
		w = write(out_fd, lp_buf_cstr(&line), line.len);
	else
		w = write(out_fd, lost, sizeof(lost) - 1);
	(void)w; /* nowhere left to report a failed log write */
	lp_buf_release(&line);
}
