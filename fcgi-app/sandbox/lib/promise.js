/*
 * promise.js - Promise (Promises/A+, and the ECMAScript 2021 statics),
 * queueMicrotask and the heap's microtask queue. Loaded by lib_promise.c,
 * which passes its natives:
 *   native.key          a hidden symbol: the key of a promise's state,
 *                       which the function's own code cannot name
 *   native.stop()       true when the loop must stop running jobs (the
 *                       answer is known, the deadline or the cap was hit)
 *   native.uncaught(label, value)  logs value as a console error
 *   native.settled(ok, value, res) the handler's promise settled
 * ECMAScript 5.1 only: the engine runs nothing newer.
 */
(function (native) {
	'use strict';

	var KEY = native.key;
	var stop = native.stop;
	var uncaught = native.uncaught;
	var queue = [];
	var head = 0;
	var unhandled = [];
	var PENDING = 0, FULFILLED = 1, REJECTED = 2;
	var hasSymbol = typeof Symbol === 'function';

	function enqueue(job) {
		queue.push(job);
	}

	function isObject(x) {
		return x !== null && (typeof x === 'object' || typeof x === 'function');
	}

	function record(p) {
		return isObject(p) ? p[KEY] : undefined;
	}

	/* A promise's state: s (PENDING, FULFILLED, REJECTED), v (value or
	 * reason), r (reactions while pending), h (a handler was attached). */
	function init(p) {
		var rec = { s: PENDING, v: undefined, r: [], h: false, p: p };
		Object.defineProperty(p, KEY, { value: rec });
		return rec;
	}

	function settle(rec, state, value) {
		var reactions = rec.r, i;

		if (rec.s !== PENDING)
			return;
		rec.s = state;
		rec.v = value;
		rec.r = null;
		for (i = 0; i < reactions.length; i++)
			schedule(rec, reactions[i]);
		if (state === REJECTED && !rec.h)
			unhandled.push(rec);
	}

	/* The promise resolve function's steps (ECMAScript 27.2.1.3.2). */
	function resolveWith(rec, x) {
		var then;

		if (x === rec.p) {
			settle(rec, REJECTED, new TypeError('a promise cannot be ' +
			    'resolved with itself'));
			return;
		}
		if (!isObject(x)) {
			settle(rec, FULFILLED, x);
			return;
		}
		try {
			then = x.then;
		} catch (e) {
			settle(rec, REJECTED, e);
			return;
		}
		if (typeof then !== 'function') {
			settle(rec, FULFILLED, x);
			return;
		}
		enqueue(function () {
			var fns = resolvers(rec);

			try {
				then.call(x, fns.resolve, fns.reject);
			} catch (e) {
				fns.reject(e);
			}
		});
	}

	/* A resolve/reject pair sharing one "already resolved" flag. */
	function resolvers(rec) {
		var done = false;

		return {
			resolve: function (x) {
				if (done)
					return;
				done = true;
				resolveWith(rec, x);
			},
			reject: function (e) {
				if (done)
					return;
				done = true;
				settle(rec, REJECTED, e);
			}
		};
	}

	/* Reaction: f, r (handlers) and c, the capability the handler's
	 * outcome goes to ({resolve, reject}), or null. */
	function schedule(rec, reaction) {
		enqueue(function () {
			var fn = rec.s === FULFILLED ? reaction.f : reaction.r;
			var c = reaction.c, v;

			if (typeof fn !== 'function') {
				if (c !== null)
					(rec.s === FULFILLED ? c.resolve : c.reject)(rec.v);
				return;
			}
			try {
				v = fn(rec.v);
			} catch (e) {
				if (c !== null)
					c.reject(e);
				return;
			}
			if (c !== null)
				c.resolve(v);
		});
	}

	function react(rec, f, r, c) {
		var reaction = { f: f, r: r, c: c };

		rec.h = true;
		if (rec.s === PENDING)
			rec.r.push(reaction);
		else
			schedule(rec, reaction);
	}

	function Promise(executor) {
		var fns;

		if (!(this instanceof Promise) || record(this) !== undefined)
			throw new TypeError('Promise must be called with new');
		if (typeof executor !== 'function')
			throw new TypeError('Promise resolver ' + typeof executor +
			    ' is not a function');
		fns = resolvers(init(this));
		try {
			executor(fns.resolve, fns.reject);
		} catch (e) {
			fns.reject(e);
		}
	}

	/* NewPromiseCapability(C): our own promises without an executor's
	 * closures; a subclass or foreign constructor through its executor. */
	function capability(C) {
		var cap = {}, p;

		if (C === Promise || C === undefined) {
			p = Object.create(Promise.prototype);
			cap = resolvers(init(p));
			cap.promise = p;
			return cap;
		}
		if (typeof C !== 'function')
			throw new TypeError('not a constructor');
		cap.promise = new C(function (resolve, reject) {
			if (cap.resolve !== undefined || cap.reject !== undefined)
				throw new TypeError('promise capability executor ' +
				    'called twice');
			cap.resolve = resolve;
			cap.reject = reject;
		});
		if (typeof cap.resolve !== 'function' ||
		    typeof cap.reject !== 'function')
			throw new TypeError('promise capability functions are ' +
			    'not callable');
		return cap;
	}

	function speciesOf(p) {
		var C = p.constructor;

		if (C === undefined)
			return Promise;
		if (!isObject(C))
			throw new TypeError('constructor is not an object');
		return C;
	}

	function then(onFulfilled, onRejected) {
		var rec = record(this), cap;

		if (rec === undefined)
			throw new TypeError('Promise.prototype.then called on ' +
			    'something that is not a promise');
		cap = capability(speciesOf(this));
		react(rec, onFulfilled, onRejected, cap);
		return cap.promise;
	}

	function promiseResolve(C, x) {
		var cap;

		if (record(x) !== undefined && x.constructor === C)
			return x;
		cap = capability(C);
		cap.resolve(x);
		return cap.promise;
	}

	function define(obj, name, value) {
		Object.defineProperty(obj, name, { value: value, writable: true,
		    configurable: true, enumerable: false });
	}

	define(Promise.prototype, 'then', then);
	define(Promise.prototype, 'catch', function (onRejected) {
		return this.then(undefined, onRejected);
	});
	define(Promise.prototype, 'finally', function (onFinally) {
		var C;

		if (!isObject(this))
			throw new TypeError('Promise.prototype.finally called on ' +
			    'a non-object');
		if (typeof onFinally !== 'function')
			return this.then(onFinally, onFinally);
		C = speciesOf(this);
		return this.then(function (v) {
			return promiseResolve(C, onFinally()).then(function () {
				return v;
			});
		}, function (e) {
			return promiseResolve(C, onFinally()).then(function () {
				throw e;
			});
		});
	});
	if (hasSymbol && typeof Symbol.toStringTag === 'symbol')
		Object.defineProperty(Promise.prototype, Symbol.toStringTag,
		    { value: 'Promise', configurable: true });

	define(Promise, 'resolve', function (x) {
		if (!isObject(this))
			throw new TypeError('Promise.resolve called on a ' +
			    'non-object');
		return promiseResolve(this, x);
	});
	define(Promise, 'reject', function (e) {
		var cap = capability(this);

		cap.reject(e);
		return cap.promise;
	});

	/* Calls each(value, index) for the values of an iterable: arrays,
	 * strings, array-likes and objects with a Symbol.iterator method.
	 * Returns how many there were. */
	function iterate(iterable, each) {
		var it, step, n = 0, i;

		if (hasSymbol && typeof Symbol.iterator === 'symbol' &&
		    isObject(iterable) &&
		    typeof iterable[Symbol.iterator] === 'function' &&
		    !Array.isArray(iterable)) {
			it = iterable[Symbol.iterator]();
			for (;;) {
				step = it.next();
				if (!isObject(step))
					throw new TypeError('iterator result is not ' +
					    'an object');
				if (step.done)
					return n;
				each(step.value, n++);
			}
		}
		if (iterable === null || iterable === undefined ||
		    (typeof iterable !== 'string' && !isObject(iterable)) ||
		    typeof iterable.length !== 'number')
			throw new TypeError(String(iterable) + ' is not iterable');
		for (i = 0; i < iterable.length; i++)
			each(iterable[i], n++);
		return n;
	}

	/* The shape of all, allSettled and any: start(cap) makes per-element
	 * callbacks; each element goes through C.resolve(x).then(...). */
	function combinator(name, build) {
		define(Promise, name, function (iterable) {
			var C = this, cap = capability(C), state, resolveFn;

			try {
				resolveFn = C.resolve;
				if (typeof resolveFn !== 'function')
					throw new TypeError('resolve is not a function');
				state = build(cap);
				state.left = 1;
				iterate(iterable, function (x, i) {
					var h = state.handlers(i);

					state.left++;
					resolveFn.call(C, x).then(h[0], h[1]);
				});
				if (--state.left === 0)
					state.finish();
			} catch (e) {
				cap.reject(e);
			}
			return cap.promise;
		});
	}

	function once(fn) {
		var called = false;

		return function (x) {
			if (called)
				return;
			called = true;
			fn(x);
		};
	}

	combinator('all', function (cap) {
		var values = [], state = {};

		state.finish = function () { cap.resolve(values); };
		state.handlers = function (i) {
			values[i] = undefined;
			return [once(function (v) {
				values[i] = v;
				if (--state.left === 0)
					state.finish();
			}), cap.reject];
		};
		return state;
	});

	combinator('allSettled', function (cap) {
		var values = [], state = {};

		state.finish = function () { cap.resolve(values); };
		state.handlers = function (i) {
			var done = once(function (r) {
				values[i] = r;
				if (--state.left === 0)
					state.finish();
			});

			values[i] = undefined;
			return [function (v) {
				done({ status: 'fulfilled', value: v });
			}, function (e) {
				done({ status: 'rejected', reason: e });
			}];
		};
		return state;
	});

	function AggregateError(errors, message) {
		var e;

		if (!(this instanceof AggregateError))
			return new AggregateError(errors, message);
		e = new Error(message === undefined ? '' : String(message));
		define(this, 'message', e.message);
		define(this, 'stack', e.stack);
		define(this, 'errors', Array.prototype.slice.call(errors));
	}
	AggregateError.prototype = Object.create(Error.prototype);
	define(AggregateError.prototype, 'constructor', AggregateError);
	define(AggregateError.prototype, 'name', 'AggregateError');
	define(AggregateError.prototype, 'message', '');

	combinator('any', function (cap) {
		var errors = [], state = {};

		state.finish = function () {
			cap.reject(new AggregateError(errors,
			    'All promises were rejected'));
		};
		state.handlers = function (i) {
			errors[i] = undefined;
			return [cap.resolve, once(function (e) {
				errors[i] = e;
				if (--state.left === 0)
					state.finish();
			})];
		};
		return state;
	});

	define(Promise, 'race', function (iterable) {
		var C = this, cap = capability(C), resolveFn;

		try {
			resolveFn = C.resolve;
			if (typeof resolveFn !== 'function')
				throw new TypeError('resolve is not a function');
			iterate(iterable, function (x) {
				resolveFn.call(C, x).then(cap.resolve, cap.reject);
			});
		} catch (e) {
			cap.reject(e);
		}
		return cap.promise;
	});

	function queueMicrotask(callback) {
		if (typeof callback !== 'function')
			throw new TypeError('queueMicrotask: the callback is not ' +
			    'a function');
		enqueue(function () {
			try {
				callback();
			} catch (e) {
				uncaught('Uncaught', e);
			}
		});
	}

	function reportUnhandled() {
		var list = unhandled, i;

		unhandled = [];
		for (i = 0; i < list.length; i++)
			if (!list[i].h) {
				list[i].h = true;
				uncaught('Uncaught (in promise)', list[i].v);
			}
	}

	/* Runs jobs in order until none is left or the loop must stop;
	 * jobs queued meanwhile run in the same drain (HTML "perform a
	 * microtask checkpoint"). */
	function drain() {
		while (head < queue.length) {
			if (stop())
				return;
			var job = queue[head];
			queue[head++] = undefined;
			job();
			if (head >= 4096) {
				queue.splice(0, head);
				head = 0;
			}
		}
		queue.length = 0;
		head = 0;
		reportUnhandled();
	}

	function reset() {
		queue = [];
		head = 0;
		unhandled = [];
	}

	/* The handler's return value: adopted like Promise.resolve would,
	 * without going through anything the function could have replaced. */
	function watch(value, res) {
		var p = Object.create(Promise.prototype), rec = init(p);

		resolvers(rec).resolve(value);
		react(rec, function (v) {
			native.settled(true, v, res);
		}, function (e) {
			native.settled(false, e, res);
		}, null);
	}

	function deferred() {
		var cap = capability(Promise);

		return [cap.promise, cap.resolve, cap.reject];
	}

	return {
		Promise: Promise,
		AggregateError: AggregateError,
		queueMicrotask: queueMicrotask,
		drain: drain,
		reset: reset,
		watch: watch,
		deferred: deferred
	};
})
