/*
 * log.h - the worker's diagnostics: one line each, tagged with the worker
 * pid and the current request id. Outside a request lines go to stderr;
 * during one, to the sink fcgi.c installs (the FastCGI error stream, which
 * nginx writes to its error log).
 */
#ifndef FNRUN_LOG_H
#define FNRUN_LOG_H

/* The size of every error-detail buffer a module fills for its caller
 * (STYLE: detail in a caller-supplied buffer, logged once at the request
 * boundary). */
#define ERRSTR_MAX	512

#include <stddef.h>

typedef void	(*log_sink_fn)(void *ctx, const char *line, size_t len);

/* Sets (or, with sink NULL, clears) the per-request sink and request id. */
void	log_set_request(const char *request_id, log_sink_fn sink, void *ctx);

void	log_warn(const char *fmt, ...)		/* appends strerror(errno) */
	    __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* The invocation log (one JSON object per line): opened once per worker;
 * each line is one write(2) with O_APPEND, so workers do not interleave. */
int	log_invocation_open(const char *path);
void	log_invocation(const char *line, size_t len);

void	fatal(const char *fmt, ...)		/* logs with errno and exits 1 */
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
