/*
 * store_egress.h - a project's host allowlist in the store (SPEC §7, §12):
 * <project>/.egress, its patterns one a line in egress_hosts.h's stored
 * form, replaced atomically like the project's other settings. No file
 * means no list (the project's functions are not narrowed); an empty file
 * is an empty list (they may reach no host).
 */
#ifndef FNRUN_STORE_EGRESS_H
#define FNRUN_STORE_EGRESS_H

#include <stddef.h>

#include "egress_hosts.h"
#include "store.h"

/* Reads the project's list into *out (the caller frees it with
 * egress_hosts_free), or *out NULL when it has none (an unknown project
 * included). STORE_OK, or STORE_ERROR (a damaged file included, err
 * saying so). */
int	store_egress_get(struct store *st, const char *project,
	    struct egress_hosts **out, char *err, size_t errlen);

/* Replaces the project's list with l, atomically (creating the project).
 * STORE_OK or STORE_ERROR. */
int	store_egress_set(struct store *st, const char *project,
	    const struct egress_hosts *l, char *err, size_t errlen);

/* Removes the project's list. STORE_OK, STORE_NOT_FOUND when it had
 * none, or STORE_ERROR. */
int	store_egress_delete(struct store *st, const char *project, char *err,
	    size_t errlen);

/*
 * What a worker asks on each invocation that makes a request: the
 * project's list, *out NULL when it has none. The parsed list is kept per
 * project in st and used again as long as the file is the same one
 * (device, inode, size, modification and change times): a call costs one
 * open beneath the root and one fstat, and the file is read and parsed
 * only after it changed. *out is borrowed from st, valid until the next
 * store_egress_cached call on st. STORE_OK, or STORE_ERROR (the caller
 * refuses every request: a list it cannot read must not open the way).
 */
int	store_egress_cached(struct store *st, const char *project,
	    const struct egress_hosts **out, char *err, size_t errlen);

/* Test hook: how many times store_egress_cached read and parsed a file. */
unsigned long	store_egress_loads(const struct store *st);

#endif
