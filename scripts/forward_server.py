#!/usr/bin/env python3
#
# scripts/forward_server.py - an example forwarding server: the proxy fnrun
# is made for (SPEC §1, README "The forwarding convention"). A browser calls
# a saved request by name; the proxy runs the request's "before" function
# in fnrun (which returns the request to forward, with the private API key
# added from req.env, or a response that answers at once), forwards the
# request to the upstream API, runs the "after" function with the upstream's
# response, and answers the browser with what it returns. The browser never
# sees a key: nothing of the forwarded request is ever sent back to it.
#
# It is an example to read and adapt (about 300 lines, Python 3 standard
# library only) and the end-to-end test's forwarding server
# (tests/integration/test_forwarding.py); it is not hardened for the
# Internet (no TLS of its own, no rate limits, no browser authentication).
#
#   scripts/forward_server.py CONFIG.json
#
# CONFIG.json:
#   {"listen": "127.0.0.1:8090",            port 0: any free port
#    "fnrun": "http://127.0.0.1:8080",      where nginx serves fnrun
#    "invokeKeyFile": "var/secrets/invoke_key",   or $FNRUN_INVOKE_KEY
#    "project": "p1",
#    "timeoutS": 30,                        each call to fnrun or upstream
#    "maxBodyBytes": 262144,                a browser's body, and an upstream's
#    "requests": {
#      "charges": {"url": "https://api.paystack.co/charge",
#                  "method": "POST",        default: the browser's method
#                  "headers": {"accept": "application/json"},
#                  "before": "addKey",      fnrun function names, both optional:
#                  "after": "shape"}}}      /invoke/<project>/<request>/<fn>
#
# The browser calls <listen>/r/<request>[/more/path][?query]: the extra path
# and the query are appended to the saved URL. Once listening it prints one
# line, "forward_server: listening on http://HOST:PORT", on stdout.

import http.client
import http.server
import json
import os
import re
import socketserver
import sys
import traceback
import urllib.parse

# RFC 9110 §7.6.1: hop-by-hop, and what the proxy sets itself.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
              "te", "trailer", "transfer-encoding", "upgrade", "proxy-connection",
              "host", "content-length"}
# Browser headers a function never needs and the upstream must never get:
# the browser's own credentials for this proxy, and encodings the proxy
# does not decode.
FROM_BROWSER_DROPPED = HOP_BY_HOP | {"cookie", "authorization", "accept-encoding",
                                     "x-fn-key", "x-fn-debug"}
# Upstream headers the browser must not get: cookies of the API's domain,
# and framing the proxy redoes.
TO_BROWSER_DROPPED = HOP_BY_HOP | {"set-cookie", "content-encoding"}
TOKEN_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def log(fmt, *args):
    sys.stderr.write("forward_server: " + (fmt % args) + "\n")
    sys.stderr.flush()


class Failure(Exception):
    """An answer for the browser: status and a short JSON error that says
    which step failed and never what a function or the upstream sent."""

    def __init__(self, http_status, code, **extra):
        super().__init__(code)
        self.http_status, self.code, self.extra = http_status, code, extra


