/*
 * check_apiserver_sse.c: build logs as Server-Sent Events (growth, long lines, CR, truncation), and
 * app logs (source=app: tail, follow across rotation, resume, bad parameters, auth).
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launchpad/buf.h"
#include "launchpad/fs.h"
#include "launchpad/store.h"
#include "tests/lib/api_server.h"
#include "tests/lib/testutil.h"

struct follow {
	struct lp_test_api *s;
	char path[256];
	const char *header; /* one extra request header, or NULL */
	lp_buf raw;         /* the stream as sent */
	lp_buf got;         /* the same without its "id: N" lines (the events' text) */
	long status;
	int ended;
};

static size_t on_sse(char *p, size_t sz, size_t n, void *ud)
{
	struct follow *f = ud;

	if (f->raw.max == 0)
		lp_buf_init(&f->raw, 1 << 20);
	/* Past the buffer's cap: stop the transfer, the test's checks then fail on what it has. */
	if (lp_buf_append(&f->raw, p, sz * n) != LP_OK)
		return 0;
	return sz * n;
}

/* got = raw without the lines that start with "id: " */
static void strip_ids(struct follow *f)
{
	const char *p = lp_buf_cstr(&f->raw), *nl;

	while (*p) {
		nl = strchr(p, '\n');
		nl = nl ? nl + 1 : p + strlen(p);
		/* Past the cap: stop, the test's checks then fail on what is there (a thread). */
		if (strncmp(p, "id: ", 4) != 0 &&
		    lp_buf_append(&f->got, p, (size_t)(nl - p)) != LP_OK)
			break;
		p = nl;
	}
}

static void *follow_logs(void *arg)
{
	struct follow *f = arg;
	CURL *c = curl_easy_init();
	struct curl_slist *hl = NULL;
	char url[512], h[256];

	snprintf(url, sizeof(url), "%s%s", f->s->base, f->path);
	snprintf(h, sizeof(h), "Authorization: Bearer %s", f->s->token);
	hl = curl_slist_append(hl, h);
	if (f->header)
		hl = curl_slist_append(hl, f->header);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_sse);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L); /* the stream must end well before this */
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	f->ended = curl_easy_perform(c) == CURLE_OK;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &f->status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	strip_ids(f);
	lp_buf_release(&f->raw);
	return NULL;
}

/* A site with revision 1 and its log path; the caller stops the server. */
static void sse_site(struct lp_test_api *s, char *id, size_t idlen, char *log, size_t loglen)
{
	cJSON *o;
	char dir[4096];

	lp_test_api_start(s, NULL);
	o = lp_test_api_create_github(s, NULL);
	snprintf(id, idlen, "%s", lp_test_api_jstr(o, "id"));
	snprintf(dir, sizeof(dir), "%s/logs/%s", s->dir, lp_test_api_jstr(o, "slug"));
	snprintf(log, loglen, "%s/1.log", dir);
	cJSON_Delete(o);
	ck_assert_int_eq(lp_fs_mkdirs(dir, 0750, NULL), LP_OK);
}

static void mark_ready(struct lp_test_api *s, const char *id)
{
	lp_store *st = lp_test_api_store(s);
	lp_store_revision rev = {.site_id = (char *)id, .number = 1, .state = LP_REV_READY};

	ck_assert_int_eq(lp_store_revision_update(st, &rev, NULL), LP_OK);
	lp_store_close(st);
}

