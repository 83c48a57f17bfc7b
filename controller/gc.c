/* gc.c: removing what belongs to no site, and a deleted site's every trace. */
#include "controller/gc.h"
#include "controller/networks.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "launchpad/layout.h"
#include "launchpad/log.h"
#include "launchpad/names.h"
#include "launchpad/spec.h"
#include "pipeline/diskuse.h"
#include "controller/revconf.h"
#include "pipeline/publish.h"

#define COMPONENT "gc"
/* A cache being evicted is renamed to this prefix first (hidden: no site's entry). */
#define EVICT_PREFIX ".evict-"
#define CACHES_MAX   4096 /* site caches one eviction pass considers */
#define MIB          ((uint64_t)1 << 20)

static int remove_path(lp_ctx *ctx, const char *path, lp_error *err)
{
	int rc;

	if (!lp_fs_exists(path))
		return LP_OK;
	rc = lp_fs_remove_tree(path, err);
	if (rc == LP_OK) {
		lp_ctx_count(ctx, LP_CTR_GC_REMOVED, 1);
		lp_ctx_count(ctx, LP_CTR_FILE_WRITES, 1);
	}
	return rc;
}

static int role_is(const lp_docker_summary *s, const char *role)
{
	const char *r = lp_docker_kv_get(s->labels, s->nlabels, LP_LABEL_ROLE);

	return r != NULL && !strcmp(r, role);
}

/* keep(entry) decides; every other entry of the directory goes. */
typedef int (*keep_fn)(const lp_layout_site_entry *e, const char *entry, const void *arg);

static int sweep(lp_ctx *ctx, const lp_layout_site_entry *e, keep_fn keep, const void *arg,
                 lp_error *err)
{
	char dir[LP_FS_PATH_MAX], path[LP_FS_PATH_MAX];
	struct dirent *de;
	DIR *d;
	int rc = LP_OK;

	if (lp_layout_dir_path(dir, sizeof(dir), lp_ctx_cfg(ctx)->data_dir, e->dir) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "data dir path is too long");
	if ((d = opendir(dir)) == NULL)
		return LP_OK; /* nothing there yet */
	while ((de = readdir(d)) != NULL && rc == LP_OK) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    keep(e, de->d_name, arg))
			continue;
		if (lp_fmt(path, sizeof(path), "%s/%s", dir, de->d_name) != LP_OK) {
			rc = lp_error_set(err, LP_ETOOBIG, "%s/%s: path too long", dir, de->d_name);
			break;
		}
		LP_INFO(COMPONENT, "removing %s", path);
		rc = remove_path(ctx, path, err);
	}
	closedir(d);
	return rc;
}

static int keep_unless_site(const lp_layout_site_entry *e, const char *entry, const void *site)
{
	return !lp_layout_entry_is_site(e, entry, site);
}

int lp_gc_site_files(lp_ctx *ctx, const char *site, lp_error *err)
{
	size_t i;
	int rc = LP_OK;

	for (i = 0; i < lp_layout_nsite_entries && rc == LP_OK; i++)
		rc = sweep(ctx, &lp_layout_site_entries[i], keep_unless_site, site, err);
	return rc;
}

/* Remove every container in list; counted as gc. */
static int remove_all(lp_ctx *ctx, const lp_docker_summaries *list, lp_error *err)
{
	size_t i;
	int rc = LP_OK;

	for (i = 0; i < list->n && rc == LP_OK; i++) {
		rc = lp_docker_container_remove(
		    lp_ctx_docker(ctx), list->items[i].id,
		    LP_DOCKER_RM_FORCE | LP_DOCKER_RM_VOLUMES | LP_DOCKER_RM_MISSING_OK, err);
		if (rc == LP_OK)
			lp_ctx_count(ctx, LP_CTR_GC_REMOVED, 1);
	}
	return rc;
}

/* The instance's containers (with a site label too, when site is not NULL). */
static int list_instance(lp_docker_summaries **out, lp_ctx *ctx, const char *site, lp_error *err)
{
	char inst[LP_NAMES_MAX], sitel[LP_NAMES_MAX];
	const char *labels[3] = {inst, site ? sitel : NULL, NULL};

	if (lp_names_label_filter(inst, sizeof(inst), LP_LABEL_INSTANCE,
	                          lp_ctx_cfg(ctx)->instance) != LP_OK ||
	    (site && lp_names_label_filter(sitel, sizeof(sitel), LP_LABEL_SITE, site) != LP_OK))
		return lp_error_set(err, LP_ETOOBIG, "label filter too long");
	return lp_docker_container_list(out, lp_ctx_docker(ctx), labels, err);
}