def http_call(url, method, headers, body, timeout):
    """One HTTP request, no redirect followed, no proxy from the
    environment. Returns (status, [(name, value)], body bytes)."""
    u = urllib.parse.urlsplit(url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise ValueError("not an http(s) URL")
    cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
    conn = cls(u.hostname, u.port, timeout=timeout)
    try:
        path = (u.path or "/") + ("?" + u.query if u.query else "")
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        return r.status, r.getheaders(), r.read()
    finally:
        conn.close()


def header_dict(pairs, dropped):
    """Lower-case names; repeated headers joined with ", " (RFC 9110 §5.3)."""
    out = {}
    for k, v in pairs:
        k = k.lower()
        if k in dropped:
            continue
        out[k] = out[k] + ", " + v if k in out else v
    return out


def body_text(value):
    """A body from a function: a string as it is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def check_request(r):
    """A request a "before" function returned, merged: the types the
    upstream call needs, or Failure."""
    ok = (isinstance(r.get("method"), str) and TOKEN_RE.match(r["method"])
          and isinstance(r.get("url"), str)
          and urllib.parse.urlsplit(r["url"]).scheme in ("http", "https")
          and isinstance(r.get("headers"), dict)
          and all(isinstance(k, str) and TOKEN_RE.match(k) and isinstance(v, str)
                  and not set(v) & set("\r\n\0") for k, v in r["headers"].items())
          and isinstance(r.get("body"), str))
    if not ok:
        raise Failure(502, "bad_request_from_function", phase="before")
    # Framing is the proxy's: a function's Content-Length or Host is not.
    r["headers"] = {k.lower(): v for k, v in r["headers"].items()
                    if k.lower() not in HOP_BY_HOP}
    return r


def check_response(r, default):
    """A response a function returned, over default's fields."""
    out = dict(default)
    for k in ("status", "headers", "body"):
        if k in r:
            out[k] = r[k]
    if "body" in r and not isinstance(r["body"], str):
        out["body"] = json.dumps(r["body"])
        out["headers"] = dict(out["headers"] or {})
        out["headers"].setdefault("content-type", "application/json")
    ok = (isinstance(out["status"], int) and 200 <= out["status"] <= 599
          and isinstance(out["headers"], dict)
          and all(isinstance(k, str) and TOKEN_RE.match(k) and isinstance(v, str)
                  and not set(v) & set("\r\n\0") for k, v in out["headers"].items())
          and isinstance(out["body"], str))
    return out if ok else None


class Forwarder:
    def __init__(self, conf):
        self.conf = conf
        self.fnrun = conf.get("fnrun", "http://127.0.0.1:8080").rstrip("/")
        self.project = conf["project"]
        self.timeout = float(conf.get("timeoutS", 30))
        self.max_body = int(conf.get("maxBodyBytes", 256 * 1024))
        self.requests = conf.get("requests", {})
        key = os.environ.get("FNRUN_INVOKE_KEY")
        if not key:
            with open(conf["invokeKeyFile"], "r", encoding="ascii") as f:
                key = f.readline().strip()
        self.key = key
        if not NAME_RE.match(self.project) or not all(
                NAME_RE.match(n) and all(NAME_RE.match(s.get(h) or "x")
                                         for h in ("before", "after"))
                for n, s in self.requests.items()):
            raise ValueError("project, request and function names must match %s"
                             % NAME_RE.pattern)

    def call_fn(self, request_id, fn, phase, payload):
        """POST /invoke/...: the function's JSON answer (a dict), or
        Failure when fnrun answered an error or something else than the
        convention."""
        path = "/invoke/%s/%s/%s" % (self.project, request_id, fn)
        try:
            status, headers, data = http_call(
                self.fnrun + path, "POST",
                {"X-Fn-Key": self.key, "Content-Type": "application/json"},
                json.dumps(payload).encode("utf-8"), self.timeout)
        except (OSError, http.client.HTTPException) as e:
            log("%s %s: fnrun unreachable: %s", phase, path, e)
            raise Failure(502, "function_unreachable", phase=phase)
        try:
            v = json.loads(data.decode("utf-8"))
        except ValueError:
            v = None
        if status != 200 or not isinstance(v, dict):
            code = v.get("error") if isinstance(v, dict) and status != 200 else None
            log("%s %s: HTTP %d %s", phase, path, status, code or "(not the convention)")
            raise Failure(502, "function_failed", phase=phase, status=status,
                          functionError=code)
        return v

    def handle(self, method, path, browser_headers, body):
        """Returns (status, headers dict, body bytes) for the browser."""
        u = urllib.parse.urlsplit(path)
        parts = u.path.split("/", 3)
        if len(parts) < 3 or parts[1] != "r" or parts[2] not in self.requests:
            raise Failure(404, "no_such_request")
        request_id, saved = parts[2], self.requests[parts[2]]
        url = saved["url"] + ("/" + parts[3] if len(parts) > 3 else "")
        if u.query:
            url += ("&" if "?" in url else "?") + u.query
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise Failure(415, "body_not_utf8")
        headers = header_dict(browser_headers, FROM_BROWSER_DROPPED)
        headers.update({k.lower(): v for k, v in (saved.get("headers") or {}).items()})
        req = {"method": saved.get("method") or method, "url": url,
               "headers": headers, "body": text}

        if saved.get("before"):
            v = self.call_fn(request_id, saved["before"], "before",
                             {"phase": "before", "request": req})
            if isinstance(v.get("response"), dict):
                out = check_response(v["response"], {"status": 200, "headers": {},
                                                     "body": ""})
                if out is None:
                    raise Failure(502, "bad_response_from_function", phase="before")
                return out["status"], out["headers"], out["body"].encode("utf-8")
            if not isinstance(v.get("request"), dict):
                raise Failure(502, "function_failed", phase="before", status=200,
                              functionError=None)
            req = dict(req)
            for k in ("method", "url", "headers", "body"):
                if k in v["request"]:
                    req[k] = v["request"][k]
            if not isinstance(req["body"], str):
                req["body"] = body_text(req["body"])
            req = check_request(req)

        try:
            status, up_headers, up_body = http_call(
                req["url"], req["method"], req["headers"],
                req["body"].encode("utf-8") if req["body"] or req["method"] not in
                ("GET", "HEAD") else None, self.timeout)
        except (OSError, http.client.HTTPException, ValueError) as e:
            # The URL may hold a key in its query: it is not logged.
            log("upstream %s of %s failed: %s", req["method"], request_id,
                type(e).__name__)
            raise Failure(502, "upstream_failed")
        if len(up_body) > self.max_body and saved.get("after"):
            raise Failure(502, "upstream_body_too_large")
        resp = {"status": status, "headers": header_dict(up_headers, TO_BROWSER_DROPPED),
                "body": up_body.decode("utf-8", errors="replace")}
        if not saved.get("after"):
            return status, resp["headers"], up_body

        v = self.call_fn(request_id, saved["after"], "after",
                         {"phase": "after", "request": req, "response": resp})
        out = check_response(v["response"], resp) if isinstance(
            v.get("response"), dict) else None
        if out is None:
            raise Failure(502, "bad_response_from_function", phase="after")
        return out["status"], out["headers"], out["body"].encode("utf-8")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "forward_server"

    def log_message(self, fmt, *args):
        pass    # one line per failure is logged instead (log())

    def answer(self, status, headers, body):
        self.send_response(status)
        for k, v in headers.items():
            if k.lower() not in TO_BROWSER_DROPPED:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def serve(self):
        fw = self.server.forwarder
        try:
            n = int(self.headers.get("Content-Length") or 0)
            if n < 0 or n > fw.max_body or self.headers.get("Transfer-Encoding"):
                self.close_connection = True
                raise Failure(413, "body_too_large")
            body = self.rfile.read(n)
            self.answer(*fw.handle(self.command, self.path, self.headers.items(), body))
        except Failure as f:
            e = {"error": f.code}
            e.update(f.extra)
            self.answer(f.http_status, {"content-type": "application/json"},
                        json.dumps(e).encode())
        except ValueError:
            self.close_connection = True
            self.answer(400, {"content-type": "application/json"},
                        b'{"error": "bad_request"}')
        except (OSError, http.client.HTTPException):
            self.close_connection = True    # the browser went away
        except Exception:   # a bug here: said, not hidden
            log("internal error: %s", traceback.format_exc())
            self.close_connection = True
            self.answer(500, {"content-type": "application/json"},
                        b'{"error": "internal"}')

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = serve


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: forward_server.py CONFIG.json\n")
        return 2
    with open(argv[1], "r", encoding="utf-8") as f:
        conf = json.load(f)
    host, _, port = conf.get("listen", "127.0.0.1:8090").rpartition(":")
    server = Server((host, int(port)), Handler)
    server.forwarder = Forwarder(conf)
    print("forward_server: listening on http://%s:%d" % server.server_address[:2],
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
