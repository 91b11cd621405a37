/*
 * check_spare.c - unit tests for spare.c (issue 12, cold start): the slot
 * fills once and hands its heap out once; the heap taken gets the taker's
 * limits (its memory cap and its time budget apply, a cap below what the
 * heap holds is refused and the heap kept); a function loaded into a spare
 * sees exactly what it sees in a heap made for it (globals, the library,
 * JSON.parse), and nothing of a function that ran in an earlier spare of
 * the same slot. Also sandbox_compact, which takes the compaction off the
 * first call's path: a compacted heap holds less, or as much, and answers
 * as before. Real Duktape heaps throughout, so that under the sanitizer
 * build a heap leaked or freed twice fails the test.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox_fixture.h"
#include "spare.h"

/* What a spare is made under in a worker: the largest cap (memory_max_mb). */
static const struct sandbox_limits MAKE = { .memory_bytes = 256 * MiB,
    .timeout_ms = 1000, .response_max = 6 * MiB, .log_max = 64 * KiB };

#define ck_spare_stats(s, m, t, r) do {					\
	struct spare_stats st_;						\
	spare_stats(s, &st_);						\
	ck_assert_msg(st_.made == (m) && st_.taken == (t) &&		\
	    st_.refused == (r), "made=%lu taken=%lu refused=%lu, "	\
	    "want %lu %lu %lu", st_.made, st_.taken, st_.refused,	\
	    (unsigned long)(m), (unsigned long)(t), (unsigned long)(r)); \
} while (0)

static struct spare *
new_slot(void)
{
	struct spare *s = spare_new(&MAKE);

	ck_assert_ptr_nonnull(s);
	return s;
}

/* A heap the slot made (spare_fill) and handed out under lim. */
static struct sandbox *
filled_take(struct spare *s, const struct sandbox_limits *lim)
{
	struct sandbox *sb;

	ck_assert_int_eq(spare_fill(s), 1);
	sb = spare_take(s, lim);
	ck_assert_ptr_nonnull(sb);
	return sb;
}

/* Loads src into sb, calls it once with PLAIN_RQ and returns its body (a
 * malloc'd string the caller frees); the test fails on any other outcome
 * than want. */
static char *
run_in(struct sandbox *sb, const char *src, enum outcome want)
{
	struct sandbox_result res;
	char *body = NULL;

	if (sandbox_load(sb, src, strlen(src), "t.js", NULL, NULL, &res) ==
	    0) {
		sandbox_result_free(&res);
		(void)sandbox_call(sb, &PLAIN_RQ, &res);
	}
	ck_assert_msg(res.outcome == want, "outcome %s, want %s (%s)",
	    outcome_code(res.outcome), outcome_code(want), res.message);
	if (res.outcome == OUT_OK) {
		body = strndup(res.body != NULL ? res.body : "", res.body_len);
		ck_assert_ptr_nonnull(body);
	}
	sandbox_result_free(&res);
	return body;
}

/* Everything a new heap shows a function: its own globals, the library's
 * names (installed on first use), the replaced JSON.parse, what Duktape
 * removed, and the prototypes a previous function could have polluted. */
static const char PROBE[] =
    "var seen = typeof seen === 'undefined' ? 0 : seen;\n"
    "module.exports = function (req, res) {\n"
    "  seen++;\n"
    "  var names = Object.getOwnPropertyNames(this || {}).sort();\n"
    "  res.json({seen: seen, names: names,\n"
    "    leaked: typeof leaked, proto: ({}).polluted,\n"
    "    arr: typeof [].extra, dk: typeof Duktape, req: typeof require,\n"
    "    lib: [typeof Promise, typeof Map, typeof Set, typeof WeakMap,\n"
    "      typeof URL, typeof URLSearchParams, typeof setTimeout,\n"
    "      typeof fetch, typeof crypto, typeof TextEncoder, typeof atob,\n"
    "      typeof structuredClone, typeof performance],\n"
    "    parse: [JSON.parse.name, JSON.parse.length,\n"
    "      JSON.parse('{\"a\":[1,2.5,\"x\"]}').a[1]],\n"
    "    math: typeof Math.random()});\n"
    "};\n";

