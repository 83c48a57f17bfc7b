/* reconcile.c: one level-triggered pass: read desired and actual state, act on the difference. */
#include "controller/reconcile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/apps.h"
#include "controller/gc.h"
#include "controller/networks.h"
#include "controller/revconf.h"
#include "controller/serve.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "launchpad/layout.h"
#include "launchpad/log.h"
#include "pipeline/publish.h"

#define COMPONENT         "reconcile"
#define RECONCILE_URL_MAX 512
#define RECONCILE_MSG_MAX (LP_ERROR_MESSAGE_MAX + 376)
#define CANCEL_POLL_MS    200  /* how soon to look again after cancelling a build */
#define SLOTS_BUSY_MS     1000 /* how soon to look again when every build slot is busy */

/* What one pass found; status is computed from it alone. */
struct observation {
	long desired;            /* desired revision */
	long serving;            /* revision `current` points at after this pass, 0 = none */
	int desired_ready;       /* revisions/<desired> is complete */
	int building;            /* a build for the desired revision is running */
	int failed;              /* the desired revision failed to build */
	int running;             /* the serve container runs with the expected spec */
	int serve_failed;        /* making the serve side match failed this pass */
	int cancelled;           /* a user cancelled the desired revision */
	int spec_invalid;        /* the stored spec does not parse (terminal until it changes) */
	int health_failed;       /* the desired revision (an app) failed its health check */
	lp_app_health app;       /* an app's containers (spec.run); LP_APP_NONE for a static site */
	const char *app_message; /* why an app does not serve (crash loop, unhealthy) */
	const char *failure;
};

static void requeue(lp_reconcile_result *out, uint64_t after_ms)
{
	out->outcome = LP_RECONCILE_REQUEUE;
	out->requeue_after_ms = after_ms;
}

static int is_ready(const struct observation *o)
{
	return o->desired_ready && o->serving == o->desired && o->running &&
	       o->app != LP_APP_CRASHLOOP && o->app != LP_APP_UNHEALTHY;
}

/* An app's containers that keep exiting or fail their check: what k8s users know them as. */
static const char *app_reason(const struct observation *o)
{
	return o->app == LP_APP_CRASHLOOP   ? "CrashLoopBackOff"
	       : o->app == LP_APP_UNHEALTHY ? "Unhealthy"
	                                    : NULL;
}

/* Why the site is, or is not, Ready: the first thing in the way, as users would name it. */
static const char *ready_reason(const struct observation *o)
{
	if (is_ready(o))
		return "DesiredRevisionLive";
	if (o->spec_invalid)
		return "InvalidSpec";
	if (o->cancelled)
		return "Cancelled";
	if (o->health_failed)
		return "HealthCheckFailed";
	if (app_reason(o))
		return app_reason(o);
	if (o->failed)
		return "BuildFailed";
	if (o->serve_failed)
		return "ServeFailed";
	if (o->building)
		return "Building";
	if (o->desired <= 0)
		return "NoRevision";
	return "Progressing"; /* built, the serve container on its way */
}

/*
 * The conditions as compact JSON (what printing their cJSON tree gave, so stored rows compare
 * equal): every word in it is one of the fixed names above, nothing needs escaping.
 */
static char *conditions_json(const struct observation *o)
{
	/* A revision that failed its health check did build. */
	const char *built = o->desired_ready || o->health_failed ? "True"
	                    : o->failed                          ? "False"
	                                                         : "Unknown";
	const char *built_reason = o->desired_ready || o->health_failed ? "Published"
	                           : o->cancelled                       ? "Cancelled"
	                           : o->failed                          ? "BuildFailed"
	                                                                : "Building";
	int serving = o->running && o->serving && !app_reason(o), ready = is_ready(o);
	char *s = NULL;

	if (asprintf(&s,
	             "[{\"type\":\"Built\",\"status\":\"%s\",\"reason\":\"%s\"},"
	             "{\"type\":\"Serving\",\"status\":\"%s\",\"reason\":\"%s\"},"
	             "{\"type\":\"Ready\",\"status\":\"%s\",\"reason\":\"%s\"}]",
	             built, built_reason, serving ? "True" : "False",
	             serving           ? "ContainerRunning"
	             : app_reason(o)   ? app_reason(o)
	             : o->serve_failed ? "ServeFailed"
	                               : "NoContainer",
	             ready ? "True" : "False", ready_reason(o)) < 0)
		return NULL;
	return s;
}

