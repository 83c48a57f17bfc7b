/*
 * store.h: the SQLite store of desired state (sites, requested revisions, API tokens, webhook
 * deliveries; written by the apiserver) and observed state (status, revision progress, events;
 * written by the controller).
 *
 * Users own sites and tokens (a token speaks for its user, with the user's role).
 *
 * The store does not parse a Site spec: it keeps the canonical spec JSON as text plus its hash and
 * compares hashes to decide whether anything changed. One exception: the custom domains a spec
 * claims (spec.domains, read by SQLite's json_each) are kept in a table whose key makes each
 * domain one site's, written in the same transaction as the spec. Every write runs in one BEGIN
 * IMMEDIATE transaction; desired-state writes check and bump the site's resource_version
 * (optimistic concurrency), controller writes (status, revision progress, events) never bump it.
 *
 * Threads and processes: one lp_store handle per thread (connections are opened
 * SQLITE_OPEN_NOMUTEX, so a handle must never be used by two threads at once). Any number of
 * handles in any number of processes on one host may share one file (WAL, busy timeout 5 s).
 *
 * Ownership: structs and arrays returned through **out belong to the caller and are released with
 * the matching _free function (all accept NULL). Input strings are only borrowed. Times are
 * milliseconds since the Unix epoch; 0 means "not set" (NULL in the database).
 */
#ifndef LAUNCHPAD_STORE_H
#define LAUNCHPAD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "launchpad/error.h"

typedef struct lp_store lp_store;

/* Input limits: longer input is refused (LP_ETOOBIG; a bad name LP_EINVAL) before any I/O. */
#define LP_STORE_NAME_MAX        63         /* site name: a DNS label [a-z0-9-] */
#define LP_STORE_SPEC_MAX        (1 << 20)  /* canonical spec JSON */
#define LP_STORE_TEXT_MAX        4096       /* hashes, sources, messages, reasons, paths */
#define LP_STORE_CONDITIONS_MAX  (64 << 10) /* status conditions JSON */
#define LP_STORE_LIST_MAX        10000      /* rows any list call returns at most */
#define LP_STORE_EVENTS_PER_SITE 500        /* newest events kept per site */
#define LP_STORE_DELIVERIES_KEPT 10000      /* newest webhook deliveries kept overall */
#define LP_STORE_TOKEN_LEN       36         /* "lp_" + 32 hex + NUL */
#define LP_STORE_TOKEN_TOUCH_MS  60000      /* last_used_at is refreshed at most this often */
#define LP_STORE_ID_LEN          37         /* UUID text + NUL */
#define LP_STORE_USER_MAX        64         /* user name: [a-z0-9._-], 1..64 */
#define LP_STORE_USERS_MAX       1000       /* users that may exist */
#define LP_STORE_SESSIONS_MAX    20         /* live login sessions per user (oldest revoked) */
#define LP_STORE_USER_TOKENS_MAX 50         /* live personal tokens per user (admin: no cap) */
#define LP_STORE_ADMIN_USER      1          /* "admin": the bootstrap token's user */

typedef enum lp_store_trigger {
	LP_TRIGGER_CREATE = 0,
	LP_TRIGGER_APPLY,
	LP_TRIGGER_WEBHOOK,
	LP_TRIGGER_REDEPLOY,
	LP_TRIGGER_ROLLBACK,
	LP_TRIGGER_UPLOAD
} lp_store_trigger;

typedef enum lp_store_rev_state {
	LP_REV_PENDING = 0,
	LP_REV_BUILDING,
	LP_REV_READY,
	LP_REV_FAILED,
	LP_REV_SUPERSEDED,
	LP_REV_INTERRUPTED,
	LP_REV_CANCELLED /* by a user (POST .../cancel); final: no later update changes it */
} lp_store_rev_state;
#define LP_REV_STATE_COUNT (LP_REV_CANCELLED + 1)

