/*
 * promise.js - Promise (Promises/A+, and the ECMAScript 2021 statics),
 * queueMicrotask and the heap's microtask queue. Loaded by lib_promise.c,
 * which passes its natives:
 *   native.key          a hidden symbol: the key of a promise's state,
 *                       which the function's own code cannot name
 *   native.uncaught(label, value)  logs value as a console error
 *   native.settled(ok, value, res) the handler's promise settled
 *   native.then         Promise.prototype.then: PerformPromiseThen on a
 *                       promise of ours of species Promise, as react
 *                       does it; any other species goes to thenSpecies
 *   native.resolve      Promise.resolve: a fulfilled promise for a value
 *                       that is not an object; anything else goes to
 *                       resolveAny
 * The natives make promises and records exactly as init and react do.
 * ECMAScript 5.1 only: the engine runs nothing newer.
 */
(function (native) {
	'use strict';

	var KEY = native.key;
	var uncaught = native.uncaught;
	var promiseThen = native.then;
	var create = Object.create;
	/* The queue holds each job as four slots, so queueing a job allocates
	 * nothing: a run* function and its three arguments, or, for the most
	 * common job, a promise reaction (NewPromiseReactionJob), undefined
	 * and the reaction's rec, handler and target, run by the drain itself
	 * (lib_promise.c, which keeps the position of the next job). */
	var queue = [];
	var unhandled = [];
	var proto;	/* Promise.prototype, read-only as the standard's */
	var hasSymbol = typeof Symbol === 'function';

	function isObject(x) {
		return x !== null && (typeof x === 'object' || typeof x === 'function');
	}

	function record(p) {
		return isObject(p) ? p[KEY] : undefined;
	}

	/* A promise's record, an array of two (an index costs less than a
	 * name in this engine, and the C side makes it with no prototype):
	 *   [0] the state in bits 0-1 (0 pending, 1 fulfilled, 2 rejected),
	 *      4 once a handler was attached (a rejection is handled), and
	 *      8 when the watch (see watch) is its first reaction, kept as
	 *      this bit rather than in [1]: most calls end before the promise
	 *      they watch settles; literals, as an outer name costs a lookup
	 *      by name here
	 *   [1] while pending, its other reactions: undefined or a flat array
	 *      of [onFulfilled, onRejected, target] triples; then the value
	 *      or the reason.
	 * A hidden symbol names nothing the function's code can reach, and is
	 * never enumerated: a plain put is enough. The record points to
	 * nothing that points back to it, so a promise is freed by reference
	 * counting alone, never left to the mark-and-sweep. */
	function init(p) {
		var rec = [0, undefined];

		p[KEY] = rec;
		return rec;
	}

	function settle(rec, state, value) {
		var s = rec[0], r = rec[1], q, i;

		if ((s & 3) !== 0)
			return;
		rec[0] = s | state;
		rec[1] = value;
		if ((s & 8) !== 0)
			queue.push(undefined, rec, undefined, watchTarget);
		if (r !== undefined) {
			q = queue;
			for (i = 0; i < r.length; i += 3)
				q.push(undefined, rec, state === 1 ? r[i] : r[i + 1],
				    r[i + 2]);
		}
		if (state === 2 && (s & 4) === 0)
			unhandled.push(rec);
	}

	/* The promise resolve function's steps (ECMAScript 27.2.1.3.2).
	 * A promise of ours whose then is ours is adopted without calling
	 * then through the function's reach: same job, same order. */
	function resolveWith(rec, x) {
		var then, xrec;

		if (x === null || (typeof x !== 'object' &&
		    typeof x !== 'function')) {
			settle(rec, 1, x);
			return;
		}
		xrec = x[KEY];
		if (xrec === rec) {
			settle(rec, 2, new TypeError('a promise cannot be ' +
			    'resolved with itself'));
			return;
		}
		try {
			then = x.then;
		} catch (e) {
			settle(rec, 2, e);
			return;
		}
		if (typeof then !== 'function') {
			settle(rec, 1, x);
			return;
		}
		if (then === promiseThen && xrec !== undefined)
			queue.push(runAdopt, rec, x, undefined);
		else
			queue.push(runThenable, rec, x, then);
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
				settle(rec, 2, e);
			}
		};
	}


	/* NewPromiseResolveThenableJob for any thenable. */
	function runThenable(rec, x, then) {
		var fns = resolvers(rec);

		try {
			then.call(x, fns.resolve, fns.reject);
		} catch (e) {
			fns.reject(e);
		}
	}

	/* The same job for a promise of ours with our then: what then would
	 * do, reading x.constructor as it does. When the species is Promise,
	 * the resolving functions and then's own derived promise are
	 * unobservable: rec itself is the reaction's target. */
	function runAdopt(rec, x) {
		var C, fns;

		try {
			C = speciesOf(x.constructor);
		} catch (e) {
			settle(rec, 2, e);
			return;
		}
		if (C === Promise) {
			react(x[KEY], undefined, undefined, rec);
			return;
		}
		fns = resolvers(rec);
		try {
			thenOf(x[KEY], C, fns.resolve, fns.reject);
		} catch (e) {
			fns.reject(e);
		}
	}

	function runMicrotask(callback) {
		try {
			callback();
		} catch (e) {
			uncaught('Uncaught', e);
		}
	}

	/* PerformPromiseThen: t is the reaction's target (see lib_promise.c's drain).
	 * native.then, watch and lib_promise.c's watch repeat it. */
	function react(rec, f, r, t) {
		var s = rec[0];

		rec[0] = s | 4;
		if ((s & 3) === 0) {
			if (rec[1] === undefined)
				rec[1] = [f, r, t];
			else
				rec[1].push(f, r, t);
		} else
			queue.push(undefined, rec, (s & 3) === 1 ? f : r, t);
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

	/* NewPromiseCapability(C) with resolving functions: for the
	 * combinators, which pass them around, and for other constructors,
	 * through their executor. */
	function capability(C) {
		var cap = {}, p;

		if (C === Promise || C === undefined) {
			p = create(proto);
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

	/* SpeciesConstructor for a promise's constructor C (as read). */
	function speciesOf(C) {
		if (C === undefined)
			return Promise;
		if (!isObject(C))
			throw new TypeError('constructor is not an object');
		return C;
	}

	/* then on the promise of record rec once its species C is known. */
	function thenOf(rec, C, onFulfilled, onRejected) {
		var p, cap;

		if (C === Promise) {
			p = create(proto);
			react(rec, onFulfilled, onRejected, init(p));
			return p;
		}
		cap = capability(C);
		react(rec, onFulfilled, onRejected, cap);
		return cap.promise;
	}

	/* then for another species C (as read from the promise's
	 * constructor) than Promise: the native then's slow path. */
	function thenSpecies(rec, C, onFulfilled, onRejected) {
		return thenOf(rec, speciesOf(C), onFulfilled, onRejected);
	}

	function promiseResolve(C, x) {
		var cap, p;

		if (record(x) !== undefined && x.constructor === C)
			return x;
		if (C === Promise) {
			p = create(proto);
			resolveWith(init(p), x);
			return p;
		}
		cap = capability(C);
		cap.resolve(x);
		return cap.promise;
	}

	function define(obj, name, value) {
		Object.defineProperty(obj, name, { value: value, writable: true,
		    configurable: true, enumerable: false });
	}

	/* As the standard's: a function cannot swap the prototype that every
	 * promise the library makes is given. */
	Object.defineProperty(Promise, 'prototype', { writable: false });
	proto = Promise.prototype;
	define(proto, 'then', promiseThen);
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
		C = speciesOf(this.constructor);
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

	/* Promise.resolve but for a value that is not an object on Promise
	 * itself (native.resolve makes that one). */
	function resolveAny(x) {
		if (!isObject(this))
			throw new TypeError('Promise.resolve called on a ' +
			    'non-object');
		return promiseResolve(this, x);
	}
	define(Promise, 'resolve', native.resolve);
	define(Promise, 'reject', function (e) {
		var cap, p;

		if (this === Promise) {
			p = create(proto);
			settle(init(p), 2, e);
			return p;
		}
		cap = capability(this);
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
		queue.push(runMicrotask, callback, undefined, undefined);
	}

	/* Rejections reported may run the function's code (a stack
	 * getter), which may reject more: those are reported too. */
	function reportUnhandled() {
		var list = unhandled, i;

		for (i = 0; i < list.length; i++)
			if ((list[i][0] & 4) === 0) {
				list[i][0] |= 4;
				uncaught('Uncaught (in promise)', list[i][1]);
			}
		list.length = 0;
	}

	function reset() {
		queue.length = 0;
		unhandled.length = 0;
		watchTarget.res = undefined;
	}

	/* The drain's: the h slots before its position dropped. */
	function compact(h) {
		queue.splice(0, h);
	}

	/* The target of the watch's reaction, made once: it takes the place
	 * of a capability (the drain calls its resolve or reject); res is
	 * the call's res object while a call watches (lib_promise.c sets it
	 * on its fast path, watch on the others). */
	var watchTarget = {
		res: undefined,
		resolve: function (v) {
			native.settled(true, v, watchTarget.res);
		},
		reject: function (e) {
			native.settled(false, e, watchTarget.res);
		}
	};

	/* The handler's return value, adopted as await adopts it: a promise
	 * of ours with our then (fast: lib_promise.c read its constructor
	 * and then, as await reads them, and saw ours) gets the watch as its
	 * reaction directly; anything else goes through the resolve steps.
	 * Nothing the function could have replaced is called. lib_promise.c
	 * makes the watch itself when such a promise has no reaction yet. */
	function watch(value, res, fast) {
		var rec;

		watchTarget.res = res;
		if (fast)
			rec = value[KEY];
		else {
			rec = init(create(proto));
			resolveWith(rec, value);
		}
		if ((rec[0] & 11) === 0 && rec[1] === undefined)
			/* react(), for the common case: nothing else waits. */
			rec[0] |= 12;
		else
			react(rec, undefined, undefined, watchTarget);
	}

	function deferred() {
		var cap = capability(Promise);

		return [cap.promise, cap.resolve, cap.reject];
	}

	return {
		Promise: Promise,
		AggregateError: AggregateError,
		queueMicrotask: queueMicrotask,
		reset: reset,
		reportUnhandled: reportUnhandled,
		resolveWith: resolveWith,
		compact: compact,
		queue: queue,
		unhandled: unhandled,
		watch: watch,
		watchTarget: watchTarget,
		then: promiseThen,
		thenSpecies: thenSpecies,
		resolveAny: resolveAny,
		proto: proto,
		deferred: deferred
	};
})
