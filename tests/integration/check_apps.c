/*
 * check_apps.c: dynamic apps (spec.run, docs/apps.md) on the real engine behind the real Traefik.
 * A small Node server from a local Git repo (npm ci, node server.js) answers at <name>.localhost;
 * 10 redeploys under load lose no request; a revision whose health check fails never gets a
 * request and leaves the old one serving, FAILED with the probe's answer; a crash-looping app
 * shows CrashLoopBackOff and recovers with a good revision; the container is hardened as
 * documented, and deleting the site removes every app container.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "launchpad/clock.h"
#include "tests/lib/fixture.h"
#include "tests/lib/load.h"
#include "tests/lib/platform.h"
#include "tests/lib/testutil.h"

#define LIVE_WAIT_MS    120000
#define EDGE_WAIT_MS    60000
#define FAIL_WAIT_MS    90000
#define GONE_WAIT_MS    30000
#define APP_LOG_WAIT_MS 30000 /* the pump follows a new container from the next pass */
#define LOAD_THREADS    4
#define LOAD_RATE       200
#define REDEPLOYS       10
#define START_SECONDS   8 /* the failing revision's time to become healthy */
#define CMD_MAX         8192
#define BODY_MAX        256

static lp_test_platform *g_p;

#define REQUIRE(cond, ...) LP_TEST_REQUIRE(&g_p, cond, __VA_ARGS__)
#define REQUIRE_OK(call)   LP_TEST_REQUIRE_OK(&g_p, call)

static char g_metrics_env[64];
static int g_metrics_port;

/* A port nothing listens on now, for the controller's own metrics. */
static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static void setup(void)
{
	/* no periodic resync in the window the steady state is measured */
	static const char *env[] = {"LAUNCHPAD_APP_IMAGE=launchpad-test/node:local",
	                            "LAUNCHPAD_RESYNC_SECONDS=3600", g_metrics_env, NULL};
	lp_test_platform_options opts = {.edge = 1, .env = env};
	lp_error err = {0};
	int rc;

	g_metrics_port = free_port();
	LP_TEST_FMT(g_metrics_env, "LAUNCHPAD_CONTROLLER_METRICS_PORT=%d", g_metrics_port);
	rc = lp_test_platform_start(&g_p, &opts, &err);
	ck_assert_msg(rc == LP_OK, "cannot start the platform: %s", err.message);
}

static void teardown(void)
{
	lp_test_fixture_teardown(&g_p);
}

/*
 * The app: answers "rev:<rev>" on /, and on /healthz 200, or 500 in mode "unhealthy" (where /
 * answers "bad:<rev>", which must never reach a client); mode "crash" exits at once.
 */
static const char server_js[] =
    "const http = require('http');\n"
    "const cfg = JSON.parse(require('fs').readFileSync(__dirname + '/app.json', 'utf8'));\n"
    "if (cfg.mode === 'crash') { console.error('crashing on purpose: ' + cfg.rev); "
    "process.exit(1); }\n"
    "http.createServer((req, res) => {\n"
    "  if (req.url === '/healthz') { res.writeHead(cfg.mode === 'unhealthy' ? 500 : 200); "
    "return res.end('ok'); }\n"
    "  res.writeHead(200, {'content-type': 'text/plain'});\n"
    "  res.end((cfg.mode === 'unhealthy' ? 'bad:' : 'rev:') + cfg.rev + ':' + "
    "process.env.GREETING);\n"
    "}).listen(Number(process.env.PORT), () => console.log('listening on ' + "
    "process.env.PORT + ' rev ' + cfg.rev));\n";

