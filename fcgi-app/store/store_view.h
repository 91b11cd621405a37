/*
 * store_view.h - the worker's cached view of what every invocation reads
 * from the store: a function's active version and a version's meta, a
 * project's environment and limits. Exact: a change through any store
 * handle, in any process on any host sharing the store, shows in the next
 * call that begins after the change returned (store_gen.c says why).
 */
#ifndef FNRUN_STORE_VIEW_H
#define FNRUN_STORE_VIEW_H

#include <stddef.h>

#include "store.h"

/* Called once at the start of each call, before any store_view_* read:
 * checks the store's generation token (one pread) and drops everything
 * cached when it changed or cannot be read. */
void	store_view_begin(struct store *st);

/* As store_get_active, store_get_version and store_project_limits_get,
 * from the view; what they return is the caller's copy. */
int	store_view_active(struct store *st, const struct fn_id *id,
	    unsigned *version, char *err, size_t errlen);
int	store_view_meta(struct store *st, const struct fn_id *id,
	    unsigned version, struct store_version *out, char *err,
	    size_t errlen);
int	store_view_limits(struct store *st, const char *project,
	    struct store_project_limits *out, char *err, size_t errlen);

/* As store_env_list with values, but the list is the view's: borrowed,
 * valid until the next store_view_begin; never freed by the caller. */
int	store_view_env(struct store *st, const char *project,
	    const struct store_env_var **env, size_t *n, char *err,
	    size_t errlen);

/* Test hook: the store reads the view made since the store was opened
 * (each miss counts one). */
unsigned long	store_view_loads(const struct store *st);

#endif
