/* store_sites.c: site rows (desired state): create, read, spec updates, revision requests, delete.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"
#include "launchpad/crypto.h"
#include "launchpad/fmt.h"

#define SITE_COLS                                                                                  \
	"id, name, display_name, spec_json, spec_hash, generation, desired_revision, "             \
	"webhook_secret, created_at, updated_at, deletion_timestamp, resource_version, "           \
	"coalesce(owner_id, 1), coalesce((SELECT u.name FROM users u WHERE u.id = owner_id), "     \
	"''), "                                                                                    \
	"git_credential, parent_id"

static void site_clear(void *row)
{
	lp_store_site *s = row;

	free(s->id);
	free(s->name);
	free(s->display_name);
	free(s->spec_json);
	free(s->spec_hash);
	free(s->webhook_secret);
	free(s->owner);
	if (s->git_credential)
		explicit_bzero(s->git_credential, strlen(s->git_credential));
	free(s->git_credential);
	free(s->parent_id);
	memset(s, 0, sizeof(*s));
}

static int site_read(void *row, sqlite3_stmt *q, lp_error *err)
{
	lp_store_site *s = row;

	s->id = lp_store_col_text(q, 0);
	s->name = lp_store_col_text(q, 1);
	s->display_name = lp_store_col_text(q, 2);
	s->spec_json = lp_store_col_text(q, 3);
	s->spec_hash = lp_store_col_text(q, 4);
	s->generation = sqlite3_column_int64(q, 5);
	s->desired_revision = sqlite3_column_int64(q, 6);
	s->webhook_secret = lp_store_col_text(q, 7);
	s->created_at = sqlite3_column_int64(q, 8);
	s->updated_at = sqlite3_column_int64(q, 9);
	s->deletion_timestamp = sqlite3_column_int64(q, 10);
	s->resource_version = sqlite3_column_int64(q, 11);
	s->owner_id = sqlite3_column_int64(q, 12);
	s->owner = lp_store_col_text(q, 13);
	s->git_credential = lp_store_col_text(q, 14);
	s->parent_id = lp_store_col_text(q, 15);
	if (!s->id || !s->name || !s->display_name || !s->spec_json || !s->spec_hash ||
	    !s->webhook_secret || !s->owner || !s->git_credential || !s->parent_id)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	return LP_OK;
}

static const lp_store_rows site_rows = {sizeof(lp_store_site), site_read, site_clear, "sites"};

void lp_store_site_free(lp_store_site *site)
{
	lp_store_rows_free(site, 1, &site_rows);
}

void lp_store_sites_free(lp_store_site *sites, size_t count)
{
	lp_store_rows_free(sites, count, &site_rows);
}

static const lp_store_query site_by_id = {
    .sql = "SELECT " SITE_COLS " FROM sites WHERE id = ?1",
    .what = "reading site",
    .bind = lp_store_bind_key,
    .rows = &site_rows,
};
static const lp_store_query site_by_name = {
    .sql = "SELECT " SITE_COLS " FROM sites WHERE name = ?1",
    .what = "reading site",
    .bind = lp_store_bind_key,
    .rows = &site_rows,
};
/*
 * The id first, then the name: one index search each, merged in by_name's order. "id = ?1 OR
 * name = ?1 ORDER BY id = ?1 DESC" searched both indexes into a row set and sorted the result in
 * a temp b-tree: most of a GET of one site's time in SQLite (callgrind).
 */
#define EITHER(select, from, t)                                                                    \
	select ", 0 AS by_name " from " WHERE " t "id = ?1 UNION ALL " select ", 1 " from          \
	       " WHERE " t "name = ?1 ORDER BY by_name LIMIT 1"
static const lp_store_query site_by_either = {
    .sql = EITHER("SELECT " SITE_COLS, "FROM sites", ""),
    .what = "reading site",
    .bind = lp_store_bind_key,
    .rows = &site_rows,
};

static int get_one(lp_store_site **out, lp_store *st, const lp_store_query *qd, const char *key,
                   lp_error *err)
{
	int rc;

	*out = NULL;
	if (key == NULL || *key == '\0' || strlen(key) > LP_STORE_TEXT_MAX)
		return lp_error_set(err, LP_ENOTFOUND, "site not found");
	rc = lp_store_get((void **)out, st, qd, key, err);
	if (rc == LP_ENOTFOUND)
		return lp_error_set(err, LP_ENOTFOUND, "site %s not found", key);
	return rc;
}

int lp_store_site_get_by_id(lp_store_site **out, lp_store *st, const char *id, lp_error *err)
{
	return get_one(out, st, &site_by_id, id, err);
}

int lp_store_site_get_by_name(lp_store_site **out, lp_store *st, const char *name, lp_error *err)
{
	return get_one(out, st, &site_by_name, name, err);
}

int lp_store_site_get(lp_store_site **out, lp_store *st, const char *name_or_id, lp_error *err)
{
	return get_one(out, st, &site_by_either, name_or_id, err);
}

struct list_filter {
	int include_deleted;
	int64_t owner_id; /* 0: every owner */
};

static int bind_list_filter(sqlite3_stmt *q, const void *arg)
{
	const struct list_filter *f = arg;
	int rc = sqlite3_bind_int(q, 1, f->include_deleted ? 1 : 0);

	return rc == SQLITE_OK ? sqlite3_bind_int64(q, 2, f->owner_id) : rc;
}

