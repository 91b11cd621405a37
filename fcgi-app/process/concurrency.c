/*
 * concurrency.c - the shared file of concurrency.h. A record is claimed by
 * compare-and-swap of its pid; only its worker (or, once the worker is
 * dead, its supervisor) writes it. Taking a slot counts and marks under
 * flock() on the file, so two workers never both take the last slot; a
 * worker that dies holding the lock releases it with its descriptor.
 * Releasing is one atomic store and needs no lock, so the watchdog's
 * signal handler can do it.
 */
#include <sys/file.h>
#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "concurrency.h"
#include "names.h"
#include "self.h"
#include "shmfile.h"

/* Two pools of the largest size scripts/config.sh allows (1024) overlap
 * while one replaces the other (scale, reload). */
#define RECORDS		2048
#define PATH_LEN	4096	/* as config.h's paths */

struct record {
	int32_t		pid;		/* 0: never used */
	int32_t		running;	/* 1: project names what it runs */
	char		project[NAME_MAX_LEN + 1];
};

struct shared {
	uint64_t	magic;
	struct record	rec[RECORDS];
};

#define MAGIC		0x666e72756e633031ULL	/* "fnrunc01" */

static struct shared	*shm;
static struct record	*mine;
static char		 file[PATH_LEN];
static int		 lockfd = -1;
static pid_t		 lockpid;	/* the process that opened lockfd */

int
concurrency_open(const char *path)
{
	if (path == NULL || strlen(path) >= sizeof(file) ||
	    (shm = shmfile_map(path, sizeof(*shm), MAGIC)) == NULL)
		return -1;
	memcpy(file, path, strlen(path) + 1);
	return 0;
}

int
concurrency_claim(void)
{
	int	i;

	if (shm == NULL)
		return -1;
	/* An inherited descriptor shares its lock with the parent. */
	if (lockfd != -1 && lockpid != self_pid()) {
		close(lockfd);
		lockfd = -1;
	}
	mine = NULL;
	if (lockfd == -1) {
		if ((lockfd = open(file, O_RDWR | O_CLOEXEC)) == -1)
			return -1;
		lockpid = self_pid();
	}
	for (i = 0; i < RECORDS; i++) {
		if (shmfile_claim(&shm->rec[i].pid)) {
			mine = &shm->rec[i];
			__atomic_store_n(&mine->running, 0, __ATOMIC_RELEASE);
			return 0;
		}
	}
	return -1;
}

static void
lock(void)
{
	while (flock(lockfd, LOCK_EX) == -1 && errno == EINTR)
		;
}

static void
unlock(void)
{
	(void)flock(lockfd, LOCK_UN);
}

/* Records running project, other than skip; with alive, only those of
 * live workers (which costs system calls per record). Under the lock. */
static unsigned
count(const char *project, const struct record *skip, int alive)
{
	const struct record	*r;
	unsigned		 n = 0;
	int			 i;

	for (i = 0; i < RECORDS; i++) {
		r = &shm->rec[i];
		/* Records are claimed in order and never given back, only
		 * taken over (shmfile_claim): the first one never used ends
		 * the used ones. */
		if (__atomic_load_n(&r->pid, __ATOMIC_ACQUIRE) == 0)
			break;
		if (r == skip ||
		    !__atomic_load_n(&r->running, __ATOMIC_ACQUIRE) ||
		    strncmp(r->project, project, sizeof(r->project)) != 0)
			continue;
		/* A worker killed mid-call and not yet reaped. */
		if (!alive || shmfile_alive(__atomic_load_n(&r->pid,
		    __ATOMIC_RELAXED)))
			n++;
	}
	return n;
}

enum concurrency_take
concurrency_take(const char *project, unsigned limit)
{
	size_t	len = strlen(project);

	if (mine == NULL || lockfd == -1 || lockpid != self_pid() ||
	    len >= sizeof(mine->project))
		return CONCURRENCY_OFF;
	lock();
	/* A dead worker's record only adds to the count: the liveness of
	 * each is asked only when the limit looks reached. */
	if (count(project, mine, 0) >= limit &&
	    count(project, mine, 1) >= limit) {
		unlock();
		return CONCURRENCY_FULL;
	}
	/* Under the lock: no taker reads the name while it changes. */
	memcpy(mine->project, project, len + 1);
	__atomic_store_n(&mine->running, 1, __ATOMIC_RELEASE);
	unlock();
	return CONCURRENCY_TAKEN;
}

void
concurrency_release(void)
{
	if (mine != NULL)
		__atomic_store_n(&mine->running, 0, __ATOMIC_RELEASE);
}

void
concurrency_reap(pid_t pid)
{
	int	i;

	for (i = 0; shm != NULL && i < RECORDS; i++)
		if (__atomic_load_n(&shm->rec[i].pid, __ATOMIC_ACQUIRE) ==
		    (int32_t)pid)
			__atomic_store_n(&shm->rec[i].running, 0,
			    __ATOMIC_RELEASE);
}

void
concurrency_close(void)
{
	if (lockfd != -1 && lockpid == self_pid())
		close(lockfd);
	lockfd = -1;
	mine = NULL;
	if (shm != NULL)
		munmap(shm, sizeof(*shm));	/* mapped by shmfile_map */
	shm = NULL;
}

unsigned
concurrency_running(const char *project)
{
	unsigned	n;

	if (shm == NULL || lockfd == -1 || lockpid != self_pid())
		return 0;
	lock();
	n = count(project, NULL, 1);
	unlock();
	return n;
}
