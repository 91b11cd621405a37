/*
 * store.h - the on-disk store of function sources, versions, active
 * pointers and project environments (SPEC §8). Nothing else touches the
 * store directory.
 *
 * Layout, relative to the store root:
 *   <project>/<request>/<fn>/versions/<N>/source.js   immutable source
 *   <project>/<request>/<fn>/versions/<N>/meta        immutable metadata
 *   <project>/<request>/<fn>/versions/<N>/run.js      the lowered code, and
 *   <project>/<request>/<fn>/versions/<N>/lines       its line map, when
 *                                                     the upload lowered it
 *   <project>/<request>/<fn>/active                   "N\n", replaced by rename
 *   <project>/<request>/<fn>/.lock                    flock() target, never written
 *   <project>/.env/<NAME>                             value, mode 0600
 *   <project>/.limits                                 "concurrency=N\n", replaced by rename
 *   <project>/.egress                                 host allowlist, one pattern a
 *                                                     line (store_egress.h), replaced by rename
 *   <project>/.lock                                   flock() target of quota checks
 *   .tmp/                                             temporary files and dirs
 *   .trash/                                           deleted functions, being removed
 * Names never start with '.', so the dot entries cannot collide with them.
 *
 * Every write is: temporary file or directory under .tmp, fsync, rename or
 * link into place, fsync of the parent directory. A version is claimed by
 * renaming a complete temporary directory to versions/<N>; rename(2) fails
 * when <N> already exists and is not empty, so concurrent writers get
 * distinct numbers and a reader never sees a partial version.
 *
 * Quotas (SPEC §13) are checked under the project's lock, so two writers
 * never both take the last unit of one; a write a quota forbids stores
 * nothing. Versions beyond the per-function quota are removed, oldest
 * first and never the active one, each by one rename into .trash.
 */
#ifndef FNRUN_STORE_H
#define FNRUN_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "names.h"

enum store_status {
	STORE_OK = 0,
	STORE_NOT_FOUND = 1,	/* function, version or variable absent */
	STORE_QUOTA = 2,	/* a quota forbids it; nothing written; err
				 * says which, for the caller's user */
	STORE_ERROR = -1	/* I/O error; detail in err */
};

/* Per-version options asked for at upload; 0 means "the configured
 * default" for the limits and warm-heap reuse for per_call. */
struct store_limits {
	unsigned	timeout_ms;
	unsigned	memory_mb;
	unsigned	per_call;	/* 1: a fresh heap on every call */
};

struct store_version {
	unsigned		version;
	char			sha256[65];	/* lower-case hex, NUL-terminated */
	size_t			size;		/* bytes of source */
	time_t			created_at;	/* seconds since the epoch, UTC */
	struct store_limits	limits;
	/* 32 random hex digits drawn when the version was written: unlike
	 * (name, number, sha256), never reused by a function deleted and
	 * uploaded again. "" for versions written before it existed. */
	char			uid[33];
	/* SHA-256 of run.js when the upload lowered the source (what is
	 * compiled, so what keys its bytecode); "" when the source as
	 * uploaded is what runs. */
	char			run_sha256[65];
	unsigned		typescript;	/* uploaded as TypeScript */
};

/* What an upload lowered (sandbox/lower): the code that runs and its line
 * map, stored beside the source as uploaded. Pointers are borrowed. */
struct store_lowered {
	const char	*code;
	size_t		 code_len;
	const char	*lines;
	size_t		 lines_len;
};

struct store_fn {
	char		request[NAME_MAX_LEN + 1];
	char		fn[NAME_MAX_LEN + 1];
	unsigned	active;			/* 0 when no version is active */
};

/* SPEC §13: what one project may hold; 0 means no limit. */
struct store_quotas {
	unsigned	functions;	/* functions per project */
	unsigned	versions;	/* versions kept per function */
	unsigned	env_vars;	/* environment variables per project */
	size_t		env_value_bytes; /* one value */
	uint64_t	store_bytes;	/* per project: sources of the versions
					 * kept plus environment values */
};

/* What one project holds, measured as the quotas count it. */
struct store_usage {
	unsigned	functions;
	unsigned	versions_max;	/* most versions kept by one function */
	unsigned	env_vars;
	size_t		env_value_max;	/* the largest value */
	uint64_t	store_bytes;
};

/* A project's own settings (PUT /projects/{project}/limits). */
struct store_project_limits {
	unsigned	concurrency;	/* 0: the configured default */
};

struct store;

/* Opens the store at root, creating root, .tmp and .trash if missing, and
 * removes leftovers in .tmp/.trash older than an hour. Returns a handle the
 * caller frees with store_close, or NULL with err filled. */
struct store	*store_open(const char *root, char *err, size_t errlen);
void		 store_close(struct store *st);

/* Sets the quotas later writes are held to (none until called). */
void		 store_set_quotas(struct store *st, const struct store_quotas *q);

/* Stores src[0..len) as a new version of id with the given limits. When
 * the active version already has the same sha256 and limits, nothing is
 * written, *existed is set to 1 and out describes that version. Otherwise
 * *existed is 0 and out describes the new version, which is made active
 * when activate is non-zero, and versions beyond the quota are removed.
 * Returns STORE_OK, STORE_QUOTA (a new function beyond the project's, no
 * version that may be removed, or the project's bytes) or STORE_ERROR. */
int	store_write_version(struct store *st, const struct fn_id *id,
	    const char *src, size_t len, const struct store_limits *limits,
	    int activate, struct store_version *out, int *existed,
	    char *err, size_t errlen);

