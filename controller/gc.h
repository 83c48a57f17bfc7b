/*
 * gc.h: removing what belongs to no site, and a deleted site's every trace: its containers, its
 * entries of the data dir (the layout's table of per-site entries), its orphaned builds; at
 * start-up, what a crashed run left; at the platform's teardown, every container it runs.
 *
 * Only ever touches containers with this instance's label and a role the controller creates
 * (serve, build), and paths under its data dir. Nothing is allocated beyond a call.
 */
#ifndef LAUNCHPAD_CONTROLLER_GC_H
#define LAUNCHPAD_CONTROLLER_GC_H

#include "controller/controller_internal.h"
#include "launchpad/docker.h"

/* Every data-dir entry of site (sites/, conf/, logs/, caches, work dirs). */
int lp_gc_site_files(lp_ctx *ctx, const char *site, lp_error *err) LP_MUST_CHECK;
/*
 * Uploaded archives that no site's spec and no revision names and that are older than
 * --archive-grace (by mtime: the API links or touches an archive just before storing its
 * digest). At start-up and on every periodic resync.
 */
int lp_gc_archives(lp_ctx *ctx, lp_error *err) LP_MUST_CHECK;
/* Every container of site. */
int lp_gc_site_containers(const lp_parts *p, const char *site, lp_error *err) LP_MUST_CHECK;
/*
 * Build containers of site that no build thread owns (a crash whose start-up gc could not
 * finish). Steady state has none, so this costs nothing then; failures are logged.
 */
void lp_gc_orphan_builds(const lp_parts *p, const char *site, const lp_docker_summaries *observed);
/*
 * The platform-wide cap on build caches (--build-cache-total-mb): while all sites' caches
 * together take more, the least recently used cache (by its last build's start) of a site with no
 * build running goes, whole. Called before each build; leftovers of an interrupted eviction go
 * too. Costs one du-like walk of every cache when a cap is set.
 */
int lp_gc_build_caches(lp_ctx *ctx, lp_builds *builds, lp_error *err) LP_MUST_CHECK;
/* Start-up recovery: interrupted builds marked, leftovers of a crashed run and of gone sites
 * removed. */
int lp_gc_startup(const lp_parts *p, lp_error *err) LP_MUST_CHECK;
/* Every serve and build container of the instance, its build network and its firewall rules. */
int lp_gc_teardown(const lp_parts *p, lp_error *err) LP_MUST_CHECK;
/* At stop, with teardown-on-stop "with-api", when no apiserver container of the instance runs. */
int lp_gc_teardown_if_down(const lp_parts *p, lp_error *err) LP_MUST_CHECK;

#endif
