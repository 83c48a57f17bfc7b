/* nginx_conf.h: renders the per-site nginx server block (internal to the controller). */
#ifndef LAUNCHPAD_CONTROLLER_NGINX_CONF_H
#define LAUNCHPAD_CONTROLLER_NGINX_CONF_H

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

struct lp_nginx_site {
	int spa;                    /* unknown paths fall back to /index.html */
	const char *not_found_page; /* relative page for 404s, or NULL */
};

/* Render the server block into a new string the caller frees. Deterministic for equal input. */
int lp_nginx_conf_render(char **out, const struct lp_nginx_site *site, lp_error *err);

#endif
