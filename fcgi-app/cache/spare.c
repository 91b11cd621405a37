/*
 * spare.c - one slot holding at most one heap made ahead of need, and the
 * thread that makes it. The thread only ever runs sandbox_new (a new heap
 * and the globals every function gets: no user code, no function's code)
 * on heaps no other thread can see yet; the slot itself is behind a mutex.
 * It never loads code into the heap nor calls it: the heap leaves the slot
 * exactly as sandbox_new made it, with the taker's limits set.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "spare.h"

struct spare {
	struct sandbox_limits	 make;
	pthread_mutex_t		 mu;	/* guards everything below */
	pthread_cond_t		 cv;	/* asked, or stop */
	pthread_cond_t		 made;	/* a making or an ask ended */
	pthread_t		 thread;
	int			 running;	/* the thread was started */
	int			 asked;		/* spare_ask since the last make */
	int			 stop;
	int			 making;	/* a heap is being made */
	struct sandbox		*sb;	/* NULL: empty */
	struct spare_stats	 stats;
};

struct spare *
spare_new(const struct sandbox_limits *make)
{
	struct spare *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->make = *make;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_cond_init(&s->made, NULL);
	return s;
}

void
spare_free(struct spare *s)
{
	if (s == NULL)
		return;
	if (s->running) {
		pthread_mutex_lock(&s->mu);
		s->stop = 1;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->thread, NULL);
	}
	sandbox_free(s->sb);
	pthread_cond_destroy(&s->cv);
	pthread_cond_destroy(&s->made);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

/* Makes a heap (outside the lock: nobody else can see it) into the slot
 * if it is empty. Called with s->mu held; returns with it held. */
static int
fill_locked(struct spare *s)
{
	struct sandbox *sb;

	if (s->sb != NULL)
		return 0;
	s->making = 1;
	pthread_mutex_unlock(&s->mu);
	sb = sandbox_new(&s->make);
	pthread_mutex_lock(&s->mu);
	s->making = 0;
	if (sb == NULL) {
		s->stats.failed++;
		return -1;
	}
	/* Only this thread (or spare_fill's caller, when there is no
	 * thread) fills the slot: it is still empty. */
	s->sb = sb;
	s->stats.made++;
	return 1;
}

int
spare_fill(struct spare *s)
{
	int rc;

	pthread_mutex_lock(&s->mu);
	rc = fill_locked(s);
	pthread_cond_broadcast(&s->made);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static void *
maker(void *arg)
{
	struct spare *s = arg;

	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		if (!s->asked) {
			pthread_cond_wait(&s->cv, &s->mu);
			continue;
		}
		s->asked = 0;
		(void)fill_locked(s);
		/* Whatever came of it, a taker waiting for it may go on. */
		pthread_cond_broadcast(&s->made);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int
spare_start(struct spare *s)
{
	sigset_t all, old;
	int rc;

	/* Every signal stays with the worker's own thread: SIGALRM is the
	 * watchdog's (it answers the request in hand), TERM is taken only
	 * while waiting for a connection. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&s->thread, NULL, maker, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return -1;
	s->running = 1;
	return 0;
}

void
spare_ask(struct spare *s)
{
	pthread_mutex_lock(&s->mu);
	if (!s->running)
		(void)fill_locked(s);
	else if (s->sb == NULL) {
		s->asked = 1;
		pthread_cond_signal(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
}

struct sandbox *
spare_take(struct spare *s, const struct sandbox_limits *lim)
{
	struct sandbox *sb;

	pthread_mutex_lock(&s->mu);
	/* Asked for, or half made already: finishing it costs less than a
	 * second heap made beside it, both threads in malloc at once. */
	while (s->making || (s->asked && s->running && !s->stop))
		pthread_cond_wait(&s->made, &s->mu);
	if ((sb = s->sb) != NULL && sandbox_set_limits(sb, lim) == -1) {
		s->stats.refused++;
		sb = NULL;
	} else if (sb != NULL) {
		s->sb = NULL;
		s->stats.taken++;
	}
	pthread_mutex_unlock(&s->mu);
	return sb;
}

int
spare_ready(struct spare *s)
{
	return spare_bytes(s) > 0;	/* a heap always holds some */
}

size_t
spare_bytes(struct spare *s)
{
	size_t n;

	pthread_mutex_lock(&s->mu);
	n = s->sb != NULL ? sandbox_memory_used(s->sb) : 0;
	pthread_mutex_unlock(&s->mu);
	return n;
}

void
spare_stats(struct spare *s, struct spare_stats *out)
{
	pthread_mutex_lock(&s->mu);
	*out = s->stats;
	pthread_mutex_unlock(&s->mu);
}
