/*
 * names.h: the names and labels of LaunchPad's Docker objects, the contract between the
 * controller, the edge (Traefik's constraint), compose and the tests. One place.
 *
 * Everything the controller creates carries LP_LABEL_INSTANCE=<instance> and LP_LABEL_SITE=<name>
 * plus a role; container and network names are prefixed by a non-default instance, so two
 * installs share an engine safely. Names are written into caller buffers (LP_NAMES_MAX fits any);
 * LP_ETOOBIG when one does not fit. Nothing is allocated.
 */
#ifndef LAUNCHPAD_NAMES_H
#define LAUNCHPAD_NAMES_H

#include <stddef.h>

#include "launchpad/config.h"
#include "launchpad/error.h"

#define LP_NAMES_DEFAULT_INSTANCE "default"
#define LP_NAMES_SITES_NETWORK    "launchpad-sites" /* internal; shared with Traefik */
#define LP_NAMES_BUILD_NETWORK    "launchpad-build" /* egress allowed (npm) */
#define LP_NAMES_APPS_NETWORK     "launchpad-apps"  /* apps' egress; no traffic between them */
#define LP_NAMES_INSTANCE_MAX     32                /* an instance id is a DNS label this long */
#define LP_NAMES_LABEL_MAX        63                /* a DNS label, and so a site name */
#define LP_NAMES_MAX              256               /* any container, network or label filter */

/* The label keys. */
#define LP_LABEL_INSTANCE  "launchpad.instance"
#define LP_LABEL_SITE      "launchpad.site"
#define LP_LABEL_ROLE      "launchpad.role"
#define LP_LABEL_REVISION  "launchpad.revision"
#define LP_LABEL_SPEC_HASH "launchpad.spec-hash"
/* The values of LP_LABEL_ROLE. The controller creates, and removes, only serve, app and build. */
#define LP_ROLE_SERVE      "serve"
#define LP_ROLE_APP        "app" /* a dynamic app's container (spec.run), in place of serve */
#define LP_ROLE_BUILD      "build"
#define LP_ROLE_EDGE       "edge"       /* the instance's Traefik (scripts/edge.sh, compose) */
#define LP_ROLE_API        "api"        /* the apiserver in compose */
#define LP_ROLE_CONTROLLER "controller" /* the controller in compose */

/*
 * 1 when s is a DNS label of at most max characters: lowercase letters, digits and '-',
 * starting and ending with a letter or digit. Site names and instance ids are.
 */
int lp_names_dns_label(const char *s, size_t max);

/* "key=value" as a Docker label filter, into out. */
int lp_names_label_filter(char *out, size_t outlen, const char *key,
                          const char *value) LP_MUST_CHECK;

/*
 * Write base, or "<instance>-<base>" when instance is not "default", into out (outlen bytes), so
 * two instances on one engine never collide. LP_ETOOBIG when it does not fit, LP_EINVAL for an
 * empty base or instance.
 */
int lp_names_instance(char *out, size_t outlen, const char *instance, const char *base,
                      lp_error *err) LP_MUST_CHECK;

/* The serving network's name: cfg->sites_network when set, else derived from the instance. */
int lp_names_sites_network(char *out, size_t outlen, const lp_config *cfg,
                           lp_error *err) LP_MUST_CHECK;
/* The build network's name for instance. */
int lp_names_build_network(char *out, size_t outlen, const char *instance,
                           lp_error *err) LP_MUST_CHECK;
/* The apps' egress network's name for instance. */
int lp_names_apps_network(char *out, size_t outlen, const char *instance,
                          lp_error *err) LP_MUST_CHECK;
/* "deploy-<site>", prefixed like the networks. */
int lp_names_serve_container(char *out, size_t outlen, const char *instance, const char *site,
                             lp_error *err) LP_MUST_CHECK;
/* "build-<site>-<revision>", prefixed like the networks. */
int lp_names_build_container(char *out, size_t outlen, const char *instance, const char *site,
                             long revision, lp_error *err) LP_MUST_CHECK;

#endif
