/* store_internal.h: what the core/store*.c files share (handle layout, statements, transactions).
 */
#ifndef LAUNCHPAD_STORE_INTERNAL_H
#define LAUNCHPAD_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdint.h>

#include "launchpad/clock.h"
#include "launchpad/store.h"

#define LP_STORE_STMT_CACHE 64

struct lp_store_stmt {
	const char *sql; /* identity of the statement: the address of a static string */
	sqlite3_stmt *stmt;
};

struct lp_store {
	sqlite3 *db;
	int event_cap;
	int delivery_cap;
	size_t nstmts;
	struct lp_store_stmt stmts[LP_STORE_STMT_CACHE];
};

/*
 * The prepared statement for sql (a string literal: its address is the cache key), reset and ready
 * to bind. Hand it back with lp_store_q_release as soon as its rows are read: an unreset statement
 * keeps a read transaction (and its snapshot) open.
 */
int lp_store_q_prepare(sqlite3_stmt **out, lp_store *st, const char *sql, lp_error *err);
void lp_store_q_release(sqlite3_stmt **q);

/* BEGIN IMMEDIATE / COMMIT (a failed COMMIT is rolled back) / ROLLBACK (never fails visibly). */
int lp_store_tx_begin(lp_store *st, lp_error *err);
int lp_store_tx_commit(lp_store *st, lp_error *err);
void lp_store_tx_rollback(lp_store *st);

/* Map an SQLite result code to lp_code, with "what: sqlite message" in err. */
int lp_store_fail(lp_store *st, int rc, lp_error *err, const char *what);

/* Step a statement expected to finish without rows (SQLITE_DONE -> LP_OK). */
int lp_store_q_exec(lp_store *st, sqlite3_stmt *q, lp_error *err, const char *what);

/* Check an input string: present when required (NULL counts as ""), at most max bytes. */
int lp_store_check_text(const char *what, const char *s, size_t max, int required, lp_error *err);

/* Bind helpers: NULL text binds "", time 0 binds NULL. They return SQLite codes. */
int lp_store_bind_text(sqlite3_stmt *q, int idx, const char *s);
int lp_store_bind_time(sqlite3_stmt *q, int idx, int64_t t);

/* Grow a zero-filled array to hold need elements (need <= LP_STORE_LIST_MAX). */
int lp_store_grow(void **arr, size_t *cap, size_t need, size_t elem, lp_error *err);

/* Revision helpers shared by the site writes (call inside a write transaction). */
int lp_store_revision_next(int64_t *out, lp_store *st, const char *site_id, lp_error *err);
int lp_store_revision_insert(lp_store *st, const char *site_id, int64_t number,
                             lp_store_trigger trigger, const char *source, const char *spec_hash,
                             int64_t now, lp_error *err);

/* A column as a malloc'd string ("" for NULL); NULL only when out of memory. */
char *lp_store_col_text(sqlite3_stmt *q, int col);

#endif
