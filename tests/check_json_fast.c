/*
 * check_json_fast.c - differential tests for json_fast.c. Every input goes
 * through Duktape's own JSON.parse and through json_fast_push in the same
 * heap, compared as tests/json_diff.h says (any observable difference
 * fails; when Duktape fails, the fast path must decline).
 * Every input also goes through the global JSON.parse a function sees
 * (sandbox_json.c), against Duktape's parser.
 * Inputs: hand-written edge cases, seeded random documents (structure,
 * strings, numbers) and random mutations of them, a realistic payload.
 */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duktape.h"
#include "json_diff.h"
#include "json_fast.h"
#include "json_payload.h"
#include "sandbox_alloc.h"
#include "sandbox_internal.h"

enum expect { ANY, ACCEPT, DECLINE };

struct stats {
	long	n;		/* inputs compared */
	long	fast;		/* answered by the fast path */
	long	declined;	/* valid for Duktape, declined */
	long	invalid;	/* rejected by Duktape (fast declined too) */
};

/* ---- helpers ---------------------------------------------------------- */

/* s[0..len) as printable text for failure messages; static buffer. */
static const char *
show(const char *s, size_t len)
{
	static char	out[640];
	size_t		i, o = 0;

	for (i = 0; i < len && o + 8 < sizeof(out); i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, sizeof(out) - o,
			    "\\x%02x", c);
	}
	if (i < len)
		snprintf(out + o, sizeof(out) - o, "...");
	else
		out[o] = '\0';
	return out;
}

/* Compares both parsers on one input in ctx; fails the test on any
 * disagreement. Returns the fast path's answer. */
static int
compare(duk_context *ctx, const char *s, size_t len, enum expect want,
    struct stats *st)
{
	struct json_diff	d;

	json_diff_run_global(ctx, s, len, &d);
	ck_assert_msg(d.why[0] == '\0', "%s on [%s]", d.why, show(s, len));
	json_diff_run(ctx, s, len, &d);
	ck_assert_msg(d.why[0] == '\0', "%s on [%s]", d.why, show(s, len));
	st->n++;
	if (!d.duk_ok)
		st->invalid++;
	else if (!d.fast)
		st->declined++;
	else
		st->fast++;
	if (want == ACCEPT)
		ck_assert_msg(d.fast, "fast path declined [%s]", show(s, len));
	else if (want == DECLINE)
		ck_assert_msg(!d.fast, "fast path accepted [%s]", show(s, len));
	return d.fast;
}

static duk_ret_t
install_safe(duk_context *ctx, void *udata)
{
	(void)udata;
	sandbox_json_install(ctx);
	return 0;
}

/* A heap whose global JSON.parse is the one functions see. */
static duk_context *
new_heap(void)
{
	duk_context	*ctx = duk_create_heap_default();

	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(duk_safe_call(ctx, install_safe, NULL, 0, 1), 0);
	duk_pop(ctx);
	return ctx;
}

/* Runs js in ctx and returns its result as a boolean. */
static int
js_true(duk_context *ctx, const char *js)
{
	int	ok;

	if (duk_peval_string(ctx, js) != 0)
		ck_abort_msg("%s: %s", js, duk_safe_to_string(ctx, -1));
	ok = duk_to_boolean(ctx, -1);
	duk_pop(ctx);
	return ok;
}

/* Parses s with the fast path (it must answer) into global r. */
static void
fast_to_global(duk_context *ctx, const char *s)
{
	struct fast_call	fc = { s, strlen(s), 0, 0 };

	ck_assert_int_eq(duk_safe_call(ctx, fast_safe, &fc, 0, 1), 0);
	ck_assert_msg(fc.r, "fast path declined [%s]", s);
	duk_put_global_string(ctx, "r");
}

/* ---- growable text ---------------------------------------------------- */

struct text {
	char	*p;
	size_t	 len, cap;
};

