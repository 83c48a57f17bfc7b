/* git_http_server.c: smart-HTTP Git server for tests (libmicrohttpd + `git http-backend` CGI). */
#include "tests/lib/git_http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <openssl/evp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launchpad/buf.h"

#define BODY_MAX       ((size_t)64 << 20)
#define CGI_HEADER_MAX ((size_t)64 << 10)
#define ENV_MAX        16

extern char **environ;

struct lp_test_git_server {
	struct MHD_Daemon *daemon;
	char *root;
	unsigned short port;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stall;
	char *redirect;   /* under lock: answer every request with a 302 to this base URL */
	char *auth;       /* under lock: the Authorization header every request needs, or NULL */
	unsigned refused; /* requests answered 401 */
	int tls;
	int stopping;
	uint64_t bytes_sent;
	uint64_t max_response;
	unsigned requests;
};

/* One HTTP request: its body is spooled to a memfd that becomes the CGI's stdin. */
struct request {
	int body_fd;
	size_t body_len;
	int too_big;
};

/* One CGI response being streamed back. */
struct response {
	lp_test_git_server *srv;
	pid_t pid;
	int fd;
	char *pending; /* body bytes read together with the CGI headers */
	size_t pending_len, pending_off;
	uint64_t sent;
};

/* Counted when produced, so a client that has the bytes always sees them counted. */
static void count(struct response *r, size_t n)
{
	lp_test_git_server *s = r->srv;

	pthread_mutex_lock(&s->lock);
	r->sent += n;
	s->bytes_sent += n;
	if (r->sent > s->max_response)
		s->max_response = r->sent;
	pthread_mutex_unlock(&s->lock);
}

static ssize_t read_body(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct response *r = cls;
	ssize_t n;

	if (r->pending_off < r->pending_len) {
		size_t k = r->pending_len - r->pending_off;
		if (k > max)
			k = max;
		memcpy(buf, r->pending + r->pending_off, k);
		r->pending_off += k;
		count(r, k);
		return (ssize_t)k;
	}
	do
		n = read(r->fd, buf, max);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (n < 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	count(r, (size_t)n);
	return n;
}

static void free_response(void *cls)
{
	struct response *r = cls;
	lp_test_git_server *s = r->srv;
	int st;

	close(r->fd);
	while (waitpid(r->pid, &st, 0) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&s->lock);
	s->requests++;
	pthread_mutex_unlock(&s->lock);
	free(r->pending);
	free(r);
}

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
	lp_buf *b = cls;

	/* A query past the buffer's cap stops the iteration: the request is then refused. */
	return lp_buf_printf(b, "%s%s%s%s", b->len ? "&" : "", key, value ? "=" : "",
	                     value ? value : "") == LP_OK
	           ? MHD_YES
	           : MHD_NO;
}

static char *env_str(const char *name, const char *value)
{
	lp_buf b;

	lp_buf_init(&b, 8192);
	if (lp_buf_printf(&b, "%s=%s", name, value ? value : "") != 0) {
		lp_buf_release(&b);
		return NULL;
	}
	return lp_buf_detach(&b);
}

