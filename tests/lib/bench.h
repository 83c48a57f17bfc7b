/*
 * bench.h: what the benchmarks (bench/) share: figures kept as samples and shown as
 * min/median/max, load runs with wrk, a process's RSS and CPU time, a constant-body HTTP server
 * (the floor the API's figures are held against), and the rows of the one table `make bench`
 * prints (scripts/bench-table.sh).
 *
 * A benchmark prints its table rows as lines "row|FIGURE|GOAL|FLOOR|MEASURED|OK" on stdout, with
 * its own progress and detail around them; the table is assembled from every benchmark's rows.
 * Nothing here allocates beyond a call except the floor server (lp_bench_floor_stop ends it).
 * Single-threaded use.
 */
#ifndef LAUNCHPAD_TEST_BENCH_H
#define LAUNCHPAD_TEST_BENCH_H

#include <stddef.h>
#include <sys/types.h>

#define LP_BENCH_SAMPLES_MAX 256
#define LP_BENCH_TEXT_MAX    256 /* one cell of the table */

/* Samples of one figure. */
typedef struct lp_bench_samples {
	double v[LP_BENCH_SAMPLES_MAX];
	int n;
} lp_bench_samples;

void lp_bench_add(lp_bench_samples *s, double v);
/* The q-quantile (0..1, nearest rank) of the samples; 0 for none. */
double lp_bench_quantile(const lp_bench_samples *s, double q);
double lp_bench_min(const lp_bench_samples *s);
double lp_bench_max(const lp_bench_samples *s);
/* "MIN / MEDIAN / MAX UNIT (n=N)" with printf format num for each number. */
void lp_bench_spread(char out[LP_BENCH_TEXT_MAX], const lp_bench_samples *s, const char *num,
                     const char *unit);

/* Print one row of the table (and flush, so a later crash keeps it). ok: "yes", "NO", "-". */
void lp_bench_row(const char *figure, const char *goal, const char *floor, const char *measured,
                  const char *ok);

/* Monotonic seconds. */
double lp_bench_now(void);

/* VmRSS of pid in KiB (-1 when gone); utime + stime of pid in seconds (-1 when gone). */
long lp_bench_rss_kib(pid_t pid);
double lp_bench_cpu_seconds(pid_t pid);

/* One wrk run's result. */
typedef struct lp_bench_load {
	double rps;    /* requests per second */
	double p50_ms; /* latency percentiles */
	double p99_ms;
	long requests;      /* completed */
	long errors;        /* socket errors, timeouts and non-2xx/3xx answers */
	long peak_rss_kib;  /* of watch_pid while it ran (0 without one) */
	double cpu_seconds; /* of watch_pid while it ran */
} lp_bench_load;

/*
 * wrk -t2 -cCONNS -dSECONDS --latency against url with header (one "Name: value", may be NULL),
 * sampling watch_pid's RSS every 100 ms (watch_pid 0: none). LP_OK, or an error naming what wrk
 * printed.
 */
int lp_bench_wrk(lp_bench_load *out, const char *url, const char *header, int conns, int seconds,
                 pid_t watch_pid);

/*
 * The floor of an HTTP figure: a child process serving, on 127.0.0.1 at *out_port, GET /N with a
 * constant body of sizes[N] bytes, through libmicrohttpd in the apiserver's threading mode (a
 * thread per connection, internal polling): what the same library does with no work per request.
 */
typedef struct lp_bench_floor {
	pid_t pid;
	unsigned port;
} lp_bench_floor;

int lp_bench_floor_start(lp_bench_floor *out, const size_t *sizes, int nsizes);
void lp_bench_floor_stop(lp_bench_floor *f);

/*
 * The floor of a deploy and of a self-heal: `docker run -d` of image on the default bridge
 * network, timed until http://<its address>/ first answers 200 (then it is removed), runs times
 * into *out (seconds). The container carries label (a "k=v" a clean-up can find). 0, or -1 when
 * a run never answered within 30 s.
 */
int lp_bench_docker_run_floor(lp_bench_samples *out, const char *image, const char *label,
                              int runs);

#endif
