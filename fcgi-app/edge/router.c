/*
 * router.c - the route table and dispatch: match, authenticate, validate
 * names, call. Names are checked here, before any handler can build a
 * path from them (SPEC §2).
 */
#include <string.h>

#include "auth.h"
#include "handlers.h"
#include "router.h"

/* NEEDS_NGINX_ACL: no secret, but nginx lets only some clients reach the
 * path (nginx/fnrun-server.conf.tmpl). Its ACL matches nginx's normalised
 * URI, which other raw spellings (a trailing slash, "//", %-escapes) also
 * normalise to, so such a route answers only its literal raw path. */
enum route_auth {
	NEEDS_NONE, NEEDS_NGINX_ACL, NEEDS_INVOKE_KEY, NEEDS_ADMIN_TOKEN
};

struct route {
	const char	*method;
	const char	*pattern[REQ_MAX_SEGMENTS + 1];	/* NULL-terminated */
	enum route_auth	 auth;
	route_handler	 handler;
};

/* Captures: ":p" project, ":r" request, ":f" fn, ":e" env name,
 * ":n" version number; anything else is a literal segment. */
static const struct route routes[] = {
	{ "GET", { "healthz" }, NEEDS_NONE, health_check },
	/* nginx serves /metrics to the local host only (nginx/). */
	{ "GET", { "metrics" }, NEEDS_NGINX_ACL, health_metrics },
	{ "POST", { "invoke", ":p", ":r", ":f" }, NEEDS_INVOKE_KEY,
	    invoke_handle },
	/* The console's test run (README "Console"): the same invocation,
	 * for the admin token, under /functions as SPEC §3 gives it. */
	{ "POST", { "functions", ":p", ":r", ":f", "invoke" },
	    NEEDS_ADMIN_TOKEN, invoke_handle },
	{ "POST", { "functions" }, NEEDS_ADMIN_TOKEN, upload_json },
	{ "PUT", { "functions", ":p", ":r", ":f" }, NEEDS_ADMIN_TOKEN,
	    upload_put },
	{ "GET", { "functions", ":p" }, NEEDS_ADMIN_TOKEN, admin_list_fns },
	{ "GET", { "functions", ":p", ":r", ":f" }, NEEDS_ADMIN_TOKEN,
	    admin_get_fn },
	{ "DELETE", { "functions", ":p", ":r", ":f" }, NEEDS_ADMIN_TOKEN,
	    admin_delete_fn },
	{ "GET", { "functions", ":p", ":r", ":f", "versions", ":n" },
	    NEEDS_ADMIN_TOKEN, admin_get_source },
	{ "PUT", { "functions", ":p", ":r", ":f", "active" },
	    NEEDS_ADMIN_TOKEN, admin_activate },
	{ "GET", { "projects" }, NEEDS_ADMIN_TOKEN, admin_list_projects },
	{ "GET", { "projects", ":p", "env" }, NEEDS_ADMIN_TOKEN,
	    admin_env_list },
	{ "PUT", { "projects", ":p", "env", ":e" }, NEEDS_ADMIN_TOKEN,
	    admin_env_set },
	{ "DELETE", { "projects", ":p", "env", ":e" }, NEEDS_ADMIN_TOKEN,
	    admin_env_unset },
	{ "GET", { "projects", ":p" }, NEEDS_ADMIN_TOKEN, admin_project },
	{ "PUT", { "projects", ":p", "limits" }, NEEDS_ADMIN_TOKEN,
	    admin_project_limits },
	{ "GET", { "projects", ":p", "egress" }, NEEDS_ADMIN_TOKEN,
	    admin_egress_get },
	{ "PUT", { "projects", ":p", "egress" }, NEEDS_ADMIN_TOKEN,
	    admin_egress_put },
	{ "DELETE", { "projects", ":p", "egress" }, NEEDS_ADMIN_TOKEN,
	    admin_egress_delete },
};

/* The raw path is the pattern's segments joined by "/", byte for byte
 * (for patterns of literals only). */
