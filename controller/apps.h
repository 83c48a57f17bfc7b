/*
 * apps.h: a dynamic app's containers (spec.run, docs/apps.md) in place of nginx's.
 *
 * One container per replica runs one revision: sites/<name>/revisions/<n> bound read only at
 * /app, `sh -c` the run command as uid 1000 with no capability, no new privileges, a read-only
 * root and a small /tmp, the spec's memory and CPU limits, on the internal sites network (where
 * Traefik reaches run.port) and the apps network for egress. Docker's health check runs the
 * static probe bound at /.launchpad/lp-probe (controller/probe/lp_probe.c), so Traefik, which
 * leaves out containers that are not healthy, never routes one before it answers.
 *
 * A new revision (target) starts beside the one serving (current) through rollout.h; current
 * moves to it only once it is healthy and routed (switch_current), the old one drained and
 * stopped. One that never becomes healthy within startSeconds, or exits before it ever did
 * while another revision serves, fails (target_failed, with the probe's last answer or its exit
 * code and last output) and its containers go. The serving revision's container that keeps
 * exiting is left to Docker's restart backoff and reported as a crash loop: removing it would
 * reset the backoff. Nothing allocated here outlives a call.
 */
#ifndef LAUNCHPAD_CONTROLLER_APPS_H
#define LAUNCHPAD_CONTROLLER_APPS_H

#include "controller/controller_internal.h"
#include "launchpad/docker.h"
#include "launchpad/spec.h"

/* The stored message of a revision that failed its health check starts so (HealthCheckFailed). */
#define LP_APPS_HEALTH_FAILED "health check failed: "
#define LP_APPS_MESSAGE_MAX   1024

/* Where the app's containers stand. */
typedef enum lp_app_health {
	LP_APP_NONE,      /* no container of the watched revision (yet) */
	LP_APP_STARTING,  /* running, not healthy yet */
	LP_APP_HEALTHY,   /* at least one container healthy */
	LP_APP_UNHEALTHY, /* running, its health check fails */
	LP_APP_CRASHLOOP, /* it keeps exiting; Docker restarts it with a growing backoff */
} lp_app_health;

typedef struct lp_apps_result {
	long serving;       /* the revision whose containers serve after this pass; 0: none */
	int switch_current; /* the rollout to target is done: `current` points at it from now */
	int target_failed;  /* target failed its health check (message); its containers are gone */
	lp_app_health health;
	int requeue_ms; /* > 0: look again then (a rollout, or a state status must follow) */
	char message[LP_APPS_MESSAGE_MAX]; /* target_failed, UNHEALTHY, CRASHLOOP: why */
} lp_apps_result;

/*
 * Run the site's app: target the revision to serve (the desired one once published, else
 * current), current the one `current` points at (0: none). observed is the site's containers.
 */
int lp_apps_ensure(lp_apps_result *out, const lp_parts *p, const char *site, const lp_site *spec,
                   long target, long current, const lp_docker_summaries *observed,
                   lp_error *err) LP_MUST_CHECK;

#endif
