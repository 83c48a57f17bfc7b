/* check_docker.c: the Docker client and `launchpad-controller --preflight` on the real engine. */
#include <check.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "launchpad/buf.h"
#include "launchpad/clock.h"
#include "launchpad/docker.h"
#include "tests/lib/testutil.h"

#define TEST_IMAGE "launchpad-test/nginx:local"

/* Every object this run creates carries this label (value: the run id) for the final sweep. */
#define RUN_LABEL "launchpad.it.run"

static int run_id;
static char run_label[64];
static char run_net[64];
static lp_docker *dk;

static void open_docker(void)
{
	lp_docker_options o = {0};
	lp_error err = {0};

	o.socket_path = getenv("LAUNCHPAD_DOCKER_SOCKET");
	if (o.socket_path && !*o.socket_path)
		o.socket_path = NULL;
	ck_assert_int_eq(lp_docker_new(&dk, &o, &err), LP_OK);
}

static void close_docker(void)
{
	lp_docker_free(dk);
	dk = NULL;
}

static double now_s(void)
{
	return (double)lp_clock_mono_ms() / 1e3;
}

/* A leftover network is reported, not fatal: the next run's names differ. */
static void cleanup_network(const char *name)
{
	lp_error err = {0};

	if (lp_docker_network_remove(dk, name, &err) != LP_OK)
		fprintf(stderr, "cleanup: %s\n", err.message);
}

static void name_for(char *out, size_t n, const char *what)
{
	snprintf(out, n, "lp-it-%d-%s", run_id, what);
}

/* Create a container of the test image with the run label plus `extra` labels (up to 3). */
static char *create_labeled(const char *what, const lp_docker_kv *extra, size_t nextra,
                            const char *const *cmd)
{
	lp_docker_kv labels[4] = {{RUN_LABEL, run_label}};
	lp_docker_create_config cfg = {0};
	lp_error err = {0};
	char name[128], *id = NULL;
	size_t i;

	ck_assert_uint_le(nextra, 3);
	for (i = 0; i < nextra; i++)
		labels[i + 1] = extra[i];
	name_for(name, sizeof(name), what);
	cfg.name = name;
	cfg.image = TEST_IMAGE;
	cfg.cmd = cmd;
	cfg.labels = labels;
	cfg.nlabels = nextra + 1;
	/* This engine may run without the default bridge (docker0): use the run's own network. */
	cfg.network = run_net;
	ck_assert_msg(lp_docker_container_create(&id, dk, &cfg, &err) == LP_OK, "create %s: %s",
	              name, err.message);
	return id;
}

START_TEST(test_version_and_images)
{
	lp_docker_version_info v;
	lp_docker_image img;
	lp_error err = {0};
	char api[16];

	ck_assert_int_eq(lp_docker_ping(dk, &err), LP_OK);
	ck_assert_int_eq(lp_docker_version(&v, dk, &err), LP_OK);
	ck_assert_int_eq(lp_docker_api_version(api, sizeof(api), dk, &err), LP_OK);
	fprintf(stderr, "engine %s, API %s (min %s), speaking %s\n", v.version, v.api_version,
	        v.min_api_version, api);
	ck_assert(v.version[0] != '\0');
	ck_assert_int_eq(lp_docker_image_inspect(&img, dk, TEST_IMAGE, &err), LP_OK);
	ck_assert_ptr_nonnull(strstr(img.id, "sha256:"));
	ck_assert_int_eq(lp_docker_image_inspect(NULL, dk, "launchpad-test/absent:nope", &err),
	                 LP_ENOTFOUND);
}
END_TEST

static int collect(void *ctx, int stream, const char *data, size_t len)
{
	lp_buf *b = ctx;

	ck_assert_int_eq(lp_buf_append(&b[stream == 2], data, len), LP_OK);
	return 0;
}

