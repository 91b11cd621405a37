/*
 * store.c - the store handle and the functions' versions (SPEC §8): the
 * layout of store.h under <project>/<request>/<fn>, version claims, the
 * active pointer, the per-function lock (fn_lock), delete (one rename
 * into .trash), and what the functions of a project hold against its
 * quotas (SPEC §13), with the pruning of versions beyond them. Project
 * settings are store_project.c's; every file operation goes through
 * store_fs.c, and the meta/active bytes are parsed by store_format.c.
 *
 * Readers take no lock; writers of one function serialise the version
 * claim and the active pointer with flock() on its .lock file. This file
 * never logs: detail goes to the caller's err.
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"
#include "names.h"
#include "store.h"
#include "store_format.h"
#include "store_internal.h"

#define ACTIVE_FILE	"active"
#define VERSIONS_DIR	"versions"
#define SOURCE_FILE	"source.js"
#define META_FILE	"meta"
#define RUN_FILE	"run.js"
#define LINES_FILE	"lines"

#define LEFTOVER_AGE	3600	/* seconds before .tmp/.trash entries go */
#define META_MAX	1024	/* a meta file is a few short lines */
#define ACTIVE_MAX	16	/* "4294967295\n" fits */
#define CLAIM_TRIES	1000	/* version numbers tried before giving up */
#define RELOCK_TRIES	16	/* function dir replaced under us this often */

/* Read once at store_open: "1" resolves every path by the walk, as on a
 * kernel without openat2 (tests run the store both ways). */
#define WALK_ENV	"FNRUN_STORE_WALK"


void
store_crash_point(struct store *st, const char *point)
{
	if (st->crash_hook != NULL)
		st->crash_hook(point);
}

void *
store_grow(void *list, size_t count, size_t *cap, size_t size, char *err,
    size_t errlen)
{
	void	*nlist;
	size_t	 ncap;

	if (count < *cap)
		return list;
	ncap = *cap ? *cap * 2 : 8;
	if ((nlist = reallocarray(list, ncap, size)) == NULL) {
		fs_seterr(err, errlen, "realloc: %s", strerror(errno));
		return NULL;
	}
	*cap = ncap;
	return nlist;
}

/* The content of "active" as active_write leaves it: "N\n". */
static int
active_parse(const char *buf, size_t len, unsigned *version, char *err,
    size_t errlen)
{
	if (store_format_active(buf, len, version) == -1) {
		fs_seterr(err, errlen, "%s: malformed", ACTIVE_FILE);
		return STORE_ERROR;
	}
	return STORE_OK;
}

/* The three names become path components: every entry point taking an
 * fn_id checks it first. Returns 0, or -1 with err filled. */
static int
id_check(const struct fn_id *id, char *err, size_t errlen)
{
	if (id != NULL &&
	    name_valid(id->project, strnlen(id->project, sizeof(id->project))) &&
	    name_valid(id->request, strnlen(id->request, sizeof(id->request))) &&
	    name_valid(id->fn, strnlen(id->fn, sizeof(id->fn))))
		return 0;
	fs_seterr(err, errlen, "invalid function name");
	return -1;
}

/* id_check for the calls naming one version: STORE_NOT_FOUND for 0,
 * which is never a version, without touching the disk. */
static int
version_check(const struct fn_id *id, unsigned version, char *err,
    size_t errlen)
{
	if (id_check(id, err, errlen) == -1)
		return STORE_ERROR;
	return version == 0 ? STORE_NOT_FOUND : STORE_OK;
}

int
store_project_check(const char *project, char *err, size_t errlen)
{
	if (project != NULL && name_valid(project, strlen(project)))
		return 0;
	fs_seterr(err, errlen, "invalid project name");
	return -1;
}

/* Opens <project>/<request>/<fn>, creating the chain when create is set. */
static int
fn_open(struct store *st, const struct fn_id *id, int create, int *reqfd,
    int *fnfd, char *err, size_t errlen)
{
	int	projfd = -1, rfd = -1, ffd = -1, rc;

	*reqfd = *fnfd = -1;
	rc = fs_dir_open(st->rootfd, id->project, create, DIR_MODE, &projfd, err,
	    errlen);
	if (rc != STORE_OK)
		goto out;
	rc = fs_dir_open(projfd, id->request, create, DIR_MODE, &rfd, err,
	    errlen);
	if (rc != STORE_OK)
		goto out;
	rc = fs_dir_open(rfd, id->fn, create, DIR_MODE, &ffd, err, errlen);
	if (rc != STORE_OK)
		goto out;
	*reqfd = rfd;
	*fnfd = ffd;
	rfd = ffd = -1;
out:
	fs_close(&ffd);
	fs_close(&rfd);
	fs_close(&projfd);
	return rc;
}

/* Opens the function and takes its lock. Because the lock file lives in
 * the function directory, a delete that renamed the directory away while
 * we waited leaves us holding the lock of the trashed copy: check that the
 * directory we hold is still the one in place, else start again. The lock
 * is released by closing *lockfd. */
static int
fn_lock(struct store *st, const struct fn_id *id, int create, int *reqfd,
    int *fnfd, int *lockfd, char *err, size_t errlen)
{
	struct stat	 now, held;
	int		 rfd = -1, ffd = -1, lfd = -1, tries, rc;

	*reqfd = *fnfd = *lockfd = -1;
	for (tries = 0; tries < RELOCK_TRIES; tries++) {
		rc = fn_open(st, id, create, &rfd, &ffd, err, errlen);
		if (rc != STORE_OK)
			goto out;
		rc = fs_lock_file(ffd, LOCK_FILE, FILE_MODE, &lfd, err, errlen);
		if (rc == STORE_NOT_FOUND) {
			/* Deleted and already being removed: start again. */
			fs_close(&ffd);
			fs_close(&rfd);
			continue;
		}
		if (rc != STORE_OK)
			goto out;
		rc = STORE_ERROR;
		if (fstat(ffd, &held) == -1) {
			fs_seterr(err, errlen, "fstat %s: %s", id->fn,
			    strerror(errno));
			goto out;
		}
		if (fstatat(rfd, id->fn, &now, AT_SYMLINK_NOFOLLOW) == 0) {
			if (now.st_dev == held.st_dev &&
			    now.st_ino == held.st_ino) {
				*reqfd = rfd;
				*fnfd = ffd;
				*lockfd = lfd;
				rfd = ffd = lfd = -1;
				rc = STORE_OK;
				goto out;
			}
		} else if (errno != ENOENT) {
			fs_seterr(err, errlen, "stat %s: %s", id->fn,
			    strerror(errno));
			goto out;
		}
		fs_close(&lfd);
		fs_close(&ffd);
		fs_close(&rfd);
	}
	rc = STORE_ERROR;
	fs_seterr(err, errlen, "%s: replaced too often while locking", id->fn);
out:
	fs_close(&lfd);
	fs_close(&ffd);
	fs_close(&rfd);
	return rc;
}

