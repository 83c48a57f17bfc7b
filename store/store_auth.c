/* store_auth.c: API tokens and login sessions (stored as SHA-256 only), webhook delivery
 * de-duplication. */
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"
#include "launchpad/crypto.h"
#include "launchpad/fmt.h"
#include "launchpad/log.h"

#define TOKEN_PREFIX   "lp_"
#define TOKEN_HEX      32 /* hex digits after the prefix */
#define TOKENS_MAX     1000
#define DELIVERY_MAX   256
#define TOKEN_NAME_MAX 128

_Static_assert(sizeof(TOKEN_PREFIX) - 1 + TOKEN_HEX + 1 == LP_STORE_TOKEN_LEN,
               "LP_STORE_TOKEN_LEN holds the prefix, the hex digits and the NUL");

int lp_store_webhook_seen(int *out, lp_store *st, const char *delivery_id, lp_error *err)
{
	static const char sql[] = "SELECT 1 FROM webhook_deliveries WHERE delivery_id = ?1";
	sqlite3_stmt *q = NULL;
	int rc;

	*out = 0;
	if ((rc = lp_store_check_text("delivery id", delivery_id, DELIVERY_MAX, 1, err)) != LP_OK ||
	    (rc = lp_store_q_prepare(&q, st, sql, err)) != LP_OK)
		return rc;
	lp_store_bind_text(q, 1, delivery_id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		*out = rc == SQLITE_ROW;
		rc = LP_OK;
	} else {
		rc = lp_store_fail(st, rc, err, "reading webhook deliveries");
	}
	lp_store_q_release(&q);
	return rc;
}

int lp_store_webhook_record(lp_store *st, const char *delivery_id, const char *site_id,
                            const char *outcome, lp_error *err)
{
	static const char sql_insert[] = "INSERT INTO webhook_deliveries (delivery_id, site_id,"
	                                 " received_at, outcome) VALUES (?1, ?2, ?3, ?4)";
	/* rowids only grow (max + 1), so the lowest ones are the oldest deliveries. */
	static const char sql_trim[] = "DELETE FROM webhook_deliveries WHERE rowid <= (SELECT rowid"
	                               " FROM webhook_deliveries ORDER BY rowid DESC"
	                               " LIMIT 1 OFFSET ?1)";
	sqlite3_stmt *q = NULL;
	int rc, in_tx = 0;

	if ((rc = lp_store_check_text("delivery id", delivery_id, DELIVERY_MAX, 1, err)) != LP_OK ||
	    (rc = lp_store_check_text("site id", site_id, LP_STORE_TEXT_MAX, 0, err)) != LP_OK ||
	    (rc = lp_store_check_text("outcome", outcome, LP_STORE_TEXT_MAX, 0, err)) != LP_OK)
		return rc;
	rc = lp_store_tx_begin(st, err);
	if (rc != LP_OK)
		goto done;
	in_tx = 1;
	rc = lp_store_q_prepare(&q, st, sql_insert, err);
	if (rc != LP_OK)
		goto done;
	lp_store_bind_text(q, 1, delivery_id);
	lp_store_bind_text(q, 2, site_id);
	sqlite3_bind_int64(q, 3, lp_clock_wall_ms());
	lp_store_bind_text(q, 4, outcome);
	rc = lp_store_q_exec(st, q, err, "recording webhook delivery");
	lp_store_q_release(&q);
	if (rc == LP_EEXISTS)
		rc = lp_error_set(err, LP_EEXISTS, "webhook delivery %s was already received",
		                  delivery_id);
	if (rc != LP_OK)
		goto done;
	rc = lp_store_q_prepare(&q, st, sql_trim, err);
	if (rc != LP_OK)
		goto done;
	sqlite3_bind_int(q, 1, st->delivery_cap);
	rc = lp_store_q_exec(st, q, err, "trimming webhook deliveries");
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

/* Sessions that ended (expired or revoked) are dropped; live ones past the cap are revoked. */
static int sessions_trim(lp_store *st, int64_t user_id, int64_t now, lp_error *err)
{
	static const char sql_purge[] = "DELETE FROM api_tokens WHERE expires_at IS NOT NULL AND"
	                                " (expires_at <= ?1 OR revoked_at IS NOT NULL)";
	/* the newest LP_STORE_SESSIONS_MAX - 1 stay, beside the one being made */
	static const char sql_cap[] =
	    "UPDATE api_tokens SET revoked_at = ?1 WHERE id IN (SELECT id FROM api_tokens"
	    " WHERE user_id = ?2 AND expires_at IS NOT NULL AND revoked_at IS NULL"
	    " ORDER BY id DESC LIMIT -1 OFFSET ?3)";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = lp_store_q_prepare(&q, st, sql_purge, err)) != LP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, now);
	rc = lp_store_q_exec(st, q, err, "purging sessions");
	lp_store_q_release(&q);
	if (rc != LP_OK || (rc = lp_store_q_prepare(&q, st, sql_cap, err)) != LP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, now);
	sqlite3_bind_int64(q, 2, user_id);
	sqlite3_bind_int(q, 3, LP_STORE_SESSIONS_MAX - 1);
	rc = lp_store_q_exec(st, q, err, "capping sessions");
	lp_store_q_release(&q);
	return rc;
}

