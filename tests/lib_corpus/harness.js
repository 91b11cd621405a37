/*
 * harness.js - what every corpus file of tests/lib_corpus/ runs in:
 * t(name, fn, expected) records a case; the handler runs them all, each
 * compared with SameValue for primitives and by JSON (with NaN and -0
 * spelled out) otherwise, and answers "passed N failed M" and the
 * failures. throws(name, fn, ErrorType) expects fn to throw that type.
 * ECMAScript 5.1 only: the corpus runs unlowered (tests/check_lib_builtins.c).
 */
var __cases = [];
function __show(v) {
	if (v !== v) return 'NaN';
	if (v === 0 && 1 / v < 0) return '-0';
	if (v === undefined) return 'undefined';
	if (typeof v === 'symbol') return String(v);
	if (typeof v === 'function') return 'function';
	return JSON.stringify(v, function (k, x) {
		if (typeof x === 'number' && x !== x) return 'NaN';
		if (x === 0 && 1 / x < 0) return '-0';
		if (x === undefined) return 'undefined';
		return x;
	});
}
function t(name, fn, expected) { __cases.push([name, fn, expected, null]); }
function throws(name, fn, type) { __cases.push([name, fn, undefined, type]); }
module.exports = function (req, res) {
	var passed = 0, failed = [], i, c, got;
	for (i = 0; i < __cases.length; i++) {
		c = __cases[i];
		try {
			got = c[1]();
			if (c[3] !== null)
				failed.push(c[0] + ': did not throw, got ' + __show(got));
			else if (__show(got) === __show(c[2]))
				passed++;
			else
				failed.push(c[0] + ': got ' + __show(got) + ', expected ' + __show(c[2]));
		} catch (e) {
			if (c[3] !== null && e instanceof c[3])
				passed++;
			else
				failed.push(c[0] + ': threw ' + String(e));
		}
	}
	res.send('passed ' + passed + ' failed ' + failed.length + '\n' + failed.join('\n'));
};
