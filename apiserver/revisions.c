/* revisions.c: a site's revision history, rollback to a ready revision, cancel, and its events. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/apiserver_internal.h"
#include "launchpad/fmt.h"

static cJSON *revision_json(const lp_config *cfg, const char *site, const lp_store_revision *v,
                            int64_t desired, int64_t current)
{
	cJSON *o = cJSON_CreateObject();
	char url[API_URL_MAX];

	cJSON_AddNumberToObject(o, "revision", (double)v->number);
	cJSON_AddStringToObject(o, "state", lp_store_rev_state_name(v->state));
	cJSON_AddStringToObject(o, "trigger", lp_store_trigger_name(v->trigger));
	cJSON_AddStringToObject(o, "source", v->source ? v->source : "");
	cJSON_AddStringToObject(o, "resolved_source", v->resolved_source ? v->resolved_source : "");
	cJSON_AddStringToObject(o, "spec_hash", v->spec_hash ? v->spec_hash : "");
	cJSON_AddStringToObject(o, "message", v->message ? v->message : "");
	cJSON_AddItemToObject(o, "created_at", api_time_json(v->created_at));
	cJSON_AddItemToObject(o, "started_at", api_time_json(v->started_at));
	cJSON_AddItemToObject(o, "finished_at", api_time_json(v->finished_at));
	if (v->started_at > 0 && v->finished_at >= v->started_at)
		cJSON_AddNumberToObject(o, "duration_seconds",
		                        (double)(v->finished_at - v->started_at) / 1000.0);
	cJSON_AddBoolToObject(o, "desired", v->number == desired);
	cJSON_AddBoolToObject(o, "current", v->number == current);
	cJSON_AddBoolToObject(o, "draft", v->draft);
	/* A ready revision answers at its permalink while it is on disk (pruned: 404). */
	if (v->state == LP_REV_READY &&
	    lp_config_revision_url(url, sizeof(url), cfg, site, (long)v->number, NULL) == LP_OK)
		cJSON_AddStringToObject(o, "permalink", url);
	else
		cJSON_AddNullToObject(o, "permalink");
	return o;
}

static int64_t current_revision(struct api_req *r, const lp_store_site *site)
{
	lp_store_status *stt = NULL;
	int64_t cur = 0;

	if (lp_store_status_get(&stt, r->store, site->id, NULL) == LP_OK)
		cur = stt->current_revision;
	lp_store_status_free(stt);
	return cur;
}

