/* config.c: the shared settings table, read from defaults, LAUNCHPAD_* variables, then flags. */
#include "launchpad/config.h"

#include "launchpad/fmt.h"
#include "launchpad/log.h"
#include "launchpad/names.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum kind { K_STR, K_BOOL, K_INT, K_LOGFMT, K_LOGLEVEL };

struct setting {
	const char *flag; /* without the leading dashes */
	const char *env;
	const char *def; /* NULL: unset */
	enum kind kind;
	size_t offset;
	const char *help;
	unsigned scope; /* LP_CONFIG_FOR_*: the programs that read it (0: all) */
	int secret;     /* logged as "(set)", never its value */
};

#define S(field) offsetof(lp_config, field)
#define API      LP_CONFIG_FOR_API
#define CTRL     LP_CONFIG_FOR_CONTROLLER
#define CLI      LP_CONFIG_FOR_CLI

static const struct setting settings[] = {
    {"data-dir", "LAUNCHPAD_DATA_DIR", "/srv/launchpad", K_STR, S(data_dir), "data directory",
     .scope = API | CTRL},
    {"listen", "LAUNCHPAD_LISTEN", "127.0.0.1:8080", K_STR, S(listen), "API listen address",
     .scope = API},
    {"docker-socket", "LAUNCHPAD_DOCKER_SOCKET", "/var/run/docker.sock", K_STR, S(docker_socket),
     "Docker engine socket", .scope = CTRL},
    {"instance", "LAUNCHPAD_INSTANCE", "default", K_STR, S(instance), "ownership label value",
     .scope = API | CTRL},
    {"base-domain", "LAUNCHPAD_BASE_DOMAIN", "localhost", K_STR, S(base_domain),
     "site URL is http://<name>.<base-domain>", .scope = API | CTRL},
    {"public-url", "LAUNCHPAD_PUBLIC_URL", "http://localhost:8080", K_STR, S(public_url),
     "public API URL (webhook URLs)", .scope = API},
    {"serve-image", "LAUNCHPAD_SERVE_IMAGE", "nginx:alpine", K_STR, S(serve_image),
     "image serving sites", .scope = CTRL},
    {"build-image", "LAUNCHPAD_BUILD_IMAGE", "node:20-alpine", K_STR, S(build_image),
     "default build image", .scope = API | CTRL},
    {"app-image", "LAUNCHPAD_APP_IMAGE", "node:20-alpine", K_STR, S(app_image),
     "default image of an app's container (spec.run)", .scope = API | CTRL},
    {"probe-path", "LAUNCHPAD_PROBE_PATH", NULL, K_STR, S(probe_path),
     "controller: the apps' static health probe, installed into <data-dir>/bin (default: "
     "lp-probe beside the controller binary)",
     .scope = CTRL},
    {"build-images", "LAUNCHPAD_BUILD_IMAGES", NULL, K_STR, S(build_images),
     "images spec.build.image and spec.run.image may name besides --build-image and "
     "--app-image (comma list; an entry ending in * is a prefix: node:*,python:3.12-slim; * "
     "alone allows any image)",
     .scope = API | CTRL},
    {"allow-insecure-sources", "LAUNCHPAD_ALLOW_INSECURE_SOURCES", "false", K_BOOL,
     S(allow_insecure_sources), "allow http:// and file:// Git URLs (development)",
     .scope = API | CTRL},
    {"log-format", "LAUNCHPAD_LOG_FORMAT", "text", K_LOGFMT, S(log_format), "text or json",
     .scope = 0},
    {"log-level", "LAUNCHPAD_LOG_LEVEL", "info", K_LOGLEVEL, S(log_level),
     "debug, info, warn or error", .scope = 0},
    {"server", "LAUNCHPAD_SERVER", "http://127.0.0.1:8080", K_STR, S(server), "CLI: API server URL",
     .scope = CLI},
    {"token", "LAUNCHPAD_TOKEN", NULL, K_STR, S(token), "CLI: API bearer token", .scope = CLI,
     .secret = 1},
    {"workers", "LAUNCHPAD_WORKERS", "2", K_INT, S(workers), "controller worker threads",
     .scope = CTRL},
    {"resync-seconds", "LAUNCHPAD_RESYNC_SECONDS", "60", K_INT, S(resync_seconds),
     "controller full resync period", .scope = CTRL},
    {"cors-origins", "LAUNCHPAD_CORS_ORIGINS", NULL, K_STR, S(cors_origins),
     "API: comma-separated origins allowed by CORS", .scope = API},
    {"metrics-auth", "LAUNCHPAD_METRICS_AUTH", "false", K_BOOL, S(metrics_auth),
     "API: require a token for /metrics", .scope = API},
    {"upload-max-mb", "LAUNCHPAD_UPLOAD_MAX_MB", "200", K_INT, S(upload_max_mb),
     "API: largest accepted upload, MiB", .scope = API | CTRL},
    {"build-timeout-max", "LAUNCHPAD_BUILD_TIMEOUT_MAX", "3600", K_INT, S(build_timeout_max),
     "controller: longest build deadline allowed, seconds", .scope = CTRL},
    {"http-port", "LAUNCHPAD_HTTP_PORT", "80", K_INT, S(http_port),
     "port of the edge (Traefik) in site URLs", .scope = API | CTRL},
    {"sites-network", "LAUNCHPAD_SITES_NETWORK", NULL, K_STR, S(sites_network),
     "controller: the serving network Traefik shares (default launchpad-sites, prefixed by a "
     "non-default instance)",
     .scope = CTRL},
    {"traefik-api", "LAUNCHPAD_TRAEFIK_API", NULL, K_STR, S(traefik_api),
     "controller: Traefik's API URL; a replaced serve container goes once Traefik routes to "
     "its successor",
     .scope = CTRL},
    {"metrics-interval-seconds", "LAUNCHPAD_METRICS_INTERVAL_SECONDS", "15", K_INT,
     S(metrics_interval_seconds),
     "controller: how often Traefik's per-site metrics are scraped (needs --traefik-api; 0: "
     "never)",
     .scope = CTRL},
    {"controller-metrics-port", "LAUNCHPAD_CONTROLLER_METRICS_PORT", "0", K_INT,
     S(controller_metrics_port),
     "controller: serve its own counters at http://127.0.0.1:PORT/metrics (0: not served)",
     .scope = CTRL},
    {"metrics-retention-days", "LAUNCHPAD_METRICS_RETENTION_DAYS", "7", K_INT,
     S(metrics_retention_days), "controller: how long per-site minute buckets are kept",
     .scope = CTRL},
    {"swap-drain-ms", "LAUNCHPAD_SWAP_DRAIN_MS", "3000", K_INT, S(swap_drain_ms),
     "controller: without --traefik-api, how long a replacement runs beside the old container",
     .scope = CTRL},
    {"host-isolation", "LAUNCHPAD_HOST_ISOLATION", "true", K_BOOL, S(host_isolation),
     "controller: reject traffic from the instance's networks to this host's own addresses "
     "(iptables; needs root in the host's network namespace)",
     .scope = CTRL},
    {"api-user", "LAUNCHPAD_API_USER", NULL, K_STR, S(api_user),
     "controller: uid:gid the apiserver runs as (it then owns the store and uploads)",
     .scope = CTRL},
    {"dashboard-dir", "LAUNCHPAD_DASHBOARD_DIR", NULL, K_STR, S(dashboard_dir),
     "API: the built dashboard (dashboard/dist), served at /", .scope = API},
    {"teardown-on-stop", "LAUNCHPAD_TEARDOWN_ON_STOP", "never", K_STR, S(teardown_on_stop),
     "controller: never, or with-api: on stop, remove the sites' containers when the "
     "instance's apiserver container is not running (docker compose down)",
     .scope = CTRL},
    {"reserved-names", "LAUNCHPAD_RESERVED_NAMES", "api,traefik", K_STR, S(reserved_names),
     "API: names no new site may take, the hosts the platform routes on --base-domain itself "
     "(comma list; --public-url's host is added when it lies under --base-domain)",
     .scope = API},
    {"header-timeout", "LAUNCHPAD_HEADER_TIMEOUT", "10", K_INT, S(header_timeout),
     "API: seconds a client has to send a request's headers (a body: as long again plus its "
     "size at --body-min-rate)",
     .scope = API},
    {"body-min-rate", "LAUNCHPAD_BODY_MIN_RATE", "32", K_INT, S(body_min_rate),
     "API: KiB/s a request body must keep up (slower is cut off with 408)", .scope = API},
    {"revision-burst", "LAUNCHPAD_REVISION_BURST", "20", K_INT, S(revision_burst),
     "API: revision requests (redeploy, webhook, upload) one site may make at once (0: no "
     "limit)",
     .scope = API},
    {"revision-rate", "LAUNCHPAD_REVISION_RATE", "30", K_INT, S(revision_rate),
     "API: revision requests a minute one site regains after its burst (429 beyond)", .scope = API},
    {"session-ttl", "LAUNCHPAD_SESSION_TTL", "43200", K_INT, S(session_ttl),
     "API: seconds a login session (POST /api/login) lasts (at least 1)", .scope = API},
    {"master-key-file", "LAUNCHPAD_MASTER_KEY_FILE", "", K_STR, S(master_key_file),
     "API and controller: the key file secret env values are encrypted with (default "
     "<data-dir>/master.key; made 0600 when absent)",
     .scope = API | CTRL},
    {"archive-grace", "LAUNCHPAD_ARCHIVE_GRACE", "3600", K_INT, S(archive_grace),
     "controller: seconds an uploaded archive no revision names is kept before the gc removes "
     "it (at least 60)",
     .scope = CTRL},
    /* Disk, logs and Git fetches of builds (docs/builds.md, docs/git-sources.md). */
    {"build-workspace-max-mb", "LAUNCHPAD_BUILD_WORKSPACE_MAX_MB", "2048", K_INT,
     S(build_workspace_max_mb),
     "controller: disk one build's workspace may use, MiB (a build over it fails; 0: no cap)",
     .scope = CTRL},
    {"build-cache-max-mb", "LAUNCHPAD_BUILD_CACHE_MAX_MB", "1024", K_INT, S(build_cache_max_mb),
     "controller: disk one site's dependency cache may use, MiB (trimmed oldest first before a "
     "build; a build over it fails; 0: no cap)",
     .scope = CTRL},
    {"build-cache-total-mb", "LAUNCHPAD_BUILD_CACHE_TOTAL_MB", "10240", K_INT,
     S(build_cache_total_mb),
     "controller: disk all sites' dependency caches may use together, MiB (the least recently "
     "used go first; 0: no cap)",
     .scope = CTRL},
    {"min-free-mb", "LAUNCHPAD_MIN_FREE_MB", "1024", K_INT, S(min_free_mb),
     "controller: builds wait while the data dir's filesystem has less free, MiB (0: never)",
     .scope = CTRL},
    {"container-log-max-size", "LAUNCHPAD_CONTAINER_LOG_MAX_SIZE", "10m", K_STR,
     S(container_log_max_size),
     "controller: json-file log rotation size of every container it creates (10m, 512k, 1g)",
     .scope = CTRL},
    {"container-log-max-files", "LAUNCHPAD_CONTAINER_LOG_MAX_FILES", "3", K_INT,
     S(container_log_max_files), "controller: rotated json-file logs kept per container (1..100)",
     .scope = CTRL},
    /* Custom domains and HTTPS at the edge (docs/domains.md). */
    {"allow-wildcard-domains", "LAUNCHPAD_ALLOW_WILDCARD_DOMAINS", "false", K_BOOL,
     S(allow_wildcard_domains), "accept \"*.example.com\" in spec.domains", .scope = API | CTRL},
    {"cname-target", "LAUNCHPAD_CNAME_TARGET", NULL, K_STR, S(cname_target),
     "API: the host a custom domain's DNS CNAME names (default <name>.<base-domain>)",
     .scope = API},
    {"https", "LAUNCHPAD_HTTPS", "false", K_BOOL, S(https),
     "the edge has a websecure entrypoint (scripts/edge.sh with LAUNCHPAD_HTTPS=true): every "
     "site gets an HTTPS router",
     .scope = API | CTRL},
    {"https-port", "LAUNCHPAD_HTTPS_PORT", "443", K_INT, S(https_port),
     "port of the edge's websecure entrypoint (the https redirect's target)", .scope = API | CTRL},
    {"cert-resolver", "LAUNCHPAD_CERT_RESOLVER", NULL, K_STR, S(cert_resolver),
     "controller: Traefik certificate resolver of the HTTPS routers (ACME); unset: the edge's "
     "default certificate",
     .scope = CTRL},
    {"git-allow-hosts", "LAUNCHPAD_GIT_ALLOW_HOSTS", NULL, K_STR, S(git_allow_hosts),
     "controller: Git hosts fetched even though they resolve to internal addresses (comma list "
     "of host names, IP addresses and CIDR ranges)",
     .scope = CTRL},
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))
_Static_assert(NSETTINGS <= LP_CONFIG_SETTINGS_MAX, "raise LP_CONFIG_SETTINGS_MAX");

