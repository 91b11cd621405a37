/*
 * sandbox_alloc.h - the capped allocator behind every Duktape heap. Its
 * accounting lives in the heap's udata (struct sandbox_alloc), never in
 * statics, so each heap has its own limit.
 */
#ifndef FNRUN_SANDBOX_ALLOC_H
#define FNRUN_SANDBOX_ALLOC_H

#include <stddef.h>

struct sandbox_alloc {
	size_t	used;		/* bytes currently allocated (payload) */
	size_t	peak;		/* highest value of used */
	size_t	limit;		/* allocations beyond this fail */
	int	hit_limit;	/* set when an allocation was refused */
};

/* Duktape's duk_alloc_function / duk_realloc_function / duk_free_function;
 * udata must point to a struct sandbox_alloc. A refused allocation returns
 * NULL (Duktape then collects garbage and retries, or throws). */
void	*sandbox_alloc_malloc(void *udata, size_t size);
void	*sandbox_alloc_realloc(void *udata, void *ptr, size_t size);
void	 sandbox_alloc_free(void *udata, void *ptr);

#endif
