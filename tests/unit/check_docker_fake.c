/* check_docker_fake.c: Docker client negotiation, errors, caps, cancel, on a FAKE engine. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "launchpad/buf.h"
#include "launchpad/clock.h"
#include "launchpad/docker.h"
#include "tests/lib/fake_engine.h"
#include "tests/lib/testutil.h"

/* The fake (tests/lib/fake_engine.c) gives the answers the real local engine cannot: other API
 * versions, an upgrade under a running client, 5xx, slow answers, oversized bodies. */
static char *tmpdir;
static char sock[256];
static lp_fake_engine *fake;
static lp_docker *dk;

static const char inspect_json[] =
    "{\"Id\":\"abc123\",\"Name\":\"/deploy-blog\",\"Image\":\"sha256:ff\","
    "\"State\":{\"Status\":\"running\",\"Running\":true,\"ExitCode\":0,\"OOMKilled\":false,"
    "\"StartedAt\":\"2024-01-01T00:00:00Z\",\"FinishedAt\":\"0001-01-01T00:00:00Z\"},"
    "\"Config\":{\"Image\":\"nginx:alpine\",\"Labels\":{\"launchpad.site\":\"blog\","
    "\"launchpad.instance\":\"t\"}},"
    "\"NetworkSettings\":{\"Networks\":{\"launchpad-sites\":{\"IPAddress\":\"172.30.0.5\"}}}}";

static void setup(void)
{
	lp_docker_options o = {0};
	lp_error err = {0};

	tmpdir = lp_test_mkdtemp("lp-fake-docker");
	ck_assert_ptr_nonnull(tmpdir);
	LP_TEST_FMT(sock, "%s/fake.sock", tmpdir);
	fake = lp_fake_engine_start(sock);
	ck_assert_ptr_nonnull(fake);
	o.socket_path = sock;
	o.timeout_ms = 2000;
	ck_assert_int_eq(lp_docker_new(&dk, &o, &err), LP_OK);
}

static void teardown(void)
{
	lp_docker_free(dk);
	dk = NULL;
	lp_fake_engine_stop(fake);
	fake = NULL;
	rmdir(tmpdir);
	free(tmpdir);
}

static void assert_request(size_t i, const char *want)
{
	char got[512];

	lp_fake_engine_request(fake, i, got, sizeof(got));
	ck_assert_str_eq(got, want);
}

START_TEST(test_negotiate_debian)
{
	lp_docker_version_info v;
	lp_error err = {0};
	char api[16];

	lp_fake_engine_set_versions(fake, "1.41", "1.12");
	ck_assert_int_eq(lp_docker_api_version(api, sizeof(api), dk, &err), LP_OK);
	ck_assert_str_eq(api, "1.41");
	ck_assert_int_eq(lp_docker_version(&v, dk, &err), LP_OK);
	ck_assert_str_eq(v.api_version, "1.41");
	ck_assert_str_eq(v.min_api_version, "1.12");
	ck_assert_str_eq(v.version, "fake-1.0");
	assert_request(0, "GET /version");
	ck_assert_int_eq(lp_docker_ping(dk, &err), LP_OK);
}
END_TEST

START_TEST(test_negotiate_docker29)
{
	lp_docker_container *c = NULL;
	lp_error err = {0};
	char api[16];

	lp_fake_engine_set_versions(fake, "1.52", "1.44");
	lp_fake_engine_route(fake, "GET", "/containers/abc/json", 200, inspect_json, (size_t)-1, 0);
	ck_assert_int_eq(lp_docker_container_inspect(&c, dk, "abc", &err), LP_OK);
	ck_assert_int_eq(lp_docker_api_version(api, sizeof(api), dk, &err), LP_OK);
	ck_assert_str_eq(api, LP_DOCKER_API_MAX);
	assert_request(0, "GET /version");
	assert_request(1, "GET /v1.47/containers/abc/json");
	ck_assert_uint_eq(lp_fake_engine_nrequests(fake), 2);
	lp_docker_container_free(c);
}
END_TEST

/* A daemon whose minimum is above what this client knows: speak its minimum, never below. */
START_TEST(test_negotiate_min_above_ours)
{
	lp_error err = {0};
	char api[16];

	lp_fake_engine_set_versions(fake, "1.60", "1.50");
	ck_assert_int_eq(lp_docker_api_version(api, sizeof(api), dk, &err), LP_OK);
	ck_assert_str_eq(api, "1.50");
}
END_TEST

START_TEST(test_negotiate_too_old_engine)
{
	lp_error err = {0};
	char api[16];

	lp_fake_engine_set_versions(fake, "1.30", "1.12");
	ck_assert_int_eq(lp_docker_api_version(api, sizeof(api), dk, &err), LP_EUNSUPPORTED);
	ck_assert_ptr_nonnull(strstr(err.message, "1.30"));
}
END_TEST

/* The engine is upgraded under a running client: the next call is refused as too old, the
 * client asks /version again and retries once at the new version. */
