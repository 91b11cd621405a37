/*
 * sandbox_fixture.h - what the sandbox-level unit tests (check_sandbox.c,
 * check_hotset.c, check_loop.c, check_crypto.c, check_lib_web.c) share:
 * the SPEC §6 default limits, a plain request, and a heap loaded with a
 * source.
 */
#ifndef FNRUN_TESTS_SANDBOX_FIXTURE_H
#define FNRUN_TESTS_SANDBOX_FIXTURE_H

#include <check.h>
#include <string.h>

#include "sandbox.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define MiB		((size_t)1 << 20)
#define KiB		((size_t)1 << 10)

/* SPEC §6 defaults. */
static const struct sandbox_limits LIM = { .memory_bytes = 32 * MiB,
    .timeout_ms = 1000, .response_max = 6 * MiB, .log_max = 64 * KiB };

static const struct sandbox_request PLAIN_RQ = { "POST", "/invoke/p/r/f",
    NULL, 0, NULL, 0, "", 0, NULL, 0, NULL };

/* A new heap under lim with src loaded as "t.js" (the test fails if it
 * does not load). The caller frees it with sandbox_free. */
static inline struct sandbox *
sandbox_loaded(const char *src, const struct sandbox_limits *lim)
{
	struct sandbox *sb = sandbox_new(lim);
	struct sandbox_result res;

	ck_assert_ptr_nonnull(sb);
	ck_assert_msg(sandbox_load(sb, src, strlen(src), "t.js", NULL, NULL,
	    &res) == 0, "load: %s", res.message);
	sandbox_result_free(&res);
	return sb;
}

#endif
