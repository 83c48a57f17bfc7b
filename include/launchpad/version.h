/*
 * version.h: the LaunchPad release every binary reports (CLI `version`, the API's /healthz).
 * A plain constant; nothing to free.
 */
#ifndef LAUNCHPAD_VERSION_H
#define LAUNCHPAD_VERSION_H

#define LP_VERSION "0.1.0"

#endif
