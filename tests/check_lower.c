/*
 * check_lower.c - unit tests for sandbox/lower (lowering ES2022 and
 * TypeScript with TypeScript's compiler in a heap of its own) and
 * sandbox_lines.c (line maps): what lowers and then runs in a function's
 * heap, what is refused with its line and column, the line map, and the
 * compiler's own limits. The compiler is loaded once, before the tests
 * fork, from Debian's node-typescript (scripts/install-deps.sh).
 *
 * Limit tests check outcomes only, never durations.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lower.h"
#include "sandbox_fixture.h"
#include "sandbox_lines.h"

#define TYPESCRIPT_JS	"/usr/share/nodejs/typescript/lib/typescript.js"

static const struct lower_limits LOWER_LIM = { 256 * MiB, 60000 };

/* Loaded once in main(): each forked test inherits it. */
static struct lower	*compiler;
static char		*ts_src;
static size_t		 ts_len;
static void		*ts_bc;
static size_t		 ts_bclen;

#define ck_outcome(res, want) \
	ck_assert_msg((res).outcome == (want), "outcome %s, want %s (%s)", \
	    outcome_code((res).outcome), outcome_code(want), (res).message)

static void
lower_ok(const char *src, int typescript, struct lower_result *res)
{
	int rc = lower_source(compiler, src, strlen(src), typescript, res);

	ck_assert_msg(rc == 0, "lowering failed: %s: %s (line %d)",
	    outcome_code(res->outcome), res->message, res->line);
	ck_assert_ptr_nonnull(res->code);
	ck_assert_ptr_nonnull(res->lines);
}

/* Lowers src, runs it in a function's heap and calls its handler: the
 * body it sent, or the error's message and stack, into out. */
static enum outcome
run(const char *src, int typescript, char *out, size_t outlen)
{
	struct lower_result low;
	struct sandbox_result res;
	struct sandbox *sb;
	enum outcome o;

	lower_ok(src, typescript, &low);
	sb = sandbox_new(&LIM);
	ck_assert_ptr_nonnull(sb);
	ck_assert_int_eq(sandbox_set_lines(sb, low.lines, low.lines_len), 0);
	if (sandbox_load(sb, low.code, low.code_len, SANDBOX_FILENAME, NULL,
	    NULL, &res) == 0) {
		sandbox_result_free(&res);
		(void)sandbox_call(sb, &PLAIN_RQ, &res);
	}
	o = res.outcome;
	if (o == OUT_OK)
		snprintf(out, outlen, "%.*s", (int)res.body_len, res.body);
	else
		snprintf(out, outlen, "%s | %s | line %d", res.message,
		    res.stack != NULL ? res.stack : "", res.line);
	sandbox_result_free(&res);
	sandbox_free(sb);
	lower_result_free(&low);
	return o;
}

static void
runs_to(const char *src, int typescript, const char *want)
{
	char out[40000];
	enum outcome o = run(src, typescript, out, sizeof(out));

	ck_assert_msg(o == OUT_OK, "%s: %s", outcome_code(o), out);
	ck_assert_str_eq(out, want);
}

static void
refused(const char *src, int typescript, enum outcome want, int line,
    int column, const char *what)
{
	struct lower_result res;
	int rc = lower_source(compiler, src, strlen(src), typescript, &res);

	ck_assert_msg(rc == -1, "%s was lowered", src);
	ck_outcome(res, want);
	ck_assert_msg(res.line == line, "line %d, want %d (%s)", res.line, line,
	    res.message);
	if (column > 0)
		ck_assert_msg(res.column == column, "column %d, want %d (%s)",
		    res.column, column, res.message);
	ck_assert_msg(strstr(res.message, what) != NULL, "message %s lacks %s",
	    res.message, what);
	ck_assert_ptr_null(res.code);
	/* A refusal is an answer, not a failure: the compiler goes on. */
	ck_assert(lower_usable(compiler));
	lower_result_free(&res);
}