/* "--<flag>" or a variable's name, for the error that names where a bad value came from. */
#define ORIGIN_MAX 128
/* ":<port>" */
#define PORT_SUFFIX_MAX 16

static int parse_bool(int *out, const char *v)
{
	if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
		*out = 1;
	else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off"))
		*out = 0;
	else
		return LP_EINVAL;
	return LP_OK;
}

static int parse_int(int *out, const char *v)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end != '\0' || n < 0 || n > 1000000)
		return LP_EINVAL;
	*out = (int)n;
	return LP_OK;
}

/* Store value into cfg for setting s; origin names where it came from, for the error. */
static int apply(lp_config *cfg, const struct setting *s, const char *value, const char *origin,
                 lp_error *err)
{
	char *base = (char *)cfg;
	int rc = LP_OK;

	switch (s->kind) {
	case K_STR: {
		char **slot = (char **)(base + s->offset);
		char *dup = value ? strdup(value) : NULL;
		if (value && dup == NULL)
			return lp_error_set(err, LP_ENOMEM, "out of memory");
		free(*slot);
		*slot = dup;
		break;
	}
	case K_BOOL:
		rc = parse_bool((int *)(base + s->offset), value);
		break;
	case K_INT:
		rc = parse_int((int *)(base + s->offset), value);
		break;
	case K_LOGFMT:
		rc = lp_log_format_parse((lp_log_format *)(base + s->offset), value);
		break;
	case K_LOGLEVEL:
		rc = lp_log_level_parse((lp_log_level *)(base + s->offset), value);
		break;
	}
	if (rc != LP_OK)
		return lp_error_set(err, LP_EINVAL, "%s: invalid value \"%s\"", origin, value);
	return LP_OK;
}