/* Personal tokens are counted, overall and per user (sessions are capped per user instead). */
static int tokens_count_ok(lp_store *st, int64_t user_id, lp_error *err)
{
	static const char sql_count[] =
	    "SELECT count(*), coalesce(sum(user_id = ?1), 0) FROM api_tokens"
	    " WHERE revoked_at IS NULL AND expires_at IS NULL";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = lp_store_q_prepare(&q, st, sql_count, err)) != LP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, user_id);
	rc = sqlite3_step(q);
	if (rc != SQLITE_ROW)
		rc = lp_store_fail(st, rc, err, "counting tokens");
	else if (sqlite3_column_int(q, 0) >= TOKENS_MAX)
		rc = lp_error_set(err, LP_ETOOBIG, "at most %d live tokens may exist (revoke some)",
		                  TOKENS_MAX);
	else if (user_id != LP_STORE_ADMIN_USER &&
	         sqlite3_column_int(q, 1) >= LP_STORE_USER_TOKENS_MAX)
		rc = lp_error_set(err, LP_ETOOBIG,
		                  "at most %d live personal tokens per user (revoke some)",
		                  LP_STORE_USER_TOKENS_MAX);
	else
		rc = LP_OK;
	lp_store_q_release(&q);
	return rc;
}

int lp_store_token_create_for(char out[LP_STORE_TOKEN_LEN], int64_t *out_id, lp_store *st,
                              int64_t user_id, const char *name, int64_t expires_at, lp_error *err)
{
	static const char sql_insert[] = "INSERT INTO api_tokens (name, token_hash, created_at,"
	                                 " user_id, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)";
	char hex[TOKEN_HEX + 1];
	char secret[LP_STORE_TOKEN_LEN];
	char hash[LP_SHA256_HEX_LEN];
	sqlite3_stmt *q = NULL;
	int64_t id = 0, now = lp_clock_wall_ms();
	int rc, in_tx = 0;

	out[0] = '\0';
	rc = lp_store_check_text("token name", name, TOKEN_NAME_MAX, 1, err);
	if (rc != LP_OK)
		return rc;
	rc = lp_crypto_random_hex(hex, TOKEN_HEX / 2);
	if (rc != LP_OK)
		return lp_error_set(err, rc, "generating token");
	/* LP_STORE_TOKEN_LEN is sized for exactly this: a failure is a build defect. */
	if (lp_fmt(secret, sizeof(secret), TOKEN_PREFIX "%s", hex) != LP_OK) {
		rc = lp_error_set(err, LP_ERROR, "token does not fit LP_STORE_TOKEN_LEN");
		goto done;
	}
	lp_crypto_sha256_hex(hash, secret, strlen(secret));
	rc = lp_store_tx_begin(st, err);
	if (rc != LP_OK)
		goto done;
	in_tx = 1;
	rc = expires_at ? sessions_trim(st, user_id, now, err) : tokens_count_ok(st, user_id, err);
	if (rc != LP_OK)
		goto done;
	rc = lp_store_q_prepare(&q, st, sql_insert, err);
	if (rc != LP_OK)
		goto done;
	lp_store_bind_text(q, 1, name);
	lp_store_bind_text(q, 2, hash);
	sqlite3_bind_int64(q, 3, now);
	sqlite3_bind_int64(q, 4, user_id);
	lp_store_bind_time(q, 5, expires_at);
	rc = lp_store_q_exec(st, q, err, "creating token");
	lp_store_q_release(&q);
	if (rc == LP_ENOTFOUND)
		rc = lp_error_set(err, LP_ENOTFOUND, "user %lld not found", (long long)user_id);
	if (rc != LP_OK)
		goto done;
	id = sqlite3_last_insert_rowid(st->db);
	in_tx = 0;
	rc = lp_store_tx_commit(st, err);
	if (rc != LP_OK)
		goto done;
	memcpy(out, secret, sizeof(secret));
	if (out_id != NULL)
		*out_id = id;
done:
	lp_store_q_release(&q);
	if (in_tx)
		lp_store_tx_rollback(st);
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(hex, sizeof(hex));
	return rc;
}

