/*
 * check_lib_web.c - conformance of the library's web built-ins (SPEC §11)
 * run inside a real heap: URL and URLSearchParams (lib_url.c, url.js,
 * fcgi-app/net/url.c), atob and btoa (lib_base64.c), structuredClone
 * (clone.js) and performance.now() (lib_performance.c); their lazy
 * loading; hostile inputs.
 *
 * Each case is an expression evaluated by one function in one heap, and
 * the text it gives: a string as it is, anything else as JSON, a throw as
 * "throws <name>: <message>". Where the cases come from:
 *   URL: WHATWG URL's urltestdata.json (web-platform-tests url/resources),
 *        the entries about http(s), ports, hosts, IPv4/IPv6, userinfo,
 *        percent-encoding and relative references, with their expected
 *        href; and MDN's URL page examples. Written out here, not copied.
 *   URLSearchParams: MDN's examples and the URL Standard's §5 prose.
 *   atob/btoa: the HTML Standard's forgiving-base64 rules (wpt
 *        html/webappapis/atob cases written from them).
 *   structuredClone: MDN's structuredClone page.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox_fixture.h"
#include "sandbox_internal.h"

#define ck_outcome(res, want) \
	ck_assert_msg((res).outcome == (want), "outcome %s, want %s (%s)", \
	    outcome_code((res).outcome), outcome_code(want), (res).message)

static const char EVAL_SRC[] =
    "module.exports = function (req, res) {\n"
    "  var v;\n"
    "  try {\n"
    "    v = (0, eval)(req.body);\n"
    "    if (typeof v !== 'string') v = JSON.stringify(v);\n"
    "  } catch (e) { v = 'throws ' + e.name + ': ' + e.message; }\n"
    "  res.send(String(v));\n"
    "};";

struct js_case {
	const char	*expr;
	const char	*want;
};

static struct sandbox *
loaded(const char *src)
{
	return sandbox_loaded(src, &LIM);
}

/* Evaluates expr in sb's eval function; the body is the caller's. */
static void
eval_in(struct sandbox *sb, const char *expr, struct sandbox_result *res)
{
	struct sandbox_request rq = PLAIN_RQ;

	rq.body = expr;
	rq.body_len = strlen(expr);
	(void)sandbox_call(sb, &rq, res);
}

/* Runs every case in one heap; reports each that fails. */
static void
run_cases(const struct js_case *c, size_t n)
{
	struct sandbox *sb = loaded(EVAL_SRC);
	struct sandbox_result res;
	size_t i, failed = 0;

	for (i = 0; i < n; i++) {
		eval_in(sb, c[i].expr, &res);
		if (res.outcome != OUT_OK || res.body_len != strlen(c[i].want) ||
		    memcmp(res.body, c[i].want, res.body_len) != 0) {
			fprintf(stderr, "FAIL %s\n  got  %.*s (%s)\n  want %s\n",
			    c[i].expr, (int)res.body_len, res.body != NULL ?
			    res.body : "", outcome_code(res.outcome), c[i].want);
			failed++;
		}
		sandbox_result_free(&res);
	}
	sandbox_free(sb);
	ck_assert_msg(failed == 0, "%zu of %zu cases failed", failed, n);
}

