/*
 * applogs.h: the app log pump. The stdout and stderr of every dynamic app container (role app)
 * go into logs/<site>/app.log, one line each:
 *
 *   <time> r<revision> <stdout|stderr> <text>
 *
 * <time> is the engine's own (RFC 3339 UTC, nine fixed digits of nanoseconds, so the file sorts
 * and compares as text), a line is cut at LP_APPLOGS_LINE_MAX bytes (marked "…"), and the file
 * moves to app.log.1 when the next line would take it past LP_APPLOGS_FILE_MAX (two parts kept:
 * at most 2 × LP_APPLOGS_FILE_MAX per site). The apiserver reads it; nothing else writes it.
 *
 * One follower thread per followed container streams its output (logs?follow=1&timestamps=1)
 * from the start it left off at: the newest time this file holds for the container's revision
 * (since=, and the lines at that very time already written are skipped), so a controller restart
 * neither repeats nor loses lines. A revision without a line in the file is read from its start:
 * the file cannot tell a container never followed from one whose lines all rotated away (it was
 * quiet through 2 × LP_APPLOGS_FILE_MAX of a sibling's), and losing lines is the worse of the two.
 * Two containers of one revision (a replacement without a new revision) share its resume point:
 * the newer one's lines older than the other's last are skipped. A follower ends when its
 * container stops; a container that stopped while nothing followed it is read to its end once.
 * lp_applogs_sync makes no Docker call of its own: a follower is started once and streams.
 *
 * Ownership and threads: lp_applogs_new borrows docker and data_dir (both must outlive the
 * pump); lp_applogs_free cancels and joins every follower (NULL: no-op). lp_applogs_sync may be
 * called from any thread; it only reads observed, during the call.
 */
#ifndef LAUNCHPAD_CONTROLLER_APPLOGS_H
#define LAUNCHPAD_CONTROLLER_APPLOGS_H

#include <stdint.h>

#include "launchpad/docker.h"
#include "launchpad/error.h"

/* Containers followed at once, over every site: one thread and one engine connection each. */
#define LP_APPLOGS_FOLLOWERS_MAX 128
/* A line of the app's longer than this is cut: below the engine's own 16 KiB pieces, so a cut
 * line's later pieces (each with its own time prefix) are dropped with it. */
#define LP_APPLOGS_LINE_MAX 4096
/* app.log's size cap; at most two parts (app.log, app.log.1) are kept. */
#define LP_APPLOGS_FILE_MAX ((int64_t)1 << 20)

typedef struct lp_applogs lp_applogs;

typedef struct lp_applogs_stats {
	uint64_t followers_started; /* follower threads started */
	uint64_t lines_written;     /* lines appended to app.log files */
	uint64_t rotations;         /* app.log moved to app.log.1 */
	int followers_running;      /* follower threads not finished yet */
} lp_applogs_stats;

/* file_max: the app.log cap (0: LP_APPLOGS_FILE_MAX); tests set a small one. */
int lp_applogs_new(lp_applogs **out, lp_docker *docker, const char *data_dir, int64_t file_max,
                   lp_error *err) LP_MUST_CHECK;
void lp_applogs_free(lp_applogs *a);

/*
 * observed: the site's containers (any state, any role) as the reconcile saw them. Every app
 * container that runs, or stopped unread, gets a follower; entries of containers gone from the
 * list are forgotten once their follower ended. Nothing here fails the reconcile: a follower
 * that cannot start (the cap, no thread) is logged and tried again at the next sync.
 */
void lp_applogs_sync(lp_applogs *a, const char *site, const lp_docker_summaries *observed);

void lp_applogs_stats_get(lp_applogs_stats *out, lp_applogs *a);

#endif
