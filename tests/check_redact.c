/*
 * check_redact.c - unit tests for redact.c: every byte of every occurrence
 * of every value is hidden (overlaps merge into one "***", touching hits
 * stay separate), any bytes, the lazy build, and an operation count that
 * proves the work is linear in text + values (no wall clock: the machines
 * are shared). A brute-force reference (memmem for every occurrence, then
 * the union of the intervals) checks the automaton on fixed and random
 * inputs.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redact.h"

/* ---- helpers ---- */

/* n variables whose values are copies of vals[i][0..lens[i]), or of the
 * strings when lens is NULL. Free with store_env_free. */
static struct store_env_var *
vars_of(const char *const *vals, const size_t *lens, size_t n)
{
	struct store_env_var *v = calloc(n > 0 ? n : 1, sizeof(*v));
	size_t i;

	ck_assert_ptr_nonnull(v);
	for (i = 0; i < n; i++) {
		snprintf(v[i].name, sizeof(v[i].name), "V%zu", i);
		v[i].len = lens != NULL ? lens[i] : strlen(vals[i]);
		v[i].value = buf_memdup(vals[i], v[i].len);
	}
	return v;
}

/* redact_append of s[0..len) into a fresh string; the caller frees. */
static char *
redacted(const struct redactor *r, const char *s, size_t len, size_t *outlen)
{
	struct buf b = { 0 };

	buf_append(&b, "", 0);	/* never NULL, even for empty output */
	redact_append(r, &b, s, len);
	*outlen = b.len;
	return b.data;
}

struct ival {
	size_t	a, b;
};

static int
ival_cmp(const void *x, const void *y)
{
	const struct ival *p = x, *q = y;

	if (p->a != q->a)
		return p->a < q->a ? -1 : 1;
	return p->b < q->b ? -1 : p->b > q->b;
}

/* The specification, by brute force: every occurrence of every value long
 * enough, sorted, intervals sharing a byte merged. The caller frees. */
static char *
reference(const struct store_env_var *v, size_t n, const char *s, size_t len,
    size_t *outlen)
{
	struct ival *iv = NULL;
	struct buf b = { 0 };
	size_t niv = 0, cap = 0, i, j, done = 0, a, e;
	const char *p, *q;

	for (i = 0; i < n; i++) {
		if (v[i].len < REDACT_MIN_LEN)
			continue;
		for (p = s; p < s + len &&
		    (q = memmem(p, (size_t)(s + len - p), v[i].value,
		    v[i].len)) != NULL; p = q + 1) {
			if (niv == cap) {
				cap = cap > 0 ? 2 * cap : 64;
				iv = realloc(iv, cap * sizeof(*iv));
				ck_assert_ptr_nonnull(iv);
			}
			iv[niv].a = (size_t)(q - s);
			iv[niv++].b = (size_t)(q - s) + v[i].len;
		}
	}
	if (niv > 0)
		qsort(iv, niv, sizeof(*iv), ival_cmp);
	buf_append(&b, "", 0);
	for (i = 0; i < niv; i = j) {
		a = iv[i].a;
		e = iv[i].b;
		for (j = i + 1; j < niv && iv[j].a < e; j++)
			if (iv[j].b > e)
				e = iv[j].b;
		buf_append(&b, s + done, a - done);
		buf_append(&b, "***", 3);
		done = e;
	}
	buf_append(&b, s + done, len - done);
	free(iv);
	*outlen = b.len;
	return b.data;
}

struct redact_case {
	const char	*why;
	const char	*vals[4];	/* up to the first NULL */
	const char	*text;
	const char	*want;
};

/* Redacts c->text with c->vals and checks the result against c->want and
 * against the reference (so the reference itself is checked too). */
