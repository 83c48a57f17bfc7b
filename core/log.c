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

/* Written once at start-up before threads exist, read-only afterwards. */
static lp_log_level min_level = LP_LOG_INFO;
static lp_log_format out_format = LP_LOG_TEXT;
static int out_fd = 2;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void lp_log_setup(lp_log_level min, lp_log_format format, int fd)
{
	min_level = min;
	out_format = format;
	out_fd = fd;
}

int lp_log_level_parse(lp_log_level *out, const char *s)
{
	int i;

	for (i = 0; i < 4; i++) {
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

static void json_escape(lp_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			lp_buf_printf(b, "\\%c", c);
		else if (c == '\n')
			lp_buf_puts(b, "\\n");
		else if (c < 0x20)
			lp_buf_printf(b, "\\u%04x", c);
		else
			lp_buf_putc(b, (char)c);
	}
}

void lp_log(lp_log_level level, const char *component, const char *fmt, ...)
{
	char msg[4096], ts[40];
	int64_t now;
	time_t sec;
	struct tm tm;
	va_list ap;
	lp_buf line;
	ssize_t w;

	if (level < min_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	now = lp_clock_wall_ms();
	sec = (time_t)(now / 1000);
	gmtime_r(&sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(now % 1000));

	lp_buf_init(&line, 8192);
	if (out_format == LP_LOG_JSON) {
		lp_buf_printf(&line, "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":\"", ts,
		              level_names[level]);
		json_escape(&line, component);
		lp_buf_puts(&line, "\",\"msg\":\"");
		json_escape(&line, msg);
		lp_buf_puts(&line, "\"}\n");
	} else {
		lp_buf_printf(&line, "%s %-5s %s: %s\n", ts, level_names[level], component, msg);
	}
	w = write(out_fd, lp_buf_cstr(&line), line.len);
	(void)w; /* nowhere left to report a failed log write */
	lp_buf_release(&line);
}
