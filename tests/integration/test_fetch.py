"""fetch() through the real stack (issue 10, SPEC §11 "When an invocation
ends" and §12): a stack of its own whose egress_allow admits only the
upstream servers this module starts on 127.0.0.1 (each by its port), so
the default egress policy still refuses every other address. Upstreams:
Python http.server in threads (plain HTTP, HTTPS with a CA generated here
with openssl, and HTTPS signed by a CA the stack is not given); listeners
that only count the connections they accept, where refused requests would
have gone. Every packet goes to 127.0.0.1 or ::1; the names resolved are
localhost (/etc/hosts) and one whose 64-byte label no DNS query can carry
(RFC 1035 §2.3.4), so the resolver fails without sending anything.

No assertion compares a duration with a constant: concurrency is shown by
the upstream's own record of overlapping requests, deadlines by the
outcome and the worker that answered."""

import base64
import http.server
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse

from fnrun_client import (WELL_BEHAVED, FnTestCase, OwnStack, admin,
                          free_ports, invocation_records, invoke, log_dir,
                          metrics, pid_alive, unique_fn, upload)

WORKERS = 2
SLOW_MS = 200
SECRET = "sk_live_fetch_secret_0123456789"


class Upstream(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, handler):
        super().__init__(addr, handler)
        self.lock = threading.Lock()
        self.log = []           # (path, start, end) of each request
        self.active = 0
        self.max_active = 0
        self.release = threading.Event()

    def handle_error(self, request, client_address):
        pass    # a client that went away (an aborted or cancelled fetch)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _send(self, status, body, ctype="application/json", headers=None,
              reason=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status, reason)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self):
        srv = self.server
        slow = self.path.startswith("/slow")
        with srv.lock:
            if slow:
                srv.active += 1
                srv.max_active = max(srv.max_active, srv.active)
        t0 = time.monotonic()
        try:
            self._route()
        finally:
            with srv.lock:
                if slow:
                    srv.active -= 1
                srv.log.append((self.path, t0, time.monotonic()))

    def _route(self):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        parts = u.path.strip("/").split("/")
        if parts[0] == "echo":
            self._send(200, json.dumps({
                "method": self.command, "path": u.path, "query": u.query,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": base64.b64encode(body).decode()}),
                headers={"X-Up": "from-upstream"})
        elif parts[0] == "status":
            self._send(int(parts[1]), '{"error":"nope"}', reason="Custom Reason")
        elif parts[0] == "redirect":
            left = int(parts[1])
            if left == 0:
                self._send(200, json.dumps({"arrived": True, "method": self.command}))
            else:
                self._send(int(q.get("code", "302")), "", headers={
                    "Location": "/redirect/%d?%s" % (left - 1, u.query)})
        elif parts[0] == "to":
            self._send(302, "", headers={"Location": q["url"]})
        elif parts[0] == "slow":
            time.sleep(SLOW_MS / 1000.0)
            self._send(200, '{"slow":true}')
        elif parts[0] == "hang":
            self.server.release.wait(60)
            self._send(200, "{}")
        elif parts[0] == "raw":
            # Bytes that are not UTF-8 in the reason, a header and the body.
            self.wfile.write(b"HTTP/1.1 200 Fine\xff\xfe\r\nX-Bin: a\xffb\r\n"
                             b"Content-Length: 3\r\n\r\n\xc3\x28!")
            self.close_connection = True
        elif parts[0] == "headers":
            # Response headers past fnrun's bound (256 KiB in all).
            self.send_response(200)
            for i in range(4000):
                self.send_header("X-H%d" % i, "v" * 100)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif parts[0] == "big":
            size = int(q["n"])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b"x" * 65536
            try:
                while size > 0:
                    self.wfile.write(chunk[:min(size, len(chunk))])
                    size -= min(size, len(chunk))
            except OSError:
                pass
        else:
            self._send(404, "{}")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle


class CountingListener:
    """Accepts and counts connections on (host, port); answers nothing."""

    def __init__(self, family, host, port=0):
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepts = 0
        self.stop = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepts += 1
            c.close()

    def close(self):
        self.stop = True
        self.t.join(2)
        self.sock.close()


def serve(server):
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    return server


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_ca_and_cert(d, name):
    """A CA (name-ca.pem) and a certificate for 127.0.0.1 it signed."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=fnrun test CA %s" % name, "-keyout", name + "-ca.key",
            "-out", name + "-ca.pem", cwd=d)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
            "-keyout", name + ".key", "-out", name + ".csr", cwd=d)
    with open(os.path.join(d, name + ".ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    openssl("x509", "-req", "-in", name + ".csr", "-CA", name + "-ca.pem",
            "-CAkey", name + "-ca.key", "-CAcreateserial", "-days", "2",
            "-extfile", name + ".ext", "-out", name + ".pem", cwd=d)
    return os.path.join(d, name + "-ca.pem"), os.path.join(d, name + ".pem"), \
        os.path.join(d, name + ".key")


def tls_upstream(certfile, keyfile):
    srv = Upstream(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certfile, keyfile)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    return serve(srv)


class FetchTest(FnTestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="fnrun-fetch-up-")
        ca, cert, key = make_ca_and_cert(cls.tmp, "good")
        _, ocert, okey = make_ca_and_cert(cls.tmp, "other")
        os.chmod(cls.tmp, 0o755)
        os.chmod(ca, 0o644)
        cls.up = serve(Upstream(("127.0.0.1", 0), Handler))
        cls.tls = tls_upstream(cert, key)
        cls.tls_other = tls_upstream(ocert, okey)
        # Where refused requests would land: counted, never admitted.
        cls.deny4 = CountingListener(socket.AF_INET, "127.0.0.1")
        cls.deny6 = CountingListener(socket.AF_INET6, "::1", cls.deny4.port)
        cls.closed_port = free_ports(1)[0]
        cls.P = cls.up.server_address[1]
        cls.U = "http://127.0.0.1:%d" % cls.P
        allow = ",".join("127.0.0.1:%d" % p for p in (
            cls.P, cls.tls.server_address[1], cls.tls_other.server_address[1],
            cls.closed_port))
        cls.stack = OwnStack("fetch", FNRUN_WORKERS=WORKERS,
                             FNRUN_PROJECT_MAX_CONCURRENCY=1024,
                             FNRUN_EGRESS_ALLOW=allow, FNRUN_EGRESS_CA_FILE=ca)
        try:
            cls.stack.start()
        except AssertionError:
            cls._close_upstreams()
            raise

    @classmethod
    def _close_upstreams(cls):
        for s in (cls.up, cls.tls, cls.tls_other):
            s.release.set()
            s.shutdown()
            s.server_close()
        cls.deny4.close()
        cls.deny6.close()
        shutil.rmtree(cls.tmp, True)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.stack.stop()
        finally:
            cls._close_upstreams()

    # -- helpers

    def run_fn(self, body, payload=b"", debug=False, query="", names=None):
        """Deploys an async handler whose body is body (req, res in scope)."""
        src = "module.exports = async function (req, res) {\n%s\n};" % body
        p, rq, f = names or unique_fn()
        r = upload(p, rq, f, src, query=query)
        self.assertIn(r.status, (200, 201), "upload failed: %r" % r)
        return invoke(p, rq, f, payload, debug=debug), (p, rq, f)

    def ok_json(self, body, **kw):
        r, names = self.run_fn(body, **kw)
        self.assertStatus(r, 200)
        return r.json()

    def caught(self, url, extra=""):
        """What fetch(url) rejects with: [name, message]."""
        return self.ok_json(
            "  try { await fetch(%s%s); res.json(['resolved']); }\n"
            "  catch (e) { res.json([e.name, e.message]); }" % (json.dumps(url), extra))

    # -- requests and responses

    def test_get_json_and_headers_both_ways(self):
        out = self.ok_json(
            "  var r = await fetch('%s/echo/a?x=1', {headers: {'X-Custom': 'v1'}});\n"
            "  var j = await r.json();\n"
            "  res.json({status: r.status, ok: r.ok, statusText: r.statusText,\n"
            "    up: r.headers.get('x-up'), ctype: r.headers.get('Content-Type'),\n"
            "    url: r.url, redirected: r.redirected, got: j});" % self.U)
        self.assertEqual(out["status"], 200)
        self.assertTrue(out["ok"])
        self.assertEqual(out["statusText"], "OK")
        self.assertEqual(out["up"], "from-upstream")
        self.assertEqual(out["ctype"], "application/json")
        self.assertEqual(out["url"], self.U + "/echo/a?x=1")
        self.assertFalse(out["redirected"])
        self.assertEqual(out["got"]["method"], "GET")
        self.assertEqual(out["got"]["headers"]["x-custom"], "v1")

    def test_post_json_pairs_and_headers_object(self):
        out = self.ok_json(
            "  var h = new Headers([['content-type', 'application/json'], ['x-a', '1']]);\n"
            "  h.append('x-a', '2');\n"
            "  var r = await fetch('%s/echo', {method: 'post', headers: h,\n"
            "    body: JSON.stringify({amount: 100, s: '\\u00e9\\ud83d\\ude00'})});\n"
            "  res.json(await r.json());" % self.U)
        self.assertEqual(out["method"], "POST")
        self.assertEqual(out["headers"]["content-type"], "application/json")
        self.assertEqual(out["headers"]["x-a"], "1, 2")
        self.assertEqual(json.loads(base64.b64decode(out["body"]).decode("utf-8")),
                         {"amount": 100, "s": "\u00e9\U0001F600"})

    def test_binary_bodies_both_ways(self):
        out = self.ok_json(
            "  var a = new Uint8Array([0, 1, 2, 255]);\n"
            "  var r1 = await (await fetch('%s/echo', {method: 'PUT', body: a.buffer})).json();\n"
            "  var r2 = await (await fetch('%s/echo', {method: 'PUT', body: a.subarray(1, 3)})).json();\n"
            "  var ab = await (await fetch('%s/big?n=5')).arrayBuffer();\n"
            "  res.json([r1.body, r2.body, r1.headers['content-type'] || null, ab.byteLength]);"
            % (self.U, self.U, self.U))
        self.assertEqual(base64.b64decode(out[0]), b"\x00\x01\x02\xff")
        self.assertEqual(base64.b64decode(out[1]), b"\x01\x02")
        self.assertIsNone(out[2])   # no default Content-Type for bytes
        self.assertEqual(out[3], 5)

    def test_error_status_is_a_response_with_ok_false(self):
        out = self.ok_json(
            "  var r = await fetch('%s/status/404');\n"
            "  res.json([r.status, r.ok, r.statusText, await r.text()]);" % self.U)
        self.assertEqual(out, [404, False, "Custom Reason", '{"error":"nope"}'])

    def test_returned_fetch_response_is_the_answer(self):
        r, _ = self.run_fn("  return fetch('%s/status/418');" % self.U)
        self.assertStatus(r, 418)
        self.assertEqual(r.json(), {"error": "nope"})

    def test_hostile_upstream_bytes_and_headers(self):
        out = self.ok_json(
            "  var r = await fetch('%s/raw');\n"
            "  var t = await r.text();\n"
            "  var e; try { await fetch('%s/headers'); } catch (x) { e = [x.name, x.message]; }\n"
            "  res.json([r.statusText, r.headers.get('x-bin'), t, e]);" % (self.U, self.U))
        self.assertEqual(out[0], "Fine\ufffd\ufffd")
        self.assertEqual(out[1], "a\ufffdb")
        self.assertEqual(out[2], "\ufffd(!")
        self.assertEqual(out[3][0], "TypeError")
        self.assertIn("headers exceed", out[3][1])

    # -- redirects

    def test_redirect_follow_manual_error(self):
        out = self.ok_json(
            "  var f = await fetch('%s/redirect/3?k=v');\n"
            "  var m = await fetch('%s/redirect/3', {redirect: 'manual'});\n"
            "  var e; try { await fetch('%s/redirect/1', {redirect: 'error'}); }\n"
            "  catch (x) { e = x.name; }\n"
            "  res.json([f.status, f.redirected, f.url, (await f.json()).arrived,\n"
            "    m.status, m.headers.get('location'), m.redirected, e]);"
            % (self.U, self.U, self.U))
        self.assertEqual(out, [200, True, self.U + "/redirect/0?k=v", True,
                               302, "/redirect/2?", False, "TypeError"])

    def test_redirect_303_turns_post_into_get(self):
        out = self.ok_json(
            "  var r = await fetch('%s/redirect/1?code=303', {method: 'POST', body: 'x'});\n"
            "  res.json(await r.json());" % self.U)
        self.assertEqual(out, {"arrived": True, "method": "GET"})

    def test_ten_hops_follow_eleven_fail(self):
        out = self.ok_json(
            "  var ok = await fetch('%s/redirect/10');\n"
            "  var e; try { await fetch('%s/redirect/11'); } catch (x) { e = [x.name, x.message]; }\n"
            "  res.json([ok.status, e]);" % (self.U, self.U))
        self.assertEqual(out[0], 200)
        self.assertEqual(out[1][0], "TypeError")
        self.assertIn("more than 10 redirects", out[1][1])

    # -- concurrency and limits

    def test_six_concurrent_requests_overlap(self):
        self.up.log.clear()
        out = self.ok_json(
            "  var ps = [];\n"
            "  for (var i = 0; i < 6; i++) ps.push(fetch('%s/slow?i=' + i).then(function (r) { return r.status; }));\n"
            "  res.json(await Promise.all(ps));" % self.U)
        self.assertEqual(out, [200] * 6)
        spans = [(s, e) for p, s, e in self.up.log if p.startswith("/slow")]
        self.assertEqual(len(spans), 6)
        # All six were in flight at once: the last to start started before
        # the first to end ended; so together they took far less than the
        # sum of their times.
        self.assertLess(max(s for s, _ in spans), min(e for _, e in spans))
        total = max(e for _, e in spans) - min(s for s, _ in spans)
        self.assertLess(total, sum(e - s for s, e in spans) / 2)

    def test_at_most_six_in_flight_the_rest_wait(self):
        self.up.max_active = 0
        out = self.ok_json(
            "  var ps = [];\n"
            "  for (var i = 0; i < 9; i++) ps.push(fetch('%s/slow?j=' + i).then(function (r) { return r.status; }));\n"
            "  res.json(await Promise.all(ps));" % self.U,
            query="timeoutMs=5000")
        self.assertEqual(out, [200] * 9)
        self.assertEqual(self.up.max_active, 6)

    def test_the_51st_request_rejects(self):
        out = self.ok_json(
            "  var ps = [];\n"
            "  for (var i = 0; i < 51; i++) ps.push(fetch('%s/echo/' + i).then(\n"
            "    function (r) { return r.status; }, function (e) { return e.name + ': ' + e.message; }));\n"
            "  res.json(await Promise.all(ps));" % self.U,
            query="timeoutMs=10000")
        self.assertEqual(out[:50], [200] * 50)
        self.assertIn("TypeError", out[50])
        self.assertIn("fetch_max_per_call", out[50])

    def test_body_larger_than_memory_limit_is_memory_limit(self):
        well = self.deploy(WELL_BEHAVED)[:3]
        r, names = self.run_fn(
            "  var r = await fetch('%s/big?n=%d');\n"
            "  res.send(String((await r.arrayBuffer()).byteLength));" % (self.U, 12 << 20),
            query="memoryMb=8", debug=True)
        self.assertStatus(r, 200)
        env = r.json()
        self.assertEqual(env["status"], 500)
        self.assertEqual(env["error"]["error"], "memory_limit")
        self.assertEqual([q["outcome"] for q in env["requests"]], ["failed"])
        self.assertWellBehavedServes(well)

    def test_request_body_over_6_mib_rejects(self):
        out = self.ok_json(
            "  try { await fetch('%s/echo', {method: 'POST', body: new Uint8Array(6 * 1024 * 1024 + 1)}); res.json('sent'); }\n"
            "  catch (e) { res.json([e.name, e.message]); }" % self.U,
            query="memoryMb=64")
        self.assertEqual(out[0], "TypeError")
        self.assertIn("request body", out[1])

    def test_abort_signal(self):
        out = self.ok_json(
            "  var c = new AbortController();\n"
            "  setTimeout(function () { c.abort(); }, 20);\n"
            "  try { await fetch('%s/hang', {signal: c.signal}); res.json('resolved'); }\n"
            "  catch (e) { res.json(e.name); }" % self.U)
        self.assertEqual(out, "AbortError")

    # -- failures a function can catch

    def test_refused_connection_is_a_type_error(self):
        name, msg = self.caught("http://127.0.0.1:%d/" % self.closed_port)
        self.assertEqual(name, "TypeError")

    def test_unresolvable_name_is_a_type_error(self):
        # A label longer than 63 bytes cannot be put in a DNS query: the
        # resolver fails before sending one (never a packet off this host).
        name, msg = self.caught("http://%s.invalid/" % ("a" * 64))
        self.assertEqual(name, "TypeError")
        self.assertIn("resolve", msg)

    def test_only_http_and_https_and_well_formed_urls(self):
        for url in ("file:///etc/passwd", "ftp://127.0.0.1:%d/" % self.P,
                    "gopher://127.0.0.1:%d/" % self.P, "/relative",
                    "http://127.0.0.1:%d/a\r\nX-Injected: 1" % self.P,
                    "http://127.0.0.1:%d/a b" % self.P):
            with self.subTest(url=url):
                self.assertEqual(self.caught(url)[0], "TypeError")

    # -- the egress policy

    def test_default_policy_refuses_every_spelling_of_loopback(self):
        q = self.deny4.port
        before = self.deny4.accepts + self.deny6.accepts
        for url in ("http://127.0.0.1:%d/" % q, "http://localhost:%d/" % q,
                    "http://[::1]:%d/" % q, "http://0x7f.1:%d/" % q,
                    "http://2130706433:%d/" % q, "http://[::ffff:127.0.0.1]:%d/" % q,
                    "http://127.1:%d/" % q, "http://017700000001:%d/" % q,
                    "http://[::ffff:7f00:1]:%d/" % q):
            with self.subTest(url=url):
                name, msg = self.caught(url)
                self.assertEqual(name, "TypeError")
                self.assertIn("egress", msg)
                self.assertIn("loopback", msg)
        # A redirect from an admitted upstream to a refused address.
        name, msg = self.caught("%s/to?url=%s" % (
            self.U, urllib.parse.quote("http://127.0.0.1:%d/x" % q)))
        self.assertEqual(name, "TypeError")
        self.assertIn("loopback 127.0.0.0/8", msg)
        time.sleep(0.3)     # let the listeners' threads see any late accept
        self.assertEqual(self.deny4.accepts + self.deny6.accepts, before, "something connected")
        self.assertEqual(before, 0)

    def test_denied_is_counted_in_envelope_log_and_metrics(self):
        m0 = metrics()
        r, names = self.run_fn(
            "  var a = await fetch('%s/echo');\n"
            "  var b = await fetch('%s/status/500');\n"
            "  try { await fetch('http://127.0.0.1:%d/'); } catch (e) {}\n"
            "  try { await fetch('http://127.0.0.1:%d/'); } catch (e) {}\n"
            "  res.send('done');" % (self.U, self.U, self.deny4.port, self.closed_port),
            debug=True)
        self.assertStatus(r, 200)
        reqs = r.json()["requests"]
        self.assertEqual([(q["method"], q["outcome"], q["status"]) for q in reqs],
                         [("GET", "ok", 200), ("GET", "http_error", 500),
                          ("GET", "denied", 0), ("GET", "failed", 0)])
        self.assertIn("loopback", reqs[2]["error"])
        self.assertTrue(all(isinstance(q["durationMs"], (int, float)) for q in reqs))
        rec = invocation_records(names)[-1]
        self.assertEqual(rec["fetch"], {"ok": 1, "http_error": 1, "denied": 1, "failed": 1})
        m1 = metrics()
        for outcome in ("ok", "http_error", "denied", "failed"):
            k = 'fnrun_fetch_requests_total{outcome="%s"}' % outcome
            self.assertEqual(m1[k] - m0.get(k, 0), 1, outcome)

    def test_project_allowlist_refuses_a_host_it_does_not_list(self):
        """PUT /projects/{p}/egress narrows a project's functions to its
        hosts; a host it does not list is refused before anything connects
        (the upstream never sees the request), another project is not
        narrowed, and DELETE lifts the list."""
        p, rq, f = unique_fn()
        other = unique_fn()
        url = "http://localhost:%d/echo/allowlist-%s" % (self.P, p)
        body = ("  try { var r = await fetch(%s); res.json([r.status]); }\n"
                "  catch (e) { res.json([e.name, e.message]); }" % json.dumps(url))

        def egress(method, hosts=None):
            r = admin(method, "/projects/%s/egress" % p,
                      None if hosts is None else json.dumps({"allow": hosts}),
                      {"Content-Type": "application/json"})
            self.assertIn(r.status, (200, 204), r)

        def seen():
            with self.up.lock:
                return sum(1 for e in self.up.log if e[0] == "/echo/allowlist-%s" % p)

        egress("PUT", ["api.stripe.com", "*.paystack.co"])
        r, _ = self.run_fn(body, names=(p, rq, f))
        self.assertStatus(r, 200)
        name, msg = r.json()
        self.assertEqual(name, "TypeError")
        self.assertIn("allowlist", msg)
        self.assertEqual(seen(), 0, "a refused request reached the upstream")
        egress("PUT", ["localhost"])
        r, _ = self.run_fn(body, names=(p, rq, f))
        self.assertEqual(r.json(), [200])
        self.assertEqual(seen(), 1)
        # Another project has no list: not narrowed.
        r, _ = self.run_fn(body, names=other)
        self.assertEqual(r.json(), [200])
        egress("PUT", ["api.stripe.com"])
        egress("DELETE")
        r, _ = self.run_fn(body, names=(p, rq, f))
        self.assertEqual(r.json(), [200])

    # -- TLS

    def test_tls_verified_with_the_configured_ca(self):
        out = self.ok_json(
            "  var r = await fetch('https://127.0.0.1:%d/echo/tls');\n"
            "  res.json((await r.json()).path);" % self.tls.server_address[1])
        self.assertEqual(out, "/echo/tls")

    def test_tls_refused_when_its_ca_is_not_trusted(self):
        name, msg = self.caught("https://127.0.0.1:%d/echo" % self.tls_other.server_address[1])
        self.assertEqual(name, "TypeError")
        self.assertIn("certificate", msg.lower())

    # -- deadlines

    def test_deadline_cases_answered_504_by_the_same_worker(self):
        well = self.deploy(WELL_BEHAVED)[:3]
        cases = {
            "upstream_never_answers": "  await fetch('%s/hang');" % self.U,
            "hang_and_interval": "  setInterval(function () {}, 0);\n"
                                 "  fetch('%s/hang'); await new Promise(function () {});" % self.U,
            "slow_chain_past_deadline":
                "  for (;;) await fetch('%s/slow');" % self.U,
        }
        for case, body in sorted(cases.items()):
            with self.subTest(case=case):
                m0 = metrics()
                r, names = self.run_fn(body, debug=True)
                self.assertStatus(r, 200)
                env = r.json()
                self.assertEqual(env["error"]["error"], "timeout", case)
                self.assertIn("timeout", [q["outcome"] for q in env["requests"]], case)
                recs = invocation_records(names)
                self.assertEqual([x["outcome"] for x in recs], ["timeout"], case)
                self.assertEqual(recs[0]["fetch"].get("timeout"), 1, case)
                self.assertWellBehavedServes(well, msg=case)
                m1 = metrics()
                self.assertEqual(m1.get("fnrun_hard_kills_total", 0),
                                 m0.get("fnrun_hard_kills_total", 0), case)
                self.assertTrue(pid_alive(recs[0]["pid"]), case)

    def test_answer_cancels_pending_requests(self):
        r, _ = self.run_fn(
            "  fetch('%s/hang');\n  res.send('early');" % self.U, debug=True)
        env = r.json()
        self.assertEqual(env["body"], "early")
        self.assertEqual([q["outcome"] for q in env["requests"]], ["failed"])
        self.assertIn("cancelled", env["requests"][0]["error"])

    def test_fetch_at_top_level_is_refused_at_upload(self):
        p, rq, f = unique_fn()
        r = upload(p, rq, f, "fetch('%s/echo');\n"
                   "module.exports = function (req, res) { res.send('x'); };" % self.U)
        self.assertEqual(r.status, 500, r)
        self.assertIn("top level", r.json()["message"])

    # -- secrets

    def test_env_secret_goes_out_but_never_into_logs_envelope_or_errors(self):
        p, rq, f = unique_fn()
        r = admin("PUT", "/projects/%s/env/API_KEY" % p, SECRET)
        self.assertEqual(r.status, 204, r)
        # The upstream receives it (that is the point); the function's own
        # answer is its business, so this one does not print it.
        out = self.ok_json(
            "  var r = await fetch('%s/echo/' + req.env.API_KEY + '?k=' + req.env.API_KEY,\n"
            "    {headers: {Authorization: 'Bearer ' + req.env.API_KEY}});\n"
            "  var j = await r.json();\n"
            "  res.json([j.headers.authorization === 'Bearer ' + req.env.API_KEY,\n"
            "    j.path === '/echo/' + req.env.API_KEY]);" % self.U,
            names=(p, rq, f))
        self.assertEqual(out, [True, True])
        r = invoke(p, rq, f, debug=True)
        self.assertNotIn(SECRET, r.text)
        self.assertIn("***", json.dumps(r.json()["requests"]))
        # In an error: a refused URL holding the secret, rethrown.
        p2, rq2, f2 = p, rq, unique_fn()[2]
        src = ("module.exports = async function (req, res) {\n"
               "  await fetch('http://127.0.0.1:%d/' + req.env.API_KEY);\n};" % self.deny4.port)
        self.assertIn(upload(p2, rq2, f2, src).status, (200, 201))
        plain = invoke(p2, rq2, f2)
        self.assertError(plain, 500, "function_error")
        self.assertNotIn(SECRET, plain.text)
        dbg = invoke(p2, rq2, f2, debug=True)
        self.assertNotIn(SECRET, dbg.text)
        self.assertIn("egress", dbg.json()["error"]["message"])
        with open(os.path.join(log_dir(), "invocations.log"), "rb") as fh:
            self.assertNotIn(SECRET.encode(), fh.read())
