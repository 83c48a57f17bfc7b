/* check_netpolicy.c: which addresses a Git fetch may reach, and the admin's allow-list. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/netpolicy.h"
#include "tests/lib/testutil.h"

static lp_netpolicy *pol;

static void setup(void)
{
	pol = malloc(sizeof(*pol));
	ck_assert_ptr_nonnull(pol);
	lp_netpolicy_init(pol);
}

static void teardown(void)
{
	free(pol);
}

/* 1 when the policy lets a connection to the literal address text through. */
static int allowed(const char *text)
{
	struct sockaddr_in v4 = {.sin_family = AF_INET};
	struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};

	if (inet_pton(AF_INET, text, &v4.sin_addr) == 1)
		return lp_netpolicy_addr_allowed(pol, (struct sockaddr *)&v4);
	ck_assert_msg(inet_pton(AF_INET6, text, &v6.sin6_addr) == 1, "bad address %s", text);
	return lp_netpolicy_addr_allowed(pol, (struct sockaddr *)&v6);
}

START_TEST(t_internal_refused_public_allowed)
{
	static const char *const refused[] = {
	    "127.0.0.1",
	    "127.255.255.254",
	    "0.0.0.0",
	    "0.1.2.3",
	    "10.0.0.1",
	    "10.255.255.255",
	    "172.16.0.1",
	    "172.31.255.255",
	    "172.17.0.1",
	    "192.168.1.1",
	    "100.64.0.1",
	    "100.127.255.255",
	    "169.254.169.254",
	    "224.0.0.1",
	    "239.255.255.250",
	    "255.255.255.255",
	    "240.0.0.1",
	    "192.0.2.10",
	    "198.18.0.1",
	    "::",
	    "::1",
	    "fe80::1",
	    "fd00::1",
	    "fc00::1",
	    "ff02::1",
	    "::ffff:127.0.0.1",
	    "::ffff:10.1.2.3",
	    "64:ff9b::7f00:1",
	    "2002:7f00:1::1",
	    "2001:db8::1",
	    "::127.0.0.1",
	    "fec0::1",
	};
	static const char *const public_ones[] = {
	    "8.8.8.8",        "1.1.1.1",          "140.82.112.3",    "172.32.0.1",
	    "100.128.0.1",    "11.0.0.1",         "2606:4700::1111", "2a00:1450:4001::200e",
	    "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
	};
	size_t i;

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		ck_assert_msg(!allowed(refused[i]), "%s was allowed", refused[i]);
	for (i = 0; i < sizeof(public_ones) / sizeof(public_ones[0]); i++)
		ck_assert_msg(allowed(public_ones[i]), "%s was refused", public_ones[i]);
}
END_TEST

/* The engine's networks and this host's addresses are refused even when public. */
START_TEST(t_added_ranges_refused)
{
	lp_error err = {0};

	ck_assert(allowed("8.8.8.8"));
	ck_assert_int_eq(lp_netpolicy_deny_list(pol, "8.8.8.0/24,2606:4700::/32", &err), LP_OK);
	ck_assert(!allowed("8.8.8.8"));
	ck_assert(!allowed("8.8.8.255"));
	ck_assert(allowed("8.8.9.1"));
	ck_assert(!allowed("2606:4700::1111"));
	ck_assert(!allowed("::ffff:8.8.8.8")); /* the embedded address is judged too */
	ck_assert_int_eq(lp_netpolicy_deny_list(pol, "8.8.8.0/33", &err), LP_EINVAL);
	ck_assert_int_eq(lp_netpolicy_deny_list(pol, "not-a-range", &err), LP_EINVAL);
	ck_assert_int_eq(lp_netpolicy_deny_local(pol, &err), LP_OK);
	ck_assert_uint_gt(pol->ndeny, 2); /* at least lo's 127.0.0.1 and ::1 */
}
END_TEST

