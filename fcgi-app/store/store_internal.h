/*
 * store_internal.h - what the files of fcgi-app/store/ share and nothing
 * else sees: the handle behind store.h's opaque struct store, the names of
 * the layout's entries (store.h describes the layout), and the checks
 * every entry point runs before a name becomes a path component.
 */
#ifndef FNRUN_STORE_INTERNAL_H
#define FNRUN_STORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "store_fs.h"

#define TMP_DIR		".tmp"
#define TRASH_DIR	".trash"
#define ENV_DIR		".env"
#define LOCK_FILE	".lock"
#define EGRESS_FILE	".egress"
#define LIMITS_FILE	".limits"

#define DIR_MODE	0755
#define FILE_MODE	0644

struct store {
	int			 rootfd;
	int			 trashfd;
	struct fs_tmpdir	 tmp;		/* .tmp */
	enum fs_resolve		 resolve;	/* how paths are opened */
	struct store_quotas	 quotas;
	void			(*crash_hook)(const char *);
	struct store_egress_cache *egress;	/* store_egress.c, made on
						 * first use */
	int			 genfd;		/* .generation, or -1 */
	int			 gen_reopen;	/* opened per use (NFS) */
	struct store_view	*view;		/* store_view.c, made on
						 * first use */
};

/* The generation token (store_gen.c, whose header says why it makes the
 * view exact). store_gen_open, at store_open, creates the file when
 * missing and writes a fresh token: 0, or -1 with err filled. Every
 * function that changes the store calls store_gen_bump once its change
 * is made (success or not). store_gen_read copies the current token
 * into tok: 0, or -1 when it cannot be read (then nothing may be
 * trusted from a cache). */
#define STORE_GEN_LEN	16
int	store_gen_open(struct store *st, char *err, size_t errlen);
void	store_gen_close(struct store *st);
void	store_gen_bump(struct store *st);
int	store_gen_read(struct store *st, unsigned char tok[STORE_GEN_LEN]);

/* Frees the view (store_view.c); store_close. */
void	store_view_free(struct store *st);

/* Frees what store_egress_cached kept (store_egress.c); store_close. */
void	store_egress_cache_free(struct store *st);

/* Has the project a setting of its own: an egress list, or limits that
 * are not all the defaults (store_project.c)? Sets *has. STORE_OK or
 * STORE_ERROR. */
int	store_project_has_settings(struct store *st, const char *project,
	    int *has, char *err, size_t errlen);

/* Calls the test's crash hook, if any, with point. */
void	store_crash_point(struct store *st, const char *point);

/* Is project a valid name (it becomes a path component)? Returns 0, or
 * -1 with err filled. */
int	store_project_check(const char *project, char *err, size_t errlen);

/* Makes room for one more element in list, which holds count of *cap
 * elements of size bytes; doubling keeps appends linear. Returns the
 * (perhaps moved) list, or NULL with err filled and list untouched, still
 * the caller's to free. */
void	*store_grow(void *list, size_t count, size_t *cap, size_t size,
	    char *err, size_t errlen);

/* Takes the project's lock (creating <project> and its .lock), which
 * serialises every check of a quota with the write it allows. Closing
 * *lockfd releases it. STORE_OK or STORE_ERROR (store_project.c). */
int	store_project_lock(struct store *st, const char *project, int *lockfd,
	    char *err, size_t errlen);

/* Add to u what project's functions hold: functions, the most versions
 * one keeps, the bytes of their sources (store.c); and its environment:
 * variables, the largest value, their bytes (store_project.c). */
int	store_usage_fns(struct store *st, const char *project,
	    struct store_usage *u, char *err, size_t errlen);
int	store_usage_env(struct store *st, const char *project,
	    struct store_usage *u, char *err, size_t errlen);

/* Would the project hold more than its quota of bytes, holding used,
 * with add bytes more and freed fewer? STORE_QUOTA with err filled, else
 * STORE_OK (store.c). */
int	store_bytes_quota(const struct store_quotas *q, uint64_t used,
	    uint64_t add, uint64_t freed, char *err, size_t errlen);

#endif