/* 1 for a state no build leaves again (ready, failed, superseded, interrupted, cancelled). */
int lp_store_rev_state_final(lp_store_rev_state s);

typedef enum lp_store_phase {
	LP_PHASE_PENDING = 0,
	LP_PHASE_DEPLOYING,
	LP_PHASE_LIVE,
	LP_PHASE_FAILED,
	LP_PHASE_DELETING
} lp_store_phase;

typedef enum lp_store_event_type { LP_EVENT_NORMAL = 0, LP_EVENT_WARNING } lp_store_event_type;

/* Lowercase wire names ("webhook", "building", "live"; events "Normal"/"Warning"), never NULL. */
const char *lp_store_trigger_name(lp_store_trigger t);
const char *lp_store_rev_state_name(lp_store_rev_state s);
const char *lp_store_phase_name(lp_store_phase p);
const char *lp_store_event_type_name(lp_store_event_type t);
/* Parse a wire name; LP_EINVAL for anything else. */
int lp_store_trigger_parse(lp_store_trigger *out, const char *s) LP_MUST_CHECK;
int lp_store_rev_state_parse(lp_store_rev_state *out, const char *s) LP_MUST_CHECK;
int lp_store_phase_parse(lp_store_phase *out, const char *s) LP_MUST_CHECK;

/* ---- handle ---------------------------------------------------------------------------------- */

/*
 * Open (creating it and its directory if needed, file mode 0600) and migrate the database at path.
 * LP_EUNSUPPORTED when the file's schema is newer than this build; LP_EUNAVAILABLE when another
 * process holds the write lock past the busy timeout.
 */
int lp_store_open(lp_store **out, const char *path, lp_error *err) LP_MUST_CHECK;
void lp_store_close(lp_store *st);
/* For migration tests: open and migrate only up to schema version (an older file stays older). */
int lp_store_open_at(lp_store **out, const char *path, int version, lp_error *err) LP_MUST_CHECK;

/* Test and tuning knobs: events kept per site and webhook deliveries kept overall (>= 1). */
void lp_store_set_caps(lp_store *st, int events_per_site, int deliveries_kept);

/* The schema version (PRAGMA user_version) of the open file. */
int lp_store_schema_version(int *out, lp_store *st, lp_error *err) LP_MUST_CHECK;

/*
 * PRAGMA data_version: changes whenever ANOTHER handle (thread or process) committed since this
 * handle last looked. No I/O; a poller compares it with the value it saw last.
 */
int lp_store_data_version(int64_t *out, lp_store *st, lp_error *err) LP_MUST_CHECK;

/*
 * A read snapshot: the reads between lp_store_read_begin and lp_store_read_end see one state of
 * the file and pay SQLite's locking once for them all, not once per read (under 32 request
 * threads its shared-memory mutex was the API's bottleneck). A write call in between ends the
 * snapshot first; a token's last use noted during one is recorded when it ends. Begin on a
 * handle already reading and end on one not reading do nothing.
 */
int lp_store_read_begin(lp_store *st, lp_error *err) LP_MUST_CHECK;
void lp_store_read_end(lp_store *st);

/* PRAGMA integrity_check: LP_OK when "ok", else LP_EIO with the first problem reported. */
int lp_store_integrity_check(lp_store *st, lp_error *err) LP_MUST_CHECK;

/* ---- sites (desired state, apiserver) -------------------------------------------------------- */

typedef struct lp_store_site {
	char *id; /* random UUIDv4 */
	char *name;
	char *display_name;
	char *spec_json;
	char *spec_hash;
	int64_t generation;       /* bumped only when spec_hash changes */
	int64_t desired_revision; /* 0 = none */
	char *webhook_secret;
	int64_t created_at;
	int64_t updated_at;
	int64_t deletion_timestamp; /* 0 unless being deleted */
	int64_t resource_version;   /* bumped on every desired-state write to the row */
	int64_t owner_id;           /* the user owning it (LP_STORE_ADMIN_USER for older rows) */
	char *owner;                /* that user's name */
	char *git_credential;       /* sealed "<username>\n<token>" (launchpad/secrets.h), or "" */
	char *parent_id;            /* a preview's owner (docs/previews.md); "" for a site */
} lp_store_site;

