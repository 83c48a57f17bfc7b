/* sites.c: what the site handlers share: finding :id, the deployment JSON, If-Match, events. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/apiserver_internal.h"
#include "launchpad/fmt.h"
#include "launchpad/log.h"

const lp_spec_options *api_spec_opts(struct api_req *r)
{
	/* One per combination of the admin's switches: [insecure sources][wildcard domains]. */
	static const lp_spec_options opts[2][2] = {
	    {{0}, {.allow_wildcard_domains = 1}},
	    {{.allow_insecure_sources = 1},
	     {.allow_insecure_sources = 1, .allow_wildcard_domains = 1}},
	};
	const lp_config *cfg = r->srv->cfg;

	return &opts[cfg->allow_insecure_sources != 0][cfg->allow_wildcard_domains != 0];
}

int api_site_spec(lp_site **out, struct api_req *r, const lp_store_site *site, lp_error *err)
{
	lp_spec_diags d;
	int rc;

	lp_spec_diags_init(&d);
	rc = lp_spec_parse_json(out, site->spec_json, strlen(site->spec_json), api_spec_opts(r), &d,
	                        err);
	if (rc != LP_OK && d.count)
		lp_error_set(err, rc, "stored spec of %s: %s: %s", site->name, d.items[0].path,
		             d.items[0].message);
	lp_spec_diags_release(&d);
	return rc;
}

int api_if_match(int64_t *out, struct api_req *r)
{
	const char *h = api_header(r, "If-Match");
	char *end;
	long long v;

	*out = 0;
	if (h == NULL)
		return LP_OK;
	if (!strncmp(h, "W/", 2))
		h += 2;
	if (*h == '"')
		h++;
	errno = 0;
	v = strtoll(h, &end, 10);
	if (errno || end == h || v <= 0 || (*end && strcmp(end, "\""))) {
		api_reply_error(r, LP_EINVAL, NULL,
		                "If-Match must be a resource_version (a positive integer)");
		return LP_EINVAL;
	}
	*out = v;
	return LP_OK;
}

int api_is_admin(const struct api_req *r)
{
	return r->who.user_id != 0 && r->who.role == LP_ROLE_ADMIN;
}

int api_site_visible(const struct api_req *r, const lp_store_site *site)
{
	/* no user: an open route (webhooks), which proves itself otherwise */
	if (r->who.user_id == 0 || r->who.role == LP_ROLE_ADMIN)
		return 1;
	return site->owner_id == r->who.user_id;
}

int64_t api_list_owner(const struct api_req *r)
{
	return api_is_admin(r) ? 0 : r->who.user_id;
}

void api_reply_not_found(struct api_req *r)
{
	api_reply_error(r, LP_ENOTFOUND, NULL, "deployment \"%s\" not found", r->param);
}

int api_site_find(lp_store_site **out, struct api_req *r, lp_error *err)
{
	lp_store *st = api_store(r);

	*out = NULL;
	if (st == NULL)
		return LP_EUNAVAILABLE; /* answered 503 */
	return lp_store_site_get(out, st, r->param, err);
}

lp_store_site *api_site_lookup(struct api_req *r)
{
	lp_store_site *site = NULL;
	lp_error err = {0};
	int rc = api_site_find(&site, r, &err);

	if (rc == LP_OK && api_site_visible(r, site))
		return site;
	lp_store_site_free(site);
	if (rc == LP_OK || rc == LP_ENOTFOUND)
		api_reply_not_found(r); /* another user's site is answered as a missing one */
	else if (!r->answered)
		api_reply_lperr(r, &err);
	return NULL;
}

/* The webhook route under the public URL, its trailing slashes dropped; the site's id follows. */
static int webhook_url(char *out, size_t outlen, const lp_config *cfg, const char *id)
{
	size_t plen = strlen(cfg->public_url);

	while (plen && cfg->public_url[plen - 1] == '/')
		plen--;
	return lp_fmt(out, outlen, "%.*s/api/webhooks/github/%s", (int)plen, cfg->public_url, id);
}

int api_webhook_url_prefix(char *out, size_t outlen, const lp_config *cfg)
{
	return webhook_url(out, outlen, cfg, "");
}

int api_webhook_url(char *out, size_t outlen, const lp_config *cfg, const lp_store_site *site)
{
	if (webhook_url(out, outlen, cfg, site->id) == LP_OK)
		return LP_OK;
	LP_WARN("api", "the webhook URL of %s is longer than %zu bytes", site->name, outlen);
	return LP_ETOOBIG;
}

