/*
 * check_chaos.c: the real platform under chaos, bounded (make chaos, part of make test).
 *
 * Five sites (three archive sites, two Git sites with a short build in the node image) take
 * repeated deploys, rollbacks and throwaway sites created and deleted, while a seeded PRNG picks
 * faults between them: SIGKILL of the controller and of the apiserver (each restarted after a
 * random pause), `docker rm -f` / `docker stop` / `docker kill` of this instance's serve and build
 * containers, and (LP_CHAOS_DOCKERD_RESTART=1, as CI runs it) one restart of dockerd. A second
 * thread uploads a paced archive all along, so apiserver kills land in the middle of uploads.
 *
 * Then, within a bounded deadline, the platform must converge: every site live at its desired
 * revision and serving that revision's content, throwaway sites gone, no container of the
 * instance but one running serve container per site, no stray directory or temp file in the data
 * dir. After a clean SIGTERM of both daemons the store passes PRAGMA integrity_check, and neither
 * daemon exited on its own during the run and the API never answered 500.
 *
 * Replay: the seed is printed (LP_CHAOS_SEED=N replays its sequence of actions; their timing
 * against the daemons varies). LP_CHAOS_SECONDS sets the chaos phase (default 75).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "launchpad/crypto.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "launchpad/store.h"
#include "pipeline/build.h"
#include "tests/lib/platform.h"
#include "tests/lib/testutil.h"

#define CHAOS_SECONDS_DEFAULT 75
#define CHAOS_SECONDS_MAX     240
#define SETUP_LIVE_MS         180000 /* first builds, a cold node image start included */
#define CONVERGE_MS           100000 /* after the chaos: retried builds back off 5+10+20 s */
#define TIMEOUT_BASE_S        90     /* set-up and checks (40 s seen on a loaded machine) */
#define TIMEOUT_DOCKERD_S     30     /* a dockerd restart beyond what the chaos phase absorbs */
#define ACTION_PAUSE_MIN_MS   250
#define ACTION_PAUSE_SPAN_MS  750
#define RESPAWN_PAUSE_MAX_MS  1500
#define BUILD_HITS_MAX        (LP_BUILD_RETRIES - 1) /* faults per build container */
#define HIT_NAMES_MAX         256
#define BUILD_WAIT_MS         2000       /* a build fault waits this long for a build to hit */
#define UPLOAD_PACE           (2L << 20) /* bytes/s of the background upload */
#define UPLOAD_FILLER         (1u << 20) /* incompressible bytes in its archive */

#define N_ARCHIVE   2 /* archive sites the main loop deploys */
#define N_GIT       2
#define N_SITES     (N_ARCHIVE + N_GIT + 1) /* + the background uploader's site */
#define UPLOAD_SITE (N_SITES - 1)
#define N_TEMP_MAX  4
#define SOURCES_MAX 128
#define PAGE_MAX    160
#define KEY_MAX     72 /* a hex SHA-256 or a commit id */
#define SLUG_MAX    64
#define PROBLEM_MAX 2048

#define BUILD_CMD "sleep 2 && mkdir -p dist && cp index.html dist/"

/* The faults and actions, counted by kind. */
enum kind {
	K_DEPLOY_ARCHIVE,
	K_DEPLOY_GIT,
	K_ROLLBACK,
	K_TEMP_CREATE,
	K_TEMP_DELETE,
	K_KILL_CONTROLLER,
	K_KILL_APISERVER,
	K_SERVE_RM,
	K_SERVE_STOP,
	K_SERVE_KILL,
	K_BUILD_RM,
	K_BUILD_STOP,
	K_BUILD_KILL,
	K_DOCKERD_RESTART,
	K_COUNT,
};

struct source {
	char key[KEY_MAX]; /* the archive's hex digest or the commit id */
	char page[PAGE_MAX];
};

struct site {
	char slug[SLUG_MAX];
	int git;
	char repo[1200];    /* git: the local repository (file://) */
	char secret[128];   /* git: the webhook secret */
	char head[KEY_MAX]; /* git: the last commit pushed */
	struct source sources[SOURCES_MAX];
	int nsources;
	int deploys;
};

struct temp_site {
	char slug[SLUG_MAX];
	int created; /* a create was sent (its answer may have been lost) */
	int deleted; /* DELETE answered 202 or 404 */
};

/* What the API answered, counted. */
struct answers {
	long requests, transport, http_2xx, http_4xx, http_429, http_500, http_5xx;
};

static struct chaos {
	lp_test_platform *p;
	char scratch[1200];
	uint64_t seed, rng;
	int seconds, dockerd_restart;
	struct site sites[N_SITES];
	struct temp_site temps[N_TEMP_MAX];
	int ntemps;
	long done[K_COUNT];      /* actions carried out */
	long no_target[K_COUNT]; /* picked with nothing to act on */
	long crashes;            /* a daemon found exited on its own */
	char crash_what[512];
	int64_t respawn_at[2]; /* per lp_test_daemon; 0: running */
	struct answers main_api;
	struct answers chaos_api; /* main_api as it was when the chaos ended */
	/* the background uploader: its own counters, the URL it is given under the lock */
	pthread_mutex_t lock;
	char url[64];
	int stop;
	pthread_t uploader;
	int uploading;
	struct answers upload_api;
	struct {
		char name[160];
		int hits;
	} hit[HIT_NAMES_MAX]; /* build containers hit so far */
	int nhit;
	int64_t converge_ms;
	int64_t dockerd_ms; /* how long the dockerd restart took; -1: none */
	char problem[PROBLEM_MAX];
} g = {.lock = PTHREAD_MUTEX_INITIALIZER};

