/* specs.c: parsed site specs kept by name and spec hash, handed out as counted references. */
#include "controller/specs.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "launchpad/crypto.h"
#include "launchpad/fmt.h"
#include "launchpad/lock.h"

#define SPECS_BUCKETS 4096

struct lp_spec_ref {
	lp_site *site;
	char hash[LP_SHA256_HEX_LEN];
	int refs; /* the entry's (while it is the entry's) and each caller's; under lock */
};

struct spec_entry {
	char *name;
	lp_spec_ref *ref;
	struct spec_entry *chain;
};

struct lp_specs {
	lp_spec_options opts;
	lp_lock lock;
	struct spec_entry *buckets[SPECS_BUCKETS]; /* under lock */
	size_t n;                                  /* entries; under lock */
};

static size_t bucket_of(const char *name)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return h % SPECS_BUCKETS;
}

static void unref(lp_specs *c, lp_spec_ref *ref)
{
	LP_ASSERT_HELD(&c->lock);
	if (ref != NULL && --ref->refs == 0) {
		lp_site_free(ref->site);
		free(ref);
	}
}

static struct spec_entry **slot_of(lp_specs *c, const char *name)
{
	struct spec_entry **e;

	LP_ASSERT_HELD(&c->lock);
	for (e = &c->buckets[bucket_of(name)]; *e; e = &(*e)->chain)
		if (!strcmp((*e)->name, name))
			return e;
	return e;
}

static void drop_all(lp_specs *c)
{
	size_t i;

	LP_ASSERT_HELD(&c->lock);
	for (i = 0; i < SPECS_BUCKETS; i++) {
		while (c->buckets[i]) {
			struct spec_entry *e = c->buckets[i];

			c->buckets[i] = e->chain;
			unref(c, e->ref);
			free(e->name);
			free(e);
		}
	}
	c->n = 0;
}

int lp_specs_new(lp_specs **out, const lp_spec_options *opts, lp_error *err)
{
	lp_specs *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (c == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	c->opts = *opts;
	lp_lock_init(&c->lock);
	*out = c;
	return LP_OK;
}

void lp_specs_free(lp_specs *c)
{
	if (c == NULL)
		return;
	lp_lock_acquire(&c->lock);
	drop_all(c);
	lp_lock_release(&c->lock);
	lp_lock_destroy(&c->lock);
	free(c);
}

/* A new parse of the stored text: no positions are needed, the text was validated when stored. */
static int parse(lp_spec_ref **out, const lp_specs *c, const lp_store_site *site, lp_error *err)
{
	lp_spec_ref *ref = calloc(1, sizeof(*ref));
	cJSON *json = cJSON_Parse(site->spec_json);
	lp_spec_diags d;
	int rc;

	*out = NULL;
	lp_spec_diags_init(&d);
	if (ref == NULL) {
		rc = lp_error_set(err, LP_ENOMEM, "out of memory");
	} else if (json == NULL) {
		rc = lp_error_set(err, LP_EINVAL, "stored spec of %s is not JSON", site->name);
	} else if ((rc = lp_spec_from_cjson(&ref->site, json, &c->opts, &d, err)) != LP_OK) {
		if (d.count)
			lp_error_set(err, LP_EINVAL, "stored spec of %s: %s: %s", site->name,
			             d.items[0].path, d.items[0].message);
		rc = rc == LP_ENOMEM ? LP_ENOMEM : LP_EINVAL;
	} else if (lp_fmt(ref->hash, sizeof(ref->hash), "%s", site->spec_hash) != LP_OK) {
		rc = lp_error_set(err, LP_EINVAL, "spec hash of %s is not a SHA-256", site->name);
	}
	lp_spec_diags_release(&d);
	cJSON_Delete(json);
	if (rc != LP_OK) {
		if (ref)
			lp_site_free(ref->site);
		free(ref);
		return rc;
	}
	*out = ref;
	return LP_OK;
}

int lp_specs_get(lp_spec_ref **out, const lp_site **out_spec, lp_specs *c,
                 const lp_store_site *site, lp_error *err)
{
	struct spec_entry **slot, *e;
	lp_spec_ref *ref = NULL;
	int rc;

	*out = NULL;
	*out_spec = NULL;
	lp_lock_acquire(&c->lock);
	e = *slot_of(c, site->name);
	if (e && !strcmp(e->ref->hash, site->spec_hash)) {
		e->ref->refs++;
		*out = e->ref;
		*out_spec = e->ref->site;
		lp_lock_release(&c->lock);
		return LP_OK;
	}
	lp_lock_release(&c->lock);

	if ((rc = parse(&ref, c, site, err)) != LP_OK)
		return rc;
	ref->refs = 1; /* the caller's */
	lp_lock_acquire(&c->lock);
	slot = slot_of(c, site->name);
	if (*slot == NULL && c->n >= LP_SPECS_MAX) {
		drop_all(c); /* a bound, not a policy: what is dropped is parsed again */
		slot = slot_of(c, site->name);
	}
	if (*slot == NULL && (e = calloc(1, sizeof(*e))) != NULL &&
	    (e->name = strdup(site->name)) != NULL) {
		*slot = e;
		c->n++;
	} else if (*slot == NULL && e) {
		free(e);
	}
	if (*slot) {
		unref(c, (*slot)->ref);
		(*slot)->ref = ref;
		ref->refs++; /* the entry's */
	}
	lp_lock_release(&c->lock);
	*out = ref;
	*out_spec = ref->site;
	return LP_OK;
}

void lp_specs_put(lp_specs *c, lp_spec_ref *ref)
{
	if (ref == NULL)
		return;
	lp_lock_acquire(&c->lock);
	unref(c, ref);
	lp_lock_release(&c->lock);
}

void lp_specs_forget(lp_specs *c, const char *name)
{
	struct spec_entry **slot, *e;

	lp_lock_acquire(&c->lock);
	slot = slot_of(c, name);
	if ((e = *slot) != NULL) {
		*slot = e->chain;
		unref(c, e->ref);
		free(e->name);
		free(e);
		c->n--;
	}
	lp_lock_release(&c->lock);
}
