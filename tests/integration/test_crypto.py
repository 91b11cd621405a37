"""WebCrypto through the real stack (issue 10, SPEC §11): a Stripe webhook
(HMAC-SHA256 over "t.payload", the secret from req.env) and a Paystack one
(HMAC-SHA512 of the raw body) verified, tampered ones refused;
crypto.randomUUID across calls and workers; getRandomValues' quota; and
hostile uses (data past the memory limit, a key used for what its usages
forbid, arguments of the wrong type) answered with clear errors by the same
worker, which goes on serving."""

import hashlib
import hmac
import json
import re

from fnrun_client import (WELL_BEHAVED, FnTestCase, invocation_records, invoke,
                          metrics, parallel, pid_alive, upload, unique_fn)
from test_redact import env_put

RESTARTS = "fnrun_worker_restarts_total"
HARD_KILLS = "fnrun_hard_kills_total"

HEX = r"""
function hex(buf) {
  return Array.prototype.map.call(new Uint8Array(buf), function (b) {
    return ('0' + b.toString(16)).slice(-2);
  }).join('');
}
"""

# As Stripe documents it: the signed payload is the timestamp, a dot and
# the raw body; v1 is its HMAC-SHA256 in hex under the endpoint's secret.
# Written with async/await, as users write it (lowered at upload).
STRIPE = HEX + r"""
async function verifyStripe(header, body, secret) {
  var t = null, sigs = [];
  header.split(',').forEach(function (part) {
    var kv = part.split('=');
    if (kv[0] === 't') t = kv[1];
    if (kv[0] === 'v1') sigs.push(kv[1]);
  });
  if (t === null || sigs.length === 0) return false;
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', enc.encode(secret),
      { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = hex(await crypto.subtle.sign('HMAC', key, enc.encode(t + '.' + body)));
  return sigs.indexOf(mac) >= 0;
}
module.exports = async function (req, res) {
  const ok = await verifyStripe(req.headers['stripe-signature'] || '', req.body,
                                req.env.STRIPE_WEBHOOK_SECRET);
  res.json({ verified: ok }, ok ? 200 : 400);
};
"""

# Paystack: x-paystack-signature is the HMAC-SHA512 in hex of the raw body
# under the secret key; checked with subtle.verify (constant time). The
# README's example, word for word.
PAYSTACK = r"""
function unhex(s) {
  const out = new Uint8Array(/^([0-9a-f]{2})*$/i.test(s) ? s.length / 2 : 0);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
  return out;
}
module.exports = async function (req, res) {
  const enc = new TextEncoder();
  const sig = unhex(req.headers['x-paystack-signature'] || '');
  const key = await crypto.subtle.importKey('raw', enc.encode(req.env.PAYSTACK_SECRET),
      { name: 'HMAC', hash: 'SHA-512' }, false, ['verify']);
  const ok = await crypto.subtle.verify('HMAC', key, sig, enc.encode(req.body));
  res.json({ verified: ok }, ok ? 200 : 401);
};
"""

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def stripe_header(secret, t, body):
    mac = hmac.new(secret.encode(), ("%d." % t).encode() + body, hashlib.sha256)
    return "t=%d,v1=%s" % (t, mac.hexdigest())


