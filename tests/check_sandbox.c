/*
 * check_sandbox.c - unit tests for sandbox.c and sandbox_api.c: loading a
 * source (SPEC §5), calling its handler with req/res, and every limit of
 * SPEC §6 (time, memory, response size, console output).
 *
 * Deadline tests only check that a runaway function is stopped (outcome
 * OUT_TIMEOUT), never how fast: the tcase timeout is the safety net.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sandbox_fixture.h"
#include "sandbox_internal.h"

static const char *
oname(enum outcome o)
{
	return outcome_code(o);
}

#define ck_outcome(res, want) \
	ck_assert_msg((res).outcome == (want), "outcome %s, want %s (%s)", \
	    oname((res).outcome), oname(want), (res).message)

static struct sandbox_limits
limits(size_t memory, unsigned timeout_ms, size_t response_max, size_t log_max)
{
	struct sandbox_limits	l;

	l.memory_bytes = memory;
	l.timeout_ms = timeout_ms;
	l.response_max = response_max;
	l.log_max = log_max;
	return l;
}

static struct sandbox *
new_sb(const struct sandbox_limits *lim)
{
	struct sandbox	*sb = sandbox_new(lim != NULL ? lim : &LIM);

	ck_assert_ptr_nonnull(sb);
	return sb;
}

/* A sandbox with src loaded; the load must succeed. */
static struct sandbox *
loaded(const char *src, const struct sandbox_limits *lim)
{
	struct sandbox		*sb = new_sb(lim);
	struct sandbox_result	 res;
	int			 rc;

	rc = sandbox_load(sb, src, strlen(src), "test.js", NULL, NULL,
	    &res);
	ck_assert_msg(rc == 0, "load failed: %s: %s", oname(res.outcome),
	    res.message);
	ck_outcome(res, OUT_OK);
	sandbox_result_free(&res);
	return sb;
}

/* Loads src into a fresh sandbox, expecting failure; fills res. */
static int
load_fail(const char *src, const struct sandbox_limits *lim,
    struct sandbox_result *res)
{
	struct sandbox	*sb = new_sb(lim);
	int		 rc;

	rc = sandbox_load(sb, src, strlen(src), "test.js", NULL, NULL,
	    res);
	sandbox_free(sb);
	return rc;
}

/* Loads src in a fresh sandbox and calls it once with rq (PLAIN_RQ when
 * NULL). */
static int
run(const char *src, const struct sandbox_limits *lim,
    const struct sandbox_request *rq, struct sandbox_result *res)
{
	struct sandbox	*sb = loaded(src, lim);
	int		 rc;

	rc = sandbox_call(sb, rq != NULL ? rq : &PLAIN_RQ, res);
	sandbox_free(sb);
	return rc;
}

/* Runs src and requires OUT_OK with body want; frees the result. */
static void
run_expect_body(const char *src, const struct sandbox_request *rq,
    const char *want)
{
	struct sandbox_result	res;

	ck_assert_int_eq(run(src, NULL, rq, &res), 0);
	ck_outcome(res, OUT_OK);
	ck_assert_ptr_nonnull(res.body);
	ck_assert_msg(res.body_len == strlen(want) &&
	    memcmp(res.body, want, res.body_len) == 0,
	    "body [%.*s], want [%s]", (int)res.body_len, res.body, want);
	sandbox_result_free(&res);
}

/* Runs src and requires failure with outcome want and no body. */
static void
run_expect_outcome(const char *src, const struct sandbox_limits *lim,
    const struct sandbox_request *rq, enum outcome want)
{
	struct sandbox_result	res;

	ck_assert_msg(run(src, lim, rq, &res) == -1, "%s: succeeded", src);
	ck_assert_msg(res.outcome == want, "%s: outcome %s, want %s (%s)",
	    src, oname(res.outcome), oname(want), res.message);
	/* SPEC §4: no error returns a partial response body. */
	ck_assert_ptr_null(res.body);
	ck_assert_uint_eq(res.body_len, 0);
	sandbox_result_free(&res);
}

/* Value of header name (case-insensitive), or NULL; fails if repeated. */
static const char *
header_of(const struct sandbox_result *res, const char *name)
{
	const char	*v = NULL;
	size_t		 i;

	for (i = 0; i < res->nheaders; i++)
		if (strcasecmp(res->headers[i].name, name) == 0) {
			ck_assert_msg(v == NULL, "header %s twice", name);
			v = res->headers[i].value;
		}
	return v;
}

/* ---- load ---------------------------------------------------------- */

START_TEST(test_load_module_exports)
{
	run_expect_body("module.exports = function (req, res) {"
	    " res.send('exports'); };", NULL, "exports");
}
END_TEST

START_TEST(test_load_action)
{
	run_expect_body("function action(req, res) { res.send('action'); }",
	    NULL, "action");
	/* the brief's minimal form loads */
	run_expect_outcome("function action(req,res){}", NULL, NULL,
	    OUT_NO_RESPONSE);
}
END_TEST

START_TEST(test_load_both_exports_wins)
{
	run_expect_body(
	    "function action(req, res) { res.send('action'); }\n"
	    "module.exports = function (req, res) { res.send('exports'); };\n",
	    NULL, "exports");
	/* exports that is not a function falls back to action */
	run_expect_body(
	    "module.exports = { notAHandler: 1 };\n"
	    "function action(req, res) { res.send('action'); }\n",
	    NULL, "action");
}
END_TEST

START_TEST(test_load_syntax_error)
{
	static const struct { const char *src; int line; } cases[] = {
		{ "var a = 1;\nvar b = 2;\nvar c = ;\n"
		  "module.exports = function (req, res) {};\n", 3 },
		{ "var = 1;", 1 },
		{ "// one\n// two\n// three\n"
		  "module.exports = function (req, res) { res.send(1); };\n"
		  "var x = 1 +* 2;\n", 5 },
	};
	struct sandbox_result	res;
	size_t			i;

	for (i = 0; i < NELEM(cases); i++) {
		ck_assert_int_eq(load_fail(cases[i].src, NULL, &res), -1);
		ck_outcome(res, OUT_SYNTAX_ERROR);
		ck_assert_msg(res.line == cases[i].line,
		    "case %zu: line %d, want %d (%s)", i, res.line,
		    cases[i].line, res.message);
		ck_assert_msg(res.message[0] != '\0', "no message");
		sandbox_result_free(&res);
	}
}
END_TEST

START_TEST(test_load_no_handler)
{
	static const char *const srcs[] = { "", "var x = 1;",
	    "module.exports = 42;", "exports.handler = function () {};",
	    "var action = 5;" };
	struct sandbox_result	res;
	size_t			i;

	for (i = 0; i < NELEM(srcs); i++) {
		ck_assert_int_eq(load_fail(srcs[i], NULL, &res), -1);
		ck_assert_msg(res.outcome == OUT_NO_HANDLER,
		    "[%s]: outcome %s", srcs[i], oname(res.outcome));
		sandbox_result_free(&res);
	}
}
END_TEST

START_TEST(test_load_top_level_throw)
{
	struct sandbox_result	res;

	ck_assert_int_eq(load_fail("var x = 1;\nthrow new Error('top boom');\n"
	    "module.exports = function (req, res) {};", NULL, &res), -1);
	ck_outcome(res, OUT_FUNCTION_ERROR);
	ck_assert_msg(strstr(res.message, "top boom") != NULL, "message: %s",
	    res.message);
	sandbox_result_free(&res);

	ck_assert_int_eq(load_fail("throw 'plain string';", NULL, &res), -1);
	ck_outcome(res, OUT_FUNCTION_ERROR);
	ck_assert_msg(strstr(res.message, "plain string") != NULL,
	    "message: %s", res.message);
	sandbox_result_free(&res);
}
END_TEST

START_TEST(test_load_timeout)
{
	struct sandbox_limits	lim = limits(32 * MiB, 200, 6 * MiB, 64 * KiB);
	struct sandbox_result	res;

	ck_assert_int_eq(load_fail("while (true) {}\n"
	    "module.exports = function (req, res) {};", &lim, &res), -1);
	ck_outcome(res, OUT_TIMEOUT);
	sandbox_result_free(&res);

	ck_assert_int_eq(load_fail("for (;;) { try { while (true) {} }"
	    " catch (e) {} }", &lim, &res), -1);
	ck_outcome(res, OUT_TIMEOUT);
	sandbox_result_free(&res);
}
END_TEST

START_TEST(test_load_memory_limit)
{
	struct sandbox_limits	lim = limits(4 * MiB, 10000, 6 * MiB, 64 * KiB);
	struct sandbox_result	res;

	ck_assert_int_eq(load_fail("var s = new Array(1e4).join('x');"
	    " var a = []; for (;;) a.push(s + a.length);", &lim, &res), -1);
	ck_outcome(res, OUT_MEMORY_LIMIT);
	sandbox_result_free(&res);
}
END_TEST

START_TEST(test_new_too_small)
{
	struct sandbox_limits	lim = limits(16 * KiB, 1000, 6 * MiB, 64 * KiB);

	ck_assert_ptr_null(sandbox_new(&lim));
}
END_TEST

