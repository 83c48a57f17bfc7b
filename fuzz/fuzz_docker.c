/*
 * fuzz_docker.c: the Docker stream parsers (docker/): the demultiplexer of the 8-byte framed
 * stdout/stderr stream of a container's logs and attach, and the line splitter of the JSON
 * streams (events, pull progress).
 *
 * Input: a chunking seed byte, a stop byte (the output callback asks to stop at that call; 0:
 * never), then the stream as the engine would send it. The stream is fed whole, and again in
 * chunks cut where the seed says (libcurl hands data over in pieces of any size). Invariants,
 * beyond no crash or undefined behaviour:
 *   - the demultiplexer agrees with a reference reading of the frames: the same bytes per stream,
 *     LP_EREMOTE exactly when a header is not {0-3, 0, 0, 0, size}, dk_demux_finish LP_OK exactly
 *     at a frame boundary, LP_ECANCELED and no further call once the callback asks to stop;
 *   - whole or chunked, both parsers hand over the same output, calls and results;
 *   - the line splitter yields the input's non-empty lines, CR-LF or LF ended.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "docker/docker_internal.h"
#include "fuzz/lib/fuzzlib.h"
#include "launchpad/buf.h"

#define FZ_OUT_MAX ((size_t)1 << 20)

struct sink {
	lp_buf out[3]; /* [1] stdout, [2] stderr; every call's bytes in order */
	lp_buf lines;  /* each line as the callback saw it, then '\n' */
	int calls;
	int stop_at; /* 0: never */
	int stopped; /* a call came after the callback asked to stop */
};

static void sink_init(struct sink *s, int stop_at)
{
	int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < 3; i++)
		lp_buf_init(&s->out[i], FZ_OUT_MAX);
	lp_buf_init(&s->lines, 2 * FZ_OUT_MAX);
	s->stop_at = stop_at;
}

static void sink_release(struct sink *s)
{
	int i;

	for (i = 0; i < 3; i++)
		lp_buf_release(&s->out[i]);
	lp_buf_release(&s->lines);
}

static int on_output(void *ctx, int stream, const char *data, size_t len)
{
	struct sink *s = ctx;

	if (stream != 1 && stream != 2)
		fz_fail("output on stream %d", stream);
	if (len == 0)
		fz_fail("an empty output call");
	if (s->stop_at && s->calls >= s->stop_at)
		fz_fail("output call %d after the callback asked to stop", s->calls + 1);
	if (lp_buf_append(&s->out[stream], data, len) != LP_OK)
		fz_fail("more output than the input holds");
	return ++s->calls == s->stop_at;
}

static int on_line(void *ctx, char *line)
{
	struct sink *s = ctx;

	if (lp_buf_puts(&s->lines, line) != LP_OK || lp_buf_append(&s->lines, "\n", 1) != LP_OK)
		fz_fail("more lines than the input holds");
	s->calls++;
	return 0;
}

/* Feed data[0..len) to the demultiplexer in pieces cut by seed; 0 feeds it whole. */
static int demux(struct sink *s, const uint8_t *data, size_t len, unsigned seed, int *fin)
{
	dk_demux m;
	size_t at = 0, n;
	int rc = LP_OK;

	dk_demux_init(&m, on_output, s);
	while (at < len && rc == LP_OK) {
		n = seed ? 1 + (seed = seed * 1103515245u + 12345u) % 17 : len - at;
		if (n > len - at)
			n = len - at;
		rc = dk_demux_feed(&m, (const char *)data + at, n);
		at += n;
	}
	*fin = dk_demux_finish(&m);
	return rc;
}

static void lines(struct sink *s, const uint8_t *data, size_t len, unsigned seed)
{
	dk_lines l;
	size_t at = 0, n;

	dk_lines_init(&l, on_line, s);
	while (at < len) {
		n = seed ? 1 + (seed = seed * 1103515245u + 12345u) % 29 : len - at;
		if (n > len - at)
			n = len - at;
		if (dk_lines_feed(&l, (const char *)data + at, n) != 0)
			fz_fail("dk_lines_feed stopped (failed %d) on a short input", l.failed);
		at += n;
	}
	if (dk_lines_finish(&l) != 0)
		fz_fail("dk_lines_finish failed");
	dk_lines_release(&l);
}