/* A function that leaves everything it can behind in its heap. */
static const char LEAKER[] =
    "leaked = 'from the previous function';\n"
    "Object.prototype.polluted = 1;\n"
    "Array.prototype.extra = function () {};\n"
    "JSON.parse = function () { return 'hijacked'; };\n"
    "module.exports = function (req, res) { seen = 41; res.send('ok'); };\n";

START_TEST(test_fill_once_take_once)
{
	struct spare *s = new_slot();
	struct sandbox *sb, *next;

	ck_assert(!spare_ready(s));
	ck_assert_uint_eq(spare_bytes(s), 0);
	ck_assert_ptr_null(spare_take(s, &LIM));
	ck_assert_int_eq(spare_fill(s), 1);
	ck_assert(spare_ready(s));
	ck_assert_uint_gt(spare_bytes(s), 0);
	ck_assert_int_eq(spare_fill(s), 0);	/* already full: nothing made */
	ck_spare_stats(s, 1, 0, 0);
	sb = spare_take(s, &LIM);
	ck_assert_ptr_nonnull(sb);
	ck_assert(!spare_ready(s));
	ck_assert_ptr_null(spare_take(s, &LIM));	/* taken once only */
	ck_spare_stats(s, 1, 1, 0);
	/* A new one is another heap. */
	next = filled_take(s, &LIM);
	ck_assert_ptr_ne(next, sb);
	ck_spare_stats(s, 2, 2, 0);
	sandbox_free(sb);
	sandbox_free(next);
	spare_free(s);
	spare_free(NULL);
}
END_TEST

/* A slot freed with its heap in it frees the heap (the sanitizer build
 * reports the leak otherwise). */
START_TEST(test_free_full)
{
	struct spare *s = new_slot();

	ck_assert_int_eq(spare_fill(s), 1);
	spare_free(s);
}
END_TEST

/* A spare made under 256 MiB and taken by a function of 8 MiB: the
 * function's cap applies, as in a heap made for it. */
START_TEST(test_taker_cap_applies)
{
	static const char HOLD[] =
	    "module.exports = function (req, res) {\n"
	    "  var s = 'x', a = [], i;\n"
	    "  while (s.length < 1048576) s += s;\n"
	    "  for (i = 0; i < 12; i++) a.push(s + i);\n"
	    "  res.send(String(a.length));\n"
	    "};\n";
	struct sandbox_limits small = LIM, big = LIM;
	struct spare *s = new_slot();
	struct sandbox *sb, *fresh;
	char *body;

	small.memory_bytes = 8 * MiB;
	big.memory_bytes = 64 * MiB;
	sb = filled_take(s, &small);
	free(run_in(sb, HOLD, OUT_MEMORY_LIMIT));
	ck_assert_uint_le(sandbox_memory_peak(sb), 8 * MiB);
	sandbox_free(sb);
	/* The same as a heap made for it... */
	fresh = sandbox_new(&small);
	ck_assert_ptr_nonnull(fresh);
	free(run_in(fresh, HOLD, OUT_MEMORY_LIMIT));
	sandbox_free(fresh);
	/* ...and the code fits under a larger cap, from a spare too. */
	sb = filled_take(s, &big);
	body = run_in(sb, HOLD, OUT_OK);
	ck_assert_str_eq(body, "12");
	free(body);
	sandbox_free(sb);
	spare_free(s);
}
END_TEST

/* A cap below what the empty heap already holds: refused, and the heap
 * stays for the next taker (a heap made under that cap would not fit
 * either; the smallest memoryMb, 1 MiB, is ten times an empty heap). */
START_TEST(test_cap_below_heap_refused)
{
	struct sandbox_limits tiny = LIM;
	struct spare *s = new_slot();
	struct sandbox *sb;

	ck_assert_int_eq(spare_fill(s), 1);
	tiny.memory_bytes = spare_bytes(s) - 1;
	ck_assert_ptr_null(spare_take(s, &tiny));
	ck_assert(spare_ready(s));
	ck_spare_stats(s, 1, 0, 1);
	/* Exactly what it holds is enough to take it. */
	tiny.memory_bytes = spare_bytes(s);
	sb = spare_take(s, &tiny);
	ck_assert_ptr_nonnull(sb);
	ck_spare_stats(s, 1, 1, 1);
	sandbox_free(sb);
	spare_free(s);
}
END_TEST

/* The taker's time budget applies: a loop in a heap taken with 50 ms
 * ends in OUT_TIMEOUT (the outcome only; never how long it took). */