int lp_store_site_list_owned(lp_store_site **out, size_t *out_count, lp_store *st,
                             int include_deleted, int64_t owner_id, lp_error *err)
{
	/* Strict: the controller's garbage collection must never act on a partial list. */
	static const lp_store_query list = {
	    .sql = "SELECT " SITE_COLS " FROM sites WHERE (?1 OR deletion_timestamp IS NULL)"
	           " AND (?2 = 0 OR coalesce(owner_id, 1) = ?2)"
	           " ORDER BY created_at, name LIMIT ?3",
	    .what = "listing sites",
	    .bind = bind_list_filter,
	    .strict = 1,
	    .rows = &site_rows,
	};
	struct list_filter f = {include_deleted, owner_id};

	return lp_store_list((void **)out, out_count, st, &list, &f, LP_STORE_LIST_MAX, err);
}

int lp_store_site_list(lp_store_site **out, size_t *out_count, lp_store *st, int include_deleted,
                       lp_error *err)
{
	return lp_store_site_list_owned(out, out_count, st, include_deleted, 0, err);
}

int lp_store_site_list_children(lp_store_site **out, size_t *out_count, lp_store *st,
                                const char *parent_id, lp_error *err)
{
	/* Strict, as the list above: deleting a parent must see every preview of it. */
	static const lp_store_query list = {
	    .sql = "SELECT " SITE_COLS " FROM sites WHERE parent_id = ?1 AND parent_id != ''"
	           " ORDER BY created_at, name LIMIT ?2",
	    .what = "listing previews",
	    .bind = lp_store_bind_key,
	    .strict = 1,
	    .rows = &site_rows,
	};

	return lp_store_list((void **)out, out_count, st, &list, parent_id, LP_STORE_LIST_MAX, err);
}

/* ---- walks: the API's lists, a page at a time, each site with its status ---- */

/*
 * One query per page, never one per site: the status rides along in a join. The row value
 * comparison resumes after the cursor on the sites_order index (schema 3).
 */
#define WALK_FROM                                                                                  \
	" FROM sites s LEFT JOIN status t ON t.site_id = s.id"                                     \
	" WHERE (?1 OR s.deletion_timestamp IS NULL) AND (s.created_at, s.name) > (?2, ?3)"        \
	" AND (?5 = 0 OR coalesce(s.owner_id, 1) = ?5)"

#define WALK_COLS                                                                                  \
	"SELECT s.id, s.name, s.display_name, s.spec_json, s.spec_hash, s.generation,"             \
	" s.desired_revision, s.webhook_secret, s.created_at, s.updated_at, s.deletion_timestamp," \
	" s.resource_version, t.site_id, t.phase, t.observed_generation, t.current_revision,"      \
	" t.conditions_json, t.url, t.message, t.updated_at, coalesce(s.owner_id, 1),"             \
	" coalesce((SELECT u.name FROM users u WHERE u.id = s.owner_id), ''), s.git_credential,"   \
	" s.parent_id"

static const char walk_sql[] = WALK_COLS WALK_FROM " ORDER BY s.created_at, s.name LIMIT ?4";
/* As site_by_either: the id first, then the name. */
static const char view_sql[] =
    EITHER(WALK_COLS, "FROM sites s LEFT JOIN status t ON t.site_id = s.id", "s.");
/*
 * Counting needs no status. An admin's count (?5 = 0) names no owner_id, so sites_order answers
 * it alone (it holds deletion_timestamp too); naming owner_id, even behind "?5 = 0 OR", makes
 * SQLite read every counted row from the table (a page of 50 of 1,000 sites spent a sixth of its
 * time there). A member's count reads the rows.
 */
#define COUNT_FROM                                                                                 \
	"SELECT count(*) FROM sites s"                                                             \
	" WHERE (?1 OR s.deletion_timestamp IS NULL) AND (s.created_at, s.name) > (?2, ?3)"
/* "?5 = 0" names no column: bind_walk binds ?5 for every walk and count */
static const char count_all_sql[] = COUNT_FROM " AND ?5 = 0";
static const char count_owned_sql[] = COUNT_FROM " AND coalesce(s.owner_id, 1) = ?5";

/* A text column borrowed from the row ("" for NULL). */
static char *col_borrow(sqlite3_stmt *q, int col)
{
	const unsigned char *s = sqlite3_column_text(q, col);

	return (char *)(s != NULL ? (const char *)s : "");
}

/* The current row as borrowed structs; *has_status 0 when the join found no status. */
static void walk_row(lp_store_site *s, lp_store_status *t, int *has_status, sqlite3_stmt *q)
{
	s->id = col_borrow(q, 0);
	s->name = col_borrow(q, 1);
	s->display_name = col_borrow(q, 2);
	s->spec_json = col_borrow(q, 3);
	s->spec_hash = col_borrow(q, 4);
	s->generation = sqlite3_column_int64(q, 5);
	s->desired_revision = sqlite3_column_int64(q, 6);
	s->webhook_secret = col_borrow(q, 7);
	s->created_at = sqlite3_column_int64(q, 8);
	s->updated_at = sqlite3_column_int64(q, 9);
	s->deletion_timestamp = sqlite3_column_int64(q, 10);
	s->resource_version = sqlite3_column_int64(q, 11);
	s->owner_id = sqlite3_column_int64(q, 20);
	s->owner = col_borrow(q, 21);
	s->git_credential = col_borrow(q, 22);
	s->parent_id = col_borrow(q, 23);
	*has_status = sqlite3_column_type(q, 12) != SQLITE_NULL;
	if (!*has_status)
		return;
	t->site_id = col_borrow(q, 12);
	if (lp_store_phase_parse(&t->phase, (const char *)sqlite3_column_text(q, 13)) != LP_OK)
		t->phase = LP_PHASE_PENDING; /* unreachable: a CHECK constraint guards the column */
	t->observed_generation = sqlite3_column_int64(q, 14);
	t->current_revision = sqlite3_column_int64(q, 15);
	t->conditions_json = col_borrow(q, 16);
	t->url = col_borrow(q, 17);
	t->message = col_borrow(q, 18);
	t->updated_at = sqlite3_column_int64(q, 19);
}

