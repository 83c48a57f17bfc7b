/* store_revisions.c: revision rows: reads, controller progress, history removal, crash recovery. */
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

#define REV_COLS                                                                                   \
	"site_id, number, source, trigger, state, message, spec_hash, resolved_source,"            \
	" created_at, started_at, finished_at, log_path"

static void rev_clear(lp_store_revision *r)
{
	free(r->site_id);
	free(r->source);
	free(r->message);
	free(r->spec_hash);
	free(r->resolved_source);
	free(r->log_path);
	memset(r, 0, sizeof(*r));
}

void lp_store_revision_free(lp_store_revision *rev)
{
	if (rev == NULL)
		return;
	rev_clear(rev);
	free(rev);
}

void lp_store_revisions_free(lp_store_revision *revs, size_t count)
{
	size_t i;

	if (revs == NULL)
		return;
	for (i = 0; i < count; i++)
		rev_clear(&revs[i]);
	free(revs);
}

static int rev_from_row(lp_store_revision *r, sqlite3_stmt *q, lp_error *err)
{
	const char *trigger = (const char *)sqlite3_column_text(q, 3);
	const char *state = (const char *)sqlite3_column_text(q, 4);

	r->site_id = lp_store_col_text(q, 0);
	r->number = sqlite3_column_int64(q, 1);
	r->source = lp_store_col_text(q, 2);
	/* CHECK constraints keep both columns within the enums. */
	if (lp_store_trigger_parse(&r->trigger, trigger) != LP_OK)
		r->trigger = LP_TRIGGER_APPLY;
	if (lp_store_rev_state_parse(&r->state, state) != LP_OK)
		r->state = LP_REV_FAILED;
	r->message = lp_store_col_text(q, 5);
	r->spec_hash = lp_store_col_text(q, 6);
	r->resolved_source = lp_store_col_text(q, 7);
	r->created_at = sqlite3_column_int64(q, 8);
	r->started_at = sqlite3_column_int64(q, 9);
	r->finished_at = sqlite3_column_int64(q, 10);
	r->log_path = lp_store_col_text(q, 11);
	if (!r->site_id || !r->source || !r->message || !r->spec_hash || !r->resolved_source ||
	    !r->log_path) {
		rev_clear(r);
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	return LP_OK;
}

int lp_store_revision_next(int64_t *out, lp_store *st, const char *site_id, lp_error *err)
{
	static const char sql[] =
	    "SELECT coalesce(max(number), 0) + 1 FROM revisions WHERE site_id = ?1";
	sqlite3_stmt *q = NULL;
	int rc;

	rc = lp_store_q_prepare(&q, st, sql, err);
	if (rc != LP_OK)
		return rc;
	lp_store_bind_text(q, 1, site_id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(q, 0);
		rc = LP_OK;
	} else {
		rc = lp_store_fail(st, rc, err, "numbering revision");
	}
	lp_store_q_release(&q);
	return rc;
}

int lp_store_revision_insert(lp_store *st, const char *site_id, int64_t number,
                             lp_store_trigger trigger, const char *source, const char *spec_hash,
                             int64_t now, lp_error *err)
{
	static const char sql[] =
	    "INSERT INTO revisions (site_id, number, source, trigger, state,"
	    " spec_hash, created_at) VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?6)";
	sqlite3_stmt *q = NULL;
	int rc;

	rc = lp_store_q_prepare(&q, st, sql, err);
	if (rc != LP_OK)
		return rc;
	lp_store_bind_text(q, 1, site_id);
	sqlite3_bind_int64(q, 2, number);
	lp_store_bind_text(q, 3, source);
	lp_store_bind_text(q, 4, lp_store_trigger_name(trigger));
	lp_store_bind_text(q, 5, spec_hash);
	sqlite3_bind_int64(q, 6, now);
	rc = lp_store_q_exec(st, q, err, "requesting revision");
	lp_store_q_release(&q);
	return rc;
}

int lp_store_revision_get(lp_store_revision **out, lp_store *st, const char *site_id,
                          int64_t number, lp_error *err)
{
	static const char sql[] =
	    "SELECT " REV_COLS " FROM revisions WHERE site_id = ?1 AND number = ?2";
	lp_store_revision *r = NULL;
	sqlite3_stmt *q = NULL;
	int rc;

	*out = NULL;
	rc = lp_store_q_prepare(&q, st, sql, err);
	if (rc != LP_OK)
		goto done;
	lp_store_bind_text(q, 1, site_id);
	sqlite3_bind_int64(q, 2, number);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE) {
		rc = lp_error_set(err, LP_ENOTFOUND, "revision %lld not found", (long long)number);
		goto done;
	}
	if (rc != SQLITE_ROW) {
		rc = lp_store_fail(st, rc, err, "reading revision");
		goto done;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		rc = lp_error_set(err, LP_ENOMEM, "out of memory");
		goto done;
	}
	rc = rev_from_row(r, q, err);
	if (rc != LP_OK)
		goto done;
	*out = r;
	r = NULL;
done:
	lp_store_q_release(&q);
	free(r);
	return rc;
}

