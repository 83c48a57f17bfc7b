/*
 * config.h: settings shared by every binary, from LAUNCHPAD_* variables and command-line flags.
 *
 * lp_config_new() starts from the defaults, applies the environment, then the flags (a flag wins),
 * and hands back the arguments it did not recognise so each binary can parse its own. The returned
 * lp_config and every string in it belong to the caller: free it with lp_config_free().
 */
#ifndef LAUNCHPAD_CONFIG_H
#define LAUNCHPAD_CONFIG_H

#include "launchpad/error.h"
#include "launchpad/log.h"

#define LP_CONFIG_RESERVED_MAX 64 /* names in --reserved-names, with the derived one */
#define LP_CONFIG_SETTINGS_MAX 64 /* rows of the settings table */
#define LP_CONFIG_IMAGES_MAX   64 /* entries of --build-images */

typedef struct lp_config {
	char *data_dir;      /* --data-dir, LAUNCHPAD_DATA_DIR, /srv/launchpad */
	char *listen;        /* --listen, LAUNCHPAD_LISTEN, 127.0.0.1:8080 */
	char *docker_socket; /* --docker-socket, LAUNCHPAD_DOCKER_SOCKET, /var/run/docker.sock */
	char *instance;      /* --instance, LAUNCHPAD_INSTANCE, default */
	char *base_domain;   /* --base-domain, LAUNCHPAD_BASE_DOMAIN, localhost */
	char *public_url;    /* --public-url, LAUNCHPAD_PUBLIC_URL, http://localhost:8080 */
	char *serve_image;   /* --serve-image, LAUNCHPAD_SERVE_IMAGE, nginx:alpine */
	char *build_image;   /* --build-image, LAUNCHPAD_BUILD_IMAGE, node:20-alpine */
	char *app_image;     /* --app-image, LAUNCHPAD_APP_IMAGE, node:20-alpine (spec.run) */
	char *probe_path;    /* --probe-path, LAUNCHPAD_PROBE_PATH, unset: beside the controller */
	int allow_insecure_sources; /* --allow-insecure-sources, LAUNCHPAD_ALLOW_INSECURE_SOURCES */
	lp_log_format log_format;   /* --log-format, LAUNCHPAD_LOG_FORMAT, text */
	lp_log_level log_level;     /* --log-level, LAUNCHPAD_LOG_LEVEL, info */
	char *server;               /* --server, LAUNCHPAD_SERVER (CLI), http://127.0.0.1:8080 */
	char *token;                /* --token, LAUNCHPAD_TOKEN (CLI), unset */
	int workers;                /* --workers, LAUNCHPAD_WORKERS, 2 */
	int resync_seconds;         /* --resync-seconds, LAUNCHPAD_RESYNC_SECONDS, 60 */
	char *cors_origins; /* --cors-origins, LAUNCHPAD_CORS_ORIGINS, comma list, unset = none */
	int metrics_auth;   /* --metrics-auth, LAUNCHPAD_METRICS_AUTH, false: /metrics is open */
	int upload_max_mb;  /* --upload-max-mb, LAUNCHPAD_UPLOAD_MAX_MB, 200 */
	/* --build-timeout-max, LAUNCHPAD_BUILD_TIMEOUT_MAX, 3600 (seconds) */
	int build_timeout_max;
	/* --http-port, LAUNCHPAD_HTTP_PORT, 80: the edge's port, in site URLs when not 80 */
	int http_port;
	/* --sites-network, LAUNCHPAD_SITES_NETWORK, unset: derived from the instance */
	char *sites_network;
	/* --traefik-api, LAUNCHPAD_TRAEFIK_API, unset: a drain period stands in for asking it */
	char *traefik_api;
	/* --metrics-interval-seconds, LAUNCHPAD_METRICS_INTERVAL_SECONDS, 15 (0: no scrape) */
	int metrics_interval_seconds;
	/* --controller-metrics-port, LAUNCHPAD_CONTROLLER_METRICS_PORT, 0: not served */
	int controller_metrics_port;
	/* --metrics-retention-days, LAUNCHPAD_METRICS_RETENTION_DAYS, 7 */
	int metrics_retention_days;
	/* --swap-drain-ms, LAUNCHPAD_SWAP_DRAIN_MS, 3000 */
	int swap_drain_ms;
	/* --host-isolation, LAUNCHPAD_HOST_ISOLATION, true: firewall the networks off the host */
	int host_isolation;
	/* --api-user, LAUNCHPAD_API_USER, unset: "uid:gid" of an unprivileged apiserver */
	char *api_user;
	/* --teardown-on-stop, LAUNCHPAD_TEARDOWN_ON_STOP: never (default) or with-api */
	char *teardown_on_stop;
	/* --dashboard-dir, LAUNCHPAD_DASHBOARD_DIR, unset: the built dashboard served at / */
	char *dashboard_dir;
	/* --reserved-names, LAUNCHPAD_RESERVED_NAMES, api,traefik: as read, see reserved below */
	char *reserved_names;
	/* --build-images, LAUNCHPAD_BUILD_IMAGES, unset: as read, see allowed_images below */
	char *build_images;
	/*
	 * --header-timeout, LAUNCHPAD_HEADER_TIMEOUT, 10 (seconds): a request's headers must be in
	 * this long after the connection (or the previous answer on a kept-alive one) began; a body
	 * gets as long again plus its size at --body-min-rate.
	 */
	int header_timeout;
	int body_min_rate; /* --body-min-rate, LAUNCHPAD_BODY_MIN_RATE, 32 (KiB/s) */
	/* --revision-burst, LAUNCHPAD_REVISION_BURST, 20: revision requests a site may make at once
	 * (redeploy, webhook, upload); 0: no limit */
	int revision_burst;
	/* --revision-rate, LAUNCHPAD_REVISION_RATE, 30: how many a minute come back after that */
	int revision_rate;
	/* --session-ttl, LAUNCHPAD_SESSION_TTL, 43200 (seconds): a login session's life */
	int session_ttl;
	/* --master-key-file, LAUNCHPAD_MASTER_KEY_FILE, "" (<data-dir>/master.key) */
	char *master_key_file;
	/* --archive-grace, LAUNCHPAD_ARCHIVE_GRACE, 3600 (seconds): an upload no revision names
	 * stays this long before the controller's gc removes it */
	int archive_grace;
	/* --build-workspace-max-mb, LAUNCHPAD_BUILD_WORKSPACE_MAX_MB, 2048 (0: no cap) */
	int build_workspace_max_mb;
	/* --build-cache-max-mb, LAUNCHPAD_BUILD_CACHE_MAX_MB, 1024: one site's cache (0: no cap) */
	int build_cache_max_mb;
	/* --build-cache-total-mb, LAUNCHPAD_BUILD_CACHE_TOTAL_MB, 10240: every cache (0: no cap) */
	int build_cache_total_mb;
	/* --min-free-mb, LAUNCHPAD_MIN_FREE_MB, 1024: builds wait below it (0: never) */
	int min_free_mb;
	/* --container-log-max-size, LAUNCHPAD_CONTAINER_LOG_MAX_SIZE, 10m (json-file max-size) */
	char *container_log_max_size;
	/* --container-log-max-files, LAUNCHPAD_CONTAINER_LOG_MAX_FILES, 3 (json-file max-file) */
	int container_log_max_files;
	/* --allow-wildcard-domains, LAUNCHPAD_ALLOW_WILDCARD_DOMAINS, false */
	int allow_wildcard_domains;
	/* --cname-target, LAUNCHPAD_CNAME_TARGET, unset: <name>.<base-domain> */
	char *cname_target;
	/* --https, LAUNCHPAD_HTTPS, false: the edge has a websecure entrypoint */
	int https;
	/* --https-port, LAUNCHPAD_HTTPS_PORT, 443 */
	int https_port;
	/* --cert-resolver, LAUNCHPAD_CERT_RESOLVER, unset: the edge's default certificate */
	char *cert_resolver;
	/* --git-allow-hosts, LAUNCHPAD_GIT_ALLOW_HOSTS, unset: hosts, IPs, CIDRs exempt from the
	 * internal-address refusal of Git fetches */
	char *git_allow_hosts;

	/* Derived: the names no new site may take (lp_config_name_reserved), owned here. */
	char *reserved[LP_CONFIG_RESERVED_MAX];
	size_t nreserved;
	/* Derived: the images a spec's build.image may name beside --build-image, owned here. */
	char *allowed_images[LP_CONFIG_IMAGES_MAX];
	size_t nallowed_images;
	/* Private to config.c: where each setting came from, for lp_config_log. */
	unsigned char from_[LP_CONFIG_SETTINGS_MAX];
} lp_config;

