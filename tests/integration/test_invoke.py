"""Invoking functions (SPEC §5 req/res, §6): what the handler sees, what the
caller gets back, version pinning, the debug envelope, console capture and
the body limits."""

import json

from fnrun_client import (SERVER_TIMING_RE, FnTestCase, admin_token,
                          find_log_lines, invoke, invoke_key, marker, request,
                          unique_fn, upload)

ECHO = r"""
module.exports = function (req, res) {
  res.json({method: req.method, path: req.path, query: req.query,
            headers: req.headers, body: req.body, payload: req.payload,
            bodyLength: req.body.length,
            codes: req.body.length <= 16 ?
                   req.body.split('').map(function (c) { return c.charCodeAt(0); }) : null});
};
"""

def sized(n):
    """A function answering a body of exactly n bytes, built by doubling (a
    sparse Array.join of millions of elements would outlast the deadline)."""
    return ("module.exports = function (req, res) {\n"
            "  var s = 'y';\n"
            "  while (s.length < %d) s += s;\n"
            "  res.send(s.slice(0, %d));\n};\n" % (n, n))


LEN = "module.exports = function (req, res) { res.send(String(req.body.length)); };"


class InvokeRequestTest(FnTestCase):

    @classmethod
    def setUpClass(cls):
        cls.names = unique_fn()
        r = upload(*cls.names, ECHO)
        assert r.status == 201, r

    def test_req_fields_json_body(self):
        p, rq, f = self.names
        body = '{"k": [1, 2], "s": "x"}'
        r = request("POST", "/invoke/%s/%s/%s?a=1&b=hello%%20world" % (p, rq, f), body, {
            "X-Fn-Key": invoke_key(),
            "Authorization": "Bearer " + admin_token(),
            "Content-Type": "application/json",
            "X-Custom-Thing": "Foo Bar",
        })
        self.assertStatus(r, 200)
        got = r.json()
        self.assertEqual(got["method"], "POST")
        self.assertEqual(got["path"], "/invoke/%s/%s/%s" % (p, rq, f))
        self.assertEqual(got["query"], {"a": "1", "b": "hello world"})
        self.assertEqual(got["body"], body)
        self.assertEqual(got["payload"], {"k": [1, 2], "s": "x"})
        h = got["headers"]
        self.assertIsInstance(h, dict)
        self.assertEqual(h.get("x-custom-thing"), "Foo Bar", h)
        self.assertEqual(h.get("content-type"), "application/json", h)
        for name in h:
            self.assertEqual(name, name.lower(), "header names are lower-case: %r" % h)
        self.assertNotIn("x-fn-key", h)
        self.assertNotIn("authorization", h)
        self.assertNotIn(invoke_key(), json.dumps(got), "invoke key leaked to function")
        self.assertNotIn(admin_token(), json.dumps(got), "admin token leaked to function")

    def test_payload_is_string_when_not_json(self):
        for body in ("hello world", "{broken", "[1,", "undefined"):
            r = invoke(*self.names, body)
            self.assertStatus(r, 200)
            got = r.json()
            self.assertEqual(got["body"], body)
            self.assertEqual(got["payload"], body)

    def test_payload_json_scalars(self):
        for body, value in (("42", 42), ('"s"', "s"), ("null", None), ("[1,{}]", [1, {}]),
                            ("true", True)):
            r = invoke(*self.names, body)
            self.assertStatus(r, 200)
            self.assertEqual(r.json()["payload"], value, body)

    def test_body_with_nul_bytes_arrives_whole(self):
        r = invoke(*self.names, b"a\x00b\x00")
        self.assertStatus(r, 200)
        got = r.json()
        self.assertEqual(got["bodyLength"], 4)
        self.assertEqual(got["codes"], [97, 0, 98, 0])

    def test_utf8_body_round_trips(self):
        names = unique_fn()
        self.deploy("module.exports = function (req, res) { res.send(req.body); };", names)
        text = "h\u00e9llo \u2603 \U0001F600"
        r = invoke(*names, text.encode("utf-8"))
        self.assertStatus(r, 200)
        self.assertEqual(r.body, text.encode("utf-8"))

    def test_empty_body(self):
        r = invoke(*self.names, b"")
        self.assertStatus(r, 200)
        got = r.json()
        self.assertEqual(got["body"], "")
        self.assertEqual(got["bodyLength"], 0)

    def test_request_body_at_limit_is_accepted(self):
        names = unique_fn()
        self.deploy(LEN, names)
        r = invoke(*names, b"x" * (1024 * 1024))
        self.assertStatus(r, 200)
        self.assertEqual(r.text, str(1024 * 1024))

    def test_request_body_over_limit_is_413(self):
        names = unique_fn()
        self.deploy(LEN, names)
        r = invoke(*names, b"x" * (1024 * 1024 + 1))
        self.assertError(r, 413, "payload_too_large")