/* href of new URL(input, base): urltestdata.json, the http(s) entries. */
static const struct js_case url_href_cases[] = {
	{ "new URL('http://example\\t.\\norg', 'http://example.org/foo/bar').href",
	  "http://example.org/" },
	{ "new URL('http://user:pass@foo:21/bar;par?b#c').href",
	  "http://user:pass@foo:21/bar;par?b#c" },
	{ "new URL('https://test:@test').href", "https://test@test/" },
	{ "new URL('https://:@test').href", "https://test/" },
	{ "new URL('http:foo.com', 'http://example.org/foo/bar').href",
	  "http://example.org/foo/foo.com" },
	{ "new URL('\\t   :foo.com   \\n', 'http://example.org/foo/bar').href",
	  "http://example.org/foo/:foo.com" },
	{ "new URL(' foo.com  ', 'http://example.org/foo/bar').href",
	  "http://example.org/foo/foo.com" },
	{ "new URL('http://f:21/ b ? d # e ').href",
	  "http://f:21/%20b%20?%20d%20#%20e" },
	{ "new URL('http://f:/c').href", "http://f/c" },
	{ "new URL('http://f:0/c').href", "http://f:0/c" },
	{ "new URL('http://f:00000000000000/c').href", "http://f:0/c" },
	{ "new URL('http://f:00000000000000000000080/c').href", "http://f/c" },
	{ "new URL('http://f:b/c').href", "throws TypeError: Invalid URL" },
	{ "new URL('http://f: /c').href", "throws TypeError: Invalid URL" },
	{ "new URL('http://f:999999/c').href", "throws TypeError: Invalid URL" },
	{ "new URL('', 'http://example.org/foo/bar').href",
	  "http://example.org/foo/bar" },
	{ "new URL('  \\t', 'http://example.org/foo/bar').href",
	  "http://example.org/foo/bar" },
	{ "new URL(':foo.com/', 'http://example.org/foo/bar').href",
	  "http://example.org/foo/:foo.com/" },
	{ "new URL(':foo.com\\\\', 'http://example.org/foo/bar').href",
	  "http://example.org/foo/:foo.com/" },
	{ "new URL(':#', 'http://example.org/foo/bar').href",
	  "http://example.org/foo/:#" },
	{ "new URL('#', 'http://example.org/foo/bar').href",
	  "http://example.org/foo/bar#" },
	{ "new URL('#;?', 'http://example.org/foo/bar').href",
	  "http://example.org/foo/bar#;?" },
	{ "new URL('?', 'http://example.org/foo/bar').href",
	  "http://example.org/foo/bar?" },
	{ "new URL('/', 'http://example.org/foo/bar').href",
	  "http://example.org/" },
	{ "new URL('\\\\x', 'http://example.org/foo/bar').href",
	  "http://example.org/x" },
	{ "new URL('\\\\\\\\x\\\\hello', 'http://example.org/foo/bar').href",
	  "http://x/hello" },
	{ "new URL('::23', 'http://example.org/foo/bar').href",
	  "http://example.org/foo/::23" },
	{ "new URL('http::@c:29', 'http://example.org/foo/bar').href",
	  "http://example.org/foo/:@c:29" },
	{ "new URL('http://&a:foo(b]c@d:2/').href", "http://&a:foo(b%5Dc@d:2/" },
	{ "new URL('http://::@c@d:2').href", "http://:%3A%40c@d:2/" },
	{ "new URL('http://foo.com:b@d/').href", "http://foo.com:b@d/" },
	{ "new URL('http://foo.com/\\\\@').href", "http://foo.com//@" },
	/* Relative references (RFC 3986 §5.4's examples, as WHATWG gives
	 * them). */
	{ "new URL('../d', 'https://a/b/c/d;p?q').href", "https://a/b/d" },
	{ "new URL('./g', 'https://a/b/c/d;p?q').href", "https://a/b/c/g" },
	{ "new URL('g/', 'https://a/b/c/d;p?q').href", "https://a/b/c/g/" },
	{ "new URL('//g', 'https://a/b/c/d;p?q').href", "https://g/" },
	{ "new URL('?y', 'https://a/b/c/d;p?q').href", "https://a/b/c/d;p?y" },
	{ "new URL('#s', 'https://a/b/c/d;p?q').href",
	  "https://a/b/c/d;p?q#s" },
	{ "new URL('g?y#s', 'https://a/b/c/d;p?q').href", "https://a/b/c/g?y#s" },
	{ "new URL('../../../g', 'https://a/b/c/d;p?q').href", "https://a/g" },
	{ "new URL('/./g', 'https://a/b/c/d;p?q').href", "https://a/g" },
	{ "new URL('g/../h', 'https://a/b/c/d;p?q').href", "https://a/b/c/h" },
	{ "new URL('..', 'https://a/b/c/d;p?q').href", "https://a/b/" },
	{ "new URL('x', 'https://u:p@a:8443/b/c?q#f').href",
	  "https://u:p@a:8443/b/x" },
	{ "new URL('//h2/p', 'https://u:p@a/b').href", "https://h2/p" },
	{ "new URL('http://other/', 'https://a/b').href", "http://other/" },
	/* Hosts: case, IDNA, IPv4 forms, IPv6. */
	{ "new URL('HTTPS://EXAMPLE.COM/Path').href", "https://example.com/Path" },
	{ "new URL('https://münchen.de/').host", "xn--mnchen-3ya.de" },
	{ "new URL('https://%41.com/').host", "a.com" },
	{ "new URL('http://0x7f.1/').host", "127.0.0.1" },
	{ "new URL('http://127.1/').host", "127.0.0.1" },
	{ "new URL('http://[0:0::1]:8080/').host", "[::1]:8080" },
	{ "new URL('http://[::FFFF:127.0.0.1]/').hostname", "[::ffff:7f00:1]" },
	{ "new URL('http://[1:0:0:2::3:0]/').hostname", "[1::2:0:0:3:0]" },
	{ "new URL('http://[2001:db8::1]/').origin", "http://[2001:db8::1]" },
	{ "new URL('http://[fe80::1%25eth0]/').href",
	  "throws TypeError: Invalid URL" },
	{ "new URL('http://[::1/').href", "throws TypeError: Invalid URL" },
	{ "new URL('https://a b/').href", "throws TypeError: Invalid URL" },
	{ "new URL('https://').href", "throws TypeError: Invalid URL" },
	/* Default ports go, others stay. */
	{ "new URL('https://x.com:443/').href", "https://x.com/" },
	{ "new URL('http://x.com:80/').href", "http://x.com/" },
	{ "new URL('https://x.com:80/').href", "https://x.com:80/" },
	{ "new URL('ws://x.com:80/').href", "ws://x.com/" },
	{ "new URL('wss://x.com:443/').port", "" },
	/* Percent-encoding, each component with its set. */
	{ "new URL('https://x.com/a b/ü?q=a b&c=ü#frag ment').href",
	  "https://x.com/a%20b/%C3%BC?q=a%20b&c=%C3%BC#frag%20ment" },
	{ "new URL(\"https://x.com/?q='\\\"<>\").search", "?q=%27%22%3C%3E" },
	{ "new URL('https://x.com/{}`|').pathname", "/%7B%7D%60|" },
	{ "new URL('https://x.com/%2e%2E/a/%2e/b').pathname", "/a/b" },
	{ "new URL('https://x.com/a%2Fb%zz').pathname", "/a%2Fb%zz" },
	{ "new URL('https://x.com/\\ud83d\\ude00').pathname",
	  "/%F0%9F%98%80" },
	{ "new URL('https://x.com/\\ud83d').pathname", "/%EF%BF%BD" },
	{ "new URL('http://a@b@x/').username", "a%40b" },
	/* Special schemes without slashes; scheme case. */
	{ "new URL('https:x.com').href", "https://x.com/" },
	{ "new URL('https:/x.com').href", "https://x.com/" },
	{ "new URL('https:///x.com').href", "https://x.com/" },
	{ "new URL('HtTp://x/').protocol", "http:" },
	/* Other schemes with an authority. */
	{ "new URL('postgres://u:p@db:5432/app?ssl=1').host", "db:5432" },
	{ "new URL('postgres://db/app').origin", "null" },
	{ "new URL('file:///etc/hosts').pathname", "/etc/hosts" },
	/* Failures. */
	{ "new URL('/relative').href", "throws TypeError: Invalid URL" },
	{ "new URL('x', 'not a url').href", "throws TypeError: Invalid URL" },
	{ "new URL('').href", "throws TypeError: Invalid URL" },
	{ "new URL().href", "throws TypeError: Invalid URL" },
	{ "URL('https://x/')", "throws TypeError: Constructor URL requires "
	  "'new'" },
};