START_TEST(test_constructs_lower_and_run)
{
	runs_to("export default function (req, res) {\n"
	    "  let fs = [];\n"
	    "  for (let i = 0; i < 3; i++) fs.push(() => i);\n"
	    "  const {a, b: {c = 5} = {}, ...rest} = {a: 1, d: 4};\n"
	    "  const [x, , y = 9, ...zs] = [1, 2, undefined, 4, 5];\n"
	    "  res.json([fs.map(f => f()), a, c, rest, x, y, zs, 2 ** 10,\n"
	    "    `t${1 + 1}`, 1_000, req?.nothing?.x ?? 'd']);\n"
	    "}\n", 0,
	    "[[0,1,2],1,5,{\"d\":4},1,9,[4,5],1024,\"t2\",1000,\"d\"]");
}
END_TEST

START_TEST(test_classes_and_generators)
{
	runs_to("class A { x = 1; static s = 'S';\n"
	    "  get dbl() { return this.x * 2; } set dbl(v) { this.x = v / 2; }\n"
	    "  hi() { return 'A'; } }\n"
	    "class B extends A { constructor() { super(); this.y = 3; }\n"
	    "  hi() { return super.hi() + 'B'; } }\n"
	    "function* g(n) { for (let i = 0; i < n; i++) yield i; }\n"
	    "module.exports = (req, res) => { const b = new B(); b.dbl = 10;\n"
	    "  const out = []; for (const v of g(3)) out.push(v);\n"
	    "  res.json([b.x, b.dbl, B.s, b.hi(), b instanceof A, out,\n"
	    "    [...g(2)]]); };\n", 0,
	    "[5,10,\"S\",\"AB\",true,[0,1,2],[0,1]]");
}
END_TEST

START_TEST(test_typescript_features)
{
	runs_to("interface Item { id: number; name?: string }\n"
	    "enum Color { Red, Green = 4, Blue }\n"
	    "type Pair<T> = [T, T];\n"
	    "function first<T>(xs: T[]): T | undefined { return xs[0]; }\n"
	    "class Box<T> { constructor(private readonly v: T) {}\n"
	    "  get(): T { return this.v; } }\n"
	    "export default function (req: any, res: any): void {\n"
	    "  const it = { id: 1 } as Item;\n"
	    "  const p: Pair<number> = [1, 2];\n"
	    "  const n = first<number>(p)!;\n"
	    "  res.json([it.id, Color.Green, Color[5], n, new Box<string>('b').get()]);\n"
	    "}\n", 1, "[1,4,\"Blue\",1,\"b\"]");
}
END_TEST

/* TypeScript would make an arrow's `arguments` the arrow's own. */
START_TEST(test_arguments_in_arrows)
{
	runs_to("function outer() {\n"
	    "  const f = () => arguments.length;\n"
	    "  const g = () => ({ arguments });\n"
	    "  return [f(9, 9, 9), g().arguments[1], { arguments: 1 }.arguments];\n"
	    "}\n"
	    "module.exports = (req, res) => res.json(outer(1, 2));\n", 0,
	    "[2,2,1]");
}
END_TEST

/* TypeScript escapes the strings it makes as \uXXXX, which the engine's
 * one-code-point characters outside the BMP would break (U+1F600 would
 * be \uF600): lowered text must send what the same text in plain
 * ECMAScript 5 sends. */
START_TEST(test_non_bmp_text_survives)
{
	static const char es5[] = "module.exports = function (req, res) { "
	    "res.send('h\xc3\xa9 \xf0\x9f\x98\x80 1\xf0\x9f\x98\x80'); };\n";
	struct sandbox_result res;
	struct sandbox *sb = sandbox_new(&LIM);
	char *want;

	ck_assert_int_eq(sandbox_load(sb, es5, strlen(es5), SANDBOX_FILENAME,
	    NULL, NULL, &res), 0);
	sandbox_result_free(&res);
	ck_assert_int_eq(sandbox_call(sb, &PLAIN_RQ, &res), 0);
	want = strndup(res.body, res.body_len);
	runs_to("const raw = (s) => s.raw[0];\n"
	    "module.exports = (req, res) => res.send(`h\xc3\xa9 "
	    "\xf0\x9f\x98\x80 ${1}` + raw`\xf0\x9f\x98\x80`);\n", 0, want);
	free(want);
	sandbox_result_free(&res);
	sandbox_free(sb);
}
END_TEST

