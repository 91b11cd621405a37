/*
 * check_buf.c - unit tests for buf.c: the growable buffer and the JSON
 * string writer every answer goes through (SPEC §4: every error is JSON,
 * so the writer must always produce valid JSON, whatever the bytes).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"

#define FFFD	"\xef\xbf\xbd"

/* buf_json_string of s[0..len) into a fresh buffer; the caller frees. */
static char *
json_of(const char *s, size_t len, size_t *outlen)
{
	struct buf	 b = { 0 };

	buf_json_string(&b, s, len);
	if (outlen != NULL)
		*outlen = b.len;
	return b.data;	/* the caller frees */
}

static void
assert_json(const char *in, size_t inlen, const char *want, size_t wantlen)
{
	char	*out;
	size_t	 outlen;

	out = json_of(in, inlen, &outlen);
	ck_assert_ptr_nonnull(out);
	ck_assert_msg(outlen == wantlen && memcmp(out, want, wantlen) == 0,
	    "json of %zu bytes: got [%s] (%zu bytes), want [%s] (%zu bytes)",
	    inlen, out, outlen, want, wantlen);
	ck_assert_int_eq(out[outlen], '\0');
	free(out);
}

#define JSON_EQ(in, want) \
	assert_json((in), sizeof(in) - 1, (want), sizeof(want) - 1)

/* Strict UTF-8 check (RFC 3629): no overlongs, surrogates or > U+10FFFF. */
static int
utf8_valid(const unsigned char *s, size_t n)
{
	size_t		 i = 0, len, k;
	unsigned	 cp;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf)
			len = 2, cp = s[i] & 0x1f;
		else if (s[i] >= 0xe0 && s[i] <= 0xef)
			len = 3, cp = s[i] & 0x0f;
		else if (s[i] >= 0xf0 && s[i] <= 0xf4)
			len = 4, cp = s[i] & 0x07;
		else
			return 0;
		if (i + len > n)
			return 0;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

/*
 * "a" + bad + "z" must come out as "a" U+FFFD... "z" quoted: valid UTF-8,
 * at least one replacement and nothing else between a and z. How many
 * replacements a bad sequence gets (one per byte or one per maximal
 * subpart) is not part of the contract.
 */
static void
assert_replaced(const char *bad, size_t badlen)
{
	char	 in[64], *out;
	size_t	 outlen, mid, i;

	ck_assert_uint_lt(badlen + 2, sizeof(in));
	in[0] = 'a';
	memcpy(in + 1, bad, badlen);
	in[badlen + 1] = 'z';
	out = json_of(in, badlen + 2, &outlen);
	ck_assert_msg(utf8_valid((unsigned char *)out, outlen),
	    "output for a %zu-byte bad sequence is not valid UTF-8", badlen);
	ck_assert_uint_ge(outlen, 4 + 3);
	ck_assert_mem_eq(out, "\"a", 2);
	ck_assert_mem_eq(out + outlen - 2, "z\"", 2);
	mid = outlen - 4;
	ck_assert_msg(mid > 0 && mid % 3 == 0,
	    "middle of %zu bytes is not a run of U+FFFD", mid);
	for (i = 0; i < mid; i += 3)
		ck_assert_mem_eq(out + 2 + i, FFFD, 3);
	free(out);
}

#define REPLACED(bad)	assert_replaced((bad), sizeof(bad) - 1)

START_TEST(test_json_plain)
{
	JSON_EQ("", "\"\"");
	JSON_EQ("hello world", "\"hello world\"");
	JSON_EQ("/path?x=1&y=<a>", "\"/path?x=1&y=<a>\"");
}
END_TEST

START_TEST(test_json_escapes)
{
	JSON_EQ("say \"hi\"", "\"say \\\"hi\\\"\"");
	JSON_EQ("a\\b", "\"a\\\\b\"");
	JSON_EQ("l1\nl2", "\"l1\\nl2\"");
	JSON_EQ("a\tb", "\"a\\tb\"");
	JSON_EQ("\"\\\n\t", "\"\\\"\\\\\\n\\t\"");
}
END_TEST