typedef struct lp_store_site_new {
	const char *id;             /* NULL: a new one (lp_store_new_id; secrets sealed for it) */
	const char *name;           /* required, DNS label */
	const char *display_name;   /* NULL = "" */
	const char *spec_json;      /* required, canonical */
	const char *spec_hash;      /* required */
	const char *webhook_secret; /* NULL = "" */
	lp_store_trigger trigger;   /* of revision 1 */
	const char *source;         /* of revision 1; NULL = "" (branch head at build time) */
	int64_t owner_id;           /* the owning user; 0 = LP_STORE_ADMIN_USER */
	const char *parent_id;      /* a preview's owner; NULL = "" (a site of its own) */
} lp_store_site_new;

/*
 * Create a site with generation 1, resource_version 1, revision 1 (pending) and
 * desired_revision 1, in one transaction. out (may be NULL) receives the new row.
 * LP_EEXISTS when the name is taken; LP_ECONFLICT, naming the holder, when another site holds
 * one of the spec's domains.
 */
int lp_store_site_create(lp_store_site **out, lp_store *st, const lp_store_site_new *in,
                         lp_error *err) LP_MUST_CHECK;

/* A new random site id (UUIDv4 text), for a site whose secrets are sealed before it is stored. */
int lp_store_new_id(char out[LP_STORE_ID_LEN], lp_error *err) LP_MUST_CHECK;

/* Get one site by name, by id, or by either (id first). LP_ENOTFOUND when absent. */
int lp_store_site_get_by_name(lp_store_site **out, lp_store *st, const char *name,
                              lp_error *err) LP_MUST_CHECK;
int lp_store_site_get_by_id(lp_store_site **out, lp_store *st, const char *id,
                            lp_error *err) LP_MUST_CHECK;
int lp_store_site_get(lp_store_site **out, lp_store *st, const char *name_or_id,
                      lp_error *err) LP_MUST_CHECK;

/* All sites ordered by created_at, then name; sites being deleted only with include_deleted. */
int lp_store_site_list(lp_store_site **out, size_t *out_count, lp_store *st, int include_deleted,
                       lp_error *err) LP_MUST_CHECK;
/* The same, only the sites of user owner_id (0: every user's). */
int lp_store_site_list_owned(lp_store_site **out, size_t *out_count, lp_store *st,
                             int include_deleted, int64_t owner_id, lp_error *err) LP_MUST_CHECK;
/*
 * Replace a site's spec JSON by one with the same spec_hash (rotate-key re-sealing its secrets):
 * nothing else changes, no generation, no revision. LP_ECONFLICT when the stored hash differs
 * (the spec changed meanwhile: read it again).
 */
int lp_store_site_reseal(lp_store *st, const char *site_id, const char *spec_hash,
                         const char *spec_json, lp_error *err) LP_MUST_CHECK;
/*
 * Set (sealed text) or remove ("" or NULL) a site's Git credential. Not part of the spec: no
 * generation, no revision; the next fetch uses what is stored then. resource_version++.
 */
int lp_store_site_set_git_credential(lp_store *st, const char *site_id, const char *sealed,
                                     lp_error *err) LP_MUST_CHECK;
/* Give a site to another user (admins only, the API checks). LP_ENOTFOUND: no such site/user. */
int lp_store_site_set_owner(lp_store *st, const char *site_id, int64_t owner_id,
                            lp_error *err) LP_MUST_CHECK;

