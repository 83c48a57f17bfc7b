/* webhook.c: GitHub push webhooks: verify the HMAC over the raw body, dedupe, request a build. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/apiserver_internal.h"
#include "launchpad/log.h"

/* "sha256=" and 64 hex digits (either case): anything else is refused before the body. */
static int signature_wellformed(const char *h)
{
	size_t i;

	if (h == NULL || strncmp(h, "sha256=", 7) != 0)
		return 0;
	h += 7;
	for (i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)h[i]))
			return 0;
	return h[64] == '\0';
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
	if (api_slot_try(r) != LP_OK) {
		rc = LP_EUNAVAILABLE;
		api_reply_error(r, LP_EUNAVAILABLE, NULL,
		                "too many webhook deliveries in progress (%d); retry later",
		                API_WEBHOOK_BODIES);
		goto done;
	}
	rc = LP_OK;
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
	    lp_api_webhook_verify(secret, r->body.data ? r->body.data : "", r->body.len,
	                          api_header(r, "X-Hub-Signature-256")) == LP_OK)
		return LP_OK;
	api_reply_error(r, LP_EAUTH, NULL,
	                "missing or wrong X-Hub-Signature-256 (HMAC-SHA256 of the body with the "
	                "deployment's webhook secret)");
	return LP_EAUTH;
}

