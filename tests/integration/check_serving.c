/*
 * check_serving.c: serving like Netlify, against the real nginx of the serve image.
 *
 * The revision's config is made by the controller's own code (controller/revconf.c: parse,
 * render, `nginx -t` in the serve image, switch) and served by a real container of the serve
 * image; every case is a real HTTP request read byte for byte (status, Location, body, headers).
 *   - a table of Netlify's documented behaviours (>= 40 cases), in the container and through
 *     Traefik on the platform;
 *   - hostile _redirects / _headers / file names: the config still passes nginx -t, each bad line
 *     warns, nothing outside a rule's meaning happens, and the site keeps working;
 *   - nginx -t refuses a broken config with its own message;
 *   - a redeploy that changes the rules, under load through Traefik: no failed request, the same
 *     container (a reload, not a restart), and a rollback brings the old rules back.
 */
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "controller/context.h"
#include "controller/nginx_conf.h"
#include "controller/revconf.h"
#include "launchpad/clock.h"
#include "launchpad/config.h"
#include "launchpad/fs.h"
#include "launchpad/layout.h"
#include "launchpad/spec.h"
#include "pipeline/precompress.h"
#include "tests/lib/load.h"
#include "tests/lib/platform.h"
#include "tests/lib/testutil.h"

#define SITE         "rules"
#define RESP_MAX     (256 * 1024)
#define HEAD_MAX     16384
#define IO_TIMEOUT_S 5
#define LIVE_WAIT_MS 90000
#define LOAD_THREADS 4
#define LOAD_RATE    200

/* ---- the fixture: files, rules, expectations ---- */

static const char *const g_files[] = {
    "index.html",
    "<p>HOME</p>",
    "about.html",
    "<p>ABOUT</p>",
    "docs/index.html",
    "<p>DOCS</p>",
    "404.html",
    "<p>NOTFOUND</p>",
    "en/404.html",
    "<p>EN-404</p>",
    "store-closed.html",
    "<p>CLOSED</p>",
    "exists.html",
    "<p>EXISTS</p>",
    "exists-forced.html",
    "<p>EXISTS-FORCED</p>",
    "app/index.html",
    "<p>APP</p>",
    "static/app-BfL3x9Q2.js",
    "console.log('vite');",
    "static/main.3f9a8b7c.css",
    "body{color:red}",
    "static/plain.js",
    "console.log('plain');",
    "assets/app.js",
    "console.log('assets');",
    "style.css",
    NULL, /* filled with a large text: precompressed */
    NULL,
    NULL,
};

static const char g_redirects[] = "# Netlify's examples, one behaviour each\n"
                                  "/home              /                        301\n"
                                  "/blog/my-post.php  /blog/my-post\n"
                                  "/news/*            /blog/:splat\n"
                                  "/a/:year/:slug     /b/:year-:slug           302\n"
                                  "/store   id=:id    /blog/:id                301\n"
                                  "/shop    id=:id  tag=:tag   /posts/:tag/:id  301\n"
                                  "/old-page          /new-page                307\n"
                                  "/moved-perm        /new                     308\n"
                                  "/see-other         /new                     303\n"
                                  "/pass-through      /about.html              200\n"
                                  "/ecommerce         /store-closed.html       404\n"
                                  "/en/*              /en/404.html             404\n"
                                  "/gone              /store-closed.html       410\n"
                                  "/exists.html       /about.html              200\n"
                                  "/exists-forced.html /about.html             200!\n"
                                  "/first             /one                     301\n"
                                  "/first             /two                     301\n"
                                  "/external          https://example.com/path 301\n"
                                  "/external-q        https://example.com/q?x=1 302\n"
                                  "/trailing/         /trailing-target         301\n"
                                  "/spa/*             /app/index.html          200\n"
                                  "/proxy/*           https://api.example.com/:splat 200\n"
                                  "/country           /uk                      302 Country=gb\n"
                                  "/cases/*           /cases-new/:splat        301\n"
                                  "/crlf              /crlf-target             301\r\n";

static const char g_headers[] = "/*\n"
                                "  X-Frame-Options: DENY\n"
                                "  X-Multi: one\n"
                                "/about.html\n"
                                "  X-Multi: two\n"
                                "  X-Only-About: yes\n"
                                "/assets/*\n"
                                "  Cache-Control: public, max-age=600\n"
                                "/docs/*\n"
                                "  X-Multi: three\n"
                                "  X-Multi: four\n"
                                "/about\n"
                                "  X-Pretty: yes\n";

#define IMMUTABLE  "public, max-age=31536000, immutable"
#define REVALIDATE "public, max-age=0, must-revalidate"

/* One request and what must come back. A header value "!" means: absent. */
struct tcase {
	const char *path;
	const char *req_header; /* extra request header line, or NULL */
	int status;
	const char *location; /* exact, or NULL: not checked ("!" absent) */
	const char *body;     /* substring, or NULL */
	const char *h1, *v1;
	const char *h2, *v2;
};

