/* preflight.c: check that the Docker engine, images and networks the controller needs are there. */
#include "controller/preflight.h"

#include "launchpad/names.h"

#define PREFLIGHT_API_MAX 16 /* "1.41": lp_docker_api_version writes at most this */
#include "launchpad/docker.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"

/* Print one image's state; returns 1 when it is missing or cannot be checked. */
static int check_image(FILE *out, lp_docker *d, const char *what, const char *image)
{
	lp_docker_image img;
	lp_error err = {0};
	int rc = lp_docker_image_inspect(&img, d, image, &err);

	if (rc == LP_OK) {
		fprintf(out, "  %-16s %s: present (%.19s)\n", what, image, img.id);
		return 0;
	}
	if (rc == LP_ENOTFOUND)
		fprintf(out, "  %-16s %s: MISSING (docker pull %s)\n", what, image, image);
	else
		fprintf(out, "  %-16s %s: cannot check: %s\n", what, image, err.message);
	return 1;
}

/* Print one network's state; a missing network is only a note. Returns 1 on a real failure. */
static int check_network(FILE *out, lp_docker *d, const char *name, int want_internal)
{
	lp_docker_network net;
	lp_error err = {0};
	int rc = lp_docker_network_inspect(&net, d, name, &err);

	if (rc == LP_OK) {
		fprintf(out, "  network          %s: present (internal=%s)%s\n", name,
		        net.internal ? "true" : "false",
		        !net.internal != !want_internal ? "  WARNING: expected the opposite" : "");
		return 0;
	}
	if (rc == LP_ENOTFOUND) {
		fprintf(out, "  network          %s: missing (note: the controller creates it)\n",
		        name);
		return 0;
	}
	fprintf(out, "  network          %s: cannot check: %s\n", name, err.message);
	return 1;
}

int lp_preflight_run(const lp_config *cfg, FILE *out)
{
	lp_docker_options opts = {.socket_path = cfg->docker_socket, .timeout_ms = 10000};
	lp_docker_version_info v;
	char api[PREFLIGHT_API_MAX], sites[LP_NAMES_MAX], build[LP_NAMES_MAX];
	lp_docker *d = NULL;
	lp_error err = {0};
	int failed = 0, missing_serve, missing_build;

	if (lp_names_sites_network(sites, sizeof(sites), cfg, &err) != LP_OK ||
	    lp_names_build_network(build, sizeof(build), cfg->instance, &err) != LP_OK ||
	    lp_docker_new(&d, &opts, &err) != LP_OK) {
		fprintf(stderr, "launchpad-controller: preflight: %s\n", err.message);
		failed = 1;
		goto done;
	}
	if (lp_docker_version(&v, d, &err) != LP_OK ||
	    lp_docker_api_version(api, sizeof(api), d, &err) != LP_OK) {
		fprintf(stderr,
		        "launchpad-controller: preflight: Docker is unreachable at %s: %s\n",
		        cfg->docker_socket, err.message);
		failed = 1;
		goto done;
	}
	fprintf(out, "launchpad-controller preflight (instance %s)\n", cfg->instance);
	fprintf(out, "  docker socket    %s\n", cfg->docker_socket);
	fprintf(out, "  engine           %s (%s/%s), API %s (minimum %s)\n", v.version, v.os,
	        v.arch, v.api_version, v.min_api_version);
	fprintf(out, "  negotiated API   %s (this client: %s..%s)\n", api, LP_DOCKER_API_MIN,
	        LP_DOCKER_API_MAX);
	missing_serve = check_image(out, d, "serve image", cfg->serve_image);
	missing_build = check_image(out, d, "build image", cfg->build_image);
	failed |= check_network(out, d, sites, 1);
	failed |= check_network(out, d, build, 0);
	fflush(out);
	if (missing_serve)
		fprintf(stderr, "launchpad-controller: preflight: serve image %s is missing\n",
		        cfg->serve_image);
	if (missing_build)
		fprintf(stderr, "launchpad-controller: preflight: build image %s is missing\n",
		        cfg->build_image);
	failed |= missing_serve | missing_build;
	fprintf(out, "preflight: %s\n", failed ? "FAILED" : "ok");
done:
	lp_docker_free(d);
	return failed ? 1 : 0;
}

int lp_preflight_health(const lp_config *cfg, FILE *out)
{
	lp_docker_options opts = {.socket_path = cfg->docker_socket, .timeout_ms = 5000};
	char db[LP_FS_PATH_MAX];
	lp_docker *d = NULL;
	lp_error err = {0};
	int failed = 0;

	if (lp_fmt(db, sizeof(db), "%s/db/launchpad.db", cfg->data_dir) != LP_OK ||
	    !lp_fs_exists(db)) {
		fprintf(out, "launchpad-controller: no store at %s/db yet\n", cfg->data_dir);
		return 1;
	}
	if (lp_docker_new(&d, &opts, &err) != LP_OK || lp_docker_ping(d, &err) != LP_OK) {
		fprintf(out, "launchpad-controller: Docker at %s: %s\n", cfg->docker_socket,
		        err.message);
		failed = 1;
	}
	lp_docker_free(d);
	return failed;
}
