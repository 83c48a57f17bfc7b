/* main.c: launchpad-apiserver: serve the API, manage API tokens (token create|list|revoke),
 * rotate-key. */
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apiserver/apiserver.h"
#include "launchpad/buf.h"
#include "launchpad/config.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "launchpad/layout.h"
#include "launchpad/log.h"
#include "launchpad/names.h"
#include "launchpad/store.h"

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: launchpad-apiserver [flags]              serve the API\n"
	        "       launchpad-apiserver [flags] healthcheck  exit 0 when /healthz answers 200\n"
	        "       launchpad-apiserver [flags] token create NAME\n"
	        "       launchpad-apiserver [flags] token list\n"
	        "       launchpad-apiserver [flags] token revoke ID\n"
	        "       launchpad-apiserver [flags] rotate-key   a new master key; every secret\n"
	        "                                                 env value re-sealed with it\n"
	        "\nflags (each also a LAUNCHPAD_* variable; a flag wins):\n");
	fflush(f);
	lp_config_usage_for(fileno(f), LP_CONFIG_FOR_API);
}

#define TIME_TEXT_MAX 40 /* an ISO-8601 UTC time */
/* http://<host>:<port>/healthz */
#define HEALTH_URL_MAX (LP_API_HOST_MAX + sizeof("http://:65535/healthz"))

static void print_time(int64_t ms)
{
	char text[TIME_TEXT_MAX];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		printf("  %-20s", "-");
	else
		printf("  %-20s", text);
}

/* Where this machine reaches a server listening on host ("" and 0.0.0.0: every address). */
static const char *local_host(const char *host)
{
	return host[0] == '\0' || !strcmp(host, "0.0.0.0") ? "127.0.0.1" : host;
}

static int token_cmd(const lp_config *cfg, int argc, char **argv)
{
	char path[LP_FS_PATH_MAX], secret[LP_STORE_TOKEN_LEN];
	lp_store_token *toks = NULL;
	lp_store *st = NULL;
	lp_error err = {0};
	size_t n = 0, i;
	int64_t id = 0;
	char *end;
	int rc = 2;

	if (argc < 2) {
		usage(stderr);
		goto done;
	}
	if (lp_layout_db(path, sizeof(path), cfg->data_dir) != LP_OK) {
		fprintf(stderr, "launchpad-apiserver: data dir path too long: %s\n", cfg->data_dir);
		rc = 1;
		goto done;
	}
	if (lp_store_open(&st, path, &err) != LP_OK) {
		fprintf(stderr, "launchpad-apiserver: %s\n", err.message);
		rc = 1;
		goto done;
	}
	if (!strcmp(argv[1], "create") && argc == 3) {
		rc = lp_store_token_create(secret, &id, st, argv[2], &err) == LP_OK ? 0 : 1;
		if (rc == 0) {
			printf("%s\n", secret);
			fprintf(stderr, "token %lld \"%s\" created; it is shown only once\n",
			        (long long)id, argv[2]);
		}
	} else if (!strcmp(argv[1], "list") && argc == 2) {
		rc = lp_store_token_list(&toks, &n, st, &err) == LP_OK ? 0 : 1;
		if (rc == 0)
			printf("%-6s %-24s %-22s%-22s%-22s\n", "ID", "NAME", "  CREATED",
			       "  LAST USED", "  REVOKED");
		for (i = 0; rc == 0 && i < n; i++) {
			printf("%-6lld %-24s", (long long)toks[i].id, toks[i].name);
			print_time(toks[i].created_at);
			print_time(toks[i].last_used_at);
			print_time(toks[i].revoked_at);
			printf("\n");
		}
	} else if (!strcmp(argv[1], "revoke") && argc == 3) {
		id = strtoll(argv[2], &end, 10);
		if (*end || id <= 0) {
			fprintf(stderr,
			        "launchpad-apiserver: token id must be a positive integer\n");
			goto done;
		}
		rc = lp_store_token_revoke(st, id, &err) == LP_OK ? 0 : 1;
		if (rc == 0)
			fprintf(stderr, "token %lld revoked\n", (long long)id);
	} else {
		usage(stderr);
		goto done;
	}
	if (rc != 0)
		fprintf(stderr, "launchpad-apiserver: %s\n", err.message);
done:
	lp_store_tokens_free(toks, n);
	lp_store_close(st);
	return rc;
}