static const struct tcase g_cases[] = {
    {"/", NULL, 200, "!", "HOME", "X-Frame-Options", "DENY", "Cache-Control", REVALIDATE},
    {"/about", NULL, 200, "!", "ABOUT", "X-Pretty", "yes", "X-Multi", "one"},
    {"/about.html", NULL, 200, "!", "ABOUT", "X-Multi", "one, two", "X-Only-About", "yes"},
    {"/docs", NULL, 301, "/docs/", NULL, "X-Frame-Options", "DENY", NULL, NULL},
    {"/docs?x=1", NULL, 301, "/docs/?x=1", NULL, NULL, NULL, NULL, NULL},
    {"/docs/", NULL, 200, "!", "DOCS", "X-Multi", "one, three, four", NULL, NULL},
    {"/home", NULL, 301, "/", NULL, "X-Frame-Options", "DENY", "Cache-Control", REVALIDATE},
    {"/blog/my-post.php", NULL, 301, "/blog/my-post", NULL, NULL, NULL, NULL, NULL},
    {"/news/2024/hello", NULL, 301, "/blog/2024/hello", NULL, NULL, NULL, NULL, NULL},
    {"/news", NULL, 301, "/blog/", NULL, NULL, NULL, NULL, NULL},
    {"/news/x?utm=1", NULL, 301, "/blog/x?utm=1", NULL, NULL, NULL, NULL, NULL},
    {"/a/2024/hello", NULL, 302, "/b/2024-hello", NULL, NULL, NULL, NULL, NULL},
    {"/store?id=my-post", NULL, 301, "/blog/my-post", NULL, NULL, NULL, NULL, NULL},
    {"/store?foo=1&id=7", NULL, 301, "/blog/7", NULL, NULL, NULL, NULL, NULL},
    {"/store", NULL, 404, "!", "NOTFOUND", NULL, NULL, NULL, NULL},
    {"/shop?tag=x&id=9", NULL, 301, "/posts/x/9", NULL, NULL, NULL, NULL, NULL},
    {"/shop?id=9", NULL, 404, "!", "NOTFOUND", NULL, NULL, NULL, NULL},
    {"/old-page", NULL, 307, "/new-page", NULL, NULL, NULL, NULL, NULL},
    {"/moved-perm", NULL, 308, "/new", NULL, NULL, NULL, NULL, NULL},
    {"/see-other", NULL, 303, "/new", NULL, NULL, NULL, NULL, NULL},
    {"/pass-through", NULL, 200, "!", "ABOUT", NULL, NULL, NULL, NULL},
    {"/ecommerce", NULL, 404, "!", "CLOSED", "X-Frame-Options", "DENY", NULL, NULL},
    {"/en/missing", NULL, 404, "!", "EN-404", NULL, NULL, NULL, NULL},
    {"/gone", NULL, 410, "!", "CLOSED", NULL, NULL, NULL, NULL},
    {"/exists.html", NULL, 200, "!", "EXISTS", NULL, NULL, NULL, NULL},
    {"/exists-forced.html", NULL, 200, "!", "ABOUT", NULL, NULL, NULL, NULL},
    {"/first", NULL, 301, "/one", NULL, NULL, NULL, NULL, NULL},
    {"/external", NULL, 301, "https://example.com/path", NULL, NULL, NULL, NULL, NULL},
    {"/external?a=1", NULL, 301, "https://example.com/path?a=1", NULL, NULL, NULL, NULL, NULL},
    {"/external-q?a=1", NULL, 302, "https://example.com/q?x=1", NULL, NULL, NULL, NULL, NULL},
    {"/trailing", NULL, 301, "/trailing-target", NULL, NULL, NULL, NULL, NULL},
    {"/trailing/", NULL, 301, "/trailing-target", NULL, NULL, NULL, NULL, NULL},
    {"/spa/deep/link", NULL, 200, "!", "APP", NULL, NULL, NULL, NULL},
    {"/proxy/x", NULL, 404, "!", "NOTFOUND", NULL, NULL, NULL, NULL},
    {"/country", NULL, 404, "!", "NOTFOUND", NULL, NULL, NULL, NULL},
    {"/cases/a/b", NULL, 301, "/cases-new/a/b", NULL, NULL, NULL, NULL, NULL},
    {"/crlf", NULL, 301, "/crlf-target", NULL, NULL, NULL, NULL, NULL},
    {"/nope", NULL, 404, "!", "NOTFOUND", "X-Frame-Options", "DENY", "Cache-Control", REVALIDATE},
    {"/static/app-BfL3x9Q2.js", NULL, 200, "!", "vite", "Cache-Control", IMMUTABLE, "ETag", NULL},
    {"/static/main.3f9a8b7c.css", NULL, 200, "!", "color", "Cache-Control", IMMUTABLE, NULL, NULL},
    {"/static/plain.js", NULL, 200, "!", "plain", "Cache-Control", REVALIDATE, "Last-Modified",
     NULL},
    {"/static/missing-BfL3x9Q2.js", NULL, 404, "!", "NOTFOUND", "Cache-Control", REVALIDATE, NULL,
     NULL},
    {"/assets/app.js", NULL, 200, "!", "assets", "Cache-Control", "public, max-age=600", NULL,
     NULL},
    {"/style.css", "Accept-Encoding: gzip", 200, "!", NULL, "Content-Encoding", "gzip", "Vary",
     "Accept-Encoding"},
    {"/style.css", NULL, 200, "!", "lorem", "Content-Encoding", "!", "ETag", NULL},
    {"/_redirects", NULL, 404, "!", "NOTFOUND", NULL, NULL, NULL, NULL},
    {"/_headers", NULL, 404, "!", "NOTFOUND", NULL, NULL, NULL, NULL},
    {"/.launchpad/health", NULL, 200, "!", "ok", NULL, NULL, NULL, NULL},
    {"/.launchpad/nope", NULL, 404, "!", NULL, NULL, NULL, NULL, NULL},
};
#define NCASES (sizeof(g_cases) / sizeof(g_cases[0]))

/* ---- raw HTTP: every byte of the answer, nothing normalised ---- */

struct resp {
	int status;
	char head[HEAD_MAX];
	char *body;
	size_t blen;
	size_t clen_header; /* Content-Length as sent, or (size_t)-1 */
};

static void resp_release(struct resp *r)
{
	free(r->body);
	r->body = NULL;
}

/* The value of header name in r (case-insensitive), copied into out; 0 when absent. */
static int resp_header(char *out, size_t outlen, const struct resp *r, const char *name)
{
	const char *p = strstr(r->head, "\r\n");
	size_t n = strlen(name);

	while (p != NULL && p[2] != '\r' && p[2] != '\0') {
		const char *line = p + 2, *end = strstr(line, "\r\n");
		if (end == NULL)
			break;
		if (!strncasecmp(line, name, n) && line[n] == ':') {
			const char *v = line + n + 1;
			while (*v == ' ')
				v++;
			snprintf(out, outlen, "%.*s", (int)(end - v), v);
			return 1;
		}
		p = end;
	}
	return 0;
}

