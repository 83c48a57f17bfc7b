/*
 * spec.h: the Site resource: parse (YAML or JSON), validate, default, canonicalise and hash.
 *
 * A manifest is read into an lp_site (one struct whatever the input format). Parsing validates
 * everything at once: each problem becomes an lp_spec_diag {path, line, column, message} appended
 * to a caller-owned lp_spec_diags list (init it, pass it in, release it). Positions are 1-based; 0
 * means unknown (input given as a cJSON tree has none). Defaults are filled in, so a parsed lp_site
 * is complete; the canonical JSON/YAML forms and the spec hash are computed from it.
 *
 * Ownership: an lp_site and every string in it belong to whoever received it through **out; free it
 * with lp_site_free(). An lp_site_list owns its sites: lp_site_list_release(). Strings returned
 * through char **out are malloc'd and the caller free()s them. On failure nothing is handed back.
 */
#ifndef LAUNCHPAD_SPEC_H
#define LAUNCHPAD_SPEC_H

#include <stddef.h>

#include "launchpad/crypto.h"
#include "launchpad/error.h"

struct cJSON;

#define LP_SPEC_API_VERSION "launchpad.dev/v1"
#define LP_SPEC_KIND        "Site"

/* Caps on the input as a whole. */
#define LP_SPEC_MAX_INPUT     ((size_t)1 << 20) /* bytes of one manifest file or body */
#define LP_SPEC_MAX_DOCUMENTS 100               /* YAML documents in one stream */
#define LP_SPEC_MAX_DEPTH     16                /* nesting of mappings/sequences */
#define LP_SPEC_MAX_NODES     20000             /* YAML/JSON nodes in one stream */
#define LP_SPEC_MAX_SCALAR    65536             /* bytes of any one scalar */
#define LP_SPEC_MAX_DIAGS     100               /* diagnostics kept; the rest are counted */

/* Caps and defaults of the fields (docs/site-spec.md is the reference). */
#define LP_SITE_NAME_MAX             63
#define LP_SITE_URL_MAX              2048
#define LP_SITE_BRANCH_MAX           255
#define LP_SITE_IMAGE_MAX            512
#define LP_SITE_COMMAND_MAX          8192
#define LP_SITE_PATH_MAX             1024 /* outputDir */
#define LP_SITE_PAGE_MAX             255  /* notFoundPage: the nginx config renderer's cap */
#define LP_SITE_ENV_MAX              100
#define LP_SITE_ENV_NAME_MAX         256
#define LP_SITE_ENV_VALUE_MAX        4096
#define LP_SITE_SEALED_MAX           8192 /* a sealed secret's text, a fingerprint's */
#define LP_SITE_TIMEOUT_MIN          1
#define LP_SITE_TIMEOUT_MAX          7200
#define LP_SITE_HISTORY_MIN          1
#define LP_SITE_HISTORY_MAX          100
#define LP_SITE_REPLICAS_MIN         1
#define LP_SITE_REPLICAS_MAX         5
#define LP_SITE_DEFAULT_BRANCH       "main"
#define LP_SITE_DEFAULT_OUTPUT_DIR   "dist"
#define LP_SITE_DEFAULT_TIMEOUT      900
#define LP_SITE_DEFAULT_HISTORY      5
#define LP_SITE_DEFAULT_REPLICAS     1
#define LP_SITE_DOMAINS_MAX          10  /* spec.domains entries */
#define LP_SITE_DOMAIN_MAX           253 /* bytes of one DNS name (RFC 1035) */
#define LP_SITE_PREVIEW_BRANCHES_MAX 20  /* previews.branches patterns */
#define LP_SITE_PREVIEWS_MIN         1
#define LP_SITE_PREVIEWS_MAX         50 /* previews.max: live previews of one site */
#define LP_SITE_DEFAULT_PREVIEWS     5
/* spec.run (docs/apps.md) */
#define LP_SITE_RUN_ENV_MAX             64
#define LP_SITE_PORT_MIN                1
#define LP_SITE_PORT_MAX                65535
#define LP_SITE_HEALTH_PATH_MAX         1024
#define LP_SITE_HEALTH_INTERVAL_MIN     1
#define LP_SITE_HEALTH_INTERVAL_MAX     60
#define LP_SITE_HEALTH_TIMEOUT_MIN      1
#define LP_SITE_HEALTH_TIMEOUT_MAX      30
#define LP_SITE_HEALTH_START_MIN        1
#define LP_SITE_HEALTH_START_MAX        600
#define LP_SITE_MEMORY_MIB_MIN          32
#define LP_SITE_MEMORY_MIB_MAX          4096
#define LP_SITE_MILLICPUS_MIN           100  /* resources.cpus 0.1 */
#define LP_SITE_MILLICPUS_MAX           4000 /* resources.cpus 4 */
#define LP_SITE_DEFAULT_HEALTH_PATH     "/"
#define LP_SITE_DEFAULT_HEALTH_INTERVAL 2
#define LP_SITE_DEFAULT_HEALTH_TIMEOUT  2
#define LP_SITE_DEFAULT_HEALTH_START    60
#define LP_SITE_DEFAULT_MEMORY_MIB      256
#define LP_SITE_DEFAULT_MILLICPUS       500
/* The variable the platform sets to run.port; names starting with the prefix are its own. */
#define LP_SITE_RUN_PORT_VAR        "PORT"
#define LP_SITE_RESERVED_ENV_PREFIX "LAUNCHPAD_"

