/*
 * site_metrics.c: GET /api/deployments/:id/metrics?window=1h|24h|7d: a site's requests through
 * the edge (by status class, bytes, a latency histogram) over the window as totals and a series,
 * plus its deploys and build times from the revisions created in the window.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/apiserver_internal.h"
#include "launchpad/clock.h"
#include "launchpad/store.h"

/* A window and the step of its series: 60, 96 and 168 points. */
struct window {
	const char *name;
	int64_t span_ms;
	int64_t step_ms;
};

static const struct window windows[] = {
    {"1h", 3600000LL, 60000LL},
    {"24h", 86400000LL, 900000LL},
    {"7d", 604800000LL, 3600000LL},
};

static const char *const class_names[LP_STORE_METRICS_CLASSES] = {"1xx", "2xx", "3xx", "4xx",
                                                                  "5xx"};

static int64_t requests_of(const lp_store_metrics *m)
{
	int64_t n = 0;
	int i;

	for (i = 0; i < LP_STORE_METRICS_CLASSES; i++)
		n += m->requests[i];
	return n;
}

/* The upper bound (seconds) below which a share q of the histogram's requests fell; 0: none. */
static double quantile(const lp_store_metrics *m, double q)
{
	int64_t total = 0, seen = 0;
	int i;

	for (i = 0; i < LP_STORE_METRICS_LAT; i++)
		total += m->latency[i];
	if (total == 0)
		return 0;
	for (i = 0; i < LP_STORE_METRICS_LAT - 1; i++) {
		seen += m->latency[i];
		if ((double)seen >= q * (double)total)
			return lp_store_metrics_bounds[i];
	}
	return lp_store_metrics_bounds[LP_STORE_METRICS_LAT - 2]; /* slower than the last bound */
}

static cJSON *classes_json(const lp_store_metrics *m)
{
	cJSON *o = cJSON_CreateObject();
	int i;

	for (i = 0; o && i < LP_STORE_METRICS_CLASSES; i++)
		cJSON_AddNumberToObject(o, class_names[i], (double)m->requests[i]);
	return o;
}

static cJSON *totals_json(const lp_store_metrics *m)
{
	cJSON *o = cJSON_CreateObject(), *lat = cJSON_CreateObject(),
	      *buckets = cJSON_CreateArray();
	int64_t n = requests_of(m);
	int i;

	cJSON_AddNumberToObject(o, "requests", (double)n);
	cJSON_AddItemToObject(o, "byClass", classes_json(m));
	cJSON_AddNumberToObject(o, "bytesIn", (double)m->bytes_in);
	cJSON_AddNumberToObject(o, "bytesOut", (double)m->bytes_out);
	for (i = 0; buckets && i < LP_STORE_METRICS_LAT; i++) {
		cJSON *b = cJSON_CreateObject();

		if (i < LP_STORE_METRICS_LAT - 1)
			cJSON_AddNumberToObject(b, "le", lp_store_metrics_bounds[i]);
		else
			cJSON_AddStringToObject(b, "le", "+Inf");
		cJSON_AddNumberToObject(b, "count", (double)m->latency[i]);
		cJSON_AddItemToArray(buckets, b);
	}
	cJSON_AddNumberToObject(lat, "meanSeconds", n ? m->latency_sum / (double)n : 0);
	cJSON_AddNumberToObject(lat, "p50Seconds", quantile(m, 0.5));
	cJSON_AddNumberToObject(lat, "p99Seconds", quantile(m, 0.99));
	cJSON_AddItemToObject(lat, "buckets", buckets);
	cJSON_AddItemToObject(o, "latency", lat);
	return o;
}

static cJSON *series_json(const lp_store_metrics *points, size_t n)
{
	cJSON *arr = cJSON_CreateArray();
	size_t i;

	for (i = 0; arr && i < n; i++) {
		cJSON *p = cJSON_CreateObject();
		int64_t reqs = requests_of(&points[i]);

		cJSON_AddItemToObject(p, "time", api_time_json(points[i].time));
		cJSON_AddNumberToObject(p, "requests", (double)reqs);
		cJSON_AddItemToObject(p, "byClass", classes_json(&points[i]));
		cJSON_AddNumberToObject(p, "bytesOut", (double)points[i].bytes_out);
		cJSON_AddNumberToObject(p, "meanLatencySeconds",
		                        reqs ? points[i].latency_sum / (double)reqs : 0);
		cJSON_AddItemToArray(arr, p);
	}
	return arr;
}

static cJSON *deploys_json(const lp_store_deploy_stats *d)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "deploys", (double)d->deploys);
	cJSON_AddNumberToObject(o, "failed", (double)d->failed);
	cJSON_AddNumberToObject(o, "builds", (double)d->builds);
	cJSON_AddNumberToObject(o, "buildSecondsMean",
	                        d->builds ? (double)d->build_ms_total / 1000.0 / (double)d->builds
	                                  : 0);
	cJSON_AddNumberToObject(o, "buildSecondsMax", (double)d->build_ms_max / 1000.0);
	return o;
}

void api_h_site_metrics(struct api_req *r)
{
	const char *w = api_query(r, "window");
	const struct window *win = NULL;
	lp_store_metrics *points = NULL, total;
	lp_store_deploy_stats deploys;
	lp_store_site *site = NULL;
	int64_t now = lp_clock_wall_ms(), from;
	size_t n = 0, i;
	lp_error err = {0};
	cJSON *o;

	for (i = 0; i < sizeof(windows) / sizeof(windows[0]); i++)
		if (!strcmp(w ? w : "1h", windows[i].name))
			win = &windows[i];
	if (win == NULL) {
		api_reply_error(r, LP_EINVAL, NULL, "window must be 1h, 24h or 7d");
		return;
	}
	if ((site = api_site_lookup(r)) == NULL)
		return;
	/* the first point is whole: the window starts on a step */
	from = now - win->span_ms + win->step_ms;
	from -= from % win->step_ms;
	if (lp_store_metrics_series(&points, &n, &total, r->store, site->id, from, win->step_ms,
	                            &err) != LP_OK ||
	    lp_store_deploy_stats_get(&deploys, r->store, site->id, from, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		goto done;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", site->name);
	cJSON_AddStringToObject(o, "window", win->name);
	cJSON_AddItemToObject(o, "from", api_time_json(from));
	cJSON_AddItemToObject(o, "to", api_time_json(now));
	cJSON_AddNumberToObject(o, "stepSeconds", (double)(win->step_ms / 1000));
	cJSON_AddItemToObject(o, "totals", totals_json(&total));
	cJSON_AddItemToObject(o, "series", series_json(points, n));
	cJSON_AddItemToObject(o, "revisions", deploys_json(&deploys));
	api_reply_json(r, 200, o);
done:
	free(points);
	lp_store_site_free(site);
}
