/* store_revisions.c: revision rows: reads, controller progress, history removal, crash recovery. */
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

#define REV_COLS                                                                                   \
	"site_id, number, source, trigger, state, message, spec_hash, resolved_source,"            \
	" created_at, started_at, finished_at, log_path, draft"

static void rev_clear(void *row)
{
	lp_store_revision *r = row;

	free(r->site_id);
	free(r->source);
	free(r->message);
	free(r->spec_hash);
	free(r->resolved_source);
	free(r->log_path);
	memset(r, 0, sizeof(*r));
}

static int rev_read(void *row, sqlite3_stmt *q, lp_error *err)
{
	const char *trigger = (const char *)sqlite3_column_text(q, 3);
	const char *state = (const char *)sqlite3_column_text(q, 4);
	lp_store_revision *r = row;

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
	r->draft = sqlite3_column_int(q, 12) != 0;
	if (!r->site_id || !r->source || !r->message || !r->spec_hash || !r->resolved_source ||
	    !r->log_path)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	return LP_OK;
}

static const lp_store_rows rev_rows = {sizeof(lp_store_revision), rev_read, rev_clear, "revisions"};

void lp_store_revision_free(lp_store_revision *rev)
{
	lp_store_rows_free(rev, 1, &rev_rows);
}

void lp_store_revisions_free(lp_store_revision *revs, size_t count)
{
	lp_store_rows_free(revs, count, &rev_rows);
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

struct rev_key {
	const char *site_id;
	int64_t number;
};

static int bind_rev_key(sqlite3_stmt *q, const void *arg)
{
	const struct rev_key *k = arg;
	int rc = lp_store_bind_text(q, 1, k->site_id);

	return rc == SQLITE_OK ? sqlite3_bind_int64(q, 2, k->number) : rc;
}

int lp_store_revision_get(lp_store_revision **out, lp_store *st, const char *site_id,
                          int64_t number, lp_error *err)
{
	static const lp_store_query get = {
	    .sql = "SELECT " REV_COLS " FROM revisions WHERE site_id = ?1 AND number = ?2",
	    .what = "reading revision",
	    .bind = bind_rev_key,
	    .rows = &rev_rows,
	};
	const struct rev_key key = {site_id, number};
	int rc = lp_store_get((void **)out, st, &get, &key, err);

	if (rc == LP_ENOTFOUND)
		return lp_error_set(err, LP_ENOTFOUND, "revision %lld not found",
		                    (long long)number);
	return rc;
}

int lp_store_revision_list(lp_store_revision **out, size_t *out_count, lp_store *st,
                           const char *site_id, size_t limit, lp_error *err)
{
	static const lp_store_query list = {
	    .sql = "SELECT " REV_COLS " FROM revisions WHERE site_id = ?1"
	           " ORDER BY number DESC LIMIT ?2",
	    .what = "listing revisions",
	    .bind = lp_store_bind_key,
	    .rows = &rev_rows,
	};

	return lp_store_list((void **)out, out_count, st, &list, site_id, limit, err);
}

/* Why an update changed nothing: the revision was cancelled (LP_ECONFLICT), or is not there. */
static int exists_cancelled(lp_store *st, const lp_store_revision *rev, lp_error *err)
{
	static const char sql[] =
	    "SELECT 1 FROM revisions WHERE site_id = ?1 AND number = ?2 AND state = 'cancelled'";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = lp_store_q_prepare(&q, st, sql, err)) != LP_OK)
		return rc;
	lp_store_bind_text(q, 1, rev->site_id);
	sqlite3_bind_int64(q, 2, rev->number);
	rc = sqlite3_step(q);
	lp_store_q_release(&q);
	if (rc == SQLITE_ROW)
		return lp_error_set(err, LP_ECONFLICT, "revision %lld was cancelled",
		                    (long long)rev->number);
	if (rc != SQLITE_DONE)
		return lp_store_fail(st, rc, err, "reading revision");
	return lp_error_set(err, LP_ENOTFOUND, "revision %lld not found", (long long)rev->number);
}

int lp_store_revision_update(lp_store *st, const lp_store_revision *rev, lp_error *err)
{
	static const char sql[] =
	    "UPDATE revisions SET state = ?1, message = ?2, started_at = ?3, finished_at = ?4,"
	    " resolved_source = ?5, log_path = ?6 WHERE site_id = ?7 AND number = ?8"
	    " AND state != 'cancelled'";
	sqlite3_stmt *q = NULL;
	int rc, in_tx = 0;

	if (rev == NULL)
		return lp_error_set(err, LP_EINVAL, "no revision given");
	if ((int)rev->state < (int)LP_REV_PENDING || (int)rev->state > (int)LP_REV_CANCELLED)
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
		rc = exists_cancelled(st, rev, err);
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

/*
 * Pending revisions that are not desired (nor the one in build): none is ever going to start.
 * Drafts are built whenever nothing desired is (docs/previews.md): they wait, they are not
 * overtaken.
 */
#define NOT_STARTED                                                                                \
	" FROM revisions WHERE site_id = ?1 AND state = 'pending' AND number != ?2"                \
	" AND draft = 0 AND number != (SELECT desired_revision FROM sites WHERE id = ?1)"

/* Whether sql (a SELECT EXISTS over ?1 site, ?2 number) finds a row: the no-write fast path. */
static int exists(int *out, lp_store *st, const char *sql, const char *site_id, int64_t number,
                  int64_t limit, const char *what, lp_error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	*out = 0;
	if ((rc = lp_store_q_prepare(&q, st, sql, err)) != LP_OK)
		return rc;
	lp_store_bind_text(q, 1, site_id);
	sqlite3_bind_int64(q, 2, number);
	if (limit > 0)
		sqlite3_bind_int64(q, 3, limit);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int(q, 0) != 0;
		rc = LP_OK;
	} else {
		rc = lp_store_fail(st, rc, err, what);
	}
	lp_store_q_release(&q);
	return rc;
}

