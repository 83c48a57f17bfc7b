/* crypto.c: thin wrappers over OpenSSL 3 for digests, HMAC and randomness. */
#include "launchpad/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdlib.h>

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

void lp_crypto_sha256(unsigned char out[LP_SHA256_LEN], const void *data, size_t len)
{
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
