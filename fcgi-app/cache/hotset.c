/*
 * hotset.c - a chained hash table threaded on an LRU list. Entries in use
 * are not in the set (hotset_take removes them), so eviction never frees
 * a heap that is running.
 */
#include <stdlib.h>
#include <string.h>

#include "hotset.h"
#include "sandbox.h"

struct entry {
	char		*key;
	size_t		 hash;			/* hash(key), kept for unlink */
	struct sandbox	*sb;
	size_t		 bytes;
	unsigned	 calls;
	struct entry	*newer, *older;		/* LRU list */
	struct entry	*chain;			/* hash bucket */
};

struct hotset {
	struct entry		**bucket;
	size_t			  nbuckets;
	struct entry		 *newest, *oldest;
	size_t			  max_count, max_bytes;
	unsigned		  max_calls;
	struct hotset_stats	  stats;
};

/* FNV-1a */
static size_t
hash(const char *s)
{
	size_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

struct hotset *
hotset_new(size_t max_count, size_t max_bytes, unsigned max_calls)
{
	struct hotset *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->nbuckets = 1;
	while (h->nbuckets < max_count * 2 && h->nbuckets < (1u << 20))
		h->nbuckets <<= 1;
	if ((h->bucket = calloc(h->nbuckets, sizeof(*h->bucket))) == NULL) {
		free(h);
		return NULL;
	}
	h->max_count = max_count;
	h->max_bytes = max_bytes;
	h->max_calls = max_calls;
	return h;
}

static void
unlink_entry(struct hotset *h, struct entry *e)
{
	struct entry **pp = &h->bucket[e->hash & (h->nbuckets - 1)];

	while (*pp != e)
		pp = &(*pp)->chain;
	*pp = e->chain;
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		h->newest = e->older;
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		h->oldest = e->newer;
	h->stats.count--;
	h->stats.bytes -= e->bytes;
}

static void
free_entry(struct entry *e)
{
	sandbox_free(e->sb);
	free(e->key);
	free(e);
}

struct sandbox *
hotset_take(struct hotset *h, const char *key, unsigned *calls)
{
	struct entry *e;
	struct sandbox *sb;

	for (e = h->bucket[hash(key) & (h->nbuckets - 1)]; e != NULL;
	    e = e->chain)
		if (strcmp(e->key, key) == 0)
			break;
	if (e == NULL)
		return NULL;
	unlink_entry(h, e);
	sb = e->sb;
	*calls = e->calls;
	free(e->key);
	free(e);
	return sb;
}

void
hotset_put(struct hotset *h, const char *key, struct sandbox *sb,
    size_t bytes, unsigned calls)
{
	struct entry *e = NULL;
	size_t b;

	if (calls >= h->max_calls || h->max_count == 0 ||
	    bytes > h->max_bytes || (e = calloc(1, sizeof(*e))) == NULL ||
	    (e->key = strdup(key)) == NULL) {
		if (e != NULL && e->key == NULL)
			free(e);
		sandbox_free(sb);
		return;
	}
	e->sb = sb;
	e->bytes = bytes;
	e->calls = calls;
	e->hash = hash(key);
	b = e->hash & (h->nbuckets - 1);
	e->chain = h->bucket[b];
	h->bucket[b] = e;
	e->older = h->newest;
	if (h->newest != NULL)
		h->newest->newer = e;
	h->newest = e;
	if (h->oldest == NULL)
		h->oldest = e;
	h->stats.count++;
	h->stats.bytes += bytes;
	while (h->stats.count > h->max_count || h->stats.bytes > h->max_bytes) {
		e = h->oldest;
		unlink_entry(h, e);
		free_entry(e);
		h->stats.evictions++;
	}
}

const struct hotset_stats *
hotset_stats(const struct hotset *h)
{
	return &h->stats;
}

void
hotset_free(struct hotset *h)
{
	struct entry *e, *older;

	if (h == NULL)
		return;
	for (e = h->newest; e != NULL; e = older) {
		older = e->older;
		free_entry(e);
	}
	free(h->bucket);
	free(h);
}