START_TEST(test_renegotiate_after_upgrade)
{
	lp_docker_container *c = NULL;
	lp_error err = {0};
	char api[16];

	lp_fake_engine_set_versions(fake, "1.41", "1.12");
	lp_fake_engine_route(fake, "GET", "/containers/abc/json", 200, inspect_json, (size_t)-1, 0);
	ck_assert_int_eq(lp_docker_container_inspect(&c, dk, "abc", &err), LP_OK);
	lp_docker_container_free(c);
	c = NULL;
	lp_fake_engine_set_versions(fake, "1.52", "1.44");
	ck_assert_int_eq(lp_docker_container_inspect(&c, dk, "abc", &err), LP_OK);
	ck_assert_str_eq(c->id, "abc123");
	assert_request(0, "GET /version");
	assert_request(1, "GET /v1.41/containers/abc/json");
	assert_request(2, "GET /v1.41/containers/abc/json");
	assert_request(3, "GET /version");
	assert_request(4, "GET /v1.47/containers/abc/json");
	ck_assert_uint_eq(lp_fake_engine_nrequests(fake), 5);
	ck_assert_int_eq(lp_docker_api_version(api, sizeof(api), dk, &err), LP_OK);
	ck_assert_str_eq(api, "1.47");
	lp_docker_container_free(c);
}
END_TEST

/* And the other way: a downgrade makes the daemon answer "too new". */
START_TEST(test_renegotiate_after_downgrade)
{
	lp_error err = {0};

	lp_fake_engine_set_versions(fake, "1.52", "1.44");
	lp_fake_engine_route(fake, "POST", "/containers/abc/start", 204, NULL, 0, 0);
	ck_assert_int_eq(lp_docker_container_start(dk, "abc", &err), LP_OK);
	lp_fake_engine_set_versions(fake, "1.41", "1.12");
	ck_assert_int_eq(lp_docker_container_start(dk, "abc", &err), LP_OK);
	assert_request(2, "POST /v1.47/containers/abc/start");
	assert_request(3, "GET /version");
	assert_request(4, "POST /v1.41/containers/abc/start");
}
END_TEST

/* A daemon that keeps refusing after renegotiation: exactly one retry, then its message. */
START_TEST(test_renegotiate_only_once)
{
	lp_docker_container *c = NULL;
	lp_docker_counters cnt;
	lp_error err = {0};

	lp_fake_engine_set_versions(fake, "1.41", "1.12");
	lp_fake_engine_set_accepted(fake, "1.44", "1.52");
	lp_fake_engine_route(fake, "GET", "/containers/abc/json", 200, inspect_json, (size_t)-1, 0);
	ck_assert_int_eq(lp_docker_container_inspect(&c, dk, "abc", &err), LP_EINVAL);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(err.message, "too old"));
	ck_assert_uint_eq(lp_fake_engine_nrequests(fake), 4);
	assert_request(3, "GET /v1.41/containers/abc/json");
	lp_docker_counters_get(&cnt, dk);
	ck_assert_uint_eq(cnt.reads, 4);
	ck_assert_uint_eq(cnt.writes, 0);
}
END_TEST

START_TEST(test_error_mapping)
{
	char *id = NULL;
	lp_docker_create_config cfg = {.name = "deploy-blog", .image = "nginx:alpine"};
	lp_docker_container *c = NULL;
	lp_docker_counters cnt;
	lp_error err = {0};

	lp_fake_engine_route(fake, "POST", "/containers/abc/start", 304, NULL, 0, 0);
	lp_fake_engine_route(fake, "POST", "/containers/abc/stop", 304, NULL, 0, 0);
	lp_fake_engine_route(fake, "GET", "/containers/gone/json", 404,
	                     "{\"message\":\"No such container: gone\"}", (size_t)-1, 0);
	lp_fake_engine_route(fake, "DELETE", "/containers/gone", 404,
	                     "{\"message\":\"No such container: gone\"}", (size_t)-1, 0);
	lp_fake_engine_route(fake, "POST", "/containers/abc/kill", 409,
	                     "{\"message\":\"Container abc is not running\"}", (size_t)-1, 0);
	lp_fake_engine_route(fake, "POST", "/containers/create", 409,
	                     "{\"message\":\"Conflict. The container name \\\"/deploy-blog\\\" is "
	                     "already in use\"}",
	                     (size_t)-1, 0);

	ck_assert_int_eq(lp_docker_container_start(dk, "abc", &err), LP_OK);
	ck_assert_int_eq(lp_docker_container_stop(dk, "abc", 1, &err), LP_OK);
	ck_assert_int_eq(lp_docker_container_inspect(&c, dk, "gone", &err), LP_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(err.message, "No such container: gone"));
	ck_assert_int_eq(lp_docker_container_remove(dk, "gone", LP_DOCKER_RM_FORCE, &err),
	                 LP_ENOTFOUND);
	ck_assert_int_eq(lp_docker_container_remove(
	                     dk, "gone", LP_DOCKER_RM_FORCE | LP_DOCKER_RM_MISSING_OK, &err),
	                 LP_OK);
	ck_assert_int_eq(lp_docker_container_kill(dk, "abc", NULL, &err), LP_ECONFLICT);
	ck_assert_int_eq(lp_docker_container_create(&id, dk, &cfg, &err), LP_EEXISTS);
	ck_assert_ptr_nonnull(strstr(err.message, "already in use"));
	ck_assert_ptr_null(id);

	lp_fake_engine_route(fake, "POST", "/containers/create", 400,
	                     "{\"message\":\"Minimum memory limit allowed is 6MB\"}", (size_t)-1,
	                     0);
	cfg.memory_bytes = 1024;
	ck_assert_int_eq(lp_docker_container_create(&id, dk, &cfg, &err), LP_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "Minimum memory limit allowed is 6MB"));

	lp_fake_engine_route(fake, "POST", "/containers/create", 500,
	                     "{\"message\":\"driver failed\"}", (size_t)-1, 0);
	ck_assert_int_eq(lp_docker_container_create(&id, dk, &cfg, &err), LP_EREMOTE);
	ck_assert_ptr_nonnull(strstr(err.message, "driver failed"));

	/* Bad names never reach the engine. */
	ck_assert_int_eq(lp_docker_container_start(dk, "../etc", &err), LP_EINVAL);
	ck_assert_int_eq(lp_docker_container_inspect(&c, dk, "", &err), LP_EINVAL);
	cfg.name = "-bad";
	ck_assert_int_eq(lp_docker_container_create(&id, dk, &cfg, &err), LP_EINVAL);

	/* reads: /version, inspect; writes: start, stop, 2 removes, kill, 3 creates. */
	lp_docker_counters_get(&cnt, dk);
	ck_assert_uint_eq(cnt.reads, 2);
	ck_assert_uint_eq(cnt.writes, 8);
}
END_TEST

