/* metrics.c: request counters, and /healthz, /readyz and /metrics (Prometheus text format). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apiserver/apiserver_internal.h"
#include "launchpad/version.h"

static const int tracked_status[] = {200, 201, 202, 204, 400, 401, 403, 404, 405,
                                     408, 409, 413, 415, 422, 429, 500, 503, 504};
#define NSTATUS    (sizeof(tracked_status) / sizeof(tracked_status[0]))
#define MAX_ROUTES 64

struct api_metrics {
	pthread_mutex_t mu;
	uint64_t count[MAX_ROUTES + 1][NSTATUS + 1]; /* last column: any other status */
	double seconds[MAX_ROUTES + 1];
	uint64_t total[MAX_ROUTES + 1];

	/*
	 * The store figures read every site and revision: a scrape storm must not run that scan
	 * once per request (each holding a store handle). One scan at a time, reused for
	 * API_METRICS_TTL_S; scrapers that arrive meanwhile wait on cache_mu and reuse it.
	 */
	pthread_mutex_t cache_mu;
	char *cache;
	size_t cache_len;
	struct timespec cache_at;
};

int api_metrics_new(struct api_metrics **out)
{
	struct api_metrics *m = calloc(1, sizeof(*m));

	*out = NULL;
	if (m == NULL)
		return LP_ENOMEM;
	pthread_mutex_init(&m->mu, NULL);
	pthread_mutex_init(&m->cache_mu, NULL);
	*out = m;
	return LP_OK;
}

void api_metrics_free(struct api_metrics *m)
{
	if (m == NULL)
		return;
	pthread_mutex_destroy(&m->mu);
	pthread_mutex_destroy(&m->cache_mu);
	free(m->cache);
	free(m);
}

void api_metrics_count(struct api_metrics *m, size_t route_idx, int status, double seconds)
{
	size_t s;

	if (route_idx > MAX_ROUTES)
		route_idx = MAX_ROUTES;
	for (s = 0; s < NSTATUS && tracked_status[s] != status; s++)
		;
	pthread_mutex_lock(&m->mu);
	m->count[route_idx][s]++;
	m->seconds[route_idx] += seconds;
	m->total[route_idx]++;
	pthread_mutex_unlock(&m->mu);
}

void api_h_healthz(struct api_req *r)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "status", "ok");
	cJSON_AddStringToObject(o, "version", LP_VERSION);
	api_reply_json(r, 200, o);
}

void api_h_readyz(struct api_req *r)
{
	lp_error err = {0};
	lp_store *st = api_store(r);
	int version = 0;
	cJSON *o;

	if (st == NULL)
		return;
	if (lp_store_schema_version(&version, st, &err) != LP_OK) {
		api_reply_error(r, LP_EUNAVAILABLE, NULL, "store not ready: %s", err.message);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "status", "ready");
	cJSON_AddNumberToObject(o, "schemaVersion", version);
	api_reply_json(r, 200, o);
}

static const double build_buckets[] = {5, 15, 30, 60, 120, 300, 600, 1800, 3600};
#define NBUCKETS (sizeof(build_buckets) / sizeof(build_buckets[0]))