class WebhookTest(FnTestCase):

    def test_stripe_webhook_verified_and_tampered_refused(self):
        p, rq, f = unique_fn()
        secret = "whsec_" + "0123456789abcdef" * 2
        self.assertStatus(env_put(p, "STRIPE_WEBHOOK_SECRET", secret), 204)
        self.deploy(STRIPE, (p, rq, f))
        # Non-ASCII and astral characters: the raw bytes are what is signed.
        body = json.dumps({"id": "evt_1", "type": "charge.succeeded",
                           "data": {"description": "caf\u00e9 \u2615 \U0001F600"}},
                          ensure_ascii=False).encode()
        header = stripe_header(secret, 1700000000, body)
        r = invoke(p, rq, f, body, headers={"Stripe-Signature": header})
        self.assertStatus(r, 200)
        self.assertEqual(r.json(), {"verified": True})
        tampered = body.replace(b"evt_1", b"evt_2")
        for name, b, h in (
                ("tampered body", tampered, header),
                ("other timestamp", body, header.replace("t=1700000000", "t=1700000001")),
                ("other secret", body, stripe_header("whsec_other", 1700000000, body)),
                ("no signature", body, "t=1700000000")):
            with self.subTest(case=name):
                r = invoke(p, rq, f, b, headers={"Stripe-Signature": h})
                self.assertStatus(r, 400)
                self.assertEqual(r.json(), {"verified": False})

    def test_paystack_webhook_verified_and_tampered_refused(self):
        p, rq, f = unique_fn()
        secret = "sk_test_" + "f" * 40
        self.assertStatus(env_put(p, "PAYSTACK_SECRET", secret), 204)
        self.deploy(PAYSTACK, (p, rq, f))
        body = json.dumps({"event": "charge.success",
                           "data": {"reference": "r-\u00fc\U0001F4B3", "amount": 5000}},
                          ensure_ascii=False).encode()
        sig = hmac.new(secret.encode(), body, hashlib.sha512).hexdigest()
        r = invoke(p, rq, f, body, headers={"X-Paystack-Signature": sig})
        self.assertStatus(r, 200)
        self.assertEqual(r.json(), {"verified": True})
        flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
        for name, b, s in (("tampered body", body.replace(b"5000", b"9000"), sig),
                           ("flipped signature", body, flipped),
                           ("SHA-256 signature", body,
                            hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()),
                           ("not hex", body, "zz" * 64)):
            with self.subTest(case=name):
                r = invoke(p, rq, f, b, headers={"X-Paystack-Signature": s})
                self.assertStatus(r, 401)
                self.assertEqual(r.json(), {"verified": False})


class RandomTest(FnTestCase):

    def test_random_uuid_format_and_uniqueness_over_calls(self):
        names = self.deploy("module.exports = function (req, res) {"
                            " res.json([crypto.randomUUID(), crypto.randomUUID()]); };")[:3]
        answers = [invoke(*names) for _ in range(10)]
        answers += parallel(lambda: invoke(*names), [() for _ in range(10)])
        seen = []
        for r in answers:
            self.assertStatus(r, 200)
            seen += r.json()
        for u in seen:
            self.assertRegex(u, UUID)
        self.assertEqual(len(set(seen)), len(seen), "a UUID repeated")

    def test_get_random_values_over_quota_is_a_clear_error(self):
        names = self.deploy("module.exports = function (req, res) {"
                            " crypto.getRandomValues(new Uint8Array(65537));"
                            " res.send('no'); };")[:3]
        body = self.assertError(invoke(*names), 500, "function_error")
        self.assertEqual(body["message"], "QuotaExceededError: getRandomValues: "
                         "65537 bytes exceed the limit of 65536")
        names = self.deploy("module.exports = function (req, res) {"
                            " var a = crypto.getRandomValues(new Uint32Array(16384));"
                            " res.json({ n: a.length, zero: !Array.prototype.some.call(a,"
                            " function (x) { return x !== 0; }) }); };")[:3]
        r = invoke(*names)
        self.assertStatus(r, 200)
        self.assertEqual(r.json(), {"n": 16384, "zero": False})