START_TEST(test_sse_logs)
{
	struct lp_test_api s;
	struct lp_test_api_resp r;
	struct follow f = {0};
	pthread_t t;
	cJSON *o;
	char id[64], slug[80], dir[4096], path[4200];
	lp_store *st;
	lp_store_revision rev = {0};
	FILE *log;
	int i;

	lp_test_api_start(&s, NULL);
	o = lp_test_api_create_github(&s, NULL);
	snprintf(id, sizeof(id), "%s", lp_test_api_jstr(o, "id"));
	snprintf(slug, sizeof(slug), "%s", lp_test_api_jstr(o, "slug"));
	cJSON_Delete(o);
	snprintf(dir, sizeof(dir), "%s/logs/%s", s.dir, slug);
	snprintf(path, sizeof(path), "%s/1.log", dir);

	f.s = &s;
	lp_buf_init(&f.got, 1 << 20);
	snprintf(f.path, sizeof(f.path), "/api/deployments/%s/logs?revision=1", slug);
	pthread_create(&t, NULL, follow_logs, &f);
	usleep(300000); /* the client follows before the log exists */
	ck_assert_int_eq(lp_fs_mkdirs(dir, 0750, NULL), LP_OK);
	log = fopen(path, "a");
	ck_assert_ptr_nonnull(log);
	for (i = 1; i <= 3; i++) {
		fprintf(log, "step %d of the build\n", i);
		fflush(log);
		usleep(150000);
	}
	fprintf(log, "a partial line");
	fflush(log);
	fprintf(log, " completed\nlast line\n");
	fclose(log);
	/* the controller marks the revision final: the stream drains and ends */
	st = lp_test_api_store(&s);
	rev.site_id = id;
	rev.number = 1;
	rev.state = LP_REV_READY;
	ck_assert_int_eq(lp_store_revision_update(st, &rev, NULL), LP_OK);
	lp_store_close(st);
	pthread_join(t, NULL);
	ck_assert_int_eq(f.status, 200);
	ck_assert_msg(f.ended, "the stream did not end: %s", lp_buf_cstr(&f.got));
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&f.got), "data: step 1 of the build\n\n"));
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&f.got), "data: step 3 of the build\n\n"));
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&f.got), "data: a partial line completed\n\n"));
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&f.got), "data: last line\n\nevent: end\n"
	                                                  "data: ready\n\n"));
	lp_buf_release(&f.got);

	/* a finished revision streams its whole log and ends at once */
	memset(&f, 0, sizeof(f));
	f.s = &s;
	lp_buf_init(&f.got, 1 << 20);
	snprintf(f.path, sizeof(f.path), "/api/deployments/%s/logs", id);
	follow_logs(&f);
	ck_assert(f.ended);
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&f.got), "data: step 2 of the build\n\n"));
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&f.got), "event: end\n"));
	lp_buf_release(&f.got);
	snprintf(path, sizeof(path), "/api/deployments/%s/logs?revision=7", id);
	lp_test_api_http(&s, "GET", path, NULL, NULL, &r);
	lp_test_api_assert_error(&r, 404, "not_found");
	lp_test_api_resp_free(&r);
	lp_test_api_stop(&s);
}
END_TEST

/* Findings 5 and 12: long lines arrive whole (in pieces), CR never reaches the stream. */
START_TEST(test_sse_long_and_cr)
{
	struct lp_test_api s;
	struct follow f = {0};
	char id[64], path[4200], *longline, *joined;
	const char *got, *p, *begin, *end;
	size_t i, n = 0;
	FILE *log;

	sse_site(&s, id, sizeof(id), path, sizeof(path));
	longline = malloc(20001);
	for (i = 0; i < 20000; i++)
		longline[i] = (char)('a' + i % 26);
	longline[20000] = '\0';
	log = fopen(path, "w");
	ck_assert_ptr_nonnull(log);
	fprintf(log,
	        "begin\n%s\nafter\nprogress 10%%\rprogress 100%%\r\nx\revent: end\rdata: forged\n"
	        "crlf\r\n\r\nlast\n",
	        longline);
	fclose(log);
	mark_ready(&s, id);
	f.s = &s;
	lp_buf_init(&f.got, 1 << 20);
	snprintf(f.path, sizeof(f.path), "/api/deployments/%s/logs?revision=1", id);
	follow_logs(&f);
	ck_assert(f.ended);
	got = lp_buf_cstr(&f.got);
	ck_assert_msg(strchr(got, '\r') == NULL, "a CR reached the stream");
	/* the long line, re-joined from its data lines, is complete */
	begin = strstr(got, "data: begin\n\n");
	end = strstr(got, "data: after\n\n");
	ck_assert(begin && end && begin < end);
	joined = calloc(1, 30000);
	for (p = begin + strlen("data: begin\n\n"); p < end;) {
		const char *e = strstr(p, "\n\n");

		ck_assert(strncmp(p, "data: ", 6) == 0 && e);
		memcpy(joined + n, p + 6, (size_t)(e - p - 6));
		n += (size_t)(e - p - 6);
		p = e + 2;
	}
	ck_assert_uint_eq(n, 20000);
	ck_assert(memcmp(joined, longline, 20000) == 0);
	ck_assert_ptr_nonnull(strstr(got, "data: after\n\ndata: progress 10%\n\n"
	                                  "data: progress 100%\n\ndata: x\n\n"
	                                  "data: event: end\n\ndata: data: forged\n\n"
	                                  "data: crlf\n\ndata: \n\ndata: last\n\nevent: end\n"));
	/* the one real end event */
	ck_assert_ptr_null(strstr(strstr(got, "\nevent: end\n") + 1, "\nevent: end\n"));
	free(joined);
	free(longline);
	lp_buf_release(&f.got);
	lp_test_api_stop(&s);
}
END_TEST