START_TEST(test_refusals_with_line_and_column)
{
	refused("var a = 1;\nvar b = 10n;\n", 0, OUT_UNSUPPORTED_SYNTAX, 2, 9,
	    "BigInt");
	refused("var a = BigInt(1);\n", 0, OUT_UNSUPPORTED_SYNTAX, 1, 9,
	    "BigInt");
	refused("\n\nvar r = /(?<=a)b/;\n", 0, OUT_UNSUPPORTED_SYNTAX, 3, 9,
	    "lookbehind");
	refused("var r = /(?<y>\\d+)/;\n", 0, OUT_UNSUPPORTED_SYNTAX, 1, 9,
	    "named groups");
	refused("var ok = /[(?<]/g;\nvar r = /a/s;\n", 0,
	    OUT_UNSUPPORTED_SYNTAX, 2, 9, "flag \"s\"");
	refused("var r = /a/u;\n", 0, OUT_UNSUPPORTED_SYNTAX, 1, 9, "flag \"u\"");
	refused("var r = /a/y;\n", 0, OUT_UNSUPPORTED_SYNTAX, 1, 9, "flag \"y\"");
	refused("var r = new RegExp('a', 'y');\n", 0, OUT_UNSUPPORTED_SYNTAX,
	    1, 9, "flag \"y\"");
	refused("\nimport x from 'y';\n", 0, OUT_UNSUPPORTED_SYNTAX, 2, 1,
	    "import");
	refused("const m = import('y');\n", 0, OUT_UNSUPPORTED_SYNTAX, 1, 11,
	    "import()");
	refused("const fs =\n  require('fs');\n", 0, OUT_UNSUPPORTED_SYNTAX, 2,
	    3, "require");
	refused("export * from 'y';\n", 0, OUT_UNSUPPORTED_SYNTAX, 1, 1,
	    "export");
	refused("var x = () => arguments;\n", 0, OUT_UNSUPPORTED_SYNTAX, 1, 15,
	    "arguments");
	refused("function* g() {\n  yield arguments[0];\n}\n", 0,
	    OUT_UNSUPPORTED_SYNTAX, 2, 9, "generator or async");
	refused("async function* g() { yield 1; }\n", 0, OUT_UNSUPPORTED_SYNTAX,
	    1, 1, "async generators");
	refused("async function g(xs) {\n  for await (const x of xs) {}\n}\n",
	    0, OUT_UNSUPPORTED_SYNTAX, 2, 3, "for await");
	refused("const v = await 1;\n", 0, OUT_UNSUPPORTED_SYNTAX, 1, 11,
	    "top-level await");
	/* Private members are lowered to the library's WeakMap. */
	runs_to("class A { #x = 1; get x() { return this.#x; } }\n"
	    "module.exports = (req, res) => res.json([new A().x]);\n", 0,
	    "[1]");
	/* Names that only look like uses. */
	runs_to("var o = { require: 1, BigInt: 2 };\n"
	    "class C { BigInt() { return 3; } }\n"
	    "module.exports = (req, res) => res.json([o.require, o.BigInt,\n"
	    "  new C().BigInt()]);\n", 0, "[1,2,3]");
}
END_TEST

START_TEST(test_syntax_errors_with_line_and_column)
{
	refused("var a = 1;\nvar b = ;\n", 0, OUT_SYNTAX_ERROR, 2, 9,
	    "SyntaxError");
	/* Types are TypeScript's: a syntax error in JavaScript. */
	refused("let a: number = 1;\n", 0, OUT_SYNTAX_ERROR, 1, 8,
	    "TypeScript");
	refused("let a: number = 1;\nlet b = {;\n", 1, OUT_SYNTAX_ERROR, 2, 10,
	    "SyntaxError");
}
END_TEST

