/*
 * admin.c - SPEC §7: projects, list, versions, source, activate
 * (rollback), delete, project environment variables, a project's usage
 * and limits (SPEC §13) and its egress host allowlist (SPEC §12). Each handler is a short sequence of store
 * calls; values of environment variables are never returned.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concurrency.h"
#include "handlers.h"
#include "json_in.h"
#include "limits.h"
#include "log.h"
#include "store.h"
#include "store_egress.h"

/* Maps a store status to an answer; returns 1 when it was not STORE_OK. */
static int
store_failed(int st, const char *err, const char *what, struct resp *rs)
{
	if (st == STORE_OK)
		return 0;
	if (st == STORE_NOT_FOUND)
		response_error(rs, OUT_NOT_FOUND, NULL, "%s", what);
	else if (st == STORE_QUOTA)	/* SPEC §13: err names the quota */
		response_error(rs, OUT_QUOTA_EXCEEDED, NULL, "%s", err);
	else {
		log_warnx("store: %s", err);
		response_error(rs, OUT_UNAVAILABLE, NULL,
		    "the store is not usable right now");
	}
	return 1;
}

/* The active version's size and creation time, as the list shows them
 * (the console's function table); nothing when it vanished meanwhile. */
static void
active_details(struct app *app, const char *project,
    const struct store_fn *fn, struct buf *b)
{
	struct store_version v;
	struct fn_id id;
	char err[ERRSTR_MAX];

	if (fn->active == 0)
		return;
	if (name_fn_id(&id, project, strlen(project), fn->request,
	    strlen(fn->request), fn->fn, strlen(fn->fn)) == -1 ||
	    store_get_version(app->store, &id, fn->active, &v, err,
	    sizeof(err)) != STORE_OK)
		return;
	buf_printf(b, ",\"size\":%zu,\"createdAt\":%lld", v.size,
	    (long long)v.created_at);
}

void
admin_list_fns(struct app *app, const struct route_args *a, struct req *r,
    struct resp *rs)
{
	struct store_fn *fns = NULL;
	struct buf b = { 0 };
	char err[ERRSTR_MAX];
	size_t i, n = 0;

	(void)r;
	if (store_failed(store_list_fns(app->store, a->id.project, &fns, &n,
	    err, sizeof(err)), err, "no such project", rs))
		return;
	buf_puts(&b, "{\"projectId\":");
	buf_json_string(&b, a->id.project, strlen(a->id.project));
	buf_puts(&b, ",\"functions\":[");
	for (i = 0; i < n; i++) {
		buf_puts(&b, i > 0 ? ",{\"requestId\":" : "{\"requestId\":");
		buf_json_string(&b, fns[i].request, strlen(fns[i].request));
		buf_puts(&b, ",\"fnName\":");
		buf_json_string(&b, fns[i].fn, strlen(fns[i].fn));
		if (fns[i].active > 0)
			buf_printf(&b, ",\"active\":%u", fns[i].active);
		else
			buf_puts(&b, ",\"active\":null");
		active_details(app, a->id.project, &fns[i], &b);
		buf_append(&b, "}", 1);
	}
	buf_puts(&b, "]}");
	response_json(rs, 200, &b);
	buf_free(&b);
	free(fns);
}

void
admin_list_projects(struct app *app, const struct route_args *a,
    struct req *r, struct resp *rs)
{
	struct store_project *p = NULL;
	struct buf b = { 0 };
	char err[ERRSTR_MAX];
	size_t i, n = 0;

	(void)a;
	(void)r;
	if (store_failed(store_list_projects(app->store, &p, &n, err,
	    sizeof(err)), err, "no projects", rs))
		return;
	buf_puts(&b, "{\"projects\":[");
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_append(&b, ",", 1);
		buf_json_string(&b, p[i].name, strlen(p[i].name));
	}
	buf_puts(&b, "]}");
	response_json(rs, 200, &b);
	buf_free(&b);
	free(p);
}

void
admin_get_fn(struct app *app, const struct route_args *a, struct req *r,
    struct resp *rs)
{
	struct store_version *v = NULL;
	struct buf b = { 0 };
	char err[ERRSTR_MAX];
	size_t i, n = 0;
	unsigned active = 0;