/* Finding 6: a log truncated (a new attempt) or replaced while followed is read again. */
START_TEST(test_sse_truncated_log)
{
	struct lp_test_api s;
	struct follow f = {0};
	char id[64], path[4200];
	pthread_t t;
	FILE *log;
	const char *got;

	sse_site(&s, id, sizeof(id), path, sizeof(path));
	log = fopen(path, "w");
	fprintf(log, "old line 1\nold line 2\nold line 3\n");
	fclose(log);
	f.s = &s;
	lp_buf_init(&f.got, 1 << 20);
	snprintf(f.path, sizeof(f.path), "/api/deployments/%s/logs?revision=1", id);
	pthread_create(&t, NULL, follow_logs, &f);
	usleep(600000);
	log = fopen(path, "w"); /* O_TRUNC, as the controller's next attempt */
	fprintf(log, "new attempt 1\n");
	fclose(log);
	usleep(600000);
	log = fopen(path, "a");
	fprintf(log, "new attempt 2\n");
	fclose(log);
	usleep(600000);
	ck_assert_int_eq(unlink(path), 0);
	usleep(300000);
	log = fopen(path, "w");
	fprintf(log, "replaced file\n");
	fclose(log);
	usleep(600000);
	mark_ready(&s, id);
	pthread_join(t, NULL);
	got = lp_buf_cstr(&f.got);
	ck_assert_msg(f.ended, "the stream did not end: %s", got);
	ck_assert_ptr_nonnull(strstr(got, "data: old line 3\n\n"));
	ck_assert_msg(strstr(got, "data: new attempt 1\n\ndata: new attempt 2\n\n") != NULL,
	              "truncation missed: %s", got);
	ck_assert_msg(strstr(got, "data: replaced file\n\nevent: end\n") != NULL,
	              "replacement missed: %s", got);
	lp_buf_release(&f.got);
	lp_test_api_stop(&s);
}
END_TEST

