/* gc.c: removing what belongs to no site, and a deleted site's every trace. */
#include "controller/controller_internal.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launchpad/names.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "launchpad/log.h"
#include "pipeline/publish.h"

#define COMPONENT "gc"

static int remove_path(struct lp_controller *c, const char *path, lp_error *err)
{
	int rc;

	if (path == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	if (!lp_fs_exists(path))
		return LP_OK;
	rc = lp_fs_remove_tree(path, err);
	if (rc == LP_OK) {
		atomic_fetch_add(&c->gc_removed, 1);
		atomic_fetch_add(&c->file_writes, 1);
	}
	return rc;
}

/* 1 when name is exactly prefix followed by one or more digits (work/<site>-<n>). */
static int is_prefix_number(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(name, prefix, n) || name[n] == '\0')
		return 0;
	for (name += n; *name; name++)
		if (*name < '0' || *name > '9')
			return 0;
	return 1;
}

/*
 * Remove entries of dir named prefix<digits> (NULL: every entry). Exact, so deleting site "app"
 * never touches the workspace of "app-v2".
 */
static int remove_matching(struct lp_controller *c, const char *dir, const char *prefix,
                           lp_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = LP_OK;

	if (d == NULL)
		return LP_OK; /* nothing there yet */
	while ((de = readdir(d)) != NULL && rc == LP_OK) {
		char *p;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (prefix && !is_prefix_number(de->d_name, prefix))
			continue;
		if (asprintf(&p, "%s/%s", dir, de->d_name) < 0)
			p = NULL;
		rc = remove_path(c, p, err);
		free(p);
	}
	closedir(d);
	return rc;
}

int lp_gc_site_files(struct lp_controller *c, const char *site, lp_error *err)
{
	const char *fmts[] = {"sites/%s", "conf/%s.nginx.conf", "logs/%s", "cache/git/%s.git",
	                      "cache/build/%s"};
	char prefix[300], *work = NULL;
	size_t i;
	int rc = LP_OK;

	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]) && rc == LP_OK; i++) {
		char *p = lp_ctrl_path(c, fmts[i], site);
		rc = remove_path(c, p, err);
		free(p);
	}
	if (rc != LP_OK)
		return rc;
	snprintf(prefix, sizeof(prefix), "%s-", site);
	work = lp_ctrl_path(c, "work");
	rc = work ? remove_matching(c, work, prefix, err) : lp_error_set(err, LP_ENOMEM, "oom");
	free(work);
	return rc;
}

int lp_gc_site_containers(struct lp_controller *c, const char *site, lp_error *err)
{
	lp_docker_summaries *list = NULL;
	char inst[512], sitel[512];
	const char *labels[3] = {inst, sitel, NULL};
	size_t i;
	int rc;

	snprintf(inst, sizeof(inst), "launchpad.instance=%s", c->cfg->instance);
	snprintf(sitel, sizeof(sitel), "launchpad.site=%s", site);
	if ((rc = lp_docker_container_list(&list, c->docker, labels, err)) != LP_OK)
		return rc;
	for (i = 0; i < list->n && rc == LP_OK; i++) {
		rc = lp_docker_container_remove(
		    c->docker, list->items[i].id,
		    LP_DOCKER_RM_FORCE | LP_DOCKER_RM_VOLUMES | LP_DOCKER_RM_MISSING_OK, err);
		if (rc == LP_OK)
			atomic_fetch_add(&c->gc_removed, 1);
	}
	if (list->n > 0)
		lp_observe_invalidate(c, site);
	lp_docker_summaries_free(list);
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

/* For each entry of <data>/<sub> not named after a known site (suffix stripped), remove it. */
static int gc_dir(struct lp_controller *c, const char *sub, const char *suffix,
                  const lp_store_site *sites, size_t n, lp_error *err)
{
	char *dir = lp_ctrl_path(c, "%s", sub);
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;
	int rc = LP_OK;

	while (d && (de = readdir(d)) != NULL && rc == LP_OK) {
		char name[256], *p;
		size_t len = strlen(de->d_name), sl = suffix ? strlen(suffix) : 0;
		if (de->d_name[0] == '.')
			continue;
		if (sl && (len <= sl || strcmp(de->d_name + len - sl, suffix)))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(len - sl), de->d_name);
		if (known(sites, n, name))
			continue;
		LP_INFO(COMPONENT, "removing %s/%s: no such site", sub, de->d_name);
		if (asprintf(&p, "%s/%s", dir, de->d_name) < 0)
			p = NULL;
		rc = remove_path(c, p, err);
		free(p);
	}
	if (d)
		closedir(d);
	free(dir);
	return rc;
}

