/* gitsrc.c: Git URL policy, bare cache, incremental fetch and checkout in a killable worker. */
#include "pipeline/gitsrc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <limits.h>
#include <poll.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "launchpad/buf.h"
#include "launchpad/fs.h"
#include "launchpad/log.h"
#include "pipeline/gitnet.h"
#include "pipeline/netpolicy.h"

extern char **environ;

#define GIT_LINE_MAX     1200 /* one progress line of the fetch */
#define GIT_NUM_MAX      32   /* a formatted size or count */
#define GIT_MARKER_MAX   64   /* a short marker or suffix text */
#define CA_BUNDLE        "/etc/ssl/certs/ca-certificates.crt"
#define POLL_STEP_MS     100
#define STALE_SCAN_DEPTH 16
#define WORKER_ENV       "LAUNCHPAD_GITSRC_WORKER" /* value: the parent's pid */
#define WORKER_EXE       "/proc/self/exe"
#define WORKER_REQ_FD    0
#define WORKER_REPORT_FD 1
#define WORKER_LOG_FD    3
#define WIRE_MAGIC       0x4c504753u
#define WIRE_STRINGS     9
#define WIRE_MAX                                                                                   \
	(LP_GITSRC_URL_MAX + LP_GITSRC_BRANCH_MAX + 3 * PATH_MAX + 2 * LP_GITSRC_POLICY_MAX +      \
	 2 * LP_GITSRC_CREDENTIAL_MAX + 256)

/* The child's one message to the parent; small enough for a single atomic pipe write. */
struct report {
	int code;
	unsigned received_objects;
	unsigned files;
	uint64_t received_bytes;
	char sha[LP_GITSRC_SHA_LEN];
	char message[LP_ERROR_MESSAGE_MAX];
};

_Static_assert(sizeof(struct report) <= PIPE_BUF, "report must fit one atomic pipe write");

/* Everything the child works with; it lives only in the child. */
struct child {
	const lp_gitsrc_request *req;
	uint64_t max_bytes;
	uint64_t max_checkout;
	unsigned max_files;
	int toobig;           /* the progress callback aborted on the size cap */
	uint64_t fetch_bytes; /* received bytes of the fetch in progress */
	struct timespec last_log;
	git_repository *repo;
	git_remote *remote;
	uint64_t tree_bytes;
	unsigned tree_files;
	int tree_over;  /* 1: bytes cap, 2: file-count cap */
	int cred_asked; /* the server asked for a credential this many times */
	struct report rep;
};

