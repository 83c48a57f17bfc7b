/* observe.c: what the controller knows of its containers, fed by lists and invalidated by events.
 */
#include "controller/controller_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct lp_observed *find(struct lp_controller *c, const char *site)
{
	struct lp_observed *o;

	for (o = c->observed; o; o = o->next)
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
		    lp_docker_kv_get(all->items[i].labels, all->items[i].nlabels, "launchpad.site");
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
		const char *v = lp_docker_kv_get(src->labels, src->nlabels, "launchpad.site");
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

static struct lp_observed *find_or_add(struct lp_controller *c, const char *site)
{
	struct lp_observed *o = find(c, site);

	if (o)
		return o;
	o = calloc(1, sizeof(*o));
	if (o == NULL || (o->site = strdup(site)) == NULL) {
		free(o);
		return NULL;
	}
	o->next = c->observed;
	c->observed = o;
	return o;
}

/*
 * Keep list as what site has. It is trusted (valid) only when no invalidation of the site came
 * in since `since`, the epoch read before listing: an event handled while the list was in
 * flight may describe a change the list does not show yet.
 */
static void store_entry(struct lp_controller *c, const char *site, lp_docker_summaries *list,
                        uint64_t since)
{
	struct lp_observed *o = find_or_add(c, site);

	if (o == NULL) {
		lp_docker_summaries_free(list);
		return;
	}
	lp_docker_summaries_free(o->containers);
	o->containers = list;
	o->valid = o->gen <= since;
}

int lp_observe_site(lp_docker_summaries **out, struct lp_controller *c, const char *site,
                    lp_error *err)
{
	struct lp_observed *o;
	lp_docker_summaries *fresh = NULL, *copy = NULL;
	char inst[512], sitel[512];
	const char *labels[3] = {inst, sitel, NULL};
	uint64_t since;
	int rc;

	*out = NULL;
	pthread_mutex_lock(&c->obs_mu);
	o = find(c, site);
	if (o && o->valid) {
		rc = filter_site(&copy, o->containers, site);
		pthread_mutex_unlock(&c->obs_mu);
		if (rc != LP_OK)
			return lp_error_set(err, rc, "out of memory");
		*out = copy;
		return LP_OK;
	}
	since = c->obs_epoch;
	pthread_mutex_unlock(&c->obs_mu);

	snprintf(inst, sizeof(inst), "launchpad.instance=%s", c->cfg->instance);
	snprintf(sitel, sizeof(sitel), "launchpad.site=%s", site);
	if ((rc = lp_docker_container_list(&fresh, c->docker, labels, err)) != LP_OK)
		return rc;
	if ((rc = filter_site(&copy, fresh, site)) != LP_OK) {
		lp_docker_summaries_free(fresh);
		return lp_error_set(err, rc, "out of memory");
	}
	pthread_mutex_lock(&c->obs_mu);
	store_entry(c, site, fresh, since);
	pthread_mutex_unlock(&c->obs_mu);
	*out = copy;
	return LP_OK;
}

void lp_observe_invalidate(struct lp_controller *c, const char *site)
{
	struct lp_observed *o;

	pthread_mutex_lock(&c->obs_mu);
	/* An entry even for a site not cached yet: a list in flight must learn of this. */
	o = find_or_add(c, site);
	if (o) {
		o->valid = 0;
		o->gen = ++c->obs_epoch;
	}
	pthread_mutex_unlock(&c->obs_mu);
}

int lp_observe_resync(struct lp_controller *c, lp_error *err)
{
	lp_docker_summaries *all = NULL;
	struct lp_observed *o;
	char inst[512];
	const char *labels[2] = {inst, NULL};
	uint64_t since;
	size_t i;
	int rc;

	snprintf(inst, sizeof(inst), "launchpad.instance=%s", c->cfg->instance);
	pthread_mutex_lock(&c->obs_mu);
	since = c->obs_epoch;
	pthread_mutex_unlock(&c->obs_mu);
	if ((rc = lp_docker_container_list(&all, c->docker, labels, err)) != LP_OK)
		return rc;
	pthread_mutex_lock(&c->obs_mu);
	/* Sites with no container any more must read as empty, not as stale. */
	for (o = c->observed; o; o = o->next) {
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
		    lp_docker_kv_get(all->items[i].labels, all->items[i].nlabels, "launchpad.site");
		lp_docker_summaries *mine = NULL;
		if (site == NULL || find(c, site))
			continue;
		if (filter_site(&mine, all, site) == LP_OK)
			store_entry(c, site, mine, since);
	}
	pthread_mutex_unlock(&c->obs_mu);
	lp_docker_summaries_free(all);
	return LP_OK;
}

void lp_observe_free(struct lp_controller *c)
{
	struct lp_observed *o = c->observed, *next;

	for (; o; o = next) {
		next = o->next;
		lp_docker_summaries_free(o->containers);
		free(o->site);
		free(o);
	}
	c->observed = NULL;
}
