/* store.c: opening the SQLite store, its schema migrations, and what store/store_*.c share. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store_internal.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"

#define BUSY_TIMEOUT_MS 5000
/* Each handle's page cache (-N: N KiB), small because a process holds one per handle. */
#define STORE_CACHE_KIB "-256"
/* "PRAGMA user_version = <n>" */
#define PRAGMA_SQL_MAX 64

/*
 * Schema migrations: step i takes user_version i to i+1. Append only; never edit a shipped step,
 * since files already at a later version will not run it again.
 */
static const char *const migrations[] = {
    /* 0 -> 1: the initial schema */
    "CREATE TABLE sites ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " name TEXT NOT NULL UNIQUE,"
    " display_name TEXT NOT NULL DEFAULT '',"
    " spec_json TEXT NOT NULL,"
    " spec_hash TEXT NOT NULL,"
    " generation INTEGER NOT NULL DEFAULT 1,"
    " desired_revision INTEGER NOT NULL DEFAULT 0,"
    " webhook_secret TEXT NOT NULL DEFAULT '',"
    " created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL,"
    " deletion_timestamp INTEGER,"
    " resource_version INTEGER NOT NULL DEFAULT 1);"
    "CREATE TABLE revisions ("
    " site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,"
    " number INTEGER NOT NULL CHECK (number >= 1),"
    " source TEXT NOT NULL DEFAULT '',"
    " trigger TEXT NOT NULL CHECK (trigger IN"
    "  ('create','apply','webhook','redeploy','rollback','upload')),"
    " state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN"
    "  ('pending','building','ready','failed','superseded','interrupted')),"
    " message TEXT NOT NULL DEFAULT '',"
    " spec_hash TEXT NOT NULL,"
    " resolved_source TEXT NOT NULL DEFAULT '',"
    " created_at INTEGER NOT NULL,"
    " started_at INTEGER,"
    " finished_at INTEGER,"
    " log_path TEXT NOT NULL DEFAULT '',"
    " PRIMARY KEY (site_id, number)) WITHOUT ROWID;"
    "CREATE INDEX revisions_state ON revisions(state);"
    "CREATE TABLE status ("
    " site_id TEXT PRIMARY KEY NOT NULL REFERENCES sites(id) ON DELETE CASCADE,"
    " phase TEXT NOT NULL CHECK (phase IN ('pending','deploying','live','failed','deleting')),"
    " observed_generation INTEGER NOT NULL DEFAULT 0,"
    " current_revision INTEGER NOT NULL DEFAULT 0,"
    " conditions_json TEXT NOT NULL DEFAULT '[]',"
    " url TEXT NOT NULL DEFAULT '',"
    " message TEXT NOT NULL DEFAULT '',"
    " updated_at INTEGER NOT NULL);"
    "CREATE TABLE events ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,"
    " site_name TEXT NOT NULL,"
    " time INTEGER NOT NULL,"
    " type TEXT NOT NULL CHECK (type IN ('Normal','Warning')),"
    " reason TEXT NOT NULL,"
    " message TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX events_site ON events(site_id, id);"
    "CREATE TABLE webhook_deliveries ("
    " delivery_id TEXT PRIMARY KEY NOT NULL,"
    " site_id TEXT NOT NULL,"
    " received_at INTEGER NOT NULL,"
    " outcome TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE api_tokens ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " name TEXT NOT NULL,"
    " token_hash TEXT NOT NULL UNIQUE,"
    " created_at INTEGER NOT NULL,"
    " last_used_at INTEGER,"
    " revoked_at INTEGER);",
    /*
     * 1 -> 2: revisions may be "cancelled" (POST .../cancel). SQLite cannot change a CHECK, so
     * the table is rebuilt under the same name, its rows copied column by column.
     */
    "CREATE TABLE revisions_v2 ("
    " site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,"
    " number INTEGER NOT NULL CHECK (number >= 1),"
    " source TEXT NOT NULL DEFAULT '',"
    " trigger TEXT NOT NULL CHECK (trigger IN"
    "  ('create','apply','webhook','redeploy','rollback','upload')),"
    " state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN"
    "  ('pending','building','ready','failed','superseded','interrupted','cancelled')),"
    " message TEXT NOT NULL DEFAULT '',"
    " spec_hash TEXT NOT NULL,"
    " resolved_source TEXT NOT NULL DEFAULT '',"
    " created_at INTEGER NOT NULL,"
    " started_at INTEGER,"
    " finished_at INTEGER,"
    " log_path TEXT NOT NULL DEFAULT '',"
    " PRIMARY KEY (site_id, number)) WITHOUT ROWID;"
    "INSERT INTO revisions_v2 (site_id, number, source, trigger, state, message, spec_hash,"
    " resolved_source, created_at, started_at, finished_at, log_path)"
    " SELECT site_id, number, source, trigger, state, message, spec_hash, resolved_source,"
    " created_at, started_at, finished_at, log_path FROM revisions;"
    "DROP TABLE revisions;"
    "ALTER TABLE revisions_v2 RENAME TO revisions;"
    "CREATE INDEX revisions_state ON revisions(state);",
    /*
     * 2 -> 3: custom domains (spec.domains). The primary key is what makes a domain one site's:
     * two applies racing for a name cannot both commit. No spec before this version names any.
     */
    "CREATE TABLE site_domains ("
    " domain TEXT PRIMARY KEY NOT NULL,"
    " site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE) WITHOUT ROWID;"
    "CREATE INDEX site_domains_site ON site_domains(site_id);",
    /*
     * 3 -> 4: per-site request metrics (issue 19), one row per site and minute, cascading with
     * the site; and the lists' order as an index, so a page starts where the last one ended
     * without sorting every site again.
     */
    "CREATE INDEX IF NOT EXISTS sites_order ON sites(created_at, name, deletion_timestamp);"
    "CREATE TABLE IF NOT EXISTS site_metrics ("
    " site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,"
    " minute INTEGER NOT NULL,"
    " req_1xx INTEGER NOT NULL DEFAULT 0, req_2xx INTEGER NOT NULL DEFAULT 0,"
    " req_3xx INTEGER NOT NULL DEFAULT 0, req_4xx INTEGER NOT NULL DEFAULT 0,"
    " req_5xx INTEGER NOT NULL DEFAULT 0,"
    " bytes_in INTEGER NOT NULL DEFAULT 0, bytes_out INTEGER NOT NULL DEFAULT 0,"
    " latency_sum REAL NOT NULL DEFAULT 0,"
    " lat_0 INTEGER NOT NULL DEFAULT 0, lat_1 INTEGER NOT NULL DEFAULT 0,"
    " lat_2 INTEGER NOT NULL DEFAULT 0, lat_3 INTEGER NOT NULL DEFAULT 0,"
    " lat_4 INTEGER NOT NULL DEFAULT 0, lat_5 INTEGER NOT NULL DEFAULT 0,"
    " lat_6 INTEGER NOT NULL DEFAULT 0, lat_7 INTEGER NOT NULL DEFAULT 0,"
    " lat_8 INTEGER NOT NULL DEFAULT 0, lat_9 INTEGER NOT NULL DEFAULT 0,"
    " lat_10 INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (site_id, minute)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS site_metrics_minute ON site_metrics(minute);",
    /*
     * 4 -> 5: users and ownership. User 1 is "admin", the owner of everything made before users
     * existed and of the bootstrap token (it has no password: it cannot log in). A token is a
     * user's (a login session has an expiry); a site has an owner, who must exist while it does,
     * and may have a sealed Git credential (a private repository's token).
     */
    "CREATE TABLE users ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " name TEXT NOT NULL UNIQUE,"
    " role TEXT NOT NULL CHECK (role IN ('admin','member')),"
    " password_hash TEXT NOT NULL DEFAULT '',"
    " created_at INTEGER NOT NULL);"
    "INSERT INTO users (id, name, role, created_at) VALUES (1, 'admin', 'admin', 0);"
    "ALTER TABLE api_tokens ADD COLUMN user_id INTEGER REFERENCES users(id) ON DELETE CASCADE;"
    "ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;"
    "UPDATE api_tokens SET user_id = 1;"
    "CREATE INDEX api_tokens_user ON api_tokens(user_id);"
    "ALTER TABLE sites ADD COLUMN owner_id INTEGER REFERENCES users(id);"
    "ALTER TABLE sites ADD COLUMN git_credential TEXT NOT NULL DEFAULT '';"
    "UPDATE sites SET owner_id = 1;"
    "CREATE INDEX sites_owner ON sites(owner_id);",
    /*
     * 5 -> 6: draft revisions (deploy --draft): built and published, reachable at their
     * permalink, never made desired by the request itself; and preview sites, owned by the site
     * whose parent_id they carry (no foreign key: the controller removes a parent's previews,
     * their containers and files first, then the parent).
     */
    "ALTER TABLE revisions ADD COLUMN draft INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE sites ADD COLUMN parent_id TEXT NOT NULL DEFAULT '';"
    "CREATE INDEX sites_parent ON sites(parent_id);",
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

static const char *const trigger_names[] = {"create",   "apply",    "webhook",
                                            "redeploy", "rollback", "upload"};
static const char *const rev_state_names[] = {"pending",    "building",    "ready",    "failed",
                                              "superseded", "interrupted", "cancelled"};
static const char *const phase_names[] = {"pending", "deploying", "live", "failed", "deleting"};

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_of(const char *const *names, size_t n, int v)
{
	if (v < 0 || (size_t)v >= n)
		return "unknown";
	return names[v];
}

static int parse_name(int *out, const char *const *names, size_t n, const char *s)
{
	size_t i;

	if (s == NULL)
		return LP_EINVAL;
	for (i = 0; i < n; i++) {
		if (strcmp(names[i], s) == 0) {
			*out = (int)i;
			return LP_OK;
		}
	}
	return LP_EINVAL;
}

const char *lp_store_trigger_name(lp_store_trigger t)
{
	return name_of(trigger_names, NELEMS(trigger_names), (int)t);
}

const char *lp_store_rev_state_name(lp_store_rev_state s)
{
	return name_of(rev_state_names, NELEMS(rev_state_names), (int)s);
}

int lp_store_rev_state_final(lp_store_rev_state s)
{
	return s != LP_REV_PENDING && s != LP_REV_BUILDING;
}

const char *lp_store_phase_name(lp_store_phase p)
{
	return name_of(phase_names, NELEMS(phase_names), (int)p);
}

const char *lp_store_event_type_name(lp_store_event_type t)
{
	return t == LP_EVENT_WARNING ? "Warning" : "Normal";
}

int lp_store_trigger_parse(lp_store_trigger *out, const char *s)
{
	int v = 0, rc = parse_name(&v, trigger_names, NELEMS(trigger_names), s);

	if (rc == LP_OK)
		*out = (lp_store_trigger)v;
	return rc;
}

int lp_store_rev_state_parse(lp_store_rev_state *out, const char *s)
{
	int v = 0, rc = parse_name(&v, rev_state_names, NELEMS(rev_state_names), s);

	if (rc == LP_OK)
		*out = (lp_store_rev_state)v;
	return rc;
}

int lp_store_phase_parse(lp_store_phase *out, const char *s)
{
	int v = 0, rc = parse_name(&v, phase_names, NELEMS(phase_names), s);

	if (rc == LP_OK)
		*out = (lp_store_phase)v;
	return rc;
}

/* ---- shared helpers ---- */

int lp_store_fail(lp_store *st, int rc, lp_error *err, const char *what)
{
	int code;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		code = LP_EUNAVAILABLE;
		break;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			code = LP_EEXISTS;
		else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
			code = LP_ENOTFOUND;
		else
			code = LP_EINVAL;
		break;
	case SQLITE_NOMEM:
		code = LP_ENOMEM;
		break;
	case SQLITE_TOOBIG:
		code = LP_ETOOBIG;
		break;
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	case SQLITE_PROTOCOL:
		code = LP_EIO;
		break;
	case SQLITE_MISUSE:
	case SQLITE_RANGE:
	case SQLITE_ERROR:
	default:
		code = LP_ERROR;
		break;
	}
	return lp_error_set(
	    err, code, "%s: %s (sqlite %d)", what,
	    st != NULL && st->db != NULL ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc), rc);
}