static int
active_read(int fnfd, unsigned *version, char *err, size_t errlen)
{
	char	*buf = NULL;
	size_t	 len;
	int	 rc;

	rc = fs_file_read(fnfd, ACTIVE_FILE, ACTIVE_FILE, ACTIVE_MAX, &buf, &len,
	    err, errlen);
	if (rc == STORE_OK)
		rc = active_parse(buf, len, version, err, errlen);
	free(buf);
	return rc;
}

/* Points <fn>/active at version: temp file, fsync, rename, fsync. */
static int
active_write(struct store *st, int fnfd, unsigned version, char *err,
    size_t errlen)
{
	char	buf[32];
	int	len;

	len = snprintf(buf, sizeof(buf), "%u\n", version);
	if (fs_write_atomic(&st->tmp, fnfd, ACTIVE_FILE, buf, (size_t)len,
	    FILE_MODE, st->crash_hook, "active-written", err, errlen) !=
	    STORE_OK)
		return STORE_ERROR;
	store_crash_point(st, "active-renamed");
	return STORE_OK;
}

/* The meta of version, however it was read, into *out; *out is left
 * alone when it is malformed. */
static int
meta_decode(const char *buf, size_t len, unsigned version,
    struct store_version *out, char *err, size_t errlen)
{
	struct store_version	v;

	memset(&v, 0, sizeof(v));
	if (store_format_meta(buf, len, &v) == -1) {
		fs_seterr(err, errlen, "version %u meta: malformed", version);
		return STORE_ERROR;
	}
	v.version = version;
	*out = v;
	return STORE_OK;
}

/* Reads versions/<version>/<file> into a malloc'd buffer; what ("meta",
 * "source") names it in err. STORE_NOT_FOUND if the version or the file is
 * absent. */
static int
version_file(int verfd, unsigned version, const char *file,
    const char *what, size_t max, char **buf, size_t *len, char *err,
    size_t errlen)
{
	char	num[16], label[32];
	int	vfd = -1, rc;

	snprintf(num, sizeof(num), "%u", version);
	if ((rc = fs_dir_open(verfd, num, 0, 0, &vfd, err, errlen)) != STORE_OK)
		goto out;
	snprintf(label, sizeof(label), "version %u %s", version, what);
	rc = fs_file_read(vfd, file, label, max, buf, len, err, errlen);
out:
	fs_close(&vfd);
	return rc;
}

/* Reads versions/<version>/meta. STORE_NOT_FOUND if it is absent. */
static int
version_read(int verfd, unsigned version, struct store_version *out,
    char *err, size_t errlen)
{
	char	*buf = NULL;
	size_t	 len;
	int	 rc;

	rc = version_file(verfd, version, META_FILE, "meta", META_MAX, &buf,
	    &len, err, errlen);
	if (rc == STORE_OK)
		rc = meta_decode(buf, len, version, out, err, errlen);
	free(buf);
	return rc;
}

/* Reads the active version's metadata into *cur and sets *same when it
 * has want's sha256 and limits. */
static int
active_matches(int fnfd, const struct store_version *want,
    struct store_version *cur, int *same, char *err, size_t errlen)
{
	unsigned	active;
	int		verfd = -1, rc;

	*same = 0;
	rc = active_read(fnfd, &active, err, errlen);
	if (rc != STORE_OK)
		goto out;
	rc = fs_dir_open(fnfd, VERSIONS_DIR, 0, 0, &verfd, err, errlen);
	if (rc != STORE_OK)
		goto out;
	rc = version_read(verfd, active, cur, err, errlen);
	if (rc != STORE_OK)
		goto out;
	*same = strcmp(cur->sha256, want->sha256) == 0 &&
	    cur->typescript == want->typescript &&
	    cur->limits.timeout_ms == want->limits.timeout_ms &&
	    cur->limits.memory_mb == want->limits.memory_mb &&
	    cur->limits.per_call == want->limits.per_call;
out:
	fs_close(&verfd);
	/* No active version (or a dangling one) simply does not match. */
	return rc == STORE_NOT_FOUND ? STORE_OK : rc;
}

/* Builds the complete version as .tmp/<name>/{source.js,meta} (and
 * run.js, lines when low is not NULL), durable. */
static int
version_build(struct store *st, const char *name, const char *src,
    size_t len, const struct store_lowered *low,
    const struct store_version *v, char *err, size_t errlen)
{
	char	meta[META_MAX];
	int	dfd = -1, mlen, rc = STORE_ERROR;

	if (mkdirat(st->tmp.fd, name, DIR_MODE) == -1) {
		fs_seterr(err, errlen, "mkdir %s/%s: %s", TMP_DIR, name,
		    strerror(errno));
		goto out;
	}
	if ((dfd = openat(st->tmp.fd, name, FS_DIR_FLAGS)) == -1) {
		fs_seterr(err, errlen, "open %s/%s: %s", TMP_DIR, name,
		    strerror(errno));
		goto out;
	}
	if (fs_file_create(dfd, SOURCE_FILE, src != NULL ? src : "", len,
	    FILE_MODE, err, errlen) != STORE_OK)
		goto out;
	if (low != NULL && (fs_file_create(dfd, RUN_FILE, low->code,
	    low->code_len, FILE_MODE, err, errlen) != STORE_OK ||
	    fs_file_create(dfd, LINES_FILE, low->lines, low->lines_len,
	    FILE_MODE, err, errlen) != STORE_OK))
		goto out;
	mlen = snprintf(meta, sizeof(meta),
	    "sha256=%s\nsize=%zu\ncreated_at=%lld\ntimeout_ms=%u\n"
	    "memory_mb=%u\nisolation=%s\nuid=%s\nlanguage=%s\n%s%s%s",
	    v->sha256, v->size, (long long)v->created_at,
	    v->limits.timeout_ms, v->limits.memory_mb,
	    v->limits.per_call ? "per-call" : "warm", v->uid,
	    v->typescript ? "typescript" : "javascript",
	    low != NULL ? "run_sha256=" : "", low != NULL ? v->run_sha256 : "",
	    low != NULL ? "\n" : "");
	if (fs_file_create(dfd, META_FILE, meta, (size_t)mlen, FILE_MODE, err,
	    errlen) != STORE_OK)
		goto out;
	if (fs_fsync(dfd) == -1) {
		fs_seterr(err, errlen, "fsync %s/%s: %s", TMP_DIR, name,
		    strerror(errno));
		goto out;
	}
	rc = STORE_OK;
out:
	fs_close(&dfd);
	return rc;
}

