/* node.c: reads YAML (libyaml events) and cJSON trees into position-carrying lp_node trees. */
#include "spec/node.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "launchpad/fmt.h"

#define TAG_PREFIX "tag:yaml.org,2002:"
/* "%.17g" of any double, and "%.0f" of an integer below 2^53. */
#define NUMBER_TEXT_MAX 64

void lp_node_free(lp_node *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n; i++)
		lp_node_free(n->items[i]);
	free(n->items);
	free(n->str);
	free(n->bad_tag);
	free(n);
}

void lp_node_stream_release(lp_node_stream *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->count; i++)
		lp_node_free(s->docs[i].root);
	free(s->docs);
	memset(s, 0, sizeof(*s));
}

const char *lp_node_type_name(const lp_node *n)
{
	if (n->kind == LP_NODE_MAP)
		return "a mapping";
	if (n->kind == LP_NODE_SEQ)
		return "a sequence";
	switch (n->type) {
	case LP_SCALAR_INT:
		return "an integer";
	case LP_SCALAR_FLOAT:
		return "a number";
	case LP_SCALAR_BOOL:
		return "a boolean";
	case LP_SCALAR_NULL:
		return "null";
	default:
		return "a string";
	}
}

static int all_of(const char *s, size_t len, const char *set)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] == '\0' || strchr(set, s[i]) == NULL)
			return 0;
	return 1;
}