static void log_line(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One write(2) per line, so lines from the worker and the parent never interleave. */
static void log_line(int fd, const char *fmt, ...)
{
	char line[GIT_LINE_MAX];
	va_list ap;
	int n;
	ssize_t w;

	if (fd <= 0)
		return;
	memcpy(line, "git: ", 5);
	va_start(ap, fmt);
	n = vsnprintf(line + 5, sizeof(line) - 6, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n += 5;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	w = write(fd, line, (size_t)n);
	(void)w; /* a lost progress line is not worth failing a deploy */
}

static const char *human_size(char *buf, size_t len, uint64_t n)
{
	if (n >= ((uint64_t)1 << 20) && n % ((uint64_t)1 << 20) == 0)
		snprintf(buf, len, "%llu MiB", (unsigned long long)(n >> 20));
	else if (n >= 1024 && n % 1024 == 0)
		snprintf(buf, len, "%llu KiB", (unsigned long long)(n >> 10));
	else
		snprintf(buf, len, "%llu bytes", (unsigned long long)n);
	return buf;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- policy -------------------------------------------------------------------------------- */

static int check_authority(const char *auth, size_t len, lp_error *err)
{
	size_t i = 0, host_end;

	if (len == 0)
		return lp_error_set(err, LP_EINVAL, "git URL has no host");
	if (memchr(auth, '@', len))
		return lp_error_set(err, LP_EINVAL,
		                    "git URLs with credentials (user:password@host) are refused: "
		                    "LaunchPad fetches public repositories only");
	if (auth[0] == '[') {
		for (i = 1; i < len && auth[i] != ']'; i++)
			if (!strchr("0123456789abcdefABCDEF:.", auth[i]))
				return lp_error_set(err, LP_EINVAL, "git URL has a bad IPv6 host");
		if (i >= len || i == 1)
			return lp_error_set(err, LP_EINVAL, "git URL has a bad IPv6 host");
		host_end = ++i;
	} else {
		for (; i < len && auth[i] != ':'; i++) {
			char ch = auth[i];
			if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			      (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_'))
				return lp_error_set(err, LP_EINVAL, "git URL host contains '%c'",
				                    ch);
		}
		host_end = i;
		if (host_end == 0)
			return lp_error_set(err, LP_EINVAL, "git URL has no host");
	}
	if (host_end < len) {
		unsigned long port = 0;
		size_t digits = 0;

		if (auth[host_end] != ':')
			return lp_error_set(err, LP_EINVAL, "git URL has a bad host");
		for (i = host_end + 1; i < len; i++, digits++) {
			if (auth[i] < '0' || auth[i] > '9' || digits >= 5)
				return lp_error_set(err, LP_EINVAL, "git URL has a bad port");
			port = port * 10 + (unsigned long)(auth[i] - '0');
		}
		if (digits == 0 || port == 0 || port > 65535)
			return lp_error_set(err, LP_EINVAL, "git URL has a bad port");
	}
	return LP_OK;
}

static int refuse_scheme(const char *url, lp_error *err)
{
	const char *colon = strchr(url, ':');

	if (strstr(url, "::") && (colon == NULL || colon == strstr(url, "::")))
		return lp_error_set(
		    err, LP_EINVAL,
		    "git transport helpers (ext::, fd::) are refused; use https://");
	if (!strncasecmp(url, "ssh://", 6) || !strncasecmp(url, "git+ssh://", 10) ||
	    !strncasecmp(url, "ssh+git://", 10))
		return lp_error_set(
		    err, LP_EINVAL,
		    "ssh git URLs are refused: LaunchPad fetches public repositories "
		    "over https://");
	if (!strncasecmp(url, "git://", 6))
		return lp_error_set(
		    err, LP_EINVAL,
		    "git:// URLs are refused (unauthenticated plain text); use https://");
	if (colon && !strstr(url, "://") && strchr(url, '@') && strchr(url, '@') < colon)
		return lp_error_set(
		    err, LP_EINVAL,
		    "scp-style ssh git URLs (user@host:path) are refused; use https://");
	if (url[0] == '/' || url[0] == '.')
		return lp_error_set(
		    err, LP_EINVAL,
		    "local paths are refused as git URLs; use https:// (or file:/// "
		    "with --allow-insecure-sources)");
	return lp_error_set(err, LP_EINVAL, "unsupported git URL scheme; use https://");
}

int lp_gitsrc_check_url(const char *url, int allow_insecure, lp_error *err)
{
	const char *rest, *end;
	size_t len, i;
	int insecure = 0, rc;

	if (url == NULL || *url == '\0')
		return lp_error_set(err, LP_EINVAL, "git URL is empty");
	len = strnlen(url, LP_GITSRC_URL_MAX + 1);
	if (len > LP_GITSRC_URL_MAX)
		return lp_error_set(err, LP_EINVAL, "git URL is longer than %d bytes",
		                    LP_GITSRC_URL_MAX);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)url[i];
		if (ch <= 0x20 || ch >= 0x7f || ch == '\\')
			return lp_error_set(err, LP_EINVAL,
			                    "git URL contains a space, backslash, control or "
			                    "non-ASCII character at byte %zu",
			                    i);
	}
	if (url[0] == '-')
		return lp_error_set(err, LP_EINVAL, "git URL may not start with '-'");
	if (!strncmp(url, "https://", 8)) {
		rest = url + 8;
	} else if (!strncmp(url, "http://", 7)) {
		rest = url + 7;
		insecure = 1;
	} else if (!strncmp(url, "file://", 7)) {
		if (!allow_insecure)
			return lp_error_set(
			    err, LP_EINVAL,
			    "file:// git URLs are refused; they are allowed only with "
			    "--allow-insecure-sources (development)");
		if (url[7] != '/')
			return lp_error_set(
			    err, LP_EINVAL,
			    "file:// git URLs need an absolute path (file:///path)");
		return LP_OK;
	} else {
		return refuse_scheme(url, err);
	}
	if (insecure && !allow_insecure)
		return lp_error_set(err, LP_EINVAL,
		                    "http:// git URLs are refused (plain text, no server "
		                    "authentication); use https:// or --allow-insecure-sources");
	if (strpbrk(rest, "?#"))
		return lp_error_set(err, LP_EINVAL, "git URL may not contain a query or fragment");
	end = strchr(rest, '/');
	if (end == NULL)
		end = rest + strlen(rest);
	if (memchr(rest, '%', (size_t)(end - rest)))
		return lp_error_set(err, LP_EINVAL, "git URL host may not be percent-encoded");
	rc = check_authority(rest, (size_t)(end - rest), err);
	if (rc != LP_OK)
		return rc;
	if (*end == '\0' || end[1] == '\0')
		return lp_error_set(err, LP_EINVAL, "git URL has no repository path");
	return LP_OK;
}

int lp_gitsrc_check_branch(const char *branch, lp_error *err)
{
	size_t len, i;

	if (branch == NULL || *branch == '\0')
		return lp_error_set(err, LP_EINVAL, "git branch is empty");
	len = strnlen(branch, LP_GITSRC_BRANCH_MAX + 1);
	if (len > LP_GITSRC_BRANCH_MAX)
		return lp_error_set(err, LP_EINVAL, "git branch is longer than %d bytes",
		                    LP_GITSRC_BRANCH_MAX);
	for (i = 0; i < len; i++) {
		char ch = branch[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || strchr("-._/+", ch)))
			return lp_error_set(err, LP_EINVAL, "git branch \"%.64s\" contains '%c'",
			                    branch, ch);
	}
	if (branch[0] == '-' || branch[0] == '/' || branch[0] == '.' || branch[len - 1] == '/' ||
	    branch[len - 1] == '.' || strstr(branch, "..") || strstr(branch, "//") ||
	    strstr(branch, "/.") || (len >= 5 && !strcmp(branch + len - 5, ".lock")) ||
	    !strcmp(branch, "HEAD"))
		return lp_error_set(err, LP_EINVAL, "\"%.64s\" is not a valid git branch name",
		                    branch);
	return LP_OK;
}

static int check_commit(char out[LP_GITSRC_SHA_LEN], const char *commit, lp_error *err)
{
	size_t i;

	for (i = 0; i < 40; i++) {
		char ch = commit[i];
		if (ch >= 'A' && ch <= 'F')
			ch = (char)(ch - 'A' + 'a');
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			break;
		out[i] = ch;
	}
	if (i != 40 || commit[40] != '\0')
		return lp_error_set(err, LP_EINVAL, "commit \"%.48s\" is not a 40-digit hex SHA",
		                    commit);
	out[40] = '\0';
	return LP_OK;
}

/* ---- the child: all libgit2 work --------------------------------------------------------- */

static int git_fail(lp_error *err, int code, const char *what)
{
	const git_error *e = git_error_last();

	return lp_error_set(err, code, "%s: %s", what, e && e->message ? e->message : "failed");
}

/* A transport failure, or the address policy's refusal in its one uniform text. */
static int net_fail(lp_error *err, const char *what)
{
	char msg[LP_ERROR_MESSAGE_MAX];

	if (lp_gitnet_refused(msg, sizeof(msg)))
		return lp_error_set(err, LP_EUNSAFE, "%s", msg);
	return git_fail(err, LP_EREMOTE, what);
}

static int on_progress(const git_indexer_progress *st, void *payload)
{
	struct child *c = payload;
	struct timespec now;

	c->fetch_bytes = st->received_bytes;
	if ((uint64_t)st->received_bytes > c->max_bytes) {
		c->toobig = 1;
		return -1; /* aborts the download (GIT_EUSER) */
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - c->last_log.tv_sec >= 1) {
		c->last_log = now;
		log_line(c->req->log_fd, "fetch: received %u/%u objects, %zu KiB",
		         st->received_objects, st->total_objects, st->received_bytes >> 10);
	}
	return 0;
}

static int open_cache(struct child *c, lp_error *err)
{
	const char *cache = c->req->cache_dir, *url = c->req->url;
	int rc;

	if (git_repository_open_bare(&c->repo, cache) < 0) {
		if (lp_fs_exists(cache)) {
			log_line(c->req->log_fd, "cache %s is unreadable, recreating it", cache);
			if (lp_fs_remove_tree(cache, err) != LP_OK)
				return err->code;
		}
		if (git_repository_init(&c->repo, cache, 1) < 0)
			return git_fail(err, LP_EIO, "creating the git cache");
	}
	rc = git_remote_lookup(&c->remote, c->repo, "origin");
	if (rc == GIT_ENOTFOUND) {
		if (git_remote_create_with_fetchspec(&c->remote, c->repo, "origin", url,
		                                     "+refs/heads/*:refs/remotes/origin/*") < 0)
			return git_fail(err, LP_EIO, "recording the remote in the git cache");
	} else if (rc < 0) {
		return git_fail(err, LP_EIO, "reading the git cache's remote");
	} else if (strcmp(git_remote_url(c->remote), url) != 0) {
		log_line(c->req->log_fd, "cache: remote URL changed to %s", url);
		git_remote_free(c->remote);
		c->remote = NULL;
		if (git_remote_set_url(c->repo, "origin", url) < 0 ||
		    git_remote_lookup(&c->remote, c->repo, "origin") < 0)
			return git_fail(err, LP_EIO, "updating the git cache's remote URL");
	}
	/* The URL we checked must be the URL used (no insteadOf or pushurl games). */
	if (strcmp(git_remote_url(c->remote), url) != 0)
		return lp_error_set(err, LP_EINVAL, "the git cache rewrote the remote URL to %s",
		                    git_remote_url(c->remote));
	return LP_OK;
}

/*
 * libgit2 asks when the server answers 401: the site's credential, offered once (a second ask
 * means it was refused: answering again would only replay it).
 */
static int on_credentials(git_credential **out, const char *url, const char *username_from_url,
                          unsigned int allowed_types, void *payload)
{
	struct child *c = payload;

	(void)url;
	(void)username_from_url;
	c->cred_asked++;
	if (c->req->username == NULL || c->cred_asked > 1 ||
	    !(allowed_types & GIT_CREDENTIAL_USERPASS_PLAINTEXT))
		return GIT_EAUTH;
	return git_credential_userpass_plaintext_new(out, c->req->username, c->req->password);
}

/* The failure of a fetch the server refused for want of a (good) credential, said plainly. */
static int auth_fail(struct child *c, lp_error *err)
{
	if (c->req->username == NULL)
		return lp_error_set(err, LP_EAUTH,
		                    "git fetch: %s asks for a credential and the site has none "
		                    "(PUT /api/deployments/:id/git-credential)",
		                    c->req->url);
	return lp_error_set(err, LP_EAUTH, "git fetch: %s refused the site's credential",
	                    c->req->url);
}

/*
 * A pull request's head, as GitHub publishes it ("refs/pull/<n>/head"): a preview's branch
 * (docs/previews.md). Fetched by its own name; every other branch is under refs/heads/.
 */
static int is_pull_ref(const char *branch)
{
	return !strncmp(branch, LP_GITSRC_PULL_PREFIX, sizeof(LP_GITSRC_PULL_PREFIX) - 1);
}

/* Connect, find the branch tip on the remote, download what `refspec` names, update the refs. */
static int fetch_once(struct child *c, const char *refspec, git_oid *tip, lp_error *err)
{
	git_remote_connect_options copts;
	git_fetch_options fopts;
	const git_remote_head **heads = NULL;
	const git_indexer_progress *st;
	char specbuf[LP_GITSRC_BRANCH_MAX * 2 + 64], want[LP_GITSRC_BRANCH_MAX + 16],
	    size[GIT_NUM_MAX];
	char *specs[1] = {specbuf};
	git_strarray arr = {specs, 1};
	size_t n = 0, i;
	int rc = LP_OK, found = 0;

	snprintf(specbuf, sizeof(specbuf), "%s", refspec);
	if (is_pull_ref(c->req->branch))
		snprintf(want, sizeof(want), "%s", c->req->branch);
	else
		snprintf(want, sizeof(want), "refs/heads/%s", c->req->branch);
	git_remote_connect_options_init(&copts, GIT_REMOTE_CONNECT_OPTIONS_VERSION);
	copts.callbacks.transfer_progress = on_progress;
	copts.callbacks.credentials = on_credentials;
	copts.callbacks.payload = c;
	copts.follow_redirects = GIT_REMOTE_REDIRECT_INITIAL;
	c->cred_asked = 0;
	if (git_remote_connect_ext(c->remote, GIT_DIRECTION_FETCH, &copts) < 0) {
		rc = c->cred_asked ? auth_fail(c, err) : net_fail(err, "git fetch");
		goto done;
	}
	if (git_remote_ls(&heads, &n, c->remote) < 0) {
		rc = git_fail(err, LP_EREMOTE, "listing the remote's branches");
		goto done;
	}
	for (i = 0; i < n && !found; i++) {
		if (strcmp(heads[i]->name, want) == 0) {
			git_oid_cpy(tip, &heads[i]->oid);
			found = 1;
		}
	}
	if (!found) {
		rc = lp_error_set(err, LP_ENOTFOUND, "branch \"%s\" not found at %s",
		                  c->req->branch, c->req->url);
		goto done;
	}
	git_fetch_options_init(&fopts, GIT_FETCH_OPTIONS_VERSION);
	fopts.callbacks = copts.callbacks;
	fopts.prune = GIT_FETCH_NO_PRUNE;
	fopts.update_fetchhead = 0;
	fopts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fopts.follow_redirects = GIT_REMOTE_REDIRECT_INITIAL;
	c->toobig = 0;
	c->fetch_bytes = 0;
	if (git_remote_download(c->remote, &arr, &fopts) < 0) {
		if (c->toobig)
			rc = lp_error_set(err, LP_ETOOBIG, "repository larger than %s",
			                  human_size(size, sizeof(size), c->max_bytes));
		else if (c->cred_asked > 1 || (c->cred_asked && c->req->username == NULL))
			rc = auth_fail(c, err);
		else
			rc = net_fail(err, "git fetch");
		goto done;
	}
	if (git_remote_update_tips(c->remote, &fopts.callbacks, 0, GIT_REMOTE_DOWNLOAD_TAGS_NONE,
	                           "launchpad fetch") < 0) {
		rc = git_fail(err, LP_EIO, "updating the git cache's refs");
		goto done;
	}
	st = git_remote_stats(c->remote);
	c->rep.received_bytes += st->received_bytes;
	c->rep.received_objects += st->received_objects;
	log_line(c->req->log_fd, "fetch: received %u objects, %zu KiB", st->received_objects,
	         st->received_bytes >> 10);
done:
	git_remote_disconnect(c->remote);
	return rc;
}

/* 1 when the commit is in the cache and is the tip or one of its ancestors. */
static int commit_on_branch(struct child *c, const git_oid *commit, const git_oid *tip)
{
	git_commit *obj = NULL;

	if (git_commit_lookup(&obj, c->repo, commit) < 0)
		return 0;
	git_commit_free(obj);
	return git_oid_equal(commit, tip) || git_graph_descendant_of(c->repo, tip, commit) == 1;
}

static int size_walk(const char *root, const git_tree_entry *entry, void *payload)
{
	struct child *c = payload;
	git_odb *odb = NULL;
	size_t len = 0;
	git_object_t type;
	int rc = 0;

	switch (git_tree_entry_type(entry)) {
	case GIT_OBJECT_BLOB:
		if (git_repository_odb(&odb, c->repo) < 0)
			return -1;
		if (git_odb_read_header(&len, &type, odb, git_tree_entry_id(entry)) < 0)
			rc = -1;
		git_odb_free(odb);
		c->tree_bytes += len;
		c->tree_files++;
		if (c->tree_bytes > c->max_checkout)
			c->tree_over = 1;
		else if (c->tree_files > c->max_files)
			c->tree_over = 2;
		return c->tree_over ? -1 : rc;
	case GIT_OBJECT_COMMIT:
		log_line(c->req->log_fd, "submodule %s%s is not checked out", root,
		         git_tree_entry_name(entry));
		return 0;
	default:
		return 0;
	}
}

static int checkout(struct child *c, const git_oid *oid, lp_error *err)
{
	git_checkout_options co;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	char dotgit[PATH_MAX], size[GIT_NUM_MAX];
	int rc = LP_OK;

	if (git_commit_lookup(&commit, c->repo, oid) < 0 || git_commit_tree(&tree, commit) < 0) {
		rc = git_fail(err, LP_EIO, "reading the commit");
		goto done;
	}
	/* Blobs can inflate far beyond the pack size: count before writing anything. */
	if (git_tree_walk(tree, GIT_TREEWALK_PRE, size_walk, c) < 0) {
		if (c->tree_over == 1)
			rc = lp_error_set(err, LP_ETOOBIG, "checkout larger than %s",
			                  human_size(size, sizeof(size), c->max_checkout));
		else if (c->tree_over == 2)
			rc = lp_error_set(err, LP_ETOOBIG, "checkout has more than %u files",
			                  c->max_files);
		else
			rc = git_fail(err, LP_EIO, "reading the commit's tree");
		goto done;
	}
	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DONT_WRITE_INDEX;
	co.target_directory = c->req->workdir;
	if (git_checkout_tree(c->repo, (const git_object *)tree, &co) < 0) {
		rc = git_fail(err, LP_EIO, "checking out");
		goto done;
	}
	snprintf(dotgit, sizeof(dotgit), "%s/.git", c->req->workdir);
	if (lp_fs_exists(dotgit)) {
		rc = lp_error_set(err, LP_EUNSAFE, "checkout left a .git entry in the workspace");
		goto done;
	}
	c->rep.files = c->tree_files;
done:
	git_tree_free(tree);
	git_commit_free(commit);
	return rc;
}

static int child_run(struct child *c, lp_error *err)
{
	const lp_gitsrc_request *req = c->req;
	char spec[LP_GITSRC_BRANCH_MAX * 2 + 64], want_hex[LP_GITSRC_SHA_LEN];
	git_oid tip, target;
	int rc;

	log_line(req->log_fd, "fetching %s branch %s%s%s", req->url, req->branch,
	         req->commit ? " commit " : "", req->commit ? req->commit : "");
	rc = open_cache(c, err);
	if (rc != LP_OK)
		return rc;
	if (is_pull_ref(req->branch))
		snprintf(spec, sizeof(spec), "+%s:refs/remotes/origin/%s", req->branch,
		         req->branch + sizeof("refs/") - 1);
	else
		snprintf(spec, sizeof(spec), "+refs/heads/%s:refs/remotes/origin/%s", req->branch,
		         req->branch);
	rc = fetch_once(c, spec, &tip, err);
	if (rc != LP_OK)
		return rc;
	git_oid_cpy(&target, &tip);
	if (req->commit != NULL) {
		if (check_commit(want_hex, req->commit, err) != LP_OK)
			return err->code;
		if (git_oid_fromstr(&target, want_hex) < 0)
			return git_fail(err, LP_EINVAL, "parsing the commit");
		if (!commit_on_branch(c, &target, &tip)) {
			log_line(req->log_fd, "commit %s not on %s yet, fetching all branches",
			         want_hex, req->branch);
			rc = fetch_once(
			    c,
			    is_pull_ref(req->branch) ? spec : "+refs/heads/*:refs/remotes/origin/*",
			    &tip, err);
			if (rc != LP_OK)
				return rc;
			if (!commit_on_branch(c, &target, &tip))
				return lp_error_set(err, LP_ENOTFOUND, "commit %s not found on %s",
				                    want_hex, req->branch);
		}
	}
	git_oid_tostr(c->rep.sha, sizeof(c->rep.sha), &target);
	rc = checkout(c, &target, err);
	if (rc == LP_OK)
		log_line(req->log_fd, "checked out %s (%u files)", c->rep.sha, c->rep.files);
	return rc;
}

static void child_settings(void)
{
	static const int levels[] = {GIT_CONFIG_LEVEL_PROGRAMDATA, GIT_CONFIG_LEVEL_SYSTEM,
	                             GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_GLOBAL};
	const char *ca = getenv("SSL_CERT_FILE");
	size_t i;

	/* No user or system gitconfig: an insteadOf there must not bypass the URL policy. */
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[i], "");
	/* OpenSSL's own variable names a private CA bundle (an intercepting proxy, a test CA). */
	if (ca != NULL && *ca != '\0' && access(ca, R_OK) == 0)
		git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, ca, NULL);
	else if (access(CA_BUNDLE, R_OK) == 0)
		git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, CA_BUNDLE, NULL);
	git_libgit2_opts(GIT_OPT_SET_USER_AGENT, "launchpad");
}