static void
assert_redacts(const struct redact_case *c)
{
	struct store_env_var *v;
	struct redactor r;
	char *got, *ref;
	size_t n, gotlen, reflen, len = strlen(c->text);

	for (n = 0; n < 4 && c->vals[n] != NULL; n++)
		;
	v = vars_of(c->vals, NULL, n);
	redact_init(&r, v, n);
	got = redacted(&r, c->text, len, &gotlen);
	ref = reference(v, n, c->text, len, &reflen);
	ck_assert_msg(gotlen == strlen(c->want) &&
	    memcmp(got, c->want, gotlen) == 0, "%s: [%s] gave [%s], want [%s]",
	    c->why, c->text, got, c->want);
	ck_assert_msg(reflen == gotlen && memcmp(ref, got, gotlen) == 0,
	    "%s: [%s]: reference [%s], got [%s]", c->why, c->text, ref, got);
	free(got);
	free(ref);
	redact_free(&r);
	store_env_free(v, n);
}

/* Redacts s[0..len) and compares with the reference; returns the steps. */
static unsigned long long
assert_matches_reference(const struct store_env_var *v, size_t n,
    const char *s, size_t len)
{
	struct redactor r;
	char *got, *ref;
	size_t gotlen, reflen;
	unsigned long long steps;

	redact_init(&r, v, n);
	got = redacted(&r, s, len, &gotlen);
	ref = reference(v, n, s, len, &reflen);
	ck_assert_msg(gotlen == reflen && memcmp(got, ref, gotlen) == 0,
	    "%zu bytes with %zu values: got %zu bytes, reference %zu", len, n,
	    gotlen, reflen);
	steps = redact_steps(&r);
	free(got);
	free(ref);
	redact_free(&r);
	return steps;
}

static size_t
total_len(const struct store_env_var *v, size_t n)
{
	size_t i, t = 0;

	for (i = 0; i < n; i++)
		t += v[i].len;
	return t;
}

/* The linearity bound: a constant number of operations per text byte and
 * per value byte (a byte, a failure link, a table probe, a span). A
 * quadratic algorithm counted the same way (memmem per value per hit) is
 * hundreds of times over it on the inputs below. */
#define STEPS_PER_BYTE	12

/* Checks text[0..len) against the reference and the step bound. */
static void
assert_linear(char *const *vals, size_t n, const char *text, size_t len)
{
	struct store_env_var *v = vars_of((const char *const *)vals, NULL, n);
	size_t total = total_len(v, n);
	unsigned long long steps = assert_matches_reference(v, n, text, len);

	ck_assert_msg(steps <= STEPS_PER_BYTE * (len + total),
	    "%llu steps for %zu text bytes and %zu value bytes", steps, len,
	    total);
	store_env_free(v, n);
}

/* ---- tests ---- */

START_TEST(test_empty_set)
{
	const char *shorts[] = { "abcde", "x", "" };
	struct store_env_var *v = vars_of(shorts, NULL, 3);
	struct redactor r;
	char *got;
	size_t len;

	redact_init(&r, NULL, 0);
	got = redacted(&r, "nothing to hide", 15, &len);
	ck_assert_str_eq(got, "nothing to hide");
	ck_assert_ptr_null(r.ac);
	free(got);
	redact_free(&r);

	/* Values of 5 bytes or fewer are left alone, and build nothing. */
	redact_init(&r, v, 3);
	ck_assert_uint_eq(r.n, 0);
	got = redacted(&r, "abcde x", 7, &len);
	ck_assert_str_eq(got, "abcde x");
	ck_assert_ptr_null(r.ac);
	free(got);
	redact_free(&r);
	store_env_free(v, 3);
}
END_TEST

