/* observe.c: the watch-fed container cache: filled by lists, invalidated by events. */
#include "controller/observe.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launchpad/lock.h"
#include "launchpad/names.h"

/* What the controller last saw of one site's containers. */
struct lp_observed {
	char *site;
	int valid;    /* 0: re-list this site before trusting it */
	uint64_t gen; /* the epoch of its last invalidation */
	lp_docker_summaries *containers;
	struct lp_observed *next;
};

struct lp_observer {
	lp_docker *docker;
	char instance_filter[LP_NAMES_MAX];
	lp_lock lock;
	struct lp_observed *entries; /* under lock */
	uint64_t epoch;              /* bumped by every invalidation; under lock */
};

static struct lp_observed *find(lp_observer *obs, const char *site)
{
	struct lp_observed *o;

	LP_ASSERT_HELD(&obs->lock);
	for (o = obs->entries; o; o = o->next)
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

int lp_observer_resync(lp_observer *obs, lp_error *err)
{
	lp_docker_summaries *all = NULL;
	struct lp_observed *o;
	const char *labels[2] = {obs->instance_filter, NULL};
	uint64_t since;
	size_t i;
	int rc;

	lp_lock_acquire(&obs->lock);
	since = obs->epoch;
	lp_lock_release(&obs->lock);
	if ((rc = lp_docker_container_list(&all, obs->docker, labels, err)) != LP_OK)
		return rc;
	lp_lock_acquire(&obs->lock);
	/* Sites with no container any more must read as empty, not as stale. */
	for (o = obs->entries; o; o = o->next) {
		lp_docker_summaries *empty = NULL;
		if (filter_site(&empty, all, o->site) == LP_OK) {
			lp_docker_summaries_free(o->containers);
			o->containers = empty;
			o->valid = o->gen <= since;
		} else {
			o->valid = 0;
		}
	}
	for (i = 0; i < all->n; i++) {
		const char *site =
		    lp_docker_kv_get(all->items[i].labels, all->items[i].nlabels, LP_LABEL_SITE);
		lp_docker_summaries *mine = NULL;
		if (site == NULL || find(obs, site))
			continue;
		if (filter_site(&mine, all, site) == LP_OK)
			store_entry(obs, site, mine, since);
	}
	lp_lock_release(&obs->lock);
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
		free(o->site);
		free(o);
	}
	lp_lock_destroy(&obs->lock);
	free(obs);
}