static const char *const kind_names[K_COUNT] = {
    "deploy archive",    "deploy git",         "rollback",           "temp site create",
    "temp site delete",  "SIGKILL controller", "SIGKILL apiserver",  "docker rm -f serve",
    "docker stop serve", "docker kill serve",  "docker rm -f build", "docker stop build",
    "docker kill build", "dockerd restart",
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* splitmix64: small, seedable, the same sequence everywhere. */
static uint64_t rnd(void)
{
	uint64_t z = (g.rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int rnd_below(int n)
{
	return n > 0 ? (int)(rnd() % (uint64_t)n) : 0;
}

static void print_answers(const char *what, const struct answers *a)
{
	fprintf(
	    stderr,
	    "  %-20s %ld requests: %ld 2xx, %ld 4xx (%ld 429), %ld 5xx (%ld 500), %ld without an "
	    "answer (daemon down)\n",
	    what, a->requests, a->http_2xx, a->http_4xx, a->http_429, a->http_5xx, a->http_500,
	    a->transport);
}

static void print_figures(void)
{
	int k;

	fprintf(stderr, "chaos figures (seed %" PRIu64 ", %d s of chaos, dockerd restart %s):\n",
	        g.seed, g.seconds,
	        g.dockerd_restart ? "on" : "off (LP_CHAOS_DOCKERD_RESTART unset)");
	for (k = 0; k < K_COUNT; k++)
		fprintf(stderr, "  %-20s %4ld done, %3ld without a target\n", kind_names[k],
		        g.done[k], g.no_target[k]);
	print_answers("API during the chaos", &g.chaos_api);
	print_answers("API, whole run", &g.main_api);
	fprintf(stderr,
	        "  API (uploader)       %ld uploads: %ld answered 2xx, %ld 4xx, %ld 5xx (%ld 500), "
	        "%ld cut or refused (daemon down)\n",
	        g.upload_api.requests, g.upload_api.http_2xx, g.upload_api.http_4xx,
	        g.upload_api.http_5xx, g.upload_api.http_500, g.upload_api.transport);
	fprintf(stderr, "  daemons that exited on their own: %ld%s%s\n", g.crashes,
	        g.crashes ? ": " : "", g.crash_what);
	if (g.dockerd_ms >= 0)
		fprintf(stderr, "  dockerd restart took %lld ms (stop and start)\n",
		        (long long)g.dockerd_ms);
	if (g.converge_ms >= 0)
		fprintf(stderr, "  converged %lld ms after the chaos ended\n",
		        (long long)g.converge_ms);
	for (k = 0; k < N_SITES; k++)
		fprintf(stderr, "  site %-24s %s, %d deploys\n", g.sites[k].slug,
		        g.sites[k].git ? "git" : "archive", g.sites[k].deploys);
}

static void stop_uploader(void)
{
	pthread_mutex_lock(&g.lock);
	g.stop = 1;
	pthread_mutex_unlock(&g.lock);
	if (g.uploading)
		pthread_join(g.uploader, NULL);
	g.uploading = 0;
}

/* Before failing: the figures, the daemons' logs, then clean up (fork mode skips teardown). */
static void fail_cleanup(void)
{
	stop_uploader();
	print_figures();
	lp_test_platform_dump_logs(g.p, 8000);
	lp_test_platform_free(g.p);
	g.p = NULL;
}

#define REQUIRE(cond, ...)                                                                         \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "chaos: replay with LP_CHAOS_SEED=%" PRIu64 "\n", g.seed); \
			fail_cleanup();                                                            \
			ck_abort_msg(__VA_ARGS__);                                                 \
		}                                                                                  \
	} while (0)

#define REQUIRE_OK(call)                                                                           \
	do {                                                                                       \
		int rc_ = (call);                                                                  \
		REQUIRE(rc_ == LP_OK, "%s: %s", #call, err.message);                               \
	} while (0)

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static long jnum(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? (long)v->valuedouble : -1;
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return -1;
	return system(cmd);
}

/* The first line a shell command prints, into out; 0 when it printed one. */
static int first_line(char *out, size_t outlen, const char *cmd)
{
	FILE *f = popen(cmd, "r");
	int rc = -1;

	out[0] = '\0';
	if (f == NULL)
		return -1;
	if (fgets(out, (int)outlen, f) != NULL) {
		out[strcspn(out, "\n")] = '\0';
		rc = out[0] ? 0 : -1;
	}
	pclose(f);
	return rc;
}

static void count_answer(struct answers *a, int rc, long status)
{
	a->requests++;
	if (rc != LP_OK || status == 0)
		a->transport++;
	else if (status >= 200 && status < 300)
		a->http_2xx++;
	else if (status >= 400 && status < 500) {
		a->http_4xx++;
		a->http_429 += status == 429;
	} else if (status >= 500) {
		a->http_5xx++;
		a->http_500 += status == 500;
	}
}

/* One API call of the main loop with the admin token, counted; the answer in *r. */
static long api(lp_test_http_resp *r, const char *method, const char *path, const char *json)
{
	lp_error err = {0};
	int rc = lp_test_platform_api(r, g.p, method, path, json, &err);

	count_answer(&g.main_api, rc, r->status);
	return rc == LP_OK ? r->status : 0;
}

/* A site page naming the site, its deploy and the seed: no two deploys serve the same bytes. */
static void page_for(char out[PAGE_MAX], const struct site *s)
{
	lp_test_fmt(out, PAGE_MAX, "<h1>%s deploy %d (seed %" PRIu64 ")</h1>\n", s->slug,
	            s->deploys, g.seed);
}

static void add_source(struct site *s, const char *key, const char *page)
{
	if (s->nsources >= SOURCES_MAX)
		return;
	LP_TEST_FMT(s->sources[s->nsources].key, "%s", key);
	LP_TEST_FMT(s->sources[s->nsources].page, "%s", page);
	s->nsources++;
}

/* The page of the revision whose source (or resolved source) names one of ours. */
static const char *page_of(const struct site *s, const char *source, const char *resolved)
{
	int i;

	for (i = 0; i < s->nsources; i++)
		if ((source[0] && strstr(source, s->sources[i].key)) ||
		    (resolved[0] && strstr(resolved, s->sources[i].key)))
			return s->sources[i].page;
	return NULL;
}

/* A zip holding index.html = page (and filler bytes when filler > 0); its hex digest in hex. */
static int make_archive(char hex[LP_SHA256_HEX_LEN], const char *zip, const char *page,
                        size_t filler, lp_error *err)
{
	const char *files[5] = {"index.html", page, NULL, NULL, NULL};
	char *data = NULL, *fill = NULL;
	size_t len = 0, i;
	int rc;

	if (filler > 0) {
		/* printable noise zip cannot shrink much: an upload that takes a while */
		if ((fill = malloc(filler + 1)) == NULL)
			return lp_error_set(err, LP_ENOMEM, "out of memory");
		for (i = 0; i < filler; i++)
			fill[i] = (char)('!' + rnd() % 90);
		fill[filler] = '\0';
		files[2] = "filler.txt";
		files[3] = fill;
	}
	rc = lp_test_make_zip(zip, files, err);
	free(fill);
	if (rc != LP_OK)
		return rc;
	if ((rc = lp_fs_read_file(&data, &len, zip, 64u << 20, err)) != LP_OK)
		return rc;
	lp_crypto_sha256_hex(hex, data, len);
	free(data);
	return LP_OK;
}

/* Commit index.html = page in the site's repository; the new HEAD into s->head. */
static int commit_page(struct site *s, const char *page)
{
	char path[1300], cmd[1400];
	lp_error err = {0};

	LP_TEST_FMT(path, "%s/index.html", s->repo);
	if (lp_fs_write_atomic(path, page, strlen(page), 0644, &err) != LP_OK)
		return -1;
	if (run("git -C '%s' add index.html && git -C '%s' commit -q -m 'deploy %d'", s->repo,
	        s->repo, s->deploys) != 0)
		return -1;
	LP_TEST_FMT(cmd, "git -C '%s' rev-parse HEAD", s->repo);
	return first_line(s->head, sizeof(s->head), cmd) == 0 && strlen(s->head) == 40 ? 0 : -1;
}

/* POST a signed push of s->head (from before) to the site's webhook, counted. */
static long push_webhook(struct site *s, const char *before)
{
	char body[1024], sig[LP_SHA256_HEX_LEN], h_sig[128], h_del[128], url[512];
	const char *headers[4];
	lp_test_http_resp r = {0};
	lp_error err = {0};
	int rc;

	LP_TEST_FMT(body,
	            "{\"ref\":\"refs/heads/main\",\"before\":\"%s\",\"after\":\"%s\","
	            "\"deleted\":false,\"repository\":{\"full_name\":\"chaos/%s\"},"
	            "\"head_commit\":{\"id\":\"%s\",\"message\":\"deploy %d\"}}",
	            before, s->head, s->slug, s->head, s->deploys);
	if (lp_crypto_hmac_sha256_hex(sig, s->secret, strlen(s->secret), body, strlen(body)) !=
	    LP_OK)
		return 0;
	LP_TEST_FMT(h_sig, "X-Hub-Signature-256: sha256=%s", sig);
	LP_TEST_FMT(h_del, "X-GitHub-Delivery: chaos-%s-%d", s->slug, s->deploys);
	headers[0] = "X-GitHub-Event: push";
	headers[1] = h_sig;
	headers[2] = h_del;
	headers[3] = NULL;
	LP_TEST_FMT(url, "%s/api/webhooks/github/%s", g.p->url, s->slug);
	rc = lp_test_http_request(&r, "POST", url, body, strlen(body), "application/json", NULL,
	                          headers, &err);
	count_answer(&g.main_api, rc, r.status);
	lp_test_http_resp_release(&r);
	return rc == LP_OK ? r.status : 0;
}

/* ---- the actions ---- */

static int act_deploy_archive(void)
{
	struct site *s = &g.sites[rnd_below(N_ARCHIVE)];
	char zip[1300], hex[LP_SHA256_HEX_LEN], page[PAGE_MAX], path[256];
	lp_test_http_resp r = {0};
	lp_error err = {0};
	long st;

	s->deploys++;
	page_for(page, s);
	LP_TEST_FMT(zip, "%s/%s-%d.zip", g.scratch, s->slug, s->deploys);
	if (make_archive(hex, zip, page, 0, &err) != LP_OK)
		return -1;
	/* known before it is sent: a lost answer may still have made it the desired revision */
	add_source(s, hex, page);
	LP_TEST_FMT(path, "%s/api/deployments/%s/archive", g.p->url, s->slug);
	{
		int rc = lp_test_http_upload(&r, path, g.p->token, NULL, zip, 0, &err);

		count_answer(&g.main_api, rc, r.status);
		st = rc == LP_OK ? r.status : 0;
	}
	lp_test_http_resp_release(&r);
	unlink(zip);
	return st ? 0 : -1;
}

static int act_deploy_git(void)
{
	struct site *s = &g.sites[N_ARCHIVE + rnd_below(N_GIT)];
	char page[PAGE_MAX], before[KEY_MAX];

	s->deploys++;
	page_for(page, s);
	LP_TEST_FMT(before, "%s", s->head);
	if (commit_page(s, page) != 0)
		return -1;
	add_source(s, s->head, page);
	return push_webhook(s, before) ? 0 : -1;
}

static int act_rollback(void)
{
	struct site *s = &g.sites[rnd_below(N_ARCHIVE + N_GIT)];
	lp_test_http_resp r = {0};
	char path[256];
	long st;

	LP_TEST_FMT(path, "/api/deployments/%s/rollback", s->slug);
	st = api(&r, "POST", path, "{}");
	lp_test_http_resp_release(&r);
	return st ? 0 : -1;
}

static int act_temp_create(void)
{
	struct temp_site *t;
	const char *fields[] = {"name", NULL, "slug", NULL, "source_type", "zip", NULL};
	char zip[1300], hex[LP_SHA256_HEX_LEN], page[PAGE_MAX];
	lp_test_http_resp r = {0};
	lp_error err = {0};
	int rc;

	if (g.ntemps >= N_TEMP_MAX)
		return 1;
	t = &g.temps[g.ntemps++];
	LP_TEST_FMT(t->slug, "chaos-temp-%d", g.ntemps);
	LP_TEST_FMT(page, "<h1>%s</h1>\n", t->slug);
	LP_TEST_FMT(zip, "%s/%s.zip", g.scratch, t->slug);
	if (make_archive(hex, zip, page, 0, &err) != LP_OK)
		return -1;
	fields[1] = t->slug;
	fields[3] = t->slug;
	t->created = 1;
	rc = lp_test_platform_upload(&r, g.p, "/api/deployments", fields, zip, &err);
	count_answer(&g.main_api, rc, r.status);
	lp_test_http_resp_release(&r);
	unlink(zip);
	return 0;
}

/* DELETE one created throwaway site; 202 or 404 settles it. */
static int delete_temp(struct temp_site *t)
{
	lp_test_http_resp r = {0};
	char path[256];
	long st;

	LP_TEST_FMT(path, "/api/deployments/%s", t->slug);
	st = api(&r, "DELETE", path, NULL);
	lp_test_http_resp_release(&r);
	if (st == 202 || st == 404)
		t->deleted = 1;
	return st ? 0 : -1;
}

static int act_temp_delete(void)
{
	int i, n = 0, pick;

	for (i = 0; i < g.ntemps; i++)
		n += g.temps[i].created && !g.temps[i].deleted;
	if (n == 0)
		return 1;
	pick = rnd_below(n);
	for (i = 0; i < g.ntemps; i++)
		if (g.temps[i].created && !g.temps[i].deleted && pick-- == 0)
			return delete_temp(&g.temps[i]);
	return 1;
}

static void note_crash(lp_test_daemon which, const char *what)
{
	size_t used = strlen(g.crash_what);

	g.crashes++;
	lp_fmt_text(g.crash_what + used, sizeof(g.crash_what) - used, "%s%s: %s", used ? "; " : "",
	            which == LP_TEST_APISERVER ? "apiserver" : "controller", what);
}

static int kill_daemon(lp_test_daemon which)
{
	lp_error err = {0};
	int rc;

	if (g.respawn_at[which] > 0)
		return 1; /* already down, waiting for its restart */
	pthread_mutex_lock(&g.lock);
	rc = lp_test_platform_kill(g.p, which, &err);
	pthread_mutex_unlock(&g.lock);
	if (rc == LP_ERROR)
		note_crash(which, err.message);
	else if (rc != LP_OK)
		return 1;
	g.respawn_at[which] = now_ms() + rnd_below(RESPAWN_PAUSE_MAX_MS) + 1;
	return 0;
}

static int act_kill_controller(void)
{
	return kill_daemon(LP_TEST_CONTROLLER);
}

static int act_kill_apiserver(void)
{
	return kill_daemon(LP_TEST_APISERVER);
}

/* How often the container name was hit; 0 for a new one (the table is full: counts as max). */
static int *hits_of(const char *name)
{
	static int full = 1 << 20;
	int i;

	for (i = 0; i < g.nhit; i++)
		if (!strcmp(g.hit[i].name, name))
			return &g.hit[i].hits;
	if (g.nhit == HIT_NAMES_MAX)
		return &full;
	LP_TEST_FMT(g.hit[g.nhit].name, "%s", name);
	g.hit[g.nhit].hits = 0;
	return &g.hit[g.nhit++].hits;
}

/*
 * A random running container of this instance with role, hit by docker verb, waiting up to
 * wait_ms for one to appear (builds come and go); 1 when there is none. One build container
 * (a revision's) is hit at most max_hits times: the platform retries a build cut from outside
 * LP_BUILD_RETRIES times and then rightly gives up, and the dockerd restart may cut it once more.
 */
static int hit_container(const char *role, const char *verb, int wait_ms, int max_hits)
{
	char cmd[512], names[16][160], line[160];
	int64_t t0 = now_ms();
	FILE *f;
	int n = 0, *hits;

	LP_TEST_FMT(cmd,
	            "docker ps --format '{{.Names}}' --filter label=launchpad.instance=%s "
	            "--filter label=launchpad.role=%s 2>/dev/null",
	            g.p->instance, role);
	for (;;) {
		if ((f = popen(cmd, "r")) == NULL)
			return -1;
		while (n < 16 && fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = '\0';
			if (line[0] && (max_hits <= 0 || *hits_of(line) < max_hits))
				LP_TEST_FMT(names[n++], "%s", line);
		}
		pclose(f);
		if (n > 0 || now_ms() - t0 >= wait_ms)
			break;
		sleep_ms(100);
	}
	if (n == 0)
		return 1;
	n = rnd_below(n);
	hits = hits_of(names[n]);
	(*hits)++;
	/* only this instance's containers: the name comes from the label-filtered list above */
	return run("docker %s %s >/dev/null 2>&1", verb, names[n]) == 0 ? 0 : 1;
}

static int act_serve_rm(void)
{
	return hit_container("serve", "rm -f", 0, 0);
}

static int act_serve_stop(void)
{
	return hit_container("serve", "stop -t 1", 0, 0);
}

static int act_serve_kill(void)
{
	return hit_container("serve", "kill", 0, 0);
}

static int act_build_rm(void)
{
	return hit_container("build", "rm -f", BUILD_WAIT_MS, BUILD_HITS_MAX);
}

static int act_build_stop(void)
{
	return hit_container("build", "stop -t 1", BUILD_WAIT_MS, BUILD_HITS_MAX);
}

static int act_build_kill(void)
{
	return hit_container("build", "kill", BUILD_WAIT_MS, BUILD_HITS_MAX);
}

/* The action table: what the PRNG picks from, by weight. */
static const struct action {
	enum kind kind;
	int weight;
	int (*fn)(void); /* 0 done, 1 nothing to act on, -1 the request got no answer */
} actions[] = {
    {K_DEPLOY_ARCHIVE, 12, act_deploy_archive},
    {K_DEPLOY_GIT, 18, act_deploy_git},
    {K_ROLLBACK, 3, act_rollback},
    {K_TEMP_CREATE, 3, act_temp_create},
    {K_TEMP_DELETE, 3, act_temp_delete},
    {K_KILL_CONTROLLER, 9, act_kill_controller},
    {K_KILL_APISERVER, 6, act_kill_apiserver},
    {K_SERVE_RM, 5, act_serve_rm},
    {K_SERVE_STOP, 4, act_serve_stop},
    {K_SERVE_KILL, 4, act_serve_kill},
    {K_BUILD_RM, 5, act_build_rm},
    {K_BUILD_STOP, 4, act_build_stop},
    {K_BUILD_KILL, 4, act_build_kill},
};
#define N_ACTIONS (sizeof(actions) / sizeof(actions[0]))

static const struct action *pick_action(void)
{
	int total = 0, r;
	size_t i;

	for (i = 0; i < N_ACTIONS; i++)
		total += actions[i].weight;
	r = rnd_below(total);
	for (i = 0; i < N_ACTIONS; i++) {
		if (r < actions[i].weight)
			return &actions[i];
		r -= actions[i].weight;
	}
	return &actions[0];
}

/* Restart the daemons whose pause is over; note any that exited on its own. */
static void tend_daemons(int force)
{
	lp_test_daemon d;
	lp_error err = {0};
	int st, rc;

	for (d = LP_TEST_APISERVER; d <= LP_TEST_CONTROLLER; d++) {
		if (g.respawn_at[d] == 0 && lp_test_platform_exited(g.p, d, &st)) {
			char what[64];

			LP_TEST_FMT(what, "wait status 0x%x", st);
			note_crash(d, what);
			g.respawn_at[d] = now_ms();
		}
		if (g.respawn_at[d] == 0 || (!force && now_ms() < g.respawn_at[d]))
			continue;
		pthread_mutex_lock(&g.lock);
		rc = lp_test_platform_respawn(g.p, d, &err);
		if (rc == LP_OK && d == LP_TEST_APISERVER)
			LP_TEST_FMT(g.url, "%s", g.p->url);
		pthread_mutex_unlock(&g.lock);
		REQUIRE(rc == LP_OK, "restarting the %s: %s",
		        d == LP_TEST_APISERVER ? "apiserver" : "controller", err.message);
		g.respawn_at[d] = 0;
	}
}

/*
 * The background uploader: the same paced archive to its own site again and again (200
 * "unchanged" after the first), so an apiserver SIGKILL often lands in the middle of a body.
 */
struct upload_job {
	char zip[1300];
	char token[256];
};

static void *uploader(void *arg)
{
	const struct upload_job *job = arg;
	char url[256];
	lp_test_http_resp r = {0};
	lp_error err = {0};
	int rc, stop;

	for (;;) {
		pthread_mutex_lock(&g.lock);
		stop = g.stop;
		LP_TEST_FMT(url, "%s/api/deployments/%s/archive", g.url, g.sites[UPLOAD_SITE].slug);
		pthread_mutex_unlock(&g.lock);
		if (stop)
			break;
		rc = lp_test_http_upload(&r, url, job->token, NULL, job->zip, UPLOAD_PACE, &err);
		pthread_mutex_lock(&g.lock);
		count_answer(&g.upload_api, rc, r.status);
		pthread_mutex_unlock(&g.lock);
		if (rc != LP_OK)
			sleep_ms(100); /* the apiserver is down: do not spin */
		lp_test_http_resp_release(&r);
	}
	return NULL;
}

/* ---- the checks ---- */

static void problem(char *why, size_t n, int *count, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void problem(char *why, size_t n, int *count, const char *fmt, ...)
{
	size_t used = strlen(why);
	va_list ap;

	if ((*count)++ < 6 && used + 3 < n) {
		if (used) {
			lp_fmt_text(why + used, n - used, "; ");
			used += 2;
		}
		va_start(ap, fmt);
		lp_vfmt_text(why + used, n - used, fmt, ap);
		va_end(ap);
	}
}

static int is_tracked(const char *name, int git_only)
{
	int i;

	for (i = 0; i < N_SITES; i++)
		if (!strcmp(g.sites[i].slug, name) && (!git_only || g.sites[i].git))
			return 1;
	return 0;
}

/* 1 when name is "<tracked site><suffix>" (suffix may be ""). */
static int is_tracked_with(const char *name, const char *suffix, int git_only)
{
	size_t n = strlen(name), k = strlen(suffix);
	char base[SLUG_MAX + 8];

	if (n <= k || n - k >= sizeof(base) || strcmp(name + n - k, suffix))
		return 0;
	memcpy(base, name, n - k);
	base[n - k] = '\0';
	return is_tracked(base, git_only);
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* Every entry of dir; an entry for which ok() is 0 is a problem. A missing dir is fine. */
static void check_entries(char *why, size_t n, int *count, const char *dir,
                          int (*ok)(const char *name, const void *ctx), const void *ctx)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (!ok(e->d_name, ctx))
			problem(why, n, count, "stray %s/%s", dir, e->d_name);
	}
	closedir(d);
}

static int ok_none(const char *name, const void *ctx)
{
	return 0;
}

static int ok_suffix(const char *name, const void *ctx)
{
	return is_tracked_with(name, ctx, 0);
}

static int ok_git_cache(const char *name, const void *ctx)
{
	return is_tracked_with(name, ".git", 1);
}

static int ok_uploads(const char *name, const void *ctx)
{
	return !strcmp(name, "sha256");
}

static int ok_archive(const char *name, const void *ctx)
{
	return name[0] != '.';
}

static int ok_site_dir(const char *name, const void *ctx)
{
	return !strcmp(name, "revisions") || !strcmp(name, "current") ||
	       !strcmp(name, ".launchpad-rules");
}

static int ok_revision(const char *name, const void *ctx)
{
	return all_digits(name);
}

static int ok_rules(const char *name, const void *ctx)
{
	size_t n = strlen(name);
	char num[32];

	/* the symlink to the live config, and what the serve containers last loaded */
	if (!strcmp(name, "current.conf") || !strcmp(name, ".loaded"))
		return 1;
	if (n <= 5 || n - 5 >= sizeof(num) || strcmp(name + n - 5, ".conf"))
		return 0;
	memcpy(num, name, n - 5);
	num[n - 5] = '\0';
	return all_digits(num);
}

/* The data dir holds the tracked sites' traces and nothing else: no temp file anywhere. */
static void check_data_dir(char *why, size_t n, int *count)
{
	char path[1400], line[1200], cmd[2048];
	FILE *f;
	int i;

	LP_TEST_FMT(path, "%s/work", g.p->data_dir);
	check_entries(why, n, count, path, ok_none, NULL);
	LP_TEST_FMT(path, "%s/uploads", g.p->data_dir);
	check_entries(why, n, count, path, ok_uploads, NULL);
	LP_TEST_FMT(path, "%s/uploads/sha256", g.p->data_dir);
	check_entries(why, n, count, path, ok_archive, NULL);
	LP_TEST_FMT(path, "%s/sites", g.p->data_dir);
	check_entries(why, n, count, path, ok_suffix, "");
	LP_TEST_FMT(path, "%s/logs", g.p->data_dir);
	check_entries(why, n, count, path, ok_suffix, "");
	LP_TEST_FMT(path, "%s/conf", g.p->data_dir);
	check_entries(why, n, count, path, ok_suffix, ".nginx.conf");
	LP_TEST_FMT(path, "%s/cache/build", g.p->data_dir);
	check_entries(why, n, count, path, ok_suffix, "");
	LP_TEST_FMT(path, "%s/cache/git", g.p->data_dir);
	check_entries(why, n, count, path, ok_git_cache, NULL);
	for (i = 0; i < N_SITES; i++) {
		LP_TEST_FMT(path, "%s/sites/%s", g.p->data_dir, g.sites[i].slug);
		check_entries(why, n, count, path, ok_site_dir, NULL);
		LP_TEST_FMT(path, "%s/sites/%s/revisions", g.p->data_dir, g.sites[i].slug);
		check_entries(why, n, count, path, ok_revision, NULL);
		LP_TEST_FMT(path, "%s/sites/%s/.launchpad-rules", g.p->data_dir, g.sites[i].slug);
		check_entries(why, n, count, path, ok_rules, NULL);
	}
	/* temp names anywhere (the Git caches are git's own business; uploads/ is checked above) */
	LP_TEST_FMT(cmd,
	            "find '%s' \\( -path '%s/cache/git' -o -path '%s/uploads/.upload-*' \\) -prune "
	            "-o \\( -name '*.tmp*' -o -name '.tmp-*' -o -name '.upload-*' "
	            "-o -name '.current.tmp*' \\) -print 2>/dev/null",
	            g.p->data_dir, g.p->data_dir, g.p->data_dir);
	if ((f = popen(cmd, "r")) != NULL) {
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = '\0';
			problem(why, n, count, "temp file left: %s", line);
		}
		pclose(f);
	}
}

/* Only one running serve container per tracked site: anything else of the instance is orphaned. */
static void check_containers(char *why, size_t n, int *count)
{
	char cmd[512], line[512], *rest, *name, *role, *site, *state;
	int per_site[N_SITES] = {0}, i;
	FILE *f;

	LP_TEST_FMT(cmd,
	            "docker ps -a --filter label=launchpad.instance=%s --format "
	            "'{{.Names}}|{{.Label \"launchpad.role\"}}|{{.Label \"launchpad.site\"}}|"
	            "{{.State}}' 2>&1",
	            g.p->instance);
	if ((f = popen(cmd, "r")) == NULL) {
		problem(why, n, count, "cannot list containers");
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		rest = line;
		name = strsep(&rest, "|");
		role = strsep(&rest, "|");
		site = strsep(&rest, "|");
		state = strsep(&rest, "|");
		if (!name || !role || !site || !state) {
			problem(why, n, count, "docker ps: %s", line);
			continue;
		}
		for (i = 0; i < N_SITES; i++)
			if (!strcmp(g.sites[i].slug, site))
				break;
		if (strcmp(role, "serve") || i == N_SITES || strcmp(state, "running"))
			problem(why, n, count, "orphan container %s (role %s, site %s, %s)", name,
			        role, site, state);
		else
			per_site[i]++;
	}
	pclose(f);
	for (i = 0; i < N_SITES; i++)
		if (per_site[i] != 1)
			problem(why, n, count, "site %s has %d running serve containers, not 1",
			        g.sites[i].slug, per_site[i]);
}

/* Live at the desired revision, serving that revision's page. */
static void check_site(char *why, size_t n, int *count, const struct site *s)
{
	lp_test_http_resp r = {0};
	lp_error err = {0};
	char path[256], link_path[1400], link[256], want[64], *body = NULL;
	const char *page = NULL;
	const cJSON *it;
	long desired, current, status = 0;
	ssize_t len;

	LP_TEST_FMT(path, "/api/deployments/%s", s->slug);
	if (api(&r, "GET", path, NULL) != 200) {
		problem(why, n, count, "GET %s: HTTP %ld", path, r.status);
		goto done;
	}
	desired = jnum(r.json, "desired_revision");
	current = jnum(r.json, "current_revision");
	if (strcmp(jstr(r.json, "status"), "live") || desired != current) {
		problem(why, n, count, "%s: status %s, phase %s, revision %ld of %ld: %.200s",
		        s->slug, jstr(r.json, "status"), jstr(r.json, "phase"), current, desired,
		        jstr(r.json, "message"));
		goto done;
	}
	lp_test_http_resp_release(&r);
	LP_TEST_FMT(path, "/api/deployments/%s/revisions", s->slug);
	if (api(&r, "GET", path, NULL) != 200 || !cJSON_IsArray(r.json)) {
		problem(why, n, count, "GET %s: HTTP %ld", path, r.status);
		goto done;
	}
	cJSON_ArrayForEach(it, r.json)
	{
		if (jnum(it, "revision") == desired)
			page = page_of(s, jstr(it, "source"), jstr(it, "resolved_source"));
	}
	if (page == NULL) {
		problem(why, n, count, "%s: revision %ld has a source this test never sent",
		        s->slug, desired);
		goto done;
	}
	/* current -> revisions/<the current revision> */
	LP_TEST_FMT(link_path, "%s/sites/%s/current", g.p->data_dir, s->slug);
	len = readlink(link_path, link, sizeof(link) - 1);
	link[len > 0 ? len : 0] = '\0';
	LP_TEST_FMT(want, "revisions/%ld", current);
	if (strcmp(link, want))
		problem(why, n, count, "%s -> \"%s\", not %s", link_path, link, want);
	if (lp_test_platform_fetch_site(&body, &status, g.p, s->slug, "/", &err) != LP_OK ||
	    status != 200 || strcmp(body, page))
		problem(why, n, count,
		        "%s serves HTTP %ld \"%.100s\" (%s), not revision %ld's \"%.100s\"",
		        s->slug, status, body ? body : "", err.message, desired, page);
done:
	free(body);
	lp_test_http_resp_release(&r);
}

/* The whole convergence condition; the problems seen (first few) in g.problem. */
static int converged(void)
{
	lp_test_http_resp r = {0};
	char path[256];
	int count = 0, i;

	g.problem[0] = '\0';
	for (i = 0; i < N_SITES; i++)
		check_site(g.problem, sizeof(g.problem), &count, &g.sites[i]);
	for (i = 0; i < g.ntemps; i++) {
		LP_TEST_FMT(path, "/api/deployments/%s", g.temps[i].slug);
		if (api(&r, "GET", path, NULL) != 404)
			problem(g.problem, sizeof(g.problem), &count, "deleted site %s: HTTP %ld",
			        g.temps[i].slug, r.status);
		lp_test_http_resp_release(&r);
	}
	check_containers(g.problem, sizeof(g.problem), &count);
	check_data_dir(g.problem, sizeof(g.problem), &count);
	return count == 0;
}

/* ---- set-up ---- */

static void create_sites(void)
{
	char zip[1300], hex[LP_SHA256_HEX_LEN], page[PAGE_MAX], body[4096], url[256];
	const char *fields[] = {"name", NULL, "slug", NULL, "source_type", "zip", NULL};
	lp_test_http_resp r = {0};
	lp_error err = {0};
	int i;

	for (i = 0; i < N_SITES; i++) {
		struct site *s = &g.sites[i];

		s->git = i >= N_ARCHIVE && i < N_ARCHIVE + N_GIT;
		LP_TEST_FMT(s->slug,
		            i == UPLOAD_SITE ? "chaos-upload"
		            : s->git         ? "chaos-git-%d"
		                             : "chaos-zip-%d",
		            i);
		page_for(page, s);
		if (s->git) {
			LP_TEST_FMT(s->repo, "%s/%s.git-src", g.scratch, s->slug);
			REQUIRE(run("git init -q -b main '%s' && git -C '%s' config user.email "
			            "chaos@launchpad.test && git -C '%s' config user.name chaos",
			            s->repo, s->repo, s->repo) == 0,
			        "git init %s", s->repo);
			REQUIRE(commit_page(s, page) == 0, "first commit in %s", s->repo);
			add_source(s, s->head, page);
			LP_TEST_FMT(
			    body,
			    "{\"name\":\"%s\",\"slug\":\"%s\",\"source_type\":\"github\","
			    "\"github_url\":\"file://%s\",\"branch\":\"main\",\"build_cmd\":\"%s\","
			    "\"output_dir\":\"dist\",\"auto_deploy\":true}",
			    s->slug, s->slug, s->repo, BUILD_CMD);
			REQUIRE(api(&r, "POST", "/api/deployments", body) == 201,
			        "POST %s answered %ld: %s", s->slug, r.status, r.body);
			LP_TEST_FMT(s->secret, "%s", jstr(r.json, "webhook_secret"));
			REQUIRE(s->secret[0], "no webhook_secret for %s", s->slug);
		} else {
			LP_TEST_FMT(zip, "%s/%s.zip", g.scratch, s->slug);
			REQUIRE_OK(make_archive(hex, zip, page,
			                        i == UPLOAD_SITE ? UPLOAD_FILLER : 0, &err));
			add_source(s, hex, page);
			fields[1] = s->slug;
			fields[3] = s->slug;
			REQUIRE_OK(lp_test_platform_upload(&r, g.p, "/api/deployments", fields, zip,
			                                   &err));
			REQUIRE(r.status == 201, "POST %s answered %ld: %s", s->slug, r.status,
			        r.body);
			if (i != UPLOAD_SITE)
				unlink(zip);
		}
		lp_test_http_resp_release(&r);
	}
	for (i = 0; i < N_SITES; i++)
		REQUIRE_OK(lp_test_platform_wait_status(NULL, g.p, g.sites[i].slug, "live",
		                                        SETUP_LIVE_MS, &err));
	LP_TEST_FMT(url, "%s", g.p->url);
	pthread_mutex_lock(&g.lock);
	LP_TEST_FMT(g.url, "%s", url);
	pthread_mutex_unlock(&g.lock);
}

/* LP_CHAOS_SECONDS, within bounds; the default otherwise. */
static int chaos_seconds(void)
{
	const char *v = getenv("LP_CHAOS_SECONDS");
	int n = v && *v ? atoi(v) : CHAOS_SECONDS_DEFAULT;

	return n >= 5 && n <= CHAOS_SECONDS_MAX ? n : CHAOS_SECONDS_DEFAULT;
}

/* LP_CHAOS_DOCKERD_RESTART=1: the engine is ours to restart (CI). */
static int dockerd_restart(void)
{
	const char *v = getenv("LP_CHAOS_DOCKERD_RESTART");

	return v && !strcmp(v, "1");
}

static void choose_seed(void)
{
	const char *s = getenv("LP_CHAOS_SEED");
	struct timespec ts;

	if (s && *s) {
		g.seed = strtoull(s, NULL, 10);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		g.seed = ((uint64_t)ts.tv_sec * 1000003u) ^ (uint64_t)ts.tv_nsec ^
		         ((uint64_t)getpid() << 32);
	}
	g.rng = g.seed;
	g.seconds = chaos_seconds();
	g.dockerd_restart = dockerd_restart();
	g.converge_ms = -1;
	g.dockerd_ms = -1;
	fprintf(stderr,
	        "chaos: seed %" PRIu64 " (replay: LP_CHAOS_SEED=%" PRIu64
	        "), %d s, dockerd restart %s\n",
	        g.seed, g.seed, g.seconds, g.dockerd_restart ? "on" : "off");
}

START_TEST(test_chaos_converges)
{
	const char *env[] = {"LAUNCHPAD_LOG_LEVEL=info", NULL};
	lp_test_platform_options opts = {.env = env};
	static struct upload_job job;
	char path[1400];
	lp_store *store = NULL;
	lp_error err = {0};
	int64_t t_end, t_dockerd = -1, t0;
	int i, rc, nstray = 0;

	choose_seed();
	rc = lp_test_platform_start(&g.p, &opts, &err);
	ck_assert_msg(rc == LP_OK, "cannot start the platform: %s", err.message);
	LP_TEST_FMT(g.scratch, "%s/scratch", g.p->root);
	REQUIRE_OK(lp_fs_mkdirs(g.scratch, 0755, &err));
	t0 = now_ms();
	create_sites();
	fprintf(stderr, "chaos: %d sites live in %lld ms; chaos for %d s\n", N_SITES,
	        (long long)(now_ms() - t0), g.seconds);
	LP_TEST_FMT(job.zip, "%s/%s.zip", g.scratch, g.sites[UPLOAD_SITE].slug);
	LP_TEST_FMT(job.token, "%s", g.p->token);
	REQUIRE(pthread_create(&g.uploader, NULL, uploader, &job) == 0, "pthread_create");
	g.uploading = 1;

	t0 = now_ms();
	t_end = t0 + (int64_t)g.seconds * 1000;
	if (g.dockerd_restart)
		t_dockerd = t0 + (int64_t)g.seconds * (300 + rnd_below(400));
	while (now_ms() < t_end) {
		const struct action *a;
		int r;

		tend_daemons(0);
		if (t_dockerd >= 0 && now_ms() >= t_dockerd) {
			/* it stops every container: builds and serve containers at once */
			int64_t t_restart = now_ms();

			REQUIRE_OK(lp_test_dockerd_restart(&err));
			g.dockerd_ms = now_ms() - t_restart;
			g.done[K_DOCKERD_RESTART]++;
			t_dockerd = -1;
			continue;
		}
		a = pick_action();
		r = a->fn();
		if (r == 1)
			g.no_target[a->kind]++;
		else
			g.done[a->kind]++;
		sleep_ms(ACTION_PAUSE_MIN_MS + rnd_below(ACTION_PAUSE_SPAN_MS));
	}
	stop_uploader();
	g.chaos_api = g.main_api;
	tend_daemons(1);
	/* the throwaway sites are deleted for sure (answers may have been lost in the chaos) */
	for (i = 0; i < g.ntemps; i++)
		for (t0 = now_ms(); !g.temps[i].deleted && now_ms() - t0 < 10000; sleep_ms(200))
			delete_temp(&g.temps[i]);

	t0 = now_ms();
	while (!converged() && now_ms() - t0 < CONVERGE_MS)
		sleep_ms(500);
	REQUIRE(g.problem[0] == '\0', "not converged %d s after the chaos: %s", CONVERGE_MS / 1000,
	        g.problem);
	g.converge_ms = now_ms() - t0;

	REQUIRE(g.crashes == 0, "a daemon exited on its own: %s", g.crash_what);
	REQUIRE(g.main_api.http_500 == 0 && g.upload_api.http_500 == 0,
	        "the API answered 500 (%ld + %ld times)", g.main_api.http_500,
	        g.upload_api.http_500);
	REQUIRE_OK(lp_test_platform_stop(g.p, 0, &err));
	/* a clean stop leaves nothing half-written either */
	g.problem[0] = '\0';
	check_data_dir(g.problem, sizeof(g.problem), &nstray);
	REQUIRE(nstray == 0, "after the daemons stopped: %s", g.problem);
	LP_TEST_FMT(path, "%s/db/launchpad.db", g.p->data_dir);
	REQUIRE_OK(lp_store_open(&store, path, &err));
	rc = lp_store_integrity_check(store, &err);
	lp_store_close(store);
	REQUIRE(rc == LP_OK, "PRAGMA integrity_check: %s", err.message);
	print_figures();
	fprintf(stderr, "  store integrity_check: ok\n");
	lp_test_platform_free(g.p);
	g.p = NULL;
}
END_TEST

static Suite *chaos_suite(void)
{
	Suite *s = suite_create("chaos");
	TCase *tc = tcase_create("chaos");

	/* the bound of the whole run: set-up, chaos, convergence, checks */
	tcase_set_timeout(tc, TIMEOUT_BASE_S + chaos_seconds() + CONVERGE_MS / 1000 +
	                          (dockerd_restart() ? TIMEOUT_DOCKERD_S : 0));
	tcase_add_test(tc, test_chaos_converges);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	lp_test_require_docker();
	return lp_test_run(chaos_suite());
}
