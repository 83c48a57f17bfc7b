/*
 * users.c: users (admins manage them), login sessions, and giving a site to another user.
 *
 * Password hashing (scrypt, ~0.1 s) runs in the routes' after_body hooks, outside the write
 * lock, so a burst of logins never queues the writers; the handlers only write the row.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "apiserver/apiserver_internal.h"
#include "launchpad/clock.h"
#include "launchpad/fmt.h"
#include "launchpad/log.h"

/* A rate bucket's key: ids fit LP_STORE_ID_LEN, so a name is keyed by a prefix of its hash. */
#define LOGIN_KEY_HEX  (LP_STORE_ID_LEN - 1)
#define LOGIN_ADDR_MAX INET6_ADDRSTRLEN

int api_login_limits_new(lp_apiserver *s)
{
	int rc = api_rate_new(&s->login_user_rate, API_LOGIN_BURST, API_LOGIN_PER_MINUTE);

	return rc == LP_OK
	           ? api_rate_new(&s->login_ip_rate, API_LOGIN_IP_BURST, API_LOGIN_IP_PER_MIN)
	           : rc;
}

/* A string member of a JSON object, or NULL. */
static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The request body as a JSON object (*out the caller's), or a 400 replied. */
static int body_object(cJSON **out, struct api_req *r)
{
	lp_error err = {0};

	*out = NULL;
	if (api_json_parse(out, lp_buf_cstr(&r->body), r->body.len, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		return LP_EINVAL;
	}
	if (!cJSON_IsObject(*out)) {
		api_reply_error(r, LP_EINVAL, NULL, "malformed JSON body (expected an object)");
		cJSON_Delete(*out);
		*out = NULL;
		return LP_EINVAL;
	}
	return LP_OK;
}

static cJSON *user_json(const lp_store_user *u)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "username", u->name);
	cJSON_AddStringToObject(o, "role", lp_store_role_name(u->role));
	cJSON_AddItemToObject(o, "created_at", api_time_json(u->created_at));
	cJSON_AddBoolToObject(o, "can_log_in", u->password_hash[0] != '\0');
	return o;
}

