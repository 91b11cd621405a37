/*
 * watchdog.h - the hard time bound of an invocation. Duktape's deadline is
 * only consulted between bytecode instructions; a regexp, JSON or string
 * operation inside one native call can run for seconds without it. The
 * watchdog fires a SIGALRM at deadline + grace; its handler answers the
 * caller (the prepared emergency answer) and ends the process, whose
 * supervisor starts a fresh worker in its slot.
 */
#ifndef FNRUN_WATCHDOG_H
#define FNRUN_WATCHDOG_H

/* Installs the SIGALRM handler. on_expire runs in signal context: it may
 * only use async-signal-safe calls, and must not return. */
void	watchdog_init(void (*on_expire)(void));

/* Starts (or restarts) the countdown of ms milliseconds. */
void	watchdog_arm(unsigned ms);

/* Stops the countdown. */
void	watchdog_disarm(void);

#endif
