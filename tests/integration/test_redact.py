"""Environment secrets (issue 4): values reach only their project's
functions as req.env, apply on the next call without a redeploy, and never
leave through the runtime's own channels — GET env, error bodies, console
lines in the error stream, the debug envelope — where every value longer
than 5 characters becomes "***". A function's own response body is its
business and is not touched."""

import json
import os
import stat

from fnrun_client import (FnTestCase, admin, find_log_lines, invoke, marker,
                          store_dir, unique, unique_fn)


def env_put(project, name, value):
    return admin("PUT", "/projects/%s/env/%s" % (project, name), value)


class RedactTest(FnTestCase):

    def setUp(self):
        self.p, self.rq, self.f = unique_fn()
        self.secret = "sk_live_" + marker("S")   # long: must be hidden
        self.short = "abcde"                      # 5 characters: left alone
        self.assertStatus(env_put(self.p, "API_KEY", self.secret), 204)
        self.assertStatus(env_put(self.p, "SHORT", self.short), 204)

    def deploy_here(self, source):
        return self.deploy(source, (self.p, self.rq, self.f))

    def test_values_reach_the_function_and_are_stored_0600(self):
        self.deploy_here("module.exports = function (req, res) {"
                         " res.json(req.env); };")
        r = invoke(self.p, self.rq, self.f)
        self.assertStatus(r, 200)
        # The function may send its own secrets: that is its choice.
        self.assertEqual(r.json(), {"API_KEY": self.secret, "SHORT": self.short})
        path = os.path.join(store_dir(), self.p, ".env", "API_KEY")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        with open(path) as f:
            self.assertEqual(f.read(), self.secret)

    def test_change_applies_on_next_call_without_redeploy(self):
        self.deploy_here("module.exports = function (req, res) {"
                         " res.send(req.env.API_KEY || 'unset'); };")
        # Several calls, so warm heaps in several workers are involved.
        for _ in range(6):
            self.assertEqual(invoke(self.p, self.rq, self.f).text, self.secret)
        new = "sk_live_" + marker("N")
        self.assertStatus(env_put(self.p, "API_KEY", new), 204)
        for _ in range(6):
            self.assertEqual(invoke(self.p, self.rq, self.f).text, new)
        self.assertStatus(admin("DELETE", "/projects/%s/env/API_KEY" % self.p), 204)
        for _ in range(6):
            self.assertEqual(invoke(self.p, self.rq, self.f).text, "unset")

    def test_other_project_does_not_see_them(self):
        other = unique("p")
        names = (other, self.rq, self.f)
        self.deploy("module.exports = function (req, res) {"
                    " res.json(req.env); };", names)
        r = invoke(*names)
        self.assertStatus(r, 200)
        self.assertEqual(r.json(), {})

    def test_get_env_lists_names_only(self):
        r = admin("GET", "/projects/%s/env" % self.p)
        self.assertStatus(r, 200)
        self.assertEqual(r.json(), {"names": ["API_KEY", "SHORT"]})
        self.assertNotIn(self.secret, r.text)

    def test_error_body_hides_values(self):
        self.deploy_here("module.exports = function (req, res) {"
                         " throw new Error('bad key ' + req.env.API_KEY + ' '"
                         " + req.env.SHORT); };")
        r = invoke(self.p, self.rq, self.f)
        body = self.assertError(r, 500, "function_error")
        self.assertNotIn(self.secret, r.text)
        self.assertIn("bad key *** " + self.short, body["message"])
        self.assertNotIn(self.secret, body.get("stack", ""))

    def test_console_lines_in_error_stream_hide_values(self):
        tag = marker("L")
        self.deploy_here("module.exports = function (req, res) {"
                         " console.log('%s', req.env.API_KEY, {k: req.env.API_KEY});"
                         " res.send('ok'); };" % tag)
        self.assertStatus(invoke(self.p, self.rq, self.f), 200)
        lines = find_log_lines(tag)
        self.assertTrue(lines, "console line not in the error stream")
        for line in lines:
            self.assertNotIn(self.secret, line)
            self.assertIn("***", line)

    def test_debug_envelope_hides_values_in_logs_and_error(self):
        self.deploy_here("module.exports = function (req, res) {"
                         " console.warn('key=' + req.env.API_KEY);"
                         " throw new Error(req.env.API_KEY); };")
        r = invoke(self.p, self.rq, self.f, debug=True)
        self.assertStatus(r, 200)
        env = r.json()
        self.assertNotIn(self.secret, r.text)
        self.assertEqual(env["logs"], [{"level": "warn", "message": "key=***"}])
        self.assertEqual(env["error"]["error"], "function_error")
        self.assertIn("***", env["error"]["message"])

    def test_function_body_is_not_redacted_in_debug_envelope(self):
        self.deploy_here("module.exports = function (req, res) {"
                         " res.send('mine: ' + req.env.API_KEY); };")
        r = invoke(self.p, self.rq, self.f, debug=True)
        self.assertStatus(r, 200)
        self.assertEqual(json.loads(r.text)["body"], "mine: " + self.secret)
