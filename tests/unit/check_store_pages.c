/*
 * check_store_pages.c: the store's walks (pages of sites with their status, one query each),
 * counts, single-site views and read snapshots, on real SQLite files.
 */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launchpad/crypto.h"
#include "launchpad/error.h"
#include "launchpad/fs.h"
#include "launchpad/store.h"
#include "tests/lib/testutil.h"

static char *tmpdir;
static char dbpath[4096];

static void setup(void)
{
	tmpdir = lp_test_mkdtemp("lp-store-pages");
	ck_assert_ptr_nonnull(tmpdir);
	LP_TEST_FMT(dbpath, "%s/db/launchpad.db", tmpdir);
}

static void teardown(void)
{
	if (lp_fs_remove_tree(tmpdir, NULL) != LP_OK)
		fprintf(stderr, "teardown: cannot remove %s\n", tmpdir);
	free(tmpdir);
}

static lp_store *open_store(void)
{
	lp_store *st = NULL;
	lp_error err = {0};

	ck_assert_msg(lp_store_open(&st, dbpath, &err) == LP_OK, "open: %s", err.message);
	return st;
}

static void raw_exec(const char *sql)
{
	sqlite3 *db = NULL;

	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", sql,
	              sqlite3_errmsg(db));
	sqlite3_close(db);
}

static long long raw_count(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	long long n;

	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return n;
}

static char *create(lp_store *st, const char *name)
{
	char json[128], hash[LP_SHA256_HEX_LEN];
	lp_store_site_new in = {
	    .name = name, .spec_json = json, .spec_hash = hash, .trigger = LP_TRIGGER_CREATE};
	lp_store_site *s = NULL;
	lp_error err = {0};
	char *id;

	LP_TEST_FMT(json, "{\"name\":\"%s\"}", name);
	lp_crypto_sha256_hex(hash, json, strlen(json));
	ck_assert_msg(lp_store_site_create(&s, st, &in, &err) == LP_OK, "%s", err.message);
	id = strdup(s->id);
	lp_store_site_free(s);
	return id;
}

static void put_status(lp_store *st, const char *id, const char *message)
{
	lp_store_status s = {.site_id = (char *)id,
	                     .phase = LP_PHASE_LIVE,
	                     .observed_generation = 1,
	                     .current_revision = 1,
	                     .conditions_json = "[{\"type\":\"Ready\"}]",
	                     .url = "http://x.localhost",
	                     .message = (char *)message};
	lp_error err = {0};

	ck_assert_msg(lp_store_status_put(NULL, st, &s, &err) == LP_OK, "%s", err.message);
}

/* What a walk handed over: names in order, and the status message or "-" for none. */
struct seen {
	char text[1024];
	int rows;
	int stop_at; /* > 0: answer LP_ECANCELED on that row */
};

static int collect(void *ctx, const lp_store_site *site, const lp_store_status *status)
{
	struct seen *s = ctx;
	size_t n = strlen(s->text);

	s->rows++;
	lp_test_fmt(s->text + n, sizeof(s->text) - n, "%s%s:%s", n ? " " : "", site->name,
	            status ? status->message : "-");
	if (status)
		ck_assert_str_eq(status->site_id, site->id);
	return s->stop_at == s->rows ? LP_ECANCELED : LP_OK;
}

/* Sites a..g: c and d share a created_at (the name orders them), e is being deleted. */
static lp_store *seven(void)
{
	static const char *const names[] = {"a", "b", "d", "c", "e", "f", "g"};
	lp_store *st = open_store();
	lp_error err = {0};
	char *ids[7];
	int i;

	for (i = 0; i < 7; i++)
		ids[i] = create(st, names[i]);
	raw_exec(
	    "UPDATE sites SET created_at = 1000 + (SELECT count(*) FROM sites s2 WHERE s2.rowid"
	    " < sites.rowid); UPDATE sites SET created_at = 1002 WHERE name IN ('c', 'd')");
	put_status(st, ids[1], "b-status");
	put_status(st, ids[3], "c-status");
	ck_assert_int_eq(lp_store_site_mark_deleted(st, ids[4], 0, &err), LP_OK);
	for (i = 0; i < 7; i++)
		free(ids[i]);
	return st;
}

