/* platform.c: start the real apiserver + controller for end-to-end tests, and talk to them. */
#include "tests/lib/platform.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "controller/nginx_conf.h"
#include "launchpad/buf.h"
#include "launchpad/docker.h"
#include "launchpad/fs.h"
#include "tests/lib/testutil.h"

extern char **environ;

#define LP_TP_BODY_MAX     (16u << 20) /* largest response body a test reads */
#define LP_TP_LOGLINE_WAIT 20000       /* ms for the apiserver to print its address */
#define LP_TP_STOP_WAIT    20000       /* default ms between SIGTERM and SIGKILL */
#define LP_TP_MAX_ENV      512

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

char *lp_test_platform_path(const lp_test_platform *p, const char *rel)
{
	char *s = NULL;

	if (asprintf(&s, "%s/%s", p->root, rel) < 0)
		return NULL;
	return s;
}

char *lp_test_platform_data_path(const lp_test_platform *p, const char *rel)
{
	char *s = NULL;

	if (asprintf(&s, "%s/%s", p->data_dir, rel) < 0)
		return NULL;
	return s;
}

char *lp_test_firewall_cleanup_command(const char *instance)
{
	char *cmd = NULL;

	/* The chain is "LP-" and the first 12 hex digits of the instance's SHA-256. */
	if (asprintf(&cmd,
	             "c=LP-$(printf %%s '%s' | sha256sum | cut -c1-12); "
	             "iptables -w 5 -S INPUT 2>/dev/null | grep -E -- \"-j $c\\$\" | "
	             "sed 's/^-A /-D /' | while read -r r; do eval \"iptables -w 5 $r\"; done; "
	             "iptables -w 5 -F $c 2>/dev/null; iptables -w 5 -X $c 2>/dev/null; true",
	             instance) < 0)
		return NULL;
	return cmd;
}

/* The shell command that removes everything an instance may have left behind. */
static char *cleanup_command(const lp_test_platform *p, int remove_root)
{
	char *cmd = NULL, *fw = lp_test_firewall_cleanup_command(p->instance);

	if (fw == NULL ||
	    asprintf(&cmd,
	             "ids=$(docker ps -aq --filter label=launchpad.instance=%s 2>/dev/null); "
	             "[ -z \"$ids\" ] || docker rm -f $ids >/dev/null 2>&1; "
	             "docker network rm %s-launchpad-sites %s-launchpad-build %s-launchpad-apps "
	             ">/dev/null 2>&1; %s; %s%s%s true",
	             p->instance, p->instance, p->instance, p->instance, fw,
	             remove_root ? "rm -rf '" : "", remove_root ? p->root : "",
	             remove_root ? "';" : "") < 0)
		cmd = NULL;
	free(fw);
	return cmd;
}

static int run_shell(const char *cmd)
{
	int st = cmd ? system(cmd) : -1;

	return st;
}

/*
 * A process in its own session that outlives a test killed by Check's timeout (killpg) or a
 * crash: when the pipe closes without the "done" byte, it removes the instance's leftovers.
 */
