/*
 * fetch.js - fetch, Headers, Request, Response, AbortController and
 * AbortSignal of the Fetch standard (SPEC §12), and turning a Response the
 * handler returned into its answer. Loaded by lib_fetch.c with its natives:
 *   native.key         a hidden symbol marking our Response objects
 *   native.deferred()  [promise, resolve, reject] of the heap's Promise
 *   native.text(bytes) the bytes as a string, through the one UTF-8 door
 *   native.setTimeout  the timers family's setTimeout
 *   native.start(method, url, pairs, bytes, redirect, resolve, reject)
 *                      starts a request (net/outbound.c); returns its id
 *   native.cancel(id)  drops it; true if it was still pending
 *   native.ready()     throws unless a call is running (not the top level)
 * lib_fetch.c settles a request through complete() or fail() below.
 * Bodies are kept whole: a string, or a Uint8Array of bytes.
 * ECMAScript 5.1 only.
 */
(function (native) {
	'use strict';

	var KEY = native.key;
	var TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

	function define(obj, name, value) {
		Object.defineProperty(obj, name, { value: value, writable: true,
		    configurable: true, enumerable: false });
	}

	function iterator(list) {
		var i = 0, it = {
			next: function () {
				return i < list.length ? { value: list[i++], done: false } :
				    { value: undefined, done: true };
			}
		};

		if (typeof Symbol === 'function' && Symbol.iterator)
			it[Symbol.iterator] = function () { return it; };
		return it;
	}

	function normalizeValue(v) {
		v = String(v).replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
		if (/[\r\n\0]/.test(v))
			throw new TypeError('invalid header value');
		return v;
	}

	function normalizeName(n) {
		n = String(n);
		if (!TOKEN.test(n))
			throw new TypeError("invalid header name '" + n + "'");
		return n.toLowerCase();
	}

	function Headers(init) {
		var self = this, i, keys;

		if (!(this instanceof Headers))
			throw new TypeError("Headers must be called with new");
		define(this, '_list', []);
		if (init === undefined || init === null)
			return;
		if (init instanceof Headers) {
			init.forEach(function (v, k) { self.append(k, v); });
		} else if (Array.isArray(init)) {
			for (i = 0; i < init.length; i++) {
				if (!init[i] || init[i].length !== 2)
					throw new TypeError('a header pair must have two ' +
					    'elements');
				this.append(init[i][0], init[i][1]);
			}
		} else if (typeof init === 'object') {
			keys = Object.keys(init);
			for (i = 0; i < keys.length; i++)
				this.append(keys[i], init[keys[i]]);
		} else
			throw new TypeError('Headers: init must be an object or ' +
			    'pairs');
	}

	define(Headers.prototype, 'append', function (name, value) {
		this._list.push([normalizeName(name), normalizeValue(value)]);
	});
	define(Headers.prototype, 'delete', function (name) {
		var n = normalizeName(name), l = this._list, i;

		for (i = l.length - 1; i >= 0; i--)
			if (l[i][0] === n)
				l.splice(i, 1);
	});
	define(Headers.prototype, 'get', function (name) {
		var n = normalizeName(name), l = this._list, out = [], i;

		for (i = 0; i < l.length; i++)
			if (l[i][0] === n)
				out.push(l[i][1]);
		return out.length > 0 ? out.join(', ') : null;
	});
	define(Headers.prototype, 'has', function (name) {
		return this.get(name) !== null;
	});
	define(Headers.prototype, 'set', function (name, value) {
		var n = normalizeName(name), v = normalizeValue(value);

		this['delete'](n);
		this._list.push([n, v]);
	});
	/* Sorted by name, values of one name combined (Fetch "sort and
	 * combine"). */
	define(Headers.prototype, 'entries', function () {
		var names = [], out = [], i, l = this._list;

		for (i = 0; i < l.length; i++)
			if (names.indexOf(l[i][0]) < 0)
				names.push(l[i][0]);
		names.sort();
		for (i = 0; i < names.length; i++)
			out.push([names[i], this.get(names[i])]);
		return iterator(out);
	});
	define(Headers.prototype, 'keys', function () {
		var e = this.entries(), out = [], s;

		for (s = e.next(); !s.done; s = e.next())
			out.push(s.value[0]);
		return iterator(out);
	});
	define(Headers.prototype, 'values', function () {
		var e = this.entries(), out = [], s;

		for (s = e.next(); !s.done; s = e.next())
			out.push(s.value[1]);
		return iterator(out);
	});
	define(Headers.prototype, 'forEach', function (cb, thisArg) {
		var e = this.entries(), s;

		for (s = e.next(); !s.done; s = e.next())
			cb.call(thisArg, s.value[1], s.value[0], this);
	});
	if (typeof Symbol === 'function' && Symbol.iterator)
		define(Headers.prototype, Symbol.iterator,
		    Headers.prototype.entries);

	/* A body: [bytes or string or null, its default content type]. */
	function extractBody(body) {
		if (body === undefined || body === null)
			return [null, null];
		if (typeof body === 'string')
			return [body, 'text/plain;charset=UTF-8'];
		if (body instanceof ArrayBuffer)
			return [new Uint8Array(body.slice(0)), null];
		if (ArrayBuffer.isView(body))
			return [new Uint8Array(body.buffer.slice(body.byteOffset,
			    body.byteOffset + body.byteLength)), null];
		if (typeof URLSearchParams === 'function' &&
		    body instanceof URLSearchParams)
			return [String(body),
			    'application/x-www-form-urlencoded;charset=UTF-8'];
		return [String(body), 'text/plain;charset=UTF-8'];
	}

	function bodyText(b) {
		if (b === null)
			return '';
		return typeof b === 'string' ? b : native.text(b);
	}

	function bodyBytes(b) {
		if (b === null)
			return new ArrayBuffer(0);
		if (typeof b === 'string')
			return new TextEncoder().encode(b).buffer;
		return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
	}

	/* text(), json(), arrayBuffer(): a body is read once. */
	function consume(self, how) {
		var d = native.deferred();

		try {
			if (self._used)
				throw new TypeError('body has already been read');
			self._used = true;
			d[1](how(self._body));
		} catch (e) {
			d[2](e);
		}
		return d[0];
	}

	function addBodyMethods(proto) {
		define(proto, 'text', function () {
			return consume(this, bodyText);
		});
		define(proto, 'json', function () {
			return consume(this, function (b) {
				return JSON.parse(bodyText(b));
			});
		});
		define(proto, 'arrayBuffer', function () {
			return consume(this, bodyBytes);
		});
		Object.defineProperty(proto, 'bodyUsed', { configurable: true,
		    get: function () { return this._used; } });
	}

	function initBody(self, body, headers) {
		var b = extractBody(body);

		define(self, '_body', b[0]);
		define(self, '_used', false);
		if (b[1] !== null && !headers.has('content-type'))
			headers.set('content-type', b[1]);
	}

	function Response(body, init) {
		var status;

		if (!(this instanceof Response))
			throw new TypeError('Response must be called with new');
		init = init || {};
		status = init.status === undefined ? 200 : Number(init.status);
		if (status !== Math.floor(status) || status < 200 || status > 599)
			throw new RangeError('status must be an integer from 200 ' +
			    'to 599');
		if ((body !== undefined && body !== null) &&
		    (status === 204 || status === 205 || status === 304))
			throw new TypeError('a ' + status + ' response has no ' +
			    'body');
		this[KEY] = true;
		define(this, 'status', status);
		define(this, 'statusText', init.statusText === undefined ? '' :
		    String(init.statusText));
		define(this, 'headers', new Headers(init.headers));
		define(this, 'url', '');
		define(this, 'redirected', false);
		define(this, 'type', 'default');
		initBody(this, body, this.headers);
	}
	Object.defineProperty(Response.prototype, 'ok', { configurable: true,
	    get: function () { return this.status >= 200 && this.status < 300; } });
	addBodyMethods(Response.prototype);
	define(Response.prototype, 'clone', function () {
		var r;

		if (this._used)
			throw new TypeError('body has already been read');
		r = new Response(null, { status: this.status,
		    statusText: this.statusText, headers: this.headers });
		define(r, '_body', this._body);
		define(r, 'url', this.url);
		define(r, 'redirected', this.redirected);
		return r;
	});
	define(Response, 'json', function (data, init) {
		var text = JSON.stringify(data), h;

		if (text === undefined)
			throw new TypeError('the value has no JSON form');
		init = init || {};
		h = new Headers(init.headers);
		if (!h.has('content-type'))
			h.set('content-type', 'application/json');
		return new Response(text, { status: init.status,
		    statusText: init.statusText, headers: h });
	});
	define(Response, 'redirect', function (url, status) {
		status = status === undefined ? 302 : status;
		if ([301, 302, 303, 307, 308].indexOf(status) < 0)
			throw new RangeError('invalid redirect status');
		return new Response(null, { status: status,
		    headers: { location: String(url) } });
	});

	var METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT',
	    'PATCH'];

	function Request(input, init) {
		var method, headers, body, redirect;

		if (!(this instanceof Request))
			throw new TypeError('Request must be called with new');
		init = init || {};
		if (input instanceof Request) {
			if (input._used)
				throw new TypeError('body has already been read');
			method = input.method;
			headers = input.headers;
			body = input._body;
			redirect = input.redirect;
			define(this, 'url', input.url);
			define(this, 'signal', input.signal);
		} else {
			define(this, 'url', String(input));
			define(this, 'signal', null);
		}
		if (init.method !== undefined) {
			method = String(init.method);
			if (!TOKEN.test(method))
				throw new TypeError("invalid method '" + method + "'");
			if (METHODS.indexOf(method.toUpperCase()) >= 0)
				method = method.toUpperCase();
		}
		method = method || 'GET';
		if (init.redirect !== undefined)
			redirect = String(init.redirect);
		redirect = redirect || 'follow';
		if (['follow', 'manual', 'error'].indexOf(redirect) < 0)
			throw new TypeError("redirect must be 'follow', 'manual' " +
			    "or 'error'");
		if (init.signal !== undefined)
			define(this, 'signal', init.signal);
		define(this, 'method', method);
		define(this, 'redirect', redirect);
		define(this, 'headers', new Headers(init.headers !== undefined ?
		    init.headers : headers));
		if (init.body !== undefined)
			body = init.body;
		if ((method === 'GET' || method === 'HEAD') && body !== undefined &&
		    body !== null)
			throw new TypeError('a ' + method + ' request has no body');
		initBody(this, body, this.headers);
	}
	addBodyMethods(Request.prototype);
	define(Request.prototype, 'clone', function () {
		return new Request(this);
	});

	function abortError(reason) {
		var e;

		if (reason !== undefined)
			return reason;
		e = new Error('the operation was aborted');
		e.name = 'AbortError';
		return e;
	}

	function AbortSignal() {
		throw new TypeError('AbortSignal cannot be constructed; use ' +
		    'AbortController');
	}

	function newSignal() {
		var s = Object.create(AbortSignal.prototype);

		define(s, 'aborted', false);
		define(s, 'reason', undefined);
		define(s, '_listeners', []);
		s.onabort = null;
		return s;
	}

	function signalAbort(s, reason) {
		var l, i;

		if (s.aborted)
			return;
		s.aborted = true;
		s.reason = abortError(reason);
		l = s._listeners.slice();
		s._listeners.length = 0;
		if (typeof s.onabort === 'function')
			s.onabort({ type: 'abort', target: s });
		for (i = 0; i < l.length; i++)
			l[i].call(s, { type: 'abort', target: s });
	}

	define(AbortSignal.prototype, 'addEventListener', function (type, fn) {
		if (type === 'abort' && typeof fn === 'function')
			this._listeners.push(fn);
	});
	define(AbortSignal.prototype, 'removeEventListener', function (type, fn) {
		var i = this._listeners.indexOf(fn);

		if (type === 'abort' && i >= 0)
			this._listeners.splice(i, 1);
	});
	define(AbortSignal.prototype, 'throwIfAborted', function () {
		if (this.aborted)
			throw this.reason;
	});
	define(AbortSignal, 'abort', function (reason) {
		var s = newSignal();

		signalAbort(s, reason);
		return s;
	});
	define(AbortSignal, 'timeout', function (ms) {
		var s = newSignal();

		native.setTimeout(function () {
			var e = new Error('the operation timed out');

			e.name = 'TimeoutError';
			signalAbort(s, e);
		}, ms);
		return s;
	});

	function AbortController() {
		if (!(this instanceof AbortController))
			throw new TypeError('AbortController must be called with new');
		define(this, 'signal', newSignal());
	}
	define(AbortController.prototype, 'abort', function (reason) {
		signalAbort(this.signal, reason);
	});

	/* The handler resolved to (or returned) a Response: it is the answer,
	 * through res.send and so through its checks and limits (SPEC §5). */
	function answer(r, res) {
		var headers = {};

		r.headers.forEach(function (v, k) { headers[k] = v; });
		if (r._used)
			throw new TypeError('the Response body was already read');
		res.send(r._body === null ? '' : r._body, r.status, headers);
	}

	/* fetch(input, init): the request goes out through libcurl; its
	 * answer comes back through complete() or fail(). Every error,
	 * even a bad argument, rejects the promise (Fetch standard). */
	function fetch(input, init) {
		var d, req, signal, body, id;

		native.ready();		/* throws at the top level, as timers do */
		d = native.deferred();
		try {
			req = new Request(input, init);
			signal = req.signal;
			if (signal && signal.aborted)
				throw signal.reason;
			body = req._body;
			if (typeof body === 'string')
				body = new TextEncoder().encode(body);
			id = native.start(req.method, req.url, req.headers._list,
			    body, req.redirect, d[1], d[2]);
		} catch (e) {
			d[2](e);
			return d[0];
		}
		if (signal && typeof signal.addEventListener === 'function')
			signal.addEventListener('abort', function () {
				if (native.cancel(id))
					d[2](signal.reason);
			});
		return d[0];
	}

	/* r: { status, statusText, url, redirected, headers: [[n, v]...],
	 * body: Uint8Array }, from lib_fetch.c. */
	function complete(resolve, r) {
		var res = Object.create(Response.prototype), h = new Headers(), i;

		for (i = 0; i < r.headers.length; i++) {
			try {
				h.append(r.headers[i][0], r.headers[i][1]);
			} catch (e) {
				/* a header no Headers can hold is left out */
			}
		}
		res[KEY] = true;
		define(res, 'status', r.status);
		define(res, 'statusText', r.statusText);
		define(res, 'headers', h);
		define(res, 'url', r.url);
		define(res, 'redirected', r.redirected);
		define(res, 'type', 'basic');
		define(res, '_body', r.body);
		define(res, '_used', false);
		resolve(res);
	}

	function fail(reject, message) {
		reject(new TypeError(message));
	}

	return {
		fetch: fetch,
		complete: complete,
		fail: fail,
		Headers: Headers,
		Request: Request,
		Response: Response,
		AbortController: AbortController,
		AbortSignal: AbortSignal,
		answer: answer
	};
})
