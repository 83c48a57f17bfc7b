/* controller.c: the controller's lifecycle, store handle pool, workers and wake-up sources. */
#include "controller/controller_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "launchpad/fs.h"
#include "launchpad/log.h"

#define COMPONENT "controller"

char *lp_ctrl_path(const struct lp_controller *c, const char *fmt, ...)
{
	char rel[4096], *p = NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if (asprintf(&p, "%s/%s", c->cfg->data_dir, rel) < 0)
		return NULL;
	return p;
}

int lp_ctrl_store_acquire(lp_store **out, struct lp_controller *c, lp_error *err)
{
	*out = NULL;
	pthread_mutex_lock(&c->pool_mu);
	if (c->npool > 0)
		*out = c->pool[--c->npool];
	pthread_mutex_unlock(&c->pool_mu);
	if (*out)
		return LP_OK;
	return lp_store_open(out, c->db_path, err);
}

void lp_ctrl_store_release(struct lp_controller *c, lp_store *st)
{
	if (st == NULL)
		return;
	pthread_mutex_lock(&c->pool_mu);
	if (c->npool < LP_CTRL_STORE_POOL) {
		c->pool[c->npool++] = st;
		st = NULL;
	}
	pthread_mutex_unlock(&c->pool_mu);
	lp_store_close(st);
}

void lp_ctrl_event(struct lp_controller *c, lp_store *st, const char *site_id,
                   lp_store_event_type type, const char *reason, const char *fmt, ...)
{
	char msg[1024];
	lp_error err = {0};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lp_log(type == LP_EVENT_WARNING ? LP_LOG_WARN : LP_LOG_INFO, COMPONENT, "%s: %s", reason,
	       msg);
	if (lp_store_event_add(st, site_id, type, reason, msg, &err) != LP_OK)
		LP_WARN(COMPONENT, "recording event %s: %s", reason, err.message);
}

int lp_controller_new(lp_controller **out, const lp_config *cfg, lp_error *err)
{
	struct lp_controller *c = NULL;
	lp_docker_options dopts = {0};
	char *dbdir = NULL;
	int rc = LP_OK;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	c->cfg = cfg;
	c->wake_fd = -1;
	pthread_mutex_init(&c->pool_mu, NULL);
	pthread_mutex_init(&c->obs_mu, NULL);
	pthread_mutex_init(&c->builds_mu, NULL);
	pthread_cond_init(&c->builds_cv, NULL);
	lp_docker_cancel_init(&c->events_cancel);
	c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	dbdir = lp_ctrl_path(c, "db");
	c->db_path = lp_ctrl_path(c, "db/launchpad.db");
	if (c->wake_fd < 0 || dbdir == NULL || c->db_path == NULL) {
		rc = lp_error_set(err, LP_ENOMEM, "controller set-up failed");
		goto done;
	}
	if ((rc = lp_fs_mkdirs(dbdir, 0700, err)) != LP_OK ||
	    (rc = lp_ctrl_prepare_data_dir(cfg, err)) != LP_OK)
		goto done;
	if ((rc = lp_queue_new(&c->queue, 5, 5 * 60 * 1000)) != LP_OK) {
		lp_error_set(err, rc, "out of memory");
		goto done;
	}
	dopts.socket_path = cfg->docker_socket;
	if ((rc = lp_docker_new(&c->docker, &dopts, err)) != LP_OK)
		goto done;
	*out = c;
	c = NULL;
done:
	free(dbdir);
	lp_controller_free(c);
	return rc;
}

void lp_controller_free(lp_controller *c)
{
	int i;

	if (c == NULL)
		return;
	lp_builds_cancel_all(c);
	if (lp_controller_wait_builds(c, 10000) != LP_OK) {
		/* A build thread still uses the handles below: leaking them beats a use-after-free.
		 */
		LP_ERR(COMPONENT, "builds still running at exit; not freeing the controller");
		return;
	}
	lp_builds_reap(c);
	for (i = 0; i < c->npool; i++)
		lp_store_close(c->pool[i]);
	lp_observe_free(c);
	lp_queue_free(c->queue);
	lp_docker_free(c->docker);
	if (c->wake_fd >= 0)
		close(c->wake_fd);
	free(c->db_path);
	pthread_cond_destroy(&c->builds_cv);
	pthread_mutex_destroy(&c->builds_mu);
	pthread_mutex_destroy(&c->obs_mu);
	pthread_mutex_destroy(&c->pool_mu);
	free(c);
}

