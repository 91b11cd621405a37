/*
 * check_loop.c - unit tests for the library's loading (lib.c), Promise
 * and queueMicrotask (promise.js), timers (lib_timers.c) and the event
 * loop of a call (sandbox_loop.c): SPEC §11 "When an invocation ends".
 * The Promises/A+ suite itself runs in check_aplus.c.
 *
 * Timing is never asserted: only outcomes and the order of events.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox_fixture.h"
#include "sandbox_internal.h"

#define ck_outcome(res, want) \
	ck_assert_msg((res).outcome == (want), "outcome %s, want %s (%s)", \
	    outcome_code((res).outcome), outcome_code(want), (res).message)

static struct sandbox *
loaded(const char *src)
{
	return sandbox_loaded(src, &LIM);
}

/* One call; the result is the caller's to free. */
static void
call(struct sandbox *sb, struct sandbox_result *res)
{
	(void)sandbox_call(sb, &PLAIN_RQ, res);
}

static void
expect_body(const char *src, const char *want)
{
	struct sandbox *sb = loaded(src);
	struct sandbox_result res;

	call(sb, &res);
	ck_outcome(res, OUT_OK);
	ck_assert_msg(res.body_len == strlen(want) &&
	    memcmp(res.body, want, res.body_len) == 0, "body '%.*s', want "
	    "'%s'", (int)res.body_len, res.body, want);
	sandbox_result_free(&res);
	sandbox_free(sb);
}

static void
expect_outcome(const char *src, unsigned timeout_ms, enum outcome want,
    const char *in_message)
{
	struct sandbox_limits lim = LIM;
	struct sandbox *sb;
	struct sandbox_result res;

	lim.timeout_ms = timeout_ms;
	sb = sandbox_loaded(src, &lim);
	call(sb, &res);
	ck_outcome(res, want);
	if (in_message != NULL)
		ck_assert_msg(strstr(res.message, in_message) != NULL,
		    "message '%s' lacks '%s'", res.message, in_message);
	sandbox_result_free(&res);
	sandbox_free(sb);
}

/* Whether some console entry of the last call contains s. */
static int
logged(const struct sandbox *sb, const char *level, const char *s)
{
	const struct sandbox_log *log = sandbox_log(sb);
	size_t i;

	for (i = 0; i < log->n; i++)
		if (strcmp(log->entries[i].level, level) == 0 &&
		    strstr(log->entries[i].message, s) != NULL)
			return 1;
	return 0;
}

START_TEST(test_unused_library_is_not_loaded)
{
	struct sandbox *sb = loaded("module.exports = function (req, res) "
	    "{ res.send('x'); };");
	struct sandbox_result res;

	call(sb, &res);
	ck_outcome(res, OUT_OK);
	ck_assert_uint_eq(sb->lib.loaded, 0);
	sandbox_result_free(&res);
	sandbox_free(sb);
}
END_TEST

START_TEST(test_first_use_loads_family)
{
	struct sandbox *sb = loaded("module.exports = function (req, res) "
	    "{ res.send(typeof Promise + ' ' + typeof queueMicrotask + ' ' + "
	    "Object.keys(globalThis).indexOf('Promise')); };");
	struct sandbox_result res;

	call(sb, &res);
	ck_outcome(res, OUT_OK);
	ck_assert_str_eq(res.body, "function function -1");
	ck_assert(lib_loaded(sb, LIB_PROMISE));
	ck_assert(!lib_loaded(sb, LIB_TIMERS));
	sandbox_result_free(&res);
	sandbox_free(sb);
}
END_TEST

START_TEST(test_assigned_name_is_kept)
{
	expect_body("var Promise = 'mine';\n"
	    "module.exports = function (req, res) {\n"
	    "  queueMicrotask(function () { res.send(Promise); });\n"
	    "};", "mine");
}
END_TEST

START_TEST(test_async_handler_resolves_after_send)
{
	expect_body("module.exports = function (req, res) {\n"
	    "  return Promise.resolve(1).then(function (v) {\n"
	    "    res.send('v=' + v); });\n};", "v=1");
}
END_TEST