int lp_gc_site_containers(const lp_parts *p, const char *site, lp_error *err)
{
	lp_docker_summaries *list = NULL;
	int rc;

	if ((rc = list_instance(&list, p->ctx, site, err)) != LP_OK)
		return rc;
	rc = remove_all(p->ctx, list, err);
	if (list->n > 0)
		lp_observer_invalidate(p->obs, site);
	lp_docker_summaries_free(list);
	return rc;
}

void lp_gc_orphan_builds(const lp_parts *p, const char *site, const lp_docker_summaries *observed)
{
	long inflight = lp_builds_inflight(p->builds, site);
	size_t i;

	for (i = 0; i < observed->n; i++) {
		const lp_docker_summary *o = &observed->items[i];
		const char *rev = lp_docker_kv_get(o->labels, o->nlabels, LP_LABEL_REVISION);
		lp_error err = {0};
		if (!role_is(o, LP_ROLE_BUILD) || (inflight && rev && atol(rev) == inflight))
			continue;
		LP_INFO(COMPONENT, "%s: removing orphaned build container %s", site, o->id);
		if (lp_docker_container_remove(lp_ctx_docker(p->ctx), o->id,
		                               LP_DOCKER_RM_FORCE | LP_DOCKER_RM_MISSING_OK,
		                               &err) != LP_OK)
			LP_WARN(COMPONENT, "%s: %s (the next pass retries)", site, err.message);
		lp_observer_invalidate(p->obs, site);
	}
}

/* ---- the build caches' platform cap ---- */

struct cache_use {
	char site[LP_LAYOUT_SITE_MAX];
	int64_t used_at; /* the cache directory's mtime: the pipeline touches it at each build */
	uint64_t bytes;
};

static int oldest_first(const void *a, const void *b)
{
	const struct cache_use *x = a, *y = b;

	return (x->used_at > y->used_at) - (x->used_at < y->used_at);
}

/* Under the builds' lock (lp_builds_if_idle): out of a starting build's way in one rename. */
struct evict_move {
	const char *from, *to;
	int done;
};

static void evict_rename(void *arg)
{
	struct evict_move *m = arg;

	m->done = rename(m->from, m->to) == 0;
}

