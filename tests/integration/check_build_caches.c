/* check_build_caches.c: the controller's side of build disk use: the caches' platform cap, and
 * a build waiting for disk space as the store records it. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "controller/builds.h"
#include "controller/context.h"
#include "controller/gc.h"
#include "launchpad/config.h"
#include "launchpad/crypto.h"
#include "launchpad/fs.h"
#include "launchpad/spec.h"
#include "launchpad/store.h"
#include "tests/lib/testutil.h"

static char *g_root;
static char g_data[1024], g_instance[40], g_caches[1100];
static lp_config *g_cfg;
static lp_ctx *g_ctx;
static lp_builds *g_builds;
static lp_store *g_store;

static void on_done(void *ctx, const char *site)
{
	(void)ctx;
	(void)site;
}

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

static void setup(void)
{
	char *argv[] = {"test", NULL};
	char dbpath[1200];
	lp_error err = {0};

	g_root = lp_test_mkdtemp("lp-caches");
	ck_assert_ptr_nonnull(g_root);
	LP_TEST_FMT(g_data, "%s/data", g_root);
	LP_TEST_FMT(g_caches, "%s/cache/build", g_data);
	LP_TEST_FMT(g_instance, "tc%dx%d", (int)getppid(), (int)getpid());
	setenv("LAUNCHPAD_DATA_DIR", g_data, 1);
	setenv("LAUNCHPAD_INSTANCE", g_instance, 1);
	setenv("LAUNCHPAD_BUILD_IMAGE",
	       env_or("LAUNCHPAD_TEST_BUILD_IMAGE", "launchpad-test/node:local"), 1);
	setenv("LAUNCHPAD_SERVE_IMAGE",
	       env_or("LAUNCHPAD_TEST_SERVE_IMAGE", "launchpad-test/nginx:local"), 1);
	setenv("LAUNCHPAD_BUILD_CACHE_TOTAL_MB", "0", 1); /* set by each test once it is ready */
	ck_assert_int_eq(lp_config_new(&g_cfg, NULL, NULL, 1, argv, &err), LP_OK);
	lp_test_sh("mkdir -p '%s'", g_caches);
	ck_assert_msg(lp_ctx_new(&g_ctx, g_cfg, &err) == LP_OK, "%s", err.message);
	ck_assert_int_eq(lp_builds_new(&g_builds, g_ctx, on_done, NULL, &err), LP_OK);
	LP_TEST_FMT(dbpath, "%s/db/launchpad.db", g_data);
	ck_assert_msg(lp_store_open(&g_store, dbpath, &err) == LP_OK, "%s", err.message);
}

static void teardown(void)
{
	char cmd[2048];
	int st;

	ck_assert_int_eq(lp_builds_free(g_builds), 0);
	lp_store_close(g_store);
	lp_ctx_free(g_ctx);
	lp_config_free(g_cfg);
	LP_TEST_FMT(cmd,
	            "ids=$(docker ps -aq --filter label=launchpad.instance=%s); "
	            "[ -z \"$ids\" ] || docker rm -f $ids >/dev/null; "
	            "docker network rm %s-launchpad-build >/dev/null 2>&1; rm -rf '%s'",
	            g_instance, g_instance, g_root);
	st = system(cmd);
	(void)st;
	free(g_root);
}

/* A site cache of mib MiB last used age seconds ago. */
static void make_cache(const char *site, int mib, long age)
{
	lp_test_sh("mkdir -p '%s/%s/npm' && dd if=/dev/zero of='%s/%s/npm/blob' bs=1M count=%d "
	           "2>/dev/null && touch -d @%lld '%s/%s'",
	           g_caches, site, g_caches, site, mib, (long long)(time(NULL) - age), g_caches,
	           site);
}

static int cache_exists(const char *site)
{
	char path[1400];

	LP_TEST_FMT(path, "%s/%s", g_caches, site);
	return lp_fs_exists(path);
}

