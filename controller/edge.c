/* edge.c: the Traefik labels of a site's serve containers, and asking Traefik what it routes. */
#include "controller/edge.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <string.h>

#include "launchpad/buf.h"
#include "controller/nginx_conf.h"
#include "launchpad/crypto.h"
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
	if (rc != LP_OK)
		return LP_ETOOBIG;
	/* The rule is longer than any other value: its labels point at the one copy in l. */
	if (value == l->rule) {
		l->kv[l->n] = (lp_docker_kv){l->keys[l->n], l->rule};
	} else {
		if (lp_fmt(l->values[l->n], sizeof(l->values[l->n]), "%s", value) != LP_OK)
			return LP_ETOOBIG;
		l->kv[l->n] = (lp_docker_kv){l->keys[l->n], l->values[l->n]};
	}
	l->n++;
	return LP_OK;
}

/*
 * One host of the rule: Host(`name`), or for "*.example.com" a HostRegexp matching exactly one
 * label in its place (Traefik v3 has no wildcard Host).
 */
static int rule_host(lp_buf *b, const char *host)
{
	const char *c;
	int rc;

	if (strncmp(host, "*.", 2) != 0)
		return lp_buf_printf(b, "%sHost(`%s`)", b->len ? " || " : "", host);
	rc = lp_buf_printf(b, "%sHostRegexp(`^[a-z0-9-]+", b->len ? " || " : "");
	for (c = host + 1; rc == LP_OK && *c; c++)
		rc = *c == '.' ? lp_buf_append(b, "\\.", 2) : lp_buf_append(b, c, 1);
	return rc == LP_OK ? lp_buf_append(b, "$`)", 3) : rc;
}

static int build_rule(lp_edge_labels *out, const lp_config *cfg, const char *site,
                      const lp_site *spec)
{
	char own[LP_EDGE_VALUE_MAX];
	lp_buf b;
	size_t i;
	int rc;

	if (lp_fmt(own, sizeof(own), "%s.%s", site, cfg->base_domain) != LP_OK)
		return LP_ETOOBIG;
	lp_buf_init(&b, sizeof(out->rule) - 1);
	rc = rule_host(&b, own);
	for (i = 0; rc == LP_OK && spec && i < spec->domain_count; i++)
		rc = rule_host(&b, spec->domains[i]);
	if (rc == LP_OK)
		rc = lp_fmt(out->rule, sizeof(out->rule), "%s", lp_buf_cstr(&b));
	lp_buf_release(&b);
	return rc == LP_OK ? LP_OK : LP_ETOOBIG;
}

/* What the site's routers do, beyond its own host over http: nothing, for the labels of old. */
struct edge_routing {
	int has_domains;
	int https;    /* an HTTPS router on the websecure entrypoint */
	int redirect; /* http answers with a redirect to https */
	int hsts;     /* https answers carry Strict-Transport-Security */
	char https_port[EDGE_NUM_MAX];
};

/*
 * The router's name: the service's for the routing every site had before domains and HTTPS,
 * else the service's and a hash of everything that makes it differ, so the old and new
 * containers of a replacement never define one router two ways.
 */
static int router_name(lp_edge_labels *out, const lp_config *cfg, const struct edge_routing *rt)
{
	char hash[LP_SHA256_HEX_LEN];
	lp_buf b;
	int rc;

	if (!rt->has_domains && !rt->https)
		return lp_fmt(out->router, sizeof(out->router), "%s", out->service);
	lp_buf_init(&b, sizeof(out->rule) + 1024);
	rc = lp_buf_printf(&b, "%s\nhttps=%d redirect=%d hsts=%d port=%s resolver=%s\n", out->rule,
	                   rt->https, rt->redirect, rt->hsts, rt->https_port,
	                   cfg->cert_resolver ? cfg->cert_resolver : "");
	if (rc == LP_OK) {
		lp_crypto_sha256_hex(hash, b.data, b.len);
		rc = lp_fmt(out->router, sizeof(out->router), "%s-%.8s", out->service, hash);
	}
	lp_buf_release(&b);
	return rc;
}