/* Send raw (a whole request) to ip:port, read the answer until the server closes. */
static int http_raw(struct resp *out, const char *ip, int port, const char *raw, size_t rawlen)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
	char *buf = malloc(RESP_MAX + 1), *sep;
	size_t len = 0;
	ssize_t n;
	int fd;

	memset(out, 0, sizeof(*out));
	out->clen_header = (size_t)-1;
	if (buf == NULL || inet_pton(AF_INET, ip, &a.sin_addr) != 1 ||
	    (fd = socket(AF_INET, SOCK_STREAM, 0)) < 0) {
		free(buf);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    write(fd, raw, rawlen) != (ssize_t)rawlen) {
		close(fd);
		free(buf);
		return -1;
	}
	while (len < RESP_MAX && (n = read(fd, buf + len, RESP_MAX - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	sep = strstr(buf, "\r\n\r\n");
	if (sep == NULL || sscanf(buf, "HTTP/1.%*d %d", &out->status) != 1) {
		free(buf);
		return -1;
	}
	snprintf(out->head, sizeof(out->head), "%.*s\r\n", (int)(sep - buf), buf);
	out->blen = len - (size_t)(sep + 4 - buf);
	out->body = malloc(out->blen + 1);
	if (out->body == NULL) {
		free(buf);
		return -1;
	}
	memcpy(out->body, sep + 4, out->blen);
	out->body[out->blen] = '\0';
	{
		char cl[32];
		if (resp_header(cl, sizeof(cl), out, "Content-Length"))
			out->clen_header = strtoul(cl, NULL, 10);
	}
	free(buf);
	return 0;
}

static int http_get(struct resp *out, const char *ip, int port, const char *host, const char *path,
                    const char *extra)
{
	char raw[4096];

	LP_TEST_FMT(raw, "GET %s HTTP/1.1\r\nHost: %s\r\n%s%sConnection: close\r\n\r\n", path, host,
	            extra ? extra : "", extra ? "\r\n" : "");
	return http_raw(out, ip, port, raw, strlen(raw));
}

/* Check one case; a failure message names the case. */
static void run_case(const struct tcase *c, const char *ip, int port, const char *host,
                     const char *where)
{
	struct resp r;
	char v[1024];
	const char *hn[2] = {c->h1, c->h2}, *hv[2] = {c->v1, c->v2};
	int i;

	ck_assert_msg(http_get(&r, ip, port, host, c->path, c->req_header) == 0,
	              "%s: GET %s: no HTTP answer", where, c->path);
	ck_assert_msg(r.status == c->status, "%s: GET %s answered %d, want %d\n%s%s", where,
	              c->path, r.status, c->status, r.head, r.body);
	if (c->location) {
		int has = resp_header(v, sizeof(v), &r, "Location");
		if (!strcmp(c->location, "!"))
			ck_assert_msg(!has, "%s: GET %s has Location %s", where, c->path, v);
		else
			ck_assert_msg(has && !strcmp(v, c->location),
			              "%s: GET %s: Location \"%s\", want \"%s\"", where, c->path,
			              has ? v : "(none)", c->location);
	}
	if (c->body)
		ck_assert_msg(strstr(r.body, c->body) != NULL, "%s: GET %s: body lacks \"%s\": %s",
		              where, c->path, c->body, r.body);
	for (i = 0; i < 2; i++) {
		int has;
		if (hn[i] == NULL)
			continue;
		has = resp_header(v, sizeof(v), &r, hn[i]);
		if (hv[i] == NULL)
			ck_assert_msg(has, "%s: GET %s: no %s header\n%s", where, c->path, hn[i],
			              r.head);
		else if (!strcmp(hv[i], "!"))
			ck_assert_msg(!has, "%s: GET %s: unexpected %s: %s", where, c->path, hn[i],
			              v);
		else
			ck_assert_msg(has && !strcmp(v, hv[i]),
			              "%s: GET %s: %s \"%s\", want \"%s\"", where, c->path, hn[i],
			              has ? v : "(none)", hv[i]);
	}
	resp_release(&r);
}

/* ---- the container fixture: the controller's code makes the config, real nginx serves it ---- */

struct fx {
	char *root;
	char data[1200];
	char site_dir[1300];
	char instance[48];
	char container[96];
	char ip[64];
	lp_config cfg;
	lp_ctx *ctx;
};

static struct fx g;

/*
 * The instance of this run, chosen once in the runner (the forked tests inherit it), so what a
 * failed test left (its serve and check containers) is removed when the case ends.
 */
static char g_instance[48];

static void run_setup(void)
{
	LP_TEST_FMT(g_instance, "servetest%d", (int)getpid());
}

static void run_teardown(void)
{
	char cmd[512];

	LP_TEST_FMT(cmd,
	            "ids=$(docker ps -aq --filter label=launchpad.instance=%s); "
	            "[ -z \"$ids\" ] || docker rm -f $ids >/dev/null",
	            g_instance);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove the containers of %s\n", g_instance);
}

static void write_file(const char *dir, const char *rel, const char *content, size_t len)
{
	char path[4096], parent[4096];
	lp_error err = {0};
	char *slash;

	LP_TEST_FMT(path, "%s/%s", dir, rel);
	LP_TEST_FMT(parent, "%s", path);
	slash = strrchr(parent, '/');
	*slash = '\0';
	ck_assert_msg(lp_fs_mkdirs(parent, 0755, &err) == LP_OK, "%s", err.message);
	ck_assert_msg(lp_fs_write_atomic(path, content, len, 0644, &err) == LP_OK, "%s",
	              err.message);
}

static char *big_css(void)
{
	static char css[20000];
	size_t i;

	for (i = 0; i + 40 < sizeof(css); i += 40)
		memcpy(css + i, "/* lorem ipsum dolor sit amet */ a{b:c}\n", 40);
	css[i] = '\0';
	return css;
}

/* The fixture's files (and extra path/content pairs) as revision n, precompressed as publish. */
static void write_revision(long n, const char *redirects, const char *headers,
                           const char *const *extra)
{
	char dir[1400];
	lp_precompress_result pr;
	lp_error err = {0};
	size_t i;
	int fd;

	LP_TEST_FMT(dir, "%s/revisions/%ld", g.site_dir, n);
	for (i = 0; g_files[i]; i += 2) {
		const char *c = g_files[i + 1] ? g_files[i + 1] : big_css();
		write_file(dir, g_files[i], c, strlen(c));
	}
	for (i = 0; extra && extra[i]; i += 2)
		write_file(dir, extra[i], extra[i + 1], strlen(extra[i + 1]));
	if (redirects)
		write_file(dir, "_redirects", redirects, strlen(redirects));
	if (headers)
		write_file(dir, "_headers", headers, strlen(headers));
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(fd, 0);
	ck_assert_msg(lp_precompress_tree(&pr, fd, &err) == LP_OK, "%s", err.message);
	close(fd);
	ck_assert_msg(pr.files >= 1, "style.css was not precompressed");
}

/* Warnings of revision n's log (the controller writes them there). */
static char *revision_log(long n)
{
	char path[1400];
	char *text = NULL;

	LP_TEST_FMT(path, "%s/logs/" SITE "/%ld.log", g.data, n);
	if (lp_fs_read_file(&text, NULL, path, 1 << 20, NULL) != LP_OK)
		return strdup("");
	return text;
}

static lp_revconf_result prepare(long n, const lp_site *spec)
{
	lp_revconf_result r;
	lp_error err = {0};
	int changed = 0;

	ck_assert_msg(lp_revconf_prepare(&r, g.ctx, SITE, spec, n, &err) == LP_OK, "%s",
	              err.message);
	if (!r.invalid)
		ck_assert_msg(lp_revconf_switch(&changed, g.ctx, SITE, n, &err) == LP_OK, "%s",
		              err.message);
	return r;
}

static void container_ip(void)
{
	char cmd[512];
	FILE *f;

	LP_TEST_FMT(
	    cmd, "docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' %s",
	    g.container);
	f = popen(cmd, "r");
	ck_assert(f != NULL);
	ck_assert(fgets(g.ip, sizeof(g.ip), f) != NULL);
	pclose(f);
	g.ip[strcspn(g.ip, "\n")] = '\0';
}

/*
 * Until every answer is revision n's: after a reload the old workers accept a little longer
 * while they shut down, so one answer is not enough; REVISION_STREAK in a row are.
 */
#define REVISION_STREAK 20
static void wait_revision(long n)
{
	char want[32];
	struct resp r;
	int64_t t0 = lp_clock_mono_ms();
	int streak = 0;

	LP_TEST_FMT(want, "%ld\n", n);
	for (;;) {
		if (http_get(&r, g.ip, LP_SERVE_PORT, "x", "/.launchpad/revision", NULL) == 0) {
			int ok = r.status == 200 && !strcmp(r.body, want);
			resp_release(&r);
			streak = ok ? streak + 1 : 0;
			if (streak == REVISION_STREAK)
				return;
			if (ok)
				continue;
		}
		ck_assert_msg(lp_clock_mono_ms() - t0 < 10000, "revision %ld never went live", n);
		lp_clock_sleep_ms(50);
	}
}

static void reload(void)
{
	lp_test_sh("docker kill -s HUP %s >/dev/null", g.container);
}

static void fx_setup(void)
{
	char stub_path[1400], inc[512], *stub = NULL;
	const char *image = getenv("LAUNCHPAD_TEST_SERVE_IMAGE");
	lp_error err = {0};

	lp_test_require_docker();
	memset(&g, 0, sizeof(g));
	g.root = lp_test_mkdtemp("lp-serving");
	LP_TEST_FMT(g.data, "%s/data", g.root);
	LP_TEST_FMT(g.site_dir, "%s/sites/" SITE, g.data);
	LP_TEST_FMT(g.instance, "%s", g_instance);
	LP_TEST_FMT(g.container, "%s-serve-%d", g.instance, (int)getpid());
	g.cfg.data_dir = g.data;
	g.cfg.docker_socket = "/var/run/docker.sock";
	g.cfg.instance = g.instance;
	g.cfg.serve_image = (char *)(image && *image ? image : "launchpad-test/nginx:local");
	ck_assert_msg(lp_ctx_new(&g.ctx, &g.cfg, &err) == LP_OK, "%s", err.message);
	ck_assert(lp_revconf_include_path(inc, sizeof(inc)) == LP_OK);
	ck_assert(lp_nginx_conf_stub(&stub, inc, NULL, &err) == LP_OK);
	LP_TEST_FMT(stub_path, "%s/default.conf", g.root);
	write_file(g.root, "default.conf", stub, strlen(stub));
	free(stub);
	ck_assert(lp_fs_mkdirs(g.site_dir, 0755, &err) == LP_OK);
	(void)stub_path;
}

static void fx_start_container(void)
{
	/* Run as the controller runs a serve container (serve.c): uid 101, no capability. */
	lp_test_sh(
	    "docker run -d --name %s --label launchpad.instance=%s --user " LP_SERVE_USER
	    " --cap-drop ALL --security-opt no-new-privileges --read-only --tmpfs " LP_SERVE_TMP_DIR
	    ":" LP_SERVE_TMP_OPTIONS " -v %s:/usr/share/nginx/html:ro "
	    "-v %s/default.conf:" LP_SERVE_CONF_PATH ":ro %s >/dev/null",
	    g.container, g.instance, g.site_dir, g.root, g.cfg.serve_image);
	container_ip();
}

static void fx_teardown(void)
{
	char cmd[512];

	LP_TEST_FMT(cmd, "docker rm -f %s >/dev/null 2>&1", g.container);
	if (system(cmd) != 0)
		fprintf(stderr, "(no container to remove)\n");
	lp_ctx_free(g.ctx);
	if (g.root) {
		lp_test_sh("rm -rf '%s'", g.root);
		free(g.root);
	}
}

static lp_site *spec_new(const char *redirects, const char *headers, int spa)
{
	lp_site *s = calloc(1, sizeof(*s));

	ck_assert(s != NULL);
	s->serve_spa = spa;
	s->serve_redirects = redirects ? strdup(redirects) : NULL;
	s->serve_headers = headers ? strdup(headers) : NULL;
	return s;
}

START_TEST(test_netlify_table_in_the_container)
{
	lp_site *spec = spec_new(NULL, NULL, 0);
	lp_revconf_result r;
	size_t i;

	write_revision(1, g_redirects, g_headers, NULL);
	r = prepare(1, spec);
	ck_assert_msg(!r.invalid, "nginx refused the fixture: %s", r.message);
	fx_start_container();
	wait_revision(1);
	for (i = 0; i < NCASES; i++)
		run_case(&g_cases[i], g.ip, LP_SERVE_PORT, "x", "container");
	printf("  %zu request cases against %s: all as Netlify documents\n", NCASES,
	       g.cfg.serve_image);
	{
		/* The .gz sibling is what goes out: its exact length, not a chunked on-the-fly one.
		 */
		char gz[1400];
		struct stat st;
		struct resp resp;
		LP_TEST_FMT(gz, "%s/revisions/1/style.css.gz", g.site_dir);
		ck_assert_int_eq(stat(gz, &st), 0);
		ck_assert_int_eq(http_get(&resp, g.ip, LP_SERVE_PORT, "x", "/style.css",
		                          "Accept-Encoding: gzip"),
		                 0);
		ck_assert_uint_eq(resp.clen_header, (size_t)st.st_size);
		resp_release(&resp);
	}
	lp_site_free(spec);
}
END_TEST

/* serve.spa, serve.redirects and serve.headers: spec rules first, then the files'. */
START_TEST(test_spec_rules_come_first_and_spa_is_last)
{
	lp_site *spec =
	    spec_new("/home /from-spec 302\n", "/*\n  X-Spec: yes\n  X-Multi: spec\n", 1);
	static const struct tcase cases[] = {
	    {"/home", NULL, 302, "/from-spec", NULL, "X-Spec", "yes", "X-Multi", "spec, one"},
	    {"/client/side/route", NULL, 200, "!", "HOME", NULL, NULL, NULL, NULL},
	    {"/about", NULL, 200, "!", "ABOUT", NULL, NULL, NULL, NULL},
	    {"/news/x", NULL, 301, "/blog/x", NULL, NULL, NULL, NULL, NULL},
	};
	lp_revconf_result r;
	size_t i;

	write_revision(1, g_redirects, g_headers, NULL);
	r = prepare(1, spec);
	ck_assert_msg(!r.invalid, "%s", r.message);
	fx_start_container();
	wait_revision(1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i], g.ip, LP_SERVE_PORT, "x", "spec rules");
	lp_site_free(spec);
}
END_TEST

/* ---- hostile input ---- */

static char g_long_line[3200];

/* Each line is one attack; the log must warn about every line that is not plain data. */
static const char g_hostile_redirects[] =
    "/x;return 200 pwned; /y 301\n"         /* directive smuggled in a path */
    "/a \"/b\" 301\n"                       /* quotes around a target */
    "/c /d$host 301\n"                      /* a variable in a target: literal */
    "/e /f};return 200 pwned; 301\n"        /* closing a block in a target */
    "/g{ /h 301\n"                          /* a brace in a path: literal */
    "/i\\ /j\\ 301\n"                       /* backslashes: literal */
    "/k\x01 /l 301\n"                       /* a control character */
    "/m\r/n 301\n"                          /* a CR inside a line */
    "/o /p 301!;\n"                         /* junk in the status */
    "/q /r 999\n"                           /* an unknown status */
    "/s https://evil.example/x 200\n"       /* an open proxy (SSRF) */
    "/t /u 302 Role=admin\n"                /* a role condition */
    "/v/* /w/:splat 200\n"                  /* splat, probed for traversal below */
    "/z1 /z2 301 } server { listen 81; }\n" /* a block after the status */
    "}\n"                                   /* a lone brace */
    "include /etc/passwd;\n"                /* a directive as a line */
    "/pct%zz /z 301\n"                      /* a broken percent escape */
    "/tab\t/tab-target\t301\n"              /* tabs separate fields: a real rule */
    "/hdr /x\"\r\nSet-Cookie: a=b 301\n";   /* header splitting in a target */

static const char g_hostile_headers[] = "/*\n"
                                        "  X-Evil: a;} server { listen 81; } #\n"
                                        "  X-Dollar: $host $request_uri ${x}\n"
                                        "  X-Quote: a\"b\\c\n"
                                        "  X-Bad Name: v\n"
                                        "  X-Ctl: a\x01"
                                        "b\n"
                                        "  Content-Length: 0\n"
                                        "  Set-Cookie: a=b\n"
                                        "  X-Split: a\rSet-Cookie: x\n"
                                        "/p;{\n"
                                        "  X-Brace-Path: yes\n";

static const char *const g_hostile_files[] = {
    "a;b.html",
    "<p>SEMI</p>",
    "$x.html",
    "<p>DOLLAR</p>",
    "{}.html",
    "<p>BRACES</p>",
    "evil.conf",
    "server { listen 81; return 200 pwned; }",
    "quote\".html",
    "<p>QUOTE</p>",
    "precomp.js.gz",
    "not really gzip",
    "precomp.js",
    NULL, /* filled large */
    NULL,
    NULL,
};

START_TEST(test_hostile_rules_change_nothing_but_warn)
{
	char
	    redirects[sizeof(g_redirects) + sizeof(g_hostile_redirects) + sizeof(g_long_line) + 64];
	char headers[sizeof(g_headers) + sizeof(g_hostile_headers) + sizeof(g_long_line) + 32];
	const char *files[sizeof(g_hostile_files) / sizeof(g_hostile_files[0]) + 1];
	static const struct tcase cases[] = {
	    {"/c", NULL, 301, "/d%24host", NULL, NULL, NULL, NULL, NULL},
	    {"/g%7B", NULL, 301, "/h", NULL, NULL, NULL, NULL, NULL},
	    {"/i%5C", NULL, 301, "/j%5C", NULL, NULL, NULL, NULL, NULL},
	    {"/tab", NULL, 301, "/tab-target", NULL, NULL, NULL, NULL, NULL},
	    {"/x;return", NULL, 404, "!", "NOTFOUND", NULL, NULL, NULL, NULL},
	    {"/o", NULL, 404, "!", "NOTFOUND", NULL, NULL, NULL, NULL},
	    {"/q", NULL, 404, "!", "NOTFOUND", NULL, NULL, NULL, NULL},
	    {"/s", NULL, 404, "!", "NOTFOUND", NULL, NULL, NULL, NULL},
	    {"/t", NULL, 404, "!", "NOTFOUND", NULL, NULL, NULL, NULL},
	    {"/z1", NULL, 404, "!", "NOTFOUND", NULL, NULL, NULL, NULL},
	    {"/hdr", NULL, 301, "/x%22", NULL, "Set-Cookie", "!", NULL, NULL},
	    {"/e", NULL, 404, "!", "NOTFOUND", NULL, NULL, NULL, NULL},
	    {"/v/..%2f..%2f..%2fetc/passwd", NULL, 400, "!", NULL, NULL, NULL, NULL, NULL},
	    {"/v/a/b/..%2f..%2f_redirects", NULL, 404, "!", "NOTFOUND", NULL, NULL, NULL, NULL},
	    {"/v/a/../../etc/passwd", NULL, 404, "!", "NOTFOUND", NULL, NULL, NULL, NULL},
	    {"/v2/static/../../2/secret.html", NULL, 404, "!", "NOTFOUND", NULL, NULL, NULL, NULL},
	    {"/v2/static/%2e%2e/%2e%2e/2/secret.html", NULL, 404, "!", "NOTFOUND", NULL, NULL, NULL,
	     NULL},
	    {"/v/x/%2e%2e/_redirects", NULL, 404, "!", "NOTFOUND", NULL, NULL, NULL, NULL},
	    {"/", NULL, 200, "!", "HOME", "X-Evil", "a;} server { listen 81; } #", "X-Quote",
	     "a\"b\\c"},
	    {"/", NULL, 200, "!", "HOME", "X-Dollar", "$host $request_uri ${x}", "Set-Cookie", "!"},
	    {"/", NULL, 200, "!", "HOME", "X-Ctl", "!", "X-Split", "!"},
	    {"/", NULL, 200, "!", "HOME", "Content-Length", "11", "X-Long", "!"},
	    {"/p;%7B", NULL, 404, "!", "NOTFOUND", "X-Brace-Path", "yes", NULL, NULL},
	    {"/a;b.html", NULL, 200, "!", "SEMI", NULL, NULL, NULL, NULL},
	    {"/$x.html", NULL, 200, "!", "DOLLAR", NULL, NULL, NULL, NULL},
	    {"/%7B%7D.html", NULL, 200, "!", "BRACES", NULL, NULL, NULL, NULL},
	    {"/quote%22.html", NULL, 200, "!", "QUOTE", NULL, NULL, NULL, NULL},
	    {"/evil.conf", NULL, 200, "!", "listen 81", NULL, NULL, NULL, NULL},
	    {"/precomp.js", "Accept-Encoding: gzip", 200, "!", "not really gzip", NULL, NULL, NULL,
	     NULL},
	};
	static const char *const warned[] = {
	    "_redirects:1:",  "_redirects:2:",  "_redirects:4:",  "_redirects:7:",
	    "_redirects:8:",  "_redirects:9:",  "_redirects:10:", "_redirects:11:",
	    "_redirects:12:", "_redirects:14:", "_redirects:15:", "_redirects:16:",
	    "_redirects:17:", "_redirects:20:", "_redirects:21:", "_headers:5:",
	    "_headers:6:",    "_headers:7:",    "_headers:8:",    "_headers:9:",
	    "_headers:12:",
	};
	/* A capture that climbs (x/../..) would reach revisions/2 through this rule: it must not.
	 */
	lp_site *spec = spec_new("/v2/* /:splat 200\n", NULL, 0);
	lp_revconf_result r;
	struct resp resp;
	char *log, conf_path[1400], *conf = NULL, secret[1400];
	size_t i, nok;

	/* The hostile lines come first so their line numbers are known; the fixture follows. */
	memset(g_long_line, 'a', sizeof(g_long_line) - 1);
	g_long_line[0] = '/';
	LP_TEST_FMT(redirects, "%s%s /long 301\n%s", g_hostile_redirects, g_long_line, g_redirects);
	LP_TEST_FMT(headers, "%s  X-Long: %s\n%s", g_hostile_headers, g_long_line, g_headers);
	for (i = 0; g_hostile_files[i]; i += 2) {
		files[i] = g_hostile_files[i];
		files[i + 1] = g_hostile_files[i] && !g_hostile_files[i + 1]
		                   ? big_css()
		                   : g_hostile_files[i + 1];
	}
	files[i] = NULL;
	write_revision(1, redirects, headers, files);
	LP_TEST_FMT(secret, "%s/revisions/2", g.site_dir);
	write_file(secret, "secret.html", "<p>SECRET</p>", 13);
	r = prepare(1, spec);
	ck_assert_msg(!r.invalid, "nginx refused the hostile revision: %s", r.message);
	log = revision_log(1);
	for (i = 0; i < sizeof(warned) / sizeof(warned[0]); i++)
		ck_assert_msg(strstr(log, warned[i]) != NULL, "no warning for %s in the log:\n%s",
		              warned[i], log);
	/* Nothing of an attack reaches the config outside a quoted string or a \xHH regex. */
	LP_TEST_FMT(conf_path, "%s/" LP_LAYOUT_RULES_DIR "/1.conf", g.site_dir);
	ck_assert(lp_fs_read_file(&conf, NULL, conf_path, 16 << 20, NULL) == LP_OK);
	ck_assert_msg(strstr(conf, "pwned") == NULL, "an attack's text reached the config");
	ck_assert_msg(strstr(conf, "listen 81") == NULL ||
	                  strstr(conf, "\"a;} server { listen 81; } #\""),
	              "listen 81 outside a quoted header value");
	ck_assert_msg(strstr(conf, "/etc/passwd") == NULL, "an include reached the config");
	fx_start_container();
	wait_revision(1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i], g.ip, LP_SERVE_PORT, "x", "hostile");
	/* The site is not broken: every case of the table still holds. */
	for (i = 0, nok = 0; i < NCASES; i++, nok++)
		run_case(&g_cases[i], g.ip, LP_SERVE_PORT, "x", "hostile+table");
	/* Nothing listens where a smuggled directive asked. */
	ck_assert_msg(http_get(&resp, g.ip, 81, "x", "/", NULL) != 0, "something answers on :81");
	/* Bytes nginx refuses in a request line never reach a rule or a Location. */
	{
		static const char raw_cr[] =
		    "GET /news/a\rSet-Cookie:x HTTP/1.1\r\nHost: x\r\n\r\n";
		static const char raw_nl[] = "GET /news/a\x01b HTTP/1.1\r\nHost: x\r\n\r\n";
		char v[256];
		ck_assert_int_eq(http_raw(&resp, g.ip, LP_SERVE_PORT, raw_cr, sizeof(raw_cr) - 1),
		                 0);
		ck_assert_msg(resp.status == 400 && !resp_header(v, sizeof(v), &resp, "Set-Cookie"),
		              "a raw CR answered %d", resp.status);
		resp_release(&resp);
		ck_assert_int_eq(http_raw(&resp, g.ip, LP_SERVE_PORT, raw_nl, sizeof(raw_nl) - 1),
		                 0);
		ck_assert_msg(resp.status == 400, "a raw control byte answered %d", resp.status);
		resp_release(&resp);
		ck_assert_int_eq(
		    http_get(&resp, g.ip, LP_SERVE_PORT, "x", "/news/a%0d%0aSet-Cookie:%20x", NULL),
		    0);
		ck_assert_msg(resp.status == 301 && !resp_header(v, sizeof(v), &resp, "Set-Cookie"),
		              "an encoded CRLF split the answer:\n%s", resp.head);
		ck_assert(resp_header(v, sizeof(v), &resp, "Location"));
		ck_assert_str_eq(v, "/blog/a%0d%0aSet-Cookie:%20x");
		resp_release(&resp);
	}
	printf("  %zu warnings; %zu hostile cases and %zu table cases hold\n", r.warnings,
	       sizeof(cases) / sizeof(cases[0]) + 4, nok);
	free(conf);
	free(log);
	lp_site_free(spec);
}
END_TEST