START_TEST(test_order_microtasks_before_timers)
{
	expect_body("module.exports = function (req, res) {\n"
	    "  var seen = [];\n"
	    "  setTimeout(function () { seen.push('t2'); res.send(seen.join());"
	    " }, 2);\n"
	    "  setTimeout(function () { seen.push('t0');\n"
	    "    Promise.resolve().then(function () { seen.push('m1'); }); }, 0);\n"
	    "  queueMicrotask(function () { seen.push('q'); });\n"
	    "  Promise.resolve().then(function () { seen.push('p'); });\n"
	    "  seen.push('sync');\n};", "sync,q,p,t0,m1,t2");
}
END_TEST

START_TEST(test_timers_clear_and_interval)
{
	expect_body("module.exports = function (req, res) {\n"
	    "  var n = 0, t = setTimeout(function () { n += 100; }, 1);\n"
	    "  clearTimeout(t);\n"
	    "  var iv = setInterval(function (a) { n += a;\n"
	    "    if (n === 3) { clearInterval(iv);\n"
	    "      setTimeout(function () { res.send(String(n)); }, 5); } }, 1, 1);\n"
	    "};", "3");
}
END_TEST

START_TEST(test_timer_arguments_and_ids)
{
	expect_body("module.exports = function (req, res) {\n"
	    "  var a = setTimeout(function (x, y) { res.send(x + y + ':' +"
	    " (b > a)); }, 0, 'x', 'y');\n"
	    "  var b = setTimeout(function () {}, 0);\n};", "xy:true");
}
END_TEST

START_TEST(test_resolve_to_nothing_is_no_response)
{
	expect_outcome("module.exports = function (req, res) {\n"
	    "  return new Promise(function (r) { setTimeout(r, 1); });\n};",
	    1000, OUT_NO_RESPONSE, "promise resolved");
}
END_TEST

START_TEST(test_rejection_is_function_error_with_stack)
{
	struct sandbox *sb = loaded("module.exports = function (req, res) {\n"
	    "  return Promise.resolve().then(function () {\n"
	    "    throw new TypeError('boom here'); });\n};");
	struct sandbox_result res;

	call(sb, &res);
	ck_outcome(res, OUT_FUNCTION_ERROR);
	ck_assert_str_eq(res.message, "TypeError: boom here");
	ck_assert_ptr_nonnull(res.stack);
	ck_assert_msg(strstr(res.stack, "t.js:3") != NULL, "%s", res.stack);
	sandbox_result_free(&res);
	sandbox_free(sb);
}
END_TEST

START_TEST(test_never_settles_is_timeout)
{
	expect_outcome("module.exports = function (req, res) {\n"
	    "  return new Promise(function () {});\n};", 1000, OUT_TIMEOUT,
	    "never settled");
}
END_TEST

START_TEST(test_deadline_timer_past_it)
{
	expect_outcome("module.exports = function (req, res) {\n"
	    "  setTimeout(function () { res.send('late'); }, 5000);\n};", 100,
	    OUT_TIMEOUT, "time limit of 100 ms");
}
END_TEST

START_TEST(test_deadline_runaway_interval)
{
	expect_outcome("module.exports = function (req, res) {\n"
	    "  setInterval(function () {}, 0);\n};", 100, OUT_TIMEOUT, NULL);
}
END_TEST

START_TEST(test_deadline_microtask_loop)
{
	expect_outcome("module.exports = function (req, res) {\n"
	    "  function f() { Promise.resolve().then(f); }\n  f();\n};", 100,
	    OUT_TIMEOUT, NULL);
}
END_TEST

START_TEST(test_deadline_queue_microtask_loop_catching)
{
	expect_outcome("module.exports = function (req, res) {\n"
	    "  function f() { try { queueMicrotask(f); } catch (e) {} }\n"
	    "  f();\n};", 100, OUT_TIMEOUT, NULL);
}
END_TEST

