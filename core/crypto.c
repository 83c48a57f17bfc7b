/* crypto.c: thin wrappers over OpenSSL 3 for digests, HMAC, randomness and password hashes. */
#include "launchpad/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launchpad/fmt.h"

void lp_crypto_hex_encode(char *out, const unsigned char *in, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

/*
 * SHA-256 fetched once: SHA256() looks the method up in the provider store on every call, which
 * was most of the cost of hashing an API token (perf: EVP_MD_fetch, 3% of a GET of one site).
 */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void lp_crypto_sha256(unsigned char out[LP_SHA256_LEN], const void *data, size_t len)
{
	unsigned int n = 0;

	pthread_once(&sha256_once, sha256_fetch);
	/* without the fetched method (no provider), the one-shot call, as before */
	if (sha256_md == NULL || EVP_Digest(data, len, out, &n, sha256_md, NULL) != 1 ||
	    n != LP_SHA256_LEN)
		SHA256(data, len, out);
}

void lp_crypto_sha256_hex(char out[LP_SHA256_HEX_LEN], const void *data, size_t len)
{
	unsigned char md[LP_SHA256_LEN];

	lp_crypto_sha256(md, data, len);
	lp_crypto_hex_encode(out, md, sizeof(md));
}

int lp_crypto_hmac_sha256_hex(char out[LP_SHA256_HEX_LEN], const void *key, size_t keylen,
                              const void *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (HMAC(EVP_sha256(), key, (int)keylen, data, len, md, &mdlen) == NULL ||
	    mdlen != LP_SHA256_LEN)
		return LP_ERROR;
	lp_crypto_hex_encode(out, md, mdlen);
	return LP_OK;
}

int lp_crypto_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	if (alen != blen)
		return 0;
	return CRYPTO_memcmp(a, b, alen) == 0;
}

int lp_crypto_random_hex(char *out, size_t nbytes)
{
	unsigned char *raw = malloc(nbytes ? nbytes : 1);
	int rc = LP_OK;

	if (raw == NULL)
		return LP_ENOMEM;
	if (RAND_bytes(raw, (int)nbytes) != 1) {
		rc = LP_ERROR;
		goto done;
	}
	lp_crypto_hex_encode(out, raw, nbytes);
done:
	free(raw);
	return rc;
}

/* ---- password hashes ---- */

#define PW_LOG_N      15
#define PW_R          8
#define PW_P          1
#define PW_SALT_BYTES 16
#define PW_HASH_BYTES 32
#define PW_MAXMEM     ((uint64_t)64 << 20) /* scrypt needs 128 * N * r = 32 MiB at these costs */

static int pw_derive(unsigned char out[PW_HASH_BYTES], const char *password,
                     const unsigned char *salt, size_t saltlen, int log_n, int r, int p)
{
	if (EVP_PBE_scrypt(password, strlen(password), salt, saltlen, (uint64_t)1 << log_n,
	                   (uint64_t)r, (uint64_t)p, PW_MAXMEM, out, PW_HASH_BYTES) != 1)
		return LP_ERROR;
	return LP_OK;
}

int lp_crypto_password_hash(char out[LP_PASSWORD_HASH_MAX], const char *password)
{
	unsigned char salt[PW_SALT_BYTES], hash[PW_HASH_BYTES];
	char salt_hex[2 * PW_SALT_BYTES + 1], hash_hex[2 * PW_HASH_BYTES + 1];
	int rc;

	out[0] = '\0';
	if (password == NULL || strnlen(password, LP_PASSWORD_MAX + 1) > LP_PASSWORD_MAX)
		return LP_EINVAL;
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return LP_ERROR;
	if ((rc = pw_derive(hash, password, salt, sizeof(salt), PW_LOG_N, PW_R, PW_P)) != LP_OK)
		return rc;
	lp_crypto_hex_encode(salt_hex, salt, sizeof(salt));
	lp_crypto_hex_encode(hash_hex, hash, sizeof(hash));
	OPENSSL_cleanse(hash, sizeof(hash));
	return lp_fmt(out, LP_PASSWORD_HASH_MAX, "scrypt$%d$%d$%d$%s$%s", PW_LOG_N, PW_R, PW_P,
	              salt_hex, hash_hex);
}

static int hex_decode(unsigned char *out, size_t outlen, const char *hex, size_t hexlen)
{
	size_t i;

	if (hexlen != 2 * outlen)
		return LP_EINVAL;
	for (i = 0; i < hexlen; i++) {
		int c = hex[i], v = c >= '0' && c <= '9'   ? c - '0'
		                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
		                                           : -1;

		if (v < 0)
			return LP_EINVAL;
		out[i / 2] = (unsigned char)(i % 2 ? (out[i / 2] | v) : v << 4);
	}
	return LP_OK;
}

/* "scrypt$15$8$1$<salt>$<hash>" into its parts; LP_EINVAL for anything else. */
static int pw_parse(int *log_n, int *r, int *p, unsigned char salt[PW_SALT_BYTES],
                    unsigned char hash[PW_HASH_BYTES], const char *stored)
{
	char salt_hex[2 * PW_SALT_BYTES + 1], hash_hex[2 * PW_HASH_BYTES + 1];
	int used = 0;

	if (sscanf(stored, "scrypt$%2d$%2d$%2d$%32[0-9a-f]$%64[0-9a-f]%n", log_n, r, p, salt_hex,
	           hash_hex, &used) != 5 ||
	    stored[used] != '\0' || *log_n < 10 || *log_n > 20 || *r < 1 || *r > 16 || *p < 1 ||
	    *p > 4)
		return LP_EINVAL;
	if (hex_decode(salt, PW_SALT_BYTES, salt_hex, strlen(salt_hex)) != LP_OK ||
	    hex_decode(hash, PW_HASH_BYTES, hash_hex, strlen(hash_hex)) != LP_OK)
		return LP_EINVAL;
	return LP_OK;
}

int lp_crypto_password_verify(const char *stored, const char *password)
{
	/* the cost of a real hash, for users that have none */
	static const unsigned char dummy_salt[PW_SALT_BYTES] = {0};
	unsigned char salt[PW_SALT_BYTES], want[PW_HASH_BYTES], got[PW_HASH_BYTES];
	int log_n = PW_LOG_N, r = PW_R, p = PW_P, known, rc;

	if (password == NULL || strnlen(password, LP_PASSWORD_MAX + 1) > LP_PASSWORD_MAX)
		password = "";
	known = stored != NULL && pw_parse(&log_n, &r, &p, salt, want, stored) == LP_OK;
	if (!known) {
		memcpy(salt, dummy_salt, sizeof(salt));
		memset(want, 0, sizeof(want));
		log_n = PW_LOG_N;
		r = PW_R;
		p = PW_P;
	}
	if ((rc = pw_derive(got, password, salt, sizeof(salt), log_n, r, p)) != LP_OK)
		return rc;
	rc = CRYPTO_memcmp(got, want, sizeof(got)) == 0 && known ? LP_OK : LP_EAUTH;
	OPENSSL_cleanse(got, sizeof(got));
	OPENSSL_cleanse(want, sizeof(want));
	return rc;
}
