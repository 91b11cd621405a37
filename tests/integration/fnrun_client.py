"""fnrun_client - HTTP fixtures for the integration tests.

Talks to the stack that run.py started, through nginx only, with http.client
so that raw paths (/functions/%2e%2e/x) and bodies with NUL bytes are sent
exactly as written. Reads where the stack lives from the environment run.py
sets: FNRUN_STATE_DIR, FNRUN_STORE_DIR, FNRUN_PORT (and FNRUN_TIMEOUT_MS, when
the runner overrides the default deadline).

Owns no state beyond a counter for unique names; every test makes its own
project/request/fn names so that tests never see each other's functions.
"""

import concurrent.futures
import shutil
import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid

HOST = "127.0.0.1"
REQUEST_TIMEOUT_S = 30.0    # a hung stack fails the test instead of hanging it

DEFAULT_TIMEOUT_MS = 1000   # SPEC §6: default wall-clock limit of one invocation


def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1 (all bound at once, then released)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def state_dir():
    return os.environ["FNRUN_STATE_DIR"]


def store_dir():
    return os.environ["FNRUN_STORE_DIR"]


def port():
    return int(os.environ["FNRUN_PORT"])


def timeout_ms():
    """The invocation deadline the stack runs with (the runner keeps the default)."""
    return int(os.environ.get("FNRUN_TIMEOUT_MS", DEFAULT_TIMEOUT_MS))


def _secret(name):
    with open(os.path.join(state_dir(), "secrets", name), "rb") as f:
        return f.read().decode("ascii").strip()


def admin_token():
    return _secret("admin_token")


def invoke_key():
    return _secret("invoke_key")


def log_dir():
    return os.path.join(state_dir(), "log")


def nginx_error_log():
    return os.path.join(log_dir(), "nginx-error.log")


# ---------------------------------------------------------------- names

_counter = 0
_counter_lock = threading.Lock()
_run_tag = uuid.uuid4().hex[:6]


def unique(prefix="n"):
    """A fresh valid name (SPEC §2): starts with a letter, [A-Za-z0-9_-], < 64 chars."""
    global _counter
    with _counter_lock:
        _counter += 1
        n = _counter
    return "%s-%s-%d-%s" % (prefix, _run_tag, n, uuid.uuid4().hex[:6])


def unique_fn():
    """(project, request, fn), all fresh."""
    return unique("p"), unique("r"), unique("f")


def marker(prefix="M"):
    return "%s%s" % (prefix, uuid.uuid4().hex)