/* Values, text, and what must come out; the reference must agree. */
static const struct redact_case cases[] = {
	{ "one value", { "secret123" }, "token=secret123 end", "token=*** end" },
	{ "near misses", { "secret123" }, "secret12 ecret123", "secret12 ecret123" },
	{ "empty text", { "secret123" }, "", "" },
	{ "twice", { "secret123" }, "a secret123 b secret123 c", "a *** b *** c" },
	{ "whole text", { "secret123" }, "secret123", "***" },
	{ "at the start", { "secret123" }, "secret123 mid", "*** mid" },
	{ "at the end", { "secret123" }, "mid secret123", "mid ***" },
	/* Leftmost-then-longest would have left "ghi" visible. */
	{ "overlap", { "abcdef", "defghi" }, "xabcdefghiy", "x***y" },
	{ "touching", { "abcdef", "defghi" }, "defghiabcdef", "******" },
	{ "touching, apart", { "abcdef", "ghijkl" }, "abcdef-ghijkl", "***-***" },
	{ "overlapping itself", { "aaaaaa" }, "aaaaaaaaaaaa", "***" },
	{ "too short a run", { "aaaaaa" }, "aaaaa", "aaaaa" },
	{ "two runs of one value", { "aaaaaa" }, "aaaaaabaaaaaa", "***b***" },
	{ "chained through a middle value", { "abcdef", "efghij", "ijklmn" },
	    "<abcdefghijklmn>", "<***>" },
	{ "one inside another", { "secret", "mysecretkey" },
	    "a mysecretkey b secret c", "a *** b *** c" },
	{ "the outer one cut short", { "secret", "mysecretkey" }, "mysecretke",
	    "my***ke" },
	/* Two shorter hits are pending, apart, when a longer value that
	 * began before both ends: all three are one run. */
	{ "pending hits merged", { "bcdefg", "ijklmn", "abcdefghijklmnop" },
	    "-abcdefghijklmnop-", "-***-" },
	{ "pending hits kept", { "bcdefg", "ijklmn", "abcdefghijklmnop" },
	    "-abcdefghijklmnoX-", "-a***h***oX-" },
	/* The shorter value is a suffix: found through the failure chain. */
	{ "a suffix inside", { "klmnop", "abcdefghijklmnop" }, "abcdefghijklmnop",
	    "***" },
	{ "a suffix alone", { "klmnop", "abcdefghijklmnop" }, "xxxxxxxxxxklmnop",
	    "xxxxxxxxxx***" },
};

START_TEST(test_cases)
{
	assert_redacts(&cases[_i]);
}
END_TEST

START_TEST(test_shared_prefixes)
{
	enum { N = 200 };
	char *vals[N], text[N * 24], *t = text;
	struct store_env_var *v;
	size_t i;

	for (i = 0; i < N; i++) {
		ck_assert_int_ne(asprintf(&vals[i], "prefix_%03zu", i), -1);
		/* Every third value appears, then a near miss of the next. */
		if (i % 3 == 0)
			t += sprintf(t, "%s prefix_%02zu|", vals[i], i % 100);
	}
	v = vars_of((const char *const *)vals, NULL, N);
	assert_matches_reference(v, N, text, (size_t)(t - text));
	store_env_free(v, N);
	for (i = 0; i < N; i++)
		free(vals[i]);
}
END_TEST

START_TEST(test_binary_bytes)
{
	const char *vals[] = { "\0\0\0\0\0\0", "\xff\xfe\x80\0ab", "\xc3\x28zzzz" };
	const size_t lens[] = { 6, 6, 6 };
	const char text[] = "x\0\0\0\0\0\0\0y\xff\xfe\x80\0ab\0z\xc3\x28zzzz!";
	const char want[] = "x***y***\0z***!";
	struct store_env_var *v = vars_of(vals, lens, 3);
	struct redactor r;
	char *got;
	size_t len;

	redact_init(&r, v, 3);
	got = redacted(&r, text, sizeof(text) - 1, &len);
	ck_assert_uint_eq(len, sizeof(want) - 1);
	ck_assert_mem_eq(got, want, len);
	free(got);
	redact_free(&r);
	assert_matches_reference(v, 3, text, sizeof(text) - 1);
	store_env_free(v, 3);
}
END_TEST

/* Small alphabets make overlaps, shared prefixes and suffixes common. */
START_TEST(test_random_against_reference)
{
	static const char alphabet[] = { 'a', 'b', '\0', '\xff' };
	struct store_env_var v[8];
	char text[300];
	size_t n, len, i, j;
	unsigned seed = 8u;
	int round;

	for (round = 0; round < 3000; round++) {
		n = (size_t)rand_r(&seed) % 8;
		for (i = 0; i < n; i++) {
			v[i].len = 3 + (size_t)rand_r(&seed) % 8;
			ck_assert_ptr_nonnull(v[i].value = malloc(v[i].len));
			for (j = 0; j < v[i].len; j++)
				v[i].value[j] = alphabet[rand_r(&seed) % (1 + round % 4)];
		}
		len = (size_t)rand_r(&seed) % sizeof(text);
		for (j = 0; j < len; j++)
			text[j] = alphabet[rand_r(&seed) % (1 + round % 4)];
		assert_matches_reference(v, n, text, len);
		for (i = 0; i < n; i++)
			free(v[i].value);
	}
}
END_TEST

