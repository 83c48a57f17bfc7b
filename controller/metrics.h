/*
 * metrics.h: the scraper of the edge's per-site metrics. Every --metrics-interval-seconds it
 * reads Traefik's Prometheus text (<traefik-api>/metrics), keeps the series of this instance's
 * sites (services "<instance>-<site>@docker"), turns Traefik's counters (cumulative since Traefik
 * started) into what each site gained since the last scrape, and adds that to the site's minute
 * bucket in the store; buckets older than --metrics-retention-days are dropped.
 *
 * What a controller's first scrape sees is its baseline, not traffic: requests served while no
 * controller ran are not counted (an undercount, never a double count after a restart). A
 * series whose counter went down (Traefik restarted) counts from zero.
 *
 * lp_scraper owns its last-seen counters; one thread uses it at a time (the controller's scrape
 * thread, or a test calling lp_scraper_scrape). lp_scraper_free(NULL) is a no-op.
 */
#ifndef LAUNCHPAD_CONTROLLER_METRICS_H
#define LAUNCHPAD_CONTROLLER_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "controller/context.h"
#include "launchpad/error.h"

#define LP_SCRAPE_BODY_MAX     (64 << 20) /* Traefik's metrics text read at most */
#define LP_SCRAPE_SERIES       200000 /* series remembered at most; past it, new ones are skipped */
#define LP_SCRAPE_TIMEOUT      10000  /* ms for one scrape's request */
#define LP_SCRAPE_LINE_MAX     2048   /* a longer line is skipped */
#define LP_SCRAPE_SITES_MAX    10000  /* sites recorded per scrape at most */
#define LP_SCRAPE_INTERVAL_MAX 3600   /* seconds; a longer interval is cut to this */

typedef struct lp_scraper lp_scraper;

int lp_scraper_new(lp_scraper **out, lp_ctx *ctx, lp_error *err) LP_MUST_CHECK;
void lp_scraper_free(lp_scraper *s);

/* One scrape: fetch, compute the deltas, record them. *out (may be NULL): site rows written. */
int lp_scraper_scrape(size_t *out, lp_scraper *s, lp_error *err) LP_MUST_CHECK;

/*
 * Scrape Traefik's metrics text given in text (a test's or the fetch's) as if fetched at now_ms.
 * The parse half of lp_scraper_scrape.
 */
int lp_scraper_feed(size_t *out, lp_scraper *s, const char *text, size_t len, int64_t now_ms,
                    lp_error *err) LP_MUST_CHECK;

/*
 * The controller's scrape thread, every --metrics-interval-seconds until the context stops and
 * wake_fd turns readable; *out NULL (and LP_OK) when scraping is off (interval 0 or no
 * --traefik-api). lp_scraper_join waits for it and frees it (NULL: no-op).
 */
typedef struct lp_scrape_thread lp_scrape_thread;
int lp_scraper_start(lp_scrape_thread **out, lp_ctx *ctx, int wake_fd, lp_error *err) LP_MUST_CHECK;
void lp_scraper_join(lp_scrape_thread *t);

#endif
