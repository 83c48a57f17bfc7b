/*
 * edge.h: what Traefik (the edge users hit) reads from a serve container, and whether it routes
 * to one yet.
 *
 * Traefik's docker provider builds one router and one service per site from container labels.
 * Every container serving a site carries byte-identical Traefik labels, with the router naming
 * its service explicitly: Traefik then merges old and new containers into one service during a
 * replacement, instead of dropping the router as "defined multiple times with different
 * configurations". Router, service and middleware names carry the instance, so two installs on
 * one engine never collide.
 *
 * What can differ between the old and the new container of a replacement (the router's rule when
 * spec.domains changes, its middlewares when serve.httpsRedirect or serve.hsts does, TLS when the
 * edge gains HTTPS) lives in routers and middlewares whose names carry a hash of it: the two
 * containers then define two routers side by side, never one router two ways, and both lead to the
 * one service they share. A site with no domains and no HTTPS keeps the router name it always had
 * (its labels, and so its container, do not change on an upgrade). A request whose connection
 * failed (a container that just stopped) is sent again by a retry middleware, and the passive
 * health check has by then taken the failed server out of the rotation, so the retry reaches its
 * successor.
 *
 * Ownership: lp_edge_labels is a plain value the caller owns; its kv array points into its own
 * storage, so it must not be copied after lp_edge_labels_build. Nothing here allocates beyond
 * the call.
 */
#ifndef LAUNCHPAD_CONTROLLER_EDGE_H
#define LAUNCHPAD_CONTROLLER_EDGE_H

#include <stddef.h>

#include "controller/nginx_conf.h"
#include "launchpad/config.h"
#include "launchpad/docker.h"
#include "launchpad/error.h"
#include "launchpad/spec.h"

#define LP_EDGE_ENTRYPOINT       "web"
#define LP_EDGE_ENTRYPOINT_HTTPS "websecure"
/* HSTS max-age when serve.hsts is on: a year, as browsers' preload lists ask. */
#define LP_EDGE_HSTS_SECONDS "31536000"
#define LP_EDGE_SERVE_PORT   LP_SERVE_PORT /* where Traefik and the probe reach nginx */
#define LP_EDGE_RETRIES      "5"
/* Between retries: long enough for the passive health check to mark the failed server down. */
#define LP_EDGE_RETRY_WAIT "10ms"
#define LP_EDGE_MAX_LABELS 32
/* Traefik's own health check of every serve container: how a drained container leaves the
 * rotation before it stops (see LP_SERVE_DRAIN_DIR). */
#define LP_EDGE_HEALTH_INTERVAL "1s"
#define LP_EDGE_HEALTH_TIMEOUT  "500ms"
/* How long a server that refused a connection stays out of the rotation. */
#define LP_EDGE_FAILURE_WINDOW "1s"
#define LP_EDGE_NAME_MAX       160 /* service name: "<instance>-<site>" */
/* a router or middleware name: the service's, "-" and a hash of what it routes, and a suffix */
#define LP_EDGE_ROUTER_MAX (LP_EDGE_NAME_MAX + 32)
/* The router of a site's revision permalinks: "<service>-permalinks" (docs/previews.md). */
#define LP_EDGE_PERMALINK_SUFFIX "-permalinks"
/* Host(`<site>.<base>`) || ... of up to LP_SITE_DOMAINS_MAX domains, wildcards as HostRegexp */
#define LP_EDGE_RULE_MAX      8192
#define LP_EDGE_KEY_MAX       256
#define LP_EDGE_VALUE_MAX     512
#define LP_EDGE_API_TIMEOUT   2000 /* ms for one question to Traefik's API */
#define LP_EDGE_API_BODY_MAX  ((size_t)1 << 20)
#define LP_EDGE_PROBE_TIMEOUT 1000 /* ms for a serve container to answer its health path */

typedef struct lp_edge_labels {
	lp_docker_kv kv[LP_EDGE_MAX_LABELS];
	size_t n;
	char service[LP_EDGE_NAME_MAX]; /* Traefik's service: what lp_edge_server_state asks of */
	char
	    router[LP_EDGE_ROUTER_MAX]; /* the http router; the https one adds LP_EDGE_TLS_SUFFIX */
	char rule[LP_EDGE_RULE_MAX];
	int port; /* where Traefik reaches a container: nginx's, or an app's run.port */
	char keys[LP_EDGE_MAX_LABELS][LP_EDGE_KEY_MAX];
	char values[LP_EDGE_MAX_LABELS][LP_EDGE_VALUE_MAX];
} lp_edge_labels;

#define LP_EDGE_TLS_SUFFIX "-tls"

/*
 * The Traefik labels of site's serve containers on network (the one Traefik shares): its host
 * <site>.<base-domain> and spec's domains; with cfg->https an HTTPS router too (spec's
 * httpsRedirect and hsts take effect only then). spec may be NULL: no domains, no options. An
 * app's (spec.run) service goes to run.port and checks run.healthCheck.path, with no permalinks.
 */
int lp_edge_labels_build(lp_edge_labels *out, const lp_config *cfg, const char *site,
                         const lp_site *spec, const char *network, lp_error *err) LP_MUST_CHECK;

/* What Traefik does with one server of a service. */
typedef enum lp_edge_server {
	LP_EDGE_ABSENT, /* not among the service's servers (or no such service yet) */
	LP_EDGE_UP,     /* listed, and traffic goes there */
	LP_EDGE_DOWN,   /* listed, but a health check holds it out of the rotation */
} lp_edge_server;

/*
 * Ask Traefik's API (cfg->traefik_api) about the server at ip:port of service
 * (lp_edge_labels.service and .port).
 * LP_EUNAVAILABLE when the API cannot be reached or answers something unexpected; the caller
 * then falls back to waiting a drain period.
 */
int lp_edge_server_state(lp_edge_server *out, const lp_config *cfg, const char *service,
                         const char *ip, int port, lp_error *err) LP_MUST_CHECK;

/*
 * Ask the serve container at ip itself: *out 1 when GET http://ip:LP_EDGE_SERVE_PORT<path>
 * answers 200 within LP_EDGE_PROBE_TIMEOUT ms. Traefik routes to a container as soon as it runs,
 * before nginx listens; a replacement counts as routed only once it answers too.
 */
int lp_edge_probe(int *out, const char *ip, const char *path) LP_MUST_CHECK;

#endif
