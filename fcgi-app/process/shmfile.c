/*
 * shmfile.c - the shared files of shmfile.h: map one, and claim a record
 * of it by compare-and-swap of its owner's pid. Only __atomic operations
 * touch a mapping's records.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shmfile.h"

void *
shmfile_map(const char *path, size_t size, uint64_t magic)
{
	struct stat	 sb;
	void		*p;
	int		 fd;

	if (path == NULL || *path == '\0')
		return NULL;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return NULL;
	if (fstat(fd, &sb) == -1 || (sb.st_size < (off_t)size &&
	    ftruncate(fd, (off_t)size) == -1)) {
		close(fd);
		return NULL;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	/* A zero-filled new file: mark it (racing writers write the same). */
	__atomic_store_n((uint64_t *)p, magic, __ATOMIC_RELAXED);
	return p;
}

/* A worker that exited but was not yet reaped by its slot is a zombie:
 * kill(pid, 0) still succeeds on it, yet it serves nothing and its record
 * is free to take over. */
int
shmfile_alive(int32_t pid)
{
	char path[32], stat[256], *paren;
	ssize_t n;
	int fd;

	if (pid <= 0 || (kill(pid, 0) == -1 && errno != EPERM))
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 1;
	n = read(fd, stat, sizeof(stat) - 1);
	close(fd);
	if (n <= 0)
		return 1;
	stat[n] = '\0';
	/* "pid (comm) S ...": the state follows the last ')'. */
	if ((paren = strrchr(stat, ')')) == NULL || paren[1] != ' ')
		return 1;
	return paren[2] != 'Z';
}

int
shmfile_claim(int32_t *pid)
{
	int32_t	me = (int32_t)getpid(), cur;

	cur = __atomic_load_n(pid, __ATOMIC_ACQUIRE);
	return cur == me || ((cur == 0 || !shmfile_alive(cur)) &&
	    __atomic_compare_exchange_n(pid, &cur, me, 0, __ATOMIC_ACQ_REL,
	    __ATOMIC_ACQUIRE));
}
