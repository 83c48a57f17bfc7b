/*
 * fake_engine.h: a FAKE Docker engine for fault injection in unit tests only.
 *
 * A thread accepts HTTP/1.1 on an AF_UNIX socket, one request per connection, and answers from
 * canned routes. It emulates the engine's version middleware (GET /version reports a range;
 * /vX.Y/ requests outside the accepted range get the engine's "too old"/"too new" 400) so the
 * client's negotiation can be tested against versions the real local engine does not have.
 * Everything else about Docker is tested against the real engine (tests/integration).
 * The caller owns the handle: lp_fake_engine_stop() joins the thread and frees it.
 */
#ifndef LAUNCHPAD_FAKE_ENGINE_H
#define LAUNCHPAD_FAKE_ENGINE_H

#include <stddef.h>

typedef struct lp_fake_engine lp_fake_engine;

/* Listen on socket_path (removed first, and again at stop). NULL on failure. */
lp_fake_engine *lp_fake_engine_start(const char *socket_path);
void lp_fake_engine_stop(lp_fake_engine *f);

/* What GET /version reports, and the range /vX.Y/ requests are accepted in (both set here). */
void lp_fake_engine_set_versions(lp_fake_engine *f, const char *api, const char *min_api);
/* Override only the accepted range (a lying /version, to test "renegotiate once"). */
void lp_fake_engine_set_accepted(lp_fake_engine *f, const char *min_api, const char *max_api);

/*
 * Answer `method path` (path without the /vX.Y prefix and without the query) with status and
 * body (len bytes; (size_t)-1: strlen). delay_ms holds the answer back (timeouts, cancel).
 * A later route for the same method and path replaces the earlier one.
 */
void lp_fake_engine_route(lp_fake_engine *f, const char *method, const char *path, int status,
                          const char *body, size_t len, int delay_ms);

/* Requests seen so far, as "METHOD target" (target with version and query). */
size_t lp_fake_engine_nrequests(lp_fake_engine *f);
/* The i-th request line, copied into out. */
void lp_fake_engine_request(lp_fake_engine *f, size_t i, char *out, size_t outlen);
/* The body of the last request with a body, copied into out ("" when none). */
void lp_fake_engine_last_body(lp_fake_engine *f, char *out, size_t outlen);

#endif
