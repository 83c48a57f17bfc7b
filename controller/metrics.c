/* metrics.c: Traefik's per-service counters scraped into the store's per-site minute buckets. */
#include "controller/metrics.h"

#include <curl/curl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "launchpad/buf.h"
#include "launchpad/clock.h"
#include "launchpad/fmt.h"
#include "launchpad/log.h"
#include "launchpad/names.h"
#include "launchpad/store.h"

#define COMPONENT "metrics"

#define SERIES_BUCKETS 65536
#define SITE_BUCKETS   4096
#define LABEL_MAX      256 /* a label value kept (service, code, le) */
#define URL_MAX        1024
#define DOCKER_SUFFIX  "@docker"
#define MS_PER_DAY     86400000LL
#define DROP_EVERY_MS  3600000LL /* old buckets are looked for at most this often */

/* The families read; every other line is skipped. */
enum family { F_REQUESTS, F_BUCKET, F_SUM, F_BYTES_IN, F_BYTES_OUT, F_NONE };
static const char *const family_names[] = {
    [F_REQUESTS] = "traefik_service_requests_total",
    [F_BUCKET] = "traefik_service_request_duration_seconds_bucket",
    [F_SUM] = "traefik_service_request_duration_seconds_sum",
    [F_BYTES_IN] = "traefik_service_requests_bytes_total",
    [F_BYTES_OUT] = "traefik_service_responses_bytes_total",
};

/* A series' last value: the key is its name and labels as Traefik printed them. */
struct series {
	char *key;
	double value;
	uint64_t seen; /* the scrape that last saw it */
	struct series *chain;
};

/* What one site gained in this scrape. */
struct site_gain {
	char *name;
	lp_store_metrics m;
	double cum[LP_STORE_METRICS_LAT]; /* cumulative histogram deltas at our bounds */
	int cum_set[LP_STORE_METRICS_LAT];
	struct site_gain *chain, *next;
};

struct lp_scraper {
	lp_ctx *ctx;
	char prefix[LP_NAMES_MAX + 2]; /* "<instance>-" */
	struct series *series[SERIES_BUCKETS];
	size_t nseries;
	uint64_t scrapes; /* completed feeds; 0: the next is the baseline */
	int64_t last_drop;
	/* one scrape's gains */
	struct site_gain *gains[SITE_BUCKETS];
	struct site_gain *gain_list;
	size_t ngains;
};

static uint32_t hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

int lp_scraper_new(lp_scraper **out, lp_ctx *ctx, lp_error *err)
{
	lp_scraper *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (s == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	s->ctx = ctx;
	if (lp_fmt(s->prefix, sizeof(s->prefix), "%s-", lp_ctx_cfg(ctx)->instance) != LP_OK) {
		free(s);
		return lp_error_set(err, LP_ETOOBIG, "instance name too long");
	}
	*out = s;
	return LP_OK;
}

static void gains_clear(lp_scraper *s)
{
	struct site_gain *g, *next;

	for (g = s->gain_list; g; g = next) {
		next = g->next;
		free(g->name);
		free(g);
	}
	memset(s->gains, 0, sizeof(s->gains));
	s->gain_list = NULL;
	s->ngains = 0;
}

void lp_scraper_free(lp_scraper *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < SERIES_BUCKETS; i++) {
		struct series *e, *next;
		for (e = s->series[i]; e; e = next) {
			next = e->chain;
			free(e->key);
			free(e);
		}
	}
	gains_clear(s);
	free(s);
}

/*
 * What the series key gained since the last scrape: the whole value for a series new after the
 * baseline or one whose counter went down; 0 in the baseline. *out -1 when it cannot be kept.
 */
static double gain_of(lp_scraper *s, const char *key, size_t keylen, double value)
{
	uint32_t b = hash(key, keylen) % SERIES_BUCKETS;
	struct series *e;
	double prev;

	for (e = s->series[b]; e; e = e->chain)
		if (!strncmp(e->key, key, keylen) && e->key[keylen] == '\0')
			break;
	if (e == NULL) {
		if (s->nseries >= LP_SCRAPE_SERIES || (e = calloc(1, sizeof(*e))) == NULL)
			return -1;
		if ((e->key = strndup(key, keylen)) == NULL) {
			free(e);
			return -1;
		}
		e->chain = s->series[b];
		s->series[b] = e;
		s->nseries++;
		e->value = value;
		e->seen = s->scrapes;
		return s->scrapes == 0 ? 0 : value;
	}
	prev = e->value;
	e->value = value;
	e->seen = s->scrapes;
	return value >= prev ? value - prev : value;
}

