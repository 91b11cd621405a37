/*
 * config.h - every setting of the worker, its default and its override.
 * One struct config, filled once at start-up and read-only afterwards.
 */
#ifndef FNRUN_CONFIG_H
#define FNRUN_CONFIG_H

#include <stddef.h>

#define CONFIG_SECRET_MAX 256

struct config {
	char		store_dir[4096];
	char		memcached[4096];	/* host:port,... (memcached_servers) */
	char		fcgi_allow[4096];	/* IPv4,...: who may connect over TCP */
	char		worker_log[4096];	/* "": keep stderr */
	char		metrics_file[4096];	/* "": no /metrics */
	char		invocation_log[4096];	/* "": none */
	unsigned	worker_max_requests;	/* 0: never recycle */
	unsigned	worker_max_rss_mb;	/* 0: no bound */
	char		admin_token[CONFIG_SECRET_MAX];
	char		invoke_key[CONFIG_SECRET_MAX];
	char		cache_key[CONFIG_SECRET_MAX];
	unsigned	timeout_ms;		/* default per invocation */
	unsigned	timeout_max_ms;		/* what a function may ask for */
	unsigned	hard_grace_ms;		/* beyond the deadline: kill */
	unsigned	memory_mb;
	unsigned	memory_max_mb;
	size_t		body_max_bytes;
	size_t		source_max_bytes;
	size_t		response_max_bytes;
	size_t		log_max_bytes;
	size_t		log_max_entries;
	size_t		response_headers_max;
	size_t		response_header_bytes_max;
	unsigned	warm_max_count;		/* warm heaps per worker */
	unsigned	warm_max_mb;		/* their total heap size */
	unsigned	warm_max_calls;		/* calls before a heap is renewed */
	unsigned	spare_heap;		/* 1: a heap made ahead of need */
	unsigned	fcgi_keepalive;		/* nginx keeps connections: 0 off */
	/* SPEC §13: tenants. */
	unsigned	workers;		/* of this pool (spawn-fcgi -F) */
	char		concurrency_file[4096];	/* "": not counted */
	unsigned	project_max_concurrency; /* 0: half the workers */
	unsigned	project_max_functions;
	unsigned	function_max_versions;
	unsigned	project_max_env_vars;
	size_t		env_value_max_bytes;
	size_t		project_max_store_bytes;
	/* The compiler's heap (sandbox/lower): loading it, and each lowering,
	 * within transpile_timeout_ms and transpile_memory_mb in all. */
	unsigned	transpile_timeout_ms;
	unsigned	transpile_memory_mb;
	char		typescript_js[4096];	/* Debian's node-typescript */
	/* SPEC §12: outbound requests (fetch). The lists are checked by
	 * config_set and parsed by the worker (egress_list_parse). */
	char		egress_allow[4096];	/* addresses, ranges, hosts */
	char		egress_deny[4096];
	char		egress_ca_file[4096];	/* "": the system's CAs only */
	unsigned	fetch_max_per_call;
	unsigned	fetch_max_in_flight;
	size_t		fetch_body_max_bytes;	/* a request body */
};

/* Fills cfg from defaults, then the file named by $FNRUN_CONFIG (default
 * ./fnrun.conf; a missing file is not an error), then FNRUN_<KEY>
 * environment variables, then reads the three secret files. Returns 0, or
 * -1 with err filled. */
int	config_load(struct config *cfg, char *err, size_t errlen);

/* Applies one "key = value" setting; used by config_load and the tests.
 * Returns 0, or -1 for an unknown key or a bad value (err filled). */
int	config_set(struct config *cfg, const char *key, const char *value,
	    char *err, size_t errlen);

/* SPEC §13: invocations one project may run at once across the pool when
 * it asks for nothing else: project_max_concurrency, or half the workers
 * rounded up when that is 0 (at or above the workers: no limit). */
unsigned	config_project_concurrency(const struct config *cfg);

#endif
