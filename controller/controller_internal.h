/* controller_internal.h: the controller's shared state, seen by its .c files only. */
#ifndef LAUNCHPAD_CONTROLLER_INTERNAL_H
#define LAUNCHPAD_CONTROLLER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "controller/controller.h"
#include "launchpad/docker.h"
#include "controller/queue.h"
#include "launchpad/spec.h"
#include "launchpad/store.h"

#define LP_CTRL_STORE_POOL 8
#define LP_CTRL_MAX_BUILDS 2

/* What the controller last saw of one site's containers (a watch-fed cache). */
struct lp_observed {
	char *site;
	int valid;    /* 0: re-list this site before trusting it */
	uint64_t gen; /* the epoch of its last invalidation */
	lp_docker_summaries *containers;
	struct lp_observed *next;
};

/* A build running on its own thread. */
struct lp_inflight {
	char *site;
	long revision;
	atomic_int cancel;
	atomic_int finished;
	pthread_t thread;
	struct lp_controller *ctl;
	lp_site *spec;
	char *source;
	struct lp_inflight *next;
};

struct lp_controller {
	const lp_config *cfg;
	lp_docker *docker;
	char *db_path;

	pthread_mutex_t pool_mu;
	lp_store *pool[LP_CTRL_STORE_POOL];
	int npool;

	lp_queue *queue;

	pthread_mutex_t obs_mu;
	struct lp_observed *observed;
	uint64_t obs_epoch; /* bumped by every invalidation (under obs_mu) */

	pthread_mutex_t builds_mu;
	pthread_cond_t builds_cv;
	struct lp_inflight *builds;
	int nbuilds;

	atomic_int networks_ok;
	atomic_int stopping;
	lp_docker_cancel events_cancel;
	int wake_fd; /* eventfd: wakes the store watcher and resync loop on stop */

	atomic_uint_fast64_t file_writes;
	atomic_uint_fast64_t status_writes;
	atomic_uint_fast64_t reconciles;
	atomic_uint_fast64_t builds_started;
	atomic_uint_fast64_t gc_removed;
};

/* controller.c */
int lp_ctrl_store_acquire(lp_store **out, struct lp_controller *c, lp_error *err);
void lp_ctrl_store_release(struct lp_controller *c, lp_store *st);
char *lp_ctrl_path(const struct lp_controller *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void lp_ctrl_event(struct lp_controller *c, lp_store *st, const char *site_id,
                   lp_store_event_type type, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* observe.c */
int lp_observe_site(lp_docker_summaries **out, struct lp_controller *c, const char *site,
                    lp_error *err);
void lp_observe_invalidate(struct lp_controller *c, const char *site);
/* Replace the whole cache from one list of every container of this instance. */
int lp_observe_resync(struct lp_controller *c, lp_error *err);
void lp_observe_free(struct lp_controller *c);

/* builds.c */
/* The revision being built for site, or 0; *cancelled set when it was asked to stop. */
long lp_builds_inflight(struct lp_controller *c, const char *site);
int lp_builds_start(struct lp_controller *c, const char *site, const lp_site *spec, long revision,
                    const char *source, lp_error *err);
void lp_builds_cancel(struct lp_controller *c, const char *site);
void lp_builds_cancel_all(struct lp_controller *c);
void lp_builds_reap(struct lp_controller *c);

/* serve.c */
typedef struct lp_serve_result {
	int running;    /* a container of the desired spec runs */
	int requeue_ms; /* > 0: a replacement is in progress; look again after this */
} lp_serve_result;

/*
 * Make the site's serve container match: one running container whose hash covers conf (the
 * content of its bound nginx config) and everything else it is created with. A replacement runs
 * beside the old container until the edge routes to it; only then does the old one stop
 * (gracefully) and go, so the site never stops answering.
 */
int lp_serve_ensure(lp_serve_result *out, struct lp_controller *c, const char *site,
                    const char *conf, const lp_docker_summaries *observed, lp_error *err);
/* Write conf/<name>.nginx.conf when its content differs; *out gets the content (free it). */
int lp_serve_write_conf(char **out, struct lp_controller *c, const char *site, const lp_site *spec,
                        lp_error *err);
int lp_serve_ensure_networks(struct lp_controller *c, lp_error *err);

/* datadir.c */
/*
 * With cfg->api_user set (the apiserver runs as that uid:gid, in compose), make the data dir's
 * root, db/ with the store's files and uploads/ theirs; the rest stays the controller's.
 */
int lp_ctrl_prepare_data_dir(const lp_config *cfg, lp_error *err);

/* gc.c */
int lp_gc_site_files(struct lp_controller *c, const char *site, lp_error *err);
int lp_gc_site_containers(struct lp_controller *c, const char *site, lp_error *err);

#endif
