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
/*
 * A build container's json-file log. The engine's log follower (20.10) loses lines across a
 * rotation (19.8 of 40.4 MB read back in a test), so one file holds what the build logs
 * (LP_BUILD_LOG_OUTPUT_MAX, plus json-file's ~65 bytes a line) before it rotates; at most 200 MB
 * per running build, removed with its container. Serve containers take --container-log-max-size.
 */
#define LP_BUILD_LOG_FILE_SIZE "100m"
#define LP_BUILD_LOG_FILES     2
/* Room for what a revision was built from: a commit SHA or "sha256:<64 hex>". */
#define LP_BUILD_SOURCE_MAX 80
/* Longest a missing build or serve image may take to pull. */
#define LP_BUILD_PULL_TIMEOUT_MS (10 * 60 * 1000)
/* Lines of build output quoted in the error of a failed build. */
#define LP_BUILD_TAIL_LINES 10
/*
 * An interrupted attempt (the container killed or removed from outside without an OOM kill, the
 * engine unreachable mid-build) is retried this many times, after LP_BUILD_RETRY_BASE_MS, then
 * twice that, and so on; an engine restart takes seconds, so the waits span about half a minute.
 */
#define LP_BUILD_RETRIES       3
#define LP_BUILD_RETRY_BASE_MS 5000
/* A build below the free-space floor looks again this often, and says so again this often. */
#define LP_BUILD_DISK_POLL_MS   2000
#define LP_BUILD_DISK_REPORT_MS 30000
/*
 * The disk watchdog measures the workspace and cache at most this often, and waits ten times as
 * long as a measurement took before the next one, so measuring costs at most ~10% of one core.
 */
#define LP_BUILD_DISK_STEP_MS 1000

/* What a progress line is about. */
typedef enum lp_build_status {
	LP_BUILD_STATUS_BUILDING = 0, /* going on (again) */
	LP_BUILD_STATUS_WAITING_DISK, /* below the free-space floor, waiting */
	LP_BUILD_STATUS_RETRYING      /* an attempt was interrupted; the next one comes */
} lp_build_status;

/* A build's progress the caller may show, one line of text. */
typedef void (*lp_build_status_fn)(void *ctx, lp_build_status status, const char *message);

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
	int64_t memory_bytes;     /* the container's memory cap; 0: LP_BUILD_MEMORY_BYTES */
	int retry_base_ms;        /* first wait before retrying; 0: LP_BUILD_RETRY_BASE_MS */
	/* a private repository's HTTPS credential (lp_gitsrc_request); NULL: none */
	const char *git_username;
	const char *git_password;
	lp_build_status_fn on_status; /* optional; called on the build's thread */
	void *status_ctx;
} lp_build_request;

typedef struct lp_build_result {
	char resolved_source[LP_BUILD_SOURCE_MAX]; /* commit SHA built, or the archive digest; when
	                             already_ready, the request's source (empty for a branch-head
	                             git request) */
	int exit_code;                             /* of the build command; -1 when none ran */
	int timed_out;                             /* the build was killed at its deadline */
	int64_t duration_ms;                       /* the whole call */
	int already_ready;                         /* revisions/<n> was complete: nothing done */
	int attempts;             /* attempts made: 1, plus one per interruption retried */
	int interrupted;          /* the last attempt was interrupted (failing: retries ran out) */
	int oom_killed;           /* the build container was killed by the OOM killer */
	uint64_t workspace_bytes; /* disk the workspace and the cache took when the build */
	uint64_t cache_bytes;     /* container ended (du-like, see diskuse.h); 0 without one */
	int64_t disk_wait_ms;     /* time spent waiting for the free-space floor */
	int64_t disk_check_ms;    /* time the disk watchdog and the final measurement took */
	int disk_checks;          /* measurements made (watchdog looks and final ones) */
	char log_path[LP_FS_PATH_MAX];
} lp_build_result;

/*
 * Build revision req->revision of req->site_name. LP_OK when revisions/<n> is published (or
 * already was). Failures: LP_EBUILD (the command exited non-zero, or was killed by the OOM killer:
 * "out of memory: the build used more than N MiB"; err quotes its last lines), LP_ETIMEOUT
 * ("build timed out after N s"), LP_ETOOBIG (the workspace or the cache went over its cap; the
 * message names the cap and the usage), LP_ECANCELED (req->cancel), LP_EUNAVAILABLE (interrupted
 * more than LP_BUILD_RETRIES times), LP_ENOTFOUND (upload or build image missing, outputDir
 * absent), LP_EINVAL (bad request or spec), and whatever the source fetch, the Docker engine or
 * the publish step report. out is always filled.
 *
 * Below the free-space floor (cfg->min_free_mb on the data dir's filesystem) the build waits
 * before each attempt, saying so through on_status and the log, until there is room or it is
 * cancelled. An interrupted attempt is retried with backoff (LP_BUILD_RETRIES); the log keeps
 * every attempt, and only the last one ends with "==> done" or "==> failed".
 */
int lp_build_revision(lp_build_result *out, const lp_build_request *req, lp_error *err);

#endif