static void
put(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		t->cap = (t->len + n + 1) * 2;
		t->p = realloc(t->p, t->cap);
		ck_assert_ptr_nonnull(t->p);
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

static void
puts_(struct text *t, const char *s)
{
	put(t, s, strlen(s));
}

static void
putc_(struct text *t, int c)
{
	char	ch = (char)c;

	put(t, &ch, 1);
}

/* ---- hand-written cases ----------------------------------------------- */

struct hcase {
	const char	*s;
	size_t		 len;	/* 0: strlen */
	enum expect	 want;
};

#define H(s, w)		{ (s), 0, (w) }
#define HB(s, w)	{ (s), sizeof(s) - 1, (w) }	/* embedded NULs */

static const struct hcase hand[] = {
	/* numbers */
	H("0", ACCEPT), H("-0", ACCEPT), H("1", ACCEPT), H("-1", ACCEPT),
	H("1e308", ACCEPT), H("1e309", ACCEPT), H("-1e309", ACCEPT),
	H("5e-324", ACCEPT), H("2.5e-324", ACCEPT), H("2e-324", ACCEPT),
	H("1e-400", ACCEPT), H("-1e-400", ACCEPT),
	H("4.9406564584124654e-324", ACCEPT),
	H("2.4703282292062328e-324", ACCEPT),
	H("2.4703282292062327e-324", ACCEPT),
	H("2.2250738585072014e-308", ACCEPT),
	H("2.2250738585072011e-308", ACCEPT),
	H("1.7976931348623157e308", ACCEPT),
	H("1.7976931348623158e308", ACCEPT),
	H("1.7976931348623159e308", ACCEPT),
	H("1.797693134862315807937e308", ACCEPT),
	H("0.1", ACCEPT), H("0.2", ACCEPT), H("0.30000000000000004", ACCEPT),
	H("123456789012345678901234567890", ACCEPT),
	H("1E+2", ACCEPT), H("1e+2", ACCEPT), H("1E-2", ACCEPT),
	H("1e-7", ACCEPT), H("1e0", ACCEPT), H("1e00007", ACCEPT),
	H("0e0", ACCEPT), H("-0e0", ACCEPT), H("0e999", ACCEPT),
	H("-0.0", ACCEPT), H("0.000", ACCEPT), H("-0.0e-5", ACCEPT),
	H("9007199254740992", ACCEPT), H("9007199254740993", ACCEPT),
	H("9007199254740994", ACCEPT), H("9007199254740995", ACCEPT),
	H("9007199254740993.0", ACCEPT), H("90071992547409930e-1", ACCEPT),
	H("18014398509481985", ACCEPT), H("18014398509481986", ACCEPT),
	H("1e23", ACCEPT), H("5e22", ACCEPT), H("1e22", ACCEPT),
	H("-1e23", ACCEPT), H("8.5e22", ACCEPT), H("1e21", ACCEPT),
	H("12345678901234567890", ACCEPT), H("99999999999999999999", ACCEPT),
	H("999999999999999999999", ACCEPT),
	H("100000000000000000000000000000000000001", ACCEPT),
	H("0.00000000000000000000000000000000000001", ACCEPT),
	H("3.141592653589793238462643383279", ACCEPT),
	H("2.718281828459045", ACCEPT), H("4503599627370497.5", ACCEPT),
	H("1.00000000000000011102230246251565404236316680908203125", ACCEPT),
	H("1.00000000000000011102230246251565404236316680908203124", ACCEPT),
	H("1.00000000000000011102230246251565404236316680908203126", ACCEPT),
	H("1.0000000000000002220446049250313", ACCEPT),
	H("7.2057594037927933e16", ACCEPT),
	H("2147483647", ACCEPT), H("2147483648", ACCEPT),
	H("4294967295", ACCEPT), H("4294967296", ACCEPT),
	H("-2147483648", ACCEPT), H("-9223372036854775808", ACCEPT),
	H("18446744073709551615", ACCEPT), H("18446744073709551616", ACCEPT),
	H("1e10000", ACCEPT), H("1e99999999", DECLINE),
	H("1e-99999999", DECLINE),
	H("01", DECLINE), H("-01", DECLINE), H("00", DECLINE),
	H("-", DECLINE), H("1.", DECLINE), H(".5", DECLINE),
	H("-.5", DECLINE), H("1e", DECLINE), H("1e+", DECLINE),
	H("1e-", DECLINE), H("+1", DECLINE), H("--1", DECLINE),
	H("1.2.3", DECLINE), H("1e5.5", DECLINE), H("1ee5", DECLINE),
	H("0x10", DECLINE), H("Infinity", DECLINE), H("-Infinity", DECLINE),
	H("NaN", DECLINE), H("1-2", DECLINE), H("1+2", DECLINE),
	H("1.e5", DECLINE), H("0.e1", DECLINE), H("1 2", DECLINE),
	H("1e+-1", DECLINE), H("١", DECLINE),
	/* literals */
	H("true", ACCEPT), H("false", ACCEPT), H("null", ACCEPT),
	H("tru", DECLINE), H("nul", DECLINE), H("True", DECLINE),
	H("nulll", DECLINE), H("falsey", DECLINE), H("undefined", DECLINE),
	/* whitespace */
	H(" 1 ", ACCEPT), H("\t\n\r 1\t\n\r ", ACCEPT),
	H(" [ 1 , 2 ] ", ACCEPT), H("{ \"a\" : 1 , \"b\" : 2 }", ACCEPT),
	H("\f1", DECLINE), H("1\v", DECLINE), H("\xc2\xa0" "1", DECLINE),
	H("\xef\xbb\xbf" "1", DECLINE), HB("1\0", DECLINE),
	HB("\0" "1", DECLINE), HB("[1,\0 2]", DECLINE),
	H("", DECLINE), H(" ", DECLINE), H("\n", DECLINE),
	/* containers */
	H("{}", ACCEPT), H("[]", ACCEPT), H("{ }", ACCEPT), H("[ ]", ACCEPT),
	H("[[]]", ACCEPT), H("[{}]", ACCEPT), H("{\"a\":{}}", ACCEPT),
	H("[1,2,3]", ACCEPT), H("[1,[2,[3,[4]]]]", ACCEPT),
	H("{\"a\":1,\"a\":2}", ACCEPT), H("{\"a\":1,\"b\":2,\"a\":3}", ACCEPT),
	H("{\"b\":1,\"a\":2,\"b\":{\"c\":1},\"a\":[]}", ACCEPT),
	H("{\"__proto__\":1}", ACCEPT), H("{\"__proto__\":{\"x\":1}}", ACCEPT),
	H("{\"__proto__\":null,\"a\":1}", ACCEPT),
	H("{\"__proto__\":[],\"__proto__\":{}}", ACCEPT),
	H("{\"\\u005f_proto__\":1}", ACCEPT),
	H("{\"constructor\":1,\"toString\":2,\"hasOwnProperty\":3}", ACCEPT),
	H("{\"length\":3}", ACCEPT), H("{\"0\":1,\"1\":2}", ACCEPT),
	H("{\"1\":1,\"0\":2,\"a\":3,\"2\":4}", ACCEPT),
	H("{\"4294967295\":1,\"4294967294\":2}", ACCEPT),
	H("{\"\":1}", ACCEPT), H("{\"\":1,\"\":2}", ACCEPT),
	H("[1,2,]", DECLINE), H("{\"a\":1,}", DECLINE), H("[,1]", DECLINE),
	H("[1,,2]", DECLINE), H("{,}", DECLINE), H("{\"a\"}", DECLINE),
	H("{\"a\":}", DECLINE), H("{\"a\" 1}", DECLINE), H("{a:1}", DECLINE),
	H("{'a':1}", DECLINE), H("{1:1}", DECLINE), H("[1 2]", DECLINE),
	H("[", DECLINE), H("]", DECLINE), H("{", DECLINE), H("}", DECLINE),
	H("[1", DECLINE), H("[1,", DECLINE), H("{\"a\":1", DECLINE),
	H("{\"a\"", DECLINE), H("[]]", DECLINE), H("{}}", DECLINE),
	H("[]x", DECLINE), H("{} {}", DECLINE), H("[1]]", DECLINE),
	H("{\"a\":1}x", DECLINE), H("1,", DECLINE),
	/* strings */
	H("\"\"", ACCEPT), H("\"abc\"", ACCEPT), H("\" \"", ACCEPT),
	H("\"\\\"\"", ACCEPT), H("\"\\\\\"", ACCEPT), H("\"\\/\"", ACCEPT),
	H("\"\\b\\f\\n\\r\\t\"", ACCEPT), H("\"a\\nb\"", ACCEPT),
	H("\"\\u0000\"", ACCEPT), H("\"\\u0041\\u0062\"", ACCEPT),
	H("\"\\u007f\\u0080\"", ACCEPT), H("\"\\u00e9\\u00E9\"", ACCEPT),
	H("\"\\u07ff\\u0800\"", ACCEPT), H("\"\\u20ac\"", ACCEPT),
	H("\"\\uffff\\uFFFE\"", ACCEPT), H("\"\\ud83d\\ude00\"", ACCEPT),
	H("\"\\uD83D\\uDE00\"", ACCEPT), H("\"\\ud800\"", ACCEPT),
	H("\"\\udfff\"", ACCEPT), H("\"\\ude00\\ud83d\"", ACCEPT),
	H("\"a\\ud800b\"", ACCEPT), H("\"\\ud800\\ud800\"", ACCEPT),
	H("\"\\u\"", DECLINE), H("\"\\u12\"", DECLINE),
	H("\"\\u12g4\"", DECLINE), H("\"\\U0041\"", DECLINE),
	H("\"\\x41\"", DECLINE), H("\"\\a\"", DECLINE), H("\"\\'\"", DECLINE),
	H("\"\\0\"", DECLINE), H("\"\\", DECLINE), H("\"\\\"", DECLINE),
	H("\"abc", DECLINE), H("\"", DECLINE), H("'abc'", DECLINE),
	H("\"a\nb\"", DECLINE), H("\"a\tb\"", DECLINE), H("\"\x01\"", DECLINE),
	H("\"\x1f\"", DECLINE), HB("\"a\0b\"", DECLINE),
	H("\"\x7f\"", ACCEPT), H("\"caf\xc3\xa9\"", ACCEPT),
	H("\"\xe2\x82\xac\"", ACCEPT), H("\"\xf0\x9f\x98\x80\"", ACCEPT),
	H("\"\xed\xa0\xbd\xed\xb8\x80\"", ACCEPT),
	H("\"\xc3\"", ACCEPT), H("\"\xc0\xaf\"", ACCEPT),
	H("\"\x80\"", ACCEPT), H("\"\x81x\"", ACCEPT), H("\"\x82x\"", ACCEPT),
	H("\"\xff\"", ACCEPT), H("\"\xffhidden\"", ACCEPT),
	H("\"a\xff\"", ACCEPT), H("\"\xf8\x88\x80\x80\x80\"", ACCEPT),
	H("{\"\xffk\":1,\"k\":2}", ACCEPT), H("{\"\x80k\":1}", ACCEPT),
	H("{\"\\u00e9\":1,\"\xc3\xa9\":2}", ACCEPT),
	H("{\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":2}", ACCEPT),
	H("\xff", DECLINE), H("\x80" "1", DECLINE), H("\xc3\xa9", DECLINE),
	/* mixed */
	H("{\"a\":[1,-0,0.5,\"x\",true,false,null,{}]}", ACCEPT),
	H("[-0,0,-0.0,0e5,-0e-5]", ACCEPT),
	H("[1e23,1]", ACCEPT), H("{\"a\":\"\\q\"}", DECLINE),
};

START_TEST(test_hand_cases)
{
	struct stats	 st = { 0, 0, 0, 0 };
	size_t		 i, len;
	duk_context	*ctx;

	ck_assert_uint_ge(sizeof(hand) / sizeof(hand[0]), 150);
	for (i = 0; i < sizeof(hand) / sizeof(hand[0]); i++) {
		/* A fresh heap per case: nothing interned by one can
		 * hide a difference in the next. */
		ctx = new_heap();
		len = hand[i].len ? hand[i].len : strlen(hand[i].s);
		compare(ctx, hand[i].s, len, hand[i].want, &st);
		duk_destroy_heap(ctx);
	}
	printf("json_fast hand cases: %ld compared, %ld fast, %ld declined "
	    "(valid), %ld invalid\n", st.n, st.fast, st.declined, st.invalid);
}
END_TEST

/* ---- semantics a script can see ----------------------------------------- */

START_TEST(test_proto_key_is_own)
{
	duk_context	*ctx = new_heap();

	fast_to_global(ctx, "{\"__proto__\":{\"x\":1},\"a\":2}");
	ck_assert(js_true(ctx,
	    "Object.getPrototypeOf(r) === Object.prototype && "
	    "r.hasOwnProperty('__proto__') && r.x === undefined && "
	    "r.__proto__.x === 1 && Object.keys(r).join() === '__proto__,a'"));
	fast_to_global(ctx, "{\"__proto__\":null}");
	ck_assert(js_true(ctx,
	    "Object.getPrototypeOf(r) === Object.prototype && "
	    "r.__proto__ === null && JSON.stringify(r) === "
	    "'{\"__proto__\":null}'"));
	duk_destroy_heap(ctx);
}
END_TEST

START_TEST(test_negative_zero_and_keys)
{
	duk_context	*ctx = new_heap();

	fast_to_global(ctx, "[-0,-0.0,-0e5,0,-1e-400]");
	ck_assert(js_true(ctx, "1/r[0] === -Infinity && 1/r[1] === -Infinity"
	    " && 1/r[2] === -Infinity && 1/r[3] === Infinity && "
	    "1/r[4] === -Infinity && r.length === 5 && Array.isArray(r)"));
	fast_to_global(ctx, "{\"b\":1,\"a\":2,\"b\":3,\"c\":{\"a\":1,\"a\":2}}");
	ck_assert(js_true(ctx, "Object.keys(r).join() === 'b,a,c' && "
	    "r.b === 3 && r.c.a === 2 && Object.keys(r.c).length === 1"));
	fast_to_global(ctx, "{\"a\":1}");
	ck_assert(js_true(ctx, "(function () { var d = Object."
	    "getOwnPropertyDescriptor(r, 'a'); return d.writable && "
	    "d.enumerable && d.configurable && Object.isExtensible(r); })()"));
	duk_destroy_heap(ctx);
}
END_TEST

/* No setter, frozen prototype or replaced constructor changes the result,
 * and no user code runs, as with JSON.parse. */
START_TEST(test_hostile_prototypes)
{
	static const char	 doc[] =
	    "{\"a\":1,\"b\":[5,6],\"__proto__\":7,\"c\":{\"a\":2}}";
	struct stats		 st = { 0, 0, 0, 0 };
	duk_context		*ctx = new_heap();

	ck_assert(js_true(ctx,
	    "var OP = Object.prototype, AP = Array.prototype, "
	    "gp = Object.getPrototypeOf; hit = 0;"
	    "Object.defineProperty(OP, 'a', { set: function () { hit++; },"
	    " get: function () { return 'inherited'; } });"
	    "Object.defineProperty(OP, 'c', { value: 0, writable: false });"
	    "Object.defineProperty(AP, '0', { set: function () { hit++; } });"
	    "Object.defineProperty(AP, '1', { value: 0, writable: false });"
	    "Object.freeze(OP); Object.freeze(AP);"
	    "Object = null; Array = null; true"));
	compare(ctx, doc, sizeof(doc) - 1, ACCEPT, &st);
	fast_to_global(ctx, doc);
	ck_assert(js_true(ctx,
	    "hit === 0 && r.a === 1 && r.c.a === 2 && r.b[0] === 5 && "
	    "r.b[1] === 6 && r.b.length === 2 && r.__proto__ === 7 && "
	    "gp(r) === OP && gp(r.b) === AP && gp(r.c) === OP"));
	duk_destroy_heap(ctx);
}
END_TEST

START_TEST(test_realistic_payload)
{
	struct stats	 st = { 0, 0, 0, 0 };
	duk_context	*ctx = new_heap();
	size_t		 len;
	char		*doc = json_payload_after(&len);

	ck_assert_uint_eq(len, 1200);
	compare(ctx, doc, len, ACCEPT, &st);
	fast_to_global(ctx, doc);
	ck_assert(js_true(ctx, "r.phase === 'after' && "
	    "r.response.status === 200 && r.timing.total_ms === 43.25 && "
	    "JSON.parse(r.request.body).items[0].price === 19.99 && "
	    "r.pad.length > 100"));
	free(doc);
	duk_destroy_heap(ctx);
}
END_TEST

START_TEST(test_depth_limit)
{
	struct stats	 st = { 0, 0, 0, 0 };
	duk_context	*ctx = new_heap();
	struct text	 t = { NULL, 0, 0 };
	int		 depth, i;

	for (depth = 998; depth <= 1002; depth++) {
		t.len = 0;
		for (i = 0; i < depth; i++)
			puts_(&t, i % 2 ? "{\"k\":" : "[");
		puts_(&t, "1");
		for (i = depth - 1; i >= 0; i--)
			puts_(&t, i % 2 ? "}" : "]");
		/* Duktape allows 1000 levels and throws RangeError past. */
		compare(ctx, t.p, t.len, depth <= 1000 ? ACCEPT : DECLINE,
		    &st);
	}
	ck_assert_int_eq(st.fast, 3);
	ck_assert_int_eq(st.invalid, 2);
	free(t.p);
	duk_destroy_heap(ctx);
}
END_TEST

/* Strings around the scratch size, and long ones on the heap path. */
START_TEST(test_long_strings)
{
	static const char *const pieces[] = { "a", "\\n", "\\u00e9",
	    "\\ud83d\\ude00", "\xc3\xa9", "\\\"" };
	struct stats	 st = { 0, 0, 0, 0 };
	duk_context	*ctx = new_heap();
	struct text	 t = { NULL, 0, 0 };
	size_t		 n, k;

	for (k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
		for (n = 1000; n < 1060; n += 3) {
			t.len = 0;
			puts_(&t, "[\"");
			while (t.len < n)
				puts_(&t, pieces[(t.len + k) %
				    (sizeof(pieces) / sizeof(pieces[0]))]);
			puts_(&t, "\",\"");
			while (t.len < 3 * n)
				puts_(&t, pieces[k]);
			puts_(&t, "\"]");
			compare(ctx, t.p, t.len, ACCEPT, &st);
			/* the same, cut short inside the string */
			compare(ctx, t.p, t.len - 3, DECLINE, &st);
		}
	}
	t.len = 0;
	puts_(&t, "\"");
	for (n = 0; n < 100000; n++)
		puts_(&t, n % 7 ? "x" : "\\t");
	puts_(&t, "\"");
	compare(ctx, t.p, t.len, ACCEPT, &st);
	free(t.p);
	duk_destroy_heap(ctx);
}
END_TEST

/* The stack is left as found, with one value more on success. */
START_TEST(test_stack_discipline)
{
	static const char *const docs[] = { "[1,{\"a\":[2,\"\\n\"]}", "{\"a\"",
	    "[1,2,3]", "\"x\\q\"", "{\"a\":[{},{\"b\":1e23}]}", "17" };
	duk_context	*ctx = new_heap();
	size_t		 i;
	int		 r;

	duk_push_string(ctx, "sentinel");
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		r = json_fast_push(ctx, docs[i], strlen(docs[i]));
		ck_assert_int_eq(duk_get_top(ctx), 1 + r);
		if (r)
			duk_pop(ctx);
		ck_assert_str_eq(duk_get_string(ctx, 0), "sentinel");
	}
	duk_destroy_heap(ctx);
}
END_TEST

