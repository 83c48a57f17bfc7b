/* manifests.c: which files `apply -f` and `validate -f` read, and reading one (kubectl's rules). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli_internal.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"

void lp_cli_paths_release(lp_cli_paths *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->count; i++)
		free(p->items[i]);
	free(p->items);
	memset(p, 0, sizeof(*p));
}

static int paths_add(lp_cli_paths *p, const char *path, lp_error *err)
{
	char **grown;

	if (p->count == LP_CLI_MANIFESTS_MAX)
		return lp_error_set(err, LP_ETOOBIG, "more than %d manifests",
		                    LP_CLI_MANIFESTS_MAX);
	if ((grown = realloc(p->items, (p->count + 1) * sizeof(char *))) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	p->items = grown;
	if ((p->items[p->count] = strdup(path)) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	p->count++;
	return LP_OK;
}

int lp_cli_is_manifest_name(const char *n)
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

/* The names in dir but dot entries, sorted, into *out (a lp_cli_paths of bare names). */
static int list_names(lp_cli_paths *out, const char *dir, lp_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = LP_OK;

	memset(out, 0, sizeof(*out));
	if (d == NULL)
		return lp_error_set(err, LP_EIO, "%s: cannot open the directory: %s", dir,
		                    strerror(errno));
	while (rc == LP_OK && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			rc = paths_add(out, e->d_name, err);
	closedir(d);
	if (rc != LP_OK)
		lp_cli_paths_release(out);
	else if (out->count)
		qsort(out->items, out->count, sizeof(char *), cmp_str);
	return rc;
}

/* dir's manifests into out, in name order; with recursive, its subdirectories' in place too. */
static int walk(lp_cli_paths *out, const char *dir, int recursive, int depth, lp_error *err)
{
	lp_cli_paths names;
	char path[LP_FS_PATH_MAX];
	struct stat st;
	size_t i, len = strlen(dir);
	int rc;

	if (depth > LP_CLI_MANIFEST_DEPTH)
		return lp_error_set(err, LP_ETOOBIG, "%s: nested deeper than %d directories", dir,
		                    LP_CLI_MANIFEST_DEPTH);
	if ((rc = list_names(&names, dir, err)) != LP_OK)
		return rc;
	for (i = 0; i < names.count && rc == LP_OK; i++) {
		if (lp_fmt(path, sizeof(path), "%s%s%s", dir, len && dir[len - 1] == '/' ? "" : "/",
		           names.items[i]) != LP_OK) {
			rc = lp_error_set(err, LP_ETOOBIG, "%s/%s: the path is too long", dir,
			                  names.items[i]);
			break;
		}
		/* stat follows links, as kubectl does: a linked manifest or folder counts */
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode) && recursive)
			rc = walk(out, path, recursive, depth + 1, err);
		else if (S_ISREG(st.st_mode) && lp_cli_is_manifest_name(names.items[i]))
			rc = paths_add(out, path, err);
	}
	lp_cli_paths_release(&names);
	return rc;
}

int lp_cli_manifest_paths(lp_cli_paths *out, const char *input, int recursive, lp_error *err)
{
	struct stat st;
	size_t before = out->count;
	int rc;

	if (!strcmp(input, "-") || stat(input, &st) != 0 || !S_ISDIR(st.st_mode))
		return paths_add(out, input, err);
	if ((rc = walk(out, input, recursive, 0, err)) != LP_OK)
		return rc;
	if (out->count == before)
		return lp_error_set(
		    err, LP_ENOTFOUND, "%s: no *.yaml, *.yml or *.json files%s", input,
		    recursive ? " in it or below it" : " (-R reads subdirectories)");
	return LP_OK;
}

int lp_cli_manifest_load(lp_site_list *out, const char *cmd, const char *path,
                         const lp_spec_options *opts)
{
	const char *label = strcmp(path, "-") ? path : "<stdin>";
	char *data = NULL, *text = NULL;
	size_t len = 0;
	lp_spec_diags diags;
	lp_error err = {0};
	int rc;

	memset(out, 0, sizeof(*out));
	lp_spec_diags_init(&diags);
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
		fprintf(stderr, "launchpad %s: %s: %s\n", cmd, label,
		        err.message[0] ? err.message : lp_strerror(rc));
		goto done;
	}
	rc = lp_spec_parse(out, data, len, opts, &diags, &err);
	if (rc == LP_OK)
		goto done;
	if (diags.count > 0 && lp_spec_diags_format(&text, &diags, label, NULL) == LP_OK)
		fputs(text, stderr);
	else
		fprintf(stderr, "launchpad %s: %s: %s\n", cmd, label, err.message);
done:
	free(text);
	free(data);
	lp_spec_diags_release(&diags);
	return rc;
}
