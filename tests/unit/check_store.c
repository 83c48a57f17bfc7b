/* check_store.c: the SQLite store on real files: schema, every table, concurrency, crash safety. */
#include <check.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "launchpad/clock.h"
#include "launchpad/crypto.h"
#include "launchpad/error.h"
#include "launchpad/fs.h"
#include "launchpad/store.h"
#include "tests/lib/testutil.h"

static char *tmpdir;
static char dbpath[4096];

static void setup(void)
{
	tmpdir = lp_test_mkdtemp("lp-store");
	ck_assert_ptr_nonnull(tmpdir);
	/* A directory level that does not exist yet: open must create it. */
	snprintf(dbpath, sizeof(dbpath), "%s/db/launchpad.db", tmpdir);
}

static void teardown(void)
{
	lp_error err = {0};

	if (lp_fs_remove_tree(tmpdir, &err) != LP_OK)
		fprintf(stderr, "teardown: %s\n", err.message);
	free(tmpdir);
	tmpdir = NULL;
}

/* The schema version this build migrates to (store.c's migrations). */
#define SCHEMA_LATEST 6

/* A spec carrying a counter, and its hash, as the API would store them. */
static void make_spec(char *json, size_t len, char hash[LP_SHA256_HEX_LEN], int n)
{
	snprintf(json, len, "{\"n\":%d}", n);
	lp_crypto_sha256_hex(hash, json, strlen(json));
}

static int spec_counter(const lp_store_site *s)
{
	int n = -1;

	ck_assert_int_eq(sscanf(s->spec_json, "{\"n\":%d}", &n), 1);
	return n;
}

static lp_store *open_store(void)
{
	lp_error err = {0};
	lp_store *st = NULL;

	ck_assert_msg(lp_store_open(&st, dbpath, &err) == LP_OK, "open: %s", err.message);
	return st;
}

/* Create site `name` with spec counter n; returns the row. */
static lp_store_site *create_site(lp_store *st, const char *name, int n)
{
	char json[64], hash[LP_SHA256_HEX_LEN];
	lp_store_site_new in = {.name = name,
	                        .display_name = "Site",
	                        .spec_json = json,
	                        .spec_hash = hash,
	                        .webhook_secret = "whsec",
	                        .trigger = LP_TRIGGER_CREATE,
	                        .source = "abc123"};
	lp_store_site *s = NULL;
	lp_error err = {0};

	make_spec(json, sizeof(json), hash, n);
	ck_assert_msg(lp_store_site_create(&s, st, &in, &err) == LP_OK, "create: %s", err.message);
	return s;
}

