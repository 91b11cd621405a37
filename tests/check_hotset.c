/*
 * check_hotset.c - unit tests for hotset.c (issue 3, warm heaps): take and
 * put, least-recently-used eviction by count and by bytes, the call limit,
 * oversize heaps, dropping by prefix, and exact statistics. Every entry is
 * a real Duktape heap from sandbox_new, so that under the sanitizer build
 * a heap freed twice, freed while still handed out, or never freed fails
 * the test.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotset.h"
#include "sandbox_fixture.h"

static struct sandbox *
new_sb(void)
{
	struct sandbox *sb = sandbox_new(&LIM);

	ck_assert_ptr_nonnull(sb);
	return sb;
}

static struct hotset *
new_set(size_t max_count, size_t max_bytes, unsigned max_calls)
{
	struct hotset *h = hotset_new(max_count, max_bytes, max_calls);

	ck_assert_ptr_nonnull(h);
	return h;
}

#define ck_stats(h, c, b, e) do {					\
	const struct hotset_stats *st_ = hotset_stats(h);		\
	ck_assert_msg(st_->count == (c) && st_->bytes == (b) &&	\
	    st_->evictions == (unsigned long)(e),			\
	    "stats count=%zu bytes=%zu evictions=%lu, want %zu %zu %lu", \
	    st_->count, st_->bytes, st_->evictions, (size_t)(c),	\
	    (size_t)(b), (unsigned long)(e));				\
} while (0)

/* Takes key, which must be there holding sb with calls; puts it back with
 * the same bytes and calls (making it the most recently used). */
static void
expect_present(struct hotset *h, const char *key, struct sandbox *sb,
    size_t bytes, unsigned calls)
{
	unsigned got = 0xdead;
	struct sandbox *t = hotset_take(h, key, &got);

	ck_assert_msg(t != NULL, "%s is not in the set", key);
	ck_assert_msg(t == sb, "%s holds another sandbox", key);
	ck_assert_uint_eq(got, calls);
	hotset_put(h, key, t, bytes, calls);
}

static void
expect_absent(struct hotset *h, const char *key)
{
	unsigned got = 0;

	ck_assert_msg(hotset_take(h, key, &got) == NULL, "%s is in the set",
	    key);
}

START_TEST(test_take_empty)
{
	struct hotset *h = new_set(3, 100 * MiB, 100);
	unsigned calls = 0;

	ck_assert_ptr_null(hotset_take(h, "p/r/f@1#abc", &calls));
	ck_assert_ptr_null(hotset_take(h, "", &calls));
	ck_stats(h, 0, 0, 0);
	hotset_free(h);
	hotset_free(NULL);
}
END_TEST

START_TEST(test_put_take_round_trip)
{
	struct hotset *h = new_set(3, 100 * MiB, 100);
	struct sandbox *sb = new_sb(), *t;
	unsigned calls = 0;

	hotset_put(h, "p/r/f@1#abc", sb, 4000, 7);
	ck_stats(h, 1, 4000, 0);
	/* Another key, even a prefix or an extension, is not it. */
	ck_assert_ptr_null(hotset_take(h, "p/r/f@1#ab", &calls));
	ck_assert_ptr_null(hotset_take(h, "p/r/f@1#abcd", &calls));
	ck_assert_ptr_null(hotset_take(h, "p/r/f@2#abc", &calls));
	ck_assert_ptr_null(hotset_take(h, "P/r/f@1#abc", &calls));
	t = hotset_take(h, "p/r/f@1#abc", &calls);
	ck_assert_ptr_eq(t, sb);
	ck_assert_uint_eq(calls, 7);
	/* Taken means removed: the caller owns it now. */
	ck_stats(h, 0, 0, 0);
	ck_assert_ptr_null(hotset_take(h, "p/r/f@1#abc", &calls));
	sandbox_free(t);
	hotset_free(h);
}
END_TEST

