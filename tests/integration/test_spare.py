"""The spare heap (issue 12, cold start), on the real stack.

Each worker makes one heap ahead of need, after an answer is sent while no
connection waits, and the first call of a function it holds no warm heap of
takes it (cache/spare.c). This module runs the same functions on two stacks
of one worker each, one with spare_heap = 0 (every first call makes its
heap) and one with the default spare_heap = 1, and checks that a function
served from a spare behaves exactly as one served from a heap made for it:
the globals and library it sees, its top-level state kept for its second
call, its memoryMb cap (a small cap applies to the heap it was given), and
nothing of a function that ran before it in the same worker. The invocation
log's "spare": true and fnrun_heaps_spare_total say the spare was used.
Outcomes only: nothing here measures time.
"""

import json
import os
import time

from fnrun_client import (FnTestCase, OwnStack, invocation_records, invoke,
                          log_dir, metrics, unique, upload)

# What a function sees in a new heap: its own globals, the library's names,
# the replaced JSON.parse, what Duktape's removal leaves, the prototypes an
# earlier function could have polluted; seen counts the calls its heap ran.
PROBE = r"""
var seen = typeof seen === 'undefined' ? 0 : seen;
module.exports = function (req, res) {
  seen++;
  res.json({seen: seen, names: Object.getOwnPropertyNames(globalThis).sort(),
    leaked: typeof leaked, proto: typeof ({}).polluted, arr: typeof [].extra,
    dk: typeof Duktape, req: typeof require,
    lib: [typeof Promise, typeof Map, typeof Set, typeof WeakMap, typeof URL,
      typeof URLSearchParams, typeof setTimeout, typeof fetch, typeof crypto,
      typeof TextEncoder, typeof atob, typeof structuredClone,
      typeof performance],
    parse: [JSON.parse.name, JSON.parse.length, JSON.parse('{"a":[1,2.5]}').a[1]],
    payload: req.payload});
};
"""

# Leaves everything it can behind in its heap.
LEAKER = r"""
leaked = 'from the previous function';
Object.prototype.polluted = 1;
Array.prototype.extra = function () {};
JSON.parse = function () { return 'hijacked'; };
module.exports = function (req, res) { res.send('left'); };
"""

# Holds 12 MiB at once: over a memoryMb of 8, under one of 64.
HOLD = r"""
module.exports = function (req, res) {
  var s = 'x', a = [], i;
  while (s.length < 1048576) s += s;
  for (i = 0; i < 12; i++) a.push(s + i);
  res.send(String(a.length));
};
"""

WAIT_REQUESTS = 50      # /metrics requests a worker gets to make its spare
IDLE_PAUSE_S = 0.02     # between two of them: an idle moment for the worker


def spare_ready():
    return metrics().get("fnrun_spare_heaps", 0) >= 1