def sha256_hex(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- HTTP

class Response:
    """A complete answer: status, headers (in order, as sent), raw body bytes."""

    def __init__(self, status, reason, headers, body, elapsed):
        self.status = status
        self.reason = reason
        self.header_list = headers
        self.body = body
        self.elapsed = elapsed

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.header_list:
            if k.lower() == name:
                return v
        return default

    def headers_named(self, name):
        name = name.lower()
        return [v for k, v in self.header_list if k.lower() == name]

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def try_json(self):
        try:
            return self.json()
        except (ValueError, UnicodeDecodeError):
            return None

    def __repr__(self):
        body = self.body[:300]
        more = "" if len(self.body) <= 300 else "...(%d bytes)" % len(self.body)
        return "<HTTP %d %r%s headers=%r>" % (self.status, body, more,
                                             self.header_list[:12])


def request(method, path, body=None, headers=None, timeout=REQUEST_TIMEOUT_S,
            chunked=False):
    """Sends one request on a fresh connection; path is sent byte for byte.
    With chunked, the body goes in 64 KiB chunks without a Content-Length."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    conn = http.client.HTTPConnection(HOST, port(), timeout=timeout)
    try:
        t0 = time.monotonic()
        conn.putrequest(method, path, skip_accept_encoding=True)
        hdrs = dict(headers or {})
        if chunked:
            hdrs["Transfer-Encoding"] = "chunked"
        elif body is not None or method in ("POST", "PUT"):
            hdrs.setdefault("Content-Length", str(len(body or b"")))
        for k, v in hdrs.items():
            conn.putheader(k, v)
        try:
            if chunked:
                conn.endheaders()
                data = body or b""
                for i in range(0, len(data), 65536):
                    piece = data[i:i + 65536]
                    conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
                conn.send(b"0\r\n\r\n")
            else:
                conn.endheaders(body if body else None)
        except (BrokenPipeError, ConnectionResetError):
            # The server may answer (413) and close before the whole body is
            # sent; its answer is still there to read.
            pass
        r = conn.getresponse()
        data = r.read()
        elapsed = time.monotonic() - t0
        return Response(r.status, r.reason, r.getheaders(), data, elapsed)
    finally:
        conn.close()


def admin_headers(token=None):
    return {"Authorization": "Bearer %s" % (admin_token() if token is None else token)}


def _q(query):
    if not query:
        return ""
    return query if query.startswith("?") else "?" + query


def fn_path(project, req, fn):
    return "/functions/%s/%s/%s" % (project, req, fn)


def upload(project, req, fn, source, via="put", query="", headers=None,
           token=None):
    """Uploads source by PUT (application/javascript) or POST /functions (JSON)."""
    h = admin_headers(token)
    if via == "put":
        h["Content-Type"] = "application/javascript"
        path = fn_path(project, req, fn) + _q(query)
        body = source
    elif via == "post":
        h["Content-Type"] = "application/json"
        path = "/functions" + _q(query)
        body = json.dumps({"projectId": project, "requestId": req,
                           "fnName": fn, "fnDefinition": source})
    else:
        raise ValueError(via)
    h.update(headers or {})
    return request("POST" if via == "post" else "PUT", path, body, h)


def invoke(project, req, fn, body=b"", query="", headers=None, key=None,
           debug=False, timeout=REQUEST_TIMEOUT_S):
    h = {"X-Fn-Key": invoke_key() if key is None else key}
    if debug:
        h["X-Fn-Debug"] = "1"
    h.update(headers or {})
    path = "/invoke/%s/%s/%s%s" % (project, req, fn, _q(query))
    return request("POST", path, body, h, timeout=timeout)


def admin(method, path, body=None, headers=None, token=None):
    h = admin_headers(token)
    h.update(headers or {})
    return request(method, path, body, h)


def parallel(fn, args_list, workers=None):
    """Runs fn(*args) for each args concurrently; returns results in order."""
    workers = workers or len(args_list) or 1
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as ex:
        futs = [ex.submit(fn, *a) for a in args_list]
        return [f.result() for f in futs]


def parse_metrics(r):
    """A /metrics answer parsed into {'name{labels}': value}."""
    if r.status != 200:
        raise AssertionError("GET /metrics: %r" % r)
    out = {}
    for line in r.text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        out[name] = float(value)
    return out


def metrics():
    """GET /metrics (from the local host), parsed (parse_metrics)."""
    return parse_metrics(request("GET", "/metrics"))


def store_snapshot():
    """Every path under the store, relative, except the transient .tmp/.trash."""
    root = store_dir()
    out = set()
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel == ".":
            dirnames[:] = [d for d in dirnames if d not in (".tmp", ".trash")]
        for n in dirnames + filenames:
            out.add(os.path.normpath(os.path.join(rel, n)))
    return out


# ---------------------------------------------------------------- test base

# A well-behaved function used to prove the pool serves after hostile cases.
WELL_BEHAVED = r"""
module.exports = function (req, res) {
  var s = 0;
  for (var i = 1; i <= 1000; i++) s += i;
  res.json({ ok: true, sum: s, echo: req.payload }, 200);
};
"""


RESTARTS = "fnrun_worker_restarts_total"
HARD_KILLS = "fnrun_hard_kills_total"


def invocation_records(names):
    """The invocation log's records of one function, oldest first."""
    p, rq, f = names
    out = []
    with open(os.path.join(log_dir(), "invocations.log"), "rb") as fh:
        for raw in fh:
            try:
                rec = json.loads(raw.decode("utf-8"))
            except ValueError:
                continue
            if (rec.get("project"), rec.get("request"), rec.get("fn")) == (p, rq, f):
                out.append(rec)
    return out


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


class FnTestCase(unittest.TestCase):
    maxDiff = 4000

    def assertError(self, r, status, code, msg=None):
        """An error answer of SPEC §4: status, JSON body with error and message."""
        ctx = "%s: %r" % (msg or "answer", r)
        self.assertEqual(r.status, status, ctx)
        ctype = r.header("Content-Type", "")
        self.assertTrue(ctype.startswith("application/json"),
                        "error Content-Type %r; %s" % (ctype, ctx))
        body = r.try_json()
        self.assertIsInstance(body, dict, "error body is not a JSON object; " + ctx)
        self.assertEqual(body.get("error"), code, ctx)
        self.assertIsInstance(body.get("message"), str, ctx)
        self.assertTrue(body["message"].strip(), "empty message; " + ctx)
        return body

    def assertStatus(self, r, status, msg=None):
        self.assertEqual(r.status, status, "%s: %r" % (msg or "answer", r))

    def deploy(self, source, names=None, via="put"):
        """Uploads source to fresh (or given) names; returns (p, r, f, version)."""
        p, rq, f = names or unique_fn()
        r = upload(p, rq, f, source, via=via)
        self.assertIn(r.status, (200, 201), "upload failed: %r" % r)
        return p, rq, f, r.json()["version"]

    def assertWellBehavedServes(self, names, n_seq=6, n_par=6, msg=""):
        """n_seq calls in a row then n_par at once, all 200 with the right body,
        so that every worker of the pool takes at least some of them."""
        p, rq, f = names

        def one(i):
            return invoke(p, rq, f, json.dumps({"i": i}))

        answers = [one(i) for i in range(n_seq)]
        answers += parallel(one, [(n_seq + i,) for i in range(n_par)])
        for i, r in enumerate(answers):
            self.assertEqual(r.status, 200, "%s follow-up call %d: %r" % (msg, i, r))
            self.assertEqual(r.json(), {"ok": True, "sum": 500500, "echo": {"i": i}},
                             "%s follow-up call %d" % (msg, i))


    def assertWorkerKept(self, names, pid, well, m0, msg=""):
        """The worker pid that ran names (taken from the invocation log) is
        alive, no worker was restarted or killed since metrics m0, and the
        pool serves the well-behaved function well."""
        self.assertWellBehavedServes(well, msg=msg)
        m1 = metrics()
        self.assertEqual(m1.get(HARD_KILLS, 0), m0.get(HARD_KILLS, 0), msg)
        self.assertEqual(m1.get(RESTARTS, 0), m0.get(RESTARTS, 0), msg)
        self.assertTrue(pid_alive(pid), "%s: worker %d was replaced" % (msg, pid))


def find_log_lines(needle, path=None, wait_s=3.0):
    """Lines of the nginx error log containing needle. Waits for the file to
    show it (nginx writes the upstream's stderr as it reads it, but the test
    does not rely on the order of two processes' writes)."""
    path = path or nginx_error_log()
    deadline = time.monotonic() + wait_s
    while True:
        lines = []
        try:
            with open(path, "rb") as f:
                for line in f:
                    s = line.decode("utf-8", errors="replace")
                    if needle in s:
                        lines.append(s.rstrip("\n"))
        except FileNotFoundError:
            pass
        if lines or time.monotonic() >= deadline:
            return lines
        time.sleep(0.05)


SERVER_TIMING_RE = re.compile(r"^fn;dur=[0-9.]+$")


def quote(s):
    return urllib.parse.quote(s, safe="")


# ---------------------------------------------------------------- stack control

ROOT_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STACK_SH = os.path.join(ROOT_DIR, "scripts", "stack.sh")


def stack_env(**overrides):
    """The environment run.py gave scripts/stack.sh: every FNRUN_* it exported
    to this process, plus the sanitizer options pointing at the log dir that
    run.py sets only for the stack (so that workers started by scale, reload
    or a restart report where run.py looks). overrides are FNRUN_* strings."""
    env = dict(os.environ)
    logdir = log_dir()
    for var, extra in (("ASAN_OPTIONS", ["log_path=%s" % os.path.join(logdir, "asan")]),
                       ("UBSAN_OPTIONS", ["print_stacktrace=1",
                                          "log_path=%s" % os.path.join(logdir, "ubsan")])):
        cur = env.get(var, "")
        if "log_path=" not in cur:
            env[var] = ":".join(filter(None, [cur] + extra))
    env.update({k: str(v) for k, v in overrides.items()})
    return env


def sh(*argv, check=True, ns=None, env=None, inp=None, timeout=60):
    """Runs argv (inside network namespace ns when given); returns the
    CompletedProcess (stdout and stderr together). check: a non-zero exit
    fails the test, naming the command and its output."""
    cmd = list(argv)
    if ns is not None:
        cmd = ["ip", "netns", "exec", ns] + cmd
    p = subprocess.run(cmd, env=env, input=inp, timeout=timeout,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (" ".join(cmd), p.returncode,
                                                     p.stdout.decode("utf-8", "replace")))
    return p


def run_stack(*args, env=None, timeout=120):
    """Runs scripts/stack.sh args... (default: stack_env()); returns (ok, output)."""
    try:
        p = subprocess.run([STACK_SH] + [str(a) for a in args],
                           env=env if env is not None else stack_env(),
                           cwd=ROOT_DIR, timeout=timeout,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", errors="replace")
        return False, out + "\n(stack.sh %s timed out after %ds)" % (" ".join(map(str, args)), timeout)
    except OSError as e:
        return False, "cannot run %s: %s" % (STACK_SH, e)
    return p.returncode == 0, p.stdout.decode("utf-8", errors="replace")


class OwnStack:
    """A stack of a test module's own, on a temporary directory and free
    ports, for settings the shared stack must not have (quotas, workers,
    egress_allow). start() makes this process's FNRUN_PORT/_STATE_DIR/
    _STORE_DIR point at it, so the module's requests go there; stop()
    points them back, stops it by PID (stack.sh) and removes the
    directory. overrides are FNRUN_* settings."""

    def __init__(self, name, **overrides):
        self.name = name
        self.tmp = tempfile.mkdtemp(prefix="fnrun-%s-" % name)
        # Run as root, nginx's workers (www-data) must reach the socket.
        os.chmod(self.tmp, 0o755)
        self.state = os.path.join(self.tmp, "state")
        self.store = os.path.join(self.tmp, "store")
        os.makedirs(self.state)
        os.makedirs(self.store)
        conf = os.path.join(self.tmp, "fnrun.conf")
        with open(conf, "w") as f:
            f.write("# test stack: %s\n" % name)
        self.port, mc_port = free_ports(2)
        settings = dict(FNRUN_CONFIG=conf, FNRUN_STATE_DIR=self.state,
                        FNRUN_STORE_DIR=self.store, FNRUN_PORT=self.port,
                        FNRUN_MEMCACHED_PORT=mc_port)
        settings.update(overrides)
        # Sanitizer reports stay where run.py looks (the main stack's log dir).
        self.env = stack_env(**settings)
        self.saved = None
        self.started = False

    def start(self):
        ok, out = run_stack("start", env=self.env, timeout=120)
        self.started = True
        if not ok:
            self.stop()
            raise AssertionError("%s stack did not start:\n%s" % (self.name, out))
        self.saved = {k: os.environ.get(k) for k in
                      ("FNRUN_PORT", "FNRUN_STATE_DIR", "FNRUN_STORE_DIR")}
        os.environ.update({"FNRUN_PORT": str(self.port), "FNRUN_STATE_DIR": self.state,
                           "FNRUN_STORE_DIR": self.store})
        return self

    def stop(self):
        for k, v in (self.saved or {}).items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        self.saved = None
        ok, out = (run_stack("stop", env=self.env, timeout=90) if self.started
                   else (True, ""))
        self.started = False
        shutil.rmtree(self.tmp, True)
        if not ok:
            raise AssertionError("%s stack: stack.sh stop failed:\n%s" % (self.name, out))
