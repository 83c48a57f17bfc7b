/* docker_containers.c: container create, list, inspect, start, stop, kill, remove. */
#include "docker/docker_internal.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "launchpad/fmt.h"

/* Add a NULL-terminated string array under key (skipped when NULL). */
static int add_strv(cJSON *obj, const char *key, const char *const *v)
{
	cJSON *arr;
	size_t i;

	if (v == NULL)
		return LP_OK;
	arr = cJSON_AddArrayToObject(obj, key);
	if (arr == NULL)
		return LP_ENOMEM;
	for (i = 0; v[i] != NULL; i++)
		if (!cJSON_AddItemToArray(arr, cJSON_CreateString(v[i])))
			return LP_ENOMEM;
	return LP_OK;
}

static int add_kv(cJSON *obj, const char *key, const lp_docker_kv *kv, size_t n)
{
	cJSON *o;
	size_t i;

	if (n == 0)
		return LP_OK;
	o = cJSON_AddObjectToObject(obj, key);
	if (o == NULL)
		return LP_ENOMEM;
	for (i = 0; i < n; i++) {
		if (kv[i].key == NULL || kv[i].value == NULL)
			return LP_EINVAL;
		if (cJSON_AddStringToObject(o, kv[i].key, kv[i].value) == NULL)
			return LP_ENOMEM;
	}
	return LP_OK;
}

static int add_str(cJSON *obj, const char *key, const char *s)
{
	if (s == NULL)
		return LP_OK;
	return cJSON_AddStringToObject(obj, key, s) ? LP_OK : LP_ENOMEM;
}

static int add_num(cJSON *obj, const char *key, int64_t v)
{
	if (v == 0)
		return LP_OK;
	return cJSON_AddNumberToObject(obj, key, (double)v) ? LP_OK : LP_ENOMEM;
}

/* HostConfig.LogConfig: json-file, rotated (every container, no opt-out; checked before). */
static int add_log_config(cJSON *hc, const lp_docker *d, const lp_docker_create_config *c)
{
	const char *size = c->log_max_size ? c->log_max_size : d->log_max_size;
	char files[LP_DOCKER_LOG_SIZE_MAX];
	cJSON *lc = cJSON_AddObjectToObject(hc, "LogConfig"), *opts;

	if (lc == NULL || cJSON_AddStringToObject(lc, "Type", "json-file") == NULL ||
	    (opts = cJSON_AddObjectToObject(lc, "Config")) == NULL)
		return LP_ENOMEM;
	if (lp_fmt(files, sizeof(files), "%d",
	           c->log_max_files ? c->log_max_files : d->log_max_files) != LP_OK)
		return LP_EINVAL;
	return cJSON_AddStringToObject(opts, "max-size", size) &&
	               cJSON_AddStringToObject(opts, "max-file", files)
	           ? LP_OK
	           : LP_ENOMEM;
}

/* Config.Healthcheck: the engine counts in nanoseconds. */
static int add_healthcheck(cJSON *root, const lp_docker_create_config *c)
{
	cJSON *hc = cJSON_AddObjectToObject(root, "Healthcheck");
	int rc = hc ? add_strv(hc, "Test", c->health_test) : LP_ENOMEM;

	if (rc == LP_OK)
		rc = add_num(hc, "Interval", c->health_interval_ms * 1000000);
	if (rc == LP_OK)
		rc = add_num(hc, "Timeout", c->health_timeout_ms * 1000000);
	if (rc == LP_OK)
		rc = add_num(hc, "StartPeriod", c->health_start_period_ms * 1000000);
	if (rc == LP_OK)
		rc = add_num(hc, "Retries", c->health_retries);
	return rc;
}

