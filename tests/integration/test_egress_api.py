"""A project's egress host allowlist over HTTP (SPEC §7, §12):
GET|PUT|DELETE /projects/{project}/egress {"allow": [host, "*.domain", ...]}.

Round trips and the normal form, every kind of bad body (each answered with
SPEC §4 JSON, and the list stored before is still there after it), the admin
token, concurrent writers seen whole by concurrent readers, GET /projects
listing a project whose only setting is this list, and fnctl's egress
commands. What fetch() does with the list is tested with fetch itself.
"""

import json
import os
import subprocess
import threading

from fnrun_client import (WELL_BEHAVED, FnTestCase, admin, invoke_key, parallel,
                          request, store_dir, unique, unique_fn)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FNCTL = os.path.join(ROOT, "scripts", "fnctl")


def egress_path(p):
    return "/projects/%s/egress" % p


def put(p, body):
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    return admin("PUT", egress_path(p), body, {"Content-Type": "application/json"})


def get(p):
    return admin("GET", egress_path(p))


class EgressApiTest(FnTestCase):

    def assertList(self, r, p, hosts):
        self.assertStatus(r, 200)
        self.assertTrue(r.header("Content-Type", "").startswith("application/json"), r)
        self.assertEqual(r.json(), {"projectId": p, "allow": hosts})

    def test_round_trip(self):
        p = unique("p")
        # No list yet: "allow" is null, the project's functions are not
        # narrowed (an unknown project answers the same, as GET
        # /projects/{p} does).
        self.assertList(get(p), p, None)
        r = put(p, {"allow": ["API.Paystack.CO", "*.Stripe.com.", "api.paystack.co",
                              "localhost"]})
        self.assertList(r, p, ["api.paystack.co", "*.stripe.com", "localhost"])
        self.assertList(get(p), p, ["api.paystack.co", "*.stripe.com", "localhost"])
        with open(os.path.join(store_dir(), p, ".egress"), "rb") as f:
            self.assertEqual(f.read(), b"api.paystack.co\n*.stripe.com\nlocalhost\n")
        # A PUT replaces the whole list.
        self.assertList(put(p, {"allow": ["*.example.com"]}), p, ["*.example.com"])
        self.assertList(get(p), p, ["*.example.com"])
        # An empty list is a list: no host at all.
        self.assertList(put(p, {"allow": []}), p, [])
        self.assertList(get(p), p, [])
        # Other members are ignored.
        self.assertList(put(p, {"allow": ["a.io"], "note": 1}), p, ["a.io"])
        r = admin("DELETE", egress_path(p))
        self.assertStatus(r, 204)
        self.assertEqual(r.body, b"")
        self.assertList(get(p), p, None)
        self.assertFalse(os.path.exists(os.path.join(store_dir(), p, ".egress")))
        self.assertError(admin("DELETE", egress_path(p)), 404, "not_found")

    def test_bad_bodies_are_json_errors_and_lose_nothing(self):
        p = unique("p")
        kept = ["api.paystack.co", "*.stripe.com"]
        self.assertList(put(p, {"allow": kept}), p, kept)
        cases = [
            (b"", 400, "invalid_json"),
            (b"not json", 400, "invalid_json"),
            (b'{"allow": ["a.com"]', 400, "invalid_json"),
            (b"[]", 400, "invalid_json"),
            (b'"a.com"', 400, "invalid_json"),
            (b"{}", 400, "bad_request"),
            (b'{"allow": null}', 400, "bad_request"),
            (b'{"allow": "a.com"}', 400, "bad_request"),
            (b'{"allow": {"0": "a.com"}}', 400, "bad_request"),
            (b'{"allow": [1]}', 400, "bad_request"),
            (b'{"allow": ["a.com", null]}', 400, "bad_request"),
            (b'{"allow": [["a.com"]]}', 400, "bad_request"),
            (b'{"allow": ["a.com\\u0000.evil.io"]}', 400, "bad_request"),
            (b'\xff\xfe{"allow": []}', 400, "invalid_json"),
        ]
        for body, status, code in cases:
            self.assertError(put(p, body), status, code, body[:60])
        # Bad patterns: the message names the entry and what is wrong.
        bad = ["", "*", "*.*.x.com", "a.*.com", "x*.com", "a b.com", "a..b",
               "-a.com", "a-.com", "a_b.com", "a/b", "a:443", "http://a.com",
               "user@a.com", "[::1]", "::1", "127.0.0.1", "0x7f.1", "2130706433",
               "169.254.169.254", "a.123", "café.com", "a\nb.com", "x" * 254,
               "a" * 64 + ".com", "\U0001F600.com", "\ud800.com"]
        for i, host in enumerate(bad):
            body = json.dumps({"allow": ["ok.example.com", host]})
            e = self.assertError(put(p, body), 400, "bad_request", repr(host)[:60])
            self.assertIn("allow[1]", e["message"], host[:60])
        e = self.assertError(put(p, {"allow": ["127.0.0.1"]}), 400, "bad_request")
        self.assertIn("IP address", e["message"])
        # At most 100 hosts (duplicates count once, but the body is
        # refused past 100 entries before any is looked at).
        hosts = ["h%d.example.com" % i for i in range(101)]
        e = self.assertError(put(p, {"allow": hosts}), 400, "bad_request")
        self.assertIn("at most 100", e["message"])
        self.assertList(put(p, {"allow": hosts[:100]}), p, hosts[:100])
        self.assertList(put(p, {"allow": kept}), p, kept)
        # Large bodies: many entries within the request limit are refused
        # as too many; past the limit, nginx and the app say 413.
        many = json.dumps({"allow": ["a.io"] * 120000})
        self.assertLess(len(many), 1 << 20)
        self.assertError(put(p, many), 400, "bad_request")
        one_long = json.dumps({"allow": ["a" * 900000]})
        e = self.assertError(put(p, one_long), 400, "bad_request")
        self.assertLess(len(e["message"]), 400, "the message quotes a short excerpt")
        self.assertError(put(p, b'{"allow": ["' + b"a" * (2 << 20) + b'"]}'),
                         413, "payload_too_large")
        nested = b'{"allow": ' + b"[" * 100000 + b"]" * 100000 + b"}"
        self.assertIn(put(p, nested).status, (400, 413))
        # Nothing was lost, and the pool still serves.
        self.assertList(get(p), p, kept)
        self.assertWellBehavedServes(self.well_behaved())

    def well_behaved(self):
        names = unique_fn()
        self.deploy(WELL_BEHAVED, names)
        return names

    def test_auth_names_and_methods(self):
        p = unique("p")
        for method, body in (("GET", None), ("PUT", b'{"allow":[]}'), ("DELETE", None)):
            self.assertError(request(method, egress_path(p), body), 401, "unauthorized")
            self.assertError(admin(method, egress_path(p), body, token="wrong"),
                             401, "unauthorized")
            self.assertError(request(method, egress_path(p), body,
                                     {"X-Fn-Key": invoke_key()}), 401, "unauthorized")
        self.assertList(get(p), p, None)
        self.assertError(admin("POST", egress_path(p), b"{}"), 405, "method_not_allowed")
        self.assertError(admin("GET", "/projects/%2e%2e/egress"), 400, "invalid_name")
        self.assertError(put("-bad", {"allow": []}), 400, "invalid_name")
        self.assertError(admin("GET", "/projects/%s/egress/x" % p), 404, "not_found")

    def test_concurrent_writers_are_seen_whole(self):
        p = unique("p")
        a = ["a%d.example.com" % i for i in range(100)]
        b = ["*.b%d.example.org" % i for i in range(60)]
        self.assertList(put(p, {"allow": a}), p, a)
        stop = threading.Event()
        seen, bad = set(), []

        def reader():
            while not stop.is_set():
                r = get(p)
                got = r.json().get("allow") if r.status == 200 else None
                if got == a:
                    seen.add("a")
                elif got == b:
                    seen.add("b")
                else:
                    bad.append(r)

        readers = [threading.Thread(target=reader) for _ in range(2)]
        for t in readers:
            t.start()
        try:
            answers = parallel(lambda i: put(p, {"allow": a if i % 2 else b}),
                               [(i,) for i in range(40)], workers=4)
        finally:
            stop.set()
            for t in readers:
                t.join()
        self.assertEqual([r.status for r in answers], [200] * 40)
        self.assertEqual(bad, [], "a reader saw something else than one whole list")
        self.assertTrue(seen, seen)
        self.assertIn(get(p).json()["allow"], (a, b))
        leftovers = [n for n in os.listdir(os.path.join(store_dir(), p))
                     if n not in (".egress",)]
        self.assertEqual(leftovers, [], "temporary files left in the project")

    def test_projects_lists_a_project_with_only_an_egress_list(self):
        p = unique("p")
        self.assertNotIn(p, admin("GET", "/projects").json()["projects"])
        self.assertList(put(p, {"allow": []}), p, [])
        self.assertIn(p, admin("GET", "/projects").json()["projects"])
        # Its usage is reported like any project's.
        self.assertStatus(admin("GET", "/projects/%s" % p), 200)
        self.assertStatus(admin("DELETE", egress_path(p)), 204)
        self.assertNotIn(p, admin("GET", "/projects").json()["projects"])

    def fnctl(self, *args):
        env = dict(os.environ)
        for k in ("FNRUN_URL", "FNRUN_ADMIN_TOKEN", "FNRUN_INVOKE_KEY"):
            env.pop(k, None)
        p = subprocess.run([FNCTL] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env, timeout=60)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def test_fnctl_egress(self):
        p = unique("p")
        rc, out, err = self.fnctl("egress", "get", p)
        self.assertEqual(rc, 0, err)
        self.assertIn("no egress allowlist", out)
        rc, out, err = self.fnctl("egress", "set", p, "API.Paystack.co", "*.stripe.com")
        self.assertEqual((rc, out), (0, "api.paystack.co\n*.stripe.com\n"), err)
        rc, out, err = self.fnctl("--json", "egress", "get", p)
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out), {"projectId": p,
                                           "allow": ["api.paystack.co", "*.stripe.com"]})
        rc, out, err = self.fnctl("egress", "set", p, "127.0.0.1")
        self.assertEqual(rc, 1)
        self.assertIn("IP address", err)
        rc, out, err = self.fnctl("egress", "set", p)
        self.assertEqual(rc, 0, err)
        self.assertIn("empty egress allowlist", out)
        rc, out, err = self.fnctl("egress", "delete", p)
        self.assertEqual(rc, 0, err)
        rc, out, err = self.fnctl("egress", "delete", p)
        self.assertEqual(rc, 1)
        self.assertIn("no egress allowlist", err)
        rc, out, err = self.fnctl("egress", "get", "bad/name")
        self.assertEqual(rc, 2)
        rc, out, err = self.fnctl("egress", "frob", p)
        self.assertEqual(rc, 2)