int lp_store_q_prepare(sqlite3_stmt **out, lp_store *st, const char *sql, lp_error *err)
{
	sqlite3_stmt *q = NULL;
	size_t i;
	int rc;

	for (i = 0; i < st->nstmts; i++) {
		if (st->stmts[i].sql == sql) {
			*out = st->stmts[i].stmt;
			return LP_OK;
		}
	}
	if (st->nstmts == LP_STORE_STMT_CACHE)
		return lp_error_set(err, LP_ERROR, "store: statement cache full");
	rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &q, NULL);
	if (rc != SQLITE_OK)
		return lp_store_fail(st, rc, err, "preparing statement");
	st->stmts[st->nstmts].sql = sql;
	st->stmts[st->nstmts].stmt = q;
	st->nstmts++;
	*out = q;
	return LP_OK;
}

void lp_store_q_release(sqlite3_stmt **q)
{
	if (q == NULL || *q == NULL)
		return;
	sqlite3_reset(*q);
	sqlite3_clear_bindings(*q);
	*q = NULL;
}

int lp_store_q_exec(lp_store *st, sqlite3_stmt *q, lp_error *err, const char *what)
{
	int rc = sqlite3_step(q);

	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return LP_OK;
	return lp_store_fail(st, rc, err, what);
}

int lp_store_q_write_one(lp_store *st, sqlite3_stmt **q, lp_error *err, const char *what)
{
	int rc;

	if ((rc = lp_store_tx_begin(st, err)) != LP_OK) {
		lp_store_q_release(q);
		return rc;
	}
	rc = lp_store_q_exec(st, *q, err, what);
	lp_store_q_release(q);
	if (rc == LP_OK && sqlite3_changes(st->db) == 0)
		rc = LP_ENOTFOUND;
	if (rc != LP_OK) {
		lp_store_tx_rollback(st);
		return rc;
	}
	return lp_store_tx_commit(st, err);
}

