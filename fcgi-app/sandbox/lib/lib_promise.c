/*
 * lib_promise.c - loads promise.js (Promise, queueMicrotask,
 * AggregateError) into a heap with its natives, and gives the event loop
 * (sandbox_loop.c) the heap's microtask queue: drain, reset, and the watch
 * on what the handler returned. The hot path of the library's own
 * promises is here, in C, because each outer name promise.js reads and
 * each call it makes costs in Duktape: Promise.resolve of a non-object,
 * then on a promise of species Promise, the drain with its reaction jobs
 * and settle, the watch's common case. They make promises, records and
 * reactions exactly as promise.js's init, react and settle do (its
 * comment on init says what a record holds); everything else is
 * promise.js's.
 */
#include "lib.h"
#include "promise_js.h"
#include "sandbox_internal.h"

#define HIDDEN_STATE		DUK_HIDDEN_SYMBOL("promiseState")
#define HIDDEN_REJECTION	DUK_HIDDEN_SYMBOL("rejection")
/* An array in the stash holding what struct lib_promise_refs points to,
 * so it stays reachable whatever the function does to the globals. */
#define HIDDEN_REFS		DUK_HIDDEN_SYMBOL("promiseRefs")

/* uncaught(label, value): an exception nobody caught, as a console
 * error of this call. */
static duk_ret_t
native_uncaught(duk_context *ctx)
{
	const char *label = duk_require_string(ctx, 0);

	duk_dup(ctx, 1);
	lib_report_uncaught(ctx, label);
	return 0;
}

/* settled(ok, value, res): the handler's promise settled. A Response it
 * resolved to is the answer (SPEC §5); a rejection is the call's error. */
static duk_ret_t
native_settled(duk_context *ctx)
{
	struct sandbox *sb = sandbox_of(ctx);

	if (sb->lib.settled != SETTLED_NO)
		return 0;
	if (duk_to_boolean(ctx, 0)) {
		sb->lib.settled = SETTLED_EMPTY;
		if (!lib_fetch_is_response(ctx, 1))
			return 0;
		duk_dup(ctx, 1);
		duk_dup(ctx, 2);
		if (lib_fetch_answer(ctx) == 0)
			return 0;
		/* A Response res.send refused: the call's error. */
		duk_replace(ctx, 1);
	}
	sb->lib.settled = SETTLED_REJECTED;
	duk_push_global_stash(ctx);
	duk_dup(ctx, 1);
	duk_put_prop_string(ctx, -2, HIDDEN_REJECTION);
	return 0;
}

/* [ refs exports ] -> [ refs exports ]: exports[name] (or the value on
 * top of the stack, taken, when name is NULL) appended to refs, and
 * its heap pointer. */
static void *
keep_ref(duk_context *ctx, const char *name)
{
	void *p;

	if (name != NULL)
		duk_get_prop_string(ctx, -1, name);
	p = duk_get_heapptr(ctx, -1);
	duk_put_prop_index(ctx, -3, (duk_uarridx_t)duk_get_length(ctx, -3));
	return p;
}

/* [ value ] -> [ record ]: [state, value], as init makes one, but with
 * no prototype: its indices are written last first (one growth of its
 * storage) and nothing along a prototype chain is looked up. */
static void
push_record(duk_context *ctx, int state)
{
	duk_push_bare_array(ctx);
	duk_swap_top(ctx, -2);
	duk_put_prop_index(ctx, -2, 1);
	duk_push_int(ctx, state);
	duk_put_prop_index(ctx, -2, 0);
}

/* [ record ] -> [ promise ]: a new promise of ours (Promise.prototype,
 * the record under the hidden key), as create(proto) and init make one. */
static void
push_promise_of(duk_context *ctx, const struct lib_promise_refs *r)
{
	duk_push_object(ctx);
	duk_push_heapptr(ctx, r->proto);
	duk_set_prototype(ctx, -2);
	duk_push_heapptr(ctx, r->key);
	duk_dup(ctx, -3);
	duk_put_prop(ctx, -3);
	duk_remove(ctx, -2);
}

