/* store_metrics.c: per-site request metrics in minute buckets, and deploy counts from revisions. */
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

const double lp_store_metrics_bounds[LP_STORE_METRICS_LAT - 1] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
};

/* Every counted column, in the order of lp_store_metrics after its time. */
#define METRICS_COLS                                                                               \
	"req_1xx, req_2xx, req_3xx, req_4xx, req_5xx, bytes_in, bytes_out, latency_sum, lat_0, "   \
	"lat_1,"                                                                                   \
	" lat_2, lat_3, lat_4, lat_5, lat_6, lat_7, lat_8, lat_9, lat_10"
#define METRICS_NCOLS (LP_STORE_METRICS_CLASSES + 3 + LP_STORE_METRICS_LAT)

/* Bind the counters of m from parameter first on. */
static void bind_metrics(sqlite3_stmt *q, int first, const lp_store_metrics *m)
{
	int i, p = first;

	for (i = 0; i < LP_STORE_METRICS_CLASSES; i++)
		sqlite3_bind_int64(q, p++, m->requests[i]);
	sqlite3_bind_int64(q, p++, m->bytes_in);
	sqlite3_bind_int64(q, p++, m->bytes_out);
	sqlite3_bind_double(q, p++, m->latency_sum);
	for (i = 0; i < LP_STORE_METRICS_LAT; i++)
		sqlite3_bind_int64(q, p++, m->latency[i]);
}

/* Read the counters of m from column first on. */
static void read_metrics(lp_store_metrics *m, sqlite3_stmt *q, int first)
{
	int i, c = first;

	for (i = 0; i < LP_STORE_METRICS_CLASSES; i++)
		m->requests[i] = sqlite3_column_int64(q, c++);
	m->bytes_in = sqlite3_column_int64(q, c++);
	m->bytes_out = sqlite3_column_int64(q, c++);
	m->latency_sum = sqlite3_column_double(q, c++);
	for (i = 0; i < LP_STORE_METRICS_LAT; i++)
		m->latency[i] = sqlite3_column_int64(q, c++);
}

static void add_metrics(lp_store_metrics *to, const lp_store_metrics *m)
{
	int i;

	for (i = 0; i < LP_STORE_METRICS_CLASSES; i++)
		to->requests[i] += m->requests[i];
	to->bytes_in += m->bytes_in;
	to->bytes_out += m->bytes_out;
	to->latency_sum += m->latency_sum;
	for (i = 0; i < LP_STORE_METRICS_LAT; i++)
		to->latency[i] += m->latency[i];
}

/* ?1 name, ?2 minute, ?3.. the counters: the site is found by name, live ones only. */
static const char sql_add[] =
    "INSERT INTO site_metrics (site_id, minute, " METRICS_COLS ")"
    " SELECT id, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
    " ?19, ?20, ?21 FROM sites WHERE name = ?1 AND deletion_timestamp IS NULL"
    " ON CONFLICT (site_id, minute) DO UPDATE SET"
    " req_1xx = req_1xx + excluded.req_1xx, req_2xx = req_2xx + excluded.req_2xx,"
    " req_3xx = req_3xx + excluded.req_3xx, req_4xx = req_4xx + excluded.req_4xx,"
    " req_5xx = req_5xx + excluded.req_5xx, bytes_in = bytes_in + excluded.bytes_in,"
    " bytes_out = bytes_out + excluded.bytes_out,"
    " latency_sum = latency_sum + excluded.latency_sum,"
    " lat_0 = lat_0 + excluded.lat_0, lat_1 = lat_1 + excluded.lat_1,"
    " lat_2 = lat_2 + excluded.lat_2, lat_3 = lat_3 + excluded.lat_3,"
    " lat_4 = lat_4 + excluded.lat_4, lat_5 = lat_5 + excluded.lat_5,"
    " lat_6 = lat_6 + excluded.lat_6, lat_7 = lat_7 + excluded.lat_7,"
    " lat_8 = lat_8 + excluded.lat_8, lat_9 = lat_9 + excluded.lat_9,"
    " lat_10 = lat_10 + excluded.lat_10";