START_TEST(test_json_control_chars)
{
	char	*out;
	size_t	 outlen;
	char	 want[16];
	char	 c;
	int	 i;

	JSON_EQ("\x01", "\"\\u0001\"");
	JSON_EQ("a\x1f" "b", "\"a\\u001fb\"");
	JSON_EQ("\x1b[0m", "\"\\u001b[0m\"");
	/* A NUL inside the input is escaped, not a terminator. */
	JSON_EQ("a\0b", "\"a\\u0000b\"");
	/* Every control character comes out escaped: either a short form
	 * or \u00XX, never raw. */
	for (i = 0; i < 0x20; i++) {
		c = (char)i;
		out = json_of(&c, 1, &outlen);
		ck_assert_uint_ge(outlen, 4);
		ck_assert_int_eq(out[1], '\\');
		if (outlen == 8) {
			snprintf(want, sizeof(want), "\"\\u%04x\"", i);
			ck_assert_msg(strcasecmp(out, want) == 0,
			    "0x%02x: got %s", i, out);
		} else {
			ck_assert_uint_eq(outlen, 4);
			ck_assert_ptr_nonnull(strchr("bfnrt", out[2]));
		}
		free(out);
	}
}
END_TEST

START_TEST(test_json_utf8_passes)
{
	JSON_EQ("caf\xc3\xa9", "\"caf\xc3\xa9\"");			/* é */
	JSON_EQ("\xe2\x82\xac", "\"\xe2\x82\xac\"");			/* € */
	JSON_EQ("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");		/* 😀 */
	JSON_EQ("\xef\xbf\xbd", "\"\xef\xbf\xbd\"");			/* U+FFFD */
	JSON_EQ("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");		/* U+10FFFF */
	JSON_EQ("\xed\x9f\xbf", "\"\xed\x9f\xbf\"");			/* U+D7FF */
	JSON_EQ("\xc2\x80", "\"\xc2\x80\"");				/* U+0080 */
	JSON_EQ("a\xc3\xa9\"\xe2\x82\xac\n", "\"a\xc3\xa9\\\"\xe2\x82\xac\\n\"");
}
END_TEST

START_TEST(test_json_invalid_bytes)
{
	/* The cases named in the brief, exactly: one U+FFFD per bad byte
	 * for single invalid bytes. */
	JSON_EQ("\xff", "\"" FFFD "\"");
	JSON_EQ("\x80", "\"" FFFD "\"");
	JSON_EQ("a\xfe" "b", "\"a" FFFD "b\"");
	/* Sequences: replaced, valid output, neighbours untouched. */
	REPLACED("\xff");
	REPLACED("\x80");
	REPLACED("\xc0\x80");			/* overlong NUL */
	REPLACED("\xc1\xbf");			/* overlong */
	REPLACED("\xe0\x80\xaf");		/* overlong '/' */
	REPLACED("\xf0\x80\x80\xaf");		/* overlong '/' */
	REPLACED("\xe2\x82");			/* truncated € */
	REPLACED("\xf0\x9f\x98");		/* truncated 😀 */
	REPLACED("\xed\xa0\x80");		/* high surrogate U+D800 */
	REPLACED("\xed\xbf\xbf");		/* low surrogate U+DFFF */
	REPLACED("\xf4\x90\x80\x80");		/* U+110000 */
	REPLACED("\xf5\x80\x80\x80");
	REPLACED("\xbf\xbf");			/* lone continuations */
}
END_TEST

START_TEST(test_json_invalid_at_end)
{
	char	*out;
	size_t	 outlen;

	/* Truncated sequence as the very last bytes: no read past len. */
	out = json_of("x\xe2\x82", 3, &outlen);
	ck_assert(utf8_valid((unsigned char *)out, outlen));
	ck_assert_mem_eq(out, "\"x" FFFD, 5);
	ck_assert_int_eq(out[outlen - 1], '"');
	free(out);

	/* A valid character right after a truncated one survives. */
	out = json_of("\xe2\x82\xc3\xa9", 4, &outlen);
	ck_assert(utf8_valid((unsigned char *)out, outlen));
	ck_assert_mem_eq(out + outlen - 3, "\xc3\xa9\"", 3);
	ck_assert_mem_eq(out + 1, FFFD, 3);
	free(out);
}
END_TEST

START_TEST(test_json_appends)
{
	struct buf	 b = { 0 };

	buf_puts(&b, "{\"k\":");
	buf_json_string(&b, "v\"", 2);
	buf_puts(&b, "}");
	ck_assert_str_eq(b.data, "{\"k\":\"v\\\"\"}");
	ck_assert_uint_eq(b.len, strlen(b.data));
	buf_free(&b);
}
END_TEST

