/* webhook.c: GitHub push webhooks: verify the HMAC over the raw body, dedupe, request a build. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/apiserver_internal.h"
#include "launchpad/fmt.h"
#include "launchpad/log.h"

/* Hex digits of a SHA-256 (a signature; the longest Git commit id, SHA-256 objects). */
#define SHA256_HEX_DIGITS (LP_SHA256_HEX_LEN - 1)
#define SHA1_HEX_DIGITS   40  /* a Git commit id in a SHA-1 repository (all of GitHub's) */
#define API_DELIVERY_MAX  128 /* an X-GitHub-Delivery id (a GUID is 36) */
#define PREVIEW_REF_MAX   64  /* "refs/pull/<n>/head" */

/* "sha256=" and 64 hex digits (either case): anything else is refused before the body. */
static int signature_wellformed(const char *h)
{
	static const char prefix[] = "sha256=";
	size_t i;

	if (h == NULL || strncmp(h, prefix, sizeof(prefix) - 1) != 0)
		return 0;
	h += sizeof(prefix) - 1;
	for (i = 0; i < SHA256_HEX_DIGITS; i++)
		if (!isxdigit((unsigned char)h[i]))
			return 0;
	return h[SHA256_HEX_DIGITS] == '\0';
}

int api_webhook_before_body(struct api_req *r)
{
	lp_store_site *site;
	int rc = LP_EAUTH;

	if ((site = api_site_lookup(r)) == NULL)
		return LP_ENOTFOUND;
	if (!signature_wellformed(api_header(r, "X-Hub-Signature-256"))) {
		api_reply_error(r, LP_EAUTH, NULL,
		                "missing or malformed X-Hub-Signature-256 (expected sha256=<64 hex "
		                "digits>, the HMAC-SHA256 of the body with the webhook secret)");
		goto done;
	}
	/* the secret as it was before the body: api_h_webhook sees whether it changed meanwhile */
	if ((r->hook_state = strdup(site->webhook_secret ? site->webhook_secret : "")) == NULL) {
		rc = LP_ENOMEM;
		api_reply_error(r, LP_ENOMEM, NULL, "out of memory");
		goto done;
	}
	r->hook_free = free;
	/* a share per site: one site's slow senders cannot take the slots of every other site */
	if ((rc = api_slot_try(r, site->id)) == LP_ERATE) {
		r->retry_after = 1;
		api_reply_error(r, LP_ERATE, NULL,
		                "%d deliveries to deployment %s are being received already; retry "
		                "later",
		                API_WEBHOOK_SITE_BODIES, site->name);
	} else if (rc != LP_OK) {
		r->retry_after = 1;
		api_reply_error(r, LP_EUNAVAILABLE, NULL,
		                "too many webhook deliveries in progress (%d); retry later",
		                API_WEBHOOK_BODIES);
	}
done:
	/* the body may take a while to arrive: no store handle is held meanwhile */
	api_store_release(r);
	lp_store_site_free(site);
	return rc;
}

/* 25 MiB of HMAC is computed here, before (not while holding) the write lock. */
int api_webhook_after_body(struct api_req *r)
{
	const char *secret = r->hook_state;

	if (secret != NULL &&
	    api_webhook_verify(secret, r->body.data ? r->body.data : "", r->body.len,
	                       api_header(r, "X-Hub-Signature-256")) == LP_OK)
		return LP_OK;
	api_reply_error(r, LP_EAUTH, NULL,
	                "missing or wrong X-Hub-Signature-256 (HMAC-SHA256 of the body with the "
	                "deployment's webhook secret)");
	return LP_EAUTH;
}

/*
 * The JSON document of the delivery: the body itself, or the form's payload= field decoded.
 * LP_EUNSUPPORTED for another content type; LP_EINVAL (err says why) for what is not one JSON
 * document of NUL-free UTF-8.
 */
