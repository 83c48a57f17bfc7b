/* rollout.c: replica slots, replacement, drain and scale-down of a site's serving containers. */
#include "controller/rollout.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "launchpad/buf.h"
#include "launchpad/clock.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "launchpad/layout.h"
#include "launchpad/log.h"
#include "launchpad/spec.h"

#define COMPONENT "rollout"

/* How long a replacement may wait for Traefik before the old container goes anyway. */
#define ROLLOUT_SWAP_MAX_MS 30000
/* Seconds the old container gets to finish its requests (nginx quits on SIGQUIT, apps on
 * SIGTERM); its StopTimeout says the same. */
#define ROLLOUT_STOP_GRACE_S 10
/* Longest a missing image may take to pull. */
#define ROLLOUT_PULL_TIMEOUT_MS (10 * 60 * 1000)
#define ROLLOUT_NAME_MAX        LP_NAMES_MAX
/* Longest an old container drains before it stops anyway (Traefik checks every second). */
#define ROLLOUT_DRAIN_MAX_MS 5000
#define DOCKER_HOSTNAME_LEN  12

int lp_rollout_unit_seal(lp_rollout_unit *u, const lp_config *cfg, const char *site,
                         const char *head, const char *tail, lp_error *err)
{
	size_t i;

	if (u->nlabels + 3 + u->edge.n + 1 > LP_ROLLOUT_LABELS)
		return lp_error_set(err, LP_ETOOBIG, "labels of %s do not fit", site);
	u->labels[u->nlabels++] = (lp_docker_kv){LP_LABEL_INSTANCE, (char *)cfg->instance};
	u->labels[u->nlabels++] = (lp_docker_kv){LP_LABEL_SITE, (char *)site};
	u->labels[u->nlabels++] = (lp_docker_kv){LP_LABEL_ROLE, (char *)u->role};
	for (i = 0; i < u->edge.n; i++)
		u->labels[u->nlabels++] = u->edge.kv[i];
	{
		lp_buf h;
		int rc;

		lp_buf_init(&h, 1 << 20);
		rc = lp_buf_printf(&h, "%s", head);
		for (i = 0; rc == LP_OK && i < u->nlabels; i++)
			rc = lp_buf_printf(&h, "label %s=%s\n", u->labels[i].key,
			                   u->labels[i].value);
		if (rc == LP_OK)
			rc = lp_buf_printf(&h, "%s", tail);
		if (rc != LP_OK) {
			lp_buf_release(&h);
			return lp_error_set(err, rc, "container spec of %s is too large", site);
		}
		lp_crypto_sha256_hex(u->hash, h.data, h.len);
		lp_buf_release(&h);
	}
	u->labels[u->nlabels++] = (lp_docker_kv){LP_LABEL_SPEC_HASH, u->hash};
	return LP_OK;
}

/* Best effort: a container that could not be removed now is found and removed by a later pass. */
static void remove_quietly(lp_docker *d, const char *id)
{
	lp_error err = {0};

	if (lp_docker_container_remove(d, id, LP_DOCKER_RM_FORCE | LP_DOCKER_RM_MISSING_OK, &err) !=
	    LP_OK)
		LP_WARN(COMPONENT, "removing container %s: %s (a later pass retries)", id,
		        err.message);
}

static int create_and_start(char **out_id, lp_ctx *ctx, const lp_rollout_unit *s, const char *name,
                            lp_error *err)
{
	const char *image = s->image;
	lp_docker *d = lp_ctx_docker(ctx);
	char *id = NULL;
	int rc;

	*out_id = NULL;
	rc = s->create(&id, ctx, s, name, err);
	if (rc == LP_ENOTFOUND) { /* create never pulls: a new host has no image yet */
		LP_INFO(COMPONENT, "pulling image %s", image);
		if ((rc = lp_docker_image_pull(d, image, NULL, NULL, ROLLOUT_PULL_TIMEOUT_MS, NULL,
		                               err)) != LP_OK)
			return lp_error_wrap(err, "image %s is missing and the pull failed", image);
		rc = s->create(&id, ctx, s, name, err);
	}
	if (rc != LP_OK)
		return rc;
	if ((rc = lp_docker_container_start(d, id, err)) != LP_OK) {
		remove_quietly(d, id);
		free(id);
		return rc;
	}
	*out_id = id;
	return LP_OK;
}