/* A cap just below or above what a new heap needs: refused or made, never
 * a crash (an allocation refused while Duktape made its built-ins once
 * recursed until the stack overflowed), and a heap made is within it. */
START_TEST(test_new_near_its_size)
{
	struct sandbox_limits	lim = limits(0, 1000, 6 * MiB, 64 * KiB);
	struct sandbox		*sb;
	size_t			 kb, made = 0;

	for (kb = 1; kb <= 160; kb++) {
		lim.memory_bytes = kb * KiB;
		if ((sb = sandbox_new(&lim)) == NULL)
			continue;
		made++;
		ck_assert_uint_le(sandbox_memory_used(sb), lim.memory_bytes);
		sandbox_free(sb);
	}
	ck_assert_uint_gt(made, 0);
	ck_assert_uint_lt(made, 160);
}
END_TEST

START_TEST(test_load_bytecode_roundtrip)
{
	const char		*src = "var greeting = 'hello';\n"
	    "module.exports = function (req, res) {"
	    " res.send(greeting + ' ' + req.body, 203); };\n";
	struct sandbox		*a = new_sb(NULL), *b = new_sb(NULL);
	struct sandbox_request	 rq = PLAIN_RQ;
	struct sandbox_result	 res;
	void			*bc = NULL;
	size_t			 bclen = 0;

	ck_assert_int_eq(sandbox_load(a, src, strlen(src), "test.js", &bc,
	    &bclen, &res), 0);
	sandbox_result_free(&res);
	ck_assert_ptr_nonnull(bc);
	ck_assert_uint_gt(bclen, 0);
	ck_assert_int_eq(sandbox_load_bytecode(b, bc, bclen, &res), 0);
	sandbox_result_free(&res);
	rq.body = "bytecode";
	rq.body_len = 8;
	ck_assert_int_eq(sandbox_call(b, &rq, &res), 0);
	ck_assert_int_eq(res.status, 203);
	ck_assert_uint_eq(res.body_len, strlen("hello bytecode"));
	ck_assert_mem_eq(res.body, "hello bytecode", res.body_len);
	sandbox_result_free(&res);
	free(bc);
	sandbox_free(a);
	sandbox_free(b);

	/* a failed compile returns no dump */
	a = new_sb(NULL);
	bc = (void *)1;
	ck_assert_int_eq(sandbox_load(a, "var = ;", 7, "test.js", &bc, &bclen,
	    &res), -1);
	ck_outcome(res, OUT_SYNTAX_ERROR);
	ck_assert_ptr_null(bc);
	sandbox_result_free(&res);
	sandbox_free(a);
}
END_TEST

/* ---- module scope (README "The JavaScript") ------------------------- */

START_TEST(test_module_top_level_is_not_global)
{
	/* Top-level declarations are the module's; globalThis.x still makes
	 * a global. */
	run_expect_body("var topvar = 1; function helper() {}\n"
	    "globalThis.made = 2;\n"
	    "module.exports = function (req, res) {"
	    " res.send([typeof globalThis.topvar, typeof globalThis.helper,"
	    " typeof topvar, typeof helper, typeof globalThis.made,"
	    " typeof made].join(',')); };", NULL,
	    "undefined,undefined,number,function,number,number");
}
END_TEST

START_TEST(test_module_state_kept_across_calls)
{
	struct sandbox		*sb = loaded("var n = 0;\n"
	    "module.exports = function (req, res) { n++; res.send(String(n)); };",
	    NULL);
	struct sandbox_result	 res;
	int			 i;

	for (i = 1; i <= 3; i++) {
		ck_assert_int_eq(sandbox_call(sb, &PLAIN_RQ, &res), 0);
		ck_assert_uint_eq(res.body_len, 1);
		ck_assert_int_eq(res.body[0], '0' + i);
		sandbox_result_free(&res);
	}
	sandbox_free(sb);
}
END_TEST

START_TEST(test_module_this_and_exports)
{
	struct sandbox_result	res;

	/* this at the top level is exports, as in Node */
	run_expect_body("this.default = function (req, res) {"
	    " res.send(String(module.exports === exports)); };", NULL, "true");
	/* exports replaced by module.exports: the new one is the handler */
	run_expect_body("exports.default = 1;\n"
	    "module.exports = function (req, res) { res.send('m'); };", NULL,
	    "m");
	/* reassigning the exports parameter is a local: no handler */
	ck_assert_int_eq(load_fail("exports = { default: function (req, res) {"
	    " res.send('x'); } };", NULL, &res), -1);
	ck_outcome(res, OUT_NO_HANDLER);
	sandbox_result_free(&res);
}
END_TEST

START_TEST(test_module_use_strict_applies)
{
	run_expect_body("'use strict';\n"
	    "module.exports = function (req, res) {"
	    " try { undeclared = 1; res.send('sloppy'); }"
	    " catch (e) { res.send(e.name); } };", NULL, "ReferenceError");
	run_expect_body("module.exports = function (req, res) {"
	    " try { undeclared2 = 1; res.send('sloppy'); }"
	    " catch (e) { res.send(e.name); } };", NULL, "sloppy");
}
END_TEST

START_TEST(test_module_action_found)
{
	struct sandbox_result	res;

	/* a module-scope action, a global one, and a module's over a
	 * global's */
	run_expect_body("var greeting = 'hi';\n"
	    "function action(req, res) { res.send(greeting); }", NULL, "hi");
	run_expect_body("globalThis.action = function (req, res) {"
	    " res.send('global'); };", NULL, "global");
	run_expect_body("globalThis.action = function (req, res) {"
	    " res.send('global'); };\n"
	    "var action = function (req, res) { res.send('module'); };",
	    NULL, "module");
	/* an action that is not a function is no handler, whatever
	 * undefined was made to be */
	ck_assert_int_eq(load_fail("var undefined = function (req, res) {"
	    " res.send('u'); }; var action = 1;", NULL, &res), -1);
	ck_outcome(res, OUT_NO_HANDLER);
	sandbox_result_free(&res);
}
END_TEST

START_TEST(test_module_lines_unchanged)
{
	struct sandbox_result	res;

	/* a runtime error's stack names the source's own line */
	ck_assert_int_eq(run("\n\nmodule.exports = function (req, res) {\n"
	    "  throw new Error('boom');\n};", NULL, NULL, &res), -1);
	ck_outcome(res, OUT_FUNCTION_ERROR);
	ck_assert_ptr_nonnull(res.stack);
	ck_assert_msg(strstr(res.stack, "test.js:4") != NULL, "stack %s",
	    res.stack);
	sandbox_result_free(&res);
	/* and so does one of the top level's */
	ck_assert_int_eq(load_fail("var a = 1;\nnull.x;\n", NULL, &res), -1);
	ck_outcome(res, OUT_FUNCTION_ERROR);
	ck_assert_ptr_nonnull(res.stack);
	ck_assert_msg(strstr(res.stack, "test.js:2") != NULL, "stack %s",
	    res.stack);
	sandbox_result_free(&res);
}
END_TEST

/* Sources that would end the module function early, leave it open or
 * return from it: each is a syntax error, and none of it runs (the
 * global marker stays unset in the heap). */
START_TEST(test_hostile_module_wrapper_breaking)
{
	static const char *const srcs[] = {
		"}",
		"});",
		"}\nglobalThis.ran = 1;\nfunction x() {",
		"}; globalThis.ran = 1; (function () {",
		"globalThis.ran = 1; module.exports = function (req, res) {"
		    " res.send('x'); }; }",
		"globalThis.ran = 1; function action(req, res) {} /*",
		"globalThis.ran = 1; function action(req, res) {} /* */ */",
		"globalThis.ran = 1; var s = 'unterminated",
		"globalThis.ran = 1; var r = /unterminated",
		"globalThis.ran = 1; return function (req, res) {"
		    " res.send('spoof'); };",
		"globalThis.ran = 1; if (1)",
		"globalThis.ran = 1; (",
		"globalThis.ran = 1; {",
		"globalThis.ran = 1; function action(req, res) {}\n"
		    "})(); (function () {",
	};
	struct sandbox_result	res;
	struct sandbox		*sb;
	size_t			i;

	for (i = 0; i < NELEM(srcs); i++) {
		sb = new_sb(NULL);
		ck_assert_msg(sandbox_load(sb, srcs[i], strlen(srcs[i]),
		    "test.js", NULL, NULL, &res) == -1, "%s: loaded", srcs[i]);
		ck_assert_msg(res.outcome == OUT_SYNTAX_ERROR,
		    "%s: outcome %s (%s)", srcs[i], oname(res.outcome),
		    res.message);
		sandbox_result_free(&res);
		duk_push_global_object(sb->ctx);
		ck_assert_msg(!duk_has_prop_string(sb->ctx, -1, "ran"),
		    "%s: ran", srcs[i]);
		duk_pop(sb->ctx);
		sandbox_free(sb);
	}
	/* a last line that is a comment still ends where it should */
	run_expect_body("module.exports = function (req, res) {"
	    " res.send('c'); }; // the end", NULL, "c");
	run_expect_body("function action(req, res) { res.send('d'); }\n"
	    "/* the end */", NULL, "d");
}
END_TEST