START_TEST(test_walk_pages)
{
	lp_store *st = seven();
	lp_store_site_cursor at = {0};
	struct seen s = {.text = ""};
	lp_error err = {0};
	int64_t left = -1;
	int more = -1;

	/* the first page, from no cursor */
	ck_assert_int_eq(lp_store_site_walk(&at, &more, st, 1, 0, NULL, 3, collect, &s, &err),
	                 LP_OK);
	ck_assert_str_eq(s.text, "a:- b:b-status c:c-status");
	ck_assert_int_eq(more, 1);
	ck_assert_str_eq(at.name, "c");
	ck_assert_int_eq(at.created_at, 1002);
	ck_assert_int_eq(lp_store_site_count(&left, st, 1, 0, &at, &err), LP_OK);
	ck_assert_int_eq(left, 4);
	/* resuming at a created_at tie: d comes after c */
	s.text[0] = '\0';
	ck_assert_int_eq(lp_store_site_walk(&at, &more, st, 1, 0, &at, 3, collect, &s, &err),
	                 LP_OK);
	ck_assert_str_eq(s.text, "d:- e:- f:-");
	ck_assert_int_eq(more, 1);
	s.text[0] = '\0';
	ck_assert_int_eq(lp_store_site_walk(&at, &more, st, 1, 0, &at, 3, collect, &s, &err),
	                 LP_OK);
	ck_assert_str_eq(s.text, "g:-");
	ck_assert_int_eq(more, 0);
	ck_assert_int_eq(lp_store_site_count(&left, st, 1, 0, &at, &err), LP_OK);
	ck_assert_int_eq(left, 0);
	/* past the end: nothing, the cursor stays */
	s.text[0] = '\0';
	ck_assert_int_eq(lp_store_site_walk(&at, &more, st, 1, 0, &at, 3, collect, &s, &err),
	                 LP_OK);
	ck_assert_str_eq(s.text, "");
	ck_assert_str_eq(at.name, "g");
	ck_assert_int_eq(more, 0);

	/* without the deleting site; an exact fit says no more */
	s.text[0] = '\0';
	ck_assert_int_eq(lp_store_site_walk(NULL, &more, st, 0, 0, NULL, 6, collect, &s, &err),
	                 LP_OK);
	ck_assert_str_eq(s.text, "a:- b:b-status c:c-status d:- f:- g:-");
	ck_assert_int_eq(more, 0);
	ck_assert_int_eq(lp_store_site_count(&left, st, 0, 0, NULL, &err), LP_OK);
	ck_assert_int_eq(left, 6);
	ck_assert_int_eq(lp_store_site_count(&left, st, 1, 0, NULL, &err), LP_OK);
	ck_assert_int_eq(left, 7);
	lp_store_close(st);
}
END_TEST

START_TEST(test_walk_stops_and_limits)
{
	lp_store *st = seven();
	lp_store_site_cursor at = {0};
	struct seen s = {.text = "", .stop_at = 2};
	lp_error err = {0};

	/* the callback's failure ends the walk and is what it returns */
	ck_assert_int_eq(lp_store_site_walk(&at, NULL, st, 1, 0, NULL, 5, collect, &s, &err),
	                 LP_ECANCELED);
	ck_assert_int_eq(s.rows, 2);
	ck_assert_int_eq(lp_store_site_walk(NULL, NULL, st, 1, 0, NULL, 0, collect, &s, &err),
	                 LP_EINVAL);
	ck_assert_int_eq(lp_store_site_walk(NULL, NULL, st, 1, 0, NULL, LP_STORE_LIST_MAX + 1,
	                                    collect, &s, &err),
	                 LP_EINVAL);
	memset(at.name, 'x', sizeof(at.name)); /* unterminated */
	ck_assert_int_eq(lp_store_site_walk(NULL, NULL, st, 1, 0, &at, 1, collect, &s, &err),
	                 LP_EINVAL);
	lp_store_close(st);
}
END_TEST

/* A page never repeats or skips a site that existed throughout, whatever changed meanwhile. */
START_TEST(test_walk_while_changing)
{
	lp_store *st = seven(), *other = open_store();
	lp_store_site_cursor at = {0};
	lp_store_site *b = NULL;
	struct seen s = {.text = ""};
	lp_error err = {0};
	char *late;

	ck_assert_int_eq(lp_store_site_walk(&at, NULL, st, 1, 0, NULL, 3, collect, &s, &err),
	                 LP_OK);
	ck_assert_str_eq(s.text, "a:- b:b-status c:c-status");
	/* meanwhile: b (already listed) goes, a new site comes, c's twin d is renamed away */
	ck_assert_int_eq(lp_store_site_get_by_name(&b, other, "b", &err), LP_OK);
	ck_assert_int_eq(lp_store_site_mark_deleted(other, b->id, 0, &err), LP_OK);
	ck_assert_int_eq(lp_store_site_delete(other, b->id, &err), LP_OK);
	late = create(other, "late");
	s.text[0] = '\0';
	ck_assert_int_eq(lp_store_site_walk(&at, NULL, st, 1, 0, &at, 10, collect, &s, &err),
	                 LP_OK);
	ck_assert_str_eq(s.text, "d:- e:- f:- g:- late:-");
	free(late);
	lp_store_site_free(b);
	lp_store_close(other);
	lp_store_close(st);
}
END_TEST

static int remember(void *ctx, const lp_store_site *site, const lp_store_status *status)
{
	LP_TEST_FMT(*(char(*)[128])ctx, "%s/%s/%s", site->name, site->id,
	            status ? status->message : "-");
	return LP_OK;
}