/* The address policy of the worker's one fetch (gitnet.h: process state of the worker). */
static int install_policy(const lp_gitsrc_request *req, lp_error *err)
{
	static lp_netpolicy policy;
	int rc;

	lp_netpolicy_init(&policy);
	if ((rc = lp_netpolicy_allow_list(&policy, req->allow_hosts, err)) != LP_OK ||
	    (rc = lp_netpolicy_deny_list(&policy, req->deny_ranges, err)) != LP_OK ||
	    (rc = lp_netpolicy_deny_local(&policy, err)) != LP_OK)
		return rc;
	return lp_gitnet_install(&policy, err);
}

/* Runs in the worker process and never returns. */
static void child_main(const lp_gitsrc_request *req, pid_t parent, int wfd)
    __attribute__((noreturn));

static void child_main(const lp_gitsrc_request *req, pid_t parent, int wfd)
{
	struct child c;
	lp_error err = {0};
	ssize_t w;

	/* Die with the waiting parent; and a dead peer socket must be an error, not a signal. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	signal(SIGPIPE, SIG_IGN);
	memset(&c, 0, sizeof(c));
	c.req = req;
	c.max_bytes = req->max_bytes ? req->max_bytes : LP_GITSRC_DEFAULT_MAX_BYTES;
	c.max_checkout =
	    req->max_checkout_bytes ? req->max_checkout_bytes : LP_GITSRC_DEFAULT_MAX_CHECKOUT;
	c.max_files = req->max_files ? req->max_files : LP_GITSRC_DEFAULT_MAX_FILES;
	clock_gettime(CLOCK_MONOTONIC, &c.last_log);
	if (git_libgit2_init() < 0) {
		lp_error_set(&err, LP_ERROR, "initialising libgit2 failed");
	} else {
		child_settings();
		if (!req->check_addresses || install_policy(req, &err) == LP_OK)
			child_run(&c, &err);
	}
	c.rep.code = err.code;
	snprintf(c.rep.message, sizeof(c.rep.message), "%s", err.message);
	w = write(wfd, &c.rep, sizeof(c.rep));
	(void)w; /* a short report is detected by the parent */
	git_remote_free(c.remote);
	git_repository_free(c.repo);
	git_libgit2_shutdown();
	/* _exit: the parent judges the outcome from the report alone. */
	_exit(0);
}