/* A repo at <root>/<name> holding the app at revision rev in mode. */
static void write_app(char *repo, size_t len, const char *name, const char *rev, const char *mode,
                      int first)
{
	char path[1200];
	FILE *f;

	snprintf(repo, len, "%s/%s", g_p->root, name);
	if (first) {
		lp_test_sh(
		    "mkdir -p '%s' && cd '%s' && git init -q -b main && git config user.email "
		    "t@t && git config user.name t",
		    repo, repo);
		LP_TEST_FMT(path, "%s/server.js", repo);
		REQUIRE((f = fopen(path, "w")) != NULL, "write %s", path);
		fputs(server_js, f);
		fclose(f);
		LP_TEST_FMT(path, "%s/package.json", repo);
		REQUIRE((f = fopen(path, "w")) != NULL, "write %s", path);
		fputs("{\"name\":\"app\",\"version\":\"1.0.0\",\"private\":true}\n", f);
		fclose(f);
		LP_TEST_FMT(path, "%s/package-lock.json", repo);
		REQUIRE((f = fopen(path, "w")) != NULL, "write %s", path);
		fputs("{\"name\":\"app\",\"version\":\"1.0.0\",\"lockfileVersion\":3,\"requires\":"
		      "true,"
		      "\"packages\":{\"\":{\"name\":\"app\",\"version\":\"1.0.0\"}}}\n",
		      f);
		fclose(f);
	}
	LP_TEST_FMT(path, "%s/app.json", repo);
	REQUIRE((f = fopen(path, "w")) != NULL, "write %s", path);
	fprintf(f, "{\"rev\":\"%s\",\"mode\":\"%s\"}\n", rev, mode);
	fclose(f);
	lp_test_sh("cd '%s' && git add -A && git commit -q -m '%s %s'", repo, rev, mode);
}

/* PUT the app's manifest; its id into id. */
static void apply_app(char id[64], const char *name, const char *repo)
{
	char manifest[4096];
	lp_test_http_resp r = {0};
	lp_error err = {0};
	const cJSON *v;
	char path[256];

	LP_TEST_FMT(
	    manifest,
	    "{\"apiVersion\":\"launchpad.dev/v1\",\"kind\":\"Site\",\"metadata\":{\"name\":"
	    "\"%s\"},\"spec\":{\"source\":{\"git\":{\"url\":\"file://%s\",\"branch\":\"main\""
	    "}},\"build\":{\"command\":\"npm ci\",\"outputDir\":\".\"},\"run\":{\"command\":"
	    "\"node server.js\",\"port\":3000,\"env\":{\"GREETING\":\"hi\"},\"healthCheck\":{"
	    "\"path\":\"/healthz\",\"intervalSeconds\":1,\"timeoutSeconds\":2,"
	    "\"startSeconds\":%d},\"resources\":{\"memoryMiB\":128,\"cpus\":0.5}}}}",
	    name, repo, START_SECONDS);
	LP_TEST_FMT(path, "/api/deployments/%s", name);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "PUT", path, manifest, &err));
	REQUIRE(r.status == 201, "apply answered %ld: %s", r.status, r.body);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "GET", path, NULL, &err));
	v = cJSON_GetObjectItemCaseSensitive(r.json, "id");
	REQUIRE(cJSON_IsString(v), "no id in %s", r.body);
	snprintf(id, 64, "%s", v->valuestring);
	/* the API shows spec.run as written */
	REQUIRE(strstr(r.body, "\"run\":{\"command\":\"node server.js\",\"port\":3000") != NULL,
	        "spec.run in %s", r.body);
	lp_test_http_resp_release(&r);
}

static long redeploy(const char *id)
{
	lp_test_http_resp r = {0};
	lp_error err = {0};
	char path[256];
	long rev;

	LP_TEST_FMT(path, "/api/deployments/%s/redeploy", id);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "POST", path, "{}", &err));
	REQUIRE(r.status == 202, "redeploy answered %ld: %s", r.status, r.body);
	rev = (long)cJSON_GetObjectItemCaseSensitive(r.json, "revision")->valuedouble;
	lp_test_http_resp_release(&r);
	return rev;
}