static int write_status(lp_ctx *ctx, lp_store *st, const lp_store_site *site, lp_store_phase phase,
                        const struct observation *o, const char *message, lp_error *err)
{
	static const char *const reasons[] = {"Pending", "Deploying", "Live", "Failed", "Deleting"};
	lp_store_status *prev = NULL, next = {0};
	char url[RECONCILE_URL_MAX];
	int changed = 0, rc;

	if ((rc = lp_config_site_url(url, sizeof(url), lp_ctx_cfg(ctx), site->name, err)) != LP_OK)
		return rc;
	next.site_id = site->id;
	next.phase = phase;
	next.observed_generation = site->generation;
	next.conditions_json = o ? conditions_json(o) : NULL;
	next.url = url;
	next.message = (char *)message;
	/* The steady state reads the row once, in the probe; the rest is for a change. */
	if (o && !o->spec_invalid) {
		next.current_revision = o->serving;
		if ((rc = lp_store_status_differs(&changed, st, &next, err)) != LP_OK || !changed)
			goto done;
	}
	if (lp_store_status_get(&prev, st, site->id, NULL) != LP_OK)
		prev = NULL;
	/* An unreadable spec says nothing of what is served: the last known revision stands. */
	if (!o || o->spec_invalid)
		next.current_revision = prev ? prev->current_revision : 0;
	rc = lp_store_status_put(&changed, st, &next, err);
	if (rc == LP_OK && changed) {
		lp_ctx_count(ctx, LP_CTR_STATUS_WRITES, 1);
		if (prev == NULL || prev->phase != phase)
			lp_ctx_event(ctx, st, site->id,
			             phase == LP_PHASE_FAILED ? LP_EVENT_WARNING : LP_EVENT_NORMAL,
			             reasons[phase], "%s", message);
	}
done:
	free(next.conditions_json);
	lp_store_status_free(prev);
	return rc;
}

/* Status is only ever the truth as far as it could be written: a failed write is logged. */
static void write_status_quietly(lp_ctx *ctx, lp_store *st, const lp_store_site *site,
                                 lp_store_phase phase, const struct observation *o,
                                 const char *message)
{
	lp_error err = {0};

	if (write_status(ctx, st, site, phase, o, message, &err) != LP_OK)
		LP_WARN(COMPONENT, "%s: status: %s", site->name, err.message);
}

/* Nothing of the site may remain (its row is gone, or being finalized): builds first. */
static int remove_everything(lp_reconcile_result *out, const lp_parts *p, const char *name,
                             lp_error *err)
{
	int rc;

	if (lp_builds_inflight(p->builds, name)) {
		lp_builds_cancel(p->builds, name);
		requeue(out, CANCEL_POLL_MS);
		return LP_OK;
	}
	if ((rc = lp_gc_site_containers(p, name, err)) != LP_OK)
		return rc;
	return lp_gc_site_files(p->ctx, name, err);
}

/* How soon a parent being deleted looks again at its previews going. */
#define PREVIEWS_POLL_MS 200

/*
 * Owner-reference GC: a site being deleted first marks each of its previews deleted (each is
 * then removed by its own reconcile, as any site is), and goes only once none is left, so no
 * preview outlives its parent. *out_waiting: 1 while some remain.
 */
static int remove_previews(int *out_waiting, const lp_parts *p, lp_store *st,
                           const lp_store_site *site, lp_error *err)
{
	lp_store_site *kids = NULL;
	size_t n = 0, i;
	int rc;

	*out_waiting = 0;
	if ((rc = lp_store_site_list_children(&kids, &n, st, site->id, err)) != LP_OK)
		return rc;
	for (i = 0; i < n && rc == LP_OK; i++) {
		if (kids[i].deletion_timestamp)
			continue;
		rc = lp_store_site_mark_deleted(st, kids[i].id, 0, err);
		if (rc == LP_OK)
			lp_ctx_event(p->ctx, st, kids[i].id, LP_EVENT_NORMAL, "Deleting",
			             "its parent %s is being deleted", site->name);
	}
	*out_waiting = n > 0;
	lp_store_sites_free(kids, n);
	return rc;
}

