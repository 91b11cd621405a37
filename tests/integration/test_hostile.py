"""Hostile functions (issue 2, SPEC §4 and §6): whatever a function does, the
caller gets the right JSON error within the deadline, and the pool goes on
serving.

The deadline bound here is a correctness property the issue requires (the
answer arrives within timeout + 0.5 s even when Duktape is stuck in native
code), not a performance target. It is asserted with 1.0 s of slack for CI
noise on top of timeout + 0.5 s. Every measured time is appended to
$FNRUN_STATE_DIR/../hostile-times.tsv, which run.py prints at the end.

After each case, a well-behaved function is called several times in a row and
then several times at once, all without retries: a worker that had to be
killed must already be replaced or its calls served by the other workers, so
nothing but 200 is acceptable.
"""

import os
import threading

from fnrun_client import (WELL_BEHAVED, FnTestCase, invoke, parallel,
                          timeout_ms, unique_fn, upload)

SLACK_S = 1.0               # CI noise allowance on top of the bound
HARD_MARGIN_S = 0.5         # issue 2: answer within timeout + 0.5 s

TIMES_LOCK = threading.Lock()

# The hostile sources are written for the deadline the runner uses.
DEADLINE_MS_FOR_CASES = timeout_ms()


def bound_s():
    return timeout_ms() / 1000.0 + HARD_MARGIN_S


def record_time(case, r):
    """Appends (case, status, error, seconds) to hostile-times.tsv and prints it."""
    body = r.try_json()
    err = body.get("error", "") if isinstance(body, dict) else ""
    path = os.path.join(os.path.dirname(os.environ["FNRUN_STATE_DIR"].rstrip("/")),
                        "hostile-times.tsv")
    with TIMES_LOCK:
        new = not os.path.exists(path)
        with open(path, "a") as f:
            if new:
                f.write("case\tstatus\terror\tseconds\n")
            f.write("%s\t%d\t%s\t%.3f\n" % (case, r.status, err, r.elapsed))
    print("  [hostile] %-28s %d %-18s %.3fs" % (case, r.status, err, r.elapsed),
          flush=True)


def handler(body):
    return "module.exports = function (req, res) {\n%s\n  res.send('unreachable');\n};\n" % body


# name -> (handler body, the acceptable (status, error) answers)
CASES = {
    "infinite_loop": (
        "  while (true) {}",
        {(504, "timeout")}),
    "loop_in_finally": (
        "  try { } finally { while (true) {} }",
        {(504, "timeout")}),
    "catch_and_continue_loop": (
        "  for (;;) { try { while (true) {} } catch (e) { } }",
        {(504, "timeout")}),
    "catch_and_continue_with_finally": (
        "  for (;;) { try { try { while (true) {} } finally { for (;;) {} } }"
        " catch (e) { continue; } }",
        {(504, "timeout")}),
    "catastrophic_regexp": (
        "  var s = new Array(41).join('a') + 'b';\n"
        "  var r = /(a+)+$/.test(s);",
        {(504, "timeout")}),
    "catastrophic_regexp_caught_in_loop": (
        "  var s = new Array(41).join('a') + 'b';\n"
        "  for (;;) { try { /(a+)+$/.test(s); } catch (e) { } }",
        {(504, "timeout")}),
    "json_stringify_loop": (
        "  var a = [];\n"
        "  for (;;) { a.push(JSON.stringify(a).length); }",
        {(504, "timeout"), (500, "memory_limit")}),
    "json_stringify_6mb_string": (
        "  var s = 'x';\n"
        "  while (s.length < 6 * 1024 * 1024) s += s;\n"
        "  for (;;) { var t = JSON.stringify(s); }",
        {(504, "timeout"), (500, "memory_limit")}),
    "join_loop": (
        "  var a = [];\n"
        "  for (var i = 0; i < 100000; i++) a.push('abcdefghij' + i);\n"
        "  for (;;) { var s = a.join(','); a.push(s.length); }",
        {(504, "timeout"), (500, "memory_limit")}),
    "sparse_join_6m": (
        # One native call that outlasts the deadline by itself.
        "  for (;;) { var s = new Array(6 * 1024 * 1024).join('x'); }",
        {(504, "timeout"), (500, "memory_limit")}),
    "native_calls_past_deadline": (
        # Few bytecode instructions, each a ~10 ms native call, ending by
        # itself between the deadline and timeout + 0.5 s: it ran too long,
        # so its answer must not be delivered.
        "  var t0 = Date.now();\n"
        "  while (Date.now() - t0 < %d) { new Array(1e5).join('x'); }\n"
        "  res.send('late'); return;" % (DEADLINE_MS_FOR_CASES + 100),
        {(504, "timeout")}),
    "string_doubling": (
        "  var s = 'x';\n"
        "  for (;;) s += s;",
        {(504, "timeout"), (500, "memory_limit")}),
    "unbounded_recursion": (
        "  function f() { return f() + 1; }\n"
        "  f();",
        {(500, "function_error")}),
    "allocation_until_cap": (
        # 128 KiB strings built by doubling (fast), kept alive until the cap.
        "  var c = 'x';\n"
        "  for (var i = 0; i < 17; i++) c += c;\n"
        "  var a = [];\n"
        "  for (;;) a.push(c + a.length);",
        {(500, "memory_limit")}),
    "allocation_until_cap_caught": (
        "  var c = 'x';\n"
        "  for (var i = 0; i < 17; i++) c += c;\n"
        "  var a = [];\n"
        "  for (;;) { try { a.push(c + a.length); } catch (e) { } }",
        {(500, "memory_limit"), (504, "timeout")}),
}


