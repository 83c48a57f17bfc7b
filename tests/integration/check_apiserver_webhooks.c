/*
 * check_apiserver_webhooks.c: GitHub push webhooks: signatures, dedupe, checks before the body,
 * a share of the body slots per site against slow senders, older pushes redelivered.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "launchpad/buf.h"
#include "launchpad/clock.h"
#include "launchpad/crypto.h"
#include "launchpad/spec.h"
#include "launchpad/store.h"
#include "tests/lib/api_server.h"
#include "tests/lib/testutil.h"

static long send_hook(struct lp_test_api *s, const char *id, const char *secret, const char *event,
                      const char *delivery, const char *ctype, const char *body, int forge,
                      struct lp_test_api_resp *r)
{
	char path[256], sig[LP_SHA256_HEX_LEN], hs[128], he[128], hd[128];
	const char *hdr[4] = {hs, he, hd, NULL};

	snprintf(path, sizeof(path), "/api/webhooks/github/%s", id);
	ck_assert_int_eq(lp_crypto_hmac_sha256_hex(sig, secret, strlen(secret), body, strlen(body)),
	                 LP_OK);
	if (forge)
		sig[0] = sig[0] == 'a' ? 'b' : 'a';
	snprintf(hs, sizeof(hs), "X-Hub-Signature-256: sha256=%s", sig);
	snprintf(he, sizeof(he), "X-GitHub-Event: %s", event);
	snprintf(hd, sizeof(hd), "X-GitHub-Delivery: %s", delivery);
	return lp_test_api_request(NULL, s, "POST", path, ctype, body, strlen(body), "", hdr, NULL,
	                           r);
}

static double desired_of(struct lp_test_api *s, const char *id)
{
	cJSON *g = lp_test_api_get_site(s, id);
	double d = lp_test_api_jnum(g, "desired_revision");

	cJSON_Delete(g);
	return d;
}

/* ---- raw connections: a request whose body never (or not yet) arrives ---- */

/* The status of the answer that arrives within ms (0: none; the body is still expected). */
static int raw_status(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char buf[512];
	ssize_t n;
	int status = 0;

	if (poll(&p, 1, ms) <= 0)
		return 0;
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "HTTP/1.1 %d", &status) != 1)
		status = -1;
	return status;
}

/* A webhook POST of 25 MiB declared, of which nothing has been sent. */
static int raw_hook(struct lp_test_api *s, const char *id, const char *sig_header)
{
	char head[1024];

	snprintf(head, sizeof(head),
	         "POST /api/webhooks/github/%s HTTP/1.1\r\nHost: x\r\n"
	         "Content-Type: application/json\r\nX-GitHub-Event: push\r\n"
	         "X-GitHub-Delivery: raw\r\n%s%sContent-Length: 26214400\r\n\r\n",
	         id, sig_header ? sig_header : "", sig_header ? "\r\n" : "");
	return lp_test_api_raw_open(s, head, "{\"ref\":");
}