/* The row is marked deleted: remove every trace, then the row (finalizer). */
static int finalize(lp_reconcile_result *out, const lp_parts *p, lp_store *st,
                    const lp_store_site *site, lp_error *err)
{
	char msg[RECONCILE_MSG_MAX];
	int rc, waiting = 0;

	write_status_quietly(p->ctx, st, site, LP_PHASE_DELETING, NULL, "deleting");
	if ((rc = remove_previews(&waiting, p, st, site, err)) != LP_OK)
		return rc;
	if (waiting) {
		requeue(out, PREVIEWS_POLL_MS);
		return LP_OK;
	}
	if ((rc = remove_everything(out, p, site->name, err)) != LP_OK) {
		if (lp_fmt(msg, sizeof(msg), "deleting: %s", err->message) != LP_OK)
			msg[0] = '\0';
		write_status_quietly(p->ctx, st, site, LP_PHASE_DELETING, NULL, msg);
		return rc;
	}
	if (out->outcome == LP_RECONCILE_REQUEUE)
		return LP_OK;
	if ((rc = lp_store_site_delete(st, site->id, err)) != LP_OK && rc != LP_ENOTFOUND)
		return rc;
	LP_INFO(COMPONENT, "%s: deleted", site->name);
	return LP_OK;
}

/* The site's newest revisions, where its drafts are found (older drafts are long built). */
#define DRAFTS_SCAN 50

struct drafts {
	lp_store_revision *revs; /* newest first */
	size_t n;
};

static int is_draft(const struct drafts *d, long n)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (d->revs[i].number == n)
			return d->revs[i].draft;
	return 0;
}

/*
 * Drafts: built one at a time, oldest first, when no build runs for the site and the desired
 * revision needs none; a built one gets its checked serve config now, so publishing it later
 * (a rollback to it) starts no container at all.
 */
static int drive_drafts(const lp_parts *p, lp_store *st, const lp_store_site *site,
                        const lp_site *spec, const struct observation *o, struct drafts *d,
                        const char *site_dir, lp_error *err)
{
	lp_store_revision *next = NULL;
	size_t i;
	int rc;

	for (i = d->n; i-- > 0;) {
		lp_store_revision *v = &d->revs[i];
		lp_revconf_result r;

		if (!v->draft || v->number == o->desired)
			continue;
		if (v->state == LP_REV_PENDING && next == NULL)
			next = v;
		if (v->state != LP_REV_READY || !lp_publish_is_ready(site_dir, (long)v->number))
			continue;
		if ((rc = lp_revconf_prepare(&r, p->ctx, site->name, spec, (long)v->number, err)) !=
		    LP_OK)
			return rc;
		if (r.invalid) {
			lp_error rerr = {0};
			char *msg = strdup(r.message);

			if (msg == NULL)
				return lp_error_set(err, LP_ENOMEM, "out of memory");
			free(v->message);
			v->message = msg;
			v->state = LP_REV_FAILED;
			if (lp_store_revision_update(st, v, &rerr) != LP_OK)
				LP_WARN(COMPONENT, "%s: %s (the next pass retries)", site->name,
				        rerr.message);
		}
	}
	if (next == NULL || lp_builds_inflight(p->builds, site->name) || o->building)
		return LP_OK;
	LP_INFO(COMPONENT, "%s: building draft revision %lld", site->name, (long long)next->number);
	rc = lp_builds_start(p->builds, site->name, spec, (long)next->number, next->source, err);
	return rc == LP_EUNAVAILABLE ? LP_OK : rc; /* every slot busy: a finished build wakes us */
}

