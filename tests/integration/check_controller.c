/* check_controller.c: the reconcile loop against the real Docker engine, store and filesystem. */
#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "launchpad/buf.h"
#include "launchpad/config.h"
#include "controller/controller.h"
#include "controller/firewall.h"
#include "controller/nginx_conf.h"
#include "launchpad/crypto.h"
#include "launchpad/docker.h"
#include "launchpad/fs.h"
#include "launchpad/names.h"
#include "launchpad/spec.h"
#include "launchpad/store.h"
#include "tests/lib/platform.h"
#include "tests/lib/testutil.h"

static char *g_root;
static char g_data[1024];
static char g_instance[40];
static lp_config *g_cfg;
static lp_docker *g_docker;
static lp_store *g_store;

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void setup(void)
{
	char *argv[] = {"test", NULL};
	char dbpath[1200];
	lp_error err = {0};

	g_root = lp_test_mkdtemp("lp-ctrl");
	ck_assert_ptr_nonnull(g_root);
	snprintf(g_data, sizeof(g_data), "%s/data", g_root);
	/* The runner's pid first, so main() can sweep what a failed test (no teardown) left. */
	snprintf(g_instance, sizeof(g_instance), "t%dx%d", (int)getppid(), (int)getpid());
	setenv("LAUNCHPAD_DATA_DIR", g_data, 1);
	setenv("LAUNCHPAD_INSTANCE", g_instance, 1);
	setenv("LAUNCHPAD_SERVE_IMAGE",
	       env_or("LAUNCHPAD_TEST_SERVE_IMAGE", "launchpad-test/nginx:local"), 1);
	setenv("LAUNCHPAD_BUILD_IMAGE",
	       env_or("LAUNCHPAD_TEST_BUILD_IMAGE", "launchpad-test/node:local"), 1);
	setenv("LAUNCHPAD_RESYNC_SECONDS", "30", 1);
	setenv("LAUNCHPAD_LOG_LEVEL", "warn", 1);
	ck_assert_int_eq(lp_config_new(&g_cfg, NULL, NULL, 1, argv, &err), LP_OK);
	lp_log_setup(g_cfg->log_level, LP_LOG_TEXT, 2);
	ck_assert_int_eq(lp_docker_new(&g_docker, NULL, &err), LP_OK);
	snprintf(dbpath, sizeof(dbpath), "%s/db/launchpad.db", g_data);
	ck_assert_msg(lp_store_open(&g_store, dbpath, &err) == LP_OK, "%s", err.message);
}

/* Remove every container and network of this test's instance, whatever happened. */
static void teardown(void)
{
	char cmd[2048], *fw = lp_test_firewall_cleanup_command(g_instance);
	int st;

	snprintf(cmd, sizeof(cmd),
	         "ids=$(docker ps -aq --filter label=launchpad.instance=%s); "
	         "[ -z \"$ids\" ] || docker rm -f $ids >/dev/null; "
	         /* the foreign install's container a failed self-heal test left */
	         "docker rm -f %s-foreign >/dev/null 2>&1; "
	         "docker network rm %s-launchpad-sites %s-launchpad-build %s-launchpad-apps "
	         ">/dev/null 2>&1; "
	         "%s; rm -rf '%s'",
	         g_instance, g_instance, g_instance, g_instance, g_instance, fw ? fw : "true",
	         g_root);
	free(fw);
	st = system(cmd);
	(void)st;
	lp_store_close(g_store);
	lp_docker_free(g_docker);
	lp_config_free(g_cfg);
	free(g_root);
}

/* Zip a one-page site whose index.html says body; return its digest "sha256:<hex>". */
static void make_upload(char digest[80], const char *body)
{
	char dir[1200], zip[1300], hex[LP_SHA256_HEX_LEN], dst[1400], *data = NULL;
	size_t len = 0;
	static int n;

	snprintf(dir, sizeof(dir), "%s/src%d", g_root, ++n);
	snprintf(zip, sizeof(zip), "%s/src%d.zip", g_root, n);
	lp_test_sh("mkdir -p '%s/assets' && printf '%%s' '%s' > '%s/index.html' && "
	           "printf 'body{}' > '%s/assets/app.css' && cd '%s' && zip -qr '%s' .",
	           dir, body, dir, dir, dir, zip);
	ck_assert_int_eq(lp_fs_read_file(&data, &len, zip, 1 << 24, NULL), LP_OK);
	lp_crypto_sha256_hex(hex, data, len);
	free(data);
	snprintf(dst, sizeof(dst), "%s/uploads/sha256", g_data);
	lp_test_sh("mkdir -p '%s' && cp '%s' '%s/%s.zip'", dst, zip, dst, hex);
	snprintf(digest, 80, "sha256:%s", hex);
}

/* Parse a manifest and store it as a new site; returns the site id (static buffer). */
static const char *create_site(const char *yaml, const char *source)
{
	static char id[LP_STORE_ID_LEN];
	lp_site_list list = {0};
	lp_spec_diags d;
	lp_store_site_new in = {0};
	lp_store_site *row = NULL;
	char *json = NULL, hash[LP_SHA256_HEX_LEN];
	lp_error err = {0};

	lp_spec_diags_init(&d);
	ck_assert_msg(lp_spec_parse(&list, yaml, strlen(yaml), NULL, &d, &err) == LP_OK, "%s",
	              err.message);
	ck_assert_int_eq(lp_site_to_json(&json, list.items[0], NULL), LP_OK);
	ck_assert_int_eq(lp_site_spec_hash(hash, list.items[0], NULL), LP_OK);
	in.name = list.items[0]->name;
	in.spec_json = json;
	in.spec_hash = hash;
	in.trigger = LP_TRIGGER_CREATE;
	in.source = source;
	ck_assert_msg(lp_store_site_create(&row, g_store, &in, &err) == LP_OK, "%s", err.message);
	snprintf(id, sizeof(id), "%s", row->id);
	lp_store_site_free(row);
	free(json);
	lp_site_list_release(&list);
	lp_spec_diags_release(&d);
	return id;
}

/* The id of the site called name (static buffer). */
static const char *create_site_id(const char *name)
{
	static char id[LP_STORE_ID_LEN];
	lp_store_site *row = NULL;

	ck_assert_int_eq(lp_store_site_get_by_name(&row, g_store, name, NULL), LP_OK);
	LP_TEST_FMT(id, "%s", row->id);
	lp_store_site_free(row);
	return id;
}

