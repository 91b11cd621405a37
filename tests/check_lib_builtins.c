/*
 * check_lib_builtins.c - the library's collections and built-ins (SPEC
 * §11; fcgi-app/sandbox/lib/lib_collections.c, lib_builtins.c) inside a
 * real heap: every case of each tests/lib_corpus/<name>.js, run from its
 * source and again from its bytecode in a new heap (the two ways a heap
 * is made); which names the scan finds; and hostile uses that must end
 * as memory_limit, timeout or an error, never a crash.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "lib.h"
#include "sandbox_fixture.h"

#define CORPUS	"tests/lib_corpus/"

static void
append_file(struct buf *b, const char *path)
{
	char chunk[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	ck_assert_msg(f != NULL, "cannot read %s", path);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(b, chunk, n);
	fclose(f);
}

/* Cases in a corpus file: lines starting "t(" or "throws(". */
static int
count_cases(const struct buf *b)
{
	const char *p = b->data, *end = b->data + b->len;
	int n = 0;

	while (p < end) {
		if (strncmp(p, "t(", 2) == 0 || strncmp(p, "throws(", 7) == 0)
			n++;
		if ((p = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		p++;
	}
	return n;
}

/* Calls the loaded heap's handler; asserts every case passed. */
static void
expect_all_pass(struct sandbox *sb, const char *name, int cases,
    const char *how)
{
	struct sandbox_result res;
	char want[64];

	(void)sandbox_call(sb, &PLAIN_RQ, &res);
	ck_assert_msg(res.outcome == OUT_OK, "%s (%s): %s: %s", name, how,
	    outcome_code(res.outcome), res.message);
	snprintf(want, sizeof(want), "passed %d failed 0\n", cases);
	ck_assert_msg(res.body_len >= strlen(want) &&
	    memcmp(res.body, want, strlen(want)) == 0, "%s (%s): %.*s", name,
	    how, (int)(res.body_len > 4000 ? 4000 : res.body_len), res.body);
	sandbox_result_free(&res);
}

static void
run_corpus(const char *name)
{
	struct sandbox_result res;
	struct buf src = { 0 }, file = { 0 };
	struct sandbox *sb;
	char path[256];
	void *bc = NULL;
	size_t bclen = 0;
	int cases;

	snprintf(path, sizeof(path), CORPUS "%s.js", name);
	append_file(&file, path);
	cases = count_cases(&file);
	ck_assert_int_gt(cases, 10);
	append_file(&src, CORPUS "harness.js");
	buf_append(&src, file.data, file.len);

	ck_assert_ptr_nonnull(sb = sandbox_new(&LIM));
	ck_assert_msg(sandbox_load(sb, src.data, src.len, "corpus.js", &bc,
	    &bclen, &res) == 0, "%s: load: %s", name, res.message);
	sandbox_result_free(&res);
	expect_all_pass(sb, name, cases, "from source");
	sandbox_free(sb);

	ck_assert_ptr_nonnull(bc);
	ck_assert_ptr_nonnull(sb = sandbox_new(&LIM));
	ck_assert_msg(sandbox_load_bytecode(sb, bc, bclen, &res) == 0,
	    "%s: load bytecode: %s", name, res.message);
	sandbox_result_free(&res);
	expect_all_pass(sb, name, cases, "from bytecode");
	sandbox_free(sb);
	free(bc);
	buf_free(&src);
	buf_free(&file);
}

START_TEST(test_corpus_map) { run_corpus("map"); } END_TEST
START_TEST(test_corpus_set) { run_corpus("set"); } END_TEST
START_TEST(test_corpus_weakmap) { run_corpus("weakmap"); } END_TEST
START_TEST(test_corpus_array) { run_corpus("array"); } END_TEST
START_TEST(test_corpus_object) { run_corpus("object"); } END_TEST
START_TEST(test_corpus_string) { run_corpus("string"); } END_TEST

/* Loads src (a handler) with lim and calls it once. */
static enum outcome
call_once(const char *src, const struct sandbox_limits *lim, char **body)
{
	struct sandbox_result res;
	struct sandbox *sb;
	enum outcome o;

	ck_assert_ptr_nonnull(sb = sandbox_new(lim));
	ck_assert_msg(sandbox_load(sb, src, strlen(src), "f.js", NULL, NULL,
	    &res) == 0, "load: %s", res.message);
	sandbox_result_free(&res);
	(void)sandbox_call(sb, &PLAIN_RQ, &res);
	o = res.outcome;
	if (body != NULL)
		*body = res.outcome == OUT_OK ? strndup(res.body, res.body_len) :
		    strdup(res.message);
	sandbox_result_free(&res);
	/* The heap goes on: a second call works. */
	sandbox_free(sb);
	return o;
}

START_TEST(test_scan_finds_names_as_words)
{
	static const char none[] = "module.exports = function (req, res) "
	    "{ res.send('hello'); };";
	static const char some[] = "x.includes(1); y.padStart(2); "
	    "Object.fromEntries(z)";

	ck_assert_uint_eq(lib_builtins_scan(none, strlen(none)), 0);
	ck_assert_uint_eq(lib_builtins_scan("xincludes", 9), 0);
	ck_assert_uint_ne(lib_builtins_scan("a.at(", 5), 0);
	ck_assert_uint_ne(lib_builtins_scan(some, strlen(some)), 0);
	ck_assert_uint_eq(lib_builtins_scan("includes", 7), 0);
	ck_assert_uint_eq(lib_builtins_scan("offset findAll", 14), 0);
	ck_assert_uint_eq(lib_named_scan("MapSet", 6), 0);
	ck_assert_uint_ne(lib_named_scan("\x03Map\x00", 5), 0);
}
END_TEST

/* The compiler folds constant expressions: what the bytecode names. */
START_TEST(test_folded_names_count)
{
	char *body;

	ck_assert_int_eq(call_once("module.exports = function (req, res) { "
	    "res.send(typeof Array.prototype['fl' + 'at'] + ' ' + "
	    "typeof globalThis['Weak' + 'Map']); };", &LIM, &body), OUT_OK);
	ck_assert_str_eq(body, "function function");
	free(body);
}
END_TEST

/* A function that names none of them has none (SPEC §11 "Cost"): and
 * one naming one of them has that one only. */
START_TEST(test_only_what_the_code_names)
{
	char *body;

	ck_assert_int_eq(call_once("module.exports = function (req, res) { "
	    "var p = Array.prototype, s = String.prototype; "
	    "res.send(Object.getOwnPropertyNames(p).length + ' ' + "
	    "Object.getOwnPropertyNames(s).length); };", &LIM, &body), OUT_OK);
	ck_assert_str_eq(body, "23 27");
	free(body);
	ck_assert_int_eq(call_once("module.exports = function (req, res) { "
	    "res.send(typeof [].at + ' ' + typeof [].fill + ' ' + typeof "
	    "Array.prototype[['fl', 'at'].join('')]); };", &LIM, &body), OUT_OK);
	ck_assert_str_eq(body, "function function undefined");
	free(body);
	/* Globals too: no accessor for a name the code does not use. */
	ck_assert_int_eq(call_once("module.exports = function (req, res) { "
	    "var g = Object.getOwnPropertyNames(globalThis); "
	    "res.send((g.indexOf(['M', 'ap'].join('')) < 0) + ' ' + "
	    "(g.indexOf('Promise') >= 0)); };", &LIM, &body), OUT_OK);
	ck_assert_str_eq(body, "true true");
	free(body);
	ck_assert_int_eq(call_once("module.exports = function (req, res) { "
	    "var g = Object.getOwnPropertyNames(globalThis); "
	    "res.send((g.indexOf('Map') >= 0) + ' ' + (g.indexOf(['Se', 't'].join('')) < 0)); };",
	    &LIM, &body), OUT_OK);
	ck_assert_str_eq(body, "true true");
	free(body);
}
END_TEST

START_TEST(test_hostile_memory)
{
	/* Growth in JavaScript may run out of time first (a sanitizer
	 * build is slow); what one native call builds must hit the cap. */
	static const struct { const char *src; int may_time_out; } cases[] = {
		{ "module.exports = function (req, res) { new Array(1e9).fill(0); res.send('x'); };", 0 },
		{ "module.exports = function (req, res) { res.send('a'.padStart(1e9, 'xy')); };", 0 },
		{ "module.exports = function (req, res) { res.send('a'.padEnd(2e9)); };", 0 },
		{ "module.exports = function (req, res) { var m = new Map(); for (var i = 0; ; i++) m.set(i, i); };", 1 },
		{ "module.exports = function (req, res) { var s = new Set(); for (var i = 0; ; i++) s.add({}); };", 1 },
		{ "module.exports = function (req, res) { res.send(Array.from({ length: 1e9 }).length); };", 1 },
		{ "module.exports = function (req, res) { res.send('ab'.repeat(1e5).replaceAll('', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx').length); };", 1 },
	};
	struct sandbox_limits lim = LIM;
	enum outcome o;
	size_t i;

	lim.memory_bytes = 8 * MiB;
	lim.timeout_ms = 5000;
	for (i = 0; i < NELEM(cases); i++) {
		o = call_once(cases[i].src, &lim, NULL);
		ck_assert_msg(o == OUT_MEMORY_LIMIT || (cases[i].may_time_out &&
		    o == OUT_TIMEOUT), "%s: %s", cases[i].src, outcome_code(o));
	}
}
END_TEST

START_TEST(test_hostile_time)
{
	static const char *const srcs[] = {
		/* C loops with no bytecode inside: their own deadline check. */
		"module.exports = function (req, res) { res.send(String(Array.prototype.includes.call({ length: 1e15 }, 1))); };",
		"module.exports = function (req, res) { res.send(String(Array.prototype.findIndex.call({ length: 1e15 }, Boolean))); };",
		"module.exports = function (req, res) { res.send(String(Array.prototype.findLast.call({ length: 1e15 }, function () {}))); };",
		"module.exports = function (req, res) { Array.prototype.fill.call({ length: 1e15 }, 0, 1e15 - 1e12); res.send('x'); };",
		"module.exports = function (req, res) { try { [].includes.call({ length: 1e15 }, 1); } catch (e) {} for (;;) {} };",
		"module.exports = function (req, res) { Array.from({ length: 1e15 }, function () {}); };",
	};
	struct sandbox_limits lim = LIM;
	size_t i;

	lim.timeout_ms = 200;
	for (i = 0; i < NELEM(srcs); i++)
		ck_assert_msg(call_once(srcs[i], &lim, NULL) == OUT_TIMEOUT,
		    "%s", srcs[i]);
}
END_TEST

START_TEST(test_deep_flat_is_an_error)
{
	char *body;

	ck_assert_int_eq(call_once("module.exports = function (req, res) { "
	    "var a = [1]; for (var i = 0; i < 100000; i++) a = [a]; "
	    "try { a.flat(Infinity); res.send('flat'); } "
	    "catch (e) { res.send(e.name); } };", &LIM, &body), OUT_OK);
	ck_assert_str_eq(body, "RangeError");
	free(body);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("lib_builtins");
	TCase *tc = tcase_create("corpus");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_corpus_map);
	tcase_add_test(tc, test_corpus_set);
	tcase_add_test(tc, test_corpus_weakmap);
	tcase_add_test(tc, test_corpus_array);
	tcase_add_test(tc, test_corpus_object);
	tcase_add_test(tc, test_corpus_string);
	tcase_add_test(tc, test_scan_finds_names_as_words);
	tcase_add_test(tc, test_only_what_the_code_names);
	tcase_add_test(tc, test_folded_names_count);
	tcase_add_test(tc, test_hostile_memory);
	tcase_add_test(tc, test_hostile_time);
	tcase_add_test(tc, test_deep_flat_is_an_error);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
