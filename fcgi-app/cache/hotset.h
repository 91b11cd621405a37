/*
 * hotset.h - the heaps a worker keeps warm: one loaded sandbox per
 * function version (keyed by project/request/fn@version#sha256, so never
 * shared across versions, functions or projects), bounded by count and
 * bytes, least recently used first out.
 */
#ifndef FNRUN_HOTSET_H
#define FNRUN_HOTSET_H

#include <stddef.h>

struct sandbox;

struct hotset_stats {
	size_t		count;
	size_t		bytes;
	unsigned long	evictions;
};

struct hotset;

struct hotset	*hotset_new(size_t max_count, size_t max_bytes,
		    unsigned max_calls);
void		 hotset_free(struct hotset *h);

/* Removes and returns the warm sandbox for key (the caller owns it now),
 * with the number of calls it has served in *calls; NULL when cold. */
struct sandbox	*hotset_take(struct hotset *h, const char *key,
		    unsigned *calls);

/* Gives sb back under key as most recently used, with its heap size and
 * call count. A sandbox that has served max_calls is freed instead. Least
 * recently used entries are freed until count and bytes are in bounds. */
void		 hotset_put(struct hotset *h, const char *key,
		    struct sandbox *sb, size_t bytes, unsigned calls);

const struct hotset_stats	*hotset_stats(const struct hotset *h);

#endif
