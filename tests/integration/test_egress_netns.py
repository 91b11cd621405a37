"""The default egress policy against real servers at forbidden addresses
(issue 10, SPEC §12): private, link-local (169.254.169.254, the cloud
metadata address), CGNAT, benchmark, documentation and unique-local IPv6,
and spellings that embed one of them (IPv4-mapped IPv6, 0x/decimal forms).

The whole stack (nginx, the workers, memcached) and a listener on every one
of those addresses run inside a network namespace this test makes (ip
netns): its only interfaces are its loopback and a veth pair whose both ends it
holds (one of them carrying the addresses), so nothing it sends can leave the machine, even if the policy
were broken. The listener counts every connection it accepts; the test
asserts that none was accepted at a refused address, while the one address
the test's egress_allow admits is reached (so the refusals are the
policy's, not an unreachable network's). The test talks to the stack with
curl run inside the namespace.

Run as root (CI is). When a namespace cannot be made, every test fails,
naming the reason. Everything is stopped by PID and the namespace removed
in tearDownClass. Nothing is timed.
"""

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from fnrun_client import FnTestCase, sh, stack_env

PORT = 8081                     # every listener's port, inside the namespace
ALLOWED = "10.77.0.2"           # the one address egress_allow admits
REFUSED = [                     # (address in the namespace, URL host, its range)
    ("10.77.0.1", "10.77.0.1", "10.0.0.0/8"),
    ("10.77.0.1", "0x0a.0x4d.0.1", "10.0.0.0/8"),
    ("10.77.0.1", "172838913", "10.0.0.0/8"),
    ("10.77.0.1", "[::ffff:10.77.0.1]", "10.0.0.0/8"),
    ("172.16.77.1", "172.16.77.1", "172.16.0.0/12"),
    ("192.168.77.1", "192.168.77.1", "192.168.0.0/16"),
    ("169.254.169.254", "169.254.169.254", "169.254.0.0/16"),
    ("100.64.77.1", "100.64.77.1", "100.64.0.0/10"),
    ("198.18.0.77", "198.18.0.77", "198.18.0.0/15"),
    ("192.0.2.77", "192.0.2.77", "192.0.2.0/24"),
    ("fd00:77::1", "[fd00:77::1]", "fc00::/7"),
]

LISTENER = r"""
import select, socket, sys
log = open(sys.argv[1], "a", buffering=1)
socks = {}
for a in sys.argv[3:]:
    s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a, int(sys.argv[2])))
    s.listen(64)
    socks[s] = a
log.write("ready\n")
while True:
    for s in select.select(list(socks), [], [])[0]:
        c, _ = s.accept()
        log.write("accept %s\n" % socks[s])
        c.settimeout(2)
        try:
            head = c.recv(65536)
            if head.startswith(b"GET /redirect "):
                c.sendall(b"HTTP/1.1 302 Found\r\nLocation: http://10.77.0.1:%s/\r\n"
                          b"Content-Length: 0\r\nConnection: close\r\n\r\n" % sys.argv[2].encode())
            else:
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nreached")
        except OSError:
            pass
        c.close()
"""

FETCHER = """module.exports = async function (req, res) {
  try {
    var r = await fetch(req.query.url);
    res.json(['status', r.status, await r.text()]);
  } catch (e) { res.json([e.name, e.message]); }
};"""