/* A config nginx refuses is not kept, and its message is nginx's own. */
START_TEST(test_nginx_refusal_keeps_the_previous_revision)
{
	lp_site *spec = spec_new(NULL, NULL, 0), *bad = spec_new(NULL, NULL, 0);
	lp_revconf_result r;
	lp_error err = {0};
	char msg[LP_ERROR_MESSAGE_MAX], path[1400];
	int ok = 1, changed = 0;

	write_revision(1, g_redirects, g_headers, NULL);
	r = prepare(1, spec);
	ck_assert(!r.invalid);
	fx_start_container();
	wait_revision(1);
	/* Real nginx, real refusal: a directive nginx does not know. */
	ck_assert_msg(lp_revconf_check_text(&ok, msg, sizeof(msg), g.ctx, SITE, 2,
	                                    "server { listen 80; no_such_directive on; }\n",
	                                    &err) == LP_OK,
	              "%s", err.message);
	ck_assert(!ok);
	ck_assert_msg(strstr(msg, "unknown directive \"no_such_directive\""), "message: %s", msg);
	/* A revision the renderer cannot carry (notFoundPage with a space) fails the same way. */
	bad->serve_not_found_page = strdup("not found.html");
	write_revision(2, g_redirects, g_headers, NULL);
	ck_assert(lp_revconf_prepare(&r, g.ctx, SITE, bad, 2, &err) == LP_OK);
	ck_assert_msg(r.invalid && strstr(r.message, "notFoundPage"), "%s", r.message);
	LP_TEST_FMT(path, "%s/" LP_LAYOUT_RULES_DIR "/2.conf", g.site_dir);
	ck_assert_msg(!lp_fs_exists(path), "a refused config was kept");
	ck_assert(lp_revconf_switch(&changed, g.ctx, SITE, 2, &err) == LP_ENOTFOUND);
	reload();
	wait_revision(1);
	run_case(&g_cases[0], g.ip, LP_SERVE_PORT, "x", "after a refusal");
	lp_site_free(spec);
	lp_site_free(bad);
}
END_TEST

