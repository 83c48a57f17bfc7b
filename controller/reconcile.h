/*
 * reconcile.h: one level-triggered pass over one site.
 *
 * It gets only a name, re-reads desired state (the store) and actual state (its containers
 * through the observer, sites/<name>/ on disk), and acts on the difference: build, publish,
 * switch, serve, remove; then writes status, only when a field changed. It never depends on
 * which event woke it, and with nothing to change it writes nothing. The outcome says what the
 * caller (a worker) does next: nothing (ok), retry with backoff (error), come back after a delay
 * (requeue), or give up until the spec changes (terminal).
 */
#ifndef LAUNCHPAD_CONTROLLER_RECONCILE_H
#define LAUNCHPAD_CONTROLLER_RECONCILE_H

#include "controller/controller.h"
#include "controller/controller_internal.h"

int lp_reconcile(lp_reconcile_result *out, const lp_parts *p, const char *name, lp_error *err);

#endif