/* BEGIN or COMMIT of a read snapshot, prepared once per handle: parsing them each time cost
 * more than running them. */
static int read_stmt(lp_store *st, const char *sql, lp_error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = lp_store_q_prepare(&q, st, sql, err)) != LP_OK)
		return rc;
	rc = sqlite3_step(q);
	lp_store_q_release(&q);
	return rc == SQLITE_DONE ? LP_OK : lp_store_fail(st, rc, err, sql);
}

int lp_store_read_begin(lp_store *st, lp_error *err)
{
	static const char begin[] = "BEGIN"; /* deferred: the first read takes the snapshot */
	int rc;

	if (st->reading)
		return LP_OK;
	if ((rc = read_stmt(st, begin, err)) != LP_OK)
		return rc;
	st->reading = 1;
	return LP_OK;
}

void lp_store_read_end(lp_store *st)
{
	static const char commit[] = "COMMIT";
	int64_t id;

	if (st == NULL || !st->reading)
		return;
	st->reading = 0;
	/* A read transaction cannot fail to end; should COMMIT refuse, ROLLBACK ends it. */
	if (read_stmt(st, commit, NULL) != LP_OK)
		lp_store_tx_rollback(st);
	if ((id = st->touch_id) != 0) {
		st->touch_id = 0;
		lp_store_token_touch(st, id, st->touch_at);
	}
}

