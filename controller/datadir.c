/* datadir.c: the data dir's skeleton, and its ownership when the apiserver runs as another user. */
#include "controller/datadir.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "launchpad/layout.h"
#include "launchpad/log.h"
#include "launchpad/store.h"

#define COMPONENT "controller"
/* The data dir, db/, the store and its -wal and -shm, uploads/, admin.token. */
#define API_OWNED_PATHS 7

/* chown path to uid:gid when it exists and is not owned so already (an absent file is fine). */
static int own(const char *path, unsigned uid, unsigned gid, lp_error *err)
{
	struct stat st;

	if (lstat(path, &st) != 0 || S_ISLNK(st.st_mode) || (st.st_uid == uid && st.st_gid == gid))
		return LP_OK;
	if (lchown(path, uid, gid) != 0)
		return lp_error_set(err, LP_EIO, "chown %s to %u:%u: %s", path, uid, gid,
		                    strerror(errno));
	return LP_OK;
}

int lp_datadir_prepare(const lp_config *cfg, lp_error *err)
{
	/* What the apiserver writes: the store, uploads, and the admin token in the root. */
	char paths[API_OWNED_PATHS][LP_FS_PATH_MAX];
	const char *d = cfg->data_dir;
	unsigned uid, gid;
	lp_store *st = NULL;
	size_t i;
	int rc;

	if (cfg->api_user == NULL || cfg->api_user[0] == '\0')
		return LP_OK;
	if (sscanf(cfg->api_user, "%u:%u", &uid, &gid) != 2)
		return lp_error_set(err, LP_EINVAL, "--api-user \"%s\" is not uid:gid",
		                    cfg->api_user);
	if (lp_fmt(paths[0], sizeof(paths[0]), "%s", d) != LP_OK ||
	    lp_layout_dir_path(paths[1], sizeof(paths[1]), d, LP_DIR_DB) != LP_OK ||
	    lp_layout_db(paths[2], sizeof(paths[2]), d) != LP_OK ||
	    lp_fmt(paths[3], sizeof(paths[3]), "%s-wal", paths[2]) != LP_OK ||
	    lp_fmt(paths[4], sizeof(paths[4]), "%s-shm", paths[2]) != LP_OK ||
	    lp_layout_dir_path(paths[5], sizeof(paths[5]), d, LP_DIR_UPLOADS) != LP_OK ||
	    lp_layout_admin_token(paths[6], sizeof(paths[6]), d) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "data dir path is too long");
	if ((rc = lp_fs_mkdirs(paths[1], 0700, err)) != LP_OK ||
	    (rc = lp_fs_mkdirs(paths[5], 0750, err)) != LP_OK)
		return rc;
	/* Create the store now, so its files exist to be given away; SQLite, running as root,
	 * gives every later -wal/-shm file the database file's owner by itself. */
	if ((rc = lp_store_open(&st, paths[2], err)) != LP_OK)
		return rc;
	lp_store_close(st);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if ((rc = own(paths[i], uid, gid, err)) != LP_OK)
			return rc;
	LP_INFO(COMPONENT, "data dir %s: store and uploads owned by the apiserver's %u:%u", d, uid,
	        gid);
	return LP_OK;
}
