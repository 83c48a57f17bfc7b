/* bench_gitsrc.c: what the SSRF check adds to a Git fetch (local smart-HTTP server, real engine).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launchpad/clock.h"
#include "launchpad/docker.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "pipeline/gitsrc.h"
#include "tests/lib/git_http_server.h"
#include "tests/lib/testutil.h"

#define RUNS     21
#define GIT_ID   "git -c user.name=LaunchPad -c user.email=bench@launchpad.invalid"
#define CMD_MAX  4096
#define PATH_CAP 1024
#define FLOOR_PC 5.0 /* the check may add at most this share to a fetch */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* One fetch into a fresh cache and workspace: ms, or -1. */
static double fetch_ms(const char *root, const char *url, int checked, const char *deny, int i)
{
	char cache[PATH_CAP], wd[PATH_CAP];
	lp_gitsrc_request req = {0};
	lp_gitsrc_result res;
	lp_error err = {0};
	int64_t t0;
	int rc;

	if (lp_fmt(cache, sizeof(cache), "%s/cache-%d-%d.git", root, checked, i) != LP_OK ||
	    lp_fmt(wd, sizeof(wd), "%s/work-%d-%d", root, checked, i) != LP_OK)
		return -1;
	req.url = url;
	req.branch = "main";
	req.cache_dir = cache;
	req.workdir = wd;
	req.allow_insecure = 1;
	req.timeout_seconds = 60;
	req.check_addresses = checked;
	req.allow_hosts = checked ? "127.0.0.1" : NULL;
	req.deny_ranges = checked ? deny : NULL;
	t0 = lp_clock_mono_ms();
	rc = lp_gitsrc_fetch(&res, &req, &err);
	if (rc != LP_OK) {
		fprintf(stderr, "fetch failed: %s\n", err.message);
		return -1;
	}
	return (double)(lp_clock_mono_ms() - t0);
}

/* The engine's networks as the build passes them, and what asking for them costs. */
static char *engine_deny(double *ms)
{
	lp_docker *d = NULL;
	lp_docker_subnet *subs = NULL;
	double t[RUNS];
	size_t n = 0, i, off = 0;
	char *list;
	int r;

	if (lp_docker_new(&d, NULL, NULL) != LP_OK)
		return NULL;
	for (r = 0; r < RUNS; r++) {
		int64_t t0 = lp_clock_mono_ms();

		free(subs);
		subs = NULL;
		if (lp_docker_network_subnets(&subs, &n, d, NULL) != LP_OK) {
			lp_docker_free(d);
			return NULL;
		}
		t[r] = (double)(lp_clock_mono_ms() - t0);
	}
	*ms = median(t, RUNS);
	list = calloc(n + 1, LP_DOCKER_SUBNET_MAX + 1);
	for (i = 0; list != NULL && i < n; i++) {
		size_t len = strlen(subs[i].cidr);

		memcpy(list + off, subs[i].cidr, len); /* sized for every entry above */
		off += len;
		list[off++] = ',';
	}
	printf("engine networks: %zu subnets, listed in %.1f ms (median of %d)\n", n, *ms, RUNS);
	free(subs);
	lp_docker_free(d);
	return list;
}

int main(void)
{
	char *root = lp_test_mkdtemp("lp-bench-git"), repo[PATH_CAP], cmd[CMD_MAX], *url, *deny;
	double on[RUNS], off[RUNS], list_ms = 0, m_on, m_off;
	lp_test_git_server *srv = NULL;
	lp_error err = {0};
	int i;

	if (root == NULL || lp_fmt(repo, sizeof(repo), "%s/srv/site", root) != LP_OK ||
	    lp_fmt(cmd, sizeof(cmd),
	           "set -e; git init -q -b main '%s'; cd '%s'; for i in $(seq 1 200); do "
	           "echo \"file $i\" > f$i.txt; done; %s add -A; %s commit -qm one",
	           repo, repo, GIT_ID, GIT_ID) != LP_OK ||
	    system(cmd) != 0) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	if (lp_fmt(cmd, sizeof(cmd), "%s/srv", root) != LP_OK ||
	    lp_test_git_server_start(&srv, cmd, &err) != LP_OK) {
		fprintf(stderr, "git server: %s\n", err.message);
		return 1;
	}
	url = lp_test_git_server_url(srv, "site");
	deny = engine_deny(&list_ms);
	if (deny == NULL) {
		fprintf(stderr, "cannot list the engine's networks\n");
		return 1;
	}
	for (i = 0; i < RUNS; i++) {
		off[i] = fetch_ms(root, url, 0, deny, i);
		on[i] = fetch_ms(root, url, 1, deny, i);
		if (off[i] < 0 || on[i] < 0)
			return 1;
	}
	m_off = median(off, RUNS);
	m_on = median(on, RUNS);
	printf("git fetch (200 files, fresh cache, %d runs, median): check off %.1f ms, check on "
	       "%.1f ms (+%.1f ms, %.1f%%; with the network list %.1f%%; floor: <= %.0f%%)\n",
	       RUNS, m_off, m_on, m_on - m_off, 100.0 * (m_on - m_off) / m_off,
	       100.0 * (m_on - m_off + list_ms) / m_off, FLOOR_PC);
	free(deny);
	free(url);
	lp_test_git_server_stop(srv);
	if (lp_fs_remove_tree(root, NULL) != LP_OK)
		fprintf(stderr, "cleanup: cannot remove %s\n", root);
	free(root);
	return 0;
}
