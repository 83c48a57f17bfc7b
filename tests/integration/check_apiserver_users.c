/*
 * check_apiserver_users.c: users and roles, password login (expiry, logout, rate limits), and
 * ownership: every site route of the route table refuses another user's site with 404.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apiserver/apiserver_internal.h"
#include "tests/lib/api_server.h"
#include "tests/lib/testutil.h"

#define JSON "application/json"

static long post_json(struct lp_test_api *s, const char *path, const char *token, const char *body,
                      struct lp_test_api_resp *r)
{
	return lp_test_api_request(NULL, s, "POST", path, JSON, body, strlen(body), token, NULL,
	                           NULL, r);
}

static void make_user(struct lp_test_api *s, const char *name, const char *role)
{
	struct lp_test_api_resp r;
	char body[256];

	LP_TEST_FMT(body, "{\"username\":\"%s\",\"password\":\"pw-of-%s\",\"role\":\"%s\"}", name,
	            name, role);
	post_json(s, "/api/users", NULL, body, &r);
	ck_assert_msg(r.status == 201, "creating %s: %ld %s", name, r.status, lp_buf_cstr(&r.body));
	ck_assert_str_eq(lp_test_api_jstr(r.json, "username"), name);
	ck_assert_str_eq(lp_test_api_jstr(r.json, "role"), role);
	ck_assert_ptr_null(strstr(lp_buf_cstr(&r.body), "pw-of-"));
	lp_test_api_resp_free(&r);
}

/* POST /api/login; the token into tok (when 200). Returns the status. */
static long login(struct lp_test_api *s, const char *name, const char *password, char *tok,
                  size_t toklen, struct lp_test_api_resp *keep)
{
	struct lp_test_api_resp r;
	char body[512];
	long st;

	LP_TEST_FMT(body, "{\"username\":\"%s\",\"password\":\"%s\"}", name, password);
	st = post_json(s, "/api/login", "", body, &r);
	if (st == 200 && tok)
		snprintf(tok, toklen, "%s", lp_test_api_jstr(r.json, "token"));
	if (keep)
		*keep = r;
	else
		lp_test_api_resp_free(&r);
	return st;
}

