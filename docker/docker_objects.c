/* docker_objects.c: networks (inspect, ensure, connect, remove) and images (inspect, pull). */
#include "docker/docker_internal.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "launchpad/fmt.h"

/* "/images/<ref>/json" */
#define IMAGE_PATH_MAX (DK_IMAGE_REF_MAX + 32)
/* "/images/create?fromImage=<repo>&tag=<tag>": URL escaping makes a byte at most 3. */
#define PULL_PATH_MAX (3 * DK_IMAGE_REF_MAX + 64)

/* ---- networks ---- */

/*
 * A bridge network's Linux interface: the com.docker.network.bridge.name option when it was given
 * one (docker0, a compose driver_opts), else what the engine names it, br-<first 12 of the id>.
 */
static int bridge_of(lp_docker_network *out, const cJSON *j, const char *name, lp_error *err)
{
	const cJSON *opts = cJSON_GetObjectItemCaseSensitive(j, "Options");
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(opts, "com.docker.network.bridge.name");

	if (strcmp(out->driver, "bridge") != 0)
		return LP_OK;
	if (cJSON_IsString(b) && b->valuestring[0] != '\0') {
		if (lp_fmt(out->bridge, sizeof(out->bridge), "%s", b->valuestring) != LP_OK)
			return lp_error_set(err, LP_EREMOTE,
			                    "network inspect %s: bridge name %s is too long", name,
			                    b->valuestring);
		return LP_OK;
	}
	/* An id too short to name one (never the engine's) leaves the bridge unknown: "". */
	if (strlen(out->id) >= LP_DOCKER_BRIDGE_ID_CHARS &&
	    lp_fmt(out->bridge, sizeof(out->bridge), "br-%.*s", LP_DOCKER_BRIDGE_ID_CHARS,
	           out->id) != LP_OK)
		return lp_error_set(err, LP_EREMOTE, "network inspect %s: no bridge name", name);
	return LP_OK;
}

int lp_docker_network_inspect(lp_docker_network *out, lp_docker *d, const char *name, lp_error *err)
{
	dk_req r = {.method = "GET", .timeout_ms = d->timeout_ms};
	char path[DK_PATH_MAX];
	const cJSON *v;
	cJSON *j = NULL;
	dk_resp resp;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = dk_check_name(name, "network name", err);
	if (rc == LP_OK)
		rc = dk_pathf(path, sizeof(path), err, "/networks/%s", name);
	if (rc != LP_OK)
		return rc;
	dk_resp_init(&resp);
	r.path = path;
	rc = dk_call(d, &r, &resp, err);
	if (rc != LP_OK)
		goto done;
	if (resp.status != 200) {
		rc = dk_status_error(&resp, err, "network inspect");
		goto done;
	}
	j = cJSON_ParseWithLength(lp_buf_cstr(&resp.body), resp.body.len);
	v = cJSON_GetObjectItemCaseSensitive(j, "Name");
	/* The engine also matches an id prefix: only an exact name counts. */
	if (!cJSON_IsString(v) || strcmp(v->valuestring, name) != 0) {
		rc = lp_error_set(err, LP_ENOTFOUND, "network inspect: no network named %s", name);
		goto done;
	}
	/* The name equals the one asked for, which dk_check_name kept within out->name. */
	if (dk_json_copy(out->name, sizeof(out->name), j, "Name") != LP_OK ||
	    dk_json_copy(out->id, sizeof(out->id), j, "Id") != LP_OK ||
	    dk_json_copy(out->driver, sizeof(out->driver), j, "Driver") != LP_OK) {
		memset(out, 0, sizeof(*out));
		rc = lp_error_set(err, LP_EREMOTE, "network inspect %s: a field is too long", name);
		goto done;
	}
	out->internal = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "Internal"));
	if ((rc = bridge_of(out, j, name, err)) != LP_OK)
		memset(out, 0, sizeof(*out));
done:
	cJSON_Delete(j);
	dk_resp_release(&resp);
	return rc;
}