/* Rules travel with their revision: switching and reloading, the other's rules apply at once. */
START_TEST(test_rules_travel_with_their_revision)
{
	lp_site *spec = spec_new(NULL, NULL, 0);
	static const struct tcase v1 = {"/home", NULL, 301, "/", NULL, NULL, NULL, NULL, NULL};
	static const struct tcase v2 = {"/home", NULL, 302, "/v2", NULL, "X-Rev", "2", NULL, NULL};
	lp_revconf_result r;

	write_revision(1, g_redirects, g_headers, NULL);
	write_revision(2, "/home /v2 302\n", "/*\n  X-Rev: 2\n", NULL);
	r = prepare(1, spec);
	ck_assert(!r.invalid);
	fx_start_container();
	wait_revision(1);
	run_case(&v1, g.ip, LP_SERVE_PORT, "x", "revision 1");
	r = prepare(2, spec);
	ck_assert(!r.invalid);
	reload();
	wait_revision(2);
	run_case(&v2, g.ip, LP_SERVE_PORT, "x", "revision 2");
	r = prepare(1, spec); /* a rollback: the checked config is still there, nothing renders */
	ck_assert(!r.invalid && !r.rendered);
	reload();
	wait_revision(1);
	run_case(&v1, g.ip, LP_SERVE_PORT, "x", "rolled back to 1");
	lp_site_free(spec);
}
END_TEST