/* Build the create body; *out is a malloc'd JSON string. */
static int create_body(char **out, const lp_docker *d, const lp_docker_create_config *c)
{
	cJSON *root = cJSON_CreateObject(), *hc, *o, *nc, *eps;
	int rc = root ? LP_OK : LP_ENOMEM;

	*out = NULL;
	if (rc == LP_OK)
		rc = add_str(root, "Image", c->image);
	if (rc == LP_OK)
		rc = add_strv(root, "Cmd", c->cmd);
	if (rc == LP_OK)
		rc = add_strv(root, "Entrypoint", c->entrypoint);
	if (rc == LP_OK)
		rc = add_strv(root, "Env", c->env);
	if (rc == LP_OK)
		rc = add_str(root, "User", c->user);
	if (rc == LP_OK)
		rc = add_str(root, "WorkingDir", c->workdir);
	if (rc == LP_OK)
		rc = add_kv(root, "Labels", c->labels, c->nlabels);
	if (rc == LP_OK && c->stop_timeout > 0)
		rc = add_num(root, "StopTimeout", c->stop_timeout);
	if (rc == LP_OK)
		rc = add_str(root, "StopSignal", c->stop_signal);
	if (rc == LP_OK && cJSON_AddFalseToObject(root, "Tty") == NULL)
		rc = LP_ENOMEM;
	if (rc == LP_OK && c->health_test)
		rc = add_healthcheck(root, c);
	hc = rc == LP_OK ? cJSON_AddObjectToObject(root, "HostConfig") : NULL;
	if (rc == LP_OK && hc == NULL)
		rc = LP_ENOMEM;
	if (rc == LP_OK)
		rc = add_strv(hc, "Binds", c->binds);
	if (rc == LP_OK)
		rc = add_str(hc, "NetworkMode", c->network);
	if (rc == LP_OK)
		rc = add_num(hc, "Memory", c->memory_bytes);
	if (rc == LP_OK)
		rc = add_num(hc, "NanoCpus", c->nano_cpus);
	if (rc == LP_OK)
		rc = add_num(hc, "PidsLimit", c->pids_limit);
	if (rc == LP_OK && c->init && cJSON_AddTrueToObject(hc, "Init") == NULL)
		rc = LP_ENOMEM;
	if (rc == LP_OK && c->readonly_rootfs &&
	    cJSON_AddTrueToObject(hc, "ReadonlyRootfs") == NULL)
		rc = LP_ENOMEM;
	if (rc == LP_OK)
		rc = add_kv(hc, "Tmpfs", c->tmpfs, c->ntmpfs);
	if (rc == LP_OK)
		rc = add_strv(hc, "CapDrop", c->cap_drop);
	if (rc == LP_OK)
		rc = add_strv(hc, "CapAdd", c->cap_add);
	if (rc == LP_OK)
		rc = add_strv(hc, "SecurityOpt", c->security_opt);
	if (rc == LP_OK)
		rc = add_log_config(hc, d, c);
	if (rc == LP_OK && c->restart_policy) {
		o = cJSON_AddObjectToObject(hc, "RestartPolicy");
		rc = o ? add_str(o, "Name", c->restart_policy) : LP_ENOMEM;
	}
	if (rc == LP_OK && c->network) {
		/* 20.10 accepts only one endpoint at create; more are connected before start. */
		nc = cJSON_AddObjectToObject(root, "NetworkingConfig");
		eps = nc ? cJSON_AddObjectToObject(nc, "EndpointsConfig") : NULL;
		if (eps == NULL || cJSON_AddObjectToObject(eps, c->network) == NULL)
			rc = LP_ENOMEM;
	}
	if (rc == LP_OK) {
		*out = cJSON_PrintUnformatted(root);
		if (*out == NULL)
			rc = LP_ENOMEM;
	}
	cJSON_Delete(root);
	return rc;
}

/* An image, and a name the engine accepts: ^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$ */
static int check_create(const lp_docker_create_config *cfg, lp_error *err)
{
	char first;
	int rc;

	if (cfg == NULL || cfg->image == NULL || *cfg->image == '\0')
		return lp_error_set(err, LP_EINVAL, "container create: image is required");
	if ((rc = dk_check_name(cfg->name, "container name", err)) != LP_OK)
		return rc;
	if ((cfg->log_max_size && dk_check_log_size(cfg->log_max_size) != LP_OK) ||
	    cfg->log_max_files < 0 || cfg->log_max_files > LP_DOCKER_LOG_FILES_MAX)
		return lp_error_set(err, LP_EINVAL,
		                    "container %s: log rotation must be a size like 10m and 1..%d "
		                    "files",
		                    cfg->name, LP_DOCKER_LOG_FILES_MAX);
	first = cfg->name[cfg->name[0] == '/'];
	if (strlen(cfg->name) < 2 || first == '.' || first == '_' || first == '-')
		return lp_error_set(
		    err, LP_EINVAL,
		    "container name \"%s\" must match ^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$", cfg->name);
	return LP_OK;
}