START_TEST(test_memory_in_a_job)
{
	struct sandbox_limits lim = LIM;
	struct sandbox *sb;
	struct sandbox_result res;

	/* The cap must be what stops it, however slow the machine. */
	lim.memory_bytes = 2 * MiB;
	lim.timeout_ms = 60000;
	sb = sandbox_loaded("module.exports = function (req, res) {\n"
	    "  return Promise.resolve().then(function () {\n"
	    "    var a = []; for (;;) a.push(new Array(100000).join('x') + a.length);"
	    " });\n};", &lim);
	call(sb, &res);
	ck_outcome(res, OUT_MEMORY_LIMIT);
	sandbox_result_free(&res);
	sandbox_free(sb);
}
END_TEST

START_TEST(test_unhandled_rejection_logged)
{
	struct sandbox *sb = loaded("module.exports = function (req, res) {\n"
	    "  Promise.reject(new Error('nobody'));\n"
	    "  var p = Promise.reject(new Error('late handler'));\n"
	    "  p.catch(function () {});\n"
	    "  queueMicrotask(function () { throw new RangeError('qm'); });\n"
	    "  setTimeout(function () { throw new Error('in timer'); }, 0);\n"
	    "  setTimeout(function () { res.send('ok'); }, 1);\n};");
	struct sandbox_result res;

	call(sb, &res);
	ck_outcome(res, OUT_OK);
	ck_assert(logged(sb, "error", "Uncaught (in promise) Error: nobody"));
	ck_assert(!logged(sb, "error", "late handler"));
	ck_assert(logged(sb, "error", "Uncaught RangeError: qm"));
	ck_assert(logged(sb, "error", "Uncaught Error: in timer"));
	sandbox_result_free(&res);
	sandbox_free(sb);
}
END_TEST

START_TEST(test_pending_work_cancelled_at_answer)
{
	struct sandbox *sb = loaded("var n = 0;\n"
	    "module.exports = function (req, res) {\n"
	    "  n++;\n"
	    "  setTimeout(function () { console.log('stale timer ' + n); }, 0);\n"
	    "  if (n === 1) { res.send('first'); return; }\n"
	    "  setTimeout(function () { res.send('second'); }, 2);\n};");
	struct sandbox_result res;

	call(sb, &res);
	ck_outcome(res, OUT_OK);
	ck_assert(!logged(sb, "log", "stale timer"));
	ck_assert_uint_eq(sb->lib.timers.n, 0);
	sandbox_result_free(&res);
	call(sb, &res);
	ck_outcome(res, OUT_OK);
	ck_assert_str_eq(res.body, "second");
	ck_assert(logged(sb, "log", "stale timer 2"));
	ck_assert(!logged(sb, "log", "stale timer 1"));
	sandbox_result_free(&res);
	sandbox_free(sb);
}
END_TEST

START_TEST(test_top_level_microtasks_run_timers_refused)
{
	struct sandbox *sb;
	struct sandbox_result res;
	const char *bad = "setTimeout(function () {}, 0);\n"
	    "module.exports = function (req, res) { res.send('x'); };";

	expect_body("var v = 'before';\n"
	    "Promise.resolve('after').then(function (x) { v = x; });\n"
	    "module.exports = function (req, res) { res.send(v); };", "after");
	sb = sandbox_new(&LIM);
	ck_assert_int_eq(sandbox_load(sb, bad, strlen(bad), "t.js", NULL, NULL,
	    &res), -1);
	ck_outcome(res, OUT_FUNCTION_ERROR);
	ck_assert_msg(strstr(res.message, "top level") != NULL, "%s",
	    res.message);
	sandbox_result_free(&res);
	sandbox_free(sb);
}
END_TEST

