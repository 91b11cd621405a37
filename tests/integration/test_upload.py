"""Uploading functions (SPEC §5): both forms, versions, the compile check,
handler detection and the size limit."""

import json

from fnrun_client import (FnTestCase, admin, invoke, marker, sha256_hex,
                          unique_fn, upload)

MAX_SOURCE = 256 * 1024


def marker_source(m):
    return "module.exports = function (req, res) { res.send(%s); };\n" % json.dumps(m)


class UploadTest(FnTestCase):

    def check_created(self, r, names, source, version, active=True, status=201,
                      what=None):
        p, rq, f = names
        self.assertStatus(r, status, what)
        self.assertTrue(r.header("Content-Type", "").startswith("application/json"), r)
        body = r.json()
        raw = source.encode("utf-8") if isinstance(source, str) else source
        self.assertEqual(body.get("projectId"), p, body)
        self.assertEqual(body.get("requestId"), rq, body)
        self.assertEqual(body.get("fnName"), f, body)
        self.assertEqual(body.get("version"), version, body)
        self.assertEqual(body.get("sha256"), sha256_hex(raw), body)
        self.assertEqual(body.get("size"), len(raw), body)
        self.assertIs(body.get("active"), active, body)
        return body

    def test_put_creates_version_1(self):
        names = unique_fn()
        m = marker()
        src = marker_source(m)
        r = upload(*names, src, via="put")
        self.check_created(r, names, src, 1)
        r = invoke(*names)
        self.assertStatus(r, 200)
        self.assertEqual(r.text, m)
        self.assertEqual(r.header("X-Fn-Version"), "1")

    def test_post_json_creates_version_1(self):
        names = unique_fn()
        m = marker()
        src = marker_source(m)
        r = upload(*names, src, via="post")
        self.check_created(r, names, src, 1)
        r = invoke(*names)
        self.assertStatus(r, 200)
        self.assertEqual(r.text, m)

    def test_utf8_source_hash_and_size_are_of_bytes(self):
        names = unique_fn()
        src = "// h\u00e9llo \u2603\n" + marker_source("caf\u00e9 \u2603")
        r = upload(*names, src, via="put")
        self.check_created(r, names, src, 1)
        r = invoke(*names)
        self.assertStatus(r, 200)
        self.assertEqual(r.body, "caf\u00e9 \u2603".encode("utf-8"))

    def test_second_source_is_version_2_and_active(self):
        names = unique_fn()
        m1, m2 = marker(), marker()
        self.check_created(upload(*names, marker_source(m1)), names, marker_source(m1), 1)
        self.check_created(upload(*names, marker_source(m2), via="post"), names,
                           marker_source(m2), 2)
        r = invoke(*names)
        self.assertStatus(r, 200)
        self.assertEqual(r.text, m2)
        self.assertEqual(r.header("X-Fn-Version"), "2")

    def test_same_source_again_is_200_same_version(self):
        names = unique_fn()
        src = marker_source(marker())
        first = self.check_created(upload(*names, src), names, src, 1)
        for via in ("put", "post"):
            r = upload(*names, src, via=via)
            again = self.check_created(r, names, src, 1, status=200,
                                       what="same source again by %s" % via)
            self.assertEqual(again["sha256"], first["sha256"])

    def test_old_source_again_after_another_is_a_new_version(self):
        # Only the *active* version's source answers 200 (SPEC §5).
        names = unique_fn()
        a, b = marker_source(marker("A")), marker_source(marker("B"))
        self.check_created(upload(*names, a), names, a, 1)
        self.check_created(upload(*names, b), names, b, 2)
        self.check_created(upload(*names, a), names, a, 3)
        self.assertEqual(invoke(*names).header("X-Fn-Version"), "3")

    def test_activate_false_stores_without_activating(self):
        names = unique_fn()
        m1, m2 = marker("old"), marker("new")
        self.check_created(upload(*names, marker_source(m1)), names, marker_source(m1), 1)
        r = upload(*names, marker_source(m2), query="activate=false")
        self.check_created(r, names, marker_source(m2), 2, active=False)
        r = invoke(*names)
        self.assertStatus(r, 200)
        self.assertEqual((r.text, r.header("X-Fn-Version")), (m1, "1"))
        r = invoke(*names, query="version=2")
        self.assertStatus(r, 200)
        self.assertEqual((r.text, r.header("X-Fn-Version")), (m2, "2"))
        # and the POST form takes the same query
        m3 = marker("post")
        r = upload(*names, marker_source(m3), via="post", query="activate=false")
        self.check_created(r, names, marker_source(m3), 3, active=False)
        self.assertEqual(invoke(*names).text, m1)

    def test_activate_false_on_first_upload_leaves_nothing_active(self):
        names = unique_fn()
        src = marker_source(marker())
        r = upload(*names, src, query="activate=false")
        self.check_created(r, names, src, 1, active=False)
        self.assertError(invoke(*names), 404, "not_found")
        r = invoke(*names, query="version=1")
        self.assertStatus(r, 200)

    def test_syntax_error_reports_line_3(self):
        src = ("module.exports = function (req, res) {\n"
               "  var x = 1;\n"
               "  var y = ;\n"
               "  res.send('x');\n"
               "};\n")
        for via in ("put", "post"):
            names = unique_fn()
            r = upload(*names, src, via=via)
            body = self.assertError(r, 422, "syntax_error", via)
            self.assertEqual(body.get("line"), 3, body)
            self.assertError(invoke(*names), 404, "not_found", "nothing stored")

    def test_syntax_error_reports_line_7(self):
        src = "\n" * 6 + "function action(req, res) { res.send('a' }\n"
        names = unique_fn()
        body = self.assertError(upload(*names, src), 422, "syntax_error")
        self.assertEqual(body.get("line"), 7, body)

    def test_no_handler(self):
        for src in ("var x = 1;\n",
                    "module.exports = 42;\n",
                    "function other(req, res) { res.send('x'); }\n",
                    "var action = 5;\n",
                    ""):
            names = unique_fn()
            r = upload(*names, src)
            self.assertError(r, 422, "no_handler", repr(src))
            self.assertError(invoke(*names), 404, "not_found", "nothing stored")

    def test_source_at_limit_is_accepted(self):
        head = "module.exports = function (req, res) { res.send('big'); };\n//"
        src = head + "x" * (MAX_SOURCE - len(head))
        self.assertEqual(len(src.encode()), MAX_SOURCE)
        names = unique_fn()
        self.check_created(upload(*names, src), names, src, 1)
        self.assertEqual(invoke(*names).text, "big")

    def test_source_over_limit_is_413(self):
        head = "module.exports = function (req, res) { res.send('big'); };\n//"
        src = head + "x" * (MAX_SOURCE + 1 - len(head))
        for via in ("put", "post"):
            names = unique_fn()
            self.assertError(upload(*names, src, via=via), 413, "payload_too_large", via)
            self.assertError(invoke(*names), 404, "not_found", "nothing stored")

    def test_post_invalid_json_is_400(self):
        for body in (b"{not json", b"", b"[1,2", b'{"projectId": "p"'):
            r = admin("POST", "/functions", body, {"Content-Type": "application/json"})
            self.assertError(r, 400, "invalid_json", repr(body))

    def test_post_json_missing_or_mistyped_fields_is_400(self):
        p, rq, f = unique_fn()
        for doc in ({"projectId": p, "requestId": rq, "fnName": f},
                    {"projectId": p, "requestId": rq, "fnDefinition": "x"},
                    {"projectId": p, "requestId": rq, "fnName": f, "fnDefinition": 42},
                    {"projectId": 7, "requestId": rq, "fnName": f,
                     "fnDefinition": marker_source("x")},
                    [p, rq, f]):
            r = admin("POST", "/functions", json.dumps(doc),
                      {"Content-Type": "application/json"})
            self.assertEqual(r.status, 400, "%r: %r" % (doc, r))
            body = r.try_json()
            self.assertIsInstance(body, dict, r)
            self.assertIn(body.get("error"), ("invalid_json", "invalid_name"), r)
        self.assertError(invoke(p, rq, f), 404, "not_found", "nothing stored")

    def test_handler_module_exports(self):
        names = unique_fn()
        self.deploy("module.exports = function (req, res) { res.send('cjs'); };", names)
        self.assertEqual(invoke(*names).text, "cjs")

    def test_handler_top_level_action(self):
        names = unique_fn()
        self.deploy("function action(req, res) {\n  res.send('action');\n}\n", names)
        self.assertEqual(invoke(*names).text, "action")

    def test_module_exports_wins_over_action(self):
        names = unique_fn()
        self.deploy("function action(req, res) { res.send('action'); }\n"
                    "module.exports = function (req, res) { res.send('cjs'); };\n", names)
        self.assertEqual(invoke(*names).text, "cjs")

    def test_top_level_runs_once_per_heap_not_per_call_semantics(self):
        # The top level's values are visible to the handler.
        names = unique_fn()
        self.deploy("var greeting = 'hi ' + (1 + 2);\n"
                    "module.exports = function (req, res) { res.send(greeting); };", names)
        self.assertEqual(invoke(*names).text, "hi 3")

    def test_top_level_is_module_scoped(self):
        # README "Writing a function": the source is a module function's
        # body; its declarations are not globals, globalThis.x is one.
        names = unique_fn()
        self.deploy("var topvar = 1;\nfunction helper() { return 2; }\n"
                    "globalThis.made = 3;\n"
                    "var self = this;\n"
                    "module.exports = function (req, res) {\n"
                    "  res.json([typeof globalThis.topvar, typeof globalThis.helper,\n"
                    "            topvar + helper(), made, self === exports,\n"
                    "            typeof globalThis.module, typeof globalThis.exports]);\n"
                    "};\n", names)
        r = invoke(*names)
        self.assertStatus(r, 200)
        self.assertEqual(r.json(), ["undefined", "undefined", 3, 3, True,
                                    "undefined", "undefined"])

    def test_module_scoped_action_is_found(self):
        names = unique_fn()
        self.deploy("'use strict';\nvar n = 'module';\n"
                    "function action(req, res) {\n"
                    "  res.send(n + ' ' + typeof globalThis.action);\n}\n", names)
        self.assertEqual(invoke(*names).text, "module undefined")

    def test_sources_that_break_out_of_the_module_are_syntax_errors(self):
        # Each would close the module function early, leave it open or
        # return from it: refused at upload, nothing stored or run.
        for src in ("}\nmodule.exports = function (req, res) { res.send('out'); };\n"
                    "(function () {\n",
                    "module.exports = function (req, res) { res.send('x'); };\n})",
                    "module.exports = function (req, res) { res.send('x'); };\n/*",
                    "return function (req, res) { res.send('spoof'); };\n",
                    "module.exports = function (req, res) { res.send('x'); };\n"
                    "})(); (function () {\n",
                    "function action(req, res) { res.send('x'); }\n{"):
            names = unique_fn()
            self.assertError(upload(*names, src), 422, "syntax_error", repr(src))
            self.assertError(invoke(*names), 404, "not_found", "nothing stored")
        # A last line that is a comment is fine.
        names = unique_fn()
        self.deploy("function action(req, res) { res.send('c'); } // end", names)
        self.assertEqual(invoke(*names).text, "c")

    def test_seed_payload_style(self):
        # The forwarding server's convention (SPEC §6) with an action().
        names = unique_fn()
        self.deploy(r"""
function action(req, res) {
  var p = req.payload;
  if (p.phase === 'before') {
    p.request.headers['x-added'] = 'yes';
    res.json(p.request);
  } else {
    res.json({status: p.response.status, body: p.response.body.toUpperCase()});
  }
}
""", names)
        before = {"phase": "before",
                  "request": {"method": "GET", "url": "https://api.example/x",
                              "headers": {"accept": "*/*"}, "body": ""}}
        r = invoke(*names, json.dumps(before))
        self.assertStatus(r, 200)
        exp = dict(before["request"])
        exp["headers"] = {"accept": "*/*", "x-added": "yes"}
        self.assertEqual(r.json(), exp)
        after = dict(before, phase="after",
                     response={"status": 200, "headers": {}, "body": "abc"})
        r = invoke(*names, json.dumps(after))
        self.assertEqual(r.json(), {"status": 200, "body": "ABC"})
