/* bench_api.c: requests/s of GET one site and GET the list with 1,000 sites, and the server's RSS.
 */
#include <curl/curl.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "launchpad/fs.h"
#include "launchpad/spec.h"
#include "launchpad/store.h"
#include "tests/lib/testutil.h"

#define BENCH_SITES   1000
#define BENCH_SECONDS 10
#define BENCH_CONNS   32

static pid_t server_pid;
static unsigned server_port;
static char token[128];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int start_server(const char *dir)
{
	char *bin = lp_test_bin_path("launchpad-apiserver"), log[4096], line[512];
	FILE *f;
	int i;

	snprintf(log, sizeof(log), "%s/apiserver.log", dir);
	if ((server_pid = fork()) == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, 2);
		execl(bin, bin, "--data-dir", dir, "--listen", "127.0.0.1:0", "--log-level", "warn",
		      (char *)NULL);
		_exit(127);
	}
	free(bin);
	for (i = 0; i < 200 && server_port == 0; i++) {
		usleep(25000);
		if ((f = fopen(log, "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "listening on http://127.0.0.1:%u", &server_port) == 1)
				break;
		fclose(f);
	}
	snprintf(log, sizeof(log), "%s/admin.token", dir);
	if (server_port == 0 || (f = fopen(log, "r")) == NULL)
		return -1;
	if (fgets(token, sizeof(token), f) == NULL)
		token[0] = '\0';
	fclose(f);
	token[strcspn(token, "\n")] = '\0';
	return 0;
}

/* Sites are written through the store directly: the figure is about reads, not set-up. */
static int seed_sites(const char *dir)
{
	char path[4096], manifest[512], name[32], hash[LP_SHA256_HEX_LEN], *json = NULL;
	lp_store *st = NULL;
	lp_error err = {0};
	int i, rc = 0;

	snprintf(path, sizeof(path), "%s/db/launchpad.db", dir);
	if (lp_store_open(&st, path, &err) != LP_OK)
		return -1;
	for (i = 0; i < BENCH_SITES && rc == 0; i++) {
		lp_site_list list = {0};

		snprintf(name, sizeof(name), "site-%04d", i);
		snprintf(manifest, sizeof(manifest),
		         "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata: {name: %s}\n"
		         "spec:\n  source: {git: {url: 'https://github.com/u/r%d'}}\n"
		         "  build: {command: npm run build, env: {NODE_ENV: production}}\n",
		         name, i);
		if (lp_spec_parse(&list, manifest, strlen(manifest), NULL, NULL, &err) != LP_OK ||
		    lp_site_to_json(&json, list.items[0], &err) != LP_OK ||
		    lp_site_spec_hash(hash, list.items[0], &err) != LP_OK) {
			rc = -1;
		} else {
			lp_store_site_new in = {.name = name,
			                        .spec_json = json,
			                        .spec_hash = hash,
			                        .webhook_secret = "s",
			                        .trigger = LP_TRIGGER_CREATE};
			rc = lp_store_site_create(NULL, st, &in, &err) == LP_OK ? 0 : -1;
		}
		free(json);
		json = NULL;
		lp_site_list_release(&list);
	}
	if (rc)
		fprintf(stderr, "seeding: %s\n", err.message);
	lp_store_close(st);
	return rc;
}

static long rss_kb(void)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)server_pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

struct load {
	const char *url;
	double until;
	long done, errors;
};

static size_t discard(char *p, size_t sz, size_t n, void *ud)
{
	return sz * n;
}

/* Fallback load client when wrk is missing: one libcurl keep-alive connection per thread. */
static void *load_thread(void *arg)
{
	struct load *l = arg;
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char auth[200];
	long status = 0;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	h = curl_slist_append(h, auth);
	curl_easy_setopt(c, CURLOPT_URL, l->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	while (now() < l->until) {
		if (curl_easy_perform(c) != CURLE_OK ||
		    (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status), status != 200))
			__atomic_add_fetch(&l->errors, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&l->done, 1, __ATOMIC_RELAXED);
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return NULL;
}

static double run_load(const char *what, const char *path, long *peak_rss)
{
	char url[256], cmd[1024], line[512];
	double rps = -1, t0;
	FILE *p;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", server_port, path);
	*peak_rss = 0;
	if (system("command -v wrk >/dev/null 2>&1") == 0) {
		snprintf(
		    cmd, sizeof(cmd),
		    "wrk -t2 -c%d -d%ds --timeout 10s -H 'Authorization: Bearer %s' '%s' 2>&1 & "
		    "WPID=$!; while kill -0 $WPID 2>/dev/null; do "
		    "grep VmRSS /proc/%d/status; sleep 0.5; done; wait $WPID",
		    BENCH_CONNS, BENCH_SECONDS, token, url, (int)server_pid);
		if ((p = popen(cmd, "r")) == NULL)
			return -1;
		while (fgets(line, sizeof(line), p)) {
			long kb;

			if (sscanf(line, "VmRSS: %ld kB", &kb) == 1 && kb > *peak_rss)
				*peak_rss = kb;
			sscanf(line, "Requests/sec: %lf", &rps);
			if (strstr(line, "Non-2xx") || strstr(line, "Socket errors"))
				fprintf(stderr, "%s: wrk: %s", what, line);
		}
		pclose(p);
		return rps;
	}
	{
		pthread_t t[BENCH_CONNS];
		struct load l = {.url = url};
		int i;

		t0 = now();
		l.until = t0 + BENCH_SECONDS;
		for (i = 0; i < BENCH_CONNS; i++)
			pthread_create(&t[i], NULL, load_thread, &l);
		while (now() < l.until) {
			long kb = rss_kb();
			if (kb > *peak_rss)
				*peak_rss = kb;
			usleep(500000);
		}
		for (i = 0; i < BENCH_CONNS; i++)
			pthread_join(t[i], NULL);
		if (l.errors)
			fprintf(stderr, "%s: %ld errors\n", what, l.errors);
		return (double)l.done / (now() - t0);
	}
}

int main(void)
{
	char *dir = lp_test_mkdtemp("lp-bench-api");
	long idle, rss_get, rss_list;
	double get_rps, list_rps;
	int status = 0, rc = 1;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (dir == NULL || start_server(dir) != 0 || seed_sites(dir) != 0) {
		fprintf(stderr, "bench_api: set-up failed (see %s/apiserver.log)\n",
		        dir ? dir : "?");
		goto done;
	}
	idle = rss_kb();
	get_rps = run_load("get", "/api/deployments/site-0500", &rss_get);
	list_rps = run_load("list", "/api/deployments", &rss_list);
	printf("apiserver, %d sites, %d connections, %d s each (%s):\n", BENCH_SITES, BENCH_CONNS,
	       BENCH_SECONDS, system("command -v wrk >/dev/null 2>&1") == 0 ? "wrk" : "libcurl");
	printf("  GET /api/deployments/:id  %10.1f requests/s   peak VmRSS %ld kB\n", get_rps,
	       rss_get);
	printf("  GET /api/deployments      %10.1f requests/s   peak VmRSS %ld kB\n", list_rps,
	       rss_list);
	printf("  idle VmRSS after seeding  %ld kB\n", idle);
	rc = 0;
done:
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, &status, 0);
	}
	if (dir && lp_fs_remove_tree(dir, NULL) != LP_OK)
		fprintf(stderr, "cleanup: cannot remove %s\n", dir);
	free(dir);
	curl_global_cleanup();
	return rc;
}
