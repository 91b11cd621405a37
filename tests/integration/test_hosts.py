"""More than one host (SPEC §14, issue 15): three hosts on one machine.

Each host is a network namespace (ip netns, iproute2) with an address of
its own on a private /24 this test picks and checks is unused; the hosts and
the front meet on a bridge inside a fourth namespace (the "LAN"), so nothing
is routed and nothing leaves the machine. Each host runs a pool
(scripts/stack.sh, role pool: two workers on TCP, port 9000, accepting only
the front's address) and a memcached; the front (role front: nginx alone,
balancing over the three pools) runs in the root namespace on 127.0.0.1.
The store folder is one directory all of them use, which is what a shared
file system (NFSv4, CephFS) gives hosts that really are separate.

Run as root (CI is). When network namespaces cannot be made, every test
fails, naming the reason: the three-host case must not pass by skipping.
Everything this module starts is stopped by PID and every namespace and
link it made is removed, in tearDownClass, whether the tests passed or not.

Counts are exact where the test controls them; nothing is timed.
"""

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from fnrun_client import FnTestCase, free_ports, sh, stack_env, unique_fn

WORKERS = 2             # per pool
FCGI_PORT = 9000
MC_PORT = 11211
HOSTS = 3
WAIT_S = 40.0           # for a state that must come (never asserted as a time)


def say(fmt, *args):
    print("  [hosts] " + (fmt % args if args else fmt), flush=True)


def pick_subnet():
    """A 10.x.y.0/24 that no address or route of this machine touches."""
    used = sh("ip", "-4", "route", "show", "table", "all").stdout.decode()
    used += sh("ip", "-4", "addr").stdout.decode()
    for _ in range(200):
        net = "10.%d.%d" % (random.randint(200, 254), random.randint(1, 254))
        if (net + ".") not in used and not re.search(r"\b10\.%s\.0\.0/(8|9|1[0-6])\b"
                                                   % net.split(".")[1], used):
            return net
    raise AssertionError("no free 10.x.y.0/24 for the test hosts")


def pids_in(path):
    try:
        with open(path) as f:
            return [int(x) for x in f.read().split() if x.isdigit()]
    except OSError:
        return []


