/*
 * worker.c - one request at a time, from accept to finish. Every request
 * owns what is allocated for it and frees it once the answer is written.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "concurrency.h"
#include "fcgi.h"
#include "guard.h"
#include "handlers.h"
#include "hotset.h"
#include "lower.h"
#include "log.h"
#include "metrics.h"
#include "router.h"
#include "spare.h"
#include "store.h"
#include "worker.h"

/* With fcgi_keepalive: the connections one worker holds at once (nginx
 * opens one per request in progress beyond the idle ones it keeps; a
 * worker that holds them all stops taking new ones), and how long a
 * stopping worker waits for the next request on a kept connection before
 * it closes them (above nginx's upstream keepalive_timeout, so nginx
 * normally closes them first). */
#define KEEP_MAX_CONNS		256
#define KEEP_DRAIN_IDLE_MS	6000

static volatile sig_atomic_t stopping;

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

/*
 * Waits until the listening socket has a connection or a kept connection
 * its next request. SIGTERM is blocked everywhere else, so it can never
 * interrupt libfcgi's read(2)/write(2) mid-request (that truncates
 * answers); ppoll unblocks it atomically for the wait only, so a TERM is
 * never missed either. Returns 0 when readable, -1 when asked to stop.
 */
static int
wait_for_connection(struct fcgi_conn *c, const sigset_t *waitmask)
{
	int rc;

	while (!stopping) {
		if ((rc = fcgi_wait(c, 1, -1, waitmask)) == 1)
			return 0;
		if (rc == -1 && errno != EINTR) {
			log_warn("ppoll");
			usleep(100000);
		}
	}
	return -1;
}

/* Whether a request or a connection waits now (no waiting). */
static int
connection_waiting(struct fcgi_conn *c)
{
	return fcgi_wait(c, 1, 0, NULL) != 0;
}

/* Work taken off the requests' path, done once an answer is out: the heap
 * the request made is compacted, and the spare heap made again by its
 * thread while no connection waits, beside whatever request comes next
 * (a request never waits for a spare). */
static void
after_answer(struct app *app)
{
	invoke_settle(app);
	if (app->spare == NULL)
		return;
	metrics_set_spare(spare_ready(app->spare));
	/* Under a full queue it would only take a core from the requests. */
	if (!connection_waiting(app->conn))
		spare_ask(app->spare);
}

/* Serves one request. Returns 0, or -1 when there was none to accept:
 * the listening socket is non-blocking, so a connection a sibling took
 * first costs an EAGAIN, not a wait, and so does a kept connection nginx
 * closed. */
