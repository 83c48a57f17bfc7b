/* cmd_deploy.c: `launchpad deploy DIR|ZIP`: zip a folder, upload it, print the site's URL. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/cli_internal.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "launchpad/log.h"
#include "launchpad/spec.h"

#define DISPLAY_NAME_MAX 256 /* a folder's name (NAME_MAX) and its NUL */

const char lp_cli_deploy_help[] =
    "usage: launchpad deploy DIR|ZIP [--name NAME] [--draft] [--strict] [--wait [--timeout 10m]]\n"
    "\n"
    "Publish a folder of static files (or a ready .zip / .tar.gz) as a site: the folder is\n"
    "zipped (regular files and folders only, .git skipped, in a stable order) and uploaded.\n"
    "With --name, the site NAME gets the new archive if it exists (a new revision) or is\n"
    "created with that name; without it a new site with a generated name is created. Prints\n"
    "the site's URL. A progress bar is drawn while uploading when stderr is a terminal.\n"
    "Without index.html at the top (a lone top folder counts as the top, as the server strips\n"
    "it) the site would answer 404 at /: deploy warns, and refuses with --strict.\n"
    "\n"
    "  -n, --name NAME   the site's name (a DNS label: a-z, 0-9, -)\n"
    "      --draft       build and publish a new revision of the existing site NAME without\n"
    "                    making it live; prints its permalink. `launchpad rollback NAME --to N`\n"
    "                    publishes it later, with no build\n"
    "      --strict      refuse (exit 1, nothing uploaded) when there is no index.html at the top\n"
    "  -w, --wait        wait until the site is live, with progress\n"
    "      --timeout D   how long --wait waits: 600, 90s, 10m, 1h (default 10m)\n"
    "  -h, --help        this help\n"
    "\n"
    "examples:\n"
    "  launchpad deploy ./public --name my-site --wait\n"
    "  launchpad deploy site.zip --strict\n"
    "\n"
    "Global flags: --server, --token, --log-level (see launchpad --help).\n"
    "exit codes: 0 uploaded (and live with --wait), 1 failure (or --strict refused), 2 bad usage,\n"
    "3 timed out waiting\n";

static int has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a > b && !strcmp(s + a - b, suf);
}

/* The folder's own name, for a new site's display name. */
static int display_name(char *out, size_t n, const char *path)
{
	char *copy = strdup(path), *base, cwd[LP_FS_PATH_MAX];
	size_t len;
	int rc;

	if (copy == NULL)
		return lp_fmt(out, n, "site");
	len = strlen(copy);
	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = '\0';
	base = basename(copy);
	if (strcmp(base, ".") && strcmp(base, "/"))
		rc = lp_fmt(out, n, "%s", base);
	else if (getcwd(cwd, sizeof(cwd)))
		rc = lp_fmt(out, n, "%s", basename(cwd));
	else
		rc = lp_fmt(out, n, "site");
	free(copy);
	return rc;
}

/* What deploy uploads: a ready archive, or a zip packed here from a folder. */
struct payload {
	const char *path;         /* the file to upload: tmp or the input itself */
	char tmp[LP_FS_PATH_MAX]; /* the packed zip, removed afterwards; "" when none */
};

/* A folder is zipped into a temp file, a .zip, .tar.gz or .tgz goes as it is; says why not. */
static int prepare(struct payload *pl, const char *input)
{
	const char *tmpdir = getenv("TMPDIR");
	struct stat st;
	size_t nfiles = 0;
	lp_error err = {0};
	int fd, rc;

	if (stat(input, &st) != 0) {
		fprintf(stderr, "launchpad deploy: %s: no such file or folder\n", input);
		return LP_ENOTFOUND;
	}
	if (S_ISREG(st.st_mode) && (has_suffix(input, ".zip") || has_suffix(input, ".tar.gz") ||
	                            has_suffix(input, ".tgz"))) {
		pl->path = input;
		return LP_OK;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "launchpad deploy: %s: expected a folder, a .zip or a .tar.gz\n",
		        input);
		return LP_EINVAL;
	}
	if (tmpdir == NULL || *tmpdir == '\0')
		tmpdir = "/tmp";
	if (lp_fmt(pl->tmp, sizeof(pl->tmp), "%s/launchpad-deploy-XXXXXX", tmpdir) != LP_OK) {
		fprintf(stderr, "launchpad deploy: the temp folder's path is too long: %s\n",
		        tmpdir);
		return LP_ETOOBIG;
	}
	if ((fd = mkstemp(pl->tmp)) < 0) {
		fprintf(stderr, "launchpad deploy: cannot create a temp file in %s\n", tmpdir);
		pl->tmp[0] = '\0';
		return LP_EIO;
	}
	close(fd);
	if ((rc = lp_cli_zip_dir(&nfiles, input, pl->tmp, &err)) != LP_OK) {
		lp_cli_fail("deploy", &err);
		return rc;
	}
	pl->path = pl->tmp;
	fprintf(stderr, "Packed %zu files from %s\n", nfiles, input);
	return LP_OK;
}

