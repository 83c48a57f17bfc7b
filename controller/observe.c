/* observe.c: the watch-fed container cache: filled by lists, invalidated by events. */
#include "controller/observe.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launchpad/lock.h"
#include "launchpad/names.h"

/*
 * Entries are found by a hash of the site's name: a resync of 1,000 sites looked every one up in
 * a list (a million comparisons) and filtered the whole container list once per site (twenty
 * million label comparisons), most of the 100 ms a steady-state pass may take.
 */
#define OBS_BUCKETS 4096

/* What the controller last saw of one site's containers. */
struct lp_observed {
	char *site;
	int valid;    /* 0: re-list this site before trusting it */
	uint64_t gen; /* the epoch of its last invalidation */
	lp_docker_summaries *containers;
	lp_docker_summaries *fresh; /* a resync's list being assembled (resync only) */
	struct lp_observed *next;   /* every entry */
	struct lp_observed *chain;  /* the entries of its bucket */
};

struct lp_observer {
	lp_docker *docker;
	char instance_filter[LP_NAMES_MAX];
	lp_lock lock;
	struct lp_observed *entries;              /* under lock */
	struct lp_observed *buckets[OBS_BUCKETS]; /* under lock */
	uint64_t epoch;                           /* bumped by every invalidation; under lock */
};

/* FNV-1a */
static size_t bucket_of(const char *site)
{
	uint32_t h = 2166136261u;

	for (; *site; site++)
		h = (h ^ (unsigned char)*site) * 16777619u;
	return h % OBS_BUCKETS;
}

static struct lp_observed *find(lp_observer *obs, const char *site)
{
	struct lp_observed *o;

	LP_ASSERT_HELD(&obs->lock);
	for (o = obs->buckets[bucket_of(site)]; o; o = o->chain)
		if (!strcmp(o->site, site))
			return o;
	return NULL;
}

/* A deep copy of the containers of one site out of a full list. */
static int filter_site(lp_docker_summaries **out, const lp_docker_summaries *all, const char *site)
{
	lp_docker_summaries *s = calloc(1, sizeof(*s));
	size_t i, n = 0;
	int ok = 1;

	*out = NULL;
	if (s == NULL)
		return LP_ENOMEM;
	for (i = 0; i < all->n; i++) {
		const char *v =
		    lp_docker_kv_get(all->items[i].labels, all->items[i].nlabels, LP_LABEL_SITE);
		if (v && !strcmp(v, site))
			n++;
	}
	s->items = calloc(n ? n : 1, sizeof(*s->items));
	if (s->items == NULL) {
		free(s);
		return LP_ENOMEM;
	}
	for (i = 0; i < all->n; i++) {
		const lp_docker_summary *src = &all->items[i];
		lp_docker_summary *dst;
		const char *v = lp_docker_kv_get(src->labels, src->nlabels, LP_LABEL_SITE);
		size_t k;

		if (v == NULL || strcmp(v, site))
			continue;
		dst = &s->items[s->n++];
		dst->id = strdup(src->id);
		dst->image = src->image ? strdup(src->image) : NULL;
		dst->state = src->state ? strdup(src->state) : NULL;
		dst->status = src->status ? strdup(src->status) : NULL;
		dst->created = src->created;
		dst->names = calloc(src->nnames ? src->nnames : 1, sizeof(char *));
		for (k = 0; dst->names && k < src->nnames; k++)
			dst->names[dst->nnames++] = strdup(src->names[k]);
		dst->labels = calloc(src->nlabels ? src->nlabels : 1, sizeof(lp_docker_kv));
		for (k = 0; dst->labels && k < src->nlabels; k++) {
			dst->labels[k].key = strdup(src->labels[k].key);
			dst->labels[k].value = strdup(src->labels[k].value);
			dst->nlabels++;
			ok = ok && dst->labels[k].key && dst->labels[k].value;
		}
		for (k = 0; k < dst->nnames; k++)
			ok = ok && dst->names[k];
		ok = ok && dst->id && dst->names && dst->labels;
	}
	/* Readers look labels up by key: a half-copied entry must never reach them. */
	if (!ok) {
		lp_docker_summaries_free(s);
		return LP_ENOMEM;
	}
	*out = s;
	return LP_OK;
}

static struct lp_observed *find_or_add(lp_observer *obs, const char *site)
{
	struct lp_observed *o = find(obs, site);

	if (o)
		return o;
	o = calloc(1, sizeof(*o));
	if (o == NULL || (o->site = strdup(site)) == NULL) {
		free(o);
		return NULL;
	}
	o->next = obs->entries;
	obs->entries = o;
	o->chain = obs->buckets[bucket_of(site)];
	obs->buckets[bucket_of(site)] = o;
	return o;
}

/*
 * Keep list as what site has. It is trusted (valid) only when no invalidation of the site came
 * in since `since`, the epoch read before listing: an event handled while the list was in
 * flight may describe a change the list does not show yet.
 */
static void store_entry(lp_observer *obs, const char *site, lp_docker_summaries *list,
                        uint64_t since)
{
	struct lp_observed *o = find_or_add(obs, site);

	LP_ASSERT_HELD(&obs->lock);
	if (o == NULL) {
		lp_docker_summaries_free(list);
		return;
	}
	lp_docker_summaries_free(o->containers);
	o->containers = list;
	o->valid = o->gen <= since;
}

