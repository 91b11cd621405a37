/*
 * json_in.h - reading JSON request bodies (the POST /functions form, the
 * activate body) with Duktape's own parser in a small capped heap that
 * runs no user code.
 */
#ifndef FNRUN_JSON_IN_H
#define FNRUN_JSON_IN_H

#include <stddef.h>

/* JSON_IN_STRINGS: an array of strings, as str holding each element
 * followed by a NUL (len bytes in all) and num the count; an element
 * holding a NUL is the wrong type. */
enum json_in_type { JSON_IN_STRING, JSON_IN_UINT, JSON_IN_STRINGS };

struct json_in_field {
	const char		*name;
	enum json_in_type	 type;
	/* results */
	int			 present;
	char			*str;	/* JSON_IN_STRING(S): malloc'd, caller frees */
	size_t			 len;
	unsigned long		 num;	/* JSON_IN_UINT; JSON_IN_STRINGS: count */
};

enum json_in_result {
	JSON_IN_OK = 0,
	JSON_IN_NOT_OBJECT = -1,	/* not JSON, or not an object */
	JSON_IN_BAD_FIELD = -2		/* a present field of the wrong type */
};

/* Parses json[0..len) as an object and fills the named top-level fields.
 * A field of the wrong type is a string that is not a string, a number
 * that is not a non-negative integer, strings that are not an array of
 * strings. err says what was wrong. On error
 * no str is left allocated. */
enum json_in_result json_in_fields(const char *json, size_t len, struct json_in_field *f,
	    size_t n, char *err, size_t errlen);

#endif