/*
 * Calls cb(n, arg) for every entry of the versions directory verfd that is
 * named like a version, in directory order; whether that version is
 * complete is for cb to find out. A non-zero return from cb ends the walk
 * and is returned (cb fills err if it is an error). Otherwise STORE_OK once
 * every entry was seen, or STORE_ERROR when the directory cannot be read.
 */
static int
versions_each(int verfd, int (*cb)(unsigned, void *), void *arg, char *err,
    size_t errlen)
{
	struct dirent	*de;
	DIR		*d;
	unsigned	 n;
	int		 rc = STORE_ERROR, r;

	if ((d = fs_dir_stream(verfd, VERSIONS_DIR, err, errlen)) == NULL)
		goto out;
	for (;;) {
		/* NULL is also the end: only errno tells a failure. */
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0) {
				fs_seterr(err, errlen, "read %s: %s",
				    VERSIONS_DIR, strerror(errno));
				goto out;
			}
			break;
		}
		if (store_format_version(de->d_name, strlen(de->d_name), &n) ==
		    -1)
			continue;
		if ((r = cb(n, arg)) != 0) {
			rc = r;
			goto out;
		}
	}
	rc = STORE_OK;
out:
	if (d != NULL)
		closedir(d);
	return rc;
}

/* versions_each callback: the highest number into *(unsigned *)arg. */
static int
version_max(unsigned n, void *arg)
{
	unsigned	*max = arg;

	if (n > *max)
		*max = n;
	return 0;
}

/* Renames .tmp/<name> to versions/<max + 1>; a number taken by another
 * writer since the scan fails the rename, so scan again. */
static int
version_claim(struct store *st, int verfd, const char *name,
    unsigned *version, char *err, size_t errlen)
{
	char		num[16];
	unsigned	max;
	int		tries;

	for (tries = 0; tries < CLAIM_TRIES; tries++) {
		max = 0;
		if (versions_each(verfd, version_max, &max, err, errlen) !=
		    STORE_OK)
			return STORE_ERROR;
		if (max == UINT_MAX) {
			fs_seterr(err, errlen, "out of version numbers");
			return STORE_ERROR;
		}
		snprintf(num, sizeof(num), "%u", max + 1);
		if (fs_rename_noreplace(st->tmp.fd, name, verfd, num) == 0) {
			*version = max + 1;
			return STORE_OK;
		}
		if (errno != EEXIST && errno != ENOTEMPTY) {
			fs_seterr(err, errlen, "rename to %s/%s: %s",
			    VERSIONS_DIR, num, strerror(errno));
			return STORE_ERROR;
		}
	}
	fs_seterr(err, errlen, "no free version number after %d tries",
	    CLAIM_TRIES);
	return STORE_ERROR;
}

/* versions_each callback: one version is enough. */
static int
version_found(unsigned n, void *arg)
{
	(void)n;
	(void)arg;
	return 1;
}

/* Has fnfd a versions directory with at least one entry named like a
 * version? Best effort: what cannot be read counts as none. */
static int
has_versions(int fnfd)
{
	int	verfd = -1, found = 0;

	if (fs_dir_open(fnfd, VERSIONS_DIR, 0, 0, &verfd, NULL, 0) == STORE_OK)
		found = versions_each(verfd, version_found, NULL, NULL, 0) ==
		    1;
	fs_close(&verfd);
	return found;
}

static int
cmp_fn(const void *a, const void *b)
{
	const struct store_fn	*x = a, *y = b;
	int			 c;

	if ((c = strcmp(x->request, y->request)) != 0)
		return c;
	return strcmp(x->fn, y->fn);
}

/* Is name under dfd a valid store name and a real directory? */
static int
is_name_dir(int dfd, const char *name)
{
	struct stat	sb;

	if (!name_valid(name, strlen(name)))
		return 0;
	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	return S_ISDIR(sb.st_mode);
}

/* What fns_each calls for each function: its request and fn names, its
 * directory and its active version (0: none). Non-zero ends the walk. */
typedef int (*fn_cb)(const char *request, const char *fn, int fnfd,
    unsigned active, void *arg);

/* Calls cb for each function of one request directory. */
static int
request_each(int projfd, const char *request, fn_cb cb, void *arg,
    char *err, size_t errlen)
{
	struct dirent	*de;
	DIR		*d = NULL;
	unsigned	 active;
	int		 reqfd = -1, fnfd = -1, rc, r;

	rc = fs_dir_open(projfd, request, 0, 0, &reqfd, err, errlen);
	if (rc == STORE_NOT_FOUND)	/* removed since readdir */
		rc = STORE_OK;
	if (rc != STORE_OK || reqfd == -1)
		goto out;
	rc = STORE_ERROR;
	if ((d = fs_dir_stream(reqfd, request, err, errlen)) == NULL)
		goto out;
	while ((de = readdir(d)) != NULL) {
		if (!is_name_dir(reqfd, de->d_name))
			continue;
		r = fs_dir_open(reqfd, de->d_name, 0, 0, &fnfd, err, errlen);
		if (r == STORE_NOT_FOUND)
			continue;
		if (r != STORE_OK)
			goto out;
		active = 0;
		if ((r = active_read(fnfd, &active, err, errlen)) ==
		    STORE_ERROR)
			goto out;
		/* A directory left by a writer that never claimed a version
		 * is not a function. */
		if ((r == STORE_OK || has_versions(fnfd)) &&
		    (r = cb(request, de->d_name, fnfd, active, arg)) != 0) {
			rc = r;
			goto out;
		}
		fs_close(&fnfd);
	}
	rc = STORE_OK;
out:
	if (d != NULL)
		closedir(d);
	fs_close(&fnfd);
	fs_close(&reqfd);
	return rc;
}