/* The previews owned by parent_id (being deleted too), oldest first. */
int lp_store_site_list_children(lp_store_site **out, size_t *out_count, lp_store *st,
                                const char *parent_id, lp_error *err) LP_MUST_CHECK;

void lp_store_site_free(lp_store_site *site);
void lp_store_sites_free(lp_store_site *sites, size_t count);

struct lp_store_status;

/*
 * A position in the order of lp_store_site_list (created_at, then name; names are unique, so
 * the order is total): a walk resumes with the row after it. All zero: before the first row.
 */
typedef struct lp_store_site_cursor {
	int64_t created_at;
	char name[LP_STORE_NAME_MAX + 1];
} lp_store_site_cursor;

/*
 * One row of a walk: the site and its status (NULL when the controller has written none yet),
 * both borrowed for the call only (their strings are the query's). A result other than LP_OK
 * stops the walk, which returns it.
 */
typedef int (*lp_store_site_fn)(void *ctx, const lp_store_site *site,
                                const struct lp_store_status *status);

/*
 * Up to limit sites after *after (NULL: from the first), in list order, each with its status, in
 * one query: fn runs once per row while the query's read snapshot is open, so it must not touch
 * the store. limit is 1..LP_STORE_LIST_MAX. out_next (may be NULL) gets the cursor after the last
 * row given (unchanged input when none was); out_more (may be NULL) 1 when rows follow it.
 * Sites being deleted only with include_deleted; only user owner_id's with owner_id (0: all).
 */
int lp_store_site_walk(lp_store_site_cursor *out_next, int *out_more, lp_store *st,
                       int include_deleted, int64_t owner_id, const lp_store_site_cursor *after,
                       size_t limit, lp_store_site_fn fn, void *ctx, lp_error *err) LP_MUST_CHECK;

/*
 * The site with id, or else name, name_or_id and its status, as one row of a walk: fn gets them
 * borrowed for its call; its result is returned. LP_ENOTFOUND (fn not called) when absent.
 */
int lp_store_site_view(lp_store *st, const char *name_or_id, lp_store_site_fn fn, void *ctx,
                       lp_error *err) LP_MUST_CHECK;

/* How many sites come after *after (NULL: all of them), as lp_store_site_walk would give them. */
int lp_store_site_count(int64_t *out, lp_store *st, int include_deleted, int64_t owner_id,
                        const lp_store_site_cursor *after, lp_error *err) LP_MUST_CHECK;

typedef struct lp_store_update {
	int changed;              /* 0: nothing was written at all */
	int64_t generation;       /* after the call */
	int64_t resource_version; /* after the call */
	int64_t revision;         /* number of the revision requested by this call, 0 = none */
} lp_store_update;

/*
 * Replace the spec of a site (apply). expected_rv is the resource_version the caller read
 * (0 = do not check); a different current value gives LP_ECONFLICT and nothing is written. A
 * site being deleted gives LP_ECONFLICT. When spec_hash and display_name (NULL = keep) both
 * equal the stored ones nothing is written (out->changed = 0). Otherwise resource_version++,
 * generation++ when the hash differs, and with new_revision set and a changed hash a new pending
 * revision (trigger, source) is requested and made desired. A changed spec also claims its
 * domains and lets go of those it no longer names; a domain another site holds is LP_ECONFLICT
 * naming that site ("domain www.example.com belongs to site blog"), and nothing is written.
 * out may be NULL.
 */
int lp_store_site_update_spec(lp_store_update *out, lp_store *st, const char *site_id,
                              int64_t expected_rv, const char *display_name, const char *spec_json,
                              const char *spec_hash, int new_revision, lp_store_trigger trigger,
                              const char *source, lp_error *err) LP_MUST_CHECK;

/*
 * Request a new build (webhook, redeploy, upload): insert revision max+1 (pending, under the
 * current spec hash), make it desired and bump resource_version, in one transaction. out receives
 * the number. expected_rv as above (0 = do not check).
 */
