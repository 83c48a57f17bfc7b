/*
 * lp_platform.c: the test platform as a process, for test drivers that are not C (the dashboard's
 * browser tests). It starts the real apiserver + controller exactly as the C suites do
 * (tests/lib/platform.c), prints one JSON line on stdout:
 *   {"url","token","instance","data_dir","root","edge_http","edge_api","site_url_template"}
 * and keeps everything running until its stdin closes or it gets SIGTERM/SIGINT; then it stops
 * the daemons and removes every container, network and file of the instance. If this process is
 * killed outright, the platform's reaper still cleans up.
 * edge_http ("127.0.0.1:PORT", Traefik: send "Host: <site>.localhost") is "" without --edge.
 *   usage: lp_platform [--apiserver-only] [--edge] [--env K=V]...
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "tests/lib/platform.h"

#define LP_PLATFORM_MAX_ENV 64
#define LP_PLATFORM_URL_MAX 128

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int print_ready(const lp_test_platform *p)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	if (o == NULL)
		return -1;
	cJSON_AddStringToObject(o, "url", p->url);
	cJSON_AddStringToObject(o, "token", p->token);
	cJSON_AddStringToObject(o, "instance", p->instance);
	cJSON_AddStringToObject(o, "data_dir", p->data_dir);
	cJSON_AddStringToObject(o, "root", p->root);
	cJSON_AddStringToObject(o, "edge_http", p->edge_http);
	cJSON_AddStringToObject(o, "edge_api", p->edge_api);
	if (p->edge_http[0]) {
		/* "http://{name}.localhost:PORT": where a site answers, through Traefik */
		const char *port = strrchr(p->edge_http, ':');
		char tmpl[LP_PLATFORM_URL_MAX];
		snprintf(tmpl, sizeof(tmpl), "http://{name}.localhost%s", port ? port : "");
		cJSON_AddStringToObject(o, "site_url_template", tmpl);
	}
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (s == NULL)
		return -1;
	printf("%s\n", s);
	fflush(stdout);
	free(s);
	return 0;
}

int main(int argc, char **argv)
{
	const char *env[LP_PLATFORM_MAX_ENV + 1] = {NULL};
	lp_test_platform_options opts = {.env = env};
	lp_test_platform *p = NULL;
	struct sigaction sa = {.sa_handler = on_signal};
	lp_error err = {0};
	int i, nenv = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--apiserver-only")) {
			opts.no_controller = 1;
		} else if (!strcmp(argv[i], "--edge")) {
			opts.edge = 1;
		} else if (!strcmp(argv[i], "--env") && i + 1 < argc &&
		           nenv < LP_PLATFORM_MAX_ENV && strchr(argv[i + 1], '=')) {
			env[nenv++] = argv[++i];
		} else {
			fprintf(stderr,
			        "usage: lp_platform [--apiserver-only] [--edge] [--env K=V]...\n");
			return 2;
		}
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (lp_test_platform_start(&p, &opts, &err) != LP_OK) {
		fprintf(stderr, "lp_platform: %s\n", err.message);
		return 1;
	}
	if (print_ready(p) != 0) {
		lp_test_platform_free(p);
		return 1;
	}
	while (!stop_requested) {
		struct pollfd pfd = {.fd = 0, .events = POLLIN};
		char buf[256];

		if (poll(&pfd, 1, 500) > 0 && read(0, buf, sizeof(buf)) <= 0)
			break; /* the driver closed our stdin (or died) */
	}
	if (getenv("LAUNCHPAD_TEST_DUMP_LOGS"))
		lp_test_platform_dump_logs(p, 20000);
	lp_test_platform_free(p);
	return 0;
}
