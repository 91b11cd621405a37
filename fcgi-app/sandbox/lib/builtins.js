/*
 * builtins.js - the ES2015-ES2022 methods of Array, Object and String
 * that Duktape 2.7 lacks and that are simpler in JavaScript than in C
 * (lib_builtins.c has the others and installs these): Array.from,
 * Array.of, Array.prototype.flat/flatMap, Object.fromEntries,
 * String.prototype.replaceAll. Each follows its ECMAScript 2022 algorithm; what differs is
 * said where it is. Running in the function's heap, every loop is under
 * its deadline and every allocation under its cap.
 * ECMAScript 5.1 only.
 */
(function () {
	'use strict';

	var defineProperty = Object.defineProperty, isArray = Array.isArray;
	var MAX_LENGTH = 9007199254740991;
	var ITERATOR = typeof Symbol === 'function' ? Symbol.iterator : undefined;

	function toIntegerOrInfinity(v) {
		var n = Number(v);

		if (n !== n)
			return 0;
		if (n === Infinity || n === -Infinity)
			return n;
		return n < 0 ? -Math.floor(-n) : Math.floor(n);
	}

	function toLength(v) {
		var n = toIntegerOrInfinity(v);

		return n <= 0 ? 0 : n > MAX_LENGTH ? MAX_LENGTH : n;
	}

	function toObject(v, what) {
		if (v === undefined || v === null)
			throw new TypeError(what + ' called on null or undefined');
		return Object(v);
	}

	function thisString(v, what) {
		if (v === undefined || v === null)
			throw new TypeError('String.prototype.' + what +
			    ' called on null or undefined');
		return String(v);
	}

	function createDataProperty(o, k, v) {
		defineProperty(o, k, { value: v, writable: true, enumerable: true,
		    configurable: true });
	}

	/* Calls each(value, index) for every value of items: its
	 * [Symbol.iterator] (closed when each throws), else a string's code
	 * points (the engine has no String.prototype[Symbol.iterator]), else
	 * an array-like's elements. Returns the count. */
	function forEachOf(items, each, what) {
		var method = ITERATOR !== undefined && items !== undefined &&
		    items !== null ? items[ITERATOR] : undefined;
		var it, step, k = 0, o, n, c;

		if (method !== undefined && method !== null) {
			if (typeof method !== 'function')
				throw new TypeError(what + ': [Symbol.iterator] is not a function');
			it = method.call(items);
			for (;;) {
				step = it.next();
				if (step !== Object(step))
					throw new TypeError('iterator result is not an object');
				if (step.done)
					return k;
				try {
					each(step.value, k);
				} catch (err) {
					if (typeof it['return'] === 'function')
						try { it['return'](); } catch (ignored) { /* the first error wins */ }
					throw err;
				}
				k++;
			}
		}
		if (typeof items === 'string') {
			for (o = 0; o < items.length; o += c.length) {
				c = items.charAt(o);
				if (c >= '\ud800' && c <= '\udbff' && o + 1 < items.length &&
				    items.charAt(o + 1) >= '\udc00' && items.charAt(o + 1) <= '\udfff')
					c = items.substr(o, 2);
				each(c, k++);
			}
			return k;
		}
		o = toObject(items, what);
		n = toLength(o.length);
		for (k = 0; k < n; k++)
			each(o[k], k);
		return k;
	}

	/* Array.from(items, mapFn, thisArg): a plain array (a subclass
	 * constructor as this is called without arguments, then filled). */
	function from(items, mapFn, thisArg) {
		var C = this, out, n;

		if (mapFn !== undefined && typeof mapFn !== 'function')
			throw new TypeError('Array.from: ' + String(mapFn) +
			    ' is not a function');
		out = typeof C === 'function' && C !== Array ? new C() : [];
		n = forEachOf(items, function (v, k) {
			createDataProperty(out, String(k),
			    mapFn === undefined ? v : mapFn.call(thisArg, v, k));
		}, 'Array.from');
		out.length = n;
		return out;
	}

	function of() {
		var C = this, n = arguments.length, out, k;

		out = typeof C === 'function' && C !== Array ? new C(n) : new Array(n);
		for (k = 0; k < n; k++)
			createDataProperty(out, String(k), arguments[k]);
		out.length = n;
		return out;
	}

	/* FlattenIntoArray: recursion as deep as the nesting (the engine's
	 * call stack limit answers a nesting deeper than it allows). */
	function flattenInto(target, source, depth, mapFn, thisArg) {
		var n = toLength(source.length), k, v;

		for (k = 0; k < n; k++) {
			if (!(k in source))
				continue;
			v = source[k];
			if (mapFn !== undefined)
				v = mapFn.call(thisArg, v, k, source);
			if (depth > 0 && isArray(v))
				flattenInto(target, v, depth - 1);
			else
				target.push(v);
		}
		return target;
	}

	function flat(depth) {
		var o = toObject(this, 'Array.prototype.flat');

		return flattenInto([], o, depth === undefined ? 1 :
		    toIntegerOrInfinity(depth));
	}

	function flatMap(mapFn, thisArg) {
		var o = toObject(this, 'Array.prototype.flatMap');

		if (typeof mapFn !== 'function')
			throw new TypeError('Array.prototype.flatMap: ' +
			    String(mapFn) + ' is not a function');
		return flattenInto([], o, 1, mapFn, thisArg);
	}

	function fromEntries(iterable) {
		var out = {};

		if (iterable === undefined || iterable === null)
			throw new TypeError('Object.fromEntries: ' + String(iterable) +
			    ' is not iterable');
		forEachOf(iterable, function (entry) {
			if (entry !== Object(entry))
				throw new TypeError('Iterator value ' + String(entry) +
				    ' is not an entry object');
			/* Defined, not assigned: a key "__proto__" is a property. */
			createDataProperty(out, typeof entry[0] === 'symbol' ?
			    entry[0] : String(entry[0]), entry[1]);
		}, 'Object.fromEntries');
		return out;
	}

	/* GetSubstitution without captures: $$, $&, $` and $'; anything else
	 * ($1, $<) is itself. */
	function substitution(matched, s, position, replacement) {
		var out = '', i, c, d;

		for (i = 0; i < replacement.length; i++) {
			c = replacement.charAt(i);
			d = replacement.charAt(i + 1);
			if (c === '$' && (d === '$' || d === '&' || d === '`' ||
			    d === '\'')) {
				out += d === '$' ? '$' : d === '&' ? matched :
				    d === '`' ? s.slice(0, position) :
				    s.slice(position + matched.length);
				i++;
			} else
				out += c;
		}
		return out;
	}

	function replaceAll(searchValue, replaceValue) {
		var s = thisString(this, 'replaceAll'), search, step, pos, next;
		var functional = typeof replaceValue === 'function', parts = [];
		var last = 0, dollar;

		if (Object.prototype.toString.call(searchValue) === '[object RegExp]') {
			if (!searchValue.global)
				throw new TypeError('replaceAll must be called with a ' +
				    'global RegExp');
			return s.replace(searchValue, replaceValue);
		}
		search = String(searchValue);
		if (!functional)
			replaceValue = String(replaceValue);
		dollar = !functional && replaceValue.indexOf('$') >= 0;
		step = search.length > 0 ? search.length : 1;
		for (pos = s.indexOf(search, 0); pos !== -1; pos = s.indexOf(search, next)) {
			parts.push(s.slice(last, pos), functional ?
			    String(replaceValue(search, pos, s)) : dollar ?
			    substitution(search, s, pos, replaceValue) : replaceValue);
			last = pos + search.length;
			next = pos + step;
			if (next > s.length)
				break;
		}
		parts.push(s.slice(last));
		return parts.join('');
	}

	return { from: from, of: of, flat: flat, flatMap: flatMap,
	    fromEntries: fromEntries, replaceAll: replaceAll };
})