typedef enum lp_source_kind {
	LP_SOURCE_NONE = 0,
	LP_SOURCE_GIT = 1,
	LP_SOURCE_ARCHIVE = 2
} lp_source_kind;

/*
 * A build variable. A plain one is a string (value). A secret is the object form
 * {value: "...", secret: true} on the way in; at rest (what the store keeps) it is
 * {secret: true, sealed: "lpsec1:<key>:<base64>", fingerprint: "<hex>"}, its value NULL: the
 * apiserver seals it, only the controller opens it (launchpad/secrets.h), for the build.
 */
typedef struct lp_env_var {
	char *name;
	char *value; /* a secret's clear value only while one is in hand, else NULL */
	int secret;
	char *sealed;      /* a secret at rest; NULL until sealed */
	char *fingerprint; /* keyed hash of (site, name, value): the spec hash sees changes by it */
} lp_env_var;

/* What responses show instead of a secret's value. */
#define LP_SECRET_MASK "***"

typedef struct lp_site {
	char *name; /* metadata.name */

	lp_source_kind source_kind;
	char *git_url;        /* LP_SOURCE_GIT */
	char *git_branch;     /* LP_SOURCE_GIT; default "main" */
	char *archive_digest; /* LP_SOURCE_ARCHIVE: "sha256:<64 hex>" */

	int has_build;          /* spec.build present */
	char *build_image;      /* NULL: the platform's configured build image */
	char *build_command;    /* set when has_build */
	char *build_output_dir; /* set when has_build; default "dist" */
	lp_env_var *build_env;  /* sorted by name (byte order), names unique */
	size_t build_env_count;
	int build_timeout_seconds; /* default 900 */

	int auto_deploy;            /* default 0 */
	int serve_spa;              /* default 0 */
	char *serve_not_found_page; /* NULL: unset */
	char *serve_redirects;    /* `_redirects` syntax, applied before the file's; NULL: unset */
	char *serve_headers;      /* `_headers` syntax, applied before the file's; NULL: unset */
	int serve_https_redirect; /* default 0: the edge answers http:// with a redirect to https */
	int serve_hsts;           /* default 0: HTTPS answers carry Strict-Transport-Security */
	int serve_replicas;       /* serve containers, default 1; 0 (a struct built in code) is 1 */
	/* spec.domains: lowercase DNS names the site also answers on, in the order written;
	 * unique; "*.example.com" only with lp_spec_options.allow_wildcard_domains */
	char **domains;
	size_t domain_count;
	int revision_history_limit; /* default 5 */

	/*
	 * spec.previews (docs/previews.md). Absent: has_previews 0 and the canonical form has no
	 * previews member, so specs written before it keep their hash.
	 */
	int has_previews;
	int previews_pull_requests; /* pull_request webhooks build <name>--pr-<n>; default 0 */
	char **previews_branches;   /* glob patterns ('*'), in the order given */
	size_t previews_branch_count;
	int previews_fork_env; /* a fork's PR builds with build.env; default 0 (without) */
	int previews_max;      /* live previews kept, oldest removed first; default 5 */

	/*
	 * spec.run (docs/apps.md): the published revision runs as an app container in place of
	 * nginx. Absent: has_run 0 and the canonical form has no run member (old hashes hold).
	 */
	int has_run;
	char *run_command;               /* `sh -c` in /app */
	int run_port;                    /* 1..65535, required; the app gets it as PORT */
	char *run_image;                 /* NULL: the platform's --app-image */
	char *run_health_path;           /* starts with '/'; default "/" */
	int run_health_interval_seconds; /* default 2 */
	int run_health_timeout_seconds;  /* default 2 */
	int run_health_start_seconds;    /* a new revision's time to become healthy; default 60 */
	lp_env_var *run_env; /* plain values only, sorted by name, unique; not PORT, LAUNCHPAD_* */
	size_t run_env_count;
	int run_memory_mib; /* default 256 */
	int run_millicpus;  /* resources.cpus * 1000; default 500 */
} lp_site;

