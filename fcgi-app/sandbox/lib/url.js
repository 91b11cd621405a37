/*
 * url.js - URL and URLSearchParams of the WHATWG URL Standard (SPEC §11).
 * Loaded by lib_url.c with its natives:
 *   native.parse(input, base)  the parts of a URL, from libcurl's URL API
 *                              and fcgi-app/net/url.c: [scheme, username,
 *                              password, host, port, path, query|null,
 *                              fragment|null, href]; TypeError "Invalid URL"
 *   native.formEncode(s)       application/x-www-form-urlencoded bytes of s
 *   native.formDecode(s)       '+' as space, %XX decoded, as UTF-8
 * A URL is its parts; a setter composes a new input from them with one part
 * changed and parses it again (an invalid value changes nothing, as the
 * Standard's setters do). ECMAScript 5.1 only.
 */
(function (native) {
	'use strict';

	var SCHEME = 0, USER = 1, PASS = 2, HOST = 3, PORT = 4, PATH = 5,
	    QUERY = 6, FRAGMENT = 7, HREF = 8;
	var ORIGIN_SCHEMES = { http: 1, https: 1, ws: 1, wss: 1, ftp: 1 };
	var SPECIAL = { http: 1, https: 1, ws: 1, wss: 1, ftp: 1, file: 1 };

	function define(obj, name, value) {
		Object.defineProperty(obj, name, { value: value, writable: true,
		    configurable: true, enumerable: false });
	}

	function accessor(obj, name, get, set) {
		Object.defineProperty(obj, name, { get: get, set: set,
		    configurable: true, enumerable: true });
	}

	function pct(c) {
		var h = c.charCodeAt(0).toString(16).toUpperCase();

		return '%' + (h.length < 2 ? '0' : '') + h;
	}

	/* An input that parses to the URL of parts p. */
	function compose(p) {
		var s = p[SCHEME] + '://';

		if (p[USER] !== '' || p[PASS] !== '')
			s += p[USER] + (p[PASS] !== '' ? ':' + p[PASS] : '') + '@';
		s += p[HOST] + (p[PORT] !== '' ? ':' + p[PORT] : '') + p[PATH];
		if (p[QUERY] !== null)
			s += '?' + p[QUERY];
		if (p[FRAGMENT] !== null)
			s += '#' + p[FRAGMENT];
		return s;
	}

	/* Parses p with part i set to v; keeps the result unless it fails. */
	function change(url, i, v) {
		var p = url._p.slice(0, HREF), q;

		p[i] = v;
		try {
			q = native.parse(compose(p));
		} catch (e) {
			return;
		}
		if (i === SCHEME && !SPECIAL[q[SCHEME]] !== !SPECIAL[url._p[SCHEME]])
			return;
		setParts(url, q);
	}

	function setParts(url, p) {
		url._p = p;
		if (url._q !== null)
			url._q._list = parseQuery(p[QUERY] === null ? '' : p[QUERY]);
	}

	/* The part of a host setter's value before a delimiter. */
	function hostPart(v, withPort) {
		var m = String(v).match(withPort ? /^(\[[^\]]*\]|[^\/?#\\])*/ :
		    /^(\[[^\]]*\]|[^\/?#\\:])*/);

		return m[0];
	}

	function URL(url, base) {
		if (!(this instanceof URL))
			throw new TypeError("Constructor URL requires 'new'");
		define(this, '_p', native.parse(String(url),
		    base === undefined ? undefined : String(base)));
		define(this, '_q', null);
	}

	URL.canParse = function (url, base) {
		try {
			native.parse(String(url),
			    base === undefined ? undefined : String(base));
			return true;
		} catch (e) {
			return false;
		}
	};

	URL.parse = function (url, base) {
		try {
			return new URL(url, base);
		} catch (e) {
			return null;
		}
	};

	var up = URL.prototype;

	accessor(up, 'href', function () { return this._p[HREF]; },
	    function (v) { setParts(this, native.parse(String(v))); });
	accessor(up, 'origin', function () {
		var p = this._p;

		if (!ORIGIN_SCHEMES[p[SCHEME]])
			return 'null';
		return p[SCHEME] + '://' + p[HOST] + (p[PORT] !== '' ? ':' +
		    p[PORT] : '');
	});
	accessor(up, 'protocol', function () { return this._p[SCHEME] + ':'; },
	    function (v) {
		var m = String(v).match(/^[A-Za-z][A-Za-z0-9+.\-]*/);

		if (m !== null)
			change(this, SCHEME, m[0].toLowerCase());
	});
	accessor(up, 'username', function () { return this._p[USER]; },
	    function (v) {
		change(this, USER, String(v).replace(/[:@\/?#\\\[\]^|;=]/g, pct));
	});
	accessor(up, 'password', function () { return this._p[PASS]; },
	    function (v) {
		change(this, PASS, String(v).replace(/[:@\/?#\\\[\]^|;=]/g, pct));
	});
	accessor(up, 'host', function () {
		var p = this._p;

		return p[HOST] + (p[PORT] !== '' ? ':' + p[PORT] : '');
	}, function (v) {
		var h = hostPart(v, true), m = h.match(/^(.*?)(?::(\d*))?$/);

		if (h === '')
			return;
		if (m[2] === undefined || m[2] === '')
			change(this, HOST, m[1]);
		else {
			var p = this._p.slice(0, HREF), q;

			p[HOST] = m[1];
			p[PORT] = m[2];
			try {
				q = native.parse(compose(p));
			} catch (e) {
				return;
			}
			setParts(this, q);
		}
	});
	accessor(up, 'hostname', function () { return this._p[HOST]; },
	    function (v) {
		var h = hostPart(v, false);

		if (h !== '')
			change(this, HOST, h);
	});
	accessor(up, 'port', function () { return this._p[PORT]; },
	    function (v) {
		var m = String(v).match(/^[0-9]*/)[0];

		if (String(v) === '')
			change(this, PORT, '');
		else if (m !== '')
			change(this, PORT, String(+m));
	});
	accessor(up, 'pathname', function () { return this._p[PATH]; },
	    function (v) {
		v = String(v).replace(/[?#]/g, pct);
		if (v.charAt(0) !== '/' && !(SPECIAL[this._p[SCHEME]] &&
		    v.charAt(0) === '\\'))
			v = '/' + v;
		change(this, PATH, v);
	});
	/* search and hash: a part that may be absent (null) or empty. */
	function optionalPart(name, i, mark, escape) {
		accessor(up, name, function () {
			var v = this._p[i];

			return v === null || v === '' ? '' : mark + v;
		}, function (v) {
			var s = String(v);

			/* "" removes the part; the mark alone leaves it empty. */
			change(this, i, s === '' ? null : escape(s.charAt(0) === mark ?
			    s.substring(1) : s));
		});
	}

	optionalPart('search', QUERY, '?',
	    function (s) { return s.replace(/#/g, '%23'); });
	optionalPart('hash', FRAGMENT, '#', function (s) { return s; });
	accessor(up, 'searchParams', function () {
		if (this._q === null) {
			this._q = new URLSearchParams(this._p[QUERY] === null ? '' :
			    this._p[QUERY]);
			this._q._url = this;
		}
		return this._q;
	});
	define(up, 'toString', function () { return this._p[HREF]; });
	define(up, 'toJSON', function () { return this._p[HREF]; });

	/* URLSearchParams: an ordered list of [name, value] pairs of
	 * strings. */

	function parseQuery(s) {
		var list = [], parts = s.split('&'), i, eq, name, value;

		for (i = 0; i < parts.length; i++) {
			if (parts[i] === '')
				continue;
			eq = parts[i].indexOf('=');
			name = eq < 0 ? parts[i] : parts[i].substring(0, eq);
			value = eq < 0 ? '' : parts[i].substring(eq + 1);
			list.push([native.formDecode(name), native.formDecode(value)]);
		}
		return list;
	}

	function URLSearchParams(init) {
		var i, keys, it, step;

		if (!(this instanceof URLSearchParams))
			throw new TypeError("Constructor URLSearchParams requires " +
			    "'new'");
		define(this, '_list', []);
		define(this, '_url', null);
		if (init === undefined || init === null)
			return;
		if (init instanceof URLSearchParams) {
			this._list = init._list.map(function (p) { return p.slice(); });
			return;
		}
		if (typeof init === 'object' || typeof init === 'function') {
			if (Array.isArray(init)) {
				for (i = 0; i < init.length; i++)
					this._pair(init[i]);
			} else if (typeof Symbol === 'function' && Symbol.iterator &&
			    typeof init[Symbol.iterator] === 'function') {
				it = init[Symbol.iterator]();
				while (!(step = it.next()).done)
					this._pair(step.value);
			} else {
				keys = Object.keys(init);
				for (i = 0; i < keys.length; i++)
					this._list.push([keys[i], String(init[keys[i]])]);
			}
			return;
		}
		init = String(init);
		this._list = parseQuery(init.charAt(0) === '?' ?
		    init.substring(1) : init);
	}

	var sp = URLSearchParams.prototype;

	define(sp, '_pair', function (pair) {
		var a = [], i;

		if (pair === null || typeof pair !== 'object')
			throw new TypeError('URLSearchParams: each pair must be a ' +
			    'sequence of two strings');
		if (Array.isArray(pair))
			a = pair;
		else if (typeof Symbol === 'function' && Symbol.iterator &&
		    typeof pair[Symbol.iterator] === 'function') {
			var it = pair[Symbol.iterator](), step;

			while (!(step = it.next()).done && a.length < 3)
				a.push(step.value);
		} else
			for (i = 0; i < pair.length; i++)
				a.push(pair[i]);
		if (a.length !== 2)
			throw new TypeError('URLSearchParams: each pair must be a ' +
			    'sequence of two strings');
		this._list.push([String(a[0]), String(a[1])]);
	});

	/* The Standard's "update steps": the URL follows its params. */
	define(sp, '_update', function () {
		var url = this._url, s, p;

		if (url === null)
			return;
		s = this.toString();
		p = url._p.slice(0, HREF);
		p[QUERY] = s === '' ? null : s;
		url._p = native.parse(compose(p));
	});

	define(sp, 'append', function (name, value) {
		if (arguments.length < 2)
			throw new TypeError('URLSearchParams.append needs 2 arguments');
		this._list.push([String(name), String(value)]);
		this._update();
	});
	/* Whether a pair is name's (and value's, when one is given). */
	function matcher(name, value) {
		var n = String(name), v = value === undefined ? undefined :
		    String(value);

		return function (p) {
			return p[0] === n && (v === undefined || p[1] === v);
		};
	}

	define(sp, 'delete', function (name, value) {
		var m = matcher(name, value);

		this._list = this._list.filter(function (p) { return !m(p); });
		this._update();
	});
	define(sp, 'get', function (name) {
		var n = String(name), i;

		for (i = 0; i < this._list.length; i++)
			if (this._list[i][0] === n)
				return this._list[i][1];
		return null;
	});
	define(sp, 'getAll', function (name) {
		var n = String(name);

		return this._list.filter(function (p) { return p[0] === n; })
		    .map(function (p) { return p[1]; });
	});
	define(sp, 'has', function (name, value) {
		return this._list.some(matcher(name, value));
	});
	define(sp, 'set', function (name, value) {
		var n = String(name), v = String(value), found = false;

		this._list = this._list.filter(function (p) {
			if (p[0] !== n)
				return true;
			if (found)
				return false;
			found = true;
			p[1] = v;
			return true;
		});
		if (!found)
			this._list.push([n, v]);
		this._update();
	});
	/* Stable, by the names' UTF-16 code units (Array.prototype.sort
	 * need not be stable: the index breaks ties). */
	define(sp, 'sort', function () {
		this._list = this._list.map(function (p, i) { return [p, i]; })
		    .sort(function (a, b) {
			if (a[0][0] !== b[0][0])
				return a[0][0] < b[0][0] ? -1 : 1;
			return a[1] - b[1];
		}).map(function (e) { return e[0]; });
		this._update();
	});
	define(sp, 'toString', function () {
		return this._list.map(function (p) {
			return native.formEncode(p[0]) + '=' + native.formEncode(p[1]);
		}).join('&');
	});
	define(sp, 'forEach', function (fn, thisArg) {
		var i;

		if (typeof fn !== 'function')
			throw new TypeError('URLSearchParams.forEach needs a function');
		for (i = 0; i < this._list.length; i++)
			fn.call(thisArg, this._list[i][1], this._list[i][0], this);
	});
	accessor(sp, 'size', function () { return this._list.length; });

	/* Iterators see the list as it is when next() runs (the Standard's
	 * are live too). */
	function iterator(params, pick) {
		var i = 0, it = {
			next: function () {
				var p = params._list[i];

				if (i >= params._list.length)
					return { value: undefined, done: true };
				i++;
				return { value: pick(p), done: false };
			}
		};

		if (typeof Symbol === 'function' && Symbol.iterator)
			it[Symbol.iterator] = function () { return it; };
		return it;
	}

	define(sp, 'entries', function () {
		return iterator(this, function (p) { return [p[0], p[1]]; });
	});
	define(sp, 'keys', function () {
		return iterator(this, function (p) { return p[0]; });
	});
	define(sp, 'values', function () {
		return iterator(this, function (p) { return p[1]; });
	});
	if (typeof Symbol === 'function' && Symbol.iterator)
		define(sp, Symbol.iterator, sp.entries);
	if (typeof Symbol === 'function' && Symbol.toStringTag) {
		define(up, Symbol.toStringTag, 'URL');
		define(sp, Symbol.toStringTag, 'URLSearchParams');
	}

	return { URL: URL, URLSearchParams: URLSearchParams };
});