START_TEST(test_create_body)
{
	const char *cmd[] = {"nginx", "-g", "daemon off;", NULL};
	const char *drop[] = {"ALL", NULL};
	const char *sec[] = {"no-new-privileges", NULL};
	const char *binds[] = {"/srv/x:/usr/share/nginx/html:ro", NULL};
	const lp_docker_kv labels[] = {{"launchpad.site", "blog"}};
	const lp_docker_kv tmpfs[] = {{"/tmp", "rw,size=64m"}};
	lp_docker_create_config cfg = {.name = "deploy-blog",
	                               .image = "nginx:alpine",
	                               .cmd = cmd,
	                               .labels = labels,
	                               .nlabels = 1,
	                               .binds = binds,
	                               .network = "launchpad-sites",
	                               .memory_bytes = 64 << 20,
	                               .nano_cpus = 500000000,
	                               .pids_limit = 128,
	                               .readonly_rootfs = 1,
	                               .tmpfs = tmpfs,
	                               .ntmpfs = 1,
	                               .cap_drop = drop,
	                               .security_opt = sec,
	                               .restart_policy = "unless-stopped",
	                               .stop_timeout = 5};
	lp_error err = {0};
	char body[8192], *id = NULL;

	lp_fake_engine_route(fake, "POST", "/containers/create", 201,
	                     "{\"Id\":\"newid\",\"Warnings\":[]}", (size_t)-1, 0);
	ck_assert_int_eq(lp_docker_container_create(&id, dk, &cfg, &err), LP_OK);
	ck_assert_str_eq(id, "newid");
	assert_request(1, "POST /v1.41/containers/create?name=deploy-blog");
	lp_fake_engine_last_body(fake, body, sizeof(body));
	ck_assert_ptr_nonnull(strstr(body, "\"Cmd\":[\"nginx\",\"-g\",\"daemon off;\"]"));
	ck_assert_ptr_nonnull(strstr(body, "\"Labels\":{\"launchpad.site\":\"blog\"}"));
	ck_assert_ptr_nonnull(strstr(body, "\"Memory\":67108864"));
	ck_assert_ptr_nonnull(strstr(body, "\"NanoCpus\":500000000"));
	ck_assert_ptr_nonnull(strstr(body, "\"ReadonlyRootfs\":true"));
	ck_assert_ptr_nonnull(strstr(body, "\"Tmpfs\":{\"/tmp\":\"rw,size=64m\"}"));
	ck_assert_ptr_nonnull(strstr(body, "\"RestartPolicy\":{\"Name\":\"unless-stopped\"}"));
	ck_assert_ptr_nonnull(strstr(body, "\"EndpointsConfig\":{\"launchpad-sites\":{}}"));
	ck_assert_ptr_nonnull(strstr(body, "\"StopTimeout\":5"));
	/* Every container rotates its log, whether or not its config says anything of it. */
	ck_assert_msg(strstr(body, "\"LogConfig\":{\"Type\":\"json-file\",\"Config\":{"
	                           "\"max-size\":\"10m\",\"max-file\":\"3\"}}") != NULL,
	              "%s", body);
	ck_assert_ptr_null(strstr(body, "Healthcheck"));
	free(id);
}
END_TEST