START_TEST(test_taker_timeout_applies)
{
	struct sandbox_limits quick = LIM;
	struct spare *s = new_slot();
	struct sandbox *sb;

	quick.timeout_ms = 50;
	sb = filled_take(s, &quick);
	free(run_in(sb, "module.exports = function (req, res) "
	    "{ for (;;) {} };", OUT_TIMEOUT));
	sandbox_free(sb);
	spare_free(s);
}
END_TEST

/* The first call's peak is that call's: it starts from what the spare
 * holds when taken, not from zero, and never exceeds the cap. */
START_TEST(test_peak_from_take)
{
	struct spare *s = new_slot();
	struct sandbox *sb;
	size_t held;
	char *body;

	ck_assert_int_eq(spare_fill(s), 1);
	held = spare_bytes(s);
	sb = spare_take(s, &LIM);
	ck_assert_ptr_nonnull(sb);
	ck_assert_uint_eq(sandbox_memory_peak(sb), held);
	body = run_in(sb, "module.exports = function (req, res) "
	    "{ res.send('x'); };", OUT_OK);
	free(body);
	ck_assert_uint_ge(sandbox_memory_peak(sb), held);
	ck_assert_uint_le(sandbox_memory_peak(sb), LIM.memory_bytes);
	sandbox_free(sb);
	spare_free(s);
}
END_TEST

/* A function in a spare sees what it sees in a heap made for it. */
START_TEST(test_spare_same_as_fresh)
{
	struct spare *s = new_slot();
	struct sandbox *sb, *fresh;
	char *a, *b;

	sb = filled_take(s, &LIM);
	fresh = sandbox_new(&LIM);
	ck_assert_ptr_nonnull(fresh);
	a = run_in(sb, PROBE, OUT_OK);
	b = run_in(fresh, PROBE, OUT_OK);
	ck_assert_str_eq(a, b);
	ck_assert_ptr_nonnull(strstr(a, "\"seen\":1,"));
	ck_assert_ptr_nonnull(strstr(a, "\"leaked\":\"undefined\""));
	ck_assert_ptr_nonnull(strstr(a, "\"dk\":\"undefined\""));
	ck_assert_ptr_nonnull(strstr(a, "\"parse\":[\"parse\",2,2.5]"));
	ck_assert_ptr_null(strstr(a, "\"undefined\",\"undefined\"]"));
	free(a);
	free(b);
	sandbox_free(sb);
	sandbox_free(fresh);
	spare_free(s);
}
END_TEST

/* Nothing of a function that ran in one spare reaches the next spare of
 * the same slot: globals, prototypes, a replaced JSON.parse. */
START_TEST(test_spare_isolated_from_previous)
{
	struct spare *s = new_slot();
	struct sandbox *first, *second, *fresh;
	char *a, *b;

	first = filled_take(s, &LIM);
	free(run_in(first, LEAKER, OUT_OK));
	/* The leaker's heap is still alive (warm) while the next is made. */
	second = filled_take(s, &LIM);
	ck_assert_ptr_ne(second, first);
	fresh = sandbox_new(&LIM);
	ck_assert_ptr_nonnull(fresh);
	a = run_in(second, PROBE, OUT_OK);
	b = run_in(fresh, PROBE, OUT_OK);
	ck_assert_str_eq(a, b);
	ck_assert_ptr_nonnull(strstr(a, "\"seen\":1,"));
	ck_assert_ptr_nonnull(strstr(a, "\"leaked\":\"undefined\""));
	ck_assert_ptr_null(strstr(a, "hijacked"));
	ck_assert_ptr_null(strstr(a, "\"proto\""));	/* undefined: left out */
	ck_assert_ptr_nonnull(strstr(a, "\"arr\":\"undefined\""));
	free(a);
	free(b);
	sandbox_free(first);
	sandbox_free(second);
	sandbox_free(fresh);
	spare_free(s);
}
END_TEST

/* Until the thread has filled the slot (the tcase timeout bounds it). */
static void
wait_ready(struct spare *s)
{
	while (!spare_ready(s))
		usleep(1000);
}

