"""The library's web built-ins through the real stack (SPEC §11, issue 11):
URL and URLSearchParams, atob/btoa, structuredClone, performance.now(), in
functions shaped like real hooks (an upstream URL built from req.query, a
Basic auth header checked and rewritten), and hostile uses of them (a 5 MB
URL, a deep cyclic clone, a clone past the heap's cap, bad base64), each
answered without losing the worker: its pid, from the invocation log, is
still alive, no worker was restarted or killed, and the pool serves a
well-behaved function after it. The conformance cases themselves run in a
heap in tests/check_lib_web.c."""

import base64
import json
import urllib.parse

from fnrun_client import (WELL_BEHAVED, FnTestCase, admin, invocation_records,
                          invoke, metrics)


class WebBuiltinsTest(FnTestCase):

    def test_upstream_url_from_query(self):
        # A "before" hook: the upstream URL is the saved request's, with the
        # caller's query copied over and the project's key added.
        p, rq, f, _ = self.deploy(
            "module.exports = function (req, res) {\n"
            "  var u = new URL(req.payload.request.url);\n"
            "  var up = new URL('../v2/' + u.pathname.split('/').pop(), u);\n"
            "  Object.keys(req.query).forEach(function (k) {\n"
            "    up.searchParams.set(k, req.query[k]); });\n"
            "  up.searchParams.append('key', req.env.API_KEY);\n"
            "  up.searchParams.sort();\n"
            "  res.json({ url: up.href, origin: up.origin, host: up.host,\n"
            "    path: up.pathname, limit: up.searchParams.get('limit'),\n"
            "    keys: Array.prototype.slice.call(up.searchParams.getAll('q')) });\n"
            "};")
        r = admin("PUT", "/projects/%s/env/API_KEY" % p, b"k&y=1 2")
        self.assertStatus(r, 204)
        body = json.dumps({"phase": "before", "request": {
            "method": "GET", "url": "https://API.example.com:443/v1/charges?old=1",
            "headers": {}, "body": ""}})
        q = urllib.parse.urlencode({"limit": "10", "q": "caf\u00e9 & co", "e": "\u20ac"})
        r = invoke(p, rq, f, body, query=q)
        self.assertStatus(r, 200)
        out = r.json()
        self.assertEqual(out["url"], "https://api.example.com/v2/charges?e=%E2%82%AC"
                         "&key=k%26y%3D1+2&limit=10&q=caf%C3%A9+%26+co")
        self.assertEqual(out["origin"], "https://api.example.com")
        self.assertEqual(out["host"], "api.example.com")
        self.assertEqual(out["path"], "/v2/charges")
        self.assertEqual(out["limit"], "10")
        self.assertEqual(out["keys"], ["caf\u00e9 & co"])
        # What Python's own parser reads back from it.
        parsed = urllib.parse.urlsplit(out["url"])
        self.assertEqual(urllib.parse.parse_qs(parsed.query)["key"], ["k&y=1 2"])

    def test_basic_auth_checked_and_rewritten(self):
        # The forwarding server's request carries the browser's Basic auth;
        # the hook checks it and replaces it with the upstream's.
        p, rq, f, _ = self.deploy(
            "module.exports = function (req, res) {\n"
            "  var rq = req.payload.request, h = rq.headers.authorization || '';\n"
            "  var m = /^Basic (.+)$/.exec(h), who;\n"
            "  try { who = m && atob(m[1]).split(':'); }\n"
            "  catch (e) { return res.json({ error: e.name }, 400); }\n"
            "  if (!who || who[0] !== 'alice' || who[1] !== 'wonder land')\n"
            "    return res.json({ error: 'denied' }, 403);\n"
            "  rq.headers.authorization = 'Basic ' + btoa(req.env.UP_USER + ':' +\n"
            "    req.env.UP_PASS);\n"
            "  res.json(rq);\n"
            "};")
        self.assertStatus(admin("PUT", "/projects/%s/env/UP_USER" % p, b"svc"), 204)
        self.assertStatus(admin("PUT", "/projects/%s/env/UP_PASS" % p,
                                "p\u00e4ss".encode("utf-8")), 204)

        def call(auth):
            return invoke(p, rq, f, json.dumps({"phase": "before", "request": {
                "method": "POST", "url": "https://api.example.com/v1/x",
                "headers": {"authorization": auth}, "body": "{}"}}))

        good = base64.b64encode(b"alice:wonder land").decode()
        r = call("Basic " + good)
        self.assertStatus(r, 200)
        sent = r.json()["headers"]["authorization"]
        self.assertEqual(base64.b64decode(sent[len("Basic "):]), "svc:p\u00e4ss".encode("latin-1"))
        # Whitespace inside and no padding: forgiving-base64 reads it.
        r = call("Basic " + good[:8] + " \t" + good[8:].rstrip("="))
        self.assertStatus(r, 200)
        self.assertEqual(call("Basic " + base64.b64encode(b"bob:x").decode()).status, 403)
        r = call("Basic not*base64")
        self.assertStatus(r, 400)
        self.assertEqual(r.json(), {"error": "InvalidCharacterError"})

    def test_structured_clone_and_performance_now(self):
        p, rq, f, _ = self.deploy(
            "module.exports = function (req, res) {\n"
            "  var t0 = performance.now();\n"
            "  var orig = req.payload, copy = structuredClone(orig);\n"
            "  copy.items.push('added'); copy.when = new Date(0);\n"
            "  var again = structuredClone(copy);\n"
            "  var t1 = performance.now();\n"
            "  res.json({ orig: orig, copy: again, date: again.when instanceof Date,\n"
            "    t: [typeof t0, t0 >= 0, t1 >= t0] });\n"
            "};")
        r = invoke(p, rq, f, json.dumps({"items": [1, {"a": "b"}], "s": "\u00e9"}))
        self.assertStatus(r, 200)
        out = r.json()
        self.assertEqual(out["orig"], {"items": [1, {"a": "b"}], "s": "\u00e9"})
        self.assertEqual(out["copy"]["items"], [1, {"a": "b"}, "added"])
        self.assertEqual(out["copy"]["when"], "1970-01-01T00:00:00.000Z")
        self.assertTrue(out["date"])
        self.assertEqual(out["t"], ["number", True, True])

    def test_invalid_url_is_a_type_error(self):
        p, rq, f, _ = self.deploy(
            "module.exports = function (req, res) {\n"
            "  var ok = URL.canParse(req.body);\n"
            "  if (req.query.uncaught) new URL(req.body);\n"
            "  try { new URL(req.body); res.send('parsed ' + ok); }\n"
            "  catch (e) { res.send(e.name + ': ' + e.message + ' ' + ok, 400); }\n"
            "};")
        r = invoke(p, rq, f, "https://bad host/")
        self.assertStatus(r, 400)
        self.assertEqual(r.text, "TypeError: Invalid URL false")
        self.assertEqual(invoke(p, rq, f, "https://good.host/").text, "parsed true")
        body = self.assertError(invoke(p, rq, f, "not a url", query="uncaught=1"),
                                500, "function_error")
        self.assertEqual(body["message"], "TypeError: Invalid URL")

    # Each answered as expected by the same worker, which then goes on.
    HOSTILE = {
        "url_5mb": ("var s = 'a'; while (s.length < 5 * 1024 * 1024) s += s;\n"
                    "try { new URL('https://x.com/?q=' + s); res.send('parsed'); }\n"
                    "catch (e) { res.send(e.message); }", 200, "Invalid URL"),
        "url_near_limit": ("var s = 'a'; while (s.length < 256 * 1024) s += s;\n"
                           "var u = new URL('https://x.com/' + s + '?q=' + s);\n"
                           "res.send(String(u.searchParams.get('q').length));",
                           200, str(256 * 1024)),
        "params_5k_pairs": ("var p = new URLSearchParams(), i;\n"
                              "for (i = 0; i < 5000; i++) p.append('k' + i, i);\n"
                              "var q = new URLSearchParams(p.toString());\n"
                              "res.send(String(q.size));", 200, "5000"),
        "deep_cyclic_clone": ("var v = {}, top = v, i;\n"
                              "for (i = 0; i < 10000; i++) { v.next = { i: i }; v = v.next; }\n"
                              "v.next = top;\n"
                              "var c = structuredClone(top);\n"
                              "for (v = c, i = 0; i <= 10000; i++) v = v.next;\n"
                              "res.send(String(v === c));", 200, "true"),
        "clone_past_the_heap": ("var a = [], i;\n"
                                "for (i = 0; i < 12; i++) a.push(new ArrayBuffer(1 << 20));\n"
                                "var keep = [structuredClone(a), structuredClone(a)];\n"
                                "res.send('cloned');", 500, None),
        "clone_a_function": ("try { structuredClone({ f: function () {} }); }\n"
                             "catch (e) { return res.send(e.name); }\n"
                             "res.send('cloned');", 200, "DataCloneError"),
        "atob_garbage_8mb": ("var s = '*'; while (s.length < 8 * 1024 * 1024) s += s;\n"
                             "try { atob(s); } catch (e) { return res.send(e.name); }\n"
                             "res.send('decoded');", 200, "InvalidCharacterError"),
        "btoa_1mb": ("var s = '\\u00ff'; while (s.length < 1024 * 1024) s += s;\n"
                     "res.send(String(atob(btoa(s)) === s));", 200, "true"),
    }

    def test_hostile_uses_keep_the_worker(self):
        well = self.deploy(WELL_BEHAVED)[:3]
        for case, (body, status, want) in sorted(self.HOSTILE.items()):
            with self.subTest(case=case):
                names = self.deploy("module.exports = function (req, res) {\n%s\n};" % body)[:3]
                m0 = metrics()
                r = invoke(*names)
                if status == 500:
                    self.assertError(r, 500, "memory_limit", case)
                else:
                    self.assertStatus(r, status, case)
                    self.assertEqual(r.text, want, case)
                recs = invocation_records(names)
                self.assertEqual(len(recs), 1, case)
                self.assertWorkerKept(names, recs[0]["pid"], well, m0, case)

    def test_unused_library_is_not_loaded(self):
        # SPEC §11 "Cost": the same hello, one touching nothing and one
        # reading URL, differ in the heap the debug envelope reports.
        plain = self.deploy("module.exports = function (req, res) { res.send('hi'); };")[:3]
        using = self.deploy("module.exports = function (req, res) {\n"
                            "  res.send(typeof URL === 'function' ? 'hi' : 'no'); };")[:3]
        a = invoke(*plain, debug=True).json()
        b = invoke(*using, debug=True).json()
        self.assertEqual((a["body"], b["body"]), ("hi", "hi"))
        self.assertLess(a["memoryPeakBytes"], b["memoryPeakBytes"])


if __name__ == "__main__":
    import unittest
    unittest.main()
