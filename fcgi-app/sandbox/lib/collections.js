/*
 * collections.js - Map, Set, WeakMap and WeakSet (ECMAScript 2015 §23),
 * which Duktape 2.7 lacks. Loaded by lib_collections.c with its natives:
 *   native.idKey    a hidden symbol: the id a Map or Set gave an object key
 *   native.stateKey a hidden symbol: a collection's own state
 *   native.weakKey  a hidden symbol: the values WeakMaps keep on a key
 * Map and Set keep their entries in a doubly linked list in insertion
 * order, indexed by a string per key (SameValueZero: NaN is one key, -0
 * is +0); an object key gets a numeric id under native.idKey, invisible
 * to the function (no API lists hidden symbols). An iterator survives
 * deletions and clear() during iteration, as the spec requires.
 * WeakMap and WeakSet hold nothing themselves: the value lives on the key,
 * under native.weakKey, in a record indexed by the WeakMap's id, so a key
 * nobody else references is collected with its value. A key that cannot
 * take a property (frozen, sealed, not extensible) is kept strongly by the
 * collection instead, in a list searched linearly.
 * ECMAScript 5.1 only.
 */
(function (native) {
	'use strict';

	var ID = native.idKey, WEAK = native.weakKey, STATE = native.stateKey;
	var nextId = 1, nextWeak = 1;
	var hasSymbol = typeof Symbol === 'function';

	function define(obj, name, value) {
		Object.defineProperty(obj, name, { value: value, writable: true,
		    configurable: true, enumerable: false });
	}

	function isObject(v) {
		return (typeof v === 'object' && v !== null) ||
		    typeof v === 'function';
	}

	/* The index string of a key, or null when an object key has no id
	 * and make is false. */
	function keyOf(k, make) {
		switch (typeof k) {
		case 'string':
			return 's' + k;
		case 'number':
			return k === 0 ? 'n0' : 'n' + k;	/* -0 is 0; NaN is "nNaN" */
		case 'boolean':
			return k ? 't' : 'f';
		case 'undefined':
			return 'u';
		case 'symbol':
			return null;
		}
		if (k === null)
			return 'l';
		if (Object.prototype.hasOwnProperty.call(k, ID))
			return 'o' + k[ID];
		if (!make)
			return null;
		if (!Object.isExtensible(k))
			return null;
		Object.defineProperty(k, ID, { value: nextId++ });
		return 'o' + k[ID];
	}

	/* Entries: { key, value, next, prev, removed }. Symbols and keys
	 * that cannot take an id live in the list only (found linearly). */
	function Store() {
		this.index = Object.create(null);
		this.first = null;
		this.last = null;
		this.size = 0;
	}

	Store.prototype.find = function (k) {
		var s = keyOf(k, false), e;

		if (s !== null)
			return this.index[s] || null;
		if (typeof k !== 'symbol' && Object.isExtensible(k))
			return null;
		for (e = this.first; e !== null; e = e.next)
			if (e.key === k)
				return e;
		return null;
	};

	Store.prototype.add = function (k, v) {
		var e = this.find(k), s;

		if (e !== null) {
			e.value = v;
			return;
		}
		if (k === 0)
			k = 0;	/* -0 becomes +0 */
		e = { key: k, value: v, next: null, prev: this.last,
		    removed: false };
		s = keyOf(k, true);
		if (s !== null)
			this.index[s] = e;
		if (this.last !== null)
			this.last.next = e;
		else
			this.first = e;
		this.last = e;
		this.size++;
	};

	/* A removed entry keeps its prev link so an iterator standing on it
	 * can walk back to a live one, then forward. */
	Store.prototype.remove = function (k) {
		var e = this.find(k), s;

		if (e === null)
			return false;
		s = keyOf(k, false);
		if (s !== null)
			delete this.index[s];
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
		return true;
	};

	Store.prototype.clear = function () {
		var e;

		for (e = this.first; e !== null; e = e.next) {
			e.removed = true;
			e.prev = null;
		}
		this.index = Object.create(null);
		this.first = this.last = null;
		this.size = 0;
	};

	/* The entry after e (null: the first), skipping removed ones. */
	Store.prototype.after = function (e) {
		while (e !== null && e.removed)
			e = e.prev;
		return e === null ? this.first : e.next;
	};

	function IteratorProto() {}
	var iteratorProto = IteratorProto.prototype;
	define(iteratorProto, 'next', function () {
		var st = isObject(this) &&
		    Object.prototype.hasOwnProperty.call(this, STATE) ?
		    this[STATE] : null, e;

		if (st === null || st.brand !== 'iterator')
			throw new TypeError('next called on an incompatible receiver');
		if (st.store === null)
			return { value: undefined, done: true };
		e = st.started ? st.store.after(st.at) : st.store.first;
		st.started = true;
		if (e === null) {
			st.store = null;
			return { value: undefined, done: true };
		}
		st.at = e;
		return { value: st.kind === 'key' ? e.key :
		    st.kind === 'value' ? e.value : [e.key, e.value],
		    done: false };
	});
	if (hasSymbol) {
		define(iteratorProto, Symbol.iterator, function () { return this; });
	}

	function iterate(store, kind) {
		var it = Object.create(iteratorProto);

		Object.defineProperty(it, STATE, { value: { brand: 'iterator',
		    store: store, at: null, started: false, kind: kind } });
		return it;
	}

	/* The state of collection obj of kind brand, else a TypeError. */
	function stateOf(obj, brand, method) {
		var st = isObject(obj) &&
		    Object.prototype.hasOwnProperty.call(obj, STATE) ? obj[STATE] :
		    null;

		if (st === null || st.brand !== brand)
			throw new TypeError(brand + '.prototype.' + method +
			    ' called on an incompatible receiver');
		return st;
	}

	function storeOf(obj, brand, method) {
		return stateOf(obj, brand, method).store;
	}

	/* Gives the new object self its state (once). */
	function construct(self, st) {
		if (Object.prototype.hasOwnProperty.call(self, STATE))
			throw new TypeError(st.brand + ' is already initialised');
		Object.defineProperty(self, STATE, { value: st });
	}

	/* Feeds the iterable (or array-like) to add(entry). */
	function fill(target, iterable, add) {
		var it, step, i, n;

		if (iterable === undefined || iterable === null)
			return;
		if (typeof add !== 'function')
			throw new TypeError('the collection has no adder');
		if (hasSymbol && iterable[Symbol.iterator] !== undefined) {
			it = iterable[Symbol.iterator]();
			for (;;) {
				step = it.next();
				if (!isObject(step))
					throw new TypeError('iterator result is not an object');
				if (step.done)
					return;
				try {
					add.call(target, step.value);
				} catch (err) {
					if (typeof it['return'] === 'function')
						try { it['return'](); } catch (ignored) { /* spec: the first error wins */ }
					throw err;
				}
			}
		}
		if (typeof iterable === 'string' || typeof iterable.length === 'number') {
			n = iterable.length;
			for (i = 0; i < n; i++)
				add.call(target, iterable[i]);
			return;
		}
		throw new TypeError(String(iterable) + ' is not iterable');
	}

	/* ------------------------------------------------------------ Map */

	function Map(iterable) {
		if (!(this instanceof Map))
			throw new TypeError('Constructor Map requires \'new\'');
		construct(this, { brand: 'Map', store: new Store() });
		fill(this, iterable, function (entry) {
			if (!isObject(entry))
				throw new TypeError('Iterator value ' + String(entry) +
				    ' is not an entry object');
			this.set(entry[0], entry[1]);
		});
	}

	define(Map.prototype, 'get', function (k) {
		var e = storeOf(this, 'Map', 'get').find(k);

		return e === null ? undefined : e.value;
	});
	define(Map.prototype, 'set', function (k, v) {
		storeOf(this, 'Map', 'set').add(k, v);
		return this;
	});
	define(Map.prototype, 'has', function (k) {
		return storeOf(this, 'Map', 'has').find(k) !== null;
	});
	define(Map.prototype, 'delete', function (k) {
		return storeOf(this, 'Map', 'delete').remove(k);
	});
	define(Map.prototype, 'clear', function () {
		storeOf(this, 'Map', 'clear').clear();
	});
	define(Map.prototype, 'forEach', function (fn, thisArg) {
		var store = storeOf(this, 'Map', 'forEach'), e = null;

		if (typeof fn !== 'function')
			throw new TypeError(String(fn) + ' is not a function');
		while ((e = e === null ? store.first : store.after(e)) !== null)
			fn.call(thisArg, e.value, e.key, this);
	});
	define(Map.prototype, 'keys', function () {
		return iterate(storeOf(this, 'Map', 'keys'), 'key');
	});
	define(Map.prototype, 'values', function () {
		return iterate(storeOf(this, 'Map', 'values'), 'value');
	});
	define(Map.prototype, 'entries', function () {
		return iterate(storeOf(this, 'Map', 'entries'), 'entry');
	});
	Object.defineProperty(Map.prototype, 'size', { configurable: true,
	    get: function () { return storeOf(this, 'Map', 'size').size; } });

	/* ------------------------------------------------------------ Set */

	function Set(iterable) {
		if (!(this instanceof Set))
			throw new TypeError('Constructor Set requires \'new\'');
		construct(this, { brand: 'Set', store: new Store() });
		fill(this, iterable, this.add);
	}

	define(Set.prototype, 'add', function (v) {
		storeOf(this, 'Set', 'add').add(v, v);
		return this;
	});
	define(Set.prototype, 'has', function (v) {
		return storeOf(this, 'Set', 'has').find(v) !== null;
	});
	define(Set.prototype, 'delete', function (v) {
		return storeOf(this, 'Set', 'delete').remove(v);
	});
	define(Set.prototype, 'clear', function () {
		storeOf(this, 'Set', 'clear').clear();
	});
	define(Set.prototype, 'forEach', function (fn, thisArg) {
		var store = storeOf(this, 'Set', 'forEach'), e = null;

		if (typeof fn !== 'function')
			throw new TypeError(String(fn) + ' is not a function');
		while ((e = e === null ? store.first : store.after(e)) !== null)
			fn.call(thisArg, e.key, e.key, this);
	});
	define(Set.prototype, 'values', function () {
		return iterate(storeOf(this, 'Set', 'values'), 'key');
	});
	define(Set.prototype, 'keys', Set.prototype.values);
	define(Set.prototype, 'entries', function () {
		return iterate(storeOf(this, 'Set', 'entries'), 'entry');
	});
	Object.defineProperty(Set.prototype, 'size', { configurable: true,
	    get: function () { return storeOf(this, 'Set', 'size').size; } });

	/* ------------------------------------------------ WeakMap, WeakSet */

	function requireKey(k, brand) {
		if (!isObject(k))
			throw new TypeError('Invalid value used as ' + brand + ' key');
	}

	/* The record of weak values on key k: { <collection id>: value }. */
	function weakRecord(k, make) {
		if (Object.prototype.hasOwnProperty.call(k, WEAK))
			return k[WEAK];
		if (!make || !Object.isExtensible(k))
			return null;
		Object.defineProperty(k, WEAK, { value: Object.create(null) });
		return k[WEAK];
	}

	/* The strong fallback for keys that take no property: [k, v, ...]. */
	function strongIndex(list, k) {
		var i;

		for (i = 0; i < list.length; i += 2)
			if (list[i] === k)
				return i;
		return -1;
	}

	function weakOf(obj, brand, method) {
		return stateOf(obj, brand, method);
	}

	function weakGet(w, k) {
		var r, i;

		if (!isObject(k))
			return undefined;
		if ((r = weakRecord(k, false)) !== null && w.id in r)
			return r[w.id];
		i = strongIndex(w.strong, k);
		return i < 0 ? undefined : w.strong[i + 1];
	}

	function weakHas(w, k) {
		var r;

		if (!isObject(k))
			return false;
		if ((r = weakRecord(k, false)) !== null && w.id in r)
			return true;
		return strongIndex(w.strong, k) >= 0;
	}

	function weakSet(w, k, v) {
		var r = weakRecord(k, true), i;

		if (r !== null) {
			r[w.id] = v;
			return;
		}
		if ((i = strongIndex(w.strong, k)) >= 0)
			w.strong[i + 1] = v;
		else
			w.strong.push(k, v);
	}

	function weakDelete(w, k) {
		var r, i;

		if (!isObject(k))
			return false;
		if ((r = weakRecord(k, false)) !== null && w.id in r) {
			delete r[w.id];
			return true;
		}
		if ((i = strongIndex(w.strong, k)) < 0)
			return false;
		w.strong.splice(i, 2);
		return true;
	}

	function makeWeak(self, brand) {
		construct(self, { brand: brand, id: 'w' + nextWeak++,
		    strong: [] });
	}

	function WeakMap(iterable) {
		if (!(this instanceof WeakMap))
			throw new TypeError('Constructor WeakMap requires \'new\'');
		makeWeak(this, 'WeakMap');
		fill(this, iterable, function (entry) {
			if (!isObject(entry))
				throw new TypeError('Iterator value ' + String(entry) +
				    ' is not an entry object');
			this.set(entry[0], entry[1]);
		});
	}

	define(WeakMap.prototype, 'get', function (k) {
		return weakGet(weakOf(this, 'WeakMap', 'get'), k);
	});
	define(WeakMap.prototype, 'set', function (k, v) {
		var w = weakOf(this, 'WeakMap', 'set');

		requireKey(k, 'weak map');
		weakSet(w, k, v);
		return this;
	});
	define(WeakMap.prototype, 'has', function (k) {
		return weakHas(weakOf(this, 'WeakMap', 'has'), k);
	});
	define(WeakMap.prototype, 'delete', function (k) {
		return weakDelete(weakOf(this, 'WeakMap', 'delete'), k);
	});

	function WeakSet(iterable) {
		if (!(this instanceof WeakSet))
			throw new TypeError('Constructor WeakSet requires \'new\'');
		makeWeak(this, 'WeakSet');
		fill(this, iterable, this.add);
	}

	define(WeakSet.prototype, 'add', function (v) {
		var w = weakOf(this, 'WeakSet', 'add');

		requireKey(v, 'weak set');
		weakSet(w, v, true);
		return this;
	});
	define(WeakSet.prototype, 'has', function (v) {
		return weakHas(weakOf(this, 'WeakSet', 'has'), v);
	});
	define(WeakSet.prototype, 'delete', function (v) {
		return weakDelete(weakOf(this, 'WeakSet', 'delete'), v);
	});

	if (hasSymbol) {
		define(Map.prototype, Symbol.iterator, Map.prototype.entries);
		define(Set.prototype, Symbol.iterator, Set.prototype.values);
		[[Map, 'Map'], [Set, 'Set'], [WeakMap, 'WeakMap'],
		    [WeakSet, 'WeakSet']].forEach(function (c) {
			Object.defineProperty(c[0].prototype, Symbol.toStringTag,
			    { value: c[1], configurable: true });
		});
	}

	return { Map: Map, Set: Set, WeakMap: WeakMap, WeakSet: WeakSet };
})