int lp_store_tx_begin(lp_store *st, lp_error *err)
{
	int rc;

	lp_store_read_end(st); /* a write sees the newest state, never an older snapshot */
	rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return lp_store_fail(st, rc, err, "beginning write transaction");
	return LP_OK;
}

int lp_store_tx_commit(lp_store *st, lp_error *err)
{
	int rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);

	if (rc != SQLITE_OK) {
		rc = lp_store_fail(st, rc, err, "committing");
		lp_store_tx_rollback(st);
		return rc;
	}
	return LP_OK;
}

void lp_store_tx_rollback(lp_store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

int lp_store_check_text(const char *what, const char *s, size_t max, int required, lp_error *err)
{
	if (s == NULL || *s == '\0') {
		if (required)
			return lp_error_set(err, LP_EINVAL, "%s is required", what);
		return LP_OK;
	}
	if (strnlen(s, max + 1) > max)
		return lp_error_set(err, LP_ETOOBIG, "%s is longer than %zu bytes", what, max);
	return LP_OK;
}

int lp_store_bind_text(sqlite3_stmt *q, int idx, const char *s)
{
	return sqlite3_bind_text(q, idx, s != NULL ? s : "", -1, SQLITE_STATIC);
}

int lp_store_bind_time(sqlite3_stmt *q, int idx, int64_t t)
{
	if (t == 0)
		return sqlite3_bind_null(q, idx);
	return sqlite3_bind_int64(q, idx, t);
}

int lp_store_bind_key(sqlite3_stmt *q, const void *key)
{
	return lp_store_bind_text(q, 1, key);
}

/* Grow a zero-filled array to hold need rows (need <= LP_STORE_LIST_MAX). */
static int grow(char **arr, size_t *cap, size_t need, size_t size, lp_error *err)
{
	size_t ncap;
	char *p;

	if (need <= *cap)
		return LP_OK;
	if (need > LP_STORE_LIST_MAX)
		return lp_error_set(err, LP_ETOOBIG, "more than %d rows", LP_STORE_LIST_MAX);
	ncap = *cap == 0 ? 16 : *cap * 2;
	if (ncap < need)
		ncap = need;
	if (ncap > LP_STORE_LIST_MAX)
		ncap = LP_STORE_LIST_MAX;
	p = realloc(*arr, ncap * size);
	if (p == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	memset(p + *cap * size, 0, (ncap - *cap) * size);
	*arr = p;
	*cap = ncap;
	return LP_OK;
}

void lp_store_rows_free(void *rows, size_t count, const lp_store_rows *t)
{
	size_t i;

	if (rows == NULL)
		return;
	for (i = 0; i < count; i++)
		t->clear((char *)rows + i * t->size);
	free(rows);
}

static int bind_query(lp_store *st, sqlite3_stmt *q, const lp_store_query *qd, const void *arg,
                      lp_error *err)
{
	int rc = qd->bind != NULL ? qd->bind(q, arg) : SQLITE_OK;

	return rc == SQLITE_OK ? LP_OK : lp_store_fail(st, rc, err, qd->what);
}

int lp_store_get(void **out, lp_store *st, const lp_store_query *qd, const void *arg, lp_error *err)
{
	sqlite3_stmt *q = NULL;
	void *row = NULL;
	int rc;

	*out = NULL;
	if ((rc = lp_store_q_prepare(&q, st, qd->sql, err)) != LP_OK ||
	    (rc = bind_query(st, q, qd, arg, err)) != LP_OK)
		goto done;
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE) {
		rc = LP_ENOTFOUND;
		goto done;
	}
	if (rc != SQLITE_ROW) {
		rc = lp_store_fail(st, rc, err, qd->what);
		goto done;
	}
	row = calloc(1, qd->rows->size);
	if (row == NULL) {
		rc = lp_error_set(err, LP_ENOMEM, "out of memory");
		goto done;
	}
	rc = qd->rows->read(row, q, err);
	if (rc != LP_OK)
		goto done;
	*out = row;
	row = NULL;
done:
	lp_store_q_release(&q);
	lp_store_rows_free(row, row != NULL, qd->rows);
	return rc;
}

int lp_store_list(void **out, size_t *out_count, lp_store *st, const lp_store_query *qd,
                  const void *arg, size_t limit, lp_error *err)
{
	sqlite3_stmt *q = NULL;
	char *v = NULL;
	size_t n = 0, cap = 0;
	int rc;

	*out = NULL;
	*out_count = 0;
	if (limit == 0 || limit > LP_STORE_LIST_MAX)
		limit = LP_STORE_LIST_MAX;
	if ((rc = lp_store_q_prepare(&q, st, qd->sql, err)) != LP_OK ||
	    (rc = bind_query(st, q, qd, arg, err)) != LP_OK)
		goto done;
	/* Strict: one row past the limit tells a full list from a cut one. */
	rc = sqlite3_bind_int64(q, sqlite3_bind_parameter_count(q),
	                        (int64_t)limit + (qd->strict ? 1 : 0));
	if (rc != SQLITE_OK) {
		rc = lp_store_fail(st, rc, err, qd->what);
		goto done;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (n == limit) {
			rc = lp_error_set(err, LP_ETOOBIG, "more than %zu %s", limit,
			                  qd->rows->noun);
			goto done;
		}
		if ((rc = grow(&v, &cap, n + 1, qd->rows->size, err)) != LP_OK)
			goto done;
		/* Counted before it is read, so a half-read row is released with the rest. */
		n++;
		if ((rc = qd->rows->read(v + (n - 1) * qd->rows->size, q, err)) != LP_OK)
			goto done;
	}
	if (rc != SQLITE_DONE) {
		rc = lp_store_fail(st, rc, err, qd->what);
		goto done;
	}
	rc = LP_OK;
	*out = v;
	*out_count = n;
	v = NULL;
	n = 0;
done:
	lp_store_q_release(&q);
	lp_store_rows_free(v, n, qd->rows);
	return rc;
}

char *lp_store_col_text(sqlite3_stmt *q, int col)
{
	const unsigned char *s = sqlite3_column_text(q, col);

	return strdup(s != NULL ? (const char *)s : "");
}

/* ---- open, migrate, close ---- */

/*
 * Create the file ourselves so it starts 0600: it holds webhook secrets. SQLite gives the -wal
 * and -shm files the permissions of the database file.
 *
 * Never by open() and close() of the database itself: close() drops every POSIX lock this
 * process holds on the file, the shared locks of its other open handles included. The apiserver
 * opens pool handles while others serve; an open-and-close of the existing file let another
 * process take the exclusive lock, checkpoint and delete the WAL under them, and their writes
 * went on into the unlinked file: answered 201, never seen by anyone else (check_apiserver_list).
 * So a private file (mkstemp: 0600, no one else knows it, so no lock on it) is closed, then
 * linked into place; EEXIST is the common case, an existing file, left as it is.
 */
static int precreate(const char *path, lp_error *err)
{
	char dir[LP_FS_PATH_MAX], tmp[LP_FS_PATH_MAX];
	char *slash;
	int fd, rc = LP_OK;

	if (strcmp(path, ":memory:") == 0)
		return LP_OK;
	if (lp_fmt(dir, sizeof(dir), "%s", path) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "database path too long");
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		rc = lp_fs_mkdirs(dir, 0700, err);
		if (rc != LP_OK)
			return rc;
	}
	if (access(path, F_OK) == 0)
		return LP_OK;
	if (lp_fmt(tmp, sizeof(tmp), "%s.new-XXXXXX", path) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "database path too long");
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return lp_error_set(err, LP_EIO, "creating %s: %s", tmp, strerror(errno));
	close(fd);
	if (link(tmp, path) != 0 && errno != EEXIST)
		rc = lp_error_set(err, LP_EIO, "creating %s: %s", path, strerror(errno));
	(void)unlink(tmp);
	return rc;
}