/* Every site cache under dir, measured, into out (at most CACHES_MAX); trash removed. */
static int list_caches(struct cache_use *out, size_t *n, uint64_t *total, lp_ctx *ctx,
                       const char *dir, lp_error *err)
{
	const lp_layout_site_entry *e = NULL;
	char path[LP_FS_PATH_MAX];
	struct dirent *de;
	size_t i;
	DIR *d;
	int rc = LP_OK;

	for (i = 0; i < lp_layout_nsite_entries; i++)
		if (lp_layout_site_entries[i].dir == LP_DIR_BUILD_CACHE)
			e = &lp_layout_site_entries[i];
	*n = 0;
	*total = 0;
	if (e == NULL || (d = opendir(dir)) == NULL)
		return LP_OK;
	while ((de = readdir(d)) != NULL && rc == LP_OK && *n < CACHES_MAX) {
		struct cache_use *c = &out[*n];
		lp_diskuse u;
		struct stat st;

		if (lp_fmt(path, sizeof(path), "%s/%s", dir, de->d_name) != LP_OK)
			continue;
		if (!strncmp(de->d_name, EVICT_PREFIX, strlen(EVICT_PREFIX))) {
			rc = remove_path(ctx, path, err); /* an eviction a crash cut short */
			continue;
		}
		if (lp_layout_entry_site(c->site, sizeof(c->site), e, de->d_name) != LP_OK ||
		    lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
			continue;
		if ((rc = lp_diskuse_measure(&u, path, 0, err)) != LP_OK)
			break;
		c->used_at = (int64_t)st.st_mtime;
		c->bytes = u.bytes;
		*total += u.bytes;
		(*n)++;
	}
	closedir(d);
	return rc;
}

int lp_gc_build_caches(lp_ctx *ctx, lp_builds *builds, lp_error *err)
{
	const lp_config *cfg = lp_ctx_cfg(ctx);
	uint64_t cap =
	    cfg->build_cache_total_mb > 0 ? (uint64_t)cfg->build_cache_total_mb * MIB : 0;
	char dir[LP_FS_PATH_MAX], from[LP_FS_PATH_MAX], to[LP_FS_PATH_MAX];
	struct cache_use *caches;
	uint64_t total = 0;
	size_t n = 0, i;
	int rc;

	if (cap == 0)
		return LP_OK;
	if (lp_layout_dir_path(dir, sizeof(dir), cfg->data_dir, LP_DIR_BUILD_CACHE) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "data dir path is too long");
	if ((caches = calloc(CACHES_MAX, sizeof(*caches))) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	rc = list_caches(caches, &n, &total, ctx, dir, err);
	if (rc != LP_OK || total <= cap)
		goto done;
	qsort(caches, n, sizeof(*caches), oldest_first);
	for (i = 0; i < n && total > cap && rc == LP_OK; i++) {
		struct evict_move m = {from, to, 0};

		if (lp_fmt(from, sizeof(from), "%s/%s", dir, caches[i].site) != LP_OK ||
		    lp_fmt(to, sizeof(to), "%s/" EVICT_PREFIX "%s", dir, caches[i].site) != LP_OK)
			continue;
		/* A site that is building keeps its cache; the next one in age goes instead. */
		if (!lp_builds_if_idle(builds, caches[i].site, evict_rename, &m) || !m.done)
			continue;
		LP_INFO(COMPONENT,
		        "build caches take %.1f MiB, over the %d MiB cap: removing %s's (%.1f MiB, "
		        "the least recently used)",
		        (double)total / (double)MIB, cfg->build_cache_total_mb, caches[i].site,
		        (double)caches[i].bytes / (double)MIB);
		total -= caches[i].bytes;
		rc = remove_path(ctx, to, err);
	}
done:
	free(caches);
	return rc;
}

static int known(const lp_store_site *sites, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(sites[i].name, name))
			return 1;
	return 0;
}

struct known_sites {
	const lp_store_site *sites;
	size_t n;
};

/*
 * At start-up no build runs: every work dir is a leftover. Elsewhere an entry shaped like a
 * site's stays with a known site and goes with an unknown one; anything else (a writer's temp
 * file) is not the gc's to judge.
 */
static int keep_if_known(const lp_layout_site_entry *e, const char *entry, const void *arg)
{
	const struct known_sites *k = arg;
	char site[LP_LAYOUT_SITE_MAX];

	if (e->dir == LP_DIR_WORK)
		return 0;
	if (lp_layout_entry_site(site, sizeof(site), e, entry) != LP_OK)
		return 1;
	return known(k->sites, k->n, site);
}

/* Every build container is a leftover; serve and app containers of unknown sites go too. */
static int gc_containers(lp_ctx *ctx, const lp_store_site *sites, size_t n, lp_error *err)
{
	lp_docker_summaries *all = NULL;
	size_t i;
	int rc;

	if ((rc = list_instance(&all, ctx, NULL, err)) != LP_OK)
		return rc;
	for (i = 0; i < all->n && rc == LP_OK; i++) {
		const lp_docker_summary *s = &all->items[i];
		const char *site = lp_docker_kv_get(s->labels, s->nlabels, LP_LABEL_SITE);
		int orphan = site == NULL || !known(sites, n, site);
		/* Only what the controller creates is its to remove (not the instance's edge). */
		if (!(role_is(s, LP_ROLE_BUILD) ||
		      ((role_is(s, LP_ROLE_SERVE) || role_is(s, LP_ROLE_APP)) && orphan)))
			continue;
		LP_INFO(COMPONENT, "removing container %s (%s)", s->id, site ? site : "no site");
		rc = lp_docker_container_remove(
		    lp_ctx_docker(ctx), s->id,
		    LP_DOCKER_RM_FORCE | LP_DOCKER_RM_VOLUMES | LP_DOCKER_RM_MISSING_OK, err);
		if (rc == LP_OK)
			lp_ctx_count(ctx, LP_CTR_GC_REMOVED, 1);
	}
	lp_docker_summaries_free(all);
	return rc;
}

/* Half-copied revisions of a crashed publish, and the scratch files of a crashed nginx -t. */
static int gc_partial_revisions(lp_ctx *ctx, const lp_store_site *sites, size_t n, lp_error *err)
{
	char sd[LP_FS_PATH_MAX];
	size_t i, removed;
	int rc = LP_OK;

	for (i = 0; i < n && rc == LP_OK; i++) {
		if (lp_layout_site(sd, sizeof(sd), lp_ctx_cfg(ctx)->data_dir, sites[i].name) !=
		    LP_OK)
			return lp_error_set(err, LP_ETOOBIG, "site path too long");
		if (lp_fs_exists(sd))
			rc = lp_publish_cleanup_partial(&removed, sd, err);
		lp_revconf_forget_checks(ctx, sites[i].name);
	}
	return rc;
}

/* ---- uploaded archives no revision names ---- */

#define ARCHIVE_HEX    64 /* the hex digits of an archive's name */
#define ARCHIVE_DIGEST "sha256:"

struct digests {
	char **hex;
	size_t n, cap;
};

static int digests_add(struct digests *d, const char *ref)
{
	char **grown;

	if (ref == NULL || strncmp(ref, ARCHIVE_DIGEST, strlen(ARCHIVE_DIGEST)) != 0)
		return LP_OK;
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 64;
		if ((grown = realloc(d->hex, d->cap * sizeof(*grown))) == NULL)
			return LP_ENOMEM;
		d->hex = grown;
	}
	if ((d->hex[d->n] = strdup(ref + strlen(ARCHIVE_DIGEST))) == NULL)
		return LP_ENOMEM;
	d->n++;
	return LP_OK;
}

