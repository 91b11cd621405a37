/*
 * check_num.c - unit tests for num.c, the one decimal-integer parser, and
 * for the parsers built on it (host:port of the cache, Content-Length).
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "num.h"

static int
parse(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	return num_parse_str(s, min, max, out);
}

START_TEST(test_accepts)
{
	uint64_t v = 7;

	ck_assert_int_eq(parse("0", 0, 10, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(parse("10", 0, 10, &v), 0);
	ck_assert_uint_eq(v, 10);
	ck_assert_int_eq(parse("18446744073709551615", 0, UINT64_MAX, &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_int_eq(num_parse("123abc", 3, 0, 1000, &v), 0);
	ck_assert_uint_eq(v, 123);
}
END_TEST

START_TEST(test_refuses)
{
	static const char *const bad[] = { "", "-1", "+1", " 1", "1 ", "1x",
	    "11211x", "0x10", "01", "00", "1e3", "1.0",
	    "18446744073709551616", "99999999999999999999" };
	uint64_t v = 7;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(parse(bad[i], 0, UINT64_MAX, &v) == -1,
		    "accepted [%s]", bad[i]);
		ck_assert_uint_eq(v, 7);
	}
	/* bounds */
	ck_assert_int_eq(parse("11", 0, 10, &v), -1);
	ck_assert_int_eq(parse("0", 1, 10, &v), -1);
	ck_assert_int_eq(num_parse("12", 1, 0, 10, &v), 0);
	ck_assert_uint_eq(v, 1);
}
END_TEST

/* The memcached port parser accepted "11211x" before it used num.c. */
START_TEST(test_cache_port)
{
	struct cache *c;

	ck_assert_ptr_null(cache_open("127.0.0.1:11211x", "key"));
	ck_assert_ptr_null(cache_open("127.0.0.1:0", "key"));
	ck_assert_ptr_null(cache_open("127.0.0.1:65536", "key"));
	ck_assert_ptr_null(cache_open("127.0.0.1:", "key"));
	c = cache_open("127.0.0.1:11211", "key");
	ck_assert_ptr_nonnull(c);
	cache_close(c);
}
END_TEST

static Suite *
num_suite(void)
{
	Suite	*s = suite_create("num");
	TCase	*tc = tcase_create("num");

	tcase_add_test(tc, test_accepts);
	tcase_add_test(tc, test_refuses);
	tcase_add_test(tc, test_cache_port);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(num_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
