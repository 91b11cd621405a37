"""Isolation (SPEC §1, issue 2): a function's globals and patched built-ins
never reach another function or another project, and functions see no
engine internals, module loader, file system or process."""

import json

from fnrun_client import (FnTestCase, invoke, marker, parallel, unique, unique_fn,
                          upload)

# Sets a global and patches Object.prototype/Array.prototype/JSON when asked.
POLLUTER = r"""
module.exports = function (req, res) {
  var g = (function () { return this; })();
  var m = req.payload.set;
  g.leakedGlobal = m;
  leakedImplicit = m;
  Object.prototype.leakedProto = m;
  Array.prototype.leakedArray = m;
  String.prototype.leakedString = function () { return m; };
  Math.leakedMath = m;
  res.json({set: m});
};
"""

# Reports what it can see of the polluter's changes.
OBSERVER = r"""
module.exports = function (req, res) {
  var g = (function () { return this; })();
  function v(x) { return x === undefined ? null : String(x); }
  res.json({
    leakedGlobal: v(g.leakedGlobal),
    leakedImplicit: typeof leakedImplicit === 'undefined' ? null : String(leakedImplicit),
    leakedProto: v(({}).leakedProto),
    leakedArray: v([].leakedArray),
    leakedString: v(''.leakedString),
    leakedMath: v(Math.leakedMath),
    json: JSON.stringify({a: [1]})
  });
};
"""

CLEAN = {"leakedGlobal": None, "leakedImplicit": None, "leakedProto": None,
         "leakedArray": None, "leakedString": None, "leakedMath": None,
         "json": '{"a":[1]}'}

# The same source in two projects: a cache keyed by the source's hash must
# still give each project its own heap.
SELF_OBSERVER = r"""
module.exports = function (req, res) {
  var g = (function () { return this; })();
  var seen = g.selfMark === undefined ? null : g.selfMark;
  var proto = ({}).selfProto === undefined ? null : ({}).selfProto;
  if (req.payload && req.payload.set) {
    g.selfMark = req.payload.set;
    Object.prototype.selfProto = req.payload.set;
  }
  res.json({seen: seen, proto: proto});
};
"""


