/*
 * cli_internal.h: the CLI's pure parts (argument parsing, the config file, AGE, tables, YAML
 * output) and the helpers its commands share (zip a folder, wait for a rollout).
 *
 * Strings handed back through char **out are malloc'd and belong to the caller (free()).
 * lp_cli_table owns its cells: lp_cli_table_release(). Nothing here keeps global state.
 */
#ifndef LAUNCHPAD_CLI_INTERNAL_H
#define LAUNCHPAD_CLI_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "cli/client.h"
#include "launchpad/buf.h"
#include "launchpad/config.h"
#include "launchpad/error.h"
#include "launchpad/spec.h"

/* ---- arguments ---- */

#define LP_CLI_MAX_POS 64

typedef struct lp_cli_opt {
	const char *lname; /* "output" for --output */
	char sname;        /* 'o' for -o; 0: none */
	int has_arg;       /* 1: takes a value (-o json, -ojson, --output json, --output=json) */
	/* filled by lp_cli_args_parse: */
	int given;         /* times seen */
	const char *value; /* the last value (borrowed from argv) */
} lp_cli_opt;

/*
 * Parse argv[1..argc-1] (argv[0] is the command) against opts. Other arguments are positional
 * (*out gets up to LP_CLI_MAX_POS of them, borrowed); "--" ends the options. An unknown option,
 * a missing value or too many positionals fail with LP_EINVAL and a message in err.
 */
int lp_cli_args_parse(const char **out, size_t *out_n, lp_cli_opt *opts, size_t nopts, int argc,
                      char **argv, lp_error *err) LP_MUST_CHECK;
/* The option named lname, or NULL. */
lp_cli_opt *lp_cli_opt_find(lp_cli_opt *opts, size_t nopts, const char *lname);

/* ---- manifests: what `apply -f` and `validate -f` read ---- */

#define LP_CLI_MANIFESTS_MAX  1000 /* files in one apply or validate */
#define LP_CLI_MANIFEST_DEPTH 16   /* directories -R descends */

typedef struct lp_cli_paths {
	char **items;
	size_t count;
} lp_cli_paths;

void lp_cli_paths_release(lp_cli_paths *p);

/* 1 for a name kubectl reads from a directory: *.yaml, *.yml, *.json, not a dot file. */
int lp_cli_is_manifest_name(const char *name);

/*
 * Append the files -f input names to out (kubectl's rule): "-" or a file as it is (whatever its
 * name); a directory's *.yaml, *.yml and *.json files, one level, in name order, dot entries
 * skipped; with recursive, its subdirectories' too, each in place in the name order. A directory
 * without any is LP_ENOTFOUND; err says which input.
 */
int lp_cli_manifest_paths(lp_cli_paths *out, const char *input, int recursive,
                          lp_error *err) LP_MUST_CHECK;

/*
 * Read and parse one manifest file (or stdin for "-") into *out (released by the caller with
 * lp_site_list_release). Problems go to stderr: FILE:LINE:COLUMN: path: message for the
 * manifest's own, "launchpad CMD: FILE: why" when it cannot be read.
 */
int lp_cli_manifest_load(lp_site_list *out, const char *cmd, const char *path,
                         const lp_spec_options *opts) LP_MUST_CHECK;

/* ---- the config file ---- */

#define LP_CLI_CONFIG_MAX ((size_t)64 << 10)

typedef struct lp_cli_file_config {
	char *server; /* NULL: not in the file */
	char *token;
} lp_cli_file_config;

void lp_cli_file_config_release(lp_cli_file_config *fc);

/*
 * Parse `key = value` lines (blank lines and # comments ignored; values may be quoted with "" or
 * ''). Keys: server, token. An unknown key or a line without '=' fails with LP_EINVAL naming the
 * line number.
 */
int lp_cli_config_parse(lp_cli_file_config *out, const char *text, lp_error *err) LP_MUST_CHECK;
/* The text written by `login`. */
int lp_cli_config_format(char **out, const char *server, const char *token,
                         lp_error *err) LP_MUST_CHECK;