/* A program's bytecode, as sources were compiled before the module
 * function (and as typescript.js still is), is refused, never run. */
static duk_ret_t
program_dump_safe(duk_context *ctx, void *udata)
{
	duk_push_string(ctx, udata);
	duk_push_string(ctx, "old.js");
	duk_compile(ctx, 0);
	duk_dump_function(ctx);
	return 1;
}

START_TEST(test_load_bytecode_of_a_program_refused)
{
	struct sandbox		*sb = new_sb(NULL), *old = new_sb(NULL);
	struct sandbox_result	 res;
	const void		*p;
	void			*bc;
	duk_size_t		 n;

	ck_assert_int_eq(duk_safe_call(old->ctx, program_dump_safe,
	    (void *)"globalThis.ran = 1;\n"
	    "module.exports = function (req, res) { res.send('old'); };",
	    0, 1), DUK_EXEC_SUCCESS);
	p = duk_get_buffer(old->ctx, -1, &n);
	ck_assert_ptr_nonnull(p);
	bc = malloc(n);
	memcpy(bc, p, n);
	ck_assert_int_eq(sandbox_load_bytecode(sb, bc, n, &res), -1);
	ck_outcome(res, OUT_FUNCTION_ERROR);
	ck_assert_msg(strstr(res.message, "module function") != NULL,
	    "message %s", res.message);
	sandbox_result_free(&res);
	duk_push_global_object(sb->ctx);
	ck_assert(!duk_has_prop_string(sb->ctx, -1, "ran"));
	duk_pop(sb->ctx);
	free(bc);
	sandbox_free(old);
	sandbox_free(sb);
}
END_TEST

/* ---- call: req ----------------------------------------------------- */

START_TEST(test_call_req_fields)
{
	static const struct sandbox_kv query[] = {
		{ "x", "1", 1 }, { "y", "a b", 3 }, { "n", "a\0b", 3 } };
	static const struct sandbox_kv headers[] = {
		{ "content-type", "application/json", 16 },
		{ "x-trace", "t1", 2 } };
	static const struct sandbox_kv env[] = { { "API_KEY", "s3cret", 6 } };
	static const char body[] = "{\"k\":[1,2]}";
	struct sandbox_request rq = { "POST", "/invoke/p/r/f", query, 3,
	    headers, 2, body, sizeof(body) - 1, env, 1, NULL };

	run_expect_body("module.exports = function (req, res) {"
	    " res.send(JSON.stringify({ method: req.method, path: req.path,"
	    " query: req.query, headers: req.headers, body: req.body,"
	    " env: req.env })); };", &rq,
	    "{\"method\":\"POST\",\"path\":\"/invoke/p/r/f\","
	    "\"query\":{\"x\":\"1\",\"y\":\"a b\",\"n\":\"a\\u0000b\"},"
	    "\"headers\":{\"content-type\":\"application/json\","
	    "\"x-trace\":\"t1\"},"
	    "\"body\":\"{\\\"k\\\":[1,2]}\","
	    "\"env\":{\"API_KEY\":\"s3cret\"}}");
}
END_TEST

START_TEST(test_call_req_empty)
{
	/* No query, headers or env: empty objects, never undefined. */
	run_expect_body("module.exports = function (req, res) {"
	    " res.send([typeof req.query, typeof req.headers, typeof req.env,"
	    " Object.keys(req.query).length, Object.keys(req.env).length,"
	    " JSON.stringify(req.body)].join(',')); };", NULL,
	    "object,object,object,0,0,\"\"");
}
END_TEST

START_TEST(test_call_req_body_bytes)
{
	static const char body[] = "caf\xc3\xa9";
	struct sandbox_request rq = PLAIN_RQ;

	rq.body = body;
	rq.body_len = sizeof(body) - 1;
	/* UTF-8 body: 4 characters, é intact */
	run_expect_body("module.exports = function (req, res) {"
	    " res.send(req.body.length + ':' + req.body.charCodeAt(3)); };",
	    &rq, "4:233");
}
END_TEST

START_TEST(test_call_payload)
{
	static const struct { const char *body; const char *want; } cases[] = {
		{ "{\"a\":[1,2],\"b\":{\"c\":true}}",
		  "object:{\"a\":[1,2],\"b\":{\"c\":true}}" },
		{ "[1,\"two\"]", "object:[1,\"two\"]" },
		{ "hello", "string:\"hello\"" },
		{ "{bad json", "string:\"{bad json\"" },
		{ "", "string:\"\"" },
		{ "42", "number:42" },
	};
	const char *src = "module.exports = function (req, res) {"
	    " res.send(typeof req.payload + ':' + JSON.stringify(req.payload));"
	    " };";
	struct sandbox_request	rq = PLAIN_RQ;
	size_t			i;

	for (i = 0; i < NELEM(cases); i++) {
		rq.body = cases[i].body;
		rq.body_len = strlen(cases[i].body);
		run_expect_body(src, &rq, cases[i].want);
	}
}
END_TEST

/* req.payload behaves as the data property it was: the same value on
 * every read whatever this is, assignable (then a data property),
 * deletable, enumerable in its place (sandbox_json.c). */
START_TEST(test_call_payload_accessor)
{
	const char *src = "module.exports = function (req, res) {\n"
	    "  var d = Object.getOwnPropertyDescriptor(req, 'payload');\n"
	    "  var o = [];\n"
	    "  o.push(Object.keys(req).join());\n"
	    "  o.push(d.enumerable && d.configurable);\n"
	    "  o.push(req.payload === req.payload);\n"
	    "  o.push(d.get.call(1) === req.payload);\n"
	    "  o.push(new Proxy(req, {}).payload === req.payload);\n"
	    "  o.push(Object.create(req).payload === req.payload);\n"
	    "  o.push(JSON.stringify(req).indexOf('\"payload\":{\"a\":1}') > 0);\n"
	    "  req.body = 'changed';\n"
	    "  o.push(req.payload.a);\n"
	    "  req.payload.a = 2;\n"
	    "  o.push(req.payload.a);\n"
	    "  req.payload = undefined;\n"
	    "  o.push(req.payload);\n"
	    "  req.payload = 'set';\n"
	    "  d = Object.getOwnPropertyDescriptor(req, 'payload');\n"
	    "  o.push(d.value, d.writable && d.enumerable && d.configurable);\n"
	    "  res.send(JSON.stringify(o));\n"
	    "};";
	struct sandbox_request	rq = PLAIN_RQ;

	rq.body = "{\"a\":1}";
	rq.body_len = strlen(rq.body);
	run_expect_body(src, &rq, "[\"method,path,query,headers,body,payload,"
	    "env\",true,true,true,true,true,true,1,2,null,\"set\",true]");
	/* Frozen before the first read, deleted. */
	run_expect_body("module.exports = function (req, res) {"
	    " Object.freeze(req); var a = req.payload.a;"
	    " Object.freeze(Object.getOwnPropertyDescriptor(req, 'payload')"
	    ".get); res.send(a + ':' + (req.payload === req.payload)); };",
	    &rq, "1:true");
	run_expect_body("module.exports = function (req, res) {"
	    " delete req.payload; res.send(String('payload' in req)); };",
	    &rq, "false");
}
END_TEST

/* The body is parsed only when the function reads req.payload: a function
 * that does not, on a large JSON body, peaks far lower than one that
 * does. */
START_TEST(test_call_payload_lazy)
{
	struct sandbox_request	 rq = PLAIN_RQ;
	struct sandbox_result	 res;
	struct sandbox		*sb;
	char			*body;
	size_t			 i, n = 100000, peak[2];

	body = malloc(2 * n + 2);
	ck_assert_ptr_nonnull(body);
	body[0] = '[';
	for (i = 0; i < n; i++) {
		body[1 + 2 * i] = '7';
		body[2 + 2 * i] = i + 1 < n ? ',' : ']';
	}
	rq.body = body;
	rq.body_len = 2 * n + 1;
	for (i = 0; i < 2; i++) {
		sb = loaded(i == 0 ? "module.exports = function (req, res) {"
		    " res.send(String(req.body.length)); };" :
		    "module.exports = function (req, res) {"
		    " res.send(String(req.payload.length)); };", NULL);
		ck_assert_int_eq(sandbox_call(sb, &rq, &res), 0);
		ck_assert_str_eq(res.body, i == 0 ? "200001" : "100000");
		peak[i] = sandbox_memory_peak(sb);
		sandbox_result_free(&res);
		sandbox_free(sb);
	}
	/* The parsed array alone holds 100,000 values of 8 bytes or more. */
	ck_assert_msg(peak[1] > peak[0] + 8 * n, "peaks %zu (body only), %zu "
	    "(payload read)", peak[0], peak[1]);
	free(body);
}
END_TEST

/* The global JSON.parse (json_fast.c first, the engine's behind it) keeps
 * the built-in's face and its every behaviour: reviver, coercion of
 * other arguments, the engine's errors. */
