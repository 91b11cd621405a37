"""The system install (issue 5, SPEC §10): scripts/install.sh --destdir into a
temporary directory, then the tree it laid out, the systemd unit, and the
nginx site checked with nginx -t. It never touches the real /etc: --destdir
creates no user, changes no owner and runs neither systemctl nor nginx, and
the nginx -t here runs on a small nginx.conf of the test's own, with every
path nginx opens (pid, logs, temp dirs) inside the temporary directory.

The local stack's own rendered nginx.conf needs no nginx -t here:
scripts/stack.sh start runs nginx -t on it before it starts anything and
stops if nginx rejects it, and run.py starts the stack with stack.sh before
any test runs. What is checked here is that the local run and the system
site are rendered from one server block (nginx/fnrun-server.conf.tmpl)."""

import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
INSTALL = os.path.join(ROOT, "scripts", "install.sh")
SERVER_TMPL = os.path.join(ROOT, "nginx", "fnrun-server.conf.tmpl")

LIBDIR = "/usr/local/lib/fnrun"
UNIT = "/etc/systemd/system/fnrun.service"
SITE = "/etc/nginx/sites-available/fnrun"
SITE_LINK = "/etc/nginx/sites-enabled/fnrun"
SECRETS = ("admin_token", "invoke_key", "cache_key")
PORT = 18099
WORKERS = 3
PLACEHOLDER = re.compile(r"@[A-Z_]+@")
# Real paths an install would write; a --destdir install must leave them be.
REAL_PATHS = ("/etc/fnrun", UNIT, SITE, SITE_LINK, LIBDIR, "/var/lib/fnrun",
              "/var/log/fnrun", "/etc/logrotate.d/fnrun")


def snapshot(paths):
    out = {}
    for p in paths:
        try:
            st = os.lstat(p)
            out[p] = (st.st_mode, st.st_mtime_ns, st.st_ino)
        except FileNotFoundError:
            out[p] = None
    return out


def worker_bin():
    """The worker the suite runs (run.py sets FNRUN_WORKER_BIN), so that
    install.sh needs no build; else install.sh's own default."""
    b = os.environ.get("FNRUN_WORKER_BIN")
    return b if b and os.access(b, os.X_OK) else None


def read_kv(path, sep):
    """key -> value of a "key = value" (sep "=") file, comments skipped."""
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            k, _, v = line.partition(sep)
            out[k.strip()] = v.strip()
    return out


def read_unit(path):
    """section -> key -> [values] of a systemd unit file."""
    units, section = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = units.setdefault(line.strip("[]"), {})
                continue
            k, _, v = line.partition("=")
            section.setdefault(k.strip(), []).append(v.strip())
    return units


def code_lines(path):
    with open(path) as f:
        return [l for l in f.read().splitlines() if not l.lstrip().startswith("#")]


class InstallTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="fnrun-install-")
        cls.dest = os.path.join(cls.tmp, "root")
        cls.before = snapshot(REAL_PATHS)
        cls.out = cls.install("--workers", str(WORKERS), "--port", str(PORT))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def install(cls, *args):
        cmd = [INSTALL, "--destdir", cls.dest, "--no-start"]
        if worker_bin():
            cmd += ["--bin", worker_bin()]
        # The suite's FNRUN_* variables (another port, state dir, ...) stay
        # set: install.sh must ignore them.
        p = subprocess.run(cmd + list(args), cwd=ROOT, timeout=300,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = p.stdout.decode("utf-8", "replace")
        if p.returncode != 0:
            raise AssertionError("install.sh %s failed (%d):\n%s"
                                 % (" ".join(args), p.returncode, out))
        return out

    def path(self, p):
        return os.path.join(self.dest, p.lstrip("/"))

    def secret(self, name):
        with open(self.path("/etc/fnrun/secrets/" + name), "rb") as f:
            return f.read()

    def assertMode(self, p, mode, kind=stat.S_ISREG):
        st = os.lstat(self.path(p))
        self.assertTrue(kind(st.st_mode), "%s: wrong file type" % p)
        self.assertEqual(stat.S_IMODE(st.st_mode), mode,
                         "%s: mode %o, want %o" % (p, stat.S_IMODE(st.st_mode), mode))

    # --- the tree ------------------------------------------------------------

    def test_real_system_untouched(self):
        self.assertEqual(snapshot(REAL_PATHS), self.before)

    def test_layout_and_modes(self):
        self.assertMode(LIBDIR + "/fnrun-worker", 0o755)
        self.assertMode(LIBDIR + "/fnrun-pool", 0o755)
        self.assertMode(LIBDIR + "/proc.sh", 0o644)
        self.assertMode("/etc/fnrun/fnrun.conf", 0o644)
        self.assertMode("/etc/fnrun/env", 0o644)
        self.assertMode("/etc/fnrun/secrets", 0o700, stat.S_ISDIR)
        self.assertMode("/var/lib/fnrun/store", 0o750, stat.S_ISDIR)
        self.assertMode("/var/log/fnrun", 0o750, stat.S_ISDIR)
        self.assertMode(UNIT, 0o644)
        self.assertMode(SITE, 0o644)
        self.assertMode("/etc/logrotate.d/fnrun", 0o644)
        # Made before nginx opens them, which would create them 0644.
        self.assertMode("/var/log/nginx/fnrun.access.log", 0o640)
        self.assertMode("/var/log/nginx/fnrun.error.log", 0o640)
        # Debian's way: the enabled site is a link to the available one.
        self.assertEqual(os.readlink(self.path(SITE_LINK)), SITE)
        # /run is systemd's (RuntimeDirectory=fnrun), never the installer's.
        self.assertFalse(os.path.exists(self.path("/run")))

    def test_pool_script_finds_its_library(self):
        # fnrun-pool sources proc.sh from beside itself once installed (the
        # repository's ../lib/ does not exist there). status needs no root
        # and starts nothing.
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "FNRUN_ENV_FILE": self.path("/etc/fnrun/env")}
        p = subprocess.run([self.path(LIBDIR + "/fnrun-pool"), "status"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        out = p.stdout.decode("utf-8", "replace")
        self.assertIn(p.returncode, (0, 3), out)
        self.assertRegex(out, r"^fnrun-pool: (not running|\d+ of \d+ workers alive)", out)

    def test_secrets_private_random_and_not_printed(self):
        seen = set()
        for name in SECRETS:
            self.assertMode("/etc/fnrun/secrets/" + name, 0o600)
            s = self.secret(name)
            self.assertRegex(s, rb"^[0-9a-f]{64}\n$", name)
            seen.add(s)
            self.assertNotIn(s.strip().decode(), self.out, "install.sh printed %s" % name)
        self.assertEqual(len(seen), len(SECRETS), "secrets are not distinct")

    def test_reinstall_keeps_secrets_and_settings(self):
        before = {n: self.secret(n) for n in SECRETS}
        conf = self.path("/etc/fnrun/fnrun.conf")
        with open(conf, "a") as f:
            f.write("# an operator's note\n")
        out = self.install("--port", str(PORT + 1))
        try:
            for n in SECRETS:
                self.assertEqual(self.secret(n), before[n], "%s was regenerated" % n)
                self.assertNotIn(before[n].strip().decode(), out)
            with open(conf) as f:
                text = f.read()
            self.assertIn("# an operator's note\n", text)
            kv = read_kv(conf, "=")
            self.assertEqual(kv["port"], str(PORT + 1))
            self.assertEqual(kv["workers"], str(WORKERS))
            with open(self.path(SITE)) as f:
                self.assertIn("listen 127.0.0.1:%d;" % (PORT + 1), f.read())
        finally:
            self.install("--port", str(PORT))

    # --- settings ------------------------------------------------------------

    def test_conf(self):
        conf = self.path("/etc/fnrun/fnrun.conf")
        kv = read_kv(conf, "=")
        self.assertEqual(kv["store_dir"], "/var/lib/fnrun/store")
        self.assertEqual(kv["port"], str(PORT))
        self.assertEqual(kv["listen"], "127.0.0.1")
        self.assertEqual(kv["workers"], str(WORKERS))
        self.assertEqual(kv["memcached_port"], "11211")
        self.assertEqual(kv["worker_bin"], LIBDIR + "/fnrun-worker")
        # Every key of the repository's fnrun.conf, nothing else: the same
        # file format for the worker and for scripts/config.sh.
        self.assertEqual(set(kv), set(read_kv(os.path.join(ROOT, "fnrun.conf"), "=")))
        env = {k: v for k, v in os.environ.items() if not k.startswith("FNRUN_")}
        env["FNRUN_CONFIG"] = conf
        p = subprocess.run(["bash", "-c", 'source scripts/config.sh && echo "$FNRUN_PORT"'],
                           cwd=ROOT, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertEqual(p.stdout.decode().strip(), str(PORT))

    def test_env_file(self):
        kv = read_kv(self.path("/etc/fnrun/env"), "=")
        for k, v in kv.items():
            self.assertRegex(k, r"^FNRUN_[A-Z0-9_]+$")
            self.assertRegex(v, r"^[^\s'\"]+$", "%s: systemd and fnrun-pool read it unquoted" % k)
        self.assertEqual(kv["FNRUN_CONFIG"], "/etc/fnrun/fnrun.conf")
        self.assertEqual(kv["FNRUN_MEMCACHED"], "127.0.0.1:11211")
        self.assertEqual(kv["FNRUN_SOCKET"], "/run/fnrun/fnrun.sock")
        self.assertTrue(kv["FNRUN_METRICS_FILE"].startswith("/run/fnrun/"))
        self.assertTrue(kv["FNRUN_WORKER_LOG"].startswith("/var/log/fnrun/"))
        self.assertTrue(kv["FNRUN_INVOCATION_LOG"].startswith("/var/log/fnrun/"))
        self.assertEqual(kv["FNRUN_USER"], "fnrun")
        for name in SECRETS:
            p = kv["FNRUN_%s_FILE" % name.upper()]
            self.assertEqual(p, "/etc/fnrun/secrets/" + name)
            self.assertTrue(os.path.isfile(self.path(p)), p)
        # No secret value in the environment file.
        with open(self.path("/etc/fnrun/env"), "rb") as f:
            text = f.read()
        for name in SECRETS:
            self.assertNotIn(self.secret(name).strip(), text)

    # --- systemd ---------------------------------------------------------------

    def test_unit_fields(self):
        u = read_unit(self.path(UNIT))
        svc = u["Service"]
        self.assertEqual(svc["Type"], ["oneshot"])
        self.assertEqual(svc["RemainAfterExit"], ["yes"])
        self.assertEqual(svc["EnvironmentFile"], ["/etc/fnrun/env"])
        self.assertEqual(svc["RuntimeDirectory"], ["fnrun"])
        self.assertEqual(svc["Restart"], ["on-failure"])
        self.assertEqual(svc["ExecStart"], [LIBDIR + "/fnrun-pool start"])
        self.assertEqual(svc["ExecStop"], [LIBDIR + "/fnrun-pool stop"])
        self.assertEqual(svc["ExecReload"], [LIBDIR + "/fnrun-pool reload"])
        # Stop waits for the drain: timeout_max_ms + hard_grace_ms + margin.
        kv = read_kv(self.path("/etc/fnrun/fnrun.conf"), "=")
        drain_s = (int(kv["timeout_max_ms"]) + int(kv["hard_grace_ms"])) / 1000 + 5
        self.assertGreater(int(svc["TimeoutStopSec"][0]), drain_s)
        self.assertEqual(u["Install"]["WantedBy"], ["multi-user.target"])
        for cmd in ("ExecStart", "ExecStop", "ExecReload"):
            exe = svc[cmd][0].split()[0]
            self.assertTrue(os.access(self.path(exe), os.X_OK), exe)
        for line in code_lines(self.path(UNIT)):
            self.assertNotRegex(line, PLACEHOLDER)

    def test_unit_verifies(self):
        if not shutil.which("systemd-analyze"):
            self.skipTest("systemd-analyze is not installed (package systemd)")
        if not os.path.isdir("/lib/systemd/system"):
            self.skipTest("no /lib/systemd/system to resolve the unit's dependencies")
        # --root checks ExecStart's binaries under the destdir; the standard
        # targets (multi-user.target, ...) come from the host, by a link.
        link = self.path("/usr/lib/systemd/system")
        if not os.path.lexists(link):
            os.makedirs(os.path.dirname(link), exist_ok=True)
            os.symlink("/lib/systemd/system", link)
        try:
            p = subprocess.run(["systemd-analyze", "--root=" + self.dest, "verify",
                                "fnrun.service"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=60)
        finally:
            os.unlink(link)
        out = p.stdout.decode("utf-8", "replace")
        self.assertEqual(p.returncode, 0, out)
        # verify exits 0 on an unknown key or a bad value, only warning.
        warnings = [l for l in out.splitlines() if "fnrun" in l]
        self.assertEqual(warnings, [], out)

    # --- nginx ---------------------------------------------------------------------

    def test_site_rendered(self):
        lines = code_lines(self.path(SITE))
        text = "\n".join(lines)
        self.assertNotRegex(text, PLACEHOLDER)
        # A site is one server block, after the http-level definitions it
        # uses (Debian includes sites-enabled/ in the http block).
        head, sep, _ = text.partition("server {")
        self.assertTrue(sep, "no server block")
        self.assertEqual(text.count("server {"), 1, "a site is one server block")
        self.assertEqual(re.findall(r"(?m)^(\w+)", head),
                         ["log_format", "limit_conn_zone", "upstream", "map"])
        self.assertIn("listen 127.0.0.1:%d;" % PORT, text)
        # One pool, the unix socket (role single); no front locations.
        self.assertRegex(text, r"upstream fnrun_pools \{\s*zone fnrun_pools 64k;\s*"
                         r"server unix:/run/fnrun/fnrun\.sock;\s*\}")
        self.assertIn("fastcgi_pass fnrun_pools;", text)
        self.assertNotIn("fnrun-front", text)
        self.assertRegex(text, r"location ~\* \^/\+metrics\(/\|\$\) \{\s*allow 127\.0\.0\.1;\s*allow ::1;\s*deny all;")
        self.assertIn("error_page 404 =404 /.fnrun-error/not_found;", text)
        # Limits come from fnrun.conf: nginx and the worker agree on them.
        kv = read_kv(self.path("/etc/fnrun/fnrun.conf"), "=")
        self.assertIn("client_max_body_size %s;" % kv["body_max_bytes"], text)
        # An upload may load the compiler and lower, each within
        # transpile_timeout_ms, then run the top level.
        upstream_s = (int(kv["timeout_max_ms"]) +
                      2 * int(kv.get("transpile_timeout_ms", "10000")) + 999) // 1000 + 5
        self.assertIn("fastcgi_read_timeout %ds;" % upstream_s, text)

    def test_site_passes_nginx_t(self):
        if not shutil.which("nginx"):
            self.skipTest("nginx is not installed")
        t = os.path.join(self.tmp, "nginx-t")
        os.makedirs(os.path.join(t, "tmp"), exist_ok=True)
        os.chmod(self.tmp, 0o755)
        # The site as installed, except that its two log files (which nginx
        # -t opens, creating them) are redirected into the temporary dir.
        with open(self.path(SITE)) as f:
            site = f.read()
        logs = re.findall(r"(?m)^\s*(?:access_log|error_log) (/var/log/nginx/\S+?)[ ;]", site)
        self.assertEqual(len(logs), 2, logs)
        for log in logs:
            site = site.replace(log, os.path.join(t, os.path.basename(log)))
        with open(os.path.join(t, "site.conf"), "w") as f:
            f.write(site)
        conf = os.path.join(t, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""pid {t}/nginx.pid;
error_log {t}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log {t}/access.log;
    client_body_temp_path {t}/tmp/client_body;
    fastcgi_temp_path {t}/tmp/fastcgi;
    proxy_temp_path {t}/tmp/proxy;
    scgi_temp_path {t}/tmp/scgi;
    uwsgi_temp_path {t}/tmp/uwsgi;
    include {t}/site.conf;
}}
""".format(t=t))
        p = subprocess.run(["nginx", "-t", "-p", t, "-e", os.path.join(t, "error.log"),
                            "-c", conf], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        out = p.stdout.decode("utf-8", "replace")
        self.assertEqual(p.returncode, 0, out)
        self.assertIn("test is successful", out)

    def test_local_and_system_share_the_server_block(self):
        state = os.environ.get("FNRUN_STATE_DIR")
        if not state:
            self.skipTest("FNRUN_STATE_DIR is not set (run through run.py)")
        local_conf = os.path.join(state, "nginx", "nginx.conf")
        local_server = os.path.join(state, "nginx", "fnrun-server.conf")
        with open(local_conf) as f:
            self.assertIn("include %s;" % local_server, f.read())
        with open(SERVER_TMPL) as f:
            tmpl = f.read().splitlines()
        with open(local_server) as f:
            local = f.read().splitlines()
        with open(self.path(SITE)) as f:
            site = f.read().splitlines()
        self.assertEqual(len(local), len(tmpl))
        self.assertEqual(len(site), len(tmpl))
        for i, line in enumerate(tmpl):
            if not PLACEHOLDER.search(line):
                self.assertEqual(local[i], line, "local line %d" % (i + 1))
                self.assertEqual(site[i], line, "site line %d" % (i + 1))


class InstallRolesTest(unittest.TestCase):
    """--role pool and --role front (SPEC §14), each into a --destdir of its
    own: what each writes into fnrun.conf and the nginx site."""

    def install(self, *args):
        tmp = tempfile.mkdtemp(prefix="fnrun-install-role-")
        self.addCleanup(shutil.rmtree, tmp, True)
        dest = os.path.join(tmp, "root")
        cmd = [INSTALL, "--destdir", dest, "--no-start"]
        if worker_bin():
            cmd += ["--bin", worker_bin()]
        p = subprocess.run(cmd + list(args), cwd=ROOT, timeout=300,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.assertEqual(p.returncode, 0, p.stdout.decode("utf-8", "replace"))
        return lambda path: os.path.join(dest, path.lstrip("/"))

    def test_pool_role(self):
        path = self.install("--role", "pool", "--fcgi-listen", "10.9.0.11:9000",
                            "--fcgi-allow", "10.9.0.1",
                            "--memcached-servers", "10.9.0.11:11211,10.9.0.12:11211")
        kv = read_kv(path("/etc/fnrun/fnrun.conf"), "=")
        self.assertEqual((kv["role"], kv["fcgi_listen"], kv["fcgi_allow"],
                          kv["memcached_servers"]),
                         ("pool", "10.9.0.11:9000", "10.9.0.1",
                          "10.9.0.11:11211,10.9.0.12:11211"))
        self.assertTrue(os.path.exists(path(UNIT)))
        self.assertFalse(os.path.exists(path(SITE)), "a pool has no nginx site")

    def test_front_role(self):
        path = self.install("--role", "front", "--upstreams", "10.9.0.11:9000,10.9.0.12:9000")
        with open(path(SITE)) as f:
            site = f.read()
        self.assertIn("server 10.9.0.11:9000 max_fails=1 fail_timeout=10s; "
                      "server 10.9.0.12:9000 max_fails=1 fail_timeout=10s;", site)
        self.assertIn("fastcgi_next_upstream error timeout;", site)
        self.assertIn("fastcgi_next_upstream_tries 2;", site)
        self.assertIn("include /etc/nginx/fnrun-front.conf;", site)
        with open(path("/etc/nginx/fnrun-front/pools.conf")) as f:
            pools = f.read()
        self.assertIn("location = /pools/2/healthz { fastcgi_pass_request_body off; "
                      "fastcgi_pass 10.9.0.12:9000; }", pools)
        self.assertTrue(os.path.exists(path("/etc/nginx/fnrun-front/healthz.json")))

    def test_pool_without_fcgi_allow_is_refused(self):
        tmp = tempfile.mkdtemp(prefix="fnrun-install-role-")
        self.addCleanup(shutil.rmtree, tmp, True)
        p = subprocess.run([INSTALL, "--destdir", os.path.join(tmp, "root"), "--no-start",
                            "--role", "pool", "--fcgi-listen", "10.9.0.11:9000"]
                           + (["--bin", worker_bin()] if worker_bin() else []),
                           cwd=ROOT, timeout=300, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("fcgi_allow", p.stdout.decode("utf-8", "replace"))


if __name__ == "__main__":
    unittest.main()
