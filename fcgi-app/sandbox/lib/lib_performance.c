/*
 * lib_performance.c - performance.now() (High Resolution Time): the
 * milliseconds since the invocation (or the top level) in progress
 * started, on the monotonic clock (base/clock.c), in steps of 0.1 ms, as
 * browsers coarsen it for code that shares a process with others'.
 */
#include <math.h>

#include "clock.h"
#include "lib.h"
#include "sandbox_internal.h"

static duk_ret_t
native_now(duk_context *ctx)
{
	struct sandbox *sb = sandbox_of(ctx);
	int64_t start;

	if (sb->deadline_ns == 0) {
		duk_push_number(ctx, 0);
		return 1;
	}
	/* begin() (sandbox.c) set the deadline timeout_ms after the start. */
	start = sb->deadline_ns - (int64_t)sb->lim.timeout_ms * 1000000;
	duk_push_number(ctx, floor((double)(clock_ns() - start) / 1e5) / 10);
	return 1;
}

void
lib_performance_load(duk_context *ctx)
{
	duk_push_object(ctx);
	lib_put_native(ctx, "now", native_now, 0);
	lib_define_global(ctx, "performance");
}