/* The serve container's life, with the hardening options a serve container gets. */
START_TEST(test_lifecycle)
{
	const char *cmd[] = {"sh", "-c",
	                     "echo to-stdout; echo to-stderr >&2; "
	                     "exec nginx -g 'daemon off;'",
	                     NULL};
	const char *drop[] = {"ALL", NULL};
	const char *add[] = {"CHOWN", "SETUID", "SETGID", "NET_BIND_SERVICE", NULL};
	const char *sec[] = {"no-new-privileges", NULL};
	const lp_docker_kv tmpfs[] = {{"/var/cache/nginx", "rw,size=16m"},
	                              {"/run", "rw,size=1m"},
	                              {"/tmp", "rw,noexec,nosuid,size=16m"}};
	const lp_docker_kv labels[] = {{RUN_LABEL, run_label}, {"launchpad.role", "serve"}};
	char name[128], net[128], *id = NULL, *dup = NULL;
	lp_docker_create_config cfg = {0};
	lp_docker_container *c = NULL;
	lp_buf out[2];
	lp_error err = {0};
	int i;

	name_for(name, sizeof(name), "life");
	name_for(net, sizeof(net), "life-net");
	ck_assert_int_eq(lp_docker_network_ensure(NULL, dk, net, 1, labels, 1, &err), LP_OK);
	cfg.name = name;
	cfg.image = TEST_IMAGE;
	cfg.cmd = cmd;
	cfg.labels = labels;
	cfg.nlabels = 2;
	cfg.network = net;
	cfg.memory_bytes = 64 << 20;
	cfg.nano_cpus = 500000000;
	cfg.pids_limit = 64;
	cfg.readonly_rootfs = 1;
	cfg.tmpfs = tmpfs;
	cfg.ntmpfs = 3;
	cfg.cap_drop = drop;
	cfg.cap_add = add;
	cfg.security_opt = sec;
	cfg.restart_policy = "unless-stopped";
	cfg.stop_timeout = 2;
	ck_assert_msg(lp_docker_container_create(&id, dk, &cfg, &err) == LP_OK, "%s", err.message);
	ck_assert_int_eq(lp_docker_container_create(&dup, dk, &cfg, &err), LP_EEXISTS);
	ck_assert_ptr_null(dup);
	ck_assert_int_eq(lp_docker_container_start(dk, name, &err), LP_OK);
	ck_assert_int_eq(lp_docker_container_start(dk, name, &err), LP_OK); /* 304 */

	ck_assert_int_eq(lp_docker_container_inspect(&c, dk, name, &err), LP_OK);
	ck_assert_str_eq(c->id, id);
	ck_assert_str_eq(c->name, name);
	ck_assert_str_eq(c->image, TEST_IMAGE);
	ck_assert_msg(c->running, "status %s exit %d", c->status, c->exit_code);
	ck_assert_str_eq(c->status, "running");
	ck_assert_str_eq(lp_docker_kv_get(c->labels, c->nlabels, "launchpad.role"), "serve");
	ck_assert_ptr_nonnull(lp_docker_kv_get(c->networks, c->nnetworks, net));
	ck_assert(strlen(lp_docker_kv_get(c->networks, c->nnetworks, net)) >= 7);
	lp_docker_container_free(c);
	c = NULL;

	/* The output may lag the start a little. */
	lp_buf_init(&out[0], 1 << 20);
	lp_buf_init(&out[1], 1 << 20);
	for (i = 0; i < 50; i++) {
		lp_buf_reset(&out[0]);
		lp_buf_reset(&out[1]);
		ck_assert_int_eq(lp_docker_container_logs(dk, id, 0, collect, out, NULL, &err),
		                 LP_OK);
		if (strstr(lp_buf_cstr(&out[1]), "to-stderr"))
			break;
		lp_clock_sleep_ms(100);
	}
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&out[0]), "to-stdout\n"));
	ck_assert_ptr_null(strstr(lp_buf_cstr(&out[0]), "to-stderr"));
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&out[1]), "to-stderr\n"));
	lp_buf_release(&out[0]);
	lp_buf_release(&out[1]);

	ck_assert_int_eq(lp_docker_network_connect(dk, net, name, &err), LP_OK); /* attached */
	ck_assert_int_eq(lp_docker_container_stop(dk, id, 2, &err), LP_OK);
	ck_assert_int_eq(lp_docker_container_stop(dk, id, 2, &err), LP_OK); /* 304 */
	ck_assert_int_eq(lp_docker_container_kill(dk, id, NULL, &err), LP_ECONFLICT);
	ck_assert_int_eq(lp_docker_container_inspect(&c, dk, id, &err), LP_OK);
	ck_assert_int_eq(c->running, 0);
	ck_assert_str_eq(c->status, "exited");
	lp_docker_container_free(c);
	c = NULL;
	ck_assert_int_eq(lp_docker_container_remove(dk, id, LP_DOCKER_RM_FORCE, &err), LP_OK);
	ck_assert_int_eq(lp_docker_container_inspect(&c, dk, id, &err), LP_ENOTFOUND);
	ck_assert_int_eq(lp_docker_container_remove(dk, id, LP_DOCKER_RM_FORCE, &err),
	                 LP_ENOTFOUND);
	ck_assert_int_eq(
	    lp_docker_container_remove(dk, id, LP_DOCKER_RM_FORCE | LP_DOCKER_RM_MISSING_OK, &err),
	    LP_OK);
	ck_assert_int_eq(lp_docker_network_remove(dk, net, &err), LP_OK);
	free(id);
}
END_TEST