START_TEST(test_call_json_parse_global)
{
	const char *src = "module.exports = function (req, res) {\n"
	    "  var o = [], d = Object.getOwnPropertyDescriptor(JSON, 'parse');\n"
	    "  function err(f) { try { f(); return 'none'; }\n"
	    "    catch (e) { return e.name; } }\n"
	    "  o.push(d.writable && !d.enumerable && d.configurable);\n"
	    "  o.push(JSON.parse.name, JSON.parse.length, typeof JSON.parse);\n"
	    "  o.push(JSON.parse('{\"a\":[1,2.5,-0]}').a[1]);\n"
	    "  o.push(1 / JSON.parse('-0'));\n"
	    "  o.push(JSON.parse('{\"a\":1,\"b\":2}', function (k, v) {\n"
	    "    return typeof v === 'number' ? v * 10 : v; }).b);\n"
	    "  o.push(JSON.parse('[1]', 'not callable')[0]);\n"
	    "  o.push(JSON.parse(new String('[3]'))[0]);\n"
	    "  o.push(JSON.parse({ toString: function () { return '4'; } }));\n"
	    "  o.push(JSON.parse(5), JSON.parse(null), JSON.parse(true));\n"
	    "  o.push(err(function () { JSON.parse(); }));\n"
	    "  o.push(err(function () { JSON.parse('{bad'); }));\n"
	    "  o.push(err(function () { JSON.parse(Symbol('x')); }));\n"
	    "  o.push(err(function () { new JSON.parse('1'); }));\n"
	    "  o.push(Object.getPrototypeOf(JSON.parse('{}')) ===\n"
	    "    Object.prototype);\n"
	    "  o.push(JSON.parse('{\"__proto__\":1}').hasOwnProperty("
	    "'__proto__'));\n"
	    "  res.send(JSON.stringify(o));\n"
	    "};";

	run_expect_body(src, NULL, "[true,\"parse\",2,\"function\",2.5,"
	    "null,20,1,3,4,5,null,true,\"SyntaxError\",\"SyntaxError\","
	    "\"TypeError\",\"TypeError\",true,true]");
}
END_TEST

/* ---- call: res ----------------------------------------------------- */

START_TEST(test_call_send_status_headers)
{
	struct sandbox_result	res;

	ck_assert_int_eq(run("module.exports = function (req, res) {"
	    " res.send('created', 201, { 'X-A': '1', 'x-b': 'two' }); };",
	    NULL, NULL, &res), 0);
	ck_outcome(res, OUT_OK);
	ck_assert_int_eq(res.status, 201);
	ck_assert_uint_eq(res.body_len, 7);
	ck_assert_mem_eq(res.body, "created", 7);
	ck_assert_str_eq(header_of(&res, "X-A"), "1");
	ck_assert_str_eq(header_of(&res, "x-b"), "two");
	sandbox_result_free(&res);

	/* boundaries of the status range (SPEC §5: 200-599; a 1xx would
	 * let the function forge a second response, issue 8) */
	ck_assert_int_eq(run("module.exports = function (req, res) {"
	    " res.send('', 200); };", NULL, NULL, &res), 0);
	ck_assert_int_eq(res.status, 200);
	sandbox_result_free(&res);
	ck_assert_int_eq(run("module.exports = function (req, res) {"
	    " res.send('HTTP/1.1 200 OK', 100); };", NULL, NULL, &res), -1);
	ck_outcome(res, OUT_FUNCTION_ERROR);
	sandbox_result_free(&res);
	ck_assert_int_eq(run("module.exports = function (req, res) {"
	    " res.send('', 199); };", NULL, NULL, &res), -1);
	ck_outcome(res, OUT_FUNCTION_ERROR);
	sandbox_result_free(&res);
	ck_assert_int_eq(run("module.exports = function (req, res) {"
	    " res.send('', 599); };", NULL, NULL, &res), 0);
	ck_assert_int_eq(res.status, 599);
	sandbox_result_free(&res);
}
END_TEST

START_TEST(test_call_default_content_type)
{
	struct sandbox_result	res;
	const char		*ct;

	ck_assert_int_eq(run("module.exports = function (req, res) {"
	    " res.send('hi'); };", NULL, NULL, &res), 0);
	ck_assert_int_eq(res.status, 200);
	ct = header_of(&res, "content-type");
	ck_assert_ptr_nonnull(ct);
	ck_assert_msg(strncmp(ct, "text/plain", 10) == 0, "ct %s", ct);
	sandbox_result_free(&res);

	/* an explicit Content-Type is kept, once */
	ck_assert_int_eq(run("module.exports = function (req, res) {"
	    " res.send('<b>', 200, { 'Content-Type': 'text/html' }); };",
	    NULL, NULL, &res), 0);
	ck_assert_str_eq(header_of(&res, "content-type"), "text/html");
	sandbox_result_free(&res);
}
END_TEST

START_TEST(test_call_json)
{
	struct sandbox_result	 res;
	const char		*ct;

	ck_assert_int_eq(run("module.exports = function (req, res) {"
	    " res.json({ a: 1, b: [true, null] }, 202, { 'X-J': 'y' }); };",
	    NULL, NULL, &res), 0);
	ck_outcome(res, OUT_OK);
	ck_assert_int_eq(res.status, 202);
	ck_assert_uint_eq(res.body_len, strlen("{\"a\":1,\"b\":[true,null]}"));
	ck_assert_mem_eq(res.body, "{\"a\":1,\"b\":[true,null]}", res.body_len);
	ct = header_of(&res, "content-type");
	ck_assert_ptr_nonnull(ct);
	ck_assert_msg(strncmp(ct, "application/json", 16) == 0, "ct %s", ct);
	ck_assert_str_eq(header_of(&res, "x-j"), "y");
	sandbox_result_free(&res);

	ck_assert_int_eq(run("module.exports = function (req, res) {"
	    " res.json('str'); };", NULL, NULL, &res), 0);
	ck_assert_int_eq(res.status, 200);
	ck_assert_uint_eq(res.body_len, 5);
	ck_assert_mem_eq(res.body, "\"str\"", 5);
	sandbox_result_free(&res);
}
END_TEST

START_TEST(test_call_send_twice)
{
	run_expect_outcome("module.exports = function (req, res) {"
	    " res.send('a'); res.send('b'); };", NULL, NULL,
	    OUT_FUNCTION_ERROR);
	run_expect_outcome("module.exports = function (req, res) {"
	    " res.send('a'); try { res.send('b'); } catch (e) {} };", NULL,
	    NULL, OUT_FUNCTION_ERROR);
	run_expect_outcome("module.exports = function (req, res) {"
	    " res.json(1); try { res.json(2); } catch (e) {} };", NULL,
	    NULL, OUT_FUNCTION_ERROR);
	run_expect_outcome("module.exports = function (req, res) {"
	    " res.send('a'); try { res.json(2); } catch (e) {} };", NULL,
	    NULL, OUT_FUNCTION_ERROR);
}
END_TEST

START_TEST(test_call_no_send)
{
	run_expect_outcome("module.exports = function (req, res) {};", NULL,
	    NULL, OUT_NO_RESPONSE);
	run_expect_outcome("module.exports = function (req, res) {"
	    " return 'a return value is not an answer'; };", NULL, NULL,
	    OUT_NO_RESPONSE);
}
END_TEST

START_TEST(test_call_throw)
{
	struct sandbox_result	res;

	ck_assert_int_eq(run("module.exports = function (req, res) {\n"
	    "  function inner() { throw new Error('boom'); }\n"
	    "  inner();\n"
	    "};", NULL, NULL, &res), -1);
	ck_outcome(res, OUT_FUNCTION_ERROR);
	ck_assert_msg(strstr(res.message, "boom") != NULL, "message %s",
	    res.message);
	ck_assert_ptr_nonnull(res.stack);
	ck_assert_msg(strstr(res.stack, "boom") != NULL ||
	    strstr(res.stack, "inner") != NULL, "stack %s", res.stack);
	ck_assert_ptr_null(res.body);
	sandbox_result_free(&res);

	/* thrown after sending: still an error, and no partial body */
	run_expect_outcome("module.exports = function (req, res) {"
	    " res.send('half'); throw new TypeError('late'); };", NULL, NULL,
	    OUT_FUNCTION_ERROR);
	/* a non-Error value */
	run_expect_outcome("module.exports = function (req, res) {"
	    " throw 42; };", NULL, NULL, OUT_FUNCTION_ERROR);
}
END_TEST

START_TEST(test_call_bad_status)
{
	static const char *const bad[] = { "99", "600", "1.5", "0", "-200",
	    "NaN", "Infinity", "1e3", "199.999" };
	char	src[256];
	size_t	i;

	for (i = 0; i < NELEM(bad); i++) {
		snprintf(src, sizeof(src), "module.exports = function (req, res)"
		    " { res.send('x', %s); };", bad[i]);
		run_expect_outcome(src, NULL, NULL, OUT_FUNCTION_ERROR);
		snprintf(src, sizeof(src), "module.exports = function (req, res)"
		    " { res.json({}, %s); };", bad[i]);
		run_expect_outcome(src, NULL, NULL, OUT_FUNCTION_ERROR);
	}
}
END_TEST