typedef struct lp_site_list {
	lp_site **items;
	size_t count;
} lp_site_list;

typedef struct lp_spec_options {
	int allow_insecure_sources; /* accept http:// and file:// Git URLs */
	int allow_wildcard_domains; /* accept "*.example.com" in spec.domains */
} lp_spec_options;

#define LP_SPEC_DIAG_PATH_MAX    320
#define LP_SPEC_DIAG_MESSAGE_MAX 512

typedef struct lp_spec_diag {
	char path[LP_SPEC_DIAG_PATH_MAX];       /* "spec.build.env.FOO"; "" for the whole input */
	int line;                               /* 1-based; 0 = unknown */
	int column;                             /* 1-based; 0 = unknown */
	int document;                           /* 1-based YAML document index; 0 = unknown */
	char message[LP_SPEC_DIAG_MESSAGE_MAX]; /* "unknown field \"comand\" (did you mean ...)" */
} lp_spec_diag;

typedef struct lp_spec_diags {
	lp_spec_diag *items;
	size_t count;
	size_t cap;
	size_t dropped; /* diagnostics past LP_SPEC_MAX_DIAGS, counted but not kept */
} lp_spec_diags;

void lp_spec_diags_init(lp_spec_diags *d);
void lp_spec_diags_release(lp_spec_diags *d);
/* Append one diagnostic (printf-style message). Returns LP_OK or LP_ENOMEM. */
int lp_spec_diags_add(lp_spec_diags *d, const char *path, int line, int column, const char *fmt,
                      ...) __attribute__((format(printf, 5, 6))) LP_MUST_CHECK;
/*
 * One line per diagnostic, "FILE:LINE:COLUMN: path: message\n" (unknown positions print as 1:1; an
 * empty path is left out), plus "FILE: N more errors not shown\n" when some were dropped.
 */
int lp_spec_diags_format(char **out, const lp_spec_diags *d, const char *filename,
                         lp_error *err) LP_MUST_CHECK;
/* The diagnostics as a JSON array of {path, line, column, message} (for API error details). */
int lp_spec_diags_to_cjson(struct cJSON **out, const lp_spec_diags *d, lp_error *err) LP_MUST_CHECK;

/*
 * Parse a manifest: JSON when its first non-space byte is '{', YAML otherwise (a multi-document
 * stream yields several sites; empty documents are skipped; site names must be unique). Returns
 * LP_OK with every site in *out, or LP_EINVAL (LP_ETOOBIG for oversized input) with at least one
 * diagnostic in diags and *out left empty. opts may be NULL (defaults: all off).
 */