/* A build-like container: follow its logs to the end, then wait for its exit status. */
START_TEST(test_wait_and_follow)
{
	const char *cmd[] = {"sh", "-c", "echo a; echo b >&2; sleep 0.5; echo c; exit 3", NULL};
	lp_error err = {0};
	lp_buf out[2];
	char *id;
	int status = -1;

	id = create_labeled("wait", NULL, 0, cmd);
	ck_assert_msg(lp_docker_container_start(dk, id, &err) == LP_OK, "%s", err.message);
	lp_buf_init(&out[0], 4096);
	lp_buf_init(&out[1], 4096);
	ck_assert_int_eq(lp_docker_container_logs(dk, id, 1, collect, out, NULL, &err), LP_OK);
	ck_assert_str_eq(lp_buf_cstr(&out[0]), "a\nc\n");
	ck_assert_str_eq(lp_buf_cstr(&out[1]), "b\n");
	ck_assert_int_eq(lp_docker_container_wait(&status, dk, id, NULL, NULL, &err), LP_OK);
	ck_assert_int_eq(status, 3);
	ck_assert_int_eq(lp_docker_container_remove(dk, id, LP_DOCKER_RM_FORCE, &err), LP_OK);
	lp_buf_release(&out[0]);
	lp_buf_release(&out[1]);
	free(id);
}
END_TEST

/* One line of a shell command's output (trailing newline cut). */
static void shell_line(char *out, size_t outsz, const char *cmd)
{
	FILE *p = popen(cmd, "r");
	size_t n;

	ck_assert_ptr_nonnull(p);
	if (fgets(out, (int)outsz, p) == NULL)
		out[0] = '\0';
	pclose(p);
	n = strlen(out);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
		out[--n] = '\0';
}

/*
 * A chatty container's json-file log on the engine's disk stays within max-size x max-file (it
 * grew to 132 MB in 5 s before there was a rotation), and what it wrote still reads back.
 */
START_TEST(test_log_rotation)
{
	const char *cmd[] = {"sh", "-c",
	                     "head -c 8000000 /dev/zero | tr '\\0' x | fold -w 99; echo last-line",
	                     NULL};
	lp_docker_options o = {.log_max_size = "1m", .log_max_files = 2};
	char *id, line[1024], query[512];
	lp_docker *small = NULL;
	lp_error err = {0};
	long long bytes;
	int status = -1;

	o.socket_path = getenv("LAUNCHPAD_DOCKER_SOCKET");
	if (o.socket_path && !*o.socket_path)
		o.socket_path = NULL;
	ck_assert_int_eq(lp_docker_new(&small, &o, &err), LP_OK);
	lp_docker_free(dk);
	dk = small; /* create_labeled and the fixture's close use it */
	id = create_labeled("chatty", NULL, 0, cmd);
	snprintf(query, sizeof(query), "docker inspect -f '{{json .HostConfig.LogConfig}}' %s", id);
	shell_line(line, sizeof(line), query);
	ck_assert_str_eq(
	    line, "{\"Type\":\"json-file\",\"Config\":{\"max-file\":\"2\",\"max-size\":\"1m\"}}");
	ck_assert_msg(lp_docker_container_start(dk, id, &err) == LP_OK, "%s", err.message);
	ck_assert_int_eq(lp_docker_container_wait(&status, dk, id, NULL, NULL, &err), LP_OK);
	ck_assert_int_eq(status, 0);
	/* The log files of the container: <LogPath> and its rotated <LogPath>.1 */
	snprintf(query, sizeof(query),
	         "p=$(docker inspect -f '{{.LogPath}}' %s) && cat \"$p\"* | wc -c", id);
	shell_line(line, sizeof(line), query);
	bytes = atoll(line);
	fprintf(stderr, "8 MB of output, %lld bytes of json-file log kept\n", bytes);
	/* 8 MB of output is ~11 MB of json-file lines; two files of 1 MiB keep at most 2 MiB. */
	ck_assert_msg(bytes > 0 && bytes <= (2 << 20) + 4096, "%lld bytes of log", bytes);
	ck_assert_int_eq(lp_docker_container_remove(dk, id, LP_DOCKER_RM_FORCE, &err), LP_OK);
	free(id);
}
END_TEST