/* Every getter; MDN's URL examples. */
static const struct js_case url_part_cases[] = {
	{ "var u = new URL('https://user:pw@Example.com:8080/p/a/t/h?query=string"
	  "#hash'); [u.href, u.origin, u.protocol, u.username, u.password, "
	  "u.host, u.hostname, u.port, u.pathname, u.search, u.hash]",
	  "[\"https://user:pw@example.com:8080/p/a/t/h?query=string#hash\","
	  "\"https://example.com:8080\",\"https:\",\"user\",\"pw\","
	  "\"example.com:8080\",\"example.com\",\"8080\",\"/p/a/t/h\","
	  "\"?query=string\",\"#hash\"]" },
	{ "var u = new URL('https://x.com?'); [u.href, u.search]",
	  "[\"https://x.com/?\",\"\"]" },
	{ "var u = new URL('https://x.com#'); [u.href, u.hash]",
	  "[\"https://x.com/#\",\"\"]" },
	{ "String(new URL('https://x.com/a'))", "https://x.com/a" },
	{ "JSON.stringify({u: new URL('https://x.com/a')})",
	  "{\"u\":\"https://x.com/a\"}" },
	{ "[URL.canParse('https://x/'), URL.canParse('nope'), "
	  "URL.canParse('/a', 'https://x/')]", "[true,false,true]" },
	{ "[URL.parse('nope'), URL.parse('/a', 'https://x/').href]",
	  "[null,\"https://x/a\"]" },
	{ "new URL(new URL('https://x.com/a')).href", "https://x.com/a" },
	{ "new URL('b', new URL('https://x.com/a/')).href",
	  "https://x.com/a/b" },
	{ "Object.prototype.toString.call(new URL('https://x/'))",
	  "[object URL]" },
	{ "Object.keys(new URL('https://x/')).length", "0" },
};