static int exec_sql(lp_store *st, const char *sql, lp_error *err, const char *what)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return lp_store_fail(st, rc, err, what);
	return LP_OK;
}

static int pragma_int(int64_t *out, lp_store *st, const char *sql, lp_error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	rc = sqlite3_prepare_v2(st->db, sql, -1, &q, NULL);
	if (rc != SQLITE_OK) {
		rc = lp_store_fail(st, rc, err, sql);
		goto done;
	}
	rc = sqlite3_step(q);
	if (rc != SQLITE_ROW) {
		rc = lp_store_fail(st, rc, err, sql);
		goto done;
	}
	*out = sqlite3_column_int64(q, 0);
	rc = LP_OK;
done:
	sqlite3_finalize(q);
	return rc;
}

static int set_wal(lp_store *st, lp_error *err)
{
	sqlite3_stmt *q = NULL;
	const unsigned char *mode;
	int rc, attempt;

	/*
	 * Switching a brand-new file to WAL needs an exclusive lock. When several processes open it
	 * at once, SQLite breaks the lock-upgrade deadlock by answering BUSY at once, without the
	 * busy handler: retry for a bounded time (the mode is persistent, so this is first-open
	 * only).
	 */
	for (attempt = 0; attempt < 100; attempt++) {
		rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &q, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(q);
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			break;
		sqlite3_finalize(q);
		q = NULL;
		lp_clock_sleep_ms(50);
	}
	if (rc != SQLITE_ROW) {
		rc = lp_store_fail(st, rc, err, "enabling WAL");
		goto done;
	}
	mode = sqlite3_column_text(q, 0);
	if (mode == NULL || strcmp((const char *)mode, "wal") != 0) {
		rc = lp_error_set(err, LP_EIO, "database refuses WAL mode (journal mode %s)",
		                  mode != NULL ? (const char *)mode : "?");
		goto done;
	}
	rc = LP_OK;
done:
	sqlite3_finalize(q);
	return rc;
}

