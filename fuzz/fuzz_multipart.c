/*
 * fuzz_multipart.c: the apiserver's form intake: POST /api/deployments (multipart/form-data or
 * JSON, the seed API's create) and POST /api/deployments/:id/archive (a new upload), through
 * libmicrohttpd's multipart parser into apiserver/server.c's on_form_part, the upload sink
 * (apiserver/upload.c, with lp_archive_check) and the handlers (apiserver/deployments.c).
 *
 * Input: byte 0 picks the route (even: create, odd: the archive site's new revision); then the
 * Content-Type header value up to the first '\n' (control bytes dropped); the rest is the body.
 * The request goes to the real apiserver in this process (fuzz/lib/fuzz_api.h) over loopback.
 * Invariants, beyond no crash, leak or undefined behaviour in the server: an answer comes back,
 * never a 5xx, always JSON (errors in the {"error":{code,message}} shape), and no temp upload
 * outlives its request.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/lib/fuzz_api.h"
#include "fuzz/lib/fuzzlib.h"
#include "launchpad/buf.h"
#include "launchpad/fmt.h"

#define FZ_HEADER_VALUE_MAX 1024

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
	char ct[FZ_HEADER_VALUE_MAX], path[256], what[320];
	struct fz_api_resp r;
	fz_field f[2];
	lp_buf h;
	size_t i, n = 0;

	if (size < 1)
		return 0;
	fz_split(f, 2, data + 1, size - 1, '\n');
	/* a header value holds no control byte (libmicrohttpd would refuse the request first) */
	for (i = 0; i < f[0].len && n + 1 < sizeof(ct); i++)
		if ((unsigned char)f[0].data[i] >= 0x20 && f[0].data[i] != 0x7f)
			ct[n++] = f[0].data[i];
	ct[n] = '\0';
	if (data[0] % 2 == 0) {
		if (lp_fmt(path, sizeof(path), "/api/deployments") != LP_OK)
			fz_fail("path too long");
	} else if (lp_fmt(path, sizeof(path), "/api/deployments/%s/archive", api->archive_id) !=
	           LP_OK) {
		fz_fail("path too long");
	}
	lp_buf_init(&h, 4096);
	if (lp_buf_printf(&h, "Authorization: Bearer %s\r\n", api->token) != LP_OK ||
	    (n && lp_buf_printf(&h, "Content-Type: %s\r\n", ct) != LP_OK))
		fz_fail("headers too long");
	fz_api_request(&r, "POST", path, lp_buf_cstr(&h), f[1].data, f[1].len);
	(void)lp_fmt_text(what, sizeof(what), "POST %s (Content-Type: %s)", path, ct);
	fz_api_check_answer(&r, what);
	fz_api_resp_release(&r);
	lp_buf_release(&h);
	fz_api_check_no_temp_uploads();
	return 0;
}