static void update_site(const char *id, const char *yaml, const char *source)
{
	lp_site_list list = {0};
	lp_spec_diags d;
	char *json = NULL, hash[LP_SHA256_HEX_LEN];
	lp_error err = {0};

	lp_spec_diags_init(&d);
	ck_assert_int_eq(lp_spec_parse(&list, yaml, strlen(yaml), NULL, &d, &err), LP_OK);
	ck_assert_int_eq(lp_site_to_json(&json, list.items[0], NULL), LP_OK);
	ck_assert_int_eq(lp_site_spec_hash(hash, list.items[0], NULL), LP_OK);
	ck_assert_msg(lp_store_site_update_spec(NULL, g_store, id, 0, NULL, json, hash, 1,
	                                        LP_TRIGGER_UPLOAD, source, &err) == LP_OK,
	              "%s", err.message);
	free(json);
	lp_site_list_release(&list);
	lp_spec_diags_release(&d);
}

static char *archive_yaml(const char *name, const char *digest)
{
	char *y = NULL;

	ck_assert_int_ge(
	    asprintf(&y,
	             "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  name: %s\n"
	             "spec:\n  source:\n    archive:\n      digest: \"%s\"\n",
	             name, digest),
	    0);
	return y;
}

static size_t on_body(char *p, size_t sz, size_t n, void *ctx)
{
	return lp_buf_append(ctx, p, sz * n) == LP_OK ? sz * n : 0;
}

/* GET http://<ip of deploy-<site>>/path; returns the HTTP status, body into out (or -1). */
static long fetch(lp_buf *out, const char *site, const char *path)
{
	char name[300], url[600];
	lp_docker_container *c = NULL;
	long status = -1;
	CURL *h;
	size_t i;

	lp_buf_reset(out);
	snprintf(name, sizeof(name), "%s-deploy-%s", g_instance, site);
	if (lp_docker_container_inspect(&c, g_docker, name, NULL) != LP_OK)
		return -1;
	for (i = 0; i < c->nnetworks; i++)
		if (c->networks[i].value && *c->networks[i].value)
			snprintf(url, sizeof(url), "http://%s:%d%s", c->networks[i].value,
			         LP_SERVE_PORT, path);
	lp_docker_container_free(c);
	h = curl_easy_init();
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 2000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	return status;
}

/* Poll until the site serves body at / (or timeout_ms): returns ms waited, or -1. */
static int64_t wait_serving(const char *site, const char *body, int timeout_ms)
{
	int64_t t0 = now_ms();
	lp_buf b;

	lp_buf_init(&b, 1 << 20);
	while (now_ms() - t0 < timeout_ms) {
		if (fetch(&b, site, "/") == 200 && !strcmp(lp_buf_cstr(&b), body)) {
			lp_buf_release(&b);
			return now_ms() - t0;
		}
		usleep(50 * 1000);
	}
	lp_buf_release(&b);
	return -1;
}

/* 1 when the controller reports the site live at its desired revision. */
static int live_at_desired(const char *id)
{
	lp_store_status *s = NULL;
	lp_store_site *site = NULL;
	int ok = 0;

	if (lp_store_status_get(&s, g_store, id, NULL) == LP_OK &&
	    lp_store_site_get(&site, g_store, id, NULL) == LP_OK)
		ok = s->phase == LP_PHASE_LIVE && s->current_revision == site->desired_revision;
	lp_store_status_free(s);
	lp_store_site_free(site);
	return ok;
}

/* Drive reconciles by hand until the site is live (builds run on their own threads). */
static void converge(lp_controller *c, const char *name, const char *id)
{
	int i;

	for (i = 0; i < 200; i++) {
		lp_reconcile_result r;
		lp_error err = {0};
		int rc = lp_controller_reconcile(&r, c, name, &err);
		ck_assert_msg(rc == LP_OK, "reconcile: %s", err.message);
		if (live_at_desired(id))
			break;
		lp_controller_wait_builds(c, 60000);
	}
	ck_assert(live_at_desired(id));
}