/* The deployment's JSON text (malloc'd). */
static char *deployment(const char *id)
{
	lp_test_http_resp r = {0};
	lp_error err = {0};
	char path[256], *body;

	LP_TEST_FMT(path, "/api/deployments/%s", id);
	REQUIRE_OK(lp_test_platform_api(&r, g_p, "GET", path, NULL, &err));
	body = strdup(r.body);
	lp_test_http_resp_release(&r);
	return body;
}

/* Poll the deployment until its JSON holds every needle (NULL-terminated). */
static char *wait_body(const char *id, const char *const *needles, int timeout_ms)
{
	int64_t t0 = lp_clock_mono_ms();
	char *body = NULL;

	for (;;) {
		size_t i;
		int all = 1;

		free(body);
		body = deployment(id);
		for (i = 0; needles[i]; i++)
			all &= strstr(body, needles[i]) != NULL;
		if (all)
			return body;
		REQUIRE(lp_clock_mono_ms() - t0 < timeout_ms, "waited %d ms for %s in %s",
		        timeout_ms, needles[0], body);
		lp_clock_sleep_ms(200);
	}
}

/* Poll until the instance has n app containers (running or not, with all: any state). */
static void wait_app_containers(int n, int all, const char *why)
{
	int64_t t0 = lp_clock_mono_ms();
	int got;

	for (;;) {
		got = lp_test_count_lines("docker ps %s -q --filter label=launchpad.instance=%s "
		                          "--filter label=launchpad.role=app",
		                          all ? "-a" : "", g_p->instance);
		if (got == n)
			return;
		REQUIRE(lp_clock_mono_ms() - t0 < GONE_WAIT_MS, "%d app containers, not %d: %s",
		        got, n, why);
		lp_clock_sleep_ms(200);
	}
}

/* The load's checker: a good revision's answer, never the bad one's. */
static int good_body(void *ctx, const char *body, size_t len)
{
	(void)ctx;
	return len > 4 && !memcmp(body, "rev:", 4) && len < BODY_MAX &&
	       memmem(body, len, ":hi", 3) != NULL;
}

static void load_start(lp_test_load **out, const char *name)
{
	char url[128], host[128];
	lp_error err = {0};

	LP_TEST_FMT(url, "http://%s/", g_p->edge_http);
	lp_test_platform_site_host(host, sizeof(host), name);
	REQUIRE_OK(
	    lp_test_load_start(out, url, host, LOAD_THREADS, LOAD_RATE, good_body, NULL, &err));
}

static void print_load(const char *what, const lp_test_load_stats *s)
{
	printf("  %s: %llu requests in %.1f s (%.0f req/s): %llu ok, %llu non-2xx, %llu socket "
	       "errors, %llu bad bodies%s%s\n",
	       what, (unsigned long long)s->requests, s->seconds,
	       s->seconds > 0 ? (double)s->requests / s->seconds : 0.0, (unsigned long long)s->ok,
	       (unsigned long long)s->non2xx, (unsigned long long)s->socket_errs,
	       (unsigned long long)s->bad_bodies, s->first_failure[0] ? "; first failure: " : "",
	       s->first_failure);
}

/* docker inspect --format of the site's one running app container. */
static void inspect(char *out, size_t len, const char *name, const char *format)
{
	char cmd[CMD_MAX];
	FILE *f;
	size_t n;

	LP_TEST_FMT(
	    cmd,
	    "docker inspect --format '%s' $(docker ps -q --filter label=launchpad.instance=%s "
	    "--filter label=launchpad.site=%s --filter label=launchpad.role=app) 2>&1",
	    format, g_p->instance, name);
	REQUIRE((f = popen(cmd, "r")) != NULL, "popen");
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	while (n > 0 && out[n - 1] == '\n')
		out[--n] = '\0';
	pclose(f);
}

static void expect_inspect(const char *name, const char *format, const char *want)
{
	char got[4096];

	inspect(got, sizeof(got), name, format);
	REQUIRE(strstr(got, want) != NULL, "%s: got \"%s\", want \"%s\"", format, got, want);
}

