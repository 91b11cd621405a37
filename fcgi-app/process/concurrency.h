/*
 * concurrency.h - invocations in progress per project, counted across
 * every worker of the host (SPEC §13), in a file mapped MAP_SHARED (as
 * metrics.h, for the same reason: spawn-fcgi starts unrelated processes).
 * A worker runs one invocation at a time, so each worker claims one record
 * saying which project it is running, if any; a project's count is the
 * number of live workers' records naming it. A record of a dead worker
 * counts for nothing: its pid is checked, its supervisor clears it when
 * it reaps the worker, and its successor may take it over. Without a file
 * nothing is counted and every take succeeds.
 */
#ifndef FNRUN_CONCURRENCY_H
#define FNRUN_CONCURRENCY_H

#include <sys/types.h>

enum concurrency_take {
	CONCURRENCY_TAKEN,	/* counted; concurrency_release when done */
	CONCURRENCY_FULL,	/* limit invocations of it run already */
	CONCURRENCY_OFF		/* not counted (no file, no record) */
};

/* Maps (or creates) the shared file at path, in the process that forks
 * the workers (so that it can reap) or in a worker. Returns 0, or -1
 * (counting off). */
int	concurrency_open(const char *path);

/* Claims a record for the calling worker and opens its own descriptor of
 * the file for the lock (a lock must not be shared with a dead
 * predecessor). Returns 0, or -1 (this worker does not count). */
int	concurrency_claim(void);

/* Counts the calling worker as running project unless limit invocations
 * of it run already, deciding under a lock shared by every worker. */
enum concurrency_take	concurrency_take(const char *project,
			    unsigned limit);

/* The calling worker runs nothing any more. Async-signal-safe: the
 * watchdog's handler calls it before the worker exits. */
void	concurrency_release(void);

/* The worker pid is gone (reaped by its supervisor): whatever its record
 * said it ran, it runs no more. */
void	concurrency_reap(pid_t pid);

/* Invocations of project running now on the host (0 when this process
 * has not claimed). */
unsigned	concurrency_running(const char *project);

/* Unmaps the file and forgets the record (tests; a worker that exits
 * needs nothing of it). */
void	concurrency_close(void);

#endif
