/* parse.c: the entry points: YAML streams, JSON texts and cJSON trees into validated sites. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "launchpad/spec.h"
#include "spec/node.h"

/* Bytes of the text quoted after a JSON syntax error, NUL included. */
#define NEAR_MAX 24

static void mark_document(lp_spec_diags *d, size_t from, int doc)
{
	size_t i;

	for (i = from; d != NULL && i < d->count; i++)
		if (d->items[i].document == 0)
			d->items[i].document = doc;
}

/* Stable, so diagnostics at one position keep the order the walk found them in. */
static void sort_by_position(lp_spec_diags *d, size_t from)
{
	size_t i, j;
	lp_spec_diag tmp;

	for (i = from + 1; d != NULL && i < d->count; i++) {
		tmp = d->items[i];
		for (j = i; j > from; j--) {
			const lp_spec_diag *p = &d->items[j - 1];

			if (p->line < tmp.line || (p->line == tmp.line && p->column <= tmp.column))
				break;
			d->items[j] = d->items[j - 1];
		}
		d->items[j] = tmp;
	}
}

/* The lp_error summary of a failed parse: the count and the first problem. */
static int summarize(int rc, const lp_spec_diags *d, size_t from, lp_error *err)
{
	const lp_spec_diag *first;
	size_t n;

	if (rc == LP_OK)
		return LP_OK;
	if (rc == LP_ENOMEM || d == NULL || d->count <= from)
		return lp_error_set(err, rc, "invalid manifest: %s", lp_strerror(rc));
	first = &d->items[from];
	n = d->count - from + d->dropped;
	return lp_error_set(err, rc, "invalid manifest: %zu error%s; first: %s%s%s", n,
	                    n == 1 ? "" : "s", first->path, first->path[0] ? ": " : "",
	                    first->message);
}

/* LP_ETOOBIG, with its diagnostic, for input past the cap (LP_ENOMEM when that cannot be added). */
static int check_size(size_t len, lp_spec_diags *diags)
{
	int rc;

	if (len <= LP_SPEC_MAX_INPUT)
		return LP_OK;
	rc =
	    lp_spec_diags_add(diags, "", 1, 1, "input is larger than %zu bytes", LP_SPEC_MAX_INPUT);
	return rc == LP_OK ? LP_ETOOBIG : rc;
}

static int push_site(lp_site_list *list, lp_site *site)
{
	lp_site **items = realloc(list->items, (list->count + 1) * sizeof(*items));

	if (items == NULL)
		return LP_ENOMEM;
	list->items = items;
	list->items[list->count++] = site;
	return LP_OK;
}

/* Where each accepted site's name stands, for the message about a second one. */
struct names_seen {
	const lp_node **nodes;
	int *docs;
};

/*
 * Validate document doc (1-based) into out; a name taken by an earlier document is a diagnostic.
 * Problems with the document set *failed; the return is LP_OK or LP_ENOMEM.
 */
static int add_document(lp_site_list *out, struct names_seen *seen, const lp_node *root, int doc,
                        const lp_spec_options *opts, lp_spec_diags *diags, int *failed)
{
	const lp_node *name_node = NULL;
	size_t mark = diags ? diags->count : 0, j;
	lp_site *site = NULL;
	int r, rc = LP_OK;

	r = lp_spec_site_from_node(&site, &name_node, root, opts, diags);
	if (r == LP_ENOMEM)
		return r;
	*failed |= r != LP_OK;
	for (j = 0; site != NULL && j < out->count; j++) {
		if (strcmp(out->items[j]->name, site->name) != 0)
			continue;
		rc = lp_spec_diags_add(diags, "metadata.name", name_node->line, name_node->col,
		                       "duplicate site name \"%s\" (also in document %d, line %d)",
		                       site->name, seen->docs[j], seen->nodes[j]->line);
		*failed = 1;
		break;
	}
	mark_document(diags, mark, doc);
	if (site == NULL)
		return rc;
	seen->nodes[out->count] = name_node;
	seen->docs[out->count] = doc;
	if (rc == LP_OK)
		rc = push_site(out, site);
	if (rc != LP_OK)
		lp_site_free(site);
	return rc;
}

/* A YAML stream (JSON texts go through lp_spec_parse_json for their positions). */
static int parse_yaml(lp_site_list *out, const char *data, size_t len, const lp_spec_options *opts,
                      lp_spec_diags *diags, lp_error *err)
{
	lp_node_stream stream = {0};
	struct names_seen seen = {0};
	size_t from = diags ? diags->count : 0, i;
	int rc, failed = 0, r;

	memset(out, 0, sizeof(*out));
	if ((rc = check_size(len, diags)) != LP_OK)
		goto done;
	r = lp_node_load_yaml(&stream, data, len, diags);
	if (r == LP_ENOMEM) {
		rc = r;
		goto done;
	}
	failed = r != LP_OK;
	mark_document(diags, from, (int)stream.count + 1);
	seen.nodes = calloc(stream.count + 1, sizeof(*seen.nodes));
	seen.docs = calloc(stream.count + 1, sizeof(*seen.docs));
	if (seen.nodes == NULL || seen.docs == NULL) {
		rc = LP_ENOMEM;
		goto done;
	}
	for (i = 0; i < stream.count && rc == LP_OK; i++) {
		const lp_node *root = stream.docs[i].root;

		/* "---" with nothing after it is an empty document, as kubectl treats it. */
		if (root == NULL || (root->kind == LP_NODE_SCALAR && root->type == LP_SCALAR_NULL &&
		                     root->bad_tag == NULL))
			continue;
		rc = add_document(out, &seen, root, (int)i + 1, opts, diags, &failed);
	}
	if (rc == LP_OK && !failed && out->count == 0) {
		rc = lp_spec_diags_add(diags, "", 1, 1, "no Site document found");
		failed = 1;
	}
	if (rc == LP_OK && failed)
		rc = LP_EINVAL;
done:
	sort_by_position(diags, from);
	if (rc != LP_OK)
		lp_site_list_release(out);
	free(seen.nodes);
	free(seen.docs);
	lp_node_stream_release(&stream);
	return summarize(rc, diags, from, err);
}