/* PRAGMA data_version of db: it changes when another connection commits a change. */
static long data_version(sqlite3 *db)
{
	sqlite3_stmt *q = NULL;
	long v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA data_version", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		v = (long)sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

static char *container_id(const char *site)
{
	char name[300];
	lp_docker_container *c = NULL;
	char *id = NULL;

	snprintf(name, sizeof(name), "%s-deploy-%s", g_instance, site);
	if (lp_docker_container_inspect(&c, g_docker, name, NULL) == LP_OK)
		id = strdup(c->id);
	lp_docker_container_free(c);
	return id;
}

START_TEST(test_live_steady_state_and_content_change)
{
	lp_controller *c = NULL;
	lp_controller_stats before, after;
	lp_reconcile_result r;
	char digest[80], digest2[80], *yaml, *id1, *id2, path[1400];
	const char *id;
	sqlite3 *db = NULL;
	long version;
	size_t n = 0;
	lp_buf b;
	lp_error err = {0};

	make_upload(digest, "version one");
	yaml = archive_yaml("blog", digest);
	id = create_site(yaml, digest);
	free(yaml);
	ck_assert_int_eq(lp_controller_new(&c, g_cfg, &err), LP_OK);
	ck_assert_int_eq(lp_controller_gc(c, &err), LP_OK);
	converge(c, "blog", id);

	/* live: the container serves index.html to us over the network */
	lp_buf_init(&b, 1 << 20);
	ck_assert_int_eq(fetch(&b, "blog", "/"), 200);
	ck_assert_str_eq(lp_buf_cstr(&b), "version one");
	ck_assert_int_eq(fetch(&b, "blog", "/assets/app.css"), 200);
	ck_assert_int_eq(fetch(&b, "blog", "/missing"), 404);

	/* steady state: two more passes, zero Docker writes, zero file writes, no status write */
	ck_assert_int_eq(lp_controller_reconcile(&r, c, "blog", &err), LP_OK);
	lp_controller_stats_get(&before, c);
	ck_assert_int_eq(lp_controller_reconcile(&r, c, "blog", &err), LP_OK);
	ck_assert_int_eq(r.outcome, LP_RECONCILE_OK);
	ck_assert_int_eq(lp_controller_reconcile(&r, c, "blog", &err), LP_OK);
	lp_controller_stats_get(&after, c);
	ck_assert_uint_eq(after.docker_writes, before.docker_writes);
	ck_assert_uint_eq(after.file_writes, before.file_writes);
	ck_assert_uint_eq(after.status_writes, before.status_writes);
	ck_assert_uint_eq(after.builds_started, before.builds_started);

	/*
	 * a resync pass of the steady state: one Docker call (the container list) and no write of
	 * any kind, to the engine, the files or the store (whose data_version, read on a connection
	 * of its own, moves with any other connection's commit)
	 */
	LP_TEST_FMT(path, "%s/db/launchpad.db", g_data);
	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(lp_controller_resync_pass(&n, c, &err), LP_OK);
	version = data_version(db);
	ck_assert_int_ge(version, 0);
	lp_controller_stats_get(&before, c);
	ck_assert_int_eq(lp_controller_resync_pass(&n, c, &err), LP_OK);
	lp_controller_stats_get(&after, c);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(after.docker_reads - before.docker_reads, 1);
	ck_assert_uint_eq(after.docker_writes, before.docker_writes);
	ck_assert_uint_eq(after.file_writes, before.file_writes);
	ck_assert_uint_eq(after.status_writes, before.status_writes);
	ck_assert_int_eq(data_version(db), version);
	sqlite3_close(db);

	/* a content change goes live as revision 2 in the SAME container */
	id1 = container_id("blog");
	make_upload(digest2, "version two");
	yaml = archive_yaml("blog", digest2);
	update_site(id, yaml, digest2);
	free(yaml);
	converge(c, "blog", id);
	ck_assert_int_ge(wait_serving("blog", "version two", 5000), 0);
	id2 = container_id("blog");
	ck_assert_str_eq(id1, id2);
	snprintf(path, sizeof(path), "%s/sites/blog/revisions/2/index.html", g_data);
	ck_assert(lp_fs_exists(path));
	free(id1);
	free(id2);
	lp_buf_release(&b);
	lp_controller_free(c);
}
END_TEST

/* The first line a shell command prints, into out ("" when none). */
static void sh_line(char *out, size_t outlen, const char *cmd)
{
	FILE *f = popen(cmd, "r");

	out[0] = '\0';
	ck_assert_ptr_nonnull(f);
	if (fgets(out, (int)outlen, f) == NULL)
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	pclose(f);
}

/*
 * The serve container runs nginx unprivileged: uid 101 from its first instruction, no
 * capability at all, no-new-privileges, a read-only root with one tmpfs, listening on 8080.
 */
START_TEST(test_serve_container_unprivileged)
{
	lp_controller *c = NULL;
	char digest[80], *yaml, cmd[1024], line[512], name[300];
	const char *id;
	lp_error err = {0};

	make_upload(digest, "no root here");
	yaml = archive_yaml("plain", digest);
	id = create_site(yaml, digest);
	free(yaml);
	ck_assert_int_eq(lp_controller_new(&c, g_cfg, &err), LP_OK);
	converge(c, "plain", id);
	/* Served on LP_SERVE_PORT (live means running: nginx may take a moment to listen). */
	ck_assert_int_ge(wait_serving("plain", "no root here", 10000), 0);
	LP_TEST_FMT(name, "%s-deploy-plain", g_instance);

	snprintf(
	    cmd, sizeof(cmd),
	    "docker inspect -f '{{.Config.User}} {{.HostConfig.CapDrop}} {{.HostConfig.CapAdd}} "
	    "{{.HostConfig.ReadonlyRootfs}} {{.HostConfig.SecurityOpt}} {{json "
	    "(index .HostConfig.Tmpfs)}}' %s",
	    name);
	sh_line(line, sizeof(line), cmd);
	ck_assert_str_eq(line, "101:101 [ALL] [] true [no-new-privileges] "
	                       "{\"/tmp\":\"rw,noexec,nosuid,nodev,size=16m\"}");
	/* Every process of it (master and workers): uid 101, no effective capability. */
	snprintf(cmd, sizeof(cmd),
	         "docker exec %s sh -c 'for s in /proc/[0-9]*/status; do "
	         "awk \"/^Uid:/ {u=\\$2} /^CapEff:/ {c=\\$2} /^NoNewPrivs:/ {n=\\$2} END {print u, "
	         "c, n}\" $s; done' | sort -u | tr '\\n' ';'",
	         name);
	sh_line(line, sizeof(line), cmd);
	ck_assert_str_eq(line, "101 0000000000000000 1;");
	/* The root is read-only; only the tmpfs takes writes. */
	snprintf(cmd, sizeof(cmd),
	         "docker exec %s sh -c 'touch /etc/nginx/x 2>/dev/null && echo rootfs-writable; "
	         "touch /tmp/x && echo tmp-ok'",
	         name);
	sh_line(line, sizeof(line), cmd);
	ck_assert_str_eq(line, "tmp-ok");
	lp_controller_free(c);
}
END_TEST

struct loop {
	lp_controller *c;
	pthread_t t;
};

static void *loop_main(void *arg)
{
	struct loop *l = arg;
	lp_error err = {0};

	lp_controller_run(l->c, 5, &err);
	return NULL;
}

static void loop_start(struct loop *l)
{
	lp_error err = {0};

	ck_assert_int_eq(lp_controller_new(&l->c, g_cfg, &err), LP_OK);
	pthread_create(&l->t, NULL, loop_main, l);
}

static void loop_stop(struct loop *l)
{
	lp_controller_stop(l->c);
	pthread_join(l->t, NULL);
	lp_controller_free(l->c);
}

START_TEST(test_self_heal_and_foreign_container)
{
	struct loop l;
	char digest[80], *yaml, cmd[1024];
	int64_t waited;
	int i;

	make_upload(digest, "heal me");
	yaml = archive_yaml("heal", digest);
	create_site(yaml, digest);
	free(yaml);
	/* a container of another install that claims the same site */
	lp_test_sh("docker run -d --name %s-foreign --label launchpad.instance=someone-else "
	           "--label launchpad.site=heal --network none %s sleep 600 >/dev/null",
	           g_instance, env_or("LAUNCHPAD_TEST_BUILD_IMAGE", "launchpad-test/node:local"));
	loop_start(&l);
	ck_assert_int_ge(wait_serving("heal", "heal me", 60000), 0);

	for (i = 0; i < 3; i++) {
		snprintf(cmd, sizeof(cmd), "docker rm -f %s-deploy-heal >/dev/null", g_instance);
		lp_test_sh("%s", cmd);
		/* 10 s is a hang guard, not a speed goal (bench_controller measures self-heal) */
		waited = wait_serving("heal", "heal me", 10000);
		ck_assert_msg(waited >= 0, "not healed within 10 s");
		printf("self-heal %d: %lld ms\n", i + 1, (long long)waited);
	}
	lp_test_sh("docker stop -t 1 %s-deploy-heal >/dev/null", g_instance);
	ck_assert_int_ge(wait_serving("heal", "heal me", 5000), 0);
	loop_stop(&l);
	/* the foreign container was never touched */
	lp_test_sh("docker inspect -f '{{.State.Running}}' %s-foreign | grep -q true", g_instance);
	lp_test_sh("docker rm -f %s-foreign >/dev/null", g_instance);
}
END_TEST

START_TEST(test_delete_removes_everything)
{
	lp_controller *c = NULL;
	lp_reconcile_result r;
	lp_store_site *row = NULL;
	char digest[80], *yaml, path[1400], cmd[1024];
	const char *id;
	lp_error err = {0};
	const char *dirs[] = {"sites/gone", "conf/gone.nginx.conf", "logs/gone"};
	size_t i;
	FILE *p;
	char line[256] = "";

	make_upload(digest, "bye");
	yaml = archive_yaml("gone", digest);
	id = create_site(yaml, digest);
	free(yaml);
	ck_assert_int_eq(lp_controller_new(&c, g_cfg, &err), LP_OK);
	converge(c, "gone", id);
	ck_assert_int_eq(lp_store_site_mark_deleted(g_store, id, 0, &err), LP_OK);
	ck_assert_int_eq(lp_controller_reconcile(&r, c, "gone", &err), LP_OK);
	ck_assert_int_eq(lp_store_site_get(&row, g_store, id, NULL), LP_ENOTFOUND);
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", g_data, dirs[i]);
		ck_assert_msg(!lp_fs_exists(path), "%s still exists", path);
	}
	snprintf(cmd, sizeof(cmd), "docker ps -aq --filter label=launchpad.instance=%s | wc -l",
	         g_instance);
	p = popen(cmd, "r");
	ck_assert(fgets(line, sizeof(line), p) != NULL);
	pclose(p);
	ck_assert_int_eq(atoi(line), 0);
	lp_controller_free(c);
}
END_TEST

