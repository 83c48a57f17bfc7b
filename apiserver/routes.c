/* routes.c: the route table: every endpoint, its handler, its auth rule and what body it takes. */
#include "apiserver/apiserver_internal.h"

const struct api_route api_routes[] = {
    {"GET", "/healthz", api_h_healthz, API_AUTH_NONE, API_BODY_NONE},
    {"GET", "/readyz", api_h_readyz, API_AUTH_NONE, API_BODY_NONE},
    {"GET", "/metrics", api_h_metrics, API_AUTH_METRICS, API_BODY_NONE},
    {"GET", "/api/deployments", api_h_list, API_AUTH_TOKEN, API_BODY_NONE},
    {"POST", "/api/deployments", api_h_create, API_AUTH_TOKEN, API_BODY_FORM},
    {"GET", "/api/deployments/:id", api_h_get, API_AUTH_TOKEN, API_BODY_NONE},
    {"PUT", "/api/deployments/:id", api_h_apply, API_AUTH_TOKEN, API_BODY_DOC},
    {"DELETE", "/api/deployments/:id", api_h_delete, API_AUTH_TOKEN, API_BODY_NONE},
    {"POST", "/api/deployments/:id/redeploy", api_h_redeploy, API_AUTH_TOKEN, API_BODY_DOC},
    {"POST", "/api/deployments/:id/archive", api_h_archive, API_AUTH_TOKEN, API_BODY_FORM},
    {"GET", "/api/deployments/:id/revisions", api_h_revisions, API_AUTH_TOKEN, API_BODY_NONE},
    {"POST", "/api/deployments/:id/rollback", api_h_rollback, API_AUTH_TOKEN, API_BODY_DOC},
    {"GET", "/api/deployments/:id/logs", api_h_logs, API_AUTH_TOKEN, API_BODY_NONE},
    {"GET", "/api/deployments/:id/events", api_h_events, API_AUTH_TOKEN, API_BODY_NONE},
    {"POST", "/api/webhooks/github/:id", api_h_webhook, API_AUTH_NONE, API_BODY_RAW},
};

const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
