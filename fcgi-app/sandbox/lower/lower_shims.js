/*
 * lower_shims.js - what TypeScript's compiler (typescript.js) calls and
 * Duktape 2.7 lacks: Map, Set, Array.prototype.find/findIndex/includes,
 * Array.from, Object.entries/values, String.prototype.padStart. Run in the
 * compiler's heap only (sandbox/lower/lower.c), before typescript.js; a
 * function's heap never sees them. ECMAScript 5.1 plus Symbol, which is
 * all the engine runs. Enough for the compiler, not a conforming library:
 * iteration order is insertion order and survives deletion during
 * iteration (as core-js does it: entries form a list, a removed entry
 * keeps its links), but there is no subclassing and no species.
 */
(function (global) {
	'use strict';

	var hasOwn = Object.prototype.hasOwnProperty;
	/* Objects used as keys get a hidden id under this symbol. */
	var ID = Symbol('lower_shims.id');
	var nextId = 1;

	function define(obj, name, value) {
		Object.defineProperty(obj, name, { value: value, writable: true,
		    configurable: true, enumerable: false });
	}

	/* SameValueZero. */
	function same(a, b) {
		return a === b || (a !== a && b !== b);
	}

	/* The string a key is indexed under, or null when only a walk of the
	 * list finds it (a symbol, an object that cannot take the id). */
	function slot(k) {
		switch (typeof k) {
		case 'string':
			return 's' + k;
		case 'number':
			return k !== k ? 'NaN' : 'n' + (k === 0 ? 0 : k);
		case 'boolean':
			return k ? 'T' : 'F';
		case 'undefined':
			return 'u';
		case 'symbol':
			return null;
		}
		if (k === null)
			return 'N';
		if (!hasOwn.call(k, ID)) {
			if (!Object.isExtensible(k))
				return null;
			Object.defineProperty(k, ID, { value: nextId++ });
		}
		return 'o' + k[ID];
	}

	/* Entries: { k, v, prev, next, removed } in insertion order. */
	function Table() {
		this.index = Object.create(null);
		this.first = null;
		this.last = null;
		this.size = 0;
	}

	Table.prototype.find = function (k) {
		var s = slot(k), e;

		if (s !== null) {
			e = this.index[s];
			return e === undefined ? null : e;
		}
		for (e = this.first; e !== null; e = e.next)
			if (same(e.k, k))
				return e;
		return null;
	};

	Table.prototype.set = function (k, v) {
		var e = this.find(k), s;

		if (e !== null) {
			e.v = v;
			return;
		}
		e = { k: k === 0 ? 0 : k, v: v, prev: this.last, next: null,
		    removed: false };
		if (this.last !== null)
			this.last.next = e;
		else
			this.first = e;
		this.last = e;
		if ((s = slot(k)) !== null)
			this.index[s] = e;
		this.size++;
	};

	Table.prototype.unlink = function (e) {
		e.removed = true;
		if (e.prev !== null)
			e.prev.next = e.next;
		else
			this.first = e.next;
		if (e.next !== null)
			e.next.prev = e.prev;
		else
			this.last = e.prev;
		this.size--;
	};

	Table.prototype.remove = function (k) {
		var e = this.find(k), s;

		if (e === null)
			return false;
		if ((s = slot(k)) !== null)
			delete this.index[s];
		this.unlink(e);
		return true;
	};

	Table.prototype.clear = function () {
		var e;

		for (e = this.first; e !== null; e = e.next)
			e.removed = true;
		this.index = Object.create(null);
		this.first = this.last = null;
		this.size = 0;
	};

	/* The entry after e (null: before the first) that is still there. A
	 * removed entry walks back to a live one first, so an iterator
	 * standing on it goes on with what follows. */
	Table.prototype.after = function (e) {
		while (e !== null && e.removed)
			e = e.prev;
		return e === null ? this.first : e.next;
	};

	Table.prototype.each = function (fn) {
		var e = this.after(null);

		for (; e !== null; e = this.after(e))
			fn(e);
	};

	/* kind: 0 keys, 1 values, 2 [key, value]. */
	function Iter(t, kind) {
		this.t = t;
		this.at = null;
		this.kind = kind;
	}
	define(Iter.prototype, 'next', function () {
		var e;

		if (this.t === null)
			return { value: undefined, done: true };
		e = this.t.after(this.at);
		if (e === null) {
			this.t = null;
			return { value: undefined, done: true };
		}
		this.at = e;
		return { value: this.kind === 0 ? e.k : this.kind === 1 ? e.v :
		    [e.k, e.v], done: false };
	});
	define(Iter.prototype, Symbol.iterator, function () { return this; });

	function iterate(o) {
		var f = o[Symbol.iterator], t, i;

		if (typeof f === 'function')
			return f.call(o);
		if (typeof o.length !== 'number')
			throw new TypeError('object is not iterable');
		t = new Table();
		for (i = 0; i < o.length; i++)
			t.set(i, o[i]);
		return new Iter(t, 1);
	}

	function fill(target, iterable, add) {
		var it, r;

		if (iterable === undefined || iterable === null)
			return;
		it = iterate(iterable);
		for (r = it.next(); !r.done; r = it.next())
			add(target, r.value);
	}

	function table(self, what) {
		if (self === null || typeof self !== 'object' ||
		    !(self._t instanceof Table))
			throw new TypeError(what + ' method called on an incompatible receiver');
		return self._t;
	}

	function Map(iterable) {
		if (!(this instanceof Map))
			throw new TypeError('Constructor Map requires new');
		define(this, '_t', new Table());
		fill(this, iterable, function (m, e) { m.set(e[0], e[1]); });
	}
	define(Map.prototype, 'get', function (k) {
		var e = table(this, 'Map').find(k);
		return e === null ? undefined : e.v;
	});
	define(Map.prototype, 'set', function (k, v) {
		table(this, 'Map').set(k, v);
		return this;
	});
	define(Map.prototype, 'has', function (k) {
		return table(this, 'Map').find(k) !== null;
	});
	define(Map.prototype, 'delete', function (k) {
		return table(this, 'Map').remove(k);
	});
	define(Map.prototype, 'clear', function () { table(this, 'Map').clear(); });
	define(Map.prototype, 'forEach', function (fn, self) {
		var m = this;
		table(this, 'Map').each(function (e) { fn.call(self, e.v, e.k, m); });
	});
	define(Map.prototype, 'keys', function () { return new Iter(table(this, 'Map'), 0); });
	define(Map.prototype, 'values', function () { return new Iter(table(this, 'Map'), 1); });
	define(Map.prototype, 'entries', function () { return new Iter(table(this, 'Map'), 2); });
	define(Map.prototype, Symbol.iterator, Map.prototype.entries);
	Object.defineProperty(Map.prototype, 'size', { configurable: true,
	    get: function () { return table(this, 'Map').size; } });

	function Set(iterable) {
		if (!(this instanceof Set))
			throw new TypeError('Constructor Set requires new');
		define(this, '_t', new Table());
		fill(this, iterable, function (s, v) { s.add(v); });
	}
	define(Set.prototype, 'add', function (v) {
		table(this, 'Set').set(v, v);
		return this;
	});
	define(Set.prototype, 'has', function (v) {
		return table(this, 'Set').find(v) !== null;
	});
	define(Set.prototype, 'delete', function (v) {
		return table(this, 'Set').remove(v);
	});
	define(Set.prototype, 'clear', function () { table(this, 'Set').clear(); });
	define(Set.prototype, 'forEach', function (fn, self) {
		var s = this;
		table(this, 'Set').each(function (e) { fn.call(self, e.k, e.k, s); });
	});
	define(Set.prototype, 'values', function () { return new Iter(table(this, 'Set'), 0); });
	define(Set.prototype, 'keys', Set.prototype.values);
	define(Set.prototype, 'entries', function () { return new Iter(table(this, 'Set'), 2); });
	define(Set.prototype, Symbol.iterator, Set.prototype.values);
	Object.defineProperty(Set.prototype, 'size', { configurable: true,
	    get: function () { return table(this, 'Set').size; } });

	define(global, 'Map', Map);
	define(global, 'Set', Set);

	define(Array.prototype, 'find', function (fn, self) {
		var i;
		for (i = 0; i < this.length; i++)
			if (fn.call(self, this[i], i, this))
				return this[i];
		return undefined;
	});
	define(Array.prototype, 'findIndex', function (fn, self) {
		var i;
		for (i = 0; i < this.length; i++)
			if (fn.call(self, this[i], i, this))
				return i;
		return -1;
	});
	define(Array.prototype, 'includes', function (v, from) {
		var i = from === undefined ? 0 : Math.trunc(from) || 0;
		if (i < 0)
			i = Math.max(this.length + i, 0);
		for (; i < this.length; i++)
			if (same(this[i], v))
				return true;
		return false;
	});
	define(Array, 'from', function (o, fn, self) {
		var out = [], it, r, i;

		if (o === null || o === undefined)
			throw new TypeError('Array.from of ' + o);
		if (typeof o[Symbol.iterator] === 'function') {
			it = o[Symbol.iterator]();
			for (r = it.next(); !r.done; r = it.next())
				out.push(r.value);
		} else {
			for (i = 0; i < o.length; i++)
				out.push(o[i]);
		}
		return fn ? out.map(fn, self) : out;
	});
	define(Object, 'entries', function (o) {
		return Object.keys(o).map(function (k) { return [k, o[k]]; });
	});
	define(Object, 'values', function (o) {
		return Object.keys(o).map(function (k) { return o[k]; });
	});
	define(String.prototype, 'padStart', function (n, fill) {
		var s = String(this), f = fill === undefined ? ' ' : String(fill);
		var need = n - s.length, pad = '';

		if (need <= 0 || f === '')
			return s;
		while (pad.length < need)
			pad += f;
		return pad.slice(0, need) + s;
	});
})(this);
