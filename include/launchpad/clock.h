/*
 * clock.h: the two clocks LaunchPad uses, and the one timestamp format it reads.
 *
 * Wall time (CLOCK_REALTIME) is for what is stored or shown (created_at, log lines); monotonic
 * time (CLOCK_MONOTONIC) is for deadlines and durations, which must not jump with the wall clock.
 */
#ifndef LAUNCHPAD_CLOCK_H
#define LAUNCHPAD_CLOCK_H

#include <stdint.h>

/* Milliseconds since the Unix epoch. */
int64_t lp_clock_wall_ms(void);
/* Milliseconds on the monotonic clock (an arbitrary origin). */
int64_t lp_clock_mono_ms(void);
/* Sleep ms milliseconds (restarted after signals). */
void lp_clock_sleep_ms(int64_t ms);

/*
 * Parse an RFC 3339 UTC time as Docker writes it ("2026-12-01T17:33:02.123456789Z") into ms since
 * the epoch. LP_EINVAL for anything else (Docker's zero time "0001-01-01T00:00:00Z" included).
 */
int lp_clock_parse_rfc3339(int64_t *out, const char *s) __attribute__((warn_unused_result));

#endif
