"""Operations (issue 5, SPEC §10): the supervised pool, scaling, graceful stop
and reload, metrics, health and the invocation log, against the stack run.py
started (3 workers).

Every count asserted is exact, derived from the requests the test sent. The
only time bounds are correctness properties of the issue ("a dead worker is
replaced within 1 s", "backoff, never permanent loss"), each asserted with
generous slack for CI noise and printed as measured.

Tests that change the pool (kill, scale, stop) leave it as they found it:
3 workers alive and serving. A cleanup registered in setUp checks that and,
if needed, runs `scripts/stack.sh scale 3` (or `start`, after the stop test)
with the environment run.py gave the stack.

test_07b repeats the pool swaps with 900 KB request and answer bodies, so that
old workers get their stop signal while reading a body or writing an answer.

The tests run in name order; the destructive stop/start test is the last.
"""

import http.client
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

from fnrun_client import (HOST, WELL_BEHAVED, FnTestCase, free_ports, invoke,
                          invoke_key,
                          log_dir, parse_metrics, request, run_stack, stack_env,
                          state_dir, store_dir, unique_fn)

WORKERS = 3                 # the pool run.py starts
REPLACE_BOUND_S = 1.0       # issue 5: a dead worker is replaced within 1 s
SLACK_S = 2.0               # CI noise allowance on top of it
BACKOFF_CAP_S = 1.0         # supervisor.c: backoff doubles up to 1 s
WAIT_S = 10.0               # waits for a state that must come (never asserted as a time)


def say(fmt, *args):
    print("  [ops] " + (fmt % args if args else fmt), flush=True)


def busy_source(ms):
    """A function that busy-waits ms milliseconds, then echoes its payload."""
    return ("module.exports = function (req, res) {\n"
            "  var t0 = Date.now();\n"
            "  while (Date.now() - t0 < %d) {}\n"
            "  res.json({ ok: true, echo: req.payload }, 200);\n"
            "};\n" % ms)


THROWING = ("module.exports = function (req, res) {\n"
            "  throw new Error('ops-boom');\n"
            "};\n")

HARD_KILL = ("module.exports = function (req, res) {\n"
             "  var s = new Array(41).join('a') + 'b';\n"
             "  var r = /(a+)+$/.test(s);\n"
             "  res.send('unreachable ' + r);\n"
             "};\n")


# ---------------------------------------------------------------- /proc

def proc_stat(pid):
    """(state, ppid) of pid, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    fields = s[s.rindex(")") + 2:].split()
    return fields[0], int(fields[1])


def live(pid):
    st = proc_stat(pid)
    return st is not None and st[0] != "Z"


def live_children(pid):
    """The live (non-zombie) children of pid."""
    kids = None
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            kids = [int(x) for x in f.read().split()]
    except OSError:
        pass
    if kids is None:
        kids = []
        for name in os.listdir("/proc"):
            if name.isdigit():
                st = proc_stat(int(name))
                if st is not None and st[1] == pid:
                    kids.append(int(name))
    return [k for k in kids if live(k)]


def slot_pids():
    """The slots (supervisors) named in the pool's pid file that are alive."""
    path = os.path.join(state_dir(), "run", "fnrun-workers.pid")
    try:
        with open(path) as f:
            pids = [int(x) for x in f.read().split() if x.strip().isdigit()]
    except OSError:
        return []
    return [p for p in pids if live(p)]


def wait_child(slot, exclude=(), timeout=WAIT_S, poll=0.002):
    """Waits for a live child of slot not in exclude; (pid, seconds) or (None, timeout)."""
    t0 = time.monotonic()
    while True:
        kids = [k for k in live_children(slot) if k not in exclude]
        if kids:
            return kids[0], time.monotonic() - t0
        if time.monotonic() - t0 >= timeout:
            return None, timeout
        time.sleep(poll)


# ---------------------------------------------------------------- metrics

def metrics(p=None):
    """GET /metrics of the runner's stack, or of the stack on port p."""
    if p is None:
        return parse_metrics(request("GET", "/metrics"))
    return parse_metrics(http_request(p, "GET", "/metrics"))


