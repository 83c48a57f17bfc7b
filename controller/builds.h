/*
 * builds.h: builds on their own threads, so a slow or hung build never delays another site's
 * healing. A reconcile starts, observes, supersedes and cancels them; each build records its
 * revision's progress and events in the store and, when it ends, reports through the done
 * callback (the controller queues the site, so the next reconcile sees the result).
 *
 * Thread-safe; lp_builds owns its threads, its list and its lock. lp_builds_new() borrows ctx
 * (it must outlive the builds). lp_builds_free() cancels what runs, waits up to 10 s, and frees;
 * when a build is still running then it leaks on purpose rather than free what a thread uses.
 * lp_builds_free(NULL) is a no-op.
 */
#ifndef LAUNCHPAD_CONTROLLER_BUILDS_H
#define LAUNCHPAD_CONTROLLER_BUILDS_H

#include "controller/context.h"
#include "launchpad/error.h"
#include "launchpad/spec.h"

#define LP_BUILDS_MAX 2 /* builds running at once */

typedef struct lp_builds lp_builds;

/* Called on the build's thread once the build of site has ended (any outcome). */
typedef void (*lp_builds_done_fn)(void *ctx, const char *site);

int lp_builds_new(lp_builds **out, lp_ctx *ctx, lp_builds_done_fn done, void *done_ctx,
                  lp_error *err) LP_MUST_CHECK;
/* Returns -1 (and frees nothing) when builds still run after the grace period. */
int lp_builds_free(lp_builds *b);

/* The revision being built for site, or 0. */
long lp_builds_inflight(lp_builds *b, const char *site);
/*
 * Build revision of site (spec and source are copied). LP_EUNAVAILABLE when every slot is busy,
 * LP_ECONFLICT when site already has a build, LP_ECANCELED once stopping.
 */
int lp_builds_start(lp_builds *b, const char *site, const lp_site *spec, long revision,
                    const char *source, lp_error *err) LP_MUST_CHECK;
/*
 * Run fn(ctx) under the builds' lock when no build of site runs, so no build of it can start
 * meanwhile (fn must be quick: a rename, not a tree removal). 1 when fn ran.
 */
int lp_builds_if_idle(lp_builds *b, const char *site, void (*fn)(void *ctx), void *ctx);
void lp_builds_cancel(lp_builds *b, const char *site);
void lp_builds_cancel_all(lp_builds *b);
/* Join the threads of finished builds. */
void lp_builds_reap(lp_builds *b);
/* Builds running now. */
int lp_builds_running(lp_builds *b);
/* Block until no build runs, or timeout_ms passes (LP_ETIMEOUT). */
int lp_builds_wait(lp_builds *b, int timeout_ms) LP_MUST_CHECK;

#endif