static const struct setting *find_flag(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NSETTINGS; i++)
		if (strlen(settings[i].flag) == len && !strncmp(settings[i].flag, name, len))
			return &settings[i];
	return NULL;
}

/* The defaults, then the LAUNCHPAD_* variables over them. */
static int apply_environment(lp_config *cfg, lp_error *err)
{
	size_t k;
	int rc;

	for (k = 0; k < NSETTINGS; k++) {
		const char *env = getenv(settings[k].env);

		if (settings[k].def &&
		    (rc = apply(cfg, &settings[k], settings[k].def, "default", err)) != LP_OK)
			return rc;
		cfg->from_[k] = LP_CONFIG_FROM_DEFAULT;
		if (env && *env) {
			if ((rc = apply(cfg, &settings[k], env, settings[k].env, err)) != LP_OK)
				return rc;
			cfg->from_[k] = LP_CONFIG_FROM_ENV;
		}
	}
	return LP_OK;
}

/* The flags of argv over the environment; the other arguments go to left, *nleft counts them. */
static int apply_flags(lp_config *cfg, char **left, int *nleft, int argc, char **argv,
                       lp_error *err)
{
	char origin[ORIGIN_MAX];
	int rc, n = 0, i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *eq = NULL, *value;
		const struct setting *s = NULL;

		if (!strcmp(a, "--")) {
			for (; i < argc; i++)
				left[n++] = argv[i];
			break;
		}
		if (!strncmp(a, "--", 2)) {
			eq = strchr(a + 2, '=');
			s = find_flag(a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
		}
		if (s == NULL) {
			left[n++] = argv[i];
			continue;
		}
		lp_fmt_text(origin, sizeof(origin), "--%s", s->flag);
		if (eq)
			value = eq + 1;
		else if (s->kind == K_BOOL)
			value = "true";
		else if (i + 1 < argc)
			value = argv[++i];
		else
			return lp_error_set(err, LP_EINVAL, "--%s needs a value", s->flag);
		if ((rc = apply(cfg, s, value, origin, err)) != LP_OK)
			return rc;
		cfg->from_[s - settings] = LP_CONFIG_FROM_FLAG;
	}
	*nleft = n;
	return LP_OK;
}

