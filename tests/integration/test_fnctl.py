"""scripts/fnctl driven end to end (issue 4, "CLI for developers and
operators") against the stack run.py started.

This file owns the CLI's integration tests only. fnctl runs as a subprocess
with the FNRUN_* environment run.py exported (FNRUN_CONFIG, FNRUN_STATE_DIR,
FNRUN_PORT, ...), so it finds the same nginx and reads the same generated
secrets through scripts/config.sh, exactly as an operator's shell would. A
stub "jq" that fails loudly comes first on PATH: fnctl must not need jq.
Every test uses fresh names (fnrun_client.unique) and checks the server's
state through fnrun_client where the CLI's own word is not enough.
"""

import json
import os
import re
import shutil
import socket
import stat
import subprocess
import tempfile

from fnrun_client import (FnTestCase, admin, fn_path, invoke, marker,
                          sha256_hex, unique, unique_fn)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FNCTL = os.path.join(ROOT, "scripts", "fnctl")
CLI_TIMEOUT_S = 60

# Secrets and URL given as values override the configuration: none of them
# may leak in from the caller's shell.
OVERRIDES = ("FNRUN_URL", "FNRUN_ADMIN_TOKEN", "FNRUN_INVOKE_KEY")


def src_with(m):
    return "module.exports = function (req, res) { res.send(%s); };\n" % json.dumps(m)


ECHO_SRC = r"""
module.exports = function (req, res) {
  console.log('got', req.body.length, 'bytes');
  console.warn('phase', req.payload && req.payload.phase);
  res.json({body: req.body, payload: req.payload, ctype: req.headers['content-type'] || null});
};
"""

ENV_SRC = r"""
module.exports = function (req, res) {
  res.json({names: Object.keys(req.env).sort(), value: req.env.FNCTL_SECRET === undefined ? null : req.env.FNCTL_SECRET});
};
"""