static int network_create(lp_docker *d, const char *name, int flags, const lp_docker_kv *labels,
                          size_t nlabels, lp_error *err)
{
	dk_req r = {.method = "POST",
	            .path = "/networks/create",
	            .is_write = 1,
	            .timeout_ms = d->timeout_ms};
	cJSON *root = cJSON_CreateObject(), *lab, *opts;
	char *body = NULL;
	dk_resp resp;
	size_t i;
	int rc = LP_OK;

	dk_resp_init(&resp);
	if (root == NULL || !cJSON_AddStringToObject(root, "Name", name) ||
	    !cJSON_AddStringToObject(root, "Driver", "bridge") ||
	    !cJSON_AddBoolToObject(root, "Internal", (flags & LP_DOCKER_NET_INTERNAL) != 0) ||
	    !cJSON_AddTrueToObject(root, "CheckDuplicate") ||
	    !(lab = cJSON_AddObjectToObject(root, "Labels")))
		rc = LP_ENOMEM;
	for (i = 0; rc == LP_OK && i < nlabels; i++)
		if (!labels[i].key || !labels[i].value ||
		    !cJSON_AddStringToObject(lab, labels[i].key, labels[i].value))
			rc = LP_EINVAL;
	/* The bridge driver's option: containers of the network cannot reach one another. */
	if (rc == LP_OK && (flags & LP_DOCKER_NET_NO_ICC) &&
	    (!(opts = cJSON_AddObjectToObject(root, "Options")) ||
	     !cJSON_AddStringToObject(opts, "com.docker.network.bridge.enable_icc", "false")))
		rc = LP_ENOMEM;
	if (rc == LP_OK && (body = cJSON_PrintUnformatted(root)) == NULL)
		rc = LP_ENOMEM;
	if (rc != LP_OK) {
		lp_error_set(err, rc, "network create %s: bad labels or out of memory", name);
		goto done;
	}
	r.body = body;
	rc = dk_call(d, &r, &resp, err);
	if (rc == LP_OK && resp.status == 409) {
		char msg[DK_MSG_MAX];

		dk_error_message(msg, sizeof(msg), &resp);
		rc = lp_error_set(err, LP_EEXISTS, "network create %s: %s", name, msg);
	} else if (rc == LP_OK && resp.status != 201) {
		rc = dk_status_error(&resp, err, "network create");
	}
done:
	free(body);
	cJSON_Delete(root);
	dk_resp_release(&resp);
	return rc;
}

int lp_docker_network_ensure(int *out, lp_docker *d, const char *name, int flags,
                             const lp_docker_kv *labels, size_t nlabels, lp_error *err)
{
	int internal = (flags & LP_DOCKER_NET_INTERNAL) != 0;
	lp_docker_network net;
	int rc, attempt;

	if (out)
		*out = 0;
	pthread_mutex_lock(&d->network_lock);
	/* Two tries: another process may win the race between our inspect and create. */
	for (attempt = 0; attempt < 2; attempt++) {
		rc = lp_docker_network_inspect(&net, d, name, err);
		if (rc == LP_OK) {
			if (!net.internal != !internal)
				rc = lp_error_set(err, LP_ECONFLICT,
				                  "network %s exists with internal=%s, wanted %s",
				                  name, net.internal ? "true" : "false",
				                  internal ? "true" : "false");
			goto done;
		}
		if (rc != LP_ENOTFOUND)
			goto done;
		rc = network_create(d, name, flags, labels, nlabels, err);
		if (rc == LP_OK) {
			if (out)
				*out = 1;
			goto done;
		}
		if (rc != LP_EEXISTS)
			goto done;
	}
done:
	pthread_mutex_unlock(&d->network_lock);
	return rc;
}

