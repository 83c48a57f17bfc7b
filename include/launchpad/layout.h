/*
 * layout.h: the data dir's layout, the on-disk contract between the apiserver and the controller.
 *
 *   db/launchpad.db               the store (SQLite, WAL)
 *   admin.token                   the first admin token (mode 0600)
 *   uploads/sha256/<hex>.<ext>    uploaded archives, content-addressed (ext: zip, tar.gz)
 *   uploads/.upload-*             an upload being received (temp, renamed when complete)
 *   sites/<name>/revisions/<n>/   the published, immutable revision n
 *   sites/<name>/current          relative symlink to revisions/<n>
 *   sites/<name>/.launchpad-rules/<n>.conf   revision n's serve config (its rules), validated
 *   sites/<name>/.launchpad-rules/current.conf   relative symlink to the live one
 *   conf/<name>.nginx.conf        the generated serve config (never inside the served tree)
 *   logs/<name>/<n>.log           the build and deploy log of revision n
 *   logs/<name>/app.log           a dynamic app's stdout and stderr (bounded; app.log.1 the
 *                                 previous part), written by the controller only
 *   bin/lp-probe                  the static health probe bound into app containers
 *   cache/git/<name>.git          the bare Git mirror
 *   cache/build/<name>/           the dependency cache mounted into build containers
 *   work/<name>-<n>/              the build workspace of revision n
 *
 * Every path is built here and nowhere else. Each function writes into out (outlen bytes;
 * LP_FS_PATH_MAX fits any path of a data dir that fits) and returns LP_OK, or LP_ETOOBIG with out
 * set to "". Site names must already be valid (lp_spec_check_name): no path is checked here.
 * Nothing is allocated.
 */
#ifndef LAUNCHPAD_LAYOUT_H
#define LAUNCHPAD_LAYOUT_H

#include <stddef.h>

#include "launchpad/error.h"

/*
 * sites/<name>/.launchpad-drain/<hostname>: a serve container draining before it stops (its
 * health check answers 503; see controller/nginx_conf.h). Inside the site directory the serve
 * container binds, outside the served tree (current/).
 */
#define LP_LAYOUT_DRAIN_DIR ".launchpad-drain"

/*
 * sites/<name>/.launchpad-rules/: each revision's generated nginx config (its _redirects and
 * _headers), beside the served tree like the drain markers; current.conf -> <n>.conf is what the
 * serve container's nginx includes (controller/revconf.c).
 */
#define LP_LAYOUT_RULES_DIR     ".launchpad-rules"
#define LP_LAYOUT_RULES_CURRENT "current.conf"

/* The folders of the data dir. */
typedef enum lp_layout_dir {
	LP_DIR_DB,
	LP_DIR_UPLOADS,
	LP_DIR_ARCHIVES, /* uploads/sha256 */
	LP_DIR_SITES,
	LP_DIR_CONF,
	LP_DIR_LOGS,
	LP_DIR_CACHE,
	LP_DIR_GIT_CACHE,
	LP_DIR_BUILD_CACHE,
	LP_DIR_WORK,
} lp_layout_dir;

/* Room for a site name taken from an entry (names are at most 63 characters). */
#define LP_LAYOUT_SITE_MAX 256

/* The temp name prefix of an upload being received, inside LP_DIR_UPLOADS. */
#define LP_LAYOUT_UPLOAD_TMP_PREFIX ".upload-"

int lp_layout_dir_path(char *out, size_t outlen, const char *data_dir,
                       lp_layout_dir dir) LP_MUST_CHECK;
int lp_layout_db(char *out, size_t outlen, const char *data_dir) LP_MUST_CHECK;
int lp_layout_admin_token(char *out, size_t outlen, const char *data_dir) LP_MUST_CHECK;
/* uploads/sha256/<hex>.<ext> */
int lp_layout_archive(char *out, size_t outlen, const char *data_dir, const char *hex,
                      const char *ext) LP_MUST_CHECK;
/* sites/<name> (what the serve container binds; publish works inside it) */
int lp_layout_site(char *out, size_t outlen, const char *data_dir, const char *site) LP_MUST_CHECK;
/* conf/<name>.nginx.conf */
int lp_layout_conf(char *out, size_t outlen, const char *data_dir, const char *site) LP_MUST_CHECK;
/* logs/<name> and logs/<name>/<n>.log */
int lp_layout_log_dir(char *out, size_t outlen, const char *data_dir,
                      const char *site) LP_MUST_CHECK;
int lp_layout_log(char *out, size_t outlen, const char *data_dir, const char *site,
                  long revision) LP_MUST_CHECK;
/* sites/<name>/.launchpad-drain and its marker for one container hostname */
/* logs/<name>/app.log, and bin/lp-probe (controller/apps.c owns both) */
int lp_layout_app_log(char *out, size_t outlen, const char *data_dir,
                      const char *site) LP_MUST_CHECK;
int lp_layout_probe(char *out, size_t outlen, const char *data_dir) LP_MUST_CHECK;
int lp_layout_drain_dir(char *out, size_t outlen, const char *data_dir,
                        const char *site) LP_MUST_CHECK;
int lp_layout_rules_dir(char *out, size_t outlen, const char *data_dir,
                        const char *site) LP_MUST_CHECK;
/* sites/<name>/.launchpad-rules/<n>.conf */
int lp_layout_rules(char *out, size_t outlen, const char *data_dir, const char *site,
                    long revision) LP_MUST_CHECK;
int lp_layout_drain_marker(char *out, size_t outlen, const char *data_dir, const char *site,
                           const char *hostname) LP_MUST_CHECK;
/* cache/git/<name>.git, cache/build/<name> */
int lp_layout_git_cache(char *out, size_t outlen, const char *data_dir,
                        const char *site) LP_MUST_CHECK;
int lp_layout_build_cache(char *out, size_t outlen, const char *data_dir,
                          const char *site) LP_MUST_CHECK;
/* work/<name>-<n> */
int lp_layout_work(char *out, size_t outlen, const char *data_dir, const char *site,
                   long revision) LP_MUST_CHECK;

/*
 * The per-site entries of the data dir, the garbage collector's table: a site's trace in dir is
 * the entry "<name><suffix>", or with numbered set "<name>-<n>" for any n (work dirs).
 */
typedef struct lp_layout_site_entry {
	lp_layout_dir dir;
	const char *suffix;
	int numbered;
} lp_layout_site_entry;

extern const lp_layout_site_entry lp_layout_site_entries[];
extern const size_t lp_layout_nsite_entries;

/*
 * The site an entry name of e->dir belongs to, into out (outlen bytes): "blog" for "blog.git" in
 * the Git cache, "app-v2" for "app-v2-3" in work/. LP_ENOTFOUND when the name is not shaped like
 * one of e's entries (hidden and temp files included); the name is not checked for validity.
 */
int lp_layout_entry_site(char *out, size_t outlen, const lp_layout_site_entry *e,
                         const char *entry) LP_MUST_CHECK;

/* 1 when entry (a name in e->dir) is a trace of site: exact, so "app" never claims "app-v2-3". */
int lp_layout_entry_is_site(const lp_layout_site_entry *e, const char *entry, const char *site);

#endif
