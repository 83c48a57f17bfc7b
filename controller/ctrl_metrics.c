/* ctrl_metrics.c: the controller's counters as Prometheus text on a loopback listener. */
#include "controller/ctrl_metrics.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "launchpad/fmt.h"

struct lp_ctrl_metrics {
	struct MHD_Daemon *daemon;
	lp_controller *c;
};

int lp_ctrl_metrics_text(char *out, size_t outlen, const lp_controller_stats *s)
{
	return lp_fmt(
	    out, outlen,
	    "# HELP launchpad_controller_reconciles_total Reconcile passes.\n"
	    "# TYPE launchpad_controller_reconciles_total counter\n"
	    "launchpad_controller_reconciles_total %llu\n"
	    "# HELP launchpad_controller_reconcile_errors_total Passes that ended in an error.\n"
	    "# TYPE launchpad_controller_reconcile_errors_total counter\n"
	    "launchpad_controller_reconcile_errors_total %llu\n"
	    "# HELP launchpad_controller_reconcile_duration_seconds Wall time of reconcile "
	    "passes.\n"
	    "# TYPE launchpad_controller_reconcile_duration_seconds summary\n"
	    "launchpad_controller_reconcile_duration_seconds_sum %.3f\n"
	    "launchpad_controller_reconcile_duration_seconds_count %llu\n"
	    "# HELP launchpad_controller_queue_depth Sites waiting to be reconciled.\n"
	    "# TYPE launchpad_controller_queue_depth gauge\n"
	    "launchpad_controller_queue_depth %llu\n"
	    "# HELP launchpad_controller_builds_running Builds running now.\n"
	    "# TYPE launchpad_controller_builds_running gauge\n"
	    "launchpad_controller_builds_running %llu\n"
	    "# HELP launchpad_controller_builds_started_total Build threads started.\n"
	    "# TYPE launchpad_controller_builds_started_total counter\n"
	    "launchpad_controller_builds_started_total %llu\n"
	    "# HELP launchpad_controller_docker_requests_total Docker API requests by kind.\n"
	    "# TYPE launchpad_controller_docker_requests_total counter\n"
	    "launchpad_controller_docker_requests_total{kind=\"read\"} %llu\n"
	    "launchpad_controller_docker_requests_total{kind=\"write\"} %llu\n"
	    "# HELP launchpad_controller_writes_total What the controller wrote, by kind.\n"
	    "# TYPE launchpad_controller_writes_total counter\n"
	    "launchpad_controller_writes_total{kind=\"file\"} %llu\n"
	    "launchpad_controller_writes_total{kind=\"status\"} %llu\n"
	    "# HELP launchpad_controller_gc_removed_total Containers and paths removed by gc.\n"
	    "# TYPE launchpad_controller_gc_removed_total counter\n"
	    "launchpad_controller_gc_removed_total %llu\n",
	    (unsigned long long)s->reconciles, (unsigned long long)s->reconcile_errors,
	    (double)s->reconcile_ms / 1000.0, (unsigned long long)s->reconciles,
	    (unsigned long long)s->queue_depth, (unsigned long long)s->builds_running,
	    (unsigned long long)s->builds_started, (unsigned long long)s->docker_reads,
	    (unsigned long long)s->docker_writes, (unsigned long long)s->file_writes,
	    (unsigned long long)s->status_writes, (unsigned long long)s->gc_removed);
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_len, void **state)
{
	lp_ctrl_metrics *m = cls;
	char text[LP_CTRL_METRICS_TEXT_MAX];
	lp_controller_stats stats = {0};
	struct MHD_Response *resp;
	unsigned status = MHD_HTTP_OK;
	enum MHD_Result r;

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)state;
	lp_controller_stats_get(&stats, m->c);
	if (strcmp(method, "GET") || strcmp(url, "/metrics")) {
		status = MHD_HTTP_NOT_FOUND;
		lp_fmt_text(text, sizeof(text), "not found: GET /metrics only\n");
	} else if (lp_ctrl_metrics_text(text, sizeof(text), &stats) != LP_OK) {
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		lp_fmt_text(text, sizeof(text), "the counters do not fit\n");
	}
	resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4");
	r = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return r;
}

int lp_ctrl_metrics_start(lp_ctrl_metrics **out, lp_controller *c, int port, lp_error *err)
{
	struct sockaddr_in addr = {.sin_family = AF_INET};
	lp_ctrl_metrics *m;

	*out = NULL;
	if (port == 0)
		return LP_OK;
	if (port < 0 || port > 65535)
		return lp_error_set(err, LP_EINVAL, "controller metrics port %d is not a port",
		                    port);
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	m->c = c;
	addr.sin_port = htons((uint16_t)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	m->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
	                             (uint16_t)port, NULL, NULL, answer, m, MHD_OPTION_SOCK_ADDR,
	                             (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_LIMIT,
	                             (unsigned)LP_CTRL_METRICS_CONNS, MHD_OPTION_CONNECTION_TIMEOUT,
	                             (unsigned)LP_CTRL_METRICS_TIMEOUT, MHD_OPTION_END);
	if (m->daemon == NULL) {
		free(m);
		return lp_error_set(err, LP_EUNAVAILABLE, "cannot listen on 127.0.0.1:%d", port);
	}
	*out = m;
	return LP_OK;
}

void lp_ctrl_metrics_stop(lp_ctrl_metrics *m)
{
	if (m == NULL)
		return;
	MHD_stop_daemon(m->daemon);
	free(m);
}
