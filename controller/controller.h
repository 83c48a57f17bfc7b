/*
 * controller.h: the reconcile loop that makes Docker and the disk match the store.
 *
 * The controller owns everything it creates: containers labelled launchpad.instance=<instance>,
 * and under the data dir sites/, conf/, logs/, work/ and cache/. A reconcile gets only a site name,
 * re-reads desired state (store) and actual state (its containers, sites/<name>/), and acts on the
 * difference; it never depends on which event woke it, and with nothing to change it writes
 * nothing. Builds run on their own threads so a slow build never blocks another site's healing;
 * reconcile starts, supersedes and observes them.
 *
 * Ownership: lp_controller_new() borrows cfg (it must outlive the controller) and owns everything
 * else it opens; lp_controller_free(NULL) is a no-op.
 */
#ifndef LAUNCHPAD_CONTROLLER_H
#define LAUNCHPAD_CONTROLLER_H

#include <stdint.h>

#include "launchpad/config.h"
#include "launchpad/error.h"

typedef struct lp_controller lp_controller;

typedef enum lp_reconcile_outcome {
	LP_RECONCILE_OK = 0,  /* converged, or waiting for a build that will wake us */
	LP_RECONCILE_ERROR,   /* failed: retry with per-key backoff */
	LP_RECONCILE_REQUEUE, /* come back after requeue_after_ms */
	LP_RECONCILE_TERMINAL /* cannot make progress until the spec changes: do not retry */
} lp_reconcile_outcome;

typedef struct lp_reconcile_result {
	lp_reconcile_outcome outcome;
	uint64_t requeue_after_ms;
} lp_reconcile_result;

/* Counters for tests, benchmarks and metrics. */
typedef struct lp_controller_stats {
	uint64_t docker_reads;
	uint64_t docker_writes;
	uint64_t docker_write_ms; /* wall time in those writes, summed over the threads */
	uint64_t file_writes;     /* files, links and directories created, replaced or removed */
	uint64_t status_writes;   /* status rows actually written */
	uint64_t reconciles;
	uint64_t builds_started;
	uint64_t gc_removed;       /* containers and paths removed by garbage collection */
	uint64_t firewall_writes;  /* iptables changes made to isolate the networks from the host */
	uint64_t reconcile_ms;     /* wall time in reconcile passes */
	uint64_t reconcile_errors; /* passes that ended in an error */
	uint64_t queue_depth;      /* now: keys waiting to be reconciled */
	uint64_t builds_running;   /* now */
} lp_controller_stats;

int lp_controller_new(lp_controller **out, const lp_config *cfg, lp_error *err);
void lp_controller_free(lp_controller *c);

/*
 * Start-up recovery and garbage collection: revisions left building become interrupted; build
 * containers, work dirs and partial revisions from a crashed run are removed; containers and
 * directories of sites that no longer exist are removed. Only ever touches what carries this
 * instance's label or lives under its data dir.
 */
int lp_controller_gc(lp_controller *c, lp_error *err);

/*
 * Remove every serve and build container of this instance and its build network (not the data
 * dir: a later start serves every site again). The platform going away (compose down) calls it.
 */
int lp_controller_teardown(lp_controller *c, lp_error *err);

/* One level-triggered pass over one site. */
int lp_controller_reconcile(lp_reconcile_result *out, lp_controller *c, const char *name,
                            lp_error *err);

/*
 * Run until lp_controller_stop(): gc, then workers, the store watch (inotify), the Docker events
 * watch and the periodic resync. On stop, running builds get grace_seconds to finish, then are
 * cancelled. Returns LP_OK after a clean stop.
 */
int lp_controller_run(lp_controller *c, int grace_seconds, lp_error *err);

/*
 * One full resync, inline on the calling thread: a single list of this instance's containers,
 * then a reconcile of every site in the store. out (may be NULL) gets the number of sites. This
 * is what the periodic resync amounts to; benchmarks and tests call it to measure a pass.
 */
int lp_controller_resync_pass(size_t *out, lp_controller *c, lp_error *err);

/* Ask a running controller to stop (safe from any thread, not from a signal handler). */
void lp_controller_stop(lp_controller *c);

/* Block until no build is running (or timeout_ms passes: LP_ETIMEOUT). For tests. */
int lp_controller_wait_builds(lp_controller *c, int timeout_ms);

void lp_controller_stats_get(lp_controller_stats *out, lp_controller *c);

#endif
