/*
 * self.c - this process's pid, cached: glibc no longer caches getpid(),
 * and every invocation asks for it (its log line, the concurrency slot's
 * fork check). A pthread_atfork child handler, registered before the pid
 * is first kept, forgets it in every child fork() makes. Nothing here
 * makes children with a raw clone(2) or vfork(), which would skip it.
 */
#include <pthread.h>
#include <unistd.h>

#include "self.h"

static pid_t	cached;		/* 0: not asked yet in this process */
static int	registered;

static void
forget(void)
{
	cached = 0;
}

pid_t
self_pid(void)
{
	if (cached == 0) {
		if (!registered && pthread_atfork(NULL, NULL, forget) == 0)
			registered = 1;
		if (!registered)
			return getpid();	/* never kept unregistered */
		cached = getpid();
	}
	return cached;
}