/*
 * The request on the worker's stdin: this header, then the seven strings (url, branch, commit or
 * "", cache_dir, workdir, allow_hosts, deny_ranges), each NUL-terminated, of the lengths given
 * (NUL excluded).
 */
struct wire {
	uint32_t magic;
	uint32_t has_log;
	uint32_t check_addresses;
	uint64_t max_bytes;
	uint64_t max_checkout;
	uint32_t max_files;
	uint32_t len[WIRE_STRINGS];
};

static int wire_encode(lp_buf *b, const lp_gitsrc_request *req)
{
	const char *str[WIRE_STRINGS] = {req->url,
	                                 req->branch,
	                                 req->commit ? req->commit : "",
	                                 req->cache_dir,
	                                 req->workdir,
	                                 req->allow_hosts ? req->allow_hosts : "",
	                                 req->deny_ranges ? req->deny_ranges : "",
	                                 req->username ? req->username : "",
	                                 req->password ? req->password : ""};
	struct wire w = {.magic = WIRE_MAGIC,
	                 .has_log = req->log_fd > 0,
	                 .check_addresses = req->check_addresses != 0,
	                 .max_bytes = req->max_bytes,
	                 .max_checkout = req->max_checkout_bytes,
	                 .max_files = req->max_files};
	int i;

	for (i = 0; i < WIRE_STRINGS; i++)
		w.len[i] = (uint32_t)strlen(str[i]);
	if (lp_buf_append(b, &w, sizeof(w)) != LP_OK)
		return LP_ETOOBIG;
	for (i = 0; i < WIRE_STRINGS; i++)
		if (lp_buf_append(b, str[i], w.len[i] + 1) != LP_OK)
			return LP_ETOOBIG;
	return LP_OK;
}

