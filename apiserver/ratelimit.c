/*
 * ratelimit.c: revision requests per site, a token bucket each: burst tokens, refilled at
 * per_minute a minute. 300 redeploys in a row once left 295 revisions no build would ever reach;
 * past its burst a site waits (429 with Retry-After) instead.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/apiserver_internal.h"

struct bucket {
	char site[LP_STORE_ID_LEN]; /* "" free */
	double tokens;
	int64_t at_ms; /* when tokens was right */
};

struct api_rate {
	pthread_mutex_t mu;
	double burst;
	double per_ms; /* tokens regained a millisecond */
	size_t n;
	struct bucket b[API_RATE_SITES];
};

int api_rate_new(struct api_rate **out, int burst, int per_minute)
{
	struct api_rate *rt = calloc(1, sizeof(*rt));

	*out = NULL;
	if (rt == NULL)
		return LP_ENOMEM;
	pthread_mutex_init(&rt->mu, NULL);
	rt->burst = burst;
	rt->per_ms = per_minute / 60000.0;
	*out = rt;
	return LP_OK;
}

void api_rate_free(struct api_rate *rt)
{
	if (rt == NULL)
		return;
	pthread_mutex_destroy(&rt->mu);
	free(rt);
}

/* The bucket's tokens at now. */
static double refilled(const struct api_rate *rt, const struct bucket *b, int64_t now)
{
	double t = b->tokens + (double)(now - b->at_ms) * rt->per_ms;

	return t > rt->burst ? rt->burst : t;
}

/*
 * site's bucket (made full when new). With every entry taken, the fullest goes: a full bucket is
 * what a site without one has, so forgetting it costs nothing, and the fullest is the nearest.
 */
static struct bucket *bucket_of(struct api_rate *rt, const char *site, int64_t now)
{
	struct bucket *b = NULL;
	size_t i, len;

	for (i = 0; i < rt->n; i++)
		if (!strcmp(rt->b[i].site, site))
			return &rt->b[i];
	if (rt->n < API_RATE_SITES) {
		b = &rt->b[rt->n++];
	} else {
		for (i = 0; i < rt->n; i++)
			if (b == NULL || refilled(rt, &rt->b[i], now) > refilled(rt, b, now))
				b = &rt->b[i];
	}
	/* ids are the store's, which fit; a longer key would share its cut name */
	len = strnlen(site, sizeof(b->site) - 1);
	memcpy(b->site, site, len);
	b->site[len] = '\0';
	b->tokens = rt->burst;
	b->at_ms = now;
	return b;
}

int api_rate_take(struct api_rate *rt, const char *site, int64_t now_ms, int *out_retry_after)
{
	struct bucket *b;
	int rc = LP_OK;

	*out_retry_after = 0;
	if (rt->burst <= 0)
		return LP_OK;
	pthread_mutex_lock(&rt->mu);
	b = bucket_of(rt, site, now_ms);
	b->tokens = refilled(rt, b, now_ms);
	b->at_ms = now_ms;
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
	} else {
		/* whole seconds until a token is back, rounded up (past float noise), at least 1 */
		double secs = (1.0 - b->tokens) / rt->per_ms / 1000.0;
		int whole = (int)secs;

		*out_retry_after = whole + (secs - whole > 1e-6 || whole == 0);
		rc = LP_ERATE;
	}
	pthread_mutex_unlock(&rt->mu);
	return rc;
}

void api_rate_give(struct api_rate *rt, const char *site, int64_t now_ms)
{
	struct bucket *b;

	if (rt->burst <= 0)
		return;
	pthread_mutex_lock(&rt->mu);
	b = bucket_of(rt, site, now_ms);
	b->tokens = refilled(rt, b, now_ms) + 1.0;
	if (b->tokens > rt->burst)
		b->tokens = rt->burst;
	b->at_ms = now_ms;
	pthread_mutex_unlock(&rt->mu);
}