OK = 'fnrun_invocations_total{outcome="ok"}'
FN_ERROR = 'fnrun_invocations_total{outcome="function_error"}'
TIMEOUT = 'fnrun_invocations_total{outcome="timeout"}'
RESTARTS = "fnrun_worker_restarts_total"
HARD_KILLS = "fnrun_hard_kills_total"
ALIVE = "fnrun_workers_alive"
REQUESTS = "fnrun_requests_total"
UPLOADS = "fnrun_uploads_total"
DURATION_COUNT = "fnrun_invocation_duration_seconds_count"


def delta(m0, m1, name):
    return int(m1.get(name, 0) - m0.get(name, 0))


def wait_alive(n, timeout=WAIT_S):
    """Polls /metrics until fnrun_workers_alive == n: (ok, last value, seconds)."""
    t0 = time.monotonic()
    last = None
    while True:
        try:
            last = int(metrics()[ALIVE])
        except (OSError, http.client.HTTPException, AssertionError, KeyError):
            last = None
        el = time.monotonic() - t0
        if last == n:
            return True, last, el
        if el >= timeout:
            return False, last, el
        time.sleep(0.02)


def stack_running():
    ok, _ = run_stack("status", timeout=30)
    return ok


def nginx_reload():
    st = state_dir()
    ngx = os.path.join(st, "nginx")
    return subprocess.run(["nginx", "-p", ngx, "-c", os.path.join(ngx, "nginx.conf"),
                           "-e", os.path.join(st, "log", "nginx-error.log"),
                           "-s", "reload"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)


# ---------------------------------------------------------------- HTTP to any port

class _Resp:
    def __init__(self, status, body, headers):
        self.status, self.body, self.headers = status, body, headers

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.text)

    def try_json(self):
        try:
            return self.json()
        except ValueError:
            return None

    def __repr__(self):
        return "<HTTP %d %r>" % (self.status, self.body[:300])


def http_request(p, method, path, body=b"", headers=None, timeout=30.0):
    conn = http.client.HTTPConnection(HOST, p, timeout=timeout)
    try:
        h = dict(headers or {})
        if method in ("POST", "PUT"):
            h.setdefault("Content-Length", str(len(body)))
        conn.request(method, path, body=body if body else None, headers=h)
        r = conn.getresponse()
        return _Resp(r.status, r.read(), r.getheaders())
    finally:
        conn.close()


# ---------------------------------------------------------------- load

