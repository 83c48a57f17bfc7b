/* edge.c: the Traefik labels of a site's serve containers, and asking Traefik what it routes. */
#include "controller/edge.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <string.h>

#include "launchpad/buf.h"
#include "controller/nginx_conf.h"
#include "launchpad/fmt.h"

#define EDGE_URL_MAX 1024 /* a URL of Traefik's API or of a container's health path */
#define EDGE_NUM_MAX 16

/* Append one label whose key is formatted from keyfmt; LP_ETOOBIG when anything does not fit. */
static int add(lp_edge_labels *l, const char *value, const char *keyfmt, ...)
    __attribute__((format(printf, 3, 4)));

static int add(lp_edge_labels *l, const char *value, const char *keyfmt, ...)
{
	va_list ap;
	int rc;

	if (l->n >= LP_EDGE_MAX_LABELS)
		return LP_ETOOBIG;
	va_start(ap, keyfmt);
	rc = lp_vfmt(l->keys[l->n], sizeof(l->keys[l->n]), keyfmt, ap);
	va_end(ap);
	if (rc != LP_OK || lp_fmt(l->values[l->n], sizeof(l->values[l->n]), "%s", value) != LP_OK)
		return LP_ETOOBIG;
	l->kv[l->n] = (lp_docker_kv){l->keys[l->n], l->values[l->n]};
	l->n++;
	return LP_OK;
}

/*
 * The site's host and its revisions' permalinks ("<site>--r<n>", docs/previews.md): Go's regexp
 * syntax, the base domain's dots escaped (it holds only a host name's characters).
 */
static int host_rule(char *out, size_t outlen, const char *site, const char *domain)
{
	char re[LP_EDGE_VALUE_MAX];
	size_t i, j = 0;

	for (i = 0; domain[i]; i++) {
		if (j + 3 > sizeof(re))
			return LP_ETOOBIG;
		if (domain[i] == '.')
			re[j++] = '\\';
		re[j++] = domain[i];
	}
	re[j] = '\0';
	return lp_fmt(out, outlen,
	              "Host(`%s.%s`) || HostRegexp(`^%s" LP_CONFIG_PERMALINK_SEP
	              "[1-9][0-9]*\\.%s$`)",
	              site, domain, site, re);
}

int lp_edge_labels_build(lp_edge_labels *out, const lp_config *cfg, const char *site,
                         const char *network, lp_error *err)
{
	char rule[LP_EDGE_VALUE_MAX], retry[LP_EDGE_NAME_MAX + 8], port[EDGE_NUM_MAX];
	const char *r = out->router;

	memset(out, 0, sizeof(*out));
	if (lp_fmt(out->router, sizeof(out->router), "%s-%s", cfg->instance, site) != LP_OK ||
	    host_rule(rule, sizeof(rule), site, cfg->base_domain) != LP_OK ||
	    lp_fmt(retry, sizeof(retry), "%s-retry", r) != LP_OK ||
	    lp_fmt(port, sizeof(port), "%d", LP_EDGE_SERVE_PORT) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "Traefik names for site %s do not fit", site);
	if (add(out, "true", "traefik.enable") != LP_OK ||
	    add(out, network, "traefik.docker.network") != LP_OK ||
	    add(out, rule, "traefik.http.routers.%s.rule", r) != LP_OK ||
	    add(out, LP_EDGE_ENTRYPOINT, "traefik.http.routers.%s.entrypoints", r) != LP_OK ||
	    /* Explicit: a defaulted service name can differ between the two containers of a swap.
	     */
	    add(out, r, "traefik.http.routers.%s.service", r) != LP_OK ||
	    add(out, retry, "traefik.http.routers.%s.middlewares", r) != LP_OK ||
	    add(out, LP_EDGE_RETRIES, "traefik.http.middlewares.%s.retry.attempts", retry) !=
	        LP_OK ||
	    add(out, LP_EDGE_RETRY_WAIT, "traefik.http.middlewares.%s.retry.initialinterval",
	        retry) != LP_OK ||
	    /* Internal networks defeat Traefik's port detection: the port is always explicit. */
	    add(out, port, "traefik.http.services.%s.loadbalancer.server.port", r) != LP_OK ||
	    /* A refused connection takes a server out at once: the retry reaches another one. */
	    add(out, "1",
	        "traefik.http.services.%s.loadbalancer.passivehealthcheck.maxfailedattempts",
	        r) != LP_OK ||
	    add(out, LP_EDGE_FAILURE_WINDOW,
	        "traefik.http.services.%s.loadbalancer.passivehealthcheck.failurewindow",
	        r) != LP_OK ||
	    /* The active check is how a draining container leaves the rotation while it serves. */
	    add(out, LP_SERVE_HEALTH_PATH, "traefik.http.services.%s.loadbalancer.healthcheck.path",
	        r) != LP_OK ||
	    add(out, LP_EDGE_HEALTH_INTERVAL,
	        "traefik.http.services.%s.loadbalancer.healthcheck.interval", r) != LP_OK ||
	    add(out, LP_EDGE_HEALTH_TIMEOUT,
	        "traefik.http.services.%s.loadbalancer.healthcheck.timeout", r) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "Traefik labels for site %s do not fit", site);
	return LP_OK;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	return lp_buf_append(ctx, ptr, size * nmemb) == LP_OK ? size * nmemb : 0;
}

