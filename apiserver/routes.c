/* routes.c: the route table: every endpoint, its handler, auth rule, body and intake hooks. */
#include "apiserver/apiserver_internal.h"

/* Designated fields: what an entry leaves out is 0 (no body, no slots, no hooks). */
const struct api_route api_routes[] = {
    /* /health is the seed's (Phase 1); /healthz and /readyz are what orchestrators probe */
    {.method = "GET", .pattern = "/health", .handler = api_h_healthz, .auth = API_AUTH_NONE},
    {.method = "GET", .pattern = "/healthz", .handler = api_h_healthz, .auth = API_AUTH_NONE},
    {.method = "GET", .pattern = "/readyz", .handler = api_h_readyz, .auth = API_AUTH_NONE},
    {.method = "GET", .pattern = "/metrics", .handler = api_h_metrics, .auth = API_AUTH_METRICS},
    /* streamed a batch at a time (list.c): no slots needed to bound its memory */
    {.method = "GET", .pattern = "/api/deployments", .handler = api_h_list, .auth = API_AUTH_TOKEN},
    {.method = "POST",
     .pattern = "/api/deployments",
     .handler = api_h_create,
     .auth = API_AUTH_TOKEN,
     .body = API_BODY_FORM},
    {.method = "GET",
     .pattern = "/api/deployments/:id",
     .handler = api_h_get,
     .auth = API_AUTH_TOKEN},
    {.method = "PUT",
     .pattern = "/api/deployments/:id",
     .handler = api_h_apply,
     .auth = API_AUTH_TOKEN,
     .body = API_BODY_DOC},
    {.method = "DELETE",
     .pattern = "/api/deployments/:id",
     .handler = api_h_delete,
     .auth = API_AUTH_TOKEN},
    /* revision requests: a site's bucket of tokens (--revision-burst, --revision-rate) */
    {.method = "POST",
     .pattern = "/api/deployments/:id/redeploy",
     .handler = api_h_redeploy,
     .auth = API_AUTH_TOKEN,
     .body = API_BODY_DOC,
     .revision_limited = 1},
    {.method = "POST",
     .pattern = "/api/deployments/:id/archive",
     .handler = api_h_archive,
     .auth = API_AUTH_TOKEN,
     .body = API_BODY_FORM,
     .revision_limited = 1},
    {.method = "GET",
     .pattern = "/api/deployments/:id/revisions",
     .handler = api_h_revisions,
     .auth = API_AUTH_TOKEN},
    {.method = "POST",
     .pattern = "/api/deployments/:id/rollback",
     .handler = api_h_rollback,
     .auth = API_AUTH_TOKEN,
     .body = API_BODY_DOC},
    {.method = "POST",
     .pattern = "/api/deployments/:id/cancel",
     .handler = api_h_cancel,
     .auth = API_AUTH_TOKEN,
     .body = API_BODY_DOC},
    /* a stream holds its thread until the revision is final: a bounded number at once */
    {.method = "GET",
     .pattern = "/api/deployments/:id/logs",
     .handler = api_h_logs,
     .auth = API_AUTH_TOKEN,
     .slots = API_SSE_STREAMS},
    {.method = "GET",
     .pattern = "/api/deployments/:id/events",
     .handler = api_h_events,
     .auth = API_AUTH_TOKEN},
    {.method = "GET",
     .pattern = "/api/deployments/:id/metrics",
     .handler = api_h_site_metrics,
     .auth = API_AUTH_TOKEN},
    /*
     * GitHub signs the raw body (HMAC, no token). Each body may be 25 MiB and arrives before its
     * signature can be checked: the site and the header's form are checked first, and only a
     * few bodies are received at once, a share of them per site.
     */
    {.method = "POST",
     .pattern = "/api/webhooks/github/:id",
     .handler = api_h_webhook,
     .auth = API_AUTH_NONE,
     .body = API_BODY_RAW,
     .body_max = API_WEBHOOK_MAX,
     .slots = API_WEBHOOK_BODIES,
     .site_slots = API_WEBHOOK_SITE_BODIES,
     .before_body = api_webhook_before_body,
     .after_body = api_webhook_after_body,
     .revision_limited = 1},
    /* The webhook's URL and secret, for the owner setting up GitHub. */
    {.method = "GET",
     .pattern = "/api/deployments/:id/webhook",
     .handler = api_h_webhook_info,
     .auth = API_AUTH_TOKEN},
    /* The dashboard (--dashboard-dir): its files, and index.html for its client routes. */
    {.method = "GET", .pattern = "/*", .handler = api_h_dashboard, .fallback = 1},
};

const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
