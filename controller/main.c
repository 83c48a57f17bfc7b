/* main.c: launchpad-controller's entry point: shared config, then --preflight or the loop. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "controller/preflight.h"
#include "launchpad/config.h"
#include "controller/controller.h"
#include "launchpad/log.h"

/* Seconds running builds get to finish after SIGTERM before they are cancelled. */
#define LP_CONTROLLER_GRACE_SECONDS 30

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

enum mode { MODE_RUN, MODE_PREFLIGHT, MODE_HEALTHCHECK, MODE_HELP };

struct runner {
	lp_controller *ctl;
	int rc;
	lp_error err;
};

static void *run_main(void *arg)
{
	struct runner *r = arg;

	r->rc = lp_controller_run(r->ctl, LP_CONTROLLER_GRACE_SECONDS, &r->err);
	return NULL;
}

/*
 * Signals are taken synchronously by this thread (sigwait), so stopping is ordinary code, not an
 * async-signal handler. Every other thread inherits the blocked mask.
 */
static int run_controller(const lp_config *cfg)
{
	struct runner r = {0};
	sigset_t set;
	pthread_t t;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (lp_controller_new(&r.ctl, cfg, &r.err) != LP_OK) {
		fprintf(stderr, "launchpad-controller: %s\n", r.err.message);
		return EXIT_FAIL;
	}
	if (pthread_create(&t, NULL, run_main, &r) != 0) {
		fprintf(stderr, "launchpad-controller: cannot start\n");
		lp_controller_free(r.ctl);
		return EXIT_FAIL;
	}
	sigwait(&set, &sig);
	LP_INFO("controller", "received %s: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	lp_controller_stop(r.ctl);
	pthread_join(t, NULL);
	lp_controller_free(r.ctl);
	if (r.rc != LP_OK) {
		fprintf(stderr, "launchpad-controller: %s\n", r.err.message);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: launchpad-controller [flags] [--preflight]\n\n"
	           "  --preflight    check the Docker engine, images and networks, then exit\n"
	           "  --healthcheck  exit 0 when the engine answers and the store exists (for "
	           "compose)\n"
	           "  --help         this text\n\n"
	           "flags (each also a LAUNCHPAD_* variable; a flag wins):\n");
	fflush(f);
	lp_config_usage_for(fileno(f), LP_CONFIG_FOR_CONTROLLER);
}

/* The controller's own arguments (what lp_config_new did not take). */
static int parse_mode(enum mode *out, int nrest, char **rest)
{
	int i;

	*out = MODE_RUN;
	for (i = 0; i < nrest; i++) {
		if (!strcmp(rest[i], "--preflight")) {
			*out = MODE_PREFLIGHT;
		} else if (!strcmp(rest[i], "--healthcheck")) {
			*out = MODE_HEALTHCHECK;
		} else if (!strcmp(rest[i], "--help") || !strcmp(rest[i], "-h")) {
			*out = MODE_HELP;
		} else {
			fprintf(stderr,
			        "launchpad-controller: unknown argument \"%s\" (see --help)\n",
			        rest[i]);
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	lp_config *cfg = NULL;
	char **rest = NULL;
	int nrest = 0, rc = EXIT_USAGE;
	lp_error err = {0};
	enum mode mode;

	/* libcurl runs with CURLOPT_NOSIGNAL; a peer closing a socket must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	if (lp_config_new(&cfg, &rest, &nrest, argc, argv, &err) != LP_OK) {
		fprintf(stderr, "launchpad-controller: %s\n", err.message);
		goto done;
	}
	lp_log_setup(cfg->log_level, cfg->log_format, 2);
	if (parse_mode(&mode, nrest, rest) != 0)
		goto done;
	switch (mode) {
	case MODE_HELP:
		usage(stdout);
		rc = EXIT_OK;
		break;
	case MODE_PREFLIGHT:
		rc = lp_preflight_run(cfg, stdout) == 0 ? EXIT_OK : EXIT_FAIL;
		break;
	case MODE_HEALTHCHECK:
		rc = lp_preflight_health(cfg, stderr) == 0 ? EXIT_OK : EXIT_FAIL;
		break;
	case MODE_RUN:
		/* What this process will do, not what the operator believes they set. */
		lp_config_log(cfg, "controller", LP_CONFIG_FOR_CONTROLLER);
		rc = run_controller(cfg);
		break;
	}
done:
	lp_config_rest_free(rest);
	lp_config_free(cfg);
	return rc;
}
