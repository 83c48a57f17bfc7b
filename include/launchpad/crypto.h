/*
 * crypto.h: SHA-256, HMAC-SHA256, constant-time comparison and random tokens (OpenSSL).
 *
 * Output buffers are caller-provided and sized by the LP_SHA256_* constants; nothing is allocated.
 */
#ifndef LAUNCHPAD_CRYPTO_H
#define LAUNCHPAD_CRYPTO_H

#include <stddef.h>

#include "launchpad/error.h"

#define LP_SHA256_LEN     32
#define LP_SHA256_HEX_LEN 65 /* 64 hex digits + NUL */

void lp_crypto_sha256(unsigned char out[LP_SHA256_LEN], const void *data, size_t len);
void lp_crypto_sha256_hex(char out[LP_SHA256_HEX_LEN], const void *data, size_t len);
void lp_crypto_hex_encode(char *out, const unsigned char *in, size_t len); /* out: 2*len+1 bytes */

/* HMAC-SHA256 of data under key, as lowercase hex. */
int lp_crypto_hmac_sha256_hex(char out[LP_SHA256_HEX_LEN], const void *key, size_t keylen,
                              const void *data, size_t len) LP_MUST_CHECK;

/* Constant-time equality of two byte strings of equal length (different lengths: 0). */
int lp_crypto_equal(const void *a, size_t alen, const void *b, size_t blen);

/* nbytes random bytes from the OS CSPRNG, hex-encoded into out (2*nbytes+1 bytes). */
int lp_crypto_random_hex(char *out, size_t nbytes) LP_MUST_CHECK;

#endif
