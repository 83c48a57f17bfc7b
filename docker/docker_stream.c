/* docker_stream.c: the streaming calls: wait, logs (framed stream demultiplexer), events. */
#include "docker/docker_internal.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "launchpad/clock.h"
#include "launchpad/log.h"

/* ---- demultiplexer ---- */

void dk_demux_init(dk_demux *m, lp_docker_output_fn fn, void *ctx)
{
	memset(m, 0, sizeof(*m));
	m->fn = fn;
	m->ctx = ctx;
}

int dk_demux_feed(dk_demux *m, const char *data, size_t len)
{
	size_t take;

	if (m->bad)
		return LP_EREMOTE;
	while (len > 0) {
		if (m->remaining == 0) {
			take = sizeof(m->hdr) - m->hdr_len;
			if (take > len)
				take = len;
			memcpy(m->hdr + m->hdr_len, data, take);
			m->hdr_len += take;
			data += take;
			len -= take;
			if (m->hdr_len < sizeof(m->hdr))
				break;
			m->hdr_len = 0;
			/* 0 stdin (echoed as stdout), 1 stdout, 2 stderr; 3 is "system" (errors).
			 */
			if (m->hdr[0] > 3 || m->hdr[1] || m->hdr[2] || m->hdr[3]) {
				m->bad = 1;
				return LP_EREMOTE;
			}
			m->stream = m->hdr[0] == 0 ? 1 : (m->hdr[0] == 3 ? 2 : m->hdr[0]);
			m->remaining = (uint32_t)m->hdr[4] << 24 | (uint32_t)m->hdr[5] << 16 |
			               (uint32_t)m->hdr[6] << 8 | (uint32_t)m->hdr[7];
			continue;
		}
		take = len < m->remaining ? len : m->remaining;
		if (m->fn(m->ctx, m->stream, data, take) != 0)
			return LP_ECANCELED;
		m->remaining -= (uint32_t)take;
		data += take;
		len -= take;
	}
	return LP_OK;
}

int dk_demux_finish(const dk_demux *m)
{
	if (m->bad || m->remaining != 0 || m->hdr_len != 0)
		return LP_EREMOTE;
	return LP_OK;
}

/* ---- wait ---- */

int lp_docker_container_wait(int *out, lp_docker *d, const char *id, const char *condition,
                             const lp_docker_cancel *cancel, lp_error *err)
{
	dk_req r = {.method = "POST", .cancel = cancel};
	char path[DK_PATH_MAX];
	const cJSON *code, *werr, *msg;
	cJSON *j = NULL;
	dk_resp resp;
	int rc;

	*out = -1;
	if (condition == NULL)
		condition = "not-running";
	if (strcmp(condition, "not-running") && strcmp(condition, "next-exit") &&
	    strcmp(condition, "removed"))
		return lp_error_set(err, LP_EINVAL, "bad wait condition \"%s\"", condition);
	rc = dk_check_name(id, "container id", err);
	if (rc == LP_OK)
		rc = dk_pathf(path, sizeof(path), err, "/containers/%s/wait?condition=%s", id,
		              condition);
	if (rc != LP_OK)
		return rc;
	dk_resp_init(&resp);
	r.path = path;
	rc = dk_call(d, &r, &resp, err);
	if (rc != LP_OK)
		goto done;
	if (resp.status != 200) {
		rc = dk_status_error(&resp, err, "container wait");
		goto done;
	}
	j = cJSON_Parse(lp_buf_cstr(&resp.body));
	code = cJSON_GetObjectItemCaseSensitive(j, "StatusCode");
	werr = cJSON_GetObjectItemCaseSensitive(j, "Error");
	msg = cJSON_GetObjectItemCaseSensitive(werr, "Message");
	if (cJSON_IsString(msg) && msg->valuestring[0]) {
		rc = lp_error_set(err, LP_EREMOTE, "container wait %s: %s", id, msg->valuestring);
		goto done;
	}
	if (!cJSON_IsNumber(code)) {
		rc = lp_error_set(err, LP_EREMOTE, "container wait %s: answer has no StatusCode",
		                  id);
		goto done;
	}
	*out = code->valueint;
done:
	cJSON_Delete(j);
	dk_resp_release(&resp);
	return rc;
}

/* ---- logs ---- */

struct logs_ctx {
	dk_demux demux;
	int rc;
};

static int logs_sink(void *ctx, const char *data, size_t len)
{
	struct logs_ctx *l = ctx;

	l->rc = dk_demux_feed(&l->demux, data, len);
	return l->rc != LP_OK;
}

/* A unix time as the engine's since= takes it: digits, then optionally '.' and 1..9 digits. */
static int since_ok(const char *s)
{
	size_t i = strspn(s, "0123456789"), f;

	if (i == 0 || i > 19)
		return 0;
	if (s[i] == '\0')
		return 1;
	f = strspn(s + i + 1, "0123456789");
	return s[i] == '.' && f >= 1 && f <= 9 && s[i + 1 + f] == '\0';
}