/*
 * Bring the schema to version target (the newest: NMIGRATIONS), atomically: another process may
 * be doing the same.
 */
static int migrate(lp_store *st, int target, lp_error *err)
{
	char sql[PRAGMA_SQL_MAX];
	int64_t version = 0;
	int rc, in_tx = 0, i;

	/* The common case, an up-to-date file, must not take the write lock. */
	rc = pragma_int(&version, st, "PRAGMA user_version", err);
	if (rc != LP_OK || version == target)
		goto done;
	rc = lp_store_tx_begin(st, err);
	if (rc != LP_OK)
		goto done;
	in_tx = 1;
	rc = pragma_int(&version, st, "PRAGMA user_version", err);
	if (rc != LP_OK)
		goto done;
	if (version > NMIGRATIONS) {
		rc = lp_error_set(err, LP_EUNSUPPORTED,
		                  "database schema version %lld is newer than this build (%d)",
		                  (long long)version, NMIGRATIONS);
		goto done;
	}
	if (version >= target) {
		/* Nothing to do: end the read-only transaction without a write. */
		lp_store_tx_rollback(st);
		in_tx = 0;
		goto done;
	}
	for (i = (int)version; i < target; i++) {
		rc = exec_sql(st, migrations[i], err, "migrating schema");
		if (rc != LP_OK) {
			lp_error_wrap(err, "step %d", i + 1);
			goto done;
		}
	}
	if (lp_fmt(sql, sizeof(sql), "PRAGMA user_version = %d", target) != LP_OK)
		rc = lp_error_set(err, LP_ERROR, "setting schema version: statement too long");
	else
		rc = exec_sql(st, sql, err, "setting schema version");
	if (rc != LP_OK)
		goto done;
	in_tx = 0;
	rc = lp_store_tx_commit(st, err);
done:
	if (in_tx)
		lp_store_tx_rollback(st);
	return rc;
}

