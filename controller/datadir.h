/* datadir.h: the data dir's ownership when the apiserver runs as another user (compose). */
#ifndef LAUNCHPAD_CONTROLLER_DATADIR_H
#define LAUNCHPAD_CONTROLLER_DATADIR_H

#include "launchpad/config.h"
#include "launchpad/error.h"

/*
 * With cfg->api_user set ("uid:gid"), create the store and give the data dir's root, db/ with
 * the store's files and uploads/ to that user; the rest stays the controller's. A no-op otherwise.
 */
int lp_datadir_prepare(const lp_config *cfg, lp_error *err) LP_MUST_CHECK;

#endif