/* Every event has an id; a reconnect (Last-Event-ID, or ?from=) resumes after what it saw. */
START_TEST(test_sse_ids_and_resume)
{
	struct lp_test_api s;
	struct follow f = {0};
	char id[64], path[4200];
	struct lp_test_api_resp r;
	const char *got;
	FILE *log;

	sse_site(&s, id, sizeof(id), path, sizeof(path));
	log = fopen(path, "w");
	ck_assert_ptr_nonnull(log);
	fprintf(log, "one\ntwo\nthree\nfour\nfive\n");
	fclose(log);
	mark_ready(&s, id);
	f.s = &s;
	lp_buf_init(&f.got, 1 << 20);
	snprintf(f.path, sizeof(f.path), "/api/deployments/%s/logs?revision=1", id);
	f.header = "Last-Event-ID: 3";
	follow_logs(&f);
	got = lp_buf_cstr(&f.got);
	ck_assert_msg(f.ended && strstr(got, "data: four\n\ndata: five\n\nevent: end\n") &&
	                  !strstr(got, "data: three"),
	              "resume after 3: %s", got);
	lp_buf_reset(&f.got);
	f.header = NULL;
	snprintf(f.path, sizeof(f.path), "/api/deployments/%s/logs?revision=1&from=4", id);
	follow_logs(&f);
	got = lp_buf_cstr(&f.got);
	ck_assert_msg(strstr(got, "data: five\n\nevent: end\n") && !strstr(got, "data: four"),
	              "from=4: %s", got);
	/* the raw stream numbers the events */
	lp_buf_reset(&f.got);
	snprintf(f.path, sizeof(f.path), "/api/deployments/%s/logs?revision=1&from=3", id);
	lp_buf_init(&f.raw, 1 << 20);
	{
		CURL *c = curl_easy_init();
		char url[512], h[256];
		struct curl_slist *hl;

		snprintf(url, sizeof(url), "%s%s", s.base, f.path);
		snprintf(h, sizeof(h), "Authorization: Bearer %s", s.token);
		hl = curl_slist_append(NULL, h);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_sse);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &f);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
		ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
		curl_slist_free_all(hl);
		curl_easy_cleanup(c);
	}
	ck_assert_msg(strstr(lp_buf_cstr(&f.raw), "id: 4\ndata: four\n\nid: 5\ndata: five\n\n") &&
	                  !strstr(lp_buf_cstr(&f.raw), "data: three"),
	              "ids: %s", lp_buf_cstr(&f.raw));
	lp_buf_release(&f.raw);
	/* a resume point that is not a count is refused */
	{
		const char *bad[] = {"Last-Event-ID: -1", NULL};
		char p2[300];

		snprintf(p2, sizeof(p2), "/api/deployments/%s/logs?revision=1", id);
		lp_test_api_request(NULL, &s, "GET", p2, NULL, NULL, 0, NULL, bad, NULL, &r);
		ck_assert_int_eq(r.status, 400);
		lp_test_api_resp_free(&r);
	}
	lp_buf_release(&f.got);
	lp_test_api_stop(&s);
}
END_TEST

/*
 * Issue 14.10: a stream opened on a revision that will never build (pending, and another one is
 * desired now) ends as superseded, instead of holding a thread and an inotify instance for an
 * hour; one opened on a revision passed over already ends at once. The follower's 20 s curl
 * timeout bounds the wait: ended means the server ended it.
 */
START_TEST(test_sse_superseded_ends)
{
	struct lp_test_api s;
	struct lp_test_api_resp r;
	struct follow f = {0};
	pthread_t t;
	char id[64], log[4200], path[256];

	sse_site(&s, id, sizeof(id), log, sizeof(log));
	f.s = &s;
	lp_buf_init(&f.got, 1 << 20);
	LP_TEST_FMT(f.path, "/api/deployments/%s/logs?revision=1", id);
	ck_assert_int_eq(pthread_create(&t, NULL, follow_logs, &f), 0);
	usleep(500000); /* the stream follows revision 1, pending */
	LP_TEST_FMT(path, "/api/deployments/%s/redeploy", id);
	ck_assert_int_eq(lp_test_api_http(&s, "POST", path, NULL, NULL, &r), 202);
	lp_test_api_resp_free(&r);
	pthread_join(t, NULL);
	ck_assert_msg(f.ended, "the stream of a superseded revision did not end: %s",
	              lp_buf_cstr(&f.got));
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&f.got), "event: end\ndata: superseded\n\n"));
	lp_buf_release(&f.got);
	/* revision 1 is passed over: a new stream on it ends at once */
	memset(&f, 0, sizeof(f));
	f.s = &s;
	lp_buf_init(&f.got, 1 << 20);
	LP_TEST_FMT(f.path, "/api/deployments/%s/logs?revision=1", id);
	follow_logs(&f);
	ck_assert(f.ended);
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&f.got), "data: superseded"));
	lp_buf_release(&f.got);
	lp_test_api_stop(&s);
}
END_TEST

/* ---- source=app: app.log written here as the controller's pump writes it ---- */

/* "<time> r1 stdout line <k>": line k's time is k seconds after a fixed start (k < 86400). */
static void app_line(FILE *fp, int k)
{
	fprintf(fp, "2026-12-01T%02d:%02d:%02d.%09dZ r1 %s line %d\n", k / 3600, k / 60 % 60,
	        k % 60, k, k % 2 ? "stdout" : "stderr", k);
}

static void app_lines(const char *path, const char *mode, int from, int to)
{
	FILE *fp = fopen(path, mode);
	int k;

	ck_assert_ptr_nonnull(fp);
	for (k = from; k <= to; k++)
		app_line(fp, k);
	ck_assert_int_eq(fclose(fp), 0);
}

