"""The seed's flow, end to end (issue 10, README "The forwarding
convention"): a browser calls scripts/forward_server.py, which runs "before"
and "after" functions through fnrun (nginx, the workers) around a request
it forwards to an upstream this test runs on 127.0.0.1.

The module runs a stack of its own, because one case needs the operator's
egress_allow (FNRUN_EGRESS_ALLOW=127.0.0.1:<second upstream's port>) so a
function's fetch() may reach the test's second upstream on loopback. Every
process it starts (stack, forwarder, upstreams) is stopped by PID, pass or
fail; no packet leaves 127.0.0.1.

test_4 (fetch) and test_5 (WebCrypto) need what issue 10 adds in parallel:
each is skipped only while a probe function at the start sees
`typeof fetch` (resp. `typeof crypto`) === 'undefined', and runs for real
once it exists.
"""

import hashlib
import hmac
import http.client
import http.server
import json
import os
import shutil
import signal
import socketserver
import subprocess
import sys
import tempfile
import threading

from fnrun_client import FnTestCase, OwnStack, admin, invoke, marker, unique, upload

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FORWARD_SERVER = os.path.join(ROOT, "scripts", "forward_server.py")
START_TIMEOUT_S = 20


class Upstream:
    """An HTTP server on 127.0.0.1 that records every request and answers
    from routes: path -> (status, headers, body bytes)."""

    def __init__(self, routes):
        self.routes = routes
        self.seen = []
        self.lock = threading.Lock()
        up = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def serve(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                with up.lock:
                    up.seen.append({"method": self.command, "path": self.path,
                                    "headers": {k.lower(): v for k, v in self.headers.items()},
                                    "body": body})
                status, headers, out = up.routes.get(self.path.split("?")[0],
                                                     (404, {}, b"no route"))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = serve

        class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.server = S(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def requests_to(self, path):
        with self.lock:
            return [r for r in self.seen if r["path"].split("?")[0] == path]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def browser(port, method, path, body=None, headers=None):
    """What the browser does: one request to the forwarding server."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


# --------------------------------------------------------------- functions

ADD_KEY = r"""
module.exports = function (req, res) {
  var r = req.payload.request;
  var headers = Object.assign({}, r.headers,
      {authorization: 'Bearer ' + req.env.PAYSTACK_KEY});
  res.json({request: {headers: headers}});
};
"""

NEED_AMOUNT = r"""
module.exports = function (req, res) {
  var r = req.payload.request, b = {};
  try { b = JSON.parse(r.body || '{}'); } catch (e) {}
  if (typeof b.amount !== 'number')
    return res.json({response: {status: 422, headers: {'x-short-circuit': 'before'},
                                body: {error: 'amount is required'}}});
  res.json({request: {body: JSON.stringify({amount: b.amount * 100, currency: 'NGN'})}});
};
"""

RESHAPE = r"""
module.exports = function (req, res) {
  var up = req.payload.response, c = JSON.parse(up.body);
  res.json({response: {status: up.status === 200 ? 200 : 502,
                       headers: {'content-type': 'application/json', 'x-shaped': '1'},
                       body: {id: c.data.id, paid: c.data.status === 'success',
                              upstreamStatus: up.status}}});
};
"""

PROBE = r"""
module.exports = function (req, res) {
  res.json({fetch: typeof fetch, crypto: typeof crypto});
};
"""

MERGE_WITH_FETCH = r"""
module.exports = function (req, res) {
  var c = JSON.parse(req.payload.response.body);
  return fetch('http://127.0.0.1:%(port)d/rates?to=USD', {headers: {accept: 'application/json'}})
    .then(function (r) { return r.json(); })
    .then(function (rates) {
      res.json({response: {status: 200, body: {id: c.data.id, amount: c.data.amount,
                                               usd: c.data.amount * rates.NGN_USD}}});
    });
};
"""

VERIFY_WEBHOOK = r"""
function hexBytes(h) {
  if (typeof h !== 'string' || h.length % 2 || /[^0-9a-f]/i.test(h)) return new Uint8Array(0);
  var out = new Uint8Array(h.length / 2);
  for (var i = 0; i < out.length; i++) out[i] = parseInt(h.substr(2 * i, 2), 16);
  return out;
}
module.exports = function (req, res) {
  var r = req.payload.request, enc = new TextEncoder();
  return crypto.subtle.importKey('raw', enc.encode(req.env.PAYSTACK_SECRET),
                                 {name: 'HMAC', hash: 'SHA-512'}, false, ['verify'])
    .then(function (key) {
      return crypto.subtle.verify('HMAC', key, hexBytes(r.headers['x-paystack-signature']),
                                  enc.encode(r.body));
    })
    .then(function (ok) {
      if (!ok) return res.json({response: {status: 401, body: {error: 'bad signature'}}});
      res.json({request: {}});
    });
};
"""


class ForwardingTest(FnTestCase):

    @classmethod
    def setUpClass(cls):
        cls.procs, cls.upstreams, cls.stack = [], [], None
        cls.tmp = tempfile.mkdtemp(prefix="fnrun-forwarder-")
        try:
            cls.start()
        except BaseException:
            cls.stop()
            raise

    @classmethod
    def start(cls):
        charge = {"status": True, "data": {"id": "ch_1", "amount": 250000,
                                           "status": "success"}}
        cls.api = Upstream({
            "/v1/charges": (200, {"Content-Type": "application/json",
                                  "Set-Cookie": "api_session=1"},
                            json.dumps(charge).encode()),
            "/webhook-sink": (200, {"Content-Type": "application/json"},
                              b'{"received":true}'),
        })
        cls.rates = Upstream({"/rates": (200, {"Content-Type": "application/json"},
                                         b'{"NGN_USD":0.0006}')})
        cls.upstreams += [cls.api, cls.rates]

        cls.stack = OwnStack("forwarding", FNRUN_WORKERS=2,
                             FNRUN_PROJECT_MAX_CONCURRENCY=0,
                             FNRUN_EGRESS_ALLOW="127.0.0.1:%d" % cls.rates.port).start()
        http_port, st = cls.stack.port, cls.stack.state

        cls.project = unique("p")
        cls.key = "sk_test_" + marker("")
        cls.secret = "whsec_" + marker("")
        for name, value in (("PAYSTACK_KEY", cls.key), ("PAYSTACK_SECRET", cls.secret)):
            r = admin("PUT", "/projects/%s/env/%s" % (cls.project, name), value)
            assert r.status == 204, r
        api = "http://127.0.0.1:%d" % cls.api.port
        requests = {
            "charges": {"url": api + "/v1/charges", "before": "addKey"},
            "create": {"url": api + "/v1/charges", "method": "POST",
                       "headers": {"content-type": "application/json"},
                       "before": "needAmount"},
            "shaped": {"url": api + "/v1/charges", "after": "reshape"},
            "merged": {"url": api + "/v1/charges", "before": "addKey",
                       "after": "merge"},
            "webhook": {"url": api + "/webhook-sink", "method": "POST",
                        "before": "verify"},
        }
        config = os.path.join(cls.tmp, "forward.json")
        with open(config, "w") as f:
            json.dump({"listen": "127.0.0.1:0", "fnrun": "http://127.0.0.1:%d" % http_port,
                       "invokeKeyFile": os.path.join(st, "secrets", "invoke_key"),
                       "project": cls.project, "requests": requests}, f)
        env = {k: v for k, v in os.environ.items() if k != "FNRUN_INVOKE_KEY"}
        cls.forwarder_log = open(os.path.join(cls.tmp, "forward.log"), "wb")
        p = subprocess.Popen([sys.executable, FORWARD_SERVER, config], env=env,
                             stdout=subprocess.PIPE, stderr=cls.forwarder_log)
        cls.procs.append(p)
        line = cls.read_line(p)
        if not line.startswith("forward_server: listening on http://127.0.0.1:"):
            raise AssertionError("forward_server did not start: %r" % line)
        cls.port = int(line.rsplit(":", 1)[1])

    @staticmethod
    def read_line(p):
        """The forwarder's first line, waiting at most START_TIMEOUT_S."""
        out = []
        t = threading.Thread(target=lambda: out.append(p.stdout.readline()), daemon=True)
        t.start()
        t.join(START_TIMEOUT_S)
        return out[0].decode("utf-8", "replace").strip() if out else ""

    @classmethod
    def stop(cls):
        for p in cls.procs:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    os.kill(p.pid, signal.SIGKILL)
                    p.wait()
        for u in cls.upstreams:
            u.stop()
        if getattr(cls, "forwarder_log", None):
            cls.forwarder_log.close()
            with open(cls.forwarder_log.name, "rb") as f:
                text = f.read().decode("utf-8", "replace")
            if text.strip():
                print("---- forward_server's log\n" + text)
        shutil.rmtree(cls.tmp, True)
        if cls.stack is not None:
            cls.stack.stop()

    @classmethod
    def tearDownClass(cls):
        cls.stop()

    # -- helpers

    def deploy_fn(self, request_id, fn, source):
        r = upload(self.project, request_id, fn, source)
        self.assertIn(r.status, (200, 201), r)

    def probe(self):
        if not hasattr(type(self), "probed"):
            self.deploy_fn("probe", "probe", PROBE)
            r = invoke(self.project, "probe", "probe", b"{}")
            self.assertStatus(r, 200)
            type(self).probed = r.json()
        return type(self).probed

    def assertNoKey(self, status, headers, body):
        everything = json.dumps(headers).encode() + body
        self.assertNotIn(self.key.encode(), everything)
        self.assertNotIn(self.secret.encode(), everything)

    # -- the cases

    def test_1_before_adds_the_key_from_env(self):
        self.deploy_fn("charges", "addKey", ADD_KEY)
        n = len(self.api.requests_to("/v1/charges"))
        status, headers, body = browser(self.port, "GET", "/r/charges?page=2",
                                        headers={"Cookie": "browser=1",
                                                 "Authorization": "Bearer browser-token",
                                                 "Accept": "application/json"})
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["data"]["id"], "ch_1")
        seen = self.api.requests_to("/v1/charges")[n:]
        self.assertEqual(len(seen), 1)
        up = seen[0]
        # The upstream got the key the function added, and the query;
        # not the browser's credentials.
        self.assertEqual(up["headers"].get("authorization"), "Bearer " + self.key)
        self.assertEqual(up["path"], "/v1/charges?page=2")
        self.assertEqual(up["headers"].get("accept"), "application/json")
        self.assertNotIn("cookie", up["headers"])
        # The browser never sees the key, nor the API's cookie.
        self.assertNoKey(status, headers, body)
        self.assertNotIn("set-cookie", headers)

    def test_2_before_short_circuits(self):
        self.deploy_fn("create", "needAmount", NEED_AMOUNT)
        n = len(self.api.requests_to("/v1/charges"))
        status, headers, body = browser(self.port, "POST", "/r/create", b'{"note":"x"}',
                                        {"Content-Type": "application/json"})
        self.assertEqual(status, 422, body)
        self.assertEqual(json.loads(body), {"error": "amount is required"})
        self.assertEqual(headers.get("x-short-circuit"), "before")
        self.assertEqual(headers.get("content-type"), "application/json")
        self.assertEqual(len(self.api.requests_to("/v1/charges")), n,
                         "the upstream was called")
        # The same request with an amount goes through, rewritten.
        status, headers, body = browser(self.port, "POST", "/r/create", b'{"amount":25}',
                                        {"Content-Type": "application/json"})
        self.assertEqual(status, 200, body)
        up = self.api.requests_to("/v1/charges")[n:]
        self.assertEqual(len(up), 1)
        self.assertEqual(up[0]["method"], "POST")
        self.assertEqual(json.loads(up[0]["body"]), {"amount": 2500, "currency": "NGN"})

    def test_3_after_reshapes_the_response(self):
        self.deploy_fn("shaped", "reshape", RESHAPE)
        status, headers, body = browser(self.port, "GET", "/r/shaped")
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body), {"id": "ch_1", "paid": True,
                                            "upstreamStatus": 200})
        self.assertEqual(headers.get("x-shaped"), "1")
        self.assertNotIn("set-cookie", headers)

    def test_3b_a_failing_function_is_a_502_that_says_nothing_more(self):
        self.deploy_fn("shaped", "reshape",
                       "module.exports = function (req, res) { "
                       "throw new Error('boom ' + req.env.PAYSTACK_KEY); };")
        try:
            status, headers, body = browser(self.port, "GET", "/r/shaped")
            self.assertEqual(status, 502, body)
            self.assertEqual(json.loads(body), {"error": "function_failed",
                                                "phase": "after", "status": 500,
                                                "functionError": "function_error"})
            self.assertNoKey(status, headers, body)
        finally:
            self.deploy_fn("shaped", "reshape", RESHAPE)
        status, _, body = browser(self.port, "GET", "/r/nope")
        self.assertEqual((status, json.loads(body)), (404, {"error": "no_such_request"}))

    def test_4_after_merges_a_second_upstream_with_fetch(self):
        # Uploaded either way: the source is checked at upload even while
        # the build has no fetch to run it with.
        self.deploy_fn("merged", "addKey", ADD_KEY)
        self.deploy_fn("merged", "merge", MERGE_WITH_FETCH % {"port": self.rates.port})
        if self.probe()["fetch"] == "undefined":
            self.skipTest("fetch() is not in this build yet (issue 10)")
        n = len(self.rates.requests_to("/rates"))
        status, headers, body = browser(self.port, "GET", "/r/merged")
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body), {"id": "ch_1", "amount": 250000,
                                            "usd": 250000 * 0.0006})
        got = self.rates.requests_to("/rates")[n:]
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0]["path"], "/rates?to=USD")
        self.assertNoKey(status, headers, body)

    def test_5_webhook_signed_with_hmac_sha512(self):
        self.deploy_fn("webhook", "verify", VERIFY_WEBHOOK)
        if self.probe()["crypto"] == "undefined":
            self.skipTest("crypto is not in this build yet (issue 10)")
        event = json.dumps({"event": "charge.success",
                            "data": {"reference": "ref_1", "amount": 250000,
                                     "customer": {"name": "Adé Ọlá"}}},
                           ensure_ascii=False).encode("utf-8")
        sig = hmac.new(self.secret.encode(), event, hashlib.sha512).hexdigest()
        n = len(self.api.requests_to("/webhook-sink"))
        status, _, body = browser(self.port, "POST", "/r/webhook", event,
                                  {"Content-Type": "application/json",
                                   "x-paystack-signature": sig})
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body), {"received": True})
        sunk = self.api.requests_to("/webhook-sink")[n:]
        self.assertEqual(len(sunk), 1)
        self.assertEqual(sunk[0]["body"], event, "the raw body reached the sink unchanged")
        # A tampered body, a wrong key, a missing or malformed signature:
        # 401 from the function, and the sink never called.
        wrong = hmac.new(b"not-the-secret", event, hashlib.sha512).hexdigest()
        for body_, sig_ in ((event.replace(b"250000", b"990000"), sig),
                            (event, wrong), (event, None), (event, "zz" * 64),
                            (event, sig[:-2])):
            h = {"Content-Type": "application/json"}
            if sig_ is not None:
                h["x-paystack-signature"] = sig_
            status, _, body = browser(self.port, "POST", "/r/webhook", body_, h)
            self.assertEqual(status, 401, body)
            self.assertEqual(json.loads(body), {"error": "bad signature"})
        self.assertEqual(len(self.api.requests_to("/webhook-sink")), n + 1)