class InvokeResponseTest(FnTestCase):

    def test_send_status_and_headers(self):
        names = unique_fn()
        self.deploy("module.exports = function (req, res) {\n"
                    "  res.send('short and stout', 418, {'X-Tea': 'earl grey',"
                    " 'Content-Type': 'text/plain; charset=utf-8'});\n};", names)
        r = invoke(*names)
        self.assertStatus(r, 418)
        self.assertEqual(r.body, b"short and stout")
        self.assertEqual(r.header("X-Tea"), "earl grey")
        self.assertEqual(r.header("Content-Type"), "text/plain; charset=utf-8")

    def test_send_defaults_to_200(self):
        names = unique_fn()
        self.deploy("module.exports = function (req, res) { res.send('d'); };", names)
        r = invoke(*names)
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"d")

    def test_json_status_and_headers(self):
        names = unique_fn()
        value = {"a": [1, 2, {"b": None}], "s": "\u00e9\u2603", "n": 1.5}
        self.deploy("module.exports = function (req, res) {\n"
                    "  res.json(%s, 201, {'X-J': 'yes'});\n};" % json.dumps(value), names)
        r = invoke(*names)
        self.assertStatus(r, 201)
        self.assertEqual(r.json(), value)
        self.assertEqual(r.header("X-J"), "yes")
        self.assertTrue(r.header("Content-Type", "").startswith("application/json"), r)

    def test_json_defaults_to_200(self):
        names = unique_fn()
        self.deploy("module.exports = function (req, res) { res.json([1, 'two']); };", names)
        r = invoke(*names)
        self.assertStatus(r, 200)
        self.assertEqual(r.json(), [1, "two"])

    def test_hop_by_hop_and_framing_headers_are_dropped(self):
        names = unique_fn()
        self.deploy("module.exports = function (req, res) {\n"
                    "  res.send('x', 200, {'Connection': 'close', 'Transfer-Encoding': 'chunked',"
                    " 'Content-Length': '999', 'Keep-Alive': 'timeout=99',"
                    " 'Upgrade': 'h2c', 'X-Ok': '1'});\n};", names)
        r = invoke(*names)
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"x")
        self.assertEqual(r.header("X-Ok"), "1")
        self.assertNotEqual(r.header("Content-Length"), "999", r)
        self.assertIsNone(r.header("Keep-Alive"), r)
        self.assertIsNone(r.header("Upgrade"), r)
        for v in r.headers_named("Connection"):
            self.assertNotIn("close", v.lower(), r)

    def test_status_header_from_function_cannot_override_status(self):
        # FastCGI's Status header is the runtime's, not the function's.
        names = unique_fn()
        self.deploy("module.exports = function (req, res) {\n"
                    "  res.send('s', 201, {'Status': '302 Found', 'Location': '/x'});\n};",
                    names)
        r = invoke(*names)
        self.assertStatus(r, 201)
        self.assertEqual(r.body, b"s")

    def test_header_injection_is_impossible(self):
        names = unique_fn()
        self.deploy("module.exports = function (req, res) {\n"
                    "  res.send('i', 200, {'X-A': 'a\\r\\nX-Injected: 1',"
                    " 'X-B\\r\\nX-Injected2: 1': 'b'});\n};", names)
        r = invoke(*names)
        self.assertIsNone(r.header("X-Injected"), r)
        self.assertIsNone(r.header("X-Injected2"), r)
        if r.status != 200:
            self.assertError(r, 500, "function_error")

    def test_version_and_server_timing_headers(self):
        names = unique_fn()
        self.deploy("module.exports = function (req, res) { res.send('1'); };", names)
        _, _, _, v2 = self.deploy(
            "module.exports = function (req, res) { res.send('2'); };", names)
        self.assertEqual(v2, 2)
        r = invoke(*names)
        self.assertStatus(r, 200)
        self.assertEqual(r.header("X-Fn-Version"), "2")
        st = r.header("Server-Timing")
        self.assertIsNotNone(st, r)
        self.assertRegex(st, SERVER_TIMING_RE)

    def test_query_keys_are_own_properties(self):
        # "__proto__" becomes an own property (not the object's prototype),
        # and a repeated key keeps its last value.
        src = ("module.exports = function (req, res) { res.json({"
               " own: Object.keys(req.query),"
               " proto: req.query.hasOwnProperty('__proto__') ? req.query['__proto__'] : null,"
               " plain: Object.getPrototypeOf(req.query) === Object.prototype,"
               " a: req.query.a }); };")
        p, rq, f, _ = self.deploy(src)
        r = invoke(p, rq, f, query="__proto__=x&a=1&a=2")
        self.assertStatus(r, 200)
        self.assertEqual(r.json(), {"own": ["__proto__", "a"], "proto": "x",
                                    "plain": True, "a": "2"})

    def test_version_query_pins(self):
        names = unique_fn()
        for i in range(1, 4):
            self.deploy("module.exports = function (req, res) { res.send('v%d'); };" % i,
                        names)
        for v in (1, 2, 3):
            r = invoke(*names, query="version=%d" % v)
            self.assertStatus(r, 200)
            self.assertEqual(r.body, ("v%d" % v).encode())
            self.assertEqual(r.header("X-Fn-Version"), str(v))
        self.assertEqual(invoke(*names).body, b"v3")
        self.assertError(invoke(*names, query="version=4"), 404, "not_found")

    def test_unknown_function_is_404(self):
        self.assertError(invoke(*unique_fn()), 404, "not_found")
        p, rq, f = unique_fn()
        self.deploy("module.exports = function (req, res) { res.send('x'); };", (p, rq, f))
        self.assertError(invoke(p, rq, f + "x"), 404, "not_found")
        self.assertError(invoke(p, rq + "x", f), 404, "not_found")

    def test_response_at_limit_is_sent(self):
        names = unique_fn()
        self.deploy(sized(6 * 1024 * 1024), names)
        r = invoke(*names)
        self.assertStatus(r, 200)
        self.assertEqual(len(r.body), 6 * 1024 * 1024)
        self.assertEqual(r.body.strip(b"y"), b"")

    def test_response_over_limit_is_500(self):
        names = unique_fn()
        self.deploy(sized(6 * 1024 * 1024 + 1), names)
        r = invoke(*names)
        self.assertError(r, 500, "response_too_large")
        self.assertNotIn(b"yyyy", r.body)


