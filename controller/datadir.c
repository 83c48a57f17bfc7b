/* datadir.c: the data dir's skeleton, and its ownership when the apiserver runs as another user. */
#include "controller/controller_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "launchpad/log.h"

#define COMPONENT "controller"

/* chown path to uid:gid when it exists and is not owned so already (an absent file is fine). */
static int own(const char *dir, const char *rel, unsigned uid, unsigned gid, lp_error *err)
{
	char path[LP_FS_PATH_MAX];
	struct stat st;

	if (lp_fmt(path, sizeof(path), "%s%s%s", dir, *rel ? "/" : "", rel) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "path under %s is too long", dir);
	if (lstat(path, &st) != 0 || S_ISLNK(st.st_mode) || (st.st_uid == uid && st.st_gid == gid))
		return LP_OK;
	if (lchown(path, uid, gid) != 0)
		return lp_error_set(err, LP_EIO, "chown %s to %u:%u: %s", path, uid, gid,
		                    strerror(errno));
	return LP_OK;
}

int lp_ctrl_prepare_data_dir(const lp_config *cfg, lp_error *err)
{
	/* What the apiserver writes: the store, uploads, and the admin token in the root. */
	static const char *const api_owned[] = {"",
	                                        "db",
	                                        "db/launchpad.db",
	                                        "db/launchpad.db-wal",
	                                        "db/launchpad.db-shm",
	                                        "uploads",
	                                        "admin.token"};
	char db[LP_FS_PATH_MAX], uploads[LP_FS_PATH_MAX];
	unsigned uid, gid;
	lp_store *st = NULL;
	size_t i;
	int rc;

	if (cfg->api_user == NULL || cfg->api_user[0] == '\0')
		return LP_OK;
	if (sscanf(cfg->api_user, "%u:%u", &uid, &gid) != 2)
		return lp_error_set(err, LP_EINVAL, "--api-user \"%s\" is not uid:gid",
		                    cfg->api_user);
	if (lp_fmt(db, sizeof(db), "%s/db", cfg->data_dir) != LP_OK ||
	    lp_fmt(uploads, sizeof(uploads), "%s/uploads", cfg->data_dir) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "data dir path is too long");
	if ((rc = lp_fs_mkdirs(db, 0700, err)) != LP_OK ||
	    (rc = lp_fs_mkdirs(uploads, 0750, err)) != LP_OK)
		return rc;
	/* Create the store now, so its files exist to be given away; SQLite, running as root,
	 * gives every later -wal/-shm file the database file's owner by itself. */
	if (lp_fmt(db, sizeof(db), "%s/db/launchpad.db", cfg->data_dir) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "data dir path is too long");
	if ((rc = lp_store_open(&st, db, err)) != LP_OK)
		return rc;
	lp_store_close(st);
	for (i = 0; i < sizeof(api_owned) / sizeof(api_owned[0]); i++)
		if ((rc = own(cfg->data_dir, api_owned[i], uid, gid, err)) != LP_OK)
			return rc;
	LP_INFO(COMPONENT, "data dir %s: store and uploads owned by the apiserver's %u:%u",
	        cfg->data_dir, uid, gid);
	return LP_OK;
}