/* What the issue asks of the container: non-root, no capabilities, read-only, limited. */
static void check_hardening(const char *name)
{
	char nets[512];

	expect_inspect(name, "{{.Config.User}}", "1000:1000");
	expect_inspect(name, "{{.HostConfig.CapDrop}}", "[ALL]");
	expect_inspect(name, "{{.HostConfig.SecurityOpt}}", "no-new-privileges");
	expect_inspect(name, "{{.HostConfig.ReadonlyRootfs}}", "true");
	expect_inspect(name, "{{json .HostConfig.Tmpfs}}",
	               "\"/tmp\":\"rw,noexec,nosuid,nodev,size=64m\"");
	expect_inspect(name, "{{.HostConfig.Memory}}", "134217728");
	expect_inspect(name, "{{.HostConfig.NanoCpus}}", "500000000");
	expect_inspect(name, "{{.HostConfig.PidsLimit}}", "256");
	expect_inspect(name, "{{.HostConfig.RestartPolicy.Name}}", "unless-stopped");
	expect_inspect(name, "{{.Config.WorkingDir}}", "/app");
	expect_inspect(name, "{{json .Config.Healthcheck.Test}}",
	               "[\"CMD\",\"/.launchpad/lp-probe\",\"3000\",\"/healthz\",\"2\"]");
	expect_inspect(name, "{{.State.Health.Status}}", "healthy");
	expect_inspect(name, "{{range .Config.Env}}{{.}} {{end}}", "PORT=3000");
	/* the revision itself, read only; no Docker socket anywhere */
	expect_inspect(name, "{{range .Mounts}}{{.Destination}}:{{.RW}} {{end}}", "/app:false");
	inspect(nets, sizeof(nets), name, "{{range .Mounts}}{{.Source}} {{end}}");
	REQUIRE(strstr(nets, "docker.sock") == NULL, "a Docker socket is bound: %s", nets);
	/* the internal sites network for Traefik, the apps network for egress */
	inspect(nets, sizeof(nets), name,
	        "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}");
	REQUIRE(strstr(nets, "launchpad-sites") && strstr(nets, "launchpad-apps"), "networks: %s",
	        nets);
	/* the apps network: egress, but no traffic between its containers */
	{
		char cmd[512], out[256];
		FILE *f;
		size_t n;

		LP_TEST_FMT(cmd,
		            "docker network inspect --format '{{.Internal}} "
		            "{{index .Options \"com.docker.network.bridge.enable_icc\"}}' "
		            "%s-launchpad-apps",
		            g_p->instance);
		REQUIRE((f = popen(cmd, "r")) != NULL, "popen");
		n = fread(out, 1, sizeof(out) - 1, f);
		out[n] = '\0';
		pclose(f);
		REQUIRE(strstr(out, "false false") != NULL, "apps network: %s", out);
	}
	/* the app cannot write outside /tmp, and is not root */
	{
		char cmd[1024], out[512];
		FILE *f;
		size_t n;

		LP_TEST_FMT(
		    cmd,
		    "docker exec $(docker ps -q --filter label=launchpad.instance=%s --filter "
		    "label=launchpad.site=%s --filter label=launchpad.role=app) sh -c 'id -u; "
		    "touch /app/x 2>&1 || echo app-ro; touch /x 2>&1 || echo root-ro; touch "
		    "/tmp/x && echo tmp-rw'",
		    g_p->instance, name);
		REQUIRE((f = popen(cmd, "r")) != NULL, "popen");
		n = fread(out, 1, sizeof(out) - 1, f);
		out[n] = '\0';
		pclose(f);
		REQUIRE(!strncmp(out, "1000\n", 5) && strstr(out, "app-ro") &&
		            strstr(out, "root-ro") && strstr(out, "tmp-rw"),
		        "inside the container: %s", out);
	}
}