static int bind_walk(sqlite3_stmt *q, int include_deleted, int64_t owner_id,
                     const lp_store_site_cursor *after)
{
	int rc = sqlite3_bind_int(q, 1, include_deleted ? 1 : 0);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(q, 5, owner_id);
	/* Before the first row: every created_at is a positive time. */
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(q, 2, after ? after->created_at : -1);
	if (rc == SQLITE_OK)
		rc = lp_store_bind_text(q, 3, after ? after->name : "");
	return rc;
}

int lp_store_site_walk(lp_store_site_cursor *out_next, int *out_more, lp_store *st,
                       int include_deleted, int64_t owner_id, const lp_store_site_cursor *after,
                       size_t limit, lp_store_site_fn fn, void *ctx, lp_error *err)
{
	sqlite3_stmt *q = NULL;
	lp_store_site s;
	lp_store_status t;
	/* The bound name must not move while the query runs: out_next may be after itself. */
	lp_store_site_cursor from = {0};
	int rc, has_status;
	size_t n = 0;

	if (out_more)
		*out_more = 0;
	if (limit == 0 || limit > LP_STORE_LIST_MAX)
		return lp_error_set(err, LP_EINVAL, "a walk takes 1 to %d sites, not %zu",
		                    LP_STORE_LIST_MAX, limit);
	if (after && strnlen(after->name, sizeof(after->name)) == sizeof(after->name))
		return lp_error_set(err, LP_EINVAL, "cursor name is not terminated");
	if (after)
		from = *after;
	if ((rc = lp_store_q_prepare(&q, st, walk_sql, err)) != LP_OK)
		return rc;
	/* One row past the limit says whether more follow. */
	if ((rc = bind_walk(q, include_deleted, owner_id, after ? &from : NULL)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int64(q, 4, (int64_t)limit + 1)) != SQLITE_OK) {
		rc = lp_store_fail(st, rc, err, "listing sites");
		goto done;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (n == limit) {
			if (out_more)
				*out_more = 1;
			rc = SQLITE_DONE;
			break;
		}
		memset(&s, 0, sizeof(s));
		memset(&t, 0, sizeof(t));
		walk_row(&s, &t, &has_status, q);
		n++;
		if ((rc = fn(ctx, &s, has_status ? &t : NULL)) != LP_OK)
			goto done;
		if (out_next) {
			out_next->created_at = s.created_at;
			/* A stored name is a checked DNS label: it always fits. */
			if (lp_fmt(out_next->name, sizeof(out_next->name), "%s", s.name) != LP_OK) {
				rc = lp_error_set(err, LP_ETOOBIG, "site name %.80s is too long",
				                  s.name);
				goto done;
			}
		}
	}
	rc = rc == SQLITE_DONE ? LP_OK : lp_store_fail(st, rc, err, "listing sites");
done:
	lp_store_q_release(&q);
	return rc;
}

int lp_store_site_view(lp_store *st, const char *name_or_id, lp_store_site_fn fn, void *ctx,
                       lp_error *err)
{
	sqlite3_stmt *q = NULL;
	lp_store_site s = {0};
	lp_store_status t = {0};
	int rc, has_status;

	if (name_or_id == NULL || *name_or_id == '\0' || strlen(name_or_id) > LP_STORE_TEXT_MAX)
		return lp_error_set(err, LP_ENOTFOUND, "site not found");
	if ((rc = lp_store_q_prepare(&q, st, view_sql, err)) != LP_OK)
		return rc;
	if ((rc = lp_store_bind_key(q, name_or_id)) != SQLITE_OK) {
		rc = lp_store_fail(st, rc, err, "reading site");
		goto done;
	}
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE) {
		rc = lp_error_set(err, LP_ENOTFOUND, "site %s not found", name_or_id);
		goto done;
	}
	if (rc != SQLITE_ROW) {
		rc = lp_store_fail(st, rc, err, "reading site");
		goto done;
	}
	walk_row(&s, &t, &has_status, q);
	rc = fn(ctx, &s, has_status ? &t : NULL);
done:
	lp_store_q_release(&q);
	return rc;
}

int lp_store_site_count(int64_t *out, lp_store *st, int include_deleted, int64_t owner_id,
                        const lp_store_site_cursor *after, lp_error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	*out = 0;
	if ((rc = lp_store_q_prepare(&q, st, owner_id ? count_owned_sql : count_all_sql, err)) !=
	    LP_OK)
		return rc;
	if ((rc = bind_walk(q, include_deleted, owner_id, after)) != SQLITE_OK ||
	    (rc = sqlite3_step(q)) != SQLITE_ROW) {
		rc = lp_store_fail(st, rc, err, "counting sites");
		goto done;
	}
	*out = sqlite3_column_int64(q, 0);
	rc = LP_OK;
done:
	lp_store_q_release(&q);
	return rc;
}

/* A DNS label: 1..63 of [a-z0-9-], not starting or ending with '-'. */
static int check_name(const char *name, lp_error *err)
{
	size_t i, len;

	if (name == NULL || *name == '\0')
		return lp_error_set(err, LP_EINVAL, "site name is required");
	len = strnlen(name, LP_STORE_NAME_MAX + 1);
	if (len > LP_STORE_NAME_MAX)
		return lp_error_set(err, LP_EINVAL, "site name is longer than %d characters",
		                    LP_STORE_NAME_MAX);
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return lp_error_set(err, LP_EINVAL,
			                    "site name %s: only a-z, 0-9 and '-' are allowed",
			                    name);
	}
	if (name[0] == '-' || name[len - 1] == '-')
		return lp_error_set(err, LP_EINVAL, "site name %s may not start or end with '-'",
		                    name);
	return LP_OK;
}