	(void)r;
	if (store_failed(store_list_versions(app->store, &a->id, &v, &n,
	    &active, err, sizeof(err)), err, "no such function", rs))
		return;
	if (active > 0)
		buf_printf(&b, "{\"active\":%u,\"versions\":[", active);
	else
		buf_puts(&b, "{\"active\":null,\"versions\":[");
	for (i = 0; i < n; i++)
		buf_printf(&b, "%s{\"version\":%u,\"sha256\":\"%s\","
		    "\"size\":%zu,\"createdAt\":%lld,\"timeoutMs\":%u,"
		    "\"memoryMb\":%u,\"isolation\":\"%s\"}", i > 0 ? "," : "",
		    v[i].version, v[i].sha256, v[i].size,
		    (long long)v[i].created_at, v[i].limits.timeout_ms,
		    v[i].limits.memory_mb,
		    v[i].limits.per_call ? "per-call" : "warm");
	buf_puts(&b, "]}");
	response_json(rs, 200, &b);
	buf_free(&b);
	free(v);
}

void
admin_get_source(struct app *app, const struct route_args *a, struct req *r,
    struct resp *rs)
{
	char err[ERRSTR_MAX], *src = NULL;
	size_t len;

	(void)r;
	if (store_failed(store_read_source(app->store, &a->id, a->version,
	    &src, &len, err, sizeof(err)), err, "no such version", rs))
		return;
	response_reset(rs);
	(void)response_header(rs, "Content-Type", "application/javascript",
	    22);
	buf_append(&rs->body, src, len);
	free(src);
}

void
admin_activate(struct app *app, const struct route_args *a, struct req *r,
    struct resp *rs)
{
	struct json_in_field f = { "version", JSON_IN_UINT, 0, NULL, 0, 0 };
	struct buf b = { 0 };
	char err[ERRSTR_MAX];
	enum json_in_result rc;

	rc = json_in_fields(r->body, r->body_len, &f, 1, err, sizeof(err));
	if (rc != JSON_IN_OK || !f.present || f.num == 0) {
		response_error(rs, rc == JSON_IN_NOT_OBJECT ? OUT_INVALID_JSON :
		    OUT_BAD_REQUEST, NULL, "%s", rc != JSON_IN_OK ? err :
		    "body must be {\"version\": N} with N >= 1");
		return;
	}
	if (store_failed(store_set_active(app->store, &a->id,
	    (unsigned)f.num, err, sizeof(err)), err, "no such version", rs))
		return;
	log_info("activate %s/%s/%s version=%lu", a->id.project,
	    a->id.request, a->id.fn, f.num);
	buf_printf(&b, "{\"active\":%lu}", f.num);
	response_json(rs, 200, &b);
	buf_free(&b);
}

void
admin_delete_fn(struct app *app, const struct route_args *a, struct req *r,
    struct resp *rs)
{
	char err[ERRSTR_MAX];

	(void)r;
	if (store_failed(store_delete_fn(app->store, &a->id, err,
	    sizeof(err)), err, "no such function", rs))
		return;
	log_info("delete %s/%s/%s", a->id.project, a->id.request, a->id.fn);
	response_reset(rs);
	rs->status = 204;
}

void
admin_env_set(struct app *app, const struct route_args *a, struct req *r,
    struct resp *rs)
{
	char err[ERRSTR_MAX];

	if (store_failed(store_env_set(app->store, a->id.project, a->env_name,
	    r->body, r->body_len, err, sizeof(err)), err, "no such project",
	    rs))
		return;
	response_reset(rs);
	rs->status = 204;
}

void
admin_env_unset(struct app *app, const struct route_args *a, struct req *r,
    struct resp *rs)
{
	char err[ERRSTR_MAX];

	(void)r;
	if (store_failed(store_env_unset(app->store, a->id.project,
	    a->env_name, err, sizeof(err)), err, "no such variable", rs))
		return;
	response_reset(rs);
	rs->status = 204;
}

void
admin_env_list(struct app *app, const struct route_args *a, struct req *r,
    struct resp *rs)
{
	struct store_env_var *vars = NULL;
	struct buf b = { 0 };
	char err[ERRSTR_MAX];
	size_t i, n = 0;