static int wire_decode(lp_gitsrc_request *req, char *data, size_t len)
{
	const char **dst[WIRE_STRINGS] = {&req->url,         &req->branch,   &req->commit,
	                                  &req->cache_dir,   &req->workdir,  &req->allow_hosts,
	                                  &req->deny_ranges, &req->username, &req->password};
	struct wire w;
	size_t off = sizeof(w);
	int i;

	if (len < sizeof(w))
		return -1;
	memcpy(&w, data, sizeof(w));
	if (w.magic != WIRE_MAGIC)
		return -1;
	memset(req, 0, sizeof(*req));
	for (i = 0; i < WIRE_STRINGS; i++) {
		if (w.len[i] >= len - off || data[off + w.len[i]] != '\0')
			return -1;
		*dst[i] = data + off;
		off += w.len[i] + 1;
	}
	if (req->commit[0] == '\0')
		req->commit = NULL;
	if (req->username[0] == '\0' || req->password[0] == '\0')
		req->username = req->password = NULL;
	req->max_bytes = w.max_bytes;
	req->max_checkout_bytes = w.max_checkout;
	req->max_files = w.max_files;
	req->check_addresses = (int)w.check_addresses;
	req->log_fd = w.has_log ? WORKER_LOG_FD : -1;
	return 0;
}

