/* store_status.c: controller-owned rows: site status (written only on change) and capped events. */
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

static void status_clear(void *row)
{
	lp_store_status *s = row;

	free(s->site_id);
	free(s->conditions_json);
	free(s->url);
	free(s->message);
	memset(s, 0, sizeof(*s));
}

static int status_read(void *row, sqlite3_stmt *q, lp_error *err)
{
	lp_store_status *s = row;

	s->site_id = lp_store_col_text(q, 0);
	if (lp_store_phase_parse(&s->phase, (const char *)sqlite3_column_text(q, 1)) != LP_OK)
		s->phase = LP_PHASE_PENDING; /* unreachable: a CHECK constraint guards the column */
	s->observed_generation = sqlite3_column_int64(q, 2);
	s->current_revision = sqlite3_column_int64(q, 3);
	s->conditions_json = lp_store_col_text(q, 4);
	s->url = lp_store_col_text(q, 5);
	s->message = lp_store_col_text(q, 6);
	s->updated_at = sqlite3_column_int64(q, 7);
	if (!s->site_id || !s->conditions_json || !s->url || !s->message)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	return LP_OK;
}

static const lp_store_rows status_rows = {sizeof(lp_store_status), status_read, status_clear,
                                          "statuses"};

void lp_store_status_free(lp_store_status *status)
{
	lp_store_rows_free(status, 1, &status_rows);
}

int lp_store_status_get(lp_store_status **out, lp_store *st, const char *site_id, lp_error *err)
{
	static const lp_store_query get = {
	    .sql = "SELECT site_id, phase, observed_generation, current_revision, conditions_json,"
	           " url, message, updated_at FROM status WHERE site_id = ?1",
	    .what = "reading status",
	    .bind = lp_store_bind_key,
	    .rows = &status_rows,
	};
	int rc = lp_store_get((void **)out, st, &get, site_id, err);

	if (rc == LP_ENOTFOUND)
		return lp_error_set(err, LP_ENOTFOUND, "no status for site %s",
		                    site_id != NULL ? site_id : "");
	return rc;
}

/* Column comparisons shared by the read-only probe and the conditional upsert. */
#define STATUS_DIFFERS                                                                             \
	"phase IS NOT ?2 OR observed_generation IS NOT ?3 OR current_revision IS NOT ?4"           \
	" OR conditions_json IS NOT ?5 OR url IS NOT ?6 OR message IS NOT ?7"

static void bind_status(sqlite3_stmt *q, const lp_store_status *in)
{
	lp_store_bind_text(q, 1, in->site_id);
	lp_store_bind_text(q, 2, lp_store_phase_name(in->phase));
	sqlite3_bind_int64(q, 3, in->observed_generation);
	sqlite3_bind_int64(q, 4, in->current_revision);
	lp_store_bind_text(q, 5, in->conditions_json != NULL ? in->conditions_json : "[]");
	lp_store_bind_text(q, 6, in->url);
	lp_store_bind_text(q, 7, in->message);
}

/* 1 when no row exists or a field differs; 0 when the stored row is identical. */
static const char sql_probe[] = "SELECT NOT EXISTS (SELECT 1 FROM status WHERE site_id = ?1"
                                " AND NOT (" STATUS_DIFFERS "))";

int lp_store_status_differs(int *out, lp_store *st, const lp_store_status *in, lp_error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	*out = 1;
	if (in == NULL || in->site_id == NULL)
		return lp_error_set(err, LP_EINVAL, "no status given");
	if ((rc = lp_store_q_prepare(&q, st, sql_probe, err)) != LP_OK)
		return rc;
	bind_status(q, in);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int(q, 0);
		rc = LP_OK;
	} else {
		rc = lp_store_fail(st, rc, err, "reading status");
	}
	lp_store_q_release(&q);
	return rc;
}

int lp_store_status_put(int *out, lp_store *st, const lp_store_status *in, lp_error *err)
{
	static const char sql_upsert[] =
	    "INSERT INTO status (site_id, phase, observed_generation, current_revision,"
	    " conditions_json, url, message, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
	    " ON CONFLICT (site_id) DO UPDATE SET phase = excluded.phase,"
	    " observed_generation = excluded.observed_generation,"
	    " current_revision = excluded.current_revision,"
	    " conditions_json = excluded.conditions_json, url = excluded.url,"
	    " message = excluded.message, updated_at = excluded.updated_at"
	    " WHERE " STATUS_DIFFERS;
	sqlite3_stmt *q = NULL;
	int rc, in_tx = 0, changed = 0;

	if (in == NULL)
		return lp_error_set(err, LP_EINVAL, "no status given");
	if ((int)in->phase < (int)LP_PHASE_PENDING || (int)in->phase > (int)LP_PHASE_DELETING)
		return lp_error_set(err, LP_EINVAL, "unknown phase %d", (int)in->phase);
	if ((rc = lp_store_check_text("site id", in->site_id, LP_STORE_TEXT_MAX, 1, err)) !=
	        LP_OK ||
	    (rc = lp_store_check_text("conditions", in->conditions_json, LP_STORE_CONDITIONS_MAX, 0,
	                              err)) != LP_OK ||
	    (rc = lp_store_check_text("url", in->url, LP_STORE_TEXT_MAX, 0, err)) != LP_OK ||
	    (rc = lp_store_check_text("message", in->message, LP_STORE_TEXT_MAX, 0, err)) != LP_OK)
		return rc;
	/* Steady state must not even take the write lock: probe with a plain read first. */
	rc = lp_store_q_prepare(&q, st, sql_probe, err);
	if (rc != LP_OK)
		goto done;
	bind_status(q, in);
	rc = sqlite3_step(q);
	if (rc != SQLITE_ROW) {
		rc = lp_store_fail(st, rc, err, "reading status");
		goto done;
	}
	changed = sqlite3_column_int(q, 0);
	lp_store_q_release(&q);
	rc = LP_OK;
	if (!changed)
		goto done;
	rc = lp_store_tx_begin(st, err);
	if (rc != LP_OK)
		goto done;
	in_tx = 1;
	rc = lp_store_q_prepare(&q, st, sql_upsert, err);
	if (rc != LP_OK)
		goto done;
	bind_status(q, in);
	sqlite3_bind_int64(q, 8, lp_clock_wall_ms());
	rc = lp_store_q_exec(st, q, err, "writing status");
	lp_store_q_release(&q);
	if (rc == LP_ENOTFOUND)
		rc = lp_error_set(err, LP_ENOTFOUND, "site %s not found", in->site_id);
	if (rc != LP_OK)
		goto done;
	changed = sqlite3_changes(st->db) > 0;
	in_tx = 0;
	rc = lp_store_tx_commit(st, err);
done:
	lp_store_q_release(&q);
	if (in_tx)
		lp_store_tx_rollback(st);
	if (rc == LP_OK && out != NULL)
		*out = changed;
	return rc;
}

