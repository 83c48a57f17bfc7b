/* check_logmask.c: secret values masked in build log text, and where a full line may be cut. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/logmask.h"
#include "tests/lib/testutil.h"

/* A spec with these secret values (and one plain variable, never masked). */
static lp_site *spec_of(const char *const *values)
{
	lp_site *s = calloc(1, sizeof(*s));
	size_t n = 0, i;

	ck_assert_ptr_nonnull(s);
	while (values[n])
		n++;
	s->build_env = calloc(n + 1, sizeof(lp_env_var));
	for (i = 0; i < n; i++) {
		s->build_env[i].name = strdup("S");
		s->build_env[i].value = strdup(values[i]);
		s->build_env[i].secret = 1;
	}
	s->build_env[n].name = strdup("PLAIN");
	s->build_env[n].value = strdup("visible");
	s->build_env_count = n + 1;
	return s;
}

START_TEST(test_apply)
{
	const char *values[] = {"hunter2", "hunt", "line one\nline two", NULL};
	lp_site *s = spec_of(values);
	lp_logmask m;
	lp_error err = {0};
	char out[256];
	const char *in;

	ck_assert_int_eq(lp_logmask_init(&m, s, &err), LP_OK);
	ck_assert_uint_eq(m.n, 4); /* hunter2, hunt, line one, line two */
	in = "key=hunter2 again hunter2hunt, visible";
	lp_logmask_apply(&m, out, in, strlen(in));
	/* the longest word wins where two start at one place */
	ck_assert_str_eq(out, "key=*** again ******, visible");
	in = "line two";
	lp_logmask_apply(&m, out, in, strlen(in));
	ck_assert_str_eq(out, "***");
	in = "hunte";
	lp_logmask_apply(&m, out, in, strlen(in));
	ck_assert_str_eq(out, "***e"); /* "hunt" is a secret of its own */
	lp_logmask_release(&m);
	lp_site_free(s);
}
END_TEST

START_TEST(test_cut)
{
	const char *values[] = {"SECRETVALUE", NULL};
	lp_site *s = spec_of(values);
	lp_logmask m;
	lp_error err = {0};
	char buf[32], out[128];
	size_t cut;

	ck_assert_int_eq(lp_logmask_init(&m, s, &err), LP_OK);
	/* a full buffer ending in the secret's first half: the cut keeps the half for later */
	memcpy(buf, "0123456789abcdefghijkSECRETV", 28);
	cut = lp_logmask_cut(&m, buf, 28);
	ck_assert_uint_le(cut, 21);
	lp_logmask_apply(&m, out, buf, cut);
	ck_assert_ptr_null(strstr(out, "SECRET"));
	/* the next piece holds the whole secret */
	memmove(buf, buf + cut, 28 - cut);
	memcpy(buf + 28 - cut, "ALUE tail", 9);
	lp_logmask_apply(&m, out, buf, 28 - cut + 9);
	ck_assert_ptr_nonnull(strstr(out, "*** tail"));
	ck_assert_ptr_null(strstr(out, "ALUE"));
	/* a secret wholly before the cut point is inside the part that goes */
	memcpy(buf, "SECRETVALUE-and-more-text-here", 30);
	cut = lp_logmask_cut(&m, buf, 30);
	ck_assert_uint_ge(cut, 11);
	lp_logmask_apply(&m, out, buf, cut);
	ck_assert_int_eq(strncmp(out, "***-", 4), 0);
	lp_logmask_release(&m);
	lp_site_free(s);
}
END_TEST

static Suite *logmask_suite(void)
{
	Suite *s = suite_create("logmask");
	TCase *tc = tcase_create("logmask");

	tcase_add_test(tc, test_apply);
	tcase_add_test(tc, test_cut);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lp_test_run(logmask_suite());
}