static int payload_json(cJSON **out, struct api_req *r, lp_error *err)
{
	char ct[API_MEDIA_TYPE_MAX];
	const char *body = lp_buf_cstr(&r->body);
	char *copy, *p, *payload = NULL, *save = NULL;
	int rc;

	*out = NULL;
	api_content_type(r, ct, sizeof(ct));
	if (!strcmp(ct, "application/json"))
		return api_json_parse(out, body, r->body.len, err);
	if (strcmp(ct, "application/x-www-form-urlencoded"))
		return LP_EUNSUPPORTED;
	/* a NUL byte in the body would end the copy early: the whole of it is text first */
	if ((rc = api_text_check(body, r->body.len, "the webhook body", err)) != LP_OK)
		return rc;
	if ((copy = strdup(body)) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	for (p = strtok_r(copy, "&", &save); p; p = strtok_r(NULL, "&", &save))
		if (!strncmp(p, "payload=", 8))
			payload = p + 8;
	if (payload)
		rc = api_json_parse(out, payload, api_urldecode(payload, strlen(payload)), err);
	else
		rc = lp_error_set(err, LP_EINVAL, "the form has no payload= field");
	free(copy);
	return rc;
}

static void reply_result(struct api_req *r, int status, const char *result, const char *reason,
                         int64_t revision)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "result", result);
	if (reason)
		cJSON_AddStringToObject(o, "reason", reason);
	if (revision)
		cJSON_AddNumberToObject(o, "revision", (double)revision);
	api_reply_json(r, status, o);
}

static int all_zeros(const char *s)
{
	if (s == NULL || *s == '\0')
		return 1;
	for (; *s; s++)
		if (*s != '0')
			return 0;
	return 1;
}

/* A delivery id is stored: GitHub's are GUIDs, so anything but short visible ASCII is refused. */
static int delivery_id_ok(const char *id)
{
	size_t i;

	for (i = 0; id[i]; i++)
		if (i >= API_DELIVERY_MAX || id[i] <= ' ' || id[i] > '~')
			return 0;
	return i > 0;
}

/* Remember the delivery; 1 when it was already seen (answered, nothing to do). */
static int seen_before(struct api_req *r, const char *delivery, const lp_store_site *site,
                       const char *outcome)
{
	lp_error err = {0};
	int rc;

	if (delivery == NULL)
		return 0;
	rc = lp_store_webhook_record(r->store, delivery, site->id, outcome, &err);
	if (rc == LP_EEXISTS) {
		reply_result(r, 200, "duplicate", "this delivery was already processed", 0);
		return 1;
	}
	if (rc != LP_OK) {
		api_reply_lperr(r, &err);
		return 1;
	}
	return 0;
}

/* Acknowledge a delivery that builds nothing (202), or its repeat (200 duplicate). */
static void reply_ignored(struct api_req *r, const char *delivery, const lp_store_site *site,
                          const char *reason)
{
	if (!seen_before(r, delivery, site, "ignored"))
		reply_result(r, 202, "ignored", reason, 0);
}

/* 1 (and 401 replied) when the secret that verified the body is no longer the site's. */
static int secret_changed(struct api_req *r, const lp_store_site *site)
{
	const char *secret = r->hook_state; /* read by api_webhook_before_body */

	if (secret != NULL && site->webhook_secret != NULL &&
	    lp_crypto_equal(secret, strlen(secret), site->webhook_secret,
	                    strlen(site->webhook_secret)))
		return 0;
	api_reply_error(r, LP_EAUTH, NULL,
	                "the deployment's webhook secret changed during the delivery");
	return 1;
}

/* The delivery's JSON object, or NULL after replying 415 (content type) or 400 (not JSON). */
static cJSON *read_payload(struct api_req *r)
{
	lp_error err = {0};
	cJSON *doc = NULL;
	int rc = payload_json(&doc, r, &err);

	if (rc == LP_EUNSUPPORTED) {
		api_reply_error(r, LP_EUNSUPPORTED, NULL,
		                "webhook content type must be application/json or "
		                "application/x-www-form-urlencoded");
		return NULL;
	}
	if (rc != LP_OK || !cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		api_reply_error(r, rc == LP_OK ? LP_EINVAL : rc, NULL,
		                "malformed webhook payload (expected a JSON object)%s%s",
		                err.message[0] ? ": " : "", err.message);
		return NULL;
	}
	return doc;
}

/* What a push event says, beside the site it is for and that site's spec. */
struct push {
	const lp_store_site *site;
	lp_site *spec;      /* the site's parsed spec, freed by push_release */
	const char *ref;    /* "refs/heads/main" */
	const char *after;  /* the pushed commit; NULL when the payload has none */
	const char *before; /* the branch's commit before the push; NULL when absent or malformed */
	int deleted;
};

/* 40 (SHA-1) or 64 (SHA-256) lowercase hex digits: what Git names a commit by. */
static int is_commit_id(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == SHA1_HEX_DIGITS || i == SHA256_HEX_DIGITS;
}

