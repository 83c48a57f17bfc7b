/*
 * check_app_logs.c: the app log pump (controller/applogs.c) on the real engine. The tests create
 * app containers themselves (labelled as the controller labels them) and drive lp_applogs_sync
 * directly, then read logs/<site>/app.log.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "controller/applogs.h"
#include "launchpad/buf.h"
#include "launchpad/clock.h"
#include "launchpad/docker.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "launchpad/layout.h"
#include "launchpad/names.h"
#include "tests/lib/testutil.h"

#define TEST_IMAGE "launchpad-test/debian:local"
#define WAIT_MS    60000 /* a bound on every wait, never an assertion of speed */
#define READ_MAX   ((size_t)8 << 20)

static char instance[64];
static char *data_dir;
static lp_docker *dk;

static void open_docker(void)
{
	lp_docker_options o = {0};
	lp_error err = {0};

	o.socket_path = getenv("LAUNCHPAD_DOCKER_SOCKET");
	if (o.socket_path && !*o.socket_path)
		o.socket_path = NULL;
	ck_assert_int_eq(lp_docker_new(&dk, &o, &err), LP_OK);
	data_dir = lp_test_mkdtemp("applogs");
}

/* Remove the run's containers. */
static void remove_containers(void)
{
	char label[128];
	const char *filter[] = {label, NULL};
	lp_docker_summaries *s = NULL;
	lp_error err = {0};
	size_t i;

	if (lp_fmt(label, sizeof(label), LP_LABEL_INSTANCE "=%s", instance) != LP_OK)
		return;
	if (lp_docker_container_list(&s, dk, filter, &err) == LP_OK) {
		for (i = 0; i < s->n; i++)
			if (lp_docker_container_remove(dk, s->items[i].id,
			                               LP_DOCKER_RM_FORCE | LP_DOCKER_RM_MISSING_OK,
			                               &err) != LP_OK)
				fprintf(stderr, "cleanup: %s\n", err.message);
		lp_docker_summaries_free(s);
	}
}

/* After each test that passed: its containers and its data dir. */
static void sweep(void)
{
	remove_containers();
	lp_test_sh("rm -rf '%s'", data_dir);
	free(data_dir);
	lp_docker_free(dk);
	dk = NULL;
}

/* An app container of site at revision, running script under sh, started. */
static char *start_app(const char *site, const char *name, long revision, const char *script)
{
	char rev[24], cname[128];
	const lp_docker_kv labels[] = {{LP_LABEL_INSTANCE, instance},
	                               {LP_LABEL_SITE, (char *)site},
	                               {LP_LABEL_ROLE, LP_ROLE_APP},
	                               {LP_LABEL_REVISION, rev}};
	const char *cmd[] = {"sh", "-c", script, NULL};
	lp_docker_create_config cfg = {0};
	lp_error err = {0};
	char *id = NULL;

	LP_TEST_FMT(rev, "%ld", revision);
	LP_TEST_FMT(cname, "%s-%s-%s", instance, site, name);
	cfg.name = cname;
	cfg.image = TEST_IMAGE;
	cfg.cmd = cmd;
	cfg.labels = labels;
	cfg.nlabels = 4;
	cfg.network = "none";
	ck_assert_msg(lp_docker_container_create(&id, dk, &cfg, &err) == LP_OK, "create: %s",
	              err.message);
	ck_assert_msg(lp_docker_container_start(dk, id, &err) == LP_OK, "start: %s", err.message);
	return id;
}

/* The site's containers, as the controller's observer lists them. */
static lp_docker_summaries *observe(const char *site)
{
	char inst[128], sitel[128];
	const char *filter[] = {inst, sitel, NULL};
	lp_docker_summaries *s = NULL;
	lp_error err = {0};

	LP_TEST_FMT(inst, LP_LABEL_INSTANCE "=%s", instance);
	LP_TEST_FMT(sitel, LP_LABEL_SITE "=%s", site);
	ck_assert_msg(lp_docker_container_list(&s, dk, filter, &err) == LP_OK, "%s", err.message);
	return s;
}

static void sync_site(lp_applogs *a, const char *site)
{
	lp_docker_summaries *s = observe(site);

	lp_applogs_sync(a, site, s);
	lp_docker_summaries_free(s);
}

/* A sync that sees only the container id of the site (the others not listed yet). */
static void sync_only(lp_applogs *a, const char *site, const char *id)
{
	lp_docker_summaries *s = observe(site), one = {0};
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->items[i].id, id))
			one.items = &s->items[i], one.n = 1;
	ck_assert_uint_eq(one.n, 1);
	lp_applogs_sync(a, site, &one);
	lp_docker_summaries_free(s);
}