/*
 * *exists: whether the site name is there already (the upload is a new revision of it);
 * *has_build: whether its spec builds the archive (then what is served is the build's output).
 */
static int site_exists(int *exists, int *has_build, const lp_cli_client *c, const char *name)
{
	lp_cli_resp r = {0};
	lp_error err = {0};
	char path[LP_CLI_API_PATH_MAX];
	int rc;

	*exists = *has_build = 0;
	rc = lp_cli_site_path(path, sizeof(path), name, "", &err);
	if (rc == LP_OK)
		rc = lp_cli_request(&r, c, "GET", path, NULL, NULL, 0, &err);
	if (rc != LP_OK) {
		lp_cli_fail("deploy", &err);
	} else if (r.status == 200) {
		const cJSON *stored = cJSON_GetObjectItemCaseSensitive(r.json, "spec");

		*exists = 1;
		*has_build = cJSON_GetObjectItemCaseSensitive(
		                 cJSON_GetObjectItemCaseSensitive(stored, "spec"), "build") != NULL;
	} else if (r.status != 404) {
		lp_cli_print_api_error("deploy", &r);
		rc = LP_EREMOTE;
	}
	lp_cli_resp_release(&r);
	return rc;
}

/*
 * Upload the payload into the archive of site name when it exists, else as a new site (named
 * name, or by the server with input's folder name for display). Says why when it cannot.
 */
static int upload(lp_cli_resp *r, const lp_cli_client *c, const char *name, int exists, int draft,
                  const char *input, const struct payload *pl)
{
	const char *fields[] = {"name", name, "source_type", "zip", "slug", name, NULL};
	char path[LP_CLI_API_PATH_MAX], dname[DISPLAY_NAME_MAX];
	int progress = isatty(STDERR_FILENO), rc;
	lp_error err = {0};

	if (exists) {
		rc = lp_cli_site_path(path, sizeof(path), name,
		                      draft ? "/archive?draft=true" : "/archive", &err);
		if (rc == LP_OK)
			rc = lp_cli_upload(r, c, path, NULL, pl->path, "site.zip", progress, &err);
	} else {
		rc = LP_OK;
		if (name == NULL) {
			fields[4] = NULL;
			fields[1] = dname;
			if ((rc = display_name(dname, sizeof(dname), input)) != LP_OK)
				lp_error_set(&err, rc, "%s: the folder's name is too long", input);
		}
		if (rc == LP_OK)
			rc = lp_cli_upload(r, c, "/api/deployments", fields, pl->path,
			                   has_suffix(pl->path, ".zip") || pl->path == pl->tmp
			                       ? "site.zip"
			                       : "site.tar.gz",
			                   progress, &err);
	}
	if (rc != LP_OK)
		lp_cli_fail("deploy", &err);
	return rc;
}

/*
 * Whether the archive has index.html at its top (after the server's lone-top-folder strip).
 * Without: a warning, or with strict a refusal (0: nothing is uploaded).
 */
static int root_page_ok(const struct payload *pl, const char *input, int strict)
{
	lp_error err = {0};
	int has = 0;

	if (lp_cli_archive_has_index(&has, pl->path, &err) != LP_OK) {
		/* the server reads the archive itself and says what is wrong with it */
		LP_DEBUG("cli", "deploy: cannot look into %s: %s", pl->path, err.message);
		return 1;
	}
	if (has)
		return 1;
	fprintf(stderr,
	        "launchpad deploy: %sno index.html at the top of %s: the site will answer "
	        "404 at /%s\n",
	        strict ? "" : "warning: ", input, strict ? " (--strict: nothing uploaded)" : "");
	return !strict;
}

