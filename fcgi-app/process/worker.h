/*
 * worker.h - the serving loop of one worker process: accept, read, route,
 * answer, until asked to stop. Stopping drains: the request in progress is
 * finished first.
 */
#ifndef FNRUN_WORKER_H
#define FNRUN_WORKER_H

#include "app.h"

/* Exit statuses a slot restarts at once, without backoff. */
#define WORKER_EXIT_HARD_TIMEOUT	3	/* guard.c */
#define WORKER_EXIT_FATAL		4	/* guard.c */
#define WORKER_EXIT_RECYCLE		5	/* served its quota */

/* Opens the store and the FastCGI socket, then serves. Returns the exit
 * status of the worker process. arg is a struct app with cfg filled. */
int	worker_main(void *arg);

#endif