/* The reference: frames read from the whole input at once. */
static int reference(struct sink *s, const uint8_t *d, size_t len, int *fin)
{
	size_t at = 0, size, take;

	*fin = LP_OK;
	while (at < len) {
		if (len - at < DK_FRAME_HEADER_LEN) {
			*fin = LP_EREMOTE; /* inside a header */
			return LP_OK;
		}
		if (d[at] > 3 || d[at + 1] || d[at + 2] || d[at + 3]) {
			*fin = LP_OK; /* finish looks at the last frame only; see below */
			return LP_EREMOTE;
		}
		size = (size_t)d[at + 4] << 24 | (size_t)d[at + 5] << 16 | (size_t)d[at + 6] << 8 |
		       d[at + 7];
		at += DK_FRAME_HEADER_LEN;
		take = size < len - at ? size : len - at;
		/* payload is passed on as it arrives: a stop mid-frame is honoured */
		if (take && on_output(s, d[at - 8] >= 2 ? 2 : 1, (const char *)d + at, take))
			return LP_ECANCELED;
		at += take;
		if (take < size) {
			*fin = LP_EREMOTE;
			return LP_OK;
		}
	}
	return LP_OK;
}

/* The reference lines: LF-ended, one CR before the LF dropped, empty ones skipped. */
static void reference_lines(struct sink *s, const uint8_t *d, size_t len)
{
	size_t start = 0, i, n;
	char *line;

	for (i = 0; i <= len; i++) {
		if (i < len && d[i] != '\n')
			continue;
		n = i - start;
		if (i < len && n > 0 && d[i - 1] == '\r')
			n--; /* only a complete line loses its CR */
		if (n > 0) {
			line = fz_strdup(&(fz_field){(const char *)d + start, n});
			on_line(s, line);
			free(line);
		}
		start = i + 1;
	}
}

/* Equal bytes (an empty lp_buf has no data at all). */
static int buf_eq(const lp_buf *a, const lp_buf *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static void same(const struct sink *a, const struct sink *b, const char *what)
{
	int i;

	for (i = 1; i < 3; i++)
		if (!buf_eq(&a->out[i], &b->out[i]))
			fz_fail("%s: stream %d differs (%zu vs %zu bytes)", what, i, a->out[i].len,
			        b->out[i].len);
	if (!buf_eq(&a->lines, &b->lines))
		fz_fail("%s: lines differ", what);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sink whole, chunked, ref;
	int rc_whole, rc_chunked, rc_ref, fin_whole, fin_chunked, fin_ref;
	unsigned seed;
	int stop;

	if (size < 2)
		return 0;
	seed = data[0] | 1u;
	stop = data[1] % 16;
	data += 2;
	size -= 2;

	/* whole, with the stop, against the reference; then in chunks (no stop) against both */
	sink_init(&whole, stop);
	sink_init(&ref, stop);
	rc_whole = demux(&whole, data, size, 0, &fin_whole);
	rc_ref = reference(&ref, data, size, &fin_ref);
	if (rc_whole != rc_ref)
		fz_fail("dk_demux_feed returned %d, the reference %d", rc_whole, rc_ref);
	/* at a bad header or a stop the stream is abandoned: where it ended does not matter */
	if (rc_ref == LP_OK && fin_whole != fin_ref)
		fz_fail("dk_demux_finish %d, the reference %d", fin_whole, fin_ref);
	same(&whole, &ref, "whole vs reference");
	sink_release(&ref);
	sink_init(&ref, 0);
	sink_init(&chunked, 0);
	rc_ref = reference(&ref, data, size, &fin_ref);
	rc_chunked = demux(&chunked, data, size, seed, &fin_chunked);
	if (rc_chunked != rc_ref)
		fz_fail("fed in chunks, dk_demux_feed returned %d, the reference %d", rc_chunked,
		        rc_ref);
	if (rc_ref == LP_OK && fin_chunked != fin_ref)
		fz_fail("fed in chunks, dk_demux_finish %d, the reference %d", fin_chunked,
		        fin_ref);
	same(&chunked, &ref, "chunked vs reference");

	lines(&whole, data, size, 0);
	lines(&chunked, data, size, seed);
	reference_lines(&ref, data, size);
	if (!buf_eq(&whole.lines, &chunked.lines))
		fz_fail("lines, whole vs chunked, differ");
	if (!buf_eq(&whole.lines, &ref.lines))
		fz_fail("lines differ from the reference");
	sink_release(&whole);
	sink_release(&chunked);
	sink_release(&ref);
	return 0;
}