/*
 * The worker's entry point. lp_gitsrc_fetch re-executes the running binary (/proc/self/exe)
 * with WORKER_ENV set, so the worker starts from a fresh process image: no lock held by another
 * thread of the (multi-threaded) parent at fork time can deadlock it, whatever allocator is in
 * use. This constructor takes over before main() and never returns in that case.
 */
__attribute__((constructor)) static void gitsrc_worker_entry(void)
{
	const char *marker = getenv(WORKER_ENV);
	static char data[WIRE_MAX];
	lp_gitsrc_request req;
	size_t len = 0;
	long parent;

	if (marker == NULL)
		return;
	parent = strtol(marker, NULL, 10);
	for (;;) {
		ssize_t n = read(WORKER_REQ_FD, data + len, sizeof(data) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(data))
			break;
	}
	if (parent <= 1 || wire_decode(&req, data, len) != 0) {
		static const char msg[] = "launchpad git worker: bad request\n";
		ssize_t w = write(2, msg, sizeof(msg) - 1);
		(void)w;
		_exit(2);
	}
	child_main(&req, (pid_t)parent, WORKER_REPORT_FD);
}

/* ---- the parent: prepare, spawn, wait with a deadline -------------------------------------- */

static int has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Remove *.lock files a killed child may have left in dir (recursively, bounded depth). */
static void remove_locks(const char *dir, int depth)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (depth > STALE_SCAN_DEPTH || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		if (de->d_type == DT_DIR)
			remove_locks(path, depth + 1);
		else if (de->d_type == DT_REG && has_suffix(de->d_name, ".lock"))
			unlink(path);
	}
	closedir(d);
}

/* Locks and temporary packs of a killed fetch; safe because one fetch owns a cache at a time. */
static void clean_stale(const char *cache)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(cache)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_type == DT_REG && has_suffix(de->d_name, ".lock") &&
			    snprintf(path, sizeof(path), "%s/%s", cache, de->d_name) <
			        (int)sizeof(path))
				unlink(path);
		closedir(d);
	}
	snprintf(path, sizeof(path), "%s/refs", cache);
	remove_locks(path, 0);
	snprintf(path, sizeof(path), "%s/objects/pack", cache);
	if ((d = opendir(path)) != NULL) {
		char file[PATH_MAX];

		while ((de = readdir(d)) != NULL)
			if (!strncmp(de->d_name, "pack_git2_", 10) &&
			    snprintf(file, sizeof(file), "%s/%s", path, de->d_name) <
			        (int)sizeof(file))
				unlink(file);
		closedir(d);
	}
}

static int prepare_workdir(const char *dir, lp_error *err)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int entries = 0;

	if (lstat(dir, &st) != 0)
		return lp_fs_mkdirs(dir, 0755, err);
	if (!S_ISDIR(st.st_mode))
		return lp_error_set(err, LP_EINVAL, "workspace %s is not a directory", dir);
	d = opendir(dir);
	if (d == NULL)
		return lp_error_set(err, LP_EIO, "open %s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			entries++;
	closedir(d);
	if (entries)
		return lp_error_set(err, LP_EINVAL, "workspace %s is not empty", dir);
	return LP_OK;
}

