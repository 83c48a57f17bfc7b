/* cmd_validate.c: `launchpad validate -f FILE|DIR|-`: check manifests offline, report every error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/cli_internal.h"
#include "launchpad/spec.h"

#define MAX_INPUTS          256 /* -f flags */
#define SUMMARY_COMMAND_MAX 60

const char lp_cli_validate_help[] =
    "usage: launchpad validate -f FILE|DIR|- [-f ...] [-R]\n"
    "\n"
    "Check Site manifests offline: YAML (several documents separated by ---) or JSON. A\n"
    "directory means its *.yaml, *.yml and *.json files (one level, as kubectl reads it; -R\n"
    "goes into subdirectories too); - reads stdin. The same files `apply -f` would read.\n"
    "Prints one line per valid site; every error as FILE:LINE:COLUMN: field.path: message.\n"
    "\n"
    "  -f, --filename PATH   a manifest, a directory or - (stdin); repeatable\n"
    "  -R, --recursive       a directory's subdirectories too\n"
    "  -h, --help            this help\n"
    "\n"
    "examples:\n"
    "  launchpad validate -f site.yaml\n"
    "  launchpad validate -f examples/\n"
    "\n"
    "--allow-insecure-sources (LAUNCHPAD_ALLOW_INSECURE_SOURCES) accepts http:// and file:// Git "
    "URLs.\n"
    "exit codes: 0 all valid, 1 invalid or unreadable input, 2 bad usage\n";

/* A command for the summary: one line, at most SUMMARY_COMMAND_MAX bytes, cut between chars. */
static void short_command(char dst[SUMMARY_COMMAND_MAX + 4], const char *cmd)
{
	size_t len = strlen(cmd), i;

	if (len > SUMMARY_COMMAND_MAX) {
		len = SUMMARY_COMMAND_MAX;
		while (len > 0 && ((unsigned char)cmd[len] & 0xC0) == 0x80)
			len--;
	}
	for (i = 0; i < len; i++)
		dst[i] = (unsigned char)cmd[i] < 0x20 ? ' ' : cmd[i];
	if (cmd[len] == '\0') {
		while (len > 0 && dst[len - 1] == ' ')
			len--;
	} else {
		memcpy(dst + len, "...", 3);
		len += 3;
	}
	dst[len] = '\0';
}

static void print_summary(const char *name, const lp_site *site)
{
	char cmd[SUMMARY_COMMAND_MAX + 4];

	printf("%s: site \"%s\" valid (source ", name, site->name);
	if (site->source_kind == LP_SOURCE_GIT)
		printf("git %s branch %s", site->git_url, site->git_branch);
	else
		printf("archive %s", site->archive_digest);
	if (site->has_build) {
		short_command(cmd, site->build_command);
		printf(", build \"%s\" -> %s)\n", cmd, site->build_output_dir);
	} else {
		printf(", no build)\n");
	}
}

/* Validate one file (or stdin when path is "-"). Returns 1 when it is valid. */
static int validate_file(const char *path, const lp_spec_options *opts)
{
	const char *name = strcmp(path, "-") ? path : "<stdin>";
	lp_site_list sites;
	size_t i;

	if (lp_cli_manifest_load(&sites, "validate", path, opts) != LP_OK)
		return 0;
	for (i = 0; i < sites.count; i++)
		print_summary(name, sites.items[i]);
	fflush(stdout);
	lp_site_list_release(&sites);
	return 1;
}

int lp_cli_validate(int argc, char **argv, const lp_config *cfg)
{
	const char *inputs[MAX_INPUTS];
	lp_spec_options opts = {.allow_insecure_sources = cfg->allow_insecure_sources};
	lp_error err = {0};
	int n = 0, i, ok = 1, recursive = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(lp_cli_validate_help, stdout);
			return LP_EXIT_OK;
		}
		if (!strcmp(a, "-R") || !strcmp(a, "--recursive")) {
			recursive = 1;
			continue;
		}
		if (!strcmp(a, "-f") || !strcmp(a, "--filename")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "launchpad validate: %s needs a value\n", a);
				return LP_EXIT_USAGE;
			}
			val = argv[++i];
		} else if (!strncmp(a, "--filename=", 11)) {
			val = a + 11;
		} else if (!strncmp(a, "-f", 2)) {
			val = a + 2 + (a[2] == '=');
		} else {
			fprintf(stderr, "launchpad validate: unexpected argument \"%s\"\n", a);
			fputs(lp_cli_validate_help, stderr);
			return LP_EXIT_USAGE;
		}
		if (*val == '\0' || n == MAX_INPUTS) {
			fprintf(stderr, "launchpad validate: %s\n",
			        *val ? "too many -f flags" : "-f needs a value");
			return LP_EXIT_USAGE;
		}
		inputs[n++] = val;
	}
	if (n == 0) {
		fprintf(stderr, "launchpad validate: no input: pass -f FILE, -f DIR or -f -\n");
		fputs(lp_cli_validate_help, stderr);
		return LP_EXIT_USAGE;
	}
	/* input by input, as they come: a broken one does not hide what the others say */
	for (i = 0; i < n; i++) {
		lp_cli_paths paths = {0};
		size_t k;

		if (lp_cli_manifest_paths(&paths, inputs[i], recursive, &err) != LP_OK) {
			fprintf(stderr, "launchpad validate: %s\n", err.message);
			ok = 0;
		}
		for (k = 0; k < paths.count; k++)
			ok &= validate_file(paths.items[k], &opts);
		lp_cli_paths_release(&paths);
	}
	return ok ? LP_EXIT_OK : LP_EXIT_FAILED;
}
