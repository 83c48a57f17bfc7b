/* builds.c: builds run on their own threads; reconcile starts, supersedes and observes them. */
#include "controller/builds.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controller/gc.h"
#include "launchpad/clock.h"
#include "launchpad/fmt.h"
#include "launchpad/secrets.h"
#include "launchpad/lock.h"
#include "launchpad/log.h"
#include "pipeline/build.h"

#define COMPONENT      "builds"
#define BUILD_MSG_MAX  256
#define BUILDS_FREE_MS 10000

/* A build running on its own thread. */
struct lp_inflight {
	char *site;
	long revision;
	atomic_int cancel;
	atomic_int finished;
	pthread_t thread;
	lp_builds *owner;
	lp_site *spec;
	char *source;
	struct lp_inflight *next;
};

struct lp_builds {
	lp_ctx *ctx;
	lp_builds_done_fn done;
	void *done_ctx;
	lp_lock lock;
	pthread_cond_t cv;        /* signalled when a build ends */
	struct lp_inflight *list; /* under lock */
	int running;              /* under lock */
};

static struct lp_inflight *find_live(lp_builds *bs, const char *site)
{
	struct lp_inflight *b;

	LP_ASSERT_HELD(&bs->lock);
	for (b = bs->list; b; b = b->next)
		if (!atomic_load(&b->finished) && !strcmp(b->site, site))
			return b;
	return NULL;
}

long lp_builds_inflight(lp_builds *bs, const char *site)
{
	struct lp_inflight *b;
	long n = 0;

	lp_lock_acquire(&bs->lock);
	b = find_live(bs, site);
	if (b)
		n = b->revision;
	lp_lock_release(&bs->lock);
	return n;
}

/*
 * Record the revision's progress; a store hiccup is logged, the next reconcile corrects it.
 * Returns LP_ECONFLICT when a user cancelled the revision meanwhile (its state stays cancelled).
 */