/* Under the heap cap, running out of memory throws a RangeError inside
 * the caller's safe call; the heap stays usable and frees everything. */
START_TEST(test_memory_cap)
{
	struct sandbox_alloc	 acct;
	struct fast_call	 fc;
	struct text		 t = { NULL, 0, 0 };
	duk_context		*ctx;
	int			 i;

	memset(&acct, 0, sizeof(acct));
	acct.limit = 2u << 20;
	/* Only C API calls here: the heap udata is not a struct sandbox,
	 * so no bytecode may run (DUK_USE_EXEC_TIMEOUT_CHECK reads it). */
	ctx = duk_create_heap(sandbox_alloc_malloc, sandbox_alloc_realloc,
	    sandbox_alloc_free, &acct, NULL);
	ck_assert_ptr_nonnull(ctx);
	puts_(&t, "[");
	for (i = 0; i < 200000; i++) {
		char	num[32];

		snprintf(num, sizeof(num), "%s{\"k%d\":\"v%d\"}", i ? "," : "",
		    i, i);
		puts_(&t, num);
	}
	puts_(&t, "]");
	fc.s = t.p;
	fc.len = t.len;
	duk_push_string(ctx, "sentinel");
	ck_assert_int_ne(duk_safe_call(ctx, fast_safe, &fc, 0, 1), 0);
	ck_assert(acct.hit_limit);
	ck_assert_int_eq(duk_get_top(ctx), 2);
	ck_assert_str_eq(duk_get_string(ctx, 0), "sentinel");
	duk_pop(ctx);
	duk_gc(ctx, 0);
	fc.s = "{\"a\":[1,2,\"x\"]}";
	fc.len = strlen(fc.s);
	ck_assert_int_eq(duk_safe_call(ctx, fast_safe, &fc, 0, 1), 0);
	ck_assert_int_eq(fc.r, 1);
	ck_assert(duk_is_object(ctx, -1));
	duk_destroy_heap(ctx);
	ck_assert_uint_eq(acct.used, 0);
	free(t.p);
}
END_TEST

