"""Tenants (SPEC §13, issue 13): per-project concurrency across the pool and
the quotas, through the real stack.

Runs on a stack of its own (4 workers, so a project's default share is 2)
with the concurrency default and small quotas, so that every edge is
reached in a few requests: 3 functions per project, 3 versions kept per
function, 3 environment variables of at most 64 bytes, 4096 store bytes.
The shared stack run.py starts lifts the concurrency limit and the count
of variables for the other modules. While this module runs, FNRUN_PORT,
FNRUN_STATE_DIR and FNRUN_STORE_DIR point at its stack, so every helper of
fnrun_client talks to it.

No wall-clock duration is asserted: a 429 is shown to be "at once" by
coming back while the call holding the slot still runs (the project's
usage says 1 before and after), and the waits for a state that must come
(a slot freed once a killed worker is reaped) are bounded but generous.
"""

import json
import os
import signal
import subprocess
import threading
import time
import unittest

from fnrun_client import (ROOT_DIR, WELL_BEHAVED, FnTestCase, OwnStack, admin,
                          invoke, metrics, parallel,
                          state_dir, store_dir, store_snapshot, unique,
                          unique_fn, upload)

WORKERS = 4
QUOTAS = {
    "FNRUN_PROJECT_MAX_FUNCTIONS": 3,
    "FNRUN_FUNCTION_MAX_VERSIONS": 3,
    "FNRUN_PROJECT_MAX_ENV_VARS": 3,
    "FNRUN_ENV_VALUE_MAX_BYTES": 64,
    "FNRUN_PROJECT_MAX_STORE_BYTES": 4096,
}
WAIT_S = 15.0       # for a state that must come; never asserted as a time
THROTTLED = 'fnrun_invocations_total{outcome="throttled"}'

# Busy-waits req.payload.ms milliseconds, then answers.
SLOW = ("module.exports = function (req, res) {\n"
        "  var t0 = Date.now(), ms = (req.payload && req.payload.ms) || 0;\n"
        "  while (Date.now() - t0 < ms) {}\n"
        "  res.json({ ok: true, ms: ms });\n"
        "};\n")

HOSTILE = {
    "timeout": ("module.exports = function (req, res) { while (true) {} };",
                "?timeoutMs=300", (504, "timeout")),
    "memory_limit": ("module.exports = function (req, res) {\n"
                     "  var s = 'x'; for (;;) s += s; };",
                     "?memoryMb=4&timeoutMs=5000", (500, "memory_limit")),
    # One native call the interrupt never reaches: the watchdog's SIGALRM
    # answers and the worker exits (process/guard.c).
    "watchdog": ("module.exports = function (req, res) {\n"
                 "  var s = new Array(41).join('a') + 'b';\n"
                 "  res.send('unreachable ' + /(a+)+$/.test(s)); };",
                 "?timeoutMs=300", (504, "timeout")),
}


def say(fmt, *args):
    print("  [tenants] " + (fmt % args if args else fmt), flush=True)


def source_of_size(n, tag="x"):
    """A valid function source of exactly n bytes (n >= 60)."""
    head = "module.exports = function (req, res) { res.send('%s'); };\n//" % tag
    assert n >= len(head), n
    return head + "a" * (n - len(head))


def project_usage(p):
    r = admin("GET", "/projects/%s" % p)
    assert r.status == 200, r
    return r.json()


