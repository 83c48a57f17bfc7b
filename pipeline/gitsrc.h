/*
 * gitsrc.h: Git sources: URL policy, a per-site bare cache fetched incrementally, and a checkout
 * of one exact commit into a fresh workspace, all under a deadline, a size cap and cancellation.
 *
 * libgit2 1.5 has no network timeout, so all libgit2 work runs in a worker process that the
 * caller's thread waits for and SIGKILLs on the deadline or on cancellation. The worker is this
 * same binary re-executed through /proc/self/exe (posix_spawn) and taken over by a constructor in
 * gitsrc.c before main() runs: a fresh image, so no lock held by another thread of the
 * multi-threaded caller at fork time can deadlock it (a bare fork() did, under ASan's allocator).
 * Only the worker initialises or calls libgit2; it reports through a pipe and leaves with _exit().
 * Callers must not ignore SIGCHLD (SIG_IGN would auto-reap the worker and hide its status).
 *
 * Ownership: the request's strings belong to the caller and are only read. The result is a plain
 * value. cache_dir belongs to this module (it may be recreated when unreadable); at most one fetch
 * may use a given cache_dir at a time (the controller's keyed queue guarantees that per site).
 * workdir must be absent or an empty directory; on failure it is removed again.
 */
#ifndef LAUNCHPAD_GITSRC_H
#define LAUNCHPAD_GITSRC_H

#include <signal.h>
#include <stdint.h>

#include "launchpad/error.h"

#define LP_GITSRC_URL_MAX    2048
#define LP_GITSRC_BRANCH_MAX 255
/* A branch with this prefix names a pull request's head ref itself (refs/pull/<n>/head). */
#define LP_GITSRC_PULL_PREFIX          "refs/pull/"
#define LP_GITSRC_SHA_LEN              41                    /* 40 hex digits + NUL */
#define LP_GITSRC_DEFAULT_TIMEOUT      300                   /* seconds */
#define LP_GITSRC_DEFAULT_MAX_BYTES    ((uint64_t)512 << 20) /* received pack bytes */
#define LP_GITSRC_DEFAULT_MAX_CHECKOUT ((uint64_t)1 << 30)   /* bytes written to workdir */
#define LP_GITSRC_DEFAULT_MAX_FILES    100000
#define LP_GITSRC_POLICY_MAX           65536 /* bytes of allow_hosts, and of deny_ranges */

typedef struct lp_gitsrc_request {
	const char *url;       /* https://…; http:// and file:/// only with allow_insecure */
	const char *branch;    /* short name ("main") */
	const char *commit;    /* 40 hex digits, or NULL for the branch head */
	const char *cache_dir; /* bare cache, e.g. <data>/cache/git/<name>.git */
	const char *workdir;   /* the checkout goes here (absent or empty directory) */
	int allow_insecure;    /* --allow-insecure-sources: permit http:// and file:/// */
	int timeout_seconds;   /* whole fetch + checkout; 0 = LP_GITSRC_DEFAULT_TIMEOUT */
	uint64_t max_bytes;    /* cap on received pack bytes; 0 = LP_GITSRC_DEFAULT_MAX_BYTES */
	uint64_t max_checkout_bytes; /* cap on checked-out blob bytes; 0 = default */
	unsigned max_files;          /* cap on checked-out files; 0 = default */
	int log_fd; /* progress lines are written here; 0 or negative = no log (never stdin) */
	const volatile sig_atomic_t *cancel; /* optional: set non-zero to cancel */
	int cancel_fd; /* optional (> 0): readable or hung up = cancel (an eventfd or pipe) */
	/*
	 * SSRF: connect only to globally routable addresses (pipeline/netpolicy.h), checked at
	 * connect time on the address resolved, redirects included; the controller turns it on
	 * whenever insecure sources are off. allow_hosts: the admin's exemptions (host names, IPs,
	 * CIDRs; --git-allow-hosts); deny_ranges: CIDRs refused too (the engine's networks). Both
	 * comma lists, at most LP_GITSRC_POLICY_MAX bytes, NULL for none.
	 */
	int check_addresses;
	const char *allow_hosts;
	const char *deny_ranges;
	/*
	 * A private repository's HTTPS credential (username and a token as its password), NULL:
	 * none. Handed to libgit2 only through its credential callback, once per fetch: never in
	 * the URL, the bare cache's config, a log line or an argument list (the worker gets it on
	 * its memfd stdin, wiped after).
	 */
	const char *username;
	const char *password;
} lp_gitsrc_request;

#define LP_GITSRC_CREDENTIAL_MAX 1024 /* bytes of a username, and of a token */

typedef struct lp_gitsrc_result {
	char sha[LP_GITSRC_SHA_LEN]; /* the commit checked out, 40 lowercase hex digits */
	uint64_t received_bytes;     /* pack bytes received by this fetch (0 when up to date) */
	unsigned received_objects;
	unsigned files; /* files written to workdir */
} lp_gitsrc_result;

/*
 * Check a Git URL against the source policy: https:// only; http:// and file:/// only when
 * allow_insecure; never ssh, git://, ext::, options ("-…"), credentials (user:pass@), control
 * characters or more than LP_GITSRC_URL_MAX bytes. LP_EINVAL with a message saying why.
 */
int lp_gitsrc_check_url(const char *url, int allow_insecure, lp_error *err);

/* A branch short name git would accept and that cannot be read as an option. LP_EINVAL if not. */
int lp_gitsrc_check_branch(const char *branch, lp_error *err);

/*
 * Fetch req->branch (and req->commit, if given) into the bare cache and check the commit out into
 * req->workdir (files only: no .git). Errors: LP_EINVAL (policy, arguments), LP_ENOTFOUND (branch
 * or commit missing on the remote), LP_ETOOBIG (size caps), LP_ETIMEOUT (deadline; the child is
 * killed and reaped), LP_ECANCELED, LP_EREMOTE (the server or transport failed), LP_EIO,
 * LP_EUNSAFE (check_addresses: the host resolves only to refused addresses; one text whatever
 * the port and whether anything listens, see LP_GITNET_REFUSED in pipeline/gitnet.h).
 */
int lp_gitsrc_fetch(lp_gitsrc_result *out, const lp_gitsrc_request *req, lp_error *err);

#endif