	(void)r;
	if (store_failed(store_env_list(app->store, a->id.project, 0, &vars,
	    &n, err, sizeof(err)), err, "no such project", rs))
		return;
	buf_puts(&b, "{\"names\":[");
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_append(&b, ",", 1);
		buf_json_string(&b, vars[i].name, strlen(vars[i].name));
	}
	buf_puts(&b, "]}");
	response_json(rs, 200, &b);
	buf_free(&b);
	store_env_free(vars, n);
}

/* One "name":{"used":u,"limit":l} member of the project's answer. */
static void
usage_member(struct buf *b, const char *name, unsigned long long used,
    unsigned long long limit)
{
	buf_printf(b, ",\"%s\":{\"used\":%llu,\"limit\":%llu}", name, used,
	    limit);
}

/* GET /projects/{project}: what the project holds and runs, against each
 * of its limits (SPEC §13). An unknown project holds nothing. */
void
admin_project(struct app *app, const struct route_args *a, struct req *r,
    struct resp *rs)
{
	const struct config *cfg = &app->cfg;
	struct store_project_limits set;
	struct store_usage u;
	struct buf b = { 0 };
	char err[ERRSTR_MAX];

	(void)r;
	if (store_failed(store_project_usage(app->store, a->id.project, &u,
	    err, sizeof(err)), err, "no such project", rs) ||
	    store_failed(store_project_limits_get(app->store, a->id.project,
	    &set, err, sizeof(err)), err, "no such project", rs))
		return;
	buf_puts(&b, "{\"projectId\":");
	buf_json_string(&b, a->id.project, strlen(a->id.project));
	buf_printf(&b, ",\"concurrency\":{\"used\":%u,\"limit\":%u,"
	    "\"default\":%u,\"workers\":%u,\"set\":",
	    concurrency_running(a->id.project),
	    limits_project_concurrency(cfg, &set),
	    config_project_concurrency(cfg), cfg->workers);
	if (set.concurrency > 0)
		buf_printf(&b, "%u}", set.concurrency);
	else
		buf_puts(&b, "null}");
	usage_member(&b, "functions", u.functions, cfg->project_max_functions);
	usage_member(&b, "versionsPerFunction", u.versions_max,
	    cfg->function_max_versions);
	usage_member(&b, "envVars", u.env_vars, cfg->project_max_env_vars);
	usage_member(&b, "envValueBytes", u.env_value_max,
	    cfg->env_value_max_bytes);
	usage_member(&b, "storeBytes", u.store_bytes,
	    cfg->project_max_store_bytes);
	buf_puts(&b, "}");
	response_json(rs, 200, &b);
	buf_free(&b);
}

/* PUT /projects/{project}/limits {"concurrency": n}: 1..workers (SPEC
 * §13), or 0 for the default again; answers as GET /projects/{project}. */
void
admin_project_limits(struct app *app, const struct route_args *a,
    struct req *r, struct resp *rs)
{
	struct json_in_field f = { "concurrency", JSON_IN_UINT, 0, NULL, 0, 0 };
	struct store_project_limits set;
	char err[ERRSTR_MAX];
	enum json_in_result rc;

	rc = json_in_fields(r->body, r->body_len, &f, 1, err, sizeof(err));
	if (rc != JSON_IN_OK || !f.present || f.num > app->cfg.workers) {
		if (rc == JSON_IN_OK)
			snprintf(err, sizeof(err), "body must be "
			    "{\"concurrency\": n} with n from 1 to %u (the "
			    "workers), or 0 for the default",
			    app->cfg.workers);
		response_error(rs, rc == JSON_IN_NOT_OBJECT ? OUT_INVALID_JSON :
		    OUT_BAD_REQUEST, NULL, "%s", err);
		return;
	}
	memset(&set, 0, sizeof(set));
	set.concurrency = (unsigned)f.num;
	if (store_failed(store_project_limits_set(app->store, a->id.project,
	    &set, err, sizeof(err)), err, "no such project", rs))
		return;
	log_info("limits %s concurrency=%u", a->id.project, set.concurrency);
	admin_project(app, a, r, rs);
}

/* {"projectId":p,"allow":[...]} or "allow":null when l is NULL (no list:
 * the project's functions are not narrowed). */
static void
egress_answer(const char *project, const struct egress_hosts *l,
    struct resp *rs)
{
	struct buf	 b = { 0 };
	const char	*e;
	size_t		 i;