/* JSON has no positions in cJSON; the YAML reading of the same text (JSON is YAML) supplies them.
 */
static void add_json_positions(lp_node *tree, const char *text, size_t len)
{
	lp_node_stream ys = {0};
	lp_spec_diags scratch;

	lp_spec_diags_init(&scratch);
	if (lp_node_load_yaml(&ys, text, len, &scratch) == LP_OK && ys.count == 1)
		lp_node_copy_positions(tree, ys.docs[0].root);
	lp_node_stream_release(&ys);
	lp_spec_diags_release(&scratch);
}

int lp_spec_parse_json(lp_site **out, const char *data, size_t len, const lp_spec_options *opts,
                       lp_spec_diags *diags, lp_error *err)
{
	size_t from = diags ? diags->count : 0;
	char *text = NULL;
	const char *end = NULL;
	cJSON *json = NULL;
	lp_node *tree = NULL;
	int rc = LP_OK, line, col;

	*out = NULL;
	if ((rc = check_size(len, diags)) != LP_OK)
		goto done;
	/* cJSON would stop at a raw NUL and take what came before for the whole text. */
	if ((end = memchr(data, '\0', len)) != NULL) {
		lp_node_offset_position(data, len, (size_t)(end - data), &line, &col);
		rc = lp_spec_diag_fail(diags, "", line, col, "the input contains a NUL byte");
		goto done;
	}
	/* cJSON wants a NUL-terminated text to reject trailing garbage. */
	text = malloc(len + 1);
	if (text == NULL) {
		rc = LP_ENOMEM;
		goto done;
	}
	memcpy(text, data, len);
	text[len] = '\0';
	json = cJSON_ParseWithOpts(text, &end, 1);
	if (json == NULL) {
		size_t off = end && end >= text ? (size_t)(end - text) : 0;

		char near[NEAR_MAX];
		size_t i;

		lp_node_offset_position(text, len, off, &line, &col);
		for (i = 0; i + 1 < sizeof(near) && off + i < len && text[off + i] != '\n'; i++)
			near[i] = (unsigned char)text[off + i] < 0x20 ? ' ' : text[off + i];
		near[i] = '\0';
		if (off >= len || i == 0)
			rc = lp_spec_diag_fail(diags, "", line, col,
			                       "JSON syntax error: unexpected end of input");
		else
			rc = lp_spec_diag_fail(diags, "", line, col, "JSON syntax error near '%s'",
			                       near);
		goto done;
	}
	rc = lp_node_from_cjson(&tree, json, diags);
	if (rc != LP_OK)
		goto done;
	add_json_positions(tree, text, len);
	/* cJSON cuts a string at an escaped NUL: the text says where one was. */
	if ((rc = lp_node_json_strings(tree, text, len, diags)) != LP_OK)
		goto done;
	rc = lp_spec_site_from_node(out, NULL, tree, opts, diags);
done:
	mark_document(diags, from, 1);
	sort_by_position(diags, from);
	lp_node_free(tree);
	cJSON_Delete(json);
	free(text);
	return summarize(rc, diags, from, err);
}

int lp_spec_from_cjson(lp_site **out, const cJSON *obj, const lp_spec_options *opts,
                       lp_spec_diags *diags, lp_error *err)
{
	size_t from = diags ? diags->count : 0;
	lp_node *tree = NULL;
	int rc;

	*out = NULL;
	rc = lp_node_from_cjson(&tree, obj, diags);
	if (rc == LP_OK)
		rc = lp_spec_site_from_node(out, NULL, tree, opts, diags);
	lp_node_free(tree);
	return summarize(rc, diags, from, err);
}

int lp_site_validate(const lp_site *site, const lp_spec_options *opts, lp_spec_diags *diags,
                     lp_error *err)
{
	cJSON *doc = NULL;
	lp_site *copy = NULL;
	int rc;

	rc = lp_site_to_cjson(&doc, site, err);
	if (rc == LP_OK)
		rc = lp_spec_from_cjson(&copy, doc, opts, diags, err);
	lp_site_free(copy);
	cJSON_Delete(doc);
	return rc;
}

int lp_spec_parse(lp_site_list *out, const char *data, size_t len, const lp_spec_options *opts,
                  lp_spec_diags *diags, lp_error *err)
{
	size_t i = 0, bom = 0;
	lp_site *site = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
		i = bom = 3;
	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
		i++;
	if (i >= len || data[i] != '{')
		return parse_yaml(out, data, len, opts, diags, err);
	rc = lp_spec_parse_json(&site, data + bom, len - bom, opts, diags, err);
	if (rc == LP_OK && push_site(out, site) != LP_OK) {
		lp_site_free(site);
		rc = lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	return rc;
}