int lp_observer_site(lp_docker_summaries **out, lp_observer *obs, const char *site, lp_error *err)
{
	struct lp_observed *o;
	lp_docker_summaries *fresh = NULL, *copy = NULL;
	char sitel[LP_NAMES_MAX];
	const char *labels[3] = {obs->instance_filter, sitel, NULL};
	uint64_t since;
	int rc;

	*out = NULL;
	if (lp_names_label_filter(sitel, sizeof(sitel), LP_LABEL_SITE, site) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "site name %s is too long", site);
	lp_lock_acquire(&obs->lock);
	o = find(obs, site);
	if (o && o->valid) {
		rc = filter_site(&copy, o->containers, site);
		lp_lock_release(&obs->lock);
		if (rc != LP_OK)
			return lp_error_set(err, rc, "out of memory");
		*out = copy;
		return LP_OK;
	}
	since = obs->epoch;
	lp_lock_release(&obs->lock);

	if ((rc = lp_docker_container_list(&fresh, obs->docker, labels, err)) != LP_OK)
		return rc;
	if ((rc = filter_site(&copy, fresh, site)) != LP_OK) {
		lp_docker_summaries_free(fresh);
		return lp_error_set(err, rc, "out of memory");
	}
	lp_lock_acquire(&obs->lock);
	store_entry(obs, site, fresh, since);
	lp_lock_release(&obs->lock);
	*out = copy;
	return LP_OK;
}

void lp_observer_invalidate(lp_observer *obs, const char *site)
{
	struct lp_observed *o;

	lp_lock_acquire(&obs->lock);
	/* An entry even for a site not cached yet: a list in flight must learn of this. */
	o = find_or_add(obs, site);
	if (o) {
		o->valid = 0;
		o->gen = ++obs->epoch;
	}
	lp_lock_release(&obs->lock);
}

/* Move item (its storage, not a copy) to the end of list; LP_ENOMEM leaves it where it was. */
static int take(lp_docker_summaries *list, lp_docker_summary *item)
{
	lp_docker_summary *items = realloc(list->items, (list->n + 1) * sizeof(*items));

	if (items == NULL)
		return LP_ENOMEM;
	list->items = items;
	items[list->n++] = *item;
	memset(item, 0, sizeof(*item));
	return LP_OK;
}

/*
 * Each container of the full list goes to its site's entry in one pass (sites with none get an
 * empty list: they must read as empty, not as stale). An entry that could not get its list is
 * left invalid, so its site is listed alone next time.
 */
static void distribute(lp_observer *obs, lp_docker_summaries *all, uint64_t since)
{
	struct lp_observed *o;
	size_t i;

	LP_ASSERT_HELD(&obs->lock);
	for (o = obs->entries; o; o = o->next)
		if (o->fresh == NULL)
			o->fresh = calloc(1, sizeof(*o->fresh));
	for (i = 0; i < all->n; i++) {
		lp_docker_summary *c = &all->items[i];
		const char *site = lp_docker_kv_get(c->labels, c->nlabels, LP_LABEL_SITE);

		if (site == NULL || (o = find_or_add(obs, site)) == NULL)
			continue;
		if (o->fresh == NULL)
			o->fresh = calloc(1, sizeof(*o->fresh));
		if (o->fresh == NULL || take(o->fresh, c) != LP_OK) {
			lp_docker_summaries_free(o->fresh);
			o->fresh = NULL;
			o->gen = ++obs->epoch; /* incomplete: never trusted */
		}
	}
	for (o = obs->entries; o; o = o->next) {
		if (o->fresh == NULL) {
			o->valid = 0;
			continue;
		}
		lp_docker_summaries_free(o->containers);
		o->containers = o->fresh;
		o->fresh = NULL;
		o->valid = o->gen <= since;
	}
}

int lp_observer_resync(lp_observer *obs, lp_error *err)
{
	lp_docker_summaries *all = NULL;
	const char *labels[2] = {obs->instance_filter, NULL};
	uint64_t since;
	int rc;

	lp_lock_acquire(&obs->lock);
	since = obs->epoch;
	lp_lock_release(&obs->lock);
	if ((rc = lp_docker_container_list(&all, obs->docker, labels, err)) != LP_OK)
		return rc;
	lp_lock_acquire(&obs->lock);
	distribute(obs, all, since);
	lp_lock_release(&obs->lock);
	/* what was taken is zeroed in place: this frees the rest and the array */
	lp_docker_summaries_free(all);
	return LP_OK;
}

int lp_observer_new(lp_observer **out, lp_docker *docker, const char *instance, lp_error *err)
{
	lp_observer *obs;

	*out = NULL;
	if ((obs = calloc(1, sizeof(*obs))) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	if (lp_names_label_filter(obs->instance_filter, sizeof(obs->instance_filter),
	                          LP_LABEL_INSTANCE, instance) != LP_OK) {
		free(obs);
		return lp_error_set(err, LP_ETOOBIG, "instance id is too long");
	}
	obs->docker = docker;
	lp_lock_init(&obs->lock);
	*out = obs;
	return LP_OK;
}

void lp_observer_free(lp_observer *obs)
{
	struct lp_observed *o, *next;

	if (obs == NULL)
		return;
	for (o = obs->entries; o; o = next) {
		next = o->next;
		lp_docker_summaries_free(o->containers);
		lp_docker_summaries_free(o->fresh);
		free(o->site);
		free(o);
	}
	lp_lock_destroy(&obs->lock);
	free(obs);
}