START_TEST(test_call_bad_headers)
{
	static const char *const bad[] = { "{ 'X A': '1' }",
	    "{ 'X-A': 'a\\r\\nX-Injected: 1' }", "{ 'X-A': 'a\\nb' }",
	    "{ 'X-A': 'a\\rb' }", "{ '': 'v' }", "{ 'X:A': 'v' }",
	    "{ 'X-A\\r\\nX-B': 'v' }", "{ 'X-A': 'a\\u0000b' }",
	    "{ 'Ok': '1', 'X A': '2' }" };
	char	src[256];
	size_t	i;

	for (i = 0; i < NELEM(bad); i++) {
		snprintf(src, sizeof(src), "module.exports = function (req, res)"
		    " { res.send('x', 200, %s); };", bad[i]);
		run_expect_outcome(src, NULL, NULL, OUT_FUNCTION_ERROR);
	}
}
END_TEST

/*
 * Regression (bug found by this test): a send that failed (bad header) and
 * was caught must leave nothing behind: the answer of the next, valid send
 * carries only its own headers. take_headers() in sandbox_api.c used to
 * append each valid header to the result before reaching the bad one, so
 * X-Good from the failed send ended up in the final answer.
 */
START_TEST(test_call_failed_send_leaves_no_headers)
{
	struct sandbox_result	res;

	ck_assert_int_eq(run("module.exports = function (req, res) {"
	    " try { res.send('a', 200, { 'X-Good': '1', 'X Bad': '2' }); }"
	    " catch (e) {}"
	    " res.send('b', 201); };", NULL, NULL, &res), 0);
	ck_outcome(res, OUT_OK);
	ck_assert_int_eq(res.status, 201);
	ck_assert_mem_eq(res.body, "b", 1);
	ck_assert_msg(header_of(&res, "X-Good") == NULL,
	    "header from the failed send leaked into the answer");
	ck_assert_ptr_nonnull(header_of(&res, "content-type"));
	sandbox_result_free(&res);
}
END_TEST

START_TEST(test_call_response_too_large)
{
	struct sandbox_limits	lim = limits(32 * MiB, 1000, 1000, 64 * KiB);
	struct sandbox_result	res;

	run_expect_outcome("module.exports = function (req, res) {"
	    " res.send(new Array(1002).join('x')); };", &lim, NULL,
	    OUT_RESPONSE_TOO_LARGE);
	run_expect_outcome("module.exports = function (req, res) {"
	    " try { res.send(new Array(1002).join('x')); }"
	    " catch (e) { if (!(e instanceof RangeError)) throw e; } };",
	    &lim, NULL, OUT_RESPONSE_TOO_LARGE);
	run_expect_outcome("module.exports = function (req, res) {"
	    " try { res.send(new Array(1002).join('x')); } catch (e) {}"
	    " res.send('small'); };", &lim, NULL, OUT_RESPONSE_TOO_LARGE);
	/* res.json counts the encoded body: 999 chars + 2 quotes */
	run_expect_outcome("module.exports = function (req, res) {"
	    " res.json(new Array(1000).join('x')); };", &lim, NULL,
	    OUT_RESPONSE_TOO_LARGE);
	/* bytes, not characters: 501 x U+00E9 is 1002 bytes */
	run_expect_outcome("module.exports = function (req, res) {"
	    " res.send(new Array(502).join('\\u00e9')); };", &lim, NULL,
	    OUT_RESPONSE_TOO_LARGE);

	/* exactly the limit is fine */
	ck_assert_int_eq(run("module.exports = function (req, res) {"
	    " res.send(new Array(1001).join('x')); };", &lim, NULL, &res), 0);
	ck_assert_uint_eq(res.body_len, 1000);
	sandbox_result_free(&res);
	ck_assert_int_eq(run("module.exports = function (req, res) {"
	    " res.send(new Array(501).join('\\u00e9')); };", &lim, NULL,
	    &res), 0);
	ck_assert_uint_eq(res.body_len, 1000);
	ck_assert_mem_eq(res.body, "\xc3\xa9\xc3\xa9", 4);
	sandbox_result_free(&res);
}
END_TEST

START_TEST(test_call_saved_res)
{
	const char *src =
	    "var saved = null;\n"
	    "module.exports = function (req, res) {\n"
	    "  if (saved === null) { saved = res; res.send('first', 201);"
	    " return; }\n"
	    "  if (req.body === 'caught') {\n"
	    "    try { saved.send('second', 202); } catch (e) {}\n"
	    "    try { saved.json('second', 202); } catch (e) {}\n"
	    "    return;\n"
	    "  }\n"
	    "  saved.send('third', 203);\n"
	    "};\n";
	struct sandbox		*sb = loaded(src, NULL);
	struct sandbox_request	 rq = PLAIN_RQ;
	struct sandbox_result	 r1, r2, r3;

	ck_assert_int_eq(sandbox_call(sb, &rq, &r1), 0);
	ck_outcome(r1, OUT_OK);
	ck_assert_int_eq(r1.status, 201);

	rq.body = "caught";
	rq.body_len = 6;
	ck_assert_int_eq(sandbox_call(sb, &rq, &r2), -1);
	ck_assert_msg(r2.outcome == OUT_NO_RESPONSE ||
	    r2.outcome == OUT_FUNCTION_ERROR, "outcome %s", oname(r2.outcome));
	ck_assert_ptr_null(r2.body);

	rq.body = "";
	rq.body_len = 0;
	ck_assert_int_eq(sandbox_call(sb, &rq, &r3), -1);
	ck_assert_msg(r3.outcome == OUT_NO_RESPONSE ||
	    r3.outcome == OUT_FUNCTION_ERROR, "outcome %s", oname(r3.outcome));
	ck_assert_ptr_null(r3.body);

	/* the first answer is untouched */
	ck_outcome(r1, OUT_OK);
	ck_assert_int_eq(r1.status, 201);
	ck_assert_uint_eq(r1.body_len, 5);
	ck_assert_mem_eq(r1.body, "first", 5);
	sandbox_result_free(&r1);
	sandbox_result_free(&r2);
	sandbox_result_free(&r3);
	sandbox_free(sb);
}
END_TEST

START_TEST(test_call_reuse_heap)
{
	struct sandbox		*sb = loaded("var n = 0;"
	    " module.exports = function (req, res) { n++; res.send('' + n); };",
	    NULL);
	struct sandbox_result	 res;
	char			 want[16];
	int			 i;

	for (i = 1; i <= 50; i++) {
		ck_assert_int_eq(sandbox_call(sb, &PLAIN_RQ, &res), 0);
		snprintf(want, sizeof(want), "%d", i);
		ck_assert_uint_eq(res.body_len, strlen(want));
		ck_assert_mem_eq(res.body, want, res.body_len);
		sandbox_result_free(&res);
	}
	sandbox_free(sb);
}
END_TEST

START_TEST(test_call_recursion)
{
	struct sandbox		*sb = loaded(
	    "module.exports = function (req, res) {\n"
	    "  if (req.body === 'recurse') {\n"
	    "    var f = function (n) { return f(n + 1) + 1; };\n"
	    "    f(0);\n"
	    "  }\n"
	    "  res.send('ok');\n"
	    "};\n", NULL);
	struct sandbox_request	 rq = PLAIN_RQ;
	struct sandbox_result	 res;

	rq.body = "recurse";
	rq.body_len = 7;
	ck_assert_int_eq(sandbox_call(sb, &rq, &res), -1);
	ck_outcome(res, OUT_FUNCTION_ERROR);
	ck_assert_msg(strstr(res.message, "RangeError") != NULL,
	    "message %s", res.message);
	sandbox_result_free(&res);

	/* the heap is still usable */
	ck_assert_int_eq(sandbox_call(sb, &PLAIN_RQ, &res), 0);
	ck_outcome(res, OUT_OK);
	ck_assert_mem_eq(res.body, "ok", 2);
	sandbox_result_free(&res);
	sandbox_free(sb);
}
END_TEST

/* ---- deadline ------------------------------------------------------ */

static const struct sandbox_limits *
short_deadline(void)
{
	static struct sandbox_limits	lim;

	lim = limits(32 * MiB, 200, 6 * MiB, 64 * KiB);
	return &lim;
}

START_TEST(test_timeout_loop)
{
	run_expect_outcome("module.exports = function (req, res) {"
	    " while (true) {} };", short_deadline(), NULL, OUT_TIMEOUT);
	run_expect_outcome("module.exports = function (req, res) {"
	    " for (var i = 0; ; i++) { if (i < 0) res.send('never'); } };",
	    short_deadline(), NULL, OUT_TIMEOUT);
}
END_TEST

START_TEST(test_timeout_finally_loop)
{
	run_expect_outcome("module.exports = function (req, res) {"
	    " try { while (true) {} } finally { while (true) {} } };",
	    short_deadline(), NULL, OUT_TIMEOUT);
}
END_TEST

