/*
 * health.c - GET /healthz (state of the store, memcached and worker
 * capacity) and GET /metrics (Prometheus text, aggregated over every
 * worker through metrics.c). Neither needs a secret nor reveals one.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "handlers.h"
#include "metrics.h"
#include "store.h"

void
health_check(struct app *app, const struct route_args *a, struct req *r,
    struct resp *rs)
{
	struct buf b = { 0 };
	const char *mc;
	unsigned alive, busy;
	int store_ok;

	(void)a;
	(void)r;
	/* The store is usable when its root is a writable directory. */
	store_ok = access(app->cfg.store_dir, R_OK | W_OK | X_OK) == 0;
	mc = app->cache == NULL ? "disabled" :
	    cache_ping(app->cache) == 0 ? "ok" : "unreachable";
	metrics_capacity(&alive, &busy);
	buf_printf(&b, "{\"status\":\"%s\",\"store\":\"%s\",\"memcached\":"
	    "\"%s\",\"workers\":{\"alive\":%u,\"busy\":%u},"
	    "\"engine\":\"%s\"}",
	    store_ok && strcmp(mc, "ok") == 0 ? "ok" : "degraded",
	    store_ok ? "ok" : "unusable", mc, alive, busy,
	    cache_engine_build());
	/* memcached down only slows invocations; an unusable store fails
	 * them, so only that makes the answer 503. */
	response_json(rs, store_ok ? 200 : 503, &b);
	buf_free(&b);
}

void
health_metrics(struct app *app, const struct route_args *a, struct req *r,
    struct resp *rs)
{
	(void)app;
	(void)a;
	(void)r;
	response_reset(rs);
	(void)response_header(rs, "Content-Type",
	    "text/plain; version=0.0.4", 25);
	metrics_render(&rs->body);
}
