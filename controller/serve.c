/* serve.c: the serve container of a site: its config, its hash, and zero-downtime replacement. */
#include "controller/serve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "controller/edge.h"
#include "launchpad/names.h"
#include "controller/nginx_conf.h"
#include "controller/revconf.h"
#include "launchpad/buf.h"
#include "launchpad/clock.h"
#include "launchpad/crypto.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "launchpad/layout.h"
#include "launchpad/names.h"
#include "launchpad/log.h"

#define COMPONENT "serve"

int lp_serve_write_conf(char **out, lp_ctx *ctx, const char *site, const lp_site *spec,
                        lp_error *err)
{
	const lp_config *cfg = lp_ctx_cfg(ctx);
	char path[LP_FS_PATH_MAX], dir[LP_FS_PATH_MAX], inc[LP_FS_PATH_MAX], *conf = NULL,
	                                                                     *old = NULL;
	char *stub = NULL, *perma = NULL;
	int rc;

	*out = NULL;
	/* The rules travel with each revision (revconf.c); this file only includes the live one. */
	if (lp_revconf_include_path(inc, sizeof(inc)) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "rules include path too long");
	if ((rc = lp_nginx_conf_stub(&stub, inc, err)) != LP_OK ||
	    (rc = lp_nginx_conf_permalinks(&perma, site, cfg->base_domain, err)) != LP_OK)
		goto done;
	if ((conf = malloc(strlen(stub) + strlen(perma) + 1)) == NULL) {
		rc = lp_error_set(err, LP_ENOMEM, "out of memory");
		goto done;
	}
	memcpy(conf, stub, strlen(stub));
	memcpy(conf + strlen(stub), perma, strlen(perma) + 1);
	if (lp_layout_conf(path, sizeof(path), cfg->data_dir, site) != LP_OK ||
	    lp_layout_dir_path(dir, sizeof(dir), cfg->data_dir, LP_DIR_CONF) != LP_OK) {
		rc = lp_error_set(err, LP_ETOOBIG, "config path of %s is too long", site);
		goto done;
	}
	/* Steady state must not write: compare first. */
	if (lp_fs_read_file(&old, NULL, path, 1 << 20, NULL) == LP_OK && !strcmp(old, conf))
		goto done;
	if ((rc = lp_fs_mkdirs(dir, 0755, err)) != LP_OK)
		goto done;
	rc = lp_fs_write_atomic(path, conf, strlen(conf), 0644, err);
	if (rc == LP_OK)
		lp_ctx_count(ctx, LP_CTR_FILE_WRITES, 1);
done:
	if (rc == LP_OK) {
		*out = conf;
		conf = NULL;
	}
	free(conf);
	free(old);
	free(stub);
	free(perma);
	return rc;
}

int lp_serve_ensure_networks(lp_ctx *ctx, lp_error *err)
{
	const lp_config *cfg = lp_ctx_cfg(ctx);
	char sites_net[LP_NAMES_MAX], build_net[LP_NAMES_MAX];
	lp_docker_kv label = {LP_LABEL_INSTANCE, (char *)cfg->instance};
	int rc;

	if (lp_ctx_networks_ok(ctx))
		return LP_OK;
	if ((rc = lp_names_sites_network(sites_net, sizeof(sites_net), cfg, err)) != LP_OK ||
	    (rc = lp_names_build_network(build_net, sizeof(build_net), cfg->instance, err)) !=
	        LP_OK)
		return rc;
	/* Sites need no egress: the serve network is internal, shared with Traefik. */
	if ((rc = lp_docker_network_ensure(NULL, lp_ctx_docker(ctx), sites_net, 1, &label, 1,
	                                   err)) != LP_OK ||
	    (rc = lp_docker_network_ensure(NULL, lp_ctx_docker(ctx), build_net, 0, &label, 1,
	                                   err)) != LP_OK)
		return rc;
	lp_ctx_set_networks_ok(ctx, 1);
	return LP_OK;
}