def closed_port():
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class FnctlTest(FnTestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="fnctl-test-")
        stub_dir = os.path.join(cls.tmp, "bin")
        os.makedirs(stub_dir)
        jq = os.path.join(stub_dir, "jq")
        with open(jq, "w") as f:
            f.write("#!/bin/sh\necho 'JQ-WAS-CALLED' >&2\nexit 127\n")
        os.chmod(jq, stat.S_IRWXU)
        cls.stub_dir = stub_dir

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # ------------------------------------------------------------ helpers

    def env(self, **extra):
        e = dict(os.environ)
        for k in OVERRIDES:
            e.pop(k, None)
        e["PATH"] = self.stub_dir + os.pathsep + e.get("PATH", "")
        e.update(extra)
        return e

    def fnctl(self, *args, stdin=b"", env=None, expect=None):
        """Runs fnctl; returns (rc, stdout bytes, stderr text). With expect,
        asserts the exit status."""
        p = subprocess.run([FNCTL] + list(args), input=stdin,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=env or self.env(), cwd=self.tmp,
                           timeout=CLI_TIMEOUT_S)
        err = p.stderr.decode("utf-8", errors="replace")
        self.assertNotIn("JQ-WAS-CALLED", err, "fnctl called jq")
        if expect is not None:
            self.assertEqual(p.returncode, expect,
                             "fnctl %r: rc=%d\nstdout=%r\nstderr=%s"
                             % (args, p.returncode, p.stdout[:2000], err))
        return p.returncode, p.stdout, err

    def out(self, *args, **kw):
        """Runs fnctl expecting success; returns stdout as text."""
        kw.setdefault("expect", 0)
        return self.fnctl(*args, **kw)[1].decode("utf-8")

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        return path

    def names(self):
        p, r, f = unique_fn()
        return (p, r, f), "%s/%s/%s" % (p, r, f)

    def deploy_cli(self, spec, source, *opts):
        path = self.write(unique("src") + ".js", source)
        return self.out("deploy", spec, path, *opts)

    # ------------------------------------------------------------ deploy

    def test_deploy_new_then_unchanged(self):
        names, spec = self.names()
        out = self.deploy_cli(spec, src_with("one"))
        self.assertRegex(out, r"^deployed %s version 1 \(sha256 %s" %
                         (re.escape(spec), sha256_hex(src_with("one"))[:12]))
        self.assertIn("active", out)
        out = self.deploy_cli(spec, src_with("one"))
        self.assertIn("unchanged", out)
        self.assertIn("version 1", out)
        out = self.deploy_cli(spec, src_with("two"))
        self.assertRegex(out, r"^deployed %s version 2 " % re.escape(spec))
        r = invoke(*names)
        self.assertStatus(r, 200)
        self.assertEqual(r.text, "two")

    def test_deploy_syntax_error(self):
        names, spec = self.names()
        path = self.write(unique("bad") + ".js", "var a = 1;\nvar b = 2;\nvar c = ;\n")
        rc, out, err = self.fnctl("deploy", spec, path, expect=1)
        self.assertIn("syntax_error", err)
        self.assertRegex(err, r"line 3\b")
        self.assertTrue(err.startswith("fnctl: syntax_error: "), err)
        self.assertEqual(out, b"")
        # Nothing was stored.
        self.assertStatus(admin("GET", fn_path(*names)), 404)

    def test_deploy_typescript_by_extension_or_flag(self):
        src = "const n: number = 2;\nexport default (req: any, res: any) => res.json(n);\n"
        names, spec = self.names()
        path = self.write(unique("ts") + ".ts", src)
        self.assertIn("version 1", self.out("deploy", spec, path))
        self.assertEqual(invoke(*names).json(), 2)
        names, spec = self.names()
        self.assertIn("version 1", self.out("deploy", spec, "-", "--ts",
                                            stdin=src.encode()))
        self.assertEqual(invoke(*names).json(), 2)
        # A .js file with types is JavaScript: a syntax error.
        _names, spec = self.names()
        path = self.write(unique("js") + ".js", src)
        _rc, _out, err = self.fnctl("deploy", spec, path, expect=1)
        self.assertIn("fnctl: syntax_error: ", err)

    def test_deploy_no_handler(self):
        _names, spec = self.names()
        path = self.write(unique("nh") + ".js", "var x = 1;\n")
        _rc, _out, err = self.fnctl("deploy", spec, path, expect=1)
        self.assertIn("fnctl: no_handler: ", err)

    def test_deploy_options_and_stdin(self):
        names, spec = self.names()
        self.deploy_cli(spec, src_with("v1"))
        # From stdin, with limits, not activated.
        rc, out, _err = self.fnctl("deploy", spec, "-", "--timeout-ms", "50",
                                   "--memory-mb", "8", "--per-call",
                                   "--no-activate",
                                   stdin=src_with("v2").encode(), expect=0)
        self.assertIn("version 2", out.decode())
        self.assertIn("not active", out.decode())
        body = admin("GET", fn_path(*names)).json()
        self.assertEqual(body["active"], 1)
        v2 = body["versions"][1]
        self.assertEqual((v2["version"], v2["timeoutMs"], v2["memoryMb"],
                          v2["isolation"]), (2, 50, 8, "per-call"))
        table = self.out("versions", spec)
        row2 = [l for l in table.splitlines() if l.startswith("2 ")][0]
        self.assertIn("50ms", row2)
        self.assertIn("per-call", row2)
        # Bad option values are bad usage.
        path = self.write(unique("x") + ".js", src_with("x"))
        self.fnctl("deploy", spec, path, "--timeout-ms", "0", expect=2)
        self.fnctl("deploy", spec, path, "--bogus", expect=2)
        self.fnctl("deploy", spec, os.path.join(self.tmp, "missing.js"), expect=2)

    # ------------------------------------------------------------ invoke

    def test_invoke_body_forms(self):
        names, spec = self.names()
        self.deploy_cli(spec, ECHO_SRC)
        body = '{"phase":"before","request":{"url":"https://api.example.com/x"}}'
        # As an argument.
        got = json.loads(self.out("invoke", spec, body))
        self.assertEqual(got["payload"]["phase"], "before")
        self.assertEqual(got["body"], body)
        self.assertEqual(got["ctype"], "application/json")
        # From a file (@file), byte for byte, including a leading @-free text.
        text = 'plain text with "quotes", $dollars and a\nnewline'
        path = self.write(unique("body") + ".txt", text)
        got = json.loads(self.out("invoke", spec, "@" + path))
        self.assertEqual(got["body"], text)
        self.assertEqual(got["payload"], text)
        # From stdin ("-").
        stdin_body = json.dumps({"phase": "after", "response": {"status": 200}})
        got = json.loads(self.out("invoke", spec, "-", stdin=stdin_body.encode()))
        self.assertEqual(got["payload"]["phase"], "after")
        self.assertEqual(got["body"], stdin_body)
        # @ of a pipe: read once, sent whole.
        got = json.loads(self.out("invoke", spec, "@/dev/stdin", stdin=b'{"via":"pipe"}'))
        self.assertEqual(got["payload"], {"via": "pipe"})
        self.assertEqual(got["ctype"], "application/json")
        # No body at all.
        got = json.loads(self.out("invoke", spec))
        self.assertEqual(got["body"], "")
        # A missing @file is bad usage.
        self.fnctl("invoke", spec, "@" + os.path.join(self.tmp, "nope"), expect=2)

    def test_invoke_version_pin(self):
        names, spec = self.names()
        m1, m2 = marker("a"), marker("b")
        self.deploy_cli(spec, src_with(m1))
        self.deploy_cli(spec, src_with(m2))
        self.assertEqual(self.out("invoke", spec), m2)
        self.assertEqual(self.out("invoke", spec, "--version", "1"), m1)
        self.assertEqual(self.out("invoke", "--version=2", spec, "{}"), m2)
        _rc, _out, err = self.fnctl("invoke", spec, "--version", "9", expect=1)
        self.assertIn("not_found", err)
        self.fnctl("invoke", spec, "--version", "x", expect=2)

    def test_invoke_debug_shows_logs(self):
        names, spec = self.names()
        self.deploy_cli(spec, ECHO_SRC)
        out = self.out("invoke", spec, '{"phase":"before"}', "--debug")
        self.assertRegex(out, r"(?m)^status: 200$")
        self.assertRegex(out, r"(?mi)^  content-type: application/json")
        self.assertIn('"phase":"before"', out)
        self.assertRegex(out, r"(?m)^  log: got 18 bytes$")
        self.assertRegex(out, r"(?m)^  warn: phase before$")
        self.assertRegex(out, r"(?m)^duration: [0-9.]+ ms$")
        self.assertRegex(out, r"(?m)^memory peak: .*\([0-9]+ bytes\)$")
        self.assertRegex(out, r"(?m)^version: 1$")
        # --json: the envelope as the server sent it.
        env = json.loads(self.out("--json", "invoke", spec, "{}", "--debug"))
        self.assertEqual(env["status"], 200)
        self.assertEqual([l["level"] for l in env["logs"]], ["log", "warn"])
        self.assertIn("durationMs", env)
        self.assertIn("memoryPeakBytes", env)

    def test_invoke_function_status_and_errors(self):
        names, spec = self.names()
        self.deploy_cli(spec, r"""
module.exports = function (req, res) {
  if (req.payload === 'throw') throw new Error('kaboom');
  res.send('teapot body', 418);
};
""")
        # The function's own non-2xx answer: its body, exit 1.
        rc, out, err = self.fnctl("invoke", spec, expect=1)
        self.assertEqual(out, b"teapot body")
        self.assertNotIn("fnctl:", err)
        # A runtime error: the §4 error on stderr, exit 1, nothing on stdout.
        rc, out, err = self.fnctl("invoke", spec, "throw", expect=1)
        self.assertEqual(out, b"")
        self.assertIn("fnctl: function_error: ", err)
        self.assertIn("kaboom", err)
        # The same under --debug: the envelope is shown and the exit is 1.
        rc, out, err = self.fnctl("invoke", spec, "throw", "--debug", expect=1)
        self.assertRegex(out.decode(), r"(?m)^status: 500$")
        self.assertIn("function_error", err)

    # ------------------------------------------------------------ versions, source, ls

    def test_versions_table_marks_active(self):
        names, spec = self.names()
        s1, s2 = src_with("first"), src_with("second")
        self.deploy_cli(spec, s1)
        self.deploy_cli(spec, s2)
        out = self.out("versions", spec)
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ["VERSION", "ACTIVE", "SIZE", "SHA256",
                                            "CREATED", "LIMITS"])
        rows = {l.split()[0]: l for l in lines[1:]}
        self.assertEqual(sorted(rows), ["1", "2"], out)
        # Only version 2 is marked active; each row shows its size and hash.
        self.assertEqual(rows["2"].split()[1], "*", out)
        self.assertNotEqual(rows["1"].split()[1], "*", out)
        self.assertEqual(rows["1"].split()[1], str(len(s1)), out)
        self.assertIn(sha256_hex(s1)[:12], rows["1"])
        self.assertIn(sha256_hex(s2)[:12], rows["2"])
        self.assertNotIn(sha256_hex(s2)[:13], rows["2"])
        self.assertRegex(rows["1"], r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\b")
        # After a rollback the mark moves.
        self.out("rollback", spec, "1")
        rows = {l.split()[0]: l for l in self.out("versions", spec).splitlines()[1:]}
        self.assertEqual(rows["1"].split()[1], "*")
        self.assertNotEqual(rows["2"].split()[1], "*")

    def test_source_byte_equal(self):
        names, spec = self.names()
        # Non-ASCII, tabs, CRLF and no final newline: all must survive.
        s1 = "// caf\u00e9 \u2603\r\nmodule.exports = function (req, res) {\tres.send('v1'); };"
        s2 = src_with("v2")
        self.deploy_cli(spec, s1)
        self.deploy_cli(spec, s2)
        self.assertEqual(self.fnctl("source", spec, expect=0)[1], s2.encode())
        self.assertEqual(self.fnctl("source", spec, "1", expect=0)[1], s1.encode("utf-8"))
        self.assertEqual(self.fnctl("source", spec, "2", expect=0)[1], s2.encode())
        _rc, _out, err = self.fnctl("source", spec, "3", expect=1)
        self.assertIn("not_found", err)

    def test_ls_project(self):
        p = unique("p")
        self.deploy_cli("%s/ra/fa" % p, src_with("a1"))
        self.deploy_cli("%s/ra/fa" % p, src_with("a2"))
        self.deploy_cli("%s/rb/fb" % p, src_with("b1"))
        out = self.out("ls", p)
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ["REQUEST/FN", "ACTIVE"])
        self.assertEqual([l.split() for l in lines[1:]], [["ra/fa", "2"], ["rb/fb", "1"]])
        body = json.loads(self.out("--json", "ls", p))
        self.assertEqual(len(body["functions"]), 2)

    def test_projects(self):
        p = unique("p")
        self.deploy_cli("%s/ra/fa" % p, src_with("a1"))
        names = self.out("projects").splitlines()
        self.assertIn(p, names)
        self.assertEqual(names, sorted(names))
        body = json.loads(self.out("--json", "projects"))
        self.assertIn(p, body["projects"])
        self.fnctl("projects", "extra", expect=2)

    # ------------------------------------------------------------ rollback, rm

    def test_rollback_then_invoke(self):
        names, spec = self.names()
        m1, m2 = marker("old"), marker("new")
        self.deploy_cli(spec, src_with(m1))
        self.deploy_cli(spec, src_with(m2))
        self.assertEqual(self.out("invoke", spec), m2)
        out = self.out("rollback", spec, "1")
        self.assertIn("version 1", out)
        self.assertEqual(self.out("invoke", spec), m1)
        r = invoke(*names)
        self.assertEqual(r.text, m1)
        self.assertEqual(r.header("X-Fn-Version"), "1")
        _rc, _out, err = self.fnctl("rollback", spec, "7", expect=1)
        self.assertIn("not_found", err)
        self.fnctl("rollback", spec, "0", expect=2)
        self.fnctl("rollback", spec, expect=2)

    def test_rm_then_invoke(self):
        names, spec = self.names()
        self.deploy_cli(spec, src_with("doomed"))
        self.assertEqual(self.out("invoke", spec), "doomed")
        self.assertEqual(self.out("rm", spec).strip(), "deleted %s" % spec)
        rc, out, err = self.fnctl("invoke", spec, expect=1)
        self.assertIn("not_found", err)
        self.assertTrue(err.startswith("fnctl: not_found: "), err)
        self.assertEqual(out, b"")
        self.assertStatus(invoke(*names), 404)
        # Deleting it again is an error too.
        _rc, _out, err = self.fnctl("rm", spec, expect=1)
        self.assertIn("not_found", err)

    # ------------------------------------------------------------ env

    def test_env_set_ls_unset(self):
        p = unique("p")
        spec = "%s/r/envfn" % p
        self.deploy_cli(spec, ENV_SRC)
        value = "v-" + marker("secret")
        # Value from stdin, with the newline echo adds: stored without it.
        rc, out, err = self.fnctl("env", "set", p, "FNCTL_SECRET", stdin=(value + "\n").encode(),
                                  expect=0)
        self.assertNotIn(value, out.decode() + err)
        self.assertIn("FNCTL_SECRET", out.decode())
        # Explicit "-" and an argument work too; neither echoes the value.
        other = "w-" + marker("other")
        rc, out, err = self.fnctl("env", "set", p, "FNCTL_OTHER", other, expect=0)
        self.assertNotIn(other, out.decode() + err)
        rc, out, err = self.fnctl("env", "set", p, "FNCTL_THIRD", "-", stdin=b"third-value",
                                  expect=0)
        # ls: names only, never a value.
        rc, out, err = self.fnctl("env", "ls", p, expect=0)
        self.assertEqual(out.decode().split(), ["FNCTL_OTHER", "FNCTL_SECRET", "FNCTL_THIRD"])
        self.assertNotIn(value, out.decode() + err)
        self.assertNotIn(other, out.decode() + err)
        rc, out, err = self.fnctl("--json", "env", "ls", p, expect=0)
        self.assertEqual(sorted(json.loads(out)["names"]),
                         ["FNCTL_OTHER", "FNCTL_SECRET", "FNCTL_THIRD"])
        self.assertNotIn(value, out.decode())
        # The function sees the exact value (no trailing newline).
        got = json.loads(self.out("invoke", spec))
        self.assertEqual(got["value"], value)
        # unset: gone from ls and from req.env.
        out = self.out("env", "unset", p, "FNCTL_SECRET")
        self.assertIn("FNCTL_SECRET", out)
        self.assertEqual(self.out("env", "ls", p).split(), ["FNCTL_OTHER", "FNCTL_THIRD"])
        got = json.loads(self.out("invoke", spec))
        self.assertIsNone(got["value"])
        self.assertEqual(got["names"], ["FNCTL_OTHER", "FNCTL_THIRD"])
        _rc, _out, err = self.fnctl("env", "unset", p, "FNCTL_SECRET", expect=1)
        self.assertIn("not_found", err)
        # Bad names and a bad env subcommand are bad usage.
        self.fnctl("env", "set", p, "lower_case", "x", expect=2)
        self.fnctl("env", "frob", p, expect=2)
        self.fnctl("env", expect=2)

    # ------------------------------------------------------------ --json

    def test_json_output(self):
        names, spec = self.names()
        self.deploy_cli(spec, src_with("j1"))
        out = self.out("--json", "deploy", spec, self.write(unique("j") + ".js", src_with("j2")))
        up = json.loads(out)
        self.assertEqual((up["version"], up["active"]), (2, True))
        body = json.loads(self.out("--json", "versions", spec))
        self.assertEqual(body["active"], 2)
        self.assertEqual([v["version"] for v in body["versions"]], [1, 2])
        # The flag may come after the command too.
        self.assertEqual(json.loads(self.out("versions", spec, "--json")), body)
        # An error: the server's JSON on stdout, exit 1.
        missing = "%s/%s/%s" % unique_fn()
        rc, out, _err = self.fnctl("--json", "versions", missing, expect=1)
        err = json.loads(out)
        self.assertEqual(err["error"], "not_found")
        self.assertIsInstance(err["message"], str)
        rc, out, _err = self.fnctl("--json", "deploy", spec,
                                   self.write(unique("b") + ".js", "var = ;"), expect=1)
        err = json.loads(out)
        self.assertEqual(err["error"], "syntax_error")
        self.assertEqual(err["line"], 1)

    # ------------------------------------------------------------ status

    def test_status(self):
        out = self.out("status")
        self.assertRegex(out, r"^fnrun at http://127\.0\.0\.1:%s: ok\n"
                         % os.environ["FNRUN_PORT"])
        self.assertRegex(out, r"(?m)^  store: +ok$")
        self.assertRegex(out, r"(?m)^  memcached: +ok$")
        m = re.search(r"(?m)^  workers: +(\d+) alive, (\d+) busy", out)
        self.assertIsNotNone(m, out)
        # Other modules' hostile cases may have a worker in replacement.
        self.assertGreaterEqual(int(m.group(1)), 1, out)
        self.assertLessEqual(int(m.group(2)), int(m.group(1)), out)
        self.assertRegex(out, r"(?m)^  invocations: +\d+ total")
        self.assertRegex(out, r"(?m)^  cache: +\d+ hits, \d+ misses, \d+ rejects$")
        self.assertRegex(out, r"(?m)^  warm heaps: +\d+")
        body = json.loads(self.out("--json", "status"))
        self.assertEqual(body["health"]["status"], "ok")
        self.assertIn("fnrun_workers_alive", body["metrics"])
        # /healthz needs no secret: status works with a wrong one.
        self.out("status", env=self.env(FNRUN_ADMIN_TOKEN="bad", FNRUN_INVOKE_KEY="bad"))

    def test_status_counts_outcomes(self):
        names, spec = self.names()
        self.deploy_cli(spec, "module.exports = function (req, res) { throw new Error('x'); };")
        self.fnctl("invoke", spec, expect=1)
        out = self.out("status")
        self.assertRegex(out, r"(?m)^  invocations: +\d+ total \(.*function_error [1-9]")

    # ------------------------------------------------------------ usage and reachability

    def test_bad_names_exit_2_without_contacting_server(self):
        # Nothing listens at this URL: reaching for it would be exit 1.
        url = "http://127.0.0.1:%d" % closed_port()
        src = self.write(unique("s") + ".js", src_with("x"))
        cases = [
            ("deploy", "p/r/../x", src),
            ("deploy", "p/r", src),
            ("deploy", "p/r/f/g", src),
            ("deploy", "-p/r/f", src),
            ("invoke", "p/r/f.js"),
            ("invoke", "p/r/" + "f" * 65),
            ("versions", "p/r /f"),
            ("versions", "p/r/f\nx"),
            ("source", "p/r/f", "0"),
            ("rollback", "p/r/f", "one"),
            ("rm", "%2e%2e/r/f"),
            ("ls", "a/b"),
            ("ls", "_p"),
            ("env", "ls", "p.q"),
            ("env", "set", "p", "1BAD", "v"),
            ("env", "unset", "p", "bad-name"),
            ("versions",),
            ("versions", "p/r/f", "extra"),
        ]
        for args in cases:
            rc, out, err = self.fnctl("--url", url, *args)
            self.assertEqual(rc, 2, "%r: rc=%d stderr=%s" % (args, rc, err))
            self.assertTrue(err.startswith("fnctl: "), "%r: %s" % (args, err))
            self.assertNotIn("cannot reach", err)
            self.assertEqual(out, b"")

    def test_unknown_subcommand_and_help(self):
        rc, out, err = self.fnctl("frobnicate", expect=2)
        self.assertIn("unknown command", err)
        self.assertIn("usage:", err)
        self.assertEqual(out, b"")
        rc, out, err = self.fnctl(expect=2)
        self.assertIn("usage:", err)
        for args in (("help",), ("--help",), ("-h",)):
            out = self.out(*args)
            for cmd in ("deploy", "invoke", "versions", "ls", "source", "rollback",
                        "rm", "env set", "env unset", "env ls", "status"):
                self.assertIn(cmd, out, "%r lacks %s" % (args, cmd))

    def test_unreachable_server(self):
        url = "http://127.0.0.1:%d" % closed_port()
        rc, out, err = self.fnctl("--url", url, "versions", "p/r/f", expect=1)
        self.assertIn("cannot reach %s" % url, err)
        rc, out, err = self.fnctl("status", env=self.env(FNRUN_URL=url), expect=1)
        self.assertIn("cannot reach %s" % url, err)

    def test_url_override_reaches_the_stack(self):
        names, spec = self.names()
        self.deploy_cli(spec, src_with("via-url"))
        url = "http://127.0.0.1:%s/" % os.environ["FNRUN_PORT"]
        # The configured port is wrong; --url and FNRUN_URL win over it.
        env = self.env(FNRUN_PORT=str(closed_port()))
        self.assertEqual(self.out("--url", url, "invoke", spec, env=env), "via-url")
        env["FNRUN_URL"] = url
        self.assertEqual(self.out("invoke", spec, env=env), "via-url")

    def test_wrong_secrets(self):
        names, spec = self.names()
        self.deploy_cli(spec, src_with("guarded"))
        for args in (("versions", spec), ("ls", names[0]), ("env", "ls", names[0])):
            rc, out, err = self.fnctl(*args, env=self.env(FNRUN_ADMIN_TOKEN="bad"), expect=1)
            self.assertIn("unauthorized", err)
            self.assertTrue(err.startswith("fnctl: unauthorized: "), err)
        path = self.write(unique("s") + ".js", src_with("nope"))
        rc, out, err = self.fnctl("deploy", spec, path,
                                  env=self.env(FNRUN_ADMIN_TOKEN="bad"), expect=1)
        self.assertIn("unauthorized", err)
        rc, out, err = self.fnctl("invoke", spec, env=self.env(FNRUN_INVOKE_KEY="bad"),
                                  expect=1)
        self.assertIn("unauthorized", err)
        rc, out, err = self.fnctl("--json", "invoke", spec,
                                  env=self.env(FNRUN_INVOKE_KEY="bad"), expect=1)
        self.assertEqual(json.loads(out)["error"], "unauthorized")
        # The right secrets given as values work as well as the files.
        with open(os.path.join(os.environ["FNRUN_STATE_DIR"], "secrets", "invoke_key")) as f:
            key = f.read().strip()
        self.assertEqual(self.out("invoke", spec, env=self.env(FNRUN_INVOKE_KEY=key)),
                         "guarded")
        # The upload with the wrong token stored nothing.
        self.assertEqual(admin("GET", fn_path(*names)).json()["active"], 1)
        self.assertEqual(len(admin("GET", fn_path(*names)).json()["versions"]), 1)
