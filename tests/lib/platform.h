/*
 * platform.h: run the real LaunchPad platform (launchpad-apiserver + launchpad-controller against
 * the real Docker engine) for an end-to-end test, and talk to it.
 *
 * lp_test_platform_start() makes a temp root (<root>/data is the data dir), picks a unique
 * instance id, spawns both daemons from lp_test_bin_path() (output in <root>/apiserver.log and
 * <root>/controller.log), learns the API port from the apiserver's `listening on http://...`
 * line and reads the admin token from <data>/admin.token. The daemons get: LAUNCHPAD_DATA_DIR,
 * LAUNCHPAD_INSTANCE, LAUNCHPAD_SERVE_IMAGE ($LAUNCHPAD_TEST_SERVE_IMAGE or
 * launchpad-test/nginx:local), LAUNCHPAD_BUILD_IMAGE ($LAUNCHPAD_TEST_BUILD_IMAGE or
 * launchpad-test/node:local), LAUNCHPAD_ALLOW_INSECURE_SOURCES=true (file:// and http:// Git URLs),
 * LAUNCHPAD_PUBLIC_URL (opts->public_url or a placeholder); opts->env entries override any of
 * these; the rest of the environment is inherited.
 *
 * lp_test_platform_free() stops both daemons (SIGTERM, SIGKILL after 20 s), then removes every
 * container labelled launchpad.instance=<id>, the instance's networks and the temp root.
 * The caller owns the platform; free(NULL) is a no-op. Set LAUNCHPAD_TEST_KEEP=1 to keep the
 * temp root (its path is printed) for a post-mortem.
 *
 * Every helper returns an lp_code and fills err with what it saw last, so a failing test can say
 * why (ck_assert_msg(rc == LP_OK, "%s", err.message)). Every wait is bounded.
 * Functions here may be called from one thread at a time per platform.
 */
#ifndef LAUNCHPAD_TEST_PLATFORM_H
#define LAUNCHPAD_TEST_PLATFORM_H

#include <stddef.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "launchpad/buf.h"
#include "launchpad/error.h"

typedef struct lp_test_platform_options {
	const char *public_url; /* LAUNCHPAD_PUBLIC_URL; NULL: http://launchpad-e2e.invalid */
	const char *const *env; /* "K=V" for both daemons (these win), NULL-terminated or NULL */
	int no_controller;      /* 1: start the apiserver only */
	int edge;               /* 1: also start the instance's Traefik (scripts/edge.sh) first */
	/*
	 * With edge: a websecure entrypoint too (LAUNCHPAD_HTTPS=true for the edge and the
	 * daemons) whose default certificate is tls_cert/tls_key (PEM files; NULL: Traefik's own).
	 */
	int https;
	const char *tls_cert;
	const char *tls_key;
} lp_test_platform_options;

typedef struct lp_test_platform {
	char root[1024];     /* temp root (logs, scratch files); removed by _free */
	char data_dir[1100]; /* <root>/data */
	char instance[48];   /* LAUNCHPAD_INSTANCE, unique per start */
	char url[64];        /* "http://127.0.0.1:PORT" of the apiserver */
	char token[256];     /* the admin bearer token */
	char serve_image[256];
	char build_image[256];
	char edge_http[64];   /* "127.0.0.1:PORT" of Traefik's web entrypoint; "" without edge */
	char edge_api[64];    /* "127.0.0.1:PORT" of Traefik's API */
	char edge_https[64];  /* "127.0.0.1:PORT" of its websecure entrypoint; "" without https */
	pid_t apiserver_pid;  /* 0 when not running */
	pid_t controller_pid; /* 0 when not running */
	int apiserver_status; /* waitpid status once stopped, else -1 */
	int controller_status;
	/* private */
	char **env;               /* the daemons' environment, for respawns */
	struct lp_docker *docker; /* for container inspection */
	pid_t reaper_pid;         /* cleans up if this process dies without _free */
	int reaper_fd;            /* write end of the reaper's pipe */
} lp_test_platform;

/* An HTTP answer. body is always NUL-terminated; json is its parse (NULL if not JSON). */
typedef struct lp_test_http_resp {
	long status; /* HTTP status, 0 when the request failed */
	char *body;
	size_t len;
	cJSON *json;
} lp_test_http_resp;

