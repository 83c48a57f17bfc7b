/* serve.c: the serve container of a site: its config, its hash, and zero-downtime replacement. */
#include "controller/controller_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/names.h"
#include "controller/nginx_conf.h"
#include "launchpad/buf.h"
#include "launchpad/crypto.h"
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
	if ((rc = lp_names_sites_network(sites_net, sizeof(sites_net), c->cfg->instance, err)) !=
	        LP_OK ||
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

/* Everything that defines the serve container except its hash label. */
struct serve_spec {
	char name[256];
	char network[256];
	char router[256];
	char bind_html[4200];
	char bind_conf[4200];
	char rule[512];
	char hash[LP_SHA256_HEX_LEN];
	lp_docker_kv labels[10];
	size_t nlabels;
	char rule_key[300], ep_key[300], port_key[300];
};

static int serve_spec_build(struct serve_spec *s, struct lp_controller *c, const char *site,
                            const char *conf, lp_error *err)
{
	lp_buf h;
	size_t i;
	int rc = LP_OK;

	memset(s, 0, sizeof(*s));
	lp_buf_init(&h, 1 << 20);
	if ((rc = lp_names_serve_container(s->name, sizeof(s->name), c->cfg->instance, site,
	                                   err)) != LP_OK ||
	    (rc = lp_names_sites_network(s->network, sizeof(s->network), c->cfg->instance, err)) !=
	        LP_OK)
		return rc;
	snprintf(s->router, sizeof(s->router), "%s-%s", c->cfg->instance, site);
	snprintf(s->bind_html, sizeof(s->bind_html), "%s/sites/%s:" LP_SERVE_HTML_DIR ":ro",
	         c->cfg->data_dir, site);
	snprintf(s->bind_conf, sizeof(s->bind_conf),
	         "%s/conf/%s.nginx.conf:" LP_SERVE_CONF_PATH ":ro", c->cfg->data_dir, site);
	snprintf(s->rule, sizeof(s->rule), "Host(`%s.%s`)", site, c->cfg->base_domain);
	snprintf(s->rule_key, sizeof(s->rule_key), "traefik.http.routers.%s.rule", s->router);
	snprintf(s->ep_key, sizeof(s->ep_key), "traefik.http.routers.%s.entrypoints", s->router);
	snprintf(s->port_key, sizeof(s->port_key),
	         "traefik.http.services.%s.loadbalancer.server.port", s->router);
	/* Identical Traefik labels on old and new containers: Traefik merges them during a swap. */
	s->labels[s->nlabels++] = (lp_docker_kv){"launchpad.instance", (char *)c->cfg->instance};
	s->labels[s->nlabels++] = (lp_docker_kv){"launchpad.site", (char *)site};
	s->labels[s->nlabels++] = (lp_docker_kv){"launchpad.role", "serve"};
	s->labels[s->nlabels++] = (lp_docker_kv){"traefik.enable", "true"};
	s->labels[s->nlabels++] = (lp_docker_kv){s->rule_key, s->rule};
	s->labels[s->nlabels++] = (lp_docker_kv){s->ep_key, "web"};
	s->labels[s->nlabels++] = (lp_docker_kv){s->port_key, "80"};
	s->labels[s->nlabels++] = (lp_docker_kv){"traefik.docker.network", s->network};

	/* The bound config file's content counts: a changed file needs a new container. */
	lp_buf_printf(&h, "v1\nimage=%s\nname=%s\nnet=%s\n%s\n%s\n", c->cfg->serve_image, s->name,
	              s->network, s->bind_html, s->bind_conf);
	for (i = 0; i < s->nlabels; i++)
		lp_buf_printf(&h, "label %s=%s\n", s->labels[i].key, s->labels[i].value);
	if ((rc = lp_buf_printf(&h, "conf\n%s", conf)) != LP_OK) {
		lp_error_set(err, rc, "serve spec too large");
		goto done;
	}
	lp_sha256_hex(s->hash, h.data, h.len);
	s->labels[s->nlabels++] = (lp_docker_kv){"launchpad.spec-hash", s->hash};
done:
	lp_buf_release(&h);
	return rc;
}

static int create_and_start(char **out_id, struct lp_controller *c, const struct serve_spec *s,
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
	char *id = NULL;
	int rc;

	*out_id = NULL;
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
	cc.stop_timeout = 10;
	if ((rc = lp_docker_container_create(&id, c->docker, &cc, err)) != LP_OK)
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

static int has_name(const lp_docker_summary *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nnames; i++)
		if (!strcmp(s->names[i], name))
			return 1;
	return 0;
}

int lp_serve_ensure(int *out_running, struct lp_controller *c, const char *site, const char *conf,
                    const lp_docker_summaries *observed, lp_error *err)
{
	struct serve_spec s;
	const lp_docker_summary *keep = NULL, *old_running = NULL;
	char next_name[300], *new_id = NULL;
	size_t i;
	int rc, wrote = 0;

	*out_running = 0;
	if ((rc = serve_spec_build(&s, c, site, conf, err)) != LP_OK)
		return rc;
	snprintf(next_name, sizeof(next_name), "%s-next", s.name);

	/* Prefer a running container with the right hash; then a stopped one to restart. */
	for (i = 0; i < observed->n; i++) {
		const lp_docker_summary *o = &observed->items[i];
		const char *role = label(o, "launchpad.role"),
		           *hash = label(o, "launchpad.spec-hash");
		if (role == NULL || strcmp(role, "serve"))
			continue;
		if (hash && !strcmp(hash, s.hash)) {
			if (keep == NULL || (is_running(o) && !is_running(keep)))
				keep = o;
		} else if (is_running(o) && old_running == NULL) {
			old_running = o;
		}
	}

	if (keep && !is_running(keep)) {
		lp_error serr = {0};
		LP_INFO(COMPONENT, "%s: starting stopped container %s", site, keep->id);
		wrote = 1;
		if (lp_docker_container_start(c->docker, keep->id, &serr) != LP_OK) {
			/* A container that will not start (dead, broken mounts) is replaced. */
			LP_WARN(COMPONENT, "%s: %s; replacing the container", site, serr.message);
			if ((rc = lp_docker_container_remove(
			         c->docker, keep->id, LP_DOCKER_RM_FORCE | LP_DOCKER_RM_MISSING_OK,
			         err)) != LP_OK)
				goto done;
			keep = NULL;
		}
	}
	if (keep == NULL) {
		/* Zero downtime: the replacement runs before the old one goes. */
		/* The spare name, unless the running one already holds it (a swap cut short). */
		const char *name =
		    old_running && !has_name(old_running, next_name) ? next_name : s.name;
		for (i = 0; i < observed->n; i++) { /* a stale holder of the name blocks create */
			const lp_docker_summary *o = &observed->items[i];
			if (o != old_running && has_name(o, name)) {
				lp_docker_container_remove(
				    c->docker, o->id, LP_DOCKER_RM_FORCE | LP_DOCKER_RM_MISSING_OK,
				    NULL);
				wrote = 1;
			}
		}
		LP_INFO(COMPONENT, "%s: creating serve container %s (spec %.12s)", site, name,
		        s.hash);
		if ((rc = create_and_start(&new_id, c, &s, name, err)) != LP_OK)
			goto done;
		wrote = 1;
	}
	/* Everything else of role serve for this site goes (replaced, duplicate, or stale). */
	for (i = 0; i < observed->n; i++) {
		const lp_docker_summary *o = &observed->items[i];
		const char *role = label(o, "launchpad.role");
		if (o == keep || role == NULL || strcmp(role, "serve"))
			continue;
		if (new_id == NULL && keep == NULL)
			continue;
		LP_INFO(COMPONENT, "%s: removing old serve container %s", site, o->id);
		if ((rc = lp_docker_container_remove(c->docker, o->id,
		                                     LP_DOCKER_RM_FORCE | LP_DOCKER_RM_MISSING_OK,
		                                     err)) != LP_OK)
			goto done;
		wrote = 1;
	}
	/* Give the survivor the canonical name, so `docker rm -f deploy-<name>` means it. */
	if (new_id && old_running && !has_name(old_running, next_name)) {
		if ((rc = lp_docker_container_rename(c->docker, new_id, s.name, err)) != LP_OK)
			goto done;
	} else if (keep && !has_name(keep, s.name)) {
		if ((rc = lp_docker_container_rename(c->docker, keep->id, s.name, err)) != LP_OK)
			goto done;
		wrote = 1;
	}
	*out_running = 1;
done:
	if (wrote || new_id)
		lp_observe_invalidate(c, site);
	free(new_id);
	return rc;
}