void api_h_users_list(struct api_req *r)
{
	lp_store_user *users = NULL;
	lp_store *st = api_store(r);
	lp_error err = {0};
	size_t n = 0, i;
	cJSON *arr;

	if (st == NULL)
		return;
	if (lp_store_user_list(&users, &n, st, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		return;
	}
	arr = cJSON_CreateArray();
	for (i = 0; arr && i < n; i++)
		cJSON_AddItemToArray(arr, user_json(&users[i]));
	lp_store_users_free(users, n);
	api_reply_json(r, MHD_HTTP_OK, arr);
}

/* What POST /api/users checked before the write lock: the user to make. */
struct new_user {
	char name[LP_STORE_USER_MAX + 1];
	lp_store_role role;
	char hash[LP_PASSWORD_HASH_MAX];
};

static void new_user_free(void *p)
{
	explicit_bzero(p, sizeof(struct new_user));
	free(p);
}

int api_users_after_body(struct api_req *r)
{
	struct new_user *nu = NULL;
	const char *name, *password, *role;
	cJSON *o = NULL;
	int rc = LP_EINVAL;

	if (body_object(&o, r) != LP_OK)
		return LP_EINVAL;
	name = jstr(o, "username");
	password = jstr(o, "password");
	role = jstr(o, "role");
	if (name == NULL || *name == '\0' || strlen(name) > LP_STORE_USER_MAX) {
		api_reply_error(r, LP_EINVAL, NULL,
		                "\"username\" is required: 1 to %d of a-z, 0-9, '.', '_', '-'",
		                LP_STORE_USER_MAX);
		goto done;
	}
	if (password == NULL || strlen(password) < LP_PASSWORD_MIN ||
	    strlen(password) > LP_PASSWORD_MAX) {
		api_reply_error(r, LP_EINVAL, NULL, "\"password\" must have %d to %d bytes",
		                LP_PASSWORD_MIN, LP_PASSWORD_MAX);
		goto done;
	}
	if ((nu = calloc(1, sizeof(*nu))) == NULL) {
		api_reply_error(r, LP_ENOMEM, NULL, "out of memory");
		goto done;
	}
	if (lp_store_role_parse(&nu->role, role ? role : "member") != LP_OK) {
		api_reply_error(r, LP_EINVAL, NULL, "\"role\" must be \"admin\" or \"member\"");
		goto done;
	}
	if (lp_fmt(nu->name, sizeof(nu->name), "%s", name) != LP_OK ||
	    lp_crypto_password_hash(nu->hash, password) != LP_OK) {
		api_reply_error(r, LP_ERROR, NULL, "cannot hash the password");
		goto done;
	}
	r->hook_state = nu;
	r->hook_free = new_user_free;
	nu = NULL;
	rc = LP_OK;
done:
	if (nu)
		new_user_free(nu);
	cJSON_Delete(o); /* the password is in the body buffer too, released with the request */
	return rc;
}

void api_h_users_create(struct api_req *r)
{
	const struct new_user *nu = r->hook_state;
	lp_store_user *u = NULL;
	lp_store *st = api_store(r);
	lp_error err = {0};

	if (st == NULL)
		return;
	if (lp_store_user_create(&u, st, nu->name, nu->role, nu->hash, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		return;
	}
	LP_INFO("api", "user %s (%s) created by %s", u->name, lp_store_role_name(u->role),
	        r->who.user);
	api_reply_json(r, MHD_HTTP_CREATED, user_json(u));
	lp_store_user_free(u);
}

void api_h_users_delete(struct api_req *r)
{
	lp_store *st = api_store(r);
	lp_error err = {0};

	if (st == NULL)
		return;
	if (lp_store_user_delete(st, r->param, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		return;
	}
	LP_INFO("api", "user %s deleted by %s", r->param, r->who.user);
	api_reply_json(r, MHD_HTTP_OK, cJSON_CreateObject());
}

/* ---- login ---- */

/* The client's address as text ("" when libmicrohttpd cannot say). */
static void client_addr(char out[LOGIN_ADDR_MAX], struct api_req *r)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	out[0] = '\0';
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
		          LOGIN_ADDR_MAX);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		          out, LOGIN_ADDR_MAX);
}

struct login {
	int64_t user_id;
	char user[LP_STORE_USER_MAX + 1];
	lp_store_role role;
};

static void login_free(void *p)
{
	free(p);
}

/* One attempt off the address's and the name's buckets; 429 replied when either is empty. */
static int login_take(struct api_req *r, const char *ip_key, const char *user_key)
{
	int64_t now = lp_clock_mono_ms();
	int retry = 0;

	if (api_rate_take(r->srv->login_ip_rate, ip_key, now, &retry) != LP_OK ||
	    api_rate_take(r->srv->login_user_rate, user_key, now, &retry) != LP_OK) {
		if (retry == 0)
			retry = 1;
		r->retry_after = retry;
		api_reply_error(r, LP_ERATE, NULL, "too many login attempts; retry in %d s", retry);
		return LP_ERATE;
	}
	return LP_OK;
}