static int check_trigger(lp_store_trigger t, lp_error *err)
{
	if ((int)t < (int)LP_TRIGGER_CREATE || (int)t > (int)LP_TRIGGER_UPLOAD)
		return lp_error_set(err, LP_EINVAL, "unknown revision trigger %d", (int)t);
	return LP_OK;
}

/* A UUID is 16 bytes; in text, 32 hex digits with dashes before digits 8, 12, 16 and 20. */
#define UUID_BYTES      16
#define UUID_HEX        (2 * UUID_BYTES)
#define UUID_VERSION_AT 12 /* the digit holding the version */
#define UUID_VARIANT_AT 16 /* the digit holding the variant bits */

_Static_assert(UUID_HEX + 4 + 1 == LP_STORE_ID_LEN, "LP_STORE_ID_LEN holds a UUID's text");

/* A random UUIDv4 in its text form. */
int lp_store_new_id(char out[LP_STORE_ID_LEN], lp_error *err)
{
	static const char hex[] = "0123456789abcdef";
	char r[UUID_HEX + 1];
	int rc, i, j = 0, variant;

	rc = lp_crypto_random_hex(r, UUID_BYTES);
	if (rc != LP_OK)
		return lp_error_set(err, rc, "generating site id");
	r[UUID_VERSION_AT] = '4';
	/* variant 10xx: keep the low two bits of the random nibble */
	variant = (int)(strchr(hex, r[UUID_VARIANT_AT]) - hex);
	r[UUID_VARIANT_AT] = hex[8 | (variant & 3)];
	for (i = 0; i < UUID_HEX; i++) {
		if (i == 8 || i == 12 || i == 16 || i == 20)
			out[j++] = '-';
		out[j++] = r[i];
	}
	out[j] = '\0';
	return LP_OK;
}

/*
 * The domains a spec claims: spec.domains of the canonical JSON, read by SQLite (text that is no
 * JSON claims none; only a canonical spec names domains, and an unreadable one serves nothing).
 */
#define SPEC_DOMAINS                                                                               \
	"SELECT value FROM json_each(CASE WHEN json_valid(?2) THEN ?2 ELSE '{}' END,"              \
	" '$.spec.domains') WHERE type = 'text'"

/*
 * Make site_domains hold exactly the domains spec_json claims for site_id (inside the caller's
 * write transaction). A domain another site holds is LP_ECONFLICT naming that site, and nothing
 * is written; the table's primary key refuses it again should two writers ever get this far.
 */
static int claim_domains(lp_store *st, const char *site_id, const char *spec_json, lp_error *err)
{
	static const char taken[] =
	    "SELECT d.domain, s.name FROM site_domains d JOIN sites s ON s.id = d.site_id"
	    " WHERE d.site_id != ?1 AND d.domain IN (" SPEC_DOMAINS ") ORDER BY d.domain LIMIT 1";
	static const char drop[] = "DELETE FROM site_domains WHERE site_id = ?1 AND domain NOT IN"
	                           " (" SPEC_DOMAINS ")";
	static const char add[] =
	    "INSERT INTO site_domains (domain, site_id) SELECT value, ?1 FROM (" SPEC_DOMAINS
	    ") WHERE value NOT IN (SELECT domain FROM site_domains WHERE site_id = ?1)";
	const char *const steps[] = {drop, add};
	sqlite3_stmt *q = NULL;
	size_t i;
	int rc;

	if ((rc = lp_store_q_prepare(&q, st, taken, err)) != LP_OK)
		return rc;
	lp_store_bind_text(q, 1, site_id);
	lp_store_bind_text(q, 2, spec_json);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		rc = lp_error_set(err, LP_ECONFLICT, "domain %s belongs to site %s",
		                  (const char *)sqlite3_column_text(q, 0),
		                  (const char *)sqlite3_column_text(q, 1));
		lp_store_q_release(&q);
		return rc;
	}
	lp_store_q_release(&q);
	if (rc != SQLITE_DONE)
		return lp_store_fail(st, rc, err, "checking domains");
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if ((rc = lp_store_q_prepare(&q, st, steps[i], err)) != LP_OK)
			return rc;
		lp_store_bind_text(q, 1, site_id);
		lp_store_bind_text(q, 2, spec_json);
		rc = lp_store_q_exec(st, q, err, "claiming domains");
		lp_store_q_release(&q);
		if (rc == LP_EEXISTS)
			return lp_error_set(err, LP_ECONFLICT,
			                    "a domain of the spec belongs to "
			                    "another site");
		if (rc != LP_OK)
			return rc;
	}
	return LP_OK;
}

static int release_domains(lp_store *st, const char *site_id, lp_error *err)
{
	static const char sql[] = "DELETE FROM site_domains WHERE site_id = ?1";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = lp_store_q_prepare(&q, st, sql, err)) != LP_OK)
		return rc;
	lp_store_bind_text(q, 1, site_id);
	rc = lp_store_q_exec(st, q, err, "releasing domains");
	lp_store_q_release(&q);
	return rc;
}