/* How long a replacement may wait for Traefik before the old container goes anyway. */
#define SERVE_SWAP_MAX_MS 30000
/* How soon a reconcile looks again at a replacement in progress. */
#define SERVE_SWAP_POLL_MS 100
/* Seconds the old container gets to finish its requests (nginx quits gracefully on SIGQUIT). */
#define SERVE_STOP_GRACE_S 10
/* Longest a missing serve image may take to pull. */
#define SERVE_PULL_TIMEOUT_MS (10 * 60 * 1000)
#define SERVE_NAME_MAX        LP_NAMES_MAX
/* Longest an old container drains before it stops anyway (Traefik checks every second). */
#define SERVE_DRAIN_MAX_MS  5000
#define DOCKER_HOSTNAME_LEN 12
#define SERVE_BIND_MAX      4200
#define SERVE_LABELS        (LP_EDGE_MAX_LABELS + 4)

/* Everything that defines the serve container except its hash label. */
struct serve_spec {
	char name[SERVE_NAME_MAX];
	char next_name[SERVE_NAME_MAX + 8];
	char network[SERVE_NAME_MAX];
	char bind_html[SERVE_BIND_MAX];
	char bind_conf[SERVE_BIND_MAX];
	char hash[LP_SHA256_HEX_LEN];
	lp_edge_labels edge;
	lp_docker_kv labels[SERVE_LABELS];
	size_t nlabels;
};

static int serve_spec_build(struct serve_spec *s, const lp_config *cfg, const char *site,
                            const char *conf, lp_error *err)
{
	char html[LP_FS_PATH_MAX], cfile[LP_FS_PATH_MAX];
	lp_buf h;
	size_t i;
	int rc = LP_OK;

	memset(s, 0, sizeof(*s));
	if ((rc = lp_names_serve_container(s->name, sizeof(s->name), cfg->instance, site, err)) !=
	        LP_OK ||
	    (rc = lp_names_sites_network(s->network, sizeof(s->network), cfg, err)) != LP_OK ||
	    (rc = lp_edge_labels_build(&s->edge, cfg, site, s->network, err)) != LP_OK)
		return rc;
	if (lp_layout_site(html, sizeof(html), cfg->data_dir, site) != LP_OK ||
	    lp_layout_conf(cfile, sizeof(cfile), cfg->data_dir, site) != LP_OK ||
	    lp_fmt(s->next_name, sizeof(s->next_name), "%s-next", s->name) != LP_OK ||
	    lp_fmt(s->bind_html, sizeof(s->bind_html), "%s:" LP_SERVE_HTML_DIR ":ro", html) !=
	        LP_OK ||
	    lp_fmt(s->bind_conf, sizeof(s->bind_conf), "%s:" LP_SERVE_CONF_PATH ":ro", cfile) !=
	        LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "serve container paths of %s are too long",
		                    site);
	s->labels[s->nlabels++] = (lp_docker_kv){LP_LABEL_INSTANCE, (char *)cfg->instance};
	s->labels[s->nlabels++] = (lp_docker_kv){LP_LABEL_SITE, (char *)site};
	s->labels[s->nlabels++] = (lp_docker_kv){LP_LABEL_ROLE, LP_ROLE_SERVE};
	for (i = 0; i < s->edge.n; i++)
		s->labels[s->nlabels++] = s->edge.kv[i];

	/* The bound config file's content counts: a changed file needs a new container. */
	lp_buf_init(&h, 1 << 20);
	rc = lp_buf_printf(&h, "v2\nimage=%s\nname=%s\nnet=%s\n%s\n%s\nstop=SIGQUIT\n",
	                   cfg->serve_image, s->name, s->network, s->bind_html, s->bind_conf);
	for (i = 0; rc == LP_OK && i < s->nlabels; i++)
		rc = lp_buf_printf(&h, "label %s=%s\n", s->labels[i].key, s->labels[i].value);
	if (rc != LP_OK || (rc = lp_buf_printf(&h, "conf\n%s", conf)) != LP_OK) {
		lp_error_set(err, rc, "serve spec too large");
		goto done;
	}
	lp_crypto_sha256_hex(s->hash, h.data, h.len);
	s->labels[s->nlabels++] = (lp_docker_kv){LP_LABEL_SPEC_HASH, s->hash};
done:
	lp_buf_release(&h);
	return rc;
}

/* Best effort: a container that could not be removed now is found and removed by a later pass. */
static void remove_quietly(lp_docker *d, const char *id)
{
	lp_error err = {0};

	if (lp_docker_container_remove(d, id, LP_DOCKER_RM_FORCE | LP_DOCKER_RM_MISSING_OK, &err) !=
	    LP_OK)
		LP_WARN(COMPONENT, "removing container %s: %s (a later pass retries)", id,
		        err.message);
}

