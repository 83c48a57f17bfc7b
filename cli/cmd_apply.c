/* cmd_apply.c: `launchpad apply -f FILE|DIR|-`: validate locally, then PUT each site. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/cli_internal.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "launchpad/spec.h"

#define MAX_FILES 1000 /* manifests in one apply */
#define MAX_DEPTH 16   /* directory nesting followed */

const char lp_cli_apply_help[] =
    "usage: launchpad apply -f FILE|DIR|- [-f ...] [--dry-run] [--wait [--timeout 10m]]\n"
    "\n"
    "Create or update sites from Site manifests: YAML (several documents separated by ---) or\n"
    "JSON; a directory is read recursively (*.yaml, *.yml, *.json); - reads stdin. Every file\n"
    "is checked locally first: any error is printed as FILE:LINE:COLUMN: path: message and\n"
    "nothing is sent. Then each site is applied (PUT /api/deployments/NAME) and reported as\n"
    "site/NAME created, configured or unchanged.\n"
    "\n"
    "  -f, --filename PATH   a manifest, a directory or - (stdin); repeatable\n"
    "      --dry-run         let the server validate and say what would change; write nothing\n"
    "  -w, --wait            wait until every applied site is live (or failed), with progress\n"
    "      --timeout D       how long --wait waits: 600, 90s, 10m, 1h (default 10m)\n"
    "  -h, --help            this help\n"
    "\n"
    "examples:\n"
    "  launchpad apply -f site.yaml --wait\n"
    "  launchpad apply -f examples/ --dry-run\n"
    "  launchpad get site blog -o yaml | launchpad apply -f -\n"
    "\n"
    "--allow-insecure-sources (LAUNCHPAD_ALLOW_INSECURE_SOURCES) accepts http:// and file://\n"
    "Git URLs locally; the server has its own setting. Global flags: --server, --token, "
    "--log-level (see launchpad --help).\n"
    "exit codes: 0 all applied (and live with --wait), 1 any failure or invalid manifest,\n"
    "2 bad usage, 3 timed out waiting\n";

struct input {
	char *label; /* the file name in messages */
	lp_site_list sites;
};

struct inputs {
	struct input items[MAX_FILES];
	size_t n;
};

/* Parse one file into ins; print its problems. Returns 1 when it is valid. */
static int load_file(struct inputs *ins, const char *path, const lp_spec_options *opts)
{
	const char *label = strcmp(path, "-") ? path : "<stdin>";
	char *data = NULL, *text = NULL;
	size_t len = 0;
	lp_spec_diags diags;
	lp_error err = {0};
	lp_site_list sites = {0};
	int ok = 0, rc;

	lp_spec_diags_init(&diags);
	if (ins->n == MAX_FILES) {
		fprintf(stderr, "launchpad apply: more than %d files\n", MAX_FILES);
		goto done;
	}
	if (!strcmp(path, "-"))
		rc = lp_fs_read_fd(&data, &len, STDIN_FILENO, LP_SPEC_MAX_INPUT, &err);
	else
		rc = lp_fs_read_file(&data, &len, path, LP_SPEC_MAX_INPUT, &err);
	if (rc == LP_ETOOBIG) {
		fprintf(stderr, "%s:1:1: input is larger than %zu bytes\n", label,
		        LP_SPEC_MAX_INPUT);
		goto done;
	}
	if (rc != LP_OK) {
		fprintf(stderr, "launchpad apply: %s: %s\n", label,
		        err.message[0] ? err.message : lp_strerror(rc));
		goto done;
	}
	rc = lp_spec_parse(&sites, data, len, opts, &diags, &err);
	if (rc == LP_OK) {
		ins->items[ins->n].label = strdup(label);
		ins->items[ins->n].sites = sites;
		ins->n++;
		ok = 1;
	} else if (diags.count > 0 && lp_spec_diags_format(&text, &diags, label, NULL) == LP_OK) {
		fputs(text, stderr);
	} else {
		fprintf(stderr, "%s:1:1: %s\n", label, err.message);
	}
done:
	free(text);
	free(data);
	lp_spec_diags_release(&diags);
	return ok;
}

