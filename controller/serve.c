/* serve.c: the nginx serve containers of a site: config, hash, and what rollout.c needs of them. */
#include "controller/serve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "controller/edge.h"
#include "controller/nginx_conf.h"
#include "controller/revconf.h"
#include "controller/rollout.h"
#include "launchpad/buf.h"
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
	char *perma = NULL;
	int rc;

	*out = NULL;
	/* The rules travel with each revision (revconf.c); this file only includes the live one. */
	if (lp_revconf_include_path(inc, sizeof(inc)) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "rules include path too long");
	if ((rc = lp_nginx_conf_permalinks(&perma, site, cfg->base_domain, err)) != LP_OK ||
	    (rc = lp_nginx_conf_stub(&conf, inc, perma, err)) != LP_OK)
		goto done;
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
	free(perma);
	return rc;
}

/* Seconds nginx gets to finish its requests (it quits gracefully on SIGQUIT). */
#define SERVE_STOP_GRACE_S 10
#define SERVE_BIND_MAX     4200

/* Everything that defines the serve container; the unit first (rollout.c hands it back). */
struct serve_spec {
	lp_rollout_unit u;
	char bind_html[SERVE_BIND_MAX];
	char bind_conf[SERVE_BIND_MAX];
};

static int create(char **out_id, lp_ctx *ctx, const lp_rollout_unit *u, const char *name,
                  lp_error *err);

/* nginx answers its health path itself once it listens (Traefik routes it as soon as it runs). */
static int answers(int *out, const lp_rollout_unit *u, const lp_docker_container *ct,
                   const char *ip)
{
	return lp_edge_probe(out, ip, LP_SERVE_HEALTH_PATH);
}

static int serve_spec_build(struct serve_spec *s, const lp_config *cfg, const char *site,
                            const lp_site *spec, const char *conf, lp_error *err)
{
	char html[LP_FS_PATH_MAX], cfile[LP_FS_PATH_MAX];
	lp_buf h, t;
	int rc = LP_OK;

	memset(s, 0, sizeof(*s));
	s->u.role = LP_ROLE_SERVE;
	s->u.image = cfg->serve_image;
	s->u.create = create;
	s->u.answers = answers;
	if ((rc = lp_names_serve_container(s->u.name, sizeof(s->u.name), cfg->instance, site,
	                                   err)) != LP_OK ||
	    (rc = lp_names_sites_network(s->u.network, sizeof(s->u.network), cfg, err)) != LP_OK ||
	    (rc = lp_edge_labels_build(&s->u.edge, cfg, site, spec, s->u.network, err)) != LP_OK)
		return rc;
	if (lp_layout_site(html, sizeof(html), cfg->data_dir, site) != LP_OK ||
	    lp_layout_conf(cfile, sizeof(cfile), cfg->data_dir, site) != LP_OK ||
	    lp_fmt(s->bind_html, sizeof(s->bind_html), "%s:" LP_SERVE_HTML_DIR ":ro", html) !=
	        LP_OK ||
	    lp_fmt(s->bind_conf, sizeof(s->bind_conf), "%s:" LP_SERVE_CONF_PATH ":ro", cfile) !=
	        LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "serve container paths of %s are too long",
		                    site);
	/* The bound config file's content counts: a changed file needs a new container. */
	lp_buf_init(&h, 1 << 20);
	lp_buf_init(&t, 1 << 20);
	rc = lp_buf_printf(&h, "v3\nimage=%s\nuser=%s\nname=%s\nnet=%s\n%s\n%s\nstop=SIGQUIT\n",
	                   cfg->serve_image, LP_SERVE_USER, s->u.name, s->u.network, s->bind_html,
	                   s->bind_conf);
	if (rc == LP_OK)
		rc = lp_buf_printf(&t, "conf\n%s", conf);
	if (rc != LP_OK)
		lp_error_set(err, rc, "serve spec too large");
	else
		rc = lp_rollout_unit_seal(&s->u, cfg, site, lp_buf_cstr(&h), lp_buf_cstr(&t), err);
	lp_buf_release(&h);
	lp_buf_release(&t);
	return rc;
}

static int create(char **out_id, lp_ctx *ctx, const lp_rollout_unit *u, const char *name,
                  lp_error *err)
{
	const struct serve_spec *s = (const struct serve_spec *)u;
	const char *binds[] = {s->bind_html, s->bind_conf, NULL};
	/* Unprivileged on an unprivileged port: nginx needs no capability at all. */
	const char *cap_drop[] = {"ALL", NULL};
	const char *secopt[] = {"no-new-privileges", NULL};
	/* The only writable path: the pid file and temp paths of the generated config. */
	const lp_docker_kv tmpfs[] = {
	    {LP_SERVE_TMP_DIR, LP_SERVE_TMP_OPTIONS},
	};
	lp_docker_create_config cc = {0};

	cc.name = name;
	cc.image = lp_ctx_cfg(ctx)->serve_image;
	cc.user = LP_SERVE_USER;
	cc.labels = u->labels;
	cc.nlabels = u->nlabels;
	cc.binds = binds;
	cc.network = u->network;
	cc.memory_bytes = 64ll << 20;
	cc.nano_cpus = 500000000;
	cc.pids_limit = 128;
	cc.readonly_rootfs = 1;
	cc.tmpfs = tmpfs;
	cc.ntmpfs = sizeof(tmpfs) / sizeof(tmpfs[0]);
	cc.cap_drop = cap_drop;
	cc.security_opt = secopt;
	cc.restart_policy = "unless-stopped";
	cc.stop_timeout = SERVE_STOP_GRACE_S;
	/* Graceful: in-flight requests finish; new ones are refused and Traefik retries them. */
	cc.stop_signal = "SIGQUIT";
	return lp_docker_container_create(out_id, lp_ctx_docker(ctx), &cc, err);
}

int lp_serve_ensure(lp_serve_result *out, const lp_parts *p, const char *site, const lp_site *spec,
                    const char *conf, const lp_docker_summaries *observed, lp_error *err)
{
	struct serve_spec s;
	lp_rollout_result r;
	int rc;

	out->running = 0;
	out->requeue_ms = 0;
	if ((rc = serve_spec_build(&s, lp_ctx_cfg(p->ctx), site, spec, conf, err)) != LP_OK)
		return rc;
	rc = lp_rollout_ensure(&r, p, site, &s.u, spec->serve_replicas, observed, err);
	out->running = r.running;
	out->requeue_ms = r.requeue_ms;
	return rc;
}