enum { LP_CONFIG_FROM_DEFAULT, LP_CONFIG_FROM_ENV, LP_CONFIG_FROM_FLAG };

/* The programs a setting is for (lp_config_usage_for, lp_config_log); 0 means all of them. */
#define LP_CONFIG_FOR_API        1u
#define LP_CONFIG_FOR_CONTROLLER 2u
#define LP_CONFIG_FOR_CLI        4u

/*
 * Build a config from defaults, the environment and argv[1..argc-1]. Flags are `--name value` or
 * `--name=value` (booleans: `--name`, `--name=false`). Unrecognised arguments are copied, in order,
 * into *rest (a NULL-terminated array the caller frees with lp_config_rest_free) and counted in
 * *nrest. A bad value fails with LP_EINVAL naming the flag or variable.
 */
int lp_config_new(lp_config **out, char ***rest, int *nrest, int argc, char **argv,
                  lp_error *err) LP_MUST_CHECK;
void lp_config_free(lp_config *cfg);
void lp_config_rest_free(char **rest);

/* Print the shared flags with their variables and defaults (for --help). */
void lp_config_usage(int fd);
/* The same, only the flags of the programs in scope (LP_CONFIG_FOR_*; 0: every flag). */
void lp_config_usage_for(int fd, unsigned scope);

