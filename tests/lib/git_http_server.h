/*
 * git_http_server.h: a real smart-HTTP Git server for tests: libmicrohttpd on 127.0.0.1 (random
 * port) running `git http-backend` as a CGI for each request.
 *
 * It counts the response body bytes it sends (so a test can see that a second fetch is
 * incremental) and can be told to stall: accept requests and never answer them (deadline tests).
 * The caller owns the server and stops it with lp_test_git_server_stop(), which also frees it.
 */
#ifndef LAUNCHPAD_TEST_GIT_HTTP_SERVER_H
#define LAUNCHPAD_TEST_GIT_HTTP_SERVER_H

#include <stdint.h>

#include "launchpad/error.h"

typedef struct lp_test_git_server lp_test_git_server;

/* Serve every repository below project_root (GIT_PROJECT_ROOT) at http://127.0.0.1:<port>/. */
int lp_test_git_server_start(lp_test_git_server **out, const char *project_root, lp_error *err);

/* The same over TLS with this certificate and key (PEM text), at https://localhost:<port>/. */
int lp_test_git_server_start_tls(lp_test_git_server **out, const char *project_root,
                                 const char *cert_pem, const char *key_pem, lp_error *err);

/* Stop accepting, wake stalled requests, join all threads and free. NULL is a no-op. */
void lp_test_git_server_stop(lp_test_git_server *s);

unsigned short lp_test_git_server_port(const lp_test_git_server *s);

/* "http://127.0.0.1:<port>/<repo>" (TLS: "https://localhost:<port>/<repo>"), malloc'd. */
char *lp_test_git_server_url(const lp_test_git_server *s, const char *repo);

/* Answer every request with "302 Location: <base><path>[?service=...]" (NULL: serve again). */
void lp_test_git_server_set_redirect(lp_test_git_server *s, const char *base);

/*
 * Require HTTP basic auth user:password on every request (401 with WWW-Authenticate otherwise,
 * like a private GitHub repository); NULL user: none. lp_test_git_server_refused counts the 401s.
 */
void lp_test_git_server_set_basic_auth(lp_test_git_server *s, const char *user,
                                       const char *password);
unsigned lp_test_git_server_refused(const lp_test_git_server *s);

/* When on, requests are accepted and never answered (until turned off or the server stops). */
void lp_test_git_server_set_stall(lp_test_git_server *s, int on);

/* Response body bytes sent and requests answered since start or the last reset. */
uint64_t lp_test_git_server_bytes_sent(const lp_test_git_server *s);
unsigned lp_test_git_server_requests(const lp_test_git_server *s);
/* The largest single response body since start or the last reset (the pack, for a fetch). */
uint64_t lp_test_git_server_max_response(const lp_test_git_server *s);
void lp_test_git_server_reset_counters(lp_test_git_server *s);

#endif