/* 300 values "a...ab<x>" over 64 KiB of 'a' with a hit every 1000 bytes:
 * memmem per value per hit rescans the rest of the text for every value at
 * every hit. Then values made of 'a' only, so that every byte is hidden. */
START_TEST(test_adversarial_linear)
{
	enum { N = 300, TEXT = 64 * 1024 };
	char *vals[N], *text;
	size_t i;

	ck_assert_ptr_nonnull(text = malloc(TEXT));
	memset(text, 'a', TEXT);
	for (i = 999; i + 2 < TEXT; i += 1000) {
		text[i] = 'b';
		text[i + 1] = (char)('c' + (i / 1000) % 6);
	}
	for (i = 0; i < N; i++) {
		size_t k = 6 + i % 50;

		ck_assert_ptr_nonnull(vals[i] = malloc(k + 3));
		memset(vals[i], 'a', k);
		vals[i][k] = 'b';
		vals[i][k + 1] = (char)('c' + i / 50);
		vals[i][k + 2] = '\0';
	}
	assert_linear(vals, N, text, TEXT);
	/* Every byte hidden: one "***" for the whole text. */
	for (i = 0; i < N; i++)
		vals[i][6 + i % 50] = '\0';
	assert_linear(vals, N, text, 999);
	for (i = 0; i < N; i++)
		free(vals[i]);
	free(text);
}
END_TEST

/* The case: 300 values, 64 KiB of logs quoting many of them. The
 * reference and the bound, then: the automaton is built once, and twice
 * the text costs exactly twice the steps. */
START_TEST(test_steps_linear)
{
	enum { N = 300, TEXT = 64 * 1024 };
	char *vals[N], *text;
	struct store_env_var *v;
	struct redactor r;
	struct buf out = { 0 };
	unsigned long long built, one, two;
	size_t i, t = 0, total;

	ck_assert_ptr_nonnull(text = malloc(TEXT));
	for (i = 0; i < N; i++)
		ck_assert_int_ne(asprintf(&vals[i], "sk_live_%04zu_%040zu", i,
		    i * 7919), -1);
	for (i = 0; t + 128 < TEXT; i++)
		t += (size_t)sprintf(text + t, "line %zu key=%s %s\n", i,
		    vals[(i * 37) % N], i % 2 ? "sk_live_x" : "ok");
	assert_linear(vals, N, text, t);

	/* The build is paid once; the scan is linear in the text. */
	v = vars_of((const char *const *)vals, NULL, N);
	total = total_len(v, N);
	redact_init(&r, v, N);
	redact_append(&r, &out, text, t);
	ck_assert_ptr_nonnull(strstr(out.data, "key=*** "));
	ck_assert_ptr_null(memmem(out.data, out.len, "sk_live_0", 9));
	built = redact_steps(&r);
	redact_append(&r, &out, text, t);
	one = redact_steps(&r) - built;
	redact_append(&r, &out, text, t);
	redact_append(&r, &out, text, t);
	two = redact_steps(&r) - built - one;
	ck_assert_msg(two == 2 * one, "one text %llu steps, twice %llu", one,
	    two);
	ck_assert_msg(built <= one + STEPS_PER_BYTE * total,
	    "%llu steps to build %zu value bytes", built - one, total);
	buf_free(&out);
	redact_free(&r);
	store_env_free(v, N);
	for (i = 0; i < N; i++)
		free(vals[i]);
	free(text);
}
END_TEST