static lp_applogs *pump_new(int64_t file_max)
{
	lp_applogs *a = NULL;
	lp_error err = {0};

	ck_assert_int_eq(lp_applogs_new(&a, dk, data_dir, file_max, &err), LP_OK);
	return a;
}

static void app_log_path(char *out, size_t n, const char *site, const char *suffix)
{
	ck_assert_int_eq(lp_layout_app_log(out, n, data_dir, site), LP_OK);
	ck_assert_uint_lt(strlen(out) + strlen(suffix), n);
	memcpy(out + strlen(out), suffix, strlen(suffix) + 1);
}

/* app.log.1 then app.log ("" for a part that is missing); the caller frees. */
static char *read_log(const char *site)
{
	char p0[LP_FS_PATH_MAX], p1[LP_FS_PATH_MAX], *a = NULL, *b = NULL, *all;

	app_log_path(p0, sizeof(p0), site, "");
	app_log_path(p1, sizeof(p1), site, ".1");
	if (lp_fs_read_file(&a, NULL, p1, READ_MAX, NULL) != LP_OK)
		a = strdup("");
	if (lp_fs_read_file(&b, NULL, p0, READ_MAX, NULL) != LP_OK)
		b = strdup("");
	ck_assert_ptr_nonnull(all = malloc(strlen(a) + strlen(b) + 1));
	memcpy(all, a, strlen(a));
	memcpy(all + strlen(a), b, strlen(b) + 1);
	free(a);
	free(b);
	return all;
}