/* Setters: an invalid value changes nothing (the Standard's setters). */
static const struct js_case url_setter_cases[] = {
	{ "var u = new URL('https://x.com/a?b#c'); u.pathname = '/p q?#'; u.href",
	  "https://x.com/p%20q%3F%23?b#c" },
	{ "var u = new URL('https://x.com/a'); u.pathname = 'rel'; u.pathname",
	  "/rel" },
	{ "var u = new URL('https://x.com/a'); u.search = 'q=1 2#'; u.href",
	  "https://x.com/a?q=1%202%23" },
	{ "var u = new URL('https://x.com/a?q'); u.search = ''; u.href",
	  "https://x.com/a" },
	{ "var u = new URL('https://x.com/a'); u.search = '?'; u.href",
	  "https://x.com/a?" },
	{ "var u = new URL('https://x.com/a#f'); u.hash = 'g h'; u.href",
	  "https://x.com/a#g%20h" },
	{ "var u = new URL('https://x.com/a#f'); u.hash = ''; u.href",
	  "https://x.com/a" },
	{ "var u = new URL('https://x.com/'); u.host = 'Y.org:8080'; u.href",
	  "https://y.org:8080/" },
	{ "var u = new URL('https://x.com:81/'); u.hostname = 'y.org'; u.href",
	  "https://y.org:81/" },
	{ "var u = new URL('https://x.com/'); u.hostname = 'a b'; u.href",
	  "https://x.com/" },
	{ "var u = new URL('https://x.com/'); u.port = '8443'; u.href",
	  "https://x.com:8443/" },
	{ "var u = new URL('https://x.com:8443/'); u.port = '443'; u.href",
	  "https://x.com/" },
	{ "var u = new URL('https://x.com:8443/'); u.port = ''; u.href",
	  "https://x.com/" },
	{ "var u = new URL('https://x.com/'); u.port = '99999'; u.href",
	  "https://x.com/" },
	{ "var u = new URL('https://x.com/'); u.port = '12ab'; u.port", "12" },
	{ "var u = new URL('https://x.com/'); u.username = 'a@b'; "
	  "u.password = 'p:w'; u.href", "https://a%40b:p%3Aw@x.com/" },
	{ "var u = new URL('https://x.com/'); u.protocol = 'http'; u.href",
	  "http://x.com/" },
	{ "var u = new URL('https://x.com/'); u.protocol = 'foo'; u.href",
	  "https://x.com/" },
	{ "var u = new URL('https://x.com/'); u.href = 'http://y/z'; u.host",
	  "y" },
	{ "var u = new URL('https://x.com/'); u.href = 'nope'; u.host",
	  "throws TypeError: Invalid URL" },
};

