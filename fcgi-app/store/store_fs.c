/*
 * store_fs.c - the store's directory-fd primitives (store_fs.h). Every
 * path is one validated name at a time opened relative to a directory fd
 * with O_NOFOLLOW, or a path opened by fs_open_beneath, which never
 * follows a symlink nor leaves its directory whichever way it resolves.
 * Nothing is rewritten in place: fs_write_atomic is the one way a file
 * changes. Knows nothing of the store's layout; never logs: detail goes
 * to the caller's err.
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "digest.h"
#include "store.h"
#include "store_fs.h"

#define OPEN_TRIES	4
#define RM_DEPTH	16	/* the deepest tree is <fn>/versions/<N>/file */

void
fs_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void
fs_close(int *fd)
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

int
fs_fsync(int fd)
{
	while (fsync(fd) == -1)
		if (errno != EINTR)
			return -1;
	return 0;
}

int
fs_read_all(int fd, size_t max, char **out, size_t *outlen)
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

int
fs_file_read(int dfd, const char *name, const char *what, size_t max,
    char **buf, size_t *len, char *err, size_t errlen)
{
	int	fd = -1, rc = STORE_ERROR;

	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1) {
		if (errno == ENOENT)
			rc = STORE_NOT_FOUND;
		else
			fs_seterr(err, errlen, "open %s: %s", what,
			    strerror(errno));
		goto out;
	}
	if (fs_read_all(fd, max, buf, len) == -1) {
		fs_seterr(err, errlen, "read %s: %s", what, strerror(errno));
		goto out;
	}
	rc = STORE_OK;
out:
	fs_close(&fd);
	return rc;
}

/* openat2 with the walk's guarantees in one system call: the invocation
 * path reads three store entries per call, one syscall each instead of a
 * walk keeps that cheap. ENOSYS when the kernel predates it (5.6). */
static int
open_openat2(int dfd, const char *path, int flags)
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

/* One component under dfd, never through a symlink. openat(2) with
 * O_DIRECTORY | O_NOFOLLOW says ENOTDIR, not ELOOP, for a symlink: ask
 * the entry itself, so both resolutions refuse a symlink alike. */
static int
open_component(int dfd, const char *name, int flags)
{
	struct stat	sb;
	int		fd, saved;

	if ((fd = openat(dfd, name, flags | O_NOFOLLOW | O_CLOEXEC)) != -1)
		return fd;
	saved = errno;
	if (saved == ENOTDIR &&
	    fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(sb.st_mode))
		saved = ELOOP;
	errno = saved;
	return -1;
}

/* The walk: each directory opened by name under the previous one; "."
 * and empty components are skipped. A ".." never gets here (has_dotdot),
 * but the walk refuses one itself too: it is the one way to climb. */
static int
open_walk(int dfd, const char *path, int flags)
{
	char	 comp[NAME_MAX + 1];
	const char *p = path, *slash;
	size_t	 n;
	int	 cur = -1, next, saved;

	if (*path == '/') {
		errno = EXDEV;
		return -1;
	}
	if (*path == '\0') {
		errno = ENOENT;
		return -1;
	}
	for (;;) {
		slash = strchr(p, '/');
		n = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (n > NAME_MAX) {
			saved = ENAMETOOLONG;
			goto fail;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		if (strcmp(comp, "..") == 0) {
			saved = EXDEV;
			goto fail;
		}
		if (slash == NULL)
			break;
		p = slash + 1;
		if (n == 0 || strcmp(comp, ".") == 0)
			continue;
		if ((next = open_component(cur == -1 ? dfd : cur, comp,
		    O_RDONLY | O_DIRECTORY)) == -1) {
			saved = errno;
			goto fail;
		}
		fs_close(&cur);
		cur = next;
	}
	if (n == 0)
		strcpy(comp, ".");
	next = open_component(cur == -1 ? dfd : cur, comp, flags);
	saved = errno;
	fs_close(&cur);
	errno = saved;
	return next;
fail:
	fs_close(&cur);
	errno = saved;
	return -1;
}

/* Has path a ".." component? openat2 allows one that stays beneath; the
 * store never builds one, so both resolutions refuse any. */
static int
has_dotdot(const char *path)
{
	const char	*p = path;

	for (;;) {
		if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || p[2] == '\0'))
			return 1;
		if ((p = strchr(p, '/')) == NULL)
			return 0;
		p++;
	}
}

