/*
 * arena.c - arena.h: chunks of at least ARENA_CHUNK bytes, linked newest
 * first; an allocation is a bump in the newest, or a new chunk (of its
 * own size when larger). A chunk never moves, so what was handed out
 * stays where it is until arena_free.
 */
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

#define ARENA_CHUNK	4096	/* a request's params fit in one */

struct arena_chunk {
	struct arena_chunk	*next;
	size_t			 used, size;
	alignas(max_align_t) unsigned char data[];
};

#define ALIGN		(alignof(max_align_t))

void *
arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk	*c = a->head;
	size_t			 off, size;

	if (n > SIZE_MAX - ALIGN - sizeof(*c))
		abort();
	n = (n + ALIGN - 1) & ~(ALIGN - 1);
	if (c == NULL || c->size - c->used < n) {
		size = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		if ((c = malloc(sizeof(*c) + size)) == NULL)
			abort();
		c->next = a->head;
		c->used = 0;
		c->size = size;
		a->head = c;
	}
	off = c->used;
	c->used += n;
	return c->data + off;
}

char *
arena_memdup(struct arena *a, const void *p, size_t n)
{
	char	*out;

	if (n == SIZE_MAX)
		abort();
	out = arena_alloc(a, n + 1);
	if (n > 0)
		memcpy(out, p, n);
	out[n] = '\0';
	return out;
}

void
arena_free(struct arena *a)
{
	struct arena_chunk	*c, *next;

	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
}
