/* apps.c: a dynamic app's containers: spec, hardening, health gate, rollout and crash loops. */
#include "controller/apps.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "controller/networks.h"
#include "controller/rollout.h"
#include "launchpad/buf.h"
#include "launchpad/clock.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "launchpad/layout.h"
#include "launchpad/log.h"
#include "launchpad/names.h"

#define COMPONENT "apps"

/* Non-root: the uid Debian's and Alpine's node images give their `node` user. */
#define APP_USER       "1000:1000"
#define APP_DIR        "/app"
#define APP_PROBE_PATH "/.launchpad/lp-probe"
#define APP_DRAIN_DIR  "/.launchpad/drain"
/* The only writable path: small, not executable. */
#define APP_TMP_OPTIONS  "rw,noexec,nosuid,nodev,size=64m"
#define APP_PIDS_LIMIT   256
#define APP_STOP_GRACE_S 10
/*
 * Failed checks in a row before Docker calls a container unhealthy: 3, so a slow answer or two
 * under load (an exec on a busy engine takes seconds) does not take a healthy app out of the
 * rotation, while a drained one (its probe answers "draining" at once) leaves it within three
 * intervals.
 */
#define APP_HEALTH_RETRIES 3
/* Docker's own deadline of one check beyond the probe's: starting the exec takes time too. */
#define APP_EXEC_SLACK_S 3
/* Past the checks that turn a drained app unhealthy: Traefik's reaction, and a busy engine. */
#define APP_DRAIN_SLACK_MS 5000
#define APP_BIND_MAX       (LP_FS_PATH_MAX + 64)
#define APP_NUM_MAX        24
#define APP_PROBE_MAX      ((size_t)8 << 20) /* bytes of the probe binary */
#define APP_LOG_TAIL       512               /* bytes of a failed app's output kept */
#define APP_LOG_LINES      3                 /* lines of it shown */
/* How soon status looks again at an app that is not healthy (and at a starting one). */
#define APP_WATCH_MS 1000

/* Everything that defines an app container; the unit first (rollout.c hands it back). */
struct app_spec {
	lp_rollout_unit u;
	const lp_site *spec;
	char revision[APP_NUM_MAX];
	char bind_app[APP_BIND_MAX];
	char bind_probe[APP_BIND_MAX];
	char bind_drain[APP_BIND_MAX];
	char apps_net[LP_NAMES_MAX];
	char port[APP_NUM_MAX];
	char timeout[APP_NUM_MAX];
	char *command;                      /* what `sh -c` runs */
	char *env[LP_SITE_RUN_ENV_MAX + 2]; /* "K=V", NULL-terminated */
};

static void app_spec_release(struct app_spec *a)
{
	size_t i;

	free(a->command);
	for (i = 0; a->env[i] != NULL; i++)
		free(a->env[i]);
	memset(a->env, 0, sizeof(a->env));
	a->command = NULL;
}

/*
 * A simple command runs exec'd, so the signal that stops the container reaches the app itself
 * (PID 1 is Docker's init, which forwards it to sh's child). A compound one (pipes, lists,
 * redirections of several commands) runs as written under sh.
 */
static char *command_of(const char *cmd)
{
	char *out = NULL;

	if (strpbrk(cmd, ";&|\n()`") != NULL || !strncmp(cmd, "exec ", 5))
		return strdup(cmd);
	if (asprintf(&out, "exec %s", cmd) < 0)
		return NULL;
	return out;
}

static int build_env(struct app_spec *a, const lp_site *spec, lp_error *err)
{
	size_t i, n = 0;

	if (asprintf(&a->env[n], LP_SITE_RUN_PORT_VAR "=%d", spec->run_port) < 0)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	n++;
	for (i = 0; i < spec->run_env_count && i < LP_SITE_RUN_ENV_MAX; i++, n++)
		if (asprintf(&a->env[n], "%s=%s", spec->run_env[i].name,
		             spec->run_env[i].value ? spec->run_env[i].value : "") < 0)
			return lp_error_set(err, LP_ENOMEM, "out of memory");
	return LP_OK;
}