START_TEST(test_statics)
{
	expect_body("module.exports = function (req, res) {\n"
	    "  var out = [];\n"
	    "  function later(v, ms, fail) { return new Promise(function (ok, no) {\n"
	    "    setTimeout(function () { (fail ? no : ok)(v); }, ms); }); }\n"
	    "  return Promise.all([later('a', 3), 'b', later('c', 1)]).then(function (v) {\n"
	    "    out.push(v.join(''));\n"
	    "    return Promise.allSettled([later(1, 1), later(2, 0, true)]);\n"
	    "  }).then(function (s) {\n"
	    "    out.push(s[0].status + s[0].value + s[1].status + s[1].reason);\n"
	    "    return Promise.any([later('x', 1, true), later('y', 2)]);\n"
	    "  }).then(function (v) {\n"
	    "    out.push(v);\n"
	    "    return Promise.any([Promise.reject(1), Promise.reject(2)]);\n"
	    "  }).catch(function (e) {\n"
	    "    out.push(e.name + ':' + e.errors.join('') + ':' + (e instanceof Error));\n"
	    "    return Promise.race([later('slow', 5), later('fast', 1)]);\n"
	    "  }).then(function (v) {\n"
	    "    out.push(v);\n"
	    "    return Promise.all([]);\n"
	    "  }).then(function (v) {\n"
	    "    out.push(v.length);\n"
	    "    return Promise.reject('r').finally(function () { out.push('fin'); });\n"
	    "  }).catch(function (r) {\n"
	    "    out.push(r);\n"
	    "    return Promise.resolve(7).finally(function () { return 8; });\n"
	    "  }).then(function (v) {\n"
	    "    out.push(v, Object.prototype.toString.call(Promise.resolve()));\n"
	    "    var p = Promise.resolve(1);\n"
	    "    out.push(Promise.resolve(p) === p);\n"
	    "    return Promise.all('ab');\n"
	    "  }).then(function (v) {\n"
	    "    out.push(v.join('+'));\n"
	    "    res.send(out.join('|'));\n"
	    "  });\n};",
	    "abc|fulfilled1rejected2|y|AggregateError:12:true|fast|0|fin|r|7|"
	    "[object Promise]|true|a+b");
}
END_TEST

START_TEST(test_type_errors)
{
	expect_body("module.exports = function (req, res) {\n"
	    "  var out = [];\n"
	    "  try { Promise(function () {}); } catch (e) { out.push(e.name); }\n"
	    "  try { new Promise(1); } catch (e) { out.push(e.name); }\n"
	    "  try { queueMicrotask(1); } catch (e) { out.push(e.name); }\n"
	    "  try { setTimeout('code', 1); } catch (e) { out.push(e.name); }\n"
	    "  try { Promise.prototype.then.call({}, 1); } catch (e) { out.push(e.name); }\n"
	    "  var r2, p = new Promise(function (r) { r2 = r; }); r2(p);\n"
	    "  p.catch(function (e) { out.push(e.name); res.send(out.join()); });\n"
	    "};", "TypeError,TypeError,TypeError,TypeError,TypeError,TypeError");
}
END_TEST

START_TEST(test_response_after_promise_with_pending_timer)
{
	/* A timer still scheduled when res.send runs does not delay it. */
	expect_body("module.exports = function (req, res) {\n"
	    "  setTimeout(function () {}, 100000);\n"
	    "  Promise.resolve().then(function () { res.send('now'); });\n};",
	    "now");
}
END_TEST

START_TEST(test_hostile_then_getter_on_return)
{
	expect_outcome("module.exports = function (req, res) {\n"
	    "  res.send('x');\n"
	    "  return { get then() { throw new Error('getter'); } };\n};", 1000,
	    OUT_OK, NULL);
	expect_outcome("module.exports = function (req, res) {\n"
	    "  return { get then() { throw new Error('getter'); } };\n};", 1000,
	    OUT_FUNCTION_ERROR, "getter");
	expect_outcome("module.exports = function (req, res) {\n"
	    "  return { then: function (ok) { ok(1); ok(2); throw 3; } };\n};",
	    1000, OUT_NO_RESPONSE, NULL);
	expect_outcome("module.exports = function (req, res) {\n"
	    "  return { then: function (ok, no) { no(new Error('thenable')); } };\n};",
	    1000, OUT_FUNCTION_ERROR, "thenable");
}
END_TEST

START_TEST(test_hostile_tampered_prototype)
{
	/* The runtime's own bookkeeping does not go through anything the
	 * function can replace. */
	expect_body("module.exports = function (req, res) {\n"
	    "  var p = Promise.resolve('kept');\n"
	    "  Promise.prototype.then = function () { throw new Error('no'); };\n"
	    "  Object.defineProperty(Object.prototype, 'then', { get: function () {"
	    " throw new Error('proto'); }, configurable: true });\n"
	    "  setTimeout(function () { delete Object.prototype.then;"
	    " res.send('fine'); }, 1);\n"
	    "  return 5;\n};", "fine");
}
END_TEST

