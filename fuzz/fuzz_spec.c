/*
 * fuzz_spec.c: the manifest parser (spec/): YAML streams and JSON objects, as `launchpad apply`
 * and PUT /api/deployments/:id hand them over.
 *
 * Invariants, beyond no crash, leak or undefined behaviour:
 *   - a failed parse says why: at least one diagnostic, which formats as text and as JSON;
 *   - the insecure-sources option only widens: what parses strictly parses with it too;
 *   - every parsed site survives its canonical forms: JSON and YAML re-parse to the same canonical
 *     JSON and spec hash, and a copy (lp_site_dup) is equal too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz/lib/fuzzlib.h"
#include "launchpad/spec.h"

static char *canonical(const lp_site *site, const char *what)
{
	char *json = NULL;
	lp_error err = {0};

	if (lp_site_to_json(&json, site, &err) != LP_OK)
		fz_fail("%s: lp_site_to_json: %s", what, err.message);
	return json;
}

/* Parse text, which must yield exactly one site whose canonical JSON is want. */
static void reparse(const char *text, size_t len, const lp_spec_options *opts, const char *want,
                    const char *form)
{
	lp_site_list list = {0};
	lp_spec_diags d;
	lp_error err = {0};
	char *again;

	lp_spec_diags_init(&d);
	if (lp_spec_parse(&list, text, len, opts, &d, &err) != LP_OK || list.count != 1)
		fz_fail("canonical %s does not re-parse to one site (%zu diagnostics: %s): %s",
		        form, d.count, d.count ? d.items[0].message : err.message, text);
	again = canonical(list.items[0], form);
	if (strcmp(again, want) != 0)
		fz_fail("canonical %s changes the site:\n  before %s\n  after  %s", form, want,
		        again);
	free(again);
	lp_site_list_release(&list);
	lp_spec_diags_release(&d);
}

static void check_site(const lp_site *site, const lp_spec_options *opts)
{
	char hash[LP_SHA256_HEX_LEN], hash2[LP_SHA256_HEX_LEN];
	char *json = canonical(site, "parsed site"), *yaml = NULL, *dupjson;
	lp_site *copy = NULL;
	lp_error err = {0};

	if (lp_site_spec_hash(hash, site, &err) != LP_OK)
		fz_fail("lp_site_spec_hash: %s", err.message);
	reparse(json, strlen(json), opts, json, "JSON");
	if (lp_site_to_yaml(&yaml, site, &err) != LP_OK)
		fz_fail("lp_site_to_yaml: %s", err.message);
	reparse(yaml, strlen(yaml), opts, json, "YAML");
	if (lp_site_dup(&copy, site, &err) != LP_OK)
		fz_fail("lp_site_dup: %s", err.message);
	dupjson = canonical(copy, "copy");
	if (strcmp(dupjson, json) != 0)
		fz_fail("lp_site_dup differs:\n  %s\n  %s", json, dupjson);
	if (lp_site_spec_hash(hash2, copy, &err) != LP_OK || strcmp(hash, hash2) != 0)
		fz_fail("the copy's spec hash differs");
	free(dupjson);
	lp_site_free(copy);
	free(yaml);
	free(json);
}

/* Parse with opts: LP_OK with the sites checked, or a failure that explains itself. */
static int parse_one(const char *data, size_t len, const lp_spec_options *opts)
{
	lp_site_list list = {0};
	lp_spec_diags d;
	lp_error err = {0};
	char *text = NULL;
	cJSON *arr = NULL;
	size_t i;
	int rc;

	lp_spec_diags_init(&d);
	rc = lp_spec_parse(&list, data, len, opts, &d, &err);
	if (rc == LP_OK) {
		for (i = 0; i < list.count; i++)
			check_site(list.items[i], opts);
	} else if (rc != LP_ENOMEM) {
		if (d.count == 0)
			fz_fail("parse failed (%d: %s) without a diagnostic", rc, err.message);
		if (list.count != 0)
			fz_fail("a failed parse handed back %zu sites", list.count);
		if (lp_spec_diags_format(&text, &d, "fuzz.yaml", &err) != LP_OK ||
		    lp_spec_diags_to_cjson(&arr, &d, &err) != LP_OK)
			fz_fail("diagnostics do not format: %s", err.message);
	}
	free(text);
	cJSON_Delete(arr);
	lp_site_list_release(&list);
	lp_spec_diags_release(&d);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const lp_spec_options strict = {0}, insecure = {.allow_insecure_sources = 1};
	int rc_strict, rc_insecure;

	rc_strict = parse_one((const char *)data, size, &strict);
	rc_insecure = parse_one((const char *)data, size, &insecure);
	if (rc_strict == LP_OK && rc_insecure != LP_OK)
		fz_fail("parses strictly but not with insecure sources allowed");
	return 0;
}