int lp_docker_container_create(char **out, lp_docker *d, const lp_docker_create_config *cfg,
                               lp_error *err)
{
	dk_req r = {.method = "POST", .is_write = 1, .timeout_ms = d->timeout_ms};
	char path[DK_PATH_MAX];
	char *body = NULL, *name = NULL;
	cJSON *j = NULL;
	const cJSON *id;
	dk_resp resp;
	int rc;

	*out = NULL;
	dk_resp_init(&resp);
	rc = check_create(cfg, err);
	if (rc != LP_OK)
		goto done;
	rc = create_body(&body, d, cfg);
	if (rc != LP_OK) {
		lp_error_set(err, rc, "container create %s: %s", cfg->name,
		             rc == LP_EINVAL ? "a label or tmpfs entry is NULL" : "out of memory");
		goto done;
	}
	name = curl_easy_escape(NULL, cfg->name, 0);
	if (name == NULL) {
		rc = lp_error_set(err, LP_ENOMEM, "out of memory");
		goto done;
	}
	rc = dk_pathf(path, sizeof(path), err, "/containers/create?name=%s", name);
	if (rc != LP_OK)
		goto done;
	r.path = path;
	r.body = body;
	rc = dk_call(d, &r, &resp, err);
	if (rc != LP_OK)
		goto done;
	if (resp.status == 409) {
		char msg[DK_MSG_MAX];

		dk_error_message(msg, sizeof(msg), &resp);
		rc = lp_error_set(err, LP_EEXISTS, "container create %s: %s", cfg->name, msg);
		goto done;
	}
	if (resp.status != 201) {
		char what[DK_MSG_MAX];

		lp_fmt_text(what, sizeof(what), "container create %s", cfg->name);
		rc = dk_status_error(&resp, err, what);
		goto done;
	}
	j = cJSON_Parse(lp_buf_cstr(&resp.body));
	id = cJSON_GetObjectItemCaseSensitive(j, "Id");
	if (!cJSON_IsString(id) || id->valuestring[0] == '\0') {
		rc = lp_error_set(err, LP_EREMOTE, "container create %s: answer has no Id",
		                  cfg->name);
		goto done;
	}
	*out = strdup(id->valuestring);
	if (*out == NULL)
		rc = lp_error_set(err, LP_ENOMEM, "out of memory");
done:
	curl_free(name);
	free(body);
	cJSON_Delete(j);
	dk_resp_release(&resp);
	return rc;
}

/* Append `"k=v",` JSON strings for a label filter; the body of {"label":[...]} */
static int filters_json(char **out, const char *const *labels)
{
	cJSON *root = cJSON_CreateObject(), *arr;
	int rc = LP_OK;
	size_t i;

	*out = NULL;
	if (root == NULL)
		return LP_ENOMEM;
	arr = cJSON_AddArrayToObject(root, "label");
	for (i = 0; arr && labels[i]; i++)
		if (!cJSON_AddItemToArray(arr, cJSON_CreateString(labels[i])))
			rc = LP_ENOMEM;
	if (arr == NULL)
		rc = LP_ENOMEM;
	if (rc == LP_OK && (*out = cJSON_PrintUnformatted(root)) == NULL)
		rc = LP_ENOMEM;
	cJSON_Delete(root);
	return rc;
}

static void summary_release(lp_docker_summary *s)
{
	size_t i;

	free(s->id);
	for (i = 0; i < s->nnames; i++)
		free(s->names[i]);
	free(s->names);
	free(s->image);
	free(s->state);
	free(s->status);
	dk_kv_free(s->labels, s->nlabels);
}

void lp_docker_summaries_free(lp_docker_summaries *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		summary_release(&s->items[i]);
	free(s->items);
	free(s);
}

static int summary_from_json(lp_docker_summary *s, const cJSON *o)
{
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(o, "Names"), *it;
	const cJSON *created = cJSON_GetObjectItemCaseSensitive(o, "Created");
	size_t n = 0;

	s->id = dk_json_strdup(o, "Id");
	s->image = dk_json_strdup(o, "Image");
	s->state = dk_json_strdup(o, "State");
	s->status = dk_json_strdup(o, "Status");
	s->created = cJSON_IsNumber(created) ? (int64_t)created->valuedouble : 0;
	if (!s->id || !s->image || !s->state || !s->status)
		return LP_ENOMEM;
	if (cJSON_IsArray(names) && cJSON_GetArraySize(names) > 0) {
		s->names = calloc((size_t)cJSON_GetArraySize(names), sizeof(char *));
		if (s->names == NULL)
			return LP_ENOMEM;
		cJSON_ArrayForEach(it, names)
		{
			const char *nm = cJSON_IsString(it) ? it->valuestring : "";

			s->names[n] = strdup(nm[0] == '/' ? nm + 1 : nm);
			if (s->names[n] == NULL)
				return LP_ENOMEM;
			s->nnames = ++n;
		}
	}
	return dk_json_kv(&s->labels, &s->nlabels, cJSON_GetObjectItemCaseSensitive(o, "Labels"));
}