START_TEST(test_webhooks)
{
	const char *push_main = "{\"ref\":\"refs/heads/main\",\"before\":\"0000\",\"after\":"
	                        "\"4b825dc642cb6eb9a060e54bf8d69288fbee4904\",\"deleted\":false}";
	const char *push_dev = "{\"ref\":\"refs/heads/dev\",\"after\":"
	                       "\"4b825dc642cb6eb9a060e54bf8d69288fbee4904\"}";
	const char *push_del = "{\"ref\":\"refs/heads/main\",\"after\":"
	                       "\"0000000000000000000000000000000000000000\",\"deleted\":true}";
	const char *push_next = "{\"ref\":\"refs/heads/main\",\"after\":"
	                        "\"9f3c5e1d2b4a69788fbee49044b825dc642cb6eb\"}";
	struct lp_test_api s;
	struct lp_test_api_resp r;
	cJSON *o;
	char id[64], secret[80], form[1024];
	lp_buf enc;
	const char *p;

	lp_test_api_start(&s, NULL);
	o = lp_test_api_create_github(&s, NULL);
	snprintf(id, sizeof(id), "%s", lp_test_api_jstr(o, "id"));
	snprintf(secret, sizeof(secret), "%s", lp_test_api_jstr(o, "webhook_secret"));
	cJSON_Delete(o);

	send_hook(&s, id, secret, "ping", "d-0", "application/json", "{\"zen\":\"x\"}", 0, &r);
	ck_assert_int_eq(r.status, 200);
	lp_test_api_resp_free(&r);
	/* forged: refused and not remembered (the genuine one with that id still works later) */
	send_hook(&s, id, secret, "push", "d-1", "application/json", push_main, 1, &r);
	lp_test_api_assert_error(&r, 401, "unauthorized");
	lp_test_api_resp_free(&r);
	ck_assert(desired_of(&s, id) == 1);
	send_hook(&s, id, secret, "push", "d-1", "application/json", push_main, 0, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(lp_test_api_jstr(r.json, "result"), "triggered");
	ck_assert(lp_test_api_jnum(r.json, "revision") == 2);
	lp_test_api_resp_free(&r);
	ck_assert(desired_of(&s, id) == 2);
	/* the same delivery again: acknowledged, no second revision */
	send_hook(&s, id, secret, "push", "d-1", "application/json", push_main, 0, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(lp_test_api_jstr(r.json, "result"), "duplicate");
	lp_test_api_resp_free(&r);
	ck_assert(desired_of(&s, id) == 2);
	/* the same push replayed under a new delivery id: the same commit, no second build */
	send_hook(&s, id, secret, "push", "d-1b", "application/json", push_main, 0, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, lp_buf_cstr(&r.body));
	ck_assert_str_eq(lp_test_api_jstr(r.json, "result"), "duplicate");
	lp_test_api_resp_free(&r);
	ck_assert(desired_of(&s, id) == 2);
	/* the build source is the pushed commit */
	{
		lp_store *st = lp_test_api_store(&s);
		lp_store_revision *rev = NULL;
		ck_assert_int_eq(lp_store_revision_get(&rev, st, id, 2, NULL), LP_OK);
		ck_assert_str_eq(rev->source, "4b825dc642cb6eb9a060e54bf8d69288fbee4904");
		ck_assert_str_eq(lp_store_trigger_name(rev->trigger), "webhook");
		lp_store_revision_free(rev);
		lp_store_close(st);
	}
	send_hook(&s, id, secret, "push", "d-2", "application/json", push_dev, 0, &r);
	ck_assert_int_eq(r.status, 202);
	ck_assert_ptr_nonnull(lp_test_api_jstr(r.json, "reason"));
	lp_test_api_resp_free(&r);
	send_hook(&s, id, secret, "push", "d-3", "application/json", push_del, 0, &r);
	ck_assert_int_eq(r.status, 202);
	lp_test_api_resp_free(&r);
	/* issue 13.12: a push that names no commit is refused with the reason, not "deleted" */
	send_hook(&s, id, secret, "push", "d-3a", "application/json",
	          "{\"ref\":\"refs/heads/main\"}", 0, &r);
	lp_test_api_assert_error(&r, 400, "invalid");
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&r.body), "no \\\"after\\\""));
	lp_test_api_resp_free(&r);
	send_hook(&s, id, secret, "push", "d-3b", "application/json",
	          "{\"ref\":\"refs/heads/main\",\"after\":\"main\"}", 0, &r);
	lp_test_api_assert_error(&r, 400, "invalid");
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&r.body), "not a commit id"));
	lp_test_api_resp_free(&r);
	/* an all-zero after without "deleted" is still a deleted branch */
	send_hook(&s, id, secret, "push", "d-3c", "application/json",
	          "{\"ref\":\"refs/heads/main\",\"after\":"
	          "\"0000000000000000000000000000000000000000\"}",
	          0, &r);
	ck_assert_int_eq(r.status, 202);
	ck_assert_ptr_nonnull(strstr(lp_test_api_jstr(r.json, "reason"), "deleted"));
	lp_test_api_resp_free(&r);
	send_hook(&s, id, secret, "issues", "d-4", "application/json", "{}", 0, &r);
	ck_assert_int_eq(r.status, 202);
	lp_test_api_resp_free(&r);
	ck_assert(desired_of(&s, id) == 2);
	/* GitHub's default content type: payload=<urlencoded JSON> */
	lp_buf_init(&enc, sizeof(form));
	ck_assert_int_eq(lp_buf_puts(&enc, "payload="), LP_OK);
	for (p = push_next; *p; p++)
		ck_assert_int_eq(lp_buf_printf(&enc, "%%%02X", (unsigned char)*p), LP_OK);
	send_hook(&s, id, secret, "push", "d-5", "application/x-www-form-urlencoded",
	          lp_buf_cstr(&enc), 0, &r);
	lp_buf_release(&enc);
	ck_assert_int_eq(r.status, 200);
	lp_test_api_resp_free(&r);
	ck_assert(desired_of(&s, id) == 3);
	send_hook(&s, id, secret, "push", "d-6", "text/plain", push_main, 0, &r);
	lp_test_api_assert_error(&r, 415, "unsupported");
	lp_test_api_resp_free(&r);
	/* a missing signature */
	{
		char path[256];
		const char *hdr[] = {"X-GitHub-Event: push", "X-GitHub-Delivery: d-7", NULL};
		snprintf(path, sizeof(path), "/api/webhooks/github/%s", id);
		lp_test_api_request(NULL, &s, "POST", path, "application/json", push_main,
		                    strlen(push_main), "", hdr, NULL, &r);
		lp_test_api_assert_error(&r, 401, "unauthorized");
		lp_test_api_resp_free(&r);
	}
	ck_assert(desired_of(&s, id) == 3);

	/* auto-deploy off: acknowledged, nothing bumped */
	o = lp_test_api_create_github(
	    &s, "{\"name\":\"manual\",\"source_type\":\"github\",\"github_url\":"
	        "\"https://github.com/user/repo\",\"auto_deploy\":false}");
	send_hook(&s, lp_test_api_jstr(o, "id"), lp_test_api_jstr(o, "webhook_secret"), "push",
	          "d-8", "application/json", push_main, 0, &r);
	ck_assert_int_eq(r.status, 202);
	lp_test_api_resp_free(&r);
	ck_assert(desired_of(&s, lp_test_api_jstr(o, "id")) == 1);
	cJSON_Delete(o);
	lp_test_api_stop(&s);
}
END_TEST