/* Start both daemons; returns once the API answers /readyz and the admin token exists. */
int lp_test_platform_start(lp_test_platform **out, const lp_test_platform_options *opts,
                           lp_error *err);

/*
 * SIGTERM both daemons and wait up to timeout_ms (<= 0: 20 s) for them, then SIGKILL. Returns
 * LP_OK when both exited on their own with status 0; err says otherwise. Idempotent.
 */
int lp_test_platform_stop(lp_test_platform *p, int timeout_ms, lp_error *err);

/*
 * Stop the controller (SIGTERM, waited for; the sites keep serving) and start it again with env
 * ("K=V", NULL-terminated, may be NULL) winning over the platform's settings: an upgrade, say a
 * new LAUNCHPAD_SERVE_IMAGE. LP_OK once the new one runs.
 */
int lp_test_platform_restart_controller(lp_test_platform *p, const char *const *env, lp_error *err);
/* The two daemons of a platform, for the chaos helpers below. */
typedef enum lp_test_daemon {
	LP_TEST_APISERVER,
	LP_TEST_CONTROLLER,
} lp_test_daemon;

/*
 * Chaos: SIGKILL one daemon and reap it; it stays down (pid 0) until lp_test_platform_respawn.
 * LP_ENOTFOUND when it was not running; LP_ERROR when it had already exited on its own (a crash,
 * not a kill: err carries its wait status) -- it is reaped and down all the same.
 */
int lp_test_platform_kill(lp_test_platform *p, lp_test_daemon which, lp_error *err);

/*
 * Start a stopped daemon again with the environment it was first started with. The apiserver gets
 * a new free port (its old one may have been taken meanwhile): p->url changes, and this returns
 * once /readyz answers there. LP_EEXISTS when the daemon is running.
 */
int lp_test_platform_respawn(lp_test_platform *p, lp_test_daemon which, lp_error *err);

/* 1 (reaped, status in *out_status) when the daemon exited without being stopped; else 0. */
int lp_test_platform_exited(lp_test_platform *p, lp_test_daemon which, int *out_status);

/*
 * Restart the machine's Docker engine: SIGTERM the one dockerd (refused when there are several:
 * a second engine beside ours), wait up to 30 s for it to end, then scripts/test-env.sh up starts
 * it again and waits for it. It stops every container on the engine, other tests' too: only for
 * suites that own the engine (check_controller's restart case; the chaos suite with
 * LP_CHAOS_DOCKERD_RESTART=1, as CI runs it).
 */
int lp_test_dockerd_restart(lp_error *err);

/* Stop (if needed), remove the instance's containers, networks and temp root, free. */
void lp_test_platform_free(lp_test_platform *p);

/* Print the last max_bytes of each daemon's log to stderr (call it when a test fails). */
void lp_test_platform_dump_logs(const lp_test_platform *p, size_t max_bytes);

/* "<root>/<rel>" / "<data>/<rel>", malloc'd. */
char *lp_test_platform_path(const lp_test_platform *p, const char *rel);
char *lp_test_platform_data_path(const lp_test_platform *p, const char *rel);

/* Release a response's storage (not the struct). NULL is a no-op. */
void lp_test_http_resp_release(lp_test_http_resp *r);

/*
 * One HTTP request to any URL. body may be NULL (len ignored); content_type NULL: none; token
 * NULL: no Authorization; headers: extra "Name: value" lines, NULL-terminated, may be NULL.
 * A transport failure returns an error (out->status 0); any HTTP status is LP_OK. 60 s timeout.
 */
int lp_test_http_request(lp_test_http_resp *out, const char *method, const char *url,
                         const char *body, size_t len, const char *content_type, const char *token,
                         const char *const *headers, lp_error *err);

/* A request to the platform's API with the admin token: path like "/api/deployments". */
int lp_test_platform_api(lp_test_http_resp *out, lp_test_platform *p, const char *method,
                         const char *path, const char *json_body, lp_error *err);

/*
 * GET path of p's API with p's token and append the whole body to out until the server ends it
 * (a Server-Sent Events log: the stream ends with the revision) or timeout_s passes. *out_status
 * gets the HTTP status. LP_OK when the transfer completed; a timeout is an error.
 */
int lp_test_platform_stream(lp_buf *out, long *out_status, lp_test_platform *p, const char *path,
                            long timeout_s, lp_error *err);

