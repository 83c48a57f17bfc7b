/* bench_build.c: cold vs warm dependency-cache rebuild times of the npm fixtures (real Docker). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/build.h"
#include "launchpad/names.h"
#include "launchpad/config.h"
#include "launchpad/crypto.h"
#include "launchpad/docker.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "tests/lib/testutil.h"

/*
 * LP_TEST_FMT reports to Check, which outside a running test aborts even on success ("Unable to
 * report test progress"): a benchmark formats through lp_fmt and stops on a path that would not
 * fit.
 */
#define BENCH_FMT(buf, ...)                                                                        \
	do {                                                                                       \
		if (lp_fmt((buf), sizeof(buf), __VA_ARGS__) != LP_OK) {                            \
			fprintf(stderr, "bench: %s does not fit\n", #buf);                         \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

#define NPM_CMD                                                                                    \
	"npm ci --no-audit --no-fund --fetch-retries=0 --fetch-timeout=15000 && npm run build"

static char g_data[1024];
static lp_config *g_cfg;
static lp_docker *g_docker;

/*
 * Where TLS to the registry is intercepted by a private CA (as on some CI machines), set
 * LAUNCHPAD_BENCH_NPM_CAFILE to its bundle: it is added to the upload as .bench-ca.pem and npm is
 * pointed at it. Nothing of the sort exists in the product: a site would ship its own .npmrc.
 */
static const char *bench_cafile(void)
{
	const char *v = getenv("LAUNCHPAD_BENCH_NPM_CAFILE");

	return v && *v ? v : NULL;
}

/* Zip a fixture (plus the optional CA bundle) into uploads/sha256/<hex>.zip; 0 on success. */
static int upload(char digest[80], const char *fixture)
{
	char cmd[8192], ca[2048] = "", hex[80] = "";
	FILE *p;

	if (bench_cafile() != NULL)
		BENCH_FMT(ca, "cp '%s' '%s/src/.bench-ca.pem';", bench_cafile(), g_data);
	BENCH_FMT(
	    cmd,
	    "set -e; mkdir -p '%s/uploads/sha256'; rm -rf '%s/src' '%s/u.zip'; "
	    "cp -r '%s' '%s/src'; %s cd '%s/src'; "
	    "zip -qr '%s/u.zip' . -x 'node_modules/*' 'dist/*'; sha256sum '%s/u.zip' | cut -c1-64",
	    g_data, g_data, g_data, fixture, g_data, ca, g_data, g_data, g_data);
	p = popen(cmd, "r");
	if (p == NULL || fgets(hex, sizeof(hex), p) == NULL) {
		if (p)
			pclose(p);
		return -1;
	}
	pclose(p);
	hex[strcspn(hex, "\n")] = '\0';
	BENCH_FMT(cmd, "mv '%s/u.zip' '%s/uploads/sha256/%s.zip'", g_data, g_data, hex);
	if (strlen(hex) != 64 || system(cmd) != 0)
		return -1;
	if (lp_fmt(digest, 80, "sha256:%.64s", hex) != LP_OK)
		return -1;
	return 0;
}

/* The container's own run time, from the log's "exit code N after X s" line. */
static double container_seconds(const char *log_path)
{
	char *data = NULL, *p;
	size_t len;
	double s = -1;

	if (lp_fs_read_file(&data, &len, log_path, 1 << 22, NULL) != LP_OK)
		return -1;
	p = strstr(data, "exit code ");
	if (p != NULL && (p = strstr(p, " after ")) != NULL)
		s = atof(p + 7);
	free(data);
	return s;
}

/* Two builds of one fixture sharing the site's cache: revision 1 cold, revision 2 warm. */
static int measure(const char *fixture_rel, const char *site_name)
{
	char digest[80], *fixture = lp_test_src_path(fixture_rel);
	lp_env_var ca_env = {.name = "npm_config_cafile", .value = "/workspace/.bench-ca.pem"};
	lp_site s;
	int rc = 0;

	memset(&s, 0, sizeof(s));
	s.name = (char *)site_name;
	s.source_kind = LP_SOURCE_ARCHIVE;
	s.has_build = 1;
	s.build_command = NPM_CMD;
	s.build_output_dir = "dist";
	s.build_timeout_seconds = 300;
	if (upload(digest, fixture) != 0) {
		fprintf(stderr, "cannot zip %s\n", fixture);
		free(fixture);
		return -1;
	}
	free(fixture);
	s.archive_digest = digest;
	if (bench_cafile() != NULL) {
		s.build_env = &ca_env;
		s.build_env_count = 1;
	}
	for (long n = 1; n <= 2 && rc == 0; n++) {
		lp_build_request req = {.cfg = g_cfg,
		                        .docker = g_docker,
		                        .site_name = site_name,
		                        .spec = &s,
		                        .revision = n};
		lp_build_result res;
		lp_error err = {0};

		rc = lp_build_revision(&res, &req, &err);
		if (rc != LP_OK) {
			printf("%-9s %-5s FAILED: %s\n", site_name, n == 1 ? "cold" : "warm",
			       err.message);
			break;
		}
		printf("%-9s %-5s total %6.2f s   container %6.2f s\n", site_name,
		       n == 1 ? "cold" : "warm", (double)res.duration_ms / 1000.0,
		       container_seconds(res.log_path));
	}
	return rc;
}

/*
 * The disk caps' cost: a build that lays down a node_modules-sized tree (2,000 packages, 20,000
 * files, 40 MB) and runs 10 s more, so the watchdog walks it about ten times; built with the caps
 * on and off, three times each.
 */
#define TREE_CMD                                                                                   \
	"node -e \"const fs=require('fs');for(let d=0;d<2000;d++){const "                          \
	"p='node_modules/p'+d+'/lib';"                                                             \
	"fs.mkdirSync(p,{recursive:true});for(let f=0;f<10;f++)fs.writeFileSync(p+'/f'+f+'.js',"   \
	"'x'.repeat(2000))}\" && sleep 10 && mkdir -p dist && echo ok > dist/index.html"
#define TREE_RUNS         3
#define WATCHDOG_FLOOR_PC 10.0 /* the design's bound: measuring takes at most ~10% of a core */

static int tree_build(lp_build_result *res, const char *digest, long n, int caps)
{
	lp_site s;
	lp_build_request req = {
	    .cfg = g_cfg, .docker = g_docker, .site_name = "disk-tree", .spec = &s, .revision = n};
	lp_error err = {0};
	int rc;

	memset(&s, 0, sizeof(s));
	s.name = "disk-tree";
	s.source_kind = LP_SOURCE_ARCHIVE;
	s.has_build = 1;
	s.build_command = TREE_CMD;
	s.build_output_dir = "dist";
	s.build_timeout_seconds = 300;
	s.archive_digest = (char *)digest;
	g_cfg->build_workspace_max_mb = caps ? 2048 : 0;
	g_cfg->build_cache_max_mb = caps ? 1024 : 0;
	rc = lp_build_revision(res, &req, &err);
	if (rc != LP_OK)
		printf("disk-tree FAILED: %s\n", err.message);
	return rc;
}

static void measure_disk_caps(void)
{
	char digest[80], *fixture = lp_test_src_path("examples/sites/hello");
	double total[2] = {0, 0}, container[2] = {0, 0}, check_ms = 0;
	int checks = 0, run, caps;
	long n = 1;
	uint64_t ws = 0;

	if (upload(digest, fixture) != 0) {
		free(fixture);
		return;
	}
	free(fixture);
	for (run = 0; run < TREE_RUNS; run++)
		for (caps = 0; caps < 2; caps++) {
			lp_build_result res;

			if (tree_build(&res, digest, n++, caps) != LP_OK)
				return;
			total[caps] += (double)res.duration_ms / 1000.0;
			container[caps] += container_seconds(res.log_path);
			if (caps) {
				check_ms += (double)res.disk_check_ms;
				checks += res.disk_checks;
				ws = res.workspace_bytes;
			}
		}
	printf("disk caps: a %.1f MB workspace of 20,000 files, %d builds each way\n",
	       (double)ws / 1e6, TREE_RUNS);
	printf("  caps off: total %6.2f s   container %6.2f s (mean)\n", total[0] / TREE_RUNS,
	       container[0] / TREE_RUNS);
	printf("  caps on:  total %6.2f s   container %6.2f s (mean)   +%.2f s\n",
	       total[1] / TREE_RUNS, container[1] / TREE_RUNS, (total[1] - total[0]) / TREE_RUNS);
	printf("  measuring: %d walks, %.1f ms each, %.2f s per build = %.1f%% of the container's "
	       "time (floor: <= %.0f%%)\n",
	       checks / TREE_RUNS, checks ? check_ms / checks : 0.0, check_ms / 1000.0 / TREE_RUNS,
	       container[1] > 0 ? 100.0 * check_ms / 1000.0 / container[1] : 0.0,
	       WATCHDOG_FLOOR_PC);
}

int main(void)
{
	char *argv[] = {"bench_build", NULL}, *root, hex[17], inst[32], net[128];
	char label[96];
	const char *labels[] = {label, NULL};
	lp_docker_summaries *left = NULL;
	const char *image = getenv("LAUNCHPAD_TEST_BUILD_IMAGE");
	lp_error err = {0};
	int deps_rc;

	lp_test_require_docker();
	root = lp_test_mkdtemp("lp-bench-build");
	if (root == NULL || lp_config_new(&g_cfg, NULL, NULL, 1, argv, &err) != LP_OK ||
	    lp_docker_new(&g_docker, NULL, &err) != LP_OK) {
		fprintf(stderr, "setup failed: %s\n", err.message);
		return 1;
	}
	snprintf(g_data, sizeof(g_data), "%s/data", root);
	if (lp_fs_mkdirs(g_data, 0755, &err) != LP_OK || lp_crypto_random_hex(hex, 8) != LP_OK) {
		fprintf(stderr, "setup failed: %s\n", err.message);
		return 1;
	}
	snprintf(inst, sizeof(inst), "bench%s", hex);
	free(g_cfg->data_dir);
	g_cfg->data_dir = strdup(g_data);
	free(g_cfg->instance);
	g_cfg->instance = strdup(inst);
	free(g_cfg->build_image);
	g_cfg->build_image = strdup(image && *image ? image : "launchpad-test/node:local");
	/* The tests' serve image: publishing checks it is on the engine (and pulls it if not). */
	image = getenv("LAUNCHPAD_TEST_SERVE_IMAGE");
	free(g_cfg->serve_image);
	g_cfg->serve_image = strdup(image && *image ? image : "launchpad-test/nginx:local");

	printf("build image %s; command: %s\n", g_cfg->build_image, NPM_CMD);
	deps_rc = measure("examples/sites/npm-deps", "npm-deps");
	if (deps_rc != 0)
		printf("npm-deps needs the npm registry from inside build containers; it failed "
		       "above, so the figure below is the no-dependency fixture\n");
	measure("examples/sites/npm-app", "npm-app");
	measure_disk_caps();

	snprintf(label, sizeof(label), "launchpad.instance=%s", inst);
	if (lp_docker_container_list(&left, g_docker, labels, NULL) == LP_OK && left->n > 0)
		fprintf(stderr, "warning: %zu container(s) left behind\n", left->n);
	lp_docker_summaries_free(left);
	if (lp_names_build_network(net, sizeof(net), inst, NULL) == LP_OK &&
	    lp_docker_network_remove(g_docker, net, NULL) != LP_OK)
		fprintf(stderr, "cleanup: cannot remove network %s\n", net);
	if (lp_fs_remove_tree(root, NULL) != LP_OK)
		fprintf(stderr, "cleanup: cannot remove %s\n", root);
	free(root);
	lp_docker_free(g_docker);
	lp_config_free(g_cfg);
	return 0;
}
