/*
 * store.c - the on-disk store (SPEC §8): the layout described in store.h,
 * atomic writes, version claims, active pointers and project environments.
 *
 * Every path is one validated name at a time, opened relative to a
 * directory fd with O_NOFOLLOW, so the store never follows a symlink and
 * never builds a path from unchecked input. Nothing is rewritten in place:
 * every change is a complete temporary file or directory under .tmp that
 * is fsynced, renamed into place, and made durable by fsyncing the
 * destination directory. Readers take no lock; writers of one function
 * serialise the version claim and the active pointer with flock() on its
 * .lock file. This file never logs: detail goes to the caller's err.
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "names.h"
#include "store.h"
#include "store_format.h"

#define TMP_DIR		".tmp"
#define TRASH_DIR	".trash"
#define ENV_DIR		".env"
#define LOCK_FILE	".lock"
#define ACTIVE_FILE	"active"
#define VERSIONS_DIR	"versions"
#define SOURCE_FILE	"source.js"
#define META_FILE	"meta"

#define DIR_MODE	0755
#define FILE_MODE	0644
#define ENV_DIR_MODE	0700
#define ENV_FILE_MODE	0600

#define LEFTOVER_AGE	3600	/* seconds before .tmp/.trash entries go */
#define TMPNAME_LEN	64
#define META_MAX	1024	/* a meta file is a few short lines */
#define ACTIVE_MAX	16	/* "4294967295\n" fits */
#define CLAIM_TRIES	1000	/* version numbers tried before giving up */
#define RELOCK_TRIES	16	/* function dir replaced under us this often */
#define OPEN_TRIES	4
#define RM_DEPTH	16	/* the deepest tree is <fn>/versions/<N>/file */

#define O_DIR_FLAGS	(O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

struct store {
	int		 rootfd;
	int		 tmpfd;
	int		 trashfd;
	atomic_ulong	 counter;	/* part of every temporary name */
	void		(*crash_hook)(const char *);
};

