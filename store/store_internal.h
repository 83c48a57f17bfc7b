/* store_internal.h: what store/store*.c share: the handle, statements, transactions, rows. */
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
	int reading;      /* inside lp_store_read_begin's transaction */
	int64_t touch_id; /* a token whose last use is recorded when the snapshot ends (0) */
	int64_t touch_at;
	size_t nstmts;
	struct lp_store_stmt stmts[LP_STORE_STMT_CACHE];
};

/*
 * The prepared statement for sql (a string literal: its address is the cache key), reset and ready
 * to bind. Hand it back with lp_store_q_release as soon as its rows are read: an unreset statement
 * keeps a read transaction (and its snapshot) open.
 */
int lp_store_q_prepare(sqlite3_stmt **out, lp_store *st, const char *sql,
                       lp_error *err) LP_MUST_CHECK;
void lp_store_q_release(sqlite3_stmt **q);

/* BEGIN IMMEDIATE / COMMIT (a failed COMMIT is rolled back) / ROLLBACK (never fails visibly). */
int lp_store_tx_begin(lp_store *st, lp_error *err) LP_MUST_CHECK;
int lp_store_tx_commit(lp_store *st, lp_error *err) LP_MUST_CHECK;
void lp_store_tx_rollback(lp_store *st);

/* Map an SQLite result code to lp_code, with "what: sqlite message" in err. */
int lp_store_fail(lp_store *st, int rc, lp_error *err, const char *what);

/* Step a statement expected to finish without rows (SQLITE_DONE -> LP_OK). */
int lp_store_q_exec(lp_store *st, sqlite3_stmt *q, lp_error *err, const char *what) LP_MUST_CHECK;
/*
 * Run the one bound write *q in a transaction of its own and release it. LP_ENOTFOUND, with err
 * left for the caller to say what was missing, when it changed no row: nothing is committed.
 */
int lp_store_q_write_one(lp_store *st, sqlite3_stmt **q, lp_error *err,
                         const char *what) LP_MUST_CHECK;

/* Check an input string: present when required (NULL counts as ""), at most max bytes. */
int lp_store_check_text(const char *what, const char *s, size_t max, int required,
                        lp_error *err) LP_MUST_CHECK;

/* Bind helpers: NULL text binds "", time 0 binds NULL. They return SQLite codes. */
int lp_store_bind_text(sqlite3_stmt *q, int idx, const char *s);
int lp_store_bind_time(sqlite3_stmt *q, int idx, int64_t t);

/* ?1 as the text key (a site id): the bind of most lookups and lists. */
int lp_store_bind_key(sqlite3_stmt *q, const void *key);

/*
 * A table's row struct: how the current row of a query becomes one (read fills a zeroed struct
 * and may fail half way; clear frees whatever read put in, and accepts a half-filled struct).
 */
typedef struct lp_store_rows {
	size_t size;
	int (*read)(void *row, sqlite3_stmt *q, lp_error *err);
	void (*clear)(void *row);
	const char *noun; /* "sites", for "more than N sites" */
} lp_store_rows;

/* A lookup or list query over one table. */
typedef struct lp_store_query {
	const char *sql;  /* a static string: its address is the statement cache's key */
	const char *what; /* "listing sites", for errors */
	/* Binds arg into the parameters, except a list's last one, its limit; NULL: none. */
	int (*bind)(sqlite3_stmt *q, const void *arg);
	/* A list: a row past the limit is LP_ETOOBIG instead of left out (for callers that must
	 * never act on a partial list). */
	int strict;
	const lp_store_rows *rows;
} lp_store_query;

/* The first row of a lookup into a new struct (*out); LP_ENOTFOUND, err untouched, for none. */
int lp_store_get(void **out, lp_store *st, const lp_store_query *qd, const void *arg,
                 lp_error *err) LP_MUST_CHECK;
/*
 * Every row of a list, at most limit (0 or more than LP_STORE_LIST_MAX: LP_STORE_LIST_MAX), into
 * a new array of *out_count structs. On failure nothing is handed back.
 */
int lp_store_list(void **out, size_t *out_count, lp_store *st, const lp_store_query *qd,
                  const void *arg, size_t limit, lp_error *err) LP_MUST_CHECK;
/* Clear count rows and free the array (a single struct from lp_store_get: count 1). */
void lp_store_rows_free(void *rows, size_t count, const lp_store_rows *t);

/* Revision helpers shared by the site writes (call inside a write transaction). */
int lp_store_revision_next(int64_t *out, lp_store *st, const char *site_id,
                           lp_error *err) LP_MUST_CHECK;
int lp_store_revision_insert(lp_store *st, const char *site_id, int64_t number,
                             lp_store_trigger trigger, const char *source, const char *spec_hash,
                             int64_t now, lp_error *err) LP_MUST_CHECK;

/* Record the last use of token id at now (best effort: a failure is logged). store_auth.c */
void lp_store_token_touch(lp_store *st, int64_t id, int64_t now);

/* A column as a malloc'd string ("" for NULL); NULL only when out of memory. */
char *lp_store_col_text(sqlite3_stmt *q, int col);

#endif
