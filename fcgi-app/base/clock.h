/*
 * clock.h - the one monotonic clock every deadline, duration and backoff
 * is measured on (CLOCK_MONOTONIC: never steps with the wall clock).
 */
#ifndef FNRUN_CLOCK_H
#define FNRUN_CLOCK_H

#include <stdint.h>

/* Nanoseconds, and milliseconds, since an arbitrary fixed point. */
int64_t	clock_ns(void);
double	clock_ms(void);

#endif
