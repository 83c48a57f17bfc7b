/*
 * fmt.h: formatting into fixed buffers that fails instead of truncating.
 *
 * Every fixed-size text buffer in LaunchPad is filled through lp_fmt, so a name, path or label
 * that would not fit is an error the caller must handle, never a silently shortened value.
 * Nothing is allocated; the caller owns out.
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

#endif