/* The http router (web) and, with HTTPS, its twin on websecure; their middlewares. */
static int add_routers(lp_edge_labels *out, const lp_config *cfg, const struct edge_routing *rt,
                       const char *retry)
{
	char tls[LP_EDGE_ROUTER_MAX + 8], redirect[LP_EDGE_ROUTER_MAX + 8],
	    hsts[LP_EDGE_ROUTER_MAX + 8], web_mw[3 * LP_EDGE_ROUTER_MAX],
	    tls_mw[3 * LP_EDGE_ROUTER_MAX];
	const char *r = out->router;

	if (lp_fmt(tls, sizeof(tls), "%s" LP_EDGE_TLS_SUFFIX, r) != LP_OK ||
	    lp_fmt(redirect, sizeof(redirect), "%s-https", r) != LP_OK ||
	    lp_fmt(hsts, sizeof(hsts), "%s-hsts", r) != LP_OK ||
	    lp_fmt(web_mw, sizeof(web_mw), "%s%s%s", retry, rt->redirect ? "," : "",
	           rt->redirect ? redirect : "") != LP_OK ||
	    lp_fmt(tls_mw, sizeof(tls_mw), "%s%s%s", retry, rt->hsts ? "," : "",
	           rt->hsts ? hsts : "") != LP_OK)
		return LP_ETOOBIG;
	if (add(out, out->rule, "traefik.http.routers.%s.rule", r) != LP_OK ||
	    add(out, LP_EDGE_ENTRYPOINT, "traefik.http.routers.%s.entrypoints", r) != LP_OK ||
	    /* Explicit: a defaulted service name can differ between the two containers of a swap.
	     */
	    add(out, out->service, "traefik.http.routers.%s.service", r) != LP_OK ||
	    add(out, web_mw, "traefik.http.routers.%s.middlewares", r) != LP_OK)
		return LP_ETOOBIG;
	if (rt->redirect &&
	    (add(out, "https", "traefik.http.middlewares.%s.redirectscheme.scheme", redirect) !=
	         LP_OK ||
	     add(out, "true", "traefik.http.middlewares.%s.redirectscheme.permanent", redirect) !=
	         LP_OK ||
	     /* The default port stays out of the Location: https://host/ */
	     (strcmp(rt->https_port, "443") != 0 &&
	      add(out, rt->https_port, "traefik.http.middlewares.%s.redirectscheme.port",
	          redirect) != LP_OK)))
		return LP_ETOOBIG;
	if (!rt->https)
		return LP_OK;
	if (add(out, out->rule, "traefik.http.routers.%s.rule", tls) != LP_OK ||
	    add(out, LP_EDGE_ENTRYPOINT_HTTPS, "traefik.http.routers.%s.entrypoints", tls) !=
	        LP_OK ||
	    add(out, out->service, "traefik.http.routers.%s.service", tls) != LP_OK ||
	    add(out, tls_mw, "traefik.http.routers.%s.middlewares", tls) != LP_OK ||
	    add(out, "true", "traefik.http.routers.%s.tls", tls) != LP_OK)
		return LP_ETOOBIG;
	/* ACME: Traefik asks for a certificate of every Host() of the rule. */
	if (cfg->cert_resolver && *cfg->cert_resolver &&
	    add(out, cfg->cert_resolver, "traefik.http.routers.%s.tls.certresolver", tls) != LP_OK)
		return LP_ETOOBIG;
	if (rt->hsts && add(out, LP_EDGE_HSTS_SECONDS,
	                    "traefik.http.middlewares.%s.headers.stsSeconds", hsts) != LP_OK)
		return LP_ETOOBIG;
	return LP_OK;
}

/*
 * The revisions' permalinks (<site>--r<n>.<base-domain>, docs/previews.md) on a router of their
 * own over http: the site's router keeps the rule it always had, so a container labelled before
 * permalinks and one after never define one router two ways during a replacement.
 */
