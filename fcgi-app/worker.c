/*
 * worker.c - one request at a time, from accept to finish. Every request
 * owns what is allocated for it and frees it once the answer is written.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
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

static void
serve_one(struct app *app, struct resp *rs)
{
	struct req r;
	int rc;

	rc = fcgi_accept(app->conn, &r);
	if (rc < 0) {
		if (!stopping && errno != EINTR) {
			log_warn("accept");
			usleep(100000);
		}
		request_free(&r);
		return;
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
}

int
worker_main(void *arg)
{
	struct app *app = arg;
	struct sigaction sa;
	struct resp rs = { 0 };
	char err[512];

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
	while (!stopping)
		serve_one(app, &rs);
	response_free(&rs);
	hotset_free(app->hot);
	cache_close(app->cache);
	store_close(app->store);
	return 0;
}