int lp_controller_gc(lp_controller *c, lp_error *err)
{
	lp_store_site *sites = NULL;
	lp_docker_summaries *all = NULL;
	lp_store *st = NULL;
	char inst[512], *work = NULL;
	const char *labels[2] = {inst, NULL};
	int64_t interrupted = 0;
	size_t n = 0, i;
	int rc;

	if ((rc = lp_ctrl_store_acquire(&st, c, err)) != LP_OK)
		goto done;
	if ((rc = lp_store_revisions_interrupt_building(&interrupted, st, err)) != LP_OK)
		goto done;
	if (interrupted > 0)
		LP_INFO(COMPONENT, "%lld interrupted build(s) will be retried",
		        (long long)interrupted);
	if ((rc = lp_store_site_list(&sites, &n, st, 1, err)) != LP_OK)
		goto done;

	/* Containers: every build container is a leftover; serve containers of unknown sites go. */
	snprintf(inst, sizeof(inst), "launchpad.instance=%s", c->cfg->instance);
	if ((rc = lp_docker_container_list(&all, c->docker, labels, err)) != LP_OK)
		goto done;
	for (i = 0; i < all->n; i++) {
		const lp_docker_summary *s = &all->items[i];
		const char *role = lp_docker_kv_get(s->labels, s->nlabels, "launchpad.role");
		const char *site = lp_docker_kv_get(s->labels, s->nlabels, "launchpad.site");
		int build = role && !strcmp(role, "build"), serve = role && !strcmp(role, "serve");
		int orphan = site == NULL || !known(sites, n, site);
		/* Only what the controller creates is its to remove (not the instance's edge). */
		if (!(build || (serve && orphan)))
			continue;
		LP_INFO(COMPONENT, "removing container %s (%s of %s)", s->id, role ? role : "?",
		        site ? site : "?");
		if ((rc = lp_docker_container_remove(c->docker, s->id,
		                                     LP_DOCKER_RM_FORCE | LP_DOCKER_RM_VOLUMES |
		                                         LP_DOCKER_RM_MISSING_OK,
		                                     err)) != LP_OK)
			goto done;
		atomic_fetch_add(&c->gc_removed, 1);
	}

	/* Work dirs belong to builds, and none runs before start-up finishes. */
	work = lp_ctrl_path(c, "work");
	if (work == NULL || (rc = remove_matching(c, work, NULL, err)) != LP_OK)
		goto done;
	if ((rc = gc_dir(c, "sites", NULL, sites, n, err)) != LP_OK ||
	    (rc = gc_dir(c, "conf", ".nginx.conf", sites, n, err)) != LP_OK ||
	    (rc = gc_dir(c, "logs", NULL, sites, n, err)) != LP_OK ||
	    (rc = gc_dir(c, "cache/git", ".git", sites, n, err)) != LP_OK ||
	    (rc = gc_dir(c, "cache/build", NULL, sites, n, err)) != LP_OK)
		goto done;
	for (i = 0; i < n; i++) {
		char *sd = lp_ctrl_path(c, "sites/%s", sites[i].name);
		size_t removed = 0;
		if (sd && lp_fs_exists(sd))
			rc = lp_publish_cleanup_partial(&removed, sd, err);
		free(sd);
		if (rc != LP_OK)
			goto done;
	}
	if ((rc = lp_observe_resync(c, err)) != LP_OK)
		goto done;
done:
	lp_docker_summaries_free(all);
	lp_store_sites_free(sites, n);
	lp_ctrl_store_release(c, st);
	free(work);
	return rc;
}

/* 1 when a container of this instance labelled launchpad.role=api is running. */
static int api_running(struct lp_controller *c)
{
	lp_docker_summaries *list = NULL;
	char inst[512];
	const char *labels[3] = {inst, "launchpad.role=api", NULL};
	lp_error err = {0};
	size_t i;
	int up = 0;

	if (lp_fmt(inst, sizeof(inst), "launchpad.instance=%s", c->cfg->instance) != LP_OK ||
	    lp_docker_container_list(&list, c->docker, labels, &err) != LP_OK)
		return 1; /* unsure: keep the sites */
	for (i = 0; i < list->n; i++)
		up |= list->items[i].state && !strcmp(list->items[i].state, "running");
	lp_docker_summaries_free(list);
	return up;
}

int lp_controller_teardown(lp_controller *c, lp_error *err)
{
	lp_docker_summaries *all = NULL;
	char inst[512], net[256];
	const char *labels[2] = {inst, NULL};
	size_t i, removed = 0;
	int rc;

	if (lp_fmt(inst, sizeof(inst), "launchpad.instance=%s", c->cfg->instance) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "instance id is too long");
	if ((rc = lp_docker_container_list(&all, c->docker, labels, err)) != LP_OK)
		return rc;
	for (i = 0; i < all->n && rc == LP_OK; i++) {
		const lp_docker_summary *s = &all->items[i];
		const char *role = lp_docker_kv_get(s->labels, s->nlabels, "launchpad.role");
		if (role == NULL || (strcmp(role, "serve") && strcmp(role, "build")))
			continue;
		rc = lp_docker_container_remove(
		    c->docker, s->id,
		    LP_DOCKER_RM_FORCE | LP_DOCKER_RM_VOLUMES | LP_DOCKER_RM_MISSING_OK, err);
		removed += rc == LP_OK;
	}
	lp_docker_summaries_free(all);
	if (rc == LP_OK &&
	    (rc = lp_names_build_network(net, sizeof(net), c->cfg->instance, err)) == LP_OK)
		rc = lp_docker_network_remove(c->docker, net, err);
	LP_INFO(COMPONENT, "teardown: removed %zu container(s); the data dir keeps every site",
	        removed);
	return rc;
}

int lp_controller_teardown_if_down(lp_controller *c, lp_error *err)
{
	if (strcmp(c->cfg->teardown_on_stop, "with-api") || api_running(c))
		return LP_OK;
	LP_INFO(COMPONENT, "the instance's apiserver is stopped too: taking the sites down");
	return lp_controller_teardown(c, err);
}