/* Finding 1: the site and the signature's form are checked before a body byte is read. */
START_TEST(test_webhook_before_body)
{
	const char *sig = "X-Hub-Signature-256: sha256="
	                  "0000000000000000000000000000000000000000000000000000000000000000";
	struct lp_test_api s;
	struct lp_test_api_resp r;
	cJSON *o;
	char id[64], secret[80], others[3][64];
	int fds[8], fd, i, st = 0;

	lp_test_api_start(&s, NULL);
	o = lp_test_api_create_github(&s, NULL);
	snprintf(id, sizeof(id), "%s", lp_test_api_jstr(o, "id"));
	snprintf(secret, sizeof(secret), "%s", lp_test_api_jstr(o, "webhook_secret"));
	cJSON_Delete(o);

	/* no such site: 404 at once, not after 25 MiB */
	fd = raw_hook(&s, "00000000-0000-0000-0000-000000000000", sig);
	ck_assert_int_eq(raw_status(fd, 3000), 404);
	close(fd);
	/* no signature, or a malformed one: 401 at once */
	fd = raw_hook(&s, id, NULL);
	ck_assert_int_eq(raw_status(fd, 3000), 401);
	close(fd);
	fd = raw_hook(&s, id, "X-Hub-Signature-256: sha256=00");
	ck_assert_int_eq(raw_status(fd, 3000), 401);
	close(fd);
	/* issue 14.2: a site's share, 2 bodies at once: its third is told to come back (429) */
	for (i = 0; i < 2; i++) {
		fds[i] = raw_hook(&s, id, sig);
		ck_assert_int_eq(raw_status(fds[i], 300), 0);
	}
	fd = raw_hook(&s, id, sig);
	ck_assert_int_eq(raw_status(fd, 3000), 429);
	close(fd);
	/* two more sites take 2 each: all 6 are received; then a fourth site hears 503 */
	for (i = 0; i < 3; i++) {
		o = lp_test_api_create_github(&s, NULL);
		LP_TEST_FMT(others[i], "%s", lp_test_api_jstr(o, "id"));
		cJSON_Delete(o);
	}
	for (i = 2; i < 6; i++) {
		fds[i] = raw_hook(&s, others[i / 2 - 1], sig);
		ck_assert_int_eq(raw_status(fds[i], 300), 0);
	}
	fd = raw_hook(&s, others[2], sig);
	ck_assert_int_eq(raw_status(fd, 3000), 503);
	close(fd);
	for (i = 0; i < 6; i++)
		close(fds[i]);
	/* the slots come back when those connections end */
	for (i = 0; i < 50 && st != 200; i++) {
		usleep(100000);
		st = (int)send_hook(&s, id, secret, "ping", "p-1", "application/json", "{}", 0, &r);
		lp_test_api_resp_free(&r);
	}
	ck_assert_int_eq(st, 200);
	lp_test_api_stop(&s);
}
END_TEST

