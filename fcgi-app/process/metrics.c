/*
 * metrics.c - the shared counter file (shmfile.c maps it and claims a
 * record by compare-and-swap of its pid). Only __atomic operations touch
 * the mapping.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"
#include "shmfile.h"

#define RECORDS		256
#define MAGIC		0x666e72756e6d3031ULL	/* "fnrunm01" */

static const double buckets_ms[] = { 1, 2.5, 5, 10, 25, 50, 100, 250, 500,
    1000, 2500, 5000, 10000 };
#define NBUCKETS	(sizeof(buckets_ms) / sizeof(buckets_ms[0]))

struct record {
	int32_t		pid;		/* 0: never used */
	int32_t		busy;
	uint64_t	warm_count;
	uint64_t	warm_bytes;
	uint64_t	spare;
	uint64_t	counter[M_COUNT];
	uint64_t	outcome[OUT_COUNT];
	uint64_t	bucket[NBUCKETS + 1];	/* cumulative at render */
	uint64_t	duration_us;
	uint64_t	fetch[FETCH_OUTCOME_COUNT];
};

struct shared {
	uint64_t	magic;
	struct record	rec[RECORDS];
};

/* Process-wide on purpose: the shared mapping is the process's, and the
 * SIGALRM path (guard.c) counts a hard kill with no context to hand. */
static struct shared	*shm;
static struct record	*mine;

int
metrics_open(const char *path)
{
	if ((shm = shmfile_map(path, sizeof(*shm), MAGIC)) == NULL)
		return -1;
	return 0;
}

int
metrics_claim(void)
{
	int i;

	if (shm == NULL)
		return -1;
	for (i = 0; i < RECORDS; i++) {
		if (shmfile_claim(&shm->rec[i].pid)) {
			mine = &shm->rec[i];
			__atomic_store_n(&mine->busy, 0, __ATOMIC_RELAXED);
			__atomic_store_n(&mine->warm_count, 0, __ATOMIC_RELAXED);
			__atomic_store_n(&mine->warm_bytes, 0, __ATOMIC_RELAXED);
			__atomic_store_n(&mine->spare, 0, __ATOMIC_RELAXED);
			return 0;
		}
	}
	return -1;
}

void
metrics_add(enum metric m, uint64_t n)
{
	if (mine != NULL)
		__atomic_add_fetch(&mine->counter[m], n, __ATOMIC_RELAXED);
	else if (shm != NULL && m == M_WORKER_RESTARTS)
		/* Supervisors own no record: count on the first. */
		__atomic_add_fetch(&shm->rec[0].counter[m], n,
		    __ATOMIC_RELAXED);
}

void
metrics_invocation(enum outcome o, double ms)
{
	size_t i;

	if (mine == NULL)
		return;
	if (!outcome_is_invocation(o))
		o = OUT_INTERNAL;
	__atomic_add_fetch(&mine->outcome[o], 1, __ATOMIC_RELAXED);
	for (i = 0; i < NBUCKETS && ms > buckets_ms[i]; i++)
		;
	__atomic_add_fetch(&mine->bucket[i], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&mine->duration_us, (uint64_t)(ms * 1000),
	    __ATOMIC_RELAXED);
}

void
metrics_fetch(enum fetch_outcome o)
{
	if (mine != NULL && (unsigned)o < FETCH_OUTCOME_COUNT)
		__atomic_add_fetch(&mine->fetch[o], 1, __ATOMIC_RELAXED);
}

void
metrics_set_busy(int busy)
{
	if (mine != NULL)
		__atomic_store_n(&mine->busy, busy, __ATOMIC_RELAXED);
}

void
metrics_set_warm(size_t count, size_t bytes)
{
	if (mine == NULL)
		return;
	__atomic_store_n(&mine->warm_count, count, __ATOMIC_RELAXED);
	__atomic_store_n(&mine->warm_bytes, bytes, __ATOMIC_RELAXED);
}

void
metrics_set_spare(int ready)
{
	if (mine != NULL)
		__atomic_store_n(&mine->spare, ready != 0, __ATOMIC_RELAXED);
}

void
metrics_capacity(unsigned *n_alive, unsigned *n_busy)
{
	int i;

	*n_alive = *n_busy = 0;
	for (i = 0; shm != NULL && i < RECORDS; i++) {
		if (!shmfile_alive(__atomic_load_n(&shm->rec[i].pid,
		    __ATOMIC_RELAXED)))
			continue;
		(*n_alive)++;
		if (__atomic_load_n(&shm->rec[i].busy, __ATOMIC_RELAXED))
			(*n_busy)++;
	}
}

static uint64_t
sum(size_t off, int live_only)
{
	uint64_t total = 0;
	int i;

	for (i = 0; i < RECORDS; i++) {
		if (live_only && !shmfile_alive(__atomic_load_n(&shm->rec[i].pid,
		    __ATOMIC_RELAXED)))
			continue;
		total += __atomic_load_n((uint64_t *)(void *)
		    ((char *)&shm->rec[i] + off), __ATOMIC_RELAXED);
	}
	return total;
}

#define SUM(field)	sum(offsetof(struct record, field), 0)
#define SUM_LIVE(field)	sum(offsetof(struct record, field), 1)

/* One series with its HELP and TYPE lines (Prometheus text format). */
static void
series(struct buf *out, const char *type, const char *name,
    const char *help, uint64_t v)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help,
	    name, type, name, (unsigned long long)v);
}

