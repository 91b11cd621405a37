"""The nginx edge against a hostile client (issue 8, item 8): the metrics
ACL under every spelling, no admin token in a log and logs not readable by
all, a function's X-Accel-* headers neither acted on nor passed on, JSON for
every error nginx answers by itself, and a normal client served while
thousands of half-open connections are held.

A "remote" client is one on loopback that binds its source address to
127.0.0.2 (or 127.0.0.3) before connecting: nginx listens on 127.0.0.1 and
its ACL lets only 127.0.0.1 and ::1 read /metrics. Only loopback is used.
Requests go out as raw bytes, so that a spelling or a request line is sent
exactly as written. No duration is asserted: socket timeouts are only a
guard against a hung stack.
"""

import base64
import json
import os
import re
import resource
import select
import socket
import stat
import time

from fnrun_client import (REQUEST_TIMEOUT_S, WELL_BEHAVED, FnTestCase,
                          admin_token, find_log_lines, invoke, log_dir,
                          marker, port, state_dir, unique_fn)

LOCAL = "127.0.0.1"
REMOTE = "127.0.0.2"
HALF_OPEN = 2200


class Raw:
    """One answer read off a raw connection: status, headers, body."""

    def __init__(self, data):
        head, _, self.body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
        self.status = int(m.group(1)) if m else None
        self.headers = [tuple(s.strip() for s in l.split(":", 1))
                        for l in lines[1:] if ":" in l]
        cl = self.header("Content-Length")
        if cl is not None:
            self.body = self.body[:int(cl)]

    def header(self, name, default=None):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def __repr__(self):
        return "<HTTP %s %r headers=%r>" % (self.status, self.body[:200], self.headers)


def connect(src=LOCAL, timeout=REQUEST_TIMEOUT_S):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect((LOCAL, port()))
    return s


def read_answer(s):
    """Everything until the server closes (requests say Connection: close)."""
    out = b""
    while True:
        d = s.recv(65536)
        if not d:
            return Raw(out)
        out += d


def raw(request_bytes, src=LOCAL):
    s = connect(src)
    try:
        s.sendall(request_bytes)
        return read_answer(s)
    finally:
        s.close()


def get(path, src=LOCAL, headers=""):
    return raw(("GET %s HTTP/1.1\r\nHost: fnrun\r\n%sConnection: close\r\n\r\n"
                % (path, headers)).encode("latin-1"), src)


def rendered_server_conf():
    with open(os.path.join(state_dir(), "nginx", "fnrun-server.conf")) as f:
        return f.read()