static int add_reserved(lp_config *cfg, const char *name, size_t len, lp_error *err)
{
	size_t i;

	for (i = 0; i < cfg->nreserved; i++)
		if (strlen(cfg->reserved[i]) == len && !strncmp(cfg->reserved[i], name, len))
			return LP_OK;
	if (cfg->nreserved == LP_CONFIG_RESERVED_MAX)
		return lp_error_set(err, LP_EINVAL, "--reserved-names: more than %d names",
		                    LP_CONFIG_RESERVED_MAX);
	if ((cfg->reserved[cfg->nreserved] = strndup(name, len)) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	if (!lp_names_dns_label(cfg->reserved[cfg->nreserved], LP_NAMES_LABEL_MAX)) {
		lp_error_set(err, LP_EINVAL,
		             "--reserved-names: \"%s\" is not a site name (a DNS label of at most "
		             "%d characters)",
		             cfg->reserved[cfg->nreserved], LP_NAMES_LABEL_MAX);
		free(cfg->reserved[cfg->nreserved]);
		cfg->reserved[cfg->nreserved] = NULL;
		return LP_EINVAL;
	}
	cfg->nreserved++;
	return LP_OK;
}

/*
 * The names new sites may not take: --reserved-names, and the API's own host when --public-url
 * puts it on the base domain (https://launchpad.example.com with base domain example.com
 * reserves "launchpad"), since a site there would never be reached.
 */
static int read_reserved(lp_config *cfg, lp_error *err)
{
	const char *p = cfg->reserved_names ? cfg->reserved_names : "", *host, *end;
	size_t blen = strlen(cfg->base_domain);
	int rc;

	while (*p) {
		size_t len;

		p += strspn(p, ", ");
		len = strcspn(p, ", ");
		if (len && (rc = add_reserved(cfg, p, len, err)) != LP_OK)
			return rc;
		p += len;
	}
	host = strstr(cfg->public_url, "://");
	host = host ? host + 3 : cfg->public_url;
	end = host + strcspn(host, ":/?#");
	if ((size_t)(end - host) > blen + 1 && end[-(ptrdiff_t)blen - 1] == '.' &&
	    !strncasecmp(end - blen, cfg->base_domain, blen)) {
		size_t len = (size_t)(end - host) - blen - 1;

		if (memchr(host, '.', len) == NULL &&
		    (rc = add_reserved(cfg, host, len, err)) != LP_OK)
			return rc;
	}
	return LP_OK;
}

static int is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* An image reference's characters (the spec's rule; core cannot include spec). */
static int image_char(char c)
{
	return is_alnum(c) || (c != '\0' && strchr("._/:@-", c) != NULL);
}