/* Start `git http-backend` with the request body as stdin; returns its stdout (read end). */
static int spawn_cgi(pid_t *pid, lp_test_git_server *s, struct MHD_Connection *c, const char *url,
                     const char *method, struct request *rq)
{
	const char *ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	const char *cenc = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Encoding");
	const char *proto = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Git-Protocol");
	char *argv[] = {"git", "http-backend", NULL};
	char *env[ENV_MAX] = {0};
	char len[32];
	posix_spawn_file_actions_t fa;
	lp_buf q;
	int out[2] = {-1, -1}, n = 0, rc = -1, i;

	lp_buf_init(&q, 8192);
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_arg, &q);
	snprintf(len, sizeof(len), "%zu", rq->body_len);
	env[n++] = env_str("GIT_PROJECT_ROOT", s->root);
	env[n++] = env_str("GIT_HTTP_EXPORT_ALL", "1");
	env[n++] = env_str("PATH_INFO", url);
	env[n++] = env_str("QUERY_STRING", lp_buf_cstr(&q));
	env[n++] = env_str("REQUEST_METHOD", method);
	env[n++] = env_str("CONTENT_TYPE", ctype ? ctype : "");
	env[n++] = env_str("CONTENT_LENGTH", len);
	env[n++] = env_str("GATEWAY_INTERFACE", "CGI/1.1");
	env[n++] = env_str("REMOTE_ADDR", "127.0.0.1");
	env[n++] = env_str("PATH", getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	env[n++] = env_str("GIT_CONFIG_NOSYSTEM", "1");
	env[n++] = env_str("HOME", s->root);
	if (cenc)
		env[n++] = env_str("HTTP_CONTENT_ENCODING", cenc);
	if (proto)
		env[n++] = env_str("HTTP_GIT_PROTOCOL", proto);
	lp_buf_release(&q);
	for (i = 0; i < n; i++)
		if (env[i] == NULL)
			goto done;
	if (pipe2(out, O_CLOEXEC) != 0)
		goto done;
	lseek(rq->body_fd, 0, SEEK_SET);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, rq->body_fd, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	rc = posix_spawnp(pid, "git", &fa, NULL, argv, env) == 0 ? 0 : -1;
	posix_spawn_file_actions_destroy(&fa);
done:
	if (out[1] >= 0)
		close(out[1]);
	if (rc != 0 && out[0] >= 0) {
		close(out[0]);
		out[0] = -1;
	}
	for (i = 0; i < n; i++)
		free(env[i]);
	return rc == 0 ? out[0] : -1;
}

/* Read the CGI header block; leaves any body bytes read with it in r->pending. */
static int read_cgi_headers(struct response *r, lp_buf *hdr)
{
	char chunk[4096];

	for (;;) {
		char *end;
		ssize_t n = read(r->fd, chunk, sizeof(chunk));
		size_t hlen;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		if (lp_buf_append(hdr, chunk, (size_t)n) != 0)
			return -1;
		end = strstr(hdr->data, "\r\n\r\n");
		hlen = end ? (size_t)(end - hdr->data) + 4 : 0;
		if (end == NULL && (end = strstr(hdr->data, "\n\n")) != NULL)
			hlen = (size_t)(end - hdr->data) + 2;
		if (hlen == 0)
			continue;
		r->pending_len = hdr->len - hlen;
		r->pending = malloc(r->pending_len + 1);
		if (r->pending == NULL)
			return -1;
		memcpy(r->pending, hdr->data + hlen, r->pending_len);
		hdr->data[hlen] = '\0';
		hdr->len = hlen;
		return 0;
	}
}