int lp_spec_parse(lp_site_list *out, const char *data, size_t len, const lp_spec_options *opts,
                  lp_spec_diags *diags, lp_error *err) LP_MUST_CHECK;
/*
 * One JSON object. Syntax errors carry their line:column. A NUL byte, raw or escaped (\u0000,
 * where cJSON's copy of a string stops), and invalid UTF-8 are errors in any key or value.
 */
int lp_spec_parse_json(lp_site **out, const char *data, size_t len, const lp_spec_options *opts,
                       lp_spec_diags *diags, lp_error *err) LP_MUST_CHECK;
/*
 * An already-parsed JSON object (e.g. an API request body); diagnostics have no positions. cJSON
 * has already cut every string at an escaped NUL, so a caller holding the text checks it first
 * (or uses lp_spec_parse_json); invalid UTF-8 is still caught here.
 */
int lp_spec_from_cjson(lp_site **out, const struct cJSON *obj, const lp_spec_options *opts,
                       lp_spec_diags *diags, lp_error *err) LP_MUST_CHECK;
/* Validate a struct built in code (e.g. from the seed API's fields); paths as in a manifest. */
int lp_site_validate(const lp_site *site, const lp_spec_options *opts, lp_spec_diags *diags,
                     lp_error *err) LP_MUST_CHECK;

/* Individual rules, for callers that check one value (URL path segments, upload digests). */
int lp_spec_check_name(const char *name, lp_error *err) LP_MUST_CHECK;
int lp_spec_check_digest(const char *digest, lp_error *err) LP_MUST_CHECK;
/*
 * A name's syntax is the spec's; which names an installation keeps for its own hosts is its
 * admin's (lp_config_name_reserved, checked by the API when a site is created).
 */

/* Canonical JSON: fixed key order, defaults filled, no whitespace. Same site => same bytes. */
int lp_site_to_json(char **out, const lp_site *site, lp_error *err) LP_MUST_CHECK;
/* The same document as a cJSON tree (add status to it before printing, if wanted). */
int lp_site_to_cjson(struct cJSON **out, const lp_site *site, lp_error *err) LP_MUST_CHECK;
/* Canonical YAML (block style, fixed key order); re-parses to an equal lp_site. */
int lp_site_to_yaml(char **out, const lp_site *site, lp_error *err) LP_MUST_CHECK;
/* Several sites as one multi-document YAML stream ("---" between documents). */
int lp_site_list_to_yaml(char **out, const lp_site_list *list, lp_error *err) LP_MUST_CHECK;
/*
 * SHA-256 (lowercase hex) of the canonical JSON of the spec alone: metadata (the name) and status
 * do not count, so it changes iff the spec changes. A secret counts by its fingerprint, never by
 * its value or its sealed form (a fresh nonce each time, and a key rotation, change nothing).
 */
int lp_site_spec_hash(char out[LP_SHA256_HEX_LEN], const lp_site *site,
                      lp_error *err) LP_MUST_CHECK;

/* 1 when branch matches one of spec.previews.branches (fnmatch globs; '*' spans '/'). */
int lp_site_preview_branch(const lp_site *site, const char *branch);

/*
 * The spec hash without the fields only the edge reads (domains, serve.httpsRedirect,
 * serve.hsts): two specs with the same build hash build the same revision, so a change of those
 * fields alone asks for no new build.
 */
int lp_site_build_hash(char out[LP_SHA256_HEX_LEN], const lp_site *site,
                       lp_error *err) LP_MUST_CHECK;

/* Deep copy. */
int lp_site_dup(lp_site **out, const lp_site *site, lp_error *err) LP_MUST_CHECK;
void lp_site_free(lp_site *site);
/* Free what var holds (a secret's value is wiped first) and zero it. */
void lp_env_var_release(lp_env_var *var);
void lp_site_list_release(lp_site_list *list);

#endif