/* Calls cb for each function of project, in directory order. STORE_OK
 * (an unknown project has none), STORE_ERROR, or what cb returned. */
static int
fns_each(struct store *st, const char *project, fn_cb cb, void *arg,
    char *err, size_t errlen)
{
	struct dirent	*de;
	DIR		*d = NULL;
	int		 projfd = -1, rc;

	if ((rc = fs_dir_open(st->rootfd, project, 0, 0, &projfd, err,
	    errlen)) != STORE_OK)
		goto out;
	rc = STORE_ERROR;
	if ((d = fs_dir_stream(projfd, project, err, errlen)) == NULL)
		goto out;
	rc = STORE_OK;
	while (rc == STORE_OK && (de = readdir(d)) != NULL)
		if (is_name_dir(projfd, de->d_name))
			rc = request_each(projfd, de->d_name, cb, arg, err,
			    errlen);
out:
	if (d != NULL)
		closedir(d);
	fs_close(&projfd);
	/* Only the project can be missing: an unknown one is no functions. */
	return rc == STORE_NOT_FOUND ? STORE_OK : rc;
}

/* What store_list_fns gathers through fns_each. */
struct fn_list {
	struct store_fn	*list;
	size_t		 count, cap;
	char		*err;
	size_t		 errlen;
};

/* fns_each callback: appends the function to the fn_list arg. */
static int
fn_add(const char *request, const char *fn, int fnfd, unsigned active,
    void *arg)
{
	struct fn_list	*fl = arg;
	struct store_fn	*nlist, *f;

	(void)fnfd;
	if ((nlist = store_grow(fl->list, fl->count, &fl->cap, sizeof(*nlist),
	    fl->err, fl->errlen)) == NULL)
		return STORE_ERROR;
	fl->list = nlist;
	f = &fl->list[fl->count++];
	memset(f, 0, sizeof(*f));
	/* Both names passed name_valid, so they fit. */
	memcpy(f->request, request, strlen(request));
	memcpy(f->fn, fn, strlen(fn));
	f->active = active;
	return 0;
}

int
store_list_fns(struct store *st, const char *project, struct store_fn **out,
    size_t *n, char *err, size_t errlen)
{
	struct fn_list	fl = { NULL, 0, 0, err, errlen };
	int		rc;

	*out = NULL;
	*n = 0;
	if (store_project_check(project, err, errlen) == -1)
		return STORE_ERROR;
	if ((rc = fns_each(st, project, fn_add, &fl, err, errlen)) !=
	    STORE_OK) {
		free(fl.list);
		return rc;
	}
	if (fl.count > 0)
		qsort(fl.list, fl.count, sizeof(*fl.list), cmp_fn);
	*out = fl.list;
	*n = fl.count;
	return STORE_OK;
}

/* A version kept, and the bytes of its source. */
struct kept {
	unsigned	version;
	uint64_t	bytes;
};

/* What kept_list gathers through versions_each. */
struct kept_list {
	int		 verfd;
	struct kept	*v;
	size_t		 count, cap;
	char		*err;
	size_t		 errlen;
};

/* versions_each callback: appends version n and the size of its source
 * (a claimed version is complete: the claim renamed it whole). */