/* What the service JSON says of the server want ("http://ip:port"). */
static lp_edge_server server_in(const cJSON *svc, const char *want)
{
	const cJSON *lb = cJSON_GetObjectItemCaseSensitive(svc, "loadBalancer");
	const cJSON *servers = cJSON_GetObjectItemCaseSensitive(lb, "servers"), *s;
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(svc, "serverStatus");
	const cJSON *up = cJSON_GetObjectItemCaseSensitive(status, want);

	cJSON_ArrayForEach(s, servers)
	{
		const cJSON *url = cJSON_GetObjectItemCaseSensitive(s, "url");
		if (cJSON_IsString(url) && !strcmp(url->valuestring, want))
			return cJSON_IsString(up) && strcmp(up->valuestring, "UP") != 0
			           ? LP_EDGE_DOWN
			           : LP_EDGE_UP;
	}
	return LP_EDGE_ABSENT;
}

int lp_edge_server_state(lp_edge_server *out, const lp_config *cfg, const char *router,
                         const char *ip, lp_error *err)
{
	char url[EDGE_URL_MAX], want[EDGE_URL_MAX];
	CURL *h = NULL;
	CURLcode cc;
	cJSON *svc = NULL;
	long status = 0;
	lp_buf body;
	size_t n;
	int rc = LP_OK;

	*out = LP_EDGE_ABSENT;
	if (cfg->traefik_api == NULL || cfg->traefik_api[0] == '\0')
		return lp_error_set(err, LP_EUNAVAILABLE, "no Traefik API configured");
	n = strlen(cfg->traefik_api);
	while (n > 0 && cfg->traefik_api[n - 1] == '/')
		n--;
	if (lp_fmt(url, sizeof(url), "%.*s/api/http/services/%s@docker", (int)n, cfg->traefik_api,
	           router) != LP_OK ||
	    lp_fmt(want, sizeof(want), "http://%s:%d", ip, LP_EDGE_SERVE_PORT) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "Traefik API URL is too long");
	lp_buf_init(&body, LP_EDGE_API_BODY_MAX);
	if ((h = curl_easy_init()) == NULL) {
		rc = lp_error_set(err, LP_ENOMEM, "curl_easy_init failed");
		goto done;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)LP_EDGE_API_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	if ((cc = curl_easy_perform(h)) != CURLE_OK) {
		rc = lp_error_set(err, LP_EUNAVAILABLE, "Traefik API %s: %s", url,
		                  curl_easy_strerror(cc));
		goto done;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status == 404) /* the service is not built yet: no server of it is routed */
		goto done;
	if (status != 200 || (svc = cJSON_ParseWithLength(lp_buf_cstr(&body), body.len)) == NULL) {
		rc = lp_error_set(err, LP_EUNAVAILABLE, "Traefik API %s answered %ld", url, status);
		goto done;
	}
	*out = server_in(svc, want);
done:
	cJSON_Delete(svc);
	if (h)
		curl_easy_cleanup(h);
	lp_buf_release(&body);
	return rc;
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	(void)ptr;
	(void)ctx;
	return size * nmemb;
}

int lp_edge_probe(int *out, const char *ip, const char *path)
{
	char url[EDGE_URL_MAX];
	long status = 0;
	CURL *h;

	*out = 0;
	if (lp_fmt(url, sizeof(url), "http://%s:%d%s", ip, LP_EDGE_SERVE_PORT, path) != LP_OK)
		return LP_ETOOBIG;
	if ((h = curl_easy_init()) == NULL)
		return LP_ENOMEM;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)LP_EDGE_PROBE_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	if (curl_easy_perform(h) == CURLE_OK &&
	    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK)
		*out = status == 200;
	curl_easy_cleanup(h);
	return LP_OK;
}
