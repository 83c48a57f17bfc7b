/* logmask.c: masking secret values in build log text (see logmask.h). */
#include "pipeline/logmask.h"

#include <stdlib.h>
#include <string.h>

static int add_word(lp_logmask *m, const char *s, size_t len, lp_error *err)
{
	size_t i;

	if (len == 0)
		return LP_OK;
	for (i = 0; i < m->n; i++)
		if (m->lens[i] == len && !memcmp(m->words[i], s, len))
			return LP_OK;
	if (m->n == LP_LOGMASK_WORDS_MAX)
		return lp_error_set(err, LP_ETOOBIG, "more than %d secret lines to mask",
		                    LP_LOGMASK_WORDS_MAX);
	if ((m->words[m->n] = malloc(len + 1)) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	memcpy(m->words[m->n], s, len);
	m->words[m->n][len] = '\0';
	m->lens[m->n++] = len;
	if (len > m->longest)
		m->longest = len;
	return LP_OK;
}

int lp_logmask_init(lp_logmask *m, const lp_site *spec, lp_error *err)
{
	size_t i;
	int rc = LP_OK;

	memset(m, 0, sizeof(*m));
	for (i = 0; spec && i < spec->build_env_count && rc == LP_OK; i++) {
		const char *v = spec->build_env[i].value, *nl;

		if (!spec->build_env[i].secret || v == NULL)
			continue;
		/* the log is cut into lines: each line of a multi-line value is masked on its own
		 */
		while (rc == LP_OK && (nl = strchr(v, '\n')) != NULL) {
			size_t n = (size_t)(nl - v);

			rc = add_word(m, v, n && v[n - 1] == '\r' ? n - 1 : n, err);
			v = nl + 1;
		}
		if (rc == LP_OK)
			rc = add_word(m, v, strlen(v), err);
	}
	if (rc != LP_OK)
		lp_logmask_release(m);
	return rc;
}

void lp_logmask_release(lp_logmask *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		explicit_bzero(m->words[i], m->lens[i]);
		free(m->words[i]);
	}
	memset(m, 0, sizeof(*m));
}

/* The length of the longest word at text[0..len), 0 for none. */
static size_t match_at(const lp_logmask *m, const char *text, size_t len)
{
	size_t i, best = 0;

	for (i = 0; i < m->n; i++)
		if (m->lens[i] <= len && m->lens[i] > best && text[0] == m->words[i][0] &&
		    !memcmp(text, m->words[i], m->lens[i]))
			best = m->lens[i];
	return best;
}

size_t lp_logmask_apply(const lp_logmask *m, char *out, const char *text, size_t len)
{
	size_t i = 0, o = 0, w;

	while (i < len) {
		if (m->n && (w = match_at(m, text + i, len - i)) > 0) {
			memcpy(out + o, "***", 3);
			o += 3;
			i += w;
		} else {
			out[o++] = text[i++];
		}
	}
	out[o] = '\0';
	return o;
}

size_t lp_logmask_cut(const lp_logmask *m, const char *text, size_t len)
{
	size_t i = 0, w;

	if (m->n == 0 || m->longest <= 1 || len < m->longest)
		return len;
	/* a word that starts at i < len - longest + 1 ends within len */
	while (i < len - m->longest + 1) {
		w = match_at(m, text + i, len - i);
		i += w ? w : 1;
	}
	return i;
}

int lp_logmask_add(lp_logmask *m, const char *word, lp_error *err)
{
	return word ? add_word(m, word, strlen(word), err) : LP_OK;
}