static int named(const struct digests *d, const char *hex, size_t len)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strlen(d->hex[i]) == len && !strncmp(d->hex[i], hex, len))
			return 1;
	return 0;
}

/* Every digest a site's spec or any of its revisions (source, resolved) names. */
static int named_digests(struct digests *out, lp_store *st, lp_error *err)
{
	lp_store_site *sites = NULL;
	lp_store_revision *revs = NULL;
	lp_site *spec = NULL;
	size_t n = 0, nrev = 0, i, k;
	int rc;

	if ((rc = lp_store_site_list(&sites, &n, st, 1, err)) != LP_OK)
		return rc;
	for (i = 0; i < n && rc == LP_OK; i++) {
		/* a spec that does not parse names nothing we can see: its revisions still do */
		if (lp_spec_parse_json(&spec, sites[i].spec_json, strlen(sites[i].spec_json), NULL,
		                       NULL, NULL) == LP_OK)
			rc = digests_add(out, spec->archive_digest);
		lp_site_free(spec);
		spec = NULL;
		if (rc == LP_OK)
			rc = lp_store_revision_list(&revs, &nrev, st, sites[i].id,
			                            LP_STORE_LIST_MAX, err);
		for (k = 0; rc == LP_OK && k < nrev; k++)
			if ((rc = digests_add(out, revs[k].source)) == LP_OK)
				rc = digests_add(out, revs[k].resolved_source);
		lp_store_revisions_free(revs, nrev);
		revs = NULL;
		nrev = 0;
	}
	lp_store_sites_free(sites, n);
	if (rc == LP_ENOMEM)
		lp_error_set(err, LP_ENOMEM, "out of memory");
	return rc;
}