int lp_docker_container_list(lp_docker_summaries **out, lp_docker *d, const char *const *labels,
                             lp_error *err)
{
	dk_req r = {.method = "GET", .timeout_ms = d->timeout_ms};
	lp_docker_summaries *res = NULL;
	char *filters = NULL, *esc = NULL;
	lp_buf path;
	cJSON *j = NULL, *it;
	dk_resp resp;
	int rc = LP_OK, count;

	*out = NULL;
	dk_resp_init(&resp);
	lp_buf_init(&path, DK_QUERY_MAX);
	if (labels && labels[0]) {
		rc = filters_json(&filters, labels);
		esc = rc == LP_OK ? curl_easy_escape(NULL, filters, 0) : NULL;
		if (esc == NULL) {
			rc = lp_error_set(err, LP_ENOMEM, "out of memory");
			goto done;
		}
	}
	if (lp_buf_printf(&path, "/containers/json?all=1%s%s", esc ? "&filters=" : "",
	                  esc ? esc : "") != LP_OK) {
		rc = lp_error_set(err, LP_ETOOBIG, "container list: label filters too long");
		goto done;
	}
	r.path = path.data;
	rc = dk_call(d, &r, &resp, err);
	if (rc != LP_OK)
		goto done;
	if (resp.status != 200) {
		rc = dk_status_error(&resp, err, "container list");
		goto done;
	}
	j = cJSON_ParseWithLength(lp_buf_cstr(&resp.body), resp.body.len);
	if (!cJSON_IsArray(j)) {
		rc = lp_error_set(err, LP_EREMOTE, "container list: answer is not a JSON array");
		goto done;
	}
	count = cJSON_GetArraySize(j);
	res = calloc(1, sizeof(*res));
	if (res == NULL ||
	    (count > 0 && (res->items = calloc((size_t)count, sizeof(*res->items))) == NULL)) {
		rc = lp_error_set(err, LP_ENOMEM, "out of memory");
		goto done;
	}
	cJSON_ArrayForEach(it, j)
	{
		if (!cJSON_IsObject(it))
			continue;
		rc = summary_from_json(&res->items[res->n], it);
		res->n++;
		if (rc != LP_OK) {
			lp_error_set(err, rc, "out of memory");
			goto done;
		}
	}
	*out = res;
	res = NULL;
done:
	lp_docker_summaries_free(res);
	cJSON_Delete(j);
	curl_free(esc);
	free(filters);
	lp_buf_release(&path);
	dk_resp_release(&resp);
	return rc;
}

void lp_docker_container_free(lp_docker_container *c)
{
	if (c == NULL)
		return;
	free(c->id);
	free(c->name);
	free(c->image);
	free(c->image_id);
	free(c->status);
	free(c->started_at);
	free(c->finished_at);
	free(c->health_status);
	free(c->health_output);
	dk_kv_free(c->labels, c->nlabels);
	dk_kv_free(c->networks, c->nnetworks);
	free(c);
}

static int networks_from_json(lp_docker_container *c, const cJSON *nets)
{
	const cJSON *it;
	size_t n = 0;

	if (!cJSON_IsObject(nets) || cJSON_GetArraySize(nets) == 0)
		return LP_OK;
	c->networks = calloc((size_t)cJSON_GetArraySize(nets), sizeof(*c->networks));
	if (c->networks == NULL)
		return LP_ENOMEM;
	cJSON_ArrayForEach(it, nets)
	{
		c->networks[n].key = strdup(it->string ? it->string : "");
		c->networks[n].value = dk_json_strdup(it, "IPAddress");
		c->nnetworks = ++n;
		if (c->networks[n - 1].key == NULL || c->networks[n - 1].value == NULL)
			return LP_ENOMEM;
	}
	return LP_OK;
}

