/*
 * self.h - this process's pid, asked of the kernel once per process.
 */
#ifndef FNRUN_SELF_H
#define FNRUN_SELF_H

#include <sys/types.h>

/* getpid(), cached; right in every process made by fork(). */
pid_t	self_pid(void);

#endif