static int add_permalinks(lp_edge_labels *out, const lp_config *cfg, const char *site,
                          const char *retry)
{
	char name[LP_EDGE_ROUTER_MAX + 16];
	const char *c;
	lp_buf b;
	int rc;

	lp_buf_init(&b, LP_EDGE_VALUE_MAX - 1);
	rc = lp_buf_printf(&b, "HostRegexp(`^%s" LP_CONFIG_PERMALINK_SEP "[1-9][0-9]*\\.", site);
	for (c = cfg->base_domain; rc == LP_OK && *c; c++)
		rc = *c == '.' ? lp_buf_append(&b, "\\.", 2) : lp_buf_append(&b, c, 1);
	if (rc == LP_OK)
		rc = lp_buf_append(&b, "$`)", 3);
	if (rc != LP_OK ||
	    lp_fmt(name, sizeof(name), "%s" LP_EDGE_PERMALINK_SUFFIX, out->service) != LP_OK ||
	    add(out, lp_buf_cstr(&b), "traefik.http.routers.%s.rule", name) != LP_OK ||
	    add(out, LP_EDGE_ENTRYPOINT, "traefik.http.routers.%s.entrypoints", name) != LP_OK ||
	    add(out, out->service, "traefik.http.routers.%s.service", name) != LP_OK ||
	    add(out, retry, "traefik.http.routers.%s.middlewares", name) != LP_OK)
		rc = LP_ETOOBIG;
	lp_buf_release(&b);
	return rc;
}

int lp_edge_labels_build(lp_edge_labels *out, const lp_config *cfg, const char *site,
                         const lp_site *spec, const char *network, lp_error *err)
{
	char retry[LP_EDGE_NAME_MAX + 8], port[EDGE_NUM_MAX];
	struct edge_routing rt = {0};
	const char *r = out->service;
	int app = spec && spec->has_run;
	/* An app (spec.run) is reached on its own port and checked on its own health path. */
	const char *health = app ? spec->run_health_path : LP_SERVE_HEALTH_PATH;

	memset(out, 0, sizeof(*out));
	out->port = app ? spec->run_port : LP_EDGE_SERVE_PORT;
	rt.has_domains = spec && spec->domain_count > 0;
	rt.https = cfg->https != 0;
	/* Without an HTTPS entrypoint there is nothing to redirect to, nor to send HSTS over. */
	rt.redirect = rt.https && spec && spec->serve_https_redirect;
	rt.hsts = rt.https && spec && spec->serve_hsts;
	if (lp_fmt(out->service, sizeof(out->service), "%s-%s", cfg->instance, site) != LP_OK ||
	    build_rule(out, cfg, site, spec) != LP_OK ||
	    lp_fmt(rt.https_port, sizeof(rt.https_port), "%d", cfg->https_port) != LP_OK ||
	    router_name(out, cfg, &rt) != LP_OK ||
	    lp_fmt(retry, sizeof(retry), "%s-retry", r) != LP_OK ||
	    lp_fmt(port, sizeof(port), "%d", out->port) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "Traefik names for site %s do not fit", site);
	if (add(out, "true", "traefik.enable") != LP_OK ||
	    add(out, network, "traefik.docker.network") != LP_OK ||
	    add_routers(out, cfg, &rt, retry) != LP_OK ||
	    /* An app's container serves its one revision: no permalinks of the others. */
	    (!app && add_permalinks(out, cfg, site, retry) != LP_OK) ||
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
	    add(out, health, "traefik.http.services.%s.loadbalancer.healthcheck.path", r) !=
	        LP_OK ||
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

int lp_edge_server_state(lp_edge_server *out, const lp_config *cfg, const char *service,
                         const char *ip, int port, lp_error *err)
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
	           service) != LP_OK ||
	    lp_fmt(want, sizeof(want), "http://%s:%d", ip, port) != LP_OK)
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