/* State.Health: its status, streak and the newest probe's answer (the log is oldest first). */
static int health_from_json(lp_docker_container *c, const cJSON *h)
{
	const cJSON *log = cJSON_GetObjectItemCaseSensitive(h, "Log"), *last = NULL, *it, *v;

	if (!cJSON_IsObject(h))
		return LP_OK;
	if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(h, "Status")) &&
	    (c->health_status = dk_json_strdup(h, "Status")) == NULL)
		return LP_ENOMEM;
	v = cJSON_GetObjectItemCaseSensitive(h, "FailingStreak");
	c->health_failing = cJSON_IsNumber(v) ? v->valueint : 0;
	if (cJSON_IsArray(log))
		cJSON_ArrayForEach(it, log) last = it;
	if (last == NULL || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(last, "Output")))
		return LP_OK;
	v = cJSON_GetObjectItemCaseSensitive(last, "ExitCode");
	c->health_exit_code = cJSON_IsNumber(v) ? v->valueint : 0;
	return (c->health_output = dk_json_strdup(last, "Output")) ? LP_OK : LP_ENOMEM;
}

static int container_from_json(lp_docker_container *c, const cJSON *j)
{
	const cJSON *state = cJSON_GetObjectItemCaseSensitive(j, "State");
	const cJSON *config = cJSON_GetObjectItemCaseSensitive(j, "Config");
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(j, "NetworkSettings");
	const cJSON *v;
	char *name;

	c->id = dk_json_strdup(j, "Id");
	name = dk_json_strdup(j, "Name");
	c->name = name && name[0] == '/' ? strdup(name + 1) : (name ? strdup(name) : NULL);
	free(name);
	c->image = dk_json_strdup(config, "Image");
	c->image_id = dk_json_strdup(j, "Image");
	c->status = dk_json_strdup(state, "Status");
	c->started_at = dk_json_strdup(state, "StartedAt");
	c->finished_at = dk_json_strdup(state, "FinishedAt");
	if (!c->id || !c->name || !c->image || !c->image_id || !c->status || !c->started_at ||
	    !c->finished_at)
		return LP_ENOMEM;
	if (health_from_json(c, cJSON_GetObjectItemCaseSensitive(state, "Health")) != LP_OK)
		return LP_ENOMEM;
	v = cJSON_GetObjectItemCaseSensitive(j, "RestartCount");
	c->restart_count = cJSON_IsNumber(v) ? v->valueint : 0;
	c->restarting = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(state, "Restarting"));
	c->running = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(state, "Running"));
	c->oom_killed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(state, "OOMKilled"));
	v = cJSON_GetObjectItemCaseSensitive(state, "ExitCode");
	c->exit_code = cJSON_IsNumber(v) ? v->valueint : 0;
	if (dk_json_kv(&c->labels, &c->nlabels, cJSON_GetObjectItemCaseSensitive(config, "Labels")))
		return LP_ENOMEM;
	return networks_from_json(c, cJSON_GetObjectItemCaseSensitive(ns, "Networks"));
}

int lp_docker_container_inspect(lp_docker_container **out, lp_docker *d, const char *id,
                                lp_error *err)
{
	dk_req r = {.method = "GET", .timeout_ms = d->timeout_ms};
	lp_docker_container *c = NULL;
	char path[DK_PATH_MAX];
	cJSON *j = NULL;
	dk_resp resp;
	int rc;

	*out = NULL;
	dk_resp_init(&resp);
	rc = dk_check_name(id, "container id", err);
	if (rc == LP_OK)
		rc = dk_pathf(path, sizeof(path), err, "/containers/%s/json", id);
	if (rc != LP_OK)
		goto done;
	r.path = path;
	rc = dk_call(d, &r, &resp, err);
	if (rc != LP_OK)
		goto done;
	if (resp.status != 200) {
		rc = dk_status_error(&resp, err, "container inspect");
		goto done;
	}
	j = cJSON_ParseWithLength(lp_buf_cstr(&resp.body), resp.body.len);
	c = calloc(1, sizeof(*c));
	if (!cJSON_IsObject(j) || c == NULL) {
		rc = lp_error_set(err, c ? LP_EREMOTE : LP_ENOMEM,
		                  "container inspect %s: bad answer", id);
		goto done;
	}
	rc = container_from_json(c, j);
	if (rc != LP_OK) {
		lp_error_set(err, rc, "out of memory");
		goto done;
	}
	*out = c;
	c = NULL;
done:
	lp_docker_container_free(c);
	cJSON_Delete(j);
	dk_resp_release(&resp);
	return rc;
}

