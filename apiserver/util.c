/* util.c: small pure helpers of the apiserver: listen addresses, webhook signatures, urldecode. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/apiserver_internal.h"
#include "launchpad/crypto.h"

int lp_api_listen_parse(char *host, size_t hostlen, unsigned *port, const char *listen,
                        lp_error *err)
{
	const char *colon;
	char *end;
	unsigned long p;
	size_t n;

	if (listen == NULL || (colon = strrchr(listen, ':')) == NULL)
		return lp_error_set(err, LP_EINVAL, "listen address \"%s\": expected host:port",
		                    listen ? listen : "");
	n = (size_t)(colon - listen);
	if (n >= hostlen)
		return lp_error_set(err, LP_EINVAL, "listen address \"%s\": host too long", listen);
	if (colon[1] == '\0')
		return lp_error_set(err, LP_EINVAL, "listen address \"%s\": missing port", listen);
	p = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || p > 65535 || colon[1] == '-' || colon[1] == '+')
		return lp_error_set(err, LP_EINVAL, "listen address \"%s\": bad port", listen);
	memcpy(host, listen, n);
	host[n] = '\0';
	if (!strcmp(host, "*"))
		host[0] = '\0';
	*port = (unsigned)p;
	return LP_OK;
}

int api_webhook_verify(const char *secret, const void *body, size_t len, const char *header)
{
	char mac[LP_SHA256_HEX_LEN], got[LP_SHA256_HEX_LEN];
	static const char prefix[] = "sha256=";
	size_t i, n;

	if (secret == NULL || *secret == '\0' || header == NULL ||
	    strncmp(header, prefix, sizeof(prefix) - 1) != 0)
		return LP_EAUTH;
	header += sizeof(prefix) - 1;
	if ((n = strlen(header)) >= sizeof(got))
		return LP_EAUTH;
	/* hex is case-insensitive; lp_crypto_hmac_sha256_hex produces lowercase */
	for (i = 0; i <= n; i++)
		got[i] = (char)tolower((unsigned char)header[i]);
	if (lp_crypto_hmac_sha256_hex(mac, secret, strlen(secret), body, len) != LP_OK)
		return LP_EAUTH;
	return lp_crypto_equal(mac, strlen(mac), got, n) ? LP_OK : LP_EAUTH;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t api_urldecode(char *s, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '+') {
			s[o++] = ' ';
		} else if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 &&
		           hexval(s[i + 2]) >= 0) {
			s[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			s[o++] = s[i];
		}
	}
	if (o < len)
		s[o] = '\0';
	return o;
}