int lp_store_revision_request(int64_t *out, lp_store *st, const char *site_id, int64_t expected_rv,
                              lp_store_trigger trigger, const char *source,
                              lp_error *err) LP_MUST_CHECK;

/*
 * A draft (deploy --draft): like lp_store_revision_request, but the new revision is marked draft
 * and desired_revision stays; the controller builds it when nothing desired is building, and it
 * goes live only when a rollback points desired_revision at it.
 */
int lp_store_revision_request_draft(int64_t *out, lp_store *st, const char *site_id,
                                    int64_t expected_rv, lp_store_trigger trigger,
                                    const char *source, lp_error *err) LP_MUST_CHECK;

/*
 * Point desired_revision at an existing revision (rollback). LP_ENOTFOUND when the revision does
 * not exist; the caller decides which states are acceptable. Same number: nothing is written.
 */
int lp_store_site_set_desired_revision(lp_store *st, const char *site_id, int64_t expected_rv,
                                       int64_t number, lp_error *err) LP_MUST_CHECK;

/*
 * Cancel revision number, which must be pending or building (else LP_ECONFLICT naming its state):
 * it becomes "cancelled" (final) with message, and desired_revision goes back to the revision the
 * status says is served, when there is one, so the site stays live on it; resource_version++. One
 * transaction. *out gets the desired revision after it (number itself when nothing was served).
 * Stopping the build is the controller's part: it sees the state and cancels it.
 */
int lp_store_revision_cancel(int64_t *out, lp_store *st, const char *site_id, int64_t expected_rv,
                             int64_t number, const char *message, lp_error *err) LP_MUST_CHECK;

/*
 * Start deletion: deletion_timestamp = now, resource_version++, and the site's domains are free
 * for another to claim. Already deleting: no write.
 */
int lp_store_site_mark_deleted(lp_store *st, const char *site_id, int64_t expected_rv,
                               lp_error *err) LP_MUST_CHECK;

/*
 * The controller's finalizer: remove the row and, by cascade, its revisions, status and events.
 * LP_ECONFLICT unless the site was marked deleted first; LP_ENOTFOUND when already gone.
 */
int lp_store_site_delete(lp_store *st, const char *site_id, lp_error *err) LP_MUST_CHECK;

/* ---- revisions ------------------------------------------------------------------------------- */

typedef struct lp_store_revision {
	char *site_id;
	int64_t number; /* 1.. */
	char *source;   /* commit SHA, archive digest, or "" = branch head at build time */
	lp_store_trigger trigger;
	lp_store_rev_state state;
	char *message;
	char *spec_hash;       /* the spec it was requested under */
	char *resolved_source; /* commit actually built */
	int64_t created_at;
	int64_t started_at;
	int64_t finished_at;
	char *log_path;
	int draft; /* requested as a draft: built, not made desired by its request */
} lp_store_revision;

int lp_store_revision_get(lp_store_revision **out, lp_store *st, const char *site_id,
                          int64_t number, lp_error *err) LP_MUST_CHECK;

/* Newest first, at most limit rows (0 or more than LP_STORE_LIST_MAX: LP_STORE_LIST_MAX). */
int lp_store_revision_list(lp_store_revision **out, size_t *out_count, lp_store *st,
                           const char *site_id, size_t limit, lp_error *err) LP_MUST_CHECK;

/*
 * Controller progress: write state, message, started_at, finished_at, resolved_source and log_path
 * of (rev->site_id, rev->number). Does not touch the site's resource_version.
 */
int lp_store_revision_update(lp_store *st, const lp_store_revision *rev,
                             lp_error *err) LP_MUST_CHECK;

/* Start-up recovery: every revision still "building" becomes "interrupted"; out gets the count. */
int lp_store_revisions_interrupt_building(int64_t *out, lp_store *st, lp_error *err) LP_MUST_CHECK;

