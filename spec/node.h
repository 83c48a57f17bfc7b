/* node.h: internal: the position-carrying document tree that both YAML and JSON are read into. */
#ifndef LAUNCHPAD_SPEC_NODE_H
#define LAUNCHPAD_SPEC_NODE_H

#include <stdarg.h>
#include <stddef.h>

#include "launchpad/spec.h"

typedef enum lp_node_kind { LP_NODE_SCALAR, LP_NODE_MAP, LP_NODE_SEQ } lp_node_kind;

/* What a scalar resolves to (YAML 1.2 core schema; JSON types map one to one). */
typedef enum lp_scalar_type {
	LP_SCALAR_STRING,
	LP_SCALAR_INT,
	LP_SCALAR_FLOAT,
	LP_SCALAR_BOOL,
	LP_SCALAR_NULL
} lp_scalar_type;

typedef struct lp_node lp_node;
struct lp_node {
	lp_node_kind kind;
	lp_scalar_type type; /* scalars only */
	char *str;           /* scalars: the text, NUL-terminated (len may count embedded NULs) */
	size_t len;
	int line, col; /* 1-based; 0 = unknown */
	int nul;       /* JSON: the string escaped a NUL (\u0000), where cJSON's copy of it stops */
	char *bad_tag; /* an explicit tag we do not accept, reported by the validator */
	lp_node **items; /* sequences: the items; mappings: key, value, key, value, ... */
	size_t n, cap;
};

/* One YAML document of a stream: its root (NULL for an empty document) and where it starts. */
typedef struct lp_node_doc {
	lp_node *root;
	int line, col;
} lp_node_doc;

typedef struct lp_node_stream {
	lp_node_doc *docs;
	size_t count;
	size_t nodes; /* allocated so far, against LP_SPEC_MAX_NODES */
} lp_node_stream;

/*
 * Read a YAML stream into trees. Syntax errors, aliases and exceeded caps become diagnostics and
 * stop the reading (documents read before stay in *out). Returns LP_OK, LP_EINVAL or LP_ENOMEM.
 */
int lp_node_load_yaml(lp_node_stream *out, const char *data, size_t len,
                      lp_spec_diags *diags) LP_MUST_CHECK;
/* Convert a cJSON tree (no positions). Caps as above. */
int lp_node_from_cjson(lp_node **out, const struct cJSON *json, lp_spec_diags *diags) LP_MUST_CHECK;
/*
 * Match the string tokens of the JSON text a tree was converted from (keys and string values, in
 * document order) to the tree's string nodes: one that escaped a NUL gets nul set, one without a
 * position gets its token's. When tokens and nodes do not line up and the text escapes a NUL, the
 * NUL becomes a diagnostic of the whole input (LP_EINVAL). LP_OK, LP_EINVAL or LP_ENOMEM.
 */
int lp_node_json_strings(lp_node *tree, const char *text, size_t len,
                         lp_spec_diags *diags) LP_MUST_CHECK;
/* Copy positions from a tree of the same shape (the YAML reading of a JSON text) into dst. */
void lp_node_copy_positions(lp_node *dst, const lp_node *src);
void lp_node_free(lp_node *n);
void lp_node_stream_release(lp_node_stream *s);
/* Resolve a plain (unquoted) YAML scalar. */
lp_scalar_type lp_node_resolve_plain(const char *s, size_t len);
/* Add a diagnostic and return LP_EINVAL (LP_ENOMEM when even that fails). */
int lp_spec_diag_fail(lp_spec_diags *d, const char *path, int line, int column, const char *fmt,
                      ...) __attribute__((format(printf, 5, 6)));
int lp_spec_diags_vadd(lp_spec_diags *d, const char *path, int line, int column, const char *fmt,
                       va_list ap) __attribute__((format(printf, 5, 0))) LP_MUST_CHECK;

/*
 * Validate one document's root into a new lp_site (defaults filled). Every problem is added to
 * diags. *name_node (optional) is set to the metadata.name value node, for duplicate checks.
 * Returns LP_OK, LP_EINVAL (problems reported) or LP_ENOMEM.
 */
int lp_spec_site_from_node(lp_site **out, const lp_node **name_node, const lp_node *root,
                           const lp_spec_options *opts, lp_spec_diags *diags) LP_MUST_CHECK;

/* 1-based line and column (in characters) of byte offset off in data. */
void lp_node_offset_position(const char *data, size_t len, size_t off, int *line, int *col);

/* Name of a node's type for messages: "a string", "a mapping", "an integer", ... */
const char *lp_node_type_name(const lp_node *n);

#endif
