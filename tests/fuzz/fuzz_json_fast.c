/*
 * fuzz_json_fast.c - json_fast.c against Duktape's own JSON.parse: the
 * input is a request body, parsed by both in one heap and compared by
 * tests/json_diff.h. json_fast declining is fine; when it answers, any
 * difference from Duktape (value, key order, number bits, -0, string
 * bytes, or Duktape failing at all) aborts. The same input, as a string
 * of the heap (a Symbol's bytes included), also goes through the global
 * JSON.parse a function sees (sandbox_json.c), which must give Duktape's
 * value or throw Duktape's error. Corpus:
 * tests/fuzz/corpus/json_fast/, dictionary tests/fuzz/json_fast.dict.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "duktape.h"
#include "json_diff.h"
#include "sandbox_internal.h"

/* A fresh heap now and then: interned strings and the heap's growth stay
 * bounded, and a difference cannot hide behind state left by earlier
 * inputs for long. */
#define HEAP_RUNS	2000

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static duk_ret_t
install_safe(duk_context *ctx, void *udata)
{
	(void)udata;
	sandbox_json_install(ctx);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static duk_context	*ctx;
	static unsigned		 runs;
	struct json_diff	 d;

	if (ctx == NULL || ++runs % HEAP_RUNS == 0) {
		if (ctx != NULL)
			duk_destroy_heap(ctx);
		/* Only C API calls run in it: no bytecode, so the udata
		 * DUK_USE_EXEC_TIMEOUT_CHECK reads is never consulted. */
		if ((ctx = duk_create_heap_default()) == NULL ||
		    duk_safe_call(ctx, install_safe, NULL, 0, 1) != 0)
			abort();
		duk_pop(ctx);
	}
	json_diff_run(ctx, (const char *)data, size, &d);
	if (d.why[0] == '\0')
		json_diff_run_global(ctx, (const char *)data, size, &d);
	if (d.why[0] != '\0') {
		fprintf(stderr, "json_fast differs from duk_json_decode: %s\n",
		    d.why);
		abort();
	}
	return 0;
}