/* [ ... array ] -> [ ... array ]: the values at the n non-negative
 * indices idx appended to it, as its push would. The last is written
 * first: Duktape grows the array's storage once for it, where writing
 * in order would grow it at every few (a reallocation and a lookup along
 * the prototype chain each). */
static void
append(duk_context *ctx, const duk_idx_t *idx, int n)
{
	duk_uarridx_t len = (duk_uarridx_t)duk_get_length(ctx, -1);
	int i;

	for (i = n - 1; i >= 0; i--) {
		duk_dup(ctx, idx[i]);
		duk_put_prop_index(ctx, -2, len + (duk_uarridx_t)i);
	}
}

/* Promise.resolve(x): for a value that is not an object, on Promise
 * itself (an async function's return value, most awaits), a fulfilled
 * promise made here; anything else is resolveAny's. */
static duk_ret_t
native_resolve(duk_context *ctx)
{
	const struct lib_promise_refs *r = &sandbox_of(ctx)->lib.promise;

	duk_push_this(ctx);
	if (duk_get_heapptr(ctx, -1) != r->ctor ||
	    !duk_check_type_mask(ctx, 0, DUK_TYPE_MASK_UNDEFINED |
	    DUK_TYPE_MASK_NULL | DUK_TYPE_MASK_BOOLEAN |
	    DUK_TYPE_MASK_NUMBER | DUK_TYPE_MASK_STRING)) {
		duk_push_heapptr(ctx, r->resolve_any);
		duk_insert(ctx, -2);
		duk_dup(ctx, 0);
		duk_call_method(ctx, 1);
		return 1;
	}
	duk_dup(ctx, 0);
	push_record(ctx, 1);
	push_promise_of(ctx, r);
	return 1;
}

/* Promise.prototype.then(onFulfilled, onRejected): for a promise of ours
 * whose constructor is Promise (or undefined), a new promise and
 * PerformPromiseThen as react does it; another species is
 * thenSpecies's. */
static duk_ret_t
native_then(duk_context *ctx)
{
	const struct lib_promise_refs *r = &sandbox_of(ctx)->lib.promise;
	duk_idx_t job[4] = { 5, 3, 0, 4 };
	duk_idx_t reaction[3] = { 0, 1, 4 };
	int s;

	duk_push_this(ctx);
	/* [ f r this ] */
	if (duk_is_null_or_undefined(ctx, 2))
		duk_push_undefined(ctx);
	else {
		duk_push_heapptr(ctx, r->key);
		duk_get_prop(ctx, 2);
	}
	if (!duk_is_object(ctx, 3))
		return duk_type_error(ctx, "Promise.prototype.then called on "
		    "something that is not a promise");
	/* [ f r this rec ] */
	duk_get_prop_literal(ctx, 2, "constructor");
	if (!duk_is_undefined(ctx, 4) && duk_get_heapptr(ctx, 4) != r->ctor) {
		duk_push_heapptr(ctx, r->then_species);
		duk_dup(ctx, 3);
		duk_dup(ctx, 4);
		duk_dup(ctx, 0);
		duk_dup(ctx, 1);
		duk_call(ctx, 4);
		return 1;
	}
	duk_pop(ctx);
	/* [ f r this rec t ]: the new promise's record, the target. */
	duk_push_undefined(ctx);
	push_record(ctx, 0);
	duk_get_prop_index(ctx, 3, 0);
	s = duk_get_int(ctx, -1);
	duk_pop(ctx);
	duk_push_int(ctx, s | 4);
	duk_put_prop_index(ctx, 3, 0);
	if ((s & 3) == 0) {
		/* Pending: [f, r, t] appended to its reactions. */
		duk_get_prop_index(ctx, 3, 1);
		if (duk_is_undefined(ctx, -1)) {
			duk_pop(ctx);
			duk_push_array(ctx);
			duk_dup(ctx, -1);
			duk_put_prop_index(ctx, 3, 1);
		}
		append(ctx, reaction, 3);
	} else {
		/* Settled: the reaction job queued (see drain). */
		duk_push_undefined(ctx);
		job[2] = (s & 3) == 1 ? 0 : 1;
		duk_push_heapptr(ctx, r->queue);
		append(ctx, job, 4);
		duk_pop(ctx);
	}
	duk_pop(ctx);
	/* [ f r this rec t ] */
	push_promise_of(ctx, r);
	return 1;
}