void api_h_revisions(struct api_req *r)
{
	lp_store_site *site = api_site_lookup(r);
	lp_store_revision *revs = NULL;
	size_t n = 0, i;
	lp_error err = {0};
	int64_t cur;
	cJSON *arr;

	if (site == NULL)
		return;
	if (lp_store_revision_list(&revs, &n, r->store, site->id, API_LIST_LIMIT, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		goto done;
	}
	cur = current_revision(r, site);
	arr = cJSON_CreateArray();
	for (i = 0; arr && i < n; i++)
		cJSON_AddItemToArray(arr, revision_json(r->srv->cfg, site->name, &revs[i],
		                                        site->desired_revision, cur));
	api_reply_json(r, 200, arr);
done:
	lp_store_revisions_free(revs, n);
	lp_store_site_free(site);
}

/* The newest ready revision older than the one being served (or desired). */
static int64_t previous_ready(const lp_store_revision *revs, size_t n, int64_t below)
{
	size_t i;

	for (i = 0; i < n; i++) /* newest first */
		if (revs[i].number < below && revs[i].state == LP_REV_READY)
			return revs[i].number;
	return 0;
}

/* The body's {"revision": N}: N, or 0 when there is no body or no N; replies 400 when bad. */
static int requested_revision(int64_t *out, struct api_req *r)
{
	cJSON *body = NULL;
	lp_error err = {0};
	const cJSON *v;
	int rc = LP_OK;

	*out = 0;
	if (r->body.len == 0)
		return LP_OK;
	if (api_json_parse(&body, lp_buf_cstr(&r->body), r->body.len, &err) != LP_OK ||
	    !cJSON_IsObject(body)) {
		api_reply_error(r, LP_EINVAL, NULL,
		                "malformed JSON body (expected {\"revision\": N})%s%s",
		                err.message[0] ? ": " : "", err.message);
		rc = LP_EINVAL;
		goto done;
	}
	v = cJSON_GetObjectItemCaseSensitive(body, "revision");
	if (v && !cJSON_IsNull(v)) {
		if (!cJSON_IsNumber(v) || v->valuedouble < 1 ||
		    v->valuedouble != (double)(int64_t)v->valuedouble) {
			api_reply_error(r, LP_EINVAL, NULL, "revision must be a positive integer");
			rc = LP_EINVAL;
			goto done;
		}
		*out = (int64_t)v->valuedouble;
	}
done:
	cJSON_Delete(body);
	return rc;
}

/* The revision a rollback without N goes to: the one ready before the served (or desired). */
static int default_target(int64_t *out, struct api_req *r, const lp_store_site *site)
{
	lp_store_revision *revs = NULL;
	size_t n = 0;
	lp_error err = {0};
	int64_t cur;
	int rc;

	*out = 0;
	if ((rc = lp_store_revision_list(&revs, &n, r->store, site->id, API_LIST_LIMIT, &err)) !=
	    LP_OK) {
		api_reply_lperr(r, &err);
		return rc;
	}
	cur = current_revision(r, site);
	*out = previous_ready(revs, n, cur ? cur : site->desired_revision);
	lp_store_revisions_free(revs, n);
	if (*out)
		return LP_OK;
	api_reply_error(r, LP_ECONFLICT, NULL,
	                "deployment %s has no earlier ready revision to roll back to", site->name);
	return LP_ECONFLICT;
}

void api_h_rollback(struct api_req *r)
{
	lp_store_site *site = api_site_lookup(r);
	lp_store_revision *target = NULL;
	lp_error err = {0};
	int64_t rv, number = 0;

	if (site == NULL)
		return;
	if (api_if_match(&rv, r) != LP_OK || api_site_deleting(r, site) ||
	    requested_revision(&number, r) != LP_OK)
		goto done;
	if (number == 0 && default_target(&number, r, site) != LP_OK)
		goto done;
	if ((target = api_revision_lookup(r, site, number)) == NULL)
		goto done;
	if (target->state != LP_REV_READY) {
		api_reply_error(r, LP_ECONFLICT, NULL,
		                "revision %lld is %s; only a ready revision can be rolled back to",
		                (long long)number, lp_store_rev_state_name(target->state));
		goto done;
	}
	if (lp_store_site_set_desired_revision(r->store, site->id, rv, number, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		goto done;
	}
	api_event(r, site->id, LP_EVENT_NORMAL, "RollingBack", "desired revision set by rollback");
	api_reply_site(r, 202, site->id, "rolling back", number);
done:
	lp_store_revision_free(target);
	lp_store_site_free(site);
}

/*
 * Cancel the desired revision (or {"revision": N}) while it is pending or building: the store
 * marks it cancelled and points the site back at what is served; the controller then stops the
 * build. 409 when there is nothing to cancel.
 */
void api_h_cancel(struct api_req *r)
{
	lp_store_site *site = api_site_lookup(r);
	lp_error err = {0};
	int64_t rv, number = 0, desired = 0;
	char msg[API_MESSAGE_MAX];

	if (site == NULL)
		return;
	if (api_if_match(&rv, r) != LP_OK || api_site_deleting(r, site) ||
	    requested_revision(&number, r) != LP_OK)
		goto done;
	if (number == 0)
		number = site->desired_revision;
	if (number <= 0) {
		api_reply_error(r, LP_ECONFLICT, NULL, "deployment %s has no revision to cancel",
		                site->name);
		goto done;
	}
	if (lp_fmt(msg, sizeof(msg), "cancelled by %s (token %lld)", r->who.user,
	           (long long)r->who.token_id) != LP_OK)
		msg[0] = '\0';
	if (lp_store_revision_cancel(&desired, r->store, site->id, rv, number, msg, &err) !=
	    LP_OK) {
		api_reply_lperr(r, &err);
		goto done;
	}
	if (lp_fmt(msg, sizeof(msg), "revision %lld cancelled%s", (long long)number,
	           desired != number ? "; the served revision stays" : "") != LP_OK)
		msg[0] = '\0';
	api_event(r, site->id, LP_EVENT_NORMAL, "Cancelled", msg);
	api_reply_site(r, 202, site->id, "cancelled", number);
done:
	lp_store_site_free(site);
}

void api_h_events(struct api_req *r)
{
	lp_store_site *site = api_site_lookup(r);
	lp_store_event *ev = NULL;
	size_t n = 0, i;
	lp_error err = {0};
	cJSON *arr;

	if (site == NULL)
		return;
	if (lp_store_event_list(&ev, &n, r->store, site->id, 0, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		goto done;
	}
	arr = cJSON_CreateArray();
	for (i = 0; arr && i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "id", (double)ev[i].id);
		cJSON_AddItemToObject(o, "time", api_time_json(ev[i].time));
		cJSON_AddStringToObject(o, "type", lp_store_event_type_name(ev[i].type));
		cJSON_AddStringToObject(o, "reason", ev[i].reason ? ev[i].reason : "");
		cJSON_AddStringToObject(o, "message", ev[i].message ? ev[i].message : "");
		cJSON_AddItemToArray(arr, o);
	}
	api_reply_json(r, 200, arr);
done:
	lp_store_events_free(ev, n);
	lp_store_site_free(site);
}
