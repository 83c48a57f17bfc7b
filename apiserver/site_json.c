/*
 * site_json.c: the deployment object as JSON text, written straight into a buffer.
 *
 * Lists of 1,000 sites made the cJSON tree of every site (and the tree of its parsed spec) the
 * cost of the API: 57 requests/s and 180 MB resident for the seed's list. The text is written
 * here directly, byte for byte what cJSON_PrintUnformatted printed for that tree (the seed's
 * clients, and tests/integration/check_apiserver_list.c, compare the bytes): the same key order,
 * the same string escapes, the same number forms. The stored spec is canonical JSON
 * (lp_site_to_json prints it with cJSON_PrintUnformatted, and printing its parse gives the same
 * bytes), so it is copied as it is; its tree is only read for the seed's fields.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apiserver/apiserver_internal.h"
#include "launchpad/fmt.h"

/* What an object holds beside its spec and conditions: ids, names, URLs, times, status. */
#define API_SITE_JSON_SLACK 2048
/* "-9223372036854775808" and cJSON's %1.17g forms fit */
#define JW_NUM_MAX 32

/* A writer that remembers its first failure, so a field list reads as one. */
struct jw {
	lp_buf *b;
	int rc;
};

static void jw_raw(struct jw *w, const char *s, size_t n)
{
	lp_buf *b = w->b;

	/* Most pieces are a few bytes: copy them in place while the storage has room. */
	if (w->rc == LP_OK && b->data && b->cap - b->len > n) {
		memcpy(b->data + b->len, s, n);
		b->len += n;
		b->data[b->len] = '\0';
	} else if (w->rc == LP_OK) {
		w->rc = lp_buf_append(b, s, n);
	}
}

#define JW_LIT(w, lit) jw_raw((w), (lit), sizeof(lit) - 1)

/* A string's text as cJSON prints it: ", \ and control characters escaped, all else as it is. */
static void jw_esc(struct jw *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;
	char esc[6];

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		size_t n = 2;

		if (c >= 32 && c != '"' && c != '\\')
			continue;
		jw_raw(w, run, (size_t)(s - run));
		run = s + 1;
		esc[0] = '\\';
		switch (c) {
		case '"':
		case '\\':
			esc[1] = (char)c;
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
			break;
		}
		jw_raw(w, esc, n);
	}
	jw_raw(w, run, (size_t)(s - run));
}

/* A string as cJSON prints one. */
static void jw_str(struct jw *w, const char *s)
{
	JW_LIT(w, "\"");
	jw_esc(w, s);
	JW_LIT(w, "\"");
}

static void jw_str_or_null(struct jw *w, const char *s)
{
	if (s)
		jw_str(w, s);
	else
		JW_LIT(w, "null");
}

/* v's decimal digits into the end of out (JW_NUM_MAX bytes); returns where they start. */
static char *decimal(char out[JW_NUM_MAX], int64_t v)
{
	char *p = out + JW_NUM_MAX;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	return p;
}

/*
 * A number as cJSON prints a double made from it: an int when it fits one exactly, else %1.15g
 * when that reads back as the same double, else %1.17g. Counts and versions are ints in practice.
 */
static void jw_num(struct jw *w, int64_t v)
{
	char text[JW_NUM_MAX], *p;
	double d = (double)v, back = 0;
	int n;

	if (v >= INT_MIN && v <= INT_MAX) {
		p = decimal(text, v);
		jw_raw(w, p, (size_t)(text + sizeof(text) - p));
		return;
	}
	n = snprintf(text, sizeof(text), "%1.15g", d);
	if (sscanf(text, "%lg", &back) != 1 || back != d)
		n = snprintf(text, sizeof(text), "%1.17g", d);
	if (n <= 0 || (size_t)n >= sizeof(text)) {
		w->rc = w->rc == LP_OK ? LP_ERROR : w->rc;
		return;
	}
	jw_raw(w, text, (size_t)n);
}