/* [ obj ] -> [ obj ]: obj[name] = a native named name, as the standard
 * names Promise.prototype.then and Promise.resolve. */
static void
put_method(duk_context *ctx, const char *name, duk_c_function fn,
    duk_idx_t nargs)
{
	duk_push_c_function(ctx, fn, nargs);
	duk_push_string(ctx, "name");
	duk_push_string(ctx, name);
	duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE |
	    DUK_DEFPROP_CLEAR_WRITABLE | DUK_DEFPROP_CLEAR_ENUMERABLE |
	    DUK_DEFPROP_SET_CONFIGURABLE);
	duk_put_prop_string(ctx, -2, name);
}

void
lib_promise_load(duk_context *ctx)
{
	static const char *const globals[] = { "Promise", "queueMicrotask",
	    "AggregateError" };
	struct lib_promise_refs *r = &sandbox_of(ctx)->lib.promise;

	duk_push_object(ctx);
	duk_push_string(ctx, HIDDEN_STATE);
	duk_put_prop_string(ctx, -2, "key");
	lib_put_native(ctx, "uncaught", native_uncaught, 2);
	lib_put_native(ctx, "settled", native_settled, 3);
	put_method(ctx, "then", native_then, 2);
	put_method(ctx, "resolve", native_resolve, 1);
	lib_run_source(ctx, LIB_PROMISE, promise_js, sizeof(promise_js),
	    "fnrun:promise.js");
	lib_define_globals(ctx, globals, sizeof(globals) / sizeof(globals[0]));
	/* [ exports ] */
	duk_push_global_stash(ctx);
	duk_push_array(ctx);
	duk_dup(ctx, -1);
	duk_put_prop_string(ctx, -3, HIDDEN_REFS);
	duk_remove(ctx, -2);
	duk_swap_top(ctx, -2);
	/* [ refs exports ] */
	r->watch = keep_ref(ctx, "watch");
	r->resolve_with = keep_ref(ctx, "resolveWith");
	r->report = keep_ref(ctx, "reportUnhandled");
	r->compact = keep_ref(ctx, "compact");
	r->queue = keep_ref(ctx, "queue");
	r->unhandled = keep_ref(ctx, "unhandled");
	r->then = keep_ref(ctx, "then");
	r->ctor = keep_ref(ctx, "Promise");
	r->proto = keep_ref(ctx, "proto");
	r->target = keep_ref(ctx, "watchTarget");
	r->then_species = keep_ref(ctx, "thenSpecies");
	r->resolve_any = keep_ref(ctx, "resolveAny");
	duk_push_string(ctx, HIDDEN_STATE);
	r->key = keep_ref(ctx, NULL);
	duk_pop_2(ctx);
}

/* The length of the array at heap pointer p; reads only (no getter, no
 * allocation, one value stack slot, as lib_fetch_end uses): safe outside
 * a protected call. */
static duk_size_t
array_length(duk_context *ctx, void *p)
{
	duk_size_t n;

	duk_push_heapptr(ctx, p);
	n = duk_get_length(ctx, -1);
	duk_pop(ctx);
	return n;
}

/* [ ... value ] -> [ ... ]: the record at rec (an absolute index)
 * settled with value in state (1 fulfilled, 2 rejected), as promise.js's
 * settle does it: its reactions queued, an unhandled rejection noted. */