/* A site whose app.log.1 holds lines 1..150 and app.log 151..300; *path is app.log. */
static void app_site(struct lp_test_api *s, char *slug, size_t slen, char *path, size_t plen)
{
	char dir[4096], part1[4200];
	cJSON *o;

	lp_test_api_start(s, NULL);
	o = lp_test_api_create_github(s, NULL);
	lp_test_fmt(slug, slen, "%s", lp_test_api_jstr(o, "slug"));
	cJSON_Delete(o);
	LP_TEST_FMT(dir, "%s/logs/%s", s->dir, slug);
	ck_assert_int_eq(lp_fs_mkdirs(dir, 0750, NULL), LP_OK);
	lp_test_fmt(path, plen, "%s/app.log", dir);
	LP_TEST_FMT(part1, "%s.1", path);
	app_lines(part1, "w", 1, 150);
	app_lines(path, "w", 151, 300);
}

/* The numbers of the "line <k>" data events of got, in order, must be first..last exactly. */
static void check_app_events(const char *got, int first, int last)
{
	const char *p = got;
	int want = first, k;

	while ((p = strstr(p, "data: 2026-")) != NULL) {
		p = strstr(p, " line ");
		ck_assert_ptr_nonnull(p);
		k = atoi(p + 6);
		ck_assert_msg(k == want, "line %d where %d was due in: %.300s", k, want, got);
		want++;
	}
	ck_assert_msg(want - 1 == last, "the stream ended at line %d, not %d: %.300s", want - 1,
	              last, got);
}

/* The tail of app.log.1 + app.log, then "end: eof"; tail=N; its bounds. */
START_TEST(test_app_logs_tail)
{
	struct lp_test_api s;
	struct lp_test_api_resp r;
	struct follow f = {0};
	char slug[80], path[4200], url[300];
	const char *got;

	app_site(&s, slug, sizeof(slug), path, sizeof(path));
	f.s = &s;
	lp_buf_init(&f.got, 1 << 20);
	LP_TEST_FMT(f.path, "/api/deployments/%s/logs?source=app", slug);
	follow_logs(&f);
	got = lp_buf_cstr(&f.got);
	ck_assert_int_eq(f.status, 200);
	ck_assert_msg(f.ended, "not ended: %s", got);
	check_app_events(got, 101, 300); /* the default 200, across the two parts */
	ck_assert_ptr_nonnull(strstr(got,
	                             "data: 2026-12-01T00:05:00.000000300Z r1 stderr line 300\n\n"
	                             "event: end\ndata: eof\n\n"));
	lp_buf_reset(&f.got);
	LP_TEST_FMT(f.path, "/api/deployments/%s/logs?source=app&tail=3", slug);
	follow_logs(&f);
	check_app_events(lp_buf_cstr(&f.got), 298, 300);
	lp_buf_reset(&f.got);
	LP_TEST_FMT(f.path, "/api/deployments/%s/logs?source=app&tail=0", slug);
	follow_logs(&f);
	ck_assert_ptr_null(strstr(lp_buf_cstr(&f.got), "data: 2026"));
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&f.got), "event: end\ndata: eof"));
	lp_buf_reset(&f.got);
	LP_TEST_FMT(f.path, "/api/deployments/%s/logs?source=app&tail=5000", slug);
	follow_logs(&f);
	check_app_events(lp_buf_cstr(&f.got), 1, 300);
	/* the event ids are the lines' times: the resumed stream starts after line 250 */
	lp_buf_reset(&f.got);
	LP_TEST_FMT(f.path, "/api/deployments/%s/logs?source=app", slug);
	f.header = "Last-Event-ID: 2026-12-01T00:04:10.000000250Z";
	follow_logs(&f);
	check_app_events(lp_buf_cstr(&f.got), 251, 300);
	f.header = NULL;
	lp_buf_release(&f.got);
	/* bounds: the tail, follow, the resume point, the source */
	{
		const char *bad[] = {"tail=5001", "tail=-1",     "tail=x",
		                     "follow=2",  "source=nope", "source="};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			LP_TEST_FMT(url, "/api/deployments/%s/logs?%s%s", slug,
			            strncmp(bad[i], "source", 6) ? "source=app&" : "", bad[i]);
			lp_test_api_http(&s, "GET", url, NULL, NULL, &r);
			lp_test_api_assert_error(&r, 400, "invalid");
			lp_test_api_resp_free(&r);
		}
	}
	{
		const char *hdr[] = {"Last-Event-ID: 12", NULL};

		LP_TEST_FMT(url, "/api/deployments/%s/logs?source=app", slug);
		lp_test_api_request(NULL, &s, "GET", url, NULL, NULL, 0, NULL, hdr, NULL, &r);
		lp_test_api_assert_error(&r, 400, "invalid");
		lp_test_api_resp_free(&r);
		/* the route's auth: no token, a wrong one */
		lp_test_api_request(NULL, &s, "GET", url, NULL, NULL, 0, "", NULL, NULL, &r);
		ck_assert_int_eq(r.status, 401);
		lp_test_api_resp_free(&r);
		lp_test_api_request(NULL, &s, "GET", url, NULL, NULL, 0, "lp_wrong", NULL, NULL,
		                    &r);
		ck_assert_int_eq(r.status, 401);
		lp_test_api_resp_free(&r);
		LP_TEST_FMT(url, "/api/deployments/no-such-site/logs?source=app");
		lp_test_api_http(&s, "GET", url, NULL, NULL, &r);
		ck_assert_int_eq(r.status, 404);
		lp_test_api_resp_free(&r);
	}
	lp_test_api_stop(&s);
}
END_TEST