/*
 * The reconcile's serve step hands the site's containers to the app log pump: an app container
 * (made here, as controller/apps.c labels one) gets its output into logs/<site>/app.log, one
 * follower whatever the number of passes; the site's deletion takes the container and the log.
 */
START_TEST(test_app_logs_pumped_and_removed)
{
	lp_controller *c = NULL;
	lp_reconcile_result r;
	lp_controller_stats st0, st1;
	char digest[80], *yaml, path[1400], cname[300], *log = NULL, *cid = NULL;
	const lp_docker_kv labels[] = {{LP_LABEL_INSTANCE, g_instance},
	                               {LP_LABEL_SITE, "pumped"},
	                               {LP_LABEL_ROLE, LP_ROLE_APP},
	                               {LP_LABEL_REVISION, "1"}};
	const char *cmd[] = {"sh", "-c",
	                     "echo hello from the app; echo oops >&2; trap 'exit 0' TERM;"
	                     " while :; do sleep 0.1; done",
	                     NULL};
	lp_docker_create_config cc = {.image = "launchpad-test/debian:local",
	                              .cmd = cmd,
	                              .labels = labels,
	                              .nlabels = 4,
	                              .network = "none"};
	const char *id;
	lp_error err = {0};
	int64_t until;
	int i;

	make_upload(digest, "app");
	yaml = archive_yaml("pumped", digest);
	id = create_site(yaml, digest);
	free(yaml);
	ck_assert_int_eq(lp_controller_new(&c, g_cfg, &err), LP_OK);
	converge(c, "pumped", id);
	LP_TEST_FMT(cname, "%s-app-pumped-test", g_instance);
	cc.name = cname;
	ck_assert_msg(lp_docker_container_create(&cid, g_docker, &cc, &err) == LP_OK, "%s",
	              err.message);
	ck_assert_int_eq(lp_docker_container_start(g_docker, cid, &err), LP_OK);
	ck_assert_int_eq(lp_controller_resync_pass(NULL, c, &err), LP_OK);
	LP_TEST_FMT(path, "%s/logs/pumped/app.log", g_data);
	for (until = now_ms() + 30000;; usleep(50000)) {
		free(log);
		log = NULL;
		if (lp_fs_read_file(&log, NULL, path, 1 << 20, NULL) == LP_OK &&
		    strstr(log, " r1 stdout hello from the app\n") &&
		    strstr(log, " r1 stderr oops\n"))
			break;
		ck_assert_msg(now_ms() < until, "app.log: %s", log ? log : "(none)");
	}
	/* more passes: the follower streams on, nothing is written again */
	lp_controller_stats_get(&st0, c);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(lp_controller_reconcile(&r, c, "pumped", &err), LP_OK);
	lp_controller_stats_get(&st1, c);
	ck_assert_uint_eq(st1.docker_writes, st0.docker_writes);
	free(log);
	log = NULL;
	ck_assert_int_eq(lp_fs_read_file(&log, NULL, path, 1 << 20, NULL), LP_OK);
	ck_assert_msg(!strstr(strstr(log, "hello from the app") + 1, "hello from the app"),
	              "a line twice: %s", log);
	ck_assert_int_eq(lp_store_site_mark_deleted(g_store, id, 0, &err), LP_OK);
	ck_assert_int_eq(lp_controller_reconcile(&r, c, "pumped", &err), LP_OK);
	LP_TEST_FMT(path, "%s/logs/pumped", g_data);
	ck_assert_msg(!lp_fs_exists(path), "%s still exists", path);
	lp_controller_free(c);
	free(log);
	free(cid);
}
END_TEST

/* Set the mtime of the upload of digest ("sha256:<hex>") secs ago; 1 when it exists. */
static int age_upload(const char *digest, int secs)
{
	char path[1400];
	struct timespec t[2];

	LP_TEST_FMT(path, "%s/uploads/sha256/%s.zip", g_data, digest + strlen("sha256:"));
	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= secs;
	t[1] = t[0];
	return utimensat(AT_FDCWD, path, t, 0) == 0;
}

static int upload_exists(const char *digest)
{
	char path[1400];

	LP_TEST_FMT(path, "%s/uploads/sha256/%s.zip", g_data, digest + strlen("sha256:"));
	return lp_fs_exists(path);
}

/*
 * Issue 14.5: an archive no site and no revision names goes once it is older than
 * --archive-grace (3600 s by default); one a site or an old revision names stays, and so does a
 * fresh one (a request may be about to name it). A deleted site's archive goes with time.
 */
START_TEST(test_archive_gc)
{
	lp_controller *c = NULL;
	lp_reconcile_result r;
	char kept[80], older[80], orphan[80], fresh[80], gone[80], *yaml;
	const char *id;
	lp_error err = {0};

	make_upload(kept, "kept");
	make_upload(older, "older");
	make_upload(orphan, "orphan");
	make_upload(fresh, "fresh");
	make_upload(gone, "gone");
	yaml = archive_yaml("gc-site", older);
	id = create_site(yaml, older);
	free(yaml);
	yaml = archive_yaml("gc-site", kept);
	update_site(id, yaml, kept); /* revision 2 names kept; revision 1 still names older */
	free(yaml);
	yaml = archive_yaml("gc-gone", gone);
	create_site(yaml, gone);
	free(yaml);
	ck_assert(age_upload(kept, 7200) && age_upload(older, 7200) && age_upload(orphan, 7200) &&
	          age_upload(gone, 7200));
	ck_assert_int_eq(lp_controller_new(&c, g_cfg, &err), LP_OK);
	ck_assert_msg(lp_controller_gc(c, &err) == LP_OK, "%s", err.message);
	ck_assert_msg(!upload_exists(orphan), "an archive nothing names survived the gc");
	ck_assert(upload_exists(kept));
	ck_assert(upload_exists(older));
	ck_assert(upload_exists(fresh));
	ck_assert(upload_exists(gone));
	/* the site goes (finalizer), its archive with the next gc past the grace */
	ck_assert_int_eq(lp_store_site_mark_deleted(g_store, create_site_id("gc-gone"), 0, &err),
	                 LP_OK);
	ck_assert_int_eq(lp_controller_reconcile(&r, c, "gc-gone", &err), LP_OK);
	ck_assert_int_eq(lp_controller_gc(c, &err), LP_OK);
	ck_assert(!upload_exists(gone));
	ck_assert(upload_exists(kept) && upload_exists(older) && upload_exists(fresh));
	lp_controller_free(c);
}
END_TEST