/*
 * Before SQLite's first use in the process: no global memory statistics. Their mutex is taken on
 * every allocation of every handle, and the apiserver's request threads queued on it (a quarter
 * of a GET's time went to context switches). Nothing reads the statistics.
 */
static void configure_sqlite(void)
{
	/* SQLITE_MISUSE when another user in the process initialised SQLite first: theirs stands */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int lp_store_open(lp_store **out, const char *path, lp_error *err)
{
	return lp_store_open_at(out, path, NMIGRATIONS, err);
}

int lp_store_open_at(lp_store **out, const char *path, int version, lp_error *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	lp_store *st = NULL;
	int rc;

	*out = NULL;
	pthread_once(&once, configure_sqlite);
	if (path == NULL || *path == '\0')
		return lp_error_set(err, LP_EINVAL, "database path is required");
	rc = precreate(path, err);
	if (rc != LP_OK)
		return rc;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	st->event_cap = LP_STORE_EVENTS_PER_SITE;
	st->delivery_cap = LP_STORE_DELIVERIES_KEPT;
	rc = sqlite3_open_v2(
	    path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = lp_store_fail(st, rc, err, "opening database");
		goto done;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	rc = set_wal(st, err);
	if (rc != LP_OK)
		goto done;
	/*
	 * FULL: every commit is fsynced, so an acknowledged apply survives a power cut. A small
	 * page cache per handle: the apiserver's 32 busy handles each cached the whole file (2 MB
	 * at 1,000 sites) and held 64 MB between them; the kernel's page cache holds it once.
	 */
	rc = exec_sql(st,
	              "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA trusted_schema=OFF;"
	              " PRAGMA cache_size=" STORE_CACHE_KIB,
	              err, "configuring connection");
	if (rc != LP_OK)
		goto done;
	if (version < 0 || version > NMIGRATIONS) {
		rc = lp_error_set(err, LP_EINVAL, "schema version %d does not exist", version);
		goto done;
	}
	rc = migrate(st, version, err);
	if (rc != LP_OK)
		goto done;
	*out = st;
	st = NULL;
done:
	if (rc != LP_OK && err != NULL)
		lp_error_wrap(err, "store %s", path);
	lp_store_close(st);
	return rc;
}

void lp_store_close(lp_store *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < st->nstmts; i++)
		sqlite3_finalize(st->stmts[i].stmt);
	/* close_v2 never fails for busy statements; all of ours are finalized above anyway. */
	sqlite3_close_v2(st->db);
	free(st);
}

void lp_store_set_caps(lp_store *st, int events_per_site, int deliveries_kept)
{
	if (st == NULL)
		return;
	if (events_per_site >= 1)
		st->event_cap = events_per_site;
	if (deliveries_kept >= 1)
		st->delivery_cap = deliveries_kept;
}

int lp_store_schema_version(int *out, lp_store *st, lp_error *err)
{
	int64_t v = 0;
	int rc = pragma_int(&v, st, "PRAGMA user_version", err);

	if (rc == LP_OK)
		*out = (int)v;
	return rc;
}

int lp_store_data_version(int64_t *out, lp_store *st, lp_error *err)
{
	return pragma_int(out, st, "PRAGMA data_version", err);
}

int lp_store_integrity_check(lp_store *st, lp_error *err)
{
	sqlite3_stmt *q = NULL;
	const unsigned char *res;
	int rc;

	rc = sqlite3_prepare_v2(st->db, "PRAGMA integrity_check(1)", -1, &q, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(q);
	if (rc != SQLITE_ROW) {
		rc = lp_store_fail(st, rc, err, "integrity check");
		goto done;
	}
	res = sqlite3_column_text(q, 0);
	if (res == NULL || strcmp((const char *)res, "ok") != 0) {
		rc = lp_error_set(err, LP_EIO, "integrity check: %s",
		                  res != NULL ? (const char *)res : "no answer");
		goto done;
	}
	rc = LP_OK;
done:
	sqlite3_finalize(q);
	return rc;
}
