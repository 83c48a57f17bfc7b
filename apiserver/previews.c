/*
 * previews.c: preview sites (docs/previews.md): a site's pull requests and matching branches
 * each get a site of their own, owned by it (parent_id), named <site>--pr-<n> or
 * <site>--<branch-slug>. The webhook (webhook.c) verifies the delivery; here its preview is
 * created, rebuilt or removed, and GET .../previews lists them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/apiserver_internal.h"
#include "launchpad/crypto.h"
#include "launchpad/fmt.h"
#include "launchpad/log.h"
#include "pipeline/gitsrc.h"

#define SLUG_HASH_DIGITS 8 /* of SHA-256(branch): a lossy slug's suffix */

/* 1 when s is "r<digits>" or "pr-<digits>": the shape of a permalink or of a PR preview. */
static int reserved_shape(const char *s)
{
	const char *d = !strncmp(s, "pr-", 3) ? s + 3 : s[0] == 'r' ? s + 1 : NULL;

	if (d == NULL || *d == '\0')
		return 0;
	for (; *d; d++)
		if (*d < '0' || *d > '9')
			return 0;
	return 1;
}

int api_preview_branch_name(char *out, size_t outlen, const char *parent, const char *branch,
                            lp_error *err)
{
	char slug[LP_SITE_NAME_MAX + 1], hex[LP_SHA256_HEX_LEN];
	size_t plen = strlen(parent), room, n = 0, i;
	int lossy = 0;

	/* "<parent>--" and at least a hash's worth of slug must fit in one DNS label */
	if (plen + 2 + SLUG_HASH_DIGITS + 1 > LP_SITE_NAME_MAX)
		return lp_error_set(err, LP_ETOOBIG,
		                    "site name %s is too long for branch previews (at most %d "
		                    "characters)",
		                    parent, LP_SITE_NAME_MAX - 2 - SLUG_HASH_DIGITS - 1);
	room = LP_SITE_NAME_MAX - plen - 2;
	for (i = 0; branch[i] && n < sizeof(slug) - 1; i++) {
		char c = branch[i];

		if (c >= 'A' && c <= 'Z') {
			c = (char)(c - 'A' + 'a');
			lossy = 1;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
			if (c != '-')
				lossy = 1;
			if (n == 0 || slug[n - 1] == '-') {
				lossy = 1; /* a leading or doubled '-' is dropped */
				continue;
			}
			c = '-';
		}
		slug[n++] = c;
	}
	if (branch[i])
		lossy = 1;
	while (n > 0 && slug[n - 1] == '-') {
		n--;
		lossy = 1;
	}
	slug[n] = '\0';
	/*
	 * Collision-free: a slug equal to its branch names that branch alone; any other gets a hash
	 * of the whole branch name, so two branches that read alike still differ. So does a slug
	 * shaped like a permalink (r<n>) or a pull request's (pr-<n>).
	 */
	if (n > room || n == 0 || reserved_shape(slug))
		lossy = 1;
	if (lossy) {
		size_t keep = room - SLUG_HASH_DIGITS - 1;

		lp_crypto_sha256_hex(hex, branch, strlen(branch));
		if (n > keep)
			n = keep;
		while (n > 0 && slug[n - 1] == '-')
			n--;
		if (lp_fmt(out, outlen, "%s--%.*s%s%.*s", parent, (int)n, slug, n ? "-" : "",
		           SLUG_HASH_DIGITS, hex) != LP_OK)
			return lp_error_set(err, LP_ETOOBIG, "preview name too long");
		return LP_OK;
	}
	if (lp_fmt(out, outlen, "%s--%s", parent, slug) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "preview name too long");
	return LP_OK;
}

int api_preview_pr_name(char *out, size_t outlen, const char *parent, long number, lp_error *err)
{
	if (lp_fmt(out, outlen, "%s--pr-%ld", parent, number) != LP_OK ||
	    strlen(out) > LP_SITE_NAME_MAX)
		return lp_error_set(err, LP_ETOOBIG,
		                    "the preview of pull request %ld of %s would be longer than %d "
		                    "characters",
		                    number, parent, LP_SITE_NAME_MAX);
	return LP_OK;
}