START_TEST(test_timeout_catch_continue)
{
	run_expect_outcome("module.exports = function (req, res) {"
	    " for (;;) { try { while (true) {} } catch (e) {} } };",
	    short_deadline(), NULL, OUT_TIMEOUT);
	/* caught, then returns without sending */
	run_expect_outcome("module.exports = function (req, res) {"
	    " try { while (true) {} } catch (e) {} };",
	    short_deadline(), NULL, OUT_TIMEOUT);
}
END_TEST

START_TEST(test_timeout_send_in_catch)
{
	/* sent first, then ran away: the answer is dropped */
	run_expect_outcome("module.exports = function (req, res) {"
	    " res.send('early'); while (true) {} };",
	    short_deadline(), NULL, OUT_TIMEOUT);
	run_expect_outcome("module.exports = function (req, res) {"
	    " try { while (true) {} } catch (e) { res.send('late'); } };",
	    short_deadline(), NULL, OUT_TIMEOUT);
	run_expect_outcome("module.exports = function (req, res) {"
	    " try { while (true) {} } finally { res.send('late', 200); } };",
	    short_deadline(), NULL, OUT_TIMEOUT);
}
END_TEST

/* ---- memory -------------------------------------------------------- */

START_TEST(test_memory_limit)
{
	struct sandbox_limits	 lim = limits(4 * MiB, 10000, 6 * MiB,
	    64 * KiB);
	struct sandbox		*sb = loaded("module.exports = function (req,"
	    " res) { var s = new Array(1e4).join('x'); var a = [];"
	    " for (;;) a.push(s + a.length); };", &lim);
	struct sandbox_result	 res;

	ck_assert_int_eq(sandbox_call(sb, &PLAIN_RQ, &res), -1);
	ck_outcome(res, OUT_MEMORY_LIMIT);
	ck_assert_ptr_null(res.body);
	ck_assert_uint_le(sandbox_memory_peak(sb), 4 * MiB);
	sandbox_result_free(&res);
	sandbox_free(sb);
}
END_TEST

START_TEST(test_memory_peak_trivial)
{
	struct sandbox		*sb = loaded("module.exports = function (req,"
	    " res) { res.send('ok'); };", NULL);
	struct sandbox_result	 res;
	size_t			 peak;

	ck_assert_int_eq(sandbox_call(sb, &PLAIN_RQ, &res), 0);
	sandbox_result_free(&res);
	peak = sandbox_memory_peak(sb);
	ck_assert_uint_gt(peak, 0);
	ck_assert_uint_lt(peak, 1 * MiB);
	ck_assert_uint_gt(sandbox_memory_used(sb), 0);
	ck_assert_uint_le(sandbox_memory_used(sb), peak);
	sandbox_free(sb);
}
END_TEST

/* ---- console ------------------------------------------------------- */

START_TEST(test_console_levels)
{
	struct sandbox		 *sb = loaded(
	    "module.exports = function (req, res) {\n"
	    "  console.log('a', 1, { b: 2 });\n"
	    "  console.info('i');\n"
	    "  console.warn('w', null, true);\n"
	    "  console.error('e', [1, 'x']);\n"
	    "  res.send('ok');\n"
	    "};\n", NULL);
	static const char *const want[][2] = {
		{ "log", "a 1 {\"b\":2}" }, { "info", "i" },
		{ "warn", "w null true" }, { "error", "e [1,\"x\"]" } };
	struct sandbox_result		 res;
	const struct sandbox_log	*log;
	size_t				 i;

	ck_assert_int_eq(sandbox_call(sb, &PLAIN_RQ, &res), 0);
	sandbox_result_free(&res);
	log = sandbox_log(sb);
	ck_assert_ptr_nonnull(log);
	ck_assert_uint_eq(log->n, NELEM(want));
	ck_assert_int_eq(log->truncated, 0);
	for (i = 0; i < NELEM(want); i++) {
		ck_assert_str_eq(log->entries[i].level, want[i][0]);
		ck_assert_uint_eq(log->entries[i].len, strlen(want[i][1]));
		ck_assert_mem_eq(log->entries[i].message, want[i][1],
		    log->entries[i].len);
	}
	sandbox_free(sb);
}
END_TEST

START_TEST(test_console_per_call)
{
	struct sandbox		 *sb = loaded(
	    "module.exports = function (req, res) {\n"
	    "  if (req.body === 'talk') console.log('said', req.body);\n"
	    "  var o = {}; o.self = o; console.log(o);\n"
	    "  res.send('ok');\n"
	    "};\n", NULL);
	struct sandbox_request		 rq = PLAIN_RQ;
	struct sandbox_result		 res;
	const struct sandbox_log	*log;

	rq.body = "talk";
	rq.body_len = 4;
	ck_assert_int_eq(sandbox_call(sb, &rq, &res), 0);
	sandbox_result_free(&res);
	log = sandbox_log(sb);
	ck_assert_uint_eq(log->n, 2);
	ck_assert_str_eq(log->entries[0].message, "said talk");
	/* a cyclic object is logged somehow, without failing the call */
	ck_assert_str_eq(log->entries[1].level, "log");

	/* the next call starts with an empty log */
	ck_assert_int_eq(sandbox_call(sb, &PLAIN_RQ, &res), 0);
	sandbox_result_free(&res);
	log = sandbox_log(sb);
	ck_assert_uint_eq(log->n, 1);
	sandbox_free(sb);
}
END_TEST

/* Entries within log_max, then one marker; returns the marker's length. */
static size_t
check_truncated_log(const struct sandbox_log *log, size_t log_max)
{
	size_t	i, sum = 0, marker;

	ck_assert_int_eq(log->truncated, 1);
	ck_assert_uint_ge(log->n, 1);
	for (i = 0; i < log->n; i++) {
		ck_assert_ptr_nonnull(log->entries[i].message);
		ck_assert_ptr_nonnull(log->entries[i].level);
		ck_assert_uint_eq(strlen(log->entries[i].message),
		    log->entries[i].len);
		sum += log->entries[i].len;
	}
	marker = log->entries[log->n - 1].len;
	ck_assert_msg(strstr(log->entries[log->n - 1].message, "truncat") !=
	    NULL, "last entry is not a marker: %s",
	    log->entries[log->n - 1].message);
	ck_assert_uint_le(sum - marker, log_max);
	ck_assert_uint_le(sum, log_max + marker);
	ck_assert_uint_le(log->bytes, log_max + marker);
	return marker;
}

START_TEST(test_console_truncated)
{
	struct sandbox_limits		 lim = limits(32 * MiB, 1000, 6 * MiB,
	    100);
	struct sandbox			*sb;
	struct sandbox_result		 res;
	const struct sandbox_log	*log;

	sb = loaded("module.exports = function (req, res) {"
	    " for (var i = 0; i < 100; i++) console.log('0123456789');"
	    " res.send('still ok'); };", &lim);
	ck_assert_int_eq(sandbox_call(sb, &PLAIN_RQ, &res), 0);
	ck_outcome(res, OUT_OK);
	sandbox_result_free(&res);
	log = sandbox_log(sb);
	check_truncated_log(log, 100);
	/* the first entries are complete */
	ck_assert_str_eq(log->entries[0].message, "0123456789");
	ck_assert_uint_lt(log->n, 20);
	sandbox_free(sb);

	/* one line longer than the whole allowance */
	sb = loaded("module.exports = function (req, res) {"
	    " console.warn(new Array(5000).join('y'));"
	    " console.log('after');"
	    " res.send('ok'); };", &lim);
	ck_assert_int_eq(sandbox_call(sb, &PLAIN_RQ, &res), 0);
	sandbox_result_free(&res);
	check_truncated_log(sandbox_log(sb), 100);
	sandbox_free(sb);
}
END_TEST

/* ---- isolation ----------------------------------------------------- */

START_TEST(test_no_engine_globals)
{
	struct sandbox_result	res;

	run_expect_body("module.exports = function (req, res) {"
	    " var g = (function () { return this; })();"
	    " res.send([typeof Duktape, typeof require, typeof g.Duktape,"
	    " typeof g.require, typeof print, typeof alert].join(',')); };",
	    NULL, "undefined,undefined,undefined,undefined,undefined,undefined");
	/* nor at the top level */
	ck_assert_int_eq(run("if (typeof Duktape !== 'undefined' ||"
	    " typeof require !== 'undefined') throw new Error('visible');"
	    " module.exports = function (req, res) { res.send('ok'); };",
	    NULL, NULL, &res), 0);
	sandbox_result_free(&res);
	/* console, module and exports are there (the last two as the
	 * module function's parameters, not globals) */
	run_expect_body("module.exports = function (req, res) {"
	    " res.send([typeof console.log, typeof module,"
	    " typeof exports, typeof globalThis.module,"
	    " typeof globalThis.exports].join(',')); };", NULL,
	    "function,object,object,undefined,undefined");
}
END_TEST