/*
 * Revisions requested but never started that no longer can be: every pending revision of the
 * site but the desired one (read inside the statement, so a request racing it is never caught)
 * and keep (a build starting; 0: none) becomes "superseded" (final). out (may be NULL) gets the
 * count. Nothing is written when there are none.
 */
int lp_store_revisions_supersede_pending(int64_t *out, lp_store *st, const char *site_id,
                                         int64_t keep, lp_error *err) LP_MUST_CHECK;

/*
 * History: delete the site's final revisions (ready, failed, superseded, interrupted, cancelled)
 * that are neither among its newest `history` revisions, nor among its newest `history` ready
 * ones (rollback targets, whose trees publish keeps as many), nor desired, nor current (its
 * status), nor keep (what the caller serves; 0: none). Pending and building ones always stay.
 * *out gets the numbers deleted, oldest first (free() it; NULL with a count of 0), so the
 * caller removes their logs; at most LP_STORE_LIST_MAX a call. Nothing is written when none
 * qualify. history is 1..LP_STORE_LIST_MAX (LP_EINVAL otherwise).
 */
int lp_store_revisions_prune(int64_t **out, size_t *out_count, lp_store *st, const char *site_id,
                             size_t history, int64_t keep, lp_error *err) LP_MUST_CHECK;

void lp_store_revision_free(lp_store_revision *rev);
void lp_store_revisions_free(lp_store_revision *revs, size_t count);

/* ---- status (controller) --------------------------------------------------------------------- */

typedef struct lp_store_status {
	char *site_id;
	lp_store_phase phase;
	int64_t observed_generation;
	int64_t current_revision;
	char *conditions_json; /* NULL on put = "[]" */
	char *url;
	char *message;
	int64_t updated_at; /* ignored by put */
} lp_store_status;

/* LP_ENOTFOUND when the controller has not written a status for the site yet. */
int lp_store_status_get(lp_store_status **out, lp_store *st, const char *site_id,
                        lp_error *err) LP_MUST_CHECK;

/*
 * Upsert the status of in->site_id, writing only when a field (other than updated_at) differs:
 * out (may be NULL) gets 1 when a row was written, 0 when it was already identical.
 */
int lp_store_status_put(int *out, lp_store *st, const lp_store_status *in,
                        lp_error *err) LP_MUST_CHECK;

/* *out 1 when lp_store_status_put would write in (a field differs, or no row), 0 when not. */
int lp_store_status_differs(int *out, lp_store *st, const lp_store_status *in,
                            lp_error *err) LP_MUST_CHECK;

void lp_store_status_free(lp_store_status *status);

/* ---- site metrics (controller writes, apiserver reads) --------------------------------------- */

/*
 * Requests a site's edge served, in buckets of one minute (minute: its start, ms since the epoch),
 * one row per site and minute, removed with the site. The latency histogram has fixed bounds
 * (lp_store_metrics_bounds, seconds; the last bucket is everything slower).
 */
#define LP_STORE_METRICS_CLASSES 5  /* status classes 1xx..5xx */
#define LP_STORE_METRICS_LAT     11 /* latency buckets */
#define LP_STORE_METRICS_MINUTE  60000
#define LP_STORE_METRICS_POINTS  1000 /* points a series returns at most */
extern const double lp_store_metrics_bounds[LP_STORE_METRICS_LAT - 1];

typedef struct lp_store_metrics {
	int64_t time;                               /* a bucket's or a point's start */
	int64_t requests[LP_STORE_METRICS_CLASSES]; /* [0] 1xx ... [4] 5xx */
	int64_t bytes_in;
	int64_t bytes_out;
	double latency_sum; /* seconds */
	int64_t latency[LP_STORE_METRICS_LAT];
} lp_store_metrics;

/* What one scrape adds to a site (by name) in one minute. */
typedef struct lp_store_metrics_add {
	const char *site_name;
	lp_store_metrics m;
} lp_store_metrics_add;