/* An app's health check: the probe's argv, the times in the engine's nanoseconds. */
START_TEST(test_create_healthcheck)
{
	const char *test[] = {"CMD", "/.launchpad/lp-probe", "3000", "/", "2", NULL};
	lp_docker_create_config cfg = {.name = "app-blog",
	                               .image = "node:20-alpine",
	                               .health_test = test,
	                               .health_interval_ms = 1000,
	                               .health_timeout_ms = 2000,
	                               .health_start_period_ms = 60000,
	                               .health_retries = 2};
	lp_error err = {0};
	char body[8192], *id = NULL;

	lp_fake_engine_route(fake, "POST", "/containers/create", 201,
	                     "{\"Id\":\"newid\",\"Warnings\":[]}", (size_t)-1, 0);
	ck_assert_int_eq(lp_docker_container_create(&id, dk, &cfg, &err), LP_OK);
	lp_fake_engine_last_body(fake, body, sizeof(body));
	ck_assert_msg(strstr(body, "\"Healthcheck\":{\"Test\":[\"CMD\",\"/.launchpad/lp-probe\","
	                           "\"3000\",\"/\",\"2\"],\"Interval\":1000000000,\"Timeout\":"
	                           "2000000000,\"StartPeriod\":60000000000,\"Retries\":2}") != NULL,
	              "%s", body);
	free(id);
}
END_TEST

/* State.Health and RestartCount as the engine reports them; the newest log entry counts. */
START_TEST(test_inspect_health)
{
	static const char answer[] =
	    "{\"Id\":\"abc\",\"Name\":\"/app-blog\",\"Image\":\"sha256:1\",\"RestartCount\":4,"
	    "\"Config\":{\"Image\":\"node\",\"Labels\":{}},\"State\":{\"Status\":\"running\","
	    "\"Running\":true,\"Restarting\":false,\"ExitCode\":0,\"StartedAt\":\"x\","
	    "\"FinishedAt\":\"y\",\"Health\":{\"Status\":\"unhealthy\",\"FailingStreak\":3,"
	    "\"Log\":[{\"ExitCode\":1,\"Output\":\"connection refused\\n\"},"
	    "{\"ExitCode\":1,\"Output\":\"HTTP 500\\n\"}]}},\"NetworkSettings\":{}}";
	lp_docker_container *c = NULL;
	lp_error err = {0};

	lp_fake_engine_route(fake, "GET", "/containers/abc/json", 200, answer, (size_t)-1, 0);
	ck_assert_int_eq(lp_docker_container_inspect(&c, dk, "abc", &err), LP_OK);
	ck_assert_int_eq(c->restart_count, 4);
	ck_assert_int_eq(c->restarting, 0);
	ck_assert_str_eq(c->health_status, "unhealthy");
	ck_assert_int_eq(c->health_failing, 3);
	ck_assert_str_eq(c->health_output, "HTTP 500\n");
	ck_assert_int_eq(c->health_exit_code, 1);
	lp_docker_container_free(c);
}
END_TEST

/* The rotation comes from the handle's options; a value json-file would refuse is refused. */
START_TEST(test_log_options)
{
	lp_docker_create_config cfg = {.name = "build-x-1", .image = "node:20-alpine"};
	static const char *const bad_sizes[] = {"",     "0",   "10x", "m",
	                                        "10mb", "-1m", "00",  "123456789012345678m"};
	lp_docker_options o = {.socket_path = sock, .log_max_size = "50m", .log_max_files = 7};
	lp_docker *d2 = NULL;
	lp_error err = {0};
	char body[8192], *id = NULL;
	size_t i;

	ck_assert_int_eq(lp_docker_new(&d2, &o, &err), LP_OK);
	lp_fake_engine_route(fake, "POST", "/containers/create", 201,
	                     "{\"Id\":\"newid\",\"Warnings\":[]}", (size_t)-1, 0);
	ck_assert_int_eq(lp_docker_container_create(&id, d2, &cfg, &err), LP_OK);
	lp_fake_engine_last_body(fake, body, sizeof(body));
	ck_assert_msg(strstr(body, "\"Config\":{\"max-size\":\"50m\",\"max-file\":\"7\"}") != NULL,
	              "%s", body);
	free(id);
	/* a container's own rotation wins over the handle's; a bad one is refused before sending */
	cfg.log_max_size = "100m";
	cfg.log_max_files = 2;
	ck_assert_int_eq(lp_docker_container_create(&id, d2, &cfg, &err), LP_OK);
	lp_fake_engine_last_body(fake, body, sizeof(body));
	ck_assert_msg(strstr(body, "\"Config\":{\"max-size\":\"100m\",\"max-file\":\"2\"}") != NULL,
	              "%s", body);
	free(id);
	id = NULL;
	cfg.log_max_size = "lots";
	ck_assert_int_eq(lp_docker_container_create(&id, d2, &cfg, &err), LP_EINVAL);
	ck_assert_ptr_null(id);
	lp_docker_free(d2);
	for (i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		o.log_max_size = bad_sizes[i];
		d2 = NULL;
		ck_assert_msg(lp_docker_new(&d2, &o, &err) == LP_EINVAL, "size \"%s\" accepted",
		              bad_sizes[i]);
		ck_assert_ptr_null(d2);
		ck_assert_ptr_nonnull(strstr(err.message, "log max size"));
	}
	o.log_max_size = "1g";
	o.log_max_files = 101;
	ck_assert_int_eq(lp_docker_new(&d2, &o, &err), LP_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "1..100"));
	o.log_max_files = -1;
	ck_assert_int_eq(lp_docker_new(&d2, &o, &err), LP_EINVAL);
}
END_TEST

