/*
 * docker.h: a Docker Engine API client over the engine's unix socket (libcurl).
 *
 * One lp_docker handle per engine, shared by every thread of the process: each call makes its own
 * curl easy handle, and the negotiated API version and the call counters are atomics, so any number
 * of threads may call at once. lp_docker_new() performs curl_global_init() once per process
 * (pthread_once); anything else in the process that uses libcurl must not call curl_global_init()
 * concurrently with the first lp_docker_new(). The caller owns the handle (lp_docker_free).
 *
 * Version: the first call asks the unversioned GET /version and then speaks
 * max(min(daemon newest, LP_DOCKER_API_MAX), daemon minimum); a call refused as "client version too
 * old/new" (an engine upgraded under us) renegotiates once and is retried once.
 *
 * Errors: LP_EUNAVAILABLE the engine cannot be reached (socket missing, refused, connection
 * dropped); LP_ETIMEOUT a non-streaming call outran its timeout; LP_ENOTFOUND 404; LP_EEXISTS a
 * name conflict on create; LP_ECONFLICT another 409; LP_EINVAL a 400 or bad argument;
 * LP_EREMOTE any other refusal (5xx, in-band pull error); LP_ETOOBIG a response over its cap;
 * LP_ECANCELED the call's cancel token fired. The daemon's own message is always in err.
 * 304 on start/stop is success.
 *
 * Ownership: strings and arrays handed back through `out` belong to the caller and are released
 * with the matching _free function (all accept NULL). Structs passed in (create config, options)
 * are only read during the call.
 */
#ifndef LAUNCHPAD_DOCKER_H
#define LAUNCHPAD_DOCKER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "launchpad/error.h"

/* The newest and oldest API versions this client speaks. */
#define LP_DOCKER_API_MAX "1.47"
#define LP_DOCKER_API_MIN "1.40"

#define LP_DOCKER_DEFAULT_SOCKET     "/var/run/docker.sock"
#define LP_DOCKER_DEFAULT_TIMEOUT_MS 30000
#define LP_DOCKER_DEFAULT_MAX_BODY   ((size_t)8 << 20)
/*
 * Every container this client creates logs through json-file with rotation: without max-size a
 * chatty build's log reached 132 MB in 5 s, and serve containers' access logs never shrank.
 */
#define LP_DOCKER_DEFAULT_LOG_MAX_SIZE  "10m"
#define LP_DOCKER_DEFAULT_LOG_MAX_FILES 3
#define LP_DOCKER_LOG_SIZE_MAX          16 /* "10m", NUL included */
#define LP_DOCKER_LOG_FILES_MAX         100

/* Buffer sizes, NUL included unless said otherwise. */
#define LP_DOCKER_SOCKET_MAX      108 /* sizeof(sockaddr_un.sun_path) */
#define LP_DOCKER_NAME_MAX        256 /* a container or network name or id, NUL excluded */
#define LP_DOCKER_ID_MAX          80  /* "sha256:" + 64 hex digits, with room */
#define LP_DOCKER_VERSION_MAX     64  /* an engine version, "20.10.24+dfsg1" */
#define LP_DOCKER_API_VERSION_MAX 16  /* an API version, "1.41" */
#define LP_DOCKER_PLATFORM_MAX    32  /* an OS, architecture or network driver name */

typedef struct lp_docker lp_docker;

typedef struct lp_docker_options {
	const char
	    *socket_path; /* NULL: LP_DOCKER_DEFAULT_SOCKET; shorter than LP_DOCKER_SOCKET_MAX */
	int timeout_ms;   /* every non-streaming call; 0: LP_DOCKER_DEFAULT_TIMEOUT_MS */
	int connect_timeout_ms; /* 0: 5000 */
	size_t max_body;        /* cap on a buffered response body; 0: LP_DOCKER_DEFAULT_MAX_BODY */
	/* json-file rotation of every container created: "<digits>[k|m|g]" per file, and how many
	 * files (1..LP_DOCKER_LOG_FILES_MAX); NULL / 0: the LP_DOCKER_DEFAULT_LOG_* values. */
	const char *log_max_size;
	int log_max_files;
} lp_docker_options;

