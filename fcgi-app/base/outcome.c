/*
 * outcome.c - the outcome table's lookups (outcome.h).
 */
#include "outcome.h"

static const struct {
	const char	*code;
	int		 status;
	int		 invocation;
	const char	*label;
} table[OUT_COUNT] = {
#define OUTCOME_ROW(name, code, status, invocation, label) \
	[OUT_##name] = { code, status, invocation, label },
	OUTCOME_TABLE(OUTCOME_ROW)
#undef OUTCOME_ROW
};

const char *
outcome_code(enum outcome o)
{
	return (unsigned)o < OUT_COUNT ? table[o].code : "internal";
}

const char *
outcome_label(enum outcome o)
{
	if ((unsigned)o >= OUT_COUNT)
		return "internal";
	return table[o].label != NULL ? table[o].label : table[o].code;
}

int
outcome_status(enum outcome o)
{
	return (unsigned)o < OUT_COUNT ? table[o].status : 500;
}

int
outcome_is_invocation(enum outcome o)
{
	return (unsigned)o < OUT_COUNT && table[o].invocation;
}

static const char *const fetch_labels[FETCH_OUTCOME_COUNT] = {
#define FETCH_OUTCOME_ROW(name, label)	[FETCH_##name] = label,
	FETCH_OUTCOME_TABLE(FETCH_OUTCOME_ROW)
#undef FETCH_OUTCOME_ROW
};

const char *
fetch_outcome_label(enum fetch_outcome o)
{
	return (unsigned)o < FETCH_OUTCOME_COUNT ? fetch_labels[o] : "failed";
}