/* Start, keep or supersede the build of the desired revision. */
static int drive_build(lp_reconcile_result *out, struct observation *o, const lp_parts *p,
                       const lp_store_site *site, const lp_site *spec, const lp_store_revision *rev,
                       const struct drafts *drafts, lp_error *err)
{
	long inflight = lp_builds_inflight(p->builds, site->name);
	int rc;

	if (rev->state == LP_REV_CANCELLED) {
		/* A user's word: its build stops, nothing of it is served, it is never rebuilt. */
		o->cancelled = 1;
		o->failed = 1;
		o->failure = rev->message;
		if (inflight) {
			LP_INFO(COMPONENT, "%s: revision %ld was cancelled: stopping its build",
			        site->name, inflight);
			lp_builds_cancel(p->builds, site->name);
			requeue(out, CANCEL_POLL_MS);
		}
		return LP_OK;
	}
	if (inflight && inflight != o->desired && is_draft(drafts, inflight)) {
		/* A draft builds when nothing desired does; the desired one waits its turn. */
		o->building = !o->desired_ready && rev->state != LP_REV_FAILED;
		return LP_OK;
	}
	if (inflight && inflight != o->desired) {
		/* A newer (or rolled-back-to) desired revision supersedes the running build. */
		LP_INFO(COMPONENT, "%s: cancelling build of revision %ld (desired is %ld)",
		        site->name, inflight, o->desired);
		lp_builds_cancel(p->builds, site->name);
		requeue(out, CANCEL_POLL_MS);
		o->building = !o->desired_ready;
		return LP_OK;
	}
	if (o->desired_ready)
		return LP_OK;
	if (inflight == o->desired) {
		o->building = 1;
		return LP_OK;
	}
	if (rev->state == LP_REV_FAILED) {
		o->failed = 1;
		o->failure = rev->message;
		return LP_OK;
	}
	rc = lp_builds_start(p->builds, site->name, spec, o->desired, rev->source, err);
	if (rc == LP_EUNAVAILABLE) { /* every build slot busy: look again shortly */
		requeue(out, SLOTS_BUSY_MS);
		o->building = 1;
		return LP_OK;
	}
	if (rc == LP_OK)
		o->building = 1;
	return rc;
}

/* Make the serve side match: config file, networks, then the container itself. */
static int serve(lp_serve_result *out, const lp_parts *p, const char *name, const lp_site *spec,
                 long serving, lp_error *err)
{
	lp_docker_summaries *observed = NULL;
	char *conf = NULL;
	int rc;

	if ((rc = lp_serve_write_conf(&conf, p->ctx, name, spec, err)) != LP_OK ||
	    (rc = lp_networks_ensure(p, err)) != LP_OK ||
	    (rc = lp_observer_site(&observed, p->obs, name, err)) != LP_OK)
		goto done;
	lp_gc_orphan_builds(p, name, observed);
	lp_applogs_sync(p->applogs, name, observed);
	rc = lp_serve_ensure(out, p, name, spec, conf, observed, err);
	/* A revision whose config differs goes live by a graceful reload, never a restart. */
	if (rc == LP_OK)
		rc = lp_revconf_reload(p->ctx, name, serving, observed, err);
done:
	lp_docker_summaries_free(observed);
	free(conf);
	return rc;
}

/* The served revision's config exists (one published before rules did gets it now) and is live. */
static int serving_conf(lp_ctx *ctx, const char *name, const lp_site *spec, long n, lp_error *err)
{
	lp_revconf_result r;
	int rc, changed = 0;

	if ((rc = lp_revconf_prepare(&r, ctx, name, spec, n, err)) != LP_OK)
		return rc;
	if (r.invalid)
		return lp_error_set(err, LP_EINVAL, "revision %ld cannot be served: %s", n,
		                    r.message);
	if ((rc = lp_revconf_switch(&changed, ctx, name, n, err)) == LP_OK && changed)
		LP_INFO(COMPONENT, "%s: revision %ld's rules are live", name, n);
	return rc;
}

/* Point `current` at what is to be served; the disk is the truth. */
static int publish_serving(struct observation *o, lp_ctx *ctx, const lp_store_site *site,
                           const lp_site *spec, const char *site_dir, lp_error *err)
{
	long current = 0;
	int rc;

	if ((rc = lp_publish_current_revision(&current, site_dir, err)) != LP_OK)
		return rc;
	o->serving = o->desired_ready ? o->desired : current;
	if (o->serving <= 0)
		return LP_OK;
	if ((rc = serving_conf(ctx, site->name, spec, o->serving, err)) != LP_OK)
		return rc;
	if (o->serving != current) {
		if ((rc = lp_publish_switch(site_dir, o->serving, err)) != LP_OK)
			return rc;
		lp_ctx_count(ctx, LP_CTR_FILE_WRITES, 1);
		LP_INFO(COMPONENT, "%s: revision %ld is now current", site->name, o->serving);
	}
	return LP_OK;
}

