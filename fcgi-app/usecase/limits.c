/*
 * limits.c - resolution of per-function limits, and of a project's
 * concurrency, against the configuration.
 */
#include <stdio.h>

#include "limits.h"
#include "response.h"

int
limits_check(const struct config *cfg, const struct store_limits *ask,
    char *err, size_t errlen)
{
	if (ask->timeout_ms > cfg->timeout_max_ms) {
		snprintf(err, errlen, "timeoutMs must be from 1 to %u",
		    cfg->timeout_max_ms);
		return -1;
	}
	if (ask->memory_mb > cfg->memory_max_mb) {
		snprintf(err, errlen, "memoryMb must be from 1 to %u",
		    cfg->memory_max_mb);
		return -1;
	}
	return 0;
}

void
limits_for(const struct config *cfg, const struct store_limits *ask,
    struct sandbox_limits *out)
{
	unsigned t = ask->timeout_ms ? ask->timeout_ms : cfg->timeout_ms;
	unsigned m = ask->memory_mb ? ask->memory_mb : cfg->memory_mb;

	/* A stored limit above a since-lowered maximum is clamped to it. */
	if (t > cfg->timeout_max_ms)
		t = cfg->timeout_max_ms;
	if (m > cfg->memory_max_mb)
		m = cfg->memory_max_mb;
	out->timeout_ms = t;
	out->memory_bytes = (size_t)m << 20;
	out->response_max = cfg->response_max_bytes;
	out->log_max = cfg->log_max_bytes;
	out->log_entries_max = cfg->log_max_entries;
	/* Room for the runtime's own headers beside the function's. */
	out->headers_max = cfg->response_headers_max < RESP_MAX_HEADERS - 8 ?
	    cfg->response_headers_max : RESP_MAX_HEADERS - 8;
	out->header_bytes_max = cfg->response_header_bytes_max;
}

unsigned
limits_project_concurrency(const struct config *cfg,
    const struct store_project_limits *set)
{
	if (set->concurrency == 0)
		return config_project_concurrency(cfg);
	return set->concurrency < cfg->workers ? set->concurrency :
	    cfg->workers;
}
