/*
 * fmt.h: formatting into fixed buffers that fails instead of truncating.
 *
 * Every fixed-size text buffer in LaunchPad is filled through lp_fmt, so a name, path or label
 * that would not fit is an error the caller must handle, never a silently shortened value. Human
 * text alone (error messages, diagnostics, log lines) goes through lp_fmt_text, which may cut it
 * short but says so. Nothing is allocated; the caller owns out.
 */
#ifndef LAUNCHPAD_FMT_H
#define LAUNCHPAD_FMT_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Format into out (outlen bytes, NUL included). LP_OK when the whole text fit; LP_ETOOBIG (out
 * set to "") when it would not, or when outlen is 0.
 */
int lp_fmt(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), warn_unused_result));
int lp_vfmt(char *out, size_t outlen, const char *fmt, va_list ap)
    __attribute__((warn_unused_result));

/*
 * Human text into out (outlen bytes, NUL included): what does not fit is cut, never inside a UTF-8
 * sequence, and the cut is marked with a closing LP_FMT_CUT so a reader knows the text goes on.
 * Never fails (outlen 0 writes nothing).
 */
#define LP_FMT_CUT "\xe2\x80\xa6" /* U+2026 HORIZONTAL ELLIPSIS */
void lp_fmt_text(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void lp_vfmt_text(char *out, size_t outlen, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif
