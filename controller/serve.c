/* serve.c: the serve container of a site: its config, its hash, and zero-downtime replacement. */
#include "controller/controller_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/edge.h"
#include "launchpad/names.h"
#include "controller/nginx_conf.h"
#include "launchpad/buf.h"
#include "launchpad/clock.h"
#include "launchpad/crypto.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "launchpad/log.h"

#define COMPONENT "serve"

int lp_serve_write_conf(char **out, struct lp_controller *c, const char *site, const lp_site *spec,
                        lp_error *err)
{
	struct lp_nginx_site ns = {.spa = spec->serve_spa,
	                           .not_found_page = spec->serve_not_found_page};
	char *conf = NULL, *path = NULL, *dir = NULL, *old = NULL;
	int rc;

	*out = NULL;
	if ((rc = lp_nginx_conf_render(&conf, &ns, err)) != LP_OK)
		goto done;
	dir = lp_ctrl_path(c, "conf");
	path = lp_ctrl_path(c, "conf/%s.nginx.conf", site);
	if (dir == NULL || path == NULL) {
		rc = lp_error_set(err, LP_ENOMEM, "out of memory");
		goto done;
	}
	/* Steady state must not write: compare first. */
	if (lp_fs_read_file(&old, NULL, path, 1 << 20, NULL) == LP_OK && !strcmp(old, conf))
		goto done;
	if ((rc = lp_fs_mkdirs(dir, 0755, err)) != LP_OK)
		goto done;
	rc = lp_fs_write_atomic(path, conf, strlen(conf), 0644, err);
	if (rc == LP_OK)
		atomic_fetch_add(&c->file_writes, 1);
done:
	if (rc == LP_OK) {
		*out = conf;
		conf = NULL;
	}
	free(conf);
	free(path);
	free(dir);
	free(old);
	return rc;
}

int lp_serve_ensure_networks(struct lp_controller *c, lp_error *err)
{
	char sites_net[256], build_net[256];
	lp_docker_kv label = {"launchpad.instance", (char *)c->cfg->instance};
	int rc;

	if (atomic_load(&c->networks_ok))
		return LP_OK;
	if ((rc = lp_names_sites_network(sites_net, sizeof(sites_net), c->cfg, err)) != LP_OK ||
	    (rc = lp_names_build_network(build_net, sizeof(build_net), c->cfg->instance, err)) !=
	        LP_OK)
		return rc;
	/* Sites need no egress: the serve network is internal, shared with Traefik. */
	if ((rc = lp_docker_network_ensure(NULL, c->docker, sites_net, 1, &label, 1, err)) != LP_OK)
		return rc;
	if ((rc = lp_docker_network_ensure(NULL, c->docker, build_net, 0, &label, 1, err)) != LP_OK)
		return rc;
	atomic_store(&c->networks_ok, 1);
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
#define SERVE_NAME_MAX        256
#define SERVE_BIND_MAX        4200
#define SERVE_LABELS          (LP_EDGE_MAX_LABELS + 4)

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

static int serve_spec_build(struct serve_spec *s, struct lp_controller *c, const char *site,
                            const char *conf, lp_error *err)
{
	lp_buf h;
	size_t i;
	int rc = LP_OK;

	memset(s, 0, sizeof(*s));
	if ((rc = lp_names_serve_container(s->name, sizeof(s->name), c->cfg->instance, site,
	                                   err)) != LP_OK ||
	    (rc = lp_names_sites_network(s->network, sizeof(s->network), c->cfg, err)) != LP_OK ||
	    (rc = lp_edge_labels_build(&s->edge, c->cfg, site, s->network, err)) != LP_OK)
		return rc;
	if (lp_fmt(s->next_name, sizeof(s->next_name), "%s-next", s->name) != LP_OK ||
	    lp_fmt(s->bind_html, sizeof(s->bind_html), "%s/sites/%s:" LP_SERVE_HTML_DIR ":ro",
	           c->cfg->data_dir, site) != LP_OK ||
	    lp_fmt(s->bind_conf, sizeof(s->bind_conf),
	           "%s/conf/%s.nginx.conf:" LP_SERVE_CONF_PATH ":ro", c->cfg->data_dir,
	           site) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "serve container paths of %s are too long",
		                    site);
	s->labels[s->nlabels++] = (lp_docker_kv){"launchpad.instance", (char *)c->cfg->instance};
	s->labels[s->nlabels++] = (lp_docker_kv){"launchpad.site", (char *)site};
	s->labels[s->nlabels++] = (lp_docker_kv){"launchpad.role", "serve"};
	for (i = 0; i < s->edge.n; i++)
		s->labels[s->nlabels++] = s->edge.kv[i];

	/* The bound config file's content counts: a changed file needs a new container. */
	lp_buf_init(&h, 1 << 20);
	lp_buf_printf(&h, "v2\nimage=%s\nname=%s\nnet=%s\n%s\n%s\nstop=SIGQUIT\n",
	              c->cfg->serve_image, s->name, s->network, s->bind_html, s->bind_conf);
	for (i = 0; i < s->nlabels; i++)
		lp_buf_printf(&h, "label %s=%s\n", s->labels[i].key, s->labels[i].value);
	if ((rc = lp_buf_printf(&h, "conf\n%s", conf)) != LP_OK) {
		lp_error_set(err, rc, "serve spec too large");
		goto done;
	}
	lp_crypto_sha256_hex(s->hash, h.data, h.len);
	s->labels[s->nlabels++] = (lp_docker_kv){"launchpad.spec-hash", s->hash};
done:
	lp_buf_release(&h);
	return rc;
}

static int create(char **out_id, struct lp_controller *c, const struct serve_spec *s,
                  const char *name, lp_error *err)
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
	cc.image = c->cfg->serve_image;
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
	return lp_docker_container_create(out_id, c->docker, &cc, err);
}