/*
 * Read the push from doc; replies 400 (no delivery id, no ref, no or a malformed after) or the
 * stored spec's error.
 */
static int push_read(struct push *p, struct api_req *r, const lp_store_site *site,
                     const char *delivery, const cJSON *doc)
{
	const cJSON *ref = cJSON_GetObjectItemCaseSensitive(doc, "ref");
	const cJSON *after = cJSON_GetObjectItemCaseSensitive(doc, "after");
	const cJSON *before = cJSON_GetObjectItemCaseSensitive(doc, "before");
	lp_error err = {0};
	int rc;

	memset(p, 0, sizeof(*p));
	p->site = site;
	if (delivery == NULL || *delivery == '\0') {
		api_reply_error(r, LP_EINVAL, NULL,
		                "X-GitHub-Delivery is required for push events");
		return LP_EINVAL;
	}
	if (cJSON_IsString(before) && is_commit_id(before->valuestring))
		p->before = before->valuestring;
	if ((rc = api_site_spec(&p->spec, r, site, &err)) != LP_OK) {
		api_reply_lperr(r, &err);
		return rc;
	}
	if (!cJSON_IsString(ref)) {
		api_reply_error(r, LP_EINVAL, NULL, "push payload has no \"ref\"");
		return LP_EINVAL;
	}
	p->ref = ref->valuestring;
	p->after = cJSON_IsString(after) ? after->valuestring : NULL;
	p->deleted = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "deleted"));
	/* A deleted branch says so (deleted, or an all-zero after); a push always names its commit.
	 */
	if (p->after == NULL && !p->deleted) {
		api_reply_error(
		    r, LP_EINVAL, NULL,
		    "push payload has no \"after\" (the commit to build); a deleted branch "
		    "sends \"deleted\": true");
		return LP_EINVAL;
	}
	if (p->after != NULL && !is_commit_id(p->after)) {
		api_reply_error(
		    r, LP_EINVAL, NULL,
		    "\"after\" is not a commit id (40 or 64 lowercase hex digits): \"%.80s\"",
		    p->after);
		return LP_EINVAL;
	}
	return LP_OK;
}

static void push_release(struct push *p)
{
	lp_site_free(p->spec);
	p->spec = NULL;
}

static int site_deleting(const struct push *p)
{
	return p->site->deletion_timestamp != 0;
}

static int not_from_git(const struct push *p)
{
	return p->spec->source_kind != LP_SOURCE_GIT;
}

static int other_branch(const struct push *p)
{
	static const char heads[] = "refs/heads/";

	return strncmp(p->ref, heads, sizeof(heads) - 1) != 0 ||
	       strcmp(p->ref + sizeof(heads) - 1, p->spec->git_branch) != 0;
}

static int branch_deleted(const struct push *p)
{
	return p->deleted || all_zeros(p->after);
}

static int auto_deploy_off(const struct push *p)
{
	return !p->spec->auto_deploy;
}

/* Why a push builds nothing, checked in this order (other_branch needs a Git source). */
static const struct {
	int (*applies)(const struct push *p);
	const char *reason;
} push_ignored[] = {
    {site_deleting, "the deployment is being deleted"},
    {not_from_git, "the deployment is not built from Git"},
    {other_branch, "push to another branch"},
    {branch_deleted, "the branch was deleted"},
    {auto_deploy_off, "auto-deploy is off"},
};

/* The first reason p builds nothing, or NULL when it builds. */
static const char *push_ignored_reason(const struct push *p)
{
	size_t i;

	for (i = 0; i < sizeof(push_ignored) / sizeof(push_ignored[0]); i++)
		if (push_ignored[i].applies(p))
			return push_ignored[i].reason;
	return NULL;
}

enum replay {
	PUSH_NEW = 0,
	PUSH_REPEAT, /* the newest webhook revision built this commit: a replay */
	PUSH_OLDER   /* an earlier one did, and the branch has moved on since */
};

/*
 * Was p acted on before? A repeat: the newest webhook revision built its `after` (GitHub's
 * redelivery, or a replay under a new delivery id). Older: an earlier webhook revision built it
 * and the push does not start at the newest one's commit (its `before` differs), so it is a
 * redelivery of a push that came before the newest: building it would put old content live
 * again. A push from the newest commit back to an earlier one (a force-push to roll back) starts
 * at the newest commit: it is new. *out_rev is the revision that built `after`.
 */
