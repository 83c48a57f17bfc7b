/* cmd_validate.c: `launchpad validate -f FILE|DIR|-`: check manifests offline, report every error.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "launchpad/buf.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "launchpad/spec.h"

#define MAX_INPUTS          256  /* -f flags */
#define MAX_DIR_FILES       1000 /* manifests taken from one directory */
#define SUMMARY_COMMAND_MAX 60

const char lp_cli_validate_help[] =
    "usage: launchpad validate -f FILE|DIR|- [-f ...]\n"
    "\n"
    "Check Site manifests offline: YAML (several documents separated by ---) or JSON.\n"
    "Prints one line per valid site; every error as FILE:LINE:COLUMN: field.path: message.\n"
    "\n"
    "  -f, --filename PATH   a manifest, a directory of *.yaml/*.yml/*.json, or - for stdin\n"
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
	char *data = NULL, *text = NULL;
	size_t len = 0, i;
	lp_site_list sites = {0};
	lp_spec_diags diags;
	lp_error err = {0};
	int ok = 0, rc;

	lp_spec_diags_init(&diags);
	if (!strcmp(path, "-"))
		rc = lp_fs_read_fd(&data, &len, STDIN_FILENO, LP_SPEC_MAX_INPUT, &err);
	else
		rc = lp_fs_read_file(&data, &len, path, LP_SPEC_MAX_INPUT, &err);
	if (rc == LP_ETOOBIG) {
		fprintf(stderr, "%s:1:1: input is larger than %zu bytes\n", name,
		        LP_SPEC_MAX_INPUT);
		goto done;
	}
	if (rc != LP_OK) {
		fprintf(stderr, "launchpad validate: %s: %s\n", name,
		        err.message[0] ? err.message : lp_strerror(rc));
		goto done;
	}
	rc = lp_spec_parse(&sites, data, len, opts, &diags, &err);
	if (rc == LP_OK) {
		for (i = 0; i < sites.count; i++)
			print_summary(name, sites.items[i]);
		ok = 1;
	} else if (diags.count > 0 && lp_spec_diags_format(&text, &diags, name, NULL) == LP_OK) {
		fputs(text, stderr);
	} else {
		fprintf(stderr, "launchpad validate: %s: %s\n", name, err.message);
	}
done:
	fflush(stdout);
	free(text);
	free(data);
	lp_site_list_release(&sites);
	lp_spec_diags_release(&diags);
	return ok;
}

static int has_manifest_suffix(const char *n)
{
	size_t len = strlen(n);

	return n[0] != '.' && ((len > 5 && !strcmp(n + len - 5, ".yaml")) ||
	                       (len > 4 && !strcmp(n + len - 4, ".yml")) ||
	                       (len > 5 && !strcmp(n + len - 5, ".json")));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every manifest directly inside dir, in name order. Returns 1 when all are valid. */
static int validate_dir(const char *dir, const lp_spec_options *opts)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL, path[LP_FS_PATH_MAX];
	size_t n = 0, i;
	int ok = 1;

	if (d == NULL) {
		fprintf(stderr, "launchpad validate: %s: cannot open directory\n", dir);
		return 0;
	}
	names = calloc(MAX_DIR_FILES, sizeof(*names));
	while (names != NULL && (e = readdir(d)) != NULL) {
		if (!has_manifest_suffix(e->d_name))
			continue;
		if (n == MAX_DIR_FILES) {
			fprintf(stderr, "launchpad validate: %s: more than %d manifests\n", dir,
			        MAX_DIR_FILES);
			ok = 0;
			break;
		}
		names[n] = strdup(e->d_name);
		if (names[n] == NULL)
			break;
		n++;
	}
	closedir(d);
	if (names == NULL) {
		fprintf(stderr, "launchpad validate: out of memory\n");
		return 0;
	}
	qsort(names, n, sizeof(*names), cmp_str);
	if (n == 0 && ok) {
		fprintf(stderr, "launchpad validate: %s: no *.yaml, *.yml or *.json files\n", dir);
		ok = 0;
	}
	for (i = 0; i < n; i++) {
		if (lp_fmt(path, sizeof(path), "%s%s%s", dir,
		           dir[strlen(dir) - 1] == '/' ? "" : "/", names[i]) != LP_OK) {
			fprintf(stderr, "launchpad validate: %s/%s: path too long\n", dir,
			        names[i]);
			ok = 0;
		} else {
			ok &= validate_file(path, opts);
		}
		free(names[i]);
	}
	free(names);
	return ok;
}

int lp_cli_validate(int argc, char **argv, const lp_config *cfg)
{
	const char *inputs[MAX_INPUTS];
	lp_spec_options opts = {.allow_insecure_sources = cfg->allow_insecure_sources};
	struct stat st;
	int n = 0, i, ok = 1;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(lp_cli_validate_help, stdout);
			return LP_EXIT_OK;
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
	for (i = 0; i < n; i++) {
		if (strcmp(inputs[i], "-") && stat(inputs[i], &st) == 0 && S_ISDIR(st.st_mode))
			ok &= validate_dir(inputs[i], &opts);
		else
			ok &= validate_file(inputs[i], &opts);
	}
	return ok ? LP_EXIT_OK : LP_EXIT_FAILED;
}