static int is_float(const char *s, size_t len)
{
	size_t i = 0, digits = 0;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	if (!strcmp(s + i, ".inf") || !strcmp(s + i, ".Inf") || !strcmp(s + i, ".INF"))
		return 1;
	if (i == 0 && (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN")))
		return 1;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++, digits++;
	if (i < len && s[i] == '.') {
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, digits++;
	}
	if (digits == 0)
		return 0;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= len || !(s[i] >= '0' && s[i] <= '9'))
			return 0;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	return i == len;
}

/* YAML 1.2 core schema: what a plain scalar means. Everything unrecognised is a string. */
lp_scalar_type lp_node_resolve_plain(const char *s, size_t len)
{
	static const char *const nulls[] = {"~", "null", "Null", "NULL"};
	static const char *const bools[] = {"true", "True", "TRUE", "false", "False", "FALSE"};
	size_t i;

	if (len == 0)
		return LP_SCALAR_NULL;
	if (strlen(s) != len)
		return LP_SCALAR_STRING;
	for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (!strcmp(s, nulls[i]))
			return LP_SCALAR_NULL;
	for (i = 0; i < sizeof(bools) / sizeof(bools[0]); i++)
		if (!strcmp(s, bools[i]))
			return LP_SCALAR_BOOL;
	if ((s[0] == '+' || s[0] == '-') ? all_of(s + 1, len - 1, "0123456789")
	                                 : all_of(s, len, "0123456789"))
		return LP_SCALAR_INT;
	if (len > 2 && s[0] == '0' && s[1] == 'x' &&
	    all_of(s + 2, len - 2, "0123456789abcdefABCDEF"))
		return LP_SCALAR_INT;
	if (len > 2 && s[0] == '0' && s[1] == 'o' && all_of(s + 2, len - 2, "01234567"))
		return LP_SCALAR_INT;
	if (is_float(s, len))
		return LP_SCALAR_FLOAT;
	return LP_SCALAR_STRING;
}

static lp_node *node_new(lp_node_kind kind, int line, int col)
{
	lp_node *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return NULL;
	n->kind = kind;
	n->line = line;
	n->col = col;
	return n;
}

static int node_push(lp_node *parent, lp_node *child)
{
	if (parent->n == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 8;
		lp_node **items = realloc(parent->items, cap * sizeof(*items));

		if (items == NULL)
			return LP_ENOMEM;
		parent->items = items;
		parent->cap = cap;
	}
	parent->items[parent->n++] = child;
	return LP_OK;
}

/* ---- YAML ---- */

struct yaml_loader {
	lp_node_stream *out;
	lp_spec_diags *diags;
	lp_node *stack[LP_SPEC_MAX_DEPTH + 1];
	int depth;
	lp_node *root;
	int doc_line, doc_col;
};

static int mark_line(const yaml_mark_t *m)
{
	return (int)m->line + 1;
}

static int mark_col(const yaml_mark_t *m)
{
	return (int)m->column + 1;
}

void lp_node_offset_position(const char *data, size_t len, size_t off, int *line, int *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && i < len; i++) {
		if (data[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)data[i] & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}

/* Accept only the standard tags that do not change meaning; others are reported later. */
static int set_tag(lp_node *n, const yaml_char_t *tag)
{
	const char *t = (const char *)tag;

	if (t == NULL || !strcmp(t, "!"))
		return LP_OK;
	if (n->kind == LP_NODE_SCALAR && !strcmp(t, TAG_PREFIX "str")) {
		n->type = LP_SCALAR_STRING;
		return LP_OK;
	}
	if ((n->kind == LP_NODE_MAP && !strcmp(t, TAG_PREFIX "map")) ||
	    (n->kind == LP_NODE_SEQ && !strcmp(t, TAG_PREFIX "seq")))
		return LP_OK;
	if (!strncmp(t, TAG_PREFIX, strlen(TAG_PREFIX))) {
		if (asprintf(&n->bad_tag, "!!%s", t + strlen(TAG_PREFIX)) < 0)
			n->bad_tag = NULL;
	} else {
		n->bad_tag = strdup(t);
	}
	return n->bad_tag ? LP_OK : LP_ENOMEM;
}

/* Attach a finished or opened node to the current parent (or make it the document root). */
static int attach(struct yaml_loader *l, lp_node *n)
{
	if (l->depth == 0) {
		l->root = n;
		return LP_OK;
	}
	return node_push(l->stack[l->depth - 1], n);
}

static int yaml_event_node(struct yaml_loader *l, const yaml_event_t *ev, int *stop)
{
	lp_node *n = NULL;
	int line = mark_line(&ev->start_mark), col = mark_col(&ev->start_mark);
	int rc = LP_OK;

	if (++l->out->nodes > LP_SPEC_MAX_NODES) {
		*stop = 1;
		return lp_spec_diag_fail(l->diags, "", line, col, "more than %d nodes in the input",
		                         LP_SPEC_MAX_NODES);
	}
	if (ev->type == YAML_SCALAR_EVENT) {
		n = node_new(LP_NODE_SCALAR, line, col);
		if (n == NULL)
			return LP_ENOMEM;
		n->len = ev->data.scalar.length;
		n->str = malloc(n->len + 1);
		if (n->str == NULL) {
			lp_node_free(n);
			return LP_ENOMEM;
		}
		memcpy(n->str, ev->data.scalar.value, n->len);
		n->str[n->len] = '\0';
		n->type = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE
		              ? lp_node_resolve_plain(n->str, n->len)
		              : LP_SCALAR_STRING;
		rc = set_tag(n, ev->data.scalar.tag);
		if (rc == LP_OK && n->len > LP_SPEC_MAX_SCALAR) {
			*stop = 1;
			rc = lp_spec_diag_fail(l->diags, "", line, col,
			                       "scalar longer than %d bytes", LP_SPEC_MAX_SCALAR);
		}
		if (rc == LP_OK)
			rc = attach(l, n);
		if (rc != LP_OK)
			lp_node_free(n);
		return rc;
	}
	n = node_new(ev->type == YAML_MAPPING_START_EVENT ? LP_NODE_MAP : LP_NODE_SEQ, line, col);
	if (n == NULL)
		return LP_ENOMEM;
	rc = set_tag(n, ev->type == YAML_MAPPING_START_EVENT ? ev->data.mapping_start.tag
	                                                     : ev->data.sequence_start.tag);
	if (rc == LP_OK && l->depth >= LP_SPEC_MAX_DEPTH) {
		*stop = 1;
		rc = lp_spec_diag_fail(l->diags, "", line, col, "nesting deeper than %d levels",
		                       LP_SPEC_MAX_DEPTH);
	}
	if (rc == LP_OK)
		rc = attach(l, n);
	if (rc != LP_OK) {
		lp_node_free(n);
		return rc;
	}
	l->stack[l->depth++] = n;
	return LP_OK;
}

static int finish_document(struct yaml_loader *l)
{
	lp_node_doc *docs;

	docs = realloc(l->out->docs, (l->out->count + 1) * sizeof(*docs));
	if (docs == NULL)
		return LP_ENOMEM;
	l->out->docs = docs;
	docs[l->out->count].root = l->root;
	docs[l->out->count].line = l->doc_line;
	docs[l->out->count].col = l->doc_col;
	l->out->count++;
	l->root = NULL;
	return LP_OK;
}

static int syntax_error(struct yaml_loader *l, const yaml_parser_t *p, const char *data, size_t len)
{
	int line, col;
	const char *problem = p->problem ? p->problem : "unknown error";

	if (p->error == YAML_READER_ERROR) {
		lp_node_offset_position(data, len, p->problem_offset, &line, &col);
	} else {
		line = mark_line(&p->problem_mark);
		col = mark_col(&p->problem_mark);
	}
	if (p->error == YAML_MEMORY_ERROR)
		return LP_ENOMEM;
	if (p->context != NULL)
		return lp_spec_diag_fail(
		    l->diags, "", line, col, "YAML syntax error: %s (%s at line %d, column %d)",
		    problem, p->context, mark_line(&p->context_mark), mark_col(&p->context_mark));
	return lp_spec_diag_fail(l->diags, "", line, col, "YAML syntax error: %s", problem);
}

int lp_node_load_yaml(lp_node_stream *out, const char *data, size_t len, lp_spec_diags *diags)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	struct yaml_loader l = {.out = out, .diags = diags};
	int rc = LP_OK, stop = 0, done_stream = 0;

	memset(out, 0, sizeof(*out));
	if (!yaml_parser_initialize(&parser))
		return LP_ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	while (rc == LP_OK && !stop && !done_stream) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = syntax_error(&l, &parser, data, len);
			break;
		}
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			if (out->count >= LP_SPEC_MAX_DOCUMENTS) {
				rc = lp_spec_diag_fail(
				    diags, "", mark_line(&ev.start_mark), mark_col(&ev.start_mark),
				    "more than %d documents in one stream", LP_SPEC_MAX_DOCUMENTS);
				break;
			}
			l.doc_line = mark_line(&ev.start_mark);
			l.doc_col = mark_col(&ev.start_mark);
			break;
		case YAML_DOCUMENT_END_EVENT:
			rc = finish_document(&l);
			break;
		case YAML_ALIAS_EVENT:
			rc = lp_spec_diag_fail(diags, "", mark_line(&ev.start_mark),
			                       mark_col(&ev.start_mark),
			                       "YAML aliases (*%s) are not allowed",
			                       (const char *)ev.data.alias.anchor);
			break;
		case YAML_SCALAR_EVENT:
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			rc = yaml_event_node(&l, &ev, &stop);
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			if (l.depth > 0)
				l.depth--;
			break;
		case YAML_STREAM_END_EVENT:
			done_stream = 1;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	if (stop && rc == LP_OK)
		rc = LP_EINVAL;
	/* A half-built document is owned by its root, which nobody else references yet. */
	lp_node_free(l.root);
	yaml_parser_delete(&parser);
	return rc;
}