int api_login_after_body(struct api_req *r)
{
	char ip[LOGIN_ADDR_MAX], user_key[LP_SHA256_HEX_LEN];
	struct login *in = NULL;
	lp_store_user *u = NULL;
	const char *name, *password;
	lp_error err = {0};
	lp_store *st;
	cJSON *o = NULL;
	int rc = LP_EINVAL;

	if (body_object(&o, r) != LP_OK)
		return LP_EINVAL;
	name = jstr(o, "username");
	password = jstr(o, "password");
	if (name == NULL || password == NULL) {
		api_reply_error(r, LP_EINVAL, NULL, "\"username\" and \"password\" are required");
		goto done;
	}
	client_addr(ip, r);
	lp_crypto_sha256_hex(user_key, name, strlen(name));
	user_key[LOGIN_KEY_HEX] = '\0';
	if ((rc = login_take(r, ip, user_key)) != LP_OK)
		goto done;
	if ((st = api_store(r)) == NULL) {
		rc = LP_EUNAVAILABLE;
		goto done;
	}
	rc = lp_store_user_get(&u, st, name, &err);
	api_store_release(r);
	if (rc != LP_OK && rc != LP_ENOTFOUND) {
		api_reply_lperr(r, &err);
		goto done;
	}
	/* an unknown user costs one scrypt as well, and gets the same answer */
	if (lp_crypto_password_verify(u ? u->password_hash : NULL, password) != LP_OK) {
		LP_INFO("api", "login refused for a user name from %s", ip[0] ? ip : "?");
		api_reply_error(r, LP_EAUTH, NULL, "wrong user name or password");
		rc = LP_EAUTH;
		goto done;
	}
	if ((in = calloc(1, sizeof(*in))) == NULL ||
	    lp_fmt(in->user, sizeof(in->user), "%s", u->name) != LP_OK) {
		api_reply_error(r, LP_ENOMEM, NULL, "out of memory");
		rc = LP_ENOMEM;
		goto done;
	}
	in->user_id = u->id;
	in->role = u->role;
	r->hook_state = in;
	r->hook_free = login_free;
	in = NULL;
	/* a good login does not count against the name: its owner is not locked out by others */
	api_rate_give(r->srv->login_user_rate, user_key, lp_clock_mono_ms());
	rc = LP_OK;
done:
	free(in);
	lp_store_user_free(u);
	cJSON_Delete(o);
	return rc;
}

void api_h_login(struct api_req *r)
{
	const struct login *in = r->hook_state;
	char token[LP_STORE_TOKEN_LEN];
	lp_store *st = api_store(r);
	lp_error err = {0};
	int64_t expires = lp_clock_wall_ms() + (int64_t)r->srv->cfg->session_ttl * 1000;
	cJSON *o;

	if (st == NULL)
		return;
	if (lp_store_token_create_for(token, NULL, st, in->user_id, "login", expires, &err) !=
	    LP_OK) {
		api_reply_lperr(r, &err);
		return;
	}
	LP_INFO("api", "user %s logged in", in->user);
	if ((o = cJSON_CreateObject()) != NULL) {
		cJSON_AddStringToObject(o, "token", token);
		cJSON_AddItemToObject(o, "expires_at", api_time_json(expires));
		cJSON_AddStringToObject(o, "username", in->user);
		cJSON_AddStringToObject(o, "role", lp_store_role_name(in->role));
	}
	explicit_bzero(token, sizeof(token));
	api_reply_json(r, MHD_HTTP_OK, o);
}