/* Over the platform cap, the least recently used caches go, whole, until it fits. */
START_TEST(t_oldest_caches_go_first)
{
	lp_error err = {0};

	make_cache("oldest", 6, 3000);
	make_cache("middle", 6, 2000);
	make_cache("newer", 6, 1000);
	make_cache("newest", 6, 10);
	lp_test_sh("mkdir -p '%s/.evict-gone/x' && touch '%s/.evict-gone/x/y'", g_caches,
	           g_caches); /* an eviction a crash cut short */
	g_cfg->build_cache_total_mb = 100;
	ck_assert_msg(lp_gc_build_caches(g_ctx, g_builds, &err) == LP_OK, "%s", err.message);
	ck_assert(cache_exists("oldest")); /* 24 MiB fit in 100: nothing goes */
	ck_assert(!cache_exists(".evict-gone"));
	g_cfg->build_cache_total_mb = 13;
	ck_assert_msg(lp_gc_build_caches(g_ctx, g_builds, &err) == LP_OK, "%s", err.message);
	ck_assert(!cache_exists("oldest"));
	ck_assert(!cache_exists("middle"));
	ck_assert(cache_exists("newer"));
	ck_assert(cache_exists("newest"));
}
END_TEST

/* Make the site's row and its upload: a build that runs until cancelled. */
static lp_site *busy_site(const char *name, char digest[80], char site_id[LP_STORE_ID_LEN])
{
	char dir[1200], zip[1300], hex[LP_SHA256_HEX_LEN], json_hash[LP_SHA256_HEX_LEN],
	    *data = NULL, *yaml = NULL, *json = NULL;
	lp_store_site_new in = {0};
	lp_site_list list = {0};
	lp_store_site *row = NULL;
	lp_spec_diags d;
	lp_error err = {0};
	lp_site *copy = NULL;
	size_t len = 0;

	LP_TEST_FMT(dir, "%s/src", g_root);
	LP_TEST_FMT(zip, "%s/src.zip", g_root);
	lp_test_sh("mkdir -p '%s' && echo hi > '%s/README' && cd '%s' && zip -qr '%s' .", dir, dir,
	           dir, zip);
	ck_assert_int_eq(lp_fs_read_file(&data, &len, zip, 1 << 24, NULL), LP_OK);
	lp_crypto_sha256_hex(hex, data, len);
	free(data);
	lp_test_sh("mkdir -p '%s/uploads/sha256' && cp '%s' '%s/uploads/sha256/%s.zip'", g_data,
	           zip, g_data, hex);
	lp_test_fmt(digest, 80, "sha256:%s", hex);
	ck_assert_int_ge(
	    asprintf(&yaml,
	             "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  name: %s\n"
	             "spec:\n  source:\n    archive:\n      digest: \"%s\"\n"
	             "  build:\n    command: \"echo started; sleep 300\"\n",
	             name, digest),
	    0);
	lp_spec_diags_init(&d);
	ck_assert_msg(lp_spec_parse(&list, yaml, strlen(yaml), NULL, &d, &err) == LP_OK, "%s",
	              err.message);
	ck_assert_int_eq(lp_site_to_json(&json, list.items[0], NULL), LP_OK);
	ck_assert_int_eq(lp_site_spec_hash(json_hash, list.items[0], NULL), LP_OK);
	in.name = name;
	in.spec_json = json;
	in.spec_hash = json_hash;
	in.trigger = LP_TRIGGER_CREATE;
	in.source = digest;
	ck_assert_msg(lp_store_site_create(&row, g_store, &in, &err) == LP_OK, "%s", err.message);
	ck_assert_int_eq(lp_site_dup(&copy, list.items[0], &err), LP_OK);
	lp_test_fmt(site_id, LP_STORE_ID_LEN, "%s", row->id);
	lp_store_site_free(row);
	free(json);
	free(yaml);
	lp_site_list_release(&list);
	lp_spec_diags_release(&d);
	return copy;
}