START_TEST(test_native_then_and_resolve)
{
	/* Promise.prototype.then and Promise.resolve are natives with the
	 * standard's names and lengths; another species still goes through
	 * its constructor, for both. */
	expect_body("module.exports = function (req, res) {\n"
	    "  function Sub(ex) { var p = new Promise(ex);"
	    " Object.setPrototypeOf(p, Sub.prototype); Sub.made++; return p; }\n"
	    "  Sub.made = 0;\n"
	    "  Sub.prototype = Object.create(Promise.prototype);\n"
	    "  Sub.prototype.constructor = Sub;\n"
	    "  var then = Promise.prototype.then, s = Promise.resolve.call(Sub, 7);\n"
	    "  var t = s.then(function (v) { return v + 1; });\n"
	    "  var made = Sub.made;\n"
	    "  t.then(function (v) {\n"
	    "    res.send([then.name, then.length, Promise.resolve.name,"
	    " Promise.resolve.length, s instanceof Sub, t instanceof Sub, made, v,"
	    " Promise.resolve(t) === t, Promise.resolve.call(Sub, t) === t].join(' '));\n"
	    "  });\n};",
	    "then 2 resolve 1 true true 2 8 false true");
}
END_TEST


START_TEST(test_response_is_the_answer)
{
	struct sandbox *sb = loaded("module.exports = function (req, res) {\n"
	    "  if (req.body === 'sync') return new Response('plain', { status: 201,"
	    " headers: { 'X-A': '1' } });\n"
	    "  return Promise.resolve(Response.json({ a: 1 }, { status: 202 }));\n};");
	struct sandbox_request rq = PLAIN_RQ;
	struct sandbox_result res;
	size_t i;
	int seen = 0;

	rq.body = "sync";
	rq.body_len = 4;
	ck_assert_int_eq(sandbox_call(sb, &rq, &res), 0);
	ck_assert_int_eq(res.status, 201);
	ck_assert_str_eq(res.body, "plain");
	for (i = 0; i < res.nheaders; i++) {
		if (strcmp(res.headers[i].name, "x-a") == 0)
			seen |= 1;
		if (strcmp(res.headers[i].name, "content-type") == 0 &&
		    strcmp(res.headers[i].value, "text/plain;charset=UTF-8") == 0)
			seen |= 2;
	}
	ck_assert_int_eq(seen, 3);
	sandbox_result_free(&res);
	call(sb, &res);
	ck_outcome(res, OUT_OK);
	ck_assert_int_eq(res.status, 202);
	ck_assert_str_eq(res.body, "{\"a\":1}");
	sandbox_result_free(&res);
	sandbox_free(sb);
}
END_TEST

START_TEST(test_response_checks_of_res_send)
{
	expect_outcome("module.exports = function (req, res) {\n"
	    "  var r = new Response('x'); r.headers.set('x-b', '1');\n"
	    "  r.headers._list.push(['bad name', 'v']);\n"
	    "  return Promise.resolve(r);\n};", 1000, OUT_FUNCTION_ERROR,
	    "invalid header");
	expect_outcome("module.exports = function (req, res) {\n"
	    "  var s = 'y'; while (s.length < 7000000) s += s;\n"
	    "  return new Response(s);\n};", 1000, OUT_RESPONSE_TOO_LARGE, NULL);
}
END_TEST