static enum replay push_replay(int64_t *out_rev, struct api_req *r, const struct push *p)
{
	lp_store_revision *revs = NULL;
	const char *newest = NULL;
	enum replay verdict = PUSH_NEW;
	lp_error err = {0};
	size_t n = 0, i;

	*out_rev = 0;
	/* not knowing means building once more, never missing a push */
	if (lp_store_revision_list(&revs, &n, r->store, p->site->id, API_LIST_LIMIT, &err) !=
	    LP_OK) {
		LP_WARN("api", "webhook: %s: revisions unknown (%s): building", p->site->name,
		        err.message);
		return PUSH_NEW;
	}
	for (i = 0; i < n; i++) { /* newest first */
		if (revs[i].trigger != LP_TRIGGER_WEBHOOK || revs[i].source == NULL)
			continue;
		if (strcmp(revs[i].source, p->after) == 0) {
			*out_rev = revs[i].number;
			if (newest == NULL)
				verdict = PUSH_REPEAT;
			else if (p->before == NULL || strcmp(p->before, newest) != 0)
				verdict = PUSH_OLDER;
			break;
		}
		if (newest == NULL)
			newest = revs[i].source;
	}
	lp_store_revisions_free(revs, n);
	return verdict;
}

/*
 * Request the revision of the pushed commit. The delivery is remembered only once its revision
 * exists: if the request fails, GitHub's redelivery must still act. Deliveries run one at a time
 * (write lock), so none slips in between.
 */
static void trigger_build(struct api_req *r, const struct push *p, const char *delivery)
{
	lp_error err = {0};
	int64_t rev = 0;

	if (lp_store_revision_request(&rev, r->store, p->site->id, 0, LP_TRIGGER_WEBHOOK, p->after,
	                              &err) != LP_OK) {
		api_reply_lperr(r, &err);
		return;
	}
	r->revision_requested = 1;
	if (lp_store_webhook_record(r->store, delivery, p->site->id, "triggered", &err) != LP_OK &&
	    err.code != LP_EEXISTS)
		LP_WARN("api", "webhook: %s: cannot record delivery %s: %s", p->site->name,
		        delivery, err.message);
	LP_INFO("api", "webhook: %s push %.12s → revision %lld", p->site->name, p->after,
	        (long long)rev);
	reply_result(r, 200, "triggered", NULL, rev);
}

/* Remember a delivery that acted (its redelivery is then a duplicate); a failure is logged. */
static void record_delivery(struct api_req *r, const char *delivery, const lp_store_site *site,
                            const char *outcome)
{
	lp_error err = {0};

	if (lp_store_webhook_record(r->store, delivery, site->id, outcome, &err) != LP_OK &&
	    err.code != LP_EEXISTS)
		LP_WARN("api", "webhook: %s: cannot record delivery %s: %s", site->name, delivery,
		        err.message);
}

static void reply_preview(struct api_req *r, int status, const char *result, const char *name,
                          int64_t revision, const char *reason)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "result", result);
	cJSON_AddStringToObject(o, "preview", name);
	if (reason)
		cJSON_AddStringToObject(o, "reason", reason);
	if (revision)
		cJSON_AddNumberToObject(o, "revision", (double)revision);
	api_reply_json(r, status, o);
}