/* The preview's spec: the parent's, named for the preview, built from ref, without previews. */
static int child_spec(char **out_json, char out_hash[LP_SHA256_HEX_LEN], const lp_site *pspec,
                      const struct api_preview *pv, lp_error *err)
{
	lp_site *c = NULL;
	size_t i;
	int rc;

	if ((rc = lp_site_dup(&c, pspec, err)) != LP_OK)
		return rc;
	free(c->name);
	free(c->git_branch);
	c->name = strdup(pv->name);
	c->git_branch = strdup(pv->ref);
	for (i = 0; i < c->previews_branch_count; i++)
		free(c->previews_branches[i]);
	free(c->previews_branches);
	c->previews_branches = NULL;
	c->previews_branch_count = 0;
	c->has_previews = 0;
	c->previews_pull_requests = c->previews_fork_env = 0;
	/* The parent's custom domains are the parent's: a preview answers on its own host only. */
	for (i = 0; i < c->domain_count; i++)
		free(c->domains[i]);
	free(c->domains);
	c->domains = NULL;
	c->domain_count = 0;
	/* A fork's code runs the build: the site's variables (its secrets) stay out of it. */
	if (pv->without_env) {
		for (i = 0; i < c->build_env_count; i++) {
			free(c->build_env[i].name);
			free(c->build_env[i].value);
		}
		c->build_env_count = 0;
	}
	if (c->name == NULL || c->git_branch == NULL)
		rc = lp_error_set(err, LP_ENOMEM, "out of memory");
	if (rc == LP_OK)
		rc = lp_site_to_json(out_json, c, err);
	if (rc == LP_OK)
		rc = lp_site_spec_hash(out_hash, c, err);
	lp_site_free(c);
	return rc;
}

/* Over the cap: the oldest live previews go (the controller removes them), said in an event. */
static int make_room(struct api_req *r, const lp_store_site *parent, const lp_site *pspec,
                     lp_error *err)
{
	lp_store_site *kids = NULL;
	size_t n = 0, live = 0, i;
	char msg[API_MESSAGE_MAX];
	int rc;

	if ((rc = lp_store_site_list_children(&kids, &n, r->store, parent->id, err)) != LP_OK)
		return rc;
	for (i = 0; i < n; i++)
		live += kids[i].deletion_timestamp == 0;
	for (i = 0; i < n && rc == LP_OK && live >= (size_t)pspec->previews_max; i++) {
		if (kids[i].deletion_timestamp)
			continue;
		if ((rc = lp_store_site_mark_deleted(r->store, kids[i].id, 0, err)) != LP_OK)
			break;
		live--;
		lp_fmt_text(msg, sizeof(msg),
		            "preview %s removed: at most %d previews are kept (spec.previews.max), "
		            "oldest first",
		            kids[i].name, pspec->previews_max);
		api_event(r, parent->id, LP_EVENT_NORMAL, "PreviewRemoved", msg);
		api_event(r, kids[i].id, LP_EVENT_NORMAL, "PreviewRemoved", msg);
	}
	lp_store_sites_free(kids, n);
	return rc;
}

/* The newest webhook revision's commit is pv's, or an earlier one built it: nothing to do. */
static int already_built(const char **out_why, struct api_req *r, const lp_store_site *child,
                         const char *commit)
{
	lp_store_revision *revs = NULL;
	size_t n = 0, i;
	int newest = 1, hit = 0;

	*out_why = NULL;
	if (lp_store_revision_list(&revs, &n, r->store, child->id, API_LIST_LIMIT, NULL) != LP_OK)
		return 0; /* not knowing means building once more */
	for (i = 0; i < n && !hit; i++) {
		if (revs[i].trigger != LP_TRIGGER_WEBHOOK || revs[i].source == NULL)
			continue;
		if (!strcmp(revs[i].source, commit)) {
			hit = 1;
			*out_why = newest ? "this commit was already requested"
			                  : "an older commit of this preview: it moved on since";
		}
		newest = 0;
	}
	lp_store_revisions_free(revs, n);
	return hit;
}