class IsolationTest(FnTestCase):

    def call_everywhere(self, names, body, n=9):
        """n calls, 3 at a time, so each worker of the pool likely runs one."""
        def one(_):
            return invoke(*names, body)
        return parallel(one, [(i,) for i in range(n)], workers=3)

    def test_globals_and_prototypes_do_not_leak(self):
        proj = unique("p")
        polluter = (proj, unique("r"), unique("f"))
        same_project = (proj, unique("r"), unique("f"))
        same_request = (proj, polluter[1], unique("f"))
        other_project = (unique("p"), polluter[1], polluter[2])
        self.deploy(POLLUTER, polluter)
        for names in (same_project, same_request, other_project):
            self.deploy(OBSERVER, names)
        m = marker("LEAK")
        for r in self.call_everywhere(polluter, json.dumps({"set": m})):
            self.assertStatus(r, 200)
            self.assertEqual(r.json(), {"set": m})
        for label, names in (("same project", same_project),
                             ("same request", same_request),
                             ("other project", other_project)):
            for r in self.call_everywhere(names, "{}"):
                self.assertStatus(r, 200, label)
                self.assertEqual(r.json(), CLEAN, label)

    def test_same_source_in_two_projects_has_two_heaps(self):
        a = unique_fn()
        b = (unique("p"), a[1], a[2])
        self.deploy(SELF_OBSERVER, a)
        self.deploy(SELF_OBSERVER, b)
        m = marker("SELF")
        for r in self.call_everywhere(a, json.dumps({"set": m})):
            self.assertStatus(r, 200)
            # A may or may not see its own earlier calls (a warm heap): either
            # nothing or its own marker.
            self.assertIn(r.json()["seen"], (None, m))
        for r in self.call_everywhere(b, "{}"):
            self.assertStatus(r, 200)
            self.assertEqual(r.json(), {"seen": None, "proto": None})

    def test_same_source_two_functions_same_project(self):
        p = unique("p")
        a = (p, unique("r"), "f")
        b = (p, unique("r"), "f")
        self.deploy(SELF_OBSERVER, a)
        self.deploy(SELF_OBSERVER, b)
        m = marker("SELF")
        for r in self.call_everywhere(a, json.dumps({"set": m})):
            self.assertStatus(r, 200)
        for r in self.call_everywhere(b, "{}"):
            self.assertStatus(r, 200)
            self.assertEqual(r.json(), {"seen": None, "proto": None})

    def test_versions_do_not_share_a_heap(self):
        names = unique_fn()
        self.deploy(SELF_OBSERVER, names)
        m = marker("V1")
        for r in self.call_everywhere(names, json.dumps({"set": m})):
            self.assertStatus(r, 200)
        self.deploy(SELF_OBSERVER + "\n// v2\n", names)
        for r in self.call_everywhere(names, "{}"):
            self.assertStatus(r, 200)
            self.assertEqual(r.header("X-Fn-Version"), "2")
            self.assertEqual(r.json(), {"seen": None, "proto": None})

    def test_no_engine_loader_fs_or_process(self):
        names = unique_fn()
        self.deploy(r"""
module.exports = function (req, res) {
  var g = (function () { return this; })();
  var names = ['Duktape', 'require', 'process', 'fs', 'readFile', 'readFileSync',
               'load', 'loadFile', 'print', 'alert', 'File', 'os', 'std', 'system',
               'exec', 'importScripts'];
  var present = [];
  for (var i = 0; i < names.length; i++) {
    if (typeof g[names[i]] !== 'undefined') present.push(names[i]);
  }
  var t = {Duktape: typeof Duktape, require: typeof require};
  var own = Object.getOwnPropertyNames(g).filter(function (n) {
    return /duk|require|file|process|^fs$|exec|spawn|open|system/i.test(n);
  });
  var viaFunction = typeof (new Function('return this')()).Duktape;
  res.json({present: present, types: t, own: own, viaFunction: viaFunction});
};
""", names)
        r = invoke(*names)
        self.assertStatus(r, 200)
        got = r.json()
        self.assertEqual(got["types"], {"Duktape": "undefined", "require": "undefined"})
        self.assertEqual(got["viaFunction"], "undefined")
        self.assertEqual(got["present"], [], got)
        self.assertEqual(got["own"], [], got)

    def test_duktape_and_require_absent_at_top_level_too(self):
        names = unique_fn()
        self.deploy("var t = [typeof Duktape, typeof require];\n"
                    "module.exports = function (req, res) { res.json(t); };", names)
        r = invoke(*names)
        self.assertStatus(r, 200)
        self.assertEqual(r.json(), ["undefined", "undefined"])

    def test_cannot_read_files(self):
        # Every way a JavaScript program could ask for a file fails: there is
        # no API, so each attempt throws and nothing of /etc/passwd comes back.
        # require() is refused at upload (SPEC §5), before anything runs.
        r = upload(*unique_fn(), "module.exports = function (req, res) {\n"
                   "  res.send(require('fs').readFileSync('/etc/passwd', 'utf8'));\n};\n")
        body = self.assertError(r, 422, "unsupported_syntax")
        self.assertEqual(body["line"], 2, body)
        names = unique_fn()
        self.deploy(r"""
module.exports = function (req, res) {
  var attempts = [
    function () { return globalThis['req' + 'uire']('fs'); },
    function () { return Duktape.modSearch('/etc/passwd'); },
    function () { return readFile('/etc/passwd'); },
    function () { return load('/etc/passwd'); },
    function () { return new XMLHttpRequest().open('GET', 'file:///etc/passwd'); },
    function () { return import_('/etc/passwd'); }
  ];
  var out = [];
  for (var i = 0; i < attempts.length; i++) {
    try { out.push('ok:' + String(attempts[i]())); }
    catch (e) { out.push('threw:' + e.name); }
  }
  res.json(out);
};
""", names)
        r = invoke(*names)
        self.assertStatus(r, 200)
        got = r.json()
        self.assertEqual(len(got), 6)
        for x in got:
            self.assertTrue(x.startswith("threw:"), got)
        self.assertNotIn("root:", r.text)

    def test_req_env_is_an_object_without_the_process_environment(self):
        # req.env exists and is an object even when the project has no
        # variables; it never contains the process's environment.
        names = unique_fn()
        self.deploy("module.exports = function (req, res) {\n"
                    "  res.json({type: typeof req.env, keys: req.env ? Object.keys(req.env) : null});\n"
                    "};", names)
        r = invoke(*names)
        self.assertStatus(r, 200)
        got = r.json()
        self.assertEqual(got["type"], "object", got)
        for k in got["keys"]:
            self.assertNotIn(k, ("PATH", "HOME", "FNRUN_STATE_DIR", "FNRUN_STORE_DIR"), got)