/*
 * A cancel token for streaming calls (wait, logs follow, events, pull). Owned by the caller,
 * initialised with lp_docker_cancel_init, fired from any thread; a call notices within ~100 ms.
 */
typedef struct lp_docker_cancel {
	atomic_int requested;
} lp_docker_cancel;

void lp_docker_cancel_init(lp_docker_cancel *c);
void lp_docker_cancel_request(lp_docker_cancel *c);
int lp_docker_cancel_requested(const lp_docker_cancel *c);

/* A key/value pair (labels, tmpfs mounts, network→IP). */
typedef struct lp_docker_kv {
	char *key;
	char *value;
} lp_docker_kv;

/* The value of key in kv[0..n-1], or NULL. */
const char *lp_docker_kv_get(const lp_docker_kv *kv, size_t n, const char *key);

/* Read and write call counters (writes: create/start/stop/kill/remove/network create/connect/
 * pull). Every HTTP request counts once, including negotiation and retries. write_ms: the wall
 * time spent in write calls, summed over the threads making them (where a converge's time goes:
 * the engine's creates and starts, or LaunchPad's own work). */
typedef struct lp_docker_counters {
	uint64_t reads;
	uint64_t writes;
	uint64_t write_ms;
} lp_docker_counters;

typedef struct lp_docker_version_info {
	char version[LP_DOCKER_VERSION_MAX];
	char api_version[LP_DOCKER_API_VERSION_MAX]; /* newest API the daemon speaks */
	char min_api_version[LP_DOCKER_API_VERSION_MAX];
	char os[LP_DOCKER_PLATFORM_MAX];
	char arch[LP_DOCKER_PLATFORM_MAX];
} lp_docker_version_info;

/* LP_EINVAL for a socket path that does not fit or a log rotation setting out of shape. */
int lp_docker_new(lp_docker **out, const lp_docker_options *opts, lp_error *err) LP_MUST_CHECK;
void lp_docker_free(lp_docker *d);

void lp_docker_counters_get(lp_docker_counters *out, const lp_docker *d);

/* GET /_ping: LP_OK when the engine answers. */
int lp_docker_ping(lp_docker *d, lp_error *err) LP_MUST_CHECK;

/* GET /version (unversioned); also (re)negotiates the API version from the answer. */
int lp_docker_version(lp_docker_version_info *out, lp_docker *d, lp_error *err) LP_MUST_CHECK;

/* The API version in use ("1.41"), negotiating first if needed; LP_DOCKER_API_VERSION_MAX fits. */
int lp_docker_api_version(char *out, size_t outlen, lp_docker *d, lp_error *err) LP_MUST_CHECK;

/* ---- containers ---- */

/*
 * What serve and build containers need. NULL / 0 fields are left to the daemon's default, but for
 * the log: every container gets json-file rotation, the handle's (lp_docker_options) unless the
 * config sets its own.
 */
typedef struct lp_docker_create_config {
	const char *name;              /* required; ^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$ */
	const char *image;             /* required; create never pulls (missing: LP_ENOTFOUND) */
	const char *const *cmd;        /* NULL-terminated */
	const char *const *entrypoint; /* NULL-terminated; NULL: the image's */
	const char *const *env;        /* NULL-terminated "K=V" */
	const char *user;
	const char *workdir;
	const lp_docker_kv *labels;
	size_t nlabels;
	const char *const *binds; /* NULL-terminated "/host:/ctr[:ro]" */
	const char *network;      /* NetworkMode + the one endpoint at create */
	int64_t memory_bytes;     /* >= 6 MiB when set */
	int64_t nano_cpus;        /* 1e9 = one CPU */
	int64_t pids_limit;
	int readonly_rootfs;
	const lp_docker_kv *tmpfs; /* path -> options ("rw,noexec,nosuid,size=64m") */
	size_t ntmpfs;
	const char *const *cap_drop; /* NULL-terminated ("ALL") */
	const char *const *cap_add;
	const char *const *security_opt; /* NULL-terminated ("no-new-privileges") */
	const char *restart_policy;      /* "no", "unless-stopped", "always", "on-failure" */
	int init; /* HostConfig.Init: the engine's init (tini) is PID 1, forwarding signals */
	int stop_timeout;        /* seconds; 0: daemon default */
	const char *stop_signal; /* "SIGQUIT"; NULL: the image's */
	/* This container's json-file rotation instead of the handle's (NULL / 0: the handle's);
	 * same form as in lp_docker_options. */
	const char *log_max_size;
	int log_max_files;
	/*
	 * Config.Healthcheck: health_test ["CMD", ...] (NULL: the image's); the times in
	 * milliseconds (0: the daemon's default; else >= 1), retries (0: the default).
	 */
	const char *const *health_test;
	int64_t health_interval_ms;
	int64_t health_timeout_ms;
	int64_t health_start_period_ms;
	int health_retries;
} lp_docker_create_config;

