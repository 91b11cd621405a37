/*
 * store_gen.c - the store's generation token: <root>/.generation, 16
 * bytes that every write to the store replaces with 16 fresh random
 * bytes once the write is done (store_gen_bump), and that store_view.c
 * reads before each call to know whether what it cached is still what the
 * store holds.
 *
 * Why a token read is exact (store_view.c relies on all of it):
 * - Every public store function that changes a file (a version, the
 *   active pointer, a delete, an environment variable, the project's
 *   limits or egress list) bumps the token after its change and before it
 *   returns, so before any answer says the change was made. A call that
 *   begins after that answer reads the new token.
 * - Tokens are drawn from RAND_bytes, never counted: a token once
 *   replaced does not come back (2^-128), so there is no ABA, unlike an
 *   inode number reused within one tick of a coarse timestamp, or a
 *   counter that a crash could set back. Nothing reads, increments and
 *   writes, so writers need no lock: concurrent bumps leave one of their
 *   tokens (or a mix, still new).
 * - A reader that races a bump may see a torn mix of the old and the new
 *   token: if it equals the old one, the call ran before the write ended,
 *   which is allowed; otherwise it is new and the view reloads.
 * - A writer that dies between its change and its bump leaves no answer
 *   behind; the worker that replaces it calls store_open, which bumps.
 * - Hosts (SPEC §14) share the store on NFSv4 or CephFS. CephFS keeps the
 *   clients' page caches coherent (capabilities), so one pread on a kept
 *   descriptor sees another host's write as a local file does. NFS (and
 *   SMB, FUSE) promises only close-to-open consistency: there the token
 *   is opened, read and closed on every read, and written through its own
 *   open and close, so the close-to-open guarantee covers it.
 * Hand edits of the store bypass the token: they apply once any write
 * goes through the API or a worker starts.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "store_internal.h"

#define GEN_FILE	".generation"

/* statfs(2) f_type of the file systems whose clients only promise
 * close-to-open consistency. */
#define NFS_MAGIC	0x6969
#define SMB_MAGIC	0x517b
#define SMB2_MAGIC	0xfe534d42
#define CIFS_MAGIC	0xff534d42
#define FUSE_MAGIC	0x65735546

static int
close_to_open_only(int fd)
{
	struct statfs	sf;

	if (fstatfs(fd, &sf) == -1)
		return 1;	/* unknown: the safe way */
	switch ((unsigned long)sf.f_type) {
	case NFS_MAGIC:
	case SMB_MAGIC:
	case SMB2_MAGIC:
	case CIFS_MAGIC:
	case FUSE_MAGIC:
		return 1;
	}
	return 0;
}

/* A fresh token: random, or, should the random source fail, the time in
 * nanoseconds, the pid and a count, which no earlier token holds either. */
static void
fresh_token(unsigned char tok[STORE_GEN_LEN])
{
	static unsigned	count;
	struct timespec	now;
	uint32_t	pid = (uint32_t)getpid(), n = ++count;
	uint64_t	ns;

	if (RAND_bytes(tok, STORE_GEN_LEN) == 1)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	memcpy(tok, &ns, 8);
	memcpy(tok + 8, &pid, 4);
	memcpy(tok + 12, &n, 4);
}

static int
gen_open(struct store *st, int flags)
{
	return fs_open_beneath(st->rootfd, GEN_FILE, flags | O_CLOEXEC |
	    O_NOFOLLOW, st->resolve);
}

/* Writes a fresh token through fd. Returns 0 or -1. */
static int
gen_write(int fd)
{
	unsigned char	tok[STORE_GEN_LEN];

	fresh_token(tok);
	return pwrite(fd, tok, sizeof(tok), 0) == (ssize_t)sizeof(tok) ? 0 :
	    -1;
}

int
store_gen_open(struct store *st, char *err, size_t errlen)
{
	int	fd;

	st->genfd = -1;
	st->gen_reopen = close_to_open_only(st->rootfd);
	/* Created by the first store_open; fs_open_beneath refuses a
	 * symlink put in its place. */
	if ((fd = openat(st->rootfd, GEN_FILE, O_RDWR | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, FILE_MODE)) == -1) {
		fs_seterr(err, errlen, "open %s: %s", GEN_FILE,
		    strerror(errno));
		return -1;
	}
	/* A new worker bumps: a writer that died between its change and its
	 * bump is repaired here (the header). */
	if (gen_write(fd) == -1) {
		fs_seterr(err, errlen, "write %s: %s", GEN_FILE,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (st->gen_reopen)
		close(fd);
	else
		st->genfd = fd;
	return 0;
}

void
store_gen_close(struct store *st)
{
	fs_close(&st->genfd);
}

void
store_gen_bump(struct store *st)
{
	int	fd = st->genfd;

	if (st->gen_reopen && (fd = gen_open(st, O_WRONLY)) == -1)
		return;		/* gone: readers fail to read it too */
	/* The change is made: a token that cannot be written must not
	 * leave the old one valid. Cut short, the file makes every
	 * store_gen_read fail (no view trusts its cache) until a new
	 * worker's store_open writes a token again. */
	if (gen_write(fd) == -1)
		(void)ftruncate(fd, 0);
	if (st->gen_reopen)
		close(fd);
}

int
store_gen_read(struct store *st, unsigned char tok[STORE_GEN_LEN])
{
	ssize_t	n;
	int	fd = st->genfd;

	if (st->gen_reopen && (fd = gen_open(st, O_RDONLY)) == -1)
		return -1;
	n = fd == -1 ? -1 : pread(fd, tok, STORE_GEN_LEN, 0);
	if (st->gen_reopen)
		close(fd);
	return n == STORE_GEN_LEN ? 0 : -1;
}