/*
 * A redeploy whose rules render as the live revision's (content only) takes the live verdict
 * without a container, and still serves its own revision; other rules run nginx -t.
 */
START_TEST(test_same_rules_as_live_skip_the_check)
{
	lp_site *spec = spec_new(NULL, NULL, 0);
	lp_revconf_result r;

	write_revision(1, g_redirects, g_headers, NULL);
	r = prepare(1, spec);
	ck_assert(!r.invalid && r.rendered);
	ck_assert_int_eq(r.reused, 0); /* nothing live yet: checked */
	fx_start_container();
	wait_revision(1);
	write_revision(2, g_redirects, g_headers, NULL);
	r = prepare(2, spec);
	ck_assert(!r.invalid && r.rendered);
	ck_assert_int_eq(r.reused, 1);
	reload();
	wait_revision(2); /* the text is revision 2's, root and probe */
	run_case(&g_cases[0], g.ip, LP_SERVE_PORT, "x", "revision 2, check reused");
	write_revision(3, "/home /v3 302\n", g_headers, NULL);
	r = prepare(3, spec);
	ck_assert(!r.invalid && r.rendered);
	ck_assert_int_eq(r.reused, 0);                   /* another rule: nginx -t ran */
	write_revision(4, g_redirects, g_headers, NULL); /* live is 3, whose rules differ */
	r = prepare(4, spec);
	ck_assert_int_eq(r.reused, 0);
	lp_site_free(spec);
}
END_TEST

