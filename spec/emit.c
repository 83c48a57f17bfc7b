/* emit.c: canonical JSON and YAML of a Site, the spec hash, and the lp_site lifecycle. */
#include <cjson/cJSON.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "launchpad/buf.h"
#include "launchpad/crypto.h"
#include "launchpad/fmt.h"
#include "launchpad/spec.h"
#include "spec/node.h"

#define OUTPUT_MAX ((size_t)16 << 20)
/* The decimal text of an int. */
#define INT_TEXT_MAX 32

void lp_site_free(lp_site *site)
{
	size_t i;

	if (site == NULL)
		return;
	free(site->name);
	free(site->git_url);
	free(site->git_branch);
	free(site->archive_digest);
	free(site->build_image);
	free(site->build_command);
	free(site->build_output_dir);
	for (i = 0; i < site->build_env_count; i++)
		lp_env_var_release(&site->build_env[i]);
	free(site->build_env);
	free(site->serve_not_found_page);
	free(site->serve_redirects);
	free(site->serve_headers);
	for (i = 0; i < site->previews_branch_count; i++)
		free(site->previews_branches[i]);
	free(site->previews_branches);
	for (i = 0; i < site->domain_count; i++)
		free(site->domains[i]);
	free(site->domains);
	free(site->run_command);
	free(site->run_image);
	free(site->run_health_path);
	for (i = 0; i < site->run_env_count; i++)
		lp_env_var_release(&site->run_env[i]);
	free(site->run_env);
	free(site);
}

void lp_site_list_release(lp_site_list *list)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < list->count; i++)
		lp_site_free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

/* Adds s under key unless s is NULL (an unset optional field, or a hole validation reports). */
static int add_str(cJSON *obj, const char *key, const char *s)
{
	if (s == NULL)
		return 1;
	return cJSON_AddStringToObject(obj, key, s) != NULL;
}