int
fs_open_beneath(int dfd, const char *path, int flags, enum fs_resolve how)
{
	int	fd;

	if (has_dotdot(path)) {
		errno = EXDEV;
		return -1;
	}
	if (how == FS_OPENAT2 &&
	    ((fd = open_openat2(dfd, path, flags)) != -1 || errno != ENOSYS))
		return fd;
	return open_walk(dfd, path, flags);
}

int
fs_read_beneath(int dfd, const char *path, enum fs_resolve how, size_t max,
    char **buf, size_t *len, char *err, size_t errlen)
{
	int	fd, rc = STORE_OK;

	if ((fd = fs_open_beneath(dfd, path, O_RDONLY, how)) == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			return STORE_NOT_FOUND;
		fs_seterr(err, errlen, "open %s: %s", path, strerror(errno));
		return STORE_ERROR;
	}
	if (fs_read_all(fd, max, buf, len) == -1) {
		fs_seterr(err, errlen, "read %s: %s", path, strerror(errno));
		rc = STORE_ERROR;
	}
	close(fd);
	return rc;
}

int
fs_dir_open(int parent, const char *name, int create, mode_t mode, int *out,
    char *err, size_t errlen)
{
	int	fd = -1, created = 0, tries, rc = STORE_ERROR;

	*out = -1;
	for (tries = 0; tries < OPEN_TRIES; tries++) {
		if ((fd = openat(parent, name, FS_DIR_FLAGS)) != -1)
			break;
		if (errno != ENOENT) {
			fs_seterr(err, errlen, "open %s: %s", name,
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
			fs_seterr(err, errlen, "mkdir %s: %s", name,
			    strerror(errno));
			goto out;
		}
	}
	if (fd == -1) {
		fs_seterr(err, errlen, "open %s: keeps disappearing", name);
		goto out;
	}
	if (created && fs_fsync(parent) == -1) {
		fs_seterr(err, errlen, "fsync parent of %s: %s", name,
		    strerror(errno));
		goto out;
	}
	*out = fd;
	fd = -1;
	rc = STORE_OK;
out:
	fs_close(&fd);
	return rc;
}

DIR *
fs_dir_stream(int dfd, const char *what, char *err, size_t errlen)
{
	DIR	*d = NULL;
	int	 fd;

	if ((fd = openat(dfd, ".", FS_DIR_FLAGS)) == -1)
		goto out;
	if ((d = fdopendir(fd)) == NULL)
		close(fd);
out:
	if (d == NULL)
		fs_seterr(err, errlen, "open %s: %s", what, strerror(errno));
	return d;
}

int
fs_rm_tree(int dfd, const char *name, int depth)
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
	if ((fd = openat(dfd, name, FS_DIR_FLAGS)) == -1)
		goto out;
	if ((d = fdopendir(fd)) == NULL)
		goto out;
	fd = -1;
	rc = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fs_rm_tree(dirfd(d), de->d_name, depth + 1) == -1)
			rc = -1;
	}
	if (unlinkat(dfd, name, AT_REMOVEDIR) == -1 && errno != ENOENT)
		rc = -1;
out:
	if (d != NULL)
		closedir(d);
	fs_close(&fd);
	return rc;
}

void
fs_sweep(int dfd, long max_age)
{
	struct stat	 sb;
	struct dirent	*de;
	DIR		*d;
	time_t		 now = time(NULL);

	if ((d = fs_dir_stream(dfd, ".", NULL, 0)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		if (now - sb.st_mtime > max_age)
			(void)fs_rm_tree(dfd, de->d_name, 0);
	}
	closedir(d);
}

int
fs_file_create(int dfd, const char *name, const void *data, size_t len,
    mode_t mode, char *err, size_t errlen)
{
	int	fd = -1, rc = STORE_ERROR;

	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode);
	if (fd == -1) {
		fs_seterr(err, errlen, "create %s: %s", name, strerror(errno));
		goto out;
	}
	/* The umask must not loosen or tighten what the layout promises. */
	if (fchmod(fd, mode) == -1 || write_all(fd, data, len) == -1 ||
	    fs_fsync(fd) == -1) {
		fs_seterr(err, errlen, "write %s: %s", name, strerror(errno));
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		fs_seterr(err, errlen, "close %s: %s", name, strerror(errno));
		goto out;
	}
	fd = -1;
	rc = STORE_OK;
out:
	fs_close(&fd);
	return rc;
}

