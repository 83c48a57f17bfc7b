/* output.c: the -o formats the read commands share, and a site's manifest from its API object. */
#include <stdio.h>
#include <string.h>

#include "cli/cli_internal.h"
#include "launchpad/spec.h"

#define JSONPATH_PREFIX "jsonpath="

int lp_cli_output_parse(lp_cli_output *out, const char *value, lp_error *err)
{
	static const struct {
		const char *name;
		lp_cli_format format;
	} formats[] = {{"wide", LP_CLI_FORMAT_WIDE},
	               {"json", LP_CLI_FORMAT_JSON},
	               {"yaml", LP_CLI_FORMAT_YAML},
	               {"name", LP_CLI_FORMAT_NAME}};
	size_t i;

	out->format = LP_CLI_FORMAT_TABLE;
	out->tmpl = NULL;
	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (!strcmp(value, formats[i].name)) {
			out->format = formats[i].format;
			return LP_OK;
		}
	if (!strncmp(value, JSONPATH_PREFIX, strlen(JSONPATH_PREFIX))) {
		out->format = LP_CLI_FORMAT_JSONPATH;
		out->tmpl = value + strlen(JSONPATH_PREFIX);
		return lp_cli_jsonpath(NULL, out->tmpl, NULL, err);
	}
	return lp_error_set(err, LP_EINVAL,
	                    "-o must be wide, json, yaml, name or jsonpath=TEMPLATE (got \"%s\")",
	                    value);
}

void lp_cli_output_error(const char *cmd, const lp_cli_output *out, const lp_error *err)
{
	int col = 0;

	fprintf(stderr, "launchpad %s: %s\n", cmd, err->message);
	/* the template again, a caret under the column the message names */
	if (out->format == LP_CLI_FORMAT_JSONPATH &&
	    sscanf(err->message, "jsonpath: column %d:", &col) == 1 && col > 0)
		fprintf(stderr, "  %s\n  %*s^\n", out->tmpl, col - 1, "");
	fprintf(stderr, "(see launchpad %s --help)\n", cmd);
}

int lp_cli_site_manifest(cJSON **out, const cJSON *site)
{
	const cJSON *stored = cJSON_GetObjectItemCaseSensitive(site, "spec"), *spec, *meta;
	const char *name = lp_cli_str(site, "slug", NULL);
	cJSON *m = NULL, *md;

	*out = NULL;
	/* the object's spec is the stored manifest; an older server may have kept the spec alone */
	spec = cJSON_GetObjectItemCaseSensitive(stored, "spec");
	if (!cJSON_IsObject(spec))
		spec = stored;
	if (!cJSON_IsObject(spec))
		return LP_EINVAL;
	meta = cJSON_GetObjectItemCaseSensitive(stored, "metadata");
	if (name == NULL)
		name = lp_cli_str(meta, "name", NULL);
	if (name == NULL)
		return LP_EINVAL;
	if ((m = cJSON_CreateObject()) == NULL ||
	    !cJSON_AddStringToObject(m, "apiVersion", LP_SPEC_API_VERSION) ||
	    !cJSON_AddStringToObject(m, "kind", LP_SPEC_KIND) ||
	    (md = cJSON_AddObjectToObject(m, "metadata")) == NULL ||
	    !cJSON_AddStringToObject(md, "name", name) ||
	    !cJSON_AddItemToObject(m, "spec", cJSON_Duplicate(spec, 1))) {
		cJSON_Delete(m);
		return LP_ENOMEM;
	}
	*out = m;
	return LP_OK;
}
