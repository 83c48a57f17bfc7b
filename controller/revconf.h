/*
 * revconf.h: internal to the controller: each revision's serve config, and how it goes live.
 *
 * A revision's `_redirects` and `_headers` (after the spec's serve.redirects / serve.headers) are
 * rendered once into sites/<name>/.launchpad-rules/<n>.conf, which serves revisions/<n> with
 * exactly those rules. The file is written only after `nginx -t` accepted it in the serve image
 * (a throwaway container with the site's binds), so a <n>.conf that exists is a valid one, and a
 * rollback finds its revision's rules where it left them. current.conf -> <n>.conf is what the
 * serve container's nginx includes; switching it and sending SIGHUP through the Engine API puts
 * the revision live with a graceful reload, never a restart. Warnings and nginx's verdict go to
 * the revision's log.
 *
 * Owns the .launchpad-rules directory of each site; one reconcile (one worker per site) at a
 * time uses it. Nothing is allocated for the caller.
 */
#ifndef LAUNCHPAD_CONTROLLER_REVCONF_H
#define LAUNCHPAD_CONTROLLER_REVCONF_H

#include "controller/context.h"
#include "launchpad/docker.h"
#include "launchpad/spec.h"

typedef struct lp_revconf_result {
	int invalid;                        /* nginx refused it: the revision must fail */
	char message[LP_ERROR_MESSAGE_MAX]; /* nginx's words when invalid */
	int rendered; /* this call rendered and checked it (else it existed) */
	/* nginx -t not run: the live revision whose verdict it shares, or -1: the same text passed
	 * in this process (another site's); 0: it ran */
	long reused;
	size_t bytes;    /* size of the config */
	size_t rules;    /* redirect rules kept */
	size_t warnings; /* lines skipped or refused, each in the log */
} lp_revconf_result;

/*
 * Make sure revision n has its checked config: nothing happens when <n>.conf exists. A config
 * nginx refuses is not kept: out->invalid, with nginx's message. A config that renders from n's
 * rules exactly as the live revision's does (the same text but for the revision number) takes
 * that verdict without a container: out->reused names the live revision; so does a text this
 * process's nginx -t accepted before (lp_ctx_conf_passed). Errors (Docker, files) are returned and
 * retried; they never mark the revision.
 */
int lp_revconf_prepare(lp_revconf_result *out, lp_ctx *ctx, const char *site, const lp_site *spec,
                       long n, lp_error *err) LP_MUST_CHECK;

/*
 * Run `nginx -t` in the serve image (a throwaway container with the site's binds, no network) on
 * conf as revision n's config. *out_ok 0: msg has nginx's [emerg] line. Used by prepare.
 */
int lp_revconf_check_text(int *out_ok, char *msg, size_t msglen, lp_ctx *ctx, const char *site,
                          long n, const char *conf, lp_error *err) LP_MUST_CHECK;

/* Point current.conf at <n>.conf (which must exist); *out_changed: 1 when it moved. */
int lp_revconf_switch(int *out_changed, lp_ctx *ctx, const char *site, long n,
                      lp_error *err) LP_MUST_CHECK;

/*
 * Every running serve container of the site in observed runs revision n's config: those not yet
 * told since current.conf last moved get SIGHUP (nginx re-reads its config, old workers finish
 * what they serve). A marker file remembers who was told, so a steady state sends nothing.
 */
int lp_revconf_reload(lp_ctx *ctx, const char *site, long n, const lp_docker_summaries *observed,
                      lp_error *err) LP_MUST_CHECK;

/* Remove the configs of revisions no longer published (after a prune); best effort. */
void lp_revconf_prune(lp_ctx *ctx, const char *site);

/*
 * At start-up, when no check runs: remove the scratch files (.check-<n>.conf, .check-<n>.stub) of
 * checks a killed controller left. A new check of the same revision would replace and remove them,
 * but a revision superseded meanwhile is never checked again. Best effort.
 */
void lp_revconf_forget_checks(lp_ctx *ctx, const char *site);

/* The include path, inside the serve container, of the live config. */
int lp_revconf_include_path(char *out, size_t outlen) LP_MUST_CHECK;

#endif
