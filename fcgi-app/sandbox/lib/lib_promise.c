/*
 * lib_promise.c - loads promise.js (Promise, queueMicrotask,
 * AggregateError) into a heap with its natives, and gives the event loop
 * (sandbox_loop.c) the heap's microtask queue: drain, reset, and the watch
 * on what the handler returned. Everything about promises themselves is
 * in promise.js; this file only connects it to the sandbox.
 */
#include "lib.h"
#include "promise_js.h"
#include "sandbox_internal.h"

#define HIDDEN_STATE		DUK_HIDDEN_SYMBOL("promiseState")
#define HIDDEN_REJECTION	DUK_HIDDEN_SYMBOL("rejection")
/* The exports the loop calls on every async call, each under a stash key
 * of its own: one lookup instead of lib_call_export's four. */
#define HIDDEN_DRAIN		DUK_HIDDEN_SYMBOL("promiseDrain")
#define HIDDEN_WATCH		DUK_HIDDEN_SYMBOL("promiseWatch")
/* The job queue and the list of unhandled rejections (arrays promise.js
 * empties in place, never replaces): whether a call left anything behind
 * is read from their lengths, without running JavaScript. */
#define HIDDEN_QUEUE		DUK_HIDDEN_SYMBOL("promiseQueue")
#define HIDDEN_UNHANDLED	DUK_HIDDEN_SYMBOL("promiseUnhandled")

static duk_ret_t
native_stop(duk_context *ctx)
{
	duk_push_boolean(ctx, sandbox_loop_must_stop(sandbox_of(ctx)));
	return 1;
}

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

void
lib_promise_load(duk_context *ctx)
{
	static const char *const globals[] = { "Promise", "queueMicrotask",
	    "AggregateError" };

	duk_push_object(ctx);
	duk_push_string(ctx, HIDDEN_STATE);
	duk_put_prop_string(ctx, -2, "key");
	lib_put_native(ctx, "stop", native_stop, 0);
	lib_put_native(ctx, "uncaught", native_uncaught, 2);
	lib_put_native(ctx, "settled", native_settled, 3);
	lib_run_source(ctx, LIB_PROMISE, promise_js, sizeof(promise_js),
	    "fnrun:promise.js");
	lib_define_globals(ctx, globals, sizeof(globals) / sizeof(globals[0]));
	duk_push_global_stash(ctx);
	duk_get_prop_string(ctx, -2, "drain");
	duk_put_prop_string(ctx, -2, HIDDEN_DRAIN);
	duk_get_prop_string(ctx, -2, "watch");
	duk_put_prop_string(ctx, -2, HIDDEN_WATCH);
	duk_get_prop_string(ctx, -2, "queue");
	duk_put_prop_string(ctx, -2, HIDDEN_QUEUE);
	duk_get_prop_string(ctx, -2, "unhandled");
	duk_put_prop_string(ctx, -2, HIDDEN_UNHANDLED);
	duk_pop_2(ctx);
}

/* [ ] -> [ result ]: the stashed export udata names, called with no
 * arguments. */
static duk_ret_t
call_stashed_safe(duk_context *ctx, void *udata)
{
	duk_push_global_stash(ctx);
	duk_get_prop_string(ctx, -1, udata);
	duk_call(ctx, 0);
	return 1;
}

/* [ ] -> [ ]: exports[udata]() of the promise family. */
static duk_ret_t
call_export_safe(duk_context *ctx, void *udata)
{
	lib_call_export(ctx, LIB_PROMISE, udata, 0);
	return 0;
}

/* The length of the stashed array key; reads only (no getter, no
 * allocation, two value stack slots, as lib_fetch_end uses): safe outside
 * a protected call. */
static duk_size_t
stashed_length(duk_context *ctx, const char *key)
{
	duk_size_t n;

	duk_push_global_stash(ctx);
	duk_get_prop_string(ctx, -1, key);
	n = duk_get_length(ctx, -1);
	duk_pop_2(ctx);
	return n;
}

/* Whether a job is queued or a rejection waits to be reported. */
static int
work_left(duk_context *ctx)
{
	return stashed_length(ctx, HIDDEN_QUEUE) != 0 ||
	    stashed_length(ctx, HIDDEN_UNHANDLED) != 0;
}

int
lib_promise_drain(struct sandbox *sb)
{
	duk_context *ctx = sb->ctx;

	/* Most checkpoints find nothing to do: no JavaScript runs then. */
	if (!lib_loaded(sb, LIB_PROMISE) || !work_left(ctx))
		return sandbox_loop_must_stop(sb) ? -1 : 0;
	/* promise.js asks after each job only. */
	if (sandbox_loop_must_stop(sb))
		return -1;
	/* A job may throw out of the queue (a foreign capability's resolve
	 * function); the jobs after it still run, as after any uncaught
	 * exception. */
	while (duk_safe_call(ctx, call_stashed_safe, (void *)HIDDEN_DRAIN, 0,
	    1) != DUK_EXEC_SUCCESS) {
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
	if (!work_left(ctx))
		return;
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

void
lib_promise_watch(duk_context *ctx)
{
	lib_require(ctx, LIB_PROMISE);
	duk_push_global_stash(ctx);
	duk_get_prop_string(ctx, -1, HIDDEN_WATCH);
	duk_remove(ctx, -2);
	duk_insert(ctx, -3);
	duk_call(ctx, 2);
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
