/* main.c: launchpad-controller's entry point: shared config, then --preflight or the loop. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "controller/preflight.h"
#include "launchpad/config.h"
#include "launchpad/log.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

enum mode { MODE_RUN, MODE_PREFLIGHT, MODE_HELP };

static void usage(FILE *f)
{
	fprintf(f, "usage: launchpad-controller [flags] [--preflight]\n\n"
	           "  --preflight    check the Docker engine, images and networks, then exit\n"
	           "  --help         this text\n\n"
	           "flags (each also a LAUNCHPAD_* variable; a flag wins):\n");
	fflush(f);
	lp_config_usage(fileno(f));
}

/* The controller's own arguments (what lp_config_new did not take). */
static int parse_mode(enum mode *out, int nrest, char **rest)
{
	int i;

	*out = MODE_RUN;
	for (i = 0; i < nrest; i++) {
		if (!strcmp(rest[i], "--preflight")) {
			*out = MODE_PREFLIGHT;
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
	case MODE_RUN:
		fprintf(stderr, "launchpad-controller: the reconcile loop is not implemented yet; "
		                "try --preflight\n");
		rc = EXIT_USAGE;
		break;
	}
done:
	lp_config_rest_free(rest);
	lp_config_free(cfg);
	return rc;
}
