/*
 * spare.c - one slot holding at most one heap made ahead of need. It never
 * loads code into the heap nor calls it: the heap leaves the slot exactly
 * as sandbox_new made it, with the taker's limits set.
 */
#include <stdlib.h>

#include "spare.h"

struct spare {
	struct sandbox_limits	 make;
	struct sandbox		*sb;	/* NULL: empty */
	struct spare_stats	 stats;
};

struct spare *
spare_new(const struct sandbox_limits *make)
{
	struct spare *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->make = *make;
	return s;
}

void
spare_free(struct spare *s)
{
	if (s == NULL)
		return;
	sandbox_free(s->sb);
	free(s);
}

int
spare_fill(struct spare *s)
{
	if (s->sb != NULL)
		return 0;
	if ((s->sb = sandbox_new(&s->make)) == NULL)
		return -1;
	s->stats.made++;
	return 1;
}

struct sandbox *
spare_take(struct spare *s, const struct sandbox_limits *lim)
{
	struct sandbox *sb = s->sb;

	if (sb == NULL)
		return NULL;
	if (sandbox_set_limits(sb, lim) == -1) {
		s->stats.refused++;
		return NULL;
	}
	s->sb = NULL;
	s->stats.taken++;
	return sb;
}

int
spare_ready(const struct spare *s)
{
	return s->sb != NULL;
}

size_t
spare_bytes(const struct spare *s)
{
	return s->sb != NULL ? sandbox_memory_used(s->sb) : 0;
}

const struct spare_stats *
spare_stats(const struct spare *s)
{
	return &s->stats;
}