/* Every IPAM subnet of every network, IPv4 and IPv6; a network without IPAM config is fine. */
START_TEST(test_network_subnets)
{
	static const char nets[] =
	    "[{\"Name\":\"bridge\",\"IPAM\":{\"Config\":[{\"Subnet\":\"172.17.0.0/16\","
	    "\"Gateway\":\"172.17.0.1\"}]}},"
	    "{\"Name\":\"host\",\"IPAM\":{\"Config\":[]}},"
	    "{\"Name\":\"none\",\"IPAM\":{\"Config\":null}},"
	    "{\"Name\":\"v6\",\"IPAM\":{\"Config\":[{\"Subnet\":\"100.80.0.0/24\"},"
	    "{\"Subnet\":\"fd00:db8:1::/64\"}]}}]";
	lp_docker_subnet *subs = NULL;
	lp_error err = {0};
	size_t n = 0;

	lp_fake_engine_route(fake, "GET", "/networks", 200, nets, (size_t)-1, 0);
	ck_assert_msg(lp_docker_network_subnets(&subs, &n, dk, &err) == LP_OK, "%s", err.message);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(subs[0].cidr, "172.17.0.0/16");
	ck_assert_str_eq(subs[1].cidr, "100.80.0.0/24");
	ck_assert_str_eq(subs[2].cidr, "fd00:db8:1::/64");
	free(subs);
	lp_fake_engine_route(fake, "GET", "/networks", 200, "{}", (size_t)-1, 0);
	ck_assert_int_eq(lp_docker_network_subnets(&subs, &n, dk, &err), LP_EREMOTE);
	ck_assert_ptr_null(subs);
	lp_fake_engine_route(fake, "GET", "/networks", 500, "{\"message\":\"boom\"}", (size_t)-1,
	                     0);
	ck_assert_int_eq(lp_docker_network_subnets(&subs, &n, dk, &err), LP_EREMOTE);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_inspect_and_list_parse)
{
	static const char list[] =
	    "[{\"Id\":\"a1\",\"Names\":[\"/"
	    "deploy-blog\"],\"Image\":\"nginx\",\"State\":\"running\","
	    "\"Status\":\"Up\",\"Created\":1700000000,\"Labels\":{\"launchpad.site\":\"blog\"}},"
	    "{\"Id\":\"b2\",\"Names\":[],\"Image\":\"x\",\"State\":\"exited\",\"Labels\":null}]";
	const char *labels[] = {"launchpad.instance=t", "launchpad.site=blog", NULL};
	lp_docker_summaries *s = NULL;
	lp_docker_container *c = NULL;
	lp_error err = {0};

	lp_fake_engine_route(fake, "GET", "/containers/abc/json", 200, inspect_json, (size_t)-1, 0);
	lp_fake_engine_route(fake, "GET", "/containers/json", 200, list, (size_t)-1, 0);
	ck_assert_int_eq(lp_docker_container_inspect(&c, dk, "abc", &err), LP_OK);
	ck_assert_str_eq(c->name, "deploy-blog");
	ck_assert_str_eq(c->image, "nginx:alpine");
	ck_assert_int_eq(c->running, 1);
	ck_assert_str_eq(c->status, "running");
	ck_assert_str_eq(lp_docker_kv_get(c->labels, c->nlabels, "launchpad.site"), "blog");
	ck_assert_str_eq(lp_docker_kv_get(c->networks, c->nnetworks, "launchpad-sites"),
	                 "172.30.0.5");
	ck_assert_int_eq(lp_docker_container_list(&s, dk, labels, &err), LP_OK);
	ck_assert_uint_eq(s->n, 2);
	ck_assert_str_eq(s->items[0].names[0], "deploy-blog");
	ck_assert_int_eq(s->items[0].created, 1700000000);
	ck_assert_uint_eq(s->items[1].nnames, 0);
	ck_assert_uint_eq(s->items[1].nlabels, 0);
	/* One call, the labels ANDed in one filter. */
	assert_request(2,
	               "GET /v1.41/containers/json?all=1&filters=%7B%22label%22%3A%5B%22launchpad."
	               "instance%3Dt%22%2C%22launchpad.site%3Dblog%22%5D%7D");
	lp_docker_summaries_free(s);
	lp_docker_container_free(c);
}
END_TEST