static int create_and_start(char **out_id, struct lp_controller *c, const struct serve_spec *s,
                            const char *name, lp_error *err)
{
	char *id = NULL;
	int rc;

	*out_id = NULL;
	rc = create(&id, c, s, name, err);
	if (rc == LP_ENOTFOUND) { /* create never pulls: a new host has no serve image yet */
		LP_INFO(COMPONENT, "pulling serve image %s", c->cfg->serve_image);
		if ((rc = lp_docker_image_pull(c->docker, c->cfg->serve_image, NULL, NULL,
		                               SERVE_PULL_TIMEOUT_MS, NULL, err)) != LP_OK)
			return lp_error_wrap(err, "serve image %s is missing and the pull failed",
			                     c->cfg->serve_image);
		rc = create(&id, c, s, name, err);
	}
	if (rc != LP_OK)
		return rc;
	if ((rc = lp_docker_container_start(c->docker, id, err)) != LP_OK) {
		lp_docker_container_remove(c->docker, id,
		                           LP_DOCKER_RM_FORCE | LP_DOCKER_RM_MISSING_OK, NULL);
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
	const char *role = label(s, "launchpad.role");

	return role != NULL && !strcmp(role, "serve");
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
 * Whether the edge already sends traffic to the replacement `next`: Traefik's API lists its
 * address among the service's servers, or (no API, or it cannot be asked) the drain period has
 * passed since it started. Past SERVE_SWAP_MAX_MS the answer is yes, with a warning.
 */
static int routed(int *out, struct lp_controller *c, const char *site, const char *router,
                  const struct serve_spec *s, const char *next, lp_error *err)
{
	lp_docker_container *ct = NULL;
	const char *ip;
	int64_t started = 0, age;
	lp_error terr = {0};
	int rc;

	*out = 0;
	if ((rc = lp_docker_container_inspect(&ct, c->docker, next, err)) != LP_OK)
		return rc;
	if (lp_clock_parse_rfc3339(&started, ct->started_at) != LP_OK)
		started = lp_clock_wall_ms();
	age = lp_clock_wall_ms() - started;
	ip = lp_docker_kv_get(ct->networks, ct->nnetworks, s->network);
	if (c->cfg->traefik_api && c->cfg->traefik_api[0] && ip && *ip) {
		if (lp_edge_routes_to(out, c->cfg, router, ip, &terr) == LP_OK) {
			if (!*out && age >= SERVE_SWAP_MAX_MS) {
				LP_WARN(COMPONENT,
				        "%s: Traefik does not route to %s after %d s; "
				        "replacing anyway",
				        site, next, SERVE_SWAP_MAX_MS / 1000);
				*out = 1;
			}
			goto done;
		}
		LP_WARN(COMPONENT, "%s: %s; waiting the drain period instead", site, terr.message);
	}
	*out = age >= c->cfg->swap_drain_ms;
done:
	lp_docker_container_free(ct);
	return LP_OK;
}

/* Stop (gracefully) and remove every serve container of the site but keep. */
static int remove_others(struct lp_controller *c, const char *site,
                         const lp_docker_summaries *observed, const lp_docker_summary *keep,
                         lp_error *err)
{
	size_t i;
	int rc;

	for (i = 0; i < observed->n; i++) {
		const lp_docker_summary *o = &observed->items[i];
		lp_error serr = {0};
		if (o == keep || !is_serve(o))
			continue;
		LP_INFO(COMPONENT, "%s: removing old serve container %s", site, o->id);
		if (is_running(o) &&
		    lp_docker_container_stop(c->docker, o->id, SERVE_STOP_GRACE_S, &serr) != LP_OK)
			LP_WARN(COMPONENT, "%s: stopping %s: %s (removing it anyway)", site, o->id,
			        serr.message);
		if ((rc = lp_docker_container_remove(c->docker, o->id,
		                                     LP_DOCKER_RM_FORCE | LP_DOCKER_RM_MISSING_OK,
		                                     err)) != LP_OK)
			return rc;
	}
	return LP_OK;
}

/* The container with the desired hash, preferring a running one; *other_running: any other. */
static const lp_docker_summary *pick(int *other_running, const lp_docker_summaries *observed,
                                     const char *hash)
{
	const lp_docker_summary *keep = NULL;
	size_t i;

	for (i = 0; i < observed->n; i++) {
		const lp_docker_summary *o = &observed->items[i];
		const char *h = label(o, "launchpad.spec-hash");
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
static int restart(const lp_docker_summary **keep, struct lp_controller *c, const char *site,
                   lp_error *err)
{
	const char *id = (*keep)->id;
	lp_error serr = {0};

	LP_INFO(COMPONENT, "%s: starting stopped container %s", site, id);
	if (lp_docker_container_start(c->docker, id, &serr) == LP_OK)
		return LP_OK;
	LP_WARN(COMPONENT, "%s: %s; replacing the container", site, serr.message);
	*keep = NULL;
	return lp_docker_container_remove(c->docker, id,
	                                  LP_DOCKER_RM_FORCE | LP_DOCKER_RM_MISSING_OK, err);
}

/*
 * Create the container of the desired spec. With an old one still serving, it takes the spare
 * name (unless the old one holds that, after a swap cut short) and runs beside it.
 */
static int create_replacement(char **out_id, struct lp_controller *c, const char *site,
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
			lp_docker_container_remove(
			    c->docker, o->id, LP_DOCKER_RM_FORCE | LP_DOCKER_RM_MISSING_OK, NULL);
	}
	LP_INFO(COMPONENT, "%s: creating serve container %s (spec %.12s)", site, name, s->hash);
	return create_and_start(out_id, c, s, name, err);
}

int lp_serve_ensure(lp_serve_result *out, struct lp_controller *c, const char *site,
                    const char *conf, const lp_docker_summaries *observed, lp_error *err)
{
	struct serve_spec s;
	const lp_docker_summary *keep;
	char *new_id = NULL;
	int rc, wrote = 0, others = 0, ok = 0;

	out->running = 0;
	out->requeue_ms = 0;
	if ((rc = serve_spec_build(&s, c, site, conf, err)) != LP_OK)
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
		if ((rc = routed(&ok, c, site, s.edge.router, &s, keep->id, err)) != LP_OK)
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
	if (wrote && (rc = remove_others(c, site, observed, keep, err)) != LP_OK)
		goto done;
	/* The survivor takes the canonical name, so `docker rm -f deploy-<name>` means it. */
	if (!has_name(keep, s.name)) {
		wrote = 1;
		if ((rc = lp_docker_container_rename(c->docker, keep->id, s.name, err)) != LP_OK)
			goto done;
	}
	out->running = 1;
done:
	if (wrote || new_id)
		lp_observe_invalidate(c, site);
	free(new_id);
	return rc;
}
