/*
 * ceiling.c - the benchmark's baseline: a bare libfcgi responder with no
 * JavaScript, run by the same spawn-fcgi pool behind the same nginx
 * config as fnrun. It reads the whole request body (as fnrun does) and
 * answers a short body, so the table's ratios show what fnrun adds on top
 * of nginx + FastCGI. Not part of the product.
 *
 * Built twice: bench-ceiling closes as libfcgi does by default (shut down
 * the write side, then wait for nginx to close first); bench-ceil-close
 * (-DCEILING_CLOSE_AT_ONCE) closes at once once the input was read, as
 * fnrun's worker does (fcgi-app/edge/fcgi.c), so the bench shows fnrun's
 * cost against both.
 */
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>

int
main(void)
{
	FCGX_Request req;
	char buf[16384];
	const char *uri;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&req) >= 0) {
		while (FCGX_GetStr(buf, sizeof(buf), req.in) > 0)
			;
		uri = FCGX_GetParam("REQUEST_URI", req.envp);
		if (uri != NULL && strcmp(uri, "/healthz") == 0)
			FCGX_PutS("Status: 200 OK\r\nContent-Type: application/json"
			    "\r\n\r\n{\"status\":\"ok\"}", req.out);
		else
			FCGX_PutS("Status: 200 OK\r\nContent-Type: text/plain"
			    "\r\n\r\nhello", req.out);
#ifdef CEILING_CLOSE_AT_ONCE
		req.detached = FCGX_GetError(req.in) == 0;
#endif
		FCGX_Finish_r(&req);
	}
	return 0;
}