START_TEST(test_view)
{
	lp_store *st = open_store();
	char *id = create(st, "viewed"), *twin, got[128] = "", want[128];
	lp_store_site *site = NULL;
	lp_error err = {0};

	ck_assert_int_eq(lp_store_site_view(st, "viewed", remember, got, &err), LP_OK);
	LP_TEST_FMT(want, "viewed/%s/-", id);
	ck_assert_str_eq(got, want);
	put_status(st, id, "hello");
	ck_assert_int_eq(lp_store_site_view(st, id, remember, got, &err), LP_OK);
	LP_TEST_FMT(want, "viewed/%s/hello", id);
	ck_assert_str_eq(got, want);
	got[0] = '\0';
	ck_assert_int_eq(lp_store_site_view(st, "nope", remember, got, &err), LP_ENOTFOUND);
	ck_assert_str_eq(got, "");
	ck_assert_int_eq(lp_store_site_view(st, "", remember, got, &err), LP_ENOTFOUND);
	/* a site named like another's id: the id wins, for a view and a get alike */
	twin = create(st, id);
	ck_assert_int_eq(lp_store_site_view(st, id, remember, got, &err), LP_OK);
	LP_TEST_FMT(want, "viewed/%s/hello", id);
	ck_assert_str_eq(got, want);
	ck_assert_int_eq(lp_store_site_get(&site, st, id, &err), LP_OK);
	ck_assert_str_eq(site->name, "viewed");
	lp_store_site_free(site);
	LP_TEST_FMT(want, "%s/%s/-", id, twin);
	ck_assert_int_eq(lp_store_site_view(st, twin, remember, got, &err), LP_OK);
	ck_assert_str_eq(got, want);
	free(twin);
	free(id);
	lp_store_close(st);
}
END_TEST

static int count_rows(void *ctx, const lp_store_site *site, const lp_store_status *status)
{
	(void)site;
	(void)status;
	(*(int *)ctx)++;
	return LP_OK;
}

static int walk_count(lp_store *st)
{
	lp_error err = {0};
	int n = 0;

	ck_assert_int_eq(lp_store_site_walk(NULL, NULL, st, 1, 0, NULL, 100, count_rows, &n, &err),
	                 LP_OK);
	return n;
}

START_TEST(test_read_snapshot)
{
	lp_store *st = open_store(), *other = open_store();
	char secret[LP_STORE_TOKEN_LEN], *a = create(st, "a"), *b;
	lp_error err = {0};
	int64_t tok = 0;
	lp_store_principal got = {0};

	ck_assert_int_eq(lp_store_read_begin(st, &err), LP_OK);
	ck_assert_int_eq(lp_store_read_begin(st, &err), LP_OK); /* already reading: no-op */
	ck_assert_int_eq(walk_count(st), 1);
	b = create(other, "b");
	ck_assert_int_eq(walk_count(st), 1); /* the snapshot holds */
	lp_store_read_end(st);
	lp_store_read_end(st); /* not reading: no-op */
	ck_assert_int_eq(walk_count(st), 2);

	/* a write inside a snapshot ends it first, and then sees the newest state */
	ck_assert_int_eq(lp_store_read_begin(st, &err), LP_OK);
	ck_assert_int_eq(walk_count(st), 2);
	free(create(other, "c"));
	ck_assert_int_eq(lp_store_event_add(st, a, LP_EVENT_NORMAL, "R", "m", &err), LP_OK);
	ck_assert_int_eq(walk_count(st), 3);
	lp_store_read_end(st);

	/* a token's last use is written when the snapshot ends, not inside it */
	ck_assert_int_eq(lp_store_token_create(secret, &tok, other, "t", &err), LP_OK);
	ck_assert_int_eq(raw_count("SELECT count(*) FROM api_tokens WHERE last_used_at IS NULL"),
	                 1);
	ck_assert_int_eq(lp_store_read_begin(st, &err), LP_OK);
	ck_assert_int_eq(lp_store_token_verify(&got, st, secret, &err), LP_OK);
	ck_assert_int_eq(got.token_id, tok);
	ck_assert_int_eq(raw_count("SELECT count(*) FROM api_tokens WHERE last_used_at IS NULL"),
	                 1);
	lp_store_read_end(st);
	ck_assert_int_eq(raw_count("SELECT count(*) FROM api_tokens WHERE last_used_at IS NULL"),
	                 0);
	free(a);
	free(b);
	lp_store_close(other);
	lp_store_close(st);
}
END_TEST

static Suite *pages_suite(void)
{
	Suite *s = suite_create("store-pages");
	TCase *tc = tcase_create("store-pages");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_walk_pages);
	tcase_add_test(tc, test_walk_stops_and_limits);
	tcase_add_test(tc, test_walk_while_changing);
	tcase_add_test(tc, test_view);
	tcase_add_test(tc, test_read_snapshot);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lp_test_run(pages_suite());
}