class InvokeErrorTest(FnTestCase):

    def test_no_response(self):
        names = unique_fn()
        self.deploy("module.exports = function (req, res) { var x = 1; };", names)
        self.assertError(invoke(*names), 500, "no_response")

    def test_send_twice(self):
        m1, m2 = marker("first"), marker("second")
        names = unique_fn()
        self.deploy("module.exports = function (req, res) {\n"
                    "  res.send('%s'); res.send('%s');\n};" % (m1, m2), names)
        r = invoke(*names)
        self.assertError(r, 500, "function_error")
        self.assertNotIn(m1, r.text)
        self.assertNotIn(m2, r.text)

    def test_send_then_json(self):
        names = unique_fn()
        self.deploy("module.exports = function (req, res) {\n"
                    "  res.send('a'); res.json({b: 1});\n};", names)
        self.assertError(invoke(*names), 500, "function_error")

    def test_thrown_error_has_message_and_stack(self):
        m = marker("boom")
        names = unique_fn()
        self.deploy("module.exports = function (req, res) {\n"
                    "  helper();\n"
                    "};\n"
                    "function helper() { throw new Error('%s'); }\n" % m, names)
        r = invoke(*names)
        body = self.assertError(r, 500, "function_error")
        self.assertIn(m, body["message"])
        self.assertIsInstance(body.get("stack"), str, body)
        self.assertIn("helper", body["stack"], body)

    def test_thrown_non_error(self):
        m = marker("str")
        names = unique_fn()
        self.deploy("module.exports = function (req, res) { throw '%s'; };" % m, names)
        body = self.assertError(invoke(*names), 500, "function_error")
        self.assertIn(m, body["message"])

    def test_type_error(self):
        names = unique_fn()
        self.deploy("module.exports = function (req, res) { null.x(); };", names)
        body = self.assertError(invoke(*names), 500, "function_error")
        self.assertIn("TypeError", body["message"] + body.get("stack", ""))

    def test_send_then_throw_returns_no_partial_response(self):
        m = marker("partial")
        names = unique_fn()
        self.deploy("module.exports = function (req, res) {\n"
                    "  res.send('%s', 200, {'X-Partial': '1'});\n"
                    "  throw new Error('after send');\n};" % m, names)
        r = invoke(*names)
        self.assertError(r, 500, "function_error")
        self.assertNotIn(m, r.text)
        self.assertIsNone(r.header("X-Partial"), r)

    def test_send_then_loop_returns_timeout_without_partial_body(self):
        m = marker("partial")
        names = unique_fn()
        self.deploy("module.exports = function (req, res) {\n"
                    "  res.send('%s', 200, {'X-Partial': '1'});\n"
                    "  while (true) {}\n};" % m, names)
        r = invoke(*names)
        self.assertError(r, 504, "timeout")
        self.assertNotIn(m, r.text)
        self.assertIsNone(r.header("X-Partial"), r)

    def test_error_answer_names_the_version_that_ran(self):
        # If an error answer carries X-Fn-Version, it is the version that ran.
        names = unique_fn()
        self.deploy("module.exports = function (req, res) { throw new Error('x'); };", names)
        r = invoke(*names)
        self.assertError(r, 500, "function_error")
        v = r.header("X-Fn-Version")
        if v is not None:
            self.assertEqual(v, "1")