/*
 * Old revisions beyond revisionHistoryLimit go from the disk, their configs with them. After the
 * serve side is done: removing a tree of files takes a while (0.1 - 0.25 s for 500 files) and the
 * new revision goes live without waiting for it; what is pruned is never the one served.
 */
static void prune_disk(lp_ctx *ctx, const lp_store_site *site, const lp_site *spec,
                       const char *site_dir, long serving)
{
	lp_error perr = {0};
	size_t pruned = 0;

	if (serving <= 0)
		return;
	/* Old revisions that cannot be removed must not stop the site from being served. */
	if (lp_publish_prune(&pruned, site_dir, (size_t)spec->revision_history_limit, serving,
	                     &perr) != LP_OK)
		LP_WARN(COMPONENT, "%s: pruning old revisions: %s", site->name, perr.message);
	lp_ctx_count(ctx, LP_CTR_FILE_WRITES, pruned);
	if (pruned > 0)
		lp_revconf_prune(ctx, site->name);
}

/*
 * The desired revision's serve config, checked by nginx before anything of it is served. One
 * nginx refuses fails the revision with nginx's message; the one serving now goes on.
 */
static int check_desired(struct observation *o, lp_ctx *ctx, lp_store *st,
                         const lp_store_site *site, const lp_site *spec, lp_store_revision *rev,
                         lp_error *err)
{
	lp_revconf_result r;
	lp_error rerr = {0};
	char *msg;
	int rc;

	if (!o->desired_ready)
		return LP_OK;
	if ((rc = lp_revconf_prepare(&r, ctx, site->name, spec, o->desired, err)) != LP_OK ||
	    !r.invalid)
		return rc;
	LP_WARN(COMPONENT, "%s: revision %ld: %s", site->name, o->desired, r.message);
	o->desired_ready = 0;
	o->failed = 1;
	if ((msg = strdup(r.message)) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	free(rev->message);
	rev->message = msg;
	rev->state = LP_REV_FAILED;
	o->failure = rev->message;
	if (lp_store_revision_update(st, rev, &rerr) != LP_OK)
		LP_WARN(COMPONENT, "%s: %s (the next pass retries)", site->name, rerr.message);
	return LP_OK;
}

/*
 * Revisions requested and overtaken before their build started (300 quick redeploys build one)
 * are superseded, not left pending forever. A store hiccup is logged; the next pass retries.
 */
static void supersede_skipped(lp_store *st, const lp_store_site *site, long inflight)
{
	lp_error err = {0};
	int64_t n = 0;

	if (lp_store_revisions_supersede_pending(&n, st, site->id, inflight, &err) != LP_OK)
		LP_WARN(COMPONENT, "%s: superseding skipped revisions: %s", site->name,
		        err.message);
	else if (n > 0)
		LP_INFO(COMPONENT, "%s: %lld revision(s) superseded before their build started",
		        site->name, (long long)n);
}

/* History: revisions beyond revisionHistoryLimit go from the store, and their logs with them. */
static void prune_history(lp_ctx *ctx, lp_store *st, const lp_store_site *site, const lp_site *spec,
                          long serving)
{
	char path[LP_FS_PATH_MAX];
	int64_t *gone = NULL;
	lp_error err = {0};
	size_t n = 0, i;

	if (lp_store_revisions_prune(&gone, &n, st, site->id, (size_t)spec->revision_history_limit,
	                             serving, &err) != LP_OK) {
		LP_WARN(COMPONENT, "%s: pruning revision history: %s", site->name, err.message);
		return;
	}
	for (i = 0; i < n; i++) {
		if (lp_layout_log(path, sizeof(path), lp_ctx_cfg(ctx)->data_dir, site->name,
		                  (long)gone[i]) != LP_OK ||
		    !lp_fs_exists(path))
			continue;
		if (lp_fs_remove_tree(path, &err) != LP_OK)
			LP_WARN(COMPONENT, "%s: %s (the gc of a deleted site takes it)", site->name,
			        err.message);
		else
			lp_ctx_count(ctx, LP_CTR_FILE_WRITES, 1);
	}
	if (n > 0)
		LP_INFO(COMPONENT, "%s: %zu old revision(s) pruned from the history", site->name,
		        n);
	free(gone);
}

/* The phase and message the observation adds up to. */
static lp_store_phase verdict(char *msg, size_t msglen, const struct observation *o)
{
	const char *why = o->failure ? o->failure : "";
	int rc;

	if (is_ready(o)) {
		rc = lp_fmt(msg, msglen, "revision %ld is live", o->desired);
		if (rc != LP_OK)
			msg[0] = '\0';
		return LP_PHASE_LIVE;
	}
	if (o->cancelled) {
		if (lp_fmt(msg, msglen, "revision %ld was cancelled", o->desired) != LP_OK)
			msg[0] = '\0';
		return LP_PHASE_FAILED;
	}
	if (app_reason(o) && !o->failed) {
		/* Docker's backoff restarts it; status follows it (the pass requeues). */
		lp_fmt_text(msg, msglen, "revision %ld: %s",
		            o->serving > 0 ? o->serving : o->desired,
		            o->app_message ? o->app_message : app_reason(o));
		return LP_PHASE_FAILED;
	}
	if (o->failed) {
		/* A failure message is the build's own text: a long one is cut, by design. */
		if (o->serving > 0)
			snprintf(msg, msglen,
			         "revision %ld failed: %s (still serving revision %ld)", o->desired,
			         why, o->serving);
		else
			snprintf(msg, msglen, "revision %ld failed: %s", o->desired, why);
		return LP_PHASE_FAILED;
	}
	if (lp_fmt(msg, msglen, o->building ? "building revision %ld" : "deploying revision %ld",
	           o->desired) != LP_OK)
		msg[0] = '\0';
	return LP_PHASE_DEPLOYING;
}

/*
 * An app (spec.run): its containers are the served revision, so `current` moves to the desired
 * one only once that one's container is healthy and routed (lp_apps_ensure says when); one that
 * fails its health check is FAILED with the probe's answer, and the old revision goes on.
 */
static int serve_app(lp_reconcile_result *out, struct observation *o, const lp_parts *p,
                     lp_store *st, const lp_store_site *site, const lp_site *spec,
                     lp_store_revision *rev, const char *site_dir, lp_apps_result *ar,
                     lp_error *err)
{
	lp_docker_summaries *observed = NULL;
	long current = 0, target;
	int rc;

	if ((rc = lp_publish_current_revision(&current, site_dir, err)) != LP_OK)
		return rc;
	o->serving = current;
	target = o->desired_ready ? o->desired : current;
	if (target <= 0)
		return LP_OK;
	if ((rc = lp_networks_ensure(p, err)) != LP_OK ||
	    (rc = lp_observer_site(&observed, p->obs, site->name, err)) != LP_OK)
		goto done;
	lp_gc_orphan_builds(p, site->name, observed);
	lp_applogs_sync(p->applogs, site->name, observed);
	if ((rc = lp_apps_ensure(ar, p, site->name, spec, target, current, observed, err)) != LP_OK)
		goto done;
	if (ar->requeue_ms > 0)
		requeue(out, (uint64_t)ar->requeue_ms);
	if (ar->target_failed) {
		lp_error rerr = {0};
		char *msg = strdup(ar->message);

		if (msg == NULL) {
			rc = lp_error_set(err, LP_ENOMEM, "out of memory");
			goto done;
		}
		free(rev->message);
		rev->message = msg;
		rev->state = LP_REV_FAILED;
		if (lp_store_revision_update(st, rev, &rerr) != LP_OK)
			LP_WARN(COMPONENT, "%s: %s (the next pass retries)", site->name,
			        rerr.message);
		o->desired_ready = 0;
		o->failed = 1;
		o->health_failed = 1;
		o->failure = rev->message;
	}
	if (ar->switch_current) {
		if ((rc = lp_publish_switch(site_dir, target, err)) != LP_OK)
			goto done;
		lp_ctx_count(p->ctx, LP_CTR_FILE_WRITES, 1);
		LP_INFO(COMPONENT,
		        "%s: revision %ld is now current (its app is healthy and routed)",
		        site->name, target);
	}
	o->serving = ar->serving;
	o->running = ar->health == LP_APP_HEALTHY;
	o->app = ar->health;
	o->app_message = ar->message[0] ? ar->message : NULL;
done:
	lp_docker_summaries_free(observed);
	return rc;
}

/* Build what is desired, serve what can be served, then say so in the status. */
static int reconcile_site(lp_reconcile_result *out, const lp_parts *p, lp_store *st,
                          const lp_store_site *site, const lp_site *spec, lp_error *err)
{
	struct observation o = {0};
	lp_store_revision *rev = NULL;
	struct drafts drafts = {0};
	lp_serve_result sr = {0};
	lp_apps_result ar;
	char site_dir[LP_FS_PATH_MAX], msg[RECONCILE_MSG_MAX];
	int rc;

	if (lp_layout_site(site_dir, sizeof(site_dir), lp_ctx_cfg(p->ctx)->data_dir, site->name) !=
	    LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "site path of %s is too long", site->name);
	o.desired = (long)site->desired_revision;
	if (o.desired <= 0)
		return write_status(p->ctx, st, site, LP_PHASE_PENDING, &o, "no revision requested",
		                    err);
	if ((rc = lp_store_revision_get(&rev, st, site->id, o.desired, err)) != LP_OK ||
	    (rc = lp_store_revision_list(&drafts.revs, &drafts.n, st, site->id, DRAFTS_SCAN,
	                                 err)) != LP_OK)
		goto done;
	/* A cancelled revision the build had already published is still not served. */
	/* A revision whose serve config nginx refused (FAILED on disk) is not served either. */
	o.desired_ready = rev->state != LP_REV_CANCELLED && rev->state != LP_REV_FAILED &&
	                  lp_publish_is_ready(site_dir, o.desired);
	/* A build runs on the build network: it exists, cut off from the host, before one starts.
	 */
	if (!o.desired_ready && (rc = lp_networks_ensure(p, err)) != LP_OK) {
		lp_fmt_text(msg, sizeof(msg), "revision %ld cannot be built: %s (retrying)",
		            o.desired, err->message);
		write_status_quietly(p->ctx, st, site, LP_PHASE_DEPLOYING, &o, msg);
		goto done;
	}
	rc = drive_build(out, &o, p, site, spec, rev, &drafts, err);
	/* After the build decision: a build it just started is in flight, so it is kept. */
	supersede_skipped(st, site, lp_builds_inflight(p->builds, site->name));
	if (rc != LP_OK)
		goto done;
	if (o.desired_ready && rev->state != LP_REV_READY &&
	    !lp_builds_inflight(p->builds, site->name)) {
		lp_error rerr = {0};
		/* Published but not recorded (crash between the two): the disk is the truth. */
		rev->state = LP_REV_READY;
		if (lp_store_revision_update(st, rev, &rerr) != LP_OK)
			LP_WARN(COMPONENT, "%s: %s (the next pass retries)", site->name,
			        rerr.message);
	}
	/* A revision an app failed its health check with: built, never served, not rebuilt. */
	o.health_failed =
	    spec->has_run && rev->state == LP_REV_FAILED && rev->message &&
	    !strncmp(rev->message, LP_APPS_HEALTH_FAILED, strlen(LP_APPS_HEALTH_FAILED));
	if (spec->has_run) {
		rc = serve_app(out, &o, p, st, site, spec, rev, site_dir, &ar, err);
		if (rc != LP_OK) {
			o.serve_failed = 1;
			lp_fmt_text(msg, sizeof(msg),
			            "revision %ld cannot be served: %s (retrying)",
			            o.desired_ready ? o.desired : o.serving, err->message);
			write_status_quietly(p->ctx, st, site,
			                     o.failed ? LP_PHASE_FAILED : LP_PHASE_DEPLOYING, &o,
			                     msg);
			goto done;
		}
	} else if ((rc = check_desired(&o, p->ctx, st, site, spec, rev, err)) != LP_OK ||
	           (rc = publish_serving(&o, p->ctx, site, spec, site_dir, err)) != LP_OK) {
		goto done;
	}
	if (!spec->has_run && o.serving > 0) {
		rc = serve(&sr, p, site->name, spec, o.serving, err);
		o.running = sr.running;
		if (rc != LP_OK) {
			o.serve_failed = 1;
			/* Status tells the truth: say why it is not served; retry with backoff. */
			snprintf(msg, sizeof(msg),
			         "revision %ld is ready but cannot be served: %s (retrying)",
			         o.serving, err->message);
			write_status_quietly(p->ctx, st, site,
			                     o.failed ? LP_PHASE_FAILED : LP_PHASE_DEPLOYING, &o,
			                     msg);
			goto done;
		}
		if (sr.requeue_ms > 0)
			requeue(out, (uint64_t)sr.requeue_ms);
	}
	if ((rc = drive_drafts(p, st, site, spec, &o, &drafts, site_dir, err)) != LP_OK)
		goto done;
	rc = write_status(p->ctx, st, site, verdict(msg, sizeof(msg), &o), &o, msg, err);
	/* Last: the new revision is live and says so before the old ones are removed. */
	prune_disk(p->ctx, site, spec, site_dir, o.serving);
	prune_history(p->ctx, st, site, spec, o.serving);
done:
	lp_store_revisions_free(drafts.revs, drafts.n);
	lp_store_revision_free(rev);
	return rc;
}

/* A site that exists: its stored spec parsed (invalid: terminal until the spec changes). */
static int reconcile_spec(lp_reconcile_result *out, const lp_parts *p, lp_store *st,
                          const lp_store_site *site, lp_error *err)
{
	lp_spec_ref *ref = NULL;
	const lp_site *spec = NULL;
	int rc = lp_specs_get(&ref, &spec, p->specs, site, err);

	if (rc == LP_EINVAL) {
		struct observation o = {.desired = (long)site->desired_revision, .spec_invalid = 1};

		write_status_quietly(p->ctx, st, site, LP_PHASE_FAILED, &o,
		                     "stored spec is invalid");
		out->outcome = LP_RECONCILE_TERMINAL;
		rc = LP_OK;
	} else if (rc == LP_OK) {
		rc = reconcile_site(out, p, st, site, spec, err);
	}
	lp_specs_put(p->specs, ref);
	return rc;
}

/* A preview whose parent row is gone (it cannot be: the parent waits for it; but a store
 * edited by hand can): it goes too. */
static int orphaned(lp_store *st, const lp_store_site *site)
{
	lp_store_site *parent = NULL;
	int rc;

	if (site->parent_id == NULL || *site->parent_id == '\0')
		return 0;
	rc = lp_store_site_get_by_id(&parent, st, site->parent_id, NULL);
	lp_store_site_free(parent);
	return rc == LP_ENOTFOUND;
}

int lp_reconcile(lp_reconcile_result *out, const lp_parts *p, const char *name, lp_error *err)
{
	lp_store_site *site = NULL;
	lp_store *st = NULL;
	int rc;

	out->outcome = LP_RECONCILE_OK;
	out->requeue_after_ms = 0;
	lp_ctx_count(p->ctx, LP_CTR_RECONCILES, 1);
	/* Keys come from Docker labels too: never let one name a path outside the data dir. */
	if ((rc = lp_spec_check_name(name, err)) != LP_OK) {
		out->outcome = LP_RECONCILE_TERMINAL;
		return rc;
	}
	if ((rc = lp_ctx_store_acquire(&st, p->ctx, err)) != LP_OK)
		goto done;
	/*
	 * The pass reads one state of the store, and SQLite's locks once (a write ends the snapshot
	 * and reads the newest); without one, each read takes its own.
	 */
	if (lp_store_read_begin(st, NULL) != LP_OK)
		LP_DEBUG(COMPONENT, "%s: no read snapshot: reading query by query", name);
	rc = lp_store_site_get_by_name(&site, st, name, err);
	if (rc == LP_ENOTFOUND || (rc == LP_OK && site->deletion_timestamp))
		lp_specs_forget(p->specs, name);
	if (rc == LP_ENOTFOUND)
		rc = remove_everything(out, p, name, err);
	else if (rc == LP_OK && !site->deletion_timestamp && orphaned(st, site))
		rc = lp_store_site_mark_deleted(st, site->id, 0, err); /* its own pass removes it */
	else if (rc == LP_OK && site->deletion_timestamp)
		rc = finalize(out, p, st, site, err);
	else if (rc == LP_OK)
		rc = reconcile_spec(out, p, st, site, err);
done:
	if (rc != LP_OK && out->outcome == LP_RECONCILE_OK)
		out->outcome = LP_RECONCILE_ERROR;
	lp_store_site_free(site);
	lp_ctx_store_release(p->ctx, st);
	return rc;
}