int lp_store_site_create(lp_store_site **out, lp_store *st, const lp_store_site_new *in,
                         lp_error *err)
{
	static const char sql[] =
	    "INSERT INTO sites (id, name, display_name, spec_json, spec_hash, generation,"
	    " desired_revision, webhook_secret, created_at, updated_at, resource_version, owner_id,"
	    " parent_id) VALUES (?1, ?2, ?3, ?4, ?5, 1, 1, ?6, ?7, ?7, 1, ?8, ?9)";
	char id[LP_STORE_ID_LEN];
	sqlite3_stmt *q = NULL;
	int64_t now;
	int rc, in_tx = 0;

	if (out != NULL)
		*out = NULL;
	if (in == NULL)
		return lp_error_set(err, LP_EINVAL, "no site given");
	if ((rc = check_name(in->name, err)) != LP_OK ||
	    (rc = lp_store_check_text("display name", in->display_name, LP_STORE_TEXT_MAX, 0,
	                              err)) != LP_OK ||
	    (rc = lp_store_check_text("spec", in->spec_json, LP_STORE_SPEC_MAX, 1, err)) != LP_OK ||
	    (rc = lp_store_check_text("spec hash", in->spec_hash, LP_STORE_TEXT_MAX, 1, err)) !=
	        LP_OK ||
	    (rc = lp_store_check_text("webhook secret", in->webhook_secret, LP_STORE_TEXT_MAX, 0,
	                              err)) != LP_OK ||
	    (rc = lp_store_check_text("source", in->source, LP_STORE_TEXT_MAX, 0, err)) != LP_OK ||
	    (rc = lp_store_check_text("parent id", in->parent_id, LP_STORE_ID_LEN, 0, err)) !=
	        LP_OK ||
	    (rc = check_trigger(in->trigger, err)) != LP_OK)
		return rc;
	if (in->id != NULL && lp_fmt(id, sizeof(id), "%s", in->id) != LP_OK)
		return lp_error_set(err, LP_EINVAL, "site id \"%.40s\" is too long", in->id);
	if (in->id == NULL && (rc = lp_store_new_id(id, err)) != LP_OK)
		return rc;
	now = lp_clock_wall_ms();
	rc = lp_store_tx_begin(st, err);
	if (rc != LP_OK)
		goto done;
	in_tx = 1;
	rc = lp_store_q_prepare(&q, st, sql, err);
	if (rc != LP_OK)
		goto done;
	lp_store_bind_text(q, 1, id);
	lp_store_bind_text(q, 2, in->name);
	lp_store_bind_text(q, 3, in->display_name);
	lp_store_bind_text(q, 4, in->spec_json);
	lp_store_bind_text(q, 5, in->spec_hash);
	lp_store_bind_text(q, 6, in->webhook_secret);
	sqlite3_bind_int64(q, 7, now);
	sqlite3_bind_int64(q, 8, in->owner_id > 0 ? in->owner_id : LP_STORE_ADMIN_USER);
	lp_store_bind_text(q, 9, in->parent_id ? in->parent_id : "");
	rc = lp_store_q_exec(st, q, err, "creating site");
	lp_store_q_release(&q);
	if (rc == LP_EEXISTS)
		rc = lp_error_set(err, LP_EEXISTS, "site %s already exists", in->name);
	else if (rc == LP_ENOTFOUND) /* the foreign key: the owner was deleted meanwhile */
		rc = lp_error_set(err, LP_ENOTFOUND, "owner %lld does not exist",
		                  (long long)in->owner_id);
	if (rc != LP_OK)
		goto done;
	if ((rc = claim_domains(st, id, in->spec_json, err)) != LP_OK)
		goto done;
	rc = lp_store_revision_insert(st, id, 1, in->trigger, in->source, in->spec_hash, now, err);
	if (rc != LP_OK)
		goto done;
	in_tx = 0;
	rc = lp_store_tx_commit(st, err);
	if (rc == LP_OK && out != NULL)
		rc = lp_store_site_get_by_id(out, st, id, err);
done:
	lp_store_q_release(&q);
	if (in_tx)
		lp_store_tx_rollback(st);
	return rc;
}

/* Open a write transaction and read the site inside it; on failure nothing stays open. */
static int begin_load(lp_store_site **out, lp_store *st, const char *site_id, lp_error *err)
{
	int rc;

	*out = NULL;
	rc = lp_store_tx_begin(st, err);
	if (rc != LP_OK)
		return rc;
	rc = lp_store_site_get_by_id(out, st, site_id, err);
	if (rc != LP_OK)
		lp_store_tx_rollback(st);
	return rc;
}

/* Desired-state writes need the version the caller read, and a site not being deleted. */
static int check_writable(const lp_store_site *s, int64_t expected_rv, lp_error *err)
{
	if (s->deletion_timestamp != 0)
		return lp_error_set(err, LP_ECONFLICT, "site %s is being deleted", s->name);
	if (expected_rv > 0 && expected_rv != s->resource_version)
		return lp_error_set(
		    err, LP_ECONFLICT,
		    "site %s was changed: resource version %lld is stale (now %lld)", s->name,
		    (long long)expected_rv, (long long)s->resource_version);
	return LP_OK;
}

