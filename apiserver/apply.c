/* apply.c: declarative PUT of a Site manifest (create, configure, unchanged, dry run) and uploads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/apiserver_internal.h"

static int is_yaml_type(const char *ct)
{
	return !strcmp(ct, "application/yaml") || !strcmp(ct, "application/x-yaml") ||
	       !strcmp(ct, "text/yaml") || !strcmp(ct, "text/x-yaml");
}

/* Parse the body as one Site; replies 400/415 and returns NULL when it is not one. */
static lp_site *parse_manifest(struct api_req *r)
{
	lp_spec_diags d;
	lp_site_list list = {0};
	lp_site *site = NULL;
	lp_error err = {0};
	cJSON *details = NULL;
	char ct[API_MEDIA_TYPE_MAX];
	int rc;

	api_content_type(r, ct, sizeof(ct));
	if (ct[0] && strcmp(ct, "application/json") && !is_yaml_type(ct)) {
		api_reply_error(r, LP_EUNSUPPORTED, NULL,
		                "Content-Type %s is not accepted: send application/yaml or "
		                "application/json",
		                ct);
		return NULL;
	}
	lp_spec_diags_init(&d);
	if (!strcmp(ct, "application/json")) {
		rc = lp_spec_parse_json(&site, lp_buf_cstr(&r->body), r->body.len, api_spec_opts(r),
		                        &d, &err);
	} else {
		rc = lp_spec_parse(&list, lp_buf_cstr(&r->body), r->body.len, api_spec_opts(r), &d,
		                   &err);
		if (rc == LP_OK && list.count != 1) {
			api_reply_error(r, LP_EINVAL, NULL,
			                "expected exactly one Site in the body, found %zu",
			                list.count);
			goto done;
		}
		if (rc == LP_OK) {
			site = list.items[0];
			list.items[0] = NULL;
		}
	}
	if (rc != LP_OK) {
		/* Out of memory: the answer goes without its details rather than not at all. */
		if (lp_spec_diags_to_cjson(&details, &d, NULL) != LP_OK)
			LP_WARN("api", "apply: diagnostics left out of the answer: out of memory");
		if (d.count)
			api_reply_error(r, rc, details,
			                "invalid manifest: %zu error%s, first: %s: %s",
			                d.count + d.dropped, d.count + d.dropped == 1 ? "" : "s",
			                d.items[0].path[0] ? d.items[0].path : "(document)",
			                d.items[0].message);
		else
			api_reply_error(r, rc, details, "invalid manifest: %s", err.message);
	}
done:
	lp_site_list_release(&list);
	lp_spec_diags_release(&d);
	return site;
}

static int is_dry_run(struct api_req *r)
{
	const char *v = api_query(r, "dryRun");

	return v && (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "All") || !*v);
}

#define API_NO_HTTPS                                                                               \
	"has no effect: this platform serves no HTTPS (start it with --https, "                    \
	"LAUNCHPAD_HTTPS=true: docs/domains.md)"

/*
 * What the spec asks that this platform cannot do, said beside the answer (NULL: nothing), not
 * refused: the spec stays valid, and takes effect once the platform is started with --https.
 */
static cJSON *https_warnings(const struct api_req *r, const lp_site *site)
{
	cJSON *w;

	if (r->srv->cfg->https || (!site->serve_https_redirect && !site->serve_hsts))
		return NULL;
	if ((w = cJSON_CreateArray()) == NULL)
		return NULL;
	if (site->serve_https_redirect)
		cJSON_AddItemToArray(w, cJSON_CreateString("serve.httpsRedirect " API_NO_HTTPS));
	if (site->serve_hsts)
		cJSON_AddItemToArray(w, cJSON_CreateString("serve.hsts " API_NO_HTTPS));
	return w;
}

static void reply_dry_run(struct api_req *r, const char *result, const lp_site *site)
{
	cJSON *o = cJSON_CreateObject(), *spec = NULL, *w = https_warnings(r, site);

	cJSON_AddBoolToObject(o, "dryRun", 1);
	cJSON_AddStringToObject(o, "result", result);
	cJSON_AddStringToObject(o, "slug", site->name);
	if (lp_site_to_cjson(&spec, site, NULL) == LP_OK) {
		api_redact_spec(spec);
		cJSON_AddItemToObject(o, "spec", spec);
	}
	if (w)
		cJSON_AddItemToObject(o, "warnings", w);
	api_reply_json(r, 200, o);
}

static const char *source_of(const lp_site *site)
{
	return site->source_kind == LP_SOURCE_ARCHIVE ? site->archive_digest : "";
}