/* "site/NAME created (revision N)" and the URL; returns the site's name (borrowed from r). */
static const char *print_deployed(const lp_cli_resp *r, const char *name)
{
	const char *slug = lp_cli_str(r->json, "slug", name ? name : "?");

	printf("site/%s %s", slug,
	       r->status == 201 ? "created" : lp_cli_str(r->json, "result", "configured"));
	if (lp_cli_num(r->json, "revision", 0) > 0)
		printf(" (revision %lld)", (long long)lp_cli_num(r->json, "revision", 0));
	printf("\nURL: %s\n", lp_cli_str(r->json, "url", ""));
	if (lp_cli_str(r->json, "permalink", NULL))
		printf("Permalink: %s\n", lp_cli_str(r->json, "permalink", ""));
	fflush(stdout);
	return slug;
}

int lp_cli_deploy(int argc, char **argv, const lp_config *cfg)
{
	enum { OPT_NAME, OPT_WAIT, OPT_TIMEOUT, OPT_STRICT, OPT_DRAFT, OPT_HELP, NOPTS };
	lp_cli_opt opts[NOPTS] = {
	    [OPT_NAME] = {"name", 'n', 1, 0, NULL},     [OPT_WAIT] = {"wait", 'w', 0, 0, NULL},
	    [OPT_TIMEOUT] = {"timeout", 0, 1, 0, NULL}, [OPT_STRICT] = {"strict", 0, 0, 0, NULL},
	    [OPT_DRAFT] = {"draft", 0, 0, 0, NULL},     [OPT_HELP] = {"help", 'h', 0, 0, NULL}};
	const char *pos[LP_CLI_MAX_POS], *input, *name = NULL, *slug;
	size_t npos = 0;
	int ex = LP_EXIT_FAILED, timeout = 600, exists = 0, has_build = 0;
	lp_cli_client c = lp_cli_client_of(cfg);
	lp_cli_resp r = {0};
	lp_error err = {0};
	struct payload pl = {.path = NULL};

	if (!lp_cli_parse_or_help(&ex, pos, &npos, opts, NOPTS, argc, argv, lp_cli_deploy_help))
		return ex;
	if (npos != 1)
		return lp_cli_usage_error("deploy", lp_cli_deploy_help,
		                          "expected one folder or zip: deploy DIR");
	input = pos[0];
	if (opts[OPT_TIMEOUT].given &&
	    (timeout = lp_cli_parse_duration(opts[OPT_TIMEOUT].value)) <= 0)
		return lp_cli_usage_error("deploy", lp_cli_deploy_help,
		                          "--timeout: expected 600, 90s, 10m or 1h");
	if (opts[OPT_NAME].given) {
		name = opts[OPT_NAME].value;
		if (lp_spec_check_name(name, &err) != LP_OK) {
			fprintf(stderr, "launchpad deploy: --name: %s\n", err.message);
			return LP_EXIT_USAGE;
		}
	}
	if (opts[OPT_DRAFT].given && (name == NULL || opts[OPT_WAIT].given))
		return lp_cli_usage_error("deploy", lp_cli_deploy_help,
		                          "--draft needs --name of an existing site, and no --wait "
		                          "(the site's live revision does not change)");
	if (prepare(&pl, input) != LP_OK ||
	    (name && site_exists(&exists, &has_build, &c, name) != LP_OK))
		goto done;
	/* a site built from the archive serves its build's output: the top need not be a page */
	if (!has_build && !root_page_ok(&pl, input, opts[OPT_STRICT].given))
		goto done;
	if (opts[OPT_DRAFT].given && !exists) {
		fprintf(stderr, "launchpad deploy: --draft: site %s does not exist\n", name);
		goto done;
	}
	if (upload(&r, &c, name, exists, opts[OPT_DRAFT].given, input, &pl) != LP_OK)
		goto done;
	if (r.status != 200 && r.status != 201 && r.status != 202) {
		lp_cli_print_api_error("deploy", &r);
		goto done;
	}
	slug = print_deployed(&r, name);
	ex = opts[OPT_WAIT].given ? lp_cli_wait(cfg, "deploy", slug, timeout) : LP_EXIT_OK;
done:
	if (pl.tmp[0])
		unlink(pl.tmp);
	lp_cli_resp_release(&r);
	return ex;
}