/* The allow-list: names exactly (case-insensitive), IPs and CIDRs by address. */
START_TEST(t_allow_list)
{
	lp_error err = {0};

	ck_assert_int_eq(lp_netpolicy_allow_list(pol,
	                                         "git.internal.example, 10.1.0.0/16 127.0.0.1,"
	                                         "fd00:1::/32,,",
	                                         &err),
	                 LP_OK);
	ck_assert(lp_netpolicy_host_allowed(pol, "git.internal.example"));
	ck_assert(lp_netpolicy_host_allowed(pol, "GIT.Internal.Example"));
	ck_assert(!lp_netpolicy_host_allowed(pol, "evil.git.internal.example"));
	ck_assert(!lp_netpolicy_host_allowed(pol, "git.internal.example.evil"));
	ck_assert(lp_netpolicy_host_allowed(pol, "127.0.0.1")); /* an IP entry names the host too */
	ck_assert(!lp_netpolicy_host_allowed(pol, "10.1.0.0/16"));
	ck_assert(!lp_netpolicy_host_allowed(pol, "localhost"));
	ck_assert(allowed("10.1.2.3"));
	ck_assert(!allowed("10.2.0.1"));
	ck_assert(allowed("127.0.0.1"));
	ck_assert(!allowed("127.0.0.2"));
	ck_assert(allowed("fd00:1::5"));
	ck_assert(!allowed("fd00:2::5"));
	/* an allowed range wins over an added refusal (the admin's word) */
	ck_assert_int_eq(lp_netpolicy_deny_list(pol, "10.0.0.0/8", &err), LP_OK);
	ck_assert(allowed("10.1.2.3"));
	ck_assert_int_eq(lp_netpolicy_allow_list(pol, "host;rm", &err), LP_EINVAL);
	ck_assert_msg(strstr(err.message, "\"host;rm\" is not a host name") != NULL, "%s",
	              err.message);
	ck_assert_int_eq(lp_netpolicy_allow_list(pol, "[::1]", &err), LP_EINVAL);
	ck_assert_int_eq(lp_netpolicy_allow_list(pol, NULL, &err), LP_OK);
}
END_TEST

START_TEST(t_ipv6_literal_host)
{
	lp_error err = {0};

	ck_assert_int_eq(lp_netpolicy_allow_list(pol, "::1", &err), LP_OK);
	ck_assert(lp_netpolicy_host_allowed(pol, "[::1]"));
	ck_assert(lp_netpolicy_host_allowed(pol, "::1"));
	ck_assert(allowed("::1"));
}
END_TEST

START_TEST(t_parse_range)
{
	lp_net_range r;

	ck_assert_int_eq(lp_netpolicy_parse_range(&r, "192.168.0.0/16"), LP_OK);
	ck_assert_int_eq(r.family, AF_INET);
	ck_assert_int_eq(r.prefix, 16);
	ck_assert_int_eq(lp_netpolicy_parse_range(&r, "fe80::/10"), LP_OK);
	ck_assert_int_eq(r.family, AF_INET6);
	ck_assert_int_eq(r.prefix, 10);
	ck_assert_int_eq(lp_netpolicy_parse_range(&r, "::1"), LP_OK);
	ck_assert_int_eq(r.prefix, 128);
	ck_assert_int_eq(lp_netpolicy_parse_range(&r, "1.2.3.4/"), LP_EINVAL);
	ck_assert_int_eq(lp_netpolicy_parse_range(&r, "1.2.3.4/-1"), LP_EINVAL);
	ck_assert_int_eq(lp_netpolicy_parse_range(&r, "::/129"), LP_EINVAL);
	ck_assert_int_eq(lp_netpolicy_parse_range(&r, "1.2.3"), LP_EINVAL);
	ck_assert_int_eq(lp_netpolicy_parse_range(&r, ""), LP_EINVAL);
}
END_TEST

static Suite *netpolicy_suite(void)
{
	Suite *s = suite_create("netpolicy");
	TCase *tc = tcase_create("netpolicy");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t_internal_refused_public_allowed);
	tcase_add_test(tc, t_added_ranges_refused);
	tcase_add_test(tc, t_allow_list);
	tcase_add_test(tc, t_ipv6_literal_host);
	tcase_add_test(tc, t_parse_range);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lp_test_run(netpolicy_suite());
}
