"""The bytecode cache and warm heaps (SPEC §9, issue 3), on the real stack.

Cache counters move as expected (upload sets, first invocation hits, an
absent entry is a miss that sets); a tampered entry is rejected, counted and
replaced by a good one (checked with the cache secret and the documented
frame); the engine build named by /healthz is the one of the build under
test; warm heaps keep globals per worker and function version, per-call
isolation resets them; activation, rollback and deletion reach every worker
at once; a heap that timed out or hit its memory limit is never reused.
MemcachedOutageTest (last, as it stops memcached) stops memcached mid-run
and brings it back, and puts hostile servers on its port: no invocation
fails. Every outage test restores a real memcached, with its pid in
$STATE/run/memcached.pid, so that `stack.sh stop` stops it.

Counters come from GET /metrics; tests run one at a time against one stack,
so deltas are taken right around each test's own requests.
"""

import hashlib
import hmac
import json
import os
import signal
import socket
import socketserver
import subprocess
import threading
import time

from fnrun_client import (FnTestCase, admin, fn_path, invoke, marker, metrics,
                          parallel, request, state_dir, unique, unique_fn,
                          upload)

POLL_S = 10.0           # how long a recovery may take (retry pause is 2 s)
POLL_STEP_S = 0.1

FRAME_HEADER = 12
FRAME_MAC = 32


# ---------------------------------------------------------------- helpers

def workers():
    return int(os.environ.get("FNRUN_WORKERS", "3"))


def mc_port():
    return int(os.environ["FNRUN_MEMCACHED_PORT"])


def cache_secret():
    with open(os.path.join(state_dir(), "secrets", "cache_key"), "rb") as f:
        line = f.read().split(b"\n", 1)[0]
    return line.rstrip(b"\r")


CACHE_COUNTERS = ("fnrun_cache_hits_total", "fnrun_cache_misses_total",
                  "fnrun_cache_rejects_total", "fnrun_cache_sets_total",
                  "fnrun_cache_errors_total")


def delta(before, after):
    return {k: after.get(k, 0) - before.get(k, 0) for k in set(before) | set(after)}


def short(d, names=CACHE_COUNTERS + ("fnrun_heaps_warm_total", "fnrun_heaps_cold_total",
                                     "fnrun_warm_heaps")):
    return {n.replace("fnrun_", ""): d.get(n, 0) for n in names}


def healthz():
    r = request("GET", "/healthz")
    return r, r.try_json()


def engine():
    r, body = healthz()
    assert r.status == 200 and isinstance(body, dict), r
    return body["engine"]


def cache_key_of(source):
    if isinstance(source, str):
        source = source.encode("utf-8")
    return "fnrun:bc:%s:%s" % (engine(), hashlib.sha256(source).hexdigest())