void api_h_logout(struct api_req *r)
{
	lp_store *st = api_store(r);
	lp_error err = {0};

	if (st == NULL)
		return;
	if (lp_store_token_revoke(st, r->who.token_id, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		return;
	}
	api_reply_json(r, MHD_HTTP_OK, cJSON_CreateObject());
}

void api_h_me(struct api_req *r)
{
	cJSON *o = cJSON_CreateObject();

	if (o) {
		cJSON_AddStringToObject(o, "username", r->who.user);
		cJSON_AddStringToObject(o, "role", lp_store_role_name(r->who.role));
		cJSON_AddItemToObject(o, "expires_at", api_time_json(r->who.expires_at));
	}
	api_reply_json(r, MHD_HTTP_OK, o);
}

/* ---- ownership ---- */

void api_h_owner(struct api_req *r)
{
	lp_store_site *site = api_site_lookup(r);
	lp_store_user *u = NULL;
	lp_error err = {0};
	const char *name;
	cJSON *o = NULL;

	if (site == NULL || body_object(&o, r) != LP_OK)
		goto done;
	if ((name = jstr(o, "owner")) == NULL) {
		api_reply_error(r, LP_EINVAL, NULL, "\"owner\" (a user name) is required");
		goto done;
	}
	if (lp_store_user_get(&u, r->store, name, &err) != LP_OK) {
		if (err.code == LP_OK)
			api_reply_error(r, LP_EINVAL, NULL, "user \"%s\" does not exist", name);
		else
			api_reply_lperr(r, &err);
		goto done;
	}
	if (lp_store_site_set_owner(r->store, site->id, u->id, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		goto done;
	}
	api_event(r, site->id, LP_EVENT_NORMAL, "OwnerChanged", u->name);
	api_reply_site(r, MHD_HTTP_OK, site->id, "owner changed", 0);
done:
	cJSON_Delete(o);
	lp_store_user_free(u);
	lp_store_site_free(site);
}

/* ---- personal tokens ---- */

void api_h_tokens_create(struct api_req *r)
{
	char token[LP_STORE_TOKEN_LEN];
	lp_store *st = api_store(r);
	lp_error err = {0};
	const char *name;
	int64_t id = 0;
	cJSON *o = NULL, *out;

	if (st == NULL || body_object(&o, r) != LP_OK)
		return;
	if ((name = jstr(o, "name")) == NULL || *name == '\0') {
		api_reply_error(r, LP_EINVAL, NULL, "\"name\" (what the token is for) is required");
		goto done;
	}
	if (lp_store_token_create_for(token, &id, st, r->who.user_id, name, 0, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		goto done;
	}
	LP_INFO("api", "user %s created personal token %lld", r->who.user, (long long)id);
	if ((out = cJSON_CreateObject()) != NULL) {
		cJSON_AddNumberToObject(out, "id", (double)id);
		cJSON_AddStringToObject(out, "name", name);
		cJSON_AddStringToObject(out, "token", token); /* shown this once */
	}
	explicit_bzero(token, sizeof(token));
	api_reply_json(r, MHD_HTTP_CREATED, out);
done:
	cJSON_Delete(o);
}

/* A member's own personal tokens; an admin's list has everyone's. */
static int tokens_visible(lp_store_token **out, size_t *n, struct api_req *r, lp_store *st,
                          lp_error *err)
{
	return lp_store_token_list_personal(out, n, st, api_is_admin(r) ? 0 : r->who.user_id, err);
}

void api_h_tokens_list(struct api_req *r)
{
	lp_store_token *toks = NULL;
	lp_store *st = api_store(r);
	lp_error err = {0};
	size_t n = 0, i;
	cJSON *arr;

	if (st == NULL)
		return;
	if (tokens_visible(&toks, &n, r, st, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		return;
	}
	arr = cJSON_CreateArray();
	for (i = 0; arr && i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		if (o == NULL)
			continue;
		cJSON_AddNumberToObject(o, "id", (double)toks[i].id);
		cJSON_AddStringToObject(o, "name", toks[i].name);
		cJSON_AddNumberToObject(o, "user_id", (double)toks[i].user_id);
		cJSON_AddItemToObject(o, "created_at", api_time_json(toks[i].created_at));
		cJSON_AddItemToObject(o, "last_used_at", api_time_json(toks[i].last_used_at));
		cJSON_AddItemToArray(arr, o);
	}
	lp_store_tokens_free(toks, n);
	api_reply_json(r, MHD_HTTP_OK, arr);
}

void api_h_tokens_revoke(struct api_req *r)
{
	lp_store_token *toks = NULL;
	lp_store *st = api_store(r);
	lp_error err = {0};
	size_t n = 0, i;
	char *end;
	long long id;
	int mine = 0;

	if (st == NULL)
		return;
	id = strtoll(r->param, &end, 10);
	if (*end != '\0' || id <= 0 || tokens_visible(&toks, &n, r, st, &err) != LP_OK) {
		if (err.code)
			api_reply_lperr(r, &err);
		else
			api_reply_error(r, LP_ENOTFOUND, NULL, "token \"%s\" not found", r->param);
		return;
	}
	for (i = 0; i < n; i++)
		mine |= toks[i].id == id;
	lp_store_tokens_free(toks, n);
	/* another user's token is answered as a missing one */
	if (!mine) {
		api_reply_error(r, LP_ENOTFOUND, NULL, "token \"%s\" not found", r->param);
		return;
	}
	if (lp_store_token_revoke(st, id, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		return;
	}
	api_reply_json(r, MHD_HTTP_OK, cJSON_CreateObject());
}
