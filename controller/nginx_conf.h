/* nginx_conf.h: renders the per-site nginx server block (internal to the controller). */
#ifndef LAUNCHPAD_CONTROLLER_NGINX_CONF_H
#define LAUNCHPAD_CONTROLLER_NGINX_CONF_H

#include "controller/nginx_rules.h"
#include "launchpad/error.h"
#include "launchpad/layout.h"

/* Where the serve container sees the site directory and its generated config. */
#define LP_SERVE_HTML_DIR  "/usr/share/nginx/html"
#define LP_SERVE_CONF_PATH "/etc/nginx/conf.d/default.conf"
/* Answered by every serve container: the controller's readiness probe and Traefik's health check.
 */
#define LP_SERVE_HEALTH_PATH "/.launchpad/health"
/*
 * A container whose hostname (its id's first 12 characters) has a marker here, inside the site
 * directory but outside the served tree, answers its health check 503: Traefik takes it out of
 * the rotation while it still serves every request it gets (a drain before a replacement).
 */
#define LP_SERVE_DRAIN_DIR LP_LAYOUT_DRAIN_DIR

/* Largest server block with its rules (controller/nginx_rules.h). */
#define LP_NGINX_CONF_MAX (LP_NGINX_RULES_MAX * 2 + 64 * 1024)

/* A revision's serve config: the rules it came with around the platform's server block. */
struct lp_nginx_site {
	const char *root;         /* relative to LP_SERVE_HTML_DIR: "revisions/<n>" */
	const char *http_rules;   /* http-level directives before the server block, or NULL */
	const char *server_rules; /* directives inside it, after the health check, or NULL */
};

/* Render the config into a new string the caller frees. Deterministic for equal input. */
int lp_nginx_conf_render(char **out, const struct lp_nginx_site *site, lp_error *err) LP_MUST_CHECK;

/*
 * The file the serve container binds at LP_SERVE_CONF_PATH: one include of the live revision's
 * config (an absolute path inside the container). It is the same for every revision, so a new
 * revision changes no container: it goes live by a reload.
 */
int lp_nginx_conf_stub(char **out, const char *include_path, lp_error *err) LP_MUST_CHECK;

/*
 * The server block that answers revision n of site at "<site>--r<n>.<base-domain>" from
 * revisions/<n> (static files as published; a revision's _redirects and _headers apply only
 * where it is live). Appended to the stub the serve container binds: one container serves
 * every revision on disk. LP_EINVAL when base_domain is not a host name. Caller frees *out.
 */
int lp_nginx_conf_permalinks(char **out, const char *site, const char *base_domain,
                             lp_error *err) LP_MUST_CHECK;

#endif