int lp_store_site_update_spec(lp_store_update *out, lp_store *st, const char *site_id,
                              int64_t expected_rv, const char *display_name, const char *spec_json,
                              const char *spec_hash, int new_revision, lp_store_trigger trigger,
                              const char *source, lp_error *err)
{
	static const char sql[] =
	    "UPDATE sites SET spec_json = ?1, spec_hash = ?2, display_name = ?3,"
	    " generation = generation + ?4,"
	    " desired_revision = CASE WHEN ?5 > 0 THEN ?5 ELSE desired_revision END,"
	    " resource_version = resource_version + 1, updated_at = ?6 WHERE id = ?7";
	lp_store_update res = {0};
	lp_store_site *cur = NULL;
	sqlite3_stmt *q = NULL;
	int rc, in_tx = 0, hash_changed, name_changed;
	int64_t now = lp_clock_wall_ms();

	if ((rc = lp_store_check_text("display name", display_name, LP_STORE_TEXT_MAX, 0, err)) !=
	        LP_OK ||
	    (rc = lp_store_check_text("spec", spec_json, LP_STORE_SPEC_MAX, 1, err)) != LP_OK ||
	    (rc = lp_store_check_text("spec hash", spec_hash, LP_STORE_TEXT_MAX, 1, err)) !=
	        LP_OK ||
	    (rc = lp_store_check_text("source", source, LP_STORE_TEXT_MAX, 0, err)) != LP_OK ||
	    (new_revision && (rc = check_trigger(trigger, err)) != LP_OK))
		return rc;
	rc = begin_load(&cur, st, site_id, err);
	if (rc != LP_OK)
		goto done;
	in_tx = 1;
	rc = check_writable(cur, expected_rv, err);
	if (rc != LP_OK)
		goto done;
	hash_changed = strcmp(cur->spec_hash, spec_hash) != 0;
	name_changed = display_name != NULL && strcmp(cur->display_name, display_name) != 0;
	res.generation = cur->generation;
	res.resource_version = cur->resource_version;
	/* Unchanged: the rollback below ends a transaction that wrote nothing. */
	if (!hash_changed && !name_changed)
		goto done;
	/* Only a changed spec can name other domains. */
	if (hash_changed && (rc = claim_domains(st, cur->id, spec_json, err)) != LP_OK)
		goto done;
	if (hash_changed && new_revision) {
		rc = lp_store_revision_next(&res.revision, st, cur->id, err);
		if (rc == LP_OK)
			rc = lp_store_revision_insert(st, cur->id, res.revision, trigger, source,
			                              spec_hash, now, err);
		if (rc != LP_OK)
			goto done;
	}
	rc = lp_store_q_prepare(&q, st, sql, err);
	if (rc != LP_OK)
		goto done;
	lp_store_bind_text(q, 1, spec_json);
	lp_store_bind_text(q, 2, spec_hash);
	lp_store_bind_text(q, 3, display_name != NULL ? display_name : cur->display_name);
	sqlite3_bind_int(q, 4, hash_changed ? 1 : 0);
	sqlite3_bind_int64(q, 5, res.revision);
	sqlite3_bind_int64(q, 6, now);
	lp_store_bind_text(q, 7, cur->id);
	rc = lp_store_q_exec(st, q, err, "updating site spec");
	lp_store_q_release(&q);
	if (rc != LP_OK)
		goto done;
	in_tx = 0;
	rc = lp_store_tx_commit(st, err);
	if (rc != LP_OK)
		goto done;
	res.changed = 1;
	res.generation += hash_changed ? 1 : 0;
	res.resource_version++;
done:
	lp_store_q_release(&q);
	if (in_tx)
		lp_store_tx_rollback(st);
	if (rc == LP_OK && out != NULL)
		*out = res;
	lp_store_site_free(cur);
	return rc;
}

static const char sql_set_desired[] = "UPDATE sites SET desired_revision = ?1,"
                                      " resource_version = resource_version + 1, updated_at = ?2"
                                      " WHERE id = ?3";

static int set_desired(lp_store *st, const char *site_id, int64_t number, lp_error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	rc = lp_store_q_prepare(&q, st, sql_set_desired, err);
	if (rc != LP_OK)
		return rc;
	sqlite3_bind_int64(q, 1, number);
	sqlite3_bind_int64(q, 2, lp_clock_wall_ms());
	lp_store_bind_text(q, 3, site_id);
	rc = lp_store_q_exec(st, q, err, "setting desired revision");
	lp_store_q_release(&q);
	return rc;
}

static int mark_draft(lp_store *st, const char *site_id, int64_t number, lp_error *err)
{
	static const char sql[] =
	    "UPDATE revisions SET draft = 1 WHERE site_id = ?1 AND number = ?2";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = lp_store_q_prepare(&q, st, sql, err)) != LP_OK)
		return rc;
	lp_store_bind_text(q, 1, site_id);
	sqlite3_bind_int64(q, 2, number);
	rc = lp_store_q_exec(st, q, err, "marking a draft");
	lp_store_q_release(&q);
	return rc;
}

static int request(int64_t *out, lp_store *st, const char *site_id, int64_t expected_rv,
                   lp_store_trigger trigger, const char *source, int draft, lp_error *err);

int lp_store_revision_request(int64_t *out, lp_store *st, const char *site_id, int64_t expected_rv,
                              lp_store_trigger trigger, const char *source, lp_error *err)
{
	return request(out, st, site_id, expected_rv, trigger, source, 0, err);
}

int lp_store_revision_request_draft(int64_t *out, lp_store *st, const char *site_id,
                                    int64_t expected_rv, lp_store_trigger trigger,
                                    const char *source, lp_error *err)
{
	return request(out, st, site_id, expected_rv, trigger, source, 1, err);
}

static int request(int64_t *out, lp_store *st, const char *site_id, int64_t expected_rv,
                   lp_store_trigger trigger, const char *source, int draft, lp_error *err)
{
	lp_store_site *cur = NULL;
	int64_t number = 0;
	int rc, in_tx = 0;

	if ((rc = lp_store_check_text("source", source, LP_STORE_TEXT_MAX, 0, err)) != LP_OK ||
	    (rc = check_trigger(trigger, err)) != LP_OK)
		return rc;
	rc = begin_load(&cur, st, site_id, err);
	if (rc != LP_OK)
		goto done;
	in_tx = 1;
	rc = check_writable(cur, expected_rv, err);
	if (rc == LP_OK)
		rc = lp_store_revision_next(&number, st, cur->id, err);
	if (rc == LP_OK)
		rc = lp_store_revision_insert(st, cur->id, number, trigger, source, cur->spec_hash,
		                              lp_clock_wall_ms(), err);
	if (rc == LP_OK && draft)
		rc = mark_draft(st, cur->id, number, err);
	/* A draft leaves the desired revision where it is; resource_version moves either way. */
	if (rc == LP_OK)
		rc = set_desired(st, cur->id, draft ? cur->desired_revision : number, err);
	if (rc != LP_OK)
		goto done;
	in_tx = 0;
	rc = lp_store_tx_commit(st, err);
	if (rc == LP_OK && out != NULL)
		*out = number;
done:
	if (in_tx)
		lp_store_tx_rollback(st);
	lp_store_site_free(cur);
	return rc;
}