/*
 * multipart/form-data POST to path with the admin token: fields are name, value pairs
 * (NULL-terminated, may be NULL) and, when file_path is set, a part "file" with that file's bytes.
 */
int lp_test_platform_upload(lp_test_http_resp *out, lp_test_platform *p, const char *path,
                            const char *const *fields, const char *file_path, lp_error *err);

/*
 * The same multipart POST to any URL with token (NULL: none), its upload paced to
 * max_bytes_per_s (<= 0: unpaced): a slow upload a test can kill the apiserver in the middle of.
 * Safe to call from another thread than the platform's (it reads no platform state).
 */
int lp_test_http_upload(lp_test_http_resp *out, const char *url, const char *token,
                        const char *const *fields, const char *file_path, long max_bytes_per_s,
                        lp_error *err);

/* Write a zip at zip_path holding files: path, content pairs, NULL-terminated (uses `zip`). */
int lp_test_make_zip(const char *zip_path, const char *const *files, lp_error *err);

/*
 * GET http://<IP of container <instance>-deploy-<slug> on <instance>-launchpad-sites><path>:
 * status into *out_status (0: no answer), body (malloc'd, NUL-terminated) into *out when out is
 * not NULL. LP_ENOTFOUND when the container or its address is missing. 5 s timeout.
 */
int lp_test_platform_fetch_site(char **out, long *out_status, lp_test_platform *p, const char *slug,
                                const char *path, lp_error *err);

/*
 * GET http://<edge_http><path> with "Host: <host>" through the platform's Traefik (opts->edge):
 * the path users hit. status into *out_status (0: no answer), body into *out when not NULL.
 * 5 s timeout. LP_EINVAL without an edge.
 */
int lp_test_platform_fetch_edge(char **out, long *out_status, lp_test_platform *p, const char *host,
                                const char *path, lp_error *err);

/* The Host of site slug ("<slug>.localhost") into out. */
void lp_test_platform_site_host(char *out, size_t outlen, const char *slug);

/*
 * Poll fetch_edge(host, "/") every poll_ms until it answers 200 with exactly want, for up to
 * timeout_ms (the benchmarks poll every few ms: the time to the new page is their figure).
 */
int lp_test_platform_wait_page(lp_test_platform *p, const char *host, const char *want,
                               int timeout_ms, int poll_ms, lp_error *err);

/* Poll fetch_edge(<slug>.localhost, "/") until it answers 200 with exactly body (or, when
 * want_status is not 200, until it answers want_status), for up to timeout_ms. */
int lp_test_platform_wait_edge(lp_test_platform *p, const char *slug, long want_status,
                               const char *body, int timeout_ms, lp_error *err);

/* Poll fetch_site(slug, "/") until it answers 200 with exactly body, for up to timeout_ms. */
int lp_test_platform_wait_served(lp_test_platform *p, const char *slug, const char *body,
                                 int timeout_ms, lp_error *err);

/*
 * Poll GET /api/deployments/:id every 100 ms until its "status" is want (and, for "live", the
 * rollout is complete: current_revision == desired_revision), for up to timeout_ms. *out (may be
 * NULL) receives the last deployment object seen (cJSON_Delete it). Gives up early when the
 * status has been "failed" for 10 s while waiting for something else. err carries the last
 * status, phase, revisions and message seen.
 */
int lp_test_platform_wait_status(cJSON **out, lp_test_platform *p, const char *id, const char *want,
                                 int timeout_ms, lp_error *err);

/* Poll GET /api/deployments/:id until it answers 404 (or timeout_ms passes). */
int lp_test_platform_wait_gone(lp_test_platform *p, const char *id, int timeout_ms, lp_error *err);

/* Run a shell command and return the number of non-empty lines it prints (-1 if it cannot). */
int lp_test_count_lines(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A shell command (malloc'd) that removes the host isolation rules of instance (its INPUT jumps
 * and its chain, controller/firewall.h), whatever state they are in; NULL when out of memory.
 * The controller keeps them while sites serve, so a test's cleanup removes them with its
 * containers and networks.
 */
char *lp_test_firewall_cleanup_command(const char *instance);

/* Number of containers of this instance (all states) carrying label ("k=v" or NULL: any). */
int lp_test_platform_count_containers(lp_test_platform *p, const char *label);

#endif
