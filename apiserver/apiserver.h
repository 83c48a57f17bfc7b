/*
 * apiserver.h: the HTTP API server (libmicrohttpd) that records desired state: its lifecycle,
 * and the listen-address parsing main.c shares with it.
 *
 * lp_apiserver_new() opens the store under cfg->data_dir, creates the admin token on first start
 * and binds cfg->listen; the server keeps a pointer to cfg, which must outlive it. Everything the
 * server allocates is released by lp_apiserver_free(). The apiserver never talks to Docker and
 * never builds: it writes specs, revision requests, uploads and tokens, and reads what the
 * controller reports. Its parts are declared in apiserver_internal.h.
 */
#ifndef LAUNCHPAD_APISERVER_H
#define LAUNCHPAD_APISERVER_H

#include <stddef.h>

#include "launchpad/config.h"
#include "launchpad/error.h"

typedef struct lp_apiserver lp_apiserver;

/* Open the store, bootstrap the admin token and start listening (threads run from here on). */
int lp_apiserver_new(lp_apiserver **out, const lp_config *cfg, lp_error *err) LP_MUST_CHECK;
/* The bound TCP port (the chosen one when cfg->listen asked for port 0). */
unsigned lp_apiserver_port(const lp_apiserver *s);
/* Stop accepting, wait for in-flight requests and free everything. NULL is a no-op. */
void lp_apiserver_free(lp_apiserver *s);

/*
 * `launchpad-apiserver rotate-key`: add a new master key, re-seal every secret env value of every
 * site with it (spec hashes, generations and revisions stay: nothing rebuilds), then drop the old
 * keys from the file. The running daemons pick the new file up by themselves. *out counts the
 * values re-sealed. The one place the apiserver binary opens a sealed value, offline, by an admin.
 */
int lp_apiserver_rotate_key(size_t *out, const lp_config *cfg, lp_error *err) LP_MUST_CHECK;

/* Room for the host of a listen address. */
#define LP_API_HOST_MAX 256

/* "host:port" (host may be empty or "*" for all addresses, IPv4 only) → host, port. */
int lp_api_listen_parse(char *host, size_t hostlen, unsigned *port, const char *listen,
                        lp_error *err) LP_MUST_CHECK;

#endif