def code_form():
    """SANDBOX_CODE_FORM of the source tree: the form sources are compiled
    to, the engine build's last part."""
    h = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                     "fcgi-app", "sandbox", "sandbox.h")
    with open(h, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[:2] == ["#define", "SANDBOX_CODE_FORM"]:
                return parts[2].strip('"')
    raise AssertionError("no SANDBOX_CODE_FORM in sandbox.h")


def frame_seal(key, payload, secret=None):
    """A frame of the documented layout for payload under key."""
    head = b"FNBC\x01\x00\x00\x00" + len(payload).to_bytes(4, "big")
    mac = hmac.new(secret or cache_secret(), key.encode("ascii") + head + payload,
                   hashlib.sha256).digest()
    return head + payload + mac


def frame_ok(key, value, secret=None):
    """value is a frame of the documented layout whose MAC checks."""
    if value is None or len(value) < FRAME_HEADER + FRAME_MAC:
        return False
    n = int.from_bytes(value[8:12], "big")
    if value[:8] != b"FNBC\x01\x00\x00\x00" or len(value) != FRAME_HEADER + n + FRAME_MAC:
        return False
    want = hmac.new(secret or cache_secret(), key.encode("ascii") + value[:FRAME_HEADER + n],
                    hashlib.sha256).digest()
    return hmac.compare_digest(want, value[FRAME_HEADER + n:])


class Memcached:
    """memcached's text protocol over one connection, nothing more."""

    def __init__(self, port=None, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port or mc_port()), timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _fill(self):
        d = self.sock.recv(65536)
        if not d:
            raise ConnectionError("memcached closed the connection")
        self.buf += d

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n:
            self._fill()
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def get(self, key):
        """(flags, value) or None."""
        self.sock.sendall(b"get %s\r\n" % key.encode("ascii"))
        line = self._line()
        if line == b"END":
            return None
        parts = line.split()
        assert parts[0] == b"VALUE" and parts[1] == key.encode("ascii"), line
        flags, n = int(parts[2]), int(parts[3])
        value = self._exact(n + 2)[:n]
        end = self._line()
        assert end == b"END", end
        return flags, value

    def set(self, key, value, flags=0):
        self.sock.sendall(b"set %s %d 0 %d\r\n%s\r\n" % (key.encode("ascii"), flags,
                                                         len(value), value))
        line = self._line()
        assert line == b"STORED", line

    def delete(self, key):
        self.sock.sendall(b"delete %s\r\n" % key.encode("ascii"))
        line = self._line()
        assert line in (b"DELETED", b"NOT_FOUND"), line
        return line == b"DELETED"


def mc_answers(port=None):
    try:
        with Memcached(port, timeout=1.0) as m:
            m.sock.sendall(b"version\r\n")
            return m._line().startswith(b"VERSION ")
    except OSError:
        return False


def memcached_pid_file():
    return os.path.join(state_dir(), "run", "memcached.pid")


def proc_state(pid):
    """The state letter of pid, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def proc_comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return None


def alive(pid):
    s = proc_state(pid)
    return s is not None and s != "Z"


def wait_until(pred, timeout=POLL_S, step=POLL_STEP_S):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(step)


def stop_memcached():
    """Stops the memcached of $STATE/run/memcached.pid by its pid; returns it."""
    with open(memcached_pid_file()) as f:
        pid = int(f.read().split()[0])
    assert proc_comm(pid) == "memcached", "pid %d is %r, not memcached" % (pid, proc_comm(pid))
    os.kill(pid, signal.SIGTERM)
    assert wait_until(lambda: not alive(pid)), "memcached %d did not stop" % pid
    assert wait_until(lambda: not mc_answers()), "something still answers on memcached's port"
    return pid


def start_memcached():
    """Starts memcached on its port the way scripts/stack.sh does (its own
    session, -u nobody as root), records its pid for stack.sh stop, and
    waits for it to answer. Returns the pid."""
    log = os.path.join(state_dir(), "log", "memcached.log")
    user = "-u nobody" if os.geteuid() == 0 else ""
    out = subprocess.run(
        ["bash", "-c", 'setsid memcached -l 127.0.0.1 -p %d -m 64 -I 16m %s </dev/null >>"$1" 2>&1 & '
         'echo $!' % (mc_port(), user), "bash", log],
        stdout=subprocess.PIPE, check=True, timeout=10)
    pid = int(out.stdout.decode().strip())
    tmp = memcached_pid_file() + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % pid)
    os.replace(tmp, memcached_pid_file())
    assert wait_until(mc_answers), "memcached did not answer after a restart"
    assert alive(pid) and proc_comm(pid) == "memcached", "pid %d is not memcached" % pid
    return pid


def ensure_memcached():
    """A real memcached on the port, whatever a failed test left behind."""
    if not mc_answers():
        start_memcached()


# ---------------------------------------------------------------- sources

def answer_source(m):
    """Replies m, as text; m is unique, so is the source and its cache key."""
    return "module.exports = function (req, res) { res.send('%s'); };\n" % m


# A heap id made at the top level, and a call counter: which heap served a
# call, and how many calls that heap had served. Duktape seeds Math.random
# from the time in ms and the heap's address, which a heap made in the same
# ms where the last one was freed can share: the spin to the next ms adds
# the timing jitter of this heap's own start.
COUNTER = """// %s
var t0 = Date.now(), spins = 0;
while (Date.now() === t0) spins++;
var heapId = t0 + ':' + spins + ':' + Math.random();
var n = 0;
module.exports = function (req, res) {
  n++;
  res.json({heap: heapId, n: n});
};
"""

# Marks its heap as poisoned, then runs out of time or memory when asked.
POISON = """// %s
var poisoned = false, n = 0;
module.exports = function (req, res) {
  var p = req.payload || {};
  n++;
  if (p.loop) { poisoned = true; while (true) {} }
  if (p.mem) {
    poisoned = true;
    var c = 'x';
    for (var i = 0; i < 20; i++) c += c;
    var a = [];
    for (var j = 0; ; j++) a.push(c + j);
  }
  res.json({poisoned: poisoned, n: n});
};
"""

# Runs for p.spin ms (busy), then answers with its call count.
SPINNER = """// %s
var n = 0;
module.exports = function (req, res) {
  var p = req.payload || {};
  n++;
  var t0 = Date.now();
  while (Date.now() - t0 < (p.spin || 0)) {}
  res.json({n: n});
};
"""


class CacheCase(FnTestCase):

    def deploy_fresh(self, source, names=None, query=""):
        names = names or unique_fn()
        r = upload(*names, source, query=query)
        self.assertStatus(r, 201, "upload")
        return names, r.json()

    def assertAnswers(self, names, want, n=1, par=1, version=None, body=b"", msg=""):
        """n calls (par at a time), each 200 with exactly want as its body."""
        def one(_):
            return invoke(*names, body)
        rs = parallel(one, [(i,) for i in range(n)], workers=par) if par > 1 else \
            [one(i) for i in range(n)]
        for i, r in enumerate(rs):
            self.assertStatus(r, 200, "%s call %d" % (msg, i))
            self.assertEqual(r.body, want.encode() if isinstance(want, str) else want,
                             "%s call %d: %r" % (msg, i, r))
            if version is not None:
                self.assertEqual(r.header("X-Fn-Version"), str(version),
                                 "%s call %d: %r" % (msg, i, r))
        return rs

    def assertDelta(self, d, msg="", **want):
        got = {k: d.get("fnrun_" + k, 0) for k in want}
        self.assertEqual(got, want, "%s (all deltas: %r)" % (msg, short(d)))

    def counter_calls(self, names, n, par=1):
        def one(_):
            r = invoke(*names)
            self.assertStatus(r, 200)
            return r.json()
        if par > 1:
            return parallel(one, [(i,) for i in range(n)], workers=par)
        return [one(i) for i in range(n)]


class CacheTest(CacheCase):

    # ---------------------------------------------------------- (a) counters

    def test_upload_sets_and_first_invocation_hits(self):
        m = marker("HIT")
        src = answer_source(m)
        before = metrics()
        names, _ = self.deploy_fresh(src)
        mid = metrics()
        self.assertDelta(delta(before, mid), "upload", cache_sets_total=1,
                         cache_hits_total=0, cache_misses_total=0,
                         cache_rejects_total=0, uploads_total=1)
        with Memcached() as mc:
            got = mc.get(cache_key_of(src))
        self.assertIsNotNone(got, "upload left nothing in memcached")
        self.assertTrue(frame_ok(cache_key_of(src), got[1]), "upload's value is not a valid frame")

        self.assertAnswers(names, m, version=1)
        after = metrics()
        self.assertDelta(delta(mid, after), "first invocation", cache_hits_total=1,
                         cache_misses_total=0, cache_sets_total=0,
                         cache_rejects_total=0, heaps_cold_total=1, heaps_warm_total=0)

        # Later calls: each is a warm heap, or a cold one loaded from the cache.
        self.assertAnswers(names, m, n=9, par=3)
        d = delta(after, metrics())
        self.assertEqual(d["fnrun_heaps_warm_total"] + d["fnrun_heaps_cold_total"], 9, short(d))
        self.assertEqual(d["fnrun_cache_hits_total"], d["fnrun_heaps_cold_total"], short(d))
        self.assertDelta(d, "later calls", cache_misses_total=0, cache_sets_total=0,
                         cache_rejects_total=0)

    def test_absent_entry_is_a_miss_then_set(self):
        m = marker("MISS")
        src = answer_source(m)
        names, _ = self.deploy_fresh(src)
        key = cache_key_of(src)
        with Memcached() as mc:
            self.assertTrue(mc.delete(key), "upload had set nothing to delete")
        before = metrics()
        self.assertAnswers(names, m)
        d = delta(before, metrics())
        self.assertDelta(d, "cold call without a cache entry", cache_misses_total=1,
                         cache_sets_total=1, cache_hits_total=0, cache_rejects_total=0,
                         heaps_cold_total=1)
        with Memcached() as mc:
            got = mc.get(key)
        self.assertIsNotNone(got, "the miss did not put the compiled bytecode back")
        self.assertTrue(frame_ok(key, got[1]))

    def test_unchanged_reupload_still_serves(self):
        m = marker("SAME")
        src = answer_source(m)
        names, first = self.deploy_fresh(src)
        r = upload(*names, src)
        self.assertStatus(r, 200, "identical re-upload")
        self.assertEqual(r.json()["version"], first["version"])
        self.assertAnswers(names, m, n=6, par=3, version=1)

    def test_healthz_names_the_engine_of_this_build(self):
        """The engine id is duk<version>-<16 hex of sha256(duk_config.h ||
        duktape.h)>-<SANDBOX_CODE_FORM> of the build the workers come from:
        another configuration, or another form, is another key."""
        r, body = healthz()
        self.assertStatus(r, 200)
        self.assertEqual(body.get("memcached"), "ok", body)
        duk = os.path.join(os.path.dirname(os.environ["FNRUN_WORKER_BIN"]), "duk")
        with open(os.path.join(duk, "duk_config.h"), "rb") as f:
            cfg = f.read()
        with open(os.path.join(duk, "duktape.h"), "rb") as f:
            hdr = f.read()
        version = None
        for line in hdr.decode("utf-8", "replace").splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "#define" and parts[1] == "DUK_VERSION":
                version = parts[2].rstrip("L").strip("()").rstrip("L")
        self.assertIsNotNone(version, "no DUK_VERSION in duktape.h")
        want = "duk%s-%s-%s" % (version, hashlib.sha256(cfg + hdr).hexdigest()[:16],
                                code_form())
        self.assertEqual(body["engine"], want)

    def test_entry_of_the_program_form_is_never_read(self):
        """Bytecode cached by a build that compiled sources as programs
        (its engine id has no form part) is under a key this build never
        reads: a MAC-valid entry there, holding bytecode that answers
        something else, is not what runs; the call misses and compiles."""
        m, other = marker("FORM"), marker("OTHER")
        src = answer_source(m)
        names, _ = self.deploy_fresh(src)
        _, _ = self.deploy_fresh(answer_source(other))
        key = cache_key_of(src)
        suffix = "-" + code_form()
        eng = engine()
        self.assertTrue(eng.endswith(suffix), eng)
        old_key = "fnrun:bc:%s:%s" % (eng[:-len(suffix)], key.rsplit(":", 1)[1])
        with Memcached() as mc:
            got = mc.get(cache_key_of(answer_source(other)))
            self.assertIsNotNone(got, "upload set nothing")
            flags, value = got
            n = int.from_bytes(value[8:12], "big")
            mc.set(old_key, frame_seal(old_key, value[FRAME_HEADER:FRAME_HEADER + n]),
                   flags)
            self.assertTrue(mc.delete(key), "upload had set nothing to delete")
        before = metrics()
        self.assertAnswers(names, m)
        self.assertDelta(delta(before, metrics()), "old-form entry only",
                         cache_misses_total=1, cache_sets_total=1, cache_hits_total=0,
                         cache_rejects_total=0, heaps_cold_total=1)

    # ------------------------------------------------------ (b) tampering

    def tamper_case(self, label, corrupt):
        """Uploads a fresh function, replaces its memcached value with
        corrupt(good_value), and checks that the next invocation answers
        right, counts one reject, and leaves a valid frame in memcached."""
        m = marker("TAMPER")
        src = answer_source(m)
        names, _ = self.deploy_fresh(src)
        key = cache_key_of(src)
        with Memcached() as mc:
            got = mc.get(key)
            self.assertIsNotNone(got, "%s: upload set nothing" % label)
            flags, good = got
            self.assertTrue(frame_ok(key, good), "%s: upload's value is not valid" % label)
            bad = corrupt(good)
            self.assertNotEqual(bad, good)
            mc.set(key, bad, flags)
        before = metrics()
        self.assertAnswers(names, m, msg=label)
        mid = metrics()
        self.assertDelta(delta(before, mid), label, cache_rejects_total=1, cache_sets_total=1,
                         cache_hits_total=0, cache_misses_total=0, heaps_cold_total=1)
        with Memcached() as mc:
            now = mc.get(key)
        self.assertIsNotNone(now, "%s: the rejected entry was deleted, not replaced" % label)
        self.assertNotEqual(now[1], bad, "%s: the tampered value is still there" % label)
        self.assertTrue(frame_ok(key, now[1]), "%s: the replacement is not a valid frame" % label)
        # The replacement serves the other workers: no more rejects.
        self.assertAnswers(names, m, n=9, par=3, msg=label)
        d = delta(mid, metrics())
        self.assertDelta(d, label + " afterwards", cache_rejects_total=0, cache_misses_total=0,
                         cache_sets_total=0)
        self.assertEqual(d["fnrun_cache_hits_total"], d["fnrun_heaps_cold_total"], short(d))

    def test_tampered_entry_flipped_byte_in_the_middle(self):
        def flip(v):
            b = bytearray(v)
            b[len(b) // 2] ^= 0x01
            return bytes(b)
        self.tamper_case("middle byte flipped", flip)

    def test_tampered_entry_flipped_magic(self):
        self.tamper_case("magic flipped", lambda v: b"fNBC" + v[4:])

    def test_tampered_entry_flipped_mac(self):
        self.tamper_case("last MAC byte flipped", lambda v: v[:-1] + bytes([v[-1] ^ 0x80]))

    def test_tampered_entry_truncated(self):
        self.tamper_case("truncated", lambda v: v[:-1])

    def test_tampered_entry_extended(self):
        self.tamper_case("extended", lambda v: v + b"\0")

    def test_tampered_entry_garbage(self):
        self.tamper_case("garbage", lambda v: os.urandom(len(v)))

    def test_tampered_entry_empty(self):
        self.tamper_case("empty", lambda v: b"")

    def test_tampered_entry_payload_rewritten_with_same_length(self):
        """Someone without the secret rewrites the bytecode but keeps the
        frame's header and MAC."""
        def rewrite(v):
            n = int.from_bytes(v[8:12], "big")
            return v[:FRAME_HEADER] + bytes(n) + v[FRAME_HEADER + n:]
        self.tamper_case("payload zeroed", rewrite)

    def test_valid_frame_of_another_function_is_rejected(self):
        """A MAC-valid value copied from another source's key: running it
        would answer the other function's result."""
        other_m = marker("OTHER")
        other_src = answer_source(other_m)
        self.deploy_fresh(other_src)
        with Memcached() as mc:
            other = mc.get(cache_key_of(other_src))
        self.assertIsNotNone(other)
        self.tamper_case("another function's frame", lambda v: other[1])

    def test_shared_bytecode_does_not_name_another_project(self):
        """Two projects with the same source share one cache entry (same
        sha256). What a function can observe, its own error stack, must not
        name the other project's function (SPEC §1: nothing of another
        project is visible)."""
        tag = marker("SHARED")
        src = "module.exports = function (req, res) { throw new Error('%s'); };" % tag
        a = (unique("pa"), unique("r"), unique("f"))
        b = (unique("pb"), unique("r"), unique("f"))
        self.deploy_fresh(src, a)
        self.deploy_fresh(src, b)
        for mine, other in ((a, b), (b, a)):
            for r in parallel(lambda _: invoke(*mine), [(i,) for i in range(6)], workers=3):
                body = self.assertError(r, 500, "function_error")
                self.assertIn(tag, body["message"])
                for name in other:
                    self.assertNotIn(name, r.text, "%s/%s/%s sees the name of %s/%s/%s"
                                     % (mine + other))

    # ------------------------------------------------------ (d) warm state

    def assertHeapSequences(self, answers, sequential, msg=""):
        """Per heap, the counts are 1..k (in call order when sequential)."""
        per_heap = {}
        for a in answers:
            per_heap.setdefault(a["heap"], []).append(a["n"])
        for heap, ns in per_heap.items():
            seq = ns if sequential else sorted(ns)
            self.assertEqual(seq, list(range(1, len(ns) + 1)),
                             "%s heap %s served %r" % (msg, heap, ns))
        return per_heap

    def test_globals_persist_per_worker(self):
        names, body = self.deploy_fresh(COUNTER % marker("WARM"))
        self.assertEqual(body.get("isolation"), "warm", body)
        answers = self.counter_calls(names, 12)
        per_heap = self.assertHeapSequences(answers, True, "sequential:")
        self.assertLessEqual(len(per_heap), workers(), per_heap)
        self.assertGreater(max(a["n"] for a in answers), 1, answers)
        answers += self.counter_calls(names, 12, par=3)
        per_heap = self.assertHeapSequences(answers, False, "overall:")
        self.assertLessEqual(len(per_heap), workers(), per_heap)

    def test_per_call_isolation_resets_globals(self):
        names, body = self.deploy_fresh(COUNTER % marker("PERCALL"), query="isolation=per-call")
        self.assertEqual(body.get("isolation"), "per-call", body)
        before = metrics()
        answers = self.counter_calls(names, 12) + self.counter_calls(names, 6, par=3)
        d = delta(before, metrics())
        self.assertEqual([a["n"] for a in answers], [1] * 18, answers)
        self.assertDelta(d, "per-call", heaps_warm_total=0, heaps_cold_total=18, warm_heaps=0)

    def test_per_call_isolation_by_json_upload(self):
        p, rq, f = unique_fn()
        body = json.dumps({"projectId": p, "requestId": rq, "fnName": f,
                           "fnDefinition": COUNTER % marker("PERCALLJSON"),
                           "isolation": "per-call"})
        r = admin("POST", "/functions", body, {"Content-Type": "application/json"})
        self.assertStatus(r, 201)
        self.assertEqual(r.json().get("isolation"), "per-call", r)
        answers = self.counter_calls((p, rq, f), 9, par=3)
        self.assertEqual([a["n"] for a in answers], [1] * 9, answers)

    def test_per_call_and_warm_versions_of_one_function(self):
        """Isolation belongs to the version: v1 warm, v2 per-call, then v1
        again by ?version=1 keeps its own warm heaps."""
        src = COUNTER % marker("MIXED")
        names, _ = self.deploy_fresh(src)
        self.counter_calls(names, 6)
        r = upload(*names, src, query="isolation=per-call")
        self.assertStatus(r, 201)
        self.assertEqual(r.json()["version"], 2)
        answers = self.counter_calls(names, 9, par=3)
        self.assertEqual([a["n"] for a in answers], [1] * 9, answers)
        rs = [invoke(*names, query="version=1") for _ in range(6)]
        for r in rs:
            self.assertStatus(r, 200)
            self.assertEqual(r.header("X-Fn-Version"), "1")
        self.assertGreater(max(r.json()["n"] for r in rs), 1, [r.json() for r in rs])

    # ------------------------------------------------- (e) activation

    def test_activation_and_deletion_visible_in_every_worker(self):
        names = unique_fn()
        tag = marker("ACT")
        v1 = "module.exports = function (req, res) { res.send('v1 %s'); };" % tag
        v2 = "module.exports = function (req, res) { res.send('v2 %s'); };" % tag
        v3 = "module.exports = function (req, res) { res.send('v3 %s'); };" % tag
        self.assertEqual(self.deploy_fresh(v1, names)[1]["version"], 1)
        self.assertAnswers(names, "v1 " + tag, n=12, par=3, version=1, msg="v1")
        self.assertEqual(self.deploy_fresh(v2, names)[1]["version"], 2)
        self.assertAnswers(names, "v2 " + tag, n=12, par=3, version=2, msg="after v2")
        r = invoke(*names, query="version=1")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, ("v1 " + tag).encode())

        r = admin("PUT", fn_path(*names) + "/active", json.dumps({"version": 1}),
                  {"Content-Type": "application/json"})
        self.assertIn(r.status, (200, 204), r)
        self.assertAnswers(names, "v1 " + tag, n=12, par=3, version=1, msg="rolled back")
        r = admin("PUT", fn_path(*names) + "/active", json.dumps({"version": 2}),
                  {"Content-Type": "application/json"})
        self.assertIn(r.status, (200, 204), r)
        self.assertAnswers(names, "v2 " + tag, n=12, par=3, version=2, msg="forward again")

        r = admin("DELETE", fn_path(*names))
        self.assertIn(r.status, (200, 204), r)
        for i, r in enumerate(parallel(lambda _: invoke(*names), [(i,) for i in range(12)],
                                       workers=3)):
            self.assertError(r, 404, "not_found", "after delete, call %d" % i)
        r = invoke(*names, query="version=1")
        self.assertError(r, 404, "not_found", "?version=1 after delete")

        # Re-created: versions start again at 1, with another source; no
        # warm heap of the deleted version 1 may answer.
        self.assertEqual(self.deploy_fresh(v3, names)[1]["version"], 1)
        self.assertAnswers(names, "v3 " + tag, n=12, par=3, version=1, msg="re-created")

    def test_recreated_function_with_same_source_starts_fresh(self):
        """Delete, then upload the very same source: version 1 again with the
        same sha256. The new function must not be served by a warm heap of
        the deleted one (its globals would carry over)."""
        names = unique_fn()
        src = COUNTER % marker("RECREATE")
        self.deploy_fresh(src, names)
        old = self.counter_calls(names, 12, par=3)
        old_heaps = {a["heap"] for a in old}
        r = admin("DELETE", fn_path(*names))
        self.assertIn(r.status, (200, 204), r)
        self.assertError(invoke(*names), 404, "not_found")
        self.assertEqual(self.deploy_fresh(src, names)[1]["version"], 1)
        new = self.counter_calls(names, 12, par=3)
        stale = [a for a in new if a["heap"] in old_heaps]
        self.assertEqual(stale, [], "calls of the re-created function served by heaps of "
                                    "the deleted one")
        self.assertHeapSequences(new, False, "re-created:")

    def test_recreated_function_gets_its_new_limits(self):
        """Delete, then upload the same source with a longer timeout: a call
        that needs it must finish, not be cut at the deleted version's
        deadline by a stale warm heap."""
        names = unique_fn()
        src = SPINNER % marker("LIMITS")
        self.deploy_fresh(src, names, query="timeoutMs=200")
        for a in self.counter_calls(names, 12, par=3):
            self.assertIn("n", a)
        r = admin("DELETE", fn_path(*names))
        self.assertIn(r.status, (200, 204), r)
        body = self.deploy_fresh(src, names, query="timeoutMs=3000")[1]
        self.assertEqual(body["version"], 1)
        rs = parallel(lambda _: invoke(*names, json.dumps({"spin": 500})),
                      [(i,) for i in range(6)], workers=3)
        for i, r in enumerate(rs):
            self.assertStatus(r, 200, "call %d with 500 ms of work under a 3000 ms limit" % i)

    # -------------------------------------- (f) heaps after timeout / memory

    def test_heap_discarded_after_timeout(self):
        names, _ = self.deploy_fresh(POISON % marker("TIMEOUT"), query="timeoutMs=300")
        for a in self.counter_calls(names, 6, par=3):
            self.assertFalse(a["poisoned"], a)
        before = metrics()
        rs = parallel(lambda _: invoke(*names, '{"loop": true}'), [(i,) for i in range(3)],
                      workers=3)
        for r in rs:
            self.assertError(r, 504, "timeout")
        self.assertEqual(delta(before, metrics()).get(
            'fnrun_invocations_total{outcome="timeout"}'), 3)
        for a in self.counter_calls(names, 12) + self.counter_calls(names, 12, par=3):
            self.assertFalse(a["poisoned"], "a heap that timed out was reused: %r" % a)

    def test_heap_discarded_after_memory_limit(self):
        names, _ = self.deploy_fresh(POISON % marker("MEMORY"), query="memoryMb=16")
        for a in self.counter_calls(names, 6, par=3):
            self.assertFalse(a["poisoned"], a)
        rs = parallel(lambda _: invoke(*names, '{"mem": true}'), [(i,) for i in range(3)],
                      workers=3)
        for r in rs:
            self.assertError(r, 500, "memory_limit")
        for a in self.counter_calls(names, 12) + self.counter_calls(names, 12, par=3):
            self.assertFalse(a["poisoned"], "a heap that hit its memory limit was reused: %r" % a)

    def test_function_keeps_working_after_timeout_without_warm_heap(self):
        """Every call of a per-call function that times out is followed by a
        good one."""
        names, _ = self.deploy_fresh(POISON % marker("PCTIMEOUT"),
                                     query="timeoutMs=300&isolation=per-call")
        for _ in range(2):
            self.assertError(invoke(*names, '{"loop": true}'), 504, "timeout")
            r = invoke(*names)
            self.assertStatus(r, 200)
            self.assertEqual(r.json(), {"poisoned": False, "n": 1})

    # ------------------------------------------------- (g) warm heap counts

    def test_warm_heap_gauge_and_warm_hits(self):
        n_fns, calls = 6, workers() + 2
        fns = []
        for i in range(n_fns):
            m = marker("G%d" % i)
            fns.append((self.deploy_fresh(answer_source(m))[0], m))
        before = metrics()
        for names, m in fns:
            self.assertAnswers(names, m)
        first = metrics()
        d = delta(before, first)
        self.assertDelta(d, "first calls", heaps_cold_total=n_fns, heaps_warm_total=0,
                         cache_hits_total=n_fns, cache_misses_total=0, warm_heaps=n_fns)
        self.assertGreater(d["fnrun_warm_heap_bytes"], 0, short(d))
        for names, m in fns:
            self.assertAnswers(names, m, n=calls - 1, par=3)
        d = delta(first, metrics())
        cold, warm = d["fnrun_heaps_cold_total"], d["fnrun_heaps_warm_total"]
        self.assertEqual(cold + warm, n_fns * (calls - 1), short(d))
        # calls per function over `workers` workers: at most `workers` cold.
        self.assertGreaterEqual(warm, n_fns * (calls - workers()), short(d))
        # Each cold call made one more warm heap somewhere, from the cache.
        self.assertDelta(d, "repeat calls", warm_heaps=cold, cache_hits_total=cold,
                         cache_misses_total=0, cache_sets_total=0)


