/*
 * observe.h: what the controller knows of its containers: a cache fed by one label-filtered list
 * per resync and invalidated, site by site, by Docker events.
 *
 * A reconcile asks for one site's containers: a valid cache entry answers without a Docker call;
 * an invalidated one (an event came in, or the controller itself changed something) lists that
 * site alone. An entry listed while an invalidation raced the list is not trusted (epochs), so an
 * event is never lost behind a stale list.
 *
 * Thread-safe; the observer owns its cache and its lock. lp_observer_new() borrows docker (it
 * must outlive the observer). What comes back through *out is a deep copy the caller frees with
 * lp_docker_summaries_free(). lp_observer_free(NULL) is a no-op.
 */
#ifndef LAUNCHPAD_CONTROLLER_OBSERVE_H
#define LAUNCHPAD_CONTROLLER_OBSERVE_H

#include "launchpad/docker.h"
#include "launchpad/error.h"

typedef struct lp_observer lp_observer;

int lp_observer_new(lp_observer **out, lp_docker *docker, const char *instance,
                    lp_error *err) LP_MUST_CHECK;
void lp_observer_free(lp_observer *o);

/* The containers of site (any state). */
int lp_observer_site(lp_docker_summaries **out, lp_observer *o, const char *site,
                     lp_error *err) LP_MUST_CHECK;
/* Forget what is known of site: its next lookup lists it again. */
void lp_observer_invalidate(lp_observer *o, const char *site);
/* Replace the whole cache from one list of every container of the instance. */
int lp_observer_resync(lp_observer *o, lp_error *err) LP_MUST_CHECK;

#endif