/* The JSON document of the delivery: the body itself, or the form's payload= field decoded. */
static cJSON *payload_json(struct api_req *r, int *unsupported)
{
	char ct[128];
	const char *body = lp_buf_cstr(&r->body);
	char *copy, *p, *payload = NULL, *save = NULL;
	size_t n;
	cJSON *j;

	*unsupported = 0;
	api_content_type(r, ct, sizeof(ct));
	if (!strcmp(ct, "application/json"))
		return cJSON_ParseWithLength(body, r->body.len);
	if (strcmp(ct, "application/x-www-form-urlencoded")) {
		*unsupported = 1;
		return NULL;
	}
	if ((copy = strdup(body)) == NULL)
		return NULL;
	for (p = strtok_r(copy, "&", &save); p; p = strtok_r(NULL, "&", &save))
		if (!strncmp(p, "payload=", 8))
			payload = p + 8;
	j = NULL;
	if (payload) {
		n = lp_api_urldecode(payload, strlen(payload));
		j = cJSON_ParseWithLength(payload, n);
	}
	free(copy);
	return j;
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

/* 1 when the newest revision a webhook requested was built from this same commit. */
static int same_push(struct api_req *r, const lp_store_site *site, const char *after)
{
	lp_store_revision *revs = NULL;
	size_t n = 0, i;
	int same = 0;

	if (lp_store_revision_list(&revs, &n, r->store, site->id, API_LIST_LIMIT, NULL) != LP_OK)
		return 0;
	for (i = 0; i < n; i++) {
		if (revs[i].trigger != LP_TRIGGER_WEBHOOK)
			continue;
		same = revs[i].source && !strcmp(revs[i].source, after);
		break;
	}
	lp_store_revisions_free(revs, n);
	return same;
}

void api_h_webhook(struct api_req *r)
{
	lp_store_site *site = api_site_lookup(r);
	lp_site *spec = NULL;
	lp_error err = {0};
	cJSON *doc = NULL;
	const cJSON *ref, *after, *deleted;
	const char *event = api_header(r, "X-GitHub-Event");
	const char *delivery = api_header(r, "X-GitHub-Delivery");
	char want[LP_SITE_BRANCH_MAX + 16];
	const char *secret = r->hook_state;
	int unsupported = 0;
	int64_t rev = 0;

	if (site == NULL)
		return;
	/* the body was verified (api_webhook_after_body) with the secret read before it arrived */
	if (secret == NULL || site->webhook_secret == NULL ||
	    !lp_crypto_equal(secret, strlen(secret), site->webhook_secret,
	                     strlen(site->webhook_secret))) {
		api_reply_error(r, LP_EAUTH, NULL,
		                "the deployment's webhook secret changed during the delivery");
		goto done;
	}
	/* GitHub's first delivery; nothing in it is needed */
	if (event && !strcmp(event, "ping")) {
		reply_result(r, 200, "pong", NULL, 0);
		goto done;
	}
	doc = payload_json(r, &unsupported);
	if (unsupported) {
		api_reply_error(r, LP_EUNSUPPORTED, NULL,
		                "webhook content type must be application/json or "
		                "application/x-www-form-urlencoded");
		goto done;
	}
	if (doc == NULL || !cJSON_IsObject(doc)) {
		api_reply_error(r, LP_EINVAL, NULL, "malformed webhook payload (expected JSON)");
		goto done;
	}
	if (event == NULL || strcmp(event, "push")) {
		if (!seen_before(r, delivery, site, "ignored"))
			reply_result(r, 202, "ignored", "only push events trigger builds", 0);
		goto done;
	}
	if (delivery == NULL || *delivery == '\0') {
		api_reply_error(r, LP_EINVAL, NULL,
		                "X-GitHub-Delivery is required for push events");
		goto done;
	}
	if (api_site_spec(&spec, r, site, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		goto done;
	}
	ref = cJSON_GetObjectItemCaseSensitive(doc, "ref");
	after = cJSON_GetObjectItemCaseSensitive(doc, "after");
	deleted = cJSON_GetObjectItemCaseSensitive(doc, "deleted");
	if (!cJSON_IsString(ref)) {
		api_reply_error(r, LP_EINVAL, NULL, "push payload has no \"ref\"");
		goto done;
	}
	if (site->deletion_timestamp) {
		if (!seen_before(r, delivery, site, "ignored"))
			reply_result(r, 202, "ignored", "the deployment is being deleted", 0);
		goto done;
	}
	if (spec->source_kind != LP_SOURCE_GIT) {
		if (!seen_before(r, delivery, site, "ignored"))
			reply_result(r, 202, "ignored", "the deployment is not built from Git", 0);
		goto done;
	}
	snprintf(want, sizeof(want), "refs/heads/%s", spec->git_branch);
	if (strcmp(ref->valuestring, want)) {
		if (!seen_before(r, delivery, site, "ignored"))
			reply_result(r, 202, "ignored", "push to another branch", 0);
		goto done;
	}
	if (cJSON_IsTrue(deleted) || !cJSON_IsString(after) || all_zeros(after->valuestring)) {
		if (!seen_before(r, delivery, site, "ignored"))
			reply_result(r, 202, "ignored", "the branch was deleted", 0);
		goto done;
	}
	if (!spec->auto_deploy) {
		if (!seen_before(r, delivery, site, "ignored"))
			reply_result(r, 202, "ignored", "auto-deploy is off", 0);
		goto done;
	}
	if (strlen(after->valuestring) > 64) {
		api_reply_error(r, LP_EINVAL, NULL, "\"after\" is not a commit id");
		goto done;
	}
	if (same_push(r, site, after->valuestring)) {
		if (!seen_before(r, delivery, site, "duplicate"))
			reply_result(r, 200, "duplicate", "this commit was already requested", 0);
		goto done;
	}
	/*
	 * The delivery is remembered only once its revision exists: if the request fails, GitHub's
	 * redelivery must still act. Deliveries run one at a time (write lock), so none slips in.
	 */
	if (lp_store_revision_request(&rev, r->store, site->id, 0, LP_TRIGGER_WEBHOOK,
	                              after->valuestring, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		goto done;
	}
	if (lp_store_webhook_record(r->store, delivery, site->id, "triggered", &err) != LP_OK &&
	    err.code != LP_EEXISTS)
		LP_WARN("api", "webhook: %s: cannot record delivery %s: %s", site->name, delivery,
		        err.message);
	LP_INFO("api", "webhook: %s push %.12s → revision %lld", site->name, after->valuestring,
	        (long long)rev);
	reply_result(r, 200, "triggered", NULL, rev);
done:
	cJSON_Delete(doc);
	lp_site_free(spec);
	lp_store_site_free(site);
}
