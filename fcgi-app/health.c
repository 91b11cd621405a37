/*
 * health.c - GET /healthz: is the store usable, is memcached reachable.
 * Needs no secret and reveals nothing but those states.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "handlers.h"
#include "store.h"

void
health_check(struct app *app, const struct route_args *a, struct req *r,
    struct resp *rs)
{
	struct buf b = { 0 };
	int store_ok;

	(void)a;
	(void)r;
	/* The store is usable when its root is a writable directory. */
	store_ok = access(app->cfg.store_dir, R_OK | W_OK | X_OK) == 0;
	buf_printf(&b, "{\"status\":\"%s\",\"store\":\"%s\","
	    "\"memcached\":\"not_used\"}", store_ok ? "ok" : "degraded",
	    store_ok ? "ok" : "unusable");
	response_json(rs, store_ok ? 200 : 503, &b);
	buf_free(&b);
}
