/* deployments.c: the seed's deployment API: create (JSON or zip), get, delete, redeploy (list.c
 * lists). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/apiserver_internal.h"

/* ---- get ---- */

struct get_one {
	const struct api_req *r;
	const struct api_site_urls *urls;
	lp_buf *out;
	int64_t resource_version;
};

static int write_one(void *ctx, const lp_store_site *site, const lp_store_status *status)
{
	struct get_one *g = ctx;

	/* the route's scope checked the owner already; a site given away since is missing too */
	if (!api_site_visible(g->r, site))
		return LP_ENOTFOUND;
	g->resource_version = site->resource_version;
	return api_site_write(g->out, g->urls, site, status);
}

void api_h_get(struct api_req *r)
{
	lp_store *st = api_store(r);
	lp_buf b;
	struct get_one g = {r, &r->srv->urls, &b, 0};
	lp_error err = {0};
	int rc;

	if (st == NULL)
		return;
	/* The hottest route: one query (the site joined with its status), no tree of the object. */
	lp_buf_init(&b, API_SITE_JSON_MAX);
	rc = lp_store_site_view(st, r->param, write_one, &g, &err);
	if (rc == LP_ENOTFOUND) {
		api_reply_error(r, LP_ENOTFOUND, NULL, "deployment \"%s\" not found", r->param);
	} else if (rc == LP_ETOOBIG && err.code == LP_OK) {
		api_reply_error(r, LP_ETOOBIG, NULL, "deployment %s does not fit an answer",
		                r->param);
	} else if (rc != LP_OK) {
		api_reply_lperr(r, &err);
	} else {
		api_set_etag(r, g.resource_version);
		api_reply_json_text(r, 200, &b);
	}
	lp_buf_release(&b);
}

/* ---- create (the seed's POST) ---- */

#define API_ENV_IGNORED "env_vars were ignored: they are build variables and there is no build_cmd"

/* The seed's request fields, from JSON or multipart; strings borrowed from the request. */
struct seed_req {
	const char *name, *slug, *source_type, *github_url, *branch, *build_cmd, *output_dir;
	const cJSON *env; /* an object of strings */
	int auto_deploy;
};