/* As store_write_version, for a source uploaded as TypeScript when
 * typescript is set, and lowered into low when low is not NULL (else the
 * source is what runs). The same source uploaded in another language is
 * another version. */
int	store_write_lowered(struct store *st, const struct fn_id *id,
	    const char *src, size_t len, int typescript,
	    const struct store_lowered *low, const struct store_limits *limits,
	    int activate, struct store_version *out, int *existed,
	    char *err, size_t errlen);

/* Sets *version to the active version of id. Returns STORE_OK,
 * STORE_NOT_FOUND (no such function or none active) or STORE_ERROR. */
int	store_get_active(struct store *st, const struct fn_id *id,
	    unsigned *version, char *err, size_t errlen);

/* Reads the metadata of one version. STORE_NOT_FOUND if absent. */
int	store_get_version(struct store *st, const struct fn_id *id,
	    unsigned version, struct store_version *out, char *err,
	    size_t errlen);

/* Reads the source of one version into a malloc'd, NUL-terminated buffer
 * that the caller frees (*len excludes the NUL). STORE_NOT_FOUND if absent. */
int	store_read_source(struct store *st, const struct fn_id *id,
	    unsigned version, char **src, size_t *len, char *err,
	    size_t errlen);

/* Reads what version v of id runs into malloc'd, NUL-terminated buffers
 * the caller frees: the lowered code and its line map when the upload
 * lowered the source (v->run_sha256 set), else the source and *lines
 * NULL. With code NULL, only the line map. STORE_NOT_FOUND if absent. */
int	store_read_run(struct store *st, const struct fn_id *id,
	    const struct store_version *v, char **code, size_t *len,
	    char **lines, size_t *lines_len, char *err, size_t errlen);

/* Makes an existing version active. STORE_NOT_FOUND if it does not exist. */
int	store_set_active(struct store *st, const struct fn_id *id,
	    unsigned version, char *err, size_t errlen);

/* Lists the versions of id, ascending, in a malloc'd array the caller
 * frees; *active is 0 when none is active. STORE_NOT_FOUND if no function. */
int	store_list_versions(struct store *st, const struct fn_id *id,
	    struct store_version **out, size_t *n, unsigned *active,
	    char *err, size_t errlen);

/* Lists the functions of a project (sorted by request, then fn) in a
 * malloc'd array the caller frees. An unknown project is an empty list. */
int	store_list_fns(struct store *st, const char *project,
	    struct store_fn **out, size_t *n, char *err, size_t errlen);

/* Deletes a function: one rename moves it to .trash (so it is gone or
 * present, never half-deleted), then the trash copy is removed.
 * STORE_NOT_FOUND if absent. */
int	store_delete_fn(struct store *st, const struct fn_id *id, char *err,
	    size_t errlen);

/* Project environment (SPEC §7). Names must be validated by the caller.
 * store_env_set returns STORE_QUOTA for a value over its size, a variable
 * beyond the project's count, or the project's bytes. */
int	store_env_set(struct store *st, const char *project, const char *name,
	    const char *value, size_t len, char *err, size_t errlen);
int	store_env_unset(struct store *st, const char *project,
	    const char *name, char *err, size_t errlen);

struct store_env_var {
	char	 name[ENV_NAME_MAX_LEN + 1];
	char	*value;		/* malloc'd, NUL-terminated */
	size_t	 len;
};

/* Lists the project's variables sorted by name; when with_values is 0 the
 * value pointers are NULL and len is the value's size. Free with store_env_free. An unknown project is
 * an empty list. */
int	store_env_list(struct store *st, const char *project, int with_values,
	    struct store_env_var **out, size_t *n, char *err, size_t errlen);
void	store_env_free(struct store_env_var *vars, size_t n);

/* Measures what project holds (SPEC §13); an unknown project holds
 * nothing. STORE_OK or STORE_ERROR. */
int	store_project_usage(struct store *st, const char *project,
	    struct store_usage *out, char *err, size_t errlen);

/* The project's own settings; an unknown project, or one that set none,
 * has zeros. STORE_OK or STORE_ERROR (a malformed file included). */
int	store_project_limits_get(struct store *st, const char *project,
	    struct store_project_limits *out, char *err, size_t errlen);
/* Replaces them, atomically. STORE_OK or STORE_ERROR. */
int	store_project_limits_set(struct store *st, const char *project,
	    const struct store_project_limits *limits, char *err,
	    size_t errlen);

/* Test hook: called with a point name ("version-written", "version-renamed",
 * "active-written", "active-renamed", "env-written") between the steps of a
 * write, so a unit test can simulate a crash by _exit()ing there. */
void	store_set_crash_hook(struct store *st, void (*hook)(const char *point));

/* Test hook: 1 when st resolves paths by the component-by-component walk
 * (FNRUN_STORE_WALK=1 in the environment when store_open ran, as on a
 * kernel without openat2), 0 when by openat2. */
int	store_walks(const struct store *st);

struct store_project {
	char	name[NAME_MAX_LEN + 1];
};

/* Lists, sorted by name, every project that has a function, an
 * environment variable or a setting of its own (an egress list, a limit),
 * in a malloc'd array the caller frees. Returns
 * STORE_OK or STORE_ERROR. */
int	store_list_projects(struct store *st, struct store_project **out,
	    size_t *n, char *err, size_t errlen);

#endif