static int env_ptr_cmp(const void *a, const void *b)
{
	const lp_env_var *x = *(const lp_env_var *const *)a, *y = *(const lp_env_var *const *)b;

	return strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

void lp_env_var_release(lp_env_var *var)
{
	free(var->name);
	if (var->value && var->secret)
		explicit_bzero(var->value, strlen(var->value));
	free(var->value);
	free(var->sealed);
	free(var->fingerprint);
	memset(var, 0, sizeof(*var));
}

/*
 * A secret's object: sealed and its fingerprint at rest, the value while unsealed (what a client
 * sends); for the hash (for_hash) only the fingerprint.
 */
static int add_secret(cJSON *env, const lp_env_var *var, int for_hash)
{
	cJSON *o = cJSON_AddObjectToObject(env, var->name);

	if (o == NULL)
		return 0;
	if (!for_hash && var->sealed == NULL && !add_str(o, "value", var->value ? var->value : ""))
		return 0;
	return cJSON_AddBoolToObject(o, "secret", 1) != NULL &&
	       (for_hash || add_str(o, "sealed", var->sealed)) &&
	       add_str(o, "fingerprint", var->fingerprint);
}

/* env in byte order of names whatever order the struct holds, so the form stays canonical. */
static int add_env(cJSON *parent, const lp_env_var *vars, size_t count, int for_hash)
{
	cJSON *env = cJSON_AddObjectToObject(parent, "env");
	const lp_env_var **sorted;
	size_t i;
	int ok = env != NULL;

	if (!ok || count == 0)
		return ok;
	sorted = malloc(count * sizeof(*sorted));
	if (sorted == NULL)
		return 0;
	for (i = 0; i < count; i++)
		sorted[i] = &vars[i];
	qsort(sorted, count, sizeof(*sorted), env_ptr_cmp);
	for (i = 0; i < count && ok; i++)
		if (sorted[i]->name != NULL && sorted[i]->secret)
			ok = add_secret(env, sorted[i], for_hash);
		else if (sorted[i]->name != NULL)
			ok =
			    add_str(env, sorted[i]->name, sorted[i]->value ? sorted[i]->value : "");
	free(sorted);
	return ok;
}

static int add_previews(cJSON *spec, const lp_site *site)
{
	cJSON *p = cJSON_AddObjectToObject(spec, "previews"), *arr;
	size_t i;
	int ok =
	    p != NULL &&
	    cJSON_AddBoolToObject(p, "pullRequests", site->previews_pull_requests != 0) != NULL &&
	    (arr = cJSON_AddArrayToObject(p, "branches")) != NULL;

	for (i = 0; ok && i < site->previews_branch_count; i++) {
		cJSON *g = cJSON_CreateString(site->previews_branches[i]);
		ok = g != NULL && cJSON_AddItemToArray(arr, g);
	}
	return ok && cJSON_AddBoolToObject(p, "forkEnv", site->previews_fork_env != 0) != NULL &&
	       cJSON_AddNumberToObject(p, "max", site->previews_max) != NULL;
}

int lp_site_preview_branch(const lp_site *site, const char *branch)
{
	size_t i;

	for (i = 0; i < site->previews_branch_count; i++)
		if (fnmatch(site->previews_branches[i], branch, 0) == 0)
			return 1;
	return 0;
}

/*
 * Absent when empty, and the serve switches only when on: a spec written before they existed
 * keeps its canonical form, so its hash (and the revision it asked for) stays the same.
 */
static int add_domains(cJSON *spec, const lp_site *site)
{
	cJSON *arr;
	size_t i;

	if (site->domain_count == 0)
		return 1;
	if ((arr = cJSON_AddArrayToObject(spec, "domains")) == NULL)
		return 0;
	for (i = 0; i < site->domain_count; i++) {
		cJSON *d = cJSON_CreateString(site->domains[i] ? site->domains[i] : "");
		if (d == NULL || !cJSON_AddItemToArray(arr, d)) {
			cJSON_Delete(d);
			return 0;
		}
	}
	return 1;
}

/* spec.run, every default filled in, so the form (and hash) of an app is complete. */
static int add_run(cJSON *spec, const lp_site *site, int for_hash)
{
	cJSON *run = cJSON_AddObjectToObject(spec, "run"), *hc, *res;

	return run != NULL && add_str(run, "command", site->run_command) &&
	       cJSON_AddNumberToObject(run, "port", site->run_port) != NULL &&
	       add_str(run, "image", site->run_image) &&
	       (hc = cJSON_AddObjectToObject(run, "healthCheck")) != NULL &&
	       add_str(hc, "path", site->run_health_path) &&
	       cJSON_AddNumberToObject(hc, "intervalSeconds", site->run_health_interval_seconds) !=
	           NULL &&
	       cJSON_AddNumberToObject(hc, "timeoutSeconds", site->run_health_timeout_seconds) !=
	           NULL &&
	       cJSON_AddNumberToObject(hc, "startSeconds", site->run_health_start_seconds) !=
	           NULL &&
	       add_env(run, site->run_env, site->run_env_count, for_hash) &&
	       (res = cJSON_AddObjectToObject(run, "resources")) != NULL &&
	       cJSON_AddNumberToObject(res, "memoryMiB", site->run_memory_mib) != NULL &&
	       cJSON_AddNumberToObject(res, "cpus", site->run_millicpus / 1000.0) != NULL;
}

static int add_flag(cJSON *obj, const char *key, int on)
{
	return !on || cJSON_AddBoolToObject(obj, key, 1) != NULL;
}

static cJSON *spec_to_cjson(const lp_site *site, int for_hash)
{
	cJSON *spec = cJSON_CreateObject(), *source, *o, *build, *serve;
	int ok = spec != NULL;

	ok = ok && (source = cJSON_AddObjectToObject(spec, "source")) != NULL;
	if (ok && site->source_kind == LP_SOURCE_GIT) {
		ok = (o = cJSON_AddObjectToObject(source, "git")) != NULL &&
		     add_str(o, "url", site->git_url) && add_str(o, "branch", site->git_branch);
	} else if (ok && site->source_kind == LP_SOURCE_ARCHIVE) {
		ok = (o = cJSON_AddObjectToObject(source, "archive")) != NULL &&
		     add_str(o, "digest", site->archive_digest);
	}
	if (ok && site->has_build) {
		ok = (build = cJSON_AddObjectToObject(spec, "build")) != NULL &&
		     add_str(build, "image", site->build_image) &&
		     add_str(build, "command", site->build_command) &&
		     add_str(build, "outputDir", site->build_output_dir) &&
		     add_env(build, site->build_env, site->build_env_count, for_hash) &&
		     cJSON_AddNumberToObject(build, "timeoutSeconds",
		                             site->build_timeout_seconds) != NULL;
	}
	ok = ok && cJSON_AddBoolToObject(spec, "autoDeploy", site->auto_deploy != 0) != NULL;
	ok = ok && (serve = cJSON_AddObjectToObject(spec, "serve")) != NULL &&
	     cJSON_AddBoolToObject(serve, "spa", site->serve_spa != 0) != NULL &&
	     add_str(serve, "notFoundPage", site->serve_not_found_page) &&
	     add_str(serve, "redirects", site->serve_redirects) &&
	     add_str(serve, "headers", site->serve_headers);
	/* Written only when not the default: the specs stored before it keep their hash. */
	if (ok && site->serve_replicas > LP_SITE_DEFAULT_REPLICAS)
		ok = cJSON_AddNumberToObject(serve, "replicas", site->serve_replicas) != NULL;
	ok = ok && add_flag(serve, "httpsRedirect", site->serve_https_redirect) &&
	     add_flag(serve, "hsts", site->serve_hsts);
	ok = ok && cJSON_AddNumberToObject(spec, "revisionHistoryLimit",
	                                   site->revision_history_limit) != NULL;
	/* Only when given: a spec without previews keeps the bytes (and hash) it always had. */
	if (ok && site->has_previews)
		ok = add_previews(spec, site);
	ok = ok && add_domains(spec, site);
	/* Only for an app: a static site keeps the bytes (and hash) it always had. */
	if (ok && site->has_run)
		ok = add_run(spec, site, for_hash);
	if (!ok) {
		cJSON_Delete(spec);
		return NULL;
	}
	return spec;
}

int lp_site_to_cjson(cJSON **out, const lp_site *site, lp_error *err)
{
	cJSON *doc = cJSON_CreateObject(), *meta, *spec = NULL;
	int ok = doc != NULL;

	*out = NULL;
	ok = ok && add_str(doc, "apiVersion", LP_SPEC_API_VERSION) &&
	     add_str(doc, "kind", LP_SPEC_KIND) &&
	     (meta = cJSON_AddObjectToObject(doc, "metadata")) != NULL &&
	     add_str(meta, "name", site->name);
	ok = ok && (spec = spec_to_cjson(site, 0)) != NULL;
	if (ok && !cJSON_AddItemToObject(doc, "spec", spec)) {
		cJSON_Delete(spec);
		ok = 0;
	}
	if (!ok) {
		cJSON_Delete(doc);
		return lp_error_set(err, LP_ENOMEM, "out of memory building the site document");
	}
	*out = doc;
	return LP_OK;
}

int lp_site_to_json(char **out, const lp_site *site, lp_error *err)
{
	cJSON *doc = NULL;
	int rc;

	*out = NULL;
	rc = lp_site_to_cjson(&doc, site, err);
	if (rc != LP_OK)
		return rc;
	*out = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	if (*out == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory printing the site document");
	return LP_OK;
}

int lp_site_spec_hash(char out[LP_SHA256_HEX_LEN], const lp_site *site, lp_error *err)
{
	cJSON *spec = spec_to_cjson(site, 1);
	char *text = spec ? cJSON_PrintUnformatted(spec) : NULL;
	int rc = LP_OK;

	out[0] = '\0';
	if (text == NULL)
		rc = lp_error_set(err, LP_ENOMEM, "out of memory hashing the spec");
	else
		lp_crypto_sha256_hex(out, text, strlen(text));
	free(text);
	cJSON_Delete(spec);
	return rc;
}

int lp_site_build_hash(char out[LP_SHA256_HEX_LEN], const lp_site *site, lp_error *err)
{
	lp_site built = *site;

	/*
	 * Read by the edge and the serve containers alone: the same files serve whatever hosts
	 * route to them, and however many containers serve them.
	 */
	built.domains = NULL;
	built.domain_count = 0;
	built.serve_https_redirect = 0;
	built.serve_hsts = 0;
	built.serve_replicas = LP_SITE_DEFAULT_REPLICAS;
	return lp_site_spec_hash(out, &built, err);
}

static int dup_str(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return 1;
	*dst = strdup(src);
	return *dst != NULL;
}

int lp_site_dup(lp_site **out, const lp_site *site, lp_error *err)
{
	lp_site *d = calloc(1, sizeof(*d));
	size_t i;
	int ok = d != NULL;

	*out = NULL;
	if (ok) {
		*d = *site;
		d->build_env = NULL;
		d->build_env_count = 0;
		d->previews_branches = NULL;
		d->previews_branch_count = 0;
		d->domains = NULL;
		d->domain_count = 0;
		d->run_env = NULL;
		d->run_env_count = 0;
		ok = dup_str(&d->name, site->name) & dup_str(&d->git_url, site->git_url) &
		     dup_str(&d->git_branch, site->git_branch) &
		     dup_str(&d->archive_digest, site->archive_digest) &
		     dup_str(&d->build_image, site->build_image) &
		     dup_str(&d->build_command, site->build_command) &
		     dup_str(&d->build_output_dir, site->build_output_dir) &
		     dup_str(&d->serve_not_found_page, site->serve_not_found_page) &
		     dup_str(&d->serve_redirects, site->serve_redirects) &
		     dup_str(&d->serve_headers, site->serve_headers) &
		     dup_str(&d->run_command, site->run_command) &
		     dup_str(&d->run_image, site->run_image) &
		     dup_str(&d->run_health_path, site->run_health_path);
	}
	if (ok && site->previews_branch_count > 0) {
		d->previews_branches =
		    calloc(site->previews_branch_count, sizeof(*d->previews_branches));
		ok = d->previews_branches != NULL;
		for (i = 0; ok && i < site->previews_branch_count; i++) {
			d->previews_branch_count++;
			ok = dup_str(&d->previews_branches[i], site->previews_branches[i]);
		}
	}
	if (ok && site->build_env_count > 0) {
		d->build_env = calloc(site->build_env_count, sizeof(*d->build_env));
		ok = d->build_env != NULL;
		for (i = 0; ok && i < site->build_env_count; i++) {
			d->build_env_count++;
			d->build_env[i].secret = site->build_env[i].secret;
			ok = dup_str(&d->build_env[i].name, site->build_env[i].name) &
			     dup_str(&d->build_env[i].value, site->build_env[i].value) &
			     dup_str(&d->build_env[i].sealed, site->build_env[i].sealed) &
			     dup_str(&d->build_env[i].fingerprint, site->build_env[i].fingerprint);
		}
	}
	if (ok && site->run_env_count > 0) {
		d->run_env = calloc(site->run_env_count, sizeof(*d->run_env));
		ok = d->run_env != NULL;
		for (i = 0; ok && i < site->run_env_count; i++) {
			d->run_env_count++;
			ok = dup_str(&d->run_env[i].name, site->run_env[i].name) &
			     dup_str(&d->run_env[i].value, site->run_env[i].value);
		}
	}
	if (ok && site->domain_count > 0) {
		d->domains = calloc(site->domain_count, sizeof(*d->domains));
		ok = d->domains != NULL;
		for (i = 0; ok && i < site->domain_count; i++) {
			d->domain_count++;
			ok = dup_str(&d->domains[i], site->domains[i]);
		}
	}
	if (!ok) {
		lp_site_free(d);
		return lp_error_set(err, LP_ENOMEM, "out of memory copying a site");
	}
	*out = d;
	return LP_OK;
}

/* ---- YAML ---- */

static int yaml_write(void *data, unsigned char *buffer, size_t size)
{
	return lp_buf_append(data, buffer, size) == LP_OK;
}

/*
 * A string is emitted plain only when no YAML reader (1.2 core, or 1.1 with yes/no/on/off and
 * sexagesimal numbers) could take it for anything but a string; otherwise it is double-quoted.
 */
static int needs_quotes(const char *s)
{
	static const char *const words[] = {"y", "n", "yes", "no", "on", "off"};
	size_t i;

	if (lp_node_resolve_plain(s, strlen(s)) != LP_SCALAR_STRING)
		return 1;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcasecmp(s, words[i]))
			return 1;
	if ((s[0] >= '0' && s[0] <= '9') || ((s[0] == '+' || s[0] == '-' || s[0] == '.') &&
	                                     ((s[1] >= '0' && s[1] <= '9') || s[1] == '.')))
		return 1;
	return 0;
}

static int emit_scalar(yaml_emitter_t *em, const char *s, int is_string)
{
	yaml_event_t ev;
	yaml_scalar_style_t style = YAML_PLAIN_SCALAR_STYLE;

	if (is_string && needs_quotes(s))
		style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1,
	                                  style))
		return 0;
	return yaml_emitter_emit(em, &ev);
}

