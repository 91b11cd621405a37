"""The sandbox holes a hostile tenant and a hostile client found (issue 8),
and the two sandbox bugs of issue 9, each reproduced through the real stack.

Whatever the request bytes or the function do, the answer is the right JSON
error (or the function's own answer), bounded in size, and no worker dies:
the restart and hard-kill counters of /metrics do not move."""

from fnrun_client import (WELL_BEHAVED, FnTestCase, admin, admin_token,
                          invoke, metrics, request, timeout_ms, unique_fn)

RESTARTS = "fnrun_worker_restarts_total"
HARD_KILLS = "fnrun_hard_kills_total"
FFFD = "\ufffd"

# The reproduction of issue 8, item 1: a hidden symbol reaches _Varmap.
VARMAP = ("function victim(){var x=1;return eval('x')}\n"
          "module.exports=function(req,res){var vm=victim[req.query.k];"
          "vm.x=(+req.query.reg)|0;var v=victim();res.json({t:typeof v})}")

# Every door of outside bytes into the heap, reported back as JSON.
DOORS = """module.exports = function (req, res) {
  function seen(v) { return { type: typeof v, value: v }; }
  var keys = Object.keys(req.payload || {});
  res.json({ query: seen(req.query.k), queryKeys: Object.keys(req.query),
             header: seen(req.headers['x-h']), body: seen(req.body),
             payload: seen(req.payload && req.payload.s), payloadKeys: keys,
             env: seen(req.env.HOSTILE) });
};"""