int lp_store_site_set_desired_revision(lp_store *st, const char *site_id, int64_t expected_rv,
                                       int64_t number, lp_error *err)
{
	static const char sql_exists[] =
	    "SELECT 1 FROM revisions WHERE site_id = ?1 AND number = ?2";
	lp_store_site *cur = NULL;
	sqlite3_stmt *q = NULL;
	int rc, in_tx = 0;

	if (number < 1)
		return lp_error_set(err, LP_EINVAL, "revision number must be 1 or more");
	rc = begin_load(&cur, st, site_id, err);
	if (rc != LP_OK)
		goto done;
	in_tx = 1;
	rc = check_writable(cur, expected_rv, err);
	if (rc != LP_OK || cur->desired_revision == number)
		goto done;
	rc = lp_store_q_prepare(&q, st, sql_exists, err);
	if (rc != LP_OK)
		goto done;
	lp_store_bind_text(q, 1, cur->id);
	sqlite3_bind_int64(q, 2, number);
	rc = sqlite3_step(q);
	lp_store_q_release(&q);
	if (rc == SQLITE_DONE) {
		rc = lp_error_set(err, LP_ENOTFOUND, "site %s has no revision %lld", cur->name,
		                  (long long)number);
		goto done;
	}
	if (rc != SQLITE_ROW) {
		rc = lp_store_fail(st, rc, err, "reading revision");
		goto done;
	}
	rc = set_desired(st, cur->id, number, err);
	if (rc != LP_OK)
		goto done;
	in_tx = 0;
	rc = lp_store_tx_commit(st, err);
done:
	lp_store_q_release(&q);
	if (in_tx)
		lp_store_tx_rollback(st);
	lp_store_site_free(cur);
	return rc;
}

/* The state of revision number of site_id, in one statement of the caller's transaction. */
static int revision_state(lp_store_rev_state *out, lp_store *st, const char *site_id,
                          int64_t number, lp_error *err)
{
	static const char sql[] = "SELECT state FROM revisions WHERE site_id = ?1 AND number = ?2";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = lp_store_q_prepare(&q, st, sql, err)) != LP_OK)
		return rc;
	lp_store_bind_text(q, 1, site_id);
	sqlite3_bind_int64(q, 2, number);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		/* The CHECK constraint keeps the column within the enum. */
		if (lp_store_rev_state_parse(out, (const char *)sqlite3_column_text(q, 0)) != LP_OK)
			*out = LP_REV_FAILED;
		rc = LP_OK;
	} else if (rc == SQLITE_DONE)
		rc = lp_error_set(err, LP_ENOTFOUND, "no revision %lld", (long long)number);
	else
		rc = lp_store_fail(st, rc, err, "reading revision");
	lp_store_q_release(&q);
	return rc;
}

