/* controller.c: the controller's lifecycle, its workers and its wake-up sources. */
#include "controller/controller.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "controller/controller_internal.h"
#include "controller/datadir.h"
#include "controller/gc.h"
#include "controller/ctrl_metrics.h"
#include "controller/metrics.h"
#include "controller/queue.h"
#include "controller/reconcile.h"
#include "launchpad/clock.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "launchpad/layout.h"
#include "launchpad/log.h"
#include "launchpad/names.h"

#define COMPONENT         "controller"
#define MAX_WORKERS       64
#define INOTIFY_BUF       4096
#define QUEUE_BACKOFF_MIN 5               /* ms */
#define QUEUE_BACKOFF_MAX (5 * 60 * 1000) /* ms */
#define CANCEL_WAIT_MS    10000           /* for cancelled builds to end at stop */

struct lp_controller {
	lp_parts parts; /* context, observer, builds: each owns its state */
	lp_queue *queue;
	lp_docker_cancel events_cancel;
	int wake_fd; /* eventfd: wakes the store watcher and resync loop on stop */
};

/* A finished build: its site is reconciled again, so the result is acted on. */
static void on_build_done(void *arg, const char *site)
{
	struct lp_controller *c = arg;

	lp_queue_add(c->queue, site);
}

int lp_controller_new(lp_controller **out, const lp_config *cfg, lp_error *err)
{
	struct lp_controller *c = NULL;
	int rc = LP_OK;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	lp_docker_cancel_init(&c->events_cancel);
	if (c->wake_fd < 0) {
		rc = lp_error_set(err, LP_EIO, "eventfd: %s", strerror(errno));
		goto done;
	}
	if ((rc = lp_ctx_new(&c->parts.ctx, cfg, err)) != LP_OK ||
	    (rc = lp_datadir_prepare(cfg, err)) != LP_OK ||
	    (rc = lp_observer_new(&c->parts.obs, lp_ctx_docker(c->parts.ctx), cfg->instance,
	                          err)) != LP_OK ||
	    (rc = lp_builds_new(&c->parts.builds, c->parts.ctx, on_build_done, c, err)) != LP_OK ||
	    (rc = lp_firewall_new(&c->parts.fw, cfg->instance, err)) != LP_OK ||
	    (rc = lp_applogs_new(&c->parts.applogs, lp_ctx_docker(c->parts.ctx), cfg->data_dir, 0,
	                         err)) != LP_OK ||
	    (rc = lp_specs_new(
	         &c->parts.specs,
	         &(lp_spec_options){.allow_insecure_sources = cfg->allow_insecure_sources,
	                            .allow_wildcard_domains = cfg->allow_wildcard_domains},
	         err)) != LP_OK)
		goto done;
	if ((rc = lp_queue_new(&c->queue, QUEUE_BACKOFF_MIN, QUEUE_BACKOFF_MAX)) != LP_OK) {
		lp_error_set(err, rc, "out of memory");
		goto done;
	}
	*out = c;
	c = NULL;
done:
	lp_controller_free(c);
	return rc;
}

void lp_controller_free(lp_controller *c)
{
	if (c == NULL)
		return;
	/* A build thread still running uses what is below: then everything leaks, on purpose. */
	if (lp_builds_free(c->parts.builds) != 0)
		return;
	lp_applogs_free(c->parts.applogs);
	lp_observer_free(c->parts.obs);
	lp_firewall_free(c->parts.fw);
	lp_specs_free(c->parts.specs);
	lp_queue_free(c->queue);
	lp_ctx_free(c->parts.ctx);
	if (c->wake_fd >= 0)
		close(c->wake_fd);
	free(c);
}

void lp_controller_stats_get(lp_controller_stats *out, lp_controller *c)
{
	lp_docker_counters dc = {0};
	lp_ctx *ctx = c->parts.ctx;

	lp_docker_counters_get(&dc, lp_ctx_docker(ctx));
	out->docker_reads = dc.reads;
	out->docker_writes = dc.writes;
	out->docker_write_ms = dc.write_ms;
	out->file_writes = lp_ctx_counter_get(ctx, LP_CTR_FILE_WRITES);
	out->status_writes = lp_ctx_counter_get(ctx, LP_CTR_STATUS_WRITES);
	out->reconciles = lp_ctx_counter_get(ctx, LP_CTR_RECONCILES);
	out->builds_started = lp_ctx_counter_get(ctx, LP_CTR_BUILDS_STARTED);
	out->gc_removed = lp_ctx_counter_get(ctx, LP_CTR_GC_REMOVED);
	out->firewall_writes = lp_ctx_counter_get(ctx, LP_CTR_FIREWALL_WRITES);
	out->reconcile_ms = lp_ctx_counter_get(ctx, LP_CTR_RECONCILE_MS);
	out->reconcile_errors = lp_ctx_counter_get(ctx, LP_CTR_RECONCILE_ERRORS);
	out->queue_depth = c->queue ? lp_queue_depth(c->queue) : 0;
	out->builds_running = (uint64_t)lp_builds_running(c->parts.builds);
}

