/*
 * specs.h: the parsed specs of the sites, kept by name and spec hash, so a reconcile of a site
 * whose spec did not change does not parse its stored canonical JSON again (the parse and its
 * validation were a third of a steady-state pass).
 *
 * Thread-safe; lp_specs owns its entries and its lock. What lp_specs_get hands out is a
 * reference the caller gives back with lp_specs_put: it stays valid until then, whatever replaces
 * its entry meanwhile. lp_specs_free(NULL) is a no-op.
 */
#ifndef LAUNCHPAD_CONTROLLER_SPECS_H
#define LAUNCHPAD_CONTROLLER_SPECS_H

#include "launchpad/error.h"
#include "launchpad/spec.h"
#include "launchpad/store.h"

/* Sites whose parse is kept; past it, unused entries are dropped (and parsed again on need). */
#define LP_SPECS_MAX LP_STORE_LIST_MAX

typedef struct lp_specs lp_specs;
typedef struct lp_spec_ref lp_spec_ref;

int lp_specs_new(lp_specs **out, const lp_spec_options *opts, lp_error *err) LP_MUST_CHECK;
void lp_specs_free(lp_specs *c);

/*
 * The parse of site's stored spec (*out_spec, borrowed from the reference *out): the kept one
 * when its hash is the row's, else a new parse, kept for next time. A spec that does not parse is
 * an error (its first diagnostic in err) and is not kept.
 */
int lp_specs_get(lp_spec_ref **out, const lp_site **out_spec, lp_specs *c,
                 const lp_store_site *site, lp_error *err) LP_MUST_CHECK;
/* Give a reference back; NULL is a no-op. */
void lp_specs_put(lp_specs *c, lp_spec_ref *ref);
/* Drop what is kept of a site (it is gone). */
void lp_specs_forget(lp_specs *c, const char *name);

#endif
