/* builds.c: builds run on their own threads; reconcile starts, supersedes and observes them. */
#include "controller/controller_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline/build.h"
#include "launchpad/log.h"

#define COMPONENT "builds"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct lp_inflight *find_live(struct lp_controller *c, const char *site)
{
	struct lp_inflight *b;

	for (b = c->builds; b; b = b->next)
		if (!atomic_load(&b->finished) && !strcmp(b->site, site))
			return b;
	return NULL;
}

long lp_builds_inflight(struct lp_controller *c, const char *site)
{
	struct lp_inflight *b;
	long n = 0;

	pthread_mutex_lock(&c->builds_mu);
	b = find_live(c, site);
	if (b)
		n = b->revision;
	pthread_mutex_unlock(&c->builds_mu);
	return n;
}

/* Record the revision's progress; a store hiccup is logged, the next reconcile corrects it. */
static void set_revision(lp_store *st, const char *site_id, long n, lp_store_rev_state state,
                         const char *message, const char *resolved, const char *log_path, int start,
                         int finish)
{
	lp_store_revision *rev = NULL;
	lp_error err = {0};

	if (lp_store_revision_get(&rev, st, site_id, n, &err) != LP_OK) {
		LP_WARN(COMPONENT, "revision %ld: %s", n, err.message);
		return;
	}
	rev->state = state;
	free(rev->message);
	rev->message = strdup(message ? message : "");
	if (resolved && *resolved) {
		free(rev->resolved_source);
		rev->resolved_source = strdup(resolved);
	}
	if (log_path) {
		free(rev->log_path);
		rev->log_path = strdup(log_path);
	}
	if (start)
		rev->started_at = now_ms();
	if (finish)
		rev->finished_at = now_ms();
	if (lp_store_revision_update(st, rev, &err) != LP_OK)
		LP_WARN(COMPONENT, "revision %ld: %s", n, err.message);
	lp_store_revision_free(rev);
}

static void *build_main(void *arg)
{
	struct lp_inflight *b = arg;
	struct lp_controller *c = b->ctl;
	lp_build_request req = {0};
	lp_build_result res = {0};
	lp_store_site *site = NULL;
	lp_store *st = NULL;
	lp_error err = {0};
	int rc;

	if (lp_ctrl_store_acquire(&st, c, &err) != LP_OK ||
	    lp_store_site_get_by_name(&site, st, b->site, &err) != LP_OK) {
		LP_WARN(COMPONENT, "%s: build of revision %ld not started: %s", b->site,
		        b->revision, err.message);
		goto done;
	}
	set_revision(st, site->id, b->revision, LP_REV_BUILDING, "building", NULL, NULL, 1, 0);
	lp_ctrl_event(c, st, site->id, LP_EVENT_NORMAL, "BuildStarted", "building revision %ld",
	              b->revision);

	req.cfg = c->cfg;
	req.docker = c->docker;
	req.site_name = b->site;
	req.spec = b->spec;
	req.revision = b->revision;
	req.source = b->source;
	req.cancel = &b->cancel;
	req.build_uid = 1000;
	req.build_gid = 1000;
	rc = lp_build_revision(&res, &req, &err);

	if (rc == LP_OK) {
		char msg[256];
		snprintf(msg, sizeof(msg), "built in %.1f s", (double)res.duration_ms / 1000.0);
		set_revision(st, site->id, b->revision, LP_REV_READY, msg, res.resolved_source,
		             res.log_path, 0, 1);
		lp_ctrl_event(c, st, site->id, LP_EVENT_NORMAL, "BuildSucceeded", "revision %ld %s",
		              b->revision, msg);
	} else if (rc == LP_ECANCELED) {
		/* Superseded or shutting down: the next reconcile decides what happens next. */
		int shutting_down = atomic_load(&c->stopping);
		set_revision(st, site->id, b->revision,
		             shutting_down ? LP_REV_INTERRUPTED : LP_REV_SUPERSEDED,
		             shutting_down ? "interrupted by shutdown"
		                           : "superseded by a newer revision",
		             res.resolved_source, res.log_path, 0, 1);
	} else {
		set_revision(st, site->id, b->revision, LP_REV_FAILED, err.message,
		             res.resolved_source, res.log_path, 0, 1);
		lp_ctrl_event(c, st, site->id, LP_EVENT_WARNING, "BuildFailed", "revision %ld: %s",
		              b->revision, err.message);
	}
done:
	lp_store_site_free(site);
	lp_ctrl_store_release(c, st);
	pthread_mutex_lock(&c->builds_mu);
	atomic_store(&b->finished, 1);
	c->nbuilds--;
	pthread_cond_broadcast(&c->builds_cv);
	pthread_mutex_unlock(&c->builds_mu);
	lp_queue_add(c->queue, b->site); /* reconcile sees the result */
	return NULL;
}

