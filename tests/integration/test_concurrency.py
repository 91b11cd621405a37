"""Concurrency (SPEC §8, issue 2): concurrent uploads of one function all get
distinct, complete versions; invocations during uploads see whole versions
only; concurrent invocations never mix their answers."""

import json
import threading

from fnrun_client import (FnTestCase, admin, fn_path, invoke, marker, parallel,
                          sha256_hex, unique_fn, upload)

N_UPLOADS = 20


def marked_source(m, pad_kb=32):
    """A source that answers its own marker; the padding makes a partially
    written file detectable (the marker is also at the very end)."""
    pad = ("// %s " % m) * (pad_kb * 1024 // (len(m) + 4))
    return ("var M = %s;\n%s\n"
            "module.exports = function (req, res) { res.send(M + '|' + TAIL); };\n"
            "var TAIL = %s;\n") % (json.dumps(m), pad, json.dumps(m[::-1]))


def expected_answer(m):
    return (m + "|" + m[::-1]).encode()


class ConcurrencyTest(FnTestCase):

    def read_version_source(self, names, v):
        """GET .../versions/N, or None when that endpoint is not implemented."""
        r = admin("GET", fn_path(*names) + "/versions/%d" % v)
        if r.status in (404, 405) and (r.try_json() or {}).get("error") in (
                "not_found", "method_not_allowed", None):
            return None
        self.assertStatus(r, 200, "GET versions/%d" % v)
        return r.body

    def test_20_concurrent_uploads_get_distinct_complete_versions(self):
        names = unique_fn()
        markers = [marker("U%02d" % i) for i in range(N_UPLOADS)]
        sources = [marked_source(m) for m in markers]
        answers = parallel(lambda s: upload(*names, s), [(s,) for s in sources])
        by_version = {}
        for m, src, r in zip(markers, sources, answers):
            self.assertStatus(r, 201, "upload of %s" % m)
            body = r.json()
            self.assertEqual(body["sha256"], sha256_hex(src))
            self.assertEqual(body["size"], len(src.encode()))
            self.assertIs(body["active"], True)
            self.assertNotIn(body["version"], by_version, "version given twice")
            by_version[body["version"]] = (m, src)
        self.assertEqual(len(by_version), N_UPLOADS)
        for v in by_version:
            self.assertIsInstance(v, int)
            self.assertGreaterEqual(v, 1)

        have_get = True
        for v, (m, src) in sorted(by_version.items()):
            r = invoke(*names, query="version=%d" % v)
            self.assertStatus(r, 200, "version %d" % v)
            self.assertEqual(r.body, expected_answer(m), "version %d" % v)
            self.assertEqual(r.header("X-Fn-Version"), str(v))
            if have_get:
                got = self.read_version_source(names, v)
                if got is None:
                    have_get = False
                else:
                    self.assertEqual(got, src.encode(), "stored source of version %d" % v)

        # The active one is one of them, answering its own marker.
        r = invoke(*names)
        self.assertStatus(r, 200)
        v = int(r.header("X-Fn-Version"))
        self.assertIn(v, by_version)
        self.assertEqual(r.body, expected_answer(by_version[v][0]))

    def test_invocations_during_uploads_see_whole_versions(self):
        names = unique_fn()
        m0 = marker("V0")
        r = upload(*names, marked_source(m0))
        self.assertStatus(r, 201)
        by_version = {r.json()["version"]: m0}
        lock = threading.Lock()
        done = threading.Event()
        seen = []
        errors = []

        def uploader(k):
            for i in range(5):
                m = marker("T%d_%d_" % (k, i))
                a = upload(*names, marked_source(m))
                with lock:
                    if a.status != 201:
                        errors.append("upload %r" % a)
                    else:
                        by_version[a.json()["version"]] = m

        def invoker(_):
            n = 0
            while not done.is_set() or n < 5:
                a = invoke(*names)
                n += 1
                with lock:
                    seen.append(a)

        inv_threads = [threading.Thread(target=invoker, args=(i,)) for i in range(4)]
        for t in inv_threads:
            t.start()
        try:
            parallel(uploader, [(k,) for k in range(4)])
        finally:
            done.set()
            for t in inv_threads:
                t.join(60)
        self.assertEqual(errors, [])
        self.assertEqual(len(by_version), 21)
        self.assertGreater(len(seen), 0)
        versions_seen = set()
        for a in seen:
            self.assertStatus(a, 200, "invocation during uploads")
            v = int(a.header("X-Fn-Version"))
            versions_seen.add(v)
            self.assertIn(v, by_version, "answer from a version nobody uploaded")
            self.assertEqual(a.body, expected_answer(by_version[v]),
                             "version %d answered another version's marker" % v)
        print("  [concurrency] %d invocations saw %d versions"
              % (len(seen), len(versions_seen)), flush=True)

    def test_concurrent_invocations_do_not_mix_answers(self):
        names = unique_fn()
        self.deploy("module.exports = function (req, res) {\n"
                    "  res.send(req.body + '/' + req.body.length, 200,"
                    " {'X-Echo': req.payload.id});\n};", names)

        def one(i):
            body = json.dumps({"id": "id%d" % i, "pad": "p" * (i * 997)})
            return i, body, invoke(*names, body)

        for i, body, r in parallel(one, [(i,) for i in range(40)], workers=12):
            self.assertStatus(r, 200)
            self.assertEqual(r.header("X-Echo"), "id%d" % i)
            self.assertEqual(r.text, "%s/%d" % (body, len(body)))

    def test_concurrent_large_bodies(self):
        names = unique_fn()
        self.deploy("module.exports = function (req, res) { res.send(req.body); };", names)

        def one(i):
            body = (("%03d" % i) * 300000)[:900 * 1024]
            return body, invoke(*names, body)

        for body, r in parallel(one, [(i,) for i in range(9)], workers=9):
            self.assertStatus(r, 200)
            self.assertEqual(len(r.body), len(body))
            self.assertTrue(r.body == body.encode(), "echoed body differs")

    def test_concurrent_first_calls_of_fresh_functions(self):
        # Many functions compiled for the first time at once (cache misses on
        # every worker) each answer their own marker.
        fns = []
        for i in range(12):
            names = unique_fn()
            m = marker("F%d" % i)
            self.deploy(marked_source(m, pad_kb=4), names)
            fns.append((names, m))
        answers = parallel(lambda n, m: (m, invoke(*n)), fns, workers=6)
        for m, r in answers:
            self.assertStatus(r, 200)
            self.assertEqual(r.body, expected_answer(m))