/*
 * Add each delta to its site's row of minute m.time (created as needed), in one transaction; a
 * name with no site, or one being deleted, is skipped. Rows older than drop_before (0: none) are
 * removed in the same transaction. *out (may be NULL): the sites whose row was written.
 */
int lp_store_metrics_record(size_t *out, lp_store *st, const lp_store_metrics_add *adds, size_t n,
                            int64_t drop_before, lp_error *err) LP_MUST_CHECK;

/*
 * The site's minutes from from (inclusive) summed into points of step ms (a multiple of a minute),
 * oldest first, only points with requests; *out_total the sum of all of them.
 */
int lp_store_metrics_series(lp_store_metrics **out, size_t *out_count, lp_store_metrics *out_total,
                            lp_store *st, const char *site_id, int64_t from, int64_t step,
                            lp_error *err) LP_MUST_CHECK;

/* Revisions of a site created since from: how many went live, failed, and their build times. */
typedef struct lp_store_deploy_stats {
	int64_t deploys; /* reached ready */
	int64_t failed;
	int64_t builds;         /* with a start and an end */
	int64_t build_ms_total; /* over builds */
	int64_t build_ms_max;
} lp_store_deploy_stats;

int lp_store_deploy_stats_get(lp_store_deploy_stats *out, lp_store *st, const char *site_id,
                              int64_t from, lp_error *err) LP_MUST_CHECK;

/* ---- events ---------------------------------------------------------------------------------- */

typedef struct lp_store_event {
	int64_t id;
	char *site_id;
	char *site_name;
	int64_t time;
	lp_store_event_type type;
	char *reason;
	char *message;
} lp_store_event;

/* Append an event; the site's oldest events beyond the cap are dropped in the same transaction. */
int lp_store_event_add(lp_store *st, const char *site_id, lp_store_event_type type,
                       const char *reason, const char *message, lp_error *err) LP_MUST_CHECK;

/* Newest first, at most limit (0 or too large: the per-site cap). */
int lp_store_event_list(lp_store_event **out, size_t *out_count, lp_store *st, const char *site_id,
                        size_t limit, lp_error *err) LP_MUST_CHECK;

void lp_store_events_free(lp_store_event *events, size_t count);

/* ---- webhook deliveries ---------------------------------------------------------------------- */

/*
 * Remember a delivery id (X-GitHub-Delivery). LP_EEXISTS when it was seen before, so a redelivery
 * is acknowledged without acting twice. Only the newest deliveries are kept (see the caps).
 */
int lp_store_webhook_record(lp_store *st, const char *delivery_id, const char *site_id,
                            const char *outcome, lp_error *err) LP_MUST_CHECK;

/* *out 1 when the delivery id was recorded before (nothing written). */
int lp_store_webhook_seen(int *out, lp_store *st, const char *delivery_id,
                          lp_error *err) LP_MUST_CHECK;

/* ---- API tokens ------------------------------------------------------------------------------ */

typedef struct lp_store_token {
	int64_t id;
	char *name;
	char *token_hash; /* SHA-256 hex of the secret */
	int64_t created_at;
	int64_t last_used_at;
	int64_t revoked_at;
	int64_t user_id;    /* whose it is */
	int64_t expires_at; /* a login session's end; 0: a personal token */
} lp_store_token;

/*
 * Create a token: out receives the plaintext secret ("lp_" + 32 hex), the only time it exists;
 * only its SHA-256 is stored. out_id (may be NULL) receives the token id.
 */
int lp_store_token_create(char out[LP_STORE_TOKEN_LEN], int64_t *out_id, lp_store *st,
                          const char *name, lp_error *err) LP_MUST_CHECK;

/*
 * A token of user user_id (the same shown-once secret as above). expires_at 0: a personal token
 * that lives until revoked; else a login session ending then: a user keeps at most
 * LP_STORE_SESSIONS_MAX live sessions (the oldest are revoked), and ended sessions are purged.
 * LP_ENOTFOUND when the user does not exist.
 */