/* One --build-images entry: an image as written, or a prefix ending in '*' ("*" alone: any). */
static int add_image(lp_config *cfg, const char *entry, size_t len, lp_error *err)
{
	size_t i, body = len > 0 && entry[len - 1] == '*' ? len - 1 : len;

	for (i = 0; i < body && image_char(entry[i]); i++)
		;
	if (i < body || (body > 0 && !is_alnum(entry[0])))
		return lp_error_set(
		    err, LP_EINVAL,
		    "--build-images: \"%.*s\" is not an image reference or a prefix "
		    "ending in '*'",
		    (int)len, entry);
	for (i = 0; i < cfg->nallowed_images; i++)
		if (strlen(cfg->allowed_images[i]) == len &&
		    !strncmp(cfg->allowed_images[i], entry, len))
			return LP_OK;
	if (cfg->nallowed_images == LP_CONFIG_IMAGES_MAX)
		return lp_error_set(err, LP_EINVAL, "--build-images: more than %d entries",
		                    LP_CONFIG_IMAGES_MAX);
	if ((cfg->allowed_images[cfg->nallowed_images] = strndup(entry, len)) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	cfg->nallowed_images++;
	return LP_OK;
}

static int read_images(lp_config *cfg, lp_error *err)
{
	const char *p = cfg->build_images ? cfg->build_images : "";
	int rc;

	while (*p) {
		size_t len;

		p += strspn(p, ", ");
		len = strcspn(p, ", ");
		if (len && (rc = add_image(cfg, p, len, err)) != LP_OK)
			return rc;
		p += len;
	}
	return LP_OK;
}

/* The checks across settings, once every source is applied. */
static int validate(lp_config *cfg, lp_error *err)
{
	int rc;

	if (cfg->workers < 1)
		cfg->workers = 1;
	/* The instance id lands in label filters, container and router names: a DNS label. */
	if (!lp_names_dns_label(cfg->instance, LP_NAMES_INSTANCE_MAX))
		return lp_error_set(
		    err, LP_EINVAL,
		    "--instance: \"%s\" must be a DNS label of at most %d characters "
		    "(lowercase letters, digits and '-')",
		    cfg->instance, LP_NAMES_INSTANCE_MAX);
	if (strcmp(cfg->teardown_on_stop, "never") && strcmp(cfg->teardown_on_stop, "with-api"))
		return lp_error_set(err, LP_EINVAL,
		                    "--teardown-on-stop: \"%s\" is not never or with-api",
		                    cfg->teardown_on_stop);
	if (cfg->api_user && *cfg->api_user) {
		unsigned uid, gid;
		char extra;
		if (sscanf(cfg->api_user, "%u:%u%c", &uid, &gid, &extra) != 2)
			return lp_error_set(err, LP_EINVAL, "--api-user: \"%s\" is not uid:gid",
			                    cfg->api_user);
	}
	if (cfg->header_timeout < 1 || cfg->body_min_rate < 1 || cfg->revision_rate < 1 ||
	    cfg->session_ttl < 1)
		return lp_error_set(
		    err, LP_EINVAL,
		    "--header-timeout, --body-min-rate, --revision-rate and --session-ttl must "
		    "be at least 1");
	/* An upload is linked into place a moment before its revision is stored: never that close.
	 */
	if (cfg->archive_grace < 60)
		return lp_error_set(err, LP_EINVAL, "--archive-grace: %d is below 60 seconds",
		                    cfg->archive_grace);
	if (cfg->container_log_max_files < 1 || cfg->container_log_max_files > 100)
		return lp_error_set(err, LP_EINVAL, "--container-log-max-files: %d is not 1..100",
		                    cfg->container_log_max_files);
	if (cfg->http_port < 1 || cfg->http_port > 65535)
		return lp_error_set(err, LP_EINVAL, "--http-port: %d is not a TCP port",
		                    cfg->http_port);
	if ((rc = read_reserved(cfg, err)) != LP_OK)
		return rc;
	return read_images(cfg, err);
}

int lp_config_new(lp_config **out, char ***rest, int *nrest, int argc, char **argv, lp_error *err)
{
	lp_config *cfg = NULL;
	char **left = NULL;
	int rc, n = 0;

	*out = NULL;
	if (rest)
		*rest = NULL;
	if (nrest)
		*nrest = 0;
	cfg = calloc(1, sizeof(*cfg));
	left = calloc((size_t)(argc > 0 ? argc : 1) + 1, sizeof(char *));
	if (cfg == NULL || left == NULL) {
		rc = lp_error_set(err, LP_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = apply_environment(cfg, err)) != LP_OK ||
	    (rc = apply_flags(cfg, left, &n, argc, argv, err)) != LP_OK ||
	    (rc = validate(cfg, err)) != LP_OK)
		goto done;
	left[n] = NULL;
	*out = cfg;
	cfg = NULL;
	if (rest) {
		*rest = left;
		left = NULL;
	}
	if (nrest)
		*nrest = n;
done:
	lp_config_free(cfg);
	free(left);
	return rc;
}

void lp_config_free(lp_config *cfg)
{
	size_t k;

	if (cfg == NULL)
		return;
	for (k = 0; k < NSETTINGS; k++)
		if (settings[k].kind == K_STR)
			free(*(char **)((char *)cfg + settings[k].offset));
	for (k = 0; k < cfg->nreserved; k++)
		free(cfg->reserved[k]);
	for (k = 0; k < cfg->nallowed_images; k++)
		free(cfg->allowed_images[k]);
	free(cfg);
}

void lp_config_rest_free(char **rest)
{
	/* the strings are argv's; only the array is ours */
	free(rest);
}

void lp_config_usage(int fd)
{
	lp_config_usage_for(fd, 0);
}

static int in_scope(const struct setting *s, unsigned scope)
{
	return scope == 0 || s->scope == 0 || (s->scope & scope) != 0;
}

void lp_config_usage_for(int fd, unsigned scope)
{
	size_t k;

	for (k = 0; k < NSETTINGS; k++)
		if (in_scope(&settings[k], scope))
			dprintf(fd, "  --%-24s %-34s %s (default: %s)\n", settings[k].flag,
			        settings[k].env, settings[k].help,
			        settings[k].def ? settings[k].def : "unset");
}

/* The value of setting s in cfg as text, into buf when it is not a string already. */
static const char *value_text(char *buf, size_t n, const lp_config *cfg, const struct setting *s)
{
	const char *base = (const char *)cfg;

	switch (s->kind) {
	case K_STR: {
		const char *v = *(char *const *)(base + s->offset);
		return v == NULL ? "(unset)" : s->secret ? "(set)" : v;
	}
	case K_BOOL:
		return *(const int *)(base + s->offset) ? "true" : "false";
	case K_INT:
		if (lp_fmt(buf, n, "%d", *(const int *)(base + s->offset)) != LP_OK)
			return "?";
		return buf;
	case K_LOGFMT:
		return *(const lp_log_format *)(base + s->offset) == LP_LOG_JSON ? "json" : "text";
	case K_LOGLEVEL:
		return lp_log_level_name(*(const lp_log_level *)(base + s->offset));
	}
	return "?";
}

void lp_config_log(const lp_config *cfg, const char *component, unsigned scope)
{
	static const char *const from[] = {[LP_CONFIG_FROM_DEFAULT] = "default",
	                                   [LP_CONFIG_FROM_ENV] = "environment",
	                                   [LP_CONFIG_FROM_FLAG] = "flag"};
	char num[ORIGIN_MAX];
	size_t k;

	for (k = 0; k < NSETTINGS; k++) {
		if (settings[k].scope != 0 && !in_scope(&settings[k], scope))
			continue;
		if (cfg->from_[k] == LP_CONFIG_FROM_ENV)
			LP_INFO(component, "setting --%s=%s (from %s)", settings[k].flag,
			        value_text(num, sizeof(num), cfg, &settings[k]), settings[k].env);
		else
			LP_INFO(component, "setting --%s=%s (%s)", settings[k].flag,
			        value_text(num, sizeof(num), cfg, &settings[k]),
			        from[cfg->from_[k]]);
	}
}

int lp_config_name_reserved(const lp_config *cfg, const char *name)
{
	size_t i;

	/* "--" makes permalink and preview hosts (<site>--r<n>, <site>--pr-<n>): the platform's */
	if (strstr(name, LP_CONFIG_NAME_SEP) != NULL)
		return 1;
	for (i = 0; i < cfg->nreserved; i++)
		if (!strcmp(cfg->reserved[i], name))
			return 1;
	return 0;
}

/* The admin's list (--build-images), the one allow-list of build and app images. */
static int image_listed(const lp_config *cfg, const char *image)
{
	size_t i, len;

	for (i = 0; i < cfg->nallowed_images; i++) {
		const char *e = cfg->allowed_images[i];

		len = strlen(e);
		if (len > 0 && e[len - 1] == '*' ? !strncmp(image, e, len - 1) : !strcmp(image, e))
			return 1;
	}
	return 0;
}

int lp_config_build_image_allowed(const lp_config *cfg, const char *image)
{
	if (image == NULL || *image == '\0' ||
	    (cfg->build_image != NULL && !strcmp(image, cfg->build_image)))
		return 1;
	return image_listed(cfg, image);
}

int lp_config_app_image_allowed(const lp_config *cfg, const char *image)
{
	if (image == NULL || *image == '\0' ||
	    (cfg->app_image != NULL && !strcmp(image, cfg->app_image)))
		return 1;
	return image_listed(cfg, image);
}

int lp_config_domain_reserved(const lp_config *cfg, const char *domain)
{
	const char *base = cfg->base_domain ? cfg->base_domain : "", *host, *end;
	size_t dlen = strlen(domain), blen = strlen(base), hlen;

	if (blen > 0 && (!strcmp(domain, base) || (dlen > blen && domain[dlen - blen - 1] == '.' &&
	                                           !strcmp(domain + dlen - blen, base))))
		return 1;
	/* The API's own host, wherever it lives. */
	if (cfg->public_url == NULL || (host = strstr(cfg->public_url, "://")) == NULL)
		return 0;
	host += 3;
	end = host + strcspn(host, ":/?#");
	hlen = (size_t)(end - host);
	return hlen == dlen && !strncasecmp(host, domain, hlen);
}

int lp_config_cname_target(char *out, size_t outlen, const lp_config *cfg, const char *name,
                           lp_error *err)
{
	int rc = cfg->cname_target && *cfg->cname_target
	             ? lp_fmt(out, outlen, "%s", cfg->cname_target)
	             : lp_fmt(out, outlen, "%s.%s", name, cfg->base_domain);

	if (rc != LP_OK) {
		if (outlen > 0)
			out[0] = '\0';
		return lp_error_set(err, LP_ETOOBIG, "the CNAME target of site %s is too long",
		                    name);
	}
	return LP_OK;
}

int lp_config_site_url(char *out, size_t outlen, const lp_config *cfg, const char *name,
                       lp_error *err)
{
	char port[PORT_SUFFIX_MAX] = "";

	if ((cfg->http_port != 80 && lp_fmt(port, sizeof(port), ":%d", cfg->http_port) != LP_OK) ||
	    lp_fmt(out, outlen, "http://%s.%s%s", name, cfg->base_domain, port) != LP_OK) {
		if (outlen > 0)
			out[0] = '\0';
		return lp_error_set(err, LP_ETOOBIG, "the URL of site %s is too long", name);
	}
	return LP_OK;
}

int lp_config_revision_url(char *out, size_t outlen, const lp_config *cfg, const char *name, long n,
                           lp_error *err)
{
	char port[PORT_SUFFIX_MAX] = "";

	if ((cfg->http_port != 80 && lp_fmt(port, sizeof(port), ":%d", cfg->http_port) != LP_OK) ||
	    lp_fmt(out, outlen, "http://%s" LP_CONFIG_PERMALINK_SEP "%ld.%s%s", name, n,
	           cfg->base_domain, port) != LP_OK) {
		if (outlen > 0)
			out[0] = '\0';
		return lp_error_set(err, LP_ETOOBIG, "the permalink of %s revision %ld is too long",
		                    name, n);
	}
	return LP_OK;
}
