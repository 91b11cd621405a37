/*
 * check_crypto.c - unit tests for the crypto family (lib_crypto.c,
 * crypto.js) and the engine's TextEncoder/TextDecoder, each run inside a
 * real heap through sandbox_call: RFC 4231's HMAC-SHA-256/512 test cases
 * 1-7, FIPS 180's SHA vectors, the Web Cryptography API's argument
 * checks and error names, keys that keep their bytes to themselves,
 * UTF-8 both ways (astral characters, lone surrogates, invalid bytes with
 * fatal on and off), lazy loading and the memory cap.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "digest.h"
#include "sandbox_fixture.h"
#include "sandbox_internal.h"

#define ck_outcome(res, want) \
	ck_assert_msg((res).outcome == (want), "outcome %s, want %s (%s)", \
	    outcome_code((res).outcome), outcome_code(want), (res).message)

/* Helpers every test's function has. */
static const char PRELUDE[] =
    "function hex(b) { return Array.prototype.map.call(new Uint8Array(b),"
    " function (x) { return ('0' + x.toString(16)).slice(-2); }).join('');"
    " }\n"
    "function unhex(s) { var a = new Uint8Array(s.length / 2), i;"
    " for (i = 0; i < a.length; i++) a[i] = parseInt(s.substr(2 * i, 2),"
    " 16); return a; }\n"
    "function bytes(s) { return new TextEncoder().encode(s); }\n"
    "function units(s) { var o = [], i; for (i = 0; i < s.length; i++)"
    " o.push(s.charCodeAt(i).toString(16)); return o.join(' '); }\n"
    "function named(e) { return e.name + (e.code !== undefined ? '(' +"
    " e.code + ')' : ''); }\n"
    "function settle(p) { return p.then(function (v) { return 'ok'; },"
    " named); }\n"
    "function key(usages, extractable, bytes_) { return"
    " crypto.subtle.importKey('raw', bytes_ || bytes('secret'),"
    " { name: 'HMAC', hash: 'SHA-256' }, !!extractable, usages); }\n";

static char *
source_of(const char *expr)
{
	static const char fmt[] = "%s"
	    "module.exports = function (req, res) {\n"
	    "  return Promise.resolve().then(function () { return %s; })\n"
	    "    .then(function (v) { res.send(String(v)); },\n"
	    "      function (e) { res.send('rejected ' + named(e) + ': ' +"
	    " e.message); });\n"
	    "};\n";
	size_t n = sizeof(fmt) + sizeof(PRELUDE) + strlen(expr);
	char *src = malloc(n);

	ck_assert_ptr_nonnull(src);
	snprintf(src, n, fmt, PRELUDE, expr);
	return src;
}

/* The handler sends String(expr), expr a value or a promise of one. */
static void
expect(const char *expr, const char *want)
{
	char *src = source_of(expr);
	struct sandbox *sb = sandbox_loaded(src, &LIM);
	struct sandbox_result res;

	(void)sandbox_call(sb, &PLAIN_RQ, &res);
	ck_outcome(res, OUT_OK);
	ck_assert_msg(res.body_len == strlen(want) &&
	    memcmp(res.body, want, res.body_len) == 0,
	    "%s\n  sent '%.*s'\n  want '%s'", expr, (int)res.body_len,
	    res.body, want);
	sandbox_result_free(&res);
	sandbox_free(sb);
	free(src);
}

static char *
hex_of(const char *s, size_t n)
{
	char *h = malloc(n * 2 + 1);

	ck_assert_ptr_nonnull(h);
	digest_hex((const unsigned char *)s, n, h);
	return h;
}