static int create(char **out_id, lp_ctx *ctx, const lp_rollout_unit *u, const char *name,
                  lp_error *err);

/* Docker's own health check says so: the probe answered 2xx/3xx, and nothing drains it. */
static int answers(int *out, const lp_rollout_unit *u, const lp_docker_container *ct,
                   const char *ip)
{
	*out = ct->health_status != NULL && !strcmp(ct->health_status, "healthy");
	return LP_OK;
}

/* The text the hash covers, besides the labels: everything else create puts in the container. */
static int hash_head(lp_buf *h, const struct app_spec *a, const lp_config *cfg)
{
	const lp_site *s = a->spec;
	int rc = lp_buf_printf(h,
	                       "app v1\nimage=%s\nuser=%s\nname=%s\nnet=%s\negress=%s\n%s\n%s\n%s\n"
	                       "cmd=%s\nhealth=%s %d %d %d %d\nmem=%d cpus=%d pids=%d\n",
	                       a->u.image, APP_USER, a->u.name, a->u.network, a->apps_net,
	                       a->bind_app, a->bind_probe, a->bind_drain, a->command,
	                       s->run_health_path, s->run_port, s->run_health_interval_seconds,
	                       s->run_health_timeout_seconds, s->run_health_start_seconds,
	                       s->run_memory_mib, s->run_millicpus, APP_PIDS_LIMIT);
	size_t i;

	for (i = 0; rc == LP_OK && a->env[i] != NULL; i++)
		rc = lp_buf_printf(h, "env %s\n", a->env[i]);
	return rc;
}

static int app_paths(struct app_spec *a, const lp_config *cfg, const char *site, long revision,
                     lp_error *err)
{
	char dir[LP_FS_PATH_MAX], drain[LP_FS_PATH_MAX], probe[LP_FS_PATH_MAX];

	if (lp_layout_site(dir, sizeof(dir), cfg->data_dir, site) != LP_OK ||
	    lp_layout_drain_dir(drain, sizeof(drain), cfg->data_dir, site) != LP_OK ||
	    lp_layout_probe(probe, sizeof(probe), cfg->data_dir) != LP_OK ||
	    lp_fmt(a->bind_app, sizeof(a->bind_app), "%s/revisions/%ld:" APP_DIR ":ro", dir,
	           revision) != LP_OK ||
	    lp_fmt(a->bind_probe, sizeof(a->bind_probe), "%s:" APP_PROBE_PATH ":ro", probe) !=
	        LP_OK ||
	    lp_fmt(a->bind_drain, sizeof(a->bind_drain), "%s:" APP_DRAIN_DIR ":ro", drain) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "app container paths of %s are too long",
		                    site);
	return LP_OK;
}

