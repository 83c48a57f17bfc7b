/* revconf.c: each revision's serve config: render, check with nginx -t, switch, reload. */
#include "controller/revconf.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "controller/nginx_conf.h"
#include "controller/nginx_rules.h"
#include "launchpad/buf.h"
#include "launchpad/fmt.h"
#include "launchpad/fs.h"
#include "launchpad/layout.h"
#include "launchpad/log.h"
#include "launchpad/names.h"
#include "launchpad/serve_rules.h"

#define COMPONENT        "serve"
#define LOG_LINE_MAX     1024
#define CHECK_OUTPUT_MAX 8192
#define MARKER_NAME      ".loaded"
#define MARKER_MAX       4096
#define SERVE_PULL_MS    (10 * 60 * 1000)
#define CHECK_MEMORY     (64ll << 20)
#define CHECK_PIDS       32
#define CHECK_PREFIX     "check-"  /* before the revision's build container name */
#define CHECK_FILE       ".check-" /* the scratch files of a check, in the rules dir */
#define NUMBER_TEXT_MAX  32 /* "revision 12345\n", "12345.conf": a long in decimal and a word */
#define BIND_EXTRA       64 /* ":/usr/share/nginx/html:ro" after a host path */
/* A live config read to compare with: larger than both rules files rendered is not one of ours. */
#define LIVE_CONF_MAX (4 * LP_RULES_FILE_MAX)

int lp_revconf_include_path(char *out, size_t outlen)
{
	return lp_fmt(out, outlen,
	              LP_SERVE_HTML_DIR "/" LP_LAYOUT_RULES_DIR "/" LP_LAYOUT_RULES_CURRENT);
}

/* The revision's log, appended to in the build log's line format; a lost line loses nothing. */
struct rlog {
	int fd;
	int quiet; /* a render only compared, never kept: its warnings are said by the real one */
	size_t warnings;
};

static void rlog_open(struct rlog *l, const lp_config *cfg, const char *site, long n)
{
	char path[LP_FS_PATH_MAX], dir[LP_FS_PATH_MAX];

	l->fd = -1;
	l->quiet = 0;
	l->warnings = 0;
	if (lp_layout_log(path, sizeof(path), cfg->data_dir, site, n) == LP_OK &&
	    lp_layout_log_dir(dir, sizeof(dir), cfg->data_dir, site) == LP_OK &&
	    lp_fs_mkdirs(dir, 0755, NULL) == LP_OK)
		l->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
}