/* Another site whose config is the same text shares the check this process ran; other rules do
 * not. */
START_TEST(test_same_text_on_another_site_skips_the_check)
{
	lp_site *spec = spec_new(NULL, NULL, 0);
	lp_revconf_result r;
	lp_error err = {0};

	write_revision(1, g_redirects, g_headers, NULL);
	r = prepare(1, spec);
	ck_assert(!r.invalid && r.rendered);
	ck_assert_int_eq(r.reused, 0);
	lp_test_sh("mkdir -p %s/sites/second/revisions %s/sites/third/revisions/1 && cp -r "
	           "%s/revisions/1 %s/sites/second/revisions/ && cp -r %s/revisions/1/. "
	           "%s/sites/third/revisions/1/ && printf '/home /third 302\\n' > "
	           "%s/sites/third/revisions/1/_redirects",
	           g.data, g.data, g.site_dir, g.data, g.site_dir, g.data, g.data);
	ck_assert_msg(lp_revconf_prepare(&r, g.ctx, "second", spec, 1, &err) == LP_OK, "%s",
	              err.message);
	ck_assert(!r.invalid && r.rendered);
	ck_assert_int_eq(r.reused, -1);
	ck_assert_msg(lp_revconf_prepare(&r, g.ctx, "third", spec, 1, &err) == LP_OK, "%s",
	              err.message);
	ck_assert(!r.invalid && r.rendered);
	ck_assert_int_eq(r.reused, 0); /* another text: nginx -t ran */
	lp_site_free(spec);
}
END_TEST

/* ---- through Traefik, on the platform ---- */

static lp_test_platform *g_p;

static void plat_setup(void)
{
	lp_test_platform_options opts = {.edge = 1};
	lp_error err = {0};

	ck_assert_msg(lp_test_platform_start(&g_p, &opts, &err) == LP_OK, "%s", err.message);
}

static void plat_teardown(void)
{
	lp_error err = {0};
	int rc = lp_test_platform_stop(g_p, 0, &err);

	if (rc != LP_OK)
		lp_test_platform_dump_logs(g_p, 4000);
	lp_test_platform_free(g_p);
	g_p = NULL;
	ck_assert_msg(rc == LP_OK, "daemons did not stop cleanly: %s", err.message);
}

#define PLAT_REQUIRE(cond, ...)                                                                    \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			lp_test_platform_dump_logs(g_p, 6000);                                     \
			ck_abort_msg(__VA_ARGS__);                                                 \
		}                                                                                  \
	} while (0)

/* A zip of the fixture with these rules files. */
static void zip_site(const char *zip, const char *redirects, const char *headers)
{
	const char *files[64];
	lp_error err = {0};
	size_t i, n = 0;

	for (i = 0; g_files[i]; i += 2) {
		files[n++] = g_files[i];
		files[n++] = g_files[i + 1] ? g_files[i + 1] : big_css();
	}
	files[n++] = "_redirects";
	files[n++] = redirects;
	files[n++] = "_headers";
	files[n++] = headers;
	files[n] = NULL;
	PLAT_REQUIRE(lp_test_make_zip(zip, files, &err) == LP_OK, "%s", err.message);
}

static void edge_addr(char ip[64], int *port)
{
	const char *colon = strrchr(g_p->edge_http, ':');

	snprintf(ip, 64, "%.*s", (int)(colon - g_p->edge_http), g_p->edge_http);
	*port = atoi(colon + 1);
}

/* "<id> <StartedAt>" of the site's running serve containers: a restart changes the second. */
static void serve_container(char out[160], const char *slug)
{
	char cmd[512];
	FILE *f;

	out[0] = '\0';
	LP_TEST_FMT(cmd,
	            "docker inspect -f '{{.Id}} {{.State.StartedAt}}' $(docker ps -q --filter "
	            "label=launchpad.instance=%s --filter label=launchpad.site=%s --filter "
	            "label=launchpad.role=serve)",
	            g_p->instance, slug);
	if ((f = popen(cmd, "r")) == NULL)
		return;
	if (fgets(out, 160, f) != NULL)
		out[strcspn(out, "\n")] = '\0';
	pclose(f);
}

/* Until Traefik answers path on host with body (bounded). */
static void wait_edge_body(const char *host, const char *path, const char *body)
{
	char ip[64];
	int port;
	struct resp r;
	int64_t t0 = lp_clock_mono_ms();

	int streak = 0;

	edge_addr(ip, &port);
	for (;;) {
		if (http_get(&r, ip, port, host, path, NULL) == 0) {
			int ok = r.status == 200 && !strcmp(r.body, body);
			resp_release(&r);
			streak = ok ? streak + 1 : 0;
			if (streak == REVISION_STREAK)
				return;
			if (ok)
				continue;
		}
		PLAT_REQUIRE(lp_clock_mono_ms() - t0 < LIVE_WAIT_MS, "%s%s never answered %s", host,
		             path, body);
		lp_clock_sleep_ms(100);
	}
}

static int home_page(void *ctx, const char *body, size_t len)
{
	(void)ctx;
	return len > 0 && strstr(body, "HOME") != NULL;
}

