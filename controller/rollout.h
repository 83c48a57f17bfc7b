/*
 * rollout.h: the zero-downtime machinery a site's serving containers share, nginx's (serve.c)
 * and an app's (apps.c): replica slots, the view of one pass, replacement, drain, scale-down.
 *
 * A unit is everything that defines the containers of one site's serving role: their spec hash
 * (in the launchpad.spec-hash label), labels, network and edge labels, and how to create one and
 * how to tell that one answers for itself. Containers with the unit's hash are kept; every other
 * serving container of the site (either role: a site that turns into an app, or back, is
 * replaced the same way) is stale and replaced: its successor starts beside it, and only once
 * the edge routes to every successor do the stale ones leave the rotation (drained: the marker
 * sites/<name>/.launchpad-drain/<hostname> turns their health check down), stop gracefully and
 * go. Scaling down drains the extra replicas the same way; scaling up and healing only add
 * containers. Replicas are named by slot (deploy-<site>, deploy-<site>.2, ...).
 *
 * Ownership: a unit is a plain value the caller owns (its labels point into it and into strings
 * that outlive the call); nothing allocated here outlives a call.
 */
#ifndef LAUNCHPAD_CONTROLLER_ROLLOUT_H
#define LAUNCHPAD_CONTROLLER_ROLLOUT_H

#include "controller/controller_internal.h"
#include "controller/edge.h"
#include "launchpad/crypto.h"
#include "launchpad/docker.h"
#include "launchpad/names.h"

#define LP_ROLLOUT_LABELS (LP_EDGE_MAX_LABELS + 6)
/* How soon a reconcile looks again at a replacement in progress. */
#define LP_ROLLOUT_POLL_MS 100

typedef struct lp_rollout_unit lp_rollout_unit;

/* Create (not start) the container called name; a taken name is LP_EEXISTS. */
typedef int (*lp_rollout_create_fn)(char **out_id, lp_ctx *ctx, const lp_rollout_unit *u,
                                    const char *name, lp_error *err);
/* *out 1 when the container (as inspected, at ip on the unit's network) answers for itself. */
typedef int (*lp_rollout_answers_fn)(int *out, const lp_rollout_unit *u,
                                     const lp_docker_container *ct, const char *ip);

struct lp_rollout_unit {
	const char *role;  /* LP_ROLE_SERVE or LP_ROLE_APP: what new containers are */
	const char *image; /* pulled when create finds it missing */
	char name[LP_NAMES_MAX];
	char network[LP_NAMES_MAX];
	char hash[LP_SHA256_HEX_LEN];
	lp_edge_labels edge;
	lp_docker_kv labels[LP_ROLLOUT_LABELS]; /* the hash label last */
	size_t nlabels;
	/*
	 * An app's: a successor is never taken as routed before it answers (no deadline lets an
	 * unhealthy one in), and a container Docker is restarting is still there (its backoff
	 * must not be reset by removing it).
	 */
	int health_gated;
	/* Check that every container of the unit is routed, stale ones or not (an app's first
	 * deploy), into routed; converged then needs it too. */
	int confirm_routed;
	/* Longest a container drains before it stops anyway; 0: the default (5 s) */
	int drain_max_ms;
	lp_rollout_create_fn create;
	lp_rollout_answers_fn answers;
};

typedef struct lp_rollout_result {
	int running;    /* a container of the unit's spec runs */
	int requeue_ms; /* > 0: a change (replacement, scaling) is in progress; look again then */
	int converged;  /* only the unit's containers are left */
	int routed;     /* every container of the unit answers and is routed (checked this pass) */
} lp_rollout_result;

/*
 * Add the unit's labels (instance, site, role, then the edge's; extra ones, such as an app's
 * revision, go in before) and compute the hash of head, the labels and tail (everything that
 * defines the container), appending the hash label. LP_ETOOBIG when they do not fit.
 */
int lp_rollout_unit_seal(lp_rollout_unit *u, const lp_config *cfg, const char *site,
                         const char *head, const char *tail, lp_error *err) LP_MUST_CHECK;

/*
 * Make the site's serving containers match u, replicas of them (clamped to
 * 1..LP_SITE_REPLICAS_MAX). observed is the site's containers as the observer lists them.
 */
int lp_rollout_ensure(lp_rollout_result *out, const lp_parts *p, const char *site,
                      const lp_rollout_unit *u, int replicas, const lp_docker_summaries *observed,
                      lp_error *err) LP_MUST_CHECK;

/* 1 when the container serves a site (role serve or app). */
int lp_rollout_is_serving(const lp_docker_summary *s);

#endif
