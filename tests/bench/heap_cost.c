/*
 * heap_cost.c - the allocator's count of a warm heap holding a function
 * that uses none of the library, after its load and after its first call
 * (SPEC §11 "Cost"). Prints one line: "<load bytes> <call peak> <after call>".
 */
#include <stdio.h>
#include <string.h>

#include "sandbox.h"

static const char SRC[] =
    "module.exports = function (req, res) { res.send('hello'); };";

int
main(void)
{
	struct sandbox_limits lim = { .memory_bytes = 32u << 20,
	    .timeout_ms = 1000, .response_max = 6u << 20,
	    .log_max = 64u << 10 };
	struct sandbox_request rq = { "POST", "/invoke/p/r/f", NULL, 0, NULL,
	    0, "", 0, NULL, 0, NULL };
	struct sandbox_result res;
	struct sandbox *sb;
	size_t loaded;

	if ((sb = sandbox_new(&lim)) == NULL ||
	    sandbox_load(sb, SRC, strlen(SRC), "f.js", NULL, NULL, &res) != 0)
		return 1;
	sandbox_result_free(&res);
	/* As a warm heap is: compacted once its first answer is out. */
	sandbox_compact(sb);
	loaded = sandbox_memory_used(sb);
	if (sandbox_call(sb, &rq, &res) != 0)
		return 1;
	printf("%zu %zu %zu\n", loaded, sandbox_memory_peak(sb),
	    sandbox_memory_used(sb));
	sandbox_result_free(&res);
	sandbox_free(sb);
	return 0;
}