/* Lowering moves lines (helpers on top, one statement on many lines):
 * the throw on line 40 of the TypeScript is line 40 in the stack. */
START_TEST(test_line_map_of_a_throw)
{
	char src[8192], out[40000];
	size_t n = 0;
	int i;

	n += (size_t)snprintf(src + n, sizeof(src) - n,
	    "interface P { a: number }\n"
	    "async function later(): Promise<number> { return 1; }\n"
	    "class K { v = [1, 2, 3]; m() { return [...this.v].map(x => x ** 2); } }\n");
	for (i = 4; i < 39; i++)
		n += (size_t)snprintf(src + n, sizeof(src) - n,
		    "const v%d: P = { a: %d, ...{ b: `%d` } };\n", i, i, i);
	n += (size_t)snprintf(src + n, sizeof(src) - n,
	    "function boom(p: P): never {\n"
	    "  throw new Error(`boom ${p.a}`);\n"
	    "}\n"
	    "export default (req: any, res: any) => { boom(v4); };\n");
	ck_assert_int_eq(run(src, 1, out, sizeof(out)), OUT_FUNCTION_ERROR);
	ck_assert_msg(strstr(out, "boom 4") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "(function.js:40)") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "(function.js:42)") != NULL, "%s", out);
}
END_TEST

START_TEST(test_lowered_code_keeps_helpers_off_the_map)
{
	struct lower_result low;
	struct sandbox_lines m;

	lower_ok("const f = async () => 1;\nexport default f;\n", 0, &low);
	ck_assert_int_eq(sandbox_lines_parse(low.lines, low.lines_len, &m), 0);
	/* __awaiter and __generator come first, with no line of their own. */
	ck_assert_uint_eq(sandbox_lines_map(&m, 1), 0);
	ck_assert_uint_eq(sandbox_lines_map(&m, (unsigned)m.n), 2);
	sandbox_lines_free(&m);
	lower_result_free(&low);
}
END_TEST

START_TEST(test_timeout_leaves_compiler_unusable)
{
	struct lower_limits lim = { 256 * MiB, 60000 };
	struct lower_result res;
	struct lower *lw = lower_load(&lim, ts_bc, ts_bclen, NULL, 0, NULL,
	    NULL, &res);
	char *src;
	size_t i, n = 200000;

	ck_assert_msg(lw != NULL, "%s", res.message);
	/* A budget of 1 ms for a 200 KB source. */
	lower_free(lw);
	lim.timeout_ms = 1;
	lw = lower_load(&lim, ts_bc, ts_bclen, NULL, 0, NULL, NULL, &res);
	ck_assert_ptr_null(lw);
	ck_outcome(res, OUT_TIMEOUT);
	lim.timeout_ms = 60000;
	lw = lower_load(&lim, ts_bc, ts_bclen, NULL, 0, NULL, NULL, &res);
	ck_assert_ptr_nonnull(lw);
	src = malloc(n + 1);
	for (i = 0; i + 20 < n; i += 20)
		memcpy(src + i, "let a = `${1}`; ;;;\n", 20);
	src[i] = '\0';
	lower_free(lw);
	lim.timeout_ms = 200;
	lw = lower_load(&lim, ts_bc, ts_bclen, NULL, 0, NULL, NULL, &res);
	if (lw != NULL) {
		ck_assert_int_eq(lower_source(lw, src, i, 0, &res), -1);
		ck_outcome(res, OUT_TIMEOUT);
		ck_assert(!lower_usable(lw));
		ck_assert_int_eq(lower_source(lw, "var a;", 6, 0, &res), -1);
		ck_outcome(res, OUT_UNAVAILABLE);
	} else
		/* Loading alone took the whole budget on a busy machine. */
		ck_outcome(res, OUT_TIMEOUT);
	lower_free(lw);
	free(src);
}
END_TEST

