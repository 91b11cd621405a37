/*
 * supervisor.h - keeps one worker alive in this slot. spawn-fcgi starts
 * each slot; it never respawns a dead child, so the slot process does:
 * a worker that exits is replaced at once (with a capped backoff when it
 * keeps dying within a second of starting), forever.
 */
#ifndef FNRUN_SUPERVISOR_H
#define FNRUN_SUPERVISOR_H

/* Runs child_main(arg) in a forked child and replaces it whenever it
 * exits, until SIGTERM or SIGINT: then the child is asked to stop (it
 * drains), waited for up to drain_ms, killed after that. Returns the
 * process exit status. */
int	supervisor_run(int (*child_main)(void *), void *arg,
	    unsigned drain_ms);

#endif