class DebugEnvelopeTest(FnTestCase):

    def envelope(self, r):
        self.assertStatus(r, 200, "debug answers are always 200")
        self.assertTrue(r.header("Content-Type", "").startswith("application/json"), r)
        env = r.json()
        for k in ("status", "headers", "body", "logs", "durationMs", "memoryPeakBytes",
                  "version"):
            self.assertIn(k, env, env)
        self.assertIsInstance(env["logs"], list)
        for entry in env["logs"]:
            self.assertIsInstance(entry.get("level"), str, entry)
            self.assertIsInstance(entry.get("message"), str, entry)
        self.assertIsInstance(env["durationMs"], (int, float))
        self.assertGreaterEqual(env["durationMs"], 0)
        self.assertIsInstance(env["memoryPeakBytes"], int)
        self.assertGreater(env["memoryPeakBytes"], 0)
        return env

    def test_envelope_of_success(self):
        m = marker()
        names = unique_fn()
        _, _, _, v = self.deploy(
            "module.exports = function (req, res) {\n"
            "  console.log('L-%s', 42);\n"
            "  console.info('I-%s');\n"
            "  console.warn('W-%s');\n"
            "  console.error('E-%s');\n"
            "  res.send('ok-' + req.body, 202, {'X-D': 'd'});\n};" % (m, m, m, m), names)
        r = invoke(*names, "B", debug=True)
        env = self.envelope(r)
        self.assertEqual(env["status"], 202)
        self.assertEqual(env["body"], "ok-B")
        self.assertEqual(env["version"], v)
        hdrs = {k.lower(): val for k, val in env["headers"].items()}
        self.assertEqual(hdrs.get("x-d"), "d", env)
        self.assertNotIn("error", env)
        msgs = [(e["level"], e["message"]) for e in env["logs"]]
        self.assertEqual([x[1] for x in msgs],
                         ["L-%s 42" % m, "I-%s" % m, "W-%s" % m, "E-%s" % m], env)
        self.assertIn(msgs[0][0], ("log", "info"))
        self.assertEqual(msgs[1][0], "info")
        self.assertIn(msgs[2][0], ("warn", "warning"))
        self.assertEqual(msgs[3][0], "error")

    def test_envelope_of_thrown_error(self):
        m = marker()
        names = unique_fn()
        self.deploy("module.exports = function (req, res) {\n"
                    "  console.log('before-%s');\n"
                    "  throw new Error('E-%s');\n};" % (m, m), names)
        env = self.envelope(invoke(*names, debug=True))
        self.assertEqual(env["status"], 500)
        self.assertIsInstance(env.get("error"), dict, env)
        self.assertEqual(env["error"].get("error"), "function_error", env)
        self.assertIn("E-" + m, env["error"].get("message", ""), env)
        self.assertEqual([e["message"] for e in env["logs"]], ["before-" + m], env)

    def test_envelope_of_no_response(self):
        names = unique_fn()
        self.deploy("module.exports = function (req, res) {};", names)
        env = self.envelope(invoke(*names, debug=True))
        self.assertEqual(env["status"], 500)
        self.assertEqual(env["error"].get("error"), "no_response", env)

    def test_envelope_of_timeout(self):
        names = unique_fn()
        self.deploy("module.exports = function (req, res) {\n"
                    "  console.log('spinning');\n  while (true) {}\n};", names)
        env = self.envelope(invoke(*names, debug=True))
        self.assertEqual(env["status"], 504)
        self.assertEqual(env["error"].get("error"), "timeout", env)

    def test_console_output_is_truncated_at_64k_with_marker(self):
        names = unique_fn()
        self.deploy("module.exports = function (req, res) {\n"
                    "  var line = new Array(1001).join('z');\n"
                    "  for (var i = 0; i < 200; i++) console.log(line);\n"
                    "  res.send('done');\n};", names)
        env = self.envelope(invoke(*names, debug=True))
        self.assertEqual(env["status"], 200)
        self.assertEqual(env["body"], "done")
        total = sum(len(e["message"]) for e in env["logs"])
        self.assertLessEqual(total, 64 * 1024 + 1024, "captured %d chars" % total)
        self.assertGreaterEqual(total, 32 * 1024, "kept only %d chars" % total)
        text = json.dumps(env["logs"]).lower()
        self.assertIn("truncat", text, "no truncation marker in %r" % env["logs"][-2:])

    def test_debug_header_other_values_do_not_switch_envelope(self):
        names = unique_fn()
        self.deploy("module.exports = function (req, res) { res.send('plain', 201); };",
                    names)
        r = invoke(*names, headers={"X-Fn-Debug": "0"})
        self.assertStatus(r, 201)
        self.assertEqual(r.body, b"plain")