class HostileTest(FnTestCase):

    @classmethod
    def setUpClass(cls):
        cls.good = unique_fn()
        r = upload(*cls.good, WELL_BEHAVED)
        assert r.status == 201, r

    def run_case(self, name):
        body, accepted = CASES[name]
        names = unique_fn()
        r = upload(*names, handler(body))
        self.assertStatus(r, 201, "upload of %s" % name)
        r = invoke(*names)
        record_time(name, r)
        got = r.try_json()
        self.assertIsInstance(got, dict, "%s: not JSON: %r" % (name, r))
        self.assertIn((r.status, got.get("error")), accepted, "%s: %r" % (name, r))
        self.assertError(r, r.status, got.get("error"), name)
        self.assertNotIn(b"unreachable", r.body)
        self.assertLess(r.elapsed, bound_s() + SLACK_S,
                        "%s answered after %.3fs (bound %.1fs + %.1fs slack)"
                        % (name, r.elapsed, bound_s(), SLACK_S))
        if name == "unbounded_recursion":
            self.assertIn("RangeError", got.get("message", "") + got.get("stack", ""), got)
        self.assertWellBehavedServes(self.good, msg="after %s:" % name)
        return r

    def test_infinite_loop(self):
        self.run_case("infinite_loop")

    def test_loop_in_finally(self):
        self.run_case("loop_in_finally")

    def test_catch_and_continue_loop(self):
        self.run_case("catch_and_continue_loop")

    def test_catch_and_continue_with_finally(self):
        self.run_case("catch_and_continue_with_finally")

    def test_catastrophic_regexp(self):
        self.run_case("catastrophic_regexp")

    def test_catastrophic_regexp_caught_in_loop(self):
        self.run_case("catastrophic_regexp_caught_in_loop")

    def test_json_stringify_loop(self):
        self.run_case("json_stringify_loop")

    def test_json_stringify_6mb_string(self):
        self.run_case("json_stringify_6mb_string")

    def test_join_loop(self):
        self.run_case("join_loop")

    def test_string_doubling(self):
        self.run_case("string_doubling")

    def test_unbounded_recursion(self):
        self.run_case("unbounded_recursion")

    def test_allocation_until_cap(self):
        self.run_case("allocation_until_cap")

    def test_allocation_until_cap_caught(self):
        self.run_case("allocation_until_cap_caught")

    def test_sparse_join_6m(self):
        self.run_case("sparse_join_6m")

    def test_native_calls_past_deadline(self):
        self.run_case("native_calls_past_deadline")

    def test_hostile_function_keeps_serving_its_next_call(self):
        # The same hostile function called twice: the second call is judged
        # the same way (the heap or the worker was not left broken).
        names = unique_fn()
        self.deploy(handler(CASES["allocation_until_cap"][0]), names)
        for i in range(2):
            r = invoke(*names)
            record_time("allocation_until_cap#%d" % (i + 1), r)
            self.assertError(r, 500, "memory_limit")
        names = unique_fn()
        self.deploy(handler(CASES["catastrophic_regexp"][0]), names)
        for i in range(2):
            r = invoke(*names)
            record_time("catastrophic_regexp#%d" % (i + 1), r)
            self.assertError(r, 504, "timeout")
            self.assertLess(r.elapsed, bound_s() + SLACK_S)
        self.assertWellBehavedServes(self.good, msg="after repeated hostile calls:")

    def test_top_level_infinite_loop_at_upload(self):
        # The top level runs once at upload (SPEC §5) under the same deadline:
        # the upload is refused in bound and nothing is stored.
        names = unique_fn()
        r = upload(*names, "while (true) {}\nmodule.exports = function (req, res) {};\n")
        record_time("upload_top_level_loop", r)
        got = r.try_json()
        self.assertIsInstance(got, dict, r)
        self.assertIn((r.status, got.get("error")),
                      {(504, "timeout"), (422, "timeout"), (422, "syntax_error"),
                       (422, "no_handler")}, r)
        self.assertError(r, r.status, got.get("error"))
        self.assertLess(r.elapsed, bound_s() + SLACK_S)
        self.assertError(invoke(*names), 404, "not_found", "nothing stored")
        self.assertWellBehavedServes(self.good, msg="after hostile upload:")

    def test_top_level_regexp_at_upload(self):
        names = unique_fn()
        r = upload(*names, "var x = /(a+)+$/.test(new Array(41).join('a') + 'b');\n"
                           "module.exports = function (req, res) { res.send('x'); };\n")
        record_time("upload_top_level_regexp", r)
        got = r.try_json()
        self.assertIsInstance(got, dict, r)
        self.assertIn((r.status, got.get("error")),
                      {(504, "timeout"), (422, "timeout"), (422, "syntax_error"),
                       (422, "no_handler")}, r)
        self.assertLess(r.elapsed, bound_s() + SLACK_S)
        self.assertError(invoke(*names), 404, "not_found", "nothing stored")
        self.assertWellBehavedServes(self.good, msg="after hostile upload:")

    def test_y_kill_storm_does_not_shrink_the_pool(self):
        # Every worker stuck in native code at once, twice in a row (spawn-fcgi
        # never respawns, multiwatch gives up after 3 quick deaths): the pool
        # must come back whole. Times are recorded, not asserted: the second
        # round may wait for replacements.
        names = unique_fn()
        self.deploy(handler(CASES["catastrophic_regexp"][0]), names)
        for rnd in range(2):
            answers = parallel(lambda: invoke(*names), [()] * 3)
            for i, r in enumerate(answers):
                record_time("storm_round%d_%d" % (rnd + 1, i + 1), r)
                self.assertError(r, 504, "timeout", "storm round %d" % (rnd + 1))
        self.assertWellBehavedServes(self.good, n_seq=6, n_par=9, msg="after storm:")

    def test_z_pool_runs_three_hostile_calls_in_parallel(self):
        # With 3 workers, 3 simultaneous infinite loops each end at the
        # deadline: if fewer workers were serving, the last would wait for a
        # deadline more, i.e. take 2 x timeout. (A correctness property of the
        # pool's size, with the same noise margin as above.)
        self.assertWellBehavedServes(self.good, msg="before parallel check:")
        names = unique_fn()
        self.deploy(handler(CASES["infinite_loop"][0]), names)
        answers = parallel(lambda: invoke(*names), [()] * 3)
        for i, r in enumerate(answers):
            record_time("parallel3_%d" % (i + 1), r)
            self.assertError(r, 504, "timeout")
        worst = max(r.elapsed for r in answers)
        self.assertLess(worst, 2 * timeout_ms() / 1000.0,
                        "3 parallel calls took %.3fs: not 3 workers serving" % worst)
        self.assertWellBehavedServes(self.good, msg="after parallel check:")
