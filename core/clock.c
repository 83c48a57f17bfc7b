/* clock.c: wall and monotonic milliseconds, and Docker's RFC 3339 timestamps. */
#include "launchpad/clock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "launchpad/error.h"

static int64_t ms_of(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t lp_clock_wall_ms(void)
{
	return ms_of(CLOCK_REALTIME);
}

int64_t lp_clock_mono_ms(void)
{
	return ms_of(CLOCK_MONOTONIC);
}

void lp_clock_sleep_ms(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	if (ms <= 0)
		return;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int lp_clock_parse_rfc3339(int64_t *out, const char *s)
{
	struct tm tm;
	const char *p;
	int64_t ms = 0;
	int digits = 0;
	time_t t;

	*out = 0;
	memset(&tm, 0, sizeof(tm));
	if (s == NULL || (p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL || tm.tm_year < 70)
		return LP_EINVAL;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 3)
				ms = ms * 10 + (*p - '0');
		if (digits == 0)
			return LP_EINVAL;
		for (; digits < 3; digits++)
			ms *= 10;
	}
	if (strcmp(p, "Z") != 0)
		return LP_EINVAL;
	if ((t = timegm(&tm)) == (time_t)-1)
		return LP_EINVAL;
	*out = (int64_t)t * 1000 + ms;
	return LP_OK;
}
