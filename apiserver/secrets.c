/*
 * secrets.c: the secret env values of a spec the API takes are sealed here before anything
 * stores, hashes or shows the spec; what the API shows of a stored one is "***". The apiserver
 * only seals (its clients' values): opening is the controller's, for the build.
 */
#include <stdlib.h>
#include <string.h>

#include "apiserver/apiserver_internal.h"
#include "launchpad/fmt.h"
#include "launchpad/log.h"

#define LP_GIT_TOKEN_MAX 1024 /* bytes of a git username or token (LP_GITSRC_CREDENTIAL_MAX) */

int api_keyring_load(lp_apiserver *s, lp_error *err)
{
	char path[LP_FS_PATH_MAX];
	int rc;

	if (lp_keyring_path(path, sizeof(path), s->cfg->master_key_file, s->cfg->data_dir) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "master key path too long");
	pthread_mutex_init(&s->keyring_mu, NULL);
	rc = lp_keyring_load(&s->keyring, path, 1, err);
	if (rc == LP_OK)
		LP_INFO("api", "secret env values are sealed with the key in %s (key %d)", path,
		        lp_keyring_current(s->keyring));
	return rc;
}

/* The stored secret of the same name, when stored has one. */
static const lp_env_var *stored_secret(const lp_site *stored, const char *name)
{
	size_t i;

	for (i = 0; stored && i < stored->build_env_count; i++)
		if (stored->build_env[i].secret && !strcmp(stored->build_env[i].name, name))
			return &stored->build_env[i];
	return NULL;
}

/* Seal one secret var (its value given); reuses the stored form when the value is the same. */
static int seal_one(struct api_req *r, lp_env_var *var, const char *site_id, const lp_site *stored,
                    lp_error *err)
{
	const lp_env_var *old = stored_secret(stored, var->name);
	char aad[LP_KEYRING_AAD_MAX], fp[LP_SHA256_HEX_LEN];
	char *sealed = NULL;
	int rc;

	if (lp_keyring_aad(aad, sizeof(aad), site_id, var->name) != LP_OK)
		return lp_error_set(err, LP_EINVAL, "spec.build.env.%s: name too long", var->name);
	/* "***" is what answers show: sent back (a manifest taken from GET), it keeps the value */
	if (!strcmp(var->value, LP_SECRET_MASK)) {
		if (old == NULL || old->sealed == NULL)
			return lp_error_set(
			    err, LP_EINVAL,
			    "spec.build.env.%s: \"%s\" keeps a stored secret, and this "
			    "site has none of that name: send its value",
			    var->name, LP_SECRET_MASK);
		if ((var->sealed = strdup(old->sealed)) == NULL ||
		    (var->fingerprint = strdup(old->fingerprint)) == NULL)
			return lp_error_set(err, LP_ENOMEM, "out of memory");
		goto wipe;
	}
	pthread_mutex_lock(&r->srv->keyring_mu);
	rc = lp_keyring_fingerprint(fp, r->srv->keyring, aad, var->value);
	/* the same value as stored: the same sealed text, so the spec (and its hash) stay */
	if (rc == LP_OK && old && old->sealed && old->fingerprint && !strcmp(old->fingerprint, fp))
		sealed = strdup(old->sealed);
	else if (rc == LP_OK)
		rc = lp_keyring_seal(&sealed, r->srv->keyring, aad, var->value, err);
	pthread_mutex_unlock(&r->srv->keyring_mu);
	if (rc != LP_OK || sealed == NULL) {
		free(sealed);
		return rc != LP_OK && err->code
		           ? rc
		           : lp_error_set(err, LP_ERROR, "cannot seal %s", var->name);
	}
	var->sealed = sealed;
	if ((var->fingerprint = strdup(fp)) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
wipe:
	explicit_bzero(var->value, strlen(var->value));
	free(var->value);
	var->value = NULL;
	return LP_OK;
}

int api_seal_env(struct api_req *r, lp_site *site, const char *site_id, const lp_site *stored)
{
	lp_error err = {0};
	size_t i;

	for (i = 0; i < site->build_env_count; i++) {
		lp_env_var *var = &site->build_env[i];

		if (!var->secret)
			continue;
		/* only the server seals: a client's sealed text would be one it did not see */
		if (var->value == NULL) {
			api_reply_error(
			    r, LP_EINVAL, NULL,
			    "spec.build.env.%s: send a secret as {value, secret: true}; "
			    "sealed and fingerprint are the server's",
			    var->name);
			return LP_EINVAL;
		}
		if (seal_one(r, var, site_id, stored, &err) != LP_OK) {
			api_reply_lperr(r, &err);
			return err.code;
		}
	}
	return LP_OK;
}

void api_redact_spec(cJSON *doc)
{
	cJSON *spec = cJSON_GetObjectItemCaseSensitive(doc, "spec");
	cJSON *build = cJSON_GetObjectItemCaseSensitive(spec, "build");
	cJSON *env = cJSON_GetObjectItemCaseSensitive(build, "env"), *e;

	cJSON_ArrayForEach(e, env)
	{
		cJSON *masked;

		if (!cJSON_IsObject(e) ||
		    !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "secret")))
			continue;
		if ((masked = cJSON_CreateObject()) == NULL)
			continue;
		cJSON_AddStringToObject(masked, "value", LP_SECRET_MASK);
		cJSON_AddBoolToObject(masked, "secret", 1);
		/* masked takes e's key (copied before e is freed); the loop goes on from masked */
		if (cJSON_ReplaceItemInObjectCaseSensitive(env, e->string, masked))
			e = masked;
		else
			cJSON_Delete(masked);
	}
}

