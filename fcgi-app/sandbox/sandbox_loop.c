/*
 * sandbox_loop.c - the event loop of one call (SPEC §11 "When an
 * invocation ends"): after the handler returns, and after every timer
 * and every completed outbound request, the microtasks run; then the loop
 * waits for the next timer or transfer (on libcurl's sockets when requests
 * are in flight), never past the call's deadline.
 * It ends as soon as the answer is known, when nothing is left that could
 * produce one, or at the deadline (sb->timed_out). It never runs
 * JavaScript itself: the library families do (lib/).
 */
#include <errno.h>
#include <poll.h>

#include "clock.h"
#include "sandbox_internal.h"

int
sandbox_loop_answered(const struct sandbox *sb)
{
	return sb->sent || sb->too_large || sb->sent_twice ||
	    sb->lib.settled == SETTLED_REJECTED;
}

int
sandbox_loop_must_stop(struct sandbox *sb)
{
	if (sb->deadline_ns != 0 && !sb->timed_out &&
	    clock_ns() >= sb->deadline_ns)
		sb->timed_out = 1;
	return sb->timed_out || sb->alloc.hit_limit ||
	    sandbox_loop_answered(sb);
}

int
sandbox_loop_pending(const struct sandbox *sb)
{
	return sb->lib.timers.n > 0 || outbound_pending(sb->lib.net) > 0;
}

/* Sleeps until the earlier of the next timer and the deadline. */
static void
wait_next(struct sandbox *sb)
{
	int64_t now = clock_ns(), until = sb->deadline_ns, due;
	int64_t ms;

	due = lib_timers_next_due(sb);
	if (due >= 0 && due < until)
		until = due;
	if (until <= now) {
		if (outbound_pending(sb->lib.net) > 0)
			lib_fetch_poll(sb, 0);
		return;
	}
	/* Rounded up: waking early would only spin. */
	ms = (until - now + 999999) / 1000000;
	if (ms > 60000)
		ms = 60000;
	/* With requests in flight, libcurl waits on their sockets as long
	 * (and does their work); outbound_poll never waits longer. */
	if (outbound_pending(sb->lib.net) > 0) {
		lib_fetch_poll(sb, (int)ms);
		return;
	}
	if (poll(NULL, 0, (int)ms) == -1 && errno != EINTR)
		return;
}

void
sandbox_loop_run(struct sandbox *sb)
{
	int64_t now;

	for (;;) {
		if (lib_promise_drain(sb) == -1 || sandbox_loop_must_stop(sb))
			return;
		if (!sandbox_loop_pending(sb))
			return;
		wait_next(sb);
		now = clock_ns();
		if (now >= sb->deadline_ns) {
			sb->timed_out = 1;
			return;
		}
		if (lib_timers_run_due(sb, now) == -1)
			return;
		if (lib_fetch_run_done(sb) == -1)
			return;
	}
}

void
sandbox_loop_end(struct sandbox *sb, struct sandbox_result *res)
{
	lib_fetch_end(sb, res);
	lib_timers_clear(sb);
	lib_promise_reset(sb);
	sb->lib.in_call = 0;
}