int lp_docker_container_logs(lp_docker *d, const char *id, int follow, lp_docker_output_fn fn,
                             void *ctx, const lp_docker_cancel *cancel, lp_error *err)
{
	lp_docker_logs_options o = {.follow = follow};

	return lp_docker_container_logs_with(d, id, &o, fn, ctx, cancel, err);
}

int lp_docker_container_logs_with(lp_docker *d, const char *id, const lp_docker_logs_options *opts,
                                  lp_docker_output_fn fn, void *ctx, const lp_docker_cancel *cancel,
                                  lp_error *err)
{
	static const lp_docker_logs_options none = {0};
	const lp_docker_logs_options *o = opts ? opts : &none;
	dk_req r = {.method = "GET", .cancel = cancel, .timeout_ms = o->follow ? 0 : d->timeout_ms};
	struct logs_ctx l = {.rc = LP_OK};
	char path[DK_PATH_MAX];
	dk_resp resp;
	int rc;

	if (o->since && !since_ok(o->since))
		return lp_error_set(err, LP_EINVAL, "container logs: bad since \"%s\"", o->since);
	rc = dk_check_name(id, "container id", err);
	if (rc == LP_OK)
		rc = dk_pathf(path, sizeof(path), err,
		              "/containers/%s/logs?stdout=1&stderr=1&timestamps=%d&follow=%d%s%s",
		              id, o->timestamps ? 1 : 0, o->follow ? 1 : 0,
		              o->since ? "&since=" : "", o->since ? o->since : "");
	if (rc != LP_OK)
		return rc;
	dk_resp_init(&resp);
	dk_demux_init(&l.demux, fn, ctx);
	r.path = path;
	r.sink = logs_sink;
	r.sink_ctx = &l;
	rc = dk_call(d, &r, &resp, err);
	if (l.rc == LP_EREMOTE) {
		rc = lp_error_set(err, LP_EREMOTE,
		                  "container logs %s: not a multiplexed stream (TTY container?)",
		                  id);
		goto done;
	}
	if (rc != LP_OK)
		goto done;
	if (resp.status != 200) {
		rc = dk_status_error(&resp, err, "container logs");
		goto done;
	}
	if (dk_demux_finish(&l.demux) != LP_OK)
		rc = lp_error_set(err, LP_EREMOTE, "container logs %s: stream ended inside a frame",
		                  id);
done:
	dk_resp_release(&resp);
	return rc;
}

/* ---- events ---- */

struct events_ctx {
	lp_docker_event_fn fn;
	void *ctx;
	const lp_docker_events_options *opts;
	int attempt;
	int connected;              /* the current attempt reached a 200 */
	int stopped;                /* fn asked to stop */
	int64_t last_nano;          /* timeNano of the newest event delivered */
	unsigned long n_at_last;    /* events delivered with timeNano == last_nano */
	unsigned long skip_at_last; /* on replay, how many at last_nano to drop */
};

static void events_started(void *ctx)
{
	struct events_ctx *e = ctx;

	e->connected = 1;
	if (e->opts->on_connected)
		e->opts->on_connected(e->ctx, e->attempt);
}

