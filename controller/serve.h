/*
 * serve.h: a site's serve containers (nginx behind Traefik, spec.serve.replicas of them): their
 * config file, their spec hash, the networks they need, and zero-downtime changes.
 *
 * A container is created from everything that defines it (image, user, binds, labels, the config
 * file's content), hashed into its launchpad.spec-hash label; containers with the right hash are
 * kept, any other serving container of the site is replaced, by the machinery apps share
 * (controller/rollout.h: slots, replacement once the edge routes every successor, drain,
 * scale-down). Every replica carries the same Traefik labels, so Traefik balances over them as
 * one service. Nothing allocated here outlives a call except *out of lp_serve_write_conf.
 */
#ifndef LAUNCHPAD_CONTROLLER_SERVE_H
#define LAUNCHPAD_CONTROLLER_SERVE_H

#include "controller/controller_internal.h"
#include "launchpad/docker.h"
#include "launchpad/spec.h"

typedef struct lp_serve_result {
	int running;    /* a container of the desired spec runs */
	int requeue_ms; /* > 0: a change (replacement, scaling) is in progress; look again then */
} lp_serve_result;

/*
 * Make the site's serve containers match conf (the content of its nginx config), spec (its
 * replicas, clamped to 1..LP_SITE_REPLICAS_MAX; what the edge routes to them: its domains, HTTPS
 * options) and the rest: nothing else of the site's serve role. observed is the site's containers
 * as the observer lists them.
 */
int lp_serve_ensure(lp_serve_result *out, const lp_parts *p, const char *site, const lp_site *spec,
                    const char *conf, const lp_docker_summaries *observed,
                    lp_error *err) LP_MUST_CHECK;
/* Write conf/<name>.nginx.conf when its content differs; *out gets the content (free it). */
int lp_serve_write_conf(char **out, lp_ctx *ctx, const char *site, const lp_site *spec,
                        lp_error *err) LP_MUST_CHECK;

#endif
