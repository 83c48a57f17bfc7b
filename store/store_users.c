/* store_users.c: users (name, role, password hash) and their deletion. */
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

#define USER_COLS "id, name, role, password_hash, created_at"

static const char *const role_names[] = {"member", "admin"};

const char *lp_store_role_name(lp_store_role r)
{
	return r == LP_ROLE_ADMIN ? role_names[1] : role_names[0];
}

int lp_store_role_parse(lp_store_role *out, const char *s)
{
	if (s != NULL && !strcmp(s, role_names[0]))
		*out = LP_ROLE_MEMBER;
	else if (s != NULL && !strcmp(s, role_names[1]))
		*out = LP_ROLE_ADMIN;
	else
		return LP_EINVAL;
	return LP_OK;
}

static void user_clear(void *row)
{
	lp_store_user *u = row;

	free(u->name);
	if (u->password_hash)
		explicit_bzero(u->password_hash, strlen(u->password_hash));
	free(u->password_hash);
	memset(u, 0, sizeof(*u));
}

static int user_read(void *row, sqlite3_stmt *q, lp_error *err)
{
	lp_store_user *u = row;

	u->id = sqlite3_column_int64(q, 0);
	u->name = lp_store_col_text(q, 1);
	if (lp_store_role_parse(&u->role, (const char *)sqlite3_column_text(q, 2)) != LP_OK)
		u->role = LP_ROLE_MEMBER; /* the CHECK allows no other value; the least power */
	u->password_hash = lp_store_col_text(q, 3);
	u->created_at = sqlite3_column_int64(q, 4);
	if (!u->name || !u->password_hash)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	return LP_OK;
}

static const lp_store_rows user_rows = {sizeof(lp_store_user), user_read, user_clear, "users"};

void lp_store_user_free(lp_store_user *user)
{
	lp_store_rows_free(user, 1, &user_rows);
}

void lp_store_users_free(lp_store_user *users, size_t count)
{
	lp_store_rows_free(users, count, &user_rows);
}

/* [a-z0-9._-], 1..LP_STORE_USER_MAX, a letter or digit first: safe in paths, URLs and logs. */
static int check_user_name(const char *name, lp_error *err)
{
	size_t i, len;

	if (name == NULL || *name == '\0')
		return lp_error_set(err, LP_EINVAL, "user name is required");
	len = strnlen(name, LP_STORE_USER_MAX + 1);
	if (len > LP_STORE_USER_MAX)
		return lp_error_set(err, LP_EINVAL, "user name is longer than %d characters",
		                    LP_STORE_USER_MAX);
	for (i = 0; i < len; i++) {
		char c = name[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return lp_error_set(err, LP_EINVAL,
			                    "user name \"%.*s\": only a-z, 0-9, '.', '_' and '-', "
			                    "starting with a letter or digit",
			                    (int)len, name);
	}
	return LP_OK;
}

int lp_store_user_get(lp_store_user **out, lp_store *st, const char *name, lp_error *err)
{
	static const lp_store_query by_name = {
	    .sql = "SELECT " USER_COLS " FROM users WHERE name = ?1",
	    .what = "reading user",
	    .bind = lp_store_bind_key,
	    .rows = &user_rows,
	};

	*out = NULL;
	if (name == NULL || strnlen(name, LP_STORE_USER_MAX + 1) > LP_STORE_USER_MAX)
		return LP_ENOTFOUND;
	return lp_store_get((void **)out, st, &by_name, name, err);
}

int lp_store_user_list(lp_store_user **out, size_t *out_count, lp_store *st, lp_error *err)
{
	static const lp_store_query list = {
	    .sql = "SELECT " USER_COLS " FROM users ORDER BY id LIMIT ?1",
	    .what = "listing users",
	    .rows = &user_rows,
	};

	return lp_store_list((void **)out, out_count, st, &list, NULL, LP_STORE_USERS_MAX, err);
}

static int count_rows(int64_t *out, lp_store *st, const char *sql, const char *arg, lp_error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = lp_store_q_prepare(&q, st, sql, err)) != LP_OK)
		return rc;
	if (arg)
		lp_store_bind_text(q, 1, arg);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(q, 0);
		rc = LP_OK;
	} else {
		rc = lp_store_fail(st, rc, err, "counting");
	}
	lp_store_q_release(&q);
	return rc;
}

