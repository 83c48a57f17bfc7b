/*
 * fuzz_api.h: the apiserver harnesses' platform: the real apiserver (lp_apiserver_new) in the
 * harness's own process on a loopback port, with its data in the scratch directory, and raw
 * HTTP/1.1 requests to it over a socket (so libmicrohttpd parses what the fuzzer writes exactly
 * as it would from a client).
 *
 * fz_api_start() runs once per process: it starts the server (1 MiB upload cap, log level error)
 * and creates two sites through the API itself: "fz-git" (a Git source, auto-deploy on, branch
 * main) and an archive site made by a multipart upload (its id in fz_api.archive_id). The server
 * runs until the process exits. A request's answer is the caller's (fz_api_resp_release).
 */
#ifndef LAUNCHPAD_FUZZ_API_H
#define LAUNCHPAD_FUZZ_API_H

#include <stddef.h>

#include "launchpad/buf.h"

#define FZ_API_TOKEN_MAX  128
#define FZ_API_ID_MAX     64
#define FZ_API_SECRET_MAX 128

struct fz_api {
	unsigned port;
	char token[FZ_API_TOKEN_MAX];
	char data_dir[4096];
	char archive_id[FZ_API_ID_MAX];         /* the archive site */
	char git_secret[FZ_API_SECRET_MAX];     /* fz-git's webhook secret */
	char archive_secret[FZ_API_SECRET_MAX]; /* the archive site's */
};

struct fz_api_resp {
	int status; /* 0: no status line came back */
	lp_buf head;
	lp_buf body;
};

/* The started platform (started on first call). */
const struct fz_api *fz_api_start(void);

/*
 * Send method path with the extra header lines (each "Name: value\r\n"; NULL for none), a
 * Content-Length and Connection: close, then the body; read the whole answer into out. With
 * FUZZ_API_LOG set in the environment, each request and its answer are printed to stderr.
 */
void fz_api_request(struct fz_api_resp *out, const char *method, const char *path,
                    const char *headers, const void *body, size_t len);
void fz_api_resp_release(struct fz_api_resp *r);

/*
 * The invariants of every answer: a status line, no 5xx, and a JSON body; an error (4xx) is the
 * {"error":{"code","message"}} shape. what names the request in the failure message.
 */
void fz_api_check_answer(const struct fz_api_resp *r, const char *what);

/* Wait up to a few seconds for uploads/.upload-* temp files to be gone; fail if they stay. */
void fz_api_check_no_temp_uploads(void);

#endif