static int app_spec_build(struct app_spec *a, const lp_config *cfg, const char *site,
                          const lp_site *spec, long revision, lp_error *err)
{
	lp_buf h;
	int rc;

	memset(a, 0, sizeof(*a));
	a->spec = spec;
	a->u.role = LP_ROLE_APP;
	a->u.image = spec->run_image && spec->run_image[0] ? spec->run_image : cfg->app_image;
	a->u.health_gated = 1;
	a->u.drain_max_ms = ((APP_HEALTH_RETRIES + 1) * spec->run_health_interval_seconds +
	                     spec->run_health_timeout_seconds + APP_EXEC_SLACK_S) *
	                        1000 +
	                    APP_DRAIN_SLACK_MS;
	a->u.create = create;
	a->u.answers = answers;
	if (!lp_config_app_image_allowed(cfg, spec->run_image))
		return lp_error_set(err, LP_EFORBIDDEN,
		                    "app image %s is not allowed on this installation: its admin "
		                    "lists the images apps may use in --build-images, besides "
		                    "--app-image %s",
		                    spec->run_image, cfg->app_image ? cfg->app_image : "(unset)");
	if (lp_fmt(a->revision, sizeof(a->revision), "%ld", revision) != LP_OK ||
	    lp_fmt(a->port, sizeof(a->port), "%d", spec->run_port) != LP_OK ||
	    lp_fmt(a->timeout, sizeof(a->timeout), "%d", spec->run_health_timeout_seconds) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "app numbers do not fit");
	if ((rc = lp_names_serve_container(a->u.name, sizeof(a->u.name), cfg->instance, site,
	                                   err)) != LP_OK ||
	    (rc = lp_names_sites_network(a->u.network, sizeof(a->u.network), cfg, err)) != LP_OK ||
	    (rc = lp_names_apps_network(a->apps_net, sizeof(a->apps_net), cfg->instance, err)) !=
	        LP_OK ||
	    (rc = lp_edge_labels_build(&a->u.edge, cfg, site, spec, a->u.network, err)) != LP_OK ||
	    (rc = app_paths(a, cfg, site, revision, err)) != LP_OK)
		return rc;
	if ((a->command = command_of(spec->run_command ? spec->run_command : "")) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	if ((rc = build_env(a, spec, err)) != LP_OK)
		return rc;
	/* The revision it runs: the contract other parts read (logs, the dashboard). */
	a->u.labels[a->u.nlabels++] = (lp_docker_kv){LP_LABEL_REVISION, a->revision};
	lp_buf_init(&h, 1 << 20);
	if ((rc = hash_head(&h, a, cfg)) != LP_OK)
		rc = lp_error_set(err, rc, "app spec of %s is too large", site);
	else
		rc = lp_rollout_unit_seal(&a->u, cfg, site, lp_buf_cstr(&h), "", err);
	lp_buf_release(&h);
	return rc;
}

/* The probe Docker runs in every app container, from --probe-path or beside this binary. */
static int probe_source(char *out, size_t outlen, const lp_config *cfg, lp_error *err)
{
	char self[LP_FS_PATH_MAX];
	ssize_t n;

	if (cfg->probe_path && cfg->probe_path[0])
		return lp_fmt(out, outlen, "%s", cfg->probe_path) == LP_OK
		           ? LP_OK
		           : lp_error_set(err, LP_ETOOBIG, "--probe-path is too long");
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0 || (size_t)n >= sizeof(self) - 1)
		return lp_error_set(err, LP_EIO,
		                    "cannot tell where the controller binary is: set "
		                    "--probe-path");
	self[n] = '\0';
	return lp_fmt(out, outlen, "%s/lp-probe", dirname(self)) == LP_OK
	           ? LP_OK
	           : lp_error_set(err, LP_ETOOBIG, "probe path is too long");
}

/* bin/lp-probe in the data dir holds the probe (compared first: the same bytes write nothing). */
static int install_probe(lp_ctx *ctx, lp_error *err)
{
	const lp_config *cfg = lp_ctx_cfg(ctx);
	char src[LP_FS_PATH_MAX], dst[LP_FS_PATH_MAX], dir[LP_FS_PATH_MAX];
	char *want = NULL, *have = NULL;
	size_t wlen = 0, hlen = 0;
	int rc;

	if ((rc = probe_source(src, sizeof(src), cfg, err)) != LP_OK)
		return rc;
	if (lp_layout_probe(dst, sizeof(dst), cfg->data_dir) != LP_OK ||
	    lp_fmt(dir, sizeof(dir), "%s", dst) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "probe path is too long");
	if ((rc = lp_fs_read_file(&want, &wlen, src, APP_PROBE_MAX, err)) != LP_OK) {
		lp_error_wrap(err, "the apps' health probe (--probe-path)");
		goto done;
	}
	if (lp_fs_read_file(&have, &hlen, dst, APP_PROBE_MAX, NULL) == LP_OK && hlen == wlen &&
	    !memcmp(have, want, wlen))
		goto done;
	if ((rc = lp_fs_mkdirs(dirname(dir), 0755, err)) != LP_OK ||
	    (rc = lp_fs_write_atomic(dst, want, wlen, 0755, err)) != LP_OK)
		goto done;
	lp_ctx_count(ctx, LP_CTR_FILE_WRITES, 1);
	LP_INFO(COMPONENT, "installed the health probe %s from %s", dst, src);
done:
	free(want);
	free(have);
	return rc;
}

