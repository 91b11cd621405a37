"""The console (issue 14, SPEC §15): what nginx serves at /console/ and the
API it needs (GET /projects, the admin test run), over HTTP; then every flow
in a real browser: tests/console/flows.mjs drives Debian's chromium through
playwright-core (installed here with npm ci from its lock file; no browser is
downloaded) against this run's stack, once for all flows, and each
test_flow_* reports its own flow's line. Screenshots go to
build/console-tests/ (FNRUN_CONSOLE_SHOTS overrides): each flow's last
state, and the step that failed."""

import html.parser
import json
import os
import re
import shutil
import subprocess

from fnrun_client import (FnTestCase, admin, admin_token, fn_path, invoke,
                          invoke_key, log_dir, port, request, state_dir,
                          unique, unique_fn, upload)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CONSOLE = os.path.join(ROOT, "nginx", "console")
TESTS = os.path.join(ROOT, "tests", "console")
CHROMIUM = "/usr/bin/chromium"
FLOWS = ("signin", "functions", "deploy", "invoke", "versions", "env", "health", "xss")
FLOWS_TIMEOUT_S = 300   # a hung browser fails the run instead of hanging it
NODE_MIN_MAJOR = 20     # playwright-core's engines


def shots_dir():
    return os.environ.get("FNRUN_CONSOLE_SHOTS") or os.path.join(ROOT, "build", "console-tests")


def npm_ci():
    """Installs playwright-core from the lock file unless the installed one is
    the locked version already. Returns an error message or None."""
    with open(os.path.join(TESTS, "package-lock.json")) as f:
        want = json.load(f)["packages"]["node_modules/playwright-core"]["version"]
    try:
        with open(os.path.join(TESTS, "node_modules", "playwright-core", "package.json")) as f:
            if json.load(f).get("version") == want:
                return None
    except (OSError, ValueError):
        pass
    p = subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund",
                        "--prefer-offline"], cwd=TESTS, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=600)
    if p.returncode != 0:
        return "npm ci failed:\n" + p.stdout.decode("utf-8", "replace")[-3000:]
    return None


def missing_tools():
    if not os.access(CHROMIUM, os.X_OK):
        return "%s is missing (make deps-test installs Debian's chromium)" % CHROMIUM
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node/npm are missing (make deps-test)"
    out = subprocess.run(["node", "--version"], stdout=subprocess.PIPE).stdout.decode()
    m = re.match(r"v(\d+)\.", out)
    if not m or int(m.group(1)) < NODE_MIN_MAJOR:
        return "Node.js %d or later is needed, found %s" % (NODE_MIN_MAJOR, out.strip())
    return None