/* searchParams, live both ways; URLSearchParams (MDN, URL Standard §5). */
static const struct js_case params_cases[] = {
	{ "var u = new URL('https://x.com/?a=1&b=2&a=3'); "
	  "[u.searchParams.get('a'), u.searchParams.getAll('a'), "
	  "u.searchParams.get('c'), u.searchParams.has('b'), "
	  "u.searchParams.size]", "[\"1\",[\"1\",\"3\"],null,true,3]" },
	{ "var u = new URL('https://x.com/p?a=1'); u.searchParams.append('q', "
	  "'a b&c=d/é'); u.href",
	  "https://x.com/p?a=1&q=a+b%26c%3Dd%2F%C3%A9" },
	{ "var u = new URL('https://x.com/p?a=1#h'); u.searchParams.delete('a'); "
	  "u.href", "https://x.com/p#h" },
	{ "var u = new URL('https://x.com/p?a=1'); var s = u.searchParams; "
	  "u.search = '?z=9'; [s.get('a'), s.get('z')]", "[null,\"9\"]" },
	{ "var u = new URL('https://x.com/p?a=1'); var s = u.searchParams; "
	  "u.href = 'https://y/?k=v'; s.get('k')", "v" },
	{ "var u = new URL('https://x.com/?a=%20+b&c=%zz&%E2%82%AC=%ff'); "
	  "var o = []; u.searchParams.forEach(function (v, k) { o.push([k, v]); }); o",
	  "[[\"a\",\"  b\"],[\"c\",\"%zz\"],[\"€\",\"\xef\xbf\xbd\"]]" },
	{ "new URLSearchParams('?a=1&&b=&c').toString()", "a=1&b=&c=" },
	{ "new URLSearchParams({ x: 1, y: 'two words' }).toString()",
	  "x=1&y=two+words" },
	{ "new URLSearchParams([['a', '1'], ['a', '2']]).getAll('a')",
	  "[\"1\",\"2\"]" },
	{ "new URLSearchParams([['a']])",
	  "throws TypeError: URLSearchParams: each pair must be a sequence of "
	  "two strings" },
	{ "new URLSearchParams(new URLSearchParams('a=1')).toString()", "a=1" },
	{ "var p = new URLSearchParams('a=1&b=2&a=3'); p.set('a', 'x'); "
	  "p.toString()", "a=x&b=2" },
	{ "var p = new URLSearchParams('c=1&a=2&b=3&a=1'); p.sort(); "
	  "p.toString()", "a=2&a=1&b=3&c=1" },
	{ "var p = new URLSearchParams('a=1&b=2&a=3'); p.delete('a', '3'); "
	  "[p.toString(), p.has('a', '1'), p.has('a', '3')]",
	  "[\"a=1&b=2\",true,false]" },
	{ "var p = new URLSearchParams('a=1&b=2'), it = p.entries(), "
	  "o = [], s; while (!(s = it.next()).done) o.push(s.value); o",
	  "[[\"a\",\"1\"],[\"b\",\"2\"]]" },
	{ "var p = new URLSearchParams('a=1&b=2'); var k = [], v = [], it; "
	  "it = p.keys(); k.push(it.next().value, it.next().value); "
	  "it = p.values(); v.push(it.next().value, it.next().value); [k, v]",
	  "[[\"a\",\"b\"],[\"1\",\"2\"]]" },
	{ "typeof new URLSearchParams()[Symbol.iterator]", "function" },
	{ "new URLSearchParams('q=' + encodeURIComponent('~!*()\\'')).get('q')",
	  "~!*()'" },
	{ "new URLSearchParams({ q: \"~!*()' \\ud83d\\ude00\" }).toString()",
	  "q=%7E%21*%28%29%27+%F0%9F%98%80" },
	{ "var u = new URL('https://x.com/'); u.searchParams.set('a', ''); "
	  "u.searchParams.delete('a'); u.href", "https://x.com/" },
};