/* Deploy outcomes and build durations, from the revisions the store holds. */
static int store_figures(lp_buf *b, lp_store *st, lp_error *err)
{
	lp_store_site *sites = NULL;
	size_t nsites = 0, i, j, k;
	uint64_t by_state[LP_REV_STATE_COUNT] = {0}, buckets[NBUCKETS] = {0}, nbuild = 0;
	double sum = 0;
	int rc, ok = 1;

	if ((rc = lp_store_site_list(&sites, &nsites, st, 1, err)) != LP_OK)
		return rc;
	for (i = 0; i < nsites; i++) {
		lp_store_revision *revs = NULL;
		size_t n = 0;

		if ((rc = lp_store_revision_list(&revs, &n, st, sites[i].id, 0, err)) != LP_OK)
			goto done;
		for (j = 0; j < n; j++) {
			const lp_store_revision *v = &revs[j];
			double secs;

			if ((int)v->state >= 0 && v->state < LP_REV_STATE_COUNT)
				by_state[v->state]++;
			if (v->started_at <= 0 || v->finished_at < v->started_at)
				continue;
			secs = (double)(v->finished_at - v->started_at) / 1000.0;
			for (k = 0; k < NBUCKETS; k++)
				if (secs <= build_buckets[k])
					buckets[k]++;
			sum += secs;
			nbuild++;
		}
		lp_store_revisions_free(revs, n);
	}
	ok &= lp_buf_puts(b, "# HELP launchpad_sites Sites in the store (deleting ones included).\n"
	                     "# TYPE launchpad_sites gauge\n") == LP_OK;
	ok &= lp_buf_printf(b, "launchpad_sites %zu\n", nsites) == LP_OK;
	ok &= lp_buf_puts(b, "# HELP launchpad_revisions Revisions kept in the store, by state.\n"
	                     "# TYPE launchpad_revisions gauge\n") == LP_OK;
	for (k = 0; k < LP_REV_STATE_COUNT; k++)
		ok &= lp_buf_printf(b, "launchpad_revisions{state=\"%s\"} %llu\n",
		                    lp_store_rev_state_name((lp_store_rev_state)k),
		                    (unsigned long long)by_state[k]) == LP_OK;
	ok &= lp_buf_puts(
	          b, "# HELP launchpad_build_duration_seconds Build time of finished revisions.\n"
	             "# TYPE launchpad_build_duration_seconds histogram\n") == LP_OK;
	for (k = 0; k < NBUCKETS; k++)
		ok &= lp_buf_printf(b, "launchpad_build_duration_seconds_bucket{le=\"%g\"} %llu\n",
		                    build_buckets[k], (unsigned long long)buckets[k]) == LP_OK;
	ok &= lp_buf_printf(b,
	                    "launchpad_build_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
	                    "launchpad_build_duration_seconds_sum %.3f\n"
	                    "launchpad_build_duration_seconds_count %llu\n",
	                    (unsigned long long)nbuild, sum, (unsigned long long)nbuild) == LP_OK;
	/* A cut metrics text would read as wrong figures: refuse it instead. */
	if (!ok)
		rc = lp_error_set(err, LP_ETOOBIG, "metrics text too large");
done:
	lp_store_sites_free(sites, nsites);
	return rc;
}

/* Append the store figures, from the cache when it is fresh enough (see api_metrics). */
static int cached_store_figures(lp_buf *b, struct api_req *r, lp_error *err)
{
	struct api_metrics *m = r->srv->metrics;
	struct timespec now;
	lp_buf fresh;
	lp_store *st;
	int rc = LP_OK;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&m->cache_mu);
	if (m->cache && now.tv_sec - m->cache_at.tv_sec < API_METRICS_TTL_S)
		goto done;
	if ((st = api_pool_get(&r->srv->pool, err)) == NULL) {
		rc = err->code;
		goto done;
	}
	lp_buf_init(&fresh, 2 << 20);
	rc = store_figures(&fresh, st, err);
	api_pool_put(&r->srv->pool, st);
	if (rc != LP_OK) {
		lp_buf_release(&fresh);
		goto done;
	}
	free(m->cache);
	m->cache_len = fresh.len;
	m->cache = lp_buf_detach(&fresh);
	m->cache_at = now;
done:
	if (rc == LP_OK && m->cache && lp_buf_append(b, m->cache, m->cache_len) != LP_OK)
		rc = lp_error_set(err, LP_ETOOBIG, "metrics text too large");
	pthread_mutex_unlock(&m->cache_mu);
	return rc;
}

