/*
 * sandbox_fixture.h - what the sandbox-level unit tests (check_sandbox.c,
 * check_hotset.c) share: the SPEC §6 default limits and a plain request.
 */
#ifndef FNRUN_TESTS_SANDBOX_FIXTURE_H
#define FNRUN_TESTS_SANDBOX_FIXTURE_H

#include "sandbox.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define MiB		((size_t)1 << 20)
#define KiB		((size_t)1 << 10)

/* SPEC §6 defaults. */
static const struct sandbox_limits LIM = { .memory_bytes = 32 * MiB,
    .timeout_ms = 1000, .response_max = 6 * MiB, .log_max = 64 * KiB };

static const struct sandbox_request PLAIN_RQ = { "POST", "/invoke/p/r/f",
    NULL, 0, NULL, 0, "", 0, NULL, 0, NULL };

#endif