/* The parts of GET /containers/{id}/json LaunchPad uses. */
typedef struct lp_docker_container {
	char *id;
	char *name;     /* without the leading '/' */
	char *image;    /* Config.Image as created */
	char *image_id; /* Image (sha256:...) */
	int running;    /* State.Running */
	char *status;   /* State.Status: created, running, exited, ... */
	int exit_code;  /* State.ExitCode */
	int oom_killed;
	char *started_at;
	char *finished_at;
	lp_docker_kv *labels; /* Config.Labels */
	size_t nlabels;
	lp_docker_kv *networks; /* network name -> IPAddress */
	size_t nnetworks;
	int restart_count;    /* RestartCount: restarts by the restart policy */
	int restarting;       /* State.Restarting */
	char *health_status;  /* State.Health.Status: starting, healthy, unhealthy; NULL: none */
	int health_failing;   /* State.Health.FailingStreak */
	char *health_output;  /* the newest State.Health.Log entry's Output; NULL: none yet */
	int health_exit_code; /* and its ExitCode */
} lp_docker_container;

/* One entry of GET /containers/json. */
typedef struct lp_docker_summary {
	char *id;
	char **names; /* without the leading '/'; nnames entries */
	size_t nnames;
	char *image;
	char *state;     /* created, running, exited, ... */
	char *status;    /* "Up 3 minutes" */
	int64_t created; /* unix seconds */
	lp_docker_kv *labels;
	size_t nlabels;
} lp_docker_summary;

typedef struct lp_docker_summaries {
	lp_docker_summary *items;
	size_t n;
} lp_docker_summaries;

/* Create; *out is the new container's id. A taken name is LP_EEXISTS. */
int lp_docker_container_create(char **out, lp_docker *d, const lp_docker_create_config *cfg,
                               lp_error *err) LP_MUST_CHECK;

/* Every container (running or not) carrying all labels ("k=v" or "k", NULL-terminated; NULL:
 * no filter). One call, whatever the number of labels. */
int lp_docker_container_list(lp_docker_summaries **out, lp_docker *d, const char *const *labels,
                             lp_error *err) LP_MUST_CHECK;
void lp_docker_summaries_free(lp_docker_summaries *s);

int lp_docker_container_inspect(lp_docker_container **out, lp_docker *d, const char *id,
                                lp_error *err) LP_MUST_CHECK;
void lp_docker_container_free(lp_docker_container *c);

/* Start; already running (304) is success. */
int lp_docker_container_start(lp_docker *d, const char *id, lp_error *err) LP_MUST_CHECK;
/* Stop with SIGTERM, then SIGKILL after timeout_s (< 0: daemon default); stopped (304) is
 * success. The call's own timeout is extended by timeout_s. */
int lp_docker_container_stop(lp_docker *d, const char *id, int timeout_s,
                             lp_error *err) LP_MUST_CHECK;
/* Rename a container; a name held by another container is LP_ECONFLICT. */
int lp_docker_container_rename(lp_docker *d, const char *id, const char *name,
                               lp_error *err) LP_MUST_CHECK;
/* signal NULL: SIGKILL. Killing a container that is not running is LP_ECONFLICT. */
int lp_docker_container_kill(lp_docker *d, const char *id, const char *signal,
                             lp_error *err) LP_MUST_CHECK;

