/*
 * context.h: what every part of the controller shares, owned here and nowhere else: the config
 * (borrowed), the Docker handle, a pool of store handles, the counters tests and benchmarks read,
 * the "networks ensured" mark of the current engine connection, the stop flag, and recording
 * events. The bottom of the controller: it includes no other controller header.
 *
 * Thread-safe. lp_ctx_new() borrows cfg (it must outlive the context) and owns the rest; a store
 * handle from lp_ctx_store_acquire() is the caller's until lp_ctx_store_release().
 * lp_ctx_free(NULL) is a no-op.
 */
#ifndef LAUNCHPAD_CONTROLLER_CONTEXT_H
#define LAUNCHPAD_CONTROLLER_CONTEXT_H

#include <stdint.h>

#include "launchpad/config.h"
#include "launchpad/docker.h"
#include "launchpad/error.h"
#include "launchpad/store.h"

#define LP_CTX_STORE_POOL 8

typedef struct lp_ctx lp_ctx;

typedef enum lp_ctx_counter {
	LP_CTR_FILE_WRITES,      /* files, links and directories created, replaced or removed */
	LP_CTR_STATUS_WRITES,    /* status rows actually written */
	LP_CTR_RECONCILES,       /* reconcile passes */
	LP_CTR_BUILDS_STARTED,   /* build threads started */
	LP_CTR_GC_REMOVED,       /* containers and paths removed by garbage collection */
	LP_CTR_FIREWALL_WRITES,  /* iptables changes (host isolation) */
	LP_CTR_RECONCILE_MS,     /* wall time spent in reconcile passes */
	LP_CTR_RECONCILE_ERRORS, /* passes that ended in an error */
	LP_CTR_COUNT
} lp_ctx_counter;

int lp_ctx_new(lp_ctx **out, const lp_config *cfg, lp_error *err) LP_MUST_CHECK;
void lp_ctx_free(lp_ctx *c);

const lp_config *lp_ctx_cfg(const lp_ctx *c);
lp_docker *lp_ctx_docker(const lp_ctx *c);
/* <data>/db/launchpad.db */
const char *lp_ctx_db_path(const lp_ctx *c);

/* A store handle from the pool, or a newly opened one. */
int lp_ctx_store_acquire(lp_store **out, lp_ctx *c, lp_error *err) LP_MUST_CHECK;
/* Back to the pool (closed when the pool is full). NULL is a no-op. */
void lp_ctx_store_release(lp_ctx *c, lp_store *st);

void lp_ctx_count(lp_ctx *c, lp_ctx_counter which, uint64_t n);
uint64_t lp_ctx_counter_get(const lp_ctx *c, lp_ctx_counter which);

/* Record an event of the site (and log it); a failure to record is logged, not returned. */
void lp_ctx_event(lp_ctx *c, lp_store *st, const char *site_id, lp_store_event_type type,
                  const char *reason, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/*
 * Open a sealed secret for aad with the master key file (loaded on first use, never made here):
 * *out is the clear value (the caller wipes and frees it). The controller's only decryption,
 * for a build's environment.
 */
int lp_ctx_secret_open(char **out, lp_ctx *c, const char *aad, const char *sealed,
                       lp_error *err) LP_MUST_CHECK;

/* Whether the instance's networks were ensured on the current engine connection. */
int lp_ctx_networks_ok(const lp_ctx *c);
void lp_ctx_set_networks_ok(lp_ctx *c, int ok);

/*
 * The serve configs `nginx -t` accepted in this process (with its one serve image), by a hash of
 * their text, the last LP_CTX_PASSED_MAX of them. nginx -t judges the text alone (with the
 * image's own files: mime.types), never a site's files, so the same text passes again: sites
 * with the same rules share one check (a converge of N new sites runs one, not N).
 */
#define LP_CTX_PASSED_MAX 64
int lp_ctx_conf_passed(lp_ctx *c, const char *conf);
void lp_ctx_conf_remember(lp_ctx *c, const char *conf);

/* The controller is stopping: no new builds, and an interrupted build is not superseded. */
int lp_ctx_stopping(const lp_ctx *c);
void lp_ctx_set_stopping(lp_ctx *c);

#endif
