"""Per-function limits (SPEC §6: "a function can ask for less or more within
the maximum"). fnrun's way of asking, as its README documents: ?timeoutMs=
and ?memoryMb= on the PUT upload (timeoutMs/memoryMb fields in the POST
form); the defaults are 1000 ms and 32 MiB, the maxima 30000 ms and 256 MiB.

If the upload refuses the parameters altogether (the feature is absent), the
tests skip; when present, they are asserted fully. As in test_hostile, the
upper time bounds are the issue's deadline property plus CI slack, and the
lower bounds check that a deadline is not cut short."""

import json

from fnrun_client import (FnTestCase, admin, invoke, store_snapshot, unique_fn,
                          upload)

SLACK_S = 1.0
HARD_MARGIN_S = 0.5
TIMEOUT_MAX_MS = 30000
MEMORY_MAX_MB = 256

LOOP = "module.exports = function (req, res) { while (true) {} };"

BUSY_1300 = ("module.exports = function (req, res) {\n"
             "  var t0 = Date.now();\n"
             "  while (Date.now() - t0 < 1300) {}\n"
             "  res.send('slow ok');\n};")


def hold_mb(mb):
    """Keeps mb MiB of distinct 1 MiB strings alive, then answers."""
    return ("module.exports = function (req, res) {\n"
            "  var c = 'x';\n"
            "  for (var i = 0; i < 20; i++) c += c;\n"
            "  var a = [];\n"
            "  for (var j = 0; j < %d; j++) a.push(c + j);\n"
            "  res.send('held ' + a.length);\n};" % mb)


