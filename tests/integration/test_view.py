"""The worker's view of the store (fcgi-app/store/store_view.c): what each
invocation reads from the store (the active version and its meta, the
project's environment and limits) is kept per worker, and every change made
through the API applies to the very next call on every worker.

Each test first warms the view of every worker of the shared stack (calls
in parallel until the invocation log shows each worker's pid, so each has
the old state cached), makes one change, then calls again in parallel
until every worker has answered, and asserts each answer shows the change.
No wall-clock duration is asserted.
"""

import json
import threading
import time
import unittest

from fnrun_client import (FnTestCase, admin, invocation_records, invoke,
                          parallel, unique, upload)

WORKERS = 3         # run.py's shared stack
WAIT_S = 15.0       # for a state that must come; never asserted as a time
ROUNDS = 40         # parallel rounds tried before giving up on a worker

# Answers its version (written into the source) and the project's KEY.
SRC = ("module.exports = function (req, res) {\n"
       "  var t0 = Date.now(), ms = (req.payload && req.payload.ms) || 0;\n"
       "  while (Date.now() - t0 < ms) {}\n"
       "  res.json({ v: %d, key: req.env.KEY === undefined ? null : req.env.KEY });\n"
       "};\n")


class ViewTest(FnTestCase):

    def fresh(self):
        names = (unique("p"), unique("r"), unique("f"))
        r = upload(*names, SRC % 1, query="?timeoutMs=20000")
        self.assertStatus(r, 201)
        return names

    def calls_on_every_worker(self, names, check):
        """Calls names in parallel rounds until every worker answered at
        least once after this point; check(answer) on each answer."""
        seen = len(invocation_records(names))
        pids = set()
        for _ in range(ROUNDS):
            for r in parallel(lambda i: invoke(*names, b'{"ms":2}'),
                              [(i,) for i in range(2 * WORKERS)]):
                check(r)
            recs = invocation_records(names)
            pids |= {rec["pid"] for rec in recs[seen:]}
            if len(pids) >= WORKERS:
                return
        self.fail("only workers %r answered %s" % (sorted(pids), names))

    def body_is(self, want):
        def check(r):
            self.assertStatus(r, 200)
            self.assertEqual(r.json(), want, r)
        return check

    def test_upload_and_rollback_apply_at_once_on_every_worker(self):
        names = self.fresh()
        self.calls_on_every_worker(names, self.body_is({"v": 1, "key": None}))
        self.assertStatus(upload(*names, SRC % 2), 201)
        self.calls_on_every_worker(names, self.body_is({"v": 2, "key": None}))
        r = admin("PUT", "/functions/%s/%s/%s/active" % names,
                  json.dumps({"version": 1}))
        self.assertStatus(r, 200)
        self.calls_on_every_worker(names, self.body_is({"v": 1, "key": None}))

    def test_env_change_applies_at_once_on_every_worker(self):
        names = self.fresh()
        self.calls_on_every_worker(names, self.body_is({"v": 1, "key": None}))
        for value in ("a", "b", "a"):   # the same size every time
            r = admin("PUT", "/projects/%s/env/KEY" % names[0], value)
            self.assertStatus(r, 204)
            self.calls_on_every_worker(names, self.body_is({"v": 1, "key": value}))
        r = admin("DELETE", "/projects/%s/env/KEY" % names[0])
        self.assertStatus(r, 204)
        self.calls_on_every_worker(names, self.body_is({"v": 1, "key": None}))

    def test_delete_and_upload_again_apply_at_once_on_every_worker(self):
        names = self.fresh()
        self.calls_on_every_worker(names, self.body_is({"v": 1, "key": None}))
        r = admin("DELETE", "/functions/%s/%s/%s" % names)
        self.assertIn(r.status, (200, 204), r)
        for r in parallel(lambda i: invoke(*names, b"{}"),
                          [(i,) for i in range(4 * WORKERS)]):
            self.assertError(r, 404, "not_found")
        # The same number again, another source.
        self.assertStatus(upload(*names, SRC % 3), 201)
        self.calls_on_every_worker(names, self.body_is({"v": 3, "key": None}))

    def test_limit_change_applies_at_once_on_every_worker(self):
        names = self.fresh()
        p = names[0]
        self.calls_on_every_worker(names, self.body_is({"v": 1, "key": None}))
        r = admin("PUT", "/projects/%s/limits" % p, json.dumps({"concurrency": 1}))
        self.assertStatus(r, 200)
        slow = []
        t = threading.Thread(target=lambda: slow.append(
            invoke(*names, b'{"ms":3000}', timeout=60)), daemon=True)
        t.start()
        deadline = time.monotonic() + WAIT_S
        while admin("GET", "/projects/%s" % p).json()["concurrency"]["used"] != 1:
            self.assertLess(time.monotonic(), deadline, "the slow call never ran")
            time.sleep(0.02)
        # Every other worker refuses: each had the old limit cached.
        for r in parallel(lambda i: invoke(*names, b"{}"),
                          [(i,) for i in range(2 * WORKERS)]):
            self.assertError(r, 429, "too_many_requests")
        t.join(60)
        self.assertStatus(slow[0], 200)
        r = admin("PUT", "/projects/%s/limits" % p, json.dumps({"concurrency": 0}))
        self.assertStatus(r, 200)
        self.calls_on_every_worker(names, self.body_is({"v": 1, "key": None}))


if __name__ == "__main__":
    unittest.main()