/* The run's own network is among the engine's subnets (it is how SSRF checks know them). */
START_TEST(test_network_subnets)
{
	lp_docker_subnet *subs = NULL;
	char query[256], want[64];
	lp_error err = {0};
	size_t n = 0, i;
	int found = 0;

	snprintf(query, sizeof(query),
	         "docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' %s",
	         run_net);
	shell_line(want, sizeof(want), query);
	ck_assert_msg(want[0] != '\0', "no subnet for %s", run_net);
	ck_assert_msg(lp_docker_network_subnets(&subs, &n, dk, &err) == LP_OK, "%s", err.message);
	for (i = 0; i < n; i++)
		found |= !strcmp(subs[i].cidr, want);
	free(subs);
	ck_assert_msg(found, "%s not among the %zu subnets", want, n);
}
END_TEST

static int has_id(const lp_docker_summaries *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->items[i].id, id))
			return 1;
	return 0;
}

START_TEST(test_list_by_labels)
{
	char mine[32], filter_mine[96];
	const char *only_mine[] = {filter_mine, NULL};
	const char *mine_and_role[] = {filter_mine, "launchpad.role=x", NULL};
	lp_docker_kv la[] = {{"launchpad.it.list", mine}, {"launchpad.role", "x"}};
	lp_docker_kv lb[] = {{"launchpad.it.list", mine}, {"launchpad.role", "y"}};
	lp_docker_kv lother[] = {{"launchpad.it.list", "someone-else"}, {"launchpad.role", "x"}};
	lp_docker_summaries *s = NULL;
	char *a, *b, *other, *unlabeled, name[128];
	lp_error err = {0};
	size_t i;

	snprintf(mine, sizeof(mine), "%d", run_id);
	snprintf(filter_mine, sizeof(filter_mine), "launchpad.it.list=%s", mine);
	a = create_labeled("list-a", la, 2, NULL);
	b = create_labeled("list-b", lb, 2, NULL);
	other = create_labeled("list-other", lother, 2, NULL);
	unlabeled = create_labeled("list-none", NULL, 0, NULL);

	ck_assert_int_eq(lp_docker_container_list(&s, dk, only_mine, &err), LP_OK);
	ck_assert_uint_eq(s->n, 2);
	ck_assert(has_id(s, a) && has_id(s, b));
	for (i = 0; i < s->n; i++) {
		ck_assert_str_eq(s->items[i].state, "created");
		ck_assert_str_eq(s->items[i].image, TEST_IMAGE);
		ck_assert_uint_eq(s->items[i].nnames, 1);
	}
	lp_docker_summaries_free(s);
	ck_assert_int_eq(lp_docker_container_list(&s, dk, mine_and_role, &err), LP_OK);
	ck_assert_uint_eq(s->n, 1);
	ck_assert_str_eq(s->items[0].id, a);
	name_for(name, sizeof(name), "list-a");
	ck_assert_str_eq(s->items[0].names[0], name);
	ck_assert_str_eq(
	    lp_docker_kv_get(s->items[0].labels, s->items[0].nlabels, "launchpad.it.list"), mine);
	lp_docker_summaries_free(s);

	ck_assert_int_eq(lp_docker_container_remove(dk, a, LP_DOCKER_RM_FORCE, &err), LP_OK);
	ck_assert_int_eq(lp_docker_container_remove(dk, b, LP_DOCKER_RM_FORCE, &err), LP_OK);
	ck_assert_int_eq(lp_docker_container_remove(dk, other, LP_DOCKER_RM_FORCE, &err), LP_OK);
	ck_assert_int_eq(lp_docker_container_remove(dk, unlabeled, LP_DOCKER_RM_FORCE, &err),
	                 LP_OK);
	free(a);
	free(b);
	free(other);
	free(unlabeled);
}
END_TEST

