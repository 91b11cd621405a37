/*
 * store_format.h - the parsers of the store's small text files (SPEC §8):
 * a version's "meta", a function's "active", a version directory's name
 * and a project's ".limits". Pure functions on bytes, so they can be fuzzed without a store;
 * store.c is their only caller and owns every file they read.
 */
#ifndef FNRUN_STORE_FORMAT_H
#define FNRUN_STORE_FORMAT_H

#include <stddef.h>

#include "store.h"

/* A version number: 1..UINT_MAX in strict decimal (no sign, no leading
 * zero), as a directory name or in "active". Returns 0 with *out set, or
 * -1. */
int	store_format_version(const char *s, size_t len, unsigned *out);

/* The content of "active" as store.c writes it: "N\n". Returns 0 with
 * *version set, or -1. */
int	store_format_active(const char *buf, size_t len, unsigned *version);

/* The "key=value\n" lines of a meta file into v's sha256, size,
 * created_at, limits, uid, language and run_sha256 (v->version is not
 * touched). Every line ends
 * in '\n'; the five mandatory keys must be present; unknown keys are
 * ignored. Returns 0, or -1 with v partly written. buf need not be
 * NUL-terminated. */
int	store_format_meta(const char *buf, size_t len, struct store_version *v);

/* A project's ".limits": "key=value\n" lines; "concurrency" is 1..UINT_MAX
 * in strict decimal; unknown keys are ignored; an empty file sets
 * nothing. Returns 0 with l's known fields set (the others untouched), or
 * -1 with l partly written. buf need not be NUL-terminated. */
int	store_format_limits(const char *buf, size_t len,
	    struct store_project_limits *l);

#endif
