/*
 * spare.h - the heap a worker makes ahead of need: a new sandbox with the
 * function globals and the library's names installed, made by a thread of
 * the worker's own once an answer is out (spare_ask), beside the requests
 * rather than before them, and handed to the first call of a function the
 * worker holds no warm heap of (spare_take), which then only loads its
 * bytecode. A spare has never run user code nor held a function: it is
 * made by sandbox_new like any new heap, and taken at most once.
 */
#ifndef FNRUN_SPARE_H
#define FNRUN_SPARE_H

#include <stddef.h>

#include "sandbox.h"

struct spare_stats {
	unsigned long	made;		/* heaps made by spare_fill */
	unsigned long	taken;		/* handed out by spare_take */
	unsigned long	refused;	/* kept: over the taker's memory cap */
	unsigned long	failed;		/* sandbox_new found no memory */
};

struct spare;

/* An empty slot whose heaps are made under make (copied): the largest
 * cap a function may have, so making one never fails for a cap a taker
 * might lift. Returns NULL when out of memory. */
struct spare	*spare_new(const struct sandbox_limits *make);

/* Stops the thread (once the heap it is making is made), frees the slot
 * and the heap it holds. NULL is allowed. */
void		 spare_free(struct spare *s);

/* Makes the spare heap now, in the calling thread, when the slot is empty.
 * Returns 1 when one was made, 0 when the slot already held one, -1 when
 * it could not be made. */
int		 spare_fill(struct spare *s);

/* Starts the thread that makes the heap when asked. Every signal is
 * blocked in it. Returns 0, or -1 (then only spare_fill makes one). */
int		 spare_start(struct spare *s);

/* Asks the thread to make the heap if the slot is empty; returns at once.
 * Without a thread (spare_start not called, or failed) the heap is made
 * now, in the calling thread, as spare_fill does. */
void		 spare_ask(struct spare *s);

/* Hands the spare heap, with lim's limits (sandbox_set_limits), to the
 * caller, who owns it from then on; the slot is empty after. When the
 * thread was asked for it or is making it, waits until it is made. NULL
 * when the slot is empty (nothing asked for), or when the heap already holds more than
 * lim's memory cap (it stays in the slot: a new heap would not fit
 * either). */
struct sandbox	*spare_take(struct spare *s, const struct sandbox_limits *lim);

/* Whether the slot holds a heap, and the bytes it holds. */
int		 spare_ready(struct spare *s);
size_t		 spare_bytes(struct spare *s);

/* A copy of the counts, taken under the slot's lock. */
void		 spare_stats(struct spare *s, struct spare_stats *out);

#endif
