"""Error answers (SPEC §4): whoever answers (nginx or a worker), every error
is JSON with "error" and "message"; body limits hold for every framing."""

from fnrun_client import (FnTestCase, admin, admin_token, invoke_key, request,
                          unique_fn)

LEN = "module.exports = function (req, res) { res.send(String(req.body.length)); };"
MIB = 1024 * 1024


class ErrorsTest(FnTestCase):

    def assertJsonError(self, r, statuses, what):
        self.assertIn(r.status, statuses, "%s: %r" % (what, r))
        body = self.assertError(r, r.status, (r.try_json() or {}).get("error"), what)
        self.assertIsInstance(body.get("error"), str, what)
        return body

    def test_unknown_routes_are_json_404(self):
        for method, path in (("GET", "/nope"), ("GET", "/"), ("POST", "/invoke"),
                             ("GET", "/functionsX/a/b/c"), ("GET", "/invoke/a/b/c/d/e")):
            r = request(method, path, None,
                        {"X-Fn-Key": invoke_key(), "Authorization": "Bearer " + admin_token()})
            body = self.assertJsonError(r, (404, 405), "%s %s" % (method, path))
            if r.status == 404:
                self.assertEqual(body["error"], "not_found")

    def test_wrong_method_is_json_error(self):
        p, rq, f = unique_fn()
        r = request("GET", "/invoke/%s/%s/%s" % (p, rq, f), None, {"X-Fn-Key": invoke_key()})
        self.assertJsonError(r, (404, 405), "GET /invoke")
        r = request("DELETE", "/functions", None,
                    {"Authorization": "Bearer " + admin_token()})
        self.assertJsonError(r, (404, 405), "DELETE /functions")

    def test_chunked_request_body_is_read_whole(self):
        names = unique_fn()
        self.deploy(LEN, names)
        p, rq, f = names
        body = b"c" * (700 * 1024)
        r = request("POST", "/invoke/%s/%s/%s" % (p, rq, f), body,
                    {"X-Fn-Key": invoke_key()}, chunked=True)
        self.assertStatus(r, 200)
        self.assertEqual(r.text, str(len(body)))

    def test_chunked_request_body_over_limit_is_413(self):
        names = unique_fn()
        self.deploy(LEN, names)
        p, rq, f = names
        r = request("POST", "/invoke/%s/%s/%s" % (p, rq, f), b"c" * (MIB + 1),
                    {"X-Fn-Key": invoke_key()}, chunked=True)
        self.assertError(r, 413, "payload_too_large")

    def test_upload_body_over_request_limit_is_413(self):
        p, rq, f = unique_fn()
        r = request("PUT", "/functions/%s/%s/%s" % (p, rq, f), b"/" * (MIB + 10),
                    {"Authorization": "Bearer " + admin_token(),
                     "Content-Type": "application/javascript"})
        self.assertError(r, 413, "payload_too_large")

    def test_over_limit_unauthenticated_is_still_json(self):
        p, rq, f = unique_fn()
        r = request("POST", "/invoke/%s/%s/%s" % (p, rq, f), b"x" * (MIB + 1))
        self.assertJsonError(r, (401, 413), "big body without key")

    def test_error_bodies_have_no_extra_trailing_content(self):
        r = admin("POST", "/functions", b"{", {"Content-Type": "application/json"})
        self.assertError(r, 400, "invalid_json")
        # The whole body is exactly one JSON document.
        cl = r.header("Content-Length")
        if cl is not None:
            self.assertEqual(int(cl), len(r.body))