/* The hex digits of an archive's file name (<64 hex>.zip or .tar.gz), or 0 for another file. */
static size_t archive_hex(const char *name)
{
	size_t i;

	for (i = 0; i < ARCHIVE_HEX; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return 0;
	return strcmp(name + i, ".zip") == 0 || strcmp(name + i, ".tar.gz") == 0 ? i : 0;
}

/* Unchanged for longer than the grace period (a file that cannot be looked at is kept). */
static int stale(const char *path, time_t now, int grace)
{
	struct stat sb;

	return stat(path, &sb) == 0 && now - sb.st_mtime > grace;
}

int lp_gc_archives(lp_ctx *ctx, lp_error *err)
{
	const lp_config *cfg = lp_ctx_cfg(ctx);
	char dir[LP_FS_PATH_MAX], path[LP_FS_PATH_MAX];
	struct digests keep = {0};
	struct dirent *de;
	lp_store *st = NULL;
	time_t now = time(NULL);
	DIR *d = NULL;
	size_t i, len;
	int rc;

	if (lp_layout_dir_path(dir, sizeof(dir), cfg->data_dir, LP_DIR_ARCHIVES) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "data dir path is too long");
	/*
	 * The store is read first, and each file's age is looked at just before it goes: one the
	 * API linked into place or touched since (it does both just before storing the digest) is
	 * too new to go. Only the instant between that look and the unlink stays open.
	 */
	if ((rc = lp_ctx_store_acquire(&st, ctx, err)) != LP_OK ||
	    (rc = named_digests(&keep, st, err)) != LP_OK || (d = opendir(dir)) == NULL)
		goto done;
	while ((de = readdir(d)) != NULL && rc == LP_OK) {
		if ((len = archive_hex(de->d_name)) == 0 || named(&keep, de->d_name, len))
			continue;
		if (lp_fmt(path, sizeof(path), "%s/%s", dir, de->d_name) != LP_OK) {
			rc = lp_error_set(err, LP_ETOOBIG, "%s/%s: path too long", dir, de->d_name);
			break;
		}
		if (!stale(path, now, cfg->archive_grace))
			continue;
		LP_INFO(COMPONENT, "removing %s: no revision names it and it is older than %d s",
		        path, cfg->archive_grace);
		if (unlink(path) == 0) {
			lp_ctx_count(ctx, LP_CTR_GC_REMOVED, 1);
			lp_ctx_count(ctx, LP_CTR_FILE_WRITES, 1);
		} else if (errno != ENOENT) {
			rc = lp_error_set(err, LP_EIO, "remove %s: %s", path, strerror(errno));
		}
	}
done:
	if (d)
		closedir(d);
	lp_ctx_store_release(ctx, st);
	for (i = 0; i < keep.n; i++)
		free(keep.hex[i]);
	free(keep.hex);
	return rc;
}

int lp_gc_startup(const lp_parts *p, lp_error *err)
{
	lp_store_site *sites = NULL;
	struct known_sites k;
	lp_store *st = NULL;
	int64_t interrupted = 0;
	size_t n = 0, i;
	int rc;

	if ((rc = lp_ctx_store_acquire(&st, p->ctx, err)) != LP_OK ||
	    (rc = lp_store_revisions_interrupt_building(&interrupted, st, err)) != LP_OK)
		goto done;
	if (interrupted > 0)
		LP_INFO(COMPONENT, "%lld interrupted build(s) will be retried",
		        (long long)interrupted);
	if ((rc = lp_store_site_list(&sites, &n, st, 1, err)) != LP_OK ||
	    (rc = gc_containers(p->ctx, sites, n, err)) != LP_OK)
		goto done;
	k = (struct known_sites){sites, n};
	for (i = 0; i < lp_layout_nsite_entries && rc == LP_OK; i++)
		rc = sweep(p->ctx, &lp_layout_site_entries[i], keep_if_known, &k, err);
	if (rc == LP_OK)
		rc = gc_partial_revisions(p->ctx, sites, n, err);
	if (rc == LP_OK)
		rc = lp_gc_archives(p->ctx, err);
	if (rc == LP_OK)
		rc = lp_observer_resync(p->obs, err);
done:
	lp_store_sites_free(sites, n);
	lp_ctx_store_release(p->ctx, st);
	return rc;
}

/* 1 when a container of this instance with role api is running (unsure: 1, keep the sites). */
static int api_running(lp_ctx *ctx)
{
	lp_docker_summaries *list = NULL;
	lp_error err = {0};
	size_t i;
	int up = 0;

	if (list_instance(&list, ctx, NULL, &err) != LP_OK)
		return 1;
	for (i = 0; i < list->n; i++)
		up |= role_is(&list->items[i], LP_ROLE_API) && list->items[i].state &&
		      !strcmp(list->items[i].state, "running");
	lp_docker_summaries_free(list);
	return up;
}

int lp_gc_teardown(const lp_parts *p, lp_error *err)
{
	lp_docker_summaries *all = NULL, mine = {0};
	lp_ctx *ctx = p->ctx;
	size_t i;
	int rc;

	if ((rc = list_instance(&all, ctx, NULL, err)) != LP_OK)
		return rc;
	/* Only the controller's own roles: the edge and compose's services are not ours. */
	mine.items = calloc(all->n ? all->n : 1, sizeof(*mine.items));
	if (mine.items == NULL) {
		lp_docker_summaries_free(all);
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	for (i = 0; i < all->n; i++)
		if (role_is(&all->items[i], LP_ROLE_SERVE) ||
		    role_is(&all->items[i], LP_ROLE_APP) || role_is(&all->items[i], LP_ROLE_BUILD))
			mine.items[mine.n++] = all->items[i];
	rc = remove_all(ctx, &mine, err);
	LP_INFO(COMPONENT, "teardown: removed %zu container(s); the data dir keeps every site",
	        mine.n);
	free(mine.items); /* the entries are all's */
	lp_docker_summaries_free(all);
	return rc == LP_OK ? lp_networks_teardown(p, err) : rc;
}

int lp_gc_teardown_if_down(const lp_parts *p, lp_error *err)
{
	if (strcmp(lp_ctx_cfg(p->ctx)->teardown_on_stop, "with-api") || api_running(p->ctx))
		return LP_OK;
	LP_INFO(COMPONENT, "the instance's apiserver is stopped too: taking the sites down");
	return lp_gc_teardown(p, err);
}