int lp_store_metrics_record(size_t *out, lp_store *st, const lp_store_metrics_add *adds, size_t n,
                            int64_t drop_before, lp_error *err)
{
	size_t written = 0;
	static const char sql_drop[] = "DELETE FROM site_metrics WHERE minute < ?1";
	sqlite3_stmt *q = NULL;
	size_t i;
	int rc;

	if (out)
		*out = 0;
	if (n > LP_STORE_LIST_MAX)
		return lp_error_set(err, LP_ETOOBIG, "more than %d sites' metrics at once",
		                    LP_STORE_LIST_MAX);
	if ((rc = lp_store_tx_begin(st, err)) != LP_OK)
		return rc;
	for (i = 0; i < n && rc == LP_OK; i++) {
		if (adds[i].site_name == NULL) {
			rc = lp_error_set(err, LP_EINVAL, "metrics without a site name");
			break;
		}
		if ((rc = lp_store_q_prepare(&q, st, sql_add, err)) != LP_OK)
			break;
		lp_store_bind_text(q, 1, adds[i].site_name);
		sqlite3_bind_int64(q, 2, adds[i].m.time);
		bind_metrics(q, 3, &adds[i].m);
		rc = lp_store_q_exec(st, q, err, "recording metrics");
		written += rc == LP_OK && sqlite3_changes(st->db) > 0;
		lp_store_q_release(&q);
	}
	if (rc == LP_OK && drop_before > 0 &&
	    (rc = lp_store_q_prepare(&q, st, sql_drop, err)) == LP_OK) {
		sqlite3_bind_int64(q, 1, drop_before);
		rc = lp_store_q_exec(st, q, err, "dropping old metrics");
		lp_store_q_release(&q);
	}
	if (rc != LP_OK) {
		lp_store_tx_rollback(st);
		return rc;
	}
	if ((rc = lp_store_tx_commit(st, err)) == LP_OK && out)
		*out = written;
	return rc;
}

int lp_store_metrics_series(lp_store_metrics **out, size_t *out_count, lp_store_metrics *out_total,
                            lp_store *st, const char *site_id, int64_t from, int64_t step,
                            lp_error *err)
{
	static const char sql[] =
	    "SELECT (minute / ?3) * ?3 AS t, sum(req_1xx), sum(req_2xx), sum(req_3xx),"
	    " sum(req_4xx), sum(req_5xx), sum(bytes_in), sum(bytes_out), sum(latency_sum),"
	    " sum(lat_0), sum(lat_1), sum(lat_2), sum(lat_3), sum(lat_4), sum(lat_5), sum(lat_6),"
	    " sum(lat_7), sum(lat_8), sum(lat_9), sum(lat_10)"
	    " FROM site_metrics WHERE site_id = ?1 AND minute >= ?2 GROUP BY t ORDER BY t LIMIT ?4";
	lp_store_metrics *points = NULL;
	sqlite3_stmt *q = NULL;
	size_t n = 0;
	int rc, s;

	*out = NULL;
	*out_count = 0;
	memset(out_total, 0, sizeof(*out_total));
	if (site_id == NULL || step < LP_STORE_METRICS_MINUTE || step % LP_STORE_METRICS_MINUTE)
		return lp_error_set(err, LP_EINVAL,
		                    "a series needs a site and a step of whole minutes");
	points = calloc(LP_STORE_METRICS_POINTS, sizeof(*points));
	if (points == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	if ((rc = lp_store_q_prepare(&q, st, sql, err)) != LP_OK)
		goto done;
	lp_store_bind_text(q, 1, site_id);
	sqlite3_bind_int64(q, 2, from);
	sqlite3_bind_int64(q, 3, step);
	sqlite3_bind_int(q, 4, LP_STORE_METRICS_POINTS);
	while ((s = sqlite3_step(q)) == SQLITE_ROW) {
		points[n].time = sqlite3_column_int64(q, 0);
		read_metrics(&points[n], q, 1);
		add_metrics(out_total, &points[n]);
		out_total->time = n == 0 ? points[n].time : out_total->time;
		n++;
	}
	rc = s == SQLITE_DONE ? LP_OK : lp_store_fail(st, s, err, "reading metrics");
done:
	lp_store_q_release(&q);
	if (rc != LP_OK) {
		free(points);
		memset(out_total, 0, sizeof(*out_total));
		return rc;
	}
	*out = points;
	*out_count = n;
	return LP_OK;
}

int lp_store_deploy_stats_get(lp_store_deploy_stats *out, lp_store *st, const char *site_id,
                              int64_t from, lp_error *err)
{
	static const char sql[] =
	    "SELECT count(*) FILTER (WHERE state = 'ready'), count(*) FILTER (WHERE state = "
	    "'failed'),"
	    " count(*) FILTER (WHERE started_at IS NOT NULL AND finished_at >= started_at),"
	    " total(finished_at - started_at) FILTER (WHERE finished_at >= started_at),"
	    " max(finished_at - started_at) FILTER (WHERE finished_at >= started_at)"
	    " FROM revisions WHERE site_id = ?1 AND created_at >= ?2";
	sqlite3_stmt *q = NULL;
	int rc, s;

	memset(out, 0, sizeof(*out));
	if ((rc = lp_store_q_prepare(&q, st, sql, err)) != LP_OK)
		return rc;
	lp_store_bind_text(q, 1, site_id);
	sqlite3_bind_int64(q, 2, from);
	if ((s = sqlite3_step(q)) == SQLITE_ROW) {
		out->deploys = sqlite3_column_int64(q, 0);
		out->failed = sqlite3_column_int64(q, 1);
		out->builds = sqlite3_column_int64(q, 2);
		out->build_ms_total = (int64_t)sqlite3_column_double(q, 3);
		out->build_ms_max = sqlite3_column_int64(q, 4);
		rc = LP_OK;
	} else {
		rc = lp_store_fail(st, s, err, "reading revisions");
	}
	lp_store_q_release(&q);
	return rc;
}