START_TEST(test_fetch_classes)
{
	expect_body("module.exports = function (req, res) {\n"
	    "  var out = [], h = new Headers({ 'Content-Type': 'a/b' });\n"
	    "  h.append('X-Y', ' 1 '); h.append('x-y', '2');\n"
	    "  out.push(h.get('content-type'), h.get('X-Y'), h.has('nope'), h.get('nope'));\n"
	    "  h['delete']('x-y'); var names = []; h.forEach(function (v, k) { names.push(k + '=' + v); });\n"
	    "  out.push(names.join(';'));\n"
	    "  try { h.set('a b', 'v'); } catch (e) { out.push(e.name); }\n"
	    "  try { h.set('a', 'v\\r\\nx: y'); } catch (e) { out.push(e.name); }\n"
	    "  try { new Response('x', { status: 99 }); } catch (e) { out.push(e.name); }\n"
	    "  var r = new Response(new Uint8Array([104, 105, 0xff]));\n"
	    "  out.push(r.ok, r.status, r.bodyUsed);\n"
	    "  var req2 = new Request('https://a.example/x', { method: 'post', body: 'b',"
	    " headers: [['k', 'v']] });\n"
	    "  out.push(req2.method, req2.headers.get('k'), req2.redirect);\n"
	    "  try { new Request('https://a/', { method: 'GET', body: 'x' }); } catch (e) { out.push(e.name); }\n"
	    "  var ac = new AbortController(), fired = 0;\n"
	    "  ac.signal.addEventListener('abort', function () { fired++; });\n"
	    "  ac.abort(); ac.abort();\n"
	    "  out.push(ac.signal.aborted, ac.signal.reason.name, fired);\n"
	    "  return r.text().then(function (t) {\n"
	    "    out.push(t.length, t.charCodeAt(2), r.bodyUsed);\n"
	    "    return r.text();\n"
	    "  }).catch(function (e) {\n"
	    "    out.push(e.name);\n"
	    "    return new Response('{\"k\":[1]}').json();\n"
	    "  }).then(function (j) {\n"
	    "    out.push(j.k[0]);\n"
	    "    return new Response('h\\u00e9').arrayBuffer();\n"
	    "  }).then(function (b) {\n"
	    "    out.push(b.byteLength);\n"
	    "    res.send(out.join('|'));\n"
	    "  });\n};",
	    "a/b|1, 2|false||content-type=a/b|TypeError|TypeError|RangeError|"
	    "true|200|false|POST|v|follow|TypeError|true|AbortError|1|3|65533|"
	    "true|TypeError|1|3");
}
END_TEST

/* Reactions run in the order they were
 * attached, whether the promise was settled then or later (checked
 * against Node). */
START_TEST(test_order_then_across_states)
{
	expect_body(
	    "module.exports = function (req, res) {\n"
	    "var done = function (s) { res.send(s); };\n"
	    "var log = [], later;\n"
	    "var a = Promise.resolve('a');\n"
	    "var b = new Promise(function (r) { later = r; });\n"
	    "b.then(function (v) { log.push(v + '1'); });\n"
	    "a.then(function (v) { log.push(v + '1'); });\n"
	    "later('b');\n"
	    "a.then(function (v) { log.push(v + '2'); }).then(function () { log.push('a3'); });\n"
	    "b.then(function (v) { log.push(v + '2'); });\n"
	    "Promise.reject('r').then(null, function (v) { log.push(v + '1'); });\n"
	    "queueMicrotask(function () { log.push('m'); });\n"
	    "setTimeout(function () { done(log.join(' ')); }, 0);\n"
	    "};\n",
	    "a1 b1 a2 b2 r1 m a3");
}
END_TEST

/* A foreign thenable takes one job more than a
 * value, adopting a promise of ours two (checked against Node). */
START_TEST(test_order_thenables_and_adoption)
{
	expect_body(
	    "module.exports = function (req, res) {\n"
	    "var done = function (s) { res.send(s); };\n"
	    "var log = [];\n"
	    "var thenable = { then: function (r) { log.push('then'); r('t'); } };\n"
	    "Promise.resolve(thenable).then(function (v) { log.push(v); });\n"
	    "new Promise(function (r) { r(Promise.resolve('p')); }).then(function (v) { log.push(v); });\n"
	    "Promise.resolve().then(function () { return Promise.resolve('q'); }).then(function (v) { log.push(v); });\n"
	    "Promise.resolve().then(function () { log.push(1); }).then(function () { log.push(2); })\n"
	    "    .then(function () { log.push(3); }).then(function () { log.push(4); })\n"
	    "    .then(function () { log.push(5); });\n"
	    "setTimeout(function () { done(log.join(' ')); }, 0);\n"
	    "};\n",
	    "then 1 t 2 p 3 q 4 5");
}
END_TEST

/* Adopting a promise of ours reads its constructor once, as its
 * then would; an own then is called; a frozen promise still settles
 * (checked against Node). */
