/*
 * ctrl_metrics.h: the controller's own counters in Prometheus text on a loopback port
 * (--controller-metrics-port; 0, the default, serves nothing).
 *
 * The controller has no HTTP server and the counters live in its memory: a tiny listener on
 * 127.0.0.1 serves them where they are, at no cost to the store (writing them there would break
 * the write-free steady state, and lag). GET /metrics only; anything else is a 404.
 *
 * lp_ctrl_metrics owns its libmicrohttpd daemon; lp_ctrl_metrics_stop(NULL) is a no-op.
 */
#ifndef LAUNCHPAD_CONTROLLER_CTRL_METRICS_H
#define LAUNCHPAD_CONTROLLER_CTRL_METRICS_H

#include "controller/controller.h"
#include "launchpad/error.h"

#define LP_CTRL_METRICS_TEXT_MAX 4096 /* the whole answer */
#define LP_CTRL_METRICS_CONNS    8    /* connections served at once */
#define LP_CTRL_METRICS_TIMEOUT  5    /* seconds a connection may idle */

typedef struct lp_ctrl_metrics lp_ctrl_metrics;

/* Serve c's counters on 127.0.0.1:port; *out NULL (LP_OK) when port is 0. */
int lp_ctrl_metrics_start(lp_ctrl_metrics **out, lp_controller *c, int port,
                          lp_error *err) LP_MUST_CHECK;
void lp_ctrl_metrics_stop(lp_ctrl_metrics *m);

/* The Prometheus text of stats into out (what GET /metrics answers). */
int lp_ctrl_metrics_text(char *out, size_t outlen, const lp_controller_stats *stats) LP_MUST_CHECK;

#endif
