/* args.c: the CLI's small option parser (short and long options, values, positionals). */
#include <string.h>

#include "cli/cli_internal.h"

lp_cli_opt *lp_cli_opt_find(lp_cli_opt *opts, size_t nopts, const char *lname)
{
	size_t i;

	for (i = 0; i < nopts; i++)
		if (!strcmp(opts[i].lname, lname))
			return &opts[i];
	return NULL;
}

static lp_cli_opt *find_long(lp_cli_opt *opts, size_t nopts, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < nopts; i++)
		if (strlen(opts[i].lname) == len && !strncmp(opts[i].lname, name, len))
			return &opts[i];
	return NULL;
}

static lp_cli_opt *find_short(lp_cli_opt *opts, size_t nopts, char c)
{
	size_t i;

	for (i = 0; i < nopts; i++)
		if (opts[i].sname && opts[i].sname == c)
			return &opts[i];
	return NULL;
}

int lp_cli_args_parse(const char **out, size_t *out_n, lp_cli_opt *opts, size_t nopts, int argc,
                      char **argv, lp_error *err)
{
	size_t npos = 0;
	int i, only_pos = 0;

	*out_n = 0;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		lp_cli_opt *o = NULL;

		if (!only_pos && !strcmp(a, "--")) {
			only_pos = 1;
			continue;
		}
		if (only_pos || a[0] != '-' || a[1] == '\0') {
			if (npos == LP_CLI_MAX_POS)
				return lp_error_set(err, LP_EINVAL, "too many arguments");
			out[npos++] = a;
			continue;
		}
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);

			o = find_long(opts, nopts, a + 2, len);
			if (o == NULL)
				return lp_error_set(err, LP_EINVAL, "unknown flag \"%.*s\"",
				                    (int)(len + 2), a);
			if (eq && !o->has_arg)
				return lp_error_set(err, LP_EINVAL, "--%s takes no value",
				                    o->lname);
			val = eq ? eq + 1 : NULL;
		} else {
			const char flag = a[1];

			o = find_short(opts, nopts, flag);
			if (o == NULL)
				return lp_error_set(err, LP_EINVAL, "unknown flag \"-%c\"", flag);
			if (a[2] != '\0') {
				if (!o->has_arg)
					return lp_error_set(err, LP_EINVAL,
					                    "-%c takes no value (got \"%s\")", flag,
					                    a);
				val = a + 2 + (a[2] == '=');
			}
		}
		if (o->has_arg && val == NULL) {
			if (i + 1 >= argc)
				return lp_error_set(err, LP_EINVAL, "--%s needs a value", o->lname);
			val = argv[++i];
		}
		o->given++;
		o->value = val;
	}
	*out_n = npos;
	return LP_OK;
}