/* The key is copied: the caller's buffer may change after the put. */
START_TEST(test_key_is_copied)
{
	struct hotset *h = new_set(3, 100 * MiB, 100);
	struct sandbox *sb = new_sb();
	char key[64];
	unsigned calls;

	snprintf(key, sizeof(key), "p/r/f@1#aaa");
	hotset_put(h, key, sb, 10, 1);
	snprintf(key, sizeof(key), "p/r/f@2#bbb");
	ck_assert_ptr_null(hotset_take(h, key, &calls));
	ck_assert_ptr_eq(hotset_take(h, "p/r/f@1#aaa", &calls), sb);
	sandbox_free(sb);
	hotset_free(h);
}
END_TEST

/* A warm heap keeps its state: what the handler's globals held is still
 * there when it comes back out of the set. */
START_TEST(test_heap_state_survives)
{
	static const char src[] = "var n = 0;\n"
	    "module.exports = function (req, res) { n++; res.send(String(n)); };";
	struct hotset *h = new_set(3, 100 * MiB, 100);
	struct sandbox *sb = new_sb();
	struct sandbox_result res;
	unsigned calls = 0, i;

	ck_assert_int_eq(sandbox_load(sb, src, strlen(src), "n.js", NULL, NULL,
	    &res), 0);
	sandbox_result_free(&res);
	for (i = 1; i <= 5; i++) {
		ck_assert_int_eq(sandbox_call(sb, &PLAIN_RQ, &res), 0);
		ck_assert_uint_eq(res.body_len, 1);
		ck_assert_int_eq(res.body[0], (int)('0' + i));
		sandbox_result_free(&res);
		hotset_put(h, "p/r/n@1#x", sb, sandbox_memory_used(sb),
		    calls + 1);
		sb = hotset_take(h, "p/r/n@1#x", &calls);
		ck_assert_ptr_nonnull(sb);
		ck_assert_uint_eq(calls, i);
	}
	sandbox_free(sb);
	hotset_free(h);
}
END_TEST

START_TEST(test_lru_evicts_oldest_by_count)
{
	static const char *const keys[] = { "p/r/a@1#1", "p/r/b@1#2",
	    "p/r/c@1#3", "p/r/d@1#4" };
	struct hotset *h = new_set(3, 100 * MiB, 100);
	struct sandbox *sb[4];
	size_t i;

	for (i = 0; i < 4; i++) {
		sb[i] = new_sb();
		hotset_put(h, keys[i], sb[i], 100 + i, (unsigned)i + 1);
	}
	ck_stats(h, 3, 101 + 102 + 103, 1);
	expect_absent(h, keys[0]);
	expect_present(h, keys[1], sb[1], 101, 2);
	expect_present(h, keys[2], sb[2], 102, 3);
	expect_present(h, keys[3], sb[3], 103, 4);
	ck_stats(h, 3, 101 + 102 + 103, 1);
	hotset_free(h);
}
END_TEST

/* Taking and putting back makes an entry the most recently used. */
START_TEST(test_lru_recency_refreshed_by_use)
{
	struct hotset *h = new_set(3, 100 * MiB, 100);
	struct sandbox *a = new_sb(), *b = new_sb(), *c = new_sb(), *d, *e;

	hotset_put(h, "a", a, 10, 1);
	hotset_put(h, "b", b, 10, 1);
	hotset_put(h, "c", c, 10, 1);
	/* Use a: the order, oldest first, is now b c a. */
	expect_present(h, "a", a, 10, 1);
	d = new_sb();
	hotset_put(h, "d", d, 10, 1);
	ck_stats(h, 3, 30, 1);
	expect_absent(h, "b");
	/* Order was c a d; using c makes it a d c; e pushes a out. */
	expect_present(h, "c", c, 10, 1);
	e = new_sb();
	hotset_put(h, "e", e, 10, 1);
	ck_stats(h, 3, 30, 2);
	expect_absent(h, "a");
	expect_present(h, "d", d, 10, 1);
	expect_present(h, "c", c, 10, 1);
	expect_present(h, "e", e, 10, 1);
	hotset_free(h);
}
END_TEST

