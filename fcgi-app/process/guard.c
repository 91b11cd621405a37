/*
 * guard.c - wires watchdog.c and sandbox.c's fatal hook to the emergency
 * answers of fcgi.c. Both exits use their own status (worker.h) so the
 * supervisor restarts at once and its log says why, and both give back
 * the project's concurrency slot first.
 */
#include <string.h>
#include <unistd.h>

#include "concurrency.h"
#include "fcgi.h"
#include "guard.h"
#include "metrics.h"
#include "sandbox.h"
#include "watchdog.h"
#include "worker.h"


static void
on_expire(void)
{
	static const char msg[] = "fnrun: hard deadline passed: answered 504, "
	    "worker exits to be replaced\n";

	/* Released before the answer: the caller's next call must find the
	 * slot free. */
	concurrency_release();
	fcgi_emergency_send(FCGI_EMERGENCY_TIMEOUT);
	metrics_add(M_HARD_KILLS, 1);
	metrics_invocation(OUT_TIMEOUT, 0);
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(WORKER_EXIT_HARD_TIMEOUT);
}

static void
on_fatal(const char *why)
{
	static const char msg[] = "fnrun: Duktape fatal error: ";

	watchdog_disarm();
	concurrency_release();
	fcgi_emergency_send(FCGI_EMERGENCY_FATAL);
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)!write(STDERR_FILENO, why, strlen(why));
	(void)!write(STDERR_FILENO, "\n", 1);
	_exit(WORKER_EXIT_FATAL);
}

void
guard_init(void)
{
	watchdog_init(on_expire);
	sandbox_set_fatal_handler(on_fatal);
}

void
guard_begin(struct fcgi_conn *c, const struct resp *on_timeout,
    const struct resp *on_fatal_rs, unsigned timeout_ms, unsigned grace_ms)
{
	guard_begin_tagged(c, on_timeout, on_fatal_rs, 0, timeout_ms,
	    grace_ms);
}

void
guard_begin_tagged(struct fcgi_conn *c, const struct resp *on_timeout,
    const struct resp *on_fatal_rs, uint64_t tag, unsigned timeout_ms,
    unsigned grace_ms)
{
	fcgi_emergency_prepare(c, FCGI_EMERGENCY_TIMEOUT, on_timeout, tag);
	fcgi_emergency_prepare(c, FCGI_EMERGENCY_FATAL, on_fatal_rs, tag);
	watchdog_arm(timeout_ms + grace_ms);
}

int
guard_begin_again(struct fcgi_conn *c, uint64_t tag, unsigned timeout_ms,
    unsigned grace_ms)
{
	if (fcgi_emergency_reuse(c, tag) == -1)
		return -1;
	watchdog_arm(timeout_ms + grace_ms);
	return 0;
}

void
guard_rearm(unsigned timeout_ms, unsigned grace_ms)
{
	watchdog_arm(timeout_ms + grace_ms);
}

void
guard_end(void)
{
	watchdog_disarm();
	fcgi_emergency_clear();
}
