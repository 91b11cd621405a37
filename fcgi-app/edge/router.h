/*
 * router.h - (method, path) -> handler, from one table; the route decides
 * which secret is needed and which path segments are names to validate.
 */
#ifndef FNRUN_ROUTER_H
#define FNRUN_ROUTER_H

#include "app.h"
#include "names.h"
#include "request.h"
#include "response.h"

/* The validated captures of a route. */
struct route_args {
	struct fn_id	id;		/* :p, :r, :f (unused ones are "") */
	char		env_name[ENV_NAME_MAX_LEN + 1];	/* :e */
	unsigned	version;	/* :n */
};

typedef void	(*route_handler)(struct app *, const struct route_args *,
		    struct req *, struct resp *);

/* Finds the route for r, checks its secret and names, and runs its
 * handler, which fills rs. Every failure becomes a JSON error in rs. */
void	router_dispatch(struct app *app, struct req *r, struct resp *rs);

#endif