/* What the connection gate counts (gate.h): refusals, cut connections, what it holds now. */
static int gate_figures(lp_buf *b, api_gate *g)
{
	api_gate_stats st;

	api_gate_stats_get(&st, g);
	return lp_buf_printf(
	    b,
	    "# HELP launchpad_http_gate_total Connections by what the gate did with them.\n"
	    "# TYPE launchpad_http_gate_total counter\n"
	    "launchpad_http_gate_total{outcome=\"accepted\"} %llu\n"
	    "launchpad_http_gate_total{outcome=\"admitted\"} %llu\n"
	    "launchpad_http_gate_total{outcome=\"refused\"} %llu\n"
	    "launchpad_http_gate_total{outcome=\"head_timeout\"} %llu\n"
	    "launchpad_http_gate_total{outcome=\"evicted\"} %llu\n"
	    "launchpad_http_gate_total{outcome=\"idle_closed\"} %llu\n"
	    "launchpad_http_gate_total{outcome=\"slow_body\"} %llu\n"
	    "# HELP launchpad_http_connections Connections now, waiting for their head or served.\n"
	    "# TYPE launchpad_http_connections gauge\n"
	    "launchpad_http_connections{state=\"pending\"} %llu\n"
	    "launchpad_http_connections{state=\"served\"} %llu\n",
	    (unsigned long long)st.accepted, (unsigned long long)st.admitted,
	    (unsigned long long)st.refused, (unsigned long long)st.head_timeouts,
	    (unsigned long long)st.evicted, (unsigned long long)st.idle_closed,
	    (unsigned long long)st.slow_bodies, (unsigned long long)st.pending,
	    (unsigned long long)st.connections);
}

void api_h_metrics(struct api_req *r)
{
	struct api_metrics *m = r->srv->metrics;
	struct MHD_Response *resp;
	lp_error err = {0};
	lp_buf b;
	size_t i, s, len;
	char *text;
	int ok = 1;

	lp_buf_init(&b, 4 << 20);
	ok &= lp_buf_puts(&b,
	                  "# HELP launchpad_http_requests_total API requests by route and status.\n"
	                  "# TYPE launchpad_http_requests_total counter\n") == LP_OK;
	pthread_mutex_lock(&m->mu);
	for (i = 0; i <= api_nroutes && i <= MAX_ROUTES; i++) {
		const char *method = i < api_nroutes ? api_routes[i].method : "";
		const char *route = i < api_nroutes ? api_routes[i].pattern : "unmatched";

		for (s = 0; s <= NSTATUS; s++) {
			if (m->count[i][s] == 0)
				continue;
			if (s < NSTATUS)
				ok &= lp_buf_printf(
				          &b,
				          "launchpad_http_requests_total{method=\"%s\",route="
				          "\"%s\",status=\"%d\"} %llu\n",
				          method, route, tracked_status[s],
				          (unsigned long long)m->count[i][s]) == LP_OK;
			else
				ok &=
				    lp_buf_printf(
				        &b,
				        "launchpad_http_requests_total{method=\"%s\",route="
				        "\"%s\",status=\"other\"} %llu\n",
				        method, route, (unsigned long long)m->count[i][s]) == LP_OK;
		}
	}
	ok &= lp_buf_puts(
	          &b, "# HELP launchpad_http_request_duration_seconds Time to answer, by route.\n"
	              "# TYPE launchpad_http_request_duration_seconds summary\n") == LP_OK;
	for (i = 0; i <= api_nroutes && i <= MAX_ROUTES; i++) {
		if (m->total[i] == 0)
			continue;
		const char *method = i < api_nroutes ? api_routes[i].method : "";
		const char *route = i < api_nroutes ? api_routes[i].pattern : "unmatched";

		ok &=
		    lp_buf_printf(
		        &b,
		        "launchpad_http_request_duration_seconds_sum{method=\"%s\",route=\"%s\"} "
		        "%.6f\n"
		        "launchpad_http_request_duration_seconds_count{method=\"%s\",route=\"%s\"} "
		        "%llu\n",
		        method, route, m->seconds[i], method, route,
		        (unsigned long long)m->total[i]) == LP_OK;
	}
	pthread_mutex_unlock(&m->mu);
	ok &= gate_figures(&b, r->srv->gate) == LP_OK;
	/* A cut metrics text would read as wrong figures: refuse it instead. */
	if (!ok)
		lp_error_set(&err, LP_ETOOBIG, "metrics text too large");
	if (!ok || cached_store_figures(&b, r, &err) != LP_OK) {
		lp_buf_release(&b);
		api_reply_lperr(r, &err);
		return;
	}
	len = b.len;
	text = lp_buf_detach(&b);
	resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL)
		free(text);
	else
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		                        "text/plain; version=0.0.4; charset=utf-8");
	api_reply_raw(r, 200, resp, len);
}