static int is_running(const lp_docker_summary *s)
{
	return s->state && !strcmp(s->state, "running");
}

static const char *label(const lp_docker_summary *s, const char *key)
{
	return lp_docker_kv_get(s->labels, s->nlabels, key);
}

int lp_rollout_is_serving(const lp_docker_summary *s)
{
	const char *role = label(s, LP_LABEL_ROLE);

	return role != NULL && (!strcmp(role, LP_ROLE_SERVE) || !strcmp(role, LP_ROLE_APP));
}

/* Docker is restarting it (the restart policy's backoff), or about to. */
static int is_restarting(const lp_docker_summary *s)
{
	return s->state && !strcmp(s->state, "restarting");
}

/*
 * Whether the edge already sends traffic to the replacement `next`: it answers for itself (the
 * unit's answers: nginx its health path, an app Docker's health check), and Traefik's API lists
 * its address among the service's servers as up (no API, or it cannot be asked: the drain period
 * has passed since it started). Past ROLLOUT_SWAP_MAX_MS the answer is yes, with a warning: a
 * replacement never waits forever; but a health-gated one must answer first.
 */
static int routed(int *out, lp_ctx *ctx, const char *site, const lp_rollout_unit *s,
                  const char *next, lp_error *err)
{
	const lp_config *cfg = lp_ctx_cfg(ctx);
	lp_docker_container *ct = NULL;
	const char *ip;
	int64_t started = 0, age;
	lp_error terr = {0};
	int rc, answers = 0;

	*out = 0;
	if ((rc = lp_docker_container_inspect(&ct, lp_ctx_docker(ctx), next, err)) != LP_OK)
		return rc;
	if (lp_clock_parse_rfc3339(&started, ct->started_at) != LP_OK)
		started = lp_clock_wall_ms();
	age = lp_clock_wall_ms() - started;
	ip = lp_docker_kv_get(ct->networks, ct->nnetworks, s->network);
	if (ip != NULL && *ip != '\0' && s->answers(&answers, s, ct, ip) != LP_OK)
		answers = 0;
	if (age >= ROLLOUT_SWAP_MAX_MS && (answers || !s->health_gated)) {
		LP_WARN(COMPONENT, "%s: %s is not routed after %d s; replacing anyway", site, next,
		        ROLLOUT_SWAP_MAX_MS / 1000);
		*out = 1;
		goto done;
	}
	if (!answers)
		goto done; /* not listening (or healthy) yet, or not on the network yet: look again
		            */
	if (cfg->traefik_api && cfg->traefik_api[0]) {
		lp_edge_server state;
		if (lp_edge_server_state(&state, cfg, s->edge.service, ip, s->edge.port, &terr) ==
		    LP_OK) {
			*out = state == LP_EDGE_UP;
			goto done;
		}
		LP_WARN(COMPONENT, "%s: %s; waiting the drain period instead", site, terr.message);
	}
	*out = age >= cfg->swap_drain_ms;
done:
	lp_docker_container_free(ct);
	return LP_OK;
}

/* The hostname Docker gives a container: its id's first 12 characters (nginx's $hostname). */
static void hostname_of(char out[DOCKER_HOSTNAME_LEN + 1], const char *id)
{
	size_t n = strnlen(id, DOCKER_HOSTNAME_LEN);

	memcpy(out, id, n);
	out[n] = '\0';
}

/*
 * Mark old as draining (its health check answers 503) and say whether it is drained: Traefik no
 * longer routes to it (its health check took it out), or, with no API to ask, the drain period
 * has passed since it was marked; past ROLLOUT_DRAIN_MAX_MS, yes regardless. It keeps serving
 * everything it gets meanwhile, so stopping it afterwards drops nothing.
 */
