/* cmd_deploy.c: `launchpad deploy DIR|ZIP`: zip a folder, upload it, print the site's URL. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/cli_internal.h"
#include "launchpad/spec.h"

static const char help[] =
    "usage: launchpad deploy DIR|ZIP [--name NAME] [--wait [--timeout 10m]]\n"
    "\n"
    "Publish a folder of static files (or a ready .zip / .tar.gz) as a site: the folder is\n"
    "zipped (regular files and folders only, .git skipped, in a stable order) and uploaded.\n"
    "With --name, the site NAME gets the new archive if it exists (a new revision) or is\n"
    "created with that name; without it a new site with a generated name is created. Prints\n"
    "the site's URL. A progress bar is drawn while uploading when stderr is a terminal.\n"
    "\n"
    "  -n, --name NAME   the site's name (a DNS label: a-z, 0-9, -)\n"
    "  -w, --wait        wait until the site is live, with progress\n"
    "      --timeout D   how long --wait waits (default 10m)\n"
    "  -h, --help        this help\n"
    "\n"
    "Global flags: --server, --token (see launchpad --help).\n"
    "exit codes: 0 uploaded (and live with --wait), 1 failure, 2 bad usage\n";

static int has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a > b && !strcmp(s + a - b, suf);
}

/* The folder's own name, for a new site's display name. */
static void display_name(char *out, size_t n, const char *path)
{
	char *copy = strdup(path), *base;
	size_t len;

	if (copy == NULL) {
		snprintf(out, n, "site");
		return;
	}
	len = strlen(copy);
	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = '\0';
	base = basename(copy);
	if (!strcmp(base, ".") || !strcmp(base, "/")) {
		char cwd[4096];
		if (getcwd(cwd, sizeof(cwd)))
			snprintf(out, n, "%s", basename(cwd));
		else
			snprintf(out, n, "site");
	} else {
		snprintf(out, n, "%s", base);
	}
	free(copy);
}

int lp_cli_deploy(int argc, char **argv, const lp_config *cfg)
{
	lp_cli_opt opts[] = {{"name", 'n', 1, 0, NULL},
	                     {"wait", 'w', 0, 0, NULL},
	                     {"timeout", 0, 1, 0, NULL},
	                     {"help", 'h', 0, 0, NULL}};
	const char *pos[LP_CLI_MAX_POS], *name = NULL, *upload = NULL, *slug;
	size_t npos = 0, nfiles = 0;
	int ex = LP_EXIT_FAILED, timeout = 600, fd = -1, exists = 0, progress;
	lp_cli_client c = lp_cli_client_of(cfg);
	lp_cli_resp r = {0};
	lp_error err = {0};
	struct stat st;
	char tmp[4200] = "", path[LP_CLI_API_PATH_MAX], dname[256];
	const char *tmpdir = getenv("TMPDIR");

	if (!lp_cli_parse_or_help(&ex, pos, &npos, opts, 4, argc, argv, help))
		return ex;
	if (npos != 1)
		return lp_cli_usage_error("deploy", help, "expected one folder or zip: deploy DIR");
	if (opts[2].given && (timeout = lp_cli_parse_duration(opts[2].value)) <= 0)
		return lp_cli_usage_error("deploy", help,
		                          "--timeout: expected 600, 90s, 10m or 1h");
	if (opts[0].given) {
		name = opts[0].value;
		if (lp_spec_check_name(name, &err) != LP_OK) {
			fprintf(stderr, "launchpad deploy: --name: %s\n", err.message);
			return LP_EXIT_USAGE;
		}
	}
	if (stat(pos[0], &st) != 0) {
		fprintf(stderr, "launchpad deploy: %s: no such file or folder\n", pos[0]);
		return LP_EXIT_FAILED;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(tmp, sizeof(tmp), "%s/launchpad-deploy-XXXXXX",
		         tmpdir && *tmpdir ? tmpdir : "/tmp");
		if ((fd = mkstemp(tmp)) < 0) {
			fprintf(stderr, "launchpad deploy: cannot create a temp file in %s\n",
			        tmpdir && *tmpdir ? tmpdir : "/tmp");
			tmp[0] = '\0';
			goto done;
		}
		close(fd);
		if (lp_cli_zip_dir(&nfiles, pos[0], tmp, &err) != LP_OK) {
			ex = lp_cli_fail("deploy", &err);
			goto done;
		}
		upload = tmp;
		fprintf(stderr, "Packed %zu files from %s\n", nfiles, pos[0]);
	} else if (S_ISREG(st.st_mode) &&
	           (has_suffix(pos[0], ".zip") || has_suffix(pos[0], ".tar.gz") ||
	            has_suffix(pos[0], ".tgz"))) {
		upload = pos[0];
	} else {
		fprintf(stderr, "launchpad deploy: %s: expected a folder, a .zip or a .tar.gz\n",
		        pos[0]);
		goto done;
	}
	if (name) {
		if (lp_cli_site_path(path, sizeof(path), name, "", &err) != LP_OK ||
		    lp_cli_request(&r, &c, "GET", path, NULL, NULL, 0, &err) != LP_OK) {
			ex = lp_cli_fail("deploy", &err);
			goto done;
		}
		if (r.status == 200) {
			exists = 1;
		} else if (r.status != 404) {
			lp_cli_print_api_error("deploy", &r);
			goto done;
		}
		lp_cli_resp_release(&r);
	}
	progress = isatty(STDERR_FILENO);
	if (exists) {
		if (lp_cli_site_path(path, sizeof(path), name, "/archive", &err) != LP_OK ||
		    lp_cli_upload(&r, &c, path, NULL, upload, "site.zip", progress, &err) !=
		        LP_OK) {
			ex = lp_cli_fail("deploy", &err);
			goto done;
		}
	} else {
		const char *fields[] = {"name", NULL, "source_type", "zip", "slug", name, NULL};

		display_name(dname, sizeof(dname), pos[0]);
		fields[1] = name ? name : dname;
		if (!name)
			fields[4] = NULL;
		if (lp_cli_upload(&r, &c, "/api/deployments", fields, upload,
		                  has_suffix(upload, ".zip") || upload == tmp ? "site.zip"
		                                                              : "site.tar.gz",
		                  progress, &err) != LP_OK) {
			ex = lp_cli_fail("deploy", &err);
			goto done;
		}
	}
	if (r.status != 200 && r.status != 201 && r.status != 202) {
		lp_cli_print_api_error("deploy", &r);
		goto done;
	}
	slug = lp_cli_str(r.json, "slug", name ? name : "?");
	printf("site/%s %s", slug,
	       r.status == 201 ? "created" : lp_cli_str(r.json, "result", "configured"));
	if (lp_cli_num(r.json, "revision", 0) > 0)
		printf(" (revision %lld)", (long long)lp_cli_num(r.json, "revision", 0));
	printf("\nURL: %s\n", lp_cli_str(r.json, "url", ""));
	fflush(stdout);
	ex = LP_EXIT_OK;
	if (opts[1].given) {
		char slug_copy[128];

		snprintf(slug_copy, sizeof(slug_copy), "%s", slug);
		ex = lp_cli_wait(cfg, "deploy", slug_copy, timeout);
	}
done:
	if (tmp[0])
		unlink(tmp);
	lp_cli_resp_release(&r);
	return ex;
}
