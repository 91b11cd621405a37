/*
 * guard.h - brackets every run of user code (upload check, invocation)
 * with the hard time bound and the fatal-error answer, so that whatever
 * the code does the caller gets a JSON answer and the slot is freed.
 */
#ifndef FNRUN_GUARD_H
#define FNRUN_GUARD_H

#include <stdint.h>

#include "response.h"

struct fcgi_conn;

/* Installs the watchdog and Duktape fatal handlers; once per process. */
void	guard_init(void);

/* Prepares on_timeout (written if the code is still running grace_ms
 * after timeout_ms) and on_fatal (written if Duktape fails fatally), then
 * starts the countdown. In both cases the worker then exits and its
 * supervisor replaces it. */
void	guard_begin(struct fcgi_conn *c, const struct resp *on_timeout,
	    const struct resp *on_fatal, unsigned timeout_ms, unsigned grace_ms);
/* As guard_begin, naming what the two answers say by tag (not 0), so a
 * later call can start with the same answers by guard_begin_again: 0,
 * or -1 when the answers kept are not tag's (then build them and call
 * guard_begin_tagged). Building them costs more than the call of a small
 * function. */
void	guard_begin_tagged(struct fcgi_conn *c, const struct resp *on_timeout,
	    const struct resp *on_fatal, uint64_t tag, unsigned timeout_ms,
	    unsigned grace_ms);
int	guard_begin_again(struct fcgi_conn *c, uint64_t tag,
	    unsigned timeout_ms, unsigned grace_ms);

/* Starts the countdown again for a new budget (SPEC §11: the top level of
 * a new heap has one, the call another; the hard bound covers each). */
void	guard_rearm(unsigned timeout_ms, unsigned grace_ms);

/* Stops the countdown and forgets the prepared answers. */
void	guard_end(void);

#endif
