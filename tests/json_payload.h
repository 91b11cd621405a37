/*
 * json_payload.h - the realistic request body the JSON tests and the
 * benchmarks share: a forwarding server's "after" phase body, padded to
 * 1200 bytes. Included by tests/check_json_fast.c,
 * tests/bench/json_parse_bench.c and tests/bench/payload.c (which writes it
 * out as the body every make bench request posts) only.
 */
#ifndef FNRUN_TESTS_JSON_PAYLOAD_H
#define FNRUN_TESTS_JSON_PAYLOAD_H

#include <stdlib.h>
#include <string.h>

#define JSON_PAYLOAD_LEN	1200

static const char json_payload_head[] =
    "{\"phase\":\"after\",\"request\":{\"method\":\"POST\","
    "\"url\":\"https://api.example.com/v1/orders?expand=items&limit=20\","
    "\"headers\":{\"content-type\":\"application/json\","
    "\"accept\":\"application/json\","
    "\"user-agent\":\"fnrun-forwarder/1.4 (+https://example.com/bot)\","
    "\"x-request-id\":\"7f3c9a2e-5b1d-4e8f-9a6c-2d4b8e1f0a3c\","
    "\"content-length\":\"187\"},"
    "\"body\":\"{\\\"customer\\\":{\\\"id\\\":48213,\\\"email\\\":"
    "\\\"ana.silva@example.com\\\"},\\\"items\\\":[{\\\"sku\\\":"
    "\\\"A-1001\\\",\\\"qty\\\":2,\\\"price\\\":19.99},{\\\"sku\\\":"
    "\\\"B-2002\\\",\\\"qty\\\":1,\\\"price\\\":5.5}],\\\"currency\\\":"
    "\\\"EUR\\\",\\\"coupon\\\":null}\"},"
    "\"response\":{\"status\":200,\"headers\":{"
    "\"content-type\":\"application/json; charset=utf-8\","
    "\"cache-control\":\"no-store\",\"x-ratelimit-remaining\":\"4987\","
    "\"date\":\"Tue, 04 Jun 2024 10:15:42 GMT\"},"
    "\"body\":\"{\\\"id\\\":\\\"ord_9f8e7d6c\\\",\\\"status\\\":"
    "\\\"created\\\",\\\"total\\\":45.48,\\\"items\\\":2,"
    "\\\"created_at\\\":\\\"2024-06-04T10:15:42.123Z\\\","
    "\\\"eta_days\\\":3}\"},"
    "\"timing\":{\"upstream_ms\":41.7,\"total_ms\":43.25,"
    "\"retries\":0},\"pad\":\"";

_Static_assert(sizeof(json_payload_head) + 1 < JSON_PAYLOAD_LEN,
    "the padding must fit");

/* The payload, NUL-terminated; the caller frees. */
static char *
json_payload_after(size_t *lenp)
{
	size_t	 hl = sizeof(json_payload_head) - 1;
	char	*p = malloc(JSON_PAYLOAD_LEN + 1);

	if (p == NULL)
		abort();
	memcpy(p, json_payload_head, hl);
	memset(p + hl, 'x', JSON_PAYLOAD_LEN - hl - 2);
	memcpy(p + JSON_PAYLOAD_LEN - 2, "\"}", 3);
	*lenp = JSON_PAYLOAD_LEN;
	return p;
}

#endif