static int emit_node(yaml_emitter_t *em, const cJSON *j)
{
	yaml_event_t ev;
	const cJSON *c;
	char num[INT_TEXT_MAX];

	if (cJSON_IsObject(j)) {
		if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
		                                         YAML_BLOCK_MAPPING_STYLE) ||
		    !yaml_emitter_emit(em, &ev))
			return 0;
		for (c = j->child; c != NULL; c = c->next)
			if (!emit_scalar(em, c->string, 1) || !emit_node(em, c))
				return 0;
		return yaml_mapping_end_event_initialize(&ev) && yaml_emitter_emit(em, &ev);
	}
	if (cJSON_IsArray(j)) {
		if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
		                                          YAML_BLOCK_SEQUENCE_STYLE) ||
		    !yaml_emitter_emit(em, &ev))
			return 0;
		for (c = j->child; c != NULL; c = c->next)
			if (!emit_node(em, c))
				return 0;
		return yaml_sequence_end_event_initialize(&ev) && yaml_emitter_emit(em, &ev);
	}
	if (cJSON_IsString(j))
		return emit_scalar(em, j->valuestring, 1);
	if (cJSON_IsBool(j))
		return emit_scalar(em, cJSON_IsTrue(j) ? "true" : "false", 0);
	/* Whole numbers as integers; a fraction (resources.cpus) as the shortest exact text. */
	if (lp_fmt(num, sizeof(num), "%.15g", j->valuedouble) != LP_OK)
		return 0;
	return emit_scalar(em, num, 0);
}