START_TEST(test_adoption_as_then_would)
{
	expect_body(
	    "module.exports = function (req, res) {\n"
	    "var done = function (s) { res.send(s); };\n"
	    "var log = [], reads = 0;\n"
	    "var x = Promise.resolve('x');\n"
	    "Object.defineProperty(x, 'constructor', { get: function () { reads++; return Promise; } });\n"
	    "var y = new Promise(function (r) { r(x); });\n"
	    "y.then(function (v) { log.push(v + reads); });\n"
	    "var w = Promise.resolve('w');\n"
	    "w.then = function (f) { log.push('own'); f('w2'); };\n"
	    "new Promise(function (r) { r(w); }).then(function (v) { log.push(v); });\n"
	    "var fz = new Promise(function (r) { setTimeout(function () { r('f'); }, 0); });\n"
	    "Object.freeze(fz);\n"
	    "fz.then(function (v) { log.push(v); });\n"
	    "Promise.resolve(Promise.resolve('same')).then(function (v) { log.push(v); });\n"
	    "setTimeout(function () { setTimeout(function () { done(log.join(' ') + ' ' + reads); }, 0); }, 0);\n"
	    "};\n",
	    "own same w2 x1 f 1");
}
END_TEST

/* A promise's state is no property the function sees;
 * Promise.prototype cannot be replaced (as in Node). */
START_TEST(test_state_hidden_prototype_fixed)
{
	expect_body(
	    "module.exports = function (req, res) {\n"
	    "  var p = Promise.resolve(1), q = new Promise(function () {}), k = [], x;\n"
	    "  for (x in p) k.push(x);\n"
	    "  try { Promise.prototype = {}; } catch (e) { k.push(e.name); }\n"
	    "  res.send([JSON.stringify(p), JSON.stringify(q), Object.keys(p).length, Object.getOwnPropertyNames(p).length,\n"
	    "      typeof Object.getOwnPropertySymbols === 'function' ? Object.getOwnPropertySymbols(p).length : 'nosym',\n"
	    "      k.join('|'), Promise.resolve(2) instanceof Promise, Object.getPrototypeOf(p) === Promise.prototype].join(' '));\n"
	    "};\n",
	    "{} {} 0 0 0  true true");
}
END_TEST

static int
count_logged(const struct sandbox *sb, const char *level, const char *s)
{
	const struct sandbox_log *log = sandbox_log(sb);
	size_t i;
	int n = 0;

	for (i = 0; i < log->n; i++)
		if (strcmp(log->entries[i].level, level) == 0 &&
		    strstr(log->entries[i].message, s) != NULL)
			n++;
	return n;
}

/* Each rejection nobody handles is logged once: an adopted one is handled
 * by its adopter, which is the one left unhandled; then's derived promise
 * is unhandled when its parent rejected without an onRejected. */
START_TEST(test_rejection_tracking_through_adoption)
{
	struct sandbox *sb = loaded(
	    "module.exports = function (req, res) {\n"
	    "  Promise.reject(new Error('lonely'));\n"
	    "  Promise.reject(new Error('caught')).catch(function () {});\n"
	    "  var inner = Promise.reject(new Error('inner'));\n"
	    "  new Promise(function (r) { r(inner); });\n"
	    "  Promise.reject(new Error('chain')).then(function () {});\n"
	    "  setTimeout(function () { res.send('ok'); }, 0);\n"
	    "};\n");
	struct sandbox_result res;

	call(sb, &res);
	ck_outcome(res, OUT_OK);
	ck_assert_int_eq(count_logged(sb, "error", "Error: lonely"), 1);
	ck_assert_int_eq(count_logged(sb, "error", "Error: caught"), 0);
	ck_assert_int_eq(count_logged(sb, "error", "Error: inner"), 1);
	ck_assert_int_eq(count_logged(sb, "error", "Error: chain"), 1);
	sandbox_result_free(&res);
	sandbox_free(sb);
}
END_TEST

/* The handler's own promise rejecting is the call's error, not an
 * unhandled rejection besides. */