static int create(char **out_id, lp_ctx *ctx, const lp_rollout_unit *u, const char *name,
                  lp_error *err)
{
	const struct app_spec *a = (const struct app_spec *)u;
	const lp_site *s = a->spec;
	const char *binds[] = {a->bind_app, a->bind_probe, a->bind_drain, NULL};
	const char *cmd[] = {"sh", "-c", a->command, NULL};
	const char *health[] = {"CMD", APP_PROBE_PATH, a->port, s->run_health_path, a->timeout,
	                        NULL};
	const char *cap_drop[] = {"ALL", NULL};
	const char *secopt[] = {"no-new-privileges", NULL};
	const lp_docker_kv tmpfs[] = {{"/tmp", APP_TMP_OPTIONS}};
	lp_docker_create_config cc = {0};
	lp_docker *d = lp_ctx_docker(ctx);
	char *id = NULL;
	int rc;

	*out_id = NULL;
	cc.name = name;
	cc.image = u->image;
	/* The image's entrypoint (node's docker-entrypoint.sh) would run sh again: none. */
	cc.entrypoint = (const char *const[]){"", NULL};
	cc.cmd = cmd;
	cc.env = (const char *const *)a->env;
	cc.user = APP_USER;
	cc.workdir = APP_DIR;
	cc.labels = u->labels;
	cc.nlabels = u->nlabels;
	cc.binds = binds;
	cc.network = u->network;
	cc.memory_bytes = (int64_t)s->run_memory_mib << 20;
	cc.nano_cpus = (int64_t)s->run_millicpus * 1000000;
	cc.pids_limit = APP_PIDS_LIMIT;
	cc.readonly_rootfs = 1;
	cc.tmpfs = tmpfs;
	cc.ntmpfs = 1;
	cc.cap_drop = cap_drop;
	cc.security_opt = secopt;
	/* Docker restarts a crashing app with a backoff that doubles up to a minute. */
	cc.restart_policy = "unless-stopped";
	cc.init = 1;
	cc.stop_timeout = APP_STOP_GRACE_S;
	cc.stop_signal = "SIGTERM";
	cc.health_test = health;
	cc.health_interval_ms = (int64_t)s->run_health_interval_seconds * 1000;
	cc.health_timeout_ms = (int64_t)(s->run_health_timeout_seconds + APP_EXEC_SLACK_S) * 1000;
	cc.health_start_period_ms = (int64_t)s->run_health_start_seconds * 1000;
	cc.health_retries = APP_HEALTH_RETRIES;
	if ((rc = lp_docker_container_create(&id, d, &cc, err)) != LP_OK)
		return rc;
	/* One network at create on this API version: the egress one joins before start. */
	if ((rc = lp_docker_network_connect(d, a->apps_net, id, err)) != LP_OK) {
		lp_error rerr = {0};
		if (lp_docker_container_remove(d, id, LP_DOCKER_RM_FORCE | LP_DOCKER_RM_MISSING_OK,
		                               &rerr) != LP_OK)
			LP_WARN(COMPONENT, "removing %s: %s (a later pass retries)", name,
			        rerr.message);
		free(id);
		return rc;
	}
	*out_id = id;
	return LP_OK;
}

static const char *label(const lp_docker_summary *s, const char *key)
{
	return lp_docker_kv_get(s->labels, s->nlabels, key);
}

static int is_app(const lp_docker_summary *s)
{
	const char *role = label(s, LP_LABEL_ROLE);

	return role != NULL && !strcmp(role, LP_ROLE_APP);
}