int lp_docker_network_connect(lp_docker *d, const char *network, const char *container,
                              lp_error *err)
{
	dk_req r = {.method = "POST", .is_write = 1, .timeout_ms = d->timeout_ms};
	char path[DK_PATH_MAX], msg[DK_MSG_MAX];
	cJSON *root = NULL;
	char *body = NULL;
	dk_resp resp;
	int rc;

	rc = dk_check_name(network, "network name", err);
	if (rc == LP_OK)
		rc = dk_check_name(container, "container id", err);
	if (rc == LP_OK)
		rc = dk_pathf(path, sizeof(path), err, "/networks/%s/connect", network);
	if (rc != LP_OK)
		return rc;
	dk_resp_init(&resp);
	root = cJSON_CreateObject();
	if (root == NULL || !cJSON_AddStringToObject(root, "Container", container) ||
	    (body = cJSON_PrintUnformatted(root)) == NULL) {
		rc = lp_error_set(err, LP_ENOMEM, "out of memory");
		goto done;
	}
	r.path = path;
	r.body = body;
	rc = dk_call(d, &r, &resp, err);
	if (rc != LP_OK || resp.status == 200)
		goto done;
	dk_error_message(msg, sizeof(msg), &resp);
	/* 20.10 answers 403 "endpoint with name X already exists in network Y". */
	if (resp.status == 403 && strstr(msg, "already exists") != NULL)
		goto done;
	rc = dk_status_error(&resp, err, "network connect");
done:
	free(body);
	cJSON_Delete(root);
	dk_resp_release(&resp);
	return rc;
}

int lp_docker_network_remove(lp_docker *d, const char *name, lp_error *err)
{
	dk_req r = {.method = "DELETE", .is_write = 1, .timeout_ms = d->timeout_ms};
	char path[DK_PATH_MAX];
	dk_resp resp;
	int rc;

	rc = dk_check_name(name, "network name", err);
	if (rc == LP_OK)
		rc = dk_pathf(path, sizeof(path), err, "/networks/%s", name);
	if (rc != LP_OK)
		return rc;
	dk_resp_init(&resp);
	r.path = path;
	rc = dk_call(d, &r, &resp, err);
	if (rc == LP_OK && resp.status != 204 && resp.status != 200 && resp.status != 404)
		rc = dk_status_error(&resp, err, "network remove");
	dk_resp_release(&resp);
	return rc;
}

/* Append each IPAM.Config[].Subnet of one network of the list to out. */
static int add_subnets(lp_docker_subnet *out, size_t *n, const cJSON *net, lp_error *err)
{
	const cJSON *ipam = cJSON_GetObjectItemCaseSensitive(net, "IPAM");
	const cJSON *configs = cJSON_GetObjectItemCaseSensitive(ipam, "Config"), *c;

	cJSON_ArrayForEach(c, configs)
	{
		const cJSON *sub = cJSON_GetObjectItemCaseSensitive(c, "Subnet");

		if (!cJSON_IsString(sub) || sub->valuestring[0] == '\0')
			continue;
		if (*n == LP_DOCKER_SUBNETS_MAX)
			return lp_error_set(err, LP_ETOOBIG, "network list: more than %d subnets",
			                    LP_DOCKER_SUBNETS_MAX);
		if (lp_fmt(out[*n].cidr, sizeof(out[*n].cidr), "%s", sub->valuestring) != LP_OK)
			return lp_error_set(err, LP_EREMOTE,
			                    "network list: subnet \"%.64s\" is too long",
			                    sub->valuestring);
		(*n)++;
	}
	return LP_OK;
}