/* POST/DELETE on /containers/{id}<suffix> answered 204 (or 304 when ok304). */
static int container_action(lp_docker *d, const char *method, const char *id, const char *suffix,
                            long extra_ms, int ok304, const char *what, lp_error *err)
{
	dk_req r = {.method = method, .is_write = 1, .timeout_ms = d->timeout_ms + extra_ms};
	char path[DK_PATH_MAX];
	char label[DK_MSG_MAX];
	dk_resp resp;
	int rc;

	rc = dk_check_name(id, "container id", err);
	if (rc == LP_OK)
		rc = dk_pathf(path, sizeof(path), err, "/containers/%s%s", id, suffix);
	if (rc != LP_OK)
		return rc;
	dk_resp_init(&resp);
	r.path = path;
	rc = dk_call(d, &r, &resp, err);
	if (rc == LP_OK &&
	    !(resp.status == 204 || resp.status == 200 || (ok304 && resp.status == 304))) {
		lp_fmt_text(label, sizeof(label), "container %s %s", what, id);
		rc = dk_status_error(&resp, err, label);
	}
	dk_resp_release(&resp);
	return rc;
}

int lp_docker_container_start(lp_docker *d, const char *id, lp_error *err)
{
	return container_action(d, "POST", id, "/start", 0, 1, "start", err);
}

int lp_docker_container_rename(lp_docker *d, const char *id, const char *name, lp_error *err)
{
	char suffix[DK_PATH_MAX];
	int rc;

	/* The name goes into the query string: the same character rules as create's. */
	if ((rc = dk_check_name(name, "container name", err)) != LP_OK ||
	    (rc = dk_pathf(suffix, sizeof(suffix), err, "/rename?name=%s", name)) != LP_OK)
		return rc;
	return container_action(d, "POST", id, suffix, 0, 0, "rename", err);
}

int lp_docker_container_stop(lp_docker *d, const char *id, int timeout_s, lp_error *err)
{
	char suffix[DK_PATH_MAX] = "/stop";
	int rc;

	if (timeout_s >= 0) {
		if (timeout_s > 24 * 3600)
			return lp_error_set(err, LP_EINVAL, "stop timeout too long: %d s",
			                    timeout_s);
		rc = dk_pathf(suffix, sizeof(suffix), err, "/stop?t=%d", timeout_s);
		if (rc != LP_OK)
			return rc;
	}
	/* The daemon waits up to the grace period (10 s by default) before answering. */
	return container_action(d, "POST", id, suffix, (timeout_s >= 0 ? timeout_s : 10) * 1000L, 1,
	                        "stop", err);
}

int lp_docker_container_kill(lp_docker *d, const char *id, const char *signal, lp_error *err)
{
	char suffix[DK_PATH_MAX];
	size_t i;
	int rc;

	if (signal == NULL)
		signal = "SIGKILL";
	for (i = 0; signal[i]; i++)
		if (!((signal[i] >= 'A' && signal[i] <= 'Z') ||
		      (signal[i] >= '0' && signal[i] <= '9')) ||
		    i > 16)
			return lp_error_set(err, LP_EINVAL, "bad signal name \"%s\"", signal);
	rc = dk_pathf(suffix, sizeof(suffix), err, "/kill?signal=%s", signal);
	if (rc != LP_OK)
		return rc;
	return container_action(d, "POST", id, suffix, 0, 0, "kill", err);
}

int lp_docker_container_remove(lp_docker *d, const char *id, unsigned flags, lp_error *err)
{
	char suffix[DK_PATH_MAX];
	lp_error local = {0};
	int rc;

	rc = dk_pathf(suffix, sizeof(suffix), &local, "?force=%d&v=%d",
	              (flags & LP_DOCKER_RM_FORCE) ? 1 : 0, (flags & LP_DOCKER_RM_VOLUMES) ? 1 : 0);
	if (rc == LP_OK)
		rc = container_action(d, "DELETE", id, suffix, 0, 0, "remove", &local);
	if ((flags & LP_DOCKER_RM_MISSING_OK) &&
	    (rc == LP_ENOTFOUND ||
	     (rc == LP_ECONFLICT && strstr(local.message, "already in progress") != NULL)))
		return LP_OK;
	if (rc != LP_OK && err)
		*err = local;
	return rc;
}