#define LP_DOCKER_RM_FORCE      1u /* kill it first if running */
#define LP_DOCKER_RM_VOLUMES    2u /* remove its anonymous volumes */
#define LP_DOCKER_RM_MISSING_OK 4u /* already gone (or being removed) is success */
int lp_docker_container_remove(lp_docker *d, const char *id, unsigned flags,
                               lp_error *err) LP_MUST_CHECK;

/*
 * Block until the container reaches condition ("not-running" when NULL, "next-exit", "removed");
 * *out gets its exit status. Streaming: no timeout, cancellable (cancel may be NULL).
 */
int lp_docker_container_wait(int *out, lp_docker *d, const char *id, const char *condition,
                             const lp_docker_cancel *cancel, lp_error *err) LP_MUST_CHECK;

/* Output callback: stream 1 stdout, 2 stderr; data is not NUL-terminated. Non-zero stops the
 * call, which then returns LP_ECANCELED. */
typedef int (*lp_docker_output_fn)(void *ctx, int stream, const char *data, size_t len);

/*
 * The container's output, demultiplexed (containers created without a TTY, which is all of
 * LaunchPad's). follow: keep streaming until the container stops (no timeout, cancellable);
 * otherwise what is logged so far, under the normal timeout.
 */
int lp_docker_container_logs(lp_docker *d, const char *id, int follow, lp_docker_output_fn fn,
                             void *ctx, const lp_docker_cancel *cancel,
                             lp_error *err) LP_MUST_CHECK;

/* What lp_docker_container_logs_with asks beyond follow. */
typedef struct lp_docker_logs_options {
	int follow;
	/* Each line, and each piece of one the engine split (16 KiB), starts with its time in
	 * RFC 3339 with nine fixed digits of nanoseconds ("2026-12-01T23:38:29.123456789Z") and a
	 * space. */
	int timestamps;
	/* "<unix seconds>[.<nanoseconds>]": only lines logged at or after then (inclusive); NULL:
	 * all. Anything else is LP_EINVAL. */
	const char *since;
} lp_docker_logs_options;

/* lp_docker_container_logs with timestamps and a start time (opts NULL: all, no follow). */
int lp_docker_container_logs_with(lp_docker *d, const char *id, const lp_docker_logs_options *opts,
                                  lp_docker_output_fn fn, void *ctx, const lp_docker_cancel *cancel,
                                  lp_error *err) LP_MUST_CHECK;

/* ---- events ---- */

/* One event. Everything in it is valid only during the callback. */
typedef struct lp_docker_event {
	const char *type;          /* "container", "network", ... */
	const char *action;        /* create, start, die, destroy, "health_status: healthy", ... */
	const char *id;            /* Actor.ID */
	const lp_docker_kv *attrs; /* Actor.Attributes: labels, name, image, exitCode */
	size_t nattrs;
	int64_t time; /* unix seconds */
	int64_t time_nano;
} lp_docker_event;

/* Non-zero stops the watch, which then returns LP_ECANCELED. */
typedef int (*lp_docker_event_fn)(void *ctx, const lp_docker_event *ev);
/* Called each time the stream is (re)established; attempt counts from 0. Use it to resync. */
typedef void (*lp_docker_connected_fn)(void *ctx, int attempt);

typedef struct lp_docker_events_options {
	const char *type;          /* "container" filter; NULL: all types */
	const char *const *labels; /* NULL-terminated "k=v" filters, ANDed */
	int64_t since;             /* unix seconds of the list this watch follows; 0: now */
	int reconnect;             /* on a dropped stream, reconnect with backoff */
	int max_backoff_ms;        /* 0: 5000 */
	lp_docker_connected_fn on_connected;
} lp_docker_events_options;

/*
 * Watch GET /events until cancelled (LP_ECANCELED) or, without reconnect, until the stream ends
 * (LP_EUNAVAILABLE). After a reconnect it asks since the last event's second and drops the
 * events already delivered, so none is lost or repeated across the gap.
 */