struct watch {
	pthread_mutex_t lock;
	lp_docker_cancel cancel;
	const char *filter[2];
	char id[80];
	double start_at, die_at, destroy_at;
	double connected_at;
	int rc;
	lp_error err;
};

static int on_event(void *ctx, const lp_docker_event *ev)
{
	struct watch *w = ctx;
	double t = now_s();

	pthread_mutex_lock(&w->lock);
	if (w->id[0] && !strcmp(ev->id, w->id)) {
		if (!strcmp(ev->action, "start"))
			w->start_at = t;
		else if (!strcmp(ev->action, "die"))
			w->die_at = t;
		else if (!strcmp(ev->action, "destroy"))
			w->destroy_at = t;
	}
	pthread_mutex_unlock(&w->lock);
	return 0;
}

static void on_connected(void *ctx, int attempt)
{
	struct watch *w = ctx;

	pthread_mutex_lock(&w->lock);
	w->connected_at = now_s();
	pthread_mutex_unlock(&w->lock);
}

static void *watch_main(void *p)
{
	struct watch *w = p;
	lp_docker_events_options o = {.type = "container",
	                              .labels = w->filter,
	                              .since = (int64_t)time(NULL),
	                              .reconnect = 1,
	                              .on_connected = on_connected};

	w->rc = lp_docker_events_watch(dk, &o, on_event, w, &w->cancel, &w->err);
	return NULL;
}

static double wait_for(struct watch *w, double *field, double limit_s)
{
	double deadline = now_s() + limit_s, v = 0;

	while (now_s() < deadline) {
		pthread_mutex_lock(&w->lock);
		v = *field;
		pthread_mutex_unlock(&w->lock);
		if (v > 0)
			break;
		lp_clock_sleep_ms(10);
	}
	return v;
}

START_TEST(test_events_removed_from_outside)
{
	struct watch w = {.rc = -999};
	char value[32], label[96], cmdline[256], name[128], *id;
	lp_docker_kv extra[] = {{"launchpad.it.events", value}};
	double removed_at, cancel_at;
	lp_error err = {0};
	pthread_t t;

	pthread_mutex_init(&w.lock, NULL);
	lp_docker_cancel_init(&w.cancel);
	snprintf(value, sizeof(value), "%d", run_id);
	snprintf(label, sizeof(label), "launchpad.it.events=%s", value);
	w.filter[0] = label;
	ck_assert_int_eq(pthread_create(&t, NULL, watch_main, &w), 0);
	ck_assert_msg(wait_for(&w, &w.connected_at, 5) > 0, "events stream never connected");

	id = create_labeled("events", extra, 1, NULL);
	pthread_mutex_lock(&w.lock);
	snprintf(w.id, sizeof(w.id), "%s", id);
	pthread_mutex_unlock(&w.lock);
	ck_assert_int_eq(lp_docker_container_start(dk, id, &err), LP_OK);
	ck_assert_msg(wait_for(&w, &w.start_at, 5) > 0, "no start event");

	name_for(name, sizeof(name), "events");
	snprintf(cmdline, sizeof(cmdline), "docker rm -f %s >/dev/null", name);
	ck_assert_int_eq(system(cmdline), 0);
	removed_at = now_s();
	ck_assert_msg(wait_for(&w, &w.destroy_at, 1.0) > 0,
	              "no destroy event within 1 s of `docker rm -f`");
	ck_assert_msg(w.die_at > 0, "no die event");
	fprintf(stderr, "events: destroy seen %.0f ms after docker rm -f returned\n",
	        (w.destroy_at - removed_at) * 1000);

	cancel_at = now_s();
	lp_docker_cancel_request(&w.cancel);
	pthread_join(t, NULL);
	ck_assert_int_eq(w.rc, LP_ECANCELED);
	fprintf(stderr, "events: watch cancelled in %.0f ms\n", (now_s() - cancel_at) * 1000);
	pthread_mutex_destroy(&w.lock);
	free(id);
}
END_TEST

