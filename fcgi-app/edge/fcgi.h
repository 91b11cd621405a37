/*
 * fcgi.h - the FastCGI edge: accept a request, read its body, write the
 * answer, and the emergency answer written from a signal handler when a
 * function must be cut off. The only module that knows libfcgi.
 */
#ifndef FNRUN_FCGI_H
#define FNRUN_FCGI_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "request.h"
#include "response.h"

enum fcgi_emergency {
	FCGI_EMERGENCY_TIMEOUT,		/* the hard deadline passed */
	FCGI_EMERGENCY_FATAL,		/* Duktape hit a fatal error */
	FCGI_EMERGENCY_COUNT
};

struct fcgi_conn;

/* Initialises libfcgi on the listening socket spawn-fcgi gave us (fd 0),
 * non-blocking. On TCP, connections are accepted only from the IPv4
 * addresses in allow (the fcgi_allow setting, comma-separated; required
 * there, and the listener must be IPv4); on a unix socket allow is not
 * used. Up to max_conns connections nginx keeps open (fastcgi_keep_conn)
 * are held at once; 1 when nginx keeps none. Returns NULL with err filled
 * on failure. */
struct fcgi_conn	*fcgi_open(const char *allow, size_t max_conns,
			    char *err, size_t errlen);

/* Waits up to timeout_ms (-1: no bound) with mask as the signal mask
 * (ppoll; NULL: unchanged) until a kept connection or, with accept_new,
 * the listening socket is readable, and picks it for fcgi_accept.
 * Returns 1 when one is, 0 when none is (or there is nothing to wait
 * on), -1 on error (errno; EINTR: a signal). */
int	fcgi_wait(struct fcgi_conn *c, int accept_new, int timeout_ms,
	    const sigset_t *mask);
/* Connections held open for their next request (fastcgi_keep_conn). */
size_t	fcgi_kept(const struct fcgi_conn *c);

enum fcgi_accept_result {
	FCGI_ACCEPTED,
	FCGI_MALFORMED,		/* r->malformed says why; answer it, free r */
	FCGI_NONE		/* accept failed: errno EAGAIN when the
				 * non-blocking socket had nothing queued */
};

/* Accepts the next request, on the connection fcgi_wait picked or else on
 * a new one, and fills r from its params (r must be freed whatever the
 * result). */
enum fcgi_accept_result fcgi_accept(struct fcgi_conn *c, struct req *r);

enum fcgi_body_result {
	FCGI_BODY_OK,
	FCGI_BODY_TOO_LARGE,	/* over max: nothing is kept */
	FCGI_BODY_ERROR		/* the stream failed */
};

/* Reads the body into r, up to max bytes. */
enum fcgi_body_result fcgi_read_body(struct fcgi_conn *c, struct req *r,
	    size_t max);

/* Writes the whole answer for the current request. */
void	fcgi_send(struct fcgi_conn *c, const struct resp *rs);

/* Ends the current request (flushes; closes the connection unless nginx
 * keeps it). */
void	fcgi_finish(struct fcgi_conn *c);

/* log.h sink: one line to the FastCGI error stream (nginx's error log). */
void	fcgi_log_sink(void *ctx, const char *line, size_t len);

/* Encodes rs as the complete FastCGI record sequence answering the current
 * request and keeps it for fcgi_emergency_send. tag, when not 0, is the
 * caller's name for what rs says, for fcgi_emergency_reuse. */
void	fcgi_emergency_prepare(struct fcgi_conn *c, enum fcgi_emergency which,
	    const struct resp *rs, uint64_t tag);
/* Makes the answers kept by the last prepare of every kind ready again,
 * for c's connection, when all were prepared with tag (not 0) and for
 * c's FastCGI request id: the bytes say the same. Returns 0, or -1 (then
 * prepare them). */
int	fcgi_emergency_reuse(struct fcgi_conn *c, uint64_t tag);
/* Forgets the prepared answers (the request is being answered normally). */
void	fcgi_emergency_clear(void);
/* Async-signal-safe: writes the prepared answer, if any, straight to the
 * connection. Returns 0 if it was written, -1 otherwise. */
int	fcgi_emergency_send(enum fcgi_emergency which);

#endif