/* GitHub's published vector, with the site's secret set through the store API. */
START_TEST(test_webhook_vector)
{
	struct lp_test_api s;
	struct lp_test_api_resp r;
	lp_store *st;
	lp_site_list list = {0};
	lp_store_site *site = NULL;
	char *json = NULL, hash[LP_SHA256_HEX_LEN], path[256];
	const char *m =
	    "apiVersion: launchpad.dev/v1\nkind: Site\nmetadata: {name: vector}\n"
	    "spec: {source: {git: {url: 'https://github.com/a/b'}}, autoDeploy: true}\n";
	const char *h1[] = {"X-GitHub-Event: ping", "X-GitHub-Delivery: v-1",
	                    "X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7"
	                    "586c22c46f4379c8b043e17",
	                    NULL};
	/* hex digits are case-insensitive */
	const char *h3[] = {"X-GitHub-Event: ping", "X-GitHub-Delivery: v-3",
	                    "X-Hub-Signature-256: sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7"
	                    "586C22C46F4379C8B043E17",
	                    NULL};
	const char *h2[] = {"X-GitHub-Event: ping", "X-GitHub-Delivery: v-2",
	                    "X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7"
	                    "586c22c46f4379c8b043e18",
	                    NULL};

	lp_test_api_start(&s, NULL);
	st = lp_test_api_store(&s);
	ck_assert_int_eq(lp_spec_parse(&list, m, strlen(m), NULL, NULL, NULL), LP_OK);
	ck_assert_int_eq(lp_site_to_json(&json, list.items[0], NULL), LP_OK);
	ck_assert_int_eq(lp_site_spec_hash(hash, list.items[0], NULL), LP_OK);
	{
		lp_store_site_new in = {.name = "vector",
		                        .spec_json = json,
		                        .spec_hash = hash,
		                        .webhook_secret = "It's a Secret to Everybody",
		                        .trigger = LP_TRIGGER_CREATE};
		ck_assert_int_eq(lp_store_site_create(&site, st, &in, NULL), LP_OK);
	}
	snprintf(path, sizeof(path), "/api/webhooks/github/%s", site->id);
	lp_test_api_request(NULL, &s, "POST", path, "application/json", "Hello, World!", 13, "", h1,
	                    NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, lp_buf_cstr(&r.body));
	lp_test_api_resp_free(&r);
	lp_test_api_request(NULL, &s, "POST", path, "application/json", "Hello, World!", 13, "", h2,
	                    NULL, &r);
	lp_test_api_assert_error(&r, 401, "unauthorized");
	lp_test_api_resp_free(&r);
	lp_test_api_request(NULL, &s, "POST", path, "application/json", "Hello, World!", 13, "", h3,
	                    NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, lp_buf_cstr(&r.body));
	lp_test_api_resp_free(&r);
	lp_test_api_request(NULL, &s, "POST", path, "application/json", "Hello, World?", 13, "", h1,
	                    NULL, &r);
	lp_test_api_assert_error(&r, 401, "unauthorized");
	lp_test_api_resp_free(&r);
	lp_store_site_free(site);
	lp_site_list_release(&list);
	free(json);
	lp_store_close(st);
	lp_test_api_stop(&s);
}
END_TEST