class SandboxHolesTest(FnTestCase):

    def setUp(self):
        self.m0 = metrics()

    def assertNoWorkerDied(self):
        m1 = metrics()
        for name in (RESTARTS, HARD_KILLS):
            self.assertEqual(m1.get(name, 0), self.m0.get(name, 0),
                             "%s moved: a worker died" % name)

    # ---------------------------------------------------------- item 1

    def test_invalid_utf8_query_is_no_hidden_symbol(self):
        p, rq, f, _ = self.deploy(VARMAP)
        for k in ("%82Varmap", "%FFVarmap", "%82Pc2line", "%82Target"):
            r = invoke(p, rq, f, query="k=%s&reg=200000" % k)
            # victim[k] is undefined: reading .x of it is a TypeError.
            self.assertError(r, 500, "function_error", k)
            self.assertIn("TypeError", r.json()["message"], k)
        self.assertNoWorkerDied()

    def test_invalid_utf8_through_every_door(self):
        p, rq, f, _ = self.deploy(DOORS)
        self.assertStatus(admin("PUT", "/projects/%s/env/HOSTILE" % p,
                                b"\x82Varmap"), 204)
        body = b'{"s":"\x82Varmap","\xffk":1}'
        r = invoke(p, rq, f, body=body, query="k=%82Varmap&%FFq=1",
                   headers={"X-H": b"\x82Varmap"})
        self.assertStatus(r, 200)
        got = r.json()
        want = {"type": "string", "value": FFFD + "Varmap"}
        for door in ("query", "header", "payload", "env"):
            self.assertEqual(got[door], want, door)
        self.assertEqual(got["body"], {"type": "string",
                                       "value": '{"s":"%sVarmap","%sk":1}' % (FFFD, FFFD)})
        self.assertEqual(got["payloadKeys"], ["s", FFFD + "k"])
        self.assertIn(FFFD + "q", got["queryKeys"])
        self.assertNoWorkerDied()

    def test_valid_utf8_passes_unchanged(self):
        p, rq, f, _ = self.deploy(DOORS)
        r = invoke(p, rq, f, body='{"s":"caf\u00e9 \U0001f600"}'.encode("utf-8"),
                   query="k=%E2%82%AC")
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["payload"]["value"], "caf\u00e9 \U0001f600")
        self.assertEqual(r.json()["query"]["value"], "\u20ac")

    def test_source_not_utf8_is_a_syntax_error(self):
        p, rq, f = unique_fn()
        r = request("PUT", "/functions/%s/%s/%s" % (p, rq, f),
                    b"var s = '\x82';\nmodule.exports = function (q, s) {};",
                    {"Authorization": "Bearer " + admin_token(),
                     "Content-Type": "application/javascript"})
        body = self.assertError(r, 422, "syntax_error")
        self.assertEqual(body["line"], 1)

    # ---------------------------------------------------------- items 2-5, 7, 9

    def test_send_reentered_from_headers_getter(self):
        p, rq, f, _ = self.deploy("""module.exports = function (req, res) {
  var n = 0, h = {};
  Object.defineProperty(h, 'x-a', { enumerable: true, get: function () {
    n++; if (n < 500) res.send(new Array(100000).join('b'), 200, h); return 'v'; } });
  res.send('outer', 200, h);
};""")
        r = invoke(p, rq, f)
        body = self.assertError(r, 500, "function_error")
        self.assertIn("more than once", body["message"])
        self.assertNoWorkerDied()

    def test_response_headers_capped(self):
        p, rq, f, _ = self.deploy("""module.exports = function (req, res) {
  var v = 'v', h = {}; while (v.length < 4 << 20) v += v;
  for (var i = 0; i < 100; i++) h['x-' + i] = v;
  res.send('ok', 200, h);
};""")
        r = invoke(p, rq, f)
        body = self.assertError(r, 500, "response_too_large")
        self.assertIn("65536", body["message"])
        self.assertLess(len(r.body), 4096)
        p, rq, f, _ = self.deploy("""module.exports = function (req, res) {
  var h = {}; for (var i = 0; i < 101; i++) h['x-' + i] = 'v';
  res.send('ok', 200, h);
};""")
        self.assertError(invoke(p, rq, f), 500, "response_too_large")
        self.assertNoWorkerDied()

    def test_empty_console_entries_are_counted(self):
        p, rq, f, _ = self.deploy("""module.exports = function (req, res) {
  var t = Date.now(); while (Date.now() - t < %d) console.log('');
  res.send('done');
};""" % (timeout_ms() * 6 // 10))
        r = invoke(p, rq, f, debug=True)
        self.assertStatus(r, 200)
        env = r.json()
        self.assertEqual(env["status"], 200)
        self.assertEqual(env["body"], "done")
        self.assertEqual(len(env["logs"]), 1001)
        self.assertIn("truncated at 1000 entries", env["logs"][-1]["message"])
        self.assertLess(len(r.body), 64 * 1024)

    def test_error_answer_bounded(self):
        p, rq, f, _ = self.deploy("""module.exports = function (req, res) {
  var m = '\\x01'; while (m.length < 2000000) m += m;
  throw new Error(m);
};""")
        r = invoke(p, rq, f)
        body = self.assertError(r, 500, "function_error")
        self.assertIn("[fnrun: truncated]", body["message"])
        self.assertIn("[fnrun: truncated]", body["stack"])
        # 16 KiB each, JSON-escaped (\\u0001 is six bytes).
        self.assertLess(len(r.body), 2 * 6 * 16 * 1024 + 1024)
        r = invoke(p, rq, f, debug=True)
        self.assertStatus(r, 200)
        # (the envelope carries the error twice: as body and as error)
        self.assertLess(len(r.body), 512 * 1024)
        self.assertEqual(r.json()["error"]["error"], "function_error")

    def test_status_1xx_is_refused(self):
        p, rq, f, _ = self.deploy("""module.exports = function (req, res) {
  res.send('HTTP/1.1 200 OK\\r\\nX-Forged: 1\\r\\n\\r\\nforged', +req.query.s);
};""")
        for s in (100, 101, 199):
            r = invoke(p, rq, f, query="s=%d" % s)
            body = self.assertError(r, 500, "function_error", str(s))
            self.assertIn("200 to 599", body["message"])
            self.assertIsNone(r.header("X-Forged"))
        self.assertStatus(invoke(p, rq, f, query="s=200"), 200)

    def test_x_accel_headers_are_dropped(self):
        p, rq, f, _ = self.deploy("""module.exports = function (req, res) {
  res.send('mine', 200, { 'X-Accel-Redirect': '/metrics', 'x-accel-buffering': 'no',
                          'X-Accel-Limit-Rate': '1', 'X-Kept': 'yes' });
};""")
        r = invoke(p, rq, f)
        self.assertStatus(r, 200)
        self.assertEqual(r.text, "mine")
        self.assertEqual(r.header("X-Kept"), "yes")
        for name in ("X-Accel-Redirect", "X-Accel-Buffering", "X-Accel-Limit-Rate"):
            self.assertIsNone(r.header(name), name)

    def test_stack_getter_that_throws(self):
        p, rq, f, _ = self.deploy("""module.exports = function (req, res) {
  var e = new Error('boom');
  Object.defineProperty(e, 'stack', { get: function () { throw new Error('no'); } });
  throw e;
};""")
        for _ in range(6):
            body = self.assertError(invoke(p, rq, f), 500, "function_error")
            self.assertEqual(body["message"], "Error: boom")
        self.assertNoWorkerDied()
        self.assertWellBehavedServes(self.deploy(WELL_BEHAVED)[:3])

    def test_thrown_value_whose_tostring_loops_is_a_timeout(self):
        p, rq, f, _ = self.deploy("""module.exports = function (req, res) {
  throw { toString: function () { for (;;) {} } };
};""")
        self.assertError(invoke(p, rq, f), 504, "timeout")

    def test_exports_getter_that_throws_at_upload(self):
        p, rq, f = unique_fn()
        r = request("PUT", "/functions/%s/%s/%s" % (p, rq, f),
                    "Object.defineProperty(module, 'exports', { get: function () {"
                    " throw new Error('gotcha'); } });",
                    {"Authorization": "Bearer " + admin_token(),
                     "Content-Type": "application/javascript"})
        body = self.assertError(r, 500, "function_error")
        self.assertIn("gotcha", body["message"])
        self.assertNoWorkerDied()

    # ---------------------------------------------------------- item 10

    def test_too_many_query_parameters_or_headers(self):
        p, rq, f, _ = self.deploy(WELL_BEHAVED)
        q = "&".join("q%d=1" % i for i in range(129))
        body = self.assertError(invoke(p, rq, f, query=q), 400, "bad_request")
        self.assertIn("128 query parameters", body["message"])
        self.assertStatus(invoke(p, rq, f, body=b"{}", query="&".join(
            "q%d=1" % i for i in range(100))), 200)
        h = {"X-H%d" % i: "1" for i in range(130)}
        body = self.assertError(invoke(p, rq, f, headers=h), 400, "bad_request")
        self.assertIn("128 request headers", body["message"])

    # ---------------------------------------------------------- issue 9

    def test_cold_call_gets_budgets_for_top_level_and_call(self):
        """A top level and a handler that each take 0.7 of the limit: the
        upload accepts it, so every call must succeed, cold ones included."""
        spin = timeout_ms() * 7 // 10
        src = ("var t0 = Date.now(); while (Date.now() - t0 < %d) {}\n"
               "module.exports = function (req, res) {\n"
               "  var t = Date.now(); while (Date.now() - t < %d) {}\n"
               "  res.send('made it');\n};" % (spin, spin))
        p, rq, f, _ = self.deploy(src)
        for i in range(4):
            r = invoke(p, rq, f)
            self.assertStatus(r, 200, "call %d" % i)
            self.assertEqual(r.text, "made it")
        self.assertNoWorkerDied()
