/*
 * runner.js - a small mocha for the Promises/A+ suite (npm
 * promises-aplus-tests, pinned in package-lock.json), run inside a
 * fnrun heap by tests/check_aplus.c. That file prepends each of the
 * suite's modules as __modules[name] = function (exports, require,
 * module, global) {...}, then this file. It provides what the suite
 * uses: describe/specify/it, beforeEach/afterEach, done callbacks with
 * mocha's 2 s timeout, require('assert') (assert, strictEqual,
 * notStrictEqual)
 * and the parts of sinon it calls; the adapter is the engine's own
 * Promise. The handler answers "passed N failed M" and one line per
 * failure.
 */
var __modules = __modules || {};

var aplus = (function (global) {
	'use strict';

	var TIMEOUT_MS = 2000;
	var root = { title: '', parent: null, before: [], after: [], children: [] };
	var current = root;
	var tests = [];
	var cache = {};

	function AssertionError(message) {
		this.message = message;
	}
	AssertionError.prototype = Object.create(Error.prototype);
	AssertionError.prototype.name = 'AssertionError';

	/* Node's assert: a function, with methods. */
	function assert(value, msg) {
		if (!value)
			throw new AssertionError(msg || 'assertion failed');
	}
	assert.strictEqual = function (a, b, msg) {
		if (a !== b)
			throw new AssertionError(msg || (String(a) + ' !== ' +
			    String(b)));
	};
	assert.notStrictEqual = function (a, b, msg) {
		if (a === b)
			throw new AssertionError(msg || (String(a) + ' === ' +
			    String(b)));
	};

	/* sinon: spy([fn]), stub().returns(v)/.throws(e), match.same(x),
	 * assert.calledWith / notCalled / callOrder. */
	var order = 0;
	function spy(fn) {
		function proxy() {
			proxy.calls.push({ args: Array.prototype.slice.call(arguments),
			    order: ++order });
			if (proxy.throwsValue !== undefined)
				throw proxy.throwsValue;
			if (fn)
				return fn.apply(this, arguments);
			return proxy.returnsValue;
		}
		proxy.calls = [];
		proxy.returns = function (v) { proxy.returnsValue = v; return proxy; };
		proxy.throws = function (e) { proxy.throwsValue = e; return proxy; };
		return proxy;
	}
	var sinon = {
		spy: spy,
		stub: function () { return spy(); },
		match: {
			same: function (x) { return { sameAs: x }; }
		},
		assert: {
			calledWith: function (s, m) {
				var i;

				for (i = 0; i < s.calls.length; i++)
					if (s.calls[i].args[0] === m.sameAs)
						return;
				throw new AssertionError('not called with the value');
			},
			notCalled: function (s) {
				if (s.calls.length !== 0)
					throw new AssertionError('called');
			},
			callOrder: function () {
				var i, last = 0;

				for (i = 0; i < arguments.length; i++) {
					if (arguments[i].calls.length === 0 ||
					    arguments[i].calls[0].order < last)
						throw new AssertionError('call order');
					last = arguments[i].calls[0].order;
				}
			}
		}
	};

	function require(name) {
		var m;

		if (name === 'assert')
			return assert;
		if (name === 'sinon')
			return sinon;
		name = name.replace(/^\.\//, '');
		if (cache[name])
			return cache[name].exports;
		if (!__modules[name])
			throw new Error('no module ' + name);
		m = cache[name] = { exports: {} };
		__modules[name](m.exports, require, m, global);
		return m.exports;
	}

	global.describe = function (title, fn) {
		var s = { title: title, parent: current, before: [], after: [],
		    children: [] };

		current.children.push(s);
		current = s;
		try {
			fn();
		} finally {
			current = s.parent;
		}
	};
	global.specify = global.it = function (title, fn) {
		tests.push({ title: title, fn: fn, suite: current });
	};
	global.beforeEach = function (fn) { current.before.push(fn); };
	global.afterEach = function (fn) { current.after.push(fn); };

	function fullTitle(t) {
		var parts = [t.title], s;

		for (s = t.suite; s !== root; s = s.parent)
			parts.unshift(s.title);
		return parts.join(' ');
	}

	function hooks(suite, kind) {
		var list = [], s;

		for (s = suite; s !== null; s = s.parent)
			list = s[kind].concat(list);
		return kind === 'after' ? list.reverse() : list;
	}

	/* Runs the tests one after another; calls finish(passed, failures). */
	function run(finish) {
		var i = 0, passed = 0, failures = [];

		function next() {
			var t, finished = false, timer;

			if (i >= tests.length) {
				finish(passed, failures);
				return;
			}
			t = tests[i++];
			function end(err) {
				if (finished) {
					if (err === undefined)
						failures.push(fullTitle(t) +
						    ': done() called multiple times');
					return;
				}
				finished = true;
				clearTimeout(timer);
				try {
					hooks(t.suite, 'after').forEach(function (h) { h(); });
				} catch (e) {
					err = err || e;
				}
				if (err === undefined || err === null)
					passed++;
				else
					failures.push(fullTitle(t) + ': ' +
					    (err && err.message !== undefined ?
					    err.message : String(err)));
				setTimeout(next, 0);
			}
			timer = setTimeout(function () {
				end(new Error('timeout of ' + TIMEOUT_MS + 'ms'));
			}, TIMEOUT_MS);
			try {
				hooks(t.suite, 'before').forEach(function (h) { h(); });
				if (t.fn.length > 0)
					t.fn(function (err) { end(err); });
				else {
					t.fn();
					end();
				}
			} catch (e) {
				end(e);
			}
		}
		next();
	}

	return { require: require, run: run };
})(globalThis);

globalThis.adapter = {
	resolved: function (v) { return Promise.resolve(v); },
	rejected: function (e) { return Promise.reject(e); },
	deferred: function () {
		var d = {};

		d.promise = new Promise(function (resolve, reject) {
			d.resolve = resolve;
			d.reject = reject;
		});
		return d;
	}
};

module.exports = function (req, res) {
	var files = req.body.split(',');

	files.forEach(function (f) { aplus.require(f); });
	aplus.run(function (passed, failures) {
		res.send('passed ' + passed + ' failed ' + failures.length + '\n' +
		    failures.join('\n'));
	});
};