/* Without a thread, asking makes the heap at once, in the caller. */
START_TEST(test_ask_without_thread_fills)
{
	struct spare *s = new_slot();

	spare_ask(s);
	ck_assert(spare_ready(s));
	spare_ask(s);			/* full: nothing more */
	ck_spare_stats(s, 1, 0, 0);
	spare_free(s);
}
END_TEST

/* The thread makes one heap per ask while the slot is empty, and the
 * heaps it makes serve like any other. */
START_TEST(test_thread_fills_when_asked)
{
	struct spare *s = new_slot();
	struct sandbox *sb;
	char *body;
	int i;

	ck_assert_int_eq(spare_start(s), 0);
	ck_assert(!spare_ready(s));	/* nothing before it is asked */
	for (i = 0; i < 3; i++) {
		spare_ask(s);
		wait_ready(s);
		spare_ask(s);		/* full: ignored */
		sb = spare_take(s, &LIM);
		ck_assert_ptr_nonnull(sb);
		body = run_in(sb, "module.exports = function (req, res) "
		    "{ res.send(typeof URL + typeof leaked); };", OUT_OK);
		ck_assert_str_eq(body, "functionundefined");
		free(body);
		sandbox_free(sb);
	}
	ck_spare_stats(s, 3, 3, 0);
	spare_free(s);
}
END_TEST

/* Taken right after it was asked for: the taker waits for the thread's
 * heap rather than finding the slot empty and making a second one. */
START_TEST(test_take_waits_for_asked)
{
	struct spare *s = new_slot();
	struct sandbox *sb;
	int i;

	ck_assert_int_eq(spare_start(s), 0);
	for (i = 0; i < 5; i++) {
		spare_ask(s);
		sb = spare_take(s, &LIM);
		ck_assert_ptr_nonnull(sb);
		sandbox_free(sb);
	}
	ck_spare_stats(s, 5, 5, 0);
	spare_free(s);
}
END_TEST

/* Freed while the thread may be making a heap, or holding one: the thread
 * is joined and nothing leaks (the sanitizer build checks). */
START_TEST(test_free_while_making)
{
	struct spare *s = new_slot();

	ck_assert_int_eq(spare_start(s), 0);
	spare_ask(s);
	spare_free(s);
	s = new_slot();
	ck_assert_int_eq(spare_start(s), 0);
	spare_ask(s);
	wait_ready(s);
	spare_free(s);
}
END_TEST

/* sandbox_compact, run once a new heap's answer is out: the heap holds no
 * more than before, keeps its globals and answers the same. */
START_TEST(test_compact_after_first_call)
{
	static const char SRC[] =
	    "var n = 0, junk = [];\n"
	    "for (var i = 0; i < 2000; i++) junk.push({i: i, s: 'v' + i});\n"
	    "junk = null;\n"
	    "module.exports = function (req, res) { res.send(String(++n)); };\n";
	struct sandbox *sb = sandbox_loaded(SRC, &LIM);
	struct sandbox_result res;
	size_t before;

	ck_assert_int_eq(sandbox_call(sb, &PLAIN_RQ, &res), 0);
	ck_assert_str_eq(res.body, "1");
	sandbox_result_free(&res);
	before = sandbox_memory_used(sb);
	sandbox_compact(sb);
	ck_assert_uint_le(sandbox_memory_used(sb), before);
	ck_assert_int_eq(sandbox_call(sb, &PLAIN_RQ, &res), 0);
	ck_assert_str_eq(res.body, "2");
	sandbox_result_free(&res);
	sandbox_free(sb);
}
END_TEST

static Suite *
spare_suite(void)
{
	Suite *s = suite_create("spare");
	TCase *tc = tcase_create("spare");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_fill_once_take_once);
	tcase_add_test(tc, test_free_full);
	tcase_add_test(tc, test_taker_cap_applies);
	tcase_add_test(tc, test_cap_below_heap_refused);
	tcase_add_test(tc, test_taker_timeout_applies);
	tcase_add_test(tc, test_peak_from_take);
	tcase_add_test(tc, test_spare_same_as_fresh);
	tcase_add_test(tc, test_spare_isolated_from_previous);
	tcase_add_test(tc, test_compact_after_first_call);
	tcase_add_test(tc, test_ask_without_thread_fills);
	tcase_add_test(tc, test_thread_fills_when_asked);
	tcase_add_test(tc, test_free_while_making);
	tcase_add_test(tc, test_take_waits_for_asked);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(spare_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