class ConsoleServedTest(FnTestCase):
    """What nginx serves at /console/: the files, their headers, the CSP."""

    def test_console_page_and_headers(self):
        r = request("GET", "/console/")
        self.assertStatus(r, 200)
        self.assertTrue(r.header("Content-Type", "").startswith("text/html"), r)
        self.assertIn(b"fnrun console", r.body)
        csp = r.header("Content-Security-Policy", "")
        directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";") if d.strip())
        self.assertEqual(directives.get("default-src"), "'none'", csp)
        self.assertEqual(directives.get("script-src"), "'self'", csp)
        self.assertEqual(directives.get("style-src"), "'self'", csp)
        self.assertEqual(directives.get("connect-src"), "'self'", csp)
        self.assertEqual(directives.get("frame-ancestors"), "'none'", csp)
        self.assertNotIn("unsafe", csp)
        self.assertEqual(r.header("X-Frame-Options"), "DENY")
        self.assertEqual(r.header("X-Content-Type-Options"), "nosniff")
        self.assertEqual(r.header("Referrer-Policy"), "no-referrer")
        self.assertEqual(r.header("Cache-Control"), "no-cache")
        self.assertIsNone(r.header("Set-Cookie"))

    def test_console_redirect_and_files(self):
        r = request("GET", "/console")
        self.assertStatus(r, 301)
        self.assertEqual(r.header("Location"), "/console/")
        for path, ctype in (("/console/js/main.js", "text/javascript"),
                            ("/console/console.css", "text/css"),
                            ("/console/favicon.svg", "image/svg+xml"),
                            ("/console/codemirror/lib/codemirror.js", "text/javascript"),
                            ("/console/codemirror/mode/javascript/javascript.js", "text/javascript"),
                            ("/console/codemirror/addon/edit/matchbrackets.js", "text/javascript")):
            r = request("GET", path)
            self.assertStatus(r, 200, path)
            self.assertTrue(r.header("Content-Type", "").startswith(ctype), (path, r))
        r = request("GET", "/console/codemirror/lib/codemirror.css")
        self.assertIn("max-age", r.header("Cache-Control", ""))
        r = request("GET", "/console/js/main.js")
        etag = r.header("ETag")
        self.assertTrue(etag)
        r = request("GET", "/console/js/main.js", headers={"If-None-Match": etag})
        self.assertStatus(r, 304)

    def test_console_paths_that_are_not_files(self):
        for path in ("/console/nope.js", "/console/../healthz", "/console/js/../../../etc/passwd",
                     "/console/codemirror/../../../../etc/passwd", "/console/%2e%2e/secrets"):
            r = request("GET", path)
            self.assertIn(r.status, (400, 404), (path, r))
            self.assertNotIn(b"root:", r.body)
        r = request("POST", "/console/", b"x")
        self.assertError(r, 405, "method_not_allowed")

    def test_no_inline_script_or_markup_sink(self):
        """The CSP forbids inline code; the console must not need it. And
        nothing builds markup from strings (dom.js is the only door)."""

        class Check(html.parser.HTMLParser):
            def __init__(self):
                super().__init__()
                self.bad = []
                self.in_script = False

            def handle_starttag(self, tag, attrs):
                a = dict(attrs)
                if tag == "script" and not a.get("src"):
                    self.bad.append("inline <script>")
                if tag == "style":
                    self.bad.append("<style>")
                for k in a:
                    if k.startswith("on") or k == "style":
                        self.bad.append("%s attribute on <%s>" % (k, tag))

        with open(os.path.join(CONSOLE, "index.html")) as f:
            c = Check()
            c.feed(f.read())
        self.assertEqual(c.bad, [])
        sinks = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|"
                           r"\beval\(|new Function|setAttribute\(['\"]on|\.src\s*=|\.href\s*=")
        for name in sorted(os.listdir(os.path.join(CONSOLE, "js"))):
            with open(os.path.join(CONSOLE, "js", name)) as f:
                for i, line in enumerate(f, 1):
                    code = line.split("//", 1)[0] if not line.lstrip().startswith("//") else ""
                    self.assertIsNone(sinks.search(code), "%s:%d: %s" % (name, i, line.strip()))


class ConsoleApiTest(FnTestCase):
    """The API the console needs: GET /projects, sizes and dates in the
    function list, and the admin test run."""

    SRC = "module.exports = function (req, res) { res.send('hi ' + req.path); };\n"

    def test_projects_lists_projects_with_a_function_or_a_setting(self):
        p_fn, p_env, p_gone = unique("p"), unique("p"), unique("p")
        self.deploy(self.SRC, (p_fn, "r", "f"))
        self.assertStatus(admin("PUT", "/projects/%s/env/K" % p_env, b"v"), 204)
        self.deploy(self.SRC, (p_gone, "r", "f"))
        self.assertStatus(admin("DELETE", fn_path(p_gone, "r", "f")), 204)
        r = admin("GET", "/projects")
        self.assertStatus(r, 200)
        self.assertTrue(r.header("Content-Type", "").startswith("application/json"))
        projects = r.json()["projects"]
        self.assertIn(p_fn, projects)
        self.assertIn(p_env, projects)
        self.assertNotIn(p_gone, projects, "a project whose only function was deleted")
        self.assertEqual(projects, sorted(projects))
        self.assertEqual(len(projects), len(set(projects)))
        self.assertStatus(admin("DELETE", "/projects/%s/env/K" % p_env), 204)
        self.assertNotIn(p_env, admin("GET", "/projects").json()["projects"])

    def test_projects_needs_the_admin_token(self):
        self.assertError(request("GET", "/projects"), 401, "unauthorized")
        self.assertError(request("GET", "/projects", headers={"X-Fn-Key": invoke_key()}),
                         401, "unauthorized")
        self.assertError(admin("GET", "/projects", token="wrong"), 401, "unauthorized")
        self.assertError(admin("POST", "/projects", b"{}"), 405, "method_not_allowed")

    def test_function_list_has_size_and_date_of_the_active_version(self):
        p, rq, f = unique_fn()
        self.deploy(self.SRC, (p, rq, f))
        r = upload(p, rq, f, self.SRC + "// two\n")
        self.assertStatus(r, 201)
        v2 = r.json()
        items = admin("GET", "/functions/" + p).json()["functions"]
        self.assertEqual(len(items), 1)
        self.assertEqual(items[0]["active"], 2)
        self.assertEqual(items[0]["size"], v2["size"])
        self.assertEqual(items[0]["createdAt"], v2["createdAt"])

    def test_admin_test_run(self):
        p, rq, f = unique_fn()
        self.deploy(self.SRC, (p, rq, f))
        path = fn_path(p, rq, f) + "/invoke"
        r = admin("POST", path, b"{}", headers={"X-Fn-Debug": "1"})
        self.assertStatus(r, 200)
        env = r.json()
        self.assertEqual(env["status"], 200)
        self.assertEqual(env["body"], "hi " + path)
        self.assertEqual(env["version"], 1)
        r = admin("POST", path, b"{}")
        self.assertStatus(r, 200)
        self.assertEqual(r.header("X-Fn-Version"), "1")
        # The invoke key is for /invoke only; the admin token for /functions.
        self.assertError(request("POST", path, b"{}", {"X-Fn-Key": invoke_key()}), 401, "unauthorized")
        self.assertError(request("POST", path, b"{}"), 401, "unauthorized")
        self.assertError(admin("GET", path), 405, "method_not_allowed")
        self.assertError(admin("POST", fn_path(*unique_fn()) + "/invoke", b"{}"), 404, "not_found")
        self.assertStatus(invoke(p, rq, f), 200)