/* $XDG_CONFIG_HOME/launchpad/config, else $HOME/.config/launchpad/config; NULL when neither. */
char *lp_cli_config_path(void);
/* 1 when argv carries --name or --name=... before a "--". */
int lp_cli_flag_given(int argc, char **argv, const char *name);
/*
 * The file layer: cfg->server / cfg->token take the file's values unless the flag or the
 * variable set them (server_set / token_set). A flag or variable always wins over the file.
 */
int lp_cli_config_merge(lp_config *cfg, const lp_cli_file_config *fc, int server_set, int token_set,
                        lp_error *err) LP_MUST_CHECK;
/* Read the file at path (missing is fine) and merge it (argv decides what was set by flags). */
int lp_cli_config_load(lp_config *cfg, const char *path, int argc, char **argv,
                       lp_error *err) LP_MUST_CHECK;

/* ---- formatting ---- */

#define LP_CLI_AGE_MAX 32 /* an AGE's buffer, NUL included */

/*
 * kubectl's AGE into out: 5s, 3m, 2h, 4d, 2y ("<unknown>" for a negative input). LP_ETOOBIG
 * (out "") when n is too small; LP_CLI_AGE_MAX always fits.
 */
int lp_cli_age(char *out, size_t n, int64_t seconds) LP_MUST_CHECK;
/* "2026-11-25T21:58:11Z" → seconds since the epoch; -1 when it does not parse. */
int64_t lp_cli_parse_time(const char *iso);

#define LP_CLI_TABLE_MAX_COLS 16
#define LP_CLI_TABLE_MAX_ROWS 100000
#define LP_CLI_CELL_MAX       256

typedef struct lp_cli_table {
	size_t ncols;
	size_t nrows; /* header included */
	char **cells; /* nrows * ncols */
	size_t cap;
	/* a column is at least this wide (0: as wide as its cells): a watch's lines stay aligned */
	size_t min_width[LP_CLI_TABLE_MAX_COLS];
} lp_cli_table;

void lp_cli_table_init(lp_cli_table *t, size_t ncols);
/* Append a row of ncols strings (NULL prints as ""); each cell is cut to LP_CLI_CELL_MAX bytes. */
int lp_cli_table_add(lp_cli_table *t, const char *const *row) LP_MUST_CHECK;
/* Left-aligned columns separated by 3 spaces, no trailing blanks, one line per row. */
int lp_cli_table_render(lp_buf *out, const lp_cli_table *t) LP_MUST_CHECK;
/* The width of each column as lp_cli_table_render lays it out, into out[0..ncols). */
void lp_cli_table_widths(const lp_cli_table *t, size_t *out);
void lp_cli_table_release(lp_cli_table *t);

/* A JSON value as block YAML (strings double-quoted when needed; {} and [] when empty). */
int lp_cli_json_to_yaml(lp_buf *out, const cJSON *v) LP_MUST_CHECK;

/* The `get sites` table for an array of deployment objects (wide adds 3 columns). */
int lp_cli_sites_table(lp_buf *out, const cJSON *sites, int wide, int64_t now) LP_MUST_CHECK;
/*
 * The `get revisions` table for an array of revision objects: REVISION STATE TRIGGER SOURCE AGE
 * CURRENT DESIRED (wide adds DURATION and the message's first line).
 */
int lp_cli_revisions_table(lp_buf *out, const cJSON *revisions, int wide,
                           int64_t now) LP_MUST_CHECK;
/* Deployment objects as their manifests, one YAML document each ("---" between them). */
int lp_cli_manifests_yaml(lp_buf *out, const cJSON *sites) LP_MUST_CHECK;
/* Print v to stdout as "json" (pretty) or "yaml". */
int lp_cli_print_value(const cJSON *v, const char *format) LP_MUST_CHECK;

/* ---- output formats (-o) ---- */

/*
 * A kubectl-style JSONPath template applied to v, appended to out: literal text, and inside
 * braces {.field}, {.a.b}, {.items[*].field}, [N], {.} (v itself) or a string {"\n"} (escapes
 * \n \t \" \\). Several values selected ([*]) are separated by a space; strings print as they
 * are, null and missing fields as nothing, objects and arrays as compact JSON. v NULL (and out
 * NULL) only checks the template. A bad template is LP_EINVAL, err naming the 1-based column:
 * "jsonpath: column 8: expected a field name after '.'".
 */