cJSON *api_site_json(struct api_req *r, const lp_store_site *site)
{
	lp_store_status *stt = NULL;
	lp_error err = {0};
	cJSON *o = NULL;
	lp_buf b;

	if (lp_store_status_get(&stt, r->store, site->id, &err) != LP_OK &&
	    err.code != LP_ENOTFOUND)
		LP_WARN("api", "status of %s: %s", site->name, err.message);
	/* One writer of the object (site_json.c); replies that add fields add them to its parse. */
	lp_buf_init(&b, API_SITE_JSON_MAX);
	if (api_site_write(&b, &r->srv->urls, site, stt) == LP_OK)
		o = cJSON_ParseWithLength(b.data, b.len);
	lp_buf_release(&b);
	lp_store_status_free(stt);
	return o;
}

void api_reply_site(struct api_req *r, int status, const char *id, const char *result,
                    int64_t revision)
{
	api_reply_site_warned(r, status, id, result, revision, NULL);
}

void api_reply_site_warned(struct api_req *r, int status, const char *id, const char *result,
                           int64_t revision, cJSON *warnings)
{
	lp_store_site *site = NULL;
	lp_error err = {0};
	cJSON *o;

	if (lp_store_site_get(&site, r->store, id, &err) != LP_OK) {
		cJSON_Delete(warnings);
		api_reply_lperr(r, &err);
		return;
	}
	o = api_site_json(r, site);
	if (o && result)
		cJSON_AddStringToObject(o, "result", result);
	/*
	 * The answer to a delete says what is happening: the seed's three statuses have no word
	 * for it, so GET keeps "deploying" (docs/api.md) while this reply says "deleting".
	 */
	if (o && site->deletion_timestamp)
		cJSON_ReplaceItemInObjectCaseSensitive(o, "status", cJSON_CreateString("deleting"));
	if (o && revision)
		cJSON_AddNumberToObject(o, "revision", (double)revision);
	/* the secret is shown once, to its creator; later only on GET .../webhook */
	if (o && status == MHD_HTTP_CREATED)
		cJSON_ReplaceItemInObjectCaseSensitive(
		    o, "webhook_secret",
		    site->webhook_secret ? cJSON_CreateString(site->webhook_secret)
		                         : cJSON_CreateNull());
	if (o && warnings)
		cJSON_AddItemToObject(o, "warnings", warnings);
	else
		cJSON_Delete(warnings);
	api_set_etag(r, site->resource_version);
	lp_store_site_free(site);
	api_reply_json(r, status, o);
}

int api_draft_param(int *out, struct api_req *r)
{
	const char *v = api_query(r, "draft");

	*out = 0;
	if (v == NULL || !strcmp(v, "false") || !strcmp(v, "0"))
		return LP_OK;
	if (!strcmp(v, "true") || !strcmp(v, "1") || !*v) {
		*out = 1;
		return LP_OK;
	}
	api_reply_error(r, LP_EINVAL, NULL, "draft must be true or false");
	return LP_EINVAL;
}