/* Build (or rebuild) the preview pv of site, or say why not; the delivery is then recorded. */
static void deploy_preview(struct api_req *r, const lp_store_site *site, const lp_site *spec,
                           const struct api_preview *pv, const char *delivery)
{
	struct api_preview_result res;
	lp_error err = {0};

	if (api_preview_deploy(&res, r, site, spec, pv, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		return;
	}
	if (res.ignored) {
		reply_preview(r, strstr(res.ignored, "older") ? 202 : 200,
		              strstr(res.ignored, "older") ? "ignored" : "duplicate", pv->name, 0,
		              res.ignored);
		return;
	}
	r->revision_requested = 1;
	record_delivery(r, delivery, site, "triggered");
	LP_INFO("api", "webhook: %s %.12s → preview %s revision %lld", site->name, pv->commit,
	        pv->name, (long long)res.revision);
	reply_preview(r, res.created ? 201 : 200, "triggered", pv->name, res.revision, NULL);
}

static void remove_preview(struct api_req *r, const lp_store_site *site, const char *name,
                           const char *delivery)
{
	lp_error err = {0};
	int removed = 0;

	if (api_preview_remove(&removed, r, site, name, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		return;
	}
	record_delivery(r, delivery, site, removed ? "removed" : "ignored");
	if (removed)
		reply_preview(r, 202, "removed", name, 0, NULL);
	else
		reply_preview(r, 202, "ignored", name, 0, "no such preview");
}

/* A push to a branch of spec.previews.branches (not the site's own): its branch deploy. */
static int is_branch_preview(const struct push *p)
{
	static const char heads[] = "refs/heads/";

	return !site_deleting(p) && !not_from_git(p) && p->spec->has_previews &&
	       !strncmp(p->ref, heads, sizeof(heads) - 1) && other_branch(p) &&
	       lp_site_preview_branch(p->spec, p->ref + sizeof(heads) - 1);
}

static void branch_preview(struct api_req *r, const struct push *p, const char *delivery)
{
	const char *branch = p->ref + sizeof("refs/heads/") - 1;
	char name[LP_SITE_NAME_MAX + 1];
	struct api_preview pv = {.name = name, .ref = branch, .commit = p->after};
	lp_error err = {0};

	if (api_preview_branch_name(name, sizeof(name), p->site->name, branch, &err) != LP_OK) {
		reply_ignored(r, delivery, p->site, err.message);
		return;
	}
	if (branch_deleted(p))
		remove_preview(r, p->site, name, delivery);
	else
		deploy_preview(r, p->site, p->spec, &pv, delivery);
}

static const char *str_at(const cJSON *o, const char *a, const char *b, const char *c)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	if (c)
		v = cJSON_GetObjectItemCaseSensitive(v, c);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Why a pull_request delivery builds nothing before its payload is read, or NULL. */
static const char *pull_request_off(const lp_store_site *site, const lp_site *spec)
{
	if (site->deletion_timestamp)
		return "the deployment is being deleted";
	if (spec->source_kind != LP_SOURCE_GIT)
		return "the deployment is not built from Git";
	if (site->parent_id && *site->parent_id)
		return "the deployment is a preview";
	if (!spec->has_previews || !spec->previews_pull_requests)
		return "pull-request previews are off (spec.previews.pullRequests)";
	return NULL;
}

/*
 * GitHub's pull_request event: opened, reopened and synchronize build the head commit from
 * refs/pull/<n>/head as <site>--pr-<n>; closed removes it; other actions build nothing. A head
 * from another repository (a fork) builds without the site's build.env unless
 * spec.previews.forkEnv.
 */
static void pull_request(struct api_req *r, const lp_store_site *site, const char *delivery,
                         const cJSON *doc)
{
	const cJSON *num = cJSON_GetObjectItemCaseSensitive(doc, "number");
	const cJSON *pr = cJSON_GetObjectItemCaseSensitive(doc, "pull_request");
	const char *action = str_at(doc, "action", NULL, NULL), *why, *head, *base, *sha;
	char name[LP_SITE_NAME_MAX + 1], ref[PREVIEW_REF_MAX];
	struct api_preview pv = {.name = name, .ref = ref};
	lp_site *spec = NULL;
	lp_error err = {0};
	int seen = 0;
	long n;

	if (delivery == NULL || *delivery == '\0') {
		api_reply_error(r, LP_EINVAL, NULL,
		                "X-GitHub-Delivery is required for pull_request events");
		return;
	}
	if (lp_store_webhook_seen(&seen, r->store, delivery, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		return;
	}
	if (seen) {
		reply_result(r, 200, "duplicate", "this delivery was already processed", 0);
		return;
	}
	if (api_site_spec(&spec, r, site, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		return;
	}
	if ((why = pull_request_off(site, spec)) != NULL) {
		reply_ignored(r, delivery, site, why);
		goto done;
	}
	if (action == NULL || !cJSON_IsNumber(num) || num->valuedouble < 1 ||
	    num->valuedouble > 1e9 || num->valuedouble != (double)(long)num->valuedouble ||
	    !cJSON_IsObject(pr)) {
		api_reply_error(r, LP_EINVAL, NULL,
		                "pull_request payload needs \"action\", a positive \"number\" and "
		                "\"pull_request\"");
		goto done;
	}
	n = (long)num->valuedouble;
	if (api_preview_pr_name(name, sizeof(name), site->name, n, &err) != LP_OK ||
	    api_preview_pull_ref(ref, sizeof(ref), n) != LP_OK) {
		reply_ignored(r, delivery, site, err.message[0] ? err.message : "name too long");
		goto done;
	}
	if (!strcmp(action, "closed")) {
		remove_preview(r, site, name, delivery);
		goto done;
	}
	if (strcmp(action, "opened") && strcmp(action, "reopened") &&
	    strcmp(action, "synchronize")) {
		reply_ignored(r, delivery, site, "this pull_request action builds nothing");
		goto done;
	}
	sha = str_at(pr, "head", "sha", NULL);
	if (sha == NULL || !is_commit_id(sha)) {
		api_reply_error(r, LP_EINVAL, NULL,
		                "pull_request.head.sha is not a commit id (40 or 64 lowercase hex "
		                "digits)");
		goto done;
	}
	/* Unknown or deleted head repository: treated as a fork, the safe side. */
	head = str_at(pr, "head", "repo", "full_name");
	base = str_at(pr, "base", "repo", "full_name");
	pv.commit = sha;
	pv.without_env =
	    !spec->previews_fork_env && (head == NULL || base == NULL || strcmp(head, base) != 0);
	deploy_preview(r, site, spec, &pv, delivery);
done:
	lp_site_free(spec);
}

void api_h_webhook(struct api_req *r)
{
	lp_store_site *site = api_site_lookup(r);
	const char *event = api_header(r, "X-GitHub-Event");
	const char *delivery = api_header(r, "X-GitHub-Delivery");
	struct push p = {0};
	cJSON *doc = NULL;
	const char *why;
	char why_older[API_MESSAGE_MAX];
	int64_t built = 0;

	if (site == NULL || secret_changed(r, site))
		goto done;
	if (delivery && !delivery_id_ok(delivery)) {
		api_reply_error(r, LP_EINVAL, NULL,
		                "X-GitHub-Delivery must be 1 to %d visible ASCII characters",
		                API_DELIVERY_MAX);
		goto done;
	}
	/* GitHub's first delivery; nothing in it is needed */
	if (event && !strcmp(event, "ping")) {
		reply_result(r, 200, "pong", NULL, 0);
		goto done;
	}
	if ((doc = read_payload(r)) == NULL)
		goto done;
	if (event && !strcmp(event, "pull_request")) {
		pull_request(r, site, delivery, doc);
		goto done;
	}
	if (event == NULL || strcmp(event, "push")) {
		reply_ignored(r, delivery, site,
		              "only push and pull_request events trigger builds");
		goto done;
	}
	if (push_read(&p, r, site, delivery, doc) != LP_OK)
		goto done;
	if (is_branch_preview(&p)) {
		branch_preview(r, &p, delivery);
		goto done;
	}
	if ((why = push_ignored_reason(&p)) != NULL) {
		reply_ignored(r, delivery, site, why);
		goto done;
	}
	switch (push_replay(&built, r, &p)) {
	case PUSH_REPEAT:
		if (!seen_before(r, delivery, site, "duplicate"))
			reply_result(r, 200, "duplicate", "this commit was already requested",
			             built);
		break;
	case PUSH_OLDER:
		lp_fmt_text(why_older, sizeof(why_older),
		            "an older push: %.12s was built for revision %lld and the branch has "
		            "moved on since",
		            p.after, (long long)built);
		reply_ignored(r, delivery, site, why_older);
		break;
	default:
		trigger_build(r, &p, delivery);
	}
done:
	push_release(&p);
	cJSON_Delete(doc);
	lp_store_site_free(site);
}

void api_h_webhook_info(struct api_req *r)
{
	lp_store_site *site = api_site_lookup(r);
	char url[API_URL_MAX];
	cJSON *o;

	if (site == NULL)
		return;
	if ((o = cJSON_CreateObject()) == NULL) {
		api_reply_error(r, LP_ENOMEM, NULL, "out of memory");
	} else {
		if (api_webhook_url(url, sizeof(url), r->srv->cfg, site) == LP_OK)
			cJSON_AddStringToObject(o, "webhook_url", url);
		else
			cJSON_AddNullToObject(o, "webhook_url");
		if (site->webhook_secret)
			cJSON_AddStringToObject(o, "webhook_secret", site->webhook_secret);
		else
			cJSON_AddNullToObject(o, "webhook_secret");
		api_reply_json(r, MHD_HTTP_OK, o);
	}
	lp_store_site_free(site);
}