static int drain(int *out, lp_ctx *ctx, const char *site, const lp_rollout_unit *s,
                 const lp_docker_summary *old, lp_error *err)
{
	const lp_config *cfg = lp_ctx_cfg(ctx);
	char dir[LP_FS_PATH_MAX], marker[LP_FS_PATH_MAX], host[DOCKER_HOSTNAME_LEN + 1];
	lp_docker_container *ct = NULL;
	lp_edge_server state;
	lp_error terr = {0};
	struct stat st;
	int64_t age;
	const char *ip;
	int rc;

	*out = 0;
	hostname_of(host, old->id);
	if (lp_layout_drain_dir(dir, sizeof(dir), cfg->data_dir, site) != LP_OK ||
	    lp_layout_drain_marker(marker, sizeof(marker), cfg->data_dir, site, host) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "drain marker path of %s is too long", site);
	if (lstat(marker, &st) != 0) {
		if ((rc = lp_fs_mkdirs(dir, 0755, err)) != LP_OK ||
		    (rc = lp_fs_write_atomic(marker, "", 0, 0644, err)) != LP_OK)
			return rc;
		lp_ctx_count(ctx, LP_CTR_FILE_WRITES, 1);
		LP_INFO(COMPONENT, "%s: draining %s", site, host);
		return LP_OK; /* Traefik has not looked yet */
	}
	age =
	    lp_clock_wall_ms() - ((int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000);
	if (age >= (s->drain_max_ms > 0 ? s->drain_max_ms : ROLLOUT_DRAIN_MAX_MS)) {
		LP_WARN(COMPONENT,
		        "%s: %s still routed %d s after draining began; stopping it anyway", site,
		        host,
		        (s->drain_max_ms > 0 ? s->drain_max_ms : ROLLOUT_DRAIN_MAX_MS) / 1000);
		*out = 1;
		return LP_OK;
	}
	if (cfg->traefik_api && cfg->traefik_api[0]) {
		if ((rc = lp_docker_container_inspect(&ct, lp_ctx_docker(ctx), old->id, err)) !=
		    LP_OK)
			return rc == LP_ENOTFOUND ? (*out = 1, LP_OK) : rc;
		ip = lp_docker_kv_get(ct->networks, ct->nnetworks, s->network);
		rc = ip && *ip ? lp_edge_server_state(&state, cfg, s->edge.service, ip,
		                                      s->edge.port, &terr)
		               : LP_ENOTFOUND;
		lp_docker_container_free(ct);
		if (rc == LP_OK) {
			*out = state != LP_EDGE_UP;
			return LP_OK;
		}
		if (rc != LP_ENOTFOUND)
			LP_WARN(COMPONENT, "%s: %s; waiting the drain period instead", site,
			        terr.message);
	}
	*out = age >= cfg->swap_drain_ms;
	return LP_OK;
}

/* A container that stays (a kept replica) must not go on answering its health check 503. */
static int undrain(lp_ctx *ctx, const char *site, const lp_docker_summary *keep, lp_error *err)
{
	char marker[LP_FS_PATH_MAX], host[DOCKER_HOSTNAME_LEN + 1];
	struct stat st;

	hostname_of(host, keep->id);
	if (lp_layout_drain_marker(marker, sizeof(marker), lp_ctx_cfg(ctx)->data_dir, site, host) !=
	    LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "drain marker path of %s is too long", site);
	if (lstat(marker, &st) != 0)
		return LP_OK;
	LP_INFO(COMPONENT, "%s: %s stays: no longer draining", site, host);
	lp_ctx_count(ctx, LP_CTR_FILE_WRITES, 1);
	return lp_fs_remove_tree(marker, err);
}

/*
 * Once nothing drains any more: the markers of the containers that went. The directory stays:
 * app containers bind it (a new one would not be what they see).
 */
static void forget_drains(lp_ctx *ctx, const char *site)
{
	char dir[LP_FS_PATH_MAX], path[LP_FS_PATH_MAX];
	struct dirent *e;
	lp_error err = {0};
	DIR *d;

	if (lp_layout_drain_dir(dir, sizeof(dir), lp_ctx_cfg(ctx)->data_dir, site) != LP_OK ||
	    (d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (lp_fmt(path, sizeof(path), "%s/%s", dir, e->d_name) != LP_OK)
			continue;
		if (lp_fs_remove_tree(path, &err) != LP_OK)
			LP_WARN(COMPONENT, "%s: %s", site, err.message);
		else
			lp_ctx_count(ctx, LP_CTR_FILE_WRITES, 1);
	}
	closedir(d);
}

/*
 * Replica slots name the containers: slot 1 is the canonical deploy-<site> (so `docker rm -f
 * deploy-<name>` means a serving container), slot k deploy-<site>.<k>. A '.' never occurs in a
 * site name, so no slot of one site is another site's name. A replacement takes free slots
 * beside the ones it replaces and moves down into 1..replicas once they are gone.
 */
#define ROLLOUT_SLOTS_MAX 64

static int slot_name(char *out, size_t outlen, const lp_rollout_unit *s, int slot, lp_error *err)
{
	int rc = slot == 1 ? lp_fmt(out, outlen, "%s", s->name)
	                   : lp_fmt(out, outlen, "%s.%d", s->name, slot);

	return rc == LP_OK ? LP_OK
	                   : lp_error_set(err, LP_ETOOBIG, "container name %s.%d is too long",
	                                  s->name, slot);
}

/* The slot a container's name holds; 0 when none (a name an older release gave it). */
static int slot_of(const lp_docker_summary *c, const lp_rollout_unit *s)
{
	size_t n = strlen(s->name), i;
	const char *rest;
	char *end;
	long k;

	for (i = 0; i < c->nnames; i++) {
		if (strncmp(c->names[i], s->name, n) != 0)
			continue;
		rest = c->names[i] + n;
		if (*rest == '\0')
			return 1;
		if (rest[0] != '.' || rest[1] < '1' || rest[1] > '9')
			continue;
		k = strtol(rest + 1, &end, 10);
		if (*end == '\0' && k >= 2 && k <= ROLLOUT_SLOTS_MAX)
			return (int)k;
	}
	return 0;
}

/* The site's serve containers as one pass sees them. */
struct rollout_view {
	const lp_docker_summary **fresh; /* running with the desired spec, lowest slot first */
	const lp_docker_summary **stale; /* running with another spec: replaced */
	const lp_docker_summary **dead;  /* not running, any spec */
	size_t nfresh, nstale, ndead;
	unsigned char taken[ROLLOUT_SLOTS_MAX + 1]; /* slots some container of the site holds */
	const lp_rollout_unit *spec;
};

static void view_release(struct rollout_view *v)
{
	free(v->fresh); /* one allocation holds all three lists */
	memset(v, 0, sizeof(*v));
}

/* A container holding no slot sorts after every slot: it is the first to go. */
static int slot_rank(const lp_docker_summary *c, const lp_rollout_unit *s)
{
	int k = slot_of(c, s);

	return k ? k : ROLLOUT_SLOTS_MAX + 1;
}

/* Lowest slot first; a handful of replicas, so an insertion sort (qsort has no context). */
static void sort_by_slot(const lp_docker_summary **list, size_t n, const lp_rollout_unit *s)
{
	size_t i, j;

	for (i = 1; i < n; i++) {
		const lp_docker_summary *c = list[i];
		int r = slot_rank(c, s);
		for (j = i; j > 0 && slot_rank(list[j - 1], s) > r; j--)
			list[j] = list[j - 1];
		list[j] = c;
	}
}

static int view_build(struct rollout_view *v, const lp_docker_summaries *observed,
                      const lp_rollout_unit *s, lp_error *err)
{
	size_t n = observed->n ? observed->n : 1, i;
	const lp_docker_summary **all;

	memset(v, 0, sizeof(*v));
	v->spec = s;
	if ((all = calloc(3 * n, sizeof(*all))) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	v->fresh = all;
	v->stale = all + n;
	v->dead = all + 2 * n;
	for (i = 0; i < observed->n; i++) {
		const lp_docker_summary *o = &observed->items[i];
		const char *h = label(o, LP_LABEL_SPEC_HASH);
		if (!lp_rollout_is_serving(o))
			continue;
		v->taken[slot_of(o, s)] = 1;
		if (!is_running(o) && !(s->health_gated && is_restarting(o)))
			v->dead[v->ndead++] = o;
		else if (h && !strcmp(h, s->hash))
			v->fresh[v->nfresh++] = o;
		else
			v->stale[v->nstale++] = o;
	}
	sort_by_slot(v->fresh, v->nfresh, s);
	return LP_OK;
}

/* What one pass did: any Docker or file write, and the containers it created. */
struct rollout_pass {
	lp_ctx *ctx;
	const char *site;
	const lp_rollout_unit *spec;
	struct rollout_view *view;
	int replicas;
	int wrote;
	int created;
	int routed; /* every fresh container answers and is routed */
};

/* Stopped containers of the desired spec start again while replicas are missing. */
static void revive(struct rollout_pass *ps)
{
	struct rollout_view *v = ps->view;
	size_t i, left = 0;

	for (i = 0; i < v->ndead; i++) {
		const lp_docker_summary *o = v->dead[i];
		const char *h = label(o, LP_LABEL_SPEC_HASH);
		lp_error serr = {0};
		if ((int)v->nfresh < ps->replicas && h && !strcmp(h, ps->spec->hash)) {
			ps->wrote = 1;
			LP_INFO(COMPONENT, "%s: starting stopped container %s", ps->site, o->id);
			if (lp_docker_container_start(lp_ctx_docker(ps->ctx), o->id, &serr) ==
			    LP_OK) {
				v->fresh[v->nfresh++] = o;
				continue;
			}
			LP_WARN(COMPONENT, "%s: %s; replacing the container", ps->site,
			        serr.message);
		}
		v->dead[left++] = o;
	}
	v->ndead = left;
	sort_by_slot(v->fresh, v->nfresh, ps->spec);
}

/* Containers that do not run serve nothing: they go at once, freeing their names. */
static int clear_dead(struct rollout_pass *ps, lp_error *err)
{
	struct rollout_view *v = ps->view;
	size_t i;
	int rc;

	for (i = 0; i < v->ndead; i++) {
		ps->wrote = 1;
		LP_INFO(COMPONENT, "%s: removing stopped container %s", ps->site, v->dead[i]->id);
		if ((rc = lp_docker_container_remove(lp_ctx_docker(ps->ctx), v->dead[i]->id,
		                                     LP_DOCKER_RM_FORCE | LP_DOCKER_RM_MISSING_OK,
		                                     err)) != LP_OK)
			return rc;
		v->taken[slot_of(v->dead[i], ps->spec)] = 0;
	}
	v->ndead = 0;
	return LP_OK;
}

/* Create containers of the desired spec, in free slots, until replicas of them run. */
static int grow(struct rollout_pass *ps, lp_error *err)
{
	struct rollout_view *v = ps->view;
	char name[ROLLOUT_NAME_MAX + 8], *id = NULL;
	int slot = 1, rc;

	while ((int)v->nfresh + ps->created < ps->replicas) {
		while (slot <= ROLLOUT_SLOTS_MAX && v->taken[slot])
			slot++;
		if (slot > ROLLOUT_SLOTS_MAX)
			return lp_error_set(err, LP_EUNAVAILABLE,
			                    "%s: every container name is taken", ps->site);
		if ((rc = slot_name(name, sizeof(name), ps->spec, slot, err)) != LP_OK)
			return rc;
		ps->wrote = 1;
		LP_INFO(COMPONENT, "%s: creating %s container %s (spec %.12s)", ps->site,
		        ps->spec->role, name, ps->spec->hash);
		rc = create_and_start(&id, ps->ctx, ps->spec, name, err);
		free(id);
		id = NULL;
		if (rc == LP_EEXISTS) { /* a name outside the site's containers: the next slot */
			v->taken[slot] = 1;
			continue;
		}
		if (rc != LP_OK)
			return rc;
		v->taken[slot] = 1;
		ps->created++;
	}
	return LP_OK;
}

/* Stop (gracefully: nginx finishes what it serves) and remove each of list. */
static int remove_list(struct rollout_pass *ps, const lp_docker_summary *const *list, size_t n,
                       lp_error *err)
{
	lp_docker *d = lp_ctx_docker(ps->ctx);
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		lp_error serr = {0};
		ps->wrote = 1;
		LP_INFO(COMPONENT, "%s: removing container %s", ps->site, list[i]->id);
		if (lp_docker_container_stop(d, list[i]->id, ROLLOUT_STOP_GRACE_S, &serr) != LP_OK)
			LP_WARN(COMPONENT, "%s: stopping %s: %s (removing it anyway)", ps->site,
			        list[i]->id, serr.message);
		if ((rc = lp_docker_container_remove(d, list[i]->id,
		                                     LP_DOCKER_RM_FORCE | LP_DOCKER_RM_MISSING_OK,
		                                     err)) != LP_OK)
			return rc;
	}
	return LP_OK;
}

/* Every one of list drained (each marked, then confirmed out of the rotation). */
static int drain_list(int *out, struct rollout_pass *ps, const lp_docker_summary *const *list,
                      size_t n, lp_error *err)
{
	size_t i;
	int rc, drained;

	*out = 1;
	for (i = 0; i < n; i++) {
		if ((rc = drain(&drained, ps->ctx, ps->site, ps->spec, list[i], err)) != LP_OK)
			return rc;
		*out &= drained;
	}
	return LP_OK;
}

/* Every one of list answers itself and is routed by the edge. */
static int routed_list(int *out, struct rollout_pass *ps, const lp_docker_summary *const *list,
                       size_t n, lp_error *err)
{
	size_t i;
	int rc, ok;

	*out = 1;
	for (i = 0; i < n && *out; i++) {
		if ((rc = routed(&ok, ps->ctx, ps->site, ps->spec, list[i]->id, err)) != LP_OK)
			return rc;
		*out &= ok;
	}
	return LP_OK;
}

/*
 * A replacement (the spec changed): once every successor answers and is routed, the old
 * containers leave the rotation (drained), and each one that has left stops (one still draining
 * does not hold back the others: quick redeploys stack several). *out 1 when none is left.
 */
static int replace_stale(int *out, struct rollout_pass *ps, lp_error *err)
{
	struct rollout_view *v = ps->view;
	size_t i, left = 0;
	int rc, ok = 0;

	*out = v->nstale == 0;
	if (*out)
		return LP_OK;
	/* No successor (one that exited, say) routes nothing: the old ones stay. */
	if (ps->spec->health_gated && v->nfresh == 0)
		return LP_OK;
	if ((rc = routed_list(&ok, ps, v->fresh, v->nfresh, err)) != LP_OK || !ok)
		return rc;
	ps->routed = 1;
	for (i = 0; i < v->nstale; i++) {
		if ((rc = drain(&ok, ps->ctx, ps->site, ps->spec, v->stale[i], err)) != LP_OK)
			return rc;
		if (!ok)
			v->stale[left++] = v->stale[i];
		else if ((rc = remove_list(ps, &v->stale[i], 1, err)) != LP_OK)
			return rc;
	}
	v->nstale = left;
	*out = left == 0;
	return LP_OK;
}

/* Scaling down: the replicas past the count (highest slots first) drain, then stop. */
static int shrink(int *out, struct rollout_pass *ps, lp_error *err)
{
	struct rollout_view *v = ps->view;
	size_t keep = (size_t)ps->replicas;
	int rc, ok = 0;

	*out = v->nfresh <= keep;
	if (*out)
		return LP_OK;
	if ((rc = drain_list(&ok, ps, v->fresh + keep, v->nfresh - keep, err)) != LP_OK || !ok)
		return rc;
	if ((rc = remove_list(ps, v->fresh + keep, v->nfresh - keep, err)) != LP_OK)
		return rc;
	v->nfresh = keep;
	*out = 1;
	return LP_OK;
}

/*
 * Converged: the replicas take slots 1..replicas (the ones they hold already stay), none of
 * them drains, and the drain markers of the containers that went are forgotten.
 */
static int settle(struct rollout_pass *ps, lp_error *err)
{
	struct rollout_view *v = ps->view;
	unsigned char held[ROLLOUT_SLOTS_MAX + 1] = {0};
	char name[ROLLOUT_NAME_MAX + 8];
	size_t i;
	int slot = 1, k, rc;

	for (i = 0; i < v->nfresh; i++) {
		if ((rc = undrain(ps->ctx, ps->site, v->fresh[i], err)) != LP_OK)
			return rc;
		k = slot_of(v->fresh[i], ps->spec);
		if (k >= 1 && k <= ps->replicas)
			held[k] = 1;
	}
	for (i = 0; i < v->nfresh; i++) {
		k = slot_of(v->fresh[i], ps->spec);
		if (k >= 1 && k <= ps->replicas)
			continue;
		while (held[slot])
			slot++;
		if ((rc = slot_name(name, sizeof(name), ps->spec, slot, err)) != LP_OK)
			return rc;
		ps->wrote = 1;
		if ((rc = lp_docker_container_rename(lp_ctx_docker(ps->ctx), v->fresh[i]->id, name,
		                                     err)) != LP_OK)
			return rc;
		held[slot] = 1;
	}
	forget_drains(ps->ctx, ps->site);
	return LP_OK;
}

int lp_rollout_ensure(lp_rollout_result *out, const lp_parts *p, const char *site,
                      const lp_rollout_unit *u, int replicas, const lp_docker_summaries *observed,
                      lp_error *err)
{
	struct rollout_view v;
	struct rollout_pass ps = {.ctx = p->ctx, .site = site, .spec = u, .view = &v};
	int rc, done = 0;

	out->running = 0;
	out->requeue_ms = 0;
	out->converged = 0;
	ps.replicas = replicas < LP_SITE_REPLICAS_MIN   ? LP_SITE_REPLICAS_MIN
	              : replicas > LP_SITE_REPLICAS_MAX ? LP_SITE_REPLICAS_MAX
	                                                : replicas;
	if ((rc = view_build(&v, observed, u, err)) != LP_OK)
		return rc;
	/*
	 * A health-gated container drained once (a rollout that went back to its revision) would
	 * never answer again: the ones kept are no longer draining.
	 */
	for (done = 0; u->health_gated && done < (int)v.nfresh && done < ps.replicas; done++)
		if ((rc = undrain(p->ctx, site, v.fresh[done], err)) != LP_OK)
			goto done;
	done = 0;
	revive(&ps);
	if ((rc = clear_dead(&ps, err)) != LP_OK || (rc = grow(&ps, err)) != LP_OK)
		goto done;
	out->running = v.nfresh + (size_t)ps.created > 0;
	if (ps.created) {
		/* The new ones are seen (and, in a replacement, waited for) in a later pass. */
		out->requeue_ms = LP_ROLLOUT_POLL_MS;
		goto done;
	}
	/* A replacement first, then a scale-down: each waits for its drains, polling. */
	if ((rc = replace_stale(&done, &ps, err)) != LP_OK || !done ||
	    (rc = shrink(&done, &ps, err)) != LP_OK || !done) {
		if (rc == LP_OK)
			out->requeue_ms = LP_ROLLOUT_POLL_MS;
		goto done;
	}
	if ((rc = settle(&ps, err)) != LP_OK)
		goto done;
	done = 1;
	if (u->confirm_routed && !ps.routed &&
	    (rc = routed_list(&done, &ps, v.fresh, v.nfresh, err)) == LP_OK && !done)
		out->requeue_ms = LP_ROLLOUT_POLL_MS;
	ps.routed |= rc == LP_OK && done && u->confirm_routed;
	out->converged = rc == LP_OK && done && v.nfresh > 0;
done:
	out->routed = ps.routed && v.nfresh > 0;
	if (ps.wrote)
		lp_observer_invalidate(p->obs, site);
	view_release(&v);
	return rc;
}