START_TEST(test_memory_cap)
{
	struct lower_limits lim = { 4 * MiB, 60000 };
	struct lower_result res;
	struct lower *lw;
	char *src;
	size_t i, n = 100000;

	/* The compiler alone does not fit in 4 MiB. */
	lw = lower_load(&lim, ts_bc, ts_bclen, NULL, 0, NULL, NULL, &res);
	ck_assert_ptr_null(lw);
	ck_outcome(res, OUT_UNAVAILABLE);
	lim.memory_bytes = 40 * MiB;
	lw = lower_load(&lim, ts_bc, ts_bclen, NULL, 0, NULL, NULL, &res);
	ck_assert_msg(lw != NULL, "%s", res.message);
	src = malloc(n + 1);
	for (i = 0; i + 25 < n; i += 25)
		memcpy(src + i, "const a = [...b, {...c}];", 25);
	src[i] = '\0';
	ck_assert_int_eq(lower_source(lw, src, i, 0, &res), -1);
	ck_outcome(res, OUT_PAYLOAD_TOO_LARGE);
	ck_assert(!lower_usable(lw));
	lower_free(lw);
	free(src);
}
END_TEST

START_TEST(test_deep_nesting_is_too_large)
{
	size_t depth = 5000, i;
	char *src = malloc(2 * depth + 16);
	struct lower_result res;
	struct lower *lw;
	struct lower_limits lim = { 256 * MiB, 60000 };

	strcpy(src, "var x = ");
	for (i = 0; i < depth; i++)
		strcat(src, "(");
	strcat(src, "1");
	for (i = 0; i < depth; i++)
		strcat(src, ")");
	lw = lower_load(&lim, ts_bc, ts_bclen, NULL, 0, NULL, NULL, &res);
	ck_assert_ptr_nonnull(lw);
	ck_assert_int_eq(lower_source(lw, src, strlen(src), 0, &res), -1);
	ck_outcome(res, OUT_PAYLOAD_TOO_LARGE);
	ck_assert_msg(strstr(res.message, "nested") != NULL, "%s", res.message);
	lower_free(lw);
	free(src);
}
END_TEST

START_TEST(test_load_from_bytecode_lowers_alike)
{
	struct lower_result res, a, b;
	struct lower *lw = lower_load(&LOWER_LIM, ts_bc, ts_bclen, NULL, 0,
	    NULL, NULL, &res);
	const char *src = "const f = (x = 1) => `${x}`;\n";

	ck_assert_msg(lw != NULL, "%s", res.message);
	ck_assert_int_eq(lower_source(lw, src, strlen(src), 0, &a), 0);
	lower_ok(src, 0, &b);
	ck_assert_str_eq(a.code, b.code);
	ck_assert_str_eq(a.lines, b.lines);
	lower_result_free(&a);
	lower_result_free(&b);
	lower_free(lw);
}
END_TEST

START_TEST(test_lower_wanted)
{
#define W(s)	lower_wanted(s, strlen(s))
	ck_assert(W("const a = 1;"));
	ck_assert(W("x = require('fs');"));
	ck_assert(W("var b = BigInt(1);"));
	ck_assert(W("new RegExp('a')"));
	ck_assert(W("import x from 'y'"));
	ck_assert(!W("var a = o.constructor; var constant = 1; $const = 2;"));
	ck_assert(!W("var required = 1; var x_require = 2; // requires"));
	ck_assert(!W("function action(req, res) { res.send('ok'); }"));
	ck_assert(!W(""));
#undef W
}
END_TEST

