/*
 * serve.h: a site's serve container (nginx behind Traefik): its config file, its spec hash, the
 * networks it needs, and a zero-downtime replacement when the spec changes.
 *
 * The container is created from everything that defines it (image, binds, labels, the config
 * file's content), hashed into its launchpad.spec-hash label; a container with the right hash is
 * kept, anything else of the site's serve role is replaced. A replacement runs beside the old
 * container until the edge routes to it (controller/edge.h); only then does the old one stop,
 * gracefully, and go. Nothing allocated here outlives a call except *out of lp_serve_write_conf.
 */
#ifndef LAUNCHPAD_CONTROLLER_SERVE_H
#define LAUNCHPAD_CONTROLLER_SERVE_H

#include "controller/controller_internal.h"
#include "launchpad/docker.h"
#include "launchpad/spec.h"

typedef struct lp_serve_result {
	int running;    /* a container of the desired spec runs */
	int requeue_ms; /* > 0: a replacement is in progress; look again after this */
} lp_serve_result;

/*
 * Make the site's serve containers match conf (the content of its nginx config), spec (what the
 * edge routes to them: its domains, HTTPS options) and the rest.
 */
int lp_serve_ensure(lp_serve_result *out, const lp_parts *p, const char *site, const lp_site *spec,
                    const char *conf, const lp_docker_summaries *observed,
                    lp_error *err) LP_MUST_CHECK;
/* Write conf/<name>.nginx.conf when its content differs; *out gets the content (free it). */
int lp_serve_write_conf(char **out, lp_ctx *ctx, const char *site, const lp_site *spec,
                        lp_error *err) LP_MUST_CHECK;
/* The sites network (internal, shared with Traefik) and the build network, once per engine
 * connection. */
int lp_serve_ensure_networks(lp_ctx *ctx, lp_error *err) LP_MUST_CHECK;

#endif
