/*
 * config.c - defaults, the config file, FNRUN_* environment overrides and
 * the secret files, into one struct config. The scripts read the same file
 * (scripts/config.sh); keys the worker does not use (port, listen, ...)
 * are accepted and ignored here.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "egress.h"
#include "num.h"

enum kind { K_STR, K_UINT, K_UINT0, K_SIZE, K_SECRET_FILE, K_EGRESS,
    K_IGNORED };

struct setting {
	const char	*key;
	enum kind	 kind;
	size_t		 off;
	size_t		 len;
	const char	*def;
};

#define S(k, kind, m, d) { k, kind, offsetof(struct config, m), \
	sizeof(((struct config *)0)->m), d }

/* Secret files are read into these, then the file contents replace them. */
static const struct setting settings[] = {
	S("store_dir", K_STR, store_dir, "store"),
	/* scripts/config.sh derives it from memcached_servers (or the
	 * local memcached_port) and passes it as FNRUN_MEMCACHED. */
	S("memcached", K_STR, memcached, "127.0.0.1:11311"),
	S("fcgi_allow", K_STR, fcgi_allow, ""),
	S("worker_log", K_STR, worker_log, ""),
	S("metrics_file", K_STR, metrics_file, ""),
	S("invocation_log", K_STR, invocation_log, ""),
	S("worker_max_requests", K_UINT0, worker_max_requests, "0"),
	S("worker_max_rss_mb", K_UINT0, worker_max_rss_mb, "0"),
	S("admin_token_file", K_SECRET_FILE, admin_token, "var/secrets/admin_token"),
	S("invoke_key_file", K_SECRET_FILE, invoke_key, "var/secrets/invoke_key"),
	S("cache_key_file", K_SECRET_FILE, cache_key, "var/secrets/cache_key"),
	S("timeout_ms", K_UINT, timeout_ms, "1000"),
	S("timeout_max_ms", K_UINT, timeout_max_ms, "30000"),
	S("hard_grace_ms", K_UINT, hard_grace_ms, "250"),
	S("memory_mb", K_UINT, memory_mb, "32"),
	S("memory_max_mb", K_UINT, memory_max_mb, "256"),
	S("body_max_bytes", K_SIZE, body_max_bytes, "1048576"),
	S("source_max_bytes", K_SIZE, source_max_bytes, "262144"),
	S("response_max_bytes", K_SIZE, response_max_bytes, "6291456"),
	S("log_max_bytes", K_SIZE, log_max_bytes, "65536"),
	S("log_max_entries", K_SIZE, log_max_entries, "1000"),
	S("response_headers_max", K_SIZE, response_headers_max, "100"),
	S("response_header_bytes_max", K_SIZE, response_header_bytes_max,
	    "65536"),
	S("warm_max_count", K_UINT0, warm_max_count, "1000"),
	S("warm_max_mb", K_UINT0, warm_max_mb, "256"),
	S("warm_max_calls", K_UINT, warm_max_calls, "10000"),
	S("spare_heap", K_UINT0, spare_heap, "1"),
	S("fcgi_keepalive", K_UINT0, fcgi_keepalive, "0"),
	S("workers", K_UINT, workers, "4"),
	S("concurrency_file", K_STR, concurrency_file, ""),
	S("project_max_concurrency", K_UINT0, project_max_concurrency, "0"),
	S("project_max_functions", K_UINT, project_max_functions, "1000"),
	S("function_max_versions", K_UINT, function_max_versions, "100"),
	S("project_max_env_vars", K_UINT, project_max_env_vars, "100"),
	S("env_value_max_bytes", K_SIZE, env_value_max_bytes, "8192"),
	S("project_max_store_bytes", K_SIZE, project_max_store_bytes,
	    "67108864"),
	S("transpile_timeout_ms", K_UINT, transpile_timeout_ms, "10000"),
	S("transpile_memory_mb", K_UINT, transpile_memory_mb, "256"),
	S("typescript_js", K_STR, typescript_js,
	    "/usr/share/nodejs/typescript/lib/typescript.js"),
	S("egress_allow", K_EGRESS, egress_allow, ""),
	S("egress_deny", K_EGRESS, egress_deny, ""),
	S("egress_ca_file", K_STR, egress_ca_file, ""),
	S("fetch_max_per_call", K_UINT, fetch_max_per_call, "50"),
	S("fetch_max_in_flight", K_UINT, fetch_max_in_flight, "6"),
	S("fetch_body_max_bytes", K_SIZE, fetch_body_max_bytes, "6291456"),
	{ "state_dir", K_IGNORED, 0, 0, NULL },
	{ "listen", K_IGNORED, 0, 0, NULL },
	{ "port", K_IGNORED, 0, 0, NULL },
	{ "memcached_port", K_IGNORED, 0, 0, NULL },
	{ "worker_bin", K_IGNORED, 0, 0, NULL },
	{ "socket", K_IGNORED, 0, 0, NULL },
	/* Several hosts (SPEC §14): the scripts' and nginx's. */
	{ "role", K_IGNORED, 0, 0, NULL },
	{ "fcgi_listen", K_IGNORED, 0, 0, NULL },
	{ "upstreams", K_IGNORED, 0, 0, NULL },
	{ "memcached_servers", K_IGNORED, 0, 0, NULL },
	/* nginx's (scripts/stack.sh renders them into its configuration). */
	{ "nginx_worker_connections", K_IGNORED, 0, 0, NULL },
	{ "client_header_timeout_s", K_IGNORED, 0, 0, NULL },
	{ "client_body_timeout_s", K_IGNORED, 0, 0, NULL },
	{ "send_timeout_s", K_IGNORED, 0, 0, NULL },
	{ "keepalive_timeout_s", K_IGNORED, 0, 0, NULL },
	{ "ip_max_requests", K_IGNORED, 0, 0, NULL },
};