void lp_controller_stats_get(lp_controller_stats *out, lp_controller *c)
{
	lp_docker_counters dc;

	lp_docker_counters_get(&dc, c->docker);
	out->docker_reads = dc.reads;
	out->docker_writes = dc.writes;
	out->file_writes = atomic_load(&c->file_writes);
	out->status_writes = atomic_load(&c->status_writes);
	out->reconciles = atomic_load(&c->reconciles);
	out->builds_started = atomic_load(&c->builds_started);
	out->gc_removed = atomic_load(&c->gc_removed);
}

/* ---- wake-up sources ------------------------------------------------------------------------ */

/* Queue every site in the store (resync, Docker reconnect). */
static void enqueue_all(struct lp_controller *c)
{
	lp_store_site *sites = NULL;
	size_t n = 0, i;
	lp_store *st = NULL;
	lp_error err = {0};

	if (lp_ctrl_store_acquire(&st, c, &err) != LP_OK ||
	    lp_store_site_list(&sites, &n, st, 1, &err) != LP_OK) {
		LP_WARN(COMPONENT, "resync: %s", err.message);
		goto done;
	}
	for (i = 0; i < n; i++)
		lp_queue_add(c->queue, sites[i].name);
done:
	lp_store_sites_free(sites, n);
	lp_ctrl_store_release(c, st);
}

int lp_controller_resync_pass(size_t *out, lp_controller *c, lp_error *err)
{
	lp_store_site *sites = NULL;
	lp_store *st = NULL;
	size_t n = 0, i;
	int rc;

	if (out)
		*out = 0;
	if ((rc = lp_observe_resync(c, err)) != LP_OK ||
	    (rc = lp_ctrl_store_acquire(&st, c, err)) != LP_OK ||
	    (rc = lp_store_site_list(&sites, &n, st, 1, err)) != LP_OK)
		goto done;
	lp_ctrl_store_release(c, st);
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
	lp_ctrl_store_release(c, st);
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
	char *dbdir = lp_ctrl_path(c, "db");
	int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);

	if (ifd < 0 || dbdir == NULL ||
	    inotify_add_watch(ifd, dbdir, IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) < 0)
		LP_WARN(COMPONENT, "inotify on %s failed (%s): polling once a second instead",
		        dbdir ? dbdir : "db", strerror(errno));
	if (lp_store_open(&st, c->db_path, &err) != LP_OK) {
		LP_ERR(COMPONENT, "store watch: %s", err.message);
		goto done;
	}
	while (!atomic_load(&c->stopping)) {
		struct pollfd pfd[2] = {{.fd = c->wake_fd, .events = POLLIN},
		                        {.fd = ifd, .events = POLLIN}};
		char buf[4096];
		int64_t v = 0;

		/* The timeout is a safety net: inotify is the wake-up, the poll is the fallback. */
		if (poll(pfd, ifd >= 0 ? 2 : 1, 1000) > 0 && (pfd[1].revents & POLLIN)) {
			while (read(ifd, buf, sizeof(buf)) > 0)
				;
			usleep(5000); /* let a burst of WAL writes settle into one look */
			while (read(ifd, buf, sizeof(buf)) > 0)
				;
		}
		if (atomic_load(&c->stopping))
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
	free(dbdir);
	return NULL;
}

static int on_docker_event(void *ctx, const lp_docker_event *ev)
{
	struct lp_controller *c = ctx;
	const char *site = lp_docker_kv_get(ev->attrs, ev->nattrs, "launchpad.site");

	if (site == NULL)
		return 0;
	LP_DEBUG(COMPONENT, "docker event %s on %s (site %s)", ev->action, ev->id, site);
	lp_observe_invalidate(c, site);
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
	atomic_store(&c->networks_ok, 0);
	if (lp_observe_resync(c, &err) != LP_OK)
		LP_WARN(COMPONENT, "resync after connect: %s", err.message);
	enqueue_all(c);
}