START_TEST(test_dead_socket)
{
	lp_docker_options o = {0};
	lp_docker *dead = NULL;
	lp_error err = {0};
	char path[300];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	lp_docker_container *c = NULL;
	int fd;

	/* No file at all. */
	LP_TEST_FMT(path, "%s/nobody.sock", tmpdir);
	o.socket_path = path;
	ck_assert_int_eq(lp_docker_new(&dead, &o, &err), LP_OK);
	ck_assert_int_eq(lp_docker_ping(dead, &err), LP_EUNAVAILABLE);
	ck_assert_ptr_nonnull(strstr(err.message, path));
	ck_assert_int_eq(lp_docker_container_inspect(&c, dead, "abc", &err), LP_EUNAVAILABLE);
	lp_docker_free(dead);

	/* A socket file nobody listens on (a dead engine leaves one behind). */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	LP_TEST_FMT(sa.sun_path, "%s", path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	ck_assert_int_eq(lp_docker_new(&dead, &o, &err), LP_OK);
	ck_assert_int_eq(lp_docker_ping(dead, &err), LP_EUNAVAILABLE);
	ck_assert_ptr_nonnull(strstr(err.message, path));
	lp_docker_free(dead);
	unlink(path);

	memset(path, 'x', 200);
	path[200] = '\0';
	ck_assert_int_eq(lp_docker_new(&dead, &o, &err), LP_EINVAL);
	ck_assert_ptr_null(dead);
}
END_TEST

START_TEST(test_timeout_and_cap)
{
	lp_docker_options o = {0};
	lp_docker *small = NULL;
	lp_docker_summaries *s = NULL;
	lp_error err = {0};
	lp_docker_container *c = NULL;
	char big[8192];

	memset(big, ' ', sizeof(big));
	big[0] = '[';
	big[sizeof(big) - 1] = ']';
	lp_fake_engine_route(fake, "GET", "/containers/json", 200, big, sizeof(big), 0);
	o.socket_path = sock;
	o.max_body = 1024;
	ck_assert_int_eq(lp_docker_new(&small, &o, &err), LP_OK);
	ck_assert_int_eq(lp_docker_container_list(&s, small, NULL, &err), LP_ETOOBIG);
	ck_assert_ptr_null(s);
	lp_docker_free(small);

	/* Last: the fake answers one request at a time and is now busy. */
	o.max_body = 0;
	o.timeout_ms = 300;
	ck_assert_int_eq(lp_docker_new(&small, &o, &err), LP_OK);
	lp_fake_engine_route(fake, "GET", "/containers/slow/json", 200, inspect_json, (size_t)-1,
	                     3000);
	ck_assert_int_eq(lp_docker_container_inspect(&c, small, "slow", &err), LP_ETIMEOUT);
	ck_assert_ptr_null(c);
	lp_docker_free(small);
}
END_TEST

struct cancel_arg {
	lp_docker_cancel *c;
	int ms;
};

static void *cancel_later(void *p)
{
	struct cancel_arg *a = p;

	lp_clock_sleep_ms(a->ms);
	lp_docker_cancel_request(a->c);
	return NULL;
}

START_TEST(test_wait_cancel)
{
	lp_docker_cancel cancel;
	struct cancel_arg a = {&cancel, 200};
	lp_error err = {0};
	pthread_t t;
	int status = 0;

	lp_fake_engine_route(fake, "POST", "/containers/abc/wait", 200, "{\"StatusCode\":3}",
	                     (size_t)-1, 0);
	lp_docker_cancel_init(&cancel);
	ck_assert_int_eq(lp_docker_container_wait(&status, dk, "abc", NULL, &cancel, &err), LP_OK);
	ck_assert_int_eq(status, 3);
	assert_request(1, "POST /v1.41/containers/abc/wait?condition=not-running");

	/* wait has no timeout (the 2 s default would fire): only the cancel ends it. */
	lp_fake_engine_route(fake, "POST", "/containers/abc/wait", 200, "{\"StatusCode\":0}",
	                     (size_t)-1, 3000);
	ck_assert_int_eq(pthread_create(&t, NULL, cancel_later, &a), 0);
	ck_assert_int_eq(lp_docker_container_wait(&status, dk, "abc", "next-exit", &cancel, &err),
	                 LP_ECANCELED);
	pthread_join(t, NULL);
	ck_assert_int_eq(lp_docker_container_wait(&status, dk, "abc", "bogus", NULL, &err),
	                 LP_EINVAL);
}
END_TEST

static int collect(void *ctx, int stream, const char *data, size_t len)
{
	lp_buf *b = ctx;

	ck_assert_int_eq(lp_buf_printf(b, "%d:%.*s|", stream, (int)len, data), LP_OK);
	return 0;
}

START_TEST(test_logs_over_http)
{
	static const char framed[] = "\1\0\0\0\0\0\0\3out"
	                             "\2\0\0\0\0\0\0\4err\n";
	lp_error err = {0};
	lp_buf got;

	lp_buf_init(&got, 4096);
	lp_fake_engine_route(fake, "GET", "/containers/abc/logs", 200, framed, sizeof(framed) - 1,
	                     0);
	ck_assert_int_eq(lp_docker_container_logs(dk, "abc", 1, collect, &got, NULL, &err), LP_OK);
	ck_assert_str_eq(lp_buf_cstr(&got), "1:out|2:err\n|");
	lp_fake_engine_route(fake, "GET", "/containers/abc/logs", 200, "raw tty text\n", (size_t)-1,
	                     0);
	ck_assert_int_eq(lp_docker_container_logs(dk, "abc", 0, collect, &got, NULL, &err),
	                 LP_EREMOTE);
	lp_buf_release(&got);
}
END_TEST

/* timestamps= and since= reach the engine as asked; a since that is no unix time never does. */
START_TEST(test_logs_since_and_timestamps)
{
	static const char framed[] = "\1\0\0\0\0\0\0\3out";
	lp_docker_logs_options o = {.follow = 1, .timestamps = 1, .since = "1764632309.123456789"};
	const char *bad[] = {"", "x", "1.", ".5", "1.1234567890", "1&follow=0", "-1", NULL};
	char req[512];
	lp_error err = {0};
	lp_buf got;
	size_t n;

	lp_buf_init(&got, 4096);
	lp_fake_engine_route(fake, "GET", "/containers/abc/logs", 200, framed, sizeof(framed) - 1,
	                     0);
	ck_assert_int_eq(lp_docker_container_logs_with(dk, "abc", &o, collect, &got, NULL, &err),
	                 LP_OK);
	ck_assert_str_eq(lp_buf_cstr(&got), "1:out|");
	n = lp_fake_engine_nrequests(fake);
	lp_fake_engine_request(fake, n - 1, req, sizeof(req));
	ck_assert_msg(strstr(req, "/containers/abc/logs?stdout=1&stderr=1&timestamps=1&follow=1"
	                          "&since=1764632309.123456789") != NULL,
	              "%s", req);
	for (const char **b = bad; *b; b++) {
		o.since = *b;
		ck_assert_int_eq(
		    lp_docker_container_logs_with(dk, "abc", &o, collect, &got, NULL, &err),
		    LP_EINVAL);
		ck_assert_uint_eq(lp_fake_engine_nrequests(fake), n);
	}
	lp_buf_release(&got);
}
END_TEST

static int progress_calls;

static void on_progress(void *ctx, const char *status, const char *id, const char *progress)
{
	progress_calls++;
}

START_TEST(test_pull_inband_error)
{
	static const char stream[] =
	    "{\"status\":\"Pulling from library/nope\",\"id\":\"latest\"}\r\n"
	    "{\"errorDetail\":{\"message\":\"manifest unknown\"},\"error\":\"manifest "
	    "unknown\"}\r\n";
	lp_error err = {0};

	lp_fake_engine_route(fake, "POST", "/images/create", 200, stream, (size_t)-1, 0);
	progress_calls = 0;
	ck_assert_int_eq(lp_docker_image_pull(dk, "nope", on_progress, NULL, 2000, NULL, &err),
	                 LP_EREMOTE);
	ck_assert_ptr_nonnull(strstr(err.message, "manifest unknown"));
	ck_assert_int_eq(progress_calls, 1);
	assert_request(1, "POST /v1.41/images/create?fromImage=nope&tag=latest");
	ck_assert_int_eq(
	    lp_docker_image_pull(dk, "reg:5000/a/b@sha256:00", NULL, NULL, 2000, NULL, &err),
	    LP_EREMOTE);
	assert_request(2, "POST /v1.41/images/create?fromImage=reg%3A5000%2Fa%2Fb&tag=sha256%3A00");
	ck_assert_int_eq(lp_docker_image_pull(dk, "bad name", NULL, NULL, 0, NULL, &err),
	                 LP_EINVAL);
}
END_TEST

struct ev_state {
	int n;
	char seen[512];
	lp_docker_cancel *cancel;
};

static int on_event(void *ctx, const lp_docker_event *ev)
{
	struct ev_state *s = ctx;

	s->n++;
	snprintf(s->seen + strlen(s->seen), sizeof(s->seen) - strlen(s->seen), "%s:%s:%s,",
	         ev->action, ev->id, lp_docker_kv_get(ev->attrs, ev->nattrs, "name"));
	return 0;
}

static void on_connected(void *ctx, int attempt)
{
	struct ev_state *s = ctx;

	if (attempt == 2)
		lp_docker_cancel_request(s->cancel);
}

/* Each connection replays the same two events and ends: the reconnects must not redeliver. */
START_TEST(test_events_reconnect_no_duplicates)
{
	static const char evs[] =
	    "{\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{\"ID\":\"c1\",\"Attributes\":"
	    "{\"name\":\"deploy-a\"}},\"time\":100,\"timeNano\":100000000001}\n"
	    "{\"Type\":\"container\",\"Action\":\"die\",\"Actor\":{\"ID\":\"c1\",\"Attributes\":"
	    "{\"name\":\"deploy-a\",\"exitCode\":\"0\"}},\"time\":100,\"timeNano\":100000000002}\n";
	const char *labels[] = {"launchpad.instance=t", NULL};
	lp_docker_cancel cancel;
	struct ev_state st = {.cancel = &cancel};
	lp_docker_events_options o = {.type = "container",
	                              .labels = labels,
	                              .since = 90,
	                              .reconnect = 1,
	                              .max_backoff_ms = 100,
	                              .on_connected = on_connected};
	lp_error err = {0};
	char req[512];

	lp_docker_cancel_init(&cancel);
	lp_fake_engine_route(fake, "GET", "/events", 200, evs, (size_t)-1, 0);
	ck_assert_int_eq(lp_docker_events_watch(dk, &o, on_event, &st, &cancel, &err),
	                 LP_ECANCELED);
	ck_assert_int_eq(st.n, 2);
	ck_assert_str_eq(st.seen, "start:c1:deploy-a,die:c1:deploy-a,");
	lp_fake_engine_request(fake, 1, req, sizeof(req));
	ck_assert_ptr_nonnull(strstr(req, "&since=90"));
	lp_fake_engine_request(fake, 2, req, sizeof(req));
	ck_assert_ptr_nonnull(strstr(req, "&since=100"));

	/* Without reconnect, the end of the stream is reported. */
	memset(&st, 0, sizeof(st));
	o.reconnect = 0;
	o.on_connected = NULL;
	ck_assert_int_eq(lp_docker_events_watch(dk, &o, on_event, &st, NULL, &err),
	                 LP_EUNAVAILABLE);
	ck_assert_int_eq(st.n, 2);
}
END_TEST

START_TEST(test_networks)
{
	static const char net[] =
	    "{\"Name\":\"launchpad-sites\",\"Id\":\"n1\",\"Driver\":\"bridge\","
	    "\"Internal\":true}";
	lp_docker_counters before, after;
	lp_error err = {0};
	int created = -1;

	lp_fake_engine_route(fake, "GET", "/networks/launchpad-sites", 200, net, (size_t)-1, 0);
	lp_docker_counters_get(&before, dk);
	ck_assert_int_eq(
	    lp_docker_network_ensure(&created, dk, "launchpad-sites", 1, NULL, 0, &err), LP_OK);
	ck_assert_int_eq(created, 0);
	lp_docker_counters_get(&after, dk);
	ck_assert_uint_eq(after.writes, before.writes);
	ck_assert_int_eq(
	    lp_docker_network_ensure(&created, dk, "launchpad-sites", 0, NULL, 0, &err),
	    LP_ECONFLICT);
	lp_fake_engine_route(fake, "POST", "/networks/launchpad-sites/connect", 403,
	                     "{\"message\":\"endpoint with name x already exists in network "
	                     "launchpad-sites\"}",
	                     (size_t)-1, 0);
	ck_assert_int_eq(lp_docker_network_connect(dk, "launchpad-sites", "x", &err), LP_OK);
}
END_TEST

struct thr {
	int rc;
};

static void *inspect_thread(void *p)
{
	struct thr *t = p;
	lp_docker_container *c = NULL;
	lp_error err = {0};
	int i;

	for (i = 0; i < 5 && t->rc == LP_OK; i++) {
		t->rc = lp_docker_container_inspect(&c, dk, "abc", &err);
		lp_docker_container_free(c);
		c = NULL;
	}
	return NULL;
}

/* Many threads on one handle: all succeed, and the version is negotiated exactly once. */
START_TEST(test_threads_share_handle)
{
	pthread_t th[8];
	struct thr t[8] = {{0}};
	lp_docker_counters cnt;
	char req[256];
	size_t i, versions = 0;

	lp_fake_engine_route(fake, "GET", "/containers/abc/json", 200, inspect_json, (size_t)-1, 0);
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, inspect_thread, &t[i]), 0);
	for (i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(t[i].rc, LP_OK);
	}
	for (i = 0; i < lp_fake_engine_nrequests(fake); i++) {
		lp_fake_engine_request(fake, i, req, sizeof(req));
		versions += !strcmp(req, "GET /version");
	}
	ck_assert_uint_eq(versions, 1);
	lp_docker_counters_get(&cnt, dk);
	ck_assert_uint_eq(cnt.reads, 41);
}
END_TEST