/* The manifest as a spec the store keeps: its canonical JSON and its hash. */
struct applied {
	const lp_site *site;
	char *json;
	char hash[LP_SHA256_HEX_LEN];
	int64_t if_match;         /* 0: no If-Match */
	char id[LP_STORE_ID_LEN]; /* a new site's id (its secrets are sealed for it) */
};

/* Apply to a site that does not exist yet: create it (201), or say so (dry run). */
static void apply_create(struct api_req *r, const struct applied *a)
{
	lp_store_site *created = NULL;
	lp_error err = {0};
	char secret[API_SECRET_LEN];
	lp_store_site_new in = {.id = a->id,
	                        .name = a->site->name,
	                        .spec_json = a->json,
	                        .spec_hash = a->hash,
	                        .webhook_secret = secret,
	                        .owner_id = r->who.user_id,
	                        .trigger = LP_TRIGGER_CREATE,
	                        .source = source_of(a->site)};

	if (a->if_match) {
		api_reply_error(r, LP_ECONFLICT, NULL,
		                "If-Match given but deployment %s does not exist", a->site->name);
		return;
	}
	/* Only a new site: one created before the admin reserved its name keeps working. */
	if (lp_config_name_reserved(r->srv->cfg, a->site->name)) {
		api_reply_reserved(r, a->site->name);
		return;
	}
	if (api_reply_images(r, a->site))
		return;
	if (api_reply_domain_reserved(r, a->site))
		return;
	if (is_dry_run(r)) {
		reply_dry_run(r, "created", a->site);
		return;
	}
	if (api_secret_new(secret) != LP_OK) {
		api_reply_error(r, LP_ERROR, NULL, "cannot create a webhook secret");
		return;
	}
	if (lp_store_site_create(&created, r->store, &in, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		goto done;
	}
	api_event(r, created->id, LP_EVENT_NORMAL, "Created", "created by apply");
	api_reply_site_warned(r, 201, created->id, "created", 0, https_warnings(r, a->site));
done:
	lp_store_site_free(created);
}

/*
 * Whether the applied spec asks for a new revision: not when it differs from the stored one only
 * in what the edge and the serve containers read (domains, the HTTPS switches, replicas), which
 * the serve containers carry without a build. A stored spec that cannot be read is rebuilt from.
 */
static int needs_build(struct api_req *r, const lp_store_site *cur, const struct applied *a)
{
	char was[LP_SHA256_HEX_LEN], now[LP_SHA256_HEX_LEN];
	lp_site *stored = NULL;
	int differ = 1;

	if (api_site_spec(&stored, r, cur, NULL) == LP_OK &&
	    lp_site_build_hash(was, stored, NULL) == LP_OK &&
	    lp_site_build_hash(now, a->site, NULL) == LP_OK)
		differ = strcmp(was, now) != 0;
	lp_site_free(stored);
	return differ;
}

/* Apply to the existing site cur: a new spec (configured) or the same (unchanged). */
static void apply_update(struct api_req *r, const lp_store_site *cur, const struct applied *a)
{
	lp_store_update up = {0};
	lp_error err = {0};

	if (api_site_deleting(r, cur))
		return;
	if (a->if_match && a->if_match != cur->resource_version) {
		api_reply_error(
		    r, LP_ECONFLICT, NULL,
		    "deployment %s changed: resource_version is %lld, If-Match has %lld", cur->name,
		    (long long)cur->resource_version, (long long)a->if_match);
		return;
	}
	/* A changed spec only: an unchanged one asks for nothing new (the build checks again). */
	if (strcmp(cur->spec_hash, a->hash) && api_reply_images(r, a->site))
		return;
	if (strcmp(cur->spec_hash, a->hash) && api_reply_domain_reserved(r, a->site))
		return;
	if (is_dry_run(r)) {
		reply_dry_run(r, strcmp(cur->spec_hash, a->hash) ? "configured" : "unchanged",
		              a->site);
		return;
	}
	if (lp_store_site_update_spec(&up, r->store, cur->id, a->if_match, NULL, a->json, a->hash,
	                              needs_build(r, cur, a), LP_TRIGGER_APPLY, source_of(a->site),
	                              &err) != LP_OK) {
		api_reply_lperr(r, &err);
		return;
	}
	if (up.changed)
		api_event(r, cur->id, LP_EVENT_NORMAL, "Configured", "spec changed by apply");
	api_reply_site_warned(r, 200, cur->id, up.changed ? "configured" : "unchanged", up.revision,
	                      https_warnings(r, a->site));
}

void api_h_apply(struct api_req *r)
{
	lp_site *site = NULL, *stored = NULL;
	lp_store_site *cur = NULL;
	struct applied a = {0};
	lp_error err = {0};
	int rc;

	if ((site = parse_manifest(r)) == NULL)
		return;
	a.site = site;
	if (strcmp(site->name, r->param)) {
		api_reply_error(r, LP_ESEMANTIC, NULL,
		                "metadata.name \"%s\" does not match the URL's \"%s\"", site->name,
		                r->param);
		goto done;
	}
	if (api_if_match(&a.if_match, r) != LP_OK || api_store(r) == NULL)
		goto done;
	rc = lp_store_site_get_by_name(&cur, r->store, site->name, &err);
	if (rc != LP_OK && rc != LP_ENOTFOUND) {
		api_reply_lperr(r, &err);
		goto done;
	}
	/* a stored spec that no longer parses has no secrets to keep */
	if (cur && api_site_spec(&stored, r, cur, &err) != LP_OK)
		stored = NULL;
	if (cur == NULL && lp_store_new_id(a.id, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		goto done;
	}
	/* sealed before anything hashes, stores or shows the spec */
	if (api_seal_env(r, site, cur ? cur->id : a.id, stored) != LP_OK)
		goto done;
	if (lp_site_to_json(&a.json, site, &err) != LP_OK ||
	    lp_site_spec_hash(a.hash, site, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		goto done;
	}
	if (cur == NULL)
		apply_create(r, &a);
	else
		apply_update(r, cur, &a);
done:
	free(a.json);
	lp_site_free(site);
	lp_site_free(stored);
	lp_store_site_free(cur);
}

void api_h_archive(struct api_req *r)
{
	lp_store_site *cur = NULL;
	lp_site *spec = NULL;
	lp_store_update up = {0};
	lp_error err = {0};
	char digest[API_DIGEST_REF_MAX], hash[LP_SHA256_HEX_LEN], *json = NULL;
	int64_t rv;
	int draft = 0;

	if (!r->multipart) {
		api_reply_error(r, LP_EUNSUPPORTED, NULL,
		                "upload the archive as multipart/form-data with a \"file\" part");
		return;
	}
	if (!r->form.finished) {
		api_reply_error(r, LP_EINVAL, NULL, "the multipart field \"file\" is missing");
		return;
	}
	if (api_draft_param(&draft, r) != LP_OK || (cur = api_site_lookup(r)) == NULL)
		return;
	if (api_if_match(&rv, r) != LP_OK)
		goto done;
	if (api_site_spec(&spec, r, cur, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		goto done;
	}
	if (spec->source_kind != LP_SOURCE_ARCHIVE) {
		api_reply_error(r, LP_ECONFLICT, NULL,
		                "deployment %s builds from a Git repository, not an archive",
		                cur->name);
		goto done;
	}
	free(spec->archive_digest);
	if (api_digest_ref(digest, r->form.digest) != LP_OK ||
	    (spec->archive_digest = strdup(digest)) == NULL ||
	    lp_site_to_json(&json, spec, &err) != LP_OK ||
	    lp_site_spec_hash(hash, spec, &err) != LP_OK) {
		api_reply_error(r, LP_ENOMEM, NULL, "cannot update the spec");
		goto done;
	}
	if (api_publish_upload(r) != LP_OK)
		goto done;
	if (draft) {
		/* The spec keeps naming the live archive: only the draft revision names this one.
		 */
		if (lp_store_revision_request_draft(&up.revision, r->store, cur->id, rv,
		                                    LP_TRIGGER_UPLOAD, digest, &err) != LP_OK) {
			api_upload_withdraw(r->form.upload);
			api_reply_lperr(r, &err);
			goto done;
		}
		r->revision_requested = 1;
		api_event(r, cur->id, LP_EVENT_NORMAL, "DraftUploaded", digest);
		api_reply_draft(r, cur->id, up.revision);
		goto done;
	}
	if (lp_store_site_update_spec(&up, r->store, cur->id, rv, NULL, json, hash, 1,
	                              LP_TRIGGER_UPLOAD, digest, &err) != LP_OK) {
		api_upload_withdraw(r->form.upload);
		api_reply_lperr(r, &err);
		goto done;
	}
	r->revision_requested = up.changed && up.revision;
	if (up.changed)
		api_event(r, cur->id, LP_EVENT_NORMAL, "Uploaded", digest);
	api_reply_site(r, up.changed ? 202 : 200, cur->id, up.changed ? "configured" : "unchanged",
	               up.revision);
done:
	free(json);
	lp_site_free(spec);
	lp_store_site_free(cur);
}