int lp_site_list_to_yaml(char **out, const lp_site_list *list, lp_error *err)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	lp_buf b;
	cJSON *doc = NULL;
	size_t i;
	int rc = LP_OK, ok;

	*out = NULL;
	lp_buf_init(&b, OUTPUT_MAX);
	if (!yaml_emitter_initialize(&em))
		return lp_error_set(err, LP_ENOMEM, "out of memory starting the YAML emitter");
	yaml_emitter_set_output(&em, yaml_write, &b);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	yaml_emitter_set_indent(&em, 2);
	ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
	     yaml_emitter_emit(&em, &ev);
	for (i = 0; ok && i < list->count; i++) {
		rc = lp_site_to_cjson(&doc, list->items[i], err);
		if (rc != LP_OK)
			goto done;
		ok = yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, i == 0) &&
		     yaml_emitter_emit(&em, &ev) && emit_node(&em, doc) &&
		     yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&em, &ev);
		cJSON_Delete(doc);
	}
	ok = ok && yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&em, &ev) &&
	     yaml_emitter_flush(&em);
	if (!ok) {
		rc = lp_error_set(err, LP_ENOMEM, "emitting YAML: %s",
		                  em.problem ? em.problem : "output too large");
		goto done;
	}
	*out = lp_buf_detach(&b);
done:
	yaml_emitter_delete(&em);
	lp_buf_release(&b);
	return rc;
}

int lp_site_to_yaml(char **out, const lp_site *site, lp_error *err)
{
	lp_site *one = (lp_site *)site;
	lp_site_list list = {.items = &one, .count = 1};

	return lp_site_list_to_yaml(out, &list, err);
}