/* ---- cJSON ---- */

static int from_cjson(lp_node **out, const cJSON *j, int depth, size_t *count,
                      lp_spec_diags *diags);

/* An object (a mapping: key, value, ...) or an array, its children converted one level down. */
static int container_from_cjson(lp_node **out, const cJSON *j, int depth, size_t *count,
                                lp_spec_diags *diags)
{
	lp_node *n, *key, *child = NULL;
	const cJSON *c;
	int rc = LP_OK;

	n = node_new(cJSON_IsObject(j) ? LP_NODE_MAP : LP_NODE_SEQ, 0, 0);
	if (n == NULL)
		return LP_ENOMEM;
	for (c = j->child; c != NULL && rc == LP_OK; c = c->next) {
		if (cJSON_IsObject(j)) {
			key = node_new(LP_NODE_SCALAR, 0, 0);
			if (key == NULL ||
			    (key->str = strdup(c->string ? c->string : "")) == NULL) {
				lp_node_free(key);
				rc = LP_ENOMEM;
				break;
			}
			key->len = strlen(key->str);
			rc = node_push(n, key);
			if (rc != LP_OK) {
				lp_node_free(key);
				break;
			}
		}
		rc = from_cjson(&child, c, depth + 1, count, diags);
		if (rc == LP_OK && (rc = node_push(n, child)) != LP_OK)
			lp_node_free(child);
	}
	if (rc != LP_OK) {
		lp_node_free(n);
		return rc;
	}
	*out = n;
	return LP_OK;
}

