"""Kept connections between nginx and the workers (fcgi_keepalive), on a
stack of its own: one worker, nginx keeping up to 4 idle connections per
nginx worker process (fastcgi_keep_conn on).

One function counts its calls in its warm heap and answers the count it
took: with one worker, the counts say in which order requests were served,
and that each ran exactly once (no request lost, none answered twice).
Checked: many requests over the few connections nginx keeps are all
answered and the worker holds several connections at once (libfcgi alone
holds one and blocks on it: pinning); requests sent on other connections
while a slow call runs are served right after it, not after the slow
call's connection goes idle long enough for nginx to close it; a connection nginx closes mid-request (the client went away) loses
nothing and the other connections go on; a pool swap (reload) under load
fails no request. Outcomes and order, and one duration
compared with another: no time is asserted against a constant.
"""

import os
import socket
import threading
import time

from fnrun_client import (FnTestCase, OwnStack, invoke, invoke_key,
                          parallel, port, run_stack, state_dir, unique,
                          upload)

COUNTER = r"""
var calls = 0;
module.exports = function (req, res) {
  var me = ++calls, until;
  if (req.query.spin) {
    until = Date.now() + Number(req.query.spin);
    while (Date.now() < until) {}
  }
  res.json({n: me});
};
"""

SPIN_MS = 1500          # the slow call; its timeoutMs is above it
PAUSE_S = 0.3           # lets the slow call start (a pause, not a measure)
HELLOS = 6


def worker_pids():
    """The worker processes: children of the supervisors spawn-fcgi wrote."""
    pids = []
    with open(os.path.join(state_dir(), "run", "fnrun-workers.pid")) as f:
        for sup in f.read().split():
            path = "/proc/%s/task/%s/children" % (sup, sup)
            with open(path) as c:
                pids += [int(p) for p in c.read().split()]
    return pids


def fastcgi_connections(pid):
    """Connections from nginx the process holds: its sockets that
    /proc/net/unix lists as connected (state 03) on the pool's socket
    path (an accepted unix socket shows its listener's path)."""
    path = os.path.join(state_dir(), "run", "fnrun.sock")
    held = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            held.add(target[len("socket:["):-1])
    n = 0
    with open("/proc/net/unix") as f:
        next(f)
        for line in f:
            cols = line.split()
            if (len(cols) >= 8 and cols[5] == "03" and cols[6] in held
                    and cols[7] == path):
                n += 1
    return n


class KeepConnTest(FnTestCase):

    @classmethod
    def setUpClass(cls):
        cls.stack = OwnStack("keepconn", FNRUN_WORKERS=1,
                             FNRUN_FCGI_KEEPALIVE=4).start()
        cls.project = unique("k")

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()

    def setUp(self):
        # A function of each test's own: its count starts at 1.
        self.fn = unique("count")
        r = upload(self.project, "r", self.fn, COUNTER, query="timeoutMs=5000")
        self.assertIn(r.status, (200, 201), r)

    def call(self, spin=0):
        r = invoke(self.project, "r", self.fn, b"{}",
                   query="spin=%d" % spin if spin else "")
        self.assertStatus(r, 200)
        return r.json()["n"]

    def test_many_requests_over_few_kept_connections(self):
        got = parallel(self.call, [()] * 200, workers=8)
        # Each of the 200 ran once: the counts are 1..200, each once.
        self.assertEqual(sorted(got), list(range(1, 201)))
        self.assertEqual(self.call(), 201)
        # nginx kept several connections and the one worker holds them
        # all at once (libfcgi alone holds one and waits on it).
        held = [fastcgi_connections(p) for p in worker_pids()]
        self.assertEqual(len(held), 1)
        self.assertGreaterEqual(held[0], 2, held)

    def test_requests_on_other_connections_served_after_slow_call(self):
        # Several connections kept first, so that requests go on other
        # connections than the slow call's.
        parallel(self.call, [()] * 16, workers=8)
        slow = {}
        t = threading.Thread(target=lambda: slow.update(
            r=invoke(self.project, "r", self.fn, b"{}",
                     query="spin=%d" % SPIN_MS)))
        t.start()
        time.sleep(PAUSE_S)
        hellos = parallel(lambda: invoke(self.project, "r", self.fn, b"{}"),
                          [()] * HELLOS, workers=HELLOS)
        t.join()
        for r in hellos + [slow["r"]]:
            self.assertStatus(r, 200)
        # All ran once, the slow call first: the others were sent while it
        # ran, and the one worker ran them right after it.
        got = sorted(r.json()["n"] for r in hellos)
        self.assertEqual(slow["r"].json()["n"], 17)
        self.assertEqual(got, list(range(18, 18 + HELLOS)))
        self.assertEqual(self.call(), 18 + HELLOS)
        # Sent after it, each was answered before the slow call was plus
        # the wait a worker pinned to the slow call's idle connection
        # would add (until nginx closes it: 4 s of keepalive_timeout), so
        # before the slow call's own duration: two measures compared.
        self.assertLess(max(r.elapsed for r in hellos), slow["r"].elapsed,
                        [r.elapsed for r in hellos + [slow["r"]]])

    def test_connection_closed_by_nginx_midway_loses_nothing(self):
        parallel(self.call, [()] * 8, workers=4)
        # The client goes away while its call runs: nginx closes that
        # upstream connection with the request in progress.
        s = socket.create_connection(("127.0.0.1", port()))
        path = "/invoke/%s/r/%s?spin=%d" % (self.project, self.fn, SPIN_MS)
        s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nX-Fn-Key: %s\r\n"
                   "Content-Length: 2\r\n\r\n{}" % (path, invoke_key()))
                  .encode())
        time.sleep(PAUSE_S)
        s.close()
        # The abandoned call ran once (9); every later request is answered
        # over the connections left, each once.
        got = parallel(self.call, [()] * 40, workers=8)
        self.assertEqual(sorted(got), list(range(10, 50)))
        self.assertEqual(self.call(), 50)

    def test_reload_under_load_loses_nothing(self):
        """The pool swap (scripts/stack.sh reload) while requests flow over
        kept connections: the old workers serve theirs until nginx closes
        them, every request is answered once."""
        stop = threading.Event()
        results = []

        def client():
            while not stop.is_set():
                r = invoke(self.project, "r", self.fn, b"{}")
                results.append((r.status, r.text))

        threads = [threading.Thread(target=client) for _ in range(6)]
        for t in threads:
            t.start()
        try:
            for _ in range(2):
                time.sleep(PAUSE_S)
                ok, out = run_stack("reload", env=self.stack.env)
                self.assertTrue(ok, out)
            time.sleep(PAUSE_S)
        finally:
            stop.set()
            for t in threads:
                t.join()
        bad = [r for r in results if r[0] != 200]
        self.assertEqual(bad, [], "%d of %d failed" % (len(bad), len(results)))
        self.assertGreater(len(results), 0)
