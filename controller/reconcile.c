/* reconcile.c: one level-triggered pass: read desired and actual state, act on the difference. */
#include "controller/controller_internal.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launchpad/log.h"
#include "pipeline/publish.h"

#define COMPONENT "reconcile"

/* What one pass found; status is computed from it alone. */
struct observation {
	long desired;      /* desired revision */
	long serving;      /* revision `current` points at after this pass, 0 = none */
	int desired_ready; /* revisions/<desired> is complete */
	int building;      /* a build for the desired revision is running */
	int failed;        /* the desired revision failed to build */
	int running;       /* the serve container runs with the expected spec */
	const char *failure;
};

static char *conditions_json(const struct observation *o)
{
	cJSON *arr = cJSON_CreateArray(), *c;
	char *s;
	const char *built = o->desired_ready ? "True" : (o->failed ? "False" : "Unknown");
	const char *built_reason =
	    o->desired_ready ? "Published" : (o->failed ? "BuildFailed" : "Building");
	int ready = o->desired_ready && o->serving == o->desired && o->running;

	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "type", "Built");
	cJSON_AddStringToObject(c, "status", built);
	cJSON_AddStringToObject(c, "reason", built_reason);
	cJSON_AddItemToArray(arr, c);
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "type", "Serving");
	cJSON_AddStringToObject(c, "status", o->running && o->serving ? "True" : "False");
	cJSON_AddStringToObject(c, "reason",
	                        o->running && o->serving ? "ContainerRunning" : "NoContainer");
	cJSON_AddItemToArray(arr, c);
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "type", "Ready");
	cJSON_AddStringToObject(c, "status", ready ? "True" : "False");
	cJSON_AddStringToObject(c, "reason", ready ? "DesiredRevisionLive" : "Progressing");
	cJSON_AddItemToArray(arr, c);
	s = cJSON_PrintUnformatted(arr);
	cJSON_Delete(arr);
	return s;
}

static int write_status(struct lp_controller *c, lp_store *st, const lp_store_site *site,
                        lp_store_phase phase, const struct observation *o, const char *message,
                        lp_error *err)
{
	lp_store_status *prev = NULL, next = {0};
	char url[512];
	int changed = 0, rc;

	if ((rc = lp_config_site_url(url, sizeof(url), c->cfg, site->name, err)) != LP_OK)
		return rc;
	if (lp_store_status_get(&prev, st, site->id, NULL) != LP_OK)
		prev = NULL;
	next.site_id = site->id;
	next.phase = phase;
	next.observed_generation = site->generation;
	next.current_revision = o ? o->serving : (prev ? prev->current_revision : 0);
	next.conditions_json = o ? conditions_json(o) : NULL;
	next.url = url;
	next.message = (char *)message;
	rc = lp_store_status_put(&changed, st, &next, err);
	if (rc == LP_OK && changed) {
		atomic_fetch_add(&c->status_writes, 1);
		if (prev == NULL || prev->phase != phase) {
			static const char *const reasons[] = {"Pending", "Deploying", "Live",
			                                      "Failed", "Deleting"};
			lp_ctrl_event(c, st, site->id,
			              phase == LP_PHASE_FAILED ? LP_EVENT_WARNING : LP_EVENT_NORMAL,
			              reasons[phase], "%s", message);
		}
	}
	free(next.conditions_json);
	lp_store_status_free(prev);
	return rc;
}

/* The row is marked deleted: remove every trace, then the row (finalizer). */
static int finalize(lp_reconcile_result *out, struct lp_controller *c, lp_store *st,
                    const lp_store_site *site, lp_error *err)
{
	int rc;

	write_status(c, st, site, LP_PHASE_DELETING, NULL, "deleting", NULL);
	if (lp_builds_inflight(c, site->name)) {
		lp_builds_cancel(c, site->name);
		out->outcome = LP_RECONCILE_REQUEUE;
		out->requeue_after_ms = 200;
		return LP_OK;
	}
	if ((rc = lp_gc_site_containers(c, site->name, err)) != LP_OK ||
	    (rc = lp_gc_site_files(c, site->name, err)) != LP_OK) {
		char msg[LP_ERROR_MESSAGE_MAX + 32];
		snprintf(msg, sizeof(msg), "deleting: %s", err->message);
		write_status(c, st, site, LP_PHASE_DELETING, NULL, msg, NULL);
		return rc;
	}
	if ((rc = lp_store_site_delete(st, site->id, err)) != LP_OK && rc != LP_ENOTFOUND)
		return rc;
	LP_INFO(COMPONENT, "%s: deleted", site->name);
	return LP_OK;
}