/* A string, number, boolean or null, with the scalar type JSON gave it. */
static int scalar_from_cjson(lp_node **out, const cJSON *j)
{
	char num[NUMBER_TEXT_MAX];
	lp_node *n = node_new(LP_NODE_SCALAR, 0, 0);
	int rc = LP_OK;

	if (n == NULL)
		return LP_ENOMEM;
	if (cJSON_IsString(j)) {
		n->type = LP_SCALAR_STRING;
		n->str = strdup(j->valuestring ? j->valuestring : "");
	} else if (cJSON_IsNumber(j)) {
		double v = j->valuedouble;

		if (isfinite(v) && v == floor(v) && fabs(v) < 9007199254740992.0) {
			n->type = LP_SCALAR_INT;
			rc = lp_fmt(num, sizeof(num), "%.0f", v);
		} else {
			n->type = LP_SCALAR_FLOAT;
			rc = lp_fmt(num, sizeof(num), "%.17g", v);
		}
		n->str = rc == LP_OK ? strdup(num) : NULL;
	} else if (cJSON_IsBool(j)) {
		n->type = LP_SCALAR_BOOL;
		n->str = strdup(cJSON_IsTrue(j) ? "true" : "false");
	} else {
		n->type = LP_SCALAR_NULL;
		n->str = strdup("null");
	}
	if (n->str == NULL) {
		lp_node_free(n);
		return rc != LP_OK ? rc : LP_ENOMEM;
	}
	n->len = strlen(n->str);
	*out = n;
	return LP_OK;
}

static int from_cjson(lp_node **out, const cJSON *j, int depth, size_t *count, lp_spec_diags *diags)
{
	*out = NULL;
	if (++*count > LP_SPEC_MAX_NODES)
		return lp_spec_diag_fail(diags, "", 0, 0, "more than %d nodes in the input",
		                         LP_SPEC_MAX_NODES);
	if (depth > LP_SPEC_MAX_DEPTH)
		return lp_spec_diag_fail(diags, "", 0, 0, "nesting deeper than %d levels",
		                         LP_SPEC_MAX_DEPTH);
	if (cJSON_IsObject(j) || cJSON_IsArray(j))
		return container_from_cjson(out, j, depth, count, diags);
	return scalar_from_cjson(out, j);
}

int lp_node_from_cjson(lp_node **out, const cJSON *json, lp_spec_diags *diags)
{
	size_t count = 0;

	return from_cjson(out, json, 1, &count, diags);
}

/* ---- the string tokens of a JSON text ---- */