static int is_manifest(const char *n)
{
	size_t len = strlen(n);

	return (len > 5 && !strcmp(n + len - 5, ".yaml")) ||
	       (len > 4 && !strcmp(n + len - 4, ".yml")) ||
	       (len > 5 && !strcmp(n + len - 5, ".json"));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every manifest under dir, recursively, in name order; dot entries skipped. */
static int load_dir(struct inputs *ins, const char *dir, const lp_spec_options *opts, int depth,
                    int *found)
{
	DIR *d;
	struct dirent *e;
	char **names = NULL, path[LP_FS_PATH_MAX];
	size_t n = 0, i;
	struct stat st;
	int ok = 1;

	if (depth > MAX_DEPTH) {
		fprintf(stderr, "launchpad apply: %s: nested deeper than %d\n", dir, MAX_DEPTH);
		return 0;
	}
	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "launchpad apply: %s: cannot open directory\n", dir);
		return 0;
	}
	names = calloc(MAX_FILES, sizeof(*names));
	while (names && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == MAX_FILES || (names[n] = strdup(e->d_name)) == NULL) {
			fprintf(stderr, "launchpad apply: %s: too many entries\n", dir);
			ok = 0;
			break;
		}
		n++;
	}
	closedir(d);
	if (names == NULL)
		return 0;
	qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		if (ok && lp_fmt(path, sizeof(path), "%s%s%s", dir,
		                 dir[strlen(dir) - 1] == '/' ? "" : "/", names[i]) != LP_OK) {
			fprintf(stderr, "launchpad apply: %s/%s: path too long\n", dir, names[i]);
			ok = 0;
		}
		if (ok && stat(path, &st) == 0) {
			if (S_ISDIR(st.st_mode)) {
				ok &= load_dir(ins, path, opts, depth + 1, found);
			} else if (S_ISREG(st.st_mode) && is_manifest(names[i])) {
				(*found)++;
				ok &= load_file(ins, path, opts);
			}
		}
		free(names[i]);
	}
	free(names);
	return ok;
}

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
		goto done;
	}
	printf("site/%s %s%s", site->name, lp_cli_str(r.json, "result", "applied"),
	       dry_run ? " (dry run)" : "");
	if (lp_cli_num(r.json, "revision", 0) > 0)
		printf(" (revision %lld)", (long long)lp_cli_num(r.json, "revision", 0));
	printf("\n");
	fflush(stdout);
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

/* Every -f input into ins, each problem printed. Returns 1 when all are valid. */
static int load_inputs(struct inputs *ins, const char *const *files, size_t nfiles,
                       const lp_spec_options *opts)
{
	struct stat st;
	size_t i;
	int ok = 1, found;

	for (i = 0; i < nfiles; i++) {
		if (strcmp(files[i], "-") && stat(files[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			found = 0;
			ok &= load_dir(ins, files[i], opts, 0, &found);
			if (ok && found == 0) {
				fprintf(stderr,
				        "launchpad apply: %s: no *.yaml, *.yml or *.json files\n",
				        files[i]);
				ok = 0;
			}
		} else {
			ok &= load_file(ins, files[i], opts);
		}
	}
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
	enum { OPT_FILENAME, OPT_DRY_RUN, OPT_WAIT, OPT_TIMEOUT, OPT_HELP, NOPTS };
	lp_cli_opt opts[NOPTS] = {[OPT_FILENAME] = {"filename", 'f', 1, 0, NULL},
	                          [OPT_DRY_RUN] = {"dry-run", 0, 0, 0, NULL},
	                          [OPT_WAIT] = {"wait", 'w', 0, 0, NULL},
	                          [OPT_TIMEOUT] = {"timeout", 0, 1, 0, NULL},
	                          [OPT_HELP] = {"help", 'h', 0, 0, NULL}};
	lp_spec_options sopts = {.allow_insecure_sources = cfg->allow_insecure_sources};
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
	if (load_inputs(ins, files, nfiles, &sopts))
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
