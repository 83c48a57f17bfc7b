/* dashboard.c: the built dashboard's static files at /, with the SPA fallback and cache rules. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apiserver/apiserver_internal.h"
#include "launchpad/fmt.h"

#define DASH_PATH_MAX     1024 /* longest request path served */
#define DASH_SEGMENTS_MAX 16   /* deepest file served */
#define DASH_INDEX        "index.html"
#define DASH_ASSETS       "/assets/" /* Vite's hashed assets: never change under their name */

static const struct {
	const char *ext;
	const char *type;
} mime_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".webp", "image/webp"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".woff", "font/woff"},
    {".txt", "text/plain; charset=utf-8"},
    {".webmanifest", "application/manifest+json"},
};

static const char *mime_of(const char *path)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	size_t i;

	if (dot && (slash == NULL || dot > slash))
		for (i = 0; i < sizeof(mime_types) / sizeof(mime_types[0]); i++)
			if (!strcmp(dot, mime_types[i].ext))
				return mime_types[i].type;
	return "application/octet-stream";
}

/* 1 when the last segment of path has a dot: a file name, not a client route. */
static int looks_like_file(const char *path)
{
	const char *slash = strrchr(path, '/');

	return strchr(slash ? slash + 1 : path, '.') != NULL;
}

/*
 * Open rel (no leading '/') under dirfd one segment at a time, never following a link and never
 * leaving the directory: ".", ".." and empty segments are refused. A regular file's fd, or -1.
 */
static int open_beneath(int dirfd, const char *rel, struct stat *st)
{
	char copy[DASH_PATH_MAX], *seg, *save = NULL, *next;
	int fd = dup(dirfd), nfd, depth = 0;

	if (fd < 0 || lp_fmt(copy, sizeof(copy), "%s", rel) != LP_OK)
		goto fail;
	for (seg = strtok_r(copy, "/", &save); seg; seg = next) {
		next = strtok_r(NULL, "/", &save);
		if (!strcmp(seg, ".") || !strcmp(seg, "..") || ++depth > DASH_SEGMENTS_MAX)
			goto fail;
		nfd = openat(fd, seg, (next ? O_DIRECTORY : 0) | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if ((fd = nfd) < 0)
			return -1;
	}
	if (depth == 0 || fstat(fd, st) != 0 || !S_ISREG(st->st_mode))
		goto fail;
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

static void reply_file(struct api_req *r, int fd, const struct stat *st, const char *name,
                       int immutable)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_fd((uint64_t)st->st_size, fd); /* takes fd */

	if (resp == NULL) {
		close(fd);
		api_reply_error(r, LP_ENOMEM, NULL, "out of memory");
		return;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, mime_of(name));
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	/* Hashed assets never change under their name; the page itself must be asked for anew. */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	                        immutable ? "public, max-age=31536000, immutable" : "no-cache");
	if (!immutable) {
		MHD_add_response_header(resp, "X-Frame-Options", "DENY");
		MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
	}
	api_reply_raw(r, MHD_HTTP_OK, resp, (size_t)st->st_size);
}

void api_h_dashboard(struct api_req *r)
{
	const char *rel = r->url + strspn(r->url, "/");
	int immutable = !strncmp(r->url, DASH_ASSETS, strlen(DASH_ASSETS));
	struct stat st;
	int fd;

	if (r->srv->dashboard_fd < 0) {
		api_reply_error(r, LP_ENOTFOUND, NULL,
		                "no route for %s %s (no dashboard is configured: --dashboard-dir)",
		                r->method, r->url);
		return;
	}
	if (strlen(r->url) >= DASH_PATH_MAX || strchr(r->url, '\\')) {
		api_reply_error(r, LP_ENOTFOUND, NULL, "no such file: %.200s", r->url);
		return;
	}
	if (*rel && (fd = open_beneath(r->srv->dashboard_fd, rel, &st)) >= 0) {
		reply_file(r, fd, &st, rel, immutable);
		return;
	}
	/* A missing asset is a 404; any other path is a client route of the single-page app. */
	if (immutable || looks_like_file(rel)) {
		api_reply_error(r, LP_ENOTFOUND, NULL, "no such file: %.200s", r->url);
		return;
	}
	if ((fd = open_beneath(r->srv->dashboard_fd, DASH_INDEX, &st)) < 0) {
		api_reply_error(r, LP_ENOTFOUND, NULL, "the dashboard has no %s", DASH_INDEX);
		return;
	}
	reply_file(r, fd, &st, DASH_INDEX, 0);
}

int api_dashboard_open(lp_apiserver *s, lp_error *err)
{
	const char *dir = s->cfg->dashboard_dir;

	s->dashboard_fd = -1;
	if (dir == NULL || *dir == '\0')
		return LP_OK;
	s->dashboard_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dashboard_fd < 0)
		return lp_error_set(err, LP_ENOTFOUND, "--dashboard-dir %s: %s", dir,
		                    strerror(errno));
	return LP_OK;
}
