/* bench.c: samples, wrk runs, process figures and the constant-body floor server of bench.h. */
#include "tests/lib/bench.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/testutil.h"

#define BENCH_WRK_OUT_MAX 16384
#define BENCH_FLOOR_MAX   8 /* bodies of one floor server */

void lp_bench_add(lp_bench_samples *s, double v)
{
	if (s->n < LP_BENCH_SAMPLES_MAX)
		s->v[s->n++] = v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double lp_bench_quantile(const lp_bench_samples *s, double q)
{
	double v[LP_BENCH_SAMPLES_MAX];
	int i;

	if (s->n == 0)
		return 0;
	memcpy(v, s->v, sizeof(double) * (size_t)s->n);
	qsort(v, (size_t)s->n, sizeof(double), cmp_double);
	i = (int)(q * (double)s->n + 0.999999) - 1; /* nearest rank */
	if (i < 0)
		i = 0;
	if (i >= s->n)
		i = s->n - 1;
	return v[i];
}

double lp_bench_min(const lp_bench_samples *s)
{
	return lp_bench_quantile(s, 0);
}

double lp_bench_max(const lp_bench_samples *s)
{
	return lp_bench_quantile(s, 1);
}

void lp_bench_spread(char out[LP_BENCH_TEXT_MAX], const lp_bench_samples *s, const char *num,
                     const char *unit)
{
	char fmt[96], a[32], b[32], c[32];

	LP_TEST_FMT(fmt, "%s", num);
	lp_test_fmt(a, sizeof(a), fmt, lp_bench_min(s));
	lp_test_fmt(b, sizeof(b), fmt, lp_bench_quantile(s, 0.5));
	lp_test_fmt(c, sizeof(c), fmt, lp_bench_max(s));
	lp_test_fmt(out, LP_BENCH_TEXT_MAX, "%s / %s / %s %s (n=%d)", a, b, c, unit, s->n);
}

void lp_bench_row(const char *figure, const char *goal, const char *floor, const char *measured,
                  const char *ok)
{
	printf("row|%s|%s|%s|%s|%s\n", figure, goal, floor, measured, ok);
	fflush(stdout);
}

double lp_bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long lp_bench_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	LP_TEST_FMT(path, "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

double lp_bench_cpu_seconds(pid_t pid)
{
	char path[64], buf[2048], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;
	size_t n;

	LP_TEST_FMT(path, "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* fields 14 and 15, counted after the command's closing parenthesis */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* "651.00us", "1.13ms", "2.01s" in ms. */
static double parse_ms(const char *s)
{
	char unit[8] = "";
	double v = 0;

	if (sscanf(s, "%lf%7s", &v, unit) < 1)
		return -1;
	if (!strcmp(unit, "us"))
		return v / 1000;
	if (!strcmp(unit, "s"))
		return v * 1000;
	return v;
}

static void parse_wrk(lp_bench_load *out, const char *text)
{
	const char *p;
	long a = 0, b = 0, c = 0, d = 0;

	if ((p = strstr(text, "Requests/sec:")) != NULL)
		out->rps = atof(p + strlen("Requests/sec:"));
	if ((p = strstr(text, " 50%")) != NULL)
		out->p50_ms = parse_ms(p + 4);
	if ((p = strstr(text, " 99%")) != NULL)
		out->p99_ms = parse_ms(p + 4);
	if ((p = strstr(text, " requests in ")) != NULL) {
		while (p > text && p[-1] >= '0' && p[-1] <= '9')
			p--;
		out->requests = atol(p);
	}
	if ((p = strstr(text, "Socket errors:")) != NULL &&
	    sscanf(p, "Socket errors: connect %ld, read %ld, write %ld, timeout %ld", &a, &b, &c,
	           &d) == 4)
		out->errors += a + b + c + d;
	if ((p = strstr(text, "Non-2xx or 3xx responses:")) != NULL)
		out->errors += atol(p + strlen("Non-2xx or 3xx responses:"));
}

int lp_bench_wrk(lp_bench_load *out, const char *url, const char *header, int conns, int seconds,
                 pid_t watch_pid)
{
	char c[16], d[16], text[BENCH_WRK_OUT_MAX];
	const char *argv[16];
	double cpu0 = watch_pid > 0 ? lp_bench_cpu_seconds(watch_pid) : 0;
	int fds[2], st = 0, i = 0;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	memset(out, 0, sizeof(*out));
	LP_TEST_FMT(c, "-c%d", conns);
	LP_TEST_FMT(d, "-d%ds", seconds);
	argv[i++] = "wrk";
	argv[i++] = "-t2";
	argv[i++] = c;
	argv[i++] = d;
	argv[i++] = "--latency";
	argv[i++] = "--timeout";
	argv[i++] = "10s";
	if (header) {
		argv[i++] = "-H";
		argv[i++] = header;
	}
	argv[i++] = url;
	argv[i] = NULL;
	if (pipe(fds) != 0)
		return -1;
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		execvp("wrk", (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return -1;
	}
	/* wrk prints at the end only (less than a pipe's buffer): sample while it runs */
	while (waitpid(pid, &st, WNOHANG) == 0) {
		long kib = watch_pid > 0 ? lp_bench_rss_kib(watch_pid) : 0;

		if (kib > out->peak_rss_kib)
			out->peak_rss_kib = kib;
		usleep(100000);
	}
	while (len + 1 < sizeof(text) && (n = read(fds[0], text + len, sizeof(text) - 1 - len)) > 0)
		len += (size_t)n;
	close(fds[0]);
	text[len] = '\0';
	if (watch_pid > 0)
		out->cpu_seconds = lp_bench_cpu_seconds(watch_pid) - cpu0;
	parse_wrk(out, text);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || out->rps <= 0) {
		fprintf(stderr, "wrk %s failed (status 0x%x):\n%s\n", url, st, text);
		return -1;
	}
	return 0;
}

/* ---- the floor server ---- */

struct floor_bodies {
	char *data[BENCH_FLOOR_MAX];
	size_t len[BENCH_FLOOR_MAX];
	int n;
};

static enum MHD_Result floor_answer(void *cls, struct MHD_Connection *conn, const char *url,
                                    const char *method, const char *version,
                                    const char *upload_data, size_t *upload_data_size,
                                    void **con_cls)
{
	struct floor_bodies *b = cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	int i = url[0] == '/' ? atoi(url + 1) : -1;

	(void)method;
	(void)version;
	(void)upload_data;
	/* As the apiserver does: the headers first, the answer on the call that ends the request.
	 */
	if (*con_cls == NULL) {
		*con_cls = b;
		return MHD_YES;
	}
	*upload_data_size = 0;
	if (i < 0 || i >= b->n)
		i = 0;
	resp = MHD_create_response_from_buffer(b->len[i], b->data[i], MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* The child: the apiserver's daemon flags and limits, constant bodies, until killed. */
static void floor_main(int fd, const size_t *sizes, int nsizes)
{
	struct floor_bodies b = {{0}, {0}, 0};
	struct sockaddr_in sa = {.sin_family = AF_INET};
	const union MHD_DaemonInfo *info;
	struct MHD_Daemon *d;
	unsigned port;
	int i;

	for (i = 0; i < nsizes && i < BENCH_FLOOR_MAX; i++) {
		b.data[i] = malloc(sizes[i] + 1);
		if (b.data[i] == NULL)
			_exit(1);
		memset(b.data[i], 'x', sizes[i]);
		b.len[i] = sizes[i];
		b.n++;
	}
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL,
	    NULL, floor_answer, &b, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_CONNECTION_LIMIT, 512u,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, 256u, MHD_OPTION_CONNECTION_TIMEOUT, 60u,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)128 << 10, MHD_OPTION_END);
	info = d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
	port = info ? info->port : 0;
	if (write(fd, &port, sizeof(port)) != (ssize_t)sizeof(port) || port == 0)
		_exit(1);
	close(fd);
	for (;;)
		pause();
}

int lp_bench_floor_start(lp_bench_floor *out, const size_t *sizes, int nsizes)
{
	int fds[2];
	unsigned port = 0;
	pid_t pid;

	memset(out, 0, sizeof(*out));
	if (pipe(fds) != 0)
		return -1;
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(fds[0]);
		floor_main(fds[1], sizes, nsizes);
	}
	close(fds[1]);
	if (pid < 0 || read(fds[0], &port, sizeof(port)) != (ssize_t)sizeof(port) || port == 0) {
		close(fds[0]);
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		return -1;
	}
	close(fds[0]);
	out->pid = pid;
	out->port = port;
	return 0;
}

void lp_bench_floor_stop(lp_bench_floor *f)
{
	if (f->pid <= 0)
		return;
	kill(f->pid, SIGKILL);
	while (waitpid(f->pid, NULL, 0) < 0 && errno == EINTR)
		;
	f->pid = 0;
}

static size_t drop_body(char *p, size_t sz, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return sz * n;
}

/* 1 when url answers 200 within 200 ms. */
static int answers_200(const char *url)
{
	CURL *h = curl_easy_init();
	long status = 0;

	if (h == NULL)
		return 0;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, drop_body);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 200L);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	return status == 200;
}

/* The first line a shell command prints, into out ("" when none). */
static void first_line(char *out, size_t n, const char *cmd)
{
	FILE *p = popen(cmd, "r");

	out[0] = '\0';
	if (p == NULL)
		return;
	if (fgets(out, (int)n, p) == NULL)
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	pclose(p);
}

int lp_bench_docker_run_floor(lp_bench_samples *out, const char *image, const char *label, int runs)
{
	char cmd[1024], id[128], ip[64], url[128];
	int i, rc = 0;

	for (i = 0; i < runs && rc == 0; i++) {
		double t0 = lp_bench_now(), t;

		LP_TEST_FMT(cmd, "docker run -d --label %s %s 2>/dev/null", label, image);
		first_line(id, sizeof(id), cmd);
		if (!*id)
			return -1;
		LP_TEST_FMT(cmd, "docker inspect -f '{{.NetworkSettings.IPAddress}}' %s", id);
		first_line(ip, sizeof(ip), cmd);
		LP_TEST_FMT(url, "http://%s/", ip);
		while (!answers_200(url) && lp_bench_now() - t0 < 30)
			usleep(2000);
		t = lp_bench_now() - t0;
		if (t >= 30)
			rc = -1;
		else
			lp_bench_add(out, t);
		LP_TEST_FMT(cmd, "docker rm -f %s >/dev/null 2>&1", id);
		if (system(cmd) != 0)
			rc = -1;
	}
	return rc;
}
