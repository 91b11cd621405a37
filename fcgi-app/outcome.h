/*
 * outcome.h - how a sandbox outcome becomes a JSON error (SPEC §4).
 */
#ifndef FNRUN_OUTCOME_H
#define FNRUN_OUTCOME_H

#include "response.h"
#include "sandbox.h"

/* The error code of a failed outcome (ERR_NONE for SB_OK). */
enum resp_error	outcome_code(enum sandbox_outcome o);

/* "ok", or the error code of a failed outcome ("timeout"). */
const char	*outcome_name(enum sandbox_outcome o);

/* Replaces rs with the JSON error for res, with "line" for syntax errors
 * and "stack" for function errors where known. */
void		outcome_error(struct resp *rs, const struct sandbox_result *res);

#endif