int lp_store_revision_list(lp_store_revision **out, size_t *out_count, lp_store *st,
                           const char *site_id, size_t limit, lp_error *err)
{
	static const char sql[] = "SELECT " REV_COLS " FROM revisions WHERE site_id = ?1"
	                          " ORDER BY number DESC LIMIT ?2";
	lp_store_revision *v = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *q = NULL;
	int rc;

	*out = NULL;
	*out_count = 0;
	if (limit == 0 || limit > LP_STORE_LIST_MAX)
		limit = LP_STORE_LIST_MAX;
	rc = lp_store_q_prepare(&q, st, sql, err);
	if (rc != LP_OK)
		goto done;
	lp_store_bind_text(q, 1, site_id);
	sqlite3_bind_int64(q, 2, (int64_t)limit);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		rc = lp_store_grow((void **)&v, &cap, n + 1, sizeof(*v), err);
		if (rc != LP_OK)
			goto done;
		rc = rev_from_row(&v[n], q, err);
		if (rc != LP_OK)
			goto done;
		n++;
	}
	if (rc != SQLITE_DONE) {
		rc = lp_store_fail(st, rc, err, "listing revisions");
		goto done;
	}
	rc = LP_OK;
	*out = v;
	*out_count = n;
	v = NULL;
	n = 0;
done:
	lp_store_q_release(&q);
	lp_store_revisions_free(v, n);
	return rc;
}

int lp_store_revision_update(lp_store *st, const lp_store_revision *rev, lp_error *err)
{
	static const char sql[] =
	    "UPDATE revisions SET state = ?1, message = ?2, started_at = ?3, finished_at = ?4,"
	    " resolved_source = ?5, log_path = ?6 WHERE site_id = ?7 AND number = ?8";
	sqlite3_stmt *q = NULL;
	int rc, in_tx = 0;

	if (rev == NULL)
		return lp_error_set(err, LP_EINVAL, "no revision given");
	if ((int)rev->state < (int)LP_REV_PENDING || (int)rev->state > (int)LP_REV_INTERRUPTED)
		return lp_error_set(err, LP_EINVAL, "unknown revision state %d", (int)rev->state);
	if ((rc = lp_store_check_text("message", rev->message, LP_STORE_TEXT_MAX, 0, err)) !=
	        LP_OK ||
	    (rc = lp_store_check_text("resolved source", rev->resolved_source, LP_STORE_TEXT_MAX, 0,
	                              err)) != LP_OK ||
	    (rc = lp_store_check_text("log path", rev->log_path, LP_STORE_TEXT_MAX, 0, err)) !=
	        LP_OK)
		return rc;
	rc = lp_store_tx_begin(st, err);
	if (rc != LP_OK)
		goto done;
	in_tx = 1;
	rc = lp_store_q_prepare(&q, st, sql, err);
	if (rc != LP_OK)
		goto done;
	lp_store_bind_text(q, 1, lp_store_rev_state_name(rev->state));
	lp_store_bind_text(q, 2, rev->message);
	lp_store_bind_time(q, 3, rev->started_at);
	lp_store_bind_time(q, 4, rev->finished_at);
	lp_store_bind_text(q, 5, rev->resolved_source);
	lp_store_bind_text(q, 6, rev->log_path);
	lp_store_bind_text(q, 7, rev->site_id);
	sqlite3_bind_int64(q, 8, rev->number);
	rc = lp_store_q_exec(st, q, err, "updating revision");
	lp_store_q_release(&q);
	if (rc != LP_OK)
		goto done;
	if (sqlite3_changes(st->db) == 0) {
		rc = lp_error_set(err, LP_ENOTFOUND, "revision %lld not found",
		                  (long long)rev->number);
		goto done;
	}
	in_tx = 0;
	rc = lp_store_tx_commit(st, err);
done:
	lp_store_q_release(&q);
	if (in_tx)
		lp_store_tx_rollback(st);
	return rc;
}

int lp_store_revisions_interrupt_building(int64_t *out, lp_store *st, lp_error *err)
{
	static const char sql[] =
	    "UPDATE revisions SET state = 'interrupted', finished_at = ?1,"
	    " message = CASE WHEN message = '' THEN 'the controller stopped during the build'"
	    " ELSE message END WHERE state = 'building'";
	sqlite3_stmt *q = NULL;
	int64_t n = 0;
	int rc, in_tx = 0;

	rc = lp_store_tx_begin(st, err);
	if (rc != LP_OK)
		goto done;
	in_tx = 1;
	rc = lp_store_q_prepare(&q, st, sql, err);
	if (rc != LP_OK)
		goto done;
	sqlite3_bind_int64(q, 1, lp_clock_wall_ms());
	rc = lp_store_q_exec(st, q, err, "interrupting builds");
	lp_store_q_release(&q);
	if (rc != LP_OK)
		goto done;
	n = sqlite3_changes(st->db);
	in_tx = 0;
	rc = lp_store_tx_commit(st, err);
done:
	lp_store_q_release(&q);
	if (in_tx)
		lp_store_tx_rollback(st);
	if (rc == LP_OK && out != NULL)
		*out = n;
	return rc;
}