/* Where a string token of a JSON text starts, and whether it escapes a NUL. */
struct json_token {
	int line, col;
	int nul;
};

/* Move the position past byte c, counting columns in characters as lp_node_offset_position. */
static void step(char c, int *line, int *col)
{
	if (c == '\n') {
		(*line)++;
		*col = 1;
	} else if (((unsigned char)c & 0xC0) != 0x80) {
		(*col)++;
	}
}

/*
 * The string tokens of a JSON text cJSON accepted, so well-formed: outside strings no '"' occurs,
 * inside one a backslash escapes the next character. More tokens than a tree may have nodes
 * cannot line up with one: the scan stops there (*out_count is then LP_SPEC_MAX_NODES + 1).
 */
static int json_tokens(struct json_token **out, size_t *out_count, const char *text, size_t len)
{
	struct json_token *v = NULL, *grown;
	size_t i = 0, count = 0, cap = 0;
	int line = 1, col = 1;

	*out = NULL;
	*out_count = 0;
	while (i < len && count <= LP_SPEC_MAX_NODES) {
		if (text[i] != '"') {
			step(text[i++], &line, &col);
			continue;
		}
		if (count == cap) {
			cap = cap ? cap * 2 : 64;
			if ((grown = realloc(v, cap * sizeof(*v))) == NULL) {
				free(v);
				return LP_ENOMEM;
			}
			v = grown;
		}
		v[count] = (struct json_token){.line = line, .col = col};
		for (step(text[i++], &line, &col); i < len && text[i] != '"';
		     step(text[i++], &line, &col)) {
			if (text[i] != '\\' || i + 1 >= len)
				continue;
			if (text[i + 1] == 'u' && i + 5 < len && !memcmp(text + i + 2, "0000", 4))
				v[count].nul = 1;
			step(text[i++], &line, &col);
		}
		if (i < len)
			step(text[i++], &line, &col);
		count++;
	}
	*out = v;
	*out_count = count;
	return LP_OK;
}

static size_t count_strings(const lp_node *n)
{
	size_t i, k = 0;

	if (n->kind == LP_NODE_SCALAR)
		return n->type == LP_SCALAR_STRING;
	for (i = 0; i < n->n; i++)
		k += count_strings(n->items[i]);
	return k;
}

/* Keys come before their values in a mapping's items, as in the text: pre-order is text order. */
static void take_tokens(lp_node *n, const struct json_token *t, size_t *k)
{
	size_t i;

	if (n->kind == LP_NODE_SCALAR) {
		if (n->type != LP_SCALAR_STRING)
			return;
		n->nul = t[*k].nul;
		if (n->line == 0) {
			n->line = t[*k].line;
			n->col = t[*k].col;
		}
		(*k)++;
		return;
	}
	for (i = 0; i < n->n; i++)
		take_tokens(n->items[i], t, k);
}

int lp_node_json_strings(lp_node *tree, const char *text, size_t len, lp_spec_diags *diags)
{
	struct json_token *t = NULL;
	size_t count = 0, k = 0, i;
	int rc;

	if ((rc = json_tokens(&t, &count, text, len)) != LP_OK)
		return rc;
	if (count == count_strings(tree)) {
		take_tokens(tree, t, &k);
	} else {
		for (i = 0; i < count && !t[i].nul; i++)
			;
		if (i < count)
			rc = lp_spec_diag_fail(diags, "", t[i].line, t[i].col,
			                       "strings must not contain NUL bytes (\\u0000)");
	}
	free(t);
	return rc;
}

void lp_node_copy_positions(lp_node *dst, const lp_node *src)
{
	size_t i;

	if (dst == NULL || src == NULL || dst->kind != src->kind)
		return;
	dst->line = src->line;
	dst->col = src->col;
	if (dst->n != src->n)
		return;
	for (i = 0; i < dst->n; i++)
		lp_node_copy_positions(dst->items[i], src->items[i]);
}
