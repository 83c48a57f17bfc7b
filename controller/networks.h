/*
 * networks.h: the instance's networks, the sites network (internal: no egress, shared with
 * Traefik), the build network (egress, for npm) and, once an app runs, the apps network
 * (egress, no traffic between containers), and their isolation from the host's own
 * services (controller/firewall.h, unless --host-isolation=false).
 *
 * Ensured once per engine connection (the context's mark), the firewall's rules read again every
 * LP_FIREWALL_RECHECK_MS; a steady pass costs nothing. Isolation needs the controller in the
 * host's network namespace (the bridges are interfaces there) with root: otherwise ensuring fails,
 * with the reason, and so does every build and serve step that needs the networks.
 * Nothing is allocated beyond a call.
 */
#ifndef LAUNCHPAD_CONTROLLER_NETWORKS_H
#define LAUNCHPAD_CONTROLLER_NETWORKS_H

#include "controller/controller_internal.h"

int lp_networks_ensure(const lp_parts *p, lp_error *err) LP_MUST_CHECK;

/*
 * The apps' egress network (not internal, no traffic between its containers), made the first
 * time an app container is, and from then on isolated from the host like the others; its name
 * into out. One read when it exists.
 */
int lp_networks_ensure_apps(const lp_parts *p, char *out, size_t outlen,
                            lp_error *err) LP_MUST_CHECK;

/*
 * The platform going away: the build and apps networks and the instance's firewall rules (the sites
 * network stays: compose may own it, and Traefik is still attached).
 */
int lp_networks_teardown(const lp_parts *p, lp_error *err) LP_MUST_CHECK;

#endif