void api_reply_draft(struct api_req *r, const char *id, int64_t revision)
{
	lp_store_site *site = NULL;
	lp_error err = {0};
	char url[API_URL_MAX];
	cJSON *o;

	if (lp_store_site_get(&site, r->store, id, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		return;
	}
	o = api_site_json(r, site);
	if (o) {
		cJSON_AddStringToObject(o, "result", "draft");
		cJSON_AddNumberToObject(o, "revision", (double)revision);
		cJSON_AddBoolToObject(o, "draft", 1);
		if (lp_config_revision_url(url, sizeof(url), r->srv->cfg, site->name,
		                           (long)revision, NULL) == LP_OK)
			cJSON_AddStringToObject(o, "permalink", url);
	}
	api_set_etag(r, site->resource_version);
	lp_store_site_free(site);
	api_reply_json(r, 202, o);
}

int api_secret_new(char out[API_SECRET_LEN])
{
	return lp_crypto_random_hex(out, API_SECRET_BYTES);
}

int api_digest_ref(char out[API_DIGEST_REF_MAX], const char *hex)
{
	return lp_fmt(out, API_DIGEST_REF_MAX, "sha256:%s", hex);
}

int api_reply_reserved(struct api_req *r, const char *name)
{
	lp_spec_diags d;
	cJSON *details = NULL;

	/* The shape of a manifest error, so clients show it beside metadata.name. */
	lp_spec_diags_init(&d);
	if (strstr(name, LP_CONFIG_NAME_SEP) != NULL) {
		/* The same shape; the reason is the platform's, not the admin's. */
		if (lp_spec_diags_add(&d, "metadata.name", 0, 0,
		                      "\"%s\" holds \"--\", which only the platform's preview and "
		                      "permalink hosts do",
		                      name) != LP_OK ||
		    lp_spec_diags_to_cjson(&details, &d, NULL) != LP_OK)
			LP_WARN("api",
			        "reserved name: details left out of the answer: out of memory");
		api_reply_error(r, LP_EINVAL, details,
		                "invalid manifest: 1 error, first: metadata.name: \"%s\" holds "
		                "\"--\" (kept for previews and permalinks)",
		                name);
		lp_spec_diags_release(&d);
		return LP_EINVAL;
	}
	if (lp_spec_diags_add(&d, "metadata.name", 0, 0,
	                      "\"%s\" is reserved on this installation: the platform routes that "
	                      "host itself (--reserved-names)",
	                      name) != LP_OK ||
	    lp_spec_diags_to_cjson(&details, &d, NULL) != LP_OK)
		LP_WARN("api", "reserved name: details left out of the answer: out of memory");
	api_reply_error(r, LP_EINVAL, details,
	                "invalid manifest: 1 error, first: metadata.name: \"%s\" is reserved on "
	                "this installation (--reserved-names)",
	                name);
	lp_spec_diags_release(&d);
	return LP_EINVAL;
}

/* The shape of a manifest error, so clients show it beside the field that names the image. */
static int reply_image(struct api_req *r, const char *path, const char *image, const char *what,
                       const char *flag)
{
	lp_spec_diags d;
	cJSON *details = NULL;

	lp_spec_diags_init(&d);
	if (lp_spec_diags_add(&d, path, 0, 0,
	                      "\"%s\" is not allowed on this installation: %s use the images "
	                      "its admin lists (--build-images) or %s",
	                      image, what, flag) != LP_OK ||
	    lp_spec_diags_to_cjson(&details, &d, NULL) != LP_OK)
		LP_WARN("api", "image: details left out of the answer: out of memory");
	api_reply_error(r, LP_EINVAL, details,
	                "invalid manifest: 1 error, first: %s: \"%s\" is not allowed "
	                "on this installation (--build-images)",
	                path, image);
	lp_spec_diags_release(&d);
	return LP_EINVAL;
}

int api_reply_build_image(struct api_req *r, const char *image)
{
	return reply_image(r, "spec.build.image", image, "builds", "--build-image");
}

int api_reply_images(struct api_req *r, const lp_site *site)
{
	if (!lp_config_build_image_allowed(r->srv->cfg, site->build_image)) {
		api_reply_build_image(r, site->build_image);
		return 1;
	}
	if (site->has_run && !lp_config_app_image_allowed(r->srv->cfg, site->run_image)) {
		reply_image(r, "spec.run.image", site->run_image, "apps", "--app-image");
		return 1;
	}
	return 0;
}

int api_reply_domain_reserved(struct api_req *r, const lp_site *site)
{
	const lp_config *cfg = r->srv->cfg;
	char path[LP_SPEC_DIAG_PATH_MAX];
	lp_spec_diags d;
	cJSON *details = NULL;
	size_t i;

	for (i = 0; i < site->domain_count; i++)
		if (lp_config_domain_reserved(cfg, site->domains[i]))
			break;
	if (i == site->domain_count)
		return 0;
	/* The shape of a manifest error, so clients show it beside spec.domains. */
	lp_fmt_text(path, sizeof(path), "spec.domains.%zu", i);
	lp_spec_diags_init(&d);
	if (lp_spec_diags_add(&d, path, 0, 0,
	                      "\"%s\" is the platform's own: the sites' hosts under %s (a site's "
	                      "name is its host there) and the API's host are not custom domains",
	                      site->domains[i], cfg->base_domain) != LP_OK ||
	    lp_spec_diags_to_cjson(&details, &d, NULL) != LP_OK)
		LP_WARN("api", "reserved domain: details left out of the answer: out of memory");
	api_reply_error(r, LP_EINVAL, details,
	                "invalid manifest: 1 error, first: %s: \"%s\" is the platform's own (under "
	                "--base-domain %s, or the API's host)",
	                path, site->domains[i], cfg->base_domain);
	lp_spec_diags_release(&d);
	return 1;
}

int api_site_deleting(struct api_req *r, const lp_store_site *site)
{
	if (!site->deletion_timestamp)
		return 0;
	api_reply_error(r, LP_ECONFLICT, NULL, "deployment %s is being deleted", site->name);
	return 1;
}

lp_store_revision *api_revision_lookup(struct api_req *r, const lp_store_site *site, int64_t number)
{
	lp_store_revision *rev = NULL;
	lp_error err = {0};

	if (lp_store_revision_get(&rev, r->store, site->id, number, &err) == LP_OK)
		return rev;
	if (err.code == LP_ENOTFOUND)
		api_reply_error(r, LP_ENOTFOUND, NULL, "revision %lld of %s not found",
		                (long long)number, site->name);
	else
		api_reply_lperr(r, &err);
	return NULL;
}

void api_event(struct api_req *r, const char *site_id, lp_store_event_type type, const char *reason,
               const char *message)
{
	lp_error err = {0};

	/* the change itself is stored: a lost event only leaves the history short, so it is logged
	 */
	if (lp_store_event_add(r->store, site_id, type, reason, message, &err) != LP_OK)
		LP_WARN("api", "event %s of %s not recorded: %s", reason, site_id, err.message);
}