int lp_cli_jsonpath(lp_buf *out, const char *tmpl, const cJSON *v, lp_error *err) LP_MUST_CHECK;

typedef enum lp_cli_format {
	LP_CLI_FORMAT_TABLE = 0,
	LP_CLI_FORMAT_WIDE,
	LP_CLI_FORMAT_JSON,
	LP_CLI_FORMAT_YAML,
	LP_CLI_FORMAT_NAME,
	LP_CLI_FORMAT_JSONPATH
} lp_cli_format;

typedef struct lp_cli_output {
	lp_cli_format format;
	const char *tmpl; /* LP_CLI_FORMAT_JSONPATH: the template (borrowed from the flag) */
} lp_cli_output;

/*
 * -o VALUE: wide, json, yaml, name or jsonpath=TEMPLATE (the template checked here, so a bad one
 * fails before any request). LP_EINVAL with err saying what is expected.
 */
int lp_cli_output_parse(lp_cli_output *out, const char *value, lp_error *err) LP_MUST_CHECK;
/* Say why -o was refused: the message, for a template its text with a caret at the column. */
void lp_cli_output_error(const char *cmd, const lp_cli_output *out, const lp_error *err);

/*
 * The manifest of a deployment object, the one `apply -f` takes back unchanged: apiVersion,
 * kind, metadata {name: the slug} and spec (the stored manifest's spec). *out is the caller's
 * (cJSON_Delete); LP_EINVAL when the object has no spec.
 */
int lp_cli_site_manifest(cJSON **out, const cJSON *site) LP_MUST_CHECK;

/* ---- status and open ---- */

/* "3 (2 live, 1 failed)" for an array of deployment objects, by phase; "none" for none. */
int lp_cli_site_counts(char *out, size_t n, const cJSON *sites) LP_MUST_CHECK;
/* The path of program name on $PATH (default /usr/bin:/bin) into out; LP_ENOTFOUND, out "". */
int lp_cli_find_program(char *out, size_t n, const char *name) LP_MUST_CHECK;

/* ---- shared command helpers ---- */

/* The client for cfg (server and token). */
lp_cli_client lp_cli_client_of(const lp_config *cfg);

/* A usage error: the problem, then the help on stderr; returns LP_EXIT_USAGE. */
int lp_cli_usage_error(const char *cmd, const char *help, const char *problem);

/* Print a transport error (already naming the URL) and return LP_EXIT_FAILED. */
int lp_cli_fail(const char *cmd, const lp_error *err);

/*
 * GET /api/deployments/<name>: *out gets the object (caller cJSON_Delete()s it). On an API error
 * or a transport error it prints the message and returns non-LP_OK.
 */
int lp_cli_get_site(cJSON **out, const lp_config *cfg, const char *cmd,
                    const char *name) LP_MUST_CHECK;

/*
 * One row of a list table from one element of the API's array: row[0..ncols) may point into e
 * or into scratch (scratchlen bytes, the row's own). LP_OK, or an error code (the table fails).
 */
typedef int (*lp_cli_row_fn)(const char **row, char *scratch, size_t scratchlen, const cJSON *e);
#define LP_CLI_ROW_SCRATCH 64

/*
 * GET path (an array of objects) and print it as an aligned table under head (ncols columns,
 * at most LP_CLI_TABLE_COLS_MAX), a row per element through row. An API or transport error is
 * printed; returns an LP_EXIT_* code.
 */
#define LP_CLI_TABLE_COLS_MAX 8
int lp_cli_list_print(const lp_config *cfg, const char *cmd, const char *path,
                      const char *const *head, size_t ncols, lp_cli_row_fn row);

/* A string member, or def when absent/not a string. */
const char *lp_cli_str(const cJSON *o, const char *key, const char *def);
/* A number member as int64, or def. */
int64_t lp_cli_num(const cJSON *o, const char *key, int64_t def);

/* ---- waiting for a rollout (wait.c) ---- */

/*
 * Poll GET /api/deployments/<name> every second until the rollout is live or failed, or
 * timeout_s passes, while the desired revision's build log is followed in the background. On a
 * terminal (stderr) one line is rewritten: spinner, status, time waited and the newest log line's
 * message, fitted to the width; otherwise the status is printed when it changes and every log
 * line as it comes ("site/NAME | text"). A failure is said once, with the build's last lines.
 * Returns LP_EXIT_OK when live, LP_EXIT_TIMEOUT when timeout_s passed first, else
 * LP_EXIT_FAILED.
 */
