/*
 * crypto.h: SHA-256, HMAC-SHA256, constant-time comparison, random tokens and password hashes
 * (OpenSSL; scrypt for passwords).
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

/*
 * Password hashes: scrypt (N = 2^15, r = 8, p = 1: 32 MiB and ~0.1 s a hash, memory-hard) over a
 * fresh 16-byte salt, kept as "scrypt$15$8$1$<salt hex>$<hash hex>" so the cost can rise later
 * without invalidating stored hashes. Passwords longer than LP_PASSWORD_MAX are refused.
 */
#define LP_PASSWORD_MIN      8
#define LP_PASSWORD_MAX      1024
#define LP_PASSWORD_HASH_MAX 160 /* the text above, NUL included */
int lp_crypto_password_hash(char out[LP_PASSWORD_HASH_MAX], const char *password) LP_MUST_CHECK;
/*
 * LP_OK when password matches stored (compared in constant time), LP_EAUTH otherwise. stored NULL
 * or "" (an unknown user, or one that cannot log in) still spends one scrypt on a dummy hash, so
 * an unknown user takes as long to refuse as a wrong password.
 */
int lp_crypto_password_verify(const char *stored, const char *password) LP_MUST_CHECK;

#endif