static int
path_is_literal(const struct route *rt, const char *path)
{
	size_t i, n;

	for (i = 0; rt->pattern[i] != NULL; i++) {
		n = strlen(rt->pattern[i]);
		if (*path++ != '/' || strncmp(path, rt->pattern[i], n) != 0)
			return 0;
		path += n;
	}
	return *path == '\0';
}

static int
path_matches(const struct route *rt, const struct req *r)
{
	size_t i;

	if (rt->auth == NEEDS_NGINX_ACL && !path_is_literal(rt, r->path))
		return 0;
	for (i = 0; i < r->nsegments; i++) {
		if (rt->pattern[i] == NULL)
			return 0;
		if (rt->pattern[i][0] != ':' &&
		    (strlen(rt->pattern[i]) != r->segment_len[i] ||
		    memcmp(rt->pattern[i], r->segment[i], r->segment_len[i])))
			return 0;
	}
	return rt->pattern[i] == NULL;
}

static int
authorized(const struct app *app, enum route_auth need, const struct req *r)
{
	switch (need) {
	case NEEDS_NONE:
	case NEEDS_NGINX_ACL:
		return 1;
	case NEEDS_INVOKE_KEY:
		return auth_equal(request_header(r, "x-fn-key"),
		    app->cfg.invoke_key);
	case NEEDS_ADMIN_TOKEN:
		return auth_bearer(request_header(r, "authorization"),
		    app->cfg.admin_token);
	}
	return 0;
}

/* Validates and copies the captures. Returns OUT_OK or the error. */
static enum outcome
capture(const struct route *rt, const struct req *r, struct route_args *a)
{
	size_t i, len;
	const char *s;
	char *dst;

	for (i = 0; i < r->nsegments; i++) {
		s = r->segment[i];
		len = r->segment_len[i];
		dst = NULL;
		switch (rt->pattern[i][0] == ':' ? rt->pattern[i][1] : 0) {
		case 'p': dst = a->id.project; break;
		case 'r': dst = a->id.request; break;
		case 'f': dst = a->id.fn; break;
		case 'e':
			if (!name_env_valid(s, len))
				return OUT_INVALID_NAME;
			memcpy(a->env_name, s, len);
			a->env_name[len] = '\0';
			continue;
		case 'n':
			if (request_parse_uint(s, len, &a->version) == -1)
				return OUT_NOT_FOUND;
			continue;
		default:
			continue;
		}
		if (!name_valid(s, len))
			return OUT_INVALID_NAME;
		memcpy(dst, s, len);
		dst[len] = '\0';
	}
	return OUT_OK;
}

void
router_dispatch(struct app *app, struct req *r, struct resp *rs)
{
	const struct route *rt = NULL;
	struct route_args args;
	enum outcome e;
	size_t i;
	int path_seen = 0;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (r->too_many_segments || !path_matches(&routes[i], r))
			continue;
		path_seen = 1;
		if (strcmp(routes[i].method, r->method) == 0) {
			rt = &routes[i];
			break;
		}
	}
	if (rt == NULL) {
		if (path_seen)
			response_error(rs, OUT_METHOD_NOT_ALLOWED, NULL,
			    "method %s is not allowed here", r->method);
		else
			response_error(rs, OUT_NOT_FOUND, NULL,
			    "no such endpoint");
		return;
	}
	if (!authorized(app, rt->auth, r)) {
		response_error(rs, OUT_UNAUTHORIZED, NULL, "%s",
		    rt->auth == NEEDS_INVOKE_KEY ?
		    "a valid X-Fn-Key header is required" :
		    "a valid Authorization: Bearer token is required");
		return;
	}
	memset(&args, 0, sizeof(args));
	if ((e = capture(rt, r, &args)) != OUT_OK) {
		if (e == OUT_INVALID_NAME)
			response_error(rs, e, NULL, "names must match "
			    "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$ (environment "
			    "variables ^[A-Z_][A-Z0-9_]{0,127}$)");
		else
			response_error(rs, e, NULL, "no such version");
		return;
	}
	rt->handler(app, &args, r, rs);
}
