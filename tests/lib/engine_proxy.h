/*
 * engine_proxy.h: a FAULT-INJECTING proxy in front of the real Docker engine, for tests only.
 *
 * It forwards a unix socket byte for byte to the engine's, and lp_engine_proxy_cut() drops every
 * connection at once and refuses new ones for a while: what a client of the engine sees of an
 * engine restart, without restarting the engine other test runs share. Everything the requests
 * do, they do on the real engine. The caller owns the handle; lp_engine_proxy_stop() closes every
 * connection, joins the threads and frees it.
 */
#ifndef LAUNCHPAD_TEST_ENGINE_PROXY_H
#define LAUNCHPAD_TEST_ENGINE_PROXY_H

typedef struct lp_engine_proxy lp_engine_proxy;

/* Listen on listen_path (removed first and at stop), forward to engine_path. NULL on failure. */
lp_engine_proxy *lp_engine_proxy_start(const char *listen_path, const char *engine_path);

/* Drop every open connection; connections made in the next refuse_ms are closed at once. */
void lp_engine_proxy_cut(lp_engine_proxy *p, int refuse_ms);

/* Connections accepted (and forwarded) so far. */
unsigned lp_engine_proxy_connections(lp_engine_proxy *p);

void lp_engine_proxy_stop(lp_engine_proxy *p);

#endif