static void	seterr(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void
crash_point(struct store *st, const char *point)
{
	if (st->crash_hook != NULL)
		st->crash_hook(point);
}

static void
close_fd(int *fd)
{
	if (*fd != -1) {
		close(*fd);
		*fd = -1;
	}
}

static int
write_all(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
fsync_fd(int fd)
{
	while (fsync(fd) == -1)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* Reads fd to its end into a malloc'd, NUL-terminated buffer. More than max
 * bytes is EFBIG. */
static int
read_all(int fd, size_t max, char **out, size_t *outlen)
{
	struct stat	 sb;
	char		*buf = NULL, *nbuf;
	size_t		 cap, len = 0;
	ssize_t		 n;
	int		 rc = -1;

	cap = 256;
	if (fstat(fd, &sb) == 0 && sb.st_size > 0 &&
	    (uintmax_t)sb.st_size < (uintmax_t)max)
		cap = (size_t)sb.st_size + 1;
	if ((buf = malloc(cap)) == NULL)
		goto out;
	for (;;) {
		if (len + 1 >= cap) {
			if (cap > max) {
				errno = EFBIG;
				goto out;
			}
			cap *= 2;
			if ((nbuf = realloc(buf, cap)) == NULL)
				goto out;
			buf = nbuf;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			errno = EFBIG;
			goto out;
		}
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	return rc;
}

/* Makes room for one more element in list, which holds count of *cap
 * elements of size bytes; doubling keeps appends linear. Returns the
 * (perhaps moved) list, or NULL with err filled and list untouched, still
 * the caller's to free. */
static void *
grow(void *list, size_t count, size_t *cap, size_t size, char *err,
    size_t errlen)
{
	void	*nlist;
	size_t	 ncap;

	if (count < *cap)
		return list;
	ncap = *cap ? *cap * 2 : 8;
	if ((nlist = reallocarray(list, ncap, size)) == NULL) {
		seterr(err, errlen, "realloc: %s", strerror(errno));
		return NULL;
	}
	*cap = ncap;
	return nlist;
}

/* Reads name under dfd, never through a symlink, into a malloc'd buffer
 * as read_all does; what names the file in err. STORE_NOT_FOUND if it is
 * absent. */
static int
file_read(int dfd, const char *name, const char *what, size_t max,
    char **buf, size_t *len, char *err, size_t errlen)
{
	int	fd = -1, rc = STORE_ERROR;

	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1) {
		if (errno == ENOENT)
			rc = STORE_NOT_FOUND;
		else
			seterr(err, errlen, "open %s: %s", what,
			    strerror(errno));
		goto out;
	}
	if (read_all(fd, max, buf, len) == -1) {
		seterr(err, errlen, "read %s: %s", what, strerror(errno));
		goto out;
	}
	rc = STORE_OK;
out:
	close_fd(&fd);
	return rc;
}

/*
 * Opens path, relative to dfd, in one system call with the guarantees the
 * component-by-component O_NOFOLLOW walk gives: no symbolic link anywhere
 * on the path and no escape from dfd (openat2 RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS). The invocation path reads three store entries per
 * call; one syscall each instead of a walk keeps that cheap. Returns the
 * fd, or -1 with errno; ENOSYS when the kernel predates openat2 (5.6), in
 * which case callers walk instead.
 */
static int
open_beneath(int dfd, const char *path, int flags)
{
#ifdef SYS_openat2
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(flags | O_CLOEXEC);
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
	    RESOLVE_NO_MAGICLINKS;
	return (int)syscall(SYS_openat2, dfd, path, &how, sizeof(how));
#else
	(void)dfd;
	(void)path;
	(void)flags;
	errno = ENOSYS;
	return -1;
#endif
}

/* Reads a small file at path beneath the root. Returns STORE_OK with a
 * malloc'd buffer, STORE_NOT_FOUND, STORE_ERROR, or -2 when openat2 is
 * unavailable. */
static int
read_beneath(struct store *st, const char *path, size_t max, char **buf,
    size_t *len, char *err, size_t errlen)
{
	int	fd, rc = STORE_OK;

	if ((fd = open_beneath(st->rootfd, path, O_RDONLY)) == -1) {
		if (errno == ENOSYS)
			return -2;
		if (errno == ENOENT || errno == ENOTDIR)
			return STORE_NOT_FOUND;
		seterr(err, errlen, "open %s: %s", path, strerror(errno));
		return STORE_ERROR;
	}
	if (read_all(fd, max, buf, len) == -1) {
		seterr(err, errlen, "read %s: %s", path, strerror(errno));
		rc = STORE_ERROR;
	}
	close(fd);
	return rc;
}

/* The content of "active" as active_write leaves it: "N\n". */
static int
active_parse(const char *buf, size_t len, unsigned *version, char *err,
    size_t errlen)
{
	if (store_format_active(buf, len, version) == -1) {
		seterr(err, errlen, "%s: malformed", ACTIVE_FILE);
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
	seterr(err, errlen, "invalid function name");
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

/* Like id_check, for the calls that take a project alone. */
static int
project_check(const char *project, char *err, size_t errlen)
{
	if (project != NULL && name_valid(project, strlen(project)))
		return 0;
	seterr(err, errlen, "invalid project name");
	return -1;
}

/* Lower-case hex of in[0..n) into hex, NUL-terminated (2n + 1 bytes). */
static void
hex_encode(const unsigned char *in, size_t n, char *hex)
{
	static const char	digits[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < n; i++) {
		hex[i * 2] = digits[in[i] >> 4];
		hex[i * 2 + 1] = digits[in[i] & 0xf];
	}
	hex[n * 2] = '\0';
}

/* The version identity: lower-case hex SHA-256 of src[0..len). */
static int
sha256_hex(const char *src, size_t len, char hex[65])
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0;

	if (EVP_Digest(src != NULL ? src : "", len, md, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen != 32)
		return -1;
	hex_encode(md, mdlen, hex);
	return 0;
}

/* Fills hex (size bytes, NUL included) with random lower-case hex. */
static int
random_hex(char *hex, size_t size)
{
	unsigned char	rnd[32];
	size_t		n = (size - 1) / 2;

	if (n > sizeof(rnd) || RAND_bytes(rnd, (int)n) != 1)
		return -1;
	hex_encode(rnd, n, hex);
	return 0;
}

/* A name unique across threads, processes and restarts: pid, a per-handle
 * counter and 64 random bits. */
static int
tmp_name(struct store *st, char *buf, size_t len, char *err, size_t errlen)
{
	char		hex[8 * 2 + 1];
	unsigned long	n;

	if (random_hex(hex, sizeof(hex)) == -1) {
		seterr(err, errlen, "RAND_bytes failed");
		return -1;
	}
	n = atomic_fetch_add(&st->counter, 1);
	snprintf(buf, len, "%ld.%lu.%s", (long)getpid(), n, hex);
	return 0;
}

/* Opens the directory name under parent, creating it with mode when create
 * is set (and fsyncing parent so the new entry survives a crash). */
static int
dir_open(int parent, const char *name, int create, mode_t mode, int *out,
    char *err, size_t errlen)
{
	int	fd = -1, created = 0, tries, rc = STORE_ERROR;

	*out = -1;
	for (tries = 0; tries < OPEN_TRIES; tries++) {
		if ((fd = openat(parent, name, O_DIR_FLAGS)) != -1)
			break;
		if (errno != ENOENT) {
			seterr(err, errlen, "open %s: %s", name,
			    strerror(errno));
			goto out;
		}
		if (!create) {
			rc = STORE_NOT_FOUND;
			goto out;
		}
		if (mkdirat(parent, name, mode) == 0)
			created = 1;
		else if (errno != EEXIST) {
			seterr(err, errlen, "mkdir %s: %s", name,
			    strerror(errno));
			goto out;
		}
	}
	if (fd == -1) {
		seterr(err, errlen, "open %s: keeps disappearing", name);
		goto out;
	}
	if (created && fsync_fd(parent) == -1) {
		seterr(err, errlen, "fsync parent of %s: %s", name,
		    strerror(errno));
		goto out;
	}
	*out = fd;
	fd = -1;
	rc = STORE_OK;
out:
	close_fd(&fd);
	return rc;
}

/* A fresh directory stream on dfd (its own offset, so it can be read
 * more than once), or NULL with err filled naming the directory what. The
 * caller closedir()s it. */
static DIR *
dir_stream(int dfd, const char *what, char *err, size_t errlen)
{
	DIR	*d = NULL;
	int	 fd;

	if ((fd = openat(dfd, ".", O_DIR_FLAGS)) == -1)
		goto out;
	if ((d = fdopendir(fd)) == NULL)
		close(fd);
out:
	if (d == NULL)
		seterr(err, errlen, "open %s: %s", what, strerror(errno));
	return d;
}

/* Removes name under dfd, recursively, never following a symlink. */
static int
rm_tree(int dfd, const char *name, int depth)
{
	struct stat	 sb;
	struct dirent	*de;
	DIR		*d = NULL;
	int		 fd = -1, rc = -1;

	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == -1) {
		rc = errno == ENOENT ? 0 : -1;
		goto out;
	}
	if (!S_ISDIR(sb.st_mode)) {
		rc = unlinkat(dfd, name, 0) == -1 && errno != ENOENT ? -1 : 0;
		goto out;
	}
	if (depth >= RM_DEPTH) {
		errno = ELOOP;
		goto out;
	}
	if ((fd = openat(dfd, name, O_DIR_FLAGS)) == -1)
		goto out;
	if ((d = fdopendir(fd)) == NULL)
		goto out;
	fd = -1;
	rc = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (rm_tree(dirfd(d), de->d_name, depth + 1) == -1)
			rc = -1;
	}
	if (unlinkat(dfd, name, AT_REMOVEDIR) == -1 && errno != ENOENT)
		rc = -1;
out:
	if (d != NULL)
		closedir(d);
	close_fd(&fd);
	return rc;
}

/* Best effort: removes what a crashed or killed writer left behind. An
 * hour is far longer than any write, so nothing in progress is touched. */
static void
sweep(int dfd)
{
	struct stat	 sb;
	struct dirent	*de;
	DIR		*d;
	time_t		 now = time(NULL);

	if ((d = dir_stream(dfd, ".", NULL, 0)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		if (now - sb.st_mtime > LEFTOVER_AGE)
			(void)rm_tree(dfd, de->d_name, 0);
	}
	closedir(d);
}

/* Creates name under dfd (which must not exist) with exactly data and
 * mode, and fsyncs it. */
static int
file_create(int dfd, const char *name, const void *data, size_t len,
    mode_t mode, char *err, size_t errlen)
{
	int	fd = -1, rc = STORE_ERROR;

	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode);
	if (fd == -1) {
		seterr(err, errlen, "create %s: %s", name, strerror(errno));
		goto out;
	}
	/* The umask must not loosen or tighten what the layout promises. */
	if (fchmod(fd, mode) == -1 || write_all(fd, data, len) == -1 ||
	    fsync_fd(fd) == -1) {
		seterr(err, errlen, "write %s: %s", name, strerror(errno));
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		seterr(err, errlen, "close %s: %s", name, strerror(errno));
		goto out;
	}
	fd = -1;
	rc = STORE_OK;
out:
	close_fd(&fd);
	return rc;
}

/* Writes a complete file under .tmp, durable there: the caller renames it
 * into place. *created tells the caller to remove it on failure. */
static int
tmp_file(struct store *st, char *name, size_t namelen, const void *data,
    size_t len, mode_t mode, int *created, char *err, size_t errlen)
{
	*created = 0;
	if (tmp_name(st, name, namelen, err, errlen) == -1)
		return STORE_ERROR;
	*created = 1;
	if (file_create(st->tmpfd, name, data, len, mode, err, errlen) !=
	    STORE_OK)
		return STORE_ERROR;
	if (fsync_fd(st->tmpfd) == -1) {
		seterr(err, errlen, "fsync %s: %s", TMP_DIR, strerror(errno));
		return STORE_ERROR;
	}
	return STORE_OK;
}

/* rename(2) that never replaces: an existing target, even an empty
 * directory, is EEXIST. Falls back to renameat where renameat2 is not
 * supported; that still fails on a non-empty target. */
static int
rename_noreplace(int ofd, const char *oname, int nfd, const char *nname)
{
	if (renameat2(ofd, oname, nfd, nname, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	return renameat(ofd, oname, nfd, nname);
}

/* Opens <project>/<request>/<fn>, creating the chain when create is set. */
static int
fn_open(struct store *st, const struct fn_id *id, int create, int *reqfd,
    int *fnfd, char *err, size_t errlen)
{
	int	projfd = -1, rfd = -1, ffd = -1, rc;

	*reqfd = *fnfd = -1;
	rc = dir_open(st->rootfd, id->project, create, DIR_MODE, &projfd, err,
	    errlen);
	if (rc != STORE_OK)
		goto out;
	rc = dir_open(projfd, id->request, create, DIR_MODE, &rfd, err,
	    errlen);
	if (rc != STORE_OK)
		goto out;
	rc = dir_open(rfd, id->fn, create, DIR_MODE, &ffd, err, errlen);
	if (rc != STORE_OK)
		goto out;
	*reqfd = rfd;
	*fnfd = ffd;
	rfd = ffd = -1;
out:
	close_fd(&ffd);
	close_fd(&rfd);
	close_fd(&projfd);
	return rc;
}

/* Opens <project>/<request>/<fn>/versions for reading. STORE_NOT_FOUND if
 * the function or its versions directory is absent. */
static int
versions_open(struct store *st, const struct fn_id *id, int *verfd,
    char *err, size_t errlen)
{
	int	reqfd = -1, fnfd = -1, rc;

	*verfd = -1;
	if ((rc = fn_open(st, id, 0, &reqfd, &fnfd, err, errlen)) == STORE_OK)
		rc = dir_open(fnfd, VERSIONS_DIR, 0, 0, verfd, err, errlen);
	close_fd(&fnfd);
	close_fd(&reqfd);
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
		rc = STORE_ERROR;
		lfd = openat(ffd, LOCK_FILE, O_RDONLY | O_CREAT | O_NOFOLLOW |
		    O_CLOEXEC, FILE_MODE);
		if (lfd == -1 && errno == ENOENT) {
			/* Deleted and already being removed: start again. */
			close_fd(&ffd);
			close_fd(&rfd);
			continue;
		}
		if (lfd == -1) {
			seterr(err, errlen, "open %s: %s", LOCK_FILE,
			    strerror(errno));
			goto out;
		}
		while (flock(lfd, LOCK_EX) == -1) {
			if (errno != EINTR) {
				seterr(err, errlen, "flock: %s",
				    strerror(errno));
				goto out;
			}
		}
		if (fstat(ffd, &held) == -1) {
			seterr(err, errlen, "fstat %s: %s", id->fn,
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
			seterr(err, errlen, "stat %s: %s", id->fn,
			    strerror(errno));
			goto out;
		}
		close_fd(&lfd);
		close_fd(&ffd);
		close_fd(&rfd);
	}
	rc = STORE_ERROR;
	seterr(err, errlen, "%s: replaced too often while locking", id->fn);
out:
	close_fd(&lfd);
	close_fd(&ffd);
	close_fd(&rfd);
	return rc;
}

static int
active_read(int fnfd, unsigned *version, char *err, size_t errlen)
{
	char	*buf = NULL;
	size_t	 len;
	int	 rc;

	rc = file_read(fnfd, ACTIVE_FILE, ACTIVE_FILE, ACTIVE_MAX, &buf, &len,
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
	char	name[TMPNAME_LEN], buf[32];
	int	len, created = 0, rc = STORE_ERROR;

	len = snprintf(buf, sizeof(buf), "%u\n", version);
	if (tmp_file(st, name, sizeof(name), buf, (size_t)len, FILE_MODE,
	    &created, err, errlen) != STORE_OK)
		goto out;
	crash_point(st, "active-written");
	if (renameat(st->tmpfd, name, fnfd, ACTIVE_FILE) == -1) {
		seterr(err, errlen, "rename %s: %s", ACTIVE_FILE,
		    strerror(errno));
		goto out;
	}
	created = 0;
	if (fsync_fd(fnfd) == -1) {
		seterr(err, errlen, "fsync function dir: %s", strerror(errno));
		goto out;
	}
	crash_point(st, "active-renamed");
	rc = STORE_OK;
out:
	if (created)
		(void)unlinkat(st->tmpfd, name, 0);
	return rc;
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
		seterr(err, errlen, "version %u meta: malformed", version);
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
	if ((rc = dir_open(verfd, num, 0, 0, &vfd, err, errlen)) != STORE_OK)
		goto out;
	snprintf(label, sizeof(label), "version %u %s", version, what);
	rc = file_read(vfd, file, label, max, buf, len, err, errlen);
out:
	close_fd(&vfd);
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
	rc = dir_open(fnfd, VERSIONS_DIR, 0, 0, &verfd, err, errlen);
	if (rc != STORE_OK)
		goto out;
	rc = version_read(verfd, active, cur, err, errlen);
	if (rc != STORE_OK)
		goto out;
	*same = strcmp(cur->sha256, want->sha256) == 0 &&
	    cur->limits.timeout_ms == want->limits.timeout_ms &&
	    cur->limits.memory_mb == want->limits.memory_mb &&
	    cur->limits.per_call == want->limits.per_call;
out:
	close_fd(&verfd);
	/* No active version (or a dangling one) simply does not match. */
	return rc == STORE_NOT_FOUND ? STORE_OK : rc;
}

/* Builds the complete version as .tmp/<name>/{source.js,meta}, durable. */
static int
version_build(struct store *st, const char *name, const char *src,
    size_t len, const struct store_version *v, char *err, size_t errlen)
{
	char	meta[META_MAX];
	int	dfd = -1, mlen, rc = STORE_ERROR;

	if (mkdirat(st->tmpfd, name, DIR_MODE) == -1) {
		seterr(err, errlen, "mkdir %s/%s: %s", TMP_DIR, name,
		    strerror(errno));
		goto out;
	}
	if ((dfd = openat(st->tmpfd, name, O_DIR_FLAGS)) == -1) {
		seterr(err, errlen, "open %s/%s: %s", TMP_DIR, name,
		    strerror(errno));
		goto out;
	}
	if (file_create(dfd, SOURCE_FILE, src != NULL ? src : "", len,
	    FILE_MODE, err, errlen) != STORE_OK)
		goto out;
	mlen = snprintf(meta, sizeof(meta),
	    "sha256=%s\nsize=%zu\ncreated_at=%lld\ntimeout_ms=%u\n"
	    "memory_mb=%u\nisolation=%s\nuid=%s\n", v->sha256, v->size,
	    (long long)v->created_at, v->limits.timeout_ms,
	    v->limits.memory_mb, v->limits.per_call ? "per-call" : "warm",
	    v->uid);
	if (file_create(dfd, META_FILE, meta, (size_t)mlen, FILE_MODE, err,
	    errlen) != STORE_OK)
		goto out;
	if (fsync_fd(dfd) == -1) {
		seterr(err, errlen, "fsync %s/%s: %s", TMP_DIR, name,
		    strerror(errno));
		goto out;
	}
	rc = STORE_OK;
out:
	close_fd(&dfd);
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

	if ((d = dir_stream(verfd, VERSIONS_DIR, err, errlen)) == NULL)
		goto out;
	for (;;) {
		/* NULL is also the end: only errno tells a failure. */
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0) {
				seterr(err, errlen, "read %s: %s",
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
			seterr(err, errlen, "out of version numbers");
			return STORE_ERROR;
		}
		snprintf(num, sizeof(num), "%u", max + 1);
		if (rename_noreplace(st->tmpfd, name, verfd, num) == 0) {
			*version = max + 1;
			return STORE_OK;
		}
		if (errno != EEXIST && errno != ENOTEMPTY) {
			seterr(err, errlen, "rename to %s/%s: %s",
			    VERSIONS_DIR, num, strerror(errno));
			return STORE_ERROR;
		}
	}
	seterr(err, errlen, "no free version number after %d tries",
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

	if (dir_open(fnfd, VERSIONS_DIR, 0, 0, &verfd, NULL, 0) == STORE_OK)
		found = versions_each(verfd, version_found, NULL, NULL, 0) ==
		    1;
	close_fd(&verfd);
	return found;
}

struct store *
store_open(const char *root, char *err, size_t errlen)
{
	struct store	*st;
	int		 ok = 0;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		seterr(err, errlen, "calloc: %s", strerror(errno));
		return NULL;
	}
	st->rootfd = st->tmpfd = st->trashfd = -1;
	atomic_init(&st->counter, 0);
	if (mkdir(root, DIR_MODE) == -1 && errno != EEXIST) {
		seterr(err, errlen, "mkdir %s: %s", root, strerror(errno));
		goto out;
	}
	/* The root itself may be a symlink the operator chose. */
	if ((st->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		seterr(err, errlen, "open %s: %s", root, strerror(errno));
		goto out;
	}
	if (dir_open(st->rootfd, TMP_DIR, 1, DIR_MODE, &st->tmpfd, err,
	    errlen) != STORE_OK)
		goto out;
	if (dir_open(st->rootfd, TRASH_DIR, 1, DIR_MODE, &st->trashfd, err,
	    errlen) != STORE_OK)
		goto out;
	sweep(st->tmpfd);
	sweep(st->trashfd);
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
	close_fd(&st->trashfd);
	close_fd(&st->tmpfd);
	close_fd(&st->rootfd);
	free(st);
}

void
store_set_crash_hook(struct store *st, void (*hook)(const char *point))
{
	st->crash_hook = hook;
}

int
store_write_version(struct store *st, const struct fn_id *id,
    const char *src, size_t len, const struct store_limits *limits,
    int activate, struct store_version *out, int *existed, char *err,
    size_t errlen)
{
	struct store_version	 v, cur;
	char			 name[TMPNAME_LEN];
	int			 reqfd = -1, fnfd = -1, lockfd = -1, verfd = -1;
	int			 have_tmp = 0, same = 0, rc = STORE_ERROR;

	if (existed != NULL)
		*existed = 0;
	if (id_check(id, err, errlen) == -1)
		goto out;
	memset(&v, 0, sizeof(v));
	memset(&cur, 0, sizeof(cur));
	if (sha256_hex(src, len, v.sha256) == -1) {
		seterr(err, errlen, "sha256 failed");
		goto out;
	}
	v.size = len;
	v.created_at = time(NULL);
	if (limits != NULL)
		v.limits = *limits;
	if (random_hex(v.uid, sizeof(v.uid)) == -1) {
		seterr(err, errlen, "RAND_bytes failed");
		goto out;
	}

	/* A re-upload of the active version writes nothing at all. */
	rc = fn_open(st, id, 0, &reqfd, &fnfd, err, errlen);
	if (rc == STORE_OK)
		rc = active_matches(fnfd, &v, &cur, &same, err, errlen);
	close_fd(&fnfd);
	close_fd(&reqfd);
	if (rc == STORE_ERROR)
		goto out;
	rc = STORE_ERROR;
	if (same)
		goto existing;

	/* The slow part (writing and fsyncing) happens outside the lock. */
	if (tmp_name(st, name, sizeof(name), err, errlen) == -1)
		goto out;
	have_tmp = 1;
	if (version_build(st, name, src, len, &v, err, errlen) != STORE_OK)
		goto out;
	crash_point(st, "version-written");

	if (fn_lock(st, id, 1, &reqfd, &fnfd, &lockfd, err, errlen) !=
	    STORE_OK)
		goto out;
	/* Another writer may have stored the same source meanwhile. */
	if (active_matches(fnfd, &v, &cur, &same, err, errlen) != STORE_OK)
		goto out;
	if (same)
		goto existing;
	if (dir_open(fnfd, VERSIONS_DIR, 1, DIR_MODE, &verfd, err, errlen) !=
	    STORE_OK)
		goto out;
	if (version_claim(st, verfd, name, &v.version, err, errlen) !=
	    STORE_OK)
		goto out;
	have_tmp = 0;
	if (fsync_fd(verfd) == -1) {
		seterr(err, errlen, "fsync %s: %s", VERSIONS_DIR,
		    strerror(errno));
		goto out;
	}
	crash_point(st, "version-renamed");
	/* Still under the lock: the highest claim is activated last, so the
	 * active pointer never goes backwards between concurrent uploads. */
	if (activate && active_write(st, fnfd, v.version, err, errlen) !=
	    STORE_OK)
		goto out;
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
	if (have_tmp)
		(void)rm_tree(st->tmpfd, name, 0);
	close_fd(&verfd);
	close_fd(&lockfd);
	close_fd(&fnfd);
	close_fd(&reqfd);
	return rc;
}

int
store_get_active(struct store *st, const struct fn_id *id,
    unsigned *version, char *err, size_t errlen)
{
	char	 path[3 * (NAME_MAX_LEN + 1) + 16], *buf = NULL;
	size_t	 len;
	int	 reqfd = -1, fnfd = -1, rc = STORE_ERROR;

	if (id_check(id, err, errlen) == -1)
		goto out;
	snprintf(path, sizeof(path), "%s/%s/%s/%s", id->project, id->request,
	    id->fn, ACTIVE_FILE);
	rc = read_beneath(st, path, ACTIVE_MAX, &buf, &len, err, errlen);
	if (rc == STORE_OK) {
		rc = active_parse(buf, len, version, err, errlen);
		goto out;
	}
	if (rc != -2)
		goto out;
	if ((rc = fn_open(st, id, 0, &reqfd, &fnfd, err, errlen)) !=
	    STORE_OK)
		goto out;
	rc = active_read(fnfd, version, err, errlen);
out:
	free(buf);
	close_fd(&fnfd);
	close_fd(&reqfd);
	return rc;
}

int
store_get_version(struct store *st, const struct fn_id *id,
    unsigned version, struct store_version *out, char *err, size_t errlen)
{
	char	path[3 * (NAME_MAX_LEN + 1) + 64], *buf = NULL;
	size_t	len;
	int	verfd = -1, rc = STORE_ERROR;

	if ((rc = version_check(id, version, err, errlen)) != STORE_OK)
		goto out;
	snprintf(path, sizeof(path), "%s/%s/%s/%s/%u/%s", id->project,
	    id->request, id->fn, VERSIONS_DIR, version, META_FILE);
	rc = read_beneath(st, path, META_MAX, &buf, &len, err, errlen);
	if (rc == STORE_OK) {
		rc = meta_decode(buf, len, version, out, err, errlen);
		goto out;
	}
	if (rc != -2)
		goto out;
	if ((rc = versions_open(st, id, &verfd, err, errlen)) != STORE_OK)
		goto out;
	rc = version_read(verfd, version, out, err, errlen);
out:
	free(buf);
	close_fd(&verfd);
	return rc;
}

int
store_read_source(struct store *st, const struct fn_id *id,
    unsigned version, char **src, size_t *len, char *err, size_t errlen)
{
	int	verfd = -1, rc = STORE_ERROR;

	if ((rc = version_check(id, version, err, errlen)) != STORE_OK)
		goto out;
	if ((rc = versions_open(st, id, &verfd, err, errlen)) != STORE_OK)
		goto out;
	rc = version_file(verfd, version, SOURCE_FILE, "source", SIZE_MAX - 1,
	    src, len, err, errlen);
out:
	close_fd(&verfd);
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
	if ((rc = dir_open(fnfd, VERSIONS_DIR, 0, 0, &verfd, err, errlen)) !=
	    STORE_OK)
		goto out;
	/* Only a complete version (one with readable meta) can be active. */
	if ((rc = version_read(verfd, version, &v, err, errlen)) != STORE_OK)
		goto out;
	rc = active_write(st, fnfd, version, err, errlen);
out:
	close_fd(&verfd);
	close_fd(&lockfd);
	close_fd(&fnfd);
	close_fd(&reqfd);
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
	if ((nlist = grow(vl->list, vl->count, &vl->cap, sizeof(*nlist),
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
	rc = dir_open(fnfd, VERSIONS_DIR, 0, 0, &vl.verfd, err, errlen);
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
	close_fd(&vl.verfd);
	close_fd(&fnfd);
	close_fd(&reqfd);
	return rc;
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

/* Appends the functions of one request directory to *list. */
static int
list_request(int projfd, const char *request, struct store_fn **list,
    size_t *count, size_t *cap, char *err, size_t errlen)
{
	struct store_fn	*nlist;
	struct dirent	*de;
	DIR		*d = NULL;
	unsigned	 active;
	int		 reqfd = -1, fnfd = -1, rc, r;

	rc = dir_open(projfd, request, 0, 0, &reqfd, err, errlen);
	if (rc == STORE_NOT_FOUND)	/* removed since readdir */
		rc = STORE_OK;
	if (rc != STORE_OK || reqfd == -1)
		goto out;
	rc = STORE_ERROR;
	if ((d = dir_stream(reqfd, request, err, errlen)) == NULL)
		goto out;
	while ((de = readdir(d)) != NULL) {
		if (!is_name_dir(reqfd, de->d_name))
			continue;
		r = dir_open(reqfd, de->d_name, 0, 0, &fnfd, err, errlen);
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
		if (r == STORE_NOT_FOUND && !has_versions(fnfd)) {
			close_fd(&fnfd);
			continue;
		}
		close_fd(&fnfd);
		if ((nlist = grow(*list, *count, cap, sizeof(**list), err,
		    errlen)) == NULL)
			goto out;
		*list = nlist;
		memset(&(*list)[*count], 0, sizeof(**list));
		/* Both names passed name_valid, so they fit. */
		memcpy((*list)[*count].request, request, strlen(request));
		memcpy((*list)[*count].fn, de->d_name, strlen(de->d_name));
		(*list)[*count].active = active;
		(*count)++;
	}
	rc = STORE_OK;
out:
	if (d != NULL)
		closedir(d);
	close_fd(&fnfd);
	close_fd(&reqfd);
	return rc;
}

int
store_list_fns(struct store *st, const char *project, struct store_fn **out,
    size_t *n, char *err, size_t errlen)
{
	struct store_fn	*list = NULL;
	struct dirent	*de;
	DIR		*d = NULL;
	size_t		 count = 0, cap = 0;
	int		 projfd = -1, rc = STORE_ERROR;

	*out = NULL;
	*n = 0;
	if (project_check(project, err, errlen) == -1)
		goto out;
	if ((rc = dir_open(st->rootfd, project, 0, 0, &projfd, err,
	    errlen)) != STORE_OK)
		goto out;
	rc = STORE_ERROR;
	if ((d = dir_stream(projfd, project, err, errlen)) == NULL)
		goto out;
	while ((de = readdir(d)) != NULL) {
		if (!is_name_dir(projfd, de->d_name))
			continue;
		if (list_request(projfd, de->d_name, &list, &count, &cap, err,
		    errlen) != STORE_OK)
			goto out;
	}
	if (count > 0)
		qsort(list, count, sizeof(*list), cmp_fn);
	*out = list;
	*n = count;
	list = NULL;
	rc = STORE_OK;
out:
	free(list);
	if (d != NULL)
		closedir(d);
	close_fd(&projfd);
	/* Only the project can be missing: an unknown one is no functions. */
	return rc == STORE_NOT_FOUND ? STORE_OK : rc;
}

int
store_delete_fn(struct store *st, const struct fn_id *id, char *err,
    size_t errlen)
{
	char	name[TMPNAME_LEN];
	int	reqfd = -1, fnfd = -1, lockfd = -1, moved = 0;
	int	rc = STORE_ERROR;

	if (id_check(id, err, errlen) == -1)
		goto out;
	if (tmp_name(st, name, sizeof(name), err, errlen) == -1)
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
			seterr(err, errlen, "rename %s to %s: %s", id->fn,
			    TRASH_DIR, strerror(errno));
		goto out;
	}
	moved = 1;
	if (fsync_fd(reqfd) == -1 || fsync_fd(st->trashfd) == -1) {
		seterr(err, errlen, "fsync after delete: %s",
		    strerror(errno));
		goto out;
	}
	rc = STORE_OK;
out:
	close_fd(&lockfd);
	close_fd(&fnfd);
	close_fd(&reqfd);
	/* Gone from the store once renamed: what removal cannot finish,
	 * store_open sweeps later. */
	if (moved)
		(void)rm_tree(st->trashfd, name, 0);
	return rc;
}

/* Opens <project>/.env, creating both when create is set. */
static int
env_open(struct store *st, const char *project, int create, int *envfd,
    char *err, size_t errlen)
{
	struct stat	sb;
	int		projfd = -1, efd = -1, rc;

	*envfd = -1;
	if (!create) {
		char path[NAME_MAX_LEN + 16];

		snprintf(path, sizeof(path), "%s/%s", project, ENV_DIR);
		if ((efd = open_beneath(st->rootfd, path, O_RDONLY |
		    O_DIRECTORY)) != -1) {
			*envfd = efd;
			return STORE_OK;
		}
		if (errno == ENOENT || errno == ENOTDIR)
			return STORE_NOT_FOUND;
		if (errno != ENOSYS) {
			seterr(err, errlen, "open %s: %s", path,
			    strerror(errno));
			return STORE_ERROR;
		}
	}
	rc = dir_open(st->rootfd, project, create, DIR_MODE, &projfd, err,
	    errlen);
	if (rc != STORE_OK)
		goto out;
	rc = dir_open(projfd, ENV_DIR, create, ENV_DIR_MODE, &efd, err,
	    errlen);
	if (rc != STORE_OK)
		goto out;
	rc = STORE_ERROR;
	/* Values are secrets: the directory is 0700 whatever the umask. */
	if (create && (fstat(efd, &sb) == -1 ||
	    ((sb.st_mode & 07777) != ENV_DIR_MODE &&
	    fchmod(efd, ENV_DIR_MODE) == -1))) {
		seterr(err, errlen, "chmod %s: %s", ENV_DIR, strerror(errno));
		goto out;
	}
	*envfd = efd;
	efd = -1;
	rc = STORE_OK;
out:
	close_fd(&efd);
	close_fd(&projfd);
	return rc;
}

int
store_env_set(struct store *st, const char *project, const char *name,
    const char *value, size_t len, char *err, size_t errlen)
{
	char	tmp[TMPNAME_LEN];
	int	envfd = -1, created = 0, rc = STORE_ERROR;

	if (project == NULL || !name_valid(project, strlen(project)) ||
	    name == NULL || !name_env_valid(name, strlen(name))) {
		seterr(err, errlen, "invalid project or variable name");
		goto out;
	}
	if (env_open(st, project, 1, &envfd, err, errlen) != STORE_OK)
		goto out;
	if (tmp_file(st, tmp, sizeof(tmp), value != NULL ? value : "", len,
	    ENV_FILE_MODE, &created, err, errlen) != STORE_OK)
		goto out;
	crash_point(st, "env-written");
	if (renameat(st->tmpfd, tmp, envfd, name) == -1) {
		seterr(err, errlen, "rename to %s/%s: %s", ENV_DIR, name,
		    strerror(errno));
		goto out;
	}
	created = 0;
	if (fsync_fd(envfd) == -1) {
		seterr(err, errlen, "fsync %s: %s", ENV_DIR, strerror(errno));
		goto out;
	}
	rc = STORE_OK;
out:
	if (created)
		(void)unlinkat(st->tmpfd, tmp, 0);
	close_fd(&envfd);
	return rc;
}

int
store_env_unset(struct store *st, const char *project, const char *name,
    char *err, size_t errlen)
{
	int	envfd = -1, rc = STORE_ERROR;

	if (project == NULL || !name_valid(project, strlen(project)) ||
	    name == NULL || !name_env_valid(name, strlen(name))) {
		seterr(err, errlen, "invalid project or variable name");
		goto out;
	}
	if ((rc = env_open(st, project, 0, &envfd, err, errlen)) != STORE_OK)
		goto out;
	rc = STORE_ERROR;
	if (unlinkat(envfd, name, 0) == -1) {
		if (errno == ENOENT)
			rc = STORE_NOT_FOUND;
		else
			seterr(err, errlen, "unlink %s/%s: %s", ENV_DIR, name,
			    strerror(errno));
		goto out;
	}
	if (fsync_fd(envfd) == -1) {
		seterr(err, errlen, "fsync %s: %s", ENV_DIR, strerror(errno));
		goto out;
	}
	rc = STORE_OK;
out:
	close_fd(&envfd);
	return rc;
}

static int
cmp_env(const void *a, const void *b)
{
	const struct store_env_var	*x = a, *y = b;

	return strcmp(x->name, y->name);
}

int
store_env_list(struct store *st, const char *project, int with_values,
    struct store_env_var **out, size_t *n, char *err, size_t errlen)
{
	struct store_env_var	*list = NULL, *nlist, *var;
	struct dirent		*de;
	struct stat		 sb;
	DIR			*d = NULL;
	char			 what[sizeof(ENV_DIR) + ENV_NAME_MAX_LEN + 1];
	size_t			 count = 0, cap = 0, nlen;
	int			 envfd = -1, rc = STORE_ERROR, r;

	*out = NULL;
	*n = 0;
	if (project_check(project, err, errlen) == -1)
		goto out;
	if ((rc = env_open(st, project, 0, &envfd, err, errlen)) != STORE_OK)
		goto out;
	rc = STORE_ERROR;
	if ((d = dir_stream(envfd, ENV_DIR, err, errlen)) == NULL)
		goto out;
	while ((de = readdir(d)) != NULL) {
		nlen = strlen(de->d_name);
		if (!name_env_valid(de->d_name, nlen))
			continue;
		if (fstatat(envfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) ==
		    -1 || !S_ISREG(sb.st_mode))
			continue;
		if ((nlist = grow(list, count, &cap, sizeof(*list), err,
		    errlen)) == NULL)
			goto out;
		list = nlist;
		var = &list[count];
		memset(var, 0, sizeof(*var));
		memcpy(var->name, de->d_name, nlen);
		if (with_values) {
			/* name_env_valid bounded the name; the precision
			 * tells the compiler. */
			snprintf(what, sizeof(what), "%s/%.*s", ENV_DIR,
			    ENV_NAME_MAX_LEN, de->d_name);
			r = file_read(envfd, de->d_name, what, SIZE_MAX - 1,
			    &var->value, &var->len, err, errlen);
			if (r == STORE_NOT_FOUND)	/* unset meanwhile */
				continue;
			if (r != STORE_OK)
				goto out;
		}
		count++;
	}
	if (count > 0)
		qsort(list, count, sizeof(*list), cmp_env);
	*out = list;
	*n = count;
	list = NULL;
	rc = STORE_OK;
out:
	if (list != NULL)
		store_env_free(list, count);
	if (d != NULL)
		closedir(d);
	close_fd(&envfd);
	/* Only .env can be missing (a variable unset meanwhile is skipped):
	 * an unknown project has no variables. */
	return rc == STORE_NOT_FOUND ? STORE_OK : rc;
}

void
store_env_free(struct store_env_var *vars, size_t n)
{
	size_t	i;

	if (vars == NULL)
		return;
	for (i = 0; i < n; i++)
		free(vars[i].value);
	free(vars);
}

/* --- projects (GET /projects, issue 14) ----------------------------------- */

static int
cmp_project(const void *a, const void *b)
{
	const struct store_project	*x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Does the project have a function or an environment variable? A
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
	if ((d = dir_stream(st->rootfd, "store root", err, errlen)) == NULL)
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
		if ((nlist = grow(list, count, &cap, sizeof(*list), err,
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