class ConsoleLogTest(FnTestCase):

    def test_console_lines_reach_nginx_error_log_tagged(self):
        p, rq, f = unique_fn()
        self.deploy("module.exports = function (req, res) { res.send('v1'); };", (p, rq, f))
        m1, m2, m3 = marker("LOGA"), marker("LOGB"), marker("LOGC")
        _, _, _, v = self.deploy(
            "module.exports = function (req, res) {\n"
            "  console.log('%s');\n"
            "  console.error('%s');\n"
            "  console.log('first\\n%s');\n"
            "  res.send('logged');\n};" % (m1, m2, m3), (p, rq, f))
        self.assertEqual(v, 2)
        r = invoke(p, rq, f)
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"logged")
        for m in (m1, m2, m3):
            lines = find_log_lines(m)
            self.assertEqual(len(lines), 1, "%s in nginx-error.log: %r" % (m, lines))
            line = lines[0]
            for name in (p, rq, f):
                self.assertIn(name, line, "tag missing in %r" % line)
            self.assertRegex(line, r"(?i)\b(version|ver|v)\W{0,3}2(?![0-9])",
                             "version missing in %r" % line)

    def test_debug_output_does_not_go_to_the_log(self):
        m = marker("DBG")
        names = unique_fn()
        self.deploy("module.exports = function (req, res) {\n"
                    "  console.log('%s'); res.send('x');\n};" % m, names)
        r = invoke(*names, debug=True)
        self.assertStatus(r, 200)
        # The positive case above shows lines arrive; a debug call's must not.
        other = marker("AFTER")
        names2 = unique_fn()
        self.deploy("module.exports = function (req, res) {\n"
                    "  console.log('%s'); res.send('x');\n};" % other, names2)
        self.assertStatus(invoke(*names2), 200)
        self.assertTrue(find_log_lines(other), "the non-debug line never arrived")
        self.assertEqual(find_log_lines(m, wait_s=0), [])