/*
 * The app's own output reaches its log through the pump: the API's source=app stream (without
 * follow it ends after the tail) and `launchpad logs NAME --app` both show needle within a
 * deadline (the pump follows the container from the controller's next pass).
 */
static void expect_app_log(const char *id, const char *name, const char *needle)
{
	int64_t deadline = lp_clock_mono_ms() + APP_LOG_WAIT_MS;
	char path[256], cmd[2048], *cli = lp_test_bin_path("launchpad");
	lp_error err = {0};
	long status = 0;
	lp_buf log;
	int found = 0;

	LP_TEST_FMT(path, "/api/deployments/%s/logs?source=app&tail=50", id);
	lp_buf_init(&log, 1 << 20);
	while (!found && lp_clock_mono_ms() < deadline) {
		lp_buf_reset(&log);
		REQUIRE_OK(lp_test_platform_stream(&log, &status, g_p, path, 30, &err));
		REQUIRE(status == 200, "app log answered %ld: %s", status, lp_buf_cstr(&log));
		found = strstr(lp_buf_cstr(&log), needle) != NULL;
		if (!found)
			lp_clock_sleep_ms(200);
	}
	REQUIRE(found, "the app log has no \"%s\": %.2000s", needle, lp_buf_cstr(&log));
	REQUIRE(strstr(lp_buf_cstr(&log), "event: end") != NULL, "no end without follow: %.2000s",
	        lp_buf_cstr(&log));
	lp_buf_release(&log);
	LP_TEST_FMT(
	    cmd,
	    "LAUNCHPAD_SERVER=%s LAUNCHPAD_TOKEN=%s %s logs %s --app --tail 50 | grep -qF '%s'",
	    g_p->url, g_p->token, cli, name, needle);
	free(cli);
	lp_test_sh("%s", cmd);
	printf("  the app's output is in its log (API and CLI): %s\n", needle);
	fflush(stdout);
}

