/*
 * controller_internal.h: what the controller's files share: the parts a reconcile works with.
 *
 * Each part owns its state and its lock (context.h, observe.h, builds.h, specs.h, firewall.h);
 * lp_parts only hands the handles around, read-only. The controller (controller.c) creates and
 * frees them.
 */
#ifndef LAUNCHPAD_CONTROLLER_INTERNAL_H
#define LAUNCHPAD_CONTROLLER_INTERNAL_H

#include "controller/applogs.h"
#include "controller/builds.h"
#include "controller/context.h"
#include "controller/firewall.h"
#include "controller/observe.h"
#include "controller/specs.h"

typedef struct lp_parts {
	lp_ctx *ctx;
	lp_observer *obs;
	lp_builds *builds;
	lp_firewall *fw; /* the instance's host isolation rules */
	lp_specs *specs;
	lp_applogs *applogs; /* app containers' output into logs/<site>/app.log */
} lp_parts;

#endif