static int env_cmp(const void *a, const void *b)
{
	return strcmp(((const lp_env_var *)a)->name, ((const lp_env_var *)b)->name);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* The seed's env_vars as the build's env, sorted as a canonical spec keeps it. */
static int seed_env(lp_site *s, const cJSON *env, lp_spec_diags *d, lp_error *err)
{
	size_t n = (size_t)cJSON_GetArraySize(env);
	const cJSON *e;

	if (n && (s->build_env = calloc(n, sizeof(lp_env_var))) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	cJSON_ArrayForEach(e, env)
	{
		lp_env_var *v = &s->build_env[s->build_env_count];

		const cJSON *val = cJSON_GetObjectItemCaseSensitive(e, "value");
		const cJSON *secret = cJSON_GetObjectItemCaseSensitive(e, "secret");

		/* a string, or the object form of a secret: {"value": "...", "secret": true} */
		if (cJSON_IsObject(e) && cJSON_IsString(val) &&
		    (secret == NULL || cJSON_IsBool(secret)) && cJSON_GetArraySize(e) <= 2 &&
		    (secret != NULL || cJSON_GetArraySize(e) == 1)) {
			v->secret = cJSON_IsTrue(secret);
			v->value = strdup(val->valuestring);
		} else if (cJSON_IsString(e)) {
			v->value = strdup(e->valuestring);
		} else {
			if (lp_spec_diags_add(
			        d, "env_vars", 0, 0,
			        "value of \"%s\" must be a string or {\"value\": \"...\", "
			        "\"secret\": true}",
			        e->string) != LP_OK)
				return lp_error_set(err, LP_ENOMEM, "out of memory");
			continue;
		}
		v->name = strdup(e->string);
		s->build_env_count++;
	}
	if (s->build_env_count) /* qsort's base must not be NULL, even for 0 items */
		qsort(s->build_env, s->build_env_count, sizeof(lp_env_var), env_cmp);
	return LP_OK;
}

/* Translate the seed's fields into a Site; diagnostics go to d (paths as in a manifest). */
static int seed_to_site(lp_site **out, int *env_ignored, const struct seed_req *q,
                        const char *digest, lp_spec_diags *d, lp_error *err)
{
	lp_site *s = calloc(1, sizeof(*s));
	int rc = LP_OK;
	int has_cmd = q->build_cmd && *q->build_cmd;
	const char *outdir = q->output_dir && *q->output_dir ? q->output_dir : NULL;

	*out = NULL;
	*env_ignored = 0;
	if (s == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	s->revision_history_limit = LP_SITE_DEFAULT_HISTORY;
	s->build_timeout_seconds = LP_SITE_DEFAULT_TIMEOUT;
	s->auto_deploy = q->auto_deploy;
	if (digest) {
		char full[API_DIGEST_REF_MAX];

		if (api_digest_ref(full, digest) != LP_OK) {
			rc = lp_error_set(err, LP_ERROR, "digest %s is not a SHA-256", digest);
			goto done;
		}
		s->source_kind = LP_SOURCE_ARCHIVE;
		s->archive_digest = strdup(full);
	} else {
		s->source_kind = LP_SOURCE_GIT;
		s->git_url = dup_or_null(q->github_url ? q->github_url : "");
		s->git_branch =
		    strdup(q->branch && *q->branch ? q->branch : LP_SITE_DEFAULT_BRANCH);
	}
	if (has_cmd) {
		s->has_build = 1;
		s->build_command = strdup(q->build_cmd);
		/* the seed's defaults: "." for a zip, "dist" for a repository */
		s->build_output_dir = strdup(outdir ? outdir : digest ? "." : "dist");
		if ((rc = seed_env(s, q->env, d, err)) != LP_OK)
			goto done;
	} else {
		/* A pre-built source with its files in a folder: publish that folder, run nothing.
		 */
		if (outdir && strcmp(outdir, ".") && strcmp(outdir, "./")) {
			s->has_build = 1;
			s->build_output_dir = strdup(outdir);
		}
		/* the seed sends them optionally with every request: ignored, with a warning */
		*env_ignored = q->env && cJSON_GetArraySize(q->env) > 0;
	}
	if (q->name && strlen(q->name) > 200 &&
	    lp_spec_diags_add(d, "name", 0, 0, "name is longer than 200 characters") != LP_OK)
		rc = lp_error_set(err, LP_ENOMEM, "out of memory");
done:
	if (rc == LP_OK)
		*out = s;
	else
		lp_site_free(s);
	return rc;
}

static const char *form_value(struct api_req *r, const char *key)
{
	size_t i;

	for (i = 0; i < r->form.n; i++)
		if (!strcmp(r->form.keys[i], key))
			return lp_buf_cstr(&r->form.values[i]);
	return NULL;
}

static int is_true(const char *v)
{
	return v &&
	       (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "on") || !strcmp(v, "yes"));
}

/* The Site q asks for, validated with every problem reported at once; NULL after replying. */
static lp_site *seed_site(struct api_req *r, int *env_ignored, const struct seed_req *q,
                          const char *digest)
{
	lp_spec_diags d;
	lp_site *site = NULL;
	lp_error err = {0};
	cJSON *details = NULL;
	int rc;

	lp_spec_diags_init(&d);
	rc = LP_OK;
	if (q->name == NULL || *q->name == '\0')
		rc = lp_spec_diags_add(&d, "name", 0, 0, "name is required");
	if (rc == LP_OK && q->slug && !api_slug_valid(q->slug))
		rc = lp_spec_diags_add(&d, "slug", 0, 0,
		                       "slug must be a DNS label: a-z, 0-9 and '-', at most 63");
	if (rc != LP_OK) {
		api_reply_error(r, rc, NULL, "out of memory");
		goto done;
	}
	if (seed_to_site(&site, env_ignored, q, digest, &d, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		goto done;
	}
	/* a generated name is drawn once the spec is known to be good */
	site->name = strdup(q->slug ? q->slug : "placeholder-name");
	rc = d.count ? LP_EINVAL : lp_site_validate(site, api_spec_opts(r), &d, &err);
	if (rc == LP_OK && d.count == 0)
		goto done;
	/* Out of memory: the answer goes without its details rather than not at all. */
	if (lp_spec_diags_to_cjson(&details, &d, NULL) != LP_OK)
		LP_WARN("api", "deployment: diagnostics left out of the answer: out of memory");
	api_reply_error(r, LP_EINVAL, details, "invalid deployment: %s%s%s",
	                d.count ? d.items[0].path : "", d.count ? ": " : "",
	                d.count ? d.items[0].message : err.message);
	lp_site_free(site);
	site = NULL;
done:
	lp_spec_diags_release(&d);
	return site;
}

/*
 * Store site as in describes it, under its name, or with generated set under names drawn until
 * one is free (a taken or reserved one is drawn again). *out is the stored site; replies when it
 * fails.
 */
static int insert_site(lp_store_site **out, struct api_req *r, lp_site *site, int generated,
                       lp_store_site_new *in)
{
	char slug[API_SLUG_MAX], *json = NULL;
	lp_error err = {0};
	unsigned attempt;
	int rc;

	for (attempt = 0;; attempt++) {
		if (generated) {
			if ((rc = api_slug_generate(slug, attempt)) != LP_OK) {
				api_reply_error(r, LP_ERROR, NULL, "cannot draw a name");
				goto done;
			}
			free(site->name);
			site->name = strdup(slug);
		}
		free(json);
		json = NULL;
		if (site->name == NULL || lp_site_to_json(&json, site, &err) != LP_OK) {
			rc = LP_ENOMEM;
			api_reply_error(r, LP_ENOMEM, NULL, "cannot serialise the spec");
			goto done;
		}
		in->name = site->name;
		in->spec_json = json;
		if (lp_config_name_reserved(r->srv->cfg, site->name)) {
			if (!generated) {
				rc = api_reply_reserved(r, site->name);
				goto done;
			}
			rc = LP_EEXISTS; /* drawn again */
		} else {
			rc = lp_store_site_create(out, r->store, in, &err);
		}
		if (rc != LP_EEXISTS || !generated || attempt > 2 * API_SLUG_PLAIN_TRIES)
			break;
	}
	if (rc == LP_EEXISTS)
		api_reply_error(r, LP_EEXISTS, NULL, "a deployment named \"%s\" already exists",
		                site->name);
	else if (rc != LP_OK)
		api_reply_lperr(r, &err);
done:
	in->spec_json = NULL;
	free(json);
	return rc;
}

/* 201 with the new site, and the warning the seed's clients may show beside it. */
static void reply_created(struct api_req *r, const lp_store_site *created, const char *digest,
                          int env_ignored)
{
	cJSON *o;

	api_event(r, created->id, LP_EVENT_NORMAL, "Created",
	          digest ? "created from an uploaded archive" : "created from a repository");
	if (env_ignored)
		api_event(r, created->id, LP_EVENT_WARNING, "EnvVarsIgnored", API_ENV_IGNORED);
	o = api_site_json(r, created);
	/* the secret is shown once, to its creator; later only on GET .../webhook */
	if (o)
		cJSON_ReplaceItemInObjectCaseSensitive(o, "webhook_secret",
		                                       cJSON_CreateString(created->webhook_secret));
	if (o && env_ignored) {
		cJSON *w = cJSON_AddArrayToObject(o, "warnings");

		if (w)
			cJSON_AddItemToArray(w, cJSON_CreateString(API_ENV_IGNORED));
	}
	api_set_etag(r, created->resource_version);
	api_reply_json(r, 201, o);
}

int api_publish_upload(struct api_req *r)
{
	lp_error err = {0};
	char *path = NULL;

	if (api_upload_publish(&path, r->form.upload, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		return err.code ? err.code : LP_ERROR;
	}
	free(path);
	return LP_OK;
}

/* Store a new site named after q (slug given or generated), from a repository or digest. */
static void create_site(struct api_req *r, const struct seed_req *q, const char *digest)
{
	lp_site *site = NULL;
	lp_store_site *created = NULL;
	lp_store_site_new in = {0};
	lp_error err = {0};
	char secret[API_SECRET_LEN], hash[LP_SHA256_HEX_LEN], source[API_DIGEST_REF_MAX] = "";
	char id[LP_STORE_ID_LEN];
	int env_ignored = 0;

	if (api_store(r) == NULL || (site = seed_site(r, &env_ignored, q, digest)) == NULL)
		goto done;
	/* The seed's fields name no image (NULL: --build-image); any that did would be held here.
	 */
	if (!lp_config_build_image_allowed(r->srv->cfg, site->build_image)) {
		api_reply_build_image(r, site->build_image);
		goto done;
	}
	/* sealed before anything hashes, stores or shows the spec */
	if (lp_store_new_id(id, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		goto done;
	}
	if (api_seal_env(r, site, id, NULL) != LP_OK)
		goto done;
	if (api_secret_new(secret) != LP_OK || lp_site_spec_hash(hash, site, &err) != LP_OK ||
	    (digest && api_digest_ref(source, digest) != LP_OK)) {
		api_reply_error(r, LP_ERROR, NULL, "cannot derive the webhook secret or spec hash");
		goto done;
	}
	in.id = id;
	in.display_name = q->name;
	in.spec_hash = hash;
	in.webhook_secret = secret;
	in.owner_id = r->who.user_id;
	in.trigger = LP_TRIGGER_CREATE;
	in.source = source;
	/* the request is good: the archive appears now, just before the store names it */
	if (digest && api_publish_upload(r) != LP_OK)
		goto done;
	if (insert_site(&created, r, site, q->slug == NULL, &in) == LP_OK)
		reply_created(r, created, digest, env_ignored);
	else if (digest)
		api_upload_withdraw(r->form.upload);
done:
	lp_site_free(site);
	lp_store_site_free(created);
}

static void create_from_json(struct api_req *r)
{
	struct seed_req q = {0};
	cJSON *root = NULL;
	lp_error err = {0};
	const cJSON *v;
	const char *bad = NULL;

	if (api_json_parse(&root, lp_buf_cstr(&r->body), r->body.len, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		goto done;
	}
	if (!cJSON_IsObject(root)) {
		api_reply_error(r, LP_EINVAL, NULL, "malformed JSON body (expected an object)");
		goto done;
	}
#define STR_FIELD(field)                                                                           \
	v = cJSON_GetObjectItemCaseSensitive(root, #field);                                        \
	if (v && !cJSON_IsNull(v)) {                                                               \
		if (cJSON_IsString(v))                                                             \
			q.field = v->valuestring;                                                  \
		else if (bad == NULL)                                                              \
			bad = #field;                                                              \
	}
	STR_FIELD(name)
	STR_FIELD(slug)
	STR_FIELD(source_type)
	STR_FIELD(github_url)
	STR_FIELD(branch)
	STR_FIELD(build_cmd)
	STR_FIELD(output_dir)
#undef STR_FIELD
	v = cJSON_GetObjectItemCaseSensitive(root, "env_vars");
	if (v && cJSON_IsObject(v))
		q.env = v;
	else if (v && !cJSON_IsNull(v) && bad == NULL)
		bad = "env_vars";
	v = cJSON_GetObjectItemCaseSensitive(root, "auto_deploy");
	if (v && cJSON_IsBool(v))
		q.auto_deploy = cJSON_IsTrue(v);
	else if (v && cJSON_IsNumber(v) && (v->valuedouble == 0 || v->valuedouble == 1))
		q.auto_deploy = v->valuedouble == 1; /* the seed's column stores 0/1 */
	else if (v && !cJSON_IsNull(v) && bad == NULL)
		bad = "auto_deploy";
	if (bad) {
		api_reply_error(r, LP_EINVAL, NULL, "field \"%s\" has the wrong type", bad);
		goto done;
	}
	if (q.source_type && !strcmp(q.source_type, "zip")) {
		api_reply_error(r, LP_EINVAL, NULL,
		                "a zip deployment is created with multipart/form-data (file=...)");
		goto done;
	}
	if (q.source_type && strcmp(q.source_type, "github")) {
		api_reply_error(r, LP_EINVAL, NULL, "source_type must be \"github\" or \"zip\"");
		goto done;
	}
	if (q.github_url == NULL || *q.github_url == '\0') {
		api_reply_error(r, LP_EINVAL, NULL, "github_url is required");
		goto done;
	}
	create_site(r, &q, NULL);
done:
	cJSON_Delete(root);
}

static void create_from_form(struct api_req *r)
{
	struct seed_req q = {0};
	const char *env = form_value(r, "env_vars");
	const char *type = form_value(r, "source_type");
	cJSON *envobj = NULL;

	if (type && strcmp(type, "zip")) {
		api_reply_error(r, LP_EINVAL, NULL,
		                "multipart/form-data creates zip deployments (source_type=zip); "
		                "a GitHub deployment is JSON");
		return;
	}
	if (!r->form.finished) {
		api_reply_error(r, LP_EINVAL, NULL,
		                "the multipart field \"file\" (a zip) is missing");
		return;
	}
	if (env && *env) {
		lp_error err = {0};

		if (api_json_parse(&envobj, env, strlen(env), &err) != LP_OK ||
		    !cJSON_IsObject(envobj)) {
			cJSON_Delete(envobj);
			api_reply_error(r, LP_EINVAL, NULL,
			                "env_vars must be a JSON object of strings%s%s",
			                err.message[0] ? ": " : "", err.message);
			return;
		}
	}
	q.name = form_value(r, "name");
	q.slug = form_value(r, "slug");
	if (q.slug && *q.slug == '\0')
		q.slug = NULL;
	q.build_cmd = form_value(r, "build_cmd");
	q.output_dir = form_value(r, "output_dir");
	q.env = envobj;
	q.auto_deploy = is_true(form_value(r, "auto_deploy"));
	create_site(r, &q, r->form.digest);
	cJSON_Delete(envobj);
}

void api_h_create(struct api_req *r)
{
	char ct[API_MEDIA_TYPE_MAX];

	if (r->multipart) {
		create_from_form(r);
		return;
	}
	api_content_type(r, ct, sizeof(ct));
	if (strcmp(ct, "application/json") && ct[0]) {
		api_reply_error(r, LP_EUNSUPPORTED, NULL,
		                "Content-Type %s is not accepted: use application/json (GitHub) or "
		                "multipart/form-data (zip)",
		                ct);
		return;
	}
	create_from_json(r);
}

/* ---- delete / redeploy ---- */

void api_h_delete(struct api_req *r)
{
	lp_store_site *site = api_site_lookup(r);
	lp_error err = {0};
	int64_t rv;

	if (site == NULL)
		return;
	if (api_if_match(&rv, r) != LP_OK)
		goto done;
	if (lp_store_site_mark_deleted(r->store, site->id, rv, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		goto done;
	}
	api_event(r, site->id, LP_EVENT_NORMAL, "Deleting", "deletion requested");
	api_reply_site(r, 202, site->id, "deleting", 0);
done:
	lp_store_site_free(site);
}

void api_h_redeploy(struct api_req *r)
{
	lp_store_site *site = api_site_lookup(r);
	lp_site *spec = NULL;
	lp_error err = {0};
	int64_t rv, rev = 0;
	const char *source = "";
	int draft = 0;

	if (site == NULL)
		return;
	if (api_draft_param(&draft, r) != LP_OK || api_if_match(&rv, r) != LP_OK)
		goto done;
	if (api_site_deleting(r, site))
		goto done;
	if (api_site_spec(&spec, r, site, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		goto done;
	}
	/* an archive rebuilds the same bytes; a repository builds its branch head */
	if (spec->source_kind == LP_SOURCE_ARCHIVE)
		source = spec->archive_digest;
	if ((draft ? lp_store_revision_request_draft : lp_store_revision_request)(
	        &rev, r->store, site->id, rv, LP_TRIGGER_REDEPLOY, source, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		goto done;
	}
	r->revision_requested = 1;
	if (draft)
		api_reply_draft(r, site->id, rev);
	else
		api_reply_site(r, 202, site->id, "redeploying", rev);
done:
	lp_site_free(spec);
	lp_store_site_free(site);
}
