/* conffile.c: ~/.config/launchpad/config (server, token) and its place under flags and variables.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_internal.h"
#include "launchpad/fs.h"

void lp_cli_file_config_release(lp_cli_file_config *fc)
{
	if (fc == NULL)
		return;
	free(fc->server);
	free(fc->token);
	fc->server = fc->token = NULL;
}

static char *trim(char *s, char *end)
{
	while (s < end && isspace((unsigned char)*s))
		s++;
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	return s;
}

int lp_cli_config_parse(lp_cli_file_config *out, const char *text, lp_error *err)
{
	lp_cli_file_config fc = {0};
	char *copy = strdup(text), *line, *next, *eq, *key, *val, **slot;
	int lineno = 0, rc = LP_OK;
	size_t vlen;

	memset(out, 0, sizeof(*out));
	if (copy == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	for (line = copy; line && rc == LP_OK; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		key = trim(line, line + strlen(line));
		if (*key == '\0' || *key == '#')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			rc = lp_error_set(err, LP_EINVAL, "line %d: expected key = value", lineno);
			break;
		}
		val = trim(eq + 1, eq + 1 + strlen(eq + 1));
		key = trim(key, eq);
		vlen = strlen(val);
		if (vlen >= 2 && (val[0] == '"' || val[0] == '\'') && val[vlen - 1] == val[0]) {
			val[vlen - 1] = '\0';
			val++;
		}
		if (!strcmp(key, "server"))
			slot = &fc.server;
		else if (!strcmp(key, "token"))
			slot = &fc.token;
		else {
			rc = lp_error_set(err, LP_EINVAL,
			                  "line %d: unknown key \"%s\" (known: server, token)",
			                  lineno, key);
			break;
		}
		free(*slot);
		if ((*slot = strdup(val)) == NULL)
			rc = lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	free(copy);
	if (rc == LP_OK)
		*out = fc;
	else
		lp_cli_file_config_release(&fc);
	return rc;
}

int lp_cli_config_format(char **out, const char *server, const char *token, lp_error *err)
{
	lp_buf b;
	int rc;

	*out = NULL;
	if (strpbrk(server, "\r\n") || (token && strpbrk(token, "\r\n")))
		return lp_error_set(err, LP_EINVAL, "server and token must be one line each");
	lp_buf_init(&b, LP_CLI_CONFIG_MAX);
	rc = lp_buf_printf(&b, "# written by `launchpad login`\nserver = %s\n", server);
	if (rc == LP_OK && token && *token)
		rc = lp_buf_printf(&b, "token = %s\n", token);
	if (rc == LP_OK)
		*out = lp_buf_detach(&b);
	else
		lp_error_set(err, rc, "the config is too large");
	lp_buf_release(&b);
	return rc;
}

char *lp_cli_config_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char *p = NULL;

	/* the XDG spec: a relative value is invalid and ignored */
	if (xdg && xdg[0] == '/') {
		if (asprintf(&p, "%s/launchpad/config", xdg) < 0)
			p = NULL;
	} else if (home && *home) {
		if (asprintf(&p, "%s/.config/launchpad/config", home) < 0)
			p = NULL;
	}
	return p;
}

int lp_cli_flag_given(int argc, char **argv, const char *name)
{
	size_t len = strlen(name);
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--"))
			break;
		if (!strncmp(a, "--", 2) && !strncmp(a + 2, name, len) &&
		    (a[2 + len] == '\0' || a[2 + len] == '='))
			return 1;
	}
	return 0;
}

static int set_str(char **slot, const char *v, lp_error *err)
{
	char *d = strdup(v);

	if (d == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	free(*slot);
	*slot = d;
	return LP_OK;
}

int lp_cli_config_merge(lp_config *cfg, const lp_cli_file_config *fc, int server_set, int token_set,
                        lp_error *err)
{
	int rc = LP_OK;

	if (!server_set && fc->server && *fc->server)
		rc = set_str(&cfg->server, fc->server, err);
	if (rc == LP_OK && !token_set && fc->token && *fc->token)
		rc = set_str(&cfg->token, fc->token, err);
	return rc;
}

static int env_set(const char *name)
{
	const char *v = getenv(name);

	return v && *v;
}

int lp_cli_config_load(lp_config *cfg, const char *path, int argc, char **argv, lp_error *err)
{
	lp_cli_file_config fc = {0};
	char *text = NULL;
	size_t len;
	int rc;

	if (path == NULL || !lp_fs_exists(path))
		return LP_OK;
	rc = lp_fs_read_file(&text, &len, path, LP_CLI_CONFIG_MAX, err);
	if (rc == LP_OK)
		rc = lp_cli_config_parse(&fc, text, err);
	if (rc == LP_OK)
		rc = lp_cli_config_merge(
		    cfg, &fc,
		    lp_cli_flag_given(argc, argv, "server") || env_set("LAUNCHPAD_SERVER"),
		    lp_cli_flag_given(argc, argv, "token") || env_set("LAUNCHPAD_TOKEN"), err);
	if (rc != LP_OK)
		lp_error_wrap(err, "%s", path);
	lp_cli_file_config_release(&fc);
	free(text);
	return rc;
}