/* A site that is building keeps its cache, however old: the next one in age goes instead. */
START_TEST(t_building_site_keeps_its_cache)
{
	char digest[80], log[1400], id[LP_STORE_ID_LEN];
	lp_site *spec = busy_site("busy", digest, id);
	lp_error err = {0};
	int i;

	make_cache("busy", 6, 100);
	make_cache("idle", 6, 2000);
	make_cache("recent", 6, 10);
	ck_assert_msg(lp_builds_start(g_builds, "busy", spec, 1, digest, &err) == LP_OK, "%s",
	              err.message);
	LP_TEST_FMT(log, "%s/logs/busy/1.log", g_data);
	for (i = 0; i < 600; i++) {
		char *text = NULL;
		size_t len;
		int started = lp_fs_read_file(&text, &len, log, 1 << 20, NULL) == LP_OK &&
		              strstr(text, " started\n") != NULL;

		free(text);
		if (started)
			break;
		usleep(100000);
	}
	ck_assert_int_lt(i, 600);
	/* the build marked its cache used; make it the oldest of all */
	lp_test_sh("touch -d @%lld '%s/busy'", (long long)(time(NULL) - 5000), g_caches);
	g_cfg->build_cache_total_mb = 13;
	ck_assert_msg(lp_gc_build_caches(g_ctx, g_builds, &err) == LP_OK, "%s", err.message);
	ck_assert(cache_exists("busy"));
	ck_assert(!cache_exists("idle"));
	ck_assert(cache_exists("recent"));
	lp_builds_cancel_all(g_builds);
	ck_assert_int_eq(lp_builds_wait(g_builds, 60000), LP_OK);
	lp_site_free(spec);
}
END_TEST

/* A build below the free-space floor says so in its revision's message and in an event. */
START_TEST(t_waiting_for_disk_is_recorded)
{
	char digest[80], id[LP_STORE_ID_LEN], want[128];
	lp_site *spec = busy_site("patient", digest, id);
	lp_store_revision *rev = NULL;
	lp_store_event *ev = NULL;
	lp_error err = {0};
	size_t nev = 0, k;
	int i, waiting = 0, event = 0;

	g_cfg->min_free_mb = 1000000; /* a terabyte: more than this disk has free */
	ck_assert_msg(lp_builds_start(g_builds, "patient", spec, 1, digest, &err) == LP_OK, "%s",
	              err.message);
	LP_TEST_FMT(want, " MiB free, floor %d MiB", g_cfg->min_free_mb);
	for (i = 0; i < 300 && !waiting; i++) {
		ck_assert_int_eq(lp_store_revision_get(&rev, g_store, id, 1, &err), LP_OK);
		waiting = rev->state == LP_REV_BUILDING && rev->message &&
		          !strncmp(rev->message, "waiting for disk space: ", 24) &&
		          strstr(rev->message, want) != NULL;
		lp_store_revision_free(rev);
		rev = NULL;
		if (!waiting)
			usleep(100000);
	}
	ck_assert_msg(waiting, "the revision never said it was waiting for disk space");
	ck_assert_int_eq(lp_store_event_list(&ev, &nev, g_store, id, 0, &err), LP_OK);
	for (k = 0; k < nev; k++)
		event |= !strcmp(ev[k].reason, "WaitingForDisk") && ev[k].type == LP_EVENT_WARNING;
	lp_store_events_free(ev, nev);
	ck_assert(event);
	ck_assert_int_eq(lp_builds_inflight(g_builds, "patient"), 1); /* waiting, not failed */
	lp_builds_cancel_all(g_builds);
	ck_assert_int_eq(lp_builds_wait(g_builds, 60000), LP_OK);
	lp_site_free(spec);
}
END_TEST

static Suite *caches_suite(void)
{
	Suite *s = suite_create("build_caches");
	TCase *tc = tcase_create("caches");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, t_oldest_caches_go_first);
	tcase_add_test(tc, t_building_site_keeps_its_cache);
	tcase_add_test(tc, t_waiting_for_disk_is_recorded);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	lp_test_require_docker();
	return lp_test_run(caches_suite());
}