START_TEST(test_network_ensure_twice)
{
	const lp_docker_kv labels[] = {{RUN_LABEL, run_label}};
	lp_docker_counters c0, c1, c2;
	lp_docker_network net;
	lp_error err = {0};
	char name[128];
	int created = -1;

	name_for(name, sizeof(name), "net");
	lp_docker_counters_get(&c0, dk);
	ck_assert_int_eq(lp_docker_network_ensure(&created, dk, name, 1, labels, 1, &err), LP_OK);
	ck_assert_int_eq(created, 1);
	lp_docker_counters_get(&c1, dk);
	ck_assert_uint_eq(c1.writes - c0.writes, 1);
	ck_assert_int_eq(lp_docker_network_ensure(&created, dk, name, 1, labels, 1, &err), LP_OK);
	ck_assert_int_eq(created, 0);
	lp_docker_counters_get(&c2, dk);
	ck_assert_uint_eq(c2.writes, c1.writes);
	ck_assert_uint_eq(c2.reads - c1.reads, 1);
	ck_assert_int_eq(lp_docker_network_inspect(&net, dk, name, &err), LP_OK);
	ck_assert_int_eq(net.internal, 1);
	ck_assert_str_eq(net.driver, "bridge");
	/* Its Linux bridge: the engine's name for it, an interface of this host. */
	ck_assert_int_eq(strncmp(net.bridge, "br-", 3), 0);
	ck_assert_int_eq(strncmp(net.bridge + 3, net.id, 12), 0);
	ck_assert_uint_eq(strlen(net.bridge), 15);
	ck_assert_uint_ne(if_nametoindex(net.bridge), 0);
	/* The default network names its bridge by option. */
	ck_assert_int_eq(lp_docker_network_inspect(&net, dk, "bridge", &err), LP_OK);
	ck_assert_str_eq(net.bridge, "docker0");
	ck_assert_int_eq(lp_docker_network_inspect(&net, dk, name, &err), LP_OK);
	ck_assert_int_eq(lp_docker_network_ensure(&created, dk, name, 0, labels, 1, &err),
	                 LP_ECONFLICT);
	ck_assert_int_eq(lp_docker_network_remove(dk, name, &err), LP_OK);
	ck_assert_int_eq(lp_docker_network_inspect(&net, dk, name, &err), LP_ENOTFOUND);
	ck_assert_int_eq(lp_docker_network_remove(dk, name, &err), LP_OK);
}
END_TEST

struct ensure_arg {
	const char *name;
	int rc;
};

static void *ensure_thread(void *arg)
{
	struct ensure_arg *a = arg;
	const lp_docker_kv labels[] = {{RUN_LABEL, run_label}};

	a->rc = lp_docker_network_ensure(NULL, dk, a->name, 1, labels, 1, NULL);
	return NULL;
}

/* The engine's duplicate check is racy: many threads ensuring one name must make ONE network. */
START_TEST(test_network_ensure_concurrent)
{
	struct ensure_arg args[8];
	pthread_t t[8];
	char name[128], cmd[512], line[64] = "";
	FILE *p;
	int i;

	name_for(name, sizeof(name), "race");
	for (i = 0; i < 8; i++) {
		args[i].name = name;
		pthread_create(&t[i], NULL, ensure_thread, &args[i]);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(args[i].rc, LP_OK);
	}
	snprintf(cmd, sizeof(cmd), "docker network ls -q --filter name=^%s$ | wc -l", name);
	p = popen(cmd, "r");
	ck_assert(fgets(line, sizeof(line), p) != NULL);
	pclose(p);
	cleanup_network(name);
	ck_assert_int_eq(atoi(line), 1);
}
END_TEST

START_TEST(test_pull_nonexistent)
{
	char image[128];
	lp_error err = {0};
	double t0 = now_s();
	int rc;

	snprintf(image, sizeof(image), "launchpad-test/does-not-exist-%d:nope", run_id);
	rc = lp_docker_image_pull(dk, image, NULL, NULL, 15000, NULL, &err);
	fprintf(stderr, "pull %s: %s (%s) after %.1f s\n", image, lp_strerror(rc), err.message,
	        now_s() - t0);
	ck_assert_int_ne(rc, LP_OK);
	ck_assert(rc == LP_EREMOTE || rc == LP_ENOTFOUND || rc == LP_ETIMEOUT);
	ck_assert_ptr_nonnull(strstr(err.message, image));
	ck_assert(strlen(err.message) > strlen(image) + 20);
}
END_TEST

