/*
 * clone.js - structuredClone (HTML Standard, "structured serialize" and
 * "deserialize" in one pass): primitives, plain objects and arrays (own
 * enumerable string keys; prototypes are not kept), Date, RegExp,
 * Boolean/Number/String objects, Error and its kinds, ArrayBuffer,
 * DataView and typed arrays (a Node.js Buffer comes back a Uint8Array),
 * Map and Set when the function has them; shared parts and cycles as they
 * were. Functions, symbols, promises, weak collections: DataCloneError.
 * Iterative, so a deep value costs heap, not stack. Loaded by lib_clone.c:
 *   native.key(object)  a string that names object while it lives
 * ECMAScript 5.1 only.
 */
(function (native) {
	'use strict';

	var toString = Object.prototype.toString;
	var defineProperty = Object.defineProperty;
	var keys = Object.keys;
	var isArray = Array.isArray;
	var ERRORS = { Error: Error, EvalError: EvalError,
	    RangeError: RangeError, ReferenceError: ReferenceError,
	    SyntaxError: SyntaxError, TypeError: TypeError, URIError: URIError };
	var VIEWS = {};
	var REFUSED = { Promise: 1, WeakMap: 1, WeakSet: 1, WeakRef: 1 };

	['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array',
	    'Uint16Array', 'Int32Array', 'Uint32Array', 'Float32Array',
	    'Float64Array', 'DataView'].forEach(function (n) {
		if (typeof this[n] === 'function')
			VIEWS[n] = this[n];
	}, (function () { return this; })() || Function('return this')());

	function cloneError(what) {
		var e = new Error(what + ' could not be cloned');

		e.name = 'DataCloneError';
		e.code = 25;
		return e;
	}

	function put(obj, k, v) {
		if (k === '__proto__')
			defineProperty(obj, k, { value: v, writable: true,
			    enumerable: true, configurable: true });
		else
			obj[k] = v;
	}

	function structuredClone(value, options) {
		var memo = Object.create(null), work = [], root, w, i, ks;

		if (options !== undefined && options !== null &&
		    options.transfer !== undefined && options.transfer.length > 0)
			throw cloneError('transfer: a transfer list');

		/* The copy of v: atoms whole, containers empty, with their
		 * contents queued in work. */
		function copy(v) {
			var t = typeof v, k, tag, c, b;

			if (t === 'symbol')
				throw cloneError('a Symbol');
			if (t === 'function')
				throw cloneError('a function');
			if (v === null || t !== 'object')
				return v;
			k = native.key(v);
			if (k in memo)
				return memo[k];
			tag = toString.call(v).slice(8, -1);
			if (isArray(v)) {
				c = new Array(v.length);
				work.push([v, c]);
			} else if (tag === 'Date')
				c = new Date(v.getTime());
			else if (tag === 'RegExp')
				c = new RegExp(v.source, (v.global ? 'g' : '') +
				    (v.ignoreCase ? 'i' : '') + (v.multiline ? 'm' : ''));
			else if (tag === 'Boolean' || tag === 'Number' ||
			    tag === 'String')
				c = Object(v.valueOf());
			else if (tag === 'ArrayBuffer')
				c = v.slice(0);
			else if (VIEWS[tag] !== undefined) {
				b = copy(v.buffer);
				c = tag === 'DataView' ?
				    new VIEWS[tag](b, v.byteOffset, v.byteLength) :
				    new VIEWS[tag](b, v.byteOffset, v.length);
			} else if (tag === 'Error') {
				c = new (ERRORS[v.name] || Error)(String(v.message));
				if (typeof v.stack === 'string')
					defineProperty(c, 'stack', { value: v.stack,
					    writable: true, configurable: true });
			} else if (tag === 'Map' || tag === 'Set') {
				c = new v.constructor();
				work.push([v, c, tag]);
			} else if (REFUSED[tag])
				throw cloneError('a ' + tag);
			else {
				c = {};
				work.push([v, c]);
			}
			memo[k] = c;
			return c;
		}

		root = copy(value);
		while (work.length > 0) {
			w = work.pop();
			if (w[2] === 'Map')
				w[0].forEach(function (val, key) {
					w[1].set(copy(key), copy(val));
				});
			else if (w[2] === 'Set')
				w[0].forEach(function (val) { w[1].add(copy(val)); });
			else {
				ks = keys(w[0]);
				for (i = 0; i < ks.length; i++)
					put(w[1], ks[i], copy(w[0][ks[i]]));
			}
		}
		return root;
	}

	return { structuredClone: structuredClone };
});
