"""Authentication (SPEC §3) and name validation (SPEC §2), through nginx with
raw paths: a bad name is 400 invalid_name and leaves no trace in the store."""

import json
import os

from fnrun_client import (FnTestCase, admin_token, invoke, invoke_key, request,
                          store_dir, store_snapshot, unique, unique_fn, upload)

SRC = "module.exports = function (req, res) { res.send('authed'); };"


class AuthTest(FnTestCase):

    @classmethod
    def setUpClass(cls):
        cls.names = unique_fn()
        r = upload(*cls.names, SRC)
        assert r.status == 201, r

    def test_invoke_with_key_works(self):
        r = invoke(*self.names)
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"authed")

    def test_invoke_without_key(self):
        p, rq, f = self.names
        r = request("POST", "/invoke/%s/%s/%s" % (p, rq, f), b"{}")
        self.assertError(r, 401, "unauthorized")
        self.assertNotIn(b"authed", r.body)

    def test_invoke_with_wrong_keys(self):
        k = invoke_key()
        for bad in ("", "x", k[:-1], k + "x", k.upper() if k != k.upper() else k.lower(),
                    " " + k + "x", admin_token()):
            r = invoke(*self.names, key=bad)
            self.assertError(r, 401, "unauthorized", "key %r" % bad)

    def test_invoke_with_bearer_only(self):
        p, rq, f = self.names
        for tok in (invoke_key(), admin_token()):
            r = request("POST", "/invoke/%s/%s/%s" % (p, rq, f), b"",
                        {"Authorization": "Bearer " + tok})
            self.assertError(r, 401, "unauthorized")

    def test_unauthorized_invoke_of_unknown_function_is_401_not_404(self):
        # The secret is checked before anything about the function is revealed.
        r = invoke(*unique_fn(), key="wrong")
        self.assertError(r, 401, "unauthorized")

    def test_admin_without_token(self):
        p, rq, f = unique_fn()
        r = request("PUT", "/functions/%s/%s/%s" % (p, rq, f), SRC,
                    {"Content-Type": "application/javascript"})
        self.assertError(r, 401, "unauthorized")
        r = request("POST", "/functions", json.dumps(
            {"projectId": p, "requestId": rq, "fnName": f, "fnDefinition": SRC}),
            {"Content-Type": "application/json"})
        self.assertError(r, 401, "unauthorized")
        self.assertError(invoke(p, rq, f), 404, "not_found", "nothing stored")
        self.assertFalse(os.path.exists(os.path.join(store_dir(), p)))

    def test_admin_with_wrong_tokens(self):
        t = admin_token()
        p, rq, f = unique_fn()
        for bad in ("Bearer ", "Bearer x", "Bearer " + t[:-1], "Bearer " + t + "x",
                    "Bearer " + invoke_key(), "Basic " + t, t, "Bearer  " + t + " x"):
            for via in ("put", "post"):
                r = upload(p, rq, f, SRC, via=via, headers={"Authorization": bad})
                self.assertError(r, 401, "unauthorized", "%s with %r" % (via, bad))
        r = upload(p, rq, f, SRC, headers={"X-Fn-Key": invoke_key(),
                                           "Authorization": "Bearer nope"})
        self.assertError(r, 401, "unauthorized", "invoke key as X-Fn-Key on admin")
        self.assertError(invoke(p, rq, f), 404, "not_found", "nothing stored")
        self.assertFalse(os.path.exists(os.path.join(store_dir(), p)))

    def test_secrets_files_are_private(self):
        for name in ("admin_token", "invoke_key"):
            path = os.path.join(os.environ["FNRUN_STATE_DIR"], "secrets", name)
            st = os.stat(path)
            self.assertEqual(st.st_mode & 0o777, 0o600, path)
            with open(path, "rb") as fh:
                data = fh.read()
            self.assertRegex(data.decode("ascii"), r"^\S{16,}\n?$", path)
        self.assertNotEqual(admin_token(), invoke_key())

    def test_healthz_needs_no_secret(self):
        r = request("GET", "/healthz")
        self.assertStatus(r, 200)
        self.assertTrue(r.header("Content-Type", "").startswith("application/json"), r)
        body = r.json()
        self.assertEqual(body.get("status"), "ok", body)
        self.assertIn("store", body)
        self.assertIn("memcached", body)


# Raw paths whose name segment is invalid. The normalised form of each (as
# nginx would resolve it) still lies under the same location, so the app must
# answer; the app itself must look at the raw segment.
BAD_SEGMENTS = [
    "..",
    "%2e%2e",
    "%2E%2E",
    ".",
    "a" * 65,
    "a%00b",
    "%00",
    "-abc",
    "_abc",
    "a.b",
    "a%20b",
    "%C3%A9t%C3%A9",
    "a%2Fb",
    "a%5Cb",
]


class NamesTest(FnTestCase):

    def setUp(self):
        self.before = store_snapshot()

    def tearDown(self):
        after = store_snapshot()
        self.assertEqual(sorted(after - self.before), [],
                         "the store changed during a name test")

    def check_invalid(self, r, what):
        # %2F may also be treated as a path separator (then the route does not
        # exist): both are refusals that touch nothing.
        if "%2F" in what and r.status == 404:
            self.assertError(r, 404, "not_found", what)
            return
        self.assertError(r, 400, "invalid_name", what)

    def test_valid_64_char_names_are_accepted(self):
        p = ("p" + unique("x")).ljust(64, "z")
        rq, f = "R" * 64, "9" + "_-" * 31 + "x"
        self.assertEqual((len(p), len(rq), len(f)), (64, 64, 64))
        r = upload(p, rq, f, SRC)
        self.assertStatus(r, 201)
        self.before = store_snapshot()  # this test stores on purpose
        r = invoke(p, rq, f)
        self.assertStatus(r, 200)

    def bad_paths(self, prefix, p):
        """Raw paths with one invalid segment in each position. nginx would
        resolve the dot segments (/functions/../r/f is /r/f to it), so the
        app must route on the raw request URI, segment by segment."""
        for seg in BAD_SEGMENTS:
            yield "%s/%s/r/%s" % (prefix, p, seg)
            yield "%s/%s/%s/f" % (prefix, p, seg)
            yield "%s/%s/r/f" % (prefix, seg)

    def test_upload_put_bad_names(self):
        p = unique("p")
        for path in self.bad_paths("/functions", p):
            r = request("PUT", path, SRC, {"Authorization": "Bearer " + admin_token(),
                                           "Content-Type": "application/javascript"})
            self.check_invalid(r, "PUT " + path)
        self.assertFalse(os.path.exists(os.path.join(store_dir(), p)))

    def test_upload_post_bad_names(self):
        p = unique("p")
        good = {"projectId": p, "requestId": "r", "fnName": "f", "fnDefinition": SRC}
        for bad in ("..", ".", "a" * 65, "a\u0000b", "-abc", "_x", "a/b", "a.b", "",
                    "\u00e9", "a b", "../../etc"):
            for field in ("projectId", "requestId", "fnName"):
                doc = dict(good)
                doc[field] = bad
                r = request("POST", "/functions", json.dumps(doc),
                            {"Authorization": "Bearer " + admin_token(),
                             "Content-Type": "application/json"})
                self.assertError(r, 400, "invalid_name", "%s=%r" % (field, bad))
        self.assertFalse(os.path.exists(os.path.join(store_dir(), p)))

    def test_invoke_bad_names(self):
        p = unique("p")
        for path in self.bad_paths("/invoke", p):
            r = request("POST", path, b"{}", {"X-Fn-Key": invoke_key()})
            self.check_invalid(r, "POST " + path)
