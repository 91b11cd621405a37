/*
 * payload.c - writes the forwarding body of tests/json_payload.h (1,200
 * bytes, 22 fields) to standard output. make bench turns it into
 * $(BUILD)/bench/payload.json, the one file every benchmark request posts:
 * scripts/bench.sh, tests/bench/wrk.lua and tests/bench/client.py read it,
 * so the bench, the JSON unit tests and the JSON micro-benchmark share one
 * body. Not part of the product.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../json_payload.h"

int
main(void)
{
	size_t	 len;
	char	*p = json_payload_after(&len);
	int	 rc = 0;

	if (fwrite(p, 1, len, stdout) != len || fflush(stdout) != 0)
		rc = 1;
	free(p);
	return rc;
}
