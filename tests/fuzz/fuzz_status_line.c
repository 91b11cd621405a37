/*
 * fuzz_status_line.c - outbound_parse_status_line (fcgi-app/net/outbound.c),
 * the one piece of a response fnrun reads itself (libcurl parses the rest):
 * an upstream's status line, whose reason phrase becomes
 * Response.statusText. The input is the line, without a terminating NUL,
 * given with every buffer size from 1 to 40. Invariants: never reads past
 * the input (ASan), the reason is NUL-terminated within the buffer, holds
 * no CR or LF, and is a copy of input bytes. Corpus:
 * tests/fuzz/corpus/status_line/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "outbound.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line, reason[40];
	size_t n, len;

	/* An exact-size copy, so reading one byte too far is caught. */
	if ((line = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	for (n = 1; n <= sizeof(reason); n++) {
		memset(reason, 'Z', sizeof(reason));
		if (outbound_parse_status_line(line, size, reason, n) == -1)
			continue;
		CHECK(size >= 5 && memcmp(line, "HTTP/", 5) == 0);
		len = strnlen(reason, n);
		CHECK(len < n);
		CHECK(memchr(reason, '\r', len) == NULL);
		CHECK(memchr(reason, '\n', len) == NULL);
		CHECK(len == 0 || memmem(line, size, reason, len) != NULL);
	}
	free(line);
	return 0;
}