int lp_controller_reconcile(lp_reconcile_result *out, lp_controller *c, const char *name,
                            lp_error *err)
{
	int64_t t0 = lp_clock_mono_ms();
	int rc = lp_reconcile(out, &c->parts, name, err);

	lp_ctx_count(c->parts.ctx, LP_CTR_RECONCILE_MS, (uint64_t)(lp_clock_mono_ms() - t0));
	if (rc != LP_OK || out->outcome == LP_RECONCILE_ERROR)
		lp_ctx_count(c->parts.ctx, LP_CTR_RECONCILE_ERRORS, 1);
	return rc;
}

int lp_controller_gc(lp_controller *c, lp_error *err)
{
	return lp_gc_startup(&c->parts, err);
}

int lp_controller_teardown(lp_controller *c, lp_error *err)
{
	return lp_gc_teardown(&c->parts, err);
}

/* ---- wake-up sources ------------------------------------------------------------------------ */

/* Queue every site in the store (resync, Docker reconnect). */
static void enqueue_all(struct lp_controller *c)
{
	lp_store_site *sites = NULL;
	size_t n = 0, i;
	lp_store *st = NULL;
	lp_error err = {0};

	if (lp_ctx_store_acquire(&st, c->parts.ctx, &err) != LP_OK ||
	    lp_store_site_list(&sites, &n, st, 1, &err) != LP_OK) {
		LP_WARN(COMPONENT, "resync: %s", err.message);
		goto done;
	}
	for (i = 0; i < n; i++)
		lp_queue_add(c->queue, sites[i].name);
done:
	lp_store_sites_free(sites, n);
	lp_ctx_store_release(c->parts.ctx, st);
}

int lp_controller_resync_pass(size_t *out, lp_controller *c, lp_error *err)
{
	lp_store_site *sites = NULL;
	lp_store *st = NULL;
	size_t n = 0, i;
	int rc;

	if (out)
		*out = 0;
	if ((rc = lp_observer_resync(c->parts.obs, err)) != LP_OK ||
	    (rc = lp_ctx_store_acquire(&st, c->parts.ctx, err)) != LP_OK ||
	    (rc = lp_store_site_list(&sites, &n, st, 1, err)) != LP_OK)
		goto done;
	lp_ctx_store_release(c->parts.ctx, st);
	st = NULL;
	for (i = 0; i < n; i++) {
		lp_reconcile_result res;
		lp_error rerr = {0};
		if (lp_controller_reconcile(&res, c, sites[i].name, &rerr) != LP_OK)
			LP_WARN(COMPONENT, "resync %s: %s", sites[i].name, rerr.message);
	}
	if (out)
		*out = n;
done:
	lp_store_sites_free(sites, n);
	lp_ctx_store_release(c->parts.ctx, st);
	return rc;
}

static void *worker_main(void *arg)
{
	struct lp_controller *c = arg;
	char *key = NULL;

	while (lp_queue_get(&key, c->queue) == LP_OK) {
		lp_reconcile_result res = {0};
		lp_error err = {0};
		int rc = lp_controller_reconcile(&res, c, key, &err);

		if (rc != LP_OK)
			LP_WARN(COMPONENT, "reconcile %s: %s", key, err.message);
		switch (res.outcome) {
		case LP_RECONCILE_ERROR:
			lp_queue_add_rate_limited(c->queue, key);
			break;
		case LP_RECONCILE_REQUEUE:
			lp_queue_forget(c->queue, key);
			lp_queue_add_after(c->queue, key, res.requeue_after_ms);
			break;
		case LP_RECONCILE_OK:
		case LP_RECONCILE_TERMINAL:
			lp_queue_forget(c->queue, key);
			break;
		}
		lp_queue_done(c->queue, key);
		free(key);
		key = NULL;
	}
	return NULL;
}

struct seen_site {
	char *name;
	int64_t rv;
};