/* Run the controller binary; returns its exit status, its output in out. */
static int run_controller(lp_buf *out, const char *args)
{
	char *bin = lp_test_bin_path("launchpad-controller");
	char cmd[2048], chunk[512];
	FILE *p;
	size_t n;
	int st;

	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", bin, args);
	free(bin);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		ck_assert_int_eq(lp_buf_append(out, chunk, n), LP_OK);
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(test_preflight)
{
	char args[512], inst[64];
	lp_buf out;
	int rc;

	lp_buf_init(&out, 1 << 16);
	snprintf(inst, sizeof(inst), "lpit%d", run_id);
	snprintf(args, sizeof(args), "--preflight --instance %s --serve-image %s --build-image %s",
	         inst, TEST_IMAGE, TEST_IMAGE);
	rc = run_controller(&out, args);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, lp_buf_cstr(&out));
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&out), "1.41"));
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&out), inst));
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&out), "-launchpad-sites"));

	lp_buf_reset(&out);
	snprintf(args, sizeof(args), "--preflight --serve-image launchpad-test/absent:%d", run_id);
	rc = run_controller(&out, args);
	ck_assert_int_ne(rc, 0);
	snprintf(args, sizeof(args), "launchpad-test/absent:%d", run_id);
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&out), args));

	lp_buf_reset(&out);
	rc = run_controller(&out, "--preflight --docker-socket /nonexistent/docker.sock");
	ck_assert_int_ne(rc, 0);
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&out), "/nonexistent/docker.sock"));

	lp_buf_reset(&out);
	rc = run_controller(&out, "--no-such-flag");
	ck_assert_int_eq(rc, 2);
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&out), "--no-such-flag"));
	lp_buf_release(&out);
}
END_TEST

static void make_run_network(void)
{
	const lp_docker_kv labels[] = {{RUN_LABEL, run_label}};
	lp_error err = {0};

	open_docker();
	if (lp_docker_network_ensure(NULL, dk, run_net, 1, labels, 1, &err) != LP_OK)
		fprintf(stderr, "cannot create network %s: %s\n", run_net, err.message);
	close_docker();
}

/* Remove whatever a failed test left behind (the unchecked teardown runs even then). */
static void sweep(void)
{
	const char *filter[] = {NULL, NULL};
	lp_docker_summaries *s = NULL;
	char label[96], name[128];
	lp_error err = {0};
	size_t i;

	open_docker();
	snprintf(label, sizeof(label), RUN_LABEL "=%s", run_label);
	filter[0] = label;
	if (lp_docker_container_list(&s, dk, filter, &err) == LP_OK) {
		for (i = 0; i < s->n; i++)
			if (lp_docker_container_remove(dk, s->items[i].id,
			                               LP_DOCKER_RM_FORCE | LP_DOCKER_RM_MISSING_OK,
			                               &err) != LP_OK)
				fprintf(stderr, "cleanup: %s\n", err.message);
		lp_docker_summaries_free(s);
	}
	name_for(name, sizeof(name), "net");
	cleanup_network(name);
	name_for(name, sizeof(name), "life-net");
	cleanup_network(name);
	cleanup_network(run_net);
	close_docker();
}

static Suite *docker_suite(void)
{
	Suite *s = suite_create("docker");
	TCase *tc = tcase_create("engine");

	tcase_add_checked_fixture(tc, open_docker, close_docker);
	tcase_add_unchecked_fixture(tc, make_run_network, sweep);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_version_and_images);
	tcase_add_test(tc, test_lifecycle);
	tcase_add_test(tc, test_wait_and_follow);
	tcase_add_test(tc, test_log_rotation);
	tcase_add_test(tc, test_network_subnets);
	tcase_add_test(tc, test_list_by_labels);
	tcase_add_test(tc, test_events_removed_from_outside);
	tcase_add_test(tc, test_network_ensure_twice);
	tcase_add_test(tc, test_network_ensure_concurrent);
	tcase_add_test(tc, test_pull_nonexistent);
	tcase_add_test(tc, test_preflight);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	lp_test_require_docker();
	run_id = (int)getpid();
	snprintf(run_label, sizeof(run_label), "%d", run_id);
	name_for(run_net, sizeof(run_net), "net0");
	return lp_test_run(docker_suite());
}
