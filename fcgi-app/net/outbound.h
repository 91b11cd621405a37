/*
 * outbound.h - the outbound HTTP requests of one call (SPEC §12), driven
 * by libcurl's multi interface: several in flight at once, the rest
 * queued; redirects followed hop by hop; every connection checked
 * against the egress policy (egress.h) on the address actually connected
 * to. Knows nothing of JavaScript: the sandbox (lib/lib_fetch.c) starts
 * requests, waits on them from its event loop and takes what finished.
 */
#ifndef FNRUN_OUTBOUND_H
#define FNRUN_OUTBOUND_H

#include <stddef.h>
#include <stdint.h>

#include "egress.h"
#include "outcome.h"

/* SPEC §12 defaults. */
#define OUTBOUND_MAX_PER_CALL		50
#define OUTBOUND_MAX_IN_FLIGHT		6
#define OUTBOUND_BODY_MAX		(6u * 1024 * 1024)
#define OUTBOUND_MAX_HOPS		10

/*
 * The per-project host allowlist hook (SPEC §12 PUT /projects/{p}/egress):
 * returns 1 when project's functions may reach host (the URL's host, lower
 * case), else 0 with reason filled ("host x is not in project p's egress
 * allowlist"). Called for the first request and every redirect hop; arg
 * is outbound_conf.host_check_arg.
 */
typedef int (*outbound_host_check_fn)(void *arg, const char *project,
	    const char *host, char *reason, size_t reasonlen);

/* What every request of a call obeys. Pointers are borrowed for the
 * call's life. */
struct outbound_conf {
	const struct egress_policy *policy;
	const char		*ca_file;	/* "" or NULL: system CAs only */
	unsigned		 max_per_call;
	unsigned		 max_in_flight;
	size_t			 request_body_max;
	const char		*project;
	outbound_host_check_fn	 host_check;	/* NULL: no project list */
	void			*host_check_arg;
};

enum outbound_redirect {
	OUTBOUND_FOLLOW,
	OUTBOUND_MANUAL,
	OUTBOUND_ERROR
};

struct outbound_header {
	char	*name;
	char	*value;
};

/* One request; everything is copied by outbound_start. */
struct outbound_request {
	const char			*method;
	const char			*url;
	const struct outbound_header	*headers;
	size_t				 nheaders;
	const void			*body;	/* NULL: none */
	size_t				 body_len;
	enum outbound_redirect		 redirect;
};

/* A finished request (outbound_take). On failure (outcome DENIED, FAILED,
 * TIMEOUT) error says why and the rest is empty. */
struct outbound_response {
	unsigned		 id;
	enum fetch_outcome	 outcome;
	char			 error[512];
	long			 status;
	char			*status_text;
	char			*url;		/* of the last hop */
	int			 redirected;
	struct outbound_header	*headers;
	size_t			 nheaders;
	char			*body;
	size_t			 body_len;
};

/* What the debug envelope shows of each request (SPEC §12). */
struct outbound_record {
	char			*method;
	char			*url;	/* without userinfo, query, fragment */
	long			 status;	/* 0: none */
	double			 duration_ms;
	enum fetch_outcome	 outcome;
	char			*error;	/* NULL: none */
};

struct outbound_records {
	struct outbound_record	*v;
	size_t			 n;
};

struct outbound;

/* A call's outbound state. conf is borrowed. Returns NULL when libcurl
 * cannot make a multi handle. */
struct outbound	*outbound_new(const struct outbound_conf *conf);

/* Cancels whatever is pending (recorded with outcome why and message
 * msg), moves the records to *rec (the caller frees them with
 * outbound_records_free) unless rec is NULL, and frees o. */
void	outbound_free(struct outbound *o, enum fetch_outcome why,
	    const char *msg, struct outbound_records *rec);
void	outbound_records_free(struct outbound_records *rec);

/* Starts (or queues) rq. Returns its id (> 0), or 0 with err filled when
 * it cannot start at all (a bad URL or method, a limit); a request
 * refused later (policy, network) ends through outbound_take. */
unsigned	outbound_start(struct outbound *o,
	    const struct outbound_request *rq, char *err, size_t errlen);

/* Drops request id, recorded as failed with msg. Returns 1 if it was
 * still pending. */
int	outbound_cancel(struct outbound *o, unsigned id, const char *msg);

/* Requests started and not yet taken. */
size_t	outbound_pending(const struct outbound *o);

/* How many bytes may be held outside the heap, over all requests (their
 * bodies, and what has arrived of their responses): past it a response
 * stops the transfers and outbound_over_budget answers 1, and a request
 * body is refused by outbound_start. */
void	outbound_set_budget(struct outbound *o, size_t bytes);
int	outbound_over_budget(const struct outbound *o);

/* Does the transfers' work, waiting at most timeout_ms for a socket. */
void	outbound_poll(struct outbound *o, int timeout_ms);

/* Takes one finished request into *out (release with
 * outbound_response_free). Returns 1, or 0 when none has finished. */
int	outbound_take(struct outbound *o, struct outbound_response *out);
void	outbound_response_free(struct outbound_response *r);

/* The URL as shown in records and errors: scheme, host, port and path,
 * without userinfo, query or fragment. Returns a malloc'd string, or
 * NULL when url does not parse. */
char	*outbound_display_url(const char *url);

/* Parses an HTTP/1.x status line ("HTTP/1.1 404 Not Found\r\n") of
 * len bytes: its reason phrase into reason (NUL-terminated, cut to
 * reasonlen - 1). Returns 0, or -1 when line is no status line. */
int	outbound_parse_status_line(const char *line, size_t len, char *reason,
	    size_t reasonlen);

#endif
