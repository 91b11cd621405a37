/*
 * limits.h - per-function limits (SPEC §6): the configured defaults, the
 * configured maxima, and what a version asked for at upload; and the
 * per-project concurrency (SPEC §13): the configured default and what a
 * project set.
 */
#ifndef FNRUN_LIMITS_H
#define FNRUN_LIMITS_H

#include <stddef.h>

#include "config.h"
#include "sandbox.h"
#include "store.h"

/* Checks what an upload asks for (0 = default). Returns 0, or -1 with err
 * saying which value is outside 1..maximum. */
int	limits_check(const struct config *cfg, const struct store_limits *ask,
	    char *err, size_t errlen);

/* The sandbox limits for a version that asked for ask. */
void	limits_for(const struct config *cfg, const struct store_limits *ask,
	    struct sandbox_limits *out);

/* The invocations of one project that may run at once on this host: what
 * it set (capped by the workers), else the configured default. */
unsigned	limits_project_concurrency(const struct config *cfg,
		    const struct store_project_limits *set);

#endif
