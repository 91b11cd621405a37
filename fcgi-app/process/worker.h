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

/* With fcgi_keepalive, how long a stopping worker may go on serving the
 * connections nginx keeps until nginx closes them: nginx's upstream
 * keepalive_time (20 s, scripts/template.sh), after which it closes each
 * once its next request is answered, and a margin. */
#define WORKER_KEEP_DRAIN_MS		25000

/* Opens the store and the FastCGI socket, then serves. Returns the exit
 * status of the worker process. arg is a struct app with cfg filled. */
int	worker_main(void *arg);

#endif