static int create(char **out_id, lp_ctx *ctx, const struct serve_spec *s, const char *name,
                  lp_error *err)
{
	const char *binds[] = {s->bind_html, s->bind_conf, NULL};
	const char *cap_drop[] = {"ALL", NULL};
	/* nginx's master binds :80 and switches to its worker user. */
	const char *cap_add[] = {"CHOWN", "SETUID", "SETGID", "NET_BIND_SERVICE", NULL};
	const char *secopt[] = {"no-new-privileges", NULL};
	const lp_docker_kv tmpfs[] = {
	    {"/var/cache/nginx", "rw,nosuid,nodev,size=64m"},
	    {"/var/run", "rw,nosuid,nodev,size=1m"},
	    {"/tmp", "rw,nosuid,nodev,size=16m"},
	};
	lp_docker_create_config cc = {0};

	cc.name = name;
	cc.image = lp_ctx_cfg(ctx)->serve_image;
	cc.labels = s->labels;
	cc.nlabels = s->nlabels;
	cc.binds = binds;
	cc.network = s->network;
	cc.memory_bytes = 64ll << 20;
	cc.nano_cpus = 500000000;
	cc.pids_limit = 128;
	cc.readonly_rootfs = 1;
	cc.tmpfs = tmpfs;
	cc.ntmpfs = sizeof(tmpfs) / sizeof(tmpfs[0]);
	cc.cap_drop = cap_drop;
	cc.cap_add = cap_add;
	cc.security_opt = secopt;
	cc.restart_policy = "unless-stopped";
	cc.stop_timeout = SERVE_STOP_GRACE_S;
	/* Graceful: in-flight requests finish; new ones are refused and Traefik retries them. */
	cc.stop_signal = "SIGQUIT";
	return lp_docker_container_create(out_id, lp_ctx_docker(ctx), &cc, err);
}

static int create_and_start(char **out_id, lp_ctx *ctx, const struct serve_spec *s,
                            const char *name, lp_error *err)
{
	const char *image = lp_ctx_cfg(ctx)->serve_image;
	lp_docker *d = lp_ctx_docker(ctx);
	char *id = NULL;
	int rc;

	*out_id = NULL;
	rc = create(&id, ctx, s, name, err);
	if (rc == LP_ENOTFOUND) { /* create never pulls: a new host has no serve image yet */
		LP_INFO(COMPONENT, "pulling serve image %s", image);
		if ((rc = lp_docker_image_pull(d, image, NULL, NULL, SERVE_PULL_TIMEOUT_MS, NULL,
		                               err)) != LP_OK)
			return lp_error_wrap(err, "serve image %s is missing and the pull failed",
			                     image);
		rc = create(&id, ctx, s, name, err);
	}
	if (rc != LP_OK)
		return rc;
	if ((rc = lp_docker_container_start(d, id, err)) != LP_OK) {
		remove_quietly(d, id);
		free(id);
		return rc;
	}
	*out_id = id;
	return LP_OK;
}

static int is_running(const lp_docker_summary *s)
{
	return s->state && !strcmp(s->state, "running");
}

static const char *label(const lp_docker_summary *s, const char *key)
{
	return lp_docker_kv_get(s->labels, s->nlabels, key);
}

static int is_serve(const lp_docker_summary *s)
{
	const char *role = label(s, LP_LABEL_ROLE);

	return role != NULL && !strcmp(role, LP_ROLE_SERVE);
}

static int has_name(const lp_docker_summary *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nnames; i++)
		if (!strcmp(s->names[i], name))
			return 1;
	return 0;
}

/*
 * Whether the edge already sends traffic to the replacement `next`: it answers its health path
 * itself, and Traefik's API lists its address among the service's servers as up (no API, or it
 * cannot be asked: the drain period has passed since it started). Past SERVE_SWAP_MAX_MS the
 * answer is yes, with a warning: a replacement never waits forever.
 */
