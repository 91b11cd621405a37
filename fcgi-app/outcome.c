/*
 * outcome.c - sandbox outcome -> error code and JSON error body.
 */
#include <string.h>

#include "outcome.h"

enum resp_error
outcome_code(enum sandbox_outcome o)
{
	switch (o) {
	case SB_OK: return ERR_NONE;
	case SB_SYNTAX_ERROR: return ERR_SYNTAX;
	case SB_NO_HANDLER: return ERR_NO_HANDLER;
	case SB_FUNCTION_ERROR: return ERR_FUNCTION;
	case SB_NO_RESPONSE: return ERR_NO_RESPONSE;
	case SB_MEMORY_LIMIT: return ERR_MEMORY_LIMIT;
	case SB_RESPONSE_TOO_LARGE: return ERR_RESPONSE_TOO_LARGE;
	case SB_TIMEOUT: return ERR_TIMEOUT;
	}
	return ERR_INTERNAL;
}

const char *
outcome_name(enum sandbox_outcome o)
{
	return o == SB_OK ? "ok" : response_error_code(outcome_code(o));
}

void
outcome_error(struct resp *rs, const struct sandbox_result *res)
{
	struct buf extra = { 0 };

	if (res->outcome == SB_SYNTAX_ERROR)
		buf_printf(&extra, "\"line\":%d", res->line);
	else if (res->outcome == SB_FUNCTION_ERROR && res->stack != NULL) {
		buf_puts(&extra, "\"stack\":");
		buf_json_string(&extra, res->stack, strlen(res->stack));
	}
	response_error(rs, outcome_code(res->outcome), extra.data, "%s",
	    res->message);
	buf_free(&extra);
}