static int set_revision(lp_store *st, const char *site_id, long n, lp_store_rev_state state,
                        const char *message, const char *resolved, const char *log_path, int start,
                        int finish)
{
	lp_store_revision *rev = NULL;
	lp_error err = {0};
	int rc;

	if ((rc = lp_store_revision_get(&rev, st, site_id, n, &err)) != LP_OK) {
		LP_WARN(COMPONENT, "revision %ld: %s", n, err.message);
		return rc;
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
		rev->started_at = lp_clock_wall_ms();
	if (finish)
		rev->finished_at = lp_clock_wall_ms();
	rc = lp_store_revision_update(st, rev, &err);
	if (rc == LP_ECONFLICT)
		LP_INFO(COMPONENT, "revision %ld: %s; it stays so", n, err.message);
	else if (rc != LP_OK)
		LP_WARN(COMPONENT, "revision %ld: %s", n, err.message);
	lp_store_revision_free(rev);
	return rc;
}

/* What the build's progress callback needs: the build thread's own store handle. */
struct progress {
	lp_ctx *ctx;
	lp_store *st;
	const char *site_id;
	long revision;
};

/* Waiting for disk space, retrying after an interruption: the revision's message says so. */
static void on_progress(void *arg, lp_build_status status, const char *message)
{
	static const char *const reasons[] = {[LP_BUILD_STATUS_BUILDING] = "BuildResumed",
	                                      [LP_BUILD_STATUS_WAITING_DISK] = "WaitingForDisk",
	                                      [LP_BUILD_STATUS_RETRYING] = "BuildInterrupted"};
	struct progress *p = arg;

	if (set_revision(p->st, p->site_id, p->revision, LP_REV_BUILDING, message, NULL, NULL, 0,
	                 0) != LP_OK)
		return; /* cancelled meanwhile (it stays so), or logged */
	lp_ctx_event(p->ctx, p->st, p->site_id,
	             status == LP_BUILD_STATUS_BUILDING ? LP_EVENT_NORMAL : LP_EVENT_WARNING,
	             reasons[status], "revision %ld: %s", p->revision, message);
}

/*
 * The clear values of spec's secrets, for the build container's environment (and the build log's
 * masking): opened here, in this build's own copy of the spec, and wiped with it.
 */
static int open_secrets(lp_ctx *c, lp_site *spec, const char *site_id, lp_error *err)
{
	char aad[LP_KEYRING_AAD_MAX];
	size_t i;
	int rc;

	for (i = 0; i < spec->build_env_count; i++) {
		lp_env_var *var = &spec->build_env[i];

		if (!var->secret || var->value != NULL)
			continue;
		if (var->sealed == NULL)
			return lp_error_set(err, LP_EINVAL, "secret %s has no sealed value",
			                    var->name);
		if (lp_keyring_aad(aad, sizeof(aad), site_id, var->name) != LP_OK)
			return lp_error_set(err, LP_EINVAL, "secret %s: name too long", var->name);
		if ((rc = lp_ctx_secret_open(&var->value, c, aad, var->sealed, err)) != LP_OK)
			return lp_error_wrap(err, "secret %s", var->name);
	}
	return LP_OK;
}

/* The site's Git credential opened into *cred ("<username>\n<token>"), split into req. */
static int open_git_credential(char **cred, lp_ctx *c, const lp_store_site *site,
                               lp_build_request *req, lp_error *err)
{
	char aad[LP_KEYRING_AAD_MAX], *nl;
	int rc;

	if (lp_keyring_aad(aad, sizeof(aad), site->id, LP_GIT_CREDENTIAL_AAD) != LP_OK)
		return lp_error_set(err, LP_EINVAL, "site id too long");
	if ((rc = lp_ctx_secret_open(cred, c, aad, site->git_credential, err)) != LP_OK)
		return lp_error_wrap(err, "the git credential");
	if ((nl = strchr(*cred, '\n')) == NULL)
		return lp_error_set(err, LP_EINVAL, "the git credential is malformed");
	*nl = '\0';
	req->git_username = *cred;
	req->git_password = nl + 1;
	return LP_OK;
}

static void *build_main(void *arg)
{
	struct lp_inflight *b = arg;
	lp_builds *bs = b->owner;
	lp_ctx *c = bs->ctx;
	lp_build_request req = {0};
	lp_build_result res = {0};
	lp_store_site *site = NULL, *parent = NULL;
	char *cred = NULL;
	lp_store *st = NULL;
	struct progress prog;
	lp_error err = {0};
	int rc;

	if (lp_ctx_store_acquire(&st, c, &err) != LP_OK ||
	    lp_store_site_get_by_name(&site, st, b->site, &err) != LP_OK) {
		LP_WARN(COMPONENT, "%s: build of revision %ld not started: %s", b->site,
		        b->revision, err.message);
		goto done;
	}
	if (set_revision(st, site->id, b->revision, LP_REV_BUILDING, "building", NULL, NULL, 1,
	                 0) == LP_ECONFLICT)
		goto done; /* cancelled before it started */
	lp_ctx_event(c, st, site->id, LP_EVENT_NORMAL, "BuildStarted", "building revision %ld",
	             b->revision);

	/*
	 * A preview builds its parent's spec: its secrets were sealed for the parent, and its
	 * private repository is the parent's, so both are opened as the parent's.
	 */
	if (site->parent_id[0] && !site->git_credential[0] &&
	    lp_store_site_get_by_id(&parent, st, site->parent_id, &err) != LP_OK) {
		LP_WARN(COMPONENT, "%s: build of revision %ld not started: its parent: %s", b->site,
		        b->revision, err.message);
		goto done;
	}
	if ((rc = open_secrets(c, b->spec, site->parent_id[0] ? site->parent_id : site->id,
	                       &err)) != LP_OK) {
		if (set_revision(st, site->id, b->revision, LP_REV_FAILED, err.message, NULL, NULL,
		                 0, 1) == LP_OK)
			lp_ctx_event(c, st, site->id, LP_EVENT_WARNING, "BuildFailed",
			             "revision %ld: %s", b->revision, err.message);
		goto done;
	}
	/* read now, for this fetch: a credential changed or removed meanwhile counts from here */
	if ((parent ? parent : site)->git_credential[0] &&
	    (rc = open_git_credential(&cred, c, parent ? parent : site, &req, &err)) != LP_OK) {
		if (set_revision(st, site->id, b->revision, LP_REV_FAILED, err.message, NULL, NULL,
		                 0, 1) == LP_OK)
			lp_ctx_event(c, st, site->id, LP_EVENT_WARNING, "BuildFailed",
			             "revision %ld: %s", b->revision, err.message);
		goto done;
	}
	req.cfg = lp_ctx_cfg(c);
	req.docker = lp_ctx_docker(c);
	req.site_name = b->site;
	req.spec = b->spec;
	req.revision = b->revision;
	req.source = b->source;
	req.cancel = &b->cancel;
	req.build_uid = 1000;
	req.build_gid = 1000;
	prog = (struct progress){c, st, site->id, b->revision};
	req.on_status = on_progress;
	req.status_ctx = &prog;
	/* Room for this build's cache within the platform's cap: others' least recently used go. */
	if (lp_gc_build_caches(c, bs, &err) != LP_OK) {
		LP_WARN(COMPONENT, "%s: build cache eviction: %s", b->site, err.message);
		err = (lp_error){0};
	}
	rc = lp_build_revision(&res, &req, &err);

	if (rc == LP_OK) {
		char msg[BUILD_MSG_MAX];
		if (lp_fmt(msg, sizeof(msg), "built in %.1f s", (double)res.duration_ms / 1000.0) !=
		    LP_OK)
			msg[0] = '\0';
		if (set_revision(st, site->id, b->revision, LP_REV_READY, msg, res.resolved_source,
		                 res.log_path, 0, 1) == LP_OK)
			lp_ctx_event(c, st, site->id, LP_EVENT_NORMAL, "BuildSucceeded",
			             "revision %ld %s", b->revision, msg);
	} else if (rc == LP_ECANCELED) {
		/* Superseded or shutting down: the next reconcile decides what happens next. */
		int shutting_down = lp_ctx_stopping(c);
		(void)set_revision(st, site->id, b->revision,
		                   shutting_down ? LP_REV_INTERRUPTED : LP_REV_SUPERSEDED,
		                   shutting_down ? "interrupted by shutdown"
		                                 : "superseded by a newer revision",
		                   res.resolved_source, res.log_path, 0, 1);
	} else {
		if (set_revision(st, site->id, b->revision, LP_REV_FAILED, err.message,
		                 res.resolved_source, res.log_path, 0, 1) == LP_OK)
			lp_ctx_event(c, st, site->id, LP_EVENT_WARNING, "BuildFailed",
			             "revision %ld: %s", b->revision, err.message);
	}
done:
	if (cred) {
		explicit_bzero(cred, strlen(cred) +
		                         (req.git_password ? strlen(req.git_password) + 1 : 0));
		free(cred);
	}
	lp_store_site_free(site);
	lp_store_site_free(parent);
	lp_ctx_store_release(c, st);
	lp_lock_acquire(&bs->lock);
	atomic_store(&b->finished, 1);
	bs->running--;
	pthread_cond_broadcast(&bs->cv);
	lp_lock_release(&bs->lock);
	bs->done(bs->done_ctx, b->site); /* the next reconcile sees the result */
	return NULL;
}

int lp_builds_start(lp_builds *bs, const char *site, const lp_site *spec, long revision,
                    const char *source, lp_error *err)
{
	struct lp_inflight *b = NULL;
	int rc = LP_OK;

	lp_builds_reap(bs);
	lp_lock_acquire(&bs->lock);
	if (lp_ctx_stopping(bs->ctx)) {
		rc = lp_error_set(err, LP_ECANCELED, "shutting down: no new builds");
		goto done;
	}
	if (find_live(bs, site)) {
		rc = lp_error_set(err, LP_ECONFLICT, "a build of %s is already running", site);
		goto done;
	}
	if (bs->running >= LP_BUILDS_MAX) {
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
	b->owner = bs;
	if (pthread_create(&b->thread, NULL, build_main, b) != 0) {
		rc = lp_error_set(err, LP_ERROR, "cannot start a build thread");
		goto done;
	}
	b->next = bs->list;
	bs->list = b;
	bs->running++;
	lp_ctx_count(bs->ctx, LP_CTR_BUILDS_STARTED, 1);
	b = NULL;
done:
	lp_lock_release(&bs->lock);
	if (b) {
		lp_site_free(b->spec);
		free(b->site);
		free(b->source);
		free(b);
	}
	return rc;
}

int lp_builds_if_idle(lp_builds *bs, const char *site, void (*fn)(void *ctx), void *ctx)
{
	int idle;

	lp_lock_acquire(&bs->lock);
	idle = find_live(bs, site) == NULL;
	if (idle)
		fn(ctx);
	lp_lock_release(&bs->lock);
	return idle;
}

void lp_builds_cancel(lp_builds *bs, const char *site)
{
	struct lp_inflight *b;

	lp_lock_acquire(&bs->lock);
	for (b = bs->list; b; b = b->next)
		if (!strcmp(b->site, site))
			atomic_store(&b->cancel, 1);
	lp_lock_release(&bs->lock);
}

void lp_builds_cancel_all(lp_builds *bs)
{
	struct lp_inflight *b;

	lp_lock_acquire(&bs->lock);
	for (b = bs->list; b; b = b->next)
		atomic_store(&b->cancel, 1);
	lp_lock_release(&bs->lock);
}

void lp_builds_reap(lp_builds *bs)
{
	struct lp_inflight **pp, *done_list = NULL, *b;

	lp_lock_acquire(&bs->lock);
	for (pp = &bs->list; *pp;) {
		b = *pp;
		if (atomic_load(&b->finished)) {
			*pp = b->next;
			b->next = done_list;
			done_list = b;
		} else {
			pp = &b->next;
		}
	}
	lp_lock_release(&bs->lock);
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

int lp_builds_wait(lp_builds *bs, int timeout_ms)
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
	lp_lock_acquire(&bs->lock);
	while (bs->running > 0 && rc == LP_OK)
		if (lp_lock_wait(&bs->lock, &bs->cv, &ts) == ETIMEDOUT)
			rc = LP_ETIMEOUT;
	lp_lock_release(&bs->lock);
	return rc;
}

int lp_builds_new(lp_builds **out, lp_ctx *ctx, lp_builds_done_fn done, void *done_ctx,
                  lp_error *err)
{
	lp_builds *bs;

	*out = NULL;
	if ((bs = calloc(1, sizeof(*bs))) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	bs->ctx = ctx;
	bs->done = done;
	bs->done_ctx = done_ctx;
	lp_lock_init(&bs->lock);
	pthread_cond_init(&bs->cv, NULL);
	*out = bs;
	return LP_OK;
}

int lp_builds_free(lp_builds *bs)
{
	if (bs == NULL)
		return 0;
	lp_builds_cancel_all(bs);
	if (lp_builds_wait(bs, BUILDS_FREE_MS) != LP_OK) {
		/* A build thread still uses what is below: leaking beats a use-after-free. */
		LP_ERR(COMPONENT, "builds still running at exit; not freeing them");
		return -1;
	}
	lp_builds_reap(bs);
	pthread_cond_destroy(&bs->cv);
	lp_lock_destroy(&bs->lock);
	free(bs);
	return 0;
}

int lp_builds_running(lp_builds *b)
{
	int n;

	lp_lock_acquire(&b->lock);
	n = b->running;
	lp_lock_release(&b->lock);
	return n;
}