class LimitsTest(FnTestCase):

    def deploy_limited(self, source, query):
        names = unique_fn()
        r = upload(*names, source, query=query)
        self.assertStatus(r, 201, "upload with ?%s" % query)
        return names, r.json()

    def test_fifty_ms(self):
        # Issue 4: a function given 50 ms times out at ~50 ms, and the
        # versions endpoint shows what it asked for.
        names, body = self.deploy_limited(LOOP, "timeoutMs=50&memoryMb=8")
        self.assertEqual((body["timeoutMs"], body["memoryMb"]), (50, 8), body)
        r = invoke(*names)
        got = self.assertError(r, 504, "timeout")
        self.assertIn("50 ms", got["message"])
        self.assertGreaterEqual(r.elapsed, 0.05, "deadline cut short")
        self.assertLess(r.elapsed, 0.05 + HARD_MARGIN_S + SLACK_S)
        v = admin("GET", "/functions/%s/%s/%s" % names).json()["versions"]
        self.assertEqual((v[0]["timeoutMs"], v[0]["memoryMb"]), (50, 8), v)

    def test_shorter_timeout(self):
        names, body = self.deploy_limited(LOOP, "timeoutMs=300")
        self.assertEqual(body["timeoutMs"], 300, body)
        r = invoke(*names)
        self.assertError(r, 504, "timeout")
        self.assertGreaterEqual(r.elapsed, 0.3, "deadline cut short")
        self.assertLess(r.elapsed, 0.3 + HARD_MARGIN_S + SLACK_S)

    def test_longer_timeout_lets_a_slow_function_finish(self):
        names, _ = self.deploy_limited(BUSY_1300, "timeoutMs=2500")
        r = invoke(*names)
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"slow ok")
        # and the same source at the default deadline is cut off
        names = unique_fn()
        self.deploy(BUSY_1300, names)
        self.assertError(invoke(*names), 504, "timeout")

    def test_longer_timeout_still_has_a_deadline(self):
        names, _ = self.deploy_limited(LOOP, "timeoutMs=1500")
        r = invoke(*names)
        self.assertError(r, 504, "timeout")
        self.assertGreaterEqual(r.elapsed, 1.5, "deadline cut short")
        self.assertLess(r.elapsed, 1.5 + HARD_MARGIN_S + SLACK_S)

    def test_watchdog_answer_names_the_version_and_limit_that_ran(self):
        # The watchdog's answers are built once and used again while the
        # version and the limit stay the same (invoke.c): after warm calls,
        # and after a new version with another limit, the answer is the
        # running one's. /(a+)+$/ is one native call the interrupt never
        # reaches, so the watchdog (not the event loop) answers.
        src = ("module.exports = function (req, res) {\n"
               "  if (req.payload && req.payload.hang) {\n"
               "    var s = new Array(41).join('a') + 'b';\n"
               "    res.send('x' + /(a+)+$/.test(s)); return; }\n"
               "  res.send('ok %d');\n};")
        names = unique_fn()
        for version, ms in ((1, 300), (2, 400)):
            r = upload(*names, src % version, query="timeoutMs=%d" % ms)
            self.assertStatus(r, 201)
            for _ in range(4):
                r = invoke(*names, b"{}")
                self.assertStatus(r, 200)
                self.assertEqual(r.body, b"ok %d" % version)
            r = invoke(*names, b'{"hang":true}')
            got = self.assertError(r, 504, "timeout")
            self.assertIn("%d ms" % ms, got["message"])
            self.assertEqual(r.header("X-Fn-Version"), str(version))

    def test_smaller_memory(self):
        names, body = self.deploy_limited(hold_mb(16), "memoryMb=8")
        if "memoryMb" in body:
            self.assertEqual(body["memoryMb"], 8, body)
        self.assertError(invoke(*names), 500, "memory_limit")
        # the same source at the default 32 MiB succeeds
        names = unique_fn()
        self.deploy(hold_mb(16), names)
        r = invoke(*names)
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"held 16")

    def test_larger_memory(self):
        names, _ = self.deploy_limited(hold_mb(48), "memoryMb=96")
        r = invoke(*names)
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"held 48")
        r = invoke(*names, debug=True)
        self.assertStatus(r, 200)
        env = r.json()
        self.assertGreater(env["memoryPeakBytes"], 48 << 20)
        self.assertLessEqual(env["memoryPeakBytes"], 96 << 20)
        names = unique_fn()
        self.deploy(hold_mb(48), names)
        self.assertError(invoke(*names), 500, "memory_limit")

    def test_memory_peak_never_exceeds_the_cap(self):
        names, _ = self.deploy_limited(hold_mb(100), "memoryMb=8")
        r = invoke(*names, debug=True)
        self.assertStatus(r, 200)
        env = r.json()
        self.assertEqual(env["status"], 500)
        self.assertEqual(env["error"]["error"], "memory_limit")
        self.assertLessEqual(env["memoryPeakBytes"], 8 << 20)

    def test_post_form_limits(self):
        names = unique_fn()
        p, rq, f = names
        r = admin("POST", "/functions", json.dumps(
            {"projectId": p, "requestId": rq, "fnName": f, "fnDefinition": LOOP,
             "timeoutMs": 300}), {"Content-Type": "application/json"})
        self.assertStatus(r, 201)
        self.assertEqual(r.json()["timeoutMs"], 300)
        r = invoke(*names)
        self.assertError(r, 504, "timeout")
        self.assertLess(r.elapsed, 0.3 + HARD_MARGIN_S + SLACK_S)

    def test_above_maximum_is_refused_and_nothing_stored(self):
        before = store_snapshot()
        for q in ("timeoutMs=%d" % (TIMEOUT_MAX_MS + 1), "memoryMb=%d" % (MEMORY_MAX_MB + 1),
                  "timeoutMs=0", "memoryMb=0", "timeoutMs=abc", "timeoutMs=-5"):
            names = unique_fn()
            r = upload(*names, LOOP, query=q)
            self.assertEqual(r.status, 400, "%s: %r" % (q, r))
            body = r.try_json()
            self.assertIsInstance(body, dict, r)
            self.assertIsInstance(body.get("error"), str, r)
            self.assertIsInstance(body.get("message"), str, r)
            self.assertError(invoke(*names), 404, "not_found", "nothing stored")
        self.assertEqual(sorted(store_snapshot() - before), [])

    def test_at_maximum_is_accepted(self):
        names, body = self.deploy_limited(
            "module.exports = function (req, res) { res.send('max'); };",
            "timeoutMs=%d&memoryMb=%d" % (TIMEOUT_MAX_MS, MEMORY_MAX_MB))
        self.assertEqual(invoke(*names).body, b"max")