int lp_docker_events_watch(lp_docker *d, const lp_docker_events_options *opts,
                           lp_docker_event_fn fn, void *ctx, const lp_docker_cancel *cancel,
                           lp_error *err) LP_MUST_CHECK;

/* ---- networks ---- */

/* A Linux interface name (IFNAMSIZ); the engine's own take the id's first 12 characters. */
#define LP_DOCKER_BRIDGE_MAX      16
#define LP_DOCKER_BRIDGE_ID_CHARS 12

typedef struct lp_docker_network {
	char id[LP_DOCKER_ID_MAX];
	char name[LP_DOCKER_NAME_MAX + 1];
	char driver[LP_DOCKER_PLATFORM_MAX];
	int internal;
	/* A bridge network's Linux interface ("br-0123456789ab", "docker0"), or "" */
	char bridge[LP_DOCKER_BRIDGE_MAX];
} lp_docker_network;

/* LP_ENOTFOUND when no network has exactly this name. */
int lp_docker_network_inspect(lp_docker_network *out, lp_docker *d, const char *name,
                              lp_error *err) LP_MUST_CHECK;

/*
 * Make sure a bridge network named name exists (one read when it does; a create otherwise).
 * flags: LP_DOCKER_NET_INTERNAL (no egress; 1 means it too), LP_DOCKER_NET_NO_ICC (its
 * containers cannot reach each other; applied when created). *out (may be NULL) is 1 when this
 * call created it. An existing network whose Internal flag differs is LP_ECONFLICT: the caller
 * decides whether to replace it.
 */
#define LP_DOCKER_NET_INTERNAL 1
#define LP_DOCKER_NET_NO_ICC   2
int lp_docker_network_ensure(int *out, lp_docker *d, const char *name, int flags,
                             const lp_docker_kv *labels, size_t nlabels,
                             lp_error *err) LP_MUST_CHECK;

/* Attach a container; already attached is success. */
int lp_docker_network_connect(lp_docker *d, const char *network, const char *container,
                              lp_error *err) LP_MUST_CHECK;

/* Remove a network; missing is success (teardown). */
int lp_docker_network_remove(lp_docker *d, const char *name, lp_error *err) LP_MUST_CHECK;

/* At most this many subnets come back from lp_docker_network_subnets (the rest: LP_ETOOBIG). */
#define LP_DOCKER_SUBNETS_MAX 1024
#define LP_DOCKER_SUBNET_MAX  64 /* "fd00:1234:...::/64", NUL included */

typedef struct lp_docker_subnet {
	char cidr[LP_DOCKER_SUBNET_MAX]; /* "172.17.0.0/16", "fd00:db8::/64" */
} lp_docker_subnet;

/*
 * The address ranges of every network on the engine (IPAM.Config[].Subnet of GET /networks, IPv4
 * and IPv6): the addresses a host on "the engine's networks" may have. *out is one malloc'd array
 * of *out_count entries (NULL when there are none); free() it.
 */
int lp_docker_network_subnets(lp_docker_subnet **out, size_t *out_count, lp_docker *d,
                              lp_error *err) LP_MUST_CHECK;

/* ---- images ---- */

typedef struct lp_docker_image {
	char id[LP_DOCKER_ID_MAX];
	int64_t size;
} lp_docker_image;

/* LP_ENOTFOUND when the image is not present locally. out may be NULL. */
int lp_docker_image_inspect(lp_docker_image *out, lp_docker *d, const char *name,
                            lp_error *err) LP_MUST_CHECK;

/* Progress: status ("Downloading"), layer id and progress text, any may be "". */
typedef void (*lp_docker_pull_fn)(void *ctx, const char *status, const char *id,
                                  const char *progress);

/*
 * Pull name ("repo[:tag]" or "repo@sha256:..."; no tag means latest). An error reported in-band
 * in the progress stream is LP_EREMOTE with the registry's message. timeout_ms bounds the whole
 * pull (0: none); cancel may be NULL.
 */
int lp_docker_image_pull(lp_docker *d, const char *name, lp_docker_pull_fn fn, void *ctx,
                         int timeout_ms, const lp_docker_cancel *cancel,
                         lp_error *err) LP_MUST_CHECK;

#endif