/*
 * Log the effective settings the programs in scope read, one info line each with where the value
 * came from (default, flag or variable); secrets show as "(set)". For a daemon's start-up.
 */
void lp_config_log(const lp_config *cfg, const char *component, unsigned scope);

/*
 * 1 when no new site may be called name on this installation (--reserved-names, derived), or
 * when it holds "--": names with it are made by the platform only (previews, permalinks).
 */
#define LP_CONFIG_NAME_SEP "--"
int lp_config_name_reserved(const lp_config *cfg, const char *name);

/*
 * 1 when a spec may build with image (spec.build.image as written; NULL or "" is the platform's
 * --build-image). Allowed: --build-image itself, and what --build-images names, each entry the
 * image as written or, ending in '*', a prefix ("node:*"; "*" alone allows every image). Any
 * image runs code on the engine, so the default admits only --build-image.
 */
int lp_config_build_image_allowed(const lp_config *cfg, const char *image);
/* The same for spec.run.image: --app-image itself, or what --build-images names. */
int lp_config_app_image_allowed(const lp_config *cfg, const char *image);

/*
 * 1 when no site may claim domain in spec.domains: the base domain and every name under it (the
 * sites' own hosts: <name>.<base-domain> is the site called name) and the API's public host.
 */
int lp_config_domain_reserved(const lp_config *cfg, const char *domain);

/*
 * The host a custom domain of site name points its DNS CNAME at: --cname-target when set (a
 * tunnel's or load balancer's name), else "<name>.<base-domain>". LP_ETOOBIG when it does not fit.
 */
int lp_config_cname_target(char *out, size_t outlen, const lp_config *cfg, const char *name,
                           lp_error *err) LP_MUST_CHECK;

/*
 * The URL a site answers at through the edge: "http://<name>.<base-domain>", with ":<http-port>"
 * when the port is not 80. LP_ETOOBIG when it does not fit in outlen bytes.
 */
int lp_config_site_url(char *out, size_t outlen, const lp_config *cfg, const char *name,
                       lp_error *err) LP_MUST_CHECK;

/*
 * Host names a site's serve container answers besides its own: revision n's permalink
 * "<name>--r<n>" (docs/previews.md). Previews are sites named "<name>--pr-<n>" and
 * "<name>--<branch-slug>", which a branch slug never makes look like a permalink.
 */
#define LP_CONFIG_PERMALINK_SEP "--r"

/*
 * Revision n's permalink: "http://<name>--r<n>.<base-domain>" with the port as in
 * lp_config_site_url. LP_ETOOBIG when it does not fit in outlen bytes.
 */
int lp_config_revision_url(char *out, size_t outlen, const lp_config *cfg, const char *name, long n,
                           lp_error *err) LP_MUST_CHECK;

#endif