int
config_set(struct config *cfg, const char *key, const char *value, char *err,
    size_t errlen)
{
	struct egress_list list;
	size_t i;
	uint64_t v;
	char *field, sub[320];

	for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
		const struct setting *s = &settings[i];

		if (strcmp(s->key, key) != 0)
			continue;
		field = (char *)cfg + s->off;
		switch (s->kind) {
		case K_IGNORED:
			return 0;
		case K_EGRESS:
			/* SPEC §12's list syntax, checked at start-up. */
			if (egress_list_parse(value, &list, sub,
			    sizeof(sub)) == -1) {
				snprintf(err, errlen, "%s: %s", key, sub);
				return -1;
			}
			egress_list_free(&list);
			/* FALLTHROUGH */
		case K_STR:
		case K_SECRET_FILE:
			if (strlen(value) >= s->len) {
				snprintf(err, errlen, "%s: value too long", key);
				return -1;
			}
			memcpy(field, value, strlen(value) + 1);
			return 0;
		case K_UINT:
		case K_UINT0:	/* 0 allowed: "none" */
			if (num_parse_str(value, 0, UINT_MAX, &v) == -1 ||
			    (v == 0 && s->kind == K_UINT))
				goto bad;
			*(unsigned *)(void *)field = (unsigned)v;
			return 0;
		case K_SIZE:
			if (num_parse_str(value, 0, SIZE_MAX / 2, &v) == -1 || v == 0)
				goto bad;
			*(size_t *)(void *)field = (size_t)v;
			return 0;
		}
	}
	snprintf(err, errlen, "unknown setting '%s'", key);
	return -1;
bad:
	snprintf(err, errlen, "%s: '%s' is not a positive integer", key, value);
	return -1;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
load_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
	FILE *f;
	char line[4608], *eq, *key, *val, sub[256];
	int lineno = 0, rc = 0;

	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		key = trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			snprintf(err, errlen, "%s:%d: expected key = value",
			    path, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		key = trim(key);
		val = trim(eq + 1);
		if (config_set(cfg, key, val, sub, sizeof(sub)) == -1) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, sub);
			rc = -1;
			break;
		}
	}
	fclose(f);
	return rc;
}

/* The secret is the file's first line; SPEC §3 says one line, no trailing
 * text. An empty secret is refused: it would let everyone in. */
static int
read_secret(char *field, size_t len, char *err, size_t errlen)
{
	char path[CONFIG_SECRET_MAX];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s", field);
	if ((f = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "secret %s: %s", path, strerror(errno));
		return -1;
	}
	if (fgets(field, (int)len, f) == NULL)
		field[0] = '\0';
	fclose(f);
	n = strcspn(field, "\r\n");
	field[n] = '\0';
	if (n == 0) {
		snprintf(err, errlen, "secret %s is empty", path);
		return -1;
	}
	return 0;
}

unsigned
config_project_concurrency(const struct config *cfg)
{
	unsigned	workers = cfg->workers > 0 ? cfg->workers : 1;

	/* Set above the workers, it never binds: no limit. */
	return cfg->project_max_concurrency == 0 ? (workers + 1) / 2 :
	    cfg->project_max_concurrency;
}

int
config_load(struct config *cfg, char *err, size_t errlen)
{
	size_t i, j;
	const char *path, *v;
	char envname[128];

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
		if (settings[i].def != NULL &&
		    config_set(cfg, settings[i].key, settings[i].def, err,
		    errlen) == -1)
			return -1;
	if ((path = getenv("FNRUN_CONFIG")) == NULL)
		path = "fnrun.conf";
	if (load_file(cfg, path, err, errlen) == -1)
		return -1;
	for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
		const char *k = settings[i].key;

		snprintf(envname, sizeof(envname), "FNRUN_");
		for (j = 0; k[j] != '\0' && j + 7 < sizeof(envname); j++)
			envname[6 + j] = (char)toupper((unsigned char)k[j]);
		envname[6 + j] = '\0';
		if ((v = getenv(envname)) != NULL &&
		    config_set(cfg, k, v, err, errlen) == -1)
			return -1;
	}
	if (cfg->timeout_ms > cfg->timeout_max_ms ||
	    cfg->memory_mb > cfg->memory_max_mb) {
		snprintf(err, errlen, "a default exceeds its maximum");
		return -1;
	}
	if (cfg->spare_heap > 1) {
		snprintf(err, errlen, "spare_heap must be 0 or 1");
		return -1;
	}
	if (read_secret(cfg->admin_token, sizeof(cfg->admin_token), err,
	    errlen) == -1 ||
	    read_secret(cfg->invoke_key, sizeof(cfg->invoke_key), err,
	    errlen) == -1 ||
	    read_secret(cfg->cache_key, sizeof(cfg->cache_key), err,
	    errlen) == -1)
		return -1;
	return 0;
}