int lp_docker_network_subnets(lp_docker_subnet **out, size_t *out_count, lp_docker *d,
                              lp_error *err)
{
	dk_req r = {.method = "GET", .path = "/networks", .timeout_ms = d->timeout_ms};
	lp_docker_subnet *list = NULL;
	const cJSON *net;
	cJSON *j = NULL;
	dk_resp resp;
	size_t n = 0;
	int rc;

	*out = NULL;
	*out_count = 0;
	dk_resp_init(&resp);
	rc = dk_call(d, &r, &resp, err);
	if (rc == LP_OK && resp.status != 200)
		rc = dk_status_error(&resp, err, "network list");
	if (rc != LP_OK)
		goto done;
	j = cJSON_ParseWithLength(lp_buf_cstr(&resp.body), resp.body.len);
	if (!cJSON_IsArray(j)) {
		rc = lp_error_set(err, LP_EREMOTE, "network list: the answer is not a JSON array");
		goto done;
	}
	if ((list = calloc(LP_DOCKER_SUBNETS_MAX, sizeof(*list))) == NULL) {
		rc = lp_error_set(err, LP_ENOMEM, "out of memory");
		goto done;
	}
	cJSON_ArrayForEach(net, j)
	{
		if ((rc = add_subnets(list, &n, net, err)) != LP_OK)
			goto done;
	}
	if (n > 0) {
		*out = list;
		*out_count = n;
		list = NULL;
	}
done:
	free(list);
	cJSON_Delete(j);
	dk_resp_release(&resp);
	return rc;
}

/* ---- images ---- */

/* Image references: registry/path:tag or @digest. Checked so they can sit in a URL unescaped. */
static int check_image_ref(const char *s, lp_error *err)
{
	size_t i, n = s ? strlen(s) : 0;

	if (n == 0 || n > DK_IMAGE_REF_MAX)
		return lp_error_set(err, LP_EINVAL, "image reference must be 1..%d characters",
		                    DK_IMAGE_REF_MAX);
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("_.-/:@", c) != NULL))
			return lp_error_set(err, LP_EINVAL,
			                    "image \"%s\": character '%c' not allowed", s, c);
	}
	return LP_OK;
}

int lp_docker_image_inspect(lp_docker_image *out, lp_docker *d, const char *name, lp_error *err)
{
	dk_req r = {.method = "GET", .timeout_ms = d->timeout_ms};
	char path[IMAGE_PATH_MAX];
	const cJSON *v;
	cJSON *j = NULL;
	dk_resp resp;
	int rc;

	if (out)
		memset(out, 0, sizeof(*out));
	rc = check_image_ref(name, err);
	if (rc == LP_OK)
		rc = dk_pathf(path, sizeof(path), err, "/images/%s/json", name);
	if (rc != LP_OK)
		return rc;
	dk_resp_init(&resp);
	r.path = path;
	rc = dk_call(d, &r, &resp, err);
	if (rc != LP_OK)
		goto done;
	if (resp.status != 200) {
		rc = dk_status_error(&resp, err, "image inspect");
		goto done;
	}
	if (out) {
		j = cJSON_ParseWithLength(lp_buf_cstr(&resp.body), resp.body.len);
		if (dk_json_copy(out->id, sizeof(out->id), j, "Id") != LP_OK) {
			rc =
			    lp_error_set(err, LP_EREMOTE, "image inspect %s: Id is too long", name);
			goto done;
		}
		v = cJSON_GetObjectItemCaseSensitive(j, "Size");
		out->size = cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
	}
done:
	cJSON_Delete(j);
	dk_resp_release(&resp);
	return rc;
}

struct pull_ctx {
	lp_docker_pull_fn fn;
	void *ctx;
	char error[DK_MSG_MAX];
};