# ------------------------------------------------------- hostile servers

class FakeMemcached(socketserver.ThreadingTCPServer):
    """Speaks just enough memcached for libmemcached to ask; answers each
    get with the next of `modes`. Counts what it served."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, port, modes, replay_value=None):
        self.modes = modes
        self.replay_value = replay_value
        self.lock = threading.Lock()
        self.i = 0
        self.served = {m: 0 for m in modes}
        self.stopping = threading.Event()
        self.conns = set()
        super().__init__(("127.0.0.1", port), FakeHandler)

    def stop(self):
        """Stops serving and cuts every connection a worker still holds."""
        self.stopping.set()
        self.shutdown()
        self.server_close()
        with self.lock:
            conns = list(self.conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def next_mode(self):
        with self.lock:
            m = self.modes[self.i % len(self.modes)]
            self.i += 1
            self.served[m] += 1
            return m


class FakeHandler(socketserver.StreamRequestHandler):

    def setup(self):
        super().setup()
        with self.server.lock:
            self.server.conns.add(self.connection)

    def finish(self):
        with self.server.lock:
            self.server.conns.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def handle(self):
        srv = self.server
        self.connection.settimeout(30)
        mute = False
        while not srv.stopping.is_set():
            try:
                line = self.rfile.readline(4096)
            except OSError:
                return
            if not line:
                return
            parts = line.split()
            if not parts:
                continue
            cmd = parts[0].lower()
            if cmd in (b"set", b"add", b"replace") and len(parts) >= 5:
                self.rfile.read(int(parts[4]) + 2)
                if not mute:
                    self.wfile.write(b"STORED\r\n")
            elif cmd == b"version":
                if not mute:
                    self.wfile.write(b"VERSION 1.6.18\r\n")
            elif cmd in (b"get", b"gets") and len(parts) >= 2:
                if mute:
                    continue
                key = parts[1]
                mode = srv.next_mode()
                if mode == "junk":
                    v = os.urandom(200)
                    self.wfile.write(b"VALUE %s 0 %d\r\n%s\r\nEND\r\n" % (key, len(v), v))
                elif mode == "replay":
                    v = srv.replay_value
                    self.wfile.write(b"VALUE %s 0 %d\r\n%s\r\nEND\r\n" % (key, len(v), v))
                elif mode == "error":
                    self.wfile.write(b"SERVER_ERROR out of memory storing object\r\n")
                elif mode == "garbage":
                    self.wfile.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
                    return
                elif mode == "short":
                    self.wfile.write(b"VALUE %s 0 100000\r\nFNBC\x01\0\0\0" % key)
                    return
                elif mode == "hang":
                    mute = True
                else:
                    self.wfile.write(b"END\r\n")
            elif not mute:
                self.wfile.write(b"ERROR\r\n")


class MemcachedOutageTest(CacheCase):
    """Stops memcached; runs last in this module (classes run in name order)
    and always leaves a real memcached behind."""

    def tearDown(self):
        ensure_memcached()

    def warm_functions(self, n=3):
        fns = []
        for i in range(n):
            m = marker("W%d" % i)
            names, _ = self.deploy_fresh(answer_source(m))
            self.assertAnswers(names, m, n=6, par=3)
            fns.append((names, m))
        return fns

    def wait_cache_back(self, msg):
        """Polls (fresh upload, then calls) until a set and a hit are seen."""
        before = metrics()
        seen = {}

        def resumed():
            m = marker("BACK")
            names, _ = self.deploy_fresh(answer_source(m))
            self.assertAnswers(names, m, n=3, par=3, msg=msg)
            d = delta(before, metrics())
            seen.update(short(d))
            return d["fnrun_cache_sets_total"] > 0 and d["fnrun_cache_hits_total"] > 0
        self.assertTrue(wait_until(resumed, timeout=POLL_S),
                        "%s: cache sets and hits did not resume within %ss: %r"
                        % (msg, POLL_S, seen))

    def test_memcached_stopped_and_restarted(self):
        fns = self.warm_functions()
        stop_memcached()
        before = metrics()
        ok = 0
        # 30 invocations while memcached is gone: warm functions, and fresh
        # ones uploaded now (whose first calls are cold and must compile).
        for i in range(30):
            if i % 3 == 0:
                names, m = fns[(i // 3) % len(fns)]
            else:
                m = marker("DOWN%d" % i)
                names, _ = self.deploy_fresh(answer_source(m))
            self.assertAnswers(names, m, msg="memcached down, call %d" % i)
            ok += 1
        self.assertEqual(ok, 30)
        for names, m in fns:
            self.assertAnswers(names, m, n=6, par=3, msg="memcached down, in parallel")
        d = delta(before, metrics())
        self.assertDelta(d, "memcached down", cache_hits_total=0, cache_sets_total=0,
                         cache_rejects_total=0)
        self.assertGreaterEqual(d["fnrun_cache_misses_total"], 20, short(d))
        for _ in range(workers()):
            r, body = healthz()
            self.assertStatus(r, 200, "healthz with memcached down")
            self.assertEqual((body.get("memcached"), body.get("status")),
                             ("unreachable", "degraded"), body)

        start_memcached()
        for names, m in fns:
            self.assertAnswers(names, m, n=6, par=3, msg="memcached back")
        self.wait_cache_back("memcached back")
        self.assertTrue(wait_until(lambda: healthz()[1].get("memcached") == "ok"),
                        "healthz does not see memcached again")

    def test_hostile_memcached_never_fails_an_invocation(self):
        """A server on memcached's port that answers gets with junk, with a
        MAC-valid frame of another function, with errors, with garbage,
        with a value cut short, or not at all."""
        replay_m = marker("REPLAY")
        replay_src = answer_source(replay_m)
        self.deploy_fresh(replay_src)
        with Memcached() as mc:
            replay = mc.get(cache_key_of(replay_src))
        self.assertIsNotNone(replay)
        fns = self.warm_functions(2)
        stop_memcached()
        modes = ["junk", "replay", "error", "garbage", "short", "hang"]
        fake = FakeMemcached(mc_port(), modes, replay[1])
        t = threading.Thread(target=fake.serve_forever, daemon=True)
        t.start()
        try:
            before = metrics()
            calls = [0]

            def round_done():
                m = marker("HOSTILE")
                names, _ = self.deploy_fresh(answer_source(m))
                self.assertAnswers(names, m, msg="hostile memcached (%r)" % fake.served)
                wn, wm = fns[calls[0] % len(fns)]
                self.assertAnswers(wn, wm, msg="hostile memcached, warm function")
                calls[0] += 1
                with fake.lock:
                    return all(v >= 1 for v in fake.served.values())
            served_all = wait_until(round_done, timeout=30, step=0.05)
            self.assertTrue(served_all, "not every hostile answer was asked for: %r"
                            % fake.served)
            # And a burst of fresh functions in parallel.
            fresh = []
            for i in range(6):
                m = marker("HB%d" % i)
                fresh.append((self.deploy_fresh(answer_source(m))[0], m))
            rs = parallel(lambda names: invoke(*names), [(n,) for n, _ in fresh], workers=3)
            for (names, m), r in zip(fresh, rs):
                self.assertStatus(r, 200, "burst under a hostile memcached")
                self.assertEqual(r.body, m.encode())
            d = delta(before, metrics())
            self.assertDelta(d, "hostile memcached", cache_hits_total=0)
            self.assertGreaterEqual(d["fnrun_cache_rejects_total"], 1, short(d))
            self.assertLessEqual(d["fnrun_cache_rejects_total"],
                                 fake.served["junk"] + fake.served["replay"], short(d))
            self.assertEqual(d.get('fnrun_invocations_total{outcome="ok"}'),
                             d["fnrun_heaps_cold_total"] + d["fnrun_heaps_warm_total"],
                             short(d))
        finally:
            fake.stop()
        start_memcached()
        self.wait_cache_back("real memcached back")


if __name__ == "__main__":
    import unittest
    unittest.main()