int lp_store_token_create(char out[LP_STORE_TOKEN_LEN], int64_t *out_id, lp_store *st,
                          const char *name, lp_error *err)
{
	return lp_store_token_create_for(out, out_id, st, LP_STORE_ADMIN_USER, name, 0, err);
}

static int token_well_formed(const char *secret)
{
	size_t i, plen = strlen(TOKEN_PREFIX);

	if (secret == NULL || strnlen(secret, LP_STORE_TOKEN_LEN) != LP_STORE_TOKEN_LEN - 1 ||
	    strncmp(secret, TOKEN_PREFIX, plen) != 0)
		return 0;
	for (i = plen; secret[i] != '\0'; i++)
		if (!((secret[i] >= '0' && secret[i] <= '9') ||
		      (secret[i] >= 'a' && secret[i] <= 'f')))
			return 0;
	return 1;
}

/* Best effort: a failed refresh of last_used_at must not turn a valid token away. */
void lp_store_token_touch(lp_store *st, int64_t id, int64_t now)
{
	static const char sql[] = "UPDATE api_tokens SET last_used_at = ?1 WHERE id = ?2"
	                          " AND (last_used_at IS NULL OR last_used_at < ?3)";
	sqlite3_stmt *q = NULL;
	lp_error e = {0};
	int rc;

	if ((rc = lp_store_tx_begin(st, &e)) != LP_OK)
		goto done;
	rc = lp_store_q_prepare(&q, st, sql, &e);
	if (rc == LP_OK) {
		sqlite3_bind_int64(q, 1, now);
		sqlite3_bind_int64(q, 2, id);
		sqlite3_bind_int64(q, 3, now - LP_STORE_TOKEN_TOUCH_MS);
		rc = lp_store_q_exec(st, q, &e, "touching token");
		lp_store_q_release(&q);
	}
	if (rc == LP_OK)
		rc = lp_store_tx_commit(st, &e); /* a failed commit is rolled back */
	else
		lp_store_tx_rollback(st);
done:
	if (rc != LP_OK)
		LP_WARN("store", "token %lld: last use not recorded: %s", (long long)id, e.message);
}

int lp_store_token_verify(lp_store_principal *out, lp_store *st, const char *secret, lp_error *err)
{
	static const char sql[] =
	    "SELECT t.id, t.token_hash, coalesce(t.last_used_at, 0), u.id, u.role, u.name,"
	    " coalesce(t.expires_at, 0) FROM api_tokens t JOIN users u ON u.id = t.user_id"
	    " WHERE t.token_hash = ?1 AND t.revoked_at IS NULL"
	    " AND (t.expires_at IS NULL OR t.expires_at > ?2)";
	char hash[LP_SHA256_HEX_LEN];
	sqlite3_stmt *q = NULL;
	lp_store_principal who = {0};
	int64_t last_used = 0, now = lp_clock_wall_ms();
	const char *h, *role, *user;
	int rc;

	if (!token_well_formed(secret))
		return lp_error_set(err, LP_EAUTH, "malformed API token");
	lp_crypto_sha256_hex(hash, secret, strlen(secret));
	rc = lp_store_q_prepare(&q, st, sql, err);
	if (rc != LP_OK)
		goto done;
	lp_store_bind_text(q, 1, hash);
	sqlite3_bind_int64(q, 2, now);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE) {
		rc = lp_error_set(err, LP_EAUTH, "unknown, revoked or expired API token");
		goto done;
	}
	if (rc != SQLITE_ROW) {
		rc = lp_store_fail(st, rc, err, "reading tokens");
		goto done;
	}
	h = (const char *)sqlite3_column_text(q, 1);
	role = (const char *)sqlite3_column_text(q, 4);
	user = (const char *)sqlite3_column_text(q, 5);
	if (h == NULL || !lp_crypto_equal(h, strlen(h), hash, strlen(hash)) ||
	    lp_store_role_parse(&who.role, role) != LP_OK || user == NULL ||
	    lp_fmt(who.user, sizeof(who.user), "%s", user) != LP_OK) {
		rc = lp_error_set(err, LP_EAUTH, "unknown, revoked or expired API token");
		goto done;
	}
	who.token_id = sqlite3_column_int64(q, 0);
	last_used = sqlite3_column_int64(q, 2);
	who.user_id = sqlite3_column_int64(q, 3);
	who.expires_at = sqlite3_column_int64(q, 6);
	lp_store_q_release(&q);
	rc = LP_OK;
	if (now - last_used >= LP_STORE_TOKEN_TOUCH_MS && st->reading) {
		/* a write now would end the caller's snapshot: it waits for the snapshot's end */
		st->touch_id = who.token_id;
		st->touch_at = now;
	} else if (now - last_used >= LP_STORE_TOKEN_TOUCH_MS) {
		lp_store_token_touch(st, who.token_id, now);
	}
	if (out != NULL)
		*out = who;