static int
serve_one(struct app *app, struct resp *rs)
{
	struct req r;
	enum fcgi_accept_result accepted;

	accepted = fcgi_accept(app->conn, &r);
	if (accepted == FCGI_NONE) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
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
	if (accepted == FCGI_MALFORMED)
		response_error(rs, OUT_BAD_REQUEST, NULL, "%s",
		    r.malformed != NULL ? r.malformed : "malformed request");
	else switch (fcgi_read_body(app->conn, &r, app->cfg.body_max_bytes)) {
	case FCGI_BODY_TOO_LARGE:
		response_error(rs, OUT_PAYLOAD_TOO_LARGE, NULL,
		    "request body exceeds %zu bytes", app->cfg.body_max_bytes);
		break;
	case FCGI_BODY_ERROR:
		response_error(rs, OUT_BAD_REQUEST, NULL,
		    "the request body could not be read");
		break;
	case FCGI_BODY_OK:
		router_dispatch(app, &r, rs);
		break;
	}
	fcgi_send(app->conn, rs);
	fcgi_finish(app->conn);
	metrics_set_busy(0);
	log_set_request(NULL, NULL, NULL);
	request_free(&r);
	return 0;
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
	sigset_t stopset, waitmask;
	unsigned long served = 0;
	char err[ERRSTR_MAX];
	int rc = 0, fl;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* TERM/INT are taken only while waiting (wait_for_connection). */
	sigemptyset(&stopset);
	sigaddset(&stopset, SIGTERM);
	sigaddset(&stopset, SIGINT);
	sigprocmask(SIG_BLOCK, &stopset, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	/* Every worker of the pool polls, then accepts without blocking.
	 * Accepted sockets do not inherit O_NONBLOCK (accept(2), Linux). */
	if ((fl = fcntl(0, F_GETFL)) == -1 ||
	    fcntl(0, F_SETFL, fl | O_NONBLOCK) == -1) {
		log_warn("listening socket (fd 0; run me under spawn-fcgi)");
		return 1;
	}
	if ((app->store = store_open(app->cfg.store_dir, err,
	    sizeof(err))) == NULL) {
		log_warnx("store: %s", err);
		return 1;
	}
	store_set_quotas(app->store, &(struct store_quotas){
	    .functions = app->cfg.project_max_functions,
	    .versions = app->cfg.function_max_versions,
	    .env_vars = app->cfg.project_max_env_vars,
	    .env_value_bytes = app->cfg.env_value_max_bytes,
	    .store_bytes = app->cfg.project_max_store_bytes });
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
	/* Made under the largest cap a function may ask for; the function
	 * that takes it gets its own (spare_take). */
	if (app->cfg.spare_heap &&
	    (app->spare = spare_new(&(struct sandbox_limits){
	    .memory_bytes = (size_t)app->cfg.memory_max_mb << 20,
	    .timeout_ms = app->cfg.timeout_ms })) == NULL) {
		log_warnx("out of memory");
		return 1;
	}
	if (app->spare != NULL && spare_start(app->spare) == -1)
		log_warn("spare heap thread: made between requests instead");
	/* Checked by config_load already: this cannot fail on syntax. */
	if (egress_list_parse(app->cfg.egress_allow, &app->egress.allow, err,
	    sizeof(err)) == -1 ||
	    egress_list_parse(app->cfg.egress_deny, &app->egress.deny, err,
	    sizeof(err)) == -1) {
		log_warnx("egress: %s", err);
		return 1;
	}
	if ((app->conn = fcgi_open(app->cfg.fcgi_allow,
	    app->cfg.fcgi_keepalive > 0 ? KEEP_MAX_CONNS : 1, err,
	    sizeof(err))) == NULL) {
		log_warnx("FastCGI on fd 0 (run me under spawn-fcgi): %s", err);
		store_close(app->store);
		return 1;
	}
	guard_init();
	(void)metrics_claim();
	if (app->cfg.concurrency_file[0] != '\0' && concurrency_claim() == -1)
		log_warnx("no concurrency record: this worker's invocations "
		    "are not counted");
	if (log_invocation_open(app->cfg.invocation_log) == -1)
		log_warn("invocation log %s", app->cfg.invocation_log);
	after_answer(app);
	while (wait_for_connection(app->conn, &waitmask) == 0) {
		if (serve_one(app, &rs) == -1)
			continue;
		invoke_settle(app);
		if (should_recycle(app, ++served)) {
			log_info("recycling after %lu requests", served);
			rc = WORKER_EXIT_RECYCLE;
			break;
		}
		after_answer(app);
	}
	/* Stopping: what nginx already queued on this socket is served (a
	 * swap renamed a new pool's socket over its path, so nothing new
	 * arrives); accept says EAGAIN once the queue is empty. */
	while (stopping && serve_one(app, &rs) == 0)
		invoke_settle(app);
	/* Connections nginx keeps (fcgi_keepalive) may still bring requests:
	 * closing one nginx is about to use would fail a request it cannot
	 * pass on (a POST), so they are served until nginx closes them
	 * (its upstream keepalive_timeout and keepalive_time bound that),
	 * and no new connection is taken. */
	while (fcgi_kept(app->conn) > 0 &&
	    fcgi_wait(app->conn, 0, KEEP_DRAIN_IDLE_MS, NULL) == 1) {
		if (serve_one(app, &rs) == 0)
			invoke_settle(app);
	}
	response_free(&rs);
	invoke_settle(app);
	spare_free(app->spare);
	hotset_free(app->hot);
	lower_free(app->lower);
	cache_close(app->cache);
	store_close(app->store);
	egress_list_free(&app->egress.allow);
	egress_list_free(&app->egress.deny);
	return rc;
}
