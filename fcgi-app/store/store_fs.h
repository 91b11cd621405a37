/*
 * store_fs.h - the store's directory-fd primitives (store_fs.c): opening
 * one validated name under a directory fd, opening a path beneath the root
 * without following a symlink or leaving it (open_beneath), reading small
 * files, removing trees, and the atomic write (temporary file, fsync,
 * rename, directory fsync). Internal to fcgi-app/store/: nothing outside
 * the store includes it. Statuses are store.h's enum store_status.
 */
#ifndef FNRUN_STORE_FS_H
#define FNRUN_STORE_FS_H

#include <sys/types.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stddef.h>

#define FS_DIR_FLAGS	(O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define FS_TMPNAME_LEN	64

/* How fs_open_beneath resolves a path: openat2 where the kernel has it
 * (Linux 5.6), or one openat per component; FS_WALK forces the walk, for
 * tests and kernels whose openat2 is filtered (seccomp, old containers). */
enum fs_resolve {
	FS_OPENAT2,
	FS_WALK
};

/* Where temporary files and directories are made, and the counter that
 * keeps their names distinct within one process. */
struct fs_tmpdir {
	int		fd;
	atomic_ulong	counter;
};

void	fs_seterr(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Closes *fd if open and sets it to -1. */
void	fs_close(int *fd);

/* fsync(2), retried on EINTR. Returns 0 or -1 with errno. */
int	fs_fsync(int fd);

/* Reads fd to its end into a malloc'd, NUL-terminated buffer the caller
 * frees (*outlen excludes the NUL). More than max bytes is EFBIG. Returns
 * 0, or -1 with errno. */
int	fs_read_all(int fd, size_t max, char **out, size_t *outlen);

/* Reads the file name under dfd, never through a symlink, as fs_read_all
 * does; what names it in err. STORE_OK, STORE_NOT_FOUND if absent, or
 * STORE_ERROR. */
int	fs_file_read(int dfd, const char *name, const char *what, size_t max,
	    char **buf, size_t *len, char *err, size_t errlen);

/*
 * Opens path relative to dfd with flags (O_CLOEXEC is added) with no
 * symbolic link anywhere on it and no escape from dfd: an absolute path, a
 * ".." component or a symlink is refused (EXDEV for the first two, ELOOP
 * for a symlink, whichever way it resolves). FS_OPENAT2 uses one openat2
 * (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) and walks only when the kernel
 * lacks it; FS_WALK always walks, one openat(O_NOFOLLOW) per component.
 * Returns the fd, or -1 with errno (ENOENT/ENOTDIR: absent).
 */
int	fs_open_beneath(int dfd, const char *path, int flags,
	    enum fs_resolve how);

/* Reads the small file at path beneath dfd (fs_open_beneath, then
 * fs_read_all). STORE_OK with a malloc'd buffer, STORE_NOT_FOUND, or
 * STORE_ERROR. */
int	fs_read_beneath(int dfd, const char *path, enum fs_resolve how,
	    size_t max, char **buf, size_t *len, char *err, size_t errlen);

/* Opens the directory name under parent into *out, creating it with mode
 * when create is set (and fsyncing parent so the new entry survives a
 * crash). STORE_OK, STORE_NOT_FOUND (absent, create unset) or STORE_ERROR. */
int	fs_dir_open(int parent, const char *name, int create, mode_t mode,
	    int *out, char *err, size_t errlen);

/* A fresh directory stream on dfd (its own offset, so it can be read more
 * than once), or NULL with err filled naming the directory what. The
 * caller closedir()s it. */
DIR	*fs_dir_stream(int dfd, const char *what, char *err, size_t errlen);

/* Removes name under dfd, recursively, never following a symlink; depth
 * counts from 0. Returns 0, or -1 with errno. */
int	fs_rm_tree(int dfd, const char *name, int depth);

/* Best effort: removes the entries of dfd older than max_age seconds. */
void	fs_sweep(int dfd, long max_age);

/* Creates name under dfd (which must not exist) with exactly data and
 * mode, whatever the umask, and fsyncs it. STORE_OK or STORE_ERROR. */
int	fs_file_create(int dfd, const char *name, const void *data,
	    size_t len, mode_t mode, char *err, size_t errlen);

/* Opens (creating with mode) the file name under dfd, never written, and
 * takes flock(LOCK_EX) on it, waiting; closing *fd releases it.
 * STORE_OK, STORE_NOT_FOUND (dfd was removed meanwhile) or STORE_ERROR. */
int	fs_lock_file(int dfd, const char *name, mode_t mode, int *fd,
	    char *err, size_t errlen);

/* Removes the file name under dfd and fsyncs dfd, so the removal
 * survives a crash; what names it in err. STORE_OK, STORE_NOT_FOUND (it
 * was not there) or STORE_ERROR. */
int	fs_unlink_durable(int dfd, const char *name, const char *what,
	    char *err, size_t errlen);

/* rename(2) that never replaces: an existing target, even an empty
 * directory, is EEXIST (ENOTEMPTY where renameat2 is missing). Returns 0
 * or -1 with errno. */
int	fs_rename_noreplace(int ofd, const char *oname, int nfd,
	    const char *nname);

/* Fills hex (size bytes, NUL included, at most 65) with random lower-case
 * hex digits. Returns 0, or -1 when the random source fails. */
int	fs_random_hex(char *hex, size_t size);

/* A name unique across threads, processes and restarts (pid, counter, 64
 * random bits) into buf (FS_TMPNAME_LEN bytes). Returns 0 or -1. */
int	fs_tmp_name(struct fs_tmpdir *t, char *buf, size_t len, char *err,
	    size_t errlen);

/*
 * The atomic write of SPEC §8: name under dfd becomes exactly data (mode),
 * or stays what it was. A complete temporary file is written and fsynced
 * in t, t is fsynced, hook(point) is called (a test's crash point; hook
 * may be NULL), the file is renamed over name and dfd is fsynced. The
 * temporary file is removed on failure. STORE_OK or STORE_ERROR.
 */
int	fs_write_atomic(struct fs_tmpdir *t, int dfd, const char *name,
	    const void *data, size_t len, mode_t mode,
	    void (*hook)(const char *), const char *point, char *err,
	    size_t errlen);

#endif