class ConsoleFlowsTest(FnTestCase):
    """Each flow of issue 14 in headless chromium; see tests/console/flows.mjs."""

    results = None
    output = ""
    problem = None

    @classmethod
    def setUpClass(cls):
        cls.problem = missing_tools() or npm_ci()
        if cls.problem:
            return
        out = shots_dir()
        os.makedirs(out, exist_ok=True)
        env = dict(os.environ)
        env["FNRUN_ADMIN_TOKEN_FILE"] = os.path.join(state_dir(), "secrets", "admin_token")
        try:
            p = subprocess.run(["node", os.path.join(TESTS, "flows.mjs"),
                                "--url", "http://127.0.0.1:%d" % port(), "--out", out],
                               cwd=TESTS, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=FLOWS_TIMEOUT_S)
            cls.output = p.stdout.decode("utf-8", "replace")
        except subprocess.TimeoutExpired as e:
            cls.output = (e.stdout or b"").decode("utf-8", "replace")
            cls.output += "\n(flows.mjs did not finish within %d s)" % FLOWS_TIMEOUT_S
        cls.results = {}
        for line in cls.output.splitlines():
            m = re.match(r"^(ok|FAIL) (\w+)(?:: (.*))?$", line)
            if m:
                cls.results[m.group(2)] = (m.group(1) == "ok", m.group(3) or "")

    def flow(self, name):
        if self.problem:
            self.fail(self.problem)
        got = self.results.get(name)
        if got is None:
            self.fail("flow %s did not report; flows.mjs said:\n%s" % (name, self.output[-4000:]))
        self.assertTrue(got[0], "flow %s: %s" % (name, got[1]))

    def test_flow_1_signin(self):
        self.flow("signin")

    def test_flow_2_functions(self):
        self.flow("functions")

    def test_flow_3_deploy(self):
        self.flow("deploy")

    def test_flow_4_invoke(self):
        self.flow("invoke")

    def test_flow_5_versions(self):
        self.flow("versions")

    def test_flow_6_env(self):
        self.flow("env")

    def test_flow_7_health(self):
        self.flow("health")

    def test_flow_8_nothing_returned_runs(self):
        self.flow("xss")

    def test_flow_9_token_in_no_log(self):
        """After every flow: the admin token is in no log of the stack."""
        if self.problem:
            self.fail(self.problem)
        token = admin_token().encode()
        for dirpath, _dirs, files in os.walk(log_dir()):
            for name in files:
                with open(os.path.join(dirpath, name), "rb") as f:
                    self.assertNotIn(token, f.read(), os.path.join(dirpath, name))

    def test_every_flow_is_tested(self):
        if self.problem:
            self.fail(self.problem)
        self.assertEqual(sorted(self.results), sorted(FLOWS), self.output[-2000:])