class EdgeTest(FnTestCase):

    def assertRawJsonError(self, r, status, code, what):
        self.assertEqual(r.status, status, "%s: %r" % (what, r))
        self.assertTrue((r.header("Content-Type") or "").startswith("application/json"),
                        "%s: not JSON: %r" % (what, r))
        body = json.loads(r.body.decode("utf-8"))
        self.assertEqual(body.get("error"), code, "%s: %r" % (what, r))
        self.assertTrue(body.get("message"), "%s: %r" % (what, r))

    # -- 1. /metrics: no spelling escapes the ACL

    def test_1_no_spelling_of_metrics_escapes_the_acl(self):
        r = get("/metrics")
        self.assertEqual(r.status, 200, r)
        self.assertIn(b"fnrun_", r.body)
        spellings = ("/metrics", "/metrics/", "/metrics?x", "/metrics/?x", "//metrics",
                     "///metrics/", "/metrics//", "/metrics%2F", "/metrics%2f",
                     "/%6detrics", "/%6Detrics/", "/%2Fmetrics", "/./metrics",
                     "/metrics/.", "/x/../metrics/", "/METRICS", "/metrics/x",
                     "/metrics;x", "http://fnrun/metrics/")
        for path in spellings:
            r = get(path, src=REMOTE)
            self.assertNotIn(b"fnrun_", r.body, "%s from %s: metrics served: %r"
                             % (path, REMOTE, r))
            self.assertIn(r.status, (400, 403, 404), "%s from %s: %r" % (path, REMOTE, r))
            self.assertTrue((r.header("Content-Type") or "").startswith("application/json"),
                            "%s from %s: %r" % (path, REMOTE, r))
        # The worker serves only the literal path: no other spelling of it
        # is metrics, even from the local host (fcgi-app/router.c).
        for path in ("/metrics/", "//metrics", "/%6detrics", "/metrics//"):
            r = get(path)
            self.assertNotIn(b"fnrun_", r.body, "%s from %s: %r" % (path, LOCAL, r))

    # -- 2. no token in a log; logs not readable by every local user

    def test_2_duplicate_authorization_is_not_logged(self):
        token = marker("TOKDUP")
        basic = marker("TOKBASIC")
        r = raw(("GET /functions/p1 HTTP/1.1\r\nHost: fnrun\r\n"
                 "Authorization: Bearer %s-1\r\nAuthorization: Bearer %s-2\r\n"
                 "Connection: close\r\n\r\n" % (token, token)).encode())
        self.assertIsNotNone(r.status, r)
        # Basic credentials are what the default access log format's
        # $remote_user shows.
        cred = base64.b64encode(("%s:x" % basic).encode()).decode()
        r = get("/healthz", headers="Authorization: Basic %s\r\n" % cred)
        self.assertEqual(r.status, 200, r)
        # Console lines (SPEC §6) still reach the error log at its level.
        names = unique_fn()
        line = marker("EDGELOG")
        self.deploy("module.exports = function (req, res) {\n"
                    "  console.log('%s'); res.send('x');\n};" % line, names)
        self.assertStatus(invoke(*names), 200)
        self.assertTrue(find_log_lines(line), "console line missing from nginx-error.log")
        # nginx wrote any line about a request before it answered it.
        logs = log_dir()
        for name in sorted(os.listdir(logs)):
            path = os.path.join(logs, name)
            with open(path, "rb") as f:
                data = f.read()
            for secret in (token, basic, admin_token()):
                self.assertNotIn(secret.encode(), data, "%s holds a token" % name)
        for name in ("nginx-error.log", "access.log"):
            mode = stat.S_IMODE(os.stat(os.path.join(logs, name)).st_mode)
            self.assertEqual(mode & 0o007, 0, "%s is mode %o" % (name, mode))
        conf = rendered_server_conf()
        self.assertNotRegex(conf, r"(?m)^\s*log_format[^;]*\$(http_authorization|remote_user)")

    # -- 3. X-Accel-* of a function: neither acted on nor passed on

    def test_3_function_x_accel_headers_are_ignored_and_hidden(self):
        names = unique_fn()
        self.deploy(
            "module.exports = function (req, res) {\n"
            "  res.send('fn-body', 200, {'Content-Type': 'text/plain',\n"
            "    'X-Accel-Redirect': req.query.to, 'X-Accel-Buffering': 'no',\n"
            "    'X-Accel-Limit-Rate': '65536', 'X-Accel-Expires': '100',\n"
            "    'X-Accel-Charset': 'koi8-r'});\n};", names)
        for to in ("/metrics", "/.fnrun-error/forbidden", "/healthz"):
            r = invoke(*names, query="to=" + to)
            self.assertEqual(r.status, 200, "X-Accel-Redirect %s: %r" % (to, r))
            self.assertEqual(r.body, b"fn-body", "X-Accel-Redirect %s: %r" % (to, r))
            accel = [k for k, _ in r.header_list if k.lower().startswith("x-accel-")]
            self.assertEqual(accel, [], "X-Accel-Redirect %s: %r" % (to, r))
            self.assertNotIn("koi8", r.header("Content-Type", ""), r)

    # -- 4. every error nginx answers by itself is JSON

    def test_4_errors_nginx_answers_itself_are_json(self):
        cases = (
            (b"TRACE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
             405, "method_not_allowed"),
            (b"CONNECT / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
             405, "method_not_allowed"),
            (b"CONNECT fnrun:443 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
             400, "bad_request"),
            (b"G@T / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
             400, "bad_request"),
            (b"GET / HTTP/2.0\r\nHost: x\r\nConnection: close\r\n\r\n",
             505, "bad_request"),
            (b"GET / HTTP/9.9\r\nHost: x\r\nConnection: close\r\n\r\n",
             505, "bad_request"),
            (b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n"
             b"Connection: close\r\n\r\n", 501, "bad_request"),
            (b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n"
             b"Connection: close\r\n\r\n", 501, "bad_request"),
            (b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 400, "bad_request"),
        )
        for req, status, code in cases:
            self.assertRawJsonError(raw(req), status, code, req.split(b"\r\n")[0])

    # -- 5. hostile clients: half-open connections, requests per address

    def test_5a_normal_client_served_beside_half_open_connections(self):
        names = unique_fn()
        self.deploy(WELL_BEHAVED, names)
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))
        if hard < HALF_OPEN + 200:
            self.skipTest("RLIMIT_NOFILE hard limit %d is below %d" % (hard, HALF_OPEN + 200))
        socks = []

        def close_all():
            for s in socks:
                s.close()
        self.addCleanup(close_all)
        poller = select.poll()
        for i in range(HALF_OPEN):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.bind((REMOTE, 0))
            s.setblocking(False)
            s.connect_ex((LOCAL, port()))
            poller.register(s, select.POLLOUT)
        # Every connect completes (the guard only bounds a hung stack).
        pending = {s.fileno(): s for s in socks}
        while pending:
            ready = poller.poll(REQUEST_TIMEOUT_S * 1000)
            self.assertTrue(ready, "%d connects never completed" % len(pending))
            for fd, _ in ready:
                poller.unregister(fd)
                s = pending.pop(fd)
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                self.assertEqual(err, 0, os.strerror(err))
        # Half send nothing, half a partial request line.
        for i, s in enumerate(socks):
            if i % 2:
                s.send(b"GET /heal")
        r = invoke(*names, body=b'{"i": 1}')
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"ok": True, "sum": 500500, "echo": {"i": 1}})
        # They were all still held while it was served: none is closed or
        # readable (nginx answers a half-open connection only by closing it).
        poller = select.poll()
        for s in socks:
            poller.register(s, select.POLLIN | select.POLLHUP | select.POLLERR)
        closed = poller.poll(0)
        self.assertEqual(len(closed), 0, "%d of %d half-open connections were closed "
                         "before the check (machine too slow for client_header_timeout?)"
                         % (len(closed), HALF_OPEN))

    def test_5b_requests_per_address_are_limited_with_json_429(self):
        m = re.search(r"(?m)^\s*limit_conn fnrun_per_ip (\d+);", rendered_server_conf())
        self.assertIsNotNone(m, "no per-address limit in the server block")
        limit = int(m.group(1))
        src = "127.0.0.3"
        holders = []

        def close_all():
            for s in holders:
                s.close()
        self.addCleanup(close_all)
        # Each holds a request in progress: its header is in, its body not.
        # A few more than the limit, so that the limit is reached even if
        # nginx has ended one or two (the last ones get 429 themselves).
        for _ in range(limit + 16):
            s = connect(src)
            holders.append(s)
            s.sendall(b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
        # nginx takes the holders' headers in its own time: complete
        # requests from the same address are served until it has.
        # On a loaded machine that takes a while: poll, pausing so its
        # workers get the CPU, well within the holders' body timeout.
        # A holder whose body stalls past client_body_timeout is ended by
        # nginx: one body byte every 2 s keeps each in progress (9 of its
        # 10 bytes at most), however slow the machine is.
        seen = []
        trickled, last = 0, time.monotonic()
        for _ in range(300):
            r = get("/healthz", src=src)
            seen.append(r.status)
            if r.status == 429:
                break
            time.sleep(0.02)
            if time.monotonic() - last > 2.0 and trickled < 9:
                for h in holders:
                    try:
                        h.send(b"x")
                    except OSError:
                        pass    # one nginx answered 429 and closed
                trickled, last = trickled + 1, time.monotonic()
        self.assertEqual(seen[-1], 429, "never limited: %d answers: %r"
                         % (len(seen), sorted(set(seen))))
        self.assertRawJsonError(r, 429, "too_many_requests", "request over the limit")
        self.assertTrue(r.header("Retry-After"), r)
        # Another address is not affected.
        self.assertEqual(get("/healthz").status, 200)