static void rlog_line(struct rlog *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void rlog_line(struct rlog *l, const char *fmt, ...)
{
	char text[LOG_LINE_MAX], line[LOG_LINE_MAX + 64];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	size_t n;

	if (l->quiet)
		return;
	va_start(ap, fmt);
	lp_vfmt_text(text, sizeof(text), fmt, ap);
	va_end(ap);
	LP_INFO(COMPONENT, "%s", text);
	if (l->fd < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	lp_fmt_text(line + n, sizeof(line) - n, ".%03ldZ %s\n", ts.tv_nsec / 1000000, text);
	if (write(l->fd, line, strlen(line)) < 0)
		LP_WARN(COMPONENT, "writing a deploy log line: %s", strerror(errno));
}

static void rlog_close(struct rlog *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

static void warn_to_log(void *ctx, const char *source, int line, const char *message)
{
	struct rlog *l = ctx;

	l->warnings++;
	rlog_line(l, "warning: %s:%d: %s", source, line, message);
}

/* A rules file of the revision: absent is fine, too large is a warning and ignored. */
static int read_rules_file(char **out, size_t *out_len, const char *site_dir, long n,
                           const char *name, struct rlog *l, lp_error *err)
{
	char path[LP_FS_PATH_MAX];
	struct stat st;

	*out = NULL;
	*out_len = 0;
	if (lp_fmt(path, sizeof(path), "%s/revisions/%ld/%s", site_dir, n, name) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "path of %s is too long", name);
	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return LP_OK;
	if ((size_t)st.st_size > LP_RULES_FILE_MAX) {
		rlog_line(l, "warning: %s is larger than %zu bytes; ignored", name,
		          LP_RULES_FILE_MAX);
		l->warnings++;
		return LP_OK;
	}
	return lp_fs_read_file(out, out_len, path, LP_RULES_FILE_MAX, err);
}

struct rules_input {
	lp_redirects redirects;
	lp_headers headers;
};

/* The spec's rules first, then the revision's files, in Netlify's order. */
static int read_rules(struct rules_input *in, const lp_site *spec, const char *site_dir, long n,
                      struct rlog *l, lp_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc = LP_OK;

	if (spec->serve_redirects)
		rc = lp_redirects_parse(&in->redirects, spec->serve_redirects,
		                        strlen(spec->serve_redirects), "spec.serve.redirects",
		                        warn_to_log, l, err);
	if (rc == LP_OK && spec->serve_headers)
		rc =
		    lp_headers_parse(&in->headers, spec->serve_headers, strlen(spec->serve_headers),
		                     "spec.serve.headers", warn_to_log, l, err);
	if (rc == LP_OK &&
	    (rc = read_rules_file(&text, &len, site_dir, n, "_redirects", l, err)) == LP_OK &&
	    text != NULL)
		rc = lp_redirects_parse(&in->redirects, text, len, "_redirects", warn_to_log, l,
		                        err);
	free(text);
	text = NULL;
	if (rc == LP_OK &&
	    (rc = read_rules_file(&text, &len, site_dir, n, "_headers", l, err)) == LP_OK &&
	    text != NULL)
		rc = lp_headers_parse(&in->headers, text, len, "_headers", warn_to_log, l, err);
	free(text);
	return rc;
}

/* serve.notFoundPage, else Netlify's convention: a 404.html at the root. */
static const char *not_found_page(const lp_site *spec, const char *site_dir, long n)
{
	char path[LP_FS_PATH_MAX];
	struct stat st;
	const char *p = spec->serve_not_found_page;

	if (p != NULL) {
		while (*p == '/')
			p++;
		return *p ? p : NULL;
	}
	if (lp_fmt(path, sizeof(path), "%s/revisions/%ld/404.html", site_dir, n) == LP_OK &&
	    lstat(path, &st) == 0 && S_ISREG(st.st_mode))
		return "404.html";
	return NULL;
}

/*
 * Revision n's config, its rules read from revisions/n; as is the revision number the text names
 * (its root, its revision header): n itself, except to compare n's rules with another revision's.
 */
static int render(char **out, lp_revconf_result *res, const lp_site *spec, const char *site_dir,
                  long n, long as, struct rlog *l, lp_error *err)
{
	struct rules_input in;
	struct lp_nginx_rules nr = {0};
	struct lp_nginx_site ns = {0};
	char root[LP_FS_PATH_MAX];
	char *http = NULL, *server = NULL;
	int rc;

	*out = NULL;
	memset(&in, 0, sizeof(in));
	if ((rc = read_rules(&in, spec, site_dir, n, l, err)) != LP_OK)
		goto done;
	nr.redirects = &in.redirects;
	nr.headers = &in.headers;
	nr.spa = spec->serve_spa;
	nr.not_found_page = not_found_page(spec, site_dir, n);
	nr.revision = as;
	if ((rc = lp_nginx_rules_render(&http, &server, &nr, err)) != LP_OK)
		goto done;
	if (lp_fmt(root, sizeof(root), "revisions/%ld", as) != LP_OK) {
		rc = lp_error_set(err, LP_ETOOBIG, "revision path too long");
		goto done;
	}
	ns.root = root;
	ns.http_rules = http;
	ns.server_rules = server;
	rc = lp_nginx_conf_render(out, &ns, err);
	res->rules = in.redirects.count;
done:
	res->warnings = l->warnings;
	free(http);
	free(server);
	lp_redirects_release(&in.redirects);
	lp_headers_release(&in.headers);
	return rc;
}

static int collect(void *ctx, int stream, const char *data, size_t len)
{
	lp_buf *b = ctx;
	size_t room = b->max > b->len ? b->max - b->len : 0;

	/* Past the cap the rest is dropped: nginx says what matters first. */
	if (lp_buf_append(b, data, len < room ? len : room) != LP_OK)
		return 0;
	return 0;
}

/* nginx's own words: its [emerg] line, without the "nginx: " prefix. */
static void verdict(char *out, size_t outlen, const char *text)
{
	const char *e = strstr(text, "[emerg]");
	const char *start, *end;

	if (e == NULL)
		e = strstr(text, "[alert]");
	if (e == NULL) {
		lp_fmt_text(out, outlen, "nginx -t failed: %s", text);
		return;
	}
	start = e;
	end = strchr(start, '\n');
	lp_fmt_text(out, outlen, "nginx -t: %.*s", (int)(end ? end - start : (long)strlen(start)),
	            start);
}

static int create_check(char **out_id, lp_ctx *ctx, const char *name, const char *const *binds,
                        const lp_docker_kv *labels, size_t nlabels, lp_error *err)
{
	const char *entry[] = {"nginx", NULL};
	const char *cmd[] = {"-t", NULL};
	/* The serve container's user, capabilities and file system (serve.c), so nginx -t runs as
	 * nginx will: what it cannot open or write there, it cannot in the check either. */
	const char *cap_drop[] = {"ALL", NULL};
	const char *secopt[] = {"no-new-privileges", NULL};
	const lp_docker_kv tmpfs[] = {
	    {LP_SERVE_TMP_DIR, LP_SERVE_TMP_OPTIONS},
	};
	lp_docker_create_config cc = {0};

	cc.name = name;
	cc.image = lp_ctx_cfg(ctx)->serve_image;
	/* The image's entrypoint script would try to edit the (read-only) config: run nginx. */
	cc.entrypoint = entry;
	cc.cmd = cmd;
	cc.user = LP_SERVE_USER;
	cc.labels = labels;
	cc.nlabels = nlabels;
	cc.binds = binds;
	cc.network = "none";
	cc.memory_bytes = CHECK_MEMORY;
	cc.pids_limit = CHECK_PIDS;
	cc.readonly_rootfs = 1;
	cc.tmpfs = tmpfs;
	cc.ntmpfs = sizeof(tmpfs) / sizeof(tmpfs[0]);
	cc.cap_drop = cap_drop;
	cc.security_opt = secopt;
	cc.restart_policy = "no";
	return lp_docker_container_create(out_id, lp_ctx_docker(ctx), &cc, err);
}

/* Run `nginx -t` in the serve image on stub (which includes the candidate config). */
static int nginx_check(int *out_ok, char *msg, size_t msglen, lp_ctx *ctx, const char *site, long n,
                       const char *site_dir, const char *stub, lp_error *err)
{
	const lp_config *cfg = lp_ctx_cfg(ctx);
	lp_docker *d = lp_ctx_docker(ctx);
	char build[LP_NAMES_MAX], name[LP_NAMES_MAX + sizeof(CHECK_PREFIX)],
	    bind_site[LP_FS_PATH_MAX + BIND_EXTRA], bind_conf[LP_FS_PATH_MAX + BIND_EXTRA],
	    rev[NUMBER_TEXT_MAX];
	const char *binds[] = {bind_site, bind_conf, NULL};
	lp_docker_kv labels[4];
	char *id = NULL;
	lp_buf out;
	lp_error rerr = {0};
	int rc, status = -1;

	*out_ok = 0;
	if ((rc = lp_names_build_container(build, sizeof(build), cfg->instance, site, n, err)) !=
	        LP_OK ||
	    lp_fmt(name, sizeof(name), CHECK_PREFIX "%s", build) != LP_OK ||
	    lp_fmt(bind_site, sizeof(bind_site), "%s:" LP_SERVE_HTML_DIR ":ro", site_dir) !=
	        LP_OK ||
	    lp_fmt(bind_conf, sizeof(bind_conf), "%s:" LP_SERVE_CONF_PATH ":ro", stub) != LP_OK ||
	    lp_fmt(rev, sizeof(rev), "%ld", n) != LP_OK)
		return rc != LP_OK
		           ? rc
		           : lp_error_set(err, LP_ETOOBIG, "check names of %s too long", site);
	/* Labelled as a build of the revision: a crash's leftover goes with the build leftovers. */
	labels[0] = (lp_docker_kv){LP_LABEL_INSTANCE, (char *)cfg->instance};
	labels[1] = (lp_docker_kv){LP_LABEL_SITE, (char *)site};
	labels[2] = (lp_docker_kv){LP_LABEL_ROLE, LP_ROLE_BUILD};
	labels[3] = (lp_docker_kv){LP_LABEL_REVISION, rev};
	lp_buf_init(&out, CHECK_OUTPUT_MAX);
	if (lp_docker_container_remove(d, name, LP_DOCKER_RM_FORCE | LP_DOCKER_RM_MISSING_OK,
	                               err) != LP_OK)
		goto fail;
	rc = create_check(&id, ctx, name, binds, labels, 4, err);
	if (rc == LP_ENOTFOUND) {
		LP_INFO(COMPONENT, "pulling serve image %s", cfg->serve_image);
		if ((rc = lp_docker_image_pull(d, cfg->serve_image, NULL, NULL, SERVE_PULL_MS, NULL,
		                               err)) == LP_OK)
			rc = create_check(&id, ctx, name, binds, labels, 4, err);
	}
	if (rc != LP_OK || (rc = lp_docker_container_start(d, id, err)) != LP_OK ||
	    (rc = lp_docker_container_wait(&status, d, id, NULL, NULL, err)) != LP_OK ||
	    (rc = lp_docker_container_logs(d, id, 0, collect, &out, NULL, err)) != LP_OK)
		goto fail;
	*out_ok = status == 0;
	if (!*out_ok)
		verdict(msg, msglen, lp_buf_cstr(&out));
fail:
	if (id != NULL && lp_docker_container_remove(
	                      d, id, LP_DOCKER_RM_FORCE | LP_DOCKER_RM_MISSING_OK, &rerr) != LP_OK)
		LP_WARN(COMPONENT, "%s: removing %s: %s (start-up removes it)", site, name,
		        rerr.message);
	free(id);
	lp_buf_release(&out);
	return rc != LP_OK ? lp_error_wrap(err, "checking revision %ld's nginx config", n) : LP_OK;
}

struct paths {
	char site_dir[LP_FS_PATH_MAX];
	char dir[LP_FS_PATH_MAX];
	char conf[LP_FS_PATH_MAX];
	char check[LP_FS_PATH_MAX];
	char stub[LP_FS_PATH_MAX];
};

static int paths_of(struct paths *p, const lp_config *cfg, const char *site, long n, lp_error *err)
{
	if (lp_layout_site(p->site_dir, sizeof(p->site_dir), cfg->data_dir, site) != LP_OK ||
	    lp_layout_rules_dir(p->dir, sizeof(p->dir), cfg->data_dir, site) != LP_OK ||
	    lp_layout_rules(p->conf, sizeof(p->conf), cfg->data_dir, site, n) != LP_OK ||
	    lp_fmt(p->check, sizeof(p->check), "%s/" CHECK_FILE "%ld.conf", p->dir, n) != LP_OK ||
	    lp_fmt(p->stub, sizeof(p->stub), "%s/" CHECK_FILE "%ld.stub", p->dir, n) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "rules paths of %s are too long", site);
	return LP_OK;
}

int lp_revconf_check_text(int *out_ok, char *msg, size_t msglen, lp_ctx *ctx, const char *site,
                          long n, const char *conf, lp_error *err)
{
	struct paths p;
	char inc[LP_FS_PATH_MAX], *stub = NULL;
	int rc, wrote = 0;

	*out_ok = 0;
	if ((rc = paths_of(&p, lp_ctx_cfg(ctx), site, n, err)) != LP_OK)
		return rc;
	if (lp_fmt(inc, sizeof(inc),
	           LP_SERVE_HTML_DIR "/" LP_LAYOUT_RULES_DIR "/" CHECK_FILE "%ld.conf", n) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "check path too long");
	if ((rc = lp_nginx_conf_stub(&stub, inc, NULL, err)) != LP_OK ||
	    (rc = lp_fs_mkdirs(p.dir, 0755, err)) != LP_OK ||
	    (rc = lp_fs_write_atomic(p.check, conf, strlen(conf), 0644, err)) != LP_OK ||
	    (rc = lp_fs_write_atomic(p.stub, stub, strlen(stub), 0644, err)) != LP_OK)
		goto done;
	wrote = 1;
	lp_ctx_count(ctx, LP_CTR_FILE_WRITES, 2);
	rc = nginx_check(out_ok, msg, msglen, ctx, site, n, p.site_dir, p.stub, err);
done:
	if (wrote && (unlink(p.check) == 0) + (unlink(p.stub) == 0) > 0)
		lp_ctx_count(ctx, LP_CTR_FILE_WRITES, 1);
	free(stub);
	return rc;
}

/*
 * The live revision m whose checked config is byte for byte what n's rules render to as revision
 * m, or 0. Then n's config differs from one nginx accepted only in the revision number of its root
 * and headers, which `nginx -t` does not open or judge, and the check would say what it said for
 * m: a content-only redeploy skips the throwaway container (~0.3 s). The live config is the
 * reference because the running nginx of the current image loaded it; any other difference (a
 * rule, a header, a 404 page) runs the check.
 */
static long same_as_live(const struct paths *p, const lp_site *spec, long n)
{
	char link[LP_FS_PATH_MAX], have[NUMBER_TEXT_MAX], live_path[LP_FS_PATH_MAX], *end = NULL;
	char *live = NULL, *mine = NULL;
	lp_revconf_result ignored = {0};
	struct rlog quiet = {.fd = -1, .quiet = 1};
	lp_error err = {0};
	size_t len = 0;
	ssize_t got;
	long m, same = 0;

	if (lp_fmt(link, sizeof(link), "%s/" LP_LAYOUT_RULES_CURRENT, p->dir) != LP_OK ||
	    (got = readlink(link, have, sizeof(have) - 1)) <= 0)
		return 0;
	have[got] = '\0';
	m = strtol(have, &end, 10);
	if (m <= 0 || m == n || end == NULL || strcmp(end, ".conf") != 0 ||
	    lp_fmt(live_path, sizeof(live_path), "%s/%s", p->dir, have) != LP_OK)
		return 0;
	if (lp_fs_read_file(&live, &len, live_path, LIVE_CONF_MAX, &err) == LP_OK &&
	    render(&mine, &ignored, spec, p->site_dir, n, m, &quiet, &err) == LP_OK &&
	    strlen(mine) == len && memcmp(mine, live, len) == 0)
		same = m;
	free(live);
	free(mine);
	return same;
}

int lp_revconf_prepare(lp_revconf_result *out, lp_ctx *ctx, const char *site, const lp_site *spec,
                       long n, lp_error *err)
{
	const lp_config *cfg = lp_ctx_cfg(ctx);
	struct paths p;
	struct rlog l;
	char *conf = NULL;
	int rc, ok = 0;
	long same;

	memset(out, 0, sizeof(*out));
	if ((rc = paths_of(&p, cfg, site, n, err)) != LP_OK)
		return rc;
	if (lp_fs_exists(p.conf))
		return LP_OK; /* checked when it was written */
	out->rendered = 1;
	rlog_open(&l, cfg, site, n);
	rlog_line(&l, "==> serve config: rules of revision %ld", n);
	rc = render(&conf, out, spec, p.site_dir, n, n, &l, err);
	if (rc == LP_EINVAL || rc == LP_ETOOBIG) {
		out->invalid = 1;
		lp_fmt_text(out->message, sizeof(out->message), "%s", err->message);
		rlog_line(&l, "error: %s; revision %ld is not served", out->message, n);
		rc = LP_OK;
		goto done;
	}
	if (rc != LP_OK)
		goto done;
	out->bytes = strlen(conf);
	if (lp_ctx_conf_passed(ctx, conf)) {
		/* (a new site's rules dir is made by the check it does not run) */
		if ((rc = lp_fs_mkdirs(p.dir, 0755, err)) != LP_OK ||
		    (rc = lp_fs_write_atomic(p.conf, conf, out->bytes, 0644, err)) != LP_OK)
			goto done;
		lp_ctx_count(ctx, LP_CTR_FILE_WRITES, 1);
		out->reused = -1;
		rlog_line(
		    &l,
		    "nginx -t: not run: this process checked the same text before, which passed "
		    "(%zu redirect rules, %zu warnings, %zu bytes of config)",
		    out->rules, out->warnings, out->bytes);
		goto done;
	}
	if ((same = same_as_live(&p, spec, n)) > 0) {
		if ((rc = lp_fs_write_atomic(p.conf, conf, out->bytes, 0644, err)) != LP_OK)
			goto done;
		lp_ctx_count(ctx, LP_CTR_FILE_WRITES, 1);
		out->reused = same;
		rlog_line(&l,
		          "nginx -t: not run: the rules of live revision %ld, which passed (%zu "
		          "redirect rules, %zu warnings, %zu bytes of config)",
		          same, out->rules, out->warnings, out->bytes);
		goto done;
	}
	if ((rc = lp_revconf_check_text(&ok, out->message, sizeof(out->message), ctx, site, n, conf,
	                                err)) != LP_OK)
		goto done;
	if (!ok) {
		out->invalid = 1;
		rlog_line(&l, "error: %s; revision %ld is not served", out->message, n);
		goto done;
	}
	/* Only a checked config takes the name a reload will use. */
	if ((rc = lp_fs_write_atomic(p.conf, conf, strlen(conf), 0644, err)) != LP_OK)
		goto done;
	lp_ctx_conf_remember(ctx, conf);
	lp_ctx_count(ctx, LP_CTR_FILE_WRITES, 1);
	rlog_line(&l, "nginx -t: ok (%zu redirect rules, %zu warnings, %zu bytes of config)",
	          out->rules, out->warnings, out->bytes);
done:
	rlog_close(&l);
	free(conf);
	return rc;
}

int lp_revconf_switch(int *out_changed, lp_ctx *ctx, const char *site, long n, lp_error *err)
{
	struct paths p;
	char link[LP_FS_PATH_MAX], tmp[LP_FS_PATH_MAX], target[NUMBER_TEXT_MAX],
	    have[NUMBER_TEXT_MAX];
	ssize_t len;
	int rc;

	*out_changed = 0;
	if ((rc = paths_of(&p, lp_ctx_cfg(ctx), site, n, err)) != LP_OK)
		return rc;
	if (lp_fmt(link, sizeof(link), "%s/" LP_LAYOUT_RULES_CURRENT, p.dir) != LP_OK ||
	    lp_fmt(tmp, sizeof(tmp), "%s/.current.tmp", p.dir) != LP_OK ||
	    lp_fmt(target, sizeof(target), "%ld.conf", n) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "rules link of %s too long", site);
	if (!lp_fs_exists(p.conf))
		return lp_error_set(err, LP_ENOTFOUND, "revision %ld of %s has no checked config",
		                    n, site);
	len = readlink(link, have, sizeof(have) - 1);
	if (len > 0) {
		have[len] = '\0';
		if (!strcmp(have, target))
			return LP_OK;
	}
	/* Like `current`: a fresh relative link renamed over the old one, so nginx sees one. */
	(void)unlink(tmp);
	if (symlink(target, tmp) != 0)
		return lp_error_set(err, LP_EIO, "symlink %s: %s", tmp, strerror(errno));
	if (rename(tmp, link) != 0) {
		rc = lp_error_set(err, LP_EIO, "rename %s: %s", tmp, strerror(errno));
		(void)unlink(tmp);
		return rc;
	}
	if ((rc = lp_fs_sync_dir(p.dir, err)) != LP_OK)
		return rc;
	lp_ctx_count(ctx, LP_CTR_FILE_WRITES, 1);
	*out_changed = 1;
	return LP_OK;
}

static int is_running_serve(const lp_docker_summary *s)
{
	const char *role = lp_docker_kv_get(s->labels, s->nlabels, LP_LABEL_ROLE);

	return role && !strcmp(role, LP_ROLE_SERVE) && s->state && !strcmp(s->state, "running");
}

int lp_revconf_reload(lp_ctx *ctx, const char *site, long n, const lp_docker_summaries *observed,
                      lp_error *err)
{
	struct paths p;
	char marker[LP_FS_PATH_MAX], head[NUMBER_TEXT_MAX], *old = NULL;
	lp_buf want;
	size_t i;
	int rc;

	if ((rc = paths_of(&p, lp_ctx_cfg(ctx), site, n, err)) != LP_OK)
		return rc;
	if (lp_fmt(marker, sizeof(marker), "%s/" MARKER_NAME, p.dir) != LP_OK ||
	    lp_fmt(head, sizeof(head), "revision %ld\n", n) != LP_OK)
		return lp_error_set(err, LP_ETOOBIG, "reload marker path of %s too long", site);
	if (lp_fs_read_file(&old, NULL, marker, MARKER_MAX, NULL) != LP_OK)
		old = NULL;
	lp_buf_init(&want, MARKER_MAX);
	rc = lp_buf_puts(&want, head);
	for (i = 0; rc == LP_OK && i < observed->n; i++) {
		const lp_docker_summary *o = &observed->items[i];
		int told;
		if (!is_running_serve(o))
			continue;
		told = old && !strncmp(old, head, strlen(head)) && strstr(old, o->id);
		if (!told) {
			/* SIGHUP: nginx checks and loads the new config; old workers finish first.
			 */
			LP_INFO(COMPONENT, "%s: reloading %.12s for revision %ld", site, o->id, n);
			rc = lp_docker_container_kill(lp_ctx_docker(ctx), o->id, "SIGHUP", err);
			if (rc ==
			    LP_ECONFLICT) /* it stopped meanwhile: it reads the config on start */
				rc = LP_OK;
		}
		if (rc == LP_OK)
			rc = lp_buf_printf(&want, "%s\n", o->id);
	}
	if (rc == LP_OK && (old == NULL || strcmp(old, lp_buf_cstr(&want)))) {
		if ((rc = lp_fs_write_atomic(marker, want.data, want.len, 0644, err)) == LP_OK)
			lp_ctx_count(ctx, LP_CTR_FILE_WRITES, 1);
	}
	lp_buf_release(&want);
	free(old);
	return rc;
}

void lp_revconf_prune(lp_ctx *ctx, const char *site)
{
	struct paths p;
	char rev[LP_FS_PATH_MAX], path[LP_FS_PATH_MAX];
	DIR *d;
	struct dirent *e;

	if (paths_of(&p, lp_ctx_cfg(ctx), site, 1, NULL) != LP_OK || (d = opendir(p.dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long n = strtol(e->d_name, &end, 10);
		if (n <= 0 || strcmp(end, ".conf"))
			continue;
		if (lp_fmt(rev, sizeof(rev), "%s/revisions/%ld", p.site_dir, n) != LP_OK ||
		    lp_fmt(path, sizeof(path), "%s/%s", p.dir, e->d_name) != LP_OK)
			continue;
		if (!lp_fs_exists(rev) && unlink(path) == 0)
			lp_ctx_count(ctx, LP_CTR_FILE_WRITES, 1);
	}
	closedir(d);
}

void lp_revconf_forget_checks(lp_ctx *ctx, const char *site)
{
	struct paths p;
	char path[LP_FS_PATH_MAX];
	struct dirent *e;
	size_t len;
	DIR *d;

	if (paths_of(&p, lp_ctx_cfg(ctx), site, 1, NULL) != LP_OK || (d = opendir(p.dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (strncmp(e->d_name, CHECK_FILE, strlen(CHECK_FILE)) || len < 5 ||
		    (strcmp(e->d_name + len - 5, ".conf") && strcmp(e->d_name + len - 5, ".stub")))
			continue;
		if (lp_fmt(path, sizeof(path), "%s/%s", p.dir, e->d_name) != LP_OK)
			continue;
		if (unlink(path) == 0) {
			LP_INFO(COMPONENT, "%s: removed %s of a check cut short", site, e->d_name);
			lp_ctx_count(ctx, LP_CTR_FILE_WRITES, 1);
		}
	}
	closedir(d);
}