static enum MHD_Result answer_plain(struct MHD_Connection *c, unsigned code, const char *text)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret = MHD_queue_response(c, code, resp);

	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result run_cgi(lp_test_git_server *s, struct MHD_Connection *c, const char *url,
                               const char *method, struct request *rq)
{
	struct MHD_Response *resp;
	struct response *r = calloc(1, sizeof(*r));
	unsigned status = 200;
	enum MHD_Result ret;
	lp_buf hdr;
	char *line, *save = NULL;

	if (r == NULL)
		return MHD_NO;
	r->srv = s;
	r->fd = spawn_cgi(&r->pid, s, c, url, method, rq);
	if (r->fd < 0) {
		free(r);
		return answer_plain(c, 500, "cannot run git http-backend\n");
	}
	lp_buf_init(&hdr, CGI_HEADER_MAX);
	if (read_cgi_headers(r, &hdr) != 0) {
		lp_buf_release(&hdr);
		free_response(r);
		return answer_plain(c, 502, "bad CGI response\n");
	}
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, read_body, r,
	                                         free_response);
	if (resp == NULL) {
		lp_buf_release(&hdr);
		free_response(r);
		return MHD_NO;
	}
	for (line = strtok_r(hdr.data, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		char *colon = strchr(line, ':');
		char *value;

		if (colon == NULL)
			continue;
		*colon = '\0';
		value = colon + 1;
		while (*value == ' ')
			value++;
		if (!strcasecmp(line, "Status"))
			status = (unsigned)atoi(value);
		else
			MHD_add_response_header(resp, line, value);
	}
	lp_buf_release(&hdr);
	ret = MHD_queue_response(c, status ? status : 500, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
	lp_test_git_server *s = cls;
	struct request *rq = *con_cls;
	int stopping;

	if (rq == NULL) {
		char *to = NULL;

		pthread_mutex_lock(&s->lock);
		while (s->stall && !s->stopping)
			pthread_cond_wait(&s->wake, &s->lock);
		stopping = s->stopping;
		if (s->auth != NULL) {
			const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
			                                            MHD_HTTP_HEADER_AUTHORIZATION);

			if (h == NULL || strcmp(h, s->auth) != 0) {
				struct MHD_Response *r = MHD_create_response_from_buffer(
				    0, NULL, MHD_RESPMEM_PERSISTENT);
				enum MHD_Result ret;

				s->refused++;
				s->requests++;
				pthread_mutex_unlock(&s->lock);
				MHD_add_response_header(r, "WWW-Authenticate",
				                        "Basic realm=\"git\"");
				ret = MHD_queue_response(c, 401, r);
				MHD_destroy_response(r);
				return ret;
			}
		}
		if (s->redirect != NULL) {
			const char *svc =
			    MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "service");

			if (asprintf(&to, "%s%s%s%s", s->redirect, url, svc ? "?service=" : "",
			             svc ? svc : "") < 0)
				to = NULL;
		}
		pthread_mutex_unlock(&s->lock);
		if (stopping)
			return MHD_NO;
		if (to != NULL) {
			struct MHD_Response *r =
			    MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
			enum MHD_Result ret;

			MHD_add_response_header(r, "Location", to);
			free(to);
			pthread_mutex_lock(&s->lock);
			s->requests++;
			pthread_mutex_unlock(&s->lock);
			ret = MHD_queue_response(c, 302, r);
			MHD_destroy_response(r);
			return ret;
		}
		rq = calloc(1, sizeof(*rq));
		if (rq == NULL)
			return MHD_NO;
		rq->body_fd = memfd_create("git-request", MFD_CLOEXEC);
		if (rq->body_fd < 0) {
			free(rq);
			return MHD_NO;
		}
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t off = 0;

		if (rq->body_len + *upload_data_size > BODY_MAX)
			rq->too_big = 1;
		while (!rq->too_big && off < *upload_data_size) {
			ssize_t w = write(rq->body_fd, upload_data + off, *upload_data_size - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				rq->too_big = 1;
				break;
			}
			off += (size_t)w;
		}
		rq->body_len += off;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rq->too_big)
		return answer_plain(c, 413, "request body too large\n");
	if (strcmp(method, "GET") && strcmp(method, "POST"))
		return answer_plain(c, 405, "method not allowed\n");
	return run_cgi(s, c, url, method, rq);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *con_cls;

	if (rq == NULL)
		return;
	close(rq->body_fd);
	free(rq);
	*con_cls = NULL;
}

int lp_test_git_server_start(lp_test_git_server **out, const char *project_root, lp_error *err)
{
	return lp_test_git_server_start_tls(out, project_root, NULL, NULL, err);
}

