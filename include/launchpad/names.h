/* names.h: the Docker object names the controller uses, prefixed per instance (one place). */
#ifndef LAUNCHPAD_NAMES_H
#define LAUNCHPAD_NAMES_H

#include <stddef.h>

#include "launchpad/config.h"
#include "launchpad/error.h"

#define LP_NAMES_DEFAULT_INSTANCE "default"
#define LP_NAMES_SITES_NETWORK    "launchpad-sites" /* internal; shared with Traefik */
#define LP_NAMES_BUILD_NETWORK    "launchpad-build" /* egress allowed (npm) */

/*
 * Write base, or "<instance>-<base>" when instance is not "default", into out (outlen bytes), so
 * two instances on one engine never collide. LP_ETOOBIG when it does not fit, LP_EINVAL for an
 * empty base or instance.
 */
int lp_names_instance(char *out, size_t outlen, const char *instance, const char *base,
                      lp_error *err);

/* The serving network's name: cfg->sites_network when set, else derived from the instance. */
int lp_names_sites_network(char *out, size_t outlen, const lp_config *cfg, lp_error *err);
/* The build network's name for instance. */
int lp_names_build_network(char *out, size_t outlen, const char *instance, lp_error *err);
/* "deploy-<site>", prefixed like the networks. */
int lp_names_serve_container(char *out, size_t outlen, const char *instance, const char *site,
                             lp_error *err);
/* "build-<site>-<revision>", prefixed like the networks. */
int lp_names_build_container(char *out, size_t outlen, const char *instance, const char *site,
                             long revision, lp_error *err);

#endif