int lp_store_user_create(lp_store_user **out, lp_store *st, const char *name, lp_store_role role,
                         const char *password_hash, lp_error *err)
{
	static const char sql_count[] = "SELECT count(*) FROM users";
	static const char sql[] = "INSERT INTO users (name, role, password_hash, created_at)"
	                          " VALUES (?1, ?2, ?3, ?4)";
	sqlite3_stmt *q = NULL;
	int64_t n = 0;
	int rc, in_tx = 0;

	if (out)
		*out = NULL;
	if ((rc = check_user_name(name, err)) != LP_OK ||
	    (rc = lp_store_check_text("password hash", password_hash, LP_STORE_TEXT_MAX, 1, err)) !=
	        LP_OK)
		return rc;
	if ((rc = lp_store_tx_begin(st, err)) != LP_OK)
		return rc;
	in_tx = 1;
	if ((rc = count_rows(&n, st, sql_count, NULL, err)) != LP_OK)
		goto done;
	if (n >= LP_STORE_USERS_MAX) {
		rc =
		    lp_error_set(err, LP_ETOOBIG, "at most %d users may exist", LP_STORE_USERS_MAX);
		goto done;
	}
	if ((rc = lp_store_q_prepare(&q, st, sql, err)) != LP_OK)
		goto done;
	lp_store_bind_text(q, 1, name);
	lp_store_bind_text(q, 2, lp_store_role_name(role));
	lp_store_bind_text(q, 3, password_hash);
	sqlite3_bind_int64(q, 4, lp_clock_wall_ms());
	rc = lp_store_q_exec(st, q, err, "creating user");
	lp_store_q_release(&q);
	if (rc == LP_EEXISTS)
		rc = lp_error_set(err, LP_EEXISTS, "user %s already exists", name);
	if (rc != LP_OK)
		goto done;
	in_tx = 0;
	if ((rc = lp_store_tx_commit(st, err)) == LP_OK && out)
		rc = lp_store_user_get(out, st, name, err);
done:
	lp_store_q_release(&q);
	if (in_tx)
		lp_store_tx_rollback(st);
	return rc;
}

int lp_store_user_delete(lp_store *st, const char *name, lp_error *err)
{
	static const char sql_id[] = "SELECT id FROM users WHERE name = ?1";
	static const char sql_sites[] = "SELECT count(*) FROM sites s JOIN users u"
	                                " ON u.id = s.owner_id WHERE u.name = ?1";
	static const char sql_tokens[] = "DELETE FROM api_tokens WHERE user_id ="
	                                 " (SELECT id FROM users WHERE name = ?1)";
	static const char sql_delete[] = "DELETE FROM users WHERE name = ?1";
	sqlite3_stmt *q = NULL;
	int64_t id = 0, sites = 0;
	int rc, in_tx = 0;

	if (name == NULL || strnlen(name, LP_STORE_USER_MAX + 1) > LP_STORE_USER_MAX)
		return lp_error_set(err, LP_ENOTFOUND, "user not found");
	if ((rc = lp_store_tx_begin(st, err)) != LP_OK)
		return rc;
	in_tx = 1;
	if ((rc = lp_store_q_prepare(&q, st, sql_id, err)) != LP_OK)
		goto done;
	lp_store_bind_text(q, 1, name);
	rc = sqlite3_step(q);
	id = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? LP_OK : lp_store_fail(st, rc, err, "user");
	lp_store_q_release(&q);
	if (rc != LP_OK)
		goto done;
	if (id == 0) {
		rc = lp_error_set(err, LP_ENOTFOUND, "user %s not found", name);
		goto done;
	}
	if (id == LP_STORE_ADMIN_USER) {
		rc = lp_error_set(err, LP_ECONFLICT,
		                  "user %s is the bootstrap admin (its token is in admin.token)",
		                  name);
		goto done;
	}
	if ((rc = count_rows(&sites, st, sql_sites, name, err)) != LP_OK)
		goto done;
	if (sites > 0) {
		rc = lp_error_set(err, LP_ECONFLICT,
		                  "user %s still owns %lld site(s): delete them or give them to "
		                  "another user first",
		                  name, (long long)sites);
		goto done;
	}
	if ((rc = lp_store_q_prepare(&q, st, sql_tokens, err)) != LP_OK)
		goto done;
	lp_store_bind_text(q, 1, name);
	rc = lp_store_q_exec(st, q, err, "deleting the user's tokens");
	lp_store_q_release(&q);
	if (rc != LP_OK || (rc = lp_store_q_prepare(&q, st, sql_delete, err)) != LP_OK)
		goto done;
	lp_store_bind_text(q, 1, name);
	rc = lp_store_q_exec(st, q, err, "deleting user");
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
