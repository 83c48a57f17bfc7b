/*
 * log.h: process-wide logging, as text lines or JSON lines, filtered by level.
 *
 * One global sink set once at start-up by lp_log_setup() (stderr, text, info by default). Safe to
 * call from any thread: a line is written with one write(2). Nothing to free.
 */
#ifndef LAUNCHPAD_LOG_H
#define LAUNCHPAD_LOG_H

#include "launchpad/error.h"

typedef enum lp_log_level {
	LP_LOG_DEBUG = 0,
	LP_LOG_INFO = 1,
	LP_LOG_WARN = 2,
	LP_LOG_ERROR = 3
} lp_log_level;

typedef enum lp_log_format { LP_LOG_TEXT = 0, LP_LOG_JSON = 1 } lp_log_format;

/* fd is where lines go (2 for stderr). */
void lp_log_setup(lp_log_level min, lp_log_format format, int fd);
int lp_log_level_parse(lp_log_level *out, const char *s) LP_MUST_CHECK;
int lp_log_format_parse(lp_log_format *out, const char *s) LP_MUST_CHECK;
/* "debug", "info", "warn" or "error". */
const char *lp_log_level_name(lp_log_level level);

/* component names the module ("controller", "store"); the message is printf-style. */
void lp_log(lp_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define LP_DEBUG(comp, ...) lp_log(LP_LOG_DEBUG, comp, __VA_ARGS__)
#define LP_INFO(comp, ...)  lp_log(LP_LOG_INFO, comp, __VA_ARGS__)
#define LP_WARN(comp, ...)  lp_log(LP_LOG_WARN, comp, __VA_ARGS__)
#define LP_ERR(comp, ...)   lp_log(LP_LOG_ERROR, comp, __VA_ARGS__)

#endif