START_TEST(test_lines_parse)
{
	struct sandbox_lines m;

	ck_assert_int_eq(sandbox_lines_parse("0\n0\n1\n3\n", 8, &m), 0);
	ck_assert_uint_eq(m.n, 4);
	ck_assert_uint_eq(sandbox_lines_map(&m, 0), 0);
	ck_assert_uint_eq(sandbox_lines_map(&m, 1), 0);
	ck_assert_uint_eq(sandbox_lines_map(&m, 3), 1);
	ck_assert_uint_eq(sandbox_lines_map(&m, 4), 3);
	ck_assert_uint_eq(sandbox_lines_map(&m, 5), 0);
	sandbox_lines_free(&m);
	ck_assert_int_eq(sandbox_lines_parse("", 0, &m), -1);
	ck_assert_int_eq(sandbox_lines_parse("1\n2", 3, &m), -1);
	ck_assert_int_eq(sandbox_lines_parse("1\n\n", 3, &m), -1);
	ck_assert_int_eq(sandbox_lines_parse("01\n", 3, &m), -1);
	ck_assert_int_eq(sandbox_lines_parse("-1\n", 3, &m), -1);
	ck_assert_int_eq(sandbox_lines_parse("4294967296\n", 11, &m), -1);
	ck_assert_ptr_null(m.line);
}
END_TEST

START_TEST(test_lines_rewrite)
{
	static const char stack[] = "Error: x (line 3)\n"
	    "    at f (function.js:3) strict\n"
	    "    at step (function.js:1)\n"
	    "    at g (function.js:99999999999)\n"
	    "    at h (other.js:3) function.js:";
	struct sandbox_lines m;
	struct buf out = { 0 };

	ck_assert_int_eq(sandbox_lines_parse("0\n0\n7\n", 6, &m), 0);
	sandbox_lines_rewrite(&m, stack, sizeof(stack) - 1, &out);
	ck_assert_str_eq(out.data, "Error: x (line 7)\n"
	    "    at f (function.js:7) strict\n"
	    "    at step (" SANDBOX_LINES_HELPER ")\n"
	    "    at g (function.js:99999999999)\n"
	    "    at h (other.js:3) function.js:");
	buf_free(&out);
	sandbox_lines_free(&m);
}
END_TEST

static Suite *
lower_suite(void)
{
	Suite *s = suite_create("lower");
	TCase *tc = tcase_create("lower");

	/* Lowering is tens of ms per KB on a quiet machine. */
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_constructs_lower_and_run);
	tcase_add_test(tc, test_classes_and_generators);
	tcase_add_test(tc, test_typescript_features);
	tcase_add_test(tc, test_arguments_in_arrows);
	tcase_add_test(tc, test_non_bmp_text_survives);
	tcase_add_test(tc, test_refusals_with_line_and_column);
	tcase_add_test(tc, test_syntax_errors_with_line_and_column);
	tcase_add_test(tc, test_line_map_of_a_throw);
	tcase_add_test(tc, test_lowered_code_keeps_helpers_off_the_map);
	tcase_add_test(tc, test_timeout_leaves_compiler_unusable);
	tcase_add_test(tc, test_memory_cap);
	tcase_add_test(tc, test_deep_nesting_is_too_large);
	tcase_add_test(tc, test_load_from_bytecode_lowers_alike);
	tcase_add_test(tc, test_lower_wanted);
	tcase_add_test(tc, test_lines_parse);
	tcase_add_test(tc, test_lines_rewrite);
	suite_add_tcase(s, tc);
	return s;
}

/* typescript.js into ts_src, compiled once into compiler, whose dump the
 * tests load heaps of their own from. */
static int
load_compiler(void)
{
	struct lower_result res;
	FILE *f;
	long n;

	if ((f = fopen(TYPESCRIPT_JS, "rb")) == NULL) {
		perror(TYPESCRIPT_JS " (scripts/install-deps.sh)");
		return -1;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	ts_len = (size_t)n;
	if ((ts_src = malloc(ts_len + 1)) == NULL ||
	    fread(ts_src, 1, ts_len, f) != ts_len) {
		fclose(f);
		return -1;
	}
	fclose(f);
	compiler = lower_load(&LOWER_LIM, NULL, 0, ts_src, ts_len, &ts_bc,
	    &ts_bclen, &res);
	if (compiler == NULL || ts_bc == NULL) {
		fprintf(stderr, "compiler: %s\n", res.message);
		return -1;
	}
	return 0;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	if (load_compiler() == -1)
		return EXIT_FAILURE;
	sr = srunner_create(lower_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	lower_free(compiler);
	free(ts_src);
	free(ts_bc);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