/* Queue the sites whose desired state changed since the last look (by resource_version). */
static int diff_store(struct lp_controller *c, lp_store *st, struct seen_site **seen, size_t *nseen)
{
	lp_store_site *sites = NULL;
	struct seen_site *next = NULL;
	size_t n = 0, i, j;
	lp_error err = {0};
	int rc;

	if ((rc = lp_store_site_list(&sites, &n, st, 1, &err)) != LP_OK) {
		LP_WARN(COMPONENT, "store watch: %s", err.message);
		return rc;
	}
	next = calloc(n ? n : 1, sizeof(*next));
	if (next == NULL) {
		rc = LP_ENOMEM;
		goto done;
	}
	for (i = 0; i < n; i++) {
		int known = 0;
		for (j = 0; j < *nseen; j++) {
			if ((*seen)[j].name && !strcmp((*seen)[j].name, sites[i].name)) {
				known = (*seen)[j].rv == sites[i].resource_version;
				free((*seen)[j].name);
				(*seen)[j].name = NULL; /* matched */
				break;
			}
		}
		if (!known)
			lp_queue_add(c->queue, sites[i].name);
		next[i].name = strdup(sites[i].name);
		next[i].rv = sites[i].resource_version;
	}
	for (j = 0; j < *nseen; j++) { /* rows gone from the store: make sure nothing is left */
		if ((*seen)[j].name) {
			lp_queue_add(c->queue, (*seen)[j].name);
			free((*seen)[j].name);
		}
	}
	free(*seen);
	*seen = next;
	*nseen = n;
	next = NULL;
done:
	free(next);
	lp_store_sites_free(sites, n);
	return rc;
}

static void *store_watch_main(void *arg)
{
	struct lp_controller *c = arg;
	struct seen_site *seen = NULL;
	size_t nseen = 0, i;
	int64_t last_version = -1;
	lp_store *st = NULL;
	lp_error err = {0};
	char dbdir[LP_FS_PATH_MAX];
	int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);

	if (lp_layout_dir_path(dbdir, sizeof(dbdir), lp_ctx_cfg(c->parts.ctx)->data_dir,
	                       LP_DIR_DB) != LP_OK ||
	    ifd < 0 ||
	    inotify_add_watch(ifd, dbdir, IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) < 0)
		LP_WARN(COMPONENT, "inotify on %s failed (%s): polling once a second instead",
		        dbdir, strerror(errno));
	if (lp_store_open(&st, lp_ctx_db_path(c->parts.ctx), &err) != LP_OK) {
		LP_ERR(COMPONENT, "store watch: %s", err.message);
		goto done;
	}
	while (!lp_ctx_stopping(c->parts.ctx)) {
		struct pollfd pfd[2] = {{.fd = c->wake_fd, .events = POLLIN},
		                        {.fd = ifd, .events = POLLIN}};
		char buf[INOTIFY_BUF];
		int64_t v = 0;

		/* The timeout is a safety net: inotify is the wake-up, the poll is the fallback. */
		if (poll(pfd, ifd >= 0 ? 2 : 1, 1000) > 0 && (pfd[1].revents & POLLIN)) {
			while (read(ifd, buf, sizeof(buf)) > 0)
				;
			usleep(5000); /* let a burst of WAL writes settle into one look */
			while (read(ifd, buf, sizeof(buf)) > 0)
				;
		}
		if (lp_ctx_stopping(c->parts.ctx))
			break;
		if (lp_store_data_version(&v, st, &err) != LP_OK)
			continue;
		if (v == last_version)
			continue;
		/* Remember the version only once the diff read it, so a failed list is retried. */
		if (diff_store(c, st, &seen, &nseen) == LP_OK)
			last_version = v;
	}
done:
	for (i = 0; i < nseen; i++)
		free(seen[i].name);
	free(seen);
	lp_store_close(st);
	if (ifd >= 0)
		close(ifd);
	return NULL;
}

static int on_docker_event(void *ctx, const lp_docker_event *ev)
{
	struct lp_controller *c = ctx;
	const char *site = lp_docker_kv_get(ev->attrs, ev->nattrs, LP_LABEL_SITE);

	if (site == NULL)
		return 0;
	/*
	 * An app's health check runs as an exec every interval: its exec_* events change nothing
	 * the controller reads (the "health_status: ..." event that a change makes does).
	 */
	if (ev->action && !strncmp(ev->action, "exec_", 5))
		return 0;
	LP_DEBUG(COMPONENT, "docker event %s on %s (site %s)", ev->action, ev->id, site);
	lp_observer_invalidate(c->parts.obs, site);
	lp_queue_add(c->queue, site);
	return 0;
}

static void on_docker_connected(void *ctx, int attempt)
{
	struct lp_controller *c = ctx;
	lp_error err = {0};

	if (attempt > 0)
		LP_INFO(COMPONENT, "Docker events stream re-established (attempt %d): resyncing",
		        attempt);
	lp_ctx_set_networks_ok(c->parts.ctx, 0);
	if (lp_observer_resync(c->parts.obs, &err) != LP_OK)
		LP_WARN(COMPONENT, "resync after connect: %s", err.message);
	enqueue_all(c);
}