START_TEST(test_globals_not_shared)
{
	struct sandbox		*a, *b;
	struct sandbox_result	 res;

	a = loaded("var topvar = 1;"
	    " module.exports = function (req, res) {"
	    " leaked = 'from a'; Object.prototype.polluted = 'yes';"
	    " String.prototype.trim = function () { return 'hacked'; };"
	    " res.send('set'); };", NULL);
	b = loaded("module.exports = function (req, res) {"
	    " res.send([typeof leaked, typeof topvar, typeof ({}).polluted,"
	    " ' x '.trim()].join(',')); };", NULL);
	ck_assert_int_eq(sandbox_call(a, &PLAIN_RQ, &res), 0);
	ck_assert_mem_eq(res.body, "set", 3);
	sandbox_result_free(&res);
	ck_assert_int_eq(sandbox_call(b, &PLAIN_RQ, &res), 0);
	ck_assert_uint_eq(res.body_len, strlen("undefined,undefined,undefined,x"));
	ck_assert_mem_eq(res.body, "undefined,undefined,undefined,x",
	    res.body_len);
	sandbox_result_free(&res);
	sandbox_free(a);
	sandbox_free(b);
}
END_TEST

START_TEST(test_limits_per_sandbox)
{
	struct sandbox_limits	 small = limits(32 * MiB, 1000, 10, 64 * KiB);
	struct sandbox		*a, *b;
	struct sandbox_result	 res;
	const char		*src = "module.exports = function (req, res) {"
	    " res.send(new Array(101).join('z')); };";

	/* a's response cap does not leak into b */
	a = loaded(src, &small);
	b = loaded(src, NULL);
	ck_assert_int_eq(sandbox_call(a, &PLAIN_RQ, &res), -1);
	ck_outcome(res, OUT_RESPONSE_TOO_LARGE);
	sandbox_result_free(&res);
	ck_assert_int_eq(sandbox_call(b, &PLAIN_RQ, &res), 0);
	ck_assert_uint_eq(res.body_len, 100);
	sandbox_result_free(&res);
	sandbox_free(a);
	sandbox_free(b);
}
END_TEST

START_TEST(test_result_free_empty)
{
	struct sandbox_result	res;

	memset(&res, 0, sizeof(res));
	sandbox_result_free(&res);
	sandbox_result_free(&res);
	sandbox_free(NULL);
}
END_TEST

/*
 * Issue 8 and 9: what a hostile function or request did to the sandbox.
 */

/* Bytes that are not UTF-8 (0x82 or 0xFF first: a Duktape hidden symbol)
 * reach the function from every door as plain strings, repaired. */
START_TEST(test_hostile_invalid_utf8_is_repaired_everywhere)
{
	static const char bad[] = "\x82Varmap";
	static const struct sandbox_kv q[] = { { "k", bad, 7 },
	    { "\xff" "key", "v", 1 } };
	static const struct sandbox_kv h[] = { { "x-h", "\xff" "Target", 7 } };
	static const struct sandbox_kv env[] = { { "E", bad, 7 } };
	static const char body[] = "{\"s\":\"\x82Varmap\",\"\x82k\":1}";
	struct sandbox_request rq = PLAIN_RQ;
	const char *fffd = "\xef\xbf\xbd";
	char want[512];

	rq.query = q;
	rq.nquery = 2;
	rq.headers = h;
	rq.nheaders = 1;
	rq.env = env;
	rq.nenv = 1;
	rq.body = body;
	rq.body_len = sizeof(body) - 1;
	rq.path = "/invoke/p/r/f/\x82Varmap";
	/* The reproduction of issue 8: a hidden symbol would reach the
	 * engine's _Varmap; a repaired key reaches nothing. */
	snprintf(want, sizeof(want), "[\"string\",true,\"%sVarmap\",\"%sTarget\","
	    "\"%sVarmap\",\"%sVarmap\",[\"s\",\"%sk\"],\"%sVarmap\",\"v\","
	    "\"/invoke/p/r/f/%sVarmap\"]", fffd, fffd, fffd, fffd, fffd, fffd,
	    fffd);
	run_expect_body("function victim() { var x = 1; return eval('x'); }"
	    "module.exports = function (req, res) {"
	    " var k = req.query.k;"
	    " res.send(JSON.stringify([typeof k, victim[k] === undefined, k,"
	    "  req.headers['x-h'], req.env.E, req.payload.s,"
	    "  Object.keys(req.payload), req.body.slice(6, 13),"
	    "  req.query['\\ufffdkey'], req.path])); };", &rq, want);
}
END_TEST

/* A string that is valid UTF-8 goes in byte for byte. */
START_TEST(test_hostile_valid_utf8_unchanged)
{
	static const char body[] = "caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac";
	struct sandbox_request rq = PLAIN_RQ;

	rq.body = body;
	rq.body_len = sizeof(body) - 1;
	run_expect_body("module.exports = function (req, res) {"
	    " res.send(req.body + '|' + req.body.length); };", &rq,
	    "caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac|8");
}
END_TEST

/* A source that is not UTF-8 is a syntax error with its line. */
START_TEST(test_hostile_source_not_utf8)
{
	struct sandbox_result	res;

	ck_assert_int_eq(load_fail("var a = 1;\nvar b = '\x82';\n"
	    "module.exports = function (req, res) { res.send(b); };", NULL,
	    &res), -1);
	ck_outcome(res, OUT_SYNTAX_ERROR);
	ck_assert_int_eq(res.line, 2);
	sandbox_result_free(&res);
}
END_TEST

/* res.send re-entered from a getter on its own headers: one send, and
 * the call is a function_error, never 499 nested copies. */
START_TEST(test_hostile_send_reentered_from_headers_getter)
{
	struct sandbox		*sb;
	struct sandbox_result	 res;

	sb = loaded("var n = 0; module.exports = function (req, res) {"
	    " var h = {}; Object.defineProperty(h, 'x-a', { enumerable: true,"
	    "  get: function () { n++; if (n < 500) res.send('in', 200, h);"
	    "   return 'v'; } });"
	    " res.send(new Array(1000).join('x'), 200, h); };"
	    "globalThis.count = function () { return n; };", NULL);
	ck_assert_int_eq(sandbox_call(sb, &PLAIN_RQ, &res), -1);
	ck_outcome(res, OUT_FUNCTION_ERROR);
	ck_assert_ptr_nonnull(strstr(res.message, "more than once"));
	ck_assert_ptr_null(res.body);
	sandbox_result_free(&res);
	duk_eval_string(sandbox_context(sb), "count()");
	ck_assert_int_eq(duk_get_int(sandbox_context(sb), -1), 1);
	duk_pop(sandbox_context(sb));
	sandbox_free(sb);
}
END_TEST

/* A send that threw (bad status) may be retried: only a second send after
 * a successful one, or a nested one, is an error. */
START_TEST(test_hostile_send_retry_after_throw)
{
	run_expect_body("module.exports = function (req, res) {"
	    " try { res.send('x', 99); } catch (e) { res.send('again'); } };",
	    NULL, "again");
}
END_TEST

/* SPEC §6: 100 headers and 64 KiB in all, copied out of the heap. */
START_TEST(test_hostile_response_headers_capped)
{
	struct sandbox_result	res;

	run_expect_body("module.exports = function (req, res) {"
	    " var h = {}; for (var i = 0; i < 99; i++) h['x-' + i] = 'v';"
	    " res.send('ok', 200, h); };", NULL, "ok");
	ck_assert_int_eq(run("module.exports = function (req, res) {"
	    " var h = {}; for (var i = 0; i < 101; i++) h['x-' + i] = 'v';"
	    " res.send('ok', 200, h); };", NULL, NULL, &res), -1);
	ck_outcome(res, OUT_RESPONSE_TOO_LARGE);
	ck_assert_ptr_nonnull(strstr(res.message, "100 response headers"));
	sandbox_result_free(&res);
	/* 100 headers holding one 4 MB string */
	ck_assert_int_eq(run("module.exports = function (req, res) {"
	    " var v = 'v', h = {}; while (v.length < 4 << 20) v += v;"
	    " for (var i = 0; i < 100; i++) h['x-' + i] = v;"
	    " res.send('ok', 200, h); };", NULL, NULL, &res), -1);
	ck_outcome(res, OUT_RESPONSE_TOO_LARGE);
	ck_assert_ptr_nonnull(strstr(res.message, "65536 bytes"));
	ck_assert_ptr_null(res.headers);
	sandbox_result_free(&res);
}
END_TEST

/* Empty console entries count: at most 1,000 a call, then a marker. */
START_TEST(test_hostile_console_entries_capped)
{
	struct sandbox			*sb;
	struct sandbox_result		 res;
	const struct sandbox_log	*log;

	sb = loaded("module.exports = function (req, res) {"
	    " for (var i = 0; i < 200000; i++) console.log('');"
	    " res.send('ok'); };", NULL);
	ck_assert_int_eq(sandbox_call(sb, &PLAIN_RQ, &res), 0);
	sandbox_result_free(&res);
	log = sandbox_log(sb);
	ck_assert_uint_eq(log->n, 1001);
	ck_assert_int_eq(log->truncated, 1);
	ck_assert_ptr_nonnull(strstr(log->entries[1000].message,
	    "1000 entries"));
	sandbox_free(sb);
}
END_TEST