/*
 * follow=1: the tail, then the lines appended, then app.log rotated to app.log.1 under the
 * stream and the new app.log's lines; the site's deletion ends it ("gone"). The follower's 20 s
 * curl timeout bounds the wait: ended means the server ended it.
 */
START_TEST(test_app_logs_follow_rotation)
{
	struct lp_test_api s;
	struct lp_test_api_resp r;
	struct follow f = {0};
	char slug[80], path[4200], part1[4300], url[300];
	pthread_t t;

	app_site(&s, slug, sizeof(slug), path, sizeof(path));
	LP_TEST_FMT(part1, "%s.1", path);
	f.s = &s;
	lp_buf_init(&f.got, 1 << 20);
	LP_TEST_FMT(f.path, "/api/deployments/%s/logs?source=app&follow=1&tail=10", slug);
	ck_assert_int_eq(pthread_create(&t, NULL, follow_logs, &f), 0);
	usleep(300000); /* the stream has sent its tail */
	app_lines(path, "a", 301, 320);
	usleep(300000);
	/* the pump's rotation: app.log becomes app.log.1, a new app.log follows */
	ck_assert_int_eq(rename(path, part1), 0);
	usleep(100000);
	app_lines(path, "w", 321, 340);
	usleep(300000);
	app_lines(path, "a", 341, 345);
	usleep(300000);
	LP_TEST_FMT(url, "/api/deployments/%s", slug);
	lp_test_api_http(&s, "DELETE", url, NULL, NULL, &r);
	ck_assert_int_lt(r.status, 300);
	lp_test_api_resp_free(&r);
	pthread_join(t, NULL);
	ck_assert_msg(f.ended, "the stream did not end: %s", lp_buf_cstr(&f.got));
	check_app_events(lp_buf_cstr(&f.got), 291, 345);
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&f.got), "event: end\ndata: gone\n\n"));
	lp_buf_release(&f.got);
	lp_test_api_stop(&s);
}
END_TEST

static Suite *apiserver_sse_suite(void)
{
	Suite *s = suite_create("apiserver_sse");
	TCase *tc = tcase_create("api");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sse_logs);
	tcase_add_test(tc, test_sse_long_and_cr);
	tcase_add_test(tc, test_sse_truncated_log);
	tcase_add_test(tc, test_sse_ids_and_resume);
	tcase_add_test(tc, test_sse_superseded_ends);
	tcase_add_test(tc, test_app_logs_tail);
	tcase_add_test(tc, test_app_logs_follow_rotation);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = lp_test_run(apiserver_sse_suite());
	curl_global_cleanup();
	return rc;
}