START_TEST(test_lru_evicts_by_bytes)
{
	struct hotset *h = new_set(10, 1000, 100);
	struct sandbox *a = new_sb(), *b = new_sb(), *c = new_sb();
	struct sandbox *d, *e, *f;

	hotset_put(h, "a", a, 400, 1);
	hotset_put(h, "b", b, 400, 1);
	ck_stats(h, 2, 800, 0);
	hotset_put(h, "c", c, 400, 1);
	ck_stats(h, 2, 800, 1);
	expect_absent(h, "a");
	/* One big entry pushes out as many old ones as it takes. */
	d = new_sb();
	hotset_put(h, "d", d, 900, 1);
	ck_stats(h, 1, 900, 3);
	expect_absent(h, "b");
	expect_absent(h, "c");
	/* Exactly at the bound is within it. */
	e = new_sb();
	hotset_put(h, "e", e, 100, 1);
	ck_stats(h, 2, 1000, 3);
	expect_present(h, "d", d, 900, 1);
	expect_present(h, "e", e, 100, 1);
	/* A zero-byte entry still counts. */
	f = new_sb();
	hotset_put(h, "f", f, 0, 1);
	ck_stats(h, 3, 1000, 3);
	hotset_free(h);
}
END_TEST

/* A heap that has served max_calls is freed at put, not kept. */
START_TEST(test_max_calls_not_kept)
{
	struct hotset *h = new_set(10, 100 * MiB, 3);
	struct sandbox *a = new_sb(), *b = new_sb(), *c = new_sb();

	hotset_put(h, "keep", a, 100, 1);
	hotset_put(h, "at-limit", b, 100, 3);
	hotset_put(h, "over-limit", c, 100, 4);
	ck_stats(h, 1, 100, 0);
	expect_absent(h, "at-limit");
	expect_absent(h, "over-limit");
	expect_present(h, "keep", a, 100, 1);
	hotset_free(h);
}
END_TEST

/* The way invoke.c uses it: take (or make) a heap, call, put it back with
 * one more call. The call that reaches max_calls is the heap's last. */
START_TEST(test_max_calls_cycle)
{
	struct hotset *h = new_set(10, 100 * MiB, 5);
	struct sandbox *first = new_sb(), *sb;
	unsigned calls = 0, i;

	sb = first;
	for (i = 1; i <= 4; i++) {
		hotset_put(h, "k", sb, 100, i);
		sb = hotset_take(h, "k", &calls);
		ck_assert_ptr_eq(sb, first);
		ck_assert_uint_eq(calls, i);
	}
	hotset_put(h, "k", sb, 100, 5);
	expect_absent(h, "k");
	ck_stats(h, 0, 0, 0);
	hotset_free(h);
}
END_TEST

/* A heap bigger than the whole budget is not kept, and does not push
 * anything out on its way. */
START_TEST(test_oversize_not_kept)
{
	struct hotset *h = new_set(10, 1000, 100);
	struct sandbox *a = new_sb(), *b = new_sb(), *c = new_sb();

	hotset_put(h, "a", a, 300, 1);
	hotset_put(h, "b", b, 300, 1);
	hotset_put(h, "big", c, 1001, 1);
	ck_stats(h, 2, 600, 0);
	expect_absent(h, "big");
	expect_present(h, "a", a, 300, 1);
	expect_present(h, "b", b, 300, 1);
	hotset_free(h);
}
END_TEST

START_TEST(test_zero_count_keeps_nothing)
{
	struct hotset *h = new_set(0, 100 * MiB, 100);

	hotset_put(h, "a", new_sb(), 10, 1);
	ck_stats(h, 0, 0, 0);
	expect_absent(h, "a");
	hotset_free(h);
}
END_TEST


/* More keys than buckets: chains, removal from the middle of a chain, and
 * exact statistics over many operations. */