static int routed(int *out, lp_ctx *ctx, const char *site, const char *router,
                  const struct serve_spec *s, const char *next, lp_error *err)
{
	const lp_config *cfg = lp_ctx_cfg(ctx);
	lp_docker_container *ct = NULL;
	const char *ip;
	int64_t started = 0, age;
	lp_error terr = {0};
	int rc, answers = 0;

	*out = 0;
	if ((rc = lp_docker_container_inspect(&ct, lp_ctx_docker(ctx), next, err)) != LP_OK)
		return rc;
	if (lp_clock_parse_rfc3339(&started, ct->started_at) != LP_OK)
		started = lp_clock_wall_ms();
	age = lp_clock_wall_ms() - started;
	ip = lp_docker_kv_get(ct->networks, ct->nnetworks, s->network);
	if (age >= SERVE_SWAP_MAX_MS) {
		LP_WARN(COMPONENT, "%s: %s is not routed after %d s; replacing anyway", site, next,
		        SERVE_SWAP_MAX_MS / 1000);
		*out = 1;
		goto done;
	}
	if (ip == NULL || *ip == '\0' ||
	    lp_edge_probe(&answers, ip, LP_SERVE_HEALTH_PATH) != LP_OK || !answers)
		goto done; /* not listening yet (or not on the network yet): look again */
	if (cfg->traefik_api && cfg->traefik_api[0]) {
		lp_edge_server state;
		if (lp_edge_server_state(&state, cfg, router, ip, &terr) == LP_OK) {
			*out = state == LP_EDGE_UP;
			goto done;
		}
		LP_WARN(COMPONENT, "%s: %s; waiting the drain period instead", site, terr.message);
	}
	*out = age >= cfg->swap_drain_ms;
done:
	lp_docker_container_free(ct);
	return LP_OK;
}

/* Stop (gracefully) and remove every serve container of the site but keep. */
static int remove_others(lp_ctx *ctx, const char *site, const lp_docker_summaries *observed,
                         const lp_docker_summary *keep, lp_error *err)
{
	lp_docker *d = lp_ctx_docker(ctx);
	size_t i;
	int rc;

	for (i = 0; i < observed->n; i++) {
		const lp_docker_summary *o = &observed->items[i];
		lp_error serr = {0};
		if (o == keep || !is_serve(o))
			continue;
		LP_INFO(COMPONENT, "%s: removing old serve container %s", site, o->id);
		if (is_running(o) &&
		    lp_docker_container_stop(d, o->id, SERVE_STOP_GRACE_S, &serr) != LP_OK)
			LP_WARN(COMPONENT, "%s: stopping %s: %s (removing it anyway)", site, o->id,
			        serr.message);
		if ((rc = lp_docker_container_remove(
		         d, o->id, LP_DOCKER_RM_FORCE | LP_DOCKER_RM_MISSING_OK, err)) != LP_OK)
			return rc;
	}
	return LP_OK;
}

/* The hostname Docker gives a container: its id's first 12 characters (nginx's $hostname). */
static void hostname_of(char out[DOCKER_HOSTNAME_LEN + 1], const char *id)
{
	size_t n = strnlen(id, DOCKER_HOSTNAME_LEN);

	memcpy(out, id, n);
	out[n] = '\0';
}

/*
 * Mark old as draining (its health check answers 503) and say whether it is drained: Traefik no
 * longer routes to it (its health check took it out), or, with no API to ask, the drain period
 * has passed since it was marked; past SERVE_DRAIN_MAX_MS, yes regardless. It keeps serving
 * everything it gets meanwhile, so stopping it afterwards drops nothing.
 */