static char *build_yaml(const char *name, const char *url, const char *command, int timeout)
{
	char *y = NULL;

	ck_assert_int_ge(
	    asprintf(&y,
	             "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  name: %s\n"
	             "spec:\n  source:\n    archive:\n      digest: \"%s\"\n"
	             "  build:\n    command: \"%s\"\n    timeoutSeconds: %d\n",
	             name, url, command, timeout),
	    0);
	return y;
}

START_TEST(test_hung_build_does_not_delay_healing)
{
	struct loop l;
	char digest[80], digest2[80], *yaml;
	int64_t waited;

	make_upload(digest, "steady");
	yaml = archive_yaml("steady", digest);
	create_site(yaml, digest);
	free(yaml);
	make_upload(digest2, "slow");
	yaml = build_yaml("slow", digest2, "sleep 600", 900);
	create_site(yaml, digest2);
	free(yaml);
	loop_start(&l);
	ck_assert_int_ge(wait_serving("steady", "steady", 60000), 0);
	sleep(2); /* the slow build is running by now */
	lp_test_sh("docker rm -f %s-deploy-steady >/dev/null", g_instance);
	waited = wait_serving("steady", "steady", 10000);
	ck_assert_msg(waited >= 0, "not healed within 10 s");
	/* healed while the hung build still runs: the heal did not wait for it */
	lp_test_sh(
	    "docker ps -q --filter label=launchpad.instance=%s --filter label=launchpad.site=slow "
	    "--filter label=launchpad.role=build | grep -q .",
	    g_instance);
	printf("healed beside a hung build after %lld ms\n", (long long)waited);
	loop_stop(&l); /* cancels the hung build after the grace period */
}
END_TEST

/* A newer desired revision supersedes a build still running for an older one. */
START_TEST(test_newer_revision_cancels_build)
{
	struct loop l;
	char digest[80], *yaml;
	lp_store_revision *rev = NULL;
	const char *id;
	int i, state = -1;

	make_upload(digest, "unused");
	yaml = build_yaml("superseded", digest, "sleep 600", 900);
	id = create_site(yaml, digest);
	free(yaml);
	loop_start(&l);
	for (i = 0; i < 600; i++) { /* until revision 1's build container runs */
		if (lp_test_count_lines("docker ps -q --filter label=launchpad.instance=%s "
		                        "--filter label=launchpad.role=build",
		                        g_instance) > 0)
			break;
		usleep(100 * 1000);
	}
	ck_assert_int_lt(i, 600);
	yaml =
	    build_yaml("superseded", digest, "mkdir -p dist; echo second > dist/index.html", 900);
	update_site(id, yaml, digest);
	free(yaml);
	ck_assert_int_ge(wait_serving("superseded", "second\n", 60000), 0);
	for (i = 0; i < 100 && state != LP_REV_SUPERSEDED; i++) {
		lp_store_revision_free(rev);
		rev = NULL;
		if (lp_store_revision_get(&rev, g_store, id, 1, NULL) == LP_OK)
			state = rev->state;
		usleep(100 * 1000);
	}
	lp_store_revision_free(rev);
	ck_assert_int_eq(state, LP_REV_SUPERSEDED);
	ck_assert_int_eq(lp_test_count_lines("docker ps -aq --filter label=launchpad.instance=%s "
	                                     "--filter label=launchpad.role=build",
	                                     g_instance),
	                 0);
	loop_stop(&l);
}
END_TEST

/*
 * A controller killed during a revision's nginx -t leaves the check's scratch files in the rules
 * dir; a revision superseded meanwhile is never checked again, so the start-up gc removes them
 * (the chaos suite found them left for good), and nothing else there.
 */
START_TEST(test_gc_removes_check_leftovers)
{
	lp_controller *c = NULL;
	char digest[80], *yaml, dir[1200], path[1400];
	const char *left[] = {".check-7.conf", ".check-7.stub"}, *kept[] = {"7.conf", ".loaded"};
	lp_error err = {0};
	size_t i;

	make_upload(digest, "checked");
	yaml = archive_yaml("checked", digest);
	create_site(yaml, digest);
	free(yaml);
	snprintf(dir, sizeof(dir), "%s/sites/checked/.launchpad-rules", g_data);
	ck_assert_int_eq(lp_fs_mkdirs(dir, 0755, &err), LP_OK);
	for (i = 0; i < 2; i++) {
		LP_TEST_FMT(path, "%s/%s", dir, left[i]);
		ck_assert_int_eq(lp_fs_write_atomic(path, "x", 1, 0644, &err), LP_OK);
		LP_TEST_FMT(path, "%s/%s", dir, kept[i]);
		ck_assert_int_eq(lp_fs_write_atomic(path, "x", 1, 0644, &err), LP_OK);
	}
	ck_assert_int_eq(lp_controller_new(&c, g_cfg, &err), LP_OK);
	ck_assert_msg(lp_controller_gc(c, &err) == LP_OK, "%s", err.message);
	for (i = 0; i < 2; i++) {
		LP_TEST_FMT(path, "%s/%s", dir, left[i]);
		ck_assert_msg(!lp_fs_exists(path), "%s survived the start-up gc", path);
		LP_TEST_FMT(path, "%s/%s", dir, kept[i]);
		ck_assert_msg(lp_fs_exists(path), "the start-up gc removed %s", path);
	}
	lp_controller_free(c);
}
END_TEST

/* Rows of site_id in state (a state name, or NULL: every row), as /metrics counts them. */
static int count_revisions(const char *site_id, const char *state)
{
	lp_store_revision *revs = NULL;
	size_t n = 0, i;
	int c = 0;

	ck_assert_int_eq(lp_store_revision_list(&revs, &n, g_store, site_id, 0, NULL), LP_OK);
	for (i = 0; i < n; i++)
		c += state == NULL || !strcmp(lp_store_rev_state_name(revs[i].state), state);
	lp_store_revisions_free(revs, n);
	return c;
}

/*
 * 300 redeploys requested faster than anything builds: the overtaken ones are superseded (the
 * pending gauge drains), and the history is pruned to revisionHistoryLimit, logs included.
 */