def descendants(pid):
    """Live descendants of pid (from /proc), so a KILLed slot leaves nothing."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(d))
    out, queue = [], [pid]
    while queue:
        for c in children.get(queue.pop(), []):
            out.append(c)
            queue.append(c)
    return out


def kill_pids(pids, sig=signal.SIGKILL):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def parse_metrics(text):
    out = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def invocations(m):
    return sum(v for k, v in m.items() if k.startswith("fnrun_invocations_total{"))


class Cluster:
    """The namespaces, links and stacks of one run; stop() undoes all of it."""

    def __init__(self):
        self.tag = "fh%04x" % (os.getpid() & 0xffff)
        self.lan = "fnrun-%s-lan" % self.tag
        self.hosts = ["fnrun-%s-h%d" % (self.tag, i + 1) for i in range(HOSTS)]
        self.root_link = "%sf" % self.tag
        self.namespaces = []
        self.links = []
        self.tmp = tempfile.mkdtemp(prefix="fnrun-hosts-")
        os.chmod(self.tmp, 0o755)
        self.store = os.path.join(self.tmp, "store")
        os.makedirs(self.store)
        self.conf = os.path.join(self.tmp, "fnrun.conf")
        with open(self.conf, "w") as f:
            f.write("# test_hosts: defaults, overridden by FNRUN_* variables\n")
        self.net = None
        self.front_port, self.front_mc_port = free_ports(2)
        self.started = []       # (ns or None, env) of every stack started

    # -- network

    def make_network(self):
        if os.geteuid() != 0:
            raise AssertionError("the three-host test needs root (ip netns); CI runs as root")
        self.net = pick_subnet()
        self.front_addr = self.net + ".1"
        self.addrs = ["%s.%d" % (self.net, 11 + i) for i in range(HOSTS)]
        sh("ip", "netns", "add", self.lan)
        self.namespaces.append(self.lan)
        sh("ip", "-n", self.lan, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", self.lan, "link", "set", "br0", "up")
        sh("ip", "link", "add", self.root_link, "type", "veth", "peer", "name", "up0",
           "netns", self.lan)
        self.links.append(self.root_link)
        sh("ip", "-n", self.lan, "link", "set", "up0", "master", "br0", "up")
        sh("ip", "addr", "add", self.front_addr + "/24", "dev", self.root_link)
        sh("ip", "link", "set", self.root_link, "up")
        for i, (ns, addr) in enumerate(zip(self.hosts, self.addrs)):
            sh("ip", "netns", "add", ns)
            self.namespaces.append(ns)
            port = "p%d" % (i + 1)
            sh("ip", "-n", self.lan, "link", "add", port, "type", "veth", "peer", "name",
               "eth0", "netns", ns)
            sh("ip", "-n", self.lan, "link", "set", port, "master", "br0", "up")
            sh("ip", "-n", ns, "addr", "add", addr + "/24", "dev", "eth0")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        say("network %s.0/24: front %s (root namespace), pools %s", self.net,
            self.front_addr, ", ".join(self.addrs))

    # -- stacks

    def pool(self, i):
        return "%s:%d" % (self.addrs[i], FCGI_PORT)

    def state(self, i):
        return os.path.join(self.tmp, "h%d" % (i + 1))

    def pool_env(self, i):
        return stack_env(
            FNRUN_CONFIG=self.conf, FNRUN_ROLE="pool", FNRUN_STATE_DIR=self.state(i),
            FNRUN_STORE_DIR=self.store, FNRUN_WORKERS=WORKERS,
            FNRUN_FCGI_LISTEN=self.pool(i), FNRUN_FCGI_ALLOW=self.front_addr,
            FNRUN_MEMCACHED_PORT=MC_PORT, FNRUN_PORT=8080,
            FNRUN_MEMCACHED_SERVERS=",".join("%s:%d" % (a, MC_PORT) for a in self.addrs))

    def front_env(self):
        return stack_env(
            FNRUN_CONFIG=self.conf, FNRUN_ROLE="front",
            FNRUN_STATE_DIR=os.path.join(self.tmp, "front"), FNRUN_STORE_DIR=self.store,
            FNRUN_PORT=self.front_port, FNRUN_MEMCACHED_PORT=self.front_mc_port,
            FNRUN_UPSTREAMS=",".join(self.pool(i) for i in range(HOSTS)))

    def stack(self, ns, env, *args):
        cmd = ["ip", "netns", "exec", ns] if ns else []
        p = subprocess.run(cmd + [os.path.join(os.path.dirname(os.path.dirname(
            os.path.dirname(os.path.abspath(__file__)))), "scripts", "stack.sh")] + list(args),
            env=env, timeout=120, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        return p.returncode == 0, p.stdout.decode("utf-8", "replace")

    def start_pool(self, i):
        ok, out = self.stack(self.hosts[i], self.pool_env(i), "start")
        if not ok:
            raise AssertionError("pool %d did not start:\n%s" % (i + 1, out))

    def start(self):
        # Every pool holds the same three secrets (the operator copies
        # them); the first pool's start makes them.
        self.started = [(self.hosts[i], self.pool_env(i)) for i in range(HOSTS)]
        self.start_pool(0)
        for i in range(1, HOSTS):
            shutil.copytree(os.path.join(self.state(0), "secrets"),
                            os.path.join(self.state(i), "secrets"))
            self.start_pool(i)
        self.started.append((None, self.front_env()))
        ok, out = self.stack(None, self.front_env(), "start")
        if not ok:
            raise AssertionError("front did not start:\n" + out)

    def secret(self, name):
        with open(os.path.join(self.state(0), "secrets", name)) as f:
            return f.read().strip()

    # -- teardown: by PID, then the namespaces and links

    def stop(self):
        problems = []
        for ns, env in reversed(self.started):
            try:
                ok, out = self.stack(ns, env, "stop")
                if not ok:
                    problems.append(out)
            except Exception as e:      # noqa: BLE001 - teardown goes on
                problems.append(str(e))
            run = os.path.join(env["FNRUN_STATE_DIR"], "run")
            if os.path.isdir(run):
                for name in os.listdir(run):
                    if name.endswith(".pid"):
                        for pid in pids_in(os.path.join(run, name)):
                            kill_pids(descendants(pid) + [pid])
        for ns in self.namespaces:
            # Whatever still runs in a namespace of ours was started here.
            p = sh("ip", "netns", "pids", ns, check=False)
            kill_pids([int(x) for x in p.stdout.decode().split() if x.isdigit()])
        for link in self.links:
            sh("ip", "link", "del", link, check=False)
        for ns in reversed(self.namespaces):
            sh("ip", "netns", "del", ns, check=False)
        left = sh("ip", "netns", "list").stdout.decode()
        for ns in self.namespaces:
            if re.search(r"(?m)^%s\b" % re.escape(ns), left):
                problems.append("namespace %s is still there" % ns)
        shutil.rmtree(self.tmp, ignore_errors=True)
        return problems


class HostsTest(FnTestCase):

    cluster = None
    setup_error = None

    @classmethod
    def setUpClass(cls):
        cls.cluster = Cluster()
        cls.addClassCleanup(cls._teardown)
        try:
            cls.cluster.make_network()
            cls.cluster.start()
        except Exception as e:          # noqa: BLE001 - reported by every test
            cls.setup_error = "%s: %s" % (type(e).__name__, e)

    @classmethod
    def _teardown(cls):
        problems = cls.cluster.stop()
        if problems:
            raise AssertionError("three-host teardown: " + "; ".join(problems))

    def setUp(self):
        if self.setup_error:
            self.fail("the three hosts could not be set up (this test needs root and "
                      "ip netns): " + self.setup_error)
        self.c = self.cluster
        self.admin = self.c.secret("admin_token")
        self.key = self.c.secret("invoke_key")

    # -- helpers

    def front(self, method, path, body=b"", headers=None):
        h = dict(headers or {})
        conn = __import__("http.client").client.HTTPConnection(
            "127.0.0.1", self.c.front_port, timeout=30)
        try:
            if method in ("POST", "PUT"):
                h.setdefault("Content-Length", str(len(body)))
            conn.request(method, path, body=body or None, headers=h)
            r = conn.getresponse()
            return r.status, r.read(), r.getheaders()
        finally:
            conn.close()

    def upload(self, names, source):
        st, body, _ = self.front("PUT", "/functions/%s/%s/%s" % names, source.encode(),
                                 {"Authorization": "Bearer " + self.admin,
                                  "Content-Type": "application/javascript"})
        self.assertIn(st, (200, 201), body)
        return json.loads(body)

    def invoke(self, names, payload=b"{}"):
        return self.front("POST", "/invoke/%s/%s/%s" % names, payload,
                          {"X-Fn-Key": self.key})

    def pool_metrics(self, i):
        st, body, _ = self.front("GET", "/pools/%d/metrics" % (i + 1))
        self.assertEqual(st, 200, body)
        return parse_metrics(body.decode())

    def all_metrics(self):
        return [self.pool_metrics(i) for i in range(HOSTS)]

    def direct(self, i, method, uri, body=b"", headers=None, ns=None):
        """One FastCGI request straight to pool i with libfcgi's cgi-fcgi, from
        the root namespace (the front's address) or from namespace ns.
        Returns (status or None, body bytes, raw output)."""
        env = {"PATH": os.environ["PATH"], "REQUEST_METHOD": method, "REQUEST_URI": uri,
               "CONTENT_LENGTH": str(len(body)), "REQUEST_ID": "hosts-direct"}
        for k, v in (headers or {}).items():
            env["HTTP_" + k.upper().replace("-", "_")] = v
        p = sh("cgi-fcgi", "-bind", "-connect", self.c.pool(i), check=False, ns=ns,
               env=env, inp=body, timeout=30)
        out = p.stdout
        m = re.match(rb"Status: (\d+)", out)
        head, _, rest = out.partition(b"\r\n\r\n")
        return (int(m.group(1)) if m else None), rest, out

    def access_lines(self, since=0):
        with open(os.path.join(self.c.tmp, "front", "log", "access.log"), "rb") as f:
            f.seek(since)
            return f.read().decode("utf-8", "replace").splitlines()

    def access_size(self):
        return os.path.getsize(os.path.join(self.c.tmp, "front", "log", "access.log"))

    # -- 1. balancing

    def test_1_invocations_spread_over_every_pool(self):
        names = unique_fn()
        self.upload(names, "module.exports = function (req, res) { res.json({ok: 1}); };")
        m0 = self.all_metrics()
        n = 30
        for i in range(n):
            st, body, _ = self.invoke(names)
            self.assertEqual(st, 200, body)
        m1 = self.all_metrics()
        per_pool = [invocations(b) - invocations(a) for a, b in zip(m0, m1)]
        say("%d invocations through the front, per pool: %s", n, per_pool)
        self.assertEqual(sum(per_pool), n)
        for i, k in enumerate(per_pool):
            self.assertGreater(k, 0, "pool %d served none of %d: %s" % (i + 1, n, per_pool))
        # The front says every pool is up, and each pool's own /healthz answers.
        st, body, _ = self.front("GET", "/healthz")
        self.assertEqual(st, 200, body)
        h = json.loads(body)
        self.assertEqual(h["status"], "ok", h)
        self.assertEqual([p["up"] for p in h["pools"]], [True] * HOSTS, h)
        self.assertEqual([p["address"] for p in h["pools"]],
                         [self.c.pool(i) for i in range(HOSTS)])
        st, body, _ = self.front("GET", "/metrics")
        self.assertEqual(st, 200, body)
        for i in range(HOSTS):
            self.assertIn('fnrun_pool_up{pool="%s"} 1' % self.c.pool(i), body.decode())
        for i in range(HOSTS):
            st, body, _ = self.front("GET", "/pools/%d/healthz" % (i + 1))
            self.assertEqual(st, 200, body)
            self.assertEqual(json.loads(body)["store"], "ok")

    # -- 2. one store, one cache

    def test_2_upload_is_invocable_at_once_on_every_pool_and_a_cache_hit(self):
        names = unique_fn()
        src = "module.exports = function (req, res) { res.json({v: 'two', p: req.payload}); };"
        m0 = self.all_metrics()
        self.upload(names, src)
        for i in range(HOSTS):
            st, body, raw = self.direct(i, "POST", "/invoke/%s/%s/%s" % names, b'{"i":%d}' % i,
                                        {"X-Fn-Key": self.key})
            self.assertEqual(st, 200, raw)
            self.assertEqual(json.loads(body), {"v": "two", "p": {"i": i}})
        m1 = self.all_metrics()
        hits = [b.get("fnrun_cache_hits_total", 0) - a.get("fnrun_cache_hits_total", 0)
                for a, b in zip(m0, m1)]
        misses = [b.get("fnrun_cache_misses_total", 0) - a.get("fnrun_cache_misses_total", 0)
                  for a, b in zip(m0, m1)]
        say("first call on each pool after one upload: cache hits %s, misses %s", hits, misses)
        self.assertEqual(misses, [0] * HOSTS)
        self.assertEqual(hits, [1] * HOSTS)

    def test_2b_a_change_applies_to_the_next_call_on_every_pool(self):
        # Each worker keeps what it read from the store until the store's
        # generation token changes (fcgi-app/store/store_view.c): a change
        # made through one host applies to the next call on every host.
        names = unique_fn()
        src = ("module.exports = function (req, res) {\n"
               "  res.json({v: %d, key: req.env.KEY || null}); };")
        self.upload(names, src % 1)

        def all_answer(want):
            # Several calls per pool, so that each of its workers answers.
            for i in range(HOSTS):
                for _ in range(3 * WORKERS):
                    st, body, raw = self.direct(i, "POST", "/invoke/%s/%s/%s" % names,
                                                b"{}", {"X-Fn-Key": self.key})
                    self.assertEqual(st, 200, raw)
                    self.assertEqual(json.loads(body), want, "pool %d" % (i + 1))

        all_answer({"v": 1, "key": None})
        self.upload(names, src % 2)
        all_answer({"v": 2, "key": None})
        st, body, _ = self.front("PUT", "/projects/%s/env/KEY" % names[0], b"x",
                                 {"Authorization": "Bearer " + self.admin})
        self.assertEqual(st, 204, body)
        all_answer({"v": 2, "key": "x"})
        st, body, _ = self.front("PUT", "/functions/%s/%s/%s/active" % names,
                                 b'{"version": 1}',
                                 {"Authorization": "Bearer " + self.admin,
                                  "Content-Type": "application/json"})
        self.assertEqual(st, 200, body)
        all_answer({"v": 1, "key": "x"})

    # -- 3. fcgi_allow

    def test_3_pool_refuses_an_address_not_in_fcgi_allow(self):
        # From the front's address: answered.
        st, body, raw = self.direct(0, "GET", "/healthz")
        self.assertEqual(st, 200, raw)
        # From host 2 (10.x.y.12, not in pool 1's fcgi_allow): libfcgi
        # closes the connection before reading anything; no answer.
        st, body, raw = self.direct(0, "GET", "/healthz", ns=self.c.hosts[1])
        say("pool 1 asked from host 2: %r", raw[:120])
        self.assertIsNone(st, raw)
        self.assertNotIn(b"status", raw)
        # The pool is unharmed.
        st, body, raw = self.direct(0, "GET", "/healthz")
        self.assertEqual(st, 200, raw)

    # -- 4. memcached: consistent hashing

    def mc_get(self, i, key):
        with socket.create_connection((self.c.addrs[i], MC_PORT), timeout=5) as s:
            s.sendall(b"get %s\r\n" % key.encode())
            data = b""
            while not data.endswith(b"END\r\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        return data.startswith(b"VALUE ")

    def test_4_memcached_keys_spread_and_a_stopped_one_moves_only_its_share(self):
        engine = json.loads(self.direct(0, "GET", "/healthz")[1])["engine"]
        fns = []
        for k in range(24):
            names = unique_fn()
            v = self.upload(names, "module.exports = function (req, res) "
                            "{ res.json({k: %d}); };" % k)
            fns.append((names, "fnrun:bc:%s:%s" % (engine, v["sha256"]), k))
        owner = {}
        for names, key, k in fns:
            held = [i for i in range(HOSTS) if self.mc_get(i, key)]
            self.assertEqual(len(held), 1, "key %s held by %s" % (key, held))
            owner[key] = held[0]
        spread = [list(owner.values()).count(i) for i in range(HOSTS)]
        say("24 compiled functions over the three memcacheds: %s", spread)
        for i in range(HOSTS):
            self.assertGreater(spread[i], 0, spread)

        # memcached of host 2 stops (by its PID).
        mc_pids = pids_in(os.path.join(self.c.state(1), "run", "memcached.pid"))
        self.assertTrue(mc_pids)
        kill_pids(mc_pids, signal.SIGTERM)
        deadline = time.monotonic() + WAIT_S
        while any(os.path.exists("/proc/%d" % p) for p in mc_pids):
            self.assertLess(time.monotonic(), deadline, "memcached 2 did not stop")
            time.sleep(0.05)
        m0 = self.all_metrics()
        for names, key, k in fns:
            st, body, _ = self.invoke(names)
            self.assertEqual(st, 200, body)
            self.assertEqual(json.loads(body), {"k": k})
        m1 = self.all_metrics()
        misses = sum(b.get("fnrun_cache_misses_total", 0) - a.get("fnrun_cache_misses_total", 0)
                     for a, b in zip(m0, m1))
        say("memcached 2 stopped: %d misses over 24 first calls (it held %d keys)",
            misses, spread[1])
        self.assertEqual(misses, spread[1])
        # Recompiled once: their new home has them, the others never moved.
        for names, key, k in fns:
            held = [i for i in (0, 2) if self.mc_get(i, key)]
            self.assertEqual(len(held), 1, "key %s held by %s" % (key, held))
            if owner[key] != 1:
                self.assertEqual(held, [owner[key]], "a key of a live server moved")
        for _ in range(2):
            for names, key, k in fns:
                st, body, _ = self.invoke(names)
                self.assertEqual(st, 200, body)
        m2 = self.all_metrics()
        again = sum(b.get("fnrun_cache_misses_total", 0) - a.get("fnrun_cache_misses_total", 0)
                    for a, b in zip(m1, m2))
        self.assertEqual(again, 0)

    # -- 5. a pool dies under load

    def test_5_killed_pool_costs_only_its_requests_in_flight(self):
        names = unique_fn()
        self.upload(names, "module.exports = function (req, res) {\n"
                    "  var t0 = Date.now(); while (Date.now() - t0 < 20) {}\n"
                    "  res.json({ok: true, echo: req.payload});\n};\n")
        m0 = self.all_metrics()
        since = self.access_size()
        results, lock, stop = [], threading.Lock(), threading.Event()
        killed_at = []

        def caller(t):
            n = 0
            while not stop.is_set():
                n += 1
                payload = json.dumps({"t": t, "n": n}).encode()
                try:
                    st, body, _ = self.invoke(names, payload)
                except OSError as e:
                    st, body = None, str(e).encode()
                with lock:
                    results.append((st, body, payload))

        threads = [threading.Thread(target=caller, args=(t,), daemon=True) for t in range(6)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + WAIT_S
        while len(results) < 150 and time.monotonic() < deadline:
            time.sleep(0.05)
        # Pool 3's slots and workers, by the PIDs spawn-fcgi recorded.
        slots = pids_in(os.path.join(self.c.state(2), "run", "fnrun-workers.pid"))
        self.assertTrue(slots)
        victims = slots + [d for s in slots for d in descendants(s)]
        with lock:
            killed_at.append(len(results))
        kill_pids(victims)
        while len(results) < killed_at[0] + 300 and time.monotonic() < deadline + WAIT_S:
            time.sleep(0.05)
        stop.set()
        for t in threads:
            t.join(60)

        bad = [(st, body) for st, body, p in results
               if st != 200 or json.loads(body) != {"ok": True, "echo": json.loads(p)}]
        lines = [ln for ln in self.access_lines(since) if "POST /invoke/" in ln]
        twice, failed_lines, refused = [], [], 0
        for n, ln in enumerate(lines):
            ups = re.search(r"up=(.*?) upstatus=(.*?) upsent=(.*)$", ln)
            addrs = [a.strip() for a in ups.group(1).split(",")]
            sent = [s.strip() for s in ups.group(3).split(",")]
            if sum(1 for s in sent if s not in ("0", "-")) > 1:
                twice.append(ln)
            if len(addrs) > 1:
                refused += 1        # moved on from a pool it could not reach
            if '" 503 ' in ln:
                failed_lines.append((n, ln))
        say("%d calls, %d failed while pool 3 was killed (6 callers); %d moved on "
            "from a refused connect", len(results), len(bad), refused)
        self.assertEqual(twice, [], "a request reached two pools")
        self.assertLessEqual(len(bad), 6, bad[:10])
        for st, body in bad:
            self.assertEqual(st, 503, body)
            self.assertEqual(json.loads(body)["error"], "unavailable")
        for n, ln in failed_lines:
            self.assertIn("up=%s " % self.c.pool(2), ln)
        # After the failures, nginx skips pool 3 (max_fails=1 counts a
        # failed request as well as a refused connect): every later call,
        # however many, succeeds on the other two.
        last_failure = failed_lines[-1][0] if failed_lines else -1
        after = lines[last_failure + 1:]
        self.assertGreater(len(after), 250, "too few calls after the kill to judge")
        self.assertEqual([ln for ln in after if '" 200 ' not in ln], [])
        self.assertEqual([ln for ln in after
                          if re.search(r"up=%s upstatus=200" % re.escape(self.c.pool(2)), ln)],
                         [], "a call was answered by the killed pool")

        # Every request the pools counted was answered: none ran twice.
        ok = sum(1 for st, body, p in results if st == 200)
        ok_stack, out = self.c.stack(self.c.hosts[2], self.c.pool_env(2), "stop")
        self.assertTrue(ok_stack, out)
        self.c.start_pool(2)
        m1 = self.all_metrics()
        ran = sum(invocations(b) - invocations(a) for a, b in zip(m0, m1))
        self.assertGreaterEqual(ran, ok)
        self.assertLessEqual(ran, ok + len(bad))

        # The front takes pool 3 back once its fail_timeout has passed.
        back = False
        deadline = time.monotonic() + WAIT_S
        before = invocations(self.pool_metrics(2))
        while time.monotonic() < deadline and not back:
            st, body, _ = self.invoke(names, b'{"back":1}')
            self.assertEqual(st, 200, body)
            back = invocations(self.pool_metrics(2)) > before
        say("pool 3 restarted and served again: %s", back)
        self.assertTrue(back, "the front never sent to the restarted pool 3")


if __name__ == "__main__":
    unittest.main()
