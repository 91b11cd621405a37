/*
 * check_egress.c - unit tests for egress.c (SPEC §12): every default-denied
 * range, IPv4 embedded in IPv6, and the allow and deny lists with ports
 * (project host allowlists: check_egress_hosts.c). The classifier is what
 * stands between a function and the private network, so each range is
 * checked at its edges.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "egress.h"

static struct egress_addr
addr(const char *s)
{
	struct egress_addr a;

	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, s, a.a) == 1)
		a.len = 4;
	else if (inet_pton(AF_INET6, s, a.a) == 1)
		a.len = 16;
	else
		ck_abort_msg("bad test address %s", s);
	return a;
}

static enum egress_range
cls(const char *s, char *rule, size_t len)
{
	struct egress_addr a = addr(s);

	return egress_classify(&a, rule, len);
}

static const struct {
	const char		*addr;
	enum egress_range	 want;
} cases[] = {
	{ "127.0.0.1", EGRESS_LOOPBACK }, { "127.255.255.255", EGRESS_LOOPBACK },
	{ "126.255.255.255", EGRESS_PUBLIC }, { "128.0.0.1", EGRESS_PUBLIC },
	{ "0.0.0.0", EGRESS_UNSPECIFIED }, { "0.255.1.2", EGRESS_UNSPECIFIED },
	{ "10.0.0.1", EGRESS_PRIVATE }, { "10.255.255.255", EGRESS_PRIVATE },
	{ "11.0.0.0", EGRESS_PUBLIC }, { "9.255.255.255", EGRESS_PUBLIC },
	{ "172.16.0.0", EGRESS_PRIVATE }, { "172.31.255.255", EGRESS_PRIVATE },
	{ "172.15.255.255", EGRESS_PUBLIC }, { "172.32.0.0", EGRESS_PUBLIC },
	{ "192.168.1.1", EGRESS_PRIVATE }, { "192.169.0.0", EGRESS_PUBLIC },
	{ "169.254.169.254", EGRESS_LINK_LOCAL }, { "169.254.0.0", EGRESS_LINK_LOCAL },
	{ "169.253.255.255", EGRESS_PUBLIC },
	{ "100.64.0.0", EGRESS_CGNAT }, { "100.127.255.255", EGRESS_CGNAT },
	{ "100.63.255.255", EGRESS_PUBLIC }, { "100.128.0.0", EGRESS_PUBLIC },
	{ "224.0.0.1", EGRESS_MULTICAST }, { "239.255.255.255", EGRESS_MULTICAST },
	{ "240.0.0.1", EGRESS_RESERVED }, { "255.255.255.254", EGRESS_RESERVED },
	{ "255.255.255.255", EGRESS_BROADCAST },
	{ "192.0.0.8", EGRESS_RESERVED }, { "192.88.99.1", EGRESS_RESERVED },
	{ "192.0.2.1", EGRESS_DOCUMENTATION }, { "198.51.100.7", EGRESS_DOCUMENTATION },
	{ "203.0.113.255", EGRESS_DOCUMENTATION },
	{ "198.18.0.1", EGRESS_BENCHMARK }, { "198.19.255.255", EGRESS_BENCHMARK },
	{ "198.20.0.0", EGRESS_PUBLIC },
	{ "8.8.8.8", EGRESS_PUBLIC }, { "1.1.1.1", EGRESS_PUBLIC },
	{ "::1", EGRESS_LOOPBACK }, { "::", EGRESS_UNSPECIFIED },
	{ "::2", EGRESS_RESERVED }, { "::127.0.0.1", EGRESS_RESERVED },
	{ "fc00::1", EGRESS_PRIVATE }, { "fdff:ffff::1", EGRESS_PRIVATE },
	{ "fe80::1", EGRESS_LINK_LOCAL }, { "febf::1", EGRESS_LINK_LOCAL },
	{ "fec0::1", EGRESS_PRIVATE }, { "ff02::1", EGRESS_MULTICAST },
	{ "2001:db8::1", EGRESS_DOCUMENTATION }, { "3fff::1", EGRESS_DOCUMENTATION },
	{ "2001:2::1", EGRESS_BENCHMARK }, { "100::1", EGRESS_RESERVED },
	{ "2001:4860:4860::8888", EGRESS_PUBLIC }, { "2606:4700::1111", EGRESS_PUBLIC },
	{ "4000::1", EGRESS_RESERVED }, { "1::1", EGRESS_RESERVED },
	/* IPv4 embedded in IPv6: forbidden when the IPv4 address is. */
	{ "::ffff:127.0.0.1", EGRESS_LOOPBACK }, { "::ffff:10.1.2.3", EGRESS_PRIVATE },
	{ "::ffff:169.254.169.254", EGRESS_LINK_LOCAL },
	{ "::ffff:8.8.8.8", EGRESS_PUBLIC },
	{ "64:ff9b::7f00:1", EGRESS_LOOPBACK }, { "64:ff9b::a9fe:a9fe", EGRESS_LINK_LOCAL },
	{ "64:ff9b::808:808", EGRESS_PUBLIC }, { "64:ff9b:1::c0a8:1", EGRESS_PRIVATE },
	{ "2002:7f00:1::1", EGRESS_LOOPBACK }, { "2002:c0a8:101::", EGRESS_PRIVATE },
	{ "2002:808:808::1", EGRESS_PUBLIC },
	{ "2001:0:7f00:1::", EGRESS_LOOPBACK },
	/* Teredo client 10.0.0.1, bits inverted: f5ff:fffe. */
	{ "2001:0:808:808::f5ff:fffe", EGRESS_PRIVATE },
	{ "2001:0:808:808::f7f7:f7f7", EGRESS_PUBLIC },
	{ "2001:10::1", EGRESS_RESERVED },
};

