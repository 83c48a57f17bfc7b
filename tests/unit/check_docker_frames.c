/* check_docker_frames.c: the log stream demultiplexer and the JSON line splitter, split anywhere.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "docker/docker_internal.h"
#include "launchpad/buf.h"
#include "tests/lib/testutil.h"

struct sink {
	lp_buf out;
	lp_buf err;
	int calls;
	int stop_after; /* 0: never */
};

static void sink_init(struct sink *s)
{
	lp_buf_init(&s->out, 1 << 20);
	lp_buf_init(&s->err, 1 << 20);
	s->calls = 0;
	s->stop_after = 0;
}

static void sink_release(struct sink *s)
{
	lp_buf_release(&s->out);
	lp_buf_release(&s->err);
}

static int on_output(void *ctx, int stream, const char *data, size_t len)
{
	struct sink *s = ctx;

	ck_assert(stream == 1 || stream == 2);
	ck_assert_int_eq(lp_buf_append(stream == 1 ? &s->out : &s->err, data, len), LP_OK);
	s->calls++;
	return s->stop_after && s->calls >= s->stop_after;
}

static void add_frame(lp_buf *b, int type, const char *payload, size_t len)
{
	unsigned char h[8] = {(unsigned char)type,
	                      0,
	                      0,
	                      0,
	                      (unsigned char)(len >> 24),
	                      (unsigned char)(len >> 16),
	                      (unsigned char)(len >> 8),
	                      (unsigned char)len};

	ck_assert_int_eq(lp_buf_append(b, h, sizeof(h)), LP_OK);
	ck_assert_int_eq(lp_buf_append(b, payload, len), LP_OK);
}

/* A stream with short, empty, binary and >255-byte frames, and its expected demuxed output. */
static lp_buf stream, want_out, want_err;

static void build_stream(void)
{
	char big[300];
	const char bin[] = {'a', '\0', 'b', '\n'};
	size_t i;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('A' + i % 26);
	lp_buf_init(&stream, 1 << 16);
	lp_buf_init(&want_out, 1 << 16);
	lp_buf_init(&want_err, 1 << 16);
	add_frame(&stream, 1, "hello ", 6);
	ck_assert_int_eq(lp_buf_append(&want_out, "hello ", 6), LP_OK);
	add_frame(&stream, 2, "oops\n", 5);
	ck_assert_int_eq(lp_buf_append(&want_err, "oops\n", 5), LP_OK);
	add_frame(&stream, 1, "", 0);
	add_frame(&stream, 1, big, sizeof(big));
	ck_assert_int_eq(lp_buf_append(&want_out, big, sizeof(big)), LP_OK);
	add_frame(&stream, 2, bin, sizeof(bin));
	ck_assert_int_eq(lp_buf_append(&want_err, bin, sizeof(bin)), LP_OK);
	add_frame(&stream, 1, "world\n", 6);
	ck_assert_int_eq(lp_buf_append(&want_out, "world\n", 6), LP_OK);
}

static void free_stream(void)
{
	lp_buf_release(&stream);
	lp_buf_release(&want_out);
	lp_buf_release(&want_err);
}

static void assert_output(const struct sink *s)
{
	ck_assert_uint_eq(s->out.len, want_out.len);
	ck_assert_uint_eq(s->err.len, want_err.len);
	ck_assert(memcmp(s->out.data, want_out.data, want_out.len) == 0);
	ck_assert(memcmp(s->err.data, want_err.data, want_err.len) == 0);
}

START_TEST(test_demux_whole)
{
	struct sink s;
	dk_demux m;

	build_stream();
	sink_init(&s);
	dk_demux_init(&m, on_output, &s);
	ck_assert_int_eq(dk_demux_feed(&m, stream.data, stream.len), LP_OK);
	ck_assert_int_eq(dk_demux_finish(&m), LP_OK);
	assert_output(&s);
	sink_release(&s);
	free_stream();
}
END_TEST

/* One split at every byte offset, then two splits at every pair of offsets. */
START_TEST(test_demux_every_split)
{
	size_t i, j, n;
	struct sink s;
	dk_demux m;

	build_stream();
	n = stream.len;
	for (i = 0; i <= n; i++) {
		sink_init(&s);
		dk_demux_init(&m, on_output, &s);
		ck_assert_int_eq(dk_demux_feed(&m, stream.data, i), LP_OK);
		ck_assert_int_eq(dk_demux_feed(&m, stream.data + i, n - i), LP_OK);
		ck_assert_int_eq(dk_demux_finish(&m), LP_OK);
		assert_output(&s);
		sink_release(&s);
	}
	for (i = 0; i <= n; i += 3) {
		for (j = i; j <= n; j++) {
			sink_init(&s);
			dk_demux_init(&m, on_output, &s);
			ck_assert_int_eq(dk_demux_feed(&m, stream.data, i), LP_OK);
			ck_assert_int_eq(dk_demux_feed(&m, stream.data + i, j - i), LP_OK);
			ck_assert_int_eq(dk_demux_feed(&m, stream.data + j, n - j), LP_OK);
			ck_assert_int_eq(dk_demux_finish(&m), LP_OK);
			assert_output(&s);
			sink_release(&s);
		}
	}
	free_stream();
}
END_TEST