int lp_store_token_create_for(char out[LP_STORE_TOKEN_LEN], int64_t *out_id, lp_store *st,
                              int64_t user_id, const char *name, int64_t expires_at,
                              lp_error *err) LP_MUST_CHECK;

typedef enum lp_store_role { LP_ROLE_MEMBER = 0, LP_ROLE_ADMIN } lp_store_role;
const char *lp_store_role_name(lp_store_role r);                          /* "member", "admin" */
int lp_store_role_parse(lp_store_role *out, const char *s) LP_MUST_CHECK; /* LP_EINVAL */

/* Who a verified token speaks for. */
typedef struct lp_store_principal {
	int64_t token_id;
	int64_t user_id;
	lp_store_role role;
	int64_t expires_at; /* 0: a personal token */
	char user[LP_STORE_USER_MAX + 1];
} lp_store_principal;

/*
 * Check a presented secret: out (may be NULL) receives the token, its user and role. LP_EAUTH
 * for an unknown, malformed, revoked or expired token. The row is found by the secret's SHA-256
 * (an index lookup reveals nothing of a 128-bit secret) and the hashes compared in constant time;
 * last_used_at is refreshed at most every LP_STORE_TOKEN_TOUCH_MS so steady API traffic does not
 * turn into steady writes.
 */
int lp_store_token_verify(lp_store_principal *out, lp_store *st, const char *secret,
                          lp_error *err) LP_MUST_CHECK;

/* All tokens (revoked ones too), oldest first. */
int lp_store_token_list(lp_store_token **out, size_t *out_count, lp_store *st,
                        lp_error *err) LP_MUST_CHECK;

/* The live personal tokens (no sessions) of user_id (0: every user's), oldest first. */
int lp_store_token_list_personal(lp_store_token **out, size_t *out_count, lp_store *st,
                                 int64_t user_id, lp_error *err) LP_MUST_CHECK;

/* Revoke a token (idempotent). LP_ENOTFOUND for an unknown id. */
int lp_store_token_revoke(lp_store *st, int64_t id, lp_error *err) LP_MUST_CHECK;

void lp_store_tokens_free(lp_store_token *tokens, size_t count);

/* ---- users ----------------------------------------------------------------------------------- */

typedef struct lp_store_user {
	int64_t id;
	char *name;
	lp_store_role role;
	char *password_hash; /* lp_crypto_password_hash text; "" cannot log in (user 1, "admin") */
	int64_t created_at;
} lp_store_user;

/*
 * Create a user (name: 1..LP_STORE_USER_MAX of [a-z0-9._-], starting with a letter or digit;
 * LP_EINVAL otherwise). LP_EEXISTS when taken; LP_ETOOBIG past LP_STORE_USERS_MAX users.
 */
int lp_store_user_create(lp_store_user **out, lp_store *st, const char *name, lp_store_role role,
                         const char *password_hash, lp_error *err) LP_MUST_CHECK;
/* LP_ENOTFOUND (err untouched) when there is no such user. */
int lp_store_user_get(lp_store_user **out, lp_store *st, const char *name,
                      lp_error *err) LP_MUST_CHECK;
/* Every user, oldest first. */
int lp_store_user_list(lp_store_user **out, size_t *out_count, lp_store *st,
                       lp_error *err) LP_MUST_CHECK;
/*
 * Delete a user and every token of theirs. LP_ENOTFOUND when absent; LP_ECONFLICT for user 1
 * (the bootstrap admin) and for a user who still owns sites (give them away or delete them: a
 * site never loses its owner).
 */
int lp_store_user_delete(lp_store *st, const char *name, lp_error *err) LP_MUST_CHECK;
void lp_store_user_free(lp_store_user *user);
void lp_store_users_free(lp_store_user *users, size_t count);

#endif
