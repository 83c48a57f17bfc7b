/*
 * fuzz_webhook.c: GitHub webhook deliveries, POST /api/webhooks/github/:id, through the route's
 * intake (apiserver/webhook.c: the signature header's form before the body, the HMAC after it)
 * and the handler's payload parse (JSON, or the form's payload= field) and push reading.
 *
 * Input: byte 0 (bit 0: the archive site instead of fz-git; bit 1: a wrong, well-formed
 * signature), then three lines, X-GitHub-Event, Content-Type and X-GitHub-Delivery (control
 * bytes dropped; an empty one is not sent), then the body. The harness signs the body with the
 * site's real secret (HMAC-SHA256), so the fuzzer reaches the payload parse. The request goes to
 * the real apiserver in this process (fuzz/lib/fuzz_api.h). Invariants, beyond no crash, leak or
 * undefined behaviour in the server: an answer, never a 5xx, always JSON in the error shape for
 * 4xx; a wrong signature is always 401; a correctly signed delivery never is.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/lib/fuzz_api.h"
#include "fuzz/lib/fuzzlib.h"
#include "launchpad/buf.h"
#include "launchpad/crypto.h"
#include "launchpad/fmt.h"

#define FZ_HEADER_VALUE_MAX 512

/* A header line "Name: value\r\n" of f without its control bytes; nothing when it is empty. */
static void header(lp_buf *h, const char *name, const fz_field *f)
{
	char v[FZ_HEADER_VALUE_MAX];
	size_t i, n = 0;

	for (i = 0; i < f->len && n + 1 < sizeof(v); i++)
		if ((unsigned char)f->data[i] >= 0x20 && f->data[i] != 0x7f)
			v[n++] = f->data[i];
	v[n] = '\0';
	/* libmicrohttpd trims the value; one of only spaces is an empty header, sent as none */
	if (strspn(v, " \t") == n)
		return;
	if (lp_buf_printf(h, "%s: %s\r\n", name, v) != LP_OK)
		fz_fail("headers too long");
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_api_start();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fz_api *api = fz_api_start();
	char sig[LP_SHA256_HEX_LEN], path[256], what[320];
	const char *secret, *site;
	struct fz_api_resp r;
	int wrong;
	fz_field f[4];
	lp_buf h;

	if (size < 1)
		return 0;
	site = data[0] & 1 ? api->archive_id : "fz-git";
	secret = data[0] & 1 ? api->archive_secret : api->git_secret;
	wrong = (data[0] & 2) != 0;
	fz_split(f, 4, data + 1, size - 1, '\n');
	if (lp_crypto_hmac_sha256_hex(sig, wrong ? "not the secret" : secret,
	                              strlen(wrong ? "not the secret" : secret), f[3].data,
	                              f[3].len) != LP_OK)
		fz_fail("cannot sign");
	lp_buf_init(&h, 4096);
	if (lp_buf_printf(&h, "X-Hub-Signature-256: sha256=%s\r\n", sig) != LP_OK)
		fz_fail("headers too long");
	header(&h, "X-GitHub-Event", &f[0]);
	header(&h, "Content-Type", &f[1]);
	header(&h, "X-GitHub-Delivery", &f[2]);
	if (lp_fmt(path, sizeof(path), "/api/webhooks/github/%s", site) != LP_OK)
		fz_fail("path too long");
	fz_api_request(&r, "POST", path, lp_buf_cstr(&h), f[3].data, f[3].len);
	(void)lp_fmt_text(what, sizeof(what), "POST %s (%s signature)", path,
	                  wrong ? "wrong" : "right");
	fz_api_check_answer(&r, what);
	if (wrong && r.status != 401)
		fz_fail("%s: a wrong signature got %d: %s", what, r.status, lp_buf_cstr(&r.body));
	if (!wrong && r.status == 401)
		fz_fail("%s: a right signature got 401: %s", what, lp_buf_cstr(&r.body));
	fz_api_resp_release(&r);
	lp_buf_release(&h);
	return 0;
}
