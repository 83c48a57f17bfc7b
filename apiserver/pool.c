/* pool.c: the store handles request threads borrow, opened on demand up to API_STORE_POOL. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/apiserver_internal.h"
#include "launchpad/layout.h"

/*
 * SQLite handles are not shared between threads at the same time: each request borrows one. A
 * handle is opened lazily (opening checks the schema) and kept for the next borrower, so a busy
 * server holds at most API_STORE_POOL and an idle one only what it once needed.
 */

int api_pool_init(struct api_pool *p, const char *data_dir, lp_error *err)
{
	memset(p, 0, sizeof(*p));
	if (lp_layout_db(p->db_path, sizeof(p->db_path), data_dir) != LP_OK)
		return lp_error_set(err, LP_EINVAL, "data dir path too long: %s", data_dir);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->ready = 1;
	return LP_OK;
}

void api_pool_close(struct api_pool *p)
{
	size_t i;

	if (!p->ready)
		return;
	for (i = 0; i < p->nfree; i++)
		lp_store_close(p->idle[i]);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	memset(p, 0, sizeof(*p));
}

lp_store *api_pool_get(struct api_pool *p, lp_error *err)
{
	lp_store *st = NULL;
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += API_STORE_WAIT_MS / 1000;
	pthread_mutex_lock(&p->mu);
	while (p->nfree == 0 && p->nopen >= API_STORE_POOL && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&p->cv, &p->mu, &until);
	if (p->nfree > 0) {
		st = p->idle[--p->nfree];
		pthread_mutex_unlock(&p->mu);
		return st;
	}
	if (p->nopen >= API_STORE_POOL) {
		pthread_mutex_unlock(&p->mu);
		lp_error_set(err, LP_EUNAVAILABLE, "all %d store handles are busy", API_STORE_POOL);
		return NULL;
	}
	p->nopen++;
	pthread_mutex_unlock(&p->mu);
	/* opening (and checking the schema) happens outside the lock */
	if (lp_store_open(&st, p->db_path, err) != LP_OK) {
		pthread_mutex_lock(&p->mu);
		p->nopen--;
		pthread_cond_signal(&p->cv);
		pthread_mutex_unlock(&p->mu);
		if (err && err->code != LP_EUNAVAILABLE)
			err->code = LP_EUNAVAILABLE;
		return NULL;
	}
	return st;
}

void api_pool_put(struct api_pool *p, lp_store *st)
{
	if (st == NULL)
		return;
	lp_store_read_end(st); /* the next borrower starts from the newest state */
	pthread_mutex_lock(&p->mu);
	p->idle[p->nfree++] = st;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

lp_store *api_store(struct api_req *r)
{
	lp_error err = {0};

	if (r->store == NULL && (r->store = api_pool_get(&r->srv->pool, &err)) == NULL)
		api_reply_lperr(r, &err);
	return r->store;
}

void api_store_release(struct api_req *r)
{
	api_pool_put(&r->srv->pool, r->store);
	r->store = NULL;
}
