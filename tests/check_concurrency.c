/*
 * check_concurrency.c - unit tests for concurrency.c (SPEC §13): the
 * per-project count shared by worker processes through one mapped file.
 * Workers are forked children, each claiming its own record as a real
 * worker does; a child that exits without releasing stands for a worker
 * killed mid-call (kill -9, the watchdog). Each test has its own file.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "concurrency.h"

static char	dir[256];
static char	path[512];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_concurrency.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/concurrency", dir);
	ck_assert_int_eq(concurrency_open(path), 0);
	ck_assert_int_eq(concurrency_claim(), 0);
}

static void
teardown(void)
{
	concurrency_close();
	unlink(path);
	rmdir(dir);
}

/* A worker: a child that claims a record, takes project with limit and
 * reports the result ('T', 'F' or 'O') in *taken through a pipe. With hold
 * 1 it then keeps its slot until stop() kills it (SIGKILL: the child
 * inherits Check's SIGTERM handler); with 0 it releases and exits; with
 * -1 it exits at once without releasing. Returns its pid. */
static pid_t
worker(const char *project, unsigned limit, int hold, int *taken)
{
	int	fds[2];
	pid_t	pid;
	char	c;

	ck_assert_int_eq(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		enum concurrency_take t;

		close(fds[0]);
		if (concurrency_claim() != 0)
			_exit(99);
		t = concurrency_take(project, limit);
		c = t == CONCURRENCY_TAKEN ? 'T' : t == CONCURRENCY_FULL ?
		    'F' : 'O';
		(void)!write(fds[1], &c, 1);
		if (hold == -1)
			_exit(0);
		if (hold == 1)
			pause();
		concurrency_release();
		_exit(0);
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &c, 1), 1);
	close(fds[0]);
	*taken = c;
	return pid;
}

static void
stop(pid_t pid)
{
	int	status;

	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
}

START_TEST(test_limit_across_processes)
{
	pid_t	a, b, c;
	int	ta, tb, tc;

	a = worker("p1", 2, 1, &ta);
	b = worker("p1", 2, 1, &tb);
	c = worker("p1", 2, 0, &tc);
	ck_assert_int_eq(ta, 'T');
	ck_assert_int_eq(tb, 'T');
	ck_assert_int_eq(tc, 'F');
	ck_assert_uint_eq(concurrency_running("p1"), 2);
	waitpid(c, NULL, 0);
	/* Another project is not held back by p1. */
	ck_assert_int_eq(concurrency_take("p2", 1), CONCURRENCY_TAKEN);
	ck_assert_uint_eq(concurrency_running("p2"), 1);
	ck_assert_uint_eq(concurrency_running("p1"), 2);
	/* Names are compared whole. */
	ck_assert_uint_eq(concurrency_running("p"), 0);
	ck_assert_uint_eq(concurrency_running("p10"), 0);
	concurrency_release();
	ck_assert_uint_eq(concurrency_running("p2"), 0);
	stop(a);
	c = worker("p1", 2, 0, &tc);
	waitpid(c, NULL, 0);
	ck_assert_int_eq(tc, 'T');
	stop(b);
	ck_assert_uint_eq(concurrency_running("p1"), 0);
}
END_TEST

START_TEST(test_release_and_retake)
{
	int	i;

	for (i = 0; i < 100; i++) {
		ck_assert_int_eq(concurrency_take("p1", 1), CONCURRENCY_TAKEN);
		ck_assert_uint_eq(concurrency_running("p1"), 1);
		concurrency_release();
		ck_assert_uint_eq(concurrency_running("p1"), 0);
	}
	/* Taking again while running switches what the worker runs. */
	ck_assert_int_eq(concurrency_take("p1", 1), CONCURRENCY_TAKEN);
	ck_assert_int_eq(concurrency_take("p2", 1), CONCURRENCY_TAKEN);
	ck_assert_uint_eq(concurrency_running("p1"), 0);
	ck_assert_uint_eq(concurrency_running("p2"), 1);
	concurrency_release();
}
END_TEST

/* A worker that dies mid-call (kill -9, the watchdog's _exit) never leaks
 * its slot: once reaped its pid is gone, and its supervisor clears it. */