static void *events_main(void *arg)
{
	struct lp_controller *c = arg;
	char label[512];
	const char *labels[2] = {label, NULL};
	lp_docker_events_options opts = {0};
	lp_error err = {0};

	snprintf(label, sizeof(label), "launchpad.instance=%s", c->cfg->instance);
	opts.type = "container";
	opts.labels = labels;
	opts.since = (int64_t)time(NULL);
	opts.reconnect = 1;
	opts.max_backoff_ms = 2000;
	opts.on_connected = on_docker_connected;
	while (!atomic_load(&c->stopping)) {
		int rc = lp_docker_events_watch(c->docker, &opts, on_docker_event, c,
		                                &c->events_cancel, &err);
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

	atomic_store(&c->stopping, 1);
	lp_queue_shutdown(c->queue);
	lp_docker_cancel_request(&c->events_cancel);
	w = write(c->wake_fd, &one, sizeof(one));
	(void)w;
}

int lp_controller_wait_builds(lp_controller *c, int timeout_ms)
{
	struct timespec ts;
	int rc = LP_OK;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&c->builds_mu);
	while (c->nbuilds > 0 && rc == LP_OK)
		if (pthread_cond_timedwait(&c->builds_cv, &c->builds_mu, &ts) == ETIMEDOUT)
			rc = LP_ETIMEOUT;
	pthread_mutex_unlock(&c->builds_mu);
	return rc;
}

int lp_controller_run(lp_controller *c, int grace_seconds, lp_error *err)
{
	pthread_t workers[64], watcher, events;
	int nworkers = c->cfg->workers > 64 ? 64 : c->cfg->workers, i, rc;
	int resync_s = c->cfg->resync_seconds > 0 ? c->cfg->resync_seconds : 60;

	if ((rc = lp_controller_gc(c, err)) != LP_OK)
		LP_WARN(COMPONENT, "start-up gc: %s (continuing; the next pass retries)",
		        err->message);
	for (i = 0; i < nworkers; i++)
		pthread_create(&workers[i], NULL, worker_main, c);
	pthread_create(&watcher, NULL, store_watch_main, c);
	pthread_create(&events, NULL, events_main, c);
	LP_INFO(COMPONENT, "running: instance %s, data dir %s, %d workers, resync every %d s",
	        c->cfg->instance, c->cfg->data_dir, nworkers, resync_s);

	while (!atomic_load(&c->stopping)) {
		struct pollfd pfd = {.fd = c->wake_fd, .events = POLLIN};
		lp_error rerr = {0};

		if (poll(&pfd, 1, resync_s * 1000) != 0)
			continue; /* woken to stop (or interrupted) */
		if (lp_observe_resync(c, &rerr) != LP_OK)
			LP_WARN(COMPONENT, "periodic resync: %s", rerr.message);
		enqueue_all(c);
		lp_builds_reap(c);
	}

	LP_INFO(COMPONENT, "stopping: waiting up to %d s for running builds", grace_seconds);
	for (i = 0; i < nworkers; i++)
		pthread_join(workers[i], NULL);
	pthread_join(watcher, NULL);
	pthread_join(events, NULL);
	if (lp_controller_wait_builds(c, grace_seconds * 1000) != LP_OK) {
		LP_WARN(COMPONENT, "builds still running after %d s: cancelling them",
		        grace_seconds);
		lp_builds_cancel_all(c);
		lp_controller_wait_builds(c, 10000);
	}
	lp_builds_reap(c);
	{
		lp_error terr = {0};
		if (lp_controller_teardown_if_down(c, &terr) != LP_OK)
			LP_WARN(COMPONENT, "teardown: %s", terr.message);
	}
	LP_INFO(COMPONENT, "stopped");
	return LP_OK;
}