START_TEST(test_json_long_input)
{
	size_t	 n = 100000, outlen, i;
	char	*in = malloc(n), *out;

	ck_assert_ptr_nonnull(in);
	for (i = 0; i < n; i++)
		in[i] = (i % 7 == 0) ? '"' : 'a';
	out = json_of(in, n, &outlen);
	ck_assert_uint_eq(outlen, n + (n + 6) / 7 + 2);
	ck_assert_uint_eq(strlen(out), outlen);
	free(out);
	free(in);
}
END_TEST

START_TEST(test_buf_append_growth)
{
	struct buf	 b = { 0 };
	char		 want[16];
	size_t		 i, off = 0;
	int		 n;

	for (i = 0; i < 20000; i++)
		buf_printf(&b, "%zu,", i);
	ck_assert_ptr_nonnull(b.data);
	ck_assert_uint_ge(b.cap, b.len + 1);
	ck_assert_uint_eq(strlen(b.data), b.len);
	for (i = 0; i < 20000; i++) {
		n = snprintf(want, sizeof(want), "%zu,", i);
		ck_assert_msg(memcmp(b.data + off, want, (size_t)n) == 0,
		    "item %zu differs", i);
		off += (size_t)n;
	}
	ck_assert_uint_eq(off, b.len);
	buf_free(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.cap, 0);
}
END_TEST

START_TEST(test_buf_append_bytes)
{
	struct buf	 b = { 0 };
	size_t		 i;

	buf_append(&b, "a\0b", 3);
	ck_assert_uint_eq(b.len, 3);
	ck_assert_mem_eq(b.data, "a\0b", 4);	/* NUL-terminated too */
	buf_append(&b, NULL, 0);
	ck_assert_uint_eq(b.len, 3);
	for (i = 0; i < 5000; i++)
		buf_append(&b, "0123456789", 10);
	ck_assert_uint_eq(b.len, 3 + 50000);
	ck_assert_int_eq(b.data[b.len], '\0');
	ck_assert_mem_eq(b.data + b.len - 10, "0123456789", 10);
	buf_free(&b);
}
END_TEST

START_TEST(test_buf_printf_large)
{
	struct buf	 b = { 0 };
	char		*big = malloc(5001);

	ck_assert_ptr_nonnull(big);
	memset(big, 'q', 5000);
	big[5000] = '\0';
	buf_puts(&b, "<");
	buf_printf(&b, "%s|%d", big, 42);
	ck_assert_uint_eq(b.len, 1 + 5000 + 3);
	ck_assert_int_eq(b.data[0], '<');
	ck_assert_str_eq(b.data + 5001, "|42");
	buf_free(&b);
	free(big);
}
END_TEST

START_TEST(test_buf_reset)
{
	struct buf	 b = { 0 };
	size_t		 cap;

	buf_puts(&b, "something long enough");
	cap = b.cap;
	buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.cap, cap);
	ck_assert_str_eq(b.data, "");
	buf_puts(&b, "x");
	ck_assert_str_eq(b.data, "x");
	buf_free(&b);
	/* reset and free of an empty buf are harmless */
	buf_reset(&b);
	buf_free(&b);
	buf_free(&b);
}
END_TEST


static Suite *
buf_suite(void)
{
	Suite	*s = suite_create("buf");
	TCase	*tc;

	tc = tcase_create("json");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_json_plain);
	tcase_add_test(tc, test_json_escapes);
	tcase_add_test(tc, test_json_control_chars);
	tcase_add_test(tc, test_json_utf8_passes);
	tcase_add_test(tc, test_json_invalid_bytes);
	tcase_add_test(tc, test_json_invalid_at_end);
	tcase_add_test(tc, test_json_appends);
	tcase_add_test(tc, test_json_long_input);
	suite_add_tcase(s, tc);

	tc = tcase_create("buffer");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_buf_append_growth);
	tcase_add_test(tc, test_buf_append_bytes);
	tcase_add_test(tc, test_buf_printf_large);
	tcase_add_test(tc, test_buf_reset);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(buf_suite());
	int	 failed;

	/* Fork mode unless CK_FORK=no (for a debugger). */
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
