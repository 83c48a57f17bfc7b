/*
 * nginx_conf.h: renders the nginx configuration of a site's serve containers (internal to the
 * controller): the main file and, for each revision, its server block.
 *
 * The main file (bound read-only over /etc/nginx/nginx.conf) is the whole configuration, not a
 * server block for the image's own nginx.conf: nginx runs as an unprivileged user on a read-only
 * root, so every path it writes (pid file, temp files) must be one this file names, under /tmp
 * (a tmpfs). That keeps any nginx image with /etc/nginx/mime.types usable (nginx:alpine,
 * nginxinc/nginx-unprivileged, the tests' Debian image) whatever its own config says. Its http
 * block includes the live revision's config (revconf.c): that revision's http-level rules and
 * its server on LP_SERVE_PORT. Nothing is allocated beyond the rendered strings, which the
 * caller frees.
 */
#ifndef LAUNCHPAD_CONTROLLER_NGINX_CONF_H
#define LAUNCHPAD_CONTROLLER_NGINX_CONF_H

#include "controller/nginx_rules.h"
#include "launchpad/error.h"
#include "launchpad/layout.h"

/* Where the serve container sees the site directory and its generated config. */
#define LP_SERVE_HTML_DIR  "/usr/share/nginx/html"
#define LP_SERVE_CONF_PATH "/etc/nginx/nginx.conf"
/* The one writable directory (a tmpfs): the pid file and nginx's temp paths live here. */
#define LP_SERVE_TMP_DIR     "/tmp"
#define LP_SERVE_TMP_OPTIONS "rw,noexec,nosuid,nodev,size=16m"
/*
 * nginx runs as this uid:gid from its first instruction, in the serve container and in the
 * check of a revision's config (revconf.c): the nginx user of nginx:alpine, of
 * nginxinc/nginx-unprivileged and of the tests' image. It only reads the bound site (world-
 * readable) and writes the tmpfs.
 */
#define LP_SERVE_USER "101:101"
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
 * The file the serve container binds at LP_SERVE_CONF_PATH: the main configuration, whose http
 * block includes the live revision's config (an absolute path inside the container). It is the
 * same for every revision, so a new revision changes no container: it goes live by a reload.
 * servers (NULL: none): more server blocks inside http, after the include (the permalinks).
 */
int lp_nginx_conf_stub(char **out, const char *include_path, const char *servers,
                       lp_error *err) LP_MUST_CHECK;

/*
 * The server block that answers revision n of site at "<site>--r<n>.<base-domain>" from
 * revisions/<n> (static files as published; a revision's _redirects and _headers apply only
 * where it is live). Given to the stub the serve container binds: one container serves
 * every revision on disk. LP_EINVAL when base_domain is not a host name. Caller frees *out.
 */
int lp_nginx_conf_permalinks(char **out, const char *site, const char *base_domain,
                             lp_error *err) LP_MUST_CHECK;

#endif