static void
settle(duk_context *ctx, struct lib_promise_refs *r, duk_idx_t rec,
    int state)
{
	duk_idx_t job[4];
	duk_size_t i, n;
	int s;

	duk_get_prop_index(ctx, rec, 0);
	s = duk_get_int(ctx, -1);
	duk_pop(ctx);
	if ((s & 3) != 0) {
		duk_pop(ctx);
		return;
	}
	duk_push_int(ctx, s | state);
	duk_put_prop_index(ctx, rec, 0);
	duk_get_prop_index(ctx, rec, 1);
	duk_swap_top(ctx, -2);
	duk_put_prop_index(ctx, rec, 1);
	duk_push_undefined(ctx);
	job[0] = duk_get_top_index(ctx);
	job[1] = rec;
	job[2] = job[0];
	if ((s & 8) != 0) {
		/* The watch, its first reaction (see promise.js's init). */
		duk_push_heapptr(ctx, r->target);
		job[3] = job[0] + 1;
		duk_push_heapptr(ctx, r->queue);
		append(ctx, job, 4);
		duk_pop_2(ctx);
	}
	/* [ ... reactions undefined ]: each [f, r, t] becomes the job
	 * (undefined, rec, f or r, t). */
	if (!duk_is_undefined(ctx, -2)) {
		n = duk_get_length(ctx, -2);
		job[2] = job[0] + 1;
		job[3] = job[0] + 2;
		for (i = 0; i + 2 < n; i += 3) {
			duk_get_prop_index(ctx, -2, (duk_uarridx_t)(state == 1 ?
			    i : i + 1));
			duk_get_prop_index(ctx, -3, (duk_uarridx_t)i + 2);
			duk_push_heapptr(ctx, r->queue);
			append(ctx, job, 4);
			duk_pop_3(ctx);
		}
	}
	duk_pop_2(ctx);
	if (state == 2 && (s & 4) == 0) {
		job[0] = rec;
		duk_push_heapptr(ctx, r->unhandled);
		append(ctx, job, 1);
		duk_pop(ctx);
	}
}

/* One promise reaction job (NewPromiseReactionJob), its slots at
 * job + 1 (the record of the promise that settled), job + 2 (the
 * handler for its state) and job + 3 (the target: the record of a
 * promise of ours, resolved by this reaction only, so it needs no
 * resolving functions; a foreign capability {resolve, reject, promise}
 * or the watch's target; or null). Returns 1 when the loop must stop:
 * once the answer is known, the target is not even resolved, nothing
 * after it can be seen. The question is asked after the function's
 * code ran (the handler, a foreign resolve, a then getter), not before:
 * only its code can give the answer (the deadline and the memory cap
 * also throw). */
static int
run_reaction(struct sandbox *sb, duk_idx_t job)
{
	duk_context *ctx = sb->ctx;
	duk_idx_t a = job + 1, c = job + 3;
	int ok;

	duk_get_prop_index(ctx, a, 0);
	ok = (duk_get_int(ctx, -1) & 3) == 1;
	duk_pop(ctx);
	duk_get_prop_index(ctx, a, 1);
	if (duk_is_function(ctx, job + 2)) {
		duk_dup(ctx, job + 2);
		duk_swap_top(ctx, -2);
		ok = duk_pcall(ctx, 1) == DUK_EXEC_SUCCESS;
		if (sandbox_loop_must_stop(sb))
			return 1;
	}
	/* [ ... v ] */
	if (duk_is_null(ctx, c))
		return 0;
	if (!duk_is_array(ctx, c)) {
		duk_get_prop_string(ctx, c, ok ? "resolve" : "reject");
		duk_swap_top(ctx, -2);
		duk_call(ctx, 1);
		return sandbox_loop_must_stop(sb);
	}
	if (!ok)
		settle(ctx, &sb->lib.promise, c, 2);
	else if (duk_check_type_mask(ctx, -1, DUK_TYPE_MASK_UNDEFINED |
	    DUK_TYPE_MASK_NULL | DUK_TYPE_MASK_BOOLEAN |
	    DUK_TYPE_MASK_NUMBER | DUK_TYPE_MASK_STRING))
		settle(ctx, &sb->lib.promise, c, 1);
	else {
		duk_push_heapptr(ctx, sb->lib.promise.resolve_with);
		duk_dup(ctx, c);
		duk_dup(ctx, -3);
		duk_call(ctx, 2);
		return sandbox_loop_must_stop(sb);
	}
	return 0;
}

/* [ ] -> [ undefined ]: runs the queue's jobs in order until none is
 * left or the loop must stop; jobs queued meanwhile run in the same
 * drain (HTML "perform a microtask checkpoint"). Called only when the
 * loop need not stop (lib_promise_drain asks first). A job that throws
 * out of it (a foreign capability's resolve) ends it with the position
 * after that job; the next drain goes on from there. Once stopped, what
 * was queued is dropped now: the call ends. */
