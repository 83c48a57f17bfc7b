/*
 * apiserver.h: the HTTP API server (libmicrohttpd) that records desired state, and the pure
 * helpers it is built from (listen-address parsing, slugs, webhook signatures, streamed uploads).
 *
 * lp_apiserver_new() opens the store under cfg->data_dir, creates the admin token on first start
 * and binds cfg->listen; the server keeps a pointer to cfg, which must outlive it. Everything the
 * server allocates is released by lp_apiserver_free(). Strings handed back through **out belong to
 * the caller (free()). The apiserver never talks to Docker and never builds: it writes specs,
 * revision requests, uploads and tokens, and reads what the controller reports.
 */
#ifndef LAUNCHPAD_APISERVER_H
#define LAUNCHPAD_APISERVER_H

#include <stddef.h>

#include "launchpad/config.h"
#include "launchpad/crypto.h"
#include "launchpad/error.h"

typedef struct lp_apiserver lp_apiserver;

/* Open the store, bootstrap the admin token and start listening (threads run from here on). */
int lp_apiserver_new(lp_apiserver **out, const lp_config *cfg, lp_error *err);
/* The bound TCP port (the chosen one when cfg->listen asked for port 0). */
unsigned lp_apiserver_port(const lp_apiserver *s);
/* Stop accepting, wait for in-flight requests and free everything. NULL is a no-op. */
void lp_apiserver_free(lp_apiserver *s);

/* "host:port" (host may be empty or "*" for all addresses, IPv4 only) → host, port. */
int lp_api_listen_parse(char *host, size_t hostlen, unsigned *port, const char *listen,
                        lp_error *err);

/*
 * A random adjective-noun slug ("graceful-fox"). From attempt LP_API_SLUG_PLAIN_TRIES on, a
 * 4-hex-digit suffix is appended ("graceful-fox-3f2a") so repeated collisions still converge.
 */
#define LP_API_SLUG_PLAIN_TRIES 8
#define LP_API_SLUG_MAX         64
int lp_api_slug_generate(char out[LP_API_SLUG_MAX], unsigned attempt);
/* 1 when s is a DNS label: [a-z0-9-], 1..63 chars, no leading or trailing '-'. */
int lp_api_slug_valid(const char *s);

/*
 * Check a GitHub X-Hub-Signature-256 header ("sha256=<hex>") against HMAC-SHA256(secret, body)
 * in constant time. LP_OK when it matches, LP_EAUTH otherwise (missing or malformed included).
 */
int lp_api_webhook_verify(const char *secret, const void *body, size_t len, const char *header);

/* Decode application/x-www-form-urlencoded value bytes ('+' and %XX); returns the new length. */
size_t lp_api_urldecode(char *s, size_t len);

/*
 * A streamed upload: bytes go to a temp file under dir while a SHA-256 is computed; finishing
 * fsyncs and renames it to dir/sha256/<hex>.<ext> (content-addressed, so an identical upload is
 * stored once). The first bytes must be a zip (PK\3\4, ext "zip") or gzip (1f 8b, ext "tar.gz")
 * header, else LP_EUNSUPPORTED; more than max bytes is LP_ETOOBIG. Freeing an unfinished upload
 * removes its temp file.
 */
typedef struct lp_api_upload lp_api_upload;
int lp_api_upload_new(lp_api_upload **out, const char *dir, size_t max, lp_error *err);
int lp_api_upload_write(lp_api_upload *u, const void *data, size_t n, lp_error *err);
/* digest gets the hex SHA-256; *out the final path (caller frees). Empty upload: LP_EINVAL. */
int lp_api_upload_finish(char **out, lp_api_upload *u, char digest[LP_SHA256_HEX_LEN],
                         lp_error *err);
size_t lp_api_upload_size(const lp_api_upload *u);
void lp_api_upload_free(lp_api_upload *u);

#endif