START_TEST(test_through_traefik_table_redeploy_and_rollback)
{
	const char *fields[] = {"name", "edge-rules", "source_type", "zip", NULL};
	char *zip = lp_test_platform_path(g_p, "site.zip");
	char id[64], slug[64], host[128], ip[64], path[256], before[160], after[160], url[128];
	static const struct tcase v2 = {"/home", NULL, 302, "/v2", NULL, "X-Rev", "2", NULL, NULL};
	lp_test_http_resp r = {0};
	lp_test_load_stats st;
	lp_test_load *load = NULL;
	lp_error err = {0};
	const cJSON *v;
	size_t i;
	int port;

	PLAT_REQUIRE(zip != NULL, "oom");
	zip_site(zip, g_redirects, g_headers);
	PLAT_REQUIRE(lp_test_platform_upload(&r, g_p, "/api/deployments", fields, zip, &err) ==
	                 LP_OK,
	             "%s", err.message);
	PLAT_REQUIRE(r.status == 201, "create answered %ld: %s", r.status, r.body);
	v = cJSON_GetObjectItemCaseSensitive(r.json, "id");
	snprintf(id, sizeof(id), "%s", v->valuestring);
	v = cJSON_GetObjectItemCaseSensitive(r.json, "slug");
	snprintf(slug, sizeof(slug), "%s", v->valuestring);
	lp_test_http_resp_release(&r);
	lp_test_platform_site_host(host, sizeof(host), slug);
	wait_edge_body(host, "/.launchpad/revision", "1\n");
	edge_addr(ip, &port);
	for (i = 0; i < NCASES; i++)
		run_case(&g_cases[i], ip, port, host, "traefik");
	printf("  %zu request cases through Traefik: all as Netlify documents\n", NCASES);

	/* New rules under load: a reload in the same container, no request lost. */
	serve_container(before, slug);
	PLAT_REQUIRE(before[0], "no serve container");
	LP_TEST_FMT(url, "http://%s/", g_p->edge_http);
	PLAT_REQUIRE(lp_test_load_start(&load, url, host, LOAD_THREADS, LOAD_RATE, home_page, NULL,
	                                &err) == LP_OK,
	             "%s", err.message);
	lp_clock_sleep_ms(500);
	zip_site(zip, "/home /v2 302\n", "/*\n  X-Rev: 2\n");
	LP_TEST_FMT(path, "/api/deployments/%s/archive", id);
	PLAT_REQUIRE(lp_test_platform_upload(&r, g_p, path, NULL, zip, &err) == LP_OK, "%s",
	             err.message);
	PLAT_REQUIRE(r.status == 202, "archive upload answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
	wait_edge_body(host, "/.launchpad/revision", "2\n");
	run_case(&v2, ip, port, host, "traefik, revision 2");
	/* And back: the rollback restores revision 1's rules. */
	LP_TEST_FMT(path, "/api/deployments/%s/rollback", id);
	PLAT_REQUIRE(lp_test_platform_api(&r, g_p, "POST", path, "{\"revision\":1}", &err) == LP_OK,
	             "%s", err.message);
	PLAT_REQUIRE(r.status == 202, "rollback answered %ld: %s", r.status, r.body);
	lp_test_http_resp_release(&r);
	wait_edge_body(host, "/.launchpad/revision", "1\n");
	run_case(&g_cases[6], ip, port, host, "traefik, rolled back");
	/*
	 * A spec nginx could not carry (notFoundPage with a space) is refused by the API's
	 * validator, the one the controller re-parses with, and the served revision stays
	 * (test_nginx_refusal_keeps_the_previous_revision covers the controller's own refusal of
	 * such a revision).
	 */
	{
		char body[1024], spath[128];
		const cJSON *dg, *e, *d0, *field;
		LP_TEST_FMT(spath, "/api/deployments/%s", id);
		PLAT_REQUIRE(lp_test_platform_api(&r, g_p, "GET", spath, NULL, &err) == LP_OK, "%s",
		             err.message);
		dg = cJSON_GetObjectItemCaseSensitive(r.json, "archive_digest");
		PLAT_REQUIRE(cJSON_IsString(dg), "no digest: %s", r.body);
		LP_TEST_FMT(body,
		            "{\"apiVersion\":\"launchpad.dev/v1\",\"kind\":\"Site\",\"metadata\":"
		            "{\"name\":\"%s\"},\"spec\":{\"source\":{\"archive\":{\"digest\":"
		            "\"%s\"}},\"serve\":{\"notFoundPage\":\"not found.html\"}}}",
		            slug, dg->valuestring);
		lp_test_http_resp_release(&r);
		LP_TEST_FMT(spath, "/api/deployments/%s", slug); /* apply names the site */
		PLAT_REQUIRE(lp_test_platform_api(&r, g_p, "PUT", spath, body, &err) == LP_OK, "%s",
		             err.message);
		PLAT_REQUIRE(r.status == 400, "apply answered %ld: %s", r.status, r.body);
		e = cJSON_GetObjectItemCaseSensitive(r.json, "error");
		d0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e, "details"), 0);
		field = cJSON_GetObjectItemCaseSensitive(d0, "path");
		PLAT_REQUIRE(cJSON_IsString(field) &&
		                 !strcmp(field->valuestring, "spec.serve.notFoundPage"),
		             "refusal: %s", r.body);
		printf("  a spec nginx could not serve: %ld, %s\n", r.status, field->valuestring);
		lp_test_http_resp_release(&r);
		wait_edge_body(host, "/.launchpad/revision", "1\n");
		run_case(&g_cases[6], ip, port, host, "traefik, after a refused spec");
	}
	lp_clock_sleep_ms(500);
	lp_test_load_stop(&st, load);
	serve_container(after, slug);
	printf("  under load: %llu requests, %llu failed (first: %s); container %s -> %s\n",
	       (unsigned long long)st.requests, (unsigned long long)lp_test_load_failed(&st),
	       st.first_failure, before, after);
	PLAT_REQUIRE(lp_test_load_failed(&st) == 0, "%llu requests failed: %s",
	             (unsigned long long)lp_test_load_failed(&st), st.first_failure);
	PLAT_REQUIRE(st.requests > 0, "no load ran");
	PLAT_REQUIRE(!strcmp(before, after), "the serve container changed: %s -> %s", before,
	             after);
	free(zip);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("serving");
	TCase *c = tcase_create("container");
	TCase *t = tcase_create("traefik");

	tcase_add_unchecked_fixture(c, run_setup, run_teardown);
	tcase_add_checked_fixture(c, fx_setup, fx_teardown);
	tcase_set_timeout(c, 120);
	tcase_add_test(c, test_netlify_table_in_the_container);
	tcase_add_test(c, test_spec_rules_come_first_and_spa_is_last);
	tcase_add_test(c, test_hostile_rules_change_nothing_but_warn);
	tcase_add_test(c, test_nginx_refusal_keeps_the_previous_revision);
	tcase_add_test(c, test_rules_travel_with_their_revision);
	tcase_add_test(c, test_same_rules_as_live_skip_the_check);
	tcase_add_test(c, test_same_text_on_another_site_skips_the_check);
	suite_add_tcase(s, c);
	tcase_add_checked_fixture(t, plat_setup, plat_teardown);
	tcase_set_timeout(t, 300);
	tcase_add_test(t, test_through_traefik_table_redeploy_and_rollback);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return lp_test_run(suite());
}
