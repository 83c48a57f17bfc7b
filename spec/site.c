/* site.c: turns one document tree into an lp_site, reporting every problem with path and position.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "launchpad/fmt.h"
#include "launchpad/spec.h"
#include "spec/node.h"
#include "launchpad/serve_rules.h"
#include "spec/rules.h"

/*
 * Longer than any rule's own limit, so an overlong name or constant is reported by the rule's
 * message ("must be at most 63 characters") rather than a bare size.
 */
#define NAME_READ_MAX     4096
#define CONSTANT_READ_MAX 256
/* Field names this long or longer get no did-you-mean suggestion (the distance row's size). */
#define SUGGEST_NAME_MAX 64
/* An edit distance no suggestion can have. */
#define FAR SUGGEST_NAME_MAX
/* "\xNN" and the terminator: room for one more byte of a key that is no text in its path. */
#define KEY_BYTE_TEXT_MAX 5
/* A sequence index in a path ("status.items.12"). */
#define INDEX_TEXT_MAX 24

struct vctx {
	lp_spec_diags *diags;
	int allow_insecure;
	int allow_wildcard;
	int errors;
	int nomem;
};

static void diag(struct vctx *v, const char *path, const lp_node *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void diag(struct vctx *v, const char *path, const lp_node *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (lp_spec_diags_vadd(v->diags, path, at ? at->line : 0, at ? at->col : 0, fmt, ap) !=
	    LP_OK)
		v->nomem = 1;
	va_end(ap);
	v->errors++;
}

/* A diagnostic's path is read by people: one through a very long key is cut, marked so. */
static void join(char *dst, size_t n, const char *parent, const char *name)
{
	if (parent[0] == '\0')
		lp_fmt_text(dst, n, "%s", name);
	else
		lp_fmt_text(dst, n, "%s.%s", parent, name);
}

static int is_null(const lp_node *n)
{
	return n == NULL ||
	       (n->kind == LP_NODE_SCALAR && n->type == LP_SCALAR_NULL && n->bad_tag == NULL);
}

static int check_tag(struct vctx *v, const char *path, const lp_node *n)
{
	if (n->bad_tag == NULL)
		return 1;
	diag(v, path, n, "unsupported YAML tag \"%s\"", n->bad_tag);
	return 0;
}

static char *dup_mem(struct vctx *v, const char *s, size_t len)
{
	char *d = malloc(len + 1);

	if (d == NULL) {
		v->nomem = 1;
		return NULL;
	}
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

/* Edit distance with case folded, for did-you-mean suggestions on short field names. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, prev, tmp;
	size_t row[SUGGEST_NAME_MAX];

	if (la >= SUGGEST_NAME_MAX - 1 || lb >= SUGGEST_NAME_MAX - 1)
		return FAR;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cost =
			    tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			tmp = row[j];
			row[j] = prev + cost;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			if (tmp + 1 < row[j])
				row[j] = tmp + 1;
			prev = tmp;
		}
	}
	return row[lb];
}

static const char *suggest(const char *key, const char *const *names, size_t count)
{
	const char *best = NULL;
	size_t i, d, best_d = FAR;

	for (i = 0; i < count; i++) {
		d = distance(key, names[i]);
		if (d < best_d && d <= 2 && d * 3 <= strlen(names[i])) {
			best = names[i];
			best_d = d;
		}
	}
	return best;
}

static int expect_kind(struct vctx *v, const char *path, const lp_node *n, lp_node_kind kind)
{
	if (!check_tag(v, path, n))
		return 0;
	if (n->kind == kind)
		return 1;
	diag(v, path, n, "expected %s, got %s", kind == LP_NODE_MAP ? "a mapping" : "a sequence",
	     lp_node_type_name(n));
	return 0;
}

enum text_problem { TEXT_OK, TEXT_NUL, TEXT_UTF8 };

/* Whether a scalar's text can be used: nothing is ever cut short at a NUL. */
static enum text_problem text_problem(const lp_node *n)
{
	if (n->nul || strlen(n->str) != n->len)
		return TEXT_NUL;
	if (!lp_rule_utf8(n->str, n->len))
		return TEXT_UTF8;
	return TEXT_OK;
}

/* The diagnostic of a string value that is no text (an env value, a status message, ...). */
static int text_ok(struct vctx *v, const char *path, const lp_node *n)
{
	switch (text_problem(n)) {
	case TEXT_NUL:
		diag(v, path, n, "must not contain NUL bytes");
		return 0;
	case TEXT_UTF8:
		diag(v, path, n, "is not valid UTF-8");
		return 0;
	default:
		return 1;
	}
}

/*
 * A key that is no text, made printable for its path (paths end up in JSON answers, which must
 * stay UTF-8): NUL, control bytes and every byte past ASCII as \xNN. A JSON key escaping a NUL
 * was cut there by cJSON, so it shows what came before and the NUL.
 */
static void key_text(char *dst, size_t n, const lp_node *k)
{
	static const char hex[] = "0123456789abcdef";
	size_t kept = k->nul ? strlen(k->str) : k->len, shown = kept + (k->nul ? 1 : 0);
	size_t i, used = 0;

	for (i = 0; i < shown && used + KEY_BYTE_TEXT_MAX <= n; i++) {
		unsigned char c = i < kept ? (unsigned char)k->str[i] : 0;

		if (c >= 0x20 && c < 0x7f) {
			dst[used++] = (char)c;
			continue;
		}
		dst[used++] = '\\';
		dst[used++] = 'x';
		dst[used++] = hex[c >> 4];
		dst[used++] = hex[c & 0xf];
	}
	dst[used] = '\0';
}

/* A scalar key of the mapping at path is text, or a diagnostic says why not. */
static int key_is_text(struct vctx *v, const char *path, const lp_node *k)
{
	char p[LP_SPEC_DIAG_PATH_MAX], shown[LP_SPEC_DIAG_PATH_MAX];
	enum text_problem problem = text_problem(k);

	if (problem == TEXT_OK)
		return 1;
	key_text(shown, sizeof(shown), k);
	join(p, sizeof(p), path, shown);
	diag(v, p, k, "%s",
	     problem == TEXT_NUL ? "keys must not contain NUL bytes" : "keys must be valid UTF-8");
	return 0;
}

static int key_ok(struct vctx *v, const char *path, const lp_node *map, size_t i)
{
	const lp_node *k = map->items[i], *prev;
	size_t j;

	if (k->kind != LP_NODE_SCALAR) {
		diag(v, path, k, "mapping keys must be strings, got %s", lp_node_type_name(k));
		return 0;
	}
	if (!key_is_text(v, path, k))
		return 0;
	for (j = 0; j < i; j += 2) {
		prev = map->items[j];
		if (prev->kind == LP_NODE_SCALAR && prev->len == k->len &&
		    !memcmp(prev->str, k->str, k->len)) {
			char p[LP_SPEC_DIAG_PATH_MAX];

			join(p, sizeof(p), path, k->str);
			if (prev->line > 0)
				diag(v, p, k, "duplicate key \"%s\" (first at line %d, column %d)",
				     k->str, prev->line, prev->col);
			else
				diag(v, p, k, "duplicate key \"%s\"", k->str);
			return 0;
		}
	}
	return 1;
}

/*
 * Pick the known fields out of a mapping into vals[] (NULL when absent). Unknown, duplicate and
 * non-string keys are reported. Returns 0 when the node is not a mapping.
 */
static int take_fields(struct vctx *v, const lp_node *map, const char *path,
                       const char *const *names, size_t count, const lp_node **vals)
{
	char p[LP_SPEC_DIAG_PATH_MAX];
	size_t i, f;
	const char *hint;

	for (f = 0; f < count; f++)
		vals[f] = NULL;
	if (!expect_kind(v, path, map, LP_NODE_MAP))
		return 0;
	for (i = 0; i + 1 < map->n; i += 2) {
		const lp_node *k = map->items[i];

		if (!key_ok(v, path, map, i))
			continue;
		for (f = 0; f < count; f++)
			if (strlen(names[f]) == k->len && !strcmp(names[f], k->str))
				break;
		if (f < count) {
			vals[f] = map->items[i + 1];
			continue;
		}
		join(p, sizeof(p), path, k->str);
		hint = suggest(k->str, names, count);
		if (hint)
			diag(v, p, k, "unknown field \"%s\" (did you mean \"%s\"?)", k->str, hint);
		else
			diag(v, p, k, "unknown field \"%s\"", k->str);
	}
	return 1;
}

static void missing(struct vctx *v, const char *parent, const lp_node *at, const char *name,
                    const lp_node *null_value)
{
	char p[LP_SPEC_DIAG_PATH_MAX];

	join(p, sizeof(p), parent, name);
	diag(v, p, null_value ? null_value : at, "is required");
}

/* A string field: a new copy, or NULL after reporting why not. */
static char *want_string(struct vctx *v, const char *path, const lp_node *n, size_t max)
{
	if (!check_tag(v, path, n))
		return NULL;
	if (n->kind != LP_NODE_SCALAR || n->type != LP_SCALAR_STRING) {
		if (n->kind == LP_NODE_SCALAR)
			diag(v, path, n, "expected a string, got %s (quote it)",
			     lp_node_type_name(n));
		else
			diag(v, path, n, "expected a string, got %s", lp_node_type_name(n));
		return NULL;
	}
	if (!text_ok(v, path, n))
		return NULL;
	if (n->len > max) {
		diag(v, path, n, "must be at most %zu bytes (got %zu)", max, n->len);
		return NULL;
	}
	return dup_mem(v, n->str, n->len);
}

static int want_int(struct vctx *v, const char *path, const lp_node *n, int min, int max, int *out)
{
	long long val;
	char *end;
	const char *s;
	int base = 10;

	if (!check_tag(v, path, n))
		return 0;
	if (n->kind != LP_NODE_SCALAR || n->type != LP_SCALAR_INT) {
		diag(v, path, n, "expected an integer, got %s", lp_node_type_name(n));
		return 0;
	}
	s = n->str;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
		base = s[1] == 'x' ? 16 : 8;
		s += 2;
	}
	errno = 0;
	val = strtoll(s, &end, base);
	if (errno != 0 || *end != '\0' || val < min || val > max) {
		diag(v, path, n, "must be between %d and %d (got %s)", min, max, n->str);
		return 0;
	}
	*out = (int)val;
	return 1;
}

static int want_bool(struct vctx *v, const char *path, const lp_node *n, int *out)
{
	if (!check_tag(v, path, n))
		return 0;
	if (n->kind != LP_NODE_SCALAR || n->type != LP_SCALAR_BOOL) {
		diag(v, path, n, "expected a boolean (true or false), got %s",
		     lp_node_type_name(n));
		return 0;
	}
	*out = n->str[0] == 't' || n->str[0] == 'T';
	return 1;
}

/* A string field checked by one of the rules in rules.h (arg selects its variant). */
typedef int (*rule_fn)(const char *s, int arg, char *msg, size_t n);

static int rule_url(const char *s, int arg, char *msg, size_t n)
{
	return lp_rule_git_url(s, arg, msg, n);
}
static int rule_branch(const char *s, int arg, char *msg, size_t n)
{
	return lp_rule_branch(s, msg, n);
}
static int rule_digest(const char *s, int arg, char *msg, size_t n)
{
	return lp_rule_digest(s, msg, n);
}
static int rule_path(const char *s, int arg, char *msg, size_t n)
{
	return lp_rule_relpath(s, arg, msg, n);
}
static int rule_image(const char *s, int arg, char *msg, size_t n)
{
	return lp_rule_image(s, msg, n);
}
static int rule_name(const char *s, int arg, char *msg, size_t n)
{
	return lp_rule_name(s, msg, n);
}
static int rule_domain(const char *s, int arg, char *msg, size_t n)
{
	return lp_rule_domain(s, arg, msg, n);
}
static int rule_nonempty(const char *s, int arg, char *msg, size_t n)
{
	const char *c = s;

	while (*c && isspace((unsigned char)*c))
		c++;
	if (*c != '\0')
		return 1;
	lp_fmt_text(msg, n, "must not be empty");
	return 0;
}

static char *want_checked(struct vctx *v, const char *path, const lp_node *n, size_t max,
                          rule_fn rule, int arg)
{
	char msg[LP_SPEC_DIAG_MESSAGE_MAX];
	char *s = want_string(v, path, n, max);

	if (s != NULL && !rule(s, arg, msg, sizeof(msg))) {
		diag(v, path, n, "%s", msg);
		free(s);
		s = NULL;
	}
	return s;
}

static void read_source(struct vctx *v, lp_site *site, const lp_node *src)
{
	enum { SRC_GIT, SRC_ARCHIVE, SRC_N };
	enum { GIT_URL, GIT_BRANCH, GIT_N };
	enum { ARC_DIGEST, ARC_N };
	static const char *const fields[SRC_N] = {[SRC_GIT] = "git", [SRC_ARCHIVE] = "archive"};
	static const char *const git_fields[GIT_N] = {[GIT_URL] = "url", [GIT_BRANCH] = "branch"};
	static const char *const arc_fields[ARC_N] = {[ARC_DIGEST] = "digest"};
	const lp_node *val[SRC_N], *git[GIT_N], *arc[ARC_N];
	int have_git, have_archive;

	if (!take_fields(v, src, "spec.source", fields, SRC_N, val))
		return;
	have_git = !is_null(val[SRC_GIT]);
	have_archive = !is_null(val[SRC_ARCHIVE]);
	if (have_git == have_archive)
		diag(v, "spec.source", src,
		     have_git ? "git and archive are mutually exclusive: set exactly one"
		              : "exactly one of git or archive is required");
	if (have_git && take_fields(v, val[SRC_GIT], "spec.source.git", git_fields, GIT_N, git)) {
		site->source_kind = LP_SOURCE_GIT;
		if (is_null(git[GIT_URL]))
			missing(v, "spec.source.git", val[SRC_GIT], "url", git[GIT_URL]);
		else
			site->git_url = want_checked(v, "spec.source.git.url", git[GIT_URL],
			                             LP_SITE_URL_MAX, rule_url, v->allow_insecure);
		if (is_null(git[GIT_BRANCH]))
			site->git_branch =
			    dup_mem(v, LP_SITE_DEFAULT_BRANCH, strlen(LP_SITE_DEFAULT_BRANCH));
		else
			site->git_branch =
			    want_checked(v, "spec.source.git.branch", git[GIT_BRANCH],
			                 LP_SITE_BRANCH_MAX, rule_branch, 0);
	}
	if (have_archive &&
	    take_fields(v, val[SRC_ARCHIVE], "spec.source.archive", arc_fields, ARC_N, arc)) {
		if (!have_git)
			site->source_kind = LP_SOURCE_ARCHIVE;
		if (is_null(arc[ARC_DIGEST]))
			missing(v, "spec.source.archive", val[SRC_ARCHIVE], "digest",
			        arc[ARC_DIGEST]);
		else
			site->archive_digest =
			    want_checked(v, "spec.source.archive.digest", arc[ARC_DIGEST],
			                 LP_SITE_URL_MAX, rule_digest, 0);
	}
}

static int env_cmp(const void *a, const void *b)
{
	return strcmp(((const lp_env_var *)a)->name, ((const lp_env_var *)b)->name);
}

/*
 * The object form of a variable: {value, secret} as a client writes it, or a secret at rest
 * {secret: true, sealed, fingerprint}. 0 after reporting what is wrong.
 */
static int read_env_object(struct vctx *v, lp_env_var *var, const char *path, const lp_node *o)
{
	enum { E_VALUE, E_SECRET, E_SEALED, E_FP, E_N };
	static const char *const fields[E_N] = {[E_VALUE] = "value",
	                                        [E_SECRET] = "secret",
	                                        [E_SEALED] = "sealed",
	                                        [E_FP] = "fingerprint"};
	const lp_node *val[E_N];
	char p[LP_SPEC_DIAG_PATH_MAX];
	int before = v->errors;

	if (!take_fields(v, o, path, fields, E_N, val))
		return 0;
	if (!is_null(val[E_SECRET])) {
		join(p, sizeof(p), path, "secret");
		if (!want_bool(v, p, val[E_SECRET], &var->secret))
			return 0;
	}
	if (!is_null(val[E_SEALED]) || !is_null(val[E_FP])) {
		if (!var->secret || is_null(val[E_SEALED]) || is_null(val[E_FP]) ||
		    !is_null(val[E_VALUE])) {
			diag(v, path, o,
			     "a sealed secret has secret: true, sealed and fingerprint, and no "
			     "value");
			return 0;
		}
		join(p, sizeof(p), path, "sealed");
		var->sealed = want_string(v, p, val[E_SEALED], LP_SITE_SEALED_MAX);
		join(p, sizeof(p), path, "fingerprint");
		var->fingerprint = want_string(v, p, val[E_FP], LP_SITE_SEALED_MAX);
		return var->sealed != NULL && var->fingerprint != NULL;
	}
	if (is_null(val[E_VALUE])) {
		missing(v, path, o, "value", val[E_VALUE]);
		return 0;
	}
	join(p, sizeof(p), path, "value");
	var->value = want_string(v, p, val[E_VALUE], LP_SITE_ENV_VALUE_MAX);
	return var->value != NULL && v->errors == before;
}

/* Where one env mapping goes, and what it may hold. */
struct env_target {
	const char *path;  /* "spec.build.env" */
	lp_env_var **vars; /* filled, sorted by name */
	size_t *count;
	size_t max;
	int plain_only; /* no secrets; PORT and LAUNCHPAD_* are the platform's (spec.run.env) */
};

/* PORT and LAUNCHPAD_*: what the platform itself sets in an app container. */
static int reserved_env_name(const char *name)
{
	return !strcmp(name, LP_SITE_RUN_PORT_VAR) ||
	       !strncmp(name, LP_SITE_RESERVED_ENV_PREFIX, strlen(LP_SITE_RESERVED_ENV_PREFIX));
}

static void read_env(struct vctx *v, const struct env_target *t, const lp_node *env)
{
	char p[LP_SPEC_DIAG_PATH_MAX], msg[LP_SPEC_DIAG_MESSAGE_MAX];
	size_t i, pairs;

	if (!expect_kind(v, t->path, env, LP_NODE_MAP))
		return;
	pairs = env->n / 2;
	if (pairs > t->max) {
		diag(v, t->path, env, "at most %zu variables are allowed (got %zu)", t->max, pairs);
		return;
	}
	*t->vars = calloc(pairs ? pairs : 1, sizeof(**t->vars));
	if (*t->vars == NULL) {
		v->nomem = 1;
		return;
	}
	for (i = 0; i + 1 < env->n; i += 2) {
		const lp_node *k = env->items[i], *val = env->items[i + 1];
		lp_env_var *var;

		if (!key_ok(v, t->path, env, i))
			continue;
		join(p, sizeof(p), t->path, k->str);
		if (!lp_rule_env_name(k->str, k->len, msg, sizeof(msg))) {
			diag(v, p, k, "%s", msg);
			continue;
		}
		if (t->plain_only && reserved_env_name(k->str)) {
			diag(v, p, k,
			     "%s is set by the platform (PORT is run.port; LAUNCHPAD_* are "
			     "reserved)",
			     k->str);
			continue;
		}
		var = &(*t->vars)[*t->count];
		if (val->kind == LP_NODE_MAP && t->plain_only) {
			diag(v, p, val, "expected a string (secrets are for build.env only)");
			continue;
		}
		if (val->kind == LP_NODE_MAP) {
			if (!read_env_object(v, var, p, val)) {
				lp_env_var_release(var);
				continue;
			}
		} else if ((var->value = want_string(v, p, val, LP_SITE_ENV_VALUE_MAX)) == NULL) {
			continue;
		}
		var->name = dup_mem(v, k->str, k->len);
		if (var->name == NULL) {
			lp_env_var_release(var);
			continue;
		}
		(*t->count)++;
	}
	qsort(*t->vars, *t->count, sizeof(**t->vars), env_cmp);
}

static void read_build(struct vctx *v, lp_site *site, const lp_node *build)
{
	enum { B_IMAGE, B_COMMAND, B_OUTPUT_DIR, B_ENV, B_TIMEOUT, B_N };
	static const char *const fields[B_N] = {[B_IMAGE] = "image",
	                                        [B_COMMAND] = "command",
	                                        [B_OUTPUT_DIR] = "outputDir",
	                                        [B_ENV] = "env",
	                                        [B_TIMEOUT] = "timeoutSeconds"};
	const lp_node *val[B_N];

	site->build_timeout_seconds = LP_SITE_DEFAULT_TIMEOUT;
	if (!take_fields(v, build, "spec.build", fields, B_N, val))
		return;
	site->has_build = 1;
	if (!is_null(val[B_IMAGE]))
		site->build_image = want_checked(v, "spec.build.image", val[B_IMAGE],
		                                 LP_SITE_IMAGE_MAX, rule_image, 0);
	/* No command: nothing runs, outputDir of the source is published (a pre-built upload). */
	if (!is_null(val[B_COMMAND]))
		site->build_command = want_checked(v, "spec.build.command", val[B_COMMAND],
		                                   LP_SITE_COMMAND_MAX, rule_nonempty, 0);
	if (is_null(val[B_OUTPUT_DIR]))
		site->build_output_dir =
		    dup_mem(v, LP_SITE_DEFAULT_OUTPUT_DIR, strlen(LP_SITE_DEFAULT_OUTPUT_DIR));
	else
		site->build_output_dir = want_checked(v, "spec.build.outputDir", val[B_OUTPUT_DIR],
		                                      LP_SITE_PATH_MAX, rule_path, 0);
	if (!is_null(val[B_ENV])) {
		struct env_target t = {"spec.build.env", &site->build_env, &site->build_env_count,
		                       LP_SITE_ENV_MAX, 0};
		read_env(v, &t, val[B_ENV]);
	}
	if (!is_null(val[B_TIMEOUT]))
		want_int(v, "spec.build.timeoutSeconds", val[B_TIMEOUT], LP_SITE_TIMEOUT_MIN,
		         LP_SITE_TIMEOUT_MAX, &site->build_timeout_seconds);
}

/* A rule the serve config could not carry is an error in a spec (a file's only warns). */
struct rules_diag {
	struct vctx *v;
	const char *path;
	const lp_node *at;
};

static void rules_warn(void *ctx, const char *source, int line, const char *message)
{
	struct rules_diag *d = ctx;

	diag(d->v, d->path, d->at, "line %d: %s", line, message);
}

static char *want_rules(struct vctx *v, const char *path, const lp_node *n, int headers)
{
	struct rules_diag d = {v, path, n};
	lp_redirects r = {0};
	lp_headers h = {0};
	lp_error err = {0};
	char *s = want_string(v, path, n, LP_RULES_FILE_MAX);
	int rc;

	if (s == NULL)
		return NULL;
	rc = headers ? lp_headers_parse(&h, s, strlen(s), path, rules_warn, &d, &err)
	             : lp_redirects_parse(&r, s, strlen(s), path, rules_warn, &d, &err);
	if (rc != LP_OK)
		diag(v, path, n, "%s", err.message);
	lp_redirects_release(&r);
	lp_headers_release(&h);
	return s;
}

static void read_serve(struct vctx *v, lp_site *site, const lp_node *serve)
{
	enum {
		SV_SPA,
		SV_NOT_FOUND,
		SV_REDIRECTS,
		SV_HEADERS,
		SV_REPLICAS,
		SV_HTTPS_REDIRECT,
		SV_HSTS,
		SV_N
	};
	static const char *const fields[SV_N] = {[SV_SPA] = "spa",
	                                         [SV_NOT_FOUND] = "notFoundPage",
	                                         [SV_REDIRECTS] = "redirects",
	                                         [SV_HEADERS] = "headers",
	                                         [SV_REPLICAS] = "replicas",
	                                         [SV_HTTPS_REDIRECT] = "httpsRedirect",
	                                         [SV_HSTS] = "hsts"};
	const lp_node *val[SV_N];

	if (!take_fields(v, serve, "spec.serve", fields, SV_N, val))
		return;
	if (!is_null(val[SV_SPA]))
		want_bool(v, "spec.serve.spa", val[SV_SPA], &site->serve_spa);
	if (!is_null(val[SV_NOT_FOUND]))
		site->serve_not_found_page =
		    want_checked(v, "spec.serve.notFoundPage", val[SV_NOT_FOUND], LP_SITE_PAGE_MAX,
		                 rule_path, 1);
	if (!is_null(val[SV_REDIRECTS]))
		site->serve_redirects = want_rules(v, "spec.serve.redirects", val[SV_REDIRECTS], 0);
	if (!is_null(val[SV_HEADERS]))
		site->serve_headers = want_rules(v, "spec.serve.headers", val[SV_HEADERS], 1);
	if (!is_null(val[SV_REPLICAS]))
		want_int(v, "spec.serve.replicas", val[SV_REPLICAS], LP_SITE_REPLICAS_MIN,
		         LP_SITE_REPLICAS_MAX, &site->serve_replicas);
	if (!is_null(val[SV_HTTPS_REDIRECT]))
		want_bool(v, "spec.serve.httpsRedirect", val[SV_HTTPS_REDIRECT],
		          &site->serve_https_redirect);
	if (!is_null(val[SV_HSTS]))
		want_bool(v, "spec.serve.hsts", val[SV_HSTS], &site->serve_hsts);
}

/*
 * spec.domains: each a DNS name the site also answers on. A domain written twice is an error,
 * not folded: the author meant two different names. Which site holds a name is the store's
 * (one site per domain); which names the platform keeps for itself is the admin's.
 */
static void read_domains(struct vctx *v, lp_site *site, const lp_node *seq)
{
	char p[LP_SPEC_DIAG_PATH_MAX];
	size_t i, j;

	if (!expect_kind(v, "spec.domains", seq, LP_NODE_SEQ))
		return;
	if (seq->n > LP_SITE_DOMAINS_MAX) {
		diag(v, "spec.domains", seq, "at most %d domains are allowed (got %zu)",
		     LP_SITE_DOMAINS_MAX, seq->n);
		return;
	}
	site->domains = calloc(seq->n ? seq->n : 1, sizeof(*site->domains));
	if (site->domains == NULL) {
		v->nomem = 1;
		return;
	}
	for (i = 0; i < seq->n; i++) {
		char *d;

		lp_fmt_text(p, sizeof(p), "spec.domains.%zu", i);
		d = want_checked(v, p, seq->items[i], LP_SITE_DOMAIN_MAX, rule_domain,
		                 v->allow_wildcard);
		if (d == NULL)
			continue;
		for (j = 0; j < site->domain_count && strcmp(site->domains[j], d); j++)
			;
		if (j < site->domain_count) {
			diag(v, p, seq->items[i], "duplicate domain \"%s\"", d);
			free(d);
			continue;
		}
		site->domains[site->domain_count++] = d;
	}
}

/* run.healthCheck.path: what the probe writes after GET, so printable ASCII without spaces. */
static int rule_health_path(const char *s, int arg, char *msg, size_t n)
{
	const char *c;

	(void)arg;
	if (s[0] != '/') {
		lp_fmt_text(msg, n, "must start with '/'");
		return 0;
	}
	for (c = s; *c; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f || *c == '#') {
			lp_fmt_text(msg, n, "must be printable ASCII without spaces or '#'");
			return 0;
		}
	return 1;
}

/* resources.cpus: a number 0.1..4 (an integer is one too), kept as thousandths. */
static void want_cpus(struct vctx *v, const char *path, const lp_node *n, int *out)
{
	double val;
	char *end;

	if (!check_tag(v, path, n))
		return;
	if (n->kind != LP_NODE_SCALAR || (n->type != LP_SCALAR_INT && n->type != LP_SCALAR_FLOAT)) {
		diag(v, path, n, "expected a number, got %s", lp_node_type_name(n));
		return;
	}
	errno = 0;
	val = strtod(n->str, &end);
	if (errno != 0 || *end != '\0' || !(val >= LP_SITE_MILLICPUS_MIN / 1000.0) ||
	    !(val <= LP_SITE_MILLICPUS_MAX / 1000.0)) {
		diag(v, path, n, "must be between %g and %g (got %s)",
		     LP_SITE_MILLICPUS_MIN / 1000.0, LP_SITE_MILLICPUS_MAX / 1000.0, n->str);
		return;
	}
	*out = (int)(val * 1000.0 + 0.5);
}

static void read_health(struct vctx *v, lp_site *site, const lp_node *hc)
{
	enum { H_PATH, H_INTERVAL, H_TIMEOUT, H_START, H_N };
	static const char *const fields[H_N] = {[H_PATH] = "path",
	                                        [H_INTERVAL] = "intervalSeconds",
	                                        [H_TIMEOUT] = "timeoutSeconds",
	                                        [H_START] = "startSeconds"};
	const lp_node *val[H_N];

	if (!take_fields(v, hc, "spec.run.healthCheck", fields, H_N, val))
		return;
	if (!is_null(val[H_PATH])) {
		free(site->run_health_path);
		site->run_health_path = want_checked(v, "spec.run.healthCheck.path", val[H_PATH],
		                                     LP_SITE_HEALTH_PATH_MAX, rule_health_path, 0);
	}
	if (!is_null(val[H_INTERVAL]))
		want_int(v, "spec.run.healthCheck.intervalSeconds", val[H_INTERVAL],
		         LP_SITE_HEALTH_INTERVAL_MIN, LP_SITE_HEALTH_INTERVAL_MAX,
		         &site->run_health_interval_seconds);
	if (!is_null(val[H_TIMEOUT]))
		want_int(v, "spec.run.healthCheck.timeoutSeconds", val[H_TIMEOUT],
		         LP_SITE_HEALTH_TIMEOUT_MIN, LP_SITE_HEALTH_TIMEOUT_MAX,
		         &site->run_health_timeout_seconds);
	if (!is_null(val[H_START]))
		want_int(v, "spec.run.healthCheck.startSeconds", val[H_START],
		         LP_SITE_HEALTH_START_MIN, LP_SITE_HEALTH_START_MAX,
		         &site->run_health_start_seconds);
}

static void read_resources(struct vctx *v, lp_site *site, const lp_node *res)
{
	enum { R_MEMORY, R_CPUS, R_N };
	static const char *const fields[R_N] = {[R_MEMORY] = "memoryMiB", [R_CPUS] = "cpus"};
	const lp_node *val[R_N];

	if (!take_fields(v, res, "spec.run.resources", fields, R_N, val))
		return;
	if (!is_null(val[R_MEMORY]))
		want_int(v, "spec.run.resources.memoryMiB", val[R_MEMORY], LP_SITE_MEMORY_MIB_MIN,
		         LP_SITE_MEMORY_MIB_MAX, &site->run_memory_mib);
	if (!is_null(val[R_CPUS]))
		want_cpus(v, "spec.run.resources.cpus", val[R_CPUS], &site->run_millicpus);
}

/* The defaults of spec.run, also what a struct built in code starts from. */
static void run_defaults(struct vctx *v, lp_site *site)
{
	site->run_health_path =
	    dup_mem(v, LP_SITE_DEFAULT_HEALTH_PATH, strlen(LP_SITE_DEFAULT_HEALTH_PATH));
	site->run_health_interval_seconds = LP_SITE_DEFAULT_HEALTH_INTERVAL;
	site->run_health_timeout_seconds = LP_SITE_DEFAULT_HEALTH_TIMEOUT;
	site->run_health_start_seconds = LP_SITE_DEFAULT_HEALTH_START;
	site->run_memory_mib = LP_SITE_DEFAULT_MEMORY_MIB;
	site->run_millicpus = LP_SITE_DEFAULT_MILLICPUS;
}

static void read_run(struct vctx *v, lp_site *site, const lp_node *run)
{
	enum { RUN_COMMAND, RUN_PORT, RUN_IMAGE, RUN_HEALTH, RUN_ENV, RUN_RESOURCES, RUN_N };
	static const char *const fields[RUN_N] = {
	    [RUN_COMMAND] = "command",    [RUN_PORT] = "port", [RUN_IMAGE] = "image",
	    [RUN_HEALTH] = "healthCheck", [RUN_ENV] = "env",   [RUN_RESOURCES] = "resources"};
	const lp_node *val[RUN_N];

	if (!take_fields(v, run, "spec.run", fields, RUN_N, val))
		return;
	site->has_run = 1;
	run_defaults(v, site);
	if (is_null(val[RUN_COMMAND]))
		missing(v, "spec.run", run, "command", val[RUN_COMMAND]);
	else
		site->run_command = want_checked(v, "spec.run.command", val[RUN_COMMAND],
		                                 LP_SITE_COMMAND_MAX, rule_nonempty, 0);
	if (is_null(val[RUN_PORT]))
		missing(v, "spec.run", run, "port", val[RUN_PORT]);
	else
		want_int(v, "spec.run.port", val[RUN_PORT], LP_SITE_PORT_MIN, LP_SITE_PORT_MAX,
		         &site->run_port);
	if (!is_null(val[RUN_IMAGE]))
		site->run_image = want_checked(v, "spec.run.image", val[RUN_IMAGE],
		                               LP_SITE_IMAGE_MAX, rule_image, 0);
	if (!is_null(val[RUN_HEALTH]))
		read_health(v, site, val[RUN_HEALTH]);
	if (!is_null(val[RUN_ENV])) {
		struct env_target t = {"spec.run.env", &site->run_env, &site->run_env_count,
		                       LP_SITE_RUN_ENV_MAX, 1};
		read_env(v, &t, val[RUN_ENV]);
	}
	if (!is_null(val[RUN_RESOURCES]))
		read_resources(v, site, val[RUN_RESOURCES]);
}

/*
 * An app is no nginx: the serve options only nginx carries out are errors beside spec.run
 * (replicas and the edge's httpsRedirect and hsts apply to apps too).
 */
static void check_serve_for_run(struct vctx *v, const lp_site *site, const lp_node *serve)
{
	if (!site->has_run || serve == NULL)
		return;
	if (site->serve_spa)
		diag(v, "spec.serve.spa", serve, "applies to static sites only (spec.run is set)");
	if (site->serve_not_found_page)
		diag(v, "spec.serve.notFoundPage", serve,
		     "applies to static sites only (spec.run is set)");
	if (site->serve_redirects)
		diag(v, "spec.serve.redirects", serve,
		     "applies to static sites only (spec.run is set)");
	if (site->serve_headers)
		diag(v, "spec.serve.headers", serve,
		     "applies to static sites only (spec.run is set)");
}

/* A branch pattern: a branch name in which '*' may stand for any run of characters. */
static int rule_branch_glob(const char *s, int arg, char *msg, size_t n)
{
	char *copy = strdup(s), *c;
	int ok;

	(void)arg;
	if (copy == NULL) {
		lp_fmt_text(msg, n, "out of memory");
		return 0;
	}
	for (c = copy; *c; c++)
		if (*c == '*')
			*c = 'x';
	ok = lp_rule_branch(copy, msg, n);
	free(copy);
	return ok;
}

static void read_branch_globs(struct vctx *v, lp_site *site, const lp_node *seq)
{
	char p[LP_SPEC_DIAG_PATH_MAX], index[INDEX_TEXT_MAX];
	size_t i;

	if (!expect_kind(v, "spec.previews.branches", seq, LP_NODE_SEQ))
		return;
	if (seq->n > LP_SITE_PREVIEW_BRANCHES_MAX) {
		diag(v, "spec.previews.branches", seq, "at most %d patterns are allowed (got %zu)",
		     LP_SITE_PREVIEW_BRANCHES_MAX, seq->n);
		return;
	}
	site->previews_branches = calloc(seq->n ? seq->n : 1, sizeof(*site->previews_branches));
	if (site->previews_branches == NULL) {
		v->nomem = 1;
		return;
	}
	for (i = 0; i < seq->n; i++) {
		char *g;

		lp_fmt_text(index, sizeof(index), "%zu", i);
		join(p, sizeof(p), "spec.previews.branches", index);
		g = want_checked(v, p, seq->items[i], LP_SITE_BRANCH_MAX, rule_branch_glob, 0);
		if (g != NULL)
			site->previews_branches[site->previews_branch_count++] = g;
	}
}

static void read_previews(struct vctx *v, lp_site *site, const lp_node *previews)
{
	enum { P_PULL_REQUESTS, P_BRANCHES, P_FORK_ENV, P_MAX, P_N };
	static const char *const fields[P_N] = {[P_PULL_REQUESTS] = "pullRequests",
	                                        [P_BRANCHES] = "branches",
	                                        [P_FORK_ENV] = "forkEnv",
	                                        [P_MAX] = "max"};
	const lp_node *val[P_N];

	site->previews_max = LP_SITE_DEFAULT_PREVIEWS;
	if (!take_fields(v, previews, "spec.previews", fields, P_N, val))
		return;
	site->has_previews = 1;
	if (!is_null(val[P_PULL_REQUESTS]))
		want_bool(v, "spec.previews.pullRequests", val[P_PULL_REQUESTS],
		          &site->previews_pull_requests);
	if (!is_null(val[P_BRANCHES]))
		read_branch_globs(v, site, val[P_BRANCHES]);
	if (!is_null(val[P_FORK_ENV]))
		want_bool(v, "spec.previews.forkEnv", val[P_FORK_ENV], &site->previews_fork_env);
	if (!is_null(val[P_MAX]))
		want_int(v, "spec.previews.max", val[P_MAX], LP_SITE_PREVIEWS_MIN,
		         LP_SITE_PREVIEWS_MAX, &site->previews_max);
}

static void read_spec(struct vctx *v, lp_site *site, const lp_node *spec)
{
	enum {
		S_SOURCE,
		S_BUILD,
		S_AUTO_DEPLOY,
		S_SERVE,
		S_HISTORY,
		S_DOMAINS,
		S_PREVIEWS,
		S_RUN,
		S_N
	};
	static const char *const fields[S_N] = {[S_SOURCE] = "source",
	                                        [S_BUILD] = "build",
	                                        [S_AUTO_DEPLOY] = "autoDeploy",
	                                        [S_SERVE] = "serve",
	                                        [S_HISTORY] = "revisionHistoryLimit",
	                                        [S_DOMAINS] = "domains",
	                                        [S_PREVIEWS] = "previews",
	                                        [S_RUN] = "run"};
	const lp_node *val[S_N];

	if (!take_fields(v, spec, "spec", fields, S_N, val))
		return;
	if (is_null(val[S_SOURCE]))
		missing(v, "spec", spec, "source", val[S_SOURCE]);
	else
		read_source(v, site, val[S_SOURCE]);
	if (!is_null(val[S_BUILD]))
		read_build(v, site, val[S_BUILD]);
	if (!is_null(val[S_AUTO_DEPLOY]))
		want_bool(v, "spec.autoDeploy", val[S_AUTO_DEPLOY], &site->auto_deploy);
	if (!is_null(val[S_SERVE]))
		read_serve(v, site, val[S_SERVE]);
	if (!is_null(val[S_HISTORY]))
		want_int(v, "spec.revisionHistoryLimit", val[S_HISTORY], LP_SITE_HISTORY_MIN,
		         LP_SITE_HISTORY_MAX, &site->revision_history_limit);
	if (!is_null(val[S_DOMAINS]))
		read_domains(v, site, val[S_DOMAINS]);
	if (!is_null(val[S_PREVIEWS]))
		read_previews(v, site, val[S_PREVIEWS]);
	if (!is_null(val[S_RUN]))
		read_run(v, site, val[S_RUN]);
	check_serve_for_run(v, site, is_null(val[S_SERVE]) ? NULL : val[S_SERVE]);
}

static void want_constant(struct vctx *v, const char *path, const lp_node *root, const lp_node *n,
                          const char *expected)
{
	char *s;

	if (is_null(n)) {
		missing(v, "", root, path, n);
		return;
	}
	s = want_string(v, path, n, CONSTANT_READ_MAX);
	if (s != NULL && strcmp(s, expected) != 0)
		diag(v, path, n, "must be \"%s\" (got \"%s\")", expected, s);
	free(s);
}

/*
 * status is accepted and ignored (duplicate keys and all), but a manifest is text throughout: its
 * strings are held to the rule every other string is, no NUL and valid UTF-8, keys and values.
 */
static void check_ignored(struct vctx *v, const char *path, const lp_node *n)
{
	char p[LP_SPEC_DIAG_PATH_MAX], index[INDEX_TEXT_MAX];
	size_t i;

	if (n->kind == LP_NODE_SCALAR) {
		(void)text_ok(v, path, n); /* reported; status is not kept either way */
		return;
	}
	for (i = 0; i < n->n; i++) {
		if (n->kind == LP_NODE_SEQ) {
			lp_fmt_text(index, sizeof(index), "%zu", i);
			join(p, sizeof(p), path, index);
			check_ignored(v, p, n->items[i]);
			continue;
		}
		if (i % 2 == 1)
			continue;
		if (n->items[i]->kind != LP_NODE_SCALAR) {
			check_ignored(v, path, n->items[i]);
			check_ignored(v, path, n->items[i + 1]);
			continue;
		}
		if (key_is_text(v, path, n->items[i])) {
			join(p, sizeof(p), path, n->items[i]->str);
			check_ignored(v, p, n->items[i + 1]);
		}
	}
}

/* metadata: the name, and its node for the duplicate check across documents. */
static void read_metadata(struct vctx *v, lp_site *site, const lp_node **name_node,
                          const lp_node *meta)
{
	enum { M_NAME, M_N };
	static const char *const fields[M_N] = {[M_NAME] = "name"};
	const lp_node *val[M_N];

	if (!take_fields(v, meta, "metadata", fields, M_N, val))
		return;
	if (is_null(val[M_NAME]))
		missing(v, "metadata", meta, "name", val[M_NAME]);
	else
		site->name =
		    want_checked(v, "metadata.name", val[M_NAME], NAME_READ_MAX, rule_name, 0);
	if (name_node)
		*name_node = val[M_NAME];
}

int lp_spec_site_from_node(lp_site **out, const lp_node **name_node, const lp_node *root,
                           const lp_spec_options *opts, lp_spec_diags *diags)
{
	enum { R_API_VERSION, R_KIND, R_METADATA, R_SPEC, R_STATUS, R_N };
	static const char *const fields[R_N] = {[R_API_VERSION] = "apiVersion",
	                                        [R_KIND] = "kind",
	                                        [R_METADATA] = "metadata",
	                                        [R_SPEC] = "spec",
	                                        [R_STATUS] = "status"};
	struct vctx v = {.diags = diags,
	                 .allow_insecure = opts && opts->allow_insecure_sources,
	                 .allow_wildcard = opts && opts->allow_wildcard_domains};
	const lp_node *val[R_N];
	lp_site *site;
	int rc;

	*out = NULL;
	if (name_node)
		*name_node = NULL;
	site = calloc(1, sizeof(*site));
	if (site == NULL)
		return LP_ENOMEM;
	site->build_timeout_seconds = LP_SITE_DEFAULT_TIMEOUT;
	site->revision_history_limit = LP_SITE_DEFAULT_HISTORY;
	site->serve_replicas = LP_SITE_DEFAULT_REPLICAS;
	if (root->kind != LP_NODE_MAP) {
		diag(&v, "", root, "expected a mapping (a Site manifest), got %s",
		     lp_node_type_name(root));
	} else if (take_fields(&v, root, "", fields, R_N, val)) {
		want_constant(&v, "apiVersion", root, val[R_API_VERSION], LP_SPEC_API_VERSION);
		want_constant(&v, "kind", root, val[R_KIND], LP_SPEC_KIND);
		if (is_null(val[R_METADATA]))
			missing(&v, "", root, "metadata", val[R_METADATA]);
		else
			read_metadata(&v, site, name_node, val[R_METADATA]);
		if (is_null(val[R_SPEC]))
			missing(&v, "", root, "spec", val[R_SPEC]);
		else
			read_spec(&v, site, val[R_SPEC]);
		if (val[R_STATUS] != NULL)
			check_ignored(&v, "status", val[R_STATUS]);
	}
	rc = v.nomem ? LP_ENOMEM : v.errors ? LP_EINVAL : LP_OK;
	if (rc == LP_OK)
		*out = site;
	else
		lp_site_free(site);
	return rc;
}
