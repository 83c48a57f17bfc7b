/* preflight.h: `launchpad-controller --preflight`, a read-only check of the Docker side. */
#ifndef LAUNCHPAD_CONTROLLER_PREFLIGHT_H
#define LAUNCHPAD_CONTROLLER_PREFLIGHT_H

#include <stdio.h>

#include "launchpad/config.h"

/*
 * Report the engine version, the negotiated API version, whether cfg's serve and build images
 * are present and whether the instance's networks exist, on out. Makes no Docker writes.
 * Returns the process exit status: 0 all good (missing networks are only a note: the controller
 * creates them), 1 Docker unreachable (the message names the socket) or an image missing (the
 * message names the image).
 */
int lp_preflight_run(const lp_config *cfg, FILE *out);

/*
 * `--healthcheck`: 0 when the engine answers and the store file exists (the controller has
 * prepared the data dir), 1 otherwise with the reason on out. Quick and read-only.
 */
int lp_preflight_health(const lp_config *cfg, FILE *out);

#endif