START_TEST(test_inplace)
{
	const char *vals[] = { "secret123", "abcdef", "defghi" };
	struct store_env_var *v = vars_of(vals, NULL, 3);
	struct redactor r;
	char s[] = "x secret123 abcdefghi secret123secret123 y";
	char empty[] = "";

	redact_init(&r, v, 3);
	redact_inplace(&r, NULL, NULL);
	redact_inplace(&r, empty, NULL);
	ck_assert_str_eq(empty, "");
	ck_assert_ptr_null(r.ac);
	redact_inplace(&r, s, NULL);
	ck_assert_str_eq(s, "x *** *** ****** y");
	redact_inplace(&r, s, NULL);
	ck_assert_str_eq(s, "x *** *** ****** y");
	redact_free(&r);
	store_env_free(v, 3);
}
END_TEST

/* Text cut from a longer one: a tail that could start a value is dropped,
 * so a secret cut in two never shows its first half. */
START_TEST(test_cut)
{
	const char *vals[] = { "sk_live_0123456789", "abcdef" };
	struct store_env_var *v = vars_of(vals, NULL, 2);
	struct redactor r;
	struct buf b = { 0 };
	char msg[] = "key sk_live_012... [cut]";
	char whole[] = "key sk_live_0123456789... [cut]";
	char plain[] = "nothing here... [cut]";

	redact_init(&r, v, 2);
	redact_append_cut(&r, &b, "token=sk_live_01", 16);
	ck_assert_str_eq(b.data, "token=");
	buf_reset(&b);
	/* a whole value before the cut is masked; the cut tail after it too */
	redact_append_cut(&r, &b, "abcdef sk_li", 12);
	ck_assert_str_eq(b.data, "*** ");
	buf_reset(&b);
	/* a tail that starts no value stays */
	redact_append_cut(&r, &b, "token=xyz", 9);
	ck_assert_str_eq(b.data, "token=xyz");
	buf_reset(&b);
	/* not cut: a partial value is just text */
	redact_append(&r, &b, "token=sk_live_01", 16);
	ck_assert_str_eq(b.data, "token=sk_live_01");
	buf_free(&b);
	/* in place, with the marker the sandbox puts after a cut */
	redact_inplace(&r, msg, "... [cut]");
	ck_assert_str_eq(msg, "key ... [cut]");
	redact_inplace(&r, whole, "... [cut]");
	ck_assert_str_eq(whole, "key ***... [cut]");
	redact_inplace(&r, plain, "... [cut]");
	ck_assert_str_eq(plain, "nothing here... [cut]");
	redact_free(&r);
	store_env_free(v, 2);
}
END_TEST

START_TEST(test_lazy_build)
{
	const char *vals[] = { "secret123", "another-one" };
	struct store_env_var *v = vars_of(vals, NULL, 2);
	struct redactor r;
	struct buf out = { 0 };

	redact_init(&r, v, 2);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_ptr_null(r.ac);
	ck_assert_uint_eq(redact_steps(&r), 0);
	/* No text, no automaton. */
	redact_append(&r, &out, "", 0);
	ck_assert_ptr_null(r.ac);
	/* The first text builds it, later ones reuse it. */
	redact_append(&r, &out, "secret123", 9);
	ck_assert_ptr_nonnull(r.ac);
	ck_assert_uint_gt(redact_steps(&r), 0);
	redact_append(&r, &out, "|another-one", 12);
	ck_assert_str_eq(out.data, "***|***");
	buf_free(&out);
	redact_free(&r);
	ck_assert_ptr_null(r.ac);
	store_env_free(v, 2);
}
END_TEST

static Suite *
redact_suite(void)
{
	Suite	*s = suite_create("redact");
	TCase	*tc;

	tc = tcase_create("semantics");
	tcase_add_test(tc, test_empty_set);
	tcase_add_loop_test(tc, test_cases, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_shared_prefixes);
	tcase_add_test(tc, test_binary_bytes);
	tcase_add_test(tc, test_inplace);
	tcase_add_test(tc, test_lazy_build);
	tcase_add_test(tc, test_cut);
	suite_add_tcase(s, tc);

	/* Generous timeouts: ASan builds on shared machines. */
	tc = tcase_create("bounds");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_random_against_reference);
	tcase_add_test(tc, test_adversarial_linear);
	tcase_add_test(tc, test_steps_linear);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(redact_suite());
	int	 failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