/* The list's own word: "Up 3 minutes (healthy)". No inspect in the steady state. */
static int listed_healthy(const lp_docker_summary *s)
{
	return s->state && !strcmp(s->state, "running") && s->status &&
	       strstr(s->status, "(healthy)") != NULL;
}

static int of_revision(const lp_docker_summary *s, long revision)
{
	const char *r = label(s, LP_LABEL_REVISION);

	return is_app(s) && r != NULL && atol(r) == revision;
}

/* The last bytes of a container's output, for a message. */
struct tail {
	char buf[2 * APP_LOG_TAIL];
	size_t len;
};

static int on_output(void *ctx, int stream, const char *data, size_t len)
{
	struct tail *t = ctx;

	if (len >= APP_LOG_TAIL) {
		data += len - APP_LOG_TAIL;
		len = APP_LOG_TAIL;
	}
	if (t->len + len > sizeof(t->buf)) {
		size_t keep = APP_LOG_TAIL - len;
		memmove(t->buf, t->buf + t->len - keep, keep);
		t->len = keep;
	}
	memcpy(t->buf + t->len, data, len);
	t->len += len;
	return 0;
}

/* Text that goes into status (stored, shown as JSON): printable ASCII, lines joined by " | ". */
static void printable(char *out, size_t outlen, const char *s, size_t len)
{
	size_t i, o = 0, lines = 0;
	size_t start = len;

	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' '))
		len--;
	/* The last APP_LOG_LINES lines. */
	for (start = len; start > 0; start--)
		if (s[start - 1] == '\n' && ++lines == APP_LOG_LINES)
			break;
	for (i = start; i < len && o + 4 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n') {
			memcpy(out + o, " | ", 3);
			o += 3;
		} else if (c >= 0x20 && c < 0x7f) {
			out[o++] = (char)c;
		} else if (c != '\r') {
			out[o++] = '?';
		}
	}
	out[o] = '\0';
}

static void last_output(char *out, size_t outlen, lp_ctx *ctx, const char *id)
{
	struct tail t = {.len = 0};
	lp_error err = {0};

	if (lp_docker_container_logs(lp_ctx_docker(ctx), id, 0, on_output, &t, NULL, &err) !=
	    LP_OK) {
		lp_fmt_text(out, outlen, "(no output: %s)", err.message);
		return;
	}
	printable(out, outlen, t.buf, t.len);
	if (out[0] == '\0')
		lp_fmt_text(out, outlen, "(none)");
}

/* Exited, restarting, or restarted: it did not stay up. */
static int exits(const lp_docker_container *ct)
{
	return ct->restart_count > 0 || ct->restarting || !ct->running;
}

static void crash_message(char *out, size_t outlen, lp_ctx *ctx, const lp_docker_container *ct)
{
	char tail[LP_APPS_MESSAGE_MAX / 2];

	last_output(tail, sizeof(tail), ctx, ct->id);
	lp_fmt_text(out, outlen, "app exits (code %d%s), restarted %d time%s; last output: %s",
	            ct->exit_code, ct->oom_killed ? ", out of memory" : "", ct->restart_count,
	            ct->restart_count == 1 ? "" : "s", tail);
}

static void probe_answer(char *out, size_t outlen, const lp_docker_container *ct)
{
	char line[LP_APPS_MESSAGE_MAX / 2];

	if (ct->health_output == NULL) {
		lp_fmt_text(out, outlen, "no answer yet");
		return;
	}
	printable(line, sizeof(line), ct->health_output, strlen(ct->health_output));
	lp_fmt_text(out, outlen, "%s", line[0] ? line : "(no output)");
}

/*
 * The health gate of a revision that does not serve yet: one of its containers that exits
 * before it is healthy (while another revision serves: with none, Docker's backoff retries it)
 * or is not healthy startSeconds after it started fails the revision. *out 1 then, with why.
 */