class EgressNetnsTest(FnTestCase):

    @classmethod
    def setUpClass(cls):
        cls.setup_error = None
        cls.ns = None
        cls.listener = None
        cls.started = False
        cls.tmp = tempfile.mkdtemp(prefix="fnrun-egress-ns-")
        os.chmod(cls.tmp, 0o755)
        try:
            cls._start()
        except Exception as e:         # reported by every test, then cleaned
            cls.setup_error = "%s: %s" % (type(e).__name__, e)
            cls._teardown()

    @classmethod
    def _start(cls):
        if os.geteuid() != 0:
            raise AssertionError("needs root (ip netns); CI runs as root")
        cls.ns = "fnrun-eg-%06x" % random.randrange(1 << 24)
        sh("ip", "netns", "add", cls.ns)
        sh("ip", "link", "set", "lo", "up", ns=cls.ns)
        # A veth pair with both ends in the namespace (no dummy driver in
        # every kernel CI gets): the addresses are local, so connecting to
        # one goes through the namespace's loopback.
        sh("ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1", ns=cls.ns)
        sh("ip", "link", "set", "d0", "up", ns=cls.ns)
        sh("ip", "link", "set", "d1", "up", ns=cls.ns)
        addrs = sorted({a for a, _, _ in REFUSED} | {ALLOWED})
        for a in addrs:
            if ":" in a:
                sh("ip", "addr", "add", a + "/128", "dev", "d0", "nodad", ns=cls.ns)
            else:
                sh("ip", "addr", "add", a + "/32", "dev", "d0", ns=cls.ns)
        cls.accept_log = os.path.join(cls.tmp, "accepts.log")
        cls.listener = subprocess.Popen(
            ["ip", "netns", "exec", cls.ns, sys.executable, "-c", LISTENER,
             cls.accept_log, str(PORT)] + addrs,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            if os.path.exists(cls.accept_log) and "ready" in open(cls.accept_log).read():
                break
            if cls.listener.poll() is not None:
                raise AssertionError("the listener exited (%d)" % cls.listener.returncode)
            time.sleep(0.05)
        else:
            raise AssertionError("the listener did not come up")
        state = os.path.join(cls.tmp, "state")
        store = os.path.join(cls.tmp, "store")
        os.makedirs(state)
        os.makedirs(store)
        conf = os.path.join(cls.tmp, "fnrun.conf")
        with open(conf, "w") as f:
            f.write("# egress netns test stack\n")
        cls.port = 8080
        cls.env = stack_env(FNRUN_CONFIG=conf, FNRUN_STATE_DIR=state,
                            FNRUN_STORE_DIR=store, FNRUN_PORT=cls.port,
                            FNRUN_MEMCACHED_PORT=11211, FNRUN_WORKERS=2,
                            FNRUN_EGRESS_ALLOW="%s:%d" % (ALLOWED, PORT))
        cls.started = True
        p = sh(os.path.join(cls.root(), "scripts", "stack.sh"), "start",
               ns=cls.ns, env=cls.env, check=False, timeout=120)
        if p.returncode != 0:
            raise AssertionError("the stack did not start in the namespace:\n" +
                                 p.stdout.decode("utf-8", "replace"))
        with open(os.path.join(state, "secrets", "admin_token")) as f:
            cls.token = f.read().strip()
        with open(os.path.join(state, "secrets", "invoke_key")) as f:
            cls.key = f.read().strip()

    @staticmethod
    def root():
        return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

    @classmethod
    def _teardown(cls):
        if cls.started:
            sh(os.path.join(cls.root(), "scripts", "stack.sh"), "stop",
               ns=cls.ns, env=cls.env, check=False, timeout=120)
            cls.started = False
        if cls.listener is not None:
            cls.listener.kill()
            cls.listener.wait()
            cls.listener = None
        if cls.ns is not None:
            left = sh("ip", "netns", "pids", cls.ns, check=False).stdout.split()
            for pid in left:
                try:
                    os.kill(int(pid), 9)
                except (ProcessLookupError, ValueError):
                    pass
            sh("ip", "netns", "del", cls.ns, check=False)
            cls.ns = None
        shutil.rmtree(cls.tmp, True)

    @classmethod
    def tearDownClass(cls):
        cls._teardown()

    def setUp(self):
        if self.setup_error is not None:
            self.fail("the egress namespace could not be set up: " + self.setup_error)

    def http(self, method, path, body=b"", headers=()):
        """(status, body) of a request to the stack, from inside the namespace."""
        cmd = ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "-X", method,
               "--data-binary", "@-", "http://127.0.0.1:%d%s" % (self.port, path)]
        for h in headers:
            cmd += ["-H", h]
        out = sh(*cmd, ns=self.ns, inp=body).stdout
        text, _, code = out.rpartition(b"\n")
        return int(code), text

    def accepts(self):
        with open(self.accept_log) as f:
            return [l.split()[1] for l in f if l.startswith("accept ")]

    def fetch_from_fn(self, url):
        from urllib.parse import quote
        st, body = self.http("POST", "/invoke/eg/netns/fetcher?url=" + quote(url, safe=""),
                             b"{}", ["X-Fn-Key: " + self.key])
        self.assertEqual(st, 200, body)
        return json.loads(body)

    def test_forbidden_ranges_refused_with_nothing_connected(self):
        st, body = self.http("PUT", "/functions/eg/netns/fetcher", FETCHER.encode(),
                             ["Authorization: Bearer " + self.token,
                              "Content-Type: application/javascript"])
        self.assertIn(st, (200, 201), body)
        # The admitted address is reached: the namespace's network works.
        self.assertEqual(self.fetch_from_fn("http://%s:%d/" % (ALLOWED, PORT)),
                         ["status", 200, "reached"])
        self.assertEqual(self.accepts(), [ALLOWED])
        for addr, host, rule in REFUSED:
            with self.subTest(host=host):
                out = self.fetch_from_fn("http://%s:%d/" % (host, PORT))
                self.assertEqual(out[0], "TypeError", out)
                self.assertIn("egress", out[1])
                self.assertIn(rule, out[1])
        # A redirect from the admitted server to a private address.
        out = self.fetch_from_fn("http://%s:%d/redirect" % (ALLOWED, PORT))
        self.assertEqual(out[0], "TypeError", out)
        self.assertIn("10.0.0.0/8", out[1])
        time.sleep(0.3)     # let the listener log any late accept
        self.assertEqual(self.accepts(), [ALLOWED, ALLOWED],
                         "a refused address was connected")


if __name__ == "__main__":
    unittest.main()