static const char *str_member(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static int pull_line(void *ctx, char *line)
{
	struct pull_ctx *p = ctx;
	cJSON *j = cJSON_Parse(line);
	const cJSON *e;

	if (!cJSON_IsObject(j))
		goto done;
	e = cJSON_GetObjectItemCaseSensitive(j, "error");
	if (e != NULL) {
		const cJSON *detail = cJSON_GetObjectItemCaseSensitive(j, "errorDetail");
		const char *msg = str_member(detail, "message");

		lp_fmt_text(p->error, sizeof(p->error), "%s",
		            *msg ? msg : (cJSON_IsString(e) ? e->valuestring : "unknown error"));
		goto done;
	}
	if (p->fn)
		p->fn(p->ctx, str_member(j, "status"), str_member(j, "id"),
		      str_member(j, "progress"));
done:
	cJSON_Delete(j);
	return 0;
}

/*
 * Split a checked reference into repository and tag (or digest), "latest" when it names neither:
 * an empty tag would pull every tag of the repository. Both fit: they are parts of ref.
 */
static int split_ref(char repo[DK_IMAGE_REF_MAX + 1], char tag[DK_IMAGE_REF_MAX + 1],
                     const char *ref, lp_error *err)
{
	const char *at = strchr(ref, '@'), *slash = strrchr(ref, '/'), *colon = strrchr(ref, ':');
	/* A colon before the last slash is a registry's port, not a tag. */
	const char *sep =
	    at != NULL ? at : (colon != NULL && (slash == NULL || colon > slash) ? colon : NULL);
	size_t keep = sep != NULL ? (size_t)(sep - ref) : strlen(ref);
	const char *t = sep != NULL ? sep + 1 : "latest";

	if (lp_fmt(repo, DK_IMAGE_REF_MAX + 1, "%.*s", (int)keep, ref) != LP_OK ||
	    lp_fmt(tag, DK_IMAGE_REF_MAX + 1, "%s", t) != LP_OK)
		return lp_error_set(err, LP_EINVAL, "image \"%s\" is too long", ref);
	if (repo[0] == '\0' || tag[0] == '\0')
		return lp_error_set(err, LP_EINVAL, "image \"%s\": empty repository or tag", ref);
	return LP_OK;
}

int lp_docker_image_pull(lp_docker *d, const char *name, lp_docker_pull_fn fn, void *ctx,
                         int timeout_ms, const lp_docker_cancel *cancel, lp_error *err)
{
	dk_req r = {.method = "POST",
	            .is_write = 1,
	            .cancel = cancel,
	            .timeout_ms = timeout_ms > 0 ? timeout_ms : 0};
	struct pull_ctx p = {.fn = fn, .ctx = ctx};
	char repo[DK_IMAGE_REF_MAX + 1], tag[DK_IMAGE_REF_MAX + 1], path[PULL_PATH_MAX];
	char *esc_repo = NULL, *esc_tag = NULL;
	dk_lines lines;
	dk_resp resp;
	int rc;

	if ((rc = check_image_ref(name, err)) != LP_OK ||
	    (rc = split_ref(repo, tag, name, err)) != LP_OK)
		return rc;
	dk_resp_init(&resp);
	dk_lines_init(&lines, pull_line, &p);
	esc_repo = curl_easy_escape(NULL, repo, 0);
	esc_tag = curl_easy_escape(NULL, tag, 0);
	if (esc_repo == NULL || esc_tag == NULL) {
		rc = lp_error_set(err, LP_ENOMEM, "out of memory");
		goto done;
	}
	rc = dk_pathf(path, sizeof(path), err, "/images/create?fromImage=%s&tag=%s", esc_repo,
	              esc_tag);
	if (rc != LP_OK)
		goto done;
	r.path = path;
	r.sink = dk_lines_feed;
	r.sink_ctx = &lines;
	rc = dk_call(d, &r, &resp, err);
	if (lines.failed) {
		rc = lp_error_set(err, LP_ETOOBIG, "image pull %s: a progress line is too long",
		                  name);
		goto done;
	}
	if (rc != LP_OK) {
		lp_error_wrap(err, "image pull %s", name);
		goto done;
	}
	if (resp.status != 200) {
		char what[DK_MSG_MAX];

		lp_fmt_text(what, sizeof(what), "image pull %s", name);
		rc = dk_status_error(&resp, err, what);
		goto done;
	}
	/* pull_line never asks to stop: the last line can only record an in-band error. */
	dk_lines_finish(&lines);
	if (p.error[0])
		rc = lp_error_set(err, LP_EREMOTE, "image pull %s: %s", name, p.error);
done:
	curl_free(esc_repo);
	curl_free(esc_tag);
	dk_lines_release(&lines);
	dk_resp_release(&resp);
	return rc;
}
