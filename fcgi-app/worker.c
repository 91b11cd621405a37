/*
 * worker.c - one request at a time, from accept to finish. Every request
 * owns what is allocated for it and frees it once the answer is written.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "fcgi.h"
#include "guard.h"
#include "hotset.h"
#include "log.h"
#include "metrics.h"
#include "router.h"
#include "store.h"
#include "worker.h"

static volatile sig_atomic_t stopping;

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

/* Serves one request. Returns 0, or -1 when accept failed. With
 * accept_timer set, that timer is armed only while accept blocks. */
static int
serve_one(struct app *app, struct resp *rs, timer_t *accept_timer)
{
	static const struct itimerspec arm = { { 0, 0 }, { 0, 100000000 } };
	static const struct itimerspec disarm;
	struct req r;
	int rc;

	if (accept_timer != NULL)
		timer_settime(*accept_timer, 0, &arm, NULL);
	rc = fcgi_accept(app->conn, &r);
	if (accept_timer != NULL)
		timer_settime(*accept_timer, 0, &disarm, NULL);
	if (rc < 0) {
		if (!stopping && errno != EINTR) {
			log_warn("accept");
			usleep(100000);
		}
		request_free(&r);
		return -1;
	}
	log_set_request(r.request_id, fcgi_log_sink, app->conn);
	metrics_set_busy(1);
	metrics_add(M_REQUESTS, 1);
	response_reset(rs);
	if (rc == 1)
		response_error(rs, ERR_BAD_REQUEST, NULL,
		    "malformed request");
	else if ((rc = fcgi_read_body(app->conn, &r,
	    app->cfg.body_max_bytes)) == 1)
		response_error(rs, ERR_PAYLOAD_TOO_LARGE, NULL,
		    "request body exceeds %zu bytes", app->cfg.body_max_bytes);
	else if (rc == -1)
		response_error(rs, ERR_BAD_REQUEST, NULL,
		    "the request body could not be read");
	else
		router_dispatch(app, &r, rs);
	fcgi_send(app->conn, rs);
	fcgi_finish(app->conn);
	metrics_set_busy(0);
	log_set_request(NULL, NULL, NULL);
	request_free(&r);
	return 0;
}

static void
on_usr2(int sig)
{
	(void)sig;
}

/*
 * After a stop request: serve the connections already queued on the
 * listening socket, then return. (A swap renames a new pool's socket over
 * this one's path, so nothing new arrives; what nginx queued before must
 * not be reset.) Another draining worker may take the last queued
 * connection between poll and accept: a 100 ms SIGUSR2 timer interrupts
 * an accept that would wait for ever.
 */
static void
drain_backlog(struct app *app, struct resp *rs)
{
	struct pollfd pfd = { .fd = 0, .events = POLLIN, .revents = 0 };
	struct sigevent sev;
	struct sigaction sa;
	timer_t t;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr2;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGUSR2;
	if (timer_create(CLOCK_MONOTONIC, &sev, &t) == -1)
		return;
	while (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN) &&
	    serve_one(app, rs, &t) == 0)
		;
	timer_delete(t);
}

/* php-fpm's pm.max_requests, and a bound on the worker's RSS. */
static int
should_recycle(const struct app *app, unsigned long served)
{
	unsigned long size, resident;
	FILE *f;
	int over = 0;

	if (app->cfg.worker_max_requests > 0 &&
	    served >= app->cfg.worker_max_requests)
		return 1;
	if (app->cfg.worker_max_rss_mb == 0 ||
	    (f = fopen("/proc/self/statm", "re")) == NULL)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) == 2)
		over = resident * (unsigned long)sysconf(_SC_PAGESIZE) >
		    (unsigned long)app->cfg.worker_max_rss_mb << 20;
	fclose(f);
	return over;
}

int
worker_main(void *arg)
{
	struct app *app = arg;
	struct sigaction sa;
	struct resp rs = { 0 };
	unsigned long served = 0;
	char err[512];
	int rc = 0;

	/* No SA_RESTART: SIGTERM must interrupt accept() (libfcgi was told
	 * FCGI_FAIL_ACCEPT_ON_INTR), but never a request being served. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((app->store = store_open(app->cfg.store_dir, err,
	    sizeof(err))) == NULL) {
		log_warnx("store: %s", err);
		return 1;
	}
	/* memcached is optional: without a client every lookup is a miss. */
	if ((app->cache = cache_open(app->cfg.memcached,
	    app->cfg.cache_key)) == NULL)
		log_warnx("memcached '%s': no bytecode cache", app->cfg.memcached);
	if ((app->hot = hotset_new(app->cfg.warm_max_count,
	    (size_t)app->cfg.warm_max_mb << 20,
	    app->cfg.warm_max_calls)) == NULL) {
		log_warnx("out of memory");
		return 1;
	}
	if ((app->conn = fcgi_open()) == NULL) {
		log_warnx("cannot initialise FastCGI on fd 0 (run me under "
		    "spawn-fcgi)");
		store_close(app->store);
		return 1;
	}
	guard_init();
	(void)metrics_claim();
	if (log_invocation_open(app->cfg.invocation_log) == -1)
		log_warn("invocation log %s", app->cfg.invocation_log);
	while (!stopping) {
		if (serve_one(app, &rs, NULL) == 0 &&
		    should_recycle(app, ++served)) {
			log_info("recycling after %lu requests", served);
			rc = WORKER_EXIT_RECYCLE;
			break;
		}
	}
	if (stopping)
		drain_backlog(app, &rs);
	response_free(&rs);
	hotset_free(app->hot);
	cache_close(app->cache);
	store_close(app->store);
	return rc;
}