static duk_ret_t
drain_safe(duk_context *ctx, void *udata)
{
	struct sandbox *sb = udata;
	struct lib_promise_refs *r = &sb->lib.promise;
	duk_idx_t q, job;
	duk_uarridx_t h;
	int i, stopped = 0;

	duk_push_heapptr(ctx, r->queue);
	q = duk_get_top_index(ctx);
	job = q + 1;
	while ((h = r->head) < duk_get_length(ctx, q)) {
		duk_set_top(ctx, job);
		/* The slots of the job before this one (run, or thrown out
		 * of the last drain) cleared only now: while it ran its values
		 * were on the value stack anyway, and the last job of a drain
		 * (most drains have one) goes with the queue's length. */
		if (h >= 4)
			for (i = 4; i > 0; i--) {
				duk_push_undefined(ctx);
				duk_put_prop_index(ctx, q, h - (duk_uarridx_t)i);
			}
		for (i = 0; i < 4; i++)
			duk_get_prop_index(ctx, q, h + (duk_uarridx_t)i);
		r->head = h + 4;
		if (!duk_is_undefined(ctx, job)) {
			/* A run* function of promise.js and its arguments. */
			duk_dup(ctx, job);
			duk_dup(ctx, job + 1);
			duk_dup(ctx, job + 2);
			duk_dup(ctx, job + 3);
			duk_call(ctx, 3);
			stopped = sandbox_loop_must_stop(sb);
		} else
			stopped = run_reaction(sb, job);
		if (stopped)
			break;
		if (r->head >= 16384) {
			duk_push_heapptr(ctx, r->compact);
			duk_push_uint(ctx, r->head);
			duk_call(ctx, 1);
			r->head = 0;
		}
	}
	duk_set_top(ctx, job);
	duk_set_length(ctx, q, 0);
	r->head = 0;
	if (stopped) {
		/* Most have no rejection to drop: a length set costs. */
		if (array_length(ctx, r->unhandled) != 0) {
			duk_push_heapptr(ctx, r->unhandled);
			duk_set_length(ctx, -1, 0);
		}
		duk_push_heapptr(ctx, r->target);
		duk_push_undefined(ctx);
		duk_put_prop_literal(ctx, -2, "res");
		return 0;
	}
	if (array_length(ctx, r->unhandled) != 0) {
		duk_push_heapptr(ctx, r->report);
		duk_call(ctx, 0);
	}
	return 0;
}

/* [ ] -> [ ]: exports[udata]() of the promise family. */
static duk_ret_t
call_export_safe(duk_context *ctx, void *udata)
{
	lib_call_export(ctx, LIB_PROMISE, udata, 0);
	return 0;
}

/* Whether a job is queued or a rejection waits to be reported. */
static int
work_left(struct sandbox *sb)
{
	return array_length(sb->ctx, sb->lib.promise.queue) != 0 ||
	    array_length(sb->ctx, sb->lib.promise.unhandled) != 0;
}

int
lib_promise_drain(struct sandbox *sb)
{
	duk_context *ctx = sb->ctx;

	/* Most checkpoints find nothing to do: no JavaScript runs then. */
	if (!lib_loaded(sb, LIB_PROMISE) || !work_left(sb))
		return sandbox_loop_must_stop(sb) ? -1 : 0;
	/* drain_safe asks after each job only. */
	if (sandbox_loop_must_stop(sb))
		return -1;
	/* A job may throw out of the queue (a foreign capability's resolve
	 * function); the jobs after it still run, as after any uncaught
	 * exception. */
	while (duk_safe_call(ctx, drain_safe, sb, 0, 1) !=
	    DUK_EXEC_SUCCESS) {
		if (sandbox_loop_must_stop(sb)) {
			duk_pop(ctx);
			return -1;
		}
		lib_report_uncaught(ctx, "Uncaught");
	}
	duk_pop(ctx);
	return sandbox_loop_must_stop(sb) ? -1 : 0;
}