static size_t count_of(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* Wait until the site's log holds at least n lines containing needle; the log is returned. */
static char *wait_for(const char *site, const char *needle, size_t n)
{
	int64_t until = lp_clock_mono_ms() + WAIT_MS;
	char *log;

	for (;;) {
		log = read_log(site);
		if (count_of(log, needle) >= n)
			return log;
		if (lp_clock_mono_ms() > until)
			ck_abort_msg("waited for %zu lines with \"%s\"; the log has %zu:\n%.2000s",
			             n, needle, count_of(log, needle), log);
		free(log);
		lp_clock_sleep_ms(50);
	}
}

static void wait_followers(lp_applogs *a, int n)
{
	int64_t until = lp_clock_mono_ms() + WAIT_MS;
	lp_applogs_stats st;

	for (;;) {
		lp_applogs_stats_get(&st, a);
		if (st.followers_running == n)
			return;
		ck_assert_msg(lp_clock_mono_ms() < until, "%d followers run, not %d",
		              st.followers_running, n);
		lp_clock_sleep_ms(50);
	}
}

static void stop(const char *id)
{
	lp_error err = {0};

	ck_assert_msg(lp_docker_container_stop(dk, id, 5, &err) == LP_OK, "%s", err.message);
}

/*
 * The numbers k of the lines "<prefix><k>" of the log, in file order, must be exactly
 * first..last: none twice, none missing, none out of order. Returns last.
 */
static long check_sequence(const char *log, const char *prefix, long first)
{
	long want = first, k;
	const char *p = log;
	char *end;

	while ((p = strstr(p, prefix)) != NULL) {
		p += strlen(prefix);
		k = strtol(p, &end, 10);
		ck_assert_msg(end != p && *end == '\n', "a bad line at %.60s", p);
		ck_assert_msg(k == want, "line %s%ld where %s%ld was due", prefix, k, prefix, want);
		want++;
	}
	return want - 1;
}

/* Each line: "<30-character time> r<rev> stdout|stderr <text>". */
static void check_shape(const char *log)
{
	const char *line = log, *nl;

	for (; *line; line = nl + 1) {
		ck_assert_ptr_nonnull(nl = strchr(line, '\n'));
		ck_assert_msg(nl - line > 31 && line[4] == '-' && line[10] == 'T' &&
		                  line[19] == '.' && line[29] == 'Z' && line[30] == ' ' &&
		                  line[31] == 'r',
		              "not a log line: %.*s", (int)(nl - line), line);
		ck_assert_msg(strstr(line, " stdout ") == strchr(line + 31, ' ') ||
		                  strstr(line, " stderr ") == strchr(line + 31, ' '),
		              "no stream: %.*s", (int)(nl - line), line);
	}
}

/* stdout and stderr, each in order and tagged; a long line cut, a CR a line end; the follower
 * ends with its container. */
START_TEST(test_lines_in_order_and_tagged)
{
	const char *script =
	    "i=1; while [ $i -le 50 ]; do echo out $i; echo err $i >&2; i=$((i+1)); done;"
	    "head -c 10000 /dev/zero | tr '\\0' x; echo; printf 'a\\rb\\r\\nc\\n';"
	    "trap 'exit 0' TERM; while :; do sleep 0.1; done";
	lp_applogs *a = pump_new(0);
	lp_applogs_stats st;
	char *id, *log, cut[64];
	const char *x;

	id = start_app("tags", "a", 3, script);
	sync_site(a, "tags");
	log = wait_for("tags", " r3 stdout c\n", 1);
	check_shape(log);
	ck_assert_int_eq(check_sequence(log, " r3 stdout out ", 1), 50);
	ck_assert_int_eq(check_sequence(log, " r3 stderr err ", 1), 50);
	/* the 10000 x's: cut at LP_APPLOGS_LINE_MAX, marked, and the rest dropped */
	ck_assert_ptr_nonnull(x = strstr(log, " r3 stdout xxx"));
	LP_TEST_FMT(cut, "x\xe2\x80\xa6\n");
	ck_assert_ptr_eq(strstr(x, cut), x + strlen(" r3 stdout ") + LP_APPLOGS_LINE_MAX - 1);
	ck_assert_uint_eq(count_of(log, "xxxxxxxxxx"), LP_APPLOGS_LINE_MAX / 10);
	ck_assert_ptr_nonnull(strstr(log, " r3 stdout a\n"));
	ck_assert_ptr_nonnull(strstr(log, " r3 stdout b\n"));
	ck_assert_uint_eq(count_of(log, " r3 stdout "), 50 + 1 + 3);
	free(log);
	wait_followers(a, 1);
	stop(id);
	wait_followers(a, 0);
	lp_applogs_stats_get(&st, a);
	ck_assert_uint_eq(st.followers_started, 1);
	/* a stopped container read to its end is not read again */
	sync_site(a, "tags");
	lp_applogs_stats_get(&st, a);
	ck_assert_uint_eq(st.followers_started, 1);
	ck_assert_int_eq(st.followers_running, 0);
	lp_applogs_free(a);
	free(id);
}
END_TEST

/* Steady state: a sync with nothing new makes no Docker call and writes nothing. */
START_TEST(test_steady_state)
{
	lp_applogs *a = pump_new(0);
	lp_docker_summaries *s;
	lp_docker_counters before, after;
	lp_applogs_stats st0, st1;
	char *id, *log;
	int i;

	id = start_app("steady", "a", 1, "echo hello; exec sleep 1000");
	s = observe("steady");
	lp_applogs_sync(a, "steady", s);
	log = wait_for("steady", " r1 stdout hello\n", 1);
	free(log);
	lp_docker_counters_get(&before, dk);
	lp_applogs_stats_get(&st0, a);
	for (i = 0; i < 5; i++)
		lp_applogs_sync(a, "steady", s);
	lp_docker_counters_get(&after, dk);
	lp_applogs_stats_get(&st1, a);
	ck_assert_uint_eq(after.reads, before.reads);
	ck_assert_uint_eq(after.writes, before.writes);
	ck_assert_uint_eq(st1.followers_started, st0.followers_started);
	ck_assert_uint_eq(st1.lines_written, st0.lines_written);
	ck_assert_int_eq(st1.followers_running, 1);
	lp_docker_summaries_free(s);
	lp_applogs_free(a);
	free(id);
}
END_TEST

/* free + new while the app writes: every line once, the ones written meanwhile too. */
START_TEST(test_restart_neither_duplicates_nor_loses)
{
	const char *script = "trap 'exit 0' TERM; i=0; while :; do i=$((i+1)); echo n $i;"
	                     " echo e $i >&2; sleep 0.02; done";
	lp_applogs *a = pump_new(0);
	long last = 0;
	char *id, *log;
	int round;

	id = start_app("restart", "a", 7, script);
	for (round = 0; round < 3; round++) {
		sync_site(a, "restart");
		log = wait_for("restart", " r7 stdout n ", (size_t)last + 30);
		free(log);
		lp_applogs_free(a);
		log = read_log("restart");
		last = check_sequence(log, " r7 stdout n ", 1);
		free(log);
		a = pump_new(0);
		/* down: the app goes on writing; those lines must come after the restart */
		lp_clock_sleep_ms(500);
	}
	sync_site(a, "restart");
	log = wait_for("restart", " r7 stdout n ", (size_t)last + 30);
	free(log);
	stop(id);
	wait_followers(a, 0);
	log = read_log("restart");
	check_shape(log);
	last = check_sequence(log, " r7 stdout n ", 1);
	ck_assert_int_ge(last, 110);
	ck_assert_int_ge(check_sequence(log, " r7 stderr e ", 1), last - 1);
	free(log);
	lp_applogs_free(a);
	free(id);
}
END_TEST

/* Rotation at the cap: two parts, each under it, the lines consecutive across them. */
START_TEST(test_rotation)
{
	const char *script = "i=1; while [ $i -le 400 ]; do echo \"line $i\"; i=$((i+1)); done";
	const int64_t cap = 8192;
	char p0[LP_FS_PATH_MAX], p1[LP_FS_PATH_MAX], p2[LP_FS_PATH_MAX], *log;
	lp_applogs *a = pump_new(cap);
	lp_applogs_stats st;
	long first;
	char *id, *line1;
	int code = -1;
	lp_error err = {0};

	id = start_app("rot", "a", 2, script);
	/* it ran to its end before any follower: it is still read, once */
	ck_assert_int_eq(lp_docker_container_wait(&code, dk, id, NULL, NULL, &err), LP_OK);
	sync_site(a, "rot");
	log = wait_for("rot", " r2 stdout line 400\n", 1);
	wait_followers(a, 0);
	app_log_path(p0, sizeof(p0), "rot", "");
	app_log_path(p1, sizeof(p1), "rot", ".1");
	app_log_path(p2, sizeof(p2), "rot", ".2");
	lp_applogs_stats_get(&st, a);
	ck_assert_uint_ge(st.rotations, 2);
	ck_assert(lp_fs_exists(p1));
	ck_assert(!lp_fs_exists(p2));
	/* each part under the cap, and the older lines rotated away: the kept ones consecutive */
	{
		char *b0 = NULL, *b1 = NULL;
		size_t n0 = 0, n1 = 0;

		ck_assert_int_eq(lp_fs_read_file(&b0, &n0, p0, READ_MAX, &err), LP_OK);
		ck_assert_int_eq(lp_fs_read_file(&b1, &n1, p1, READ_MAX, &err), LP_OK);
		ck_assert_int_le((int64_t)n0, cap);
		ck_assert_int_le((int64_t)n1, cap);
		ck_assert_int_gt((int64_t)n1, cap - 200);
		free(b0);
		free(b1);
	}
	ck_assert_ptr_nonnull(line1 = strstr(log, " r2 stdout line "));
	first = strtol(line1 + strlen(" r2 stdout line "), NULL, 10);
	ck_assert_int_gt(first, 1);
	ck_assert_int_eq(check_sequence(log, " r2 stdout line ", first), 400);
	free(log);
	sync_site(a, "rot");
	lp_applogs_stats_get(&st, a);
	ck_assert_uint_eq(st.followers_started, 1);
	lp_applogs_free(a);
	free(id);
}
END_TEST

/*
 * Two revisions of one site write one file; each starts from its own last line, whatever the
 * other wrote.
 */
START_TEST(test_two_revisions_resume_apart)
{
	lp_applogs *a = pump_new(0);
	char *id1, *id2, *log;

	id1 = start_app("two", "r1", 1, "echo one-a; echo one-b; exec sleep 1000");
	id2 = start_app("two", "r2", 2,
	                "echo two-a; trap 'exit 0' TERM; while :; do sleep 0.1; done");
	/* r2's line reaches the file first, though r1's are older: r1 must still get all of its */
	sync_only(a, "two", id2);
	log = wait_for("two", " two-a\n", 1);
	free(log);
	sync_site(a, "two");
	log = wait_for("two", " one-b\n", 1);
	free(log);
	lp_applogs_free(a);
	a = pump_new(0);
	sync_site(a, "two");
	wait_followers(a, 2);
	stop(id1);
	stop(id2);
	wait_followers(a, 0);
	log = read_log("two");
	ck_assert_uint_eq(count_of(log, " r1 stdout one-a\n"), 1);
	ck_assert_uint_eq(count_of(log, " r1 stdout one-b\n"), 1);
	ck_assert_uint_eq(count_of(log, " r2 stdout two-a\n"), 1);
	free(log);
	lp_applogs_free(a);
	free(id1);
	free(id2);
}
END_TEST

/* After the suite, in the runner: what a failed test (whose teardown does not run) left. */
static void sweep_run(void)
{
	lp_error err = {0};

	if (lp_docker_new(&dk, NULL, &err) != LP_OK) {
		fprintf(stderr, "cleanup: %s\n", err.message);
		return;
	}
	remove_containers();
	lp_docker_free(dk);
	dk = NULL;
}

static Suite *app_logs_suite(void)
{
	Suite *s = suite_create("app_logs");
	TCase *tc = tcase_create("pump");

	tcase_add_checked_fixture(tc, open_docker, sweep);
	tcase_add_unchecked_fixture(tc, NULL, sweep_run);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_lines_in_order_and_tagged);
	tcase_add_test(tc, test_steady_state);
	tcase_add_test(tc, test_restart_neither_duplicates_nor_loses);
	tcase_add_test(tc, test_rotation);
	tcase_add_test(tc, test_two_revisions_resume_apart);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	lp_test_require_docker();
	LP_TEST_FMT(instance, "it-applogs-%d", (int)getpid());
	return lp_test_run(app_logs_suite());
}
