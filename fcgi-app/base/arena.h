/*
 * arena.h - a bump allocator for what one request owns: many small copies
 * made one after the other and freed all at once.
 */
#ifndef FNRUN_ARENA_H
#define FNRUN_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk	*head;	/* newest first; NULL: empty */
};

/* n bytes, aligned for any object, valid until arena_free; aborts when
 * memory runs out (as buf.h's allocations do). A zeroed struct arena is
 * an empty one. */
void	*arena_alloc(struct arena *a, size_t n);
/* A NUL-terminated copy of the n bytes at p, in the arena. */
char	*arena_memdup(struct arena *a, const void *p, size_t n);
/* Frees everything the arena holds; it is empty again. */
void	 arena_free(struct arena *a);

#endif