static Suite *fake_suite(void)
{
	Suite *s = suite_create("docker_fake");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_negotiate_debian);
	tcase_add_test(tc, test_negotiate_docker29);
	tcase_add_test(tc, test_negotiate_min_above_ours);
	tcase_add_test(tc, test_negotiate_too_old_engine);
	tcase_add_test(tc, test_renegotiate_after_upgrade);
	tcase_add_test(tc, test_renegotiate_after_downgrade);
	tcase_add_test(tc, test_renegotiate_only_once);
	tcase_add_test(tc, test_error_mapping);
	tcase_add_test(tc, test_create_body);
	tcase_add_test(tc, test_create_healthcheck);
	tcase_add_test(tc, test_inspect_health);
	tcase_add_test(tc, test_log_options);
	tcase_add_test(tc, test_network_subnets);
	tcase_add_test(tc, test_inspect_and_list_parse);
	tcase_add_test(tc, test_dead_socket);
	tcase_add_test(tc, test_timeout_and_cap);
	tcase_add_test(tc, test_wait_cancel);
	tcase_add_test(tc, test_logs_over_http);
	tcase_add_test(tc, test_logs_since_and_timestamps);
	tcase_add_test(tc, test_pull_inband_error);
	tcase_add_test(tc, test_events_reconnect_no_duplicates);
	tcase_add_test(tc, test_networks);
	tcase_add_test(tc, test_threads_share_handle);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lp_test_run(fake_suite());
}