/* The names new sites may not take, with the one derived from --public-url. */
static void log_reserved(const lp_config *cfg)
{
	lp_buf list;
	size_t i;

	lp_buf_init(&list, LP_CONFIG_RESERVED_MAX * (LP_NAMES_LABEL_MAX + 2));
	for (i = 0; i < cfg->nreserved; i++)
		if (lp_buf_printf(&list, "%s%s", i ? ", " : "", cfg->reserved[i]) != LP_OK)
			break;
	LP_INFO("api", "names reserved for the platform's own hosts: %s",
	        cfg->nreserved ? lp_buf_cstr(&list) : "none");
	lp_buf_release(&list);
}

/* `healthcheck` (compose): ask our own /healthz on the --listen address. */
static int healthcheck(const lp_config *cfg)
{
	char host[LP_API_HOST_MAX] = "", url[HEALTH_URL_MAX];
	unsigned port = 0;
	long status = 0;
	CURL *h;
	int rc = 1;

	if (lp_api_listen_parse(host, sizeof(host), &port, cfg->listen, NULL) != LP_OK ||
	    lp_fmt(url, sizeof(url), "http://%s:%u/healthz", local_host(host), port) != LP_OK)
		return 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if ((h = curl_easy_init()) != NULL) {
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 3000L);
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
		if (curl_easy_perform(h) == CURLE_OK &&
		    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
		    status == 200)
			rc = 0;
		curl_easy_cleanup(h);
	}
	if (rc != 0)
		fprintf(stderr, "launchpad-apiserver: %s answered %ld\n", url, status);
	return rc;
}

static int serve(const lp_config *cfg)
{
	lp_apiserver *s = NULL;
	lp_error err = {0};
	sigset_t set;
	int sig = 0;
	char host[LP_API_HOST_MAX] = "";
	unsigned port = 0;

	/* blocked here so every server thread inherits the mask and only sigwait() sees them */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (lp_apiserver_new(&s, cfg, &err) != LP_OK) {
		LP_ERR("api", "%s", err.message);
		return 1;
	}
	/* lp_apiserver_new parsed it already: this cannot fail, and the port is the bound one */
	if (lp_api_listen_parse(host, sizeof(host), &port, cfg->listen, NULL) != LP_OK)
		host[0] = '\0';
	/* the tests read this line to learn the port when --listen asked for port 0 */
	fprintf(stderr, "listening on http://%s:%u\n", local_host(host), lp_apiserver_port(s));
	/* The effective settings (file:// sources allowed or not, reserved names...), each once. */
	lp_config_log(cfg, "api", LP_CONFIG_FOR_API);
	log_reserved(cfg);
	sigwait(&set, &sig);
	LP_INFO("api", "signal %d: shutting down", sig);
	lp_apiserver_free(s);
	return 0;
}

int main(int argc, char **argv)
{
	lp_config *cfg = NULL;
	char **rest = NULL;
	int nrest = 0, rc = 2;
	lp_error err = {0};

	if (lp_config_new(&cfg, &rest, &nrest, argc, argv, &err) != LP_OK) {
		fprintf(stderr, "launchpad-apiserver: %s\n", err.message);
		goto done;
	}
	lp_log_setup(cfg->log_level, cfg->log_format, 2);
	if (nrest > 0 && (!strcmp(rest[0], "--help") || !strcmp(rest[0], "-h"))) {
		usage(stdout);
		rc = 0;
	} else if (nrest == 1 && !strcmp(rest[0], "healthcheck")) {
		rc = healthcheck(cfg);
	} else if (nrest > 0 && !strcmp(rest[0], "token")) {
		rc = token_cmd(cfg, nrest, rest);
	} else if (nrest == 1 && !strcmp(rest[0], "rotate-key")) {
		size_t n = 0;

		if (lp_apiserver_rotate_key(&n, cfg, &err) != LP_OK) {
			fprintf(stderr, "launchpad-apiserver: rotate-key: %s\n", err.message);
			rc = 1;
		} else {
			printf("master key rotated; %zu secret value(s) re-sealed\n", n);
			rc = 0;
		}
	} else if (nrest > 0) {
		fprintf(stderr, "launchpad-apiserver: unknown argument \"%s\"\n", rest[0]);
		usage(stderr);
	} else {
		rc = serve(cfg);
	}
done:
	lp_config_rest_free(rest);
	lp_config_free(cfg);
	return rc;
}
