/* cmd_apply.c: `launchpad apply -f FILE|DIR|-`: validate locally, then PUT each site. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/cli_internal.h"
#include "launchpad/spec.h"

const char lp_cli_apply_help[] =
    "usage: launchpad apply -f FILE|DIR|- [-f ...] [-R] [--dry-run] [--wait [--timeout 10m]]\n"
    "\n"
    "Create or update sites from Site manifests: YAML (several documents separated by ---) or\n"
    "JSON. A directory means its *.yaml, *.yml and *.json files (one level, as kubectl reads\n"
    "it; -R goes into subdirectories too); - reads stdin. Every file is checked locally first:\n"
    "any error is printed as FILE:LINE:COLUMN: path: message and nothing is sent. Then each\n"
    "site is applied (PUT /api/deployments/NAME) and reported as site/NAME created, configured\n"
    "or unchanged.\n"
    "\n"
    "  -f, --filename PATH   a manifest, a directory or - (stdin); repeatable\n"
    "  -R, --recursive       a directory's subdirectories too\n"
    "      --dry-run         let the server validate and say what would change; write nothing\n"
    "  -w, --wait            wait until every applied site is live (or failed), with progress\n"
    "      --timeout D       how long --wait waits: 600, 90s, 10m, 1h (default 10m)\n"
    "  -h, --help            this help\n"
    "\n"
    "examples:\n"
    "  launchpad apply -f site.yaml --wait\n"
    "  launchpad apply -f examples/ --dry-run\n"
    "  launchpad apply -R -f deploy/sites/\n"
    "\n"
    "Whether http:// and file:// Git URLs are accepted is the server's setting: the local check\n"
    "lets them through and the server answers 400 when it refuses them.\n"
    "Global flags: --server, --token, --log-level (see launchpad --help).\n"
    "exit codes: 0 all applied (and live with --wait), 1 any failure or invalid manifest,\n"
    "2 bad usage, 3 timed out waiting\n";

struct input {
	char *label; /* the file name in messages */
	lp_site_list sites;
};

struct inputs {
	struct input items[LP_CLI_MANIFESTS_MAX];
	size_t n;
};

/* PUT one site; prints its line. Returns 1 on success. */
static int apply_site(const lp_config *cfg, const lp_site *site, int dry_run)
{
	lp_cli_client c = lp_cli_client_of(cfg);
	lp_cli_resp r = {0};
	lp_error err = {0};
	char *json = NULL, path[LP_CLI_API_PATH_MAX];
	int ok = 0;

	if (lp_site_to_json(&json, site, &err) != LP_OK ||
	    lp_cli_site_path(path, sizeof(path), site->name, dry_run ? "?dryRun=1" : "", &err) !=
	        LP_OK ||
	    lp_cli_request(&r, &c, "PUT", path, "application/json", json, strlen(json), &err) !=
	        LP_OK) {
		lp_cli_fail("apply", &err);
		goto done;
	}
	if (r.status != 200 && r.status != 201) {
		fprintf(stderr, "site/%s: not applied\n", site->name);
		lp_cli_print_api_error("apply", &r);
		if (r.status == 400 && r.body && strstr(r.body, "--allow-insecure-sources"))
			fprintf(stderr,
			        "  this server refuses http:// and file:// Git URLs: its own "
			        "--allow-insecure-sources setting decides, not the CLI's\n");
		goto done;
	}
	printf("site/%s %s%s", site->name, lp_cli_str(r.json, "result", "applied"),
	       dry_run ? " (dry run)" : "");
	if (lp_cli_num(r.json, "revision", 0) > 0)
		printf(" (revision %lld)", (long long)lp_cli_num(r.json, "revision", 0));
	printf("\n");
	fflush(stdout);
	lp_cli_print_warnings(r.json);
	ok = 1;
done:
	free(json);
	lp_cli_resp_release(&r);
	return ok;
}

/* -f may repeat: every value in order (the generic parser keeps only the last). */
static size_t collect_filenames(const char **files, int argc, char **argv)
{
	size_t n = 0;
	int a;

	for (a = 1; a < argc; a++) {
		if ((!strcmp(argv[a], "-f") || !strcmp(argv[a], "--filename")) && a + 1 < argc) {
			if (n < LP_CLI_MAX_POS)
				files[n++] = argv[++a];
		} else if (!strncmp(argv[a], "--filename=", 11) && n < LP_CLI_MAX_POS) {
			files[n++] = argv[a] + 11;
		} else if (!strncmp(argv[a], "-f", 2) && argv[a][2] && n < LP_CLI_MAX_POS) {
			files[n++] = argv[a] + 2 + (argv[a][2] == '=');
		}
	}
	return n;
}