/* SPEC §6: message and stack 16 KiB each, with a marker. */
START_TEST(test_hostile_error_text_bounded)
{
	struct sandbox_result	res;
	size_t			max = SANDBOX_ERROR_TEXT_MAX +
				    sizeof(SANDBOX_TRUNCATED_MARKER) - 1;

	ck_assert_int_eq(run("module.exports = function (req, res) {"
	    " var m = '\\x01'; while (m.length < 2000000) m += m;"
	    " throw new Error(m); };", NULL,
	    NULL, &res), -1);
	ck_outcome(res, OUT_FUNCTION_ERROR);
	ck_assert_uint_le(strlen(res.message), max);
	ck_assert_ptr_nonnull(strstr(res.message, SANDBOX_TRUNCATED_MARKER));
	ck_assert_ptr_nonnull(res.stack);
	ck_assert_uint_le(strlen(res.stack), max);
	ck_assert_ptr_nonnull(strstr(res.stack, SANDBOX_TRUNCATED_MARKER));
	sandbox_result_free(&res);
}
END_TEST

/* Reading a thrown value runs the function's code: a stack getter that
 * throws is a function_error (it was a Duktape fatal), a toString that
 * loops is a timeout. */
START_TEST(test_hostile_thrown_value_code)
{
	struct sandbox_limits	lim = limits(32 * MiB, 200, 6 * MiB, 64 * KiB);
	struct sandbox_result	res;

	ck_assert_int_eq(run("module.exports = function (req, res) {"
	    " var e = new Error('boom');"
	    " Object.defineProperty(e, 'stack', { get: function () {"
	    "  throw new Error('no stack for you'); } });"
	    " throw e; };", NULL, NULL, &res), -1);
	ck_outcome(res, OUT_FUNCTION_ERROR);
	ck_assert_str_eq(res.message, "Error: boom");
	ck_assert_ptr_null(res.stack);
	sandbox_result_free(&res);
	ck_assert_int_eq(run("module.exports = function (req, res) {"
	    " Error.prototype.toString = function () { throw 1; };"
	    " throw new Error('x'); };", NULL, NULL, &res), -1);
	ck_outcome(res, OUT_FUNCTION_ERROR);
	sandbox_result_free(&res);
	run_expect_outcome("module.exports = function (req, res) {"
	    " throw { toString: function () { for (;;) {} } }; };", &lim,
	    NULL, OUT_TIMEOUT);
}
END_TEST

/* A module.exports getter runs the function's code at load: protected. */
START_TEST(test_hostile_exports_getter_throws)
{
	struct sandbox_result	res;

	ck_assert_int_eq(load_fail("Object.defineProperty(module, 'exports',"
	    " { get: function () { throw new Error('gotcha'); } });", NULL,
	    &res), -1);
	ck_outcome(res, OUT_FUNCTION_ERROR);
	ck_assert_ptr_nonnull(strstr(res.message, "gotcha"));
	sandbox_result_free(&res);
}
END_TEST

/* Issue 9: a warm heap that ended its last call at its cap answers the
 * next call memory_limit; the call's prologue (req, res) allocates inside
 * a protected call, never in Duktape's fatal handler. */
START_TEST(test_hostile_prologue_at_cap)
{
	struct sandbox		*sb;
	struct sandbox_result	 res;
	struct sandbox_request	 rq = PLAIN_RQ;
	static const char body[] = "{\"a\":[1,2,3],\"b\":\"some text\"}";

	rq.body = body;
	rq.body_len = sizeof(body) - 1;
	sb = loaded("module.exports = function (req, res) {"
	    " res.json(req.payload); };", NULL);
	duk_gc(sandbox_context(sb), 0);
	sb->alloc.limit = sb->alloc.used;
	ck_assert_int_eq(sandbox_call(sb, &rq, &res), -1);
	ck_outcome(res, OUT_MEMORY_LIMIT);
	sandbox_result_free(&res);
	sandbox_free(sb);
}
END_TEST

/* Bytecode loaded into a heap already at its cap: memory_limit, no fatal. */
START_TEST(test_hostile_bytecode_load_at_cap)
{
	const char		*src = "module.exports = function (req, res) {"
				    " res.send('hi'); };";
	struct sandbox		*sb = new_sb(NULL);
	struct sandbox_result	 res;
	void			*bc = NULL;
	size_t			 bclen = 0;

	ck_assert_int_eq(sandbox_load(sb, src, strlen(src), "f.js", &bc,
	    &bclen, &res), 0);
	sandbox_result_free(&res);
	sandbox_free(sb);
	ck_assert_ptr_nonnull(bc);
	sb = new_sb(NULL);
	duk_gc(sandbox_context(sb), 0);
	sb->alloc.limit = sb->alloc.used;
	ck_assert_int_eq(sandbox_load_bytecode(sb, bc, bclen, &res), -1);
	ck_outcome(res, OUT_MEMORY_LIMIT);
	sandbox_result_free(&res);
	sandbox_free(sb);
	free(bc);
}
END_TEST


static Suite *
sandbox_suite(void)
{
	Suite	*s = suite_create("sandbox");
	TCase	*tc;

	tc = tcase_create("load");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_load_module_exports);
	tcase_add_test(tc, test_load_action);
	tcase_add_test(tc, test_load_both_exports_wins);
	tcase_add_test(tc, test_load_syntax_error);
	tcase_add_test(tc, test_load_no_handler);
	tcase_add_test(tc, test_load_top_level_throw);
	tcase_add_test(tc, test_load_timeout);
	tcase_add_test(tc, test_load_memory_limit);
	tcase_add_test(tc, test_new_too_small);
	tcase_add_test(tc, test_new_near_its_size);
	tcase_add_test(tc, test_load_bytecode_roundtrip);
	tcase_add_test(tc, test_load_bytecode_of_a_program_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("module");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_module_top_level_is_not_global);
	tcase_add_test(tc, test_module_state_kept_across_calls);
	tcase_add_test(tc, test_module_this_and_exports);
	tcase_add_test(tc, test_module_use_strict_applies);
	tcase_add_test(tc, test_module_action_found);
	tcase_add_test(tc, test_module_lines_unchanged);
	tcase_add_test(tc, test_hostile_module_wrapper_breaking);
	suite_add_tcase(s, tc);

	tc = tcase_create("call");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_call_req_fields);
	tcase_add_test(tc, test_call_req_empty);
	tcase_add_test(tc, test_call_req_body_bytes);
	tcase_add_test(tc, test_call_payload);
	tcase_add_test(tc, test_call_payload_accessor);
	tcase_add_test(tc, test_call_payload_lazy);
	tcase_add_test(tc, test_call_json_parse_global);
	tcase_add_test(tc, test_call_send_status_headers);
	tcase_add_test(tc, test_call_default_content_type);
	tcase_add_test(tc, test_call_json);
	tcase_add_test(tc, test_call_send_twice);
	tcase_add_test(tc, test_call_no_send);
	tcase_add_test(tc, test_call_throw);
	tcase_add_test(tc, test_call_bad_status);
	tcase_add_test(tc, test_call_bad_headers);
	tcase_add_test(tc, test_call_failed_send_leaves_no_headers);
	tcase_add_test(tc, test_call_response_too_large);
	tcase_add_test(tc, test_call_saved_res);
	tcase_add_test(tc, test_call_reuse_heap);
	tcase_add_test(tc, test_call_recursion);
	tcase_add_test(tc, test_result_free_empty);
	suite_add_tcase(s, tc);

	tc = tcase_create("deadline");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_timeout_loop);
	tcase_add_test(tc, test_timeout_finally_loop);
	tcase_add_test(tc, test_timeout_catch_continue);
	tcase_add_test(tc, test_timeout_send_in_catch);
	suite_add_tcase(s, tc);

	tc = tcase_create("memory");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_memory_limit);
	tcase_add_test(tc, test_memory_peak_trivial);
	suite_add_tcase(s, tc);

	tc = tcase_create("console");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_console_levels);
	tcase_add_test(tc, test_console_per_call);
	tcase_add_test(tc, test_console_truncated);
	suite_add_tcase(s, tc);

	tc = tcase_create("isolation");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_no_engine_globals);
	tcase_add_test(tc, test_globals_not_shared);
	tcase_add_test(tc, test_limits_per_sandbox);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_hostile_invalid_utf8_is_repaired_everywhere);
	tcase_add_test(tc, test_hostile_valid_utf8_unchanged);
	tcase_add_test(tc, test_hostile_source_not_utf8);
	tcase_add_test(tc, test_hostile_send_reentered_from_headers_getter);
	tcase_add_test(tc, test_hostile_send_retry_after_throw);
	tcase_add_test(tc, test_hostile_response_headers_capped);
	tcase_add_test(tc, test_hostile_console_entries_capped);
	tcase_add_test(tc, test_hostile_error_text_bounded);
	tcase_add_test(tc, test_hostile_thrown_value_code);
	tcase_add_test(tc, test_hostile_exports_getter_throws);
	tcase_add_test(tc, test_hostile_prologue_at_cap);
	tcase_add_test(tc, test_hostile_bytecode_load_at_cap);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(sandbox_suite());
	int	 failed;

	/* Fork mode unless CK_FORK=no (for a debugger). */
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