static int start_reaper(lp_test_platform *p, lp_error *err)
{
	int fds[2];
	char *cmd = cleanup_command(p, getenv("LAUNCHPAD_TEST_KEEP") == NULL);
	pid_t pid;

	if (cmd == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	if (pipe2(fds, O_CLOEXEC) != 0) {
		free(cmd);
		return lp_error_set(err, LP_EIO, "pipe: %s", strerror(errno));
	}
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		free(cmd);
		return lp_error_set(err, LP_EIO, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		char c = 0;
		ssize_t n;

		setsid();
		signal(SIGINT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		close(fds[1]);
		do
			n = read(fds[0], &c, 1);
		while (n < 0 && errno == EINTR);
		if (n == 1 && c == 'd')
			_exit(0);
		/* the daemons die with their parent (PDEATHSIG); give the engine a moment */
		sleep_ms(1000);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	free(cmd);
	close(fds[0]);
	p->reaper_pid = pid;
	p->reaper_fd = fds[1];
	return LP_OK;
}

static void stop_reaper(lp_test_platform *p)
{
	int st;

	if (p->reaper_pid <= 0)
		return;
	if (write(p->reaper_fd, "d", 1) != 1)
		kill(p->reaper_pid, SIGKILL);
	close(p->reaper_fd);
	waitpid(p->reaper_pid, &st, 0);
	p->reaper_pid = 0;
	p->reaper_fd = -1;
}

static void env_free(char **env)
{
	size_t i;

	for (i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

/* 1 when env[0..n) already sets the variable of the "K=V" string kv. */
static int env_has(char **env, size_t n, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) + 1 : strlen(kv), i;

	for (i = 0; i < n; i++)
		if (!strncmp(env[i], kv, klen))
			return 1;
	return 0;
}

/* opts->env, then our settings, then environ; the first setting of a variable wins. */
static char **env_new(const lp_test_platform *p, const lp_test_platform_options *opts)
{
	char **env = calloc(LP_TP_MAX_ENV + 1, sizeof(*env));
	char *ours[10] = {NULL};
	const char *port = strrchr(p->edge_http, ':'), *https = strrchr(p->edge_https, ':');
	size_t n = 0, i;

	if (env == NULL)
		return NULL;
	for (i = 0; opts && opts->env && opts->env[i] && n < LP_TP_MAX_ENV; i++)
		if ((env[n] = strdup(opts->env[i])) != NULL)
			n++;
	if (asprintf(&ours[0], "LAUNCHPAD_DATA_DIR=%s", p->data_dir) < 0 ||
	    asprintf(&ours[1], "LAUNCHPAD_INSTANCE=%s", p->instance) < 0 ||
	    asprintf(&ours[2], "LAUNCHPAD_SERVE_IMAGE=%s", p->serve_image) < 0 ||
	    asprintf(&ours[3], "LAUNCHPAD_BUILD_IMAGE=%s", p->build_image) < 0 ||
	    asprintf(&ours[4], "LAUNCHPAD_ALLOW_INSECURE_SOURCES=true") < 0 ||
	    asprintf(&ours[5], "LAUNCHPAD_PUBLIC_URL=%s",
	             opts && opts->public_url ? opts->public_url : "http://launchpad-e2e.invalid") <
	        0 ||
	    (p->edge_api[0] &&
	     asprintf(&ours[6], "LAUNCHPAD_TRAEFIK_API=http://%s", p->edge_api) < 0) ||
	    (port && asprintf(&ours[7], "LAUNCHPAD_HTTP_PORT=%s", port + 1) < 0) ||
	    (https && (asprintf(&ours[8], "LAUNCHPAD_HTTPS=true") < 0 ||
	               asprintf(&ours[9], "LAUNCHPAD_HTTPS_PORT=%s", https + 1) < 0))) {
		for (i = 0; i < 10; i++)
			free(ours[i]);
		env_free(env);
		return NULL;
	}
	for (i = 0; i < 10; i++) {
		if (ours[i] == NULL)
			continue;
		if (n < LP_TP_MAX_ENV && !env_has(env, n, ours[i]))
			env[n++] = ours[i];
		else
			free(ours[i]);
	}
	for (i = 0; environ[i] && n < LP_TP_MAX_ENV; i++)
		if (!env_has(env, n, environ[i]) && (env[n] = strdup(environ[i])) != NULL)
			n++;
	return env;
}

/* fork + execve with stdout/stderr appended to log; the child dies with this process. */
static int spawn(pid_t *out, const char *bin, char *const *argv, char **env, const char *log,
                 lp_error *err)
{
	pid_t parent = getpid();
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	pid_t pid;

	if (fd < 0)
		return lp_error_set(err, LP_EIO, "open %s: %s", log, strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(fd);
		return lp_error_set(err, LP_EIO, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		/* SIGKILL: an orphaned controller must not keep re-creating containers */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		dup2(fd, 1);
		dup2(fd, 2);
		execve(bin, argv, env);
		dprintf(2, "exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	close(fd);
	*out = pid;
	return LP_OK;
}

static char *tail_of(const char *path, size_t max)
{
	char *data = NULL, *s;
	size_t len = 0;

	if (lp_fs_read_file(&data, &len, path, 64u << 20, NULL) != LP_OK)
		return strdup("(no log)");
	s = strdup(len > max ? data + len - max : data);
	free(data);
	return s;
}

/* Wait for "listening on http://HOST:PORT" in the apiserver's log, past its first from bytes. */
static int wait_listen_line(lp_test_platform *p, const char *log, size_t from, lp_error *err)
{
	int64_t t0 = now_ms();
	char *data = NULL, *at, *tail;
	size_t len, n;
	int st;

	while (now_ms() - t0 < LP_TP_LOGLINE_WAIT) {
		if (lp_fs_read_file(&data, &len, log, 64u << 20, NULL) == LP_OK && len >= from &&
		    (at = strstr(data + from, "listening on http://")) != NULL) {
			at += strlen("listening on ");
			n = strcspn(at, " \r\n");
			if (n < sizeof(p->url) && n > strlen("http://")) {
				memcpy(p->url, at, n);
				p->url[n] = '\0';
				free(data);
				return LP_OK;
			}
		}
		free(data);
		data = NULL;
		if (waitpid(p->apiserver_pid, &st, WNOHANG) == p->apiserver_pid) {
			p->apiserver_pid = 0;
			p->apiserver_status = st;
			tail = tail_of(log, 2000);
			lp_error_set(err, LP_ERROR, "launchpad-apiserver exited (status 0x%x): %s",
			             st, tail);
			free(tail);
			return LP_ERROR;
		}
		sleep_ms(20);
	}
	tail = tail_of(log, 2000);
	lp_error_set(err, LP_ETIMEOUT, "no 'listening on' line from the apiserver in %d ms: %s",
	             LP_TP_LOGLINE_WAIT, tail);
	free(tail);
	return LP_ETIMEOUT;
}

static int read_token(lp_test_platform *p, lp_error *err)
{
	char *path = lp_test_platform_data_path(p, "admin.token"), *data = NULL;
	int64_t t0 = now_ms();
	size_t len = 0, n;
	int rc = LP_ETIMEOUT;

	while (path && now_ms() - t0 < 10000) {
		if (lp_fs_read_file(&data, &len, path, 4096, NULL) == LP_OK) {
			n = strcspn(data, " \r\n");
			if (n > 0 && n < sizeof(p->token)) {
				memcpy(p->token, data, n);
				p->token[n] = '\0';
				rc = LP_OK;
				break;
			}
		}
		free(data);
		data = NULL;
		sleep_ms(20);
	}
	if (rc != LP_OK)
		lp_error_set(err, rc, "no admin token in %s", path ? path : "(oom)");
	free(data);
	free(path);
	return rc;
}

/* Copy the value of "key=" from the line "http=ADDR api=ADDR" into out. */
static int edge_field(char *out, size_t outlen, const char *line, const char *key)
{
	const char *at = strstr(line, key);
	size_t n;

	if (at == NULL)
		return LP_ENOTFOUND;
	at += strlen(key);
	n = strcspn(at, " \r\n");
	if (n == 0 || n >= outlen)
		return LP_ETOOBIG;
	memcpy(out, at, n);
	out[n] = '\0';
	return LP_OK;
}

/* The instance's Traefik on free loopback ports, through the script `make run` uses too. */
static int start_edge(lp_test_platform *p, const lp_test_platform_options *opts, lp_error *err)
{
	char *script = lp_test_src_path("scripts/edge.sh"), *cmd = NULL, line[512] = "";
	char tls[3000] = "";
	FILE *f = NULL;
	int st, rc = LP_OK;

	if (opts->https)
		LP_TEST_FMT(tls,
		            "LAUNCHPAD_HTTPS=true LAUNCHPAD_EDGE_HTTPS=127.0.0.1:0 "
		            "LAUNCHPAD_EDGE_STATE_DIR='%s/edge-state' LAUNCHPAD_TLS_CERT='%s' "
		            "LAUNCHPAD_TLS_KEY='%s' ",
		            p->root, opts->tls_cert ? opts->tls_cert : "",
		            opts->tls_key ? opts->tls_key : "");
	if (script == NULL || asprintf(&cmd,
	                               "LAUNCHPAD_INSTANCE='%s' LAUNCHPAD_EDGE_HTTP=127.0.0.1:0 "
	                               "LAUNCHPAD_EDGE_API=127.0.0.1:0 %s'%s' up 2>&1",
	                               p->instance, tls, script) < 0) {
		free(script);
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	if ((f = popen(cmd, "r")) == NULL) {
		rc = lp_error_set(err, LP_EIO, "popen %s: %s", script, strerror(errno));
		goto done;
	}
	{
		char buf[512];
		while (fgets(buf, sizeof(buf), f))
			if (!strncmp(buf, "http=", 5))
				LP_TEST_FMT(line, "%s", buf);
			else
				fprintf(stderr, "%s", buf);
	}
	st = pclose(f);
	if (st != 0 || edge_field(p->edge_http, sizeof(p->edge_http), line, "http=") != LP_OK ||
	    edge_field(p->edge_api, sizeof(p->edge_api), line, "api=") != LP_OK ||
	    (opts->https &&
	     edge_field(p->edge_https, sizeof(p->edge_https), line, "https=") != LP_OK))
		rc = lp_error_set(err, LP_ERROR, "scripts/edge.sh up failed (status %d)", st);
done:
	free(cmd);
	free(script);
	return rc;
}

/* Spawn the apiserver on a free loopback port; p->url once it prints its address. */
static int start_apiserver(lp_test_platform *p, lp_error *err)
{
	char *bin = lp_test_bin_path("launchpad-apiserver");
	char *log = lp_test_platform_path(p, "apiserver.log");
	char *argv[] = {bin, "--listen", "127.0.0.1:0", NULL};
	struct stat sb;
	size_t from;
	int rc = LP_ENOMEM;

	if (bin == NULL || log == NULL) {
		lp_error_set(err, rc, "out of memory");
		goto done;
	}
	/* a respawn appends to the log: its address is the first one past the old end */
	from = stat(log, &sb) == 0 ? (size_t)sb.st_size : 0;
	if ((rc = spawn(&p->apiserver_pid, bin, argv, p->env, log, err)) != LP_OK)
		goto done;
	rc = wait_listen_line(p, log, from, err);
done:
	free(log);
	free(bin);
	return rc;
}

/* Poll the apiserver's /readyz until it answers 200 (10 s). */
static int wait_ready(lp_test_platform *p, lp_error *err)
{
	lp_test_http_resp r = {0};
	char url[128];
	int64_t t0 = now_ms();
	int rc = LP_OK;

	LP_TEST_FMT(url, "%s/readyz", p->url);
	do {
		lp_test_http_resp_release(&r);
		lp_test_http_request(&r, "GET", url, NULL, 0, NULL, NULL, NULL, NULL);
		if (r.status == 200)
			break;
		sleep_ms(50);
	} while (now_ms() - t0 < 10000);
	if (r.status != 200)
		rc = lp_error_set(err, LP_EUNAVAILABLE, "%s answered %ld: %s", url, r.status,
		                  r.body ? r.body : "");
	lp_test_http_resp_release(&r);
	return rc;
}

/* Spawn the controller; a controller that cannot start (preflight, images) says so at once. */
static int start_controller(lp_test_platform *p, lp_error *err)
{
	char *bin = lp_test_bin_path("launchpad-controller");
	char *log = lp_test_platform_path(p, "controller.log");
	char *argv[] = {bin, NULL};
	int rc = LP_ENOMEM, st;

	if (bin == NULL || log == NULL) {
		lp_error_set(err, rc, "out of memory");
		goto done;
	}
	if ((rc = spawn(&p->controller_pid, bin, argv, p->env, log, err)) != LP_OK)
		goto done;
	sleep_ms(300);
	if (waitpid(p->controller_pid, &st, WNOHANG) == p->controller_pid) {
		char *tail = tail_of(log, 2000);

		p->controller_pid = 0;
		p->controller_status = st;
		rc =
		    lp_error_set(err, LP_ERROR, "launchpad-controller exited (0x%x): %s", st, tail);
		free(tail);
	}
done:
	free(log);
	free(bin);
	return rc;
}

int lp_test_platform_start(lp_test_platform **out, const lp_test_platform_options *opts,
                           lp_error *err)
{
	static unsigned counter;
	lp_test_platform *p = calloc(1, sizeof(*p));
	char *root = NULL;
	int rc = LP_ENOMEM;

	*out = NULL;
	if (p == NULL)
		goto done;
	p->reaper_fd = -1;
	p->apiserver_status = p->controller_status = -1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if ((root = lp_test_mkdtemp("lp-e2e")) == NULL) {
		rc = lp_error_set(err, LP_EIO, "cannot make a temp dir: %s", strerror(errno));
		goto done;
	}
	LP_TEST_FMT(p->root, "%s", root);
	LP_TEST_FMT(p->data_dir, "%s/data", root);
	LP_TEST_FMT(p->instance, "e2e%d%u%03d", (int)getpid() % 100000, counter++,
	            (int)(now_ms() % 1000));
	LP_TEST_FMT(p->serve_image, "%s",
	            env_or("LAUNCHPAD_TEST_SERVE_IMAGE", "launchpad-test/nginx:local"));
	LP_TEST_FMT(p->build_image, "%s",
	            env_or("LAUNCHPAD_TEST_BUILD_IMAGE", "launchpad-test/node:local"));
	if ((rc = lp_fs_mkdirs(p->data_dir, 0755, err)) != LP_OK)
		goto done;
	if ((rc = lp_docker_new(&p->docker, NULL, err)) != LP_OK)
		goto done;
	if ((rc = start_reaper(p, err)) != LP_OK)
		goto done;
	if (opts && opts->edge && (rc = start_edge(p, opts, err)) != LP_OK)
		goto done;
	rc = LP_ENOMEM;
	if ((p->env = env_new(p, opts)) == NULL)
		goto done;
	if ((rc = start_apiserver(p, err)) != LP_OK)
		goto done;
	if ((rc = read_token(p, err)) != LP_OK)
		goto done;
	if ((rc = wait_ready(p, err)) != LP_OK)
		goto done;
	if (!(opts && opts->no_controller) && (rc = start_controller(p, err)) != LP_OK)
		goto done;
	*out = p;
	p = NULL;
	rc = LP_OK;
done:
	if (rc == LP_ENOMEM && err && err->code == LP_OK)
		lp_error_set(err, rc, "out of memory");
	lp_test_platform_free(p);
	free(root);
	return rc;
}

/* Wait for pid until deadline (ms since the monotonic epoch); 1 when it was reaped. */
static int reap_until(pid_t pid, int *status, int64_t deadline)
{
	while (now_ms() < deadline) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid || (r < 0 && errno == ECHILD))
			return 1;
		sleep_ms(20);
	}
	return 0;
}

int lp_test_platform_stop(lp_test_platform *p, int timeout_ms, lp_error *err)
{
	pid_t *pids[2];
	int *sts[2];
	const char *names[2] = {"launchpad-apiserver", "launchpad-controller"};
	int64_t deadline;
	int i, rc = LP_OK, st;

	if (p == NULL)
		return LP_OK;
	pids[0] = &p->apiserver_pid;
	pids[1] = &p->controller_pid;
	sts[0] = &p->apiserver_status;
	sts[1] = &p->controller_status;
	for (i = 0; i < 2; i++)
		if (*pids[i] > 0)
			kill(*pids[i], SIGTERM);
	deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : LP_TP_STOP_WAIT);
	for (i = 0; i < 2; i++) {
		if (*pids[i] <= 0)
			continue;
		st = -1;
		if (!reap_until(*pids[i], &st, deadline)) {
			kill(*pids[i], SIGKILL);
			waitpid(*pids[i], &st, 0);
			rc = lp_error_set(err, LP_ETIMEOUT,
			                  "%s did not stop within %d ms of SIGTERM", names[i],
			                  timeout_ms > 0 ? timeout_ms : LP_TP_STOP_WAIT);
		}
		*sts[i] = st;
		*pids[i] = 0;
	}
	for (i = 0; i < 2 && rc == LP_OK; i++)
		if (*sts[i] != -1 && !(WIFEXITED(*sts[i]) && WEXITSTATUS(*sts[i]) == 0))
			rc = lp_error_set(err, LP_ERROR, "%s ended with wait status 0x%x", names[i],
			                  *sts[i]);
	return rc;
}

int lp_test_platform_restart_controller(lp_test_platform *p, const char *const *env, lp_error *err)
{
	lp_test_platform_options o = {.env = env};
	char *bin = lp_test_bin_path("launchpad-controller");
	char *log = lp_test_platform_path(p, "controller.log"), **e = env_new(p, &o);
	char *argv[] = {bin, NULL};
	int rc = LP_ENOMEM, st = -1;

	if (bin == NULL || log == NULL || e == NULL) {
		lp_error_set(err, rc, "out of memory");
		goto done;
	}
	if (p->controller_pid > 0) {
		kill(p->controller_pid, SIGTERM);
		if (!reap_until(p->controller_pid, &st, now_ms() + LP_TP_STOP_WAIT)) {
			kill(p->controller_pid, SIGKILL);
			waitpid(p->controller_pid, &st, 0);
			rc = lp_error_set(err, LP_ETIMEOUT,
			                  "the controller did not stop on SIGTERM");
			p->controller_pid = 0;
			goto done;
		}
		p->controller_pid = 0;
		if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
			rc = lp_error_set(err, LP_ERROR,
			                  "the controller ended with wait status 0x%x", st);
			goto done;
		}
	}
	rc = spawn(&p->controller_pid, bin, argv, e, log, err);
done:
	env_free(e);
	free(log);
	free(bin);
	return rc;
}

static pid_t *daemon_pid(lp_test_platform *p, lp_test_daemon which, int **out_status)
{
	*out_status = which == LP_TEST_APISERVER ? &p->apiserver_status : &p->controller_status;
	return which == LP_TEST_APISERVER ? &p->apiserver_pid : &p->controller_pid;
}

static const char *daemon_name(lp_test_daemon which)
{
	return which == LP_TEST_APISERVER ? "launchpad-apiserver" : "launchpad-controller";
}

int lp_test_platform_exited(lp_test_platform *p, lp_test_daemon which, int *out_status)
{
	int *status, st;
	pid_t *pid = daemon_pid(p, which, &status);

	if (*pid <= 0 || waitpid(*pid, &st, WNOHANG) != *pid)
		return 0;
	*pid = 0;
	*status = st;
	if (out_status)
		*out_status = st;
	return 1;
}

int lp_test_platform_kill(lp_test_platform *p, lp_test_daemon which, lp_error *err)
{
	int *status, st = -1;
	pid_t *pid = daemon_pid(p, which, &status);

	if (lp_test_platform_exited(p, which, &st))
		return lp_error_set(err, LP_ERROR, "%s had exited on its own (wait status 0x%x)",
		                    daemon_name(which), st);
	if (*pid <= 0)
		return lp_error_set(err, LP_ENOTFOUND, "%s is not running", daemon_name(which));
	kill(*pid, SIGKILL);
	waitpid(*pid, &st, 0);
	*pid = 0;
	*status = st;
	return LP_OK;
}

int lp_test_platform_respawn(lp_test_platform *p, lp_test_daemon which, lp_error *err)
{
	int *status, rc;
	pid_t *pid = daemon_pid(p, which, &status);

	if (*pid > 0 && !lp_test_platform_exited(p, which, NULL))
		return lp_error_set(err, LP_EEXISTS, "%s is running", daemon_name(which));
	*status = -1;
	if (which == LP_TEST_CONTROLLER)
		return start_controller(p, err);
	if ((rc = start_apiserver(p, err)) != LP_OK)
		return rc;
	return wait_ready(p, err);
}

int lp_test_dockerd_restart(lp_error *err)
{
	char *up = lp_test_src_path("scripts/test-env.sh"), *cmd = NULL;
	int st;

	/* one dockerd only: beside a second engine, pidof would name the wrong one */
	if (up == NULL ||
	    asprintf(&cmd,
	             "test \"$(pidof dockerd | wc -w)\" = 1 && pid=$(pidof dockerd) && "
	             "kill -TERM $pid && "
	             "for i in $(seq 150); do kill -0 $pid 2>/dev/null || break; sleep 0.2; done; "
	             "! kill -0 $pid 2>/dev/null && '%s' up >/dev/null",
	             up) < 0) {
		free(up);
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	st = run_shell(cmd);
	free(cmd);
	free(up);
	if (st != 0)
		return lp_error_set(
		    err, LP_ERROR,
		    "restarting dockerd failed (status %d): not exactly one dockerd, "
		    "it did not stop within 30 s, or scripts/test-env.sh up failed",
		    st);
	return LP_OK;
}

void lp_test_platform_free(lp_test_platform *p)
{
	char *cmd;
	int keep = getenv("LAUNCHPAD_TEST_KEEP") != NULL;

	if (p == NULL)
		return;
	lp_test_platform_stop(p, 0, NULL);
	if (p->instance[0]) {
		cmd = cleanup_command(p, !keep && p->root[0]);
		run_shell(cmd);
		free(cmd);
		if (keep)
			fprintf(stderr, "LAUNCHPAD_TEST_KEEP: kept %s\n", p->root);
	}
	stop_reaper(p);
	lp_docker_free(p->docker);
	env_free(p->env);
	free(p);
}

void lp_test_platform_dump_logs(const lp_test_platform *p, size_t max_bytes)
{
	const char *names[2] = {"apiserver.log", "controller.log"};
	char *path, *tail;
	int i;

	if (p == NULL)
		return;
	for (i = 0; i < 2; i++) {
		path = lp_test_platform_path(p, names[i]);
		tail = path ? tail_of(path, max_bytes) : NULL;
		fprintf(stderr, "----- %s (last %zu bytes) -----\n%s\n", names[i], max_bytes,
		        tail ? tail : "(none)");
		free(tail);
		free(path);
	}
}

void lp_test_http_resp_release(lp_test_http_resp *r)
{
	if (r == NULL)
		return;
	cJSON_Delete(r->json);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	return lp_buf_append(ctx, ptr, size * nmemb) == LP_OK ? size * nmemb : 0;
}

/* Shared by request and upload: run the handle, fill out. Consumes nothing. */
static int perform(lp_test_http_resp *out, CURL *h, const char *method, const char *url,
                   struct curl_slist *hl, long timeout_s, lp_error *err)
{
	lp_buf b;
	CURLcode cc;
	int rc = LP_OK;

	memset(out, 0, sizeof(*out));
	lp_buf_init(&b, LP_TP_BODY_MAX);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK)
		rc = lp_error_set(err, LP_EUNAVAILABLE, "%s %s: %s", method, url,
		                  curl_easy_strerror(cc));
	else
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
	out->len = b.len;
	out->body = lp_buf_detach(&b);
	if (out->body == NULL)
		out->body = strdup("");
	if (out->body && out->len > 0)
		out->json = cJSON_ParseWithLength(out->body, out->len);
	lp_buf_release(&b);
	return rc;
}

static struct curl_slist *common_headers(const char *content_type, const char *token,
                                         const char *const *headers)
{
	struct curl_slist *hl = NULL;
	char line[512];
	size_t i;

	if (content_type) {
		LP_TEST_FMT(line, "Content-Type: %s", content_type);
		hl = curl_slist_append(hl, line);
	}
	if (token) {
		LP_TEST_FMT(line, "Authorization: Bearer %s", token);
		hl = curl_slist_append(hl, line);
	}
	hl = curl_slist_append(hl, "Expect:");
	for (i = 0; headers && headers[i]; i++)
		hl = curl_slist_append(hl, headers[i]);
	return hl;
}

int lp_test_http_request(lp_test_http_resp *out, const char *method, const char *url,
                         const char *body, size_t len, const char *content_type, const char *token,
                         const char *const *headers, lp_error *err)
{
	struct curl_slist *hl = common_headers(content_type, token, headers);
	CURL *h = curl_easy_init();
	int rc;

	if (h == NULL) {
		curl_slist_free_all(hl);
		memset(out, 0, sizeof(*out));
		return lp_error_set(err, LP_ENOMEM, "curl_easy_init failed");
	}
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	rc = perform(out, h, method, url, hl, 60L, err);
	curl_easy_cleanup(h);
	curl_slist_free_all(hl);
	return rc;
}

int lp_test_platform_api(lp_test_http_resp *out, lp_test_platform *p, const char *method,
                         const char *path, const char *json_body, lp_error *err)
{
	char url[2048];

	LP_TEST_FMT(url, "%s%s", p->url, path);
	return lp_test_http_request(out, method, url, json_body, json_body ? strlen(json_body) : 0,
	                            json_body ? "application/json" : NULL, p->token, NULL, err);
}

static size_t on_stream(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	return lp_buf_append(ctx, ptr, size * nmemb) == LP_OK ? size * nmemb : 0;
}

int lp_test_platform_stream(lp_buf *out, long *out_status, lp_test_platform *p, const char *path,
                            long timeout_s, lp_error *err)
{
	struct curl_slist *hl = common_headers(NULL, p->token, NULL);
	CURL *h = curl_easy_init();
	char url[2048];
	CURLcode cc;

	*out_status = 0;
	LP_TEST_FMT(url, "%s%s", p->url, path);
	if (h == NULL) {
		curl_slist_free_all(hl);
		return lp_error_set(err, LP_ENOMEM, "curl init failed");
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_stream);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, out_status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(h);
	if (cc != CURLE_OK)
		return lp_error_set(err, LP_EIO, "GET %s: %s", path, curl_easy_strerror(cc));
	return LP_OK;
}

int lp_test_platform_upload(lp_test_http_resp *out, lp_test_platform *p, const char *path,
                            const char *const *fields, const char *file_path, lp_error *err)
{
	char url[2048];

	LP_TEST_FMT(url, "%s%s", p->url, path);
	return lp_test_http_upload(out, url, p->token, fields, file_path, 0, err);
}

int lp_test_http_upload(lp_test_http_resp *out, const char *url, const char *token,
                        const char *const *fields, const char *file_path, long max_bytes_per_s,
                        lp_error *err)
{
	struct curl_slist *hl = common_headers(NULL, token, NULL);
	CURL *h = curl_easy_init();
	curl_mime *mime = NULL;
	curl_mimepart *part;
	size_t i;
	int rc = LP_ENOMEM;

	memset(out, 0, sizeof(*out));
	if (h == NULL || (mime = curl_mime_init(h)) == NULL) {
		lp_error_set(err, rc, "curl init failed");
		goto done;
	}
	for (i = 0; fields && fields[i] && fields[i + 1]; i += 2) {
		part = curl_mime_addpart(mime);
		curl_mime_name(part, fields[i]);
		curl_mime_data(part, fields[i + 1], CURL_ZERO_TERMINATED);
	}
	if (file_path) {
		part = curl_mime_addpart(mime);
		curl_mime_name(part, "file");
		if (curl_mime_filedata(part, file_path) != CURLE_OK) {
			rc = lp_error_set(err, LP_ENOTFOUND, "cannot read %s", file_path);
			goto done;
		}
		curl_mime_type(part, "application/zip");
	}
	curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
	if (max_bytes_per_s > 0)
		curl_easy_setopt(h, CURLOPT_MAX_SEND_SPEED_LARGE, (curl_off_t)max_bytes_per_s);
	rc = perform(out, h, "POST", url, hl, 120L, err);
done:
	curl_mime_free(mime);
	curl_easy_cleanup(h);
	curl_slist_free_all(hl);
	return rc;
}

int lp_test_make_zip(const char *zip_path, const char *const *files, lp_error *err)
{
	char *dir = lp_test_mkdtemp("lp-zip"), *file = NULL, *slash;
	pid_t pid;
	size_t i;
	int rc = LP_OK, st = -1;

	if (dir == NULL)
		return lp_error_set(err, LP_EIO, "cannot make a temp dir: %s", strerror(errno));
	for (i = 0; files && files[i] && files[i + 1] && rc == LP_OK; i += 2) {
		if (files[i][0] == '/' || strstr(files[i], "..")) {
			rc =
			    lp_error_set(err, LP_EINVAL, "zip entry %s must be relative", files[i]);
			break;
		}
		if (asprintf(&file, "%s/%s", dir, files[i]) < 0) {
			file = NULL;
			rc = lp_error_set(err, LP_ENOMEM, "out of memory");
			break;
		}
		slash = strrchr(file, '/');
		*slash = '\0';
		rc = lp_fs_mkdirs(file, 0755, err);
		*slash = '/';
		if (rc == LP_OK)
			rc =
			    lp_fs_write_atomic(file, files[i + 1], strlen(files[i + 1]), 0644, err);
		free(file);
		file = NULL;
	}
	if (rc == LP_OK) {
		unlink(zip_path);
		pid = fork();
		if (pid == 0) {
			int null = open("/dev/null", O_WRONLY);

			if (null >= 0)
				dup2(null, 1);
			if (chdir(dir) != 0)
				_exit(126);
			execlp("zip", "zip", "-qr", zip_path, ".", (char *)NULL);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			rc = lp_error_set(err, LP_ERROR, "zip -qr %s failed (status 0x%x)",
			                  zip_path, st);
	}
	if (lp_fs_remove_tree(dir, NULL) != LP_OK)
		fprintf(stderr, "cleanup: cannot remove %s\n", dir);
	free(dir);
	return rc;
}

int lp_test_platform_fetch_site(char **out, long *out_status, lp_test_platform *p, const char *slug,
                                const char *path, lp_error *err)
{
	char name[300], net[128], url[600] = "";
	lp_docker_container *c = NULL;
	lp_test_http_resp r = {0};
	CURL *h = NULL;
	size_t i;
	int rc;

	if (out)
		*out = NULL;
	*out_status = 0;
	LP_TEST_FMT(name, "%s-deploy-%s", p->instance, slug);
	LP_TEST_FMT(net, "%s-launchpad-sites", p->instance);
	if ((rc = lp_docker_container_inspect(&c, p->docker, name, err)) != LP_OK)
		return rc;
	for (i = 0; i < c->nnetworks; i++)
		if (!strcmp(c->networks[i].key, net) && c->networks[i].value &&
		    *c->networks[i].value)
			LP_TEST_FMT(url, "http://%s:%d%s", c->networks[i].value, LP_SERVE_PORT,
			            path);
	if (url[0] == '\0') {
		rc = lp_error_set(err, LP_ENOTFOUND, "container %s (%s) has no address on %s", name,
		                  c->status ? c->status : "?", net);
		goto done;
	}
	if ((h = curl_easy_init()) == NULL) {
		rc = lp_error_set(err, LP_ENOMEM, "curl_easy_init failed");
		goto done;
	}
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	rc = perform(&r, h, "GET", url, NULL, 5L, err);
	*out_status = r.status;
	if (out) {
		*out = r.body;
		r.body = NULL;
	}
done:
	lp_test_http_resp_release(&r);
	curl_easy_cleanup(h);
	lp_docker_container_free(c);
	return rc;
}

void lp_test_platform_site_host(char *out, size_t outlen, const char *slug)
{
	snprintf(out, outlen, "%s.localhost", slug);
}

int lp_test_platform_fetch_edge(char **out, long *out_status, lp_test_platform *p, const char *host,
                                const char *path, lp_error *err)
{
	char url[600], hosthdr[300];
	struct curl_slist *hl = NULL;
	lp_test_http_resp r = {0};
	CURL *h = NULL;
	int rc;

	if (out)
		*out = NULL;
	*out_status = 0;
	if (p->edge_http[0] == '\0')
		return lp_error_set(err, LP_EINVAL, "the platform runs without an edge");
	LP_TEST_FMT(url, "http://%s%s", p->edge_http, path);
	LP_TEST_FMT(hosthdr, "Host: %s", host);
	if ((h = curl_easy_init()) == NULL || (hl = curl_slist_append(NULL, hosthdr)) == NULL) {
		rc = lp_error_set(err, LP_ENOMEM, "curl init failed");
		goto done;
	}
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	rc = perform(&r, h, "GET", url, hl, 5L, err);
	*out_status = r.status;
	if (out) {
		*out = r.body;
		r.body = NULL;
	}
done:
	lp_test_http_resp_release(&r);
	curl_slist_free_all(hl);
	if (h)
		curl_easy_cleanup(h);
	return rc;
}

int lp_test_platform_wait_page(lp_test_platform *p, const char *host, const char *want,
                               int timeout_ms, int poll_ms, lp_error *err)
{
	int64_t deadline = now_ms() + timeout_ms;
	char *got = NULL;
	long status = 0;

	for (;;) {
		int same = lp_test_platform_fetch_edge(&got, &status, p, host, "/", err) == LP_OK &&
		           status == 200 && got && !strcmp(got, want);
		free(got);
		got = NULL;
		if (same)
			return LP_OK;
		if (now_ms() >= deadline)
			return lp_error_set(err, LP_ETIMEOUT, "%s never served \"%s\" (last %ld)",
			                    host, want, status);
		sleep_ms(poll_ms);
	}
}

int lp_test_platform_wait_edge(lp_test_platform *p, const char *slug, long want_status,
                               const char *body, int timeout_ms, lp_error *err)
{
	int64_t t0 = now_ms();
	char *got = NULL, last[300] = "nothing yet", host[300];
	lp_error e = {0};
	long status = 0;

	lp_test_platform_site_host(host, sizeof(host), slug);
	for (;;) {
		if (lp_test_platform_fetch_edge(&got, &status, p, host, "/", &e) == LP_OK) {
			if (status == want_status &&
			    (want_status != 200 || (got && body && !strcmp(got, body)))) {
				free(got);
				return LP_OK;
			}
			LP_TEST_FMT(last, "HTTP %ld, body \"%.200s\"", status, got ? got : "");
		} else {
			LP_TEST_FMT(last, "%s", e.message);
		}
		free(got);
		got = NULL;
		if (now_ms() - t0 >= timeout_ms)
			break;
		sleep_ms(50);
	}
	return lp_error_set(
	    err, LP_ETIMEOUT, "%s through Traefik did not answer %ld%s within %d ms; last seen: %s",
	    host, want_status, want_status == 200 ? " with the page" : "", timeout_ms, last);
}

int lp_test_platform_wait_served(lp_test_platform *p, const char *slug, const char *body,
                                 int timeout_ms, lp_error *err)
{
	int64_t t0 = now_ms();
	char *got = NULL, last[300] = "nothing yet";
	lp_error e = {0};
	long status = 0;

	for (;;) {
		if (lp_test_platform_fetch_site(&got, &status, p, slug, "/", &e) == LP_OK) {
			if (status == 200 && got && !strcmp(got, body)) {
				free(got);
				return LP_OK;
			}
			LP_TEST_FMT(last, "HTTP %ld, body \"%.200s\"", status, got ? got : "");
		} else {
			LP_TEST_FMT(last, "%s", e.message);
		}
		free(got);
		got = NULL;
		if (now_ms() - t0 >= timeout_ms)
			break;
		sleep_ms(100);
	}
	return lp_error_set(err, LP_ETIMEOUT,
	                    "site %s did not serve \"%.200s\" within %d ms; last seen: %s", slug,
	                    body, timeout_ms, last);
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : cJSON_IsNull(v) ? "null" : "?";
}

static long jnum(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? (long)v->valuedouble : -1;
}

int lp_test_platform_wait_status(cJSON **out, lp_test_platform *p, const char *id, const char *want,
                                 int timeout_ms, lp_error *err)
{
	int64_t t0 = now_ms(), failed_since = -1;
	lp_test_http_resp r = {0};
	char path[512], last[600] = "no answer yet";
	cJSON *seen = NULL;
	lp_error e = {0};
	int rc = LP_ETIMEOUT, done = 0;

	if (out)
		*out = NULL;
	LP_TEST_FMT(path, "/api/deployments/%s", id);
	for (;;) {
		lp_test_http_resp_release(&r);
		if (lp_test_platform_api(&r, p, "GET", path, NULL, &e) != LP_OK) {
			LP_TEST_FMT(last, "%s", e.message);
		} else if (r.status != 200 || r.json == NULL) {
			LP_TEST_FMT(last, "HTTP %ld: %.300s", r.status, r.body);
		} else {
			const char *status = jstr(r.json, "status");

			LP_TEST_FMT(
			    last,
			    "status %s, phase %s, current_revision %ld, desired_revision %ld, "
			    "generation %ld/%ld observed, message %.300s",
			    status, jstr(r.json, "phase"), jnum(r.json, "current_revision"),
			    jnum(r.json, "desired_revision"), jnum(r.json, "generation"),
			    jnum(r.json, "observed_generation"), jstr(r.json, "message"));
			cJSON_Delete(seen);
			seen = r.json;
			r.json = NULL;
			if (!strcmp(status, want) &&
			    (strcmp(want, "live") ||
			     jnum(seen, "current_revision") == jnum(seen, "desired_revision"))) {
				rc = LP_OK;
				done = 1;
			} else if (!strcmp(status, "failed") && strcmp(want, "failed")) {
				if (failed_since < 0)
					failed_since = now_ms();
				if (now_ms() - failed_since > 10000) {
					rc = LP_EBUILD;
					done = 1;
				}
			} else {
				failed_since = -1;
			}
		}
		if (done || now_ms() - t0 >= timeout_ms)
			break;
		sleep_ms(100);
	}
	lp_test_http_resp_release(&r);
	if (rc == LP_ETIMEOUT)
		lp_error_set(err, rc, "deployment %s not %s within %d ms; last seen: %s", id, want,
		             timeout_ms, last);
	else if (rc != LP_OK)
		lp_error_set(err, rc, "deployment %s failed (for 10 s) while waiting for %s: %s",
		             id, want, last);
	if (out)
		*out = seen;
	else
		cJSON_Delete(seen);
	return rc;
}

int lp_test_platform_wait_gone(lp_test_platform *p, const char *id, int timeout_ms, lp_error *err)
{
	int64_t t0 = now_ms();
	lp_test_http_resp r = {0};
	char path[512], last[600] = "no answer yet";
	lp_error e = {0};

	LP_TEST_FMT(path, "/api/deployments/%s", id);
	for (;;) {
		lp_test_http_resp_release(&r);
		if (lp_test_platform_api(&r, p, "GET", path, NULL, &e) != LP_OK) {
			LP_TEST_FMT(last, "%s", e.message);
		} else if (r.status == 404) {
			lp_test_http_resp_release(&r);
			return LP_OK;
		} else {
			LP_TEST_FMT(last, "HTTP %ld: status %s, phase %s, message %.300s", r.status,
			            jstr(r.json, "status"), jstr(r.json, "phase"),
			            jstr(r.json, "message"));
		}
		if (now_ms() - t0 >= timeout_ms)
			break;
		sleep_ms(100);
	}
	lp_test_http_resp_release(&r);
	return lp_error_set(err, LP_ETIMEOUT,
	                    "deployment %s still there after %d ms; last seen: %s", id, timeout_ms,
	                    last);
}

int lp_test_count_lines(const char *fmt, ...)
{
	char *cmd = NULL, line[4096];
	va_list ap;
	FILE *f;
	int n = 0;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		cmd = NULL;
	va_end(ap);
	if (cmd == NULL || (f = popen(cmd, "r")) == NULL) {
		free(cmd);
		return -1;
	}
	while (fgets(line, sizeof(line), f))
		if (line[0] != '\n')
			n++;
	if (pclose(f) != 0)
		n = -1;
	free(cmd);
	return n;
}

int lp_test_platform_count_containers(lp_test_platform *p, const char *label)
{
	if (label)
		return lp_test_count_lines("docker ps -aq --filter label=launchpad.instance=%s "
		                           "--filter label=%s",
		                           p->instance, label);
	return lp_test_count_lines("docker ps -aq --filter label=launchpad.instance=%s",
	                           p->instance);
}