START_TEST(test_classify_ranges)
{
	char rule[160];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(cls(cases[i].addr, rule, sizeof(rule)) ==
		    cases[i].want, "%s: got %d (%s), want %d", cases[i].addr,
		    (int)cls(cases[i].addr, rule, sizeof(rule)), rule,
		    (int)cases[i].want);
}
END_TEST

START_TEST(test_rule_names_the_range)
{
	char rule[160];

	cls("169.254.169.254", rule, sizeof(rule));
	ck_assert_str_eq(rule, "link-local 169.254.0.0/16");
	cls("::ffff:127.0.0.1", rule, sizeof(rule));
	ck_assert_str_eq(rule, "loopback 127.0.0.0/8 embedded in ::ffff:0:0/96");
	cls("::1", rule, sizeof(rule));
	ck_assert_str_eq(rule, "loopback ::1/128");
}
END_TEST

static int
allowed(const struct egress_policy *p, const char *host, const char *a,
    unsigned port, char *rule)
{
	struct egress_addr ad = addr(a);

	return egress_check(p, host, &ad, port, rule, 200);
}

START_TEST(test_policy_lists)
{
	struct egress_policy p;
	char err[256], rule[200];

	memset(&p, 0, sizeof(p));
	ck_assert_int_eq(egress_list_parse(" 127.0.0.1:9000, 10.1.0.0/16 ,"
	    "api.internal, [::1]:8080, fd00::/8, API2.Internal:443 ", &p.allow,
	    err, sizeof(err)), 0);
	ck_assert_uint_eq(p.allow.n, 6);
	ck_assert_int_eq(egress_list_parse("8.8.4.0/24,evil.example,"
	    "10.1.2.3", &p.deny, err, sizeof(err)), 0);
	ck_assert(allowed(&p, "x", "127.0.0.1", 9000, rule));
	ck_assert(!allowed(&p, "x", "127.0.0.1", 9001, rule));
	ck_assert_str_eq(rule, "default egress policy: loopback 127.0.0.0/8");
	ck_assert(allowed(&p, "x", "::ffff:127.0.0.1", 9000, rule));
	ck_assert(allowed(&p, "x", "10.1.200.3", 1, rule));
	ck_assert(!allowed(&p, "x", "10.2.0.1", 1, rule));
	ck_assert(!allowed(&p, "x", "10.1.2.3", 80, rule));
	ck_assert_str_eq(rule, "egress_deny entry '10.1.2.3'");
	ck_assert(!allowed(&p, "x", "::ffff:10.1.2.3", 80, rule));
	ck_assert(allowed(&p, "API.internal", "192.168.0.9", 5, rule));
	ck_assert(allowed(&p, "api2.internal", "192.168.0.9", 443, rule));
	ck_assert(!allowed(&p, "api2.internal", "192.168.0.9", 80, rule));
	ck_assert(allowed(&p, "x", "::1", 8080, rule));
	ck_assert(!allowed(&p, "x", "::1", 8081, rule));
	ck_assert(allowed(&p, "x", "fd12::3", 1, rule));
	ck_assert(!allowed(&p, "x", "8.8.4.4", 53, rule));
	ck_assert(!allowed(&p, "evil.example", "8.8.8.8", 443, rule));
	ck_assert_str_eq(rule, "egress_deny entry 'evil.example'");
	ck_assert(allowed(&p, "good.example", "8.8.8.8", 443, rule));
	egress_list_free(&p.allow);
	egress_list_free(&p.deny);
}
END_TEST

START_TEST(test_policy_parse_errors)
{
	static const char *const bad[] = { "10.0.0.0/33", "[::1", "1.2.3.4:0",
	    "1.2.3.4:65536", "host:port", "-bad.host", "a..b", "::1/129",
	    "[::1]x", "1.2.3.4/", "*.wild.card", "a b", "1.2.3.4:80:90" };
	struct egress_list l;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(egress_list_parse(bad[i], &l, err, sizeof(err)) ==
		    -1, "%s accepted", bad[i]);
		ck_assert_uint_eq(l.n, 0);
		ck_assert_ptr_null(l.v);
	}
	ck_assert_int_eq(egress_list_parse("", &l, err, sizeof(err)), 0);
	ck_assert_uint_eq(l.n, 0);
	ck_assert_int_eq(egress_list_parse("0.0.0.0/0", &l, err, sizeof(err)),
	    0);
	ck_assert_uint_eq(l.v[0].prefix, 0);
	egress_list_free(&l);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("egress");
	TCase *tc = tcase_create("egress");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_classify_ranges);
	tcase_add_test(tc, test_rule_names_the_range);
	tcase_add_test(tc, test_policy_lists);
	tcase_add_test(tc, test_policy_parse_errors);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