static int gate(int *out, char *msg, size_t msglen, lp_ctx *ctx, const struct app_spec *a,
                long current, const lp_docker_summaries *observed, lp_error *err)
{
	size_t i;
	int rc;

	*out = 0;
	for (i = 0; i < observed->n && !*out; i++) {
		const lp_docker_summary *o = &observed->items[i];
		const char *h = label(o, LP_LABEL_SPEC_HASH);
		lp_docker_container *ct = NULL;
		char why[LP_APPS_MESSAGE_MAX];
		int64_t started = 0;

		if (!is_app(o) || h == NULL || strcmp(h, a->u.hash) || listed_healthy(o))
			continue;
		if ((rc = lp_docker_container_inspect(&ct, lp_ctx_docker(ctx), o->id, err)) !=
		    LP_OK)
			return rc == LP_ENOTFOUND ? LP_OK : rc;
		if (lp_clock_parse_rfc3339(&started, ct->started_at) != LP_OK || started <= 0)
			started = o->created * 1000;
		if (exits(ct) && current > 0) {
			last_output(why, sizeof(why), ctx, ct->id);
			lp_fmt_text(msg, msglen,
			            LP_APPS_HEALTH_FAILED "app exited (code %d%s) before it became "
			                                  "healthy; last output: %s",
			            ct->exit_code, ct->oom_killed ? ", out of memory" : "", why);
			*out = 1;
		} else if (!exits(ct) &&
		           (ct->health_status == NULL ||
		            strcmp(ct->health_status, "healthy") != 0) &&
		           lp_clock_wall_ms() - started >=
		               (int64_t)a->spec->run_health_start_seconds * 1000) {
			probe_answer(why, sizeof(why), ct);
			lp_fmt_text(msg, msglen, LP_APPS_HEALTH_FAILED "%s", why);
			*out = 1;
		}
		lp_docker_container_free(ct);
	}
	return LP_OK;
}

/* A failed revision's containers go: it is never retried until a new revision comes. */
static void remove_revision(const lp_parts *p, const char *site, const char *hash,
                            const lp_docker_summaries *observed)
{
	size_t i;

	for (i = 0; i < observed->n; i++) {
		const lp_docker_summary *o = &observed->items[i];
		const char *h = label(o, LP_LABEL_SPEC_HASH);
		lp_error err = {0};

		if (!is_app(o) || h == NULL || strcmp(h, hash))
			continue;
		LP_INFO(COMPONENT, "%s: removing app container %s of a failed revision", site,
		        o->id);
		if (lp_docker_container_remove(lp_ctx_docker(p->ctx), o->id,
		                               LP_DOCKER_RM_FORCE | LP_DOCKER_RM_MISSING_OK,
		                               &err) != LP_OK)
			LP_WARN(COMPONENT, "%s: %s (a later pass retries)", site, err.message);
	}
	lp_observer_invalidate(p->obs, site);
}

/* How the containers of revision stand; an inspect only when the list does not say healthy. */
static int watch(lp_apps_result *out, lp_ctx *ctx, long revision,
                 const lp_docker_summaries *observed, lp_error *err)
{
	const lp_docker_summary *first = NULL;
	lp_docker_container *ct = NULL;
	char why[LP_APPS_MESSAGE_MAX];
	size_t i;
	int rc;

	out->health = LP_APP_NONE;
	for (i = 0; i < observed->n; i++) {
		const lp_docker_summary *o = &observed->items[i];
		if (!of_revision(o, revision))
			continue;
		if (listed_healthy(o)) {
			out->health = LP_APP_HEALTHY;
			return LP_OK;
		}
		if (first == NULL)
			first = o;
	}
	if (first == NULL)
		return LP_OK;
	if ((rc = lp_docker_container_inspect(&ct, lp_ctx_docker(ctx), first->id, err)) != LP_OK)
		return rc == LP_ENOTFOUND ? LP_OK : rc;
	out->health = LP_APP_STARTING;
	if (exits(ct)) {
		out->health = LP_APP_CRASHLOOP;
		crash_message(out->message, sizeof(out->message), ctx, ct);
	} else if (ct->health_status && !strcmp(ct->health_status, "unhealthy")) {
		out->health = LP_APP_UNHEALTHY;
		probe_answer(why, sizeof(why), ct);
		lp_fmt_text(out->message, sizeof(out->message), "app is unhealthy: %s", why);
	}
	lp_docker_container_free(ct);
	return LP_OK;
}

