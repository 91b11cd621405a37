/*
 * sandbox_alloc.c - malloc with a per-heap byte cap. Each block carries a
 * header holding its size so frees and reallocs keep the count exact.
 */
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "sandbox_alloc.h"

/* The header keeps the payload aligned as malloc would. */
#define HDR	(sizeof(max_align_t))

static int
admit(struct sandbox_alloc *a, size_t old, size_t size)
{
	/* HDR + size must not wrap, whatever the limit. */
	if (size > SIZE_MAX - HDR || size > a->limit ||
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

	if (size == 0 || !admit(a, 0, size))
		return NULL;
	if ((p = malloc(HDR + size)) == NULL)
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
	if ((p = realloc((char *)ptr - HDR, HDR + size)) == NULL)
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

	if (ptr == NULL)
		return;
	p = (char *)ptr - HDR;
	account(a, *(size_t *)(void *)p, 0);
	free(p);
}