START_TEST(test_app_redeploys_health_gate_and_delete)
{
	char repo[1200], id[64], want[64], rev[16];
	lp_test_load *load = NULL;
	lp_test_load_stats st;
	lp_error err = {0};
	cJSON *dep = NULL;
	char *body;
	int i;

	write_app(repo, sizeof(repo), "app1", "1", "ok", 1);
	apply_app(id, "app1", repo);
	REQUIRE_OK(lp_test_platform_wait_status(&dep, g_p, id, "live", LIVE_WAIT_MS, &err));
	cJSON_Delete(dep);
	REQUIRE_OK(lp_test_platform_wait_edge(g_p, "app1", 200, "rev:1:hi", EDGE_WAIT_MS, &err));
	printf("  the app answers through Traefik at app1.localhost\n");
	fflush(stdout);
	check_hardening("app1");
	expect_app_log(id, "app1", "stdout listening on 3000 rev 1");

	/* 10 redeploys under load: every request answered by some revision, the last at the end */
	load_start(&load, "app1");
	for (i = 2; i < 2 + REDEPLOYS; i++) {
		int64_t t0 = lp_clock_mono_ms();

		LP_TEST_FMT(rev, "%d", i);
		write_app(repo, sizeof(repo), "app1", rev, "ok", 0);
		redeploy(id);
		LP_TEST_FMT(want, "rev:%d:hi", i);
		REQUIRE_OK(lp_test_platform_wait_edge(g_p, "app1", 200, want, EDGE_WAIT_MS, &err));
		printf("  redeploy %d served in %lld ms\n", i - 1,
		       (long long)(lp_clock_mono_ms() - t0));
	}
	REQUIRE_OK(lp_test_platform_wait_status(&dep, g_p, id, "live", LIVE_WAIT_MS, &err));
	cJSON_Delete(dep);
	lp_test_load_stop(&st, load);
	print_load("10 redeploys under load", &st);
	REQUIRE(lp_test_load_failed(&st) == 0,
	        "%llu failed requests during the redeploys (%llu non-2xx, %llu socket errors, %llu "
	        "bad bodies; first at %lld ms: %s)",
	        (unsigned long long)lp_test_load_failed(&st), (unsigned long long)st.non2xx,
	        (unsigned long long)st.socket_errs, (unsigned long long)st.bad_bodies,
	        (long long)st.first_failure_ms, st.first_failure);
	REQUIRE(st.ok > 0, "no request answered");
	/* the last old one drains and goes */
	wait_app_containers(1, 1, "left after the redeploys");

	/* a revision whose health check fails never gets a request; the old one stays */
	load_start(&load, "app1");
	write_app(repo, sizeof(repo), "app1", "bad", "unhealthy", 0);
	{
		long n = redeploy(id);
		char failed[128], still[128];
		const char *needles[] = {failed, "health check failed: HTTP 500", still,
		                         "HealthCheckFailed", NULL};

		LP_TEST_FMT(failed, "revision %ld failed", n);
		LP_TEST_FMT(still, "(still serving revision %ld)", n - 1);
		body = wait_body(id, needles, FAIL_WAIT_MS);
		printf("  the failing revision: %s\n", strstr(body, "\"message\""));
		free(body);
	}
	lp_clock_sleep_ms(2000);
	lp_test_load_stop(&st, load);
	print_load("a revision failing its health check, under load", &st);
	REQUIRE(lp_test_load_failed(&st) == 0,
	        "%llu failed requests beside the failing revision (%llu non-2xx, %llu socket "
	        "errors, %llu bad bodies; first: %s)",
	        (unsigned long long)lp_test_load_failed(&st), (unsigned long long)st.non2xx,
	        (unsigned long long)st.socket_errs, (unsigned long long)st.bad_bodies,
	        st.first_failure);
	LP_TEST_FMT(want, "rev:%d:hi", 1 + REDEPLOYS);
	REQUIRE_OK(lp_test_platform_wait_edge(g_p, "app1", 200, want, EDGE_WAIT_MS, &err));
	wait_app_containers(1, 1, "the failed revision's container is left");

	/* deleting the site removes every app container */
	{
		lp_test_http_resp r = {0};
		char path[256];

		LP_TEST_FMT(path, "/api/deployments/%s", id);
		REQUIRE_OK(lp_test_platform_api(&r, g_p, "DELETE", path, NULL, &err));
		REQUIRE(r.status == 202 || r.status == 200 || r.status == 204,
		        "delete answered %ld: %s", r.status, r.body);
		lp_test_http_resp_release(&r);
		REQUIRE_OK(lp_test_platform_wait_gone(g_p, id, GONE_WAIT_MS, &err));
		REQUIRE(lp_test_platform_count_containers(g_p, "launchpad.role=app") == 0,
		        "app containers left after the delete");
	}
}
END_TEST

START_TEST(test_crash_loop)
{
	char repo[1200], id[64];
	const char *needles[] = {"CrashLoopBackOff", "app exits (code 1)", "crashing on purpose",
	                         NULL};
	lp_error err = {0};
	cJSON *dep = NULL;
	char *body;

	write_app(repo, sizeof(repo), "crashy", "c1", "crash", 1);
	apply_app(id, "crashy", repo);
	body = wait_body(id, needles, FAIL_WAIT_MS);
	REQUIRE(strstr(body, "\"status\":\"failed\"") != NULL, "not failed: %s", body);
	printf("  the crash loop: %s\n", strstr(body, "\"message\""));
	free(body);
	/* Docker's backoff, not the controller, restarts it: one container, restarted in place */
	REQUIRE(lp_test_count_lines("docker ps -aq --filter label=launchpad.instance=%s --filter "
	                            "label=launchpad.role=app",
	                            g_p->instance) == 1,
	        "the crashing container was replaced instead of restarted");
	write_app(repo, sizeof(repo), "crashy", "c2", "ok", 0);
	redeploy(id);
	REQUIRE_OK(lp_test_platform_wait_status(&dep, g_p, id, "live", LIVE_WAIT_MS, &err));
	cJSON_Delete(dep);
	REQUIRE_OK(lp_test_platform_wait_edge(g_p, "crashy", 200, "rev:c2:hi", EDGE_WAIT_MS, &err));
	body = deployment(id);
	REQUIRE(strstr(body, "CrashLoopBackOff") == NULL, "still a crash loop: %s", body);
	free(body);
}
END_TEST

