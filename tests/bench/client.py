#!/usr/bin/env python3
"""client.py - the HTTP client side of make bench (scripts/bench.sh) that wrk
cannot do: uploads, one checked answer per target, and the cold-start
measurement. Talks only to 127.0.0.1, over one kept-alive connection.

    client.py upload URL TOKEN PATH FILE      PUT FILE as the function PATH
    client.py upload-many URL TOKEN PREFIX N  N functions PREFIX0..PREFIX{N-1},
                                              each answering "hello <i>"
    client.py check URL KEY PATH KIND PAYLOAD one POST of PAYLOAD; fails unless
                                              the answer is KIND's (hello, json,
                                              cpu, many: "hello 0")
    client.py cold URL TOKEN KEY N PAYLOAD    uploads N new functions, calls
                                              each twice; prints "first_p50
                                              first_p99 warm_p50 warm_p99" (ms)

Exit status 0 on success; 1 with a message on stderr otherwise. Not part of
the product.
"""

import http.client
import json
import sys
import time
import urllib.parse

TIMEOUT_S = 30


class Client:
    """One kept-alive HTTP/1.1 connection to a 127.0.0.1 URL."""

    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        if u.scheme != "http" or u.hostname != "127.0.0.1":
            raise SystemExit("client.py: only http://127.0.0.1 URLs, not %r" % url)
        self.conn = http.client.HTTPConnection("127.0.0.1", u.port, timeout=TIMEOUT_S)

    def request(self, method, path, body, headers):
        self.conn.request(method, path, body=body, headers=headers)
        r = self.conn.getresponse()
        return r.status, r.read()


def fail(msg):
    sys.stderr.write("client.py: %s\n" % msg)
    sys.exit(1)


def upload(c, token, path, source):
    status, body = c.request("PUT", "/functions/" + path, source.encode(), {
        "Authorization": "Bearer " + token,
        "Content-Type": "application/javascript"})
    if status not in (200, 201):
        fail("upload %s: %d %r" % (path, status, body[:200]))


def many_source(i):
    return '// function %d\nmodule.exports = function (req, res) { res.send("hello %d"); };\n' % (i, i)


def invoke(c, key, path, payload):
    return c.request("POST", path, payload, {
        "X-Fn-Key": key, "Content-Type": "application/json"})


def expect(kind, payload, status, body):
    """None when (status, body) is what the workload KIND answers, else why not."""
    if status != 200:
        return "status %d" % status
    if kind == "hello" and body == b"hello":
        return None
    if kind == "cpu" and body == b"6765":
        return None
    if kind == "many" and body == b"hello 0":
        return None
    if kind == "json":
        try:
            got = json.loads(body)
        except ValueError as e:
            return "not JSON: %s" % e
        want = json.loads(payload)
        at = got.pop("at", None) if isinstance(got, dict) else None
        want["processed"] = True
        if got == want and isinstance(at, (int, float)) and not isinstance(at, bool):
            return None
    return "unexpected answer %r" % body[:120]


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * p / 100))]


def main(argv):
    if len(argv) < 2:
        fail("usage: see the header of this file")
    cmd, args = argv[1], argv[2:]
    if cmd == "upload" and len(args) == 4:
        with open(args[3]) as f:
            upload(Client(args[0]), args[1], args[2], f.read())
    elif cmd == "upload-many" and len(args) == 4:
        c = Client(args[0])
        for i in range(int(args[3])):
            upload(c, args[1], args[2] + str(i), many_source(i))
    elif cmd == "check" and len(args) == 5:
        url, key, path, kind, payload_file = args
        with open(payload_file, "rb") as f:
            payload = f.read()
        status, body = invoke(Client(url), key, path, payload)
        why = expect(kind, payload, status, body)
        if why is not None:
            fail("%s%s (%s): %s" % (url, path, kind, why))
    elif cmd == "cold" and len(args) == 5:
        url, token, key, n, payload_file = args
        n = int(n)
        with open(payload_file, "rb") as f:
            payload = f.read()
        c = Client(url)
        for i in range(n):
            upload(c, token, "bench/cold/f%d" % i, many_source(i))
        first, warm = [], []
        for i in range(n):
            for times in (first, warm):
                t0 = time.perf_counter()
                status, body = invoke(c, key, "/invoke/bench/cold/f%d" % i, payload)
                times.append((time.perf_counter() - t0) * 1000)
                if status != 200 or body != b"hello %d" % i:
                    fail("cold f%d: %d %r" % (i, status, body[:120]))
        print("%.3f %.3f %.3f %.3f" % (percentile(first, 50), percentile(first, 99),
                                        percentile(warm, 50), percentile(warm, 99)))
    else:
        fail("usage: see the header of this file")


if __name__ == "__main__":
    main(sys.argv)