int lp_test_git_server_start_tls(lp_test_git_server **out, const char *project_root,
                                 const char *cert_pem, const char *key_pem, lp_error *err)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	const union MHD_DaemonInfo *info;
	lp_test_git_server *s;
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->root = strdup(project_root)) == NULL) {
		free(s);
		return lp_error_set(err, LP_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->tls = cert_pem != NULL;
	if (s->tls)
		s->daemon = MHD_start_daemon(
		    flags | MHD_USE_TLS, 0, NULL, NULL, handle, s, MHD_OPTION_SOCK_ADDR,
		    (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, completed, s,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60, MHD_OPTION_CONNECTION_LIMIT,
		    (unsigned int)64, MHD_OPTION_HTTPS_MEM_CERT, cert_pem, MHD_OPTION_HTTPS_MEM_KEY,
		    key_pem, MHD_OPTION_END);
	else
		s->daemon =
		    MHD_start_daemon(flags, 0, NULL, NULL, handle, s, MHD_OPTION_SOCK_ADDR,
		                     (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, completed,
		                     s, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
		                     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64, MHD_OPTION_END);
	if (s->daemon == NULL) {
		lp_test_git_server_stop(s);
		return lp_error_set(err, LP_EIO, "cannot start the test git server");
	}
	info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : 0;
	if (s->port == 0) {
		lp_test_git_server_stop(s);
		return lp_error_set(err, LP_EIO, "test git server has no port");
	}
	*out = s;
	return LP_OK;
}

void lp_test_git_server_stop(lp_test_git_server *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
	if (s->daemon)
		MHD_stop_daemon(s->daemon);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	free(s->root);
	free(s->redirect);
	free(s->auth);
	free(s);
}

unsigned short lp_test_git_server_port(const lp_test_git_server *s)
{
	return s->port;
}

char *lp_test_git_server_url(const lp_test_git_server *s, const char *repo)
{
	char buf[1024];

	/* TLS: the certificate names localhost (an IP address in a certificate is not checked
	 * by every TLS library libgit2 may use). */
	snprintf(buf, sizeof(buf), s->tls ? "https://localhost:%u/%s" : "http://127.0.0.1:%u/%s",
	         (unsigned)s->port, repo);
	return strdup(buf);
}

void lp_test_git_server_set_redirect(lp_test_git_server *s, const char *base)
{
	pthread_mutex_lock(&s->lock);
	free(s->redirect);
	s->redirect = base ? strdup(base) : NULL;
	pthread_mutex_unlock(&s->lock);
}

void lp_test_git_server_set_stall(lp_test_git_server *s, int on)
{
	pthread_mutex_lock(&s->lock);
	s->stall = on;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

uint64_t lp_test_git_server_bytes_sent(const lp_test_git_server *s)
{
	lp_test_git_server *m = (lp_test_git_server *)s;
	uint64_t v;

	pthread_mutex_lock(&m->lock);
	v = m->bytes_sent;
	pthread_mutex_unlock(&m->lock);
	return v;
}

unsigned lp_test_git_server_requests(const lp_test_git_server *s)
{
	lp_test_git_server *m = (lp_test_git_server *)s;
	unsigned v;

	pthread_mutex_lock(&m->lock);
	v = m->requests;
	pthread_mutex_unlock(&m->lock);
	return v;
}

uint64_t lp_test_git_server_max_response(const lp_test_git_server *s)
{
	lp_test_git_server *m = (lp_test_git_server *)s;
	uint64_t v;

	pthread_mutex_lock(&m->lock);
	v = m->max_response;
	pthread_mutex_unlock(&m->lock);
	return v;
}

void lp_test_git_server_reset_counters(lp_test_git_server *s)
{
	pthread_mutex_lock(&s->lock);
	s->bytes_sent = 0;
	s->max_response = 0;
	s->requests = 0;
	pthread_mutex_unlock(&s->lock);
}

void lp_test_git_server_set_basic_auth(lp_test_git_server *s, const char *user,
                                       const char *password)
{
	char *plain = NULL, *hdr = NULL;
	unsigned char b64[1024];
	int n;

	if (user && asprintf(&plain, "%s:%s", user, password) >= 0 && strlen(plain) < 700) {
		n = EVP_EncodeBlock(b64, (const unsigned char *)plain, (int)strlen(plain));
		if (n < 0 || asprintf(&hdr, "Basic %.*s", n, b64) < 0)
			hdr = NULL;
	}
	free(plain);
	pthread_mutex_lock(&s->lock);
	free(s->auth);
	s->auth = hdr;
	pthread_mutex_unlock(&s->lock);
}

unsigned lp_test_git_server_refused(const lp_test_git_server *s)
{
	lp_test_git_server *m = (lp_test_git_server *)s;
	unsigned n;

	pthread_mutex_lock(&m->lock);
	n = m->refused;
	pthread_mutex_unlock(&m->lock);
	return n;
}