/* atob/btoa: the HTML Standard's forgiving-base64. */
static const struct js_case base64_cases[] = {
	{ "btoa('Hello, world')", "SGVsbG8sIHdvcmxk" },
	{ "btoa('')", "" },
	{ "btoa('\\u00ff\\u00fe\\u0000')", "//4A" },
	{ "btoa('user:pässword')", "dXNlcjpw5HNzd29yZA==" },
	{ "btoa('€')", "throws InvalidCharacterError: btoa: the string has a "
	  "character outside Latin-1 (above U+00FF)" },
	{ "btoa(undefined)", "dW5kZWZpbmVk" },
	{ "atob('SGVsbG8sIHdvcmxk')", "Hello, world" },
	{ "atob(' SGVs\\nbG8s\\tIHdv\\fcmxk\\r')", "Hello, world" },
	{ "atob('YQ')", "a" },
	{ "atob('YQ==')", "a" },
	{ "atob('YR==')", "a" },
	{ "atob('YWI')", "ab" },
	{ "atob('YWI=')", "ab" },
	{ "atob('')", "" },
	{ "atob('//4A').split('').map(function (c) { return c.charCodeAt(0); })",
	  "[255,254,0]" },
	{ "atob('YQ=')", "throws InvalidCharacterError: atob: the string is not "
	  "correctly encoded (a character outside base64)" },
	{ "atob('YQ===')", "throws InvalidCharacterError: atob: the string is not "
	  "correctly encoded (its length)" },
	{ "atob('Y')", "throws InvalidCharacterError: atob: the string is not "
	  "correctly encoded (its length)" },
	{ "atob('YQ==YQ==')", "throws InvalidCharacterError: atob: the string is "
	  "not correctly encoded (a character outside base64)" },
	{ "atob('Y-_Q')", "throws InvalidCharacterError: atob: the string is not "
	  "correctly encoded (a character outside base64)" },
	{ "atob(btoa('\\u0080\\u00e9')) === '\\u0080\\u00e9'", "true" },
	{ "try { btoa('\\u0100'); } catch (e) { e.code }", "5" },
	{ "atob(null)", "\xc2\x9e\xc3\xa9" "e" },
};

/* structuredClone: MDN's examples and the types it lists. */
static const struct js_case clone_cases[] = {
	{ "var o = { a: 1, b: [1, { c: 'x' }], d: null }; var c = "
	  "structuredClone(o); [c !== o, c.b !== o.b, JSON.stringify(c) === "
	  "JSON.stringify(o)]", "[true,true,true]" },
	{ "var o = { name: 'MDN' }; o.itself = o; var c = structuredClone(o); "
	  "[c !== o, c.itself === c, c.name]", "[true,true,\"MDN\"]" },
	{ "var s = { v: 1 }; var c = structuredClone([s, s]); c[0] === c[1]",
	  "true" },
	{ "var d = new Date(86400000); var c = structuredClone(d); "
	  "[c !== d, c instanceof Date, c.getTime()]", "[true,true,86400000]" },
	{ "var r = structuredClone(/a+b/gi); [r instanceof RegExp, r.source, "
	  "r.global, r.ignoreCase, r.multiline]",
	  "[true,\"a+b\",true,true,false]" },
	{ "var b = new Uint8Array([1, 2, 3]); var c = structuredClone(b); "
	  "c[0] = 9; [b[0], c[0], c instanceof Uint8Array, c.length]",
	  "[1,9,true,3]" },
	{ "var buf = new ArrayBuffer(8); var v = { a: new Uint8Array(buf, 2, 2), "
	  "b: new DataView(buf) }; var c = structuredClone(v); "
	  "[c.a.buffer === c.b.buffer, c.a.byteOffset, c.b.byteLength, "
	  "c.a.buffer !== buf]", "[true,2,8,true]" },
	{ "structuredClone([1, 'a', true, null, undefined, NaN, -0]).map("
	  "function (x) { return typeof x + ':' + x + (x === 0 ? ':' + 1 / x : ''); })",
	  "[\"number:1\",\"string:a\",\"boolean:true\",\"object:null\","
	  "\"undefined:undefined\",\"number:NaN\",\"number:0:-Infinity\"]" },
	{ "structuredClone(function () {})",
	  "throws DataCloneError: a function could not be cloned" },
	{ "structuredClone({ f: Symbol('x') })",
	  "throws DataCloneError: a Symbol could not be cloned" },
	{ "try { structuredClone(function () {}); } catch (e) { e.code }",
	  "25" },
	{ "function P() { this.x = 1; } P.prototype.y = 2; var c = "
	  "structuredClone(new P()); [c.x, c.y, Object.getPrototypeOf(c) === "
	  "Object.prototype]", "[1,null,true]" },
	{ "var e = structuredClone(new RangeError('bad')); [e instanceof "
	  "RangeError, e.message]", "[true,\"bad\"]" },
	{ "var o = JSON.parse('{\"__proto__\": {\"x\": 1}}'); var c = "
	  "structuredClone(o); [Object.keys(c), c.x, ({}).x]",
	  "[[\"__proto__\"],null,null]" },
	{ "typeof structuredClone(new String('s'))", "object" },
	{ "structuredClone(1, { transfer: [new ArrayBuffer(1)] })",
	  "throws DataCloneError: transfer: a transfer list could not be cloned" },
};