/* ---- issue 14.2: slow senders to one site's URL ---- */

/*
 * The red team used 4; here as many as the server receives at once (API_WEBHOOK_BODIES), so
 * only the per-site share leaves room for the other site.
 */
#define SLOW_SENDERS   6
#define SLOW_BYTE_MS   5000  /* one body byte every 5 s */
#define SLOW_ATTACK_MS 25000 /* two body deadlines and more */
#define SLOW_PAUSE_MS  200   /* before a sender that was cut comes back */
#define SLOW_GAP_MS    100   /* between the other site's deliveries */

struct slow {
	struct lp_test_api *s;
	const char *id;
	int stop; /* atomic */
	uint64_t opened, refused, cut_408, cut_other;
};

static const char slow_sig[] = "X-Hub-Signature-256: sha256="
                               "0000000000000000000000000000000000000000000000000000000000000000";

static int slow_open(struct slow *w)
{
	char head[1024];

	w->opened++;
	LP_TEST_FMT(head,
	            "POST /api/webhooks/github/%s HTTP/1.1\r\nHost: x\r\n"
	            "Content-Type: application/json\r\nX-GitHub-Event: push\r\n"
	            "X-GitHub-Delivery: slow\r\n%s\r\nContent-Length: 100000\r\n\r\n",
	            w->id, slow_sig);
	return lp_test_api_raw_open(w->s, head, "{");
}