int
fs_lock_file(int dfd, const char *name, mode_t mode, int *fd, char *err,
    size_t errlen)
{
	int	lfd;

	*fd = -1;
	lfd = openat(dfd, name, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (lfd == -1) {
		if (errno == ENOENT)
			return STORE_NOT_FOUND;
		fs_seterr(err, errlen, "open %s: %s", name, strerror(errno));
		return STORE_ERROR;
	}
	while (flock(lfd, LOCK_EX) == -1) {
		if (errno != EINTR) {
			fs_seterr(err, errlen, "flock %s: %s", name,
			    strerror(errno));
			close(lfd);
			return STORE_ERROR;
		}
	}
	*fd = lfd;
	return STORE_OK;
}

int
fs_unlink_durable(int dfd, const char *name, const char *what, char *err,
    size_t errlen)
{
	if (unlinkat(dfd, name, 0) == -1) {
		if (errno == ENOENT)
			return STORE_NOT_FOUND;
		fs_seterr(err, errlen, "unlink %s: %s", what, strerror(errno));
		return STORE_ERROR;
	}
	if (fs_fsync(dfd) == -1) {
		fs_seterr(err, errlen, "fsync after unlinking %s: %s", what,
		    strerror(errno));
		return STORE_ERROR;
	}
	return STORE_OK;
}

int
fs_rename_noreplace(int ofd, const char *oname, int nfd, const char *nname)
{
	if (renameat2(ofd, oname, nfd, nname, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* Falls back where renameat2 is not supported; that still fails on
	 * a non-empty target. */
	return renameat(ofd, oname, nfd, nname);
}

int
fs_random_hex(char *hex, size_t size)
{
	unsigned char	rnd[32];
	size_t		n = (size - 1) / 2;

	if (n > sizeof(rnd) || RAND_bytes(rnd, (int)n) != 1)
		return -1;
	digest_hex(rnd, n, hex);
	return 0;
}

int
fs_tmp_name(struct fs_tmpdir *t, char *buf, size_t len, char *err,
    size_t errlen)
{
	char		hex[8 * 2 + 1];
	unsigned long	n;

	if (fs_random_hex(hex, sizeof(hex)) == -1) {
		fs_seterr(err, errlen, "RAND_bytes failed");
		return -1;
	}
	n = atomic_fetch_add(&t->counter, 1);
	snprintf(buf, len, "%ld.%lu.%s", (long)getpid(), n, hex);
	return 0;
}

int
fs_write_atomic(struct fs_tmpdir *t, int dfd, const char *name,
    const void *data, size_t len, mode_t mode, void (*hook)(const char *),
    const char *point, char *err, size_t errlen)
{
	char	tmp[FS_TMPNAME_LEN];
	int	created = 0, rc = STORE_ERROR;

	if (fs_tmp_name(t, tmp, sizeof(tmp), err, errlen) == -1)
		goto out;
	created = 1;
	if (fs_file_create(t->fd, tmp, data, len, mode, err, errlen) !=
	    STORE_OK)
		goto out;
	if (fs_fsync(t->fd) == -1) {
		fs_seterr(err, errlen, "fsync temporary directory: %s",
		    strerror(errno));
		goto out;
	}
	if (hook != NULL)
		hook(point);
	if (renameat(t->fd, tmp, dfd, name) == -1) {
		fs_seterr(err, errlen, "rename to %s: %s", name,
		    strerror(errno));
		goto out;
	}
	created = 0;
	if (fs_fsync(dfd) == -1) {
		fs_seterr(err, errlen, "fsync directory of %s: %s", name,
		    strerror(errno));
		goto out;
	}
	rc = STORE_OK;
out:
	if (created)
		(void)unlinkat(t->fd, tmp, 0);
	return rc;
}