/* Each table above, one loop test apiece. */
static const struct {
	const struct js_case	*c;
	size_t			 n;
} tables[] = {
	{ url_href_cases, NELEM(url_href_cases) },
	{ url_part_cases, NELEM(url_part_cases) },
	{ url_setter_cases, NELEM(url_setter_cases) },
	{ params_cases, NELEM(params_cases) },
	{ base64_cases, NELEM(base64_cases) },
	{ clone_cases, NELEM(clone_cases) },
};

START_TEST(test_cases)
{
	run_cases(tables[_i].c, tables[_i].n);
}
END_TEST

/* One call of src's handler with a time limit of timeout_ms; returns its
 * body (malloc'd). */
static char *
body_within(const char *src, unsigned timeout_ms, enum outcome want)
{
	struct sandbox_limits lim = LIM;
	struct sandbox *sb;
	struct sandbox_result res;
	char *body;

	lim.timeout_ms = timeout_ms;
	sb = sandbox_loaded(src, &lim);
	(void)sandbox_call(sb, &PLAIN_RQ, &res);
	ck_outcome(res, want);
	body = strndup(res.body != NULL ? res.body : "", res.body_len);
	sandbox_result_free(&res);
	sandbox_free(sb);
	return body;
}

static char *
body_of(const char *src, enum outcome want)
{
	return body_within(src, LIM.timeout_ms, want);
}

START_TEST(test_performance_now)
{
	char *b = body_of("module.exports = function (req, res) {\n"
	    "  var a = performance.now(), x = 0, i, b;\n"
	    "  for (i = 0; i < 100000; i++) x += i;\n"
	    "  b = performance.now();\n"
	    "  res.send([typeof a, a >= 0, b >= a, a < 1000, "
	    "Math.round(b * 10) === b * 10].join());\n};", OUT_OK);

	ck_assert_str_eq(b, "number,true,true,true,true");
	free(b);
}
END_TEST

/* SPEC §11 "Cost": nothing is loaded for a function that uses none of
 * it, each family loads alone, and a name the function assigns is its
 * own. */
