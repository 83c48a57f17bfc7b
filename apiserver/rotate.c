/* rotate.c: `launchpad-apiserver rotate-key`: every sealed secret re-sealed with a new key. */
#include <stdlib.h>
#include <string.h>

#include "apiserver/apiserver_internal.h"
#include "launchpad/layout.h"
#include "launchpad/log.h"

#define ROTATE_RETRIES 5 /* a site whose spec changed meanwhile is read again this often */

/* Re-seal spec's secrets not sealed with the newest key; *out counts them. */
static int reseal_spec(size_t *out, lp_keyring *k, lp_site *spec, const char *site_id,
                       lp_error *err)
{
	char aad[LP_KEYRING_AAD_MAX], *plain = NULL, *sealed = NULL;
	size_t i;
	int rc;

	*out = 0;
	for (i = 0; i < spec->build_env_count; i++) {
		lp_env_var *var = &spec->build_env[i];

		if (!var->secret || var->sealed == NULL ||
		    lp_keyring_sealed_key(var->sealed) == lp_keyring_current(k))
			continue;
		if (lp_keyring_aad(aad, sizeof(aad), site_id, var->name) != LP_OK)
			return lp_error_set(err, LP_EINVAL, "secret %s: name too long", var->name);
		rc = lp_keyring_open(&plain, k, aad, var->sealed, err);
		if (rc == LP_OK)
			rc = lp_keyring_seal(&sealed, k, aad, plain, err);
		if (plain) {
			explicit_bzero(plain, strlen(plain));
			free(plain);
			plain = NULL;
		}
		if (rc != LP_OK)
			return lp_error_wrap(err, "secret %s", var->name);
		free(var->sealed);
		var->sealed = sealed;
		sealed = NULL;
		(*out)++;
	}
	return LP_OK;
}

/* One site: read, re-seal, write back under the same spec hash (read again if it changed). */
static int reseal_site(size_t *out, lp_store *st, lp_keyring *k, const char *site_id, lp_error *err)
{
	static const lp_spec_options stored = {.allow_insecure_sources = 1};
	lp_store_site *site = NULL;
	lp_site *spec = NULL;
	char *json = NULL;
	int rc = LP_OK, attempt;

	*out = 0;
	for (attempt = 0; attempt < ROTATE_RETRIES; attempt++) {
		lp_store_site_free(site);
		lp_site_free(spec);
		free(json);
		site = NULL, spec = NULL, json = NULL;
		if ((rc = lp_store_site_get_by_id(&site, st, site_id, err)) == LP_ENOTFOUND) {
			rc = LP_OK; /* deleted meanwhile */
			break;
		}
		if (rc != LP_OK)
			break;
		if (lp_spec_parse_json(&spec, site->spec_json, strlen(site->spec_json), &stored,
		                       NULL, err) != LP_OK) {
			rc = LP_OK; /* a spec that does not parse has nothing we could open */
			break;
		}
		if ((rc = reseal_spec(out, k, spec, site->id, err)) != LP_OK || *out == 0)
			break;
		if ((rc = lp_site_to_json(&json, spec, err)) != LP_OK)
			break;
		rc = lp_store_site_reseal(st, site->id, site->spec_hash, json, err);
		if (rc != LP_ECONFLICT)
			break;
	}
	if (rc != LP_OK)
		lp_error_wrap(err, "site %s", site ? site->name : site_id);
	lp_store_site_free(site);
	lp_site_free(spec);
	free(json);
	return rc;
}

/* Every site's secrets with the newest key; *out counts what was re-sealed. */
static int reseal_all(size_t *out, lp_store *st, lp_keyring *k, lp_error *err)
{
	lp_store_site *sites = NULL;
	size_t n = 0, i, one;
	int rc;

	if ((rc = lp_store_site_list(&sites, &n, st, 1, err)) != LP_OK)
		return rc;
	for (i = 0; i < n && rc == LP_OK; i++) {
		rc = reseal_site(&one, st, k, sites[i].id, err);
		*out += one;
	}
	lp_store_sites_free(sites, n);
	return rc;
}

int lp_apiserver_rotate_key(size_t *out, const lp_config *cfg, lp_error *err)
{
	char path[LP_FS_PATH_MAX], db[LP_FS_PATH_MAX];
	lp_keyring *k = NULL;
	lp_store *st = NULL;
	size_t late = 0;
	int rc;

	*out = 0;
	if (lp_keyring_path(path, sizeof(path), cfg->master_key_file, cfg->data_dir) != LP_OK ||
	    lp_layout_db(db, sizeof(db), cfg->data_dir) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "data dir path too long");
	if ((rc = lp_keyring_load(&k, path, 0, err)) != LP_OK ||
	    (rc = lp_store_open(&st, db, err)) != LP_OK)
		goto done;
	/* the file first: from now on every daemon seals with the new key and opens both */
	if ((rc = lp_keyring_add_key(k, err)) != LP_OK ||
	    (rc = reseal_all(out, st, k, err)) != LP_OK)
		goto done;
	/* what an apply sealed with the old key while the first pass ran */
	if ((rc = reseal_all(&late, st, k, err)) != LP_OK)
		goto done;
	*out += late;
	rc = lp_keyring_retire_old(k, err);
	if (rc == LP_OK)
		LP_INFO("api", "master key rotated to key %d: %zu secret value(s) re-sealed",
		        lp_keyring_current(k), *out);
done:
	lp_store_close(st);
	lp_keyring_free(k);
	return rc;
}