static int drain(int *out, lp_ctx *ctx, const char *site, const char *router,
                 const struct serve_spec *s, const lp_docker_summary *old, lp_error *err)
{
	const lp_config *cfg = lp_ctx_cfg(ctx);
	char dir[LP_FS_PATH_MAX], marker[LP_FS_PATH_MAX], host[DOCKER_HOSTNAME_LEN + 1];
	lp_docker_container *ct = NULL;
	lp_edge_server state;
	lp_error terr = {0};
	struct stat st;
	int64_t age;
	const char *ip;
	int rc;

	*out = 0;
	hostname_of(host, old->id);
	if (lp_layout_drain_dir(dir, sizeof(dir), cfg->data_dir, site) != LP_OK ||
	    lp_layout_drain_marker(marker, sizeof(marker), cfg->data_dir, site, host) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "drain marker path of %s is too long", site);
	if (lstat(marker, &st) != 0) {
		if ((rc = lp_fs_mkdirs(dir, 0755, err)) != LP_OK ||
		    (rc = lp_fs_write_atomic(marker, "", 0, 0644, err)) != LP_OK)
			return rc;
		lp_ctx_count(ctx, LP_CTR_FILE_WRITES, 1);
		LP_INFO(COMPONENT, "%s: draining %s", site, host);
		return LP_OK; /* Traefik has not looked yet */
	}
	age =
	    lp_clock_wall_ms() - ((int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000);
	if (age >= SERVE_DRAIN_MAX_MS) {
		LP_WARN(COMPONENT,
		        "%s: %s still routed %d s after draining began; stopping it anyway", site,
		        host, SERVE_DRAIN_MAX_MS / 1000);
		*out = 1;
		return LP_OK;
	}
	if (cfg->traefik_api && cfg->traefik_api[0]) {
		if ((rc = lp_docker_container_inspect(&ct, lp_ctx_docker(ctx), old->id, err)) !=
		    LP_OK)
			return rc == LP_ENOTFOUND ? (*out = 1, LP_OK) : rc;
		ip = lp_docker_kv_get(ct->networks, ct->nnetworks, s->network);
		rc =
		    ip && *ip ? lp_edge_server_state(&state, cfg, router, ip, &terr) : LP_ENOTFOUND;
		lp_docker_container_free(ct);
		if (rc == LP_OK) {
			*out = state != LP_EDGE_UP;
			return LP_OK;
		}
		if (rc != LP_ENOTFOUND)
			LP_WARN(COMPONENT, "%s: %s; waiting the drain period instead", site,
			        terr.message);
	}
	*out = age >= cfg->swap_drain_ms;
	return LP_OK;
}

/* Every other running serve container of the site drained (each marked, then confirmed). */
static int drain_others(int *out, lp_ctx *ctx, const char *site, const struct serve_spec *s,
                        const lp_docker_summaries *observed, const lp_docker_summary *keep,
                        lp_error *err)
{
	size_t i;
	int rc, drained;

	*out = 1;
	for (i = 0; i < observed->n; i++) {
		const lp_docker_summary *o = &observed->items[i];
		if (o == keep || !is_serve(o) || !is_running(o))
			continue;
		if ((rc = drain(&drained, ctx, site, s->edge.router, s, o, err)) != LP_OK)
			return rc;
		*out &= drained;
	}
	return LP_OK;
}

/* After a replacement: the markers of the containers that went. */
static void forget_drains(lp_ctx *ctx, const char *site)
{
	char dir[LP_FS_PATH_MAX];
	lp_error err = {0};

	if (lp_layout_drain_dir(dir, sizeof(dir), lp_ctx_cfg(ctx)->data_dir, site) != LP_OK ||
	    !lp_fs_exists(dir))
		return;
	if (lp_fs_remove_tree(dir, &err) != LP_OK)
		LP_WARN(COMPONENT, "%s: %s", site, err.message);
	else
		lp_ctx_count(ctx, LP_CTR_FILE_WRITES, 1);
}

/* The container with the desired hash, preferring a running one; *other_running: any other. */
static const lp_docker_summary *pick(int *other_running, const lp_docker_summaries *observed,
                                     const char *hash)
{
	const lp_docker_summary *keep = NULL;
	size_t i;

	for (i = 0; i < observed->n; i++) {
		const lp_docker_summary *o = &observed->items[i];
		const char *h = label(o, LP_LABEL_SPEC_HASH);
		if (is_serve(o) && h && !strcmp(h, hash) &&
		    (keep == NULL || (is_running(o) && !is_running(keep))))
			keep = o;
	}
	*other_running = 0;
	for (i = 0; i < observed->n; i++)
		if (&observed->items[i] != keep && is_serve(&observed->items[i]) &&
		    is_running(&observed->items[i]))
			*other_running = 1;
	return keep;
}

/* Start a container created with the right spec but stopped; one that will not is replaced. */
static int restart(const lp_docker_summary **keep, lp_ctx *ctx, const char *site, lp_error *err)
{
	const char *id = (*keep)->id;
	lp_error serr = {0};

	LP_INFO(COMPONENT, "%s: starting stopped container %s", site, id);
	if (lp_docker_container_start(lp_ctx_docker(ctx), id, &serr) == LP_OK)
		return LP_OK;
	LP_WARN(COMPONENT, "%s: %s; replacing the container", site, serr.message);
	*keep = NULL;
	return lp_docker_container_remove(lp_ctx_docker(ctx), id,
	                                  LP_DOCKER_RM_FORCE | LP_DOCKER_RM_MISSING_OK, err);
}

/*
 * Create the container of the desired spec. With an old one still serving, it takes the spare
 * name (unless the old one holds that, after a swap cut short) and runs beside it.
 */
static int create_replacement(char **out_id, lp_ctx *ctx, const char *site,
                              const struct serve_spec *s, const lp_docker_summaries *observed,
                              int old_running, lp_error *err)
{
	const char *name = s->name;
	size_t i;

	for (i = 0; old_running && i < observed->n; i++)
		if (is_serve(&observed->items[i]) && is_running(&observed->items[i]) &&
		    has_name(&observed->items[i], s->name))
			name = s->next_name;
	/* A stale holder of the name (stopped, or not ours to keep) blocks the create. */
	for (i = 0; i < observed->n; i++) {
		const lp_docker_summary *o = &observed->items[i];
		if (has_name(o, name) && !(old_running && is_running(o) && is_serve(o)))
			remove_quietly(lp_ctx_docker(ctx), o->id);
	}
	LP_INFO(COMPONENT, "%s: creating serve container %s (spec %.12s)", site, name, s->hash);
	return create_and_start(out_id, ctx, s, name, err);
}

int lp_serve_ensure(lp_serve_result *out, const lp_parts *p, const char *site, const char *conf,
                    const lp_docker_summaries *observed, lp_error *err)
{
	lp_ctx *c = p->ctx;
	struct serve_spec s;
	const lp_docker_summary *keep;
	char *new_id = NULL;
	int rc, wrote = 0, others = 0, ok = 0;

	out->running = 0;
	out->requeue_ms = 0;
	if ((rc = serve_spec_build(&s, lp_ctx_cfg(c), site, conf, err)) != LP_OK)
		return rc;
	keep = pick(&others, observed, s.hash);
	if (keep && !is_running(keep)) {
		wrote = 1;
		if ((rc = restart(&keep, c, site, err)) != LP_OK)
			goto done;
	}
	if (keep == NULL) {
		wrote = 1;
		if ((rc = create_replacement(&new_id, c, site, &s, observed, others, err)) != LP_OK)
			goto done;
		out->running = 1;
		if (others) {
			/* Level-triggered swap: the old one goes in a later pass, once routed. */
			out->requeue_ms = SERVE_SWAP_POLL_MS;
			goto done;
		}
		/* Nothing else serves: leftovers (stopped, stale) go now. */
		rc = remove_others(c, site, observed, NULL, err);
		goto done;
	}
	if (others) {
		/* The successor first takes traffic, then the old ones leave the rotation. */
		if ((rc = routed(&ok, c, site, s.edge.router, &s, keep->id, err)) != LP_OK ||
		    (ok && (rc = drain_others(&ok, c, site, &s, observed, keep, err)) != LP_OK))
			goto done;
		if (!ok) {
			out->running = 1;
			out->requeue_ms = SERVE_SWAP_POLL_MS;
			goto done;
		}
	}
	/* Everything else of role serve for this site goes (replaced, duplicate, or stale). */
	for (size_t i = 0; i < observed->n; i++)
		if (&observed->items[i] != keep && is_serve(&observed->items[i]))
			wrote = 1;
	if (wrote) {
		if ((rc = remove_others(c, site, observed, keep, err)) != LP_OK)
			goto done;
		forget_drains(c, site);
	}
	/* The survivor takes the canonical name, so `docker rm -f deploy-<name>` means it. */
	if (!has_name(keep, s.name)) {
		wrote = 1;
		if ((rc = lp_docker_container_rename(lp_ctx_docker(c), keep->id, s.name, err)) !=
		    LP_OK)
			goto done;
	}
	out->running = 1;
done:
	if (wrote || new_id)
		lp_observer_invalidate(p->obs, site);
	free(new_id);
	return rc;
}
