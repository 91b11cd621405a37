/*
 * worker.h - the serving loop of one worker process: accept, read, route,
 * answer, until asked to stop. Stopping drains: the request in progress is
 * finished first.
 */
#ifndef FNRUN_WORKER_H
#define FNRUN_WORKER_H

#include "app.h"

/* Opens the store and the FastCGI socket, then serves. Returns the exit
 * status of the worker process. arg is a struct app with cfg filled. */
int	worker_main(void *arg);

#endif