class SpareHeapTest(FnTestCase):
    """The functions' answers on a stack without spares are taken first
    (setUpClass); every test then runs on the stack with one."""

    @classmethod
    def setUpClass(cls):
        cls.project = unique("p")
        cls.fresh = {}
        stack = OwnStack("nospare", FNRUN_WORKERS=1,
                         FNRUN_SPARE_HEAP=0).start()
        try:
            cls.fresh = cls.answers_of(stack)
            cls.fresh["metrics"] = metrics()
        finally:
            stack.stop()
        cls.stack = OwnStack("spare", FNRUN_WORKERS=1).start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    # -- helpers

    @classmethod
    def put(cls, fn, source, query=""):
        r = upload(cls.project, "r", fn, source, query=query)
        assert r.status in (200, 201), "upload %s: %r" % (fn, r)

    @classmethod
    def call(cls, fn, body=b'{"k":"v"}'):
        r = invoke(cls.project, "r", fn, body)
        return r.status, r.text

    @classmethod
    def answers_of(cls, stack):
        """Every answer the comparisons need, on the stack in use."""
        del stack
        out = {}
        cls.put("probe", PROBE)
        out["probe"] = [cls.call("probe"), cls.call("probe")]
        cls.put("leaker", LEAKER)
        cls.put("after-leak", PROBE + "// another function\n")
        out["leak"] = [cls.call("leaker"), cls.call("after-leak")]
        cls.put("hold8", HOLD, "memoryMb=8")
        cls.put("hold64", HOLD, "memoryMb=64")
        out["hold"] = [cls.call("hold8"), cls.call("hold64")]
        cls.put("percall", PROBE, "isolation=per-call")
        out["percall"] = [cls.call("percall"), cls.call("percall")]
        return out

    def wait_spare(self):
        """Until the worker holds a spare. It makes one after an answer only
        when no connection waits: the pause leaves it that moment on a
        loaded machine (a pause, never a measure of time)."""
        for _ in range(WAIT_REQUESTS):
            if spare_ready():
                return
            time.sleep(IDLE_PAUSE_S)
        with open(os.path.join(log_dir(), "worker.log"), errors="replace") as f:
            tail = f.read()[-3000:]
        self.fail("the worker made no spare heap in %d idle moments; metrics %r; "
                  "worker.log: %s" % (WAIT_REQUESTS, metrics(), tail))

    def first_call(self, fn, body=b'{"k":"v"}'):
        """The first call of fn, asserted to be served from the spare."""
        self.wait_spare()
        before = metrics().get("fnrun_heaps_spare_total", 0)
        self.wait_spare()       # /metrics may not take the spare, but check
        got = self.call(fn, body)
        rec = invocation_records((self.project, "r", fn))
        self.assertTrue(rec, "no invocation record of %s" % fn)
        self.assertNotEqual(rec[-1].get("heap"), "warm", rec[-1])
        self.assertIs(rec[-1].get("spare"), True, rec[-1])
        self.assertEqual(metrics().get("fnrun_heaps_spare_total", 0), before + 1)
        return got

    # -- tests

    def test_first_call_from_spare_same_as_fresh(self):
        self.put("probe", PROBE)
        first = self.first_call("probe")
        second = self.call("probe")
        self.assertEqual([first, second], self.fresh["probe"])
        body = json.loads(first[1])
        self.assertEqual(body["seen"], 1, body)
        self.assertEqual(json.loads(second[1])["seen"], 2)      # kept warm
        self.assertEqual(body["payload"], {"k": "v"})
        self.assertEqual(body["parse"], ["parse", 2, 2.5])
        self.assertEqual((body["dk"], body["req"], body["leaked"]),
                         ("undefined", "undefined", "undefined"))
        self.assertNotIn("undefined", body["lib"], body["lib"])
        rec = invocation_records((self.project, "r", "probe"))
        self.assertEqual(rec[-1].get("heap"), "warm", rec[-1])
        self.assertNotIn("spare", rec[-1])

    def test_nothing_of_a_previous_function(self):
        self.put("leaker", LEAKER)
        self.put("after-leak", PROBE + "// another function\n")
        leak = self.first_call("leaker")
        after = self.first_call("after-leak")
        self.assertEqual([leak, after], self.fresh["leak"])
        body = json.loads(after[1])
        self.assertEqual((body["leaked"], body["proto"], body["arr"], body["seen"]),
                         ("undefined", "undefined", "undefined", 1), body)
        self.assertEqual(body["parse"], ["parse", 2, 2.5])

    def test_small_memory_cap_applies_to_spare(self):
        self.put("hold8", HOLD, "memoryMb=8")
        self.put("hold64", HOLD, "memoryMb=64")
        small = self.first_call("hold8")
        big = self.first_call("hold64")
        self.assertEqual([small, big], self.fresh["hold"])
        self.assertEqual(small[0], 500, small)
        self.assertEqual(json.loads(small[1])["error"], "memory_limit", small)
        self.assertEqual(big, (200, "12"))
        peak = invocation_records((self.project, "r", "hold8"))[-1]["heapPeak"]
        self.assertLessEqual(peak, 8 << 20)

    def test_per_call_isolation_from_spares(self):
        self.put("percall", PROBE, "isolation=per-call")
        answers = [self.first_call("percall"), self.first_call("percall")]
        self.assertEqual(answers, self.fresh["percall"])
        self.assertEqual([json.loads(t)["seen"] for _, t in answers], [1, 1])

    def test_spare_not_counted_as_warm(self):
        """fnrun_warm_heaps counts the function heaps; the spare is the
        fnrun_spare_heaps gauge, and the stack without spares has none."""
        self.wait_spare()
        m = metrics()
        self.assertEqual(m.get("fnrun_spare_heaps"), 1)
        self.assertEqual(self.fresh["metrics"].get("fnrun_spare_heaps"), 0)
        self.assertEqual(self.fresh["metrics"].get("fnrun_heaps_spare_total"), 0)