#define counter(out, name, help, v)	series(out, "counter", name, help, v)
#define gauge(out, name, help, v)	series(out, "gauge", name, help, v)

/* The plain counters of /metrics, in the order they are printed. */
static const struct {
	enum metric	 m;
	const char	*name;
	const char	*help;
} counters[] = {
	{ M_UPLOADS_CREATED, "fnrun_uploads_total",
	    "Uploads that stored a version." },
	{ M_UPLOADS_UNCHANGED, "fnrun_uploads_unchanged_total",
	    "Uploads of the source already active." },
	{ M_UPLOADS_REJECTED, "fnrun_uploads_rejected_total",
	    "Uploads refused (syntax error, no handler, limits, quotas)." },
	{ M_CACHE_HITS, "fnrun_cache_hits_total",
	    "Bytecode found in memcached and verified." },
	{ M_CACHE_MISSES, "fnrun_cache_misses_total",
	    "Bytecode absent or memcached unreachable." },
	{ M_CACHE_REJECTS, "fnrun_cache_rejects_total",
	    "Cached values that failed the frame or MAC check." },
	{ M_CACHE_ERRORS, "fnrun_cache_errors_total", "memcached errors." },
	{ M_CACHE_SETS, "fnrun_cache_sets_total",
	    "Bytecode stored in memcached." },
	{ M_HEAPS_WARM, "fnrun_heaps_warm_total",
	    "Invocations served by a warm heap." },
	{ M_HEAPS_COLD, "fnrun_heaps_cold_total",
	    "Invocations that built a heap." },
	{ M_HARD_KILLS, "fnrun_hard_kills_total",
	    "Workers cut off by the watchdog past the deadline." },
	{ M_WORKER_RESTARTS, "fnrun_worker_restarts_total",
	    "Workers replaced by their slot." },
	{ M_REQUESTS, "fnrun_requests_total",
	    "HTTP requests answered by workers." },
	{ M_UPLOADS_LOWERED, "fnrun_uploads_lowered_total",
	    "Uploads whose source went through the compiler (ES2022, TypeScript)." },
	{ M_COMPILER_LOADS, "fnrun_compiler_loads_total",
	    "Times a worker loaded the compiler (from memcached or typescript.js)." },
	{ M_HEAPS_SPARE, "fnrun_heaps_spare_total",
	    "Invocations that took the worker's spare heap instead of building one." },
};

void
metrics_render(struct buf *out)
{
	unsigned n_alive, n_busy;
	uint64_t cum = 0, total = 0;
	size_t i;

	if (shm == NULL) {
		buf_puts(out, "# fnrun metrics are not enabled\n");
		return;
	}
	buf_puts(out, "# HELP fnrun_invocations_total Invocations by outcome.\n"
	    "# TYPE fnrun_invocations_total counter\n");
	for (i = 0; i < OUT_COUNT; i++) {
		uint64_t v = SUM(outcome[i]);

		if (!outcome_is_invocation((enum outcome)i))
			continue;
		total += v;
		buf_printf(out, "fnrun_invocations_total{outcome=\"%s\"} %llu\n",
		    outcome_label((enum outcome)i), (unsigned long long)v);
	}
	buf_puts(out, "# HELP fnrun_invocation_duration_seconds Time spent "
	    "running functions.\n"
	    "# TYPE fnrun_invocation_duration_seconds histogram\n");
	for (i = 0; i < NBUCKETS; i++) {
		cum += SUM(bucket[i]);
		buf_printf(out, "fnrun_invocation_duration_seconds_bucket"
		    "{le=\"%g\"} %llu\n", buckets_ms[i] / 1000,
		    (unsigned long long)cum);
	}
	cum += SUM(bucket[NBUCKETS]);
	buf_printf(out, "fnrun_invocation_duration_seconds_bucket{le=\"+Inf\"} "
	    "%llu\nfnrun_invocation_duration_seconds_sum %.6f\n"
	    "fnrun_invocation_duration_seconds_count %llu\n",
	    (unsigned long long)cum, (double)SUM(duration_us) / 1e6,
	    (unsigned long long)total);
	buf_puts(out, "# HELP fnrun_fetch_requests_total Outbound requests of "
	    "functions (fetch) by outcome.\n"
	    "# TYPE fnrun_fetch_requests_total counter\n");
	for (i = 0; i < FETCH_OUTCOME_COUNT; i++)
		buf_printf(out, "fnrun_fetch_requests_total{outcome=\"%s\"} "
		    "%llu\n", fetch_outcome_label((enum fetch_outcome)i),
		    (unsigned long long)SUM(fetch[i]));
	for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		counter(out, counters[i].name, counters[i].help,
		    SUM(counter[counters[i].m]));
	gauge(out, "fnrun_warm_heaps", "Warm heaps held by live workers.",
	    SUM_LIVE(warm_count));
	gauge(out, "fnrun_warm_heap_bytes", "Heap bytes of the warm heaps.",
	    SUM_LIVE(warm_bytes));
	gauge(out, "fnrun_spare_heaps", "Spare heaps ready in live workers.",
	    SUM_LIVE(spare));
	metrics_capacity(&n_alive, &n_busy);
	gauge(out, "fnrun_workers_alive", "Workers alive.", n_alive);
	gauge(out, "fnrun_workers_busy", "Workers serving a request.", n_busy);
}