static void *events_main(void *arg)
{
	struct lp_controller *c = arg;
	char label[LP_NAMES_MAX];
	const char *labels[2] = {label, NULL};
	lp_docker_events_options opts = {0};
	lp_error err = {0};

	if (lp_names_label_filter(label, sizeof(label), LP_LABEL_INSTANCE,
	                          lp_ctx_cfg(c->parts.ctx)->instance) != LP_OK) {
		LP_ERR(COMPONENT, "instance id too long for a label filter: no Docker events");
		return NULL;
	}
	opts.type = "container";
	opts.labels = labels;
	opts.since = (int64_t)time(NULL);
	opts.reconnect = 1;
	opts.max_backoff_ms = 2000;
	opts.on_connected = on_docker_connected;
	while (!lp_ctx_stopping(c->parts.ctx)) {
		int rc = lp_docker_events_watch(lp_ctx_docker(c->parts.ctx), &opts, on_docker_event,
		                                c, &c->events_cancel, &err);
		if (rc == LP_ECANCELED)
			break;
		LP_WARN(COMPONENT, "Docker events: %s; retrying", err.message);
		sleep(1);
	}
	return NULL;
}

void lp_controller_stop(lp_controller *c)
{
	uint64_t one = 1;
	ssize_t w;

	lp_ctx_set_stopping(c->parts.ctx);
	lp_queue_shutdown(c->queue);
	lp_docker_cancel_request(&c->events_cancel);
	w = write(c->wake_fd, &one, sizeof(one));
	(void)w;
}

int lp_controller_wait_builds(lp_controller *c, int timeout_ms)
{
	return lp_builds_wait(c->parts.builds, timeout_ms);
}

int lp_controller_run(lp_controller *c, int grace_seconds, lp_error *err)
{
	const lp_config *cfg = lp_ctx_cfg(c->parts.ctx);
	pthread_t workers[MAX_WORKERS], watcher, events;
	lp_scrape_thread *scraper = NULL;
	lp_ctrl_metrics *own = NULL;
	int nworkers = cfg->workers > MAX_WORKERS ? MAX_WORKERS : cfg->workers, i, rc;
	int resync_s = cfg->resync_seconds > 0 ? cfg->resync_seconds : 60;

	if ((rc = lp_controller_gc(c, err)) != LP_OK)
		LP_WARN(COMPONENT, "start-up gc: %s (continuing; the next pass retries)",
		        err->message);
	for (i = 0; i < nworkers; i++)
		pthread_create(&workers[i], NULL, worker_main, c);
	pthread_create(&watcher, NULL, store_watch_main, c);
	pthread_create(&events, NULL, events_main, c);
	if (lp_scraper_start(&scraper, c->parts.ctx, c->wake_fd, err) != LP_OK)
		LP_WARN(COMPONENT, "no per-site metrics: %s", err->message);
	if (lp_ctrl_metrics_start(&own, c, cfg->controller_metrics_port, err) != LP_OK)
		LP_WARN(COMPONENT, "no controller metrics: %s", err->message);
	LP_INFO(COMPONENT, "running: instance %s, data dir %s, %d workers, resync every %d s",
	        cfg->instance, cfg->data_dir, nworkers, resync_s);

	while (!lp_ctx_stopping(c->parts.ctx)) {
		struct pollfd pfd = {.fd = c->wake_fd, .events = POLLIN};
		lp_error rerr = {0};

		if (poll(&pfd, 1, resync_s * 1000) != 0)
			continue; /* woken to stop (or interrupted) */
		if (lp_observer_resync(c->parts.obs, &rerr) != LP_OK)
			LP_WARN(COMPONENT, "periodic resync: %s", rerr.message);
		if (lp_gc_archives(c->parts.ctx, &rerr) != LP_OK)
			LP_WARN(COMPONENT, "archive gc: %s", rerr.message);
		enqueue_all(c);
		lp_builds_reap(c->parts.builds);
	}

	LP_INFO(COMPONENT, "stopping: waiting up to %d s for running builds", grace_seconds);
	for (i = 0; i < nworkers; i++)
		pthread_join(workers[i], NULL);
	pthread_join(watcher, NULL);
	pthread_join(events, NULL);
	lp_scraper_join(scraper);
	lp_ctrl_metrics_stop(own);
	if (lp_builds_wait(c->parts.builds, grace_seconds * 1000) != LP_OK) {
		LP_WARN(COMPONENT, "builds still running after %d s: cancelling them",
		        grace_seconds);
		lp_builds_cancel_all(c->parts.builds);
		if (lp_builds_wait(c->parts.builds, CANCEL_WAIT_MS) != LP_OK)
			LP_WARN(COMPONENT, "builds still running after cancel");
	}
	lp_builds_reap(c->parts.builds);
	{
		lp_error terr = {0};
		if (lp_gc_teardown_if_down(&c->parts, &terr) != LP_OK)
			LP_WARN(COMPONENT, "teardown: %s", terr.message);
	}
	LP_INFO(COMPONENT, "stopped");
	return LP_OK;
}
