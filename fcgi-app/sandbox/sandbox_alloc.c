/*
 * sandbox_alloc.c - malloc with a per-heap byte cap. Each block carries a
 * header holding its size so frees and reallocs keep the count exact.
 *
 * Small blocks freed by any heap go to a free list of this thread, one per
 * size class, and the next request of that class takes one back (issue 12:
 * a warm json call allocates and frees ~100 blocks, and glibc's malloc and
 * free were ~20% of its instructions). The lists hold at most CACHE_BYTES
 * a thread, so what they keep is what glibc's bins would have kept anyway;
 * a heap's cap counts its live blocks only, never the lists. The lists
 * are a thread's own (the spare heap's maker thread has its own), and a
 * thread's are given back to malloc when it exits.
 */
#include <pthread.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "sandbox_alloc.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN	1
#endif
#endif
#if defined(SANDBOX_ASAN)
#include <sanitizer/asan_interface.h>
/* A block on a list stays poisoned but for its link, so a use after free
 * still trips AddressSanitizer until the block is handed out again. */
#define POISON(p, n)	ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n)	ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n)	((void)(p), (void)(n))
#define UNPOISON(p, n)	((void)(p), (void)(n))
#endif

/* The block's size sits in an 8-byte header. Duktape on this platform
 * asks for 8-byte alignment (DUK_USE_ALIGN_BY 8: doubles, 64-bit ints),
 * which malloc's 16-byte alignment plus 8 keeps; a 16-byte header would
 * cost ~23 KB of RSS per warm heap (measured: 150 -> 127 KB/function). */
#define HDR	8
#define SANDBOX_ALIGN	8
_Static_assert(alignof(double) <= SANDBOX_ALIGN &&
    alignof(uint64_t) <= SANDBOX_ALIGN && alignof(void *) <= SANDBOX_ALIGN &&
    sizeof(size_t) <= HDR && sizeof(void *) <= HDR,
    "the header must keep Duktape's alignment and hold a list's link");

/* Size classes follow glibc's chunks (16-byte steps, 8 bytes of each for
 * its own header): class c holds blocks of 24 + 16c usable bytes, what
 * malloc hands out for any request in (8 + 16c, 24 + 16c] anyway, so
 * asking malloc for the whole class costs no memory. Blocks of HDR + size
 * up to CLASS_MAX go through the lists. */
#define CLASSES		32
#define CLASS_MAX	(24 + 16 * (CLASSES - 1))
#define CACHE_BYTES	(256u << 10)

struct cache {
	void	*head[CLASSES];		/* a block's link sits in its header */
	size_t	 bytes;
	int	 registered;	/* cache_drain runs at the thread's exit */
};

static _Thread_local struct cache cache;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

/* HDR + size -> its class, or -1: too big for the lists. */
static int
class_of(size_t n)
{
	if (n > CLASS_MAX)
		return -1;
	return n <= 24 ? 0 : (int)((n - 24 + 15) / 16);
}

static size_t
class_bytes(int c)
{
	return 24 + 16 * (size_t)c;
}

/* What malloc or realloc is asked for to hold HDR + size. */
static size_t
block_bytes(size_t size)
{
	int c = class_of(HDR + size);

	return c < 0 ? HDR + size : class_bytes(c);
}

static void
cache_drain(void *unused)
{
	void *p;
	int c;

	(void)unused;
	for (c = 0; c < CLASSES; c++)
		while ((p = cache.head[c]) != NULL) {
			UNPOISON(p, class_bytes(c));
			cache.head[c] = *(void **)p;
			free(p);
		}
	cache.bytes = 0;
}

static void
cache_key_make(void)
{
	(void)pthread_key_create(&cache_key, cache_drain);
}

static void *
cache_take(int c)
{
	void *p = cache.head[c];

	if (p == NULL)
		return NULL;
	UNPOISON(p, class_bytes(c));
	cache.head[c] = *(void **)p;
	cache.bytes -= class_bytes(c);
	return p;
}

/* Keeps p (a block of class c) on this thread's list: 1, or 0 when the
 * lists are full. */
static int
cache_keep(void *p, int c)
{
	if (cache.bytes + class_bytes(c) > CACHE_BYTES)
		return 0;
	if (!cache.registered) {
		/* A thread's first: its lists are drained when it exits. */
		(void)pthread_once(&cache_once, cache_key_make);
		(void)pthread_setspecific(cache_key, &cache);
		cache.registered = 1;
	}
	*(void **)p = cache.head[c];
	cache.head[c] = p;
	cache.bytes += class_bytes(c);
	POISON((char *)p + sizeof(void *), class_bytes(c) - sizeof(void *));
	return 1;
}

static int
admit(struct sandbox_alloc *a, size_t old, size_t size)
{
	/* HDR + size must not wrap, whatever the limit; nothing real asks
	 * for half the address space. */
	if (size > SIZE_MAX / 2 || size > a->limit ||
	    a->used - old > a->limit - size) {
		a->hit_limit = 1;
		return 0;
	}
	return 1;
}

static void
account(struct sandbox_alloc *a, size_t old, size_t size)
{
	a->used = a->used - old + size;
	if (a->used > a->peak)
		a->peak = a->used;
}

void *
sandbox_alloc_malloc(void *udata, size_t size)
{
	struct sandbox_alloc *a = udata;
	char *p;
	int c;

	if (size == 0 || !admit(a, 0, size))
		return NULL;
	c = class_of(HDR + size);
	if ((c < 0 || (p = cache_take(c)) == NULL) &&
	    (p = malloc(block_bytes(size))) == NULL)
		return NULL;
	*(size_t *)(void *)p = size;
	account(a, 0, size);
	return p + HDR;
}

void *
sandbox_alloc_realloc(void *udata, void *ptr, size_t size)
{
	struct sandbox_alloc *a = udata;
	char *p;
	size_t old;

	if (ptr == NULL)
		return sandbox_alloc_malloc(udata, size);
	if (size == 0) {
		sandbox_alloc_free(udata, ptr);
		return NULL;
	}
	old = *(size_t *)(void *)((char *)ptr - HDR);
	if (!admit(a, old, size))
		return NULL;
	/* Within its class already: the block holds it as it is. */
	if (block_bytes(size) == block_bytes(old))
		p = (char *)ptr - HDR;
	else if ((p = realloc((char *)ptr - HDR, block_bytes(size))) == NULL)
		return NULL;
	*(size_t *)(void *)p = size;
	account(a, old, size);
	return p + HDR;
}

void
sandbox_alloc_free(void *udata, void *ptr)
{
	struct sandbox_alloc *a = udata;
	char *p;
	size_t size;
	int c;

	if (ptr == NULL)
		return;
	p = (char *)ptr - HDR;
	size = *(size_t *)(void *)p;
	account(a, size, 0);
	if ((c = class_of(HDR + size)) < 0 || !cache_keep(p, c))
		free(p);
}