/* ---- random documents ------------------------------------------------- */

struct rng {
	uint64_t	s;
};

static uint64_t
rnext(struct rng *r)
{
	uint64_t	z;

	/* splitmix64 */
	z = (r->s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned
rn(struct rng *r, unsigned n)
{
	return (unsigned)(rnext(r) % n);
}

static void
gen_ws(struct rng *r, struct text *t)
{
	static const char ws[] = " \t\n\r";
	unsigned	  n;

	if (rn(r, 4) != 0)
		return;
	for (n = 1 + rn(r, 3); n > 0; n--)
		putc_(t, ws[rn(r, 4)]);
	if (rn(r, 400) == 0)	/* not JSON whitespace */
		putc_(t, "\f\v\0\xa0"[rn(r, 4)]);
}

static void
gen_digits(struct rng *r, struct text *t, unsigned n, int first_nonzero)
{
	/* Runs of zeros and nines find carry and rounding edges. */
	unsigned	mode = rn(r, 4);

	while (n-- > 0) {
		int	d = mode == 0 ? 0 : mode == 1 ? 9 : (int)rn(r, 10);

		if (first_nonzero && d == 0)
			d = 1 + (int)rn(r, 9);
		first_nonzero = 0;
		if (rn(r, 8) == 0)
			mode = rn(r, 4);
		putc_(t, '0' + d);
	}
}

static void
put_u128(struct text *t, unsigned __int128 v)
{
	char	buf[48];
	int	i = (int)sizeof(buf);

	buf[--i] = '\0';
	do {
		buf[--i] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v > 0);
	puts_(t, buf + i);
}

static double
random_double(struct rng *r)
{
	uint64_t	bits;
	double		d;

	do {
		bits = rnext(r);
		memcpy(&d, &bits, sizeof(d));
	} while (!isfinite(d));
	return d;
}

static void
gen_number(struct rng *r, struct text *t)
{
	static const char *const bad[] = { "01", "-", "1.", ".5", "+1", "1e",
	    "1e+", "--1", "1.2.3", "0x10", "1e5.5", "Infinity", "NaN", "-01",
	    "1.e3", "1e+-2", "00.5", "-.0" };
	static const char *const edge[] = { "1.7976931348623157e308",
	    "1.7976931348623158e308", "1.797693134862315807e308",
	    "1.7976931348623159e308", "2.2250738585072014e-308",
	    "2.2250738585072011e-308", "4.9406564584124654e-324",
	    "2.4703282292062327e-324", "2.4703282292062328e-324",
	    "9007199254740993", "9007199254740992", "1e23", "5e22",
	    "0.1", "1e-7", "123456789012345678901234567890" };
	char		 buf[128];
	unsigned	 mode = rn(r, 100), k;
	double		 d;
	long double	 mid;

	if (mode < 30) {
		/* the grammar, at random */
		if (rn(r, 3) == 0)
			putc_(t, '-');
		if (rn(r, 5) == 0)
			putc_(t, '0');
		else
			gen_digits(r, t, 1 + rn(r, rn(r, 2) ? 6 : 25), 1);
		if (rn(r, 5) < 2) {
			putc_(t, '.');
			gen_digits(r, t, 1 + rn(r, rn(r, 2) ? 6 : 25), 0);
		}
		if (rn(r, 10) < 3) {
			putc_(t, rn(r, 2) ? 'e' : 'E');
			k = rn(r, 3);
			if (k)
				putc_(t, k == 1 ? '+' : '-');
			switch (rn(r, 4)) {
			case 0:
				snprintf(buf, sizeof(buf), "%u", rn(r, 30));
				break;
			case 1:
				snprintf(buf, sizeof(buf), "%u",
				    280 + rn(r, 70));
				break;
			case 2:	/* leading zeros */
				k = 1 + rn(r, 5);
				snprintf(buf, sizeof(buf), "%0*u", (int)k,
				    rn(r, 400));
				break;
			default:
				snprintf(buf, sizeof(buf), "%u", rn(r, 1100));
				break;
			}
			puts_(t, buf);
		}
	} else if (mode < 50) {
		/* what JSON.stringify and printf write */
		d = random_double(r);
		if (rn(r, 2))
			d = ldexp(d - trunc(d), (int)rn(r, 200) - 100);
		snprintf(buf, sizeof(buf), "%.*g", (int)(1 + rn(r, 17)), d);
		if (strchr(buf, 'n') == NULL)	/* no inf, nan */
			puts_(t, buf);
		else
			putc_(t, '0');
	} else if (mode < 58) {
		/* denormals and the bottom of the normal range */
		/* (one call per statement: argument order is unspecified,
		 * and the inputs must not depend on the compiler) */
		d = (double)(rnext(r) >> 11);
		k = rn(r, 60);
		d = ldexp(d, -1074 - (int)k + (int)rn(r, 30));
		k = rn(r, 20);
		snprintf(buf, sizeof(buf), "%.*e", (int)k, d);
		puts_(t, buf);
	} else if (mode < 68) {
		/* exact ties M * 2^k (M odd, 54 bits) and their
		 * neighbours, as integers or moved into an exponent */
		unsigned __int128 m = ((uint64_t)1 << 53) |
		    (rnext(r) & (((uint64_t)1 << 53) - 1)) | 1;

		m <<= rn(r, 13);
		m += (unsigned __int128)(int)(rn(r, 5) == 0 ?
		    (int)rn(r, 3) - 1 : 0);
		if (rn(r, 3) == 0)
			putc_(t, '-');
		put_u128(t, m);
		if (rn(r, 3) == 0) {
			snprintf(buf, sizeof(buf), "e%d", (int)rn(r, 3));
			puts_(t, buf);
		}
	} else if (mode < 78) {
		/* midpoints between neighbouring doubles, exact in long
		 * double, printed with 15 to 45 digits */
		d = random_double(r);
		if (rn(r, 2)) {
			d = 1.0 + ldexp((double)(rnext(r) >> 11), -53);
			d = ldexp(d, (int)rn(r, 120) - 60);
		}
		mid = ((long double)d + (long double)nextafter(d, INFINITY)) /
		    2;
		snprintf(buf, sizeof(buf), "%.*Le", (int)(14 + rn(r, 31)),
		    mid);
		if (strchr(buf, 'n') == NULL)
			puts_(t, buf);
		else
			putc_(t, '1');
	} else if (mode < 88) {
		/* integers */
		if (rn(r, 2)) {
			uint64_t	u = rnext(r);

			k = rn(r, 64);
			snprintf(buf, sizeof(buf), "%s%llu",
			    rn(r, 2) ? "-" : "", (unsigned long long)(u >> k));
		} else
			snprintf(buf, sizeof(buf), "%u", rn(r, 1000));
		puts_(t, buf);
	} else if (mode < 96) {
		/* known edges, with a digit changed or added */
		snprintf(buf, sizeof(buf), "%s",
		    edge[rn(r, sizeof(edge) / sizeof(edge[0]))]);
		if (rn(r, 2)) {
			char	*p = buf + rn(r, (unsigned)strlen(buf));

			if (*p >= '0' && *p <= '9')
				*p = (char)('0' + rn(r, 10));
		}
		puts_(t, buf);
		if (rn(r, 3) == 0)
			gen_digits(r, t, rn(r, 4), 0);
	} else
		puts_(t, bad[rn(r, sizeof(bad) / sizeof(bad[0]))]);
}

static void
gen_string(struct rng *r, struct text *t, int key)
{
	static const char *const keys[] = { "a", "b", "c", "__proto__", "0",
	    "1", "length", "constructor", "toString", "hasOwnProperty",
	    "\\u0061", "", "__proto\\u005f_", "\xc3\xa9", "\\u00e9" };
	static const char *const esc[] = { "\\\"", "\\\\", "\\/", "\\b",
	    "\\f", "\\n", "\\r", "\\t" };
	static const char *const uni[] = { "0000", "001f", "0020", "0041",
	    "007f", "0080", "00e9", "00E9", "07ff", "0800", "20ac", "d7ff",
	    "d800", "DBFF", "dc00", "dfff", "e000", "fffe", "ffff", "FEFF" };
	static const char *const raw[] = { "\xc3\xa9", "\xe2\x82\xac",
	    "\xf0\x9f\x98\x80", "\x7f", "\x80", "\xff", "\xc0\xaf",
	    "\xed\xa0\x80", "\xc3", "\x81", "\x82" };
	static const char *const bad[] = { "\x01", "\n", "\t", "\\x41",
	    "\\u12g4", "\\U0041", "\\a", "\\'", "\\u00", "\x1f" };
	char		 buf[16];
	unsigned	 n, k;

	putc_(t, '"');
	if (key && rn(r, 2)) {
		puts_(t, keys[rn(r, sizeof(keys) / sizeof(keys[0]))]);
		putc_(t, '"');
		return;
	}
	for (n = rn(r, rn(r, 4) ? 8 : 40); n > 0; n--) {
		switch (rn(r, 12)) {
		case 0: case 1: case 2: case 3: case 4:
			putc_(t, "abcxyz ABC_.-019:{}[],"[rn(r, 22)]);
			break;
		case 5:
			puts_(t, esc[rn(r, sizeof(esc) / sizeof(esc[0]))]);
			break;
		case 6:
			puts_(t, "\\u");
			puts_(t, uni[rn(r, sizeof(uni) / sizeof(uni[0]))]);
			break;
		case 7:
			k = rn(r, 0x10000);
			snprintf(buf, sizeof(buf), rn(r, 2) ? "\\u%04x" :
			    "\\u%04X", k);
			puts_(t, buf);
			break;
		case 8:
			puts_(t, rn(r, 2) ? "\\ud83d\\ude00" : "\\uDBFF\\uDFFF");
			break;
		case 9: case 10:
			puts_(t, raw[rn(r, sizeof(raw) / sizeof(raw[0]))]);
			break;
		default:
			if (rn(r, 30) == 0)
				puts_(t, bad[rn(r,
				    sizeof(bad) / sizeof(bad[0]))]);
			else
				putc_(t, 'q');
			break;
		}
	}
	putc_(t, '"');
}

static void
gen_value(struct rng *r, struct text *t, int depth)
{
	unsigned	k = rn(r, 100), n, i;

	gen_ws(r, t);
	if (depth < 6 && k < 30) {
		int	obj = k < 15;

		putc_(t, obj ? '{' : '[');
		gen_ws(r, t);
		n = rn(r, rn(r, 4) ? 5 : 12);
		for (i = 0; i < n; i++) {
			if (i > 0)
				putc_(t, ',');
			if (obj) {
				gen_ws(r, t);
				gen_string(r, t, 1);
				gen_ws(r, t);
				if (rn(r, 300))
					putc_(t, ':');
			}
			gen_value(r, t, depth + 1);
		}
		if (n > 0 && rn(r, 300) == 0)
			putc_(t, ',');	/* trailing comma */
		gen_ws(r, t);
		putc_(t, obj ? '}' : ']');
	} else if (k < 55)
		gen_string(r, t, 0);
	else if (k < 88)
		gen_number(r, t);
	else {
		static const char *const lit[] = { "true", "false", "null" };

		puts_(t, rn(r, 200) ? lit[rn(r, 3)] : "nul");
	}
	gen_ws(r, t);
}

enum gen_kind { GEN_DOC, GEN_NUMBERS, GEN_MUTATED };

static void
gen_input(struct rng *r, struct text *t, enum gen_kind kind)
{
	unsigned	n, i, pos;

	t->len = 0;
	if (kind == GEN_NUMBERS) {
		/* a bare number or a short array of them */
		if (rn(r, 3) == 0) {
			gen_number(r, t);
			return;
		}
		putc_(t, '[');
		for (n = 1 + rn(r, 8), i = 0; i < n; i++) {
			if (i > 0)
				putc_(t, ',');
			gen_number(r, t);
		}
		putc_(t, ']');
		return;
	}
	gen_value(r, t, 0);
	if (kind == GEN_DOC) {
		if (rn(r, 300) == 0)
			puts_(t, rn(r, 2) ? "x" : "{}");
		return;
	}
	for (n = 1 + rn(r, 3); n > 0; n--) {
		pos = t->len ? rn(r, (unsigned)t->len) : 0;
		switch (rn(r, 5)) {
		case 0:	/* truncate */
			t->len = pos;
			break;
		case 1: {	/* insert a byte, JSON's own most often */
			static const char syn[] = "{}[],:\"\\ 0123456789eE.+-"
			    "tfnu";
			char	c = rn(r, 2) ? syn[rn(r, sizeof(syn) - 1)] :
			    (char)rn(r, 256);

			put(t, " ", 1);	/* grow by one */
			memmove(t->p + pos + 1, t->p + pos, t->len - pos - 1);
			t->p[pos] = c;
			break;
		}
		case 2:	/* delete a byte */
			if (t->len > 0) {
				memmove(t->p + pos, t->p + pos + 1,
				    t->len - pos - 1);
				t->len--;
			}
			break;
		case 3:	/* replace a byte */
			if (t->len > 0)
				t->p[pos] = (char)rn(r, 256);
			break;
		default:	/* swap two bytes */
			if (t->len > 1) {
				unsigned	q = rn(r, (unsigned)t->len);
				char		c = t->p[pos];

				t->p[pos] = t->p[q];
				t->p[q] = c;
			}
			break;
		}
	}
}

/* chunks x per_chunk inputs of one kind, a fresh heap per chunk. */
static void
run_random(enum gen_kind kind, uint64_t seed, int chunks, int per_chunk,
    const char *name)
{
	struct stats	 st = { 0, 0, 0, 0 };
	struct text	 t = { NULL, 0, 0 };
	struct rng	 r;
	duk_context	*ctx;
	int		 c, i;

	for (c = 0; c < chunks; c++) {
		r.s = seed * 1000003u + (uint64_t)c;
		ctx = new_heap();
		for (i = 0; i < per_chunk; i++) {
			gen_input(&r, &t, kind);
			compare(ctx, t.p, t.len, ANY, &st);
		}
		duk_destroy_heap(ctx);
	}
	free(t.p);
	printf("json_fast %s: %ld compared, %ld fast, %ld declined (valid),"
	    " %ld invalid\n", name, st.n, st.fast, st.declined, st.invalid);
	ck_assert_int_eq(st.n, (long)chunks * per_chunk);
	/* The fast path must be the common case on valid documents. */
	ck_assert_msg(st.fast > 10 * st.declined, "%s: %ld fast, %ld declined",
	    name, st.fast, st.declined);
}

START_TEST(test_random_documents)
{
	run_random(GEN_DOC, 1, 25, 1000, "random documents");
}
END_TEST

START_TEST(test_random_numbers)
{
	run_random(GEN_NUMBERS, 2, 25, 1000, "random numbers");
}
END_TEST

START_TEST(test_random_mutations)
{
	run_random(GEN_MUTATED, 3, 10, 1000, "random mutations");
}
END_TEST

static Suite *
json_fast_suite(void)
{
	Suite	*s = suite_create("json_fast");
	TCase	*tc;

	tc = tcase_create("semantics");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_hand_cases);
	tcase_add_test(tc, test_proto_key_is_own);
	tcase_add_test(tc, test_negative_zero_and_keys);
	tcase_add_test(tc, test_hostile_prototypes);
	tcase_add_test(tc, test_realistic_payload);
	tcase_add_test(tc, test_depth_limit);
	tcase_add_test(tc, test_long_strings);
	tcase_add_test(tc, test_stack_discipline);
	tcase_add_test(tc, test_memory_cap);
	suite_add_tcase(s, tc);

	tc = tcase_create("differential");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_random_documents);
	tcase_add_test(tc, test_random_numbers);
	tcase_add_test(tc, test_random_mutations);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(json_fast_suite());
	int	 failed;

	/* Fork mode unless CK_FORK=no (for a debugger). */
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