static struct site_gain *gain_for(lp_scraper *s, const char *site)
{
	uint32_t b = hash(site, strlen(site)) % SITE_BUCKETS;
	struct site_gain *g;

	for (g = s->gains[b]; g; g = g->chain)
		if (!strcmp(g->name, site))
			return g;
	if (s->ngains >= LP_SCRAPE_SITES_MAX || (g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	if ((g->name = strdup(site)) == NULL) {
		free(g);
		return NULL;
	}
	g->chain = s->gains[b];
	s->gains[b] = g;
	g->next = s->gain_list;
	s->gain_list = g;
	s->ngains++;
	return g;
}

/* One parsed sample line. */
struct sample {
	enum family family;
	const char *key; /* name and labels, as printed */
	size_t keylen;
	char service[LABEL_MAX];
	char code[LABEL_MAX];
	char le[LABEL_MAX];
	double value;
};

static enum family family_of(const char *name, size_t n)
{
	int f;

	for (f = 0; f < F_NONE; f++)
		if (strlen(family_names[f]) == n && !memcmp(family_names[f], name, n))
			return (enum family)f;
	return F_NONE;
}

/* A label value, unescaped into out (*bad set when cut or unterminated); returns what follows. */
static const char *label_value(char *out, size_t outlen, const char *p, const char *end, int *bad)
{
	size_t n = 0;

	for (; p < end && *p != '"'; p++) {
		char c = *p;
		if (c == '\\' && p + 1 < end) {
			c = *++p;
			c = c == 'n' ? '\n' : c;
		}
		if (n + 1 >= outlen)
			*bad = 1;
		else
			out[n++] = c;
	}
	out[n] = '\0';
	if (p >= end)
		*bad = 1;
	return p < end ? p + 1 : end;
}

/* Parse line (no newline) into *out; 0 when it is one of ours and whole, -1 to skip it. */
static int parse_line(struct sample *out, const char *line, const char *end)
{
	const char *p = line, *name_end;
	char *vend;
	int bad = 0;

	memset(out, 0, sizeof(*out));
	while (p < end && *p != '{' && *p != ' ')
		p++;
	name_end = p;
	if ((out->family = family_of(line, (size_t)(name_end - line))) == F_NONE || p >= end ||
	    *p != '{')
		return -1;
	p++;
	while (p < end && *p != '}') {
		const char *k = p;
		char scratch[LABEL_MAX], *dst = scratch;
		size_t klen;

		while (p < end && *p != '=')
			p++;
		klen = (size_t)(p - k);
		if (p + 1 >= end || p[1] != '"')
			return -1;
		p += 2;
		if (klen == 7 && !memcmp(k, "service", 7))
			dst = out->service;
		else if (klen == 4 && !memcmp(k, "code", 4))
			dst = out->code;
		else if (klen == 2 && !memcmp(k, "le", 2))
			dst = out->le;
		p = label_value(dst, LABEL_MAX, p, end, &bad);
		if (p < end && *p == ',')
			p++;
	}
	if (bad || p >= end)
		return -1;
	out->key = line;
	out->keylen = (size_t)(p + 1 - line);
	p++;
	while (p < end && *p == ' ')
		p++;
	out->value = strtod(p, &vend);
	if (vend == p || isnan(out->value) || out->value < 0)
		return -1;
	return 0;
}

/* The site of a service of this instance ("<instance>-<site>@docker"), or NULL. */
static const char *site_of(const lp_scraper *s, char *service)
{
	size_t plen = strlen(s->prefix), n = strlen(service), slen = strlen(DOCKER_SUFFIX);

	if (n <= plen + slen || strncmp(service, s->prefix, plen) ||
	    strcmp(service + n - slen, DOCKER_SUFFIX))
		return NULL;
	service[n - slen] = '\0';
	return service + plen;
}

/* Our bucket for a Traefik bound: the first of ours at or above it (+Inf: the last). */
static int bucket_of_le(const char *le)
{
	char *end;
	double v = strtod(le, &end);
	int i;

	if (end == le)
		return -1;
	for (i = 0; i < LP_STORE_METRICS_LAT - 1; i++)
		if (v <= lp_store_metrics_bounds[i] * (1 + 1e-9))
			return i;
	return LP_STORE_METRICS_LAT - 1;
}

static void add_sample(lp_scraper *s, struct sample *x)
{
	const char *site = site_of(s, x->service);
	struct site_gain *g;
	double d;
	int k;

	if (site == NULL)
		return;
	if ((d = gain_of(s, x->key, x->keylen, x->value)) <= 0)
		return; /* nothing new, or a series that could not be kept */
	if ((g = gain_for(s, site)) == NULL)
		return;
	switch (x->family) {
	case F_REQUESTS:
		if (x->code[0] >= '1' && x->code[0] <= '5')
			g->m.requests[x->code[0] - '1'] += (int64_t)llround(d);
		break;
	case F_BUCKET:
		if ((k = bucket_of_le(x->le)) >= 0) {
			g->cum[k] += d;
			g->cum_set[k] = 1;
		}
		break;
	case F_SUM:
		g->m.latency_sum += d;
		break;
	case F_BYTES_IN:
		g->m.bytes_in += (int64_t)llround(d);
		break;
	case F_BYTES_OUT:
		g->m.bytes_out += (int64_t)llround(d);
		break;
	case F_NONE:
		break;
	}
}

/* Cumulative bucket gains to per-bucket counts; a bound Traefik lacks carries the one below. */
static void settle_histogram(struct site_gain *g)
{
	double below = 0, at = 0;
	int i;

	for (i = 0; i < LP_STORE_METRICS_LAT; i++) {
		if (g->cum_set[i])
			at = g->cum[i];
		g->m.latency[i] = at > below ? (int64_t)llround(at - below) : 0;
		below = at > below ? at : below;
	}
}

/* Series not seen in this scrape are gone from Traefik: forget them (a site's removal). */
static void forget_unseen(lp_scraper *s)
{
	size_t i;

	for (i = 0; i < SERIES_BUCKETS; i++) {
		struct series **e = &s->series[i];
		while (*e) {
			if ((*e)->seen != s->scrapes) {
				struct series *dead = *e;
				*e = dead->chain;
				free(dead->key);
				free(dead);
				s->nseries--;
			} else {
				e = &(*e)->chain;
			}
		}
	}
}

static int record(size_t *out, lp_scraper *s, int64_t now_ms, lp_error *err)
{
	const lp_config *cfg = lp_ctx_cfg(s->ctx);
	int64_t minute = now_ms - now_ms % LP_STORE_METRICS_MINUTE, drop_before = 0;
	lp_store_metrics_add *adds = NULL;
	struct site_gain *g;
	lp_store *st = NULL;
	size_t n = 0;
	int rc = LP_OK;

	int days = cfg->metrics_retention_days > 0 ? cfg->metrics_retention_days : 1;

	if (now_ms - s->last_drop >= DROP_EVERY_MS)
		drop_before = minute - (int64_t)days * MS_PER_DAY;
	if (s->ngains == 0 && drop_before == 0)
		return LP_OK; /* no traffic: no write */
	if (s->ngains && (adds = calloc(s->ngains, sizeof(*adds))) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	for (g = s->gain_list; g; g = g->next) {
		settle_histogram(g);
		g->m.time = minute;
		adds[n].site_name = g->name;
		adds[n].m = g->m;
		n++;
	}
	if ((rc = lp_ctx_store_acquire(&st, s->ctx, err)) == LP_OK &&
	    (rc = lp_store_metrics_record(out, st, adds, n, drop_before, err)) == LP_OK &&
	    drop_before)
		s->last_drop = now_ms;
	lp_ctx_store_release(s->ctx, st);
	free(adds);
	return rc;
}

int lp_scraper_feed(size_t *out, lp_scraper *s, const char *text, size_t len, int64_t now_ms,
                    lp_error *err)
{
	const char *p = text, *end = text + len;
	int rc;

	if (out)
		*out = 0;
	gains_clear(s);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		struct sample x;

		if (eol == NULL)
			eol = end;
		if (*p != '#' && eol - p < LP_SCRAPE_LINE_MAX && parse_line(&x, p, eol) == 0)
			add_sample(s, &x);
		p = eol + 1;
	}
	forget_unseen(s);
	rc = s->scrapes == 0 ? LP_OK : record(out, s, now_ms, err);
	s->scrapes++;
	gains_clear(s);
	return rc;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	return lp_buf_append(ctx, ptr, size * nmemb) == LP_OK ? size * nmemb : 0;
}

int lp_scraper_scrape(size_t *out, lp_scraper *s, lp_error *err)
{
	const char *api = lp_ctx_cfg(s->ctx)->traefik_api;
	char url[URL_MAX];
	long status = 0;
	CURLcode cc;
	lp_buf body;
	CURL *h;
	size_t n;
	int rc;

	if (out)
		*out = 0;
	if (api == NULL || api[0] == '\0')
		return lp_error_set(err, LP_EUNAVAILABLE, "no Traefik API configured");
	n = strlen(api);
	while (n > 0 && api[n - 1] == '/')
		n--;
	if (lp_fmt(url, sizeof(url), "%.*s/metrics", (int)n, api) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "Traefik API URL is too long");
	if ((h = curl_easy_init()) == NULL)
		return lp_error_set(err, LP_ENOMEM, "curl_easy_init failed");
	lp_buf_init(&body, LP_SCRAPE_BODY_MAX);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)LP_SCRAPE_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	if ((cc = curl_easy_perform(h)) != CURLE_OK)
		rc = lp_error_set(err, LP_EUNAVAILABLE, "Traefik metrics %s: %s", url,
		                  curl_easy_strerror(cc));
	else if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status), status != 200)
		rc = lp_error_set(err, LP_EUNAVAILABLE, "Traefik metrics %s answered %ld", url,
		                  status);
	else
		rc = lp_scraper_feed(out, s, lp_buf_cstr(&body), body.len, lp_clock_wall_ms(), err);
	curl_easy_cleanup(h);
	lp_buf_release(&body);
	return rc;
}

