/*
 * supervisor.c - the slot process: fork, wait, replace. It holds no
 * request state and runs no user code; it only forwards the stop signal.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "concurrency.h"
#include "log.h"
#include "metrics.h"
#include "supervisor.h"
#include "worker.h"

#define BACKOFF_MIN_MS	50
#define BACKOFF_MAX_MS	1000

/* Whole milliseconds on the monotonic clock. */
static long long
now_ms(void)
{
	return (long long)(clock_ns() / 1000000);
}

static pid_t
start(int (*child_main)(void *), void *arg, const sigset_t *oldmask)
{
	pid_t pid;

	if ((pid = fork()) == -1) {
		log_warn("fork");
		return -1;
	}
	if (pid == 0) {
		/* The worker must not outlive its slot. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() == 1)
			_exit(0);
		sigprocmask(SIG_SETMASK, oldmask, NULL);
		_exit(child_main(arg));
	}
	return pid;
}

static void
describe(pid_t pid, int status)
{
	if (WIFEXITED(status) &&
	    WEXITSTATUS(status) == WORKER_EXIT_HARD_TIMEOUT)
		log_info("worker %d cut off at its hard deadline; replacing",
		    (int)pid);
	else if (WIFEXITED(status) &&
	    WEXITSTATUS(status) == WORKER_EXIT_RECYCLE)
		log_info("worker %d recycled; replacing", (int)pid);
	else if (WIFEXITED(status))
		log_warnx("worker %d exited with status %d; replacing",
		    (int)pid, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_warnx("worker %d killed by signal %d; replacing",
		    (int)pid, WTERMSIG(status));
}

static int
drain(pid_t child, unsigned drain_ms)
{
	long long until = now_ms() + drain_ms;
	int status;

	if (child <= 0)
		return 0;
	kill(child, SIGTERM);
	while (now_ms() < until) {
		if (waitpid(child, &status, WNOHANG) == child)
			return 0;
		usleep(20000);
	}
	log_warnx("worker %d did not drain in %u ms; killing", (int)child,
	    drain_ms);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	return 0;
}

int
supervisor_run(int (*child_main)(void *), void *arg, unsigned drain_ms)
{
	sigset_t set, oldmask;
	siginfo_t si;
	struct timespec tick = { 0, 100 * 1000000 };
	pid_t child, pid;
	long long started = 0, restart_at = 0;
	unsigned backoff = 0;
	int status, sig;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &oldmask);
	child = start(child_main, arg, &oldmask);
	started = now_ms();
	for (;;) {
		if (child <= 0 && now_ms() >= restart_at) {
			child = start(child_main, arg, &oldmask);
			started = now_ms();
		}
		sig = sigtimedwait(&set, &si, &tick);
		if (sig == SIGTERM || sig == SIGINT)
			return drain(child, drain_ms);
		if (sig == SIGHUP && child > 0)
			kill(child, SIGTERM);	/* recycle: drains, then replaced */
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid != child)
				continue;
			describe(pid, status);
			/* Killed mid-call (kill -9, a crash): its project's
			 * slot is free now, not when its pid is reused. */
			concurrency_reap(pid);
			metrics_add(M_WORKER_RESTARTS, 1);
			child = -1;
			/* Deliberate exits (hard deadline, engine fatal) and
			 * workers that served a while restart at once; a worker
			 * dying young backs off, capped so the slot is never
			 * given up. */
			if ((WIFEXITED(status) &&
			    (WEXITSTATUS(status) == WORKER_EXIT_HARD_TIMEOUT ||
			    WEXITSTATUS(status) == WORKER_EXIT_FATAL ||
			    WEXITSTATUS(status) == WORKER_EXIT_RECYCLE)) ||
			    now_ms() - started >= 1000)
				backoff = 0;
			else
				backoff = backoff == 0 ? BACKOFF_MIN_MS :
				    (backoff * 2 > BACKOFF_MAX_MS ?
				    BACKOFF_MAX_MS : backoff * 2);
			restart_at = now_ms() + backoff;
		}
		if (sig == -1 && errno != EAGAIN && errno != EINTR)
			log_warn("sigtimedwait");
	}
}