START_TEST(test_dead_worker_reclaimed)
{
	pid_t	a;
	int	t;

	a = worker("p1", 1, -1, &t);
	ck_assert_int_eq(t, 'T');
	ck_assert_int_eq(waitpid(a, NULL, 0), a);
	ck_assert_uint_eq(concurrency_running("p1"), 0);
	ck_assert_int_eq(concurrency_take("p1", 1), CONCURRENCY_TAKEN);
	concurrency_release();

	/* Not reaped yet: a zombie still has its pid, but serves nothing,
	 * so its slot is free at once (shmfile_alive), before its
	 * supervisor's concurrency_reap clears the record. */
	a = worker("p1", 1, 1, &t);
	ck_assert_int_eq(t, 'T');
	kill(a, SIGKILL);
	for (;;) {
		char	stat[64], buf[512], *p;
		FILE	*f;

		snprintf(stat, sizeof(stat), "/proc/%d/stat", (int)a);
		ck_assert_ptr_nonnull(f = fopen(stat, "r"));
		ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
		fclose(f);
		ck_assert_ptr_nonnull(p = strrchr(buf, ')'));
		if (p[2] == 'Z')
			break;
		usleep(1000);
	}
	ck_assert_uint_eq(concurrency_running("p1"), 0);
	concurrency_reap(a);
	ck_assert_uint_eq(concurrency_running("p1"), 0);
	ck_assert_int_eq(concurrency_take("p1", 1), CONCURRENCY_TAKEN);
	concurrency_release();
	waitpid(a, NULL, 0);
}
END_TEST

/* Many workers race for 3 slots: never more than 3 hold one at once. */
START_TEST(test_race_never_over_limit)
{
	enum { WORKERS = 8, ROUNDS = 300, LIMIT = 3 };
	struct { int in, max, taken, full; } *sh;
	pid_t	pids[WORKERS];
	int	i, status;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(sh, MAP_FAILED);
	memset(sh, 0, sizeof(*sh));
	for (i = 0; i < WORKERS; i++) {
		if ((pids[i] = fork()) == 0) {
			int r, n;

			if (concurrency_claim() != 0)
				_exit(99);
			for (r = 0; r < ROUNDS; r++) {
				if (concurrency_take("p1", LIMIT) !=
				    CONCURRENCY_TAKEN) {
					__atomic_add_fetch(&sh->full, 1,
					    __ATOMIC_RELAXED);
					continue;
				}
				n = __atomic_add_fetch(&sh->in, 1,
				    __ATOMIC_SEQ_CST);
				if (n > __atomic_load_n(&sh->max,
				    __ATOMIC_RELAXED))
					__atomic_store_n(&sh->max, n,
					    __ATOMIC_RELAXED);
				__atomic_add_fetch(&sh->taken, 1,
				    __ATOMIC_RELAXED);
				sched_yield();
				__atomic_sub_fetch(&sh->in, 1,
				    __ATOMIC_SEQ_CST);
				concurrency_release();
			}
			_exit(0);
		}
		ck_assert_int_ge(pids[i], 0);
	}
	for (i = 0; i < WORKERS; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	ck_assert_int_le(sh->max, LIMIT);
	ck_assert_int_gt(sh->taken, 0);
	ck_assert_int_eq(sh->taken + sh->full, WORKERS * ROUNDS);
	ck_assert_uint_eq(concurrency_running("p1"), 0);
	munmap(sh, sizeof(*sh));
}
END_TEST

START_TEST(test_off)
{
	char	long_name[128];

	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	ck_assert_int_eq(concurrency_take(long_name, 1), CONCURRENCY_OFF);
	concurrency_close();
	ck_assert_int_eq(concurrency_claim(), -1);
	ck_assert_int_eq(concurrency_take("p1", 1), CONCURRENCY_OFF);
	ck_assert_uint_eq(concurrency_running("p1"), 0);
	concurrency_release();
	concurrency_reap(getpid());
	ck_assert_int_eq(concurrency_open(""), -1);
	ck_assert_int_eq(concurrency_open("/nonexistent/dir/file"), -1);
	/* A successor opening the same file sees what is running. */
	ck_assert_int_eq(concurrency_open(path), 0);
	ck_assert_int_eq(concurrency_claim(), 0);
	ck_assert_uint_eq(concurrency_running("p1"), 0);
}
END_TEST

static Suite *
concurrency_suite(void)
{
	Suite	*s = suite_create("concurrency");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_limit_across_processes);
	tcase_add_test(tc, test_release_and_retake);
	tcase_add_test(tc, test_dead_worker_reclaimed);
	tcase_add_test(tc, test_race_never_over_limit);
	tcase_add_test(tc, test_off);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(concurrency_suite());
	int	 failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