START_TEST(test_returned_rejection_not_unhandled)
{
	struct sandbox *sb = loaded(
	    "module.exports = function (req, res) {\n"
	    "  return Promise.reject(new Error('mine'));\n"
	    "};\n");
	struct sandbox_result res;

	call(sb, &res);
	ck_outcome(res, OUT_FUNCTION_ERROR);
	ck_assert_msg(strstr(res.message, "mine") != NULL, "%s", res.message);
	ck_assert_int_eq(count_logged(sb, "error", "Uncaught"), 0);
	sandbox_result_free(&res);
	sandbox_free(sb);
}
END_TEST

/* Sending inside a reaction ends the call there: the jobs still queued and
 * the rejection made in that job are dropped, in this call and the next
 * (the drain drops them itself, with no reset after). */
START_TEST(test_queue_dropped_at_answer_in_reaction)
{
	struct sandbox *sb = loaded(
	    "var n = 0;\n"
	    "module.exports = function (req, res) {\n"
	    "  var k = ++n;\n"
	    "  return Promise.resolve(k).then(function (v) {\n"
	    "    res.send('call ' + v);\n"
	    "    Promise.reject(new Error('dropped ' + v));\n"
	    "  }).then(function () { console.log('stale ' + k); });\n"
	    "};\n");
	struct sandbox_result res;
	int i;

	for (i = 1; i <= 2; i++) {
		call(sb, &res);
		ck_outcome(res, OUT_OK);
		ck_assert_str_eq(res.body, i == 1 ? "call 1" : "call 2");
		ck_assert_int_eq(count_logged(sb, "log", "stale"), 0);
		ck_assert_int_eq(count_logged(sb, "error", "dropped"), 0);
		sandbox_result_free(&res);
	}
	sandbox_free(sb);
}
END_TEST

static Suite *
loop_suite(void)
{
	Suite *s = suite_create("loop");
	TCase *tc;

	tc = tcase_create("library");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_unused_library_is_not_loaded);
	tcase_add_test(tc, test_first_use_loads_family);
	tcase_add_test(tc, test_assigned_name_is_kept);
	tcase_add_test(tc, test_statics);
	tcase_add_test(tc, test_type_errors);
	tcase_add_test(tc, test_fetch_classes);
	tcase_add_test(tc, test_response_is_the_answer);
	tcase_add_test(tc, test_response_checks_of_res_send);
	suite_add_tcase(s, tc);

	tc = tcase_create("loop");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_async_handler_resolves_after_send);
	tcase_add_test(tc, test_order_microtasks_before_timers);
	tcase_add_test(tc, test_timers_clear_and_interval);
	tcase_add_test(tc, test_timer_arguments_and_ids);
	tcase_add_test(tc, test_resolve_to_nothing_is_no_response);
	tcase_add_test(tc, test_rejection_is_function_error_with_stack);
	tcase_add_test(tc, test_unhandled_rejection_logged);
	tcase_add_test(tc, test_pending_work_cancelled_at_answer);
	tcase_add_test(tc, test_top_level_microtasks_run_timers_refused);
	tcase_add_test(tc, test_response_after_promise_with_pending_timer);
	suite_add_tcase(s, tc);

	tc = tcase_create("order");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_order_then_across_states);
	tcase_add_test(tc, test_order_thenables_and_adoption);
	tcase_add_test(tc, test_adoption_as_then_would);
	tcase_add_test(tc, test_state_hidden_prototype_fixed);
	tcase_add_test(tc, test_rejection_tracking_through_adoption);
	tcase_add_test(tc, test_returned_rejection_not_unhandled);
	tcase_add_test(tc, test_queue_dropped_at_answer_in_reaction);
	suite_add_tcase(s, tc);

	tc = tcase_create("deadline");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_never_settles_is_timeout);
	tcase_add_test(tc, test_deadline_timer_past_it);
	tcase_add_test(tc, test_deadline_runaway_interval);
	tcase_add_test(tc, test_deadline_microtask_loop);
	tcase_add_test(tc, test_deadline_queue_microtask_loop_catching);
	tcase_add_test(tc, test_memory_in_a_job);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_hostile_then_getter_on_return);
	tcase_add_test(tc, test_hostile_tampered_prototype);
	tcase_add_test(tc, test_native_then_and_resolve);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(loop_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