/* Every manifest the -f inputs name into ins, each problem printed. 1 when all are valid. */
static int load_inputs(struct inputs *ins, const char *const *files, size_t nfiles, int recursive,
                       const lp_spec_options *opts)
{
	lp_cli_paths paths = {0};
	lp_site_list sites;
	lp_error err = {0};
	size_t i;
	int ok = 1;

	for (i = 0; i < nfiles; i++)
		if (lp_cli_manifest_paths(&paths, files[i], recursive, &err) != LP_OK) {
			fprintf(stderr, "launchpad apply: %s\n", err.message);
			ok = 0;
		}
	for (i = 0; i < paths.count; i++) {
		if (lp_cli_manifest_load(&sites, "apply", paths.items[i], opts) != LP_OK) {
			ok = 0;
			continue;
		}
		ins->items[ins->n].sites = sites;
		ins->items[ins->n].label = strdup(paths.items[i]);
		ins->n++;
	}
	lp_cli_paths_release(&paths);
	return ok;
}

/* PUT every site; then, when asked to wait (and not a dry run), wait for each. */
static int apply_all(const lp_config *cfg, const struct inputs *ins, int dry_run, int wait,
                     int timeout)
{
	int ex = LP_EXIT_OK, w;
	size_t i, j;

	for (i = 0; i < ins->n; i++)
		for (j = 0; j < ins->items[i].sites.count; j++)
			if (!apply_site(cfg, ins->items[i].sites.items[j], dry_run))
				ex = LP_EXIT_FAILED;
	if (!wait || dry_run || ex != LP_EXIT_OK)
		return ex;
	/* a known failure outranks a timeout: the exit code says the worst that is known */
	for (i = 0; i < ins->n; i++)
		for (j = 0; j < ins->items[i].sites.count; j++) {
			w = lp_cli_wait(cfg, "apply", ins->items[i].sites.items[j]->name, timeout);
			if (w == LP_EXIT_FAILED || (w == LP_EXIT_TIMEOUT && ex == LP_EXIT_OK))
				ex = w;
		}
	return ex;
}

int lp_cli_apply(int argc, char **argv, const lp_config *cfg)
{
	enum { OPT_FILENAME, OPT_RECURSIVE, OPT_DRY_RUN, OPT_WAIT, OPT_TIMEOUT, OPT_HELP, NOPTS };
	lp_cli_opt opts[NOPTS] = {[OPT_FILENAME] = {"filename", 'f', 1, 0, NULL},
	                          [OPT_RECURSIVE] = {"recursive", 'R', 0, 0, NULL},
	                          [OPT_DRY_RUN] = {"dry-run", 0, 0, 0, NULL},
	                          [OPT_WAIT] = {"wait", 'w', 0, 0, NULL},
	                          [OPT_TIMEOUT] = {"timeout", 0, 1, 0, NULL},
	                          [OPT_HELP] = {"help", 'h', 0, 0, NULL}};
	/*
	 * Whether http:// and file:// Git URLs are allowed is the server's call (its own
	 * --allow-insecure-sources): the local check lets them through, the server answers 400.
	 */
	lp_spec_options sopts = {.allow_insecure_sources = 1};
	const char *pos[LP_CLI_MAX_POS], *files[LP_CLI_MAX_POS];
	struct inputs *ins = NULL;
	size_t npos = 0, nfiles = collect_filenames(files, argc, argv), i;
	int ex = LP_EXIT_FAILED, timeout = 600;

	if (!lp_cli_parse_or_help(&ex, pos, &npos, opts, NOPTS, argc, argv, lp_cli_apply_help))
		return ex;
	if (npos)
		return lp_cli_usage_error("apply", lp_cli_apply_help,
		                          "unexpected argument (use -f PATH)");
	if (nfiles == 0)
		return lp_cli_usage_error("apply", lp_cli_apply_help,
		                          "no input: pass -f FILE, -f DIR or -f -");
	if (opts[OPT_TIMEOUT].given &&
	    (timeout = lp_cli_parse_duration(opts[OPT_TIMEOUT].value)) <= 0)
		return lp_cli_usage_error("apply", lp_cli_apply_help,
		                          "--timeout: expected 600, 90s, 10m or 1h");
	if ((ins = calloc(1, sizeof(*ins))) == NULL)
		return LP_EXIT_FAILED;
	if (load_inputs(ins, files, nfiles, opts[OPT_RECURSIVE].given, &sopts))
		ex = apply_all(cfg, ins, opts[OPT_DRY_RUN].given, opts[OPT_WAIT].given, timeout);
	else
		fprintf(stderr, "launchpad apply: nothing was applied\n");
	for (i = 0; i < ins->n; i++) {
		free(ins->items[i].label);
		lp_site_list_release(&ins->items[i].sites);
	}
	free(ins);
	return ex;
}