static void login_ok(struct lp_test_api *s, const char *name, char *tok, size_t toklen)
{
	char pw[128];

	LP_TEST_FMT(pw, "pw-of-%s", name);
	ck_assert_int_eq(login(s, name, pw, tok, toklen, NULL), 200);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* 1 when the file at path holds needle anywhere (the raw bytes, as an attacker reads them). */
static int file_has(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	size_t n = strlen(needle), cap = 0, len = 0, got;
	char *buf = NULL;
	int found = 0;

	if (f == NULL)
		return 0;
	do {
		if (len + 65536 > cap) {
			cap = (len + 65536) * 2;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
		got = fread(buf + len, 1, 65536, f);
		len += got;
	} while (got > 0);
	fclose(f);
	for (size_t i = 0; !found && len >= n && i <= len - n; i++)
		found = memcmp(buf + i, needle, n) == 0;
	free(buf);
	return found;
}

/* Whether any of the store's files (db, -wal) holds needle. */
static int store_has(struct lp_test_api *s, const char *needle)
{
	char path[4096];
	int found;

	LP_TEST_FMT(path, "%s/db/launchpad.db", s->dir);
	found = file_has(path, needle);
	LP_TEST_FMT(path, "%s/db/launchpad.db-wal", s->dir);
	return found || file_has(path, needle);
}

START_TEST(test_users_and_login)
{
	const char *ttl[] = {"--session-ttl", "10", NULL};
	struct lp_test_api s;
	struct lp_test_api_resp r, r2;
	char alice[128], tok2[128];
	double t0, wrong_s, unknown_s;
	int i, limited;

	lp_test_api_start(&s, ttl);
	make_user(&s, "alice", "member");
	make_user(&s, "carol", "admin");
	/* what POST /api/users refuses */
	post_json(&s, "/api/users", NULL, "{\"username\":\"alice\",\"password\":\"12345678\"}", &r);
	lp_test_api_assert_error(&r, 409, "already_exists");
	lp_test_api_resp_free(&r);
	post_json(&s, "/api/users", NULL, "{\"username\":\"dave\",\"password\":\"short\"}", &r);
	lp_test_api_assert_error(&r, 400, "invalid");
	lp_test_api_resp_free(&r);
	post_json(&s, "/api/users", NULL,
	          "{\"username\":\"dave\",\"password\":\"12345678\",\"role\":\"root\"}", &r);
	lp_test_api_assert_error(&r, 400, "invalid");
	lp_test_api_resp_free(&r);
	post_json(&s, "/api/users", NULL, "{\"username\":\"Dave!\",\"password\":\"12345678\"}", &r);
	lp_test_api_assert_error(&r, 400, "invalid");
	lp_test_api_resp_free(&r);

	/* a member logs in; the session speaks for them and is for admin routes forbidden */
	login_ok(&s, "alice", alice, sizeof(alice));
	ck_assert_int_eq(strncmp(alice, "lp_", 3), 0);
	lp_test_api_request(NULL, &s, "GET", "/api/me", NULL, NULL, 0, alice, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(lp_test_api_jstr(r.json, "username"), "alice");
	ck_assert_str_eq(lp_test_api_jstr(r.json, "role"), "member");
	lp_test_api_resp_free(&r);
	lp_test_api_request(NULL, &s, "GET", "/api/users", NULL, NULL, 0, alice, NULL, NULL, &r);
	lp_test_api_assert_error(&r, 403, "forbidden");
	lp_test_api_resp_free(&r);
	post_json(&s, "/api/users", alice,
	          "{\"username\":\"eve\",\"password\":\"12345678\",\"role\":\"admin\"}", &r);
	lp_test_api_assert_error(&r, 403, "forbidden");
	lp_test_api_resp_free(&r);
	lp_test_api_request(NULL, &s, "DELETE", "/api/users/carol", NULL, NULL, 0, alice, NULL,
	                    NULL, &r);
	lp_test_api_assert_error(&r, 403, "forbidden");
	lp_test_api_resp_free(&r);
	/* an admin user's session manages users */
	login_ok(&s, "carol", tok2, sizeof(tok2));
	lp_test_api_request(NULL, &s, "GET", "/api/users", NULL, NULL, 0, tok2, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(cJSON_GetArraySize(r.json), 3); /* admin, alice, carol */
	ck_assert_ptr_null(strstr(lp_buf_cstr(&r.body), "scrypt"));
	lp_test_api_resp_free(&r);

	/* neither tokens nor passwords are in the store's files in clear */
	ck_assert(!store_has(&s, alice));
	ck_assert(!store_has(&s, tok2));
	ck_assert(!store_has(&s, "pw-of-alice"));
	ck_assert(store_has(&s, "scrypt$15$8$1$"));

	/* a wrong password and an unknown user: one status, one message, both spend a scrypt */
	t0 = now_s();
	ck_assert_int_eq(login(&s, "carol", "not-her-password", NULL, 0, &r), 401);
	wrong_s = now_s() - t0;
	t0 = now_s();
	ck_assert_int_eq(login(&s, "nobody-here", "not-her-password", NULL, 0, &r2), 401);
	unknown_s = now_s() - t0;
	ck_assert_str_eq(lp_buf_cstr(&r.body), lp_buf_cstr(&r2.body));
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&r.body), "wrong user name or password"));
	lp_test_api_resp_free(&r);
	lp_test_api_resp_free(&r2);
	printf("  login refused: wrong password %.0f ms, unknown user %.0f ms\n", wrong_s * 1000,
	       unknown_s * 1000);

	/* logout revokes the session (a fresh one: scrypt on a loaded machine takes seconds) */
	login_ok(&s, "carol", tok2, sizeof(tok2));
	post_json(&s, "/api/logout", tok2, "", &r);
	ck_assert_int_eq(r.status, 200);
	lp_test_api_resp_free(&r);
	lp_test_api_request(NULL, &s, "GET", "/api/me", NULL, NULL, 0, tok2, NULL, NULL, &r);
	lp_test_api_assert_error(&r, 401, "unauthorized");
	lp_test_api_resp_free(&r);

	/* a session ends at its expiry (--session-ttl 10) */
	login_ok(&s, "alice", alice, sizeof(alice));
	lp_test_api_request(NULL, &s, "GET", "/api/me", NULL, NULL, 0, alice, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	lp_test_api_resp_free(&r);
	sleep(11);
	lp_test_api_request(NULL, &s, "GET", "/api/me", NULL, NULL, 0, alice, NULL, NULL, &r);
	lp_test_api_assert_error(&r, 401, "unauthorized");
	lp_test_api_resp_free(&r);
	/* the admin token file keeps working beside users */
	lp_test_api_request(NULL, &s, "GET", "/api/me", NULL, NULL, 0, NULL, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(lp_test_api_jstr(r.json, "username"), "admin");
	lp_test_api_resp_free(&r);

	/* per user: after 5 attempts the name is held, even with the right password */
	login_ok(&s, "alice", alice, sizeof(alice)); /* a good login costs nothing */
	/* (a slow machine may regain one attempt meanwhile: 5 a minute) */
	for (i = 0, limited = 0; i < API_LOGIN_BURST + 2 && !limited; i++)
		limited = login(&s, "alice", "guess", NULL, 0, NULL) == 429;
	ck_assert_msg(limited, "the name was never limited");
	ck_assert_int_gt(i, API_LOGIN_BURST);
	ck_assert_int_eq(login(&s, "alice", "pw-of-alice", NULL, 0, &r), 429);
	ck_assert_str_ne(r.retry_after, "");
	lp_test_api_resp_free(&r);
	/* another name from the same address still gets in, until the address's own limit */
	login_ok(&s, "carol", tok2, sizeof(tok2));
	/* each refused attempt spends a scrypt while the bucket refills 1 in 3 s: bounded anyway */
	for (i = 0, limited = 0; i < 3 * API_LOGIN_IP_BURST && !limited; i++) {
		char name[32];

		LP_TEST_FMT(name, "stranger%d", i);
		limited = login(&s, name, "guess", NULL, 0, NULL) == 429;
	}
	ck_assert_msg(limited, "the address was never limited");
	lp_test_api_stop(&s);
}
END_TEST

/* A site created by token tok: its id into id, its secret (from the create answer) into secret. */
static void create_site(struct lp_test_api *s, const char *tok, const char *name, char *id,
                        size_t idlen, char *secret, size_t slen)
{
	struct lp_test_api_resp r;
	char body[512];

	LP_TEST_FMT(body,
	            "{\"name\":\"%s\",\"source_type\":\"github\",\"github_url\":"
	            "\"https://github.com/user/repo\",\"build_cmd\":\"true\",\"output_dir\":\".\"}",
	            name);
	post_json(s, "/api/deployments", tok, body, &r);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, lp_buf_cstr(&r.body));
	snprintf(id, idlen, "%s", lp_test_api_jstr(r.json, "id"));
	ck_assert_int_eq((int)strlen(lp_test_api_jstr(r.json, "webhook_secret")), 64);
	snprintf(secret, slen, "%s", lp_test_api_jstr(r.json, "webhook_secret"));
	lp_test_api_resp_free(&r);
}

/* The names (slugs) of the sites token tok lists, comma-joined into out. */
static void list_names(struct lp_test_api *s, const char *tok, char *out, size_t outlen)
{
	struct lp_test_api_resp r;
	const cJSON *e;

	out[0] = '\0';
	lp_test_api_request(NULL, s, "GET", "/api/deployments", NULL, NULL, 0, tok, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	cJSON_ArrayForEach(e, r.json)
	{
		size_t used = strlen(out);

		ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(e, "webhook_secret")));
		snprintf(out + used, outlen - used, "%s%s", used ? "," : "",
		         lp_test_api_jstr(e, "name"));
	}
	lp_test_api_resp_free(&r);
}

/* The route's pattern with :id (and any other :param) replaced by id. */
static void route_path(char *out, size_t outlen, const char *pattern, const char *id)
{
	size_t o = 0;
	const char *p = pattern;

	while (*p && o + 1 < outlen) {
		if (*p == ':') {
			o += (size_t)snprintf(out + o, outlen - o, "%s", id);
			while (*p && *p != '/')
				p++;
			continue;
		}
		out[o++] = *p++;
	}
	out[o < outlen ? o : outlen - 1] = '\0';
}

START_TEST(test_ownership_route_table)
{
	struct lp_test_api s;
	struct lp_test_api_resp r;
	char alice[128], bob[128], a_id[64], b_id[64], a_secret[128], b_secret[128];
	char path[512], names[1024], slug[128];
	double rv;
	size_t i, checked = 0;

	lp_test_api_start(&s, NULL);
	make_user(&s, "alice", "member");
	make_user(&s, "bob", "member");
	login_ok(&s, "alice", alice, sizeof(alice));
	login_ok(&s, "bob", bob, sizeof(bob));
	create_site(&s, alice, "alices-site", a_id, sizeof(a_id), a_secret, sizeof(a_secret));
	create_site(&s, bob, "bobs-site", b_id, sizeof(b_id), b_secret, sizeof(b_secret));
	lp_test_api_request(NULL, &s, "GET", "/api/deployments/", NULL, NULL, 0, alice, NULL, NULL,
	                    &r);
	lp_test_api_resp_free(&r);
	{
		cJSON *a = lp_test_api_get_site(&s, a_id);

		rv = lp_test_api_jnum(a, "resource_version");
		LP_TEST_FMT(slug, "%s", lp_test_api_jstr(a, "slug"));
		ck_assert_str_eq(lp_test_api_jstr(a, "owner"), "alice");
		/* GET never shows the secret */
		ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(a, "webhook_secret")));
		cJSON_Delete(a);
	}

	/* every site route of the table, by id and by name, answers bob 404 on alice's site */
	for (i = 0; i < api_nroutes; i++) {
		const struct api_route *rt = &api_routes[i];
		const char *keys[] = {a_id, slug};
		size_t k;

		if (rt->scope != API_SCOPE_SITE)
			continue;
		for (k = 0; k < 2; k++) {
			route_path(path, sizeof(path), rt->pattern, keys[k]);
			lp_test_api_request(NULL, &s, rt->method, path, JSON, "{}", 2, bob, NULL,
			                    NULL, &r);
			ck_assert_msg(r.status == 404, "%s %s answered bob %ld: %s", rt->method,
			              path, r.status, lp_buf_cstr(&r.body));
			lp_test_api_assert_error(&r, 404, "not_found");
			/* the very answer a missing site gets: nothing tells them apart */
			ck_assert_ptr_null(strstr(lp_buf_cstr(&r.body), "alice"));
			lp_test_api_resp_free(&r);
		}
		checked++;
	}
	ck_assert_uint_ge(checked, 12);
	/* none of that touched alice's site */
	{
		cJSON *a = lp_test_api_get_site(&s, a_id);

		ck_assert(lp_test_api_jnum(a, "resource_version") == rv);
		ck_assert(!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "deletion_timestamp")));
		cJSON_Delete(a);
	}
	/* each list shows its owner's sites only; an admin's shows both */
	list_names(&s, alice, names, sizeof(names));
	ck_assert_str_eq(names, "alices-site");
	list_names(&s, bob, names, sizeof(names));
	ck_assert_str_eq(names, "bobs-site");
	list_names(&s, NULL, names, sizeof(names));
	ck_assert_str_eq(names, "alices-site,bobs-site");

	/* the webhook secret: the owner's explicit endpoint has it */
	LP_TEST_FMT(path, "/api/deployments/%s/webhook", a_id);
	lp_test_api_request(NULL, &s, "GET", path, NULL, NULL, 0, alice, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(lp_test_api_jstr(r.json, "webhook_secret"), a_secret);
	lp_test_api_resp_free(&r);
	/* alice reaches her own site on every read route */
	LP_TEST_FMT(path, "/api/deployments/%s", a_id);
	lp_test_api_request(NULL, &s, "GET", path, NULL, NULL, 0, alice, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	lp_test_api_resp_free(&r);

	/* only an admin gives a site away; then bob has it and alice does not */
	LP_TEST_FMT(path, "/api/deployments/%s/owner", a_id);
	lp_test_api_request(NULL, &s, "PUT", path, JSON, "{\"owner\":\"bob\"}", 15, alice, NULL,
	                    NULL, &r);
	lp_test_api_assert_error(&r, 403, "forbidden");
	lp_test_api_resp_free(&r);
	lp_test_api_request(NULL, &s, "PUT", path, JSON, "{\"owner\":\"nobody\"}", 18, NULL, NULL,
	                    NULL, &r);
	lp_test_api_assert_error(&r, 400, "invalid");
	lp_test_api_resp_free(&r);
	/* a user who owns a site cannot be deleted */
	lp_test_api_request(NULL, &s, "DELETE", "/api/users/alice", NULL, NULL, 0, NULL, NULL, NULL,
	                    &r);
	lp_test_api_assert_error(&r, 409, "conflict");
	lp_test_api_resp_free(&r);
	lp_test_api_request(NULL, &s, "PUT", path, JSON, "{\"owner\":\"bob\"}", 15, NULL, NULL,
	                    NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(lp_test_api_jstr(r.json, "owner"), "bob");
	lp_test_api_resp_free(&r);
	list_names(&s, bob, names, sizeof(names));
	ck_assert_str_eq(names, "alices-site,bobs-site");
	list_names(&s, alice, names, sizeof(names));
	ck_assert_str_eq(names, "");
	LP_TEST_FMT(path, "/api/deployments/%s", a_id);
	lp_test_api_request(NULL, &s, "GET", path, NULL, NULL, 0, alice, NULL, NULL, &r);
	lp_test_api_assert_error(&r, 404, "not_found");
	lp_test_api_resp_free(&r);
	/* with no site left, alice can go, and her sessions with her */
	lp_test_api_request(NULL, &s, "DELETE", "/api/users/alice", NULL, NULL, 0, NULL, NULL, NULL,
	                    &r);
	ck_assert_int_eq(r.status, 200);
	lp_test_api_resp_free(&r);
	lp_test_api_request(NULL, &s, "GET", "/api/me", NULL, NULL, 0, alice, NULL, NULL, &r);
	lp_test_api_assert_error(&r, 401, "unauthorized");
	lp_test_api_resp_free(&r);
	lp_test_api_stop(&s);
}
END_TEST

/* Personal tokens: each user's own; another user's is answered as missing; stored hashed. */
START_TEST(test_personal_tokens)
{
	struct lp_test_api s;
	struct lp_test_api_resp r;
	char alice[128], bob[128], ci[128], path[64];
	long id;

	lp_test_api_start(&s, NULL);
	make_user(&s, "alice", "member");
	make_user(&s, "bob", "member");
	login_ok(&s, "alice", alice, sizeof(alice));
	login_ok(&s, "bob", bob, sizeof(bob));
	post_json(&s, "/api/tokens", alice, "{\"name\":\"ci\"}", &r);
	ck_assert_int_eq(r.status, 201);
	snprintf(ci, sizeof(ci), "%s", lp_test_api_jstr(r.json, "token"));
	id = (long)lp_test_api_jnum(r.json, "id");
	lp_test_api_resp_free(&r);
	ck_assert_int_eq(strncmp(ci, "lp_", 3), 0);
	ck_assert(!store_has(&s, ci));
	/* it speaks for alice, a member */
	lp_test_api_request(NULL, &s, "GET", "/api/me", NULL, NULL, 0, ci, NULL, NULL, &r);
	ck_assert_str_eq(lp_test_api_jstr(r.json, "username"), "alice");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r.json, "expires_at")));
	lp_test_api_resp_free(&r);
	/* bob sees none of hers and cannot revoke it; the admin sees it */
	lp_test_api_request(NULL, &s, "GET", "/api/tokens", NULL, NULL, 0, bob, NULL, NULL, &r);
	ck_assert_int_eq(cJSON_GetArraySize(r.json), 0);
	lp_test_api_resp_free(&r);
	LP_TEST_FMT(path, "/api/tokens/%ld", id);
	lp_test_api_request(NULL, &s, "DELETE", path, NULL, NULL, 0, bob, NULL, NULL, &r);
	lp_test_api_assert_error(&r, 404, "not_found");
	lp_test_api_resp_free(&r);
	lp_test_api_request(NULL, &s, "GET", "/api/tokens", NULL, NULL, 0, NULL, NULL, NULL, &r);
	ck_assert_ptr_nonnull(strstr(lp_buf_cstr(&r.body), "\"name\":\"ci\""));
	ck_assert_ptr_null(strstr(lp_buf_cstr(&r.body), ci));
	lp_test_api_resp_free(&r);
	lp_test_api_request(NULL, &s, "GET", "/api/tokens", NULL, NULL, 0, alice, NULL, NULL, &r);
	ck_assert_int_eq(cJSON_GetArraySize(r.json), 1);
	lp_test_api_resp_free(&r);
	/* alice revokes it: it is refused from then on */
	lp_test_api_request(NULL, &s, "DELETE", path, NULL, NULL, 0, alice, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	lp_test_api_resp_free(&r);
	lp_test_api_request(NULL, &s, "GET", "/api/me", NULL, NULL, 0, ci, NULL, NULL, &r);
	lp_test_api_assert_error(&r, 401, "unauthorized");
	lp_test_api_resp_free(&r);
	post_json(&s, "/api/tokens", alice, "{}", &r);
	lp_test_api_assert_error(&r, 400, "invalid");
	lp_test_api_resp_free(&r);
	lp_test_api_stop(&s);
}
END_TEST

static Suite *users_suite(void)
{
	Suite *s = suite_create("apiserver_users");
	TCase *tc = tcase_create("users");

	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_users_and_login);
	tcase_add_test(tc, test_ownership_route_table);
	tcase_add_test(tc, test_personal_tokens);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = lp_test_run(users_suite());
	curl_global_cleanup();
	return rc;
}