/* The row is gone (or never was): nothing of the site may remain. */
static int ensure_absent(lp_reconcile_result *out, struct lp_controller *c, const char *name,
                         lp_error *err)
{
	int rc;

	if (lp_builds_inflight(c, name)) {
		lp_builds_cancel(c, name);
		out->outcome = LP_RECONCILE_REQUEUE;
		out->requeue_after_ms = 200;
		return LP_OK;
	}
	if ((rc = lp_gc_site_containers(c, name, err)) != LP_OK)
		return rc;
	return lp_gc_site_files(c, name, err);
}

/* Start, keep or supersede the build of the desired revision. */
static int drive_build(lp_reconcile_result *out, struct observation *o, struct lp_controller *c,
                       const lp_store_site *site, const lp_site *spec, const lp_store_revision *rev,
                       lp_error *err)
{
	long inflight = lp_builds_inflight(c, site->name);
	int rc;

	if (inflight && inflight != o->desired) {
		/* A newer (or rolled-back-to) desired revision supersedes the running build. */
		LP_INFO(COMPONENT, "%s: cancelling build of revision %ld (desired is %ld)",
		        site->name, inflight, o->desired);
		lp_builds_cancel(c, site->name);
		out->outcome = LP_RECONCILE_REQUEUE;
		out->requeue_after_ms = 200;
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
	rc = lp_builds_start(c, site->name, spec, o->desired, rev->source, err);
	if (rc == LP_EUNAVAILABLE) { /* every build slot busy: look again shortly */
		out->outcome = LP_RECONCILE_REQUEUE;
		out->requeue_after_ms = 1000;
		o->building = 1;
		return LP_OK;
	}
	if (rc == LP_OK)
		o->building = 1;
	return rc;
}

/*
 * Build containers of this site that no build thread owns: left by a crash whose start-up gc
 * could not finish. Steady state has none, so this costs nothing then.
 */
static void remove_orphan_builds(struct lp_controller *c, const char *site,
                                 const lp_docker_summaries *observed)
{
	long inflight = lp_builds_inflight(c, site);
	size_t i;

	for (i = 0; i < observed->n; i++) {
		const lp_docker_summary *o = &observed->items[i];
		const char *role = lp_docker_kv_get(o->labels, o->nlabels, "launchpad.role");
		const char *rev = lp_docker_kv_get(o->labels, o->nlabels, "launchpad.revision");
		if (role == NULL || strcmp(role, "build") ||
		    (inflight && rev && atol(rev) == inflight))
			continue;
		LP_INFO(COMPONENT, "%s: removing orphaned build container %s", site, o->id);
		lp_docker_container_remove(c->docker, o->id,
		                           LP_DOCKER_RM_FORCE | LP_DOCKER_RM_MISSING_OK, NULL);
		lp_observe_invalidate(c, site);
	}
}

/* Make the serve side match: config file, networks, then the container itself. */
static int serve(lp_serve_result *out, struct lp_controller *c, const char *name,
                 const lp_site *spec, lp_error *err)
{
	lp_docker_summaries *observed = NULL;
	char *conf = NULL;
	int rc;

	if ((rc = lp_serve_write_conf(&conf, c, name, spec, err)) != LP_OK ||
	    (rc = lp_serve_ensure_networks(c, err)) != LP_OK ||
	    (rc = lp_observe_site(&observed, c, name, err)) != LP_OK)
		goto done;
	remove_orphan_builds(c, name, observed);
	rc = lp_serve_ensure(out, c, name, conf, observed, err);
done:
	lp_docker_summaries_free(observed);
	free(conf);
	return rc;
}

static int reconcile_site(lp_reconcile_result *out, struct lp_controller *c, lp_store *st,
                          const lp_store_site *site, lp_error *err)
{
	struct observation o = {0};
	lp_spec_options opts = {.allow_insecure_sources = c->cfg->allow_insecure_sources};
	lp_spec_diags diags;
	lp_site_list parsed = {0};
	lp_store_revision *rev = NULL;
	char *site_dir = NULL, msg[1400];
	long current = 0;
	lp_store_phase phase;
	int rc;

	lp_spec_diags_init(&diags);
	if (lp_spec_parse(&parsed, site->spec_json, strlen(site->spec_json), &opts, &diags, err) !=
	        LP_OK ||
	    parsed.count != 1) {
		write_status(c, st, site, LP_PHASE_FAILED, NULL, "stored spec is invalid", NULL);
		out->outcome = LP_RECONCILE_TERMINAL;
		rc = LP_OK;
		goto done;
	}
	site_dir = lp_ctrl_path(c, "sites/%s", site->name);
	if (site_dir == NULL) {
		rc = lp_error_set(err, LP_ENOMEM, "out of memory");
		goto done;
	}
	o.desired = (long)site->desired_revision;
	if (o.desired <= 0) {
		rc = write_status(c, st, site, LP_PHASE_PENDING, &o, "no revision requested", err);
		goto done;
	}
	if ((rc = lp_store_revision_get(&rev, st, site->id, o.desired, err)) != LP_OK)
		goto done;
	o.desired_ready = lp_publish_is_ready(site_dir, o.desired);
	if ((rc = drive_build(out, &o, c, site, parsed.items[0], rev, err)) != LP_OK)
		goto done;
	if (o.desired_ready && rev->state != LP_REV_READY && !lp_builds_inflight(c, site->name)) {
		/* Published but not recorded (crash between the two): the disk is the truth. */
		rev->state = LP_REV_READY;
		lp_store_revision_update(st, rev, NULL);
	}

	if ((rc = lp_publish_current_revision(&current, site_dir, err)) != LP_OK)
		goto done;
	o.serving = o.desired_ready ? o.desired : current;
	if (o.serving > 0) {
		lp_error perr = {0};
		size_t pruned = 0;
		if (o.serving != current) {
			if ((rc = lp_publish_switch(site_dir, o.serving, err)) != LP_OK)
				goto done;
			atomic_fetch_add(&c->file_writes, 1);
			LP_INFO(COMPONENT, "%s: revision %ld is now current", site->name,
			        o.serving);
		}
		/* Old revisions that cannot be removed must not stop the site from being served. */
		if (lp_publish_prune(&pruned, site_dir,
		                     (size_t)parsed.items[0]->revision_history_limit, o.serving,
		                     &perr) != LP_OK)
			LP_WARN(COMPONENT, "%s: pruning old revisions: %s", site->name,
			        perr.message);
		atomic_fetch_add(&c->file_writes, pruned);
		lp_serve_result sr = {0};

		rc = serve(&sr, c, site->name, parsed.items[0], err);
		o.running = sr.running;
		if (rc == LP_OK && sr.requeue_ms > 0) {
			out->outcome = LP_RECONCILE_REQUEUE;
			out->requeue_after_ms = (uint64_t)sr.requeue_ms;
		}
		if (rc != LP_OK) {
			/* Status tells the truth: say why it is not served, then retry with
			 * backoff. */
			snprintf(msg, sizeof(msg),
			         "revision %ld is ready but cannot be served: %s (retrying)",
			         o.serving, err->message);
			write_status(c, st, site, o.failed ? LP_PHASE_FAILED : LP_PHASE_DEPLOYING,
			             &o, msg, NULL);
			goto done;
		}
	}

	if (o.desired_ready && o.serving == o.desired && o.running) {
		phase = LP_PHASE_LIVE;
		snprintf(msg, sizeof(msg), "revision %ld is live", o.desired);
	} else if (o.failed) {
		phase = LP_PHASE_FAILED;
		if (o.serving > 0)
			snprintf(msg, sizeof(msg),
			         "revision %ld failed: %s (still serving revision %ld)", o.desired,
			         o.failure ? o.failure : "", o.serving);
		else
			snprintf(msg, sizeof(msg), "revision %ld failed: %s", o.desired,
			         o.failure ? o.failure : "");
	} else {
		phase = LP_PHASE_DEPLOYING;
		snprintf(msg, sizeof(msg),
		         o.building ? "building revision %ld" : "deploying revision %ld",
		         o.desired);
	}
	rc = write_status(c, st, site, phase, &o, msg, err);
done:
	lp_store_revision_free(rev);
	lp_site_list_release(&parsed);
	lp_spec_diags_release(&diags);
	free(site_dir);
	return rc;
}

int lp_controller_reconcile(lp_reconcile_result *out, lp_controller *c, const char *name,
                            lp_error *err)
{
	lp_store_site *site = NULL;
	lp_store *st = NULL;
	int rc;

	out->outcome = LP_RECONCILE_OK;
	out->requeue_after_ms = 0;
	atomic_fetch_add(&c->reconciles, 1);
	/* Keys come from Docker labels too: never let one name a path outside the data dir. */
	if ((rc = lp_spec_check_name(name, err)) != LP_OK) {
		out->outcome = LP_RECONCILE_TERMINAL;
		return rc;
	}
	if ((rc = lp_ctrl_store_acquire(&st, c, err)) != LP_OK)
		goto done;
	rc = lp_store_site_get_by_name(&site, st, name, err);
	if (rc == LP_ENOTFOUND) {
		rc = ensure_absent(out, c, name, err);
		goto done;
	}
	if (rc != LP_OK)
		goto done;
	if (site->deletion_timestamp)
		rc = finalize(out, c, st, site, err);
	else
		rc = reconcile_site(out, c, st, site, err);
done:
	if (rc != LP_OK && out->outcome == LP_RECONCILE_OK)
		out->outcome = LP_RECONCILE_ERROR;
	lp_store_site_free(site);
	lp_ctrl_store_release(c, st);
	return rc;
}