int lp_store_event_add(lp_store *st, const char *site_id, lp_store_event_type type,
                       const char *reason, const char *message, lp_error *err)
{
	static const char sql_insert[] =
	    "INSERT INTO events (site_id, site_name, time, type, reason, message)"
	    " SELECT id, name, ?2, ?3, ?4, ?5 FROM sites WHERE id = ?1";
	/* Drop everything older than the cap-th newest event of the site. */
	static const char sql_trim[] =
	    "DELETE FROM events WHERE site_id = ?1 AND id <= (SELECT id FROM events"
	    " WHERE site_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)";
	sqlite3_stmt *q = NULL;
	int rc, in_tx = 0;

	if (type != LP_EVENT_NORMAL && type != LP_EVENT_WARNING)
		return lp_error_set(err, LP_EINVAL, "unknown event type %d", (int)type);
	if ((rc = lp_store_check_text("reason", reason, LP_STORE_TEXT_MAX, 1, err)) != LP_OK ||
	    (rc = lp_store_check_text("message", message, LP_STORE_TEXT_MAX, 0, err)) != LP_OK)
		return rc;
	rc = lp_store_tx_begin(st, err);
	if (rc != LP_OK)
		goto done;
	in_tx = 1;
	rc = lp_store_q_prepare(&q, st, sql_insert, err);
	if (rc != LP_OK)
		goto done;
	lp_store_bind_text(q, 1, site_id);
	sqlite3_bind_int64(q, 2, lp_clock_wall_ms());
	lp_store_bind_text(q, 3, lp_store_event_type_name(type));
	lp_store_bind_text(q, 4, reason);
	lp_store_bind_text(q, 5, message);
	rc = lp_store_q_exec(st, q, err, "adding event");
	lp_store_q_release(&q);
	if (rc != LP_OK)
		goto done;
	if (sqlite3_changes(st->db) == 0) {
		rc = lp_error_set(err, LP_ENOTFOUND, "site %s not found",
		                  site_id != NULL ? site_id : "");
		goto done;
	}
	rc = lp_store_q_prepare(&q, st, sql_trim, err);
	if (rc != LP_OK)
		goto done;
	lp_store_bind_text(q, 1, site_id);
	sqlite3_bind_int(q, 2, st->event_cap);
	rc = lp_store_q_exec(st, q, err, "trimming events");
	lp_store_q_release(&q);
	if (rc != LP_OK)
		goto done;
	in_tx = 0;
	rc = lp_store_tx_commit(st, err);
done:
	lp_store_q_release(&q);
	if (in_tx)
		lp_store_tx_rollback(st);
	return rc;
}

static void event_clear(void *row)
{
	lp_store_event *e = row;

	free(e->site_id);
	free(e->site_name);
	free(e->reason);
	free(e->message);
	memset(e, 0, sizeof(*e));
}

static int event_read(void *row, sqlite3_stmt *q, lp_error *err)
{
	const char *type = (const char *)sqlite3_column_text(q, 4);
	lp_store_event *e = row;

	e->id = sqlite3_column_int64(q, 0);
	e->site_id = lp_store_col_text(q, 1);
	e->site_name = lp_store_col_text(q, 2);
	e->time = sqlite3_column_int64(q, 3);
	e->type = type != NULL && strcmp(type, "Warning") == 0 ? LP_EVENT_WARNING : LP_EVENT_NORMAL;
	e->reason = lp_store_col_text(q, 5);
	e->message = lp_store_col_text(q, 6);
	if (!e->site_id || !e->site_name || !e->reason || !e->message)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	return LP_OK;
}

static const lp_store_rows event_rows = {sizeof(lp_store_event), event_read, event_clear, "events"};

void lp_store_events_free(lp_store_event *events, size_t count)
{
	lp_store_rows_free(events, count, &event_rows);
}

int lp_store_event_list(lp_store_event **out, size_t *out_count, lp_store *st, const char *site_id,
                        size_t limit, lp_error *err)
{
	static const lp_store_query list = {
	    .sql = "SELECT id, site_id, site_name, time, type, reason, message"
	           " FROM events WHERE site_id = ?1 ORDER BY id DESC LIMIT ?2",
	    .what = "listing events",
	    .bind = lp_store_bind_key,
	    .rows = &event_rows,
	};

	if (limit == 0 || limit > (size_t)st->event_cap)
		limit = (size_t)st->event_cap;
	return lp_store_list((void **)out, out_count, st, &list, site_id, limit, err);
}
