/*
 * nginx_conf.h: renders the whole nginx configuration of a site's serve containers (internal to
 * the controller).
 *
 * The file is the main configuration (bound read-only over /etc/nginx/nginx.conf), not a server
 * block for the image's own nginx.conf: nginx runs as an unprivileged user on a read-only root, so
 * every path it writes (pid file, temp files) must be one this file names, under /tmp (a tmpfs).
 * That keeps any nginx image with /etc/nginx/mime.types usable (nginx:alpine,
 * nginxinc/nginx-unprivileged, the tests' Debian image) whatever its own config says.
 * Nothing is allocated beyond the rendered string, which the caller frees.
 */
#ifndef LAUNCHPAD_CONTROLLER_NGINX_CONF_H
#define LAUNCHPAD_CONTROLLER_NGINX_CONF_H

#include "launchpad/error.h"
#include "launchpad/layout.h"

/* Where the serve container sees the site directory and its generated config. */
#define LP_SERVE_HTML_DIR  "/usr/share/nginx/html"
#define LP_SERVE_CONF_PATH "/etc/nginx/nginx.conf"
/* The one writable directory (a tmpfs): the pid file and nginx's temp paths live here. */
#define LP_SERVE_TMP_DIR "/tmp"
/* An unprivileged port: binding it needs no capability (nginx-unprivileged's choice too). */
#define LP_SERVE_PORT 8080
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

/* Render the configuration into a new string the caller frees. Deterministic for equal input. */
int lp_nginx_conf_render(char **out, const struct lp_nginx_site *site, lp_error *err) LP_MUST_CHECK;

#endif