int lp_builds_start(struct lp_controller *c, const char *site, const lp_site *spec, long revision,
                    const char *source, lp_error *err)
{
	struct lp_inflight *b = NULL;
	int rc = LP_OK;

	lp_builds_reap(c);
	pthread_mutex_lock(&c->builds_mu);
	if (atomic_load(&c->stopping)) {
		rc = lp_error_set(err, LP_ECANCELED, "shutting down: no new builds");
		goto done;
	}
	if (find_live(c, site)) {
		rc = lp_error_set(err, LP_ECONFLICT, "a build of %s is already running", site);
		goto done;
	}
	if (c->nbuilds >= LP_CTRL_MAX_BUILDS) {
		rc = lp_error_set(err, LP_EUNAVAILABLE, "all build slots are busy");
		goto done;
	}
	b = calloc(1, sizeof(*b));
	if (b == NULL || (b->site = strdup(site)) == NULL ||
	    (b->source = strdup(source ? source : "")) == NULL ||
	    lp_site_dup(&b->spec, spec, err) != LP_OK) {
		rc = lp_error_set(err, LP_ENOMEM, "out of memory");
		goto done;
	}
	b->revision = revision;
	b->ctl = c;
	if (pthread_create(&b->thread, NULL, build_main, b) != 0) {
		rc = lp_error_set(err, LP_ERROR, "cannot start a build thread");
		goto done;
	}
	b->next = c->builds;
	c->builds = b;
	c->nbuilds++;
	atomic_fetch_add(&c->builds_started, 1);
	b = NULL;
done:
	pthread_mutex_unlock(&c->builds_mu);
	if (b) {
		lp_site_free(b->spec);
		free(b->site);
		free(b->source);
		free(b);
	}
	return rc;
}

void lp_builds_cancel(struct lp_controller *c, const char *site)
{
	struct lp_inflight *b;

	pthread_mutex_lock(&c->builds_mu);
	for (b = c->builds; b; b = b->next)
		if (!strcmp(b->site, site))
			atomic_store(&b->cancel, 1);
	pthread_mutex_unlock(&c->builds_mu);
}

void lp_builds_cancel_all(struct lp_controller *c)
{
	struct lp_inflight *b;

	pthread_mutex_lock(&c->builds_mu);
	for (b = c->builds; b; b = b->next)
		atomic_store(&b->cancel, 1);
	pthread_mutex_unlock(&c->builds_mu);
}

void lp_builds_reap(struct lp_controller *c)
{
	struct lp_inflight **pp, *done_list = NULL, *b;

	pthread_mutex_lock(&c->builds_mu);
	for (pp = &c->builds; *pp;) {
		b = *pp;
		if (atomic_load(&b->finished)) {
			*pp = b->next;
			b->next = done_list;
			done_list = b;
		} else {
			pp = &b->next;
		}
	}
	pthread_mutex_unlock(&c->builds_mu);
	while (done_list) {
		b = done_list;
		done_list = b->next;
		pthread_join(b->thread, NULL);
		lp_site_free(b->spec);
		free(b->site);
		free(b->source);
		free(b);
	}
}