class Load:
    """threads callers invoking names back to back, each request on a fresh
    connection, until stop() or max_s or max_count in all: every request is
    recorded as (t0, t1, status or None, body-check or exception text)."""

    def __init__(self, names, threads=8, max_s=6.0, max_count=5000, pad=0, http_port=None,
                 key=None):
        self.names = names
        self.n_threads = threads
        self.max_s = max_s
        self.max_count = max_count
        self.pad = "x" * pad            # payload padding: large request and answer bodies
        self.http_port = http_port      # another stack than run.py's
        self.key = key or invoke_key()
        self.results = []
        self.lock = threading.Lock()
        self.stop_ev = threading.Event()
        self.threads = []
        self.sent = 0

    def _one(self, tid):
        deadline = time.monotonic() + self.max_s
        n = 0
        while not self.stop_ev.is_set() and time.monotonic() < deadline:
            with self.lock:
                if self.sent >= self.max_count:
                    return
                self.sent += 1
            n += 1
            payload = {"t": tid, "n": n}
            if self.pad:
                payload["pad"] = self.pad
            t0 = time.monotonic()
            try:
                r = self.call(json.dumps(payload))
            except (OSError, http.client.HTTPException) as e:
                rec = (t0, time.monotonic(), None, "%s: %s" % (type(e).__name__, e), None)
                with self.lock:
                    self.results.append(rec)
                time.sleep(0.05)    # the stack is down: do not spin
                continue
            detail = None
            if r.status == 200:
                got = r.try_json()
                if got != {"ok": True, "echo": payload}:
                    want = len(json.dumps({"ok": True, "echo": payload}, separators=(",", ":")))
                    detail = ("200 with a wrong body: %d bytes (a whole answer has %d), "
                              "starts %r" % (len(r.body), want, r.body[:60]))
            with self.lock:
                self.results.append((t0, time.monotonic(), r.status, detail, r))

    def call(self, body):
        if self.http_port is None:
            return invoke(*self.names, body, key=self.key, timeout=30.0)
        return http_request(self.http_port, "POST", "/invoke/%s/%s/%s" % self.names,
                            body.encode(), {"X-Fn-Key": self.key})

    def start(self):
        for i in range(self.n_threads):
            t = threading.Thread(target=self._one, args=(i,), daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(60)
        return self.results

    def summary(self):
        res = list(self.results)
        answered = [x for x in res if x[2] is not None]
        ok = [x for x in answered if x[2] == 200 and x[3] is None]
        return res, answered, ok


# ---------------------------------------------------------------- tests

class OpsTest(FnTestCase):

    def setUp(self):
        self.addCleanup(self.restore_pool)
        ok, n, _ = wait_alive(WORKERS)
        self.assertTrue(ok, "precondition: %d workers alive, /metrics says %r" % (WORKERS, n))

    def restore_pool(self):
        """Leaves the stack running with 3 slots, each serving (alive == 3)."""
        if not stack_running():
            say("cleanup: stack not running; stack.sh stop + start")
            run_stack("stop", timeout=90)
            ok, out = run_stack("start", timeout=120)
            if not ok:
                raise AssertionError("cleanup: stack.sh start failed:\n" + out)
        if len(slot_pids()) == WORKERS and wait_alive(WORKERS, 5.0)[0]:
            return
        say("cleanup: pool is %d slots; stack.sh scale %d", len(slot_pids()), WORKERS)
        ok, out = run_stack("scale", WORKERS, timeout=90)
        if not ok:
            raise AssertionError("cleanup: stack.sh scale %d failed:\n%s" % (WORKERS, out))
        ok, n, _ = wait_alive(WORKERS)
        if not ok:
            raise AssertionError("cleanup: after scale %d, alive = %r" % (WORKERS, n))

    # -- helpers

    def assertLoadClean(self, load, what, min_ok=1):
        res, answered, ok = load.summary()
        bad = [x for x in res if not (x[2] == 200 and x[3] is None)]
        say("%s: %d requests, %d answered 200, %d not", what, len(res), len(ok), len(bad))
        self.assertEqual(bad, [], "%s: requests that did not get a good 200: %s"
                         % (what, [(x[2], x[3]) for x in bad[:10]]))
        self.assertGreaterEqual(len(ok), min_ok, "%s: too little load was sent" % what)
        return ok

    def assertPoolSize(self, n, what):
        ok, got, el = wait_alive(n)
        self.assertTrue(ok, "%s: fnrun_workers_alive is %r, expected %d" % (what, got, n))
        slots = slot_pids()
        self.assertEqual(len(slots), n, "%s: live slots in the pid file: %r" % (what, slots))
        for s in slots:
            self.assertEqual(len(live_children(s)), 1,
                             "%s: slot %d has children %r" % (what, s, live_children(s)))
        return slots

    # -- 1. health

    def test_01_healthz_reports_capacity_and_store(self):
        r = request("GET", "/healthz")
        self.assertStatus(r, 200, "GET /healthz")
        self.assertTrue(r.header("Content-Type", "").startswith("application/json"), r)
        h = r.json()
        self.assertEqual(h.get("status"), "ok", h)
        self.assertEqual(h.get("store"), "ok", h)
        self.assertEqual(h.get("memcached"), "ok", h)
        self.assertIsInstance(h.get("workers"), dict, h)
        self.assertEqual(h["workers"].get("alive"), WORKERS, h)
        busy = h["workers"].get("busy")
        self.assertIsInstance(busy, int, h)
        # Nothing else runs: at most the worker answering this request is busy.
        self.assertIn(busy, (0, 1), h)
        m = request("GET", "/metrics")
        self.assertStatus(m, 200, "GET /metrics")
        self.assertTrue(m.header("Content-Type", "").startswith("text/plain"), m)
        got = metrics()
        for name in (OK, FN_ERROR, TIMEOUT, RESTARTS, HARD_KILLS, ALIVE, REQUESTS,
                     UPLOADS, "fnrun_workers_busy"):
            self.assertIn(name, got, "metric %s missing" % name)
        self.assertEqual(int(got[ALIVE]), WORKERS)

    def test_01b_healthz_503_when_the_store_is_unusable(self):
        # The workers keep their store open by descriptor, so moving the
        # directory away makes /healthz (which checks the configured path)
        # say so without breaking invocations in flight.
        moved = store_dir() + ".moved"
        os.rename(store_dir(), moved)
        try:
            r = request("GET", "/healthz")
        finally:
            os.rename(moved, store_dir())
        self.assertStatus(r, 503, "healthz without a store")
        h = r.json()
        self.assertEqual((h.get("status"), h.get("store")), ("degraded", "unusable"), h)
        r = request("GET", "/healthz")
        self.assertStatus(r, 200, "healthz with the store back")
        self.assertEqual(r.json().get("store"), "ok")

    # -- 2. metrics match the requests sent

    def test_02_metrics_counters_match_requests_sent(self):
        m0 = metrics()
        ok_names = unique_fn()
        err_names = unique_fn()
        _, _, _, v_ok = self.deploy(WELL_BEHAVED, ok_names)
        _, _, _, v_err = self.deploy(THROWING, err_names)
        for i in range(25):
            r = invoke(*ok_names, json.dumps({"i": i}))
            self.assertStatus(r, 200, "ok call %d" % i)
        for i in range(7):
            r = invoke(*err_names, json.dumps({"i": i}))
            self.assertError(r, 500, "function_error", "throwing call %d" % i)
        m1 = metrics()
        self.assertEqual(delta(m0, m1, OK), 25)
        self.assertEqual(delta(m0, m1, FN_ERROR), 7)
        for name in m1:
            if name.startswith("fnrun_invocations_total{") and name not in (OK, FN_ERROR):
                self.assertEqual(delta(m0, m1, name), 0, name)
        self.assertEqual(delta(m0, m1, DURATION_COUNT), 32)
        self.assertEqual(delta(m0, m1, UPLOADS), 2)
        # 2 uploads + 32 invocations + the GET /metrics that read m1 (the
        # worker counts a request before it renders the metrics).
        self.assertEqual(delta(m0, m1, REQUESTS), 2 + 32 + 1)
        self.assertEqual(delta(m0, m1, RESTARTS), 0)

        # One structured line per invocation (written before the answer).
        path = os.path.join(log_dir(), "invocations.log")
        lines = {ok_names: [], err_names: []}
        with open(path, "rb") as f:
            for raw in f:
                try:
                    rec = json.loads(raw.decode("utf-8"))
                except ValueError:
                    continue
                key = (rec.get("project"), rec.get("request"), rec.get("fn"))
                if key in lines:
                    lines[key].append(rec)
        self.assertEqual(len(lines[ok_names]), 25, lines[ok_names][:3])
        self.assertEqual(len(lines[err_names]), 7, lines[err_names][:3])
        for rec in lines[ok_names]:
            self.assertEqual((rec.get("status"), rec.get("outcome"), rec.get("version")),
                             (200, "ok", v_ok), rec)
        for rec in lines[err_names]:
            self.assertEqual((rec.get("status"), rec.get("outcome"), rec.get("version")),
                             (500, "function_error", v_err), rec)
        for rec in lines[ok_names] + lines[err_names]:
            for k in ("request", "ms", "heapPeak", "heap"):
                self.assertIn(k, rec)
            self.assertIsInstance(rec["ms"], (int, float), rec)

    # -- 3. kill -9 under load

    def test_03_kill9_worker_under_load(self):
        names = self.deploy(busy_source(200))[:3]
        m0 = metrics()
        load = Load(names, threads=8, max_s=6.0, max_count=400).start()
        try:
            time.sleep(1.0)
            slots = slot_pids()
            self.assertEqual(len(slots), WORKERS)
            # A worker in the middle of an invocation (running the busy wait).
            victim_slot, victim = slots[0], None
            until = time.monotonic() + 2.0
            while victim is None and time.monotonic() < until:
                for s in slots:
                    kids = live_children(s)
                    if kids and proc_stat(kids[0]) and proc_stat(kids[0])[0] == "R":
                        victim_slot, victim = s, kids[0]
                        break
                else:
                    time.sleep(0.005)
            if victim is None:
                victim = live_children(victim_slot)[0]
            t_kill = time.monotonic()
            os.kill(victim, signal.SIGKILL)
            new, t_child = wait_child(victim_slot, exclude=(victim,))
            self.assertIsNotNone(new, "slot %d did not replace worker %d" % (victim_slot, victim))
            ok, n, _ = wait_alive(WORKERS)
            t_alive = time.monotonic() - t_kill
            say("kill -9 worker %d of slot %d: new worker %d after %.3fs; "
                "fnrun_workers_alive back to %d after %.3fs (under load)",
                victim, victim_slot, new, t_child, WORKERS, t_alive)
            self.assertTrue(ok, "fnrun_workers_alive stuck at %r" % n)
            time.sleep(1.5)     # the new worker serves under load too
        finally:
            load.stop()
        m1 = metrics()
        res, answered, good = load.summary()
        bad = [x for x in res if not (x[2] == 200 and x[3] is None)]
        say("kill under load: %d requests, %d ok, failed: %s", len(res), len(good),
            [(x[2], x[3] or x[4].text[:80]) for x in bad])
        self.assertLess(t_child, REPLACE_BOUND_S + SLACK_S, "replacement took %.3fs" % t_child)
        self.assertLess(t_alive, REPLACE_BOUND_S + SLACK_S, "capacity back after %.3fs" % t_alive)
        # Only the request on the killed worker (one at a time) may fail, and
        # as nginx's JSON error, never as a dropped connection.
        self.assertLessEqual(len(bad), 1, [(x[2], x[3]) for x in bad])
        for x in bad:
            self.assertIsNotNone(x[2], "connection error: %s" % x[3])
            self.assertIn(x[2], (502, 503), x[4])
            self.assertError(x[4], x[2], "unavailable", "answer of the killed worker's request")
        self.assertGreater(len(good), 20)
        self.assertEqual(delta(m0, m1, RESTARTS), 1)
        self.assertEqual(delta(m0, m1, OK), len(good))
        self.assertPoolSize(WORKERS, "after kill -9")

    # -- 4. crash loop

    def test_04_crash_loop_backs_off_and_never_gives_up(self):
        kills = 8
        m0 = metrics()
        slot = slot_pids()[0]
        child, _ = wait_child(slot)
        self.assertIsNotNone(child)
        gaps = []
        killed = []
        for i in range(kills):
            os.kill(child, signal.SIGKILL)
            killed.append(child)
            if i == kills - 1:
                t_last = time.monotonic()
                break
            child, gap = wait_child(slot, exclude=killed, timeout=BACKOFF_CAP_S + 5.0)
            self.assertIsNotNone(child, "slot %d gave up after %d kills" % (slot, i + 1))
            gaps.append(gap)
        new, gap = wait_child(slot, exclude=killed, timeout=BACKOFF_CAP_S + 5.0)
        self.assertIsNotNone(new, "slot %d gave up after %d kills" % (slot, kills))
        gaps.append(gap)
        ok, n, _ = wait_alive(WORKERS)
        t_alive = time.monotonic() - t_last
        say("crash loop on slot %d: replacement delays %s s; alive == %d %.3fs after the last kill",
            slot, ", ".join("%.3f" % g for g in gaps), WORKERS, t_alive)
        self.assertTrue(ok, "fnrun_workers_alive stuck at %r after the crash loop" % n)
        # Backoff: the delay grows while the worker keeps dying young ...
        self.assertGreaterEqual(max(gaps[-3:]), 0.5, "no backoff: %r" % gaps)
        self.assertLess(gaps[0], REPLACE_BOUND_S + SLACK_S, gaps)
        # ... but is capped: the slot is never given up.
        for g in gaps:
            self.assertLess(g, BACKOFF_CAP_S + SLACK_S, gaps)
        self.assertLess(t_alive, BACKOFF_CAP_S + REPLACE_BOUND_S + SLACK_S)
        m1 = metrics()
        self.assertEqual(delta(m0, m1, RESTARTS), kills)
        self.assertPoolSize(WORKERS, "after the crash loop")
        self.assertWellBehavedServes(self.deploy(WELL_BEHAVED)[:3], msg="after crash loop:")

    # -- 5. hard kills

    def test_05_hard_kill_answers_504_and_pool_recovers(self):
        names = self.deploy(HARD_KILL)[:3]
        m0 = metrics()
        answers = [None] * 6

        def one(i):
            answers[i] = invoke(*names, timeout=60.0)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        say("hard-kill calls answered %s in %s s", [a.status if a else None for a in answers],
            ["%.2f" % a.elapsed if a else None for a in answers])
        for i, r in enumerate(answers):
            self.assertIsNotNone(r, "call %d got no answer" % i)
            self.assertError(r, 504, "timeout", "hostile call %d" % i)
        ok, n, el = wait_alive(WORKERS)
        self.assertTrue(ok, "after hard kills, fnrun_workers_alive = %r" % n)
        # A killed worker counts its hard kill just before it exits, and its
        # slot counts the restart once it has reaped it: wait until the two
        # agree (or give up and let the assertion below say by how much).
        deadline = time.monotonic() + WAIT_S
        m1 = metrics()
        while (delta(m0, m1, RESTARTS) < delta(m0, m1, HARD_KILLS)
               and time.monotonic() < deadline):
            time.sleep(0.1)
            m1 = metrics()
        hk = delta(m0, m1, HARD_KILLS)
        say("hard kills: %d, restarts: %d, timeouts: %d", hk, delta(m0, m1, RESTARTS),
            delta(m0, m1, TIMEOUT))
        self.assertGreaterEqual(hk, 1)
        # Each hard kill ends its worker, which its slot replaces.
        self.assertEqual(delta(m0, m1, RESTARTS), hk)
        self.assertEqual(delta(m0, m1, TIMEOUT), 6)
        self.assertEqual(delta(m0, m1, OK), 0)
        self.assertPoolSize(WORKERS, "after hard kills")
        self.assertWellBehavedServes(self.deploy(WELL_BEHAVED)[:3], msg="after hard kills:")

    # -- 6. nginx -s reload

    def test_06_nginx_reload_under_load(self):
        names = self.deploy(busy_source(20))[:3]
        with open(os.path.join(state_dir(), "run", "nginx.pid")) as f:
            master = int(f.read().split()[0])
        load = Load(names, threads=8, max_s=8.0, max_count=3000).start()
        try:
            for _ in range(2):
                time.sleep(1.0)
                p = nginx_reload()
                self.assertEqual(p.returncode, 0, p.stdout.decode("utf-8", "replace"))
            time.sleep(1.0)
        finally:
            load.stop()
        self.assertLoadClean(load, "nginx -s reload x2 under load", min_ok=50)
        self.assertTrue(live(master), "nginx master %d is gone after reload" % master)
        self.assertPoolSize(WORKERS, "after nginx reload")

    # -- 7. scale and reload of the pool

    def test_07_scale_up_down_and_reload_under_load(self):
        names = self.deploy(busy_source(30))[:3]
        m0 = metrics()
        load = Load(names, threads=8, max_s=60.0, max_count=20000).start()
        steps = []
        try:
            time.sleep(0.5)
            for cmd, n in (("scale", 5), ("scale", 2), ("reload", 2), ("scale", 3)):
                before = set(slot_pids())
                t0 = time.monotonic()
                args = (cmd, n) if cmd == "scale" else (cmd,)
                ok, out = run_stack(*args, timeout=90)
                self.assertTrue(ok, "stack.sh %s failed:\n%s" % (" ".join(map(str, args)), out))
                slots = self.assertPoolSize(n, "after stack.sh %s" % " ".join(map(str, args)))
                self.assertFalse(set(slots) & before,
                                 "%s: old slots still listed %r" % (cmd, set(slots) & before))
                for s in before:
                    self.assertFalse(live(s), "%s: old slot %d still alive" % (cmd, s))
                steps.append("%s %s: %.2fs" % (cmd, n, time.monotonic() - t0))
                time.sleep(0.5)
        finally:
            load.stop()
        say("pool swaps under load: %s", "; ".join(steps))
        good = self.assertLoadClean(load, "scale 5/2/reload/3 under load", min_ok=50)
        m1 = metrics()
        self.assertEqual(delta(m0, m1, OK), len(good))
        self.assertEqual(delta(m0, m1, RESTARTS), 0, "a swap is not a crash")

    def test_07b_pool_swaps_under_load_with_large_bodies(self):
        # The same swaps, three times over, while every request carries a
        # 900 KB payload that the function echoes: old workers receive their
        # stop signal while they read a request body or write an answer, which
        # must not cut either short.
        names = self.deploy(busy_source(1))[:3]
        load = Load(names, threads=24, max_s=60.0, max_count=20000, pad=900 * 1000).start()
        try:
            time.sleep(0.5)
            for _ in range(3):
                for args in (("scale", 5), ("scale", 2), ("reload",), ("scale", 3)):
                    ok, out = run_stack(*args, timeout=90)
                    self.assertTrue(ok, "stack.sh %s failed:\n%s" % (" ".join(map(str, args)), out))
                    time.sleep(0.2)
        finally:
            load.stop()
        res, answered, good = load.summary()
        bad = [x for x in res if not (x[2] == 200 and x[3] is None)]
        kinds = {}
        for x in bad:
            body = x[4].try_json() if x[4] is not None else None
            k = ("%d %s" % (x[2], body.get("error")) if isinstance(body, dict)
                 else "%s truncated" % x[2] if x[2] == 200 else "%s %s" % (x[2], x[3]))
            kinds[k] = kinds.get(k, 0) + 1
        say("12 swaps under load with 900 KB bodies: %d requests, %d good, failed: %s",
            len(res), len(good), kinds or "none")
        self.assertGreater(len(good), 100)
        if bad:
            self.fail("%d of %d requests failed or were cut short by the pool swaps: %s; e.g. %s"
                      % (len(bad), len(res), kinds,
                         [(x[2], (x[3] or "")[:120], x[4] and x[4].body[:80]) for x in bad[:3]]))
        self.assertPoolSize(WORKERS, "after the swaps")

    # -- 8. recycling, on a stack of its own

    def test_08_worker_recycling_separate_stack(self):
        tmp = tempfile.mkdtemp(prefix="fnrun-ops-")
        self.addCleanup(shutil.rmtree, tmp, True)
        os.chmod(tmp, 0o755)
        st, store = os.path.join(tmp, "state"), os.path.join(tmp, "store")
        os.makedirs(st)
        os.makedirs(store)
        conf = os.path.join(tmp, "fnrun.conf")
        with open(conf, "w") as f:
            f.write("# test_ops recycling stack\n")
        http_port, mc_port = free_ports(2)
        # Sanitizer reports stay where run.py looks (the main stack's log dir).
        env = stack_env(FNRUN_CONFIG=conf, FNRUN_STATE_DIR=st, FNRUN_STORE_DIR=store,
                        FNRUN_PORT=http_port, FNRUN_MEMCACHED_PORT=mc_port,
                        FNRUN_WORKERS=1, FNRUN_WORKER_MAX_REQUESTS=5)

        def stop_it():
            ok, out = run_stack("stop", env=env, timeout=90)
            if not ok:
                raise AssertionError("recycling stack: stack.sh stop failed:\n" + out)

        ok, out = run_stack("start", env=env, timeout=120)
        self.addCleanup(stop_it)
        self.assertTrue(ok, "recycling stack did not start:\n" + out)

        def secret(name):
            with open(os.path.join(st, "secrets", name)) as f:
                return f.read().strip()

        p, rq, fn = unique_fn()
        r = http_request(http_port, "PUT", "/functions/%s/%s/%s" % (p, rq, fn),
                         WELL_BEHAVED.encode(),
                         {"Authorization": "Bearer " + secret("admin_token"),
                          "Content-Type": "application/javascript"})
        self.assertIn(r.status, (200, 201), r)
        m0 = metrics(http_port)
        key = secret("invoke_key")
        statuses = []
        for i in range(40):
            r = http_request(http_port, "POST", "/invoke/%s/%s/%s" % (p, rq, fn),
                             json.dumps({"i": i}).encode(), {"X-Fn-Key": key})
            statuses.append(r.status)
            self.assertEqual(r.status, 200, "invocation %d: %r" % (i, r))
            self.assertEqual(r.json(), {"ok": True, "sum": 500500, "echo": {"i": i}})
        m1 = metrics(http_port)
        restarts = delta(m0, m1, RESTARTS)
        say("recycling (worker_max_requests=5, 1 worker): 40 calls all 200, %d restarts", restarts)
        self.assertEqual(delta(m0, m1, OK), 40)
        # 40 invocations, at most 5 per worker: at least 8 workers, 7 replacements;
        # with every request counted (the GET /metrics too), at most 9.
        self.assertGreaterEqual(restarts, 7)
        self.assertLessEqual(restarts, 9)
        self.assertEqual(int(m1[ALIVE]), 1)
        self.assertEqual(delta(m0, m1, HARD_KILLS), 0)

        # Recycling under concurrent calls: what waits in the socket's backlog
        # while the worker is replaced is served by the next one.
        r = http_request(http_port, "PUT", "/functions/%s/%s/%s-busy" % (p, rq, fn),
                         busy_source(5).encode(),
                         {"Authorization": "Bearer " + secret("admin_token"),
                          "Content-Type": "application/javascript"})
        self.assertIn(r.status, (200, 201), r)
        m1 = metrics(http_port)
        load = Load((p, rq, fn + "-busy"), threads=4, max_s=2.0, max_count=400,
                    http_port=http_port, key=key).start()
        time.sleep(2.0)
        load.stop()
        m2 = metrics(http_port)
        res, answered, good = load.summary()
        bad = [(x[2], x[3]) for x in res if not (x[2] == 200 and x[3] is None)]
        say("recycling under 4 concurrent callers: %d calls, %d not 200, %d restarts",
            len(res), len(bad), delta(m1, m2, RESTARTS))
        self.assertEqual(bad, [])
        self.assertGreaterEqual(delta(m1, m2, RESTARTS), len(res) // 5 - 1)

    # -- 9. graceful stop under load, then start again (destructive: last)

    def test_09_graceful_stop_under_load_then_start(self):
        names = self.deploy(busy_source(300))[:3]
        keep = self.deploy(WELL_BEHAVED)[:3]
        with open(os.path.join(state_dir(), "secrets", "invoke_key")) as f:
            key_before = f.read()
        load = Load(names, threads=8, max_s=30.0, max_count=2000).start()
        try:
            time.sleep(1.2)
            t_stop = time.monotonic()
            ok, out = run_stack("stop", timeout=120)
            t_stopped = time.monotonic()
        finally:
            load.stop()
        self.assertTrue(ok, "stack.sh stop failed:\n" + out)
        res, answered, good = load.summary()
        before = [x for x in res if x[0] < t_stop - 0.1]
        in_flight = [x for x in res if x[0] < t_stop and x[1] > t_stop]
        refused = [x for x in res if x[2] is None]
        say("stop under load took %.2fs: %d requests, %d answered (%d in flight at the stop), "
            "%d without an answer (after nginx closed)", t_stopped - t_stop, len(res),
            len(answered), len(in_flight), len(refused))
        for x in answered:
            self.assertEqual((x[2], x[3]), (200, None),
                             "an answer during the stop: %r" % (x[4],))
        for x in before:
            self.assertEqual(x[2], 200, "a request sent before the stop was dropped: %s" % (x[3],))
        for x in refused:
            self.assertGreaterEqual(x[0], t_stop - 0.1, "dropped: %s" % (x[3],))
        self.assertGreaterEqual(len([x for x in in_flight if x[2] == 200]), 1,
                                "no request was in flight at the stop")
        self.assertEqual(slot_pids(), [])

        ok, out = run_stack("start", timeout=120)
        self.assertTrue(ok, "stack.sh start after stop failed:\n" + out)
        with open(os.path.join(state_dir(), "secrets", "invoke_key")) as f:
            self.assertEqual(f.read(), key_before, "the invoke key changed on restart")
        self.assertPoolSize(WORKERS, "after stop + start")
        self.assertWellBehavedServes(keep, msg="after stop + start:")
