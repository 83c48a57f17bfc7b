/*
 * error.h: the one error vocabulary of LaunchPad.
 *
 * Every fallible function returns an lp_code (LP_OK = 0, failures negative) and, when the caller
 * passes a non-NULL lp_error, fills it with the same code plus a human message. The codes are part
 * of the public contract (logs, API error bodies, CLI exit paths): append new ones at the end and
 * never renumber. lp_error is a plain value: nothing inside it needs freeing.
 */
#ifndef LAUNCHPAD_ERROR_H
#define LAUNCHPAD_ERROR_H

#include <stddef.h>

typedef enum lp_code {
	LP_OK = 0,
	LP_ERROR = -1,         /* unclassified failure */
	LP_ENOMEM = -2,        /* allocation failed */
	LP_EINVAL = -3,        /* bad input: validation, syntax, bad argument */
	LP_ENOTFOUND = -4,     /* no such site, revision, container, image, file */
	LP_EEXISTS = -5,       /* already exists (name taken) */
	LP_ECONFLICT = -6,     /* stale resource version; state forbids the operation */
	LP_ETOOBIG = -7,       /* a size or count limit was hit */
	LP_EIO = -8,           /* filesystem or database I/O failed */
	LP_EUNAVAILABLE = -9,  /* a dependency (Docker, the database) cannot be reached */
	LP_ETIMEOUT = -10,     /* a deadline passed */
	LP_ECANCELED = -11,    /* the work was cancelled (superseded, shutting down) */
	LP_EUNSUPPORTED = -12, /* unsupported media type, format or feature */
	LP_EAUTH = -13,        /* missing or wrong credentials, bad signature */
	LP_EFORBIDDEN = -14,   /* authenticated but not allowed */
	LP_EREMOTE = -15,      /* a remote peer (Docker, git server) refused with its own message */
	LP_EBUILD = -16,       /* the user's build failed (non-zero exit) */
	LP_EUNSAFE = -17,      /* input rejected by a safety rule (archive slip, link, device) */
	LP_EMETHOD = -18,      /* HTTP method not allowed on this route */
	LP_ESEMANTIC = -19,    /* well-formed input that cannot be processed (HTTP 422) */
	LP_ERATE = -20,        /* too many requests of this kind for now (HTTP 429) */
	LP_ESLOW = -21,        /* the client sent its request too slowly (HTTP 408) */
	LP_EURI = -22,         /* the request line is too long (HTTP 414) */
	LP_EHEADERS = -23,     /* the request headers are too large (HTTP 431) */
	LP_EVERSION = -24      /* an HTTP version the server does not speak (HTTP 505) */
} lp_code;

#define LP_ERROR_MESSAGE_MAX 1024

/*
 * Fallible functions are declared LP_MUST_CHECK: an lp_code nobody looks at is a compile error
 * (-Werror). A result that is deliberately let go is logged or explained where it is dropped.
 */
#define LP_MUST_CHECK __attribute__((warn_unused_result))

typedef struct lp_error {
	int code;
	char message[LP_ERROR_MESSAGE_MAX];
} lp_error;

/* A short, static, lowercase description of a code ("not found"). Never NULL. */
const char *lp_strerror(int code);

/* A stable machine name for a code ("not_found"), used in JSON error bodies. Never NULL. */
const char *lp_error_name(int code);

/* The HTTP status the API answers for a code (the single code→status table). */
int lp_error_http_status(int code);

/*
 * Record code and a printf-style message in err (which may be NULL) and return code, so a failure
 * path reads `return lp_error_set(err, LP_EINVAL, "bad %s", what);`.
 */
int lp_error_set(lp_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix err's message with "context: ", keeping its code. Returns err's code. */
int lp_error_wrap(lp_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#include "launchpad/banned.h"

#endif