int lp_store_revisions_supersede_pending(int64_t *out, lp_store *st, const char *site_id,
                                         int64_t keep, lp_error *err)
{
	static const char check[] = "SELECT EXISTS (SELECT 1" NOT_STARTED ")";
	static const char sql[] =
	    "UPDATE revisions SET state = 'superseded', finished_at = ?3,"
	    " message = 'superseded by revision ' ||"
	    " (SELECT desired_revision FROM sites WHERE id = ?1) || ' before its build started'"
	    " WHERE (site_id, number) IN (SELECT site_id, number" NOT_STARTED ")";
	sqlite3_stmt *q = NULL;
	int rc, any = 0, in_tx = 0;
	int64_t n = 0;

	if ((rc = exists(&any, st, check, site_id, keep, 0, "reading pending revisions", err)) !=
	        LP_OK ||
	    !any)
		goto done;
	if ((rc = lp_store_tx_begin(st, err)) != LP_OK)
		goto done;
	in_tx = 1;
	if ((rc = lp_store_q_prepare(&q, st, sql, err)) != LP_OK)
		goto done;
	lp_store_bind_text(q, 1, site_id);
	sqlite3_bind_int64(q, 2, keep);
	sqlite3_bind_int64(q, 3, lp_clock_wall_ms());
	rc = lp_store_q_exec(st, q, err, "superseding pending revisions");
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
	if (out != NULL)
		*out = rc == LP_OK ? n : 0;
	return rc;
}

/*
 * Final revisions outside the history: not among the newest ?3, not among the newest ?3 ready
 * ones (the rollback targets whose trees publish keeps), neither desired, current nor ?2.
 */
#define OUTSIDE_HISTORY                                                                            \
	" FROM revisions WHERE site_id = ?1"                                                       \
	" AND state IN ('ready', 'failed', 'superseded', 'interrupted', 'cancelled')"              \
	" AND number != ?2"                                                                        \
	" AND number != (SELECT desired_revision FROM sites WHERE id = ?1)"                        \
	" AND number != coalesce((SELECT current_revision FROM status WHERE site_id = ?1), 0)"     \
	" AND number NOT IN (SELECT number FROM revisions WHERE site_id = ?1"                      \
	"  ORDER BY number DESC LIMIT ?3)"                                                         \
	" AND number NOT IN (SELECT number FROM revisions WHERE site_id = ?1 AND state = 'ready'"  \
	"  ORDER BY number DESC LIMIT ?3)"

/* Step a DELETE ... RETURNING number into a new array. */
static int collect_numbers(int64_t **out, size_t *out_count, lp_store *st, sqlite3_stmt *q,
                           lp_error *err)
{
	int64_t *nums = NULL, *grown;
	size_t n = 0, cap = 0;
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			if ((grown = realloc(nums, cap * sizeof(*nums))) == NULL) {
				free(nums);
				return lp_error_set(err, LP_ENOMEM, "out of memory");
			}
			nums = grown;
		}
		nums[n++] = sqlite3_column_int64(q, 0);
	}
	if (rc != SQLITE_DONE) {
		free(nums);
		return lp_store_fail(st, rc, err, "pruning revisions");
	}
	*out = nums;
	*out_count = n;
	return LP_OK;
}

int lp_store_revisions_prune(int64_t **out, size_t *out_count, lp_store *st, const char *site_id,
                             size_t history, int64_t keep, lp_error *err)
{
	static const char check[] = "SELECT EXISTS (SELECT 1" OUTSIDE_HISTORY ")";
	static const char sql[] =
	    "DELETE FROM revisions WHERE site_id = ?1 AND number IN"
	    " (SELECT number" OUTSIDE_HISTORY " ORDER BY number LIMIT ?4) RETURNING number";
	sqlite3_stmt *q = NULL;
	int64_t *nums = NULL;
	size_t n = 0;
	int rc, any = 0, in_tx = 0;

	*out = NULL;
	*out_count = 0;
	if (history < 1 || history > LP_STORE_LIST_MAX)
		return lp_error_set(err, LP_EINVAL, "history of %zu revisions is out of range",
		                    history);
	if ((rc = exists(&any, st, check, site_id, keep, (int64_t)history, "reading old revisions",
	                 err)) != LP_OK ||
	    !any)
		return rc;
	if ((rc = lp_store_tx_begin(st, err)) != LP_OK)
		goto done;
	in_tx = 1;
	if ((rc = lp_store_q_prepare(&q, st, sql, err)) != LP_OK)
		goto done;
	lp_store_bind_text(q, 1, site_id);
	sqlite3_bind_int64(q, 2, keep);
	sqlite3_bind_int64(q, 3, (int64_t)history);
	sqlite3_bind_int64(q, 4, LP_STORE_LIST_MAX);
	rc = collect_numbers(&nums, &n, st, q, err);
	lp_store_q_release(&q);
	if (rc != LP_OK)
		goto done;
	in_tx = 0;
	if ((rc = lp_store_tx_commit(st, err)) != LP_OK)
		goto done;
	*out = nums;
	*out_count = n;
	nums = NULL;
done:
	lp_store_q_release(&q);
	if (in_tx)
		lp_store_tx_rollback(st);
	free(nums);
	return rc;
}