static int64_t json_i64(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

static int events_line(void *ctx, char *line)
{
	struct events_ctx *e = ctx;
	cJSON *j = cJSON_Parse(line);
	const cJSON *actor, *type, *action, *id;
	lp_docker_event ev = {0};
	lp_docker_kv *attrs = NULL;
	size_t nattrs = 0;
	int stop = 0;

	if (!cJSON_IsObject(j)) {
		LP_WARN("docker", "events: skipping a line that is not JSON");
		goto done;
	}
	actor = cJSON_GetObjectItemCaseSensitive(j, "Actor");
	type = cJSON_GetObjectItemCaseSensitive(j, "Type");
	action = cJSON_GetObjectItemCaseSensitive(j, "Action");
	id = cJSON_GetObjectItemCaseSensitive(actor, "ID");
	ev.time = json_i64(j, "time");
	ev.time_nano = json_i64(j, "timeNano");
	/* A replay after reconnecting starts at the last event's second: drop what was seen. */
	if (ev.time_nano < e->last_nano)
		goto done;
	if (ev.time_nano == e->last_nano && e->skip_at_last > 0) {
		e->skip_at_last--;
		goto done;
	}
	if (dk_json_kv(&attrs, &nattrs, cJSON_GetObjectItemCaseSensitive(actor, "Attributes"))) {
		stop = 1;
		goto done;
	}
	ev.type = cJSON_IsString(type) ? type->valuestring : "";
	ev.action = cJSON_IsString(action) ? action->valuestring : "";
	ev.id = cJSON_IsString(id) ? id->valuestring : "";
	ev.attrs = attrs;
	ev.nattrs = nattrs;
	if (ev.time_nano == e->last_nano) {
		e->n_at_last++;
	} else {
		e->last_nano = ev.time_nano;
		e->n_at_last = 1;
	}
	if (e->fn(e->ctx, &ev) != 0) {
		e->stopped = 1;
		stop = 1;
	}
done:
	dk_kv_free(attrs, nattrs);
	cJSON_Delete(j);
	return stop;
}

static int events_path(lp_buf *path, const lp_docker_events_options *o, int64_t since)
{
	cJSON *root = cJSON_CreateObject(), *arr;
	char *json = NULL, *esc = NULL;
	int rc = LP_ENOMEM;
	size_t i;

	lp_buf_reset(path);
	if (root == NULL)
		goto done;
	if (o->type) {
		arr = cJSON_AddArrayToObject(root, "type");
		if (arr == NULL || !cJSON_AddItemToArray(arr, cJSON_CreateString(o->type)))
			goto done;
	}
	if (o->labels && o->labels[0]) {
		arr = cJSON_AddArrayToObject(root, "label");
		if (arr == NULL)
			goto done;
		for (i = 0; o->labels[i]; i++)
			if (!cJSON_AddItemToArray(arr, cJSON_CreateString(o->labels[i])))
				goto done;
	}
	json = cJSON_PrintUnformatted(root);
	esc = json ? curl_easy_escape(NULL, json, 0) : NULL;
	if (esc == NULL)
		goto done;
	rc = lp_buf_printf(path, "/events?filters=%s", esc);
	if (rc == LP_OK && since > 0)
		rc = lp_buf_printf(path, "&since=%lld", (long long)since);
done:
	curl_free(esc);
	free(json);
	cJSON_Delete(root);
	return rc;
}

/* Sleep ms, in slices, returning early (non-zero) when cancelled. */
static int sleep_cancellable(int ms, const lp_docker_cancel *cancel)
{
	while (ms > 0) {
		if (lp_docker_cancel_requested(cancel))
			return 1;
		lp_clock_sleep_ms(50);
		ms -= 50;
	}
	return lp_docker_cancel_requested(cancel);
}

int lp_docker_events_watch(lp_docker *d, const lp_docker_events_options *opts,
                           lp_docker_event_fn fn, void *ctx, const lp_docker_cancel *cancel,
                           lp_error *err)
{
	const lp_docker_events_options none = {0};
	struct events_ctx e = {.fn = fn, .ctx = ctx};
	int max_backoff, backoff = 100, rc;
	int64_t since;
	dk_lines lines;
	lp_buf path;
	dk_resp resp;

	e.opts = opts ? opts : &none;
	since = e.opts->since;
	max_backoff = e.opts->max_backoff_ms > 0 ? e.opts->max_backoff_ms : 5000;
	lp_buf_init(&path, DK_QUERY_MAX);
	dk_resp_init(&resp);
	dk_lines_init(&lines, events_line, &e);
	for (;;) {
		dk_req r = {.method = "GET", .cancel = cancel};

		rc = events_path(&path, e.opts, since);
		if (rc != LP_OK) {
			lp_error_set(err, rc, "events: filters too long");
			break;
		}
		r.path = path.data;
		r.sink = dk_lines_feed;
		r.sink_ctx = &lines;
		r.on_start = events_started;
		r.start_ctx = &e;
		e.connected = 0;
		lp_buf_reset(&lines.line);
		rc = dk_call(d, &r, &resp, err);
		if (e.stopped || lp_docker_cancel_requested(cancel)) {
			rc = lp_error_set(err, LP_ECANCELED, "events: cancelled");
			break;
		}
		if (lines.failed) {
			rc = lp_error_set(err, LP_ETOOBIG, "events: a line exceeds %zu bytes",
			                  DK_LINE_MAX);
			break;
		}
		if (rc == LP_OK && resp.status != 200) {
			rc = dk_status_error(&resp, err, "events");
			/* A refusal (bad filter) will not heal by retrying. */
			if (resp.status >= 400 && resp.status < 500)
				break;
		} else if (rc == LP_OK) {
			rc = lp_error_set(err, LP_EUNAVAILABLE, "events: the stream ended");
		}
		if (!e.opts->reconnect)
			break;
		if (e.connected)
			backoff = 100;
		LP_WARN("docker", "events stream lost (%s); reconnecting in %d ms",
		        err ? err->message : lp_strerror(rc), backoff);
		if (sleep_cancellable(backoff, cancel)) {
			rc = lp_error_set(err, LP_ECANCELED, "events: cancelled");
			break;
		}
		backoff = backoff * 2 > max_backoff ? max_backoff : backoff * 2;
		if (e.last_nano > 0) {
			since = e.last_nano / 1000000000;
			e.skip_at_last = e.n_at_last;
		}
		e.attempt++;
	}
	dk_lines_release(&lines);
	dk_resp_release(&resp);
	lp_buf_release(&path);
	return rc;
}
