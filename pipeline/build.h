/*
 * build.h: build one revision of a site, from its source to a published revisions/<n>/
 * (the pipeline layer: sources → build → publish).
 *
 * lp_build_revision fetches the revision's source (an uploaded archive or one Git commit) into a
 * fresh workspace <data>/work/<name>-<n>/, runs the site's build command in an ephemeral sandboxed
 * container build-<name>-<n> (see docs/builds.md), and publishes the output directory into
 * <data>/sites/<name>/revisions/<n>/. Everything is written to the revision's log
 * <data>/logs/<name>/<n>.log, one timestamped line at a time, so a reader can follow it live.
 * It never switches `current` and never prunes: the controller does that.
 *
 * Idempotent: a revision already published is left alone (no file or Docker writes); leftovers of
 * a crashed attempt (temp copies, workspace, container) are removed before a fresh one. On every
 * path the container, the workspace and temporary copies are gone when it returns.
 *
 * Ownership: the request and everything it points to are borrowed for the duration of the call
 * (cancel may be flipped from any thread meanwhile); the result is a plain value. Safe to run
 * concurrently for different (site, revision) pairs; one pair must not be built twice at once.
 */
#ifndef LAUNCHPAD_PIPELINE_BUILD_H
#define LAUNCHPAD_PIPELINE_BUILD_H

#include <stdatomic.h>
#include <stdint.h>

#include "launchpad/config.h"
#include "launchpad/docker.h"
#include "launchpad/error.h"
#include "launchpad/fs.h"
#include "launchpad/spec.h"

/* The sandbox's resource limits (docs/builds.md). */
#define LP_BUILD_MEMORY_BYTES ((int64_t)2 << 30)
#define LP_BUILD_NANO_CPUS    1500000000LL
#define LP_BUILD_PIDS_LIMIT   512
#define LP_BUILD_TMPFS_OPTS   "rw,nosuid,nodev,size=512m"
#define LP_BUILD_DEFAULT_UID  1000u
#define LP_BUILD_DEFAULT_GID  1000u
/* Build output written to the log; past it, lines are counted out but not logged. */
#define LP_BUILD_LOG_OUTPUT_MAX ((uint64_t)32 << 20)
/* Room for what a revision was built from: a commit SHA or "sha256:<64 hex>". */
#define LP_BUILD_SOURCE_MAX 80
/* Longest a missing build or serve image may take to pull. */
#define LP_BUILD_PULL_TIMEOUT_MS (10 * 60 * 1000)
/* Lines of build output quoted in the error of a failed build. */
#define LP_BUILD_TAIL_LINES 10

typedef struct lp_build_request {
	const lp_config *cfg;
	lp_docker *docker;
	const char *site_name;
	const lp_site *spec;
	long revision;      /* n >= 1 */
	const char *source; /* 40-hex commit, "sha256:<hex>" digest, or "" / NULL: from spec */
	const atomic_int *cancel; /* optional; non-zero: stop now (superseded, shutting down) */
	unsigned build_uid;       /* 0: LP_BUILD_DEFAULT_UID (the build never runs as root) */
	unsigned build_gid;       /* 0: LP_BUILD_DEFAULT_GID */
} lp_build_request;

typedef struct lp_build_result {
	char resolved_source[LP_BUILD_SOURCE_MAX]; /* commit SHA built, or the archive digest; when
	                             already_ready, the request's source (empty for a branch-head
	                             git request) */
	int exit_code;                             /* of the build command; -1 when none ran */
	int timed_out;                             /* the build was killed at its deadline */
	int64_t duration_ms;                       /* the whole call */
	int already_ready;                         /* revisions/<n> was complete: nothing done */
	char log_path[LP_FS_PATH_MAX];
} lp_build_result;

/*
 * Build revision req->revision of req->site_name. LP_OK when revisions/<n> is published (or
 * already was). Failures: LP_EBUILD (the command exited non-zero; err quotes its last lines),
 * LP_ETIMEOUT ("build timed out after N s"), LP_ECANCELED (req->cancel), LP_ENOTFOUND (upload or
 * build image missing, outputDir absent), LP_EINVAL (bad request or spec), and whatever the
 * source fetch, the Docker engine or the publish step report. out is always filled.
 */
int lp_build_revision(lp_build_result *out, const lp_build_request *req, lp_error *err);

#endif