/* PUT .../git-credential {"token", "username"?}: the token sealed for the site's fetches. */
void api_h_git_credential_put(struct api_req *r)
{
	lp_store_site *site = api_site_lookup(r);
	char aad[LP_KEYRING_AAD_MAX], *plain = NULL, *sealed = NULL;
	const cJSON *tok = NULL, *user;
	lp_error err = {0};
	cJSON *o = NULL;
	size_t len;
	int rc;

	if (site == NULL)
		return;
	if (api_json_parse(&o, lp_buf_cstr(&r->body), r->body.len, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		goto done;
	}
	tok = cJSON_GetObjectItemCaseSensitive(o, "token");
	user = cJSON_GetObjectItemCaseSensitive(o, "username");
	if (!cJSON_IsString(tok) || !*tok->valuestring ||
	    strlen(tok->valuestring) > LP_GIT_TOKEN_MAX ||
	    (user && (!cJSON_IsString(user) || !*user->valuestring ||
	              strlen(user->valuestring) > LP_GIT_TOKEN_MAX ||
	              strpbrk(user->valuestring, ":\n") != NULL)) ||
	    strchr(tok->valuestring, '\n') != NULL) {
		api_reply_error(
		    r, LP_EINVAL, NULL,
		    "expected {\"token\": \"...\", \"username\": \"x-access-token\"} (1 to "
		    "%d bytes each, no newline; no ':' in the username)",
		    LP_GIT_TOKEN_MAX);
		goto done;
	}
	len = strlen(tok->valuestring) + (user ? strlen(user->valuestring) : 14) + 2;
	if ((plain = malloc(len)) == NULL ||
	    lp_fmt(plain, len, "%s\n%s", user ? user->valuestring : "x-access-token",
	           tok->valuestring) != LP_OK ||
	    lp_keyring_aad(aad, sizeof(aad), site->id, LP_GIT_CREDENTIAL_AAD) != LP_OK) {
		api_reply_error(r, LP_ENOMEM, NULL, "out of memory");
		goto done;
	}
	pthread_mutex_lock(&r->srv->keyring_mu);
	rc = lp_keyring_seal(&sealed, r->srv->keyring, aad, plain, &err);
	pthread_mutex_unlock(&r->srv->keyring_mu);
	if (rc != LP_OK ||
	    lp_store_site_set_git_credential(r->store, site->id, sealed, &err) != LP_OK) {
		api_reply_lperr(r, &err);
		goto done;
	}
	api_event(r, site->id, LP_EVENT_NORMAL, "GitCredentialSet",
	          "a git credential was set (used from the next fetch)");
	api_reply_site(r, MHD_HTTP_OK, site->id, "git credential set", 0);
done:
	if (plain) {
		explicit_bzero(plain, strlen(plain));
		free(plain);
	}
	if (tok && cJSON_IsString(tok))
		explicit_bzero(tok->valuestring, strlen(tok->valuestring));
	free(sealed);
	cJSON_Delete(o);
	lp_store_site_free(site);
}

void api_h_git_credential_delete(struct api_req *r)
{
	lp_store_site *site = api_site_lookup(r);
	lp_error err = {0};

	if (site == NULL)
		return;
	if (lp_store_site_set_git_credential(r->store, site->id, "", &err) != LP_OK) {
		api_reply_lperr(r, &err);
	} else {
		api_event(r, site->id, LP_EVENT_NORMAL, "GitCredentialRemoved",
		          "the git credential was removed (from the next fetch)");
		api_reply_site(r, MHD_HTTP_OK, site->id, "git credential removed", 0);
	}
	lp_store_site_free(site);
}
