/*
 * log.c - formatting and routing of the worker's diagnostic lines. Never
 * used for user console output (that is invoke.c's, through the sink).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* Process-wide on purpose: a worker serves one request at a time, and a
 * line may be logged from any layer (and, for the invocation log, after a
 * signal) without a context being passed down to it. worker.c sets and
 * clears them around each request. */
static log_sink_fn	 sink;
static void		*sink_ctx;
static char		 request_id[64] = "-";

void
log_set_request(const char *id, log_sink_fn fn, void *ctx)
{
	size_t n;

	sink = fn;
	sink_ctx = ctx;
	if (id == NULL || *id == '\0')
		id = "-";
	n = strnlen(id, sizeof(request_id) - 1);
	memcpy(request_id, id, n);
	request_id[n] = '\0';
}

static void
vlog(const char *level, int with_errno, const char *fmt, va_list ap)
{
	char line[2048];
	int n, saved = errno;

	n = snprintf(line, sizeof(line), "fnrun[%d] %s req=%s: ", (int)getpid(),
	    level, request_id);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if ((size_t)n >= sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	if (with_errno)
		n += snprintf(line + n, sizeof(line) - (size_t)n, ": %s",
		    strerror(saved));
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	line[n] = '\0';
	if (sink != NULL)
		sink(sink_ctx, line, (size_t)n);
	else
		(void)!write(STDERR_FILENO, line, (size_t)n);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warn", 1, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warn", 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("info", 0, fmt, ap);
	va_end(ap);
}

static int	invocation_fd = -1;

int
log_invocation_open(const char *path)
{
	if (path == NULL || *path == '\0')
		return 0;
	invocation_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640);
	return invocation_fd == -1 ? -1 : 0;
}

void
log_invocation(const char *line, size_t len)
{
	if (invocation_fd != -1)
		(void)!write(invocation_fd, line, len);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal", errno != 0, fmt, ap);
	va_end(ap);
	exit(1);
}