/* The scrape thread: one scrape per interval until the controller stops (wake_fd readable). */
struct lp_scrape_thread {
	pthread_t thread;
	lp_scraper *s;
	int wake_fd;
	int interval_ms;
};

static void *scrape_main(void *arg)
{
	struct lp_scrape_thread *l = arg;

	while (!lp_ctx_stopping(l->s->ctx)) {
		struct pollfd pfd = {.fd = l->wake_fd, .events = POLLIN};
		lp_error err = {0};

		if (poll(&pfd, 1, l->interval_ms) != 0)
			continue; /* woken to stop (or interrupted) */
		if (lp_scraper_scrape(NULL, l->s, &err) != LP_OK)
			LP_WARN(COMPONENT, "scrape: %s", err.message);
	}
	return NULL;
}

int lp_scraper_start(lp_scrape_thread **out, lp_ctx *ctx, int wake_fd, lp_error *err)
{
	const lp_config *cfg = lp_ctx_cfg(ctx);
	struct lp_scrape_thread *l;
	int rc;

	*out = NULL;
	if (cfg->metrics_interval_seconds <= 0 || cfg->traefik_api == NULL ||
	    cfg->traefik_api[0] == '\0')
		return LP_OK;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	if ((rc = lp_scraper_new(&l->s, ctx, err)) != LP_OK) {
		free(l);
		return rc;
	}
	l->wake_fd = wake_fd;
	l->interval_ms = cfg->metrics_interval_seconds > LP_SCRAPE_INTERVAL_MAX
	                     ? LP_SCRAPE_INTERVAL_MAX * 1000
	                     : cfg->metrics_interval_seconds * 1000;
	if (pthread_create(&l->thread, NULL, scrape_main, l) != 0) {
		lp_scraper_free(l->s);
		free(l);
		return lp_error_set(err, LP_ERROR, "cannot start the metrics thread");
	}
	*out = l;
	return LP_OK;
}

void lp_scraper_join(lp_scrape_thread *t)
{
	if (t == NULL)
		return;
	pthread_join(t->thread, NULL);
	lp_scraper_free(t->s);
	free(t);
}