def proc_cpu(pid):
    """utime + stime of pid in clock ticks, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    fields = s[s.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])


def worker_pids():
    """The live workers of this stack: children of the slots in its pid file."""
    with open(os.path.join(state_dir(), "run", "fnrun-workers.pid")) as f:
        slots = [int(x) for x in f.read().split() if x.strip().isdigit()]
    kids = []
    for slot in slots:
        try:
            with open("/proc/%d/task/%d/children" % (slot, slot)) as f:
                kids += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return kids


class TenantsTest(FnTestCase):

    @classmethod
    def setUpClass(cls):
        overrides = dict(QUOTAS)
        overrides.update(FNRUN_WORKERS=WORKERS, FNRUN_PROJECT_MAX_CONCURRENCY=0)
        cls.stack = OwnStack("fnrun-tenants-", **overrides)
        cls.env = cls.stack.env
        cls.stack.start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    # -- helpers

    def slow_fn(self, p=None):
        p = p or unique("p")
        names = (p, unique("r"), unique("f"))
        r = upload(*names, SLOW, query="?timeoutMs=20000")
        self.assertStatus(r, 201)
        return names

    def set_concurrency(self, p, n):
        r = admin("PUT", "/projects/%s/limits" % p, json.dumps({"concurrency": n}))
        self.assertStatus(r, 200)
        return r.json()

    def wait_running(self, p, n):
        """Waits until n invocations of p run (GET /projects/p says so)."""
        deadline = time.monotonic() + WAIT_S
        while True:
            used = project_usage(p)["concurrency"]["used"]
            if used == n:
                return
            if time.monotonic() > deadline:
                self.fail("project %s: %d running, waited for %d" % (p, used, n))
            time.sleep(0.02)

    def start_slow(self, names, ms, out):
        def run():
            out.append(invoke(*names, json.dumps({"ms": ms}), timeout=60))
        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t

    def assertThrottled(self, r):
        self.assertError(r, 429, "too_many_requests")
        ra = r.header("Retry-After")
        self.assertIsNotNone(ra, r)
        self.assertTrue(ra.isdigit() and int(ra) >= 1, r)

    def invocation_log(self):
        try:
            with open(os.path.join(state_dir(), "log", "invocations.log")) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    # -- concurrency

    def test_01_one_runs_two_throttled_another_project_served(self):
        names = self.slow_fn()
        p = names[0]
        other = upload(unique("p"), unique("r"), unique("f"), WELL_BEHAVED)
        self.assertStatus(other, 201)
        other_names = (other.json()["projectId"], other.json()["requestId"],
                       other.json()["fnName"])
        lim = self.set_concurrency(p, 1)
        self.assertEqual(lim["concurrency"]["limit"], 1)
        self.assertEqual(lim["concurrency"]["set"], 1)
        m0 = metrics()
        slow = []
        t = self.start_slow(names, 4000, slow)
        self.wait_running(p, 1)
        two = parallel(lambda i: invoke(*names, json.dumps({"ms": 0})), [(0,), (1,)])
        for r in two:
            self.assertThrottled(r)
        # Still running: the two were answered while it held the slot.
        self.assertEqual(project_usage(p)["concurrency"]["used"], 1)
        r = invoke(*other_names, json.dumps({"i": 1}))
        self.assertStatus(r, 200)
        t.join(60)
        self.assertEqual(len(slow), 1)
        self.assertStatus(slow[0], 200)
        for r in two:
            self.assertLess(r.elapsed, slow[0].elapsed)
        say("slow call %.3f s; the two 429s %.3f s, %.3f s; other project %.3f s",
            slow[0].elapsed, two[0].elapsed, two[1].elapsed, r.elapsed)
        # Released: the next call runs.
        self.assertEqual(project_usage(p)["concurrency"]["used"], 0)
        self.assertStatus(invoke(*names, json.dumps({"ms": 0})), 200)
        m1 = metrics()
        self.assertEqual(int(m1.get(THROTTLED, 0) - m0.get(THROTTLED, 0)), 2)
        lines = [x for x in self.invocation_log() if x.get("project") == p]
        self.assertEqual(sum(1 for x in lines if x["outcome"] == "throttled"), 2, lines)
        self.assertTrue(all(x["status"] == 429 for x in lines
                            if x["outcome"] == "throttled"), lines)

    def test_02_default_is_half_the_workers(self):
        names = self.slow_fn()
        p = names[0]
        u = project_usage(p)["concurrency"]
        self.assertEqual(u, {"used": 0, "limit": 2, "default": 2,
                             "workers": WORKERS, "set": None})
        slow = []
        threads = [self.start_slow(names, 3000, slow) for _ in range(2)]
        self.wait_running(p, 2)
        self.assertThrottled(invoke(*names, json.dumps({"ms": 0})))
        self.assertEqual(project_usage(p)["concurrency"]["used"], 2)
        for t in threads:
            t.join(60)
        self.assertEqual(sorted(r.status for r in slow), [200, 200])

    def test_03_limits_validated(self):
        p = unique("p")
        self.assertEqual(self.set_concurrency(p, WORKERS)["concurrency"]["limit"], WORKERS)
        self.assertEqual(self.set_concurrency(p, 0)["concurrency"]["set"], None)
        for body in (json.dumps({"concurrency": WORKERS + 1}),
                     json.dumps({"concurrency": -1}), json.dumps({"concurrency": "2"}),
                     json.dumps({}), json.dumps({"concurrency": 1.5})):
            self.assertError(admin("PUT", "/projects/%s/limits" % p, body), 400,
                             "bad_request", body)
        self.assertError(admin("PUT", "/projects/%s/limits" % p, "[1]"), 400,
                         "invalid_json")
        self.assertError(admin("PUT", "/projects/%s/limits" % p, "not json"), 400,
                         "invalid_json")
        self.assertError(admin("PUT", "/projects/%s/limits" % p,
                               json.dumps({"concurrency": 1}), token="wrong"),
                         401, "unauthorized")
        self.assertError(admin("GET", "/projects/%2e%2e"), 400, "invalid_name")
        self.assertError(admin("GET", "/projects/%s" % p, token="wrong"), 401,
                         "unauthorized")

    def test_04_slot_released_however_the_call_ends(self):
        for case, (src, query, (status, code)) in sorted(HOSTILE.items()):
            p = unique("p")
            names = (p, unique("r"), unique("f"))
            self.assertStatus(upload(*names, src, query=query), 201)
            good = (p, unique("r"), unique("f"))
            self.assertStatus(upload(*good, WELL_BEHAVED), 201)
            self.set_concurrency(p, 1)
            m0 = metrics()
            self.assertError(invoke(*names), status, code, case)
            kills = int(metrics().get("fnrun_hard_kills_total", 0) -
                        m0.get("fnrun_hard_kills_total", 0))
            # The watchdog case is one: its worker answered and exited.
            self.assertEqual(kills, 1 if case == "watchdog" else 0, case)
            # The very next call of the project is not throttled.
            r = invoke(*good, json.dumps({"i": 0}))
            self.assertEqual(r.status, 200, "%s: %r" % (case, r))
            self.assertEqual(project_usage(p)["concurrency"]["used"], 0, case)
            say("%s: %d %s, then 200", case, status, code)

    def test_05_slot_released_after_kill_9(self):
        names = self.slow_fn()
        p = names[0]
        good = (p, unique("r"), unique("f"))
        self.assertStatus(upload(*good, WELL_BEHAVED), 201)
        self.set_concurrency(p, 1)
        slow = []
        t = self.start_slow(names, 8000, slow)
        self.wait_running(p, 1)
        # The worker running it is the one burning CPU.
        before = {pid: proc_cpu(pid) for pid in worker_pids()}
        time.sleep(0.5)
        grown = {pid: (proc_cpu(pid) or 0) - (c or 0) for pid, c in before.items()}
        busy = max(grown, key=grown.get)
        os.kill(busy, signal.SIGKILL)
        t.join(60)
        self.assertEqual(len(slow), 1)
        # nginx answers a connection cut mid-answer as 503 unavailable.
        self.assertError(slow[0], 503, "unavailable", "the killed call")
        # Its supervisor reaps it and frees the slot; nothing is leaked.
        self.wait_running(p, 0)
        r = invoke(*good, json.dumps({"i": 0}))
        self.assertEqual(r.status, 200, r)
        say("worker %d killed mid-call: 503, slot freed, next call 200", busy)

    # -- quotas

    def test_10_functions_quota(self):
        p = unique("p")
        for i in range(3):
            self.assertStatus(upload(p, "r", "f%d" % i, WELL_BEHAVED), 201)
        before = store_snapshot()
        r = upload(p, "r", "f3", WELL_BEHAVED)
        self.assertError(r, 403, "quota_exceeded")
        self.assertIn("project_max_functions", r.json()["message"])
        self.assertEqual(store_snapshot(), before)
        r = admin("GET", "/functions/%s" % p)
        self.assertEqual(len(r.json()["functions"]), 3)
        self.assertEqual(project_usage(p)["functions"], {"used": 3, "limit": 3})
        # A new version of an existing function is no new function.
        self.assertStatus(upload(p, "r", "f0", WELL_BEHAVED + "//2\n"), 201)
        self.assertStatus(admin("DELETE", "/functions/%s/r/f1" % p), 204)
        self.assertStatus(upload(p, "r", "f3", WELL_BEHAVED), 201)

    def test_11_versions_pruned_never_the_active(self):
        p, rq, f = unique_fn()
        for i in range(1, 6):
            r = upload(p, rq, f, WELL_BEHAVED + "//%d\n" % i)
            self.assertStatus(r, 201)
            self.assertEqual(r.json()["version"], i)
        g = admin("GET", "/functions/%s/%s/%s" % (p, rq, f)).json()
        self.assertEqual([v["version"] for v in g["versions"]], [3, 4, 5])
        self.assertEqual(g["active"], 5)
        self.assertStatus(admin("GET", "/functions/%s/%s/%s/versions/2" % (p, rq, f)), 404)
        self.assertStatus(admin("PUT", "/functions/%s/%s/%s/active" % (p, rq, f),
                                json.dumps({"version": 3})), 200)
        self.assertStatus(upload(p, rq, f, WELL_BEHAVED + "//6\n",
                                 query="?activate=false"), 201)
        g = admin("GET", "/functions/%s/%s/%s" % (p, rq, f)).json()
        self.assertEqual([v["version"] for v in g["versions"]], [3, 5, 6])
        self.assertEqual(g["active"], 3)
        self.assertStatus(invoke(p, rq, f, json.dumps({"i": 0})), 200)
        self.assertEqual(project_usage(p)["versionsPerFunction"], {"used": 3, "limit": 3})

    def test_12_pruning_under_concurrent_uploads(self):
        p, rq, f = unique_fn()
        answers = parallel(lambda i: upload(p, rq, f, WELL_BEHAVED + "//c%d\n" % i),
                           [(i,) for i in range(8)])
        got = []
        for r in answers:
            self.assertStatus(r, 201)
            got.append(r.json()["version"])
        self.assertEqual(sorted(got), list(range(1, 9)))
        g = admin("GET", "/functions/%s/%s/%s" % (p, rq, f)).json()
        self.assertEqual([v["version"] for v in g["versions"]], [6, 7, 8])
        self.assertEqual(g["active"], 8)
        self.assertEqual(sorted(os.listdir(os.path.join(
            store_dir(), p, rq, f, "versions"))), ["6", "7", "8"])
        self.assertStatus(invoke(p, rq, f, json.dumps({"i": 0})), 200)

    def test_13_env_quotas(self):
        p = unique("p")
        env = "/projects/%s/env/" % p
        self.assertStatus(admin("PUT", env + "A", "a" * 64), 204)
        r = admin("PUT", env + "B", "b" * 65)
        self.assertError(r, 403, "quota_exceeded")
        self.assertIn("env_value_max_bytes", r.json()["message"])
        self.assertStatus(admin("PUT", env + "B", "b"), 204)
        self.assertStatus(admin("PUT", env + "C", "c"), 204)
        before = store_snapshot()
        r = admin("PUT", env + "D", "d")
        self.assertError(r, 403, "quota_exceeded")
        self.assertIn("project_max_env_vars", r.json()["message"])
        self.assertEqual(store_snapshot(), before)
        # Replacing one at the limit is no new variable.
        self.assertStatus(admin("PUT", env + "A", "new"), 204)
        self.assertEqual(admin("GET", "/projects/%s/env" % p).json()["names"],
                         ["A", "B", "C"])
        u = project_usage(p)
        self.assertEqual(u["envVars"], {"used": 3, "limit": 3})
        self.assertEqual(u["envValueBytes"], {"used": 3, "limit": 64})
        self.assertEqual(u["storeBytes"], {"used": 5, "limit": 4096})
        self.assertStatus(admin("DELETE", env + "B"), 204)
        self.assertStatus(admin("PUT", env + "D", "d"), 204)

    def test_14_store_bytes_quota_and_exact_usage(self):
        p = unique("p")
        self.assertStatus(upload(p, "r", "f1", source_of_size(1000, "one")), 201)
        self.assertStatus(admin("PUT", "/projects/%s/env/KEY" % p, "k" * 64), 204)
        rest = 4096 - 1000 - 64
        before = store_snapshot()
        r = upload(p, "r", "f2", source_of_size(rest + 1, "two"))
        self.assertError(r, 403, "quota_exceeded")
        self.assertIn("project_max_store_bytes", r.json()["message"])
        self.assertEqual(store_snapshot(), before)
        self.assertStatus(upload(p, "r", "f2", source_of_size(rest, "two")), 201)
        self.assertError(admin("PUT", "/projects/%s/env/MORE" % p, "x"), 403,
                         "quota_exceeded")
        self.assertEqual(store_snapshot() - before, {
            os.path.join(p, "r", "f2"), os.path.join(p, "r", "f2", ".lock"),
            os.path.join(p, "r", "f2", "active"), os.path.join(p, "r", "f2", "versions"),
            os.path.join(p, "r", "f2", "versions", "1"),
            os.path.join(p, "r", "f2", "versions", "1", "source.js"),
            os.path.join(p, "r", "f2", "versions", "1", "meta")})
        u = project_usage(p)
        self.assertEqual(u["projectId"], p)
        self.assertEqual(u["functions"], {"used": 2, "limit": 3})
        self.assertEqual(u["versionsPerFunction"], {"used": 1, "limit": 3})
        self.assertEqual(u["envVars"], {"used": 1, "limit": 3})
        self.assertEqual(u["envValueBytes"], {"used": 64, "limit": 64})
        self.assertEqual(u["storeBytes"], {"used": 4096, "limit": 4096})
        # What is removed is counted no more.
        self.assertStatus(admin("DELETE", "/projects/%s/env/KEY" % p), 204)
        self.assertEqual(project_usage(p)["storeBytes"]["used"], 4096 - 64)
        # An unknown project holds nothing.
        u = project_usage(unique("p"))
        self.assertEqual([u[k]["used"] for k in ("functions", "versionsPerFunction",
                                                  "envVars", "envValueBytes",
                                                  "storeBytes")], [0] * 5)

    def test_20_fnctl_project(self):
        p = unique("p")
        self.assertStatus(upload(p, "r", "f", WELL_BEHAVED), 201)
        env = dict(self.env)
        env["FNRUN_URL"] = "http://127.0.0.1:%s" % os.environ["FNRUN_PORT"]
        with open(os.path.join(state_dir(), "secrets", "admin_token")) as f:
            env["FNRUN_ADMIN_TOKEN"] = f.read().strip()
        fnctl = os.path.join(ROOT_DIR, "scripts", "fnctl")
        out = subprocess.run([fnctl, "project", p], env=env, capture_output=True,
                             timeout=30)
        self.assertEqual(out.returncode, 0, out)
        text = out.stdout.decode()
        self.assertIn("functions", text)
        self.assertRegex(text, r"functions\s+1\s+/\s+3")
        out = subprocess.run([fnctl, "--json", "project", p, "--concurrency", "1"],
                             env=env, capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 0, out)
        self.assertEqual(json.loads(out.stdout)["concurrency"]["set"], 1)


if __name__ == "__main__":
    unittest.main()