START_TEST(test_quick_redeploys_superseded_and_pruned)
{
	struct loop l;
	char digest[80], *yaml, logs[1200];
	const char *id;
	lp_error err = {0};
	int64_t num = 0;
	int i, rows = -1, pending = -1, nlogs = -1;

	make_upload(digest, "quick");
	yaml = archive_yaml("quick", digest);
	id = create_site(yaml, digest);
	free(yaml);
	loop_start(&l);
	ck_assert_int_ge(wait_serving("quick", "quick", 60000), 0);
	for (i = 0; i < 300; i++)
		ck_assert_msg(lp_store_revision_request(&num, g_store, id, 0, LP_TRIGGER_REDEPLOY,
		                                        digest, &err) == LP_OK,
		              "%s", err.message);
	ck_assert_int_eq(num, 301);
	snprintf(logs, sizeof(logs), "%s/logs/quick", g_data);
	for (i = 0; i < 600; i++) { /* until the last is live and the history settled */
		pending = count_revisions(id, "pending");
		rows = count_revisions(id, NULL);
		nlogs = lp_test_count_lines("ls -A '%s' 2>/dev/null || true", logs);
		if (live_at_desired(id) && pending == 0 && rows <= 2 * 5 + 2 && nlogs <= rows)
			break;
		usleep(100 * 1000);
	}
	printf(
	    "  300 quick redeploys: %d revision rows kept (%d pending, %d superseded), %d logs\n",
	    rows, pending, count_revisions(id, "superseded"), nlogs);
	ck_assert_msg(live_at_desired(id), "revision 301 never went live");
	ck_assert_int_eq(pending, 0);
	ck_assert_int_le(rows, 2 * 5 + 2);
	ck_assert_int_le(nlogs, rows);
	/* The newest one is kept, built and served. */
	ck_assert_int_eq(count_revisions(id, "ready") >= 1, 1);
	loop_stop(&l);
}
END_TEST

/* A service of the host itself: listening on 0.0.0.0, counting the connections it accepts. */
struct host_listener {
	int fd;
	int port;
	atomic_int accepted;
	pthread_t t;
};

static void *listener_main(void *arg)
{
	struct host_listener *h = arg;
	int c;

	while ((c = accept(h->fd, NULL, NULL)) >= 0) {
		atomic_fetch_add(&h->accepted, 1);
		close(c);
	}
	return NULL;
}