void
lib_promise_reset(struct sandbox *sb)
{
	duk_context *ctx = sb->ctx;

	if (!lib_loaded(sb, LIB_PROMISE))
		return;
	/* Most calls leave nothing: a drain that stops drops the queue
	 * itself (promise.js). */
	if (!work_left(sb))
		return;
	sb->lib.promise.head = 0;
	(void)duk_safe_call(ctx, call_export_safe, (void *)"reset", 0, 1);
	duk_pop(ctx);
}

void
lib_promise_push_rejection(duk_context *ctx)
{
	duk_push_global_stash(ctx);
	duk_get_prop_string(ctx, -1, HIDDEN_REJECTION);
	duk_push_undefined(ctx);
	duk_put_prop_string(ctx, -3, HIDDEN_REJECTION);
	duk_remove(ctx, -2);
}

/* [ value ] -> [ value C then ]: what watch() reads of the handler's
 * promise, in its order; a getter that throws is caught as watch catches
 * it (the result is then an error and undefined). */
static duk_ret_t
watch_reads_safe(duk_context *ctx, void *udata)
{
	(void)udata;
	duk_get_prop_literal(ctx, -1, "constructor");
	duk_get_prop_literal(ctx, -2, "then");
	return 2;
}

/* [ value res ] -> [ value res ]: watch()'s reads, without running
 * JavaScript but a getter: *fastp is whether value is a promise of ours
 * with our then and constructor. Returns 1 when the watch is made too:
 * in the common case (what an async handler returns), such a promise is
 * pending with no reaction yet, and the watch becomes its first
 * reaction, as promise.js's watch makes it (bit 8 of its state). */
static int
watch_fast(duk_context *ctx, const struct lib_promise_refs *r, int *fastp)
{
	int fast, s = 0;

	*fastp = 0;
	duk_push_heapptr(ctx, r->key);
	if (!duk_get_prop(ctx, -3) || !duk_is_object(ctx, -1)) {
		duk_pop(ctx);
		return 0;
	}
	/* [ value res rec ] */
	duk_dup(ctx, -3);
	fast = duk_safe_call(ctx, watch_reads_safe, NULL, 1, 2) ==
	    DUK_EXEC_SUCCESS && duk_get_heapptr(ctx, -1) == r->then &&
	    (duk_is_undefined(ctx, -2) || duk_get_heapptr(ctx, -2) == r->ctor);
	duk_pop_2(ctx);
	*fastp = fast;
	if (fast) {
		duk_get_prop_index(ctx, -1, 0);
		duk_get_prop_index(ctx, -2, 1);
		s = duk_get_int(ctx, -2);
		fast = (s & 11) == 0 && duk_is_undefined(ctx, -1);
		duk_pop_2(ctx);
	}
	if (!fast) {
		duk_pop(ctx);
		return 0;
	}
	/* The watch as its first reaction: bit 8 (promise.js's init). */
	duk_push_int(ctx, s | 12);
	duk_put_prop_index(ctx, -2, 0);
	/* target.res = res */
	duk_push_heapptr(ctx, r->target);
	duk_dup(ctx, -3);
	duk_put_prop_literal(ctx, -2, "res");
	duk_pop_2(ctx);
	return 1;
}

void
lib_promise_watch(duk_context *ctx)
{
	const struct lib_promise_refs *r;
	int fast;

	lib_require(ctx, LIB_PROMISE);
	r = &sandbox_of(ctx)->lib.promise;
	if (watch_fast(ctx, r, &fast)) {
		duk_pop_2(ctx);
		return;
	}
	duk_push_heapptr(ctx, r->watch);
	duk_insert(ctx, -3);
	duk_push_boolean(ctx, fast);
	duk_call(ctx, 3);
	duk_pop(ctx);
}

void
lib_promise_push_deferred(duk_context *ctx)
{
	lib_require(ctx, LIB_PROMISE);
	lib_call_export(ctx, LIB_PROMISE, "deferred", 0);
	duk_get_prop_index(ctx, -1, 0);
	duk_get_prop_index(ctx, -2, 1);
	duk_get_prop_index(ctx, -3, 2);
	duk_remove(ctx, -4);
}