done:
	lp_store_q_release(&q);
	return rc;
}

static void token_clear(void *row)
{
	lp_store_token *t = row;

	free(t->name);
	free(t->token_hash);
	memset(t, 0, sizeof(*t));
}

static int token_read(void *row, sqlite3_stmt *q, lp_error *err)
{
	lp_store_token *t = row;

	t->id = sqlite3_column_int64(q, 0);
	t->name = lp_store_col_text(q, 1);
	t->token_hash = lp_store_col_text(q, 2);
	t->created_at = sqlite3_column_int64(q, 3);
	t->last_used_at = sqlite3_column_int64(q, 4);
	t->revoked_at = sqlite3_column_int64(q, 5);
	t->user_id = sqlite3_column_int64(q, 6);
	t->expires_at = sqlite3_column_int64(q, 7);
	if (!t->name || !t->token_hash)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	return LP_OK;
}

static const lp_store_rows token_rows = {sizeof(lp_store_token), token_read, token_clear, "tokens"};

void lp_store_tokens_free(lp_store_token *tokens, size_t count)
{
	lp_store_rows_free(tokens, count, &token_rows);
}

int lp_store_token_list(lp_store_token **out, size_t *out_count, lp_store *st, lp_error *err)
{
	static const lp_store_query list = {
	    .sql = "SELECT id, name, token_hash, created_at, last_used_at, revoked_at,"
	           " coalesce(user_id, 1), coalesce(expires_at, 0)"
	           " FROM api_tokens ORDER BY id LIMIT ?1",
	    .what = "listing tokens",
	    .rows = &token_rows,
	};

	return lp_store_list((void **)out, out_count, st, &list, NULL, TOKENS_MAX, err);
}

static int bind_user(sqlite3_stmt *q, const void *user_id)
{
	return sqlite3_bind_int64(q, 1, *(const int64_t *)user_id);
}

int lp_store_token_list_personal(lp_store_token **out, size_t *out_count, lp_store *st,
                                 int64_t user_id, lp_error *err)
{
	static const lp_store_query list = {
	    .sql = "SELECT id, name, token_hash, created_at, last_used_at, revoked_at,"
	           " coalesce(user_id, 1), 0 FROM api_tokens WHERE expires_at IS NULL"
	           " AND revoked_at IS NULL AND (?1 = 0 OR user_id = ?1) ORDER BY id LIMIT ?2",
	    .what = "listing tokens",
	    .bind = bind_user,
	    .rows = &token_rows,
	};

	return lp_store_list((void **)out, out_count, st, &list, &user_id, TOKENS_MAX, err);
}

int lp_store_token_revoke(lp_store *st, int64_t id, lp_error *err)
{
	static const char sql[] = "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?1)"
	                          " WHERE id = ?2";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = lp_store_q_prepare(&q, st, sql, err)) != LP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, lp_clock_wall_ms());
	sqlite3_bind_int64(q, 2, id);
	rc = lp_store_q_write_one(st, &q, err, "revoking token");
	if (rc == LP_ENOTFOUND)
		rc = lp_error_set(err, LP_ENOTFOUND, "token %lld not found", (long long)id);
	return rc;
}
