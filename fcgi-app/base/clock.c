/*
 * clock.c - the monotonic clock (clock.h).
 */
#include <time.h>

#include "clock.h"

int64_t
clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

double
clock_ms(void)
{
	return (double)clock_ns() / 1e6;
}