static void listener_start(struct host_listener *h)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY)};
	socklen_t len = sizeof(a);

	atomic_init(&h->accepted, 0);
	ck_assert_int_ge(h->fd = socket(AF_INET, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(bind(h->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(h->fd, 64), 0);
	ck_assert_int_eq(getsockname(h->fd, (struct sockaddr *)&a, &len), 0);
	h->port = ntohs(a.sin_port);
	pthread_create(&h->t, NULL, listener_main, h);
}

static void listener_stop(struct host_listener *h)
{
	shutdown(h->fd, SHUT_RDWR);
	close(h->fd);
	pthread_join(h->t, NULL);
}

/* Whether this host itself connects to addr:port (1) or not (0). */
static int host_connects(const char *addr, int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	ck_assert_int_eq(inet_pton(AF_INET, addr, &a.sin_addr), 1);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

/* A probe of each address on port, run by bash: one "<addr> open|closed" line each. */
static void probe_script(char *out, size_t outlen, const char *addrs, int port)
{
	lp_test_fmt(out, outlen,
	            "for a in %s; do if timeout 5 bash -c \"exec 3<>/dev/tcp/$a/%d\" 2>/dev/null; "
	            "then echo \"$a open\"; else echo \"$a closed\"; fi; done",
	            addrs, port);
}

/*
 * Host isolation: a service on the host, listening on 0.0.0.0, is refused to a build and to a
 * serve container of the instance through every address of the host (each network's gateway,
 * docker0's, the LAN's), while the build still reaches a non-host address on its network.
 */
START_TEST(test_host_isolation)
{
	struct host_listener h;
	lp_controller *c = NULL;
	lp_controller_stats before, after;
	lp_reconcile_result r;
	char digest[80], *yaml = NULL, cmd[4096], addrs[1024], target[64], probe[2048], want[2048];
	char page[4096] = "", name[300], *tok, *save = NULL, list[1024];
	const char *id;
	lp_error err = {0};
	lp_buf b;
	int before_accepted, i;

	listener_start(&h);
	make_upload(digest, "unused");
	/* The networks and their rules come with the first reconcile of any site. */
	yaml = archive_yaml("plain", digest);
	id = create_site(yaml, digest);
	free(yaml);
	ck_assert_int_eq(lp_controller_new(&c, g_cfg, &err), LP_OK);
	converge(c, "plain", id);

	/*
	 * The host's addresses: the gateways of the instance's networks and of docker0, and the
	 * LAN's (other bridges come and go with other tests: their addresses are left out).
	 */
	LP_TEST_FMT(
	    cmd,
	    "{ ip -4 -o addr show scope global | awk '$2 !~ /^br-/ {print $4}' | cut -d/ -f1; "
	    "for n in %s-launchpad-sites %s-launchpad-build bridge; do docker network inspect "
	    "-f '{{range .IPAM.Config}}{{.Gateway}}{{end}}' $n; done; } | sort -u | "
	    "tr '\\n' ' '",
	    g_instance, g_instance);
	sh_line(addrs, sizeof(addrs), cmd);
	ck_assert_msg(strlen(addrs) > 8, "no host addresses found: '%s'", addrs);
	/* The host itself reaches its service on every one of them. */
	LP_TEST_FMT(list, "%s", addrs);
	before_accepted = 0;
	for (tok = strtok_r(list, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		ck_assert_msg(host_connects(tok, h.port), "the host cannot reach %s:%d", tok,
		              h.port);
		before_accepted++;
	}
	for (i = 0; i < 100 && atomic_load(&h.accepted) < before_accepted; i++)
		usleep(20 * 1000);
	ck_assert_int_eq(atomic_load(&h.accepted), before_accepted);

	/* A non-host address on the build network: another container, listening on 7000. */
	lp_test_sh("docker run -d --name %s-target --label launchpad.instance=%s --network "
	           "%s-launchpad-build %s node -e \"require('net').createServer(s => "
	           "s.end('hi')).listen(7000)\" >/dev/null",
	           g_instance, g_instance, g_instance,
	           env_or("LAUNCHPAD_TEST_BUILD_IMAGE", "launchpad-test/node:local"));
	LP_TEST_FMT(cmd,
	            "docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "
	            "%s-target",
	            g_instance);
	sh_line(target, sizeof(target), cmd);
	ck_assert_msg(target[0], "the target container has no address");

	/* A build that probes all of them, and the target, and publishes what it saw. */
	probe_script(probe, sizeof(probe), addrs, h.port);
	ck_assert_int_ge(
	    asprintf(&yaml,
	             "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata:\n  name: "
	             "probe\nspec:\n  source:\n    archive:\n      digest: \"%s\"\n"
	             "  build:\n    timeoutSeconds: 300\n    command: |\n"
	             "      mkdir -p dist; sleep 1; { %s; for t in 1 2 3 4 5; do "
	             "timeout 5 bash -c \"exec 3<>/dev/tcp/%s/7000\" 2>/dev/null && "
	             "break; sleep 1; done && echo egress open || echo egress closed; } "
	             "> dist/index.html\n",
	             digest, probe, target),
	    0);
	id = create_site(yaml, digest);
	free(yaml);
	converge(c, "probe", id);
	lp_buf_init(&b, 1 << 20);
	ck_assert_int_eq(fetch(&b, "probe", "/"), 200);
	LP_TEST_FMT(page, "%s", lp_buf_cstr(&b));
	lp_buf_release(&b);
	printf("  a build probed the host's service (port %d):\n%s", h.port, page);
	fflush(stdout);
	LP_TEST_FMT(list, "%s", addrs);
	want[0] = '\0';
	for (tok = strtok_r(list, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		lp_test_fmt(want + strlen(want), sizeof(want) - strlen(want), "%s closed\n", tok);
	lp_test_fmt(want + strlen(want), sizeof(want) - strlen(want), "egress open\n");
	ck_assert_str_eq(page, want);

	/* The serve container, on the internal sites network, is refused as well. */
	LP_TEST_FMT(name, "%s-deploy-probe", g_instance);
	LP_TEST_FMT(cmd, "docker exec %s bash -c '%s' | tr '\\n' ';'", name, probe);
	sh_line(page, sizeof(page), cmd);
	printf("  its serve container: %s\n", page);
	fflush(stdout);
	ck_assert_ptr_null(strstr(page, "open"));
	ck_assert_ptr_nonnull(strstr(page, "closed"));
	ck_assert_int_eq(atomic_load(&h.accepted), before_accepted);

	/* Steady state writes no rule; the teardown takes them away. */
	lp_controller_stats_get(&before, c);
	ck_assert_uint_ge(before.firewall_writes, 1);
	ck_assert_int_eq(lp_controller_reconcile(&r, c, "probe", &err), LP_OK);
	ck_assert_int_eq(lp_controller_reconcile(&r, c, "plain", &err), LP_OK);
	lp_controller_stats_get(&after, c);
	ck_assert_uint_eq(after.firewall_writes, before.firewall_writes);
	ck_assert_int_eq(
	    lp_test_count_lines("iptables -S INPUT | grep -F 'launchpad:%s\"'", g_instance), 2);
	lp_test_sh("docker rm -f %s-target >/dev/null", g_instance); /* not the controller's */
	ck_assert_msg(lp_controller_teardown(c, &err) == LP_OK, "teardown: %s", err.message);
	ck_assert_int_eq(
	    lp_test_count_lines("iptables -S | grep -F 'launchpad:%s\"' || true", g_instance), 0);
	lp_controller_free(c);
	listener_stop(&h);
}
END_TEST

/* Lines of `iptables -S <chain>` matching the fixed string what ("" for all). */
static int rules_matching(const char *chain, const char *what)
{
	return lp_test_count_lines("iptables -w 5 -S %s 2>/dev/null | grep -F -- '%s' || true",
	                           chain, what);
}

/*
 * The firewall's own contract, on made-up bridges (rules for interfaces that do not exist
 * match nothing): it installs, then writes nothing; it repairs a flushed chain, moves its jumps
 * above a foreign rule put on top, drops a jump of a bridge it no longer isolates; it goes.
 */
START_TEST(test_firewall_ensure_repair_remove)
{
	const char *two[] = {"lpt-a0", "lpt-b0"}, *moved[] = {"lpt-a0", "lpt-c0"};
	char inst[64], chain[LP_FIREWALL_CHAIN_MAX], first[512];
	lp_firewall *fw = NULL;
	lp_error err = {0};
	int changed = -1;

	LP_TEST_FMT(inst, "%sf", g_instance);
	ck_assert_int_eq(lp_firewall_new(&fw, inst, &err), LP_OK);
	LP_TEST_FMT(chain, "%s", lp_firewall_chain(fw));
	ck_assert_int_eq(strncmp(chain, "LP-", 3), 0);
	ck_assert_uint_eq(strlen(chain), 15);
	ck_assert(lp_firewall_due(fw));
	ck_assert_msg(lp_firewall_ensure(&changed, fw, two, 2, &err) == LP_OK, "%s", err.message);
	ck_assert_int_eq(changed, 1);
	ck_assert(!lp_firewall_due(fw));
	ck_assert_int_eq(rules_matching("INPUT", chain), 2);
	ck_assert_int_eq(rules_matching(chain, "-j REJECT --reject-with tcp-reset"), 1);
	ck_assert_int_eq(rules_matching(chain, "--ctstate RELATED,ESTABLISHED -j RETURN"), 1);
	/* Steady: nothing written. */
	ck_assert_int_eq(lp_firewall_ensure(&changed, fw, two, 2, &err), LP_OK);
	ck_assert_int_eq(changed, 0);

	/* Tampered: a foreign ACCEPT on top, the chain flushed, a stale jump of ours. */
	lp_test_sh("iptables -w 5 -I INPUT 1 -i lpt-a0 -j ACCEPT && iptables -w 5 -F %s && "
	           "iptables -w 5 -A INPUT -i lpt-old0 -m comment --comment launchpad:%s -j %s",
	           chain, inst, chain);
	ck_assert_msg(lp_firewall_ensure(&changed, fw, two, 2, &err) == LP_OK, "%s", err.message);
	ck_assert_int_eq(changed, 1);
	ck_assert_int_eq(rules_matching(chain, "-j REJECT"), 2);
	ck_assert_int_eq(rules_matching("INPUT", chain), 2);
	ck_assert_int_eq(rules_matching("INPUT", "lpt-old0"), 0);
	sh_line(first, sizeof(first), "iptables -w 5 -S INPUT | sed -n 2p");
	ck_assert_msg(strstr(first, chain) != NULL, "the first INPUT rule is %s", first);
	ck_assert_int_eq(lp_firewall_ensure(&changed, fw, two, 2, &err), LP_OK);
	ck_assert_int_eq(changed, 0);

	/* Another set of bridges: the one that left loses its jump. */
	ck_assert_int_eq(lp_firewall_ensure(&changed, fw, moved, 2, &err), LP_OK);
	ck_assert_int_eq(changed, 1);
	ck_assert_int_eq(rules_matching("INPUT", "lpt-b0"), 0);
	ck_assert_int_eq(rules_matching("INPUT", "lpt-c0"), 1);
	/* Refused before any iptables run. */
	ck_assert_int_eq(
	    lp_firewall_ensure(&changed, fw, (const char *[]){"no such; iface"}, 1, &err),
	    LP_EINVAL);

	ck_assert_int_eq(lp_firewall_remove(fw, &err), LP_OK);
	ck_assert_int_eq(rules_matching("INPUT", chain), 0);
	ck_assert_int_eq(lp_test_count_lines("iptables -w 5 -S | grep -F -- '%s' || true", chain),
	                 0);
	ck_assert_int_eq(lp_firewall_remove(fw, &err), LP_OK); /* none there: still fine */
	lp_test_sh("iptables -w 5 -D INPUT -i lpt-a0 -j ACCEPT");
	lp_firewall_free(fw);
	lp_firewall_free(NULL);
}
END_TEST

static pid_t spawn_controller(void)
{
	char *bin = lp_test_bin_path("launchpad-controller");
	pid_t pid = fork();

	if (pid == 0) {
		execl(bin, bin, (char *)NULL);
		_exit(127);
	}
	free(bin);
	return pid;
}

START_TEST(test_sigkill_mid_build_converges)
{
	char digest[80], *yaml, work[1200];
	lp_store_revision *rev = NULL;
	const char *id;
	pid_t pid;
	int i, st, state = -1;

	make_upload(digest, "unused");
	yaml = build_yaml("crashy", digest,
	                  "sleep 4; mkdir -p dist; echo rebuilt > dist/index.html", 120);
	id = create_site(yaml, digest);
	free(yaml);
	pid = spawn_controller();
	for (i = 0; i < 600; i++) { /* until the build container runs */
		if (lp_test_count_lines("docker ps -q --filter label=launchpad.instance=%s "
		                        "--filter label=launchpad.role=build",
		                        g_instance) > 0)
			break;
		usleep(100 * 1000);
	}
	ck_assert_int_lt(i, 600);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	/* the crash leaves a build container and a workspace behind */
	ck_assert_int_gt(lp_test_count_lines("docker ps -aq --filter label=launchpad.instance=%s "
	                                     "--filter label=launchpad.role=build",
	                                     g_instance),
	                 0);
	pid = spawn_controller();
	ck_assert_int_ge(wait_serving("crashy", "rebuilt\n", 90000), 0);
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_eq(lp_test_count_lines("docker ps -aq --filter label=launchpad.instance=%s "
	                                     "--filter label=launchpad.role=build",
	                                     g_instance),
	                 0);
	snprintf(work, sizeof(work), "%s/work", g_data);
	ck_assert_int_eq(lp_test_count_lines("ls -A '%s' 2>/dev/null || true", work), 0);
	ck_assert_int_eq(lp_store_revision_get(&rev, g_store, id, 1, NULL), LP_OK);
	state = rev->state;
	lp_store_revision_free(rev);
	ck_assert_int_eq(state, LP_REV_READY);
}
END_TEST

/*
 * The engine restarts under a running controller: the watch must reconnect (healing within a
 * few seconds, far under the 30 s resync) and the site must be served again. Restarting dockerd
 * stops every container on it, so this runs last in the suite.
 */
START_TEST(test_dockerd_restart)
{
	struct loop l;
	char digest[80], *yaml;
	lp_error err = {0};
	int64_t waited;

	make_upload(digest, "survives restarts");
	yaml = archive_yaml("phoenix", digest);
	create_site(yaml, digest);
	free(yaml);
	loop_start(&l);
	ck_assert_int_ge(wait_serving("phoenix", "survives restarts", 60000), 0);
	ck_assert_msg(lp_test_dockerd_restart(&err) == LP_OK, "%s", err.message);
	ck_assert_int_ge(wait_serving("phoenix", "survives restarts", 60000), 0);
	lp_test_sh("docker rm -f %s-deploy-phoenix >/dev/null", g_instance);
	waited = wait_serving("phoenix", "survives restarts", 10000);
	ck_assert_msg(waited >= 0, "not healed within 10 s after the restart");
	printf("healed after a dockerd restart in %lld ms\n", (long long)waited);
	loop_stop(&l);
}
END_TEST

static Suite *controller_suite(void)
{
	Suite *s = suite_create("controller");
	TCase *tc = tcase_create("controller");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_live_steady_state_and_content_change);
	tcase_add_test(tc, test_serve_container_unprivileged);
	tcase_add_test(tc, test_self_heal_and_foreign_container);
	tcase_add_test(tc, test_delete_removes_everything);
	tcase_add_test(tc, test_app_logs_pumped_and_removed);
	tcase_add_test(tc, test_archive_gc);
	tcase_add_test(tc, test_hung_build_does_not_delay_healing);
	tcase_add_test(tc, test_newer_revision_cancels_build);
	tcase_add_test(tc, test_quick_redeploys_superseded_and_pruned);
	tcase_add_test(tc, test_host_isolation);
	tcase_add_test(tc, test_firewall_ensure_repair_remove);
	tcase_add_test(tc, test_sigkill_mid_build_converges);
	tcase_add_test(tc, test_gc_removes_check_leftovers);
	suite_add_tcase(s, tc);
	/* Its own case, last: it restarts the engine (CK_RUN_CASE=restart runs it alone). */
	tc = tcase_create("restart");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_dockerd_restart);
	suite_add_tcase(s, tc);
	return s;
}

/* A failed assertion ends a forked test before its teardown: remove this run's leftovers. */
static void sweep(void)
{
	char cmd[2048];
	int st, n;

	/* Outside any test: no ck_assert here (Check exits), and a cut command runs nothing. */
	n = snprintf(
	    cmd, sizeof(cmd),
	    "docker ps -a --filter label=launchpad.instance --format "
	    "'{{.ID}} {{.Label \"launchpad.instance\"}}' | awk '$2 ~ /^t%dx/ {print $1}' | "
	    "xargs -r docker rm -f >/dev/null; docker network ls --format '{{.Name}}' | "
	    "grep '^t%dx' | xargs -r docker network rm >/dev/null; "
	    /* and those instances' host isolation rules: their comments name them */
	    "iptables -w 5 -S INPUT 2>/dev/null | grep -F -- '--comment \"launchpad:t%dx' | "
	    "sed 's/^-A /-D /' | while read -r r; do eval \"iptables -w 5 $r\"; "
	    "c=${r##* }; iptables -w 5 -F $c 2>/dev/null; iptables -w 5 -X $c 2>/dev/null; "
	    "done; while iptables -w 5 -D INPUT -i lpt-a0 -j ACCEPT 2>/dev/null; do :; done; true",
	    (int)getpid(), (int)getpid(), (int)getpid());
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return;
	st = system(cmd);
	(void)st;
}

int main(void)
{
	int rc;

	lp_test_require_docker();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = lp_test_run(controller_suite());
	sweep();
	return rc;
}
