/* load.c: a paced HTTP load from a few threads, counting every failed request. */
#include "tests/lib/load.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launchpad/buf.h"
#include "launchpad/clock.h"

#define LOAD_MAX_THREADS 16
#define LOAD_BODY_MAX    ((size_t)4 << 20)

struct lp_test_load {
	char url[512];
	char host[300];
	int nthreads;
	int64_t interval_us; /* per thread */
	lp_test_load_check_fn check;
	void *ctx;
	atomic_int stop;
	int64_t t0;
	pthread_t threads[LOAD_MAX_THREADS];
	int started;

	pthread_mutex_t mu;
	lp_test_load_stats stats;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	return lp_buf_append(ctx, ptr, size * nmemb) == LP_OK ? size * nmemb : 0;
}

static void record(lp_test_load *l, long status, CURLcode cc, int accepted)
{
	lp_test_load_stats *s = &l->stats;
	int failed = 0;
	char what[200] = "";

	pthread_mutex_lock(&l->mu);
	s->requests++;
	if (cc != CURLE_OK) {
		s->socket_errs++;
		failed = 1;
		snprintf(what, sizeof(what), "socket error: %s", curl_easy_strerror(cc));
	} else if (status < 200 || status > 299) {
		s->non2xx++;
		failed = 1;
		snprintf(what, sizeof(what), "HTTP %ld", status);
	} else if (!accepted) {
		s->bad_bodies++;
		failed = 1;
		snprintf(what, sizeof(what), "a body the checker refused");
	} else {
		s->ok++;
	}
	if (failed) {
		int64_t at = lp_clock_mono_ms() - l->t0;
		if (s->first_failure_ms < 0) {
			s->first_failure_ms = at;
			snprintf(s->first_failure, sizeof(s->first_failure), "%s", what);
		}
		s->last_failure_ms = at;
		if (s->nfailures < LP_TEST_LOAD_FAILURES)
			s->failure_ms[s->nfailures++] = at;
	}
	pthread_mutex_unlock(&l->mu);
}

static void *load_main(void *arg)
{
	lp_test_load *l = arg;
	char hosthdr[320];
	struct curl_slist *hl;
	CURL *h = curl_easy_init();
	int64_t next = lp_clock_mono_ms() * 1000;
	lp_buf body;

	snprintf(hosthdr, sizeof(hosthdr), "Host: %s", l->host);
	hl = curl_slist_append(NULL, hosthdr);
	lp_buf_init(&body, LOAD_BODY_MAX);
	if (h == NULL || hl == NULL)
		goto done;
	curl_easy_setopt(h, CURLOPT_URL, l->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	while (!atomic_load(&l->stop)) {
		long status = 0;
		int64_t now_us;
		CURLcode cc;

		lp_buf_reset(&body);
		cc = curl_easy_perform(h);
		if (cc == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		record(l, status, cc,
		       cc == CURLE_OK &&
		           (l->check == NULL || l->check(l->ctx, lp_buf_cstr(&body), body.len)));
		next += l->interval_us;
		now_us = lp_clock_mono_ms() * 1000;
		if (next > now_us)
			lp_clock_sleep_ms((next - now_us) / 1000);
		else if (now_us - next > 1000000)
			next = now_us; /* fell behind by a second: do not burst to catch up */
	}
done:
	lp_buf_release(&body);
	curl_slist_free_all(hl);
	if (h)
		curl_easy_cleanup(h);
	return NULL;
}

int lp_test_load_start(lp_test_load **out, const char *url, const char *host, int nthreads,
                       int rate, lp_test_load_check_fn check, void *ctx, lp_error *err)
{
	lp_test_load *l;
	int i;

	*out = NULL;
	if (nthreads < 1 || nthreads > LOAD_MAX_THREADS || rate < 1)
		return lp_error_set(err, LP_EINVAL, "bad load shape (%d threads, %d req/s)",
		                    nthreads, rate);
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	snprintf(l->url, sizeof(l->url), "%s", url);
	snprintf(l->host, sizeof(l->host), "%s", host);
	l->nthreads = nthreads;
	l->interval_us = (int64_t)1000000 * nthreads / rate;
	l->check = check;
	l->ctx = ctx;
	l->stats.first_failure_ms = l->stats.last_failure_ms = -1;
	pthread_mutex_init(&l->mu, NULL);
	l->t0 = lp_clock_mono_ms();
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&l->threads[i], NULL, load_main, l) != 0) {
			lp_test_load_stop(NULL, l);
			return lp_error_set(err, LP_ERROR, "cannot start load thread %d", i);
		}
		l->started++;
	}
	*out = l;
	return LP_OK;
}

int64_t lp_test_load_elapsed_ms(const lp_test_load *l)
{
	return lp_clock_mono_ms() - l->t0;
}

void lp_test_load_peek(lp_test_load_stats *out, lp_test_load *l)
{
	pthread_mutex_lock(&l->mu);
	*out = l->stats;
	out->seconds = (double)(lp_clock_mono_ms() - l->t0) / 1000.0;
	pthread_mutex_unlock(&l->mu);
}

void lp_test_load_stop(lp_test_load_stats *out, lp_test_load *l)
{
	int i;

	if (l == NULL)
		return;
	atomic_store(&l->stop, 1);
	for (i = 0; i < l->started; i++)
		pthread_join(l->threads[i], NULL);
	if (out)
		lp_test_load_peek(out, l);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

uint64_t lp_test_load_failed(const lp_test_load_stats *s)
{
	return s->non2xx + s->socket_errs + s->bad_bodies;
}
