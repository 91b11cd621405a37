/*
 * check_utf8.c - unit tests for utf8.c: which byte sequences are valid
 * UTF-8 (RFC 3629 §4), and the repair that makes any bytes valid.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

#define S(lit)	lit, sizeof(lit) - 1

START_TEST(test_valid_prefix)
{
	ck_assert_uint_eq(utf8_valid_prefix(S("")), 0);
	ck_assert_uint_eq(utf8_valid_prefix(S("plain ascii, long enough")), 24);
	ck_assert_uint_eq(utf8_valid_prefix(S("caf\xc3\xa9")), 5);
	ck_assert_uint_eq(utf8_valid_prefix(S("\xf0\x9f\x98\x80")), 4);
	ck_assert_uint_eq(utf8_valid_prefix(S("\xef\xbf\xbf")), 3);
	ck_assert_uint_eq(utf8_valid_prefix(S("\xf4\x8f\xbf\xbf")), 4);
	/* NUL is a character like any other */
	ck_assert_uint_eq(utf8_valid_prefix("a\0b", 3), 3);
	/* Duktape's symbol prefixes */
	ck_assert_uint_eq(utf8_valid_prefix(S("\x82Varmap")), 0);
	ck_assert_uint_eq(utf8_valid_prefix(S("\xff" "x")), 0);
	ck_assert_uint_eq(utf8_valid_prefix(S("\x80")), 0);
	ck_assert_uint_eq(utf8_valid_prefix(S("ok \xbf")), 3);
	/* after an ASCII run of eight or more */
	ck_assert_uint_eq(utf8_valid_prefix(S("0123456789\x82")), 10);
	/* overlong, surrogates, beyond U+10FFFF, truncated */
	ck_assert_uint_eq(utf8_valid_prefix(S("\xc0\xaf")), 0);
	ck_assert_uint_eq(utf8_valid_prefix(S("\xc1\xbf")), 0);
	ck_assert_uint_eq(utf8_valid_prefix(S("\xe0\x80\xaf")), 0);
	ck_assert_uint_eq(utf8_valid_prefix(S("\xf0\x80\x80\xaf")), 0);
	ck_assert_uint_eq(utf8_valid_prefix(S("\xed\xa0\x80")), 0);
	ck_assert_uint_eq(utf8_valid_prefix(S("\xed\xbf\xbf")), 0);
	ck_assert_uint_eq(utf8_valid_prefix(S("\xf4\x90\x80\x80")), 0);
	ck_assert_uint_eq(utf8_valid_prefix(S("\xf5\x80\x80\x80")), 0);
	ck_assert_uint_eq(utf8_valid_prefix(S("ab\xe2\x82")), 2);
	ck_assert_uint_eq(utf8_valid_prefix(S("\xc3")), 0);
}
END_TEST

static void
check_repair(const char *in, size_t len, const char *want)
{
	size_t n = utf8_repaired_len(in, len);
	char out[64];

	ck_assert_uint_le(n, sizeof(out));
	utf8_repair(out, in, len);
	ck_assert_msg(n == strlen(want) && memcmp(out, want, n) == 0,
	    "repair gave [%.*s], want [%s]", (int)n, out, want);
	ck_assert_uint_eq(utf8_valid_prefix(out, n), n);
}

START_TEST(test_repair)
{
	check_repair(S(""), "");
	check_repair(S("fine \xc3\xa9"), "fine \xc3\xa9");
	check_repair(S("\x82Varmap"), "\xef\xbf\xbdVarmap");
	check_repair(S("a\xff\xfe" "b"), "a\xef\xbf\xbd\xef\xbf\xbd" "b");
	/* each byte of a bad sequence becomes one U+FFFD */
	check_repair(S("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	check_repair(S("x\xe2\x82"), "x\xef\xbf\xbd\xef\xbf\xbd");
}
END_TEST

/* Every 1- and 2-byte input: valid_prefix agrees with a plain decoder's
 * verdict, and repair always yields valid UTF-8. */
START_TEST(test_exhaustive_two_bytes)
{
	unsigned char in[2];
	char out[6];
	size_t n;
	unsigned a, c;

	for (a = 0; a < 256; a++) {
		in[0] = (unsigned char)a;
		ck_assert_uint_eq(utf8_valid_prefix((char *)in, 1),
		    a < 0x80 ? 1 : 0);
		for (c = 0; c < 256; c++) {
			in[1] = (unsigned char)c;
			n = utf8_repaired_len((char *)in, 2);
			ck_assert_uint_le(n, sizeof(out));
			utf8_repair(out, (char *)in, 2);
			ck_assert_uint_eq(utf8_valid_prefix(out, n), n);
			/* a valid 2-byte sequence is C2-DF then 80-BF */
			if (a >= 0xc2 && a <= 0xdf)
				ck_assert_uint_eq(utf8_valid_prefix(
				    (char *)in, 2), (c & 0xc0) == 0x80 ? 2 : 0);
		}
	}
}
END_TEST

static Suite *
utf8_suite(void)
{
	Suite	*s = suite_create("utf8");
	TCase	*tc = tcase_create("utf8");

	tcase_add_test(tc, test_valid_prefix);
	tcase_add_test(tc, test_repair);
	tcase_add_test(tc, test_exhaustive_two_bytes);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(utf8_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