/* One counter of the controller's /metrics ("launchpad_controller_..." with its labels). */
static long long metric(const char *name)
{
	char url[128];
	lp_test_http_resp r = {0};
	lp_error err = {0};
	const char *at;
	long long v = -1;

	LP_TEST_FMT(url, "http://127.0.0.1:%d/metrics", g_metrics_port);
	REQUIRE_OK(lp_test_http_request(&r, "GET", url, NULL, 0, NULL, NULL, NULL, &err));
	at = strstr(r.body, name);
	while (at && at > r.body && at[-1] != '\n')
		at = strstr(at + 1, name);
	if (at)
		v = atoll(at + strlen(name) + 1);
	lp_test_http_resp_release(&r);
	REQUIRE(v >= 0, "no %s in the controller's metrics", name);
	return v;
}

/* A healthy app costs nothing: its health checks wake no reconcile, nothing is written. */
START_TEST(test_steady_state_quiet)
{
	static const char *const names[] = {
	    "launchpad_controller_reconciles_total",
	    "launchpad_controller_docker_requests_total{kind=\"write\"}",
	    "launchpad_controller_writes_total{kind=\"file\"}",
	    "launchpad_controller_writes_total{kind=\"status\"}",
	    "launchpad_controller_docker_requests_total{kind=\"read\"}"};
	long long before[5], after[5];
	char repo[1200], id[64];
	lp_error err = {0};
	cJSON *dep = NULL;
	size_t i;

	write_app(repo, sizeof(repo), "calm", "1", "ok", 1);
	apply_app(id, "calm", repo);
	REQUIRE_OK(lp_test_platform_wait_status(&dep, g_p, id, "live", LIVE_WAIT_MS, &err));
	cJSON_Delete(dep);
	REQUIRE_OK(lp_test_platform_wait_edge(g_p, "calm", 200, "rev:1:hi", EDGE_WAIT_MS, &err));
	wait_app_containers(1, 1, "after the first deploy");
	lp_clock_sleep_ms(3000); /* the last passes of the rollout settle */
	for (i = 0; i < 5; i++)
		before[i] = metric(names[i]);
	lp_clock_sleep_ms(6000); /* six health checks */
	for (i = 0; i < 5; i++)
		after[i] = metric(names[i]);
	printf("  steady state over 6 s (6 health checks): %lld reconciles, %lld Docker reads, "
	       "%lld Docker writes, %lld file writes, %lld status writes\n",
	       after[0] - before[0], after[4] - before[4], after[1] - before[1],
	       after[2] - before[2], after[3] - before[3]);
	for (i = 0; i < 4; i++)
		REQUIRE(after[i] == before[i], "%s moved from %lld to %lld in the steady state",
		        names[i], before[i], after[i]);
}
END_TEST

/* One case per test, so CK_RUN_CASE runs one (each has its own platform). */
static void add_case(Suite *s, const char *name, const TTest *t)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t);
	tcase_set_timeout(tc, 900);
	suite_add_tcase(s, tc);
}

static Suite *apps_suite(void)
{
	Suite *s = suite_create("apps");

	add_case(s, "rollout", test_app_redeploys_health_gate_and_delete);
	add_case(s, "crashloop", test_crash_loop);
	add_case(s, "steady", test_steady_state_quiet);
	return s;
}

int main(void)
{
	return lp_test_run(apps_suite());
}