/* The revision the status says is served (0: none yet). */
static int served_revision(int64_t *out, lp_store *st, const char *site_id, lp_error *err)
{
	static const char sql[] = "SELECT current_revision FROM status WHERE site_id = ?1";
	sqlite3_stmt *q = NULL;
	int rc;

	*out = 0;
	if ((rc = lp_store_q_prepare(&q, st, sql, err)) != LP_OK)
		return rc;
	lp_store_bind_text(q, 1, site_id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(q, 0);
	rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? LP_OK
	                                             : lp_store_fail(st, rc, err, "reading status");
	lp_store_q_release(&q);
	return rc;
}

int lp_store_revision_cancel(int64_t *out, lp_store *st, const char *site_id, int64_t expected_rv,
                             int64_t number, const char *message, lp_error *err)
{
	static const char sql[] = "UPDATE revisions SET state = 'cancelled', message = ?1,"
	                          " finished_at = ?2 WHERE site_id = ?3 AND number = ?4";
	lp_store_site *cur = NULL;
	lp_store_rev_state state;
	sqlite3_stmt *q = NULL;
	int64_t served = 0, desired = number;
	int rc, in_tx = 0;

	if ((rc = lp_store_check_text("message", message, LP_STORE_TEXT_MAX, 0, err)) != LP_OK)
		return rc;
	rc = begin_load(&cur, st, site_id, err);
	if (rc != LP_OK)
		goto done;
	in_tx = 1;
	if ((rc = check_writable(cur, expected_rv, err)) != LP_OK ||
	    (rc = revision_state(&state, st, cur->id, number, err)) != LP_OK)
		goto done;
	if (state != LP_REV_PENDING && state != LP_REV_BUILDING) {
		rc = lp_error_set(err, LP_ECONFLICT,
		                  "revision %lld is %s: only a pending or building revision can be "
		                  "cancelled",
		                  (long long)number, lp_store_rev_state_name(state));
		goto done;
	}
	if ((rc = lp_store_q_prepare(&q, st, sql, err)) != LP_OK)
		goto done;
	lp_store_bind_text(q, 1, message);
	sqlite3_bind_int64(q, 2, lp_clock_wall_ms());
	lp_store_bind_text(q, 3, cur->id);
	sqlite3_bind_int64(q, 4, number);
	rc = lp_store_q_exec(st, q, err, "cancelling revision");
	lp_store_q_release(&q);
	if (rc != LP_OK || (rc = served_revision(&served, st, cur->id, err)) != LP_OK)
		goto done;
	/* Keep what users see: the served revision becomes the desired one again. */
	if (cur->desired_revision == number && served > 0 && served != number)
		desired = served;
	else
		desired = cur->desired_revision;
	/* resource_version moves either way: the site's revisions changed under it. */
	if ((rc = set_desired(st, cur->id, desired, err)) != LP_OK)
		goto done;
	in_tx = 0;
	rc = lp_store_tx_commit(st, err);
done:
	lp_store_q_release(&q);
	if (in_tx)
		lp_store_tx_rollback(st);
	if (rc == LP_OK && out)
		*out = desired;
	lp_store_site_free(cur);
	return rc;
}

int lp_store_site_mark_deleted(lp_store *st, const char *site_id, int64_t expected_rv,
                               lp_error *err)
{
	static const char sql[] = "UPDATE sites SET deletion_timestamp = ?1, updated_at = ?1,"
	                          " resource_version = resource_version + 1 WHERE id = ?2";
	lp_store_site *cur = NULL;
	sqlite3_stmt *q = NULL;
	int rc, in_tx = 0;

	rc = begin_load(&cur, st, site_id, err);
	if (rc != LP_OK)
		goto done;
	in_tx = 1;
	if (cur->deletion_timestamp != 0)
		goto done; /* already deleting: deleting twice is not an error */
	rc = check_writable(cur, expected_rv, err);
	if (rc != LP_OK)
		goto done;
	rc = lp_store_q_prepare(&q, st, sql, err);
	if (rc != LP_OK)
		goto done;
	sqlite3_bind_int64(q, 1, lp_clock_wall_ms());
	lp_store_bind_text(q, 2, cur->id);
	rc = lp_store_q_exec(st, q, err, "marking site deleted");
	lp_store_q_release(&q);
	/* A site on its way out gives its domains up at once: another may claim them now. */
	if (rc == LP_OK)
		rc = release_domains(st, cur->id, err);
	if (rc != LP_OK)
		goto done;
	in_tx = 0;
	rc = lp_store_tx_commit(st, err);
done:
	lp_store_q_release(&q);
	if (in_tx)
		lp_store_tx_rollback(st);
	lp_store_site_free(cur);
	return rc;
}

int lp_store_site_delete(lp_store *st, const char *site_id, lp_error *err)
{
	static const char sql[] = "DELETE FROM sites WHERE id = ?1";
	lp_store_site *cur = NULL;
	sqlite3_stmt *q = NULL;
	int rc, in_tx = 0;

	rc = begin_load(&cur, st, site_id, err);
	if (rc != LP_OK)
		goto done;
	in_tx = 1;
	if (cur->deletion_timestamp == 0) {
		rc = lp_error_set(err, LP_ECONFLICT, "site %s is not marked for deletion",
		                  cur->name);
		goto done;
	}
	rc = lp_store_q_prepare(&q, st, sql, err);
	if (rc != LP_OK)
		goto done;
	lp_store_bind_text(q, 1, cur->id);
	rc = lp_store_q_exec(st, q, err, "deleting site");
	lp_store_q_release(&q);
	if (rc != LP_OK)
		goto done;
	in_tx = 0;
	rc = lp_store_tx_commit(st, err);
done:
	lp_store_q_release(&q);
	if (in_tx)
		lp_store_tx_rollback(st);
	lp_store_site_free(cur);
	return rc;
}

int lp_store_site_set_owner(lp_store *st, const char *site_id, int64_t owner_id, lp_error *err)
{
	static const char sql[] = "UPDATE sites SET owner_id = ?1,"
	                          " resource_version = resource_version + 1 WHERE id = ?2";
	sqlite3_stmt *q = NULL;
	int rc, in_tx = 0;

	if ((rc = lp_store_tx_begin(st, err)) != LP_OK)
		return rc;
	in_tx = 1;
	if ((rc = lp_store_q_prepare(&q, st, sql, err)) != LP_OK)
		goto done;
	sqlite3_bind_int64(q, 1, owner_id);
	lp_store_bind_text(q, 2, site_id);
	rc = lp_store_q_exec(st, q, err, "changing owner");
	lp_store_q_release(&q);
	if (rc == LP_ENOTFOUND)
		rc = lp_error_set(err, LP_ENOTFOUND, "user %lld not found", (long long)owner_id);
	if (rc != LP_OK)
		goto done;
	if (sqlite3_changes(st->db) == 0) {
		rc = lp_error_set(err, LP_ENOTFOUND, "site %s not found", site_id);
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

int lp_store_site_reseal(lp_store *st, const char *site_id, const char *spec_hash,
                         const char *spec_json, lp_error *err)
{
	static const char sql[] =
	    "UPDATE sites SET spec_json = ?1 WHERE id = ?2 AND spec_hash = ?3";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = lp_store_check_text("spec", spec_json, LP_STORE_SPEC_MAX, 1, err)) != LP_OK ||
	    (rc = lp_store_q_prepare(&q, st, sql, err)) != LP_OK)
		return rc;
	lp_store_bind_text(q, 1, spec_json);
	lp_store_bind_text(q, 2, site_id);
	lp_store_bind_text(q, 3, spec_hash);
	rc = lp_store_q_write_one(st, &q, err, "resealing site");
	if (rc == LP_ENOTFOUND)
		rc = lp_error_set(err, LP_ECONFLICT, "site %s changed meanwhile", site_id);
	return rc;
}

int lp_store_site_set_git_credential(lp_store *st, const char *site_id, const char *sealed,
                                     lp_error *err)
{
	static const char sql[] = "UPDATE sites SET git_credential = ?1,"
	                          " resource_version = resource_version + 1 WHERE id = ?2";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = lp_store_check_text("git credential", sealed, LP_STORE_TEXT_MAX, 0, err)) !=
	        LP_OK ||
	    (rc = lp_store_q_prepare(&q, st, sql, err)) != LP_OK)
		return rc;
	lp_store_bind_text(q, 1, sealed);
	lp_store_bind_text(q, 2, site_id);
	rc = lp_store_q_write_one(st, &q, err, "setting the git credential");
	if (rc == LP_ENOTFOUND)
		rc = lp_error_set(err, LP_ENOTFOUND, "site %s not found", site_id);
	return rc;
}
