/*
 * handlers.h - the use cases the router dispatches to, one file each:
 * upload.c, invoke.c, admin.c (management, SPEC §7, §13) and health.c.
 */
#ifndef FNRUN_HANDLERS_H
#define FNRUN_HANDLERS_H

#include "router.h"

void	upload_json(struct app *, const struct route_args *, struct req *,
	    struct resp *);
void	upload_put(struct app *, const struct route_args *, struct req *,
	    struct resp *);
void	invoke_handle(struct app *, const struct route_args *, struct req *,
	    struct resp *);
/* After an answer is written: the heap its call made (app->fresh), if
 * kept, is compacted and put among the warm heaps. Runs no user code. */
void	invoke_settle(struct app *);
void	admin_list_projects(struct app *, const struct route_args *,
	    struct req *, struct resp *);
void	admin_list_fns(struct app *, const struct route_args *, struct req *,
	    struct resp *);
void	admin_get_fn(struct app *, const struct route_args *, struct req *,
	    struct resp *);
void	admin_get_source(struct app *, const struct route_args *,
	    struct req *, struct resp *);
void	admin_activate(struct app *, const struct route_args *, struct req *,
	    struct resp *);
void	admin_delete_fn(struct app *, const struct route_args *, struct req *,
	    struct resp *);
void	admin_env_set(struct app *, const struct route_args *, struct req *,
	    struct resp *);
void	admin_env_unset(struct app *, const struct route_args *, struct req *,
	    struct resp *);
void	admin_env_list(struct app *, const struct route_args *, struct req *,
	    struct resp *);
void	admin_project(struct app *, const struct route_args *, struct req *,
	    struct resp *);
void	admin_project_limits(struct app *, const struct route_args *,
	    struct req *, struct resp *);
void	admin_egress_get(struct app *, const struct route_args *,
	    struct req *, struct resp *);
void	admin_egress_put(struct app *, const struct route_args *,
	    struct req *, struct resp *);
void	admin_egress_delete(struct app *, const struct route_args *,
	    struct req *, struct resp *);
void	health_check(struct app *, const struct route_args *, struct req *,
	    struct resp *);
void	health_metrics(struct app *, const struct route_args *, struct req *,
	    struct resp *);

#endif