/* RFC 4231 §4.2-4.8. Case 5's outputs are truncated to 128 bits. */
static const struct {
	const char	*key;
	size_t		 key_len;
	const char	*data;
	const char	*sha256;
	const char	*sha512;
} rfc4231[] = {
	{ "\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b"
	  "\x0b\x0b\x0b\x0b", 20, "Hi There",
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
	  "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
	  "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
	{ "Jefe", 4, "what do ya want for nothing?",
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
	  "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
	  "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
	{ NULL, 20, NULL,	/* key 20 x 0xaa, data 50 x 0xdd */
	  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
	  "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
	  "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb" },
	{ "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10"
	  "\x11\x12\x13\x14\x15\x16\x17\x18\x19", 25, NULL, /* 50 x 0xcd */
	  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
	  "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
	  "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd" },
	{ "\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c\x0c"
	  "\x0c\x0c\x0c\x0c", 20, "Test With Truncation",
	  "a3b6167473100ee06e0c796c2955552b",
	  "415fad6271580a531d4179bc891d87a6" },
	{ NULL, 131,		/* key 131 x 0xaa */
	  "Test Using Larger Than Block-Size Key - Hash Key First",
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
	  "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
	  "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598" },
	{ NULL, 131,
	  "This is a test using a larger than block-size key and a larger "
	  "than block-size data. The key needs to be hashed before being "
	  "used by the HMAC algorithm.",
	  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
	  "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
	  "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58" },
};

/* Loop index i: case i / 2 + 1, SHA-256 when even, SHA-512 when odd.
 * The function signs, compares the (truncated) output with the RFC's,
 * verifies it, and verifies a copy with one bit flipped and one cut
 * short. */
START_TEST(test_rfc4231_hmac)
{
	int c = _i / 2, big = _i % 2;
	char keybuf[131], databuf[50], expr[4096];
	const char *k = rfc4231[c].key, *d = rfc4231[c].data;
	const char *want = big ? rfc4231[c].sha512 : rfc4231[c].sha256;
	size_t dn;
	char *kh, *dh;

	if (k == NULL) {
		memset(keybuf, 0xaa, sizeof(keybuf));
		k = keybuf;
	}
	if (d == NULL) {
		memset(databuf, c == 2 ? 0xdd : 0xcd, sizeof(databuf));
		d = databuf;
		dn = sizeof(databuf);
	} else
		dn = strlen(d);
	kh = hex_of(k, rfc4231[c].key_len);
	dh = hex_of(d, dn);
	snprintf(expr, sizeof(expr),
	    "crypto.subtle.importKey('raw', unhex('%s'), { name: 'HMAC', "
	    "hash: { name: '%s' } }, false, ['sign', 'verify'])"
	    ".then(function (k) {"
	    "  var data = unhex('%s');"
	    "  return crypto.subtle.sign('HMAC', k, data).then(function (s) {"
	    "    var bad = new Uint8Array(s.slice(0)); bad[7] ^= 0x10;"
	    "    return Promise.all([hex(s).slice(0, %zu) === '%s',"
	    "      crypto.subtle.verify('HMAC', k, s, data),"
	    "      crypto.subtle.verify('HMAC', k, bad, data),"
	    "      crypto.subtle.verify('HMAC', k, s.slice(0, 16), data),"
	    "      k.algorithm.length === %zu, s.byteLength]);"
	    "  });"
	    "})", kh, big ? "SHA-512" : "SHA-256", dh, strlen(want), want,
	    rfc4231[c].key_len * 8);
	expect(expr, big ? "true,true,false,false,true,64" :
	    "true,true,false,false,true,32");
	free(kh);
	free(dh);
}
END_TEST

/* FIPS 180-4's examples ("abc", the 448-bit message) and the empty
 * message, for each digest. Loop index i: digest i / 3, message i % 3. */
START_TEST(test_fips180_digests)
{
	static const char *const names[] = { "SHA-1", "SHA-256", "SHA-384",
	    "SHA-512" };
	static const char *const msgs[] = { "abc", "",
	    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq" };
	static const char *const want[4][3] = {
		{ "a9993e364706816aba3e25717850c26c9cd0d89d",
		  "da39a3ee5e6b4b0d3255bfef95601890afd80709",
		  "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
		{ "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
		{ "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
		  "8086072ba1e7cc2358baeca134c825a7",
		  "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da"
		  "274edebfe76f65fbd51ad2f14898b95b",
		  "3391fdddfc8dc7393707a65b1b4709397cf8b1d162af05abfe8f450de5f36bc6"
		  "b0455a8520bc4e6f5fe95b1fe3c8452b" },
		{ "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
		  "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
		  "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
		  "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
		  "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c335"
		  "96fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445" },
	};
	char expr[512];

	snprintf(expr, sizeof(expr), "crypto.subtle.digest('%s', "
	    "bytes('%s')).then(hex)", names[_i / 3], msgs[_i % 3]);
	expect(expr, want[_i / 3][_i % 3]);
}
END_TEST

START_TEST(test_digest_inputs)
{
	static const char abc256[] =
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	char want[512];

	/* Every BufferSource, a view's own bytes only, the name in any
	 * case, as a string or an object. */
	snprintf(want, sizeof(want), "%s,%s,%s,%s,%s", abc256, abc256,
	    abc256, abc256, abc256);
	expect("Promise.all(["
	    "crypto.subtle.digest('sha-256', bytes('abc').buffer),"
	    "crypto.subtle.digest({ name: 'Sha-256' }, new DataView("
	    "  bytes('xabcx').buffer, 1, 3)),"
	    "crypto.subtle.digest('SHA-256', bytes('xxabc').subarray(2)),"
	    "crypto.subtle.digest('SHA-256', new Int8Array(bytes('abc'))),"
	    "crypto.subtle.digest('SHA-256', new Buffer('abc'))"
	    "]).then(function (l) { return l.map(hex).join(','); })", want);
	/* The bytes are taken when digest is called. */
	snprintf(want, sizeof(want), "%s", abc256);
	expect("(function () { var d = bytes('abc'), p ="
	    " crypto.subtle.digest('SHA-256', d); d[0] = 0; return p; })()"
	    ".then(hex)", want);
	expect("crypto.subtle.digest('SHA-256', new ArrayBuffer(0))"
	    ".then(function (d) { return d instanceof ArrayBuffer &&"
	    " d.byteLength; })", "32");
}
END_TEST

START_TEST(test_digest_errors)
{
	expect("settle(crypto.subtle.digest('MD5', bytes('a')))",
	    "NotSupportedError(9)");
	expect("settle(crypto.subtle.digest('HMAC', bytes('a')))",
	    "NotSupportedError(9)");
	expect("settle(crypto.subtle.digest({}, bytes('a')))", "TypeError");
	expect("settle(crypto.subtle.digest('SHA-256', 'abc'))", "TypeError");
	expect("settle(crypto.subtle.digest('SHA-256', [1, 2]))", "TypeError");
	expect("settle(crypto.subtle.digest('SHA-256'))", "TypeError");
	/* An error is a rejection, never a throw. */
	expect("(function () { try { var p = crypto.subtle.digest(); }"
	    " catch (e) { return 'threw'; } return settle(p); })()",
	    "TypeError");
}
END_TEST

START_TEST(test_import_key_shape)
{
	expect("crypto.subtle.importKey('raw', bytes('abc'), { name: 'hmac',"
	    " hash: { name: 'sha-512' } }, true, ['verify', 'sign', 'sign'])"
	    ".then(function (k) { return [String(k), k.type, k.extractable,"
	    " JSON.stringify(k.algorithm), JSON.stringify(k.usages),"
	    " k.usages === k.usages].join(' '); })",
	    "[object CryptoKey] secret true {\"name\":\"HMAC\",\"length\":24,"
	    "\"hash\":{\"name\":\"SHA-512\"}} [\"sign\",\"verify\"] true");
	/* length: within the last byte of the key, in bits. */
	expect("Promise.all([17, 24].map(function (n) { return"
	    " crypto.subtle.importKey('raw', bytes('abc'), { name: 'HMAC',"
	    " hash: 'SHA-1', length: n }, false, ['sign']); }))"
	    ".then(function (l) { return l[0].algorithm.length + ' ' +"
	    " l[1].algorithm.length; })", "17 24");
}
END_TEST

START_TEST(test_import_key_errors)
{
	static const struct {
		const char	*expr;
		const char	*want;
	} cases[] = {
		{ "key(['encrypt'])", "SyntaxError(12)" },
		{ "key([])", "SyntaxError(12)" },
		{ "key(['bogus'])", "TypeError" },
		{ "key('sign')", "TypeError" },
		{ "key(['sign'], false, new Uint8Array(0))", "DataError(0)" },
		{ "key(['sign'], false, 'secret')", "TypeError" },
		{ "crypto.subtle.importKey('raw', bytes('k'), { name: 'HMAC' },"
		  " false, ['sign'])", "TypeError" },
		{ "crypto.subtle.importKey('raw', bytes('k'), { name: 'HMAC',"
		  " hash: 'MD5' }, false, ['sign'])", "NotSupportedError(9)" },
		{ "crypto.subtle.importKey('raw', bytes('k'), 'AES-GCM', false,"
		  " ['encrypt'])", "NotSupportedError(9)" },
		{ "crypto.subtle.importKey('jwk', { kty: 'oct', k: 'AA' },"
		  " { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])",
		  "NotSupportedError(9)" },
		{ "crypto.subtle.importKey('pem', bytes('k'), { name: 'HMAC',"
		  " hash: 'SHA-256' }, false, ['sign'])", "TypeError" },
		{ "crypto.subtle.importKey('raw', bytes('abc'), { name: 'HMAC',"
		  " hash: 'SHA-256', length: 16 }, false, ['sign'])",
		  "DataError(0)" },
		{ "crypto.subtle.importKey('raw', bytes('abc'), { name: 'HMAC',"
		  " hash: 'SHA-256', length: 25 }, false, ['sign'])",
		  "DataError(0)" },
		{ "crypto.subtle.importKey('raw', bytes('abc'), { name: 'HMAC',"
		  " hash: 'SHA-256', length: 0 }, false, ['sign'])",
		  "DataError(0)" },
		{ "crypto.subtle.importKey('raw', bytes('abc'), { name: 'HMAC',"
		  " hash: 'SHA-256', length: NaN }, false, ['sign'])",
		  "TypeError" },
		{ "crypto.subtle.importKey('raw', bytes('abc'), { name: 'HMAC',"
		  " hash: 'SHA-256' }, false)", "TypeError" },
	};
	char expr[512];
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		snprintf(expr, sizeof(expr), "settle(%s)", cases[i].expr);
		expect(expr, cases[i].want);
	}
}
END_TEST

START_TEST(test_sign_verify_checks)
{
	expect("key(['verify']).then(function (k) { return"
	    " settle(crypto.subtle.sign('HMAC', k, bytes('x'))); })",
	    "InvalidAccessError(15)");
	expect("key(['sign']).then(function (k) { return settle("
	    "crypto.subtle.verify('HMAC', k, new Uint8Array(32), bytes('x')));"
	    " })", "InvalidAccessError(15)");
	expect("key(['sign']).then(function (k) { return"
	    " settle(crypto.subtle.sign('SHA-256', k, bytes('x'))); })",
	    "NotSupportedError(9)");
	expect("key(['sign']).then(function (k) { return"
	    " settle(crypto.subtle.sign('HMAC', k, 'x')); })", "TypeError");
	expect("key(['sign']).then(function (k) { return"
	    " settle(crypto.subtle.sign('HMAC', k)); })", "TypeError");
	/* Not keys: a look-alike, an object made from the prototype. */
	expect("key(['sign']).then(function (k) { return Promise.all(["
	    " settle(crypto.subtle.sign('HMAC', { type: 'secret', algorithm:"
	    "  k.algorithm, usages: ['sign'], extractable: true }, bytes('x'))),"
	    " settle(crypto.subtle.sign('HMAC', Object.create("
	    "  Object.getPrototypeOf(k)), bytes('x'))),"
	    " settle(crypto.subtle.sign('HMAC', null, bytes('x')))]); })",
	    "TypeError,TypeError,TypeError");
	/* What a key shows is not what it is. */
	expect("key(['verify']).then(function (k) { k.usages.push('sign');"
	    " k.algorithm.name = 'X'; k.algorithm.hash.name = 'SHA-1';"
	    " return settle(crypto.subtle.sign('HMAC', k, bytes('x'))); })",
	    "InvalidAccessError(15)");
	expect("key(['sign']).then(function (k) { k.algorithm.hash.name ="
	    " 'SHA-1'; return crypto.subtle.sign('HMAC', k, bytes('x')); })"
	    ".then(function (s) { return s.byteLength; })", "32");
	/* A signature of another length, or of other data, is false. */
	expect("key(['sign', 'verify']).then(function (k) {"
	    " return crypto.subtle.sign('HMAC', k, bytes('x')).then("
	    " function (s) { return Promise.all(["
	    "  crypto.subtle.verify('HMAC', k, new DataView(s), bytes('x')),"
	    "  crypto.subtle.verify('HMAC', k, s, bytes('y')),"
	    "  crypto.subtle.verify('HMAC', k, new Uint8Array(0), bytes('x')),"
	    "  crypto.subtle.verify('HMAC', k, new Uint8Array(64), bytes('x'))"
	    " ]); }); })", "true,false,false,false");
}
END_TEST

START_TEST(test_key_bytes_stay_hidden)
{
	expect("key(['sign']).then(function (k) { var s = JSON.stringify(k),"
	    " own = Object.getOwnPropertyNames(k).length +"
	    " Object.getOwnPropertySymbols(k).length, found = [], p;"
	    " for (p in k) found.push(p);"
	    " return [s, own, found.sort().join('/')].join(' '); })",
	    "{} 0 algorithm/extractable/type/usages");
	expect("key(['sign']).then(function (k) {"
	    " return settle(crypto.subtle.exportKey('raw', k)); })",
	    "InvalidAccessError(15)");
	expect("key(['sign'], true).then(function (k) { return Promise.all(["
	    " crypto.subtle.exportKey('raw', k).then(hex),"
	    " settle(crypto.subtle.exportKey('jwk', k)),"
	    " settle(crypto.subtle.exportKey('raw', {}))]); })",
	    "736563726574,NotSupportedError(9),TypeError");
	/* The copy is the key's: changing the imported bytes or the export
	 * changes nothing. */
	expect("(function () { var b = bytes('secret'); return key(['sign'],"
	    " true, b).then(function (k) { b[0] = 0; return"
	    " crypto.subtle.exportKey('raw', k).then(function (e) {"
	    " new Uint8Array(e)[1] = 0; return crypto.subtle.exportKey('raw',"
	    " k); }); }); })().then(hex)", "736563726574");
	/* No key is made but by importKey. */
	expect("Object.prototype.toString.call(crypto) + ' ' +"
	    " Object.prototype.toString.call(crypto.subtle)",
	    "[object Crypto] [object SubtleCrypto]");
	expect("key(['sign']).then(function (k) { try { new"
	    " (Object.getPrototypeOf(k).constructor)(); return 'made'; }"
	    " catch (e) { return e.name + ': ' + e.message; } })",
	    "TypeError: Illegal constructor");
}
END_TEST

START_TEST(test_get_random_values)
{
	expect("[Int8Array, Uint8Array, Uint8ClampedArray, Int16Array,"
	    " Uint16Array, Int32Array, Uint32Array].map(function (T) {"
	    " var a = new T(4); return crypto.getRandomValues(a) === a; })"
	    ".join()", "true,true,true,true,true,true,true");
	expect("[new Float32Array(2), new Float64Array(2),"
	    " new DataView(new ArrayBuffer(2))].map(function (a) {"
	    " try { crypto.getRandomValues(a); return 'no'; }"
	    " catch (e) { return named(e); } }).join()",
	    "TypeMismatchError(17),TypeMismatchError(17),"
	    "TypeMismatchError(17)");
	expect("[new ArrayBuffer(2), 'abc', undefined, [1, 2]].map("
	    "function (a) { try { crypto.getRandomValues(a); return 'no'; }"
	    " catch (e) { return named(e); } }).join()",
	    "TypeError,TypeError,TypeError,TypeError");
	/* 65536 bytes at most, counted in bytes. */
	expect("[new Uint8Array(65536), new Uint8Array(65537),"
	    " new Uint32Array(16384), new Uint32Array(16385)].map("
	    "function (a) { try { crypto.getRandomValues(a); return 'ok'; }"
	    " catch (e) { return named(e); } }).join()",
	    "ok,QuotaExceededError(22),ok,QuotaExceededError(22)");
	/* Only the view's bytes are drawn; two draws differ. */
	expect("(function () { var a = new Uint8Array(64), i, outside = 0;"
	    " crypto.getRandomValues(a.subarray(8, 40));"
	    " for (i = 0; i < 8; i++) outside |= a[i] | a[i + 56];"
	    " return outside + ' ' + (hex(a.subarray(8, 24)) !=="
	    " hex(a.subarray(24, 40))); })()", "0 true");
}
END_TEST

START_TEST(test_random_uuid)
{
	expect("(function () { var seen = {}, bad = 0, i, u;"
	    " for (i = 0; i < 1000; i++) { u = crypto.randomUUID();"
	    " if (!/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
	    "[0-9a-f]{12}$/.test(u) || seen[u]) bad++; seen[u] = 1; }"
	    " return bad; })()", "0");
}
END_TEST

START_TEST(test_text_encoder)
{
	expect("hex(new TextEncoder().encode('a\\u00e9\\u20ac\\ud83d\\ude00'))",
	    "61c3a9e282acf09f9880");
	/* Lone surrogates become U+FFFD (WHATWG Encoding: USVString). */
	expect("hex(new TextEncoder().encode('\\ud800x\\udc00\\ud800\\ud83d"
	    "\\ude00\\ud83d'))", "efbfbd78efbfbdefbfbdf09f9880efbfbd");
	expect("hex(new TextEncoder().encode(12)) + ' ' + new TextEncoder()"
	    ".encode().length + ' ' + new TextEncoder().encoding",
	    "3132 0 utf-8");
	/* A string from outside (the body) holds astral characters as the
	 * one door pushed them: they encode to the same bytes. */
	expect("units(new TextDecoder().decode(unhex('f09f9880')))"
	    " + ' ' + (new TextDecoder().decode(unhex('f09f9880')) ==="
	    " '\\ud83d\\ude00')", "d83d de00 true");
}
END_TEST

START_TEST(test_text_round_trips)
{
	expect("['', 'abc', 'a\\u00e9\\u20ac\\ud83d\\ude00z',"
	    " '\\u0000\\uffff\\ud7ff\\ue000\\udbff\\udfff']"
	    ".map(function (s) { return new TextDecoder().decode("
	    " new TextEncoder().encode(s)) === s; }).join()",
	    "true,true,true,true");
	expect("hex(new TextEncoder().encode(new TextDecoder().decode("
	    "unhex('00c280dfbfe0a080efbfbff0908080f48fbfbf'))))",
	    "00c280dfbfe0a080efbfbff0908080f48fbfbf");
}
END_TEST

START_TEST(test_text_decoder_invalid)
{
	/* WHATWG's decoder: one U+FFFD per maximal invalid subpart. */
	expect("units(new TextDecoder().decode(unhex("
	    "'61ff62c0afe0808063eda080f490808064e282')))",
	    "61 fffd 62 fffd fffd fffd fffd fffd 63 fffd fffd fffd fffd fffd "
	    "fffd fffd 64 fffd");
	expect("['ff', 'c0af', 'eda080', 'f4908080', 'e282', '80', 'f09f98']"
	    ".map(function (h) { try { new TextDecoder('utf-8', { fatal:"
	    " true }).decode(unhex(h)); return 'no'; } catch (e) {"
	    " return e.name; } }).join()",
	    "TypeError,TypeError,TypeError,TypeError,TypeError,TypeError,"
	    "TypeError");
	expect("(function () { var d = new TextDecoder('utf-8', { fatal:"
	    " true }); return [d.fatal, d.ignoreBOM, d.encoding,"
	    " units(d.decode(unhex('f09f9880')))].join(); })()",
	    "true,false,utf-8,d83d de00");
	/* A decoded string is a string, never one of the engine's symbols,
	 * whatever byte it starts with. */
	expect("['ff41', '82', 'fe', '80ff'].map(function (h) {"
	    " var s = new TextDecoder().decode(unhex(h)), o = {}; o[s] = 1;"
	    " return typeof s + ':' + units(s) + ':' +"
	    " Object.keys(o).length; }).join()",
	    "string:fffd 41:1,string:fffd:1,string:fffd:1,string:fffd fffd:1");
}
END_TEST

START_TEST(test_text_decoder_bom_stream)
{
	expect("[new TextDecoder().decode(unhex('efbbbf41')),"
	    " new TextDecoder().decode(unhex('efbbbfefbbbf41')),"
	    " new TextDecoder('utf-8', { ignoreBOM: true })"
	    ".decode(unhex('efbbbf41'))].map(units).join()",
	    "41,feff 41,feff 41");
	expect("(function () { var d = new TextDecoder();"
	    " return units(d.decode(unhex('f09f'), { stream: true }) +"
	    " d.decode(unhex('9880'))); })()", "d83d de00");
	expect("units(new TextDecoder().decode(new DataView(unhex('x4142y'"
	    ".replace(/[xy]/g, '00')).buffer, 1, 2)))", "41 42");
}
END_TEST

/* A function that only draws random values never loads Promise; one
 * that never reads crypto never loads it; one that assigns the name
 * keeps its own value. */
START_TEST(test_loading)
{
	static const char *const srcs[] = {
		"module.exports = function (req, res) {"
		" res.send(crypto.randomUUID().length + ' ' +"
		" crypto.getRandomValues(new Uint8Array(4)).length); };",
		"module.exports = function (req, res) { res.send('x'); };",
		"var crypto = 'mine'; module.exports = function (req, res) {"
		" res.send(crypto); };",
	};
	static const char *const bodies[] = { "36 4", "x", "mine" };
	static const unsigned loaded_after[] = { 1u << LIB_CRYPTO, 0, 0 };
	struct sandbox_result res;
	struct sandbox *sb;
	size_t i;

	for (i = 0; i < NELEM(srcs); i++) {
		sb = sandbox_loaded(srcs[i], &LIM);
		(void)sandbox_call(sb, &PLAIN_RQ, &res);
		ck_outcome(res, OUT_OK);
		ck_assert_str_eq(res.body, bodies[i]);
		ck_assert_uint_eq(sb->lib.loaded, loaded_after[i]);
		sandbox_result_free(&res);
		sandbox_free(sb);
	}
}
END_TEST

/* Data near the heap's cap: the engine's memory_limit, never a crash;
 * what fits is hashed. */
START_TEST(test_memory_cap)
{
	static const char *const srcs[] = {
		"module.exports = function (req, res) { return"
		" crypto.subtle.digest('SHA-512', new Uint8Array(6 << 20))"
		".then(function (d) { res.send(String(d.byteLength)); }); };",
		"module.exports = function (req, res) { var s = 'ab';"
		" while (s.length < (1 << 20)) s += s; return"
		" crypto.subtle.importKey('raw', new TextEncoder().encode(s),"
		" { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])"
		".then(function (k) { return crypto.subtle.sign('HMAC', k,"
		" new Uint8Array(1 << 20)); }).then(function (m) {"
		" res.send(String(m.byteLength)); }); };",
		"module.exports = function (req, res) { return"
		" crypto.subtle.digest('SHA-512', new Uint8Array(9 << 20))"
		".then(function (d) { res.send('no'); }); };",
		"module.exports = function (req, res) { var s = 'ab', b;"
		" while (s.length < (4 << 20)) s += s;"
		" try { b = new TextEncoder().encode(s); } catch (e) {}"
		" res.send('no'); };",
		"module.exports = function (req, res) { var keys = [], i;"
		" var k = new Uint8Array(1 << 20);"
		" for (i = 0; i < 64; i++) keys.push(crypto.subtle.importKey("
		" 'raw', k, { name: 'HMAC', hash: 'SHA-256' }, false,"
		" ['sign'])); return Promise.all(keys).then(function () {"
		" res.send('no'); }); };",
	};
	static const char *const bodies[] = { "64", "32" };
	struct sandbox_limits lim = LIM;
	struct sandbox_result res;
	struct sandbox *sb;
	enum outcome want;
	size_t i;

	/* Time is not what this is about (the sanitizer build is slow). */
	lim.timeout_ms = 20000;
	lim.memory_bytes = 8 * MiB;
	for (i = 0; i < NELEM(srcs); i++) {
		sb = sandbox_loaded(srcs[i], &lim);
		(void)sandbox_call(sb, &PLAIN_RQ, &res);
		want = i < NELEM(bodies) ? OUT_OK : OUT_MEMORY_LIMIT;
		ck_assert_msg(res.outcome == want, "source %zu: outcome %s, "
		    "want %s (%s)", i, outcome_code(res.outcome),
		    outcome_code(want), res.message);
		if (i < NELEM(bodies))
			ck_assert_str_eq(res.body, bodies[i]);
		sandbox_result_free(&res);
		sandbox_free(sb);
	}
}
END_TEST

/* One call of sb under a deadline of timeout_ms; returns its seconds. */
static double
timed_call(struct sandbox *sb, unsigned timeout_ms, enum outcome want,
    const char *body)
{
	struct sandbox_result res;
	int64_t t0;

	sb->lim.timeout_ms = timeout_ms;
	t0 = clock_ns();
	(void)sandbox_call(sb, &PLAIN_RQ, &res);
	t0 = clock_ns() - t0;
	ck_outcome(res, want);
	if (body != NULL)
		ck_assert_str_eq(res.body, body);
	sandbox_result_free(&res);
	return (double)t0 / 1e9;
}

/* Data past what the deadline allows: the digest (and the HMAC, whose
 * long key is hashed first) stop at the deadline, checked between chunks,
 * instead of running to their end in one native call past the watchdog.
 * A first call makes the data (or the key) and keeps it; the second one
 * hashes it. Only measured times are compared: cut at a 20 ms deadline,
 * the second call takes less than half what it takes in full. */
START_TEST(test_deadline_inside_a_digest)
{
	static const char *const srcs[] = {
		"var d; module.exports = function (req, res) {"
		" if (!d) { d = new Uint8Array(96 << 20); res.send('made');"
		" return; } return crypto.subtle.digest('SHA-512', d)"
		".then(function () { res.send('done'); }); };",
		"var k; module.exports = function (req, res) {"
		" if (!k) return crypto.subtle.importKey('raw',"
		" new Uint8Array(96 << 20), { name: 'HMAC', hash: 'SHA-512' },"
		" false, ['sign']).then(function (key) { k = key;"
		" res.send('made'); });"
		" return crypto.subtle.sign('HMAC', k, new Uint8Array(1))"
		".then(function () { res.send('done'); }); };",
	};
	struct sandbox_limits lim = LIM;
	struct sandbox *sb;
	double whole, cut;
	size_t i;

	lim.memory_bytes = 256 * MiB;
	for (i = 0; i < NELEM(srcs); i++) {
		sb = sandbox_loaded(srcs[i], &lim);
		(void)timed_call(sb, 60000, OUT_OK, "made");
		whole = timed_call(sb, 60000, OUT_OK, "done");
		sandbox_free(sb);

		sb = sandbox_loaded(srcs[i], &lim);
		(void)timed_call(sb, 60000, OUT_OK, "made");
		cut = timed_call(sb, 20, OUT_TIMEOUT, NULL);
		ck_assert_msg(cut * 2 < whole, "source %zu: cut at the deadline "
		    "after %.3f s, the whole call %.3f s", i, cut, whole);
		sandbox_free(sb);
	}
}
END_TEST

static Suite *
crypto_suite(void)
{
	Suite *s = suite_create("crypto");
	TCase *tc;

	tc = tcase_create("vectors");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_rfc4231_hmac, 0, 2 * NELEM(rfc4231));
	tcase_add_loop_test(tc, test_fips180_digests, 0, 12);
	suite_add_tcase(s, tc);

	tc = tcase_create("subtle");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_digest_inputs);
	tcase_add_test(tc, test_digest_errors);
	tcase_add_test(tc, test_import_key_shape);
	tcase_add_test(tc, test_import_key_errors);
	tcase_add_test(tc, test_sign_verify_checks);
	tcase_add_test(tc, test_key_bytes_stay_hidden);
	suite_add_tcase(s, tc);

	tc = tcase_create("random");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_get_random_values);
	tcase_add_test(tc, test_random_uuid);
	suite_add_tcase(s, tc);

	tc = tcase_create("text");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_text_encoder);
	tcase_add_test(tc, test_text_round_trips);
	tcase_add_test(tc, test_text_decoder_invalid);
	tcase_add_test(tc, test_text_decoder_bom_stream);
	suite_add_tcase(s, tc);

	tc = tcase_create("heap");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_loading);
	tcase_add_test(tc, test_memory_cap);
	tcase_add_test(tc, test_deadline_inside_a_digest);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(crypto_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