static sqlite3 *raw_open(void)
{
	sqlite3 *db = NULL;

	ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static long long raw_count(const char *sql)
{
	sqlite3 *db = raw_open();
	sqlite3_stmt *q = NULL;
	long long n;

	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return n;
}

START_TEST(test_open_migrate_reopen)
{
	lp_store *st = open_store();
	lp_store_site *s = NULL, *got = NULL;
	lp_error err = {0};
	struct stat sb;
	int version = 0;
	sqlite3 *db;

	ck_assert_int_eq(lp_store_schema_version(&version, st, &err), LP_OK);
	ck_assert_int_eq(version, SCHEMA_LATEST);
	ck_assert_int_eq(stat(dbpath, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_eq(lp_store_integrity_check(st, &err), LP_OK);
	s = create_site(st, "keep-me", 1);
	lp_store_close(st);

	st = open_store();
	version = 0;
	ck_assert_int_eq(lp_store_schema_version(&version, st, &err), LP_OK);
	ck_assert_int_eq(version, SCHEMA_LATEST);
	ck_assert_int_eq(lp_store_site_get_by_name(&got, st, "keep-me", &err), LP_OK);
	ck_assert_str_eq(got->id, s->id);
	ck_assert_int_eq(raw_count("PRAGMA user_version"), SCHEMA_LATEST);
	ck_assert_int_eq(raw_count("SELECT count(*) FROM sqlite_master WHERE name='sites'"), 1);
	lp_store_site_free(got);
	lp_store_site_free(s);
	lp_store_close(st);
	lp_store_close(NULL);

	/* A file from a newer build is refused, not silently used. */
	db = raw_open();
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	st = NULL;
	ck_assert_int_eq(lp_store_open(&st, dbpath, &err), LP_EUNSUPPORTED);
	ck_assert_ptr_null(st);
	ck_assert_ptr_nonnull(strstr(err.message, "newer"));
}
END_TEST

START_TEST(test_open_bad_file)
{
	lp_store *st = NULL;
	lp_error err = {0};
	char junk[4096];

	memset(junk, 'x', sizeof(junk));
	ck_assert_int_eq(lp_fs_mkdirs(tmpdir, 0700, &err), LP_OK);
	snprintf(dbpath, sizeof(dbpath), "%s/junk.db", tmpdir);
	ck_assert_int_eq(lp_fs_write_atomic(dbpath, junk, sizeof(junk), 0600, &err), LP_OK);
	ck_assert_int_eq(lp_store_open(&st, dbpath, &err), LP_EIO);
	ck_assert_ptr_null(st);
	ck_assert_int_eq(lp_store_open(&st, "", &err), LP_EINVAL);
}
END_TEST

START_TEST(test_site_crud)
{
	lp_store *st = open_store();
	lp_store_site *a, *b, *got = NULL, *list = NULL;
	lp_store_revision *rev = NULL;
	lp_store_site_new bad = {.name = "Bad_Name", .spec_json = "{}", .spec_hash = "h"};
	lp_error err = {0};
	size_t n = 0;

	a = create_site(st, "alpha", 1);
	b = create_site(st, "beta", 1);
	ck_assert_uint_eq(strlen(a->id), 36);
	ck_assert_int_eq(a->id[14], '4');
	ck_assert_str_ne(a->id, b->id);
	ck_assert_str_eq(a->name, "alpha");
	ck_assert_str_eq(a->display_name, "Site");
	ck_assert_str_eq(a->spec_json, "{\"n\":1}");
	ck_assert_str_eq(a->webhook_secret, "whsec");
	ck_assert_int_eq(a->generation, 1);
	ck_assert_int_eq(a->resource_version, 1);
	ck_assert_int_eq(a->desired_revision, 1);
	ck_assert_int_eq(a->deletion_timestamp, 0);
	ck_assert(a->created_at > 0 && a->updated_at == a->created_at);

	/* Revision 1 came with the site, in the same transaction. */
	ck_assert_int_eq(lp_store_revision_get(&rev, st, a->id, 1, &err), LP_OK);
	ck_assert_int_eq(rev->trigger, LP_TRIGGER_CREATE);
	ck_assert_int_eq(rev->state, LP_REV_PENDING);
	ck_assert_str_eq(rev->source, "abc123");
	ck_assert_str_eq(rev->spec_hash, a->spec_hash);
	lp_store_revision_free(rev);

	ck_assert_int_eq(
	    lp_store_site_create(
	        NULL, st,
	        &(lp_store_site_new){.name = "alpha", .spec_json = "{}", .spec_hash = "x"}, &err),
	    LP_EEXISTS);
	ck_assert_ptr_nonnull(strstr(err.message, "alpha"));
	ck_assert_int_eq(lp_store_site_create(NULL, st, &bad, &err), LP_EINVAL);
	bad.name = "ok-name";
	bad.spec_json = NULL;
	ck_assert_int_eq(lp_store_site_create(NULL, st, &bad, &err), LP_EINVAL);

	ck_assert_int_eq(lp_store_site_get_by_id(&got, st, a->id, &err), LP_OK);
	ck_assert_str_eq(got->name, "alpha");
	lp_store_site_free(got);
	ck_assert_int_eq(lp_store_site_get(&got, st, "beta", &err), LP_OK);
	ck_assert_str_eq(got->id, b->id);
	lp_store_site_free(got);
	ck_assert_int_eq(lp_store_site_get(&got, st, b->id, &err), LP_OK);
	ck_assert_str_eq(got->name, "beta");
	lp_store_site_free(got);
	ck_assert_int_eq(lp_store_site_get_by_name(&got, st, "gamma", &err), LP_ENOTFOUND);
	ck_assert_ptr_null(got);
	ck_assert_int_eq(lp_store_site_get_by_name(&got, st, NULL, &err), LP_ENOTFOUND);

	ck_assert_int_eq(lp_store_site_list(&list, &n, st, 0, &err), LP_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(list[0].name, "alpha");
	ck_assert_str_eq(list[1].name, "beta");
	lp_store_sites_free(list, n);

	/* Deleting sites drop out of the default list only. */
	ck_assert_int_eq(lp_store_site_mark_deleted(st, a->id, 1, &err), LP_OK);
	ck_assert_int_eq(lp_store_site_list(&list, &n, st, 0, &err), LP_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(list[0].name, "beta");
	lp_store_sites_free(list, n);
	ck_assert_int_eq(lp_store_site_list(&list, &n, st, 1, &err), LP_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_ne(list[0].deletion_timestamp, 0);
	ck_assert_int_eq(list[0].resource_version, 2);
	lp_store_sites_free(list, n);

	lp_store_site_free(a);
	lp_store_site_free(b);
	lp_store_close(st);
}
END_TEST

START_TEST(test_update_spec)
{
	lp_store *st = open_store();
	lp_store *other = open_store();
	lp_store_site *s = create_site(st, "site", 1), *got = NULL;
	lp_store_revision *rev = NULL;
	char json[64], hash[LP_SHA256_HEX_LEN];
	lp_store_update up = {0};
	int64_t dv0 = 0, dv1 = 0;
	lp_error err = {0};

	/* Same spec: nothing written at all, not even visible to another connection. */
	ck_assert_int_eq(lp_store_data_version(&dv0, other, &err), LP_OK);
	ck_assert_int_eq(lp_store_site_update_spec(&up, st, s->id, 1, NULL, s->spec_json,
	                                           s->spec_hash, 1, LP_TRIGGER_APPLY, NULL, &err),
	                 LP_OK);
	ck_assert_int_eq(up.changed, 0);
	ck_assert_int_eq(up.generation, 1);
	ck_assert_int_eq(up.resource_version, 1);
	ck_assert_int_eq(up.revision, 0);
	ck_assert_int_eq(lp_store_data_version(&dv1, other, &err), LP_OK);
	ck_assert_int_eq(dv0, dv1);
	ck_assert_int_eq(lp_store_site_get_by_id(&got, st, s->id, &err), LP_OK);
	ck_assert_int_eq(got->resource_version, 1);
	ck_assert_int_eq(got->generation, 1);
	ck_assert_int_eq(got->updated_at, s->updated_at);
	lp_store_site_free(got);

	/* A new spec: generation and resource_version move, revision 2 becomes desired. */
	make_spec(json, sizeof(json), hash, 2);
	ck_assert_int_eq(lp_store_site_update_spec(&up, st, s->id, 1, NULL, json, hash, 1,
	                                           LP_TRIGGER_APPLY, NULL, &err),
	                 LP_OK);
	ck_assert_int_eq(up.changed, 1);
	ck_assert_int_eq(up.generation, 2);
	ck_assert_int_eq(up.resource_version, 2);
	ck_assert_int_eq(up.revision, 2);
	ck_assert_int_eq(lp_store_data_version(&dv1, other, &err), LP_OK);
	ck_assert_int_ne(dv0, dv1);
	ck_assert_int_eq(lp_store_site_get_by_id(&got, st, s->id, &err), LP_OK);
	ck_assert_str_eq(got->spec_json, json);
	ck_assert_int_eq(got->generation, 2);
	ck_assert_int_eq(got->desired_revision, 2);
	lp_store_site_free(got);
	ck_assert_int_eq(lp_store_revision_get(&rev, st, s->id, 2, &err), LP_OK);
	ck_assert_int_eq(rev->trigger, LP_TRIGGER_APPLY);
	ck_assert_str_eq(rev->spec_hash, hash);
	lp_store_revision_free(rev);

	/* Stale resource_version: conflict and nothing written. */
	make_spec(json, sizeof(json), hash, 3);
	ck_assert_int_eq(lp_store_site_update_spec(&up, st, s->id, 1, NULL, json, hash, 1,
	                                           LP_TRIGGER_APPLY, NULL, &err),
	                 LP_ECONFLICT);
	ck_assert_ptr_nonnull(strstr(err.message, "stale"));
	ck_assert_int_eq(lp_store_site_get_by_id(&got, st, s->id, &err), LP_OK);
	ck_assert_int_eq(got->resource_version, 2);
	ck_assert_int_eq(got->generation, 2);
	ck_assert_str_eq(got->spec_json, "{\"n\":2}");
	lp_store_site_free(got);
	ck_assert_int_eq(lp_store_revision_get(&rev, st, s->id, 3, &err), LP_ENOTFOUND);

	/* A display name change alone: resource_version moves, generation does not. */
	ck_assert_int_eq(lp_store_site_update_spec(&up, st, s->id, 2, "Renamed", "{\"n\":2}", "", 0,
	                                           LP_TRIGGER_APPLY, NULL, &err),
	                 LP_EINVAL); /* an empty hash is refused */
	make_spec(json, sizeof(json), hash, 2);
	ck_assert_int_eq(lp_store_site_update_spec(&up, st, s->id, 2, "Renamed", json, hash, 1,
	                                           LP_TRIGGER_APPLY, NULL, &err),
	                 LP_OK);
	ck_assert_int_eq(up.changed, 1);
	ck_assert_int_eq(up.generation, 2);
	ck_assert_int_eq(up.resource_version, 3);
	ck_assert_int_eq(up.revision, 0);

	/* Without the revision flag the spec moves but desired_revision stays. */
	make_spec(json, sizeof(json), hash, 4);
	ck_assert_int_eq(lp_store_site_update_spec(&up, st, s->id, 0, NULL, json, hash, 0,
	                                           LP_TRIGGER_APPLY, NULL, &err),
	                 LP_OK);
	ck_assert_int_eq(up.generation, 3);
	ck_assert_int_eq(lp_store_site_get_by_id(&got, st, s->id, &err), LP_OK);
	ck_assert_int_eq(got->desired_revision, 2);
	ck_assert_str_eq(got->display_name, "Renamed");
	lp_store_site_free(got);

	ck_assert_int_eq(lp_store_site_update_spec(&up, st, "no-such-id", 0, NULL, json, hash, 0,
	                                           LP_TRIGGER_APPLY, NULL, &err),
	                 LP_ENOTFOUND);
	lp_store_site_free(s);
	lp_store_close(other);
	lp_store_close(st);
}
END_TEST

START_TEST(test_revisions)
{
	lp_store *st = open_store();
	lp_store_site *s = create_site(st, "revs", 1), *got = NULL;
	lp_store_revision *rev = NULL, *list = NULL;
	int64_t num = 0, count = -1;
	lp_error err = {0};
	size_t n = 0;

	ck_assert_int_eq(
	    lp_store_revision_request(&num, st, s->id, 1, LP_TRIGGER_WEBHOOK, "deadbeef", &err),
	    LP_OK);
	ck_assert_int_eq(num, 2);
	ck_assert_int_eq(
	    lp_store_revision_request(&num, st, s->id, 1, LP_TRIGGER_REDEPLOY, NULL, &err),
	    LP_ECONFLICT);
	ck_assert_int_eq(
	    lp_store_revision_request(&num, st, s->id, 0, LP_TRIGGER_REDEPLOY, NULL, &err), LP_OK);
	ck_assert_int_eq(num, 3);
	ck_assert_int_eq(lp_store_site_get_by_id(&got, st, s->id, &err), LP_OK);
	ck_assert_int_eq(got->desired_revision, 3);
	ck_assert_int_eq(got->resource_version, 3);
	ck_assert_int_eq(got->generation, 1);
	lp_store_site_free(got);

	ck_assert_int_eq(lp_store_revision_list(&list, &n, st, s->id, 2, &err), LP_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(list[0].number, 3);
	ck_assert_int_eq(list[0].trigger, LP_TRIGGER_REDEPLOY);
	ck_assert_int_eq(list[1].number, 2);
	ck_assert_str_eq(list[1].source, "deadbeef");
	lp_store_revisions_free(list, n);

	/* Controller progress does not count as a desired-state write. */
	ck_assert_int_eq(lp_store_revision_get(&rev, st, s->id, 2, &err), LP_OK);
	rev->state = LP_REV_BUILDING;
	rev->started_at = 1234;
	free(rev->resolved_source);
	rev->resolved_source = strdup("deadbeefcafe");
	free(rev->log_path);
	rev->log_path = strdup("/srv/launchpad/logs/revs/2.log");
	ck_assert_int_eq(lp_store_revision_update(st, rev, &err), LP_OK);
	lp_store_revision_free(rev);
	ck_assert_int_eq(lp_store_revision_get(&rev, st, s->id, 2, &err), LP_OK);
	ck_assert_int_eq(rev->state, LP_REV_BUILDING);
	ck_assert_int_eq(rev->started_at, 1234);
	ck_assert_int_eq(rev->finished_at, 0);
	ck_assert_str_eq(rev->resolved_source, "deadbeefcafe");
	ck_assert_str_eq(rev->log_path, "/srv/launchpad/logs/revs/2.log");
	rev->number = 99;
	ck_assert_int_eq(lp_store_revision_update(st, rev, &err), LP_ENOTFOUND);
	lp_store_revision_free(rev);
	ck_assert_int_eq(lp_store_site_get_by_id(&got, st, s->id, &err), LP_OK);
	ck_assert_int_eq(got->resource_version, 3);
	lp_store_site_free(got);

	/* Start-up recovery. */
	ck_assert_int_eq(lp_store_revisions_interrupt_building(&count, st, &err), LP_OK);
	ck_assert_int_eq(count, 1);
	ck_assert_int_eq(lp_store_revision_get(&rev, st, s->id, 2, &err), LP_OK);
	ck_assert_int_eq(rev->state, LP_REV_INTERRUPTED);
	ck_assert_int_ne(rev->finished_at, 0);
	ck_assert_str_ne(rev->message, "");
	lp_store_revision_free(rev);
	ck_assert_int_eq(lp_store_revisions_interrupt_building(&count, st, &err), LP_OK);
	ck_assert_int_eq(count, 0);

	/* Rollback points at an existing revision only. */
	ck_assert_int_eq(lp_store_site_set_desired_revision(st, s->id, 3, 1, &err), LP_OK);
	ck_assert_int_eq(lp_store_site_set_desired_revision(st, s->id, 0, 7, &err), LP_ENOTFOUND);
	ck_assert_int_eq(lp_store_site_set_desired_revision(st, s->id, 3, 2, &err), LP_ECONFLICT);
	ck_assert_int_eq(lp_store_site_get_by_id(&got, st, s->id, &err), LP_OK);
	ck_assert_int_eq(got->desired_revision, 1);
	ck_assert_int_eq(got->resource_version, 4);
	lp_store_site_free(got);
	/* Same number again: no write. */
	ck_assert_int_eq(lp_store_site_set_desired_revision(st, s->id, 4, 1, &err), LP_OK);
	ck_assert_int_eq(lp_store_site_get_by_id(&got, st, s->id, &err), LP_OK);
	ck_assert_int_eq(got->resource_version, 4);
	lp_store_site_free(got);

	ck_assert_int_eq(
	    lp_store_revision_request(&num, st, s->id, 0, LP_TRIGGER_UPLOAD, "sha256:00", &err),
	    LP_OK);
	ck_assert_int_eq(num, 4);

	ck_assert_int_eq(
	    lp_store_revision_request(&num, st, "nope", 0, LP_TRIGGER_UPLOAD, NULL, &err),
	    LP_ENOTFOUND);
	ck_assert_int_eq(
	    lp_store_revision_request(&num, st, s->id, 0, (lp_store_trigger)42, NULL, &err),
	    LP_EINVAL);
	lp_store_site_free(s);
	lp_store_close(st);
}
END_TEST

/* Set revision number of site_id to state (controller progress). */
static void set_state(lp_store *st, const char *site_id, int64_t number, lp_store_rev_state state)
{
	lp_store_revision *rev = NULL;
	lp_error err = {0};

	ck_assert_int_eq(lp_store_revision_get(&rev, st, site_id, number, &err), LP_OK);
	rev->state = state;
	ck_assert_msg(lp_store_revision_update(st, rev, &err) == LP_OK, "%s", err.message);
	lp_store_revision_free(rev);
}

static lp_store_rev_state state_of(lp_store *st, const char *site_id, int64_t number)
{
	lp_store_revision *rev = NULL;
	lp_store_rev_state state;

	ck_assert_int_eq(lp_store_revision_get(&rev, st, site_id, number, NULL), LP_OK);
	state = rev->state;
	lp_store_revision_free(rev);
	return state;
}

/* PRAGMA data_version as another handle sees it: it moves only when st committed a change. */
static int64_t version_seen(lp_store *other)
{
	int64_t v = -1;

	ck_assert_int_eq(lp_store_data_version(&v, other, NULL), LP_OK);
	return v;
}

/* Revisions that never started and no longer can are superseded; nothing else changes. */
START_TEST(test_supersede_pending)
{
	lp_store *st = open_store(), *other = open_store();
	lp_store_site *s = create_site(st, "quick", 1);
	lp_store_revision *rev = NULL;
	int64_t num = 0, count = -1, v;
	lp_error err = {0};
	int i;

	for (i = 2; i <= 6; i++)
		ck_assert_int_eq(
		    lp_store_revision_request(&num, st, s->id, 0, LP_TRIGGER_REDEPLOY, NULL, &err),
		    LP_OK);
	set_state(st, s->id, 3, LP_REV_BUILDING);
	set_state(st, s->id, 2, LP_REV_CANCELLED);
	ck_assert_int_eq(lp_store_revisions_supersede_pending(&count, st, s->id, 0, &err), LP_OK);
	ck_assert_int_eq(count,
	                 3); /* 1, 4, 5: not the desired 6, the building 3, the cancelled 2 */
	ck_assert_int_eq(state_of(st, s->id, 1), LP_REV_SUPERSEDED);
	ck_assert_int_eq(state_of(st, s->id, 2), LP_REV_CANCELLED);
	ck_assert_int_eq(state_of(st, s->id, 3), LP_REV_BUILDING);
	ck_assert_int_eq(state_of(st, s->id, 4), LP_REV_SUPERSEDED);
	ck_assert_int_eq(state_of(st, s->id, 5), LP_REV_SUPERSEDED);
	ck_assert_int_eq(state_of(st, s->id, 6), LP_REV_PENDING);
	ck_assert_int_eq(lp_store_revision_get(&rev, st, s->id, 4, &err), LP_OK);
	ck_assert_str_eq(rev->message, "superseded by revision 6 before its build started");
	ck_assert_int_gt(rev->finished_at, 0);
	ck_assert_int_eq(rev->started_at, 0);
	lp_store_revision_free(rev);

	/* Again: nothing to do, and nothing written. */
	v = version_seen(other);
	ck_assert_int_eq(lp_store_revisions_supersede_pending(&count, st, s->id, 0, &err), LP_OK);
	ck_assert_int_eq(count, 0);
	ck_assert_int_eq(version_seen(other), v);

	/* A newer request makes 6 one of them, unless a build of it is starting (keep). */
	ck_assert_int_eq(
	    lp_store_revision_request(&num, st, s->id, 0, LP_TRIGGER_REDEPLOY, NULL, &err), LP_OK);
	ck_assert_int_eq(lp_store_revisions_supersede_pending(&count, st, s->id, 6, &err), LP_OK);
	ck_assert_int_eq(count, 0);
	ck_assert_int_eq(lp_store_revisions_supersede_pending(NULL, st, s->id, 0, &err), LP_OK);
	ck_assert_int_eq(state_of(st, s->id, 6), LP_REV_SUPERSEDED);
	ck_assert_int_eq(state_of(st, s->id, 7), LP_REV_PENDING);
	ck_assert_int_eq(raw_count("SELECT count(*) FROM revisions WHERE state = 'pending'"), 1);
	lp_store_site_free(s);
	lp_store_close(other);
	lp_store_close(st);
}
END_TEST

/* History: final revisions beyond the newest N (and the newest N ready ones) go, the rest stay. */
START_TEST(test_prune_history)
{
	static const lp_store_rev_state states[21] = {
	    [1] = LP_REV_READY,       [2] = LP_REV_FAILED,      [3] = LP_REV_READY,
	    [4] = LP_REV_SUPERSEDED,  [5] = LP_REV_READY,       [6] = LP_REV_CANCELLED,
	    [7] = LP_REV_INTERRUPTED, [8] = LP_REV_READY,       [9] = LP_REV_SUPERSEDED,
	    [10] = LP_REV_SUPERSEDED, [11] = LP_REV_SUPERSEDED, [12] = LP_REV_SUPERSEDED,
	    [13] = LP_REV_SUPERSEDED, [14] = LP_REV_SUPERSEDED, [15] = LP_REV_SUPERSEDED,
	    [16] = LP_REV_SUPERSEDED, [17] = LP_REV_READY,      [18] = LP_REV_FAILED,
	    [19] = LP_REV_BUILDING,   [20] = LP_REV_PENDING};
	static const int64_t gone[] = {1, 2, 3, 4, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16};
	lp_store *st = open_store(), *other = open_store();
	lp_store_site *s = create_site(st, "history", 1), *mine = create_site(st, "mine", 2);
	lp_store_status status = {0};
	int64_t num = 0, *nums = NULL, v;
	lp_error err = {0};
	size_t n = 0, i;

	for (i = 2; i <= 20; i++)
		ck_assert_int_eq(
		    lp_store_revision_request(&num, st, s->id, 0, LP_TRIGGER_REDEPLOY, NULL, &err),
		    LP_OK);
	for (i = 1; i <= 20; i++)
		if (states[i] != LP_REV_PENDING)
			set_state(st, s->id, (int64_t)i, states[i]);
	status.site_id = s->id;
	status.phase = LP_PHASE_LIVE;
	status.current_revision = 5;
	ck_assert_int_eq(lp_store_status_put(NULL, st, &status, &err), LP_OK);
	set_state(st, mine->id, 1, LP_REV_FAILED);

	/* Kept: 18-20 (newest 3), 17, 8, 5 (newest 3 ready), 20 (desired), 5 (current), 8 (keep).
	 */
	ck_assert_int_eq(lp_store_revisions_prune(&nums, &n, st, s->id, 3, 8, &err), LP_OK);
	ck_assert_uint_eq(n, sizeof(gone) / sizeof(gone[0]));
	for (i = 0; i < n; i++)
		ck_assert_int_eq(nums[i], gone[i]);
	free(nums);
	ck_assert_int_eq(raw_count("SELECT count(*) FROM revisions WHERE number IN "
	                           "(5, 8, 17, 18, 19, 20) AND site_id = (SELECT id FROM sites "
	                           "WHERE name = 'history')"),
	                 6);
	ck_assert_int_eq(raw_count("SELECT count(*) FROM revisions WHERE site_id = (SELECT id FROM "
	                           "sites WHERE name = 'history')"),
	                 6);
	/* Another site's history is its own. */
	ck_assert_int_eq(raw_count("SELECT count(*) FROM revisions WHERE site_id = (SELECT id FROM "
	                           "sites WHERE name = 'mine')"),
	                 1);

	/* Again: nothing qualifies, and nothing is written. */
	v = version_seen(other);
	ck_assert_int_eq(lp_store_revisions_prune(&nums, &n, st, s->id, 3, 8, &err), LP_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(nums);
	ck_assert_int_eq(version_seen(other), v);
	/* What keep held goes once nothing holds it. */
	ck_assert_int_eq(lp_store_revisions_prune(&nums, &n, st, s->id, 3, 0, &err), LP_OK);
	ck_assert_uint_eq(n, 0); /* 8 is still among the newest 3 ready ones */
	ck_assert_int_eq(lp_store_revisions_prune(&nums, &n, st, s->id, 1, 0, &err), LP_OK);
	ck_assert_uint_eq(n, 2); /* 8 and 18: only 20 (newest, desired), 17 (ready), 5, 19 stay */
	ck_assert_int_eq(nums[0], 8);
	ck_assert_int_eq(nums[1], 18);
	free(nums);
	ck_assert_int_eq(lp_store_revisions_prune(&nums, &n, st, s->id, 0, 0, &err), LP_EINVAL);
	lp_store_site_free(s);
	lp_store_site_free(mine);
	lp_store_close(other);
	lp_store_close(st);
}
END_TEST

/* Cancel: only a pending or building revision; final; the served revision is desired again. */
START_TEST(test_revision_cancel)
{
	lp_store *st = open_store();
	lp_store_site *s = create_site(st, "cancel-me", 1), *got = NULL;
	lp_store_status stt = {0};
	lp_store_revision *rev = NULL;
	int64_t num = 0, desired = 0;
	lp_error err = {0};

	/* nothing served yet: revision 1 cancelled, it stays desired (the site has nothing else) */
	ck_assert_int_eq(lp_store_revision_cancel(&desired, st, s->id, 0, 1, "cancelled", &err),
	                 LP_OK);
	ck_assert_int_eq(desired, 1);
	ck_assert_int_eq(lp_store_revision_get(&rev, st, s->id, 1, &err), LP_OK);
	ck_assert_int_eq(rev->state, LP_REV_CANCELLED);
	ck_assert_int_ne(rev->finished_at, 0);
	/* final: the controller's later update is refused, the state stays */
	rev->state = LP_REV_READY;
	ck_assert_int_eq(lp_store_revision_update(st, rev, &err), LP_ECONFLICT);
	ck_assert_ptr_nonnull(strstr(err.message, "cancelled"));
	lp_store_revision_free(rev);
	ck_assert_int_eq(lp_store_revision_get(&rev, st, s->id, 1, &err), LP_OK);
	ck_assert_int_eq(rev->state, LP_REV_CANCELLED);
	lp_store_revision_free(rev);
	ck_assert_int_eq(lp_store_revision_cancel(&desired, st, s->id, 0, 1, "again", &err),
	                 LP_ECONFLICT);
	ck_assert_ptr_nonnull(strstr(err.message, "is cancelled"));
	ck_assert_int_eq(lp_store_revision_cancel(&desired, st, s->id, 0, 9, "none", &err),
	                 LP_ENOTFOUND);

	/* revision 2 served, 3 building: cancelling 3 makes 2 desired again */
	ck_assert_int_eq(
	    lp_store_revision_request(&num, st, s->id, 0, LP_TRIGGER_REDEPLOY, NULL, &err), LP_OK);
	ck_assert_int_eq(lp_store_revision_get(&rev, st, s->id, num, &err), LP_OK);
	rev->state = LP_REV_READY;
	ck_assert_int_eq(lp_store_revision_update(st, rev, &err), LP_OK);
	lp_store_revision_free(rev);
	stt.site_id = s->id;
	stt.phase = LP_PHASE_LIVE;
	stt.current_revision = num;
	stt.url = "http://cancel-me.localhost";
	ck_assert_int_eq(lp_store_status_put(NULL, st, &stt, &err), LP_OK);
	ck_assert_int_eq(
	    lp_store_revision_request(&num, st, s->id, 0, LP_TRIGGER_REDEPLOY, NULL, &err), LP_OK);
	ck_assert_int_eq(num, 3);
	ck_assert_int_eq(lp_store_site_get_by_id(&got, st, s->id, &err), LP_OK);
	/* a stale resource version writes nothing */
	ck_assert_int_eq(lp_store_revision_cancel(&desired, st, s->id, got->resource_version - 1, 3,
	                                          "stale", &err),
	                 LP_ECONFLICT);
	ck_assert_int_eq(lp_store_revision_cancel(&desired, st, s->id, got->resource_version, 3,
	                                          "cancelled by admin", &err),
	                 LP_OK);
	ck_assert_int_eq(desired, 2);
	lp_store_site_free(got);
	ck_assert_int_eq(lp_store_site_get_by_id(&got, st, s->id, &err), LP_OK);
	ck_assert_int_eq(got->desired_revision, 2);
	lp_store_site_free(got);
	ck_assert_int_eq(lp_store_revision_get(&rev, st, s->id, 3, &err), LP_OK);
	ck_assert_int_eq(rev->state, LP_REV_CANCELLED);
	ck_assert_str_eq(rev->message, "cancelled by admin");
	lp_store_revision_free(rev);
	/* a ready revision cannot be cancelled */
	ck_assert_int_eq(lp_store_revision_cancel(&desired, st, s->id, 0, 2, "no", &err),
	                 LP_ECONFLICT);
	ck_assert_ptr_nonnull(strstr(err.message, "is ready"));
	lp_store_site_free(s);
	lp_store_close(st);
}
END_TEST

/* A preview names its owner; the owner lists its previews, deleting ones too, oldest first. */
START_TEST(test_preview_children)
{
	lp_store *st = open_store();
	lp_store_site *parent = create_site(st, "app", 1), *other = create_site(st, "other", 2);
	lp_store_site *kid = NULL, *kids = NULL;
	char json[64], hash[LP_SHA256_HEX_LEN];
	lp_store_site_new in = {.name = "app--pr-1",
	                        .spec_json = json,
	                        .spec_hash = hash,
	                        .trigger = LP_TRIGGER_WEBHOOK,
	                        .parent_id = parent->id};
	lp_error err = {0};
	size_t n = 0;

	make_spec(json, sizeof(json), hash, 3);
	ck_assert_int_eq(lp_store_site_create(&kid, st, &in, &err), LP_OK);
	ck_assert_str_eq(kid->parent_id, parent->id);
	ck_assert_str_eq(parent->parent_id, "");
	in.name = "app--pr-2";
	lp_store_site_free(kid);
	ck_assert_int_eq(lp_store_site_create(&kid, st, &in, &err), LP_OK);
	ck_assert_int_eq(lp_store_site_mark_deleted(st, kid->id, 0, &err), LP_OK);
	ck_assert_int_eq(lp_store_site_list_children(&kids, &n, st, parent->id, &err), LP_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(kids[0].name, "app--pr-1");
	ck_assert_str_eq(kids[1].name, "app--pr-2");
	ck_assert_int_ne(kids[1].deletion_timestamp, 0);
	lp_store_sites_free(kids, n);
	ck_assert_int_eq(lp_store_site_list_children(&kids, &n, st, other->id, &err), LP_OK);
	ck_assert_uint_eq(n, 0);
	lp_store_sites_free(kids, n);
	/* "" is no owner: sites of their own are nobody's previews */
	ck_assert_int_eq(lp_store_site_list_children(&kids, &n, st, "", &err), LP_OK);
	ck_assert_uint_eq(n, 0);
	lp_store_sites_free(kids, n);
	lp_store_site_free(kid);
	lp_store_site_free(parent);
	lp_store_site_free(other);
	lp_store_close(st);
}
END_TEST

/* A draft is a new revision marked draft; the desired revision stays, resource_version moves. */
START_TEST(test_draft_request_keeps_desired)
{
	lp_store *st = open_store();
	lp_store_site *s = create_site(st, "drafty", 1), *got = NULL;
	lp_store_revision *rev = NULL;
	lp_error err = {0};
	int64_t num = 0;

	ck_assert_int_eq(lp_store_revision_request_draft(&num, st, s->id, s->resource_version,
	                                                 LP_TRIGGER_UPLOAD, "sha256:ab", &err),
	                 LP_OK);
	ck_assert_int_eq(num, 2);
	ck_assert_int_eq(lp_store_site_get_by_id(&got, st, s->id, &err), LP_OK);
	ck_assert_int_eq(got->desired_revision, 1);
	ck_assert_int_eq(got->resource_version, s->resource_version + 1);
	ck_assert_int_eq(lp_store_revision_get(&rev, st, s->id, 2, &err), LP_OK);
	ck_assert_int_eq(rev->draft, 1);
	ck_assert_str_eq(rev->source, "sha256:ab");
	lp_store_revision_free(rev);
	ck_assert_int_eq(lp_store_revision_get(&rev, st, s->id, 1, &err), LP_OK);
	ck_assert_int_eq(rev->draft, 0);
	lp_store_revision_free(rev);
	/* a stale resource_version writes nothing */
	ck_assert_int_eq(lp_store_revision_request_draft(&num, st, s->id, s->resource_version,
	                                                 LP_TRIGGER_UPLOAD, "sha256:cd", &err),
	                 LP_ECONFLICT);
	/* publishing it is a rollback: desired moves to it */
	ck_assert_int_eq(lp_store_site_set_desired_revision(st, s->id, 0, 2, &err), LP_OK);
	lp_store_site_free(got);
	ck_assert_int_eq(lp_store_site_get_by_id(&got, st, s->id, &err), LP_OK);
	ck_assert_int_eq(got->desired_revision, 2);
	lp_store_site_free(got);
	lp_store_site_free(s);
	lp_store_close(st);
}
END_TEST

/* Migration 2 rebuilds the revisions table: every row and column survives it. */
START_TEST(test_migration_keeps_revisions)
{
	lp_store *st = NULL;
	lp_store_revision *rev = NULL;
	lp_store_site *s = NULL;
	lp_error err = {0};
	sqlite3 *db;

	/* a file written at version 1 (before cancel and users existed), with a site on it */
	ck_assert_int_eq(lp_store_open_at(&st, dbpath, 1, &err), LP_OK);
	lp_store_close(st);
	ck_assert_int_eq(raw_count("PRAGMA user_version"), 1);
	db = raw_open();
	ck_assert_int_eq(
	    sqlite3_exec(
	        db,
	        "INSERT INTO sites (id, name, spec_json, spec_hash, created_at, updated_at)"
	        " VALUES ('s1', 'migrate-me', '{}', 'h', 1, 1);"
	        "INSERT INTO revisions (site_id, number, trigger, spec_hash, created_at)"
	        " VALUES ('s1', 1, 'create', 'h', 1);"
	        "INSERT INTO revisions (site_id, number, source, trigger, spec_hash,"
	        " created_at) VALUES ('s1', 2, 'cafe', 'webhook', 'h', 2);"
	        "INSERT INTO api_tokens (name, token_hash, created_at)"
	        " VALUES ('old', 'x', 1);",
	        NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	st = open_store();
	ck_assert_int_eq(raw_count("PRAGMA user_version"), SCHEMA_LATEST);
	ck_assert_int_eq(raw_count("SELECT count(*) FROM revisions"), 2);
	ck_assert_int_eq(
	    raw_count("SELECT count(*) FROM sqlite_master WHERE name='revisions_state'"), 1);
	ck_assert_int_eq(lp_store_revision_get(&rev, st, "s1", 2, &err), LP_OK);
	ck_assert_str_eq(rev->source, "cafe");
	ck_assert_int_eq(rev->trigger, LP_TRIGGER_WEBHOOK);
	ck_assert_int_eq(rev->state, LP_REV_PENDING);
	lp_store_revision_free(rev);
	ck_assert_int_eq(lp_store_revision_cancel(NULL, st, "s1", 0, 2, "x", &err), LP_OK);
	/* what existed before users is the bootstrap admin's */
	ck_assert_int_eq(lp_store_site_get(&s, st, "migrate-me", &err), LP_OK);
	ck_assert_int_eq(s->owner_id, LP_STORE_ADMIN_USER);
	ck_assert_str_eq(s->owner, "admin");
	ck_assert_int_eq(raw_count("SELECT count(*) FROM api_tokens WHERE user_id = 1"), 1);
	ck_assert_int_eq(lp_store_integrity_check(st, &err), LP_OK);
	lp_store_site_free(s);
	lp_store_close(st);
}
END_TEST

START_TEST(test_delete_cascades)
{
	lp_store *st = open_store();
	lp_store_site *s = create_site(st, "doomed", 1), *got = NULL;
	lp_store_status in = {.phase = LP_PHASE_LIVE}, *status = NULL;
	lp_store_event *ev = NULL;
	char json[64], hash[LP_SHA256_HEX_LEN];
	lp_error err = {0};
	size_t n = 0;

	in.site_id = s->id;
	ck_assert_int_eq(lp_store_status_put(NULL, st, &in, &err), LP_OK);
	ck_assert_int_eq(lp_store_event_add(st, s->id, LP_EVENT_NORMAL, "Created", "", &err),
	                 LP_OK);
	ck_assert_int_eq(lp_store_site_delete(st, s->id, &err), LP_ECONFLICT);
	ck_assert_int_eq(lp_store_site_mark_deleted(st, s->id, 5, &err), LP_ECONFLICT);
	ck_assert_int_eq(lp_store_site_mark_deleted(st, s->id, 1, &err), LP_OK);
	ck_assert_int_eq(lp_store_site_mark_deleted(st, s->id, 1, &err), LP_OK);
	ck_assert_int_eq(lp_store_site_get_by_id(&got, st, s->id, &err), LP_OK);
	ck_assert_int_ne(got->deletion_timestamp, 0);
	ck_assert_int_eq(got->resource_version, 2);
	lp_store_site_free(got);

	/* Desired-state writes stop once deletion started. */
	make_spec(json, sizeof(json), hash, 2);
	ck_assert_int_eq(lp_store_site_update_spec(NULL, st, s->id, 0, NULL, json, hash, 1,
	                                           LP_TRIGGER_APPLY, NULL, &err),
	                 LP_ECONFLICT);
	ck_assert_int_eq(
	    lp_store_revision_request(NULL, st, s->id, 0, LP_TRIGGER_WEBHOOK, NULL, &err),
	    LP_ECONFLICT);

	ck_assert_int_eq(lp_store_site_delete(st, s->id, &err), LP_OK);
	ck_assert_int_eq(lp_store_site_delete(st, s->id, &err), LP_ENOTFOUND);
	ck_assert_int_eq(lp_store_site_get_by_id(&got, st, s->id, &err), LP_ENOTFOUND);
	ck_assert_int_eq(lp_store_status_get(&status, st, s->id, &err), LP_ENOTFOUND);
	ck_assert_int_eq(lp_store_event_list(&ev, &n, st, s->id, 0, &err), LP_OK);
	ck_assert_uint_eq(n, 0);
	lp_store_events_free(ev, n);
	ck_assert_int_eq(raw_count("SELECT count(*) FROM revisions"), 0);
	/* The name is free again. */
	lp_store_site_free(s);
	s = create_site(st, "doomed", 1);
	lp_store_site_free(s);
	lp_store_close(st);
}
END_TEST

START_TEST(test_status)
{
	lp_store *st = open_store();
	lp_store_site *s = create_site(st, "stat", 1), *got = NULL;
	lp_store_status in = {0}, *out = NULL;
	int64_t first_update;
	int changed = -1;
	lp_error err = {0};

	ck_assert_int_eq(lp_store_status_get(&out, st, s->id, &err), LP_ENOTFOUND);
	in.site_id = s->id;
	in.phase = LP_PHASE_DEPLOYING;
	in.observed_generation = 1;
	in.url = "http://stat.localhost";
	ck_assert_int_eq(lp_store_status_put(&changed, st, &in, &err), LP_OK);
	ck_assert_int_eq(changed, 1);
	ck_assert_int_eq(lp_store_status_get(&out, st, s->id, &err), LP_OK);
	ck_assert_int_eq(out->phase, LP_PHASE_DEPLOYING);
	ck_assert_int_eq(out->observed_generation, 1);
	ck_assert_str_eq(out->conditions_json, "[]");
	ck_assert_str_eq(out->url, "http://stat.localhost");
	ck_assert_str_eq(out->message, "");
	first_update = out->updated_at;
	lp_store_status_free(out);

	/* Identical put: no write (updated_at keeps its value). */
	lp_clock_sleep_ms(5);
	ck_assert_int_eq(lp_store_status_put(&changed, st, &in, &err), LP_OK);
	ck_assert_int_eq(changed, 0);
	ck_assert_int_eq(lp_store_status_get(&out, st, s->id, &err), LP_OK);
	ck_assert_int_eq(out->updated_at, first_update);
	lp_store_status_free(out);

	in.phase = LP_PHASE_LIVE;
	in.current_revision = 1;
	in.conditions_json = "[{\"type\":\"Ready\",\"status\":\"True\"}]";
	ck_assert_int_eq(lp_store_status_put(&changed, st, &in, &err), LP_OK);
	ck_assert_int_eq(changed, 1);
	ck_assert_int_eq(lp_store_status_get(&out, st, s->id, &err), LP_OK);
	ck_assert_int_eq(out->phase, LP_PHASE_LIVE);
	ck_assert_int_eq(out->current_revision, 1);
	ck_assert_str_eq(out->conditions_json, in.conditions_json);
	lp_store_status_free(out);

	/* The controller's writes leave the site's resource_version alone. */
	ck_assert_int_eq(lp_store_site_get_by_id(&got, st, s->id, &err), LP_OK);
	ck_assert_int_eq(got->resource_version, 1);
	lp_store_site_free(got);

	in.site_id = "missing";
	ck_assert_int_eq(lp_store_status_put(&changed, st, &in, &err), LP_ENOTFOUND);
	in.site_id = s->id;
	in.phase = (lp_store_phase)17;
	ck_assert_int_eq(lp_store_status_put(&changed, st, &in, &err), LP_EINVAL);
	ck_assert_int_eq(lp_store_status_put(&changed, st, NULL, &err), LP_EINVAL);
	lp_store_site_free(s);
	lp_store_close(st);
}
END_TEST

START_TEST(test_events_cap)
{
	lp_store *st = open_store();
	lp_store_site *s = create_site(st, "ev", 1), *t = create_site(st, "other", 1);
	lp_store_event *ev = NULL;
	char reason[32];
	lp_error err = {0};
	size_t n = 0;
	int i;

	ck_assert_int_eq(lp_store_event_add(st, t->id, LP_EVENT_WARNING, "Other", "kept", &err),
	                 LP_OK);
	/* The default cap, for real. */
	for (i = 0; i < LP_STORE_EVENTS_PER_SITE + 7; i++) {
		snprintf(reason, sizeof(reason), "R%d", i);
		ck_assert_int_eq(lp_store_event_add(st, s->id, LP_EVENT_NORMAL, reason, "m", &err),
		                 LP_OK);
	}
	ck_assert_int_eq(raw_count("SELECT count(*) FROM events"), LP_STORE_EVENTS_PER_SITE + 1);
	ck_assert_int_eq(lp_store_event_list(&ev, &n, st, s->id, 3, &err), LP_OK);
	ck_assert_uint_eq(n, 3);
	snprintf(reason, sizeof(reason), "R%d", LP_STORE_EVENTS_PER_SITE + 6);
	ck_assert_str_eq(ev[0].reason, reason);
	ck_assert_str_eq(ev[0].site_name, "ev");
	ck_assert_str_eq(ev[0].site_id, s->id);
	ck_assert_int_eq(ev[0].type, LP_EVENT_NORMAL);
	ck_assert(ev[0].id > ev[1].id && ev[0].time > 0);
	lp_store_events_free(ev, n);
	ck_assert_int_eq(lp_store_event_list(&ev, &n, st, s->id, 0, &err), LP_OK);
	ck_assert_uint_eq(n, LP_STORE_EVENTS_PER_SITE);
	ck_assert_str_eq(ev[n - 1].reason, "R7");
	lp_store_events_free(ev, n);

	/* The other site's event survived its neighbour's trimming. */
	ck_assert_int_eq(lp_store_event_list(&ev, &n, st, t->id, 0, &err), LP_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(ev[0].type, LP_EVENT_WARNING);
	ck_assert_str_eq(ev[0].message, "kept");
	lp_store_events_free(ev, n);

	/* A smaller cap applies at the next write. */
	lp_store_set_caps(st, 4, 0);
	ck_assert_int_eq(lp_store_event_add(st, s->id, LP_EVENT_NORMAL, "Last", NULL, &err), LP_OK);
	ck_assert_int_eq(raw_count("SELECT count(*) FROM events"), 5);

	ck_assert_int_eq(lp_store_event_add(st, "missing", LP_EVENT_NORMAL, "X", "", &err),
	                 LP_ENOTFOUND);
	ck_assert_int_eq(lp_store_event_add(st, s->id, LP_EVENT_NORMAL, "", "", &err), LP_EINVAL);
	lp_store_site_free(s);
	lp_store_site_free(t);
	lp_store_close(st);
}
END_TEST

START_TEST(test_webhook_dedupe)
{
	lp_store *st = open_store();
	lp_error err = {0};
	char id[32];
	int i;

	ck_assert_int_eq(lp_store_webhook_record(st, "d-1", "site", "accepted", &err), LP_OK);
	ck_assert_int_eq(lp_store_webhook_record(st, "d-1", "site", "accepted", &err), LP_EEXISTS);
	ck_assert_ptr_nonnull(strstr(err.message, "d-1"));
	ck_assert_int_eq(lp_store_webhook_record(st, "d-2", "site", "ignored", &err), LP_OK);
	ck_assert_int_eq(lp_store_webhook_record(st, "", "site", "x", &err), LP_EINVAL);

	/* Only the newest deliveries are remembered. */
	lp_store_set_caps(st, 0, 3);
	for (i = 3; i <= 6; i++) {
		snprintf(id, sizeof(id), "d-%d", i);
		ck_assert_int_eq(lp_store_webhook_record(st, id, "site", "accepted", &err), LP_OK);
	}
	ck_assert_int_eq(raw_count("SELECT count(*) FROM webhook_deliveries"), 3);
	ck_assert_int_eq(lp_store_webhook_record(st, "d-6", "site", "accepted", &err), LP_EEXISTS);
	ck_assert_int_eq(lp_store_webhook_record(st, "d-4", "site", "accepted", &err), LP_EEXISTS);
	ck_assert_int_eq(lp_store_webhook_record(st, "d-1", "site", "accepted", &err), LP_OK);
	lp_store_close(st);
}
END_TEST

START_TEST(test_tokens)
{
	lp_store *st = open_store();
	char secret[LP_STORE_TOKEN_LEN], secret2[LP_STORE_TOKEN_LEN];
	char hash[LP_SHA256_HEX_LEN], wrong[LP_STORE_TOKEN_LEN];
	lp_store_token *list = NULL;
	int64_t id = 0, id2 = 0;
	lp_store_principal who = {0};
	lp_error err = {0};
	size_t n = 0;

	ck_assert_int_eq(lp_store_token_create(secret, &id, st, "admin", &err), LP_OK);
	ck_assert_int_eq(lp_store_token_create(secret2, &id2, st, "ci", &err), LP_OK);
	ck_assert_uint_eq(strlen(secret), LP_STORE_TOKEN_LEN - 1);
	ck_assert(strncmp(secret, "lp_", 3) == 0);
	ck_assert_str_ne(secret, secret2);
	ck_assert_int_ne(id, id2);

	ck_assert_int_eq(lp_store_token_verify(&who, st, secret, &err), LP_OK);
	ck_assert_int_eq(who.token_id, id);
	/* a token made without a user is the bootstrap admin's */
	ck_assert_int_eq(who.user_id, LP_STORE_ADMIN_USER);
	ck_assert_int_eq(who.role, LP_ROLE_ADMIN);
	ck_assert_str_eq(who.user, "admin");
	ck_assert_int_eq(lp_store_token_verify(&who, st, secret2, &err), LP_OK);
	ck_assert_int_eq(who.token_id, id2);

	/* Only the hash is stored. */
	ck_assert_int_eq(lp_store_token_list(&list, &n, st, &err), LP_OK);
	ck_assert_uint_eq(n, 2);
	lp_crypto_sha256_hex(hash, secret, strlen(secret));
	ck_assert_str_eq(list[0].name, "admin");
	ck_assert_str_eq(list[0].token_hash, hash);
	ck_assert_int_ne(list[0].last_used_at, 0);
	ck_assert_int_eq(list[0].revoked_at, 0);
	lp_store_tokens_free(list, n);
	ck_assert_int_eq(raw_count("SELECT count(*) FROM api_tokens WHERE token_hash LIKE 'lp_%'"),
	                 0);

	snprintf(wrong, sizeof(wrong), "%s", secret);
	wrong[10] = wrong[10] == 'a' ? 'b' : 'a';
	ck_assert_int_eq(lp_store_token_verify(&who, st, wrong, &err), LP_EAUTH);
	ck_assert_int_eq(lp_store_token_verify(&who, st, "lp_short", &err), LP_EAUTH);
	ck_assert_int_eq(lp_store_token_verify(&who, st, "", &err), LP_EAUTH);
	ck_assert_int_eq(lp_store_token_verify(&who, st, NULL, &err), LP_EAUTH);

	ck_assert_int_eq(lp_store_token_revoke(st, id, &err), LP_OK);
	ck_assert_int_eq(lp_store_token_revoke(st, id, &err), LP_OK);
	ck_assert_int_eq(lp_store_token_verify(&who, st, secret, &err), LP_EAUTH);
	ck_assert_int_eq(lp_store_token_verify(&who, st, secret2, &err), LP_OK);
	ck_assert_int_eq(lp_store_token_revoke(st, 9999, &err), LP_ENOTFOUND);
	ck_assert_int_eq(lp_store_token_create(secret, NULL, st, "", &err), LP_EINVAL);
	lp_store_close(st);
}
END_TEST

START_TEST(test_users_sessions)
{
	lp_store *st = open_store();
	char tok[LP_STORE_TOKEN_LEN], old[LP_STORE_TOKEN_LEN], hash[LP_SHA256_HEX_LEN];
	lp_store_user *u = NULL, *list = NULL;
	lp_store_site *site = NULL, *mine = NULL;
	lp_store_site_new in = {0};
	lp_store_principal who = {0};
	lp_error err = {0};
	size_t n = 0;
	int i;

	ck_assert_int_eq(lp_store_user_create(&u, st, "alice", LP_ROLE_MEMBER, "scrypt$x", &err),
	                 LP_OK);
	ck_assert_int_eq(u->role, LP_ROLE_MEMBER);
	ck_assert_int_eq(lp_store_user_create(NULL, st, "alice", LP_ROLE_ADMIN, "h", &err),
	                 LP_EEXISTS);
	ck_assert_int_eq(lp_store_user_create(NULL, st, "-bad", LP_ROLE_ADMIN, "h", &err),
	                 LP_EINVAL);
	ck_assert_int_eq(lp_store_user_create(NULL, st, "Bob", LP_ROLE_ADMIN, "h", &err),
	                 LP_EINVAL);
	ck_assert_int_eq(lp_store_user_list(&list, &n, st, &err), LP_OK);
	ck_assert_uint_eq(n, 2); /* admin (user 1, from the migration) and alice */
	ck_assert_str_eq(list[0].name, "admin");
	ck_assert_str_eq(list[0].password_hash, "");
	lp_store_users_free(list, n);

	/* a session expires; an expired one is refused, a live one speaks for its user */
	ck_assert_int_eq(lp_store_token_create_for(tok, NULL, st, u->id, "login",
	                                           lp_clock_wall_ms() + 60000, &err),
	                 LP_OK);
	ck_assert_int_eq(lp_store_token_verify(&who, st, tok, &err), LP_OK);
	ck_assert_int_eq(who.user_id, u->id);
	ck_assert_int_eq(who.role, LP_ROLE_MEMBER);
	ck_assert_str_eq(who.user, "alice");
	ck_assert_int_ne(who.expires_at, 0);
	lp_crypto_sha256_hex(hash, tok, strlen(tok));
	ck_assert_int_eq(raw_count("SELECT count(*) FROM api_tokens WHERE token_hash LIKE 'lp_%'"),
	                 0);
	ck_assert_int_eq(
	    lp_store_token_create_for(old, NULL, st, u->id, "login", lp_clock_wall_ms() - 1, &err),
	    LP_OK);
	ck_assert_int_eq(lp_store_token_verify(&who, st, old, &err), LP_EAUTH);
	/* at most LP_STORE_SESSIONS_MAX live sessions: the oldest (tok) goes */
	for (i = 0; i < LP_STORE_SESSIONS_MAX; i++)
		ck_assert_int_eq(lp_store_token_create_for(old, NULL, st, u->id, "login",
		                                           lp_clock_wall_ms() + 60000, &err),
		                 LP_OK);
	ck_assert_int_eq(lp_store_token_verify(&who, st, tok, &err), LP_EAUTH);
	ck_assert_int_eq(lp_store_token_verify(&who, st, old, &err), LP_OK);
	ck_assert_int_eq(lp_store_token_create_for(tok, NULL, st, 999, "login", 0, &err),
	                 LP_ENOTFOUND);

	/* sites have owners; the list filters by them; an owner of sites cannot be deleted */
	site = create_site(st, "admins-site", 1);
	ck_assert_int_eq(site->owner_id, LP_STORE_ADMIN_USER);
	ck_assert_str_eq(site->owner, "admin");
	in.name = "alices-site";
	in.spec_json = "{}";
	in.spec_hash = "h";
	in.owner_id = u->id;
	ck_assert_int_eq(lp_store_site_create(&mine, st, &in, &err), LP_OK);
	ck_assert_str_eq(mine->owner, "alice");
	lp_store_sites_free(NULL, 0);
	{
		lp_store_site *all = NULL;

		ck_assert_int_eq(lp_store_site_list_owned(&all, &n, st, 1, u->id, &err), LP_OK);
		ck_assert_uint_eq(n, 1);
		ck_assert_str_eq(all[0].name, "alices-site");
		lp_store_sites_free(all, n);
		ck_assert_int_eq(lp_store_site_list_owned(&all, &n, st, 1, 0, &err), LP_OK);
		ck_assert_uint_eq(n, 2);
		lp_store_sites_free(all, n);
	}
	ck_assert_int_eq(lp_store_user_delete(st, "alice", &err), LP_ECONFLICT);
	ck_assert_int_eq(lp_store_user_delete(st, "admin", &err), LP_ECONFLICT);
	ck_assert_int_eq(lp_store_site_set_owner(st, mine->id, LP_STORE_ADMIN_USER, &err), LP_OK);
	ck_assert_int_eq(lp_store_site_set_owner(st, mine->id, 999, &err), LP_ENOTFOUND);
	ck_assert_int_eq(lp_store_user_delete(st, "alice", &err), LP_OK);
	ck_assert_int_eq(lp_store_user_delete(st, "alice", &err), LP_ENOTFOUND);
	/* the user's tokens went with them */
	ck_assert_int_eq(lp_store_token_verify(&who, st, old, &err), LP_EAUTH);
	lp_store_site_free(site);
	lp_store_site_free(mine);
	lp_store_user_free(u);
	lp_store_close(st);
}
END_TEST

START_TEST(test_enum_names)
{
	lp_store_trigger t;
	lp_store_rev_state s;
	lp_store_phase p;

	ck_assert_str_eq(lp_store_trigger_name(LP_TRIGGER_ROLLBACK), "rollback");
	ck_assert_str_eq(lp_store_rev_state_name(LP_REV_SUPERSEDED), "superseded");
	ck_assert_str_eq(lp_store_phase_name(LP_PHASE_DELETING), "deleting");
	ck_assert_str_eq(lp_store_event_type_name(LP_EVENT_WARNING), "Warning");
	ck_assert_str_eq(lp_store_phase_name((lp_store_phase)40), "unknown");
	ck_assert_int_eq(lp_store_trigger_parse(&t, "upload"), LP_OK);
	ck_assert_int_eq(t, LP_TRIGGER_UPLOAD);
	ck_assert_int_eq(lp_store_rev_state_parse(&s, "interrupted"), LP_OK);
	ck_assert_int_eq(s, LP_REV_INTERRUPTED);
	ck_assert_int_eq(lp_store_rev_state_parse(&s, "cancelled"), LP_OK);
	ck_assert_int_eq(s, LP_REV_CANCELLED);
	ck_assert_int_eq(lp_store_phase_parse(&p, "Live"), LP_EINVAL);
	ck_assert_int_eq(lp_store_phase_parse(&p, NULL), LP_EINVAL);
}
END_TEST

/* A held write lock turns into LP_EUNAVAILABLE after the 5 s busy timeout, not a hang. */
START_TEST(test_busy_unavailable)
{
	lp_store *st = open_store();
	lp_store_site *s = create_site(st, "busy", 1), *got = NULL;
	sqlite3 *db = raw_open();
	lp_error err = {0};

	ck_assert_int_eq(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(
	    lp_store_revision_request(NULL, st, s->id, 0, LP_TRIGGER_REDEPLOY, NULL, &err),
	    LP_EUNAVAILABLE);
	/* Readers are not blocked by a writer under WAL. */
	ck_assert_int_eq(lp_store_site_get_by_id(&got, st, s->id, &err), LP_OK);
	lp_store_site_free(got);
	ck_assert_int_eq(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(
	    lp_store_revision_request(NULL, st, s->id, 0, LP_TRIGGER_REDEPLOY, NULL, &err), LP_OK);
	lp_store_site_free(s);
	lp_store_close(st);
}
END_TEST

#define RMW_ROUNDS 200

struct rmw_result {
	int ok;
	int successes;
	int conflicts;
};

static void barrier(int wfd, int rfd)
{
	char c = 'b';

	ck_assert_int_eq(write(wfd, &c, 1), 1);
	ck_assert_int_eq(read(rfd, &c, 1), 1);
}

/*
 * Read-modify-write of the spec counter RMW_ROUNDS times, retrying on conflict. The first round
 * meets the other process at a barrier between read and write, so one of them must be stale.
 */
static struct rmw_result rmw_loop(const char *site_id, int wfd, int rfd)
{
	struct rmw_result r = {1, 0, 0};
	char json[64], hash[LP_SHA256_HEX_LEN];
	lp_store *st = NULL;
	int first = 1, attempts = 0;

	if (lp_store_open(&st, dbpath, NULL) != LP_OK) {
		r.ok = 0;
		return r;
	}
	while (r.successes < RMW_ROUNDS && attempts++ < RMW_ROUNDS * 50) {
		lp_store_site *s = NULL;
		int64_t rv;
		int n = -1, rc;

		if (lp_store_site_get_by_id(&s, st, site_id, NULL) != LP_OK) {
			r.ok = 0;
			break;
		}
		rv = s->resource_version;
		sscanf(s->spec_json, "{\"n\":%d}", &n);
		lp_store_site_free(s);
		if (first) {
			barrier(wfd, rfd);
			first = 0;
		}
		make_spec(json, sizeof(json), hash, n + 1);
		rc = lp_store_site_update_spec(NULL, st, site_id, rv, NULL, json, hash, 0,
		                               LP_TRIGGER_APPLY, NULL, NULL);
		if (rc == LP_OK) {
			r.successes++;
		} else if (rc == LP_ECONFLICT) {
			r.conflicts++;
		} else {
			r.ok = 0;
			break;
		}
	}
	lp_store_close(st);
	return r;
}

START_TEST(test_two_processes_no_lost_update)
{
	lp_store *st = open_store();
	lp_store_site *s = create_site(st, "race", 0), *got = NULL;
	struct rmw_result mine, theirs = {0};
	int to_child[2], to_parent[2], result[2], status = 0;
	char site_id[LP_STORE_ID_LEN];
	int64_t t0, t1;
	pid_t pid;

	snprintf(site_id, sizeof(site_id), "%s", s->id);
	lp_store_site_free(s);
	lp_store_close(st); /* never carry a connection across fork() */
	t0 = lp_clock_mono_ms();
	ck_assert_int_eq(pipe(to_child), 0);
	ck_assert_int_eq(pipe(to_parent), 0);
	ck_assert_int_eq(pipe(result), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rmw_result r = rmw_loop(site_id, to_parent[1], to_child[0]);

		_exit(write(result[1], &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 1);
	}
	mine = rmw_loop(site_id, to_child[1], to_parent[0]);
	ck_assert_int_eq(read(result[0], &theirs, sizeof(theirs)), (ssize_t)sizeof(theirs));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	t1 = lp_clock_mono_ms();
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert(mine.ok && theirs.ok);
	ck_assert_int_eq(mine.successes, RMW_ROUNDS);
	ck_assert_int_eq(theirs.successes, RMW_ROUNDS);
	ck_assert_int_ge(mine.conflicts + theirs.conflicts, 1);

	st = open_store();
	ck_assert_int_eq(lp_store_site_get_by_id(&got, st, site_id, NULL), LP_OK);
	ck_assert_int_eq(spec_counter(got), 2 * RMW_ROUNDS);
	ck_assert_int_eq(got->generation, 1 + 2 * RMW_ROUNDS);
	ck_assert_int_eq(got->resource_version, 1 + 2 * RMW_ROUNDS);
	/* A figure for the docs, not an assertion. */
	printf("store rmw: %d updates from 2 processes in %.0f ms, %d conflicts retried\n",
	       2 * RMW_ROUNDS, (double)(t1 - t0), mine.conflicts + theirs.conflicts);
	lp_store_site_free(got);
	ck_assert_int_eq(lp_store_integrity_check(st, NULL), LP_OK);
	lp_store_close(st);
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
	close(result[0]);
	close(result[1]);
}
END_TEST

/*
 * A writer killed inside a transaction, after enough writes that dirty pages spilled into the WAL:
 * the next reader sees the last committed state and the file is intact.
 */
START_TEST(test_sigkill_mid_transaction)
{
	lp_store *st = open_store();
	lp_store_site *s = create_site(st, "crash", 1), *got = NULL;
	lp_store_revision *revs = NULL;
	char site_id[LP_STORE_ID_LEN];
	int ready[2], status = 0;
	lp_error err = {0};
	size_t n = 0;
	char c = 0;
	pid_t pid;

	snprintf(site_id, sizeof(site_id), "%s", s->id);
	lp_store_site_free(s);
	lp_store_close(st);
	ck_assert_int_eq(pipe(ready), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		sqlite3 *db = NULL;
		char sql[512];
		int i, bad = 0;

		close(ready[0]);
		bad |= sqlite3_open(dbpath, &db) != SQLITE_OK;
		sqlite3_busy_timeout(db, 5000);
		bad |= sqlite3_exec(db, "PRAGMA cache_size=8; BEGIN IMMEDIATE", NULL, NULL, NULL);
		snprintf(
		    sql, sizeof(sql),
		    "UPDATE sites SET spec_json = 'torn', resource_version = 99 WHERE id = '%s'",
		    site_id);
		bad |= sqlite3_exec(db, sql, NULL, NULL, NULL);
		for (i = 2; i < 2000 && !bad; i++) {
			snprintf(sql, sizeof(sql),
			         "INSERT INTO revisions (site_id, number, trigger, spec_hash,"
			         " created_at, message) VALUES ('%s', %d, 'apply', 'h', 1,"
			         " printf('%%.300c', 'x'))",
			         site_id, i);
			bad |= sqlite3_exec(db, sql, NULL, NULL, NULL);
		}
		c = bad ? 'E' : 'R';
		if (write(ready[1], &c, 1) != 1)
			_exit(2);
		for (;;)
			pause();
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	ck_assert_int_eq(c, 'R');
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	close(ready[0]);

	st = open_store();
	ck_assert_int_eq(lp_store_integrity_check(st, &err), LP_OK);
	ck_assert_int_eq(lp_store_site_get_by_id(&got, st, site_id, &err), LP_OK);
	ck_assert_str_eq(got->spec_json, "{\"n\":1}");
	ck_assert_int_eq(got->resource_version, 1);
	lp_store_site_free(got);
	ck_assert_int_eq(lp_store_revision_list(&revs, &n, st, site_id, 0, &err), LP_OK);
	ck_assert_uint_eq(n, 1);
	lp_store_revisions_free(revs, n);
	/* The dead writer's lock is gone: writing works at once. */
	ck_assert_int_eq(
	    lp_store_revision_request(NULL, st, site_id, 1, LP_TRIGGER_REDEPLOY, NULL, &err),
	    LP_OK);
	lp_store_close(st);
}
END_TEST

/* The same through the store's own write path: killed at a random point of a busy update loop. */
START_TEST(test_sigkill_store_writer)
{
	lp_store *st = open_store();
	lp_store_site *s = create_site(st, "crash2", 0), *got = NULL;
	char site_id[LP_STORE_ID_LEN];
	int ready[2], status = 0;
	lp_error err = {0};
	char c = 0;
	pid_t pid;

	snprintf(site_id, sizeof(site_id), "%s", s->id);
	lp_store_site_free(s);
	lp_store_close(st);
	ck_assert_int_eq(pipe(ready), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char json[64], hash[LP_SHA256_HEX_LEN];
		lp_store *w = NULL;
		int i;

		close(ready[0]);
		if (lp_store_open(&w, dbpath, NULL) != LP_OK)
			_exit(2);
		for (i = 1;; i++) {
			make_spec(json, sizeof(json), hash, i);
			if (lp_store_site_update_spec(NULL, w, site_id, 0, NULL, json, hash, 1,
			                              LP_TRIGGER_APPLY, NULL, NULL) != LP_OK)
				_exit(3);
			if (i == 20 && write(ready[1], "R", 1) != 1)
				_exit(4);
		}
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	lp_clock_sleep_ms(20);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	close(ready[0]);

	st = open_store();
	ck_assert_int_eq(lp_store_integrity_check(st, &err), LP_OK);
	ck_assert_int_eq(lp_store_site_get_by_id(&got, st, site_id, &err), LP_OK);
	/* Spec, generation and desired revision always moved together. */
	ck_assert_int_ge(spec_counter(got), 20);
	ck_assert_int_eq(got->generation, 1 + spec_counter(got));
	ck_assert_int_eq(got->desired_revision, 1 + spec_counter(got));
	lp_store_site_free(got);
	lp_store_close(st);
}
END_TEST

/* Several processes opening (and so migrating) one brand-new file at the same moment. */
/*
 * Opening a handle keeps the locks of the handles already open: a close() of the database file
 * dropped every POSIX lock of the process, another process's last close then took the exclusive
 * lock, checkpointed and deleted the WAL, and the first handle's writes went into the unlinked
 * file, seen by no one else (the apiserver's pool opens handles while others serve).
 */
START_TEST(test_open_keeps_other_handles_locks)
{
	lp_store *a = open_store(), *b;
	char cmd[4400];

	lp_store_site_free(create_site(a, "first", 0));
	b = open_store();
	/* another process opens, reads and closes: it must not find the file unused */
	LP_TEST_FMT(cmd, "sqlite3 %s 'SELECT count(*) FROM sites' >/dev/null", dbpath);
	ck_assert_int_eq(system(cmd), 0);
	lp_store_site_free(create_site(a, "second", 0));
	LP_TEST_FMT(
	    cmd, "test \"$(sqlite3 %s \"SELECT count(*) FROM sites WHERE name = 'second'\")\" = 1",
	    dbpath);
	ck_assert_msg(system(cmd) == 0, "another process does not see the first handle's write");
	lp_store_close(b);
	lp_store_close(a);
}
END_TEST

START_TEST(test_concurrent_first_open)
{
	enum { NPROC = 4 };
	lp_store_site *list = NULL;
	pid_t pids[NPROC];
	int go[2], i, status;
	lp_store *st;
	size_t n = 0;

	ck_assert_int_eq(pipe(go), 0);
	for (i = 0; i < NPROC; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			char json[64], hash[LP_SHA256_HEX_LEN], name[16];
			lp_store_site_new in = {.name = name, .spec_json = json, .spec_hash = hash};
			lp_store *w = NULL;
			char c;

			close(go[1]);
			if (read(go[0], &c, 1) != 0) /* released together when the pipe closes */
				_exit(5);
			snprintf(name, sizeof(name), "p%d", i);
			make_spec(json, sizeof(json), hash, i);
			if (lp_store_open(&w, dbpath, NULL) != LP_OK)
				_exit(2);
			if (lp_store_site_create(NULL, w, &in, NULL) != LP_OK)
				_exit(3);
			lp_store_close(w);
			_exit(0);
		}
	}
	close(go[0]);
	close(go[1]);
	for (i = 0; i < NPROC; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d: status %d",
		              i, status);
	}
	st = open_store();
	ck_assert_int_eq(lp_store_site_list(&list, &n, st, 0, NULL), LP_OK);
	ck_assert_uint_eq(n, NPROC);
	lp_store_sites_free(list, n);
	ck_assert_int_eq(raw_count("PRAGMA user_version"), SCHEMA_LATEST);
	lp_store_close(st);
}
END_TEST

/* A canonical-looking spec claiming domains (a JSON array's inside, "" for none), and its hash. */
static void domain_spec(char *json, size_t len, char hash[LP_SHA256_HEX_LEN], const char *list)
{
	snprintf(json, len, "{\"spec\":{\"domains\":[%s]}}", list);
	lp_crypto_sha256_hex(hash, json, strlen(json));
}

static int create_with_domains(lp_store_site **out, lp_store *st, const char *name,
                               const char *list, lp_error *err)
{
	char json[512], hash[LP_SHA256_HEX_LEN];
	lp_store_site_new in = {.name = name, .spec_json = json, .spec_hash = hash};

	domain_spec(json, sizeof(json), hash, list);
	return lp_store_site_create(out, st, &in, err);
}

static int set_domains(lp_store *st, const lp_store_site *s, const char *list, lp_error *err)
{
	char json[512], hash[LP_SHA256_HEX_LEN];

	domain_spec(json, sizeof(json), hash, list);
	return lp_store_site_update_spec(NULL, st, s->id, 0, NULL, json, hash, 1, LP_TRIGGER_APPLY,
	                                 "", err);
}

START_TEST(test_domains_one_site_each)
{
	lp_store *st = open_store();
	lp_store_site *a = NULL, *b = NULL, *got = NULL;
	lp_error err = {0};

	ck_assert_int_eq(
	    create_with_domains(&a, st, "alpha", "\"a.example.com\",\"b.example.com\"", &err),
	    LP_OK);
	/* A new site claiming a held domain is refused, naming the holder, and not created. */
	ck_assert_int_eq(
	    create_with_domains(NULL, st, "beta", "\"c.example.com\",\"b.example.com\"", &err),
	    LP_ECONFLICT);
	ck_assert_str_eq(err.message, "domain b.example.com belongs to site alpha");
	ck_assert_int_eq(lp_store_site_get_by_name(&got, st, "beta", NULL), LP_ENOTFOUND);
	ck_assert_int_eq(raw_count("SELECT count(*) FROM site_domains"), 2);
	ck_assert_int_eq(create_with_domains(&b, st, "beta", "\"c.example.com\"", &err), LP_OK);
	/* An update claiming one is refused too, and writes nothing. */
	ck_assert_int_eq(set_domains(st, b, "\"c.example.com\",\"a.example.com\"", &err),
	                 LP_ECONFLICT);
	ck_assert_str_eq(err.message, "domain a.example.com belongs to site alpha");
	ck_assert_int_eq(lp_store_site_get_by_id(&got, st, b->id, &err), LP_OK);
	ck_assert_int_eq(got->generation, 1);
	ck_assert_int_eq(got->resource_version, 1);
	lp_store_site_free(got);
	got = NULL;
	/* Re-applying a site's own domains is no conflict; dropping one frees it. */
	ck_assert_int_eq(set_domains(st, a, "\"a.example.com\"", &err), LP_OK);
	ck_assert_int_eq(set_domains(st, b, "\"c.example.com\",\"b.example.com\"", &err), LP_OK);
	ck_assert_int_eq(
	    raw_count("SELECT count(*) FROM site_domains d JOIN sites s ON s.id = d.site_id WHERE "
	              "s.name = 'beta'"),
	    2);
	/* A site being deleted lets its domains go at once; removing the row removes its rows. */
	ck_assert_int_eq(lp_store_site_mark_deleted(st, a->id, 0, &err), LP_OK);
	ck_assert_int_eq(
	    set_domains(st, b, "\"c.example.com\",\"b.example.com\",\"a.example.com\"", &err),
	    LP_OK);
	ck_assert_int_eq(lp_store_site_mark_deleted(st, b->id, 0, &err), LP_OK);
	ck_assert_int_eq(raw_count("SELECT count(*) FROM site_domains"), 0);
	ck_assert_int_eq(lp_store_site_delete(st, b->id, &err), LP_OK);
	/* A spec without domains (or no JSON at all) claims none. */
	ck_assert_int_eq(create_with_domains(NULL, st, "gamma", "", &err), LP_OK);
	ck_assert_int_eq(raw_count("SELECT count(*) FROM site_domains"), 0);
	lp_store_site_free(a);
	lp_store_site_free(b);
	lp_store_close(st);
}
END_TEST

/* Processes racing to claim one domain, each through its own handle: exactly one wins. */
START_TEST(test_domains_race)
{
	enum { NPROC = 6 };
	pid_t pids[NPROC];
	int go[2], i, status, won = 0, lost = 0;
	lp_store *st = open_store();
	lp_store_site **sites = calloc(NPROC, sizeof(*sites));

	ck_assert_ptr_nonnull(sites);
	/* Half create a site with the domain, half apply it to a site they already have. */
	for (i = 0; i < NPROC; i += 2) {
		char name[16];
		snprintf(name, sizeof(name), "have%d", i);
		ck_assert_int_eq(create_with_domains(&sites[i], st, name, "", NULL), LP_OK);
	}
	lp_store_close(st);
	ck_assert_int_eq(pipe(go), 0);
	for (i = 0; i < NPROC; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			lp_store *w = NULL;
			lp_error err = {0};
			char name[16], c;
			int rc;

			close(go[1]);
			if (read(go[0], &c, 1) != 0)
				_exit(5);
			if (lp_store_open(&w, dbpath, NULL) != LP_OK)
				_exit(2);
			snprintf(name, sizeof(name), "new%d", i);
			rc = sites[i]
			         ? set_domains(w, sites[i], "\"race.example.com\"", &err)
			         : create_with_domains(NULL, w, name, "\"race.example.com\"", &err);
			lp_store_close(w);
			_exit(rc == LP_OK ? 0 : rc == LP_ECONFLICT ? 1 : 3);
		}
	}
	close(go[0]);
	close(go[1]);
	for (i = 0; i < NPROC; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert(WIFEXITED(status));
		ck_assert_msg(WEXITSTATUS(status) <= 1, "child %d: status %d", i,
		              WEXITSTATUS(status));
		won += WEXITSTATUS(status) == 0;
		lost += WEXITSTATUS(status) == 1;
	}
	ck_assert_int_eq(won, 1);
	ck_assert_int_eq(lost, NPROC - 1);
	ck_assert_int_eq(raw_count("SELECT count(*) FROM site_domains"), 1);
	for (i = 0; i < NPROC; i++)
		lp_store_site_free(sites[i]);
	free(sites);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");
	TCase *slow = tcase_create("store-concurrency");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_domains_one_site_each);
	tcase_add_test(tc, test_open_migrate_reopen);
	tcase_add_test(tc, test_open_bad_file);
	tcase_add_test(tc, test_site_crud);
	tcase_add_test(tc, test_update_spec);
	tcase_add_test(tc, test_revisions);
	tcase_add_test(tc, test_revision_cancel);
	tcase_add_test(tc, test_supersede_pending);
	tcase_add_test(tc, test_prune_history);
	tcase_add_test(tc, test_migration_keeps_revisions);
	tcase_add_test(tc, test_draft_request_keeps_desired);
	tcase_add_test(tc, test_preview_children);
	tcase_add_test(tc, test_delete_cascades);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, test_events_cap);
	tcase_add_test(tc, test_webhook_dedupe);
	tcase_add_test(tc, test_tokens);
	tcase_add_test(tc, test_users_sessions);
	tcase_add_test(tc, test_enum_names);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(slow, setup, teardown);
	tcase_set_timeout(slow, 120);
	tcase_add_test(slow, test_busy_unavailable);
	tcase_add_test(slow, test_concurrent_first_open);
	tcase_add_test(slow, test_open_keeps_other_handles_locks);
	tcase_add_test(slow, test_domains_race);
	tcase_add_test(slow, test_two_processes_no_lost_update);
	tcase_add_test(slow, test_sigkill_mid_transaction);
	tcase_add_test(slow, test_sigkill_store_writer);
	suite_add_tcase(s, slow);
	return s;
}

int main(void)
{
	return lp_test_run(store_suite());
}