/* Fresh containers of the unit: running or restarting with its hash. */
static int fresh_count(const lp_rollout_unit *u, const lp_docker_summaries *observed)
{
	size_t i;
	int n = 0;

	for (i = 0; i < observed->n; i++) {
		const lp_docker_summary *o = &observed->items[i];
		const char *h = label(o, LP_LABEL_SPEC_HASH);
		if (is_app(o) && h && !strcmp(h, u->hash) && o->state &&
		    (!strcmp(o->state, "running") || !strcmp(o->state, "restarting")))
			n++;
	}
	return n;
}

/* What a container to be created needs first: the probe, the drain directory, the network. */
static int prepare(const lp_parts *p, const char *site, struct app_spec *a, lp_error *err)
{
	char drain[LP_FS_PATH_MAX];
	int rc;

	if (lp_layout_drain_dir(drain, sizeof(drain), lp_ctx_cfg(p->ctx)->data_dir, site) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "drain path of %s is too long", site);
	if ((rc = install_probe(p->ctx, err)) != LP_OK ||
	    (rc = lp_fs_mkdirs(drain, 0755, err)) != LP_OK)
		return rc;
	return lp_networks_ensure_apps(p, a->apps_net, sizeof(a->apps_net), err);
}

int lp_apps_ensure(lp_apps_result *out, const lp_parts *p, const char *site, const lp_site *spec,
                   long target, long current, const lp_docker_summaries *observed, lp_error *err)
{
	const lp_config *cfg = lp_ctx_cfg(p->ctx);
	int replicas = spec->serve_replicas, failed = 0, rc;
	struct app_spec a;
	lp_rollout_result r = {0};

	memset(out, 0, sizeof(*out));
	out->serving = current;
	if (target <= 0)
		return LP_OK;
	if ((rc = app_spec_build(&a, cfg, site, spec, target, err)) != LP_OK)
		goto done;
	/* A new revision waits for its health check; only a rollout ever asks (steady: no read). */
	if (target != current && (rc = gate(&failed, out->message, sizeof(out->message), p->ctx, &a,
	                                    current, observed, err)) != LP_OK)
		goto done;
	if (failed) {
		LP_WARN(COMPONENT, "%s: revision %ld: %s", site, target, out->message);
		remove_revision(p, site, a.u.hash, observed);
		out->target_failed = 1;
		out->requeue_ms = LP_ROLLOUT_POLL_MS;
		goto done;
	}
	if (fresh_count(&a.u, observed) < (replicas < 1 ? 1 : replicas) &&
	    (rc = prepare(p, site, &a, err)) != LP_OK)
		goto done;
	/* The switch of `current` waits for the new revision to be routed, first deploy or not. */
	a.u.confirm_routed = target != current;
	if ((rc = lp_rollout_ensure(&r, p, site, &a.u, replicas, observed, err)) != LP_OK)
		goto done;
	out->requeue_ms = r.requeue_ms;
	/*
	 * The new revision serves once it is routed: `current` follows it then, before the old
	 * one is drained, so a newer desired revision still building never rolls back to it.
	 */
	if (target != current && r.routed) {
		out->switch_current = 1;
		out->serving = target;
	}
	/* What status says: the serving revision's containers, or, before any, the new one's. */
	rc = watch(out, p->ctx, out->serving > 0 ? out->serving : target, observed, err);
	if (rc == LP_OK && out->health != LP_APP_HEALTHY && out->requeue_ms == 0)
		out->requeue_ms = APP_WATCH_MS;
done:
	app_spec_release(&a);
	return rc;
}
