/*
 * bench_applogs.c: the app log pump's throughput (controller/applogs.c) on the real engine. An
 * app container prints BENCH_LINES lines as fast as it can; the figure is how soon all of them
 * are in app.log (lines per second), and the pump's CPU time per 100k lines (this process: the
 * pump's threads are its only work). The floor: the same output read from the engine by one
 * logs call with timestamps into a sink that only counts, i.e. what the engine itself costs.
 * Prints figures; asserts nothing but that it could run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "controller/applogs.h"
#include "launchpad/clock.h"
#include "launchpad/docker.h"
#include "launchpad/fs.h"
#include "launchpad/layout.h"
#include "launchpad/names.h"
#include "tests/lib/bench.h"
#include "tests/lib/testutil.h"

#define BENCH_LINES   200000
#define BENCH_RUNS    3
#define BENCH_WAIT_MS 120000

static double cpu_self(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static int count_sink(void *ctx, int stream, const char *data, size_t len)
{
	long *n = ctx;

	(void)stream;
	for (size_t i = 0; i < len; i++)
		*n += data[i] == '\n';
	return 0;
}

/* The last line the app prints is in app.log. */
static int done(const char *path)
{
	char *text = NULL, want[64];
	int ok;

	snprintf(want, sizeof(want), " stdout %d\n", BENCH_LINES);
	if (lp_fs_read_file(&text, NULL, path, (size_t)4 << 20, NULL) != LP_OK)
		return 0;
	ok = strstr(text, want) != NULL;
	free(text);
	return ok;
}

int main(void)
{
	lp_bench_samples rate = {0}, cpu = {0}, floor = {0};
	char instance[64], cname[128], script[128], path[LP_FS_PATH_MAX], text[LP_BENCH_TEXT_MAX];
	char ftext[LP_BENCH_TEXT_MAX], ctext[LP_BENCH_TEXT_MAX], *dir = lp_test_mkdtemp("bench-al");
	lp_docker *dk = NULL;
	lp_error err = {0};
	int run;

	lp_test_require_docker();
	if (lp_docker_new(&dk, NULL, &err) != LP_OK)
		return fprintf(stderr, "docker: %s\n", err.message), 1;
	snprintf(instance, sizeof(instance), "bench-applogs-%d", (int)getpid());
	snprintf(script, sizeof(script), "seq 1 %d; exec sleep 1000", BENCH_LINES);
	for (run = 0; run < BENCH_RUNS; run++) {
		char site[32], rev[8] = "1";
		const lp_docker_kv labels[] = {{LP_LABEL_INSTANCE, instance},
		                               {LP_LABEL_SITE, site},
		                               {LP_LABEL_ROLE, LP_ROLE_APP},
		                               {LP_LABEL_REVISION, rev}};
		const char *cmd[] = {"sh", "-c", script, NULL};
		lp_docker_create_config cfg = {.image = "launchpad-test/debian:local",
		                               .cmd = cmd,
		                               .labels = labels,
		                               .nlabels = 4,
		                               .network = "none"};
		lp_docker_summary one = {0};
		lp_docker_summaries list = {&one, 1};
		lp_applogs *a = NULL;
		char *id = NULL, logdir[LP_FS_PATH_MAX];
		double t0, c0, t1, f0;
		long n = 0;

		snprintf(site, sizeof(site), "s%d", run);
		snprintf(cname, sizeof(cname), "%s-%s", instance, site);
		cfg.name = cname;
		if (lp_docker_container_create(&id, dk, &cfg, &err) != LP_OK ||
		    lp_docker_container_start(dk, id, &err) != LP_OK)
			return fprintf(stderr, "container: %s\n", err.message), 1;
		/* the app prints all before the pump starts: the pump's speed, not the app's */
		lp_clock_sleep_ms(1500);
		f0 = lp_bench_now();
		if (lp_docker_container_logs_with(dk, id,
		                                  &(lp_docker_logs_options){.timestamps = 1},
		                                  count_sink, &n, NULL, &err) != LP_OK)
			return fprintf(stderr, "logs: %s\n", err.message), 1;
		if (n == BENCH_LINES)
			lp_bench_add(&floor, n / (lp_bench_now() - f0));
		if (lp_layout_log_dir(logdir, sizeof(logdir), dir, site) != LP_OK ||
		    lp_layout_app_log(path, sizeof(path), dir, site) != LP_OK ||
		    lp_applogs_new(&a, dk, dir, 0, &err) != LP_OK)
			return 1;
		one.id = id;
		one.state = "running";
		one.labels = (lp_docker_kv *)labels;
		one.nlabels = 4;
		t0 = lp_bench_now();
		c0 = cpu_self();
		lp_applogs_sync(a, site, &list);
		while (!done(path) && (lp_bench_now() - t0) * 1000 < BENCH_WAIT_MS)
			lp_clock_sleep_ms(20);
		t1 = lp_bench_now();
		if (done(path)) {
			lp_bench_add(&rate, BENCH_LINES / (t1 - t0));
			/* the polling of done() is in this too: the figure is an upper bound */
			lp_bench_add(&cpu, (cpu_self() - c0) * 100000 / BENCH_LINES);
		}
		lp_applogs_free(a);
		if (lp_docker_container_remove(dk, id, LP_DOCKER_RM_FORCE, &err) != LP_OK)
			fprintf(stderr, "cleanup: %s\n", err.message);
		free(id);
	}
	lp_bench_spread(text, &rate, "%.0f", "lines/s");
	lp_bench_spread(ftext, &floor, "%.0f", "lines/s");
	lp_bench_spread(ctext, &cpu, "%.2f", "s CPU / 100k lines");
	printf("app log pump: %d lines from a container into app.log (1 MiB parts)\n", BENCH_LINES);
	printf(
	    "  pump:  %s\n  floor: %s (one logs call with timestamps, counted only)\n  cpu:   %s\n",
	    text, ftext, ctext);
	lp_bench_row("app log pump throughput", "-", ftext, text, "-");
	if (lp_fs_remove_tree(dir, &err) != LP_OK)
		fprintf(stderr, "cleanup: %s\n", err.message);
	free(dir);
	lp_docker_free(dk);
	return 0;
}
