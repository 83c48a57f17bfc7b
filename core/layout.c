/* layout.c: every path of the data dir, and the table of a site's traces the gc walks. */
#include "launchpad/layout.h"

#include <string.h>

#include "launchpad/fmt.h"

static const char *const dir_names[] = {
    [LP_DIR_DB] = "db",
    [LP_DIR_UPLOADS] = "uploads",
    [LP_DIR_ARCHIVES] = "uploads/sha256",
    [LP_DIR_SITES] = "sites",
    [LP_DIR_CONF] = "conf",
    [LP_DIR_LOGS] = "logs",
    [LP_DIR_CACHE] = "cache",
    [LP_DIR_GIT_CACHE] = "cache/git",
    [LP_DIR_BUILD_CACHE] = "cache/build",
    [LP_DIR_WORK] = "work",
};

const lp_layout_site_entry lp_layout_site_entries[] = {
    {LP_DIR_SITES, "", 0},         {LP_DIR_CONF, ".nginx.conf", 0}, {LP_DIR_LOGS, "", 0},
    {LP_DIR_GIT_CACHE, ".git", 0}, {LP_DIR_BUILD_CACHE, "", 0},     {LP_DIR_WORK, NULL, 1},
};
const size_t lp_layout_nsite_entries =
    sizeof(lp_layout_site_entries) / sizeof(lp_layout_site_entries[0]);

static int result(int rc)
{
	return rc == LP_OK ? LP_OK : LP_ETOOBIG;
}

int lp_layout_dir_path(char *out, size_t outlen, const char *data_dir, lp_layout_dir dir)
{
	return result(lp_fmt(out, outlen, "%s/%s", data_dir, dir_names[dir]));
}

int lp_layout_db(char *out, size_t outlen, const char *data_dir)
{
	return result(lp_fmt(out, outlen, "%s/db/launchpad.db", data_dir));
}

int lp_layout_admin_token(char *out, size_t outlen, const char *data_dir)
{
	return result(lp_fmt(out, outlen, "%s/admin.token", data_dir));
}

int lp_layout_archive(char *out, size_t outlen, const char *data_dir, const char *hex,
                      const char *ext)
{
	return result(lp_fmt(out, outlen, "%s/uploads/sha256/%s.%s", data_dir, hex, ext));
}

int lp_layout_site(char *out, size_t outlen, const char *data_dir, const char *site)
{
	return result(lp_fmt(out, outlen, "%s/sites/%s", data_dir, site));
}

int lp_layout_drain_dir(char *out, size_t outlen, const char *data_dir, const char *site)
{
	return result(lp_fmt(out, outlen, "%s/sites/%s/" LP_LAYOUT_DRAIN_DIR, data_dir, site));
}

int lp_layout_drain_marker(char *out, size_t outlen, const char *data_dir, const char *site,
                           const char *hostname)
{
	return result(lp_fmt(out, outlen, "%s/sites/%s/" LP_LAYOUT_DRAIN_DIR "/%s", data_dir, site,
	                     hostname));
}

int lp_layout_rules_dir(char *out, size_t outlen, const char *data_dir, const char *site)
{
	return result(lp_fmt(out, outlen, "%s/sites/%s/" LP_LAYOUT_RULES_DIR, data_dir, site));
}

int lp_layout_rules(char *out, size_t outlen, const char *data_dir, const char *site, long revision)
{
	return result(lp_fmt(out, outlen, "%s/sites/%s/" LP_LAYOUT_RULES_DIR "/%ld.conf", data_dir,
	                     site, revision));
}

int lp_layout_conf(char *out, size_t outlen, const char *data_dir, const char *site)
{
	return result(lp_fmt(out, outlen, "%s/conf/%s.nginx.conf", data_dir, site));
}

int lp_layout_log_dir(char *out, size_t outlen, const char *data_dir, const char *site)
{
	return result(lp_fmt(out, outlen, "%s/logs/%s", data_dir, site));
}

int lp_layout_log(char *out, size_t outlen, const char *data_dir, const char *site, long revision)
{
	return result(lp_fmt(out, outlen, "%s/logs/%s/%ld.log", data_dir, site, revision));
}

int lp_layout_app_log(char *out, size_t outlen, const char *data_dir, const char *site)
{
	return result(lp_fmt(out, outlen, "%s/logs/%s/app.log", data_dir, site));
}

int lp_layout_probe(char *out, size_t outlen, const char *data_dir)
{
	return result(lp_fmt(out, outlen, "%s/bin/lp-probe", data_dir));
}

int lp_layout_git_cache(char *out, size_t outlen, const char *data_dir, const char *site)
{
	return result(lp_fmt(out, outlen, "%s/cache/git/%s.git", data_dir, site));
}

int lp_layout_build_cache(char *out, size_t outlen, const char *data_dir, const char *site)
{
	return result(lp_fmt(out, outlen, "%s/cache/build/%s", data_dir, site));
}

int lp_layout_work(char *out, size_t outlen, const char *data_dir, const char *site, long revision)
{
	return result(lp_fmt(out, outlen, "%s/work/%s-%ld", data_dir, site, revision));
}

int lp_layout_entry_site(char *out, size_t outlen, const lp_layout_site_entry *e, const char *entry)
{
	size_t len = strlen(entry), keep;

	if (outlen > 0)
		out[0] = '\0';
	if (len == 0 || entry[0] == '.')
		return LP_ENOTFOUND;
	if (e->numbered) {
		const char *dash = strrchr(entry, '-'), *p;
		if (dash == NULL || dash == entry || dash[1] == '\0')
			return LP_ENOTFOUND;
		for (p = dash + 1; *p; p++)
			if (*p < '0' || *p > '9')
				return LP_ENOTFOUND;
		keep = (size_t)(dash - entry);
	} else {
		size_t sl = strlen(e->suffix);
		if (len <= sl || strcmp(entry + len - sl, e->suffix) != 0)
			return LP_ENOTFOUND;
		keep = len - sl;
	}
	return result(lp_fmt(out, outlen, "%.*s", (int)keep, entry));
}

int lp_layout_entry_is_site(const lp_layout_site_entry *e, const char *entry, const char *site)
{
	char owner[LP_LAYOUT_SITE_MAX];

	return lp_layout_entry_site(owner, sizeof(owner), e, entry) == LP_OK &&
	       !strcmp(owner, site);
}