int api_preview_deploy(struct api_preview_result *out, struct api_req *r,
                       const lp_store_site *parent, const lp_site *pspec,
                       const struct api_preview *pv, lp_error *err)
{
	lp_store_site *child = NULL;
	char hash[LP_SHA256_HEX_LEN], secret[API_SECRET_LEN], *json = NULL;
	lp_store_update up = {0};
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = child_spec(&json, hash, pspec, pv, err)) != LP_OK)
		goto done;
	rc = lp_store_site_get_by_name(&child, r->store, pv->name, err);
	if (rc == LP_ENOTFOUND) {
		lp_store_site_new in = {.name = pv->name,
		                        .spec_json = json,
		                        .spec_hash = hash,
		                        .webhook_secret = secret,
		                        .trigger = LP_TRIGGER_WEBHOOK,
		                        .source = pv->commit,
		                        .parent_id = parent->id,
		                        /* the parent's owner sees and removes it, as its own */
		                        .owner_id = parent->owner_id};

		if ((rc = make_room(r, parent, pspec, err)) != LP_OK)
			goto done;
		if (api_secret_new(secret) != LP_OK) {
			rc = lp_error_set(err, LP_ERROR, "cannot create a webhook secret");
			goto done;
		}
		if ((rc = lp_store_site_create(&child, r->store, &in, err)) != LP_OK)
			goto done;
		out->created = 1;
		out->revision = 1;
		api_event(r, parent->id, LP_EVENT_NORMAL, "PreviewCreated", pv->name);
		goto done;
	}
	if (rc != LP_OK)
		goto done;
	/* A site of that name that is not this one's preview is never taken over. */
	if (strcmp(child->parent_id, parent->id) != 0) {
		rc = lp_error_set(err, LP_ECONFLICT, "site %s exists and is not a preview of %s",
		                  pv->name, parent->name);
		goto done;
	}
	if (child->deletion_timestamp) {
		rc = lp_error_set(err, LP_ECONFLICT,
		                  "preview %s is being removed; deliver again once it is gone",
		                  pv->name);
		goto done;
	}
	if (already_built(&out->ignored, r, child, pv->commit))
		goto done;
	if ((rc = lp_store_site_update_spec(&up, r->store, child->id, 0, NULL, json, hash, 0,
	                                    LP_TRIGGER_WEBHOOK, pv->commit, err)) != LP_OK ||
	    (rc = lp_store_revision_request(&out->revision, r->store, child->id, 0,
	                                    LP_TRIGGER_WEBHOOK, pv->commit, err)) != LP_OK)
		goto done;
done:
	if (rc == LP_OK && child != NULL &&
	    lp_fmt(out->site_id, sizeof(out->site_id), "%s", child->id) != LP_OK)
		out->site_id[0] = '\0';
	free(json);
	lp_store_site_free(child);
	return rc;
}

int api_preview_remove(int *out_removed, struct api_req *r, const lp_store_site *parent,
                       const char *name, lp_error *err)
{
	lp_store_site *child = NULL;
	int rc;

	*out_removed = 0;
	rc = lp_store_site_get_by_name(&child, r->store, name, err);
	if (rc == LP_ENOTFOUND)
		return LP_OK;
	if (rc != LP_OK)
		return rc;
	if (!strcmp(child->parent_id, parent->id) && !child->deletion_timestamp) {
		if ((rc = lp_store_site_mark_deleted(r->store, child->id, 0, err)) == LP_OK) {
			*out_removed = 1;
			api_event(r, parent->id, LP_EVENT_NORMAL, "PreviewRemoved", name);
		}
	}
	lp_store_site_free(child);
	return rc;
}

int api_preview_pull_ref(char *out, size_t outlen, long number)
{
	return lp_fmt(out, outlen, LP_GITSRC_PULL_PREFIX "%ld/head", number);
}

void api_h_previews(struct api_req *r)
{
	lp_store_site *site = api_site_lookup(r), *kids = NULL;
	size_t n = 0, i;
	lp_error err = {0};
	cJSON *arr;

	if (site == NULL)
		return;
	if (lp_store_site_list_children(&kids, &n, r->store, site->id, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		goto done;
	}
	arr = cJSON_CreateArray();
	for (i = 0; arr && i < n; i++)
		cJSON_AddItemToArray(arr, api_site_json(r, &kids[i]));
	api_reply_json(r, 200, arr);
done:
	lp_store_sites_free(kids, n);
	lp_store_site_free(site);
}