START_TEST(test_demux_byte_at_a_time)
{
	struct sink s;
	dk_demux m;
	size_t i;

	build_stream();
	sink_init(&s);
	dk_demux_init(&m, on_output, &s);
	for (i = 0; i < stream.len; i++) {
		ck_assert_int_eq(dk_demux_feed(&m, stream.data + i, 1), LP_OK);
		/* Mid-stream, finish must tell a frame boundary from a cut. */
		if (i + 1 < stream.len && i + 1 == 3)
			ck_assert_int_eq(dk_demux_finish(&m), LP_EREMOTE);
	}
	ck_assert_int_eq(dk_demux_finish(&m), LP_OK);
	assert_output(&s);
	sink_release(&s);
	free_stream();
}
END_TEST

START_TEST(test_demux_truncated_and_bad)
{
	const char raw[] = "plain text from a TTY container\n";
	struct sink s;
	dk_demux m;

	build_stream();
	sink_init(&s);
	dk_demux_init(&m, on_output, &s);
	ck_assert_int_eq(dk_demux_feed(&m, stream.data, stream.len - 2), LP_OK);
	ck_assert_int_eq(dk_demux_finish(&m), LP_EREMOTE);
	sink_release(&s);

	sink_init(&s);
	dk_demux_init(&m, on_output, &s);
	ck_assert_int_eq(dk_demux_feed(&m, raw, sizeof(raw) - 1), LP_EREMOTE);
	ck_assert_int_eq(dk_demux_feed(&m, "x", 1), LP_EREMOTE);
	ck_assert_int_eq(dk_demux_finish(&m), LP_EREMOTE);
	ck_assert_uint_eq(s.out.len + s.err.len, 0);
	sink_release(&s);

	/* The callback can stop the stream. */
	sink_init(&s);
	s.stop_after = 2;
	dk_demux_init(&m, on_output, &s);
	ck_assert_int_eq(dk_demux_feed(&m, stream.data, stream.len), LP_ECANCELED);
	ck_assert_int_eq(s.calls, 2);
	sink_release(&s);
	free_stream();
}
END_TEST

static int on_line(void *ctx, char *line)
{
	lp_buf *b = ctx;

	ck_assert_int_eq(lp_buf_printf(b, "[%s]", line), LP_OK);
	return 0;
}

START_TEST(test_lines_every_split)
{
	const char in[] = "{\"a\":1}\r\n{\"b\":2}\n\n{\"c\":3}";
	const size_t n = sizeof(in) - 1;
	dk_lines l;
	lp_buf got;
	size_t i;

	for (i = 0; i <= n; i++) {
		lp_buf_init(&got, 1024);
		dk_lines_init(&l, on_line, &got);
		ck_assert_int_eq(dk_lines_feed(&l, in, i), 0);
		ck_assert_int_eq(dk_lines_feed(&l, in + i, n - i), 0);
		ck_assert_int_eq(dk_lines_finish(&l), 0);
		ck_assert_str_eq(lp_buf_cstr(&got), "[{\"a\":1}][{\"b\":2}][{\"c\":3}]");
		dk_lines_release(&l);
		lp_buf_release(&got);
	}
}
END_TEST

START_TEST(test_lines_cap)
{
	static char big[DK_LINE_MAX + 10];
	dk_lines l;
	lp_buf got;

	memset(big, 'x', sizeof(big));
	lp_buf_init(&got, 1024);
	dk_lines_init(&l, on_line, &got);
	ck_assert_int_ne(dk_lines_feed(&l, big, sizeof(big)), 0);
	ck_assert_int_eq(l.failed, 1);
	dk_lines_release(&l);
	lp_buf_release(&got);
}
END_TEST

START_TEST(test_parse_version)
{
	ck_assert_int_eq(dk_parse_version("1.41"), 1041);
	ck_assert_int_eq(dk_parse_version("1.5"), 1005);
	ck_assert_int_eq(dk_parse_version("2.0"), 2000);
	ck_assert_int_eq(dk_parse_version(""), -1);
	ck_assert_int_eq(dk_parse_version("1"), -1);
	ck_assert_int_eq(dk_parse_version("1.x"), -1);
	ck_assert_int_eq(dk_parse_version("v1.41"), -1);
	ck_assert_int_eq(dk_parse_version("1.41.2"), -1);
	ck_assert_int_eq(dk_parse_version(NULL), -1);
}
END_TEST

static Suite *frames_suite(void)
{
	Suite *s = suite_create("docker_frames");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_demux_whole);
	tcase_add_test(tc, test_demux_every_split);
	tcase_add_test(tc, test_demux_byte_at_a_time);
	tcase_add_test(tc, test_demux_truncated_and_bad);
	tcase_add_test(tc, test_lines_every_split);
	tcase_add_test(tc, test_lines_cap);
	tcase_add_test(tc, test_parse_version);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lp_test_run(frames_suite());
}