static int cache_parent(const char *cache, lp_error *err)
{
	char parent[PATH_MAX];
	char *slash;

	if (snprintf(parent, sizeof(parent), "%s", cache) >= (int)sizeof(parent))
		return lp_error_set(err, LP_EINVAL, "cache path too long");
	slash = strrchr(parent, '/');
	if (slash == NULL || slash == parent)
		return LP_OK;
	*slash = '\0';
	return lp_fs_mkdirs(parent, 0755, err);
}

/* The policy's lists, checked here so a bad --git-allow-hosts is said before a worker starts. */
static int check_policy(const lp_gitsrc_request *req, lp_error *err)
{
	lp_netpolicy *p;
	int rc;

	if ((req->allow_hosts && strlen(req->allow_hosts) > LP_GITSRC_POLICY_MAX) ||
	    (req->deny_ranges && strlen(req->deny_ranges) > LP_GITSRC_POLICY_MAX))
		return lp_error_set(err, LP_ETOOBIG, "git address policy longer than %d bytes",
		                    LP_GITSRC_POLICY_MAX);
	if ((p = malloc(sizeof(*p))) == NULL)
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	lp_netpolicy_init(p);
	rc = lp_netpolicy_allow_list(p, req->allow_hosts, err);
	if (rc == LP_OK)
		rc = lp_netpolicy_deny_list(p, req->deny_ranges, err);
	free(p);
	return rc;
}

static int cancel_requested(const lp_gitsrc_request *req)
{
	return req->cancel != NULL && *req->cancel != 0;
}

static void kill_and_reap(pid_t pid)
{
	int st;

	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
}

/* Wait for the report and the child's exit; kill it on the deadline or a cancel. */
static int wait_child(struct report *rep, pid_t pid, int rfd, const lp_gitsrc_request *req,
                      int timeout, lp_error *err)
{
	double deadline = now_seconds() + timeout;
	size_t got = 0;
	int eof = 0, reaped = 0, status = 0, rc = LP_OK;

	while (!(eof && reaped)) {
		struct pollfd pfd[2];
		nfds_t n = 0;
		double left = deadline - now_seconds();
		int ms, r;

		if (cancel_requested(req)) {
			rc = lp_error_set(err, LP_ECANCELED, "git fetch canceled");
			goto kill;
		}
		if (left <= 0) {
			rc = lp_error_set(err, LP_ETIMEOUT, "git fetch timed out after %d s",
			                  timeout);
			goto kill;
		}
		ms = left * 1000 < POLL_STEP_MS ? (int)(left * 1000) + 1 : POLL_STEP_MS;
		if (!eof)
			pfd[n++] = (struct pollfd){.fd = rfd, .events = POLLIN};
		if (req->cancel_fd > 0)
			pfd[n++] = (struct pollfd){.fd = req->cancel_fd, .events = POLLIN};
		r = poll(pfd, n, ms);
		if (r < 0 && errno != EINTR) {
			rc = lp_error_set(err, LP_EIO, "poll: %s", strerror(errno));
			goto kill;
		}
		if (r > 0 && req->cancel_fd > 0 && pfd[n - 1].revents) {
			rc = lp_error_set(err, LP_ECANCELED, "git fetch canceled");
			goto kill;
		}
		if (r > 0 && !eof && pfd[0].revents) {
			char extra[GIT_MARKER_MAX];
			ssize_t k = got < sizeof(*rep)
			                ? read(rfd, (char *)rep + got, sizeof(*rep) - got)
			                : read(rfd, extra, sizeof(extra));
			if (k == 0)
				eof = 1;
			else if (k > 0 && got < sizeof(*rep))
				got += (size_t)k;
			else if (k < 0 && errno != EINTR && errno != EAGAIN)
				eof = 1;
		}
		if (!reaped) {
			pid_t w = waitpid(pid, &status, WNOHANG);
			if (w == pid || (w < 0 && errno == ECHILD))
				reaped = 1;
		}
	}
	if (got != sizeof(*rep)) {
		if (WIFSIGNALED(status))
			rc = lp_error_set(err, LP_ERROR, "git worker died with signal %d",
			                  WTERMSIG(status));
		else
			rc = lp_error_set(err, LP_ERROR,
			                  "git worker exited (status %d) without a report",
			                  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		goto done;
	}
	rep->sha[sizeof(rep->sha) - 1] = '\0';
	rep->message[sizeof(rep->message) - 1] = '\0';
	if (rep->code != LP_OK)
		rc = lp_error_set(err, rep->code, "%s", rep->message);
	goto done;
kill:
	kill_and_reap(pid);
	log_line(req->log_fd, "%s", err ? err->message : "git fetch stopped");
done:
	return rc;
}

/* A copy numbered above the worker's fixed slots (0, 1, 3), so each dup2 really duplicates. */
static int high_fd(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, 10);
}

static char **worker_env(const char *marker)
{
	size_t n = 0, i, k = 0;
	char **envp;

	while (environ && environ[n])
		n++;
	envp = calloc(n + 2, sizeof(*envp));
	if (envp == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], WORKER_ENV "=", sizeof(WORKER_ENV)) != 0)
			envp[k++] = environ[i];
	envp[k] = (char *)marker;
	return envp;
}

/*
 * Start the worker: this same binary again, taken over by gitsrc_worker_entry(). Its stdin is a
 * memfd holding the request (never blocks, whatever the pipe size), its stdout the report pipe,
 * fd 3 the log. posix_spawn execs straight away, so nothing of this process's state is reused.
 */