	buf_puts(&b, "{\"projectId\":");
	buf_json_string(&b, project, strlen(project));
	if (l == NULL)
		buf_puts(&b, ",\"allow\":null}");
	else {
		buf_puts(&b, ",\"allow\":[");
		for (i = 0; i < egress_hosts_count(l); i++) {
			if (i > 0)
				buf_append(&b, ",", 1);
			e = egress_hosts_entry(l, i);
			buf_json_string(&b, e, strlen(e));
		}
		buf_puts(&b, "]}");
	}
	response_json(rs, 200, &b);
	buf_free(&b);
}

/* GET /projects/{project}/egress (SPEC §12). */
void
admin_egress_get(struct app *app, const struct route_args *a, struct req *r,
    struct resp *rs)
{
	struct egress_hosts *l = NULL;
	char err[ERRSTR_MAX];

	(void)r;
	if (store_failed(store_egress_get(app->store, a->id.project, &l, err,
	    sizeof(err)), err, "no such project", rs))
		return;
	egress_answer(a->id.project, l, rs);
	egress_hosts_free(l);
}

/* Up to 64 bytes of an entry the client sent, for the error message:
 * what is not printable ASCII shows as '?'. */
static void
entry_excerpt(const char *s, size_t len, char *out, size_t outlen)
{
	size_t i, n = len < outlen - 4 ? len : outlen - 4;

	for (i = 0; i < n; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	memcpy(out + n, n < len ? "..." : "", n < len ? 4 : 1);
}

/* PUT /projects/{project}/egress {"allow": [host, "*.domain", ...]}:
 * replaces the list, whole (SPEC §12; egress_hosts.h says what a host
 * is); answers as GET. */
void
admin_egress_put(struct app *app, const struct route_args *a, struct req *r,
    struct resp *rs)
{
	struct json_in_field f = { "allow", JSON_IN_STRINGS, 0, NULL, 0, 0 };
	struct egress_hosts *l = NULL;
	const char *s, *why;
	char err[ERRSTR_MAX], excerpt[68];
	enum json_in_result rc;
	size_t i, len;

	rc = json_in_fields(r->body, r->body_len, &f, 1, err, sizeof(err));
	if (rc != JSON_IN_OK || !f.present) {
		response_error(rs, rc == JSON_IN_NOT_OBJECT ? OUT_INVALID_JSON :
		    OUT_BAD_REQUEST, NULL, "%s", rc != JSON_IN_OK ? err :
		    "body must be {\"allow\": [host, ...]}; DELETE removes "
		    "the list");
		goto out;
	}
	if (f.num > EGRESS_HOSTS_MAX) {
		response_error(rs, OUT_BAD_REQUEST, NULL, "allow: %lu hosts; "
		    "at most %d", f.num, EGRESS_HOSTS_MAX);
		goto out;
	}
	if ((l = egress_hosts_new()) == NULL) {
		response_error(rs, OUT_UNAVAILABLE, NULL, "out of memory");
		goto out;
	}
	for (i = 0, s = f.str; i < f.num; i++, s += len + 1) {
		len = strlen(s);
		if (egress_hosts_add(l, s, len, &why) == -1) {
			entry_excerpt(s, len, excerpt, sizeof(excerpt));
			response_error(rs, OUT_BAD_REQUEST, NULL,
			    "allow[%zu] \"%s\": %s", i, excerpt, why);
			goto out;
		}
	}
	if (store_failed(store_egress_set(app->store, a->id.project, l, err,
	    sizeof(err)), err, "no such project", rs))
		goto out;
	log_info("egress %s: %zu hosts", a->id.project, egress_hosts_count(l));
	egress_answer(a->id.project, l, rs);
out:
	egress_hosts_free(l);
	free(f.str);
}

/* DELETE /projects/{project}/egress: 204, 404 when there was no list. */
void
admin_egress_delete(struct app *app, const struct route_args *a,
    struct req *r, struct resp *rs)
{
	char err[ERRSTR_MAX];

	(void)r;
	if (store_failed(store_egress_delete(app->store, a->id.project, err,
	    sizeof(err)), err, "the project has no egress allowlist", rs))
		return;
	log_info("egress %s: removed", a->id.project);
	response_reset(rs);
	rs->status = 204;
}