class HostileTest(FnTestCase):
    """Each case is answered with its error, then the worker that ran it is
    still alive (no restart) and the pool serves a well-behaved function."""

    CASES = {
        # Data past the function's 8 MiB heap: the engine's memory limit.
        "digest_past_memory": (
            "memoryMb=8",
            "return crypto.subtle.digest('SHA-256', new Uint8Array(16 << 20))"
            ".then(function () { res.send('no'); });",
            500, "memory_limit", None),
        "encode_past_memory": (
            "memoryMb=8",
            "var s = 'ab'; while (s.length < (2 << 20)) s += s;"
            " var parts = []; for (var i = 0; i < 8; i++)"
            " parts.push(new TextEncoder().encode(s)); res.send('no');",
            500, "memory_limit", None),
        "keys_past_memory": (
            "memoryMb=8",
            "var k = new Uint8Array(1 << 20), all = [];"
            " for (var i = 0; i < 16; i++) all.push(crypto.subtle.importKey('raw', k,"
            " { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']));"
            " return Promise.all(all).then(function () { res.send('no'); });",
            500, "memory_limit", None),
        "wrong_key_usage": (
            "",
            "return crypto.subtle.importKey('raw', new Uint8Array([1, 2, 3]),"
            " { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])"
            ".then(function (k) { return crypto.subtle.sign('HMAC', k, new Uint8Array(1)); })"
            ".then(function () { res.send('no'); });",
            500, "function_error",
            "InvalidAccessError: sign: the key's usages do not include 'sign'"),
        "data_as_string": (
            "",
            "return crypto.subtle.digest('SHA-256', 'abc')"
            ".then(function () { res.send('no'); });",
            500, "function_error",
            "TypeError: data must be an ArrayBuffer, a typed array or a DataView"),
        "forged_key": (
            "",
            "return crypto.subtle.sign('HMAC', { type: 'secret', usages: ['sign'],"
            " algorithm: { name: 'HMAC', hash: { name: 'SHA-256' } } }, new Uint8Array(1))"
            ".then(function () { res.send('no'); });",
            500, "function_error", "TypeError: key is not a CryptoKey"),
        "unknown_algorithm": (
            "",
            "return crypto.subtle.digest('MD5', new Uint8Array(1))"
            ".then(function () { res.send('no'); });",
            500, "function_error",
            "NotSupportedError: digest: algorithm 'MD5' is not supported"),
        # Digests of more data than the deadline allows (1.5 GiB in
        # calls so close together that the engine's own check, every
        # ~256k instructions, never runs between them): stopped at the
        # deadline between two chunks by the call itself, not by the
        # watchdog (which would cost the worker: a hard kill). The data is
        # small enough to be made well within the deadline, even by the
        # sanitizer build (160 MiB took it 0.3-0.45 s in one native call).
        "digest_past_deadline": (
            "memoryMb=64&timeoutMs=500",
            "var d = new Uint8Array(32 << 20), all = [];"
            " for (var i = 0; i < 48; i++) all.push(crypto.subtle.digest('SHA-512', d));"
            " return Promise.all(all).then(function () { res.send('no'); });",
            504, "timeout", None),
        "fatal_decoder": (
            "",
            "res.send(new TextDecoder('utf-8', { fatal: true })"
            ".decode(new Uint8Array([0x61, 0xff])));",
            500, "function_error", "TypeError: utf-8 decode failed"),
    }

    def test_hostile_cases_answered_by_the_same_worker(self):
        well = self.deploy(WELL_BEHAVED)[:3]
        for case, (query, body, status, code, message) in sorted(self.CASES.items()):
            with self.subTest(case=case):
                names = unique_fn()
                r = upload(*names, "module.exports = function (req, res) {\n%s\n};" % body,
                           query=query)
                self.assertIn(r.status, (200, 201), "%s: upload %r" % (case, r))
                m0 = metrics()
                answer = self.assertError(invoke(*names), status, code, case)
                if message is not None:
                    self.assertEqual(answer["message"], message, case)
                recs = invocation_records(names)
                self.assertEqual([x["outcome"] for x in recs], [code], case)
                pid = recs[0]["pid"]
                self.assertWellBehavedServes(well, msg=case)
                m1 = metrics()
                self.assertEqual(m1.get(RESTARTS, 0), m0.get(RESTARTS, 0), case)
                self.assertEqual(m1.get(HARD_KILLS, 0), m0.get(HARD_KILLS, 0), case)
                self.assertTrue(pid_alive(pid), "%s: worker %d was replaced" % (case, pid))