/* Two digits of v (0..99) at p. */
static void two(char *p, int64_t v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

/*
 * What api_time_json makes of ms: "YYYY-MM-DDTHH:MM:SSZ" (UTC), or null for 0. The civil date
 * comes from the day count (Howard Hinnant's days_from_civil inverse): gmtime_r takes the time
 * zone lock on every call, a contended lock when 32 lists each format 2,000 times.
 */
static void jw_time(struct jw *w, int64_t ms)
{
	char text[sizeof("\"YYYY-MM-DDTHH:MM:SSZ\"")];
	int64_t secs = ms / 1000, z, era, doe, yoe, doy, mp, d, m, y, rem;

	if (ms <= 0) {
		JW_LIT(w, "null");
		return;
	}
	z = secs / 86400 + 719468;
	rem = secs % 86400;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = yoe + era * 400 + (m <= 2);
	if (y > 9999) { /* strftime's %Y would print more digits: so does the old path */
		char iso[API_TIME_MAX];
		time_t t = (time_t)secs;
		struct tm tm;

		if (gmtime_r(&t, &tm) == NULL ||
		    strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
			JW_LIT(w, "null");
		else
			jw_str(w, iso);
		return;
	}
	memcpy(text, "\"0000-00-00T00:00:00Z\"", sizeof(text));
	two(text + 1, y / 100);
	two(text + 3, y % 100);
	two(text + 6, m);
	two(text + 9, d);
	two(text + 12, rem / 3600);
	two(text + 15, rem / 60 % 60);
	two(text + 18, rem % 60);
	jw_raw(w, text, sizeof(text) - 1);
}

/* The phase shown to users: the controller's, unless it has not caught up with the spec yet. */
static const char *effective_phase(const lp_store_site *site, const lp_store_status *stt)
{
	if (site->deletion_timestamp)
		return "deleting";
	if (stt == NULL)
		return "pending";
	if (stt->phase == LP_PHASE_LIVE && (stt->observed_generation < site->generation ||
	                                    stt->current_revision != site->desired_revision))
		return "deploying";
	if (stt->phase == LP_PHASE_FAILED && stt->observed_generation < site->generation)
		return "deploying";
	return lp_store_phase_name(stt->phase);
}

/* The seed's three-valued status. */
static const char *seed_status(const char *phase)
{
	if (!strcmp(phase, "live"))
		return "live";
	if (!strcmp(phase, "failed"))
		return "failed";
	return "deploying";
}

/*
 * Reading the stored spec without building its tree: the canonical text is compact cJSON output,
 * so a value's bytes are found by walking its structure, and a string's bytes (quotes and escapes
 * included) are exactly what printing it again gives. A text whose structure does not hold
 * reads as no document at all (the object then carries "spec": null, as with an unparsable one).
 */
#define SPEC_DEPTH_MAX 64 /* canonical specs nest 5 deep; cJSON itself stops at 1000 */

/* The end of the string token at p ('"'), or NULL. */
static const char *skip_string(const char *p)
{
	for (p++; *p; p++) {
		if (*p == '\\') {
			if (*++p == '\0')
				return NULL;
		} else if (*p == '"') {
			return p + 1;
		}
	}
	return NULL;
}

/* The end of the value at p, or NULL when its structure is broken. */
static const char *skip_value(const char *p, int depth)
{
	char close;

	switch (*p) {
	case '"':
		return skip_string(p);
	case '{':
	case '[':
		if (depth >= SPEC_DEPTH_MAX)
			return NULL;
		close = *p == '{' ? '}' : ']';
		if (*++p == close)
			return p + 1;
		for (;;) {
			if (close == '}') {
				if (*p != '"' || (p = skip_string(p)) == NULL || *p++ != ':')
					return NULL;
			}
			if ((p = skip_value(p, depth + 1)) == NULL)
				return NULL;
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	case 't':
		return strncmp(p, "true", 4) ? NULL : p + 4;
	case 'f':
		return strncmp(p, "false", 5) ? NULL : p + 5;
	case 'n':
		return strncmp(p, "null", 4) ? NULL : p + 4;
	default:
		/* a number: what strtod would take, as cJSON reads one */
		if (*p != '-' && (*p < '0' || *p > '9'))
			return NULL;
		while ((*p >= '0' && *p <= '9') || *p == '-' || *p == '+' || *p == '.' ||
		       *p == 'e' || *p == 'E')
			p++;
		return p;
	}
}

/* A raw token of the document: p and its length; p NULL when absent. */
struct tok {
	const char *p;
	size_t n;
};

/*
 * The members keys[0..n) of the object token o into out[0..n) (absent tokens for the rest), in
 * one pass over it; the first of a key wins, as cJSON_GetObjectItem finds it.
 */
static void members(struct tok *out, struct tok o, const char *const *keys, size_t n)
{
	const char *p, *end;
	size_t i;

	memset(out, 0, n * sizeof(*out));
	if (o.p == NULL || *o.p != '{')
		return;
	for (p = o.p + 1; *p == '"';) {
		const char *k = p + 1;
		size_t klen;

		if ((end = skip_string(p)) == NULL || *end != ':')
			return;
		klen = (size_t)(end - 1 - k); /* the key's bytes, between its quotes */
		p = end + 1;
		if ((end = skip_value(p, 1)) == NULL)
			return;
		for (i = 0; i < n; i++)
			if (out[i].p == NULL && !strncmp(k, keys[i], klen) && keys[i][klen] == '\0')
				out[i] = (struct tok){p, (size_t)(end - p)};
		if (*end != ',')
			return;
		p = end + 1;
	}
}

/* One member of o. */
static struct tok member(struct tok o, const char *key)
{
	struct tok v;

	members(&v, o, &key, 1);
	return v;
}

static int is_str(struct tok t)
{
	return t.p && *t.p == '"';
}

/* A string token as it is (it prints back to itself), else fallback quoted, else null. */
static void jw_tok_str(struct jw *w, struct tok t, const char *fallback)
{
	if (is_str(t))
		jw_raw(w, t.p, t.n);
	else if (fallback)
		jw_str(w, fallback);
	else
		JW_LIT(w, "null");
}

/* The env object's members in document order: strings as they are, secrets as "***". */
static void env_vars(struct jw *w, struct tok env)
{
	const char *p, *end;
	int first = 1;

	JW_LIT(w, "{");
	for (p = env.p && *env.p == '{' ? env.p + 1 : ""; *p == '"';) {
		const char *k = p;
		size_t klen;

		if ((end = skip_string(p)) == NULL || *end != ':')
			break;
		klen = (size_t)(end - k);
		p = end + 1;
		if ((end = skip_value(p, 1)) == NULL)
			break;
		if (*p == '"' || *p == '{') {
			if (!first)
				JW_LIT(w, ",");
			first = 0;
			jw_raw(w, k, klen);
			JW_LIT(w, ":");
			/* an object is a secret's: never its value, nor its sealed text */
			if (*p == '"')
				jw_raw(w, p, (size_t)(end - p));
			else
				JW_LIT(w, "\"" LP_SECRET_MASK "\"");
		}
		if (*end != ',')
			break;
		p = end + 1;
	}
	JW_LIT(w, "}");
}

/*
 * One walk of an object: the tokens of its keys (the first of a key wins, as with members), the
 * value of key `nest` walked by `inner` rather than skipped.
 */
struct walk {
	const char *const *keys;
	size_t n;
	struct tok *out;
	size_t nest; /* n: none */
	const struct walk *inner;
};

/*
 * The end of the value at p, as skip_value finds it (NULL when its structure is broken), and
 * w's members of it when it is an object.
 */
static const char *walk_value(const struct walk *w, const char *p, int depth)
{
	const char *k, *end;
	size_t klen, i;

	memset(w->out, 0, w->n * sizeof(*w->out));
	if (*p != '{')
		return skip_value(p, depth);
	if (depth >= SPEC_DEPTH_MAX)
		return NULL;
	if (*++p == '}')
		return p + 1;
	for (;;) {
		if (*p != '"' || (end = skip_string(p)) == NULL || *end != ':')
			return NULL;
		k = p + 1;
		klen = (size_t)(end - 1 - k); /* the key's bytes, between its quotes */
		p = end + 1;
		for (i = 0; i < w->n; i++)
			if (w->out[i].p == NULL && !strncmp(k, w->keys[i], klen) &&
			    w->keys[i][klen] == '\0')
				break;
		end = i < w->n && i == w->nest ? walk_value(w->inner, p, depth + 1)
		                               : skip_value(p, depth + 1);
		if (end == NULL)
			return NULL;
		if (i < w->n)
			w->out[i] = (struct tok){p, (size_t)(end - p)};
		if (*end == '}')
			return end + 1;
		if (*end++ != ',')
			return NULL;
		p = end;
	}
}

/*
 * The stored spec document (doc.p NULL when its structure does not hold) and the members of its
 * "spec" the object shows, in one walk of the text: each walk (of every value in it) was a fifth
 * of a listed site's time, and finding the document's end, then "spec", then its members took
 * three.
 */
enum { SPEC_SOURCE, SPEC_BUILD, SPEC_AUTO_DEPLOY, SPEC_DOMAINS, SPEC_KEYS };

static void spec_walk(struct tok *doc, struct tok spec[SPEC_KEYS], const char *text)
{
	static const char *const spec_keys[SPEC_KEYS] = {"source", "build", "autoDeploy",
	                                                 "domains"};
	static const char *const doc_keys[] = {"spec"};
	struct tok top;
	const struct walk inner = {spec_keys, SPEC_KEYS, spec, SPEC_KEYS, NULL};
	const struct walk outer = {doc_keys, 1, &top, 0, &inner};
	const char *end;

	/* inner fills spec when the walk meets "spec" (the first of it), else they stay absent */
	memset(spec, 0, SPEC_KEYS * sizeof(*spec));
	/* as cJSON_Parse reads it: one value, whatever follows it */
	if ((end = walk_value(&outer, text, 0)) == NULL) {
		memset(spec, 0, SPEC_KEYS * sizeof(*spec));
		*doc = (struct tok){NULL, 0};
		return;
	}
	*doc = (struct tok){text, (size_t)(end - text)};
}

/* The seed's fields, read from the stored spec's members (absent tokens: unreadable). */
static void seed_fields(struct jw *w, const struct tok spec[SPEC_KEYS])
{
	static const char *const source_keys[] = {"git", "archive"};
	static const char *const git_keys[] = {"url", "branch"};
	static const char *const build_keys[] = {"command", "outputDir", "env"};
	struct tok source[2], git[2], build[3];

	members(source, spec[SPEC_SOURCE], source_keys, 2);
	members(git, source[0], git_keys, 2);
	members(build, spec[SPEC_BUILD], build_keys, 3);
	JW_LIT(w, ",\"source_type\":");
	jw_str(w, is_str(git[0]) ? "github" : "zip");
	JW_LIT(w, ",\"github_url\":");
	jw_tok_str(w, git[0], NULL);
	JW_LIT(w, ",\"branch\":");
	jw_tok_str(w, is_str(git[0]) ? git[1] : (struct tok){NULL, 0}, NULL);
	JW_LIT(w, ",\"archive_digest\":");
	jw_tok_str(w, member(source[1], "digest"), NULL);
	JW_LIT(w, ",\"build_cmd\":");
	jw_tok_str(w, build[0], "");
	JW_LIT(w, ",\"output_dir\":");
	jw_tok_str(w, build[1], ".");
	JW_LIT(w, ",\"env_vars\":");
	env_vars(w, build[2]);
	JW_LIT(w, ",\"auto_deploy\":");
	if (spec[SPEC_AUTO_DEPLOY].n == 4 && !memcmp(spec[SPEC_AUTO_DEPLOY].p, "true", 4))
		JW_LIT(w, "true");
	else
		JW_LIT(w, "false");
}

/*
 * Where a name stands in a URL made to be split (api_site_urls_init). A config text holding it
 * too shows as a second mark, and the writer then stays on lp_config's functions.
 */
#define URL_MARK  "\x01"
#define URL_OTHER "\x02" /* another name, to tell a fixed CNAME target from one with the name */

/* The text of url before and after its one URL_MARK into pre and post; 0 when it has none. */
static int split_at_mark(char pre[API_URL_MAX], size_t *pre_len, char post[API_URL_MAX],
                         size_t *post_len, const char *url)
{
	const char *at = strstr(url, URL_MARK);

	if (at == NULL || strstr(at + 1, URL_MARK) != NULL)
		return 0;
	*pre_len = (size_t)(at - url);
	memcpy(pre, url, *pre_len);
	pre[*pre_len] = '\0';
	*post_len = strlen(at + 1);
	memcpy(post, at + 1, *post_len + 1);
	return 1;
}

void api_site_urls_init(struct api_site_urls *out, const lp_config *cfg)
{
	char url[API_URL_MAX], other[API_URL_MAX];

	memset(out, 0, sizeof(*out));
	out->cfg = cfg;
	/* lp_config's functions make the URLs; they are only asked here, for the marks' */
	out->ok = lp_config_site_url(url, sizeof(url), cfg, URL_MARK, NULL) == LP_OK &&
	          split_at_mark(out->site_pre, &out->site_pre_len, out->site_post,
	                        &out->site_post_len, url) &&
	          api_webhook_url_prefix(out->hook_pre, sizeof(out->hook_pre), cfg) == LP_OK &&
	          lp_config_cname_target(url, sizeof(url), cfg, URL_MARK, NULL) == LP_OK &&
	          lp_config_cname_target(other, sizeof(other), cfg, URL_OTHER, NULL) == LP_OK;
	if (!out->ok)
		return;
	out->hook_pre_len = strlen(out->hook_pre);
	out->cname_fixed = !strcmp(url, other);
	if (out->cname_fixed) {
		out->cname_pre_len = strlen(url);
		memcpy(out->cname_pre, url, out->cname_pre_len + 1);
	} else {
		out->ok = split_at_mark(out->cname_pre, &out->cname_pre_len, out->cname_post,
		                        &out->cname_post_len, url);
	}
}

/*
 * pre + key + post as one JSON string, escaped as the whole would be; 0 (nothing written) when
 * the whole would not fit API_URL_MAX, where lp_fmt refuses it.
 */
static int jw_url(struct jw *w, const char *pre, size_t pre_len, const char *key, const char *post,
                  size_t post_len)
{
	if (pre_len + strlen(key) + post_len >= API_URL_MAX)
		return 0;
	JW_LIT(w, "\"");
	jw_esc(w, pre);
	jw_esc(w, key);
	jw_esc(w, post);
	JW_LIT(w, "\"");
	return 1;
}

/* The URLs of the object; null where one does not fit (as api_site_json did). */
static void urls(struct jw *w, const struct api_site_urls *u, const lp_store_site *site)
{
	char url[API_URL_MAX];

	JW_LIT(w, ",\"url\":");
	if (u->ok &&
	    jw_url(w, u->site_pre, u->site_pre_len, site->name, u->site_post, u->site_post_len))
		;
	else if (lp_config_site_url(url, sizeof(url), u->cfg, site->name, NULL) == LP_OK)
		jw_str(w, url);
	else
		JW_LIT(w, "null");
	JW_LIT(w, ",\"webhook_url\":");
	if (u->ok && jw_url(w, u->hook_pre, u->hook_pre_len, site->id, "", 0))
		;
	else if (api_webhook_url(url, sizeof(url), u->cfg, site) == LP_OK) /* it warns */
		jw_str(w, url);
	else
		JW_LIT(w, "null");
}

/*
 * The custom domains (spec.domains, [] for none: their string tokens as stored) and the host their
 * DNS CNAME points at, so the dashboard and the CLI can tell the user what to set.
 */
static void domains(struct jw *w, const struct api_site_urls *u, const lp_store_site *site,
                    struct tok list)
{
	char target[API_URL_MAX];
	const char *p, *end;
	int first = 1;

	JW_LIT(w, ",\"domains\":[");
	for (p = list.p && *list.p == '[' ? list.p + 1 : ""; *p && *p != ']'; p = end + 1) {
		if ((end = skip_value(p, 1)) == NULL)
			break;
		if (*p == '"') {
			if (!first)
				JW_LIT(w, ",");
			first = 0;
			jw_raw(w, p, (size_t)(end - p));
		}
		if (*end != ',')
			break;
	}
	JW_LIT(w, "],\"cname_target\":");
	if (u->ok && jw_url(w, u->cname_pre, u->cname_pre_len, u->cname_fixed ? "" : site->name,
	                    u->cname_post, u->cname_post_len))
		;
	else if (lp_config_cname_target(target, sizeof(target), u->cfg, site->name, NULL) == LP_OK)
		jw_str(w, target);
	else
		JW_LIT(w, "null");
}

/*
 * Status conditions as the controller stored them (compact cJSON text) when they read as a
 * value, else an empty array (what an unparsable text gave).
 */
static void conditions(struct jw *w, const lp_store_status *stt)
{
	const char *c = stt ? stt->conditions_json : NULL, *end = c ? skip_value(c, 0) : NULL;

	if (end)
		jw_raw(w, c, (size_t)(end - c));
	else
		JW_LIT(w, "[]");
}

/* A spec with a sealed secret in it (the stored form names "sealed" only for secrets). */
static int has_secret(struct tok doc)
{
	static const char key[] = "\"sealed\":";

	return memmem(doc.p, doc.n, key, sizeof(key) - 1) != NULL;
}

/*
 * The spec with every secret as {"value": "***", "secret": true}: the slow path (a parse and a
 * print), taken only for specs that hold a secret; "spec": null when even that fails, never the
 * stored text.
 */
static void redacted_spec(struct jw *w, struct tok doc)
{
	cJSON *tree = cJSON_ParseWithLength(doc.p, doc.n);
	char *text;

	api_redact_spec(tree);
	if (tree && (text = cJSON_PrintUnformatted(tree)) != NULL) {
		jw_raw(w, text, strlen(text));
		cJSON_free(text);
	} else {
		JW_LIT(w, "null");
	}
	cJSON_Delete(tree);
}

/*
 * A preview's owner by name (docs/previews.md): a preview is "<parent>--<...>" and no site the
 * API creates holds "--", so the name before the first "--" is the parent's, with no lookup per
 * row. null for a site of its own.
 */
static void parent(struct jw *w, const lp_store_site *site)
{
	const char *sep =
	    site->parent_id && *site->parent_id ? strstr(site->name, LP_CONFIG_NAME_SEP) : NULL;
	char name[LP_STORE_NAME_MAX + 1];

	JW_LIT(w, ",\"parent\":");
	if (sep == NULL || (size_t)(sep - site->name) >= sizeof(name) ||
	    lp_fmt(name, sizeof(name), "%.*s", (int)(sep - site->name), site->name) != LP_OK) {
		JW_LIT(w, "null");
		return;
	}
	jw_str(w, name);
}

int api_site_write(lp_buf *b, const struct api_site_urls *u, const lp_store_site *site,
                   const lp_store_status *stt)
{
	struct jw w = {b, LP_OK};
	const char *phase = effective_phase(site, stt);
	struct tok doc, spec[SPEC_KEYS];

	/* Room for all of it at once: the text is the spec, the conditions and ~1 KB around them.
	 */
	if (lp_buf_reserve(b, strlen(site->spec_json) + (stt ? strlen(stt->conditions_json) : 0) +
	                          API_SITE_JSON_SLACK) != LP_OK)
		return LP_ETOOBIG;
	spec_walk(&doc, spec, site->spec_json);

	JW_LIT(&w, "{\"id\":");
	jw_str(&w, site->id);
	JW_LIT(&w, ",\"slug\":");
	jw_str(&w, site->name);
	JW_LIT(&w, ",\"name\":");
	jw_str(&w, site->display_name && *site->display_name ? site->display_name : site->name);
	JW_LIT(&w, ",\"status\":");
	jw_str(&w, seed_status(phase));
	urls(&w, u, site);
	/*
	 * null, never the secret: it is shown in the create answer and on GET .../webhook only. The
	 * key stays so clients that validate the seed's shape (the dashboard's schema) still do.
	 */
	JW_LIT(&w, ",\"webhook_secret\":null");
	seed_fields(&w, spec);
	JW_LIT(&w, ",\"owner\":");
	jw_str(&w, site->owner ? site->owner : "");
	/* whether a private repository's credential is set: never the credential itself */
	if (site->git_credential && *site->git_credential)
		JW_LIT(&w, ",\"git_credential\":true");
	else
		JW_LIT(&w, ",\"git_credential\":false");
	JW_LIT(&w, ",\"created_at\":");
	jw_time(&w, site->created_at);
	JW_LIT(&w, ",\"updated_at\":");
	jw_time(&w, site->updated_at);
	JW_LIT(&w, ",\"phase\":");
	jw_str(&w, phase);
	JW_LIT(&w, ",\"generation\":");
	jw_num(&w, site->generation);
	JW_LIT(&w, ",\"observed_generation\":");
	jw_num(&w, stt ? stt->observed_generation : 0);
	JW_LIT(&w, ",\"current_revision\":");
	jw_num(&w, stt ? stt->current_revision : 0);
	JW_LIT(&w, ",\"desired_revision\":");
	jw_num(&w, site->desired_revision);
	JW_LIT(&w, ",\"resource_version\":");
	jw_num(&w, site->resource_version);
	JW_LIT(&w, ",\"message\":");
	jw_str_or_null(&w, stt ? stt->message : NULL);
	JW_LIT(&w, ",\"conditions\":");
	conditions(&w, stt);
	JW_LIT(&w, ",\"deletion_timestamp\":");
	jw_time(&w, site->deletion_timestamp);
	domains(&w, u, site, spec[SPEC_DOMAINS]);
	parent(&w, site);
	JW_LIT(&w, ",\"spec\":");
	if (doc.p && has_secret(doc))
		redacted_spec(&w, doc);
	else if (doc.p)
		jw_raw(&w, doc.p, doc.n);
	else
		JW_LIT(&w, "null");
	JW_LIT(&w, "}");
	return w.rc;
}

void api_reply_json_text(struct api_req *r, int status, lp_buf *json)
{
	size_t len = json->len;
	char *text = lp_buf_detach(json);
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);

	if (resp == NULL)
		free(text);
	else
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	api_reply_raw(r, status, resp, len);
}