static int
kept_add(unsigned n, void *arg)
{
	struct kept_list	*kl = arg;
	struct kept		*nv;
	struct stat		 sb;
	char			 path[32];

	snprintf(path, sizeof(path), "%u/%s", n, SOURCE_FILE);
	if (fstatat(kl->verfd, path, &sb, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISREG(sb.st_mode))
		return 0;
	if ((nv = store_grow(kl->v, kl->count, &kl->cap, sizeof(*nv),
	    kl->err, kl->errlen)) == NULL)
		return STORE_ERROR;
	kl->v = nv;
	kl->v[kl->count].version = n;
	kl->v[kl->count].bytes = (uint64_t)sb.st_size;
	kl->count++;
	return 0;
}

static int
cmp_kept(const void *a, const void *b)
{
	const struct kept	*x = a, *y = b;

	return (x->version > y->version) - (x->version < y->version);
}

/* The versions kept under verfd, ascending, in a malloc'd array the
 * caller frees. */
static int
kept_list(int verfd, struct kept **out, size_t *n, char *err, size_t errlen)
{
	struct kept_list	kl = { verfd, NULL, 0, 0, err, errlen };

	*out = NULL;
	*n = 0;
	if (versions_each(verfd, kept_add, &kl, err, errlen) != STORE_OK) {
		free(kl.v);
		return STORE_ERROR;
	}
	if (kl.count > 0)
		qsort(kl.v, kl.count, sizeof(*kl.v), cmp_kept);
	*out = kl.v;
	*n = kl.count;
	return STORE_OK;
}

/* What store_usage_fns adds up through fns_each. */
struct usage_walk {
	struct store_usage	*u;
	char			*err;
	size_t			 errlen;
};

/* fns_each callback: one more function, its versions and their bytes. */
static int
usage_add(const char *request, const char *fn, int fnfd, unsigned active,
    void *arg)
{
	struct usage_walk	*w = arg;
	struct kept		*v = NULL;
	size_t			 n = 0, i;
	int			 verfd = -1, rc;

	(void)request;
	(void)fn;
	(void)active;
	rc = fs_dir_open(fnfd, VERSIONS_DIR, 0, 0, &verfd, w->err,
	    w->errlen);
	if (rc == STORE_OK)
		rc = kept_list(verfd, &v, &n, w->err, w->errlen);
	fs_close(&verfd);
	if (rc == STORE_ERROR)
		return STORE_ERROR;
	w->u->functions++;
	if (n > w->u->versions_max)
		w->u->versions_max = (unsigned)n;
	for (i = 0; i < n; i++)
		w->u->store_bytes += v[i].bytes;
	free(v);
	return 0;
}

int
store_usage_fns(struct store *st, const char *project, struct store_usage *u,
    char *err, size_t errlen)
{
	struct usage_walk	w = { u, err, errlen };

	return fns_each(st, project, usage_add, &w, err, errlen);
}

int
store_bytes_quota(const struct store_quotas *q, uint64_t used, uint64_t add,
    uint64_t freed, char *err, size_t errlen)
{
	if (q->store_bytes == 0 || used + add - freed <= q->store_bytes)
		return STORE_OK;
	fs_seterr(err, errlen, "the project would hold %llu bytes; its limit "
	    "is %llu (project_max_store_bytes)",
	    (unsigned long long)(used + add - freed),
	    (unsigned long long)q->store_bytes);
	return STORE_QUOTA;
}

/* The quotas of a new function of project with a first version of len
 * bytes, checked before anything of it is made, so that a refusal leaves
 * nothing behind: the project's count of functions and its bytes. Under
 * the project's lock. */
static int
new_fn_quota(struct store *st, const char *project, size_t len, char *err,
    size_t errlen)
{
	const struct store_quotas	*q = &st->quotas;
	struct store_usage		 u;
	int				 rc;

	memset(&u, 0, sizeof(u));
	if ((rc = store_usage_fns(st, project, &u, err, errlen)) != STORE_OK ||
	    (q->store_bytes > 0 && (rc = store_usage_env(st, project, &u, err,
	    errlen)) != STORE_OK))
		return rc;
	if (q->functions > 0 && u.functions >= q->functions) {
		fs_seterr(err, errlen, "the project has %u functions, its limit "
		    "(project_max_functions)", u.functions);
		return STORE_QUOTA;
	}
	return store_bytes_quota(q, u.store_bytes, len, 0, err, errlen);
}

/*
 * Which versions an upload must remove to keep the function within its
 * quota, given the versions it keeps (ascending) and the version active
 * after the upload (0: the new one): the oldest, never that one. The new
 * version is never removed either: when nothing else may go, the upload
 * itself is refused. Sets *first_bytes to their bytes and returns how
 * many of them there are in *out (malloc'd), or STORE_QUOTA.
 */
static int
prune_plan(const struct store_quotas *q, const struct kept *v, size_t n,
    unsigned active_after, struct kept **out, size_t *nout,
    uint64_t *bytes, char *err, size_t errlen)
{
	size_t	need, i;

	*out = NULL;
	*nout = 0;
	*bytes = 0;
	if (q->versions == 0 || n + 1 <= q->versions)
		return STORE_OK;
	need = n + 1 - q->versions;
	if ((*out = calloc(need, sizeof(**out))) == NULL) {
		fs_seterr(err, errlen, "calloc: %s", strerror(errno));
		return STORE_ERROR;
	}
	for (i = 0; i < n && *nout < need; i++) {
		if (v[i].version == active_after)
			continue;
		(*out)[(*nout)++] = v[i];
		*bytes += v[i].bytes;
	}
	if (*nout < need) {
		fs_seterr(err, errlen, "the function keeps %zu versions, its "
		    "limit is %u (function_max_versions), and the active one "
		    "is never removed", n, q->versions);
		free(*out);
		*out = NULL;
		*nout = 0;
		return STORE_QUOTA;
	}
	return STORE_OK;
}

/* Removes the planned versions: each goes whole, by one rename into
 * .trash, then the trash copies are removed. Best effort once the upload
 * has been stored: a version left behind is removed by the next upload. */
static void
prune(struct store *st, int verfd, const struct kept *v, size_t n)
{
	char	num[16], name[FS_TMPNAME_LEN];
	size_t	i;

	for (i = 0; i < n; i++) {
		snprintf(num, sizeof(num), "%u", v[i].version);
		if (fs_tmp_name(&st->tmp, name, sizeof(name), NULL, 0) == -1 ||
		    renameat(verfd, num, st->trashfd, name) == -1)
			continue;
		(void)fs_fsync(verfd);
		(void)fs_fsync(st->trashfd);
		store_crash_point(st, "version-pruned");
		(void)fs_rm_tree(st->trashfd, name, 0);
	}
}

/*
 * The quotas of an upload of len bytes to fnfd (locked, with its versions
 * directory verfd), under the project's lock when it has a quota of
 * bytes: no version that may go, or the project's bytes after the
 * removal. Fills *drop with the versions to remove once the
 * new one is in. STORE_OK, STORE_QUOTA or STORE_ERROR.
 */
static int
quota_check(struct store *st, const struct fn_id *id, int fnfd, int verfd,
    size_t len, int activate, struct kept **drop, size_t *ndrop, char *err,
    size_t errlen)
{
	const struct store_quotas	*q = &st->quotas;
	struct store_usage		 u;
	struct kept			*v = NULL;
	uint64_t			 freed = 0;
	unsigned			 active = 0;
	size_t				 n = 0;
	int				 rc;

	*drop = NULL;
	*ndrop = 0;
	if ((rc = kept_list(verfd, &v, &n, err, errlen)) != STORE_OK)
		goto out;
	if (!activate &&
	    (rc = active_read(fnfd, &active, err, errlen)) == STORE_ERROR)
		goto out;
	if ((rc = prune_plan(q, v, n, active, drop, ndrop, &freed, err,
	    errlen)) != STORE_OK)
		goto out;
	if (q->store_bytes == 0)
		goto out;
	memset(&u, 0, sizeof(u));
	if ((rc = store_usage_fns(st, id->project, &u, err, errlen)) !=
	    STORE_OK || (rc = store_usage_env(st, id->project, &u, err,
	    errlen)) != STORE_OK)
		goto out;
	rc = store_bytes_quota(q, u.store_bytes, len, freed, err, errlen);
out:
	if (rc != STORE_OK) {
		free(*drop);
		*drop = NULL;
		*ndrop = 0;
	}
	free(v);
	return rc;
}

struct store *
store_open(const char *root, char *err, size_t errlen)
{
	struct store	*st;
	int		 ok = 0;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		fs_seterr(err, errlen, "calloc: %s", strerror(errno));
		return NULL;
	}
	st->rootfd = st->tmp.fd = st->trashfd = st->genfd = -1;
	atomic_init(&st->tmp.counter, 0);
	st->resolve = getenv(WALK_ENV) != NULL &&
	    strcmp(getenv(WALK_ENV), "1") == 0 ? FS_WALK : FS_OPENAT2;
	if (mkdir(root, DIR_MODE) == -1 && errno != EEXIST) {
		fs_seterr(err, errlen, "mkdir %s: %s", root, strerror(errno));
		goto out;
	}
	/* The root itself may be a symlink the operator chose. */
	if ((st->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		fs_seterr(err, errlen, "open %s: %s", root, strerror(errno));
		goto out;
	}
	if (fs_dir_open(st->rootfd, TMP_DIR, 1, DIR_MODE, &st->tmp.fd, err,
	    errlen) != STORE_OK)
		goto out;
	if (fs_dir_open(st->rootfd, TRASH_DIR, 1, DIR_MODE, &st->trashfd, err,
	    errlen) != STORE_OK)
		goto out;
	fs_sweep(st->tmp.fd, LEFTOVER_AGE);
	fs_sweep(st->trashfd, LEFTOVER_AGE);
	if (store_gen_open(st, err, errlen) == -1)
		goto out;
	ok = 1;
out:
	if (!ok) {
		store_close(st);
		st = NULL;
	}
	return st;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	fs_close(&st->trashfd);
	fs_close(&st->tmp.fd);
	fs_close(&st->rootfd);
	store_gen_close(st);
	store_view_free(st);
	store_egress_cache_free(st);
	free(st);
}

void
store_set_crash_hook(struct store *st, void (*hook)(const char *point))
{
	st->crash_hook = hook;
}

void
store_set_quotas(struct store *st, const struct store_quotas *q)
{
	st->quotas = *q;
}

int
store_walks(const struct store *st)
{
	return st->resolve == FS_WALK;
}

int
store_write_version(struct store *st, const struct fn_id *id,
    const char *src, size_t len, const struct store_limits *limits,
    int activate, struct store_version *out, int *existed, char *err,
    size_t errlen)
{
	return store_write_lowered(st, id, src, len, 0, NULL, limits, activate,
	    out, existed, err, errlen);
}

int
store_write_lowered(struct store *st, const struct fn_id *id,
    const char *src, size_t len, int typescript,
    const struct store_lowered *low, const struct store_limits *limits,
    int activate, struct store_version *out, int *existed, char *err,
    size_t errlen)
{
	struct store_version	 v, cur;
	struct kept		*drop = NULL;
	char			 name[FS_TMPNAME_LEN];
	size_t			 ndrop = 0;
	int			 reqfd = -1, fnfd = -1, lockfd = -1, verfd = -1;
	unsigned		 active;
	int			 projlock = -1, is_new = 0, r;
	int			 have_tmp = 0, same = 0, rc = STORE_ERROR;

	if (existed != NULL)
		*existed = 0;
	if (id_check(id, err, errlen) == -1)
		goto out;
	if (st->quotas.store_bytes > 0 && len > st->quotas.store_bytes) {
		fs_seterr(err, errlen, "the source is %zu bytes; a project may "
		    "hold %llu (project_max_store_bytes)", len,
		    (unsigned long long)st->quotas.store_bytes);
		rc = STORE_QUOTA;
		goto out;
	}
	memset(&v, 0, sizeof(v));
	memset(&cur, 0, sizeof(cur));
	if (digest_sha256_hex(src, len, v.sha256) == -1 || (low != NULL &&
	    digest_sha256_hex(low->code, low->code_len, v.run_sha256) == -1)) {
		fs_seterr(err, errlen, "sha256 failed");
		goto out;
	}
	v.typescript = typescript != 0;
	v.size = len;
	v.created_at = time(NULL);
	if (limits != NULL)
		v.limits = *limits;
	if (fs_random_hex(v.uid, sizeof(v.uid)) == -1) {
		fs_seterr(err, errlen, "RAND_bytes failed");
		goto out;
	}

	/* A re-upload of the active version writes nothing at all. */
	rc = fn_open(st, id, 0, &reqfd, &fnfd, err, errlen);
	if (rc == STORE_OK)
		rc = active_matches(fnfd, &v, &cur, &same, err, errlen);
	fs_close(&fnfd);
	fs_close(&reqfd);
	if (rc == STORE_ERROR)
		goto out;
	rc = STORE_ERROR;
	if (same)
		goto existing;

	/* The slow part (writing and fsyncing) happens outside the lock. */
	if (fs_tmp_name(&st->tmp, name, sizeof(name), err, errlen) == -1)
		goto out;
	have_tmp = 1;
	if (version_build(st, name, src, len, low, &v, err, errlen) !=
	    STORE_OK)
		goto out;
	store_crash_point(st, "version-written");

	/* The project's quotas are checked under its lock, taken before
	 * the function's (always in this order). */
	if (st->quotas.functions > 0 || st->quotas.store_bytes > 0) {
		if (store_project_lock(st, id->project, &projlock, err,
		    errlen) != STORE_OK)
			goto out;
		/* Is this a new function? Checked before anything of it is
		 * created, so that a refusal leaves nothing behind. */
		if ((r = fn_open(st, id, 0, &reqfd, &fnfd, err, errlen)) ==
		    STORE_ERROR)
			goto out;
		if (r == STORE_NOT_FOUND)
			is_new = 1;
		else if ((r = active_read(fnfd, &active, err, errlen)) ==
		    STORE_ERROR)
			goto out;
		else if (r == STORE_NOT_FOUND)
			is_new = !has_versions(fnfd);
		fs_close(&fnfd);
		fs_close(&reqfd);
		if (is_new && (rc = new_fn_quota(st, id->project, len, err,
		    errlen)) != STORE_OK)
			goto out;
		rc = STORE_ERROR;
	}
	if (fn_lock(st, id, 1, &reqfd, &fnfd, &lockfd, err, errlen) !=
	    STORE_OK)
		goto out;
	/* Another writer may have stored the same source meanwhile. */
	if (active_matches(fnfd, &v, &cur, &same, err, errlen) != STORE_OK)
		goto out;
	if (same)
		goto existing;
	if (fs_dir_open(fnfd, VERSIONS_DIR, 1, DIR_MODE, &verfd, err, errlen) !=
	    STORE_OK)
		goto out;
	if ((rc = quota_check(st, id, fnfd, verfd, len, activate, &drop,
	    &ndrop, err, errlen)) != STORE_OK)
		goto out;
	rc = STORE_ERROR;
	if (version_claim(st, verfd, name, &v.version, err, errlen) !=
	    STORE_OK)
		goto out;
	have_tmp = 0;
	if (fs_fsync(verfd) == -1) {
		fs_seterr(err, errlen, "fsync %s: %s", VERSIONS_DIR,
		    strerror(errno));
		goto out;
	}
	store_crash_point(st, "version-renamed");
	/* Still under the lock: the highest claim is activated last, so the
	 * active pointer never goes backwards between concurrent uploads. */
	if (activate && active_write(st, fnfd, v.version, err, errlen) !=
	    STORE_OK)
		goto out;
	/* Stored: what the quota of versions leaves out goes now, still
	 * under the lock so no other upload plans with the same versions. */
	prune(st, verfd, drop, ndrop);
	if (out != NULL)
		*out = v;
	rc = STORE_OK;
	goto out;

existing:
	if (out != NULL)
		*out = cur;
	if (existed != NULL)
		*existed = 1;
	rc = STORE_OK;
out:
	store_gen_bump(st);
	if (have_tmp)
		(void)fs_rm_tree(st->tmp.fd, name, 0);
	free(drop);
	fs_close(&verfd);
	fs_close(&lockfd);
	fs_close(&fnfd);
	fs_close(&reqfd);
	fs_close(&projlock);
	return rc;
}

/* Reads the small file at path beneath the root, the way this handle
 * resolves paths. */
static int
read_beneath(struct store *st, const char *path, size_t max, char **buf,
    size_t *len, char *err, size_t errlen)
{
	return fs_read_beneath(st->rootfd, path, st->resolve, max, buf, len,
	    err, errlen);
}

int
store_get_active(struct store *st, const struct fn_id *id,
    unsigned *version, char *err, size_t errlen)
{
	char	 path[3 * (NAME_MAX_LEN + 1) + 16], *buf = NULL;
	size_t	 len;
	int	 rc = STORE_ERROR;

	if (id_check(id, err, errlen) == -1)
		goto out;
	snprintf(path, sizeof(path), "%s/%s/%s/%s", id->project, id->request,
	    id->fn, ACTIVE_FILE);
	rc = read_beneath(st, path, ACTIVE_MAX, &buf, &len, err, errlen);
	if (rc == STORE_OK)
		rc = active_parse(buf, len, version, err, errlen);
out:
	free(buf);
	return rc;
}

/* The path of versions/<version>/<file> of id, beneath the root. */
static void
version_path(char *path, size_t size, const struct fn_id *id,
    unsigned version, const char *file)
{
	snprintf(path, size, "%s/%s/%s/%s/%u/%s", id->project, id->request,
	    id->fn, VERSIONS_DIR, version, file);
}

int
store_get_version(struct store *st, const struct fn_id *id,
    unsigned version, struct store_version *out, char *err, size_t errlen)
{
	char	path[3 * (NAME_MAX_LEN + 1) + 64], *buf = NULL;
	size_t	len;
	int	rc = STORE_ERROR;

	if ((rc = version_check(id, version, err, errlen)) != STORE_OK)
		goto out;
	version_path(path, sizeof(path), id, version, META_FILE);
	rc = read_beneath(st, path, META_MAX, &buf, &len, err, errlen);
	if (rc == STORE_OK)
		rc = meta_decode(buf, len, version, out, err, errlen);
out:
	free(buf);
	return rc;
}

int
store_read_source(struct store *st, const struct fn_id *id,
    unsigned version, char **src, size_t *len, char *err, size_t errlen)
{
	char	path[3 * (NAME_MAX_LEN + 1) + 64];
	int	rc;

	if ((rc = version_check(id, version, err, errlen)) != STORE_OK)
		return rc;
	version_path(path, sizeof(path), id, version, SOURCE_FILE);
	return read_beneath(st, path, SIZE_MAX - 1, src, len, err, errlen);
}

int
store_read_run(struct store *st, const struct fn_id *id,
    const struct store_version *v, char **code, size_t *len, char **lines,
    size_t *lines_len, char *err, size_t errlen)
{
	char	path[3 * (NAME_MAX_LEN + 1) + 64];
	int	rc;

	*lines = NULL;
	*lines_len = 0;
	if (v->run_sha256[0] == '\0')
		return code == NULL ? STORE_OK : store_read_source(st, id,
		    v->version, code, len, err, errlen);
	if ((rc = version_check(id, v->version, err, errlen)) != STORE_OK)
		return rc;
	version_path(path, sizeof(path), id, v->version, RUN_FILE);
	if (code != NULL && (rc = read_beneath(st, path, SIZE_MAX - 1, code,
	    len, err, errlen)) != STORE_OK)
		return rc;
	version_path(path, sizeof(path), id, v->version, LINES_FILE);
	if ((rc = read_beneath(st, path, SIZE_MAX - 1, lines, lines_len, err,
	    errlen)) != STORE_OK && code != NULL) {
		free(*code);
		*code = NULL;
	}
	return rc;
}

int
store_set_active(struct store *st, const struct fn_id *id,
    unsigned version, char *err, size_t errlen)
{
	struct store_version	 v;
	int			 reqfd = -1, fnfd = -1, lockfd = -1;
	int			 verfd = -1, rc = STORE_ERROR;

	if ((rc = version_check(id, version, err, errlen)) != STORE_OK)
		goto out;
	if ((rc = fn_lock(st, id, 0, &reqfd, &fnfd, &lockfd, err, errlen)) !=
	    STORE_OK)
		goto out;
	if ((rc = fs_dir_open(fnfd, VERSIONS_DIR, 0, 0, &verfd, err, errlen)) !=
	    STORE_OK)
		goto out;
	/* Only a complete version (one with readable meta) can be active. */
	if ((rc = version_read(verfd, version, &v, err, errlen)) != STORE_OK)
		goto out;
	rc = active_write(st, fnfd, version, err, errlen);
	store_gen_bump(st);
out:
	fs_close(&verfd);
	fs_close(&lockfd);
	fs_close(&fnfd);
	fs_close(&reqfd);
	return rc;
}

static int
cmp_version(const void *a, const void *b)
{
	const struct store_version	*x = a, *y = b;

	return (x->version > y->version) - (x->version < y->version);
}

/* What store_list_versions gathers through versions_each. */
struct version_list {
	int			 verfd;
	struct store_version	*list;
	size_t			 count, cap;
	char			*err;
	size_t			 errlen;
};

/* versions_each callback: appends version n to the version_list arg. */
static int
version_add(unsigned n, void *arg)
{
	struct version_list	*vl = arg;
	struct store_version	*nlist, v;

	/* A version without readable meta is not a version. */
	if (version_read(vl->verfd, n, &v, NULL, 0) != STORE_OK)
		return 0;
	if ((nlist = store_grow(vl->list, vl->count, &vl->cap, sizeof(*nlist),
	    vl->err, vl->errlen)) == NULL)
		return STORE_ERROR;
	vl->list = nlist;
	vl->list[vl->count++] = v;
	return 0;
}

int
store_list_versions(struct store *st, const struct fn_id *id,
    struct store_version **out, size_t *n, unsigned *active, char *err,
    size_t errlen)
{
	struct version_list	 vl;
	int			 reqfd = -1, fnfd = -1, rc = STORE_ERROR;

	memset(&vl, 0, sizeof(vl));
	vl.verfd = -1;
	vl.err = err;
	vl.errlen = errlen;
	*out = NULL;
	*n = 0;
	*active = 0;
	if (id_check(id, err, errlen) == -1)
		goto out;
	if ((rc = fn_open(st, id, 0, &reqfd, &fnfd, err, errlen)) !=
	    STORE_OK)
		goto out;
	/* No active version leaves *active at 0. */
	if ((rc = active_read(fnfd, active, err, errlen)) == STORE_ERROR)
		goto out;
	rc = fs_dir_open(fnfd, VERSIONS_DIR, 0, 0, &vl.verfd, err, errlen);
	if (rc == STORE_NOT_FOUND) {	/* none claimed yet */
		rc = STORE_OK;
		goto out;
	}
	if (rc != STORE_OK)
		goto out;
	if ((rc = versions_each(vl.verfd, version_add, &vl, err, errlen)) !=
	    STORE_OK)
		goto out;
	if (vl.count > 0)
		qsort(vl.list, vl.count, sizeof(*vl.list), cmp_version);
	*out = vl.list;
	*n = vl.count;
	vl.list = NULL;
	rc = STORE_OK;
out:
	free(vl.list);
	fs_close(&vl.verfd);
	fs_close(&fnfd);
	fs_close(&reqfd);
	return rc;
}

int
store_delete_fn(struct store *st, const struct fn_id *id, char *err,
    size_t errlen)
{
	char	name[FS_TMPNAME_LEN];
	int	reqfd = -1, fnfd = -1, lockfd = -1, moved = 0;
	int	rc = STORE_ERROR;

	if (id_check(id, err, errlen) == -1)
		goto out;
	if (fs_tmp_name(&st->tmp, name, sizeof(name), err, errlen) == -1)
		goto out;
	/* Under the lock, so no upload is half-way through claiming. */
	if ((rc = fn_lock(st, id, 0, &reqfd, &fnfd, &lockfd, err, errlen)) !=
	    STORE_OK)
		goto out;
	rc = STORE_ERROR;
	if (renameat(reqfd, id->fn, st->trashfd, name) == -1) {
		if (errno == ENOENT)
			rc = STORE_NOT_FOUND;
		else
			fs_seterr(err, errlen, "rename %s to %s: %s", id->fn,
			    TRASH_DIR, strerror(errno));
		goto out;
	}
	moved = 1;
	if (fs_fsync(reqfd) == -1 || fs_fsync(st->trashfd) == -1) {
		fs_seterr(err, errlen, "fsync after delete: %s",
		    strerror(errno));
		goto out;
	}
	rc = STORE_OK;
out:
	if (moved)
		store_gen_bump(st);
	fs_close(&lockfd);
	fs_close(&fnfd);
	fs_close(&reqfd);
	/* Gone from the store once renamed: what removal cannot finish,
	 * store_open sweeps later. */
	if (moved)
		(void)fs_rm_tree(st->trashfd, name, 0);
	return rc;
}

static int
cmp_project(const void *a, const void *b)
{
	const struct store_project	*x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Does the project have a function, an environment variable or a setting
 * (SPEC §7: an egress list, limits other than the defaults)? A
 * project directory outlives its last function and variable (deleting
 * either leaves the empty directories behind), so its presence alone
 * says nothing. */
static int
project_in_use(struct store *st, const char *project, int *in_use, char *err,
    size_t errlen)
{
	struct store_fn		*fns = NULL;
	struct store_env_var	*vars = NULL;
	size_t			 nfns = 0, nvars = 0;
	int			 rc;

	*in_use = 0;
	if ((rc = store_list_fns(st, project, &fns, &nfns, err, errlen)) !=
	    STORE_OK)
		goto out;
	if (nfns == 0 && (rc = store_env_list(st, project, 0, &vars, &nvars,
	    err, errlen)) != STORE_OK)
		goto out;
	*in_use = nfns > 0 || nvars > 0;
	if (!*in_use)
		rc = store_project_has_settings(st, project, in_use, err,
		    errlen);
out:
	free(fns);
	store_env_free(vars, nvars);
	return rc;
}

int
store_list_projects(struct store *st, struct store_project **out, size_t *n,
    char *err, size_t errlen)
{
	struct store_project	*list = NULL, *nlist;
	struct dirent		*de;
	DIR			*d = NULL;
	size_t			 count = 0, cap = 0;
	int			 in_use, rc = STORE_ERROR;

	*out = NULL;
	*n = 0;
	if ((d = fs_dir_stream(st->rootfd, "store root", err, errlen)) == NULL)
		goto out;
	/* The dot entries (.tmp, .trash) fail is_name_dir. */
	while ((de = readdir(d)) != NULL) {
		if (!is_name_dir(st->rootfd, de->d_name))
			continue;
		if (project_in_use(st, de->d_name, &in_use, err, errlen) !=
		    STORE_OK)
			goto out;
		if (!in_use)
			continue;
		if ((nlist = store_grow(list, count, &cap, sizeof(*list), err,
		    errlen)) == NULL)
			goto out;
		list = nlist;
		memset(&list[count], 0, sizeof(*list));
		/* is_name_dir checked it with name_valid: it fits. */
		memcpy(list[count].name, de->d_name, strlen(de->d_name));
		count++;
	}
	if (count > 0)
		qsort(list, count, sizeof(*list), cmp_project);
	*out = list;
	*n = count;
	list = NULL;
	rc = STORE_OK;
out:
	free(list);
	if (d != NULL)
		closedir(d);
	return rc;
}
