/*
 * outcome.h - one vocabulary for how a request ends (SPEC §4, §6): each
 * outcome, its wire code (the JSON error's "error"), its HTTP status and
 * its /metrics label and invocation log word, in one table. The
 * sandbox, the responses, the metrics and the logs all speak it.
 */
#ifndef FNRUN_OUTCOME_H
#define FNRUN_OUTCOME_H

#include <stddef.h>

/* X(name, code, status, invocation, label): invocation outcomes are the
 * ones /metrics counts; label, when not NULL, is their /metrics label and
 * the invocation log's word instead of the code. */
#define OUTCOME_TABLE(X)						\
	X(OK,			"ok",			200, 1, NULL) \
	X(SYNTAX_ERROR,		"syntax_error",		422, 1, NULL) \
	X(NO_HANDLER,		"no_handler",		422, 1, NULL) \
	X(FUNCTION_ERROR,	"function_error",	500, 1, NULL) \
	X(NO_RESPONSE,		"no_response",		500, 1, NULL) \
	X(MEMORY_LIMIT,		"memory_limit",		500, 1, NULL) \
	X(RESPONSE_TOO_LARGE,	"response_too_large",	500, 1, NULL) \
	X(TIMEOUT,		"timeout",		504, 1, NULL) \
	X(NOT_FOUND,		"not_found",		404, 1, NULL) \
	X(INTERNAL,		"internal",		500, 1, NULL) \
	X(TOO_MANY_REQUESTS,	"too_many_requests",	429, 1, "throttled") \
	X(INVALID_NAME,		"invalid_name",		400, 0, NULL) \
	X(UNAUTHORIZED,		"unauthorized",		401, 0, NULL) \
	X(METHOD_NOT_ALLOWED,	"method_not_allowed",	405, 0, NULL) \
	X(BAD_REQUEST,		"bad_request",		400, 0, NULL) \
	X(PAYLOAD_TOO_LARGE,	"payload_too_large",	413, 0, NULL) \
	X(INVALID_JSON,		"invalid_json",		400, 0, NULL) \
	X(UNAVAILABLE,		"unavailable",		503, 0, NULL) \
	X(QUOTA_EXCEEDED,	"quota_exceeded",	403, 0, NULL) \
	X(UNSUPPORTED_SYNTAX,	"unsupported_syntax",	422, 0, NULL)

enum outcome {
#define OUTCOME_ENUM(name, code, status, invocation, label)	OUT_##name,
	OUTCOME_TABLE(OUTCOME_ENUM)
#undef OUTCOME_ENUM
	OUT_COUNT
};

/* The wire code ("function_error"), the HTTP status, whether /metrics
 * counts it as an invocation outcome, and its /metrics label and log word
 * ("throttled" for too_many_requests). */
/* SPEC §12: how one outbound request (fetch) ended; the label is its
 * /metrics label, invocation log key and debug envelope word. */
#define FETCH_OUTCOME_TABLE(X)						\
	X(OK,		"ok")	/* a 2xx or 3xx answer */		\
	X(HTTP_ERROR,	"http_error")	/* a 4xx or 5xx answer */	\
	X(DENIED,	"denied")	/* the egress policy refused it */ \
	X(FAILED,	"failed")	/* network, DNS, TLS, abort, limits */ \
	X(TIMEOUT,	"timeout")	/* still running at the deadline */

enum fetch_outcome {
#define FETCH_OUTCOME_ENUM(name, label)	FETCH_##name,
	FETCH_OUTCOME_TABLE(FETCH_OUTCOME_ENUM)
#undef FETCH_OUTCOME_ENUM
	FETCH_OUTCOME_COUNT
};

const char	*fetch_outcome_label(enum fetch_outcome o);

const char	*outcome_code(enum outcome o);
const char	*outcome_label(enum outcome o);
int		 outcome_status(enum outcome o);
int		 outcome_is_invocation(enum outcome o);

#endif