int lp_cli_wait(const lp_config *cfg, const char *cmd, const char *name, int timeout_s);

#define LP_CLI_LOG_LINE_MAX 512 /* the head of a log line kept for the progress line */

/*
 * The message of a build-log line: what follows its leading ISO timestamp and one space
 * ("2026-12-01T16:33:09.412Z npm ci" -> "npm ci"); the line itself when it has none. Borrowed
 * from line.
 */
const char *lp_cli_log_text(const char *line);

/*
 * s as it may show on a terminal, into out (n bytes): ANSI escape sequences removed, control
 * characters as spaces, at most cols columns (one per code point), cut at a character boundary
 * and ended with "..." when it does not fit. Returns the columns used.
 */
size_t lp_cli_fit(char *out, size_t n, const char *s, int cols);

/* What the progress line shows. */
typedef struct lp_cli_progress {
	const char *name;
	const char *phase;
	int64_t desired;
	int64_t current;
	const char *state; /* the desired revision's, "" when unknown */
	int64_t elapsed_s; /* < 0: not shown */
	int spin;          /* the spinner's frame; < 0: no spinner */
	const char *log;   /* the newest log line as received, or "" */
} lp_cli_progress;

/* "site/NAME: PHASE, revision N STATE (serving M)"; LP_ETOOBIG when cut to n bytes. */
int lp_cli_progress_status(char *out, size_t n, const lp_cli_progress *p) LP_MUST_CHECK;
/*
 * The terminal's line: "- site/NAME: deploying, revision 3 building (serving 2), 12s | MESSAGE"
 * in at most cols columns: the status is kept first, the log line's message (its timestamp
 * stripped) gets the room left, or is left out when that is under 10 columns.
 */
void lp_cli_progress_line(char *out, size_t n, const lp_cli_progress *p, int cols);

/*
 * What --wait says when the desired revision failed, into out:
 *   launchpad CMD: site/NAME failed: revision 2 failed: build exited with code 3
 *     last lines of the build output:
 *       about to fail
 * site_msg is the site's message (the controller's "revision N failed: WHY; last lines:\n..."),
 * said once: the revision is named only when the message does not. The build's last lines come
 * from it, else from rev_msg (the revision's own message, may be NULL), else log (the newest log
 * lines, oldest first) is shown as "last lines of the log".
 */
int lp_cli_failure_report(lp_buf *out, const char *cmd, const char *name, int64_t revision,
                          const char *site_msg, const char *rev_msg, const char *const *log,
                          size_t nlog) LP_MUST_CHECK;

/* A revision's state ("building", "ready"...) with room to spare, NUL included. */
#define LP_CLI_STATE_MAX 32

/* The tail of a site path for one revision's log: "/logs?revision=" and an int64. */
#define LP_CLI_LOGS_TAIL_MAX 48

/* Parse a duration "600", "90s", "10m", "1h" into seconds; -1 when invalid. */
int lp_cli_parse_duration(const char *s);

/*
 * Zip dir (regular files and directories only, .git skipped, sorted, stable timestamps) into
 * zip_path. *out_files counts the files written. Caps: LP_CLI_ZIP_MAX_FILES entries,
 * LP_CLI_ZIP_MAX_BYTES total.
 */
#define LP_CLI_ZIP_MAX_FILES 100000
#define LP_CLI_ZIP_MAX_BYTES ((int64_t)2 << 30)
int lp_cli_zip_dir(size_t *out_files, const char *dir, const char *zip_path,
                   lp_error *err) LP_MUST_CHECK;

/*
 * *out: 1 when the zip or tar(.gz) at archive_path has index.html at the top as the server will
 * lay it out: after its lone-top-folder strip (every entry under one folder and no file beside
 * it: that folder is the root), with __MACOSX/ and .DS_Store dropped. Without it the site answers
 * 404 at /.
 */
int lp_cli_archive_has_index(int *out, const char *archive_path, lp_error *err) LP_MUST_CHECK;

#endif