START_TEST(test_loaded_lazily)
{
	static const struct { const char *name; enum lib_family f; } fam[] = {
		{ "URL", LIB_URL }, { "URLSearchParams", LIB_URL },
		{ "atob", LIB_BASE64 }, { "btoa", LIB_BASE64 },
		{ "structuredClone", LIB_CLONE },
		{ "performance", LIB_PERFORMANCE },
	};
	struct sandbox *sb;
	struct sandbox_result res;
	char src[256];
	size_t i;

	sb = loaded("module.exports = function (req, res) { res.send('x'); };");
	(void)sandbox_call(sb, &PLAIN_RQ, &res);
	ck_outcome(res, OUT_OK);
	ck_assert_uint_eq(sb->lib.loaded, 0);
	sandbox_result_free(&res);
	sandbox_free(sb);
	for (i = 0; i < NELEM(fam); i++) {
		snprintf(src, sizeof(src), "module.exports = function (req, res) "
		    "{ res.send(typeof %s); };", fam[i].name);
		sb = loaded(src);
		(void)sandbox_call(sb, &PLAIN_RQ, &res);
		ck_outcome(res, OUT_OK);
		ck_assert_str_eq(res.body, strcmp(fam[i].name, "performance") ==
		    0 ? "object" : "function");
		ck_assert_uint_eq(sb->lib.loaded, 1u << fam[i].f);
		sandbox_result_free(&res);
		sandbox_free(sb);
	}
	{
		char *b = body_of("var URL = 'mine';\n"
		    "module.exports = function (req, res) {\n"
		    "  res.send(URL + ' ' + typeof URLSearchParams); };", OUT_OK);

		ck_assert_str_eq(b, "mine function");
		free(b);
	}
}
END_TEST

/* Hostile: a 5 MB URL is refused and a URL near the limit parses; a deep
 * (10,000 levels) cyclic value clones; a clone past the heap's cap is the
 * memory limit. (A generous time limit: the machine is shared; no
 * duration is asserted.) Far deeper graphs are the engine's problem, not
 * the clone's: Duktape's collector marks 256 levels deep and then rescans
 * the heap, so merely building a 300,000-level chain outlasts any
 * deadline inside one allocation (the watchdog's case). */
START_TEST(test_hostile)
{
	char *b;

	b = body_within("function t(f) { try { return f(); }\n"
	    "  catch (e) { return e.name + ': ' + e.message; } }\n"
	    "module.exports = function (req, res) {\n"
	    "  var s = 'a';\n"
	    "  while (s.length < 5 * 1024 * 1024) s += s;\n"
	    "  res.send([\n"
	    "    t(function () { return new URL('https://x.com/' + s).href; }),\n"
	    "    t(function () { return new URL('https://x.com/?q=' +\n"
	    "      s.substring(0, 1000000)).searchParams.get('q').length; }),\n"
	    "    t(function () { return new URL('/a', 'https://x.com/' + s); })\n"
	    "  ].join('; ')); };", 20000, OUT_OK);
	ck_assert_str_eq(b, "TypeError: Invalid URL; 1000000; TypeError: Invalid URL");
	free(b);
	b = body_of("module.exports = function (req, res) {\n"
	    "  var v = {}, top = v, i;\n"
	    "  for (i = 0; i < 10000; i++) { v.next = {}; v = v.next; }\n"
	    "  v.next = top;\n"
	    "  var c = structuredClone(top);\n"
	    "  for (v = c, i = 0; i <= 10000; i++) v = v.next;\n"
	    "  res.send(String(v === c) + ' ' + (c !== top)); };", OUT_OK);
	ck_assert_str_eq(b, "true true");
	free(b);
	/* A clone bigger than the heap is the memory limit, not a crash. */
	free(body_of("module.exports = function (req, res) {\n"
	    "  var a = [], i; for (i = 0; i < 20; i++) a.push(new ArrayBuffer("
	    "1024 * 1024));\n"
	    "  var c = [structuredClone(a), structuredClone(a)];\n"
	    "  res.send('no'); };", OUT_MEMORY_LIMIT));
}
END_TEST

static Suite *
web_suite(void)
{
	Suite *s = suite_create("lib_web");
	TCase *tc;

	tc = tcase_create("conformance");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_cases, 0, NELEM(tables));
	tcase_add_test(tc, test_performance_now);
	suite_add_tcase(s, tc);

	tc = tcase_create("cost_and_hostile");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_loaded_lazily);
	tcase_add_test(tc, test_hostile);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(web_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
