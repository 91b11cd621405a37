/*
 * metrics.h - counters shared by every worker of one stack (SPEC §7
 * /metrics), in a file mapped MAP_SHARED: spawn-fcgi starts the slots as
 * unrelated processes, so a file is what they can all map. Each worker
 * claims one record; counters only grow, and a record whose worker died is
 * taken over by the next worker with its counts kept. Without a file every
 * call is a no-op.
 */
#ifndef FNRUN_METRICS_H
#define FNRUN_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "outcome.h"

enum metric {
	M_UPLOADS_CREATED,
	M_UPLOADS_UNCHANGED,
	M_UPLOADS_REJECTED,
	M_CACHE_HITS,
	M_CACHE_MISSES,
	M_CACHE_REJECTS,
	M_CACHE_ERRORS,
	M_CACHE_SETS,
	M_HEAPS_WARM,		/* invocations served by a warm heap */
	M_HEAPS_COLD,		/* invocations that built a heap */
	M_HARD_KILLS,		/* workers cut off by the watchdog */
	M_WORKER_RESTARTS,	/* workers replaced by their slot */
	M_REQUESTS,
	M_UPLOADS_LOWERED,	/* uploads whose source went through the compiler */
	M_COMPILER_LOADS,	/* times a worker loaded the compiler */
	M_HEAPS_SPARE,		/* cold invocations given the spare heap */
	M_COUNT
};


/* Maps (or creates) the shared file. Returns 0, or -1 (metrics off). */
int	metrics_open(const char *path);

/* Claims a record for the calling process (a worker). Returns 0 or -1. */
int	metrics_claim(void);

void	metrics_add(enum metric m, uint64_t n);
void	metrics_invocation(enum outcome o, double ms);
/* One outbound request of a function (SPEC §12), by how it ended. */
void	metrics_fetch(enum fetch_outcome o);
/* Gauges of the calling worker. */
void	metrics_set_busy(int busy);
void	metrics_set_warm(size_t count, size_t bytes);
/* Whether the calling worker holds a spare heap (cache/spare.h). */
void	metrics_set_spare(int ready);

/* Live workers and busy ones, over every record. */
void	metrics_capacity(unsigned *alive, unsigned *busy);

/* Appends the Prometheus text exposition of all records to out. */
void	metrics_render(struct buf *out);

#endif
