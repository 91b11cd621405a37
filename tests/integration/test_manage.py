"""Management endpoints (SPEC §7). Each test first checks that its route
exists: an answer of 404 not_found (or 405) about something that certainly
exists means the endpoint is not implemented yet (a later issue), and the
test is skipped with that reason. Once implemented, it is asserted fully."""

import json
import re

from fnrun_client import (FnTestCase, admin, fn_path, invoke, marker, request,
                          sha256_hex, unique, unique_fn)


def src_with(m):
    return "module.exports = function (req, res) { res.send(%s); };\n" % json.dumps(m)


ENV_SRC = r"""
module.exports = function (req, res) {
  res.json({env: req.env, key: req.env.API_KEY === undefined ? null : req.env.API_KEY});
};
"""


class ManageTest(FnTestCase):

    def route(self, r, what):
        """Fails when r says the route itself does not exist (the router
        answers an unknown path "no such endpoint", a wrong method 405)."""
        body = r.try_json() if r.body else None
        message = body.get("message") if isinstance(body, dict) else None
        if (r.status == 404 and message == "no such endpoint") or r.status == 405:
            self.fail("%s: no such route (answered %d %r)" % (what, r.status, body))
        return r

    def deploy_versions(self, n):
        names = unique_fn()
        markers, sources = [], []
        for i in range(n):
            m = marker("v%d" % (i + 1))
            markers.append(m)
            sources.append(src_with(m))
            self.deploy(sources[-1], names)
        return names, markers, sources

    def test_list_project_functions(self):
        p = unique("p")
        a = (p, "ra", "fa")
        b = (p, "rb", "fb")
        self.deploy(src_with("a1"), a)
        self.deploy(src_with("a2"), a)
        self.deploy(src_with("b1"), b)
        r = self.route(admin("GET", "/functions/%s" % p), "GET /functions/{project}")
        self.assertStatus(r, 200)
        body = r.json()
        items = body if isinstance(body, list) else body.get("functions")
        self.assertIsInstance(items, list, body)
        self.assertEqual(len(items), 2, body)
        got = set()
        for it in items:
            rq = it.get("requestId", it.get("request"))
            fn = it.get("fnName", it.get("fn", it.get("name")))
            got.add((rq, fn, it.get("active")))
        self.assertEqual(got, {("ra", "fa", 2), ("rb", "fb", 1)}, body)
        # An unknown project is an empty list, not an error.
        r = admin("GET", "/functions/%s" % unique("p"))
        self.assertStatus(r, 200)
        body = r.json()
        items = body if isinstance(body, list) else body.get("functions")
        self.assertEqual(items, [])

    def test_get_function_versions(self):
        names, _markers, sources = self.deploy_versions(3)
        r = self.route(admin("GET", fn_path(*names)), "GET /functions/{p}/{r}/{f}")
        self.assertStatus(r, 200)
        body = r.json()
        self.assertEqual(body.get("active"), 3, body)
        vs = body.get("versions")
        self.assertEqual([v.get("version") for v in vs], [1, 2, 3], body)
        for v, src in zip(vs, sources):
            self.assertEqual(v.get("sha256"), sha256_hex(src))
            self.assertEqual(v.get("size"), len(src.encode()))
            self.assertIn("createdAt", v)
            self.assertTrue(v["createdAt"], v)
        self.assertError(admin("GET", fn_path(*unique_fn())), 404, "not_found")

    def test_get_version_source(self):
        names, _markers, sources = self.deploy_versions(2)
        r = self.route(admin("GET", fn_path(*names) + "/versions/1"),
                       "GET .../versions/{n}")
        self.assertStatus(r, 200)
        self.assertEqual(r.body, sources[0].encode())
        self.assertTrue(r.header("Content-Type", "").startswith("application/javascript"), r)
        r = admin("GET", fn_path(*names) + "/versions/2")
        self.assertEqual(r.body, sources[1].encode())
        self.assertError(admin("GET", fn_path(*names) + "/versions/3"), 404, "not_found")

    def test_set_active_rolls_back(self):
        names, markers, _sources = self.deploy_versions(3)
        r = self.route(admin("PUT", fn_path(*names) + "/active", json.dumps({"version": 1}),
                             {"Content-Type": "application/json"}), "PUT .../active")
        self.assertIn(r.status, (200, 204), r)
        r = invoke(*names)
        self.assertStatus(r, 200)
        self.assertEqual((r.text, r.header("X-Fn-Version")), (markers[0], "1"))
        r = admin("PUT", fn_path(*names) + "/active", json.dumps({"version": 9}),
                  {"Content-Type": "application/json"})
        self.assertError(r, 404, "not_found")
        r = admin("PUT", fn_path(*names) + "/active", "{nope",
                  {"Content-Type": "application/json"})
        self.assertError(r, 400, "invalid_json")
        self.assertEqual(invoke(*names).text, markers[0])

    def test_delete_function(self):
        names, _markers, _sources = self.deploy_versions(2)
        self.assertStatus(invoke(*names), 200)
        r = self.route(admin("DELETE", fn_path(*names)), "DELETE /functions/{p}/{r}/{f}")
        self.assertStatus(r, 204)
        self.assertEqual(r.body, b"")
        self.assertError(invoke(*names), 404, "not_found")
        self.assertError(invoke(*names, query="version=1"), 404, "not_found")
        self.assertError(admin("DELETE", fn_path(*names)), 404, "not_found")
        # Uploading again starts afresh and works.
        m = marker()
        self.deploy(src_with(m), names)
        self.assertEqual(invoke(*names).text, m)

    def env_put(self, p, name, value):
        return admin("PUT", "/projects/%s/env/%s" % (p, name), value,
                     {"Content-Type": "text/plain"})

    def test_env_lifecycle(self):
        p = unique("p")
        names = (p, unique("r"), unique("f"))
        other = (unique("p"), names[1], names[2])
        self.deploy(ENV_SRC, names)
        self.deploy(ENV_SRC, other)
        secret = marker("secret")
        r = self.route(self.env_put(p, "API_KEY", secret), "PUT /projects/{p}/env/{NAME}")
        self.assertStatus(r, 204)
        self.assertStatus(self.env_put(p, "OTHER_1", "x"), 204)
        r = admin("GET", "/projects/%s/env" % p)
        self.assertStatus(r, 200)
        self.assertEqual(sorted(r.json().get("names", [])), ["API_KEY", "OTHER_1"])
        self.assertNotIn(secret, r.text)
        r = invoke(*names)
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["key"], secret)
        self.assertEqual(r.json()["env"], {"API_KEY": secret, "OTHER_1": "x"})
        r = invoke(*other)
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["key"], None)
        self.assertNotIn(secret, r.text)
        r = admin("DELETE", "/projects/%s/env/API_KEY" % p)
        self.assertStatus(r, 204)
        self.assertEqual(sorted(admin("GET", "/projects/%s/env" % p).json()["names"]),
                         ["OTHER_1"])
        self.assertEqual(invoke(*names).json()["key"], None)

    def test_env_invalid_name_and_auth(self):
        p = unique("p")
        r = self.route(self.env_put(p, "OK_NAME", "v"), "PUT /projects/{p}/env/{NAME}")
        self.assertStatus(r, 204)
        for bad in ("lower", "1ABC", "A-B", "A" * 129, "A%00B", "%2e%2e"):
            self.assertError(self.env_put(p, bad, "v"), 400, "invalid_name", bad)
        r = request("PUT", "/projects/%s/env/X" % p, "v")
        self.assertError(r, 401, "unauthorized")
        r = request("GET", "/projects/%s/env" % p)
        self.assertError(r, 401, "unauthorized")

    def test_management_needs_admin_token(self):
        names, _m, _s = self.deploy_versions(1)
        r = self.route(admin("GET", fn_path(*names)), "GET /functions/{p}/{r}/{f}")
        self.assertStatus(r, 200)
        for method, path in (("GET", fn_path(*names)),
                             ("GET", "/functions/%s" % names[0]),
                             ("GET", fn_path(*names) + "/versions/1"),
                             ("DELETE", fn_path(*names))):
            self.assertError(request(method, path), 401, "unauthorized", path)
            self.assertError(admin(method, path, token="wrong"), 401, "unauthorized", path)
        self.assertStatus(invoke(*names), 200)

    def test_metrics(self):
        # From 127.0.0.1, which nginx lets through.
        r = self.route(request("GET", "/metrics"), "GET /metrics")
        self.assertStatus(r, 200)
        self.assertTrue(r.header("Content-Type", "").startswith("text/plain"), r)
        self.assertRegex(r.text, re.compile(r"^# (HELP|TYPE) ", re.M))
