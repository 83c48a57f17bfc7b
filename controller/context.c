/* context.c: the controller's shared context: config, Docker, store pool, counters, events. */
#include "controller/context.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launchpad/crypto.h"
#include "launchpad/fs.h"
#include "launchpad/secrets.h"
#include "launchpad/layout.h"
#include "launchpad/lock.h"
#include "launchpad/log.h"

#define COMPONENT "controller"

struct lp_ctx {
	const lp_config *cfg;
	lp_docker *docker;
	char db_path[LP_FS_PATH_MAX];

	lp_lock pool_lock;
	lp_store *pool[LP_CTX_STORE_POOL]; /* under pool_lock */
	int npool;                         /* under pool_lock */

	lp_lock key_lock;
	lp_keyring *keyring; /* under key_lock; loaded when a build first needs a secret */

	lp_lock passed_lock;
	char passed[LP_CTX_PASSED_MAX][LP_SHA256_HEX_LEN]; /* under passed_lock: a ring */
	int npassed, next_passed;                          /* under passed_lock */

	atomic_uint_fast64_t counters[LP_CTR_COUNT];
	atomic_int networks_ok;
	atomic_int stopping;
};

int lp_ctx_new(lp_ctx **out, const lp_config *cfg, lp_error *err)
{
	lp_docker_options dopts = {.socket_path = cfg->docker_socket,
	                           .log_max_size = cfg->container_log_max_size,
	                           .log_max_files = cfg->container_log_max_files};
	char dbdir[LP_FS_PATH_MAX];
	lp_ctx *c;
	int rc;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	c->cfg = cfg;
	lp_lock_init(&c->pool_lock);
	lp_lock_init(&c->key_lock);
	lp_lock_init(&c->passed_lock);
	if (lp_layout_db(c->db_path, sizeof(c->db_path), cfg->data_dir) != LP_OK ||
	    lp_layout_dir_path(dbdir, sizeof(dbdir), cfg->data_dir, LP_DIR_DB) != LP_OK) {
		rc = lp_error_set(err, LP_ETOOBIG, "data dir path %s is too long", cfg->data_dir);
		goto fail;
	}
	if ((rc = lp_fs_mkdirs(dbdir, 0700, err)) != LP_OK ||
	    (rc = lp_docker_new(&c->docker, &dopts, err)) != LP_OK)
		goto fail;
	*out = c;
	return LP_OK;
fail:
	lp_ctx_free(c);
	return rc;
}

void lp_ctx_free(lp_ctx *c)
{
	int i;

	if (c == NULL)
		return;
	for (i = 0; i < c->npool; i++)
		lp_store_close(c->pool[i]);
	lp_docker_free(c->docker);
	lp_keyring_free(c->keyring);
	lp_lock_destroy(&c->key_lock);
	lp_lock_destroy(&c->passed_lock);
	lp_lock_destroy(&c->pool_lock);
	free(c);
}

const lp_config *lp_ctx_cfg(const lp_ctx *c)
{
	return c->cfg;
}

lp_docker *lp_ctx_docker(const lp_ctx *c)
{
	return c->docker;
}

const char *lp_ctx_db_path(const lp_ctx *c)
{
	return c->db_path;
}

int lp_ctx_store_acquire(lp_store **out, lp_ctx *c, lp_error *err)
{
	*out = NULL;
	lp_lock_acquire(&c->pool_lock);
	if (c->npool > 0)
		*out = c->pool[--c->npool];
	lp_lock_release(&c->pool_lock);
	if (*out)
		return LP_OK;
	return lp_store_open(out, c->db_path, err);
}

void lp_ctx_store_release(lp_ctx *c, lp_store *st)
{
	if (st == NULL)
		return;
	lp_store_read_end(st); /* the next user starts from the newest state */
	lp_lock_acquire(&c->pool_lock);
	if (c->npool < LP_CTX_STORE_POOL) {
		c->pool[c->npool++] = st;
		st = NULL;
	}
	lp_lock_release(&c->pool_lock);
	lp_store_close(st);
}

void lp_ctx_count(lp_ctx *c, lp_ctx_counter which, uint64_t n)
{
	atomic_fetch_add(&c->counters[which], n);
}

uint64_t lp_ctx_counter_get(const lp_ctx *c, lp_ctx_counter which)
{
	return atomic_load(&c->counters[which]);
}

void lp_ctx_event(lp_ctx *c, lp_store *st, const char *site_id, lp_store_event_type type,
                  const char *reason, const char *fmt, ...)
{
	char msg[LP_ERROR_MESSAGE_MAX];
	lp_error err = {0};
	va_list ap;

	(void)c;
	va_start(ap, fmt);
	/* An event's text is a message: a long one is cut, by design. */
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lp_log(type == LP_EVENT_WARNING ? LP_LOG_WARN : LP_LOG_INFO, COMPONENT, "%s: %s", reason,
	       msg);
	if (lp_store_event_add(st, site_id, type, reason, msg, &err) != LP_OK)
		LP_WARN(COMPONENT, "recording event %s: %s", reason, err.message);
}

int lp_ctx_networks_ok(const lp_ctx *c)
{
	return atomic_load(&c->networks_ok);
}

void lp_ctx_set_networks_ok(lp_ctx *c, int ok)
{
	atomic_store(&c->networks_ok, ok);
}

int lp_ctx_stopping(const lp_ctx *c)
{
	return atomic_load(&c->stopping);
}

void lp_ctx_set_stopping(lp_ctx *c)
{
	atomic_store(&c->stopping, 1);
}

int lp_ctx_secret_open(char **out, lp_ctx *c, const char *aad, const char *sealed, lp_error *err)
{
	char path[LP_FS_PATH_MAX];
	int rc = LP_OK;

	*out = NULL;
	lp_lock_acquire(&c->key_lock);
	/* never made here: the apiserver makes it, as the user it runs as, which must read it */
	if (c->keyring == NULL) {
		if (lp_keyring_path(path, sizeof(path), c->cfg->master_key_file,
		                    c->cfg->data_dir) != LP_OK)
			rc = lp_error_set(err, LP_ETOOBIG, "master key path too long");
		else
			rc = lp_keyring_load(&c->keyring, path, 0, err);
	}
	if (rc == LP_OK)
		rc = lp_keyring_open(out, c->keyring, aad, sealed, err);
	lp_lock_release(&c->key_lock);
	return rc;
}

int lp_ctx_conf_passed(lp_ctx *c, const char *conf)
{
	char h[LP_SHA256_HEX_LEN];
	int i, found = 0;

	lp_crypto_sha256_hex(h, conf, strlen(conf));
	lp_lock_acquire(&c->passed_lock);
	for (i = 0; i < c->npassed && !found; i++)
		found = !strcmp(c->passed[i], h);
	lp_lock_release(&c->passed_lock);
	return found;
}

void lp_ctx_conf_remember(lp_ctx *c, const char *conf)
{
	char h[LP_SHA256_HEX_LEN];

	lp_crypto_sha256_hex(h, conf, strlen(conf));
	lp_lock_acquire(&c->passed_lock);
	memcpy(c->passed[c->next_passed], h, sizeof(h));
	c->next_passed = (c->next_passed + 1) % LP_CTX_PASSED_MAX;
	if (c->npassed < LP_CTX_PASSED_MAX)
		c->npassed++;
	lp_lock_release(&c->passed_lock);
}