START_TEST(test_many_keys)
{
	enum { N = 40, MAX = 8 };
	struct hotset *h = new_set(MAX, 100 * MiB, 1000);
	struct sandbox *sb[N];
	char key[32];
	size_t i;

	for (i = 0; i < N; i++) {
		sb[i] = new_sb();
		snprintf(key, sizeof(key), "p/r/f%zu@1#x", i);
		hotset_put(h, key, sb[i], 1000, 1);
	}
	ck_stats(h, MAX, MAX * 1000, N - MAX);
	for (i = 0; i < N - MAX; i++) {
		snprintf(key, sizeof(key), "p/r/f%zu@1#x", i);
		expect_absent(h, key);
	}
	/* Take the survivors in a scattered order, then put them back. */
	for (i = 0; i < MAX; i++) {
		size_t j = N - MAX + (i * 3) % MAX;
		unsigned calls;

		snprintf(key, sizeof(key), "p/r/f%zu@1#x", j);
		ck_assert_ptr_eq(hotset_take(h, key, &calls), sb[j]);
		ck_assert_uint_eq(calls, 1);
		ck_stats(h, MAX - i - 1, (MAX - i - 1) * 1000, N - MAX);
	}
	for (i = 0; i < MAX; i++) {
		snprintf(key, sizeof(key), "p/r/f%zu@1#x", N - MAX + i);
		hotset_put(h, key, sb[N - MAX + i], 1000, 2);
	}
	ck_stats(h, MAX, MAX * 1000, N - MAX);
	hotset_free(h);
}
END_TEST

/* Versions, functions and projects never share an entry. */
START_TEST(test_keys_are_distinct)
{
	static const char *const keys[] = {
	    "p/r/f@1#aaa", "p/r/f@1#aab", "p/r/f@2#aaa", "p/r/g@1#aaa",
	    "p/s/f@1#aaa", "q/r/f@1#aaa",
	};
	struct hotset *h = new_set(10, 100 * MiB, 100);
	struct sandbox *sb[NELEM(keys)];
	size_t i;

	for (i = 0; i < NELEM(keys); i++) {
		sb[i] = new_sb();
		hotset_put(h, keys[i], sb[i], 1, (unsigned)i);
	}
	ck_stats(h, NELEM(keys), NELEM(keys), 0);
	for (i = 0; i < NELEM(keys); i++)
		expect_present(h, keys[i], sb[i], 1, (unsigned)i);
	hotset_free(h);
}
END_TEST

/* hotset_free frees what is in the set (the sanitizer build checks for
 * leaks), and nothing that was taken out. */
START_TEST(test_free_with_entries)
{
	struct hotset *h = new_set(5, 100 * MiB, 100);
	struct sandbox *out;
	unsigned calls;

	hotset_put(h, "a", new_sb(), 10, 1);
	hotset_put(h, "b", new_sb(), 10, 1);
	hotset_put(h, "c", new_sb(), 10, 1);
	out = hotset_take(h, "b", &calls);
	ck_assert_ptr_nonnull(out);
	hotset_free(h);
	/* Still ours and usable. */
	{
		static const char src[] = "module.exports = function (q, s) "
		    "{ s.send('ok'); };";
		struct sandbox_result res;

		ck_assert_int_eq(sandbox_load(out, src, strlen(src), "x.js",
		    NULL, NULL, &res), 0);
		sandbox_result_free(&res);
		ck_assert_int_eq(sandbox_call(out, &PLAIN_RQ, &res), 0);
		ck_assert_uint_eq(res.body_len, 2);
		sandbox_result_free(&res);
	}
	sandbox_free(out);
}
END_TEST

static Suite *
hotset_suite(void)
{
	Suite *s = suite_create("hotset");
	TCase *tc = tcase_create("hotset");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_take_empty);
	tcase_add_test(tc, test_put_take_round_trip);
	tcase_add_test(tc, test_key_is_copied);
	tcase_add_test(tc, test_heap_state_survives);
	tcase_add_test(tc, test_lru_evicts_oldest_by_count);
	tcase_add_test(tc, test_lru_recency_refreshed_by_use);
	tcase_add_test(tc, test_lru_evicts_by_bytes);
	tcase_add_test(tc, test_max_calls_not_kept);
	tcase_add_test(tc, test_max_calls_cycle);
	tcase_add_test(tc, test_oversize_not_kept);
	tcase_add_test(tc, test_zero_count_keeps_nothing);
	tcase_add_test(tc, test_many_keys);
	tcase_add_test(tc, test_keys_are_distinct);
	tcase_add_test(tc, test_free_with_entries);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(hotset_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
