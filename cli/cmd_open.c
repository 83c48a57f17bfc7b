/* cmd_open.c: `launchpad open NAME [--browser]`: a site's URL, or the site in a browser. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/cli_internal.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"

#define OPENER "xdg-open"

const char lp_cli_open_help[] =
    "usage: launchpad open NAME [--browser]\n"
    "\n"
    "Print the site's URL (the one its routes answer at). With --browser, also open it with\n"
    "xdg-open when that is on the PATH; without it, say so.\n"
    "\n"
    "      --browser   open the URL with xdg-open\n"
    "  -h, --help      this help\n"
    "\n"
    "examples:\n"
    "  launchpad open blog\n"
    "  launchpad open blog --browser\n"
    "  curl -s \"$(launchpad open blog)\"\n"
    "\n"
    "Global flags: --server, --token, --log-level (see launchpad --help).\n"
    "exit codes: 0 ok, 1 failure (no such site, server unreachable, no xdg-open or it\n"
    "failed), 2 bad usage\n";

int lp_cli_find_program(char *out, size_t n, const char *name)
{
	const char *path = getenv("PATH"), *p, *colon;
	size_t len;

	for (p = path && *path ? path : "/usr/bin:/bin"; *p; p = colon ? colon + 1 : p + len) {
		colon = strchr(p, ':');
		len = colon ? (size_t)(colon - p) : strlen(p);
		/* an empty entry is the current directory: not where a program is looked for here
		 */
		if (len && lp_fmt(out, n, "%.*s/%s", (int)len, p, name) == LP_OK &&
		    access(out, X_OK) == 0)
			return LP_OK;
		if (colon == NULL)
			break;
	}
	if (n)
		out[0] = '\0';
	return LP_ENOTFOUND;
}

/* Run the opener on url, its output out of the way of ours; its exit status, or -1. */
static int run_opener(const char *prog, const char *url)
{
	int status = 0, fd;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		fd = open("/dev/null", O_WRONLY);
		if (fd >= 0)
			dup2(fd, STDOUT_FILENO);
		execl(prog, prog, url, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

int lp_cli_open(int argc, char **argv, const lp_config *cfg)
{
	lp_cli_opt opts[] = {{"browser", 0, 0, 0, NULL}, {"help", 'h', 0, 0, NULL}};
	const char *pos[LP_CLI_MAX_POS], *url;
	char prog[LP_FS_PATH_MAX];
	size_t npos = 0;
	int ex = LP_EXIT_FAILED, st;
	cJSON *site = NULL;

	if (!lp_cli_parse_or_help(&ex, pos, &npos, opts, 2, argc, argv, lp_cli_open_help))
		return ex;
	if (npos == 2 && (!strcmp(pos[0], "site") || !strcmp(pos[0], "sites")))
		pos[0] = pos[1];
	else if (npos != 1)
		return lp_cli_usage_error("open", lp_cli_open_help, "expected: open NAME");
	if (lp_cli_get_site(&site, cfg, "open", pos[0]) != LP_OK)
		return LP_EXIT_FAILED;
	url = lp_cli_str(site, "url", "");
	if (*url == '\0') {
		fprintf(stderr, "launchpad open: site/%s has no URL\n", pos[0]);
		goto done;
	}
	printf("%s\n", url);
	fflush(stdout);
	ex = LP_EXIT_OK;
	if (!opts[0].given)
		goto done;
	if (lp_cli_find_program(prog, sizeof(prog), OPENER) != LP_OK) {
		fprintf(stderr,
		        "launchpad open: %s is not on the PATH: open the URL in a browser\n",
		        OPENER);
		ex = LP_EXIT_FAILED;
	} else if ((st = run_opener(prog, url)) != 0) {
		fprintf(stderr, "launchpad open: %s %s failed (exit %d)\n", prog, url, st);
		ex = LP_EXIT_FAILED;
	}
done:
	cJSON_Delete(site);
	return ex;
}