static int spawn_worker(pid_t *pid, int *report_fd, const lp_gitsrc_request *req, lp_error *err)
{
	char *argv[] = {"launchpad-git-worker", NULL};
	char marker[GIT_MARKER_MAX];
	char **envp = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	lp_buf wire;
	int memfd = -1, rep[2] = {-1, -1}, hi[3] = {-1, -1, -1}, rc = LP_OK, e, i;

	lp_buf_init(&wire, WIRE_MAX);
	if (wire_encode(&wire, req) != LP_OK) {
		rc = lp_error_set(err, LP_EINVAL, "git request too large");
		goto done;
	}
	memfd = memfd_create("launchpad-git-request", MFD_CLOEXEC);
	if (memfd < 0 || write(memfd, wire.data, wire.len) != (ssize_t)wire.len ||
	    lseek(memfd, 0, SEEK_SET) != 0) {
		rc = lp_error_set(err, LP_EIO, "preparing the git worker's request: %s",
		                  strerror(errno));
		goto done;
	}
	if (pipe2(rep, O_CLOEXEC) != 0) {
		rc = lp_error_set(err, LP_EIO, "pipe: %s", strerror(errno));
		goto done;
	}
	hi[0] = high_fd(memfd);
	hi[1] = high_fd(rep[1]);
	if (req->log_fd > 0)
		hi[2] = high_fd(req->log_fd);
	snprintf(marker, sizeof(marker), "%s=%ld", WORKER_ENV, (long)getpid());
	envp = worker_env(marker);
	if (hi[0] < 0 || hi[1] < 0 || (req->log_fd > 0 && hi[2] < 0) || envp == NULL) {
		rc = lp_error_set(err, LP_EIO, "preparing the git worker: %s", strerror(errno));
		goto done;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, hi[0], WORKER_REQ_FD);
	posix_spawn_file_actions_adddup2(&fa, hi[1], WORKER_REPORT_FD);
	if (hi[2] >= 0)
		posix_spawn_file_actions_adddup2(&fa, hi[2], WORKER_LOG_FD);
	/* The caller's blocked or ignored signals (a daemon's signalfd set) are not the worker's.
	 */
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	e = posix_spawn(pid, WORKER_EXE, &fa, &attr, argv, envp);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (e != 0) {
		rc = lp_error_set(err, LP_EIO, "starting the git worker: %s", strerror(e));
		goto done;
	}
	*report_fd = rep[0];
	rep[0] = -1;
done:
	for (i = 0; i < 3; i++)
		if (hi[i] >= 0)
			close(hi[i]);
	if (rep[0] >= 0)
		close(rep[0]);
	if (rep[1] >= 0)
		close(rep[1]);
	if (memfd >= 0)
		close(memfd);
	free(envp);
	if (wire.data) /* it holds the credential */
		explicit_bzero(wire.data, wire.len);
	lp_buf_release(&wire);
	return rc;
}

int lp_gitsrc_fetch(lp_gitsrc_result *out, const lp_gitsrc_request *req, lp_error *err)
{
	struct report rep;
	char sha[LP_GITSRC_SHA_LEN];
	int report_fd = -1, rc, timeout, made_workdir = 0, killed = 0;
	lp_error cleanup = {0};
	pid_t pid;

	memset(out, 0, sizeof(*out));
	memset(&rep, 0, sizeof(rep));
	if (req == NULL || req->url == NULL || req->branch == NULL || req->cache_dir == NULL ||
	    req->workdir == NULL || !*req->cache_dir || !*req->workdir)
		return lp_error_set(err, LP_EINVAL,
		                    "git fetch needs a url, a branch, a cache dir and a workdir");
	rc = lp_gitsrc_check_url(req->url, req->allow_insecure, err);
	if (rc == LP_OK)
		rc = lp_gitsrc_check_branch(req->branch, err);
	if (rc == LP_OK && req->commit != NULL)
		rc = check_commit(sha, req->commit, err);
	if (rc != LP_OK)
		return rc;
	if (req->timeout_seconds < 0)
		return lp_error_set(err, LP_EINVAL, "negative git timeout");
	if ((req->username &&
	     strnlen(req->username, LP_GITSRC_CREDENTIAL_MAX + 1) > LP_GITSRC_CREDENTIAL_MAX) ||
	    (req->password &&
	     strnlen(req->password, LP_GITSRC_CREDENTIAL_MAX + 1) > LP_GITSRC_CREDENTIAL_MAX))
		return lp_error_set(err, LP_ETOOBIG, "git credential longer than %d bytes",
		                    LP_GITSRC_CREDENTIAL_MAX);
	if (req->check_addresses && (rc = check_policy(req, err)) != LP_OK)
		return rc;
	timeout = req->timeout_seconds ? req->timeout_seconds : LP_GITSRC_DEFAULT_TIMEOUT;
	if (cancel_requested(req))
		return lp_error_set(err, LP_ECANCELED, "git fetch canceled");
	rc = prepare_workdir(req->workdir, err);
	if (rc != LP_OK)
		return rc;
	made_workdir = 1;
	rc = cache_parent(req->cache_dir, err);
	if (rc != LP_OK)
		goto done;
	clean_stale(req->cache_dir);
	rc = spawn_worker(&pid, &report_fd, req, err);
	if (rc != LP_OK)
		goto done;
	rc = wait_child(&rep, pid, report_fd, req, timeout, err);
	killed = rc == LP_ETIMEOUT || rc == LP_ECANCELED;
	if (rc != LP_OK)
		goto done;
	memcpy(out->sha, rep.sha, sizeof(out->sha));
	out->received_bytes = rep.received_bytes;
	out->received_objects = rep.received_objects;
	out->files = rep.files;
done:
	if (report_fd >= 0)
		close(report_fd);
	if (killed)
		clean_stale(req->cache_dir);
	/* Already failing: a leftover is reported, the fetch's own error stands. */
	if (rc != LP_OK && made_workdir && lp_fs_remove_tree(req->workdir, &cleanup) != LP_OK)
		LP_WARN("gitsrc", "removing %s: %s", req->workdir, cleanup.message);
	return rc;
}