/* Four connections with a bogus signature, a byte of body every 5 s; cut ones come back. */
static void *slow_main(void *arg)
{
	struct slow *w = arg;
	struct pollfd p[SLOW_SENDERS];
	int64_t due[SLOW_SENDERS], back[SLOW_SENDERS] = {0}, now;
	char buf[512];
	int i, st;

	for (i = 0; i < SLOW_SENDERS; i++) {
		p[i] = (struct pollfd){.fd = slow_open(w), .events = POLLIN};
		due[i] = lp_clock_mono_ms() + SLOW_BYTE_MS;
	}
	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		now = lp_clock_mono_ms();
		for (i = 0; i < SLOW_SENDERS; i++) {
			if (p[i].fd < 0 && now >= back[i]) {
				p[i].fd = slow_open(w);
				due[i] = now + SLOW_BYTE_MS;
			}
			/* a send that fails is a connection the server ended: poll reports it */
			if (p[i].fd >= 0 && now >= due[i]) {
				if (send(p[i].fd, " ", 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1)
					p[i].events = POLLIN;
				due[i] = now + SLOW_BYTE_MS;
			}
		}
		if (poll(p, SLOW_SENDERS, 100) <= 0)
			continue;
		for (i = 0; i < SLOW_SENDERS; i++) {
			ssize_t n;

			if (p[i].fd < 0 || p[i].revents == 0)
				continue;
			n = recv(p[i].fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
			buf[n > 0 ? n : 0] = '\0';
			st = 0;
			if (n <= 0 || sscanf(buf, "HTTP/1.1 %d", &st) != 1)
				st = 0;
			if (st == 429 || st == 503)
				w->refused++;
			else if (st == 408)
				w->cut_408++;
			else
				w->cut_other++;
			close(p[i].fd);
			p[i].fd = -1;
			p[i].revents = 0;
			back[i] = lp_clock_mono_ms() + SLOW_PAUSE_MS;
		}
	}
	for (i = 0; i < SLOW_SENDERS; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	return NULL;
}

/*
 * Issue 14.2: slow connections to site A's webhook URL, a bogus signature, Content-Length 100000
 * and one byte every 5 s (on main, 4 of them made every other site's valid deliveries get 503
 * "too many webhook deliveries in progress (4)"). Site B's deliveries must get through (>= 99%),
 * and the slow bodies are cut at their deadline (408).
 */
START_TEST(test_slow_senders)
{
	const char *push = "{\"ref\":\"refs/heads/main\",\"before\":"
	                   "\"1111111111111111111111111111111111111111\",\"after\":"
	                   "\"4b825dc642cb6eb9a060e54bf8d69288fbee4904\"}";
	struct lp_test_api s;
	struct lp_test_api_resp r;
	struct slow w = {0};
	pthread_t t;
	cJSON *a, *b;
	char delivery[64];
	uint64_t total = 0, ok = 0;
	long first_bad = 0;
	int64_t t0;
	int i;

	lp_test_api_start(&s, NULL);
	a = lp_test_api_create_github(&s, NULL);
	b = lp_test_api_create_github(&s, NULL);
	w.s = &s;
	w.id = lp_test_api_jstr(a, "id");
	ck_assert_int_eq(pthread_create(&t, NULL, slow_main, &w), 0);
	usleep(500000); /* the slow senders hold what they can get before B's first delivery */
	t0 = lp_clock_mono_ms();
	for (i = 0; lp_clock_mono_ms() - t0 < SLOW_ATTACK_MS; i++) {
		LP_TEST_FMT(delivery, "b-%d", i);
		/* pings, and one push again and again: 200 each (triggered, then duplicate) */
		send_hook(&s, lp_test_api_jstr(b, "id"), lp_test_api_jstr(b, "webhook_secret"),
		          i % 2 ? "push" : "ping", delivery, "application/json",
		          i % 2 ? push : "{}", 0, &r);
		total++;
		if (r.status == 200)
			ok++;
		else if (first_bad == 0)
			first_bad = r.status;
		lp_test_api_resp_free(&r);
		usleep(SLOW_GAP_MS * 1000);
	}
	__atomic_store_n(&w.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	printf("  slow webhook senders: %d to one site (1 body byte / %d s) for %d s: the other "
	       "site's deliveries %llu/%llu ok (%.1f%%); slow connections %llu, refused at once "
	       "%llu (429/503), cut at the body deadline %llu (408), other ends %llu\n",
	       SLOW_SENDERS, SLOW_BYTE_MS / 1000, SLOW_ATTACK_MS / 1000, (unsigned long long)ok,
	       (unsigned long long)total, total ? 100.0 * (double)ok / (double)total : 0.0,
	       (unsigned long long)w.opened, (unsigned long long)w.refused,
	       (unsigned long long)w.cut_408, (unsigned long long)w.cut_other);
	ck_assert_uint_ge(total, 50);
	ck_assert_msg(ok * 100 >= total * 99,
	              "only %llu of %llu deliveries answered 200 (first: %ld)",
	              (unsigned long long)ok, (unsigned long long)total, first_bad);
	ck_assert_uint_ge(w.cut_408, 2); /* the bodies that got a slot did not keep it */
	ck_assert(desired_of(&s, lp_test_api_jstr(a, "id")) == 1);
	cJSON_Delete(a);
	cJSON_Delete(b);
	lp_test_api_stop(&s);
}
END_TEST

/*
 * A redelivery of an older push after a newer one builds nothing: the commit was built before
 * and the push does not start at the newest one. A push back to that commit from the newest
 * (a force-push to roll back) does build.
 */
START_TEST(test_older_push_redelivered)
{
	static const char A[] = "1111111111111111111111111111111111111111";
	static const char B[] = "2222222222222222222222222222222222222222";
	static const char C[] = "3333333333333333333333333333333333333333";
	struct lp_test_api s;
	struct lp_test_api_resp r;
	char push1[256], push2[256], back[256], id[64], secret[80];
	cJSON *o;

	lp_test_api_start(&s, NULL);
	o = lp_test_api_create_github(&s, NULL);
	LP_TEST_FMT(id, "%s", lp_test_api_jstr(o, "id"));
	LP_TEST_FMT(secret, "%s", lp_test_api_jstr(o, "webhook_secret"));
	cJSON_Delete(o);
	LP_TEST_FMT(push1, "{\"ref\":\"refs/heads/main\",\"before\":\"%s\",\"after\":\"%s\"}", A,
	            B);
	LP_TEST_FMT(push2, "{\"ref\":\"refs/heads/main\",\"before\":\"%s\",\"after\":\"%s\"}", B,
	            C);
	LP_TEST_FMT(back, "{\"ref\":\"refs/heads/main\",\"before\":\"%s\",\"after\":\"%s\"}", C, B);
	send_hook(&s, id, secret, "push", "p-1", "application/json", push1, 0, &r);
	ck_assert_str_eq(lp_test_api_jstr(r.json, "result"), "triggered");
	lp_test_api_resp_free(&r);
	send_hook(&s, id, secret, "push", "p-2", "application/json", push2, 0, &r);
	ck_assert_str_eq(lp_test_api_jstr(r.json, "result"), "triggered");
	lp_test_api_resp_free(&r);
	ck_assert(desired_of(&s, id) == 3);
	/* GitHub's "Redeliver" of the first push, under a new delivery id */
	send_hook(&s, id, secret, "push", "p-1-again", "application/json", push1, 0, &r);
	ck_assert_msg(r.status == 202, "%ld %s", r.status, lp_buf_cstr(&r.body));
	ck_assert_str_eq(lp_test_api_jstr(r.json, "result"), "ignored");
	ck_assert_ptr_nonnull(strstr(lp_test_api_jstr(r.json, "reason"), "older push"));
	lp_test_api_resp_free(&r);
	ck_assert(desired_of(&s, id) == 3);
	/* the newest one again: a duplicate */
	send_hook(&s, id, secret, "push", "p-2-again", "application/json", push2, 0, &r);
	ck_assert_str_eq(lp_test_api_jstr(r.json, "result"), "duplicate");
	lp_test_api_resp_free(&r);
	/* back from C to B: a new push, built */
	send_hook(&s, id, secret, "push", "p-3", "application/json", back, 0, &r);
	ck_assert_str_eq(lp_test_api_jstr(r.json, "result"), "triggered");
	lp_test_api_resp_free(&r);
	ck_assert(desired_of(&s, id) == 4);
	lp_test_api_stop(&s);
}
END_TEST

/* Issue 14.7/14.8 on the webhook: \u0000 in the payload and a non-ASCII delivery id: 400. */
START_TEST(test_webhook_input)
{
	struct lp_test_api s;
	struct lp_test_api_resp r;
	char id[64], secret[80];
	cJSON *o;

	lp_test_api_start(&s, NULL);
	o = lp_test_api_create_github(&s, NULL);
	LP_TEST_FMT(id, "%s", lp_test_api_jstr(o, "id"));
	LP_TEST_FMT(secret, "%s", lp_test_api_jstr(o, "webhook_secret"));
	cJSON_Delete(o);
	send_hook(&s, id, secret, "push", "n-1", "application/json",
	          "{\"ref\":\"refs/heads/main\\u0000x\",\"after\":"
	          "\"4b825dc642cb6eb9a060e54bf8d69288fbee4904\"}",
	          0, &r);
	lp_test_api_assert_error(&r, 400, "invalid");
	lp_test_api_resp_free(&r);
	send_hook(&s, id, secret, "push", "n-2", "application/json",
	          "{\"ref\":\"refs/heads/main\",\"after\":"
	          "\"4b825dc642cb6eb9a060e54bf8d69288fbee4904\"}xx",
	          0, &r);
	lp_test_api_assert_error(&r, 400, "invalid");
	lp_test_api_resp_free(&r);
	send_hook(&s, id, secret, "ping", "d\xc3\xa9livery", "application/json", "{}", 0, &r);
	lp_test_api_assert_error(&r, 400, "invalid");
	lp_test_api_resp_free(&r);
	ck_assert(desired_of(&s, id) == 1);
	lp_test_api_stop(&s);
}
END_TEST

static Suite *apiserver_webhooks_suite(void)
{
	Suite *s = suite_create("apiserver_webhooks");
	TCase *tc = tcase_create("api");
	TCase *attack = tcase_create("attack");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_webhooks);
	tcase_add_test(tc, test_webhook_before_body);
	tcase_add_test(tc, test_webhook_vector);
	tcase_add_test(tc, test_older_push_redelivered);
	tcase_add_test(tc, test_webhook_input);
	suite_add_tcase(s, tc);
	tcase_set_timeout(attack, 120);
	tcase_add_test(attack, test_slow_senders);
	suite_add_tcase(s, attack);
	return s;
}

int main(void)
{
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = lp_test_run(apiserver_webhooks_suite());
	curl_global_cleanup();
	return rc;
}
