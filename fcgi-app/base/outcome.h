/*
 * outcome.h - one vocabulary for how a request ends (SPEC §4, §6): each
 * outcome, its wire code (the JSON error's "error", the /metrics label and
 * the invocation log's word) and its HTTP status, in one table. The
 * sandbox, the responses, the metrics and the logs all speak it.
 */
#ifndef FNRUN_OUTCOME_H
#define FNRUN_OUTCOME_H

/* X(name, code, status, invocation): invocation outcomes are the ones
 * /metrics counts per label. */
#define OUTCOME_TABLE(X)						\
	X(OK,			"ok",			200, 1)		\
	X(SYNTAX_ERROR,		"syntax_error",		422, 1)		\
	X(NO_HANDLER,		"no_handler",		422, 1)		\
	X(FUNCTION_ERROR,	"function_error",	500, 1)		\
	X(NO_RESPONSE,		"no_response",		500, 1)		\
	X(MEMORY_LIMIT,		"memory_limit",		500, 1)		\
	X(RESPONSE_TOO_LARGE,	"response_too_large",	500, 1)		\
	X(TIMEOUT,		"timeout",		504, 1)		\
	X(NOT_FOUND,		"not_found",		404, 1)		\
	X(INTERNAL,		"internal",		500, 1)		\
	X(INVALID_NAME,		"invalid_name",		400, 0)		\
	X(UNAUTHORIZED,		"unauthorized",		401, 0)		\
	X(METHOD_NOT_ALLOWED,	"method_not_allowed",	405, 0)		\
	X(BAD_REQUEST,		"bad_request",		400, 0)		\
	X(PAYLOAD_TOO_LARGE,	"payload_too_large",	413, 0)		\
	X(INVALID_JSON,		"invalid_json",		400, 0)		\
	X(UNAVAILABLE,		"unavailable",		503, 0)		\
	X(UNSUPPORTED_SYNTAX,	"unsupported_syntax",	422, 0)

enum outcome {
#define OUTCOME_ENUM(name, code, status, invocation)	OUT_##name,
	OUTCOME_TABLE(OUTCOME_ENUM)
#undef OUTCOME_ENUM
	OUT_COUNT
};

/* The wire code ("function_error"), the HTTP status, and whether /metrics
 * counts it as an invocation outcome. */
const char	*outcome_code(enum outcome o);
int		 outcome_status(enum outcome o);
int		 outcome_is_invocation(enum outcome o);

#endif
