/*
 * watchdog.c - one ITIMER_REAL per worker process and its SIGALRM handler.
 * The handler calls only the expiry callback; it never touches the heap
 * that was running, which is abandoned with the process.
 */
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "watchdog.h"
#include "worker.h"

static void	(*expire_cb)(void);

static void
on_alarm(int sig)
{
	(void)sig;
	if (expire_cb != NULL)
		expire_cb();
	_exit(WORKER_EXIT_HARD_TIMEOUT);
}

void
watchdog_init(void (*on_expire)(void))
{
	struct sigaction sa;

	expire_cb = on_expire;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigfillset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
}

static void
set_timer(unsigned ms)
{
	struct itimerval it;

	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	setitimer(ITIMER_REAL, &it, NULL);
}

void
watchdog_arm(unsigned ms)
{
	set_timer(ms == 0 ? 1 : ms);
}

void
watchdog_disarm(void)
{
	set_timer(0);
}
